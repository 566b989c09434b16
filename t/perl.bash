# t/perl.bash: the Perl stack (../shared/perl) for the bats files that use
# it (perl-cli, perl-client, perl-diff, perl-meta, riap-handle-argv,
# riap-handle-mount-perl): where it is, whether it is, starting the Perl
# server and reaping it. Load after listen.

PERL_STACK=${RIAP_SHARED:-$RIAP_REPO/../shared}/perl   # RIAP_SHARED: where ../shared is

# perl_stack_here: 0 when the Perl stack is at $PERL_STACK (a setup_file
# without it returns 0 at once: each test then calls need_perl_stack)
perl_stack_here() { [ -x "$PERL_STACK/bin/perl-riap-server" ]; }

# need_perl_stack: in setup or a test: goes on when the Perl stack is
# there; without it skips, or fails under CI=true (CI always has ../shared)
need_perl_stack() {
  perl_stack_here && return 0
  [ "${CI:-}" != true ] || fail "the real Perl Riap stack is missing at $PERL_STACK (CI=true: CI has ../shared)"
  skip "no Perl Riap stack at $PERL_STACK"
}

# wait_port PID PORT: 0 once 127.0.0.1:PORT accepts a connection (60 s at
# most: the Perl server loads its modules first), 1 if PID died
wait_port() {
  local i
  for i in $(seq 600); do
    kill -0 "$1" 2>/dev/null || return 1
    perl -MSocket -e 'socket(my $s, PF_INET, SOCK_STREAM, 0) or die;
      connect($s, sockaddr_in($ARGV[0], inet_aton("127.0.0.1"))) or exit 1' "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# start NAME COMMAND...: runs COMMAND in the background (its pid in
# $BATS_FILE_TMPDIR/pids), its output in $BATS_FILE_TMPDIR/NAME.log
start() {
  local name=$1; shift
  "$@" </dev/null >"$BATS_FILE_TMPDIR/$name.log" 2>&1 3>&- &
  echo $! >>"$BATS_FILE_TMPDIR/pids"
  echo $!
}

# perl_xs: the Perl server's XS (IO::Handle::Record), built into the build
# directory once; prints its directory
perl_xs() {
  local xs=$RIAP_BUILD/perl-xs
  if ! find "$xs" -name Record.so 2>/dev/null | grep -q .; then
    "$PERL_STACK/build-xs" "$xs" >&2 || { echo "build-xs failed" >&2; return 1; }
  fi
  echo "$xs"
}

# reap_file_pids: every pid start() recorded (5 s each for TERM: the Perl
# server stops its children first)
reap_file_pids() { reap_pids "$BATS_FILE_TMPDIR/pids" 100; }

teardown_file() { reap_file_pids; }
