/* riap_opt.h: command-line option values, read the same way by every
 * program. A bad value is a usage error: "PROG: fatal: OPT needs ..., not
 * 'S'" then "PROG: usage: USAGE" on fd 2, exit 100. */
#ifndef RIAP_OPT_H
#define RIAP_OPT_H

/* riap_opt_number: the number in s (all of it, strtod syntax) for option
 * opt, which must lie in [min, max]; otherwise says so on fd 2 as
 * "PROG: fatal: OPT needs a number from MIN to MAX, not 'S'" then
 * "PROG: usage: USAGE", and exits 100. Returns the number. */
double riap_opt_number(const char *usage, const char *opt, const char *s, double min, double max);

/* riap_opt_size: a size in bytes: a number as for riap_opt_number, which
 * may end in k (times 1024) or M (times 1048576), whole once multiplied
 * (decimals are cut), in [min, max]; otherwise "PROG: fatal: OPT needs a
 * size from MIN to MAX bytes (k, M: times 1024, 1048576), not 'S'", the
 * usage, exit 100. Returns the size. */
unsigned long long riap_opt_size(const char *usage, const char *opt, const char *s,
                                 unsigned long long min, unsigned long long max);

/* riap_opt_ms: a number of seconds (fractions allowed) as for
 * riap_opt_number, in [min, max]; returns it in milliseconds, rounded. */
long long riap_opt_ms(const char *usage, const char *opt, const char *s, double min, double max);

#endif
