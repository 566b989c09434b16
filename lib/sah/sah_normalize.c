/* sah_normalize.c: every schema form to [type, {clause set}, {extras}]
 * (the spec's normalize_schema), and clause-set merging (merge.MODE.). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "sah_internal.h"

static int is_w(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }
static int is_w1(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

/* identifier [A-Za-z_]\w* over s[0..n) */
static int ident(const char *s, size_t n)
{
  size_t i;
  if (!n || !is_w1(s[0])) return 0;
  for (i = 1; i < n; i++) if (!is_w(s[i])) return 0;
  return 1;
}

/* dotted identifiers: a.b.c */
static int dotted(const char *s, size_t n)
{
  size_t i = 0, st = 0;
  if (!n) return 0;
  for (i = 0; i <= n; i++)
    if (i == n || s[i] == '.') {
      if (!ident(s + st, i - st)) return 0;
      st = i + 1;
    }
  return 1;
}

/* (.ident)+ : attributes of the empty clause */
static int empty_clause_attr(const char *s, size_t n)
{
  return n > 1 && s[0] == '.' && dotted(s + 1, n - 1);
}

/* type name: ident(::ident)* */
static int type_name(const char *s, size_t n)
{
  size_t i, st = 0;
  if (!n) return 0;
  for (i = 0; i <= n; i++)
    if (i == n || (s[i] == ':' && i + 1 < n && s[i + 1] == ':')) {
      if (!ident(s + st, i - st)) return 0;
      if (i < n) i++;
      st = i + 1;
    }
  return 1;
}

static int has_key(json_t *o, const char *k) { return json_object_get(o, k) != 0; }

