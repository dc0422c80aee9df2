#!/usr/bin/env bash
# bench_poly.sh: the nonlinearities (hekv bench poly), recorded in results/ with a
# .meta.json beside each CSV (commit, date, CPU, threads, kernel variant, host probe):
#   results/poly_errors.csv      the design search: every candidate's error (--table)
#   results/poly_toy-N14.csv     the chosen designs checked encrypted and timed, toy-N14
#   results/poly_N16-128.csv     the same at N16-128 (the 128-bit set)
# POLY_REPS (3) and POLY_THREADS (1) override the timed calls and threads. Every run checks
# its encrypted results against double precision and fails rather than time a wrong one.
set -euo pipefail
cd "$(dirname "$0")/.."
HEKV=${HEKV:-build/hekv}
reps=${POLY_REPS:-3}
threads=${POLY_THREADS:-1}
mkdir -p results

source scripts/bench_meta.sh

out=results/poly_errors.csv
$HEKV bench poly --table > "$out.tmp"
mv "$out.tmp" "$out"
meta results/poly_errors.meta.json 1 "hekv bench poly --table"
echo "wrote $out"

for prm in toy-N14 N16-128; do
    out=results/poly_$prm.csv
    $HEKV bench poly --params "$prm" --threads "$threads" --reps "$reps" --csv > "$out.tmp"
    mv "$out.tmp" "$out"
    meta results/poly_$prm.meta.json "$threads" "hekv bench poly --params $prm --threads $threads --reps $reps --csv"
    column -s, -t < "$out"
done
