/* metanorm.c: function metadata normalized as Perl's servers answer `meta`
 * (Perinci::Sub::Normalize 0.207 under Perinci::Access::Schemeless): Perl
 * clients such as Perinci::CmdLine read schemas in their normalized form
 * only, and die on "int*". The property tree below is Rinci's function
 * metadata schema (Sah::Schema::rinci::function_meta) plus `timeout`, the
 * one property module the Perl stack declares. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "funcmeta.h"

enum { LEAF, PROP, ELEM, VALUE };               /* how a property nests */
enum { L_FUNC, L_ARG, L_ALIAS, L_EXAMPLE, L_RESULT, L_STATUS };

struct prop {
  const char *name;
  int kind;
  int sub;                                      /* L_*: the properties inside */
  int versioned;                                /* the inside must say v 1.1 */
};

static const struct prop func_props[] = {
  { "args", VALUE, L_ARG, 0 }, { "args_as", LEAF, 0, 0 }, { "args_rels", LEAF, 0, 0 },
  { "caption", LEAF, 0, 0 }, { "default_lang", LEAF, 0, 0 }, { "defhash_v", LEAF, 0, 0 },
  { "deps", LEAF, 0, 0 }, { "description", LEAF, 0, 0 }, { "entity_date", LEAF, 0, 0 },
  { "entity_v", LEAF, 0, 0 }, { "examples", ELEM, L_EXAMPLE, 0 }, { "features", LEAF, 0, 0 },
  { "is_class_meth", LEAF, 0, 0 }, { "is_func", LEAF, 0, 0 }, { "is_meth", LEAF, 0, 0 },
  { "links", LEAF, 0, 0 }, { "name", LEAF, 0, 0 }, { "result", PROP, L_RESULT, 0 },
  { "result_naked", LEAF, 0, 0 }, { "summary", LEAF, 0, 0 }, { "tags", LEAF, 0, 0 },
  { "timeout", LEAF, 0, 0 }, { "v", LEAF, 0, 0 }, { "x", LEAF, 0, 0 }, { 0, 0, 0, 0 }
};
static const struct prop arg_props[] = {
  { "caption", LEAF, 0, 0 }, { "cmdline_aliases", VALUE, L_ALIAS, 0 },
  { "cmdline_on_getopt", LEAF, 0, 0 }, { "cmdline_prompt", LEAF, 0, 0 },
  { "cmdline_src", LEAF, 0, 0 }, { "completion", LEAF, 0, 0 }, { "default", LEAF, 0, 0 },
  { "default_lang", LEAF, 0, 0 }, { "defhash_v", LEAF, 0, 0 }, { "deps", LEAF, 0, 0 },
  { "description", LEAF, 0, 0 }, { "element_completion", LEAF, 0, 0 },
  { "element_meta", PROP, L_FUNC, 1 }, { "examples", LEAF, 0, 0 }, { "filters", LEAF, 0, 0 },
  { "greedy", LEAF, 0, 0 }, { "index_completion", LEAF, 0, 0 }, { "is_password", LEAF, 0, 0 },
  { "links", LEAF, 0, 0 }, { "meta", PROP, L_FUNC, 1 }, { "name", LEAF, 0, 0 },
  { "partial", LEAF, 0, 0 }, { "pos", LEAF, 0, 0 }, { "req", LEAF, 0, 0 },
  { "schema", LEAF, 0, 0 }, { "slurpy", LEAF, 0, 0 }, { "stream", LEAF, 0, 0 },
  { "summary", LEAF, 0, 0 }, { "tags", LEAF, 0, 0 }, { "v", LEAF, 0, 0 }, { "x", LEAF, 0, 0 },
  { 0, 0, 0, 0 }
};
static const struct prop alias_props[] = {
  { "code", LEAF, 0, 0 }, { "description", LEAF, 0, 0 }, { "is_flag", LEAF, 0, 0 },
  { "schema", LEAF, 0, 0 }, { "summary", LEAF, 0, 0 }, { 0, 0, 0, 0 }
};
static const struct prop example_props[] = {
  { "args", LEAF, 0, 0 }, { "argv", LEAF, 0, 0 }, { "caption", LEAF, 0, 0 },
  { "default_lang", LEAF, 0, 0 }, { "defhash_v", LEAF, 0, 0 }, { "description", LEAF, 0, 0 },
  { "env_result", LEAF, 0, 0 }, { "naked_result", LEAF, 0, 0 }, { "name", LEAF, 0, 0 },
  { "result", LEAF, 0, 0 }, { "src", LEAF, 0, 0 }, { "src_plang", LEAF, 0, 0 },
  { "status", LEAF, 0, 0 }, { "summary", LEAF, 0, 0 }, { "tags", LEAF, 0, 0 },
  { "test", LEAF, 0, 0 }, { "v", LEAF, 0, 0 }, { "x", LEAF, 0, 0 }, { 0, 0, 0, 0 }
};
static const struct prop result_props[] = {
  { "caption", LEAF, 0, 0 }, { "default_lang", LEAF, 0, 0 }, { "defhash_v", LEAF, 0, 0 },
  { "description", LEAF, 0, 0 }, { "name", LEAF, 0, 0 }, { "partial", LEAF, 0, 0 },
  { "schema", LEAF, 0, 0 }, { "statuses", VALUE, L_STATUS, 0 }, { "stream", LEAF, 0, 0 },
  { "summary", LEAF, 0, 0 }, { "tags", LEAF, 0, 0 }, { "v", LEAF, 0, 0 }, { "x", LEAF, 0, 0 },
  { 0, 0, 0, 0 }
};
static const struct prop status_props[] = {
  { "description", LEAF, 0, 0 }, { "schema", LEAF, 0, 0 }, { "summary", LEAF, 0, 0 }, { 0, 0, 0, 0 }
};
static const struct prop *const lists[] = {
  func_props, arg_props, alias_props, example_props, result_props, status_props
};

