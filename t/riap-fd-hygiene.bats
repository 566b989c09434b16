#!/usr/bin/env bats
# File descriptors (issue 14; doc/riap-handle.8, EXEC PROTOCOL; doc/SECURITY.md):
# every program riap-handle runs (an exec'd function, a persistent
# coprocess, a riap+pipe mount backend) gets fds 0, 1 and 2 and nothing
# else, with riap-handle alone and as a riap-listen worker; a function that
# looks for the worker's control channel to take other clients' connections
# finds none. The servers here are started with stray fds open (7, the log
# fd 9, riap-listen's notification fd) that must not reach a function.
# t/static/fdlist is the function that lists its fds (and the backend that
# records them), t/static/chanthief the attacker. Every process a test
# starts is killed by its pid in teardown; ports are picked at run time.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
# the servers run as nobody: they exec copies in $PUB, since the checkout
# may sit where nobody cannot enter (mktemp -d, ~root)
[ -n "${PUB:-}" ] && HANDLE=$PUB/bin/riap-handle

SBDUMP=$RIAP_BUILD/t/prog/riap-sbdump
LIST='{"action":"call","uri":"/Fd/list"}'
CO='{"action":"call","uri":"/Fd/co"}'
VIA_MOUNT='{"action":"call","uri":"/Pipe/Fd/list"}'
THIEF='{"action":"call","uri":"/Fd/thief","args":{"wait":3}}'
MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'

setup_file() {
  # world-readable: the chroot test runs the workers as nobody inside it
  export PUB; PUB=$(mktemp -d /tmp/riap-fds.XXXXXX)
  chmod 755 "$PUB"
  # the backend's record: written as the workers' user (nobody, as root)
  export ROOT=$PUB/root INNER=$PUB/inner BACKEND_FDS=$PUB/rec/backend.fds
  mkdir -m 1777 "$PUB/rec"
  echo "opened by the test, never to reach a function" >"$PUB/stray"
  local d
  for d in "$ROOT/Fd" "$INNER/Fd"; do
    mkdir -p "$d"
    cp "$RIAP_BUILD/t/static/fdlist" "$d/list"
    cp "$RIAP_BUILD/t/static/fdlist" "$d/co"
    echo '{"v":1.1,"summary":"The fds it was given","args":{}}' >"$d/list.meta.json"
    echo '{"v":1.1,"summary":"The same, persistent","args":{},"x.riap.exec":"persistent"}' >"$d/co.meta.json"
  done
  cp "$RIAP_BUILD/t/static/chanthief" "$ROOT/Fd/thief"
  echo '{"v":1.1,"summary":"Steals connections if it can","args":{"wait":{"schema":"int"}}}' >"$ROOT/Fd/thief.meta.json"
  cp -a "$RIAP_REPO/examples/Math" "$ROOT/"
  # /Pipe/ is INNER served by a riap-handle that fdlist --record starts:
  # the backend records the fds it got to BACKEND_FDS (slashes %-escaped)
  mkdir -p "$PUB/bin"
  cp "$HANDLE" "$LISTEN" "$RIAP_BUILD/t/static/fdlist" "$PUB/bin/"
  HANDLE=$PUB/bin/riap-handle
  local e=$PUB/bin/fdlist
  printf '{"url":"riap+pipe:%s//--record/%s/%s/%s//"}' "$e" \
    "${BACKEND_FDS//\//%2F}" "${HANDLE//\//%2F}" "${INNER//\//%2F}" >"$ROOT/Pipe.mount.json"
  chmod -R a+rX "$PUB"
}

teardown_file() {
  rm -rf "$PUB"
}

setup() {
  rm -f "$BACKEND_FDS"
}

teardown() {
  reap_test_pids
  rm -f "$PUB"/sb.*
  return 0
}

# fds_only_std JSON: the answer JSON is 200 and its function saw fds 0, 1, 2 only
fds_only_std() {
  jq -e '.[0] == 200 and .[2].fds == [0,1,2]' <<<"$1" >/dev/null ||
    fail "not fds 0, 1, 2 only: $1"
}

