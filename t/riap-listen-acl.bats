#!/usr/bin/env bats
# riap-listen access control, limits and privileges (doc/riap-listen.8,
# ACCESS CONTROL; doc/SECURITY.md): --allow-uid/--allow-gid, --allow/--deny,
# --max-per-ip, --max-conns, --user/--group/--allow-root/--drop-listener,
# --read-timeout, --write-timeout, and --daemonize closing inherited fds.
# Each rule from the refused side and the allowed side. Every process a test
# starts is killed by its pid in teardown; ports are picked at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
# workers run as nobody in some tests: they exec a copy of riap-handle in
# $PUB, since the checkout may sit where nobody cannot enter (mktemp -d, ~root)
[ -n "${PUB:-}" ] && HANDLE=$PUB/bin/riap-handle

MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'
BIG='{"action":"call","uri":"/Big/out"}'
FORBIDDEN='[403,"Forbidden",null,{"riap.v":1.1}]'
TOO_MANY='[503,"Too many connections",null,{"riap.v":1.1}]'

# The client: client.pl [--from IP] [--rcvbuf N] ADDR STEP...; ADDR is
# host:port, [v6]:port or unix:/path; steps, one output line each:
#   req:JSON   send j JSON CRLF, print the answer without j and CRLF
#   send:TEXT  send TEXT as it is (\r \n understood), print "sent"
#   read       print the next answer line
#   size       read one answer however long, print "bytes=N"
#   sleep:S    pause S seconds
# "EOF" (exit 3) when the server closes where an answer was due.
setup_file() {
  # a world-readable place: workers run as nobody in some tests
  export PUB; PUB=$(mktemp -d /tmp/riap-acl.XXXXXX)
  chmod 755 "$PUB"
  export ROOT=$PUB/root
  mkdir -p "$ROOT/Big"
  cp -a "$RIAP_REPO/examples/Math" "$ROOT/"
  cat >"$ROOT/Big/out" <<'SH'
#!/bin/sh
cat >/dev/null
printf '[200,"OK","'
head -c 8000000 /dev/zero | tr '\0' x
printf '"]\n'
SH
  chmod 755 "$ROOT/Big/out"
  echo '{"v":1.1,"summary":"An 8 MB string","args":{}}' >"$ROOT/Big/out.meta.json"
  chmod -R a+rX "$ROOT"
  mkdir -p "$PUB/bin"
  cp "$HANDLE" "$PUB/bin/riap-handle"
  export CLIENT=$PUB/client.pl
  cat >"$CLIENT" <<'PERL'
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(sleep);
$SIG{PIPE} = 'IGNORE'; $| = 1;
my ($from, $rcvbuf);
while (@ARGV && $ARGV[0] =~ /^--/) {
  my $o = shift; if ($o eq '--from') { $from = shift } elsif ($o eq '--rcvbuf') { $rcvbuf = shift }
}
my ($addr, @steps) = @ARGV;
my $s;
if ($addr =~ /^unix:(.*)$/) { socket($s, PF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un($1)) or do { print "CONNECT: $!\n"; exit 4 } }
elsif ($addr =~ /^\[(.*)\]:(\d+)$/) { my ($h, $p) = ($1, $2); socket($s, PF_INET6, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_in6($p, inet_pton(AF_INET6, $h))) or do { print "CONNECT: $!\n"; exit 4 } }
else {
  my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
  socket($s, PF_INET, SOCK_STREAM, 0) or die;
  setsockopt($s, SOL_SOCKET, SO_RCVBUF, pack('i', $rcvbuf)) if $rcvbuf;
  if ($from) { bind($s, sockaddr_in(0, inet_aton($from))) or die "bind: $!" }
  connect($s, sockaddr_in($p, inet_aton($h))) or do { print "CONNECT: $!\n"; exit 4 };
}
my $buf = '';
sub line { while ($buf !~ /\n/) { my $n = sysread($s, my $b, 65536); if (!$n) { print "EOF\n"; exit 3 } $buf .= $b }
  $buf =~ s/^(.*?)\n//s; my $l = $1; $l =~ s/^j//; $l =~ s/\r$//; return $l }
for my $st (@steps) {
  if ($st =~ /^req:(.*)$/s) { syswrite($s, "j$1\r\n"); print line(), "\n" }
  elsif ($st =~ /^send:(.*)$/s) { my $t = $1; $t =~ s/\\r/\r/g; $t =~ s/\\n/\n/g; syswrite($s, $t); print "sent\n" }
  elsif ($st eq 'read') { print line(), "\n" }
  elsif ($st eq 'size') { my $n = length $buf; my $last = $buf; while ($last !~ /\n\z/) { my $k = sysread($s, $last, 1 << 20); last unless $k; $n += $k } print "bytes=$n\n" }
  elsif ($st =~ /^sleep:(.*)$/) { sleep $1 }
}
exit 0;
PERL
  chmod 644 "$CLIENT"
}

teardown_file() {
  rm -rf "$PUB"
}

teardown() {
  reap_test_pids
  rm -f "$PUB"/*.sock "$PUB"/sb.* "$PUB"/pid.*
  return 0
}

# listen OPTS... -- starts riap-listen (scoreboard in $PUB), waits until
# ready; sets LPID. The worker command is riap-handle ROOT unless OPTS hold a --.
listen() {
  local args=("$@") t=$BATS_TEST_TMPDIR
  [[ " ${args[*]} " == *" -- "* ]] || args+=(-- "$HANDLE" "$ROOT")
  rm -f "$t/ready"
  SB=$PUB/sb.$BATS_TEST_NUMBER
  "$LISTEN" --notification-fd 3 --scoreboard-path "$SB" "${args[@]}" 3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
}

talk() { perl "$CLIENT" "$@"; }
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }

# hold ADDR [OPTS]: a client that gets one answer and keeps its connection
# open (parked in the listener) until killed; waits for the answer
hold() {
  local n=$BATS_TEST_TMPDIR/hold.$RANDOM
  perl "$CLIENT" "$@" "req:$MULT" sleep:60 >"$n" 2>&1 &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  HELD=$!
  wait_for "a held connection" 5 grep -q . "$n"
  grep -q '^\[200,' "$n" || fail "held connection not served: $(cat "$n")"
}
drop_held() { kill "$1"; wait "$1" 2>/dev/null || true; }
served() { talk "$@" "req:$MULT" | grep -q '^\[200,'; }

uid_of() { awk '/^Uid:/ { print $2 }' "/proc/$1/status"; }

# ------------------------------------------------------------ Unix sockets

@test "--allow-uid: another user gets 403 and is closed, the allowed user is served" {
  listen -s "$PUB/a.sock" --socket-mode 0666 --allow-uid root
  run as_nobody perl "$CLIENT" "unix:$PUB/a.sock" "req:$MULT" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
  assert_equal "${lines[1]}" "EOF"
  run talk "unix:$PUB/a.sock" "req:$MULT"
  assert_success
  assert_output --partial '[200,"OK",6'
  grep -q "refused unix:pid=[0-9]*,uid=65534,.*--allow-uid" "$BATS_TEST_TMPDIR/err"
}

@test "--allow-uid by name and --allow-gid: nobody allowed by name, by group; root then refused" {
  listen -s "$PUB/b.sock" --socket-mode 0666 --allow-uid nobody
  run as_nobody perl "$CLIENT" "unix:$PUB/b.sock" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  run talk "unix:$PUB/b.sock" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
  kill "$LPID"; wait "$LPID" || true
  listen -s "$PUB/c.sock" --socket-mode 0666 --allow-gid nogroup
  run as_nobody perl "$CLIENT" "unix:$PUB/c.sock" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  run talk "unix:$PUB/c.sock" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
}

@test "an unknown user in --allow-uid is a usage error (exit 100)" {
  run "$LISTEN" -s "$PUB/d.sock" --allow-uid no-such-user-here -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "no-such-user-here"
}

# ------------------------------------------------------------ TCP rules

@test "--deny 127.0.0.2: that source gets 403, 127.0.0.1 is served" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --deny 127.0.0.2
  run talk --from 127.0.0.2 "127.0.0.1:$port" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
  run talk --from 127.0.0.1 "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  grep -q "refused 127.0.0.2:[0-9]*: address not allowed" "$BATS_TEST_TMPDIR/err"
}

@test "--allow 127.0.0.1/32: only that source is served; deny wins over allow" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --allow 127.0.0.1/32,10.0.0.0/8 --deny 10.1.0.0/16
  run talk --from 127.0.0.2 "127.0.0.1:$port" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
  run talk --from 127.0.0.1 "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  kill "$LPID"; wait "$LPID" || true
  listen -p "127.0.0.1:$port" --allow 127.0.0.0/8 --deny 127.0.0.1
  run talk --from 127.0.0.1 "127.0.0.1:$port" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
  run talk --from 127.0.0.2 "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
}

@test "IPv6: --deny ::1 refuses [::1], --allow ::1/128 serves it" {
  local port; port=$(free_port)
  listen -p "[::1]:$port" --deny ::1
  run talk "[::1]:$port" "req:$MULT"
  assert_equal "${lines[0]}" "$FORBIDDEN"
  kill "$LPID"; wait "$LPID" || true
  listen -p "[::1]:$port" --allow ::1/128 --deny 127.0.0.0/8
  run talk "[::1]:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
}

@test "a bad CIDR block is a usage error naming it (exit 100)" {
  run "$LISTEN" -p 127.0.0.1:1 --allow 127.0.0.1/8 -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "127.0.0.1/8"
  run "$LISTEN" -p 127.0.0.1:1 --deny example.com -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "example.com"
}

# ------------------------------------------------------------ limits

@test "--max-per-ip 2: a third connection from one address gets 503, another address and a freed slot are served" {
  local port h1 h2; port=$(free_port)
  listen -p "127.0.0.1:$port" --max-per-ip 2
  hold --from 127.0.0.1 "127.0.0.1:$port"; h1=$HELD
  hold --from 127.0.0.1 "127.0.0.1:$port"; h2=$HELD
  run talk --from 127.0.0.1 "127.0.0.1:$port" "req:$MULT"
  assert_equal "${lines[0]}" "$TOO_MANY"
  run talk --from 127.0.0.2 "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  drop_held "$h1"
  wait_for "a slot freed" 5 served --from 127.0.0.1 "127.0.0.1:$port"
  grep -q -- "--max-per-ip reached" "$BATS_TEST_TMPDIR/err"
  drop_held "$h2"
}

@test "--max-conns 2 counts parked connections of all sockets: the third gets 503 until one closes" {
  local port h1 h2; port=$(free_port)
  listen -p "127.0.0.1:$port" -s "$PUB/e.sock" --max-conns 2
  hold "unix:$PUB/e.sock"; h1=$HELD
  hold --from 127.0.0.2 "127.0.0.1:$port"; h2=$HELD
  run talk --from 127.0.0.3 "127.0.0.1:$port" "req:$MULT"
  assert_equal "${lines[0]}" "$TOO_MANY"
  run talk "unix:$PUB/e.sock" "req:$MULT"
  assert_equal "${lines[0]}" "$TOO_MANY"
  # the scoreboard counts them (riap-scoreboard(5): refused, accepted)
  run "$RIAP_BUILD/t/prog/riap-sbdump" -H "$SB"
  jq -e '.refused == 2 and .accepted == 2' <<<"$output" || fail "$output"
  drop_held "$h1"
  wait_for "a slot freed" 5 served --from 127.0.0.3 "127.0.0.1:$port"
  drop_held "$h2"
}

# ------------------------------------------------------------ privileges

@test "--user nobody: workers run as nobody, the listener stays root, calls work" {
  local port w; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 2 --user nobody
  run talk "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  for w in $(pgrep -P "$LPID" -f riap-handle); do
    assert_equal "$(uid_of "$w")" 65534
  done
  [ -n "$(pgrep -P "$LPID" -f riap-handle)" ]
  assert_equal "$(uid_of "$LPID")" 0
}

@test "--drop-listener: the listener too runs as --user once bound" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --user nobody --drop-listener
  assert_equal "$(uid_of "$LPID")" 65534
  run talk "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
}

@test "as root without --user, riap-listen refuses (exit 100) unless --allow-root or RIAP_ALLOW_ROOT=1" {
  port=$(free_port)
  RIAP_ALLOW_ROOT= run "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path 0 -- "$HANDLE" "$ROOT"
  assert_failure 100
  assert_output --partial "refusing to run workers"
  assert_output --partial "--allow-root"
  listen -p "127.0.0.1:$port" --allow-root
}

@test "--user root is refused without --allow-root (exit 100), runs with it" {
  local port; port=$(free_port)
  run "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path 0 --user root -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "refusing to run workers as root"
  assert_output --partial "--allow-root"
  listen -p "127.0.0.1:$port" --user root --allow-root
  run talk "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
}

# ------------------------------------------------------------ slow clients

@test "--read-timeout: half a line then silence gets 408 after it, well before --timeout" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --read-timeout 1 --timeout 30
  SECONDS=0
  run talk "127.0.0.1:$port" 'send:j{"action":"call",' read
  assert_equal "${lines[1]}" '[408,"Timeout reading request",null,{"riap.v":1.1}]'
  [ "$SECONDS" -lt 5 ]
}

@test "--read-timeout: a line trickled byte by byte still times out; one completed in time is served" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --read-timeout 1 --timeout 30
  run talk "127.0.0.1:$port" send:j sleep:0.4 send:'{"act' sleep:0.4 send:'ion":' sleep:0.4 send:'"call"' read
  assert_output --partial '[408,"Timeout reading request"'
  run talk "127.0.0.1:$port" 'send:j{"action":"call","uri":' sleep:0.5 'send:"/Math/mult","args":{"a":2,"b":3}}\r\n' read
  assert_output --partial '[200,"OK",6'
}

@test "riap-handle --read-timeout in pipe mode: 408 for half a line" {
  # without it the partial line would be answered at EOF (400), not 408
  run bash -c "(printf 'j{\"action\":'; sleep 1) | '$HANDLE' --read-timeout 0.3 --timeout 30 '$ROOT' 2>/dev/null"
  assert_output --partial '[408,"Timeout reading request"'
}

@test "--write-timeout: a client that never reads a large answer is closed and frees its worker; a reader gets it all" {
  local port; port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 0 --write-timeout 1
  perl "$CLIENT" --rcvbuf 4096 "127.0.0.1:$port" "send:j$BIG\r\n" sleep:30 >/dev/null 2>&1 &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the write timeout" 10 grep -q "did not drain within --write-timeout" "$BATS_TEST_TMPDIR/err"
  run talk "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
  run talk "127.0.0.1:$port" "send:j$BIG\r\n" size
  [[ "$output" =~ bytes=80000[0-9][0-9] ]] || fail "short answer: $output"
}

# ------------------------------------------------------------ daemon

@test "--daemonize keeps no inherited fd: \$(riap-listen --daemonize) returns, daemon and riap-log hold no stray fd" {
  local port t=$BATS_TEST_TMPDIR pid p; port=$(free_port)
  ( out=$("$LISTEN" -p "127.0.0.1:$port" --daemonize --pid-path "$PUB/pid.$BATS_TEST_NUMBER" \
      --access-log-path "$t/access.log" --error-log-path "$t/error.log" --scoreboard-path 0 \
      --start-servers 1 -- "$HANDLE" "$ROOT" 7>"$t/marker" 8>&1); echo "returned $?" >"$t/done" ) &
  wait_for "the pid file" 10 test -s "$PUB/pid.$BATS_TEST_NUMBER"
  pid=$(cat "$PUB/pid.$BATS_TEST_NUMBER")
  echo "$pid" >>"$t/pids"
  wait_for "\$(...) to return" 5 test -s "$t/done"
  assert_equal "$(cat "$t/done")" "returned 0"
  for p in $pid $(pgrep -P "$pid"); do
    if ls -l "/proc/$p/fd" | grep -q "$t/marker"; then fail "pid $p holds the inherited fd"; fi
  done
  run talk "127.0.0.1:$port" "req:$MULT"
  assert_output --partial '[200,"OK",6'
}
