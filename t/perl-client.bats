#!/usr/bin/env bats
# Perl's own Riap client, as Perl programs use it, against riap-listen
# (riap+tcp, riap+unix) and riap-handle (riap+pipe): the real
# Perinci::Access::Simple::Client 0.23 and the Perinci::Access dispatcher
# from ../shared/perl (see its README), driven through
# ../shared/perl/bin/perl-riap-client and through t/perl-riap.pl (one
# Perinci::Access object for many requests). Nothing here imitates the
# client. Without ../shared/perl the file is skipped, except under CI=true,
# where that is a failure.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load perl
bats_require_minimum_version 1.5.0

setup_file() {
  export PERL5LIB=$PERL_STACK/lib
  export PRIAP=$RIAP_REPO/t/perl-riap.pl
}

setup() {
  need_perl_stack
  PORT=$(free_port)
  SOCK=$BATS_TEST_TMPDIR/riap.sock
  ROOT=$RIAP_REPO/examples
  "$LISTEN" -p "127.0.0.1:$PORT" -s "$SOCK" --scoreboard-path "$BATS_TEST_TMPDIR/sb" --start-servers 2 \
    -- "$HANDLE" "$ROOT" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the listener" 10 test -S "$SOCK"
  wait_for "the TCP port" 10 tcp_up "$PORT"
  TCP="riap+tcp://127.0.0.1:$PORT"
  UNIX="riap+unix:$SOCK/"
  PIPE="riap+pipe:$HANDLE//$(printf %s "$ROOT" | sed 's!/!%2F!g')/"
}

teardown() { reap_test_pids; }

tcp_up() { # PORT: something accepts on 127.0.0.1:PORT
  perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerHost => "127.0.0.1", PeerPort => $ARGV[0]) or exit 1' "$1"
}

# pa [RIAP_VERSION] -- REQUEST...: runs t/perl-riap.pl (one Perinci::Access
# object) on the requests, JSON arrays [ACTION, URL, EXTRA]; OUT is its
# output (JSON lines), its stderr in $BATS_TEST_TMPDIR/client-err
pa() {
  local v=()
  while [ "$1" != -- ]; do v+=("$1"); shift; done
  shift
  OUT=$(printf '%s\n' "$@" | perl "$PRIAP" "${v[@]}" 2>"$BATS_TEST_TMPDIR/client-err")
  local rc=$?
  [ $rc = 0 ] || fail "the Perl client died (status $rc): $(cat "$BATS_TEST_TMPDIR/client-err")"
}
res() { jq -s ".[$1]" <<<"$OUT"; }
is() { # is N FILTER: jq -e FILTER holds on answer N
  res "$1" | jq -e "$2" >/dev/null || fail "answer $1 fails: $2
$(res "$1")"
}
connections_are() { # the client opened N connections (or programs) in all
  jq -se ".[-1].connects == $1" <<<"$OUT" >/dev/null || fail "not $1 connection(s): $(tail -1 <<<"$OUT")"
}

every_action_on() { # URL: every Riap action, one Perinci::Access object
  local u=$1
  pa -- "[\"info\",\"$u/Math/mult\"]" \
     "[\"actions\",\"$u/Math/mult\",{\"detail\":1}]" \
     "[\"meta\",\"$u/Math/mult\"]" \
     "[\"meta\",\"$u/\"]" \
     "[\"list\",\"$u/Math/\"]" \
     "[\"list\",\"$u/\",{\"detail\":1,\"recursive\":1,\"type\":\"function\"}]" \
     "[\"child_metas\",\"$u/Math/\"]" \
     "[\"call\",\"$u/Math/mult\",{\"args\":{\"a\":6,\"b\":7}}]" \
     "[\"complete_arg_val\",\"$u/Text/fruit\",{\"arg\":\"name\",\"word\":\"ap\"}]" \
     "[\"complete_arg_elem\",\"$u/Text/fruit\",{\"arg\":\"toppings\",\"index\":0,\"word\":\"s\"}]" \
     "[\"get\",\"$u/Math/\$PI\"]" \
     "[\"info\",\"$u/Math/\"]"
  is 0 '.res[0] == 200 and .res[2].type == "function" and .res[2].uri == "/Math/mult"'
  is 1 '.res[0] == 200 and (.res[2] | map(.name) | index("call") != null)'
  is 2 '.res[0] == 200 and (.res[2].summary | test("Multiply")) and .res[2].args.b.pos == 1'
  is 3 '.res[0] == 200 and .res[2].v == 1.1'
  is 4 '.res[0] == 200 and (.res[2] | sort) == ["$PI", "div", "mult"]'
  is 5 '.res[0] == 200 and ([.res[2][].uri] | index("Math/mult") != null and index("Fast/mult") != null)'
  is 6 '.res[0] == 200 and .res[2].mult.summary == "Multiply two integers"'
  is 7 '.res[0] == 200 and .res[2] == 42'
  is 8 '.res[0] == 200 and ([.res[2].words[].word] == ["apple"])'
  is 9 '.res[0] == 200 and ([.res[2].words[].word] == ["sprinkles", "syrup"])'
  is 10 '.res[0] == 200 and (.res[2] > 3.14 and .res[2] < 3.15)'
  is 11 '.res[0] == 200 and .res[2].type == "package"'
  connections_are 1
}

