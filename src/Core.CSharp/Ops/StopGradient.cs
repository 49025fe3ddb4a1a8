using System;
using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// y = x, but no derivative passes through: ẏ = 0, x̄ = 0, at every order (PyTorch's <c>detach</c>,
/// TensorFlow's <c>stop_gradient</c>). A node like any other, so it shows up when a graph is printed or drawn.
/// </summary>
public sealed class StopGradientOp : Op
{
    /// <summary>The op.</summary>
    public static readonly StopGradientOp Instance = new();
    private StopGradientOp() { }

    /// <inheritdoc/>
    public override string Name => "stop_gradient";
    /// <inheritdoc/>
    public override int Arity => 1;
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => x[0];
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) => x[0];
    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => null;
    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) => null;
}
