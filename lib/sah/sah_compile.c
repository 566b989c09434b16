/* sah_compile.c: a normalized schema to the compiled form (sah_internal.h):
 * type and clause lookup, clause attributes, values checked and
 * pre-digested (numbers, strings, regexes, subschemas), clauses sorted by
 * priority. Everything that cannot be applied here is refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sah_internal.h"

#define B(t) (1u << (t))
#define ALL_T 0xFFFu
#define NUMS (B(SAH_T_INT) | B(SAH_T_FLOAT) | B(SAH_T_NUM))
#define STRS (B(SAH_T_STR) | B(SAH_T_CISTR) | B(SAH_T_BUF))
#define SORT (NUMS | STRS | B(SAH_T_BOOL))
#define CMP (SORT | B(SAH_T_ARRAY) | B(SAH_T_HASH))
#define ELEMS (STRS | B(SAH_T_ARRAY) | B(SAH_T_HASH))
#define HASH B(SAH_T_HASH)

static const struct { const char *name, *noun; } types[] = {
  [SAH_T_ANY] = { "any", "any" }, [SAH_T_ALL] = { "all", "all" },
  [SAH_T_BOOL] = { "bool", "boolean value" }, [SAH_T_INT] = { "int", "integer" },
  [SAH_T_FLOAT] = { "float", "decimal number" }, [SAH_T_NUM] = { "num", "number" },
  [SAH_T_STR] = { "str", "text" }, [SAH_T_CISTR] = { "cistr", "case-insensitive text" },
  [SAH_T_BUF] = { "buf", "buffer" }, [SAH_T_ARRAY] = { "array", "array" },
  [SAH_T_HASH] = { "hash", "hash" }, [SAH_T_UNDEF] = { "undef", "undefined value" },
};

const char *sahc_type_noun(int type) { return types[type].noun; }

enum { X_CLAUSE, X_META, X_PERL, X_UNSUP };

static const struct cdef {
  const char *name;
  int what, kind;
  unsigned types;
  int prio;
} cdefs[] = {
  /* metadata: accepted, no effect on validation */
  { "v", X_META, 0, ALL_T, 0 }, { "defhash_v", X_META, 0, ALL_T, 0 },
  { "schema_v", X_META, 0, ALL_T, 0 }, { "base_v", X_META, 0, ALL_T, 0 },
  { "default_lang", X_META, 0, ALL_T, 0 }, { "name", X_META, 0, ALL_T, 0 },
  { "summary", X_META, 0, ALL_T, 0 }, { "description", X_META, 0, ALL_T, 0 },
  { "tags", X_META, 0, ALL_T, 0 }, { "comment", X_META, 0, ALL_T, 0 },
  { "examples", X_META, 0, ALL_T, 0 }, { "encoding", X_META, 0, STRS, 0 }, /* "utf8" only, checked */
  /* handled before the type check */
  { "ok", X_CLAUSE, K_OK, ALL_T, 0 }, { "req", X_CLAUSE, K_REQ, ALL_T, 3 },
  { "forbidden", X_CLAUSE, K_FORBIDDEN, ALL_T, 3 }, { "default", X_META, 0, ALL_T, 1 },
  /* Perl-only */
  { "check", X_PERL, 0, ALL_T, 0 }, { "check_prop", X_PERL, 0, ALL_T, 0 },
  { "check_each_elem", X_PERL, 0, ELEMS, 0 }, { "check_each_index", X_PERL, 0, ELEMS, 0 },
  { "check_each_key", X_PERL, 0, HASH, 0 }, { "check_each_value", X_PERL, 0, HASH, 0 },
  { "check_exists", X_PERL, 0, ELEMS, 0 }, { "prefilters", X_PERL, 0, ALL_T, 0 },
  { "postfilters", X_PERL, 0, ALL_T, 0 },
  { "if", X_UNSUP, 0, ALL_T, 0 }, { "if_clause", X_UNSUP, 0, ALL_T, 0 },
  { "if_cset", X_UNSUP, 0, ALL_T, 0 }, { "if_elem", X_UNSUP, 0, ELEMS, 0 },
  { "if_elem_re", X_UNSUP, 0, ELEMS, 0 },
  /* constraints */
  { "clause", X_CLAUSE, K_CLAUSE, ALL_T, 50 }, { "clset", X_CLAUSE, K_CLSET, ALL_T, 50 },
  { "cset", X_CLAUSE, K_CLSET, ALL_T, 50 }, { "prop", X_CLAUSE, K_PROP, ELEMS, 50 },
  { "in", X_CLAUSE, K_IN, CMP, 50 }, { "is", X_CLAUSE, K_IS, CMP, 50 },
  { "min", X_CLAUSE, K_MIN, SORT, 50 }, { "xmin", X_CLAUSE, K_XMIN, SORT, 50 },
  { "max", X_CLAUSE, K_MAX, SORT, 50 }, { "xmax", X_CLAUSE, K_XMAX, SORT, 50 },
  { "between", X_CLAUSE, K_BETWEEN, SORT, 50 }, { "xbetween", X_CLAUSE, K_XBETWEEN, SORT, 50 },
  { "len", X_CLAUSE, K_LEN, ELEMS, 50 }, { "min_len", X_CLAUSE, K_MIN_LEN, ELEMS, 50 },
  { "max_len", X_CLAUSE, K_MAX_LEN, ELEMS, 50 }, { "len_between", X_CLAUSE, K_LEN_BETWEEN, ELEMS, 50 },
  { "has", X_CLAUSE, K_HAS, ELEMS, 50 }, { "each_elem", X_CLAUSE, K_EACH_ELEM, ELEMS, 50 },
  { "each_index", X_CLAUSE, K_EACH_INDEX, ELEMS, 50 }, { "exists", X_CLAUSE, K_EXISTS, ELEMS, 50 },
  { "uniq", X_CLAUSE, K_UNIQ, ELEMS, 50 },
  { "mod", X_CLAUSE, K_MOD, B(SAH_T_INT), 50 }, { "div_by", X_CLAUSE, K_DIV_BY, B(SAH_T_INT), 50 },
  { "is_nan", X_CLAUSE, K_IS_NAN, B(SAH_T_FLOAT), 50 }, { "is_inf", X_CLAUSE, K_IS_INF, B(SAH_T_FLOAT), 50 },
  { "is_pos_inf", X_CLAUSE, K_IS_POS_INF, B(SAH_T_FLOAT), 50 },
  { "is_neg_inf", X_CLAUSE, K_IS_NEG_INF, B(SAH_T_FLOAT), 50 },
  { "match", X_CLAUSE, K_MATCH, STRS, 50 }, { "is_re", X_CLAUSE, K_IS_RE, STRS, 50 },
  { "is_true", X_CLAUSE, K_IS_TRUE, B(SAH_T_BOOL), 50 },
  { "elems", X_CLAUSE, K_ELEMS, B(SAH_T_ARRAY), 50 },
  { "of", X_CLAUSE, K_EACH_ELEM, B(SAH_T_ARRAY) | HASH, 50 },
  { "of", X_CLAUSE, K_OF_ANY, B(SAH_T_ANY), 50 }, { "of", X_CLAUSE, K_OF_ALL, B(SAH_T_ALL), 50 },
  { "keys", X_CLAUSE, K_KEYS, HASH, 50 }, { "re_keys", X_CLAUSE, K_RE_KEYS, HASH, 51 },
  { "req_keys", X_CLAUSE, K_REQ_KEYS, HASH, 50 }, { "req_all_keys", X_CLAUSE, K_REQ_KEYS, HASH, 50 },
  { "req_all", X_CLAUSE, K_REQ_KEYS, HASH, 50 },
  { "allowed_keys", X_CLAUSE, K_ALLOWED_KEYS, HASH, 50 },
  { "allowed_keys_re", X_CLAUSE, K_ALLOWED_KEYS_RE, HASH, 51 },
  { "forbidden_keys", X_CLAUSE, K_FORBIDDEN_KEYS, HASH, 50 },
  { "forbidden_keys_re", X_CLAUSE, K_FORBIDDEN_KEYS_RE, HASH, 51 },
  { "choose_one_key", X_CLAUSE, K_CHOOSE_ONE_KEY, HASH, 50 }, { "choose_one", X_CLAUSE, K_CHOOSE_ONE_KEY, HASH, 50 },
  { "choose_all_keys", X_CLAUSE, K_CHOOSE_ALL_KEYS, HASH, 50 }, { "choose_all", X_CLAUSE, K_CHOOSE_ALL_KEYS, HASH, 50 },
  { "req_one_key", X_CLAUSE, K_REQ_ONE_KEY, HASH, 50 }, { "req_one", X_CLAUSE, K_REQ_ONE_KEY, HASH, 50 },
  { "req_some_keys", X_CLAUSE, K_REQ_SOME_KEYS, HASH, 50 }, { "req_some", X_CLAUSE, K_REQ_SOME_KEYS, HASH, 50 },
  { "dep_any", X_CLAUSE, K_DEP_ANY, HASH, 50 }, { "dep_all", X_CLAUSE, K_DEP_ALL, HASH, 50 },
  { "req_dep_any", X_CLAUSE, K_REQ_DEP_ANY, HASH, 50 }, { "req_dep_all", X_CLAUSE, K_REQ_DEP_ALL, HASH, 50 },
  { "each_key", X_CLAUSE, K_EACH_INDEX, HASH, 50 }, { "each_value", X_CLAUSE, K_EACH_ELEM, HASH, 50 },
};

