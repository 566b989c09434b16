/* riap-ctl: start, stop, restart, reload and status of a riap-listen
 * service: an s6 or runit service directory, or a pid file (riap-listen
 * --daemonize without a supervisor). See doc/riap-ctl.8. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_envdir.h"
#include "riap_opt.h"
#include "riap_spawn.h"
#include "ctl.h"

#include "riap_version.h"
#define USAGE "riap-ctl [-d SERVICEDIR | -p PIDFILE] [-t SECS] start|stop|restart|reload|drain|undrain|status [--json] [-i SECS] [-- COMMAND...]"

struct conf C;

static const char *const scandirs[] = {   /* where a service named riap usually is */
  "/run/service/riap", "/service/riap", "/etc/service/riap", "/var/service/riap", 0
};

static void help(void)
{
  printf("usage: %s\n\n"
         "Controls and observes a riap-listen service.\n\n"
         "  -d, --service DIR     an s6 or runit service directory (default: $RIAP_SERVICE_DIR,\n"
         "                        else the first of /run/service/riap, /service/riap,\n"
         "                        /etc/service/riap, /var/service/riap)\n"
         "  -p, --pid-file PATH   a daemonized riap-listen's pid file instead\n"
         "  -b, --scoreboard PATH the scoreboard (default: the service's env/SCOREBOARD_PATH,\n"
         "                        else DIR/scoreboard; PIDFILE's name with .scoreboard)\n"
         "  -t, --timeout SECS    longest wait of start, stop, restart, reload (default 30)\n"
         "  -i, --interval SECS   status: requests/s measured over SECS (default 1; 0: not)\n"
         "  -j, --json            status: one JSON document\n"
         "  -h, --help            this help\n"
         "  -V, --version         print the version\n\n"
         "Commands: start, stop, restart, reload (HUP: new workers), status,\n"
         "drain (USR1: the balancer's health checks fail, clients still served), undrain (USR2).\n"
         "With -p, start and restart run the COMMAND after -- (riap-listen ...).\n"
         "Exit: 0 ok, 1 not running (status), 100 usage, 111 failure.\n"
         "See riap-ctl(8).\n", USAGE);
  exit(0);
}

