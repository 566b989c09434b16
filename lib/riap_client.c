/* riap_client.c: client connections to Riap::Simple endpoints (see
 * riap_client.h). */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "riap_client.h"
#include "riap_time.h"
#include "riap_json.h"

extern char **environ;

static void fail(struct riap_conn *c, enum riap_client_err e, const char *fmt, ...)
{
  va_list ap;
  c->err = e;
  va_start(ap, fmt);
  vsnprintf(c->msg, sizeof c->msg, fmt, ap);
  va_end(ap);
}


static long long deadline_of(int timeout_ms)
{
  return timeout_ms < 0 ? -1 : riap_time_monoms() + timeout_ms;
}

/* the poll timeout left until deadline (-1: none), 0 when it has passed */
static int left_of(long long deadline)
{
  long long l;
  if (deadline < 0) return -1;
  l = deadline - riap_time_monoms();
  if (l <= 0) return 0;
  return l > 0x7fffffff ? 0x7fffffff : (int)l;
}

/* poll one fd for ev until deadline: 1 ready, 0 timed out, -1 error */
static int wait_fd(int fd, short ev, long long deadline)
{
  struct pollfd p;
  int r;
  for (;;) {
    p.fd = fd;
    p.events = ev;
    p.revents = 0;
    r = poll(&p, 1, left_of(deadline));
    if (r > 0) return 1;
    if (r == 0) return 0;
    if (errno != EINTR) return -1;
  }
}

static void sleep_ms(int ms)
{
  struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

void riap_conn_init(struct riap_conn *c)
{
  memset(c, 0, sizeof *c);
  c->rfd = c->wfd = -1;
  c->maxline = RIAP_CLIENT_MAXLINE;
}

static void reset_buffers(struct riap_conn *c)
{
  stralloc_free(&c->in);
  stralloc_free(&c->out);
  c->inpos = c->inscan = c->outpos = 0;
}

/* --- opening */

static int open_tcp(struct riap_conn *c, const struct riap_url *u, long long deadline)
{
  struct addrinfo hints, *res = NULL, *ai;
  char port[8];
  int r, fd = -1, err = 0, timedout = 0, one = 1;

  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  snprintf(port, sizeof port, "%u", u->port);
  r = getaddrinfo(u->host, port, &hints, &res);
  if (r) {
    if (r == EAI_MEMORY) { fail(c, RIAP_CLIENT_ENOMEM, "out of memory"); return 0; }
    fail(c, RIAP_CLIENT_ECONNECT, "unable to resolve %s: %s", u->host,
         r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
    return 0;
  }
  for (ai = res; ai; ai = ai->ai_next) {
    socklen_t elen = sizeof err;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) { err = errno; continue; }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) break;
    if (errno != EINPROGRESS && errno != EINTR) { err = errno; close(fd); fd = -1; continue; }
    r = wait_fd(fd, POLLOUT, deadline);
    if (r == 0) { timedout = 1; close(fd); fd = -1; break; }
    if (r < 0) { err = errno; close(fd); fd = -1; continue; }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0) err = errno;
    if (!err) break;
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    if (timedout) fail(c, RIAP_CLIENT_ETIMEOUT, "unable to connect to %s: timed out", c->endpoint);
    else fail(c, RIAP_CLIENT_ECONNECT, "unable to connect to %s: %s", c->endpoint, strerror(err ? err : ECONNREFUSED));
    return 0;
  }
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->rfd = c->wfd = fd;
  return 1;
}

