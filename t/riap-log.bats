#!/usr/bin/env bats
# riap-log: access records to the access log, everything else time stamped
# to the error log, rotation, reopening, retries, and no line lost or doubled.
load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
bats_require_minimum_version 1.5.0

REC='%riap-access 1 time=1764105825.123456 pid=4242 peer=127.0.0.1:51000 v=1.1 action=call uri=/Math/mult status=200 treq=0.000012 tres=0.000240 args=13:{"a":2,"b":3} res=1:6'
PERL='127.0.0.1:51000 - [25/Nov/2025:21:23:45 +0000] "call /Math/mult" [args 13 {"a":2,"b":3}] 0.012ms [res 1 6] 0.240ms'

setup() {
  T=$BATS_TEST_TMPDIR
  pids=()
}

teardown() {
  local p
  [ -d "$T/acc" ] && chmod 755 "$T/acc"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do reap "$p" 5 2>/dev/null || { kill -9 "$p" 2>/dev/null; wait "$p" 2>/dev/null; }; done
  if [ -n "${svscan:-}" ]; then
    s6-svscanctl -t "$T/scan" 2>/dev/null
    wait "$svscan" 2>/dev/null
  fi
  return 0
}

# waits up to $2 seconds (default 10) for the command $1 to succeed
waitfor() {
  local i
  for ((i = 0; i < ${2:-10} * 20; i++)); do eval "$1" && return 0; sleep 0.05; done
  eval "$1"
}

# waits up to $2 seconds (default 10) for process $1 to end; returns its status
reap() {
  waitfor '! kill -0 '"$1"' 2>/dev/null' "${2:-10}" || return 1
  wait "$1"
}

# sequence numbers (the N of uri=/Math/mult/N) seen more or less than once
seqcheck() { # FILE COUNT
  grep -o 'mult/[0-9]*' "$1" | sort | uniq -c | awk -v n="$2" '
    $1 != 1 { print "doubled: " $2 } { seen++ } END { if (seen != n) print "seen " seen " of " n }'
}

@test "-h prints the usage on stdout and exits 0; -V the version" {
  run riap-log -h
  assert_success
  assert_output --partial "usage: riap-log"
  assert_output --partial "--max-files"
  run riap-log --version
  assert_success
  assert_output --regexp '^riap-log [0-9]'
}

@test "usage errors exit 100 with a message on stderr" {
  run --separate-stderr riap-log -f xml </dev/null
  assert_equal "$status" 100
  assert_equal "${stderr_lines[0]}" "riap-log: fatal: unknown format: xml"
  run riap-log --bogus </dev/null
  assert_equal "$status" 100
  run riap-log extra </dev/null
  assert_equal "$status" 100
  run --separate-stderr riap-log -s 12x </dev/null
  assert_equal "$status" 100
  assert_equal "${stderr_lines[0]}" "riap-log: fatal: --max-size needs a size from 1 to 1099511627776M bytes (k: times 1024, M: times 1048576), not '12x'"
  assert_equal "${stderr_lines[1]%% \[*}" "riap-log: usage: riap-log"
  run --separate-stderr riap-log -n 2k </dev/null
  assert_equal "$status" 100
  assert_equal "${stderr_lines[0]}" "riap-log: fatal: --max-files needs a number from 0 to 100000, not '2k'"
  run riap-log -t local </dev/null
  assert_equal "$status" 100
  run riap-log -a </dev/null
  assert_equal "$status" 100
}

@test "a log that cannot be opened at start is fatal: exit 111" {
  run --separate-stderr riap-log -a "$T/no/such/dir/access.log" </dev/null
  assert_equal "$status" 111
  assert_equal "$stderr" "riap-log: fatal: unable to open $T/no/such/dir/access.log: No such file or directory"
}

@test "perl format: the Perl server's line, times in milliseconds" {
  run --separate-stderr riap-log <<<"$REC"
  assert_success
  assert_output "$PERL"
  assert_equal "$stderr" ""
}

