/* lib/riap_exec: input, output, exit codes, signals, timeouts, caps */
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/stat.h>
#include "unit.h"
#include "riap_exec.h"

static char dir[64];

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

static void run(const char *path, const char *input, unsigned long ms, size_t cap, struct riap_exec_result *r)
{
  static char *envp[] = { "PATH=/usr/bin:/bin", 0 };
  struct riap_exec x = { path, envp, 0, input, strlen(input), ms, cap, 0 };
  riap_exec_run(&x, r);
}

int main(void)
{
  struct riap_exec_result r;
  char line[128];
  memset(&r, 0, sizeof r);
  signal(SIGPIPE, SIG_IGN);
  snprintf(dir, sizeof dir, "/tmp/riap-exec-XXXXXX");
  if (!mkdtemp(dir)) return 111;

  run(script("cat", "cat"), "hello", 5000, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_EXITED && r.code == 0 && r.out.len == 5 && !memcmp(r.out.s, "hello", 5),
        "stdin reaches the program, stdout comes back");
  run(script("fail", "echo first >&2; echo 'last line' >&2; exit 3"), "", 5000, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_EXITED && r.code == 3, "exit status is kept");
  riap_exec_lastline(line, sizeof line, &r);
  CHECK_STR(line, "last line", "the last stderr line is kept");
  run(script("segv", "kill -SEGV $$"), "", 5000, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_SIGNALED && r.code == 11, "death by signal is reported");
  run(script("hang", "sleep 30"), "", 200, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_TIMEOUT, "a hanging program times out");
  run(script("big", "head -c 100000 /dev/zero"), "", 5000, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_TOOBIG, "output over the cap is stopped");
  {
    char *big = malloc(1 << 20);
    memset(big, 'x', (1 << 20) - 1);
    big[(1 << 20) - 1] = 0;
    run(script("noread", "echo done"), big, 5000, 1000, &r);
    CHECK(r.outcome == RIAP_EXEC_EXITED && r.out.len == 5, "a program that never reads stdin still works");
    free(big);
  }
  run(script("bg", "sleep 30 & echo $! > " "/dev/null; echo ok"), "", 5000, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_EXITED && r.out.len == 3, "a background child does not hold the call");
  run("/nonexistent/program", "", 5000, 1000, &r);
  CHECK(r.outcome == RIAP_EXEC_SPAWNFAIL, "a missing program is a spawn failure");
  free(r.out.s);
  snprintf(line, sizeof line, "rm -rf %s", dir);
  if (system(line)) return 111;
  return UNIT_DONE();
}
