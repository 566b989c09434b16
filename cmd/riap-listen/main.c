/* riap-listen: binds TCP addresses and Unix sockets, runs a pool of
 * workers (the command after --, normally riap-handle) and hands each
 * accepted connection to an idle one over its control channel.
 * See doc/riap-listen.8, riap-channel(5), riap-scoreboard(5). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_opt.h"
#include "riap_time.h"
#include "riap_workerenv.h"
#include "listen.h"

#include "riap_version.h"
#define USAGE "riap-listen [-p ADDRS] [-s PATHS] [options] -- riap-handle [options] ROOT"

struct global G;

static void usage(const char *why, const char *what)
{
  if (why) carp("fatal: ", why, what);
  die(100, "usage: ", USAGE);
}

static void help(void)
{
  printf("usage: %s\n\n"
         "Listens on TCP addresses and Unix sockets, runs a pool of workers (the\n"
         "command after --) and passes each connection to an idle one.\n\n"
         "  -p, --ports LIST            TCP: N, :N, *:N, 1.2.3.4:N, [::1]:N (repeatable, commas)\n"
         "  -s, --unix-sockets LIST     Unix sockets: absolute paths (repeatable, commas)\n"
         "      --socket-mode MODE      octal mode of the Unix socket files\n"
         "      --socket-owner USER     owner of the Unix socket files\n"
         "      --socket-group GROUP    group of the Unix socket files\n"
         "      --start-servers N       workers kept ready (default 3; 0: one, no scaling)\n"
         "      --max-clients N         most workers (default 150)\n"
         "      --max-requests-per-child N  a worker exits after N requests (default 1000, 0: never)\n"
         "      --spare-timeout SECS    extra workers retire after SECS idle (default 10)\n"
         "      --timeout SECS          wait at most SECS for the rest of a request (default 120)\n"
         "      --idle-timeout SECS     idle connections are closed after SECS (default: --timeout;\n"
         "                              0: never, as the Perl server)\n"
         "      --park-delay SECS       a worker hands an idle connection back after SECS (default 0.005)\n"
         "      --no-park               workers keep their connections until they end\n"
         "      --time-slice SECS       with connections waiting, a busy one keeps its worker\n"
         "                              SECS before it takes turns (default 0.01)\n"
         "      --grace SECS            on TERM, wait at most SECS for requests (default 30)\n"
         "      --notification-fd N     write a newline to fd N once ready (s6)\n"
         "      --name NAME             process titles, default file names\n"
         "      --pid-path PATH         write the pid there\n"
         "      --scoreboard-path PATH  the scoreboard (0 or empty: none)\n"
         "      --access-log-path PATH  spawn riap-log for the access log\n"
         "      --error-log-path PATH   spawn riap-log for the error log\n"
         "      --bind-only             bind the addresses, then exec the command after -- with\n"
         "                              them as fds 3.. (LISTEN_FDS): for fd holders\n"
         "      --daemonize             go to the background once ready\n"
         "      --require-root          refuse to run unless root\n"
         "      --allow-uid LIST        Unix sockets: only these users (names or numbers)\n"
         "      --allow-gid LIST        Unix sockets: only these groups (primary or supplementary)\n"
         "      --allow CIDRS           TCP: only these addresses (deny wins; none: all)\n"
         "      --deny CIDRS            TCP: never these addresses\n"
         "      --max-conns N           most client connections open at once (0: no limit)\n"
         "      --max-per-ip N          most connections open per address: IPv4 address, IPv6 /64,\n"
         "                              Unix peer uid (default 256; 0: no limit)\n"
         "      --max-workers-per-ip N  most workers serving one address at once; its other\n"
         "                              connections wait their turn (default: half of --max-clients)\n"
         "      --read-timeout SECS     a request line, once begun, must arrive within SECS (default 10)\n"
         "      --write-timeout SECS    an answer must drain within SECS (default 10)\n"
         "      --user USER             run the workers as USER (bind first)\n"
         "      --group GROUP           ... and GROUP (default: USER's group)\n"
         "      --drop-listener         the listener too runs as USER once bound\n"
         "      --allow-root            allow --user root\n"
         "      --chroot                workers shut themselves in their code tree, then\n"
         "                              become --user (riap-handle does; checked)\n"
         "      --proxy-protocol        the -p/-s after it take a PROXY header (v1 or v2) first\n"
         "      --no-proxy-protocol     ... not the -p/-s after it\n"
         "      --proxy-from CIDRS      TCP: only these peers (the balancers) may send it\n"
         "      --proxy-timeout SECS    the header must be whole within SECS (default 5)\n"
         "  -h, --help                  this help\n"
         "  -V, --version               print the version\n\n"
         "See riap-listen(8).\n", USAGE);
  exit(0);
}

/* the long options: riap-listen(8), OPTIONS */
enum { O_MODE = 256, O_OWNER, O_GROUP, O_START, O_MAX, O_MAXREQ, O_SPARE, O_TIMEOUT, O_GRACE,
       O_NOTIFY, O_NAME, O_PID, O_SB, O_ALOG, O_ELOG, O_DAEMON, O_ROOT, O_PARKDELAY, O_NOPARK, O_SLICE,
       O_ALLOWUID, O_ALLOWGID, O_ALLOW, O_DENY, O_MAXCONNS, O_MAXPERIP, O_MAXWORKERSPERIP, O_RTIMEOUT, O_WTIMEOUT, O_ITIMEOUT,
       O_USER, O_RUNGROUP, O_DROP, O_ALLOWROOT, O_CHROOT, O_PROXY, O_NOPROXY, O_PROXYFROM, O_PROXYTIMEOUT, O_BINDONLY };
