#!/usr/bin/env bats
# riap-handle checks call arguments against their Sah schemas (lib/sah) before
# the function runs, fills defaults, and completes from the compiled schema.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

setup() {
  RH=${RIAP_HANDLE:-${RIAP_BUILD:-$BATS_TEST_DIRNAME/../build}/bin/riap-handle}
  TREE="$BATS_TEST_DIRNAME/tree"
}

# ask JSON...: one request line per JSON; RESP[i] holds answer i without j/CRLF
ask() {
  local line i=0
  RESP=()
  while IFS= read -r line; do
    line=${line%$'\r'}
    RESP[i++]=${line#j}
  done < <(for r in "$@"; do printf 'j%s\r\n' "$r"; done | "$RH" --log-fd 9 "$TREE" 9>/dev/null)
}

is() { # is N JQ: jq -e JQ holds on answer N
  jq -e "$2" <<<"${RESP[$1]}" >/dev/null || { echo "answer $1 fails: $2"; echo "  ${RESP[$1]}"; false; }
}

call() { printf '{"action":"call","uri":"/Sah/%s","args":%s}' "$1" "$2"; }

@test "a value over max gets 400 Must be at most, and the function does not run" {
  ask "$(call check '{"n":11,"word":"a","nums":[1]}')"
  is 0 '.[0] == 400 and .[1] == "Argument '"'n'"' fails validation: Must be at most 10"'
}

@test "a string not matching its regex gets 400 Must match regex pattern" {
  ask "$(call check '{"n":1,"word":"two words","nums":[1]}')"
  is 0 '.[0] == 400 and .[1] == "Argument '"'word'"' fails validation: Must match regex pattern ^\\w+$"'
}

@test "a wrong element type gets 400 naming the element" {
  ask "$(call check '{"n":1,"word":"a","nums":[1,2,"x"]}')"
  is 0 '.[0] == 400 and (.[1] | startswith("Argument '"'nums'"' fails validation: Not of type integer")) and (.[1] | contains("element 2"))'
}

@test "a value of the wrong type gets 400 Not of type" {
  ask "$(call check '{"n":"ten","word":"a","nums":[1]}')"
  is 0 '.[0] == 400 and .[1] == "Argument '"'n'"' fails validation: Not of type integer"'
}

@test "a null for a required (*) schema gets 400" {
  ask "$(call check '{"n":null,"word":"a","nums":[1]}')"
  is 0 '.[0] == 400 and (.[1] | startswith("Argument '"'n'"' fails validation:"))'
}

@test "array min_len, in, between and allowed_keys are enforced" {
  ask "$(call check '{"n":1,"word":"a","nums":[]}')" \
      "$(call check '{"n":1,"word":"a","nums":[1],"color":"pink"}')" \
      "$(call check '{"n":1,"word":"a","nums":[1],"level":9}')" \
      "$(call check '{"n":1,"word":"a","nums":[1],"opts":{"bogus":1}}')"
  is 0 '.[0] == 400 and (.[1] | startswith("Argument '"'nums'"' fails validation:"))'
  is 1 '.[0] == 400 and (.[1] | startswith("Argument '"'color'"' fails validation:"))'
  is 2 '.[0] == 400 and (.[1] | startswith("Argument '"'level'"' fails validation:"))'
  is 3 '.[0] == 400 and (.[1] | startswith("Argument '"'opts'"' fails validation:"))'
}

@test "valid arguments reach the function with defaults filled in" {
  ask "$(call check '{"n":10,"word":"ok","nums":[1,2],"opts":{}}')"
  is 0 '.[0] == 200'
  is 0 '.[2].n == 10 and .[2].word == "ok" and .[2].nums == [1,2]'
  is 0 '.[2].greeting == "hello"'       # the schema's default clause
  is 0 '.[2].count == 7'                # the arg's default
  is 0 '.[2].opts.level == 3'           # a default inside a hash
  is 0 '(.[2] | has("color")) | not'    # absent, optional, no default: left out
}

@test "a schema with an unknown clause makes the function answer 531 with the reason" {
  ask "$(call badschema '{"n":1}')" '{"action":"meta","uri":"/Sah/badschema"}'
  is 0 '.[0] == 531 and (.[1] | contains("/Sah/badschema")) and (.[1] | contains("frobnicate"))'
  is 1 '.[0] == 200 and .[2].args.n.schema[1].frobnicate == 1'   # meta is served (normalized)
}

@test "a Perl check clause is refused, never silently accepted" {
  ask "$(call perlcheck '{"n":1}')"
  is 0 '.[0] == 531 and (.[1] | contains("check"))'
}

@test "a broken regex is refused at load with 531" {
  ask "$(call badregex '{"s":"x"}')"
  is 0 '.[0] == 531 and (.[1] | contains("/Sah/badregex"))'
}

@test "complete_arg_val uses the compiled schema: in, bool (0 and 1), small int ranges" {
  ask '{"action":"complete_arg_val","uri":"/Sah/check","arg":"color","word":"g"}' \
      '{"action":"complete_arg_val","uri":"/Sah/check","arg":"flag"}' \
      '{"action":"complete_arg_val","uri":"/Sah/check","arg":"level"}' \
      '{"action":"complete_arg_val","uri":"/Sah/check","arg":"word"}'
  is 0 '.[0] == 200 and ([.[2].words[].word] == ["green"]) and .[2].static == 0'
  is 1 '.[0] == 200 and ([.[2].words[].word] == [0,1]) and .[2].static == 1'
  is 2 '.[0] == 200 and ([.[2].words[].word] == [1,2,3,4,5])'
  is 3 '.[0] == 200 and .[2].words == []'
}

@test "numbers and bools given as strings reach the function in the JSON form of their type (a Perl client sends \"2\")" {
  ask "$(call check '{"n":"2","word":"007","nums":["1",2,"3"],"opts":{"level":"4"},"count":"8","flag":"0","level":2.0}')" \
      "$(call check '{"n":1,"word":"a","nums":[1],"flag":1}')"
  is 0 '.[0] == 200'
  is 0 '.[2].n == 2 and .[2].count == 8 and .[2].level == 2 and (.[2].level | tostring) == "2"'
  is 0 '.[2].nums == [1,2,3] and .[2].opts.level == 4 and .[2].flag == false'
  # strings stay strings, whatever they look like
  is 0 '.[2].word == "007" and .[2].greeting == "hello"'
  is 1 '.[0] == 200 and .[2].flag == true'
  # the examples: sh arithmetic on "6" failed (500), jq divided "2.5" by "0.5" by splitting it
  TREE=$BATS_TEST_DIRNAME/../examples
  ask '{"action":"call","uri":"/Math/mult","args":{"a":"6","b":"7"}}' \
      '{"action":"call","uri":"/Math/div","args":{"a":"2.5","b":"0.5"}}'
  is 0 '.[0] == 200 and .[2] == 42'
  is 1 '.[0] == 200 and .[2] == 5'
}
