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

/* rows of cdefs: metadata (accepted, no effect on validation), Perl-only
 * and unsupported (refused), constraint clauses (priority 50 unless given) */
#define META(n, t) { n, X_META, 0, t, 0 }
#define PERL(n, t) { n, X_PERL, 0, t, 0 }
#define UNSUP(n, t) { n, X_UNSUP, 0, t, 0 }
#define C(n, k, t) { n, X_CLAUSE, k, t, 50 }
#define CP(n, k, t, p) { n, X_CLAUSE, k, t, p }

static const struct cdef {
  const char *name;
  int what, kind;
  unsigned types;
  int prio;
} cdefs[] = {
  META("v", ALL_T), META("defhash_v", ALL_T), META("schema_v", ALL_T), META("base_v", ALL_T),
  META("default_lang", ALL_T), META("name", ALL_T), META("summary", ALL_T),
  META("description", ALL_T), META("tags", ALL_T), META("comment", ALL_T),
  META("examples", ALL_T), META("encoding", STRS), /* "utf8" only, checked */
  /* handled before the type check */
  CP("ok", K_OK, ALL_T, 0), CP("req", K_REQ, ALL_T, 3), CP("forbidden", K_FORBIDDEN, ALL_T, 3),
  { "default", X_META, 0, ALL_T, 1 },
  PERL("check", ALL_T), PERL("check_prop", ALL_T), PERL("check_each_elem", ELEMS),
  PERL("check_each_index", ELEMS), PERL("check_each_key", HASH), PERL("check_each_value", HASH),
  PERL("check_exists", ELEMS), PERL("prefilters", ALL_T), PERL("postfilters", ALL_T),
  UNSUP("if", ALL_T), UNSUP("if_clause", ALL_T), UNSUP("if_cset", ALL_T),
  UNSUP("if_elem", ELEMS), UNSUP("if_elem_re", ELEMS),
  /* constraints */
  C("clause", K_CLAUSE, ALL_T), C("clset", K_CLSET, ALL_T), C("cset", K_CLSET, ALL_T),
  C("prop", K_PROP, ELEMS), C("in", K_IN, CMP), C("is", K_IS, CMP),
  C("min", K_MIN, SORT), C("xmin", K_XMIN, SORT), C("max", K_MAX, SORT), C("xmax", K_XMAX, SORT),
  C("between", K_BETWEEN, SORT), C("xbetween", K_XBETWEEN, SORT),
  C("len", K_LEN, ELEMS), C("min_len", K_MIN_LEN, ELEMS), C("max_len", K_MAX_LEN, ELEMS),
  C("len_between", K_LEN_BETWEEN, ELEMS), C("has", K_HAS, ELEMS), C("each_elem", K_EACH_ELEM, ELEMS),
  C("each_index", K_EACH_INDEX, ELEMS), C("exists", K_EXISTS, ELEMS), C("uniq", K_UNIQ, ELEMS),
  C("mod", K_MOD, B(SAH_T_INT)), C("div_by", K_DIV_BY, B(SAH_T_INT)),
  C("is_nan", K_IS_NAN, B(SAH_T_FLOAT)), C("is_inf", K_IS_INF, B(SAH_T_FLOAT)),
  C("is_pos_inf", K_IS_POS_INF, B(SAH_T_FLOAT)), C("is_neg_inf", K_IS_NEG_INF, B(SAH_T_FLOAT)),
  C("match", K_MATCH, STRS), C("is_re", K_IS_RE, STRS), C("is_true", K_IS_TRUE, B(SAH_T_BOOL)),
  C("elems", K_ELEMS, B(SAH_T_ARRAY)), C("of", K_EACH_ELEM, B(SAH_T_ARRAY) | HASH),
  C("of", K_OF_ANY, B(SAH_T_ANY)), C("of", K_OF_ALL, B(SAH_T_ALL)),
  C("keys", K_KEYS, HASH), CP("re_keys", K_RE_KEYS, HASH, 51),
  C("req_keys", K_REQ_KEYS, HASH), C("req_all_keys", K_REQ_KEYS, HASH), C("req_all", K_REQ_KEYS, HASH),
  C("allowed_keys", K_ALLOWED_KEYS, HASH), CP("allowed_keys_re", K_ALLOWED_KEYS_RE, HASH, 51),
  C("forbidden_keys", K_FORBIDDEN_KEYS, HASH), CP("forbidden_keys_re", K_FORBIDDEN_KEYS_RE, HASH, 51),
  C("choose_one_key", K_CHOOSE_ONE_KEY, HASH), C("choose_one", K_CHOOSE_ONE_KEY, HASH),
  C("choose_all_keys", K_CHOOSE_ALL_KEYS, HASH), C("choose_all", K_CHOOSE_ALL_KEYS, HASH),
  C("req_one_key", K_REQ_ONE_KEY, HASH), C("req_one", K_REQ_ONE_KEY, HASH),
  C("req_some_keys", K_REQ_SOME_KEYS, HASH), C("req_some", K_REQ_SOME_KEYS, HASH),
  C("dep_any", K_DEP_ANY, HASH), C("dep_all", K_DEP_ALL, HASH),
  C("req_dep_any", K_REQ_DEP_ANY, HASH), C("req_dep_all", K_REQ_DEP_ALL, HASH),
  C("each_key", K_EACH_INDEX, HASH), C("each_value", K_EACH_ELEM, HASH),
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

/* "clause 'CL' needs WHAT" into err; returns 0 */
static int needs(char *err, const char *cl, const char *what)
{
  snprintf(err, SAH_ERRMAX, "clause '%.100s' needs %s", cl, what);
  return 0;
}

/* a scalar parameter in the type's terms (min, max, between ends, is) */
static int sort_param(int type, json_t *v, double *d, const char **s, size_t *sn, char **own, char *err, const char *cl)
{
  char buf[64];
  const char *p;
  size_t n;
  if (type == SAH_T_BOOL) { *d = sahs_true(v); return 1; }
  if (B(type) & NUMS) {
    if (!is_numeric(v)) return needs(err, cl, "a number");
    *d = sahs_num(v);
    return 1;
  }
  if (!sahs_is_scalar(v) || json_is_boolean(v)) return needs(err, cl, "a string");
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

/* is v an array of n elements? */
static int is_tuple(json_t *v, size_t n) { return json_is_array(v) && json_array_size(v) == n; }

static int str_list(json_t *v, const char ***keys, size_t *n, char *err, const char *cl)
{
  size_t i;
  if (!json_is_array(v)) return needs(err, cl, "an array of strings");
  *n = json_array_size(v);
  *keys = calloc(*n + 1, sizeof **keys);
  for (i = 0; i < *n; i++) {
    if (!json_is_string(json_array_get(v, i))) return needs(err, cl, "an array of strings");
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

/* a divisor: an integer, not zero (mod, div_by) */
static int divisor(json_int_t d, char *err, const char *cl)
{
  if (d) return 1;
  snprintf(err, SAH_ERRMAX, "clause '%.100s': division by zero", cl);
  return 0;
}

/* The compilers of one family of clause values, for compile_value: each
 * fills cv from v; returns 1, or 0 with the reason in err. */

/* the clauses whose values are truths, numbers or strings */
static int compile_param(int type, const struct sah_clause *c, struct sah_cval *cv, json_t *v, char *err)
{
  const char *cl = c->name;
  switch (c->kind) {
  case K_OK: case K_REQ: case K_FORBIDDEN: case K_UNIQ: case K_IS_RE:
    cv->i1 = sahs_true(v);
    return 1;
  case K_IS_TRUE: case K_IS_NAN: case K_IS_INF: case K_IS_POS_INF: case K_IS_NEG_INF:
    cv->i1 = sahs_true(v);
    cv->i2 = !v || json_is_null(v); /* undef: no constraint */
    return 1;
  case K_IN:
    return json_is_array(v) ? 1 : needs(err, cl, "an array");
  case K_IS:
    if (B(type) & (NUMS | STRS | B(SAH_T_BOOL)))
      return sort_param(type, v, &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl);
    return 1;
  case K_MIN: case K_XMIN: case K_MAX: case K_XMAX:
    return sort_param(type, v, &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl);
  case K_BETWEEN: case K_XBETWEEN:
    if (!is_tuple(v, 2)) return needs(err, cl, "a [min, max] pair");
    return sort_param(type, json_array_get(v, 0), &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl)
        && sort_param(type, json_array_get(v, 1), &cv->d2, &cv->s2, &cv->s2len, &cv->own2, err, cl);
  case K_LEN: case K_MIN_LEN: case K_MAX_LEN:
    if (!is_numeric(v)) return needs(err, cl, "a number");
    cv->d1 = sahs_num(v);
    return 1;
  case K_LEN_BETWEEN:
    if (!is_tuple(v, 2) || !is_numeric(json_array_get(v, 0)) || !is_numeric(json_array_get(v, 1)))
      return needs(err, cl, "a [min, max] pair of numbers");
    cv->d1 = sahs_num(json_array_get(v, 0));
    cv->d2 = sahs_num(json_array_get(v, 1));
    return 1;
  case K_HAS:
    if (!(B(type) & STRS)) return 1;
    if (!sahs_is_scalar(v) || json_is_boolean(v)) return needs(err, cl, "a string");
    return sort_param(type, v, &cv->d1, &cv->s, &cv->slen, &cv->own1, err, cl);
  case K_MOD:
    if (!is_tuple(v, 2) || !get_int(json_array_get(v, 0), &cv->i1) || !get_int(json_array_get(v, 1), &cv->i2))
      return needs(err, cl, "a [divisor, remainder] pair of integers");
    return divisor(cv->i1, err, cl);
  case K_DIV_BY:
    if (!get_int(v, &cv->i1)) return needs(err, cl, "an integer");
    return divisor(cv->i1, err, cl);
  }
  snprintf(err, SAH_ERRMAX, "internal: clause '%.100s' has no compiler", cl);
  return 0;
}

/* match, allowed_keys_re, forbidden_keys_re: a regex (a string, or {perl => string}) */
static int compile_regex(int type, const struct sah_clause *c, struct sah_cval *cv, json_t *v, char *err)
{
  json_t *p = v;
  if (json_is_object(v)) p = json_object_get(v, "perl");
  if (!json_is_string(p)) return needs(err, c->name, "a regex string");
  cv->s = json_string_value(p);
  cv->slen = json_string_length(p);
  return (cv->re = re_compile(cv->s, cv->slen, type == SAH_T_CISTR && c->kind == K_MATCH, err, c->name)) != 0;
}

/* elems, of (any, all): an array of schemas */
static int compile_schemas(struct sah_cval *cv, json_t *v, char *err, const char *cl)
{
  size_t i;
  if (!json_is_array(v)) return needs(err, cl, "an array of schemas");
  cv->nsubs = json_array_size(v);
  cv->subs = calloc(cv->nsubs + 1, sizeof *cv->subs);
  for (i = 0; i < cv->nsubs; i++)
    if (!(cv->subs[i] = sub_compile(json_array_get(v, i), err, cl))) return 0;
  return 1;
}

/* keys, re_keys: a hash of key names (regexes) to schemas */
static int compile_key_schemas(const struct sah_clause *c, struct sah_cval *cv, json_t *v, char *err)
{
  const char *k, *cl = c->name;
  json_t *x;
  size_t i = 0;
  if (!json_is_object(v)) return needs(err, cl, "a hash of schemas");
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

/* req_keys ... req_some_keys, dep_* and req_dep_*: lists of key names */
static int compile_key_list(const struct sah_clause *c, struct sah_cval *cv, json_t *v, char *err)
{
  const char *cl = c->name;
  switch (c->kind) {
  case K_REQ_SOME_KEYS:
    if (!is_tuple(v, 3) || !get_int(json_array_get(v, 0), &cv->i1) || !get_int(json_array_get(v, 1), &cv->i2))
      return needs(err, cl, "[min, max, [keys]]");
    return str_list(json_array_get(v, 2), &cv->keys, &cv->nkeys, err, cl);
  case K_DEP_ANY: case K_DEP_ALL: case K_REQ_DEP_ANY: case K_REQ_DEP_ALL:
    if (!is_tuple(v, 2) || !json_is_string(json_array_get(v, 0))) return needs(err, cl, "[key, [keys]]");
    cv->s = json_string_value(json_array_get(v, 0));
    return str_list(json_array_get(v, 1), &cv->keys, &cv->nkeys, err, cl);
  default:
    return str_list(v, &cv->keys, &cv->nkeys, err, cl);
  }
}

/* prop: [property, schema] */
static int compile_prop(int type, const char *type_name, struct sah_cval *cv, json_t *v, char *err, const char *cl)
{
  const char *p;
  if (!is_tuple(v, 2) || !json_is_string(json_array_get(v, 0))) return needs(err, cl, "[property, schema]");
  p = json_string_value(json_array_get(v, 0));
  if (!strcmp(p, "len")) cv->prop = P_LEN;
  else if (!strcmp(p, "elems") || (type == SAH_T_HASH && !strcmp(p, "values"))) cv->prop = P_ELEMS;
  else if (!strcmp(p, "indices") || (type == SAH_T_HASH && !strcmp(p, "keys"))) cv->prop = P_INDICES;
  else { snprintf(err, SAH_ERRMAX, "unknown property '%.100s' for type '%.100s'", p, type_name); return 0; }
  return (cv->sub = sub_compile(json_array_get(v, 1), err, cl)) != 0;
}

/* clause: [clause, value], as the clause set {clause: value} of the same type */
static int compile_clause(const char *type_name, struct sah_cval *cv, json_t *v, char *err, const char *cl)
{
  json_t *cs;
  if (!is_tuple(v, 2) || !json_is_string(json_array_get(v, 0))) return needs(err, cl, "[clause, value]");
  cs = json_object();
  json_object_set(cs, json_string_value(json_array_get(v, 0)), json_array_get(v, 1));
  cv->sub = compile_clset(type_name, cs, err, cl);
  json_decref(cs);
  return cv->sub != 0;
}

/* one value of clause c (v) into cv; returns 1, or 0 with err */
static int compile_value(int type, const char *type_name, struct sah_clause *c, struct sah_cval *cv, json_t *v, char *err)
{
  const char *cl = c->name;
  cv->j = v;
  switch (c->kind) {
  case K_MATCH: case K_ALLOWED_KEYS_RE: case K_FORBIDDEN_KEYS_RE:
    return compile_regex(type, c, cv, v, err);
  case K_EACH_ELEM: case K_EACH_INDEX: case K_EXISTS:
    return (cv->sub = sub_compile(v, err, cl)) != 0;
  case K_ELEMS: case K_OF_ANY: case K_OF_ALL:
    return compile_schemas(cv, v, err, cl);
  case K_KEYS: case K_RE_KEYS:
    return compile_key_schemas(c, cv, v, err);
  case K_REQ_KEYS: case K_ALLOWED_KEYS: case K_FORBIDDEN_KEYS: case K_CHOOSE_ONE_KEY:
  case K_CHOOSE_ALL_KEYS: case K_REQ_ONE_KEY: case K_REQ_SOME_KEYS:
  case K_DEP_ANY: case K_DEP_ALL: case K_REQ_DEP_ANY: case K_REQ_DEP_ALL:
    return compile_key_list(c, cv, v, err);
  case K_PROP:
    return compile_prop(type, type_name, cv, v, err, cl);
  case K_CLAUSE:
    return compile_clause(type_name, cv, v, err, cl);
  case K_CLSET:
    if (!json_is_object(v)) return needs(err, cl, "a clause set (hash)");
    return (cv->sub = compile_clset(type_name, v, err, cl)) != 0;
  default:
    return compile_param(type, c, cv, v, err);
  }
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

/* the attribute KEY.ATTR in clause set cs, or NULL */
static json_t *attr_get(json_t *cs, const char *k, const char *attr)
{
  char an[300];
  snprintf(an, sizeof an, "%s.%s", k, attr);
  return json_object_get(cs, an);
}

static const char *const op_words[] = { [OP_NOT] = "not", [OP_AND] = "and", [OP_OR] = "or", [OP_NONE] = "none" };
static const char *const level_words[] = { [LV_ERROR] = "error", [LV_WARN] = "warn", [LV_FATAL] = "fatal" };

/* the attribute KEY.ATTR, when given, as the index of its word in words
 * (n of them, NULL ones never match) into *out; returns 1, or 0 with err
 * when it is none of them */
static int attr_word(json_t *cs, const char *k, const char *attr, const char *const *words, int n, int *out, char *err)
{
  json_t *a = attr_get(cs, k, attr);
  const char *w;
  int i;
  if (!a) return 1;
  w = json_string_value(a);
  if (!w) w = "";
  for (i = 0; i < n; i++)
    if (words[i] && !strcmp(w, words[i])) { *out = i; return 1; }
  snprintf(err, SAH_ERRMAX, "invalid %s '%.50s' for clause '%.100s'", attr, w, k);
  return 0;
}

/* the attribute k (of clause cname, cn bytes of k) with value v: known,
 * no Perl expression, its clause present; returns 1, or 0 with err */
static int attr_check(const struct cdef *d, json_t *cs, const char *k, size_t cn, const char *cname, json_t *v, char *err)
{
  const char *a = k + cn + 1;
  if (!attr_ok(d, a)) {
    snprintf(err, SAH_ERRMAX, "unknown attribute '%.100s' of clause '%.100s'", a, cname);
    return 0;
  }
  if (!strcmp(a, "is_expr") && sahs_true(v)) {
    snprintf(err, SAH_ERRMAX, "expression in clause '%.100s' needs Perl, not supported", cname);
    return 0;
  }
  if (!json_object_get(cs, cname) && strncmp(a, "_", 1)) {
    snprintf(err, SAH_ERRMAX, "attribute '%.100s' given without its clause '%.100s'", k, cname);
    return 0;
  }
  return 1;
}

/* what the key k (value v) of clause set cs is: 1 a constraint clause to
 * compile (its definition in *dp); 0 nothing to compile (ignored, an
 * attribute, metadata, the default: kept in s->def); -1 refused, with err */
static int clause_key(sah_schema *s, json_t *cs, const char *k, json_t *v, const struct cdef **dp, char *err)
{
  size_t cn = strcspn(k, ".");
  const struct cdef *d;
  int wrong;
  char cname[300];
  if (k[0] == '_' || cn == 0) return 0;              /* ignored, or attribute of the clause "" */
  if ((cn == 1 && (k[0] == 'c' || k[0] == 'x'))) return 0; /* compiler options, extra data */
  if (cn == 5 && !strncmp(k, "merge", 5) && k[5] == '.') {
    snprintf(err, SAH_ERRMAX, "merge prefix in '%.100s' needs a base schema, not supported", k);
    return -1;
  }
  d = find_clause(k, cn, s->type, &wrong);
  snprintf(cname, sizeof cname, "%.*s", (int)cn, k);
  if (!d) {
    if (k[cn] && k[cn + 1] == '_' && !json_object_get(cs, cname)) return 0; /* "foo._bar" only */
    if (wrong) snprintf(err, SAH_ERRMAX, "clause '%.100s' does not apply to type '%.100s'", cname, s->type_name);
    else snprintf(err, SAH_ERRMAX, "unknown clause '%.100s' for type '%.100s'", cname, s->type_name);
    return -1;
  }
  if (k[cn]) return attr_check(d, cs, k, cn, cname, v, err) ? 0 : -1;
  if (d->what == X_PERL) {
    snprintf(err, SAH_ERRMAX, "clause '%.100s' needs Perl (expressions or filters), not supported", d->name);
    return -1;
  }
  if (d->what == X_UNSUP) {
    snprintf(err, SAH_ERRMAX, "clause '%.100s' is not supported", d->name);
    return -1;
  }
  if (!strcmp(d->name, "default")) { if (!json_is_null(v)) s->def = v; return 0; }
  if (!strcmp(d->name, "encoding") && !(json_is_string(v) && !strcmp(json_string_value(v), "utf8"))) {
    snprintf(err, SAH_ERRMAX, "clause 'encoding': only 'utf8' is supported");
    return -1;
  }
  if (d->what == X_META) return 0;
  *dp = d;
  return 1;
}

/* the values of clause c (k: v): an array of them with op and/or/none, one
 * value otherwise; returns 1, or 0 with err */
static int clause_values(sah_schema *s, struct sah_clause *c, const char *k, json_t *v, char *err)
{
  size_t i;
  if (c->op == OP_AND || c->op == OP_OR || c->op == OP_NONE) {
    if (!json_is_array(v)) { snprintf(err, SAH_ERRMAX, "clause '%.100s' with op=and/or/none needs an array of values", k); return 0; }
    c->nv = json_array_size(v);
    c->v = calloc(c->nv + 1, sizeof *c->v);
    for (i = 0; i < c->nv; i++)
      if (!compile_value(s->type, s->type_name, c, &c->v[i], json_array_get(v, i), err)) return 0;
    return 1;
  }
  c->nv = 1;
  c->v = calloc(1, sizeof *c->v);
  return compile_value(s->type, s->type_name, c, &c->v[0], v, err);
}

/* the constraint clause k (definition d, value v) of clause set cs, with
 * its attributes, added to s; returns 1, or 0 with err */
static int clause_add(sah_schema *s, const struct cdef *d, json_t *cs, const char *k, json_t *v, char *err)
{
  struct sah_clause *c = &s->cls[s->ncls++];
  json_t *a;
  c->kind = d->kind;
  c->prio = d->prio;
  c->name = d->name;
  c->restrict_keys = 1;
  c->create_default = 1;
  c->op = OP_SINGLE;
  c->level = LV_ERROR;
  if (!attr_word(cs, k, "op", op_words, sizeof op_words / sizeof op_words[0], &c->op, err)) return 0;
  if (c->kind == K_OK && c->op != OP_SINGLE && c->op != OP_NOT) {
    snprintf(err, SAH_ERRMAX, "clause 'ok' can only be combined with op=not"); return 0;
  }
  if (!attr_word(cs, k, "err_level", level_words, sizeof level_words / sizeof level_words[0], &c->level, err)) return 0;
  c->err_msg = json_string_value(attr_get(cs, k, "err_msg"));
  if ((a = attr_get(cs, k, "restrict"))) c->restrict_keys = sahs_true(a);
  if ((a = attr_get(cs, k, "create_default"))) c->create_default = sahs_true(a);
  if ((a = attr_get(cs, k, "prio")) && json_is_integer(a) && d->prio == 50) c->prio = (int)json_integer_value(a);
  if ((c->kind == K_REQ || c->kind == K_FORBIDDEN) && c->op != OP_SINGLE) {
    snprintf(err, SAH_ERRMAX, "op on clause '%.100s' is not supported", k); return 0;
  }
  if (!clause_values(s, c, k, v, err)) return 0;
  /* req/forbidden/!ok are decided before the type check */
  if (c->kind == K_REQ && c->v[0].i1) s->req = 1;
  if (c->kind == K_FORBIDDEN && c->v[0].i1) s->forbidden = 1;
  if (c->kind == K_OK && c->op == OP_NOT) s->not_ok = 1;
  return 1;
}

sah_schema *sah_compile(json_t *schema, char *err)
{
  json_t *norm = sah_normalize(schema, err), *cs, *v, *extras;
  const char *k;
  sah_schema *s;
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

  /* every key is a clause (no dot) or an attribute (dot) */
  json_object_foreach(cs, k, v) {
    const struct cdef *d;
    int r = clause_key(s, cs, k, v, &d, err);
    if (r < 0 || (r > 0 && !clause_add(s, d, cs, k, v, err))) {
      sah_free(s);
      return 0;
    }
  }
  qsort(s->cls, s->ncls, sizeof *s->cls, by_prio);
  return s;
}
