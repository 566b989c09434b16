#!/usr/bin/env bats
# Mounts: ROOT/NAME.mount.json makes /NAME/ another Riap::Simple server's
# subtree (riap+pipe, riap+unix, riap+tcp); requests are forwarded with their
# uri rewritten and the uris in results rewritten back.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
  BUILD=${RIAP_BUILD:-$BATS_TEST_DIRNAME/../build}
  RH=${RIAP_HANDLE:-$BUILD/bin/riap-handle}
  EXAMPLES=$(cd "$BATS_TEST_DIRNAME/../examples" && pwd)
  BACKENDS=$(cd "$BATS_TEST_DIRNAME/tree/.backends" && pwd)
  ROOT=$BATS_TEST_TMPDIR/root
  mkdir -p "$ROOT"
  # /Ex/ is the whole example tree, /M/ its /Math/ package, /Bad/ a misbehaving backend
  # a pipe argument with slashes is percent-escaped (arguments are split on /)
  printf '{"url":"riap+pipe:%s//%s//"}' "$RH" "${EXAMPLES//\//%2F}" > "$ROOT/Ex.mount.json"
  printf '{"url":"riap+pipe:%s//%s//","prefix":"/Math/"}' "$RH" "${EXAMPLES//\//%2F}" > "$ROOT/M.mount.json"
  printf '{"url":"riap+pipe:%s/moody//-//","timeout":1,"restart_delay":0}' "$BACKENDS" > "$ROOT/Bad.mount.json"
  printf '{"url":"not a url"}' > "$ROOT/Broken.mount.json"
  PIDS=()
}

teardown() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  true
}

