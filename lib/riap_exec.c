#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/pidfd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include "riap_exec.h"
#include "riap_time.h"

enum { F_IN, F_OUT, F_ERR, F_PID };


static void keep_tail(struct riap_exec_result *r, const char *b, size_t n)
{
  r->err_total += n;
  if (n >= RIAP_EXEC_ERRTAIL) {
    memcpy(r->errtail, b + n - RIAP_EXEC_ERRTAIL, RIAP_EXEC_ERRTAIL);
    r->errtail_len = RIAP_EXEC_ERRTAIL;
    return;
  }
  if (r->errtail_len + n > RIAP_EXEC_ERRTAIL) {
    size_t drop = r->errtail_len + n - RIAP_EXEC_ERRTAIL;
    memmove(r->errtail, r->errtail + drop, r->errtail_len - drop);
    r->errtail_len -= drop;
  }
  memcpy(r->errtail + r->errtail_len, b, n);
  r->errtail_len += n;
}

/* read what is there; returns 1 at EOF or error, 0 when more may come, -1 over the cap */
static int drain(int fd, int is_err, const struct riap_exec *x, struct riap_exec_result *r)
{
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n == 0) return 1;
    if (n < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : 1;
    if (is_err) { keep_tail(r, buf, (size_t)n); continue; }
    if (r->out.len + (size_t)n > x->max_output) return -1;
    if (!stralloc_catb(&r->out, buf, (size_t)n)) return -1;
  }
}

static void limit(int resource, unsigned long long v)
{
  struct rlimit r;
  if (!v) return;
  r.rlim_cur = r.rlim_max = (rlim_t)v;
  setrlimit(resource, &r);      /* it can only lower what was inherited; failing that, the old limit stays */
}

void riap_exec_closefrom(unsigned fd)
{
  struct rlimit r;
  unsigned max;
  if (close_range(fd, ~0U, 0) == 0) return;
  /* before Linux 5.9: every fd the limit allows, the rest cannot exist */
  max = getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < (1u << 20) ? (unsigned)r.rlim_cur : 1u << 20;
  for (; fd < max; fd++) close((int)fd);
}

/* the child's side, between vfork and execve: only async-signal-safe calls,
 * nothing written to memory but *err */
static void child(const char *path, char *const *argv, char *const *envp, const char *dir, int in, int out,
                  int err, const struct riap_exec_limits *limits, const sigset_t *none, volatile int *errp)
{
  struct sigaction dfl;
  int sig;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (sig = 1; sig < NSIG; sig++) {     /* no handler or ignored signal survives into the function */
    struct sigaction old;
    if (sig == SIGKILL || sig == SIGSTOP || sigaction(sig, 0, &old)) continue;
    if (old.sa_handler != SIG_DFL) sigaction(sig, &dfl, 0);
  }
  if (setpgid(0, 0) || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0 || (dir && chdir(dir))) goto fail;
  /* fds 0-2 and nothing else, whatever was left without close-on-exec:
   * a worker's control channel would hand the function other clients'
   * connections (issue 14) */
  riap_exec_closefrom(3);
  if (limits) {
    limit(RLIMIT_CPU, limits->cpu_s);
    limit(RLIMIT_AS, limits->as_bytes);
    limit(RLIMIT_NOFILE, limits->nofile);
    limit(RLIMIT_NPROC, limits->nproc);
  }
  sigprocmask(SIG_SETMASK, none, 0);
  execve(path, argv, envp);
fail:
  *errp = errno ? errno : EINVAL;
  _exit(127);
}

/* vfork, not posix_spawn: the limits must be in place before the function's
 * first instruction, or a child it forks at once escapes them */
int riap_exec_spawn(const char *path, char *const *envp, const char *dir, int in, int out, int err,
                    const struct riap_exec_limits *limits, pid_t *pid)
{
  volatile int e = 0;
  sigset_t all, none, old;
  char *argv[2];
  pid_t p;
  argv[0] = (char *)path;
  argv[1] = 0;
  sigfillset(&all);
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &all, &old);   /* no handler may run in the child while it shares our memory */
  p = vfork();
  if (p == 0) child(path, argv, envp, dir, in, out, err, limits, &none, &e);
  sigprocmask(SIG_SETMASK, &old, 0);
  if (p < 0) return errno;
  if (e) {                                 /* it never became the program */
    while (waitpid(p, 0, 0) < 0 && errno == EINTR) ;
    return e;
  }
  *pid = p;
  return 0;
}

static void closepair(int p[2]) { if (p[0] >= 0) close(p[0]); if (p[1] >= 0) close(p[1]); }

