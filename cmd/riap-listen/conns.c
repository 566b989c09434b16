/* conns.c: the connections riap-listen holds itself, one entry per fd in
 * G.cn: accepted ones and parked ones whose next request has arrived wait
 * in the ready list (FIFO) for a worker, or, while their address has as
 * many workers as --max-workers-per-ip allows (counting its connections in
 * the ready list), in its held list (FIFO) until one of them is free: so
 * the head of the ready list can always be dispatched, and one address
 * never blocks the others (riap-listen(8), FAIR SHARE); parked ones (keep-alive
 * connections between requests, handed back by a worker, or accepted
 * before their first byte) wait in the idle list, in the order they were
 * parked, watched by epoll, until bytes arrive or --timeout passes. The
 * listener never reads a client's bytes: it only peeks whether there are
 * any. See riap-listen(8), PARKING. The length of the ready list, and the
 * connections admitted and refused, go to the scoreboard's header
 * (conns_publish). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_accessrec.h"
#include "riap_time.h"
#include "listen.h"

#define TIMEOUT_REPLY "j[408,\"Timeout reading request\",null,{\"riap.v\":1.1}]\r\n"

void conns_init(void)
{
  /* zero pages until an fd is used: an entry is filled (fill) before it
   * goes in a list, so the table costs memory only for the fds in use */
  G.cn = calloc(G.cnmax, sizeof *G.cn);
  if (!G.cn) die(111, "fatal: out of memory");
  G.ready.head = G.ready.tail = G.idle.head = G.idle.tail = -1;
  G.proxying.head = G.proxying.tail = -1;
  G.idle_ms = G.c.idle_timeout == 0 ? IDLE_NEVER
            : (long long)((G.c.idle_timeout > 0 ? G.c.idle_timeout : G.c.timeout) * 1000);
  G.read_ms = (long long)(G.c.read_timeout * 1000);
}

/* the idle list is in the order of deadlines: normally each one parked
 * goes last (one timeout for all); a shorter timeout walks back from the end */
static void link_sorted(struct cnlist *l, int fd)
{
  struct cn *c = &G.cn[fd];
  int32_t after = l->tail;
  while (after >= 0 && G.cn[after].deadline > c->deadline) after = G.cn[after].prev;
  c->prev = after;
  c->next = after >= 0 ? G.cn[after].next : l->head;
  if (c->next >= 0) G.cn[c->next].prev = fd; else l->tail = fd;
  if (after >= 0) G.cn[after].next = fd; else l->head = fd;
}

static void link_tail(struct cnlist *l, int fd)
{
  struct cn *c = &G.cn[fd];
  c->next = -1;
  c->prev = l->tail;
  if (l->tail >= 0) G.cn[l->tail].next = fd; else l->head = fd;
  l->tail = fd;
}

static void unlink_from(struct cnlist *l, int fd)
{
  struct cn *c = &G.cn[fd];
  if (c->prev >= 0) G.cn[c->prev].next = c->next; else l->head = c->next;
  if (c->next >= 0) G.cn[c->next].prev = c->prev; else l->tail = c->prev;
  c->prev = c->next = -1;
}

void conns_link(struct cnlist *l, int fd) { link_tail(l, fd); }
void conns_unlink(struct cnlist *l, int fd) { unlink_from(l, fd); }

/* the scoreboard's park fields: count, hand-backs, park time of the oldest */
static void publish(void)
{
  int64_t oldest = 0;
  if (!G.have_sb) return;
  if (G.idle.head >= 0) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    oldest = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000
           - (int64_t)(riap_time_monoms() - G.cn[G.idle.head].since) * 1000;
  }
  riap_sb_setpark(&G.sb, G.nparked, G.parks, oldest);
}

void conns_publish(void)
{
  if (G.have_sb) riap_sb_setqueue(&G.sb, G.qlen + G.nheld, G.accepted, G.refused);
}

void conns_publish_state(void)
{
  if (G.have_sb) riap_sb_setstate(&G.sb, (uint32_t)G.draining, (uint32_t)G.fds_lost);
}

/* at the bound, the connection parked longest makes room for a new one,
 * as the idle timeout would (one holding part of a request does not) */
static int evictable(void)
{
  return G.idle.head >= 0 && !G.cn[G.idle.head].datalen;
}

/* limit bounds the ready list only: held connections wait for their own
 * address's workers, and --max-per-ip bounds them */
int conns_room(unsigned limit)
{
  return G.qlen < limit && (G.qlen + G.nparked + G.nheld + G.nproxy < G.conn_max || evictable());
}

