/* serve.c: one connection: read request lines, answer each in order,
 * batch the answers of pipelined requests into one write (but not for
 * longer than OUT_HOLD_MS or OUT_HOLD_BYTES: see answer_lines). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_accessrec.h"
#include "riap_log.h"
#include "riap_time.h"
#include "riap_json.h"
#include "handle.h"

struct conn {
  struct server *srv;
  int in, outfd;
  const struct riap_peer *peer;
  char peerlabel[RIAP_PEER_FMT];
  char *buf;
  size_t start, len, cap;        /* unread bytes are buf[start..len) */
  struct timespec t_first;       /* arrival of the first unanswered byte */
  struct timespec t_read;        /* the latest read */
  long long begun;               /* monotonic ms: the first byte of the unanswered line */
  long long last_read;           /* monotonic ms: the latest read */
  stralloc out;
  long long out_since;           /* monotonic ms: the oldest answer in out */
  unsigned long served;
  int park;                      /* worker_wait_input said park */
  int notsock;                   /* outfd is not a socket (a pipe): no MSG_DONTWAIT */
};


static double seconds(const struct timespec *a, const struct timespec *b)
{
  return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

/* writes to the client within --write-timeout: a socket with MSG_DONTWAIT
 * (its file status flags stay as they are: in pipe mode they may be shared),
 * anything else after poll, at most PIPE_BUF at a time, so that no write
 * blocks. Returns 1, 0 when the client is gone or too slow. */
static int write_client(struct conn *c, const char *s, size_t n)
{
  long long deadline = riap_time_monoms() + (long long)c->srv->write_timeout_ms;
  while (n) {
    ssize_t w = -1;
    if (!c->notsock) {
      w = send(c->outfd, s, n, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (w < 0 && errno == ENOTSOCK) { c->notsock = 1; continue; }
    } else {
      struct pollfd p = { c->outfd, POLLOUT, 0 };
      if (poll(&p, 1, 0) == 1) w = write(c->outfd, s, n > PIPE_BUF ? PIPE_BUF : n);
      else { w = -1; errno = EAGAIN; }
    }
    if (w < 0) {
      struct pollfd p = { c->outfd, POLLOUT, 0 };
      long long left;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return 0;
      left = deadline - riap_time_monoms();
      if (left <= 0 || poll(&p, 1, (int)(left > INT_MAX ? INT_MAX : left)) == 0) {
        carp("warning: ", c->peerlabel, ": the answer did not drain within --write-timeout; closing");
        return 0;
      }
      continue;
    }
    s += w;
    n -= (size_t)w;
  }
  return 1;
}

static int flush(struct conn *c)
{
  int ok;
  riap_sb_writing(c->srv->sb, c->out.len);
  ok = write_client(c, c->out.s, c->out.len);
  c->out.len = 0;
  return ok;
}

static void log_access(struct conn *c, const struct riap_req *q, const struct reply *r,
                       size_t res_off, size_t res_len, const struct timespec *t_eol)
{
  struct riap_accessrec a;
  struct timespec t_done;
  stralloc args = { 0, 0, 0 };
  char line[RIAP_ACCESSREC_MAX];
  size_t n;

  if (c->srv->log_fd < 0) return;             /* none asked for (riap+pipe) */
  clock_gettime(CLOCK_REALTIME, &t_done);
  memset(&a, 0, sizeof a);
  a.time_sec = c->t_first.tv_sec;
  a.time_usec = c->t_first.tv_nsec / 1000;
  a.pid = c->srv->pid;
  a.peer = c->peerlabel;
  a.v = q->json ? (q->v12 ? "1.2" : "1.1") : "-";
  a.action = q->action_name ? q->action_name : "";
  a.action_len = q->action_name ? q->action_len : 0;
  a.uri = q->uri ? q->uri : "";
  a.uri_len = q->uri ? q->uri_len : 0;
  a.status = r->status;
  if (q->args && riap_json_cat(&args, q->args)) { a.args = args.s; a.args_len = args.len; }
  else a.args = "";
  a.res = c->out.s + res_off;
  a.res_len = res_len;
  a.treq = seconds(&c->t_first, t_eol);
  a.tres = seconds(t_eol, &t_done);
  n = riap_accessrec_fmt(line, &a);
  if (riap_log_write(c->srv->log_fd, line, n) < n) { /* the log is gone: keep serving, nothing to say it on */ }
  free(args.s);
}

/* answers one line (without its EOL); returns 0 when the connection must close */
static int answer(struct conn *c, const char *line, size_t n, const struct timespec *t_eol)
{
  struct riap_req q;
  struct reply r;
  char msg[RIAP_REQ_MSGMAX];
  size_t res_off = 0, res_len = 0;
  int status;

  memset(&q, 0, sizeof q);
  memset(&r, 0, sizeof r);
  if (!n || line[0] != 'j') {
    reply_set(&r, 400, "Invalid request line, use j<json>");
    r.close = 1;
  } else if ((status = riap_req_parse(&q, line + 1, n - 1, msg))) {
    reply_set(&r, status, "%s", msg);
  } else {
    riap_sb_request(c->srv->sb, q.action_name, q.action_len, q.uri, q.uri_len, t_eol);
    action_run(c->srv, &q, c->peer, &r);
  }
  if (!reply_cat(&c->out, &r, q.v12, &res_off, &res_len)) die(111, "fatal: out of memory");
  log_access(c, &q, &r, res_off, res_len, t_eol);
  c->served++;
  c->srv->answered++;
  riap_sb_answered(c->srv->sb);
  riap_req_free(&q);
  status = !r.close;
  reply_clear(&r);
  return status;
}

/* answers a reply built here (413, 408) and closes */
static void answer_fatal(struct conn *c, int status, const char *msg)
{
  struct riap_req q;
  struct reply r;
  struct timespec now;
  size_t off = 0, len = 0;
  memset(&q, 0, sizeof q);
  memset(&r, 0, sizeof r);
  reply_set(&r, status, "%s", msg);
  clock_gettime(CLOCK_REALTIME, &now);
  if (reply_cat(&c->out, &r, 0, &off, &len)) log_access(c, &q, &r, off, len, &now);
  c->served++;
  reply_clear(&r);
  flush(c);
}

/* Answers of pipelined requests wait in out for one write, but not past
 * OUT_HOLD_MS after the first of them, nor past OUT_HOLD_BYTES: behind a
 * slow call (a pipelining client may queue a thousand in 64 KiB) the
 * client has its first answers as they come, and a client gone with
 * requests still queued is found by the next write failing, not after
 * every call it left has run. Fast answers (meta, 16 deep: 50 us) still
 * go in one write. */
#define OUT_HOLD_MS 2
#define OUT_HOLD_BYTES 65536

/* answers every complete line in the buffer; returns 0 when the connection must close */
static int answer_lines(struct conn *c)
{
  for (;;) {
    char *line = c->buf + c->start;
    char *nl = memchr(line, '\n', c->len - c->start);
    size_t n;
    if (!nl) return 1;
    /* another line to answer: what has waited long enough goes first */
    if (c->out.len && (c->out.len >= OUT_HOLD_BYTES || riap_time_monoms() - c->out_since >= OUT_HOLD_MS)
        && !flush(c))
      return 0;                /* gone, or not reading: the rest would be lost anyway */
    n = (size_t)(nl - line);
    c->start += n + 1;
    if (n && line[n - 1] == '\r') n--;
    if (n > c->srv->max_line) {
      answer_fatal(c, 413, "Request line too long");
      return 0;
    }
    if (!c->out.len) c->out_since = riap_time_monoms();
    if (!answer(c, line, n, &c->t_read)) return 0;
    c->t_first = c->t_read;   /* what follows arrived with the latest read */
    c->begun = c->last_read;
  }
}

/* makes room to read: drops answered bytes, grows up to the line limit */
static int make_room(struct conn *c)
{
  size_t want;
  char *b;
  if (c->start) {
    memmove(c->buf, c->buf + c->start, c->len - c->start);
    c->len -= c->start;
    c->start = 0;
  }
  if (c->len < c->cap) return 1;
  want = c->cap * 2;
  if (want > c->srv->max_line + 3) want = c->srv->max_line + 3;
  if (want <= c->cap) return 0;
  b = realloc(c->buf, want);
  if (!b) die(111, "fatal: out of memory");
  c->buf = b;
  c->cap = want;
  return 1;
}

/* waits for bytes; returns 1 readable, 0 timed out, 2 park (worker mode).
 * The wait: --idle-timeout while no request is begun; with part of a line
 * read, --timeout since the latest byte and no later than --read-timeout
 * after its first byte */
static int wait_input(struct conn *c)
{
  struct pollfd p = { c->in, POLLIN, 0 };
  unsigned long wait = c->len > c->start ? c->srv->timeout_ms : c->srv->idle_timeout_ms;
  int rc;
  if (c->len > c->start) {
    long long left = c->begun + (long long)c->srv->read_timeout_ms - riap_time_monoms();
    if (left < 0) left = 0;
    if ((unsigned long long)left < wait) wait = (unsigned long)left;
  }
  if (c->srv->worker)
    return worker_wait_input(c->srv, c->in, c->len > c->start || !c->served, c->len - c->start, wait);
  do rc = poll(&p, 1, wait > 0x7fffffff ? -1 : (int)wait);
  while (rc < 0 && errno == EINTR);
  return rc != 0;
}

static void serve_loop(struct conn *c)
{
  for (;;) {
    ssize_t r;
    if (!answer_lines(c)) { flush(c); return; }
    if (c->out.len && !flush(c)) return;
    if (!make_room(c)) {                       /* a partial line over the limit */
      answer_fatal(c, 413, "Request line too long");
      return;
    }
    switch (wait_input(c)) {
      case 0:
        if (c->len > c->start) answer_fatal(c, 408, "Timeout reading request");
        return;
      case 2:
        c->park = 1;
        return;
    }
    r = read(c->in, c->buf + c->len, c->cap - c->len);
    if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (r <= 0) break;
    riap_sb_bytes_in(c->srv->sb, (size_t)r);
    clock_gettime(CLOCK_REALTIME, &c->t_read);
    c->last_read = riap_time_monoms();
    if (c->len == c->start) { c->t_first = c->t_read; c->begun = c->last_read; }
    c->len += (size_t)r;
  }
  /* EOF: a last request without its newline is still answered */
  if (c->len > c->start) {
    size_t n = c->len - c->start;
    char *line = c->buf + c->start;
    if (line[n - 1] == '\r') n--;
    if (n > c->srv->max_line) answer_fatal(c, 413, "Request line too long");
    else { answer(c, line, n, &c->t_read); flush(c); }
  }
}

static unsigned long serve(struct server *s, int in, int out, const struct riap_peer *peer, struct serve_park *p)
{
  struct conn c;
  memset(&c, 0, sizeof c);
  c.srv = s;
  c.in = in;
  c.outfd = out;
  c.peer = peer;
  riap_peer_fmt(c.peerlabel, peer);
  c.cap = 65536 < s->max_line + 3 ? 65536 : s->max_line + 3;
  if (p && c.cap < p->in_len) c.cap = p->in_len;
  c.buf = malloc(c.cap);
  if (!c.buf) die(111, "fatal: out of memory");
  if (p && p->in_len) {                      /* read by an earlier worker: ours now */
    memcpy(c.buf, p->in, p->in_len);
    c.len = p->in_len;
    clock_gettime(CLOCK_REALTIME, &c.t_read);
    c.t_first = c.t_read;
    c.begun = c.last_read = riap_time_monoms();       /* the read timeout counts from here */
  }
  serve_loop(&c);
  if (p) {
    p->park = c.park;
    p->out_len = 0;
    if (c.park && c.len - c.start <= p->out_cap) {   /* worker_wait_input parks only what fits */
      p->out_len = c.len - c.start;
      memcpy(p->out, c.buf + c.start, p->out_len);
    } else if (c.park) {
      p->park = 0;                            /* cannot happen; closing beats losing bytes */
    }
  }
  free(c.buf);
  free(c.out.s);
  return c.served;
}

unsigned long serve_conn(struct server *s, int in, int out, const struct riap_peer *peer)
{
  return serve(s, in, out, peer, 0);
}

unsigned long serve_conn_park(struct server *s, int fd, const struct riap_peer *peer, struct serve_park *p)
{
  return serve(s, fd, fd, peer, p);
}
