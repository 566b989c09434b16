/* riap_argv.c: a call's argv into its args, as the Perl server does it
 * (Perinci::Access::Schemeless with accept_argv calls
 * Perinci::Sub::GetArgs::Argv::get_args_from_argv). Every option takes its
 * value as a string (Perl's "=s"): the schema check that follows turns "2"
 * into 2. One addition to what the Perl server accepts: --NAME-json for an
 * argument that is not a simple scalar (Perl's per_arg_json, which
 * Perinci::CmdLine turns on and the server does not). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stralloc.h>
#include "riap_argv.h"
#include "riap_bin.h"
#include "riap_sah.h"

enum kind { K_VALUE, K_TRUE, K_FALSE, K_JSON, K_BASE64 };
enum dest { D_SET, D_PUSH, D_HASH };

struct opt {
  char *name;                   /* without dashes: "a", "round", "no-round" */
  size_t arg;                   /* index in ctx.args */
  enum kind kind;
  enum dest dest;
};

struct arg {
  const char *name;
  json_t *spec;
  json_t *norm;                 /* [type, clset, extras], owned */
  long pos;                     /* -1: none */
  int slurpy, simple, aos, hos; /* simple scalar, array or hash of simple scalars */
  const char *eltype;           /* the element type of aos/hos */
};

struct ctx {
  struct arg *args;
  size_t nargs;
  struct opt *opts;
  size_t nopts, cap;
  json_t *out;
  int status;
  char *why;
};

