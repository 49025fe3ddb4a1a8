using System;
using System.Numerics.Tensors;
using BenchmarkDotNet.Attributes;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Workload 3: the mean softmax cross-entropy of a 784 → 256 (tanh) → 10 MLP on a batch of 64, with integer labels;
/// gradient with respect to W1, b1, W2, b2. Data from <see cref="SplitMix64"/> with seed 42, in the order
/// torch_bench.py draws it: X, W1, b1, W2, b2, labels.
/// </summary>
public sealed class MlpData
{
    public const int Batch = 64, In = 784, Hidden = 256, Classes = 10;

    public Matrix<double> X { get; }
    public Matrix<double> W1 { get; }
    public Vector<double> B1 { get; }
    public Matrix<double> W2 { get; }
    public Vector<double> B2 { get; }
    public int[] Labels { get; }

    public MlpData(ulong seed = 42) : this(seed, Batch, In, Hidden, Classes) { }

    /// <summary>Data of other shapes (the training-step benchmarks' digits MLP), drawn in the same order.</summary>
    public MlpData(ulong seed, int batch, int inputs, int hidden, int classes)
    {
        var rng = new SplitMix64(seed);
        var a1 = 1 / Math.Sqrt(inputs);
        var a2 = 1 / Math.Sqrt(hidden);
        X = rng.Matrix(batch, inputs, null);
        W1 = rng.Matrix(inputs, hidden, a1);
        B1 = rng.Vector(hidden, a1);
        W2 = rng.Matrix(hidden, classes, a2);
        B2 = rng.Vector(classes, a2);
        Labels = new int[batch];
        for (var i = 0; i < batch; i++) Labels[i] = (int)(rng.NextDouble() * classes);
    }

    public Params Params() => Autodiff.Params.Of(("W1", W1), ("b1", B1), ("W2", W2), ("b2", B2));
}

public static class Mlp
{
    /// <summary>The loss with the library's ops.</summary>
    public static Expr Loss(Expr x, Expr w1, Expr b1, Expr w2, Expr b2, int[] labels)
    {
        var h = Expr.Tanh(Expr.MatMul(x, w1) + b1);
        var logits = Expr.MatMul(h, w2) + b2;
        return Expr.SoftmaxCrossEntropy(logits, labels);
    }

    /// <summary>The loss with the classes as a graph (an input of a compiled function).</summary>
    public static Expr Loss(Expr x, Expr w1, Expr b1, Expr w2, Expr b2, Expr classes)
    {
        var h = Expr.Tanh(Expr.MatMul(x, w1) + b1);
        var logits = Expr.MatMul(h, w2) + b2;
        return Expr.SoftmaxCrossEntropy(logits, classes);
    }

    public readonly record struct Gradient(double Loss, Matrix<double> W1, Vector<double> B1, Matrix<double> W2, Vector<double> B2);

