#!/usr/bin/env bash
# Compiles kernels.c into $1/libkiln-onednn-kernels.so, a resource of the onednn jar (Maven runs
# this in generate-resources). Without a C compiler, or off Linux x86-64, nothing is built and the
# backend computes those operations with oneDNN's primitives instead (slower, same answers): the
# build goes on, and `kiln backends` says which the backend uses.
set -euo pipefail
out=$1
source=$(dirname "$0")/kernels.c
cc=${CC:-cc}

say() {
    echo "onednn kernels: $*" >&2
}

if [[ "$(uname -s)" != Linux || "$(uname -m)" != x86_64 ]]; then
    say "not built: they are for Linux x86-64, this is $(uname -s) $(uname -m)"
    exit 0
fi
if ! command -v "$cc" >/dev/null; then
    say "not built: no C compiler ($cc; install gcc, or set CC)"
    exit 0
fi
mkdir -p "$out"
# -fopenmp links libgomp.so.1 by name: at run time that is the copy oneDNN loaded, one team for both.
if "$cc" -O2 -fPIC -shared -fopenmp -Wall -o "$out/libkiln-onednn-kernels.so" "$source" -lm; then
    say "built $out/libkiln-onednn-kernels.so with $("$cc" --version | head -n 1)"
else
    rm -f "$out/libkiln-onednn-kernels.so"
    say "WARNING: not built: $cc failed on $source (above)"
fi
