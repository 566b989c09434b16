/* riap_envdir.c: read one variable of an environment directory. */
#include "riap_envdir.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int riap_envdir_get(const char *dir, const char *name, char *buf, size_t size)
{
  char path[4096];
  size_t n = 0, i;
  int fd;
  if (!size) { errno = ENAMETOOLONG; return -1; }
  if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path) { errno = ENAMETOOLONG; return -1; }
  fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -1;
  for (;;) {
    ssize_t k;
    if (n + 1 >= size) { close(fd); errno = ENAMETOOLONG; return -1; }
    k = read(fd, buf + n, size - 1 - n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) { int e = errno; close(fd); errno = e; return -1; }
    if (k == 0) break;
    n += (size_t)k;
    if (memchr(buf + n - (size_t)k, '\n', (size_t)k)) break;
  }
  close(fd);
  if (!n) return 0;
  buf[n] = 0;
  for (i = 0; i < n && buf[i] != '\n'; i++)
    if (!buf[i]) buf[i] = '\n';
  n = i;
  while (n && (buf[n - 1] == ' ' || buf[n - 1] == '\t')) n--;
  buf[n] = 0;
  return 1;
}