static void finish(pid_t pid, struct riap_exec_result *r)
{
  int status;
  kill(-pid, SIGKILL);   /* whatever the function left running in its group goes too */
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) ;
  if (r->outcome != RIAP_EXEC_EXITED) return;
  if (WIFSIGNALED(status)) { r->outcome = RIAP_EXEC_SIGNALED; r->code = WTERMSIG(status); }
  else r->code = WEXITSTATUS(status);
}

int riap_exec_run(const struct riap_exec *x, struct riap_exec_result *r)
{
  int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 };
  struct pollfd pf[4];
  size_t written = 0;
  long long deadline;
  pid_t pid;
  int e, pidfd, exited = 0;

  r->outcome = RIAP_EXEC_EXITED;
  r->code = 0;
  r->out.len = 0;
  r->errtail_len = r->err_total = 0;
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC)) {
    e = errno;
    goto spawnfail;
  }
  e = riap_exec_spawn(x->path, x->envp, x->dir, in[0], out[1], err[1], x->limits, &pid);
  if (e) goto spawnfail;
  close(in[0]); close(out[1]); close(err[1]);
  pidfd = pidfd_open(pid, 0);
  fcntl(in[1], F_SETFL, O_NONBLOCK);
  fcntl(out[0], F_SETFL, O_NONBLOCK);
  fcntl(err[0], F_SETFL, O_NONBLOCK);
  pf[F_IN].fd = x->input_len ? in[1] : -1;
  if (!x->input_len) close(in[1]);
  pf[F_IN].events = POLLOUT;
  pf[F_OUT].fd = out[0]; pf[F_OUT].events = POLLIN;
  pf[F_ERR].fd = err[0]; pf[F_ERR].events = POLLIN;
  pf[F_PID].fd = pidfd; pf[F_PID].events = POLLIN;
  deadline = riap_time_monoms() + (long long)x->timeout_ms;

  while (!exited) {
    long long left = deadline - riap_time_monoms();
    int i, rc;
    if (left <= 0) { r->outcome = RIAP_EXEC_TIMEOUT; break; }
    rc = poll(pf, 4, left > 1000000 ? 1000000 : (int)left);
    if (rc < 0 && errno != EINTR) break;
    if (rc <= 0) continue;
    if (pf[F_IN].fd >= 0 && pf[F_IN].revents) {
      ssize_t n = write(in[1], x->input + written, x->input_len - written);
      if (n > 0) written += (size_t)n;
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == x->input_len) {
        close(in[1]);          /* EPIPE: the function closed stdin early; that is its right */
        pf[F_IN].fd = -1;
      }
    }
    for (i = F_OUT; i <= F_ERR; i++) {
      if (pf[i].fd < 0 || !pf[i].revents) continue;
      rc = drain(pf[i].fd, i == F_ERR, x, r);
      if (rc < 0) { r->outcome = RIAP_EXEC_TOOBIG; goto done; }
      if (rc > 0) { close(pf[i].fd); pf[i].fd = -1; }
    }
    if (pf[F_PID].revents || (pidfd < 0 && pf[F_OUT].fd < 0 && pf[F_ERR].fd < 0)) exited = 1;
  }
  /* it exited: what it wrote is in the pipes already */
  if (exited) {
    if (pf[F_OUT].fd >= 0 && drain(pf[F_OUT].fd, 0, x, r) < 0) r->outcome = RIAP_EXEC_TOOBIG;
    if (pf[F_ERR].fd >= 0) drain(pf[F_ERR].fd, 1, x, r);
  }
done:
  if (pf[F_IN].fd >= 0) close(pf[F_IN].fd);
  if (pf[F_OUT].fd >= 0) close(pf[F_OUT].fd);
  if (pf[F_ERR].fd >= 0) close(pf[F_ERR].fd);
  if (pidfd >= 0) close(pidfd);
  finish(pid, r);
  return 1;

spawnfail:
  closepair(in); closepair(out); closepair(err);
  r->outcome = RIAP_EXEC_SPAWNFAIL;
  r->code = e;
  return 0;
}

size_t riap_exec_lastline(char *dest, size_t size, const struct riap_exec_result *r)
{
  size_t end = r->errtail_len, start, n, i;
  const char *t = r->errtail;
  while (end && (t[end - 1] == '\n' || t[end - 1] == '\r' || t[end - 1] == ' ')) end--;
  start = end;
  while (start && t[start - 1] != '\n') start--;
  n = end - start;
  if (n >= size) n = size - 1;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)t[start + i];
    dest[i] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
  }
  dest[n] = 0;
  return n;
}

void riap_exec_describe(char *buf, size_t size, int status)
{
  if (WIFSIGNALED(status)) snprintf(buf, size, "killed by signal %d", WTERMSIG(status));
  else snprintf(buf, size, "exited %d", WEXITSTATUS(status));
}
