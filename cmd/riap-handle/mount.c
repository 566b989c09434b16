/* mount.c: NAME.mount.json makes /NAME/ another Riap::Simple server's
 * subtree: requests under it are forwarded with their uri rewritten, and the
 * uris in list, info and child_metas results are rewritten back. One
 * connection (or one riap+pipe child) per riap-handle process, opened on
 * first use and reopened after a failure, not before restart_delay. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_client.h"
#include "riap_time.h"
#include "riap_url.h"
#include "handle.h"

struct mount {
  int ok;                       /* 0: err says why the mount file is not usable */
  char err[RIAP_URL_MSGMAX + 64];
  struct riap_url url;
  char *prefix;                 /* the remote uri of the mount point, ending in / */
  unsigned long timeout_ms;
  unsigned long restart_delay_ms;
  struct riap_conn conn;
  int open, used;               /* used: it has answered before (a stale keep-alive may be closed) */
  long long retry_at_ms;
  const char *uri;              /* the mount point's (the entity's) */
  unsigned handdowns;           /* times its backend was handed down to a new image */
  struct mount *next;           /* every mount configured, for mount_handdown */
};

static struct mount *mounts;


static int seconds(json_t *v, unsigned long def_ms, unsigned long *ms)
{
  if (!v) { *ms = def_ms; return 1; }
  if (!json_is_number(v) || json_number_value(v) < 0 || json_number_value(v) > 86400) return 0;
  *ms = (unsigned long)(json_number_value(v) * 1000);
  return 1;
}

/* a relative program path (with a slash) is relative to the mount file's directory */
static int anchor_program(struct mount *m, const char *dir)
{
  char *abs;
  if (m->url.scheme != RIAP_URL_PIPE || m->url.path[0] == '/' || !strchr(m->url.path, '/')) return 1;
  abs = malloc(strlen(dir) + strlen(m->url.path) + 2);
  if (!abs) return 0;
  sprintf(abs, "%s/%s", dir, m->url.path);
  free(m->url.path);
  m->url.path = abs;
  free(m->url.argv[0]);
  m->url.argv[0] = strdup(abs);
  return m->url.argv[0] != 0;
}

static void configure(struct server *s, struct mount *m, json_t *conf, const char *dir)
{
  json_t *prefix = json_object_get(conf, "prefix");
  const char *p;
  size_t n;
  m->ok = 0;
  if (!riap_url_parse(&m->url, json_string_value(json_object_get(conf, "url")), m->err)) return;
  if (!anchor_program(m, dir)) { strcpy(m->err, "out of memory"); return; }
  p = prefix ? json_string_value(prefix) : m->url.uri;
  if (!p || p[0] != '/') { strcpy(m->err, "prefix must be a string starting with /"); return; }
  n = strlen(p);
  m->prefix = malloc(n + 2);
  if (!m->prefix) { strcpy(m->err, "out of memory"); return; }
  memcpy(m->prefix, p, n + 1);
  if (p[n - 1] != '/') strcpy(m->prefix + n, "/");
  if (!seconds(json_object_get(conf, "timeout"), s->call_timeout_ms, &m->timeout_ms) ||
      !seconds(json_object_get(conf, "restart_delay"), 1000, &m->restart_delay_ms)) {
    strcpy(m->err, "timeout and restart_delay must be numbers of seconds");
    return;
  }
  riap_conn_init(&m->conn);
  m->ok = 1;
}

/* RIAP_MOUNT_FDS, taken out of the environment on first use, before any
 * backend is started (they get our environment) */
static const char *handed(void)
{
  static char *v;
  static int done;
  if (!done) {
    const char *e = getenv("RIAP_MOUNT_FDS");
    done = 1;
    if (e) v = strdup(e);
    unsetenv("RIAP_MOUNT_FDS");
  }
  return v;
}

/* A backend is handed down at most this many times: then the new image
 * starts a fresh one (before READY, with --start-persistent), so that the
 * memory a backend gathers is bounded as --max-requests-per-child bounds
 * the worker's own (a Perl process grows with each wrapper it compiles). */
#define HANDDOWN_MAX 9

/* one record of RIAP_MOUNT_FDS: "RFD,WFD,PID,N,URI;" (mount_handdown) */
struct handed_backend {
  int rfd, wfd;
  long pid;
  unsigned times;               /* N: the times it was handed down */
  const char *uri;              /* the mount point's, uri_len bytes */
  size_t uri_len;
};

/* the record at *v into *b, *v past it: 1, or 0 at the end; a malformed
 * one is skipped */
static int next_handed(const char **v, struct handed_backend *b)
{
  while (*v && **v) {
    const char *rec = *v, *end = strchr(rec, ';');
    int k;
    if (!end) return 0;
    *v = end + 1;
    if (sscanf(rec, "%d,%d,%ld,%u,%n", &b->rfd, &b->wfd, &b->pid, &b->times, &k) == 4) {
      b->uri = rec + k;
      b->uri_len = (size_t)(end - rec - k);
      return 1;
    }
  }
  return 0;
}

