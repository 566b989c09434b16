/* test_scoreboard.c: create, open, the slot writers, the header's park
 * fields and totals (version 2), consistent reads while another process
 * writes (the seqlocks), the reap that moves a slot's counts to the totals. */
#include "unit.h"
#include "riap_scoreboard.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* the grand total of requests as riap-ctl status takes it: the live slots
 * between two readings of the totals that agree on the workers gone */
static int grand_requests(const struct riap_sb *sb, uint64_t *out)
{
  int tries;
  for (tries = 0; tries < 100; tries++) {
    struct riap_sb_totals a, b;
    struct riap_sb_slot c;
    uint64_t live = 0;
    unsigned i;
    if (!riap_sb_gettotals(sb, &a)) continue;
    for (i = 0; i < sb->h->nslots; i++) if (riap_sb_read(sb, i, &c) && c.state != RIAP_SB_EMPTY) live += c.requests;
    if (!riap_sb_gettotals(sb, &b) || a.workers != b.workers) continue;
    *out = b.requests + live;
    return 1;
  }
  return 0;
}

/* a copy of path as a file of another layout: version v, header_size hs */
static int other_layout(const char *path, const char *dest, uint32_t v, uint32_t hs)
{
  char buf[RIAP_SB_HEADER_SIZE + 4 * RIAP_SB_SLOT_SIZE];
  struct riap_sb_header *h = (struct riap_sb_header *)buf;
  int fd = open(path, O_RDONLY);
  ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf) : -1;
  if (fd >= 0) close(fd);
  if (n != (ssize_t)sizeof buf) return 0;
  h->version = v;
  h->header_size = hs;
  fd = open(dest, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return 0;
  n = write(fd, buf, sizeof buf);
  close(fd);
  return n == (ssize_t)sizeof buf;
}

