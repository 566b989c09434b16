/* listen.h: what the parts of riap-listen share. One process, one event
 * loop (epoll), all state in G. */
#ifndef RIAP_LISTEN_H
#define RIAP_LISTEN_H
#include <stdint.h>
#include <sys/types.h>
#include "riap_peer.h"
#include "riap_scoreboard.h"
#include "riap_sock.h"

#define QUEUE_MAX 128            /* accepted connections waiting for a worker */
#define ACCEPT_BURST 64          /* accepts per socket per wake-up */
#define RETIRE_GAP_MS 25         /* at most one idle retirement per gap */
#define BACKOFF_MIN_MS 100       /* first pause after a worker died at start */
#define BACKOFF_MAX_MS 5000

/* epoll tags: kind << 32 | index */
enum { EV_SIGNAL = 1, EV_LISTEN, EV_WORKER };

struct lsock {                   /* one listening socket */
  struct riap_sockaddr addr;
  int fd;
  int on;                        /* in the epoll set */
  dev_t dev;                     /* Unix: the file we bound, removed on exit */
  ino_t ino;
};

enum wk_state { WK_FREE = 0, WK_STARTING, WK_IDLE, WK_BUSY, WK_EXITING };

struct wk {                      /* one worker; the array index is its slot */
  pid_t pid;
  int ctl;                       /* our end of its channel, -1 once closed */
  enum wk_state st;
  int told;                      /* RETIRE or STOP sent: never given work again */
  int ready;                     /* READY received */
  uint32_t gen;
  long long since;               /* ms: spawned, or idle since */
  uint64_t conn;                 /* connection being served */
  unsigned long requests;
};

struct pending {                 /* an accepted connection in the queue */
  int fd;
  unsigned li;
  uint64_t id;
  struct riap_peer peer;
};

struct conf {
  const char *name;              /* --name, NULL when not given */
  const char *label;             /* name or "riap-listen" */
  unsigned start_servers, max_clients;
  unsigned long max_requests;
  double timeout, spare_timeout, grace;
  int notify_fd;                 /* -1: none */
  int socket_mode;               /* -1: as the umask makes it */
  const char *socket_owner, *socket_group;
  const char *pid_path, *scoreboard_path, *access_log, *error_log;
  int daemonize, require_root;
  char **cmd;                    /* the worker command */
};

struct global {
  struct conf c;
  struct lsock *ls;
  unsigned nls;
  int ep;                        /* epoll, close-on-exec */
  int sigfd;
  int devnull;
  struct riap_sb sb;
  int have_sb;
  struct wk *wk;
  unsigned nslots;
  uint32_t gen;
  struct pending q[QUEUE_MAX * 8];   /* a drain at stop may go past QUEUE_MAX */
  unsigned qhead, qlen;
  uint64_t next_id;
  int stopping;
  long long stop_deadline, kill_at;
  int ready_sent;                /* readiness told */
  int ready_fd2;                 /* --daemonize: the parent waits on this */
  unsigned ready_count;          /* workers of the first generation that became ready */
  unsigned fails;                /* workers in a row that died before ready */
  long long spawn_after;         /* back-off: no spawn before this (ms) */
  long long last_warn, last_retire, accept_after;
  pid_t log_pid;                 /* riap-log, 0 when none */
  int log_rd;                    /* the log pipe's read end, kept for restarts */
  long long log_restart_at;
  char *title; size_t title_len;
};

extern struct global G;

/* main.c */
long long now_ms(void);
/* warn_limited: a warning at most once a second (spawn failures, EMFILE) */
void warn_limited(const char *a, const char *b, const char *c);

/* sockets.c */
/* sockets_add: parses a comma list of TCP (tcp=1) or Unix addresses into
 * G.ls; exits 100 naming a bad one. */
void sockets_add(const char *list, int tcp);
/* sockets_bind: binds every address (exits 111 naming the one that fails). */
void sockets_bind(void);
/* sockets_watch: puts listening sockets in or out of the epoll set. */
void sockets_watch(int on);
/* sockets_accept: accepts on socket i into the queue until it is full. */
void sockets_accept(unsigned i, unsigned limit);
/* sockets_close: closes every listening socket and removes our Unix files. */
void sockets_close(void);

/* pool.c */
void pool_init(void);
/* pool_tick: spawns, retires, dispatches, stops; returns ms until it wants
 * to run again (-1: no timer). */
long pool_tick(void);
void pool_readable(unsigned slot);
void pool_reap(void);
void pool_reload(void);
void pool_stop(void);
/* pool_live: workers still running */
unsigned pool_live(void);
/* queue_push: queues an accepted connection (closing it when full). */
void queue_push(int fd, unsigned li, const struct riap_peer *p);

/* signals.c */
/* signals_open: blocks TERM INT HUP CHLD and returns a signalfd for them. */
int signals_open(void);
/* signals_child: in a new child, before exec: the usual mask and dispositions. */
void signals_child(void);
/* signals_read: reads what arrived; sets *term, *hup, *chld. */
void signals_read(int fd, int *term, int *hup, int *chld);

/* daemon.c */
void title_init(int argc, char **argv);
void title_set(const char *s);
void ready_tell(void);
void pidfile_write(void);
void pidfile_remove(void);
/* daemonize: forks; the parent exits once the child is ready. */
void daemonize(void);
/* logger_start: spawns riap-log for --access-log-path/--error-log-path and
 * makes its pipe our fd 1 and 2. */
void logger_start(void);
void logger_reaped(int status);
void logger_finish(void);
const char *default_path(const char *suffix);

#endif
