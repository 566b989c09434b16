/* handle.h: what the parts of riap-handle share. */
#ifndef RIAP_HANDLE_H
#define RIAP_HANDLE_H
#include <stralloc.h>
#include <jansson.h>
#include "riap_peer.h"
#include "riap_req.h"
#include "riap_scoreboard.h"
#include "riap_tree.h"
#include "riap_exec.h"

struct server {
  struct riap_tree tree;
  unsigned long timeout_ms;       /* waiting for the rest of a request */
  unsigned long idle_timeout_ms;  /* waiting for the next one, none begun; ULONG_MAX: for ever */
  unsigned long read_timeout_ms;  /* a request line, once begun, completes within it */
  unsigned long write_timeout_ms; /* an answer drains within it, else the connection closes */
  size_t max_line;                /* longest request line, without EOL */
  unsigned long call_timeout_ms;  /* default for functions without a timeout */
  size_t max_output;              /* cap on a function's stdout */
  int log_fd;                     /* access records; -1: none */
  long pid;
  int start_persistent;           /* start every persistent function at once */
  int chroot;                     /* --chroot (or RIAP_CHROOT=1 from riap-listen) */
  int allow_root;                 /* --allow-root or RIAP_ALLOW_ROOT=1 */
  struct riap_exec_limits limits; /* rlimits of every function */
  unsigned long answered;         /* requests answered, all connections */
  struct worker *worker;          /* worker mode (worker.c), else NULL */
  struct riap_sb_slot *sb;        /* own scoreboard slot, else NULL */
};

/* the answer to one request */
struct reply {
  int status;
  json_t *message;                /* owned; NULL prints null */
  json_t *result;                 /* owned */
  json_t *meta;                   /* owned; extra META keys, or NULL */
  const char *result_text;        /* result already as ASCII JSON (a cache's, not owned), or NULL */
  size_t result_text_len;
  int close;                      /* close the connection after this answer */
};

/* reply_set: sets status and a printf-formatted message; returns 0. */
int reply_set(struct reply *r, int status, const char *fmt, ...)
  __attribute__((format(printf, 3, 4)));
/* reply_ok: status 200, message "OK", result (owned); returns 0. */
int reply_ok(struct reply *r, json_t *result);
/* reply_clear: frees what r holds and zeroes it. */
void reply_clear(struct reply *r);
/* reply_cat: appends "j[...]\r\n" for r to out (riap.v per v12); returns 1,
 * 0 when out of memory; res_off and res_len locate the result's JSON in out
 * (the message's, for a status other than 2xx: what the access record shows). */
int reply_cat(stralloc *out, const struct reply *r, int v12, size_t *res_off, size_t *res_len);
/* text_json: a JSON string of s, bytes that are not UTF-8 replaced by '?'. */
json_t *text_json(const char *s);

/* action_run: answers the parsed request q into r. */
void action_run(struct server *s, const struct riap_req *q, const struct riap_peer *peer, struct reply *r);

/* meta_check: 0 when e's metadata can be used, else sets r to 531/534 and returns 1. */
int meta_check(const struct riap_entity *e, struct reply *r);

/* call_run: the call action on function e. */
void call_run(struct server *s, struct riap_entity *e, const struct riap_req *q,
              const struct riap_peer *peer, struct reply *r);
/* server_start: what follows the start-up and precedes the first request:
 * --chroot, then --start-persistent (whose coprocesses start in the chroot). */
void server_start(struct server *s);
/* confine: chroots to ROOT, becomes UID/GID/GIDLIST of the environment;
 * dies unless it is no longer root or allow_root (confine.c). */
void confine(struct server *s, int allow_root);
/* persistent_start_all: starts the coprocess of every persistent function in the tree. */
void persistent_start_all(struct server *s);
/* complete_run: complete_arg_val / complete_arg_elem on function e. */
void complete_run(struct server *s, struct riap_entity *e, const struct riap_req *q, struct reply *r);
/* funcmeta_free: frees a compiled function metadata. */
void funcmeta_free(void *p);

struct mount;
/* mount_run: forwards q to the server mounted at e; rest is the offset in
 * q->uri of what follows the mount point. */
void mount_run(struct server *s, struct riap_entity *e, const struct riap_req *q, size_t rest, struct reply *r);
/* mount_start: opens e's backend and awaits its first answer (--start-persistent). */
void mount_start(struct server *s, struct riap_entity *e);
/* mount_handdown: appends "RFD,WFD,PID,URI;" for each running riap+pipe
 * backend to sa and clears close-on-exec on its fds, for a worker that
 * execs itself anew (RIAP_MOUNT_FDS); returns how many, -1 out of memory. */
int mount_handdown(stralloc *sa);
/* mount_adopt_end: after start-up, ends the backends of RIAP_MOUNT_FDS that no mount took over. */
void mount_adopt_end(void);
/* mount_free: closes a mount's connection and frees it. */
void mount_free(struct mount *m);
/* entity_priv_free: frees what the server keeps for an entity (tree->priv_free). */
void entity_priv_free(struct riap_entity *e);

/* serve_conn: serves one connection until EOF, timeout or a fatal request;
 * returns the number of requests answered. */
unsigned long serve_conn(struct server *s, int in, int out, const struct riap_peer *peer);

/* a connection in worker mode: what it starts with, how it ends */
struct serve_park {
  const char *in;                 /* bytes read before (a CONN's data), in_len of them */
  size_t in_len;
  int park;                       /* set on return: hand it back, do not close it */
  char *out;                      /* on park: the unread bytes, out_len of them */
  size_t out_len, out_cap;
};

/* serve_conn_park: serve_conn for a worker on fd, starting with p->in;
 * returns the number of requests answered, with p->park set when
 * worker_wait_input said to park (then fd stays open). */
unsigned long serve_conn_park(struct server *s, int fd, const struct riap_peer *peer, struct serve_park *p);

/* worker_run: worker mode (RIAP_CONTROL_FD set, see riap-channel(5)):
 * serves the connections riap-listen passes until it says stop; returns
 * the exit status. */
int worker_run(struct server *s, int argc, char **argv);

/* worker_wait_input: worker mode: waits up to wait_ms (the idle timeout, or
 * what is left of the read timeout) for bytes on fd while watching the
 * control channel; busy: a request is partly read or
 * none answered yet on this connection (a stop then waits for it);
 * pending: bytes read and not answered (a partial request).
 * Returns 1 readable, 0 timed out or the connection should end now,
 * 2 park it (idle for the park delay, or yield, retire, request limit). */
int worker_wait_input(struct server *s, int fd, int busy, size_t pending, unsigned long wait_ms);

#endif
