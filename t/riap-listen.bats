#!/usr/bin/env bats
# riap-listen: addresses, the pool of riap-handle workers, signals, the
# scoreboard (doc/riap-listen.8, doc/riap-scoreboard.5). Every listener a
# test starts is killed by its pid in teardown; ports are picked at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

SBDUMP=$RIAP_BUILD/t/prog/riap-sbdump
MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'

# The client: connects to ADDR (host:port, [v6]:port or unix:/path), sends
# each request line in turn and prints each answer without j and CRLF;
# "EOF" when the server closed before answering (exit 3), "CONNECT: why"
# when it could not connect (exit 4). --loop SECS: new connection per
# request for SECS seconds, prints "ok=N fail=M".
setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
  cp -a "$RIAP_REPO/t/tree/Nasty" "$ROOT/"
  export CLIENT=$BATS_FILE_TMPDIR/client.pl
  cat >"$CLIENT" <<'PERL'
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(time sleep);
$SIG{PIPE} = 'IGNORE';
my $loop = 0;
if ($ARGV[0] eq '--loop') { shift; $loop = shift }
my ($addr, @reqs) = @ARGV;
sub conn {
  my $s;
  if ($addr =~ /^unix:(.*)$/) {
    socket($s, PF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un($1)) or return (undef, "$!");
  } elsif ($addr =~ /^\[(.*)\]:(\d+)$/) {
    my ($h, $p) = ($1, $2);
    socket($s, PF_INET6, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_in6($p, inet_pton(AF_INET6, $h))) or return (undef, "$!");
  } else {
    my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
    socket($s, PF_INET, SOCK_STREAM, 0) or die; connect($s, sockaddr_in($p, inet_aton($h))) or return (undef, "$!");
  }
  return ($s, '');
}
sub talk { # returns the answers, undef at EOF
  my ($s, @rq) = @_;
  my @out;
  for my $r (@rq) {
    syswrite($s, "j$r\r\n");
    my $line = '';
    while ($line !~ /\n/) { my $n = sysread($s, my $b, 65536); return (0, @out) unless $n; $line .= $b }
    $line =~ s/^j//; $line =~ s/\r?\n\z//;
    push @out, $line;
  }
  return (1, @out);
}
if ($loop) {
  my ($ok, $fail, $end) = (0, 0, time + $loop);
  while (time < $end) {
    my ($s, $err) = conn();
    if (!$s) { $fail++; print STDERR "connect: $err\n"; next }
    my ($done, @a) = talk($s, @reqs);
    if ($done && @a == @reqs && $a[-1] =~ /^\[200,/) { $ok++ } else { $fail++; print STDERR "failed: @a\n" }
    close $s;
  }
  print "ok=$ok fail=$fail\n";
  exit 0;
}
my ($s, $err) = conn();
if (!$s) { print "CONNECT: $err\n"; exit 4 }
my ($done, @a) = talk($s, @reqs);
print "$_\n" for @a;
if (!$done) { print "EOF\n"; exit 3 }
exit 0;
PERL
}

teardown() {
  reap_test_pids
  return 0
}


workers() { # pids of the listener's children that are workers
  pgrep -P "$LPID" -f riap-handle | sort
}
nworkers() { workers | wc -l; }
sb() { "$SBDUMP" "$BATS_TEST_TMPDIR/sb"; }
sb_count() { # sb_count JQ-FILTER: slots for which the filter holds
  sb | jq -c "select($1)" | wc -l
}
sb_has() { [ "$(sb_count "$1")" -ge "${2:-1}" ]; }
count_is() { [ "$("${@:2}")" -eq "$1" ]; }
count_at_least() { [ "$("${@:2}")" -ge "$1" ]; }

talk() { perl "$CLIENT" "$@"; }

# ------------------------------------------------------------ usage

@test "without an address riap-listen is a usage error (exit 100)" {
  run "$LISTEN" -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "riap-listen: fatal: no address"
}

@test "without a worker command riap-listen is a usage error (exit 100)" {
  run "$LISTEN" -p 127.0.0.1:1234
  assert_equal "$status" 100
  assert_output --partial "no worker command"
}

@test "bad TCP addresses exit 100 and the message names the address" {
  local a
  for a in 0 65536 localhost:80 1.2.3:80 '::1:80' '[::1]' '[nope]:80' 1.2.3.4: 12x; do
    run "$LISTEN" -p "$a" -- "$HANDLE" "$ROOT"
    assert_equal "$status" 100
    assert_output --partial "bad TCP address: $a"
  done
  run "$LISTEN" -p 127.0.0.1:1234,oops -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "bad TCP address: oops"
}

