#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "riap_json.h"
#include "handle.h"

json_t *text_json(const char *s)
{
  json_t *j = json_string(s);
  char buf[1024];
  size_t i;
  if (j) return j;
  for (i = 0; s[i] && i < sizeof buf - 1; i++) buf[i] = (s[i] & 0x80) ? '?' : s[i];
  buf[i] = 0;
  return json_string(buf);
}

int reply_set(struct reply *r, int status, const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  r->status = status;
  json_decref(r->message);
  r->message = text_json(buf);
  r->result_text = 0;
  return 0;
}

int reply_ok(struct reply *r, json_t *result)
{
  r->status = 200;
  json_decref(r->message);
  r->message = json_string("OK");
  json_decref(r->result);
  r->result = result;
  r->result_text = 0;
  return 0;
}

void reply_clear(struct reply *r)
{
  json_decref(r->message);
  json_decref(r->result);
  json_decref(r->meta);
  memset(r, 0, sizeof *r);
}

static int cat_meta(stralloc *out, const struct reply *r, int v12)
{
  const char *key;
  size_t len;
  json_t *val;
  if (!stralloc_cats(out, "{")) return 0;
  if (r->meta) {
    json_object_keylen_foreach(r->meta, key, len, val) {
      if (!strncmp(key, "riap.", 5) && strcmp(key, "riap.result_encoding")) continue;
      json_t *k = json_stringn(key, len);
      int ok = k && riap_json_cat_ascii(out, k) && stralloc_cats(out, ":") &&
               riap_json_cat_ascii(out, val) && stralloc_cats(out, ",");
      json_decref(k);
      if (!ok) return 0;
    }
  }
  return stralloc_cats(out, v12 ? "\"riap.v\":1.2}" : "\"riap.v\":1.1}");
}

int reply_cat(stralloc *out, const struct reply *r, int v12, size_t *res_off, size_t *res_len)
{
  char num[16];
  size_t msg_off;
  if (!stralloc_cats(out, "j[")) return 0;
  if (!stralloc_catb(out, num, (size_t)snprintf(num, sizeof num, "%d", r->status))) return 0;
  if (!stralloc_cats(out, ",")) return 0;
  msg_off = out->len;
  if (!riap_json_cat_ascii(out, r->message)) return 0;
  if (r->status / 100 != 2) { *res_off = msg_off; *res_len = out->len - msg_off; }
  if (!stralloc_cats(out, ",")) return 0;
  if (r->status / 100 == 2) *res_off = out->len;
  if (r->result_text ? !stralloc_catb(out, r->result_text, r->result_text_len)
                     : !riap_json_cat_ascii(out, r->result)) return 0;
  if (r->status / 100 == 2) *res_len = out->len - *res_off;
  if (!stralloc_cats(out, ",") || !cat_meta(out, r, v12)) return 0;
  return stralloc_cats(out, "]\r\n");
}
