# t/proxy-client.pl: a client that writes a PROXY protocol header itself
# (t/riap-proxy.bats, t/haproxy.bats).
# perl proxy-client.pl [--from IP] [--v1 SRC:PORT | --v2 SRC:PORT | --v2local |
#   --v1unknown | --raw TEXT] [--split] ADDR STEP...
# ADDR is host:port or unix:/path. The header names SRC:PORT as the client
# and 127.0.0.1:80 as the address it reached ([IPv6]:PORT, with --v1: as
# TCP6, to [::1]:80). --split writes it a byte at a
# time, 20 ms apart. Steps as in riap-listen-acl.bats: req:JSON (prints the
# answer), send:TEXT, read, sleep:S; "EOF" (exit 3) where an answer was due.
use strict; use warnings; use Socket qw(:all); use Time::HiRes qw(sleep);
$SIG{PIPE} = 'IGNORE'; $| = 1;
my ($from, $hdr, $split) = (undef, '', 0);
while (@ARGV && $ARGV[0] =~ /^--/) {
  my $o = shift;
  if ($o eq '--from') { $from = shift }
  elsif ($o eq '--split') { $split = 1 }
  elsif ($o eq '--v1') {
    my $a = shift;
    if (my ($ip6, $p6) = $a =~ /^\[(.*)\]:(\d+)$/) { $hdr = "PROXY TCP6 $ip6 ::1 $p6 80\r\n" }
    else { my ($ip, $p) = $a =~ /^(.*):(\d+)$/; $hdr = "PROXY TCP4 $ip 127.0.0.1 $p 80\r\n" }
  }
  elsif ($o eq '--v1unknown') { $hdr = "PROXY UNKNOWN\r\n" }
  elsif ($o eq '--v2' || $o eq '--v2local') {
    my ($cmd, $body, $fam) = (0x20, '', 0);
    if ($o eq '--v2') { my ($ip, $p) = shift =~ /^(.*):(\d+)$/; ($cmd, $fam) = (0x21, 0x11);
      $body = inet_aton($ip) . inet_aton('127.0.0.1') . pack('nn', $p, 80) }
    $hdr = "\r\n\r\n\0\r\nQUIT\n" . pack('CCn', $cmd, $fam, length $body) . $body;
  }
  elsif ($o eq '--raw') { $hdr = shift; $hdr =~ s/\\r/\r/g; $hdr =~ s/\\n/\n/g }
}
my ($addr, @steps) = @ARGV;
my ($s, $buf);
if ($addr =~ /^unix:(.*)$/) { socket($s, PF_UNIX, SOCK_STREAM, 0) or die; connect($s, pack_sockaddr_un($1)) or do { print "CONNECT: $!\n"; exit 4 } }
else {
  my ($h, $p) = $addr =~ /^(.*):(\d+)$/;
  socket($s, PF_INET, SOCK_STREAM, 0) or die;
  if ($from) { bind($s, sockaddr_in(0, inet_aton($from))) or die "bind: $!" }
  connect($s, sockaddr_in($p, inet_aton($h))) or do { print "CONNECT: $!\n"; exit 4 };
}
setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1) unless $addr =~ /^unix:/;
if ($split) { for my $c (split //, $hdr) { syswrite($s, $c); sleep 0.02 } }
elsif (length $hdr && @steps && $steps[0] =~ /^req:(.*)$/s) { syswrite($s, $hdr . "j$1\r\n"); shift @steps; print line(), "\n" }
else { syswrite($s, $hdr) }
sub line { $buf //= ''; while ($buf !~ /\n/) { my $n = sysread($s, my $b, 65536); if (!$n) { print "EOF\n"; exit 3 } $buf .= $b }
  $buf =~ s/^(.*?)\n//s; my $l = $1; $l =~ s/^j//; $l =~ s/\r$//; return $l }
for my $st (@steps) {
  if ($st =~ /^req:(.*)$/s) { syswrite($s, "j$1\r\n"); print line(), "\n" }
  elsif ($st =~ /^send:(.*)$/s) { my $t = $1; $t =~ s/\\r/\r/g; $t =~ s/\\n/\n/g; syswrite($s, $t); print "sent\n" }
  elsif ($st eq 'read') { print line(), "\n" }
  elsif ($st =~ /^sleep:(.*)$/) { sleep $1 }
}
exit 0;