@test "a relative Unix socket path exits 100 and is named" {
  run "$LISTEN" -s relative.sock -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "bad Unix socket path: relative.sock"
}

@test "-V prints the version, -h the usage, both exit 0" {
  run "$LISTEN" -V
  assert_success
  assert_output --regexp '^riap-listen [0-9]'
  run "$LISTEN" -h
  assert_success
  assert_output --partial "--max-requests-per-child"
}

@test "a port in use exits 111 naming the address and the reason" {
  local port; port=$(free_port)
  perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0); setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1);
    bind($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die; listen($s, 5); sleep 10' "$port" &
  local holder=$!
  echo "$holder" >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the port taken" 5 perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0);
    connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or exit 1' "$port"
  run "$LISTEN" -p "127.0.0.1:$port" -- "$HANDLE" "$ROOT"
  assert_equal "$status" 111
  assert_output "riap-listen: fatal: unable to bind 127.0.0.1:$port: Address already in use"
}

# ------------------------------------------------------------ serving

@test "TCP and Unix sockets together: both serve, with the peer's facts" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" -s "$BATS_TEST_TMPDIR/a.sock"
  run talk "127.0.0.1:$port" "$MULT" '{"action":"call","uri":"/Nasty/env"}'
  assert_success
  jq -e '.[0] == 200 and .[2] == 6' <<<"${lines[0]}"
  jq -e --arg p "$port" '.[2].PROTO == "TCP" and .[2].TCPREMOTEIP == "127.0.0.1"
    and .[2].TCPLOCALPORT == $p and .[2].TCPLOCALIP == "127.0.0.1"
    and (.[2] | has("RIAP_CONTROL_FD") | not)' <<<"${lines[1]}"
  run talk "unix:$BATS_TEST_TMPDIR/a.sock" "$MULT" '{"action":"call","uri":"/Nasty/env"}'
  assert_success
  jq -e '.[0] == 200 and .[2] == 6' <<<"${lines[0]}"
  jq -e '.[2].PROTO == "IPC" and .[2].IPCREMOTEEUID == "'"$(id -u)"'"
    and (.[2].IPCREMOTEPID | test("^[0-9]+$"))' <<<"${lines[1]}"
}

@test "a worker keeps none of the listener's RIAP_* settings for what it starts (riap+pipe mount backend)" {
  # the backend records the environment the worker gave it, then serves
  local t=$BATS_TEST_TMPDIR port
  mkdir -p "$t/root"
  cp -a "$RIAP_REPO/examples/Math" "$t/root/"
  printf '#!/bin/sh\nenv >"%s"\nexec "$@"\n' "$t/backend.env" >"$t/backend"
  chmod +x "$t/backend"
  printf '{"url":"riap+pipe:%s//%s/%s//"}' "$t/backend" "${HANDLE//\//%2F}" "${ROOT//\//%2F}" >"$t/root/Up.mount.json"
  port=$(free_port)
  RIAP_ALLOW_ROOT=1 listen -p "127.0.0.1:$port" --start-servers 1 --idle-timeout 30 --name envtest -- "$HANDLE" "$t/root"
  run talk "127.0.0.1:$port" '{"action":"call","uri":"/Up/Math/mult","args":{"a":2,"b":3}}'
  assert_success
  jq -e '.[0] == 200 and .[2] == 6' <<<"${lines[0]}"
  [ -s "$t/backend.env" ] || fail "the backend recorded nothing"
  # every setting of the worker table (lib/riap_workerenv.c), none left over
  run grep -E '^RIAP_(CONTROL_FD|SLOT|GENERATION|MAX_REQUESTS|TIMEOUT|IDLE_TIMEOUT|READ_TIMEOUT|WRITE_TIMEOUT|PARK_DELAY|SCOREBOARD|NAME|CHROOT|ALLOW_ROOT)=' "$t/backend.env"
  assert_failure
  assert_output ""
}

@test "IPv6 loopback [::1]:N serves" {
  local port; port=$(free_port)
  listen -p "[::1]:$port"
  run talk "[::1]:$port" "$MULT" '{"action":"call","uri":"/Nasty/env"}'
  assert_success
  jq -e '.[2] == 6' <<<"${lines[0]}"
  jq -e '.[2].TCPREMOTEIP == "::1"' <<<"${lines[1]}"
}

