/* dest.h: where riap-log writes a log: stdout, a file in append mode, or a
 * directory rotated in the s6-log way. Each destination holds what is not
 * written yet (whole lines, bounded) and retries after a failure. */
#ifndef RIAP_LOG_DEST_H
#define RIAP_LOG_DEST_H
#include <stddef.h>

enum dest_kind { DEST_STDOUT, DEST_FILE, DEST_DIR };

struct dest {
  enum dest_kind kind;
  const char *path;                 /* the file or directory; "-" for stdout */
  const char *name;                 /* for messages */
  int fd, dirfd, lockfd;            /* DIR: lockfd holds DIR/lock for life */
  unsigned long long cursize;       /* DIR: bytes in current */
  unsigned long long maxsize;       /* DIR: rotate before current passes this */
  unsigned maxfiles;                /* DIR: rotated files kept, 0: all */
  int fsync_each;                   /* fsync after each flush */
  unsigned retry;                   /* seconds between attempts */
  char *buf;  size_t start, len, bound, extra;
  int failing;  long long retry_at; /* monotonic ms of the next attempt */
  int lasterr;  long long warned_at; /* the failure last reported, and when */
  int midline;                      /* the last byte written was not '\n' */
  int dirty;                        /* written since the last fsync */
};

/* dest_init: sets d up for spec ("-", a path, or a directory: an existing
 * one or a path ending in '/') holding up to bound pending bytes plus one
 * line of extra bytes. Returns 0, or -1 when out of memory. */
int dest_init(struct dest *d, const char *spec, size_t bound, size_t extra);

/* dest_open: opens the destination (creating the file, or the directory,
 * its lock and its current). Returns 0, or -1 with errno set (EWOULDBLOCK:
 * another process holds the directory's lock). */
int dest_open(struct dest *d);

/* dest_room: returns 1 when a line of up to extra bytes can be added now. */
int dest_room(const struct dest *d);

/* dest_line: where to format the next line (extra bytes free), then
 * dest_commit(d, n) adds the n bytes written there. */
char *dest_line(struct dest *d);
void dest_commit(struct dest *d, size_t n);

/* dest_flush: writes what is pending unless waiting for the next attempt;
 * rotates as needed. Returns 1 when nothing is pending, 0 otherwise.
 * A broken stdout pipe is fatal (111). */
int dest_flush(struct dest *d, long long now_ms);

/* dest_fail: the attempt to what (open, write to, ...) failed with errno:
 * says so on stderr (rate-limited: DEST_WARN_EVERY_MS while the reason
 * stays the same) and sets the next attempt; a broken stdout pipe is fatal. */
#define DEST_WARN_EVERY_MS 60000
void dest_fail(struct dest *d, long long now_ms, const char *what);

/* dest_wait: returns ms until the next attempt, -1 when none is due. */
long long dest_wait(const struct dest *d, long long now_ms);

/* dest_reopen: for SIGHUP: closes and reopens the file or directory
 * (a failure is reported and retried). */
void dest_reopen(struct dest *d, long long now_ms);

/* dest_sync: fsyncs what was written since the last fsync; returns 0 or -1. */
int dest_sync(struct dest *d);

#endif
