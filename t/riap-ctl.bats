#!/usr/bin/env bats
# riap-ctl and services/riap (doc/riap-ctl.8): the service directory run by
# a real s6-svscan (and runsvdir, when runit is installed) in a temporary
# scan directory, controlled with riap-ctl and checked from the outside:
# the sockets answer or not, pids change or not, readiness, the scoreboard.
# Every scanner a test starts is stopped by its pid in teardown
# (s6-svscanctl -t, or sv exit + TERM for runit), then waited for, and the
# test fails if any process is left with its working directory in the test's
# directories. Ports are chosen at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load svc

RIAP_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
RIAP_BUILD=${RIAP_BUILD:-$RIAP_REPO/build}
CTL=$RIAP_BUILD/bin/riap-ctl
CLIENT=$RIAP_BUILD/bin/riap

setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
}

# new_service [s6|runit]: a scan directory with a copy of services/riap
# (down: it waits for riap-ctl start), two workers, configured through env/;
# starts the scanner. Sets SCAN, SVC, PORT, SOCK, SB.
new_service() {
  local kind=${1:-s6} base=${SBDIR:-$BATS_TEST_TMPDIR}
  SCAN=$base/scan
  SVC=$SCAN/riap
  PORT=$(free_port)
  SOCK=$base/riap.sock
  SB=$SVC/scoreboard
  mkdir -p "$SCAN"
  cp -R "$RIAP_REPO/services/riap" "$SVC"
  touch "$SVC/down"
  echo "$ROOT" >"$SVC/env/ROOT"
  echo "127.0.0.1:$PORT" >"$SVC/env/PORTS"
  echo "$SOCK" >"$SVC/env/UNIX_SOCKETS"
  echo 2 >"$SVC/env/START_SERVERS"
  echo 5 >"$SVC/env/GRACE"
  echo "$RIAP_BUILD/bin:$PATH" >"$SVC/env/PATH"
  echo "$RIAP_BUILD/bin:$PATH" >"$SVC/log/env/PATH"
  start_scanner "$kind"
}

teardown() {
  reap_services "${SBDIR:-}"
  [ -n "${SBDIR:-}" ] && rm -rf "$SBDIR"
  return 0
}

mult_tcp() { "$CLIENT" --retries 0 --timeout 5 call "riap+tcp://127.0.0.1:$PORT/Math/mult" a=2 b=3; }
mult_unix() { "$CLIENT" --retries 0 --timeout 5 call "riap+unix:$SOCK//Math/mult" a=2 b=3; }
refused() { ! "$CLIENT" --retries 0 --connect-timeout 2 info "riap+tcp://127.0.0.1:$PORT/" >/dev/null 2>&1; }