static const struct option longopts[] = {
  { "ports", required_argument, 0, 'p' },
  { "unix-sockets", required_argument, 0, 's' },
  { "socket-mode", required_argument, 0, O_MODE },
  { "socket-owner", required_argument, 0, O_OWNER },
  { "socket-group", required_argument, 0, O_GROUP },
  { "start-servers", required_argument, 0, O_START },
  { "max-clients", required_argument, 0, O_MAX },
  { "max-requests-per-child", required_argument, 0, O_MAXREQ },
  { "spare-timeout", required_argument, 0, O_SPARE },
  { "timeout", required_argument, 0, O_TIMEOUT },
  { "idle-timeout", required_argument, 0, O_ITIMEOUT },
  { "grace", required_argument, 0, O_GRACE },
  { "park-delay", required_argument, 0, O_PARKDELAY },
  { "no-park", no_argument, 0, O_NOPARK },
  { "time-slice", required_argument, 0, O_SLICE },
  { "notification-fd", required_argument, 0, O_NOTIFY },
  { "name", required_argument, 0, O_NAME },
  { "pid-path", required_argument, 0, O_PID },
  { "scoreboard-path", required_argument, 0, O_SB },
  { "access-log-path", required_argument, 0, O_ALOG },
  { "error-log-path", required_argument, 0, O_ELOG },
  { "daemonize", no_argument, 0, O_DAEMON },
  { "require-root", no_argument, 0, O_ROOT },
  { "allow-uid", required_argument, 0, O_ALLOWUID },
  { "allow-gid", required_argument, 0, O_ALLOWGID },
  { "allow", required_argument, 0, O_ALLOW },
  { "deny", required_argument, 0, O_DENY },
  { "max-conns", required_argument, 0, O_MAXCONNS },
  { "max-per-ip", required_argument, 0, O_MAXPERIP },
  { "max-workers-per-ip", required_argument, 0, O_MAXWORKERSPERIP },
  { "read-timeout", required_argument, 0, O_RTIMEOUT },
  { "write-timeout", required_argument, 0, O_WTIMEOUT },
  { "user", required_argument, 0, O_USER },
  { "group", required_argument, 0, O_RUNGROUP },
  { "drop-listener", no_argument, 0, O_DROP },
  { "allow-root", no_argument, 0, O_ALLOWROOT },
  { "chroot", no_argument, 0, O_CHROOT },
  { "proxy-protocol", no_argument, 0, O_PROXY },
  { "no-proxy-protocol", no_argument, 0, O_NOPROXY },
  { "proxy-from", required_argument, 0, O_PROXYFROM },
  { "proxy-timeout", required_argument, 0, O_PROXYTIMEOUT },
  { "bind-only", no_argument, 0, O_BINDONLY },
  { "help", no_argument, 0, 'h' },
  { "version", no_argument, 0, 'V' },
  { 0, 0, 0, 0 }
};

/* the defaults; those the workers share come from their table */
static void defaults(struct conf *c)
{
  struct riap_workerenv we;
  riap_workerenv_defaults(&we);
  c->start_servers = 3;
  c->max_clients = 150;
  c->max_requests = 1000;
  c->timeout = (double)we.timeout_ms / 1000;
  c->idle_timeout = -1;            /* unset: --timeout */
  c->spare_timeout = 10;
  c->grace = 30;
  c->park = 1;
  c->park_delay = 0.005;
  c->time_slice = 0.01;
  c->notify_fd = -1;
  c->socket_mode = -1;
  c->read_timeout = (double)we.read_timeout_ms / 1000;
  c->write_timeout = (double)we.write_timeout_ms / 1000;
  c->max_per_ip = 256;
  c->proxy_timeout = 5;
  c->max_workers_per_ip = UINT_MAX;  /* unset: half of --max-clients, below */
}

