#!/usr/bin/env bats
# Perl's remote command-line programs against riap-listen: the real
# Perinci::CmdLine::Lite (../shared/perl/bin/perl-riap-cli, RIAP_URL=URL)
# builds --help, option parsing and bash completion from `meta`, then
# `call`s. Each invocation runs twice, against riap-listen serving
# examples/ and against the original Perl server serving the same tree
# (t/perl/RiapTreeMirror.pm: the same metadata files, the same programs),
# and must print the same bytes, the same diagnostics and exit alike.
# Without ../shared/perl this file skips, except under CI=true, where it fails.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load perl



setup_file() {
  perl_stack_here || return 0           # each test skips (or fails under CI)
  local xs pport oport ppid opid
  xs=$(perl_xs) || return 1
  pport=$(free_port)
  ppid=$(RIAP_MIRROR_ROOT=$RIAP_REPO/examples PERL5LIB=$RIAP_REPO/t/perl start perl-server \
    "$PERL_STACK/bin/perl-riap-server" --run-dir "$BATS_FILE_TMPDIR/perl-run" \
    --tcp "127.0.0.1:$pport" --start-servers 2 --xs "$xs" --module RiapTreeMirror)
  oport=$(free_port)
  opid=$(start ours "$LISTEN" -p "127.0.0.1:$oport" --start-servers 2 \
    --scoreboard-path "$BATS_FILE_TMPDIR/ours.sb" -- "$HANDLE" "$RIAP_REPO/examples")
  wait_port "$ppid" "$pport" || { echo "perl-riap-server did not start: $(cat "$BATS_FILE_TMPDIR/perl-server.log")" >&2; return 1; }
  wait_port "$opid" "$oport" || { echo "riap-listen did not start: $(cat "$BATS_FILE_TMPDIR/ours.log")" >&2; return 1; }
  echo "riap+tcp://127.0.0.1:$pport" >"$BATS_FILE_TMPDIR/perl-url"
  echo "riap+tcp://127.0.0.1:$oport" >"$BATS_FILE_TMPDIR/our-url"
}


setup() {
  need_perl_stack
  PERL_URL=$(cat "$BATS_FILE_TMPDIR/perl-url")
  OUR_URL=$(cat "$BATS_FILE_TMPDIR/our-url")
  CLI=$PERL_STACK/bin/perl-riap-cli
}

# cli URI ARGS...: perl-riap-cli against both servers; OUT, ERR (files: the
# raw bytes against riap-listen) and RC; fails unless the Perl server's run
# printed the same bytes, the same diagnostics and exited alike
cli() {
  local uri=$1 side url s rc=()
  shift
  for side in perl our; do
    url=$PERL_URL; [ $side = our ] && url=$OUR_URL
    s=0
    RIAP_URL=$url$uri "$CLI" "$@" >"$BATS_TEST_TMPDIR/$side.out" 2>"$BATS_TEST_TMPDIR/$side.err" || s=$?
    rc+=("$s")
  done
  OUT=$BATS_TEST_TMPDIR/our.out ERR=$BATS_TEST_TMPDIR/our.err RC=${rc[1]}
  cmp -s "$BATS_TEST_TMPDIR/perl.out" "$OUT" || fail "stdout differs from the Perl server's ($uri $*):
$(diff "$BATS_TEST_TMPDIR/perl.out" "$OUT")"
  cmp -s "$BATS_TEST_TMPDIR/perl.err" "$ERR" || fail "stderr differs from the Perl server's ($uri $*):
$(diff "$BATS_TEST_TMPDIR/perl.err" "$ERR")"
  [ "${rc[0]}" = "$RC" ] || fail "exit $RC, the Perl server's run exits ${rc[0]} ($uri $*)"
}

has() { grep -qF -- "$1" "$OUT" || fail "no '$1' in: $(cat "$OUT") $(cat "$ERR")"; }

