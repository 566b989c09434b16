#!/usr/bin/env bats
# riap-listen: idle keep-alive connections are parked in the listener, not
# held by a worker (doc/riap-listen.8, PARKING; riap-channel(5), PARK;
# riap-scoreboard(5), the park fields). Every process a test starts is
# killed by its pid in teardown; ports are picked at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'
META='{"action":"meta","uri":"/Math/mult"}'

# The client: one connection to ADDR (host:port or unix:/path), then the
# steps in order, printing one line per step:
#   req:JSON       send j JSON CRLF, print the answer (without j, CRLF)
#   send:TEXT      send TEXT as it is (\r \n understood), print "sent"
#   read           read one answer line, print it
#   sleep:SECS     pause
#   hup:PID:SB     HUP the listener, wait (10 s at most) until the
#                  scoreboard's generation is one more and no worker of the
#                  old one is left; print "reloaded"
#   eof:SECS       expect the server to close within SECS: print "EOF after N"
# "EOF" and exit 3 when the server closes where an answer was due.
# --many N ADDR [GO]: N connections at once, all open before any sends
# (prints "open"; then waits until the file GO exists); then each sends
# one meta request; every answer is read: prints "ok=N bad=M".
setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
  export CLIENT=$BATS_FILE_TMPDIR/client.pl
  cat >"$CLIENT" <<'PERL'
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(time sleep);
$SIG{PIPE} = 'IGNORE'; $| = 1;
sub conn {
  my ($addr) = @_;
  my $s;
  if ($addr =~ /^unix:(.*)$/) { socket($s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!"; connect($s, pack_sockaddr_un($1)) or die "connect: $!" }
  else { my ($h, $p) = $addr =~ /^(.*):(\d+)$/; socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!"; connect($s, sockaddr_in($p, inet_aton($h))) or die "connect: $!" }
  return $s;
}
sub readline_ { # one answer line or undef at EOF
  my ($s, $bufref) = @_;
  while ($$bufref !~ /\n/) { my $n = sysread($s, my $b, 65536); return undef unless $n; $$bufref .= $b }
  $$bufref =~ s/^(.*?)\n//s; my $l = $1; $l =~ s/^j//; $l =~ s/\r$//; return $l;
}
sub sb_header { open(my $f, '<', $_[0]) or return; sysread($f, my $h, 128); return unpack('x40 L', $h) }
sub sb_oldgen_left { # any non-empty slot of generation < G
  my ($path, $g) = @_;
  open(my $f, '<', $path) or return 1; local $/; my $d = <$f>;
  my $n = unpack('x20 L', $d);
  my ($hs, $ss) = unpack('x12 L L', $d);
  for my $i (0 .. $n - 1) { my ($gen, $pid, $st) = unpack('x4 L q a', substr($d, $hs + $ss * $i, 24)); return 1 if $st ne '.' && $gen < $g }
  return 0;
}
if ($ARGV[0] eq '--many') {
  my (undef, $n, $addr, $go) = @ARGV;
  my @s = map { conn($addr) } 1 .. $n;
  print "open\n";
  if ($go) { my $end = time + 30; sleep 0.02 until -e $go || time > $end }
  my $req = "j{\"action\":\"meta\",\"uri\":\"/Math/mult\"}\r\n";
  syswrite($_, $req) for @s;
  my ($ok, $bad) = (0, 0);
  for my $s (@s) { my $buf = ''; my $l = readline_($s, \$buf); if (defined $l && $l =~ /^\[200,/) { $ok++ } else { $bad++ } }
  print "ok=$ok bad=$bad\n";
  exit 0;
}
if ($ARGV[0] eq '--loop') {
  my (undef, $secs, $src, $addr) = @ARGV;
  my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
  socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
  bind($s, sockaddr_in(0, inet_aton($src))) or die "bind $src: $!";
  connect($s, sockaddr_in($p, inet_aton($h))) or die "connect: $!";
  my ($buf, $n, $end) = ('', 0, time + $secs);
  while (time < $end) {
    syswrite($s, "j{\"action\":\"meta\",\"uri\":\"/Math/mult\"}\r\n");
    my $l = readline_($s, \$buf); last unless defined $l && $l =~ /^\[200,/; $n++;
  }
  print "$n\n";
  exit 0;
}
my ($addr, @steps) = @ARGV;
my $s = conn($addr);
my $buf = '';
for my $st (@steps) {
  if ($st =~ /^req:(.*)$/s) { syswrite($s, "j$1\r\n"); my $l = readline_($s, \$buf); if (!defined $l) { print "EOF\n"; exit 3 } print "$l\n" }
  elsif ($st =~ /^send:(.*)$/s) { my $t = $1; $t =~ s/\\r/\r/g; $t =~ s/\\n/\n/g; syswrite($s, $t); print "sent\n" }
  elsif ($st eq 'read') { my $l = readline_($s, \$buf); if (!defined $l) { print "EOF\n"; exit 3 } print "$l\n" }
  elsif ($st =~ /^sleep:(.*)$/) { sleep($1) }
  elsif ($st =~ /^hup:(\d+):(.*)$/) {
    my ($pid, $sb) = ($1, $2); my $g = sb_header($sb); kill 'HUP', $pid; my $end = time + 10;
    while (time < $end) { my $now = sb_header($sb); last if $now == $g + 1 && !sb_oldgen_left($sb, $now); sleep 0.02 }
    die "reload not done\n" unless sb_header($sb) == $g + 1 && !sb_oldgen_left($sb, $g + 1);
    print "reloaded\n";
  }
  elsif ($st =~ /^eof:(.*)$/) {
    my $t0 = time; my $rin = ''; vec($rin, fileno($s), 1) = 1;
    if (select(my $rout = $rin, undef, undef, $1) && !sysread($s, my $b, 65536)) { printf "EOF after %.1f\n", time - $t0 } else { print "still open\n" }
  }
  else { die "unknown step $st\n" }
}
exit 0;
PERL
}

teardown() {
  reap_test_pids
  return 0
}

# listen OPTS... [-- CMD...]: starts riap-listen with a scoreboard, waits
# until it is ready; sets LPID, PORT, ADDR
listen() {
  local args=("$@") t=$BATS_TEST_TMPDIR
  [[ " ${args[*]} " == *" -- "* ]] || args+=(-- "$HANDLE" "$ROOT")
  PORT=$(free_port)
  ADDR=127.0.0.1:$PORT
  "$LISTEN" -p "$ADDR" --notification-fd 3 --scoreboard-path "$t/sb" "${args[@]}" 3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
}

# bg CMD...: runs a client in the background, remembered for teardown
bg() {
  "$@" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
}

# the header's park fields (riap-scoreboard(5)): "parked parks oldest_us"
park_fields() {
  perl -e 'open(my $f, "<", $ARGV[0]) or die; sysread($f, my $h, 128);
    my ($version) = unpack("x8 L", $h); die "version $version\n" unless $version == 2;
    print join(" ", unpack("x112 L L q", $h)), "\n"' "$BATS_TEST_TMPDIR/sb"
}
parked() { park_fields | cut -d' ' -f1; }
parked_is() { [ "$(parked)" = "$1" ]; }
parked_at_least() { [ "$(parked)" -ge "$1" ]; }

# slots in a state (the slot's state byte at offset 16)
busy_workers() {
  perl -e 'open(my $f, "<", $ARGV[0]) or die; local $/; my $d = <$f>; my $n = unpack("x20 L", $d), my $c = 0;
    my ($hs, $ss) = unpack("x12 L L", $d);
    for my $i (0 .. $n - 1) { my $st = substr($d, $hs + $ss * $i + 16, 1); $c++ if $st =~ /[RCW]/ } print "$c\n"' "$BATS_TEST_TMPDIR/sb"
}

# pids of the access records in the log stream
served_by() { sed -n 's/^%riap-access 1 .* pid=\([0-9]*\) .*/\1/p' "$BATS_TEST_TMPDIR/out"; }

@test "1,000 idle connections on --start-servers 3 --max-clients 3: held, then each request answered" {
  ulimit -n 4096 || skip "cannot raise the fd limit"
  # all from 127.0.0.1: past the default --max-per-ip (256), which this is not about
  listen --start-servers 3 --max-clients 3 --max-per-ip 0
  bg perl "$CLIENT" --many 1000 "$ADDR" "$BATS_TEST_TMPDIR/go" >"$BATS_TEST_TMPDIR/many"
  local c; c=$(tail -n1 "$BATS_TEST_TMPDIR/pids")
  wait_for "1000 connections parked" 10 parked_is 1000
  assert_equal "$(busy_workers)" 0
  touch "$BATS_TEST_TMPDIR/go"
  wait_for "1000 answers" 30 grep -q '^ok=' "$BATS_TEST_TMPDIR/many"
  wait "$c"
  assert_equal "$(tail -n1 "$BATS_TEST_TMPDIR/many")" "ok=1000 bad=0"
  # never more than 3 workers
  [ "$(served_by | sort -u | wc -l)" -le 3 ] || fail "more than 3 workers served"
}

@test "idle connections are parked in the listener: the scoreboard counts them, workers stay free" {
  ulimit -n 4096 || skip "cannot raise the fd limit"
  listen --start-servers 1 --max-clients 1
  # 200 connections open and silent, one after a request
  bg perl -MSocket -e 'my @s; for (1 .. 200) { socket(my $s, PF_INET, SOCK_STREAM, 0) or die; connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die; push @s, $s } sleep 30' "$PORT"
  bg perl "$CLIENT" "$ADDR" "req:$MULT" sleep:30 >"$BATS_TEST_TMPDIR/c1"
  wait_for "201 parked" 10 parked_is 201
  assert_equal "$(busy_workers)" 0
  # the one worker is free for anyone
  run perl "$CLIENT" "$ADDR" "req:$MULT"
  assert_success
  assert_output '[200,"OK",6,{"riap.v":1.1}]'
  # the oldest parked connection's age grows
  local f now; f=($(park_fields)); now=$(date +%s%6N)
  [ "${f[2]}" -gt 0 ] && [ "${f[2]}" -le "$now" ] || fail "oldest park time ${f[2]} vs now $now"
  [ "${f[1]}" -ge 1 ] || fail "no hand-back counted: ${f[*]}"
}

@test "a connection survives 5 worker recycles and a HUP reload, one request between each" {
  listen --start-servers 1 --max-requests-per-child 1
  local sb=$BATS_TEST_TMPDIR/sb
  run perl "$CLIENT" "$ADDR" "req:$MULT" "req:$MULT" "req:$MULT" "req:$MULT" "req:$MULT" "req:$MULT" \
    "hup:$LPID:$sb" "req:$MULT" "req:$MULT"
  assert_success
  assert_equal "${#lines[@]}" 9
  refute_output --partial EOF
  assert_equal "$(grep -c '^\[200,"OK",6,' <<<"$output")" 8
  # one worker per request (the limit is 1): 8 different pids
  assert_equal "$(served_by | sort -u | wc -l)" 8
}

@test "HUP while a worker holds the idle connection: it is handed back and goes on with the new generation" {
  listen --start-servers 1 --park-delay 600
  local sb=$BATS_TEST_TMPDIR/sb
  run perl "$CLIENT" "$ADDR" "req:$MULT" "hup:$LPID:$sb" "req:$MULT" "hup:$LPID:$sb" "req:$MULT"
  assert_success
  refute_output --partial EOF
  assert_equal "$(grep -c '^\[200,"OK",6,' <<<"$output")" 3
  assert_equal "$(served_by | sort -u | wc -l)" 3
}

@test "half a request line, then silence: closed with 408 after the timeout, never holding the worker" {
  listen --start-servers 0 -- "$HANDLE" --timeout 1 "$ROOT"
  bg perl "$CLIENT" "$ADDR" 'send:j{"action":"call","uri":"/Ma' read eof:5 >"$BATS_TEST_TMPDIR/half"
  wait_for "the half request parked" 5 parked_is 1
  # the only worker serves others meanwhile
  run perl "$CLIENT" "$ADDR" "req:$MULT" "req:$MULT"
  assert_success
  assert_equal "${#lines[@]}" 2
  wait_for "the 408" 5 grep -q EOF "$BATS_TEST_TMPDIR/half"
  run cat "$BATS_TEST_TMPDIR/half"
  assert_line --index 0 sent
  assert_line --index 1 --partial '[408,"Timeout reading request"'
  assert_line --index 2 --partial 'EOF after'
  grep -q 'status=408' "$BATS_TEST_TMPDIR/out" || fail "no access record for the 408"
  wait_for "nothing parked" 5 parked_is 0
}

@test "a request split across a park: the bytes already read go along and the rest completes it" {
  listen --start-servers 0 --park-delay 0.01
  run perl "$CLIENT" "$ADDR" 'send:j{"action":"call","uri":"/Ma' sleep:0.3 \
    'send:th/mult","args":{"a":6,"b":7}}\r\nj{"action":"call","uri":"/Math/mult","args":{"a":1,' sleep:0.3 \
    'send:"b":5}}\r\n' read read "req:$MULT"
  assert_success
  assert_line --index 3 '[200,"OK",42,{"riap.v":1.1}]'
  assert_line --index 4 '[200,"OK",5,{"riap.v":1.1}]'
  assert_line --index 5 '[200,"OK",6,{"riap.v":1.1}]'
}

@test "a busy connection is not handed back between its requests" {
  listen --start-servers 1
  local before; before=$(park_fields | cut -d' ' -f2)
  local steps=() i
  for i in $(seq 300); do steps+=("req:$META"); done
  run perl "$CLIENT" "$ADDR" "${steps[@]}"
  assert_success
  assert_equal "$(grep -c '^\[200,' <<<"$output")" 300
  local after; after=$(park_fields | cut -d' ' -f2)
  [ $((after - before)) -le 3 ] || fail "handed back $((after - before)) times in 300 requests"
}

# hand-backs while 6 busy clients (127.0.0.1-6) share 2 workers for 2 s,
# each client's answers in $BATS_TEST_TMPDIR/loop.N
turns() {
  local before i pids=()
  before=$(park_fields | cut -d' ' -f2)
  for i in 1 2 3 4 5 6; do
    perl "$CLIENT" --loop 2 "127.0.0.$i" "$ADDR" >"$BATS_TEST_TMPDIR/loop.$i" &
    pids+=($!)
    echo $! >>"$BATS_TEST_TMPDIR/pids"
  done
  wait "${pids[@]}"
  echo $(( $(park_fields | cut -d' ' -f2) - before ))
}

@test "connections waiting: a busy one keeps its worker for --time-slice, then takes turns" {
  # --park-delay 1: six clients on two CPUs may pause a few ms between
  # requests, and a worker would then park an idle connection anyway; and
  # no recycling (it hands the connection back too)
  listen --start-servers 2 --max-clients 2 --time-slice 0.25 --park-delay 1 --max-requests-per-child 0
  local backs i
  backs=$(turns)
  for i in 1 2 3 4 5 6; do
    [ "$(cat "$BATS_TEST_TMPDIR/loop.$i")" -gt 0 ] || fail "client 127.0.0.$i got no answer in 2 s"
  done
  # 2 workers, a turn each 0.25 s for 2 s: 16, and a little slack
  [ "$backs" -le 30 ] || fail "$backs hand-backs with --time-slice 0.25; answers: $(cat "$BATS_TEST_TMPDIR"/loop.* | tr '\n' ' ')"
  [ "$backs" -ge 4 ] || fail "only $backs hand-backs: the 6 clients did not take turns"
}

@test "--time-slice 0: a busy connection goes back after every answer while others wait" {
  listen --start-servers 2 --max-clients 2 --time-slice 0 --park-delay 1 --max-requests-per-child 0
  local backs
  backs=$(turns)
  [ "$backs" -ge 200 ] || fail "only $backs hand-backs with --time-slice 0"
}

@test "--time-slice: bad values are usage errors" {
  run "$LISTEN" -p "127.0.0.1:$(free_port)" --time-slice -1 -- "$HANDLE" "$ROOT"
  assert_failure 100
  assert_output --partial "--time-slice"
}

@test "an idle parked connection is closed after the timeout, and EOF from a parked client frees it" {
  listen --start-servers 1 -- "$HANDLE" --timeout 1 "$ROOT"
  run perl "$CLIENT" "$ADDR" "req:$MULT" eof:5
  assert_success
  assert_line --index 1 --regexp '^EOF after (0\.9|1\.|2\.)'
  perl "$CLIENT" "$ADDR" "req:$MULT" sleep:0.3
  wait_for "nothing parked" 5 parked_is 0
}

@test "--idle-timeout 0: a parked connection outlives --timeout (a Perl client's cached one stays usable)" {
  listen --start-servers 1 --timeout 1 --idle-timeout 0
  run perl "$CLIENT" "$ADDR" "req:$MULT" eof:2.5 "req:$MULT"
  assert_success
  assert_line --index 1 'still open'
  assert_line --index 2 --partial '[200,"OK",6'
  # --timeout still bounds the rest of a begun request
  run perl "$CLIENT" "$ADDR" 'send:j{"action":' read
  assert_line --index 1 --partial '[408,'
}

@test "--idle-timeout SECS closes idle connections sooner than --timeout; riap-handle --idle-timeout on the worker command wins" {
  listen --start-servers 1 --timeout 30 --idle-timeout 0.5
  run perl "$CLIENT" "$ADDR" "req:$MULT" eof:5
  assert_line --index 1 --regexp '^EOF after (0\.[4-9]|1\.|2\.)'
  kill -TERM "$LPID"; wait "$LPID" || true
  listen --start-servers 1 --idle-timeout 30 -- "$HANDLE" --idle-timeout 0.5 "$ROOT"
  run perl "$CLIENT" "$ADDR" "req:$MULT" eof:5
  assert_line --index 1 --regexp '^EOF after (0\.[4-9]|1\.|2\.)'
}

@test "--idle-timeout: bad values are usage errors" {
  run "$LISTEN" -p "127.0.0.1:$(free_port)" --idle-timeout -1 -- "$HANDLE" "$ROOT"
  assert_failure 100
  assert_output --partial "idle-timeout"
  run "$HANDLE" --idle-timeout x "$ROOT"
  assert_failure 100
  assert_output --partial "idle-timeout"
}

@test "at the fd limit the longest idle parked connection makes room for a new client" {
  ulimit -n 120 || skip "cannot set the fd limit"
  # 120 fds, 64 + 3 slots + 1 socket kept in reserve: 52 connections held
  listen --start-servers 1 --max-clients 2
  bg perl "$CLIENT" --many 60 "$ADDR" "$BATS_TEST_TMPDIR/never" >"$BATS_TEST_TMPDIR/many"
  wait_for "60 connected" 10 grep -q open "$BATS_TEST_TMPDIR/many"
  wait_for "52 parked" 10 parked_is 52
  run perl "$CLIENT" "$ADDR" "req:$MULT"
  assert_success
  assert_output '[200,"OK",6,{"riap.v":1.1}]'
  grep -q "closing the longest idle" "$BATS_TEST_TMPDIR/err" || fail "no warning: $(cat "$BATS_TEST_TMPDIR/err")"
  kill -0 "$LPID"
}

@test "--no-park: a worker keeps its idle connection, nothing is parked" {
  listen --start-servers 1 --no-park
  bg perl "$CLIENT" "$ADDR" "req:$MULT" sleep:30 >"$BATS_TEST_TMPDIR/c1"
  wait_for "the answer" 5 grep -q 200 "$BATS_TEST_TMPDIR/c1"
  sleep 0.2
  assert_equal "$(parked)" 0
  assert_equal "$(busy_workers)" 1
}

@test "TERM closes parked connections, then exits 0" {
  listen --start-servers 1
  bg perl "$CLIENT" "$ADDR" "req:$MULT" eof:10 >"$BATS_TEST_TMPDIR/idle"
  wait_for "one parked" 5 parked_is 1
  kill -TERM "$LPID"
  wait_for "EOF on the idle one" 5 grep -q 'EOF after' "$BATS_TEST_TMPDIR/idle"
  # not `run wait`: run forks a subshell, which cannot wait for our child
  local rc=0; wait "$LPID" || rc=$?
  assert_equal "$rc" 0
}
