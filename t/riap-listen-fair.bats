#!/usr/bin/env bats
# riap-listen: one address cannot take the pool (doc/riap-listen.8, FAIR
# SHARE; doc/SECURITY.md; issue 14 item 5). A flood from one address
# (t/prog/riap-flood: clients that send 17 KB of a line and then a byte
# every 2 s, and clients that pipeline 2,000 requests without reading an
# answer) runs beside a normal client from another address (or another uid
# on a Unix socket), which must get every answer within a generous
# deadline: 20 calls in 10 s, where it needs well under a second alone.
# Every process a test starts is killed by its pid in teardown (--grace 1:
# the flood's pipelined calls would keep a stopping listener busy); ports
# are picked at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

FLOOD=$RIAP_BUILD/t/prog/riap-flood
SBDUMP=$RIAP_BUILD/t/prog/riap-sbdump
MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'
LO1='^127[.]0[.]0[.]1:'        # a peer label of 127.0.0.1

# The normal client: normal.pl [--from IP] ADDR N SECS makes N calls of
# /Math/mult, each on a new connection, and stops at SECS; prints one line
# "answered=A of N max_ms=M" (A: answers [200,"OK",6,...]) and exits 0
# when all N were answered in time, 1 otherwise.
# slow.pl [--from IP] ADDR SECS...: one connection per SECS, all at once,
# each calls /Util/sleep for SECS; prints "SECS elapsed=E" per answer.
setup_file() {
  export PUB; PUB=$(mktemp -d /tmp/riap-fair.XXXXXX)
  chmod 755 "$PUB"
  export ROOT=$PUB/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/Math" "$RIAP_REPO/examples/Util" "$ROOT/"
  chmod -R a+rX "$ROOT"
  export NORMAL=$PUB/normal.pl
  cat >"$NORMAL" <<'PERL'
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(time);
$SIG{PIPE} = 'IGNORE'; $| = 1;
my $from; if ($ARGV[0] eq '--from') { shift; $from = shift }
my ($addr, $n, $secs) = @ARGV;
my ($t0, $ok, $max) = (time, 0, 0);
$SIG{ALRM} = sub { die "deadline\n" };
eval {
  alarm $secs;
  for (1 .. $n) {
    my $t = time;
    my $s;
    if ($addr =~ /^unix:(.*)$/) { socket($s, PF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un($1)) or die "connect: $!\n" }
    else {
      my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
      socket($s, PF_INET, SOCK_STREAM, 0) or die;
      if ($from) { bind($s, sockaddr_in(0, inet_aton($from))) or die "bind: $!\n" }
      connect($s, sockaddr_in($p, inet_aton($h))) or die "connect: $!\n";
    }
    syswrite($s, "j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":2,\"b\":3}}\r\n");
    my $buf = '';
    while ($buf !~ /\n/) { my $k = sysread($s, $buf, 4096, length $buf); last unless $k }
    close $s;
    $ok++ if $buf =~ /^j\[200,"OK",6,/;
    my $ms = int((time - $t) * 1000);
    $max = $ms if $ms > $max;
  }
  alarm 0;
};
print "answered=$ok of $n max_ms=$max total_ms=", int((time - $t0) * 1000), "\n";
exit($ok == $n ? 0 : 1);
PERL
  export SLOW=$PUB/slow.pl
  cat >"$SLOW" <<'PERL'
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(time);
$| = 1;
my $from; if ($ARGV[0] eq '--from') { shift; $from = shift }
my ($addr, @secs) = @ARGV;
my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
my $t0 = time;
my @s;
for my $secs (@secs) {
  socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
  if ($from) { bind($s, sockaddr_in(0, inet_aton($from))) or die "bind: $!\n" }
  connect($s, sockaddr_in($p, inet_aton($h))) or die "connect: $!\n";
  syswrite($s, "j{\"action\":\"call\",\"uri\":\"/Util/sleep\",\"args\":{\"secs\":$secs}}\r\n");
  push @s, [$s, $secs, ''];
}
while (@s) {
  my $rin = ''; vec($rin, fileno($_->[0]), 1) = 1 for @s;
  select(my $rout = $rin, undef, undef, 30) or die "no answer in 30 s\n";
  for my $c (@s) {
    next unless vec($rout, fileno($c->[0]), 1);
    sysread($c->[0], $c->[2], 4096, length $c->[2]) or $c->[2] .= "EOF\n";
    if ($c->[2] =~ /\n/) { my ($l) = $c->[2] =~ /^j?(\[\d+)/; printf "%s %s elapsed=%.2f\n", $c->[1], $l // 'none', time - $t0; $c->[3] = 1 }
  }
  @s = grep { !$_->[3] } @s;
}
PERL
}

teardown_file() {
  rm -rf "$PUB"
}

teardown() {
  reap_test_pids
  rm -f "$PUB"/*.sock "$PUB"/sb.*
  return 0
}

# listen OPTS...: starts riap-listen (scoreboard in $PUB), waits until ready;
# sets LPID and SB
listen() {
  local t=$BATS_TEST_TMPDIR
  SB=$PUB/sb.$BATS_TEST_NUMBER
  "$LISTEN" --notification-fd 3 --scoreboard-path "$SB" "$@" -- "$HANDLE" "$ROOT" 3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
}

# flood OPTS... ADDR: riap-flood in the background, its report in flood.out
flood() {
  "$FLOOD" "$@" >"$BATS_TEST_TMPDIR/flood.out" 2>&1 &
  FPID=$!
  echo "$FPID" >>"$BATS_TEST_TMPDIR/pids"
}
# flood_report: stops the flood; FLOOD_OUT is its report
flood_report() {
  kill -TERM "$FPID"
  wait "$FPID" || true
  FLOOD_OUT=$(cat "$BATS_TEST_TMPDIR/flood.out")
  echo "flood: $FLOOD_OUT"
}

# busy REGEX: the number of workers reading, calling or writing for a peer
# whose label (127.0.0.1:5000, unix:pid=12,uid=0,gid=0) matches REGEX
busy() {
  "$SBDUMP" "$SB" | jq -s --arg p "$1" '[.[] | select((.state | test("[RCW]")) and (.peer | test($p)))] | length'
}
at_least_busy() { [ "$(busy "$1")" -ge "$2" ]; }
# most_busy REGEX SECS: the most workers busy for REGEX seen in SECS
most_busy() {
  local most=0 n i
  for i in $(seq $(( $2 * 10 ))); do
    n=$(busy "$1"); [ "$n" -gt "$most" ] && most=$n
    sleep 0.1
  done
  echo "$most"
}

@test "--max-clients 20: 200 slow and 100 pipelining clients from 127.0.0.1; a client from 127.0.0.2 gets 20 answers in 10 s" {
  local port most; port=$(free_port)
  listen -p "127.0.0.1:$port" --max-clients 20 --grace 1
  flood -b 127.0.0.1 -s 200 -p 100 "127.0.0.1:$port"
  # the flood holds all the workers it may (half of the pool by default)
  wait_for "the flood to hold workers" 30 at_least_busy "$LO1" 10
  run perl "$NORMAL" --from 127.0.0.2 "127.0.0.1:$port" 20 10
  echo "normal client: $output"
  assert_success
  most=$(most_busy "$LO1" 2)
  [ "$most" -le 10 ] || fail "$most workers served 127.0.0.1 at once (the cap is 10)"
  flood_report
  [[ "$FLOOD_OUT" =~ connects=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge 300 ] || fail "the flood did not run: $FLOOD_OUT"
}

@test "the defaults (150 workers, 256 connections per address): the same flood from 127.0.0.1 leaves room for 127.0.0.2" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --grace 1
  flood -b 127.0.0.1 -s 200 -p 100 "127.0.0.1:$port"
  wait_for "the flood to hold workers" 60 at_least_busy "$LO1" 75
  run perl "$NORMAL" --from 127.0.0.2 "127.0.0.1:$port" 20 10
  echo "normal client: $output"
  assert_success
  # 300 connections from one address: those past 256 were refused (503)
  run "$SBDUMP" -H "$SB"
  jq -e '.refused > 0' <<<"$output" || fail "nothing refused: $output"
  grep -q -- "--max-per-ip reached" "$BATS_TEST_TMPDIR/err"
  flood_report
  [[ "$FLOOD_OUT" =~ 503=([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -gt 0 ] || fail "no 503 seen by the flood: $FLOOD_OUT"
}

@test "Unix socket: a flood from uid 0 leaves room for uid 65534 (the cap is by peer uid)" {
  local most
  listen -s "$PUB/f.sock" --socket-mode 0666 --max-clients 20 --grace 1
  flood -s 200 -p 100 "unix:$PUB/f.sock"
  wait_for "the flood to hold workers" 30 at_least_busy "uid=0," 10
  run setpriv --reuid=nobody --regid=nogroup --clear-groups perl "$NORMAL" "unix:$PUB/f.sock" 20 10
  echo "normal client: $output"
  assert_success
  most=$(most_busy "uid=0," 2)
  [ "$most" -le 10 ] || fail "$most workers served uid 0 at once (the cap is 10)"
}

@test "--max-workers-per-ip 2: a third call from one address waits for one of its two workers; another address passes it" {
  local port t=$BATS_TEST_TMPDIR; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 4 --max-clients 6 --max-workers-per-ip 2
  perl "$SLOW" --from 127.0.0.1 "127.0.0.1:$port" 2 2 2 >"$t/slow" 2>&1 &
  echo $! >>"$t/pids"
  wait_for "two calls running" 10 at_least_busy "$LO1" 2
  # the third waits in the listener while two workers of the pool are idle
  run perl "$NORMAL" --from 127.0.0.2 "127.0.0.1:$port" 3 10
  assert_success
  [ "$(busy "$LO1")" -le 2 ] || fail "more than 2 workers for 127.0.0.1"
  wait_for "three answers" 15 bash -c "[ \$(grep -c '^2 \[200 ' '$t/slow') = 3 ]"
  cat "$t/slow"
  # two at once, then the third: it began after one of the first two ended
  awk '{ sub("elapsed=", "", $3); if ($3 > max) max = $3 } END { exit !(max >= 3.9) }' "$t/slow" \
    || fail "the third call did not wait: $(cat "$t/slow")"
}

@test "--max-workers-per-ip 0: no cap, three calls from one address run at once" {
  local port t=$BATS_TEST_TMPDIR; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 3 --max-clients 3 --max-workers-per-ip 0
  perl "$SLOW" --from 127.0.0.1 "127.0.0.1:$port" 2 2 2 >"$t/slow" 2>&1 &
  echo $! >>"$t/pids"
  wait_for "three calls running" 10 at_least_busy "$LO1" 3
}

@test "--max-workers-per-ip takes a whole number; anything else is a usage error (exit 100)" {
  run "$LISTEN" -p 127.0.0.1:1 --max-workers-per-ip two -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "--max-workers-per-ip"
  run "$LISTEN" --help
  assert_output --partial "--max-workers-per-ip"
}
