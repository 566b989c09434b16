/* riap_opt.c: option values; see riap_opt.h. */
#include <errno.h>
#include <stdlib.h>
#include "riap_err.h"
#include "riap_opt.h"

double riap_opt_number(const char *usage, const char *opt, const char *s, double min, double max)
{
  char *end;
  double d;
  errno = 0;
  d = strtod(s, &end);
  if (*s && !*end && !errno && d >= min && d <= max) return d;
  riap_err_usage(usage, "%s needs a number from %g to %g, not '%.40s'", opt, min, max, s);
}

unsigned long long riap_opt_size(const char *usage, const char *opt, const char *s,
                                 unsigned long long min, unsigned long long max)
{
  char *end;
  double d;
  errno = 0;
  d = strtod(s, &end);
  if (*end == 'k') d *= 1024, ++end;
  else if (*end == 'M') d *= 1048576, ++end;
  if (*s && !*end && !errno && d >= (double)min && d <= (double)max) return (unsigned long long)d;
  riap_err_usage(usage, "%s needs a size from %llu to %llu bytes (k, M: times 1024, 1048576), not '%.40s'",
                 opt, min, max, s);
}

long long riap_opt_ms(const char *usage, const char *opt, const char *s, double min, double max)
{
  return (long long)(riap_opt_number(usage, opt, s, min, max) * 1000 + 0.5);
}