# load PORT SECS: a new connection per request for SECS; prints ok=N fail=M
load() {
  perl -MSocket -MTime::HiRes=time -e '
    my ($port, $secs) = @ARGV; my ($ok, $fail, $end) = (0, 0, time + $secs);
    while (time < $end) {
      socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
      if (!connect($s, sockaddr_in($port, inet_aton("127.0.0.1")))) { $fail++; next }
      syswrite($s, qq(j{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}\r\n));
      my $l = ""; while ($l !~ /\n/) { my $n = sysread($s, my $b, 4096); last unless $n; $l .= $b }
      if ($l =~ /^j\[200,"OK",6,/) { $ok++ } else { $fail++; print STDERR "bad answer: $l\n" }
      close $s }
    print "ok=$ok fail=$fail\n"' "$1" "$2"
}
js() { "$CTL" -d "$SVC" -i 0 status --json; }

# kill_listener: SIGKILL to the running listener, then wait until the
# supervisor has a new one, ready; sets old and new (their pids)
kill_listener() {
  local i
  old=$(js | jq .pid)
  kill -KILL "$old"
  for i in $(seq 60); do
    new=$(js | jq '.pid // 0')
    [ "$new" != 0 ] && [ "$new" != "$old" ] && [ "$(js | jq .ready)" = true ] && break
    sleep 0.05
  done
  [ "$new" != "$old" ] && [ "$new" != 0 ] || fail "no new pid (old $old, now $new)"
}

wait_supervised() { # the scanner has started the supervisor
  local i
  for i in $(seq 100); do [ -e "$SVC/supervise/ok" ] || [ -e "$SVC/event" ] && return 0; sleep 0.05; done
  fail "no supervisor for $SVC"
}

# ---------------------------------------------------------------- s6

@test "start brings the service up: ready, both sockets answer, status exits 0" {
  new_service
  wait_supervised
  run "$CTL" -d "$SVC" status
  assert_failure 1
  assert_output --partial "down"
  refused
  run "$CTL" -d "$SVC" start
  assert_success
  # ready means answering at once, without a retry
  run mult_tcp
  assert_output 6
  run mult_unix
  assert_output 6
  run js
  assert_success
  jq -e '.up and .ready and .supervisor == "s6" and (.pid | type) == "number"
         and .scoreboard.listener_pid == .pid and .totals.workers == 2 and .totals.idle >= 1' <<<"$output"
  run "$CTL" -d "$SVC" -i 0 status
  assert_success
  assert_output --partial "up (pid"
  assert_output --partial "ready"
}

@test "env/TIMEOUT and env/IDLE_TIMEOUT reach riap-listen: IDLE_TIMEOUT 0 keeps an idle connection past TIMEOUT" {
  new_service
  echo 1 >"$SVC/env/TIMEOUT"
  echo 0 >"$SVC/env/IDLE_TIMEOUT"
  "$CTL" -d "$SVC" start
  # one connection: a request, 2.5 s idle (TIMEOUT alone would close it), a request
  run perl -MIO::Socket::INET -e '
    my $s = IO::Socket::INET->new(PeerHost => "127.0.0.1", PeerPort => $ARGV[0]) or die "connect: $!";
    my $rq = "j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":2,\"b\":3}}\r\n";
    print $s $rq; print scalar <$s>; sleep 2.5; print $s $rq; print scalar(<$s>) // "EOF\n"' "$PORT"
  assert_success
  assert_line --index 0 --partial '[200,"OK",6'
  assert_line --index 1 --partial '[200,"OK",6'
}

@test "stop takes it down: the sockets refuse, the socket file is gone, status exits 1" {
  new_service
  rm "$SVC/down"
  "$CTL" -d "$SVC" start
  mult_tcp
  run "$CTL" -d "$SVC" stop
  assert_success
  refused
  [ ! -e "$SOCK" ] || fail "$SOCK left"
  run "$CTL" -d "$SVC" status --json
  assert_failure 1
  jq -e '.up == false and .pid == null and .wanted_up == false' <<<"$output"
  # stopping what is stopped is fine
  run "$CTL" -d "$SVC" stop
  assert_success
}

@test "restart: a new listener pid, ready again, answers" {
  new_service
  "$CTL" -d "$SVC" start
  old=$(js | jq .pid)
  run "$CTL" -d "$SVC" restart
  assert_success
  new=$(js | jq .pid)
  [ "$new" != "$old" ] || fail "pid unchanged: $old"
  run js
  jq -e '.ready and .scoreboard.listener_pid == .pid' <<<"$output"
  run mult_tcp
  assert_output 6
}

@test "reload under load: same listener, a new generation of workers, no request lost" {
  new_service
  "$CTL" -d "$SVC" start
  old=$(js | jq .pid)
  before=$(js | jq '[.workers[].pid] | sort')
  # four clients, a new connection per request, during two reloads
  loads=
  for i in 1 2 3 4; do
    load "$PORT" 3 >"$BATS_TEST_TMPDIR/load$i" 2>&1 3>&- &
    loads="$loads $!"
  done
  sleep 0.5
  run "$CTL" -d "$SVC" reload
  assert_success
  sleep 0.5
  run "$CTL" -d "$SVC" reload
  assert_success
  for p in $loads; do wait "$p"; done
  cat "$BATS_TEST_TMPDIR"/load*
  for f in "$BATS_TEST_TMPDIR"/load*; do
    grep -q '^ok=[1-9][0-9]* fail=0$' "$f" || fail "requests lost: $(cat "$BATS_TEST_TMPDIR"/load*)"
  done
  run js
  jq -e --argjson old "$old" --argjson before "$before" '.pid == $old and .scoreboard.generation == 3
     and ([.workers[] | select(.generation == 3)] | length) >= 1
     and ([.workers[].pid] | sort) != $before' <<<"$output"
}

@test "status --json while requests are in flight: busy workers with their action, uri, peer and age" {
  new_service
  echo 4 >"$SVC/env/START_SERVERS"
  "$CTL" -d "$SVC" start
  for i in 1 2; do
    "$CLIENT" --timeout 10 call "riap+tcp://127.0.0.1:$PORT/Util/sleep" secs=2 >/dev/null 2>&1 &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
  done
  for i in $(seq 40); do
    [ "$(js | jq '.totals.busy')" -ge 2 ] && break
    sleep 0.05
  done
  run "$CTL" -d "$SVC" -i 0.3 status --json
  assert_success
  jq -e '.totals.busy >= 2 and .totals.workers == 4 and .totals.idle == .totals.workers - .totals.busy
         and ([.workers[] | select(.busy and .state == "calling" and .action == "call"
                and .uri == "/Util/sleep" and (.peer | startswith("127.0.0.1:")) and .age >= 0)] | length) == 2
         and (.totals.rate | type) == "number" and .totals.interval > 0.2 and .totals.queue == 0' <<<"$output" \
    || fail "$output"
  run "$CTL" -d "$SVC" -i 0 status
  assert_output --regexp 'calling +1 +0 +127\.0\.0\.1:[0-9]+ +call +/Util/sleep'
  assert_output --partial "2 busy"
  for p in $(cat "$BATS_TEST_TMPDIR/pids"); do wait "$p"; done
  run js
  jq -e '.totals.busy == 0 and .totals.requests >= 2' <<<"$output"
}

@test "SIGKILL of riap-listen: s6 restarts it, status shows the new pid, it answers" {
  new_service
  "$CTL" -d "$SVC" start
  kill_listener
  run js
  jq -e --argjson new "$new" '.pid == $new and .scoreboard.listener_pid == $new' <<<"$output"
  run mult_unix
  assert_output 6
  # finish says how it ended, in the error log
  grep -q 'killed by signal 9' "$SVC/log/error/current"
}

@test "status works for a non-root user on a world-readable scoreboard" {
  [ "$(id -u)" = 0 ] || skip "needs root to switch to another user"
  # everything in a directory that others may enter (bats' own is 0700)
  SBDIR=$(mktemp -d /tmp/riap-ctl.XXXXXX)
  chmod 755 "$SBDIR"
  new_service
  "$CTL" -d "$SVC" start
  pid=$(js | jq .pid)
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -d "$SVC" -i 0.1 status --json
  assert_success
  jq -e --argjson pid "$pid" '.up and .pid == $pid and .supervisor_known == false
     and .scoreboard.listener_pid == $pid and .totals.workers == 2' <<<"$output" || fail "$output"
  run setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" -d "$SVC" -i 0 status
  assert_success
  assert_output --partial "idle"
}

@test "usage errors exit 100, failures 111 naming the step" {
  run "$CTL" -d /nonexistent
  assert_failure 100
  assert_output --partial "usage:"
  run "$CTL" -d /nonexistent frobnicate
  assert_failure 100
  assert_output --partial "unknown command 'frobnicate'"
  run "$CTL" -d /nonexistent -t abc start
  assert_failure 100
  assert_line --index 0 "riap-ctl: fatal: --timeout needs a number from 0 to 86400, not 'abc'"
  assert_line --index 1 --partial "riap-ctl: usage: riap-ctl [-d SERVICEDIR"
  run "$CTL" -d /nonexistent -i 61 status
  assert_failure 100
  assert_line --index 0 "riap-ctl: fatal: --interval needs a number from 0 to 60, not '61'"
  run "$CTL" -d "$BATS_TEST_TMPDIR" -p x.pid status
  assert_failure 100
  run "$CTL" -d "$BATS_TEST_TMPDIR" stop --json
  assert_failure 100
  run "$CTL" -d /nonexistent start
  assert_failure 111
  assert_output --partial "riap-ctl: fatal: start:"
  mkdir "$BATS_TEST_TMPDIR/unsupervised"
  run "$CTL" -d "$BATS_TEST_TMPDIR/unsupervised" -t 0.2 start
  assert_failure 111
  assert_output --partial "start: no supervisor runs"
  run "$CTL" -d "$BATS_TEST_TMPDIR/unsupervised" status
  assert_failure 1
  run "$CTL" -p "$BATS_TEST_TMPDIR/none.pid" start
  assert_failure 100
  assert_output --partial "give the command"
}

@test "start fails with 111 and the reason when riap-listen cannot start" {
  new_service
  echo "$BATS_TEST_TMPDIR/no-such-root" >"$SVC/env/ROOT"
  echo 1 >"$SVC/env/START_SERVERS"
  run "$CTL" -d "$SVC" -t 1 start
  assert_failure 111
  assert_output --partial "riap-ctl: fatal: start:"
  "$CTL" -d "$SVC" stop
}

# ---------------------------------------------------------------- pid file

@test "pid file: start daemonizes once, a second start runs no second copy, reload, stop" {
  PORT=$(free_port)
  pf=$BATS_TEST_TMPDIR/riap.pid
  run "$CTL" -p "$pf" start -- "$RIAP_BUILD/bin/riap-listen" -p "127.0.0.1:$PORT" --start-servers 2 \
    --access-log-path "$BATS_TEST_TMPDIR/access.log" --error-log-path "$BATS_TEST_TMPDIR/error.log" \
    -- "$RIAP_BUILD/bin/riap-handle" "$ROOT"
  assert_success
  pid=$(cat "$pf")
  echo "$pid" >>"$BATS_TEST_TMPDIR/pids"
  run mult_tcp
  assert_output 6
  run "$CTL" -p "$pf" start -- "$RIAP_BUILD/bin/riap-listen" -p "127.0.0.1:$PORT" -- riap-handle "$ROOT"
  assert_success
  assert_output --partial "already running as pid $pid"
  [ "$(cat "$pf")" = "$pid" ]
  run "$CTL" -p "$pf" -i 0 status --json
  assert_success
  jq -e --argjson pid "$pid" '.up and .pid == $pid and .ready and .supervisor == "pid file"
     and .scoreboard.path == "'"$BATS_TEST_TMPDIR"'/riap.scoreboard" and .totals.workers == 2' <<<"$output"
  run "$CTL" -p "$pf" reload
  assert_success
  run "$CTL" -p "$pf" -i 0 status --json
  jq -e --argjson pid "$pid" '.pid == $pid and .scoreboard.generation == 2' <<<"$output"
  run "$CTL" -p "$pf" stop
  assert_success
  ! kill -0 "$pid" 2>/dev/null
  [ ! -e "$pf" ]
  refused
  run "$CTL" -p "$pf" status
  assert_failure 1
}

@test "status shows parked connections: how many, the oldest idle age, hand-backs" {
  PORT=$(free_port)
  pf=$BATS_TEST_TMPDIR/riap.pid
  run "$CTL" -p "$pf" start -- "$RIAP_BUILD/bin/riap-listen" -p "127.0.0.1:$PORT" --start-servers 1 \
    -- "$RIAP_BUILD/bin/riap-handle" "$ROOT"
  assert_success
  echo "$(cat "$pf")" >>"$BATS_TEST_TMPDIR/pids"
  # three keep-alive clients: one request each, then idle (parked by the listener)
  for i in 1 2 3; do
    { printf 'j{"action":"info","uri":"/"}\r\n'; sleep 5; } | nc 127.0.0.1 "$PORT" >/dev/null &
    echo $! >>"$BATS_TEST_TMPDIR/pids"
  done
  for i in $(seq 50); do
    run "$CTL" -p "$pf" -i 0 status --json
    jq -e '.totals.parked == 3' <<<"$output" >/dev/null && break
    sleep 0.1
  done
  jq -e '.totals.parked == 3 and .totals.parks >= 3 and .totals.parked_oldest_idle >= 0' <<<"$output"
  run "$CTL" -p "$pf" -i 0 status
  assert_output --partial "parked connections 3, oldest idle"
  run "$CTL" -p "$pf" stop
  assert_success
}

# ctl_listen OPTS...: riap-listen started by riap-ctl from a pid file, one
# worker to start with, with OPTS; sets PORT, pf
ctl_listen() {
  PORT=$(free_port)
  pf=$BATS_TEST_TMPDIR/riap.pid
  run "$CTL" -p "$pf" start -- "$RIAP_BUILD/bin/riap-listen" -p "127.0.0.1:$PORT" --start-servers 1 "$@" \
    -- "$RIAP_BUILD/bin/riap-handle" "$ROOT"
  assert_success
  echo "$(cat "$pf")" >>"$BATS_TEST_TMPDIR/pids"
}
pjs() { "$CTL" -p "$pf" -i 0 status --json; }

@test "status totals survive recycled workers: requests since start, requests_live, connections, accepted" {
  ctl_listen --max-requests-per-child 2
  for i in 1 2 3 4 5 6; do
    run mult_tcp
    assert_output 6
  done
  # at 2 requests each, at least two workers have ended (and been reaped)
  for i in $(seq 50); do
    [ "$(pjs | jq '.totals.workers_gone')" -ge 2 ] && break
    sleep 0.1
  done
  run pjs
  assert_success
  jq -e '.totals.requests >= 6 and .totals.requests_live < .totals.requests and .totals.requests_live <= 2
         and .totals.workers_gone >= 2 and .totals.connections >= 6 and .totals.accepted >= 6
         and .totals.refused == 0 and .totals.waiting == 0 and .totals.bytes_in > 0 and .totals.bytes_out > 0
         and .totals.queue == 0' <<<"$output" || fail "$output"
  # the rate counts the requests of workers that end during the interval:
  # 6 more requests (three workers' worth) well within a 3 s interval
  "$CTL" -p "$pf" -i 3 status --json >"$BATS_TEST_TMPDIR/during" &
  local st=$!
  echo "$st" >>"$BATS_TEST_TMPDIR/pids"
  sleep 0.3
  for i in 1 2 3 4 5 6; do run mult_tcp; assert_output 6; done
  wait "$st"
  jq -e '(.totals.rate * .totals.interval - 6 | fabs) < 0.1 and .totals.requests >= 12' "$BATS_TEST_TMPDIR/during" \
    || fail "$(cat "$BATS_TEST_TMPDIR/during")"
  run "$CTL" -p "$pf" -i 0 status
  assert_success
  assert_output --regexp 'requests [0-9]+ \([0-9]+ by the live workers\)'
  assert_output --regexp 'connections [0-9]+ accepted, 0 refused; waiting for a worker 0'
  run "$CTL" -p "$pf" stop
  assert_success
}

@test "status counts refused connections: --max-conns 1 with one held, the next gets 503" {
  ctl_listen --max-conns 1
  { printf 'j{"action":"info","uri":"/"}\r\n'; sleep 30; } | nc 127.0.0.1 "$PORT" >"$BATS_TEST_TMPDIR/held" &
  local held=$!
  echo "$held" >>"$BATS_TEST_TMPDIR/pids"
  for i in $(seq 50); do grep -q . "$BATS_TEST_TMPDIR/held" && break; sleep 0.1; done
  run sh -c 'printf '"'"'j{"action":"info","uri":"/"}\r\n'"'"' | nc -q1 127.0.0.1 "$1"' sh "$PORT"
  assert_output --partial '503,"Too many connections"'
  run pjs
  jq -e '.totals.refused == 1 and .totals.accepted == 1' <<<"$output" || fail "$output"
  kill "$held"; wait "$held" 2>/dev/null || true
  for i in $(seq 50); do mult_tcp >/dev/null 2>&1 && break; sleep 0.1; done
  run pjs
  jq -e '.totals.refused == 1 and .totals.accepted >= 2' <<<"$output" || fail "$output"
  run "$CTL" -p "$pf" -i 0 status
  assert_output --partial ", 1 refused;"
  run "$CTL" -p "$pf" stop
  assert_success
}

@test "status shows the listener's own queue: waiting > 0 while the only worker is busy, 0 after" {
  ctl_listen --max-clients 1
  "$CLIENT" --timeout 10 call "riap+tcp://127.0.0.1:$PORT/Util/sleep" secs=2 >"$BATS_TEST_TMPDIR/slept" 2>&1 &
  local c1=$!
  echo "$c1" >>"$BATS_TEST_TMPDIR/pids"
  for i in $(seq 50); do [ "$(pjs | jq '.totals.busy')" = 1 ] && break; sleep 0.05; done
  "$CLIENT" --timeout 10 call "riap+tcp://127.0.0.1:$PORT/Math/mult" a=2 b=3 >"$BATS_TEST_TMPDIR/mult" 2>&1 &
  local c2=$!
  echo "$c2" >>"$BATS_TEST_TMPDIR/pids"
  for i in $(seq 40); do [ "$(pjs | jq '.totals.waiting')" = 1 ] && break; sleep 0.05; done
  run pjs
  jq -e '.totals.waiting == 1 and .totals.busy == 1 and .totals.workers == 1 and .totals.parked == 0' <<<"$output" \
    || fail "$output"
  run "$CTL" -p "$pf" -i 0 status
  assert_output --partial "waiting for a worker 1"
  wait "$c1" "$c2"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/mult")" 6
  run pjs
  jq -e '.totals.waiting == 0 and .totals.accepted == 2 and .totals.requests == 2' <<<"$output" || fail "$output"
  run "$CTL" -p "$pf" stop
  assert_success
}

@test "env/CHROOT=1 with env/USER_NAME: the service's workers are in ROOT as the user" {
  [ "$(id -u)" = 0 ] || skip "chroot needs root"
  new_service
  echo 1 >"$SVC/env/CHROOT"
  echo nobody >"$SVC/env/USER_NAME"
  chmod -R a+rX "$ROOT"
  wait_supervised
  run "$CTL" -d "$SVC" start
  assert_success
  # metadata is read inside; a #!/bin/sh function finds no /bin/sh there
  run "$CLIENT" --retries 0 --timeout 5 meta "riap+tcp://127.0.0.1:$PORT/Math/mult"
  assert_success
  assert_output --partial "Multiply two integers"
  run "$CLIENT" --retries 0 --timeout 5 call "riap+unix:$SOCK//Math/mult" a=2 b=3
  assert_failure
  assert_output --partial "interpreter or dynamic loader is missing"
  local w n=0
  for w in $(js | jq '.workers[].pid'); do
    [ "$(readlink "/proc/$w/root")" = "$(realpath "$ROOT")" ] || fail "worker $w root: $(readlink "/proc/$w/root")"
    [ "$(awk '/^Uid:/ { print $3 }' "/proc/$w/status")" = 65534 ] || fail "worker $w is not nobody"
    n=$((n + 1))
  done
  [ "$n" = 2 ]
  run "$CTL" -d "$SVC" stop
  assert_success
}

# ---------------------------------------------------------------- runit

need_runit() {
  command -v runsvdir >/dev/null && command -v sv >/dev/null \
    || skip "runit is not installed (Debian package runit; tools/deps installs it as root)"
}

@test "runit: start, status, reload, restart, stop through sv, readiness polled from outside" {
  need_runit
  new_service runit
  wait_supervised
  refused
  run "$CTL" -d "$SVC" start
  assert_success
  run mult_tcp
  assert_output 6
  run js
  jq -e '.up and .ready and .supervisor == "runit" and .scoreboard.listener_pid == .pid and .totals.workers == 2' <<<"$output"
  old=$(js | jq .pid)
  run "$CTL" -d "$SVC" reload
  assert_success
  run js
  jq -e --argjson old "$old" '.pid == $old and .scoreboard.generation == 2' <<<"$output"
  run "$CTL" -d "$SVC" restart
  assert_success
  new=$(js | jq .pid)
  [ "$new" != "$old" ] || fail "pid unchanged"
  run mult_unix
  assert_output 6
  run "$CTL" -d "$SVC" stop
  assert_success
  refused
  [ ! -e "$SOCK" ]
  run "$CTL" -d "$SVC" status
  assert_failure 1
}

@test "runit: SIGKILL of riap-listen: runsv restarts it, status shows the new pid" {
  need_runit
  new_service runit
  "$CTL" -d "$SVC" start
  kill_listener
  run mult_tcp
  assert_output 6
}

# ---------------------------------------------------------------- make run

@test "make run (tools/run): ready within seconds, the printed call works, TERM stops the whole tree" {
  PORT=$(free_port)
  run_dir=$BATS_TEST_TMPDIR/run
  RIAP_RUN_DIR=$run_dir RIAP_PORT=$PORT "$RIAP_REPO/tools/run" "$RIAP_BUILD" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  runpid=$!
  for i in $(seq 100); do grep -q 'Ctrl-C stops' "$BATS_TEST_TMPDIR/out" && break; sleep 0.05; done
  grep -q 'Ctrl-C stops' "$BATS_TEST_TMPDIR/out" || { kill "$runpid"; wait "$runpid"; fail "not ready: $(cat "$BATS_TEST_TMPDIR/out")"; }
  # the printed commands, as printed (run from the repository)
  call=$(grep -m1 'bin/riap call' "$BATS_TEST_TMPDIR/out")
  run bash -c "cd '$RIAP_REPO' && $call"
  assert_output 6
  nccall=$(grep -m1 'nc -q1 -U' "$BATS_TEST_TMPDIR/out")
  run bash -c "cd '$RIAP_REPO' && $nccall"
  assert_output --partial 'j[200,"OK",6,'
  ctl=$(grep -m1 'riap-ctl .* status' "$BATS_TEST_TMPDIR/out")
  run bash -c "cd '$RIAP_REPO' && $ctl"
  assert_success
  assert_output --partial "up (pid"
  kill -TERM "$runpid"
  wait "$runpid"
  [ ! -e "$run_dir/riap.sock" ] || fail "socket left"
  left=$(what_is_left "$run_dir")
  [ -z "$left" ] || fail "left behind: $left"
  grep -q '"call /Math/mult"' "$BATS_TEST_TMPDIR/out"
}
