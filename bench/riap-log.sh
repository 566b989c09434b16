#!/bin/bash
# bench/riap-log.sh [BUILD]: riap-log's throughput in lines/s against
# `cat > file` on the same input in the same run, for each access log format
# and for diagnostic lines. Target (issue 5): perl format at least 25% of cat.
# Both read a pipe, as riap-log does in production: cat from a file to a
# file would use copy_file_range, a copy inside the kernel.
# Prints one line per case and a last line "ok"/"FAIL" for the target.
B=$(cd "${1:-build}" && pwd) || exit 111
export PATH="$B/bin:$B/t/prog:$PATH"
N=${RIAP_BENCH_LINES:-200000}
T=$(mktemp -d) || exit 111
trap 'rm -rf "$T"' EXIT

mkrecord -n "$N" -q -l 200 -r '[{"x":1},{"y":"two"}]' >"$T/rec" || exit 111
seq 1 "$N" | sed 's/^/riap-handle: warning: diagnostic line number /' >"$T/diag"

ns() { date +%s%N; }
best() { # CMD...: the best of 3 runs, in ns
  local i t0 t1 b=
  for i in 1 2 3; do
    rm -f "$T/out" && rm -rf "$T/dir"
    t0=$(ns); "$@"; t1=$(ns)
    [ -z "$b" ] || [ $((t1 - t0)) -lt "$b" ] && b=$((t1 - t0))
  done
  echo "$b"
}
rate() { echo $((N * 1000000000 / $1)); }

cat_ns=$(best sh -c "cat '$T/rec' | cat >'$T/out'")
echo "cat            $(rate "$cat_ns") lines/s ($(stat -c %s "$T/rec") bytes)"
for f in perl json tsv; do
  t=$(best sh -c "cat '$T/rec' | riap-log -f $f -a '$T/out' -e /dev/null")
  eval "${f}_ns=$t"
  echo "riap-log $f  $(rate "$t") lines/s ($((cat_ns * 100 / t))% of cat)"
done
t=$(best sh -c "cat '$T/rec' | riap-log -f perl -a '$T/dir/' -s 1M -n 5 -e /dev/null")
echo "riap-log perl, rotated dir  $(rate "$t") lines/s ($((cat_ns * 100 / t))% of cat)"
t=$(best sh -c "cat '$T/diag' | riap-log -a /dev/null -e '$T/out'")
c=$(best sh -c "cat '$T/diag' | cat >'$T/out'")
echo "riap-log diag (iso)  $(rate "$t") lines/s ($((c * 100 / t))% of cat)"
if [ $((cat_ns * 100 / perl_ns)) -ge 25 ]; then echo ok; else echo FAIL; exit 1; fi
