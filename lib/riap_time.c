/* riap_time.c: TAI64N, ISO 8601 and common log format timestamps. */
#include "riap_time.h"
#include <time.h>

/* Unix times from which one more leap second is in force (IERS). */
static const long long leaps[] = {
  78796800, 94694400, 126230400, 157766400, 189302400, 220924800,
  252460800, 283996800, 315532800, 362793600, 394329600, 425865600,
  489024000, 567993600, 631152000, 662688000, 709948800, 741484800,
  773020800, 820454400, 867715200, 915148800, 1136073600, 1230768000,
  1341100800, 1435708800, 1483228800,
};

int riap_time_leapsecs(long long sec)
{
  int n = 0;
  while (n < (int)(sizeof leaps / sizeof leaps[0]) && sec >= leaps[n]) ++n;
  return n;
}

static const char hex[] = "0123456789abcdef";

size_t riap_time_fmttai64n(char *dest, long long sec, long nsec)
{
  unsigned long long t = 0x4000000000000000ULL + (unsigned long long)(sec + 10 + riap_time_leapsecs(sec));
  unsigned long n = (unsigned long)nsec;
  int i;
  dest[0] = '@';
  for (i = 15; i >= 0; --i) { dest[1 + i] = hex[t & 15]; t >>= 4; }
  for (i = 7; i >= 0; --i) { dest[17 + i] = hex[n & 15]; n >>= 4; }
  return RIAP_TIME_TAI64N;
}

static size_t num(char *d, long v, int width)
{
  int i;
  for (i = width - 1; i >= 0; --i) { d[i] = (char)('0' + v % 10); v /= 10; }
  return (size_t)width;
}

static int breakdown(long long sec, struct tm *tm)
{
  time_t t = (time_t)sec;
  return gmtime_r(&t, tm) != 0;
}

size_t riap_time_fmtiso(char *dest, long long sec, long usec)
{
  struct tm tm;
  size_t o = 0;
  if (!breakdown(sec, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
    tm.tm_year = 70; tm.tm_mon = 0; tm.tm_mday = 1; tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  }
  if (usec < 0 || usec > 999999) usec = 0;
  o += num(dest + o, tm.tm_year + 1900, 4); dest[o++] = '-';
  o += num(dest + o, tm.tm_mon + 1, 2);     dest[o++] = '-';
  o += num(dest + o, tm.tm_mday, 2);        dest[o++] = 'T';
  o += num(dest + o, tm.tm_hour, 2);        dest[o++] = ':';
  o += num(dest + o, tm.tm_min, 2);         dest[o++] = ':';
  o += num(dest + o, tm.tm_sec, 2);         dest[o++] = '.';
  o += num(dest + o, usec, 6);              dest[o++] = 'Z';
  return o;
}

size_t riap_time_fmtclf(char *dest, long long sec)
{
  static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  struct tm tm;
  size_t o = 0;
  if (!breakdown(sec, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
    tm.tm_year = 70; tm.tm_mon = 0; tm.tm_mday = 1; tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
  }
  o += num(dest + o, tm.tm_mday, 2); dest[o++] = '/';
  dest[o++] = mon[tm.tm_mon * 3]; dest[o++] = mon[tm.tm_mon * 3 + 1]; dest[o++] = mon[tm.tm_mon * 3 + 2];
  dest[o++] = '/';
  o += num(dest + o, tm.tm_year + 1900, 4); dest[o++] = ':';
  o += num(dest + o, tm.tm_hour, 2);        dest[o++] = ':';
  o += num(dest + o, tm.tm_min, 2);         dest[o++] = ':';
  o += num(dest + o, tm.tm_sec, 2);
  dest[o++] = ' '; dest[o++] = '+'; dest[o++] = '0'; dest[o++] = '0'; dest[o++] = '0'; dest[o++] = '0';
  return o;
}

long long riap_time_monoms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