static int fail(struct ctx *c, int status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
static int fail(struct ctx *c, int status, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(c->why, RIAP_ARGV_ERRMAX, fmt, ap);
  va_end(ap);
  c->status = status;
  return 0;
}

/* the types Data::Sah::Util::Type calls simple (scalar, not a reference) */
static int simple_type(const char *t)
{
  static const char *const simple[] = { "bool", "buf", "cistr", "float", "int", "num", "re", "str",
                                        "undef", "date", "duration", 0 };
  size_t i;
  for (i = 0; simple[i]; i++)
    if (!strcmp(simple[i], t)) return 1;
  return 0;
}

static const char *type_of(json_t *norm) { return json_string_value(json_array_get(norm, 0)); }
static json_t *clset_of(json_t *norm) { return json_array_get(norm, 1); }

static json_t *normalize(json_t *schema)
{
  char err[SAH_ERRMAX];
  json_t *n = schema ? sah_normalize(schema, err) : 0;
  return n && type_of(n) ? n : json_pack("[s{}{}]", "any");   /* no schema (or a bad one): any */
}

/* is_simple: a simple type, or any/all whose every `of` is simple */
static int is_simple(json_t *norm)
{
  const char *t = type_of(norm);
  json_t *cs = clset_of(norm), *of, *v;
  size_t i;
  int ok = 1;
  if (strcmp(t, "any") && strcmp(t, "all")) return simple_type(t);
  of = json_object_get(cs, "of");
  if (json_object_get(cs, "of.op") || !json_is_array(of) || !json_array_size(of)) return 0;
  json_array_foreach(of, i, v) {
    json_t *n = normalize(v);
    ok = ok && is_simple(n);
    json_decref(n);
  }
  return ok;
}

/* classify: simple, or array/hash of simple (Perl's
 * _is_simple_or_array_of_simple_or_hash_of_simple, without coercion rules) */
static void classify(struct arg *a)
{
  const char *t = type_of(a->norm);
  json_t *cs = clset_of(a->norm), *el = 0, *eln;
  a->simple = is_simple(a->norm);
  if (a->simple) return;
  if (!strcmp(t, "array")) {
    el = json_object_get(cs, "of");
    if (!el) el = json_object_get(cs, "each_elem");
  } else if (!strcmp(t, "hash")) {
    el = json_object_get(cs, "of");
    if (!el) el = json_object_get(cs, "each_value");
    if (!el) el = json_object_get(cs, "each_elem");
  }
  if (!el) return;
  eln = normalize(el);
  if (is_simple(eln)) {
    if (!strcmp(t, "array")) a->aos = 1;
    else a->hos = 1;
    a->eltype = !strcmp(type_of(eln), "bool") ? "bool" : !strcmp(type_of(eln), "buf") ? "buf" : "str";
  }
  json_decref(eln);
}

static struct opt *find_opt(const struct ctx *c, const char *name)
{
  size_t i;
  for (i = 0; i < c->nopts; i++)
    if (!strcmp(c->opts[i].name, name)) return &c->opts[i];
  return 0;
}

static int add_opt(struct ctx *c, const char *name, size_t arg, enum kind k, enum dest d)
{
  struct opt *o;
  if (c->nopts == c->cap) {
    size_t cap = c->cap ? c->cap * 2 : 16;
    struct opt *n = realloc(c->opts, cap * sizeof *n);
    if (!n) return fail(c, 500, "out of memory");
    c->opts = n;
    c->cap = cap;
  }
  o = &c->opts[c->nopts];
  if (!(o->name = strdup(name))) return fail(c, 500, "out of memory");
  o->arg = arg;
  o->kind = k;
  o->dest = d;
  c->nopts++;
  return 1;
}

/* _arg2opt: every run of characters other than [A-Za-z0-9-] becomes a dash */
static int optchar(char ch)
{
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '-';
}

static char *arg2opt(const char *arg)
{
  size_t n = strlen(arg), i, j = 0;
  char *o = malloc(n + 1);
  if (!o) return 0;
  for (i = 0; i < n; i++)
    if (optchar(arg[i])) o[j++] = arg[i];
    else if (!i || optchar(arg[i - 1])) o[j++] = '-';
  o[j] = 0;
  return o;
}

/* Getopt::Long::Negate::EN: the negative forms of a bool option */
static int negations(const char *opt, char neg[2][300])
{
  static const char *const pairs[][2] = {
    { "with", "without" }, { "without", "with" }, { "is", "isnt" }, { "isnt", "is" },
    { "are", "arent" }, { "arent", "are" }, { "has", "hasnt" }, { "have", "havent" },
    { "hasnt", "has" }, { "havent", "have" }, { "can", "cant" }, { "cant", "can" },
    { "enabled", "disabled" }, { "disabled", "enabled" }, { "enable", "disable" },
    { "disable", "enable" }, { "allowed", "disallowed" }, { "disallowed", "allowed" },
    { "allow", "disallow" }, { "disallow", "allow" }, { "include", "exclude" },
    { "exclude", "include" }, { 0, 0 } };
  size_t i, n;
  for (i = 0; pairs[i][0]; i++) {
    n = strlen(pairs[i][0]);
    if (!strncmp(opt, pairs[i][0], n) && (opt[n] == '-' || opt[n] == '_') && opt[n + 1]) {
      snprintf(neg[0], sizeof neg[0], "%s%s", pairs[i][1], opt + n);
      return 1;
    }
  }
  if (!strncmp(opt, "no", 2) && (opt[2] == '-' || opt[2] == '_') && opt[3]) {
    snprintf(neg[0], sizeof neg[0], "%s", opt + 3);
    return 1;
  }
  snprintf(neg[0], sizeof neg[0], "no-%s", opt);
  snprintf(neg[1], sizeof neg[1], "no%s", opt);
  return 2;
}

static int truthy(json_t *v)
{
  if (!v || json_is_null(v) || json_is_false(v)) return 0;
  if (json_is_integer(v)) return json_integer_value(v) != 0;
  if (json_is_real(v)) return json_real_value(v) != 0;
  if (json_is_string(v)) return json_string_length(v) && strcmp(json_string_value(v), "0");
  return 1;
}

/* _opt2ospec: the options of one option name of type t (Perl's triplets) */
static int opts_for(struct ctx *c, const char *opt, size_t ai, const char *t, json_t *clset, enum dest d)
{
  char neg[2][300], b64[300];
  int n, i;
  if (!strcmp(t, "bool")) {
    json_t *is = json_object_get(clset, "is"), *ist = json_object_get(clset, "is_true");
    if (strlen(opt) == 1 || truthy(is) || truthy(ist)) return add_opt(c, opt, ai, K_TRUE, d);
    n = negations(opt, neg);
    if ((is && !truthy(is)) || (ist && !truthy(ist))) {   /* always false: only --no-NAME */
      for (i = 0; i < n; i++)
        if (!add_opt(c, neg[i], ai, K_FALSE, d)) return 0;
      return 1;
    }
    if (!add_opt(c, opt, ai, K_TRUE, d)) return 0;
    for (i = 0; i < n; i++)
      if (!add_opt(c, neg[i], ai, K_FALSE, d)) return 0;
    return 1;
  }
  if (!add_opt(c, opt, ai, K_VALUE, d)) return 0;
  if (strcmp(t, "buf")) return 1;
  snprintf(b64, sizeof b64, "%s-base64", opt);
  return add_opt(c, b64, ai, K_BASE64, d);
}

/* the singular of a plural argument name (x.name.is_plural): x.name.singular,
 * else the English rules Lingua::EN::PluralToSingular applies most */
static char *singular(struct arg *a, const char *opt)
{
  json_t *s = json_object_get(a->spec, "x.name.singular");
  size_t n = strlen(opt);
  char *o;
  if (json_is_string(s)) return arg2opt(json_string_value(s));
  if (!(o = strdup(opt))) return 0;
  if (n > 3 && !strcmp(opt + n - 3, "ies")) strcpy(o + n - 3, "y");
  else if (n > 4 && !strcmp(opt + n - 4, "sses")) o[n - 2] = 0;
  else if (n > 1 && opt[n - 1] == 's' && opt[n - 2] != 's') o[n - 1] = 0;
  return o;
}

static int is_hidden(json_t *spec)
{
  json_t *tags = json_object_get(spec, "tags"), *t;
  size_t i;
  json_array_foreach(tags, i, t)
    if (json_is_string(t) && (!strcmp(json_string_value(t), "hidden") || !strcmp(json_string_value(t), "hidden-cli")))
      return 1;
  return 0;
}

/* cmdline_aliases: an alias with a schema or is_flag is a flag (Perl's
 * precedence: `schema // is_flag ? [bool...] : $sch`), else it takes the
 * argument's own first form; one that clashes is left out, as Perl warns and
 * skips it; `code` cannot cross JSON, so such an alias is left out too */
static int aliases(struct ctx *c, size_t ai, const char *t, enum dest d)
{
  struct arg *a = &c->args[ai];
  json_t *al = json_object_get(a->spec, "cmdline_aliases"), *as;
  const char *name;
  json_object_foreach(al, name, as) {
    char *o = arg2opt(name);
    size_t before = c->nopts;
    int ok = 1;
    if (!o) return fail(c, 500, "out of memory");
    if (!find_opt(c, o) && !json_object_get(as, "code")) {
      json_t *sch = json_object_get(as, "schema");
      if (truthy(sch && !json_is_null(sch) ? sch : json_object_get(as, "is_flag")))
        ok = add_opt(c, o, ai, K_TRUE, d);
      else {
        ok = opts_for(c, o, ai, t, clset_of(a->norm), d);
        while (ok && c->nopts > before + 1) free(c->opts[--c->nopts].name);   /* the first form only */
        if (ok && c->opts[before].kind == K_FALSE) c->opts[before].kind = K_TRUE;   /* its handler gets 1 */
      }
    }
    free(o);
    if (!ok) return 0;
  }
  return 1;
}

/* _args2opts for one argument */
static int arg_opts(struct ctx *c, size_t ai)
{
  struct arg *a = &c->args[ai];
  char *opt = arg2opt(a->name), *one = 0;
  const char *t = type_of(a->norm);
  enum dest d = a->aos ? D_PUSH : a->hos ? D_HASH : D_SET;
  int ok = 1, i;
  if (!opt) return fail(c, 500, "out of memory");
  if (find_opt(c, opt)) {                       /* clash: NAME-arg, NAME-arg2, ... */
    char *renamed = malloc(strlen(opt) + 32);
    if (!renamed) { free(opt); return fail(c, 500, "out of memory"); }
    for (i = 1;; i++) {
      if (i > 1) sprintf(renamed, "%s-arg%d", opt, i);
      else sprintf(renamed, "%s-arg", opt);
      if (!find_opt(c, renamed)) break;
    }
    free(opt);
    opt = renamed;
  }
  if (a->aos || a->hos) {
    json_t *plural = json_object_get(a->spec, "x.name.is_plural");
    one = truthy(plural) ? singular(a, opt) : strdup(opt);
    if (!one) { free(opt); return fail(c, 500, "out of memory"); }
    ok = opts_for(c, one, ai, a->eltype, clset_of(a->norm), d);
  } else ok = opts_for(c, opt, ai, t, clset_of(a->norm), D_SET);
  if (ok && !a->simple) {                       /* per_arg_json */
    char *j = malloc(strlen(opt) + 6);
    if (!j) ok = fail(c, 500, "out of memory");
    else {
      sprintf(j, "%s-json", opt);
      if (!find_opt(c, j)) ok = add_opt(c, j, ai, K_JSON, D_SET);
      free(j);
    }
  }
  if (ok) ok = aliases(c, ai, a->aos || a->hos ? a->eltype : t, d);
  free(one);
  free(opt);
  return ok;
}

static int build(struct ctx *c, json_t *argspecs)
{
  const char *name;
  json_t *spec;
  size_t i = 0;
  c->nargs = json_object_size(argspecs);
  if (!(c->args = calloc(c->nargs + 1, sizeof *c->args))) return fail(c, 500, "out of memory");
  json_object_foreach(argspecs, name, spec) {
    struct arg *a = &c->args[i++];
    json_t *pos = json_object_get(spec, "pos"), *sl = json_object_get(spec, "slurpy");
    a->name = name;
    a->spec = spec;
    a->norm = normalize(json_object_get(spec, "schema"));
    a->pos = json_is_integer(pos) && json_integer_value(pos) >= 0 ? (long)json_integer_value(pos) : -1;
    if (!sl) sl = json_object_get(spec, "greedy");
    a->slurpy = truthy(sl);
    classify(a);
  }
  for (i = 0; i < c->nargs; i++)
    if (!is_hidden(c->args[i].spec) && !arg_opts(c, i)) return 0;
  return 1;
}

/* the value of one option into c->out */
static int apply(struct ctx *c, const struct opt *o, const char *optname, const char *val)
{
  const char *argname = c->args[o->arg].name;
  json_t *v, *cur;
  if (o->kind == K_TRUE) v = json_true();
  else if (o->kind == K_FALSE) v = json_false();
  else if (o->kind == K_JSON) {
    json_error_t e;
    if (!(v = json_loads(val, JSON_DECODE_ANY, &e)))
      return fail(c, 500, "Invalid JSON in option --%s: %.200s: %s", optname, val, e.text);
    json_object_set_new(c->out, argname, v);     /* as Perl: the whole value, whatever the dest */
    return 1;
  } else if (o->kind == K_BASE64) {
    stralloc b = { 0, 0, 0 };
    riap_bin_unbase64(&b, val, strlen(val));    /* MIME::Base64::decode skips what is not base64 */
    v = riap_bin_tojson(b.s ? b.s : "", b.len);
    free(b.s);
  } else v = json_string(val);
  if (!v) return fail(c, 500, "out of memory");
  if (o->dest == D_SET) return json_object_set_new(c->out, argname, v), 1;
  cur = json_object_get(c->out, argname);
  if (o->dest == D_PUSH) {
    if (!json_is_array(cur)) json_object_set_new(c->out, argname, cur = json_array());
    json_array_append_new(cur, v);
    return 1;
  }
  {                                             /* D_HASH: KEY=VALUE */
    const char *s = json_string_value(v), *eq = s ? strchr(s, '=') : 0;
    if (!eq) {
      fail(c, 500, "Option %s, key \"%.200s\", requires a value", optname, s ? s : "");
      json_decref(v);
      return 0;
    }
    if (!json_is_object(cur)) json_object_set_new(c->out, argname, cur = json_object());
    json_object_setn_new(cur, s, (size_t)(eq - s), json_string(eq + 1));
    json_decref(v);
    return 1;
  }
}

/* auto_abbrev: the option named name, or one it is the unique prefix of */
static const struct opt *lookup(struct ctx *c, const char *name, int abbrev)
{
  const struct opt *o = find_opt(c, name), *hit = 0;
  char hits[RIAP_ARGV_ERRMAX / 2];
  size_t i, n = strlen(name), nh = 0, used = 0;
  if (o || !abbrev || !n) return o ? o : (fail(c, 500, "Unknown option: %.200s", name), (const struct opt *)0);
  hits[0] = 0;
  for (i = 0; i < c->nopts; i++) {
    if (strncmp(c->opts[i].name, name, n)) continue;
    hit = &c->opts[i];
    nh++;
  }
  if (nh == 1) return hit;
  if (!nh) return fail(c, 500, "Unknown option: %.200s", name), (const struct opt *)0;
  /* Perl lists the candidates sorted */
  {
    const char *prev = "";
    size_t k;
    for (k = 0; k < nh; k++) {
      const char *best = 0;
      for (i = 0; i < c->nopts; i++)
        if (!strncmp(c->opts[i].name, name, n) && strcmp(c->opts[i].name, prev) > 0 &&
            (!best || strcmp(c->opts[i].name, best) < 0)) best = c->opts[i].name;
      if (!best) break;
      used += (size_t)snprintf(hits + used, used < sizeof hits ? sizeof hits - used : 0, "%s%s", k ? ", " : "", best);
      if (used >= sizeof hits) break;
      prev = best;
    }
  }
  fail(c, 500, "Option %.100s is ambiguous (%s)", name, hits);
  return 0;
}

/* Getopt::Long's loop: options out of the words, the rest positional. The
 * rest of a bundle (-abc after -a) is read as a word of its own, "-bc", as
 * Perl puts it back into argv: written over a copy of the word, made once,
 * so that a long bundle costs no more than its length. */
static int getopt_words(struct ctx *c, const char **w, size_t n, const char **pos, size_t *npos)
{
  size_t i = 0;
  char *buf = 0, *next = 0;                     /* the copy; the rest of its bundle */
  int ok = 1;
  *npos = 0;
  while (ok && (next || i < n)) {
    const char *word, *val = 0;
    char name[300], *mine = next;               /* word, when it is in buf */
    const struct opt *o;
    if (next) word = next;
    else { free(buf); buf = 0; word = w[i++]; }
    next = 0;
    if (!strcmp(word, "--")) {                  /* (after -v, -v- ends the options too, as in Perl) */
      while (i < n) pos[(*npos)++] = w[i++];
      break;
    }
    if (word[0] != '-' || !word[1]) { pos[(*npos)++] = mine ? "-" : word; continue; }   /* buf goes */
    if (word[1] == '-') {
      const char *eq = strchr(word + 3, '=');   /* index($opt, '=', 1) */
      size_t len = eq ? (size_t)(eq - word - 2) : strlen(word + 2);
      if (len >= sizeof name) { ok = fail(c, 500, "Unknown option: %.200s", word + 2); break; }
      memcpy(name, word + 2, len);
      name[len] = 0;
      if (eq) val = eq + 1;
      o = lookup(c, name, 1);
    } else {                                    /* bundling: -abc is -a -bc, -n5 is -n 5 */
      name[0] = word[1];
      name[1] = 0;
      o = lookup(c, name, 0);
      if (o && word[2]) {
        if (o->kind != K_TRUE && o->kind != K_FALSE) val = word + 2;
        else {
          if (!mine && !(mine = buf = strdup(word))) { ok = fail(c, 500, "out of memory"); break; }
          next = mine + 1;                      /* the letter taken becomes the dash of the rest */
          *next = '-';
        }
      }
    }
    if (!o) ok = 0;
    else if (o->kind == K_TRUE || o->kind == K_FALSE)
      ok = val ? fail(c, 500, "Option %s does not take an argument", o->name) : apply(c, o, o->name, 0);
    else if (val) ok = apply(c, o, o->name, val);   /* --a=2, --a= (empty: gnu_compat), -n5 */
    else if (i < n) ok = apply(c, o, o->name, w[i++]);   /* a mandatory value takes the next word, whatever it is */
    else ok = fail(c, 500, "Option %s requires an argument", o->name);
  }
  free(buf);
  return ok;
}

/* a slurpy argument at i takes every word left from i: an array, a hash of
 * KEY=VALUE words, or (any other type) the words joined with spaces */
static json_t *slurp(struct ctx *c, const struct arg *a, const char **pos, size_t i, size_t npos, char *taken)
{
  const char *t = type_of(a->norm);
  stralloc joined = { 0, 0, 0 };
  json_t *v = !strcmp(t, "array") ? json_array() : !strcmp(t, "hash") ? json_object() : 0;
  size_t j, e = 0;
  for (j = i; j < npos; j++) {
    if (taken[j]) continue;
    taken[j] = 1;
    if (json_is_array(v)) json_array_append_new(v, json_string(pos[j]));
    else if (json_is_object(v)) {
      const char *eq = strchr(pos[j], '=');
      if (!eq) { json_decref(v); return fail(c, 500, "Invalid key=value pair in element #%zu", e), (json_t *)0; }
      json_object_setn_new(v, pos[j], (size_t)(eq - pos[j]), json_string(eq + 1));
    } else if (!(e ? stralloc_catb(&joined, " ", 1) : stralloc_copys(&joined, "")) || !stralloc_cats(&joined, pos[j])) {
      free(joined.s);
      return fail(c, 500, "out of memory"), (json_t *)0;
    }
    e++;
  }
  if (!v) {
    v = json_stringn(joined.s ? joined.s : "", joined.len);
    free(joined.s);
  }
  if (!v) fail(c, 500, "out of memory");
  return v;
}

/* Perinci::Sub::GetArgs::Array: positional words by pos, last first; its
 * errors are 500 as Perl wraps them ("Get args from array failed") */
static int positional(struct ctx *c, const char **pos, size_t npos)
{
  char *taken = calloc(npos + 1, 1), list[RIAP_ARGV_ERRMAX / 2];
  json_t *got = json_object(), *v;
  size_t i, k, used = 0, left = 0, top = 0;
  const char *name;
  int ok = 1;
  if (!taken || !got) { free(taken); json_decref(got); return fail(c, 500, "out of memory"); }
  for (k = 0; k < c->nargs; k++)
    if (c->args[k].pos >= 0 && (size_t)c->args[k].pos + 1 > top) top = (size_t)c->args[k].pos + 1;
  for (i = npos < top ? npos : top; ok && i-- > 0;) {   /* no word past the last pos is anyone's */
    for (k = 0; ok && k < c->nargs; k++) {
      struct arg *a = &c->args[k];
      if (a->pos != (long)i || taken[i]) continue;
      if (!a->slurpy) { json_object_set_new(got, a->name, json_string(pos[i])); taken[i] = 1; continue; }
      if (!(v = slurp(c, a, pos, i, npos, taken))) ok = 0;
      else json_object_set_new(got, a->name, v);
    }
  }
  for (i = 0; ok && i < npos; i++)
    if (!taken[i]) {
      used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0, "%s%.100s",
                               left++ ? ", " : "", pos[i]);
      if (used >= sizeof list) used = sizeof list;
    }
  if (ok && left) ok = fail(c, 500, "There are extra, unassigned elements in array: [%s]", list);
  json_object_foreach(got, name, v) {
    if (!ok) break;
    if (json_object_get(c->out, name)) {
      for (k = 0; k < c->nargs && strcmp(c->args[k].name, name); k++) {}
      ok = fail(c, 400, "You specified option --%.100s but also argument #%ld", name, c->args[k].pos);
    } else json_object_set(c->out, name, v);
  }
  free(taken);
  json_decref(got);
  return ok;
}

