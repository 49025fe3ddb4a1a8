using System.Numerics.Tensors;
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

/// <summary>
/// The library's lane-independent element-wise kernels (ElementwiseMath) against TensorPrimitives on the same 10⁴
/// elements, x in [−2, 3] (W4's range; log gets x + 2.5). Divide a time by 10⁴ for nanoseconds per element.
/// </summary>
[BenchmarkCategory("Kernel")]
public class K_ElementwiseMath
{
    private const int N = 10_000;
    private double[] x = null!, positive = null!, y = null!;

    [Params("exp", "log", "sin", "cos", "tanh")]
    public string Function { get; set; } = "exp";

    [GlobalSetup]
    public void Setup()
    {
        x = new double[N];
        for (var k = 0; k < N; k++) x[k] = -2 + 5.0 * k / (N - 1);
        positive = System.Array.ConvertAll(x, v => v + 2.5);
        y = new double[N];
    }

    [Benchmark(Description = "ElementwiseMath", Baseline = true)]
    public double[] Library()
    {
        switch (Function)
        {
            case "exp": ElementwiseMath.Exp(x, y); break;
            case "log": ElementwiseMath.Log(positive, y); break;
            case "sin": ElementwiseMath.Sin(x, y); break;
            case "cos": ElementwiseMath.Cos(x, y); break;
            default: ElementwiseMath.Tanh(x, y); break;
        }
        return y;
    }

    [Benchmark(Description = "TensorPrimitives")]
    public double[] Tensor()
    {
        switch (Function)
        {
            case "exp": TensorPrimitives.Exp(x, y); break;
            case "log": TensorPrimitives.Log(positive, y); break;
            case "sin": TensorPrimitives.Sin(x, y); break;
            case "cos": TensorPrimitives.Cos(x, y); break;
            default: TensorPrimitives.Tanh(x, y); break;
        }
        return y;
    }
}
