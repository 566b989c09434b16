#!/usr/bin/env bats
# riap-listen's riap-log: restarted on a timer with back-off, given the
# listener's original stdout and stderr (never its own input pipe), and
# waiting (never losing) while its log cannot be written: a full disk, a
# lock held by another process (doc/riap-listen.8 LOGS, doc/riap-log.8).
# Each listener, riap-log and worker a test starts is killed by its pid in
# teardown; the tmpfs of the full-disk test is unmounted there.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
  # LOAD PORT CONNS PER PAD NEW [STOP PROGRESS]: CONNS clients at once, each
  # sending PER calls of /Fast/mult (args a = 1..CONNS*PER, each once; PAD
  # bytes of an unknown argument when PAD > 0, which makes the answer a 400
  # and the access line about 1 KB), on one keep-alive connection (NEW=0)
  # or a new connection per call (NEW=1); with STOP, until the file STOP
  # exists, adding a byte to the file PROGRESS per answer. Prints how many
  # got an answer.
  export LOADPL=$BATS_FILE_TMPDIR/load.pl
  cat >"$LOADPL" <<'PERL'
use strict; use warnings; use Socket; use IO::Handle;
$SIG{PIPE} = 'IGNORE';
my ($port, $conns, $per, $pad, $new, $stop, $progress) = @ARGV;
my $pf;
if ($progress) { open $pf, '>>', $progress or die "$progress: $!\n"; $pf->autoflush(1) }
my $padding = $pad > 0 ? ',"pad":"' . ('x' x $pad) . '"' : '';
pipe(my $r, my $w) or die "pipe: $!\n";
for my $c (0 .. $conns - 1) {
  defined(my $pid = fork) or die "fork: $!\n";
  next if $pid;
  close $r;
  my ($s, $ok, $buf) = (undef, 0, '');
  for my $i (1 .. $per) {
    last if $stop && -e $stop;
    my $id = $c * $per + $i;
    if (!$s || $new) {
      close $s if $s;
      socket($s, PF_INET, SOCK_STREAM, 0) or die "socket: $!\n";
      connect($s, sockaddr_in($port, inet_aton('127.0.0.1'))) or do { warn "connect: $!\n"; last };
      $buf = '';
    }
    syswrite($s, qq(j{"action":"call","uri":"/Fast/mult","args":{"a":$id,"b":2$padding}}\r\n));
    while ($buf !~ /\n/) { my $n = sysread($s, $buf, 65536, length $buf); last unless $n }
    last unless $buf =~ s/^j\[[^\n]*\n//;
    $ok++;
    print $pf '.' if $pf;
  }
  syswrite($w, "$ok\n");
  exit 0;
}
close $w;
my $total = 0;
$total += $_ for <$r>;
1 while wait > 0;
print "$total\n";
PERL
}

setup() {
  T=$BATS_TEST_TMPDIR
  MNT=
}

teardown() {
  local p
  # the listener's children too: riap-log runs in its own process group
  # and outlives a killed listener, as a worker blocked on a full pipe would
  [ -n "${LPID:-}" ] && pgrep -P "$LPID" >>"$T/pids"
  [ -n "${RLOG_SEEN:-}" ] && echo "$RLOG_SEEN" >>"$T/pids"
  reap_test_pids
  for p in $(cat "$T/pids" 2>/dev/null); do kill -KILL "$p" 2>/dev/null; done
  if [ -n "$MNT" ]; then
    for _ in $(seq 50); do umount "$MNT" 2>/dev/null && break; sleep 0.1; done
    mountpoint -q "$MNT" && umount -l "$MNT"
  fi
  return 0
}

need_root() {
  [ "$(id -u)" = 0 ] && return 0
  [ "${CI:-}" = true ] && fail "this test mounts a tmpfs: it needs root, and CI runs as root"
  skip "needs root (mount -t tmpfs)"
}

# listen OPTS...: riap-listen with a scoreboard, ready; sets LPID
listen() {
  rm -f "$T/ready"
  "${LISTEN_BIN:-$LISTEN}" --notification-fd 3 --scoreboard-path "$T/sb" "$@" -- "$HANDLE" "$ROOT" \
    3>"$T/ready" >>"$T/out" 2>>"$T/err" &
  LPID=$!
  echo "$LPID" >>"$T/pids"
  wait_for "listener ready" 10 test -s "$T/ready"
}

# rlog: the pid of the listener's riap-log, empty when none runs
rlog() { pgrep -P "$LPID" -x riap-log; }
rlog_is_not() { local p; p=$(rlog) && [ -n "$p" ] && [ "$p" != "$1" ]; }
no_rlog() { ! pgrep -P "$LPID" -x riap-log >/dev/null; }

warm_up() { # PORT: one meta request, answered
  run perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0); connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or die;
    syswrite($s, qq(j{"action":"meta","uri":"/Fast/mult"}\r\n)); my $l = <$s>; print $l' "$1"
  assert_output --partial 'j[200,'
}

