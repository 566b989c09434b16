/* pool.c: the workers: spawning (with back-off), the queue of accepted
 * connections, dispatch over the control channels, growth and idle
 * retirement, reload by generation, stop, reaping. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_chan.h"
#include "riap_exec.h"
#include "riap_time.h"
#include "riap_workerenv.h"
#include "listen.h"

static unsigned min_workers(void) { return G.c.start_servers ? G.c.start_servers : 1; }

static struct riap_sb_slot *sbslot(unsigned i) { return G.have_sb ? riap_sb_slot(&G.sb, i) : 0; }

void pool_init(void)
{
  unsigned i;
  G.wk = calloc(G.nslots, sizeof *G.wk);
  if (!G.wk) die(111, "fatal: out of memory");
  for (i = 0; i < G.nslots; i++) G.wk[i].ctl = -1;
  G.gen = 1;
  if (G.have_sb) riap_sb_setgen(&G.sb, G.gen);
}

unsigned pool_live(void)
{
  unsigned i, n = 0;
  for (i = 0; i < G.nslots; i++) if (G.wk[i].st != WK_FREE) n++;
  return n;
}

static long long ms(double secs) { return (long long)(secs * 1000 + 0.5); }

/* in a new worker, before exec: its settings (lib/riap_workerenv.c) */
static int worker_env(unsigned slot)
{
  struct riap_workerenv e;
  riap_workerenv_defaults(&e);
  e.control_fd = 3;
  e.slot = slot;
  e.generation = G.gen;
  e.max_requests = G.c.max_requests;
  e.timeout_ms = ms(G.c.timeout);
  e.idle_timeout_ms = ms(G.c.idle_timeout >= 0 ? G.c.idle_timeout : G.c.timeout);
  e.read_timeout_ms = ms(G.c.read_timeout);
  e.write_timeout_ms = ms(G.c.write_timeout);
  e.park_delay_ms = G.c.park ? ms(G.c.park_delay) : -1;
  e.scoreboard = G.have_sb ? G.c.scoreboard_path : 0;
  e.name = G.c.name;
  privs_worker_env(&e);
  return riap_workerenv_write(&e);
}

static void spawn(unsigned slot)
{
  struct wk *w = &G.wk[slot];
  struct epoll_event ev;
  int sp[2];
  pid_t pid;

  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
    warn_limited("unable to create a control channel: ", strerror(errno), "");
    G.spawn_after = riap_time_monoms() + BACKOFF_MIN_MS;
    return;
  }
  riap_sb_assign(sbslot(slot), G.gen);
  pid = fork();
  if (pid < 0) {
    warn_limited("unable to fork: ", strerror(errno), "");
    G.spawn_after = riap_time_monoms() + BACKOFF_MIN_MS;
    close(sp[0]); close(sp[1]);
    riap_sb_clear(sbslot(slot));
    return;
  }
  if (pid == 0) {
    riap_sb_setpid(sbslot(slot), (long)getpid());   /* the slot's only writer from now on */
    signals_child();
    setpgid(0, 0);                                   /* the terminal's ^C is the listener's to handle */
    dup2(G.devnull, 0);
    logger_child();                                  /* 1 and 2: riap-log's pipe, blocking */
    /* the channel becomes fd 3, the only fd the worker inherits beyond 0-2:
     * not the notification fd, nor what our own parent left open */
    if (sp[1] == 3 ? fcntl(3, F_SETFD, 0) < 0 : dup2(sp[1], 3) < 0) _exit(111);
    riap_exec_closefrom(4);
    if (!worker_env(slot)) {
      carp("fatal: unable to set the worker's environment: ", strerror(errno));
      _exit(111);
    }
    if (!G.c.chroot && !privs_drop()) {             /* --user: never exec as root by mistake */
      carp("fatal: unable to switch to --user/--group: ", strerror(errno));
      _exit(111);
    }
    execvp(G.c.cmd[0], G.c.cmd);
    carp("fatal: unable to run ", G.c.cmd[0], ": ", strerror(errno));
    _exit(111);
  }
  close(sp[1]);
  fcntl(sp[0], F_SETFL, O_NONBLOCK);
  memset(w, 0, sizeof *w);
  w->pid = pid;
  w->ctl = sp[0];
  w->st = WK_STARTING;
  w->gen = G.gen;
  w->since = riap_time_monoms();
  ev.events = EPOLLIN;
  ev.data.u64 = (uint64_t)EV_WORKER << 32 | slot;
  if (epoll_ctl(G.ep, EPOLL_CTL_ADD, w->ctl, &ev) < 0) diesys(111, "fatal: epoll_ctl");
}