static int open_unix(struct riap_conn *c, const struct riap_url *u, long long deadline)
{
  struct sockaddr_un sun;
  size_t len = strlen(u->path);
  int fd, delay = 1;

  if (len >= sizeof sun.sun_path) {
    fail(c, RIAP_CLIENT_ECONNECT, "unable to connect to %s: path too long", c->endpoint);
    return 0;
  }
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  memcpy(sun.sun_path, u->path, len);
  fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    fail(c, RIAP_CLIENT_ECONNECT, "unable to connect to %s: %s", c->endpoint, strerror(errno));
    return 0;
  }
  for (;;) {
    if (connect(fd, (struct sockaddr *)&sun, sizeof sun) == 0) break;
    if (errno == EINTR) continue;
    if (errno == EINPROGRESS) {   /* not expected for AF_UNIX, handled anyway */
      int err = 0, r = wait_fd(fd, POLLOUT, deadline);
      socklen_t elen = sizeof err;
      if (r > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && !err) break;
      if (r == 0) errno = ETIMEDOUT; else errno = err ? err : errno;
    } else if (errno == EAGAIN && left_of(deadline) != 0) {
      /* the listener's backlog is full: try again shortly */
      sleep_ms(delay);
      if (delay < 50) delay *= 2;
      continue;
    }
    if (errno == EAGAIN || errno == ETIMEDOUT)
      fail(c, RIAP_CLIENT_ETIMEOUT, "unable to connect to %s: timed out", c->endpoint);
    else
      fail(c, RIAP_CLIENT_ECONNECT, "unable to connect to %s: %s", c->endpoint, strerror(errno));
    close(fd);
    return 0;
  }
  c->rfd = c->wfd = fd;
  return 1;
}

/* moves fd above 2 (so that dup2 onto 0/1 in the child never meets it),
 * keeping close-on-exec; returns the fd, -1 on failure */
static int above2(int fd)
{
  int n;
  if (fd > 2) return fd;
  n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
  close(fd);
  return n;
}

static int open_pipe(struct riap_conn *c, const struct riap_url *u)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, r, i;
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none, all;
  pid_t pid;

  if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) goto sysfail;
  for (i = 0; i < 2; ++i) {
    if ((in[i] = above2(in[i])) < 0) goto sysfail;
    if ((out[i] = above2(out[i])) < 0) goto sysfail;
  }
  if (posix_spawn_file_actions_init(&fa)) goto sysfail;
  if (posix_spawnattr_init(&at)) { posix_spawn_file_actions_destroy(&fa); goto sysfail; }
  sigemptyset(&none);
  sigfillset(&all);
  sigdelset(&all, SIGKILL);
  sigdelset(&all, SIGSTOP);
  r = posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  if (!r) r = posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  /* the backend gets fds 0-2 only, whatever its parent holds without
   * close-on-exec (a worker's control channel: issue 14) */
  if (!r) r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  if (!r) r = posix_spawnattr_setsigmask(&at, &none);
  if (!r) r = posix_spawnattr_setsigdefault(&at, &all);
  if (!r) r = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (!r) r = posix_spawnp(&pid, u->argv[0], &fa, &at, u->argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  close(in[0]);
  close(out[1]);
  in[0] = out[1] = -1;
  if (r) {
    close(in[1]);
    close(out[0]);
    fail(c, RIAP_CLIENT_ECONNECT, "unable to run %s: %s", u->argv[0], strerror(r));
    return 0;
  }
  if (fcntl(in[1], F_SETFL, O_NONBLOCK) < 0 || fcntl(out[0], F_SETFL, O_NONBLOCK) < 0) {
    /* cannot happen on a pipe; keep the child reapable anyway */
    c->pid = pid;
    c->wfd = in[1];
    c->rfd = out[0];
    riap_client_close(c, 0);
    fail(c, RIAP_CLIENT_ECONNECT, "unable to run %s: %s", u->argv[0], strerror(errno));
    return 0;
  }
  c->pid = pid;
  c->wfd = in[1];
  c->rfd = out[0];
  return 1;

sysfail:
  r = errno;
  for (i = 0; i < 2; ++i) {
    if (in[i] >= 0) close(in[i]);
    if (out[i] >= 0) close(out[i]);
  }
  fail(c, r == ENOMEM ? RIAP_CLIENT_ENOMEM : RIAP_CLIENT_ECONNECT, "unable to run %s: %s", u->argv[0], strerror(r));
  return 0;
}

