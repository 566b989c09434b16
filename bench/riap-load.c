/* riap-load: a load generator for Riap::Simple servers (and line-echo
 * baselines). C connections in one epoll loop; each keeps D requests in
 * flight (D = 1: sequential, send, wait for the answer line, send the
 * next; D > 1: pipelined, a new request as each answer arrives), for T
 * seconds or until N requests are answered.
 *
 *   riap-load [-c CONNS] [-d DEPTH] [-t SECS] [-N COUNT] [-n] [-e] [-P] [-b IP] [-q LINE] ADDR
 *     ADDR   host:port, [v6]:port or unix:/path
 *     -c     connections (default 1)
 *     -P     every connection begins with a PROXY protocol v2 header (TCP4,
 *            127.0.0.9:4242 to ADDR), in the same write as its first
 *            request, as HAProxy's send-proxy-v2 sends it
 *     -b     IPv4 source address of the first connection; the next ones
 *            count up from it (127.0.0.1, .2, ...: as many clients as
 *            connections, for a server that shares its workers by address)
 *     -d     requests in flight per connection (default 1; with -n, 1)
 *     -t     seconds (default 3; with -N, a cap only when given)
 *     -N     stop after this many requests in all (answered or failed)
 *     -n     a new connection for every request
 *     -e     echo mode: any answer line counts (else it must start j[2)
 *     -q     the request line without CRLF (default a meta request)
 *
 * Prints one line: conns=.. new=.. depth=.. secs=.. requests=.. rate=..
 * errors=.. non2xx=.. proto=.. reconnects=.. min_conn=.. max_conn=..
 * p50_us=.. p90_us=.. p99_us=.. max_us=..
 * requests counts the 2xx answers (any line with -e) and rate is
 * requests/s; errors = non2xx (an answer j[ with another status) + proto
 * (an answer not starting j[) + requests left unanswered by a connection
 * the server closed (reopened, counted in reconnects). min_conn/max_conn:
 * requests per connection slot. Latency: from the write of a request (the
 * connect, with -n) to the end of its answer line, of every answer. Exit 0
 * when there were no errors, 1 otherwise, 111 on a system failure. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include "riap_sock.h"

struct conn {
  int fd;
  size_t linepos;              /* bytes of the current answer line so far */
  char head[3];                /* its first bytes */
  unsigned inflight;           /* requests written, not yet answered */
  unsigned ring;               /* index in sent[] of the oldest in flight */
  uint64_t *sent;              /* DEPTH send times (ns) */
  unsigned long done;
};

