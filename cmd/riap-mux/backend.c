/* backend.c: the backend programs. Each request line goes to one backend
 * and waits in that backend's queue for the answer line; answers come back
 * in the order the requests went in, so the queue's head is whose the next
 * answer is. A backend that ends, or answers nothing for --timeout while
 * requests wait, fails the requests it had been given (502, 504); those it
 * had not been given yet wait for its successor. On SIGHUP each active
 * backend is replaced: the new one takes new clients at once, the old one
 * answers what it was given (and what its clients pipeline behind it, for
 * their order) and then gets EOF on its stdin. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include "riap_err.h"
#include "riap_exec.h"
#include "riap_time.h"
#include "mux.h"

static stralloc *carried;       /* per backend: request bytes its predecessor never read */

static struct pending *at(struct backend *b, size_t i)
{
  return &b->q[(b->qhead + i) % b->qcap];
}

/* takes the head of q */
static struct pending pop(struct backend *b)
{
  struct pending p = *at(b, 0);
  b->qhead = (b->qhead + 1) % b->qcap;
  --b->qlen;
  b->inflight -= !p.local;
  return p;
}

static int push(struct backend *b, struct client *c, size_t len, const char *local)
{
  struct pending *p;
  if (b->qlen == b->qcap) {
    size_t ncap = b->qcap ? b->qcap * 2 : 64, i;
    struct pending *nq = malloc(ncap * sizeof *nq);
    if (!nq) return 0;
    for (i = 0; i < b->qlen; ++i) nq[i] = *at(b, i);
    free(b->q);
    b->q = nq;
    b->qcap = ncap;
    b->qhead = 0;
  }
  if (!local && !b->inflight++) b->progress_ms = riap_time_monoms();
  p = at(b, b->qlen++);
  p->client = (int)(c->conn.rfd);
  p->gen = c->gen;
  p->len = len;
  p->local = local;
  c->backend = b;
  ++c->unanswered;
  return 1;
}

static struct client *owner(const struct pending *p)
{
  struct client *c;
  if (p->client < 0 || (size_t)p->client >= M.nclients) return 0;
  c = &M.clients[p->client];
  return c->conn.rfd == p->client && c->gen == p->gen ? c : 0;
}

static void deliver(const struct pending *p, const char *line, size_t n)
{
  struct client *c = owner(p);
  if (!c) return;
  client_answer(c, line, n);
  --c->unanswered;
}

/* our own answers queued behind the backend's, now at the head */
static void pop_locals(struct backend *b)
{
  while (b->qlen && at(b, 0)->local) {
    struct pending p = pop(b);
    deliver(&p, p.local, strlen(p.local));
  }
}

static void envelope(char *buf, size_t size, int status, const char *msg)
{
  snprintf(buf, size, "j[%d,\"%s\"]", status, msg);
}

/* closes its pipes (a pipe server exits on EOF); reaped by the SIGCHLD handler */
static void stop_process(struct backend *b, int sig)
{
  pid_t pid = b->conn.pid;
  if (!pid) return;
  b->conn.pid = 0;
  riap_client_close(&b->conn, 0);
  if (sig && b->pid) kill(pid, sig);
  b->wantout = 0;
}

static void retire(struct backend *b)
{
  stop_process(b, 0);
  carried[b->slot].len = 0;
  b->state = BACKEND_UNUSED;
}

void backend_start(struct backend *b)
{
  long long now = riap_time_monoms();
  riap_conn_init(&b->conn);
  b->conn.maxline = M.max_line > RIAP_CLIENT_MAXLINE ? M.max_line : RIAP_CLIENT_MAXLINE;
  b->started_ms = now;
  b->start_at_ms = 0;
  if (!riap_client_open(&b->conn, &M.url, -1)) {
    riap_err_warn("backend %d: %s; starting again in %lu ms", b->slot, b->conn.msg, M.restart_delay_ms);
    backend_fail(b, -1, 0);
    return;
  }
  b->pid = b->conn.pid;
  mux_watch(b->conn.rfd, EPOLLIN, EV(EV_BACKEND_IN, b->slot), EPOLL_CTL_ADD);
  b->progress_ms = now;
  if (carried[b->slot].len) {
    if (!riap_client_queue(&b->conn, carried[b->slot].s, carried[b->slot].len))
      riap_err_die(111, "out of memory");
    carried[b->slot].len = 0;
    backend_flush(b);
  }
}

int backend_queue(struct backend *b, struct client *c, const char *line, size_t n)
{
  if (!push(b, c, n + 2, 0)) return 0;
  if (!b->conn.pid) {             /* stopped: kept for its successor */
    if (!stralloc_catb(&carried[b->slot], line, n) || !stralloc_catb(&carried[b->slot], "\r\n", 2)) return 0;
    return 1;
  }
  return riap_client_queue(&b->conn, line, n) && riap_client_queue(&b->conn, "\r\n", 2);
}

