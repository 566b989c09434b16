#!/usr/bin/env bats
# make install PREFIX=... DESTDIR=...: every program and every man page, each
# in its place.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

@test "make install puts every program in bin and every man page in its section" {
  cd "$BATS_TEST_DIRNAME/.."
  run make --no-print-directory install B="${RIAP_BUILD:-build}" PREFIX=/opt/riap DESTDIR="$BATS_TEST_TMPDIR/root"
  assert_success
  for p in cmd/*/; do
    p=${p%/}; p=${p##*/}
    [ -x "$BATS_TEST_TMPDIR/root/opt/riap/bin/$p" ] || fail "no bin/$p"
  done
  for m in doc/*.[1-8]; do
    s=${m##*.}
    [ -f "$BATS_TEST_TMPDIR/root/opt/riap/share/man/man$s/${m##*/}" ] || fail "no man$s/${m##*/}"
  done
}