/* a recycled worker's backends (RIAP_MOUNT_FDS, see mount_handdown): the
 * record of the mount point uri, if any, is taken over, unless it was
 * handed down HANDDOWN_MAX times already: then mount_adopt_end closes it */
static void adopt(struct mount *m)
{
  const char *v = handed();
  struct handed_backend b;
  size_t n = strlen(m->uri);
  if (m->url.scheme != RIAP_URL_PIPE) return;
  while (next_handed(&v, &b)) {
    if (b.uri_len != n || strncmp(b.uri, m->uri, n)) continue;
    if (b.times > HANDDOWN_MAX) return;
    m->handdowns = b.times;
    if (riap_client_adopt(&m->conn, &m->url, b.rfd, b.wfd, (pid_t)b.pid)) m->open = m->used = 1;
    else carp("warning: mount ", m->uri, ": ", m->conn.msg);
    return;
  }
}

void mount_free(struct mount *m)
{
  struct mount **p;
  if (!m) return;
  for (p = &mounts; *p; p = &(*p)->next)
    if (*p == m) { *p = m->next; break; }
  if (m->open) riap_client_close(&m->conn, 100);
  riap_url_free(&m->url);
  free(m->prefix);
  free(m);
}

static struct mount *mount_get(struct server *s, struct riap_entity *e)
{
  struct mount *m = e->priv;
  if (m) return m;
  if (!(m = calloc(1, sizeof *m))) return 0;
  m->uri = e->uri;
  configure(s, m, e->mount, e->dir);
  if (m->ok) adopt(m);
  m->next = mounts;
  mounts = m;
  e->priv = m;
  return m;
}

/* rewrites a remote uri that starts with the prefix into ours */
static json_t *local_uri(const struct mount *m, const struct riap_entity *e, json_t *uri)
{
  size_t n = strlen(m->prefix);
  const char *u = json_string_value(uri);
  char *l;
  json_t *out;
  if (!u || strncmp(u, m->prefix, n)) return json_incref(uri);
  l = malloc(strlen(e->uri) + strlen(u + n) + 1);
  if (!l) return json_incref(uri);
  strcpy(l, e->uri);
  strcat(l, u + n);
  out = json_string(l);
  free(l);
  return out ? out : json_incref(uri);
}

static void rewrite_result(const struct mount *m, const struct riap_entity *e, enum riap_action a, json_t *res)
{
  size_t i;
  if (a == RIAP_A_INFO && json_is_object(res)) {
    json_t *u = json_object_get(res, "uri");
    if (u) json_object_set_new(res, "uri", local_uri(m, e, u));
  } else if (a == RIAP_A_LIST && json_is_array(res)) {
    for (i = 0; i < json_array_size(res); i++) {
      json_t *x = json_array_get(res, i);
      if (json_is_string(x)) json_array_set_new(res, i, local_uri(m, e, x));
      else if (json_is_object(x) && json_object_get(x, "uri"))
        json_object_set_new(x, "uri", local_uri(m, e, json_object_get(x, "uri")));
    }
  } else if (a == RIAP_A_CHILD_METAS && json_is_object(res)) {
    json_t *copy = json_object(), *v, *k;
    const char *key;
    json_object_foreach(res, key, v) {
      k = json_string(key);
      json_t *lk = local_uri(m, e, k);
      json_object_set(copy, json_string_value(lk), v);
      json_decref(lk);
      json_decref(k);
    }
    json_object_clear(res);
    json_object_update(res, copy);
    json_decref(copy);
  }
}

static void close_conn(struct mount *m)
{
  riap_client_close(&m->conn, 100);
  m->open = m->used = 0;
  m->retry_at_ms = riap_time_monoms() + (long long)m->restart_delay_ms;
}

/* one request to the backend; NULL with the reply set on failure */
static json_t *forward(struct mount *m, const struct riap_entity *e, json_t *req, struct reply *r)
{
  json_t *env;
  int attempt;
  for (attempt = 0; attempt < 2; attempt++) {
    int reused = m->used;
    if (!m->open) {
      long long now = riap_time_monoms();
      if (now < m->retry_at_ms)
        return reply_set(r, 503, "Mount %s: backend unavailable, retry in %lld ms", e->uri, m->retry_at_ms - now), NULL;
      if (!riap_client_open(&m->conn, &m->url, (int)m->timeout_ms)) {
        carp("warning: mount ", e->uri, ": ", m->conn.msg);   /* the details name paths: the log's, not the client's */
        reply_set(r, 503, "Mount %s: backend unavailable", e->uri);
        m->retry_at_ms = riap_time_monoms() + (long long)m->restart_delay_ms;
        return NULL;
      }
      m->open = 1;
    }
    env = riap_client_request(&m->conn, req, (int)m->timeout_ms);
    if (env) { m->used = 1; return env; }
    /* a connection that served before may have been closed while idle: once more on a fresh one */
    if (reused && m->conn.err == RIAP_CLIENT_ECLOSED && attempt == 0) {
      riap_client_close(&m->conn, 100);
      m->open = m->used = 0;
      continue;
    }
    if (m->conn.err == RIAP_CLIENT_ETIMEOUT)
      reply_set(r, 504, "Mount %s: backend timed out after %.3g s", e->uri, (double)m->timeout_ms / 1000);
    else if (m->conn.err == RIAP_CLIENT_ECLOSED)
      reply_set(r, 502, "Mount %s: backend closed the connection", e->uri);
    else reply_set(r, 502, "Mount %s: bad answer from backend", e->uri);
    carp("warning: mount ", e->uri, ": ", m->conn.msg);
    close_conn(m);
    return NULL;
  }
  return NULL;
}

