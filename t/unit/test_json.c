/* lib/riap_json and lib/riap_bin: byte-exact output, shortest reals, binary values */
#include <stdlib.h>
#include "unit.h"
#include "riap_json.h"
#include "riap_bin.h"

/* what fmt_riap_real printed before its fast path: %.15g, more digits
 * until it reads back, .0 on a whole number */
static size_t printf_real(char *dest, double d)
{
  int prec, n = 0;
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(dest, 32, "%.*g", prec, d);
    if (strtod(dest, 0) == d) break;
  }
  if (!strpbrk(dest, ".eEn")) { dest[n++] = '.'; dest[n++] = '0'; dest[n] = 0; }
  return (size_t)n;
}

/* n reals k/10^j (j 0-3) and quotients of random ints, as printf_real
 * prints them; the first that differs in fail */
static long real_mismatches(long n, char *fail)
{
  char a[40], b[40];
  long bad = 0, i;
  srand(7);
  for (i = 0; i < n; i++) {
    long long k = ((long long)rand() << 21 ^ rand()) % 1000000000000000LL;
    int j = rand() % 4;
    double d = (rand() & 1 ? -k : k) / (j == 0 ? 1.0 : j == 1 ? 10.0 : j == 2 ? 100.0 : 1000.0);
    if (rand() % 3 == 0) d = (double)rand() / (rand() + 1);
    fmt_riap_real(a, d);
    printf_real(b, d);
    if (strcmp(a, b) && !bad++) sprintf(fail, "%.17g: %s, not %s", d, a, b);
  }
  return bad;
}

static char *dump(json_t *v)
{
  static stralloc sa;
  sa.len = 0;
  riap_json_cat(&sa, v);
  stralloc_0(&sa);
  return sa.s;
}

int main(void)
{
  char num[32];
  json_t *v;
  stralloc bytes = { 0, 0, 0 };

  fmt_riap_real(num, 1.1);       CHECK_STR(num, "1.1", "1.1 prints as 1.1");
  fmt_riap_real(num, 1.2);       CHECK_STR(num, "1.2", "1.2 prints as 1.2");
  fmt_riap_real(num, 6.0);       CHECK_STR(num, "6.0", "a whole real keeps its .0");
  fmt_riap_real(num, 0.1 + 0.2); CHECK_STR(num, "0.30000000000000004", "0.1+0.2 round-trips");
  fmt_riap_real(num, 1e300);     CHECK_STR(num, "1e+300", "large reals use an exponent");
  fmt_riap_real(num, -0.0);      CHECK_STR(num, "-0.0", "negative zero keeps its sign");
  fmt_riap_real(num, 0.05);      CHECK_STR(num, "0.05", "0.05: a zero after the point");
  fmt_riap_real(num, -2.5);      CHECK_STR(num, "-2.5", "-2.5");
  fmt_riap_real(num, 1e15);      CHECK_STR(num, "1e+15", "1e15 has an exponent, as %.15g");
  fmt_riap_real(num, 999999999999999.0); CHECK_STR(num, "999999999999999.0", "the largest without one");
  fmt_riap_real(num, 0.0001);    CHECK_STR(num, "0.0001", "0.0001 (printf's way)");
  {
    char fail[128] = "";
    long bad = real_mismatches(300000, fail);
    CHECK(bad == 0, "300,000 reals print as %.15g-then-more-digits prints them");
    if (bad) printf("#   %ld differ, first %s\n", bad, fail);
  }

  v = json_loads("{\"a\":[1,2.5,\"x\\\"y\\\\z\\n\",true,false,null],\"b\":{}}", 0, 0);
  CHECK_STR(dump(v), "{\"a\":[1,2.5,\"x\\\"y\\\\z\\n\",true,false,null],\"b\":{}}", "compact, keys in order");
  json_decref(v);
  v = json_string("\x01\x1f\xc3\xa9/");
  CHECK_STR(dump(v), "\"\\u0001\\u001f\xc3\xa9/\"", "control bytes as \\u, UTF-8 and / kept");
  json_decref(v);
  CHECK_STR(dump(0), "null", "NULL prints null");

  v = riap_bin_tojson("\x00\x7f\x80\xff", 4);
  CHECK(json_string_length(v) == 6, "bytes 0x80-0xff take two UTF-8 bytes");
  CHECK(riap_bin_fromjson(&bytes, v) && bytes.len == 4 && !memcmp(bytes.s, "\x00\x7f\x80\xff", 4),
        "binary string round-trips");
  json_decref(v);
  v = json_string("\xe2\x82\xac");
  CHECK(!riap_bin_fromjson(&bytes, v), "a code point over 255 is refused");
  json_decref(v);

  CHECK(riap_bin_unbase64(&bytes, "AAEC/w==", 8) && bytes.len == 4 && !memcmp(bytes.s, "\x00\x01\x02\xff", 4),
        "base64 decodes");
  CHECK(!riap_bin_unbase64(&bytes, "AAE", 3), "truncated base64 is refused");
  CHECK(!riap_bin_unbase64(&bytes, "AA!C", 4), "bad base64 characters are refused");
  v = riap_bin_base64("\x00\x01\x02\xff", 4);
  CHECK_STR(json_string_value(v), "AAEC/w==", "base64 encodes");
  json_decref(v);
  free(bytes.s);
  free(dump(0));           /* the dump buffer, for LeakSanitizer */
  return UNIT_DONE();
}
