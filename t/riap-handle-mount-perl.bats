#!/usr/bin/env bats
# Perl modules behind a mount: ROOT/Perl.mount.json names Perl's own pipe
# server (../shared/perl/bin/perl-riap-pipe, Perinci::Access::Simple::
# Server::Pipe) serving Perinci::Examples, /Perl/ being its
# /Perinci/Examples/. Through riap-listen it must answer as the Perl socket
# server (perl-riap-server) serving the same module does, uris mapped; a
# backend that dies is restarted; with --start-persistent a worker's
# backend runs before the worker is ready, so that a recycled worker's
# first request does not wait for Perl to start. Without ../shared/perl the
# file is skipped, except under CI=true, where that is a failure.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load perl
bats_require_minimum_version 1.5.0

setup_file() {
  perl_stack_here || return 0           # each test skips (or fails under CI)
  local xs pport oport ppid opid
  xs=$(perl_xs) || return 1
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT"
  printf '{"url":"riap+pipe:%s//Perinci%%3A%%3AExamples//","prefix":"/Perinci/Examples/","timeout":60}\n' \
    "$PERL_STACK/bin/perl-riap-pipe" >"$ROOT/Perl.mount.json"
  pport=$(free_port)
  ppid=$(start perl-server "$PERL_STACK/bin/perl-riap-server" --run-dir "$BATS_FILE_TMPDIR/perl-run" \
    --tcp "127.0.0.1:$pport" --start-servers 1 --xs "$xs" --module Perinci::Examples)
  oport=$(free_port)
  opid=$(RIAP_ALLOW_ROOT=1 start ours "$LISTEN" -p "127.0.0.1:$oport" --start-servers 1 \
    --scoreboard-path "$BATS_FILE_TMPDIR/ours.sb" -- "$HANDLE" "$ROOT")
  wait_port "$ppid" "$pport" || { echo "perl-riap-server did not start: $(cat "$BATS_FILE_TMPDIR/perl-server.log")" >&2; return 1; }
  wait_port "$opid" "$oport" || { echo "riap-listen did not start: $(cat "$BATS_FILE_TMPDIR/ours.log")" >&2; return 1; }
  export PERL_PORT=$pport OURS_PORT=$oport OURS_PID=$opid
}

setup() { need_perl_stack; }
teardown() { reap_test_pids; }

# ask PORT JSON...: the requests one after the other on one connection to
# 127.0.0.1:PORT; prints each answer's JSON, one per line
ask() {
  local port=$1; shift
  perl -MIO::Socket::INET -e '
    my $port = shift;
    my $s = IO::Socket::INET->new(PeerHost => "127.0.0.1", PeerPort => $port) or die "connect: $!\n";
    for my $q (@ARGV) {
      print $s "j$q\r\n";
      my $l = <$s>; defined $l or die "no answer to $q\n";
      $l =~ s/\r?\n\z//; $l =~ s/^j//; print "$l\n";
    }' "$port" "$@"
}

# both JSON...: each request (uri relative to the module: "sum", "") asked
# of the Perl server at /Perinci/Examples/URI and of ours at /Perl/URI, v
# 1.2; PERL and OURS are the answers, ours with /Perl/ mapped back
both() {
  local q ps=() os=()
  for q in "$@"; do
    ps+=("$(jq -c '.v = 1.2 | .uri = "/Perinci/Examples/" + .uri' <<<"$q")")
    os+=("$(jq -c '.v = 1.2 | .uri = "/Perl/" + .uri' <<<"$q")")
  done
  PERL=$(ask "$PERL_PORT" "${ps[@]}") || fail "the Perl server: $PERL"
  OURS=$(ask "$OURS_PORT" "${os[@]}") || fail "riap-listen: $OURS"
  MAPPED=$(jq -c 'walk(if type == "string" then sub("^/Perl/"; "/Perinci/Examples/") else . end)' <<<"$OURS")
}

# same N [JQ]: answer N is the same from both (JQ, default ".", applied to
# each: status, message, result and META keys but riap.v, and but the
# Perl server's logs, which name its source files: never passed on)
same() {
  local f=${2:-.} p o
  p=$(sed -n "$(( $1 + 1 ))p" <<<"$PERL" | jq -S "del(.[3][\"riap.v\"], .[3].logs) | $f")
  o=$(sed -n "$(( $1 + 1 ))p" <<<"$MAPPED" | jq -S "del(.[3][\"riap.v\"]) | $f")
  [ -n "$p" ] && [ "$p" = "$o" ] || fail "answer $1 differs:
Perl: $p
ours: $o"
}

