#!/usr/bin/env bats
# riap-handle built with ASan+UBSan (build/asan/bin) answers a request of every
# kind, good and bad, without a leak or undefined behaviour.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
  ASAN_RH="$RIAP_BUILD/asan/bin/riap-handle"
  [ -x "$ASAN_RH" ] || skip "no ASan build (make build/asan/bin/riap-handle)"
  export ASAN_OPTIONS=detect_leaks=1:exitcode=86
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87
  ROOT="$BATS_TEST_DIRNAME/../examples"
  TREE="$BATS_TEST_DIRNAME/tree"
}

requests() {
  cat <<'REQ'
j{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}
j{"action":"call","uri":"/Math/mult","args":{"a":2}}
j{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3,"c":4}}
j{"action":"call","uri":"/Math/div","args":{"a":1,"b":0}}
j{"action":"call","uri":"/Text/upper","args":{"text":"abc"},"v":1.2}
j{"action":"call","uri":"/Util/fail"}
j{"action":"call","uri":"/Util/bitflip","v":1.2,"args":{"data:base64":"AAEC/w=="}}
j{"action":"call","uri":"/Util/bitflip","args":{"data:base64":"AAEC/w=="}}
j{"action":"call","uri":"/Util/bitflip","v":1.2,"args":{"data:base64":"!!"}}
j{"action":"call","uri":"/Util/bitflip","args":{"data":"\u0000\u00ff"}}
j{"action":"call","uri":"/Util/sleep","args":{"secs":0},"dry_run":true}
j{"action":"meta","uri":"/Math/mult","v":1.2}
j{"action":"meta","uri":"/Math/$PI"}
j{"action":"info","uri":"/Math/"}
j{"action":"actions","uri":"/Math/mult","detail":1}
j{"action":"list","uri":"/","recursive":1,"detail":1,"q":"m"}
j{"action":"list","uri":"/","type":"nonsense"}
j{"action":"child_metas","uri":"/Math/"}
j{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"b"}
j{"action":"complete_arg_elem","uri":"/Text/fruit","arg":"name","index":0}
j{"action":"complete_arg_val","uri":"/Text/fruit","arg":"nope"}
j{"action":"get","uri":"/Math/$PI"}
j{"action":"get","uri":"/Math/mult"}
j{"action":"frob","uri":"/"}
j{"action":"call","uri":"riap+tcp://127.0.0.1:1/x"}
j{"action":"call","uri":"/../../etc/passwd"}
j{"action":"info","uri":"/","tx_id":"x"}
j{"action":"info","uri":"/","v":2}
j{"action":"info","uri":"/","bad-key":1}
j{"action":"info","uri":"/","detail":"x"}
j{"v":1.2}
j[1,2,3]
j{broken
j{"action":"info","uri":"/","dup":1,"dup":2}
REQ
}

@test "every kind of request runs clean under ASan+UBSan" {
  run bash -c 'requests_file=$1; shift; "$@" < "$requests_file"' _ <(requests) "$ASAN_RH" --log-fd 9 "$ROOT" 9>/dev/null
  [ "$status" -eq 0 ] || { echo "$output" | tail -30; false; }
  [ "$(printf '%s\n' "$output" | grep -c '^j\[')" -eq 34 ]
}

@test "misbehaving functions and bad lines run clean under ASan+UBSan" {
  [ -d "$TREE" ] || skip "no t/tree"
  run bash -c 'printf "%s\n" "j{\"action\":\"list\",\"uri\":\"/\",\"recursive\":true}" "j{\"action\":\"child_metas\",\"uri\":\"/\"}" "xyz" | "$1" --log-fd 9 "$2" 9>/dev/null' _ "$ASAN_RH" "$TREE"
  [ "$status" -eq 0 ] || { echo "$output" | tail -30; false; }
  [ "$(printf '%s\n' "$output" | grep -c '^j\[')" -eq 3 ]
}

@test "an over-long line and a read timeout run clean under ASan+UBSan" {
  run bash -c 'head -c 5000 /dev/zero | tr "\0" x | "$1" --max-line 100 --log-fd 9 "$2" 9>/dev/null' _ "$ASAN_RH" "$ROOT"
  [ "$status" -eq 0 ]
  [[ "$output" == *'j[413,'* ]]
  run bash -c '{ printf "j{\"act"; sleep 2; } | "$1" --timeout 0.5 --log-fd 9 "$2" 9>/dev/null' _ "$ASAN_RH" "$ROOT"
  [ "$status" -eq 0 ]
  [[ "$output" == *'j[408,'* ]]
}
