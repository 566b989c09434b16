/* dest.c: log destinations, rotation and retries (doc/riap-log.8, FILES).
 *
 * A rotated directory works as s6-log's: lines go to DIR/current; before a
 * line would take current past maxsize, current is fsynced and renamed to
 * DIR/@TAI64N.s (the time of the rotation), a new current is created and
 * the directory fsynced, then the oldest @*.s files past maxfiles are
 * removed. rename() is atomic: a crash leaves either the old current or the
 * rotated file and no current (created again on the next start). */
#include "dest.h"
#include "riap_log.h"
#include "riap_time.h"
#include <errmsg.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int dest_init(struct dest *d, const char *spec, size_t bound, size_t extra)
{
  struct stat st;
  size_t n = strlen(spec);
  memset(d, 0, sizeof *d);
  d->fd = d->dirfd = d->lockfd = -1;
  d->path = d->name = spec;
  d->retry = 5;
  if (!strcmp(spec, "-")) { d->kind = DEST_STDOUT; d->name = "stdout"; }
  else if ((n && spec[n - 1] == '/') || (!stat(spec, &st) && S_ISDIR(st.st_mode))) d->kind = DEST_DIR;
  else d->kind = DEST_FILE;
  d->bound = bound;
  d->extra = extra;
  d->buf = malloc(bound + extra);
  return d->buf ? 0 : -1;
}