/* one option; returns 0 when it is unknown */
static int option(struct conf *c, int opt)
{
  char *end;
  switch (opt) {
    case 'p': sockets_add(optarg, 1); break;
    case 's': sockets_add(optarg, 0); break;
    case O_MODE:
      errno = 0;
      c->socket_mode = (int)strtol(optarg, &end, 8);
      if (!*optarg || *end || errno || c->socket_mode < 0 || c->socket_mode > 07777)
        usage("--socket-mode needs an octal mode, not ", optarg);
      break;
    case O_OWNER: c->socket_owner = optarg; break;
    case O_GROUP: c->socket_group = optarg; break;
    case O_START: c->start_servers = (unsigned)riap_opt_number(USAGE, "--start-servers", optarg, 0, 10000); break;
    case O_MAX: c->max_clients = (unsigned)riap_opt_number(USAGE, "--max-clients", optarg, 1, 10000); break;
    case O_MAXREQ: c->max_requests = (unsigned long)riap_opt_number(USAGE, "--max-requests-per-child", optarg, 0, 1e15); break;
    case O_SPARE: c->spare_timeout = riap_opt_number(USAGE, "--spare-timeout", optarg, 0, 86400); break;
    case O_TIMEOUT: c->timeout = riap_opt_number(USAGE, "--timeout", optarg, 0.001, 86400); break;
    case O_ITIMEOUT: c->idle_timeout = riap_opt_number(USAGE, "--idle-timeout", optarg, 0, 86400); break;
    case O_GRACE: c->grace = riap_opt_number(USAGE, "--grace", optarg, 0, 86400); break;
    case O_PARKDELAY: c->park_delay = riap_opt_number(USAGE, "--park-delay", optarg, 0, 86400); break;
    case O_NOPARK: c->park = 0; break;
    case O_SLICE: c->time_slice = riap_opt_number(USAGE, "--time-slice", optarg, 0, 3600); break;
    case O_NOTIFY: c->notify_fd = (int)riap_opt_number(USAGE, "--notification-fd", optarg, 3, 1 << 20); break;
    case O_NAME:
      if (!*optarg || strlen(optarg) > 60 || strchr(optarg, '/')) usage("--name needs a short name without '/', not ", optarg);
      c->name = optarg;
      break;
    case O_PID: c->pid_path = optarg; break;
    case O_SB: c->scoreboard_path = optarg; break;
    case O_ALOG: c->access_log = optarg; break;
    case O_ELOG: c->error_log = optarg; break;
    case O_DAEMON: c->daemonize = 1; break;
    case O_ROOT: c->require_root = 1; break;
    case O_ALLOWUID: access_option('u', optarg); break;
    case O_ALLOWGID: access_option('g', optarg); break;
    case O_ALLOW: access_option('a', optarg); break;
    case O_DENY: access_option('d', optarg); break;
    case O_MAXCONNS: c->max_conns = (unsigned)riap_opt_number(USAGE, "--max-conns", optarg, 0, 1 << 24); break;
    case O_MAXPERIP: c->max_per_ip = (unsigned)riap_opt_number(USAGE, "--max-per-ip", optarg, 0, 1 << 24); break;
    case O_MAXWORKERSPERIP:
      c->max_workers_per_ip = (unsigned)riap_opt_number(USAGE, "--max-workers-per-ip", optarg, 0, 10000);
      break;
    case O_RTIMEOUT: c->read_timeout = riap_opt_number(USAGE, "--read-timeout", optarg, 0.001, 86400); break;
    case O_WTIMEOUT: c->write_timeout = riap_opt_number(USAGE, "--write-timeout", optarg, 0.001, 86400); break;
    case O_USER: c->user = optarg; break;
    case O_RUNGROUP: c->group = optarg; break;
    case O_DROP: c->drop_listener = 1; break;
    case O_ALLOWROOT: c->allow_root = 1; break;
    case O_CHROOT: c->chroot = 1; break;
    case O_PROXY: c->proxy_next = 1; break;
    case O_NOPROXY: c->proxy_next = 0; break;
    case O_PROXYFROM: proxy_option(optarg); break;
    case O_PROXYTIMEOUT: c->proxy_timeout = riap_opt_number(USAGE, "--proxy-timeout", optarg, 0.001, 86400); break;
    case O_BINDONLY: c->bind_only = 1; break;
    case 'h': help(); break;
    case 'V': printf("riap-listen %s\n", RIAP_VERSION); exit(0);
    default: return 0;
  }
  return 1;
}