static const struct cdef *find_clause(const char *name, size_t n, int type, int *wrong_type)
{
  size_t i;
  *wrong_type = 0;
  for (i = 0; i < sizeof cdefs / sizeof cdefs[0]; i++)
    if (strlen(cdefs[i].name) == n && !memcmp(cdefs[i].name, name, n)) {
      if (cdefs[i].types & B(type)) return &cdefs[i];
      *wrong_type = 1;
    }
  return 0;
}

static void free_cval(struct sah_cval *v)
{
  size_t i;
  free(v->own1);
  free(v->own2);
  if (v->re) pcre2_code_free(v->re);
  sah_free(v->sub);
  for (i = 0; i < v->nsubs; i++) sah_free(v->subs[i]);
  free(v->subs);
  if (v->kres) for (i = 0; i < v->nsubs; i++) if (v->kres[i]) pcre2_code_free(v->kres[i]);
  free(v->kres);
  free(v->keys);
}

static void free_clauses(struct sah_clause *cls, size_t n)
{
  size_t i, j;
  for (i = 0; i < n; i++) {
    for (j = 0; j < cls[i].nv; j++) free_cval(&cls[i].v[j]);
    free(cls[i].v);
  }
  free(cls);
}

void sah_free(sah_schema *s)
{
  if (!s) return;
  free_clauses(s->cls, s->ncls);
  json_decref(s->norm);
  free(s);
}

