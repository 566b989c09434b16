/* sah_validate.c: checks a value against a compiled schema, in the order
 * of Data::Sah: ok, default, req/forbidden, type, then the clauses by
 * priority. Messages follow Data::Sah's English ("Must be at most 10",
 * "Not of type integer"); the place of a nested failure is appended as
 * "(element 2 of key 'foo')". */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sah_internal.h"

struct vctx {
  char *err;           /* first error (SAH_ERRMAX bytes) */
  char where[256];     /* where the first error is, innermost first */
  char detail[128];    /* a key name for the message of the failing clause */
  int nerr, nwarn;
  int full;            /* collect every error, not only the first */
  int typed;           /* valid scalars replaced by the JSON form of their type */
  int quiet;           /* > 0: only pass/fail is wanted */
};

struct view {          /* the value as the type sees it */
  json_t *v;
  const char *s; size_t n;  /* string types: string form (lowercased for cistr) */
  char *own;
  double d;                 /* numbers, bool (truth) */
  size_t len;               /* string length in characters, array/hash size */
  char buf[64];
};

static int validate(const sah_schema *s, json_t *v, json_t **repl, struct vctx *cx);

static pcre2_match_data *match_data(void)
{
  static __thread pcre2_match_data *md;
  if (!md) md = pcre2_match_data_create(1, 0);
  return md;
}

static int re_match(const pcre2_code *re, const char *s, size_t n)
{
  return pcre2_match(re, (PCRE2_SPTR)s, n, 0, PCRE2_NO_UTF_CHECK, match_data(), 0) >= 0;
}

static int is_undef(const json_t *v) { return !v || json_is_null(v); }

static void record(struct vctx *cx, const char *msg)
{
  if (cx->quiet) return;
  cx->nerr++;
  if (!cx->err[0]) snprintf(cx->err, SAH_ERRMAX, "%s", msg);
}

/* after a nested failure: say where, if the first error came from there */
static void add_where(struct vctx *cx, int had_err, const char *fmt, ...)
{
  char w[160];
  size_t l;
  va_list ap;
  if (cx->quiet || had_err || !cx->err[0]) return;
  va_start(ap, fmt);
  vsnprintf(w, sizeof w, fmt, ap);
  va_end(ap);
  l = strlen(cx->where);
  snprintf(cx->where + l, sizeof cx->where - l, "%s%s", l ? " of " : "", w);
}

/* ---- type check and view ---- */

static int type_ok(const sah_schema *s, json_t *v, struct view *w)
{
  memset(w, 0, offsetof(struct view, buf));
  w->v = v;
  switch (s->type) {
  case SAH_T_ANY: case SAH_T_ALL: return 1;
  case SAH_T_UNDEF: return 0; /* only undef, which never gets here */
  case SAH_T_BOOL:
    if (!sahs_is_scalar(v)) return 0;
    w->d = sahs_true(v);
    return 1;
  case SAH_T_INT:
    if (json_is_integer(v)) { w->d = (double)json_integer_value(v); return 1; }
    if (json_is_real(v)) { w->d = json_real_value(v); return w->d > -9.2e18 && w->d < 9.2e18 && w->d == (double)(long long)w->d; }
    if (json_is_string(v) && sahs_looks_int(json_string_value(v), json_string_length(v))) { w->d = sahs_num(v); return 1; }
    return 0;
  case SAH_T_FLOAT: case SAH_T_NUM:
    if (json_is_number(v)) { w->d = sahs_num(v); return 1; }
    if (json_is_string(v) && sahs_looks_num(json_string_value(v), json_string_length(v))) { w->d = sahs_num(v); return 1; }
    return 0;
  case SAH_T_STR: case SAH_T_CISTR: case SAH_T_BUF:
    if (!json_is_string(v) && !json_is_number(v)) return 0;
    w->n = sahs_str(v, w->buf, sizeof w->buf, &w->s);
    if (s->type == SAH_T_BUF && sahs_utf8_max(w->s, w->n) > 255) return 0;
    if (s->type == SAH_T_CISTR) { w->own = sahs_lc(w->s, w->n, &w->n); w->s = w->own; }
    w->len = sahs_utf8_len(w->s, w->n);
    return 1;
  case SAH_T_ARRAY:
    if (!json_is_array(v)) return 0;
    w->len = json_array_size(v);
    return 1;
  case SAH_T_HASH:
    if (!json_is_object(v)) return 0;
    w->len = json_object_size(v);
    return 1;
  }
  return 0;
}

static int is_num_type(int t) { return t == SAH_T_INT || t == SAH_T_FLOAT || t == SAH_T_NUM || t == SAH_T_BOOL; }
static int is_str_type(int t) { return t == SAH_T_STR || t == SAH_T_CISTR || t == SAH_T_BUF; }

