#!/usr/bin/env bats
# services/riap-mux under a real s6-svscan: ready once it listens, serves a
# riap-listen mount, s6-svc -h replaces the backend while calls go on, s6-svc
# -d removes the socket; a configuration error keeps it down.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load svc

bats_require_minimum_version 1.5.0

setup() {
  command -v s6-svscan >/dev/null || skip "s6 is not installed (make test installs it)"
  SCAN=$BATS_TEST_TMPDIR/scan SVC=$SCAN/riap-mux
  SOCK=$BATS_TEST_TMPDIR/run/mux.sock
  mkdir -p "$SCAN"
  cp -R "$RIAP_REPO/services/riap-mux" "$SVC"
  echo "$SOCK" >"$SVC/env/SOCKET"
  echo "$RIAP_BUILD/bin/riap-handle $RIAP_REPO/examples" >"$SVC/env/PROGRAM"
  echo "$RIAP_BUILD/bin:$PATH" >"$SVC/env/PATH"
}

teardown() { reap_services; }

backend() { pgrep -P "$(mux_pid)" -f riap-handle; }
mux_pid() { s6-svstat -o pid "$SVC"; }
up_ready() { [ "$(s6-svstat -o up,ready "$SVC" 2>/dev/null)" = "true true" ]; }
down() { [ "$(s6-svstat -o up "$SVC" 2>/dev/null)" = false ]; }
changed() { local p; p=$(backend) && [ -n "$p" ] && [ "$p" != "$old" ]; }

@test "s6: ready once it listens; a riap-listen mount of it answers; s6-svc -h replaces the backend, no call failed; -d removes the socket" {
  start_scanner s6
  wait_for "riap-mux up and ready" 20 up_ready
  [ -S "$SOCK" ]
  mkdir -p "$BATS_TEST_TMPDIR/root"
  echo "{\"url\": \"riap+unix:$SOCK//Math/\"}" >"$BATS_TEST_TMPDIR/root/M.mount.json"
  ROOT=$BATS_TEST_TMPDIR/root listen -p "127.0.0.1:$(free_port)" -s "$BATS_TEST_TMPDIR/l.sock" --start-servers 2
  run -0 "$RIAP_BUILD/bin/riap" --raw --compact call "riap+unix:$BATS_TEST_TMPDIR/l.sock//M/mult" a=6 b=7
  assert_equal "$(jq '.[2]' <<<"$output")" 42
  old=$(backend)
  for i in $(seq 1 400); do echo "{\"action\":\"call\",\"uri\":\"/M/mult\",\"args\":{\"a\":$i,\"b\":3}}"; done >"$BATS_TEST_TMPDIR/req"
  "$RIAP_BUILD/bin/riap" --stdin --window 4 --compact "riap+unix:$BATS_TEST_TMPDIR/l.sock//" \
    <"$BATS_TEST_TMPDIR/req" >"$BATS_TEST_TMPDIR/answers" &
  client=$!
  echo "$client" >>"$BATS_TEST_TMPDIR/pids"
  s6-svc -h "$SVC"
  wait_for "a new backend" 10 changed
  wait "$client"
  run jq -s '[.[] | .[2]] == [range(1; 401) | . * 3]' "$BATS_TEST_TMPDIR/answers"
  [ "$output" = true ] || tail -3 "$BATS_TEST_TMPDIR/answers"
  assert_output true
  s6-svc -d "$SVC"
  wait_for "riap-mux down" 10 down
  [ ! -e "$SOCK" ]
  run -0 s6-svstat -o exitcode "$SVC"
  assert_output 0
}

@test "s6: an empty env/PROGRAM keeps it down (exit 100, not retried)" {
  : >"$SVC/env/PROGRAM"
  start_scanner s6
  wait_for "riap-mux/run to fail" 20 bash -c "[ \"\$(s6-svstat -o exitcode '$SVC' 2>/dev/null)\" = 100 ]"
  sleep 2
  run -0 s6-svstat -o up,wantedup,exitcode "$SVC"
  assert_output "false false 100"
}

@test "runit: runsv runs it too (no readiness fd): it answers, sv hup gives a new backend, sv down removes the socket" {
  command -v runsvdir >/dev/null || skip "runit is not installed (make test installs it)"
  start_scanner runit
  wait_for "riap-mux listening" 20 test -S "$SOCK"
  run -0 "$RIAP_BUILD/bin/riap" --raw --compact call "riap+unix:$SOCK//Math/mult" a=6 b=7
  assert_equal "$(jq '.[2]' <<<"$output")" 42
  rpid() { sv status "$SVC" | sed -n 's/^run: [^(]*(pid \([0-9]*\)).*/\1/p'; }
  backend() { pgrep -P "$(rpid)" -f riap-handle; }
  wait_for "a backend" 10 backend
  old=$(backend)
  sv hup "$SVC"
  wait_for "a new backend" 10 changed
  run -0 "$RIAP_BUILD/bin/riap" --raw --compact call "riap+unix:$SOCK//Math/mult" a=2 b=5
  assert_equal "$(jq '.[2]' <<<"$output")" 10
  sv down "$SVC"
  wait_for "the socket removed" 10 bash -c "[ ! -e '$SOCK' ]"
}
