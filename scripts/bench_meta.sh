# bench_meta.sh: sourced by the benchmark scripts. meta FILE THREADS COMMAND writes the
# .meta.json that goes beside a results CSV: commit (+dirty), date, CPU (name, family,
# model), cores, load average, thread counts, kernel variant, the command that produced it
# and a host probe; an optional 4th argument adds a JSON member (e.g. peak memory).
# Needs $HEKV.

# host_probe: the median time (us) of one AVX-512 forward NTT of 2^16 over a 50-bit prime
# on one thread (empty without AVX-512 IFMA): a yardstick for how fast the shared host ran
# (the same binary has measured 59 to 270 us on it). Sourcing takes one probe
# (PROBE_START); meta takes another when it writes the file.
host_probe() {
    $HEKV bench ntt --logn 16 --bits 50 --threads 1 --csv \
        | awk -F, '$1 == "ntt_fwd" && $2 == "avx512" { print $6 }'
}
PROBE_START=$(host_probe)

meta() {
    local commit dirty cpu probe_end
    probe_end=$(host_probe || true)
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    # results/ is what the benchmark just wrote: it does not make the code dirty
    dirty=$(git status --porcelain --untracked-files=no -- . ':!results' 2>/dev/null \
        | grep -q . && echo "+dirty" || true)
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    fam=$(awk -F': ' '/^cpu family/ {print $2; exit}' /proc/cpuinfo)
    mod=$(awk -F': ' '/^model[[:space:]]*:/ {print $2; exit}' /proc/cpuinfo)
    cat > "$1" <<JSON
{
  "commit": "${commit}${dirty}",
  "date": "$(date -u +%Y-%m-%dT%H:%M:%SZ)",
  "cpu": "${cpu}",
  "cpu_family": ${fam:-null},
  "cpu_model": ${mod:-null},
  "cores": $(nproc),
  "loadavg_at_start": "$(cut -d' ' -f1-3 /proc/loadavg)",
  "threads": [$(echo $2 | sed 's/ /, /g')],
  "kernels": "$($HEKV --version | sed -n 's/^kernels: //p')",
  "command": "$3",
  "host_probe_ntt_fwd_2^16_us": {"start": ${PROBE_START:-null}, "end": ${probe_end:-null}}${4:+,
  $4}
}
JSON
}