#define ERR(...) (snprintf(err, SAH_ERRMAX, __VA_ARGS__), (json_t *)0)

static int is_w(char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static size_t words(const char *s) { size_t i = 0; while (is_w(s[i])) i++; return i; }

/* key: PROP(.ATTR)*((LANG))? to PROP and ATTR, LANG folded in as
 * ATTR.alt.lang.LANG (Perl's /\A(\w+)(?:\.(\w+(?:\.\w+)*))?(?:\((\w+)\))?\z/);
 * returns 0 when the key has another form */
static int split_key(const char *k, char *prop, char *attr, size_t n)
{
  size_t p = words(k), i = p, a0, a1, l;
  if (!p || p >= n) return 0;
  memcpy(prop, k, p);
  prop[p] = 0;
  a0 = a1 = i;
  if (k[i] == '.') {
    a0 = ++i;
    for (;;) {
      size_t w = words(k + i);
      if (!w) return 0;
      i += w;
      if (k[i] != '.') break;
      i++;
    }
    a1 = i;
  }
  attr[0] = 0;
  if (a1 > a0) snprintf(attr, n, "%.*s", (int)(a1 - a0), k + a0);
  if (k[i] == '(') {
    l = words(k + i + 1);
    if (!l || k[i + 1 + l] != ')' || k[i + 2 + l]) return 0;
    if (snprintf(attr + strlen(attr), n - strlen(attr), "%salt.lang.%.*s", attr[0] ? "." : "",
                 (int)l, k + i + 1) >= (int)(n - strlen(attr))) return 0;
    return 1;
  }
  return !k[i] && strlen(attr) + 1 < n;
}

static int internal(const char *prop, const char *attr)
{
  return prop[0] == '_' || attr[0] == '_' || strstr(attr, "._");
}

/* v 1.1, as Perl compares it: the string "1.1" (a number prints so) */
static int is_v11(json_t *v)
{
  char b[32];
  if (json_is_string(v)) return !strcmp(json_string_value(v), "1.1");
  if (!json_is_number(v)) return 0;
  snprintf(b, sizeof b, "%.15g", json_number_value(v));
  return !strcmp(b, "1.1");
}

static const struct prop *find(const struct prop *l, const char *name)
{
  for (; l->name; l++) if (!strcmp(l->name, name)) return l;
  return 0;
}

static json_t *walk(json_t *meta, int list, int versioned, const char *prefix, char *err);

/* one property's value, normalized by its kind */
static json_t *walk_prop(const struct prop *p, const char *key, json_t *v, const char *path, char *err)
{
  char sub[600];
  json_t *out, *e, *x;
  const char *kk;
  size_t i;
  switch (p->kind) {
  case PROP:
    if (!json_is_object(v)) return ERR("Property '%.300s' must be a hash", path);
    return walk(v, p->sub, p->versioned, path, err);
  case ELEM:
    if (!json_is_array(v)) return ERR("Property '%.300s' must be an array", path);
    out = json_array();
    json_array_foreach(v, i, e) {
      snprintf(sub, sizeof sub, "%.400s/%zu", path, i);
      x = json_is_object(e) ? walk(e, p->sub, p->versioned, sub, err) : json_incref(e);
      if (!x) { json_decref(out); return 0; }
      json_array_append_new(out, x);
    }
    return out;
  case VALUE:
    if (!json_is_object(v)) return ERR("Property '%.300s' must be a hash", path);
    out = json_object();
    json_object_foreach(v, kk, e) {
      snprintf(sub, sizeof sub, "%.300s/%.200s", path, kk);
      if (!json_is_object(e)) { json_decref(out); return ERR("Property '%.300s' must be a hash", sub); }
      if (!(x = walk(e, p->sub, p->versioned, sub, err))) { json_decref(out); return 0; }
      json_object_set_new(out, kk, x);
    }
    return out;
  }
  if (!strcmp(key, "schema")) {                 /* only the key as written */
    char why[SAH_ERRMAX];
    if (!(x = sah_normalize2(v, why))) return ERR("%.200s: %.300s", path, why);
    return x;
  }
  return json_incref(v);
}

/* a metadata hash against the property list `list` */
static json_t *walk(json_t *meta, int list, int versioned, const char *prefix, char *err)
{
  json_t *out, *v, *x;
  const char *k;
  char prop[256], attr[256], nk[520], path[600];
  if (versioned && !is_v11(json_object_get(meta, "v")))
    return ERR("%.300s: Metadata version must be 1.1", prefix);
  out = json_object();
  json_object_foreach(meta, k, v) {
    const struct prop *p;
    if (!split_key(k, prop, attr, sizeof attr)) {
      json_decref(out);
      return ERR("Invalid prop/attr syntax '%.200s', must be word/dotted-word only", k);
    }
    snprintf(nk, sizeof nk, "%s%s%s", prop, attr[0] ? "." : "", attr);
    if (internal(prop, attr)) { json_object_set(out, nk, v); continue; }
    snprintf(path, sizeof path, "%.300s/%.200s", prefix, prop);
    if (!(p = find(lists[list], prop))) { json_decref(out); return ERR("Unknown property '%.300s'", path); }
    if (!(x = walk_prop(p, k, v, path, err))) { json_decref(out); return 0; }
    json_object_set_new(out, nk, x);
  }
  return out;
}

static int truthy(json_t *v)
{
  if (!v || json_is_null(v) || json_is_false(v)) return 0;
  if (json_is_number(v)) return json_number_value(v) != 0;
  if (json_is_string(v)) return strcmp(json_string_value(v), "") && strcmp(json_string_value(v), "0");
  return 1;
}

/* Perinci::Sub::Normalize's _check: positions without holes or clashes */
static int check_pos(json_t *meta, char *err)
{
  json_t *args = json_object_get(meta, "args"), *spec, *as;
  const char *name, *n2;
  long maxpos = -1, slurpy = -1, npos = 0;
  json_object_foreach(args, name, spec) {
    json_t *pj = json_object_get(spec, "pos"), *s2;
    long pos = -1;
    if (pj && !json_is_null(pj)) {
      pos = json_is_number(pj) ? (long)json_number_value(pj) : json_is_string(pj) ? strtol(json_string_value(pj), 0, 10) : 0;
      if (pos < 0) return snprintf(err, SAH_ERRMAX, "Argument %s: Negative pos", name), 0;
      json_object_foreach(args, n2, s2) {
        json_t *p2 = json_object_get(s2, "pos");
        if (n2 == name) break;
        if (json_is_number(p2) && (long)json_number_value(p2) == pos)
          return snprintf(err, SAH_ERRMAX, "Duplicate argument position %ld (arg %s vs %s)", pos, name, n2), 0;
      }
      npos++;
      if (pos > maxpos) maxpos = pos;
    }
    if (truthy(json_object_get(spec, "slurpy")) || truthy(json_object_get(spec, "greedy"))) {
      if (pos < 0) return snprintf(err, SAH_ERRMAX, "Argument %s: slurpy=1 without setting pos", name), 0;
      if (slurpy >= 0) return snprintf(err, SAH_ERRMAX, "Multiple args with slurpy=1"), 0;
      slurpy = pos;
    }
  }
  if (slurpy >= 0 && slurpy < maxpos)
    return snprintf(err, SAH_ERRMAX, "Clash of argument positions: slurpy=1 defined for pos=%ld but there is another argument with pos > %ld", slurpy, slurpy), 0;
  if (npos < maxpos + 1) return snprintf(err, SAH_ERRMAX, "There needs to be more arguments that define pos"), 0;
  as = json_object_get(meta, "args_as");
  if (json_is_string(as) && (!strcmp(json_string_value(as), "array") || !strcmp(json_string_value(as), "arrayref"))
      && (long)json_object_size(args) > maxpos + 1)
    return snprintf(err, SAH_ERRMAX, "Function accepts array/arrayref but there are arguments with no pos defined"), 0;
  return 1;
}

/* meta_normalize: see funcmeta.h */
json_t *meta_normalize(json_t *meta, char *err)
{
  json_t *n;
  if (!json_is_object(meta)) return ERR("metadata must be a hash");
  if (!(n = walk(meta, L_FUNC, 1, "", err))) return 0;
  if (!check_pos(meta, err)) { json_decref(n); return 0; }
  /* Perinci::Access::Schemeless: every function has args */
  if (!json_object_get(n, "args")) json_object_set_new(n, "args", json_object());
  return n;
}
