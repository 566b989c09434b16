/* lib/riap_json and lib/riap_bin: byte-exact output, shortest reals, binary values */
#include <stdlib.h>
#include "unit.h"
#include "riap_json.h"
#include "riap_bin.h"

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