static int free_slot(void)
{
  unsigned i;
  for (i = 0; i < G.nslots; i++) if (G.wk[i].st == WK_FREE) return (int)i;
  return -1;
}

static void close_ctl(struct wk *w)
{
  if (w->ctl >= 0) close(w->ctl);      /* leaves the epoll set with it */
  w->ctl = -1;
}

static int send_plain(struct wk *w, unsigned type)
{
  struct riap_chan_msg m;
  memset(&m.h, 0, sizeof m.h);
  m.h.type = (uint16_t)type;
  if (w->ctl < 0 || !riap_chan_send(w->ctl, &m, -1)) return 0;
  return 1;
}

/* tells w to go: RETIRE (after its connection) or STOP (after its request) */
static void tell(struct wk *w, unsigned type)
{
  if (w->told && type == RIAP_CHAN_RETIRE) return;
  if (w->told == (int)type) return;
  send_plain(w, type);
  w->told = (int)type;
  if (w->st == WK_IDLE || w->st == WK_STARTING) w->st = WK_EXITING;
}

/* an idle worker: the current generation first, the most recently idle */
static struct wk *pick_idle(void)
{
  struct wk *best = 0;
  unsigned i;
  for (i = 0; i < G.nslots; i++) {
    struct wk *w = &G.wk[i];
    if (w->st != WK_IDLE || w->told) continue;
    if (!best || (w->gen == G.gen && best->gen != G.gen)
        || (w->gen == best->gen && w->since > best->since)) best = w;
  }
  return best;
}

static void dispatch(void)
{
  static struct riap_chan_msg m;       /* 16 KiB of data tail: not on the stack */
  int fd;
  while ((fd = conns_head()) >= 0) {
    struct cn *c = &G.cn[fd];
    struct wk *w = pick_idle();
    if (!w) return;
    riap_chan_setconn(&m, c->id, c->li, &c->peer);
    if (c->nopark) m.h.flags = RIAP_CHAN_NOPARK;
    if (c->datalen) {
      m.u.conn.datalen = c->datalen;
      memcpy(m.data, c->data, c->datalen);
    }
    if (!riap_chan_send(w->ctl, &m, fd)) {
      /* the worker is gone or broken: never hand this connection to two;
       * the connection stays first in line for the next worker */
      char num[24];
      snprintf(num, sizeof num, "%ld", (long)w->pid);
      carp("warning: worker ", num, ": unable to pass it a connection: ", strerror(errno), "; closing its channel");
      w->st = WK_EXITING;
      w->told = RIAP_CHAN_STOP;
      close_ctl(w);
      continue;
    }
    w->st = WK_BUSY;
    w->conn = c->id;
    w->li = c->li;
    w->peer = c->peer;
    w->addr = c->addr;                 /* counted in its workers since it became ready */
    w->yielded = 0;
    w->handed = riap_time_monoms();
    w->begun = c->datalen ? c->begun : 0;
    conns_taken();                     /* closed here: the worker holds it now */
    if (G.stopping) tell(w, RIAP_CHAN_STOP);
  }
}

/* connections wait and no worker is free: the busy ones are asked to park
 * theirs as soon as it is idle, instead of after --park-delay; and so are
 * those of an address whose other connections are held, so that its own
 * connections take turns. Each keeps its connection for --time-slice
 * first: handing a busy connection back after every answer costs two
 * more wake-ups and an fd passed twice per request, more than the request
 * itself when the function is fast. Returns the ms until the next slice
 * ends, -1 when none is due. */
static long yield(unsigned starting, long long t)
{
  unsigned i;
  long next = -1;
  long long slice = (long long)(G.c.time_slice * 1000);
  int all = G.qlen > starting;
  if (!G.c.park || (!all && !G.nheld)) return -1;
  for (i = 0; i < G.nslots; i++) {
    struct wk *w = &G.wk[i];
    long long left;
    if (w->st != WK_BUSY || w->yielded || w->told) continue;
    if (!all && !(w->addr && w->addr->held.head >= 0)) continue;
    left = w->handed + slice - t;
    if (left > 0) {
      if (next < 0 || left < next) next = (long)left;
      continue;
    }
    if (send_plain(w, RIAP_CHAN_YIELD)) w->yielded = 1;
  }
  return next;
}

