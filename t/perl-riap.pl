# t/perl-riap.pl: requests through Perl's real Riap client stack, as a Perl
# program makes them: one Perinci::Access object (the dispatcher), which
# hands riap+tcp, riap+unix and riap+pipe URLs to
# Perinci::Access::Simple::Client 0.23 and keeps its connections.
#
#   PERL5LIB=../shared/perl/lib perl t/perl-riap.pl [RIAP_VERSION] <requests
#
# RIAP_VERSION is passed as given (a string, as read from text).
# Requests, one JSON array per line: [ACTION, URL, EXTRA] (EXTRA: the other
# request keys, optional). Printed, one JSON object per request:
# {"res": ENVELOPE} plus "hex" of a string result made of bytes (a binary
# result decoded from base64 by the client); then {"connects": N}: the
# sockets and programs the client opened in all (counted by wrapping the
# constructors it calls, not by imitating it).
use strict;
use warnings;
use JSON::PP;
use IO::Socket::INET;
use IO::Socket::UNIX;
use IPC::Open2 ();
use Perinci::Access;

my $connects = 0;
{
  no warnings 'redefine';
  my $inet = \&IO::Socket::INET::new;
  my $unix = \&IO::Socket::UNIX::new;
  my $open2 = \&IPC::Open2::open2;
  *IO::Socket::INET::new = sub { $connects++; goto &$inet };
  *IO::Socket::UNIX::new = sub { $connects++; goto &$unix };
  *IPC::Open2::open2 = sub { $connects++; goto &$open2 };
}

my $io = JSON::PP->new->utf8->canonical->allow_nonref;
my $pa = Perinci::Access->new(@ARGV ? (riap_version => $ARGV[0]) : ());
$| = 1;
while (my $line = <STDIN>) {
  next unless $line =~ /\S/;
  my ($action, $url, $extra) = @{ $io->decode($line) };
  my $res = $pa->request($action => $url, $extra // {});
  my $out = { res => $res };
  my $r = ref $res eq 'ARRAY' ? $res->[2] : undef;
  $out->{hex} = unpack 'H*', $r if defined $r && !ref $r && $r !~ /[^\x00-\xff]/;
  print $io->encode($out), "\n";
}
print $io->encode({ connects => $connects }), "\n";
