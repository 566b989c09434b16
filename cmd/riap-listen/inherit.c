/* inherit.c: listening sockets that outlive riap-listen. Taken from the
 * caller: LISTEN_FDS (systemd's convention, also what --bind-only passes)
 * or an s6-fdholder dump (S6_FD#, S6_FD_i, S6_FDID_i, as
 * s6-fdholder-getdump sets them); handed to a program: --bind-only. A
 * socket is matched to the -p/-s addresses by what it is bound to
 * (getsockname), never by its name: names are only for messages. See
 * riap-listen(8), INHERITED SOCKETS. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errmsg.h>
#include "listen.h"

#define INHERIT_MAX 4096          /* more than any caller passes; a bigger count is a mistake */

static unsigned long env_number(const char *var, const char *s, unsigned long max)
{
  char *end;
  unsigned long n;
  errno = 0;
  n = strtoul(s, &end, 10);
  if (!*s || *end || errno || *s == '-' || n > max) die(100, "fatal: ", var, " is not a number of sockets: ", s);
  return n;
}

/* the address fd is bound to, when it is a listening stream socket */
static int listening_addr(int fd, struct riap_sockaddr *a)
{
  int v;
  socklen_t vl = sizeof v;
  char host[INET6_ADDRSTRLEN];
  memset(a, 0, sizeof *a);
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &vl) < 0 || v != SOCK_STREAM) return 0;
  vl = sizeof v;
  if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl) < 0 || !v) return 0;
  a->len = sizeof a->u;
  if (getsockname(fd, &a->u.sa, &a->len) < 0) return 0;
  a->family = a->u.sa.sa_family;
  if (a->family == AF_INET) {
    inet_ntop(AF_INET, &a->u.in4.sin_addr, host, sizeof host);
    snprintf(a->text, sizeof a->text, "%s:%u", host, ntohs(a->u.in4.sin_port));
  } else if (a->family == AF_INET6) {
    inet_ntop(AF_INET6, &a->u.in6.sin6_addr, host, sizeof host);
    snprintf(a->text, sizeof a->text, "[%s]:%u", host, ntohs(a->u.in6.sin6_port));
  } else if (a->family == AF_UNIX) {
    if (a->len <= offsetof(struct sockaddr_un, sun_path)) a->u.un.sun_path[0] = 0;
    a->u.un.sun_path[sizeof a->u.un.sun_path - 1] = 0;
    snprintf(a->text, sizeof a->text, "unix:%.*s", (int)(sizeof a->text - 6),
             a->u.un.sun_path[0] ? a->u.un.sun_path : "(unnamed)");
  } else return 0;
  return 1;
}

static int same_addr(const struct riap_sockaddr *x, const struct riap_sockaddr *y)
{
  if (x->family != y->family) return 0;
  if (x->family == AF_INET)
    return x->u.in4.sin_port == y->u.in4.sin_port && x->u.in4.sin_addr.s_addr == y->u.in4.sin_addr.s_addr;
  if (x->family == AF_INET6)
    return x->u.in6.sin6_port == y->u.in6.sin6_port
        && !memcmp(&x->u.in6.sin6_addr, &y->u.in6.sin6_addr, sizeof x->u.in6.sin6_addr);
  return x->u.un.sun_path[0] && !strcmp(x->u.un.sun_path, y->u.un.sun_path);
}

/* fd, passed as name by from: served at the address given that it is
 * bound to, or (given == 0: no -p or -s) at its own */
static void take(int fd, const char *name, const char *from, unsigned given)
{
  struct riap_sockaddr a;
  char num[24], what[300];
  unsigned i;
  int fl;
  snprintf(num, sizeof num, "%d", fd);
  snprintf(what, sizeof what, "%s fd %d%s%.200s%s", from, fd, *name ? " (" : "", name, *name ? ")" : "");
  if (!listening_addr(fd, &a)) die(100, "fatal: ", what, " is not a listening stream socket");
  for (i = 0; i < G.nls; i++)
    if (G.ls[i].fd == fd) die(100, "fatal: ", what, " is passed twice");
  for (i = 0; i < given; i++)
    if (G.ls[i].fd < 0 && same_addr(&G.ls[i].addr, &a)) break;
  if (given && i == given)
    die(100, "fatal: ", what, " is bound to ", a.text, ", which no --ports or --unix-sockets address names");
  if (!given) {
    struct lsock *l = realloc(G.ls, (G.nls + 1) * sizeof *G.ls);
    if (!l) die(111, "fatal: out of memory");
    G.ls = l;
    i = G.nls++;
    memset(&G.ls[i], 0, sizeof *G.ls);
    G.ls[i].addr = a;
  }
  /* ours from now on: not passed on to the workers; accepted from until
   * EAGAIN (O_NONBLOCK belongs to the open file, which the holder shares:
   * harmless, it never accepts) */
  if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || (fl = fcntl(fd, F_GETFL)) < 0
      || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    diesys(111, "fatal: unable to set up inherited socket ", num);
  G.ls[i].fd = fd;
  G.ls[i].inherited = 1;
}

