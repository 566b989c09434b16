#!/usr/bin/env bats
# --chroot (doc/riap-handle.8 and doc/riap-listen.8, PRIVILEGES;
# doc/SECURITY.md): riap-handle shuts itself in ROOT and becomes UID/GID of
# its environment before it reads a request; riap-listen --chroot has its
# workers do so and refuses a worker that did not. The functions here are
# static programs (t/static/probe.c), since the chroot holds nothing but
# the code tree. chroot needs root: as anyone else these tests are skipped.
# Every process a test starts is killed by its pid in teardown.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

SBDUMP=$RIAP_BUILD/t/prog/riap-sbdump
PROBE='{"action":"call","uri":"/Jail/probe"}'
CO='{"action":"call","uri":"/Jail/co"}'

setup_file() {
  # world-readable: the server runs as nobody inside it
  export PUB; PUB=$(mktemp -d /tmp/riap-chroot.XXXXXX)
  chmod 755 "$PUB"
  export ROOT=$PUB/root
  mkdir -p "$ROOT/Jail"
  cp "$RIAP_BUILD/t/static/probe" "$ROOT/Jail/probe"
  cp "$RIAP_BUILD/t/static/probe" "$ROOT/Jail/co"
  echo '{"v":1.1,"summary":"Where the function runs","args":{}}' >"$ROOT/Jail/probe.meta.json"
  echo '{"v":1.1,"summary":"The same, persistent","args":{},"x.riap.exec":"persistent"}' >"$ROOT/Jail/co.meta.json"
  cp "$RIAP_REPO/examples/Math/mult" "$ROOT/Jail/sh"          # #!/bin/sh: no /bin/sh in the chroot
  cp "$RIAP_REPO/examples/Math/mult.meta.json" "$ROOT/Jail/sh.meta.json"
  chmod -R a+rX "$ROOT"
}

teardown_file() {
  rm -rf "$PUB"
}

setup() {
  [ "$(id -u)" = 0 ] || skip "chroot needs root"
}

