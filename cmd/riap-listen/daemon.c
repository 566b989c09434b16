/* daemon.c: the process around the loop: default paths, the pid file,
 * readiness, --daemonize, the process title. riap-log is in logger.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errmsg.h>
#include "listen.h"

/* /var/run/NAME.x for root (/var/log for logs), else $HOME/NAME.x */
const char *default_path(const char *suffix)
{
  static char buf[4][512];
  static int n;
  const char *dir, *home = getenv("HOME");
  char *b = buf[n++ % 4];
  int log = strstr(suffix, ".log") != 0;
  if (geteuid() == 0) dir = log ? "/var/log" : "/var/run";
  else dir = home && *home ? home : ".";
  snprintf(b, 512, "%s/%s%s", dir, G.c.label, suffix);
  return b;
}

void title_init(int argc, char **argv)
{
  char *end = argv[0];
  int i;
  if (!G.c.name) return;                   /* titles only with --name */
  for (i = 0; i < argc && argv[i] == end; i++) end = argv[i] + strlen(argv[i]) + 1;
  G.title = argv[0];
  G.title_len = (size_t)(end - argv[0]);
  {
    char t[128];
    snprintf(t, sizeof t, "riap-listen [%s]", G.c.name);
    title_set(t);
  }
}

void title_set(const char *s)
{
  size_t n = strlen(s);
  if (!G.title || G.title_len < 2) return;
  if (n > G.title_len - 1) n = G.title_len - 1;
  memcpy(G.title, s, n);
  memset(G.title + n, 0, G.title_len - n);
}

void ready_tell(void)
{
  G.ready_sent = 1;
  if (G.c.notify_fd >= 0) {
    if (write(G.c.notify_fd, "\n", 1) < 0) carp("warning: unable to write to the notification fd: ", strerror(errno));
    close(G.c.notify_fd);
    G.c.notify_fd = -1;
  }
  if (G.ready_fd2 > 0) {
    if (write(G.ready_fd2, "\n", 1) < 0) { /* the parent is gone: nothing to tell */ }
    close(G.ready_fd2);
    G.ready_fd2 = -1;
  }
}

void pidfile_write(void)
{
  char tmp[600], num[24];
  int fd, n;
  if (!G.c.pid_path && !G.c.daemonize) return;  /* under supervision nothing needs one */
  if (!G.c.pid_path) G.c.pid_path = default_path(".pid");
  snprintf(tmp, sizeof tmp, "%s.new", G.c.pid_path);
  n = snprintf(num, sizeof num, "%ld\n", (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0 || write(fd, num, (size_t)n) != n || close(fd) < 0 || rename(tmp, G.c.pid_path) < 0)
    diesys(111, "fatal: unable to write the pid file ", G.c.pid_path);
}

void pidfile_remove(void)
{
  char buf[24];
  int fd, n;
  if (!G.c.pid_path) return;
  fd = open(G.c.pid_path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  n = (int)read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n > 0) {
    buf[n] = 0;
    if (atol(buf) == (long)getpid()) unlink(G.c.pid_path);   /* ours, not a successor's */
  }
}

static int cmp_int(const void *a, const void *b)
{
  int x = *(const int *)a, y = *(const int *)b;
  return x < y ? -1 : x > y;
}

/* a daemon keeps no fd it inherited above 2 (a $(...) pipe would wait for
 * it): only ours survive, the listening sockets, /dev/null, the signalfd,
 * the readiness pipe, and --notification-fd */
static void close_inherited(void)
{
  int *keep = malloc((G.nls + 8) * sizeof *keep), n = 0, i, from = 3;
  if (!keep) die(111, "fatal: out of memory");
  for (i = 0; i < (int)G.nls; i++) if (G.ls[i].fd > 2) keep[n++] = G.ls[i].fd;
  if (G.devnull > 2) keep[n++] = G.devnull;
  if (G.sigfd > 2) keep[n++] = G.sigfd;
  if (G.ready_fd2 > 2) keep[n++] = G.ready_fd2;
  if (G.c.notify_fd > 2) keep[n++] = G.c.notify_fd;
  qsort(keep, (size_t)n, sizeof *keep, cmp_int);
  for (i = 0; i < n; i++) {
    if (keep[i] > from) close_range((unsigned)from, (unsigned)keep[i] - 1, 0);
    if (keep[i] + 1 > from) from = keep[i] + 1;
  }
  close_range((unsigned)from, ~0U, 0);
  free(keep);
}

void daemonize(void)
{
  int p[2];
  pid_t pid;
  char c;
  if (pipe2(p, O_CLOEXEC) < 0) diesys(111, "fatal: pipe");
  pid = fork();
  if (pid < 0) diesys(111, "fatal: fork");
  if (pid > 0) {                           /* the parent returns once the daemon serves */
    ssize_t r;
    close(p[1]);
    do r = read(p[0], &c, 1); while (r < 0 && errno == EINTR);
    _exit(r == 1 ? 0 : 111);
  }
  close(p[0]);
  G.ready_fd2 = p[1];
  setsid();
  dup2(G.devnull, 0);
  close_inherited();
  /* a daemon has no terminal to write to: the logs go to files */
  if (!G.c.access_log) G.c.access_log = default_path("-access.log");
  if (!G.c.error_log) G.c.error_log = default_path("-error.log");
}
