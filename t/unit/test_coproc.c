/* lib/riap_coproc: a line in, a line out; timeouts, caps, deaths, stderr */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "unit.h"
#include "riap_coproc.h"

static char dir[64];
static int errlines;

static const char *script(const char *name, const char *body)
{
  static char path[128];
  FILE *f;
  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "w");
  fprintf(f, "#!/bin/sh\n%s\n", body);
  fclose(f);
  chmod(path, 0755);
  return path;
}

static void count_err(void *arg, const char *s, size_t n) { (void)arg; (void)s; (void)n; errlines++; }

int main(void)
{
  static char *envp[] = { "PATH=/usr/bin:/bin", 0 };
  struct riap_coproc c;
  stralloc out = { 0, 0, 0 };
  pid_t first;
  char cmd[128];

  signal(SIGPIPE, SIG_IGN);
  memset(&c, 0, sizeof c);
  snprintf(dir, sizeof dir, "/tmp/riap-coproc-XXXXXX");
  if (!mkdtemp(dir)) return 111;

  CHECK(riap_coproc_start(&c, script("echo", "while IFS= read -r l; do echo \"got $l\"; echo note >&2; done"), envp, 0, 0),
        "a coprocess starts");
  first = c.pid;
  CHECK(riap_coproc_call(&c, "one", 3, 2000, 100, &out, count_err, 0) == RIAP_COPROC_OK &&
        out.len == 7 && !memcmp(out.s, "got one", 7), "one line in, one line out");
  CHECK(riap_coproc_call(&c, "two", 3, 2000, 100, &out, count_err, 0) == RIAP_COPROC_OK &&
        out.len == 7 && c.pid == first, "the same process answers the next call");
  CHECK(riap_coproc_start(&c, "/nonexistent", envp, 0, 0) && c.pid == first, "start leaves a running one alone");
  CHECK(errlines >= 1, "stderr lines reach the callback");
  CHECK(riap_coproc_call(&c, "0123456789012345678901234567890123456789", 40, 2000, 10, &out, 0, 0) == RIAP_COPROC_TOOBIG &&
        c.pid == 0, "a line over the cap stops it");
  riap_coproc_free(&c);

  riap_coproc_start(&c, script("hang", "read l; sleep 30"), envp, 0, 0);
  CHECK(riap_coproc_call(&c, "x", 1, 200, 100, &out, 0, 0) == RIAP_COPROC_TIMEOUT && c.pid == 0,
        "no answer in time stops it");
  riap_coproc_free(&c);

  riap_coproc_start(&c, script("die", "read l; echo 'dying now' >&2; exit 4"), envp, 0, 0);
  CHECK(riap_coproc_call(&c, "x", 1, 2000, 100, &out, 0, 0) == RIAP_COPROC_DIED && c.pid == 0,
        "a death during the call is reported");
  CHECK(WIFEXITED(c.code) && WEXITSTATUS(c.code) == 4, "with its exit status");
  CHECK_STR(c.lastline, "dying now", "and its last stderr line");
  riap_coproc_free(&c);

  riap_coproc_start(&c, script("quit", "exit 5"), envp, 0, 0);
  usleep(200000);                         /* it ends before any line is sent */
  CHECK(riap_coproc_call(&c, "x", 1, 2000, 100, &out, 0, 0) == RIAP_COPROC_GONE && c.pid == 0,
        "one that ended while idle is GONE: the line never reached it");
  CHECK(WIFEXITED(c.code) && WEXITSTATUS(c.code) == 5, "with its exit status");
  riap_coproc_free(&c);

  CHECK(!riap_coproc_start(&c, "/nonexistent/prog", envp, 0, 0) && c.code != 0, "a missing program does not start");
  riap_coproc_free(&c);
  free(out.s);
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd)) return 111;
  return UNIT_DONE();
}