@test "every action through the mount answers as the Perl server does, uris rewritten both ways" {
  both '{"action":"info","uri":"sum"}' \
       '{"action":"info","uri":""}' \
       '{"action":"actions","uri":"sum"}' \
       '{"action":"meta","uri":"sum"}' \
       '{"action":"meta","uri":""}' \
       '{"action":"list","uri":""}' \
       '{"action":"list","uri":"","detail":1}' \
       '{"action":"child_metas","uri":""}' \
       '{"action":"call","uri":"sum","args":{"array":[1,2,3]}}' \
       '{"action":"call","uri":"gen_array","args":{"len":3}}' \
       '{"action":"complete_arg_val","uri":"completion","arg":"s1","word":"ap"}' \
       '{"action":"get","uri":"$Var1"}'
  local i
  for i in 0 1 2 3 4 5 6 8 10 11; do same "$i"; done
  same 9 '.[2] |= length'                      # gen_array: random numbers
  # child_metas: Perl's pipe server (behind the mount) adds its
  # subpackages' metadata, which its socket server leaves out (both
  # unchanged Perl; the pipe server alone answers the same): the functions'
  same 7 '.[2] |= with_entries(select(.key | endswith("/") | not))'
  # the uris really went through the rewriting: ours name /Perl/
  sed -n 1p <<<"$OURS" | jq -e '.[0] == 200 and .[2].uri == "/Perl/sum"' >/dev/null || fail "info: $(sed -n 1p <<<"$OURS")"
  sed -n 2p <<<"$OURS" | jq -e '.[2].uri == "/Perl/"' >/dev/null || fail "package info: $(sed -n 2p <<<"$OURS")"
  sed -n 9p <<<"$OURS" | jq -e '.[0] == 200 and .[2] == 6' >/dev/null || fail "call: $(sed -n 9p <<<"$OURS")"
}

@test "binary arguments and results (Riap 1.2) go through the mount as with the Perl server" {
  both '{"action":"call","uri":"binary","args":{"data:base64":"/wABAg=="}}' \
       '{"action":"call","uri":"binary"}'
  same 0
  same 1
  sed -n 1p <<<"$OURS" | jq -e '.[0] == 200 and .[2] == "/wABAg==" and .[3]["riap.result_encoding"] == "base64"' >/dev/null ||
    fail "binary: $(sed -n 1p <<<"$OURS")"
}

@test "errors through the mount are the Perl server's: missing and unknown arguments, failing and dying functions, no such function" {
  both '{"action":"call","uri":"sum"}' \
       '{"action":"call","uri":"sum","args":{"array":[1],"nope":1}}' \
       '{"action":"call","uri":"sum","args":{"array":"x"}}' \
       '{"action":"call","uri":"err","args":{"code":418}}' \
       '{"action":"call","uri":"dies"}' \
       '{"action":"call","uri":"no_such_function"}' \
       '{"action":"list","uri":"sum"}'
  local i
  for i in 0 1 2 3 5 6; do same "$i" '[.[0], .[1]]'; done
  same 4 '.[0]'                                # a die's message names Perl's source lines
  ! grep -q '"logs"' <<<"$OURS" || fail "Perl's logs (its source paths) passed on: $OURS"
  grep -q '"logs"' <<<"$PERL" || fail "the Perl server sent no logs: the check above proves nothing"
  sed -n 1p <<<"$OURS" | jq -e '.[0] == 400' >/dev/null || fail "missing argument: $(sed -n 1p <<<"$OURS")"
  sed -n 5p <<<"$OURS" | jq -e '.[0] == 500' >/dev/null || fail "dies: $(sed -n 5p <<<"$OURS")"
}

# backend PID: the pid of the Perl backend among PID's children (a worker's), empty when none
backend() { pgrep -P "$1" -f perl-riap-pipe | head -1; }
workers() { pgrep -P "$1" -x riap-handle; }

@test "a Perl backend that dies is restarted, and the request that found it dead is answered" {
  local w old new
  run ask "$OURS_PORT" '{"action":"call","uri":"/Perl/sum","args":{"array":[1,2]}}'
  jq -e '.[0] == 200 and .[2] == 3' <<<"$output" >/dev/null || fail "first call: $output"
  w=$(workers "$OURS_PID")
  old=$(backend "$w")
  [ -n "$old" ] || fail "no Perl backend under worker $w"
  kill -KILL "$old"
  wait_for "the backend to die" 10 bash -c "! kill -0 $old 2>/dev/null || grep -q Z /proc/$old/stat"
  run ask "$OURS_PORT" '{"action":"call","uri":"/Perl/sum","args":{"array":[4,5]}}' \
                       '{"action":"call","uri":"/Perl/sum","args":{"array":[6]}}'
  jq -se '.[0][0] == 200 and .[0][2] == 9 and .[1][2] == 6' <<<"$output" >/dev/null || fail "after the kill: $output"
  new=$(backend "$w")
  [ -n "$new" ] && [ "$new" != "$old" ] || fail "backend $old not replaced (now: '$new')"
}

