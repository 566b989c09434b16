/* riap_scoreboard.c: create/open/read the scoreboard; the slot writers. */
#include "riap_scoreboard.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof(struct riap_sb_header) == RIAP_SB_HEADER_SIZE, "header layout");
_Static_assert(sizeof(struct riap_sb_slot) == RIAP_SB_SLOT_SIZE, "slot layout");
/* the offsets riap-scoreboard(5) gives (and bench/run, t/riap-park.bats read) */
_Static_assert(offsetof(struct riap_sb_header, nslots) == 20 && offsetof(struct riap_sb_header, minor) == 44
               && offsetof(struct riap_sb_header, parked) == 112 && offsetof(struct riap_sb_header, total_seq) == 128
               && offsetof(struct riap_sb_header, waiting) == 132 && offsetof(struct riap_sb_header, accepted) == 136
               && offsetof(struct riap_sb_header, refused) == 144 && offsetof(struct riap_sb_header, gone_workers) == 152
               && offsetof(struct riap_sb_header, gone_bytes_out) == 184 && offsetof(struct riap_sb_header, draining) == 192
               && offsetof(struct riap_sb_header, fds_lost) == 196 && offsetof(struct riap_sb_header, reserved) == 200,
               "header offsets");
_Static_assert(offsetof(struct riap_sb_slot, state) == 16, "slot offsets");

static const char order[] = ".S_RCWG";

int riap_sb_rank(char c)
{
  const char *p = c ? strchr(order, c) : 0;
  return p ? (int)(p - order) : -1;
}

int64_t riap_sb_usec(const struct timespec *ts)
{
  return (int64_t)ts->tv_sec * 1000000 + ts->tv_nsec / 1000;
}

int64_t riap_sb_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME_COARSE, &ts);
  return riap_sb_usec(&ts);
}

static size_t total_size(unsigned nslots)
{
  return RIAP_SB_HEADER_SIZE + (size_t)nslots * RIAP_SB_SLOT_SIZE;
}

int riap_sb_create(struct riap_sb *sb, const char *path, unsigned nslots, const char *name)
{
  size_t n = strlen(path), size = total_size(nslots);
  char *tmp = malloc(n + 5);
  struct timespec ts;
  void *p;
  int fd, e;
  unsigned i;

  if (!tmp) return 0;
  memcpy(tmp, path, n);
  memcpy(tmp + n, ".new", 5);
  fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) goto fail;
  if (ftruncate(fd, (off_t)size) < 0) goto fail_fd;
  p = mmap(0, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) goto fail_fd;
  sb->h = p;
  sb->size = size;
  sb->writable = 1;
  memcpy(sb->h->magic, RIAP_SB_MAGIC, 8);
  sb->h->version = RIAP_SB_VERSION;
  sb->h->minor = RIAP_SB_MINOR;
  sb->h->header_size = RIAP_SB_HEADER_SIZE;
  sb->h->slot_size = RIAP_SB_SLOT_SIZE;
  sb->h->nslots = nslots;
  sb->h->listener_pid = getpid();
  clock_gettime(CLOCK_REALTIME, &ts);
  sb->h->start_us = riap_sb_usec(&ts);
  snprintf(sb->h->name, sizeof sb->h->name, "%s", name ? name : "");
  for (i = 0; i < nslots; i++) riap_sb_slot(sb, i)->state = RIAP_SB_EMPTY;
  if (rename(tmp, path) < 0) { e = errno; munmap(p, size); unlink(tmp); errno = e; goto fail_fd; }
  close(fd);
  free(tmp);
  return 1;
fail_fd:
  e = errno;
  close(fd);
  unlink(tmp);
  errno = e;
fail:
  e = errno;
  free(tmp);
  errno = e;
  return 0;
}

int riap_sb_open(struct riap_sb *sb, const char *path, int writable)
{
  struct stat st;
  struct riap_sb_header *h;
  void *p;
  int fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC), e;
  if (fd < 0) return 0;
  if (fstat(fd, &st) < 0) goto fail;
  if ((size_t)st.st_size < RIAP_SB_HEADER_SIZE) { errno = EPROTO; goto fail; }
  p = mmap(0, (size_t)st.st_size, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) goto fail;
  h = p;
  if (memcmp(h->magic, RIAP_SB_MAGIC, 8) || h->version != RIAP_SB_VERSION
      || h->header_size != RIAP_SB_HEADER_SIZE || h->slot_size != RIAP_SB_SLOT_SIZE
      || total_size(h->nslots) > (size_t)st.st_size) {
    munmap(p, (size_t)st.st_size);
    errno = EPROTO;
    goto fail;
  }
  close(fd);
  sb->h = h;
  sb->size = (size_t)st.st_size;
  sb->writable = writable;
  return 1;
fail:
  e = errno;
  close(fd);
  errno = e;
  return 0;
}

void riap_sb_close(struct riap_sb *sb)
{
  if (sb->h) munmap(sb->h, sb->size);
  sb->h = 0;
}