static void counts(unsigned *cur, unsigned *idle, unsigned *starting, int *cur_ready)
{
  unsigned i;
  *cur = *idle = *starting = 0;
  *cur_ready = 0;
  for (i = 0; i < G.nslots; i++) {
    struct wk *w = &G.wk[i];
    if (w->gen != G.gen || w->told || w->st == WK_FREE || w->st == WK_EXITING) continue;
    (*cur)++;
    if (w->st == WK_IDLE) (*idle)++;
    if (w->st == WK_STARTING) (*starting)++;
    else *cur_ready = 1;
  }
}

/* after a reload, the old generation goes once the new one serves */
static void retire_old(void)
{
  unsigned i;
  for (i = 0; i < G.nslots; i++) {
    struct wk *w = &G.wk[i];
    if (w->st != WK_FREE && w->gen != G.gen && !w->told) tell(w, RIAP_CHAN_RETIRE);
  }
}

static void kill_all(int sig)
{
  unsigned i;
  for (i = 0; i < G.nslots; i++) if (G.wk[i].pid > 0 && G.wk[i].st != WK_FREE) kill(G.wk[i].pid, sig);
}

/* TERM: each worker is told to stop once the queue allows, then after
 * --grace terminated, then killed; returns ms until it wants to run again */
static long stop_tick(long long t)
{
  long wait = -1;
  unsigned i;
  for (i = 0; i < G.nslots; i++) {
    struct wk *w = &G.wk[i];
    if (w->st == WK_FREE) continue;
    if (w->st == WK_BUSY || (w->st != WK_STARTING && !G.qlen)) tell(w, RIAP_CHAN_STOP);
  }
  if (t >= G.stop_deadline) conns_drop_ready();   /* nobody will take them now */
  if (t >= G.stop_deadline && pool_live()) {
    if (!G.kill_at) {
      carp("warning: grace period over: terminating the workers still running");
      kill_all(SIGTERM);
      G.kill_at = t + 1000;
    } else if (t >= G.kill_at) {
      kill_all(SIGKILL);
      G.kill_at = t + 1000;
    }
    wait = 100;
  } else if (pool_live()) {
    wait = (long)(G.stop_deadline - t);
  }
  return wait;
}

/* spawn: the minimum, then as many as there are connections waiting;
 * *cur counts the new ones; returns wait, or sooner for the back-off */
static long spawn_more(long long t, unsigned *cur, unsigned idle, unsigned starting, long wait)
{
  unsigned want = min_workers();
  unsigned demand = G.qlen > idle + starting ? G.qlen - (idle + starting) : 0;
  if (*cur + demand > want || G.stopping) want = *cur + demand;
  if (want > G.c.max_clients) want = G.c.max_clients;
  while (*cur < want) {
    int s;
    if (t < G.spawn_after) {
      long w = (long)(G.spawn_after - t);
      if (wait < 0 || w < wait) wait = w;
      break;
    }
    s = free_slot();
    if (s < 0) break;                 /* retiring workers still hold the slots */
    spawn((unsigned)s);
    if (G.wk[s].st == WK_FREE) break; /* spawn failed: back-off set */
    (*cur)++;
  }
  return wait;
}

/* idle retirement: extra workers idle too long go, one at a time; returns
 * wait, or sooner for the next one due */
static long retire_idle(long long t, unsigned cur, long wait)
{
  long long limit = (long long)(G.c.spare_timeout * 1000), due;
  struct wk *oldest = 0;
  unsigned i;
  if (cur <= min_workers() || G.c.max_clients <= 1) return wait;
  for (i = 0; i < G.nslots; i++) {
    struct wk *w = &G.wk[i];
    if (w->st == WK_IDLE && !w->told && w->gen == G.gen && (!oldest || w->since < oldest->since)) oldest = w;
  }
  if (!oldest) return wait;
  due = oldest->since + limit;
  if (due < G.last_retire + RETIRE_GAP_MS) due = G.last_retire + RETIRE_GAP_MS;
  if (t >= due) {
    tell(oldest, RIAP_CHAN_RETIRE);
    G.last_retire = t;
    due = t + RETIRE_GAP_MS;
  }
  if (due < t) due = t;
  if (wait < 0 || due - t < wait) wait = (long)(due - t);
  return wait;
}

