/* pipeline.c: riap --stdin URL: request lines from stdin, sent on one
 * connection with at most o->window of them unanswered, each envelope
 * printed on its own line in order. One poll loop over stdin, the
 * connection's write side (while bytes are queued) and its read side
 * (while answers are due). */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "riap.h"
#include "riap_time.h"


/* queues one input line (n bytes at s, no LF); returns 1, or 0 for a blank
 * line (nothing sent) */
static int queue_line(struct riap_conn *c, const struct opts *o, char *s, size_t n)
{
  json_t *req;
  size_t i;
  if (n && s[n - 1] == '\r') --n;
  for (i = 0; i < n && (s[i] == ' ' || s[i] == '\t'); ++i) {}
  if (i == n) return 0;
  if (s[0] != 'j' && (req = json_loadb(s, n, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, NULL))) {
    if (json_is_object(req) && (!json_object_get(req, "v") || !json_object_get(req, "uri"))) {
      int ok = 1;
      if (!json_object_get(req, "v")) ok = !json_object_set_new(req, "v", json_real(o->v12 ? 1.2 : 1.1));
      if (ok && !json_object_get(req, "uri")) ok = !json_object_set_new(req, "uri", json_string(o->url.uri));
      if (!ok || !riap_client_queuereq(c, req)) riap_err_die(111, "out of memory");
      json_decref(req);
      return 1;
    }
    json_decref(req);
  }
  /* a j line, a complete request, or something the server will refuse
   * with its own 400: sent as it is, so that every line gets its answer */
  if ((s[0] != 'j' && !riap_client_queue(c, "j", 1)) || !riap_client_queue(c, s, n)
      || !riap_client_queue(c, "\r\n", 2)) riap_err_die(111, "out of memory");
  return 1;
}

/* the state of one --stdin run */
struct pl {
  const struct opts *o;
  struct riap_conn c;
  stralloc in, out;             /* stdin read, envelopes to print */
  size_t inpos, inscan;         /* in: the next line begins at inpos; no LF before inscan */
  int in_eof;
  long long *due;               /* deadlines of the unanswered, a ring of o->window */
  size_t head, count;           /* the oldest unanswered, how many */
  unsigned long answered;
};

/* queues every complete line of stdin while the window has room; returns
 * 1 when it took one */
static int take_lines(struct pl *p)
{
  const struct opts *o = p->o;
  int progress = 0;
  while (p->count < o->window) {
    char *nl = p->inscan < p->in.len ? memchr(p->in.s + p->inscan, '\n', p->in.len - p->inscan) : NULL;
    size_t end;
    if (nl) end = (size_t)(nl - p->in.s);
    else if (p->in_eof && p->inpos < p->in.len) end = p->in.len;   /* a last line without LF */
    else { p->inscan = p->in.len; break; }
    if (queue_line(&p->c, o, p->in.s + p->inpos, end - p->inpos)) {
      p->due[(p->head + p->count) % o->window] = o->timeout_ms < 0 ? -1 : riap_time_monoms() + o->timeout_ms;
      ++p->count;
    }
    p->inpos = p->inscan = end < p->in.len ? end + 1 : end;
    progress = 1;
  }
  return progress;
}

/* one answer's envelope to print */
static void answer(struct pl *p, const char *line, size_t n)
{
  if (!stralloc_catb(&p->out, line + 1, n - 1) || !stralloc_catb(&p->out, "\n", 1))
    riap_err_die(111, "out of memory");
  p->head = (p->head + 1) % p->o->window;
  --p->count;
  ++p->answered;
}

/* does what can be done without waiting: queues lines, sends, takes the
 * answers that came; returns 0, -1 when the connection broke */
static int step(struct pl *p)
{
  int progress = 1;
  while (progress) {
    const char *line;
    size_t n;
    int r = 0;
    progress = take_lines(p);
    if (riap_client_pending(&p->c) && riap_client_flush(&p->c) < 0) return -1;
    while (p->count && (r = riap_client_getline(&p->c, &line, &n)) > 0) {
      json_t *env = riap_client_parse(&p->c, line, n);
      if (!env) return -1;
      json_decref(env);
      answer(p, line, n);
      progress = 1;
    }
    if (p->count && r < 0) return -1;
    if (p->out.len > 65536) out_write(&p->out);
  }
  return 0;
}

