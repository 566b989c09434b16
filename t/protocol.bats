#!/usr/bin/env bats
# riap-handle speaks Riap::Simple (doc/riap-handle.8: DESCRIPTION, its
# Protocol, The code tree and Actions parts, and EXEC PROTOCOL). This file
# runs in pipe mode; protocol-unix.bats and protocol-tcp.bats are symlinks
# to it that run the same suite through s6-ipcserver and tcpserver,
# protocol-listen-unix.bats and protocol-listen-tcp.bats through
# riap-listen. See t/helper.bash for riap_talk, rq and check.

load helper

setup_file() { riap_setup_file; }
teardown_file() { riap_teardown_file; }
teardown() { riap_teardown; }

MULT='{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}'

# ------------------------------------------------------------ the envelope

@test "the example of the README is answered byte for byte" {
  only_on pipe "uses riap-handle on examples/ directly"
  cd "$RIAP_REPO"
  printf 'j{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}\r\n' \
    | "$RIAP_HANDLE" examples >"$BATS_TEST_TMPDIR/out" 2>/dev/null
  printf 'j[200,"OK",6,{"riap.v":1.1}]\r\n' >"$BATS_TEST_TMPDIR/want"
  cmp "$BATS_TEST_TMPDIR/want" "$BATS_TEST_TMPDIR/out" \
    || fail "got: $(od -c "$BATS_TEST_TMPDIR/out")"
}

@test "a call is answered with status, message, result and riap.v 1.1" {
  rq "$MULT"
  responses_are 1
  check 0 '.[0] == 200 and .[2] == 6'
  check 0 '.[3]["riap.v"] == 1.1'
  check 0 'length == 4'
}

@test "a 1.2 request gets riap.v 1.2, printed as 1.2" {
  rq '{"v":1.2,"action":"call","uri":"/Math/mult","args":{"a":4,"b":5}}'
  responses_are 1
  check 0 '.[0] == 200 and .[2] == 20 and .[3]["riap.v"] == 1.2'
  grep -qF '"riap.v":1.2}' "$BATS_TEST_TMPDIR/raw" || fail "riap.v not printed as 1.2: ${RESP[0]}"
}

@test "an explicit v 1.1 gets riap.v 1.1, printed as 1.1" {
  rq '{"v":1.1,"action":"call","uri":"/Math/mult","args":{"a":4,"b":5}}'
  check 0 '.[0] == 200 and .[3]["riap.v"] == 1.1'
  grep -qF '"riap.v":1.1}' "$BATS_TEST_TMPDIR/raw" || fail "riap.v not printed as 1.1: ${RESP[0]}"
}

@test "error envelopes carry riap.v of the request too" {
  rq '{"v":1.2,"action":"meta","uri":"/Math/nope"}' \
     '{"v":1.2,"action":"call","uri":"/Math/mult","args":{"a":1}}'
  responses_are 2
  check 0 '.[0] == 404 and .[3]["riap.v"] == 1.2'
  check 1 '.[0] == 400 and .[3]["riap.v"] == 1.2'
}

@test "v 2.0 gets 501" {
  rq '{"v":2.0,"action":"call","uri":"/Math/mult","args":{"a":2,"b":3}}' "$MULT"
  responses_are 2
  status_is 0 501
  status_is 1 200
}

@test "a bare LF ends a request too, the answer still ends in CRLF" {
  riap_talk "s:j$MULT"$'\n' shut
  responses_are 1
  check 0 '.[0] == 200 and .[2] == 6'
}

@test "riap-handle exits 0 at EOF after answering" {
  only_on pipe "stdin EOF ends only the pipe-mode process"
  rq "$MULT"
  responses_are 1
  [ "$R_EOF" = 1 ] || fail "connection not closed"
  [ "$R_EXIT" = 0 ] || fail "exit status $R_EXIT"
}

@test "riap+pipe (stdin a pipe): no access records on stderr unless asked" {
  only_on pipe "stderr is the server's in the socket transports"
  rq "$MULT" '{"action":"meta","uri":"/Math/nope"}'
  responses_are 2
  ! grep -q riap-access "$BATS_TEST_TMPDIR/stderr" || fail "access records on a client's stderr: $(cat "$BATS_TEST_TMPDIR/stderr")"
  ! grep -q riap-access "$BATS_TEST_TMPDIR/raw" || fail "access record in the protocol output"
}

@test "riap+pipe with --log-fd 2: access records go to stderr, never into the protocol output" {
  only_on pipe "stderr is the server's in the socket transports"
  RIAP_HANDLE_OPTS="--log-fd 2" rq "$MULT" '{"action":"meta","uri":"/Math/nope"}' '{"action":"info","uri":"/"}'
  responses_are 3
  run grep -c '^%riap-access 1 ' "$BATS_TEST_TMPDIR/stderr"
  assert_output 3
  grep '^%riap-access 1 ' "$BATS_TEST_TMPDIR/stderr" | head -1 | grep -q ' action=call uri=/Math/mult status=200 ' \
    || fail "first record: $(head -1 "$BATS_TEST_TMPDIR/stderr")"
  ! grep -q riap-access "$BATS_TEST_TMPDIR/raw" || fail "access record in the protocol output"
}

@test "access records go to the server's stderr, with the peer" {
  [ "$RIAP_TRANSPORT" != pipe ] || skip "pipe mode has its own test"
  rq '{"action":"call","uri":"/Tree/Sub/beta"}'
  responses_are 1
  status_is 0 200
  local log=$BATS_FILE_TMPDIR/server-default.err peer i
  case $RIAP_TRANSPORT in tcp) peer='peer=127\.0\.0\.1:[0-9]+' ;; unix) peer='peer=unix:' ;; esac
  for i in $(seq 20); do grep -q 'uri=/Tree/Sub/beta ' "$log" && break; sleep 0.05; done
  grep -Eq "^%riap-access 1 .* $peer.* action=call uri=/Tree/Sub/beta status=200 " "$log" \
    || fail "no record in $log: $(tail -3 "$log")"
  ! grep -q riap-access "$BATS_TEST_TMPDIR/raw" || fail "access record in the protocol output"
}

@test "--log-fd N moves the access records to fd N" {
  only_on pipe "an option of the pipe-mode command line"
  printf 'j%s\r\n' "$MULT" | "$RIAP_HANDLE" --log-fd 5 "$RIAP_ROOT" \
    >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 5>"$BATS_TEST_TMPDIR/log"
  run grep -c '^%riap-access 1 .* uri=/Math/mult status=200 ' "$BATS_TEST_TMPDIR/log"
  assert_output 1
  ! grep -q riap-access "$BATS_TEST_TMPDIR/err" || fail "record also on stderr"
  grep -q '^j\[200,"OK",6,' "$BATS_TEST_TMPDIR/out" || fail "output: $(cat "$BATS_TEST_TMPDIR/out")"
}

# ------------------------------------------------------------ bad input

@test "a line not starting with j gets 400 and the connection is closed" {
  riap_talk "s:x$MULT"$'\r\n' "s:j$MULT"$'\r\n' r:3
  responses_are 1
  check 0 '.[0] == 400 and .[1] == "Invalid request line, use j<json>"'
  [ "$R_EOF" = 1 ] || fail "connection left open"
  elapsed_below 2
}

