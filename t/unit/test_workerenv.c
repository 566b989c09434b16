/* test_workerenv.c: the worker settings table (riap_workerenv): what
 * riap-listen writes reads back the same in riap-handle, absent names take
 * their defaults, a malformed value names itself, unset leaves none. */
#include "unit.h"
#include "riap_workerenv.h"
#include <stdlib.h>

static const char *names[] = {
  "RIAP_CONTROL_FD", "RIAP_SLOT", "RIAP_GENERATION", "RIAP_MAX_REQUESTS", "RIAP_TIMEOUT",
  "RIAP_IDLE_TIMEOUT", "RIAP_READ_TIMEOUT", "RIAP_WRITE_TIMEOUT", "RIAP_PARK_DELAY",
  "RIAP_SCOREBOARD", "RIAP_NAME", "RIAP_CHROOT", "RIAP_ALLOW_ROOT", 0
};

static void bad(const char *name, const char *value)
{
  struct riap_workerenv e;
  const char *which = 0;
  char what[128];
  setenv(name, value, 1);
  snprintf(what, sizeof what, "%s=%s is refused, by name", name, value);
  CHECK(!riap_workerenv_read(&e, &which) && which && !strcmp(which, name), what);
  unsetenv(name);
}

int main(void)
{
  struct riap_workerenv w, r;
  const char *which = 0;
  int i, left = 0;

  riap_workerenv_unset();
  CHECK(riap_workerenv_read(&r, &which), "an empty environment reads");
  CHECK(r.timeout_ms == 120000 && r.read_timeout_ms == 10000 && r.write_timeout_ms == 10000,
        "absent timeouts: 120 s, 10 s, 10 s");
  CHECK(r.idle_timeout_ms == -1 && r.park_delay_ms == -1, "absent idle timeout and park delay: -1");
  CHECK(!r.scoreboard && !r.name && !r.chroot && !r.allow_root && !r.max_requests, "absent: none, no limit");

  riap_workerenv_defaults(&w);
  w.control_fd = 3; w.slot = 7; w.generation = 2; w.max_requests = 1000;
  w.timeout_ms = 1500; w.idle_timeout_ms = 0; w.read_timeout_ms = 5; w.write_timeout_ms = 86400000;
  w.park_delay_ms = 5; w.scoreboard = "/run/x.scoreboard"; w.name = "api"; w.chroot = 1; w.allow_root = 0;
  CHECK(riap_workerenv_write(&w), "writes");
  CHECK_STR(getenv("RIAP_TIMEOUT"), "1.500", "durations in seconds, %.3f");
  CHECK_STR(getenv("RIAP_IDLE_TIMEOUT"), "0.000", "idle timeout 0: never, written");
  CHECK_STR(getenv("RIAP_CHROOT"), "1", "a flag set is 1");
  CHECK(!getenv("RIAP_ALLOW_ROOT"), "a flag not set is absent");
  CHECK(riap_workerenv_read(&r, &which), "reads back");
  CHECK(r.control_fd == 3 && r.slot == 7 && r.generation == 2 && r.max_requests == 1000, "counts read back");
  CHECK(r.timeout_ms == 1500 && r.idle_timeout_ms == 0 && r.read_timeout_ms == 5
        && r.write_timeout_ms == 86400000 && r.park_delay_ms == 5, "durations read back");
  CHECK_STR(r.scoreboard, "/run/x.scoreboard", "scoreboard read back");
  CHECK_STR(r.name, "api", "name read back");
  CHECK(r.chroot == 1 && r.allow_root == 0, "flags read back");

  w.park_delay_ms = -1; w.name = 0; w.chroot = 0;
  CHECK(riap_workerenv_write(&w), "writes again");
  CHECK(!getenv("RIAP_PARK_DELAY") && !getenv("RIAP_NAME") && !getenv("RIAP_CHROOT"),
        "absent values are unset, not left over");

  bad("RIAP_TIMEOUT", "0");
  bad("RIAP_TIMEOUT", "86401");
  bad("RIAP_READ_TIMEOUT", "1s");
  bad("RIAP_PARK_DELAY", "-1");
  bad("RIAP_SLOT", "-1");
  bad("RIAP_SLOT", "2000000");
  bad("RIAP_GENERATION", " 1");
  bad("RIAP_CHROOT", "yes");
  bad("RIAP_ALLOW_ROOT", "0");
  setenv("RIAP_IDLE_TIMEOUT", "0.0001", 1);
  CHECK(riap_workerenv_read(&r, &which) && r.idle_timeout_ms == 1, "an idle timeout under 1 ms is 1 ms, not never");

  riap_workerenv_unset();
  for (i = 0; names[i]; i++) if (getenv(names[i])) left++;
  CHECK(!left, "unset removes every name, RIAP_IDLE_TIMEOUT and RIAP_ALLOW_ROOT included");
  return UNIT_DONE();
}
