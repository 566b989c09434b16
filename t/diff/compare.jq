# t/diff/compare.jq: compares the answers of the Perl server ($perl) and of
# riap-handle ($ours), as t/diff/send printed them for the same corpus, by
# each line's MODE (see t/diff/corpus). $tree: every URI that t/difftree
# serves. Prints one line per request that does not agree; diff: lines are
# checked by t/perl-diff.bats itself.

def truthy: . != null and . != false and . != 0 and . != "" and . != "0";

# what has to agree in META (x.hint.result_binary as Perl writes it: 1)
def meta_of: (.[3] // {}) | {v: ."riap.v", enc: ."riap.result_encoding",
  binary: ."x.hint.result_binary"};

# an entry of a list answer, as an absolute URI (entries may be relative to
# the package listed)
def absolute($base): if startswith("/") then . else $base + . end;

def entry: if type == "object" then {uri, type} else . end;

def listed($base): map(entry);

def in_tree($base): map(select((if type == "object" then .uri else . end)
  | absolute($base) | IN($tree[])));

# words with their JSON type: Perl offers a bool's 0 and 1, and an int
# range, as numbers
def words: (if type == "array" then . else .words // [] end)
  | map(if type == "object" then {word, summary}
        else {word: ., summary: null} end)
  | sort;

def fmeta: if type == "object" then
  {v, summary, features: (.features // {}),
   args: ((.args // {}) | map_values(
     {pos, req: (.req | truthy), slurpy: (.slurpy | truthy), default}))}
  else . end;

def tx_actions: ["begin_tx", "commit_tx", "discard_all_txs", "discard_tx",
  "list_txs", "redo", "release_tx_savepoint", "rollback_tx", "savepoint_tx",
  "undo"];
def action_names: map(if type == "object" then .name else . end);

# the part of one answer that MODE compares, for the request sent to $uri
def view($mode; $req):
  if type != "array" then {not_an_envelope: .}
  elif $mode == "status" then {status: .[0], v: meta_of.v}
  else {status: .[0], meta: meta_of} + (
    .[2] as $r
    | ($req.uri // "") as $base
    | if .[0] != 200 then {}
      elif $mode == "same" then
        {result: (if $req.action == "info" and ($r | type) == "object" then $r | del(.v) else $r end)}
      elif $mode == "set" then {result: ($r | if type == "array" then sort else . end)}
      elif $mode == "list" then {result: ($r | in_tree($base) | listed($base) | sort)}
      elif $mode == "actions" then {result: ($r | action_names - tx_actions | sort)}
      elif $mode == "words" then {result: ($r | words)}
      elif $mode == "meta" then {result: ($r | fmeta)}
      elif $mode == "child_metas" then {result: ($r | with_entries(
        select((.key | absolute($base) | IN($tree[])) and (.key | startswith("$") | not))
        | .value |= fmeta))}
      else {unknown_mode: $mode} end)
  end;

def request: .req | ltrimstr("j") | try fromjson catch {};

[$perl, $ours] | transpose[] | . as [$p, $o]
| select($p.mode | startswith("diff:") | not)
| ($p | request) as $req
| ($p.answers | map(view($p.mode; $req))) as $pv
| ($o.answers | map(view($o.mode; $req))) as $ov
| select($pv != $ov)
| "line \($p.n) (\($p.mode)): \($p.req)\n  perl: \($pv | tojson)\n  ours: \($ov | tojson)"
