#!/usr/bin/env bats
# riap, the command-line client (doc/riap.1): every action over TCP and a
# Unix socket (riap-listen) and over riap+pipe (riap-handle), argument forms,
# binary round trips, output modes, exit codes, pipelined --stdin, bad URLs
# and dead servers. One listener serves the whole file; every process a test
# starts is killed by its pid.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0   # run -N (exit status checks)

RIAP_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
RIAP_BUILD=${RIAP_BUILD:-$RIAP_REPO/build}
# RIAP_CLIENT=build/asan/bin/riap runs the file on the sanitizer build.
RIAP=${RIAP_CLIENT:-$RIAP_BUILD/bin/riap}
HANDLE=$RIAP_BUILD/bin/riap-handle
LISTEN=$RIAP_BUILD/bin/riap-listen

free_port() {
  perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
    bind($s, sockaddr_in(0, inet_aton("127.0.0.1"))) or die;
    print((sockaddr_in(getsockname($s)))[0], "\n")'
}

setup_file() {
  local d=$BATS_FILE_TMPDIR
  export ROOT="$d/my root"          # a space, for percent-escapes in riap+pipe URLs
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/." "$ROOT/"
  export SOCK=$d/riap.sock PORT
  PORT=$(free_port)
  # riap+pipe: a wrapper that keeps riap-handle's access records out of the output
  export SERVE=$d/serve
  printf '#!/bin/sh\nexec "%s" "$@" "%s" 2>>"%s"\n' "$HANDLE" "$ROOT" "$d/pipe.log" >"$SERVE"
  chmod +x "$SERVE"
  "$LISTEN" --notification-fd 3 --scoreboard-path "" --start-servers 2 --max-requests-per-child 0 \
    -p "127.0.0.1:$PORT" -s "$SOCK" -- "$HANDLE" "$ROOT" 3>"$d/ready" >>"$d/listen.log" 2>&1 &
  echo $! >"$d/listen.pid"
  local i
  for i in $(seq 100); do [ -s "$d/ready" ] && break; sleep 0.05; done
  [ -s "$d/ready" ] || { cat "$d/listen.log" >&2; return 1; }
}

teardown_file() {
  local pid
  pid=$(cat "$BATS_FILE_TMPDIR/listen.pid" 2>/dev/null) || return 0
  kill -TERM "$pid" 2>/dev/null
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

teardown() {
  local pid
  [ -f "$BATS_TEST_TMPDIR/pids" ] || return 0
  for pid in $(cat "$BATS_TEST_TMPDIR/pids"); do
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}

# url TRANSPORT URI: the Riap URL of URI over tcp, unix or pipe
url() {
  case $1 in
    tcp) printf 'riap+tcp://127.0.0.1:%s%s' "$PORT" "$2" ;;
    unix) printf 'riap+unix:%s/%s' "$SOCK" "$2" ;;
    pipe) printf 'riap+pipe:%s///%s' "$SERVE" "$2" ;;
  esac
}

riap() { "$RIAP" "$@"; }
# out: the command's stdout only (bats' run merges stderr)
out() { "$RIAP" "$@" 2>/dev/null; }

TRANSPORTS="tcp unix pipe"

# ------------------------------------------------------------ usage

@test "-h prints the usage and exits 0, -V the version" {
  run riap -h
  assert_success
  assert_output --partial "usage: riap [options] ACTION URL [NAME=VALUE ...]"
  assert_output --partial "--retry-delay"
  run riap -V
  assert_success
  assert_output --regexp '^riap [0-9]+\.[0-9]+'
}

@test "usage errors exit 100 with a one-line reason" {
  run riap
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: no ACTION"
  run riap call
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: no URL"
  run riap --bogus call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  run riap call "$(url tcp /Math/mult)" a
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: expected NAME=VALUE: a"
  run riap call "$(url tcp /Math/mult)" =3
  assert_equal "$status" 100
  run riap --args '[1]' call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: --args: not a JSON object"
  run riap --args '{' call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  assert_output --partial "--args: invalid JSON"
  run riap --v 2 call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: bad --v, expected 1.1 or 1.2: 2"
  run riap --timeout abc call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  run riap 'Call!' "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  run riap --stdin
  assert_equal "$status" 100
  run riap --stdin --detail "$(url tcp /)"
  assert_equal "$status" 100
}

