/* riap_workerenv.c: the table of worker settings (riap_workerenv.h). */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "riap_workerenv.h"

enum kind {
  COUNT,      /* unsigned long, decimal digits */
  SECONDS,    /* long long ms, seconds in the environment; -1 absent */
  FLAG,       /* int, "1" or absent */
  STRING      /* const char *, NULL absent */
};

struct row {
  const char *name;
  size_t off;                 /* of the field in struct riap_workerenv */
  enum kind kind;
  long long dflt;             /* when absent (COUNT, SECONDS, FLAG) */
  double min, max;            /* accepted values (COUNT, SECONDS in s) */
};

#define F(f) offsetof(struct riap_workerenv, f)

static const struct row table[] = {
  { "RIAP_CONTROL_FD",    F(control_fd),       COUNT,   0,      0, 1 << 20 },
  { "RIAP_SLOT",          F(slot),             COUNT,   0,      0, 1 << 20 },
  { "RIAP_GENERATION",    F(generation),       COUNT,   0,      0, 0xffffffffUL },
  { "RIAP_MAX_REQUESTS",  F(max_requests),     COUNT,   0,      0, (double)ULONG_MAX },
  { "RIAP_TIMEOUT",       F(timeout_ms),       SECONDS, 120000, 0.001, 86400 },
  { "RIAP_IDLE_TIMEOUT",  F(idle_timeout_ms),  SECONDS, -1,     0, 86400 },
  { "RIAP_READ_TIMEOUT",  F(read_timeout_ms),  SECONDS, 10000,  0.001, 86400 },
  { "RIAP_WRITE_TIMEOUT", F(write_timeout_ms), SECONDS, 10000,  0.001, 86400 },
  { "RIAP_PARK_DELAY",    F(park_delay_ms),    SECONDS, -1,     0, 86400 },
  { "RIAP_SCOREBOARD",    F(scoreboard),       STRING,  0,      0, 0 },
  { "RIAP_NAME",          F(name),             STRING,  0,      0, 0 },
  { "RIAP_CHROOT",        F(chroot),           FLAG,    0,      0, 0 },
  { "RIAP_ALLOW_ROOT",    F(allow_root),       FLAG,    0,      0, 0 },
};
#define NROWS (sizeof table / sizeof *table)

#define AT(e, r, type) ((type *)((char *)(e) + (r)->off))

void riap_workerenv_defaults(struct riap_workerenv *e)
{
  size_t i;
  memset(e, 0, sizeof *e);
  for (i = 0; i < NROWS; i++) {
    const struct row *r = &table[i];
    if (r->kind == COUNT) *AT(e, r, unsigned long) = (unsigned long)r->dflt;
    else if (r->kind == SECONDS) *AT(e, r, long long) = r->dflt;
    else if (r->kind == FLAG) *AT(e, r, int) = (int)r->dflt;
  }
}

int riap_workerenv_write(const struct riap_workerenv *e)
{
  size_t i;
  for (i = 0; i < NROWS; i++) {
    const struct row *r = &table[i];
    const char *v = 0;
    char num[32];
    if (r->kind == COUNT) {
      snprintf(num, sizeof num, "%lu", *AT(e, r, const unsigned long));
      v = num;
    } else if (r->kind == SECONDS && *AT(e, r, const long long) >= 0) {
      snprintf(num, sizeof num, "%.3f", (double)*AT(e, r, const long long) / 1000);
      v = num;
    } else if (r->kind == FLAG && *AT(e, r, const int)) {
      v = "1";
    } else if (r->kind == STRING) {
      v = *AT(e, r, const char *const);
    }
    if (v ? setenv(r->name, v, 1) < 0 : unsetenv(r->name) < 0) return 0;
  }
  return 1;
}

/* one value; 0 when malformed or out of range */
static int scan(const struct row *r, const char *v, struct riap_workerenv *e)
{
  char *end;
  if (r->kind == STRING) { *AT(e, r, const char *) = v; return 1; }
  if (r->kind == FLAG) { *AT(e, r, int) = 1; return !strcmp(v, "1"); }
  errno = 0;
  if (r->kind == COUNT) {
    unsigned long u = strtoul(v, &end, 10);
    if (*v < '0' || *v > '9' || *end || errno || (double)u > r->max) return 0;
    *AT(e, r, unsigned long) = u;
  } else {
    double d = strtod(v, &end);
    long long ms;
    if (*end || errno || !(d >= r->min && d <= r->max)) return 0;
    ms = (long long)(d * 1000 + 0.5);
    *AT(e, r, long long) = d > 0 && ms == 0 ? 1 : ms;   /* 0 stays "never" only when it was 0 */
  }
  return 1;
}

int riap_workerenv_read(struct riap_workerenv *e, const char **bad)
{
  size_t i;
  riap_workerenv_defaults(e);
  for (i = 0; i < NROWS; i++) {
    const char *v = getenv(table[i].name);
    if (!v || !*v) continue;
    if (!scan(&table[i], v, e)) { *bad = table[i].name; return 0; }
  }
  return 1;
}

void riap_workerenv_unset(void)
{
  size_t i;
  for (i = 0; i < NROWS; i++) unsetenv(table[i].name);
}
