#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fmt.h>
#include "riap_json.h"

/* d = k / 10^j exactly as a double, k under 10^15, j <= 3 (1.1, 0.25,
 * 2.0): what %.15g prints, written without printf; 0 when d is not such */
static size_t fmt_short_real(char *dest, double d)
{
  static const double scale[] = { 1, 10, 100, 1000 };
  char digits[24];
  long long k;
  unsigned j;
  size_t n = 0, len, point;
  double a = d < 0 ? -d : d;
  if (!isfinite(d) || (d == 0 && signbit(d)) || a >= 1e15 || (d != 0 && a < 1e-3)) return 0;
  for (j = 0; j < 4; j++) {
    double x = d * scale[j];
    k = (long long)(x < 0 ? x - 0.5 : x + 0.5);
    if (llabs(k) < 1000000000000000LL && (double)k / scale[j] == d) break;
  }
  if (j == 4) return 0;
  while (j && k % 10 == 0) { k /= 10; j--; }    /* 2.50 is 2.5 */
  if (k < 0) { dest[n++] = '-'; k = -k; }
  len = fmt_ulonglong(digits, (unsigned long long)k);
  if (len <= j) {                               /* 0.05: zeros after the point */
    dest[n++] = '0';
    dest[n++] = '.';
    while (len < j--) dest[n++] = '0';
    memcpy(dest + n, digits, len);
    n += len;
  } else {
    point = len - j;
    memcpy(dest + n, digits, point);
    n += point;
    dest[n++] = '.';
    if (j) { memcpy(dest + n, digits + point, j); n += j; }
    else dest[n++] = '0';
  }
  dest[n] = 0;
  return n;
}

size_t fmt_riap_real(char *dest, double d)
{
  int prec;
  int n = 0;
  size_t fast = fmt_short_real(dest, d);
  if (fast) return fast;
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(dest, 32, "%.*g", prec, d);
    if (strtod(dest, 0) == d) break;
  }
  if (!strpbrk(dest, ".eEn")) { dest[n++] = '.'; dest[n++] = '0'; dest[n] = 0; }
  return (size_t)n;
}

static const char hex[] = "0123456789abcdef";

/* stralloc_append and _catb, inline while there is room: an answer is
 * written a few bytes at a time, and the library calls were a third of a
 * meta answer's cost */
static inline int put1(stralloc *sa, char c)
{
  if (sa->len < sa->a) { sa->s[sa->len++] = c; return 1; }
  return stralloc_append(sa, &c);
}

static inline int putn(stralloc *sa, const char *s, size_t n)
{
  if (sa->a - sa->len >= n) {
    if (n) memcpy(sa->s + sa->len, s, n);
    sa->len += n;
    return 1;
  }
  return stralloc_catb(sa, s, n);
}

static inline int puts_(stralloc *sa, const char *s)
{
  return putn(sa, s, strlen(s));
}

static int catstr_body(stralloc *sa, const char *s, size_t n);

static int cat_u(stralloc *sa, unsigned cp)
{
  char esc[6] = { '\\', 'u', hex[(cp >> 12) & 15], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15] };
  return putn(sa, esc, 6);
}

/* the code point of the UTF-8 sequence at s (n bytes left), its length in
 * *len; a byte that begins no valid sequence is its own code point */
static unsigned utf8_get(const unsigned char *s, size_t n, size_t *len)
{
  unsigned c = s[0], cp;
  size_t l, k;
  if (c >= 0xC2 && c <= 0xDF) { l = 2; cp = c & 0x1F; }
  else if (c >= 0xE0 && c <= 0xEF) { l = 3; cp = c & 0x0F; }
  else if (c >= 0xF0 && c <= 0xF4) { l = 4; cp = c & 0x07; }
  else { *len = 1; return c; }
  if (n < l) { *len = 1; return c; }
  for (k = 1; k < l; k++) {
    if ((s[k] & 0xC0) != 0x80) { *len = 1; return c; }
    cp = (cp << 6) | (s[k] & 0x3F);
  }
  *len = l;
  return cp;
}