@test "workers inherit fds 0-2 and their channel only, not the notification fd nor other fds left open" {
  local w fds
  listen -p "127.0.0.1:$(free_port)" --start-servers 2 9>"$BATS_TEST_TMPDIR/nine"
  for w in $(workers); do
    fds=$(ls /proc/"$w"/fd | sort -n | tr '\n' ' ')
    [[ $fds =~ ^0\ 1\ 2\ ([0-9]+)\ $ ]] || fail "worker $w holds fds: $fds"
    [[ $(readlink /proc/"$w"/fd/"${BASH_REMATCH[1]}") == socket:* ]] || fail "worker $w: fd ${BASH_REMATCH[1]} is not its channel"
  done
  [ -n "$(workers)" ]
}

@test "a keep-alive connection gets many requests answered in order" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port"
  run talk "127.0.0.1:$port" '{"action":"call","uri":"/Math/mult","args":{"a":1,"b":1}}' \
    '{"action":"call","uri":"/Math/mult","args":{"a":2,"b":2}}' '{"action":"meta","uri":"/Math/mult"}'
  assert_success
  jq -e '.[2] == 1' <<<"${lines[0]}"
  jq -e '.[2] == 4' <<<"${lines[1]}"
  jq -e '.[0] == 200 and .[2].summary' <<<"${lines[2]}"
}

# pipelined slow calls (/Util/sleep 1 each) in one write
SLEEP1='j{"action":"call","uri":"/Util/sleep","args":{"secs":1}}'

@test "pipelined slow calls: each answer is written when it is ready, not after the last" {
  SLEEP1=$SLEEP1 run perl -MTime::HiRes=time -MIPC::Open2 -e '
    my $t0 = time; my $pid = open2(my $out, my $in, @ARGV);
    print $in "$ENV{SLEEP1}\r\n" x 3; close $in;
    my @at; while (<$out>) { push @at, time - $t0 if /^j\[200,/ } waitpid $pid, 0;
    printf "%d %.2f %.2f\n", scalar @at, $at[0], $at[-1];' "$HANDLE" "$ROOT"
  assert_success
  read -r n first last <<<"$output"
  [ "$n" = 3 ] || fail "$n answers of 3"
  awk -v f="$first" 'BEGIN { exit !(f < 2.5) }' || fail "the first answer came after $first s, with the last ($last s)"
  awk -v l="$last" 'BEGIN { exit !(l >= 2.9) }' || fail "3 calls of 1 s took $last s"
}

@test "a pipelining client gone with slow calls still queued: the worker stops, it does not run them all" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 1
  # 10 calls of 1 s in one write; the first answer read, then a reset (SO_LINGER 0)
  SLEEP1=$SLEEP1 perl -MSocket=:all -e '
    socket(my $s, PF_INET, SOCK_STREAM, 0) or die; connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die;
    syswrite($s, "$ENV{SLEEP1}\r\n" x 10); my $b = ""; sysread($s, $b, 65536) until $b =~ /\n/;
    setsockopt($s, SOL_SOCKET, SO_LINGER, pack("ii", 1, 0)); close $s;' "$port"
  sleep 4.5
  local ran; ran=$(grep -c '/Util/sleep' "$BATS_TEST_TMPDIR/out" || true)
  [ "$ran" -le 3 ] || fail "$ran of the 10 calls ran for a client gone after the first"
  [ "$ran" -ge 1 ] || fail "no access record"
  wait_for "the worker free again" 10 sb_has '.state == "_"'
}

@test "ready only once bound and start-servers workers are up; the notification is one newline" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 4
  assert_equal "$(od -An -c "$BATS_TEST_TMPDIR/ready" | tr -d ' ')" '\n'
  assert_equal "$(nworkers)" 4
  assert_equal "$(sb_count '.state == "_"')" 4
}