@test "Perinci::Access: every action over riap+tcp (riap-listen), on one connection" {
  every_action_on "$TCP"
}

@test "Perinci::Access: every action over riap+unix (riap-listen), on one connection" {
  every_action_on "${UNIX%/}/"
}

@test "Perinci::Access: every action over riap+pipe (riap-handle run by the client), one program" {
  every_action_on "${PIPE%/}/"
  ! grep -q riap-access "$BATS_TEST_TMPDIR/client-err" || fail "access records on the client's stderr: $(cat "$BATS_TEST_TMPDIR/client-err")"
}

@test "perl-riap-client: a call, a list, a meta and an error over riap+tcp, riap+unix and riap+pipe" {
  local u c=$PERL_STACK/bin/perl-riap-client
  for u in "$TCP" "${UNIX%/}/" "${PIPE%/}/"; do
    run --separate-stderr "$c" "$u/Math/mult" call '{"args":{"a":6,"b":7}}'
    jq -e '.[0] == 200 and .[2] == 42' <<<"$output" >/dev/null || fail "$u call: $output $stderr"
    run --separate-stderr "$c" "$u/Math/" list
    jq -e '.[0] == 200 and (.[2] | sort) == ["$PI", "div", "mult"]' <<<"$output" >/dev/null || fail "$u list: $output $stderr"
    run --separate-stderr "$c" --riap-version 1.2 "$u/" meta
    jq -e '.[0] == 200 and .[2].v == 1.1' <<<"$output" >/dev/null || fail "$u meta: $output $stderr"
    run --separate-stderr "$c" "$u/Math/mult" call '{"args":{"a":6}}'
    jq -e '.[0] == 400 and .[1] == "Missing required argument: b"' <<<"$output" >/dev/null || fail "$u error: $output $stderr"
    [[ "$stderr" != *riap-access* ]] || fail "$u: access records on the client's terminal: $stderr"
  done
}

@test "one Perinci::Access object for hundreds of calls over the three transports: one connection each" {
  local i reqs=()
  for i in $(seq 1 120); do
    reqs+=("[\"call\",\"$TCP/Math/mult\",{\"args\":{\"a\":$i,\"b\":2}}]"
           "[\"call\",\"${UNIX%/}//Math/mult\",{\"args\":{\"a\":$i,\"b\":3}}]"
           "[\"call\",\"${PIPE%/}//Fast/mult\",{\"args\":{\"a\":$i,\"b\":4}}]")
  done
  pa -- "${reqs[@]}"
  jq -se '.[:-1] | length == 360 and all(.res[0] == 200)' <<<"$OUT" >/dev/null || fail "not all 200: $(grep -v '"res":\[200' <<<"$OUT" | head -3)"
  jq -se '[.[:-1][] | .res[2]] == [range(1; 121) as $i | ($i * 2, $i * 3, $i * 4)]' <<<"$OUT" >/dev/null \
    || fail "answers out of order or wrong"
  connections_are 3
}