/* <0, 0, >0 comparing the value with a parameter */
static int cmp_param(const sah_schema *s, const struct view *w, double d, const char *p, size_t pn)
{
  if (is_num_type(s->type)) return w->d < d ? -1 : w->d > d;
  {
    size_t n = w->n < pn ? w->n : pn;
    int r = memcmp(w->s, p, n);
    if (r) return r;
    return w->n < pn ? -1 : w->n > pn;
  }
}

/* does element e equal the value (in / has on scalar types)? */
static int scalar_eq(const sah_schema *s, const struct view *w, const json_t *e)
{
  char b[64];
  const char *p;
  size_t n;
  if (s->type == SAH_T_BOOL) return sahs_is_scalar(e) && sahs_true(e) == (int)w->d;
  if (is_num_type(s->type))
    return (json_is_number(e) || (json_is_string(e) && sahs_looks_num(json_string_value(e), json_string_length(e)))) && sahs_num(e) == w->d;
  if (!sahs_is_scalar(e)) return 0;
  n = sahs_str(e, b, sizeof b, &p);
  if (s->type == SAH_T_CISTR) {
    size_t ln;
    char *lc = sahs_lc(p, n, &ln);
    int r = lc && ln == w->n && !memcmp(lc, w->s, ln);
    free(lc);
    return r;
  }
  return n == w->n && !memcmp(p, w->s, n);
}

static int has_key(json_t *h, const char *k) { return json_object_get(h, k) != 0; }

static int in_list(const char **keys, size_t n, const char *k)
{
  size_t i;
  for (i = 0; i < n; i++) if (!strcmp(keys[i], k)) return 1;
  return 0;
}

static size_t count_present(json_t *h, const struct sah_cval *cv)
{
  size_t i, c = 0;
  for (i = 0; i < cv->nkeys; i++) c += has_key(h, cv->keys[i]);
  return c;
}

/* i-th element of a string as a new JSON string */
static json_t *str_elem(const struct view *w, size_t *off)
{
  size_t e = sahs_utf8_next(w->s, w->n, *off);
  json_t *r = json_stringn(w->s + *off, e - *off);
  *off = e;
  return r;
}

/* elements or indices of a HasElems value as a new array (prop, uniq) */
static json_t *elems_of(const sah_schema *s, const struct view *w, int indices)
{
  json_t *a = json_array(), *x;
  const char *k;
  size_t i, off = 0;
  if (is_str_type(s->type)) {
    for (i = 0; i < w->len; i++)
      json_array_append_new(a, indices ? json_integer((json_int_t)i) : str_elem(w, &off));
  } else if (s->type == SAH_T_ARRAY) {
    if (indices) for (i = 0; i < w->len; i++) json_array_append_new(a, json_integer((json_int_t)i));
    else json_array_extend(a, w->v);
  } else {
    json_object_foreach(w->v, k, x) json_array_append_new(a, indices ? json_string(k) : json_incref(x));
  }
  return a;
}

/* validate e (borrowed, inside container) with sub; install a default */
static int sub_elem(const sah_schema *sub, json_t *cont, size_t idx, const char *key, json_t *e, struct vctx *cx)
{
  json_t *r;
  int had = cx->err[0] != 0;
  int ok = validate(sub, e, &r, cx);
  if (r) {
    if (cont && key) json_object_set_new(cont, key, r);
    else if (cont) json_array_set_new(cont, idx, r);
    else json_decref(r);
  }
  if (!ok) {
    if (key) add_where(cx, had, "key '%s'", key);
    else add_where(cx, had, "element %zu", idx);
  }
  return ok;
}

/* any / all of: each alternative in its own context */
static int of_any(const struct sah_cval *cv, json_t *v, struct vctx *cx)
{
  size_t i;
  int total = 0;
  char first[SAH_ERRMAX] = "", fwhere[256] = "";
  for (i = 0; i < cv->nsubs; i++) {
    char e[SAH_ERRMAX] = "";
    struct vctx sub;
    json_t *r;
    int ok;
    memset(&sub, 0, sizeof sub);
    sub.err = e;
    sub.full = cx->full;
    sub.typed = cx->typed;
    sub.quiet = cx->quiet;
    ok = validate(cv->subs[i], v, &r, &sub);
    json_decref(r);
    if (ok) return 1;
    total += sub.nerr;
    if (!first[0]) { snprintf(first, sizeof first, "%s", e); snprintf(fwhere, sizeof fwhere, "%s", sub.where); }
  }
  if (!cv->nsubs) return 1;
  if (!cx->quiet) {
    cx->nerr += total;
    if (!cx->err[0]) { snprintf(cx->err, SAH_ERRMAX, "%s", first); snprintf(cx->where, sizeof cx->where, "%s", fwhere); }
  }
  return -1;
}