/* the client's own keys (-uri_path, ...) describe its URL, not the
 * backend's: they are not forwarded */
static void drop_client_keys(json_t *req)
{
  const char *key;
  json_t *v;
  void *tmp;
  json_object_foreach_safe(req, tmp, key, v) {
    (void)v;
    if (key[0] == '-') json_object_del(req, key);
  }
}

/* --start-persistent: the backend is opened now, and its answer to an
 * info of the mount point awaited, so that the first request does not wait
 * for a program to start (a Perl backend loads its modules for 100 ms and
 * more). In a worker this runs before READY: a recycled worker takes no
 * connection before its backends answer. A failure is only a warning: the
 * backend is tried again on the first request, as without the option. */
void mount_start(struct server *s, struct riap_entity *e)
{
  struct mount *m = mount_get(s, e);
  struct reply r;
  json_t *req, *env;
  if (!m || !m->ok || m->open) return;
  req = json_pack("{s:s, s:s}", "action", "info", "uri", m->prefix);
  if (!req) return;
  memset(&r, 0, sizeof r);
  env = forward(m, e, req, &r);
  json_decref(req);
  json_decref(env);                            /* a failure has been reported by forward */
  m->retry_at_ms = 0;                          /* the first request tries again at once */
  reply_clear(&r);
}

void mount_run(struct server *s, struct riap_entity *e, const struct riap_req *q, size_t rest, struct reply *r)
{
  struct mount *m = mount_get(s, e);
  json_t *req, *env, *meta;
  char *uri;
  if (!m) { reply_set(r, 500, "Out of memory"); return; }
  if (!m->ok) { reply_set(r, 531, "Invalid mount %s: %s", e->uri, m->err); return; }
  uri = malloc(strlen(m->prefix) + q->uri_len + 1);
  if (!uri) { reply_set(r, 500, "Out of memory"); return; }
  strcpy(uri, m->prefix);
  if (rest < q->uri_len) strncat(uri, q->uri + rest, q->uri_len - rest);
  req = json_copy(q->json);
  drop_client_keys(req);
  json_object_set_new(req, "uri", json_string(uri));
  free(uri);
  env = forward(m, e, req, r);
  json_decref(req);
  if (!env) return;
  r->status = (int)json_integer_value(json_array_get(env, 0));
  r->message = json_is_string(json_array_get(env, 1)) ? json_incref(json_array_get(env, 1)) : 0;
  r->result = json_incref(json_array_get(env, 2));
  meta = json_array_get(env, 3);
  r->meta = json_is_object(meta) ? json_incref(meta) : 0;   /* riap.* keys are redone by reply_cat */
  json_decref(env);
  /* the envelope was ours alone: its parts are rewritten in place, not copied */
  if (r->meta) json_object_del(r->meta, "logs");   /* Perl's servers put their source paths there */
  if (r->status / 100 == 2 && r->result) rewrite_result(m, e, q->action, r->result);
}

/* A worker at its request limit that keeps its backends (worker.c) execs a
 * fresh riap-handle in its own process: each running riap+pipe backend
 * with nothing unread passes as "RFD,WFD,PID,N,URI;" in RIAP_MOUNT_FDS (N:
 * the times it was handed down, this one included), its
 * fds open across the exec; the new image takes them over (adopt) as its
 * --start-persistent walk reaches each mount, and mount_adopt_end closes
 * what no mount took. */
int mount_handdown(stralloc *sa)
{
  struct mount *m;
  char num[80];
  int n = 0;
  for (m = mounts; m; m = m->next) {
    struct riap_conn *c = &m->conn;
    if (!m->open || !c->pid || riap_client_pending(c) || c->inpos != c->in.len) continue;
    if (fcntl(c->rfd, F_SETFD, 0) < 0 || fcntl(c->wfd, F_SETFD, 0) < 0) continue;
    snprintf(num, sizeof num, "%d,%d,%ld,%u,", c->rfd, c->wfd, (long)c->pid, m->handdowns + 1);
    if (!stralloc_cats(sa, num) || !stralloc_cats(sa, m->uri) || !stralloc_cats(sa, ";")) return -1;
    n++;
  }
  return n;
}

void mount_adopt_end(void)
{
  const char *v = handed();
  struct handed_backend b;
  while (next_handed(&v, &b)) {
    /* still without close-on-exec: no mount took it */
    if (b.rfd > 2 && b.wfd > 2 && b.pid > 0 && fcntl(b.rfd, F_GETFD) == 0) {
      struct riap_conn c;
      riap_conn_init(&c);
      c.rfd = b.rfd;
      c.wfd = b.wfd;
      c.pid = (pid_t)b.pid;
      riap_client_close(&c, 100);
    }
  }
}
