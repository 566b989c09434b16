/* logger.c: riap-log for --access-log-path and --error-log-path, and its
 * supervision from the event loop (doc/riap-listen.8, LOGS).
 *
 * One pipe carries every line. The workers write it on their fd 1 and 2,
 * blocking: an access record waits for room rather than being lost. The
 * listener writes its own lines through a second open of the same pipe,
 * non-blocking (file status flags belong to an open, so the workers' stay
 * blocking): while the pipe is full (riap-log stopped, or waiting for a full
 * disk or a lock) a line of ours is dropped, but the event loop never
 * waits, and TERM still works. We keep the read end open, so a riap-log that
 * dies loses nothing still in the pipe: the next one reads on from there.
 * riap-log's own stdout and stderr are the listener's original ones
 * (/dev/null once daemonized), never the pipe: a logger writing its
 * complaints into its own full input waits for itself for ever. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_time.h"
#include "riap_exec.h"
#include "listen.h"

#define LOG_PIPE_SIZE (1 << 20)     /* room for records while riap-log restarts or waits */
#define LOG_BACKOFF_MIN_MS 100      /* first pause before a restart, doubled up to ... */
#define LOG_BACKOFF_MAX_MS 5000
#define LOG_STEADY_MS 10000         /* a riap-log that ran this long starts the back-off afresh */
#define LOG_FINISH_MIN_MS 2000      /* at exit, wait at least this long for riap-log */

static int rd = -1, wr = -1;        /* the pipe; wr is the workers' (blocking) */
static int out = -1, err = -1;      /* riap-log's stdout and stderr */
static long backoff = LOG_BACKOFF_MIN_MS;
static long long started;           /* ms: the running riap-log was forked */
static long long restart_at;        /* ms: the next attempt, 0 when none is due */

static const char *logger_path(void)
{
  static char path[4200];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 16);
  if (n > 0) {
    char *slash;
    path[n] = 0;
    slash = strrchr(path, '/');
    if (slash) {
      strcpy(slash + 1, "riap-log");
      if (access(path, X_OK) == 0) return path;
    }
  }
  return "riap-log";
}

/* forks riap-log on the pipe; returns 1, or 0 with errno */
static int spawn(void)
{
  const char *argv[6];
  pid_t pid;
  argv[0] = logger_path();
  argv[1] = "-a";
  argv[2] = G.c.access_log ? G.c.access_log : "-";
  argv[3] = "-e";
  argv[4] = G.c.error_log ? G.c.error_log : "-";
  argv[5] = 0;
  pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) {
    signals_child();
    setpgid(0, 0);                         /* it ends at EOF, after everyone else */
    if (dup2(rd, 0) < 0 || dup2(out, 1) < 0 || dup2(err, 2) < 0) _exit(111);
    close_range(3, ~0U, 0);                /* it needs 0, 1 and 2 only */
    execvp(argv[0], (char *const *)argv);
    carp("fatal: unable to run riap-log: ", strerror(errno));
    _exit(111);
  }
  G.log_pid = pid;
  started = riap_time_monoms();
  return 1;
}

/* our own end of the pipe: opened again through /proc, non-blocking;
 * without /proc, the workers' end (our lines may then wait for riap-log) */
static int own_end(void)
{
  char path[48];
  int fd;
  snprintf(path, sizeof path, "/proc/self/fd/%d", wr);
  fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd >= 0) return fd;
  carp("warning: unable to open ", path, ": ", strerror(errno), "; the listener's messages may wait for riap-log");
  return wr;
}

void logger_start(void)
{
  int p[2], own;
  if (!G.c.access_log && !G.c.error_log) return;
  if (G.c.daemonize) out = err = G.devnull;     /* no terminal to hold */
  else if ((out = fcntl(1, F_DUPFD_CLOEXEC, 3)) < 0 || (err = fcntl(2, F_DUPFD_CLOEXEC, 3)) < 0)
    diesys(111, "fatal: unable to dup");
  if (pipe2(p, O_CLOEXEC) < 0) diesys(111, "fatal: unable to create a pipe");
  rd = p[0];
  wr = p[1];
  if (fcntl(wr, F_SETPIPE_SZ, LOG_PIPE_SIZE) < 0) { /* refused (pipe-max-size): the default 64 KiB */ }
  if (!spawn()) diesys(111, "fatal: unable to fork riap-log");
  /* from here on every line of ours and of the workers goes to riap-log */
  own = own_end();
  if (dup2(own, 1) < 0 || dup2(own, 2) < 0) diesys(111, "fatal: unable to dup");
  if (own != wr) close(own);
}

