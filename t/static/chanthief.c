/* chanthief: a hostile function for t/riap-fd-hygiene.bats (issue 14).
 * It looks for a worker's control channel among the fds it was given: on
 * every socket from 3 up it speaks the listener protocol (riap-channel(5)):
 * sends DONE, as a worker that is free again, then waits up to "wait"
 * seconds (argument, default 3) for a CONN and its fd. A connection so
 * stolen has its request read and answered with a forged envelope
 * (j[200,"OK","stolen",...]). Its own answer says what it found:
 * [200,"OK",{"sockets":S,"channels":C,"stolen":K,"fds":[...],"grabbed":G}],
 * channels counting the sockets that took a DONE, stolen the connections
 * it got. Then it tries the same on every fd of its parent (the worker),
 * and of the worker's parent when that is riap-listen (its listening
 * sockets, its channels), that pidfd_getfd(2) gives it, as a process of
 * the same user may unless the owner is not dumpable: grabbed counts them.
 * Linked statically (it runs in a chroot too); only the message layout
 * comes from lib/riap_chan.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include "../../lib/riap_chan.h"

#define FD_MAX 1024
#define FORGED "j[200,\"OK\",\"stolen\",{\"riap.v\":1.1}]\r\n"

static int is_socket(int fd)
{
  struct stat st;
  return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

static int send_done(int fd)
{
  struct { struct riap_chan_hdr h; struct riap_chan_done d; } m;
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_DONE;
  m.h.len = sizeof m.d;
  return send(fd, &m, sizeof m, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)sizeof m;
}

/* the client's request line: what came with the CONN, then from the
 * connection, up to its LF (at most 2 s) */
static void read_request(int c, const struct riap_chan_msg *m, size_t got)
{
  char buf[4096];
  size_t fixed = sizeof m->h + sizeof m->u.conn;
  struct pollfd p = { c, POLLIN, 0 };
  if (got > fixed && memchr((const char *)m + fixed, '\n', got - fixed)) return;
  while (poll(&p, 1, 2000) > 0) {
    ssize_t n = read(c, buf, sizeof buf);
    if (n <= 0 || memchr(buf, '\n', (size_t)n)) return;
  }
}

/* one CONN with its fd within wait_ms: serve it forged; 1 when stolen */
static int steal(int fd, int wait_ms)
{
  static struct riap_chan_msg m;
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cm;
  struct iovec iov = { &m, sizeof m };
  struct msghdr mh;
  struct cmsghdr *c;
  struct pollfd p = { fd, POLLIN, 0 };
  ssize_t r;
  int conn = -1;
  if (poll(&p, 1, wait_ms) <= 0) return 0;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cm.buf;
  mh.msg_controllen = sizeof cm.buf;
  r = recvmsg(fd, &mh, MSG_DONTWAIT);
  if (r < (ssize_t)sizeof m.h) return 0;
  for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&conn, CMSG_DATA(c), sizeof conn);
  if (conn < 0) return 0;
  if (m.h.type == RIAP_CHAN_CONN) {
    read_request(conn, &m, (size_t)r);
    if (write(conn, FORGED, sizeof FORGED - 1) < 0) {}
  }
  close(conn);
  return m.h.type == RIAP_CHAN_CONN;
}

/* the parent of pid, 0 when not known */
static pid_t parent_of(pid_t pid)
{
  char path[64], buf[512], *p;
  int fd, n;
  snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
  if ((fd = open(path, O_RDONLY)) < 0) return 0;
  n = (int)read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  if (!(p = strrchr(buf, ')'))) return 0;      /* "pid (comm) state ppid ..." */
  return (pid_t)strtol(p + 4, 0, 10);
}

/* 1 when pid's command name is riap-listen's */
static int is_listener(pid_t pid)
{
  char path[64], comm[32] = "";
  int fd, n;
  snprintf(path, sizeof path, "/proc/%ld/comm", (long)pid);
  if ((fd = open(path, O_RDONLY)) < 0) return 0;
  n = (int)read(fd, comm, sizeof comm - 1);
  close(fd);
  return n > 0 && !strncmp(comm, "riap-listen", 11);
}

/* pid's fds, taken with pidfd_getfd; each socket tried as above */
static int grab(pid_t pid, int wait_ms, int *channels, int *stolen)
{
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), fd, n = 0;
  if (pidfd < 0) return 0;
  for (fd = 0; fd < FD_MAX; fd++) {
    int g = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
    if (g < 0) continue;
    n++;
    if (is_socket(g) && send_done(g)) {
      ++*channels;
      *stolen += steal(g, wait_ms);
    }
    close(g);
  }
  close(pidfd);
  return n;
}

int main(void)
{
  char in[65536], *w;
  size_t len = 0;
  ssize_t n;
  int fd, sockets = 0, channels = 0, stolen = 0, wait_ms = 3000, first = 1, grabbed;
  while (len < sizeof in - 1 && (n = read(0, in + len, sizeof in - 1 - len)) > 0) len += (size_t)n;
  in[len] = 0;
  if ((w = strstr(in, "\"wait\":"))) wait_ms = atoi(w + 7) * 1000;
  printf("[200,\"OK\",{\"fds\":[");
  for (fd = 3; fd < FD_MAX; fd++) {
    if (fcntl(fd, F_GETFD) < 0) continue;
    printf("%s%d", first ? "" : ",", fd);
    first = 0;
    if (!is_socket(fd)) continue;
    sockets++;
    if (!send_done(fd)) continue;
    channels++;
    stolen += steal(fd, wait_ms);
  }
  grabbed = grab(getppid(), wait_ms, &channels, &stolen);
  if (is_listener(parent_of(getppid()))) grabbed += grab(parent_of(getppid()), wait_ms, &channels, &stolen);
  printf("],\"sockets\":%d,\"channels\":%d,\"stolen\":%d,\"grabbed\":%d}]\n", sockets, channels, stolen, grabbed);
  return 0;
}