# calls FILE: how many /Fast/mult calls FILE logs; distinct: how many distinct a
calls() { grep -c '"call /Fast/mult"' "$1" 2>/dev/null || true; }
distinct() { grep -o '"call /Fast/mult" \[args [0-9]*p\? {"a":[0-9]*' "$1" | sed 's/.*"a"://' | sort -un | wc -l; }
progress() { stat -c %s "$T/progress" 2>/dev/null || echo 0; }
progress_at_least() { [ "$(progress)" -ge "$1" ]; }
stalled() { # N: answers stopped coming, short of N
  local a; a=$(progress); sleep 1; [ "$(progress)" = "$a" ] && [ "$a" -lt "$1" ]
}
calls_are() { [ "$(calls "$2")" -eq "$1" ]; }
load_done() { [ -s "$T/load.out" ]; }

@test "after a kill -9 of riap-log and a full disk: nothing lost once space is freed; TERM stops the listener" {
  need_root
  local port n=16000 old
  port=$(free_port)
  MNT=$T/mnt
  mkdir "$MNT"
  # 6 MB: room for every line once the filler is gone (1.8 MB), not before
  mount -t tmpfs -o size=6m tmpfs "$MNT"
  listen -p "127.0.0.1:$port" --start-servers 4 \
    --access-log-path "$MNT/access.log" --error-log-path "$T/error.log"
  warm_up "$port"
  wait_for "the first access line" 10 grep -q 'meta /Fast/mult' "$MNT/access.log"
  old=$(rlog)
  kill -KILL "$old"
  wait_for "riap-log restarted" 10 rlog_is_not "$old"
  RLOG_SEEN=$(rlog)
  dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
  run sh -c "echo x >>'$MNT/probe'"
  assert_failure                       # the disk is full
  # 16000 records of about 230 bytes (access lines of about 110): more
  # than riap-log holds (1 MiB) and the pipe holds (1 MiB), so the workers
  # wait on the pipe as well, and the pipe is full to its last bytes
  perl "$LOADPL" "$port" 4 $((n / 4)) 0 0 "$T/nostop" "$T/progress" >"$T/load.out" 2>"$T/load.err" &
  echo $! >>"$T/pids"
  # riap-log says so on its stderr (the listener's own), not into its input
  wait_for "riap-log to report the full disk" 30 \
    grep -q "riap-log: warning: unable to write to $MNT/access.log.*No space left on device" "$T/err"
  wait_for "the workers to wait on the full pipe" 60 stalled "$n"
  ! load_done
  # riap-log retries (every 5 s) with its pipe full: where the riap-log of
  # old wrote its complaint into its own input, and waited for ever
  sleep 11
  rm -f "$MNT/fill" "$MNT/probe"
  wait_for "every call answered" 120 load_done
  assert_equal "$(cat "$T/load.out")" "$n"
  wait_for "every access line" 60 calls_are "$n" "$MNT/access.log"
  assert_equal "$(distinct "$MNT/access.log")" "$n"
  grep -q "riap-log: info: writing to $MNT/access.log again" "$T/err"
  kill -TERM "$LPID"
  wait_for "the listener to stop" 10 bash -c "! kill -0 $LPID 2>/dev/null"
  run wait "$LPID"
  assert_success
}

@test "a restarted riap-log finding its directory locked waits for the lock, then catches up" {
  local port old new holder
  port=$(free_port)
  listen -p "127.0.0.1:$port" --start-servers 2 \
    --access-log-path "$T/acc/" --error-log-path "$T/error.log"
  warm_up "$port"
  wait_for "the first access line" 10 grep -q 'meta /Fast/mult' "$T/acc/current"
  old=$(rlog)
  # another process waits for DIR/lock: it gets it as riap-log dies
  perl -MFcntl=:flock -e 'open my $f, ">>", $ARGV[0] or die; flock($f, LOCK_EX) or die;
    open my $t, ">", $ARGV[1] or die; close $t; sleep 1000' "$T/acc/lock" "$T/locked" &
  holder=$!
  echo "$holder" >>"$T/pids"
  wait_for "the other process to wait for the lock" 10 grep -q -- "-> FLOCK .* $holder " /proc/locks
  kill -KILL "$old"
  wait_for "the other process to hold the lock" 10 test -e "$T/locked"
  wait_for "riap-log restarted" 10 rlog_is_not "$old"
  new=$(rlog)
  RLOG_SEEN=$new
  run perl "$LOADPL" "$port" 1 20 0 0
  assert_output 20
  wait_for "riap-log to say why it waits" 30 \
    grep -q "riap-log: warning: unable to lock $T/acc/: another process writes there (retrying every 5 s, nothing dropped)" "$T/err"
  assert_equal "$(calls "$T/acc/current")" 0
  assert_equal "$(rlog)" "$new"        # waiting, not exiting to be restarted
  kill -TERM "$holder"
  wait_for "every access line" 30 calls_are 20 "$T/acc/current"
  assert_equal "$(distinct "$T/acc/current")" 20
  assert_equal "$(rlog)" "$new"        # the same riap-log caught up
  kill -TERM "$LPID"
  wait_for "the listener to stop" 10 bash -c "! kill -0 $LPID 2>/dev/null"
  run wait "$LPID"
  assert_success
}

