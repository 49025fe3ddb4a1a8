using System;
using System.Collections.Generic;
using System.Linq;
using BenchmarkDotNet.Attributes;
using Functional.Autodiff.Training;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// P: the data-parallel mini-batch gradient (<see cref="DataParallel.ValueAndGrad{T, TTraced, TExample}"/>) of the W3
/// MLP (784 → 256 tanh → 10, mean softmax cross-entropy) on a batch of 256, split into 1, 2 or 4 chunks. One chunk is
/// the sequential baseline (the whole batch's gradient on the calling thread); the speed-up on n cores is
/// time(1) / time(chunks). MathNet's products stay on one thread (<see cref="Settings"/>), so the only parallelism is
/// the chunks'. Each chunk's inputs are copied out of the batch's row-major array, as a user's loss would build them.
/// </summary>
[BenchmarkCategory("P")]
public class P_DataParallel
{
    public const int Batch = 256;

    [Params(1, 2, 4)]
    public int Chunks { get; set; }

    private MlpData data = null!;
    private Params p = null!;
    private double[] rows = null!;
    private int[] batch = null!;
    private Func<IReadOnlyList<int>, Func<ParamVars, Expr>> loss = null!;
    private Func<Params, IReadOnlyList<int>, (Value Loss, Params Grad)> compiledChunk = null!;
    private Func<(Params P, (Value X, Value Y) D), (Value Value, (Params P, (Value X, Value Y) D) Grad)> pairGradient = null!;
    private Func<IReadOnlyList<int>, (Value X, Value Y)> chunkData = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        data = new MlpData(42, Batch, MlpData.In, MlpData.Hidden, MlpData.Classes);
        p = data.Params();
        rows = data.X.ToRowMajorArray();
        batch = Enumerable.Range(0, Batch).ToArray();
        loss = chunk =>
        {
            int start = chunk[0], n = chunk.Count;
            var x = Expr.Const(Value.FromRowMajor(n, MlpData.In, rows.AsSpan(start * MlpData.In, n * MlpData.In)));
            var labels = data.Labels[start..(start + n)];
            return v => Mlp.Loss(x, v["W1"], v["b1"], v["W2"], v["b2"], labels);
        };
        // The chunk's inputs and classes are inputs of one compiled function (a program per chunk size), differentiated
        // by the parameters only.
        var classes = Array.ConvertAll(data.Labels, l => (double)l);
        var vg = Compiled.ValueAndGrad<(Params P, Value X, Value Y), (ParamVars P, Expr X, Expr Y)>(
            t => Mlp.Loss(t.X, t.P["W1"], t.P["b1"], t.P["W2"], t.P["b2"], t.Y), Wrt.Args(0));
        compiledChunk = (parameters, chunk) =>
        {
            int start = chunk[0], n = chunk.Count;
            var x = Value.FromRowMajor(n, MlpData.In, rows.AsSpan(start * MlpData.In, n * MlpData.In));
            var y = Value.FromArray(classes[start..(start + n)]);
            var (l, g) = vg((parameters, x, y));
            return (l, g.P);
        };
        // The same loss as a compiled function of (parameters, chunk data), for the overload that keeps each chunk's
        // gradients in its program's buffers until they are added.
        pairGradient = Compiled.ValueAndGrad<(Params P, (Value X, Value Y) D), (ParamVars P, (Expr X, Expr Y) D)>(
            t => Mlp.Loss(t.D.X, t.P["W1"], t.P["b1"], t.P["W2"], t.P["b2"], t.D.Y), Wrt.Args(0));
        chunkData = chunk =>
        {
            int start = chunk[0], n = chunk.Count;
            return (Value.FromRowMajor(n, MlpData.In, rows.AsSpan(start * MlpData.In, n * MlpData.In)), Value.FromArray(classes[start..(start + n)]));
        };
    }

    [Benchmark(Description = "data-parallel gradient, batch 256")]
    public (double Loss, Params Grad) Gradient() => DataParallel.ValueAndGrad<Params, ParamVars, int>(loss, p, batch, Chunks);

    [Benchmark(Description = "data-parallel compiled gradient, batch 256")]
    public (double Loss, Params Grad) CompiledGradient() => DataParallel.ValueAndGrad(compiledChunk, p, batch, Chunks);

    [Benchmark(Description = "data-parallel compiled gradient of (parameters, data), batch 256")]
    public (double Loss, Params Grad) CompiledPairGradient() => DataParallel.ValueAndGrad(pairGradient, p, chunkData, batch, Chunks);
}

