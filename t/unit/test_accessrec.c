/* test_accessrec.c: the access record: fmt and scan agree, escaping, cuts. */
#include "unit.h"
#include "riap_accessrec.h"
#include "riap_time.h"
#include <stdlib.h>

static struct riap_accessrec base(void)
{
  struct riap_accessrec r;
  memset(&r, 0, sizeof r);
  r.time_sec = 1764105825; r.time_usec = 123456;
  r.pid = 4242; r.peer = "127.0.0.1:51000"; r.v = "1.1";
  r.action = "call"; r.action_len = 4;
  r.uri = "/Math/mult"; r.uri_len = 10;
  r.status = 200;
  r.args = "{\"a\":2,\"b\":3}"; r.args_len = 13;
  r.res = "6"; r.res_len = 1;
  r.treq = 0.000012; r.tres = 0.00024;
  return r;
}

static char line[RIAP_ACCESSREC_MAX + 1];
static struct riap_accessrec_parsed p;

int main(void)
{
  struct riap_accessrec r = base();
  size_t n;
  char big[5000];

  /* the example of the man page, exactly */
  n = riap_accessrec_fmt(line, &r);
  line[n] = 0;
  CHECK_STR(line, "%riap-access 1 time=1764105825.123456 pid=4242 peer=127.0.0.1:51000 v=1.1 "
            "action=call uri=/Math/mult status=200 treq=0.000012 tres=0.000240 "
            "args=13:{\"a\":2,\"b\":3} res=1:6\n", "fmt writes the documented example");
  CHECK(riap_accessrec_scan(line, n, &p) == n, "scan consumes the whole record");
  CHECK(p.time_sec == 1764105825 && p.time_usec == 123456, "time round trip");
  CHECK(p.pid == 4242 && p.status == 200, "pid and status round trip");
  CHECK_STR(p.peer, "127.0.0.1:51000", "peer round trip");
  CHECK_STR(p.v, "1.1", "v round trip");
  CHECK_STR(p.action, "call", "action round trip");
  CHECK_STR(p.uri, "/Math/mult", "uri round trip");
  CHECK_STR(p.args, "{\"a\":2,\"b\":3}", "args round trip");
  CHECK(p.args_len == 13 && p.args_n == 13, "args length, not cut");
  CHECK_STR(p.res, "6", "res round trip");
  CHECK(p.treq > 0.0000119 && p.treq < 0.0000121 && p.tres > 0.000239 && p.tres < 0.000241, "times round trip");

  /* escaping: spaces, control bytes, backslash, high bytes */
  r = base();
  r.uri = "/a b\\c\n\xff"; r.uri_len = 8;
  r.args = "{\"s\":\"x y\"}"; r.args_len = 11;
  n = riap_accessrec_fmt(line, &r);
  line[n] = 0;
  CHECK(strstr(line, " uri=/a\\x20b\\x5cc\\x0a\\xff ") != 0, "uri escaped with lowercase \\xhh");
  CHECK(strstr(line, " args=11:{\"s\":\"x\\x20y\"} ") != 0, "space in args escaped");
  CHECK(!memchr(line, '\n', n - 1) && line[n - 1] == '\n', "one line");
  CHECK(riap_accessrec_scan(line, n, &p) == n, "escaped record scans");
  CHECK(p.uri_n == 8 && !memcmp(p.uri, "/a b\\c\n\xff", 8), "escapes undone");
  CHECK_STR(p.args, "{\"s\":\"x y\"}", "args unescaped");

  /* NUL bytes survive */
  r = base();
  r.res = "a\0b"; r.res_len = 3;
  n = riap_accessrec_fmt(line, &r);
  CHECK(riap_accessrec_scan(line, n, &p) == n && p.res_n == 3 && !memcmp(p.res, "a\0b", 3), "NUL byte round trip");

  /* cutting at 1000 bytes */
  memset(big, 'x', sizeof big);
  r = base();
  r.args = big; r.args_len = 1500;
  r.res = big; r.res_len = 1000;
  n = riap_accessrec_fmt(line, &r);
  line[n] = 0;
  CHECK(strstr(line, " args=1500:xxx") != 0, "args keeps its full length");
  CHECK(riap_accessrec_scan(line, n, &p) == n, "cut record scans");
  CHECK(p.args_len == 1500 && p.args_n == 1000, "args cut at 1000 bytes");
  CHECK(p.res_len == 1000 && p.res_n == 1000, "res of exactly 1000 bytes is not cut");

  /* the worst case still fits in RIAP_ACCESSREC_MAX */
  memset(big, ' ', sizeof big);
  r = base();
  r.peer = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";
  r.action = big; r.action_len = 4000;
  r.uri = big; r.uri_len = 4000;
  r.args = big; r.args_len = 4000;
  r.res = big; r.res_len = 4000;
  r.time_sec = 0x7fffffffffffffffLL; r.pid = 0x7fffffff; r.status = 0x7fffffff;
  r.treq = 1e300; r.tres = -1;
  n = riap_accessrec_fmt(line, &r);
  CHECK(n <= RIAP_ACCESSREC_MAX, "worst case fits");
  CHECK(line[n - 1] == '\n' && !memchr(line, '\n', n - 1), "worst case is one line");
  /* status out of range is not a record; the rest scans */
  r.status = 500;
  r.time_sec = 1;
  n = riap_accessrec_fmt(line, &r);
  CHECK(riap_accessrec_scan(line, n, &p) == n, "worst case scans");
  CHECK(p.args_len == 4000 && p.args_n == 1536 / 4, "escape-heavy args cut below 1000 to fit");
  CHECK(p.tres == 0 && p.treq > 999999998, "absurd times clamped");

  /* empty and missing values */
  r = base();
  r.action = 0; r.action_len = 0; r.uri = ""; r.uri_len = 0; r.v = 0;
  r.args = 0; r.args_len = 0; r.peer = "pipe";
  n = riap_accessrec_fmt(line, &r);
  line[n] = 0;
  CHECK(strstr(line, " v=- action= uri= status=200 ") != 0, "empty action/uri, v -");
  CHECK(strstr(line, " args=0: res=1:6\n") != 0, "no args: 0:");
  CHECK(riap_accessrec_scan(line, n, &p) == n && p.action_n == 0 && p.args_n == 0, "empties scan");

  /* the reader: what is not a record */
  {
    static const char *bad[] = {
      "riap-handle: warning: something\n",
      "%riap-access 2 time=1.000000 pid=1 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0:\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 uri=u action=a status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1 time=1.000000 pid=x peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 action=a uri=\\x2 status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 action=a uri=\\y20 status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=1:ab res=0:\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0: res=0:x\n",
      "%riap-access 1 time=1.000000 pid=1 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0: res=0:\ttab\n",
      "%riap-access 1 time=1.000000 pid=99999999999999999999 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1 time=1. pid=1 peer=p v=1.1 action=a uri=u status=200 treq=0.1 tres=0.1 args=0: res=0:\n",
      "%riap-access 1\n",
      "",
    };
    size_t i;
    int all = 1;
    for (i = 0; i < sizeof bad / sizeof bad[0]; ++i)
      if (riap_accessrec_scan(bad[i], strlen(bad[i]), &p)) { all = 0; printf("# accepted: %s", bad[i]); }
    CHECK(all, "malformed lines are not records");
  }
  {
    const char *two = "%riap-access 1 time=5 pid=1 peer=p v=1.2 action=a uri=u status=404 treq=0 tres=0 args=0: res=2:no new=field\nnext line\n";
    size_t first = strchr(two, '\n') - two + 1;
    CHECK(riap_accessrec_scan(two, strlen(two), &p) == first, "scan stops after its line; later fields ignored");
    CHECK(p.time_sec == 5 && p.time_usec == 0 && p.status == 404 && p.res_n == 2, "seconds without fraction");
    CHECK(riap_accessrec_scan(two, first - 1, &p) == first - 1, "a record without newline consumes len");
  }
  {
    /* a random round trip */
    unsigned seed = 12345;
    int ok = 1, k;
    for (k = 0; k < 2000; ++k) {
      char a[1200], u[100];
      size_t al = (size_t)(rand_r(&seed) % 1200), ul = (size_t)(rand_r(&seed) % 100), i;
      for (i = 0; i < al; ++i) a[i] = (char)rand_r(&seed);
      for (i = 0; i < ul; ++i) u[i] = (char)rand_r(&seed);
      r = base();
      r.args = a; r.args_len = al; r.uri = u; r.uri_len = ul;
      n = riap_accessrec_fmt(line, &r);
      if (n > RIAP_ACCESSREC_MAX || riap_accessrec_scan(line, n, &p) != n
          || p.args_len != al || p.uri_n != ul || memcmp(p.uri, u, ul)
          || memcmp(p.args, a, p.args_n) || (al <= 1536 / 4 && p.args_n != al)) { ok = 0; break; }
    }
    CHECK(ok, "random bytes round trip");
  }

  /* time stamps */
  {
    char t[64];
    t[riap_time_fmtiso(t, 1764105825, 123456)] = 0;
    CHECK_STR(t, "2025-11-25T21:23:45.123456Z", "ISO 8601");
    t[riap_time_fmtclf(t, 1764105825)] = 0;
    CHECK_STR(t, "25/Nov/2025:21:23:45 +0000", "common log format date");
    t[riap_time_fmttai64n(t, 1764105825, 5)] = 0;
    CHECK_STR(t, "@4000000069261e8600000005", "TAI64N as s6 labels it (UTC + 37 s)");
    CHECK(riap_time_leapsecs(1483228799) == 26 && riap_time_leapsecs(1483228800) == 27, "leap second table");
  }
  return UNIT_DONE();
}
