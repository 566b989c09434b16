#!/usr/bin/env bats
# riap-listen behind a balancer, without one (doc/riap-listen.8, PROXY
# PROTOCOL and DRAINING): a client writes the PROXY header itself (v1, v2,
# whole or in pieces); the address it names is the peer of the access
# records, the functions' UCSPI variables, --allow/--deny and --max-per-ip;
# a peer outside --proxy-from, a malformed header and a late one are closed
# with an error record; USR1 makes the balancer's own connections (health
# checks) get 503 while clients are still served. t/haproxy.bats does the
# same through a real HAProxy.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'
PEER='{"action":"call","uri":"/Env/peer"}'
INFO='{"action":"info","uri":"/"}'

setup_file() {
  export ROOT=$BATS_FILE_TMPDIR/root
  mkdir -p "$ROOT/Env"
  cp -a "$RIAP_REPO/examples/Math" "$ROOT/"
  cat >"$ROOT/Env/peer" <<'SH'
#!/bin/sh
cat >/dev/null
printf '[200,"OK","%s %s:%s %s:%s"]\n' "$PROTO" "$TCPREMOTEIP" "$TCPREMOTEPORT" "$TCPLOCALIP" "$TCPLOCALPORT"
SH
  chmod 755 "$ROOT/Env/peer"
  echo '{"v":1.1,"summary":"The UCSPI peer","args":{}}' >"$ROOT/Env/peer.meta.json"
}

teardown() {
  reap_test_pids
  return 0
}


pc() { perl "$RIAP_REPO/t/proxy-client.pl" "$@"; }
# peers: the access records' peer fields
peers() { grep -a '^%riap-access 1 ' "$BATS_TEST_TMPDIR/out" | grep -o ' peer=[^ ]*' | sed 's/ peer=//'; }
status_of() { jq -r '.[0]' <<<"$1"; }
result_of() { jq -r '.[2]' <<<"$1"; }

@test "v1 header: the client it names is the peer of the function and of the access record" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.0/8
  run pc --v1 10.1.2.3:4444 "127.0.0.1:$P" "req:$PEER" "req:$MULT"
  assert_success
  assert_equal "$(result_of "${lines[0]}")" "TCP 10.1.2.3:4444 127.0.0.1:80"
  assert_equal "$(result_of "${lines[1]}")" "6"
  wait_for "two records" 5 test "$(peers | wc -l)" -ge 2
  assert_equal "$(peers | sort -u)" "10.1.2.3:4444"
}

@test "v2 header, written a byte at a time: the client it names is the peer" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1
  run pc --split --v2 192.0.2.9:5555 "127.0.0.1:$P" "req:$PEER"
  assert_success
  assert_equal "$(result_of "${lines[0]}")" "TCP 192.0.2.9:5555 127.0.0.1:80"
}

@test "v2 LOCAL and v1 UNKNOWN (health checks) keep the balancer as the peer" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1
  run pc --v2local "127.0.0.1:$P" "req:$PEER"
  assert_success
  [[ "$(result_of "${lines[0]}")" == "TCP 127.0.0.1:"* ]]
  run pc --v1unknown "127.0.0.1:$P" "req:$INFO"
  assert_success
  assert_equal "$(status_of "${lines[0]}")" 200
}

@test "a peer outside --proxy-from is refused (403) with an error record, even with a good header" {
  P=$(free_port)
  listen --proxy-protocol -p "0.0.0.0:$P" --proxy-from 127.0.0.2
  run pc --from 127.0.0.3 --v1 10.0.0.1:1 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 403
  grep -q "refused 127.0.0.3:[0-9]*: not in --proxy-from" "$BATS_TEST_TMPDIR/err"
  run pc --from 127.0.0.2 --v1 10.0.0.1:1 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(result_of "${lines[0]}")" 6
}

@test "malformed headers are closed with 400 and an error record naming the fault" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1
  run pc "127.0.0.1:$P" "req:$MULT" read                             # no header at all
  assert_equal "$(status_of "${lines[0]}")" 400
  assert_equal "$(jq -r '.[1]' <<<"${lines[0]}")" "Bad PROXY protocol header"
  assert_equal "${lines[1]}" EOF
  run pc --raw 'PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n' "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 400
  run pc --raw 'PROXY TCP4 ::1 5.6.7.8 1 80\r\n' "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 400
  grep -q "refused 127.0.0.1:[0-9]*: bad PROXY protocol header: not a PROXY protocol header" "$BATS_TEST_TMPDIR/err"
  grep -q "bad PROXY protocol header: v1 port not a number" "$BATS_TEST_TMPDIR/err"
  grep -q "bad PROXY protocol header: v1 address not of the protocol's family" "$BATS_TEST_TMPDIR/err"
}

@test "a header that does not finish within --proxy-timeout is closed with an error record" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1 --proxy-timeout 0.5
  run pc --raw 'PROXY TCP4 1.2.' "127.0.0.1:$P" sleep:0.1 read
  assert_equal "${lines[0]}" EOF
  grep -q "refused 127.0.0.1:[0-9]*: no whole PROXY header within --proxy-timeout" "$BATS_TEST_TMPDIR/err"
}

@test "--deny and --max-per-ip count the header's address, not the balancer's" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1 --deny 10.9.9.9 --max-per-ip 1
  run pc --v1 10.9.9.9:1 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 403
  grep -q "refused 10.9.9.9:1: address not allowed" "$BATS_TEST_TMPDIR/err"
  pc --v1 10.1.1.1:1 "127.0.0.1:$P" "req:$MULT" sleep:30 >"$BATS_TEST_TMPDIR/held" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "a held connection" 5 grep -q 200 "$BATS_TEST_TMPDIR/held"
  run pc --v1 10.1.1.1:2 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 503
  run pc --v1 10.1.1.2:1 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 200
}

