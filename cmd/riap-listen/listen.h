/* listen.h: what the parts of riap-listen share. One process, one event
 * loop (epoll), all state in G. */
#ifndef RIAP_LISTEN_H
#define RIAP_LISTEN_H
#include <stdint.h>
#include <sys/types.h>
#include "riap_acl.h"
#include "riap_peer.h"
#include "riap_scoreboard.h"
#include "riap_sock.h"

#define QUEUE_MAX 128            /* accepted connections waiting for a worker */
#define FD_RESERVE 64            /* fds never used for connections (logs, spawning, ...) */
#define PARK_DATA_BUDGET (4 << 20)   /* most bytes of partial requests held while parked */
#define ACCEPT_BURST 64          /* accepts per socket per wake-up */
#define RETIRE_GAP_MS 25         /* at most one idle retirement per gap */
#define BACKOFF_MIN_MS 100       /* first pause after a worker died at start */
#define BACKOFF_MAX_MS 5000

/* epoll tags: kind << 32 | index */
enum { EV_SIGNAL = 1, EV_LISTEN, EV_WORKER, EV_CONN };

struct lsock {                   /* one listening socket */
  struct riap_sockaddr addr;
  int fd;
  int on;                        /* in the epoll set */
  dev_t dev;                     /* Unix: the file we bound, removed on exit */
  ino_t ino;
  int proxy;                     /* --proxy-protocol: a PROXY header comes first (proxy.c) */
  int inherited;                 /* passed by the caller (inherit.c): the file stays, the queue too */
};

/* A list of held connections (conns.c), linked through G.cn by fd. */
struct cnlist { int32_t head, tail; };

/* One remote address (access.c): an IPv4 address, an IPv6 /64, or the uid
 * of a Unix peer; it lives while it has connections open. --max-per-ip
 * counts its connections, --max-workers-per-ip its workers: those serving
 * it and its connections in the ready list (each of which will have one).
 * Its ready connections beyond that wait in held, in the order they came,
 * until one of its workers is free (riap-listen(8), FAIR SHARE). */
struct addr {
  struct addr *next;             /* in its hash bucket */
  unsigned char key[17];         /* the kind ('4', '6', 'u'), then 16 bytes */
  unsigned conns;                /* connections open */
  unsigned workers;              /* workers serving it, and its ready connections */
  struct cnlist held;            /* ready connections waiting for one of its workers */
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
  unsigned li;                   /* its listening socket */
  struct riap_peer peer;         /* its peer: a PARK gives it back without */
  struct addr *addr;             /* its peer's address, NULL when none is counted */
  int yielded;                   /* YIELD sent for this connection */
  long long handed;              /* ms: its connection was passed to it (--time-slice) */
  long long begun;               /* ms: its partial request began (0: none), for --read-timeout */
};

/* A connection the listener holds (conns.c): waiting for a worker (the
 * ready list, or its address's held list) or parked (the idle list). One
 * per fd, in G.cn[fd]. */
enum { CN_FREE = 0, CN_READY, CN_PARKED, CN_HELD, CN_PROXY };
struct cn {
  int32_t prev, next;            /* neighbours in its list (fds), -1 at the ends */
  uint8_t where;                 /* CN_* */
  uint8_t nopark;                /* CONN flag NOPARK when dispatched */
  uint8_t fresh;                 /* accepted, not yet served: in flight at a stop */
  uint16_t li;
  uint32_t datalen;              /* bytes of a partial request, in data */
  uint64_t id;
  long long since;               /* ms: parked at */
  long long deadline;            /* ms: closed then if still parked */
  long long begun;               /* ms: its partial request (data) began */
  char *data;
  struct riap_peer peer;
  struct addr *addr;             /* its peer's address (access.c), NULL when none is counted */
};

