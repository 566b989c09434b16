/* riap-mux: one Riap::Simple pipe server (or a few) shared by every client
 * of a socket. Each client's request lines are written to a backend as they
 * come, several clients' at once, and each answer line goes back to the
 * client whose request it answers. A Perl pipe server loads its modules
 * once here instead of once per riap-handle worker, and stays when workers
 * are recycled. See doc/riap-mux.8. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_err.h"
#include "riap_exec.h"
#include "riap_opt.h"
#include "riap_sock.h"
#include "riap_time.h"
#include "riap_version.h"
#include "mux.h"

#define USAGE "riap-mux [-n BACKENDS] [-t SECS] [-r SECS] [--max-line BYTES] [--max-pending N] [--notification-fd N] ADDRESS PROGRAM [ARG]..."

static const char usage_text[] =
  "usage: " USAGE "\n"
  "\n"
  "Listens on ADDRESS (unix:/path, or a TCP address such as 127.0.0.1:5678)\n"
  "and shares the Riap::Simple pipe server PROGRAM (requests on its stdin,\n"
  "answers on its stdout, as riap-handle and perl-riap-pipe are) among all\n"
  "its clients: their request lines are pipelined into it and each answer\n"
  "goes back to its client, in order. Mount it with riap+unix:/path//uri.\n"
  "\n"
  "  -n, --backends N        copies of PROGRAM (default 1); a client's requests\n"
  "                          go to the one with the fewest waiting\n"
  "  -t, --timeout SECS      a backend that answers nothing for SECS while\n"
  "                          requests wait is killed, they get 504 (default 60; 0: none)\n"
  "  -r, --restart-delay SECS  least time between two starts of a backend (default 1)\n"
  "      --max-line BYTES    longest request line (default 16M)\n"
  "      --max-pending N     a client's unanswered requests before reading it pauses (default 1024)\n"
  "      --notification-fd N write a newline to fd N once listening (s6)\n"
  "  -h, --help              this help\n"
  "  -V, --version           print the version\n"
  "\n"
  "See riap-mux(8).\n";

struct mux M;
#define ACCEPT_PAUSE_MS 100
#define OUT_PAUSE (1U << 20)       /* a client's unread answers, in bytes, before its reading pauses */
#define ACCEPT_WARN_MS 10000      /* one warning in this time while accepting fails */

static int listenfd = -1, sigfd = -1, notify_fd = -1;
static long long accept_at_ms;    /* accepting paused (out of fds) until then; 0: not paused */
static struct riap_sockaddr addr;
static int *dirty;                /* clients with answers to write */
static size_t ndirty;

void mux_watch(int fd, unsigned events, unsigned long long data, int op)
{
  struct epoll_event ev = { .events = events, .data.u64 = data };
  if (epoll_ctl(M.epfd, op, fd, &ev) < 0 && op != EPOLL_CTL_DEL)
    riap_err_die(111, "unable to watch fd %d: %s", fd, strerror(errno));
}

/* --- clients */

static void client_close(struct client *c)
{
  riap_client_close(&c->conn, 0);   /* also leaves the epoll set */
  ++c->gen;
  c->reading = c->wantout = c->eof = 0;
  c->unanswered = 0;
  c->backend = 0;
}

static void client_reading(struct client *c, int on)
{
  if (on == c->reading || c->conn.rfd < 0) return;
  c->reading = on;
  mux_watch(c->conn.rfd, (on ? EPOLLIN : 0) | (c->wantout ? EPOLLOUT : 0), CLIENT_EV(c), EPOLL_CTL_MOD);
}

void client_answer(struct client *c, const char *line, size_t n)
{
  if (!riap_client_queue(&c->conn, line, n) || !riap_client_queue(&c->conn, "\r\n", 2))
    riap_err_die(111, "out of memory");
  if (!c->dirty) { c->dirty = 1; dirty[ndirty++] = c->conn.rfd; }
}

static void client_readable(struct client *c);

/* too much asked and not yet answered, or answered and not yet read: its reading pauses */
static int backlogged(const struct client *c)
{
  return c->unanswered >= M.max_unanswered || riap_client_pending(&c->conn) >= OUT_PAUSE;
}