@test "perl format: args and result cut at 1000 bytes with p, non-printable bytes as \\xhh" {
  mkrecord -l 1500 -r '[1,"a"]' -u $'/a b\x01' -A '' >"$T/in"
  run riap-log -a "$T/a.log" <"$T/in"
  assert_success
  line=$(cat "$T/a.log")
  [[ $line == *'"- /a b\x01" [args 1500p xxx'* ]]
  [[ $line == *'x] 0.012ms [res 7 \x5b1,"a"\x5d] 0.240ms' ]]
  args=${line#*\[args 1500p }
  args=${args%%\]*}
  assert_equal "${#args}" 1000
  printf '%s\n' "${REC/res=1:6/res=4:\\x00\\x5c\\xe9\\x20}" | riap-log >"$T/b.log"
  run grep -F '[res 4 \x00\x5c\xe9 ]' "$T/b.log"
  assert_success
}

@test "perl format: \", [, ], spaces and backslashes from a client are escaped: it cannot forge fields" {
  local action='call x' uri='/a b" [args 0 ] 0.001ms [res 1 6] 0.001ms "\x41\'
  local args='{"k":"] 9.9ms [res 1 1] 9.9ms [x\\"}' res='["]","[\\"]'
  mkrecord -A "$action" -u "$uri" -a "$args" -r "$res" -p '[::1]:5000' >"$T/in"
  riap-log -a "$T/a.log" <"$T/in"
  assert_equal "$(wc -l <"$T/a.log")" 1
  line=$(cat "$T/a.log")
  # the line's grammar, each field free of its delimiters: exactly 10 fields
  local re='^([^ ]+) - \[([^][]*)\] "([^" ]*) ([^"]*)" \[args ([0-9]+p?) ([^][]*)\] ([0-9]+\.[0-9]{3}ms) \[res ([0-9]+p?) ([^][]*)\] ([0-9]+\.[0-9]{3}ms)$'
  [[ $line =~ $re ]] || fail "the line does not parse: $line"
  assert_equal "${#BASH_REMATCH[@]}" 11
  assert_equal "${BASH_REMATCH[1]}" '[::1]:5000'
  assert_equal "${BASH_REMATCH[5]}" "${#args}"
  assert_equal "${BASH_REMATCH[7]}" 0.012ms
  assert_equal "${BASH_REMATCH[8]}" "${#res}"
  assert_equal "${BASH_REMATCH[10]}" 0.240ms
  # and \xhh undone gives back what the client sent, byte for byte
  assert_equal "$(printf '%b' "${BASH_REMATCH[3]}")" "$action"
  assert_equal "$(printf '%b' "${BASH_REMATCH[4]}")" "$uri"
  assert_equal "$(printf '%b' "${BASH_REMATCH[6]}")" "$args"
  assert_equal "$(printf '%b' "${BASH_REMATCH[9]}")" "$res"
}

@test "json format: every field, checked with jq" {
  mkrecord -l 1200 -u $'/a\nb' -p '[::1]:5000' -c 404 >"$T/in"
  printf '%s\n' "$REC" >>"$T/in"
  riap-log -f json -a "$T/a.json" <"$T/in"
  run jq -s length "$T/a.json"
  assert_output 2
  run jq -r 'select(.status == 404) | [.peer, .uri, .args_len, .args_cut, (.args | length), .res, .res_cut, .v, .action] | @json' "$T/a.json"
  assert_output '["[::1]:5000","/a\nb",1200,true,1000,"6",false,"1.1","call"]'
  run jq -r 'select(.status == 200) | [.time, .date, .pid, .treq, .tres, (.args | fromjson | .b), .args_cut] | @json' "$T/a.json"
  assert_output '[1764105825.123456,"2025-11-25T21:23:45.123456Z",4242,1.2e-05,0.00024,3,false]'
}

@test "json format: invalid UTF-8 is still valid JSON" {
  printf '%s\n' "${REC/res=1:6/res=6:\\xff\\xc3\\xa9\\x22\\x0a\\x00}" | riap-log -f json >"$T/a.json"
  run jq -r '.res | explode | @json' "$T/a.json"
  assert_output '[255,233,34,10,0]'
}

@test "tsv format: the fields in record order, tab separated" {
  run riap-log -f tsv <<<"$REC"
  assert_success
  assert_output "$(printf '2025-11-25T21:23:45.123456Z\t4242\t127.0.0.1:51000\t1.1\tcall\t/Math/mult\t200\t0.000012\t0.000240\t13\t0\t{"a":2,"b":3}\t1\t0\t6')"
  printf '%s\n' "${REC/uri=\/Math\/mult/uri=\\x09\\x5c}" | riap-log -f tsv >"$T/b.tsv"
  assert_equal "$(cut -f6 "$T/b.tsv")" '\x09\x5c'
}

