/* chan: one datagram on a listener/worker channel, as the receiver decodes it. */
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include "fuzz.h"
#include "riap_chan.h"
#include "riap_peer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int sv[2] = { -1, -1 };
  static struct riap_chan_msg m;
  struct riap_peer p;
  int fd;
  if (sv[0] < 0 && socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) return 0;
  if (size > sizeof m + 64 || send(sv[1], data, size, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) return 0;
  if (riap_chan_recv(sv[0], &m, &fd) == 1) {
    if (m.h.type == RIAP_CHAN_CONN) riap_chan_getpeer(&m, &p);
    if (fd >= 0) close(fd);
  }
  return 0;
}
