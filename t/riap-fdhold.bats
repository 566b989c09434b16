#!/usr/bin/env bats
# Listening sockets that outlive riap-listen (riap-listen(8), INHERITED
# SOCKETS): LISTEN_FDS and s6-fdholder dumps taken and matched to -p/-s,
# --bind-only, and services/riap with services/riap-fdholder under a real
# s6-svscan (and runsvdir): restarts and a new binary refuse nobody while
# eight clients call in a loop. Every process a test starts is stopped by
# its pid (scanners as in t/riap-ctl.bats); ports are chosen at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load svc

RIAP_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
RIAP_BUILD=${RIAP_BUILD:-$RIAP_REPO/build}
LISTEN=$RIAP_BUILD/bin/riap-listen
HANDLE=$RIAP_BUILD/bin/riap-handle
CTL=$RIAP_BUILD/bin/riap-ctl
CLIENT=$RIAP_BUILD/bin/riap

setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
}

remember() { echo "$1" >>"$BATS_TEST_TMPDIR/pids"; }

# binder [-pid N] PORT PATH -- COMMAND...: binds 127.0.0.1:PORT (fd 3) and
# the Unix socket PATH (fd 4; none when PATH is -), then execs COMMAND with
# LISTEN_FDS and LISTEN_PID (its own pid, or N) as systemd would
binder() {
  local pid=self
  if [ "$1" = -pid ]; then pid=$2; shift 2; fi
  exec perl -MSocket -MPOSIX -e '
    $^F = 100;                        # not close-on-exec
    my ($pid, $port, $path) = splice @ARGV, 0, 3; shift @ARGV;
    socket(my $t, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
    setsockopt($t, SOL_SOCKET, SO_REUSEADDR, 1);
    bind($t, sockaddr_in($port, inet_aton("127.0.0.1"))) or die "bind: $!";
    listen($t, 128) or die; my @fds = (fileno $t);
    if ($path ne "-") {
      unlink $path; socket(my $u, PF_UNIX, SOCK_STREAM, 0) or die;
      bind($u, sockaddr_un($path)) or die "bind $path: $!"; listen($u, 128) or die;
      push @fds, fileno $u;
      $main::keep = $u }
    my $n = 3; for my $fd (@fds) { POSIX::dup2($fd, $n) unless $fd == $n; $n++ }
    $ENV{LISTEN_FDS} = @fds; $ENV{LISTEN_PID} = $pid eq "self" ? $$ : $pid;
    $ENV{LISTEN_FDNAMES} = join ":", ("tcp", "unix")[0 .. $#fds];
    exec @ARGV or die "exec: $!"' "$pid" "$@"
}

wait_answer() { # wait_answer URL: a Riap call answers (10 s at most)
  local i
  for i in $(seq 100); do
    "$CLIENT" --retries 0 --timeout 2 call "$1/Math/mult" a=2 b=3 >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

stop_pid() { # TERM, then wait for it to go (it is our child)
  kill -TERM "$1" 2>/dev/null
  wait "$1" 2>/dev/null || true
}

@test "LISTEN_FDS: the passed TCP and Unix sockets are served, matched to -p and -s; the socket file stays after TERM" {
  port=$(free_port) sock=$BATS_TEST_TMPDIR/l.sock
  binder "$port" "$sock" -- "$LISTEN" --allow-root --scoreboard-path 0 -p "127.0.0.1:$port" -s "$sock" \
    -- "$HANDLE" "$ROOT" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  pid=$!; remember $pid
  wait_answer "riap+tcp://127.0.0.1:$port" || fail "no answer: $(cat "$BATS_TEST_TMPDIR/out")"
  run "$CLIENT" --retries 0 call "riap+unix:$sock//Math/mult" a=4 b=5
  assert_output 20
  # the listener holds fd 3 and 4 (what it was given), and did not bind again
  [ "$(readlink /proc/$pid/fd/3)" != "" ] && [ "$(readlink /proc/$pid/fd/4)" != "" ]
  # the workers do not see the variables
  w=$(pgrep -P $pid | head -1)
  [ -n "$w" ] && tr '\0' '\n' </proc/$w/environ >"$BATS_TEST_TMPDIR/env"
  run grep "^LISTEN_" "$BATS_TEST_TMPDIR/env"
  assert_output ""
  stop_pid $pid
  [ -S "$sock" ] || fail "the inherited socket file was removed"
}

@test "LISTEN_FDS with no -p or -s: the sockets are served as they are bound" {
  port=$(free_port) sock=$BATS_TEST_TMPDIR/g.sock
  binder "$port" "$sock" -- "$LISTEN" --allow-root --scoreboard-path 0 \
    -- "$HANDLE" "$ROOT" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  pid=$!; remember $pid
  wait_answer "riap+tcp://127.0.0.1:$port" || fail "no answer: $(cat "$BATS_TEST_TMPDIR/out")"
  run "$CLIENT" --retries 0 call "riap+unix:$sock//Math/mult" a=4 b=5
  assert_output 20
  stop_pid $pid
}

@test "a passed socket bound to an address not given is a usage error (100) naming it" {
  port=$(free_port) other=$(free_port)
  run binder "$port" - -- "$LISTEN" --allow-root --scoreboard-path 0 -p "127.0.0.1:$other" -- "$HANDLE" "$ROOT" 3>&-
  assert_failure 100
  assert_output --partial "LISTEN_FDS fd 3 (tcp) is bound to 127.0.0.1:$port, which no --ports or --unix-sockets address names"
  # and an fd that is no listening socket
  LISTEN_FDS=1 run "$LISTEN" --allow-root --scoreboard-path 0 -p "127.0.0.1:$port" -- "$HANDLE" "$ROOT" 3</dev/null
  assert_failure 100
  assert_output --partial "LISTEN_FDS fd 3 is not a listening stream socket"
  LISTEN_FDS=x run "$LISTEN" --allow-root -p "127.0.0.1:$port" -- "$HANDLE" "$ROOT" 3>&-
  assert_failure 100
  assert_output --partial "LISTEN_FDS is not a number"
}

@test "a LISTEN_PID that is not riap-listen's: LISTEN_FDS is ignored with a warning, the addresses are bound" {
  port=$(free_port) own=$(free_port)
  binder -pid 1 "$port" - -- "$LISTEN" --allow-root --scoreboard-path 0 -p "127.0.0.1:$own" \
    -- "$HANDLE" "$ROOT" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  pid=$!; remember $pid
  wait_answer "riap+tcp://127.0.0.1:$own" || fail "no answer: $(cat "$BATS_TEST_TMPDIR/out")"
  grep -q "warning: LISTEN_PID is 1, not this process: LISTEN_FDS ignored" "$BATS_TEST_TMPDIR/out"
  # fd 3, the passed socket, is left alone: nobody accepts there
  run "$CLIENT" --retries 0 --timeout 1 call "riap+tcp://127.0.0.1:$port/Math/mult" a=2 b=3
  assert_failure
  stop_pid $pid
}

@test "--bind-only passes its sockets in LISTEN_FDS; riap-listen takes them; an s6-fdholder dump works too" {
  port=$(free_port) sock=$BATS_TEST_TMPDIR/b.sock
  run "$LISTEN" --bind-only -p "127.0.0.1:$port" -s "$sock" --socket-mode 600 -- \
    sh -c 'echo "$LISTEN_FDS $LISTEN_PID $$"; readlink /proc/$$/fd/3 /proc/$$/fd/4' 3>&-
  assert_success
  read -r n lpid self <<<"${lines[0]}"
  [ "$n" = 2 ] && [ "$lpid" = "$self" ] || fail "LISTEN_FDS=$n LISTEN_PID=$lpid pid=$self"
  assert_line --index 1 --regexp '^socket:'
  assert_line --index 2 --regexp '^socket:'
  [ "$(stat -c %a "$sock")" = 600 ]
  # an s6-fdholder: stored through --bind-only, dumped into riap-listen
  command -v s6-fdholder-daemon >/dev/null || skip "s6 is not installed"
  h=$BATS_TEST_TMPDIR/holder
  mkdir -p "$h.rules/uid/$(id -u)/env"
  : >"$h.rules/uid/$(id -u)/allow"
  for v in STORE_REGEX RETRIEVE_REGEX; do echo '^riap:' >"$h.rules/uid/$(id -u)/env/S6_FDHOLDER_$v"; done
  for v in LIST GETDUMP; do echo 1 >"$h.rules/uid/$(id -u)/env/S6_FDHOLDER_$v"; done
  s6-fdholder-daemon -i "$h.rules" "$h" </dev/null >/dev/null 2>&1 3>&- &
  hpid=$!; remember $hpid
  for i in $(seq 50); do s6-fdholder-list "$h" >/dev/null 2>&1 && break; sleep 0.1; done
  "$LISTEN" --bind-only -p "127.0.0.1:$port" -s "$sock" -- \
    sh -c 's6-fdholder-store -d 3 "$0" riap:tcp && s6-fdholder-store -d 4 "$0" riap:unix' "$h" 3>&-
  run s6-fdholder-list "$h"
  assert_line riap:tcp
  assert_line riap:unix
  s6-fdholder-getdump "$h" "$LISTEN" --allow-root --scoreboard-path 0 -s "$sock" -p "127.0.0.1:$port" \
    -- "$HANDLE" "$ROOT" >"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
  pid=$!; remember $pid
  wait_answer "riap+unix:$sock/" || fail "no answer: $(cat "$BATS_TEST_TMPDIR/out")"
  run "$CLIENT" --retries 0 call "riap+tcp://127.0.0.1:$port/Math/mult" a=4 b=5
  assert_output 20
  stop_pid $pid
  kill -TERM $hpid; wait $hpid 2>/dev/null || true
}

# ------------------------------------------------- services under s6, runit

# new_services [s6|runit]: a scan directory with services/riap-fdholder and
# services/riap (env/FDHOLDER set, two workers), the scanner started; both
# down until started. Sets SCAN, SVC, HOLD, PORT, SOCK.
new_services() {
  local kind=${1:-s6}
  SCAN=$BATS_TEST_TMPDIR/scan SVC=$SCAN/riap HOLD=$SCAN/riap-fdholder
  PORT=$(free_port) SOCK=$BATS_TEST_TMPDIR/riap.sock
  mkdir -p "$SCAN"
  cp -R "$RIAP_REPO/services/riap" "$SVC"
  cp -R "$RIAP_REPO/services/riap-fdholder" "$HOLD"
  echo "$BATS_TEST_TMPDIR/run/fdholder" >"$HOLD/env/SOCKET"
  echo "$BATS_TEST_TMPDIR/run/fdholder" >"$SVC/env/FDHOLDER"
  echo "$ROOT" >"$SVC/env/ROOT"
  echo "127.0.0.1:$PORT" >"$SVC/env/PORTS"
  echo "$SOCK" >"$SVC/env/UNIX_SOCKETS"
  echo 2 >"$SVC/env/START_SERVERS"
  echo 10 >"$SVC/env/GRACE"
  echo "--max-per-ip 0 --max-workers-per-ip 0" >"$SVC/env/LISTEN_OPTIONS"
  echo "$RIAP_BUILD/bin:$PATH" >"$SVC/env/PATH"
  echo "$RIAP_BUILD/bin:$PATH" >"$SVC/log/env/PATH"
  touch "$SVC/down"
  start_scanner "$kind"
}

teardown() {
  [ -f "$BATS_TEST_TMPDIR/stop" ] || touch "$BATS_TEST_TMPDIR/stop"
  reap_services
}

js() { "$CTL" -d "$SVC" -i 0 status --json; }

# clients N: N clients (half TCP, half Unix), a new connection per call, in
# a loop until $BATS_TEST_TMPDIR/stop exists; each prints
# "ok=N refused=N failed=N" into $BATS_TEST_TMPDIR/client.K
clients() {
  local k
  rm -f "$BATS_TEST_TMPDIR/stop"
  CLIENT_PIDS=
  for k in $(seq "$1"); do
    perl -MSocket -e '
      my ($kind, $port, $path, $stop) = @ARGV; my ($ok, $refused, $failed) = (0, 0, 0);
      until (-e $stop) {
        my $s;
        if ($kind) { socket($s, PF_INET, SOCK_STREAM, 0) or die;
                     connect($s, sockaddr_in($port, inet_aton("127.0.0.1"))) or do { $refused++; print STDERR "connect: $!\n"; next } }
        else { socket($s, PF_UNIX, SOCK_STREAM, 0) or die;
               connect($s, sockaddr_un($path)) or do { $refused++; print STDERR "connect: $!\n"; next } }
        syswrite($s, qq(j{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}\r\n));
        my $l = ""; while ($l !~ /\n/) { my $n = sysread($s, my $b, 4096); last unless $n; $l .= $b }
        if ($l =~ /^j\[200,"OK",6,/) { $ok++ } else { $failed++; print STDERR "bad answer: [$l]\n" }
        close $s }
      print "ok=$ok refused=$refused failed=$failed\n"' $((k % 2)) "$PORT" "$SOCK" "$BATS_TEST_TMPDIR/stop" \
      >"$BATS_TEST_TMPDIR/client.$k" 2>"$BATS_TEST_TMPDIR/client.$k.err" 3>&- &
    CLIENT_PIDS="$CLIENT_PIDS $!"
    remember $!
  done
}

# clients_done: stops them, fails unless every one called and none was
# refused or failed
clients_done() {
  local p k total=0
  touch "$BATS_TEST_TMPDIR/stop"
  for p in $CLIENT_PIDS; do wait "$p" || true; done
  for k in "$BATS_TEST_TMPDIR"/client.?; do
    grep -q ' refused=0 failed=0$' "$k" || fail "$(basename "$k"): $(cat "$k") $(head -3 "$k.err")"
    total=$((total + $(sed 's/^ok=\([0-9]*\).*/\1/' "$k")))
  done
  echo "# $total calls" >&3
  [ "$total" -gt 0 ]
}

calls_so_far() { # calls answered so far, from the scoreboard totals
  js | jq '.totals.requests // 0'
}

wait_calls() { # wait_calls N: at least N more requests served (30 s at most)
  local from i
  from=$(calls_so_far)
  for i in $(seq 300); do [ "$(calls_so_far)" -ge $((from + $1)) ] && return 0; sleep 0.1; done
  fail "fewer than $1 requests served in 30 s"
}

@test "s6: riap-ctl restart, twice, while 8 clients call in a loop: none refused, none failed; a slow call in flight is answered" {
  new_services
  rm "$HOLD/down" 2>/dev/null || true
  "$CTL" -d "$SVC" start
  run s6-fdholder-list "$BATS_TEST_TMPDIR/run/fdholder"
  assert_line "riap:tcp:127.0.0.1:$PORT"
  assert_line "riap:unix:$SOCK"
  clients 8
  wait_calls 50
  # a call of two seconds under way when the restart begins
  "$CLIENT" --retries 0 --timeout 20 call "riap+tcp://127.0.0.1:$PORT/Util/sleep" secs=2 \
    >"$BATS_TEST_TMPDIR/slow" 2>&1 3>&- &
  slow=$!; remember $slow
  sleep 0.5
  old=$(js | jq .pid)
  run "$CTL" -t 90 -d "$SVC" restart
  assert_success
  wait $slow || fail "the call in flight failed: $(cat "$BATS_TEST_TMPDIR/slow")"
  wait_calls 50
  run "$CTL" -t 90 -d "$SVC" restart
  assert_success
  new=$(js | jq .pid)
  [ "$new" != "$old" ] || fail "pid unchanged: $old"
  wait_calls 50
  clients_done
  [ -S "$SOCK" ]
}

@test "s6: a new riap-listen binary (env/PATH to another copy), restart under 8 clients: none refused, none failed" {
  new_services
  rm "$HOLD/down" 2>/dev/null || true
  mkdir -p "$BATS_TEST_TMPDIR/v1" "$BATS_TEST_TMPDIR/v2"
  cp "$LISTEN" "$BATS_TEST_TMPDIR/v1/riap-listen"
  echo "$BATS_TEST_TMPDIR/v1:$RIAP_BUILD/bin:$PATH" >"$SVC/env/PATH"
  "$CTL" -d "$SVC" start
  [ "$(readlink /proc/$(js | jq .pid)/exe)" = "$BATS_TEST_TMPDIR/v1/riap-listen" ]
  clients 8
  wait_calls 50
  cp "$LISTEN" "$BATS_TEST_TMPDIR/v2/riap-listen"
  echo "$BATS_TEST_TMPDIR/v2:$RIAP_BUILD/bin:$PATH" >"$SVC/env/PATH"
  run "$CTL" -t 90 -d "$SVC" restart
  assert_success
  [ "$(readlink /proc/$(js | jq .pid)/exe)" = "$BATS_TEST_TMPDIR/v2/riap-listen" ]
  wait_calls 50
  clients_done
}

@test "s6: an address taken out of env/ is dropped from the holder; a removed socket file is bound anew" {
  new_services
  rm "$HOLD/down" 2>/dev/null || true
  "$CTL" -d "$SVC" start
  : >"$SVC/env/UNIX_SOCKETS"
  "$CTL" -t 90 -d "$SVC" restart
  run s6-fdholder-list "$BATS_TEST_TMPDIR/run/fdholder"
  assert_output "riap:tcp:127.0.0.1:$PORT"
  echo "$SOCK" >"$SVC/env/UNIX_SOCKETS"
  "$CTL" -t 90 -d "$SVC" restart
  rm -f "$SOCK"
  "$CTL" -t 90 -d "$SVC" restart
  run "$CLIENT" --retries 0 call "riap+unix:$SOCK//Math/mult" a=4 b=5
  assert_output 20
}

@test "runit: the same holder under runsv: riap-ctl restart under 8 clients: none refused, none failed" {
  command -v runsvdir >/dev/null && command -v sv >/dev/null || skip "runit is not installed"
  new_services runit
  rm "$HOLD/down" 2>/dev/null || true
  "$CTL" -d "$SVC" start
  clients 8
  wait_calls 50
  run "$CTL" -t 90 -d "$SVC" restart
  assert_success
  wait_calls 50
  clients_done
}