void backend_local(struct backend *b, struct client *c, const char *answer)
{
  if (!push(b, c, 0, answer)) riap_err_die(111, "out of memory");
}

void backend_flush(struct backend *b)
{
  int r;
  if (!b->conn.pid || b->conn.wfd < 0) return;
  r = riap_client_flush(&b->conn);
  if (r < 0) { backend_fail(b, 502, "Backend ended before answering"); return; }
  if ((r == 0) != b->wantout) {
    mux_watch(b->conn.wfd, EPOLLOUT, EV(EV_BACKEND_OUT, b->slot), r == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_DEL);
    b->wantout = r == 0;
  }
}

void backend_readable(struct backend *b)
{
  const char *line;
  size_t n;
  int r;
  while (b->conn.pid && (r = riap_client_getline(&b->conn, &line, &n)) != 0) {
    struct pending p;
    if (r < 0) {
      riap_err_warn("backend %d (pid %d): %s", b->slot, (int)b->conn.pid, b->conn.msg);
      backend_fail(b, 502, "Backend ended before answering");
      return;
    }
    pop_locals(b);
    if (!b->qlen) {
      riap_err_warn("backend %d (pid %d) answered no request: stopping it", b->slot, (int)b->conn.pid);
      backend_fail(b, 502, "Backend answered out of turn");
      return;
    }
    p = pop(b);
    b->progress_ms = riap_time_monoms();
    deliver(&p, line, n);
    pop_locals(b);
    if (b->state == BACKEND_RETIRING && !b->qlen) { retire(b); return; }
  }
}

/* the requests at the tail of q whose bytes are still unwritten in out */
static size_t unsent(struct backend *b, size_t *bytes)
{
  size_t left = b->conn.out.len - b->conn.outpos, k = 0, sum = 0;
  *bytes = 0;
  if (!b->conn.pid) return 0;
  while (k < b->qlen && sum + at(b, b->qlen - 1 - k)->len <= left) sum += at(b, b->qlen - 1 - k++)->len;
  *bytes = sum;
  return k;
}

/* a stopped backend is started again, also after TERM while requests it
 * holds wait for it: riap-mux exits once they are answered */
static int wanted(const struct backend *b)
{
  return !M.stopping || b->qlen;
}

void backend_fail(struct backend *b, int status, const char *why)
{
  char answer[160];
  size_t bytes, keep = b->state == BACKEND_RETIRING ? 0 : unsent(b, &bytes);
  long long now = riap_time_monoms(), again;
  int unstarted = status < 0;

  /* not started: what waited for it is refused, else a missing program would hold requests for ever */
  carried[b->slot].len = 0;
  if (keep && bytes && !stralloc_catb(&carried[b->slot], b->conn.out.s + b->conn.out.len - bytes, bytes))
    riap_err_die(111, "out of memory");
  if (unstarted) { status = 503; why = "Backend unavailable"; }
  envelope(answer, sizeof answer, status, why);
  while (b->qlen > keep) {
    struct pending p = pop(b);
    deliver(&p, p.local ? p.local : answer, strlen(p.local ? p.local : answer));
  }
  pop_locals(b);
  stop_process(b, status == 504 ? SIGKILL : SIGTERM);
  if (b->state == BACKEND_RETIRING) { retire(b); return; }
  /* a program that cannot start is tried once a second at most, whatever --restart-delay says */
  again = b->started_ms + (long long)(unstarted && M.restart_delay_ms < 1000 ? 1000 : M.restart_delay_ms);
  b->start_at_ms = again > now ? again : now;
  if (b->start_at_ms == now && wanted(b)) backend_start(b);
}

void backend_reaped(pid_t pid, int status)
{
  unsigned i;
  char how[32];
  for (i = 0; i < M.ntable; ++i) {
    struct backend *b = &M.backends[i];
    if (b->pid != pid) continue;
    b->pid = 0;
    riap_exec_describe(how, sizeof how, status);
    if (b->state == BACKEND_UNUSED && status == 0) return;   /* replaced, and done */
    if (!M.stopping) riap_err_warn("backend %u (pid %d) %s", i, (int)pid, how);
    if (b->conn.pid != pid) return;
    backend_readable(b);          /* the answers it wrote before it ended are in the pipe still */
    if (b->conn.pid == pid) backend_fail(b, 502, "Backend ended before answering");
    return;
  }
}

