/* test_opt.c: option values (lib/riap_opt) and the usage error a bad one
 * makes (run in a child: it exits 100). */
#include <errmsg.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "riap_opt.h"
#include "unit.h"

/* runs riap_opt_size(s) in a child; its exit status, its fd 2 in err */
static int bad_size(const char *s, char *err, size_t size)
{
  int p[2], st;
  ssize_t n, got = 0;
  pid_t pid;
  fflush(stdout);   /* else the child, exiting, prints it again */
  if (pipe(p) < 0 || (pid = fork()) < 0) return -1;
  if (!pid) {
    dup2(p[1], 2);
    errmsg_iam("prog");
    riap_opt_size("prog [--max BYTES]", "--max", s, 16, 1 << 30);
    _exit(0);
  }
  close(p[1]);
  while ((n = read(p[0], err + got, size - 1 - (size_t)got)) > 0) got += n;
  err[got] = 0;
  close(p[0]);
  waitpid(pid, &st, 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void)
{
  char err[1024];
  CHECK(riap_opt_size("u", "--x", "4096", 1, 1 << 30) == 4096, "a plain size");
  CHECK(riap_opt_size("u", "--x", "4k", 1, 1 << 30) == 4096, "k: times 1024");
  CHECK(riap_opt_size("u", "--x", "16M", 1, 1 << 30) == 16777216, "M: times 1048576");
  CHECK(riap_opt_size("u", "--x", "1.5k", 1, 1 << 30) == 1536, "a fraction with a suffix");
  CHECK(riap_opt_size("u", "--x", "1024M", 1, 1 << 30) == 1U << 30, "the maximum itself");
  CHECK(riap_opt_number("u", "--x", "0.25", 0, 1) == 0.25, "a number with a fraction");
  CHECK(riap_opt_ms("u", "--x", "1.5", 0, 10) == 1500, "seconds as milliseconds");
  CHECK(riap_opt_ms("u", "--x", "0.0004", 0, 10) == 0, "milliseconds rounded");
  CHECK(bad_size("1G", err, sizeof err) == 100, "a bad suffix exits 100");
  CHECK_STR(err, "prog: fatal: --max needs a size from 16 to 1024M bytes (k: times 1024, M: times 1048576), not '1G'\n"
                 "prog: usage: prog [--max BYTES]\n", "what it says, then the usage");
  CHECK(bad_size("2048M", err, sizeof err) == 100, "over the maximum exits 100");
  CHECK(bad_size("8", err, sizeof err) == 100, "under the minimum exits 100");
  CHECK(bad_size("", err, sizeof err) == 100, "nothing exits 100");
  CHECK(bad_size("4kk", err, sizeof err) == 100, "bytes after the suffix exit 100");
  return UNIT_DONE();
}
