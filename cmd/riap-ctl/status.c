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
  if (!sn->s) riap_err_die(111, "status: out of memory");
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

/* everything the report shows */
struct report {
  const struct backend *b;
  const char *where;                      /* the service directory or the pid file */
  struct svstate st;
  struct snap s1, s2;                     /* s2 the last scoreboard read; s1.s NULL: read once */
  int lalive, up;                         /* the scoreboard's listener runs; the service is up */
  unsigned nw, nbusy, nidle, nstart, nretire;
  unsigned long long reqs;                /* the live workers' */
  double rate, interval;                  /* requests/s, over interval; rate -1: unknown */
  long queue;                             /* kernel's accept queues, -1 unknown */
};

/* what the supervisor says, or why it cannot be asked */
static void gather_supervisor(struct report *r)
{
  struct svstate *st = &r->st;
  if (r->b) { r->b->state(st); return; }
  memset(st, 0, sizeof *st);
  st->since = st->ready_since = -1;
  st->ready = st->want_up = st->normally_up = st->exitcode = st->signum = -1;
  snprintf(st->why, sizeof st->why, "no supervisor runs %.3000s (supervise/ not found)", C.dir);
}

/* the live workers of s2 by state; the request rate between s1 and s2 */
static void gather_workers(struct report *r)
{
  struct snap *s1 = &r->s1, *s2 = &r->s2;
  unsigned i;
  for (i = 0; i < s2->h.nslots; i++) {
    struct riap_sb_slot *w = &s2->s[i];
    if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
    r->nw++;
    if (busy(w->state)) r->nbusy++;
    else if (w->state == RIAP_SB_IDLE) r->nidle++;
    else if (w->state == RIAP_SB_STARTING) r->nstart++;
    else if (w->state == RIAP_SB_RETIRING) r->nretire++;
    r->reqs += w->requests;
  }
  /* the change of the grand total: workers that started or ended during
   * the interval count too */
  if (s1->s) {
    r->interval = s2->t - s1->t;
    if (r->interval > 0 && s1->has_tot && s2->has_tot)
      r->rate = s2->sum.requests > s1->sum.requests ? (s2->sum.requests - s1->sum.requests) / r->interval : 0;
  }
  r->queue = tcp_queue((long)s2->h.listener_pid);
}

static void gather(struct report *r)
{
  struct svstate *st = &r->st;
  long lpid = 0;
  gather_supervisor(r);
  snap_take(&r->s1);
  if (r->s1.ok) {
    lpid = (long)r->s1.h.listener_pid;
    r->lalive = pid_alive(lpid);
    if (st->known && st->up && st->pid != lpid) r->lalive = 0;   /* a scoreboard left by an earlier instance */
    if (st->known && !st->up) r->lalive = 0;
  }
  /* up: the supervisor says so; when it cannot be asked (a user without
   * access to supervise/), the scoreboard's listener is alive */
  r->up = st->known ? st->up : r->lalive;
  if (!st->known && r->lalive) st->pid = lpid;
  if (r->lalive && st->since < 0) st->since = now_s() - r->s1.h.start_us / 1e6;
  if (r->s1.ok && r->lalive && C.interval > 0) {
    msleep((int)(C.interval * 1000));
    snap_take(&r->s2);
    if (!r->s2.ok || r->s2.h.listener_pid != r->s1.h.listener_pid) { free(r->s2.s); r->s2 = r->s1; r->s1.s = 0; }
  } else { r->s2 = r->s1; r->s1.s = 0; }
  if (r->s2.ok && r->lalive) gather_workers(r);
}

/* a busy worker's time on its request, -1 when it has none */
static double request_age(const struct snap *sn, const struct riap_sb_slot *w)
{
  return (w->state == RIAP_SB_CALLING || w->state == RIAP_SB_WRITING) && w->request_us
           ? sn->t - w->request_us / 1e6 : -1;
}

static json_t *json_supervisor(const struct report *r)
{
  const struct svstate *st = &r->st;
  int up = r->up;
  json_t *o = json_object();
  json_object_set_new(o, C.dir ? "service" : "pid_file", json_string(r->where));
  json_object_set_new(o, "supervisor", r->b ? json_string(r->b->name) : json_null());
  json_object_set_new(o, "supervisor_known", json_boolean(st->known));
  json_object_set_new(o, "supervisor_error", st->known || !r->b ? (st->known ? json_null() : jstr(st->why)) : jstr(st->why));
  json_object_set_new(o, "up", json_boolean(up));
  json_object_set_new(o, "pid", up && st->pid > 0 ? json_integer(st->pid) : json_null());
  json_object_set_new(o, up ? "uptime" : "downtime", jnum_or_null(st->since));
  json_object_set_new(o, "ready", up ? jtri(st->ready) : json_false());
  json_object_set_new(o, "ready_for", up ? jnum_or_null(st->ready_since) : json_null());
  json_object_set_new(o, "wanted_up", jtri(st->want_up));
  json_object_set_new(o, "normally_up", jtri(st->normally_up));
  json_object_set_new(o, "exitcode", !up && st->exitcode >= 0 ? json_integer(st->exitcode) : json_null());
  json_object_set_new(o, "signal", !up && st->signum > 0 ? json_integer(st->signum) : json_null());
  return o;
}

