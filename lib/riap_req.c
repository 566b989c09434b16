#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "riap_req.h"
#include "riap_tree.h"

enum { T_BOOL, T_STR, T_NUM, T_OBJ, T_INT, T_STRS };

#define K_ARGS      (1u << 0)
#define K_DETAIL    (1u << 1)
#define K_TYPE      (1u << 2)
#define K_RECURSIVE (1u << 3)
#define K_Q         (1u << 4)
#define K_ARG       (1u << 5)
#define K_WORD      (1u << 6)
#define K_INDEX     (1u << 7)
#define K_DRY_RUN   (1u << 8)
#define K_CONFIRM   (1u << 9)
#define K_CI        (1u << 10)
#define K_ARGV      (1u << 11)
#define K_ALWAYS    (1u << 31)   /* v, action, uri, tx_id */

static const struct keyinfo { const char *name; int type; unsigned bit; } keys[] = {
  { "v", T_NUM, K_ALWAYS }, { "action", T_STR, K_ALWAYS }, { "uri", T_STR, K_ALWAYS },
  { "tx_id", T_STR, K_ALWAYS },
  { "args", T_OBJ, K_ARGS }, { "detail", T_BOOL, K_DETAIL }, { "type", T_STR, K_TYPE },
  { "recursive", T_BOOL, K_RECURSIVE }, { "q", T_STR, K_Q }, { "arg", T_STR, K_ARG },
  { "word", T_STR, K_WORD }, { "index", T_INT, K_INDEX }, { "dry_run", T_BOOL, K_DRY_RUN },
  { "confirm", T_BOOL, K_CONFIRM }, { "ci", T_BOOL, K_CI }, { "argv", T_STRS, K_ARGV },
};

static struct riap_req_limits limits = { 64, 1000, 256 };

void riap_req_setlimits(const struct riap_req_limits *l)
{
  if (l->max_depth) limits.max_depth = l->max_depth;
  if (l->max_args) limits.max_args = l->max_args;
  if (l->max_argname) limits.max_argname = l->max_argname;
}

unsigned riap_json_depth(const char *s, size_t n)
{
  unsigned depth = 0, deepest = 0;
  size_t i;
  int in_string = 0;
  for (i = 0; i < n; i++) {
    char c = s[i];
    if (in_string) {
      if (c == '\\') i++;
      else if (c == '"') in_string = 0;
      continue;
    }
    if (c == '"') in_string = 1;
    else if (c == '[' || c == '{') { if (++depth > deepest) deepest = depth; }
    else if ((c == ']' || c == '}') && depth) depth--;
  }
  return deepest;
}

/* the arguments of a call: how many, and how long their names */
static int check_args(const struct riap_req *r, char *msg)
{
  const char *name;
  size_t len;
  json_t *v;
  if (json_object_size(r->args) > limits.max_args) {
    snprintf(msg, RIAP_REQ_MSGMAX, "Too many arguments (more than %u)", limits.max_args);
    return 400;
  }
  json_object_keylen_foreach(r->args, name, len, v) {
    if (len > limits.max_argname) {
      snprintf(msg, RIAP_REQ_MSGMAX, "Argument name too long (more than %u bytes)", limits.max_argname);
      return 400;
    }
  }
  return 0;
}

#define PKG (1u << 1)
#define FUNC (1u << 2)
#define VAR (1u << 3)

const struct riap_actioninfo riap_actions[RIAP_A_COUNT] = {
  { "info", "Get general information about code entity", 0, PKG | FUNC | VAR },
  { "actions", "List available actions for code entity", K_DETAIL, PKG | FUNC | VAR },
  { "meta", "Get metadata", 0, PKG | FUNC | VAR },
  { "list", "List code entities inside this package code entity",
    K_TYPE | K_RECURSIVE | K_Q | K_DETAIL, PKG },
  { "child_metas", "Get metadata of all child entities", 0, PKG },
  { "call", "Call function", K_ARGS | K_ARGV | K_DRY_RUN | K_CONFIRM, FUNC },
  { "complete_arg_val", "Complete function's argument value",
    K_ARGS | K_ARG | K_WORD | K_CI, FUNC },
  { "complete_arg_elem", "Complete function's argument element value",
    K_ARGS | K_ARG | K_WORD | K_INDEX | K_CI, FUNC },
  { "get", "Get value of variable", 0, VAR },
};