static int key_allowed_by(const sah_schema *s, int kind, const char *k)
{
  size_t i, j;
  for (i = 0; i < s->ncls; i++) {
    const struct sah_clause *c = &s->cls[i];
    if (c->kind != kind) continue;
    for (j = 0; j < c->nv; j++) {
      const struct sah_cval *cv = &c->v[j];
      size_t t;
      for (t = 0; t < cv->nsubs; t++)
        if (kind == K_KEYS ? !strcmp(cv->keys[t], k) : re_match(cv->kres[t], k, strlen(k))) return 1;
    }
  }
  return 0;
}

static int run_clauses(const sah_schema *s, const struct view *w, struct vctx *cx);

/* The checkers of one family of clauses, for check1: each returns 1 pass,
 * 0 fail (the caller reports), -1 fail already reported (nested). */

/* in, is, has: is the value, or something in it, equal to the parameter? */
static int check_member(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, const struct view *w)
{
  json_t *v = w->v, *x;
  const char *k;
  size_t i;
  switch (c->kind) {
  case K_IN:
    if (s->type == SAH_T_ARRAY || s->type == SAH_T_HASH || s->type == SAH_T_ANY || s->type == SAH_T_ALL) {
      for (i = 0; i < json_array_size(cv->j); i++) if (sahs_equal(v, json_array_get(cv->j, i))) return 1;
      return 0;
    }
    for (i = 0; i < json_array_size(cv->j); i++) if (scalar_eq(s, w, json_array_get(cv->j, i))) return 1;
    return 0;
  case K_IS:
    if (is_num_type(s->type)) return w->d == cv->d1;
    if (is_str_type(s->type)) return cmp_param(s, w, 0, cv->s, cv->slen) == 0;
    return sahs_equal(v, cv->j);
  case K_HAS:
    if (is_str_type(s->type)) return cv->slen == 0 || memmem(w->s, w->n, cv->s, cv->slen) != 0;
    if (s->type == SAH_T_ARRAY) {
      for (i = 0; i < w->len; i++) if (sahs_equal(json_array_get(v, i), cv->j)) return 1;
      return 0;
    }
    json_object_foreach(v, k, x) if (sahs_equal(x, cv->j)) return 1;
    return 0;
  }
  return 0;
}

/* min, max, between (and x-), len*, mod, div_by, is_nan, is_*inf, is_true:
 * the value, or its length, against numbers (strings for string types) */
static int check_range(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, const struct view *w)
{
  switch (c->kind) {
  case K_MIN: return cmp_param(s, w, cv->d1, cv->s, cv->slen) >= 0;
  case K_XMIN: return cmp_param(s, w, cv->d1, cv->s, cv->slen) > 0;
  case K_MAX: return cmp_param(s, w, cv->d1, cv->s, cv->slen) <= 0;
  case K_XMAX: return cmp_param(s, w, cv->d1, cv->s, cv->slen) < 0;
  case K_BETWEEN: return cmp_param(s, w, cv->d1, cv->s, cv->slen) >= 0 && cmp_param(s, w, cv->d2, cv->s2, cv->s2len) <= 0;
  case K_XBETWEEN: return cmp_param(s, w, cv->d1, cv->s, cv->slen) > 0 && cmp_param(s, w, cv->d2, cv->s2, cv->s2len) < 0;
  case K_LEN: return (double)w->len == cv->d1;
  case K_MIN_LEN: return (double)w->len >= cv->d1;
  case K_MAX_LEN: return (double)w->len <= cv->d1;
  case K_LEN_BETWEEN: return (double)w->len >= cv->d1 && (double)w->len <= cv->d2;
  case K_MOD: case K_DIV_BY: {
    json_int_t n = (json_int_t)w->d, m = cv->i1, r;
    r = n % m;
    if (r && ((r < 0) != (m < 0))) r += m; /* Perl's % takes the sign of the right operand */
    return r == (c->kind == K_MOD ? cv->i2 : 0);
  }
  case K_IS_NAN: return cv->i2 || (cv->i1 ? isnan(w->d) : !isnan(w->d));
  case K_IS_INF: return cv->i2 || (cv->i1 ? isinf(w->d) : !isinf(w->d));
  case K_IS_POS_INF: return cv->i2 || (cv->i1 ? isinf(w->d) && w->d > 0 : !(isinf(w->d) && w->d > 0));
  case K_IS_NEG_INF: return cv->i2 || (cv->i1 ? isinf(w->d) && w->d < 0 : !(isinf(w->d) && w->d < 0));
  case K_IS_TRUE: return cv->i2 || (cv->i1 ? w->d != 0 : w->d == 0);
  }
  return 0;
}

/* match, is_re */
static int check_re(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, const struct view *w)
{
  if (c->kind == K_MATCH) {
    char b[64];
    const char *p = w->s;
    size_t n = w->n;
    if (s->type == SAH_T_CISTR) n = sahs_str(w->v, b, sizeof b, &p); /* caseless regex on the original */
    return re_match(cv->re, p, n);
  } else {
    int ec, ok;
    PCRE2_SIZE eo;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)w->s, w->n, PCRE2_UTF | PCRE2_UCP, &ec, &eo, 0);
    ok = re != 0;
    pcre2_code_free(re);
    return cv->i1 ? ok : !ok;
  }
}