static json_t *json_workers(const struct snap *s2)
{
  json_t *ws = json_array();
  unsigned i;
  for (i = 0; i < s2->h.nslots; i++) {
    const struct riap_sb_slot *w = &s2->s[i];
    char code[2] = { w->state, 0 };
    if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
    json_array_append_new(ws, json_pack("{s:i,s:I,s:s,s:s,s:b,s:i,s:I,s:I,s:I,s:I,s:o,s:o,s:o,s:o,s:o}",
      "slot", (int)i, "pid", (json_int_t)w->pid, "state", state_name(w->state), "state_code", code,
      "busy", busy(w->state), "generation", (int)w->generation,
      "requests", (json_int_t)w->requests, "connections", (json_int_t)w->connections,
      "bytes_in", (json_int_t)w->bytes_in, "bytes_out", (json_int_t)w->bytes_out,
      "peer", w->peer[0] ? jstr(w->peer) : json_null(),
      "action", w->action[0] ? jstr(w->action) : json_null(),
      "uri", w->uri[0] ? jstr(w->uri) : json_null(),
      "age", jnum_or_null(request_age(s2, w)),
      "uptime", jnum_or_null(w->start_us ? s2->t - w->start_us / 1e6 : -1)));
  }
  return ws;
}

static json_t *json_totals(const struct report *r)
{
  const struct snap *s2 = &r->s2;
  int lt = s2->ok && r->lalive && s2->has_tot;
  json_t *tot = json_pack("{s:i,s:i,s:i,s:i,s:i,s:o,s:I,s:o,s:o}", "workers", (int)r->nw, "busy", (int)r->nbusy,
                          "idle", (int)r->nidle, "starting", (int)r->nstart, "retiring", (int)r->nretire,
                          "requests", lt ? json_integer((json_int_t)s2->sum.requests) : json_null(),
                          "requests_live", (json_int_t)r->reqs,
                          "rate", r->rate < 0 ? json_null() : json_real((double)(long long)(r->rate * 100) / 100),
                          "interval", r->s1.s ? json_real((double)(long long)(r->interval * 1000) / 1000) : json_null());
  json_object_set_new(tot, "connections", lt ? json_integer((json_int_t)s2->sum.connections) : json_null());
  json_object_set_new(tot, "bytes_in", lt ? json_integer((json_int_t)s2->sum.bytes_in) : json_null());
  json_object_set_new(tot, "bytes_out", lt ? json_integer((json_int_t)s2->sum.bytes_out) : json_null());
  json_object_set_new(tot, "workers_gone", lt ? json_integer((json_int_t)s2->tot.workers) : json_null());
  json_object_set_new(tot, "accepted", lt ? json_integer((json_int_t)s2->tot.accepted) : json_null());
  json_object_set_new(tot, "refused", lt ? json_integer((json_int_t)s2->tot.refused) : json_null());
  json_object_set_new(tot, "waiting", lt ? json_integer(s2->tot.waiting) : json_null());
  json_object_set_new(tot, "queue", r->queue < 0 ? json_null() : json_integer(r->queue));
  json_object_set_new(tot, "draining", lt ? json_boolean(s2->tot.draining) : json_null());
  json_object_set_new(tot, "fds_lost", lt ? json_integer(s2->tot.fds_lost) : json_null());
  if (s2->ok && r->lalive && s2->has_park) {
    json_object_set_new(tot, "parked", json_integer(s2->park.parked));
    json_object_set_new(tot, "parks", json_integer(s2->park.parks));
    json_object_set_new(tot, "parked_oldest_idle", s2->park.parked && s2->park.oldest_us
                        ? json_real((double)(long long)((s2->t - s2->park.oldest_us / 1e6) * 1000) / 1000) : json_null());
  }
  return tot;
}

static void report_json(const struct report *r)
{
  const struct snap *s2 = &r->s2;
  json_t *o = json_supervisor(r);
  char *out;
  if (s2->ok && r->lalive) {
    json_t *sb = json_pack("{s:s,s:o,s:I,s:i,s:i,s:f}", "path", C.sbpath, "name", jstr(s2->h.name),
                           "listener_pid", (json_int_t)s2->h.listener_pid, "generation", (int)s2->h.generation,
                           "slots", (int)s2->h.nslots, "started", s2->h.start_us / 1e6);
    json_object_set_new(o, "scoreboard", sb);
    json_object_set_new(o, "scoreboard_error", json_null());
  } else {
    json_object_set_new(o, "scoreboard", json_null());
    json_object_set_new(o, "scoreboard_error",
                        s2->ok ? json_string("left by a listener that is not running") : jstr(s2->why));
  }
  json_object_set_new(o, "workers", s2->ok && r->lalive ? json_workers(s2) : json_array());
  json_object_set_new(o, "totals", json_totals(r));
  out = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
  if (out) puts(out);
  free(out);
  json_decref(o);
}