@test "Unix sockets: mode applied, stale file replaced, live one refused, removed on exit" {
  local s=$BATS_TEST_TMPDIR/u.sock
  perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_STREAM, 0); bind($s, pack_sockaddr_un($ARGV[0])) or die' "$s"
  [ -S "$s" ]
  listen -s "$s" --socket-mode 600
  assert_equal "$(stat -c %a "$s")" 600
  run talk "unix:$s" "$MULT"
  jq -e '.[2] == 6' <<<"${lines[0]}"
  run "$LISTEN" -s "$s" --scoreboard-path "$BATS_TEST_TMPDIR/sb2" -- "$HANDLE" "$ROOT"
  assert_equal "$status" 111
  assert_output --partial "unable to bind $s: Address already in use"
  kill -TERM "$LPID"
  wait "$LPID"
  [ ! -e "$s" ] || fail "socket file left behind"
  [ ! -e "$BATS_TEST_TMPDIR/sb" ] || fail "scoreboard left behind"
  : >"$s.file"
  run "$LISTEN" -s "$s.file" -- "$HANDLE" "$ROOT"
  assert_equal "$status" 111
  [ -f "$s.file" ] || fail "a regular file was replaced"
}

# ------------------------------------------------------------ the scoreboard

@test "the scoreboard shows idle workers, then calling with action and uri, then the counts" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 2
  run "$SBDUMP" -H "$BATS_TEST_TMPDIR/sb"
  jq -e --arg p "$LPID" '.listener_pid == ($p | tonumber) and .generation == 1 and .version == 2
     and .header_size == 256 and .slot_size == 512 and .waiting == 0 and .accepted == 0 and .refused == 0
     and .gone_workers == 0 and .gone_requests == 0' <<<"$output"
  assert_equal "$(sb_count '.state == "_" and .pid > 0 and .generation == 1')" 2
  talk "127.0.0.1:$port" '{"action":"call","uri":"/Util/sleep","args":{"secs":2}}' >"$BATS_TEST_TMPDIR/c1" &
  local c=$!
  wait_for "a calling slot" 5 sb_has '.state == "C" and .action == "call" and .uri == "/Util/sleep" and (.peer | startswith("127.0.0.1:"))'
  assert_equal "$(sb_count '.state == "_"')" 1
  wait "$c"
  jq -e '.[2].slept == 2' "$BATS_TEST_TMPDIR/c1"
  wait_for "the slot idle again" 5 sb_has '.state == "_" and .requests == 1 and .connections == 1 and .bytes_in > 0 and .bytes_out > 0'
  run "$SBDUMP" -t "$BATS_TEST_TMPDIR/sb"
  assert_output --partial "/Util/sleep"
}

# ------------------------------------------------------------ the pool

@test "64 concurrent clients on --start-servers 3: all served, the pool grows, then shrinks" {
  local port i; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 3 --spare-timeout 1
  assert_equal "$(nworkers)" 3
  for i in $(seq 64); do
    talk "127.0.0.1:$port" '{"action":"call","uri":"/Util/sleep","args":{"secs":1}}' "$MULT" >"$BATS_TEST_TMPDIR/c$i" &
    echo $! >>"$BATS_TEST_TMPDIR/clients"
  done
  wait_for "the pool to grow" 10 count_at_least 10 nworkers
  for i in $(cat "$BATS_TEST_TMPDIR/clients"); do wait "$i"; done
  for i in $(seq 64); do
    jq -s -e '.[0][2].slept == 1 and .[1][2] == 6' "$BATS_TEST_TMPDIR/c$i" >/dev/null \
      || fail "client $i: $(cat "$BATS_TEST_TMPDIR/c$i")"
  done
  wait_for "the pool to shrink back to 3" 15 count_is 3 nworkers
  wait_for "the scoreboard to show 3" 5 count_is 3 sb_count '.state != "."'
}

@test "--max-requests-per-child: a worker exits after N requests and is replaced" {
  local port i; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 0 --max-requests-per-child 3
  local first; first=$(workers)
  for i in $(seq 6); do
    run talk "127.0.0.1:$port" "$MULT"
    assert_success
  done
  # 3 requests each, one connection at a time: the third worker is fresh
  wait_for "the second worker to go" 5 count_is 1 nworkers
  [ "$(workers)" != "$first" ] || fail "still the first worker"
  # a keep-alive connection reaching the limit is parked and goes on with
  # the next worker (see t/riap-park.bats)
  run talk "127.0.0.1:$port" "$MULT" "$MULT" "$MULT" "$MULT"
  assert_success
  assert_equal "${#lines[@]}" 4
  for i in 0 1 2 3; do jq -e '.[2] == 6' <<<"${lines[$i]}"; done
}

@test "--max-requests-per-child with --no-park: a keep-alive connection ends with its worker" {
  local port i; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 0 --max-requests-per-child 3 --no-park
  run talk "127.0.0.1:$port" "$MULT" "$MULT" "$MULT" "$MULT"
  assert_equal "${#lines[@]}" 4
  assert_equal "${lines[3]}" EOF
  for i in 0 1 2; do jq -e '.[2] == 6' <<<"${lines[$i]}"; done
  run talk "127.0.0.1:$port" "$MULT"
  assert_success
  jq -e '.[2] == 6' <<<"${lines[0]}"
}

