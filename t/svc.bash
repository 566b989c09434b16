# t/svc.bash: service directories under a real scanner, shared by
# riap-ctl.bats and riap-fdhold.bats. Load after listen. A test sets SCAN
# (the scan directory), SVC (services/riap's copy in it) and, with a
# holder, HOLD, then calls start_scanner; teardown calls reap_services.

# start_scanner [s6|runit]: s6-svscan (or runsvdir) on $SCAN in the
# background, remembered for stop_scanner
start_scanner() {
  local kind=${1:-s6}
  if [ "$kind" = runit ]; then
    runsvdir -P "$SCAN" </dev/null >/dev/null 2>&1 3>&- &
  else
    s6-svscan "$SCAN" </dev/null >/dev/null 2>&1 3>&- &
  fi
  echo "$kind $!" >"$BATS_TEST_TMPDIR/scanner"
}

# what_is_left DIR: the processes whose working directory is under DIR
# (zombies have none)
what_is_left() {
  local p c
  for p in /proc/[0-9]*; do
    c=$(readlink "$p/cwd" 2>/dev/null) || continue
    case $c in "$1"|"$1"/*) echo "${p#/proc/} $(tr '\0' ' ' <"$p/cmdline" 2>/dev/null)" ;; esac
  done
}

# stop_scanner: the scanner start_scanner started, stopped by its pid and
# waited for: s6-svscanctl -t; for runit, runsvdir first (it would start a
# new runsv for each that exits), then each runsv exits after its service
# and its logger (sv exit of $SVC, $SVC/log and $HOLD when set)
stop_scanner() {
  local kind pid i runsvs p alive
  [ -f "$BATS_TEST_TMPDIR/scanner" ] || return 0
  read -r kind pid <"$BATS_TEST_TMPDIR/scanner"
  rm -f "$BATS_TEST_TMPDIR/scanner"
  if [ "$kind" = runit ]; then
    runsvs=$(pgrep -P "$pid")
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    sv exit "$SVC" "$SVC/log" ${HOLD:+"$HOLD"} >/dev/null 2>&1
    for i in $(seq 100); do
      alive=
      for p in $runsvs; do [ -r "/proc/$p/cwd" ] && readlink "/proc/$p/cwd" >/dev/null 2>&1 && alive=1; done
      [ -z "$alive" ] && break
      sleep 0.05
    done
  else
    s6-svscanctl -t "$SCAN" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  fi
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# reap_services [DIR]: the scanner, then the pids the test listed; fails
# naming any process left with its working directory under the test's
# directory or DIR (and kills it)
reap_services() {
  local left pid i
  stop_scanner
  [ -f "$BATS_TEST_TMPDIR/pids" ] && for pid in $(cat "$BATS_TEST_TMPDIR/pids"); do kill -KILL "$pid" 2>/dev/null; done
  for i in $(seq 50); do left=$(what_is_left "$BATS_TEST_TMPDIR"); [ -z "$left" ] && break; sleep 0.1; done
  [ -n "${1:-}" ] && left="$left$(what_is_left "$1")"
  if [ -n "$left" ]; then
    for pid in $(printf '%s\n' "$left" | cut -d' ' -f1); do kill -KILL "$pid" 2>/dev/null; done
    fail "processes left behind: $left"
  fi
  return 0
}