int main(void)
{
  char dir[] = "/tmp/test_sbXXXXXX", path[100], other[100];
  struct riap_sb sb, rd;
  struct riap_sb_slot *s, c;
  struct timespec t = { 1700000000, 5000 };
  FILE *f;
  pid_t pid;
  int i, torn = 0, reads = 0;
  unsigned long *shared;                       /* [0]: stop, [1]: rounds done */

  if (!mkdtemp(dir)) { perror("mkdtemp"); return 111; }
  snprintf(path, sizeof path, "%s/sb", dir);
  snprintf(other, sizeof other, "%s/other", dir);
  CHECK(riap_sb_rank('.') < riap_sb_rank('S') && riap_sb_rank('S') < riap_sb_rank('_')
        && riap_sb_rank('_') < riap_sb_rank('R') && riap_sb_rank('R') < riap_sb_rank('C')
        && riap_sb_rank('C') < riap_sb_rank('W') && riap_sb_rank('W') < riap_sb_rank('G')
        && riap_sb_rank('x') == -1, "states in the documented order");
  CHECK(riap_sb_create(&sb, path, 4, "test"), "created");
  CHECK(access(path, F_OK) == 0, "file in place");
  {
    char tmp[110];
    snprintf(tmp, sizeof tmp, "%s.new", path);
    CHECK(access(tmp, F_OK) != 0, "no .new left behind");
  }
  CHECK(riap_sb_open(&rd, path, 0), "opened read-only");
  CHECK(rd.h->nslots == 4 && rd.h->listener_pid == getpid() && !strcmp(rd.h->name, "test"), "header");
  CHECK(rd.h->version == 2 && rd.h->header_size == 256 && rd.h->slot_size == 512 && rd.h->minor == RIAP_SB_MINOR,
        "version 2: a 256-byte header, 512-byte slots");
  CHECK((char *)riap_sb_slot(&rd, 0) == (char *)rd.h + 256 && (char *)riap_sb_slot(&rd, 1) == (char *)rd.h + 768,
        "slots start at header_size");
  {
    struct stat st;
    CHECK(stat(path, &st) == 0 && st.st_size == 256 + 4 * 512, "file size: header and slots");
  }
  CHECK(riap_sb_read(&rd, 0, &c) && c.state == '.' && c.pid == 0, "slots start empty");
  CHECK(!riap_sb_read(&rd, 4, &c), "slot out of range");
  s = riap_sb_slot(&sb, 2);
  riap_sb_assign(s, 7);
  riap_sb_setpid(s, 1234);
  CHECK(riap_sb_read(&rd, 2, &c) && c.state == 'S' && c.pid == 1234 && c.generation == 7, "assigned: starting");
  riap_sb_state(s, RIAP_SB_IDLE);
  riap_sb_conn(s, "127.0.0.1:4000");
  riap_sb_bytes_in(s, 10);
  riap_sb_request(s, "call", 4, "/Math/mult", 10, &t);
  CHECK(riap_sb_read(&rd, 2, &c) && c.state == 'C' && c.connections == 1 && c.bytes_in == 10
        && !strcmp(c.peer, "127.0.0.1:4000") && !strcmp(c.action, "call") && !strcmp(c.uri, "/Math/mult")
        && c.request_us == 1700000000000005LL, "request: calling, action, uri");
  riap_sb_answered(s);
  riap_sb_writing(s, 30);
  CHECK(riap_sb_read(&rd, 2, &c) && c.state == 'W' && c.requests == 1 && c.bytes_out == 30, "writing");
  {
    char longuri[600];
    memset(longuri, 'u', sizeof longuri);
    riap_sb_request(s, "a_very_long_action_name_more_than_32_bytes", 42, longuri, sizeof longuri, &t);
    CHECK(riap_sb_read(&rd, 2, &c) && strlen(c.action) == 31 && strlen(c.uri) == 303, "action and uri truncated");
  }
  riap_sb_clear(s);
  CHECK(riap_sb_read(&rd, 2, &c) && c.state == '.' && c.pid == 0 && c.requests == 0, "cleared");
  riap_sb_setgen(&sb, 3);
  CHECK(rd.h->generation == 3, "generation");
  riap_sb_request(0, "x", 1, "y", 1, &t);        /* no scoreboard: nothing happens */
  {
    struct riap_sb_park pk;
    CHECK(rd.h->minor == RIAP_SB_MINOR, "minor revision");
    CHECK(riap_sb_getpark(&rd, &pk) && pk.parked == 0 && pk.parks == 0 && pk.oldest_us == 0, "park fields start at zero");
    riap_sb_setpark(&sb, 5, 9, 1700000000000001LL);
    CHECK(riap_sb_getpark(&rd, &pk) && pk.parked == 5 && pk.parks == 9 && pk.oldest_us == 1700000000000001LL, "park fields");
  }
  {
    struct riap_sb_totals tt;
    struct riap_sb_slot *r = riap_sb_slot(&sb, 3);
    unsigned k;
    CHECK(riap_sb_gettotals(&rd, &tt) && tt.waiting == 0 && tt.accepted == 0 && tt.refused == 0 && tt.workers == 0
          && tt.requests == 0 && tt.connections == 0 && tt.bytes_in == 0 && tt.bytes_out == 0, "totals start at zero");
    riap_sb_setqueue(&sb, 3, 10000000000ULL, 7);
    CHECK(riap_sb_gettotals(&rd, &tt) && tt.waiting == 3 && tt.accepted == 10000000000ULL && tt.refused == 7,
          "waiting, accepted, refused (64 bits)");
    CHECK(rd.h->waiting == 3 && rd.h->accepted == 10000000000ULL && rd.h->refused == 7 && rd.h->total_seq % 2 == 0,
          "at their offsets, the seqlock even");
    /* a worker with counts goes: they move to the totals, the slot is cleared */
    riap_sb_assign(r, 1);
    riap_sb_setpid(r, 99);
    for (k = 0; k < 3; k++) {
      riap_sb_conn(r, "127.0.0.1:1");
      riap_sb_bytes_in(r, 100);
      riap_sb_answered(r);
      riap_sb_writing(r, 50);
    }
    riap_sb_reap(&sb, 3);
    CHECK(riap_sb_read(&rd, 3, &c) && c.state == '.' && c.pid == 0 && c.requests == 0, "reaped: the slot cleared");
    CHECK(riap_sb_gettotals(&rd, &tt) && tt.workers == 1 && tt.requests == 3 && tt.connections == 3
          && tt.bytes_in == 300 && tt.bytes_out == 150 && tt.waiting == 3 && tt.accepted == 10000000000ULL,
          "reaped: its counts in the gone totals");
    /* a worker killed between the two stores of its seqlock: the reap
     * takes its counts as they are and leaves the slot readable */
    riap_sb_assign(r, 1);
    riap_sb_answered(r);
    riap_sb_answered(r);
    r->seq |= 1;
    CHECK(!riap_sb_read(&rd, 3, &c), "a slot left mid-update is unreadable");
    riap_sb_reap(&sb, 3);
    CHECK(riap_sb_read(&rd, 3, &c) && c.state == '.' && r->seq % 2 == 0, "reaped: readable again");
    CHECK(riap_sb_gettotals(&rd, &tt) && tt.workers == 2 && tt.requests == 5, "its counts added");
    riap_sb_reap(&sb, 4);                         /* out of range: nothing */
    CHECK(riap_sb_gettotals(&rd, &tt) && tt.workers == 2, "a slot out of range is not reaped");
  }

  /* a writer process hammers slot 1; every read must be consistent */
  pid = fork();
  if (pid == 0) {
    struct riap_sb_slot *w = riap_sb_slot(&sb, 1);
    char uri[32];
    unsigned long n;
    for (n = 1;; n++) {
      snprintf(uri, sizeof uri, "/%lu", n);
      riap_sb_conn(w, uri);                     /* connections = n, peer = /n */
      riap_sb_request(w, "call", 4, uri, strlen(uri), &t);
    }
  }
  for (i = 0; i < 200000; i++) {
    char want[40];
    if (!riap_sb_read(&rd, 1, &c)) continue;
    reads++;
    if (c.connections == 0) continue;
    snprintf(want, sizeof want, "/%lu", (unsigned long)c.connections);
    if (strcmp(c.peer, want) || (c.uri[0] && strcmp(c.uri, want))) torn++;
  }
  kill(pid, SIGKILL);
  waitpid(pid, 0, 0);
  CHECK(reads > 1000, "reads succeed while a writer runs");
  CHECK(torn == 0, "no torn slot read");

  /* a listener process hammers the totals (waiting n, accepted 2n, refused
   * 3n) until told to stop; every read must be one of its writes */
  shared = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (shared == MAP_FAILED) { perror("mmap"); return 111; }
  riap_sb_setqueue(&sb, 0, 0, 0);
  pid = fork();
  if (pid == 0) {
    uint32_t n;
    for (n = 1; !__atomic_load_n(&shared[0], __ATOMIC_RELAXED); n++)
      riap_sb_setqueue(&sb, n, 2 * (uint64_t)n, 3 * (uint64_t)n);
    _exit(0);
  }
  for (i = reads = torn = 0; i < 200000; i++) {
    struct riap_sb_totals tt;
    if (!riap_sb_gettotals(&rd, &tt)) continue;
    reads++;
    if (tt.accepted != 2 * (uint64_t)tt.waiting || tt.refused != 3 * (uint64_t)tt.waiting) torn++;
  }
  __atomic_store_n(&shared[0], 1, __ATOMIC_RELAXED);
  waitpid(pid, 0, 0);
  CHECK(reads > 1000, "totals reads succeed while the listener writes");
  CHECK(torn == 0, "no torn totals read");

  /* workers come, answer twice and are reaped, round after round: the
   * grand total (gone + live) read meanwhile never goes back */
  shared[0] = 0;
  pid = fork();
  if (pid == 0) {
    unsigned k;
    unsigned long round;
    for (round = 0; !__atomic_load_n(&shared[0], __ATOMIC_RELAXED); round++) {
      for (k = 0; k < 4; k++) {
        struct riap_sb_slot *w = riap_sb_slot(&sb, k);
        riap_sb_assign(w, 1);
        riap_sb_setpid(w, 1000 + k);
        riap_sb_answered(w);
        riap_sb_answered(w);
      }
      for (k = 0; k < 4; k++) riap_sb_reap(&sb, k);
    }
    shared[1] = round;
    _exit(0);
  }
  {
    struct riap_sb_totals tt;
    uint64_t last = 0, g;
    int back = 0;
    for (i = reads = 0; i < 20000; i++) {
      if (!grand_requests(&rd, &g)) continue;
      reads++;
      if (g < last) back++;
      last = g;
    }
    __atomic_store_n(&shared[0], 1, __ATOMIC_RELAXED);
    waitpid(pid, 0, 0);
    CHECK(reads > 1000, "grand totals read while workers come and go");
    CHECK(back == 0, "the grand total never goes back");
    CHECK(riap_sb_gettotals(&rd, &tt) && tt.workers == 2 + 4 * shared[1] && tt.requests == 5 + 8 * shared[1]
          && grand_requests(&rd, &g) && g == tt.requests, "in the end every request counted once");
  }
  munmap((void *)shared, 4096);

  f = fopen(other, "w");
  fputs("not a scoreboard, just some bytes that are long enough to be checked as one..........................................................................................", f);
  fclose(f);
  errno = 0;
  CHECK(!riap_sb_open(&rd, other, 0) && errno == EPROTO, "another file is refused (EPROTO)");
  CHECK(other_layout(path, other, 1, 128), "a version 1 file");
  errno = 0;
  CHECK(!riap_sb_open(&rd, other, 0) && errno == EPROTO, "version 1 is refused (EPROTO)");
  CHECK(other_layout(path, other, 2, 128), "a version 2 file with a header size of 128");
  errno = 0;
  CHECK(!riap_sb_open(&rd, other, 0) && errno == EPROTO, "a wrong header size is refused (EPROTO)");
  CHECK(other_layout(path, other, 2, 256) && riap_sb_open(&rd, other, 0), "the copy as it was opens");
  riap_sb_close(&rd);
  riap_sb_close(&sb);
  unlink(path); unlink(other); rmdir(dir);
  return UNIT_DONE();
}
