/* riap-flood: the clients of issue 14 item 5, for tests: many connections
 * from one address that tie up workers without being served much.
 *
 *   riap-flood [-b SRCIP] [-s N] [-p N] [-l BYTES] [-i SECS] [-d DEPTH] ADDR
 *     ADDR  a.b.c.d:port or unix:/path
 *     -b    bind this source address (TCP; Linux routes all of 127/8 on lo)
 *     -s    slow clients: each sends BYTES (default 17000) of a request
 *           line without its end, then one more byte every SECS (default 2)
 *     -p    pipelining clients: each writes DEPTH (default 2000) requests
 *           with a 4 KiB receive buffer and never reads an answer
 *
 * A connection the server closes (or refuses) is opened again after
 * 0.25 s, so the pressure lasts. Runs until TERM or INT, then prints one
 * line: connects=N closed=N open=N 408=N 503=N other=N (answers read by
 * the slow clients, and the first answer a pipelining client finds when
 * the server closes). Exit 0; 100 usage, 111 system failure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include "riap_sock.h"
#include "riap_time.h"

#define REQ "j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":2,\"b\":3}}\r\n"
#define HEAD "j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":2,\"b\":3},\"-pad\":\""
#define REOPEN_MS 250

enum { OFF, CONNECTING, SENDING, TRICKLE, FLOODED };
struct conn {
  int fd, slow, st;
  size_t off;                   /* bytes of out sent */
  long long due;                /* ms: the next byte, or the reconnect */
};

static struct riap_sockaddr addr;
static struct sockaddr_in src;
static int have_src, ep;
static char *slow_out, *pipe_out;
static size_t slow_len, pipe_len;
static long long interval_ms = 2000;
static unsigned long connects, closed, n408, n503, nother, nopen;
static volatile sig_atomic_t stop;

