using System;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;

namespace Functional.Autodiff.Benchmarks;

/// <summary>Workload 4: sum(tanh(x) ⊙ exp(−x²)) for x = linspace(−2, 3, 10⁶) (not symmetric, so the sum is not ~0); value and gradient.</summary>
public static class Elementwise
{
    public const int N = 1_000_000;

    public static double[] MakeX()
    {
        var x = new double[N];
        for (var k = 0; k < N; k++) x[k] = -2 + 5.0 * k / (N - 1);
        return x;
    }

    public static Expr F(Expr x) => Expr.Sum(Expr.Tanh(x) * Expr.Exp(-Expr.Square(x)));

    /// <summary>
    /// TensorPrimitives on arrays (the library's kernels), manual gradient ∂/∂x = e ⊙ (1 − t ⊙ (t + 2x)) with
    /// t = tanh x, e = exp(−x²). Like the library it allocates its arrays per call (three of them).
    /// </summary>
    public static (double Value, double[] Grad) HandWritten(double[] x)
    {
        var t = new double[x.Length];
        var e = new double[x.Length];
        var g = new double[x.Length];
        TensorPrimitives.Tanh(x, t);
        TensorPrimitives.Multiply(x, x, e);
        TensorPrimitives.Negate(e, e);
        TensorPrimitives.Exp(e, e);
        var value = TensorPrimitives.Dot(t, e);
        TensorPrimitives.MultiplyAdd(x, 2.0, t, g);   // t + 2x
        TensorPrimitives.Multiply(g, t, g);           // t ⊙ (t + 2x)
        TensorPrimitives.Subtract(1.0, g, g);
        TensorPrimitives.Multiply(g, e, g);
        return (value, g);
    }
}

[BenchmarkCategory("W4")]
public class W4_Elementwise
{
    private double[] x = null!;
    private Value xValue;
    private Func<Value, (Value Value, Value Grad)> valueAndGrad = null!;
    private Func<Value, (Value Value, Value Grad)> compiled = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        x = Elementwise.MakeX();
        xValue = Value.FromArray(x);
        valueAndGrad = AD.ValueAndGrad(Elementwise.F);
        compiled = Compiled.ValueAndGrad(Elementwise.F);
    }

    [Benchmark(Description = "library gradient")]
    public (Value Value, Value Grad) LibraryGrad() => valueAndGrad(xValue);

    [Benchmark(Description = "compiled gradient")]
    public (Value Value, Value Grad) CompiledGrad() => compiled(xValue);

    [Benchmark(Description = "compile (trace, program, first call)")]
    public (Value Value, Value Grad) Compile() => Compiled.ValueAndGrad(Elementwise.F)(xValue);

    [Benchmark(Description = "library forward")]
    public Value LibraryForward() => Elementwise.F(Expr.Var("x", xValue)).Value;

    [Benchmark(Description = "hand-written gradient")]
    public (double Value, double[] Grad) HandWrittenGrad() => Elementwise.HandWritten(x);
}