/* writes what it can; closes a client gone, or done (EOF read, all answered and written) */
static void client_flush(struct client *c)
{
  int r = riap_client_flush(&c->conn);
  if (r < 0) { client_close(c); return; }
  if (r > 0 && c->eof && !c->unanswered) { client_close(c); return; }
  if ((r == 0) != c->wantout) {
    c->wantout = r == 0;
    mux_watch(c->conn.rfd, (c->reading ? EPOLLIN : 0) | (c->wantout ? EPOLLOUT : 0), CLIENT_EV(c), EPOLL_CTL_MOD);
  }
  if (!c->reading && !c->eof && !M.stopping && !backlogged(c)) {
    client_reading(c, 1);
    if (c->conn.in.len > c->conn.inpos) client_readable(c);   /* lines read before the pause */
  } else if (c->reading && backlogged(c))
    client_reading(c, 0);
}

static struct backend *choose(struct client *c)
{
  if (c->unanswered) return c->backend;  /* its answers must come back in order */
  return backend_choose();
}

static const char bad_line[] = "j[400,\"Invalid request line, use j<json>\"]";
static const char long_line[] = "j[413,\"Request line too long\"]";

static void client_line(struct client *c, const char *line, size_t n)
{
  struct backend *b = choose(c);
  if (!n || line[0] != 'j') {     /* one garbled line would end a Perl pipe server */
    if (c->unanswered) backend_local(b, c, bad_line);
    else client_answer(c, bad_line, sizeof bad_line - 1);
    return;
  }
  if (!backend_queue(b, c, line, n)) riap_err_die(111, "out of memory");
}

static void client_readable(struct client *c)
{
  const char *line;
  size_t n;
  int r;
  struct backend *touched = 0;
  while (!c->eof && c->unanswered < M.max_unanswered && (r = riap_client_getline(&c->conn, &line, &n)) != 0) {
    if (r < 0 && c->conn.err == RIAP_CLIENT_ETOOLONG) {
      struct backend *b = choose(c);
      if (c->unanswered) backend_local(b, c, long_line);
      else client_answer(c, long_line, sizeof long_line - 1);
      c->eof = 1;
      break;
    }
    if (r < 0) { c->eof = 1; break; }   /* EOF (a half-close still gets its answers) or reset */
    client_line(c, line, n);
    if (c->backend) touched = c->backend;
  }
  if (touched) backend_flush(touched);
  if (c->eof && !c->unanswered && !riap_client_pending(&c->conn)) { client_close(c); return; }
  if (c->eof) client_reading(c, 0);   /* an end of file stays readable: watched, it would wake us for ever */
  client_flush(c);
}

static void accept_clients(void)
{
  struct riap_peer peer;
  int fd;
  while ((fd = riap_sock_accept(listenfd, addr.family, &peer)) >= 0) {
    struct client *c;
    if ((size_t)fd >= M.nclients) {
      size_t n = (size_t)fd * 2 + 64;
      struct client *nc = realloc(M.clients, n * sizeof *nc);
      int *nd = realloc(dirty, n * sizeof *nd);
      if (!nc || !nd) riap_err_die(111, "out of memory");
      memset(nc + M.nclients, 0, (n - M.nclients) * sizeof *nc);
      for (size_t i = M.nclients; i < n; ++i) riap_conn_init(&nc[i].conn);
      M.clients = nc;
      dirty = nd;
      M.nclients = n;
    }
    c = &M.clients[fd];
    riap_conn_init(&c->conn);
    c->conn.rfd = c->conn.wfd = fd;
    c->conn.maxline = M.max_line;
    snprintf(c->conn.endpoint, sizeof c->conn.endpoint, "client fd %d", fd);
    if (fcntl(fd, F_SETFL, O_NONBLOCK) < 0) { close(fd); c->conn.rfd = c->conn.wfd = -1; continue; }
    c->reading = 1;
    mux_watch(fd, EPOLLIN, CLIENT_EV(c), EPOLL_CTL_ADD);
  }
  if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
    /* the connection stays queued: leave it there a while rather than spin on it */
    static long long warned_ms = -ACCEPT_WARN_MS;
    long long now = riap_time_monoms();
    if (now - warned_ms >= ACCEPT_WARN_MS) {
      riap_err_warn("unable to accept on %s: %s; trying again every %d ms", addr.text, strerror(errno), ACCEPT_PAUSE_MS);
      warned_ms = now;
    }
    mux_watch(listenfd, 0, 0, EPOLL_CTL_DEL);
    accept_at_ms = now + ACCEPT_PAUSE_MS;
  } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
    riap_err_warn("unable to accept on %s: %s", addr.text, strerror(errno));
}