@test "a bad option value: what it needs, then the usage, exit 100" {
  run riap --timeout abc call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: --timeout needs a number from 0 to 2000000, not 'abc'"
  assert_line --index 1 "riap: usage: riap [options] ACTION URL [NAME=VALUE ...]"
  run riap --max-line 10 call "$(url tcp /Math/mult)"
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: --max-line needs a size from 64 to 4096M bytes (k: times 1024, M: times 1048576), not '10'"
  run riap --window 0 --stdin "$(url tcp /)" </dev/null
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: --window needs a number from 1 to 1000000, not '0'"
}

@test "--max-line takes k and M: a result over 1k is refused, 4k and 1M let it through" {
  local big; big=$(head -c 2000 /dev/zero | tr '\0' a)
  run riap --max-line 1k --naked call "$(url pipe /Text/upper)" "text=$big"
  assert_equal "$status" 111
  run riap --max-line 4k --naked call "$(url pipe /Text/upper)" "text=$big"
  assert_success
  assert_equal "${#output}" 2000
  run riap --max-line 1M --naked call "$(url tcp /Text/upper)" "text=$big"
  assert_success
  assert_equal "${#output}" 2000
}

@test "bad URLs exit 100 and say what is wrong with an example" {
  run riap info http://localhost/
  assert_equal "$status" 100
  assert_line --index 0 --partial "unsupported URL scheme 'http'"
  run riap info /Math/mult
  assert_equal "$status" 100
  assert_line --index 0 --partial "not a Riap URL"
  run riap info riap+tcp://127.0.0.1:5000
  assert_equal "$status" 100
  assert_line --index 0 "riap: fatal: invalid URL, please supply the entity uri after HOST:PORT, e.g. riap+tcp://localhost:5000/Foo/Bar/func: riap+tcp://127.0.0.1:5000"
  run riap info riap+tcp://127.0.0.1:70000/
  assert_equal "$status" 100
  assert_output --partial "1-65535"
  run riap info riap+unix:/tmp/sock/Math
  assert_equal "$status" 100
  assert_output --partial "PATH//uri, e.g. riap+unix:/path/to/unix/socket//Foo/Bar/func"
  run riap info riap+pipe:/bin/prog//Math
  assert_equal "$status" 100
  assert_output --partial "PROGRAM//ARGS//uri"
  run riap info 'riap+unix:/tmp/%zz//'
  assert_equal "$status" 100
  assert_output --partial "bad percent-escape in the socket path"
}

# ------------------------------------------------------------ every action

@test "call over TCP, Unix and pipe prints the result" {
  local t
  for t in $TRANSPORTS; do
    run riap call "$(url $t /Math/mult)" a=2 b=3
    assert_success
    assert_output "6"
  done
}

@test "every action over TCP, Unix and pipe" {
  local t
  for t in $TRANSPORTS; do
    out info "$(url $t /Math/mult)" | jq -e '.type == "function" and .uri == "/Math/mult"'
    out actions "$(url $t /Math/mult)" | jq -e 'index("call") != null and index("meta") != null'
    out --detail actions "$(url $t /Math/mult)" | jq -e '.[0] | has("name") and has("summary")'
    out meta "$(url $t /Math/mult)" | jq -e '.args.a.pos == 0 and .result.schema == ["int", {}]'
    out list "$(url $t /Math/)" | jq -e '. == ["$PI", "div", "mult"]'
    out --type function list "$(url $t /)" --recursive | jq -e 'index("Math/mult") != null and index("Math/") == null'
    out -q mul list "$(url $t /Math/)" | jq -e '. == ["mult"]'
    out --detail list "$(url $t /Math/)" | jq -e 'map(select(.uri == "mult"))[0].type == "function"'
    out child_metas "$(url $t /Math/)" | jq -e '.["mult"].summary == "Multiply two integers"'
    out get "$(url $t '/Math/$PI')" | jq -e '. == 3.14159'
    out --arg name --word ba complete_arg_val "$(url $t /Text/fruit)" | jq -e '.words | map(.word // .) | index("banana") != null'
    out --arg toppings --index 0 --word s complete_arg_elem "$(url $t /Text/fruit)" | jq -e '.words | map(.word // .) | index("sprinkles") != null'
  done
}

