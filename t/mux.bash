# t/mux.bash: starting riap-mux and finding its backends, shared by
# riap-mux.bats and riap-mux-reload.bats. Load after listen; a test's
# setup sets T (its directory) and SOCK (where riap-mux listens).

MUX=$RIAP_BUILD/bin/riap-mux

# mux [OPTION]... -- PROGRAM [ARG]...: riap-mux on unix:$SOCK, stderr to
# $T/err, ready (--notification-fd) when it returns; sets MPID
mux() {
  local opts=()
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  rm -f "$T/ready"
  "$MUX" --notification-fd 3 "${opts[@]}" "unix:$SOCK" "$@" 3>"$T/ready" 2>>"$T/err" &
  MPID=$!
  echo "$MPID" >>"$T/pids"
  wait_for "riap-mux ready" 10 test -s "$T/ready"
}

# backends: the pids of riap-mux's children (its backends), one a line
backends() { pgrep -P "$MPID"; }
# pid_gone PID: the process is gone (reaped, or a zombie)
pid_gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