/* printable: copies at most 64 bytes of s for a message, '?' for the rest of ASCII */
static void printable(char *dest, const char *s)
{
  size_t i;
  for (i = 0; s[i] && i < 64; i++) {
    unsigned char c = (unsigned char)s[i];
    dest[i] = (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
  }
  dest[i] = 0;
}

static int truth(json_t *v, int *out)
{
  if (json_is_boolean(v)) { *out = json_is_true(v); return 1; }
  if (json_is_integer(v)) { *out = json_integer_value(v) != 0; return 1; }
  if (json_is_null(v)) { *out = 0; return 1; }
  return 0;
}

static const char *type_word(int t)
{
  switch (t) {
    case T_BOOL: return "a boolean";
    case T_STR: return "a string";
    case T_NUM: return "a number";
    case T_OBJ: return "an object";
    case T_STRS: return "an array of strings";
    default: return "a non-negative integer";
  }
}

/* version_string: 1 when v is a JSON string holding a decimal number, as
 * Perl programs send numbers read from text ("1.2"); its value in *d */
static int version_string(json_t *v, double *d)
{
  const char *s = json_string_value(v);
  char *end;
  double x;
  if (!s || !*s || json_string_length(v) > 32 || !strchr("0123456789.+-", *s)) return 0;
  x = strtod(s, &end);
  if (*end) return 0;
  if (d) *d = x;
  return 1;
}

/* version: the request's v as a number: 1.1 when absent, -1 when not a number */
static double version(json_t *v)
{
  double d;
  if (!v) return 1.1;
  if (json_is_number(v)) return json_number_value(v);
  return version_string(v, &d) ? d : -1;
}

/* strings: 1 when v is an array of strings (command-line words) */
static int strings(json_t *v)
{
  size_t i;
  json_t *s;
  if (!json_is_array(v)) return 0;
  json_array_foreach(v, i, s)
    if (!json_is_string(s)) return 0;
  return 1;
}

static int check_type(struct riap_req *r, const struct keyinfo *k, json_t *v)
{
  int b = 0;
  switch (k->type) {
    case T_STR: return json_is_string(v);
    case T_NUM: return json_is_number(v) || version_string(v, 0);
    case T_OBJ: return json_is_object(v);
    case T_INT: return json_is_integer(v) && json_integer_value(v) >= 0;
    case T_STRS: return strings(v);
    default:
      if (!truth(v, &b)) return 0;
      if (k->bit == K_DETAIL) r->detail = b;
      else if (k->bit == K_RECURSIVE) r->recursive = b;
      else if (k->bit == K_DRY_RUN) r->dry_run = b;
      else if (k->bit == K_CONFIRM) r->confirm = b;
      else if (k->bit == K_CI) r->ci = b;
      return 1;
  }
}

static const struct keyinfo *find_key(const char *name)
{
  size_t i;
  for (i = 0; i < sizeof keys / sizeof *keys; i++)
    if (!strcmp(keys[i].name, name)) return &keys[i];
  return 0;
}

static const char *str(json_t *o, const char *k, size_t *len)
{
  json_t *v = json_object_get(o, k);
  if (!json_is_string(v)) return 0;
  if (len) *len = json_string_length(v);
  return json_string_value(v);
}

/* the keys one by one: names, known, types; returns the set of keys present */
static int check_keys(struct riap_req *r, unsigned *present, char *msg)
{
  const char *name;
  size_t len;
  json_t *v;
  char shown[72];
  json_object_keylen_foreach(r->json, name, len, v) {
    const struct keyinfo *k;
    if (len && name[0] == '-') continue;   /* the client's own (Perl's -uri_scheme, ...): ignored */
    if (!riap_is_ident(name, len)) {
      printable(shown, name);
      snprintf(msg, RIAP_REQ_MSGMAX, "Invalid request key '%s', must match ^[A-Za-z_][A-Za-z0-9_]*$", shown);
      return 400;
    }
    if (!(k = find_key(name))) {
      printable(shown, name);
      snprintf(msg, RIAP_REQ_MSGMAX, "Unknown request key '%s'", shown);
      return 400;
    }
    if (!check_type(r, k, v)) {
      snprintf(msg, RIAP_REQ_MSGMAX, "Invalid value for request key '%s', must be %s", name, type_word(k->type));
      return 400;
    }
    *present |= k->bit;
  }
  return 0;
}

static int check_version(struct riap_req *r, char *msg)
{
  json_t *v = json_object_get(r->json, "v");
  double d = version(v);
  if (!v) return 0;
  if (json_is_integer(v)) d = -1;          /* 1 is not 1.1 */
  if (d == 1.2) { r->v12 = 1; return 0; }
  if (d == 1.1) return 0;
  snprintf(msg, RIAP_REQ_MSGMAX, "Unsupported Riap version, this server speaks 1.1 and 1.2");
  return 501;
}

static enum riap_action find_action(const char *name)
{
  int i;
  for (i = 0; i < RIAP_A_COUNT; i++)
    if (!strcmp(riap_actions[i].name, name)) return (enum riap_action)i;
  return RIAP_A_NONE;
}

static int check_action_keys(struct riap_req *r, unsigned present, char *msg)
{
  unsigned extra = present & ~(riap_actions[r->action].keys | K_ALWAYS);
  size_t i;
  if (!extra) return 0;
  for (i = 0; i < sizeof keys / sizeof *keys; i++)
    if (extra & keys[i].bit) break;
  snprintf(msg, RIAP_REQ_MSGMAX, "Request key '%s' is not valid for action '%s'",
           keys[i].name, riap_actions[r->action].name);
  return 400;
}

static void take_fields(struct riap_req *r)
{
  json_t *idx = json_object_get(r->json, "index");
  json_t *v = json_object_get(r->json, "v");
  r->v12 = !json_is_integer(v) && version(v) == 1.2;  /* answer errors in the version asked */
  r->action_name = str(r->json, "action", &r->action_len);
  r->uri = str(r->json, "uri", &r->uri_len);
  r->args = json_object_get(r->json, "args");
  r->argv = json_object_get(r->json, "argv");
  r->type = str(r->json, "type", 0);
  r->q = str(r->json, "q", 0);
  r->arg = str(r->json, "arg", 0);
  r->word = str(r->json, "word", 0);
  if (json_is_integer(idx)) { r->index = json_integer_value(idx); r->has_index = 1; }
}

/* A raw NUL is never valid JSON, but the parser calls what follows it "end
 * of file": say what it is and where. */
static int check_rawnul(const char *s, size_t n, char *msg)
{
  const char *z = memchr(s, 0, n);
  if (!z) return 0;
  snprintf(msg, RIAP_REQ_MSGMAX, "Invalid JSON: NUL byte at byte %zu", (size_t)(z - s) + 1);
  return 400;
}

/* A JSON string may hold \u0000 where a C string stops: "info\u0000junk"
 * would be read as info, "/Math/mult\u0000x" as /Math/mult. Refused once,
 * here, so that no later strcmp, lookup or message is fooled. Arguments
 * are not request keys: their values may be binary. */
static int check_text(const struct riap_req *r, char *msg)
{
  const char *name;
  size_t len;
  json_t *v;
  if (!riap_is_ident(r->action_name, r->action_len)) {   /* as the Perl server wants */
    snprintf(msg, RIAP_REQ_MSGMAX, "Invalid action, please only use letters/numbers");
    return 400;
  }
  json_object_keylen_foreach(r->json, name, len, v) {
    if (len && name[0] == '-') continue;          /* the client's own keys, ignored */
    if (json_is_string(v) && memchr(json_string_value(v), 0, json_string_length(v))) {
      snprintf(msg, RIAP_REQ_MSGMAX, "Invalid value for request key '%s', must not contain NUL", name);
      return 400;
    }
  }
  return 0;
}

/* utf8_valid: 1 when the n bytes at s are well-formed UTF-8 (no overlong
 * forms, no surrogates, nothing over U+10FFFF) */
static int utf8_valid(const unsigned char *s, size_t n)
{
  size_t i = 0, k, len;
  while (i < n) {
    unsigned c = s[i], cp;
    if (c < 0x80) { i++; continue; }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; cp = c & 0x1F; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; cp = c & 0x0F; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; cp = c & 0x07; }
    else return 0;
    if (n - i < len) return 0;
    for (k = 1; k < len; k++) {
      if ((s[i + k] & 0xC0) != 0x80) return 0;
      cp = (cp << 6) | (s[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) return 0;
    i += len;
  }
  return 1;
}

/* latin1_utf8: the n bytes at s read as Latin-1 (each byte one code point),
 * as UTF-8 in a new buffer of *len bytes; NULL when out of memory */
static char *latin1_utf8(const char *s, size_t n, size_t *len)
{
  char *u = malloc(2 * n + 1);
  size_t i, j = 0;
  if (!u) return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c < 0x80) u[j++] = (char)c;
    else { u[j++] = (char)(0xC0 | (c >> 6)); u[j++] = (char)(0x80 | (c & 0x3F)); }
  }
  *len = j;
  return u;
}