@test "dry_run and confirm reach the function" {
  local t
  for t in $TRANSPORTS; do
    run out --dry-run call "$(url $t /Util/purge_cache)" older_than_days=3
    assert_success
    jq -e 'type == "object"' <<<"$output"
    run out --dry-run --confirm --raw call "$(url $t /Util/purge_cache)"
    assert_success
    jq -e '.[0] == 200' <<<"$output"
  done
}

# ------------------------------------------------------------ arguments

@test "NAME=VALUE is JSON when it parses, a string otherwise" {
  run riap call "$(url tcp /Text/upper)" 'text=hello world'
  assert_success
  assert_output '"HELLO WORLD"'
  run riap call "$(url tcp /Text/upper)" 'text="42"'
  assert_success
  assert_output '"42"'
  run riap call "$(url tcp /Math/mult)" a=-4 b=x
  # x is a string: the int schema refuses it, and the message names b
  assert_equal "$status" 100
  assert_output --partial "riap: 400"
  assert_output --partial "'b'"
  run riap call "$(url tcp /Math/mult)" a=-4 b=2
  assert_output "-8"
}

@test "--args, --args-file FILE and - merge, words override" {
  echo '{"a":5,"b":7}' >"$BATS_TEST_TMPDIR/args.json"
  run riap --args '{"a":2,"b":3}' call "$(url unix /Math/mult)"
  assert_output "6"
  run riap --args-file "$BATS_TEST_TMPDIR/args.json" call "$(url unix /Math/mult)"
  assert_output "35"
  run riap --args-file - call "$(url unix /Math/mult)" b=2 <"$BATS_TEST_TMPDIR/args.json"
  assert_output "10"
  run riap --args '{"a":2}' --args-file "$BATS_TEST_TMPDIR/args.json" call "$(url unix /Math/mult)" a=3
  assert_output "21"
  run riap --args-file "$BATS_TEST_TMPDIR/nope.json" call "$(url unix /Math/mult)"
  assert_equal "$status" 111
  assert_output --partial "unable to read $BATS_TEST_TMPDIR/nope.json: No such file or directory"
}

@test "-k adds any request key; the server judges it" {
  run riap -k tx_id=abc call "$(url tcp /Math/mult)" a=1 b=1
  assert_equal "$status" 201
  assert_output "riap: 501 Transaction not supported by server"
  run riap -k bogus=1 call "$(url tcp /Math/mult)" a=1 b=1
  assert_equal "$status" 100
  assert_output --partial "riap: 400"
}

# ------------------------------------------------------------ binary

@test "binary round trip: NAME:base64=@FILE and --binary over every transport" {
  local t f=$BATS_TEST_TMPDIR
  perl -e 'print map { chr } 0..255, 0, 10, 13, 255' >"$f/in.bin"
  perl -e 'print map { chr(255 - $_) } 0..255, 0, 10, 13, 255' >"$f/want.bin"
  for t in $TRANSPORTS; do
    "$RIAP" --binary call "$(url $t /Util/bitflip)" data:base64=@"$f/in.bin" >"$f/out.bin"
    cmp "$f/out.bin" "$f/want.bin"
    "$RIAP" --binary call "$(url $t /Util/bitflip)" data:base64=@- <"$f/out.bin" >"$f/back.bin"
    cmp "$f/back.bin" "$f/in.bin"
  done
  # without --binary the base64 is printed, and META says so
  out --raw call "$(url tcp /Util/bitflip)" data:base64=@"$f/in.bin" |
    jq -e '.[3]["riap.result_encoding"] == "base64" and (.[2] | type) == "string"'
}

@test "binary round trip in Riap 1.1: code points 0-255 both ways" {
  local f=$BATS_TEST_TMPDIR
  perl -e 'print map { chr } 0..255' >"$f/in.bin"
  perl -e 'print map { chr(255 - $_) } 0..255' >"$f/want.bin"
  "$RIAP" --v 1.1 --binary call "$(url pipe /Util/bitflip)" data:base64=@"$f/in.bin" >"$f/out.bin"
  cmp "$f/out.bin" "$f/want.bin"
  out --v 1.1 --raw call "$(url pipe /Util/bitflip)" data:base64=@"$f/in.bin" |
    jq -e '.[3]["riap.v"] == 1.1 and (.[3] | has("riap.result_encoding") | not)'
}

