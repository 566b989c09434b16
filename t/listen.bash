# t/listen.bash: shared by the bats files that start riap-listen themselves
# (riap-listen.bats, riap-park.bats, riap-listen-acl.bats, riap-chroot.bats,
# perl-client.bats).

RIAP_REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
RIAP_BUILD=${RIAP_BUILD:-$RIAP_REPO/build}
LISTEN=$RIAP_BUILD/bin/riap-listen
HANDLE=$RIAP_BUILD/bin/riap-handle

# reap_pids FILE [TRIES]: TERM (then KILL, after TRIES x 0.05 s, default
# 50) and wait for every pid listed in FILE
reap_pids() {
  local pid
  [ -f "$1" ] || return 0
  for pid in $(cat "$1"); do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq "${2:-50}"); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  return 0
}

# reap_test_pids: the processes a test started ($BATS_TEST_TMPDIR/pids)
reap_test_pids() { reap_pids "$BATS_TEST_TMPDIR/pids"; }

# free_port: a TCP port on 127.0.0.1 that the kernel just handed out
free_port() {
  perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
    bind($s, sockaddr_in(0, inet_aton("127.0.0.1"))) or die;
    print((sockaddr_in(getsockname($s)))[0], "\n")'
}

# wait_for WHAT SECS COMMAND...: polls COMMAND every 0.05 s until it succeeds
wait_for() {
  local what=$1 secs=$2 end
  shift 2
  end=$(( $(date +%s%N) + secs * 1000000000 ))
  until "$@"; do
    [ "$(date +%s%N)" -lt "$end" ] || fail "timed out waiting for $what; stderr: $(cat "$BATS_TEST_TMPDIR/err" 2>/dev/null)"
    sleep 0.05
  done
}

# listen OPTS...: starts riap-listen with its scoreboard at
# $BATS_TEST_TMPDIR/sb, stdout to out and stderr to err there and the
# notification fd, and waits until it is ready; sets LPID. The worker
# command is riap-handle ROOT unless OPTS hold a --. (Files that need
# another start define their own listen after loading this.)
listen() {
  local args=("$@") t=$BATS_TEST_TMPDIR
  [[ " ${args[*]} " == *" -- "* ]] || args+=(-- "$HANDLE" "$ROOT")
  rm -f "$t/ready"
  "$LISTEN" --notification-fd 3 --scoreboard-path "$t/sb" "${args[@]}" 3>"$t/ready" >>"$t/out" 2>>"$t/err" &
  LPID=$!
  echo "$LPID" >>"$t/pids"
  wait_for "listener ready" 10 test -s "$t/ready"
}
