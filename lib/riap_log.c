/* riap_log.c: writing all of a buffer. */
#include "riap_log.h"
#include <errno.h>
#include <poll.h>
#include <unistd.h>

size_t riap_log_write(int fd, const char *buf, size_t len)
{
  size_t done = 0;
  while (done < len) {
    ssize_t w = write(fd, buf + done, len - done);
    if (w > 0) { done += (size_t)w; continue; }
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      if (poll(&p, 1, -1) < 0 && errno != EINTR) return done;
      continue;
    }
    if (w == 0) errno = EIO;
    return done;
  }
  return done;
}