@test "NAME:base64=TEXT sends base64 given on the command line; bad base64 is a usage error" {
  run out --raw call "$(url tcp /Util/bitflip)" data:base64=AP8=
  jq -e '.[2] == "/wA="' <<<"$output"
  run riap call "$(url tcp /Util/bitflip)" 'data:base64=not base64!'
  assert_equal "$status" 100
  assert_output --partial "not valid base64"
}

# ------------------------------------------------------------ output

@test "--raw prints the envelope, --naked bare strings, --pretty indents" {
  run out --raw call "$(url tcp /Math/mult)" a=2 b=3
  assert_output '[200,"OK",6,{"riap.v":1.2}]'
  run out --raw --v 1.1 call "$(url tcp /Math/mult)" a=2 b=3
  jq -e '.[3]["riap.v"] == 1.1' <<<"$output"
  assert_output --partial '"riap.v":1.1}'
  run out --naked call "$(url tcp /Text/upper)" 'text=a "b"'
  assert_output 'A "B"'
  run out --naked list "$(url tcp /Math/)"
  assert_line "mult"
  assert_line "div"
  run out --naked call "$(url tcp /Math/mult)" a=2 b=3
  assert_output "6"
  run out meta "$(url tcp /Math/mult)"
  assert_equal "${#lines[@]}" 1
  run out --pretty meta "$(url tcp /Math/mult)"
  [ "${#lines[@]}" -gt 10 ]
  assert_line --index 1 --regexp '^  "'
  jq -e '.args.b.pos == 1' <<<"$output"
}

@test "on a terminal the result is indented; --compact keeps one line" {
  command -v script >/dev/null || skip "no script(1)"
  run script -qec "'$RIAP' meta '$(url tcp /Math/mult)'" /dev/null
  assert_success
  [ "${#lines[@]}" -gt 10 ]
  assert_line --index 0 $'{\r'
  run script -qec "'$RIAP' --compact meta '$(url tcp /Math/mult)'" /dev/null
  assert_equal "${#lines[@]}" 1
}

# ------------------------------------------------------------ exit codes

@test "exit codes: 2xx 0, 4xx/5xx status-300, message on stderr" {
  run riap call "$(url tcp /Math/nope)"
  assert_equal "$status" 104
  assert_output "riap: 404 Not found: /Math/nope"
  run riap call "$(url tcp /Math/mult)" a=2
  assert_equal "$status" 100
  assert_output "riap: 400 Missing required argument: b"
  run riap call "$(url unix /Util/fail)"
  assert_equal "$status" 200
  assert_output --regexp '^riap: 500 '
  run riap list "$(url pipe /Math/mult)"
  assert_equal "$status" 201
  assert_output --regexp "^riap: 501 Action 'list' not implemented"
  run riap --dry-run call "$(url tcp /Math/mult)" a=1 b=1
  assert_equal "$status" 112
  assert_output --regexp '^riap: 412 '
}

@test "--raw with an error status prints the envelope and still exits non-zero" {
  run out --raw call "$(url tcp /Math/nope)"
  assert_equal "$status" 104
  jq -e '.[0] == 404' <<<"$output"
}

# ------------------------------------------------------------ --stdin

gen_requests() { # N: N requests with distinct answers (404s that name their uri, and a call)
  local i
  for ((i = 1; i <= $1; i++)); do
    if ((i % 100 == 0)); then
      printf '{"action":"call","uri":"/Math/mult","args":{"a":%d,"b":1}}\n' "$i"
    else
      printf '{"action":"meta","uri":"/Nope/f%d"}\n' "$i"
    fi
  done
}

check_order() { # FILE N: line i answers request i
  jq -s -e --argjson n "$2" 'length == $n and
    ([to_entries[] | (.key + 1) as $i |
      if $i % 100 == 0 then .value[2] == $i else .value[1] == "Not found: /Nope/f\($i)" end] | all)' "$1"
}