struct conf {
  const char *name;              /* --name, NULL when not given */
  const char *label;             /* name or "riap-listen" */
  unsigned start_servers, max_clients;
  unsigned long max_requests;
  double timeout, spare_timeout, grace;
  double idle_timeout;           /* --idle-timeout: -1 unset (--timeout), 0 never */
  int park;                      /* hand idle connections back (not --no-park) */
  double park_delay;             /* --park-delay: idle seconds before a worker parks */
  double time_slice;             /* --time-slice: seconds a busy connection keeps its worker before YIELD */
  int notify_fd;                 /* -1: none */
  int socket_mode;               /* -1: as the umask makes it */
  const char *socket_owner, *socket_group;
  const char *pid_path, *scoreboard_path, *access_log, *error_log;
  int daemonize, require_root;
  int bind_only;                 /* --bind-only: bind, then exec the command with the sockets */
  char **cmd;                    /* the worker command */
  /* access control (access.c) */
  struct riap_acl acl;           /* --allow, --deny: TCP peers */
  uid_t *allow_uid; size_t nallow_uid;   /* --allow-uid: Unix peers */
  gid_t *allow_gid; size_t nallow_gid;   /* --allow-gid */
  unsigned max_conns, max_per_ip;        /* 0: no limit */
  unsigned max_workers_per_ip;           /* 0: no limit */
  double read_timeout, write_timeout;    /* passed to the workers */
  /* privileges (privs.c) */
  const char *user, *group;      /* --user, --group; NULL when not given */
  uid_t uid; gid_t gid;          /* what they resolve to */
  gid_t *groups; int ngroups;    /* supplementary groups of --user */
  int drop_listener, allow_root;
  int chroot;                    /* --chroot: workers confine themselves (RIAP_CHROOT) */
  /* PROXY protocol (proxy.c) */
  int proxy_next;                /* --proxy-protocol: for the -p/-s that follow */
  struct riap_acl proxy_from;    /* --proxy-from: who may send the header (TCP) */
  double proxy_timeout;          /* --proxy-timeout: the header must arrive within SECS */
};

/* a parked connection's idle timeout when there is none: its deadline
 * stays beyond any clock (1 << 50 ms: 35,000 years) */
#define IDLE_NEVER (1LL << 50)

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
  struct cn *cn;                 /* connections held, by fd (conns.c) */
  unsigned cnmax;                /* size of cn: the fd limit */
  unsigned conn_max;             /* most connections held at once */
  struct cnlist ready, idle;     /* waiting for a worker; parked */
  unsigned qlen, nparked;        /* their lengths */
  unsigned nheld;                /* connections in the addresses' held lists */
  uint64_t accepted, refused;    /* connections admitted, refused (access.c) since start */
  uint32_t parks;                /* PARK messages received */
  unsigned long fds_lost;        /* PARKs whose fd could not be received (fd limit) */
  long long idle_ms;             /* how long a connection stays parked: the workers' idle timeout */
  long long read_ms;             /* ... with part of a request: --read-timeout, if shorter */
  size_t park_bytes;             /* data held for parked partial requests */
  uint64_t next_id;
  int stopping;
  long long stop_deadline, kill_at;
  int ready_sent;                /* readiness told */
  int ready_fd2;                 /* --daemonize: the parent waits on this */
  unsigned ready_count;          /* workers of the first generation that became ready */
  unsigned fails;                /* workers in a row that died before ready */
  long long spawn_after;         /* back-off: no spawn before this (ms) */
  long long last_warn, last_retire, accept_after;
  pid_t log_pid;                 /* riap-log, 0 when none (logger.c) */
  char *title; size_t title_len;
  unsigned long nconns;          /* client connections open (ours and the workers') */
  int dropped;                   /* the listener itself runs as --user */
  struct cnlist proxying;        /* connections whose PROXY header is awaited (proxy.c) */
  unsigned nproxy;               /* ... their number */
  int draining;                  /* USR1: health checks fail (proxy.c), USR2 ends it */
};

extern struct global G;

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
/* sockets_close: closes every listening socket and removes the Unix files
 * it bound itself (never an inherited one's). */
void sockets_close(void);

/* inherit.c */
/* sockets_inherit: takes the listening sockets passed in LISTEN_FDS (unless
 * LISTEN_PID names another process) or an s6-fdholder dump (S6_FD#), each
 * for the given address it is bound to (exits 100 when it matches none),
 * or, with no address given, served as it is; unsets those variables. */
