# t/helper.bash: shared by the bats files that talk Riap::Simple to riap-handle.
#
# The transport comes from the test file's name: protocol.bats runs
# riap-handle in pipe mode (one process per connection, stdin/stdout pipes),
# protocol-unix.bats behind s6-ipcserver on a Unix socket, protocol-tcp.bats
# behind tcpserver on 127.0.0.1 (the two are symlinks to protocol.bats).
#
# Every file serves one ROOT: a temporary copy of examples/ plus t/tree/, with
# symlinks out of ROOT added in the copy. Two servers per transport:
#   default  riap-handle ROOT
#   tight    riap-handle --timeout 1 --call-timeout 1 --max-line 4096
#                        --max-output 4096 ROOT
#
# Talking: riap_talk [-t] STEP... opens one connection (-t: to the tight
# server) and runs the steps in order while reading everything the server
# sends:
#   s:BYTES  send BYTES          p:SECS  pause
#   f:FILE   send FILE's bytes (for what is too big for an argument)
#   w:N      wait until N response lines have arrived (at most 5 s)
#   shut     half-close (EOF on the server's stdin)
#   r:SECS   once the steps are done, read at most SECS more (default 10)
# The connection ends when the server closes it or r: runs out. Afterwards:
#   RESP[i]  response i without its leading j and its CRLF, for jq
#   R_EOF    1 when the server closed the connection, 0 when r: ran out
#   R_ELAPSED seconds from connecting to the close (or to giving up)
#   R_FRAMING number of response lines not of the form j...CRLF
#   R_EXIT   pipe mode: riap-handle's exit status (-SIG when killed)
#   $BATS_TEST_TMPDIR/raw     the raw bytes received
#   $BATS_TEST_TMPDIR/stderr  riap-handle's stderr (pipe mode)
# rq [-t] JSON... sends one request line per JSON, half-closes, reads all.
# RIAP_HANDLE_OPTS: more options for riap-handle (pipe mode only).
# check N JQ-FILTER asserts that jq -e FILTER holds on RESP[N]; check_all
# FILTER that it holds on the array of all responses.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

RIAP_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
RIAP_BUILD=${RIAP_BUILD:-$RIAP_REPO/build}
# RIAP_HANDLE=build/asan/bin/riap-handle runs the suite on the sanitizer build.
RIAP_HANDLE=${RIAP_HANDLE:-$RIAP_BUILD/bin/riap-handle}
case $RIAP_HANDLE in /*) ;; *) RIAP_HANDLE=$PWD/$RIAP_HANDLE ;; esac
RIAP_TIGHT_OPTS="--timeout 1 --call-timeout 1 --max-line 4096 --max-output 4096"
# Must never reach a function: riap-handle passes only PATH, RIAP_* of its
# own and the UCSPI peer variables.
export RIAP_TEST_SECRET=leaked

case ${BATS_TEST_FILENAME##*/} in
  *-listen-unix.bats) RIAP_TRANSPORT=unix RIAP_SERVER=listen ;;
  *-listen-tcp.bats) RIAP_TRANSPORT=tcp RIAP_SERVER=listen ;;
  *-unix.bats) RIAP_TRANSPORT=unix ;;
  *-tcp.bats) RIAP_TRANSPORT=tcp ;;
  *) RIAP_TRANSPORT=pipe ;;
esac
RIAP_SERVER=${RIAP_SERVER:-ucspi}   # ucspi: s6-ipcserver/tcpserver; listen: riap-listen
if [ "$RIAP_SERVER" = listen ]; then BATS_TEST_NAME_PREFIX="[listen $RIAP_TRANSPORT] "
else BATS_TEST_NAME_PREFIX="[$RIAP_TRANSPORT] "; fi

