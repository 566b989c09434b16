/* status.c: the status report: the supervisor's view (up/down, pid,
 * uptime, ready), then the scoreboard read twice, C.interval apart (one
 * row per worker, totals since the listener started, requests/s over the
 * interval), as text or as one JSON document. Reads the scoreboard only
 * (seqlocks, no lock taken). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "riap_scoreboard.h"
#include "ctl.h"

static const char *state_name(char c)
{
  switch (c) {
    case RIAP_SB_EMPTY: return "empty";
    case RIAP_SB_STARTING: return "starting";
    case RIAP_SB_IDLE: return "idle";
    case RIAP_SB_READING: return "reading";
    case RIAP_SB_CALLING: return "calling";
    case RIAP_SB_WRITING: return "writing";
    case RIAP_SB_RETIRING: return "retiring";
  }
  return "unknown";
}

struct snap {
  int ok;                 /* the scoreboard was read */
  char why[300];
  double t;               /* when */
  struct riap_sb_header h;
  struct riap_sb_slot *s; /* h.nslots slots */
  unsigned unreadable;    /* slots that kept changing */
  int has_park;           /* the park fields were read */
  struct riap_sb_park park;
  int has_tot;            /* the totals were read, consistent with the slots */
  struct riap_sb_totals tot;
  struct riap_sb_totals sum;   /* grand totals: tot's gone workers + the live slots */
};

static void snap_take(struct snap *sn)
{
  struct riap_sb sb;
  unsigned i;
  int tries;
  memset(sn, 0, sizeof *sn);
  if (!C.sbpath[0]) { snprintf(sn->why, sizeof sn->why, "none configured"); return; }
  if (!riap_sb_open(&sb, C.sbpath, 0)) {
    snprintf(sn->why, sizeof sn->why, "unable to read %.200s: %s", C.sbpath,
             errno == EPROTO ? "not a scoreboard of this version" : strerror(errno));
    return;
  }
  sn->t = now_s();
  memcpy(&sn->h, sb.h, sizeof sn->h);
  sn->h.generation = __atomic_load_n(&sb.h->generation, __ATOMIC_ACQUIRE);
  sn->h.name[sizeof sn->h.name - 1] = 0;
  sn->s = calloc(sn->h.nslots ? sn->h.nslots : 1, sizeof *sn->s);
  if (!sn->s) die_step(EXIT_FAIL, "status", "out of memory");
  /* the slots between two readings of the totals that agree on the
   * workers gone: a worker reaped meanwhile is counted once, either in its
   * slot or in the totals (riap-scoreboard(5), CONSISTENCY) */
  for (tries = 0; tries < 100; tries++) {
    struct riap_sb_totals before;
    int ok = riap_sb_gettotals(&sb, &before);
    sn->unreadable = 0;
    for (i = 0; i < sn->h.nslots; i++)
      if (!riap_sb_read(&sb, i, &sn->s[i])) { sn->s[i].state = '?'; sn->s[i].pid = 0; sn->unreadable++; }
    sn->has_tot = ok && riap_sb_gettotals(&sb, &sn->tot) && sn->tot.workers == before.workers;
    if (sn->has_tot) break;
  }
  if (sn->has_tot) {
    sn->sum = sn->tot;
    for (i = 0; i < sn->h.nslots; i++) {
      const struct riap_sb_slot *w = &sn->s[i];
      if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
      sn->sum.requests += w->requests;
      sn->sum.connections += w->connections;
      sn->sum.bytes_in += w->bytes_in;
      sn->sum.bytes_out += w->bytes_out;
    }
  }
  sn->has_park = riap_sb_getpark(&sb, &sn->park);
  riap_sb_close(&sb);
  sn->ok = 1;
}

/* The kernel's accept queues of the listener's TCP sockets: the inodes of
 * its sockets (/proc/PID/fd, readable by its owner and root) matched with
 * the LISTEN lines of /proc/net/tcp and tcp6. -1 when unknown. */
static long tcp_queue(long pid)
{
  char p[64], l[512];
  unsigned long ino[64];
  int nino = 0, f, found = 0;
  long q = 0;
  DIR *d;
  struct dirent *e;
  snprintf(p, sizeof p, "/proc/%ld/fd", pid);
  if (!(d = opendir(p))) return -1;
  while ((e = readdir(d)) && nino < 64) {
    char fp[400], t[64];
    ssize_t n;
    snprintf(fp, sizeof fp, "%s/%s", p, e->d_name);
    n = readlink(fp, t, sizeof t - 1);
    if (n > 0) { t[n] = 0; if (!strncmp(t, "socket:[", 8)) ino[nino++] = strtoul(t + 8, 0, 10); }
  }
  closedir(d);
  for (f = 0; f < 2; f++) {
    FILE *fp = fopen(f ? "/proc/net/tcp6" : "/proc/net/tcp", "r");
    if (!fp) continue;
    while (fgets(l, sizeof l, fp)) {
      unsigned st, rx, tx;
      unsigned long inode;
      int k;
      /* sl local rem st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode */
      if (sscanf(l, " %*s %*s %*s %x %x:%x %*s %*s %*s %*s %lu", &st, &tx, &rx, &inode) != 4) continue;
      if (st != 0x0A) continue;
      for (k = 0; k < nino; k++)
        if (ino[k] == inode) { q += rx; found = 1; }
    }
    fclose(fp);
  }
  return found ? q : -1;
}

