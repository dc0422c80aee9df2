#!/usr/bin/env bash
# bench_packing.sh: the packing benchmarks at N = 2^16, recorded in results/ with a
# .meta.json beside each CSV (commit, date, CPU, threads, kernel variant) and a plot:
#   results/packing_matvec.csv  hekv bench matvec: IRP against the diagonal BSGS baseline
#   results/packing.csv         hekv bench attention over a sweep of context lengths n
#   results/packing.png         cost of QK^T, scores x V and the appends against n
# PACK_PARAMS (bench-N16-L33), PACK_D (1024), PACK_HEADS (16), PACK_KV_HEADS (16),
# PACK_NS ("256 512 1024 2048 3072 4096"), PACK_REPS (1), PACK_THREADS (1) override them.
# Every run checks its results against long double before timing and fails otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
HEKV=${HEKV:-build/hekv}
params=${PACK_PARAMS:-bench-N16-L33}
d=${PACK_D:-1024}
heads=${PACK_HEADS:-16}
kvh=${PACK_KV_HEADS:-16}
ns=${PACK_NS:-"256 512 1024 2048 3072 4096"}
reps=${PACK_REPS:-1}
threads=${PACK_THREADS:-1}
mkdir -p results
bash scripts/install-deps.sh plot # before timing anything: the plot at the end needs it

source scripts/bench_meta.sh

out=results/packing_matvec.csv
$HEKV bench matvec --params "$params" --d "$d" --threads "$threads" --reps 3 --csv > "$out.tmp"
mv "$out.tmp" "$out"
meta results/packing_matvec.meta.json "$threads" "hekv bench matvec --params $params --d $d --threads $threads --reps 3 --csv"
column -s, -t < "$out"

out=results/packing.csv
echo "op,n,rotations,ct_mults,median_ms,max_abs_err" > "$out.tmp"
for n in $ns; do
    $HEKV bench attention --params "$params" --d "$d" --heads "$heads" --kv-heads "$kvh" \
        --n "$n" --threads "$threads" --reps "$reps" --csv | tail -n +2 >> "$out.tmp"
done
mv "$out.tmp" "$out"
meta results/packing.meta.json "$threads" "hekv bench attention --params $params --d $d --heads $heads --kv-heads $kvh --n {$ns} --threads $threads --reps $reps --csv"
column -s, -t < "$out"
/usr/bin/python3 scripts/plot_packing.py "$out" results/packing.png \
    "$params, d = $d, $heads heads, $kvh K/V heads, $threads thread(s)"
echo "wrote results/packing_matvec.csv results/packing.csv results/packing.png"