void sockets_inherit(void);
/* sockets_handover: --bind-only: execs cmd with the bound sockets as fds
 * 3.. in order, LISTEN_FDS and LISTEN_PID set; exits 111 on failure. */
void sockets_handover(char **cmd) __attribute__((noreturn));

/* pool.c */
void pool_init(void);
/* pool_tick: spawns, retires, dispatches, stops; returns ms until it wants
 * to run again (-1: no timer). */
long pool_tick(void);
void pool_readable(unsigned slot);
void pool_reap(void);
void pool_reload(void);
/* pool_live: workers still running */
unsigned pool_live(void);

/* conns.c */
/* conns_init: the table of held connections, one entry per possible fd. */
void conns_init(void);
/* conns_room: 1 when another connection may be accepted (limit: ready
 * ones; at the fd bound, when the oldest parked one can make room). */
int conns_room(unsigned limit);
/* conns_accepted: a new connection (of address a, or NULL): parked until
 * readable, or ready (held while its address has all its workers);
 * waiting > 0: bytes are known to be there (no need to look). */
void conns_accepted(int fd, unsigned li, const struct riap_peer *p, struct addr *a, int waiting);
/* conns_parked: a PARK from worker w with fd and n bytes of data. */
void conns_parked(int fd, const struct wk *w, const char *data, size_t n);
/* conns_event: epoll says parked connection fd is readable (or closed). */
void conns_event(int fd);
/* conns_worker_free: a worker of address a (NULL: none) is free again:
 * the first connection a holds, if any, takes its place in the ready list. */
void conns_worker_free(struct addr *a);
/* conns_head: the first ready connection's fd, -1 when none. Each ready
 * connection has a worker of its address's share waiting for it, so the
 * head can always go to any idle worker. */
int conns_head(void);
/* conns_taken: the first ready connection went to a worker: forget it. */
void conns_taken(void);
/* conns_tick: closes parked connections idle past --timeout; returns ms
 * until the next is due, -1 when none is parked. */
long conns_tick(void);
/* conns_stop: TERM: parked connections with bytes waiting become ready, the
 * others are closed; held ones become ready (the share ends with the stop). */
void conns_stop(void);
/* conns_drop_ready: closes every ready connection (grace period over). */
void conns_drop_ready(void);
/* conns_link, conns_unlink: at the tail of list l, out of it (proxy.c) */
void conns_link(struct cnlist *l, int fd);
void conns_unlink(struct cnlist *l, int fd);
/* conns_publish: the scoreboard's waiting (G.qlen), accepted and refused,
 * after any of them changed: a few stores, no system call. */
void conns_publish(void);
/* conns_publish_state: G.draining and G.fds_lost to the scoreboard. */
void conns_publish_state(void);

/* access.c */
/* access_option: parses --allow-uid (kind 'u'), --allow-gid ('g'),
 * --allow ('a'), --deny ('d'); exits 100 naming a bad item. */
void access_option(int kind, const char *list);
/* access_admit: a new connection on socket li: checks the rules and limits;
 * a refused one gets its 403/503 line, is closed, logged (rate-limited).
 * Returns 1 when admitted (and counted; *a is its address, NULL when no
 * per-address limit is set or the peer has none), 0 when refused. */
int access_admit(int fd, unsigned li, const struct riap_peer *p, struct addr **a);
/* access_answer_close: sends line (n bytes) on fd, closes our side, reads
 * away what the peer sent (so that the close does not reset the
 * connection before the line is read) and closes fd. Counts nothing. */
void access_answer_close(int fd, const char *line, size_t n);
/* access_refuse: refuses a connection of peer p: logs why (rate-limited),
 * sends line (n bytes, none when n is 0), closes it, counts it. */
void access_refuse(int fd, const struct riap_peer *p, const char *why, const char *line, size_t n);
/* access_proxy_from: 1 when peer p (the connection's own, on socket li)
 * may send a PROXY header: TCP peers in --proxy-from, Unix peers allowed
 * by --allow-uid/--allow-gid. */