/* each_elem, each_index (each_value, each_key, of on arrays and hashes) */
static int check_each(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, const struct view *w, struct vctx *cx)
{
  json_t *v = w->v, *x;
  const char *k;
  size_t i, off;
  int idx = c->kind == K_EACH_INDEX, bad = 0;
  if (is_str_type(s->type)) {
    for (i = 0, off = 0; i < w->len && (!bad || cx->full); i++) {
      json_t *e = idx ? json_integer((json_int_t)i) : str_elem(w, &off);
      if (idx) off = sahs_utf8_next(w->s, w->n, off);
      if (!sub_elem(cv->sub, 0, i, 0, e, cx)) bad = 1;
      json_decref(e);
    }
  } else if (s->type == SAH_T_ARRAY) {
    for (i = 0; i < w->len && (!bad || cx->full); i++) {
      if (idx) {
        json_t *e = json_integer((json_int_t)i);
        if (!sub_elem(cv->sub, 0, i, 0, e, cx)) bad = 1;
        json_decref(e);
      } else if (!sub_elem(cv->sub, v, i, 0, json_array_get(v, i), cx)) bad = 1;
    }
  } else {
    void *it = json_object_iter(v);
    while (it && (!bad || cx->full)) {
      k = json_object_iter_key(it);
      x = json_object_iter_value(it);
      it = json_object_iter_next(v, it);
      if (idx) {
        json_t *e = json_string(k);
        if (!sub_elem(cv->sub, 0, 0, k, e, cx)) bad = 1;
        json_decref(e);
      } else if (!sub_elem(cv->sub, v, 0, k, x, cx)) bad = 1;
    }
  }
  return bad ? -1 : 1;
}

/* exists: does some element pass the subschema? (quietly) */
static int check_exists(const sah_schema *s, const struct sah_cval *cv, const struct view *w, struct vctx *cx)
{
  json_t *a = elems_of(s, w, 0);
  size_t i;
  int ok = 0;
  cx->quiet++;
  for (i = 0; i < json_array_size(a) && !ok; i++) {
    json_t *r;
    ok = validate(cv->sub, json_array_get(a, i), &r, cx);
    json_decref(r);
  }
  cx->quiet--;
  json_decref(a);
  return ok;
}

/* uniq: 1 unique elements wanted, 0 a duplicate */
static int check_uniq(const sah_schema *s, const struct sah_cval *cv, const struct view *w)
{
  json_t *a = elems_of(s, w, 0);
  size_t i, j;
  int dup = 0;
  for (i = 0; i < json_array_size(a) && !dup; i++)
    for (j = i + 1; j < json_array_size(a) && !dup; j++)
      dup = sahs_equal(json_array_get(a, i), json_array_get(a, j));
  json_decref(a);
  return cv->i1 ? !dup : dup;
}

/* prop: len, elems or indices checked against the subschema */
static int check_prop(const sah_schema *s, const struct sah_cval *cv, const struct view *w, struct vctx *cx)
{
  json_t *a = elems_of(s, w, cv->prop == P_INDICES), *p = a, *r;
  int ok, had = cx->err[0] != 0;
  if (cv->prop == P_LEN) p = json_integer((json_int_t)w->len);
  ok = validate(cv->sub, p, &r, cx);
  json_decref(r);
  if (p != a) json_decref(p);
  json_decref(a);
  if (!ok) add_where(cx, had, "property '%s'", cv->prop == P_LEN ? "len" : cv->prop == P_ELEMS ? "elems" : "indices");
  return ok ? 1 : -1;
}

/* elems: element i against schema i, a missing one from its default */
static int check_elems(const struct sah_clause *c, const struct sah_cval *cv, json_t *v, struct vctx *cx)
{
  size_t i;
  int bad = 0;
  for (i = 0; i < cv->nsubs && (!bad || cx->full); i++) {
    if (i < json_array_size(v)) {
      if (!sub_elem(cv->subs[i], v, i, 0, json_array_get(v, i), cx)) bad = 1;
    } else if (c->create_default) {
      json_t *r;
      int had = cx->err[0] != 0;
      if (!validate(cv->subs[i], 0, &r, cx)) { bad = 1; add_where(cx, had, "element %zu", i); }
      if (r) {
        while (json_array_size(v) < i) json_array_append_new(v, json_null());
        json_array_append_new(v, r);
      }
    }
  }
  return bad ? -1 : 1;
}

