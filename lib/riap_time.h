/* riap_time.h: timestamps for logs: TAI64N labels that agree with s6's
 * (s6-tai64nlocal, s6-log t), ISO 8601 and the common log format date;
 * and the monotonic clock every timeout is measured with. */
#ifndef RIAP_TIME_H
#define RIAP_TIME_H
#include <stddef.h>

#define RIAP_TIME_TAI64N 25   /* "@" and 24 hex digits */
#define RIAP_TIME_CLF    32   /* enough for "DD/Mon/YYYY:HH:MM:SS +0000" */

/* riap_time_leapsecs: returns the leap seconds (TAI - UTC - 10) in force at
 * Unix time sec, from the built-in table (last entry: 2017-01-01). */
int riap_time_leapsecs(long long sec);

/* riap_time_fmttai64n: writes the TAI64N label of Unix time sec.nsec
 * ("@4000000069256f..."), as skalibs computes it: 2^62 + sec + 10 + leap
 * seconds; returns RIAP_TIME_TAI64N. No NUL. */
size_t riap_time_fmttai64n(char *dest, long long sec, long nsec);

/* riap_time_fmtiso: writes sec.usec as ISO 8601 UTC with microseconds
 * ("2026-11-25T21:23:45.123456Z"); returns its length. No NUL. */
size_t riap_time_fmtiso(char *dest, long long sec, long usec);

/* riap_time_fmtclf: writes sec as the common log format date in UTC
 * ("25/Nov/2026:21:23:45 +0000"); returns its length. No NUL. */
size_t riap_time_fmtclf(char *dest, long long sec);

/* riap_time_monoms: milliseconds of the monotonic clock (deadlines and
 * timeouts: never jumps with the wall clock). */
long long riap_time_monoms(void);

#endif
