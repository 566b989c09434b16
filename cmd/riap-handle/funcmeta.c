#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "handle.h"
#include "funcmeta.h"

static int bad(struct funcmeta *m, const char *why)
{
  snprintf(m->err, sizeof m->err, "%s", why);
  m->ok = 0;
  return 0;
}

static int compile_args(struct funcmeta *m, json_t *args)
{
  const char *name;
  json_t *spec;
  size_t i = 0;
  char why[SAH_ERRMAX];
  if (!args) return 1;
  if (!json_is_object(args)) return bad(m, "args must be an object");
  m->has_args = 1;
  m->nargs = json_object_size(args);
  m->args = calloc(m->nargs ? m->nargs : 1, sizeof *m->args);
  if (!m->args) return bad(m, "out of memory");
  json_object_foreach(args, name, spec) {
    struct farg *a = &m->args[i++];
    json_t *pos, *slurpy;
    if (!json_is_object(spec)) {
      snprintf(m->err, sizeof m->err, "arg '%.64s' must be an object", name);
      m->ok = 0;
      return 0;
    }
    a->name = name;
    a->spec = spec;
    a->schema = json_object_get(spec, "schema");
    if (a->schema && !(a->compiled = sah_compile(a->schema, why))) {
      snprintf(m->err, sizeof m->err, "arg '%.64s': %s", name, why);
      m->ok = 0;
      return 0;
    }
    a->req = json_is_true(json_object_get(spec, "req")) ||
             (json_is_integer(json_object_get(spec, "req")) && json_integer_value(json_object_get(spec, "req")));
    pos = json_object_get(spec, "pos");
    a->pos = json_is_integer(pos) && json_integer_value(pos) >= 0 ? (long)json_integer_value(pos) : -1;
    slurpy = json_object_get(spec, "slurpy");
    if (!slurpy) slurpy = json_object_get(spec, "greedy");
    a->slurpy = json_is_true(slurpy) || (json_is_integer(slurpy) && json_integer_value(slurpy));
  }
  return 1;
}

static int compile(struct funcmeta *m, json_t *meta)
{
  json_t *v, *result;
  char why[SAH_ERRMAX];
  m->ok = 1;
  if (!meta) return 1;
  /* what Perl's own servers refuse to describe is refused here too */
  if (!(m->norm = meta_normalize(meta, why))) return bad(m, why);
  if (!compile_args(m, json_object_get(meta, "args"))) return 0;
  v = json_object_get(meta, "args_as");
  if (v) {
    const char *s = json_string_value(v);
    if (!s) return bad(m, "args_as must be a string");
    if (!strcmp(s, "array") || !strcmp(s, "arrayref")) m->args_array = 1;
    else if (strcmp(s, "hash") && strcmp(s, "hashref")) return bad(m, "args_as must be hash, hashref, array or arrayref");
  }
  v = json_object_get(meta, "result_naked");
  m->naked = json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
  v = json_object_get(meta, "timeout");
  if (v) {
    if (!json_is_number(v) || json_number_value(v) <= 0 || json_number_value(v) > 86400)
      return bad(m, "timeout must be a number of seconds between 0 and 86400");
    m->timeout_ms = (unsigned long)(json_number_value(v) * 1000);
  }
  v = json_object_get(meta, "x.riap.exec");
  if (v) {
    const char *how = json_string_value(v);
    if (!how || (strcmp(how, "persistent") && strcmp(how, "exec")))
      return bad(m, "x.riap.exec must be exec or persistent");
    m->persistent = !strcmp(how, "persistent");
  }
  v = json_object_get(meta, "x.riap.peer");
  m->peer_facts = json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
  /* Rinci: a true value, or a hash ({"default":1}: dry run by default,
   * which is the caller's to apply), says the function supports dry run */
  v = json_object_get(json_object_get(meta, "features"), "dry_run");
  m->dry_run_ok = json_is_true(v) || json_is_object(v) ||
    (json_is_number(v) && json_number_value(v) != 0);
  result = json_object_get(json_object_get(meta, "result"), "schema");
  if (result) {
    sah_schema *rs = sah_compile(result, why);
    if (!rs) {
      snprintf(m->err, sizeof m->err, "result: %s", why);
      m->ok = 0;
      return 0;
    }
    m->result_buf = !strcmp(sah_type(rs), "buf");
    sah_free(rs);
  }
  return 1;
}

void funcmeta_free(void *p)
{
  struct funcmeta *m = p;
  size_t i;
  if (!m) return;
  riap_coproc_free(&m->co);
  json_decref(m->norm);
  stralloc_free(&m->norm_text);
  for (i = 0; i < m->nargs; i++) sah_free(m->args[i].compiled);
  free(m->args);
  free(m);
}

struct funcmeta *funcmeta_get(struct riap_entity *e)
{
  struct funcmeta *m = e->priv;
  if (m) return m;
  m = calloc(1, sizeof *m);
  if (!m) return 0;
  compile(m, e->meta_state == RIAP_META_OK ? e->meta : 0);
  e->priv = m;
  return m;
}

const struct farg *funcmeta_arg(const struct funcmeta *m, const char *name, size_t n)
{
  size_t i;
  for (i = 0; i < m->nargs; i++)
    if (!strncmp(m->args[i].name, name, n) && !m->args[i].name[n]) return &m->args[i];
  return 0;
}
