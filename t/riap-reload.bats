#!/usr/bin/env bats
# riap-listen under stress of its own making: a storm of reloads under load
# loses no request (doc/riap-listen.8, SIGNALS, HUP), and at the fd limit a
# connection fd that cannot be received costs that connection only, never a
# worker (riap-channel(5), checks on receipt). Every process a test starts
# is killed by its pid in teardown; ports are picked at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

STORM=$RIAP_BUILD/t/prog/riap-storm
SBDUMP=$RIAP_BUILD/t/prog/riap-sbdump

setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
}

teardown() {
  reap_test_pids
  return 0
}

# listen OPTS...: starts riap-listen on a free port with a scoreboard,
# access records to $t/out, diagnostics to $t/err; waits until it is
# ready; sets LPID and ADDR. OPTS may begin with a command (prlimit ...)
# before the listener's path, given as LISTEN.
listen() {
  local t=$BATS_TEST_TMPDIR
  ADDR=127.0.0.1:$(free_port)
  "$@" -p "$ADDR" --notification-fd 3 --scoreboard-path "$t/sb" -- "$HANDLE" "$ROOT" \
    3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
}

# stop: TERM the listener and wait for it, so that every record is written
stop() {
  kill -TERM "$LPID"
  local rc=0; wait "$LPID" || rc=$?
  assert_equal "$rc" 0
}

records() { grep -c '^%riap-access ' "$BATS_TEST_TMPDIR/out" || true; }

# storm LISTENER-OPTS...: riap-listen with these options, under 8 s of
# load from 8 connections (odd ones pipeline 4 requests, even ones send
# one at a time; half of them reconnect after every 20 answers) and 20 HUPs
# a second; every request must be answered, no connection reset or closed
# under a request, and each answer must have its access record
storm() {
  listen "$LISTEN" "$@"
  run "$STORM" -c 8 -d 4 -r 20 -t 8 -w 30 -H "$LPID" -f 20 "$ADDR"
  echo "$output"
  local counts; counts=$(tail -n1 <<<"$output")
  jq -e '.hups >= 100 and .sent > 1000' <<<"$counts"
  jq -e '.lost == 0 and .resets == 0 and .eofs == 0 and .bad == 0' <<<"$counts" \
    || fail "requests lost: $counts; listener: $(cat "$BATS_TEST_TMPDIR/err")"
  jq -e '.answered == .sent' <<<"$counts"
  assert_equal "$status" 0
  stop
  assert_equal "$(records)" "$(jq .answered <<<"$counts")"
}

@test "a storm of HUPs under load (20 a second for 8 s): every request answered, no connection reset, one record each" {
  storm
}

@test "a storm of HUPs while workers recycle every 100 requests: every request answered, no connection reset" {
  storm --max-requests-per-child 100
}
