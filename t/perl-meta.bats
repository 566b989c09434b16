#!/usr/bin/env bats
# riap-handle's `meta` of a function is its metadata normalized exactly as
# Perl's servers answer it (Perinci::Sub::Normalize 0.207, schemas by
# Data::Sah::Normalize): t/perl-normalize.pl runs the real normalizer from
# ../shared/perl on the same files and is the reference. Metadata Perl
# refuses is answered 531. The cases: every function of examples/, t/tree
# and t/difftree, and the odd forms of t/perl-meta.jsonl (one metadata per
# line). Without ../shared/perl this file skips, except under CI=true.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load perl

setup() { need_perl_stack; }

# same ROOT URI FILE: riap-handle's meta of URI (pipe mode) against the
# Perl normalizer's answer for FILE
same() {
  local root=$1 uri=$2 file=$3 want got
  want=$(PERL5LIB=$PERL_STACK/lib perl "$RIAP_REPO/t/perl-normalize.pl" "$file")
  got=$(printf 'j{"action":"meta","uri":"%s"}\r\n' "$uri" | "$HANDLE" "$root" 2>/dev/null | cut -c2-)
  if jq -e 'has("error")' <<<"$want" >/dev/null; then
    jq -e '.[0] == 531' <<<"$got" >/dev/null || fail "$uri: Perl refuses it ($(jq -r .error <<<"$want")), riap-handle: $got"
  else
    # entity_v/entity_date the package adds (Perl's $VERSION/$DATE) aside
    jq -en --argjson a "$want" --argjson b "$got" '$b[0] == 200 and $a == ($b[2]
      | if $a | has("entity_v") then . else del(.entity_v) end
      | if $a | has("entity_date") then . else del(.entity_date) end)' >/dev/null \
      || fail "$uri: Perl normalizes it to $want
riap-handle: $got"
  fi
}

@test "every function of examples/, t/tree and t/difftree: meta is Perl's normalized metadata" {
  local root f uri n=0
  for root in "$RIAP_REPO/examples" "$RIAP_REPO/t/tree" "$RIAP_REPO/t/difftree"; do
    while read -r f; do
      uri=${f#"$root"}; uri=${uri%.meta.json}
      [ -x "$root$uri" ] && [[ "${uri##*/}" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || continue   # not served
      same "$root" "$uri" "$f"
      n=$((n + 1))
    done < <(find "$root" -name '*.meta.json' ! -name '.meta.json' | sort)
  done
  [ "$n" -gt 50 ] || fail "only $n functions compared"
}

@test "odd metadata (t/perl-meta.jsonl): normalized as Perl does, or refused where Perl refuses it" {
  local root=$BATS_TEST_TMPDIR/tree i=0 line
  mkdir -p "$root/P"
  while IFS= read -r line; do
    i=$((i + 1))
    printf '%s\n' "$line" >"$root/P/f$i.meta.json"
    printf '#!/bin/sh\necho null\n' >"$root/P/f$i"
    chmod +x "$root/P/f$i"
  done <"$RIAP_REPO/t/perl-meta.jsonl"
  for line in $(seq "$i"); do same "$root" "/P/f$line" "$root/P/f$line.meta.json"; done
}

@test "child_metas: functions normalized, those Perl refuses left out, entity_v and entity_date from the package" {
  local root=$BATS_TEST_TMPDIR/tree got
  mkdir -p "$root/P"
  echo '{"v":1.1,"entity_v":"0.5","entity_date":"2026-01-02"}' >"$root/P/.meta.json"
  echo '{"v":1.1,"args":{"a":{"schema":"int*"}}}' >"$root/P/good.meta.json"
  echo '{"v":1.1,"entity_v":"9","args":{}}' >"$root/P/own.meta.json"
  echo '{"v":1.1,"frobnicate":1}' >"$root/P/bad.meta.json"
  for f in good own bad; do printf '#!/bin/sh\necho null\n' >"$root/P/$f"; chmod +x "$root/P/$f"; done
  got=$(printf 'j{"action":"child_metas","uri":"/P/"}\r\nj{"action":"meta","uri":"/P/good"}\r\nj{"action":"meta","uri":"/P/bad"}\r\n' | "$HANDLE" "$root" 2>/dev/null | cut -c2-)
  jq -se '.[0][2] | (keys == ["good", "own"]) and .good.args.a.schema == ["int", {"req": 1}]
    and .good.entity_v == "0.5" and .good.entity_date == "2026-01-02"
    and .own.entity_v == "9" and .own.entity_date == "2026-01-02"' <<<"$got" >/dev/null || fail "$got"
  jq -se '.[1][2].entity_v == "0.5" and .[2][0] == 531 and (.[2][1] | contains("Unknown property '"'"'/frobnicate'"'"'"))' <<<"$got" >/dev/null || fail "$got"
}