@test "broken JSON gets 400 and the connection stays open" {
  riap_talk "s:j{\"action\":\"call\","$'\r\n' w:1 "s:j$MULT"$'\r\n' shut
  responses_are 2
  check 0 '.[0] == 400 and (.[1] | startswith("Invalid JSON: "))'
  check 1 '.[0] == 200 and .[2] == 6'
}

@test "an empty request line after j is broken JSON, and the connection stays open" {
  rq '' "$MULT"
  responses_are 2
  check 0 '.[0] == 400 and (.[1] | startswith("Invalid JSON: "))'
  status_is 1 200
}

@test "trailing bytes after the object are broken JSON" {
  riap_talk 's:j{"action":"info","uri":"/"} x'$'\r\n' "s:j$MULT"$'\r\n' shut
  responses_are 2
  check 0 '.[0] == 400 and (.[1] | startswith("Invalid JSON: "))'
  status_is 1 200
}

@test "a line that is not valid UTF-8 is read as Latin-1 (each byte one character), valid UTF-8 stays UTF-8" {
  # Perl's client writes characters 0x80-0xFF as single bytes; answers
  # carry every non-ASCII character as \uXXXX, which any JSON decoder reads
  riap_talk $'s:j{"action":"call","uri":"/Nasty/echo","args":{"a":"caf\xe9 \xff"}}\r\n' \
            $'s:j{"action":"call","uri":"/Nasty/echo","args":{"a":"caf\xc3\xa9 \xe2\x82\xac"}}\r\n' \
            $'s:j{"action":"info","uri":"/\xff\xfe"}\r\n' "s:j$MULT"$'\r\n' shut
  responses_are 4
  check 0 '.[0] == 200 and .[2].a == "caf\u00e9 \u00ff"'
  check 1 '.[0] == 200 and .[2].a == "caf\u00e9 \u20ac"'
  check 2 '.[0] == 404 and .[1] == "Not found: /\u00ff\u00fe"'
  status_is 3 200
  LC_ALL=C grep -q $'[\x80-\xff]' "$BATS_TEST_TMPDIR/raw" && fail "an answer holds bytes over 0x7f: $(od -c "$BATS_TEST_TMPDIR/raw" | head)"
  return 0
}

@test "a raw NUL byte in a request line gets 400 naming it, and the connection stays open" {
  local f=$BATS_TEST_TMPDIR/nul
  printf 'j{"action":"info",\0"uri":"/"}\r\nj{"action":"info","uri":"/"}\0\r\nj\0{"action":"info","uri":"/"}\r\n' >"$f"
  riap_talk "f:$f" "s:j$MULT"$'\r\n' shut
  responses_are 4
  check 0 '.[0] == 400 and .[1] == "Invalid JSON: NUL byte at byte 18"'
  check 1 '.[0] == 400 and .[1] == "Invalid JSON: NUL byte at byte 28"'
  check 2 '.[0] == 400 and .[1] == "Invalid JSON: NUL byte at byte 1"'
  status_is 3 200
}

@test "a request key's string with \\u0000 inside gets 400 naming the key, never read cut short" {
  rq '{"action":"call","uri":"/Math/mult\u0000x","args":{"a":2,"b":3}}' \
     '{"action":"list","uri":"/Math/","type":"function\u0000x"}' \
     '{"action":"list","uri":"/Math/","q":"mu\u0000x"}' \
     '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name\u0000x","word":""}' \
     '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"a\u0000x"}' \
     '{"action":"info","uri":"/","tx_id":"t\u0000"}' \
     "$MULT"
  responses_are 7
  local i key
  i=0
  for key in uri type q arg word tx_id; do
    check $i '.[0] == 400 and .[1] == "Invalid value for request key '"'$key'"', must not contain NUL"'
    i=$((i + 1))
  done
  status_is 6 200
}

@test "a \\u0000 inside an argument's value is data, passed to the function whole" {
  rq '{"action":"call","uri":"/Nasty/echo","args":{"a":"x\u0000y"}}'
  responses_are 1
  check 0 '.[0] == 200 and .[2].a == "x\u0000y"'
}

@test "a request that is not an object gets 400 (not hash)" {
  rq '[1,2]' '"call"' '42' 'null' "$MULT"
  responses_are 5
  for i in 0 1 2 3; do check $i '.[0] == 400 and .[1] == "Invalid request (not hash)"'; done
  status_is 4 200
}

@test "a missing action gets 400 Please specify action" {
  rq '{"uri":"/Math/mult"}' "$MULT"
  responses_are 2
  check 0 '.[0] == 400 and .[1] == "Please specify action"'
  status_is 1 200
}

@test "a missing uri gets 400 naming uri" {
  rq '{"action":"call"}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 uri
  status_is 1 200
}

@test "an unknown request key gets 400 naming the key" {
  rq '{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3},"frobnicate":1}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 frobnicate
  status_is 1 200
}

@test "a key that is not an identifier gets 400" {
  rq '{"action":"info","uri":"/","bad-key":1}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 bad-key
  status_is 1 200
}

@test "request keys beginning with - are the client's: ignored, never passed to the function" {
  # what Perl's client adds to every request (Perinci::Access::Base::check_request)
  local perl='"-uri_scheme":"riap+tcp","-uri_auth":"127.0.0.1:5678","-uri_path":"/Nasty/echo","-uri_query":null,"-uri_frag":null'
  rq "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":1},$perl}" \
     "{\"action\":\"info\",\"uri\":\"/\",$perl}" "{\"action\":\"list\",\"uri\":\"/Math/\",\"-x\":[1,{\"y\":2}]}"
  responses_are 3
  check 0 '.[0] == 200 and .[2] == {"a": 1}'
  status_is 1 200
  status_is 2 200
}

@test "request keys beginning with - are not shown as arguments in the access record" {
  only_on pipe "reads the records on stderr"
  RIAP_HANDLE_OPTS="--log-fd 2" rq '{"action":"call","uri":"/Nasty/echo","args":{"a":1},"-uri_scheme":"riap+tcp","-uri_path":"/Nasty/echo"}'
  responses_are 1
  status_is 0 200
  grep -q '^%riap-access 1 .* args=7:{"a":1} ' "$BATS_TEST_TMPDIR/stderr" || fail "record: $(cat "$BATS_TEST_TMPDIR/stderr")"
  ! grep -q uri_scheme "$BATS_TEST_TMPDIR/stderr" || fail "a - key in the record: $(cat "$BATS_TEST_TMPDIR/stderr")"
}

@test "v given as a numeric string (\"1.2\", \"1.1\") is that number" {
  rq '{"v":"1.2","action":"info","uri":"/"}' '{"v":"1.1","action":"info","uri":"/"}' \
     '{"v":"1.2","action":"call","uri":"/Util/bitflip","args":{"data:base64":"AAE="}}' \
     '{"v":"1.3","action":"info","uri":"/"}'
  responses_are 4
  check 0 '.[0] == 200 and .[2].v == 1.2 and .[3]["riap.v"] == 1.2'
  check 1 '.[0] == 200 and .[2].v == 1.1 and .[3]["riap.v"] == 1.1'
  check 2 '.[0] == 200 and .[2] == "//4=" and .[3]["riap.result_encoding"] == "base64"'
  status_is 3 501
}

