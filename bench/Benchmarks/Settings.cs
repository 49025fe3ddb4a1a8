using System;
using System.Globalization;
using MathNet.Numerics;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Threading of the .NET side: MathNet's managed provider parallelises large products over
/// <c>Control.MaxDegreeOfParallelism</c> threads; the suite pins it to BENCH_THREADS (default 1), the same
/// number of threads PyTorch is given. Everything else (TensorPrimitives, the graph) is single-threaded anyway.
/// </summary>
public static class Settings
{
    /// <summary>MathNet's own default, read before <see cref="Apply"/> changes it.</summary>
    public static readonly int DefaultMathNetThreads;

    static Settings() => DefaultMathNetThreads = Control.MaxDegreeOfParallelism;

    public static int Threads =>
        int.TryParse(Environment.GetEnvironmentVariable("BENCH_THREADS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1;

    public static void Apply() => Control.MaxDegreeOfParallelism = Threads;
}