# pipe mode: riap-handle ROOT on a pipe, with fd 7 and its log fd 9 open;
# as nobody when we are root (root's functions could take anything anyway)
handle() {
  local as=()
  [ "$(id -u)" != 0 ] || as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  printf 'j%s\r\n' "$@" | "${as[@]}" "$HANDLE" --log-fd 9 "$ROOT" 9>/dev/null 7<"$PUB/stray" 2>"$BATS_TEST_TMPDIR/err" |
    sed 's/^j//; s/\r$//'
}

# listen OPTS...: riap-listen on 127.0.0.1:PORT with fd 7 open, its workers
# riap-handle ROOT (as nobody when we are root, as a real service runs);
# ready when it returns; sets LPID, PORT, SB
listen() {
  local t=$BATS_TEST_TMPDIR
  [[ "$(id -u)" != 0 || " $* " == *" --user "* ]] || set -- --user nobody "$@"
  PORT=$(free_port) SB=$PUB/sb.$BATS_TEST_NUMBER
  "$LISTEN" --notification-fd 3 -p "127.0.0.1:$PORT" --scoreboard-path "$SB" "$@" -- "$HANDLE" "$ROOT" \
    3>"$t/ready" 7<"$PUB/stray" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
}

# ask JSON...: one connection to the listener, one request line per JSON
ask() {
  printf 'j%s\r\n' "$@" | timeout 20 socat -t 10 - "TCP:127.0.0.1:$PORT" | sed 's/^j//; s/\r$//'
}

# started: the thief's call has begun (in the scoreboard) or is answered
started() {
  [ -s "$BATS_TEST_TMPDIR/a" ] || "$SBDUMP" "$SB" | jq -e -s 'any(.uri == "/Fd/thief")' >/dev/null
}

# ------------------------------------------------------------ riap-handle alone

@test "riap-handle alone: an exec'd function gets fds 0, 1, 2 only" {
  run handle "$LIST" "$LIST"
  assert_success
  fds_only_std "${lines[0]}"
  fds_only_std "${lines[1]}"
}

@test "riap-handle alone: a persistent function gets fds 0, 1, 2 only" {
  run handle "$CO" "$CO"
  assert_success
  fds_only_std "${lines[0]}"
  fds_only_std "${lines[1]}"
  [ "$(jq '.[2].pid' <<<"${lines[0]}")" = "$(jq '.[2].pid' <<<"${lines[1]}")" ]   # one coprocess
}

@test "riap-handle alone: a riap+pipe mount backend, and what it runs, get fds 0, 1, 2 only" {
  run handle "$VIA_MOUNT"
  assert_success
  fds_only_std "${lines[0]}"
  [ -s "$BACKEND_FDS" ] || fail "the backend recorded nothing"
  jq -e '.fds == [0,1,2]' "$BACKEND_FDS" >/dev/null || fail "backend: $(cat "$BACKEND_FDS")"
}

@test "riap-handle alone: a function finds no socket and no channel" {
  run handle "${THIEF/3/0}"
  assert_success
  jq -e '.[0] == 200 and .[2].fds == [] and .[2].sockets == 0 and .[2].stolen == 0 and .[2].grabbed == 0' <<<"${lines[0]}" >/dev/null ||
    fail "the thief: ${lines[0]}"
}

# ------------------------------------------------------------ riap-listen workers

@test "riap-listen worker: an exec'd function gets fds 0, 1, 2 only" {
  listen --start-servers 2
  run ask "$LIST" "$LIST"
  assert_success
  fds_only_std "${lines[0]}"
  fds_only_std "${lines[1]}"
}

@test "riap-listen worker: a persistent function gets fds 0, 1, 2 only" {
  listen --start-servers 1 --max-clients 1
  run ask "$CO" "$CO"
  assert_success
  fds_only_std "${lines[0]}"
  fds_only_std "${lines[1]}"
}

