/* test_argv.c: command-line words into arguments (riap_argv_args), the
 * rules of Perl's Perinci::Sub::GetArgs::Argv and Getopt::Long. */
#include "unit.h"
#include "riap_argv.h"
#include <stdlib.h>

static const char *META =
  "{\"a\": {\"schema\": \"int*\", \"pos\": 0},"
  " \"b\": {\"schema\": [\"int\", {}], \"pos\": 1},"
  " \"file_name\": {\"schema\": \"str\"},"
  " \"round\": {\"schema\": \"bool\"},"
  " \"with_foo\": {\"schema\": \"bool*\"},"
  " \"is_bar\": {\"schema\": \"bool\"},"
  " \"no_cache\": {\"schema\": \"bool\"},"
  " \"flag\": {\"schema\": [\"bool\", {\"is\": 1}], \"cmdline_aliases\": {\"f\": {}}},"
  " \"off\": {\"schema\": [\"bool\", {\"is\": 0}]},"
  " \"v\": {\"schema\": \"bool\"},"
  " \"tag\": {\"schema\": [\"array\", {\"of\": \"str*\"}], \"cmdline_aliases\": {\"t\": {}}},"
  " \"files\": {\"schema\": [\"array\", {\"of\": \"str\"}], \"x.name.is_plural\": 1},"
  " \"env\": {\"schema\": [\"hash\", {\"of\": \"str\"}]},"
  " \"data\": {\"schema\": \"hash\"},"
  " \"bin\": {\"schema\": \"buf\"},"
  " \"secret\": {\"schema\": \"str\", \"tags\": [\"hidden-cli\"]},"
  " \"quiet\": {\"schema\": \"str\", \"cmdline_aliases\": {\"q\": {\"is_flag\": 1}, \"Q\": {\"schema\": \"str\"}}},"
  " \"needs\": {\"schema\": \"str\", \"deps\": {\"arg\": \"file_name\"}}}";

static json_t *meta;
static char what[512];

static json_t *words(const char *json)
{
  json_t *w = json_loads(json, 0, 0);
  if (!w) { printf("# bad test words %s\n", json); exit(1); }
  return w;
}

/* ok: argv gives exactly the args in want */
static void ok(json_t *m, const char *argv, const char *want)
{
  char why[RIAP_ARGV_ERRMAX];
  int status = 0;
  json_t *w = words(argv), *got = riap_argv_args(m, w, &status, why), *exp = json_loads(want, 0, 0);
  char *text = got ? json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT) : 0;
  snprintf(what, sizeof what, "%s gives %s", argv, want);
  CHECK(got && json_equal(got, exp), what);
  if (!got || !json_equal(got, exp)) printf("#   got: %s (%d %s)\n", text ? text : "NULL", status, got ? "" : why);
  free(text);
  json_decref(got);
  json_decref(exp);
  json_decref(w);
}

/* bad: argv is refused with status and the message msg */
static void bad(json_t *m, const char *argv, int want_status, const char *msg)
{
  char why[RIAP_ARGV_ERRMAX] = "";
  int status = 0;
  json_t *w = words(argv), *got = riap_argv_args(m, w, &status, why);
  snprintf(what, sizeof what, "%s is refused (%d)", argv, want_status);
  CHECK(!got && status == want_status, what);
  snprintf(what, sizeof what, "%s: message", argv);
  CHECK_STR(why, msg, what);
  json_decref(got);
  json_decref(w);
}

