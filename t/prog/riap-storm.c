/* riap-storm: a client that counts every request, for the HUP storm test
 * (t/riap-reload.bats). C connections in one epoll loop for T seconds:
 * odd ones pipeline D requests, even ones send one at a time; every
 * connection with (index % 4) >= 2 closes and reconnects after R answers.
 * With -H PID, sends SIGHUP to PID at F per second meanwhile. Then it
 * stops sending and waits (at most W seconds) for the answers in flight.
 *
 *   riap-storm [-c CONNS] [-d DEPTH] [-r EVERY] [-t SECS] [-w SECS]
 *              [-H PID] [-f HUPS_PER_SEC] [-q LINE] ADDR
 *
 * Prints one JSON line: sent, answered (lines j[2..), bad (other answer
 * lines), lost (requests sent and never answered), resets (connections
 * that failed with ECONNRESET or another error), eofs (closed by the
 * server with requests in flight), closed_idle (closed by the server with
 * nothing in flight), connects, hups. Exit 0 when lost, bad and resets are
 * 0, 1 otherwise, 111 on a system failure of its own. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "riap_sock.h"
#include "riap_time.h"

struct conn {
  int fd;
  unsigned depth;              /* requests kept in flight */
  unsigned long every;         /* reconnect after this many answers; 0: never */
  unsigned long here;          /* answered on this connection */
  unsigned inflight;
  size_t linepos;
  char head[3];
};

static struct riap_sockaddr addr;
static const char *req = "j{\"action\":\"meta\",\"uri\":\"/Math/mult\"}";
static char *lines;
static size_t line_len;
static int ep, sending = 1;
static unsigned long sent, answered, bad, lost, resets, eofs, closed_idle, connects, hups;