int riap_client_open(struct riap_conn *c, const struct riap_url *u, int timeout_ms)
{
  long long deadline = deadline_of(timeout_ms);
  struct sigaction sa;
  size_t i;

  c->err = RIAP_CLIENT_OK;
  c->msg[0] = 0;
  snprintf(c->endpoint, sizeof c->endpoint, "%s", u->endpoint ? u->endpoint : "?");
  for (i = 0; c->endpoint[i]; ++i)   /* messages stay one line */
    if ((unsigned char)c->endpoint[i] < 0x20 || c->endpoint[i] == 0x7f) c->endpoint[i] = '?';
  reset_buffers(c);
  c->rfd = c->wfd = -1;
  c->pid = 0;
  c->sigign = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
  switch (u->scheme) {
    case RIAP_URL_TCP: return open_tcp(c, u, deadline);
    case RIAP_URL_UNIX: return open_unix(c, u, deadline);
    case RIAP_URL_PIPE: return open_pipe(c, u);
    default:
      fail(c, RIAP_CLIENT_ECONNECT, "not a Riap URL");
      return 0;
  }
}

int riap_client_adopt(struct riap_conn *c, const struct riap_url *u, int rfd, int wfd, pid_t pid)
{
  struct sigaction sa;
  size_t i;
  int fl;
  c->err = RIAP_CLIENT_OK;
  c->msg[0] = 0;
  snprintf(c->endpoint, sizeof c->endpoint, "%s", u->endpoint ? u->endpoint : "?");
  for (i = 0; c->endpoint[i]; ++i)
    if ((unsigned char)c->endpoint[i] < 0x20 || c->endpoint[i] == 0x7f) c->endpoint[i] = '?';
  reset_buffers(c);
  c->rfd = c->wfd = -1;
  c->pid = 0;
  c->sigign = sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
  if (u->scheme != RIAP_URL_PIPE || rfd < 0 || wfd < 0 || pid <= 0
      || fcntl(rfd, F_SETFD, FD_CLOEXEC) < 0 || fcntl(wfd, F_SETFD, FD_CLOEXEC) < 0
      || (fl = fcntl(rfd, F_GETFL)) < 0 || fcntl(rfd, F_SETFL, fl | O_NONBLOCK) < 0
      || (fl = fcntl(wfd, F_GETFL)) < 0 || fcntl(wfd, F_SETFL, fl | O_NONBLOCK) < 0) {
    fail(c, RIAP_CLIENT_ECONNECT, "unable to take over %s: %s", c->endpoint, strerror(errno ? errno : EBADF));
    return 0;
  }
  c->rfd = rfd;
  c->wfd = wfd;
  c->pid = pid;
  return 1;
}

/* --- sending */

/* drops the bytes already written when that frees much */
static void compact_out(struct riap_conn *c)
{
  if (!c->outpos) return;
  if (c->outpos == c->out.len) c->outpos = c->out.len = 0;
  else if (c->outpos >= 65536 && c->outpos >= c->out.len / 2) {
    memmove(c->out.s, c->out.s + c->outpos, c->out.len - c->outpos);
    c->out.len -= c->outpos;
    c->outpos = 0;
  }
}

int riap_client_queue(struct riap_conn *c, const char *s, size_t n)
{
  compact_out(c);
  if (!stralloc_catb(&c->out, s, n)) { fail(c, RIAP_CLIENT_ENOMEM, "out of memory"); return 0; }
  return 1;
}

int riap_client_queuereq(struct riap_conn *c, const json_t *req)
{
  size_t before;
  compact_out(c);
  before = c->out.len;
  if (!stralloc_catb(&c->out, "j", 1) || !riap_json_cat(&c->out, req)
      || !stralloc_catb(&c->out, "\r\n", 2)) {
    c->out.len = before;
    fail(c, RIAP_CLIENT_ENOMEM, "out of memory");
    return 0;
  }
  return 1;
}

