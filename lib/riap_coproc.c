#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include "riap_coproc.h"
#include "riap_time.h"
#include "riap_exec.h"


int riap_coproc_start(struct riap_coproc *c, const char *path, char *const *envp, const char *dir,
                      const struct riap_exec_limits *limits)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, e;
  if (c->pid) return 1;
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    e = errno;
    goto fail;
  }
  e = riap_exec_spawn(path, envp, dir, in[0], out[1], err[1], limits, &c->pid);
  if (e) { c->pid = 0; goto fail; }
  close(in[0]); close(out[1]); close(err[1]);
  c->in = in[1];
  c->out = out[0];
  c->err = err[0];
  fcntl(c->in, F_SETFL, O_NONBLOCK);
  fcntl(c->out, F_SETFL, O_NONBLOCK);
  fcntl(c->err, F_SETFL, O_NONBLOCK);
  c->rbuf.len = 0;
  c->elen = 0;
  return 1;
fail:
  if (in[0] >= 0) { close(in[0]); close(in[1]); }
  if (out[0] >= 0) { close(out[0]); close(out[1]); }
  if (err[0] >= 0) { close(err[0]); close(err[1]); }
  c->code = e;
  return 0;
}

void riap_coproc_stop(struct riap_coproc *c)
{
  int status = 0;
  if (!c->pid) return;
  kill(-c->pid, SIGKILL);
  while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR) ;
  close(c->in); close(c->out); close(c->err);
  c->pid = 0;
  c->code = status;
}

void riap_coproc_free(struct riap_coproc *c)
{
  riap_coproc_stop(c);
  free(c->rbuf.s);
  memset(&c->rbuf, 0, sizeof c->rbuf);
}

/* stderr: passes each complete line on, keeps the latest for messages */
static void read_err(struct riap_coproc *c, void (*errline)(void *, const char *, size_t), void *arg)
{
  char buf[4096];
  ssize_t n, i;
  while ((n = read(c->err, buf, sizeof buf)) > 0) {
    for (i = 0; i < n; i++) {
      if (buf[i] != '\n' && c->elen < sizeof c->ebuf) { c->ebuf[c->elen++] = buf[i]; continue; }
      if (buf[i] != '\n') continue;          /* over-long line: the rest is dropped */
      if (errline) errline(arg, c->ebuf, c->elen);
      memcpy(c->lastline, c->ebuf, c->elen < sizeof c->lastline ? c->elen : sizeof c->lastline - 1);
      c->lastline[c->elen < sizeof c->lastline ? c->elen : sizeof c->lastline - 1] = 0;
      c->elen = 0;
    }
  }
}

/* takes one line out of rbuf; returns 1 when there was one */
static int take_line(struct riap_coproc *c, stralloc *out)
{
  char *nl = c->rbuf.len ? memchr(c->rbuf.s, '\n', c->rbuf.len) : 0;
  size_t n;
  if (!nl) return 0;
  n = (size_t)(nl - c->rbuf.s);
  if (!stralloc_copyb(out, c->rbuf.s, n)) return 0;
  memmove(c->rbuf.s, nl + 1, c->rbuf.len - n - 1);
  c->rbuf.len -= n + 1;
  return 1;
}

/* it is gone: GONE when not a byte of the written ones was read (they are
 * all still in the pipe), else DIED; before end() closes the pipe */
static enum riap_coproc_outcome gone_or_died(const struct riap_coproc *c, size_t written)
{
  int unread;
  if (!written) return RIAP_COPROC_GONE;
  return ioctl(c->in, FIONREAD, &unread) == 0 && (size_t)unread == written ? RIAP_COPROC_GONE : RIAP_COPROC_DIED;
}

static enum riap_coproc_outcome end(struct riap_coproc *c, enum riap_coproc_outcome o)
{
  riap_coproc_stop(c);
  return o;
}

enum riap_coproc_outcome riap_coproc_call(struct riap_coproc *c, const char *line, size_t n,
                                          unsigned long timeout_ms, size_t max, stralloc *out,
                                          void (*errline)(void *arg, const char *s, size_t n), void *arg)
{
  long long deadline = riap_time_monoms() + (long long)timeout_ms;
  size_t sent = 0;
  int newline_sent = 0;
  c->lastline[0] = 0;
  c->rbuf.len = 0;            /* whatever it printed unasked belongs to no call */
  for (;;) {
    struct pollfd pf[3] = { { c->in, POLLOUT, 0 }, { c->out, POLLIN, 0 }, { c->err, POLLIN, 0 } };
    long long left = deadline - riap_time_monoms();
    int rc;
    if (newline_sent) pf[0].fd = -1;
    if (left <= 0) return end(c, RIAP_COPROC_TIMEOUT);
    rc = poll(pf, 3, left > 1000000 ? 1000000 : (int)left);
    if (rc < 0 && errno != EINTR) return end(c, RIAP_COPROC_DIED);
    if (rc <= 0) continue;
    if (pf[2].revents) read_err(c, errline, arg);
    if (pf[0].fd >= 0 && pf[0].revents) {
      /* the line and its newline in one write: the coprocess wakes once */
      struct iovec iov[2] = { { (char *)line + sent, n - sent }, { (char *)"\n", 1 } };
      ssize_t w = sent < n ? writev(c->in, iov, 2) : write(c->in, "\n", 1);
      if (w < 0 && errno != EAGAIN && errno != EINTR)
        return end(c, errno == EPIPE ? gone_or_died(c, sent + (size_t)newline_sent) : RIAP_COPROC_DIED);
      if (w > 0) {
        size_t all = (size_t)w + sent;
        if (all > n) newline_sent = 1;
        sent = all > n ? n : all;
      }
    }
    if (pf[1].revents) {
      char buf[16384];
      ssize_t r = read(c->out, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
        read_err(c, errline, arg);
        return end(c, gone_or_died(c, sent + (size_t)newline_sent));
      }
      if (r > 0) {
        if (!stralloc_catb(&c->rbuf, buf, (size_t)r)) return end(c, RIAP_COPROC_TOOBIG);
        if (take_line(c, out)) {
          if (out->len > max) return end(c, RIAP_COPROC_TOOBIG);
          if (!newline_sent) riap_coproc_stop(c);   /* it answered before hearing the question */
          return RIAP_COPROC_OK;
        }
        if (c->rbuf.len > max) return end(c, RIAP_COPROC_TOOBIG);
      }
    }
  }
}