/* of on type all: every schema */
static int of_all(const struct sah_cval *cv, json_t *v, struct vctx *cx)
{
  size_t i;
  int bad = 0;
  for (i = 0; i < cv->nsubs && (!bad || cx->full); i++) {
    json_t *r;
    if (!validate(cv->subs[i], v, &r, cx)) bad = 1;
    json_decref(r);
  }
  return bad ? -1 : 1;
}

/* keys, re_keys: the named (matching) keys against their schemas, the
 * others refused when restrict (unless the other clause names them) */
static int check_keys(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, json_t *v, struct vctx *cx)
{
  json_t *x;
  const char *k;
  size_t i;
  void *it;
  int bad = 0;
  if (c->kind == K_KEYS)
    for (i = 0; i < cv->nsubs && (!bad || cx->full); i++) {
      x = json_object_get(v, cv->keys[i]);
      if (x) { if (!sub_elem(cv->subs[i], v, 0, cv->keys[i], x, cx)) bad = 1; }
      else if (c->create_default && cv->subs[i]->def) {
        if (!sub_elem(cv->subs[i], v, 0, cv->keys[i], 0, cx)) bad = 1;
      }
    }
  for (it = json_object_iter(v); it && (!bad || cx->full); it = json_object_iter_next(v, it)) {
    int known = 0;
    k = json_object_iter_key(it);
    x = json_object_iter_value(it);
    if (c->kind == K_RE_KEYS) {
      for (i = 0; i < cv->nsubs; i++)
        if (re_match(cv->kres[i], k, strlen(k))) {
          known = 1;
          if (!sub_elem(cv->subs[i], v, 0, k, x, cx)) bad = 1;
        }
      if (!known && c->restrict_keys && !key_allowed_by(s, K_KEYS, k)) {
        snprintf(cx->detail, sizeof cx->detail, "%s", k);
        return bad ? -1 : 0;
      }
    } else if (c->restrict_keys && !in_list(cv->keys, cv->nsubs, k) && !key_allowed_by(s, K_RE_KEYS, k)) {
      snprintf(cx->detail, sizeof cx->detail, "%s", k);
      return bad ? -1 : 0;
    }
  }
  return bad ? -1 : 1;
}

/* req_keys, allowed_keys(_re), forbidden_keys(_re): the offending key
 * goes to cx->detail for the message */
static int check_key_names(const struct sah_clause *c, const struct sah_cval *cv, json_t *v, struct vctx *cx)
{
  json_t *x;
  const char *k;
  size_t i;
  if (c->kind == K_REQ_KEYS) {
    for (i = 0; i < cv->nkeys; i++)
      if (!has_key(v, cv->keys[i])) { snprintf(cx->detail, sizeof cx->detail, "%s", cv->keys[i]); return 0; }
    return 1;
  }
  json_object_foreach(v, k, x) {
    int in = (c->kind == K_ALLOWED_KEYS || c->kind == K_FORBIDDEN_KEYS) ? in_list(cv->keys, cv->nkeys, k) : re_match(cv->re, k, strlen(k));
    if ((c->kind == K_ALLOWED_KEYS || c->kind == K_ALLOWED_KEYS_RE) ? !in : in) {
      snprintf(cx->detail, sizeof cx->detail, "%s", k);
      return 0;
    }
  }
  return 1;
}

/* choose_*, req_one/some_key(s), dep_*, req_dep_*: how many of the keys */
static int check_key_count(const struct sah_clause *c, const struct sah_cval *cv, json_t *v)
{
  switch (c->kind) {
  case K_CHOOSE_ONE_KEY: return count_present(v, cv) <= 1;
  case K_CHOOSE_ALL_KEYS: { size_t n = count_present(v, cv); return n == 0 || n == cv->nkeys; }
  case K_REQ_ONE_KEY: return count_present(v, cv) == 1;
  case K_REQ_SOME_KEYS: { json_int_t n = (json_int_t)count_present(v, cv); return n >= cv->i1 && n <= cv->i2; }
  case K_DEP_ANY: return !has_key(v, cv->s) || !cv->nkeys || count_present(v, cv) > 0;
  case K_DEP_ALL: return !has_key(v, cv->s) || count_present(v, cv) == cv->nkeys;
  case K_REQ_DEP_ANY: return has_key(v, cv->s) || count_present(v, cv) == 0;
  case K_REQ_DEP_ALL: return has_key(v, cv->s) || !cv->nkeys || count_present(v, cv) < cv->nkeys;
  }
  return 0;
}