static void die(const char *what)
{
  fprintf(stderr, "riap-storm: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

/* writes k requests; a failed write shows up as EOF or an error on read */
static void send_reqs(struct conn *c, unsigned k)
{
  size_t off = 0, len = line_len * k;
  if (!sending || !k) return;
  c->inflight += k;
  sent += k;
  while (off < len) {
    ssize_t w = write(c->fd, lines + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return;
    off += (size_t)w;
  }
}

static void open_conn(struct conn *c, unsigned idx)
{
  struct epoll_event ev;
  int tries;
  for (tries = 0; (c->fd = riap_sock_connect(&addr)) < 0; tries++) {
    if (tries > 5000) die("connect");
    usleep(1000);                          /* backlog full: wait a little */
  }
  connects++;
  ev.events = EPOLLIN;
  ev.data.u32 = idx;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
  c->linepos = 0;
  c->inflight = 0;
  c->here = 0;
  send_reqs(c, c->depth);
}

static void close_conn(struct conn *c)
{
  close(c->fd);
  c->fd = -1;
}

/* the server closed c, or it failed: its requests in flight are lost */
static void broken(struct conn *c, ssize_t r, int e)
{
  if (r < 0) {
    resets++;
    fprintf(stderr, "riap-storm: connection failed with %u in flight: %s\n", c->inflight, strerror(e));
  } else if (c->inflight) {
    eofs++;
    fprintf(stderr, "riap-storm: connection closed by the server with %u in flight\n", c->inflight);
  } else {
    closed_idle++;
  }
  lost += c->inflight;
  close_conn(c);
}

static void got_line(struct conn *c)
{
  if (c->linepos >= 3 && !memcmp(c->head, "j[2", 3)) answered++;
  else bad++;
  if (c->inflight) c->inflight--;
  c->here++;
}

static void readable(struct conn *cs, unsigned idx)
{
  struct conn *c = &cs[idx];
  char buf[65536], *p, *end, *nl;
  unsigned got = 0;
  ssize_t r = read(c->fd, buf, sizeof buf);
  if (r < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (r <= 0) {
    broken(c, r, errno);
    if (sending) open_conn(c, idx);
    return;
  }
  for (p = buf, end = buf + r; p < end; p = nl + 1) {
    size_t len;
    nl = memchr(p, '\n', (size_t)(end - p));
    len = (size_t)((nl ? nl : end) - p);
    if (c->linepos < 3) memcpy(c->head + c->linepos, p, len < 3 - c->linepos ? len : 3 - c->linepos);
    c->linepos += len;
    if (!nl) break;
    got_line(c);
    c->linepos = 0;
    got++;
  }
  if (!got) return;
  if (c->every && c->here >= c->every && !c->inflight) {   /* all answered: a new connection */
    close_conn(c);
    if (sending) open_conn(c, idx);
    return;
  }
  if (!c->every || c->here + c->inflight < c->every) {
    unsigned k = got;
    if (c->every && c->here + c->inflight + k > c->every) k = (unsigned)(c->every - c->here - c->inflight);
    send_reqs(c, k);
  }
}

int main(int argc, char **argv)
{
  unsigned nconn = 8, depth = 4, i;
  unsigned long every = 50;
  double secs = 8, drain = 30, rate = 0;
  pid_t hup_pid = 0;
  long long t_end, t_drain, next_hup = 0;
  struct conn *cs;
  int opt;

  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "c:d:r:t:w:H:f:q:")) != -1) {
    switch (opt) {
      case 'c': nconn = (unsigned)atoi(optarg); break;
      case 'd': depth = (unsigned)atoi(optarg); break;
      case 'r': every = strtoul(optarg, 0, 10); break;
      case 't': secs = atof(optarg); break;
      case 'w': drain = atof(optarg); break;
      case 'H': hup_pid = (pid_t)atol(optarg); break;
      case 'f': rate = atof(optarg); break;
      case 'q': req = optarg; break;
      default: goto usage;
    }
  }
  if (optind != argc - 1 || !nconn || !depth || secs <= 0 || (hup_pid && rate <= 0)) goto usage;
  if (!riap_sock_scanaddr(argv[optind], &addr)) {
    fprintf(stderr, "riap-storm: fatal: bad address %s\n", argv[optind]);
    return 100;
  }
  line_len = strlen(req) + 2;
  lines = malloc(line_len * depth);
  if (!lines) die("malloc");
  for (i = 0; i < depth; i++) {
    memcpy(lines + i * line_len, req, line_len - 2);
    memcpy(lines + i * line_len + line_len - 2, "\r\n", 2);
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  cs = calloc(nconn, sizeof *cs);
  if (!cs) die("calloc");
  for (i = 0; i < nconn; i++) {
    cs[i].depth = i % 2 ? depth : 1;
    cs[i].every = i % 4 >= 2 ? every : 0;
    if (cs[i].every && cs[i].depth > cs[i].every) cs[i].depth = (unsigned)cs[i].every;
    open_conn(&cs[i], i);
  }
  t_end = riap_time_monoms() + (long long)(secs * 1000);
  t_drain = t_end + (long long)(drain * 1000);
  if (hup_pid) next_hup = riap_time_monoms() + (long long)(1000 / rate);
  for (;;) {
    struct epoll_event evs[64];
    long long t = riap_time_monoms(), wait;
    unsigned long inflight = 0;
    int n, k;
    if (sending && t >= t_end) sending = 0;
    if (!sending) {
      for (i = 0; i < nconn; i++) inflight += cs[i].fd >= 0 ? cs[i].inflight : 0;
      if (!inflight || t >= t_drain) break;
    }
    if (hup_pid && sending && t >= next_hup) {
      if (kill(hup_pid, SIGHUP) < 0) die("kill");
      hups++;
      next_hup += (long long)(1000 / rate);
      if (next_hup < t) next_hup = t;
    }
    wait = (sending ? t_end : t_drain) - t;
    if (hup_pid && sending && next_hup - t < wait) wait = next_hup - t;
    if (wait < 0) wait = 0;
    n = epoll_wait(ep, evs, 64, (int)(wait > 1000 ? 1000 : wait));
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (k = 0; k < n; k++) {
      unsigned idx = evs[k].data.u32;
      if (cs[idx].fd >= 0) readable(cs, idx);
    }
  }
  for (i = 0; i < nconn; i++) if (cs[i].fd >= 0) { lost += cs[i].inflight; close_conn(&cs[i]); }
  printf("{\"sent\":%lu,\"answered\":%lu,\"bad\":%lu,\"lost\":%lu,\"resets\":%lu,\"eofs\":%lu,"
         "\"closed_idle\":%lu,\"connects\":%lu,\"hups\":%lu}\n",
         sent, answered, bad, lost, resets, eofs, closed_idle, connects, hups);
  return lost || bad || resets ? 1 : 0;
usage:
  fprintf(stderr, "usage: riap-storm [-c CONNS] [-d DEPTH] [-r EVERY] [-t SECS] [-w SECS] [-H PID] [-f HUPS_PER_SEC] [-q LINE] ADDR\n");
  return 100;
}
