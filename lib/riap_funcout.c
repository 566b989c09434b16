#include <stdio.h>
#include <string.h>
#include "riap_bin.h"
#include "riap_funcout.h"

static int take_envelope(json_t *env, struct riap_funcout *o)
{
  json_t *st = json_array_get(env, 0), *msg = json_array_get(env, 1), *meta = json_array_get(env, 3);
  size_t n = json_array_size(env);
  if (!json_is_array(env) || n < 1 || n > 4 || !json_is_integer(st) ||
      json_integer_value(st) < 100 || json_integer_value(st) > 599 ||
      (msg && !json_is_string(msg) && !json_is_null(msg)) ||
      (meta && !json_is_object(meta) && !json_is_null(meta)))
    return 0;
  o->status = (int)json_integer_value(st);
  o->message = json_is_string(msg) ? json_incref(msg) : 0;
  o->result = json_incref(json_array_get(env, 2));
  o->meta = json_is_object(meta) ? json_deep_copy(meta) : 0;
  return 1;
}

int riap_funcout_scan(const char *s, size_t n, enum riap_funcout_form form, struct riap_funcout *o, char *why)
{
  json_error_t jerr;
  json_t *v;
  memset(o, 0, sizeof *o);
  if (form == RIAP_OUT_RAW) {
    o->status = 200;
    o->result = riap_bin_tojson(s, n);
    return o->result != 0 || (snprintf(why, RIAP_FUNCOUT_WHYMAX, "out of memory"), 0);
  }
  if (!n) { snprintf(why, RIAP_FUNCOUT_WHYMAX, "no output"); return 0; }
  v = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
  if (!v) { snprintf(why, RIAP_FUNCOUT_WHYMAX, "invalid output (%.60s)", jerr.text); return 0; }
  if (form == RIAP_OUT_NAKED) { o->status = 200; o->result = v; return 1; }
  if (take_envelope(v, o)) { json_decref(v); return 1; }
  json_decref(v);
  snprintf(why, RIAP_FUNCOUT_WHYMAX, "invalid output (not an envelope)");
  return 0;
}

void riap_funcout_free(struct riap_funcout *o)
{
  json_decref(o->message);
  json_decref(o->result);
  json_decref(o->meta);
  memset(o, 0, sizeof *o);
}