static void fatal(const char *what)
{
  fprintf(stderr, "riap-flood: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void usage(void)
{
  fprintf(stderr, "usage: riap-flood [-b SRCIP] [-s N] [-p N] [-l BYTES] [-i SECS] [-d DEPTH] ADDR\n");
  exit(100);
}

static void watch(struct conn *c, unsigned idx, int op, unsigned events)
{
  struct epoll_event ev;
  ev.events = events;
  ev.data.u32 = idx;
  if (epoll_ctl(ep, op, c->fd, &ev) < 0) fatal("epoll_ctl");
}

static void shut(struct conn *c, long long t)
{
  if (c->fd >= 0) { close(c->fd); nopen--; closed++; }
  c->fd = -1;
  c->st = OFF;
  c->due = t + REOPEN_MS;
}

static void open_conn(struct conn *c, unsigned idx, long long t)
{
  int fd = socket(addr.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) { c->due = t + REOPEN_MS; return; }      /* out of fds: later */
  if (!c->slow) {
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  if (have_src && bind(fd, (struct sockaddr *)&src, sizeof src) < 0) fatal("bind");
  if (connect(fd, &addr.u.sa, addr.len) < 0 && errno != EINPROGRESS && errno != EAGAIN) {
    close(fd);
    c->due = t + REOPEN_MS;
    return;
  }
  c->fd = fd;
  c->st = CONNECTING;
  c->off = 0;
  nopen++;
  watch(c, idx, EPOLL_CTL_ADD, EPOLLOUT | EPOLLIN | EPOLLRDHUP);
}

/* writes what is left of the first burst; 0 when the connection is gone */
static int push(struct conn *c, unsigned idx, long long t)
{
  const char *out = c->slow ? slow_out : pipe_out;
  size_t len = c->slow ? slow_len : pipe_len;
  while (c->off < len) {
    ssize_t w = send(c->fd, out + c->off, len - c->off, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) return 1;
    if (w < 0) return 0;
    c->off += (size_t)w;
  }
  c->st = c->slow ? TRICKLE : FLOODED;
  c->due = t + interval_ms;
  watch(c, idx, EPOLL_CTL_MOD, c->slow ? EPOLLIN | EPOLLRDHUP : EPOLLRDHUP);
  return 1;
}

/* a slow client reads what the server says (a 408, a 503) before it closes */
static int drain(struct conn *c)
{
  char b[4096];
  ssize_t r = recv(c->fd, b, sizeof b, MSG_DONTWAIT);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return 1;
  if (r <= 0) return 0;
  if (r >= 5 && !memcmp(b, "j[408", 5)) n408++;
  else if (r >= 5 && !memcmp(b, "j[503", 5)) n503++;
  else nother++;
  return 1;
}

static void event(struct conn *c, unsigned idx, unsigned ev, long long t)
{
  if (c->fd < 0) return;
  if (c->st == CONNECTING && (ev & EPOLLOUT) && !(ev & (EPOLLERR | EPOLLHUP))) {
    connects++;
    c->st = SENDING;
  }
  if (c->slow && (ev & EPOLLIN) && !drain(c)) { shut(c, t); return; }
  if (ev & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) {
    if (!c->slow || !(ev & EPOLLIN)) drain(c);  /* the first answer, before the end */
    shut(c, t);
    return;
  }
  if (c->st == SENDING && (ev & EPOLLOUT) && !push(c, idx, t)) shut(c, t);
}

static void on_signal(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv)
{
  unsigned nslow = 0, npipe = 0, depth = 2000, n, i;
  size_t bytes = 17000;
  struct conn *cs;
  struct sigaction sa;
  int opt;
  while ((opt = getopt(argc, argv, "b:s:p:l:i:d:")) != -1) {
    switch (opt) {
      case 'b':
        memset(&src, 0, sizeof src);
        src.sin_family = AF_INET;
        if (inet_pton(AF_INET, optarg, &src.sin_addr) != 1) usage();
        have_src = 1;
        break;
      case 's': nslow = (unsigned)strtoul(optarg, 0, 10); break;
      case 'p': npipe = (unsigned)strtoul(optarg, 0, 10); break;
      case 'l': bytes = strtoul(optarg, 0, 10); break;
      case 'i': interval_ms = (long long)(strtod(optarg, 0) * 1000); break;
      case 'd': depth = (unsigned)strtoul(optarg, 0, 10); break;
      default: usage();
    }
  }
  if (optind != argc - 1 || bytes < sizeof HEAD || !(nslow + npipe)) usage();
  if (!riap_sock_scanaddr(argv[optind], &addr)) usage();
  if (have_src && addr.family != AF_INET) usage();

  slow_len = bytes;
  if (!(slow_out = malloc(slow_len))) fatal("malloc");
  memcpy(slow_out, HEAD, sizeof HEAD - 1);
  memset(slow_out + sizeof HEAD - 1, 'x', slow_len - (sizeof HEAD - 1));
  pipe_len = (sizeof REQ - 1) * depth;
  if (!(pipe_out = malloc(pipe_len ? pipe_len : 1))) fatal("malloc");
  for (i = 0; i < depth; i++) memcpy(pipe_out + i * (sizeof REQ - 1), REQ, sizeof REQ - 1);

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGTERM, &sa, 0);
  sigaction(SIGINT, &sa, 0);
  signal(SIGPIPE, SIG_IGN);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) fatal("epoll_create1");
  n = nslow + npipe;
  if (!(cs = calloc(n, sizeof *cs))) fatal("calloc");
  for (i = 0; i < n; i++) { cs[i].fd = -1; cs[i].slow = i < nslow; cs[i].due = 0; }

  while (!stop) {
    struct epoll_event evs[256];
    long long t = riap_time_monoms();
    int k, got;
    for (i = 0; i < n; i++) {
      struct conn *c = &cs[i];
      if (c->st == OFF && t >= c->due) open_conn(c, i, t);
      else if (c->st == TRICKLE && t >= c->due) {
        if (send(c->fd, "x", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0 && errno != EAGAIN) shut(c, t);
        else c->due = t + interval_ms;
      }
    }
    got = epoll_wait(ep, evs, 256, 50);
    if (got < 0 && errno != EINTR) fatal("epoll_wait");
    t = riap_time_monoms();
    for (k = 0; k < got; k++) event(&cs[evs[k].data.u32], evs[k].data.u32, evs[k].events, t);
  }
  printf("connects=%lu closed=%lu open=%lu 408=%lu 503=%lu other=%lu\n", connects, closed, nopen, n408, n503, nother);
  return 0;
}
