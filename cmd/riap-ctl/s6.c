/* s6.c: an s6 service directory, through s6-svc and s6-svstat:
 * start = s6-svc -u, waiting until up and ready (-wU); stop = s6-svc -d,
 * waiting until down and finish done (-wD); restart = s6-svc -r (TERM),
 * waiting for the new instance to be ready (-wR); reload = s6-svc -h (HUP),
 * waiting for the scoreboard's new generation. */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include "riap_time.h"
#include "ctl.h"

/* seconds since a TAI64N label "@4000000069256f..." */
static double since_label(const char *s)
{
  unsigned long long sec = 0;
  unsigned long nano = 0;
  int i;
  if (s[0] != '@' || strlen(s) < 25) return -1;
  for (i = 1; i <= 16; i++) sec = sec * 16 + (unsigned)(s[i] <= '9' ? s[i] - '0' : (s[i] | 32) - 'a' + 10);
  for (i = 17; i <= 24; i++) nano = nano * 16 + (unsigned long)(s[i] <= '9' ? s[i] - '0' : (s[i] | 32) - 'a' + 10);
  {
    long long unix = (long long)(sec - (1ULL << 62)) - 10;
    double d;
    unix -= riap_time_leapsecs(unix);
    d = now_s() - ((double)unix + nano / 1e9);
    return d < 0 ? 0 : d;
  }
}

static int tf(const char *w) { return !strcmp(w, "true") ? 1 : !strcmp(w, "false") ? 0 : -1; }

static void s6_state(struct svstate *st)
{
  char out[512], *w[8], *p;
  char *argv[] = { "s6-svstat", "-o", "up,wantedup,normallyup,ready,pid,exitcode,signum,updownsince,readysince", (char *)C.dir, 0 };
  int n = 0, rc;
  memset(st, 0, sizeof *st);
  st->since = st->ready_since = -1;
  st->ready = st->want_up = st->normally_up = st->exitcode = st->signum = -1;
  {   /* s6-supervise keeps supervise/ to itself (0700): say so rather than run s6-svstat */
    char sup[4200];
    snprintf(sup, sizeof sup, "%s/supervise", C.dir);
    if (access(sup, X_OK) < 0) {
      snprintf(st->why, sizeof st->why, "%.4200s: %s", sup, strerror(errno));
      return;
    }
  }
  rc = run_prog("status", argv, out, sizeof out);
  if (rc != 0) {
    snprintf(st->why, sizeof st->why, "s6-svstat %s failed (exit %d)", C.dir, rc);
    return;
  }
  for (p = strtok(out, " \n"); p && n < 9; p = strtok(0, " \n")) {
    if (n < 8) w[n] = p;
    n++;
    if (n == 9) {
      st->known = 1;
      st->up = tf(w[0]) == 1;
      st->want_up = tf(w[1]);
      st->normally_up = tf(w[2]);
      st->ready = tf(w[3]);
      st->pid = atol(w[4]) > 0 ? atol(w[4]) : 0;
      st->exitcode = atoi(w[5]);
      st->signum = atoi(w[6]);
      st->since = since_label(w[7]);
      st->ready_since = st->ready == 1 ? since_label(p) : -1;
    }
  }
  if (!st->known) snprintf(st->why, sizeof st->why, "s6-svstat %s: unexpected output", C.dir);
}

/* s6-svc [-wX -T ms] -c DIR; dies naming step when it fails */
static void svc(const char *step, const char *wait, const char *cmdopt)
{
  char t[32];
  char *argv[8];
  int n = 0, rc;
  snprintf(t, sizeof t, "%d", C.timeout_ms);
  argv[n++] = "s6-svc";
  if (wait) { argv[n++] = (char *)wait; argv[n++] = "-T"; argv[n++] = t; }
  argv[n++] = (char *)cmdopt;
  argv[n++] = (char *)C.dir;
  argv[n] = 0;
  rc = run_prog(step, argv, 0, 0);
  if (rc == 0) return;
  if (rc == 99) riap_err_die(111, "%s: s6-svc %s %s: timed out after %.1f s", step, cmdopt, C.dir, C.timeout_ms / 1000.0);
  if (rc == 1 && wait) riap_err_die(111, "%s: s6-svc %s %s: the service failed permanently (see its log)", step, cmdopt, C.dir);
  riap_err_die(111, "%s: s6-svc %s %s failed (exit %d)", step, cmdopt, C.dir, rc);
}

/* s6-svc -w reads supervise/status, which s6-supervise writes only once it
 * has started: right after the scanner picked the service up it may not be
 * there yet */
static void wait_supervise(const char *step)
{
  char status[4200];
  int waited = 0;
  snprintf(status, sizeof status, "%s/supervise/status", C.dir);
  while (access(status, F_OK) < 0 && errno == ENOENT) {   /* EACCES: not ours to wait on; s6-svc will say */
    if (waited >= C.timeout_ms)
      riap_err_die(111, "%s: no s6-supervise runs %s (no supervise/status after %.1f s)", step, C.dir,
               C.timeout_ms / 1000.0);
    msleep(50);
    waited += 50;
  }
}

static void s6_start(void)
{
  wait_supervise("start");
  svc("start", "-wU", "-u");
}

static void s6_stop(void)
{
  wait_supervise("stop");
  svc("stop", "-wD", "-d");
}

static void s6_restart(void)
{
  struct svstate st;
  wait_supervise("restart");
  s6_state(&st);
  if (!st.known) riap_err_die(111, "restart: %s", st.why);
  if (!st.up) { svc("restart", "-wU", "-u"); return; }
  svc("restart", "-wR", "-r");
  s6_state(&st);
  if (st.known && st.up && st.ready == 0) svc("restart", "-wU", "-u");
}

static void s6_reload(void)
{
  struct svstate st;
  unsigned gen;
  long lpid = 0;
  double t0 = now_s();
  s6_state(&st);
  if (!st.known) riap_err_die(111, "reload: %s", st.why);
  if (!st.up) riap_err_die(111, "reload: %s is down: nothing to reload (use start)", C.dir);
  gen = sb_generation(&lpid);
  svc("reload", 0, "-h");
  if (gen && lpid == st.pid) wait_ready("reload", st.pid, gen + 1, 0, t0);
}

const struct backend backend_s6 = { "s6", s6_state, s6_start, s6_stop, s6_restart, s6_reload };