# complete URI LINE: bash completion of LINE (cursor at its end)
complete() {
  local uri=$1 line=$2
  COMP_LINE=$line COMP_POINT=${#line} cli "$uri"
}

@test "--help: the summary, every argument and the examples, as from the Perl server" {
  cli /Math/mult --help
  [ "$RC" = 0 ] || fail "exit $RC: $(cat "$ERR")"
  has "perl-riap-cli - Multiply two integers"
  has "First factor (=arg[0])"
  has "Second factor (=arg[1])"
  has "Two times three:"
  has "% perl-riap-cli 2 3"
  cli /Text/fruit --help
  has "Which fruit"
  has "Portion size"
  has "Toppings, completed element by element"
}

@test "--help of metadata written with \"int*\", flattened schemas and buf" {
  # Math/mult says "int*", Util/bytes ["int", "min", 0, ...] and "buf*":
  # the CLI reads the normalized form only
  cli /Util/bytes --help
  [ "$RC" = 0 ] || fail "exit $RC: $(cat "$ERR")"
  has "How many bytes"
}

@test "positional arguments: 2 3 gives 6" {
  cli /Math/mult 2 3
  [ "$RC" = 0 ] && [ "$(cat "$OUT")" = 6 ] || fail "exit $RC: $(cat "$OUT" "$ERR")"
}

@test "options: --a 2 --b 3 gives 6" {
  cli /Math/mult --a 2 --b 3
  [ "$RC" = 0 ] && [ "$(cat "$OUT")" = 6 ] || fail "exit $RC: $(cat "$OUT" "$ERR")"
}

@test "--json prints the envelope" {
  cli /Math/mult --json 2 3
  [ "$RC" = 0 ] || fail "exit $RC: $(cat "$ERR")"
  jq -e '.[0] == 200 and .[2] == 6' "$OUT" >/dev/null || fail "not the envelope: $(cat "$OUT")"
}

@test "an invalid value: exit 100 and the validation message; a missing argument too" {
  cli /Math/mult --a x --b 3
  [ "$RC" = 100 ] || fail "exit $RC"
  grep -qF "ERROR 400: Argument 'a' fails validation: Not of type integer" "$ERR" || fail "$(cat "$ERR")"
  cli /Math/mult 2
  [ "$RC" = 100 ] || fail "exit $RC"
  grep -qF "ERROR 400: Missing required argument" "$ERR" || fail "$(cat "$ERR")"
}

@test "a binary result (RIAP_V=1.2) is printed byte for byte, no newline added" {
  RIAP_V=1.2 cli /Util/bytes
  [ "$RC" = 0 ] || fail "exit $RC: $(cat "$ERR")"
  perl -e 'print pack("C*", 0 .. 255)' >"$BATS_TEST_TMPDIR/want"
  cmp "$BATS_TEST_TMPDIR/want" "$OUT" || fail "not the 256 bytes: $(od -c "$OUT" | head -5)"
  RIAP_V=1.2 cli /Util/bytes 3
  [ "$(od -An -tx1 "$OUT" | tr -d ' \n')" = 000102 ] || fail "$(od -c "$OUT")"
}

@test "binary data in and out: --data-base64 to bitflip" {
  cli /Util/bitflip --data-base64 AAH+/w==
  [ "$RC" = 0 ] || fail "exit $RC: $(cat "$ERR")"
  [ "$(od -An -tx1 "$OUT" | tr -d ' \n')" = fffe0100 ] || fail "$(od -c "$OUT")"
}

@test "bash completion of option names" {
  complete /Text/fruit "perl-riap-cli --"
  for o in --name --size --toppings --json --help; do grep -q -- "^$o\b" "$OUT" || fail "no $o in: $(cat "$OUT")"; done
}

@test "bash completion of an argument's in values, and of an array's elements" {
  complete /Text/fruit "perl-riap-cli --name "
  [ "$(cat "$OUT")" = "$(printf 'apple\nbanana\ncherry')" ] || fail "$(cat "$OUT")"
  complete /Text/fruit "perl-riap-cli --name b"
  [ "$(cat "$OUT")" = banana ] || fail "$(cat "$OUT")"
  complete /Text/fruit "perl-riap-cli --toppings s"
  [ "$(cat "$OUT")" = "$(printf 'sprinkles\nsyrup')" ] || fail "$(cat "$OUT")"
}

@test "--version shows entity_v and entity_date from the package's metadata" {
  cli /Math/mult --version
  has "perl-riap-cli version 1.2.0 (2026-11-30)"
  cli /Util/bytes --version
  grep -qx "perl-riap-cli version ?" "$OUT" || fail "$(cat "$OUT")"   # Util gives none
}

# booleans as Perl has them (its true is 1)
BOOLS='walk(if type == "boolean" then (if . then 1 else 0 end) else . end)'

@test "meta of a function is the Perl server's, but for its wrapper's rewrite (meta-as-written)" {
  local uri perl ours
  for uri in /Math/mult /Math/div /Text/fruit /Text/upper /Util/bytes /Util/bitflip /Util/sleep /Util/purge_cache /Util/fail; do
    perl=$("$PERL_STACK/bin/perl-riap-client" "$PERL_URL$uri" meta | jq -c ".[2] | del(.args_as, .result_naked, ._orig_args_as, ._orig_result_naked) | $BOOLS")
    ours=$("$PERL_STACK/bin/perl-riap-client" "$OUR_URL$uri" meta | jq -c ".[2] | del(.args_as, .result_naked) | $BOOLS")
    jq -en --argjson a "$perl" --argjson b "$ours" '$a == $b' >/dev/null || fail "$uri: Perl: $perl
ours: $ours"
  done
}

@test "child_metas: every function's metadata normalized, with the package's entity_v" {
  local perl ours
  perl=$("$PERL_STACK/bin/perl-riap-client" "$PERL_URL/Math/" child_metas | jq -c ".[2] | with_entries(select(.key | endswith(\"/\") or startswith(\"\$\") | not)) | map_values(del(.args_as, .result_naked, ._orig_args_as, ._orig_result_naked)) | $BOOLS")
  ours=$("$PERL_STACK/bin/perl-riap-client" "$OUR_URL/Math/" child_metas | jq -c ".[2] | with_entries(select(.key | startswith(\"\$\") | not)) | $BOOLS")
  jq -en --argjson a "$perl" --argjson b "$ours" '$a == $b and $b.mult.entity_v == "1.2.0" and $b.mult.args.a.schema == ["int", {"req": 1}]' >/dev/null \
    || fail "Perl: $perl
ours: $ours"
}
