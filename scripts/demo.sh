#!/usr/bin/env bash
# make demo: what hekv can show today: the CPU's kernel variant and the kernel benchmark
# at N = 2^16 (one thread), scalar reference against AVX-512 IFMA.
set -euo pipefail
cd "$(dirname "$0")/.."
build/hekv --version
build/hekv bench ntt --logn 16 --bits 50 --threads 1