@test "other lines go to the error log with an ISO 8601 stamp; records to the access log" {
  printf 'riap-handle: warning: one\n%s\nsecond line\n' "$REC" | riap-log -a "$T/a.log" -e "$T/e.log"
  assert_equal "$(cat "$T/a.log")" "$PERL"
  run cat "$T/e.log"
  assert_line -n 0 --regexp '^20[0-9][0-9]-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]\.[0-9]{6}Z riap-handle: warning: one$'
  assert_line -n 1 --regexp 'Z second line$'
  assert_equal "${#lines[@]}" 2
}

@test "tai64n stamps agree with s6-tai64nlocal; none leaves lines as they are" {
  echo hello | riap-log -t tai64n >"$T/e.log"
  run grep -E '^@[0-9a-f]{24} hello$' "$T/e.log"
  assert_success
  local shown now
  shown=$(TZ=UTC s6-tai64nlocal <"$T/e.log" | cut -c1-19 | tr ' ' T)
  now=$(date -u +%s)
  local t=$(date -u -d "${shown/T/ }" +%s)
  [ $((now - t)) -ge 0 ] && [ $((now - t)) -le 2 ]
  run riap-log -t none <<<"hello"
  assert_output hello
}

@test "a large input (lines across read boundaries, a line over 64 KiB) is read to the end" {
  { mkrecord -n 3000 -q -D; head -c 70000 /dev/zero | tr '\0' y; echo; mkrecord -n 1 -q -S 3001; } >"$T/in"
  timeout 10 riap-log -t none -a "$T/a.log" -e "$T/e.log" <"$T/in"
  run seqcheck "$T/a.log" 3001
  assert_output ""
  assert_equal "$(grep -c '^diag' "$T/e.log")" 3000
  # the long line is split at 65536 bytes, nothing lost
  assert_equal "$(grep -v '^diag' "$T/e.log" | tr -d '\n' | wc -c)" 70000
}

@test "a malformed record and a last line without newline are kept as diagnostics" {
  printf '%%riap-access 1 time=x\n%%riap-access 9 something\nno newline' | riap-log -t none -a "$T/a.log" -e "$T/e.log"
  assert_equal "$(cat "$T/a.log")" ""
  run cat "$T/e.log"
  assert_line -n 0 '%riap-access 1 time=x'
  assert_line -n 1 '%riap-access 9 something'
  assert_line -n 2 'no newline'
}

@test "the same destination for both logs keeps their order" {
  mkrecord -n 3 -q -D | riap-log -t none -a "$T/both.log" -e "$T/both.log"
  run cat "$T/both.log"
  assert_equal "${#lines[@]}" 6
  assert_line -n 1 'diag 1'
  assert_line -n 4 --partial '/Math/mult/3"'
}

@test "a directory is rotated by size, keeping --max-files rotated files" {
  mkrecord -n 100 -q | riap-log -a "$T/acc/" -s 1000 -n 3
  run ls "$T/acc"
  assert_equal "${#lines[@]}" 5
  assert_line -n 3 current
  assert_line -n 4 lock
  for f in "${lines[@]:0:3}"; do
    [[ $f =~ ^@[0-9a-f]{24}\.s$ ]]
    [ "$(stat -c %s "$T/acc/$f")" -le 1000 ]
    [ "$(tail -c1 "$T/acc/$f" | od -An -c | tr -d ' ')" = '\n' ]
  done
  # the newest 28 records, each once, in order, across the files
  cat "$T/acc"/@* "$T/acc/current" | grep -o 'mult/[0-9]*' >"$T/seq"
  assert_equal "$(head -1 "$T/seq")" "mult/73"
  assert_equal "$(tail -1 "$T/seq")" "mult/100"
  assert_equal "$(wc -l <"$T/seq")" 28
  # a restart appends to current
  mkrecord -n 1 -q -S 101 | riap-log -a "$T/acc" -s 100000
  assert_equal "$(tail -1 "$T/acc/current" | grep -o 'mult/[0-9]*')" "mult/101"
}