# The client. Perl is used because it is always there (git depends on it)
# and because a test needs to send bytes, pause, half-close and read at the
# same time, and to know whether and when the server closed.
read -r -d '' RIAP_CLIENT_PL <<'PERL' || true
use strict; use warnings; use Socket; use POSIX ();
my $now = eval { require Time::HiRes; \&Time::HiRes::time } || sub { time };
$SIG{PIPE} = 'IGNORE';
my ($mode, $addr, $statusfile, @rest) = @ARGV;
my (@steps, @cmd);
while (@rest) { my $a = shift @rest; if ($a eq '--') { @cmd = @rest; last } push @steps, $a }
my ($rfh, $wfh, $pid);
my $t0 = $now->();
if ($mode eq 'tcp') {
  my ($h, $p) = $addr =~ /^(.*):(\d+)$/ or die "bad address $addr\n";
  socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
  connect($s, sockaddr_in($p, inet_aton($h))) or die "connect $addr: $!\n";
  $rfh = $wfh = $s;
} elsif ($mode eq 'unix') {
  socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!\n";
  connect($s, sockaddr_un($addr)) or die "connect $addr: $!\n";
  $rfh = $wfh = $s;
} else {
  pipe(my $in_r, my $in_w) or die "pipe: $!\n";
  pipe(my $out_r, my $out_w) or die "pipe: $!\n";
  $pid = fork() // die "fork: $!\n";
  if (!$pid) {
    open(STDIN, '<&', $in_r) or die; open(STDOUT, '>&', $out_w) or die;
    exec(@cmd) or do { print STDERR "exec $cmd[0]: $!\n"; POSIX::_exit(127) };
  }
  close $in_r; close $out_w;
  $rfh = $out_r; $wfh = $in_w;
}
binmode $rfh; binmode $wfh;
my ($out, $eof, $werr, $wclosed, $pending, $resume, $limit) = ('', 0, 0, 0, '', 0, 10);
my ($waitn, $waituntil, $done_at);
sub lines { my $n = () = $out =~ /\n/g; $n }
sub shut { return if $wclosed; if ($mode eq 'pipe') { close $wfh } else { shutdown($wfh, 1) } $wclosed = 1 }
while (1) {
  my $t = $now->();
  while ($pending eq '' && @steps && $t >= $resume
         && !(defined $waitn && lines() < $waitn && $t < $waituntil)) {
    undef $waitn;
    my $s = shift @steps;
    if ($s =~ /^s:(.*)\z/s) { $pending = $werr ? '' : $1 }
    elsif ($s =~ /^f:(.*)\z/s) {
      open(my $f, '<', $1) or die "$1: $!\n"; binmode $f; local $/;
      $pending = $werr ? '' : <$f>; $pending //= ''; close $f }
    elsif ($s =~ /^p:([\d.]+)\z/) { $resume = $t + $1 }
    elsif ($s =~ /^w:(\d+)\z/) { ($waitn, $waituntil) = ($1, $t + 5) }
    elsif ($s eq 'shut') { shut() }
    elsif ($s =~ /^r:([\d.]+)\z/) { $limit = $1 }
    else { die "unknown step $s\n" }
  }
  my $steps_done = $pending eq '' && !@steps;
  $done_at //= $t if $steps_done;
  last if $eof;
  last if $steps_done && $t >= $done_at + $limit;
  my ($rin, $win) = ('', '');
  vec($rin, fileno($rfh), 1) = 1;
  vec($win, fileno($wfh), 1) = 1 if $pending ne '' && !$wclosed;
  my $wake = $steps_done ? $done_at + $limit : $t + 0.02;
  $wake = $resume if !$steps_done && $resume > $t && $pending eq '';
  my $n = select(my $rout = $rin, my $wout = $win, undef, $wake > $t ? $wake - $t : 0);
  next if $n <= 0;
  if (vec($rout, fileno($rfh), 1)) {
    my $r = sysread($rfh, my $buf, 65536);
    if (!$r) { $eof = 1 } else { $out .= $buf }
  }
  if ($win ne '' && vec($wout, fileno($wfh), 1)) {
    my $w = syswrite($wfh, $pending, 65536);
    if (defined $w) { substr($pending, 0, $w) = '' } else { $werr = 1; $pending = '' }
  }
}
my $elapsed = $now->() - $t0;
my $exit = '';
if ($pid) {
  shut();
  my $until = $now->() + 5;
  my $w;
  while (($w = waitpid($pid, POSIX::WNOHANG())) == 0 && $now->() < $until) { select(undef, undef, undef, 0.02) }
  if ($w == 0) { kill 'KILL', $pid; waitpid($pid, 0); $exit = 'killed' }
  else { $exit = $? & 127 ? -($? & 127) : $? >> 8 }
}
binmode STDOUT; print $out;
open(my $st, '>', $statusfile) or die "$statusfile: $!\n";
printf $st "R_EOF=%d R_ELAPSED=%.3f R_WERR=%d R_EXIT=%s\n", $eof, $elapsed, $werr, $exit;
PERL

riap_addr() { # riap_addr default|tight: where that server listens
  case $RIAP_TRANSPORT in
    unix) echo "$BATS_FILE_TMPDIR/$1.sock" ;;
    tcp) eval "echo 127.0.0.1:\$RIAP_PORT_$1" ;;
    *) echo - ;;
  esac
}

