/* riap_log.h: writing all of a buffer (log data first) without losing it. */
#ifndef RIAP_LOG_H
#define RIAP_LOG_H
#include <stddef.h>

/* riap_log_write: the write-all loop of every program (logs, stdout,
 * access records): writes buf (len bytes) to fd, going on after short writes
 * and EINTR, and waiting in poll() when fd is non-blocking and full.
 * Returns the bytes written: len, or less with errno telling why it stopped. */
size_t riap_log_write(int fd, const char *buf, size_t len);

#endif