/* the name of socket i in LISTEN_FDNAMES (colon-separated), "" when none */
static void fdname(const char *names, unsigned long i, char *out, size_t size)
{
  size_t n;
  out[0] = 0;
  while (names && i--) { names = strchr(names, ':'); if (names) names++; }
  if (!names) return;
  n = strcspn(names, ":");
  if (n >= size) n = size - 1;
  memcpy(out, names, n);
  out[n] = 0;
}

static void from_systemd(unsigned given)
{
  const char *n = getenv("LISTEN_FDS"), *pid = getenv("LISTEN_PID"), *names = getenv("LISTEN_FDNAMES");
  unsigned long k, i;
  char name[256];
  if (!n) return;
  k = env_number("LISTEN_FDS", n, INHERIT_MAX);
  /* LISTEN_PID names the process the sockets are for: a program between
   * (a shell that did not exec) passed them on by mistake. Unset, they are
   * ours: s6 and shells that exec do not set it. */
  if (pid && (unsigned long)getpid() != env_number("LISTEN_PID", pid, ~0UL)) {
    carp("warning: LISTEN_PID is ", pid, ", not this process: LISTEN_FDS ignored");
    return;
  }
  for (i = 0; i < k; i++) {
    fdname(names, i, name, sizeof name);
    take(3 + (int)i, name, "LISTEN_FDS", given);
  }
}

static void from_s6(unsigned given)
{
  const char *n = getenv("S6_FD#");
  unsigned long k, i;
  if (!n) return;
  k = env_number("S6_FD#", n, INHERIT_MAX);
  for (i = 0; i < k; i++) {
    char var[32];
    const char *fd, *id;
    snprintf(var, sizeof var, "S6_FD_%lu", i);
    if (!(fd = getenv(var))) die(100, "fatal: S6_FD# is ", n, " but ", var, " is not set");
    snprintf(var, sizeof var, "S6_FDID_%lu", i);
    id = getenv(var);
    take((int)env_number("S6_FD_i", fd, 1 << 24), id ? id : "", "s6-fdholder", given);
  }
}

/* the variables say nothing to the workers (and the fds are closed on exec) */
static void forget(void)
{
  const char *n = getenv("S6_FD#");
  unsigned long k = 0, i;
  if (n) k = strtoul(n, 0, 10);
  for (i = 0; i < k && i < INHERIT_MAX; i++) {
    char var[32];
    snprintf(var, sizeof var, "S6_FD_%lu", i); unsetenv(var);
    snprintf(var, sizeof var, "S6_FDID_%lu", i); unsetenv(var);
    snprintf(var, sizeof var, "S6_FDLIMIT_%lu", i); unsetenv(var);
  }
  unsetenv("S6_FD#");
  unsetenv("LISTEN_FDS");
  unsetenv("LISTEN_PID");
  unsetenv("LISTEN_FDNAMES");
}

void sockets_inherit(void)
{
  unsigned given = G.nls;
  from_systemd(given);
  from_s6(given);
  forget();
}

void sockets_handover(char **cmd)
{
  unsigned i, n = G.nls;
  char num[24];
  /* out of the way first: fds 3.. may hold some of them, or anything else */
  for (i = 0; i < n; i++) {
    int fd = fcntl(G.ls[i].fd, F_DUPFD_CLOEXEC, (int)(3 + n));
    if (fd < 0) diesys(111, "fatal: unable to dup");
    close(G.ls[i].fd);
    G.ls[i].fd = fd;
  }
  for (i = 0; i < n; i++) {
    int fl = fcntl(G.ls[i].fd, F_GETFL);
    if (fl >= 0) fcntl(G.ls[i].fd, F_SETFL, fl & ~O_NONBLOCK);   /* as other binders pass them */
    if (dup2(G.ls[i].fd, (int)(3 + i)) < 0) diesys(111, "fatal: unable to dup");  /* not close-on-exec */
  }
  snprintf(num, sizeof num, "%u", n);
  if (setenv("LISTEN_FDS", num, 1) < 0) die(111, "fatal: out of memory");
  snprintf(num, sizeof num, "%ld", (long)getpid());
  if (setenv("LISTEN_PID", num, 1) < 0) die(111, "fatal: out of memory");
  unsetenv("LISTEN_FDNAMES");
  execvp(cmd[0], cmd);
  diesys(111, "fatal: unable to run ", cmd[0]);
}