@test "Riap 1.2: a binary argument (NAME:base64) and a binary result (base64, decoded by the client) on every transport" {
  # bitflip of 00 01 fe ff is ff fe 01 00
  local u
  for u in "$TCP" "${UNIX%/}/" "${PIPE%/}/"; do
    pa 1.2 -- "[\"call\",\"$u/Util/bitflip\",{\"args\":{\"data:base64\":\"AAH+/w==\"}}]" \
              "[\"call\",\"$u/Math/mult\",{\"args\":{\"a\":2,\"b\":3}}]" \
              "[\"meta\",\"$u/Math/nope\"]"
    is 0 '.res[0] == 200 and .hex == "fffe0100" and .res[3]["x.hint.result_binary"] == 1'
    is 0 '.res[3] | keys | all(startswith("riap.") | not)'
    is 1 '.res[0] == 200 and .res[2] == 6'
    is 2 '.res[0] == 404'
    connections_are 1
  done
}

@test "Riap 1.1: a binary result comes as its bytes, with x.hint.result_binary" {
  pa -- "[\"call\",\"$TCP/Util/bitflip\",{\"args\":{\"data\":\"AB\"}}]"
  is 0 '.res[0] == 200 and .hex == "bebd" and .res[3]["x.hint.result_binary"] == 1'
}

@test "error envelopes come back as they are, on the same connection" {
  local u
  for u in "$TCP" "${UNIX%/}/" "${PIPE%/}/"; do
    pa -- "[\"meta\",\"$u/Math/nope\"]" \
          "[\"call\",\"$u/Math/mult\",{\"args\":{\"a\":1}}]" \
          "[\"list\",\"$u/Math/mult\"]" \
          "[\"call\",\"$u/Math/mult\",{\"args\":{\"a\":1,\"b\":2,\"c\":3}}]" \
          "[\"call\",\"$u/Util/fail\"]" \
          "[\"meta\",\"$u/Math\"]" \
          "[\"complete_arg_elem\",\"$u/Text/fruit\",{\"arg\":\"toppings\"}]" \
          "[\"call\",\"$u/Math/div\",{\"args\":{\"a\":1,\"b\":0}}]" \
          "[\"call\",\"$u/Math/mult\",{\"args\":{\"a\":2,\"b\":2}}]"
    is 0 '.res[0] == 404 and (.res[1] | contains("/Math/nope"))'
    is 1 '.res[0] == 400 and .res[1] == "Missing required argument: b"'
    is 2 '.res[0] == 501'
    is 3 '.res[0] == 400 and (.res[1] | contains("c"))'
    is 4 '.res[0] >= 500'
    is 5 '.res[0] == 404 and (.res[1] | contains("/Math/"))'
    is 6 '.res[0] == 400 and .res[1] == "Please specify index"'
    is 7 '.res[0] == 400'
    is 8 '.res[0] == 200 and .res[2] == 4'
    connections_are 1
  done
}

@test "arguments as numeric strings (from @ARGV) are served as numbers; v as a numeric string too" {
  pa -- "[\"call\",\"$TCP/Math/mult\",{\"args\":{\"a\":\"6\",\"b\":\"7\"}}]" \
        "[\"call\",\"${UNIX%/}//Math/div\",{\"args\":{\"a\":\"2.5\",\"b\":\"0.5\"}}]" \
        "[\"call\",\"${PIPE%/}//Fast/mult\",{\"args\":{\"a\":\"3\",\"b\":\"5\"}}]"
  is 0 '.res[0] == 200 and .res[2] == 42'
  is 1 '.res[0] == 200 and .res[2] == 5'
  is 2 '.res[0] == 200 and .res[2] == 15'
  # riap_version "1.2", a string as a config file gives it: the client sends "v":"1.2"
  pa "1.2" -- "[\"info\",\"$TCP/Math/mult\"]" "[\"call\",\"${PIPE%/}//Util/bitflip\",{\"args\":{\"data:base64\":\"AA==\"}}]"
  is 0 '.res[0] == 200 and .res[2].v == 1.2'
  is 1 '.res[0] == 200 and .hex == "ff"'
}