@test "riap-listen worker: a riap+pipe mount backend, and what it runs, get fds 0, 1, 2 only" {
  listen --start-servers 1
  run ask "$VIA_MOUNT"
  assert_success
  fds_only_std "${lines[0]}"
  [ -s "$BACKEND_FDS" ] || fail "the backend recorded nothing"
  jq -e '.fds == [0,1,2]' "$BACKEND_FDS" >/dev/null || fail "backend: $(cat "$BACKEND_FDS")"
}

@test "riap-listen worker: its channel is fd 3, close-on-exec; nothing else from the listener's caller" {
  listen --start-servers 1 --max-clients 1
  local w fd flags
  w=$(pgrep -P "$LPID" -f riap-handle | head -1)
  [ -n "$w" ]
  [[ $(readlink "/proc/$w/fd/3") == socket:* ]] || fail "fd 3 of the worker: $(readlink "/proc/$w/fd/3")"
  for fd in $(ls "/proc/$w/fd"); do
    [ "$fd" -le 2 ] && continue
    flags=$(awk '/^flags:/ { print $2 }' "/proc/$w/fdinfo/$fd" 2>/dev/null) || continue
    [ -n "$flags" ] || continue                 # gone meanwhile
    # O_CLOEXEC is 02000000 (octal) in fdinfo's flags
    (( (8#$flags & 8#2000000) != 0 )) || fail "worker fd $fd ($(readlink "/proc/$w/fd/$fd")) is not close-on-exec"
    [ "$(readlink "/proc/$w/fd/$fd")" != "$PUB/stray" ] || fail "worker fd $fd is the stray fd 7 of the listener's caller"
  done
}

# ------------------------------------------------------------ the attack

# A calls the thief, which waits 3 s for a connection on any channel it
# found; meanwhile B calls /Math/mult on new connections. With one worker,
# every connection of B can only reach that worker: before the fix the
# thief took B's first one and answered it "stolen".
attack() {
  local want=$1 i
  ask "$THIEF" >"$BATS_TEST_TMPDIR/a" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  local a=$!
  wait_for "the thief running" 10 started
  for i in 1 2 3 4 5; do
    run ask "$2"
    assert_success
    jq -e "$want" <<<"${lines[0]}" >/dev/null || fail "client B, connection $i: ${lines[0]}"
  done
  wait "$a"
  jq -e '.[0] == 200 and .[2].sockets == 0 and .[2].channels == 0 and .[2].stolen == 0 and .[2].grabbed == 0' "$BATS_TEST_TMPDIR/a" ||
    fail "the thief: $(cat "$BATS_TEST_TMPDIR/a")"
}

@test "attack: a function finds no control channel; the next client gets the real answer" {
  listen --start-servers 1 --max-clients 1
  attack '.[0] == 200 and .[2] == 6' "$MULT"
}

@test "attack: riap-listen itself run as the functions' user: the thief takes none of its fds" {
  # no --user: the listener, its workers and their functions are one user
  # (nobody when we are root), so only the listener's being non-dumpable
  # keeps its listening socket and channels from pidfd_getfd
  local as=() t=$BATS_TEST_TMPDIR
  [ "$(id -u)" != 0 ] || as=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  PORT=$(free_port) SB=$PUB/rec/sb.$BATS_TEST_NUMBER
  "${as[@]}" "$PUB/bin/riap-listen" --notification-fd 3 -p "127.0.0.1:$PORT" --scoreboard-path "$SB" \
    --start-servers 1 --max-clients 1 -- "$HANDLE" "$ROOT" 3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
  [ "$(awk '/^Uid:/ { print $2 }' "/proc/$LPID/status")" = "$(awk '/^Uid:/ { print $2 }' "/proc/$(pgrep -P "$LPID" | head -1)/status")" ] ||
    fail "the listener and its worker run as different users"
  attack '.[0] == 200 and .[2] == 6' "$MULT"
  rm -f "$SB"
}

@test "attack: as nobody in a chroot too" {
  [ "$(id -u)" = 0 ] || skip "chroot needs root"
  listen --chroot --user nobody --start-servers 1 --max-clients 1
  attack '.[0] == 200 and (.[2].pid | type) == "number"' "$LIST"
}
