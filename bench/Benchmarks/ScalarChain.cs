using System;
using System.Linq.Expressions;
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

    /// <summary>The chain as a C# expression tree (what the lambda x => ... written out would be), built in a loop.</summary>
    public static Expression<Func<double, double>> BuildExpression()
    {
        var x = Expression.Parameter(typeof(double), "x");
        Expression e = x;
        for (var i = 0; i < Ops; i++)
        {
            e = (i % 5) switch
            {
                0 => Expression.Add(e, Expression.Constant(0.5)),
                1 => Expression.Multiply(e, Expression.Constant(0.8)),
                2 => Expression.Call(typeof(Math).GetMethod(nameof(Math.Tanh), [typeof(double)])!, e),
                3 => Expression.Call(typeof(Math).GetMethod(nameof(Math.Exp), [typeof(double)])!, e),
                _ => Expression.Call(typeof(Math).GetMethod(nameof(Math.Sin), [typeof(double)])!, e),
            };
        }
        return Expression.Lambda<Func<double, double>>(e, x);
    }

    /// <summary>Plain doubles: the forward pass keeps every intermediate, the backward pass walks them back.</summary>
    public static (double Value, double Grad) HandWritten(double x0) => HandWritten<RuntimeMath>(x0);

    /// <summary>
    /// The same code on the library's scalar kernels (ElementwiseMath, lane-independent, which the ops and the compiled
    /// delegates use) instead of Math's: what the delegates do, written by hand, so the ratio shows the emitter's cost.
    /// </summary>
    public static (double Value, double Grad) HandWrittenLibraryKernels(double x0) => HandWritten<LibraryMath>(x0);

    public interface IMath
    {
        static abstract double Tanh(double x);
        static abstract double Exp(double x);
        static abstract double Sin(double x);
        static abstract double Cos(double x);
    }

    public readonly struct RuntimeMath : IMath
    {
        public static double Tanh(double x) => Math.Tanh(x);
        public static double Exp(double x) => Math.Exp(x);
        public static double Sin(double x) => Math.Sin(x);
        public static double Cos(double x) => Math.Cos(x);
    }

    public readonly struct LibraryMath : IMath
    {
        public static double Tanh(double x) => ElementwiseMath.Tanh(x);
        public static double Exp(double x) => ElementwiseMath.Exp(x);
        public static double Sin(double x) => ElementwiseMath.Sin(x);
        public static double Cos(double x) => ElementwiseMath.Cos(x);
    }

    private static (double Value, double Grad) HandWritten<M>(double x0) where M : struct, IMath
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
                2 => M.Tanh(x),
                3 => M.Exp(x),
                _ => M.Sin(x),
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
                default: g *= M.Cos(tape[i]); break;                         // sin' = cos x
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
    private Func<double, (double Value, double Grad)> expressionTree = null!;
    private Func<double, (double Value, double Grad)> scalarGraph = null!;
    private Value x0;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        valueAndGrad = AD.ValueAndGrad(ScalarChain.Build);
        compiled = Compiled.ValueAndGrad(ScalarChain.Build);
        x0 = Value.Scalar(ScalarChain.X0);
        expressionTree = AD.CompileGrad(ScalarChain.BuildExpression());
        scalarGraph = AD.CompileScalarGrad(ScalarChain.Build);
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

    [Benchmark(Description = "hand-written gradient, library kernels")]
    public (double Value, double Grad) HandWrittenLibraryKernelsGrad() => ScalarChain.HandWrittenLibraryKernels(ScalarChain.X0);

    /// <summary>The chain as an expression tree, compiled once (in the setup) by AD.CompileGrad; the call runs the delegate.</summary>
    [Benchmark(Description = "expression-tree delegate gradient")]
    public (double Value, double Grad) ExpressionTreeGrad() => expressionTree(ScalarChain.X0);

    /// <summary>The chain built with Expr, compiled once by AD.CompileScalarGrad (the same emitter).</summary>
    [Benchmark(Description = "scalar-graph delegate gradient")]
    public (double Value, double Grad) ScalarGraphGrad() => scalarGraph(ScalarChain.X0);
}