double now_s(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void msleep(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

int pid_alive(long pid)
{
  char path[64], buf[512], *p;
  FILE *f;
  if (pid <= 0) return 0;
  if (kill((pid_t)pid, 0) < 0 && errno != EPERM) return 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  if (!(f = fopen(path, "r"))) return 1;   /* no /proc: trust kill */
  p = fgets(buf, sizeof buf, f);
  fclose(f);
  if (!p || !(p = strrchr(buf, ')'))) return 1;
  return !(p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'));
}

int run_prog(const char *step, char *const argv[], char *out, size_t size)
{
  size_t len;
  int st = riap_spawn_wait(argv, out, size, &len);
  if (st < 0) riap_err_die(111, "%s: unable to run %s: %s", step, argv[0], strerror(errno));
  if (out) while (len && (out[len - 1] == '\n' || out[len - 1] == ' ')) out[--len] = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int is_dir(const char *p)
{
  struct stat st;
  errno = 0;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int exists(const char *p)
{
  struct stat st;
  return lstat(p, &st) == 0;
}

/* Which supervisor runs DIR: runsv makes supervise/ok (a FIFO),
 * s6-supervise makes event/. Both make supervise/ first, so right after a
 * scanner picked DIR up there is a moment with neither mark: unsure then
 * (guessing s6 there once sent s6-svc to a runsv). */
static enum sv_kind which_supervisor(const char *dir, int *unsure)
{
  char p[4200];
  *unsure = 0;
  snprintf(p, sizeof p, "%s/supervise/ok", dir);
  if (exists(p)) return SV_RUNIT;
  snprintf(p, sizeof p, "%s/event", dir);
  if (exists(p)) return SV_S6;
  snprintf(p, sizeof p, "%s/supervise", dir);
  if (!exists(p)) return SV_NONE;
  if (access(p, X_OK) < 0) return SV_RUNIT;   /* unreadable and no event/: not s6-supervise's */
  *unsure = 1;
  return SV_S6;
}

static const struct backend *backend_of(enum sv_kind kind)
{
  return kind == SV_RUNIT ? &backend_runit : kind == SV_S6 ? &backend_s6 : 0;
}

static void scoreboard_path(const char *opt)
{
  char v[4096];
  if (opt) { snprintf(C.sbpath, sizeof C.sbpath, "%s", opt); return; }
  if (C.dir) {
    char env[4200];
    int r;
    snprintf(env, sizeof env, "%s/env", C.dir);
    r = riap_envdir_get(env, "SCOREBOARD_PATH", v, sizeof v);
    if (r > 0) snprintf(C.sbpath, sizeof C.sbpath, "%s", strcmp(v, "0") ? v : "");
    else snprintf(C.sbpath, sizeof C.sbpath, "%s/scoreboard", C.dir);
    return;
  }
  {   /* riap-listen's defaults share the base: /var/run/NAME.pid, /var/run/NAME.scoreboard */
    size_t n = strlen(C.pidfile);
    if (n > 4 && !strcmp(C.pidfile + n - 4, ".pid")) n -= 4;
    snprintf(C.sbpath, sizeof C.sbpath, "%.*s.scoreboard", (int)n, C.pidfile);
  }
}

/* drain, undrain: USR1, USR2 to the listener, whoever supervises it: its
 * pid is what the supervisor (or the pid file) says runs */
static void drain(const struct backend *b, const char *cmd)
{
  struct svstate st;
  memset(&st, 0, sizeof st);
  b->state(&st);
  if (!st.known) riap_err_die(111, "%s: %s", cmd, st.why);
  if (!st.up || st.pid <= 0) riap_err_die(111, "%s: not running: nothing to %s", cmd, cmd);
  if (kill((pid_t)st.pid, strcmp(cmd, "drain") ? SIGUSR2 : SIGUSR1) < 0)
    riap_err_die(111, "%s: unable to signal pid %ld: %s", cmd, st.pid, strerror(errno));
  riap_err_info("%s: pid %ld %s", cmd, st.pid, strcmp(cmd, "drain") ? "serves health checks again"
       : "now fails the balancer's health checks; stop it once the balancer has taken it out");
}

/* the options, the command (returned) and, after --, the program to start */
static const char *options(int argc, char **argv, const char **sbopt)
{
  static const struct option longopts[] = {
    { "service", 1, 0, 'd' }, { "pid-file", 1, 0, 'p' }, { "scoreboard", 1, 0, 'b' },
    { "timeout", 1, 0, 't' }, { "interval", 1, 0, 'i' }, { "json", 0, 0, 'j' },
    { "help", 0, 0, 'h' }, { "version", 0, 0, 'V' }, { 0, 0, 0, 0 }
  };
  const char *cmd = 0;
  int opt, dd;

  /* options and the command come before --, the program (pid-file start and
   * restart) after it */
  for (dd = 1; dd < argc && strcmp(argv[dd], "--"); dd++) {}
  if (dd < argc) C.cmd = argv + dd + 1;
  opterr = 0;
  while ((opt = getopt_long(dd, argv, "d:p:b:t:i:jhV", longopts, 0)) != -1) {
    switch (opt) {
      case 'd': C.dir = optarg; break;
      case 'p': C.pidfile = optarg; break;
      case 'b': *sbopt = optarg; break;
      case 't': C.timeout_ms = (int)riap_opt_ms(USAGE, "--timeout", optarg, 0, 86400); break;
      case 'i': C.interval = riap_opt_number(USAGE, "--interval", optarg, 0, 60); break;
      case 'j': C.json = 1; break;
      case 'h': help(); break;
      case 'V': printf("riap-ctl %s\n", RIAP_VERSION); exit(0);
      default: riap_err_usage(USAGE, "unknown option or missing value: %s", argv[optind - 1]);
    }
  }
  if (optind < dd) cmd = argv[optind];
  if (optind + 1 < dd) riap_err_usage(USAGE, "one command only, not also '%s'", argv[optind + 1]);
  if (!cmd) riap_err_usage(USAGE, "no command: start, stop, restart, reload or status");
  if (strcmp(cmd, "start") && strcmp(cmd, "stop") && strcmp(cmd, "restart") && strcmp(cmd, "reload")
      && strcmp(cmd, "drain") && strcmp(cmd, "undrain") && strcmp(cmd, "status"))
    riap_err_usage(USAGE, "unknown command '%s' (start, stop, restart, reload, drain, undrain, status)", cmd);
  if (C.dir && C.pidfile) riap_err_usage(USAGE, "give -d SERVICEDIR or -p PIDFILE, not both");
  if (C.cmd && !*C.cmd) C.cmd = 0;
  if (C.cmd && (!C.pidfile || (strcmp(cmd, "start") && strcmp(cmd, "restart"))))
    riap_err_usage(USAGE, "a command after -- is for start and restart with -p PIDFILE only");
  if (C.json && strcmp(cmd, "status")) riap_err_usage(USAGE, "--json is for status only");
  return cmd;
}

/* without -d or -p: $RIAP_SERVICE_DIR, else the first usual place */
static void default_dir(void)
{
  const char *e = getenv("RIAP_SERVICE_DIR");
  int i;
  if (e && *e) { C.dir = e; return; }
  for (i = 0; scandirs[i]; i++) if (is_dir(scandirs[i])) { C.dir = scandirs[i]; return; }
  riap_err_usage(USAGE, "no service directory: give -d SERVICEDIR or -p PIDFILE, or set RIAP_SERVICE_DIR "
        "(none of /run/service/riap, /service/riap, /etc/service/riap, /var/service/riap exists)");
}

/* the backend for C.dir (or the pid file), NULL when no supervisor runs it */
static const struct backend *backend_find(const char *cmd)
{
  const struct backend *b;
  int unsure = 0;
  if (C.pidfile) { C.kind = SV_PIDFILE; return &backend_pidfile; }
  C.kind = which_supervisor(C.dir, &unsure);
  b = backend_of(C.kind);
  if (unsure || (!b && strcmp(cmd, "stop") && strcmp(cmd, "status"))) {
    /* a scanner picks a new service up within seconds, and its supervisor
     * marks the directory as its own a moment later: wait for both (status
     * waits for the mark only, and a second at most: it reports, it does
     * not act) */
    double t0 = now_s();
    int limit_ms = strcmp(cmd, "status") ? C.timeout_ms : 1000;
    while ((unsure || !b) && (now_s() - t0) * 1000 < limit_ms) {
      msleep(20);
      C.kind = which_supervisor(C.dir, &unsure);
      b = backend_of(C.kind);
    }
  }
  return b;
}

int main(int argc, char **argv)
{
  const char *cmd, *sbopt = 0;
  const struct backend *b;

  errmsg_iam("riap-ctl");
  C.timeout_ms = 30000;
  C.interval = 1;
  cmd = options(argc, argv, &sbopt);
  if (!C.dir && !C.pidfile) default_dir();
  if (C.dir && !is_dir(C.dir))
    riap_err_die(111, "%s: %s: %s", cmd, C.dir, errno == ENOTDIR || !errno ? "not a directory" : strerror(errno));
  scoreboard_path(sbopt);
  b = backend_find(cmd);
  if (!strcmp(cmd, "status")) return status(b);
  if (!b)
    riap_err_die(111, "%s: no supervisor runs %s: link it into a scan directory of s6-svscan or runsvdir "
                 "(supervise/ not found)", cmd, C.dir);
  if (!strcmp(cmd, "start")) b->start();
  else if (!strcmp(cmd, "stop")) b->stop();
  else if (!strcmp(cmd, "restart")) b->restart();
  else if (!strcmp(cmd, "drain") || !strcmp(cmd, "undrain")) drain(b, cmd);
  else b->reload();
  return 0;
}
