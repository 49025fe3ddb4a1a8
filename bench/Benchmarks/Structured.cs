using System;
using System.Collections.Generic;
using BenchmarkDotNet.Attributes;

namespace Functional.Autodiff.Benchmarks;

/// <summary>A two-field record for <see cref="S_Structured"/>: a structure the combinators take by opting in.</summary>
[Structured]
public sealed record Pair<T>(T A, T B);

/// <summary>
/// S: what the structure mechanism costs. The same function of three vector(8) leaves, f = Σ sin(a)·b + Σ c·c, given
/// as three arguments, as a value tuple, as a <see cref="Params"/>, as an array and as a record holding two tuples
/// (a fourth leaf, unused); each differentiates by every leaf, so the differences between them are taking the input
/// apart and putting the gradient together. The baseline is the same graph with b and c constants, differentiated
/// by a alone through the single-leaf path: a lower bound, one gradient instead of three.
/// </summary>
[BenchmarkCategory("S")]
public class S_Structured
{
    private static readonly Value A = Value.FromArray(0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8);
    private static readonly Value B = Value.FromArray(1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3);
    private static readonly Value C = Value.FromArray(-0.5, 0.25, 1.5, -2.0, 0.75, 0.5, -0.25, 1.0);

    private static Expr F(Expr a, Expr b, Expr c) => Expr.Sum(Expr.Sin(a) * b) + Expr.Sum(c * c);

    private Func<Value, (Value Value, Value Grad)> one = null!;
    private Func<Value, Value, Value, (Value Value, (Value, Value, Value) Grad)> three = null!;
    private Func<(Value, Value, Value), (Value Value, (Value, Value, Value) Grad)> tuple = null!;
    private Func<Params, (Value Value, Params Grad)> named = null!;
    private Func<Value[], (Value Value, Value[] Grad)> array = null!;
    private Func<Pair<(Value, Value)>, (Value Value, Pair<(Value, Value)> Grad)> record = null!;
    private Params p = null!;
    private Pair<(Value, Value)> pair = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        one = AD.ValueAndGrad(x => F(x, Expr.Const(B), Expr.Const(C)));
        three = AD.ValueAndGrad((Expr a, Expr b, Expr c) => F(a, b, c));
        tuple = AD.ValueAndGrad<(Value, Value, Value), (Expr, Expr, Expr)>(t => F(t.Item1, t.Item2, t.Item3));
        named = AD.ValueAndGrad((ParamVars v) => F(v["a"], v["b"], v["c"]));
        array = AD.ValueAndGrad<Value[], Expr[]>(xs => F(xs[0], xs[1], xs[2]));
        record = AD.ValueAndGrad<Pair<(Value, Value)>, Pair<(Expr, Expr)>>(r => F(r.A.Item1, r.A.Item2, r.B.Item1));
        p = Params.Of(("a", A), ("b", B), ("c", C));
        pair = new Pair<(Value, Value)>((A, B), (C, C));
    }

    [Benchmark(Baseline = true, Description = "one Value (b, c constants)")]
    public (Value Value, Value Grad) One() => one(A);

    [Benchmark(Description = "three arguments")]
    public (Value Value, (Value, Value, Value) Grad) Three() => three(A, B, C);

    [Benchmark(Description = "value tuple")]
    public (Value Value, (Value, Value, Value) Grad) Tuple() => tuple((A, B, C));

    [Benchmark(Description = "Params")]
    public (Value Value, Params Grad) Named() => named(p);

    [Benchmark(Description = "array")]
    public (Value Value, Value[] Grad) Array() => array([A, B, C]);

    [Benchmark(Description = "record of tuples (4 leaves)")]
    public (Value Value, Pair<(Value, Value)> Grad) Record() => record(pair);
}
