#include <stdlib.h>
#include <string.h>
#include <textcode.h>
#include "riap_bin.h"

json_t *riap_bin_tojson(const char *b, size_t n)
{
  size_t i, o = 0;
  char *u = malloc(2 * n + 1);
  json_t *j;
  if (!u) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)b[i];
    if (c < 0x80) u[o++] = (char)c;
    else { u[o++] = (char)(0xc0 | (c >> 6)); u[o++] = (char)(0x80 | (c & 0x3f)); }
  }
  j = json_stringn_nocheck(u, o);
  free(u);
  return j;
}

int riap_bin_fromjson(stralloc *out, const json_t *s)
{
  const unsigned char *u = (const unsigned char *)json_string_value(s);
  size_t i, n = json_string_length(s);
  out->len = 0;
  if (!u || !stralloc_ready(out, n + 1)) return 0;
  for (i = 0; i < n; i++) {
    if (u[i] < 0x80) out->s[out->len++] = (char)u[i];
    else if ((u[i] == 0xc2 || u[i] == 0xc3) && i + 1 < n) {
      out->s[out->len++] = (char)(((u[i] & 3) << 6) | (u[i + 1] & 0x3f));
      i++;
    } else return 0;
  }
  return 1;
}

int riap_bin_unbase64(stralloc *out, const char *b, size_t n)
{
  char *src;
  size_t used, len = 0;
  out->len = 0;
  if (n % 4) return 0;
  if (!stralloc_ready(out, n / 4 * 3 + 1)) return 0;
  src = malloc(n + 1);           /* scan_base64 needs a terminator */
  if (!src) return 0;
  memcpy(src, b, n);
  src[n] = 0;
  used = scan_base64(src, out->s, &len);
  free(src);
  if (used != n) return 0;
  out->len = len;
  return 1;
}

json_t *riap_bin_base64(const char *b, size_t n)
{
  char *e = malloc(fmt_base64(0, b, n) + 1);
  json_t *j;
  size_t len;
  if (!e) return 0;
  len = fmt_base64(e, b, n);
  j = json_stringn_nocheck(e, len);
  free(e);
  return j;
}
