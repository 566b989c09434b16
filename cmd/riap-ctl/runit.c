/* runit.c: a runit service directory, through sv: start = sv up, then
 * waiting for readiness from the outside (runit has no readiness
 * notification): a worker ready in the scoreboard and every address of
 * env/ answering; stop = sv -w SECS stop; restart = sv -w SECS restart
 * (TERM, then up) and the same wait for the new instance; reload = sv hup.
 * The state is read from supervise/status, the file sv itself reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "ctl.h"

static void runit_state(struct svstate *st)
{
  char p[4200];
  unsigned char s[20];
  int fd;
  ssize_t n;
  memset(st, 0, sizeof *st);
  st->since = st->ready_since = -1;
  st->ready = st->want_up = st->normally_up = st->exitcode = st->signum = -1;
  /* runsv holds supervise/ok open for reading while it runs */
  snprintf(p, sizeof p, "%s/supervise/ok", C.dir);
  fd = open(p, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENXIO) snprintf(st->why, sizeof st->why, "runsv not running for %.3000s", C.dir);
    else snprintf(st->why, sizeof st->why, "unable to open %.3000s: %s", p, strerror(errno));
    return;
  }
  close(fd);
  snprintf(p, sizeof p, "%s/supervise/status", C.dir);
  fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { snprintf(st->why, sizeof st->why, "unable to open %.3000s: %s", p, strerror(errno)); return; }
  n = read(fd, s, sizeof s);
  close(fd);
  if (n != 20) { snprintf(st->why, sizeof st->why, "unable to read %.3000s", p); return; }
  {
    /* bytes 0-11 TAI64N (big endian), 12-15 pid (little endian), 16
     * paused, 17 want 'u'/'d', 18 TERM sent, 19 state 0 down 1 run 2 finish */
    unsigned long long sec = 0;
    unsigned long nano = 0, pid;
    int i;
    for (i = 0; i < 8; i++) sec = sec << 8 | s[i];
    for (i = 8; i < 12; i++) nano = nano << 8 | s[i];
    pid = (unsigned long)s[12] | (unsigned long)s[13] << 8 | (unsigned long)s[14] << 16 | (unsigned long)s[15] << 24;
    st->known = 1;
    st->up = s[19] == 1;
    st->pid = st->up ? (long)pid : 0;
    st->want_up = s[17] == 'u';
    st->since = now_s() - ((double)(long long)(sec - (1ULL << 62) - 10) + nano / 1e9);
    if (st->since < 0) st->since = 0;
  }
  snprintf(p, sizeof p, "%s/down", C.dir);
  st->normally_up = access(p, F_OK) != 0;
  if (st->up) {
    int r = sb_ready(st->pid, 0);
    st->ready = r < 0 ? 1 : r;
  } else st->ready = 0;
}

static void sv(const char *step, const char *cmd, int wait)
{
  char t[32], out[1024];
  char *argv[6];
  int n = 0, rc;
  snprintf(t, sizeof t, "%d", (C.timeout_ms + 999) / 1000);
  argv[n++] = "sv";
  if (wait) { argv[n++] = "-w"; argv[n++] = t; }
  argv[n++] = (char *)cmd;
  argv[n++] = (char *)C.dir;
  argv[n] = 0;
  rc = run_prog(step, argv, out, sizeof out);   /* "ok: run: ..." is not for the user */
  if (rc) riap_err_die(111, "%s: sv %s %s failed (exit %d): %s", step, cmd, C.dir, rc, out);
}

static void up_and_wait(const char *step, long old, double t0)
{
  struct svstate st;
  for (;;) {
    runit_state(&st);
    if (!st.known) riap_err_die(111, "%s: %s", step, st.why);
    if (st.up && st.pid != old) break;
    if ((now_s() - t0) * 1000 >= C.timeout_ms)
      riap_err_die(111, "%s: %s did not come up within %.1f s", step, C.dir, C.timeout_ms / 1000.0);
    msleep(20);
  }
  wait_ready(step, st.pid, 0, 1, t0);
}

/* the state, once runsv has opened supervise/ok and written
 * supervise/status: both follow supervise/ by a moment when runsvdir has
 * just picked the service up. Seconds at most: a runsv that is gone
 * stays gone. */
static void known_state(const char *step, struct svstate *st)
{
  double t0 = now_s();
  int limit_ms = C.timeout_ms < 5000 ? C.timeout_ms : 5000;
  for (;;) {
    runit_state(st);
    if (st->known) return;
    if ((now_s() - t0) * 1000 >= limit_ms) riap_err_die(111, "%s: %s", step, st->why);
    msleep(20);
  }
}

static void runit_start(void)
{
  double t0 = now_s();
  struct svstate st;
  known_state("start", &st);
  sv("start", "up", 0);
  up_and_wait("start", 0, t0);
}

static void runit_stop(void)
{
  struct svstate st;
  known_state("stop", &st);
  sv("stop", "stop", 1);
}

static void runit_restart(void)
{
  double t0 = now_s();
  struct svstate st;
  known_state("restart", &st);
  if (!st.up) { runit_start(); return; }
  sv("restart", "restart", 1);
  up_and_wait("restart", st.pid, t0);
}

static void runit_reload(void)
{
  double t0 = now_s();
  struct svstate st;
  unsigned gen;
  long lpid = 0;
  known_state("reload", &st);
  if (!st.up) riap_err_die(111, "reload: %s is down: nothing to reload (use start)", C.dir);
  gen = sb_generation(&lpid);
  sv("reload", "hup", 0);
  if (gen && lpid == st.pid) wait_ready("reload", st.pid, gen + 1, 0, t0);
}

const struct backend backend_runit = { "runit", runit_state, runit_start, runit_stop, runit_restart, runit_reload };