    /// <summary>
    /// A manual backward pass on MathNet's column-major storage: the products on the library's own GEMM (the kernel
    /// behind matmul, through <see cref="Kernels.MatMul"/>, with the same transpose flags the library's reverse rule
    /// passes, so the thread count and the OpenBLAS opt-in apply alike), TensorPrimitives for the element-wise parts,
    /// everything allocated afresh per call like the library's values. The ratio library/hand-written is then the
    /// library's own overhead (graph, rules, element-wise passes), not a difference of product kernels.
    /// </summary>
    public static Gradient HandWritten(MlpData d)
    {
        int m = d.X.RowCount, inputs = d.X.ColumnCount, hidden = d.W1.ColumnCount, classes = d.W2.ColumnCount;
        double[] x = d.X.AsColumnMajorArray(), w1 = d.W1.AsColumnMajorArray(), w2 = d.W2.AsColumnMajorArray();
        var hd = Kernels.MatMul(x, false, w1, false, m, inputs, hidden);           // 64×256 = X·W1
        for (var j = 0; j < hidden; j++)
        {
            var col = hd.AsSpan(j * m, m);
            TensorPrimitives.Add(col, d.B1[j], col);
        }
        TensorPrimitives.Tanh(hd, hd);

        var zd = Kernels.MatMul(hd, false, w2, false, m, hidden, classes);        // 64×10 logits, then dL/dlogits in place
        var loss = 0.0;
        for (var i = 0; i < m; i++)
        {
            var max = double.NegativeInfinity;
            for (var j = 0; j < classes; j++) max = Math.Max(max, zd[j * m + i] + d.B2[j]);
            var sum = 0.0;
            for (var j = 0; j < classes; j++) sum += Math.Exp(zd[j * m + i] + d.B2[j] - max);
            var lse = max + Math.Log(sum);
            var label = d.Labels[i];
            loss += lse - (zd[label * m + i] + d.B2[label]);
            for (var j = 0; j < classes; j++) zd[j * m + i] = Math.Exp(zd[j * m + i] + d.B2[j] - lse) / m;
            zd[label * m + i] -= 1.0 / m;
        }
        loss /= m;
        var z = Matrix<double>.Build.Dense(m, classes, zd);

        var dW2 = Kernels.MatMul(hd, true, zd, false, hidden, m, classes);        // 256×10 = hᵀ·dZ
        var db2 = z.ColumnSums();
        var dhd = Kernels.MatMul(zd, false, w2, true, m, classes, hidden);        // 64×256 = dZ·W2ᵀ
        var tanhPrime = new double[hd.Length];
        TensorPrimitives.Multiply(hd, hd, tanhPrime);
        TensorPrimitives.Subtract(1.0, tanhPrime, tanhPrime);          // 1 − h²
        TensorPrimitives.Multiply(dhd, tanhPrime, dhd);                // dA1
        var dh = Matrix<double>.Build.Dense(m, hidden, dhd);
        var dW1 = Kernels.MatMul(x, true, dhd, false, inputs, m, hidden);         // 784×256 = Xᵀ·dA1
        var db1 = dh.ColumnSums();
        return new Gradient(loss, Matrix<double>.Build.Dense(inputs, hidden, dW1), db1, Matrix<double>.Build.Dense(hidden, classes, dW2), db2);
    }
}

[BenchmarkCategory("W3")]
public class W3_Mlp
{
    private MlpData data = null!;
    private Params p = null!;
    private Expr x = null!;
    private Func<Params, (Value Value, Params Grad)> valueAndGrad = null!;
    private Func<Params, (Value Value, Params Grad)> compiled = null!;
    private Func<ParamVars, Expr> loss = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        data = new MlpData();
        p = data.Params();
        x = Expr.Const(data.X);
        var labels = data.Labels;
        loss = v => Mlp.Loss(x, v["W1"], v["b1"], v["W2"], v["b2"], labels);
        valueAndGrad = AD.ValueAndGrad(loss);
        compiled = Compiled.ValueAndGrad(loss);
    }

    [Benchmark(Description = "library gradient")]
    public (Value Value, Params Grad) LibraryGrad() => valueAndGrad(p);

    [Benchmark(Description = "compiled gradient")]
    public (Value Value, Params Grad) CompiledGrad() => compiled(p);

    [Benchmark(Description = "compile (trace, program, first call)")]
    public (Value Value, Params Grad) Compile() => Compiled.ValueAndGrad(loss)(p);

    [Benchmark(Description = "library forward")]
    public Value LibraryForward() =>
        Mlp.Loss(x, Expr.Var("W1", p["W1"]), Expr.Var("b1", p["b1"]), Expr.Var("W2", p["W2"]), Expr.Var("b2", p["b2"]), data.Labels).Value;

    [Benchmark(Description = "hand-written gradient")]
    public Mlp.Gradient HandWrittenGrad() => Mlp.HandWritten(data);
}
