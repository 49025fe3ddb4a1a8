#!/usr/bin/env bash
# Prints the path of OpenBLAS's libblas.so.3 from Debian's libopenblas0-openmp, extracted (not installed) into
# bench/.openblas (gitignored) on first use with `apt-get download` and `dpkg -x`. Used by bench/run.sh (PyTorch's
# OpenBLAS column and the GEMM row) and by .ci/run (the test that OpenBLAS and the managed GEMM agree).
# Also prints, on stderr, the OPENBLAS_CORETYPE to force for this CPU: SKYLAKEX with AVX-512, else HASWELL.
set -euo pipefail
base="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.openblas"
find_lib() { find "$base" -name libblas.so.3 -path '*openblas*' -printf '%h/%f\n' 2>/dev/null | head -n1 || true; }
lib="$(find_lib)"
if [[ -z "$lib" ]]; then
  mkdir -p "$base"
  (cd "$base" && rm -f ./*.deb && apt-get download libopenblas0-openmp >&2 && dpkg -x libopenblas0-openmp_*.deb .)
  lib="$(find_lib)"
fi
[[ -n "$lib" ]] || { echo "openblas.sh: no libblas.so.3 in $base" >&2; exit 1; }
echo "$lib"
