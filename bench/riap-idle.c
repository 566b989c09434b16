/* riap-idle: holds many idle keep-alive connections to a Riap::Simple
 * server, for measuring what idle clients cost it (issue 9: the listener's
 * memory with 10,000 parked connections).
 *
 *   riap-idle [-c CONNS] [-q LINE] ADDR
 *     ADDR   host:port, [v6]:port or unix:/path
 *     -c     connections (default 10000; raise `ulimit -n` first)
 *     -q     the request each sends once (default a meta request; "" none)
 *
 * Opens every connection, sends the request on each, reads every answer,
 * prints "idle=N answered=N errors=N secs=S" and then holds the
 * connections, silent, until its stdin reaches end of file or it gets
 * TERM. Exit 111 when it cannot open them. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "riap_sock.h"

static double now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* reads one answer line (the first bytes tell whether it is a success) */
static int answer(int fd)
{
  char buf[4096];
  size_t got = 0;
  for (;;) {
    ssize_t r = read(fd, buf + got, sizeof buf - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return 0;
    got += (size_t)r;
    if (memchr(buf, '\n', got)) return got >= 3 && !memcmp(buf, "j[2", 3);
    if (got == sizeof buf) got = 3;           /* a long answer: keep its start */
  }
}

int main(int argc, char **argv)
{
  struct riap_sockaddr addr;
  const char *req = "j{\"action\":\"meta\",\"uri\":\"/Math/mult\"}";
  unsigned n = 10000, i, ok = 0, errors = 0;
  char line[4096];
  size_t len;
  int *fds, opt;
  double t0;

  signal(SIGPIPE, SIG_IGN);
  while ((opt = getopt(argc, argv, "c:q:")) != -1) {
    switch (opt) {
      case 'c': n = (unsigned)atoi(optarg); break;
      case 'q': req = optarg; break;
      default: fprintf(stderr, "usage: riap-idle [-c CONNS] [-q LINE] ADDR\n"); return 100;
    }
  }
  if (optind != argc - 1 || !n) { fprintf(stderr, "usage: riap-idle [-c CONNS] [-q LINE] ADDR\n"); return 100; }
  if (!riap_sock_scanaddr(argv[optind], &addr)) {
    fprintf(stderr, "riap-idle: fatal: bad address %s\n", argv[optind]);
    return 100;
  }
  len = (size_t)snprintf(line, sizeof line - 2, "%s", req);
  if (len) { memcpy(line + len, "\r\n", 2); len += 2; }
  fds = calloc(n, sizeof *fds);
  if (!fds) { perror("riap-idle: fatal: calloc"); return 111; }
  t0 = now();
  for (i = 0; i < n; i++) {
    int tries;
    for (tries = 0; (fds[i] = riap_sock_connect(&addr)) < 0; tries++) {
      if (errno == EMFILE || errno == ENFILE || tries > 2000) {
        fprintf(stderr, "riap-idle: fatal: connection %u: %s\n", i + 1, strerror(errno));
        return 111;
      }
      usleep(1000);                           /* the backlog is full: a moment */
    }
    if (len && write(fds[i], line, len) != (ssize_t)len) errors++;
  }
  if (len)
    for (i = 0; i < n; i++) { if (answer(fds[i])) ok++; else errors++; }
  printf("idle=%u answered=%u errors=%u secs=%.2f\n", n, ok, errors, now() - t0);
  fflush(stdout);
  while (read(0, line, sizeof line) > 0) { }  /* hold them until stdin ends */
  return 0;
}
