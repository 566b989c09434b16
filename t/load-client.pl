# t/load-client.pl: one client calling in a loop until a file exists, a new
# connection per call (t/haproxy.bats, bench/run).
# perl load-client.pl --from IP --stop FILE ADDR
# Prints, once stopped: "ok=N fail=M refused=R" (fail: no answer, or not
# 200/403; refused: 403). Each failure also as "fail: WHY" before it.
use strict; use warnings; use Socket qw(:all);
$SIG{PIPE} = 'IGNORE'; $| = 1;
my ($from, $stop);
while (@ARGV && $ARGV[0] =~ /^--/) { my $o = shift; if ($o eq '--from') { $from = shift } elsif ($o eq '--stop') { $stop = shift } }
my ($h, $p) = $ARGV[0] =~ /^(.*):(\d+)$/;
my ($ok, $fail, $refused) = (0, 0, 0);
my $req = "j{\"action\":\"call\",\"uri\":\"/Math/mult\",\"args\":{\"a\":2,\"b\":3}}\r\n";
until (-e $stop) {
  my $s;
  socket($s, PF_INET, SOCK_STREAM, 0) or die;
  bind($s, sockaddr_in(0, inet_aton($from))) or die "bind: $!" if $from;
  if (!connect($s, sockaddr_in($p, inet_aton($h)))) { $fail++; print "fail: connect: $!\n"; next }
  syswrite($s, $req);
  my $buf = '';
  while ($buf !~ /\n/) { my $n = sysread($s, my $b, 4096); last unless $n; $buf .= $b }
  if ($buf =~ /^j\[200,/) { $ok++ }
  elsif ($buf =~ /^j\[403,/) { $refused++ }
  else { $fail++; chomp $buf; print "fail: answer: '$buf'\n" }
  close $s;
}
print "ok=$ok fail=$fail refused=$refused\n";
