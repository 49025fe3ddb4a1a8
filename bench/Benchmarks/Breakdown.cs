using System.Collections.Generic;
using System.Collections.Immutable;
using BenchmarkDotNet.Attributes;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Where the library's gradient time goes, through its public API: a traversal of a graph built beforehand, and
/// the gradient graph (AD.Gradients) of a graph built beforehand, so forward + these ≈ AD.ValueAndGrad.
/// Not part of the ratio table; the runner prints them below it.
/// </summary>
[BenchmarkCategory("Breakdown")]
public class D_Breakdown
{
    private Var x1 = null!, w2 = null!, x4 = null!;
    private Expr y1 = null!, z2 = null!, y4 = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        x1 = Expr.Var("x", Value.Scalar(ScalarChain.X0));
        y1 = ScalarChain.Build(x1);
        w2 = Expr.Var("w", Seed000.W);
        z2 = Seed000.F(w2);
        x4 = Expr.Var("x", Value.FromArray(Elementwise.MakeX()));
        y4 = Elementwise.F(x4);
    }

    [Benchmark(Description = "W1 Graph.PostOrder of the built chain")]
    public IReadOnlyList<Expr> W1PostOrder() => Graph.PostOrder(y1);

    [Benchmark(Description = "W1 AD.Gradients of the built chain")]
    public ImmutableArray<Expr> W1Gradients() => AD.Gradients(y1, x1);

    [Benchmark(Description = "W2 AD.Gradients of the built graph")]
    public ImmutableArray<Expr> W2Gradients() => AD.Gradients(z2, w2);

    [Benchmark(Description = "W4 AD.Gradients of the built graph")]
    public ImmutableArray<Expr> W4Gradients() => AD.Gradients(y4, x4);
}
