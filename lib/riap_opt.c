#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <errmsg.h>
#include "riap_opt.h"

double riap_opt_number(const char *usage, const char *opt, const char *s, double min, double max)
{
  char *end, why[160];
  double d;
  errno = 0;
  d = strtod(s, &end);
  if (*s && !*end && !errno && d >= min && d <= max) return d;
  snprintf(why, sizeof why, "%s needs a number from %g to %g, not '%.40s'", opt, min, max, s);
  carp("fatal: ", why);
  die(100, "usage: ", usage);
}