/* one clause value: 1 pass, 0 fail (caller reports), -1 fail already reported */
static int check1(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, const struct view *w, struct vctx *cx)
{
  switch (c->kind) {
  case K_OK: case K_REQ: return 1;
  case K_FORBIDDEN: return !cv->i1;
  case K_IN: case K_IS: case K_HAS:
    return check_member(s, c, cv, w);
  case K_MIN: case K_XMIN: case K_MAX: case K_XMAX: case K_BETWEEN: case K_XBETWEEN:
  case K_LEN: case K_MIN_LEN: case K_MAX_LEN: case K_LEN_BETWEEN: case K_MOD: case K_DIV_BY:
  case K_IS_NAN: case K_IS_INF: case K_IS_POS_INF: case K_IS_NEG_INF: case K_IS_TRUE:
    return check_range(s, c, cv, w);
  case K_MATCH: case K_IS_RE: return check_re(s, c, cv, w);
  case K_EACH_ELEM: case K_EACH_INDEX: return check_each(s, c, cv, w, cx);
  case K_EXISTS: return check_exists(s, cv, w, cx);
  case K_UNIQ: return check_uniq(s, cv, w);
  case K_PROP: return check_prop(s, cv, w, cx);
  case K_ELEMS: return check_elems(c, cv, w->v, cx);
  case K_OF_ANY: return of_any(cv, w->v, cx);
  case K_OF_ALL: return of_all(cv, w->v, cx);
  case K_KEYS: case K_RE_KEYS: return check_keys(s, c, cv, w->v, cx);
  case K_REQ_KEYS: case K_ALLOWED_KEYS: case K_FORBIDDEN_KEYS: case K_ALLOWED_KEYS_RE: case K_FORBIDDEN_KEYS_RE:
    return check_key_names(c, cv, w->v, cx);
  case K_CHOOSE_ONE_KEY: case K_CHOOSE_ALL_KEYS: case K_REQ_ONE_KEY: case K_REQ_SOME_KEYS:
  case K_DEP_ANY: case K_DEP_ALL: case K_REQ_DEP_ANY: case K_REQ_DEP_ALL:
    return check_key_count(c, cv, w->v);
  case K_CLAUSE: case K_CLSET:
    if (cv->sub->not_ok || cv->sub->forbidden) return 0;
    return run_clauses(cv->sub, w, cx) ? 1 : -1;
  }
  return 0;
}

