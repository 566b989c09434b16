#!/usr/bin/env bats
# The differential test: the original Perl server (../shared/perl's
# perl-riap-server, Perinci::Access::Simple::Server::Socket serving
# Perinci::Examples) and riap-listen + riap-handle serving t/difftree (a
# mirror of part of Perinci::Examples, as executables) get the same request
# lines, t/diff/corpus, and must agree on status and result, except for the
# deliberate differences of doc/PERL-DIFFERENCES.md, each asserted as such.
# t/diff/send talks to a server, t/diff/compare.jq compares.
#
# Without ../shared/perl this file skips, except under CI=true, where it fails.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load perl

DIFF=$RIAP_REPO/t/diff
TREE=$RIAP_REPO/t/difftree


setup_file() {
  perl_stack_here || return 0           # each test skips (or fails under CI)
  local xs
  xs=$(perl_xs) || return 1
  local pport oport ppid opid
  pport=$(free_port)
  ppid=$(start perl-server "$PERL_STACK/bin/perl-riap-server" --run-dir "$BATS_FILE_TMPDIR/perl-run" \
    --tcp "127.0.0.1:$pport" --start-servers 4 --xs "$xs" \
    --module Perinci::Examples --module Perinci::Examples::ArgsAs \
    --module Perinci::Examples::ResultNaked --module Perinci::Examples::NoMeta)
  oport=$(free_port)
  opid=$(RIAP_ALLOW_ROOT=1 start ours "$LISTEN" -p "127.0.0.1:$oport" --start-servers 2 \
    --scoreboard-path "$BATS_FILE_TMPDIR/ours.sb" -- "$HANDLE" "$TREE")
  wait_port "$ppid" "$pport" || { echo "perl-riap-server did not start: $(cat "$BATS_FILE_TMPDIR/perl-server.log")" >&2; return 1; }
  wait_port "$opid" "$oport" || { echo "riap-listen did not start: $(cat "$BATS_FILE_TMPDIR/ours.log")" >&2; return 1; }
  "$DIFF/send" "127.0.0.1:$pport" "$DIFF/corpus" >"$BATS_FILE_TMPDIR/perl.jsonl" &
  local s1=$!
  "$DIFF/send" "127.0.0.1:$oport" "$DIFF/corpus" >"$BATS_FILE_TMPDIR/ours.jsonl" || return 1
  wait $s1 || return 1
  # every URI the mirror serves
  (cd "$TREE" && find . -mindepth 1 | sort) | jq -R -s '
    split("\n") | map(select(. != "") | ltrimstr(".")
      | if test("\\.var\\.json$") then sub("(?<d>.*/)(?<n>[^/]*)\\.var\\.json$"; "\(.d)$\(.n)")
        elif test("\\.json$") then empty
        elif test("/[A-Za-z_][A-Za-z0-9_]*$") then . else empty end)' >"$BATS_FILE_TMPDIR/tree.json"
  (cd "$TREE" && find . -mindepth 1 -type d) | jq -R -s 'split("\n") | map(select(. != "") | ltrimstr(".") + "/")' \
    >"$BATS_FILE_TMPDIR/dirs.json"
}


setup() {
  need_perl_stack
  [ -s "$BATS_FILE_TMPDIR/ours.jsonl" ] && [ -s "$BATS_FILE_TMPDIR/perl.jsonl" ] \
    || fail "the corpus was not sent: $(cat "$BATS_FILE_TMPDIR"/*.log 2>/dev/null | tail -20)"
}

@test "both servers answer every request of the corpus" {
  local n
  n=$(grep -c '^[a-z]' "$DIFF/corpus")
  [ "$(wc -l <"$BATS_FILE_TMPDIR/ours.jsonl")" -eq "$n" ]
  [ "$(wc -l <"$BATS_FILE_TMPDIR/perl.jsonl")" -eq "$n" ]
}

@test "the corpus covers every action, every Riap version and bad requests" {
  run jq -s -r '[.[].req | ltrimstr("j") | try fromjson catch empty | .action // empty] | unique | join(" ")' \
    "$BATS_FILE_TMPDIR/ours.jsonl"
  local a
  for a in info actions meta list child_metas call complete_arg_val complete_arg_elem get; do
    [[ " $output " == *" $a "* ]] || fail "no request for the action $a"
  done
  run jq -s -r '[.[].req | ltrimstr("j") | try fromjson catch empty | .v // "none" | tostring] | unique | join(" ")' \
    "$BATS_FILE_TMPDIR/ours.jsonl"
  assert_output --partial "1.1"
  assert_output --partial "1.2"
  assert_output --partial "none"
  run jq -s '[.[] | select(.req | startswith("j{") | not)] | length' "$BATS_FILE_TMPDIR/ours.jsonl"
  [ "$output" -ge 4 ]
}

@test "the Perl server and riap-handle agree on every request not listed as a difference" {
  run jq -n -r --slurpfile perl "$BATS_FILE_TMPDIR/perl.jsonl" --slurpfile ours "$BATS_FILE_TMPDIR/ours.jsonl" \
    --argjson tree "$(jq -s 'add' "$BATS_FILE_TMPDIR/tree.json" "$BATS_FILE_TMPDIR/dirs.json")" \
    -f "$DIFF/compare.jq"
  assert_success
  [ -z "$output" ] || fail "$(grep -c '^line ' <<<"$output") requests answered differently:
$output"
}

@test "every deliberate difference holds: riap-handle as documented, the Perl server as described" {
  local failures="" line n mode req of pf oa ol pa pl
  while IFS= read -r line; do
    eval "$line"    # sets n mode req of pf oa ol pa pl, quoted by jq's @sh
    [ -n "$of" ] && [ -n "$pf" ] || { failures+="line $n ($mode): needs both ours: and perl:"$'\n'; continue; }
    jq -e --argjson latin1 "$ol" "$of" >/dev/null 2>&1 <<<"$oa" \
      || failures+="line $n ($mode): $req"$'\n'"  ours fails: $of"$'\n'"  ours: $oa"$'\n'
    jq -e --argjson latin1 "$pl" "$pf" >/dev/null 2>&1 <<<"$pa" \
      || failures+="line $n ($mode): $req"$'\n'"  perl fails: $pf"$'\n'"  perl: $pa"$'\n'
  done < <(jq -n -r --slurpfile perl "$BATS_FILE_TMPDIR/perl.jsonl" --slurpfile ours "$BATS_FILE_TMPDIR/ours.jsonl" '
    [$perl, $ours] | transpose[] | select(.[0].mode | startswith("diff:"))
    | @sh "n=\(.[0].n) mode=\(.[0].mode) req=\(.[0].req) of=\(.[0].ours // "") pf=\(.[0].perl // "") oa=\(.[1].answers | tojson) ol=\(.[1].latin1 | tojson) pa=\(.[0].answers | tojson) pl=\(.[0].latin1 | tojson)"')
  [ -z "$failures" ] || fail "$failures"
}

@test "doc/PERL-DIFFERENCES.md has a row for every difference of the corpus, and the corpus a line for every row" {
  local doc=$RIAP_REPO/doc/PERL-DIFFERENCES.md rows used
  rows=$(grep -o '^| `[a-z0-9-]*`' "$doc" | tr -d '|` ' | sort -u)
  used=$(grep -o '^diff:[a-z0-9-]*' "$DIFF/corpus" | sed 's/^diff://' | sort -u)
  [ -n "$rows" ] || fail "no rows in $doc"
  [ "$rows" = "$used" ] || fail "rows and corpus differ:
$(diff <(echo "$rows") <(echo "$used"))"
}
