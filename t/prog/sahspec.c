/* sahspec: runs the Sah spectest (JSON files, one {"tests":[...]} each)
 * against lib/sah/. Usage: sahspec [DIR] (default ../shared/conformance/sah).
 * Prints TAP: one ok/not ok line per test, "ok N # SKIP reason" for tests
 * the library refuses as Perl-only (t/run counts them as skipped, never
 * as passed), and a per-file table.
 * Exit 0 when nothing failed, 1 otherwise, 111 on a system error. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "riap_sah.h"

static int n, npass, nfail, nskip;
static int fpass, ffail, fskip;
static const char *file;

static json_t *cur;

/* a test name on one TAP line: control characters as \n, \t, ... */
static const char *oneline(const char *s)
{
  static char b[512];
  size_t o = 0;
  for (; *s && o < sizeof b - 5; s++) {
    if (*s == '\n') { b[o++] = '\\'; b[o++] = 'n'; }
    else if ((unsigned char)*s < 32) { snprintf(b + o, 5, "\\x%02x", (unsigned char)*s); o += 4; }
    else if (*s == '#') { b[o++] = '\\'; b[o++] = '#'; }
    else b[o++] = *s;
  }
  b[o] = 0;
  return b;
}
static const char *inconsistent(json_t *t);
static void skip(const char *name, const char *why);

static void ok(int good, const char *name, const char *diag)
{
  const char *bad;
  if (!good && cur && (bad = inconsistent(cur))) {
    char w[1600];
    snprintf(w, sizeof w, "%s; it fails: %s", bad, diag ? diag : "");
    skip(name, w);
    return;
  }
  ++n;
  printf("%sok %d - %s: %s\n", good ? "" : "not ", n, file, oneline(name));
  if (!good && diag && *diag) printf("#   %s\n", diag);
  if (good) { npass++; fpass++; } else { nfail++; ffail++; }
}

static void skip(const char *name, const char *why)
{
  ++n;
  printf("ok %d - %s: %s # SKIP ", n, file, oneline(name));
  printf("%s\n", oneline(why));
  nskip++; fskip++;
}

/* Perl-ish equality: scalars compare as strings ("1" == 1) */
static int loose_eq(json_t *a, json_t *b)
{
  if (!a || !b) return !a && !b;
  if (json_is_array(a) && json_is_array(b)) {
    size_t i;
    if (json_array_size(a) != json_array_size(b)) return 0;
    for (i = 0; i < json_array_size(a); i++)
      if (!loose_eq(json_array_get(a, i), json_array_get(b, i))) return 0;
    return 1;
  }
  if (json_is_object(a) && json_is_object(b)) {
    const char *k;
    json_t *v;
    if (json_object_size(a) != json_object_size(b)) return 0;
    json_object_foreach(a, k, v) if (!loose_eq(v, json_object_get(b, k))) return 0;
    return 1;
  }
  if (json_is_array(a) || json_is_array(b) || json_is_object(a) || json_is_object(b)) return 0;
  {
    char *x = json_dumps(a, JSON_ENCODE_ANY), *y = json_dumps(b, JSON_ENCODE_ANY);
    int r;
    if (x && x[0] == '"') { memmove(x, x + 1, strlen(x)); x[strlen(x) - 1] = 0; }
    if (y && y[0] == '"') { memmove(y, y + 1, strlen(y)); y[strlen(y) - 1] = 0; }
    r = x && y && !strcmp(x, y);
    free(x);
    free(y);
    return r;
  }
}

static int unsupported(const char *err)
{
  return strstr(err, "not supported") != 0;
}

static void t_normalize(json_t *t, const char *name)
{
  char err[SAH_ERRMAX], diag[1200];
  json_t *res = sah_normalize(json_object_get(t, "input"), err);
  if (json_is_true(json_object_get(t, "dies")) || json_integer_value(json_object_get(t, "dies"))) {
    ok(!res, name, "normalized instead of dying");
  } else {
    char *got = res ? json_dumps(res, JSON_COMPACT) : 0;
    snprintf(diag, sizeof diag, "got %s%s", got ? got : "error: ", got ? "" : err);
    ok(res && loose_eq(res, json_object_get(t, "result")), name, diag);
    free(got);
  }
  json_decref(res);
}

