#!/usr/bin/perl
# The reference for riap-handle's `meta` of a function: each FILE (a
# NAME.meta.json) as Perl's servers answer `meta` for that metadata
# (Perinci::Access::Schemeless: Perinci::Sub::Normalize's
# normalize_function_metadata with its defaults, then args //= {}), one JSON
# line per file: the metadata, or {"error": REASON} when Perl refuses it.
# Perl's rewrite of args_as/result_naked for its wrapper is not applied
# (doc/PERL-DIFFERENCES.md, meta-as-written). PERL5LIB=../shared/perl/lib.
use strict;
use warnings;
use JSON::PP;
use Perinci::Sub::Normalize qw(normalize_function_metadata);

my $json = JSON::PP->new->canonical;
for my $file (@ARGV) {
    open my $fh, '<', $file or die "$file: $!\n";
    my $meta = eval { JSON::PP->new->decode(do { local $/; <$fh> }) };
    my $out = $meta && eval { normalize_function_metadata($meta) };
    if ($out) { $out->{args} //= {}; }
    else { (my $e = $@ || 'invalid JSON') =~ s/ at \S+ line \d+.*//s; $out = { error => $e }; }
    print $json->encode($out), "\n";
}
