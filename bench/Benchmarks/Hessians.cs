using System;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Second-order workloads: the Hessian of f(x) = sum(tanh(A·x)) for n = 10 and 100 (A n×n, fixed), and the
/// Hessian-vector product of the same f for n = 10⁴ with A of 100 rows (a 10⁴×10⁴ A would be 800 MB).
/// Data from SplitMix64 seed 7, as in bench/torch_bench.py: A uniform in ±1/√n, x and v uniform in ±1.
/// </summary>
public static class HessianData
{
    public static (Expr A, Value X, Value V) Make(int rows, int n)
    {
        var rng = new SplitMix64(7);
        var a = rng.Matrix(rows, n, 1 / Math.Sqrt(n));
        var x = rng.Vector(n, 1);
        var v = rng.Vector(n, 1);
        return (Expr.Const(a), Value.FromVector(x), Value.FromVector(v));
    }

    public static Func<Expr, Expr> F(Expr a) => x => Expr.Sum(Expr.Tanh(Expr.MatMul(a, x)));
}

[BenchmarkCategory("H")]
public class H_Hessian
{
    [Params(10, 100)]
    public int N { get; set; }

    private Func<Value, Matrix<double>> hessian = null!;
    private Func<Value, Matrix<double>> compiled = null!;
    private Value x;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        var (a, x0, _) = HessianData.Make(N, N);
        hessian = AD.Hessian(HessianData.F(a));
        // Traced once here: the Hessian-vector program, run once per column.
        compiled = Compiled.Hessian(HessianData.F(a));
        x = x0;
        compiled(x);
    }

    [Benchmark(Description = "library Hessian")]
    public Matrix<double> LibraryHessian() => hessian(x);

    [Benchmark(Description = "compiled Hessian")]
    public Matrix<double> CompiledHessian() => compiled(x);
}

[BenchmarkCategory("H")]
public class H_Hvp
{
    public const int N = 10_000;
    public const int Rows = 100;

    private Func<Value, Value, Value> hvp = null!;
    private Func<Value, Value, Value> compiled = null!;
    private Value x, v;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        var (a, x0, v0) = HessianData.Make(Rows, N);
        hvp = AD.Hvp(HessianData.F(a));
        // Traced once here: one program for the gradient graph and its tangent.
        compiled = Compiled.Hvp(HessianData.F(a));
        (x, v) = (x0, v0);
        compiled(x, v);
    }

    [Benchmark(Description = "library Hvp")]
    public Value LibraryHvp() => hvp(x, v);

    [Benchmark(Description = "compiled Hvp")]
    public Value CompiledHvp() => compiled(x, v);
}