/* the message of a failing clause value; neg: "Must not" */
static void clause_msg(const sah_schema *s, const struct sah_clause *c, const struct sah_cval *cv, int neg, const char *detail, char *out, size_t n)
{
  const char *M = neg ? "Must not" : "Must", *m = neg ? "must not" : "must";
  char a[200], b[200];
  if (c->err_msg) { snprintf(out, n, "%s", c->err_msg); return; }
  switch (c->kind) {
  case K_BETWEEN: case K_XBETWEEN: case K_LEN_BETWEEN: case K_MOD:
    sahs_fmt(a, sizeof a, json_array_get(cv->j, 0));
    sahs_fmt(b, sizeof b, json_array_get(cv->j, 1));
    break;
  default:
    sahs_fmt(a, sizeof a, cv->j);
    b[0] = 0;
  }
  switch (c->kind) {
  case K_IN: snprintf(out, n, "%s be one of %s", M, a); break;
  case K_IS: snprintf(out, n, "%s be %s", M, a); break;
  case K_MIN: snprintf(out, n, "%s be at least %s", M, a); break;
  case K_XMIN: snprintf(out, n, "%s be larger than %s", M, a); break;
  case K_MAX: snprintf(out, n, "%s be at most %s", M, a); break;
  case K_XMAX: snprintf(out, n, "%s be smaller than %s", M, a); break;
  case K_BETWEEN: snprintf(out, n, "%s be between %s and %s", M, a, b); break;
  case K_XBETWEEN: snprintf(out, n, "%s be larger than %s and smaller than %s", M, a, b); break;
  case K_LEN: snprintf(out, n, "Length %s be %s", m, a); break;
  case K_MIN_LEN: snprintf(out, n, "Length %s be at least %s", m, a); break;
  case K_MAX_LEN: snprintf(out, n, "Length %s be at most %s", m, a); break;
  case K_LEN_BETWEEN: snprintf(out, n, "Length %s be between %s and %s", m, a, b); break;
  case K_HAS: snprintf(out, n, "%s have %s", M, a); break;
  case K_UNIQ: snprintf(out, n, "%s have %s elements", M, cv->i1 ? "unique" : "duplicate"); break;
  case K_MOD: snprintf(out, n, "%s leave a remainder of %s when divided by %s", M, b, a); break;
  case K_DIV_BY: snprintf(out, n, "%s be divisible by %s", M, a); break;
  case K_IS_NAN: snprintf(out, n, "%s be NaN", cv->i1 ? M : neg ? "Must" : "Must not"); break;
  case K_IS_INF: snprintf(out, n, "%s be infinite", cv->i1 ? M : neg ? "Must" : "Must not"); break;
  case K_IS_POS_INF: snprintf(out, n, "%s be positive infinity", cv->i1 ? M : neg ? "Must" : "Must not"); break;
  case K_IS_NEG_INF: snprintf(out, n, "%s be negative infinity", cv->i1 ? M : neg ? "Must" : "Must not"); break;
  case K_MATCH: snprintf(out, n, "%s match regex pattern %s", M, cv->s); break;
  case K_IS_RE: snprintf(out, n, "%s be a regex pattern", cv->i1 ? M : neg ? "Must" : "Must not"); break;
  case K_IS_TRUE: snprintf(out, n, "%s be %s", M, cv->i1 ? "true" : "false"); break;
  case K_FORBIDDEN: snprintf(out, n, "Forbidden but specified"); break;
  case K_OK: snprintf(out, n, "%s be ok", M); break;
  case K_KEYS: case K_RE_KEYS: case K_ALLOWED_KEYS: case K_ALLOWED_KEYS_RE:
    if (neg) snprintf(out, n, "Must not satisfy clause '%s'", c->name);
    else snprintf(out, n, "Key '%s' is not allowed", detail);
    break;
  case K_FORBIDDEN_KEYS: case K_FORBIDDEN_KEYS_RE:
    if (neg) snprintf(out, n, "Must not satisfy clause '%s'", c->name);
    else snprintf(out, n, "Key '%s' is forbidden", detail);
    break;
  case K_REQ_KEYS:
    if (neg) snprintf(out, n, "Must not have all of keys %s", a);
    else snprintf(out, n, "Missing required key '%s'", detail);
    break;
  case K_CHOOSE_ONE_KEY: snprintf(out, n, "%s have at most one of keys %s", M, a); break;
  case K_CHOOSE_ALL_KEYS: snprintf(out, n, "%s have either none or all of keys %s", M, a); break;
  case K_REQ_ONE_KEY: snprintf(out, n, "%s have exactly one of keys %s", M, a); break;
  case K_REQ_SOME_KEYS: {
    char l[200];
    sahs_fmt(l, sizeof l, json_array_get(cv->j, 2));
    snprintf(out, n, "%s have between %" JSON_INTEGER_FORMAT " and %" JSON_INTEGER_FORMAT " of keys %s", M, cv->i1, cv->i2, l);
    break;
  }
  case K_DEP_ANY: case K_DEP_ALL: case K_REQ_DEP_ANY: case K_REQ_DEP_ALL: {
    char l[200];
    sahs_fmt(l, sizeof l, json_array_get(cv->j, 1));
    if (c->kind == K_DEP_ANY) snprintf(out, n, "%s have one of keys %s when key '%s' is specified", M, l, cv->s);
    else if (c->kind == K_DEP_ALL) snprintf(out, n, "%s have all of keys %s when key '%s' is specified", M, l, cv->s);
    else if (c->kind == K_REQ_DEP_ANY) snprintf(out, n, "%s have key '%s' when any of keys %s is specified", M, cv->s, l);
    else snprintf(out, n, "%s have key '%s' when all of keys %s are specified", M, cv->s, l);
    break;
  }
  default: snprintf(out, n, "%s satisfy clause '%s'", M, c->name);
  }
  (void)s;
}

static void clause_fail(const sah_schema *s, const struct sah_clause *c, size_t vi, int neg, struct vctx *cx)
{
  char msg[SAH_ERRMAX];
  if (cx->quiet) return;
  cx->nerr++;
  if (cx->err[0]) return;
  if (c->op == OP_OR && !c->err_msg && c->nv > 1) {
    size_t i, l = 0;
    for (i = 0; i < c->nv && l < SAH_ERRMAX - 1; i++) {
      clause_msg(s, c, &c->v[i], 0, cx->detail, msg, sizeof msg);
      if (i) { msg[0] = (char)(msg[0] == 'M' ? 'm' : msg[0]); l += (size_t)snprintf(cx->err + l, SAH_ERRMAX - l, " or "); }
      if (l < SAH_ERRMAX) l += (size_t)snprintf(cx->err + l, SAH_ERRMAX - l, "%s", msg);
    }
    return;
  }
  clause_msg(s, c, &c->v[vi], neg, cx->detail, cx->err, SAH_ERRMAX);
}

/* 1 pass, 0 fail */
static int run_clause(const sah_schema *s, const struct sah_clause *c, const struct view *w, struct vctx *cx)
{
  size_t i, fi = 0;
  int r, ok = 0, warn = c->level == LV_WARN, npass = 0;
  if (c->op == OP_SINGLE && !warn) {
    r = check1(s, c, &c->v[0], w, cx);
    if (r == 0) clause_fail(s, c, 0, 0, cx);
    return r == 1;
  }
  cx->quiet++;
  for (i = 0; i < c->nv; i++) {
    r = check1(s, c, &c->v[i], w, cx) == 1;
    if (r) npass++;
    if (c->op == OP_AND && !r) { fi = i; break; }
    if (c->op == OP_NONE && r) { fi = i; break; }
    if ((c->op == OP_SINGLE || c->op == OP_NOT || c->op == OP_OR) && r) break;
  }
  cx->quiet--;
  switch (c->op) {
  case OP_SINGLE: ok = npass > 0; break;
  case OP_NOT: ok = npass == 0; break;
  case OP_AND: ok = i == c->nv; break;
  case OP_OR: ok = npass > 0 || c->nv == 0; break;
  case OP_NONE: ok = npass == 0; break;
  }
  if (ok) return 1;
  if (warn) { if (!cx->quiet) cx->nwarn++; return 1; }
  clause_fail(s, c, fi, c->op == OP_NOT || c->op == OP_NONE, cx);
  return 0;
}