static int opencurrent(struct dest *d)
{
  struct stat st;
  d->fd = openat(d->dirfd, "current", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (d->fd < 0) return -1;
  if (fstat(d->fd, &st) < 0) { int e = errno; close(d->fd); d->fd = -1; errno = e; return -1; }
  d->cursize = (unsigned long long)st.st_size;
  return 0;
}

int dest_open(struct dest *d)
{
  switch (d->kind) {
  case DEST_STDOUT:
    d->fd = 1;
    return 0;
  case DEST_FILE:
    d->fd = open(d->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return d->fd < 0 ? -1 : 0;
  case DEST_DIR:
    if (d->dirfd < 0) {
      if (mkdir(d->path, 0755) < 0 && errno != EEXIST) return -1;
      d->dirfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (d->dirfd < 0) return -1;
    }
    if (d->lockfd < 0) {   /* one writer per directory, as s6-log */
      d->lockfd = openat(d->dirfd, "lock", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (d->lockfd < 0) return -1;
      if (flock(d->lockfd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        close(d->lockfd);
        d->lockfd = -1;
        errno = e;
        return -1;
      }
    }
    return opencurrent(d);
  }
  return -1;
}

int dest_room(const struct dest *d)
{
  return d->len <= d->bound;
}

char *dest_line(struct dest *d)
{
  if (d->start + d->len + d->extra > d->bound + d->extra) {
    memmove(d->buf, d->buf + d->start, d->len);
    d->start = 0;
  }
  if (!d->len) d->start = 0;
  return d->buf + d->start + d->len;
}

void dest_commit(struct dest *d, size_t n)
{
  d->len += n;
}

/* Said on the first failure, when the reason changes, and then once a
 * minute: a disk full for hours is not a line every few seconds. */
void dest_fail(struct dest *d, long long now_ms, const char *what)
{
  char n[16];
  int e = errno;
  if (d->kind == DEST_STDOUT && e == EPIPE) diesys(111, "fatal: unable to ", what, " ", d->name);
  if (!d->failing || e != d->lasterr || now_ms - d->warned_at >= DEST_WARN_EVERY_MS) {
    snprintf(n, sizeof n, "%u", d->retry);
    if (e == EWOULDBLOCK && d->kind == DEST_DIR)
      carp("warning: unable to lock ", d->name, ": another process writes there (retrying every ", n, " s, nothing dropped)");
    else {
      errno = e;
      carpsys("warning: unable to ", what, " ", d->name, " (retrying every ", n, " s, nothing dropped)");
    }
    d->warned_at = now_ms;
    d->lasterr = e;
  }
  d->failing = 1;
  d->retry_at = now_ms + 1000LL * d->retry;
}

static int cmpname(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int rotated(const char *s)
{
  size_t i;
  if (s[0] != '@') return 0;
  for (i = 1; i < 25; ++i) if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  return s[25] == '.' && (s[26] == 's' || s[26] == 'u') && !s[27];
}

/* Removes the oldest rotated files past maxfiles; failures are only reported. */
static void prune(struct dest *d)
{
  DIR *dir;
  struct dirent *e;
  char **names = 0;
  size_t n = 0, cap = 0, i;
  int fd;
  if (!d->maxfiles) return;
  fd = openat(d->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || !(dir = fdopendir(fd))) { if (fd >= 0) close(fd); carpsys("warning: unable to list ", d->name); return; }
  while ((e = readdir(dir))) {
    if (!rotated(e->d_name)) continue;
    if (n == cap) {
      char **t = realloc(names, (cap = cap ? 2 * cap : 32) * sizeof *names);
      if (!t) break;
      names = t;
    }
    if (!(names[n] = strdup(e->d_name))) break;
    ++n;
  }
  closedir(dir);
  qsort(names, n, sizeof *names, cmpname);
  for (i = 0; i + d->maxfiles < n; ++i)
    if (unlinkat(d->dirfd, names[i], 0) < 0 && errno != ENOENT) carpsys("warning: unable to remove ", d->name, "/", names[i]);
  for (i = 0; i < n; ++i) free(names[i]);
  free(names);
}

/* current -> @TAI64N.s, then a new current. Returns 0, or -1 with errno. */
static int rotate(struct dest *d)
{
  char name[RIAP_TIME_TAI64N + 3];
  struct timespec ts;
  int tries;
  if (d->fd >= 0 && fsync(d->fd) < 0) return -1;
  clock_gettime(CLOCK_REALTIME, &ts);
  for (tries = 0;; ++tries) {
    riap_time_fmttai64n(name, ts.tv_sec, ts.tv_nsec);
    memcpy(name + RIAP_TIME_TAI64N, ".s", 3);
    if (!renameat2(d->dirfd, "current", d->dirfd, name, RENAME_NOREPLACE)) break;
    if (errno != EEXIST || tries > 1000) return -1;
    if (++ts.tv_nsec > 999999999) { ts.tv_nsec = 0; ++ts.tv_sec; }
  }
  close(d->fd);
  d->fd = -1;
  d->dirty = 0;
  if (opencurrent(d) < 0) return -1;
  fsync(d->dirfd);
  prune(d);
  return 0;
}

/* How many pending bytes to write to current now: whole lines that fit
 * under maxsize, at least one (the rest of a line begun is always finished). */
static size_t chunk(struct dest *d, int *must_rotate)
{
  const char *p = d->buf + d->start, *e = p + d->len, *nl;
  size_t n;
  *must_rotate = 0;
  nl = memchr(p, '\n', d->len);
  n = nl ? (size_t)(nl - p) + 1 : d->len;
  if (d->midline) return n;
  if (d->cursize > 0 && d->cursize + n > d->maxsize) { *must_rotate = 1; return 0; }
  while (p + n < e) {
    nl = memchr(p + n, '\n', (size_t)(e - p) - n);
    size_t m = nl ? (size_t)(nl - p) + 1 : d->len;
    if (d->cursize + m > d->maxsize) break;
    n = m;
  }
  return n;
}

int dest_flush(struct dest *d, long long now_ms)
{
  if (!d->len) return 1;
  if (d->failing && now_ms < d->retry_at) return 0;
  if (d->fd < 0 && dest_open(d) < 0) { dest_fail(d, now_ms, "open"); return 0; }
  while (d->len) {
    size_t n = d->len, w;
    if (d->kind == DEST_DIR) {
      int r;
      n = chunk(d, &r);
      if (r) {
        if (rotate(d) < 0) { dest_fail(d, now_ms, "rotate"); return 0; }
        continue;
      }
    }
    w = riap_log_write(d->fd, d->buf + d->start, n);
    if (w) {
      d->midline = d->buf[d->start + w - 1] != '\n';
      d->start += w;
      d->len -= w;
      d->cursize += w;
      d->dirty = 1;
    }
    if (w < n) { dest_fail(d, now_ms, "write to"); return 0; }
  }
  if (d->fsync_each && dest_sync(d) < 0) carpsys("warning: unable to fsync ", d->name);
  if (d->failing) {
    carp("info: writing to ", d->name, " again");
    d->failing = 0;
  }
  return 1;
}

long long dest_wait(const struct dest *d, long long now_ms)
{
  if (!d->len || !d->failing) return -1;
  return d->retry_at > now_ms ? d->retry_at - now_ms : 0;
}

void dest_reopen(struct dest *d, long long now_ms)
{
  if (d->kind == DEST_STDOUT) return;
  if (d->fsync_each) dest_sync(d);
  if (d->fd >= 0) close(d->fd);
  d->fd = -1;
  if (d->dirfd >= 0) close(d->dirfd);
  d->dirfd = -1;
  d->midline = 0;
  if (dest_open(d) < 0) { dest_fail(d, now_ms, "reopen"); return; }
  d->failing = 0;
}

int dest_sync(struct dest *d)
{
  if (d->kind == DEST_STDOUT || d->fd < 0 || !d->dirty) return 0;
  if (fsync(d->fd) < 0 && errno != EINVAL) return -1;
  d->dirty = 0;
  return 0;
}
