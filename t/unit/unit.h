/* unit.h: a tiny TAP harness for the C unit tests of lib/.
 * Each check prints "ok N - what" or "not ok N - what (file:line)". */
#ifndef RIAP_UNIT_H
#define RIAP_UNIT_H
#include <stdio.h>
#include <string.h>

static int unit_n, unit_failed;

#define CHECK(cond, what) do { \
    ++unit_n; \
    if (cond) printf("ok %d - %s\n", unit_n, what); \
    else { ++unit_failed; printf("not ok %d - %s (%s:%d)\n", unit_n, what, __FILE__, __LINE__); } \
  } while (0)

#define CHECK_STR(got, want, what) do { \
    const char *g_ = (got), *w_ = (want); \
    int ok_ = g_ && w_ && !strcmp(g_, w_); \
    CHECK(ok_, what); \
    if (!ok_) printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)"); \
  } while (0)

#define UNIT_DONE() (printf("1..%d\n", unit_n), unit_failed ? 1 : 0)

#endif
