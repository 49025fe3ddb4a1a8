#!/usr/bin/env bash
# The benchmark runner: builds Release, checks the workloads, runs the BenchmarkDotNet suite, runs the PyTorch
# side twice (reference BLAS, then OpenBLAS in front via LD_LIBRARY_PATH) and prints one table of ratios.
# See bench/README.md. Results go to bench/results/ (gitignored).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
results="$here/results"
python=/usr/bin/python3          # Debian's python3-torch; not the python first on PATH
threads="${BENCH_THREADS:-1}"
mode=full
run_dotnet=1
run_torch=1
filters=()

usage() {
  cat <<EOF
Usage: bench/run.sh [--quick | --dry] [--threads N] [--no-dotnet] [--no-torch] [--filter PATTERN]...

  --quick        BenchmarkDotNet: 1 launch, 1 warm-up, 3 iterations of 100 ms; PyTorch: 3 short repeats.
                 Checks the whole pipeline in a few minutes; the figures are rough.
  --dry          BenchmarkDotNet's Dry job (one call per benchmark) and --quick PyTorch: fastest pipeline check.
  --threads N    threads for MathNet's provider and torch.set_num_threads (default 1, or \$BENCH_THREADS).
  --no-dotnet    reuse the last .NET results in bench/results (build and check still run).
  --no-torch     reuse the last PyTorch results in bench/results.
  --filter P     BenchmarkDotNet filter (e.g. '*W3*'); repeatable. Default: everything.
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) mode=quick ;;
    --dry) mode=dry ;;
    --threads) threads="$2"; shift ;;
    --no-dotnet) run_dotnet=0 ;;
    --no-torch) run_torch=0 ;;
    --filter) filters+=("$2"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
export BENCH_THREADS="$threads"
# BenchmarkDotNet takes every pattern after one --filter (a second --filter is refused).
bdn_args=()
[[ ${#filters[@]} -gt 0 ]] && bdn_args=(--filter "${filters[@]}")

step() { printf '\n==> %s\n' "$*" >&2; }

cd "$root"
mkdir -p "$results"

step "Build (Release)"
dotnet build bench/Benchmarks/Benchmarks.csproj -c Release -nologo -v quiet >&2
bench_dll="$root/bench/Benchmarks/bin/Release/net10.0/Benchmarks.dll"

# OpenBLAS: Debian's libopenblas0-openmp, extracted (not installed) into bench/.openblas by openblas.sh; the
# folder holding its libblas.so.3 goes on PyTorch's LD_LIBRARY_PATH, and the library itself to the GEMM row.
openblas_dir() { local lib; lib="$("$here/openblas.sh")" || return 1; dirname "$lib"; }
# The GEMM row forces OpenBLAS's best kernel for this CPU (Debian's 0.3.21 otherwise falls back to Prescott here).
if grep -qw avx512f /proc/cpuinfo 2>/dev/null; then gemm_coretype=SKYLAKEX; else gemm_coretype=HASWELL; fi
if lib="$(openblas_dir)"; then
  export FUNCTIONAL_AUTODIFF_OPENBLAS="$lib/libblas.so.3"
else
  echo "run.sh: could not get libopenblas0-openmp (apt-get download); the GEMM row's OpenBLAS column will fail" >&2
fi

step "Check: library and hand-written code agree (and OpenBLAS, OPENBLAS_CORETYPE=$gemm_coretype, with the library's GEMM)"
OPENBLAS_CORETYPE=$gemm_coretype dotnet "$bench_dll" --check "$results/check.json"

if [[ $run_dotnet == 1 ]]; then
  step "BenchmarkDotNet ($mode) -> $results/bdn"
  rm -rf "$results/bdn"
  flags=()
  [[ $mode == quick ]] && flags+=(--quick)
  [[ $mode == dry ]] && flags+=(--dry)
  # BenchmarkDotNet finds bench/Benchmarks/Benchmarks.csproj from the working directory (the repository root).
  set +o pipefail
  OPENBLAS_CORETYPE=$gemm_coretype dotnet "$bench_dll" "${flags[@]}" --artifacts "$results/bdn" "${bdn_args[@]}" 2>&1 | tee "$results/bdn.log" \
    | { grep --line-buffered -E '^(// Benchmark:|\| |// \*\*\*\*\* Found|Global total)' >&2 || true; }
  status=${PIPESTATUS[0]}
  set -o pipefail
  if [[ $status -ne 0 ]]; then
    echo "run.sh: BenchmarkDotNet failed; see $results/bdn.log" >&2
    exit 1
  fi
fi

if [[ $run_torch == 1 ]]; then
  if ! "$python" -c 'import torch' 2>/dev/null; then
    echo "run.sh: $python cannot import torch (apt-get install python3-torch); skipping PyTorch" >&2
  else
    torch_flags=(--threads "$threads")
    [[ $mode != full ]] && torch_flags+=(--quick)
    # OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE may be set on this machine: they are unset for the PyTorch runs, and the
    # OpenBLAS run then forces the CPU's best kernel ($gemm_coretype), as the GEMM row does: the anchor is the best
    # a PyTorch user gets (left to detect this CPU, Debian's 0.3.21 picks its Prescott kernel).
    torch_env=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)

    step "PyTorch, reference BLAS"
    "${torch_env[@]}" "$python" "$here/torch_bench.py" "${torch_flags[@]}" --label ref --out "$results/torch_ref.json"

    step "PyTorch, OpenBLAS"
    rm -f "$results/torch_openblas.json"
    if lib="$(openblas_dir)"; then
      libtorch="$("$python" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib", "libtorch_cpu.so"))')"
      echo "libtorch_cpu.so resolves, with LD_LIBRARY_PATH=$lib:" >&2
      LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ldd "$libtorch" | grep -E 'blas|lapack' >&2
      "${torch_env[@]}" OPENBLAS_CORETYPE="$gemm_coretype" LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$python" "$here/torch_bench.py" "${torch_flags[@]}" --label openblas --out "$results/torch_openblas.json"
    else
      echo "run.sh: could not get libopenblas0-openmp (apt-get download); no OpenBLAS column" >&2
    fi
  fi
fi

step "Report"
"$python" "$here/report.py" --results "$results" --markdown "$results/report.md"
