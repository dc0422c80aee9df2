#!/usr/bin/env bash
# make bench: runs the microbenchmarks and records them in results/ as CSV, each with a
# .meta.json beside it naming the commit, date, CPU, thread counts and kernel variant.
#   results/kernels.csv  hekv bench ntt (NTT, element-wise, basis conversion)
#   results/ckks.csv     hekv bench ckks (CKKS operations at the top level of a set)
# BENCH_LOGN / BENCH_THREADS override the kernel sweep (defaults: 12 14 16 / 1 2);
# BENCH_CKKS_PARAMS / BENCH_CKKS_THREADS / BENCH_CKKS_REPS / BENCH_CKKS_RUNS the CKKS one
# (defaults: bench-N16-L33 / 1 2 / 11 / 3). BENCH_ONLY=kernels|ckks runs one of the two.
set -euo pipefail
cd "$(dirname "$0")/.."
HEKV=${HEKV:-build/hekv}
mkdir -p results
logns=${BENCH_LOGN:-"12 14 16"}
threads=${BENCH_THREADS:-"1 2"}
ckks_params=${BENCH_CKKS_PARAMS:-"bench-N16-L33"}
ckks_threads=${BENCH_CKKS_THREADS:-"1 2"}
ckks_reps=${BENCH_CKKS_REPS:-11}
ckks_runs=${BENCH_CKKS_RUNS:-3}
only=${BENCH_ONLY:-}

source scripts/bench_meta.sh

if [ "$only" != ckks ]; then
    out=results/kernels.csv
    echo "kernel,variant,logn,bits,threads,median_us,min_us,max_us" > "$out"
    for t in $threads; do
        for l in $logns; do
            $HEKV bench ntt --logn "$l" --bits 50 --threads "$t" --csv | tail -n +2 >> "$out"
        done
    done
    meta results/kernels.meta.json "$threads" "hekv bench ntt --logn {$logns} --bits 50 --threads {$threads} --csv"
    echo "wrote $out"
    column -s, -t < "$out"
fi

if [ "$only" != kernels ]; then
    # Each run checks every operation against plain arithmetic before timing it, and exits
    # non-zero (failing make bench) rather than record the time of a wrong result.
    # The host's speed drifts over minutes, so the whole sweep runs $ckks_runs times; a row
    # of the CSV is the median of the runs' medians, the least min and the largest max.
    out=results/ckks.csv
    tmp="$out.tmp" # the CSV appears only when every run passed its check
    : > "$tmp"
    for run in $(seq "$ckks_runs"); do
        for prm in $ckks_params; do
            for t in $ckks_threads; do
                $HEKV bench ckks --params "$prm" --threads "$t" --reps "$ckks_reps" --csv \
                    | tail -n +2 >> "$tmp"
            done
        done
    done
    {
        echo "op,params,limbs,threads,median_ms,min_ms,max_ms"
        awk -F, '{ k = $1 "," $2 "," $3 "," $4
                   if (!(k in n)) order[++rows] = k
                   med[k, ++n[k]] = $5
                   if (!(k in mn) || $6 < mn[k]) mn[k] = $6
                   if (!(k in mx) || $7 > mx[k]) mx[k] = $7 }
             END { for (r = 1; r <= rows; r++) {
                       k = order[r]; c = n[k]
                       for (i = 1; i <= c; i++) v[i] = med[k, i]
                       for (i = 2; i <= c; i++)   # insertion sort of the c medians
                           for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
                               t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
                           }
                       m = c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
                       printf "%s,%.3f,%.3f,%.3f\n", k, m, mn[k], mx[k] } }' "$tmp"
    } > "$out"
    rm -f "$tmp"
    meta results/ckks.meta.json "$ckks_threads" "hekv bench ckks --params {$ckks_params} --threads {$ckks_threads} --reps $ckks_reps --csv, $ckks_runs runs (median of the run medians)"
    echo "wrote $out"
    column -s, -t < "$out"
fi
