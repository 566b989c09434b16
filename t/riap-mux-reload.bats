#!/usr/bin/env bats
# riap-mux: SIGHUP replaces the backends without failing a request; out of
# fds, accepting pauses instead of spinning

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load mux

bats_require_minimum_version 1.5.0

RIAP=$RIAP_BUILD/bin/riap

setup() {
  T=$BATS_TEST_TMPDIR SOCK=$BATS_TEST_TMPDIR/m.sock
  # a pipe server that names itself in each answer; "slow" requests take 2 s
  cat >"$T/who" <<'EOF'
#!/usr/bin/perl
$| = 1;
while (my $l = <STDIN>) {
  sleep 2 if $l =~ /slow/;
  print "j[200,\"OK\",$$]\r\n";
}
EOF
  chmod +x "$T/who"
}

teardown() { reap_test_pids; }

have_backend() { [ -n "$(backends)" ]; }
have_new_backend() { [ -n "$(backends | grep -vx "$old")" ]; }
old_gone() { ! kill -0 "$old" 2>/dev/null; }
lines_at_least() { [ "$(wc -l <"$1")" -ge "$2" ]; }

# slow_call_then_hup: riap-mux in front of "who", a slow call sent (its
# answer to $T/slow, its client SPID), then SIGHUP; returns once the new
# backend runs, with the old one's pid in old
slow_call_then_hup() {
  mux -- "$T/who"
  wait_for "a backend" 10 have_backend
  old=$(backends)
  echo '{"action":"call","uri":"/slow"}' | "$RIAP" --stdin --compact "riap+unix:$T/m.sock//" >"$T/slow" &
  SPID=$!
  echo "$SPID" >>"$T/pids"
  sleep 0.3
  kill -HUP "$MPID"
  wait_for "a new backend" 10 have_new_backend
}

@test "SIGHUP under pipelined load: every request answered in order, a new backend, the old one gone" {
  mux -- "$RIAP_BUILD/bin/riap-handle" "$RIAP_REPO/examples"
  wait_for "a backend" 10 have_backend
  old=$(backends)
  for i in $(seq 1 1500); do echo "{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":$i,\"b\":1}}"; done >"$T/req"
  "$RIAP" --stdin --window 16 --compact "riap+unix:$T/m.sock//" <"$T/req" >"$T/out" 2>"$T/cerr" &
  CPID=$!
  echo "$CPID" >>"$T/pids"
  wait_for "100 answers" 60 lines_at_least "$T/out" 100
  kill -HUP "$MPID"
  wait_for "a new backend" 10 have_new_backend
  wait "$CPID"
  [ "$(wc -l <"$T/out")" -eq 1500 ]
  run jq -s '[.[] | select(.[0] != 200)] | length' "$T/out"
  assert_output 0
  run jq -s '[.[] | .[2]] == [range(1; 1501)]' "$T/out"
  assert_output true
  wait_for "the old backend gone" 10 old_gone
  grep -q 'SIGHUP: 1 new backend started' "$T/err"
}

@test "SIGHUP while a slow call runs: it is answered by the old backend, a new client by the new one at once" {
  slow_call_then_hup
  new=$(backends | grep -vx "$old")
  run "$RIAP" --raw --compact call "riap+unix:$T/m.sock//fast"
  assert_success
  assert_equal "$(jq '.[2]' <<<"$output")" "$new"
  [ ! -s "$T/slow" ]          # the slow one is still running: the new client did not wait for it
  wait "$SPID"
  assert_equal "$(jq '.[2]' "$T/slow")" "$old"
  wait_for "the old backend gone" 10 old_gone
}

@test "SIGTERM with a replaced backend still answering: its answer is written, then riap-mux exits 0" {
  slow_call_then_hup
  kill -TERM "$MPID"
  wait "$MPID"
  wait "$SPID"
  assert_equal "$(jq '.[0]' "$T/slow")" 200
  assert_equal "$(jq '.[2]' "$T/slow")" "$old"
  [ ! -e "$T/m.sock" ]
}