int access_proxy_from(int fd, unsigned li, const struct riap_peer *p);
/* access_end: an admitted connection of address a (NULL: none) is closed
 * for good (by us or a worker). */
void access_end(struct addr *a);
/* access_each: calls f on every address counted (for a stop). */
void access_each(void (*f)(struct addr *));

/* privs.c */
/* privs_user_id: the uid of user name or number s (and its group in *gid
 * when gid is not NULL: -1 when none); exits 100 naming opt when unknown. */
uid_t privs_user_id(const char *opt, const char *s, gid_t *gid);
/* privs_group_id: the gid of group name or number s; exits 100 naming opt. */
gid_t privs_group_id(const char *opt, const char *s);
/* privs_resolve: resolves --user/--group; exits 100 when unknown, or when
 * workers would run as root by --user without --allow-root. */
void privs_resolve(void);
/* privs_drop: in a worker before exec (or the listener with
 * --drop-listener): setgroups, setgid, setuid to --user/--group; returns 1,
 * 0 with errno. Nothing to do without --user/--group, or once dropped. */
int privs_drop(void);
/* privs_worker_env: in a worker before exec: e's chroot and allow_root
 * (RIAP_CHROOT, RIAP_ALLOW_ROOT) and, with --chroot, the ids it becomes
 * (UID, GID, GIDLIST; unset otherwise). */
struct riap_workerenv;
void privs_worker_env(struct riap_workerenv *e);
/* privs_confined: with --chroot, 1 when worker pid is in a chroot and runs
 * as --user/--group (root only with --allow-root); else 0, and says why. */
int privs_confined(pid_t pid);
/* privs_chown: gives a file we created (the scoreboard) to --user. */
void privs_chown(const char *path);

/* proxy.c */
/* proxy_option: --proxy-from CIDRS; exits 100 naming a bad item. */
void proxy_option(const char *list);
/* proxy_check: after the options: every TCP --proxy-protocol listener has
 * --proxy-from; exits 100 when not. */
void proxy_check(void);
/* proxy_accepted: a new connection on a --proxy-protocol socket: its
 * header is read (now, or as it arrives); then it is admitted as one of
 * the peer it names (access_admit, conns_accepted). */
void proxy_accepted(int fd, unsigned li, const struct riap_peer *p);
/* proxy_event: epoll says connection fd, awaiting its header, is readable. */
void proxy_event(int fd, unsigned events);
/* proxy_tick: closes those whose header is late; returns ms until the
 * next is due, -1 when none waits. */
long proxy_tick(void);
/* proxy_stop: at a stop: those whose header is whole go on, the others close. */
void proxy_stop(void);

/* signals.c */
/* signals_open: blocks TERM INT HUP CHLD and returns a signalfd for them. */
int signals_open(void);
/* signals_child: in a new child, before exec: the usual mask and dispositions. */
void signals_child(void);
/* signals_read: reads what arrived; sets *term, *hup, *chld; USR1 and
 * USR2 set and clear G.draining. */
void signals_read(int fd, int *term, int *hup, int *chld);

/* daemon.c */
void title_init(int argc, char **argv);
void title_set(const char *s);
void ready_tell(void);
void pidfile_write(void);
void pidfile_remove(void);
/* daemonize: forks; the parent exits once the child is ready. */
void daemonize(void);
const char *default_path(const char *suffix);

/* logger.c */
/* logger_start: with --access-log-path or --error-log-path, spawns riap-log
 * on a new pipe and makes that pipe our fd 1 and 2 (non-blocking for us);
 * riap-log gets our original stdout and stderr. Exits 111 on failure. */
void logger_start(void);
/* logger_child: in a new worker: fd 1 and 2 become the pipe, blocking. */
void logger_child(void);
/* logger_reaped: riap-log ended with status: schedules its restart (back-off). */
void logger_reaped(int status);
/* logger_tick: restarts riap-log when due; returns ms until the next
 * attempt, -1 when none is due. */
long logger_tick(void);
/* logger_finish: at exit: closes our ends of the pipe and waits for riap-log
 * to write everything (until --grace runs out, or TERM comes again). */
void logger_finish(void);

#endif
