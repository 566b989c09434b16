/* test_scoreboard.c: create, open, the slot writers, consistent reads
 * while another process writes (the seqlock). */
#include "unit.h"
#include "riap_scoreboard.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
  char dir[] = "/tmp/test_sbXXXXXX", path[100], other[100];
  struct riap_sb sb, rd;
  struct riap_sb_slot *s, c;
  struct timespec t = { 1700000000, 5000 };
  FILE *f;
  pid_t pid;
  int i, torn = 0, reads = 0;

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
    sb.h->minor = 0;                              /* as an older listener writes it */
    CHECK(!riap_sb_getpark(&rd, &pk), "minor 0: no park fields");
    sb.h->minor = RIAP_SB_MINOR;
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

  f = fopen(other, "w");
  fputs("not a scoreboard, just some bytes that are long enough to be checked as one..........................................................................................", f);
  fclose(f);
  errno = 0;
  CHECK(!riap_sb_open(&rd, other, 0) && errno == EPROTO, "another file is refused (EPROTO)");
  riap_sb_close(&sb);
  unlink(path); unlink(other); rmdir(dir);
  return UNIT_DONE();
}
