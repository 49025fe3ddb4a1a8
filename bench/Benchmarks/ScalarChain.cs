using System;
using BenchmarkDotNet.Attributes;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Workload 1: a chain of 1000 scalar ops, cycling x + 0.5, x · 0.8, tanh, exp, sin. Every value stays in
/// (0.3, 2.8), so the chain is finite and bounded; forward and gradient at x = 0.3.
/// </summary>
public static class ScalarChain
{
    public const int Ops = 1000;
    public const double X0 = 0.3;

    /// <summary>The chain, written with the library's operators.</summary>
    public static Expr Build(Expr x)
    {
        for (var i = 0; i < Ops; i++)
        {
            x = (i % 5) switch
            {
                0 => x + 0.5,
                1 => x * 0.8,
                2 => Expr.Tanh(x),
                3 => Expr.Exp(x),
                _ => Expr.Sin(x),
            };
        }
        return x;
    }

    /// <summary>Plain doubles: the forward pass keeps every intermediate, the backward pass walks them back.</summary>
    public static (double Value, double Grad) HandWritten(double x0)
    {
        Span<double> tape = stackalloc double[Ops + 1];
        var x = x0;
        tape[0] = x;
        for (var i = 0; i < Ops; i++)
        {
            x = (i % 5) switch
            {
                0 => x + 0.5,
                1 => x * 0.8,
                2 => Math.Tanh(x),
                3 => Math.Exp(x),
                _ => Math.Sin(x),
            };
            tape[i + 1] = x;
        }
        var g = 1.0;
        for (var i = Ops - 1; i >= 0; i--)
        {
            switch (i % 5)
            {
                case 0: break;                                               // d(x + c) = 1
                case 1: g *= 0.8; break;
                case 2: { var y = tape[i + 1]; g *= 1 - y * y; break; }     // tanh' = 1 − y²
                case 3: g *= tape[i + 1]; break;                             // exp' = y
                default: g *= Math.Cos(tape[i]); break;                      // sin' = cos x
            }
        }
        return (x, g);
    }
}

[BenchmarkCategory("W1")]
public class W1_ScalarChain
{
    private Func<Value, (Value Value, Value Grad)> valueAndGrad = null!;
    private Func<Value, (Value Value, Value Grad)> compiled = null!;
    private Value x0;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        valueAndGrad = AD.ValueAndGrad(ScalarChain.Build);
        compiled = Compiled.ValueAndGrad(ScalarChain.Build);
        x0 = Value.Scalar(ScalarChain.X0);
    }

    [Benchmark(Description = "library gradient")]
    public (Value Value, Value Grad) LibraryGrad() => valueAndGrad(x0);

    [Benchmark(Description = "compiled gradient")]
    public (Value Value, Value Grad) CompiledGrad() => compiled(x0);

    [Benchmark(Description = "compile (trace, program, first call)")]
    public (Value Value, Value Grad) Compile() => Compiled.ValueAndGrad(ScalarChain.Build)(x0);

    [Benchmark(Description = "library forward")]
    public Value LibraryForward() => ScalarChain.Build(Expr.Var("x", x0)).Value;

    [Benchmark(Description = "hand-written gradient")]
    public (double Value, double Grad) HandWrittenGrad() => ScalarChain.HandWritten(ScalarChain.X0);
}