@test "a directory has one writer: a second riap-log waits for the lock, then writes" {
  mkfifo "$T/in" "$T/in2"
  riap-log -a "$T/acc/" <"$T/in" &
  pids+=($!)
  exec 7>"$T/in"
  mkrecord -n 2 -q >&7
  waitfor '[ "$(wc -l <"$T/acc/current")" = 2 ]'
  riap-log -a "$T/acc/" -r 1 <"$T/in2" 2>"$T/stderr2" 7>&- &
  pids+=($!)
  exec 8>"$T/in2"
  mkrecord -n 3 -q -S 3 >&8
  waitfor 'grep -q "unable to lock" "$T/stderr2"'
  assert_equal "$(cat "$T/stderr2")" "riap-log: warning: unable to lock $T/acc/: another process writes there (retrying every 1 s, nothing dropped)"
  kill -0 "${pids[1]}"                 # waiting, not gone
  assert_equal "$(wc -l <"$T/acc/current")" 2
  exec 7>&-
  reap "${pids[0]}"
  exec 8>&-
  reap "${pids[1]}"
  run seqcheck "$T/acc/current" 5
  assert_output ""
  grep -q "info: writing to $T/acc/ again" "$T/stderr2"
}

@test "SIGHUP reopens the file after an external rename" {
  mkfifo "$T/in"
  riap-log -a "$T/a.log" -e "$T/e.log" <"$T/in" &
  pids+=($!)
  exec 7>"$T/in"
  mkrecord -n 3 -q >&7
  waitfor '[ "$(wc -l <"$T/a.log")" = 3 ]'
  mv "$T/a.log" "$T/a.log.1"
  kill -HUP "${pids[0]}"
  sleep 0.2
  mkrecord -n 2 -q -S 4 >&7
  exec 7>&-
  reap "${pids[0]}"
  assert_equal "$(wc -l <"$T/a.log.1")" 3
  assert_equal "$(grep -o 'mult/[0-9]*' "$T/a.log" | tr '\n' ' ')" "mult/4 mult/5 "
}

