/* test_chan.c: the control channel: every message type round-trips with
 * its fd; malformed packets are refused (EPROTO) and their fds closed. */
#include "unit.h"
#include "riap_chan.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static int sp[2];

static int same_file(int a, int b)
{
  struct stat x, y;
  return fstat(a, &x) == 0 && fstat(b, &y) == 0 && x.st_ino == y.st_ino && x.st_dev == y.st_dev;
}

static void conn_roundtrip(void)
{
  struct riap_chan_msg m, r;
  struct riap_peer p, q;
  int fd = -1, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  memset(&p, 0, sizeof p);
  p.proto = RIAP_PROTO_TCP;
  strcpy(p.remoteip, "2001:db8::1");
  strcpy(p.localip, "::1");
  p.remoteport = 40000;
  p.localport = 5678;
  p.uid = p.gid = p.pid = -1;
  riap_chan_setconn(&m, 42, 3, &p);
  CHECK(riap_chan_send(sp[0], &m, devnull) == 1, "conn sent with its fd");
  CHECK(riap_chan_recv(sp[1], &r, &fd) == 1, "conn received");
  CHECK(r.h.type == RIAP_CHAN_CONN && r.h.id == 42 && r.u.conn.listener == 3, "conn header and listener index");
  CHECK(fd >= 0 && fd != devnull && same_file(fd, devnull), "the fd arrives as a new descriptor of the same file");
  CHECK(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "the received fd is close-on-exec");
  riap_chan_getpeer(&r, &q);
  CHECK(q.proto == RIAP_PROTO_TCP && q.remoteport == 40000 && q.localport == 5678, "tcp peer ports");
  CHECK_STR(q.remoteip, "2001:db8::1", "tcp remote ip");
  CHECK_STR(q.localip, "::1", "tcp local ip");
  if (fd >= 0) close(fd);

  memset(&p, 0, sizeof p);
  p.proto = RIAP_PROTO_IPC;
  p.uid = 1000; p.gid = 100; p.pid = 4321;
  riap_chan_setconn(&m, 43, 0, &p);
  m.u.conn.datalen = 5;
  memcpy(m.data, "j{}\r\n", 5);
  CHECK(riap_chan_send(sp[0], &m, devnull) == 1, "conn with a data tail sent");
  CHECK(riap_chan_recv(sp[1], &r, &fd) == 1 && r.u.conn.datalen == 5 && !memcmp(r.data, "j{}\r\n", 5), "data tail received");
  riap_chan_getpeer(&r, &q);
  CHECK(q.proto == RIAP_PROTO_IPC && q.uid == 1000 && q.gid == 100 && q.pid == 4321, "unix peer credentials");
  if (fd >= 0) close(fd);

  riap_chan_setconn(&m, 44, 0, &p);
  errno = 0;
  CHECK(riap_chan_send(sp[0], &m, -1) == 0 && errno == EINVAL, "conn without an fd is not sent");
  close(devnull);
}