# ask JSON...: one connection to riap-handle ROOT; RESP[i] is answer i
ask() {
  local line i=0
  RESP=()
  while IFS= read -r line; do
    line=${line%$'\r'}
    RESP[i++]=${line#j}
  done < <(for r in "$@"; do printf 'j%s\r\n' "$r"; done | "$RH" --log-fd 9 "$ROOT" 9>/dev/null 2>"$BATS_TEST_TMPDIR/err")
}

is() { # is N JQ: jq -e JQ holds on answer N
  jq -e "$2" <<<"${RESP[$1]}" >/dev/null || { echo "answer $1 fails: $2"; echo "  ${RESP[$1]}"; false; }
}

free_port() { # a port the kernel just handed out (bound to nothing now)
  perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
    bind($s, sockaddr_in(0, inet_aton("127.0.0.1"))) or die;
    print((sockaddr_in(getsockname($s)))[0], "\n")'
}

start_listen() { # start_listen ADDR-OPTION... -- ROOT: riap-listen, ready when it returns
  local fifo=$BATS_TEST_TMPDIR/ready.$RANDOM
  mkfifo "$fifo"
  "$BUILD/bin/riap-listen" --notification-fd 3 --scoreboard-path '' --start-servers 1 "$@" 3>"$fifo" 2>>"$BATS_TEST_TMPDIR/listen.err" &
  PIDS+=($!)
  LISTEN_PID=$!
  timeout 10 head -c1 "$fifo" >/dev/null
}

@test "the mount point is a package in its parent's list" {
  ask '{"action":"list","uri":"/"}' '{"action":"list","uri":"/","detail":1,"type":"package"}'
  is 0 '.[0] == 200 and (.[2] | index("Ex/")) and (.[2] | index("M/"))'
  is 1 '.[0] == 200 and ([.[2][] | select(.uri == "Ex/") | .type] == ["package"])'
}

@test "every action goes through a mount, uris rewritten both ways (list and child_metas: relative as they are)" {
  ask '{"action":"info","uri":"/Ex/Math/mult"}' \
      '{"action":"actions","uri":"/Ex/Math/mult"}' \
      '{"action":"meta","uri":"/Ex/Math/mult"}' \
      '{"action":"list","uri":"/Ex/Math/"}' \
      '{"action":"list","uri":"/Ex/","recursive":1,"detail":1}' \
      '{"action":"child_metas","uri":"/Ex/Math/"}' \
      '{"action":"call","uri":"/Ex/Math/mult","args":{"a":6,"b":7}}' \
      '{"action":"complete_arg_val","uri":"/Ex/Text/fruit","arg":"name","word":"b"}' \
      '{"action":"get","uri":"/Ex/Math/$PI"}'
  is 0 '.[0] == 200 and .[2].uri == "/Ex/Math/mult" and .[2].type == "function"'
  is 1 '.[0] == 200 and (.[2] | index("call"))'
  is 2 '.[0] == 200 and .[2].summary == "Multiply two integers"'
  is 3 '.[0] == 200 and (.[2] | sort) == ["$PI", "div", "mult"]'
  is 4 '.[0] == 200 and ([.[2][].uri] | index("Text/upper"))'
  is 5 '.[0] == 200 and (.[2] | has("mult"))'
  is 6 '.[0] == 200 and .[2] == 42 and .[3]["riap.v"] == 1.1'
  is 7 '.[0] == 200 and [.[2].words[].word] == ["banana"]'
  is 8 '.[0] == 200 and .[2] == 3.14159'
}

@test "prefix maps the mount point onto a remote package" {
  ask '{"action":"list","uri":"/M/"}' '{"action":"call","uri":"/M/mult","args":{"a":2,"b":3}}' \
      '{"action":"info","uri":"/M/div"}'
  is 0 '.[0] == 200 and (.[2] | sort) == ["$PI", "div", "mult"]'
  is 1 '.[0] == 200 and .[2] == 6'
  is 2 '.[2].uri == "/M/div"'
}

@test "the remote's statuses come back as they are" {
  ask '{"action":"call","uri":"/Ex/Math/mult","args":{"a":2}}' '{"action":"meta","uri":"/Ex/Nope/x"}' \
      '{"action":"call","uri":"/Ex/Math/div","args":{"a":1,"b":0}}' '{"action":"call","uri":"/Ex/Util/fail"}'
  is 0 '.[0] == 400 and .[1] == "Missing required argument: b"'
  is 1 '.[0] == 404'
  is 2 '.[0] == 400 and .[1] == "Division by zero"'
  is 3 '.[0] == 500'
}

@test "Riap 1.2 binary results pass through a mount" {
  ask '{"action":"call","uri":"/Ex/Util/bitflip","v":1.2,"args":{"data:base64":"AAEC/w=="}}'
  is 0 '.[0] == 200 and .[2] == "//79AA==" and .[3]["riap.result_encoding"] == "base64" and .[3]["riap.v"] == 1.2'
}

@test "a backend crashing mid-request gets 502 naming the mount; the next request restarts it" {
  ask '{"action":"info","uri":"/Bad/a"}' '{"action":"info","uri":"/Bad/crash"}' '{"action":"info","uri":"/Bad/b"}'
  is 0 '.[0] == 200 and .[2].uri == "/Bad/a"'
  is 1 '.[0] == 502 and (.[1] | contains("/Bad/"))'
  is 2 '.[0] == 200 and .[2].uri == "/Bad/b"'
  [ "$(jq -n --argjson a "${RESP[0]}" --argjson b "${RESP[2]}" '$a[2].pid != $b[2].pid')" = true ]
}

@test "a hanging backend gets 504 within the mount's timeout, never a hang" {
  SECONDS=0
  ask '{"action":"info","uri":"/Bad/hang"}' '{"action":"info","uri":"/Bad/c"}'
  is 0 '.[0] == 504 and (.[1] | contains("/Bad/"))'
  is 1 '.[0] == 200'
  [ "$SECONDS" -lt 5 ]
}

@test "a garbled answer gets 502" {
  ask '{"action":"info","uri":"/Bad/garbage"}' '{"action":"info","uri":"/Bad/d"}'
  is 0 '.[0] == 502 and (.[1] | contains("/Bad/"))'
  is 1 '.[0] == 200'
}

@test "an invalid mount file gets 531 naming the mount" {
  ask '{"action":"info","uri":"/Broken/x"}'
  is 0 '.[0] == 531 and (.[1] | contains("/Broken/"))'
}

@test "a unix mount going away gets 503, and works again when it comes back" {
  sock=$BATS_TEST_TMPDIR/b.sock
  printf '{"url":"riap+unix:%s//","restart_delay":0}' "$sock" > "$ROOT/U.mount.json"
  start_listen -s "$sock" -- "$RH" "$EXAMPLES"
  coproc RHP { "$RH" --log-fd 9 "$ROOT" 9>/dev/null 2>/dev/null; }
  PIDS+=($RHP_PID)
  printf 'j{"action":"call","uri":"/U/Math/mult","args":{"a":2,"b":3}}\r\n' >&"${RHP[1]}"
  IFS= read -r -t 10 a <&"${RHP[0]}"
  kill "$LISTEN_PID"; wait "$LISTEN_PID" 2>/dev/null || true
  printf 'j{"action":"call","uri":"/U/Math/mult","args":{"a":2,"b":3}}\r\n' >&"${RHP[1]}"
  IFS= read -r -t 10 b <&"${RHP[0]}"
  start_listen -s "$sock" -- "$RH" "$EXAMPLES"
  printf 'j{"action":"call","uri":"/U/Math/mult","args":{"a":2,"b":3}}\r\n' >&"${RHP[1]}"
  IFS= read -r -t 10 c <&"${RHP[0]}"
  jq -e '.[0] == 200 and .[2] == 6' <<<"${a#j}"
  jq -e '.[0] == 503 or .[0] == 502' <<<"${b#j}"
  jq -e '.[0] == 200 and .[2] == 6' <<<"${c#j}"
}

@test "a tcp mount going away and coming back; two riap-listen servers chained" {
  port=$(free_port)
  printf '{"url":"riap+tcp://127.0.0.1:%s/","restart_delay":0}' "$port" > "$ROOT/T.mount.json"
  start_listen -p "127.0.0.1:$port" -- "$RH" "$EXAMPLES"
  front=$(free_port)
  start_listen -p "127.0.0.1:$front" -- "$RH" "$ROOT"
  front_pid=$LISTEN_PID
  ask_front() { printf 'j%s\r\n' "$1" | nc -q2 127.0.0.1 "$front" | head -1; }
  a=$(ask_front '{"action":"call","uri":"/T/Math/mult","args":{"a":4,"b":5}}')
  jq -e '.[0] == 200 and .[2] == 20' <<<"${a#j}"
  # the back server goes away
  kill "${PIDS[0]}"; wait "${PIDS[0]}" 2>/dev/null || true
  b=$(ask_front '{"action":"call","uri":"/T/Math/mult","args":{"a":4,"b":5}}')
  jq -e '.[0] == 503 or .[0] == 502' <<<"${b#j}"
  # and comes back on the same port
  start_listen -p "127.0.0.1:$port" -- "$RH" "$EXAMPLES"
  for i in 1 2 3; do
    c=$(ask_front '{"action":"call","uri":"/T/Math/mult","args":{"a":4,"b":5}}')
    jq -e '.[0] == 200' <<<"${c#j}" >/dev/null && break
    sleep 0.3
  done
  jq -e '.[0] == 200 and .[2] == 20' <<<"${c#j}"
}

@test "failure messages name the mount, never the backend's paths" {
  printf '{"url":"riap+unix:%s/nowhere.sock//","restart_delay":0}' "$BATS_TEST_TMPDIR" > "$ROOT/Gone.mount.json"
  ask '{"action":"info","uri":"/Gone/x"}' '{"action":"info","uri":"/Bad/crash"}' '{"action":"info","uri":"/Bad/garbage"}'
  is 0 '.[0] == 503 and (.[1] | contains("/Gone/"))'
  is 1 '.[0] == 502'
  is 2 '.[0] == 502'
  for i in 0 1 2; do
    [[ "${RESP[$i]}" != *"$BATS_TEST_TMPDIR"* && "${RESP[$i]}" != *"$BACKENDS"* ]]
  done
  grep -q "nowhere.sock" "$BATS_TEST_TMPDIR/err"   # the details are in the diagnostics
}
