/* complete.c: complete_arg_val and complete_arg_elem, from the schema's
 * `in` clause (and bool), and from the arg's examples. */
#include <ctype.h>
#include <string.h>
#include "riap_json.h"
#include "handle.h"
#include "funcmeta.h"

struct words {
  json_t *list;
  const char *prefix;
  int ci;
};

static int has_prefix(const char *s, const char *p, int ci)
{
  for (; *p; s++, p++) {
    if (!*s) return 0;
    if (ci ? tolower((unsigned char)*s) != tolower((unsigned char)*p) : *s != *p) return 0;
  }
  return 1;
}

static int seen(const json_t *list, const char *w)
{
  size_t i;
  for (i = 0; i < json_array_size(list); i++)
    if (!strcmp(json_string_value(json_object_get(json_array_get(list, i), "word")), w)) return 1;
  return 0;
}

static void add(struct words *w, json_t *value, json_t *summary)
{
  stralloc text = { 0, 0, 0 };
  if (json_is_string(value)) stralloc_copyb(&text, json_string_value(value), json_string_length(value));
  else if (json_is_number(value) || json_is_boolean(value)) riap_json_cat(&text, value);
  else return;
  if (stralloc_0(&text) && !memchr(text.s, 0, text.len - 1) &&
      has_prefix(text.s, w->prefix, w->ci) && !seen(w->list, text.s))
    json_array_append_new(w->list, json_pack("{s:s,s:O}", "word", text.s,
                                             "summary", json_is_string(summary) ? summary : json_null()));
  free(text.s);
}

static void from_schema(struct words *w, const sah_schema *schema)
{
  json_t *values = sah_completions(schema);
  size_t i;
  for (i = 0; i < json_array_size(values); i++) add(w, json_array_get(values, i), 0);
  json_decref(values);
}

static void from_examples(struct words *w, json_t *examples)
{
  size_t i;
  for (i = 0; i < json_array_size(examples); i++) {
    json_t *x = json_array_get(examples, i);
    if (json_is_object(x)) add(w, json_object_get(x, "value"), json_object_get(x, "summary"));
    else add(w, x, 0);
  }
}

void complete_run(struct server *s, struct riap_entity *e, const struct riap_req *q, struct reply *r)
{
  struct funcmeta *m;
  const struct farg *a;
  struct words w;
  const sah_schema *schema;
  (void)s;
  if (e->meta_state == RIAP_META_BROKEN) { meta_check(e, r); return; }
  if (!(m = funcmeta_get(e))) { reply_set(r, 500, "Out of memory"); return; }
  if (!m->ok) { reply_set(r, 531, "Invalid metadata for %s: %s", e->uri, m->err); return; }
  if (!q->arg) { reply_set(r, 400, "Please specify arg"); return; }
  if (q->action == RIAP_A_COMPLETE_ARG_ELEM && !q->has_index) { reply_set(r, 400, "Please specify index"); return; }
  if (!(a = funcmeta_arg(m, q->arg, strlen(q->arg)))) {
    reply_set(r, 400, "Unknown argument '%.64s'", q->arg);
    return;
  }
  w.list = json_array();
  w.prefix = q->word ? q->word : "";
  w.ci = q->ci;
  schema = a->compiled;
  if (q->action == RIAP_A_COMPLETE_ARG_ELEM) schema = schema ? sah_elem(schema) : 0;
  else from_examples(&w, json_object_get(a->spec, "examples"));
  if (schema) from_schema(&w, schema);
  reply_ok(r, json_pack("{s:o,s:i}", "words", w.list, "static", 1));
}