/* a string with every character over 0x7f as \uXXXX (a surrogate pair over U+FFFF) */
static int catstr_ascii(stralloc *sa, const char *s, size_t n)
{
  size_t i = 0, run, len;
  if (!put1(sa, '"')) return 0;
  while (i < n) {
    unsigned cp;
    for (run = i; i < n && !((unsigned char)s[i] & 0x80); i++) ;
    if (!catstr_body(sa, s + run, i - run)) return 0;
    if (i == n) break;
    cp = utf8_get((const unsigned char *)s + i, n - i, &len);
    i += len;
    if (cp > 0xFFFF) {
      cp -= 0x10000;
      if (!cat_u(sa, 0xD800 | (cp >> 10)) || !cat_u(sa, 0xDC00 | (cp & 0x3FF))) return 0;
    } else if (!cat_u(sa, cp)) return 0;
  }
  return put1(sa, '"');
}

int riap_json_catstr(stralloc *sa, const char *s, size_t n)
{
  return put1(sa, '"') && catstr_body(sa, s, n) && put1(sa, '"');
}

/* the n bytes at s escaped as inside a JSON string, without the quotes */
static int catstr_body(stralloc *sa, const char *s, size_t n)
{
  size_t i, run = 0;
  if (!stralloc_readyplus(sa, n + 2)) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[6];
    size_t elen = 2;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (!putn(sa, s + run, i - run)) return 0;
    run = i + 1;
    esc[0] = '\\';
    switch (c) {
      case '"': esc[1] = '"'; break;
      case '\\': esc[1] = '\\'; break;
      case '\n': esc[1] = 'n'; break;
      case '\r': esc[1] = 'r'; break;
      case '\t': esc[1] = 't'; break;
      case '\b': esc[1] = 'b'; break;
      case '\f': esc[1] = 'f'; break;
      default:
        esc[1] = 'u'; esc[2] = '0'; esc[3] = '0';
        esc[4] = hex[c >> 4]; esc[5] = hex[c & 15]; elen = 6;
    }
    if (!putn(sa, esc, elen)) return 0;
  }
  return putn(sa, s + run, n - run);
}

static int cat_value(stralloc *sa, const json_t *v, int ascii);

static int cat_str(stralloc *sa, const char *s, size_t n, int ascii)
{
  return ascii ? catstr_ascii(sa, s, n) : riap_json_catstr(sa, s, n);
}

static int cat_object(stralloc *sa, const json_t *v, int ascii)
{
  const char *key;
  size_t len;
  json_t *val;
  int first = 1;
  if (!put1(sa, '{')) return 0;
  json_object_keylen_foreach((json_t *)v, key, len, val) {
    if (!first && !put1(sa, ',')) return 0;
    first = 0;
    if (!cat_str(sa, key, len, ascii)) return 0;
    if (!put1(sa, ':')) return 0;
    if (!cat_value(sa, val, ascii)) return 0;
  }
  return put1(sa, '}');
}

static int cat_array(stralloc *sa, const json_t *v, int ascii)
{
  size_t i, n = json_array_size(v);
  if (!put1(sa, '[')) return 0;
  for (i = 0; i < n; i++) {
    if (i && !put1(sa, ',')) return 0;
    if (!cat_value(sa, json_array_get(v, i), ascii)) return 0;
  }
  return put1(sa, ']');
}

static int cat_value(stralloc *sa, const json_t *v, int ascii)
{
  char num[32];
  if (!v) return puts_(sa, "null");
  switch (json_typeof(v)) {
    case JSON_OBJECT: return cat_object(sa, v, ascii);
    case JSON_ARRAY: return cat_array(sa, v, ascii);
    case JSON_STRING: return cat_str(sa, json_string_value(v), json_string_length(v), ascii);
    case JSON_INTEGER:
      return putn(sa, num, fmt_longlong(num, json_integer_value(v)));
    case JSON_REAL:
      return putn(sa, num, fmt_riap_real(num, json_real_value(v)));
    case JSON_TRUE: return puts_(sa, "true");
    case JSON_FALSE: return puts_(sa, "false");
    default: return puts_(sa, "null");
  }
}

int riap_json_cat(stralloc *sa, const json_t *v)
{
  return cat_value(sa, v, 0);
}

int riap_json_cat_ascii(stralloc *sa, const json_t *v)
{
  return cat_value(sa, v, 1);
}
