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

# The flood: N connections to ADDR at once, every EVERY-th sends a whole
# meta request, the others half of one; all are held until the file GO
# exists (60 s at most), then closed; prints "open=N".
# The client: one meta request on a new connection; prints the answer
# line, "EOF" when the server closed without one (exit 3).
setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
  export FLOOD=$BATS_FILE_TMPDIR/flood.pl CLIENT=$BATS_FILE_TMPDIR/client.pl
  cat >"$FLOOD" <<'PERL'
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(time sleep);
$SIG{PIPE} = 'IGNORE'; $| = 1;
my ($n, $addr, $every, $go) = @ARGV;
my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
my @s;
for my $i (1 .. $n) {
  socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
  connect($s, sockaddr_in($p, inet_aton($h))) or die "connect: $!";
  syswrite($s, $i % $every ? 'j{"action":"meta",' : qq(j{"action":"meta","uri":"/Math/mult"}\r\n));
  push @s, $s;
}
print "open=", scalar(@s), "\n";
my $end = time + 60;
sleep 0.05 until -e $go || time > $end;
close $_ for @s;
PERL
  cat >"$CLIENT" <<'PERL'
use strict; use warnings; use Socket qw(:all);
$SIG{PIPE} = 'IGNORE'; $SIG{ALRM} = sub { print "TIMEOUT\n"; exit 4 }; alarm 20;
my ($h, $p) = $ARGV[0] =~ /^(.*):(\d+)$/;
socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
connect($s, sockaddr_in($p, inet_aton($h))) or die "connect: $!";
syswrite($s, qq(j{"action":"meta","uri":"/Math/mult"}\r\n));
my $line = '';
while ($line !~ /\n/) { my $r = sysread($s, my $b, 65536); if (!$r) { print "EOF\n"; exit 3 } $line .= $b }
print $line;
PERL
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

workers() { pgrep -P "$LPID" | sort; }
ask() { perl "$CLIENT" "$ADDR"; }
answered() { ask | grep -q '^j\[200,'; }

@test "at the fd limit (prlimit --nofile=256) a flood of 1000 connections kills no worker; the fd that could not be received is logged" {
  local t=$BATS_TEST_TMPDIR
  # workers hold half-read requests for 1 s (--park-delay 1), then hand
  # them back all at once: more fds than the listener has left
  # all from 127.0.0.1: without the per-address limits (FAIR SHARE), as a
  # flood from many addresses would be
  listen prlimit --nofile=256 "$LISTEN" --park-delay 1 --spare-timeout 3600 --max-requests-per-child 0 \
    --max-per-ip 0 --max-workers-per-ip 0
  local before; before=$(workers)
  perl "$FLOOD" 1000 "$ADDR" 3 "$t/go" >"$t/flood" 2>&1 &
  echo $! >>"$t/pids"
  wait_for "a truncated fd logged" 90 grep -q 'could not be received (MSG_CTRUNC)' "$t/err"
  touch "$t/go"
  wait_for "the flood closed" 60 grep -q '^open=1000$' "$t/flood"
  run grep -E 'malformed|unexpected control|killing it|killed by signal' "$t/err"
  assert_failure
  local pid
  for pid in $before; do kill -0 "$pid" || fail "worker $pid is gone: $(cat "$t/err")"; done
  wait_for "a normal request answered" 60 answered
  kill -0 "$LPID"
  # counted in the scoreboard too (riap-scoreboard(5), fds_lost at 196)
  local lost; lost=$(perl -e 'open(my $f, "<", $ARGV[0]) or die; sysread($f, my $h, 256); print unpack("x196 L", $h)' "$t/sb")
  [ "$lost" -gt 0 ] || fail "fds_lost in the scoreboard: $lost"
}

@test "a worker at its fd limit drops the connection it could not receive, says so, and goes on" {
  local t=$BATS_TEST_TMPDIR
  listen "$LISTEN" --start-servers 1 --max-clients 1
  local w; w=$(workers)
  [ "$(wc -w <<<"$w")" -eq 1 ]
  local idle_fds; idle_fds=$(ls "/proc/$w/fd" | wc -l)
  answered
  # the answered connection closed (the answer can arrive first), else a
  # limit taken while it is open leaves room for the next
  wait_for "the worker's connection closed" 10 bash -c "[ \$(ls /proc/$w/fd | wc -l) -le $idle_fds ]"
  # its limit at its lowest free fd: no fd can be added
  local free=0 soft
  while [ -e "/proc/$w/fd/$free" ]; do free=$((free + 1)); done
  soft=$(prlimit --pid "$w" --nofile --output SOFT --noheadings)
  prlimit --pid "$w" --nofile="$free:"
  run ask
  assert_output EOF
  wait_for "the lost connection logged" 10 grep -q 'riap-handle: warning: .*passed by the listener could not be received (MSG_CTRUNC)' "$t/err"
  prlimit --pid "$w" --nofile="$soft:"
  run ask
  assert_output --partial 'j[200,'
  assert_equal "$(workers)" "$w"
  run grep -E 'malformed|fatal' "$t/err"
  assert_failure
}
