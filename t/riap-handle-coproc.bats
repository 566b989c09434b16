#!/usr/bin/env bats
# Persistent functions (x.riap.exec persistent): one coprocess per riap-handle
# process, a line in and a line out per call, restarted after failures.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
  RH=${RIAP_HANDLE:-${RIAP_BUILD:-$BATS_TEST_DIRNAME/../build}/bin/riap-handle}
  TREE="$BATS_TEST_DIRNAME/tree"
  EXAMPLES="$BATS_TEST_DIRNAME/../examples"
}

# ask ROOT JSON...: one connection, one line per JSON; RESP[i] answer i, ERR stderr
ask() {
  local root=$1 line i=0
  shift
  RESP=()
  while IFS= read -r line; do
    line=${line%$'\r'}
    RESP[i++]=${line#j}
  done < <(for r in "$@"; do printf 'j%s\r\n' "$r"; done |
           "$RH" --call-timeout 1 --log-fd 9 "$root" 9>/dev/null 2>"$BATS_TEST_TMPDIR/err")
  ERR=$(cat "$BATS_TEST_TMPDIR/err")
}

is() { # is N JQ: jq -e JQ holds on answer N
  jq -e "$2" <<<"${RESP[$1]}" >/dev/null || { echo "answer $1 fails: $2"; echo "  ${RESP[$1]}"; false; }
}

moody() { printf '{"action":"call","uri":"/Coproc/moody","args":%s%s}' "$1" "${2:-}"; }

@test "a persistent function answers many calls from one process" {
  ask "$TREE" "$(moody '{"n":1}')" "$(moody '{"n":2}')" "$(moody '{"n":3}')"
  is 0 '.[0] == 200 and .[2].line.n == 1'
  is 2 '.[0] == 200 and .[2].line.n == 3'
  [ "$(jq -n --argjson a "${RESP[0]}" --argjson b "${RESP[2]}" '$a[2].pid == $b[2].pid')" = true ]
}

@test "/Fast/mult, the example coprocess, multiplies like /Math/mult" {
  ask "$EXAMPLES" '{"action":"call","uri":"/Fast/mult","args":{"a":6,"b":7}}' \
                  '{"action":"call","uri":"/Fast/mult","args":{"a":6}}' \
                  '{"action":"call","uri":"/Fast/mult","args":{"a":-2,"b":3},"v":1.2}' \
                  '{"action":"call","uri":"/Fast/mult","args":{"a":9223372036854775807,"b":3}}' \
                  '{"action":"call","uri":"/Fast/mult","args":{"a":6,"b":7}}'
  is 0 '.[0] == 200 and .[2] == 42'
  is 1 '.[0] == 400 and .[1] == "Missing required argument: b"'
  is 2 '.[0] == 200 and .[2] == -6 and .[3]["riap.v"] == 1.2'
  is 3 '.[0] == 400 and .[1] == "Integer overflow: 9223372036854775807 * 3 is out of the 64-bit range"'
  is 4 '.[0] == 200 and .[2] == 42'
}

@test "per-call facts travel as special arguments: -dry_run, -riap_peer" {
  ask "$TREE" "$(moody '{"n":1}' ',"dry_run":true')" "$(moody '{"n":2}')"
  is 0 '.[0] == 200 and .[2].line["-dry_run"] == true and (.[2].line | has("-riap_peer"))'
  is 1 '.[0] == 200 and (.[2].line | has("-dry_run") | not)'
}

@test "a coprocess crashing mid-request gets 500 naming it; the next call restarts it" {
  ask "$TREE" "$(moody '{"n":1}')" "$(moody '{"do":"crash"}')" "$(moody '{"n":2}')"
  is 0 '.[0] == 200'
  is 1 '.[0] == 500 and (.[1] | contains("/Coproc/moody")) and (.[1] | contains("crashing as asked"))'
  is 2 '.[0] == 200 and .[2].line.n == 2'
  [ "$(jq -n --argjson a "${RESP[0]}" --argjson b "${RESP[2]}" '$a[2].pid != $b[2].pid')" = true ]
}

@test "a coprocess that ended while idle: the next call goes to a fresh one, not a 500" {
  ask "$TREE" "$(moody '{"do":"quit"}')" "$(moody '{"n":2}')" "$(moody '{"n":3}')"
  is 0 '.[0] == 200'
  is 1 '.[0] == 200 and .[2].line.n == 2'
  is 2 '.[0] == 200 and .[2].line.n == 3'
  [ "$(jq -n --argjson a "${RESP[0]}" --argjson b "${RESP[1]}" '$a[2].pid != $b[2].pid')" = true ]
  [[ $ERR == *"/Coproc/moody: ended while idle (exited 0), restarted"* ]]
}

@test "a coprocess killed while idle: the next call is served by a fresh one" {
  local fifo=$BATS_TEST_TMPDIR/in out=$BATS_TEST_TMPDIR/out h p
  mkfifo "$fifo"
  "$RH" --log-fd 9 "$TREE" <"$fifo" >"$out" 9>/dev/null 2>"$BATS_TEST_TMPDIR/err" &
  h=$!
  exec 8>"$fifo"
  printf 'j%s\r\n' "$(moody '{"n":1}')" >&8
  for _ in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
  p=$(sed -n '1s/^j//p' "$out" | jq '.[2].pid')
  kill -KILL "$p"
  sleep 0.2
  printf 'j%s\r\n' "$(moody '{"n":2}')" >&8
  exec 8>&-
  wait "$h"
  sed -n '2s/^j//p' "$out" | jq -e --argjson p "$p" '.[0] == 200 and .[2].line.n == 2 and .[2].pid != $p'
  grep -q "ended while idle (killed by signal 9), restarted" "$BATS_TEST_TMPDIR/err"
}

@test "a hanging coprocess gets 504 within the timeout, and is replaced" {
  SECONDS=0
  ask "$TREE" "$(moody '{"do":"hang"}')" "$(moody '{"n":2}')"
  is 0 '.[0] == 504 and (.[1] | contains("/Coproc/moody"))'
  is 1 '.[0] == 200 and .[2].line.n == 2'
  [ "$SECONDS" -lt 5 ]
}

@test "garbage from a coprocess gets 500, and the next call gets a fresh one" {
  ask "$TREE" "$(moody '{"n":1}')" "$(moody '{"do":"garbage"}')" "$(moody '{"n":2}')"
  is 1 '.[0] == 500 and (.[1] | contains("/Coproc/moody")) and (.[1] | contains("invalid output"))'
  is 2 '.[0] == 200'
  [ "$(jq -n --argjson a "${RESP[0]}" --argjson b "${RESP[2]}" '$a[2].pid != $b[2].pid')" = true ]
}

@test "the function's own 500 envelope does not restart it" {
  ask "$TREE" "$(moody '{"n":1}')" "$(moody '{"do":"fail"}')" "$(moody '{"n":2}')"
  is 1 '.[0] == 500 and .[1] == "moody: failed on purpose"'
  [ "$(jq -n --argjson a "${RESP[0]}" --argjson b "${RESP[2]}" '$a[2].pid == $b[2].pid')" = true ]
}

@test "a coprocess's stderr goes to the error log with the function's name" {
  ask "$TREE" "$(moody '{"do":"stderr"}')"
  is 0 '.[0] == 200'
  [[ "$ERR" == *"riap-handle: warning: /Coproc/moody: moody: a note on stderr"* ]]
}

@test "a coprocess dying at every start is restarted with back-off, never a hang" {
  ask "$TREE" '{"action":"call","uri":"/Coproc/dead"}' '{"action":"call","uri":"/Coproc/dead"}' \
              '{"action":"call","uri":"/Coproc/dead"}' '{"action":"call","uri":"/Coproc/dead"}'
  is 0 '.[0] == 500 and (.[1] | contains("/Coproc/dead"))'
  # back-off: at least one later call is refused quickly with 503 instead of spawning again
  [ "$(printf '%s\n' "${RESP[@]}" | jq -s '[.[] | select(.[0] == 503)] | length')" -ge 1 ]
}

@test "the coprocess ends with riap-handle: nothing is left running" {
  ask "$TREE" "$(moody '{"n":1}')"
  pid=$(jq '.[2].pid' <<<"${RESP[0]}")
  sleep 0.2
  ! kill -0 "$pid" 2>/dev/null
}

@test "--start-persistent starts the coprocesses before the first call" {
  fifo=$BATS_TEST_TMPDIR/in
  mkfifo "$fifo"
  "$RH" --start-persistent --log-fd 9 "$EXAMPLES" <"$fifo" 9>/dev/null >"$BATS_TEST_TMPDIR/out" &
  rh=$!
  exec 8>"$fifo"
  # running before any request (polled: a loaded machine may take a while)
  for _ in $(seq 100); do pgrep -P "$rh" -f Fast/mult >/dev/null && break; sleep 0.05; done
  pgrep -P "$rh" -f Fast/mult >/dev/null || { exec 8>&-; wait "$rh"; fail "no coprocess before the first request"; }
  printf 'j{"action":"call","uri":"/Fast/mult","args":{"a":2,"b":3}}\r\n' >&8
  exec 8>&-
  wait "$rh"
  grep -q '^j\[200,"OK",6,' "$BATS_TEST_TMPDIR/out"
}
