using System;
using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Functional.Autodiff;

// The four element-wise arithmetic ops, broadcasting as NumPy does (see Broadcasting), and negation.
// Each partial is the cotangent at the output's shape; BinaryElementwiseOp sums it back to a broadcast input.

/// <summary>y = a + b    ẏ = ȧ + ḃ    ā = ȳ, b̄ = ȳ, broadcasting as NumPy does.</summary>
public sealed class AddOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly AddOp Instance = new();
    private AddOp() { }

    /// <inheritdoc/>
    public override string Name => "add";
    /// <inheritdoc/>
    public override string Infix => "+";

    /// <inheritdoc/>
    public override bool IsCommutative => true;
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => a + b;
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Add(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, double b, Span<double> y) => TensorPrimitives.Add(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(double a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Add(b, a, y);
    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => ybar;
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) => AddOrNull(da, db);
}

/// <summary>y = a − b    ẏ = ȧ − ḃ    ā = ȳ, b̄ = −ȳ, broadcasting as NumPy does.</summary>
public sealed class SubOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SubOp Instance = new();
    private SubOp() { }

    /// <inheritdoc/>
    public override string Name => "sub";
    /// <inheritdoc/>
    public override string Infix => "-";
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => a - b;
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Subtract(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, double b, Span<double> y) => TensorPrimitives.Subtract(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(double a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Subtract(a, b, y);
    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => i == 0 ? ybar : -ybar;
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) =>
        db is null ? da : da is null ? -db : da - db;
}

/// <summary>y = a ⊙ b    ẏ = ȧ ⊙ b + a ⊙ ḃ    ā = ȳ ⊙ b, b̄ = ȳ ⊙ a.</summary>
public sealed class MulOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly MulOp Instance = new();
    private MulOp() { }

    /// <inheritdoc/>
    public override string Name => "mul";
    /// <inheritdoc/>
    public override string Infix => "*";

    /// <inheritdoc/>
    public override bool IsCommutative => true;
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => a * b;
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Multiply(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, double b, Span<double> y) => TensorPrimitives.Multiply(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(double a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Multiply(b, a, y);
    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => i == 0 ? ybar * b : ybar * a;
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) =>
        AddOrNull(da is null ? null : da * b, db is null ? null : a * db);
}

/// <summary>y = a ⊘ b    ẏ = (ȧ − y ⊙ ḃ) ⊘ b    ā = ȳ ⊘ b, b̄ = −ȳ ⊙ y ⊘ b.</summary>
public sealed class DivOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly DivOp Instance = new();
    private DivOp() { }

    /// <inheritdoc/>
    public override string Name => "div";
    /// <inheritdoc/>
    public override string Infix => "/";
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => a / b;
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Divide(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> a, double b, Span<double> y) => TensorPrimitives.Divide(a, b, y);
    /// <inheritdoc/>
    protected override void Apply(double a, ReadOnlySpan<double> b, Span<double> y) => TensorPrimitives.Divide(a, b, y);
    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => i == 0 ? ybar / b : -(ybar * y / b);
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) =>
        da is null && db is null ? null
        : db is null ? da! / b
        : da is null ? -(y * db) / b
        : (da - y * db) / b;
}

/// <summary>y = −x    ẏ = −ẋ    x̄ = −ȳ.</summary>
public sealed class NegOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly NegOp Instance = new();
    private NegOp() { }

    /// <inheritdoc/>
    public override string Name => "neg";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => x[0];

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var a = x[0];
        if (a.Shape.IsScalar) return Value.Scalar(-a.ToScalar());
        var y = new double[a.Shape.Size];
        TensorPrimitives.Negate(a.Span, y);
        return Value.Own(a.Shape, y);
    }

    internal override bool WritesInto => true;

    internal override void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) => TensorPrimitives.Negate(x[0].Span, dest);

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => -ybar;
}
