/* riap_sock.h: listening TCP and Unix sockets, accepting with the peer's
 * facts (libowfat has no Unix-domain helpers, no SO_PEERCRED, no accept4).
 * Address forms: see doc/riap-listen.8, ADDRESSES. */
#ifndef RIAP_SOCK_H
#define RIAP_SOCK_H
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include "riap_peer.h"

#define RIAP_SOCKADDR_TEXT 120          /* "[v6]:port" or "unix:/path" */

struct riap_sockaddr {
  int family;                           /* AF_INET, AF_INET6, AF_UNIX */
  union {
    struct sockaddr sa;
    struct sockaddr_in in4;
    struct sockaddr_in6 in6;
    struct sockaddr_un un;
  } u;
  socklen_t len;
  char text[RIAP_SOCKADDR_TEXT];        /* canonical form, for messages */
};

/* riap_sock_scantcp: parses a TCP address: N, :N, *:N (0.0.0.0), a.b.c.d:N,
 * [v6]:N; the port 1-65535. Returns the bytes consumed (all of s), 0 when s
 * is not such an address. */
size_t riap_sock_scantcp(const char *s, struct riap_sockaddr *a);

/* riap_sock_scanunix: an absolute path that fits sun_path; returns the
 * bytes consumed (all of s), 0 otherwise. */
size_t riap_sock_scanunix(const char *s, struct riap_sockaddr *a);

/* riap_sock_scanaddr: unix:/path (riap_sock_scanunix) or a TCP address
 * (riap_sock_scantcp), as the test and benchmark clients take them; 1 when
 * s is one, 0 otherwise. */
int riap_sock_scanaddr(const char *s, struct riap_sockaddr *a);

/* riap_sock_bind: a listening socket (close-on-exec, non-blocking,
 * SO_REUSEADDR, IPV6_V6ONLY) bound to a; a Unix socket file left by a dead
 * server (nothing accepts on it) is replaced, any other existing file is
 * not. Returns the fd, -1 with errno (EADDRINUSE when a server answers). */
int riap_sock_bind(const struct riap_sockaddr *a, int backlog);

/* riap_sock_accept: accepts one connection on the listening socket fd
 * (close-on-exec, blocking) and fills p: the TCP addresses and ports
 * (IPv4-mapped shown as IPv4), or the Unix peer's pid/uid/gid
 * (SO_PEERCRED). Returns the fd, -1 with errno (EAGAIN: none waiting). */
int riap_sock_accept(int fd, int family, struct riap_peer *p);

/* riap_sock_connect: a blocking client socket connected to a (for tests
 * and benchmarks); returns the fd, -1 with errno. */
int riap_sock_connect(const struct riap_sockaddr *a);

#endif