/* starts the backends due, fails those past --timeout; returns the ms to the next such event (-1: none) */
long long backend_timers(long long now)
{
  long long next = -1, t;
  unsigned i;
  char why[80];
  for (i = 0; i < M.ntable; ++i) {
    struct backend *b = &M.backends[i];
    if (b->state == BACKEND_UNUSED) continue;
    if (M.timeout_ms && b->conn.pid && b->inflight) {
      t = b->progress_ms + (long long)M.timeout_ms - now;
      if (t <= 0) {
        riap_err_warn("backend %u (pid %d) answered nothing for %.3g s: killing it", i, (int)b->pid,
                      (double)M.timeout_ms / 1000);
        snprintf(why, sizeof why, "Backend timed out after %.3g s", (double)M.timeout_ms / 1000);
        backend_fail(b, 504, why);
      } else if (next < 0 || t < next) next = t;
    }
    if (b->state == BACKEND_ACTIVE && !b->conn.pid && wanted(b)) {
      if (b->start_at_ms <= now) backend_start(b);
      if (!b->conn.pid && (next < 0 || b->start_at_ms - now < next)) next = b->start_at_ms - now;
    }
  }
  return next;
}

size_t backend_unanswered(void)
{
  size_t n = 0;
  unsigned i;
  for (i = 0; i < M.ntable; ++i) n += M.backends[i].qlen;
  return n;
}

/* room for two reloads in a row while the replaced backends still answer */
void backend_init(void)
{
  unsigned i;
  M.ntable = M.nbackends * 3;
  carried = calloc(M.ntable, sizeof *carried);
  M.backends = calloc(M.ntable, sizeof *M.backends);
  if (!carried || !M.backends) riap_err_die(111, "out of memory");
  for (i = 0; i < M.ntable; ++i) {
    M.backends[i].slot = (int)i;
    M.backends[i].state = i < M.nbackends ? BACKEND_ACTIVE : BACKEND_UNUSED;
    riap_conn_init(&M.backends[i].conn);
  }
}

/* the active backend with the fewest requests waiting */
struct backend *backend_choose(void)
{
  struct backend *best = 0;
  unsigned i;
  for (i = 0; i < M.ntable; ++i) {
    struct backend *b = &M.backends[i];
    if (b->state == BACKEND_ACTIVE && (!best || b->qlen < best->qlen)) best = b;
  }
  return best;
}

void backend_reload(void)
{
  unsigned i, j = 0, unused = 0, nfresh = 0, fresh[64];   /* --backends is 64 at most */
  for (i = 0; i < M.ntable; ++i) unused += M.backends[i].state == BACKEND_UNUSED;
  if (unused < M.nbackends) {
    riap_err_warn("SIGHUP ignored: the backends replaced before are still answering");
    return;
  }
  for (i = 0; i < M.ntable; ++i) {
    struct backend *old = &M.backends[i];
    if (old->state != BACKEND_ACTIVE) continue;
    if (!old->conn.pid) { fresh[nfresh++] = i; continue; }   /* not running: started now, with what waits */
    while (M.backends[j].state != BACKEND_UNUSED) ++j;
    fresh[nfresh++] = j++;
    old->state = BACKEND_RETIRING;
    if (!old->qlen) retire(old);
  }
  /* started once the old are marked, so that none is replaced twice */
  for (i = 0; i < nfresh; ++i) {
    M.backends[fresh[i]].state = BACKEND_ACTIVE;
    backend_start(&M.backends[fresh[i]]);
  }
  riap_err_info("SIGHUP: %u new backend%s started; the replaced end once they have answered", nfresh,
                nfresh == 1 ? "" : "s");
}

/* SIGUSR1: one line on stderr, for whoever wonders where the time goes */
void backend_report(size_t clients)
{
  char line[1024];
  size_t k;
  unsigned i;
  k = (size_t)snprintf(line, sizeof line, "status: %zu client%s", clients, clients == 1 ? "" : "s");
  for (i = 0; i < M.ntable && k < sizeof line; ++i) {
    struct backend *b = &M.backends[i];
    const char *replaced = b->state == BACKEND_RETIRING ? " (replaced)" : "";
    long long in = b->start_at_ms - riap_time_monoms();
    if (b->state == BACKEND_UNUSED) continue;
    if (b->conn.pid)
      k += (size_t)snprintf(line + k, sizeof line - k, "; backend %u%s pid %d: %zu unanswered", i, replaced,
                            (int)b->conn.pid, b->qlen);
    else
      k += (size_t)snprintf(line + k, sizeof line - k, "; backend %u down, starting in %lld ms: %zu unanswered", i,
                            in > 0 ? in : 0, b->qlen);
  }
  riap_err_info("%s", line);
}

/* at the end: each backend's stdin closed, then 5 s for it to exit */
void backend_stop_all(void)
{
  unsigned i;
  for (i = 0; i < M.ntable; ++i) {
    struct backend *b = &M.backends[i];
    if (b->conn.pid && !riap_client_close(&b->conn, 5000))
      riap_err_warn("backend %u: %s", i, b->conn.msg);
  }
}