@test "an unwritable log directory is reported, reading pauses, and all is written once fixed" {
  # root ignores permissions: run riap-log as nobody
  local rl=riap-log
  chmod a+rwx "$T"
  if [ "$(id -u)" = 0 ]; then
    [ -n "${BATS_RUN_TMPDIR:-}" ] && chmod a+x "$BATS_RUN_TMPDIR"
    cp "$(command -v riap-log)" "$T/riap-log"
    rl="setpriv --reuid=nobody --regid=nogroup --clear-groups $T/riap-log"
  fi
  mkfifo -m 666 "$T/in"
  $rl -a "$T/acc/" -e "$T/e.log" -s 20000 -n 0 -r 1 -b 4096 <"$T/in" 2>"$T/stderr" &
  pids+=($!)
  exec 7>"$T/in"
  mkrecord -n 2 -q >&7
  waitfor '[ -s "$T/acc/current" ]'
  chmod 555 "$T/acc"
  mkrecord -n 3000 -q -S 3 >&7 &
  pids+=($!)
  waitfor 'grep -q "unable to rotate" "$T/stderr"'
  run cat "$T/stderr"
  assert_line -n 0 --partial "riap-log: warning: unable to rotate $T/acc/ (retrying every 1 s, nothing dropped): Permission denied"
  # memory is bounded: the writer is held back, not dropped
  sleep 1
  kill -0 "${pids[1]}"
  chmod 755 "$T/acc"
  reap "${pids[1]}"
  exec 7>&-
  reap "${pids[0]}"
  grep -q "info: writing to $T/acc/ again" "$T/stderr"
  cat "$T/acc"/* >"$T/all"
  run seqcheck "$T/all" 3002
  assert_output ""
}

@test "8 concurrent writers: exactly one access line per record" {
  mkfifo "$T/in"
  riap-log -a "$T/a.log" -e "$T/e.log" <"$T/in" &
  pids+=($!)
  exec 7>"$T/in"
  local i w=()
  for i in 0 1 2 3 4 5 6 7; do
    mkrecord -n 1500 -q -S $((i * 1500 + 1)) -D -d 100 >&7 &
    w+=($!)
  done
  exec 7>&-
  for i in "${w[@]}"; do reap "$i" 20; done
  reap "${pids[0]}"
  run seqcheck "$T/a.log" 12000
  assert_output ""
  assert_equal "$(grep -c '^20.*Z diag [0-9]*$' "$T/e.log")" 12000
}

@test "riap-listen with 8 concurrent clients: exactly one access line per request" {
  command -v riap-listen >/dev/null && command -v riap-handle >/dev/null || skip "riap-listen or riap-handle not built"
  command -v socat >/dev/null || skip "no socat"
  local root port i k c=()
  root=$(cd "$BATS_TEST_DIRNAME/../examples" && pwd)
  port=$(perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
    bind($s, sockaddr_in(0, inet_aton("127.0.0.1"))) or die;
    print((sockaddr_in(getsockname($s)))[0], "\n")')
  mkfifo "$T/in"
  riap-log -f json -a "$T/a.json" -e "$T/e.log" <"$T/in" &
  pids+=($!)
  riap-listen -p 127.0.0.1:$port --scoreboard-path 0 -- riap-handle "$root" >"$T/in" 2>&1 &
  pids+=($!)
  req() { printf 'j{"action":"call","uri":"/Math/mult","args":{"a":%d,"b":1}}\r\n' "$@"; }
  waitfor 'req 0 | socat -t 2 - TCP:127.0.0.1:$port 2>/dev/null | grep -q "^j\[200"' 30
  for i in 0 1 2 3 4 5 6 7; do
    req $(seq $((i * 25 + 1)) $((i * 25 + 25))) | socat -t 30 - TCP:127.0.0.1:$port >"$T/out.$i" 2>"$T/err.$i" &
    c+=($!)
  done
  for i in "${c[@]}"; do reap "$i" 40; done
  cat "$T/e.log" "$T"/err.*   # shown only when the test fails
  assert_equal "$(cat "$T"/out.* | grep -c '^j\[200,')" 200
  kill -TERM "${pids[1]}"
  reap "${pids[1]}" 30
  reap "${pids[0]}"
  run jq -r 'select(.uri == "/Math/mult") | .args | fromjson | .a | select(. > 0)' "$T/a.json"
  assert_equal "${#lines[@]}" 200
  assert_equal "$(printf '%s\n' "${lines[@]}" | sort -n | uniq | wc -l)" 200
  assert_equal "$(printf '%s\n' "${lines[@]}" | sort -n | tail -1)" 200
}

@test "SIGTERM: riap-log writes what it read, finishes a line begun, and leaves the rest in the pipe" {
  mkfifo "$T/in"
  exec 7<>"$T/in"
  mkrecord -n 5 -q >&7
  riap-log -t none -a "$T/a.log" -e "$T/e.log" <"$T/in" 7>&- &
  pids+=($!)
  waitfor '[ "$(wc -l <"$T/a.log" 2>/dev/null)" = 5 ]'
  printf 'part' >&7
  sleep 0.1
  kill -TERM "${pids[0]}"
  sleep 0.3
  { printf 'ial\n'; mkrecord -n 5 -q -S 6; } >&7
  reap "${pids[0]}"
  assert_equal "$(cat "$T/e.log")" "partial"
  run seqcheck "$T/a.log" 5
  assert_output ""
  # the next riap-log gets the rest from the pipe
  riap-log -t none -a "$T/a.log" -e "$T/e.log" <"$T/in" 7>&- &
  pids+=($!)
  waitfor '[ "$(wc -l <"$T/a.log")" = 10 ]'
  exec 7>&-
  reap "${pids[1]}"
  run seqcheck "$T/a.log" 10
  assert_output ""
}

@test "under s6, restarting riap-log while records flow loses and doubles nothing" {
  local n=2500
  mkdir -p "$T/scan/prod/log"
  cat >"$T/scan/prod/run" <<EOS
#!/bin/sh
exec 2>&1
mkrecord -n $n -q -D -d 500
exec sleep 1000
EOS
  cat >"$T/scan/prod/log/run" <<EOS
#!/bin/sh
exec riap-log -a "$T/a.log" -e "$T/e.log"
EOS
  chmod +x "$T/scan/prod/run" "$T/scan/prod/log/run"
  s6-svscan "$T/scan" >"$T/svscan.out" 2>&1 &
  svscan=$!
  waitfor '[ -s "$T/a.log" ]'
  local i
  for i in 1 2 3 4; do
    sleep 0.4
    s6-svc -r "$T/scan/prod/log"
  done
  waitfor '[ "$(wc -l <"$T/a.log")" -ge $n ] && [ "$(wc -l <"$T/e.log")" -ge $n ]' 30
  sleep 0.3
  run seqcheck "$T/a.log" $n
  assert_output ""
  assert_equal "$(grep -c ' diag [0-9]*$' "$T/e.log")" $n
  assert_equal "$(grep -o ' diag [0-9]*$' "$T/e.log" | sort -u | wc -l)" $n
}