/* reads what stdin has into in, making room first */
static void read_stdin(struct pl *p)
{
  ssize_t k;
  if (p->inpos == p->in.len) { p->in.len = p->inpos = p->inscan = 0; }
  else if (p->inpos > 65536) {
    memmove(p->in.s, p->in.s + p->inpos, p->in.len - p->inpos);
    p->in.len -= p->inpos;
    p->inscan -= p->inpos;
    p->inpos = 0;
  }
  if (!stralloc_readyplus(&p->in, 65536)) riap_err_die(111, "out of memory");
  k = read(0, p->in.s + p->in.len, p->in.a - p->in.len);
  if (k > 0) p->in.len += (size_t)k;
  else if (k == 0) p->in_eof = 1;
  else if (errno != EINTR && errno != EAGAIN) riap_err_die(111, "unable to read stdin: %s", strerror(errno));
}

/* waits for stdin, the connection or the oldest deadline; returns 0, 1
 * when the oldest request timed out */
static int wait_some(struct pl *p)
{
  struct pollfd pf[3];
  int np = 0, timeout = -1, r, ist = -1;
  long long *due = p->due;
  if (!p->in_eof && p->count < p->o->window) { ist = np; pf[np].fd = 0; pf[np++].events = POLLIN; }
  if (riap_client_pending(&p->c)) { pf[np].fd = p->c.wfd; pf[np++].events = POLLOUT; }
  if (p->count) { pf[np].fd = p->c.rfd; pf[np++].events = POLLIN; }
  if (p->count && due[p->head] >= 0) {
    long long left = due[p->head] - riap_time_monoms();
    if (left <= 0) return 1;
    timeout = left > 0x7fffffff ? 0x7fffffff : (int)left;
  }
  r = poll(pf, (nfds_t)np, timeout);
  if (r < 0 && errno == EINTR) return 0;
  if (r < 0) riap_err_die(111, "poll: %s", strerror(errno));
  if (r == 0 && p->count && due[p->head] >= 0 && riap_time_monoms() >= due[p->head]) return 1;
  if (ist >= 0 && pf[ist].revents) read_stdin(p);
  return 0;
}

/* the connection broke: prints the answers that came before, then exits
 * 111 unless nothing was lost; returns 0 then */
static int broken(struct pl *p)
{
  char why[RIAP_CLIENT_MSGMAX];
  const char *line;
  size_t n;
  json_t *env = NULL;
  memcpy(why, p->c.msg, sizeof why);
  while (p->count && riap_client_getline(&p->c, &line, &n) > 0 && (env = riap_client_parse(&p->c, line, n))) {
    json_decref(env);
    answer(p, line, n);
  }
  if (p->out.len) out_write(&p->out);
  if (!p->count) {   /* the failure came after the last answer (a write of nothing more) */
    riap_client_close(&p->c, 1000);
    if (p->in_eof && p->inpos == p->in.len) return 0;
  }
  if (!riap_client_close(&p->c, 1000))
    riap_err_die(111, "%s (%s); %lu answered, %zu unanswered", why, p->c.msg, p->answered, p->count);
  riap_err_die(111, "%s; %lu answered, %zu unanswered", why, p->answered, p->count);
}

static void timedout(struct pl *p)
{
  if (p->out.len) out_write(&p->out);
  riap_client_close(&p->c, 0);
  riap_err_die(111, "no response from %s within %d.%03d s; %lu answered, %zu unanswered",
               p->c.endpoint, p->o->timeout_ms / 1000, p->o->timeout_ms % 1000, p->answered, p->count);
}

int pipeline_run(const struct opts *o)
{
  static struct pl p;   /* static: still reachable when riap exits on a failure */
  memset(&p, 0, sizeof p);
  p.o = o;
  if (!(p.due = calloc(o->window, sizeof *p.due))) riap_err_die(111, "out of memory");
  conn_open(&p.c, o);
  for (;;) {
    if (step(&p) < 0) return broken(&p);
    if (p.in_eof && p.inpos == p.in.len && !p.count && !riap_client_pending(&p.c)) break;
    /* nothing more to do without waiting: print what came, then poll */
    if (p.out.len) out_write(&p.out);
    if (wait_some(&p)) timedout(&p);
  }
  if (p.out.len) out_write(&p.out);
  if (!riap_client_close(&p.c, 2000)) riap_err_warn("%s", p.c.msg);
  stralloc_free(&p.in);
  stralloc_free(&p.out);
  free(p.due);
  return 0;
}