/* forgets entry fd (out of its list already) and closes it */
static void release(int fd, int do_close)
{
  struct cn *c = &G.cn[fd];
  if (c->data) { G.park_bytes -= c->datalen; free(c->data); }
  memset(c, 0, sizeof *c);
  c->prev = c->next = -1;
  if (do_close) close(fd);
}

/* the connection ends here: forgotten, closed, uncounted */
static void drop(int fd)
{
  access_end(G.cn[fd].addr);
  release(fd, 1);
}

/* a connection wants a worker: the ready list, where a worker of its
 * address's share waits for it; held when the share is taken (never at a
 * stop: what is in flight then is served in the grace period) */
static void make_ready(int fd)
{
  struct cn *c = &G.cn[fd];
  struct addr *a = c->addr;
  unsigned cap = G.c.max_workers_per_ip;
  if (a && cap && a->workers >= cap && !G.stopping) {
    c->where = CN_HELD;
    link_tail(&a->held, fd);
    G.nheld++;
  } else {
    if (a) a->workers++;
    c->where = CN_READY;
    link_tail(&G.ready, fd);
    G.qlen++;
  }
  conns_publish();
}

/* the first connection a holds goes to the ready list */
static void unhold(struct addr *a)
{
  int fd = a->held.head;
  unlink_from(&a->held, fd);
  G.nheld--;
  make_ready(fd);
}

void conns_worker_free(struct addr *a)
{
  if (!a) return;
  if (a->workers) a->workers--;
  if (a->held.head >= 0 && (a->workers < G.c.max_workers_per_ip || G.stopping)) unhold(a);
}

/* 1: bytes waiting, 0: end of file, -1: nothing yet (or an error: errno) */
static int peek(int fd)
{
  char b;
  ssize_t r;
  do r = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT); while (r < 0 && errno == EINTR);
  return r > 0 ? 1 : r == 0 ? 0 : -1;
}

static int park(int fd)
{
  struct cn *c = &G.cn[fd];
  struct epoll_event ev;
  ev.events = EPOLLIN | EPOLLRDHUP;
  ev.data.u64 = (uint64_t)EV_CONN << 32 | (unsigned)fd;
  if (epoll_ctl(G.ep, EPOLL_CTL_ADD, fd, &ev) < 0) return 0;
  c->where = CN_PARKED;
  c->since = riap_time_monoms();
  c->deadline = c->since + G.idle_ms;
  /* a partial request: --read-timeout from its first byte, over every park */
  if (c->datalen && c->begun + G.read_ms < c->deadline) c->deadline = c->begun + G.read_ms;
  link_sorted(&G.idle, fd);
  G.nparked++;
  return 1;
}

/* takes fd out of the idle list and the epoll set (closing alone would not
 * remove it: the worker that gets it holds the same open file) */
static void unpark(int fd)
{
  epoll_ctl(G.ep, EPOLL_CTL_DEL, fd, 0);
  unlink_from(&G.idle, fd);
  G.nparked--;
  G.cn[fd].where = CN_FREE;
}

static int fill(int fd, unsigned li, uint64_t id, const struct riap_peer *p, struct addr *a)
{
  struct cn *c;
  if (fd < 0 || (unsigned)fd >= G.cnmax) { close(fd); return 0; }   /* cannot happen: cnmax is the fd limit */
  c = &G.cn[fd];
  memset(c, 0, sizeof *c);
  c->prev = c->next = -1;
  c->li = (uint16_t)li;
  c->id = id;
  c->peer = *p;
  c->addr = a;
  return 1;
}

/* at the bound of connections held: the longest-parked one goes */
static void evict_oldest(void)
{
  int old = G.idle.head;
  unpark(old);
  drop(old);
  warn_limited("at the limit of connections held (RLIMIT_NOFILE): ", "closing the longest idle ones", "");
}

void conns_accepted(int fd, unsigned li, const struct riap_peer *p, struct addr *a, int waiting)
{
  int k;
  G.accepted++;                               /* published with the queue, or below */
  if (!fill(fd, li, ++G.next_id, p, a)) { access_end(a); conns_publish(); return; }
  G.cn[fd].fresh = 1;
  if (G.qlen + G.nparked + G.nheld >= G.conn_max && evictable()) {   /* accept took a reserve fd: give one back */
    evict_oldest();
    publish();
  }
  if (!G.c.park || G.stopping) { make_ready(fd); return; }
  k = waiting > 0 ? 1 : peek(fd);
  if (k > 0) make_ready(fd);                  /* the request is here already */
  else if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
    drop(fd);                                 /* gone before a word, or broken */
    conns_publish();
  } else if (!park(fd)) make_ready(fd);
  else { publish(); conns_publish(); }
}

