/* riap_spawn.c: run a program, capture its stdout, wait for it. */
#include "riap_spawn.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int riap_spawn_wait(char *const argv[], char *out, size_t size, size_t *len)
{
  posix_spawn_file_actions_t fa;
  posix_spawnattr_t at;
  sigset_t none;
  int p[2] = { -1, -1 }, st, r;
  size_t n = 0;
  pid_t pid;

  if (out && pipe2(p, O_CLOEXEC) < 0) return -1;
  posix_spawn_file_actions_init(&fa);
  posix_spawnattr_init(&at);
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&at, &none);
  posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  if (out) posix_spawn_file_actions_adddup2(&fa, p[1], 1);
  /* nothing else the caller inherited: a daemon started so (riap-listen
   * --daemonize) must not keep the caller's pipes open */
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  r = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&at);
  if (out) close(p[1]);
  if (r) {
    if (out) close(p[0]);
    errno = r;
    return -1;
  }
  if (out) {
    char drop[512];
    for (;;) {
      ssize_t k = n + 1 < size ? read(p[0], out + n, size - 1 - n) : read(p[0], drop, sizeof drop);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      if (n + 1 < size) n += (size_t)k;
    }
    out[size ? n : 0] = 0;
    if (len) *len = n;
    close(p[0]);
  }
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return st;
}
