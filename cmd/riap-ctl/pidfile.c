/* pidfile.c: a daemonized riap-listen known by its pid file, without a
 * supervisor: start runs the command after -- (riap-listen --daemonize
 * returns once ready; riap-ctl adds --daemonize, --pid-path PIDFILE and
 * --scoreboard-path SCOREBOARD when missing) unless the pid file names a
 * live process; stop sends
 * TERM and waits until it is gone; restart is stop then start; reload
 * sends HUP and waits for the scoreboard's new generation. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ctl.h"

/* the pid in the pid file, 0 when there is none */
static long read_pid(char *why, size_t size)
{
  FILE *f = fopen(C.pidfile, "r");
  char buf[64], *end;
  long pid;
  if (!f) {
    snprintf(why, size, "no pid file %.3000s: %s", C.pidfile, strerror(errno));
    return 0;
  }
  if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
  fclose(f);
  pid = strtol(buf, &end, 10);
  if (pid <= 0 || (*end && *end != '\n')) {
    snprintf(why, size, "%.3000s holds no pid", C.pidfile);
    return 0;
  }
  return pid;
}

static void pf_state(struct svstate *st)
{
  long pid;
  memset(st, 0, sizeof *st);
  st->since = st->ready_since = -1;
  st->ready = st->want_up = st->normally_up = st->exitcode = st->signum = -1;
  st->known = 1;
  pid = read_pid(st->why, sizeof st->why);
  if (!pid) return;
  if (!pid_alive(pid)) {
    snprintf(st->why, sizeof st->why, "pid %ld of %.3000s is not running", pid, C.pidfile);
    return;
  }
  st->up = 1;
  st->pid = pid;
  {
    int r = sb_ready(pid, 0);
    st->ready = r < 0 ? -1 : r;
  }
}

static void pf_start(void)
{
  char why[4400];
  long pid = read_pid(why, sizeof why);
  double t0 = now_s();
  char **argv;
  int n, i, has_pid = 0, has_daemon = 0, has_sb = 0, rc;
  if (pid && pid_alive(pid)) {
    riap_err_info("start: already running as pid %ld (%s): not starting another", pid, C.pidfile);
    return;
  }
  if (!C.cmd)
    riap_err_die(100, "start: with -p PIDFILE, give the command: riap-ctl -p %s start -- riap-listen [options] -- riap-handle ROOT", C.pidfile);
  for (n = 0; C.cmd[n]; n++) {
    if (!strcmp(C.cmd[n], "--")) break;
    if (!strcmp(C.cmd[n], "--pid-path") || !strncmp(C.cmd[n], "--pid-path=", 11)) has_pid = 1;
    if (!strcmp(C.cmd[n], "--daemonize")) has_daemon = 1;
    if (!strcmp(C.cmd[n], "--scoreboard-path") || !strncmp(C.cmd[n], "--scoreboard-path=", 18)) has_sb = 1;
  }
  while (C.cmd[n]) n++;
  argv = calloc((size_t)n + 6, sizeof *argv);
  if (!argv) riap_err_die(111, "start: out of memory");
  i = 0;
  argv[i++] = C.cmd[0];
  if (!has_daemon) argv[i++] = "--daemonize";
  if (!has_pid) { argv[i++] = "--pid-path"; argv[i++] = (char *)C.pidfile; }
  if (!has_sb) { argv[i++] = "--scoreboard-path"; argv[i++] = C.sbpath; }   /* where status looks */
  memcpy(argv + i, C.cmd + 1, (size_t)n * sizeof *argv);    /* n-1 entries and the NULL */
  rc = run_prog("start", argv, 0, 0);
  free(argv);
  if (rc) riap_err_die(111, "start: %s exited %d before it was ready", C.cmd[0], rc);
  pid = read_pid(why, sizeof why);
  if (!pid || !pid_alive(pid)) riap_err_die(111, "start: %s returned, but %s", C.cmd[0], pid ? "its pid is not running" : why);
  wait_ready("start", pid, 0, 0, t0);
}

static void pf_stop(void)
{
  char why[4400];
  long pid = read_pid(why, sizeof why);
  double t0 = now_s();
  if (!pid || !pid_alive(pid)) {
    riap_err_info("stop: not running (%s)", pid ? "its pid is gone" : why);
    return;
  }
  if (kill((pid_t)pid, SIGTERM) < 0) riap_err_die(111, "stop: unable to send TERM to pid %ld: %s", pid, strerror(errno));
  while (pid_alive(pid)) {
    if ((now_s() - t0) * 1000 >= C.timeout_ms)
      riap_err_die(111, "stop: pid %ld still running %.1f s after TERM", pid, C.timeout_ms / 1000.0);
    msleep(20);
  }
}

static void pf_restart(void)
{
  if (!C.cmd)
    riap_err_die(100, "restart: with -p PIDFILE, give the command: riap-ctl -p %s restart -- riap-listen [options] -- riap-handle ROOT", C.pidfile);
  pf_stop();
  pf_start();
}

static void pf_reload(void)
{
  char why[4400];
  long pid = read_pid(why, sizeof why), lpid = 0;
  double t0 = now_s();
  unsigned gen;
  if (!pid || !pid_alive(pid)) riap_err_die(111, "reload: not running: %s", pid ? "its pid is gone" : why);
  gen = sb_generation(&lpid);
  if (kill((pid_t)pid, SIGHUP) < 0) riap_err_die(111, "reload: unable to send HUP to pid %ld: %s", pid, strerror(errno));
  if (gen && lpid == pid) wait_ready("reload", pid, gen + 1, 0, t0);
}

const struct backend backend_pidfile = { "pid file", pf_state, pf_start, pf_stop, pf_restart, pf_reload };
