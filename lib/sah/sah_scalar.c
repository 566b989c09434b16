/* sah_scalar.c: Perl-like views of JSON scalars (string form, number form,
 * truth, looks_like_number, deep equality) and small UTF-8 helpers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sah_internal.h"

int sahs_is_scalar(const json_t *v)
{
  return v && (json_is_string(v) || json_is_number(v) || json_is_boolean(v));
}

/* Perl prints a double with %.15g */
static size_t fmt_real(char *buf, size_t n, double d)
{
  int k;
  if (isnan(d)) k = snprintf(buf, n, "NaN");
  else if (isinf(d)) k = snprintf(buf, n, d < 0 ? "-Inf" : "Inf");
  else k = snprintf(buf, n, "%.15g", d);
  return k < 0 ? 0 : (size_t)k < n ? (size_t)k : n - 1;
}

size_t sahs_str(const json_t *v, char *buf, size_t n, const char **out)
{
  int k;
  if (json_is_string(v)) { *out = json_string_value(v); return json_string_length(v); }
  *out = buf;
  if (json_is_integer(v)) {
    k = snprintf(buf, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return k < 0 ? 0 : (size_t)k;
  }
  if (json_is_real(v)) return fmt_real(buf, n, json_real_value(v));
  if (json_is_true(v)) { buf[0] = '1'; buf[1] = 0; return 1; }
  if (json_is_false(v)) { buf[0] = '0'; buf[1] = 0; return 1; }
  buf[0] = 0;
  return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static int ci_prefix(const char *s, size_t n, const char *w)
{
  size_t l = strlen(w), i;
  if (n < l) return 0;
  for (i = 0; i < l; i++) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c += 32;
    if (c != w[i]) return 0;
  }
  return 1;
}

int sahs_looks_num(const char *s, size_t n)
{
  size_t i = 0, d = 0;
  while (i < n && is_space(s[i])) i++;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  if (i < n && (s[i] == 'I' || s[i] == 'i' || s[i] == 'N' || s[i] == 'n')) {
    if (ci_prefix(s + i, n - i, "infinity")) i += 8;
    else if (ci_prefix(s + i, n - i, "inf")) i += 3;
    else if (ci_prefix(s + i, n - i, "nan")) i += 3;
    else return 0;
  } else {
    while (i < n && s[i] >= '0' && s[i] <= '9') { i++; d++; }
    if (i < n && s[i] == '.') {
      i++;
      while (i < n && s[i] >= '0' && s[i] <= '9') { i++; d++; }
    }
    if (!d) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
      size_t e = 0;
      i++;
      if (i < n && (s[i] == '+' || s[i] == '-')) i++;
      while (i < n && s[i] >= '0' && s[i] <= '9') { i++; e++; }
      if (!e) return 0;
    }
  }
  while (i < n && is_space(s[i])) i++;
  return i == n;
}

int sahs_looks_int(const char *s, size_t n)
{
  size_t i = 0;
  if (i < n && (s[i] == '+' || s[i] == '-')) i++;
  if (i == n) return 0;
  for (; i < n; i++) if (s[i] < '0' || s[i] > '9') return 0;
  return 1;
}

double sahs_num(const json_t *v)
{
  if (json_is_integer(v)) return (double)json_integer_value(v);
  if (json_is_real(v)) return json_real_value(v);
  if (json_is_true(v)) return 1;
  if (json_is_string(v)) {
    const char *s = json_string_value(v);
    const char *p = s;
    while (is_space(*p)) p++;
    if (*p == '+' || *p == '-') p++;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) return 0; /* Perl: no hex */
    return strtod(s, 0);
  }
  return 0;
}

int sahs_true(const json_t *v)
{
  if (!v || json_is_null(v) || json_is_false(v)) return 0;
  if (json_is_integer(v)) return json_integer_value(v) != 0;
  if (json_is_real(v)) return json_real_value(v) != 0;
  if (json_is_string(v)) {
    size_t n = json_string_length(v);
    const char *s = json_string_value(v);
    return !(n == 0 || (n == 1 && s[0] == '0'));
  }
  return 1;
}