riap_talk() {
  local opts=
  if [ "${1:-}" = -t ]; then opts=$RIAP_TIGHT_OPTS; shift; fi
  local server=default; [ -n "$opts" ] && server=tight
  local st=$BATS_TEST_TMPDIR/status raw=$BATS_TEST_TMPDIR/raw
  rm -f "$st"
  # shellcheck disable=SC2086
  perl -e "$RIAP_CLIENT_PL" "$RIAP_TRANSPORT" "$(riap_addr $server)" "$st" "$@" \
    -- "$RIAP_HANDLE" $opts ${RIAP_HANDLE_OPTS:-} "$RIAP_ROOT" >"$raw" 2>"$BATS_TEST_TMPDIR/stderr"
  [ -s "$st" ] || fail "client failed: $(cat "$BATS_TEST_TMPDIR/stderr")"
  . "$st"
  RESP=() R_FRAMING=0
  local line
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      j*$'\r') ;;
      *) R_FRAMING=$((R_FRAMING + 1)) ;;
    esac
    line=${line#j}
    RESP+=("${line%$'\r'}")
  done <"$raw"
  if [ -s "$raw" ] && [ "$(tail -c1 "$raw" | od -An -c | tr -d ' ')" != '\n' ]; then
    R_FRAMING=$((R_FRAMING + 1))
  fi
  return 0
}

rq() { # rq [-t] JSON...: one request line per JSON on one connection, then EOF
  local t=; if [ "${1:-}" = -t ]; then t=-t; shift; fi
  local steps=() j
  for j; do steps+=("s:j$j"$'\r\n'); done
  riap_talk $t "${steps[@]}" shut
}

show_responses() {
  local i
  for i in "${!RESP[@]}"; do printf '  response %d: %s\n' "$i" "${RESP[$i]}"; done
}

check() { # check N FILTER: jq -e FILTER holds on response N
  [ "${#RESP[@]}" -gt "$1" ] || fail "no response $1 (got ${#RESP[@]}):
$(show_responses)"
  jq -e "$2" >/dev/null 2>&1 <<<"${RESP[$1]}" \
    || fail "response $1 fails: $2
  ${RESP[$1]}"
}

check_all() { # check_all FILTER: jq -e FILTER holds on the array of all responses
  printf '%s\n' "${RESP[@]}" | jq -se "$1" >/dev/null 2>&1 \
    || fail "the responses fail: $1
$(show_responses)"
}

status_is() { # status_is N CODE
  check "$1" ".[0] == $2"
}

responses_are() { # responses_are N: exactly N well-framed responses
  [ "${#RESP[@]}" -eq "$1" ] || fail "expected $1 responses, got ${#RESP[@]}:
$(show_responses)"
  [ "$R_FRAMING" -eq 0 ] || fail "$R_FRAMING responses not framed as j<json>CRLF:
$(od -c "$BATS_TEST_TMPDIR/raw" | head -20)"
  handle_healthy
}

