/* riap-handle: serves Riap::Simple for the code tree ROOT on stdin/stdout. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <errmsg.h>
#include "riap_opt.h"
#include "riap_workerenv.h"
#include "handle.h"

#include "riap_version.h"
#define USAGE "riap-handle [--timeout SECS] [--idle-timeout SECS] [--read-timeout SECS] [--write-timeout SECS] [--max-line BYTES] [--call-timeout SECS] [--max-output BYTES] [--log-fd N] [--start-persistent] [--max-depth N] [--max-args N] [--rlimit-* N] [--chroot [--allow-root]] ROOT"

static void usage(const char *why)
{
  if (why) carp("fatal: ", why);
  die(100, "usage: ", USAGE);
}

/* An idle client is closed only when it came through a listening socket
 * (tcpserver, s6-ipcserver, inetd): it holds a process, and it reconnects.
 * A client that started us itself (riap+pipe over pipes or a socketpair,
 * ssh, a terminal) keeps us for its next request however long it idles; it
 * ends us by closing our stdin, and Perl's client dies of SIGPIPE writing
 * to a server that ended meanwhile. Such a socket is named on our side. */
static int stdin_is_accepted(void)
{
  struct sockaddr_storage a;
  socklen_t n = sizeof a;
  if (getsockname(0, (struct sockaddr *)&a, &n) < 0) return 0;   /* not a socket */
  if (a.ss_family == AF_INET || a.ss_family == AF_INET6) return 1;
  return a.ss_family == AF_UNIX && n > offsetof(struct sockaddr_un, sun_path);   /* unnamed: a socketpair */
}

static void help(void)
{
  printf("usage: %s\n\n"
         "Serves Riap::Simple requests (j<json> CRLF) read on stdin, answers on stdout,\n"
         "for the code tree ROOT. Works under tcpserver, s6-ipcserver, inetd, ssh,\n"
         "and as a riap+pipe: program.\n\n"
         "  -t, --timeout SECS      wait at most SECS for the rest of a request (default 120)\n"
         "      --idle-timeout SECS wait at most SECS for the next request (default: --timeout\n"
         "                          on an accepted connection, else for ever; 0: for ever)\n"
         "      --read-timeout SECS a request line, once begun, must arrive within SECS (default 10)\n"
         "      --write-timeout SECS an answer must drain within SECS, else close (default 10)\n"
         "      --max-line BYTES    longest request line (default 1048576)\n"
         "      --call-timeout SECS default time limit of a function (default 60)\n"
         "      --max-output BYTES  cap on a function's output (default 16777216)\n"
         "      --log-fd N          write access records to fd N (default: 2 on an accepted\n"
         "                          connection, else none)\n"
         "      --start-persistent  start persistent functions and mount backends at once, not on first use\n"
         "      --max-depth N       deepest JSON nesting of a request (default 64)\n"
         "      --max-args N        most arguments of a call (default 1000)\n"
         "      --rlimit-cpu SECS   CPU seconds of a function (default 60; 0: inherited)\n"
         "      --rlimit-as BYTES   address space of a function (default 1073741824)\n"
         "      --rlimit-nofile N   open files of a function (default 256)\n"
         "      --rlimit-nproc N    processes of the user, for a function (default 256)\n"
         "      --chroot            shut itself in ROOT, then become UID/GID/GIDLIST of\n"
         "                          the environment (s6-envuidgid), before any request\n"
         "      --allow-root        with --chroot: may stay root (RIAP_ALLOW_ROOT=1 too)\n"
         "  -h, --help              this help\n"
         "  -V, --version           print the version\n\n"
         "See riap-handle(8).\n", USAGE);
  exit(0);
}