static struct riap_sockaddr addr;
static const char *req = "j{\"action\":\"meta\",\"uri\":\"/Math/mult\"}";
static char *lines;            /* DEPTH copies of the request line + CRLF */
static size_t line_len;
static int ep, newconn, echo;
static struct in_addr source;  /* -b: the first connection's; 0: the kernel's choice */
static char *plines;           /* -P: the PROXY header, then lines */
static size_t hdr_len;         /* -P: the header's length; 0: no header */
static unsigned depth = 1;
static unsigned long errors, non2xx, proto, reconnects, total;
static unsigned long count, issued;  /* -N: the limit, and requests written */
static uint64_t *lat;                /* latencies (ns) of every answer */
static size_t nlat, maxlat;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
  fprintf(stderr, "riap-load: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

static void usage(void)
{
  fprintf(stderr, "usage: riap-load [-c CONNS] [-d DEPTH] [-t SECS] [-N COUNT] [-n] [-e] [-P] [-b IP] [-q LINE] ADDR\n");
  exit(100);
}

/* send_reqs: writes up to k requests (fewer when -N runs out); a failed
 * write shows up again as EOF or an error on read */
static void send_reqs(struct conn *c, unsigned k, int first)
{
  const char *buf = first && hdr_len ? plines : lines;
  size_t off = 0, len;
  uint64_t t;
  unsigned i;
  if (count && issued + k > count) k = (unsigned)(count - issued);
  if (!k) return;
  len = line_len * k + (buf == plines ? hdr_len : 0);
  t = now_ns();
  for (i = 0; i < k; i++) c->sent[(c->ring + c->inflight + i) % depth] = t;
  c->inflight += k;
  issued += k;
  while (off < len) {
    ssize_t w = write(c->fd, buf + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return;
    off += (size_t)w;
  }
}

/* -P: a PROXY v2 header (TCP over IPv4, 127.0.0.9:4242 to ADDR) before lines */
static void proxy_header(void)
{
  static const char sig[12] = "\r\n\r\n\0\r\nQUIT\n";
  unsigned char h[28];
  memcpy(h, sig, 12);
  h[12] = 0x21;                            /* version 2, PROXY */
  h[13] = 0x11;                            /* TCP over IPv4 */
  h[14] = 0;
  h[15] = 12;                              /* the addresses' length */
  h[16] = 127; h[17] = 0; h[18] = 0; h[19] = 9;
  memcpy(h + 20, &addr.u.in4.sin_addr, 4);
  h[24] = 4242 >> 8; h[25] = 4242 & 0xff;
  memcpy(h + 26, &addr.u.in4.sin_port, 2);
  hdr_len = sizeof h;
  plines = malloc(hdr_len + line_len * depth);
  if (!plines) die("malloc");
  memcpy(plines, h, hdr_len);
  memcpy(plines + hdr_len, lines, line_len * depth);
}

/* a connection from -b's address + idx (riap_sock_connect without -b) */
static int connect_from(unsigned idx)
{
  struct sockaddr_in sa;
  int fd, e;
  if (!source.s_addr) return riap_sock_connect(&addr);
  fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  memset(&sa, 0, sizeof sa);
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(ntohl(source.s_addr) + idx);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || connect(fd, &addr.u.sa, addr.len) < 0) {
    e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

static void open_conn(struct conn *c, unsigned idx)
{
  struct epoll_event ev;
  int tries;
  uint64_t t = now_ns();
  for (tries = 0; (c->fd = connect_from(idx)) < 0; tries++) {
    if (tries > 1000) die("connect");
    usleep(1000);                          /* backlog full: wait a little */
  }
  ev.events = EPOLLIN;
  ev.data.u32 = idx;
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
  c->linepos = 0;
  c->inflight = 0;
  send_reqs(c, depth, 1);
  if (newconn && c->inflight) c->sent[c->ring] = t;   /* the connect counts */
}

static void close_conn(struct conn *c)
{
  close(c->fd);                            /* leaves the epoll set */
  c->fd = -1;
}

static void answered(struct conn *c, uint64_t t)
{
  if (!c->inflight) { proto++; errors++; return; }  /* an answer to nothing */
  if (nlat == maxlat) {
    maxlat = maxlat ? 2 * maxlat : 65536;
    lat = realloc(lat, maxlat * sizeof *lat);
    if (!lat) die("realloc");
  }
  lat[nlat++] = t - c->sent[c->ring];
  c->ring = (c->ring + 1) % depth;
  c->inflight--;
  if (echo || (c->linepos >= 3 && !memcmp(c->head, "j[2", 3))) { c->done++; total++; }
  else if (c->linepos >= 2 && !memcmp(c->head, "j[", 2)) { non2xx++; errors++; }
  else { proto++; errors++; }
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(double p)                /* nearest rank, in µs */
{
  size_t i;
  if (!nlat) return 0;
  i = (size_t)(p / 100.0 * (double)nlat + 0.999999);
  if (i < 1) i = 1;
  if (i > nlat) i = nlat;
  return (double)lat[i - 1] / 1e3;
}

int main(int argc, char **argv)
{
  unsigned nconn = 1, i;
  double secs = 3;
  int secs_given = 0, opt, want_proxy = 0;
  uint64_t t0, t_end;
  unsigned long minc = (unsigned long)-1, maxc = 0;
  struct conn *cs;

  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "c:d:t:N:nePb:q:")) != -1) {
    switch (opt) {
      case 'c': nconn = (unsigned)atoi(optarg); break;
      case 'd': depth = (unsigned)atoi(optarg); break;
      case 't': secs = atof(optarg); secs_given = 1; break;
      case 'N': count = strtoul(optarg, 0, 10); if (!count) usage(); break;
      case 'n': newconn = 1; break;
      case 'e': echo = 1; break;
      case 'q': req = optarg; break;
      case 'P': want_proxy = 1; break;
      case 'b': if (!inet_pton(AF_INET, optarg, &source) || !source.s_addr) usage(); break;
      default: usage();
    }
  }
  if (optind != argc - 1 || !nconn || !depth || secs <= 0) usage();
  if (newconn) depth = 1;
  if (count && !secs_given) secs = 1e9;
  if (!riap_sock_scanaddr(argv[optind], &addr)) {
    fprintf(stderr, "riap-load: fatal: bad address %s\n", argv[optind]);
    return 100;
  }
  if ((source.s_addr || want_proxy) && addr.family != AF_INET) {
    fprintf(stderr, "riap-load: fatal: -b and -P need an IPv4 ADDR\n");
    return 100;
  }
  line_len = strlen(req) + 2;
  lines = malloc(line_len * depth);
  if (!lines) die("malloc");
  for (i = 0; i < depth; i++) {
    memcpy(lines + i * line_len, req, line_len - 2);
    memcpy(lines + i * line_len + line_len - 2, "\r\n", 2);
  }
  if (want_proxy) proxy_header();
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  cs = calloc(nconn, sizeof *cs);
  if (!cs) die("calloc");
  for (i = 0; i < nconn; i++) {
    cs[i].sent = calloc(depth, sizeof *cs[i].sent);
    if (!cs[i].sent) die("calloc");
  }
  t0 = now_ns();
  t_end = t0 + (uint64_t)(secs * 1e9);
  for (i = 0; i < nconn; i++) open_conn(&cs[i], i);
  for (;;) {
    struct epoll_event evs[256];
    uint64_t t = now_ns();
    int n, k;
    if (t >= t_end) break;
    if (count && total + errors >= count) break;
    n = epoll_wait(ep, evs, 256, 50);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (k = 0; k < n; k++) {
      unsigned idx = evs[k].data.u32, got = 0;
      struct conn *c = &cs[idx];
      char buf[65536], *p, *end, *nl;
      ssize_t r;
      if (c->fd < 0) continue;
      r = read(c->fd, buf, sizeof buf);
      if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (r <= 0) {                        /* closed: its requests unanswered */
        errors += c->inflight;
        reconnects++;
        close_conn(c);
        if (!count || issued < count) open_conn(c, idx);
        continue;
      }
      t = now_ns();
      for (p = buf, end = buf + r; p < end; p = nl + 1) {
        size_t len;
        nl = memchr(p, '\n', (size_t)(end - p));
        len = (size_t)((nl ? nl : end) - p);
        if (c->linepos < 3) memcpy(c->head + c->linepos, p, len < 3 - c->linepos ? len : 3 - c->linepos);
        c->linepos += len;
        if (!nl) break;
        answered(c, t);
        c->linepos = 0;
        got++;
      }
      if (!got) continue;
      if (newconn) {
        close_conn(c);
        if (!count || issued < count) open_conn(c, idx);
      } else {
        send_reqs(c, got, 0);
      }
    }
  }
  {
    double s = (double)(now_ns() - t0) / 1e9;
    for (i = 0; i < nconn; i++) {
      if (cs[i].done < minc) minc = cs[i].done;
      if (cs[i].done > maxc) maxc = cs[i].done;
    }
    qsort(lat, nlat, sizeof *lat, cmp_u64);
    printf("conns=%u new=%d depth=%u secs=%.2f requests=%lu rate=%.1f errors=%lu non2xx=%lu proto=%lu"
           " reconnects=%lu min_conn=%lu max_conn=%lu p50_us=%.1f p90_us=%.1f p99_us=%.1f max_us=%.1f\n",
           nconn, newconn, depth, s, total, (double)total / s, errors, non2xx, proto,
           reconnects, minc, maxc, pct(50), pct(90), pct(99), nlat ? (double)lat[nlat - 1] / 1e3 : 0);
  }
  return errors ? 1 : 0;
}