static json_t *norm_clset(json_t *cs0, int has_req, char *err)
{
  json_t *cs = json_object(), *v;
  const char *k0;
  char c[512], t[700];
  json_object_foreach(cs0, k0, v) {
    size_t n = strlen(k0);
    int expr = 0;
    char sc = 0;
    if (n >= sizeof c - 1) { snprintf(err, SAH_ERRMAX, "clause name too long"); goto fail; }
    memcpy(c, k0, n + 1);
    if (n && c[n - 1] == '=') {
      c[--n] = 0;
      expr = 1;
      if (has_key(cs0, c)) { snprintf(err, SAH_ERRMAX, "conflict between '%.100s=' and '%.100s'", c, c); goto fail; }
      snprintf(t, sizeof t, "%s.is_expr", c);
      json_object_set_new(cs, t, json_integer(1));
    }
    if (!expr && n > 1 && c[0] == '!') {
      if (!ident(c + 1, n - 1)) { snprintf(err, SAH_ERRMAX, "invalid clause name syntax '%.100s': !CLAUSE only for a plain clause name", k0); goto fail; }
      memmove(c, c + 1, n); n--;
      sc = '!';
    } else if (!expr && n > 1 && (c[n - 1] == '|' || c[n - 1] == '&')) {
      sc = c[n - 1];
      c[--n] = 0;
      if (!ident(c, n)) { snprintf(err, SAH_ERRMAX, "invalid clause name syntax '%.100s': CLAUSE%c only for a plain clause name", k0, sc); goto fail; }
    } else if (!expr && n > 2 && c[n - 1] == ')') {
      char *lp = strchr(c, '('), *dot;
      char lang[128];
      if (!lp || lp == c) { snprintf(err, SAH_ERRMAX, "invalid clause name syntax '%.100s'", k0); goto fail; }
      snprintf(lang, sizeof lang, "%.*s", (int)(c + n - 1 - lp - 1), lp + 1);
      *lp = 0;
      dot = strchr(c, '.');
      if (!ident(lang, strlen(lang)) && !(strlen(lang) && strspn(lang, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") == strlen(lang))) {
        snprintf(err, SAH_ERRMAX, "invalid clause name syntax '%.100s': bad language in CLAUSE(LANG)", k0); goto fail;
      }
      if (!(dot ? ident(c, (size_t)(dot - c)) && dotted(dot + 1, strlen(dot + 1)) : ident(c, strlen(c)))) {
        snprintf(err, SAH_ERRMAX, "invalid clause name syntax '%.100s'", k0); goto fail;
      }
      snprintf(t, sizeof t, "%s.alt.lang.%s", c, lang);
      if (has_key(cs0, t)) { snprintf(err, SAH_ERRMAX, "conflict between '%.100s' and '%.100s'", k0, t); goto fail; }
      json_object_set(cs, t, v);
      continue;
    } else if (!empty_clause_attr(c, n) && !dotted(c, n)) {
      snprintf(err, SAH_ERRMAX, "invalid clause name syntax '%.100s', use letters, digits and underscores only", k0);
      goto fail;
    }
    if (sc == '!') {
      snprintf(t, sizeof t, "%s|", c);
      if (has_key(cs0, c) || has_key(cs0, t) || (t[n] = '&', has_key(cs0, t))) {
        snprintf(err, SAH_ERRMAX, "conflict between clause shortcuts '!%.100s' and '%.100s'/'%.100s|'/'%.100s&'", c, c, c, c); goto fail;
      }
      json_object_set(cs, c, v);
      snprintf(t, sizeof t, "%s.op", c);
      json_object_set_new(cs, t, json_string("not"));
    } else if (sc == '&' || sc == '|') {
      snprintf(t, sizeof t, "%s%c", c, sc == '&' ? '|' : '&');
      if (has_key(cs0, c) || has_key(cs0, t)) {
        snprintf(err, SAH_ERRMAX, "conflict between clause shortcuts '%.100s%c' and '%.100s'/'%.100s'", c, sc, c, t); goto fail;
      }
      if (!json_is_array(v)) { snprintf(err, SAH_ERRMAX, "value of clause '%.100s%c' must be an array", c, sc); goto fail; }
      json_object_set(cs, c, v);
      snprintf(t, sizeof t, "%s.op", c);
      json_object_set_new(cs, t, json_string(sc == '&' ? "and" : "or"));
    } else {
      json_object_set(cs, c, v);
    }
  }
  if (has_req) json_object_set_new(cs, "req", json_integer(1));
  return cs;
fail:
  json_decref(cs);
  return 0;
}

json_t *sah_normalize(json_t *schema, char *err)
{
  const char *tn;
  size_t n;
  int req = 0;
  json_t *cs0 = 0, *extras = 0, *cs, *res;
  char type[256];

  err[0] = 0;
  if (!schema || json_is_null(schema)) { snprintf(err, SAH_ERRMAX, "schema must be defined"); return 0; }
  if (json_is_string(schema)) tn = json_string_value(schema);
  else if (json_is_array(schema)) {
    size_t len = json_array_size(schema);
    json_t *e1;
    if (!len) { snprintf(err, SAH_ERRMAX, "schema array must not be empty"); return 0; }
    if (!json_is_string(json_array_get(schema, 0))) { snprintf(err, SAH_ERRMAX, "type name must be a string"); return 0; }
    tn = json_string_value(json_array_get(schema, 0));
    e1 = json_array_get(schema, 1);
    if (len > 1 && json_is_null(e1)) ;  /* no clause set: Perl ignores what follows */
    else if (len > 1 && json_is_object(e1)) {
      if (len > 3) { snprintf(err, SAH_ERRMAX, "schema array with a clause set has at most 3 elements"); return 0; }
      cs0 = json_incref(e1);
      if (len == 3) {
        extras = json_array_get(schema, 2);
        if (!json_is_object(extras)) { json_decref(cs0); snprintf(err, SAH_ERRMAX, "schema extras must be a hash"); return 0; }
      }
    } else if (len > 1) {
      size_t i;
      if (!json_is_string(e1)) { snprintf(err, SAH_ERRMAX, "clause set must be a hash"); return 0; }
      if (len % 2 == 0) { snprintf(err, SAH_ERRMAX, "flattened clause set must have an even number of elements"); return 0; }
      cs0 = json_object();
      for (i = 1; i < len; i += 2) {
        json_t *k = json_array_get(schema, i);
        if (!json_is_string(k)) { json_decref(cs0); snprintf(err, SAH_ERRMAX, "clause name must be a string"); return 0; }
        json_object_set(cs0, json_string_value(k), json_array_get(schema, i + 1));
      }
    }
  } else if (json_is_object(schema)) {
    snprintf(err, SAH_ERRMAX, "hash form of schema is no longer recognized, use [type, {clauses}]");
    return 0;
  } else { snprintf(err, SAH_ERRMAX, "schema must be a string or an array"); return 0; }

  n = strlen(tn);
  if (n && tn[n - 1] == '*') { req = 1; n--; }
  if (n >= sizeof type || !type_name(tn, n)) {
    json_decref(cs0);
    snprintf(err, SAH_ERRMAX, "invalid type name '%.100s'", tn);
    return 0;
  }
  memcpy(type, tn, n);
  type[n] = 0;
  if (!cs0) cs0 = json_object();
  cs = norm_clset(cs0, req, err);
  json_decref(cs0);
  if (!cs) return 0;
  res = json_pack("[s o O]", type, cs, extras ? extras : json_object());
  if (extras == 0) json_decref(json_array_get(res, 2)); /* drop the extra ref of the new {} */
  return res;
}

/* ---- merging (Data::ModeMerge with merge.MODE. prefixes) ---- */

static const char *modes[] = { "normal", "add", "concat", "subtract", "delete", "keep" };
enum { M_NORMAL, M_ADD, M_CONCAT, M_SUBTRACT, M_DELETE, M_KEEP };

static int split_mode(const char *k, const char **name)
{
  size_t i;
  *name = k;
  if (strncmp(k, "merge.", 6)) return -1;
  for (i = 0; i < 6; i++) {
    size_t l = strlen(modes[i]);
    if (!strncmp(k + 6, modes[i], l) && k[6 + l] == '.') { *name = k + 7 + l; return (int)i; }
  }
  return -1;
}

static int clset_has_prefix(json_t *cs)
{
  const char *k, *nm;
  json_t *v;
  json_object_foreach(cs, k, v) if (split_mode(k, &nm) >= 0) return 1;
  return 0;
}

static json_t *arith(json_t *l, json_t *r, int mode)
{
  char b1[64], b2[64], *buf;
  const char *s1, *s2;
  size_t n1, n2;
  json_t *res;
  if (mode == M_CONCAT || (json_is_array(l) && json_is_array(r))) {
    if (json_is_array(l) && json_is_array(r)) {
      res = json_deep_copy(l);
      if (mode == M_SUBTRACT) {
        size_t i = json_array_size(res);
        while (i--) {
          size_t j;
          for (j = 0; j < json_array_size(r); j++)
            if (sahs_equal(json_array_get(res, i), json_array_get(r, j))) { json_array_remove(res, i); break; }
        }
      } else json_array_extend(res, r);
      return res;
    }
    n1 = sahs_str(l, b1, sizeof b1, &s1);
    n2 = sahs_str(r, b2, sizeof b2, &s2);
    buf = malloc(n1 + n2 + 1);
    if (!buf) return 0;
    memcpy(buf, s1, n1);
    memcpy(buf + n1, s2, n2);
    res = json_stringn(buf, n1 + n2);
    free(buf);
    return res;
  }
  if (json_is_integer(l) && json_is_integer(r))
    return json_integer(mode == M_ADD ? json_integer_value(l) + json_integer_value(r) : json_integer_value(l) - json_integer_value(r));
  {
    double d = mode == M_ADD ? sahs_num(l) + sahs_num(r) : sahs_num(l) - sahs_num(r);
    if (d == (double)(json_int_t)d && d > -9e18 && d < 9e18) return json_integer((json_int_t)d);
    return json_real(d);
  }
}

/* merge r into a copy of l; readd: keep prefixes of non-normal modes */
static json_t *merge2(json_t *l, json_t *r, int readd, char *err)
{
  json_t *res = json_object(), *v;
  const char *k, *nm;
  char t[600];
  (void)err;
  /* left side: names with their mode */
  json_object_foreach(l, k, v) {
    int m = split_mode(k, &nm);
    if (m > M_NORMAL && readd) json_object_set(res, k, v);
    else json_object_set(res, nm, v);
  }
  json_object_foreach(r, k, v) {
    int m = split_mode(k, &nm), lm = -2;
    json_t *lv = 0;
    size_t i;
    /* find the left entry for nm under any mode */
    if ((lv = json_object_get(l, nm))) lm = M_NORMAL;
    for (i = 0; !lv && i < 6; i++) {
      snprintf(t, sizeof t, "merge.%s.%s", modes[i], nm);
      if ((lv = json_object_get(l, t))) lm = (int)i;
    }
    if (m < 0) m = M_NORMAL;
    if (lm == M_KEEP) continue;
    if (lv && lm != M_NORMAL) { /* drop the prefixed left key if it was kept */
      snprintf(t, sizeof t, "merge.%s.%s", modes[lm], nm);
      json_object_del(res, t);
    }
    switch (m) {
    case M_NORMAL: json_object_set(res, nm, v); break;
    case M_DELETE: json_object_del(res, nm); break;
    case M_KEEP:
      if (readd) { snprintf(t, sizeof t, "merge.keep.%s", nm); json_object_del(res, nm); json_object_set(res, t, v); }
      else json_object_set(res, nm, v);
      break;
    default:
      if (lv) json_object_set_new(res, nm, arith(lv, v, m));
      else if (m == M_SUBTRACT && json_is_number(v)) json_object_set_new(res, nm, json_is_integer(v) ? json_integer(-json_integer_value(v)) : json_real(-sahs_num(v)));
      else json_object_set(res, nm, v);
    }
  }
  return res;
}

/* sah_merge_clsets: see riap_sah.h */
json_t *sah_merge_clsets(json_t *clsets, char *err)
{
  size_t n, i, last = (size_t)-1;
  json_t *merged;
  err[0] = 0;
  if (!json_is_array(clsets)) { snprintf(err, SAH_ERRMAX, "clause sets must be an array"); return 0; }
  n = json_array_size(clsets);
  for (i = 0; i < n; i++) {
    if (!json_is_object(json_array_get(clsets, i))) { snprintf(err, SAH_ERRMAX, "clause set %zu is not a hash", i); return 0; }
    if (clset_has_prefix(json_array_get(clsets, i))) last = i;
  }
  merged = json_array();
  for (i = 0; i < n; i++) {
    json_t *c = json_array_get(clsets, i), *m;
    int hp = clset_has_prefix(c);
    int prev_last = i > 0 && i - 1 == last;
    if (i == 0 || (!hp && !prev_last)) {
      json_array_append(merged, c);
      continue;
    }
    m = merge2(json_array_get(merged, json_array_size(merged) - 1), c,
               (i == last || prev_last) ? 0 : 1, err);
    if (!m) { json_decref(merged); return 0; }
    json_array_set_new(merged, json_array_size(merged) - 1, m);
  }
  return merged;
}

/* sah_normalize2: see riap_sah.h. Sah 0.9.47 dropped extras: what Perl
 * clients receive in metadata (and depend on) has two elements. */
json_t *sah_normalize2(json_t *schema, char *err)
{
  json_t *n = sah_normalize(schema, err);
  if (!n) return 0;
  if (json_object_size(json_array_get(n, 2))) {
    snprintf(err, SAH_ERRMAX, "Extras must be empty hashref (Sah 0.9.47)");
    json_decref(n);
    return 0;
  }
  json_array_remove(n, 2);
  return n;
}