static void options(int argc, char **argv)
{
  struct conf *c = &G.c;
  int opt;
  defaults(c);
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "+p:s:hV", longopts, 0)) != -1)
    if (!option(c, opt)) usage("unknown option or missing value: ", argv[optind - 1]);
  proxy_check();
  if (optind >= argc) usage("no worker command after --", "");
  c->cmd = argv + optind;
  if (c->start_servers > c->max_clients) c->max_clients = c->start_servers;
  if (c->start_servers == 0) c->max_clients = 1;          /* one worker, no scaling */
  /* one address may take half the pool (rounded up), never all of it when
   * there are two workers or more: see riap-listen(8), FAIR SHARE */
  if (c->max_workers_per_ip == UINT_MAX) c->max_workers_per_ip = c->max_clients - c->max_clients / 2;
  c->label = c->name ? c->name : "riap-listen";
}


void warn_limited(const char *a, const char *b, const char *c)
{
  long long t = riap_time_monoms();
  if (t - G.last_warn < 1000) return;
  G.last_warn = t;
  carp("warning: ", a, b, c);
}

/* fds 0, 1, 2 open, so that no socket and no connection is ever one of them */
static void std_fds(void)
{
  int fd;
  G.devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (G.devnull < 0) diesys(111, "fatal: unable to open /dev/null");
  while (G.devnull <= 2) {
    fd = fcntl(G.devnull, F_DUPFD_CLOEXEC, 3);
    if (fd < 0) diesys(111, "fatal: unable to dup");
    G.devnull = fd;
  }
  for (fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0 && dup2(G.devnull, fd) < 0) diesys(111, "fatal: unable to dup");
}

/* parked connections take an fd each: the soft limit goes up to the hard
 * one (1M at most), and FD_RESERVE plus one per worker channel and
 * listening socket are never used for connections, so accept cannot
 * exhaust them */
static void fd_limit(void)
{
  struct rlimit r;
  rlim_t want = 1 << 20, keep;
  if (getrlimit(RLIMIT_NOFILE, &r) < 0) { r.rlim_cur = r.rlim_max = 1024; }
  if (r.rlim_cur < want) {
    struct rlimit n = r;
    n.rlim_cur = r.rlim_max == RLIM_INFINITY || r.rlim_max > want ? want : r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &n) == 0) r = n;
  }
  G.cnmax = r.rlim_cur > want ? (unsigned)want : (unsigned)r.rlim_cur;
  keep = FD_RESERVE + (rlim_t)G.nslots + G.nls;
  G.conn_max = G.cnmax > keep + 16 ? G.cnmax - (unsigned)keep : 16;
}

static void scoreboard_setup(void)
{
  const char *p = G.c.scoreboard_path ? G.c.scoreboard_path : default_path(".scoreboard");
  struct riap_sb old;
  if (!*p || !strcmp(p, "0")) return;
  G.c.scoreboard_path = p;
  if (riap_sb_open(&old, p, 0)) {
    long pid = (long)old.h->listener_pid;
    riap_sb_close(&old);
    if (pid > 0 && pid != (long)getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) {
      char num[24];
      snprintf(num, sizeof num, "%ld", pid);
      die(111, "fatal: scoreboard ", p, " is in use by pid ", num, " (use --name or --scoreboard-path)");
    }
  }
  if (!riap_sb_create(&G.sb, p, G.nslots, G.c.label))
    diesys(111, "fatal: unable to create the scoreboard ", p);
  G.have_sb = 1;
  privs_chown(p);                        /* the workers write their slots as --user */
}

static void events_setup(void)
{
  struct epoll_event ev;
  G.ep = epoll_create1(EPOLL_CLOEXEC);
  if (G.ep < 0) diesys(111, "fatal: unable to create an epoll set");
  ev.events = EPOLLIN;
  ev.data.u64 = (uint64_t)EV_SIGNAL << 32;
  if (epoll_ctl(G.ep, EPOLL_CTL_ADD, G.sigfd, &ev) < 0) diesys(111, "fatal: epoll_ctl");
}