void conns_parked(int fd, const struct wk *w, const char *data, size_t n)
{
  struct cn *c;
  if (!fill(fd, w->li, w->conn, &w->peer, w->addr)) { access_end(w->addr); return; }
  c = &G.cn[fd];
  G.parks++;
  /* at the bound a connection handed back makes room as a new one does,
   * so that the fds kept in reserve stay free for the next PARK's fd */
  if (G.qlen + G.nparked >= G.conn_max && evictable()) {
    evict_oldest();
  }
  if (n) {
    if (G.park_bytes + n > PARK_DATA_BUDGET || !(c->data = malloc(n))) {
      c->nopark = 1;                          /* a worker keeps it until its request is whole */
      make_ready(fd);
      publish();
      return;
    }
    memcpy(c->data, data, n);
    c->datalen = (uint32_t)n;
    c->begun = w->begun ? w->begun : riap_time_monoms();
    G.park_bytes += n;
  }
  if (G.stopping) {                           /* idle connections end at a stop */
    if (n || peek(fd) > 0) make_ready(fd); else drop(fd);
    publish();
    return;
  }
  if (!park(fd)) make_ready(fd);
  publish();
}

void conns_event(int fd)
{
  struct cn *c;
  int k;
  if (fd < 0 || (unsigned)fd >= G.cnmax) return;
  c = &G.cn[fd];
  if (c->where != CN_PARKED) return;          /* a stale event of this batch */
  k = peek(fd);
  if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  unpark(fd);
  if (k > 0 || (k == 0 && c->datalen)) make_ready(fd);   /* at EOF a partial line is still answered */
  else drop(fd);                              /* closed by the client, or broken */
  publish();
}

int conns_head(void)
{
  return G.ready.head;
}

void conns_taken(void)
{
  int fd = G.ready.head;
  if (fd < 0) return;
  unlink_from(&G.ready, fd);
  G.qlen--;
  conns_publish();
  release(fd, 1);                             /* the worker holds it now */
}

/* a parked partial request timed out: 408, as a worker would answer it,
 * and its access record */
static void timed_out(int fd)
{
  struct cn *c = &G.cn[fd];
  struct riap_accessrec a;
  struct timespec t;
  char label[RIAP_PEER_FMT], line[RIAP_ACCESSREC_MAX];
  const char *res = "\"Timeout reading request\"";
  size_t n;
  if (send(fd, TIMEOUT_REPLY, sizeof TIMEOUT_REPLY - 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) { /* gone: nothing to tell */ }
  clock_gettime(CLOCK_REALTIME, &t);
  riap_peer_fmt(label, &c->peer);
  memset(&a, 0, sizeof a);
  a.time_sec = t.tv_sec - (c->deadline - c->since) / 1000;
  a.time_usec = t.tv_nsec / 1000;
  a.pid = (long)getpid();
  a.peer = label;
  a.v = "-";
  a.action = a.uri = a.args = "";
  a.status = 408;
  a.res = res;
  a.res_len = strlen(res);
  a.treq = (double)(c->deadline - c->since) / 1000;
  n = riap_accessrec_fmt(line, &a);
  if (write(1, line, n) < 0) { /* the log is gone: nothing to say it on */ }
}

long conns_tick(void)
{
  long long t = riap_time_monoms();
  int changed = 0;
  while (G.idle.head >= 0) {
    int fd = G.idle.head;
    struct cn *c = &G.cn[fd];
    if (c->deadline > t) break;
    unpark(fd);
    if (c->datalen) timed_out(fd);
    drop(fd);
    changed = 1;
  }
  if (changed) publish();
  if (G.idle.head < 0) return -1;
  return (long)(G.cn[G.idle.head].deadline - t);
}

static void unhold_all(struct addr *a)
{
  while (a->held.head >= 0) unhold(a);
}

void conns_stop(void)
{
  access_each(unhold_all);                    /* G.stopping: into the ready list */
  while (G.idle.head >= 0) {
    int fd = G.idle.head;
    int k = peek(fd);
    unpark(fd);
    /* in flight: answered before the stop; so is a connection accepted
     * whose first request is not here yet (its client has been let in) */
    if (k > 0 || G.cn[fd].datalen || (k < 0 && G.cn[fd].fresh)) make_ready(fd);
    else drop(fd);
  }
  publish();
}

void conns_drop_ready(void)
{
  unsigned long n = 0;
  char num[24];
  while (G.ready.head >= 0) {
    int fd = G.ready.head;
    unlink_from(&G.ready, fd);
    G.qlen--;
    if (G.cn[fd].addr && G.cn[fd].addr->workers) G.cn[fd].addr->workers--;
    drop(fd);
    n++;
  }
  if (!n) return;
  conns_publish();
  snprintf(num, sizeof num, "%lu", n);
  carp("warning: grace period over: closing ", num, " connections still waiting for a worker");
}
