/* worker.c: worker mode. Started by riap-listen with RIAP_CONTROL_FD in the
 * environment, riap-handle receives connections over that channel
 * (riap-channel(5)), serves each with serve_conn_park, hands it back
 * (PARK) once it is idle or closes it (DONE), and keeps its scoreboard slot
 * (riap-scoreboard(5)) up to date. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_chan.h"
#include "riap_time.h"
#include "riap_workerenv.h"
#include "handle.h"

struct worker {
  int ctl;                      /* the control channel */
  int watch;                    /* watch it while serving a connection */
  int ending;                   /* STOP or EOF: end once every request read is answered */
  int retiring;                 /* RETIRE: exit after the current connection */
  unsigned long max_requests;   /* 0: no limit */
  long park_ms;                 /* RIAP_PARK_DELAY: idle ms before parking; -1: never park */
  int yield;                    /* YIELD: park as soon as idle (once this connection progressed) */
  int nopark;                   /* CONN flag NOPARK: not before a request is answered */
  unsigned long answered0;      /* s->answered when the connection came */
  struct riap_sb sb;
  const char *name;             /* process titles when set (RIAP_NAME) */
  char *title;                  /* the argv area, title_len bytes */
  size_t title_len;
  char **argv, **envp;          /* as we were started (copies), to exec ourselves anew */
};

extern char **environ;

/* copies of argv and environ before process titles and unsetenv change them */
static char **strv_copy(char **v)
{
  size_t n = 0, i;
  char **c;
  while (v[n]) n++;
  if (!(c = calloc(n + 2, sizeof *c))) return 0;   /* one more slot: RIAP_MOUNT_FDS */
  for (i = 0; i < n; i++)
    if (!(c[i] = strdup(v[i]))) return 0;
  return c;
}

/* recycling that keeps the backends: at its request limit, a worker with
 * running riap+pipe mount backends (--start-persistent, no chroot: the
 * program must be reachable) execs riap-handle anew in its own process,
 * handing the backends down (mount_handdown), instead of exiting: the
 * listener sees the same worker, idle (its last DONE or PARK does not say
 * EXITING; what it sends meanwhile waits in the channel), and the next
 * request finds the backend loaded and warm (a Perl backend's start, and
 * its first call of each function, cost 100 ms and more). The new image
 * does not say READY again. reexec_prepare returns 1 when that is the way. */
static int reexec_prepare(struct server *s, struct worker *w)
{
  static stralloc fds;
  size_t i, j;
  if (!s->start_persistent || s->chroot || !w->argv || !w->envp) return 0;
  if (!stralloc_copys(&fds, "RIAP_MOUNT_FDS=") || mount_handdown(&fds) <= 0 || !stralloc_0(&fds)) return 0;
  if (fcntl(w->ctl, F_SETFD, 0) < 0) return 0;
  if (s->log_fd > 2) fcntl(s->log_fd, F_SETFD, 0);   /* --log-fd N: still N in the new image */
  for (i = j = 0; w->envp[i]; i++)
    if (strncmp(w->envp[i], "RIAP_MOUNT_FDS=", 15)) w->envp[j++] = w->envp[i];
  w->envp[j++] = fds.s;
  w->envp[j] = 0;
  return 1;
}

static void reexec(struct worker *w)
{
  char path[4096];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  /* by its name, so that ps and pgrep still show riap-handle; an upgraded
   * binary's old file is gone: then the running one, by its /proc link */
  if (n > 0) { path[n] = 0; execve(path, w->argv, w->envp); }
  execve("/proc/self/exe", w->argv, w->envp);
  diesys(111, "fatal: unable to exec riap-handle anew");   /* the listener replaces us */
}

/* process titles: ps shows the argv area; overwrite it, never extend it */
static void title_init(struct worker *w, int argc, char **argv)
{
  int i;
  char *end;
  if (!w->name || argc < 1) return;
  end = argv[0];
  for (i = 0; i < argc; i++) {
    if (argv[i] != end) break;                /* not contiguous: stop there */
    end = argv[i] + strlen(argv[i]) + 1;
  }
  w->title = argv[0];
  w->title_len = (size_t)(end - argv[0]);
}