/* returns the ms until accepting resumes, -1 when it is not paused */
static long long accept_timer(long long now)
{
  if (!accept_at_ms || M.stopping) return -1;
  if (now < accept_at_ms) return accept_at_ms - now;
  accept_at_ms = 0;
  mux_watch(listenfd, EPOLLIN, EV(EV_LISTEN, 0), EPOLL_CTL_ADD);
  return -1;
}

/* --- signals */

static void stop(void)
{
  size_t i;
  if (M.stopping) return;
  M.stopping = 1;
  if (addr.family == AF_UNIX) unlink(addr.u.un.sun_path);
  close(listenfd);
  for (i = 0; i < M.nclients; ++i)
    if (M.clients[i].conn.rfd >= 0) client_reading(&M.clients[i], 0);
}

static void report(void)
{
  size_t i, n = 0;
  for (i = 0; i < M.nclients; ++i) n += M.clients[i].conn.rfd >= 0;
  backend_report(n);
}

static void signals(void)
{
  struct signalfd_siginfo si;
  int status;
  pid_t pid;
  while (read(sigfd, &si, sizeof si) == sizeof si) {
    if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) stop();
    else if (si.ssi_signo == SIGHUP && !M.stopping) backend_reload();
    else if (si.ssi_signo == SIGUSR1) report();
  }
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) backend_reaped(pid, status);
}

static void setup_signals(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &set, 0) < 0 || (sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC)) < 0)
    riap_err_die(111, "unable to set up signals: %s", strerror(errno));
  signal(SIGPIPE, SIG_IGN);
}

/* fds left open by whoever started us are not ours to use, and count against the limit */
static void close_inherited(void)
{
  int fd;
  for (fd = 3; fd < notify_fd; ++fd) close(fd);
  riap_exec_closefrom(notify_fd >= 3 ? (unsigned)notify_fd + 1 : 3);
}

/* every worker of every listener may hold a connection: as many fds as allowed */
static void raise_fd_limit(void)
{
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

/* --- options */

enum { O_MAXLINE = 256, O_MAXPENDING, O_NOTIFY };

static void options(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "backends", required_argument, 0, 'n' },
    { "timeout", required_argument, 0, 't' },
    { "restart-delay", required_argument, 0, 'r' },
    { "max-line", required_argument, 0, O_MAXLINE },
    { "max-pending", required_argument, 0, O_MAXPENDING },
    { "notification-fd", required_argument, 0, O_NOTIFY },
    { "help", no_argument, 0, 'h' },
    { "version", no_argument, 0, 'V' },
    { 0, 0, 0, 0 }
  };
  int o;
  M.nbackends = 1;
  M.timeout_ms = 60000;
  M.restart_delay_ms = 1000;
  M.max_line = 16 << 20;
  M.max_unanswered = 1024;
  while ((o = getopt_long(argc, argv, "+n:t:r:hV", longopts, 0)) != -1) {
    switch (o) {
    case 'n': M.nbackends = (unsigned)riap_opt_number(USAGE, "--backends", optarg, 1, 64); break;
    case 't': M.timeout_ms = (unsigned long)riap_opt_ms(USAGE, "--timeout", optarg, 0, 86400); break;
    case 'r': M.restart_delay_ms = (unsigned long)riap_opt_ms(USAGE, "--restart-delay", optarg, 0, 3600); break;
    case O_MAXLINE: M.max_line = (size_t)riap_opt_size(USAGE, "--max-line", optarg, 64, 1ULL << 30); break;
    case O_MAXPENDING: M.max_unanswered = (size_t)riap_opt_number(USAGE, "--max-pending", optarg, 1, 1 << 20); break;
    case O_NOTIFY: notify_fd = (int)riap_opt_number(USAGE, "--notification-fd", optarg, 3, 1 << 20); break;
    case 'h': fputs(usage_text, stdout); exit(0);
    case 'V': puts("riap-mux " RIAP_VERSION); exit(0);
    default: riap_err_usage(USAGE, 0);
    }
  }
  if (argc - optind < 2) riap_err_usage(USAGE, "ADDRESS and PROGRAM are needed");
  if (!riap_sock_scanaddr(argv[optind], &addr))
    riap_err_usage(USAGE, "not an address (unix:/path, or host:port): '%s'", argv[optind]);
  M.url.scheme = RIAP_URL_PIPE;
  M.url.argv = argv + optind + 1;
  M.url.argc = (size_t)(argc - optind - 1);
  M.url.path = M.url.argv[0];
  M.url.endpoint = M.url.argv[0];
}

