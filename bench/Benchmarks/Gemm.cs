using System;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// The GEMM row: C = A·B by the library's kernel, by MathNet's managed provider and by OpenBLAS (Debian's
/// libopenblas0-openmp, through the library's opt-in path; FUNCTIONAL_AUTODIFF_OPENBLAS names it and run.sh forces
/// OPENBLAS_CORETYPE to the CPU's best kernel), at W3's shape and at squares, on 1 and 2 threads, in one run. The
/// report turns the times into GFLOP/s next to the machine's peak (Peak.cs, in check.json).
/// </summary>
[BenchmarkCategory("Kernel")]
public class K_Gemm
{
    private double[] a = null!, b = null!;
    private DenseMatrix am = null!, bm = null!, cm = null!;
    private OpenBlas? blas;
    private int m, k, n;

    /// <summary>m×k·k×n.</summary>
    [Params("64x784x256", "256x256x256", "512x512x512", "1024x1024x1024", "2048x2048x2048")]
    public string Shape { get; set; } = "64x784x256";

    [Params(1, 2)]
    public int Threads { get; set; } = 1;

    [GlobalSetup]
    public void Setup()
    {
        var d = Array.ConvertAll(Shape.Split('x'), int.Parse);
        (m, k, n) = (d[0], d[1], d[2]);
        var rng = new SplitMix64(11);
        a = new double[m * k];
        b = new double[k * n];
        for (var i = 0; i < a.Length; i++) a[i] = rng.Symmetric(1);
        for (var i = 0; i < b.Length; i++) b[i] = rng.Symmetric(1);
        (am, bm, cm) = (new DenseMatrix(m, k, a), new DenseMatrix(k, n, b), new DenseMatrix(m, n));
        MathNet.Numerics.Control.MaxDegreeOfParallelism = Threads;
        blas = Settings.OpenBlas();
        blas?.SetThreads(Threads);
        Console.WriteLine($"// K_Gemm: library {Gemm.Description}; OpenBLAS: {blas?.Description ?? "not set (FUNCTIONAL_AUTODIFF_OPENBLAS)"}");
    }

    [Benchmark(Description = "library GEMM", Baseline = true)]
    public double[] Library() => Gemm.Multiply(a, false, b, false, m, k, n, Threads);

    [Benchmark(Description = "MathNet managed")]
    public DenseMatrix MathNetManaged()
    {
        am.Multiply(bm, cm);
        return cm;
    }

    [Benchmark(Description = "OpenBLAS")]
    public double[] OpenBlas() =>
        (blas ?? throw new InvalidOperationException("K_Gemm.OpenBlas needs FUNCTIONAL_AUTODIFF_OPENBLAS: run it through bench/run.sh, which extracts Debian's OpenBLAS"))
        .Multiply(a, false, b, false, m, k, n);
}
