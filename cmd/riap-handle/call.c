/* call.c: the call action: arguments checked against the metadata, the
 * function run by the exec protocol, its output turned into an envelope. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <errmsg.h>
#include "riap_argv.h"
#include "riap_bin.h"
#include "riap_time.h"
#include "riap_exec.h"
#include "riap_funcout.h"
#include "riap_json.h"
#include "handle.h"
#include "funcmeta.h"

/* one argument as sent: NAME or NAME:base64 (1.2) into out[NAME] */
static int take_arg(json_t *out, const char *key, size_t n, json_t *val, int v12, struct reply *r)
{
  stralloc bytes = { 0, 0, 0 };
  char name[128];
  json_t *decoded;
  if (n > 7 && !strcmp(key + n - 7, ":base64")) {
    n -= 7;
    if (!riap_is_ident(key, n) || n >= sizeof name)
      return reply_set(r, 400, "Invalid argument name '%.64s'", key), 0;
    if (!v12)
      return reply_set(r, 400, "Invalid argument name '%.64s' (binary arguments need Riap 1.2)", key), 0;
    memcpy(name, key, n);
    name[n] = 0;
    if (json_object_get(out, name))
      return reply_set(r, 400, "Argument '%s' given twice", name), 0;
    if (!json_is_string(val) || !riap_bin_unbase64(&bytes, json_string_value(val), json_string_length(val))) {
      free(bytes.s);
      return reply_set(r, 400, "Argument '%s' is not valid base64", name), 0;
    }
    decoded = riap_bin_tojson(bytes.s, bytes.len);
    free(bytes.s);
    json_object_set_new(out, name, decoded);
    return 1;
  }
  if (!riap_is_ident(key, n)) return reply_set(r, 400, "Invalid argument name '%.64s'", key), 0;
  if (json_object_get(out, key)) return reply_set(r, 400, "Argument '%.64s' given twice", key), 0;
  json_object_set(out, key, val);
  return 1;
}

/* one declared arg: present, or required, or defaulted; then its schema */
static int check_arg(const struct farg *a, json_t *out, struct reply *r)
{
  char why[SAH_ERRMAX];
  json_t *v = json_object_get(out, a->name), *def;
  if (!v) {
    if (a->req) return reply_set(r, 400, "Missing required argument: %s", a->name), 0;
    def = json_object_get(a->spec, "default");
    if (!def && a->compiled) def = sah_default(a->compiled);
    if (!def) return 1;                   /* absent and optional: nothing to check */
    json_object_set(out, a->name, def);
    v = def;
  }
  if (!a->compiled) return 1;
  json_incref(v);
  if (!sah_validate_typed(a->compiled, &v, why)) {
    json_decref(v);
    return reply_set(r, 400, "Argument '%s' fails validation: %s", a->name, why), 0;
  }
  json_object_set_new(out, a->name, v);  /* defaults filled in, numbers and bools in their JSON form */
  return 1;
}

/* argv: command-line words read by the metadata, as the Perl server does
 * (then args, if also sent, is ignored, as there); NULL with the reply set:
 * 400 "Can't parse argv", the reason in META's prev as Perl's err() puts it */
static json_t *argv_args(const struct riap_entity *e, const struct riap_req *q, struct reply *r)
{
  char why[RIAP_ARGV_ERRMAX];
  int status = 500;
  json_t *out = riap_argv_args(json_object_get(e->meta, "args"), q->argv, &status, why);
  if (out) return out;
  reply_set(r, 400, "Can't parse argv");
  r->meta = json_pack("{s[is]}", "prev", status, why);
  return 0;
}

/* the arguments the function will get, or NULL with the reply set */
static json_t *check_args(const struct riap_entity *e, const struct funcmeta *m, const struct riap_req *q,
                          struct reply *r)
{
  json_t *out, *val;
  const char *key;
  size_t i, len;
  if (q->argv) {
    if (!(out = argv_args(e, q, r))) return 0;
  } else {
    out = json_object();
    json_object_keylen_foreach(q->args, key, len, val) {
      if (key[0] == '-') continue;        /* special arguments are the caller's, not the function's */
      if (!take_arg(out, key, len, val, q->v12, r)) goto fail;
    }
  }
  if (!m->has_args) return out;
  json_object_foreach(out, key, val) {
    if (!funcmeta_arg(m, key, strlen(key))) {
      reply_set(r, 400, "Unknown argument '%.64s'", key);
      goto fail;
    }
  }
  for (i = 0; i < m->nargs; i++)
    if (!check_arg(&m->args[i], out, r)) goto fail;
  return out;
fail:
  json_decref(out);
  return 0;
}