handle_healthy() { # pipe mode: riap-handle ended by itself, without a signal or a sanitizer report
  [ "$RIAP_TRANSPORT" = pipe ] || return 0
  case $R_EXIT in
    killed) fail "riap-handle did not exit after its input ended" ;;
    -*) fail "riap-handle was killed by signal ${R_EXIT#-}: $(tail -5 "$BATS_TEST_TMPDIR/stderr")" ;;
    86|87) fail "riap-handle: sanitizer report (exit $R_EXIT): $(grep -v '^%riap-access' "$BATS_TEST_TMPDIR/stderr" | head -30)" ;;
  esac
  ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$BATS_TEST_TMPDIR/stderr" \
    || fail "riap-handle: sanitizer report: $(grep -v '^%riap-access' "$BATS_TEST_TMPDIR/stderr" | head -30)"
}

message_has() { # message_has N TEXT...: the message of response N contains each TEXT
  local n=$1; shift
  local s
  for s; do
    check "$n" ".[1] | type == \"string\" and contains($(jq -n --arg s "$s" '$s'))"
  done
}

only_on() { # only_on TRANSPORT REASON: skip the test on the other transports
  [ "$RIAP_TRANSPORT" = "$1" ] || skip "$2"
}

not_on() { # not_on TRANSPORT REASON: skip the test on that transport
  [ "$RIAP_TRANSPORT" != "$1" ] || skip "$2"
}

elapsed_below() { # elapsed_below SECS
  awk -v e="$R_ELAPSED" -v m="$1" 'BEGIN { exit !(e < m) }' \
    || fail "took ${R_ELAPSED}s, expected under ${1}s"
}

elapsed_above() { # elapsed_above SECS
  awk -v e="$R_ELAPSED" -v m="$1" 'BEGIN { exit !(e >= m) }' \
    || fail "took ${R_ELAPSED}s, expected at least ${1}s"
}

pid_alive() { # a zombie counts as gone
  [ -r "/proc/$1/stat" ] && ! awk '{ sub(/^.*\) /, ""); exit $1 != "Z" }' "/proc/$1/stat"
}

b64() { base64 -w0; }

# ---------------------------------------------------------------- servers

riap_free_port() {
  perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
    bind($s, sockaddr_in(0, inet_aton("127.0.0.1"))) or die;
    print((sockaddr_in(getsockname($s)))[0], "\n")'
}

riap_wait_ready() { # riap_wait_ready PID ADDR: 0 once ADDR accepts a connection
  local i
  for i in $(seq 50); do
    kill -0 "$1" 2>/dev/null || return 1
    case $RIAP_TRANSPORT in
      unix) perl -MSocket -e 'socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die;
              connect($s, sockaddr_un($ARGV[0])) or exit 1' "$2" 2>/dev/null && return 0 ;;
      tcp) perl -MSocket -e 'my ($h, $p) = split /:/, $ARGV[0];
              socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
              connect($s, sockaddr_in($p, inet_aton($h))) or exit 1' "$2" 2>/dev/null && return 0 ;;
    esac
    sleep 0.1
  done
  return 1
}

riap_start_server() { # riap_start_server NAME OPTS: sets RIAP_PID_NAME (and RIAP_PORT_NAME)
  local name=$1 opts=$2 pid addr try log=$BATS_FILE_TMPDIR/server-$1.err
  for try in 1 2 3 4 5; do
    case $RIAP_TRANSPORT in
      unix)
        addr=$BATS_FILE_TMPDIR/$name.sock
        if [ "$RIAP_SERVER" = listen ]; then
          # shellcheck disable=SC2086
          "$RIAP_BUILD/bin/riap-listen" -s "$addr" --start-servers 2 --scoreboard-path "$BATS_FILE_TMPDIR/$name.sb" \
            -- "$RIAP_HANDLE" $opts "$RIAP_ROOT" </dev/null >>"$log" 2>&1 3>&- &
        else
          # shellcheck disable=SC2086
          s6-ipcserver "$addr" "$RIAP_HANDLE" $opts "$RIAP_ROOT" </dev/null >>"$log" 2>&1 3>&- &
        fi
        ;;
      tcp)
        local port; port=$(riap_free_port)
        addr=127.0.0.1:$port
        eval "export RIAP_PORT_$name=$port"
        if [ "$RIAP_SERVER" = listen ]; then
          # shellcheck disable=SC2086
          "$RIAP_BUILD/bin/riap-listen" -p "$addr" --start-servers 2 --scoreboard-path "$BATS_FILE_TMPDIR/$name.sb" \
            -- "$RIAP_HANDLE" $opts "$RIAP_ROOT" </dev/null >>"$log" 2>&1 3>&- &
        else
          # shellcheck disable=SC2086
          tcpserver -H -R -l 0 127.0.0.1 "$port" "$RIAP_HANDLE" $opts "$RIAP_ROOT" </dev/null >>"$log" 2>&1 3>&- &
        fi
        ;;
    esac
    pid=$!
    eval "export RIAP_PID_$name=$pid"
    echo "$pid" >>"$BATS_FILE_TMPDIR/server-pids"
    riap_wait_ready "$pid" "$addr" && return 0
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  echo "could not start the $RIAP_TRANSPORT server $name: $(cat "$log")" >&2
  return 1
}