@test "an action that is not an identifier gets 400 Invalid action (\\u0000 inside too); an empty one Please specify; a well-formed unknown one 501" {
  rq '{"action":"ca ll","uri":"/Math/mult"}' '{"action":"call\u0000","uri":"/Math/mult"}' \
     '{"action":"1call","uri":"/Math/mult"}' '{"action":"../call","uri":"/Math/mult"}' \
     '{"action":"info\u0000junk","uri":"/"}' '{"action":"info;","uri":"/"}' \
     '{"action":"","uri":"/"}' '{"action":"frobnicate","uri":"/Math/mult"}' "$MULT"
  responses_are 9
  for i in 0 1 2 3 4 5; do check $i '.[0] == 400 and .[1] == "Invalid action, please only use letters/numbers"'; done
  check 6 '.[0] == 400 and .[1] == "Please specify action"'
  status_is 7 501
  status_is 8 200
}

@test "a key of the wrong type gets 400 naming the key" {
  rq '{"action":"call","uri":"/Math/mult","args":"a=2"}' \
     '{"action":"list","uri":"/Math/","detail":"yes"}' \
     '{"action":"info","uri":5}' \
     '{"action":["info"],"uri":"/"}' \
     '{"action":"info","uri":"/","v":"one"}' \
     "$MULT"
  responses_are 6
  local i key
  i=0
  for key in args detail uri action v; do
    status_is $i 400
    message_has $i "$key"
    i=$((i + 1))
  done
  status_is 5 200
}

@test "a duplicate key gets 400" {
  rq '{"action":"info","action":"call","uri":"/"}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 action
  status_is 1 200
}

@test "a line over --max-line gets 413 and the connection is closed" {
  local pad; pad=$(head -c 8000 /dev/zero | tr '\0' x)
  riap_talk -t "s:j{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad\"}}"$'\r\n' \
    "s:j$MULT"$'\r\n' r:3
  responses_are 1
  status_is 0 413
  [ "$R_EOF" = 1 ] || fail "connection left open"
}

@test "a line over --max-line gets 413 before its end arrives" {
  local pad; pad=$(head -c 8000 /dev/zero | tr '\0' x)
  riap_talk -t "s:j{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad" r:3
  responses_are 1
  status_is 0 413
  [ "$R_EOF" = 1 ] || fail "connection left open"
}

@test "a line under --max-line is served" {
  local pad; pad=$(head -c 3000 /dev/zero | tr '\0' x)
  rq -t "{\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"a\":\"$pad\"}}"
  responses_are 1
  check 0 '.[0] == 200 and (.[2].a | length) == 3000'
}

@test "a request not finished within --timeout gets 408 and the connection is closed" {
  riap_talk -t 's:j{"action":"call","uri":"/Ma' r:4
  responses_are 1
  status_is 0 408
  [ "$R_EOF" = 1 ] || fail "connection left open"
  elapsed_above 0.9
  elapsed_below 3
}

@test "an idle connection is closed after --timeout without a response" {
  not_on pipe "a pipe has no idle timeout unless --idle-timeout is given (next test)"
  riap_talk -t r:4
  responses_are 0
  [ "$R_EOF" = 1 ] || fail "connection left open"
  elapsed_above 0.9
  elapsed_below 3
}

@test "on a pipe the next request is awaited however long (a riap+pipe client keeps us); --idle-timeout ends that" {
  only_on pipe "stdin is a socket on the other transports"
  # --timeout 1 (tight) bounds the rest of a request, not the wait for one
  riap_talk -t "s:j$MULT"$'\r\n' w:1 p:2 "s:j$MULT"$'\r\n' w:2 shut
  responses_are 2
  status_is 1 200
  RIAP_TIGHT_OPTS="$RIAP_TIGHT_OPTS --idle-timeout 0.5" riap_talk -t "s:j$MULT"$'\r\n' w:1 r:4
  responses_are 1
  [ "$R_EOF" = 1 ] || fail "connection left open"
  elapsed_above 0.4
  elapsed_below 3
}

@test "on a socketpair too (a client that started us): the next request is awaited past --timeout" {
  only_on pipe "starts riap-handle itself"
  run perl -MSocket -e '
    socketpair(my $c, my $s, AF_UNIX, SOCK_STREAM, 0) or die "socketpair: $!";
    my $pid = fork // die;
    if (!$pid) { close $c; open(STDIN, "<&", $s) or die; open(STDOUT, ">&", $s) or die; open(STDERR, ">", "/dev/null"); close $s; exec @ARGV or die }
    close $s; select((select($c), $| = 1)[0]);
    my $rq = "j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":2,\"b\":3}}\r\n";
    print $c $rq; print scalar <$c>; sleep 2; print $c $rq; print scalar(<$c>) // "EOF\n";
    close $c; waitpid $pid, 0; print "exit $?\n"' "$RIAP_HANDLE" --timeout 1 "$RIAP_ROOT"
  assert_success
  assert_line --index 0 --partial '[200,"OK",6'
  assert_line --index 1 --partial '[200,"OK",6'
  assert_line --index 2 'exit 0'
}

@test "the idle timeout starts again after each response" {
  riap_talk -t "s:j$MULT"$'\r\n' w:1 p:0.6 "s:j$MULT"$'\r\n' w:2 p:0.6 "s:j$MULT"$'\r\n' w:3 shut
  responses_are 3
  for i in 0 1 2; do status_is $i 200; done
}

@test "a URI with a scheme gets 400 and is never followed" {
  rq "{\"action\":\"call\",\"uri\":\"riap+pipe:$BATS_FILE_TMPDIR/outside/follow-me\"}" \
     '{"action":"call","uri":"riap+tcp://127.0.0.1:1/Math/mult","args":{"a":2,"b":3}}' \
     '{"action":"meta","uri":"riap+unix:/tmp/x.sock//Math/mult"}' \
     '{"action":"info","uri":"http://example.com/"}' \
     '{"action":"info","uri":"file:///etc/passwd"}' \
     "$MULT"
  responses_are 6
  for i in 0 1 2 3 4; do status_is $i 400; done
  status_is 5 200
  [ ! -e "$BATS_FILE_TMPDIR/followed" ] || fail "the riap+pipe: program was run"
}

# ------------------------------------------------------------ pipelining

@test "pipelined requests in one write are each answered, in order" {
  local data= i
  for i in $(seq 1 25); do
    data+="j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":$i,\"b\":2}}"$'\r\n'
  done
  riap_talk "s:$data" shut
  responses_are 25
  check_all 'map(.[0]) == [range(25) | 200] and map(.[2]) == [range(1; 26) | . * 2]'
}

