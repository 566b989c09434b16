#!/usr/bin/env bats
# Limits riap-handle puts on requests (nesting, argument count and names) and
# on the functions it runs (rlimits), each seen from the refused side and the
# allowed side.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
  RH=${RIAP_HANDLE:-${RIAP_BUILD:-$BATS_TEST_DIRNAME/../build}/bin/riap-handle}
  TREE="$BATS_TEST_DIRNAME/tree"
}

# ask OPTIONS... -- JSON...: one riap-handle on TREE; RESP[i] is answer i
ask() {
  local opts=() line i=0
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  RESP=()
  while IFS= read -r line; do
    line=${line%$'\r'}
    RESP[i++]=${line#j}
  done < <(for r in "$@"; do printf 'j%s\r\n' "$r"; done | "$RH" "${opts[@]}" --log-fd 9 "$TREE" 9>/dev/null 2>/dev/null)
}

is() { # is N JQ: jq -e JQ holds on answer N (jq -e holds on no input at all)
  [ -n "${RESP[$1]}" ] || { echo "no answer $1"; false; } || return
  jq -e "$2" <<<"${RESP[$1]}" >/dev/null || { echo "answer $1 fails: $2"; echo "  ${RESP[$1]}"; false; }
}

nested() { # nested N: N levels of arrays around a 1
  printf "%$1s" '' | tr ' ' '['
  printf 1
  printf "%$1s" '' | tr ' ' ']'
}

@test "a request nested deeper than --max-depth gets 400; one within it is served" {
  ask --max-depth 10 -- \
    "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":$(nested 12)}}" \
    "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":$(nested 5)}}"
  is 0 '.[0] == 400 and (.[1] | contains("nested too deeply"))'
  is 1 '.[0] == 200'
}

@test "the default depth limit (64) holds against 100,000 levels" {
  ask -- "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":$(nested 100000)}}" \
         '{"action":"info","uri":"/"}'
  is 0 '.[0] == 400 and (.[1] | contains("64"))'
  is 1 '.[0] == 200'
}

@test "more arguments than --max-args get 400; as many are served" {
  ask --max-args 2 -- '{"action":"call","uri":"/Nasty/echo","args":{"a":1,"b":2,"n":3}}' \
                      '{"action":"call","uri":"/Nasty/echo","args":{"a":1,"b":2}}'
  is 0 '.[0] == 400 and (.[1] | contains("Too many arguments"))'
  is 1 '.[0] == 200'
}

@test "an argument name over 256 bytes gets 400" {
  long=$(printf 'a%.0s' $(seq 300))
  ask -- "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"$long\":1}}"
  is 0 '.[0] == 400 and (.[1] | contains("too long"))'
}

@test "functions run under the rlimits given, and the defaults otherwise" {
  ask --rlimit-nofile 64 --rlimit-as 536870912 --rlimit-cpu 7 -- '{"action":"call","uri":"/Nasty/limits"}'
  is 0 '.[0] == 200 and .[2].nofile == "64" and .[2].as_kb == "524288" and .[2].cpu == "7"'
  ask -- '{"action":"call","uri":"/Nasty/limits"}'
  is 0 '.[0] == 200 and .[2].nofile == "256" and .[2].as_kb == "1048576" and .[2].cpu == "60"'
}

@test "a function over its CPU limit is stopped and answered 500" {
  SECONDS=0
  ask --rlimit-cpu 1 --call-timeout 20 -- '{"action":"call","uri":"/Nasty/spin"}' '{"action":"info","uri":"/"}'
  is 0 '.[0] == 500 and (.[1] | contains("/Nasty/spin")) and (.[1] | contains("signal"))'
  is 1 '.[0] == 200'
  [ "$SECONDS" -lt 10 ]
}

@test "--max-line and --max-output take k and M (times 1024, 1048576)" {
  local pad; pad=$(head -c 5000 /dev/zero | tr '\0' x)
  ask --max-line 4k -- "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad\"}}"
  is 0 '.[0] == 413'
  ask --max-line 8k -- "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad\"}}"
  is 0 '.[0] == 200 and (.[2].a | length) == 5000'
  ask --max-output 1k -- "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad\"}}"
  is 0 '.[0] == 500'
  ask --max-output 1M --rlimit-as 1024M -- "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad\"}}"
  is 0 '.[0] == 200 and (.[2].a | length) == 5000'
}

@test "a bad size: what it needs, then the usage, exit 100" {
  run "$RH" --max-output 2G "$TREE" </dev/null
  [ "$status" = 100 ]
  [ "${lines[0]}" = "riap-handle: fatal: --max-output needs a size from 1 to 1024M bytes (k: times 1024, M: times 1048576), not '2G'" ]
  [ "${lines[1]%% \[*}" = "riap-handle: usage: riap-handle" ]
}
