#!/usr/bin/env bash
# make demo: what hekv can show today, end to end on this machine:
#   1. the CPU's kernel variant and the NTT / element-wise kernel benchmark at N = 2^16;
#   2. the CKKS parameter sets and their 128-bit verdicts;
#   3. every CKKS operation at N = 2^16 with 33 limbs (checked against plain arithmetic,
#      then timed);
#   4. the plaintext reference engine generating text with our PTB model (greedy).
# Later issues turn this into encrypted generation.
set -euo pipefail
cd "$(dirname "$0")/.."
build/hekv --version
echo "== kernels (N = 2^16, one 50-bit prime, 1 thread)"
build/hekv bench ntt --logn 16 --bits 50 --threads 1
echo "== CKKS parameter sets"
build/hekv params
echo "== CKKS operations (bench-N16-L33, 1 thread)"
build/hekv bench ckks --params bench-N16-L33 --threads 1 --reps 3
echo "== plaintext reference model (models/weights/ptb.bin, greedy)"
build/hekv run --model models/weights/ptb.bin --prompt "the company said" -n 40 -t 0