@test "a Latin-1 string argument (sent as single bytes by the client) comes back as the same characters" {
  local u
  for u in "$TCP" "${UNIX%/}/" "${PIPE%/}/"; do
    pa -- "[\"call\",\"$u/Text/upper\",{\"args\":{\"text\":\"caf\\u00e9 \\u00ff\"}}]" \
          "[\"call\",\"$u/Text/upper\",{\"args\":{\"text\":\"euro \\u20ac\"}}]"
    is 0 '.res[0] == 200 and .res[2] == "CAF\u00e9 \u00ff" and .hex == "434146e920ff"'
    is 1 '.res[0] == 200 and .res[2] == "EURO \u20ac"'
  done
}

@test "through a mount (riap+pipe backend) the real client works as well" {
  pa -- "[\"list\",\"$TCP/Greet/\"]" \
        "[\"info\",\"$TCP/Greet/\"]" \
        "[\"meta\",\"$TCP/Greet/nope\"]"
  is 0 '.res[0] == 200 and (.res[2] | length) > 0 and (.res[2] | all(startswith("/") | not))'
  is 1 '.res[0] == 200 and .res[2].uri == "/Greet/"'
  is 2 '.res[0] == 404'
}

@test "a request line over 1000 bytes is answered" {
  local long; long=$(printf 'a%.0s' $(seq 5000))
  pa -- "[\"call\",\"$TCP/Text/upper\",{\"args\":{\"text\":\"$long\"}}]" \
        "[\"call\",\"${UNIX%/}//Text/upper\",{\"args\":{\"text\":\"$long\"}}]"
  is 0 ".res[0] == 200 and .res[2] == \"${long^^}\""
  is 1 ".res[0] == 200 and .res[2] == \"${long^^}\""
}

worker_idle() { "$RIAP_BUILD/t/prog/riap-sbdump" "$1" | jq -e -s 'any(.[]; .state == "_" and .pid > 0)' >/dev/null; }

# idle_then_two URL: a call, 2.5 s of silence, two more calls, one client
idle_then_two() {
  local c="[\"call\",\"$1/Math/mult\",{\"args\":{\"a\":2,\"b\":"
  OUT=$( { echo "${c}3}}]"; sleep 2.5; echo "${c}4}}]"; echo "${c}5}}]"; } | perl "$PRIAP" 2>"$BATS_TEST_TMPDIR/client-err")
  local rc=$?
  [ $rc = 0 ] || fail "the client died (status $rc): $OUT $(cat "$BATS_TEST_TMPDIR/client-err")"
}

@test "a connection the server closed while idle: the client's next request fails (it does not retry), the one after reconnects; with --idle-timeout 0 none is closed" {
  local port; port=$(free_port)
  "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path "$BATS_TEST_TMPDIR/sb2" --start-servers 1 \
    -- "$HANDLE" --timeout 1 "$ROOT" 2>"$BATS_TEST_TMPDIR/err2" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the TCP port" 10 tcp_up "$port"
  # the worker's READY carries its 1 s idle timeout to the listener: a
  # connection held before it would keep the listener's own (120 s)
  wait_for "the worker ready" 10 worker_idle "$BATS_TEST_TMPDIR/sb2"
  idle_then_two "riap+tcp://127.0.0.1:$port"
  is 0 '.res[0] == 200 and .res[2] == 6'
  is 1 '.res[0] == 500 and (.res[1] | test("Empty response"))'
  is 2 '.res[0] == 200 and .res[2] == 10'
  port=$(free_port)
  "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path "$BATS_TEST_TMPDIR/sb3" --start-servers 1 --timeout 1 --idle-timeout 0 \
    -- "$HANDLE" "$ROOT" 2>"$BATS_TEST_TMPDIR/err3" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the TCP port" 10 tcp_up "$port"
  idle_then_two "riap+tcp://127.0.0.1:$port"
  jq -se '.[:3] | all(.res[0] == 200)' <<<"$OUT" >/dev/null || fail "$OUT"
  connections_are 1
}

@test "riap+pipe: riap-handle waits for the client's next request however long it idles" {
  # --timeout 1 bounds the rest of a request, not the wait between two
  idle_then_two "riap+pipe:$HANDLE//--timeout/1/$(printf %s "$ROOT" | sed 's!/!%2F!g')/"
  jq -se '.[:3] | all(.res[0] == 200)' <<<"$OUT" >/dev/null || fail "$OUT"
  connections_are 1
}