@test "hundreds of pipelined requests in one write are each answered, in order" {
  local data= i pkgs=(/Math/ /Text/ /Util/)
  for i in $(seq 0 299); do
    data+="j{\"action\":\"info\",\"uri\":\"${pkgs[i % 3]}\"}"$'\r\n'
  done
  riap_talk "s:$data" shut
  responses_are 300
  check_all 'all(.[0] == 200) and map(.[2].uri) == [range(300) | ["/Math/", "/Text/", "/Util/"][. % 3]]'
}

@test "pipelined requests with bad ones among them are each answered, in order" {
  riap_talk "s:j$MULT"$'\r\n''j{"action":'$'\r\n''j[1]'$'\r\n''j{"action":"meta","uri":"/Math/nope"}'$'\r\n'"j$MULT"$'\r\n' shut
  responses_are 5
  status_is 0 200
  check 1 '.[0] == 400 and (.[1] | startswith("Invalid JSON: "))'
  check 2 '.[1] == "Invalid request (not hash)"'
  status_is 3 404
  status_is 4 200
}

@test "one request split over many writes with pauses is answered" {
  local req="j$MULT"$'\r\n' steps=() i
  for ((i = 0; i < ${#req}; i += 7)); do steps+=("s:${req:i:7}" p:0.04); done
  riap_talk "${steps[@]}" shut
  responses_are 1
  check 0 '.[0] == 200 and .[2] == 6'
}

@test "CR and LF in separate writes, and a request boundary inside a write" {
  riap_talk "s:j$MULT"$'\r' p:0.2 $'s:\n'"j{\"action\":\"call\",\"uri\":\"/Math/mu" p:0.2 \
    's:lt","args":{"a":5,"b":5}}'$'\r\n' shut
  responses_are 2
  check 0 '.[2] == 6'
  check 1 '.[2] == 25'
}

@test "the next request may follow after reading the response" {
  riap_talk "s:j$MULT"$'\r\n' w:1 's:j{"action":"info","uri":"/Math/"}'$'\r\n' w:2 shut
  responses_are 2
  status_is 0 200
  check 1 '.[0] == 200 and .[2].type == "package"'
}

# ------------------------------------------------------------ info, actions, meta

@test "info describes a function, a package, a variable and the root" {
  rq '{"action":"info","uri":"/Math/mult"}' '{"action":"info","uri":"/Math/"}' \
     '{"action":"info","uri":"/Math/$PI"}' '{"action":"info","uri":"/"}'
  responses_are 4
  check 0 '.[0] == 200 and .[2].v == 1.1 and .[2].type == "function" and .[2].uri == "/Math/mult"'
  check 1 '.[0] == 200 and .[2].type == "package" and .[2].uri == "/Math/"'
  check 2 '.[0] == 200 and .[2].type == "variable" and .[2].uri == "/Math/$PI"'
  check 3 '.[0] == 200 and .[2].type == "package" and .[2].uri == "/"'
}

@test "actions lists what each entity type supports" {
  rq '{"action":"actions","uri":"/Math/mult"}' '{"action":"actions","uri":"/Math/"}' \
     '{"action":"actions","uri":"/Math/$PI"}'
  responses_are 3
  check 0 '.[0] == 200 and (.[2] | index(["call"]) != null and index(["meta"]) != null and index(["info"]) != null)'
  check 0 '.[2] | index(["list"]) == null'
  check 1 '.[0] == 200 and (.[2] | index(["list"]) != null and index(["child_metas"]) != null)'
  check 1 '.[2] | index(["call"]) == null'
  check 2 '.[0] == 200 and (.[2] | index(["get"]) != null)'
}

@test "actions with detail gives objects with a name" {
  rq '{"action":"actions","uri":"/Math/mult","detail":true}'
  responses_are 1
  check 0 '.[0] == 200 and (.[2] | all(type == "object" and (.name | type) == "string"))'
  check 0 '.[2] | map(.name) | index(["call"]) != null'
}

@test "meta returns the metadata of a function, a package and the root" {
  rq '{"action":"meta","uri":"/Math/mult"}' '{"action":"meta","uri":"/Math/"}' '{"action":"meta","uri":"/"}'
  responses_are 3
  check 0 '.[0] == 200 and .[2].v == 1.1 and .[2].summary == "Multiply two integers"'
  check 0 '.[2].args.a.req == 1 and .[2].args.b.pos == 1'
  check 1 '.[0] == 200 and (.[2].summary | startswith("Arithmetic"))'
  check 2 '.[0] == 200 and (.[2].summary | startswith("riap-simple example tree"))'
}

@test "meta of a package without .meta.json answers {\"v\":1.1}, the root's too" {
  only_on pipe "a tree of its own, served in pipe mode"
  local root=$BATS_TEST_TMPDIR/bare
  mkdir -p "$root/Pkg/Sub"
  printf '{"action":"meta","uri":"/Pkg/"}\n{"action":"meta","uri":"/Pkg/Sub/"}\n{"action":"meta","uri":"/"}\n' \
    | sed 's/^/j/' | "$RIAP_HANDLE" "$root" >"$BATS_TEST_TMPDIR/out"
  run jq -sce 'map(.[0] == 200 and .[2] == {"v": 1.1}) == [true, true, true]' < <(sed 's/^j//; s/\r$//' "$BATS_TEST_TMPDIR/out")
  assert_success
}

@test "meta of a function without metadata gets 534" {
  rq '{"action":"meta","uri":"/Nasty/nometa"}' "$MULT"
  responses_are 2
  status_is 0 534
  message_has 0 /Nasty/nometa
  status_is 1 200
}

@test "an executable without metadata is never called: 534, it does not run" {
  rq '{"action":"call","uri":"/Nasty/nometa"}' '{"action":"call","uri":"/Nasty/nometa","args":{"x":"$(id)"}}' "$MULT"
  responses_are 3
  status_is 0 534
  message_has 0 "No metadata for /Nasty/nometa"
  status_is 1 534
  status_is 2 200
  ! grep -q '"no metadata"' "$BATS_TEST_TMPDIR/raw" || fail "the executable without metadata ran"
}

@test "broken metadata gets 531, for meta and for call" {
  rq '{"action":"meta","uri":"/Nasty/badmeta"}' '{"action":"call","uri":"/Nasty/badmeta"}' "$MULT"
  responses_are 3
  status_is 0 531
  message_has 0 /Nasty/badmeta
  status_is 1 531
  status_is 2 200
}

@test "a package uri ends in /: /Math names a function or variable Math in /, 404 with a hint" {
  rq '{"action":"meta","uri":"/Math"}' '{"action":"list","uri":"/Math"}' '{"action":"info","uri":"/Tree/Sub"}' \
     '{"action":"info","uri":"/Greet"}' '{"action":"info","uri":"/Math/"}'
  responses_are 5
  check 0 '.[0] == 404 and (.[1] | contains("/Math/"))'
  status_is 1 404
  check 2 '.[0] == 404 and (.[1] | contains("/Tree/Sub/"))'
  check 3 '.[0] == 404 and (.[1] | contains("/Greet/"))'
  check 4 '.[0] == 200 and .[2].uri == "/Math/"'
}

@test "an unknown uri gets 404 naming it" {
  rq '{"action":"meta","uri":"/Math/nope"}' '{"action":"call","uri":"/Nope/x"}' \
     '{"action":"list","uri":"/Nope/"}' '{"action":"get","uri":"/Math/$NOPE"}'
  responses_are 4
  status_is 0 404; message_has 0 /Math/nope
  status_is 1 404; message_has 1 /Nope/x
  status_is 2 404
  status_is 3 404
}

@test "an action the entity does not have gets 501" {
  rq '{"action":"list","uri":"/Math/mult"}' '{"action":"frobnicate","uri":"/Math/mult"}' \
     '{"action":"get","uri":"/Math/mult"}' '{"action":"call","uri":"/Math/"}' "$MULT"
  responses_are 5
  check 0 '.[0] == 501 and .[1] == "Action '"'list'"' not implemented for '"'function'"' entity"'
  status_is 1 501; message_has 1 frobnicate
  status_is 2 501
  status_is 3 501
  status_is 4 200
}

# ------------------------------------------------------------ list, child_metas

@test "list gives URIs relative to the package: functions, subpackages with a slash, variables with \$" {
  rq '{"action":"list","uri":"/Tree/"}' '{"action":"list","uri":"/Tree/Sub/"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2] | sort) == ["$V", "Sub/", "alpha"]'
  check 1 '.[0] == 200 and (.[2] | sort) == ["Deep/", "beta", "gamma_ray"]'
}

@test "list of the root and of a package of the example tree" {
  rq '{"action":"list","uri":"/"}' '{"action":"list","uri":"/Math/"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2] | index(["Math/"]) != null and index(["Tree/"]) != null)'
  check 1 '.[0] == 200 and (.[2] | sort) == ["$PI", "div", "mult"]'
}

@test "list with type keeps one kind of entity" {
  rq '{"action":"list","uri":"/Tree/","type":"function"}' '{"action":"list","uri":"/Tree/","type":"package"}' \
     '{"action":"list","uri":"/Tree/","type":"variable"}'
  responses_are 3
  check 0 '.[2] == ["alpha"]'
  check 1 '.[2] == ["Sub/"]'
  check 2 '.[2] == ["$V"]'
}

@test "list with recursive descends into subpackages, paths relative to the package listed" {
  rq '{"action":"list","uri":"/Tree/","recursive":true}' \
     '{"action":"list","uri":"/Tree/","recursive":true,"type":"function"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2] | sort) == ["$V", "Sub/", "Sub/Deep/", "Sub/Deep/delta", "Sub/beta", "Sub/gamma_ray", "alpha"]'
  check 1 '(.[2] | sort) == ["Sub/Deep/delta", "Sub/beta", "Sub/gamma_ray", "alpha"]'
}

@test "list with q filters by name" {
  rq '{"action":"list","uri":"/Tree/","recursive":true,"q":"gamma"}' \
     '{"action":"list","uri":"/Tree/","q":"gamma"}' '{"action":"list","uri":"/Tree/Sub/","q":"gamma"}'
  responses_are 3
  check 0 '.[0] == 200 and .[2] == ["Sub/gamma_ray"]'
  check 1 '.[0] == 200 and .[2] == []'
  check 2 '.[0] == 200 and .[2] == ["gamma_ray"]'
}

@test "list with detail gives objects with uri (relative) and type" {
  rq '{"action":"list","uri":"/Tree/","detail":true}' '{"action":"list","uri":"/Tree/","detail":true,"recursive":true,"type":"function"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2] | all(type == "object"))'
  check 0 '(.[2] | map({(.uri): .type}) | add) == {"$V": "variable", "Sub/": "package", "alpha": "function"}'
  check 1 '(.[2] | map(.uri) | sort) == ["Sub/Deep/delta", "Sub/beta", "Sub/gamma_ray", "alpha"]'
}

@test "list never shows dot files, non-identifiers, non-executables or links out of ROOT" {
  rq '{"action":"list","uri":"/Nasty/"}' '{"action":"list","uri":"/"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2] | index(["echo"]) != null)'
  check 0 '.[2] | map(select(test("hidden|bad-name|notexec|escape|secret"))) == []'
  check 1 '.[2] | map(select(test("Out"))) == []'
}

@test "child_metas gives the metadata of each child, keyed by URI relative to the package" {
  rq '{"action":"child_metas","uri":"/Tree/"}' '{"action":"child_metas","uri":"/Math/"}'
  responses_are 2
  check 0 '.[0] == 200 and .[2]["alpha"].summary == "Function alpha"'
  check 0 '.[2] | keys | all(startswith("/") | not)'
  check 1 '.[2]["mult"].summary == "Multiply two integers" and .[2]["div"].args.b.pos == 1'
}

# ------------------------------------------------------------ call

@test "call passes arguments and returns the function's result" {
  rq '{"action":"call","uri":"/Math/div","args":{"a":7,"b":2}}' \
     '{"action":"call","uri":"/Text/fruit","args":{"name":"apple","toppings":["nuts","syrup"]}}'
  responses_are 2
  check 0 '.[0] == 200 and .[2] == 3.5'
  check 1 '.[0] == 200 and .[2] == "medium apple with nuts, syrup"'
}

@test "/Math/mult, an example, refuses a product out of the 64-bit range instead of wrapping" {
  rq '{"action":"call","uri":"/Math/mult","args":{"a":9223372036854775807,"b":3}}' \
     '{"action":"call","uri":"/Math/mult","args":{"a":-9223372036854775808,"b":-1}}' \
     '{"action":"call","uri":"/Math/mult","args":{"a":4611686018427387904,"b":-2}}' \
     '{"action":"call","uri":"/Math/mult","args":{"a":-3037000500,"b":-3037000499}}'
  responses_are 4
  check 0 '.[0] == 400 and .[1] == "Integer overflow: 9223372036854775807 * 3 is out of the 64-bit range"'
  check 1 '.[0] == 400 and (.[1] | startswith("Integer overflow: "))'
  # the products at the edges, exactly (jq reads numbers as doubles: compare the text)
  [[ ${RESP[2]} == '[200,"OK",-9223372036854775808,'* ]] || fail "response 2: ${RESP[2]}"
  [[ ${RESP[3]} == '[200,"OK",9223372033963249500,'* ]] || fail "response 3: ${RESP[3]}"
}

@test "a call without args is a call with no arguments" {
  rq '{"action":"call","uri":"/Tree/alpha"}'
  responses_are 1
  check 0 '.[0] == 200 and .[2] == "alpha"'
}

@test "a function's own error envelope is passed through" {
  rq '{"action":"call","uri":"/Math/div","args":{"a":1,"b":0}}'
  responses_are 1
  check 0 '.[0] == 400 and .[1] == "Division by zero" and .[3]["riap.v"] == 1.1'
}

@test "a naked result is enveloped by the server" {
  rq '{"action":"call","uri":"/Text/upper","args":{"text":"hello"}}' '{"action":"call","uri":"/Nasty/naked"}'
  responses_are 2
  check 0 '.[0] == 200 and .[2] == "HELLO"'
  check 1 '.[0] == 200 and .[2] == {"x": [1, 2]}'
}

@test "args_as array sends the arguments as an array ordered by pos" {
  rq '{"action":"call","uri":"/Nasty/echo_array","args":{"y":"Y","x":"X"}}' \
     '{"action":"call","uri":"/Nasty/echo_array","args":{"x":"X"}}'
  responses_are 2
  check 0 '.[0] == 200 and .[2] == ["X", "Y"]'
  check 1 '.[0] == 200 and .[2][0] == "X"'
}

@test "the function gets the arguments as one JSON object on stdin" {
  rq '{"action":"call","uri":"/Nasty/echo","args":{"a":{"deep":[1,"two",null]},"b":"\u00e9\n"}}'
  responses_are 1
  check 0 '.[0] == 200 and .[2] == {"a": {"deep": [1, "two", null]}, "b": "\u00e9\n"}'
}

@test "a missing required argument gets 400 Missing required argument" {
  rq '{"action":"call","uri":"/Math/mult","args":{"a":2}}' "$MULT"
  responses_are 2
  check 0 '.[0] == 400 and .[1] == "Missing required argument: b"'
  status_is 1 200
}

@test "an unknown argument gets 400 Unknown argument" {
  rq '{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3,"c":4}}' "$MULT"
  responses_are 2
  check 0 '.[0] == 400 and .[1] == "Unknown argument '"'c'"'"'
  status_is 1 200
}

@test "an argument that fails its schema gets 400 naming it" {
  rq '{"action":"call","uri":"/Nasty/echo","args":{"n":11}}'
  check 0 '.[0] == 400 and .[1] == "Argument '"'n'"' fails validation: Must be at most 10"'
}

@test "dry_run reaches a function with the dry_run feature" {
  rq '{"action":"call","uri":"/Util/purge_cache","args":{"older_than_days":5},"dry_run":true}' \
     '{"action":"call","uri":"/Util/purge_cache","args":{"older_than_days":5}}'
  responses_are 2
  check 0 '.[0] == 200 and .[2] == {"dry_run": true, "would_purge": 25}'
  check 1 '.[0] == 200 and .[2] == {"dry_run": false, "purged": 25}'
}

@test "dry_run on a function without the dry_run feature gets 412" {
  rq '{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3},"dry_run":true}' \
     '{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3},"dry_run":false}'
  responses_are 2
  status_is 0 412
  check 1 '.[0] == 200 and .[2] == 6'
}

@test "a transaction id gets 501 Transaction not supported by server" {
  rq '{"action":"call","uri":"/Math/mult","args":{"a":2,"b":3},"tx_id":"t1"}' "$MULT"
  responses_are 2
  check 0 '.[0] == 501 and .[1] == "Transaction not supported by server"'
  status_is 1 200
}

@test "the function sees RIAP_ACTION, RIAP_URI, RIAP_V, RIAP_DRY_RUN, RIAP_CONFIRM" {
  rq '{"action":"call","uri":"/Nasty/env"}' \
     '{"v":1.2,"action":"call","uri":"/Nasty/env","dry_run":true,"confirm":true}'
  responses_are 2
  check 0 '.[0] == 200 and .[2].RIAP_ACTION == "call" and .[2].RIAP_URI == "/Nasty/env" and .[2].RIAP_V == "1.1"'
  check 0 '.[2] | has("RIAP_DRY_RUN") | not'
  check 1 '.[0] == 200 and .[2].RIAP_V == "1.2" and .[2].RIAP_DRY_RUN == "1" and .[2].RIAP_CONFIRM == "1"'
}

@test "nothing but PATH, RIAP_* and the UCSPI peer reaches the function" {
  rq '{"action":"call","uri":"/Nasty/env"}'
  responses_are 1
  check 0 '.[0] == 200 and (.[2].PATH | type) == "string"'
  check 0 '.[2] | has("RIAP_TEST_SECRET") | not'
  check 0 '.[2] | keys | map(select(test("^(PATH|PROTO|RIAP_[A-Z_]+|TCP(REMOTE|LOCAL)(IP|PORT)|IPCREMOTEE?(UID|GID|PID))$") | not)) == []'
}

@test "the peer reaches the function in UCSPI form" {
  rq '{"action":"call","uri":"/Nasty/env"}'
  responses_are 1
  case $RIAP_TRANSPORT in
    tcp)
      check 0 '.[2].PROTO == "TCP" and .[2].TCPREMOTEIP == "127.0.0.1" and .[2].TCPLOCALIP == "127.0.0.1"'
      check 0 ".[2].TCPLOCALPORT == \"$RIAP_PORT_default\" and (.[2].TCPREMOTEPORT | test(\"^[0-9]+\$\"))"
      ;;
    unix)
      check 0 ".[2].PROTO == \"IPC\" and .[2].IPCREMOTEEUID == \"$(id -u)\" and .[2].IPCREMOTEEGID == \"$(id -g)\""
      ;;
    pipe)
      check 0 '.[2] | keys | map(select(test("^(PROTO|TCP|IPC)"))) == []'
      ;;
  esac
}

