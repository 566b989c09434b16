#!/usr/bin/env bats
# Three riap-listen instances behind a real HAProxy (send-proxy-v2, the
# tcp-check of doc/SCALING.md) on 127.0.0.1; eight clients, each bound to
# its own 127.0.0.x source, calling in a loop (a new connection per call,
# t/load-client.pl). Client addresses reach the access records and
# --deny through the balancer; kill -9 of one instance fails only the calls
# in flight on it (at most one per client); drain then stop of one instance
# fails none. HAProxy runs in the foreground, stopped by its pid.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

setup() {
  command -v haproxy >/dev/null || skip "haproxy not installed (tools/deps)"
  T=$BATS_TEST_TMPDIR
  ROOT=$T/root
  mkdir -p "$ROOT"
  cp -a "$RIAP_REPO/examples/Math" "$ROOT/"
  FP=$(free_port)
  for i in 1 2 3; do
    P[$i]=$(free_port)
    "$LISTEN" --name "i$i.$BATS_TEST_NUMBER.$$" --scoreboard-path "$T/sb.$i" --pid-path "$T/pid.$i" \
      --notification-fd 3 --max-workers-per-ip 0 --deny 127.0.0.18 \
      --proxy-protocol -p "127.0.0.1:${P[$i]}" --proxy-from 127.0.0.1 \
      -- "$HANDLE" "$ROOT" 3>"$T/ready.$i" >"$T/out.$i" 2>"$T/err.$i" &
    L[$i]=$!
    echo "${L[$i]}" >>"$T/pids"
  done
  for i in 1 2 3; do wait_for "instance $i ready" 10 test -s "$T/ready.$i"; done
  sed -e "s|@FP@|$FP|; s|@P1@|${P[1]}|; s|@P2@|${P[2]}|; s|@P3@|${P[3]}|; s|@SOCK@|$T/hap.sock|" \
    "$RIAP_REPO/t/haproxy.cfg.in" >"$T/haproxy.cfg"
  haproxy -db -f "$T/haproxy.cfg" >"$T/hap.out" 2>&1 &
  HPID=$!
  echo "$HPID" >>"$T/pids"
  for s in r1 r2 r3; do wait_for "$s up in haproxy" 10 server_is "$s" UP; done
}

teardown() {
  [ -n "${T:-}" ] && touch "$T/stop"
  reap_test_pids
  return 0
}

# server_is NAME STATUS: HAProxy's stats socket says so
server_is() {
  echo "show stat" | socat -t 2 - "UNIX-CONNECT:$T/hap.sock" 2>/dev/null \
    | awk -F, -v s="$1" '$1 == "riap" && $2 == s { print $18 }' | grep -qx "$2"
}

# clients FIRST LAST: load clients from 127.0.0.FIRST .. LAST, pids in CL
clients() {
  local k
  rm -f "$T/stop"
  CL=()
  for k in $(seq "$1" "$2"); do
    perl "$RIAP_REPO/t/load-client.pl" --from "127.0.0.$k" --stop "$T/stop" "127.0.0.1:$FP" >"$T/client.$k" &
    CL+=($!)
    echo $! >>"$T/pids"
  done
}
clients_stop() { touch "$T/stop"; local c; for c in "${CL[@]}"; do wait "$c"; done; }
field() { sed -n "s/.*\b$2=\([0-9]*\).*/\1/p" "$T/client.$1" | tail -1; }
# calls N: at least N calls in the access records (all instances')
calls() { [ "$(cat "$T"/out.* | grep -ac 'action=call')" -ge "$1" ]; }
survivors() { cat "$T/out.2" "$T/out.3" | grep -ac 'action=call'; }
survivors_past() { [ "$(survivors)" -ge "$1" ]; }

@test "through haproxy: client addresses in the access records, --deny refuses one through the balancer" {
  clients 11 18
  wait_for "calls served" 20 calls 200
  clients_stop
  for k in 11 12 13 14 15 16 17; do
    assert_equal "$(field $k fail)" 0
    [ "$(field $k ok)" -gt 0 ] || fail "client 127.0.0.$k served nothing"
  done
  assert_equal "$(field 18 ok)" 0
  [ "$(field 18 refused)" -gt 0 ] || fail "127.0.0.18 not refused"
  grep -q "refused 127.0.0.18:[0-9]*: address not allowed" "$T"/err.*
  for i in 1 2 3; do
    n=$(grep -a '^%riap-access 1 .*action=call' "$T/out.$i" | grep -o ' peer=[0-9.]*' | sort -u | wc -l)
    [ "$n" -ge 2 ] || fail "instance $i saw $n client addresses"
  done
  run sh -c "grep -ah '^%riap-access 1 .*action=call' $T/out.* | grep -o ' peer=[0-9.]*' | sort -u"
  assert_equal "${lines[*]}" " peer=127.0.0.11  peer=127.0.0.12  peer=127.0.0.13  peer=127.0.0.14  peer=127.0.0.15  peer=127.0.0.16  peer=127.0.0.17"
}

@test "kill -9 of one instance: only the calls in flight on it fail, the others serve the rest" {
  clients 11 18
  wait_for "calls served" 20 calls 150
  kill -KILL "${L[1]}" $(ps -o pid= --ppid "${L[1]}")
  wait_for "r1 down in haproxy" 10 server_is r1 DOWN
  before=$(survivors)
  wait_for "calls served after" 20 survivors_past $((before + 150))
  clients_stop
  total_fail=0
  for k in 11 12 13 14 15 16 17; do
    f=$(field $k fail)
    # in flight on the killed instance: the call its worker served, and one
    # whose connection its kernel had queued (accepted for haproxy, so
    # never redispatched) just before the listener died
    [ "$f" -le 2 ] || fail "client 127.0.0.$k: $f calls failed (two at most can be in flight): $(cat "$T/client.$k")"
    total_fail=$((total_fail + f))
  done
  echo "# calls failed by the kill: $total_fail of $(( $(field 11 ok) + $(field 12 ok) + $(field 13 ok) + $(field 14 ok) + $(field 15 ok) + $(field 16 ok) + $(field 17 ok) + total_fail ))" >&3
}

@test "drain of one instance (riap-ctl drain), then its stop: no call fails" {
  clients 11 17
  wait_for "calls served" 20 calls 150
  run "$RIAP_BUILD/bin/riap-ctl" -p "$T/pid.1" drain
  assert_success
  wait_for "r1 down in haproxy" 10 server_is r1 DOWN
  kill -TERM "${L[1]}"
  wait "${L[1]}"
  before=$(survivors)
  wait_for "calls served after" 20 survivors_past $((before + 150))
  clients_stop
  for k in 11 12 13 14 15 16 17; do
    assert_equal "$(field $k fail)" 0
  done
  grep -q "draining:" "$T/err.1"
}
