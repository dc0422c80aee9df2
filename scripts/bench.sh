#!/usr/bin/env bash
# make bench: runs the microbenchmarks and records them in results/ as CSV, each with a
# .meta.json beside it naming the commit, date, CPU, thread counts and kernel variant.
# BENCH_LOGN / BENCH_THREADS override the sweep (defaults: 12 14 16 / 1 2).
set -euo pipefail
cd "$(dirname "$0")/.."
HEKV=${HEKV:-build/hekv}
mkdir -p results
logns=${BENCH_LOGN:-"12 14 16"}
threads=${BENCH_THREADS:-"1 2"}

meta() { # meta FILE THREADS
    local commit cpu dirty
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo "+dirty" || true)
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    cat > "$1" <<JSON
{
  "commit": "${commit}${dirty}",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cpu": "${cpu}",
  "cores": $(nproc),
  "threads": [$(echo $2 | sed 's/ /, /g')],
  "kernels": "$($HEKV --version | sed -n 's/^kernels: //p')",
  "command": "$3"
}
JSON
}

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
