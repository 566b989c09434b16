#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fmt.h>
#include "riap_json.h"

size_t fmt_riap_real(char *dest, double d)
{
  int prec;
  int n = 0;
  for (prec = 15; prec <= 17; prec++) {
    n = snprintf(dest, 32, "%.*g", prec, d);
    if (strtod(dest, 0) == d) break;
  }
  if (!strpbrk(dest, ".eEn")) { dest[n++] = '.'; dest[n++] = '0'; dest[n] = 0; }
  return (size_t)n;
}

int riap_json_catstr(stralloc *sa, const char *s, size_t n)
{
  static const char hex[] = "0123456789abcdef";
  size_t i, run = 0;
  if (!stralloc_readyplus(sa, n + 2)) return 0;
  sa->s[sa->len++] = '"';
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[6];
    size_t elen = 2;
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    if (!stralloc_catb(sa, s + run, i - run)) return 0;
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
    if (!stralloc_catb(sa, esc, elen)) return 0;
  }
  if (!stralloc_catb(sa, s + run, n - run)) return 0;
  return stralloc_append(sa, "\"");
}

static int cat_object(stralloc *sa, const json_t *v)
{
  const char *key;
  size_t len;
  json_t *val;
  int first = 1;
  if (!stralloc_append(sa, "{")) return 0;
  json_object_keylen_foreach((json_t *)v, key, len, val) {
    if (!first && !stralloc_append(sa, ",")) return 0;
    first = 0;
    if (!riap_json_catstr(sa, key, len)) return 0;
    if (!stralloc_append(sa, ":")) return 0;
    if (!riap_json_cat(sa, val)) return 0;
  }
  return stralloc_append(sa, "}");
}

static int cat_array(stralloc *sa, const json_t *v)
{
  size_t i, n = json_array_size(v);
  if (!stralloc_append(sa, "[")) return 0;
  for (i = 0; i < n; i++) {
    if (i && !stralloc_append(sa, ",")) return 0;
    if (!riap_json_cat(sa, json_array_get(v, i))) return 0;
  }
  return stralloc_append(sa, "]");
}

int riap_json_cat(stralloc *sa, const json_t *v)
{
  char num[32];
  if (!v) return stralloc_cats(sa, "null");
  switch (json_typeof(v)) {
    case JSON_OBJECT: return cat_object(sa, v);
    case JSON_ARRAY: return cat_array(sa, v);
    case JSON_STRING: return riap_json_catstr(sa, json_string_value(v), json_string_length(v));
    case JSON_INTEGER:
      return stralloc_catb(sa, num, fmt_longlong(num, json_integer_value(v)));
    case JSON_REAL:
      return stralloc_catb(sa, num, fmt_riap_real(num, json_real_value(v)));
    case JSON_TRUE: return stralloc_cats(sa, "true");
    case JSON_FALSE: return stralloc_cats(sa, "false");
    default: return stralloc_cats(sa, "null");
  }
}