static void title_set(struct worker *w, const char *fmt, ...)
{
  char buf[256];
  va_list ap;
  size_t n;
  int k;
  if (!w->title || w->title_len < 2) return;
  k = snprintf(buf, sizeof buf, "riap-handle [%s] ", w->name);
  va_start(ap, fmt);
  if (k > 0 && (size_t)k < sizeof buf) vsnprintf(buf + k, sizeof buf - (size_t)k, fmt, ap);
  va_end(ap);
  n = strlen(buf);
  if (n > w->title_len - 1) n = w->title_len - 1;
  memcpy(w->title, buf, n);
  memset(w->title + n, 0, w->title_len - n);
}

static void send_msg(struct worker *w, struct riap_chan_msg *m)
{
  if (!riap_chan_send(w->ctl, m, -1)) {
    if (errno == EPIPE || errno == ECONNRESET) _exit(0);   /* the listener is gone */
    diesys(111, "fatal: unable to write to the control channel");
  }
}

/* reads one message that arrived while a connection is served */
static void control_read(struct worker *w)
{
  struct riap_chan_msg m;
  int fd, rc;
  do rc = riap_chan_recv(w->ctl, &m, &fd); while (rc < 0 && errno == EINTR);
  if (rc < 0 && errno == EAGAIN) return;
  if (rc < 0 && errno == EPROTO) die(101, "fatal: malformed control message");
  if (rc < 0 && errno == EMFILE)                 /* a CONN (or PARK) now is a bug, fd or not */
    die(101, "fatal: unexpected control message while serving: ", riap_chan_typename(m.h.type));
  if (rc <= 0 || m.h.type == RIAP_CHAN_STOP) {   /* EOF: the listener is gone */
    w->ending = 1;
    w->watch = 0;
  } else if (m.h.type == RIAP_CHAN_RETIRE) {
    w->retiring = 1;
  } else if (m.h.type == RIAP_CHAN_YIELD) {
    w->yield = 1;
  } else {
    die(101, "fatal: unexpected control message while serving: ", riap_chan_typename(m.h.type));
  }
}


/* parking (riap-channel(5), PARK): a connection whose requests are all
 * answered, or that holds only part of one (up to RIAP_CHAN_DATAMAX bytes),
 * goes back to the listener after park_ms without a byte, at once when the
 * worker retires or reached its request limit, and at once after a YIELD
 * once the connection has had an answer here (so a connection passed on
 * for its request is never passed back unserved: no ping-pong). */
