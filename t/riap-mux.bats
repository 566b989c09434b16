#!/usr/bin/env bats
# riap-mux: one Riap::Simple pipe server (or -n N) shared by every client of
# a socket. Each client's pipelined requests get their own answers, in
# order; riap-mux answers a bad line (400), a long line (413), a dead
# backend (502), a missing program (503) and a hung backend (504) itself;
# TERM drains what was taken. The backend is riap-handle serving examples/,
# or t's fake (written per test) where a backend must hang, die or log.
# The client: a small Perl program (written per test) that sends its input
# in one write, then half-closes, keeps its side open or drops it.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load mux
bats_require_minimum_version 1.5.0

EXAMPLES=$RIAP_REPO/examples

setup() {
  T=$BATS_TEST_TMPDIR
  SOCK=$T/m.sock
  # the fake backend: answers each line [200,"OK",{"pid","n","req"}]; a
  # request naming "hang" gets nothing, "die" ends it unanswered,
  # "closeout" closes its stdout; "once" (argument): exits after its first
  # answer; every line it reads is logged to $LOG when set
  cat >"$T/fake" <<'EOF'
#!/usr/bin/perl
use strict; use warnings;
$| = 1;
my $mode = shift // '';
my $n = 0;
while (my $l = <STDIN>) {
  $n++;
  if ($ENV{LOG}) { open(my $f, '>>', $ENV{LOG}) or die; print $f "$$ $l"; close $f }
  $l =~ s/\r?\n\z//;
  sleep 1000 if $l =~ /"hang"/;
  exit 0 if $l =~ /"die"/;
  if ($l =~ /"closeout"/) { close STDOUT; sleep 1000 }
  (my $req = substr($l, 1)) =~ s/\\/\\\\/g; $req =~ s/"/\\"/g;
  print "j[200,\"OK\",{\"pid\":$$,\"n\":$n,\"req\":\"$req\"}]\r\n";
  exit 0 if $mode eq 'once';
}
EOF
  chmod +x "$T/fake"
  # the Perl client: client ADDRESS MODE SECS [LINES] <REQUESTS: connects
  # to ADDRESS (a Unix socket's path, or host:port), writes REQUESTS in one write, then MODE shut (half-close), keep (nothing) or
  # close (gone at once); prints what it reads, as it reads it, until EOF or
  # LINES lines (exit 0), or until SECS pass (exit 2)
  cat >"$T/client" <<'EOF'
#!/usr/bin/perl
use strict; use warnings; use Socket;
my ($sock, $mode, $secs, $want) = @ARGV;
$SIG{PIPE} = 'IGNORE';
$| = 1;
my $s;
if (my ($host, $port) = $sock =~ /^([\d.]+):(\d+)\z/) {
  socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
  connect($s, sockaddr_in($port, inet_aton($host))) or die "connect $sock: $!\n";
} else {
  socket($s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
  connect($s, sockaddr_un($sock)) or die "connect $sock: $!\n";
}
my $req = do { local $/; <STDIN> } // '';
syswrite($s, $req) == length $req or die "write: $!\n";
if ($mode eq 'close') { close $s; exit 0 }
shutdown($s, 1) if $mode eq 'shut';
my ($end, $lines) = (time + $secs, 0);
while (time < $end) {
  my $rin = ''; vec($rin, fileno $s, 1) = 1;
  select(my $rout = $rin, undef, undef, 0.2) > 0 or next;
  my $r = sysread($s, my $buf, 65536);
  exit 0 if !$r;
  print $buf;
  $lines += () = $buf =~ /\n/g;
  exit 0 if $want && $lines >= $want;
}
exit 2;
EOF
  chmod +x "$T/client"
}

teardown() { reap_test_pids; }

one_backend() { [ "$(backends | wc -l)" = 1 ]; }

# mult A B: the request line calling /Fast/mult (examples/) with A and B
mult() { printf 'j{"action":"call","uri":"/Fast/mult","args":{"a":%s,"b":%s}}\r\n' "$1" "$2"; }
# sleep_req SECS: the request line calling /Util/sleep
sleep_req() { printf 'j{"action":"call","uri":"/Util/sleep","args":{"secs":%s}}\r\n' "$1"; }

# ask FILE [ADDRESS]: sends FILE's request lines on one connection to
# ADDRESS (default $SOCK), half-closes, and prints the answers' JSON, one a
# line, once the server has closed
ask() {
  local out
  out=$("$T/client" "${2:-$SOCK}" shut 60 <"$1" 3>&-) || { echo "no end of file from the server: $out" >&2; return 1; }
  sed 's/^j//; s/\r$//' <<<"$out"
}

# answers FILE: the raw answers in FILE as JSON, one a line
answers() { sed 's/^j//; s/\r$//' "$1"; }

# holds FILTER JSON-LINES: jq -se FILTER holds on the array of the answers
holds() {
  jq -se "$1" >/dev/null <<<"$2" || fail "does not hold: $1
answers: $2
riap-mux's stderr: $(cat "$T/err" 2>/dev/null)"
}

# function_of PID NAME: the pid of PID's child running the function NAME (examples/)
function_of() { pgrep -P "$1" -f "$2" | head -1; }

# forget_function PID: PID (a function orphaned by a killed backend) and
# its children are reaped at the end of the test
forget_function() { { echo "$1"; pgrep -P "$1"; } >>"$T/pids"; }

many_clients() { # many_clients N CLIENTS REQUESTS
  local nb=$1 nc=$2 nr=$3 c i pids=()
  mux -n "$nb" -- "$HANDLE" "$EXAMPLES"
  for c in $(seq "$nc"); do
    for i in $(seq 0 $((nr - 1))); do mult $((c * 1000 + i)) 7; done >"$T/req.$c"
  done
  for c in $(seq "$nc"); do
    "$T/client" "$SOCK" shut 120 <"$T/req.$c" >"$T/out.$c" 3>&- &
    pids+=($!)
  done
  for c in $(seq "$nc"); do wait "${pids[$((c - 1))]}" || fail "client $c exited $?"; done
  for c in $(seq "$nc"); do
    holds "length == $nr and all(.[0] == 200) and map(.[2]) == [range($nr) | ($c * 1000 + .) * 7]" \
      "$(answers "$T/out.$c")"
  done
  [ "$(backends | wc -l)" = "$nb" ] || fail "backends: $(backends | tr '\n' ' ') (want $nb)"
}

@test "6 clients pipelining 100 requests each into one backend each get exactly their own answers, in order" {
  many_clients 1 6 100
}

@test "-n 3: 6 clients pipelining 100 requests each over 3 backends each get exactly their own answers, in order" {
  many_clients 3 6 100
}

@test "a line not starting with j (or empty) is answered 400 by riap-mux, in turn, and never reaches the backend" {
  LOG=$T/log mux -- "$T/fake"
  { printf 'x\r\n'; printf 'j{"k":1}\r\n'; printf 'garbage\r\n'; printf '\r\n'; printf 'j{"k":2}\r\n'; } >"$T/req"
  run -0 ask "$T/req"
  holds 'length == 5 and map(.[0]) == [400, 200, 400, 400, 200]' "$output"
  holds '.[0][1] == "Invalid request line, use j<json>" and .[1][2].req == "{\"k\":1}" and .[4][2].req == "{\"k\":2}"' "$output"
  holds '.[1][2].pid == .[4][2].pid and .[4][2].n == 2' "$output"
  [ "$(wc -l <"$T/log")" = 2 ] || fail "the backend read: $(cat "$T/log")"
}

@test "a line longer than --max-line gets 413 after the answers before it, and the client is closed" {
  mux --max-line 64 -- "$T/fake"
  { printf 'j{"k":1}\r\n'; printf 'j{"k":"%0100d"}\r\n' 0; printf 'j{"k":3}\r\n'; } >"$T/req"
  run -0 "$T/client" "$SOCK" keep 30 <"$T/req"   # 0: closed by riap-mux, though the client kept its side open
  output=$(sed 's/^j//; s/\r$//' <<<"$output")
  holds 'length == 2 and .[0][0] == 200 and .[0][2].req == "{\"k\":1}" and .[1] == [413, "Request line too long"]' "$output"
  # riap-mux goes on serving
  mult 2 3 >"$T/req2"
  run -0 ask "$T/req2"
  holds 'length == 1 and .[0][0] == 200' "$output"
}

@test "a backend killed during a request: 502 for the requests it was given, the next ones served by a new backend" {
  local old fn
  mux -- "$HANDLE" "$EXAMPLES"
  old=$(backends)
  { sleep_req 3; mult 2 3; } >"$T/req"
  "$T/client" "$SOCK" shut 60 <"$T/req" >"$T/out" 3>&- &
  echo $! >>"$T/pids"
  local client=$!
  wait_for "the sleep call to run" 20 bash -c "pgrep -P $old -f Util/sleep >/dev/null"
  fn=$(function_of "$old" Util/sleep)
  forget_function "$fn"
  kill -KILL "$old"
  wait "$client" || fail "the client exited $?"
  holds 'length == 2 and all(. == [502, "Backend ended before answering"])' "$(answers "$T/out")"
  { mult 6 7; mult 8 9; } >"$T/req2"
  run -0 ask "$T/req2"
  holds 'map(.[0]) == [200, 200] and map(.[2]) == [42, 72]' "$output"
  wait_for "one backend" 10 one_backend
  [ "$(backends)" != "$old" ] || fail "backend $old still there"
  pid_gone "$old" || fail "backend $old still running"
}

@test "a backend that closes its stdout: 502, and a new one serves the next request" {
  mux -r 0 -- "$T/fake"
  local old
  old=$(backends)
  printf 'j{"closeout":1}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds '. == [[502, "Backend ended before answering"]]' "$output"
  printf 'j{"k":1}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid != $old" "$output"
  wait_for "the old backend to be stopped" 20 pid_gone "$old"
}

@test "a backend that ended: a request that comes before its successor waits for it (no 502)" {
  local first
  mux -r 1 -- "$T/fake" once
  first=$(backends)
  printf 'j{"k":1}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid == $first" "$output"
  wait_for "the backend to end" 10 pid_gone "$first"
  printf 'j{"k":2}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid != $first and .[0][2].req == \"{\\\"k\\\":2}\"" "$output"
}

@test "--restart-delay: a backend that keeps exiting is started again no sooner than the delay after its previous start" {
  printf '#!/bin/sh\ndate +%%s%%N >>%s/starts\nexit 1\n' "$T" >"$T/crash"
  chmod +x "$T/crash"
  mux -r 2 -- "$T/crash"
  wait_for "3 starts" 30 bash -c "[ \$(wc -l <'$T/starts') -ge 3 ]"
  # each start logs itself once it runs: a start logged late makes the next
  # gap look shorter, hence 1.5 s for a delay of 2
  run -0 awk 'NR > 1 && $1 - prev < 1500000000 { print "gap " ($1 - prev) / 1e9 " s before start " NR } { prev = $1 }' "$T/starts"
  [ -z "$output" ] || fail "$output"
}

@test "--timeout: a backend that answers nothing is killed, its requests get 504, then a new one serves" {
  local first
  mux -t 1 -r 0 -- "$T/fake"
  first=$(backends)
  printf 'j{"k":1}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid == $first" "$output"
  sleep 1.5     # idle longer than --timeout: no request waits, so no kill
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid == $first" "$output"
  { printf 'j{"hang":1}\r\n'; printf 'j{"k":2}\r\n'; } >"$T/req"
  run -0 ask "$T/req"
  holds 'length == 2 and all(. == [504, "Backend timed out after 1 s"])' "$output"
  wait_for "the hung backend to be killed" 20 pid_gone "$first"
  printf 'j{"k":3}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid != $first" "$output"
}

@test "a program that cannot be started: requests get 503 Backend unavailable, and riap-mux stays" {
  mux -- "$T/no-such-program"
  mult 2 3 >"$T/req"
  run -0 ask "$T/req"
  holds '. == [[503, "Backend unavailable"]]' "$output"
  run -0 ask "$T/req"
  holds '. == [[503, "Backend unavailable"]]' "$output"
  kill -0 "$MPID" || fail "riap-mux is gone: $(cat "$T/err")"
  grep -q "unable to run $T/no-such-program" "$T/err" || fail "stderr: $(cat "$T/err")"
}

@test "--max-pending 1: 50 pipelined requests in one write are all answered, in order" {
  local i
  mux --max-pending 1 -- "$HANDLE" "$EXAMPLES"
  for i in $(seq 50); do mult "$i" 3; done >"$T/req"
  run -0 "$T/client" "$SOCK" keep 60 50 <"$T/req"   # no half-close: nothing but the answers wakes riap-mux
  output=$(sed 's/^j//; s/\r$//' <<<"$output")
  holds 'length == 50 and all(.[0] == 200) and map(.[2]) == [range(1; 51) | . * 3]' "$output"
}

@test "a half-closed client gets every answer, then is closed" {
  mux -- "$HANDLE" "$EXAMPLES"
  { sleep_req 1; mult 4 5; } >"$T/req"
  run -0 "$T/client" "$SOCK" shut 60 <"$T/req"    # 0: EOF, riap-mux closed it
  output=$(sed 's/^j//; s/\r$//' <<<"$output")
  holds 'length == 2 and .[0][0] == 200 and .[0][2].slept == 1 and .[1][2] == 20' "$output"
}

# cpu: riap-mux's CPU time so far, in clock ticks (user and system)
cpu() { awk '{ print $14 + $15 }' "/proc/$MPID/stat"; }

@test "a half-closed client waiting for a slow answer does not make riap-mux spin on its end of file" {
  local before after
  mux -- "$HANDLE" "$EXAMPLES"
  sleep_req 3 >"$T/req"
  before=$(cpu)
  run -0 "$T/client" "$SOCK" shut 60 <"$T/req"
  after=$(cpu)
  holds 'length == 1 and .[0][0] == 200' "$(sed 's/^j//; s/\r$//' <<<"$output")"
  # waiting costs nothing; a level-triggered end of file kept watched wakes
  # riap-mux again and again for the 3 s (a whole core, or what load leaves)
  [ $((after - before)) -lt 30 ] || fail "riap-mux used $((after - before)) ticks of CPU while the answer was on its way"
}

@test "a client gone: its answers are dropped, and a client on its reused fd gets only its own" {
  local base
  mux -- "$HANDLE" "$EXAMPLES"
  base=$(ls "/proc/$MPID/fd" | wc -l)
  { sleep_req 1; mult 1 1; mult 1 2; } >"$T/req"
  run -0 "$T/client" "$SOCK" close 0 <"$T/req"
  # riap-mux closed its side: the next client gets the same fd
  wait_for "riap-mux to close the client" 20 bash -c "[ \$(ls /proc/$MPID/fd | wc -l) = $base ]"
  { mult 7 7; mult 8 8; } >"$T/req"
  run -0 ask "$T/req"
  holds 'length == 2 and map(.[0]) == [200, 200] and map(.[2]) == [49, 64]' "$output"
  kill -0 "$MPID" || fail "riap-mux is gone: $(cat "$T/err")"
}

@test "TERM with requests in flight: all answered, the socket file gone at once, the backend stopped, exit 0" {
  local b client
  mux -- "$HANDLE" "$EXAMPLES"
  b=$(backends)
  { sleep_req 1; mult 2 21; mult 3 3; } >"$T/req"
  "$T/client" "$SOCK" shut 60 <"$T/req" >"$T/out" 3>&- &
  client=$!
  echo "$client" >>"$T/pids"
  wait_for "the sleep call to run" 20 bash -c "pgrep -P $b -f Util/sleep >/dev/null"
  kill -TERM "$MPID"
  wait_for "the socket file to go" 10 bash -c "[ ! -e '$SOCK' ]"
  wait_for "riap-mux to exit" 30 pid_gone "$MPID"
  run wait "$MPID"
  [ "$status" = 0 ] || fail "riap-mux exited $status: $(cat "$T/err")"
  wait "$client" || fail "the client exited $?"
  holds 'length == 3 and all(.[0] == 200) and .[0][2].slept == 1 and .[1][2] == 42 and .[2][2] == 9' "$(answers "$T/out")"
  pid_gone "$b" || fail "backend $b still running"
}

@test "TERM while the backend waits to be restarted: its successor answers what was taken, then riap-mux exits 0" {
  local first client
  mux -r 3 -- "$T/fake" once
  first=$(backends)
  printf 'j{"k":1}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][2].pid == $first" "$output"
  wait_for "the backend to end" 10 pid_gone "$first"
  # one write: the 400 for the first line comes once riap-mux has read the
  # whole write, so the second line was taken (and waits for a backend)
  { printf 'x\r\n'; printf 'j{"k":2}\r\n'; } >"$T/req"
  "$T/client" "$SOCK" keep 60 <"$T/req" >"$T/out" 3>&- &
  client=$!
  echo "$client" >>"$T/pids"
  wait_for "the 400" 10 grep -q '^j\[400' "$T/out"
  kill -TERM "$MPID"
  wait_for "riap-mux to exit" 30 pid_gone "$MPID"
  run wait "$MPID"
  [ "$status" = 0 ] || fail "riap-mux exited $status: $(cat "$T/err")"
  wait "$client" || fail "client exited $?"
  holds "length == 2 and .[0][0] == 400 and .[1][0] == 200 and .[1][2].pid != $first" "$(answers "$T/out")"
}

@test "usage errors exit 100 with a fatal line and the usage" {
  local args
  for args in "" "unix:$BATS_TEST_TMPDIR/x.sock" "nowhere prog" "-n 0 unix:/tmp/x prog" "--bogus unix:/tmp/x prog" \
              "--max-line 10 unix:/tmp/x prog" "--max-pending 0 unix:/tmp/x prog" "-t x unix:/tmp/x prog"; do
    # shellcheck disable=SC2086
    run -100 "$MUX" $args
    [ "${lines[0]#riap-mux: fatal: }" != "${lines[0]}" ] || [ "$args" = "--bogus unix:/tmp/x prog" ] ||
      fail "'$args': first line: $output"
    [[ "${lines[-1]}" == "riap-mux: usage: riap-mux "* ]] || fail "'$args': last line: $output"
  done
  [ ! -e "$BATS_TEST_TMPDIR/x.sock" ] || fail "a usage error bound its socket"
}

@test "a socket in use: exit 111 (unix and TCP); a stale socket file is replaced" {
  local port first b
  mux -- "$T/fake"
  first=$MPID
  run -111 "$MUX" "unix:$SOCK" "$T/fake"
  assert_output --partial "riap-mux: fatal: unable to bind"
  b=$(backends)
  echo "$b" >>"$T/pids"
  kill -KILL "$first"      # leaves its socket file
  wait "$first" 2>/dev/null || true
  [ -S "$SOCK" ] || fail "no stale socket file to test with"
  mux -- "$T/fake"
  printf 'j{"k":1}\r\n' >"$T/req"
  run -0 ask "$T/req"
  holds "length == 1 and .[0][0] == 200 and .[0][2].pid != $b" "$output"
  # TCP: served, and a second one on the same port refused
  port=$(free_port)
  rm -f "$T/ready"
  "$MUX" --notification-fd 3 "127.0.0.1:$port" "$T/fake" 3>"$T/ready" 2>>"$T/err" &
  echo $! >>"$T/pids"
  wait_for "riap-mux on TCP" 10 test -s "$T/ready"
  run -0 ask "$T/req" "127.0.0.1:$port"
  holds 'length == 1 and .[0][0] == 200' "$output"
  run -111 "$MUX" "127.0.0.1:$port" "$T/fake"
  assert_output --partial "riap-mux: fatal: unable to bind"
}

@test "riap-listen mounting riap-mux (riap+unix): call, list and info through the mount, uris rewritten; one backend outlives the workers" {
  local port i b out
  mux -- "$HANDLE" "$EXAMPLES"
  b=$(backends)
  ROOT=$T/root
  mkdir -p "$ROOT"
  printf '{"url":"riap+unix:%s//Math/","prefix":"/Math/"}\n' "$SOCK" >"$ROOT/M.mount.json"
  port=$(free_port)
  RIAP_ALLOW_ROOT=1 listen -p "127.0.0.1:$port" --start-servers 2 --max-requests-per-child 1
  {
    printf 'j{"action":"call","uri":"/M/mult","args":{"a":6,"b":7}}\r\n'
    printf 'j{"action":"list","uri":"/M/"}\r\n'
    printf 'j{"action":"list","uri":"/M/","detail":1}\r\n'
    printf 'j{"action":"info","uri":"/M/mult"}\r\n'
    printf 'j{"action":"meta","uri":"/M/mult"}\r\n'
  } >"$T/req"
  run -0 ask "$T/req" "127.0.0.1:$port"
  holds 'length == 5 and all(.[0] == 200)' "$output"
  holds '.[0][2] == 42' "$output"
  holds '(.[1][2] | sort) == ["$PI", "div", "mult"]' "$output"
  holds '([.[2][2][].uri] | sort) == ["$PI", "div", "mult"]' "$output"
  holds '.[3][2].uri == "/M/mult" and .[3][2].type == "function"' "$output"
  holds '.[4][2].summary == "Multiply two integers"' "$output"
  # each request on its own connection, each worker gone after one: the
  # same backend answers them all
  for i in 1 2 3 4; do      # (not run: it sets i)
    printf 'j{"action":"call","uri":"/M/mult","args":{"a":%d,"b":2}}\r\n' "$i" >"$T/req"
    out=$(ask "$T/req" "127.0.0.1:$port") || fail "request $i: $out"
    holds "length == 1 and .[0][0] == 200 and .[0][2] == $((i * 2))" "$out"
  done
  [ "$(backends)" = "$b" ] || fail "the backend changed: $b -> $(backends)"
}