/// <summary>
/// T: one training step, forward, gradient and Adam update (lr 1e-3, PyTorch's defaults), of the digits MLP
/// (batch 32, 64 → 32 tanh → 10) and of the W3 MLP (batch 64, 784 → 256 tanh → 10), on SplitMix64 data (seed 42).
/// The library: <see cref="AD.ValueAndGrad(Func{ParamVars, Expr})"/> and <see cref="Optimizer.Step(Params, Params, OptimizerState)"/>,
/// a new parameters value and state per step. Hand-written: <see cref="Mlp.HandWritten"/>'s gradient and Adam in place
/// on its own arrays. Every call is one step from the same parameters and the state after one step (so the work does
/// not drift with the parameters); BenchmarkDotNet's Allocated column is the steady-state allocation per step.
/// torch_bench.py times the same step with torch.optim.Adam (float64).
/// </summary>
[BenchmarkCategory("T")]
public class T_TrainStep
{
    [Params("digits", "W3")]
    public string Model { get; set; } = "digits";

    private MlpData data = null!;
    private Params p = null!;
    private OptimizerState s = null!;
    private Optimizer adam = null!;
    private Func<Params, (Value Value, Params Grad)> valueAndGrad = null!;
    private Func<Params, (Value Value, Params Grad)> compiled = null!;
    private HandAdam hand = null!;

    public static MlpData DataOf(string model) => model == "digits" ? new MlpData(42, 32, 64, 32, 10) : new MlpData();

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        data = DataOf(Model);
        var x = Expr.Const(data.X);
        var labels = data.Labels;
        valueAndGrad = AD.ValueAndGrad((ParamVars v) => Mlp.Loss(x, v["W1"], v["b1"], v["W2"], v["b2"], labels));
        compiled = Compiled.ValueAndGrad((ParamVars v) => Mlp.Loss(x, v["W1"], v["b1"], v["W2"], v["b2"], labels));
        adam = Optimizer.Adam(1e-3);
        var p0 = data.Params();
        (p, s) = adam.Step(p0, valueAndGrad(p0).Grad, adam.Init(p0));
        hand = new HandAdam(data);
        hand.Step(Mlp.HandWritten(data));
    }

    [Benchmark(Description = "library step (forward, gradient, Adam)")]
    public (Params, OptimizerState) LibraryStep() => adam.Step(p, valueAndGrad(p).Grad, s);

    [Benchmark(Description = "library step, compiled gradient")]
    public (Params, OptimizerState) CompiledStep() => adam.Step(p, compiled(p).Grad, s);

    [Benchmark(Description = "hand-written step (forward, gradient, Adam in place)")]
    public double HandWrittenStep()
    {
        var g = Mlp.HandWritten(data);
        hand.Step(g);
        return g.Loss;
    }
}

/// <summary>Adam as a hand-written training loop does it: moments and parameters updated in place (PyTorch's formula).</summary>
public sealed class HandAdam
{
    private const double Lr = 1e-3, B1 = 0.9, B2 = 0.999, Eps = 1e-8;
    private readonly double[][] param, m, v;
    private int t;

    public HandAdam(MlpData d)
    {
        param = [d.W1.ToColumnMajorArray(), d.B1.ToArray(), d.W2.ToColumnMajorArray(), d.B2.ToArray()];
        m = param.Select(a => new double[a.Length]).ToArray();
        v = param.Select(a => new double[a.Length]).ToArray();
    }

    public void Step(Mlp.Gradient g)
    {
        t++;
        double bc1 = 1 - Math.Pow(B1, t), bc2Sqrt = Math.Sqrt(1 - Math.Pow(B2, t));
        Update(0, g.W1.AsColumnMajorArray(), bc1, bc2Sqrt);
        Update(1, g.B1.AsArray(), bc1, bc2Sqrt);
        Update(2, g.W2.AsColumnMajorArray(), bc1, bc2Sqrt);
        Update(3, g.B2.AsArray(), bc1, bc2Sqrt);
    }

    private void Update(int k, double[] g, double bc1, double bc2Sqrt)
    {
        double[] p = param[k], mk = m[k], vk = v[k];
        for (var i = 0; i < p.Length; i++)
        {
            mk[i] = B1 * mk[i] + (1 - B1) * g[i];
            vk[i] = B2 * vk[i] + (1 - B2) * g[i] * g[i];
            p[i] -= Lr * (mk[i] / bc1) / (Math.Sqrt(vk[i]) / bc2Sqrt + Eps);
        }
    }
}