@test "riap-log stopped under load and unable to start again: the listener serves on, restarts it with back-off, every line arrives" {
  local port old at n
  port=$(free_port)
  # riap-listen runs riap-log from its own directory (else from PATH): a copy
  # of both, so that riap-log can be taken away
  mkdir "$T/bin"
  cp "$RIAP_BUILD/bin/riap-listen" "$RIAP_BUILD/bin/riap-log" "$T/bin/"
  PATH=$T/bin:/usr/bin:/bin LISTEN_BIN=$T/bin/riap-listen listen -p "127.0.0.1:$port" --start-servers 2 \
    --access-log-path "$T/access.log" --error-log-path "$T/error.log"
  warm_up "$port"
  wait_for "the first access line" 10 grep -q 'meta /Fast/mult' "$T/access.log"
  # calls, each on a new connection (so each goes through the listener),
  # until told to stop
  perl "$LOADPL" "$port" 1 1000000 0 1 "$T/stop" "$T/progress" >"$T/load.out" 2>"$T/load.err" &
  echo $! >>"$T/pids"
  wait_for "the first calls logged" 30 bash -c "[ \$(grep -c 'call /Fast/mult' '$T/access.log') -ge 10 ]"
  old=$(rlog)
  mv "$T/bin/riap-log" "$T/bin/riap-log.away"
  kill -TERM "$old"                    # riap-log writes what it read, leaves the rest in the pipe
  wait_for "riap-log to stop" 10 no_rlog
  wait_for "a failed restart" 10 grep -q "riap-listen: fatal: unable to run riap-log" "$T/err"
  # the calls go on while riap-log cannot run: no stall per restart attempt
  at=$(progress)
  wait_for "1000 more calls answered while riap-log is away" 120 progress_at_least $((at + 1000))
  # stopped at once: their records wait in the pipe (1 MiB), which more
  # calls over the seconds of back-off below would fill on a fast machine
  touch "$T/stop"
  wait_for "the calls to end" 30 load_done
  wait_for "three failed restarts" 20 bash -c "[ \$(grep -c 'unable to run riap-log' '$T/err') -ge 3 ]"
  no_rlog
  n=$(cat "$T/load.out")
  assert_equal "$(progress)" "$n"
  mv "$T/bin/riap-log.away" "$T/bin/riap-log"
  wait_for "riap-log back (at most 5 s of back-off)" 20 rlog_is_not "$old"
  wait_for "every access line" 30 calls_are "$n" "$T/access.log"
  assert_equal "$(distinct "$T/access.log")" "$n"
  # what the listener said meanwhile waited in the pipe; the delays grew
  wait_for "the restart messages" 10 grep -q "riap-listen: info: restarted riap-log" "$T/error.log"
  grep -q "riap-listen: warning: riap-log (pid $old) exited 0; restarting it in 100 ms" "$T/error.log"
  grep -q "riap-listen: warning: riap-log (pid [0-9]*) exited 111; restarting it in 400 ms" "$T/error.log"
  kill -TERM "$LPID"
  wait_for "the listener to stop" 10 bash -c "! kill -0 $LPID 2>/dev/null"
  run wait "$LPID"
  assert_success
}

@test "with the disk still full and the workers waiting on the pipe, TERM stops the listener after --grace" {
  need_root
  local port n=16000 old
  port=$(free_port)
  MNT=$T/mnt
  mkdir "$MNT"
  mount -t tmpfs -o size=6m tmpfs "$MNT"
  listen -p "127.0.0.1:$port" --start-servers 4 --grace 2 \
    --access-log-path "$MNT/access.log" --error-log-path "$T/error.log"
  warm_up "$port"
  wait_for "the first access line" 10 grep -q 'meta /Fast/mult' "$MNT/access.log"
  old=$(rlog)
  kill -KILL "$old"
  wait_for "riap-log restarted" 10 rlog_is_not "$old"
  RLOG_SEEN=$(rlog)
  dd if=/dev/zero of="$MNT/fill" bs=4k 2>/dev/null || true
  perl "$LOADPL" "$port" 4 $((n / 4)) 0 0 "$T/nostop" "$T/progress" >"$T/load.out" 2>"$T/load.err" &
  echo $! >>"$T/pids"
  wait_for "the workers to wait on the full pipe" 60 stalled "$n"
  # the listener's own lines ("grace period over") find the pipe full:
  # dropped, never waited for
  kill -TERM "$LPID"
  wait_for "the listener to stop" 20 bash -c "! kill -0 $LPID 2>/dev/null"
  run wait "$LPID"
  assert_success
  # riap-log still holds what it read, and says so where it can
  grep -q "riap-listen: warning: riap-log (pid $RLOG_SEEN) has not written everything yet; leaving it to finish" "$T/err"
  kill -0 "$RLOG_SEEN"
}
