#!/usr/bin/env bats
# Perl's Perinci::Access::Simple::Client (0.23, the current release) must
# work against us unchanged. It is not packaged for Debian, so this file
# drives our servers with a client that does on the wire exactly what that
# one does (written from its documented behaviour and the Riap::Simple
# spec, using core Perl modules only):
#   - one connection per server, kept in a cache and reused by every later
#     request (a TCP or Unix socket is reused while getpeername works; a
#     riap+pipe program while kill 0 works);
#   - the request is {v:1.1, action, uri, ...extra} as `j` + JSON + CRLF,
#     whatever its size;
#   - the answer is read with getline and must match /^j(.+)/ (so the CR is
#     left at the end of what is decoded), else 500 "Invalid response line";
#     nothing at all is 500 "Empty response from server";
#   - Perinci::AccessUtil::strip_riap_stuffs_from_res then wants riap.v 1.1
#     or 1.2 and, in a 1.2 answer, no riap.* key but riap.v and
#     riap.result_encoding (base64, decoded into the result). Anything else
#     it reports as 501; here it is reported as "strip_error" so a test can
#     say exactly which key.

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load
load listen

setup_file() {
  export PCLIENT=$BATS_FILE_TMPDIR/perinci-client.pl
  cat >"$PCLIENT" <<'PERL'
# perinci-client.pl: requests from stdin, one JSON array per line:
#   [ACTION, SERVER_URL, EXTRA]   (EXTRA: a hash of request keys, optional)
# prints one JSON object per request: {"res": ENVELOPE} plus "strip_error"
# when the answer would not pass strip_riap_stuffs_from_res; then
# {"connects": N}, how many connections or programs were opened in all.
use strict; use warnings;
use JSON::PP; use IO::Socket::INET; use IO::Socket::UNIX; use IPC::Open2;
use MIME::Base64 qw(decode_base64);
# SIGPIPE is left as it is: the real client does not ignore it either
my $json = JSON::PP->new->allow_nonref->canonical;
my (%conns, $connects);

sub unescape { my $s = shift; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $s }

sub parse { # the three URL forms of the client's documentation
  my $url = shift;
  if ($url =~ m!^riap\+tcp://([^/]+):(\d+)(/.*)?$!) { return ("tcp:$1:$2", tcp => [$1, $2], $3) }
  if ($url =~ m!^riap\+unix:(.+)/(/.*)$! || $url =~ m!^riap\+unix:(.+)$!) {
    return ("unix:$1", unix => unescape($1), $2);
  }
  if ($url =~ m!^riap\+pipe:(.+?)//(.*?)/(/.*)$!) {
    my ($prog, $args, $uri) = (unescape($1), $2, $3);
    my @args = map { unescape($_) } split m!/!, $args;
    return ("pipe:$prog @args", pipe => [$prog, @args], $uri);
  }
  die "unparsable server URL $url\n";
}

sub connection {
  my ($key, $kind, $where) = @_;
  my $c = $conns{$key};
  if ($c) {
    return $c if $kind eq 'pipe' ? kill(0, $c->{pid}) : $c->{sock}->connected;
    delete $conns{$key};
  }
  if ($kind eq 'tcp') {
    my $s = IO::Socket::INET->new(PeerHost => $where->[0], PeerPort => $where->[1], Proto => 'tcp') or return;
    $c = { sock => $s, in => $s, out => $s };
  } elsif ($kind eq 'unix') {
    my $s = IO::Socket::UNIX->new(Type => SOCK_STREAM, Peer => $where) or return;
    $c = { sock => $s, in => $s, out => $s };
  } else {
    my ($in, $out);
    my $pid = open2($in, $out, @$where) or return;
    $c = { pid => $pid, in => $in, out => $out };
  }
  $connects++;
  $c->{out}->autoflush(1);
  return $conns{$key} = $c;
}

sub strip { # what Perinci::AccessUtil checks; undef when it would pass
  my $res = shift;
  my $meta = $res->[3] // {};
  my $v = $meta->{'riap.v'} // 1.1;
  return "riap.v $v is neither 1.1 nor 1.2" unless $v == 1.1 || $v == 1.2;
  return undef unless $v >= 1.2;
  for my $k (sort keys %$meta) {
    next unless $k =~ /^riap\./;
    if ($k eq 'riap.result_encoding') {
      return "result_encoding $meta->{$k}" unless $meta->{$k} eq 'base64';
      $res->[2] = decode_base64($res->[2] // '');
    } elsif ($k ne 'riap.v') {
      return "unknown Riap attribute $k";
    }
    delete $meta->{$k};
  }
  return undef;
}

sub request {
  my ($action, $url, $extra) = @_;
  my ($key, $kind, $where, $uri) = parse($url);
  my $req = { v => 1.1, action => $action, %{ $extra // {} } };
  $req->{uri} //= $uri;
  my $c = connection($key, $kind, $where) or return [500, "Can't connect to $url: $!"];
  $c->{out}->print("j" . $json->encode($req) . "\015\012");
  my $line = $c->{in}->getline;
  if (!$line) { delete $conns{$key}; return [500, "Empty response from server"] }
  if ($line !~ /^j(.+)/) { delete $conns{$key}; return [500, "Invalid response line from server: $line"] }
  my $res = eval { $json->decode($1) };
  if ($@) { delete $conns{$key}; return [500, "Invalid JSON response from server: $@"] }
  return $res;
}

while (my $l = <STDIN>) {
  next unless $l =~ /\S/;
  my ($action, $url, $extra) = @{ $json->decode($l) };
  my $res = request($action, $url, $extra);
  my $err = ref $res eq 'ARRAY' ? strip($res) : "not an array";
  my $out = { res => $res };
  $out->{strip_error} = $err if defined $err;
  # a decoded binary result is bytes: carry it as hex so the test can compare
  $out->{hex} = unpack 'H*', $res->[2] if defined $res->[2] && !ref $res->[2] && ($extra // {})->{v} && $extra->{v} == 1.2;
  print $json->encode($out), "\n";
}
print $json->encode({ connects => $connects // 0 }), "\n";
PERL
}

setup() {
  PORT=$(free_port)
  SOCK=$BATS_TEST_TMPDIR/riap.sock
  ROOT=$RIAP_REPO/examples
  "$LISTEN" -p "127.0.0.1:$PORT" -s "$SOCK" --scoreboard-path "$BATS_TEST_TMPDIR/sb" --start-servers 2 \
    -- "$HANDLE" "$ROOT" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the listener" 10 test -S "$SOCK"
  wait_for "the TCP port" 10 tcp_up "$PORT"
  TCP="riap+tcp://127.0.0.1:$PORT"
  UNIX="riap+unix:$SOCK/"
  PIPE="riap+pipe:$HANDLE//$(printf %s "$ROOT" | sed 's!/!%2F!g')/"
}

teardown() { reap_test_pids; }

tcp_up() { # PORT: something accepts on 127.0.0.1:PORT
  perl -MIO::Socket::INET -e 'IO::Socket::INET->new(PeerHost => "127.0.0.1", PeerPort => $ARGV[0]) or exit 1' "$1"
}

# pc: runs the client on the requests given as JSON arrays (one per
# argument), sets OUT to its output (JSON lines) for jq -s
pc() {
  OUT=$(printf '%s\n' "$@" | perl "$PCLIENT" 2>>"$BATS_TEST_TMPDIR/client-err")
}
res() { jq -s ".[$1]" <<<"$OUT"; }
all_clean() { # every answer passes the client's strip_riap_stuffs_from_res
  jq -se '.[:-1] | all(.strip_error == null)' <<<"$OUT" || fail "answers the client would reject: $OUT"
}
one_connection() { # the client opened one connection (or program) for all
  jq -se '.[-1].connects == 1' <<<"$OUT" || fail "not one connection: $OUT"
}

every_action_on() { # URL: the Riap actions a Perl program uses, over one connection
  local u=$1
  pc "[\"info\",\"$u/Math/mult\"]" \
     "[\"meta\",\"$u/Math/mult\"]" \
     "[\"list\",\"$u/Math/\"]" \
     "[\"list\",\"$u/\",{\"detail\":1}]" \
     "[\"child_metas\",\"$u/Math/\"]" \
     "[\"actions\",\"$u/Math/mult\"]" \
     "[\"call\",\"$u/Math/mult\",{\"args\":{\"a\":6,\"b\":7}}]" \
     "[\"call\",\"$u/Fast/mult\",{\"args\":{\"a\":3,\"b\":5}}]" \
     "[\"get\",\"$u/Math/\$PI\"]" \
     "[\"complete_arg_val\",\"$u/Text/fruit\",{\"arg\":\"name\",\"word\":\"ap\"}]"
  all_clean
  one_connection
  res 0 | jq -e '.res[0] == 200 and .res[2].type == "function" and .res[2].uri == "/Math/mult"'
  res 1 | jq -e '.res[0] == 200 and (.res[2].summary | test("Multiply"))'
  res 2 | jq -e '.res[0] == 200 and (.res[2] | index("/Math/mult") != null)'
  res 3 | jq -e '.res[0] == 200 and ([.res[2][].uri] | index("/Math/") != null)'
  res 4 | jq -e '.res[0] == 200 and (.res[2] | has("/Math/mult"))'
  res 5 | jq -e '.res[0] == 200 and (.res[2] | index("call") != null)'
  res 6 | jq -e '.res[0] == 200 and .res[2] == 42 and .res[3]["riap.v"] == 1.1'
  res 7 | jq -e '.res[0] == 200 and .res[2] == 15'
  res 8 | jq -e '.res[0] == 200 and (.res[2] > 3.14 and .res[2] < 3.15)'
  res 9 | jq -e '.res[0] == 200 and ([.res[2].words[] | if type == "object" then .word else . end] | index("apple") != null)'
}

@test "every action over riap+tcp, on one kept-alive connection" {
  every_action_on "$TCP"
}

@test "every action over riap+unix (path//uri), on one kept-alive connection" {
  every_action_on "${UNIX%/}/"
}

@test "every action over riap+pipe (riap-handle run by the client, ROOT as its argument)" {
  every_action_on "${PIPE%/}/"
}

@test "errors come back as envelopes the client takes as they are, on the same connection" {
  pc "[\"meta\",\"$TCP/Math/nope\"]" \
     "[\"call\",\"$TCP/Math/mult\",{\"args\":{\"a\":1}}]" \
     "[\"list\",\"$TCP/Math/mult\"]" \
     "[\"call\",\"$TCP/Math/mult\",{\"args\":{\"a\":1,\"b\":2,\"c\":3}}]" \
     "[\"call\",\"$TCP/Util/fail\"]" \
     "[\"call\",\"$TCP/Math/mult\",{\"args\":{\"a\":2,\"b\":2}}]"
  all_clean
  one_connection
  res 0 | jq -e '.res[0] == 404'
  res 1 | jq -e '.res[0] == 400 and (.res[1] | test("Missing required argument: b"))'
  res 2 | jq -e '.res[0] == 501'
  res 3 | jq -e '.res[0] == 400 and (.res[1] | test("c"))'
  res 4 | jq -e '.res[0] >= 400'
  res 5 | jq -e '.res[0] == 200 and .res[2] == 4'
}

@test "Riap 1.2: answers carry only riap.v and riap.result_encoding, a binary result decodes to its bytes" {
  # bitflip of 00 01 fe ff is ff fe 01 00; sent as data:base64, as a 1.2 client must
  local u
  for u in "$TCP" "${UNIX%/}/" "${PIPE%/}/"; do
    pc "[\"call\",\"$u/Util/bitflip\",{\"v\":1.2,\"args\":{\"data:base64\":\"AAH+/w==\"}}]" \
       "[\"meta\",\"$u/Util/bitflip\",{\"v\":1.2}]" \
       "[\"call\",\"$u/Math/mult\",{\"v\":1.2,\"args\":{\"a\":2,\"b\":3}}]" \
       "[\"meta\",\"$u/Math/nope\",{\"v\":1.2}]"
    all_clean
    res 0 | jq -e '.res[0] == 200 and .hex == "fffe0100"' || fail "$u: $OUT"
    res 1 | jq -e '.res[0] == 200 and .res[3] == {}' || fail "$u: $OUT"
    res 2 | jq -e '.res[0] == 200 and .res[2] == 6' || fail "$u: $OUT"
    res 3 | jq -e '.res[0] == 404' || fail "$u: $OUT"
  done
}

@test "through a mount (riap+pipe backend) the answers still pass the client's checks" {
  pc "[\"list\",\"$TCP/Greet/\"]" \
     "[\"info\",\"$TCP/Greet/\"]" \
     "[\"list\",\"$TCP/Greet/\",{\"v\":1.2}]" \
     "[\"meta\",\"$TCP/Greet/nope\",{\"v\":1.2}]"
  all_clean
  res 0 | jq -e '.res[0] == 200 and (.res[2] | length) > 0'
  res 1 | jq -e '.res[0] == 200 and .res[2].uri == "/Greet/"'
  res 2 | jq -e '.res[0] == 200'
  res 3 | jq -e '.res[0] == 404'
}

@test "a request line over 1000 bytes (the old client framed those as J; this one sends j) is answered" {
  local long; long=$(printf 'a%.0s' $(seq 5000))
  pc "[\"call\",\"$TCP/Text/upper\",{\"args\":{\"text\":\"$long\"}}]" \
     "[\"call\",\"${UNIX%/}//Text/upper\",{\"args\":{\"text\":\"$long\"}}]"
  res 0 | jq -e --arg want "${long^^}" '.res[0] == 200 and .res[2] == $want'
  res 1 | jq -e --arg want "${long^^}" '.res[0] == 200 and .res[2] == $want'
}

@test "a cached connection the server has since closed: the next request fails as the real client would; with --idle-timeout 0 it never is" {
  # riap-handle --timeout 1: idle connections are closed after a second; the
  # client notices only when it reads
  local port; port=$(free_port)
  "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path "$BATS_TEST_TMPDIR/sb2" --start-servers 1 \
    -- "$HANDLE" --timeout 1 "$ROOT" 2>"$BATS_TEST_TMPDIR/err2" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the TCP port" 10 tcp_up "$port"
  idle_then_two "riap+tcp://127.0.0.1:$port"
  res 0 | jq -e '.res[0] == 200 and .res[2] == 6'
  # the close reached the client's socket before its write: the real client
  # then says "Empty response from server" (and reconnects for the next)
  res 1 | jq -e '.res[0] == 500 and (.res[1] | test("Empty response"))'
  res 2 | jq -e '.res[0] == 200 and .res[2] == 10'
  # --idle-timeout 0: kept as long as the client keeps it, --timeout or not
  port=$(free_port)
  "$LISTEN" -p "127.0.0.1:$port" --scoreboard-path "$BATS_TEST_TMPDIR/sb3" --start-servers 1 --timeout 1 --idle-timeout 0 \
    -- "$HANDLE" "$ROOT" 2>"$BATS_TEST_TMPDIR/err3" &
  echo $! >>"$BATS_TEST_TMPDIR/pids"
  wait_for "the TCP port" 10 tcp_up "$port"
  idle_then_two "riap+tcp://127.0.0.1:$port"
  jq -se '.[:3] | all(.res[0] == 200)' <<<"$OUT" || fail "$OUT"
  one_connection
}

@test "riap+pipe: riap-handle waits for the client's next request however long it idles (the client would die of SIGPIPE otherwise)" {
  # --timeout 1 bounds the rest of a request, not the wait between two
  local u="riap+pipe:$HANDLE//--timeout/1/$(printf %s "$ROOT" | sed 's!/!%2F!g')/"
  idle_then_two "$u"
  jq -se '.[:3] | all(.res[0] == 200)' <<<"$OUT" || fail "$OUT"
  one_connection
}

# idle_then_two URL: a call, 2.5 s of silence, two more calls, one client
idle_then_two() {
  local c="[\"call\",\"$1/Math/mult\",{\"args\":{\"a\":2,\"b\":"
  OUT=$( { echo "${c}3}}]"; sleep 2.5; echo "${c}4}}]"; echo "${c}5}}]"; } | perl "$PCLIENT" 2>>"$BATS_TEST_TMPDIR/client-err")
  local rc=$?
  [ $rc = 0 ] || fail "the client died (status $rc): $OUT"
}

@test "arguments as a Perl program often has them (strings from @ARGV, JSON-encoded as \"6\") are served as numbers" {
  pc "[\"call\",\"$TCP/Math/mult\",{\"args\":{\"a\":\"6\",\"b\":\"7\"}}]" \
     "[\"call\",\"${UNIX%/}//Math/div\",{\"args\":{\"a\":\"2.5\",\"b\":\"0.5\"}}]" \
     "[\"call\",\"${PIPE%/}//Fast/mult\",{\"args\":{\"a\":\"3\",\"b\":\"5\"}}]"
  res 0 | jq -e '.res[0] == 200 and .res[2] == 42'
  res 1 | jq -e '.res[0] == 200 and .res[2] == 5'
  res 2 | jq -e '.res[0] == 200 and .res[2] == 15'
}
