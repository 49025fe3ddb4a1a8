using System;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// SplitMix64: a tiny fixed-seed generator that bench/torch_bench.py implements bit for bit, so the C# and the
/// PyTorch benchmarks run on the same numbers and their losses can be compared.
/// </summary>
public sealed class SplitMix64(ulong seed)
{
    private ulong state = seed;

    public ulong Next()
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            var z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (Next() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in [-a, a).</summary>
    public double Symmetric(double a) => (2 * NextDouble() - 1) * a;

    /// <summary>A rows×cols matrix filled row by row with uniform numbers in [-a, a) (or [0, 1) when a is null).</summary>
    public Matrix<double> Matrix(int rows, int cols, double? a)
    {
        var d = new double[rows * cols];
        for (var k = 0; k < d.Length; k++) d[k] = a is { } s ? Symmetric(s) : NextDouble();
        return Matrix<double>.Build.DenseOfRowMajor(rows, cols, d);
    }

    public Vector<double> Vector(int n, double a)
    {
        var d = new double[n];
        for (var k = 0; k < d.Length; k++) d[k] = Symmetric(a);
        return Vector<double>.Build.Dense(d);
    }
}