static int run_clauses(const sah_schema *s, const struct view *w, struct vctx *cx)
{
  size_t i;
  int ok = 1;
  for (i = 0; i < s->ncls; i++) {
    const struct sah_clause *c = &s->cls[i];
    if (c->kind == K_OK || c->kind == K_REQ || c->kind == K_FORBIDDEN) continue;
    if (!run_clause(s, c, w, cx)) {
      ok = 0;
      if (!cx->full || cx->quiet || c->level == LV_FATAL) break;
    }
  }
  return ok;
}

/* a valid v in the JSON form of the schema's type, or NULL to keep it as it
 * is: "2" or 2.0 for an int is 2, "2.5" for a num 2.5, a bool true or false
 * by Perl's truth. Perl sees no difference; a function reading JSON does (jq
 * divides strings by splitting them). Out of range: kept. */
static json_t *typed_form(const sah_schema *s, json_t *v, const struct view *w)
{
  const char *p;
  char *end;
  long long i;
  switch (s->type) {
  case SAH_T_BOOL:
    return json_is_boolean(v) ? 0 : json_boolean(w->d != 0);
  case SAH_T_INT: case SAH_T_FLOAT: case SAH_T_NUM:
    if (s->type == SAH_T_INT && json_is_real(v)) return json_integer((json_int_t)w->d);   /* integral: type_ok */
    if (!json_is_string(v)) return 0;
    p = json_string_value(v);
    if (s->type != SAH_T_FLOAT && sahs_looks_int(p, json_string_length(v))) {
      errno = 0;
      i = strtoll(p, &end, 10);
      return errno || *end ? 0 : json_integer((json_int_t)i);
    }
    return s->type != SAH_T_INT && isfinite(w->d) ? json_real(w->d) : 0;
  default:
    return 0;
  }
}

static int validate(const sah_schema *s, json_t *v, json_t **repl, struct vctx *cx)
{
  struct view w;
  int ok;
  *repl = 0;
  if (s->not_ok) { record(cx, "Must not be ok"); return 0; }
  if (is_undef(v) && s->def) v = *repl = json_deep_copy(s->def);
  if (is_undef(v)) {
    if (s->req) { record(cx, "Required but not specified"); return 0; }
    return 1;
  }
  if (s->forbidden) { record(cx, "Forbidden but specified"); return 0; }
  if (!type_ok(s, v, &w)) {
    char m[80];
    free(w.own);
    if (!cx->quiet) { snprintf(m, sizeof m, "Not of type %s", sahc_type_noun(s->type)); record(cx, m); }
    return 0;
  }
  ok = run_clauses(s, &w, cx);
  free(w.own);
  if (ok && cx->typed) {
    json_t *t = typed_form(s, v, &w);
    if (t) { json_decref(*repl); *repl = t; }
  }
  return ok;
}

int sahv_run(const sah_schema *s, json_t **value, char *err, int *nerr, int *nwarn, int flags)
{
  struct vctx cx;
  json_t *r;
  int ok;
  memset(&cx, 0, sizeof cx);
  cx.err = err;
  cx.full = (flags & SAHV_FULL) != 0;
  cx.typed = (flags & SAHV_TYPED) != 0;
  err[0] = 0;
  ok = validate(s, *value, &r, &cx);
  if (r) { json_decref(*value); *value = r; }
  if (nerr) *nerr = cx.nerr;
  if (nwarn) *nwarn = cx.nwarn;
  if (ok) err[0] = 0;
  else if (cx.where[0]) {
    size_t l = strlen(err);
    snprintf(err + l, SAH_ERRMAX - l, " (%s)", cx.where);
  }
  return ok;
}

int sah_validate(const sah_schema *s, json_t **value, char *err)
{
  return sahv_run(s, value, err, 0, 0, 0);
}

/* sah_validate_full: see riap_sah.h */
int sah_validate_full(const sah_schema *s, json_t **value, char *err, int *nerrors, int *nwarnings)
{
  return sahv_run(s, value, err, nerrors, nwarnings, SAHV_FULL);
}

/* sah_validate_typed: see riap_sah.h */
int sah_validate_typed(const sah_schema *s, json_t **value, char *err)
{
  return sahv_run(s, value, err, 0, 0, SAHV_TYPED);
}
