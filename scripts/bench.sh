#!/usr/bin/env bash
# make bench: runs the microbenchmarks and records them in results/ as CSV, each with a
# .meta.json beside it naming the commit, date, CPU, thread counts and kernel variant.
#   results/kernels.csv  hekv bench ntt (NTT, element-wise, basis conversion)
#   results/ckks.csv     hekv bench ckks (CKKS operations at the top level of a set)
#   results/boot.csv     hekv bench boot (bootstrapping: full slots and 2^10, 1 and 2
#                        threads), its .meta.json with the peak resident memory of each row
# BENCH_LOGN / BENCH_THREADS override the kernel sweep (defaults: 12 14 16 / 1 2);
# BENCH_CKKS_PARAMS / BENCH_CKKS_THREADS / BENCH_CKKS_REPS / BENCH_CKKS_RUNS the CKKS one
# (defaults: bench-N16-L33 / 1 2 / 11 / 3); BENCH_BOOT_SETS / BENCH_BOOT_THREADS /
# BENCH_BOOT_REPS the bootstrapping one (boot-N16 boot-N16-s10 / 1 2 / 3).
# BENCH_ONLY=kernels|ckks|boot runs one of them.
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
boot_sets=${BENCH_BOOT_SETS:-"boot-N16 boot-N16-s10"}
boot_threads=${BENCH_BOOT_THREADS:-"1 2"}
boot_reps=${BENCH_BOOT_REPS:-3}

source scripts/bench_meta.sh

if [ -z "$only" ] || [ "$only" = kernels ]; then
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

if [ -z "$only" ] || [ "$only" = ckks ]; then
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

if [ -z "$only" ] || [ "$only" = boot ]; then
    # Each run checks the precision before timing (and fails make bench when the result is
    # wrong); its peak resident memory comes from its stderr.
    out=results/boot.csv
    tmp="$out.tmp"
    : > "$tmp"
    peaks=""
    for set in $boot_sets; do
        for t in $boot_threads; do
            $HEKV bench boot --params "$set" --threads "$t" --reps "$boot_reps" --csv \
                2> "$tmp.err" | tail -n +2 >> "$tmp"
            cat "$tmp.err" >&2
            mib=$(sed -n 's/.*peak resident memory \([0-9.]*\) MiB.*/\1/p' "$tmp.err")
            peaks="$peaks${peaks:+, }{\"params\": \"$set\", \"threads\": $t, \"peak_rss_mib\": ${mib:-null}}"
        done
    done
    { echo "params,slots,threads,levels_in,levels_out,keyswitches,keys_mib,precision_bits_mean,precision_bits_max,median_s,min_s,max_s"
      cat "$tmp"; } > "$out"
    rm -f "$tmp" "$tmp.err"
    meta results/boot.meta.json "$boot_threads" "hekv bench boot --params {$boot_sets} --threads {$boot_threads} --reps $boot_reps --csv" "\"peak_memory\": [$peaks]"
    echo "wrote $out"
    column -s, -t < "$out"
fi