/* a field for a terminal: control bytes and non-ASCII as '?' */
static const char *clean(const char *s, char *buf, size_t size)
{
  size_t i;
  for (i = 0; s[i] && i + 1 < size; i++) buf[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
  buf[i] = 0;
  return buf;
}

/* a JSON string of s: invalid UTF-8 replaced byte by byte with '?' */
static json_t *jstr(const char *s)
{
  json_t *j = json_string(s);
  char buf[512];
  size_t i;
  if (j) return j;
  for (i = 0; s[i] && i + 1 < sizeof buf; i++) buf[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
  buf[i] = 0;
  return json_string(buf);
}

static json_t *jnum_or_null(double d) { return d < 0 ? json_null() : json_real((double)(long long)(d * 1000) / 1000); }
static json_t *jtri(int v) { return v < 0 ? json_null() : json_boolean(v); }

static int busy(char c) { return c == RIAP_SB_READING || c == RIAP_SB_CALLING || c == RIAP_SB_WRITING; }

static void fmt_secs(char *buf, size_t size, double s)
{
  if (s < 0) snprintf(buf, size, "-");
  else if (s < 60) snprintf(buf, size, "%.1fs", s);
  else if (s < 3600) snprintf(buf, size, "%dm%02ds", (int)s / 60, (int)s % 60);
  else if (s < 86400) snprintf(buf, size, "%dh%02dm", (int)s / 3600, (int)s % 3600 / 60);
  else snprintf(buf, size, "%dd%02dh", (int)s / 86400, (int)s % 86400 / 3600);
}

int status(const struct backend *b)
{
  struct svstate st;
  struct snap s1, s2;
  unsigned i, nw = 0, nbusy = 0, nidle = 0, nstart = 0, nretire = 0;
  unsigned long long reqs = 0;            /* the live workers' */
  double rate = -1, interval = 0;
  long queue = -1, lpid = 0;
  int lalive = 0, up;
  const char *where = C.dir ? C.dir : C.pidfile;

  if (b) b->state(&st);
  else {
    memset(&st, 0, sizeof st);
    st.since = st.ready_since = -1;
    st.ready = st.want_up = st.normally_up = st.exitcode = st.signum = -1;
    snprintf(st.why, sizeof st.why, "no supervisor runs %.3000s (supervise/ not found)", C.dir);
  }
  snap_take(&s1);
  if (s1.ok) {
    lpid = (long)s1.h.listener_pid;
    lalive = pid_alive(lpid);
    if (st.known && st.up && st.pid != lpid) lalive = 0;   /* a scoreboard left by an earlier instance */
    if (st.known && !st.up) lalive = 0;
  }
  /* up: the supervisor says so; when it cannot be asked (a user without
   * access to supervise/), the scoreboard's listener is alive */
  up = st.known ? st.up : lalive;
  if (!st.known && lalive) st.pid = lpid;
  if (lalive && st.since < 0) st.since = now_s() - s1.h.start_us / 1e6;
  if (s1.ok && lalive && C.interval > 0) {
    msleep((int)(C.interval * 1000));
    snap_take(&s2);
    if (!s2.ok || s2.h.listener_pid != s1.h.listener_pid) { free(s2.s); s2 = s1; s1.s = 0; }
  } else { s2 = s1; s1.s = 0; }
  if (s2.ok && lalive) {
    for (i = 0; i < s2.h.nslots; i++) {
      struct riap_sb_slot *w = &s2.s[i];
      if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
      nw++;
      if (busy(w->state)) nbusy++;
      else if (w->state == RIAP_SB_IDLE) nidle++;
      else if (w->state == RIAP_SB_STARTING) nstart++;
      else if (w->state == RIAP_SB_RETIRING) nretire++;
      reqs += w->requests;
    }
    /* the change of the grand total: workers that started or ended during
     * the interval count too */
    if (s1.s) {
      interval = s2.t - s1.t;
      if (interval > 0 && s1.has_tot && s2.has_tot)
        rate = s2.sum.requests > s1.sum.requests ? (s2.sum.requests - s1.sum.requests) / interval : 0;
    }
    queue = tcp_queue(lpid);
  }

  if (C.json) {
    json_t *o = json_object(), *ws = json_array(), *tot;
    int lt = s2.ok && lalive && s2.has_tot;
    char *out;
    json_object_set_new(o, C.dir ? "service" : "pid_file", json_string(where));
    json_object_set_new(o, "supervisor", b ? json_string(b->name) : json_null());
    json_object_set_new(o, "supervisor_known", json_boolean(st.known));
    json_object_set_new(o, "supervisor_error", st.known || !b ? (st.known ? json_null() : jstr(st.why)) : jstr(st.why));
    json_object_set_new(o, "up", json_boolean(up));
    json_object_set_new(o, "pid", up && st.pid > 0 ? json_integer(st.pid) : json_null());
    json_object_set_new(o, up ? "uptime" : "downtime", jnum_or_null(st.since));
    json_object_set_new(o, "ready", up ? jtri(st.ready) : json_false());
    json_object_set_new(o, "ready_for", up ? jnum_or_null(st.ready_since) : json_null());
    json_object_set_new(o, "wanted_up", jtri(st.want_up));
    json_object_set_new(o, "normally_up", jtri(st.normally_up));
    json_object_set_new(o, "exitcode", !up && st.exitcode >= 0 ? json_integer(st.exitcode) : json_null());
    json_object_set_new(o, "signal", !up && st.signum > 0 ? json_integer(st.signum) : json_null());
    if (s2.ok && lalive) {
      json_t *sb = json_pack("{s:s,s:o,s:I,s:i,s:i,s:f}", "path", C.sbpath, "name", jstr(s2.h.name),
                             "listener_pid", (json_int_t)s2.h.listener_pid, "generation", (int)s2.h.generation,
                             "slots", (int)s2.h.nslots, "started", s2.h.start_us / 1e6);
      json_object_set_new(o, "scoreboard", sb);
      json_object_set_new(o, "scoreboard_error", json_null());
    } else {
      json_object_set_new(o, "scoreboard", json_null());
      json_object_set_new(o, "scoreboard_error",
                          s2.ok ? json_string("left by a listener that is not running") : jstr(s2.why));
    }
    for (i = 0; s2.ok && lalive && i < s2.h.nslots; i++) {
      struct riap_sb_slot *w = &s2.s[i];
      char code[2] = { w->state, 0 };
      double age = (w->state == RIAP_SB_CALLING || w->state == RIAP_SB_WRITING) && w->request_us
                     ? s2.t - w->request_us / 1e6 : -1;
      if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
      json_array_append_new(ws, json_pack("{s:i,s:I,s:s,s:s,s:b,s:i,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}",
        "slot", (int)i, "pid", (json_int_t)w->pid, "state", state_name(w->state), "state_code", code,
        "busy", busy(w->state), "generation", (int)w->generation,
        "requests", (json_int_t)w->requests, "connections", (json_int_t)w->connections,
        "bytes_in", (json_int_t)w->bytes_in, "bytes_out", (json_int_t)w->bytes_out,
        "peer", w->peer[0] ? jstr(w->peer) : json_null(),
        "action", w->action[0] ? jstr(w->action) : json_null(),
        "uri", w->uri[0] ? jstr(w->uri) : json_null(),
        "age", jnum_or_null(age),
        "uptime", jnum_or_null(w->start_us ? s2.t - w->start_us / 1e6 : -1)));
    }
    json_object_set_new(o, "workers", ws);
    tot = json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:I,s:o,s:o}", "workers", (int)nw, "busy", (int)nbusy,
                    "idle", (int)nidle, "starting", (int)nstart, "retiring", (int)nretire,
                    "requests", lt ? json_integer((json_int_t)s2.sum.requests) : json_null(),
                    "requests_live", (json_int_t)reqs,
                    "rate", rate < 0 ? json_null() : json_real((double)(long long)(rate * 100) / 100),
                    "interval", s1.s ? json_real((double)(long long)(interval * 1000) / 1000) : json_null());
    json_object_set_new(tot, "connections", lt ? json_integer((json_int_t)s2.sum.connections) : json_null());
    json_object_set_new(tot, "bytes_in", lt ? json_integer((json_int_t)s2.sum.bytes_in) : json_null());
    json_object_set_new(tot, "bytes_out", lt ? json_integer((json_int_t)s2.sum.bytes_out) : json_null());
    json_object_set_new(tot, "workers_gone", lt ? json_integer((json_int_t)s2.tot.workers) : json_null());
    json_object_set_new(tot, "accepted", lt ? json_integer((json_int_t)s2.tot.accepted) : json_null());
    json_object_set_new(tot, "refused", lt ? json_integer((json_int_t)s2.tot.refused) : json_null());
    json_object_set_new(tot, "waiting", lt ? json_integer(s2.tot.waiting) : json_null());
    json_object_set_new(tot, "queue", queue < 0 ? json_null() : json_integer(queue));
    if (s2.ok && lalive && s2.has_park) {
      json_object_set_new(tot, "parked", json_integer(s2.park.parked));
      json_object_set_new(tot, "parks", json_integer(s2.park.parks));
      json_object_set_new(tot, "parked_oldest_idle", s2.park.parked && s2.park.oldest_us
                          ? json_real((double)(long long)((s2.t - s2.park.oldest_us / 1e6) * 1000) / 1000) : json_null());
    }
    json_object_set_new(o, "totals", tot);
    out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
    if (out) puts(out);
    free(out);
    json_decref(o);
  } else {
    char a[32], r[32];
    fmt_secs(a, sizeof a, st.since);
    fmt_secs(r, sizeof r, st.ready_since);
    if (up) {
      printf("%s: up (pid %ld) %s, %s", where, st.pid, a,
             st.ready == 1 ? "ready" : st.ready == 0 ? "not ready" : "readiness unknown");
      if (st.ready == 1 && st.ready_since >= 0) printf(" %s", r);
      if (st.want_up == 0) printf(", want down");
      if (st.normally_up == 0) printf(", normally down");
    } else {
      printf("%s: down", where);
      if (st.known && st.since >= 0) printf(" %s", a);
      if (st.exitcode >= 0 && st.since >= 0) printf(", last exit %d", st.exitcode);
      if (st.signum > 0) printf(", last killed by signal %d", st.signum);
      if (st.want_up == 1) printf(", want up");
      if (st.normally_up == 1) printf(", normally up");
    }
    printf(" [%s]\n", b ? b->name : "not supervised");
    if (!st.known && b) printf("  supervisor: %s\n", st.why);
    if (s2.ok && lalive) {
      char nm[80];
      fmt_secs(a, sizeof a, s2.t - s2.h.start_us / 1e6);
      printf("  scoreboard %s: %s, listener pid %lld, generation %u, started %s ago\n", C.sbpath,
             clean(s2.h.name, nm, sizeof nm), (long long)s2.h.listener_pid, s2.h.generation, a);
      printf("  %-4s %-8s %-9s %-3s %8s  %-22s %-10s %-24s %s\n", "SLOT", "PID", "STATE", "GEN", "REQS", "PEER", "ACTION", "URI", "AGE");
      for (i = 0; i < s2.h.nslots; i++) {
        struct riap_sb_slot *w = &s2.s[i];
        char pe[100], ac[40], ur[310];
        double age = (w->state == RIAP_SB_CALLING || w->state == RIAP_SB_WRITING) && w->request_us
                       ? s2.t - w->request_us / 1e6 : -1;
        if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
        fmt_secs(a, sizeof a, age);
        printf("  %-4u %-8lld %-9s %-3u %8llu  %-22s %-10s %-24s %s\n", i, (long long)w->pid, state_name(w->state),
               w->generation, (unsigned long long)w->requests, w->peer[0] ? clean(w->peer, pe, sizeof pe) : "-",
               w->action[0] ? clean(w->action, ac, sizeof ac) : "-", w->uri[0] ? clean(w->uri, ur, sizeof ur) : "-", a);
      }
      printf("  workers %u: %u busy, %u idle, %u starting, %u retiring", nw, nbusy, nidle, nstart, nretire);
      if (s2.unreadable) printf(", %u unreadable", s2.unreadable);
      if (s2.has_tot) printf("; requests %llu (%llu by the live workers)", (unsigned long long)s2.sum.requests, reqs);
      else printf("; requests by the live workers %llu", reqs);
      if (rate >= 0) printf(", %.1f/s over %.1fs", rate, interval);
      printf("\n");
      if (s2.has_tot) {
        printf("  connections %llu accepted, %llu refused; waiting for a worker %u",
               (unsigned long long)s2.tot.accepted, (unsigned long long)s2.tot.refused, s2.tot.waiting);
        if (queue >= 0) printf(", in the kernel's queue %ld", queue);
        printf("\n");
      } else if (queue >= 0) printf("  kernel's queue %ld\n", queue);
      if (s2.has_park) {
        printf("  parked connections %u", s2.park.parked);
        if (s2.park.parked && s2.park.oldest_us) {
          fmt_secs(a, sizeof a, s2.t - s2.park.oldest_us / 1e6);
          printf(", oldest idle %s", a);
        }
        printf("; %u hand-backs so far\n", s2.park.parks);
      }
    } else if (up) {
      printf("  scoreboard: %s\n", s2.ok ? "left by a listener that is not running" : s2.why);
    }
  }
  free(s1.s);
  free(s2.s);
  return up ? 0 : EXIT_DOWN;
}