# idle_workers SB: the pids of the workers the scoreboard shows idle (ready)
idle_workers() {
  riap-sbdump "$1" 2>/dev/null | jq -r 'select(.state == "_") | .pid' 2>/dev/null
}

@test "--start-persistent: each worker's Perl backend runs before the worker is ready" {
  local port pid seen=" " w i n=0 sb=$BATS_TEST_TMPDIR/sb
  command -v riap-sbdump >/dev/null || fail "riap-sbdump (build/t/prog) is not in PATH"
  port=$(free_port)
  RIAP_ALLOW_ROOT=1 "$LISTEN" -p "127.0.0.1:$port" --start-servers 2 \
    --scoreboard-path "$sb" -- "$HANDLE" --start-persistent "$ROOT" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
  pid=$!
  echo $pid >>"$BATS_TEST_TMPDIR/pids"
  # each worker, the moment the scoreboard first shows it ready (no request
  # has been sent), has its backend
  for i in $(seq 1200); do
    for w in $(idle_workers "$sb"); do
      case $seen in *" $w "*) continue ;; esac
      [ -n "$(backend "$w")" ] || fail "worker $w is ready without its Perl backend"
      seen="$seen$w "
      n=$((n + 1))
    done
    [ $n -ge 2 ] && break
    sleep 0.05
  done
  [ $n -ge 2 ] || fail "saw $n ready workers, not 2 (seen:$seen) $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "--start-persistent: a recycled worker keeps its Perl backend, and the next request finds it running" {
  local port pid i w0 b0 w b out sb=$BATS_TEST_TMPDIR/sb
  port=$(free_port)
  RIAP_ALLOW_ROOT=1 "$LISTEN" -p "127.0.0.1:$port" --start-servers 1 --max-clients 1 --max-requests-per-child 2 \
    --scoreboard-path "$sb" -- "$HANDLE" --start-persistent "$ROOT" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
  pid=$!
  echo $pid >>"$BATS_TEST_TMPDIR/pids"
  wait_for "a ready worker" 60 bash -c "riap-sbdump '$sb' 2>/dev/null | grep -q '\"state\":\"_\"'"
  w0=$(workers "$pid")
  b0=$(backend "$w0")
  [ -n "$b0" ] || fail "no backend under worker '$w0'"
  # 10 requests on 10 connections: 5 times the request limit
  for i in $(seq 10); do
    out=$(ask "$port" "{\"action\":\"call\",\"uri\":\"/Perl/sum\",\"args\":{\"array\":[$i,1]}}") || fail "request $i: $out"
    jq -e ".[0] == 200 and .[2] == $((i + 1))" <<<"$out" >/dev/null || fail "request $i: $out"
  done
  w=$(workers "$pid")
  b=$(backend "$w")
  [ "$b" = "$b0" ] || fail "the backend changed from $b0 to '$b' (worker $w0, now '$w')"
  # the worker did reach its limit: the listener counted its requests, and it ran anew
  grep -q "unable to exec" "$BATS_TEST_TMPDIR/err" && fail "$(cat "$BATS_TEST_TMPDIR/err")"
  [ "$(riap-sbdump "$sb" | jq -s 'map(.requests) | add')" -ge 10 ] || fail "scoreboard: $(riap-sbdump "$sb")"
  # no fd of the hand-down leaks into the backend, nor stays open without a taker
  run ls "/proc/$b/fd"
  [ "$(wc -w <<<"$output")" -le 4 ] || fail "the backend holds fds beyond 0-2: $output"
}

@test "--start-persistent: a backend is handed down 9 times at most, then a fresh one starts before the worker is ready" {
  local port pid i w b out seen=() sb=$BATS_TEST_TMPDIR/sb
  port=$(free_port)
  # every request ends a worker's life: 25 lives, so 3 backends (10 lives each)
  RIAP_ALLOW_ROOT=1 "$LISTEN" -p "127.0.0.1:$port" --start-servers 1 --max-clients 1 --max-requests-per-child 1 \
    --scoreboard-path "$sb" -- "$HANDLE" --start-persistent "$ROOT" >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
  pid=$!
  echo $pid >>"$BATS_TEST_TMPDIR/pids"
  for i in $(seq 25); do
    wait_for "a ready worker" 60 bash -c "riap-sbdump '$sb' 2>/dev/null | grep -q '\"state\":\"_\"'"
    out=$(ask "$port" "{\"action\":\"call\",\"uri\":\"/Perl/sum\",\"args\":{\"array\":[$i,1]}}") || fail "request $i: $out"
    jq -e ".[0] == 200 and .[2] == $((i + 1))" <<<"$out" >/dev/null || fail "request $i: $out"
    w=$(workers "$pid")
    b=$(backend "$w")
    [ -n "$b" ] && [[ " ${seen[*]} " != *" $b "* ]] && seen+=("$b")
  done
  [ "${#seen[@]}" -ge 2 ] || fail "one backend for 25 worker lives: ${seen[*]}"
  [ "${#seen[@]}" -le 4 ] || fail "${#seen[@]} backends for 25 worker lives (a new one each time?): ${seen[*]}"
  # the retired ones are gone and reaped: one Perl process under the worker, no zombie
  [ "$(pgrep -f perl-riap-pipe -P "$(workers "$pid")" | wc -l)" = 1 ] || fail "Perl processes: $(pgrep -a -f perl-riap-pipe)"
  run ps -o stat= --ppid "$(workers "$pid")"
  [[ "$output" != *Z* ]] || fail "a zombie under the worker: $output"
}