teardown() {
  reap_test_pids
  rm -f "$PUB"/*.sock "$PUB"/sb.*
  return 0
}

@test "riap-handle --chroot: as UID/GID of s6-envuidgid, ROOT is / and nothing else is seen" {
  run bash -c "printf 'j%s\r\n' '$PROBE' | s6-envuidgid nobody $HANDLE --chroot --log-fd 5 '$ROOT' 5>/dev/null | sed 's/^j//; s/\r\$//'"
  assert_success
  jq -e '.[0] == 200 and .[2].uid == 65534 and .[2].gid == 65534
         and .[2].tree_at_root == true and .[2].etc_passwd == false' <<<"${lines[0]}"
}

@test "riap-handle --chroot: meta, list and child_metas work inside; a persistent function starts inside" {
  run bash -c "printf '%s\r\n' '{\"action\":\"list\",\"uri\":\"/Jail/\"}' '$CO' '$CO' \
    '{\"action\":\"meta\",\"uri\":\"/Jail/probe\"}' '{\"action\":\"child_metas\",\"uri\":\"/Jail/\"}' |
    sed 's/^/j/' | env UID=65534 GID=65534 GIDLIST=65534 $HANDLE --chroot --start-persistent --log-fd 5 '$ROOT' 5>/dev/null |
    sed 's/^j//; s/\r\$//'"
  assert_success
  jq -e '.[2] | index("probe") != null and index("co") != null' <<<"${lines[0]}"
  jq -e '.[0] == 200 and .[2].uid == 65534 and .[2].tree_at_root == true' <<<"${lines[1]}"
  # one coprocess answered both calls
  [ "$(jq '.[2].pid' <<<"${lines[1]}")" = "$(jq '.[2].pid' <<<"${lines[2]}")" ]
  jq -e '.[0] == 200 and .[2].summary == "Where the function runs"' <<<"${lines[3]}"
  jq -e '.[0] == 200 and (.[2]["probe"].summary == "Where the function runs")' <<<"${lines[4]}"
}

@test "riap-handle --chroot: a #! function without its interpreter inside gives 500 saying so" {
  run bash -c "printf 'j%s\r\n' '{\"action\":\"call\",\"uri\":\"/Jail/sh\",\"args\":{\"a\":2,\"b\":3}}' |
    env UID=65534 GID=65534 $HANDLE --chroot --log-fd 5 '$ROOT' 5>/dev/null | sed 's/^j//; s/\r\$//'"
  assert_success
  jq -e '.[0] == 500 and (.[1] | test("^/Jail/sh: cannot run: .*interpreter.*missing"))' <<<"${lines[0]}"
}

@test "riap-handle --chroot: refuses to stay root unless --allow-root" {
  run env -u RIAP_ALLOW_ROOT "$HANDLE" --chroot "$ROOT" </dev/null
  assert_failure 100
  assert_output --partial "riap-handle: fatal: refusing to serve as root in a chroot"
  run bash -c "printf 'j%s\r\n' '$PROBE' | env -u RIAP_ALLOW_ROOT $HANDLE --chroot --allow-root --log-fd 5 '$ROOT' 5>/dev/null | sed 's/^j//'"
  assert_success
  jq -e '.[0] == 200 and .[2].uid == 0 and .[2].tree_at_root == true' <<<"${lines[0]}"
}

@test "riap-handle --chroot: without root, a fatal error naming the reason; bad UID refused" {
  run setpriv --reuid=nobody --regid=nogroup --clear-groups "$HANDLE" --chroot "$ROOT" </dev/null
  assert_failure 111
  assert_output --partial "riap-handle: fatal: unable to chroot to $ROOT (it needs root): Operation not permitted"
  run env UID=abc GID=65534 "$HANDLE" --chroot "$ROOT" </dev/null
  assert_failure 111
  assert_output --partial "fatal: bad UID in the environment: abc"
  run env -u GID UID=65534 "$HANDLE" --chroot "$ROOT" </dev/null
  assert_failure 111
  assert_output --partial "fatal: UID without GID in the environment"
  run env UID=65534 GID=65534 GIDLIST=1,x "$HANDLE" --chroot "$ROOT" </dev/null
  assert_failure 111
  assert_output --partial "fatal: bad GIDLIST in the environment"
}

@test "riap-handle --chroot: a ROOT the user cannot read is a fatal error, not a 404 per request" {
  local closed=$PUB/closed
  mkdir -p "$closed/Jail" && chmod 700 "$closed"
  run env UID=65534 GID=65534 "$HANDLE" --chroot "$closed" </dev/null
  assert_failure 111
  assert_output --partial "fatal: ROOT cannot be read by the user it runs as, in the chroot: Permission denied"
  rm -rf "$closed"
}

@test "riap-handle: without --chroot, the same function sees the host" {
  run bash -c "printf 'j%s\r\n' '$PROBE' | $HANDLE --log-fd 5 '$ROOT' 5>/dev/null | sed 's/^j//'"
  assert_success
  jq -e '.[0] == 200 and .[2].tree_at_root == false and .[2].etc_passwd == true' <<<"${lines[0]}"
}

# listen OPTS... [-- CMD...]: riap-listen on a Unix socket, ready; sets LPID, SOCK, SB
listen() {
  local args=("$@") t=$BATS_TEST_TMPDIR
  [[ " ${args[*]} " == *" -- "* ]] || args+=(-- "$HANDLE" "$ROOT")
  SOCK=$PUB/s.$BATS_TEST_NUMBER.sock SB=$PUB/sb.$BATS_TEST_NUMBER
  "$LISTEN" --notification-fd 3 -s "$SOCK" --scoreboard-path "$SB" "${args[@]}" 3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
}
ask() { printf 'j%s\r\n' "$@" | timeout 3 socat -t 3 - "UNIX-CONNECT:$SOCK" | sed 's/^j//; s/\r$//'; }

@test "riap-listen --chroot --user: workers are in ROOT as the user; calls and the scoreboard work" {
  listen --chroot --user nobody --start-servers 2
  wait_for "listener ready" 10 test -s "$BATS_TEST_TMPDIR/ready"
  run ask "$PROBE" "$CO"
  assert_success
  jq -e '.[0] == 200 and .[2].uid == 65534 and .[2].tree_at_root == true and .[2].etc_passwd == false' <<<"${lines[0]}"
  jq -e '.[0] == 200 and .[2].uid == 65534 and .[2].tree_at_root == true' <<<"${lines[1]}"
  local w n=0
  for w in $(pgrep -P "$LPID"); do
    [ "$(readlink "/proc/$w/root")" = "$(realpath "$ROOT")" ] || fail "worker $w root: $(readlink "/proc/$w/root")"
    [ "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' "/proc/$w/status")" = 65534655346553465534 ] || fail "worker $w not nobody"
    n=$((n + 1))
  done
  [ "$n" -ge 2 ]
  wait_for "the call in the scoreboard" 5 bash -c "'$SBDUMP' '$SB' | jq -e -s 'map(.requests) | add >= 2' >/dev/null"
}

@test "riap-listen --chroot: a worker command that ignores RIAP_CHROOT is refused and never served" {
  listen --chroot --user nobody --start-servers 1 -- env -u RIAP_CHROOT "$HANDLE" "$ROOT"
  wait_for "the refusal" 10 grep -q "refused: --chroot asks it to confine itself but it did not chroot" "$BATS_TEST_TMPDIR/err"
  [ ! -s "$BATS_TEST_TMPDIR/ready" ]          # never ready
  run ask "$PROBE"
  refute_output --partial '"uid"'           # no answer: nobody serves it
  kill -0 "$LPID"                            # the listener keeps trying, slowly
}

@test "riap-listen --chroot: refused without root, with --drop-listener, or as root without --allow-root" {
  run setpriv --reuid=nobody --regid=nogroup --clear-groups "$LISTEN" -s "$PUB/x.sock" --chroot -- "$HANDLE" "$ROOT"
  assert_failure 100
  assert_output --partial "riap-listen: fatal: --chroot needs root"
  run "$LISTEN" -s "$PUB/x.sock" --chroot --user nobody --drop-listener -- "$HANDLE" "$ROOT"
  assert_failure 100
  assert_output --partial "--chroot and --drop-listener exclude each other"
  run env -u RIAP_ALLOW_ROOT "$LISTEN" -s "$PUB/x.sock" --chroot -- "$HANDLE" "$ROOT"
  assert_failure 100
  assert_output --partial "refusing to run workers"
  [ ! -e "$PUB/x.sock" ]
}

@test "riap-listen --chroot --allow-root: workers chroot and stay root, as asked" {
  listen --chroot --allow-root --start-servers 1
  wait_for "listener ready" 10 test -s "$BATS_TEST_TMPDIR/ready"
  run ask "$PROBE"
  jq -e '.[0] == 200 and .[2].uid == 0 and .[2].tree_at_root == true' <<<"${lines[0]}"
}

@test "riap-handle --chroot: a riap+tcp mount (numeric address) works from inside" {
  local port; port=$(free_port)
  "$LISTEN" --notification-fd 3 --allow-root -p "127.0.0.1:$port" --scoreboard-path 0 -- "$HANDLE" "$RIAP_REPO/examples" \
    3>"$BATS_TEST_TMPDIR/bready" 2>>"$BATS_TEST_TMPDIR/err" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the backend" 10 test -s "$BATS_TEST_TMPDIR/bready"
  printf '{"url": "riap+tcp://127.0.0.1:%s/", "prefix": "/Math/", "timeout": 5}\n' "$port" >"$ROOT/Remote.mount.json"
  chmod 644 "$ROOT/Remote.mount.json"
  run bash -c "printf 'j%s\r\n' '{\"action\":\"call\",\"uri\":\"/Remote/mult\",\"args\":{\"a\":6,\"b\":7}}' \
    '{\"action\":\"list\",\"uri\":\"/\"}' |
    env UID=65534 GID=65534 $HANDLE --chroot --log-fd 5 '$ROOT' 5>/dev/null | sed 's/^j//; s/\r\$//'"
  rm -f "$ROOT/Remote.mount.json"
  assert_success
  jq -e '.[0] == 200 and .[2] == 42' <<<"${lines[0]}"
  jq -e '.[2] | index("Remote/") != null' <<<"${lines[1]}"
}