static void t_merge(json_t *t, const char *name)
{
  char err[SAH_ERRMAX], diag[1200];
  json_t *res = sah_merge_clsets(json_object_get(t, "input"), err);
  char *got = res ? json_dumps(res, JSON_COMPACT) : 0;
  snprintf(diag, sizeof diag, "got %s%s", got ? got : "error: ", got ? "" : err);
  ok(res && loose_eq(res, json_object_get(t, "result")), name, diag);
  free(got);
  json_decref(res);
}

/* one input: returns 1 if the outcome is as expected */
static int check_input(sah_schema *s, json_t *in, int want_valid, json_t *t, char *diag, size_t dn)
{
  char err[SAH_ERRMAX], err1[SAH_ERRMAX];
  json_t *v = in ? json_deep_copy(in) : 0, *v1 = in ? json_deep_copy(in) : 0;
  json_t *we = json_object_get(t, "errors"), *ww = json_object_get(t, "warnings"), *out = json_object_get(t, "output");
  int nerr, nwarn, valid, valid1, good = 1;
  if (json_is_null(v)) { json_decref(v); v = 0; }
  if (json_is_null(v1)) { json_decref(v1); v1 = 0; }
  valid = sah_validate_full(s, &v, err, &nerr, &nwarn);
  valid1 = sah_validate(s, &v1, err1);
  if (valid != want_valid || valid1 != want_valid) {
    snprintf(diag, dn, "valid=%d (first-error mode %d), want %d; message: %s", valid, valid1, want_valid, err[0] ? err : err1);
    good = 0;
  } else if (we && json_integer_value(we) != nerr) {
    snprintf(diag, dn, "%d errors, want %d (%s)", nerr, (int)json_integer_value(we), err);
    good = 0;
  } else if (ww && json_integer_value(ww) != nwarn) {
    snprintf(diag, dn, "%d warnings, want %d", nwarn, (int)json_integer_value(ww));
    good = 0;
  } else if (out && !loose_eq(v ? v : json_null(), out)) {
    char *g = json_dumps(v ? v : json_null(), JSON_ENCODE_ANY | JSON_COMPACT);
    snprintf(diag, dn, "output %s", g ? g : "?");
    free(g);
    good = 0;
  }
  json_decref(v);
  json_decref(v1);
  return good;
}

/* a failing test whose data contradicts its own tags ("type:X" but the schema
 * is of another type, "clause:X" but the schema has no clause X) tests
 * nothing of X: upstream lost a wrapping clause. Reported as a skip. */
static const char *inconsistent(json_t *t)
{
  static char why[300];
  char err[SAH_ERRMAX];
  json_t *tags = json_object_get(t, "tags"), *norm = sah_normalize(json_object_get(t, "schema"), err);
  const char *st;
  size_t i;
  why[0] = 0;
  if (!norm) return 0;
  st = json_string_value(json_array_get(norm, 0));
  for (i = 0; !why[0] && i < json_array_size(tags); i++) {
    const char *tg = json_string_value(json_array_get(tags, i)), *k;
    json_t *v;
    int found = 0;
    if (!tg) continue;
    if (!strncmp(tg, "type:", 5) && strcmp(tg + 5, st))
      snprintf(why, sizeof why, "inconsistent test data: tagged %s but the schema is of type %s (upstream spectest bug)", tg, st);
    if (strncmp(tg, "clause:", 7)) continue;
    json_object_foreach(json_array_get(norm, 1), k, v) {
      size_t l = strlen(tg + 7);
      if (!strncmp(k, tg + 7, l) && (!k[l] || k[l] == '.')) found = 1;
    }
    if (!found)
      snprintf(why, sizeof why, "inconsistent test data: tagged %s but the schema has no such clause (upstream spectest bug)", tg);
  }
  json_decref(norm);
  return why[0] ? why : 0;
}