@test "a Unix socket with --proxy-protocol: the header's TCP client is the peer" {
  S=$BATS_TEST_TMPDIR/p.sock
  listen --proxy-protocol -s "$S"
  run pc --v2 198.51.100.7:7 "unix:$S" "req:$PEER"
  assert_success
  assert_equal "$(result_of "${lines[0]}")" "TCP 198.51.100.7:7 127.0.0.1:80"
}

@test "only the listeners after --proxy-protocol expect the header" {
  P=$(free_port); Q=$(free_port)
  listen -p "127.0.0.1:$Q" --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1
  run pc "127.0.0.1:$Q" "req:$MULT"
  assert_equal "$(result_of "${lines[0]}")" 6
  run pc --v1 10.0.0.1:1 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(result_of "${lines[0]}")" 6
}

@test "a TCP --proxy-protocol listener needs --proxy-from (exit 100)" {
  run "$LISTEN" --proxy-protocol -p 127.0.0.1:1 -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
  assert_output --partial "needs --proxy-from"
  run "$LISTEN" --proxy-protocol -p 127.0.0.1:1 --proxy-from 10.0.0.1/8 -- "$HANDLE" "$ROOT"
  assert_equal "$status" 100
}

@test "USR1 drains: health checks (LOCAL) get 503, clients are still served; USR2 undoes it" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1
  pc --v2 10.0.0.1:1 "127.0.0.1:$P" "req:$MULT" sleep:1 "req:$MULT" >"$BATS_TEST_TMPDIR/kept" &
  KEPT=$!
  echo "$KEPT" >>"$BATS_TEST_TMPDIR/pids"
  run pc --v2local "127.0.0.1:$P" "req:$INFO"
  assert_equal "$(status_of "${lines[0]}")" 200
  kill -USR1 "$LPID"
  wait_for "draining said" 5 grep -q "draining:" "$BATS_TEST_TMPDIR/err"
  run pc --v2local "127.0.0.1:$P" "req:$INFO"
  assert_equal "$(status_of "${lines[0]}")" 503
  assert_equal "$(jq -r '.[1]' <<<"${lines[0]}")" Draining
  run pc --v1unknown "127.0.0.1:$P" "req:$INFO"
  assert_equal "$(status_of "${lines[0]}")" 503
  run pc --v2 10.0.0.2:1 "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(result_of "${lines[0]}")" 6
  wait "$KEPT"
  assert_equal "$(grep -c '^\[200,"OK",6' "$BATS_TEST_TMPDIR/kept")" 2
  kill -USR2 "$LPID"
  wait_for "draining ended" 5 grep -q "draining ended" "$BATS_TEST_TMPDIR/err"
  run pc --v2local "127.0.0.1:$P" "req:$INFO"
  assert_equal "$(status_of "${lines[0]}")" 200
}

@test "riap-ctl drain and undrain signal the listener of a pid file" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1 --pid-path "$BATS_TEST_TMPDIR/pid"
  local ctl=("$RIAP_BUILD/bin/riap-ctl" -p "$BATS_TEST_TMPDIR/pid" -b "$BATS_TEST_TMPDIR/sb")
  run "${ctl[@]}" -i 0 status --json
  assert_success
  jq -e '.totals.draining == false and .totals.fds_lost == 0' <<<"$output" >/dev/null || fail "before: $output"
  run "${ctl[@]}" drain
  assert_success
  run pc --v2local "127.0.0.1:$P" "req:$INFO"
  assert_equal "$(status_of "${lines[0]}")" 503
  # the scoreboard says so: riap-ctl status, text and JSON
  run "${ctl[@]}" -i 0 status --json
  jq -e '.totals.draining == true' <<<"$output" >/dev/null || fail "draining not in status --json: $output"
  run "${ctl[@]}" -i 0 status
  assert_output --partial "draining: health checks answered 503"
  run "${ctl[@]}" undrain
  assert_success
  run pc --v2local "127.0.0.1:$P" "req:$INFO"
  assert_equal "$(status_of "${lines[0]}")" 200
  run "${ctl[@]}" -i 0 status --json
  jq -e '.totals.draining == false' <<<"$output" >/dev/null || fail "still draining in status --json: $output"
}

@test "IPv6 clients named by PROXY headers count by their /64 for --max-per-ip" {
  P=$(free_port)
  listen --proxy-protocol -p "127.0.0.1:$P" --proxy-from 127.0.0.1 --max-per-ip 1
  # A keeps its connection open for 4 s after its answer
  pc --v1 '[2001:db8:1:2::1]:1000' "127.0.0.1:$P" "req:$MULT" sleep:4 >"$BATS_TEST_TMPDIR/a" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "A served" 5 grep -q '^\[200,' "$BATS_TEST_TMPDIR/a"
  # B: another host of the same /64, while A is connected: refused
  run pc --v1 '[2001:db8:1:2:ffff:ffff:ffff:ffff]:1001' "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(status_of "${lines[0]}")" 503
  grep -q -- "--max-per-ip reached" "$BATS_TEST_TMPDIR/err"
  # C: the next /64: served
  run pc --v1 '[2001:db8:1:3::1]:1002' "127.0.0.1:$P" "req:$MULT"
  assert_equal "$(result_of "${lines[0]}")" 6
}
