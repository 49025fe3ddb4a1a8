using System;
using System.Globalization;
using MathNet.Numerics;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Threading of the .NET side: MathNet's managed provider parallelises large products over
/// <c>Control.MaxDegreeOfParallelism</c> threads and the library's GEMM over <see cref="ProductKernels.Threads"/>;
/// the suite pins both to BENCH_THREADS (default 1), the same number of threads PyTorch is given. Everything else
/// (TensorPrimitives, the graph) is single-threaded anyway. K_Gemm sets its own thread counts (1 and 2).
/// </summary>
public static class Settings
{
    /// <summary>MathNet's own default, read before <see cref="Apply"/> changes it.</summary>
    public static readonly int DefaultMathNetThreads;

    static Settings() => DefaultMathNetThreads = Control.MaxDegreeOfParallelism;

    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("BENCH_THREADS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    /// <summary>MathNet's provider and the library's GEMM (<see cref="ProductKernels.Threads"/>) both on BENCH_THREADS threads.</summary>
    public static void Apply()
    {
        Control.MaxDegreeOfParallelism = Threads;
        ProductKernels.Threads = Threads;
    }

    /// <summary>
    /// OpenBLAS for the GEMM row, from FUNCTIONAL_AUTODIFF_OPENBLAS (run.sh sets it to Debian's libopenblas0-openmp,
    /// extracted by bench/openblas.sh, and sets OPENBLAS_CORETYPE to the best kernel for the CPU); null without it.
    /// </summary>
    internal static OpenBlas? OpenBlas() =>
        Environment.GetEnvironmentVariable("FUNCTIONAL_AUTODIFF_OPENBLAS") is { Length: > 0 } library ? Functional.Autodiff.OpenBlas.Load(library) : null;
}