static void t_schema(json_t *t, const char *name)
{
  char err[SAH_ERRMAX], diag[1200] = "";
  json_t *dies = json_object_get(t, "dies");
  sah_schema *s = sah_compile(json_object_get(t, "schema"), err);
  if (dies && json_is_true(dies) | (int)json_integer_value(dies)) {
    ok(!s, name, "compiled instead of dying");
    sah_free(s);
    return;
  }
  if (!s) {
    if (unsupported(err)) skip(name, err);
    else ok(0, name, err);
    return;
  }
  if (json_object_get(t, "valid_inputs") || json_object_get(t, "invalid_inputs")) {
    json_t *a, *bad = 0;
    size_t i;
    int good = 1;
    a = json_object_get(t, "valid_inputs");
    for (i = 0; good && i < json_array_size(a); i++)
      if (!(good = check_input(s, json_array_get(a, i), 1, t, diag, sizeof diag))) bad = json_array_get(a, i);
    a = json_object_get(t, "invalid_inputs");
    for (i = 0; good && i < json_array_size(a); i++)
      if (!(good = check_input(s, json_array_get(a, i), 0, t, diag, sizeof diag))) bad = json_array_get(a, i);
    if (bad) {
      char *in = json_dumps(bad, JSON_ENCODE_ANY | JSON_COMPACT), d2[1200];
      snprintf(d2, sizeof d2, "input %.200s: %.900s", in ? in : "?", diag);
      snprintf(diag, sizeof diag, "%s", d2);
      free(in);
    }
    ok(good, name, diag);
  } else {
    ok(check_input(s, json_object_get(t, "input"), (int)json_integer_value(json_object_get(t, "valid")), t, diag, sizeof diag), name, diag);
  }
  sah_free(s);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

int main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : "../shared/conformance/sah";
  struct dirent **ents;
  int ne, i;
  char path[4096], tab[64][160];
  int ntab = 0;

  setvbuf(stdout, 0, _IOLBF, 0);
  ne = scandir(dir, &ents, 0, by_name);
  if (ne < 0) { fprintf(stderr, "sahspec: fatal: unable to read %s\n", dir); return 111; }
  for (i = 0; i < ne; i++) {
    const char *nm = ents[i]->d_name;
    size_t l = strlen(nm);
    json_error_t je;
    json_t *doc, *tests;
    size_t k;
    if (l < 6 || strcmp(nm + l - 5, ".json")) { free(ents[i]); continue; }
    snprintf(path, sizeof path, "%s/%s", dir, nm);
    doc = json_load_file(path, 0, &je);
    if (!doc) { fprintf(stderr, "sahspec: fatal: %s: %s\n", path, je.text); return 111; }
    file = nm;
    fpass = ffail = fskip = 0;
    tests = json_object_get(doc, "tests");
    for (k = 0; k < json_array_size(tests); k++) {
      json_t *t = json_array_get(tests, k);
      const char *name = json_string_value(json_object_get(t, "name"));
      char nb[64];
      if (!name) { snprintf(nb, sizeof nb, "test %zu", k); name = nb; }
      cur = t;
      if (!strncmp(nm, "00-", 3)) t_normalize(t, name);
      else if (!strncmp(nm, "01-", 3)) t_merge(t, name);
      else t_schema(t, name);
    }
    if (ntab < 64)
      snprintf(tab[ntab++], sizeof tab[0], "%.100s: %d passed, %d failed, %d skipped", nm, fpass, ffail, fskip);
    json_decref(doc);
    free(ents[i]);
  }
  free(ents);
  for (i = 0; i < ntab; i++) printf("# %s\n", tab[i]);
  printf("# total: %d passed, %d failed, %d skipped\n", npass, nfail, nskip);
  printf("1..%d\n", n);
  return nfail ? 1 : 0;
}
