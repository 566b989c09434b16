/* test_sah: unit tests of lib/sah/ (riap_sah.h). */
#include <stdlib.h>
#include "unit.h"
#include "riap_sah.h"

static json_t *J(const char *s)
{
  json_error_t e;
  json_t *j = json_loads(s, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
  if (!j) printf("# bad JSON in test: %s: %s\n", s, e.text);
  return j;
}

/* validate text value against text schema; returns the message ("" if valid) */
static const char *msg(const char *schema, const char *value)
{
  static char err[SAH_ERRMAX];
  char cerr[SAH_ERRMAX];
  json_t *sj = J(schema), *v = value ? J(value) : 0;
  sah_schema *s = sah_compile(sj, cerr);
  json_decref(sj);
  if (!s) { snprintf(err, sizeof err, "COMPILE: %.400s", cerr); json_decref(v); return err; }
  if (v && json_is_null(v)) { json_decref(v); v = 0; }
  sah_validate(s, &v, err);
  json_decref(v);
  sah_free(s);
  return err;
}

/* the compile error for a schema ("" if it compiles) */
static const char *cerr(const char *schema)
{
  static char err[SAH_ERRMAX];
  json_t *sj = J(schema);
  sah_schema *s = sah_compile(sj, err);
  json_decref(sj);
  if (s) { err[0] = 0; sah_free(s); }
  return err;
}

/* value after defaults (and, typed, in the JSON form of its type), as compact JSON */
static const char *after(const char *schema, const char *value, int typed)
{
  static char out[512];
  char err[SAH_ERRMAX];
  json_t *sj = J(schema), *v = value ? J(value) : 0;
  sah_schema *s = sah_compile(sj, err);
  char *d;
  json_decref(sj);
  if (!s) { json_decref(v); return "COMPILE ERROR"; }
  if (!(typed ? sah_validate_typed : sah_validate)(s, &v, err)) snprintf(out, sizeof out, "INVALID: %.400s", err);
  else {
    d = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : 0;
    snprintf(out, sizeof out, "%s", d ? d : "undef");
    free(d);
  }
  json_decref(v);
  sah_free(s);
  return out;
}

static const char *filled(const char *schema, const char *value) { return after(schema, value, 0); }
static const char *typed(const char *schema, const char *value) { return after(schema, value, 1); }

static const char *completions(const char *schema)
{
  static char out[512];
  char err[SAH_ERRMAX];
  json_t *sj = J(schema), *c;
  sah_schema *s = sah_compile(sj, err);
  char *d;
  json_decref(sj);
  if (!s) return "COMPILE ERROR";
  c = sah_completions(s);
  d = c ? json_dumps(c, JSON_COMPACT) : 0;
  snprintf(out, sizeof out, "%s", d ? d : "none");
  free(d);
  json_decref(c);
  sah_free(s);
  return out;
}

int main(void)
{
  char err[SAH_ERRMAX];
  json_t *j, *n;
  sah_schema *s;

  /* messages in the Perl shape */
  CHECK_STR(msg("[\"int*\",{\"max\":10}]", "11"), "Must be at most 10", "max message");
  CHECK_STR(msg("[\"int*\",{\"max\":10}]", "10"), "", "valid value: empty message");
  CHECK_STR(msg("\"int*\"", "\"x\""), "Not of type integer", "type message");
  CHECK_STR(msg("\"int*\"", "null"), "Required but not specified", "req message");
  CHECK_STR(msg("[\"str*\",{\"match\":\"^\\\\w+$\"}]", "\"a b\""), "Must match regex pattern ^\\w+$", "match message");
  CHECK_STR(msg("[\"array*\",{\"of\":\"int*\"}]", "[1,2,\"x\"]"), "Not of type integer (element 2)", "element context");
  CHECK_STR(msg("[\"hash\",{\"keys\":{\"foo\":[\"int\",\"min\",1]}}]", "{\"foo\":0}"), "Must be at least 1 (key 'foo')", "key context");
  CHECK_STR(msg("[\"array\",{\"of\":[\"array\",{\"of\":\"int\"}]}]", "[[1],[2,\"a\"]]"), "Not of type integer (element 1 of element 1)", "nested context");
  CHECK_STR(msg("[\"int\",{\"min\":1,\"min.err_msg\":\"Too small\"}]", "0"), "Too small", "err_msg attribute");
  CHECK_STR(msg("[\"int\",\"!in\",[1,2]]", "1"), "Must not be one of [1,2]", "!in message");
  CHECK_STR(msg("[\"int\",\"between\",[1,5]]", "7"), "Must be between 1 and 5", "between message");
  CHECK_STR(msg("[\"str\",\"len_between\",[1,2]]", "\"abc\""), "Length must be between 1 and 2", "len_between message");
  CHECK_STR(msg("[\"int\",\"div_by\",3]", "7"), "Must be divisible by 3", "div_by message");
  CHECK_STR(msg("[\"hash\",\"req_keys\",[\"a\"]]", "{}"), "Missing required key 'a'", "req_keys message");
  CHECK_STR(msg("[\"hash\",\"keys\",{\"a\":\"int\"}]", "{\"b\":1}"), "Key 'b' is not allowed", "keys restrict message");

  /* types decided by JSON, with Perl's number strings */
  CHECK_STR(msg("\"int\"", "1.0"), "", "int accepts an integral real");
  CHECK_STR(msg("\"int\"", "\"12\""), "", "int accepts an integer string");
  CHECK_STR(msg("\"int\"", "true"), "Not of type integer", "int rejects a boolean");
  CHECK_STR(msg("\"float\"", "\" 1.5e3 \""), "", "float accepts a number string");
  CHECK_STR(msg("\"num\"", "\"0x10\""), "Not of type number", "num rejects hex");
  CHECK_STR(msg("\"str\"", "1.5"), "", "str accepts a number");
  CHECK_STR(msg("\"str\"", "false"), "Not of type text", "str rejects a boolean");
  CHECK_STR(msg("\"bool\"", "true"), "", "bool accepts true");
  CHECK_STR(msg("[\"buf\",\"len\",2]", "\"\\u00ff\\u0000\""), "", "buf: code points are bytes");
  CHECK_STR(msg("\"buf\"", "\"\\u0100\""), "Not of type buffer", "buf rejects code points over 255");
  CHECK_STR(msg("[\"str\",\"len\",1]", "\"\\u00e9\""), "", "str length counts characters");
  CHECK_STR(msg("[\"cistr\",\"in\",[\"ABC\"]]", "\"abc\""), "", "cistr compares case-insensitively");
  CHECK_STR(msg("[\"cistr\",\"match\",\"^a\"]", "\"ABC\""), "", "cistr matches case-insensitively");

  /* exists, as the spectest meant it */
  CHECK_STR(msg("[\"array\",\"exists\",[\"int\",\"max\",2]]", "[3,1]"), "", "exists: one element fits");
  CHECK(msg("[\"array\",\"exists\",[\"int\",\"max\",2]]", "[3]")[0] != 0, "exists: none fits");
  CHECK_STR(msg("[\"str\",\"exists\",[\"str\",\"is\",\"a\"]]", "\"ba\""), "", "exists on characters");

  /* the JSON form of the type (sah_validate_typed), what functions get */
  CHECK_STR(typed("\"int\"", "\"2\""), "2", "typed: a numeric string for an int is a number");
  CHECK_STR(typed("\"int\"", "\"-17\""), "-17", "typed: negative");
  CHECK_STR(typed("\"int\"", "2.0"), "2", "typed: 2.0 for an int is 2");
  CHECK_STR(typed("\"int\"", "\"99999999999999999999\""), "\"99999999999999999999\"", "typed: out of range, kept");
  CHECK_STR(filled("\"int\"", "\"2\""), "\"2\"", "untyped: kept as given (the spec's output)");
  CHECK_STR(typed("\"num\"", "\" 2.5 \""), "2.5", "typed: num from a string with blanks");
  CHECK_STR(typed("\"num\"", "\"7\""), "7", "typed: an integral num stays integral");
  CHECK_STR(typed("\"float\"", "\"7\""), "7.0", "typed: a float is real");
  CHECK_STR(typed("\"num\"", "\"inf\""), "\"inf\"", "typed: infinity has no JSON form, kept");
  CHECK_STR(typed("\"bool\"", "\"0\""), "false", "typed: \"0\" is false");
  CHECK_STR(typed("\"bool\"", "1"), "true", "typed: 1 is true");
  CHECK_STR(typed("\"bool\"", "\"\""), "false", "typed: empty is false");
  CHECK_STR(typed("\"str\"", "2"), "2", "typed: a str is left alone");
  CHECK_STR(typed("\"str\"", "\"2\""), "\"2\"", "typed: a numeric str stays a string");
  CHECK_STR(typed("[\"array\",{\"of\":\"int\"}]", "[\"1\",2,\"3\"]"), "[1,2,3]", "typed: array elements");
  CHECK_STR(typed("[\"hash\",{\"keys\":{\"n\":\"num\",\"s\":\"str\"}}]", "{\"n\":\"1.5\",\"s\":\"1.5\"}"),
            "{\"n\":1.5,\"s\":\"1.5\"}", "typed: hash keys by their schemas");
  CHECK_STR(typed("[\"int\",\"default\",\"5\"]", 0), "5", "typed: a default too");
  CHECK_STR(typed("[\"int\",\"min\",3]", "\"2\""), "INVALID: Must be at least 3", "typed: invalid is invalid");
  CHECK_STR(typed("\"any\"", "\"2\""), "\"2\"", "typed: any is left alone");

  /* defaults */
  CHECK_STR(filled("[\"int\",\"default\",5]", 0), "5", "default fills an absent value");
  CHECK_STR(filled("[\"int\",\"default\",5]", "null"), "5", "default fills null");
  CHECK_STR(filled("[\"int*\",\"default\",\"x\"]", 0), "INVALID: Not of type integer", "a default is validated");
  CHECK_STR(filled("[\"hash\",{\"keys\":{\"a\":\"int\",\"b\":[\"int\",\"default\",2]}}]", "{}"), "{\"b\":2}", "keys: defaults created");
  CHECK_STR(filled("[\"array\",{\"elems\":[\"int\",[\"int\",\"default\",2]]}]", "[1]"), "[1,2]", "elems: defaults created");
  CHECK_STR(filled("[\"array\",{\"of\":[\"int\",\"default\",0]}]", "[1,null]"), "[1,0]", "of: null element filled");

  /* refusals */
  CHECK_STR(cerr("\"foo\""), "unknown type 'foo'", "unknown type refused");
  CHECK_STR(cerr("\"obj\""), "type 'obj' needs Perl objects, not supported", "obj refused");
  CHECK_STR(cerr("[\"int\",\"foo\",1]"), "unknown clause 'foo' for type 'int'", "unknown clause refused");
  CHECK_STR(cerr("[\"int\",\"match\",\"a\"]"), "clause 'match' does not apply to type 'int'", "clause of another type refused");
  CHECK_STR(cerr("[\"int\",\"check\",\"$_ > 1\"]"), "clause 'check' needs Perl (expressions or filters), not supported", "check refused");
  CHECK_STR(cerr("[\"int\",\"min=\",\"1+1\"]"), "expression in clause 'min' needs Perl, not supported", "expression refused");
  CHECK_STR(cerr("[\"str\",\"prefilters\",[\"Str::trim\"]]"), "clause 'prefilters' needs Perl (expressions or filters), not supported", "filters refused");
  CHECK(!strncmp(cerr("[\"str\",\"match\",\"(\"]"), "invalid regex in clause 'match'", 31), "bad regex refused");
  CHECK_STR(cerr("[\"int\",\"min\",1,\"min.foo\",2]"), "unknown attribute 'foo' of clause 'min'", "unknown attribute refused");
  CHECK_STR(cerr("[\"int\",\"_note\",1,\"min._x\",2,\"min\",0]"), "", "underscore keys ignored");
  CHECK_STR(cerr("[\"int\",\"div_by\",0]"), "clause 'div_by': division by zero", "div_by 0 refused");

  /* normalization and merging */
  j = J("[\"int*\",\"min\",1]");
  n = sah_normalize(j, err);
  {
    char *d = n ? json_dumps(n, JSON_COMPACT | JSON_SORT_KEYS) : 0;
    CHECK_STR(d, "[\"int\",{\"min\":1,\"req\":1},{}]", "normalize flattened form");
    free(d);
  }
  json_decref(n);
  json_decref(j);
  j = J("[{\"in\":[1,2]},{\"merge.add.in\":[3]}]");
  n = sah_merge_clsets(j, err);
  {
    char *d = n ? json_dumps(n, JSON_COMPACT) : 0;
    CHECK_STR(d, "[{\"in\":[1,2,3]}]", "merge.add appends");
    free(d);
  }
  json_decref(n);
  json_decref(j);

  /* accessors and completions */
  j = J("[\"array*\",{\"of\":[\"int\",\"in\",[1,2]],\"default\":[1]}]");
  s = sah_compile(j, err);
  json_decref(j);
  CHECK(s != 0, "compile array schema");
  if (s) {
    CHECK_STR(sah_type(s), "array", "sah_type");
    CHECK(sah_is_req(s) == 1, "sah_is_req");
    CHECK(json_is_array(sah_default(s)), "sah_default");
    CHECK(sah_elem(s) != 0, "sah_elem");
    if (sah_elem(s)) {
      json_t *c = sah_completions(sah_elem(s));
      CHECK(c && json_array_size(c) == 2, "element completions from in");
      json_decref(c);
    }
    sah_free(s);
  }
  CHECK_STR(completions("\"bool\""), "[0,1]", "bool completions: 0 and 1");
  CHECK_STR(completions("[\"int\",\"between\",[1,3]]"), "[1,2,3]", "small int range completions");
  CHECK_STR(completions("[\"int\",\"xmin\",0,\"max\",2]"), "[1,2]", "xmin/max range");
  CHECK_STR(completions("[\"int\",\"min\",0]"), "none", "open range: none");
  CHECK_STR(completions("[\"str\",\"is\",\"x\"]"), "[\"x\"]", "a scalar is: its value");
  {
    json_t *sj = J("[\"str\",{\"examples\":[\"a\",{\"value\":\"b\"}]}]");
    json_t *sj2 = J("[\"str\",{\"in\":[\"c\"],\"examples\":[\"a\"]}]");
    sah_schema *s1 = sah_compile(sj, err), *s2 = sah_compile(sj2, err);
    json_t *x = s1 ? sah_examples(s1) : 0;
    CHECK(json_array_size(x) == 2, "sah_examples: the examples clause");
    CHECK(s2 && !sah_examples(s2), "sah_examples: none beside an in clause");
    sah_free(s1); sah_free(s2); json_decref(sj); json_decref(sj2);
  }

  /* full mode counts */
  j = J("[\"int\",{\"min\":5,\"div_by\":2,\"max\":0,\"max.err_level\":\"warn\"}]");
  s = sah_compile(j, err);
  json_decref(j);
  if (s) {
    int ne = 0, nw = 0;
    json_t *v = json_integer(3);
    CHECK(!sah_validate_full(s, &v, err, &ne, &nw), "full mode: invalid");
    CHECK(ne == 2 && nw == 1, "full mode counts errors and warnings");
    json_decref(v);
    sah_free(s);
  }
  return UNIT_DONE();
}
