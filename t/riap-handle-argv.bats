#!/usr/bin/env bats
# call with argv: command-line words that riap-handle reads by the function's
# metadata (lib/riap_argv.c), as the Perl server does with
# Perinci::Sub::GetArgs::Argv, then validates as args. The first tests run
# riap-handle in pipe mode on a tree of their own; the last ones send
# t/diff/argv-corpus to the original Perl server (perl-riap-server serving
# Perinci::Examples) and to riap-listen serving t/difftree, and compare.
#
# Without ../shared/perl the comparing tests skip, except under CI=true,
# where they fail.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen
load perl

DIFF=$RIAP_REPO/t/diff


# the test tree: Argv/echo returns the arguments it gets
make_tree() {
  local d=$BATS_FILE_TMPDIR/tree/Argv
  mkdir -p "$d"
  printf '#!/bin/sh\nprintf "[200,\\"OK\\","\ncat\nprintf "]\\n"\n' >"$d/echo"
  chmod +x "$d/echo"
  cat >"$d/echo.meta.json" <<'EOF'
{
  "v": 1.1,
  "summary": "Return the arguments",
  "args": {
    "n": {"schema": ["int*", {"max": 10}], "pos": 0},
    "file_name": {"schema": "str*", "cmdline_aliases": {"F": {}}},
    "verbose": {"schema": "bool*", "cmdline_aliases": {"v": {}}},
    "with_cache": {"schema": "bool"},
    "tag": {"schema": ["array", {"of": "str*"}]},
    "env": {"schema": ["hash", {"of": "str"}]},
    "data": {"schema": "hash"},
    "rest": {"schema": ["array", {"of": "str*"}], "pos": 1, "slurpy": 1}
  }
}
EOF
  cp "$d/echo" "$d/need"
  cat >"$d/need.meta.json" <<'EOF'
{"v": 1.1, "args": {"a": {"schema": "int*", "req": 1, "pos": 0}, "b": {"schema": "int*", "req": 1, "pos": 1}}}
EOF
}

setup_file() {
  make_tree
  local oport opid
  oport=$(free_port)
  opid=$(RIAP_ALLOW_ROOT=1 start ours "$LISTEN" -p "127.0.0.1:$oport" --start-servers 2 \
    --scoreboard-path "$BATS_FILE_TMPDIR/ours.sb" -- "$HANDLE" "$RIAP_REPO/t/difftree")
  echo "$oport" >"$BATS_FILE_TMPDIR/ours.port"
  wait_port "$opid" "$oport" || { echo "riap-listen did not start: $(cat "$BATS_FILE_TMPDIR/ours.log")" >&2; return 1; }
  perl_stack_here || return 0           # the comparing tests skip (or fail under CI)
  local xs pport ppid
  xs=$(perl_xs) || return 1
  pport=$(free_port)
  ppid=$(start perl-server "$PERL_STACK/bin/perl-riap-server" --run-dir "$BATS_FILE_TMPDIR/perl-run" \
    --tcp "127.0.0.1:$pport" --start-servers 2 --xs "$xs" --module Perinci::Examples)
  wait_port "$ppid" "$pport" || { echo "perl-riap-server did not start: $(cat "$BATS_FILE_TMPDIR/perl-server.log")" >&2; return 1; }
  "$DIFF/send" "127.0.0.1:$pport" "$DIFF/argv-corpus" >"$BATS_FILE_TMPDIR/perl.jsonl" &
  local s1=$!
  "$DIFF/send" "127.0.0.1:$oport" "$DIFF/argv-corpus" >"$BATS_FILE_TMPDIR/ours.jsonl" || return 1
  wait $s1 || return 1
}


need_perl() {
  need_perl_stack
  [ -s "$BATS_FILE_TMPDIR/ours.jsonl" ] && [ -s "$BATS_FILE_TMPDIR/perl.jsonl" ] \
    || fail "the corpus was not sent: $(cat "$BATS_FILE_TMPDIR"/*.log 2>/dev/null | tail -20)"
}