/* args_as array: values ordered by pos; a slurpy array spreads at its place */
static json_t *as_array(const struct funcmeta *m, json_t *args)
{
  json_t *arr = json_array();
  long maxpos = -1, p;
  size_t i;
  for (i = 0; i < m->nargs; i++)
    if (m->args[i].pos > maxpos) maxpos = m->args[i].pos;
  for (p = 0; p <= maxpos; p++) {
    json_t *v = 0;
    int slurpy = 0;
    for (i = 0; i < m->nargs; i++)
      if (m->args[i].pos == p) { v = json_object_get(args, m->args[i].name); slurpy = m->args[i].slurpy; }
    if (slurpy && json_is_array(v)) json_array_extend(arr, v);
    else if (!slurpy || v) json_array_append(arr, v ? v : json_null());
  }
  /* trailing absent optional args are left out, as a caller of a Perl sub would */
  while (json_array_size(arr) && json_is_null(json_array_get(arr, json_array_size(arr) - 1)))
    json_array_remove(arr, json_array_size(arr) - 1);
  return arr;
}

struct envbuf {
  char **envp;
  int n;
  char buf[2048];
  size_t used;
};

static int env_add(struct envbuf *b, const char *name, const char *value)
{
  int w = snprintf(b->buf + b->used, sizeof b->buf - b->used, "%s=%s", name, value);
  if (w < 0 || (size_t)w >= sizeof b->buf - b->used) return 0;
  b->envp[b->n++] = b->buf + b->used;
  b->used += (size_t)w + 1;
  return 1;
}

/* the function's whole environment: a clean PATH, RIAP_*, the UCSPI peer */
static int build_env(struct envbuf *b, const struct riap_entity *e, const struct riap_req *q,
                     const struct riap_peer *peer, char *peerbuf)
{
  if (!env_add(b, "PATH", "/usr/local/bin:/usr/bin:/bin") || !env_add(b, "RIAP_ACTION", "call") ||
      !env_add(b, "RIAP_URI", e->uri) || !env_add(b, "RIAP_V", q->v12 ? "1.2" : "1.1") ||
      (q->dry_run && !env_add(b, "RIAP_DRY_RUN", "1")) || (q->confirm && !env_add(b, "RIAP_CONFIRM", "1")))
    return 0;
  b->n = riap_peer_env(b->envp, b->n, peerbuf, peer);
  b->envp[b->n] = 0;
  return 1;
}

/* a binary result says so in its meta, in 1.1 and 1.2, as the Perl wrapper
 * does, with its 1 (Perl's command-line programs test its truth, then print
 * the result raw); in 1.2 it goes base64-encoded */
static void encode_binary(const struct riap_entity *e, const struct riap_req *q, struct reply *r)
{
  stralloc bytes = { 0, 0, 0 };
  if (r->status / 100 != 2) return;
  if (!r->meta) r->meta = json_object();
  json_object_set_new(r->meta, "x.hint.result_binary", json_integer(1));
  if (!q->v12 || !json_is_string(r->result) || !json_string_length(r->result)) return;
  if (!riap_bin_fromjson(&bytes, r->result)) {
    json_decref(r->result);
    r->result = 0;
    json_object_del(r->meta, "x.hint.result_binary");
    reply_set(r, 500, "%s: binary result holds characters over 255", e->uri);
  } else {
    json_decref(r->result);
    r->result = riap_bin_base64(bytes.s, bytes.len);
    if (!r->meta) r->meta = json_object();
    json_object_set_new(r->meta, "riap.result_encoding", json_string("base64"));
  }
  free(bytes.s);
}

/* A function names files by their paths, in its stderr ("/srv/root/Math/mult:
 * 8: Illegal number", "at /srv/root/Lib/x.pm line 3") and in its own
 * messages ("cannot open /srv/root/data/x"): an answer names those under
 * ROOT by their uris and never says where ROOT is. ROOT here is its real
 * path, the only one a function is shown ($0, its working directory). */
static int namechar(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-' || c == '~' || c == '+';
}

/* hide_root: rewrites the n bytes at s in place, ROOT/x as /x and ROOT
 * alone as /; returns the new length (never more than n). */