int main(int argc, char **argv)
{
  unsigned i;
  errmsg_iam("riap-mux");
  options(argc, argv);
  close_inherited();
  setup_signals();
  raise_fd_limit();
  if ((M.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) riap_err_die(111, "epoll_create1: %s", strerror(errno));
  if ((listenfd = riap_sock_bind(&addr, 1024)) < 0)
    riap_err_die(111, "unable to bind %s: %s", addr.text, strerror(errno));
  mux_watch(listenfd, EPOLLIN, EV(EV_LISTEN, 0), EPOLL_CTL_ADD);
  mux_watch(sigfd, EPOLLIN, EV(EV_SIGNAL, 0), EPOLL_CTL_ADD);
  backend_init();
  for (i = 0; i < M.nbackends; ++i) backend_start(&M.backends[i]);
  if (notify_fd >= 0) {
    if (write(notify_fd, "\n", 1) < 0) riap_err_warn("unable to write to the notification fd: %s", strerror(errno));
    close(notify_fd);
  }
  for (;;) {
    struct epoll_event evs[64];
    long long now = riap_time_monoms(), wait = backend_timers(now), acc = accept_timer(now);
    int n, k;
    if (acc >= 0 && (wait < 0 || acc < wait)) wait = acc;
    if (M.stopping && !backend_unanswered() && !ndirty) {
      size_t j, busy = 0;
      for (j = 0; j < M.nclients; ++j) busy += M.clients[j].conn.rfd >= 0 && riap_client_pending(&M.clients[j].conn);
      if (!busy) break;
    }
    n = epoll_wait(M.epfd, evs, 64, wait < 0 ? -1 : (int)(wait > 86400000 ? 86400000 : wait));
    if (n < 0 && errno != EINTR) riap_err_die(111, "epoll_wait: %s", strerror(errno));
    for (k = 0; k < n; ++k) {
      unsigned kind = (unsigned)(evs[k].data.u64 >> 56), gen = (unsigned)(evs[k].data.u64 >> 32) & 0xffffff;
      unsigned idx = (unsigned)evs[k].data.u64;
      switch (kind) {
      case EV_LISTEN: if (!M.stopping) accept_clients(); break;
      case EV_SIGNAL: signals(); break;
      case EV_BACKEND_IN: backend_readable(&M.backends[idx]); break;
      case EV_BACKEND_OUT: backend_flush(&M.backends[idx]); break;
      case EV_CLIENT:
        /* an event of a client closed earlier in this batch is not its fd's next client's */
        if (M.clients[idx].conn.rfd < 0 || (M.clients[idx].gen & 0xffffff) != gen) break;
        if (evs[k].events & (EPOLLHUP | EPOLLERR)) client_close(&M.clients[idx]);   /* gone both ways */
        else if (evs[k].events & EPOLLIN) client_readable(&M.clients[idx]);
        else client_flush(&M.clients[idx]);
        break;
      }
    }
    while (ndirty) {
      struct client *c = &M.clients[dirty[--ndirty]];
      c->dirty = 0;
      if (c->conn.rfd >= 0) client_flush(c);
    }
  }
  backend_stop_all();
  return 0;
}
