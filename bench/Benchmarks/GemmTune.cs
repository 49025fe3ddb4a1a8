using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// `--gemm [THREADS] [SHAPES]`: a quick min-of-many-repetitions timing of the library's GEMM next to MathNet's
/// managed provider (and OpenBLAS when FUNCTIONAL_AUTODIFF_OPENBLAS names it), for tuning the blocking and the
/// threading threshold on a busy machine: the minimum is the figure least disturbed by other processes. The
/// BenchmarkDotNet class K_Gemm gives the figures of record. Checks every result against the plain loop first.
/// </summary>
public static class GemmTune
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "threshold") return Threshold();
        var threads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1;
        var shapes = args.Length > 1
            ? args[1].Split(',').Select(s => s.Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray()
            : [[64, 784, 256], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [2048, 2048, 2048]];
        MathNet.Numerics.Control.MaxDegreeOfParallelism = threads;
        var library = Environment.GetEnvironmentVariable("FUNCTIONAL_AUTODIFF_OPENBLAS");
        var blas = string.IsNullOrEmpty(library) ? null : OpenBlas.Load(library);
        blas?.SetThreads(threads);
        if (blas is not null) Console.WriteLine(blas.Description);
        Console.WriteLine($"kernel {Gemm.Description}; threads {threads}; KC {Gemm.KC} MC {Gemm.MC} NC {Gemm.NC}; peak (FMA loop) {Peak.MeasuredGflops():F1} GFLOP/s per core");
        foreach (var s in shapes)
        {
            int m = s[0], k = s[1], n = s[2];
            var rng = new SplitMix64(1);
            var a = Enumerable.Range(0, m * k).Select(_ => rng.Symmetric(1)).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => rng.Symmetric(1)).ToArray();
            var c = new double[m * n];
            if (m * n * (long)k <= 300L * 300 * 300)
            {
                var r = new double[m * n];
                Gemm.ReferenceInto(a, false, b, false, r, m, k, n);
                Gemm.Into(a, false, b, false, c, m, k, n, threads);
                if (!r.AsSpan().SequenceEqual(c)) { Console.WriteLine($"{m}x{k}x{n}: MISMATCH with the plain loop"); return 1; }
            }
            var flops = 2.0 * m * n * k;
            var reps = (int)Math.Clamp(6e9 / flops, 7, 3000);
            double lib = Time(reps, () => Gemm.Into(a, false, b, false, c, m, k, n, threads));
            double libTN = Time(reps, () => Gemm.Into(a, true, b, false, c, m, k, n, threads), m == k);
            double ob = blas is null ? double.NaN : Time(reps, () => blas.Multiply(a, false, b, false, m, k, n));
            DenseMatrix am = new(m, k, a), bm = new(k, n, b), cm = new(m, n);
            double mn = Time(Math.Max(3, reps / 10), () => am.Multiply(bm, cm));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m}x{k}x{n}: lib {flops / lib / 1e9,6:F1} GFLOP/s{(double.IsNaN(libTN) ? "" : $" (Aᵀ·B {flops / libTN / 1e9:F1})")}  MathNet {flops / mn / 1e9,6:F1} GFLOP/s{(blas is null ? "" : $"  OpenBLAS {flops / ob / 1e9,6:F1} GFLOP/s")}  [{lib * 1e3:F3} ms]"));
        }
        return 0;
    }

    /// <summary>One part against two for cubes around the threshold: where two threads start to pay.</summary>
    private static int Threshold()
    {
        Console.WriteLine($"kernel {Gemm.Description}; threshold now {Gemm.ParallelThreshold} multiply-adds");
        foreach (var s in new[] { 24, 32, 40, 48, 56, 64, 80, 96, 128, 160 })
        {
            var rng = new SplitMix64(2);
            var a = Enumerable.Range(0, s * s).Select(_ => rng.Symmetric(1)).ToArray();
            var b = Enumerable.Range(0, s * s).Select(_ => rng.Symmetric(1)).ToArray();
            var c = new double[s * s];
            var reps = (int)Math.Clamp(2e9 / (2.0 * s * s * s), 50, 20000);
            double one = Time(reps, () => Gemm.IntoAt(512, a, false, b, false, c, s, s, s, 1));
            double two = Time(reps, () => Gemm.IntoAt(512, a, false, b, false, c, s, s, s, 2));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{s}³ = {(long)s * s * s,8} multiply-adds: 1 part {one * 1e6,8:F2} us, 2 parts {two * 1e6,8:F2} us, ratio {two / one:F2}"));
        }
        return 0;
    }

    private static double Time(int reps, Action f, bool run = true)
    {
        if (!run) return double.NaN;
        f();
        var best = double.MaxValue;
        for (var r = 0; r < reps; r++)
        {
            var t = Stopwatch.GetTimestamp();
            f();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalSeconds);
        }
        return best;
    }
}