long pool_tick(void)
{
  long long t = riap_time_monoms();
  long wait = -1, due;
  unsigned cur, idle, starting;
  int cur_ready;

  dispatch();
  counts(&cur, &idle, &starting, &cur_ready);
  if (cur_ready || G.stopping) retire_old();
  if (G.stopping) {
    wait = stop_tick(t);
    if (!G.qlen) return wait < -1 ? 0 : wait;
  }
  wait = spawn_more(t, &cur, idle, starting, wait);
  if (!G.stopping) wait = retire_idle(t, cur, wait);
  dispatch();
  counts(&cur, &idle, &starting, &cur_ready);
  due = yield(starting, riap_time_monoms());
  if (due >= 0 && (wait < 0 || due < wait)) wait = due;
  due = conns_tick();
  if (due >= 0 && (wait < 0 || due < wait)) wait = due;
  return wait < -1 ? 0 : wait;
}

static void ready(unsigned slot, uint32_t timeout_ms)
{
  struct wk *w = &G.wk[slot];
  if (G.c.chroot && !w->ready && !privs_confined(w->pid)) {
    kill(w->pid, SIGKILL);             /* never a connection; reaped as dying before it was ready */
    close_ctl(w);
    return;
  }
  w->ready = 1;
  /* riap-handle --idle-timeout (or --timeout) on its command line wins */
  if (w->gen == G.gen && timeout_ms) G.idle_ms = timeout_ms == UINT32_MAX ? IDLE_NEVER : timeout_ms;
  if (w->st != WK_STARTING) return;
  w->st = WK_IDLE;
  w->since = riap_time_monoms();
  G.fails = 0;
  G.spawn_after = 0;
  if (w->gen == 1) G.ready_count++;
  if (!G.ready_sent && G.ready_count >= min_workers()) ready_tell();
}

/* a PARK whose connection the kernel could not give us (MSG_CTRUNC: our
 * fd limit; the worker let it go, so it is closed): a shortage, not the
 * worker's fault. That connection ends, counted and said at most once a
 * second; the worker goes on. */
static void fd_lost(const struct wk *w)
{
  static long long said;
  long long t = riap_time_monoms();
  char label[RIAP_PEER_FMT], num[24], pid[24];
  G.fds_lost++;
  conns_publish_state();
  access_end(w->addr);
  if (said && t - said < 1000) return;
  said = t;
  riap_peer_fmt(label, &w->peer);
  snprintf(num, sizeof num, "%lu", G.fds_lost);
  snprintf(pid, sizeof pid, "%ld", (long)w->pid);
  carp("warning: at the fd limit (RLIMIT_NOFILE): the connection of ", label, " handed back by worker ", pid,
       " could not be received (MSG_CTRUNC) and is closed; ", num, " so far");
}