# ------------------------------------------------------------ misbehaving functions

@test "a failing function gets 500 with its uri, exit status and last stderr line" {
  rq '{"action":"call","uri":"/Util/fail"}' '{"action":"call","uri":"/Nasty/silent_fail"}' "$MULT"
  responses_are 3
  status_is 0 500
  message_has 0 /Util/fail "exit 3" "fail: this function always fails"
  status_is 1 500
  message_has 1 /Nasty/silent_fail "exit 5" "silent_fail: the last stderr line"
  check 1 '.[1] | contains("an earlier line") | not'
  status_is 2 200
}

@test "a failing function's stderr names files under ROOT by uri: the answer never says where ROOT is" {
  rq '{"action":"call","uri":"/Nasty/path_fail"}'
  status_is 0 500
  message_has 0 "/Nasty/path_fail: exit 4: /Nasty/path_fail: 8: Illegal number" "(see /Nasty/echo)"
  jq -e --arg root "$RIAP_ROOT" '.[1] | contains($root) | not' <<<"${RESP[0]}" || fail "ROOT in ${RESP[0]}"
}

@test "a function's own envelope names files under ROOT by uri, whatever its status: the answer never says where ROOT is" {
  rq '{"action":"call","uri":"/Nasty/path_message"}' '{"action":"call","uri":"/Nasty/path_message","args":{"ok":true}}'
  responses_are 2
  check 0 '.[0] == 500 and .[1] == "cannot read /Nasty/path_message (cwd /Nasty, ROOT /, data in /data)"'
  check 1 '.[0] == 200 and .[1] == "cannot read /Nasty/path_message (cwd /Nasty, ROOT /, data in /data)"'
  local p real
  real=$(cd "$RIAP_ROOT" && pwd -P)
  for p in "$RIAP_ROOT" "$real"; do
    ! grep -qF "$p" "$BATS_TEST_TMPDIR/raw" || fail "an answer contains $p: $(cat "$BATS_TEST_TMPDIR/raw")"
  done
}