@test "riap-mux: one Perl pipe server shared through a riap+unix mount answers, and a new one after it is killed" {
  local t=$BATS_TEST_TMPDIR mux old new port
  # ROOT/Perinci/Examples.mount.json: /Perinci/Examples/ is riap-mux's, its uris unchanged
  mkdir -p "$t/root/Perinci"
  printf '{"url":"riap+unix:%s//Perinci/Examples/","prefix":"/Perinci/Examples/"}\n' "$t/m.sock" \
    >"$t/root/Perinci/Examples.mount.json"
  "$RIAP_BUILD/bin/riap-mux" --notification-fd 3 "unix:$t/m.sock" "$PERL_STACK/bin/perl-riap-pipe" Perinci::Examples \
    3>"$t/mux.ready" 2>"$t/mux.err" &
  mux=$!
  echo "$mux" >>"$t/pids"
  wait_for "riap-mux ready" 10 test -s "$t/mux.ready"
  port=$(free_port)
  ROOT=$t/root RIAP_ALLOW_ROOT=1 listen -p "127.0.0.1:$port" --start-servers 1
  run -0 ask "$port" '{"action":"call","uri":"/Perinci/Examples/sum","args":{"array":[1,2,3]}}'
  jq -e '.[0] == 200 and .[2] == 6' <<<"$output" >/dev/null || fail "call: $output $(cat "$t/mux.err")"
  old=$(pgrep -P "$mux" -f perl-riap-pipe)
  [ -n "$old" ] || fail "no Perl backend under riap-mux $mux"
  kill -KILL "$old"
  # riap-mux starts its successor once it has seen it die
  wait_for "a new Perl backend" 30 bash -c "p=\$(pgrep -P $mux -f perl-riap-pipe) && [ \"\$p\" != $old ]"
  new=$(pgrep -P "$mux" -f perl-riap-pipe)
  run -0 ask "$port" '{"action":"call","uri":"/Perinci/Examples/sum","args":{"array":[1,2,3]}}'
  jq -e '.[0] == 200 and .[2] == 6' <<<"$output" >/dev/null || fail "after the kill: $output $(cat "$t/mux.err")"
  [ "$(pgrep -P "$mux" -f perl-riap-pipe)" = "$new" ] || fail "the backend changed again: $new -> $(pgrep -P "$mux" -f perl-riap-pipe)"
}

@test "riap-mux: Perl's own client, and a Perinci::CmdLine program, talk to it directly (riap+unix)" {
  local t=$BATS_TEST_TMPDIR url
  "$RIAP_BUILD/bin/riap-mux" --notification-fd 3 "unix:$t/m.sock" "$PERL_STACK/bin/perl-riap-pipe" Perinci::Examples \
    3>"$t/mux.ready" 2>"$t/mux.err" &
  echo $! >>"$t/pids"
  wait_for "riap-mux ready" 10 test -s "$t/mux.ready"
  url="riap+unix:$t/m.sock//Perinci/Examples"
  run -0 "$PERL_STACK/bin/perl-riap-client" "$url/sum" call '{"args":{"array":[1,2,3]}}'
  jq -e '.[0] == 200 and .[2] == 6' <<<"$output" >/dev/null || fail "call: $output $(cat "$t/mux.err")"
  run -0 "$PERL_STACK/bin/perl-riap-client" --riap-version 1.2 "$url/" list
  jq -e '.[0] == 200 and (.[2] | index("sum") != null)' <<<"$output" >/dev/null || fail "list: $output"
  RIAP_URL="$url/sum" run -0 "$PERL_STACK/bin/perl-riap-cli" 1 2 3
  assert_output 6
  RIAP_URL="$url/sum" run "$PERL_STACK/bin/perl-riap-cli" --help
  assert_success
  assert_output --partial "array"
}
