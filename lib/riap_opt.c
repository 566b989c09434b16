/* riap_opt.c: option values; see riap_opt.h. */
#include <errno.h>
#include <stdio.h>
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
  riap_err_usage(usage, "%s needs a number from %.15g to %.15g, not '%.40s'", opt, min, max, s);
}

/* n as the options may give it: 1048576 as 1M, 4096 as 4k */
static const char *sizestr(char *buf, size_t size, unsigned long long n)
{
  if (n && !(n % 1048576)) snprintf(buf, size, "%lluM", n / 1048576);
  else if (n && !(n % 1024)) snprintf(buf, size, "%lluk", n / 1024);
  else snprintf(buf, size, "%llu", n);
  return buf;
}

unsigned long long riap_opt_size(const char *usage, const char *opt, const char *s,
                                 unsigned long long min, unsigned long long max)
{
  char *end, lo[32], hi[32];
  double d;
  errno = 0;
  d = strtod(s, &end);
  if (*end == 'k') d *= 1024, ++end;
  else if (*end == 'M') d *= 1048576, ++end;
  if (*s && !*end && !errno && d >= (double)min && d <= (double)max) return (unsigned long long)d;
  riap_err_usage(usage, "%s needs a size from %s to %s bytes (k: times 1024, M: times 1048576), not '%.40s'",
                 opt, sizestr(lo, sizeof lo, min), sizestr(hi, sizeof hi, max), s);
}

long long riap_opt_ms(const char *usage, const char *opt, const char *s, double min, double max)
{
  return (long long)(riap_opt_number(usage, opt, s, min, max) * 1000 + 0.5);
}