/* the first line: up or down, since when, ready, what the supervisor wants */
static void text_supervisor(const struct report *r)
{
  const struct svstate *st = &r->st;
  char a[32], rd[32];
  fmt_secs(a, sizeof a, st->since);
  fmt_secs(rd, sizeof rd, st->ready_since);
  if (r->up) {
    printf("%s: up (pid %ld) %s, %s", r->where, st->pid, a,
           st->ready == 1 ? "ready" : st->ready == 0 ? "not ready" : "readiness unknown");
    if (st->ready == 1 && st->ready_since >= 0) printf(" %s", rd);
    if (st->want_up == 0) printf(", want down");
    if (st->normally_up == 0) printf(", normally down");
  } else {
    printf("%s: down", r->where);
    if (st->known && st->since >= 0) printf(" %s", a);
    if (st->exitcode >= 0 && st->since >= 0) printf(", last exit %d", st->exitcode);
    if (st->signum > 0) printf(", last killed by signal %d", st->signum);
    if (st->want_up == 1) printf(", want up");
    if (st->normally_up == 1) printf(", normally up");
  }
  printf(" [%s]\n", r->b ? r->b->name : "not supervised");
  if (!st->known && r->b) printf("  supervisor: %s\n", st->why);
}

/* one row a live worker */
static void text_workers(const struct snap *s2)
{
  unsigned i;
  printf("  %-4s %-8s %-9s %-3s %8s  %-22s %-10s %-24s %s\n", "SLOT", "PID", "STATE", "GEN", "REQS", "PEER", "ACTION", "URI", "AGE");
  for (i = 0; i < s2->h.nslots; i++) {
    const struct riap_sb_slot *w = &s2->s[i];
    char a[32], pe[100], ac[40], ur[310];
    if (w->state == RIAP_SB_EMPTY || w->pid <= 0) continue;
    fmt_secs(a, sizeof a, request_age(s2, w));
    printf("  %-4u %-8lld %-9s %-3u %8llu  %-22s %-10s %-24s %s\n", i, (long long)w->pid, state_name(w->state),
           w->generation, (unsigned long long)w->requests, w->peer[0] ? clean(w->peer, pe, sizeof pe) : "-",
           w->action[0] ? clean(w->action, ac, sizeof ac) : "-", w->uri[0] ? clean(w->uri, ur, sizeof ur) : "-", a);
  }
}

static void text_totals(const struct report *r)
{
  const struct snap *s2 = &r->s2;
  char a[32];
  printf("  workers %u: %u busy, %u idle, %u starting, %u retiring", r->nw, r->nbusy, r->nidle, r->nstart, r->nretire);
  if (s2->unreadable) printf(", %u unreadable", s2->unreadable);
  if (s2->has_tot) printf("; requests %llu (%llu by the live workers)", (unsigned long long)s2->sum.requests, r->reqs);
  else printf("; requests by the live workers %llu", r->reqs);
  if (r->rate >= 0) printf(", %.1f/s over %.1fs", r->rate, r->interval);
  printf("\n");
  if (s2->has_tot) {
    printf("  connections %llu accepted, %llu refused; waiting for a worker %u",
           (unsigned long long)s2->tot.accepted, (unsigned long long)s2->tot.refused, s2->tot.waiting);
    if (r->queue >= 0) printf(", in the kernel's queue %ld", r->queue);
    if (s2->tot.fds_lost) printf("; %u lost at the fd limit", s2->tot.fds_lost);
    printf("\n");
    if (s2->tot.draining) printf("  draining: health checks answered 503 (riap-ctl undrain ends it)\n");
  } else if (r->queue >= 0) printf("  kernel's queue %ld\n", r->queue);
  if (s2->has_park) {
    printf("  parked connections %u", s2->park.parked);
    if (s2->park.parked && s2->park.oldest_us) {
      fmt_secs(a, sizeof a, s2->t - s2->park.oldest_us / 1e6);
      printf(", oldest idle %s", a);
    }
    printf("; %u hand-backs so far\n", s2->park.parks);
  }
}

static void report_text(const struct report *r)
{
  const struct snap *s2 = &r->s2;
  text_supervisor(r);
  if (s2->ok && r->lalive) {
    char a[32], nm[80];
    fmt_secs(a, sizeof a, s2->t - s2->h.start_us / 1e6);
    printf("  scoreboard %s: %s, listener pid %lld, generation %u, started %s ago\n", C.sbpath,
           clean(s2->h.name, nm, sizeof nm), (long long)s2->h.listener_pid, s2->h.generation, a);
    text_workers(s2);
    text_totals(r);
  } else if (r->up) {
    printf("  scoreboard: %s\n", s2->ok ? "left by a listener that is not running" : s2->why);
  }
}

int status(const struct backend *b)
{
  struct report r;
  int up;
  memset(&r, 0, sizeof r);
  r.b = b;
  r.where = C.dir ? C.dir : C.pidfile;
  r.rate = -1;
  r.queue = -1;
  gather(&r);
  if (C.json) report_json(&r);
  else report_text(&r);
  up = r.up;
  free(r.s1.s);
  free(r.s2.s);
  return up ? 0 : EXIT_DOWN;
}