struct riap_sb_slot *riap_sb_slot(const struct riap_sb *sb, unsigned i)
{
  if (!sb->h || i >= sb->h->nslots) return 0;
  return (struct riap_sb_slot *)((char *)sb->h + RIAP_SB_HEADER_SIZE + (size_t)i * RIAP_SB_SLOT_SIZE);
}

int riap_sb_read(const struct riap_sb *sb, unsigned i, struct riap_sb_slot *out)
{
  const struct riap_sb_slot *s = riap_sb_slot(sb, i);
  int tries;
  if (!s) return 0;
  for (tries = 0; tries < 10000; tries++) {
    uint32_t a = __atomic_load_n(&s->seq, __ATOMIC_ACQUIRE), b;
    if (a & 1) continue;
    memcpy(out, (const void *)s, sizeof *out);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    b = __atomic_load_n(&s->seq, __ATOMIC_RELAXED);
    if (a == b) {
      out->peer[sizeof out->peer - 1] = 0;
      out->action[sizeof out->action - 1] = 0;
      out->uri[sizeof out->uri - 1] = 0;
      return 1;
    }
  }
  return 0;
}

void riap_sb_setgen(struct riap_sb *sb, uint32_t gen)
{
  if (sb->h) __atomic_store_n(&sb->h->generation, gen, __ATOMIC_RELEASE);
}

