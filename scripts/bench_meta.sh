# bench_meta.sh: sourced by the benchmark scripts. meta FILE THREADS COMMAND writes the
# .meta.json that goes beside a results CSV: commit (+dirty), date, CPU, cores, load
# average, thread counts, kernel variant and the command that produced it. Needs $HEKV.
meta() {
    local commit dirty cpu
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    dirty=$(git status --porcelain --untracked-files=no 2>/dev/null | grep -q . && echo "+dirty" || true)
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    cat > "$1" <<JSON
{
  "commit": "${commit}${dirty}",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cpu": "${cpu}",
  "cores": $(nproc),
  "loadavg_at_start": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "threads": [$(echo $2 | sed 's/ /, /g')],
  "kernels": "$($HEKV --version | sed -n 's/^kernels: //p')",
  "command": "$3"
}
JSON
}