@test "a worker killed with SIGKILL mid-request: its client gets EOF, others go on, its slot is cleaned" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 3
  talk "127.0.0.1:$port" '{"action":"call","uri":"/Util/sleep","args":{"secs":3}}' >"$BATS_TEST_TMPDIR/victim" &
  local c=$!
  wait_for "a calling slot" 5 sb_has '.state == "C"'
  local pid; pid=$(sb | jq -r 'select(.state == "C") | .pid')
  kill -KILL "$pid"
  run talk "127.0.0.1:$port" "$MULT"
  jq -e '.[2] == 6' <<<"${lines[0]}"
  wait "$c" || true
  assert_equal "$(cat "$BATS_TEST_TMPDIR/victim")" EOF
  wait_for "its slot cleaned" 5 count_is 0 sb_count ".pid == $pid"
  wait_for "a replacement" 5 count_is 3 nworkers
  grep -q "worker $pid killed by signal 9 while serving" "$BATS_TEST_TMPDIR/err" \
    || fail "no warning: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "workers dying at start are respawned with back-off, not in a loop" {
  local port; port=$(free_port)
  "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path "$BATS_TEST_TMPDIR/sb" -- "$HANDLE" "$BATS_TEST_TMPDIR/nonexistent" \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  LPID=$!
  echo "$LPID" >>"$BATS_TEST_TMPDIR/pids"
  sleep 2
  local n; n=$(grep -c "unable to open ROOT" "$BATS_TEST_TMPDIR/err")
  [ "$n" -ge 2 ] || fail "not retried: $(cat "$BATS_TEST_TMPDIR/err")"
  [ "$n" -le 30 ] || fail "$n spawns in 2 s"
  [ "$(grep -c 'died before it was ready' "$BATS_TEST_TMPDIR/err")" -le 3 ] || fail "warned more than once a second"
  kill -0 "$LPID"
}

# ------------------------------------------------------------ signals

@test "TERM with requests in flight: all are answered, then exit 0" {
  local port i; port=$(free_port)
  listen -p "127.0.0.1:$port" -s "$BATS_TEST_TMPDIR/t.sock" --start-servers 3
  for i in $(seq 5); do
    # 3 s each: the pool grows from 3 workers to 5 while the first calls
    # run, which takes more than a second on a busy machine
    talk "127.0.0.1:$port" '{"action":"call","uri":"/Util/sleep","args":{"secs":3}}' >"$BATS_TEST_TMPDIR/c$i" &
    echo $! >>"$BATS_TEST_TMPDIR/clients"
  done
  wait_for "5 requests in flight" 10 count_is 5 sb_count '.state == "C"'
  kill -TERM "$LPID"
  for i in $(cat "$BATS_TEST_TMPDIR/clients"); do wait "$i"; done
  for i in $(seq 5); do
    jq -e '.[2].slept == 3' "$BATS_TEST_TMPDIR/c$i" >/dev/null || fail "client $i: $(cat "$BATS_TEST_TMPDIR/c$i")"
  done
  # not `run wait`: run forks a subshell, which cannot wait for our child
  local rc=0; wait "$LPID" || rc=$?
  assert_equal "$rc" 0
  [ ! -e "$BATS_TEST_TMPDIR/t.sock" ] || fail "socket left behind"
  run talk "127.0.0.1:$port" "$MULT"
  assert_output --partial CONNECT
}

@test "TERM closes idle keep-alive connections after their last answer" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 1
  perl -MSocket -e '$| = 1; socket(my $s, PF_INET, SOCK_STREAM, 0); connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die;
    syswrite $s, "j$ARGV[1]\r\n"; my $a = ""; sysread($s, $a, 999); print $a; print sysread($s, my $b, 999) ? "more\n" : "EOF\n"' \
    "$port" "$MULT" >"$BATS_TEST_TMPDIR/ka" &
  local c=$!
  wait_for "the first answer" 5 grep -q '\[200' "$BATS_TEST_TMPDIR/ka"
  kill -TERM "$LPID"
  wait "$c"
  # not `run wait`: run forks a subshell, which cannot wait for our child
  local rc=0; wait "$LPID" || rc=$?
  assert_equal "$rc" 0
  assert_equal "$(tail -n1 "$BATS_TEST_TMPDIR/ka")" EOF
}

