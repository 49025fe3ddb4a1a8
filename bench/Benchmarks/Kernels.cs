using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// The MathNet products behind workload 3, alone: the runner turns their times into GFLOP/s. The library's matmul
/// calls <c>DenseMatrix.Multiply</c> on MathNet's provider, and its VJP for W1 first transposes X explicitly.
/// </summary>
[BenchmarkCategory("Kernel")]
public class K_MathNetProduct
{
    private Matrix<double> x = null!, w1 = null!, dA1 = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        var rng = new SplitMix64(7);
        x = rng.Matrix(MlpData.Batch, MlpData.In, null);
        w1 = rng.Matrix(MlpData.In, MlpData.Hidden, 0.05);
        dA1 = rng.Matrix(MlpData.Batch, MlpData.Hidden, 0.05);
    }

    /// <summary>The forward product X·W1: 64×784 · 784×256.</summary>
    [Benchmark(Description = "X·W1 64x784x256")]
    public Matrix<double> Product() => x * w1;

    /// <summary>Xᵀ·dA1 as the library does it (an explicit transpose, then a product).</summary>
    [Benchmark(Description = "transpose(X)·dA1")]
    public Matrix<double> TransposedThenProduct() => x.Transpose() * dA1;

    /// <summary>Xᵀ·dA1 with MathNet's transposed product, as the hand-written code does it.</summary>
    [Benchmark(Description = "X.TransposeThisAndMultiply(dA1)")]
    public Matrix<double> TransposeThisAndMultiply() => x.TransposeThisAndMultiply(dA1);
}