size_t riap_client_pending(const struct riap_conn *c)
{
  return c->out.len - c->outpos;
}

/* write to a pipe with SIGPIPE masked (unless ignored): EPIPE, no signal */
static ssize_t pipewrite(struct riap_conn *c, const char *b, size_t n)
{
  sigset_t set, old, pend;
  int pending, e;
  ssize_t r;
  if (c->sigign) return write(c->wfd, b, n);
  sigemptyset(&set);
  sigaddset(&set, SIGPIPE);
  sigpending(&pend);
  pending = sigismember(&pend, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  r = write(c->wfd, b, n);
  e = errno;
  if (r < 0 && e == EPIPE && !pending) {
    struct timespec zero = { 0, 0 };
    while (sigtimedwait(&set, NULL, &zero) < 0 && errno == EINTR) {}
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  errno = e;
  return r;
}

int riap_client_flush(struct riap_conn *c)
{
  while (c->outpos < c->out.len) {
    size_t n = c->out.len - c->outpos;
    ssize_t r;
    if (c->wfd < 0) { fail(c, RIAP_CLIENT_ECLOSED, "connection to %s is closed", c->endpoint); return -1; }
    if (c->pid) r = pipewrite(c, c->out.s + c->outpos, n);
    else r = send(c->wfd, c->out.s + c->outpos, n, MSG_NOSIGNAL);
    if (r > 0) { c->outpos += (size_t)r; continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (r < 0 && (errno == EPIPE || errno == ECONNRESET))
      fail(c, RIAP_CLIENT_ECLOSED, "connection closed by %s while sending", c->endpoint);
    else
      fail(c, RIAP_CLIENT_EIO, "unable to write to %s: %s", c->endpoint, strerror(r < 0 ? errno : EIO));
    return -1;
  }
  c->outpos = c->out.len = 0;
  return 1;
}

int riap_client_send(struct riap_conn *c, const json_t *req, int timeout_ms)
{
  long long deadline = deadline_of(timeout_ms);
  int r;
  if (req && !riap_client_queuereq(c, req)) return 0;
  for (;;) {
    r = riap_client_flush(c);
    if (r > 0) return 1;
    if (r < 0) return 0;
    r = wait_fd(c->wfd, POLLOUT, deadline);
    if (r == 0) { fail(c, RIAP_CLIENT_ETIMEOUT, "timed out sending to %s", c->endpoint); return 0; }
    if (r < 0) { fail(c, RIAP_CLIENT_EIO, "poll: %s", strerror(errno)); return 0; }
  }
}

/* --- receiving */

int riap_client_getline(struct riap_conn *c, const char **line, size_t *n)
{
  for (;;) {
    char *nl = c->inscan < c->in.len ? memchr(c->in.s + c->inscan, '\n', c->in.len - c->inscan) : NULL;
    ssize_t r;
    if (nl) {
      size_t start = c->inpos, len = (size_t)(nl - c->in.s) - start;
      if (len + 1 > c->maxline) {
        fail(c, RIAP_CLIENT_ETOOLONG, "response line from %s longer than %zu bytes", c->endpoint, c->maxline);
        return -1;
      }
      c->inpos = c->inscan = (size_t)(nl - c->in.s) + 1;
      if (len && c->in.s[start + len - 1] == '\r') --len;
      *line = c->in.s + start;
      *n = len;
      return 1;
    }
    c->inscan = c->in.len;
    if (c->in.len - c->inpos > c->maxline) {
      fail(c, RIAP_CLIENT_ETOOLONG, "response line from %s longer than %zu bytes", c->endpoint, c->maxline);
      return -1;
    }
    if (c->inpos) {   /* keep only the partial line, at the front */
      memmove(c->in.s, c->in.s + c->inpos, c->in.len - c->inpos);
      c->in.len -= c->inpos;
      c->inscan -= c->inpos;
      c->inpos = 0;
    }
    if (c->rfd < 0) { fail(c, RIAP_CLIENT_ECLOSED, "connection to %s is closed", c->endpoint); return -1; }
    if (!stralloc_readyplus(&c->in, 65536)) { fail(c, RIAP_CLIENT_ENOMEM, "out of memory"); return -1; }
    r = read(c->rfd, c->in.s + c->in.len, c->in.a - c->in.len);
    if (r > 0) { c->in.len += (size_t)r; continue; }
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
    if (r == 0 || errno == ECONNRESET) {
      if (c->in.len) fail(c, RIAP_CLIENT_ECLOSED, "connection closed by %s in the middle of a response line", c->endpoint);
      else fail(c, RIAP_CLIENT_ECLOSED, "connection closed by %s without a response", c->endpoint);
    } else {
      fail(c, RIAP_CLIENT_EIO, "unable to read from %s: %s", c->endpoint, strerror(errno));
    }
    return -1;
  }
}

/* the first bytes of a line, printable ASCII kept, the rest as \xNN */
static void quote(char *dest, size_t size, const char *s, size_t n)
{
  size_t i, j = 0, cap = n > 60 ? 60 : n;
  for (i = 0; i < cap && j + 5 < size; ++i) {
    unsigned char ch = (unsigned char)s[i];
    if (ch >= 0x20 && ch < 0x7f && ch != '\\') dest[j++] = (char)ch;
    else j += (size_t)snprintf(dest + j, size - j, "\\x%02x", ch);
  }
  if (cap < n && j + 4 < size) { memcpy(dest + j, "...", 3); j += 3; }
  dest[j] = 0;
}

json_t *riap_client_parse(struct riap_conn *c, const char *line, size_t n)
{
  json_error_t jerr;
  json_t *env;
  char q[320];
  if (n == 0 || line[0] != 'j') {
    quote(q, sizeof q, line, n);
    fail(c, RIAP_CLIENT_EPROTO, "invalid response line from %s: \"%s\"", c->endpoint, q);
    return NULL;
  }
  env = json_loadb(line + 1, n - 1, JSON_ALLOW_NUL, &jerr);
  if (!env) {
    if (json_error_code(&jerr) == json_error_out_of_memory) { fail(c, RIAP_CLIENT_ENOMEM, "out of memory"); return NULL; }
    quote(q, sizeof q, line, n);
    fail(c, RIAP_CLIENT_EPROTO, "invalid JSON in the response from %s: %s: \"%s\"", c->endpoint, jerr.text, q);
    return NULL;
  }
  if (!json_is_array(env) || json_array_size(env) < 1 || !json_is_integer(json_array_get(env, 0))
      || (json_array_size(env) > 1 && !json_is_string(json_array_get(env, 1))
          && !json_is_null(json_array_get(env, 1)))) {
    json_decref(env);
    quote(q, sizeof q, line, n);
    fail(c, RIAP_CLIENT_EPROTO, "invalid response from %s (not an envelope [STATUS, MESSAGE, ...]): \"%s\"", c->endpoint, q);
    return NULL;
  }
  return env;
}

/* waits until deadline for a response; timeout_ms only for the message */
static json_t *recv_until(struct riap_conn *c, long long deadline, int timeout_ms)
{
  for (;;) {
    const char *line;
    size_t n;
    int r = riap_client_getline(c, &line, &n);
    if (r > 0) return riap_client_parse(c, line, n);
    if (r < 0) return NULL;
    r = wait_fd(c->rfd, POLLIN, deadline);
    if (r == 0) {
      fail(c, RIAP_CLIENT_ETIMEOUT, "no response from %s within %d.%03d s", c->endpoint,
           timeout_ms / 1000, timeout_ms % 1000);
      return NULL;
    }
    if (r < 0) { fail(c, RIAP_CLIENT_EIO, "poll: %s", strerror(errno)); return NULL; }
  }
}

json_t *riap_client_recv(struct riap_conn *c, int timeout_ms)
{
  return recv_until(c, deadline_of(timeout_ms), timeout_ms);
}

json_t *riap_client_request(struct riap_conn *c, const json_t *req, int timeout_ms)
{
  long long deadline = deadline_of(timeout_ms);
  int left;
  if (!riap_client_send(c, req, timeout_ms)) {
    /* a server may answer and close before reading all of the request (an
     * early refusal, a program that prints and exits): its answer, or
     * whatever it printed, tells more than the broken pipe */
    char why[RIAP_CLIENT_MSGMAX];
    enum riap_client_err err = c->err;
    json_t *env;
    if (err != RIAP_CLIENT_ECLOSED) return NULL;
    memcpy(why, c->msg, sizeof why);
    env = riap_client_recv(c, left_of(deadline) < 0 || left_of(deadline) > 1000 ? 1000 : left_of(deadline));
    if (env || c->err == RIAP_CLIENT_EPROTO || c->err == RIAP_CLIENT_ETOOLONG) return env;
    memcpy(c->msg, why, sizeof why);
    c->err = err;
    return NULL;
  }
  left = left_of(deadline);
  /* the answer to what was just sent is rarely there yet: wait for it
   * first rather than try a read that fails with EAGAIN (one system call
   * less per request) */
  if (left != 0 && c->inscan == c->in.len) {
    int r = wait_fd(c->rfd, POLLIN, deadline);
    if (r < 0) { fail(c, RIAP_CLIENT_EIO, "poll: %s", strerror(errno)); return NULL; }
    left = left_of(deadline);
  }
  if (left == 0) {
    fail(c, RIAP_CLIENT_ETIMEOUT, "no response from %s within %d.%03d s", c->endpoint,
         timeout_ms / 1000, timeout_ms % 1000);
    return NULL;
  }
  return recv_until(c, deadline, timeout_ms);
}

/* --- closing */

int riap_client_close(struct riap_conn *c, int timeout_ms)
{
  int ok = 1, status = 0, delay = 1;
  long long deadline;
  pid_t r;

  if (c->wfd >= 0 && c->wfd != c->rfd) close(c->wfd);
  if (c->rfd >= 0) close(c->rfd);
  c->rfd = c->wfd = -1;
  reset_buffers(c);
  if (!c->pid) return 1;

  deadline = deadline_of(timeout_ms);
  for (;;) {
    r = waitpid(c->pid, &status, WNOHANG);
    if (r == c->pid || (r < 0 && errno != EINTR)) break;
    if (r == 0 && left_of(deadline) == 0) {
      kill(c->pid, SIGTERM);
      deadline = deadline_of(1000);
      while ((r = waitpid(c->pid, &status, WNOHANG)) == 0 && left_of(deadline) != 0) sleep_ms(5);
      if (r == 0) {
        kill(c->pid, SIGKILL);
        while ((r = waitpid(c->pid, &status, 0)) < 0 && errno == EINTR) {}
      }
      if (r == c->pid && WIFSIGNALED(status)) {
        fail(c, RIAP_CLIENT_EIO, "%s did not exit after its stdin was closed: killed", c->endpoint);
        c->pid = 0;
        return 0;
      }
      break;
    }
    if (r == 0) { sleep_ms(delay); if (delay < 20) delay *= 2; }
  }
  if (r < 0) {
    fail(c, RIAP_CLIENT_EIO, "unable to reap %s: %s", c->endpoint, strerror(errno));
    ok = 0;
  } else if (WIFEXITED(status) && WEXITSTATUS(status)) {
    fail(c, RIAP_CLIENT_EIO, "%s exited %d", c->endpoint, WEXITSTATUS(status));
    ok = 0;
  } else if (WIFSIGNALED(status)) {
    fail(c, RIAP_CLIENT_EIO, "%s killed by signal %d", c->endpoint, WTERMSIG(status));
    ok = 0;
  }
  c->pid = 0;
  return ok;
}
