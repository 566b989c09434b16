/* mux.h: riap-mux's clients, backends and the queue that pairs each
 * request written to a backend with the client waiting for its answer.
 * See doc/riap-mux.8. */
#ifndef MUX_H
#define MUX_H
#include <sys/types.h>
#include "riap_client.h"
#include "riap_url.h"

/* one request sent (or to be sent) to a backend, answered in order */
struct pending {
  int client;                   /* fd of the client, -1 when gone */
  unsigned gen;                 /* the client's generation: a reused fd is another client */
  size_t len;                   /* bytes of the request line as queued to the backend */
  const char *local;            /* an answer of ours (a refused line), sent in turn; not sent to the backend */
};

enum backend_state { BACKEND_UNUSED, BACKEND_ACTIVE, BACKEND_RETIRING };

struct backend {
  int slot;                     /* its index in M.backends (and in epoll data) */
  enum backend_state state;     /* retiring: takes no new client, ends once it has answered */
  struct riap_conn conn;        /* pid 0 while not running */
  pid_t pid;                    /* the running child, also after its pipes are closed, until reaped */
  struct pending *q;            /* ring of requests without an answer yet */
  size_t qcap, qhead, qlen;
  size_t inflight;              /* entries of q sent to the backend (not our own answers) */
  long long start_at_ms;        /* when stopped: when to start it again */
  long long started_ms;
  long long progress_ms;        /* last answer, or when q stopped being empty */
  int wantout;                  /* registered for EPOLLOUT */
};

struct client {
  struct riap_conn conn;        /* rfd == wfd: the accepted socket; -1 when free */
  unsigned gen;
  struct backend *backend;      /* where its unanswered requests are */
  size_t unanswered;
  int reading;                  /* registered for EPOLLIN */
  int eof;                      /* no more requests: closed once answered */
  int wantout;                  /* registered for EPOLLOUT */
  int dirty;                    /* in the list of clients to write to */
};

struct mux {
  int epfd;
  struct riap_url url;          /* pipe: the backend program and its arguments */
  struct backend *backends;     /* table of ntable: nbackends active, the rest retiring or unused */
  unsigned nbackends, ntable;
  struct client *clients;       /* indexed by fd */
  size_t nclients;
  unsigned long timeout_ms;     /* 0: none */
  unsigned long restart_delay_ms;
  size_t max_line;
  size_t max_unanswered;        /* per client: reading pauses beyond */
  int stopping;
};

extern struct mux M;

/* epoll data: the kind in the top byte, a client's generation (low 24
 * bits) below it, an fd or a backend slot in the low half */
enum { EV_LISTEN = 1, EV_SIGNAL, EV_CLIENT, EV_BACKEND_IN, EV_BACKEND_OUT };
#define EV(kind, n) (((unsigned long long)(kind) << 56) | (unsigned)(n))
#define CLIENT_EV(c) (EV(EV_CLIENT, (c)->conn.rfd) | ((unsigned long long)((c)->gen & 0xffffff) << 32))

/* backend.c */
void backend_start(struct backend *b);
int backend_queue(struct backend *b, struct client *c, const char *line, size_t n);
void backend_local(struct backend *b, struct client *c, const char *answer);
void backend_readable(struct backend *b);
void backend_flush(struct backend *b);
void backend_fail(struct backend *b, int status, const char *why);
void backend_reaped(pid_t pid, int status);
long long backend_timers(long long now);
size_t backend_unanswered(void);
void backend_stop_all(void);
void backend_init(void);
void backend_reload(void);
void backend_report(size_t clients);
struct backend *backend_choose(void);

/* main.c */
void mux_watch(int fd, unsigned events, unsigned long long data, int op);
void client_answer(struct client *c, const char *line, size_t n);

#endif
