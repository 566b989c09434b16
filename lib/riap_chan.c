/* riap_chan.c: typed messages with at most one fd over SOCK_SEQPACKET. */
#include "riap_chan.h"
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

_Static_assert(sizeof(struct riap_chan_hdr) == 16, "header layout");
_Static_assert(sizeof(struct riap_chan_conn) == 136, "conn layout");
_Static_assert(sizeof(struct riap_chan_ready) == 24, "ready layout");
_Static_assert(sizeof(struct riap_chan_done) == 24, "done layout");
_Static_assert(sizeof(struct riap_chan_park) == 16, "park layout");

long riap_chan_payload(unsigned t)
{
  switch (t) {
    case RIAP_CHAN_CONN: return sizeof(struct riap_chan_conn);
    case RIAP_CHAN_READY: return sizeof(struct riap_chan_ready);
    case RIAP_CHAN_DONE: return sizeof(struct riap_chan_done);
    case RIAP_CHAN_RETIRE: return 0;
    case RIAP_CHAN_STOP: return 0;
    case RIAP_CHAN_PARK: return sizeof(struct riap_chan_park);
    case RIAP_CHAN_YIELD: return 0;
    default: return -1;
  }
}

const char *riap_chan_typename(unsigned t)
{
  static const char *const names[] = { "unknown", "conn", "ready", "done", "retire", "stop", "park", "yield" };
  return t < sizeof names / sizeof *names ? names[t] : "unknown";
}

static int carries_fd(unsigned t) { return t == RIAP_CHAN_CONN || t == RIAP_CHAN_PARK; }

/* the data tail length announced in the fixed payload */
static uint32_t datalen(const struct riap_chan_msg *m)
{
  if (m->h.type == RIAP_CHAN_CONN) return m->u.conn.datalen;
  if (m->h.type == RIAP_CHAN_PARK) return m->u.park.datalen;
  return 0;
}

int riap_chan_send(int sock, struct riap_chan_msg *m, int fd)
{
  long fixed = riap_chan_payload(m->h.type);
  uint32_t dl;
  struct iovec iov[3];
  struct msghdr mh;
  union { char buf[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } cm;
  ssize_t w;
  int n = 1;

  if (fixed < 0 || (fd >= 0) != carries_fd(m->h.type)) { errno = EINVAL; return 0; }
  dl = datalen(m);
  if (dl > RIAP_CHAN_DATAMAX) { errno = EINVAL; return 0; }
  m->h.len = (uint32_t)fixed + dl;
  iov[0].iov_base = &m->h;
  iov[0].iov_len = sizeof m->h;
  if (fixed) { iov[n].iov_base = &m->u; iov[n].iov_len = (size_t)fixed; n++; }
  if (dl) { iov[n].iov_base = m->data; iov[n].iov_len = dl; n++; }
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = iov;
  mh.msg_iovlen = (size_t)n;
  if (fd >= 0) {
    struct cmsghdr *c;
    memset(&cm, 0, sizeof cm);
    mh.msg_control = cm.buf;
    mh.msg_controllen = sizeof cm.buf;
    c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
  }
  do w = sendmsg(sock, &mh, MSG_NOSIGNAL); while (w < 0 && errno == EINTR);
  if (w < 0) return 0;
  if ((size_t)w != sizeof m->h + m->h.len) { errno = EPROTO; return 0; }
  return 1;
}

static int malformed(int *fd)
{
  if (*fd >= 0) close(*fd);
  *fd = -1;
  errno = EPROTO;
  return -1;
}

int riap_chan_recv(int sock, struct riap_chan_msg *m, int *fd)
{
  struct iovec iov = { m, sizeof *m };
  struct msghdr mh;
  union { char buf[CMSG_SPACE(sizeof(int) * 4)]; struct cmsghdr align; } cm;
  struct cmsghdr *c;
  ssize_t r;
  long fixed;
  int nfds = 0, lost;

  *fd = -1;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iov;
  mh.msg_iovlen = 1;
  mh.msg_control = cm.buf;
  mh.msg_controllen = sizeof cm.buf;
  r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
  if (r < 0) return -1;
  for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
      size_t k, n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (k = 0; k < n; k++) {
        int f;
        memcpy(&f, CMSG_DATA(c) + k * sizeof(int), sizeof f);
        if (*fd < 0) *fd = f; else close(f);
        nfds++;
      }
    }
  }
  if (r == 0 && !nfds) return 0;                /* EOF: the other end closed */
  if (mh.msg_flags & MSG_TRUNC) return malformed(fd);
  if ((size_t)r < sizeof m->h) return malformed(fd);
  fixed = riap_chan_payload(m->h.type);
  if (fixed < 0 || m->h.len != (size_t)r - sizeof m->h || m->h.len < (size_t)fixed)
    return malformed(fd);
  if (datalen(m) != m->h.len - (size_t)fixed) return malformed(fd);
  /* MSG_CTRUNC with no fd at all on a message that carries one: the kernel
   * could not install it (our fd limit) and closed it. A shortage, not a
   * malformed message: the message is whole, only its fd is lost. (More
   * fds than our buffer holds also truncate, but then some arrive.) */
  lost = (mh.msg_flags & MSG_CTRUNC) && !nfds && carries_fd(m->h.type);
  if (!lost && ((mh.msg_flags & MSG_CTRUNC) || nfds != (carries_fd(m->h.type) ? 1 : 0)))
    return malformed(fd);
  if (m->h.len > (size_t)fixed && (size_t)fixed < sizeof m->u)   /* the tail landed inside u */
    memmove(m->data, (char *)&m->u + fixed, m->h.len - (size_t)fixed);
  if (lost) { errno = EMFILE; return -1; }
  return 1;
}

static void copy_text(char *dest, size_t size, const char *s)
{
  size_t n = strnlen(s, size - 1);
  memcpy(dest, s, n);
  memset(dest + n, 0, size - n);
}

void riap_chan_setconn(struct riap_chan_msg *m, uint64_t id, unsigned li, const struct riap_peer *p)
{
  memset(&m->h, 0, sizeof m->h);
  memset(&m->u.conn, 0, sizeof m->u.conn);
  m->h.type = RIAP_CHAN_CONN;
  m->h.id = id;
  m->u.conn.listener = li;
  m->u.conn.proto = (uint32_t)p->proto;
  m->u.conn.remoteport = p->remoteport;
  m->u.conn.localport = p->localport;
  m->u.conn.uid = p->uid;
  m->u.conn.gid = p->gid;
  m->u.conn.pid = p->pid;
  copy_text(m->u.conn.remoteip, sizeof m->u.conn.remoteip, p->remoteip);
  copy_text(m->u.conn.localip, sizeof m->u.conn.localip, p->localip);
}

void riap_chan_getpeer(const struct riap_chan_msg *m, struct riap_peer *p)
{
  const struct riap_chan_conn *c = &m->u.conn;
  memset(p, 0, sizeof *p);
  p->proto = c->proto == RIAP_PROTO_TCP ? RIAP_PROTO_TCP
           : c->proto == RIAP_PROTO_IPC ? RIAP_PROTO_IPC : RIAP_PROTO_NONE;
  p->remoteport = c->remoteport;
  p->localport = c->localport;
  p->uid = (long)c->uid;
  p->gid = (long)c->gid;
  p->pid = (long)c->pid;
  copy_text(p->remoteip, sizeof p->remoteip, c->remoteip);
  copy_text(p->localip, sizeof p->localip, c->localip);
}
