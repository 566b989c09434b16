/* riap_client.h: the client side of a Riap::Simple connection: connect to
 * a parsed riap_url (TCP with a timeout, Unix socket, or a program spawned
 * with its stdin/stdout on pipes), send request lines, receive response
 * lines, close (reaping a pipe child).
 *
 * No global state: everything lives in struct riap_conn. Every fd is
 * close-on-exec and non-blocking; waits use poll with a timeout in
 * milliseconds (-1: no limit). Sockets are written with MSG_NOSIGNAL; a
 * write to a pipe masks SIGPIPE for the call unless it is already ignored,
 * so a dead peer is a failure (RIAP_CLIENT_ECLOSED), never a signal.
 *
 * Two layers: non-blocking steps (queue, flush, getline) for callers with
 * their own poll loop (pipelining: poll c->wfd for POLLOUT while
 * riap_client_pending, c->rfd for POLLIN while answers are due), and
 * blocking calls with timeouts (send, recv, request) built on them.
 * A failed call leaves the kind of failure in c->err and a one-line
 * message in c->msg naming the endpoint ("unable to connect to
 * 127.0.0.1:5678: Connection refused"). */
#ifndef RIAP_CLIENT_H
#define RIAP_CLIENT_H
#include <stddef.h>
#include <sys/types.h>
#include <stralloc.h>
#include <jansson.h>
#include "riap_url.h"

enum riap_client_err {
  RIAP_CLIENT_OK = 0,
  RIAP_CLIENT_ECONNECT, /* could not connect, or start the program: a retry may help */
  RIAP_CLIENT_ETIMEOUT, /* the timeout passed */
  RIAP_CLIENT_ECLOSED,  /* the peer closed the connection (EOF, EPIPE, ECONNRESET) */
  RIAP_CLIENT_EIO,      /* another system failure (errno in the message) */
  RIAP_CLIENT_EPROTO,   /* a response line that is not j<JSON envelope> */
  RIAP_CLIENT_ETOOLONG, /* a response line longer than c->maxline */
  RIAP_CLIENT_ENOMEM    /* out of memory */
};

#define RIAP_CLIENT_MSGMAX 512
#define RIAP_CLIENT_MAXLINE (64UL << 20) /* default cap of a response line */

struct riap_conn {
  int rfd, wfd;         /* socket: the same fd twice; pipe: the child's stdout
                           and stdin; -1 when not open */
  pid_t pid;            /* pipe: the child; 0 otherwise */
  int sigign;           /* internal: SIGPIPE was ignored at open */
  size_t maxline;       /* cap of one response line, "j" and CRLF included */
  stralloc in;          /* received bytes; in.s[inpos..in.len) not yet returned */
  size_t inpos, inscan; /* internal: start of the next line, bytes already searched for LF */
  stralloc out;         /* queued bytes; out.s[outpos..out.len) not yet written */
  size_t outpos;
  enum riap_client_err err;      /* the last failure */
  char msg[RIAP_CLIENT_MSGMAX];  /* its message, one line, no newline */
  char endpoint[160];            /* the URL's endpoint, for messages */
};

/* riap_conn_init: makes c an empty, closed connection (fds -1, maxline
 * RIAP_CLIENT_MAXLINE). Call once before anything else. */
void riap_conn_init(struct riap_conn *c);

/* riap_client_open: connects c (initialised and closed) to the endpoint of
 * u within timeout_ms (-1: the system's own limits); TCP tries each address
 * of the host in turn, with TCP_NODELAY. A pipe child gets the pipes as fds
 * 0 and 1, the caller's fd 2, default signal dispositions and an empty
 * signal mask. Returns 1, or 0 with c->err (ECONNECT, ETIMEOUT, ENOMEM) and
 * c->msg, and c closed. */
int riap_client_open(struct riap_conn *c, const struct riap_url *u, int timeout_ms);

/* riap_client_adopt: makes c (initialised and closed) the open riap+pipe
 * connection of u whose pipes rfd and wfd and child pid were opened
 * before (by this process before an exec: riap-handle's recycled worker
 * keeps its backends); sets close-on-exec and non-blocking on the fds.
 * Returns 1, or 0 with c->err ECONNECT and c closed (fds not closed). */
int riap_client_adopt(struct riap_conn *c, const struct riap_url *u, int rfd, int wfd, pid_t pid);

/* riap_client_queue: appends the n bytes at s to the output; nothing is
 * written yet. Returns 1, or 0 (ENOMEM). */
int riap_client_queue(struct riap_conn *c, const char *s, size_t n);

/* riap_client_queuereq: appends the request line "j<req as compact
 * JSON>\r\n" to the output. Returns 1, or 0 (ENOMEM). */
int riap_client_queuereq(struct riap_conn *c, const json_t *req);

/* riap_client_pending: returns the number of queued bytes not yet written. */
size_t riap_client_pending(const struct riap_conn *c);

/* riap_client_flush: writes queued bytes without blocking. Returns 1 when
 * all are written, 0 when some remain (wait for POLLOUT on c->wfd), -1 on
 * failure (ECLOSED, EIO). */
int riap_client_flush(struct riap_conn *c);

/* riap_client_getline: returns the next received line without blocking:
 * 1 with *line and *n set to it (its leading "j" kept, the LF or CRLF
 * removed; valid until the next call on c), 0 when no whole line is there
 * yet (wait for POLLIN on c->rfd), -1 on failure (ECLOSED: EOF, with or
 * without a partial line; ETOOLONG; EIO). */
int riap_client_getline(struct riap_conn *c, const char **line, size_t *n);

/* riap_client_parse: the envelope of a response line as riap_client_getline
 * returns it: "j" then a JSON array whose first element is an integer
 * status and second (when present) a string. Returns a new reference, or
 * NULL with c->err EPROTO (or ENOMEM) and c->msg quoting the start of the
 * line, escaped. */
json_t *riap_client_parse(struct riap_conn *c, const char *line, size_t n);

/* riap_client_send: queues req (when not NULL) and writes all the queued
 * bytes within timeout_ms. Returns 1, or 0 (ETIMEOUT, ECLOSED, EIO, ENOMEM). */
int riap_client_send(struct riap_conn *c, const json_t *req, int timeout_ms);

/* riap_client_recv: waits up to timeout_ms for the next response line and
 * parses it. Returns a new reference to the envelope, or NULL (ETIMEOUT,
 * ECLOSED, ETOOLONG, EPROTO, EIO, ENOMEM). */
json_t *riap_client_recv(struct riap_conn *c, int timeout_ms);

/* riap_client_request: sends req and receives its response, all within
 * timeout_ms. When the peer closes while the request is being sent, what
 * it wrote before closing is still read (up to 1 s): an envelope there is
 * returned, a line that is none fails with EPROTO. Returns a new reference
 * to the envelope, or NULL as riap_client_send and riap_client_recv do. */
json_t *riap_client_request(struct riap_conn *c, const json_t *req, int timeout_ms);

/* riap_client_close: closes c's fds and frees its buffers; for a pipe,
 * waits up to timeout_ms (after closing the child's stdin) for the child to
 * exit, then sends SIGTERM, then SIGKILL, and reaps it. c can be opened
 * again. Returns 1 when the connection ended cleanly (a pipe child exited
 * with status 0), 0 otherwise (c->msg says how the child ended). */
int riap_client_close(struct riap_conn *c, int timeout_ms);

#endif