@test "a function printing garbage gets 500 and the server keeps serving" {
  rq '{"action":"call","uri":"/Nasty/garbage"}' "$MULT"
  responses_are 2
  status_is 0 500
  message_has 0 /Nasty/garbage
  status_is 1 200
}

@test "a function printing nothing gets 500 and the server keeps serving" {
  rq '{"action":"call","uri":"/Nasty/silent"}' "$MULT"
  responses_are 2
  status_is 0 500
  message_has 0 /Nasty/silent
  status_is 1 200
}

@test "a function killed by SIGSEGV gets 500 and the server keeps serving" {
  rq '{"action":"call","uri":"/Nasty/segv"}' "$MULT"
  responses_are 2
  status_is 0 500
  message_has 0 /Nasty/segv
  status_is 1 200
}

@test "a function closing stdin without reading a large argument still answers" {
  local req=$BATS_TEST_TMPDIR/req
  { printf 'j{"action":"call","uri":"/Nasty/early_close","args":{"data":"'
    head -c 300000 /dev/zero | tr '\0' y
    printf '"}}\r\nj%s\r\n' "$MULT"; } >"$req"
  riap_talk "f:$req" shut
  responses_are 2
  check 0 '.[0] == 200 and .[2] == "closed stdin early"'
  status_is 1 200
}