static size_t hide_root(char *s, size_t n, const struct riap_entity *e)
{
  size_t pl = strlen(e->path), ul = strlen(e->uri), rl, i = 0;
  char *p;
  if (pl <= ul || strcmp(e->path + pl - ul, e->uri)) return n;
  rl = pl - ul;                                 /* ROOT, without the slash every uri begins with */
  while (i < n && (p = memmem(s + i, n - i, e->path, rl))) {
    size_t at = (size_t)(p - s), after = at + rl;
    if (after < n && s[after] == '/') {         /* ROOT/x: /x */
      memmove(p, p + rl, n - after);
      n -= rl;
    } else if (after == n || !namechar(s[after])) {   /* ROOT itself: / (not /srv/root2) */
      *p = '/';
      memmove(p + 1, p + rl, n - after);
      n -= rl - 1;
    }
    i = at + 1;
  }
  return n;
}

/* the message of a function's own envelope, ROOT hidden as in its stderr */
static void hide_root_message(struct reply *r, const struct riap_entity *e)
{
  size_t n, m;
  char *copy;
  json_t *clean;
  if (!json_is_string(r->message)) return;
  n = json_string_length(r->message);
  if (!(copy = malloc(n + 1))) return;
  memcpy(copy, json_string_value(r->message), n);
  m = hide_root(copy, n, e);
  if (m != n && (clean = json_stringn(copy, m))) {
    json_decref(r->message);
    r->message = clean;
  }
  free(copy);
}

static void failed(const struct riap_entity *e, const struct riap_exec_result *x, struct reply *r, const char *what)
{
  char last[512];
  if (riap_exec_lastline(last, sizeof last, x)) {
    last[hide_root(last, strlen(last), e)] = 0;
    reply_set(r, 500, "%s: %s: %s", e->uri, what, last);
  } else reply_set(r, 500, "%s: %s", e->uri, what);
  carp("warning: ", json_string_value(r->message));
}

/* returns 1 when the function's output was a valid answer */
static int interpret(const struct riap_entity *e, const struct funcmeta *m, struct riap_exec_result *x,
                      struct reply *r)
{
  struct riap_funcout o;
  enum riap_funcout_form form = RIAP_OUT_ENVELOPE;
  char what[RIAP_FUNCOUT_WHYMAX + 16];
  int exited_ok = x->outcome == RIAP_EXEC_EXITED && x->code == 0;

  if (x->outcome == RIAP_EXEC_SIGNALED) {
    snprintf(what, sizeof what, "killed by signal %d", x->code);
    failed(e, x, r, what);
    return 0;
  }
  if (m->naked) form = m->result_buf && !m->persistent ? RIAP_OUT_RAW : RIAP_OUT_NAKED;  /* raw, unless line-framed */
  /* a failed exit still counts when it printed a whole envelope */
  if ((exited_ok || form == RIAP_OUT_ENVELOPE) && riap_funcout_scan(x->out.s, x->out.len, form, &o, what)) {
    r->status = o.status;
    r->message = o.message ? o.message : (o.status == 200 && form != RIAP_OUT_ENVELOPE ? json_string("OK") : 0);
    hide_root_message(r, e);                /* its result and meta are its own data, passed as they are */
    r->result = o.result;
    r->meta = o.meta;
    return 1;
  }
  if (!exited_ok) snprintf(what, sizeof what, "exit %d", x->code);
  failed(e, x, r, what);
  return 0;
}


static void exec_once(struct server *s, struct riap_entity *e, const struct funcmeta *m, const stralloc *in,
                      char **envp, struct riap_exec_result *x)
{
  struct riap_exec ex;
  memset(&ex, 0, sizeof ex);
  ex.path = e->path;
  ex.envp = envp;
  ex.dir = e->dir;
  ex.input = in->s;
  ex.input_len = in->len;
  ex.timeout_ms = m->timeout_ms ? m->timeout_ms : s->call_timeout_ms;
  ex.max_output = s->max_output;
  ex.limits = &s->limits;
  riap_exec_run(&ex, x);
}

static void coproc_errline(void *arg, const char *line, size_t n)
{
  const struct riap_entity *e = arg;
  char clean[512];
  size_t i;
  if (n >= sizeof clean) n = sizeof clean - 1;
  for (i = 0; i < n; i++) clean[i] = ((unsigned char)line[i] < 0x20 || line[i] == 0x7f) ? '?' : line[i];
  clean[n] = 0;
  carp("warning: ", e->uri, ": ", clean);
}