# ask ARGV-JSON...: one call of /Argv/echo per argv (pipe mode); RESP[i]
# holds answer i without j/CRLF. ASK_URI and ASK_EXTRA change the request.
ask() {
  local line i=0 a
  RESP=()
  while IFS= read -r line; do
    line=${line%$'\r'}
    RESP[i++]=${line#j}
  done < <(for a in "$@"; do
             printf 'j{"action":"call","uri":"%s","argv":%s%s}\r\n' "${ASK_URI:-/Argv/echo}" "$a" "${ASK_EXTRA:-}"
           done | RIAP_ALLOW_ROOT=1 "$HANDLE" --log-fd 9 "$BATS_FILE_TMPDIR/tree" 9>/dev/null)
  [ "${#RESP[@]}" -eq "$#" ] || fail "$# requests, ${#RESP[@]} answers: ${RESP[*]}"
}

is() { # is N JQ: jq -e JQ holds on answer N
  jq -e "$2" <<<"${RESP[$1]}" >/dev/null || fail "answer $1 fails: $2"$'\n'"  ${RESP[$1]}"
}

@test "--name value, --name=value and a positional word give the same argument, validated to a number" {
  ask '["--n","3"]' '["--n=3"]' '["3"]'
  is 0 '.[0] == 200 and .[2] == {"n": 3}'
  is 1 '.[0] == 200 and .[2] == {"n": 3}'
  is 2 '.[0] == 200 and .[2] == {"n": 3}'
}

@test "an argument with underscores is an option with dashes; the underscore form is unknown" {
  ask '["--file-name","x"]' '["--file_name","x"]'
  is 0 '.[0] == 200 and .[2] == {"file_name": "x"}'
  is 1 '.[0] == 400 and .[1] == "Can'"'"'t parse argv" and .[3].prev == [500, "Unknown option: file_name"]'
}

@test "a bool is --flag or --no-flag (--noflag, --without-x), and takes no value" {
  ask '["--verbose"]' '["--no-verbose"]' '["--noverbose"]' '["--with-cache"]' '["--without-cache"]' '["--verbose=1"]'
  is 0 '.[2] == {"verbose": true}'
  is 1 '.[2] == {"verbose": false}'
  is 2 '.[2] == {"verbose": false}'
  is 3 '.[2] == {"with_cache": true}'
  is 4 '.[2] == {"with_cache": false}'
  is 5 '.[0] == 400 and .[3].prev == [500, "Option verbose does not take an argument"]'
}

@test "a repeated option builds an array, KEY=VALUE a hash; slurpy words fill their array" {
  ask '["--tag","a","--tag","b"]' '["--env","A=1","--env","B=2=3"]' '["1","x","y","z"]' '["--env","A"]'
  is 0 '.[0] == 200 and .[2] == {"tag": ["a", "b"]}'
  is 1 '.[0] == 200 and .[2] == {"env": {"A": "1", "B": "2=3"}}'
  is 2 '.[0] == 200 and .[2] == {"n": 1, "rest": ["x", "y", "z"]}'
  is 3 '.[0] == 400 and .[3].prev == [500, "Option env, key \"A\", requires a value"]'
}

@test "--name-json takes a JSON value for an argument that is not a simple scalar" {
  ask '["--data-json","{\"k\":[1,2]}"]' '["--tag-json","[\"a\"]"]' '["--n-json","1"]' '["--data-json","{"]'
  is 0 '.[0] == 200 and .[2] == {"data": {"k": [1, 2]}}'
  is 1 '.[0] == 200 and .[2] == {"tag": ["a"]}'
  is 2 '.[0] == 400 and .[3].prev == [500, "Unknown option: n-json"]'
  is 3 '.[0] == 400 and (.[3].prev[1] | startswith("Invalid JSON in option --data-json: {:"))'
}

@test "cmdline_aliases are options too, single letters bundle, and a unique prefix is enough" {
  ask '["-F","x"]' '["-vFx"]' '["--verb","--file","y"]' '["--with","1"]'
  is 0 '.[0] == 200 and .[2] == {"file_name": "x"}'
  is 1 '.[0] == 200 and .[2] == {"verbose": true, "file_name": "x"}'
  is 2 '.[0] == 200 and .[2] == {"verbose": true, "file_name": "y"}'
  is 3 '.[0] == 400 and .[3].prev == [500, "Option with is ambiguous (with-cache, without-cache)"]'
}

@test "words that do not parse get 400 Can't parse argv, with the cause in META prev" {
  ask '["--bogus"]' '["--n"]' '["--n","1","2"]' '["-x"]'
  is 0 '.[0] == 400 and .[1] == "Can'"'"'t parse argv" and .[3].prev == [500, "Unknown option: bogus"]'
  is 1 '.[0] == 400 and .[3].prev == [500, "Option n requires an argument"]'
  is 2 '.[0] == 400 and .[3].prev == [400, "You specified option --n but also argument #0"]'
  is 3 '.[0] == 400 and .[3].prev == [500, "Unknown option: x"]'
  ASK_URI=/Argv/need ask '["1","2","3"]'
  is 0 '.[0] == 400 and .[3].prev == [500, "There are extra, unassigned elements in array: [3]"]'
}

@test "the arguments argv gives are validated as args are" {
  ask '["11"]' '["ten"]'
  is 0 '.[0] == 400 and .[1] == "Argument '"'n'"' fails validation: Must be at most 10"'
  is 1 '.[0] == 400 and (.[1] | startswith("Argument '"'n'"' fails validation:"))'
  ASK_URI=/Argv/need ask '["1"]' '["--b","2","1"]'
  is 0 '.[0] == 400 and .[1] == "Missing required argument: b"'
  is 1 '.[0] == 200 and .[2] == {"a": 1, "b": 2}'
}

@test "with argv, args is ignored, as the Perl server does" {
  ASK_EXTRA=',"args":{"n":5,"bogus":1}' ask '["2"]' '[]'
  is 0 '.[0] == 200 and .[2] == {"n": 2}'
  is 1 '.[0] == 200 and .[2] == {}'
}

@test "argv must be an array of strings, and goes with call only" {
  local r
  r=$(printf '%s\r\n' 'j{"action":"call","uri":"/Argv/echo","argv":"--n 1"}' \
        'j{"action":"call","uri":"/Argv/echo","argv":["--n",1]}' \
        'j{"action":"meta","uri":"/Argv/echo","argv":[]}' \
      | RIAP_ALLOW_ROOT=1 "$HANDLE" --log-fd 9 "$BATS_FILE_TMPDIR/tree" 9>/dev/null | tr -d '\r' | sed 's/^j//')
  jq -s -e '.[0][0] == 400 and .[0][1] == "Invalid value for request key '"'argv'"', must be an array of strings"
    and .[1][0] == 400 and .[2][0] == 400 and (.[2][1] | contains("not valid for action"))' <<<"$r" >/dev/null \
    || fail "$r"
}

@test "riap call URL -- WORDS sends the words as argv" {
  local url="riap+tcp://127.0.0.1:$(cat "$BATS_FILE_TMPDIR/ours.port")/Perinci/Examples/sum"
  run "$RIAP_BUILD/bin/riap" --compact call "$url" -- --round 1.2 2.6
  assert_success
  assert_output "3"
  run "$RIAP_BUILD/bin/riap" --compact call "$url" -- 1 --bogus
  [ "$status" -eq 100 ] || fail "exit $status: $output"
  assert_output --partial "riap: 400 Can't parse argv (500: Unknown option: bogus)"
  run "$RIAP_BUILD/bin/riap" --compact call "$url" array=[1] -- 2
  [ "$status" -eq 100 ] || fail "exit $status: $output"
  assert_output --partial "cannot go together"
}

@test "bash completion offers riap's options before -- and none after it" {
  run bash -c 'source "$1"
    COMP_WORDS=(riap call URL --ra); COMP_CWORD=3; _riap; echo "before: ${COMPREPLY[*]}"
    COMP_WORDS=(riap call URL -- --ra); COMP_CWORD=4; COMPREPLY=(); _riap; echo "after: ${COMPREPLY[*]}"' \
    _ "$RIAP_REPO/doc/riap.bash-completion"
  assert_success
  assert_line "before: --raw"
  assert_line "after: "
}

@test "the Perl server and riap-handle agree on every argv of the corpus not listed as a difference" {
  need_perl
  local n
  n=$(grep -c '^[a-z]' "$DIFF/argv-corpus")
  [ "$(wc -l <"$BATS_FILE_TMPDIR/ours.jsonl")" -eq "$n" ] || fail "ours answered $(wc -l <"$BATS_FILE_TMPDIR/ours.jsonl") of $n"
  [ "$(wc -l <"$BATS_FILE_TMPDIR/perl.jsonl")" -eq "$n" ] || fail "perl answered $(wc -l <"$BATS_FILE_TMPDIR/perl.jsonl") of $n"
  run jq -n -r --slurpfile perl "$BATS_FILE_TMPDIR/perl.jsonl" --slurpfile ours "$BATS_FILE_TMPDIR/ours.jsonl" '
    # a value as Perl sees it: no booleans, no difference between "2" and 2
    def perlish: walk(if type == "boolean" then (if . then 1 else 0 end)
      elif type == "string" and test("^-?[0-9]+(\\.[0-9]+)?$") then tonumber else . end);
    def view($mode): if type != "array" then {not_an_envelope: .}
      elif $mode == "status" then {status: .[0]}
      else {status: .[0], result: (.[2] | perlish)}
        + (if .[1] == "Can'"'"'t parse argv" then {message: .[1], cause: (.[3].prev[0])} else {} end) end;
    def parse_error: any(.[]; type == "array" and .[1] == "Can'"'"'t parse argv");
    [$perl, $ours] | transpose[] | . as [$p, $o]
    | select($p.mode | startswith("diff:") | not)
    | ($p.answers | map(view($p.mode))) as $pv | ($o.answers | map(view($o.mode))) as $ov
    # when only one side failed to parse, the message differs: show both
    | select($pv != $ov or (($p.answers | parse_error) != ($o.answers | parse_error)))
    | "line \($p.n) (\($p.mode)): \($p.req)\n  perl: \($pv | tojson)\n  ours: \($ov | tojson)"'
  assert_success
  [ -z "$output" ] || fail "$(grep -c '^line ' <<<"$output") requests answered differently:
$output"
}

@test "every deliberate argv difference holds, and doc/PERL-DIFFERENCES.md has its row" {
  need_perl
  local failures="" line n mode req of pf oa pa doc=$RIAP_REPO/doc/PERL-DIFFERENCES.md name
  while IFS= read -r line; do
    eval "$line"    # sets n mode req of pf oa pa, quoted by jq's @sh
    jq -e "$of" >/dev/null 2>&1 <<<"$oa" || failures+="line $n ($mode): $req"$'\n'"  ours fails: $of"$'\n'"  ours: $oa"$'\n'
    jq -e "$pf" >/dev/null 2>&1 <<<"$pa" || failures+="line $n ($mode): $req"$'\n'"  perl fails: $pf"$'\n'"  perl: $pa"$'\n'
  done < <(jq -n -r --slurpfile perl "$BATS_FILE_TMPDIR/perl.jsonl" --slurpfile ours "$BATS_FILE_TMPDIR/ours.jsonl" '
    [$perl, $ours] | transpose[] | select(.[0].mode | startswith("diff:"))
    | @sh "n=\(.[0].n) mode=\(.[0].mode) req=\(.[0].req) of=\(.[0].ours // "false") pf=\(.[0].perl // "false") oa=\(.[1].answers | tojson) pa=\(.[0].answers | tojson)"')
  for name in $(grep -o '^diff:[a-z0-9-]*' "$DIFF/argv-corpus" | sed 's/^diff://' | sort -u); do
    grep -q "^| \`$name\`" "$doc" || failures+="no row for $name in $doc"$'\n'
  done
  [ -z "$failures" ] || fail "$failures"
}