@test "out of fds: accepting pauses (one warning, no spin) and the waiting client is served once one leaves" {
  prlimit --nofile=12:12 "$MUX" --notification-fd 3 "unix:$T/m.sock" "$RIAP_BUILD/bin/riap-handle" "$RIAP_REPO/examples" \
    3>"$T/ready" 2>>"$T/err" &
  MPID=$!
  echo "$MPID" >>"$T/pids"
  wait_for "riap-mux ready" 10 test -s "$T/ready"
  for i in $(seq 10); do
    perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die; sleep 30' "$T/m.sock" &
    echo $! >>"$T/pids"
    echo $! >>"$T/holders"
  done
  wait_for "the fd limit reached" 10 grep -q "Too many open files; trying again every 100 ms" "$T/err"
  "$RIAP" --stdin --compact "riap+unix:$T/m.sock//" <<<'{"action":"info","uri":"/Math/mult"}' >"$T/late" &
  echo $! >>"$T/pids"
  sleep 1
  [ ! -s "$T/late" ]
  ticks=$(awk '{print $14 + $15}' "/proc/$MPID/stat")
  [ "$ticks" -lt 50 ]              # 1 s of waiting took < 0.5 s of CPU: no spin
  reap_pids "$T/holders" || true
  wait_for "the late client served" 10 grep -q '^\[200,' "$T/late"
  [ "$(grep -c "trying again" "$T/err")" -eq 1 ]
}

@test "riap-mux under ASan+UBSan: pipelining clients, bad and long lines, SIGHUP, a backend killed, TERM: clean exit" {
  local asan=$RIAP_BUILD/asan/bin/riap-mux c
  [ -x "$asan" ] || skip "no sanitizer build (make test builds it)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  MUX=$asan mux --max-line 256 -n 2 -- "$RIAP_BUILD/bin/riap-handle" "$RIAP_REPO/examples"
  wait_for "two backends" 10 bash -c "[ \$(pgrep -P $MPID | wc -l) -eq 2 ]"
  for i in $(seq 1 300); do echo "{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":$i,\"b\":2}}"; done >"$T/req"
  for c in 1 2 3; do
    "$RIAP" --stdin --window 8 --compact "riap+unix:$T/m.sock//" <"$T/req" >"$T/out$c" 2>"$T/cerr$c" &
    echo $! >>"$T/cpids"
  done
  wait_for "answers" 60 lines_at_least "$T/out1" 50
  kill -HUP "$MPID"
  printf 'j{"action":"info","uri":"/"}\r\nnot json\r\nj%0300d\r\n' 0 |
    perl -MIO::Socket::UNIX -e '$s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die; local $/; print $s <STDIN>;
      shutdown($s, 1); print while <$s>' "$T/m.sock" >"$T/mixed"
  for c in $(cat "$T/cpids"); do wait "$c"; done
  for c in 1 2 3; do
    run jq -s '[.[] | .[2]] == [range(1; 301) | . * 2]' "$T/out$c"
    assert_output true
  done
  run jq -R -s 'split("\r\n") | map(select(length > 0) | .[1:] | fromjson | .[0])' "$T/mixed"
  assert_equal "$(jq -c . <<<"$output")" "[200,400,413]"
  kill -KILL "$(pgrep -P "$MPID" | head -1)"
  wait_for "a backend again" 10 bash -c "[ \$(pgrep -P $MPID | wc -l) -eq 2 ]"
  run "$RIAP" --raw --compact call "riap+unix:$T/m.sock//Math/mult" a=3 b=4
  assert_equal "$(jq '.[2]' <<<"$output")" 12
  kill -TERM "$MPID"
  wait "$MPID"
  ! grep -E "AddressSanitizer|LeakSanitizer|runtime error" "$T/err"
}

@test "SIGUSR1: one status line (clients, each backend's pid and unanswered requests); serving goes on" {
  mux -- "$T/who"
  wait_for "a backend" 10 have_backend
  old=$(backends)
  echo '{"action":"call","uri":"/slow"}' | "$RIAP" --stdin --compact "riap+unix:$T/m.sock//" >"$T/slow" &
  echo $! >>"$T/pids"
  sleep 0.5
  kill -USR1 "$MPID"
  wait_for "the status line" 10 grep -q "^riap-mux: status: 1 client; backend 0 pid $old: 1 unanswered$" "$T/err"
  run -0 "$RIAP" --raw --compact call "riap+unix:$T/m.sock//fast"
  assert_equal "$(jq '.[0]' <<<"$output")" 200
}