@test "--stdin: 1000 pipelined requests answered in order over TCP, Unix and pipe" {
  local t f=$BATS_TEST_TMPDIR
  gen_requests 1000 >"$f/reqs"
  for t in $TRANSPORTS; do
    "$RIAP" --stdin "$(url $t /)" <"$f/reqs" >"$f/out.$t"
    check_order "$f/out.$t" 1000
  done
}

@test "--stdin: order kept with a window of 1 and of 7" {
  local f=$BATS_TEST_TMPDIR
  gen_requests 300 >"$f/reqs"
  "$RIAP" --stdin --window 1 "$(url tcp /)" <"$f/reqs" >"$f/out1"
  check_order "$f/out1" 300
  "$RIAP" --stdin --window 7 "$(url unix /)" <"$f/reqs" >"$f/out7"
  check_order "$f/out7" 300
}

@test "--stdin: v and uri filled in, j lines sent as they are, bad lines answered in place" {
  run out --stdin "$(url tcp /Math/mult)" <<'EOF'
{"action":"call","args":{"a":2,"b":3}}
j{"action":"call","uri":"/Math/mult","args":{"a":3,"b":3},"v":1.1}

not json
[1,2]
{"action":"info","uri":"/Text/upper","v":1.1}
EOF
  assert_success
  assert_equal "${#lines[@]}" 5
  jq -e '.[0] == 200 and .[2] == 6 and .[3]["riap.v"] == 1.2' <<<"${lines[0]}"
  jq -e '.[2] == 9 and .[3]["riap.v"] == 1.1' <<<"${lines[1]}"
  jq -e '.[0] == 400 and (.[1] | startswith("Invalid JSON"))' <<<"${lines[2]}"
  jq -e '.[0] == 400 and .[1] == "Invalid request (not hash)"' <<<"${lines[3]}"
  jq -e '.[2].uri == "/Text/upper"' <<<"${lines[4]}"
}

@test "--stdin: a last line without a newline is sent; empty input prints nothing" {
  run out --stdin "$(url pipe /)" < <(printf '{"action":"call","uri":"/Math/mult","args":{"a":4,"b":4}}')
  assert_success
  jq -e '.[2] == 16' <<<"$output"
  run out --stdin "$(url pipe /)" </dev/null
  assert_success
  assert_output ""
}

@test "--stdin: a connection that breaks prints the answers, then what is unanswered (111)" {
  local f=$BATS_TEST_TMPDIR
  printf '#!/bin/sh\nexec "%s" --max-line 200 "%s" 2>/dev/null\n' "$HANDLE" "$ROOT" >"$f/tight"
  chmod +x "$f/tight"
  {
    echo '{"action":"info","uri":"/Math/mult"}'
    printf '{"action":"info","uri":"/%0300d"}\n' 0
    echo '{"action":"info","uri":"/Math/div"}'
  } >"$f/reqs"
  run "$RIAP" --stdin "riap+pipe:$f/tight////" <"$f/reqs"
  assert_equal "$status" 111
  jq -e '.[0] == 200' <<<"${lines[0]}"
  jq -e '.[0] == 413' <<<"${lines[1]}"
  assert_line --index 2 --regexp "^riap: fatal: connection closed by pipe:$f/tight .*; 2 answered, 1 unanswered$"
}

# ------------------------------------------------------------ dead servers

@test "a refused TCP connection: a clear message, 111, retries as asked" {
  local port; port=$(free_port)
  run riap --retries 0 info "riap+tcp://127.0.0.1:$port/"
  assert_equal "$status" 111
  assert_output "riap: fatal: unable to connect to 127.0.0.1:$port: Connection refused"
  run riap --retries 2 --retry-delay 0.05 info "riap+tcp://127.0.0.1:$port/"
  assert_equal "$status" 111
  assert_line --index 0 "riap: warning: unable to connect to 127.0.0.1:$port: Connection refused; retrying in 0.0 s (1 of 2)"
  assert_line --index 2 "riap: fatal: unable to connect to 127.0.0.1:$port: Connection refused (3 attempts)"
}