/* deps: {arg: NAME}, checked as Perl does */
static int deps(struct ctx *c)
{
  size_t k;
  for (k = 0; k < c->nargs; k++) {
    const char *dep = json_string_value(json_object_get(json_object_get(c->args[k].spec, "deps"), "arg"));
    if (!dep || !*dep || !json_object_get(c->out, c->args[k].name) || json_object_get(c->out, dep)) continue;
    return fail(c, 400, "You specify '%.100s', but don't specify '%.100s' (upon which '%.100s' depends)",
                c->args[k].name, dep, c->args[k].name);
  }
  return 1;
}

/* an empty argv gives {}, which the schema check then judges */
json_t *riap_argv_args(json_t *argspecs, json_t *argv, int *status, char *why)
{
  struct ctx c;
  size_t n = json_array_size(argv), i, npos;
  const char **w = calloc(n + 1, sizeof *w), **pos = calloc(n + 1, sizeof *pos);
  int ok;
  memset(&c, 0, sizeof c);
  c.why = why;
  c.out = json_object();
  ok = w && pos && c.out ? 1 : fail(&c, 500, "out of memory");
  for (i = 0; ok && i < n; i++)
    if (!(w[i] = json_string_value(json_array_get(argv, i))) || strlen(w[i]) != json_string_length(json_array_get(argv, i)))
      ok = fail(&c, 400, "argv element #%zu is not a string without NUL", i);
  ok = ok && build(&c, json_is_object(argspecs) ? argspecs : 0);
  ok = ok && getopt_words(&c, w, n, pos, &npos);
  ok = ok && positional(&c, pos, npos);
  ok = ok && deps(&c);
  for (i = 0; i < c.nopts; i++) free(c.opts[i].name);
  for (i = 0; i < c.nargs; i++) json_decref(c.args[i].norm);
  free(c.opts);
  free(c.args);
  free(w);
  free(pos);
  if (ok) return c.out;
  json_decref(c.out);
  *status = c.status;
  return 0;
}