int main(void)
{
  json_t *slurpy, *sjoin, *shash;
  meta = json_loads(META, 0, 0);
  if (!meta) { printf("# bad META\n"); return 1; }

  ok(meta, "[]", "{}");
  ok(meta, "[\"--a\", \"2\", \"--b\", \"3\"]", "{\"a\": \"2\", \"b\": \"3\"}");
  ok(meta, "[\"--a=2\", \"--b=\"]", "{\"a\": \"2\", \"b\": \"\"}");
  ok(meta, "[\"2\", \"3\"]", "{\"a\": \"2\", \"b\": \"3\"}");
  ok(meta, "[\"2\", \"--b\", \"3\"]", "{\"a\": \"2\", \"b\": \"3\"}");
  ok(meta, "[\"--file-name\", \"x\"]", "{\"file_name\": \"x\"}");
  bad(meta, "[\"--file_name\", \"x\"]", 500, "Unknown option: file_name");
  ok(meta, "[\"--file-n\", \"x\"]", "{\"file_name\": \"x\"}");
  bad(meta, "[\"--fi\", \"x\"]", 500, "Option fi is ambiguous (file, file-name, files-json)");
  bad(meta, "[\"--zz\"]", 500, "Unknown option: zz");
  ok(meta, "[\"--c\"]", "{\"no_cache\": false}");          /* the unique prefix of --cache */
  bad(meta, "[\"--a\"]", 500, "Option a requires an argument");
  ok(meta, "[\"--file-name\", \"--a\"]", "{\"file_name\": \"--a\"}");
  ok(meta, "[\"--a\", \"-5\"]", "{\"a\": \"-5\"}");
  bad(meta, "[\"-5\"]", 500, "Unknown option: 5");
  ok(meta, "[\"--\", \"--a\", \"-x\"]", "{\"a\": \"--a\", \"b\": \"-x\"}");
  ok(meta, "[\"-\"]", "{\"a\": \"-\"}");

  /* bools and their negations (Getopt::Long::Negate::EN) */
  ok(meta, "[\"--round\"]", "{\"round\": true}");
  ok(meta, "[\"--no-round\"]", "{\"round\": false}");
  ok(meta, "[\"--noround\"]", "{\"round\": false}");
  bad(meta, "[\"--round=1\"]", 500, "Option round does not take an argument");
  ok(meta, "[\"--without-foo\"]", "{\"with_foo\": false}");
  bad(meta, "[\"--no-with-foo\"]", 500, "Unknown option: no-with-foo");
  ok(meta, "[\"--isnt-bar\"]", "{\"is_bar\": false}");
  ok(meta, "[\"--cache\"]", "{\"no_cache\": false}");
  ok(meta, "[\"--flag\", \"-f\"]", "{\"flag\": true}");
  bad(meta, "[\"--no-flag\"]", 500, "Unknown option: no-flag");
  ok(meta, "[\"--no-off\"]", "{\"off\": false}");
  bad(meta, "[\"--off\"]", 500, "Unknown option: off");
  ok(meta, "[\"-v\"]", "{\"v\": true}");
  bad(meta, "[\"--no-v\"]", 500, "Unknown option: no-v");

  /* bundling: -fv is -f -v, -t5 is -t 5 */
  ok(meta, "[\"-fv\"]", "{\"flag\": true, \"v\": true}");
  ok(meta, "[\"-ft5\", \"-t\", \"6\"]", "{\"flag\": true, \"tag\": [\"5\", \"6\"]}");
  bad(meta, "[\"-fx\"]", 500, "Unknown option: x");
  bad(meta, "[\"-round\"]", 500, "Unknown option: r");
  ok(meta, "[\"-v-\", \"--a\"]", "{\"v\": true, \"a\": \"--a\"}");     /* the rest, "--", ends the options */
  ok(meta, "[\"-v-file-name\", \"x\"]", "{\"v\": true, \"file_name\": \"x\"}");   /* the rest is --file-name */
  {                                             /* a long bundle costs its length, not its square */
    size_t n = 200000;
    char *big = malloc(n + 16), *want = "{\"v\": true}";
    memcpy(big, "[\"-", 3);
    memset(big + 3, 'v', n);
    strcpy(big + 3 + n, "\"]");
    ok(meta, big, want);
    memset(big + 3, 'x', 400);                  /* a long name that is no option */
    memcpy(big, "[\"--", 4);
    strcpy(big + 404, "\"]");
    {
      char msg[256] = "Unknown option: ";     /* capped at 200 bytes */
      memset(msg + 16, 'x', 200);
      msg[216] = 0;
      bad(meta, big, 500, msg);
    }
    free(big);
  }

  /* arrays and hashes of simple scalars; plural names; --NAME-json */
  ok(meta, "[\"--tag\", \"a\", \"--tag\", \"b\"]", "{\"tag\": [\"a\", \"b\"]}");
  ok(meta, "[\"--file\", \"a\", \"--file=b\"]", "{\"files\": [\"a\", \"b\"]}");
  bad(meta, "[\"--files\", \"a\"]", 500, "Invalid JSON in option --files-json: a: invalid token near 'a'");
  ok(meta, "[\"--files-json\", \"[1, 2]\"]", "{\"files\": [1, 2]}");
  ok(meta, "[\"--env\", \"A=1\", \"--env\", \"B=x=y\"]", "{\"env\": {\"A\": \"1\", \"B\": \"x=y\"}}");
  bad(meta, "[\"--env\", \"A\"]", 500, "Option env, key \"A\", requires a value");
  ok(meta, "[\"--data\", \"x\"]", "{\"data\": \"x\"}");
  ok(meta, "[\"--data-json\", \"{\\\"k\\\": [1]}\"]", "{\"data\": {\"k\": [1]}}");
  bad(meta, "[\"--data-json\", \"{\"]", 500,
      "Invalid JSON in option --data-json: {: string or '}' expected near end of file");
  bad(meta, "[\"--a-json\", \"1\"]", 500, "Unknown option: a-json");
  ok(meta, "[\"--bin-base64\", \"aGk=\"]", "{\"bin\": \"hi\"}");
  ok(meta, "[\"--bin\", \"x\"]", "{\"bin\": \"x\"}");

  /* hidden, aliases, deps */
  bad(meta, "[\"--secret\", \"x\"]", 500, "Unknown option: secret");
  ok(meta, "[\"-q\"]", "{\"quiet\": true}");
  ok(meta, "[\"-Q\"]", "{\"quiet\": true}");
  bad(meta, "[\"--needs\", \"x\"]", 400, "You specify 'needs', but don't specify 'file_name' (upon which 'needs' depends)");
  ok(meta, "[\"--needs\", \"x\", \"--file-name\", \"y\"]", "{\"needs\": \"x\", \"file_name\": \"y\"}");

  /* positional words */
  bad(meta, "[\"1\", \"2\", \"3\", \"4\"]", 500, "There are extra, unassigned elements in array: [3, 4]");
  bad(meta, "[\"--a\", \"1\", \"2\"]", 400, "You specified option --a but also argument #0");
  slurpy = json_loads("{\"x\": {\"schema\": \"str\", \"pos\": 0},"
                      " \"rest\": {\"schema\": [\"array\", {\"of\": \"int\"}], \"pos\": 1, \"slurpy\": 1}}", 0, 0);
  ok(slurpy, "[\"a\", \"1\", \"2\", \"3\"]", "{\"x\": \"a\", \"rest\": [\"1\", \"2\", \"3\"]}");
  ok(slurpy, "[\"a\"]", "{\"x\": \"a\"}");
  ok(slurpy, "[\"--rest\", \"1\", \"a\"]", "{\"x\": \"a\", \"rest\": [\"1\"]}");
  bad(slurpy, "[\"--rest\", \"1\", \"a\", \"2\"]", 400, "You specified option --rest but also argument #1");
  sjoin = json_loads("{\"words\": {\"schema\": \"str\", \"pos\": 0, \"greedy\": 1}}", 0, 0);
  ok(sjoin, "[\"a\", \"b\", \"c\"]", "{\"words\": \"a b c\"}");
  {                                             /* 200,000 words join in linear time */
    size_t n = 200000, k;
    char *big = malloc(n * 4 + 8), *want = malloc(n * 2 + 32);
    strcpy(big, "[");
    strcpy(want, "{\"words\": \"");
    for (k = 0; k < n; k++) strcpy(big + 1 + k * 4, k ? ",\"a\"" : "\"a\" ");
    strcpy(big + 1 + n * 4, "]");
    strcpy(want + 11, "a");
    for (k = 1; k < n; k++) strcpy(want + 10 + k * 2, " a");
    strcpy(want + 10 + n * 2, "\"}");
    ok(sjoin, big, want);
    free(big);
    free(want);
  }
  shash = json_loads("{\"kv\": {\"schema\": \"hash\", \"pos\": 0, \"slurpy\": 1}}", 0, 0);
  ok(shash, "[\"a=1\", \"b=2=3\"]", "{\"kv\": {\"a\": \"1\", \"b\": \"2=3\"}}");
  bad(shash, "[\"a=1\", \"b\"]", 500, "Invalid key=value pair in element #1");

  /* no args in the metadata: every word is too many */
  ok(0, "[]", "{}");
  bad(0, "[\"x\"]", 500, "There are extra, unassigned elements in array: [x]");
  bad(0, "[\"--x\"]", 500, "Unknown option: x");

  /* an argument whose option name is taken gets NAME-arg */
  {
    json_t *clash = json_loads("{\"a_b\": {\"schema\": \"str\"}, \"a-b\": {\"schema\": \"str\"}}", 0, 0);
    ok(clash, "[\"--a-b\", \"1\", \"--a-b-arg\", \"2\"]", "{\"a_b\": \"1\", \"a-b\": \"2\"}");
    json_decref(clash);
  }

  json_decref(slurpy);
  json_decref(sjoin);
  json_decref(shash);
  json_decref(meta);
  return UNIT_DONE();
}