@test "a retry reaches a server that comes up meanwhile" {
  local port; port=$(free_port)
  ( sleep 0.3; exec tcpserver -q 127.0.0.1 "$port" "$HANDLE" "$ROOT" 2>/dev/null ) &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  run riap --retries 10 --retry-delay 0.2 call "riap+tcp://127.0.0.1:$port/Math/mult" a=6 b=7
  assert_success
  assert_line --index -1 "42"
  assert_line --index 0 --partial "riap: warning: unable to connect to 127.0.0.1:$port: Connection refused; retrying"
}

@test "a missing Unix socket and a missing program: clear messages, 111" {
  run riap --retries 0 info "riap+unix:$BATS_TEST_TMPDIR/none.sock//"
  assert_equal "$status" 111
  assert_output "riap: fatal: unable to connect to unix:$BATS_TEST_TMPDIR/none.sock: No such file or directory"
  run riap --retries 0 info "riap+pipe:$BATS_TEST_TMPDIR/none////"
  assert_equal "$status" 111
  assert_output "riap: fatal: unable to run $BATS_TEST_TMPDIR/none: No such file or directory"
}

@test "a server that closes without answering, or answers garbage: clear messages, 111" {
  run riap --retries 0 info 'riap+pipe:true////'
  assert_equal "$status" 111
  assert_output --regexp '^riap: fatal: connection closed by pipe:true (without a response|while sending)$'
  run riap info 'riap+pipe:printf//HTTP%2F1.1%20400%20Bad%20Request%5Cr%5Cn//'
  assert_equal "$status" 111
  assert_output --partial 'invalid response line from pipe:printf HTTP/1.1 400 Bad Request\r\n: "HTTP/1.1 400 Bad Request"'
  run riap info 'riap+pipe:printf//j%7B%7D%5Cn//'
  assert_equal "$status" 111
  assert_output --partial 'not an envelope'
  run riap info 'riap+pipe:sh//-c/exit%203//'
  assert_equal "$status" 111
  assert_output --regexp '^riap: fatal: connection closed by pipe:sh -c exit 3 (without a response|while sending) \(pipe:sh -c exit 3 exited 3\)$'
}

@test "a server that does not answer in time: --timeout, 111" {
  run riap --timeout 0.3 info 'riap+pipe:sh//-c/cat%20%3E%2Fdev%2Fnull//'
  assert_equal "$status" 111
  assert_output "riap: fatal: no response from pipe:sh -c cat >/dev/null within 0.300 s"
  run riap --stdin --timeout 0.3 'riap+pipe:sh//-c/cat%20%3E%2Fdev%2Fnull//' <<<'{"action":"info"}'
  assert_equal "$status" 111
  assert_output --partial "no response from pipe:sh -c cat >/dev/null within 0.300 s; 0 answered, 1 unanswered"
}

@test "a TCP server that accepts and closes: connection closed, 111" {
  local port; port=$(free_port)
  tcpserver -q 127.0.0.1 "$port" true 2>/dev/null &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  for _ in $(seq 50); do perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0);
    connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or exit 1' "$port" && break; sleep 0.05; done
  run riap --retries 0 info "riap+tcp://127.0.0.1:$port/"
  assert_equal "$status" 111
  assert_output --regexp "^riap: fatal: connection closed by 127.0.0.1:$port"
}

# ------------------------------------------------------------ URL forms

