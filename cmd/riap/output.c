/* output.c: printing a reply: the result as JSON (indented or one line),
 * naked strings, binary bytes, the whole envelope; exit codes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "riap.h"
#include "riap_bin.h"
#include "riap_json.h"
#include "riap_log.h"

int status_exit(long long status)
{
  if (status >= 200 && status <= 299) return 0;
  if (status >= 400 && status <= 555) return (int)(status - 300);
  return 99;
}

static int indent(stralloc *sa, int depth)
{
  int i;
  if (!stralloc_catb(sa, "\n", 1)) return 0;
  for (i = 0; i < depth; ++i) if (!stralloc_catb(sa, "  ", 2)) return 0;
  return 1;
}

static int pretty(stralloc *sa, const json_t *v, int depth)
{
  size_t i, n;
  if (json_is_array(v) && (n = json_array_size(v))) {
    if (!stralloc_catb(sa, "[", 1)) return 0;
    for (i = 0; i < n; ++i) {
      if (i && !stralloc_catb(sa, ",", 1)) return 0;
      if (!indent(sa, depth + 1) || !pretty(sa, json_array_get(v, i), depth + 1)) return 0;
    }
    return indent(sa, depth) && stralloc_catb(sa, "]", 1);
  }
  if (json_is_object(v) && json_object_size(v)) {
    const char *k;
    json_t *e;
    int first = 1;
    if (!stralloc_catb(sa, "{", 1)) return 0;
    json_object_foreach((json_t *)v, k, e) {
      if (!first && !stralloc_catb(sa, ",", 1)) return 0;
      first = 0;
      if (!indent(sa, depth + 1) || !riap_json_catstr(sa, k, strlen(k))
          || !stralloc_catb(sa, ": ", 2) || !pretty(sa, e, depth + 1)) return 0;
    }
    return indent(sa, depth) && stralloc_catb(sa, "}", 1);
  }
  return riap_json_cat(sa, v);
}

int out_json(stralloc *sa, const json_t *v, int ind)
{
  return ind ? pretty(sa, v, 0) : riap_json_cat(sa, v);
}

void out_write(stralloc *sa)
{
  if (riap_log_write(1, sa->s, sa->len) < sa->len)
    riap_err_die(111, "unable to write to stdout: %s", strerror(errno));
  sa->len = 0;
}

void out_escape(stralloc *sa, const char *s, size_t n, size_t cap)
{
  static const char hex[] = "0123456789abcdef";
  size_t i;
  for (i = 0; i < n && i < cap; ++i) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != 0x7f && c != '\\') { stralloc_catb(sa, (char *)&c, 1); continue; }
    char e[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
    stralloc_catb(sa, e, 4);
  }
  if (n > cap) stralloc_catb(sa, "...", 3);
}

static int all_strings(const json_t *v)
{
  size_t i;
  if (!json_is_array(v)) return 0;
  for (i = 0; i < json_array_size(v); ++i) if (!json_is_string(json_array_get(v, i))) return 0;
  return 1;
}

int out_reply(const json_t *env, const struct opts *o)
{
  long long status = json_integer_value(json_array_get(env, 0));
  const json_t *message = json_array_get(env, 1), *result = json_array_get(env, 2);
  const json_t *meta = json_array_get(env, 3);
  const json_t *enc = json_is_object(meta) ? json_object_get(meta, "riap.result_encoding") : NULL;
  int ind = o->pretty < 0 ? isatty(1) : o->pretty;
  int rc = status_exit(status);
  stralloc out = { 0, 0, 0 };

  if (rc) {
    stralloc e = { 0, 0, 0 };
    char num[32];
    snprintf(num, sizeof num, "%lld", status);
    stralloc_copys(&e, "riap: ");
    stralloc_cats(&e, num);
    if (json_is_string(message)) {
      stralloc_catb(&e, " ", 1);
      out_escape(&e, json_string_value(message), json_string_length(message), 1000);
    }
    {
      /* the cause, as Perl's programs show it: "(500: Unknown option: x)" */
      const json_t *prev = json_is_object(meta) ? json_object_get(meta, "prev") : NULL;
      const json_t *pm = json_array_get(prev, 1);
      if (json_is_integer(json_array_get(prev, 0)) && json_is_string(pm)) {
        snprintf(num, sizeof num, " (%lld: ", (long long)json_integer_value(json_array_get(prev, 0)));
        stralloc_cats(&e, num);
        out_escape(&e, json_string_value(pm), json_string_length(pm), 1000);
        stralloc_catb(&e, ")", 1);
      }
    }
    stralloc_catb(&e, "\n", 1);
    if (write(2, e.s, e.len) < 0) {}
    stralloc_free(&e);
  }

  if (o->raw) {
    if (!out_json(&out, env, ind) || !stralloc_catb(&out, "\n", 1)) riap_err_die(111, "out of memory");
  } else if (rc) {
    return rc;
  } else if (o->binary && json_is_string(result)) {
    const char *s = json_string_value(result);
    size_t n = json_string_length(result);
    if (json_is_string(enc) && !strcmp(json_string_value(enc), "base64")) {
      if (!riap_bin_unbase64(&out, s, n)) riap_err_die(111, "the result is not valid base64");
    } else if (o->v12 || !riap_bin_fromjson(&out, result)) {
      /* a plain string (1.2), or not made of code points 0-255 (1.1): its UTF-8 */
      if (!stralloc_copyb(&out, s, n)) riap_err_die(111, "out of memory");
    }
  } else if (o->naked && json_is_string(result)) {
    if (!stralloc_copyb(&out, json_string_value(result), json_string_length(result))
        || !stralloc_catb(&out, "\n", 1)) riap_err_die(111, "out of memory");
  } else if (o->naked && all_strings(result)) {
    size_t i;
    for (i = 0; i < json_array_size(result); ++i) {
      const json_t *s = json_array_get(result, i);
      if (!stralloc_catb(&out, json_string_value(s), json_string_length(s))
          || !stralloc_catb(&out, "\n", 1)) riap_err_die(111, "out of memory");
    }
  } else {
    if (!out_json(&out, result, ind) || !stralloc_catb(&out, "\n", 1)) riap_err_die(111, "out of memory");
  }
  out_write(&out);
  stralloc_free(&out);
  return rc;
}