/* starts e's coprocess unless it runs; returns 1, or 0 with m->co.code = errno */
static int coproc_ensure(const struct server *s, const struct riap_entity *e, struct funcmeta *m)
{
  char uri[RIAP_URI_MAX + 16];
  char *envp[4];
  struct riap_exec_limits lim = s->limits;
  lim.cpu_s = 0;               /* CPU seconds add up over a coprocess's life: its calls have timeouts instead */
  snprintf(uri, sizeof uri, "RIAP_URI=%s", e->uri);
  envp[0] = "PATH=/usr/local/bin:/usr/bin:/bin";
  envp[1] = uri;
  envp[2] = "RIAP_EXEC=persistent";
  envp[3] = 0;
  return riap_coproc_start(&m->co, e->path, envp, e->dir, &lim);
}

static int start_one(struct riap_entity *e, void *arg)
{
  struct server *s = arg;
  struct funcmeta *m;
  if (e->type == RIAP_PACKAGE) riap_tree_children(&s->tree, e, start_one, s);
  if (e->type == RIAP_MOUNT) mount_start(s, e);
  if (e->type != RIAP_FUNCTION || !(m = funcmeta_get(e)) || !m->ok || !m->persistent) return 1;
  if (!coproc_ensure(s, e, m)) carp("warning: ", e->uri, ": unable to start: ", strerror(m->co.code));
  return 1;
}

void persistent_start_all(struct server *s)
{
  int status;
  const char *msg;
  struct riap_entity *root = riap_tree_resolve(&s->tree, "/", 1, &status, &msg, 0);
  if (root) riap_tree_children(&s->tree, root, start_one, s);
}

/* missing_loader: execve says ENOENT of a file that is there when its #!
 * interpreter or ELF loader is missing, as in a chroot (--chroot) */
static const char *missing_loader(const struct riap_entity *e, int code)
{
  return code == ENOENT && access(e->path, F_OK) == 0
    ? " (its #! interpreter or dynamic loader is missing: in a chroot, a function needs them inside ROOT)" : "";
}

/* a persistent function: one line to its coprocess, one line back */
static int coproc_once(struct server *s, struct riap_entity *e, struct funcmeta *m, const stralloc *in,
                       struct riap_exec_result *x, struct reply *r)
{
  enum riap_coproc_outcome o;
  long long now = riap_time_monoms();
  int attempt;
  for (attempt = 0;; attempt++) {
    char how[64];
    if (!m->co.pid) {
      if (!attempt && m->failures && now < m->retry_at_ms)
        return reply_set(r, 503, "%s: restarting after a failure, retry in %lld ms", e->uri, m->retry_at_ms - now), 0;
      if (!coproc_ensure(s, e, m))
        return reply_set(r, 500, "%s: cannot run: %s%s", e->uri, strerror(m->co.code), missing_loader(e, m->co.code)), 0;
    }
    o = riap_coproc_call(&m->co, in->s, in->len, m->timeout_ms ? m->timeout_ms : s->call_timeout_ms,
                         s->max_output, &x->out, coproc_errline, e);
    if (o != RIAP_COPROC_GONE || attempt) break;
    /* it ended while idle (killed, or exited on its own): this call never
     * reached it, so it goes to a fresh one rather than failing */
    riap_exec_describe(how, sizeof how, m->co.code);
    carp("warning: ", e->uri, ": ended while idle (", how, "), restarted");
  }
  memset(x->errtail, 0, sizeof x->errtail);
  x->errtail_len = strlen(m->co.lastline);
  memcpy(x->errtail, m->co.lastline, x->errtail_len);
  x->code = 0;
  switch (o) {
    case RIAP_COPROC_OK: x->outcome = RIAP_EXEC_EXITED; break;
    case RIAP_COPROC_TIMEOUT: x->outcome = RIAP_EXEC_TIMEOUT; break;
    case RIAP_COPROC_TOOBIG: x->outcome = RIAP_EXEC_TOOBIG; break;
    case RIAP_COPROC_SPAWNFAIL: x->outcome = RIAP_EXEC_SPAWNFAIL; x->code = m->co.code; break;
    default:
      if (WIFSIGNALED(m->co.code)) { x->outcome = RIAP_EXEC_SIGNALED; x->code = WTERMSIG(m->co.code); }
      else { x->outcome = RIAP_EXEC_EXITED; x->code = WEXITSTATUS(m->co.code) ? WEXITSTATUS(m->co.code) : 255; }
      x->out.len = 0;
  }
  return 1;
}

