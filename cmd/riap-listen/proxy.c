/* proxy.c: listeners behind a balancer (--proxy-protocol): a connection's
 * first bytes are a PROXY protocol header (lib/riap_proxy.c) naming the
 * client, who is then the peer for everything (--allow/--deny, the limits
 * per address, the access records, the functions' UCSPI variables, the
 * scoreboard). Only peers in --proxy-from may send one; the header is
 * peeked at until it is whole (it may come in pieces, within
 * --proxy-timeout), then exactly its bytes are read: what follows is the
 * client's and stays in the socket for the worker. The balancer's own
 * connections (LOCAL, UNKNOWN: its health checks) keep their own peer, and
 * are answered 503 while draining (USR1). See riap-listen(8), PROXY PROTOCOL
 * and DRAINING. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_proxy.h"
#include "riap_time.h"
#include "listen.h"

#define FORBIDDEN "j[403,\"Forbidden\",null,{\"riap.v\":1.1}]\r\n"
#define BAD_HEADER "j[400,\"Bad PROXY protocol header\",null,{\"riap.v\":1.1}]\r\n"
#define DRAINING "j[503,\"Draining\",null,{\"riap.v\":1.1}]\r\n"

void proxy_option(const char *list)
{
  const char *bad = 0;
  if (!riap_acl_add(&G.c.proxy_from, list, 0, &bad)) {
    if (!bad) die(111, "fatal: out of memory");
    die(100, "fatal: --proxy-from: bad address block: ", bad, " (a.b.c.d[/N] or IPv6[/N], comma-separated)");
  }
}

void proxy_check(void)
{
  unsigned i;
  for (i = 0; i < G.nls; i++)
    if (G.ls[i].proxy && G.ls[i].addr.family != AF_UNIX && !G.c.proxy_from.nallow)
      die(100, "fatal: --proxy-protocol on ", G.ls[i].addr.text, " needs --proxy-from (the balancers' addresses)");
  if (G.c.proxy_from.nallow) {
    for (i = 0; i < G.nls && !G.ls[i].proxy; i++) ;
    if (i == G.nls) die(100, "fatal: --proxy-from without a --proxy-protocol listener");
  }
}

/* the header of fd: 1 read (consumed; *q is the peer it names, or p when it
 * names none: *local; *more: the client's bytes were seen behind it, as a
 * balancer sends them in one segment), 0 not whole yet, -1 not to be had
 * (*why; NULL for a peer gone before a byte, which needs no word) */
static int header(int fd, const struct riap_peer *p, int hup, struct riap_peer *q, int *local, int *more, const char **why)
{
  char buf[RIAP_PROXY_MAX];
  struct riap_proxy h;
  size_t len;
  ssize_t r;
  int k;
  *why = 0;
  *more = 0;
  do r = recv(fd, buf, sizeof buf, MSG_PEEK | MSG_DONTWAIT); while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return hup ? -1 : 0;
  if (r <= 0) return -1;                        /* gone before a byte: a connect-only check */
  k = riap_proxy_scan(buf, (size_t)r, &h, &len);
  if (k < 0) { *why = h.why; return -1; }
  if (k == 0) {
    if (hup) *why = "closed in the middle of its PROXY header";
    return hup ? -1 : 0;
  }
  do r = recv(fd, buf, len, MSG_DONTWAIT); while (r < 0 && errno == EINTR);
  if (r != (ssize_t)len) { *why = "PROXY header lost while read"; return -1; }
  *q = *p;
  *local = h.local;
  *more = (size_t)r > len;
  if (!h.local) {
    q->proto = RIAP_PROTO_TCP;
    memcpy(q->remoteip, h.srcip, sizeof q->remoteip);
    memcpy(q->localip, h.dstip, sizeof q->localip);
    q->remoteport = h.srcport;
    q->localport = h.dstport;
    q->uid = q->gid = q->pid = -1;
  }
  return 1;
}

