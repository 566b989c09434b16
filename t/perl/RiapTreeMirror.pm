package RiapTreeMirror;
# The Perl server's side of t/perl-cli.bats: loaded by perl-riap-server
# (--module RiapTreeMirror, PERL5LIB=t/perl), it serves the code tree
# $ENV{RIAP_MIRROR_ROOT} (examples/) as Perl modules, so that Perl's own
# server describes the very metadata riap-handle serves and runs the very
# programs: package P (a directory) gets %P::SPEC from P/.meta.json and
# each F.meta.json, $P::VERSION and $P::DATE from the package metadata's
# entity_v and entity_date (where Perl's server takes them from), and sub
# P::F runs the program P/F with the arguments as JSON on stdin.
use strict;
use warnings;
use JSON::PP;
use IPC::Open2;
use Data::Sah::Normalize qw(normalize_schema);

my $root = $ENV{RIAP_MIRROR_ROOT} or die "RiapTreeMirror: set RIAP_MIRROR_ROOT\n";
my $json = JSON::PP->new->allow_nonref;

sub slurp { my ($f) = @_; open my $fh, '<:raw', $f or die "$f: $!\n"; local $/; <$fh> }

sub runner {
    my ($prog, $meta) = @_;
    my $naked = $meta->{result_naked};
    my $rs = $meta->{result} && $meta->{result}{schema};
    my $buf = $rs && ((ref $rs ? $rs->[0] : $rs) =~ /\Abuf\*?\z/);
    my %num = map { $_ => 1 } grep {
        my $sch = $meta->{args}{$_}{schema};
        $sch && normalize_schema($sch)->[0] =~ /\A(?:int|float|num|bool)\z/
    } keys %{ $meta->{args} // {} };
    return sub {
        my %args = @_;
        delete $args{$_} for grep { /\A-/ } keys %args;      # the server's own
        $args{$_} += 0 for grep { $num{$_} && defined $args{$_} } keys %args;  # as riap-handle passes them
        my $pid = open2(my $out, my $in, $prog) or die "$prog: $!\n";
        binmode $_, ':raw' for $in, $out;
        print $in JSON::PP->new->ascii->encode(\%args);
        close $in;
        my $res = do { local $/; <$out> };
        waitpid $pid, 0;
        return $res if $naked && $buf;
        return $json->decode($res);
    };
}

no strict 'refs';
opendir my $dh, $root or die "$root: $!\n";
for my $pkg (sort grep { /\A[A-Za-z_]\w*\z/ && -d "$root/$_" } readdir $dh) {
    my $dir = "$root/$pkg";
    my $pmeta = -f "$dir/.meta.json" ? $json->decode(slurp("$dir/.meta.json")) : { v => 1.1 };
    ${"${pkg}::VERSION"} = $pmeta->{entity_v} if defined $pmeta->{entity_v};
    ${"${pkg}::DATE"} = $pmeta->{entity_date} if defined $pmeta->{entity_date};
    ${"${pkg}::SPEC"}{':package'} = $pmeta;
    opendir my $fh, $dir or die "$dir: $!\n";
    for my $f (sort grep { /\A[A-Za-z_]\w*\z/ && -x "$dir/$_" && -f "$dir/$_.meta.json" } readdir $fh) {
        my $meta = $json->decode(slurp("$dir/$f.meta.json"));
        ${"${pkg}::SPEC"}{$f} = $meta;
        *{"${pkg}::$f"} = runner("$dir/$f", $meta);
    }
    $INC{"$pkg.pm"} = __FILE__;
}

1;