void pool_readable(unsigned slot)
{
  static struct riap_chan_msg m;       /* 16 KiB of data tail: not on the stack */
  struct wk *w = &G.wk[slot];
  int k;
  for (k = 0; k < 64 && w->ctl >= 0; k++) {
    int fd, rc = riap_chan_recv(w->ctl, &m, &fd);
    int lost = rc < 0 && errno == EMFILE;    /* whole, but its fd could not be ours */
    if (rc < 0 && (errno == EAGAIN || errno == EINTR)) return;
    /* a worker that exits with messages of ours unread (a RETIRE, a YIELD)
     * makes the next recv fail once with ECONNRESET: what it sent before
     * (a PARK with its connection) still follows, read it */
    if (rc < 0 && errno == ECONNRESET) continue;
    if (rc == 0 || (rc < 0 && errno != EPROTO && !lost)) {   /* it closed its end: exiting */
      if (w->st != WK_FREE) w->st = WK_EXITING;
      close_ctl(w);
      return;
    }
    if ((rc < 0 && !lost) || (m.h.type != RIAP_CHAN_READY && m.h.type != RIAP_CHAN_DONE
                   && !(m.h.type == RIAP_CHAN_PARK && G.c.park && w->st == WK_BUSY))) {
      char num[24];
      snprintf(num, sizeof num, "%ld", (long)w->pid);
      carp("error: worker ", num, ": ", rc < 0 ? "malformed control message" : "unexpected control message ",
           rc < 0 ? "" : riap_chan_typename(m.h.type), "; killing it");
      if (fd >= 0) close(fd);
      kill(w->pid, SIGKILL);
      w->st = WK_EXITING;
      close_ctl(w);
      return;
    }
    if (m.h.type == RIAP_CHAN_READY) { ready(slot, m.u.ready.timeout_ms); continue; }
    /* DONE, or PARK: the connection comes back to us */
    conns_worker_free(w->addr);        /* its address's next held connection first */
    if (m.h.type == RIAP_CHAN_PARK) {
      if (m.u.park.requests) w->begun = 0;     /* a new request began since */
      if (lost) fd_lost(w);
      else conns_parked(fd, w, m.data, m.u.park.datalen);
    } else if (w->conn) {
      access_end(w->addr);             /* closed by the worker */
    }
    w->conn = 0;
    w->addr = 0;
    w->yielded = 0;
    if ((m.h.flags & RIAP_CHAN_EXITING) || w->told) w->st = WK_EXITING;
    else { w->st = WK_IDLE; w->since = riap_time_monoms(); }
  }
}

/* a worker that exited: what it sent before (a DONE, a PARK with its
 * connection) is read before its channel is closed, for closing the
 * channel with a PARK unread would close that connection under its client */
static void drain(unsigned slot)
{
  int k;
  for (k = 0; k < 16 && G.wk[slot].ctl >= 0; k++) pool_readable(slot);
}

void pool_reap(void)
{
  for (;;) {
    siginfo_t si;
    int status;
    unsigned i;
    pid_t pid;
    /* look first, reap after: a worker that exited while we were busy
     * elsewhere may have a PARK in its channel that epoll has not shown us
     * yet; while it stays a zombie its pid is nobody else's */
    memset(&si, 0, sizeof si);
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid <= 0) return;
    pid = si.si_pid;
    for (i = 0; i < G.nslots; i++) if (G.wk[i].pid == pid && G.wk[i].st != WK_FREE) break;
    if (i < G.nslots) drain(i);
    while (waitpid(pid, &status, 0) < 0)
      if (errno != EINTR) return;
    if (pid == G.log_pid) { logger_reaped(status); continue; }
    if (i == G.nslots) continue;
    {
      struct wk *w = &G.wk[i];
      char num[24], how[48];
      snprintf(num, sizeof num, "%ld", (long)pid);
      riap_exec_describe(how, sizeof how, status);
      if (!w->ready) {
        long back;
        G.fails++;
        back = BACKOFF_MIN_MS << (G.fails > 6 ? 6 : G.fails - 1);
        if (back > BACKOFF_MAX_MS) back = BACKOFF_MAX_MS;
        G.spawn_after = riap_time_monoms() + back;
        warn_limited("worker ", num, " died before it was ready; spawning more slowly");
        (void)how;
      } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !(G.stopping && G.kill_at)) {
        /* w->conn, not WK_BUSY: the channel's EOF may come first and make it
         * WK_EXITING (now that its functions no longer hold the channel open) */
        carp("warning: worker ", num, " ", how, w->conn ? " while serving a connection (closed with it)" : "");
      } else if (w->conn && !(G.stopping && G.kill_at)) {
        carp("warning: worker ", num, " ", how, " without handing its connection back (closed with it)");
      }
      close_ctl(w);
      if (w->conn) { conns_worker_free(w->addr); access_end(w->addr); }   /* the connection died with it */
      if (G.have_sb) riap_sb_reap(&G.sb, i);   /* its counts to the totals, the slot cleared */
      memset(w, 0, sizeof *w);
      w->ctl = -1;
    }
  }
}

void pool_reload(void)
{
  G.gen++;
  if (G.have_sb) riap_sb_setgen(&G.sb, G.gen);
  G.fails = 0;
  G.spawn_after = 0;
  /* pool_tick spawns the new generation; the old one is retired once a
   * new worker is ready, so nothing waits meanwhile */
}