void logger_child(void)
{
  if (wr < 0) return;
  if (dup2(wr, 1) < 0 || dup2(wr, 2) < 0) _exit(111);
}

/* the next attempt in backoff ms, which doubles for the one after */
static long schedule(long long now)
{
  long delay = backoff;
  restart_at = now + delay;
  backoff = backoff * 2 > LOG_BACKOFF_MAX_MS ? LOG_BACKOFF_MAX_MS : backoff * 2;
  return delay;
}

void logger_reaped(int status)
{
  long long now = riap_time_monoms();
  char pid[24], how[48], ms[24];
  snprintf(pid, sizeof pid, "%ld", (long)G.log_pid);
  riap_exec_describe(how, sizeof how, status);
  G.log_pid = 0;
  /* even while stopping: what the pipe holds must still be written */
  if (now - started >= LOG_STEADY_MS) backoff = LOG_BACKOFF_MIN_MS;
  snprintf(ms, sizeof ms, "%ld", schedule(now));
  carp("warning: riap-log (pid ", pid, ") ", how, "; restarting it in ", ms, " ms");
}

long logger_tick(void)
{
  long long now;
  char num[24];
  if (G.log_pid || !restart_at) return -1;
  now = riap_time_monoms();
  if (now < restart_at) return (long)(restart_at - now);
  restart_at = 0;
  if (spawn()) {
    snprintf(num, sizeof num, "%ld", (long)G.log_pid);
    carp("info: restarted riap-log: pid ", num);
    return -1;
  }
  {
    const char *why = strerror(errno);
    long delay = schedule(now);
    snprintf(num, sizeof num, "%ld", delay);
    carp("warning: unable to fork riap-log: ", why, "; retrying in ", num, " ms");
    return delay;
  }
}

/* waits for riap-log until deadline, or until TERM or INT comes again;
 * returns 1 once it is reaped */
static int wait_logger(long long deadline)
{
  for (;;) {
    struct pollfd p;
    int status, term = 0, hup = 0, chld = 0;
    long long left;
    pid_t r = waitpid(G.log_pid, &status, WNOHANG);
    if (r == G.log_pid || (r < 0 && errno == ECHILD)) return 1;
    left = deadline - riap_time_monoms();
    if (left <= 0) return 0;
    p.fd = G.sigfd;                        /* CHLD arrives there too */
    p.events = POLLIN;
    if (poll(&p, 1, left > 1000 ? 1000 : (int)left) < 0 && errno != EINTR) return 0;
    signals_read(G.sigfd, &term, &hup, &chld);
    if (term) return 0;
  }
}

void logger_finish(void)
{
  long long now = riap_time_monoms(), deadline;
  char pid[24];
  if (rd < 0) return;
  if (!G.log_pid && !spawn()) carpsys("warning: unable to fork riap-log: the lines still in its pipe are lost");
  close(rd);
  close(wr);
  rd = wr = -1;
  /* riap-log sees EOF once the last writer (we) is gone; our last words
   * go where riap-log's own go */
  if (dup2(G.devnull, 1) < 0 || dup2(err, 2) < 0) { /* nothing better to do */ }
  if (!G.log_pid) return;
  /* it may be waiting for a full disk: as long as --grace allows */
  deadline = G.stop_deadline > now + LOG_FINISH_MIN_MS ? G.stop_deadline : now + LOG_FINISH_MIN_MS;
  if (!wait_logger(deadline)) {
    snprintf(pid, sizeof pid, "%ld", (long)G.log_pid);
    carp("warning: riap-log (pid ", pid, ") has not written everything yet; leaving it to finish");
  }
}
