using System;
using BenchmarkDotNet.Attributes;

namespace Functional.Autodiff.Benchmarks;

/// <summary>Workload 2: seed 000's z = 3·xᵀ(w + 2)∘² with 3-vectors, x = 0.5s, w = ones; value and ∂z/∂w.</summary>
public static class Seed000
{
    public const int N = 3;

    /// <summary>x as a constant node, built once (the seed's test converts a MathNet vector on every call instead).</summary>
    public static readonly Expr X = Expr.Const(Value.FromArray(0.5, 0.5, 0.5));

    public static readonly Value W = Value.FromArray(1.0, 1.0, 1.0);

    public static Expr F(Expr w) => 3 * Expr.Dot(X, (w + 2).Pow(2));

    private static readonly double[] XPlain = [0.5, 0.5, 0.5];
    public static readonly double[] WPlain = [1.0, 1.0, 1.0];

    /// <summary>Plain doubles: z = 3 Σ xₖ(wₖ + 2)², ∂z/∂wₖ = 6 xₖ(wₖ + 2); returns a fresh gradient array like the library.</summary>
    public static (double Value, double[] Grad) HandWritten(double[] w)
    {
        var x = XPlain;
        var g = new double[N];
        var z = 0.0;
        for (var k = 0; k < N; k++)
        {
            var u = w[k] + 2;
            z += x[k] * u * u;
            g[k] = 6 * x[k] * u;
        }
        return (3 * z, g);
    }
}

[BenchmarkCategory("W2")]
public class W2_Seed000
{
    private Func<Value, (Value Value, Value Grad)> valueAndGrad = null!;
    private Func<Value, (Value Value, Value Grad)> compiled = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        valueAndGrad = AD.ValueAndGrad(Seed000.F);
        compiled = Compiled.ValueAndGrad(Seed000.F);
    }

    [Benchmark(Description = "library gradient")]
    public (Value Value, Value Grad) LibraryGrad() => valueAndGrad(Seed000.W);

    [Benchmark(Description = "compiled gradient")]
    public (Value Value, Value Grad) CompiledGrad() => compiled(Seed000.W);

    [Benchmark(Description = "compile (trace, program, first call)")]
    public (Value Value, Value Grad) Compile() => Compiled.ValueAndGrad(Seed000.F)(Seed000.W);

    [Benchmark(Description = "library forward")]
    public Value LibraryForward() => Seed000.F(Expr.Var("w", Seed000.W)).Value;

    [Benchmark(Description = "hand-written gradient")]
    public (double Value, double[] Grad) HandWrittenGrad() => Seed000.HandWritten(Seed000.WPlain);
}