static void options(int argc, char **argv, struct server *s, struct riap_req_limits *lim)
{
  static const struct option longopts[] = {
    { "timeout", required_argument, 0, 't' },
    { "max-line", required_argument, 0, 'L' },
    { "call-timeout", required_argument, 0, 'c' },
    { "max-output", required_argument, 0, 'O' },
    { "log-fd", required_argument, 0, 'l' },
    { "start-persistent", no_argument, 0, 'P' },
    { "max-depth", required_argument, 0, 'D' },
    { "max-args", required_argument, 0, 'A' },
    { "rlimit-cpu", required_argument, 0, 1001 },
    { "rlimit-as", required_argument, 0, 1002 },
    { "rlimit-nofile", required_argument, 0, 1003 },
    { "rlimit-nproc", required_argument, 0, 1004 },
    { "read-timeout", required_argument, 0, 1005 },
    { "write-timeout", required_argument, 0, 1006 },
    { "chroot", no_argument, 0, 1007 },
    { "allow-root", no_argument, 0, 1008 },
    { "idle-timeout", required_argument, 0, 1009 },
    { "help", no_argument, 0, 'h' },
    { "version", no_argument, 0, 'V' },
    { 0, 0, 0, 0 }
  };
  int opt;
  opterr = 0;
  while ((opt = getopt_long(argc, argv, "+t:hV", longopts, 0)) != -1) {
    switch (opt) {
      case 't': s->timeout_ms = (unsigned long)(riap_opt_number(USAGE, "--timeout", optarg, 0.001, 86400) * 1000); break;
      case 'L': s->max_line = (size_t)riap_opt_size(USAGE, "--max-line", optarg, 16, 1 << 30); break;
      case 'c': s->call_timeout_ms = (unsigned long)(riap_opt_number(USAGE, "--call-timeout", optarg, 0.001, 86400) * 1000); break;
      case 'O': s->max_output = (size_t)riap_opt_size(USAGE, "--max-output", optarg, 1, 1 << 30); break;
      case 'l': s->log_fd = (int)riap_opt_number(USAGE, "--log-fd", optarg, 0, 1 << 20); break;
      case 'P': s->start_persistent = 1; break;
      case 'D': lim->max_depth = (unsigned)riap_opt_number(USAGE, "--max-depth", optarg, 1, 10000); break;
      case 'A': lim->max_args = (unsigned)riap_opt_number(USAGE, "--max-args", optarg, 1, 1000000); break;
      case 1001: s->limits.cpu_s = (unsigned long)riap_opt_number(USAGE, "--rlimit-cpu", optarg, 0, 1e9); break;
      case 1002: s->limits.as_bytes = riap_opt_size(USAGE, "--rlimit-as", optarg, 0, 1000000000000000ULL); break;
      case 1003: s->limits.nofile = (unsigned long)riap_opt_number(USAGE, "--rlimit-nofile", optarg, 0, 1e7); break;
      case 1004: s->limits.nproc = (unsigned long)riap_opt_number(USAGE, "--rlimit-nproc", optarg, 0, 1e7); break;
      case 1005: s->read_timeout_ms = (unsigned long)(riap_opt_number(USAGE, "--read-timeout", optarg, 0.001, 86400) * 1000); break;
      case 1009: {
        double secs = riap_opt_number(USAGE, "--idle-timeout", optarg, 0, 86400);
        s->idle_timeout_ms = secs > 0 ? (unsigned long)(secs * 1000) : ULONG_MAX;
        if (!s->idle_timeout_ms) s->idle_timeout_ms = 1;
        break;
      }
      case 1006: s->write_timeout_ms = (unsigned long)(riap_opt_number(USAGE, "--write-timeout", optarg, 0.001, 86400) * 1000); break;
      case 1007: s->chroot = 1; break;
      case 1008: s->allow_root = 1; break;
      case 'h': help(); break;
      case 'V': printf("riap-handle %s\n", RIAP_VERSION); exit(0);
      default: {
        char why[80];
        snprintf(why, sizeof why, "unknown option or missing value: %.40s", argv[optind - 1]);
        usage(why);
      }
    }
  }
  if (optind != argc - 1) usage(optind >= argc ? "ROOT is missing" : "one ROOT only");
}

void server_start(struct server *s)
{
  if (s->chroot) confine(s, s->allow_root);
  if (s->start_persistent) persistent_start_all(s);
  mount_adopt_end();
}

/* pipe mode: the timeouts riap-listen would pass when absent, the same
 * table (lib/riap_workerenv.c); idle: for ever, unless on an accepted
 * connection */
static void pipe_defaults(struct server *s)
{
  struct riap_workerenv d;
  riap_workerenv_defaults(&d);
  if (!s->timeout_ms) s->timeout_ms = (unsigned long)d.timeout_ms;
  if (!s->idle_timeout_ms) s->idle_timeout_ms = stdin_is_accepted() ? s->timeout_ms : ULONG_MAX;
  if (!s->read_timeout_ms) s->read_timeout_ms = (unsigned long)d.read_timeout_ms;
  if (!s->write_timeout_ms) s->write_timeout_ms = (unsigned long)d.write_timeout_ms;
}

int main(int argc, char **argv)
{
  struct server s;
  struct riap_peer peer;
  struct riap_req_limits lim = { 0, 0, 0 };

  errmsg_iam("riap-handle");
  /* not dumpable: a function runs as our user, and could otherwise take
   * any fd of ours (the control channel, a client's connection) with
   * pidfd_getfd(2) or ptrace(2), however clean the fds we give it */
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) diesys(111, "fatal: unable to set PR_SET_DUMPABLE");
  memset(&s, 0, sizeof s);
  s.timeout_ms = 0;                 /* unset: 120 s, or RIAP_TIMEOUT in worker mode */
  s.max_line = 1048576;
  s.call_timeout_ms = 60000;
  s.max_output = 16777216;
  s.log_fd = -1;                    /* unset: 1 in worker mode, 2 on an accepted connection, else none */
  s.limits.cpu_s = 60;
  s.limits.as_bytes = 1ULL << 30;
  s.limits.nofile = 256;
  s.limits.nproc = 256;
  options(argc, argv, &s, &lim);
  /* --log-fd is ours, never a function's nor a backend's (one that is not
   * open stays so: its records are lost, as they always were) */
  if (s.log_fd > 2) fcntl(s.log_fd, F_SETFD, FD_CLOEXEC);
  riap_req_setlimits(&lim);
  signal(SIGPIPE, SIG_IGN);
  s.pid = (long)getpid();
  if (!riap_tree_open(&s.tree, argv[optind]))
    diesys(111, "fatal: unable to open ROOT ", argv[optind]);
  s.tree.priv_free = entity_priv_free;
  {
    const char *env = getenv("RIAP_ALLOW_ROOT");   /* whoever starts us sets it as well as our options */
    if (env && !strcmp(env, "1")) s.allow_root = 1;
  }
  if (getenv("RIAP_CONTROL_FD")) return worker_run(&s, argc, argv);   /* see worker.c */
  server_start(&s);
  pipe_defaults(&s);
  /* access records go to stderr by default only on an accepted connection
   * (tcpserver, s6-ipcserver, inetd: stderr is the service's log); a
   * client that started us (riap+pipe) has its terminal there */
  if (s.log_fd < 0 && stdin_is_accepted()) s.log_fd = 2;
  riap_peer_from_env(&peer);
  serve_conn(&s, 0, 1, &peer);
  riap_tree_close(&s.tree);
  return 0;
}