static pcre2_code *re_compile(const char *pat, size_t n, int caseless, char *err, const char *cl)
{
  int ec;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, n, PCRE2_UTF | PCRE2_UCP | (caseless ? PCRE2_CASELESS : 0), &ec, &off, 0);
  if (!re) {
    PCRE2_UCHAR msg[160];
    pcre2_get_error_message(ec, msg, sizeof msg);
    snprintf(err, SAH_ERRMAX, "invalid regex in clause '%.100s' at offset %zu: %.100s", cl, (size_t)off, (char *)msg);
    return 0;
  }
  pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* best effort */
  return re;
}

static int is_numeric(const json_t *v)
{
  return json_is_number(v) || (json_is_string(v) && sahs_looks_num(json_string_value(v), json_string_length(v)));
}

/* a scalar parameter in the type's terms (min, max, between ends, is) */
static int sort_param(int type, json_t *v, double *d, const char **s, size_t *sn, char **own, char *err, const char *cl)
{
  char buf[64];
  const char *p;
  size_t n;
  if (type == SAH_T_BOOL) { *d = sahs_true(v); return 1; }
  if (B(type) & NUMS) {
    if (!is_numeric(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a number", cl); return 0; }
    *d = sahs_num(v);
    return 1;
  }
  if (!sahs_is_scalar(v) || json_is_boolean(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a string", cl); return 0; }
  n = sahs_str(v, buf, sizeof buf, &p);
  if (type == SAH_T_CISTR) *own = sahs_lc(p, n, &n);
  else if (p == buf) *own = strndup(p, n);
  else *own = 0;
  *s = *own ? *own : p;
  *sn = n;
  return 1;
}

static int get_int(json_t *v, json_int_t *out)
{
  if (json_is_integer(v)) { *out = json_integer_value(v); return 1; }
  if (json_is_real(v) && json_real_value(v) == (double)(json_int_t)json_real_value(v)) { *out = (json_int_t)json_real_value(v); return 1; }
  if (json_is_string(v) && sahs_looks_int(json_string_value(v), json_string_length(v))) { *out = strtoll(json_string_value(v), 0, 10); return 1; }
  return 0;
}

static int str_list(json_t *v, const char ***keys, size_t *n, char *err, const char *cl)
{
  size_t i;
  if (!json_is_array(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs an array of strings", cl); return 0; }
  *n = json_array_size(v);
  *keys = calloc(*n + 1, sizeof **keys);
  for (i = 0; i < *n; i++) {
    if (!json_is_string(json_array_get(v, i))) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs an array of strings", cl); return 0; }
    (*keys)[i] = json_string_value(json_array_get(v, i));
  }
  return 1;
}

static sah_schema *sub_compile(json_t *v, char *err, const char *cl)
{
  char e[SAH_ERRMAX];
  sah_schema *s = sah_compile(v, e);
  if (!s) snprintf(err, SAH_ERRMAX, "in clause '%.60s': %.420s", cl, e);
  return s;
}

static sah_schema *compile_clset(const char *type_name, json_t *clset, char *err, const char *cl)
{
  json_t *sch = json_pack("[s O]", type_name, clset);
  sah_schema *s = sub_compile(sch, err, cl);
  json_decref(sch);
  return s;
}

static int compile_value(int type, const char *type_name, struct sah_clause *c, struct sah_cval *cv, json_t *v, char *err)
{
  const char *cl = c->name;
  cv->j = v;
  switch (c->kind) {
  case K_OK: case K_REQ: case K_FORBIDDEN: case K_UNIQ: case K_IS_RE:
    cv->i1 = sahs_true(v);
    return 1;
  case K_IS_TRUE: case K_IS_NAN: case K_IS_INF: case K_IS_POS_INF: case K_IS_NEG_INF:
    cv->i1 = sahs_true(v);
    cv->i2 = !v || json_is_null(v); /* undef: no constraint */
    return 1;
  case K_IN:
    if (!json_is_array(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs an array", cl); return 0; }
    return 1;
  case K_IS:
    if (B(type) & (NUMS | STRS | B(SAH_T_BOOL)))
      return sort_param(type, v, &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl);
    return 1;
  case K_MIN: case K_XMIN: case K_MAX: case K_XMAX:
    return sort_param(type, v, &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl);
  case K_BETWEEN: case K_XBETWEEN:
    if (!json_is_array(v) || json_array_size(v) != 2) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a [min, max] pair", cl); return 0; }
    return sort_param(type, json_array_get(v, 0), &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl)
        && sort_param(type, json_array_get(v, 1), &cv->d2, &cv->s2, &cv->s2len, &cv->own2, err, cl);
  case K_LEN: case K_MIN_LEN: case K_MAX_LEN:
    if (!is_numeric(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a number", cl); return 0; }
    cv->d1 = sahs_num(v);
    return 1;
  case K_LEN_BETWEEN:
    if (!json_is_array(v) || json_array_size(v) != 2 || !is_numeric(json_array_get(v, 0)) || !is_numeric(json_array_get(v, 1))) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a [min, max] pair of numbers", cl); return 0;
    }
    cv->d1 = sahs_num(json_array_get(v, 0));
    cv->d2 = sahs_num(json_array_get(v, 1));
    return 1;
  case K_HAS:
    if (B(type) & STRS) {
      if (!sahs_is_scalar(v) || json_is_boolean(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a string", cl); return 0; }
      return sort_param(type, v, &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl);
    }
    return 1;
  case K_EACH_ELEM: case K_EACH_INDEX: case K_EXISTS:
    return (cv->sub = sub_compile(v, err, cl)) != 0;
  case K_MOD:
    if (!json_is_array(v) || json_array_size(v) != 2 || !get_int(json_array_get(v, 0), &cv->i1) || !get_int(json_array_get(v, 1), &cv->i2)) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a [divisor, remainder] pair of integers", cl); return 0;
    }
    if (!cv->i1) { snprintf(err, SAH_ERRMAX, "clause '%.100s': division by zero", cl); return 0; }
    return 1;
  case K_DIV_BY:
    if (!get_int(v, &cv->i1)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs an integer", cl); return 0; }
    if (!cv->i1) { snprintf(err, SAH_ERRMAX, "clause '%.100s': division by zero", cl); return 0; }
    return 1;
  case K_MATCH: case K_ALLOWED_KEYS_RE: case K_FORBIDDEN_KEYS_RE: {
    json_t *p = v;
    if (json_is_object(v)) p = json_object_get(v, "perl");
    if (!json_is_string(p)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a regex string", cl); return 0; }
    cv->s = json_string_value(p);
    cv->slen = json_string_length(p);
    return (cv->re = re_compile(cv->s, cv->slen, type == SAH_T_CISTR && c->kind == K_MATCH, err, cl)) != 0;
  }
  case K_ELEMS: case K_OF_ANY: case K_OF_ALL: {
    size_t i;
    if (!json_is_array(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs an array of schemas", cl); return 0; }
    cv->nsubs = json_array_size(v);
    cv->subs = calloc(cv->nsubs + 1, sizeof *cv->subs);
    for (i = 0; i < cv->nsubs; i++)
      if (!(cv->subs[i] = sub_compile(json_array_get(v, i), err, cl))) return 0;
    return 1;
  }
  case K_KEYS: case K_RE_KEYS: {
    const char *k;
    json_t *x;
    size_t i = 0;
    if (!json_is_object(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a hash of schemas", cl); return 0; }
    cv->nsubs = json_object_size(v);
    cv->subs = calloc(cv->nsubs + 1, sizeof *cv->subs);
    cv->keys = calloc(cv->nsubs + 1, sizeof *cv->keys);
    if (c->kind == K_RE_KEYS) cv->kres = calloc(cv->nsubs + 1, sizeof *cv->kres);
    json_object_foreach(v, k, x) {
      cv->keys[i] = k;
      if (c->kind == K_RE_KEYS && !(cv->kres[i] = re_compile(k, strlen(k), 0, err, cl))) return 0;
      if (!(cv->subs[i] = sub_compile(x, err, cl))) return 0;
      i++;
    }
    return 1;
  }
  case K_REQ_KEYS: case K_ALLOWED_KEYS: case K_FORBIDDEN_KEYS: case K_CHOOSE_ONE_KEY:
  case K_CHOOSE_ALL_KEYS: case K_REQ_ONE_KEY:
    return str_list(v, &cv->keys, &cv->nkeys, err, cl);
  case K_REQ_SOME_KEYS:
    if (!json_is_array(v) || json_array_size(v) != 3 || !get_int(json_array_get(v, 0), &cv->i1) || !get_int(json_array_get(v, 1), &cv->i2)) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs [min, max, [keys]]", cl); return 0;
    }
    return str_list(json_array_get(v, 2), &cv->keys, &cv->nkeys, err, cl);
  case K_DEP_ANY: case K_DEP_ALL: case K_REQ_DEP_ANY: case K_REQ_DEP_ALL:
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(json_array_get(v, 0))) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs [key, [keys]]", cl); return 0;
    }
    cv->s = json_string_value(json_array_get(v, 0));
    return str_list(json_array_get(v, 1), &cv->keys, &cv->nkeys, err, cl);
  case K_PROP: {
    const char *p;
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(json_array_get(v, 0))) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs [property, schema]", cl); return 0;
    }
    p = json_string_value(json_array_get(v, 0));
    if (!strcmp(p, "len")) cv->prop = P_LEN;
    else if (!strcmp(p, "elems") || (type == SAH_T_HASH && !strcmp(p, "values"))) cv->prop = P_ELEMS;
    else if (!strcmp(p, "indices") || (type == SAH_T_HASH && !strcmp(p, "keys"))) cv->prop = P_INDICES;
    else { snprintf(err, SAH_ERRMAX, "unknown property '%.100s' for type '%.100s'", p, type_name); return 0; }
    return (cv->sub = sub_compile(json_array_get(v, 1), err, cl)) != 0;
  }
  case K_CLAUSE: {
    json_t *cs;
    if (!json_is_array(v) || json_array_size(v) != 2 || !json_is_string(json_array_get(v, 0))) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs [clause, value]", cl); return 0;
    }
    cs = json_object();
    json_object_set(cs, json_string_value(json_array_get(v, 0)), json_array_get(v, 1));
    cv->sub = compile_clset(type_name, cs, err, cl);
    json_decref(cs);
    return cv->sub != 0;
  }
  case K_CLSET:
    if (!json_is_object(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' needs a clause set (hash)", cl); return 0; }
    return (cv->sub = compile_clset(type_name, v, err, cl)) != 0;
  }
  snprintf(err, SAH_ERRMAX, "internal: clause '%.100s' has no compiler", cl);
  return 0;
}

/* is ATTR (the part after "clause.") an attribute we accept? */
static int attr_ok(const struct cdef *d, const char *a)
{
  static const char *gen[] = { "op", "err_level", "err_msg", "human", "alt", "prio", "is_expr", "result_var", "c", "x", "summary", "description", 0 };
  size_t i, n = strcspn(a, ".");
  if (a[0] == '_') return 1;
  for (i = 0; gen[i]; i++)
    if (strlen(gen[i]) == n && !memcmp(gen[i], a, n)) {
      /* err_msg.alt..., human.alt..., c.X, x.X, alt.X have sub-parts; the rest are plain */
      if (a[n] && strcmp(gen[i], "err_msg") && strcmp(gen[i], "human") && strcmp(gen[i], "alt") && strcmp(gen[i], "c") && strcmp(gen[i], "x"))
        return 0;
      return 1;
    }
  if (d->kind == K_KEYS && (!strcmp(a, "restrict") || !strcmp(a, "create_default"))) return 1;
  if (d->kind == K_RE_KEYS && !strcmp(a, "restrict")) return 1;
  if (d->kind == K_ELEMS && !strcmp(a, "create_default")) return 1;
  if (!strcmp(d->name, "default") && !strcmp(a, "temp")) return 1;
  return 0;
}

static int by_prio(const void *a, const void *b)
{
  const struct sah_clause *x = a, *y = b;
  if (x->prio != y->prio) return x->prio - y->prio;
  return strcmp(x->name, y->name);
}

static int type_of(const char *name, char *err)
{
  size_t i;
  for (i = 0; i < sizeof types / sizeof types[0]; i++)
    if (!strcmp(types[i].name, name)) return (int)i;
  if (!strcmp(name, "obj"))
    snprintf(err, SAH_ERRMAX, "type 'obj' needs Perl objects, not supported");
  else
    snprintf(err, SAH_ERRMAX, "unknown type '%.100s'", name);
  return -1;
}

sah_schema *sah_compile(json_t *schema, char *err)
{
  json_t *norm = sah_normalize(schema, err), *cs, *v, *extras;
  const char *k;
  sah_schema *s;
  size_t n;
  int type;

  if (!norm) return 0;
  type = type_of(json_string_value(json_array_get(norm, 0)), err);
  if (type < 0) { json_decref(norm); return 0; }
  extras = json_array_get(norm, 2);
  if (json_object_size(extras)) {
    snprintf(err, SAH_ERRMAX, "schema extras (base schema definitions) are not supported");
    json_decref(norm);
    return 0;
  }
  s = calloc(1, sizeof *s);
  s->type = type;
  s->norm = norm;
  s->type_name = json_string_value(json_array_get(norm, 0));
  cs = json_array_get(norm, 1);
  s->cls = calloc(json_object_size(cs) + 1, sizeof *s->cls);

  /* pass 1: every key is a clause (no dot) or an attribute (dot) */
  json_object_foreach(cs, k, v) {
    size_t cn = strcspn(k, ".");
    const struct cdef *d;
    int wrong;
    char tmp[300];
    if (k[0] == '_' || cn == 0) continue;              /* ignored, or attribute of the clause "" */
    if ((cn == 1 && (k[0] == 'c' || k[0] == 'x'))) continue; /* compiler options, extra data */
    if (cn == 5 && !strncmp(k, "merge", 5) && k[5] == '.') {
      snprintf(err, SAH_ERRMAX, "merge prefix in '%.100s' needs a base schema, not supported", k);
      goto fail;
    }
    d = find_clause(k, cn, type, &wrong);
    if (!d) {
      snprintf(tmp, sizeof tmp, "%.*s", (int)cn, k);
      if (k[cn] && k[cn + 1] == '_' && !json_object_get(cs, tmp)) continue; /* "foo._bar" only */
      if (wrong) snprintf(err, SAH_ERRMAX, "clause '%.100s' does not apply to type '%.100s'", tmp, s->type_name);
      else snprintf(err, SAH_ERRMAX, "unknown clause '%.100s' for type '%.100s'", tmp, s->type_name);
      goto fail;
    }
    if (k[cn]) {                                        /* an attribute */
      snprintf(tmp, sizeof tmp, "%.*s", (int)cn, k);
      if (!attr_ok(d, k + cn + 1)) {
        snprintf(err, SAH_ERRMAX, "unknown attribute '%.100s' of clause '%.100s'", k + cn + 1, tmp);
        goto fail;
      }
      if (!strcmp(k + cn + 1, "is_expr") && sahs_true(v)) {
        snprintf(err, SAH_ERRMAX, "expression in clause '%.100s' needs Perl, not supported", tmp);
        goto fail;
      }
      if (!json_object_get(cs, tmp) && strncmp(k + cn + 1, "_", 1)) {
        snprintf(err, SAH_ERRMAX, "attribute '%.100s' given without its clause '%.100s'", k, tmp);
        goto fail;
      }
      continue;
    }
    if (d->what == X_PERL) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' needs Perl (expressions or filters), not supported", d->name);
      goto fail;
    }
    if (d->what == X_UNSUP) {
      snprintf(err, SAH_ERRMAX, "clause '%.100s' is not supported", d->name);
      goto fail;
    }
    if (!strcmp(d->name, "default")) { if (!json_is_null(v)) s->def = v; continue; }
    if (!strcmp(d->name, "encoding") && !(json_is_string(v) && !strcmp(json_string_value(v), "utf8"))) {
      snprintf(err, SAH_ERRMAX, "clause 'encoding': only 'utf8' is supported");
      goto fail;
    }
    if (d->what == X_META) continue;
    {
      struct sah_clause *c = &s->cls[s->ncls++];
      json_t *a;
      char an[300];
      c->kind = d->kind;
      c->prio = d->prio;
      c->name = d->name;
      c->restrict_keys = 1;
      c->create_default = 1;
      c->op = OP_SINGLE;
      c->level = LV_ERROR;
      snprintf(an, sizeof an, "%s.op", k);
      if ((a = json_object_get(cs, an))) {
        const char *o = json_string_value(a);
        if (!o) o = "";
        if (!strcmp(o, "not")) c->op = OP_NOT;
        else if (!strcmp(o, "and")) c->op = OP_AND;
        else if (!strcmp(o, "or")) c->op = OP_OR;
        else if (!strcmp(o, "none")) c->op = OP_NONE;
        else { snprintf(err, SAH_ERRMAX, "invalid op '%.50s' for clause '%.100s'", o, k); goto fail; }
      }
      if (c->kind == K_OK && c->op != OP_SINGLE && c->op != OP_NOT) {
        snprintf(err, SAH_ERRMAX, "clause 'ok' can only be combined with op=not"); goto fail;
      }
      snprintf(an, sizeof an, "%s.err_level", k);
      if ((a = json_object_get(cs, an))) {
        const char *l = json_string_value(a);
        if (!l) l = "";
        if (!strcmp(l, "warn")) c->level = LV_WARN;
        else if (!strcmp(l, "fatal")) c->level = LV_FATAL;
        else if (strcmp(l, "error")) { snprintf(err, SAH_ERRMAX, "invalid err_level '%.50s' for clause '%.100s'", l, k); goto fail; }
      }
      snprintf(an, sizeof an, "%s.err_msg", k);
      c->err_msg = json_string_value(json_object_get(cs, an));
      snprintf(an, sizeof an, "%s.restrict", k);
      if ((a = json_object_get(cs, an))) c->restrict_keys = sahs_true(a);
      snprintf(an, sizeof an, "%s.create_default", k);
      if ((a = json_object_get(cs, an))) c->create_default = sahs_true(a);
      snprintf(an, sizeof an, "%s.prio", k);
      if ((a = json_object_get(cs, an)) && json_is_integer(a) && d->prio == 50) c->prio = (int)json_integer_value(a);

      if ((c->kind == K_REQ || c->kind == K_FORBIDDEN) && c->op != OP_SINGLE) {
        snprintf(err, SAH_ERRMAX, "op on clause '%.100s' is not supported", k); goto fail;
      }
      if (c->op == OP_AND || c->op == OP_OR || c->op == OP_NONE) {
        size_t i;
        if (!json_is_array(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' with op=and/or/none needs an array of values", k); goto fail; }
        c->nv = json_array_size(v);
        c->v = calloc(c->nv + 1, sizeof *c->v);
        for (i = 0; i < c->nv; i++)
          if (!compile_value(type, s->type_name, c, &c->v[i], json_array_get(v, i), err)) goto fail;
      } else {
        c->nv = 1;
        c->v = calloc(1, sizeof *c->v);
        if (!compile_value(type, s->type_name, c, &c->v[0], v, err)) goto fail;
      }
      /* req/forbidden/!ok are decided before the type check */
      if (c->kind == K_REQ && c->v[0].i1) s->req = 1;
      if (c->kind == K_FORBIDDEN && c->v[0].i1) s->forbidden = 1;
      if (c->kind == K_OK && c->op == OP_NOT) s->not_ok = 1;
    }
  }
  n = s->ncls;
  qsort(s->cls, n, sizeof *s->cls, by_prio);
  return s;
fail:
  sah_free(s);
  return 0;
}