/* what header() found: the connection goes on as one of its peer, or ends */
static void finish(int fd, unsigned li, const struct riap_peer *p, int k,
                   const struct riap_peer *q, int local, int more, const char *why)
{
  struct addr *a;
  char text[160];
  if (k < 0) {
    if (!why) { close(fd); return; }
    snprintf(text, sizeof text, "bad PROXY protocol header: %s", why);
    access_refuse(fd, p, text, BAD_HEADER, sizeof BAD_HEADER - 1);
    return;
  }
  if (local && G.draining) {             /* not a refusal: a draining instance's health check */
    access_answer_close(fd, DRAINING, sizeof DRAINING - 1);
    return;
  }
  if (!access_admit(fd, li, q, &a)) return;
  conns_accepted(fd, li, q, a, more);
}

static void unwatch(int fd)
{
  epoll_ctl(G.ep, EPOLL_CTL_DEL, fd, 0);
  conns_unlink(&G.proxying, fd);
  G.nproxy--;
  G.cn[fd].where = CN_FREE;
}

void proxy_accepted(int fd, unsigned li, const struct riap_peer *p)
{
  struct riap_peer q;
  struct epoll_event ev;
  struct cn *c;
  const char *why;
  int local = 0, more = 0, k;
  if (!access_proxy_from(fd, li, p)) {
    access_refuse(fd, p, "not in --proxy-from: may not send a PROXY header", FORBIDDEN, sizeof FORBIDDEN - 1);
    return;
  }
  k = header(fd, p, 0, &q, &local, &more, &why);      /* a balancer sends it with the connection */
  if (k) { finish(fd, li, p, k, &q, local, more, why); return; }
  if (fd < 0 || (unsigned)fd >= G.cnmax) { close(fd); return; }
  c = &G.cn[fd];
  memset(c, 0, sizeof *c);
  c->prev = c->next = -1;
  c->li = (uint16_t)li;
  c->peer = *p;
  c->since = riap_time_monoms();
  c->deadline = c->since + (long long)(G.c.proxy_timeout * 1000);
  /* edge-triggered: peeking leaves the bytes there, so only new ones wake us */
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = (uint64_t)EV_CONN << 32 | (unsigned)fd;
  if (epoll_ctl(G.ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    access_refuse(fd, p, "unable to wait for its PROXY header", 0, 0);
    return;
  }
  c->where = CN_PROXY;
  conns_link(&G.proxying, fd);                  /* same timeout for all: in deadline order */
  G.nproxy++;
}

void proxy_event(int fd, unsigned events)
{
  struct riap_peer p, q;
  const char *why;
  unsigned li;
  int local = 0, more = 0, k;
  if (fd < 0 || (unsigned)fd >= G.cnmax || G.cn[fd].where != CN_PROXY) return;
  p = G.cn[fd].peer;
  li = G.cn[fd].li;
  k = header(fd, &p, !!(events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)), &q, &local, &more, &why);
  if (!k) return;
  unwatch(fd);
  finish(fd, li, &p, k, &q, local, more, why);
}

long proxy_tick(void)
{
  long long t = riap_time_monoms();
  while (G.proxying.head >= 0) {
    int fd = G.proxying.head;
    struct riap_peer p = G.cn[fd].peer;
    if (G.cn[fd].deadline > t) return (long)(G.cn[fd].deadline - t);
    unwatch(fd);
    access_refuse(fd, &p, "no whole PROXY header within --proxy-timeout", 0, 0);
  }
  return -1;
}

void proxy_stop(void)
{
  while (G.proxying.head >= 0) {
    int fd = G.proxying.head, local = 0, more = 0, k;
    struct riap_peer p = G.cn[fd].peer, q;
    unsigned li = G.cn[fd].li;
    const char *why;
    unwatch(fd);
    k = header(fd, &p, 1, &q, &local, &more, &why);    /* now or never */
    finish(fd, li, &p, k, &q, local, more, why);
  }
}