int worker_wait_input(struct server *s, int fd, int busy, size_t pending, unsigned long wait_ms)
{
  struct worker *w = s->worker;
  long long start = riap_time_monoms();
  long long deadline = wait_ms == ULONG_MAX ? LLONG_MAX : start + (long long)wait_ms;
  long long park_at = start + w->park_ms;
  int can_park = w->park_ms >= 0 && pending <= RIAP_CHAN_DATAMAX && !(w->nopark && s->answered == w->answered0);
  riap_sb_state(s->sb, w->ending || w->retiring ? RIAP_SB_RETIRING : RIAP_SB_READING);
  for (;;) {
    struct pollfd p[2] = { { fd, POLLIN, 0 }, { w->ctl, POLLIN, 0 } };
    long long left, t;
    int rc, limit = w->max_requests && s->answered >= w->max_requests;
    if (w->ending) can_park = 0;               /* STOP: idle connections end */
    if (can_park && (w->retiring || limit || (w->yield && s->answered > w->answered0))) return 2;
    if (!busy && (w->ending || limit)) return 0;
    t = riap_time_monoms();
    left = (can_park && park_at < deadline ? park_at : deadline) - t;
    if (left < 0) left = 0;
    rc = poll(p, w->watch ? 2 : 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
    if (rc < 0) {
      if (errno == EINTR) continue;
      return 1;                                /* let read() tell */
    }
    if (rc == 0) {
      t = riap_time_monoms();
      if (can_park && t >= park_at) return 2;
      if (t >= deadline) return 0;
      continue;
    }
    if (p[0].revents) return 1;
    if (p[1].revents) {
      control_read(w);
      if (w->ending || w->retiring) riap_sb_state(s->sb, RIAP_SB_RETIRING);
    }
  }
}

/* a CONN whose fd the kernel could not give us (MSG_CTRUNC: our fd limit):
 * the listener let it go, so that connection is closed; say so (at most
 * once a second) and tell the listener with a DONE of no requests, which
 * ends its accounting of the connection and makes us free again */
static void conn_lost(struct worker *w, const struct riap_chan_msg *in)
{
  static long long said;
  static unsigned long lost;
  struct riap_chan_msg m;
  struct riap_peer peer;
  char label[RIAP_PEER_FMT], num[24];
  long long t = riap_time_monoms();
  lost++;
  if (!said || t - said >= 1000) {
    said = t;
    riap_chan_getpeer(in, &peer);
    riap_peer_fmt(label, &peer);
    snprintf(num, sizeof num, "%lu", lost);
    carp("warning: at the fd limit (RLIMIT_NOFILE): the connection of ", label,
         " passed by the listener could not be received (MSG_CTRUNC) and is closed; ", num, " so far");
  }
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_DONE;
  m.h.id = in->h.id;
  send_msg(w, &m);
}

/* the settings riap-listen passed (lib/riap_workerenv.c); the options on
 * our command line win over them */
static void settings(struct server *s, struct worker *w, unsigned long *slot, unsigned long *gen)
{
  struct riap_workerenv e;
  const char *bad;
  if (!riap_workerenv_read(&e, &bad)) die(111, "fatal: bad ", bad, " in the environment: ", getenv(bad));
  w->ctl = (int)e.control_fd;
  /* riap-listen passes it without close-on-exec, as it must: set it back at
   * once, or every function we run could take connections on it (issue 14) */
  if (w->ctl > 2 && fcntl(w->ctl, F_SETFD, FD_CLOEXEC) < 0) diesys(111, "fatal: bad RIAP_CONTROL_FD");
  *slot = e.slot;
  *gen = e.generation;
  w->max_requests = e.max_requests;
  w->park_ms = (long)e.park_delay_ms;
  w->name = e.name;
  /* a --timeout on the worker command line is its idle timeout too, as it
   * was before --idle-timeout existed; otherwise the listener's */
  if (!s->idle_timeout_ms && s->timeout_ms) s->idle_timeout_ms = s->timeout_ms;
  if (!s->timeout_ms) s->timeout_ms = (unsigned long)e.timeout_ms;
  if (!s->idle_timeout_ms)
    s->idle_timeout_ms = e.idle_timeout_ms < 0 ? s->timeout_ms : e.idle_timeout_ms == 0 ? ULONG_MAX : (unsigned long)e.idle_timeout_ms;
  if (!s->read_timeout_ms) s->read_timeout_ms = (unsigned long)e.read_timeout_ms;
  if (!s->write_timeout_ms) s->write_timeout_ms = (unsigned long)e.write_timeout_ms;
  if (e.chroot) s->chroot = 1;
  if (e.allow_root) s->allow_root = 1;
  if (e.scoreboard) {
    if (!riap_sb_open(&w->sb, e.scoreboard, 1)) diesys(111, "fatal: unable to open the scoreboard ", e.scoreboard);
    s->sb = riap_sb_slot(&w->sb, (unsigned)*slot);
    if (!s->sb) die(111, "fatal: RIAP_SLOT is beyond the scoreboard");
  }
}

int worker_run(struct server *s, int argc, char **argv)
{
  static struct worker w;
  struct riap_chan_msg m;
  unsigned long slot, gen;
  int renewed;

  memset(&w, 0, sizeof w);
  renewed = getenv("RIAP_MOUNT_FDS") != 0;     /* execed anew by reexec (server_start unsets it) */
  w.argv = strv_copy(argv);                    /* before titles and settings change them */
  w.envp = strv_copy(environ);
  settings(s, &w, &slot, &gen);
  if (s->log_fd < 0) s->log_fd = 1;
  w.watch = 1;
  server_start(s);                            /* after the scoreboard: its path is outside ROOT */
  /* the functions this worker runs get none of this (riap-handle passes a
   * clean environment anyway); the channel is close-on-exec since we read
   * RIAP_CONTROL_FD, and riap_exec_spawn closes every fd above 2 besides */
  riap_workerenv_unset();
  s->worker = &w;
  title_init(&w, argc, argv);
  title_set(&w, "idle");
  riap_sb_state(s->sb, RIAP_SB_IDLE);

  if (renewed) goto serve;                    /* the listener knows us: no READY again */
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_READY;
  m.u.ready.pid = s->pid;
  m.u.ready.slot = (uint32_t)slot;
  m.u.ready.generation = (uint32_t)gen;
  m.u.ready.timeout_ms = s->idle_timeout_ms == ULONG_MAX ? UINT32_MAX : (uint32_t)s->idle_timeout_ms;
  send_msg(&w, &m);

serve:
  for (;;) {
    static struct riap_chan_msg back;          /* DONE or PARK, with up to 16 KiB of data */
    struct riap_peer peer;
    struct serve_park sp;
    char label[RIAP_PEER_FMT];
    uint64_t id, in0 = 0, out0 = 0;
    unsigned long n;
    int fd, rc, exiting, renew;

    rc = riap_chan_recv(w.ctl, &m, &fd);
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0 && errno == EPROTO) die(101, "fatal: malformed control message");
    if (rc < 0 && errno == EMFILE && m.h.type == RIAP_CHAN_CONN) { conn_lost(&w, &m); continue; }
    if (rc < 0 && errno == EMFILE) die(101, "fatal: unexpected control message: ", riap_chan_typename(m.h.type));
    if (rc < 0) diesys(111, "fatal: unable to read the control channel");
    if (rc == 0 || m.h.type == RIAP_CHAN_STOP || m.h.type == RIAP_CHAN_RETIRE) break;
    if (m.h.type == RIAP_CHAN_YIELD) continue;  /* meant for the connection just handed back */
    if (m.h.type != RIAP_CHAN_CONN)
      die(101, "fatal: unexpected control message: ", riap_chan_typename(m.h.type));
    id = m.h.id;
    riap_chan_getpeer(&m, &peer);
    riap_peer_fmt(label, &peer);
    if (s->sb) { in0 = s->sb->bytes_in; out0 = s->sb->bytes_out; }
    riap_sb_conn(s->sb, label);
    title_set(&w, "serving %s", label);
    w.yield = 0;
    w.nopark = (m.h.flags & RIAP_CHAN_NOPARK) != 0;
    w.answered0 = s->answered;
    memset(&sp, 0, sizeof sp);
    sp.in = m.data;
    sp.in_len = m.u.conn.datalen;
    sp.out = back.data;
    sp.out_cap = RIAP_CHAN_DATAMAX;
    n = serve_conn_park(s, fd, &peer, &sp);
    exiting = w.ending || w.retiring || (w.max_requests && s->answered >= w.max_requests);
    renew = exiting && !w.ending && !w.retiring && reexec_prepare(s, &w);
    if (renew) exiting = 0;
    memset(&back.h, 0, sizeof back.h);
    back.h.id = id;
    back.h.flags = exiting ? RIAP_CHAN_EXITING : 0;
    if (sp.park) {
      back.h.type = RIAP_CHAN_PARK;
      memset(&back.u.park, 0, sizeof back.u.park);
      back.u.park.requests = n;
      back.u.park.datalen = (uint32_t)sp.out_len;
    } else {
      close(fd);
      fd = -1;
      back.h.type = RIAP_CHAN_DONE;
      back.u.done.requests = n;
      back.u.done.bytes_in = back.u.done.bytes_out = 0;
      if (s->sb) { back.u.done.bytes_in = s->sb->bytes_in - in0; back.u.done.bytes_out = s->sb->bytes_out - out0; }
    }
    riap_sb_state(s->sb, exiting ? RIAP_SB_RETIRING : RIAP_SB_IDLE);
    if (!riap_chan_send(w.ctl, &back, fd)) {
      if (errno == EPIPE || errno == ECONNRESET) _exit(0);   /* the listener is gone */
      diesys(111, "fatal: unable to write to the control channel");
    }
    if (fd >= 0) close(fd);                    /* the listener holds it now */
    if (renew) reexec(&w);
    if (exiting) break;
    title_set(&w, "idle");
  }
  riap_sb_state(s->sb, RIAP_SB_RETIRING);
  riap_tree_close(&s->tree);
  return 0;
}
