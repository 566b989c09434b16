/* complete.c: complete_arg_val and complete_arg_elem, from the metadata
 * as Perl's Perinci::Sub::Complete does: the arg's examples, then the
 * schema's `in` (or `is`), else its examples, bool 0 and 1, small int
 * ranges. A word keeps its JSON type (Perl offers the numbers 0 and 1). */
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

/* the word as text, for matching and for telling duplicates */
static const char *text(const json_t *word, stralloc *sa)
{
  sa->len = 0;
  if (json_is_string(word)) {
    if (!stralloc_copyb(sa, json_string_value(word), json_string_length(word))) return 0;
  } else if (!riap_json_cat(sa, word)) return 0;
  if (!stralloc_0(sa) || memchr(sa->s, 0, sa->len - 1)) return 0;
  return sa->s;
}

static int seen(const json_t *list, const char *t, stralloc *sa)
{
  size_t i;
  for (i = 0; i < json_array_size(list); i++) {
    const char *u = text(json_object_get(json_array_get(list, i), "word"), sa);
    if (u && !strcmp(u, t)) return 1;
  }
  return 0;
}

static void add(struct words *w, json_t *value, json_t *summary)
{
  stralloc sa = { 0, 0, 0 }, other = { 0, 0, 0 };
  const char *t;
  if (!json_is_string(value) && !json_is_number(value)) return;
  t = text(value, &sa);
  if (t && has_prefix(t, w->prefix, w->ci) && !seen(w->list, t, &other))
    json_array_append_new(w->list, json_pack("{s:O,s:O}", "word", value,
                                             "summary", json_is_string(summary) ? summary : json_null()));
  free(sa.s);
  free(other.s);
}

/* examples: values, or {value, summary} (a schema's may say valid: false) */
static void from_examples(struct words *w, json_t *examples)
{
  size_t i;
  for (i = 0; i < json_array_size(examples); i++) {
    json_t *x = json_array_get(examples, i), *valid;
    if (!json_is_object(x)) { add(w, x, 0); continue; }
    valid = json_object_get(x, "valid");
    if (!valid || json_is_true(valid) || (json_is_number(valid) && json_number_value(valid) != 0))
      add(w, json_object_get(x, "value"), json_object_get(x, "summary"));
  }
}

static void from_schema(struct words *w, const sah_schema *schema)
{
  json_t *values = sah_completions(schema);
  size_t i;
  from_examples(w, sah_examples(schema));
  for (i = 0; i < json_array_size(values); i++) add(w, json_array_get(values, i), 0);
  json_decref(values);
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
  /* an argument the function does not have: nothing to offer, as the Perl
   * server answers (its completion declines) */
  if (!(a = funcmeta_arg(m, q->arg, strlen(q->arg)))) { reply_ok(r, json_array()); return; }
  w.list = json_array();
  w.prefix = q->word ? q->word : "";
  /* without ci, without regard to case: Perl's default (its client never
   * sends ci) */
  w.ci = json_object_get(q->json, "ci") ? q->ci : 1;
  schema = a->compiled;
  if (q->action == RIAP_A_COMPLETE_ARG_ELEM) schema = schema ? sah_elem(schema) : 0;
  else from_examples(&w, json_object_get(a->spec, "examples"));
  if (schema) from_schema(&w, schema);
  /* static: the whole list, which a client may keep for other words */
  reply_ok(r, json_pack("{s:o,s:i}", "words", w.list, "static", !*w.prefix));
}