static void begin_stop(void)
{
  unsigned i;
  if (G.stopping) return;
  G.stopping = 1;
  G.stop_deadline = riap_time_monoms() + (long long)(G.c.grace * 1000);
  for (i = 0; i < G.nls; i++) sockets_accept(i, QUEUE_MAX * 8);   /* what the kernel holds is in flight too */
  sockets_close();
  proxy_stop();
  conns_stop();                           /* pool_tick then tells each worker to stop as the queue allows */
}

/* the options are read from a copy: --name overwrites argv for the title */
static char **copy_args(int argc, char **argv)
{
  char **av = calloc((size_t)argc + 1, sizeof *av);
  int i;
  if (!av) die(111, "fatal: out of memory");
  for (i = 0; i < argc; i++)
    if (!(av[i] = strdup(argv[i]))) die(111, "fatal: out of memory");
  return av;
}

int main(int argc, char **argv)
{
  errmsg_iam("riap-listen");
  options(argc, copy_args(argc, argv));
  sockets_inherit();
  if (!G.nls) usage("no address: give --ports or --unix-sockets (or sockets in LISTEN_FDS)", "");
  if (G.c.require_root && geteuid() != 0) die(100, "fatal: --require-root: not running as root");
  if (G.c.bind_only) {          /* no workers: nothing else to check or set up */
    std_fds();
    sockets_bind();
    sockets_handover(G.c.cmd);  /* before any signal is blocked or ignored: the command would inherit that */
  }
  privs_resolve();
  std_fds();
  signal(SIGPIPE, SIG_IGN);
  G.sigfd = signals_open();
  G.nslots = G.c.max_clients + (G.c.start_servers ? G.c.start_servers : 1);   /* room for a reload */
  fd_limit();
  sockets_bind();
  if (G.c.daemonize) daemonize();
  logger_start();
  pidfile_write();
  scoreboard_setup();
  if (G.c.drop_listener) {                /* everything that needs root is done */
    if (!privs_drop()) diesys(111, "fatal: unable to switch to --user/--group");
    G.dropped = 1;
  }
  /* not dumpable (after any change of user, which would reset it): a
   * function running as our user could otherwise take our listening
   * sockets and the workers' channels with pidfd_getfd(2) or ptrace(2) */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) diesys(111, "fatal: unable to set PR_SET_DUMPABLE");
  title_init(argc, argv);
  events_setup();
  conns_init();
  pool_init();
  sockets_watch(1);

  for (;;) {
    struct epoll_event evs[64];
    int n, k, term = 0, hup = 0, chld = 0;
    long wait = pool_tick(), lwait = logger_tick();
    if (lwait >= 0 && (wait < 0 || lwait < wait)) wait = lwait;
    lwait = proxy_tick();
    if (lwait >= 0 && (wait < 0 || lwait < wait)) wait = lwait;
    if (G.stopping && !pool_live() && !G.qlen) break;
    sockets_watch(!G.stopping && conns_room(QUEUE_MAX) && riap_time_monoms() >= G.accept_after);
    if (!G.stopping && conns_room(QUEUE_MAX) && riap_time_monoms() < G.accept_after) {
      long a = (long)(G.accept_after - riap_time_monoms());
      if (wait < 0 || a < wait) wait = a;
    }
    n = epoll_wait(G.ep, evs, 64, wait > 0x7fffffff ? 0x7fffffff : (int)wait);
    if (n < 0 && errno != EINTR) diesys(111, "fatal: epoll_wait");
    /* signals first: a drain (USR1) sent before a connection applies to it */
    for (k = 0; k < n; k++)
      if ((unsigned)(evs[k].data.u64 >> 32) == EV_SIGNAL) signals_read(G.sigfd, &term, &hup, &chld);
    for (k = 0; k < n; k++) {
      unsigned kind = (unsigned)(evs[k].data.u64 >> 32), i = (unsigned)evs[k].data.u64;
      if (kind == EV_SIGNAL) continue;
      else if (kind == EV_LISTEN) sockets_accept(i, QUEUE_MAX);
      else if (kind == EV_WORKER) pool_readable(i);
      else if (kind == EV_CONN && i < G.cnmax && G.cn[i].where == CN_PROXY) proxy_event((int)i, evs[k].events);
      else if (kind == EV_CONN) conns_event((int)i);
    }
    if (chld) pool_reap();
    if (hup && !G.stopping) pool_reload();
    if (term) begin_stop();
  }
  if (G.have_sb) { unlink(G.c.scoreboard_path); riap_sb_close(&G.sb); }
  pidfile_remove();
  logger_finish();
  return 0;
}
