/* signals.c: TERM, INT, HUP, CHLD, USR1 and USR2 arrive on a signalfd read by the
 * event loop, so a signal is handled between two events, never inside one. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <errmsg.h>
#include "listen.h"

static sigset_t handled(void)
{
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGUSR1);
  sigaddset(&set, SIGUSR2);
  return set;
}

int signals_open(void)
{
  sigset_t set = handled();
  int fd;
  if (sigprocmask(SIG_BLOCK, &set, 0) < 0) diesys(111, "fatal: sigprocmask");
  fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) diesys(111, "fatal: signalfd");
  return fd;
}

void signals_child(void)
{
  sigset_t none;
  sigemptyset(&none);
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, 0);
}

void signals_read(int fd, int *term, int *hup, int *chld)
{
  struct signalfd_siginfo si;
  for (;;) {
    ssize_t r = read(fd, &si, sizeof si);
    if (r != (ssize_t)sizeof si) return;     /* EAGAIN: all read */
    switch (si.ssi_signo) {
      case SIGTERM: case SIGINT: *term = 1; break;
      case SIGHUP: *hup = 1; break;
      case SIGCHLD: *chld = 1; break;
      case SIGUSR1:
        if (!G.draining) carp("info: draining: the balancer's health checks are answered 503 from now on");
        G.draining = 1;
        conns_publish_state();
        break;
      case SIGUSR2:
        if (G.draining) carp("info: draining ended: health checks are served again");
        G.draining = 0;
        conns_publish_state();
        break;
    }
  }
}