int sahs_equal(const json_t *a, const json_t *b)
{
  char b1[64], b2[64];
  const char *s1, *s2;
  size_t n1, n2;
  int an = !a || json_is_null(a), bn = !b || json_is_null(b);
  if (an || bn) return an && bn;
  if (json_is_array(a) || json_is_array(b)) {
    size_t i;
    if (!json_is_array(a) || !json_is_array(b) || json_array_size(a) != json_array_size(b)) return 0;
    for (i = 0; i < json_array_size(a); i++)
      if (!sahs_equal(json_array_get(a, i), json_array_get(b, i))) return 0;
    return 1;
  }
  if (json_is_object(a) || json_is_object(b)) {
    const char *k;
    json_t *x;
    if (!json_is_object(a) || !json_is_object(b) || json_object_size(a) != json_object_size(b)) return 0;
    json_object_foreach((json_t *)a, k, x) {
      json_t *y = json_object_get(b, k);
      if (!y || !sahs_equal(x, y)) return 0;
    }
    return 1;
  }
  if (json_is_number(a) && json_is_number(b)) {
    if (json_is_integer(a) && json_is_integer(b)) return json_integer_value(a) == json_integer_value(b);
    return sahs_num(a) == sahs_num(b);
  }
  n1 = sahs_str(a, b1, sizeof b1, &s1);
  n2 = sahs_str(b, b2, sizeof b2, &s2);
  return n1 == n2 && !memcmp(s1, s2, n1);
}

size_t sahs_utf8_next(const char *s, size_t n, size_t i)
{
  i++;
  while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
  return i;
}

size_t sahs_utf8_len(const char *s, size_t n)
{
  size_t i, c = 0;
  for (i = 0; i < n; i++) if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
  return c;
}

static unsigned decode(const unsigned char *s, size_t n, size_t *len)
{
  unsigned c = s[0];
  if (c < 0x80 || n < 2) { *len = 1; return c; }
  if (c < 0xE0) { *len = 2; return ((c & 0x1F) << 6) | (s[1] & 0x3F); }
  if (c < 0xF0 || n < 4) { *len = n < 3 ? n : 3; return n < 3 ? c : ((c & 0x0F) << 12) | ((s[1] & 0x3F) << 6) | (s[2] & 0x3F); }
  *len = 4;
  return ((c & 0x07) << 18) | ((s[1] & 0x3F) << 12) | ((s[2] & 0x3F) << 6) | (s[3] & 0x3F);
}

int sahs_utf8_max(const char *s, size_t n)
{
  size_t i = 0, l;
  unsigned m = 0, c;
  while (i < n) {
    c = decode((const unsigned char *)s + i, n - i, &l);
    if (c > m) m = c;
    i += l;
  }
  return (int)m;
}

static unsigned lower(unsigned c)
{
  if (c >= 'A' && c <= 'Z') return c + 32;
  if (c < 0xC0) return c;
  if (c <= 0xDE && c != 0xD7) return c + 32;
  if (c >= 0x100 && c <= 0x17F && !(c & 1) && c != 0x130 && c != 0x138) return c + 1;
  if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
  if (c >= 0x410 && c <= 0x42F) return c + 32;
  if (c >= 0x400 && c <= 0x40F) return c + 80;
  return c;
}

static size_t encode(unsigned c, char *d)
{
  if (c < 0x80) { d[0] = (char)c; return 1; }
  if (c < 0x800) { d[0] = (char)(0xC0 | (c >> 6)); d[1] = (char)(0x80 | (c & 0x3F)); return 2; }
  if (c < 0x10000) {
    d[0] = (char)(0xE0 | (c >> 12)); d[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    d[2] = (char)(0x80 | (c & 0x3F)); return 3;
  }
  d[0] = (char)(0xF0 | (c >> 18)); d[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  d[2] = (char)(0x80 | ((c >> 6) & 0x3F)); d[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

char *sahs_lc(const char *s, size_t n, size_t *outn)
{
  char *d = malloc(n * 2 + 1);
  size_t i = 0, o = 0, l;
  if (!d) return 0;
  while (i < n) {
    unsigned c = decode((const unsigned char *)s + i, n - i, &l);
    o += encode(lower(c), d + o);
    i += l;
  }
  d[o] = 0;
  *outn = o;
  return d;
}

void sahs_fmt(char *dst, size_t n, const json_t *v)
{
  char *j;
  if (!v || json_is_null(v)) { snprintf(dst, n, "undef"); return; }
  if (json_is_real(v)) { fmt_real(dst, n, json_real_value(v)); return; }
  j = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15));
  snprintf(dst, n, "%s", j ? j : "?");
  free(j);
}
