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
static int queue_line(struct riap_conn *c, const struct opts *o, char *s, size_t n) {
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
      if (!ok || !riap_client_queuereq(c, req)) fatal(EXIT_TEMP, "out of memory");
      json_decref(req);
      return 1;
    }
    json_decref(req);
  }
  /* a j line, a complete request, or something the server will refuse
   * with its own 400: sent as it is, so that every line gets its answer */
  if ((s[0] != 'j' && !riap_client_queue(c, "j", 1)) || !riap_client_queue(c, s, n)
      || !riap_client_queue(c, "\r\n", 2)) fatal(EXIT_TEMP, "out of memory");
  return 1;
}

int pipeline_run(const struct opts *o) {
  struct riap_conn c;
  stralloc in = { 0, 0, 0 }, out = { 0, 0, 0 };
  size_t inpos = 0, inscan = 0;
  int in_eof = 0;
  long long *due = calloc(o->window, sizeof *due);   /* deadlines of the unanswered, a ring */
  size_t head = 0, count = 0;
  unsigned long answered = 0;

  if (!due) fatal(EXIT_TEMP, "out of memory");
  conn_open(&c, o);

  for (;;) {
    int progress = 1;
    while (progress) {
      const char *line;
      size_t n;
      int r = 0;
      progress = 0;
      /* stdin: every complete line while the window has room */
      while (count < o->window) {
        char *nl = inscan < in.len ? memchr(in.s + inscan, '\n', in.len - inscan) : NULL;
        size_t end;
        if (nl) end = (size_t)(nl - in.s);
        else if (in_eof && inpos < in.len) end = in.len;   /* a last line without LF */
        else { inscan = in.len; break; }
        if (queue_line(&c, o, in.s + inpos, end - inpos)) {
          due[(head + count) % o->window] = o->timeout_ms < 0 ? -1 : riap_time_monoms() + o->timeout_ms;
          ++count;
        }
        inpos = inscan = end < in.len ? end + 1 : end;
        progress = 1;
      }
      /* the connection */
      if (riap_client_pending(&c) && riap_client_flush(&c) < 0) goto broken;
      while (count && (r = riap_client_getline(&c, &line, &n)) > 0) {
        json_t *env = riap_client_parse(&c, line, n);
        if (!env) goto broken;
        json_decref(env);
        if (!stralloc_catb(&out, line + 1, n - 1) || !stralloc_catb(&out, "\n", 1)) fatal(EXIT_TEMP, "out of memory");
        head = (head + 1) % o->window;
        --count;
        ++answered;
        progress = 1;
      }
      if (count && r < 0) goto broken;
      if (out.len > 65536) out_write(&out);
    }
    if (in_eof && inpos == in.len && !count && !riap_client_pending(&c)) break;

    /* nothing more to do without waiting: print what came, then poll */
    if (out.len) out_write(&out);
    {
      struct pollfd p[3];
      int np = 0, timeout = -1, r, ist = -1;
      if (!in_eof && count < o->window) { ist = np; p[np].fd = 0; p[np++].events = POLLIN; }
      if (riap_client_pending(&c)) { p[np].fd = c.wfd; p[np++].events = POLLOUT; }
      if (count) { p[np].fd = c.rfd; p[np++].events = POLLIN; }
      if (count && due[head] >= 0) {
        long long left = due[head] - riap_time_monoms();
        if (left <= 0) goto timedout;
        timeout = left > 0x7fffffff ? 0x7fffffff : (int)left;
      }
      r = poll(p, (nfds_t)np, timeout);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) fatal(EXIT_TEMP, "poll: %s", strerror(errno));
      if (r == 0 && count && due[head] >= 0 && riap_time_monoms() >= due[head]) goto timedout;
      if (ist >= 0 && p[ist].revents) {
        ssize_t k;
        if (inpos == in.len) { in.len = inpos = inscan = 0; }
        else if (inpos > 65536) {
          memmove(in.s, in.s + inpos, in.len - inpos);
          in.len -= inpos;
          inscan -= inpos;
          inpos = 0;
        }
        if (!stralloc_readyplus(&in, 65536)) fatal(EXIT_TEMP, "out of memory");
        k = read(0, in.s + in.len, in.a - in.len);
        if (k > 0) in.len += (size_t)k;
        else if (k == 0) in_eof = 1;
        else if (errno != EINTR && errno != EAGAIN) fatal(EXIT_TEMP, "unable to read stdin: %s", strerror(errno));
      }
    }
  }

  if (out.len) out_write(&out);
  if (!riap_client_close(&c, 2000)) warn("%s", c.msg);
  stralloc_free(&in);
  stralloc_free(&out);
  free(due);
  return 0;

broken:
  {
    char why[RIAP_CLIENT_MSGMAX];
    const char *line;
    size_t n;
    json_t *env = NULL;
    memcpy(why, c.msg, sizeof why);
    /* answers that came before the failure are still printed */
    while (count && riap_client_getline(&c, &line, &n) > 0 && (env = riap_client_parse(&c, line, n))) {
      json_decref(env);
      if (!stralloc_catb(&out, line + 1, n - 1) || !stralloc_catb(&out, "\n", 1)) fatal(EXIT_TEMP, "out of memory");
      --count;
      ++answered;
    }
    if (out.len) out_write(&out);
    if (!count) {   /* the failure came after the last answer (a write of nothing more) */
      riap_client_close(&c, 1000);
      if (in_eof && inpos == in.len) return 0;
    }
    if (!riap_client_close(&c, 1000))
      fatal(EXIT_TEMP, "%s (%s); %lu answered, %zu unanswered", why, c.msg, answered, count);
    fatal(EXIT_TEMP, "%s; %lu answered, %zu unanswered", why, answered, count);
  }

timedout:
  if (out.len) out_write(&out);
  riap_client_close(&c, 0);
  fatal(EXIT_TEMP, "no response from %s within %d.%03d s; %lu answered, %zu unanswered",
        c.endpoint, o->timeout_ms / 1000, o->timeout_ms % 1000, answered, count);
}
