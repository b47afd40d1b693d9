#!/usr/bin/env bash
# Builds and runs kernels_vs_onednn.c (see its header) against the oneDNN of the bundled
# org.bytedeco:dnnl jar (its headers and library, unpacked from the local Maven repository) and
# the kernels the module's build compiled (run `./mvnw -pl backend-onednn -am compile` first).
#   kernels_vs_onednn.sh <avx2|avx512> <swish|means|winograd|vgg|se> [runs]
# e.g. ONEDNN_MAX_CPU_ISA=AVX2 backend-onednn/src/test/c/kernels_vs_onednn.sh avx2 swish 200
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
module=$(cd "$here/../../.." && pwd)
kernels=$module/target/classes/dev/kiln/onednn/native/linux-x86_64/libkiln-onednn-kernels.so
[[ -f $kernels ]] || { echo "no $kernels: build the module first" >&2; exit 1; }
jar=$(ls "${MAVEN_REPOSITORY:-$HOME/.m2/repository}"/org/bytedeco/dnnl/*/dnnl-*-linux-x86_64.jar | tail -n 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -q "$jar" 'org/bytedeco/dnnl/linux-x86_64/*' -d "$work"
dnnl=$work/org/bytedeco/dnnl/linux-x86_64
"${CC:-cc}" -O2 -fopenmp -I"$dnnl/include" -o "$work/kernels_vs_onednn" "$here/kernels_vs_onednn.c" \
    -L"$dnnl" -l:libdnnl.so.3 -Wl,-rpath,"$dnnl" -ldl
"$work/kernels_vs_onednn" "$kernels" "$@"
