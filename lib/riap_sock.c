/* riap_sock.c: address parsing, bind/listen, accept with peer facts. */
#include "riap_sock.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int scan_port(const char *s, unsigned short *port)
{
  unsigned long u = 0;
  size_t i;
  if (!*s) return 0;
  for (i = 0; s[i]; i++) {
    if (s[i] < '0' || s[i] > '9' || i >= 5) return 0;
    u = u * 10 + (unsigned long)(s[i] - '0');
  }
  if (u < 1 || u > 65535) return 0;
  *port = (unsigned short)u;
  return 1;
}

/* a as host (numeric, of family af) and port, with its text form; returns
 * 1, or 0 when host is not an address of af */
static int tcp_fill(struct riap_sockaddr *a, int af, const char *host, unsigned short port)
{
  int v6 = af == AF_INET6;
  a->family = af;
  if (v6) { a->u.in6.sin6_family = AF_INET6; a->u.in6.sin6_port = htons(port); }
  else { a->u.in4.sin_family = AF_INET; a->u.in4.sin_port = htons(port); }
  if (inet_pton(af, host, v6 ? (void *)&a->u.in6.sin6_addr : (void *)&a->u.in4.sin_addr) != 1) return 0;
  a->len = v6 ? sizeof a->u.in6 : sizeof a->u.in4;
  snprintf(a->text, sizeof a->text, "%s%s%s:%u", v6 ? "[" : "", host, v6 ? "]" : "", port);
  return 1;
}

size_t riap_sock_scantcp(const char *s, struct riap_sockaddr *a)
{
  const char *colon, *ps;
  char host[64];
  size_t hl;
  unsigned short port;

  memset(a, 0, sizeof *a);
  if (*s == '[') {                              /* [v6]:N */
    const char *end = strchr(s, ']');
    if (!end || end[1] != ':') return 0;
    hl = (size_t)(end - s - 1);
    if (!hl || hl >= sizeof host) return 0;
    memcpy(host, s + 1, hl);
    host[hl] = 0;
    if (!scan_port(end + 2, &port)) return 0;
    return tcp_fill(a, AF_INET6, host, port) ? strlen(s) : 0;
  }
  colon = strrchr(s, ':');
  if (!colon) { ps = s; hl = 0; }               /* N */
  else { ps = colon + 1; hl = (size_t)(colon - s); }
  if (!scan_port(ps, &port) || hl >= sizeof host) return 0;
  memcpy(host, s, hl);
  host[hl] = 0;
  if (!hl || !strcmp(host, "*")) strcpy(host, "0.0.0.0");
  return tcp_fill(a, AF_INET, host, port) ? strlen(s) : 0;
}

size_t riap_sock_scanunix(const char *s, struct riap_sockaddr *a)
{
  size_t n = strlen(s);
  memset(a, 0, sizeof *a);
  if (s[0] != '/' || n >= sizeof a->u.un.sun_path) return 0;
  a->family = AF_UNIX;
  a->u.un.sun_family = AF_UNIX;
  memcpy(a->u.un.sun_path, s, n + 1);
  a->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
  snprintf(a->text, sizeof a->text, "unix:%.*s", (int)(sizeof a->text - 6), s);
  return n;
}

int riap_sock_scanaddr(const char *s, struct riap_sockaddr *a)
{
  if (!strncmp(s, "unix:", 5)) return riap_sock_scanunix(s + 5, a) != 0;
  return riap_sock_scantcp(s, a) != 0;
}

/* 1 when something accepts connections at the Unix path of a */
static int unix_answers(const struct riap_sockaddr *a)
{
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int r;
  if (fd < 0) return 1;                         /* cannot tell: assume so */
  do r = connect(fd, &a->u.sa, a->len); while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == ECONNREFUSED || errno == ENOENT)) r = 0;
  else r = 1;
  close(fd);
  return r;
}

int riap_sock_bind(const struct riap_sockaddr *a, int backlog)
{
  int fd, one = 1, e;
  fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  if (a->family != AF_UNIX) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (a->family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind(fd, &a->u.sa, a->len) < 0) {
    struct stat st;
    if (a->family != AF_UNIX || errno != EADDRINUSE) goto fail;
    /* a socket file is there: replace it only when nothing answers on it */
    if (lstat(a->u.un.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || unix_answers(a)) {
      errno = EADDRINUSE;
      goto fail;
    }
    if (unlink(a->u.un.sun_path) < 0 && errno != ENOENT) goto fail;
    if (bind(fd, &a->u.sa, a->len) < 0) goto fail;
  }
  if (listen(fd, backlog) < 0) goto fail;
  return fd;
fail:
  e = errno;
  close(fd);
  errno = e;
  return -1;
}

static void ip_text(char *dest, size_t size, const struct sockaddr *sa, unsigned short *port)
{
  if (sa->sa_family == AF_INET6) {
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
    if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) inet_ntop(AF_INET, &s6->sin6_addr.s6_addr[12], dest, (socklen_t)size);
    else inet_ntop(AF_INET6, &s6->sin6_addr, dest, (socklen_t)size);
    *port = ntohs(s6->sin6_port);
  } else if (sa->sa_family == AF_INET) {
    const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
    inet_ntop(AF_INET, &s4->sin_addr, dest, (socklen_t)size);
    *port = ntohs(s4->sin_port);
  } else {
    dest[0] = 0;
    *port = 0;
  }
}

int riap_sock_accept(int fd, int family, struct riap_peer *p)
{
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int c;
  do c = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
  while (c < 0 && (errno == EINTR || errno == ECONNABORTED));
  if (c < 0) return -1;
  memset(p, 0, sizeof *p);
  p->uid = p->gid = p->pid = -1;
  if (family == AF_UNIX) {
    struct ucred cr;
    socklen_t cl = sizeof cr;
    p->proto = RIAP_PROTO_IPC;
    if (getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &cl) == 0) {
      p->pid = cr.pid;
      p->uid = cr.uid;
      p->gid = cr.gid;
    }
  } else {
    struct sockaddr_storage ls;
    socklen_t ll = sizeof ls;
    p->proto = RIAP_PROTO_TCP;
    ip_text(p->remoteip, sizeof p->remoteip, (struct sockaddr *)&ss, &p->remoteport);
    if (getsockname(c, (struct sockaddr *)&ls, &ll) == 0)
      ip_text(p->localip, sizeof p->localip, (struct sockaddr *)&ls, &p->localport);
  }
  return c;
}

int riap_sock_connect(const struct riap_sockaddr *a)
{
  int fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC, 0), r, e;
  if (fd < 0) return -1;
  do r = connect(fd, &a->u.sa, a->len); while (r < 0 && errno == EINTR);
  if (r < 0) { e = errno; close(fd); errno = e; return -1; }
  return fd;
}
