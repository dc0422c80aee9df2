#!/usr/bin/env bash
# Installs the Debian packages hekv builds and tests with, only those that are missing.
#   scripts/install-deps.sh          the build and test dependencies (make, make test)
#   scripts/install-deps.sh fuzz     + clang-14 and its runtime (make fuzz)
#   scripts/install-deps.sh train    + PyTorch, numpy, sentencepiece, OpenBLAS (scripts/train_lm.py)
#   scripts/install-deps.sh plot     + matplotlib (the plots of scripts/bench_packing.sh)
set -euo pipefail
pkgs=(build-essential libntl-dev libgmp-dev libomp-dev libcriterion-dev libsodium-dev)
for group in "$@"; do
    case "$group" in
        fuzz) pkgs+=(clang-14 libclang-rt-14-dev) ;;
        train) pkgs+=(python3-torch python3-numpy python3-sentencepiece libopenblas0-pthread) ;;
        plot) pkgs+=(python3-matplotlib) ;;
        *) echo "install-deps: unknown group '$group' (known: fuzz, train, plot)" >&2; exit 2 ;;
    esac
done
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}"
