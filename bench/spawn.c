/* bench/spawn: the fork+exec baseline for `call` to an exec function: the
 * same work as riap-handle's exec backend minus the protocol, in a loop:
 * posix_spawn the program with a pipe on stdin and one on stdout, write
 * the arguments line, close, read the output to EOF, wait for the exit.
 * Nothing can run an exec function faster on this machine.
 *
 *   spawn [-t SECS] [-i LINE] PROGRAM
 *     -t   seconds (default 3)
 *     -i   the stdin line (default {"a":6,"b":7})
 *
 * Prints: spawns=.. secs=.. rate=.. errors=.. (errors: a non-zero exit or
 * no output). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
  fprintf(stderr, "spawn: fatal: %s: %s\n", what, strerror(errno));
  exit(111);
}

int main(int argc, char **argv)
{
  double secs = 3, t0, t;
  const char *in = "{\"a\":6,\"b\":7}";
  char line[4096], buf[65536];
  unsigned long n = 0, errors = 0;
  size_t len;
  int opt;
  /* what riap-handle passes: a clean PATH and the request facts */
  char *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", "RIAP_ACTION=call", "RIAP_URI=/Math/mult",
                  "RIAP_V=1.1", "PROTO=IPC", 0 };

  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "t:i:")) != -1) {
    switch (opt) {
      case 't': secs = atof(optarg); break;
      case 'i': in = optarg; break;
      default: fprintf(stderr, "usage: spawn [-t SECS] [-i LINE] PROGRAM\n"); return 100;
    }
  }
  if (optind != argc - 1 || secs <= 0) { fprintf(stderr, "usage: spawn [-t SECS] [-i LINE] PROGRAM\n"); return 100; }
  len = (size_t)snprintf(line, sizeof line - 1, "%s\n", in);
  t0 = now();
  do {
    posix_spawn_file_actions_t fa;
    int pin[2], pout[2], st;
    pid_t pid;
    char *args[] = { argv[optind], 0 };
    size_t out = 0;
    ssize_t r;
    if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0) die("pipe");
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pin[0], 0);
    posix_spawn_file_actions_adddup2(&fa, pout[1], 1);
    errno = posix_spawn(&pid, argv[optind], &fa, 0, args, env);
    if (errno) die("posix_spawn");
    posix_spawn_file_actions_destroy(&fa);
    close(pin[0]);
    close(pout[1]);
    if (write(pin[1], line, len) != (ssize_t)len) errors++;
    close(pin[1]);
    while ((r = read(pout[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) if (r > 0) out += (size_t)r;
    close(pout[0]);
    while (waitpid(pid, &st, 0) < 0) if (errno != EINTR) die("waitpid");
    if (!WIFEXITED(st) || WEXITSTATUS(st) || !out) errors++;
    n++;
    t = now();
  } while (t - t0 < secs);
  printf("spawns=%lu secs=%.2f rate=%.1f errors=%lu\n", n, t - t0, (double)n / (t - t0), errors);
  return errors ? 1 : 0;
}