/* after a persistent call: a coprocess that is gone is restarted on a later call, with back-off */
static void coproc_account(struct funcmeta *m, int answered)
{
  long long delay;
  if (m->co.pid && answered) { m->failures = 0; return; }
  if (m->co.pid) riap_coproc_stop(&m->co);   /* garbage or a failure: start afresh */
  m->failures++;
  delay = m->failures <= 1 ? 0 : 50LL << (m->failures - 2 < 7 ? m->failures - 2 : 7);
  m->retry_at_ms = riap_time_monoms() + (delay > 5000 ? 5000 : delay);
}

/* the facts of this call, as special arguments, for a coprocess */
static void add_facts(const struct funcmeta *m, const struct riap_req *q, const struct riap_peer *peer, json_t *input)
{
  char *envp[8], buf[RIAP_PEER_ENVBUF];
  int i, n;
  if (!json_is_object(input)) return;
  if (q->dry_run) json_object_set_new(input, "-dry_run", json_true());
  if (q->confirm) json_object_set_new(input, "-confirm", json_true());
  if (m->peer_facts) {
    json_t *o = json_object();
    n = riap_peer_env(envp, 0, buf, peer);
    for (i = 0; i < n; i++) {
      char *eq = strchr(envp[i], '=');
      json_object_setn_new(o, envp[i], (size_t)(eq - envp[i]), json_string(eq + 1));
    }
    json_object_set_new(input, "-riap_peer", o);
  }
}

static void run(struct server *s, struct riap_entity *e, struct funcmeta *m, const struct riap_req *q,
                const struct riap_peer *peer, json_t *args, struct reply *r)
{
  static struct riap_exec_result x;       /* its output buffer is reused call after call */
  stralloc in = { 0, 0, 0 };
  char *envp[16], peerbuf[RIAP_PEER_ENVBUF];
  struct envbuf env;
  json_t *input = m->args_array ? as_array(m, args) : json_incref(args);   /* args is this call's own: facts may go in */
  int answered = 0;

  env.envp = envp;
  env.n = 0;
  env.used = 0;
  if (m->persistent) add_facts(m, q, peer, input);
  if (!riap_json_cat(&in, input) || (!m->persistent && !build_env(&env, e, q, peer, peerbuf))) {
    reply_set(r, 500, "%s: arguments too large", e->uri);
    goto done;
  }
  if (!m->persistent) exec_once(s, e, m, &in, envp, &x);
  else if (!coproc_once(s, e, m, &in, &x, r)) goto done;
  switch (x.outcome) {
    case RIAP_EXEC_SPAWNFAIL:
      reply_set(r, 500, "%s: cannot run: %s%s", e->uri, strerror(x.code), missing_loader(e, x.code));
      break;
    case RIAP_EXEC_TIMEOUT:
      reply_set(r, 504, "%s: timed out after %.3g s", e->uri,
                (double)(m->timeout_ms ? m->timeout_ms : s->call_timeout_ms) / 1000);
      break;
    case RIAP_EXEC_TOOBIG:
      reply_set(r, 500, "%s: output over %zu bytes", e->uri, s->max_output);
      break;
    default:
      answered = interpret(e, m, &x, r);
      if (m->result_buf) encode_binary(e, q, r);
  }
  if (m->persistent) coproc_account(m, answered);
  if (x.out.a > 1048576) { free(x.out.s); memset(&x.out, 0, sizeof x.out); }  /* keep no huge buffer */
done:
  json_decref(input);
  free(in.s);
}

void call_run(struct server *s, struct riap_entity *e, const struct riap_req *q,
              const struct riap_peer *peer, struct reply *r)
{
  struct funcmeta *m;
  json_t *args;
  /* without metadata an executable is not called: nothing would check its
   * arguments, and a stray interpreter in the tree (a chroot's /bin/sh)
   * would run whatever a client sends it */
  if (meta_check(e, r)) return;
  if (!(m = funcmeta_get(e))) { reply_set(r, 500, "Out of memory"); return; }
  if (!m->ok) { reply_set(r, 531, "Invalid metadata for %s: %s", e->uri, m->err); return; }
  if (q->dry_run && !m->dry_run_ok) {
    reply_set(r, 412, "Function %s does not support dry run", e->uri);
    return;
  }
  if (!(args = check_args(e, m, q, r))) return;
  run(s, e, m, q, peer, args, r);
  json_decref(args);
}
