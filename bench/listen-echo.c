/* listen-echo: the baseline for bench/run: a raw line-echo server. One
 * process, one epoll loop, on the same TCP address or Unix socket forms as
 * riap-listen; every byte read is written back. It parses nothing, spawns
 * nothing, so it is the most a request/response over that transport can
 * do on this machine.
 *
 *   listen-echo ADDR      (host:port, [v6]:port or unix:/path)
 * Prints "ready" on stdout once listening; runs until killed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "riap_sock.h"

int main(int argc, char **argv)
{
  struct riap_sockaddr a;
  struct epoll_event ev;
  int l, ep;
  char buf[65536];

  signal(SIGPIPE, SIG_IGN);
  if (argc != 2) { fprintf(stderr, "usage: listen-echo ADDR\n"); return 100; }
  if (!riap_sock_scanaddr(argv[1], &a)) {
    fprintf(stderr, "listen-echo: fatal: bad address %s\n", argv[1]);
    return 100;
  }
  l = riap_sock_bind(&a, SOMAXCONN);
  if (l < 0) { fprintf(stderr, "listen-echo: fatal: unable to bind %s: %s\n", argv[1], strerror(errno)); return 111; }
  ep = epoll_create1(EPOLL_CLOEXEC);
  ev.events = EPOLLIN;
  ev.data.fd = l;
  epoll_ctl(ep, EPOLL_CTL_ADD, l, &ev);
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    struct epoll_event evs[256];
    int n = epoll_wait(ep, evs, 256, -1), k;
    for (k = 0; k < n; k++) {
      int fd = evs[k].data.fd;
      if (fd == l) {
        struct riap_peer p;
        int c;
        while ((c = riap_sock_accept(l, a.family, &p)) >= 0) {
          ev.events = EPOLLIN;
          ev.data.fd = c;
          epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
        }
        continue;
      }
      {
        ssize_t r = read(fd, buf, sizeof buf), off = 0;
        if (r <= 0) { close(fd); continue; }
        while (off < r) {
          ssize_t w = write(fd, buf + off, (size_t)(r - off));
          if (w <= 0) break;
          off += w;
        }
      }
    }
  }
}