@test "a large result under the output cap is returned whole" {
  rq '{"action":"call","uri":"/Nasty/flood"}'
  responses_are 1
  check 0 '.[0] == 200 and (.[2] | length) == 100000'
}

@test "output over --max-output gets 500 and the server keeps serving" {
  rq -t '{"action":"call","uri":"/Nasty/flood"}' "$MULT"
  responses_are 2
  status_is 0 500
  message_has 0 /Nasty/flood
  status_is 1 200
}

@test "a hanging function gets 504 after --call-timeout and the server keeps serving" {
  rq -t '{"action":"call","uri":"/Nasty/hang"}' "$MULT"
  responses_are 2
  status_is 0 504
  message_has 0 /Nasty/hang
  status_is 1 200
  elapsed_below 4
}

@test "the metadata's timeout gets 504 too" {
  rq '{"action":"call","uri":"/Nasty/slow_meta"}' "$MULT"
  responses_are 2
  status_is 0 504
  status_is 1 200
  elapsed_below 4
}

@test "a timed-out function's whole process group is killed" {
  local pf=$BATS_TEST_TMPDIR/spawned
  rq -t "{\"action\":\"call\",\"uri\":\"/Nasty/spawn\",\"args\":{\"pidfile\":\"$pf\"}}"
  [ -s "$pf" ] || fail "the function did not run"
  cat "$pf" >"$BATS_TEST_TMPDIR/pids"
  responses_are 1
  status_is 0 504
  elapsed_below 4
  local pid i
  for pid in $(cat "$pf"); do
    for i in $(seq 20); do pid_alive "$pid" || break; sleep 0.1; done
    ! pid_alive "$pid" || fail "process $pid still running: $(ps -o pid,pgid,args -p "$pid")"
  done
}

# ------------------------------------------------------------ binary data

@test "1.2: a NAME:base64 argument is decoded, a binary result base64-encoded" {
  local in want
  in=$(printf '\000\001\376A' | b64)
  want=$(printf '\377\376\001\276' | b64)
  rq "{\"v\":1.2,\"action\":\"call\",\"uri\":\"/Util/bitflip\",\"args\":{\"data:base64\":\"$in\"}}"
  responses_are 1
  check 0 ".[0] == 200 and .[2] == \"$want\""
  check 0 '.[3]["riap.result_encoding"] == "base64" and .[3]["riap.v"] == 1.2'
}

@test "a binary (buf) result carries x.hint.result_binary in its meta, in 1.1 and 1.2" {
  rq '{"action":"call","uri":"/Util/bitflip","args":{"data":"A"}}' \
     '{"v":1.2,"action":"call","uri":"/Util/bitflip","args":{"data:base64":"QQ=="}}' \
     '{"v":1.2,"action":"call","uri":"/Util/bitflip","args":{"data:base64":""}}' "$MULT"
  responses_are 4
  check 0 '.[0] == 200 and .[3]["x.hint.result_binary"] == 1'
  check 1 '.[0] == 200 and .[3]["x.hint.result_binary"] == 1 and .[3]["riap.result_encoding"] == "base64"'
  check 2 '.[0] == 200 and .[3]["x.hint.result_binary"] == 1'
  check 3 '.[0] == 200 and (.[3] | has("x.hint.result_binary") | not)'
}

@test "1.2: all 256 byte values cross both ways" {
  local all in want
  all=$(perl -e 'print map chr, 0..255' | b64)
  want=$(perl -e 'print map chr, reverse 0..255' | b64)
  rq "{\"v\":1.2,\"action\":\"call\",\"uri\":\"/Util/bitflip\",\"args\":{\"data:base64\":\"$all\"}}"
  responses_are 1
  check 0 ".[0] == 200 and .[2] == \"$want\""
}

@test "1.2: a decoded argument reaches the function as code points 0-255" {
  local in; in=$(printf '\000\001\376A' | b64)
  rq "{\"v\":1.2,\"action\":\"call\",\"uri\":\"/Nasty/echo\",\"args\":{\"data:base64\":\"$in\"}}"
  responses_are 1
  check 0 '.[0] == 200 and (.[2].data | explode) == [0, 1, 254, 65]'
  check 0 '.[2] | has("data:base64") | not'
}

@test "1.2: an empty binary result is an empty string" {
  rq '{"v":1.2,"action":"call","uri":"/Util/bitflip","args":{"data:base64":""}}'
  responses_are 1
  check 0 '.[0] == 200 and .[2] == ""'
}

@test "1.2: invalid base64 gets 400 naming the argument" {
  rq '{"v":1.2,"action":"call","uri":"/Util/bitflip","args":{"data:base64":"!!not base64!!"}}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 data
  status_is 1 200
}

@test "1.1: binary goes as a string of code points both ways, without result_encoding" {
  rq '{"action":"call","uri":"/Util/bitflip","args":{"data":"\u0000\u0001\u00feA"}}'
  responses_are 1
  check 0 '.[0] == 200 and (.[2] | explode) == [255, 254, 1, 190]'
  check 0 '.[3] | has("riap.result_encoding") | not'
  check 0 '.[3]["riap.v"] == 1.1'
}

@test "1.1: a NAME:base64 argument gets 400" {
  rq '{"action":"call","uri":"/Util/bitflip","args":{"data:base64":"AAE="}}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 data:base64
  status_is 1 200
}

# ------------------------------------------------------------ completion, get

@test "complete_arg_val completes from the schema's in clause" {
  rq '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"b"}' \
     '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":""}' \
     '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name"}'
  responses_are 3
  check 0 '.[0] == 200 and .[2].words == [{"word": "banana", "summary": null}] and .[2].static == 0'
  check 1 '.[0] == 200 and (.[2].words | map(.word)) == ["apple", "banana", "cherry"] and .[2].static == 1'
  check 2 '.[0] == 200 and (.[2].words | map(.word)) == ["apple", "banana", "cherry"]'
}

@test "complete_arg_val completes from the argument's examples" {
  rq '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"size","word":"m"}'
  responses_are 1
  check 0 '.[0] == 200 and (.[2].words | map(.word)) == ["medium"]'
}