@test "HUP under load: a new generation, no connection refused, no request lost" {
  local port i; port=$(free_port)
  listen -p "127.0.0.1:$port" -s "$BATS_TEST_TMPDIR/h.sock" --start-servers 3 --spare-timeout 0.5
  local old; old=$(workers)
  for i in 1 2 3 4; do
    talk --loop 3 "127.0.0.1:$port" "$MULT" >"$BATS_TEST_TMPDIR/l$i" 2>>"$BATS_TEST_TMPDIR/lerr" &
    echo $! >>"$BATS_TEST_TMPDIR/clients"
  done
  talk --loop 3 "unix:$BATS_TEST_TMPDIR/h.sock" "$MULT" "$MULT" >"$BATS_TEST_TMPDIR/l5" 2>>"$BATS_TEST_TMPDIR/lerr" &
  echo $! >>"$BATS_TEST_TMPDIR/clients"
  sleep 0.5
  kill -HUP "$LPID"
  sleep 1
  kill -HUP "$LPID"
  for i in $(cat "$BATS_TEST_TMPDIR/clients"); do wait "$i"; done
  for i in 1 2 3 4 5; do
    grep -Eq '^ok=[1-9][0-9]* fail=0$' "$BATS_TEST_TMPDIR/l$i" \
      || fail "client $i: $(cat "$BATS_TEST_TMPDIR/l$i") $(cat "$BATS_TEST_TMPDIR/lerr")"
  done
  run "$SBDUMP" -H "$BATS_TEST_TMPDIR/sb"
  jq -e '.generation == 3' <<<"$output"
  wait_for "only generation 3 left" 5 count_is 0 sb_count '.generation != 3'
  for i in $old; do ! kill -0 "$i" 2>/dev/null || fail "old worker $i still running"; done
  wait_for "the pool back to 3" 5 count_is 3 nworkers
}

# ------------------------------------------------------------ the process

@test "--name sets process titles of the listener and its workers" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 1 --name tst
  run ps -o args= -p "$LPID"
  assert_output "riap-listen [tst]"
  run ps -o args= -p "$(workers)"
  assert_output "riap-handle [tst] idle"
}

@test "--access-log-path and --error-log-path go through riap-log" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 1 \
    --access-log-path "$BATS_TEST_TMPDIR/access.log" --error-log-path "$BATS_TEST_TMPDIR/error.log"
  run talk "127.0.0.1:$port" "$MULT"
  kill -TERM "$LPID"
  wait "$LPID"
  grep -q '/Math/mult' "$BATS_TEST_TMPDIR/access.log" || fail "access log: $(cat "$BATS_TEST_TMPDIR/access.log")"
  [ -e "$BATS_TEST_TMPDIR/error.log" ]
  ! grep -q riap-access "$BATS_TEST_TMPDIR/error.log"
}

@test "--daemonize returns once serving, --pid-path names the daemon" {
  local port; port=$(free_port)
  run "$LISTEN" -p "127.0.0.1:$port" --daemonize --pid-path "$BATS_TEST_TMPDIR/pid" \
    --access-log-path "$BATS_TEST_TMPDIR/access.log" --error-log-path "$BATS_TEST_TMPDIR/error.log" \
    --scoreboard-path "$BATS_TEST_TMPDIR/sb" --start-servers 1 -- "$HANDLE" "$ROOT"
  assert_success
  local pid; pid=$(cat "$BATS_TEST_TMPDIR/pid")
  echo "$pid" >>"$BATS_TEST_TMPDIR/pids"
  kill -0 "$pid"
  run talk "127.0.0.1:$port" "$MULT"
  jq -e '.[2] == 6' <<<"${lines[0]}"
  kill -TERM "$pid"
  wait_for "the daemon to exit" 5 bash -c "! kill -0 $pid 2>/dev/null"
  [ ! -e "$BATS_TEST_TMPDIR/pid" ] || fail "pid file left behind"
  grep -q /Math/mult "$BATS_TEST_TMPDIR/access.log"
}

@test "a second listener on the same scoreboard is refused" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 1
  run "$LISTEN" -p "127.0.0.1:$(free_port)" --scoreboard-path "$BATS_TEST_TMPDIR/sb" -- "$HANDLE" "$ROOT"
  assert_equal "$status" 111
  assert_output --partial "is in use by pid $LPID"
}