/* load: parses the JSON text; a line that is not UTF-8 is read as Latin-1,
 * which is what Perl's client sends for characters 0x80-0xFF (its JSON
 * encoder is not in UTF-8 mode) and how the Perl server reads it */
static json_t *load(const char *s, size_t n, json_error_t *jerr)
{
  size_t flags = JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, len;
  char *u;
  json_t *j;
  if (utf8_valid((const unsigned char *)s, n)) return json_loadb(s, n, flags, jerr);
  if (!(u = latin1_utf8(s, n, &len))) {
    snprintf(jerr->text, sizeof jerr->text, "out of memory");
    jerr->position = 0;
    return 0;
  }
  j = json_loadb(u, len, flags, jerr);
  free(u);
  return j;
}

int riap_req_parse(struct riap_req *r, const char *s, size_t n, char *msg)
{
  json_error_t jerr;
  unsigned present = 0;
  int status;
  char shown[72];

  memset(r, 0, sizeof *r);
  r->action = RIAP_A_NONE;
  if (riap_json_depth(s, n) > limits.max_depth) {   /* before the parser recurses into it */
    snprintf(msg, RIAP_REQ_MSGMAX, "Request nested too deeply (more than %u levels)", limits.max_depth);
    return 400;
  }
  if ((status = check_rawnul(s, n, msg))) return status;
  r->json = load(s, n, &jerr);
  if (!r->json) {
    snprintf(msg, RIAP_REQ_MSGMAX, "Invalid JSON: %s at byte %d", jerr.text, jerr.position + 1);
    return 400;
  }
  if (!json_is_object(r->json)) {
    snprintf(msg, RIAP_REQ_MSGMAX, "Invalid request (not hash)");
    return 400;
  }
  take_fields(r);
  if ((status = check_keys(r, &present, msg))) return status;
  if ((status = check_version(r, msg))) return status;
  if ((status = check_args(r, msg))) return status;
  if (!r->action_name || !r->action_len) { snprintf(msg, RIAP_REQ_MSGMAX, "Please specify action"); return 400; }
  if ((status = check_text(r, msg))) return status;
  if (!r->uri) { snprintf(msg, RIAP_REQ_MSGMAX, "Please specify uri"); return 400; }
  if (json_object_get(r->json, "tx_id")) {
    snprintf(msg, RIAP_REQ_MSGMAX, "Transaction not supported by server");
    return 501;
  }
  r->action = find_action(r->action_name);
  if (r->action == RIAP_A_NONE) {
    printable(shown, r->action_name);
    snprintf(msg, RIAP_REQ_MSGMAX, "Unknown action '%s'", shown);
    return 501;
  }
  return check_action_keys(r, present, msg);
}

void riap_req_free(struct riap_req *r)
{
  json_decref(r->json);
  r->json = 0;
}
