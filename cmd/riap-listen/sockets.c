/* sockets.c: the listening sockets: parsing the lists, binding, Unix file
 * mode and owner, accepting into the queue, removing our files on exit. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>
#include <errmsg.h>
#include "riap_time.h"
#include "listen.h"

void sockets_add(const char *list, int tcp)
{
  char *copy = strdup(list), *item, *save = 0;
  if (!copy) die(111, "fatal: out of memory");
  if (!*list) die(100, "fatal: empty address list for ", tcp ? "--ports" : "--unix-sockets");
  for (item = strtok_r(copy, ",", &save); item; item = strtok_r(0, ",", &save)) {
    struct lsock *l;
    struct riap_sockaddr a;
    size_t ok = tcp ? riap_sock_scantcp(item, &a) : riap_sock_scanunix(item, &a);
    if (!ok) {
      if (tcp) die(100, "fatal: bad TCP address: ", item, " (N, :N, *:N, a.b.c.d:N or [v6]:N, port 1-65535)");
      die(100, "fatal: bad Unix socket path: ", item, " (an absolute path under 108 bytes)");
    }
    l = realloc(G.ls, (G.nls + 1) * sizeof *G.ls);
    if (!l) die(111, "fatal: out of memory");
    G.ls = l;
    memset(&G.ls[G.nls], 0, sizeof *G.ls);
    G.ls[G.nls].addr = a;
    G.ls[G.nls].fd = -1;
    G.ls[G.nls].proxy = G.c.proxy_next;
    G.nls++;
  }
  free(copy);
}

static void unix_perms(struct lsock *l)
{
  const char *path = l->addr.u.un.sun_path;
  uid_t uid = (uid_t)-1;
  gid_t gid = (gid_t)-1;
  if (G.c.socket_owner) {
    struct passwd *pw = getpwnam(G.c.socket_owner);
    char *end;
    unsigned long u = strtoul(G.c.socket_owner, &end, 10);
    if (pw) { uid = pw->pw_uid; if (!G.c.socket_group) gid = pw->pw_gid; }
    else if (*G.c.socket_owner && !*end) uid = (uid_t)u;
    else die(100, "fatal: unknown user for --socket-owner: ", G.c.socket_owner);
  }
  if (G.c.socket_group) {
    struct group *gr = getgrnam(G.c.socket_group);
    char *end;
    unsigned long u = strtoul(G.c.socket_group, &end, 10);
    if (gr) gid = gr->gr_gid;
    else if (*G.c.socket_group && !*end) gid = (gid_t)u;
    else die(100, "fatal: unknown group for --socket-group: ", G.c.socket_group);
  }
  if ((uid != (uid_t)-1 || gid != (gid_t)-1) && chown(path, uid, gid) < 0)
    diesys(111, "fatal: unable to chown ", path);
  if (G.c.socket_mode >= 0 && chmod(path, (mode_t)G.c.socket_mode) < 0)
    diesys(111, "fatal: unable to chmod ", path);
}

void sockets_bind(void)
{
  unsigned i;
  for (i = 0; i < G.nls; i++) {
    struct lsock *l = &G.ls[i];
    mode_t old = 0;
    if (l->fd >= 0) continue;                   /* inherited */
    /* with --socket-mode, the file is never more open than asked, even briefly */
    if (l->addr.family == AF_UNIX && G.c.socket_mode >= 0) old = umask(0177);
    l->fd = riap_sock_bind(&l->addr, SOMAXCONN);
    if (l->addr.family == AF_UNIX && G.c.socket_mode >= 0) umask(old);
    if (l->fd < 0) {
      const char *text = l->addr.family == AF_UNIX ? l->addr.u.un.sun_path : l->addr.text;
      if (l->addr.family == AF_UNIX && errno == EADDRINUSE)
        die(111, "fatal: unable to bind ", text, ": Address already in use (a server answers there, or it is not a socket)");
      diesys(111, "fatal: unable to bind ", text);
    }
    if (l->addr.family == AF_UNIX && !l->inherited) {   /* an inherited file is its holder's */
      struct stat st;
      if (stat(l->addr.u.un.sun_path, &st) == 0) { l->dev = st.st_dev; l->ino = st.st_ino; }
      unix_perms(l);
    }
  }
}

void sockets_watch(int on)
{
  unsigned i;
  for (i = 0; i < G.nls; i++) {
    struct lsock *l = &G.ls[i];
    struct epoll_event ev;
    if (l->fd < 0 || l->on == on) continue;
    ev.events = EPOLLIN;
    ev.data.u64 = (uint64_t)EV_LISTEN << 32 | i;
    if (epoll_ctl(G.ep, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, l->fd, &ev) < 0)
      diesys(111, "fatal: epoll_ctl");
    l->on = on;
  }
}

void sockets_accept(unsigned i, unsigned limit)
{
  struct lsock *l = &G.ls[i];
  unsigned n;
  if (l->fd < 0) return;
  if (G.stopping && l->inherited) return;       /* what the kernel holds waits for our successor */
  for (n = 0; n < ACCEPT_BURST || G.stopping; n++) {
    struct riap_peer p;
    struct addr *a;
    int fd;
    if (!conns_room(limit)) return;
    fd = riap_sock_accept(l->fd, l->addr.family, &p);
    if (fd < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        G.accept_after = riap_time_monoms() + 100;        /* the backlog holds them meanwhile */
        warn_limited("unable to accept: ", strerror(errno), "; pausing");
        return;
      }
      return;                                   /* a connection that failed early */
    }
    if (l->proxy) { proxy_accepted(fd, i, &p); continue; }   /* its header first */
    if (!access_admit(fd, i, &p, &a)) continue; /* refused: answered and closed */
    conns_accepted(fd, i, &p, a, -1);
  }
}

void sockets_close(void)
{
  unsigned i;
  sockets_watch(0);
  for (i = 0; i < G.nls; i++) {
    struct lsock *l = &G.ls[i];
    if (l->fd < 0) continue;
    close(l->fd);
    l->fd = -1;
    if (l->addr.family == AF_UNIX && !l->inherited) {   /* an inherited file is its holder's */
      struct stat st;
      if (stat(l->addr.u.un.sun_path, &st) == 0 && st.st_dev == l->dev && st.st_ino == l->ino)
        unlink(l->addr.u.un.sun_path);          /* ours still, not a successor's */
    }
  }
}