void riap_sb_setpark(struct riap_sb *sb, uint32_t parked, uint32_t parks, int64_t oldest_us)
{
  struct riap_sb_header *h = sb->h;
  if (!h) return;
  __atomic_store_n(&h->park_seq, (uint16_t)(h->park_seq + 1), __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  __atomic_store_n(&h->parked, parked, __ATOMIC_RELAXED);
  __atomic_store_n(&h->parks, parks, __ATOMIC_RELAXED);
  __atomic_store_n(&h->park_oldest_us, oldest_us, __ATOMIC_RELAXED);
  __atomic_store_n(&h->park_seq, (uint16_t)(h->park_seq + 1), __ATOMIC_RELEASE);
}

int riap_sb_getpark(const struct riap_sb *sb, struct riap_sb_park *out)
{
  const struct riap_sb_header *h = sb->h;
  int tries;
  if (!h) return 0;
  for (tries = 0; tries < 10000; tries++) {
    uint16_t a = __atomic_load_n(&h->park_seq, __ATOMIC_ACQUIRE), b;
    if (a & 1) continue;
    out->parked = __atomic_load_n(&h->parked, __ATOMIC_RELAXED);
    out->parks = __atomic_load_n(&h->parks, __ATOMIC_RELAXED);
    out->oldest_us = __atomic_load_n(&h->park_oldest_us, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    b = __atomic_load_n(&h->park_seq, __ATOMIC_RELAXED);
    if (a == b) return 1;
  }
  return 0;
}

/* the totals' seqlock (the listener is their only writer) */
static void tbegin(struct riap_sb_header *h)
{
  __atomic_store_n(&h->total_seq, h->total_seq | 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void tend(struct riap_sb_header *h)
{
  __atomic_store_n(&h->total_seq, h->total_seq + 1, __ATOMIC_RELEASE);
}

void riap_sb_setqueue(struct riap_sb *sb, uint32_t waiting, uint64_t accepted, uint64_t refused)
{
  struct riap_sb_header *h = sb->h;
  if (!h) return;
  tbegin(h);
  __atomic_store_n(&h->waiting, waiting, __ATOMIC_RELAXED);
  __atomic_store_n(&h->accepted, accepted, __ATOMIC_RELAXED);
  __atomic_store_n(&h->refused, refused, __ATOMIC_RELAXED);
  tend(h);
}

void riap_sb_setstate(struct riap_sb *sb, uint32_t draining, uint32_t fds_lost)
{
  struct riap_sb_header *h = sb->h;
  if (!h) return;
  tbegin(h);
  __atomic_store_n(&h->draining, draining, __ATOMIC_RELAXED);
  __atomic_store_n(&h->fds_lost, fds_lost, __ATOMIC_RELAXED);
  tend(h);
}

void riap_sb_reap(struct riap_sb *sb, unsigned i)
{
  struct riap_sb_header *h = sb->h;
  struct riap_sb_slot *s = riap_sb_slot(sb, i), c;
  if (!s) return;
  /* its worker is gone, nothing writes the slot now: a copy that stays
   * inconsistent (killed mid-update, seq odd) is taken as it is */
  if (!riap_sb_read(sb, i, &c)) memcpy(&c, (const void *)s, sizeof c);
  tbegin(h);
  __atomic_store_n(&h->gone_workers, h->gone_workers + 1, __ATOMIC_RELAXED);
  __atomic_store_n(&h->gone_requests, h->gone_requests + c.requests, __ATOMIC_RELAXED);
  __atomic_store_n(&h->gone_connections, h->gone_connections + c.connections, __ATOMIC_RELAXED);
  __atomic_store_n(&h->gone_bytes_in, h->gone_bytes_in + c.bytes_in, __ATOMIC_RELAXED);
  __atomic_store_n(&h->gone_bytes_out, h->gone_bytes_out + c.bytes_out, __ATOMIC_RELAXED);
  riap_sb_clear(s);                   /* within: no reader sees both or neither */
  tend(h);
}

int riap_sb_gettotals(const struct riap_sb *sb, struct riap_sb_totals *out)
{
  const struct riap_sb_header *h = sb->h;
  int tries;
  if (!h) return 0;
  for (tries = 0; tries < 10000; tries++) {
    uint32_t a = __atomic_load_n(&h->total_seq, __ATOMIC_ACQUIRE), b;
    if (a & 1) continue;
    out->waiting = __atomic_load_n(&h->waiting, __ATOMIC_RELAXED);
    out->accepted = __atomic_load_n(&h->accepted, __ATOMIC_RELAXED);
    out->refused = __atomic_load_n(&h->refused, __ATOMIC_RELAXED);
    out->workers = __atomic_load_n(&h->gone_workers, __ATOMIC_RELAXED);
    out->requests = __atomic_load_n(&h->gone_requests, __ATOMIC_RELAXED);
    out->connections = __atomic_load_n(&h->gone_connections, __ATOMIC_RELAXED);
    out->bytes_in = __atomic_load_n(&h->gone_bytes_in, __ATOMIC_RELAXED);
    out->bytes_out = __atomic_load_n(&h->gone_bytes_out, __ATOMIC_RELAXED);
    out->draining = __atomic_load_n(&h->draining, __ATOMIC_RELAXED);
    out->fds_lost = __atomic_load_n(&h->fds_lost, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    b = __atomic_load_n(&h->total_seq, __ATOMIC_RELAXED);
    if (a == b) return 1;
  }
  return 0;
}

/* the seqlock, writer side: one writer per slot at any time. seq | 1 is
 * seq + 1 for an even seq; an odd one was left by a worker killed between
 * its two stores, and the listener's next write (the reap) makes it even
 * again instead of keeping the slot unreadable. */
static void wbegin(struct riap_sb_slot *s)
{
  __atomic_store_n(&s->seq, s->seq | 1, __ATOMIC_RELAXED);
  __atomic_thread_fence(__ATOMIC_RELEASE);
}

static void wend(struct riap_sb_slot *s)
{
  __atomic_store_n(&s->seq, s->seq + 1, __ATOMIC_RELEASE);
}

static void copy_field(char *dest, size_t size, const char *s, size_t n)
{
  if (n >= size) n = size - 1;
  if (n) memcpy(dest, s, n);
  dest[n] = 0;
}

void riap_sb_assign(struct riap_sb_slot *s, uint32_t gen)
{
  if (!s) return;
  wbegin(s);
  memset((char *)s + sizeof s->seq, 0, sizeof *s - sizeof s->seq);
  s->generation = gen;
  s->state = RIAP_SB_STARTING;
  s->start_us = s->change_us = riap_sb_now();
  wend(s);
}

void riap_sb_setpid(struct riap_sb_slot *s, long pid)
{
  if (!s) return;
  wbegin(s);
  s->pid = pid;
  wend(s);
}

void riap_sb_clear(struct riap_sb_slot *s)
{
  if (!s) return;
  wbegin(s);
  memset((char *)s + sizeof s->seq, 0, sizeof *s - sizeof s->seq);
  s->state = RIAP_SB_EMPTY;
  wend(s);
}

void riap_sb_state(struct riap_sb_slot *s, char state)
{
  if (!s) return;
  wbegin(s);
  s->state = state;
  s->change_us = riap_sb_now();
  wend(s);
}

void riap_sb_conn(struct riap_sb_slot *s, const char *peer)
{
  if (!s) return;
  wbegin(s);
  s->state = RIAP_SB_READING;
  s->connections++;
  copy_field(s->peer, sizeof s->peer, peer, strlen(peer));
  s->action[0] = s->uri[0] = 0;
  s->change_us = riap_sb_now();
  wend(s);
}

void riap_sb_request(struct riap_sb_slot *s, const char *action, size_t alen,
                     const char *uri, size_t ulen, const struct timespec *t)
{
  if (!s) return;
  wbegin(s);
  s->state = RIAP_SB_CALLING;
  copy_field(s->action, sizeof s->action, action ? action : "", action ? alen : 0);
  copy_field(s->uri, sizeof s->uri, uri ? uri : "", uri ? ulen : 0);
  s->request_us = s->change_us = riap_sb_usec(t);
  wend(s);
}

void riap_sb_answered(struct riap_sb_slot *s)
{
  if (!s) return;
  wbegin(s);
  s->requests++;
  wend(s);
}

void riap_sb_bytes_in(struct riap_sb_slot *s, size_t n)
{
  if (!s) return;
  wbegin(s);
  s->bytes_in += n;
  wend(s);
}

void riap_sb_writing(struct riap_sb_slot *s, size_t n)
{
  if (!s) return;
  wbegin(s);
  s->state = RIAP_SB_WRITING;
  s->bytes_out += n;
  s->change_us = riap_sb_now();
  wend(s);
}