@test "complete_arg_val gives an empty list when nothing fits" {
  rq '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"zz"}' \
     '{"action":"complete_arg_val","uri":"/Math/mult","arg":"a","word":"1"}'
  responses_are 2
  check 0 '.[0] == 200 and .[2].words == []'
  check 1 '.[0] == 200 and .[2].words == []'
}

@test "complete_arg_val without arg gets 400 naming arg" {
  rq '{"action":"complete_arg_val","uri":"/Text/fruit","word":"b"}' "$MULT"
  responses_are 2
  status_is 0 400
  message_has 0 arg
  status_is 1 200
}

@test "complete_arg_elem completes an array element from its in clause" {
  rq '{"action":"complete_arg_elem","uri":"/Text/fruit","arg":"toppings","index":0,"word":"s"}' \
     '{"action":"complete_arg_elem","uri":"/Text/fruit","arg":"toppings","index":1,"word":"x"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2].words | map(.word)) == ["sprinkles", "syrup"]'
  check 1 '.[0] == 200 and .[2].words == []'
}

@test "complete_arg_elem without index gets 400 Please specify index" {
  rq '{"action":"complete_arg_elem","uri":"/Text/fruit","arg":"toppings","word":"s"}' "$MULT"
  responses_are 2
  check 0 '.[0] == 400 and .[1] == "Please specify index"'
  status_is 1 200
}

@test "completion of a bool argument offers the numbers 0 and 1, as the Perl server" {
  rq '{"action":"complete_arg_val","uri":"/Nasty/echo","arg":"flag","word":""}' \
     '{"action":"complete_arg_val","uri":"/Nasty/echo","arg":"flag","word":"1"}'
  responses_are 2
  check 0 '.[0] == 200 and (.[2].words | map(.word)) == [0, 1] and .[2].static == 1'
  check 1 '.[0] == 200 and (.[2].words | map(.word)) == [1] and .[2].static == 0'
}

@test "completion matches without regard to case unless ci is false, as the Perl server" {
  rq '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"B"}' \
     '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"B","ci":0}' \
     '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"name","word":"B","ci":true}'
  responses_are 3
  check 0 '.[0] == 200 and (.[2].words | length) > 0 and all(.[2].words[]; .word | startswith("b"))'
  check 1 '.[0] == 200 and .[2].words == []'
  check 2 '.[0] == 200 and (.[2].words | length) > 0'
}

@test "completion of an argument the function does not have offers nothing, as the Perl server" {
  rq '{"action":"complete_arg_val","uri":"/Text/fruit","arg":"nosuch","word":""}' \
     '{"action":"complete_arg_elem","uri":"/Text/fruit","arg":"nosuch","index":0}'
  responses_are 2
  check 0 '.[0] == 200 and .[2] == []'
  check 1 '.[0] == 200 and .[2] == []'
}

@test "get returns a variable's value" {
  rq '{"action":"get","uri":"/Math/$PI"}' '{"action":"get","uri":"/Tree/$V"}'
  responses_are 2
  check 0 '.[0] == 200 and .[2] == 3.14159'
  check 1 '.[0] == 200 and .[2] == "vee"'
}

# ------------------------------------------------------------ path escapes

@test "a dot dot in the uri is never followed out of ROOT" {
  rq '{"action":"list","uri":"/../"}' '{"action":"meta","uri":"/../outside/fn"}' \
     '{"action":"call","uri":"/../outside/fn"}' '{"action":"call","uri":"/Math/../Util/fail"}' \
     '{"action":"call","uri":"/Math/./mult","args":{"a":2,"b":3}}' "$MULT"
  responses_are 6
  for i in 0 1 2 3 4; do check $i '.[0] == 400 or .[0] == 404'; done
  status_is 5 200
}

@test "dot files, non-identifiers and non-executables are never served" {
  rq '{"action":"call","uri":"/Nasty/.hidden"}' '{"action":"meta","uri":"/.hidden"}' \
     '{"action":"call","uri":"/Nasty/bad-name"}' '{"action":"call","uri":"/Nasty/notexec"}' \
     '{"action":"meta","uri":"/.meta.json"}' '{"action":"call","uri":"/Math/mult.meta.json"}' \
     '{"action":"get","uri":"/Math/PI.var.json"}' "$MULT"
  responses_are 8
  for i in 0 1 2 3 4 5 6; do check $i '.[0] == 400 or .[0] == 404'; done
  status_is 7 200
}

@test "symlinks out of ROOT are never followed" {
  rq '{"action":"call","uri":"/Nasty/escape"}' '{"action":"meta","uri":"/Nasty/escape"}' \
     '{"action":"call","uri":"/Nasty/relescape"}' '{"action":"list","uri":"/Out/"}' \
     '{"action":"call","uri":"/Out/inner"}' '{"action":"get","uri":"/Nasty/$secret"}' "$MULT"
  responses_are 7
  for i in 0 1 2 3 4 5; do check $i '.[0] == 400 or .[0] == 403 or .[0] == 404'; done
  status_is 6 200
  ! grep -q -e escaped -e 'secret outside' "$BATS_TEST_TMPDIR/raw" || fail "something outside ROOT was served"
}

@test "no response carries an internal path" {
  local reqs=(
    '{"action":"meta","uri":"/Nasty/nometa"}' '{"action":"meta","uri":"/Nasty/badmeta"}'
    '{"action":"call","uri":"/Nasty/badmeta"}' '{"action":"call","uri":"/Nasty/nometa"}'
    '{"action":"call","uri":"/Util/fail"}' '{"action":"call","uri":"/Nasty/silent_fail"}'
    '{"action":"call","uri":"/Nasty/garbage"}' '{"action":"call","uri":"/Nasty/segv"}'
    '{"action":"call","uri":"/Nasty/silent"}' '{"action":"call","uri":"/Nasty/escape"}'
    '{"action":"list","uri":"/Out/"}' '{"action":"call","uri":"/../outside/fn"}'
    '{"action":"meta","uri":"/Nope/"}' '{"action":"list","uri":"/Math/mult"}'
    '{"action":"call","uri":"/Math/mult","args":{"a":1}}' '{"action":"call","uri":"/Nasty/notexec"}'
    '{"action":"child_metas","uri":"/Nasty/"}' '{"action":"list","uri":"/Nasty/","detail":true}'
    '{"action":"call","uri":"/Util/bitflip","args":{"data":"\u0100"}}'
    '{"action":"call","uri":"/Nasty/path_message"}'
  )
  rq "${reqs[@]}"
  responses_are ${#reqs[@]}
  local p real
  real=$(cd "$RIAP_ROOT" && pwd -P)
  for p in "$RIAP_ROOT" "$real" "$BATS_FILE_TMPDIR" "$RIAP_REPO" "$RIAP_BUILD"; do
    ! grep -qF "$p" "$BATS_TEST_TMPDIR/raw" || fail "a response contains $p: $(grep -F "$p" "$BATS_TEST_TMPDIR/raw" | head -3)"
  done
  ! grep -q '"logs"' "$BATS_TEST_TMPDIR/raw" || fail "a response carries logs"
}