static void small_roundtrips(void)
{
  struct riap_chan_msg m, r;
  int fd;
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_READY;
  m.u.ready.pid = 99; m.u.ready.slot = 7; m.u.ready.generation = 2; m.u.ready.timeout_ms = 1500;
  CHECK(riap_chan_send(sp[1], &m, -1) == 1, "ready sent");
  CHECK(riap_chan_recv(sp[0], &r, &fd) == 1 && fd == -1 && r.h.type == RIAP_CHAN_READY
        && r.u.ready.pid == 99 && r.u.ready.slot == 7 && r.u.ready.generation == 2 && r.u.ready.timeout_ms == 1500, "ready received");
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_DONE; m.h.id = 42; m.h.flags = RIAP_CHAN_EXITING;
  m.u.done.requests = 12; m.u.done.bytes_in = 100; m.u.done.bytes_out = 200;
  CHECK(riap_chan_send(sp[1], &m, -1) == 1, "done sent");
  CHECK(riap_chan_recv(sp[0], &r, &fd) == 1 && r.h.type == RIAP_CHAN_DONE && r.h.id == 42
        && r.h.flags == RIAP_CHAN_EXITING && r.u.done.requests == 12 && r.u.done.bytes_out == 200, "done received");
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_STOP;
  CHECK(riap_chan_send(sp[0], &m, -1) == 1 && riap_chan_recv(sp[1], &r, &fd) == 1
        && r.h.type == RIAP_CHAN_STOP && r.h.len == 0, "stop: a header alone");
  m.h.type = RIAP_CHAN_RETIRE;
  CHECK(riap_chan_send(sp[0], &m, -1) == 1 && riap_chan_recv(sp[1], &r, &fd) == 1
        && r.h.type == RIAP_CHAN_RETIRE, "retire: a header alone");
  m.h.type = RIAP_CHAN_YIELD;
  CHECK(riap_chan_send(sp[0], &m, -1) == 1 && riap_chan_recv(sp[1], &r, &fd) == 1
        && r.h.type == RIAP_CHAN_YIELD && r.h.len == 0 && fd == -1, "yield: a header alone");
  CHECK(!strcmp(riap_chan_typename(RIAP_CHAN_YIELD), "yield") && !strcmp(riap_chan_typename(8), "unknown"), "type names");
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_PARK; m.h.id = 5;
  m.u.park.requests = 3; m.u.park.datalen = 3;
  memcpy(m.data, "j{\"", 3);
  {
    int p[2];
    CHECK(pipe(p) == 0, "pipe");
    CHECK(riap_chan_send(sp[1], &m, p[0]) == 1, "park sent with fd and bytes");
    CHECK(riap_chan_recv(sp[0], &r, &fd) == 1 && r.h.type == RIAP_CHAN_PARK && fd >= 0
          && r.u.park.datalen == 3 && !memcmp(r.data, "j{\"", 3), "park received");
    if (fd >= 0) close(fd);
    memset(&m, 0, sizeof m);
    m.h.type = RIAP_CHAN_PARK; m.h.id = 6; m.h.flags = RIAP_CHAN_EXITING;
    m.u.park.datalen = RIAP_CHAN_DATAMAX;
    memset(m.data, 'x', RIAP_CHAN_DATAMAX);
    CHECK(riap_chan_send(sp[1], &m, p[0]) == 1, "park with the most data sent");
    CHECK(riap_chan_recv(sp[0], &r, &fd) == 1 && r.h.flags == RIAP_CHAN_EXITING && fd >= 0
          && r.u.park.datalen == RIAP_CHAN_DATAMAX && r.data[RIAP_CHAN_DATAMAX - 1] == 'x', "park with the most data received");
    if (fd >= 0) close(fd);
    m.u.park.datalen = 0;
    CHECK(riap_chan_send(sp[1], &m, -1) == 0 && errno == EINVAL, "park without an fd is not sent");
    m.u.park.datalen = RIAP_CHAN_DATAMAX + 1;
    CHECK(riap_chan_send(sp[1], &m, p[0]) == 0 && errno == EINVAL, "park with too much data is not sent");
    close(p[0]); close(p[1]);
  }
}

