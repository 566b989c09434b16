/* riap-load: a load generator for Riap::Simple servers (and line-echo
 * baselines). C connections in one epoll loop, each sending one request
 * line, waiting for the answer line, and sending the next, for T seconds.
 *
 *   riap-load [-c CONNS] [-t SECS] [-n] [-e] [-q LINE] ADDR
 *     ADDR   host:port, [v6]:port or unix:/path
 *     -c     connections (default 1)
 *     -t     seconds (default 3)
 *     -n     a new connection for every request
 *     -e     echo mode: any answer line counts (else it must start j[2)
 *     -q     the request line without CRLF (default a meta request)
 *
 * Prints one line: conns=.. new=.. secs=.. requests=.. rate=.. errors=..
 * reconnects=.. min_conn=.. max_conn=.. (requests per connection slot).
 * A connection the server closes (a worker recycled) is reopened and
 * counted in reconnects; a request it left unanswered counts in errors. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "riap_sock.h"

struct conn {
  int fd;
  size_t got;                  /* bytes of the current answer line */
  unsigned long done;
  char buf[65536];
};

static struct riap_sockaddr addr;
static const char *req = "j{\"action\":\"meta\",\"uri\":\"/Math/mult\"}";
static char line[4096];
static size_t line_len;
static int ep, newconn, echo;
static unsigned long errors, reconnects;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
  fprintf(stderr, "riap-load: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void send_req(struct conn *c)
{
  size_t off = 0;
  while (off < line_len) {
    ssize_t w = write(c->fd, line + off, line_len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) { errors++; return; }      /* seen again as EOF or error on read */
    off += (size_t)w;
  }
  c->got = 0;
}

static void open_conn(struct conn *c, unsigned idx)
{
  struct epoll_event ev;
  int tries;
  for (tries = 0; (c->fd = riap_sock_connect(&addr)) < 0; tries++) {
    if (tries > 1000) die("connect");
    usleep(1000);                          /* backlog full: wait a little */
  }
  ev.events = EPOLLIN;
  ev.data.u32 = idx;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
  send_req(c);
}

static void close_conn(struct conn *c)
{
  close(c->fd);                            /* leaves the epoll set */
  c->fd = -1;
}

int main(int argc, char **argv)
{
  unsigned nconn = 1, i;
  double secs = 3, t0, t_end;
  unsigned long total = 0, minc = (unsigned long)-1, maxc = 0;
  struct conn *cs;
  int opt;

  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "c:t:neq:")) != -1) {
    switch (opt) {
      case 'c': nconn = (unsigned)atoi(optarg); break;
      case 't': secs = atof(optarg); break;
      case 'n': newconn = 1; break;
      case 'e': echo = 1; break;
      case 'q': req = optarg; break;
      default: fprintf(stderr, "usage: riap-load [-c CONNS] [-t SECS] [-n] [-e] [-q LINE] ADDR\n"); return 100;
    }
  }
  if (optind != argc - 1 || !nconn || secs <= 0) {
    fprintf(stderr, "usage: riap-load [-c CONNS] [-t SECS] [-n] [-e] [-q LINE] ADDR\n");
    return 100;
  }
  if (!strncmp(argv[optind], "unix:", 5) ? !riap_sock_scanunix(argv[optind] + 5, &addr)
                                          : !riap_sock_scantcp(argv[optind], &addr)) {
    fprintf(stderr, "riap-load: fatal: bad address %s\n", argv[optind]);
    return 100;
  }
  line_len = (size_t)snprintf(line, sizeof line - 2, "%s", req);
  memcpy(line + line_len, "\r\n", 2);
  line_len += 2;
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  cs = calloc(nconn, sizeof *cs);
  if (!cs) die("calloc");
  t0 = now();
  t_end = t0 + secs;
  for (i = 0; i < nconn; i++) open_conn(&cs[i], i);
  while (now() < t_end) {
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, 50), k;
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (k = 0; k < n; k++) {
      struct conn *c = &cs[evs[k].data.u32];
      ssize_t r;
      char *nl;
      if (c->fd < 0) continue;
      r = read(c->fd, c->buf + c->got, sizeof c->buf - c->got);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {                        /* closed: a request unanswered */
        errors++;
        reconnects++;
        close_conn(c);
        open_conn(c, evs[k].data.u32);
        continue;
      }
      c->got += (size_t)r;
      nl = memchr(c->buf, '\n', c->got);
      if (!nl) {
        if (c->got == sizeof c->buf) c->got = 0;   /* a huge answer: keep the tail */
        continue;
      }
      if (echo || (c->got >= 3 && !memcmp(c->buf, "j[2", 3))) { c->done++; total++; }
      else errors++;
      if (newconn) {
        close_conn(c);
        open_conn(c, evs[k].data.u32);
      } else {
        send_req(c);
      }
    }
  }
  secs = now() - t0;
  for (i = 0; i < nconn; i++) {
    if (cs[i].done < minc) minc = cs[i].done;
    if (cs[i].done > maxc) maxc = cs[i].done;
  }
  printf("conns=%u new=%d secs=%.2f requests=%lu rate=%.1f errors=%lu reconnects=%lu min_conn=%lu max_conn=%lu\n",
         nconn, newconn, secs, total, (double)total / secs, errors, reconnects, minc, maxc);
  return 0;
}
