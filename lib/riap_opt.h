/* riap_opt.h: command-line option values shared by the programs. */
#ifndef RIAP_OPT_H
#define RIAP_OPT_H

/* riap_opt_number: the number in s (all of it, strtod syntax) for option
 * opt, which must lie in [min, max]; otherwise says so on fd 2 as
 * "PROG: fatal: OPT needs a number from MIN to MAX, not 'S'" then
 * "PROG: usage: USAGE", and exits 100. Returns the number. */
double riap_opt_number(const char *usage, const char *opt, const char *s, double min, double max);

#endif