@test "riap+pipe: riap-handle run by riap prints no access records on the user's terminal; --log-fd 2 asks for them" {
  local esc=${ROOT// /%20}
  run --separate-stderr "$RIAP" call "riap+pipe:$HANDLE//${esc//\//%2F}//Math/mult" a=7 b=6
  assert_success
  assert_output "42"
  [[ "$stderr" != *riap-access* ]] || fail "access records on stderr: $stderr"
  run --separate-stderr "$RIAP" call "riap+pipe:$HANDLE//--log-fd/2/${esc//\//%2F}//Math/mult" a=7 b=6
  assert_output "42"
  [[ "$stderr" == *"%riap-access 1 "*"uri=/Math/mult status=200"* ]] || fail "no access record with --log-fd 2: $stderr"
}

@test "riap+pipe: arguments with percent-escapes reach the program" {
  local esc=${ROOT// /%20}
  run out call "riap+pipe:$HANDLE//--log-fd/2/${esc//\//%2F}//Math/mult" a=7 b=6
  assert_success
  assert_output "42"
  # unescaped slashes split the arguments
  run out call "riap+pipe:sh//-c/exec%20%22%24%40%22%202%3E%2Fdev%2Fnull/sh/${HANDLE//\//%2F}/${esc//\//%2F}//Math/mult" a=2 b=2
  assert_success
  assert_output "4"
}

@test "the scheme is case-insensitive and a name resolves" {
  run out call "RIAP+TCP://localhost:$PORT/Math/mult" a=3 b=3
  assert_success
  assert_output "9"
}

# ------------------------------------------------------------ sanitizers

@test "riap under ASan+UBSan: requests, binary, --stdin and failures, no leak" {
  local asan=$RIAP_BUILD/asan/bin/riap f=$BATS_TEST_TMPDIR
  [ -x "$asan" ] || skip "no sanitizer build (make test builds it)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  run "$asan" call "$(url tcp /Math/mult)" a=2 b=3 --pretty
  assert_success
  assert_output "6"
  perl -e 'print map { chr } 0..255' >"$f/in.bin"
  "$asan" --binary call "$(url unix /Util/bitflip)" data:base64=@"$f/in.bin" >"$f/out.bin"
  "$asan" --binary --v 1.1 call "$(url pipe /Util/bitflip)" data:base64=@"$f/out.bin" >"$f/back.bin"
  cmp "$f/in.bin" "$f/back.bin"
  gen_requests 1000 >"$f/reqs"
  "$asan" --stdin --window 10 "$(url pipe /)" <"$f/reqs" >"$f/out"
  check_order "$f/out" 1000
  run "$asan" --raw --naked call "$(url tcp /Math/nope)" --args '{"a":[1,{"b":null}]}' x:base64=AA==
  assert_equal "$status" 104
  run "$asan" --retries 1 --retry-delay 0 info "riap+unix:$f/none.sock//"
  assert_equal "$status" 111
  run "$asan" info 'riap+pipe:printf//j%5B1%5Cn//'
  assert_equal "$status" 111
  assert_output --partial "invalid JSON in the response"
  run "$asan" info bad
  assert_equal "$status" 100
  run "$asan" -h
  assert_success
}

# ------------------------------------------------------------ more connections

@test "--connect-timeout: a Unix socket whose backlog stays full times out (111)" {
  local s=$BATS_TEST_TMPDIR/full.sock
  perl -MSocket -MFcntl -e 'socket(my $l, PF_UNIX, SOCK_STREAM, 0) or die; bind($l, pack_sockaddr_un($ARGV[0])) or die;
    listen($l, 0) or die; my @c; for (1..3) { socket(my $c, PF_UNIX, SOCK_STREAM, 0);
    fcntl($c, F_SETFL, O_NONBLOCK); connect($c, pack_sockaddr_un($ARGV[0])); push @c, $c }
    open(my $r, ">", "$ARGV[0].ready"); close $r; sleep 30' "$s" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  for _ in $(seq 100); do [ -e "$s.ready" ] && break; sleep 0.05; done
  run riap --retries 0 --connect-timeout 0.3 info "riap+unix:$s//"
  assert_equal "$status" 111
  assert_output "riap: fatal: unable to connect to unix:$s: timed out"
}

@test "an IPv6 server: riap+tcp://[::1]:PORT/" {
  local port; port=$(free_port)
  perl -MSocket=:all -e 'socket(my $s, PF_INET6, SOCK_STREAM, 0) or exit 1; bind($s, pack_sockaddr_in6(0, inet_pton(AF_INET6, "::1"))) or exit 1' ||
    skip "no IPv6 loopback"
  "$LISTEN" --notification-fd 3 --scoreboard-path "" --start-servers 1 -p "[::1]:$port" -- "$HANDLE" "$ROOT" \
    3>"$BATS_TEST_TMPDIR/ready" >/dev/null 2>&1 &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  for _ in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/ready" ] && break; sleep 0.05; done
  run out call "riap+tcp://[::1]:$port/Math/mult" a=5 b=5
  assert_success
  assert_output "25"
}