riap_setup_file() {
  if [ ! -x "$RIAP_HANDLE" ]; then
    echo "riap-handle is not built ($RIAP_HANDLE): run make" >&2
    return 1
  fi
  export RIAP_ROOT=$BATS_FILE_TMPDIR/root
  local out=$BATS_FILE_TMPDIR/outside
  mkdir -p "$RIAP_ROOT" "$out/Pkg"
  cp -a "$RIAP_REPO/examples/." "$RIAP_ROOT/"
  cp -a "$RIAP_REPO/t/tree/Nasty" "$RIAP_REPO/t/tree/Tree" "$RIAP_ROOT/"
  # A function, its metadata and a package outside ROOT, linked from inside.
  printf '#!/bin/sh\ncat >/dev/null\necho "[200,\\"OK\\",\\"escaped\\"]"\n' >"$out/fn"
  chmod +x "$out/fn"
  printf '{"v":1.1,"summary":"outside ROOT","args":{}}\n' >"$out/fn.meta.json"
  cp "$out/fn" "$out/Pkg/inner"
  cp "$out/fn.meta.json" "$out/Pkg/inner.meta.json"
  printf '{"v":1.1,"summary":"outside ROOT"}\n' >"$out/Pkg/.meta.json"
  printf '"secret outside ROOT"\n' >"$out/secret.var.json"
  # A dot file at the top, beside the bundled examples.
  cp "$RIAP_REPO/t/tree/Nasty/.hidden" "$RIAP_REPO/t/tree/Nasty/.hidden.meta.json" "$RIAP_ROOT/"
  ln -s "$out/fn" "$RIAP_ROOT/Nasty/escape"
  ln -s "$out/fn.meta.json" "$RIAP_ROOT/Nasty/escape.meta.json"
  ln -s "$out/Pkg" "$RIAP_ROOT/Out"
  ln -s "$out/secret.var.json" "$RIAP_ROOT/Nasty/secret.var.json"
  ln -s ../../outside/fn "$RIAP_ROOT/Nasty/relescape"
  ln -s ../../outside/fn.meta.json "$RIAP_ROOT/Nasty/relescape.meta.json"
  # A program a riap+pipe: URI would run, if the server followed it.
  printf '#!/bin/sh\ntouch "%s"\n' "$BATS_FILE_TMPDIR/followed" >"$out/follow-me"
  chmod +x "$out/follow-me"
  case $RIAP_TRANSPORT in
    unix|tcp)
      riap_start_server default "" || return 1
      riap_start_server tight "$RIAP_TIGHT_OPTS" || return 1
      ;;
  esac
}

riap_teardown_file() {
  local pid i
  [ -f "$BATS_FILE_TMPDIR/server-pids" ] || return 0
  while read -r pid; do
    kill "$pid" 2>/dev/null || continue
    for i in $(seq 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  done <"$BATS_FILE_TMPDIR/server-pids"
  return 0
}

riap_teardown() { # kills what a test left behind (pids listed in $BATS_TEST_TMPDIR/pids)
  local pid
  [ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
  for pid in $(cat "$BATS_TEST_TMPDIR/pids"); do kill -KILL "$pid" 2>/dev/null; done
  return 0
}