static void malformed(void)
{
  struct riap_chan_msg r;
  struct riap_chan_hdr h;
  char buf[200];
  int fd = 0, devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);

  CHECK(write(sp[0], "abc", 3) == 3, "short packet written");
  errno = 0;
  CHECK(riap_chan_recv(sp[1], &r, &fd) == -1 && errno == EPROTO && fd == -1, "a packet shorter than the header: EPROTO");

  memset(&h, 0, sizeof h);
  h.type = 77;
  CHECK(write(sp[0], &h, sizeof h) == sizeof h, "unknown type written");
  errno = 0;
  CHECK(riap_chan_recv(sp[1], &r, &fd) == -1 && errno == EPROTO, "an unknown type: EPROTO");

  memset(&h, 0, sizeof h);
  h.type = RIAP_CHAN_READY;
  h.len = 16;
  memset(buf, 0, sizeof buf);
  memcpy(buf, &h, sizeof h);
  CHECK(write(sp[0], buf, sizeof h + 8) == (ssize_t)(sizeof h + 8), "short ready written");
  errno = 0;
  CHECK(riap_chan_recv(sp[1], &r, &fd) == -1 && errno == EPROTO, "a payload shorter than its type's: EPROTO");

  /* a ready that carries an fd: refused, and the fd is not leaked */
  {
    struct riap_chan_msg m;
    struct msghdr mh;
    struct iovec iov[2];
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } cm;
    struct cmsghdr *c;
    int before, after;
    memset(&m, 0, sizeof m);
    m.h.type = RIAP_CHAN_READY;
    m.h.len = sizeof m.u.ready;
    iov[0].iov_base = &m.h; iov[0].iov_len = sizeof m.h;
    iov[1].iov_base = &m.u; iov[1].iov_len = sizeof m.u.ready;
    memset(&mh, 0, sizeof mh);
    memset(&cm, 0, sizeof cm);
    mh.msg_iov = iov; mh.msg_iovlen = 2;
    mh.msg_control = cm.b; mh.msg_controllen = sizeof cm.b;
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &devnull, sizeof devnull);
    CHECK(sendmsg(sp[0], &mh, 0) > 0, "ready with an fd written");
    before = dup(0); close(before);
    errno = 0;
    CHECK(riap_chan_recv(sp[1], &r, &fd) == -1 && errno == EPROTO && fd == -1, "an fd where none belongs: EPROTO");
    after = dup(0); close(after);
    CHECK(before == after, "the stray fd was closed");
  }
  close(devnull);
}

/* at the fd limit the kernel drops the fd of a PARK or CONN and sets
 * MSG_CTRUNC: EMFILE with the message whole, not EPROTO */
static void fd_limit(void)
{
  struct riap_chan_msg m, r;
  struct rlimit old, low;
  int p[2], fd = 7, top, rc, e;
  CHECK(pipe(p) == 0, "pipe");
  memset(&m, 0, sizeof m);
  m.h.type = RIAP_CHAN_PARK; m.h.id = 77;
  m.u.park.requests = 2; m.u.park.datalen = 4;
  memcpy(m.data, "j{\"a", 4);
  CHECK(riap_chan_send(sp[1], &m, p[0]) == 1, "park sent at the limit");
  close(p[0]);
  top = dup(0);                           /* the lowest free fd: no fd above it fits */
  close(top);
  CHECK(getrlimit(RLIMIT_NOFILE, &old) == 0, "getrlimit");
  low = old;
  low.rlim_cur = (rlim_t)top;
  CHECK(setrlimit(RLIMIT_NOFILE, &low) == 0, "fd limit lowered");
  errno = 0;
  rc = riap_chan_recv(sp[0], &r, &fd);
  e = errno;
  setrlimit(RLIMIT_NOFILE, &old);
  CHECK(rc == -1 && e == EMFILE && fd == -1, "a park whose fd cannot be received: EMFILE, not EPROTO");
  CHECK(r.h.type == RIAP_CHAN_PARK && r.h.id == 77 && r.u.park.requests == 2 && r.u.park.datalen == 4
        && !memcmp(r.data, "j{\"a", 4), "... and the message is whole");
  signal(SIGPIPE, SIG_IGN);
  CHECK(write(p[1], "x", 1) < 0 && errno == EPIPE, "the fd that could not be received is closed");
  close(p[1]);
}

int main(void)
{
  struct riap_chan_msg r;
  int fd;
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) { perror("socketpair"); return 111; }
  CHECK(riap_chan_payload(RIAP_CHAN_CONN) == 136 && riap_chan_payload(RIAP_CHAN_STOP) == 0
        && riap_chan_payload(99) == -1, "fixed payload sizes");
  conn_roundtrip();
  small_roundtrips();
  malformed();
  fd_limit();
  close(sp[0]);
  CHECK(riap_chan_recv(sp[1], &r, &fd) == 0, "EOF when the other end closes");
  close(sp[1]);
  return UNIT_DONE();
}
