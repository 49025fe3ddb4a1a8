using System;
using System.Collections.Immutable;
using System.Linq;
using System.Numerics.Tensors;

namespace Functional.Autodiff;

// Reductions over all elements or along an axis: max, min, log-sum-exp, and the product with its helper prod_others.
// Axis 0 reduces over the rows (a matrix(m, n) gives a vector(n), a vector a scalar), axis 1 over the columns (a
// matrix(m, n) gives a vector(m)); no axis reduces every element to a scalar. The sums and means along an axis are
// the existing sum, column_sums and row_sums (see Expr.Sum(Expr, int)). Every rule spreads the reduced cotangent back
// with a broadcast and sums a tangent with a reduction: the pair are each other's transposes, so JVP and VJP agree.

/// <summary>The layout and the shared graph pieces of the reductions along an axis.</summary>
internal static class AxisReduction
{
    /// <summary>The shape reduced over all elements (<paramref name="axis"/> null) or along the axis, or the error naming the op.</summary>
    public static Shape Reduced(string op, Shape s, int? axis)
    {
        if (axis is not { } a) return Shape.Scalar;
        ShapeRules.CheckAxisFits(op, s, a);
        return s.IsVector ? Shape.Scalar : Shape.Vector(a == 0 ? s.Cols : s.Rows);
    }

    /// <summary>
    /// The groups reduced: how many, how long, where group g starts in storage and the distance between its elements.
    /// One group of every element (no axis, or a vector), a column per group (axis 0) or a row per group (axis 1).
    /// </summary>
    public static (int Groups, int Length, int GroupStride, int Stride) Layout(Shape s, int? axis) =>
        axis is not { } a || !s.IsMatrix ? (1, s.Size, 0, 1)
        : a == 0 ? (s.Cols, s.Rows, s.Rows, 1)
        : (s.Rows, s.Cols, 1, s.Rows);

    /// <summary>The reduced cotangent repeated back over the input's shape (the transpose of <see cref="SumAlong"/>).</summary>
    public static Expr Spread(Expr ybar, Shape input, int? axis) =>
        axis is not { } a || !input.IsMatrix ? Expr.BroadcastTo(ybar, input)
        : a == 0 ? Expr.Create(new BroadcastRowsOp(input.Rows), ybar)
        : Expr.Create(new BroadcastColumnsOp(input.Cols), ybar);

    /// <summary>The sums over the groups (sum, column_sums or row_sums).</summary>
    public static Expr SumAlong(Expr e, int? axis) =>
        axis is not { } a || !e.Shape.IsMatrix ? Expr.Sum(e)
        : a == 0 ? Expr.Create(ColumnSumsOp.Instance, e)
        : Expr.Create(RowSumsOp.Instance, e);

    /// <summary>
    /// log-softmax over each group, from log_softmax (which normalises a vector or each row): a matrix's columns
    /// through transposes, all of a matrix's elements through a reshape. A group of one element gives 0.
    /// </summary>
    public static Expr LogSoftmaxAlong(Expr x, int? axis)
    {
        var s = x.Shape;
        if (s.IsScalar) return Expr.Const(0.0);
        if (s.IsVector) return Expr.Create(LogSoftmaxOp.Instance, x);
        return axis switch
        {
            null => Expr.Reshape(Expr.Create(LogSoftmaxOp.Instance, Expr.Reshape(x, Shape.Vector(s.Size))), s),
            0 => Expr.Transpose(Expr.Create(LogSoftmaxOp.Instance, Expr.Transpose(x))),
            _ => Expr.Create(LogSoftmaxOp.Instance, x),
        };
    }

    public static string Describe(int? axis) => axis is { } a ? $" axis {a}" : "";
}

/// <summary>The base of max, min and log_sum_exp: one input reduced over all elements, or along <see cref="Axis"/>.</summary>
public abstract class AxisReductionOp : Op
{
    private protected AxisReductionOp(string name, int? axis) =>
        Axis = axis is { } a ? ShapeRules.CheckAxis(name, a) : null;

    /// <summary>The axis reduced: 0 (over the rows; a vector's only axis), 1 (over the columns), or null for all elements.</summary>
    public int? Axis { get; }

    /// <inheritdoc/>
    public sealed override int Arity => 1;

    /// <inheritdoc/>
    public sealed override Shape InferShape(ReadOnlySpan<Shape> x) => AxisReduction.Reduced(Name, x[0], Axis);

    /// <summary>The reduction of one group of <paramref name="length"/> elements, <paramref name="stride"/> apart.</summary>
    private protected abstract double Reduce(ReadOnlySpan<double> x, int start, int length, int stride);

    /// <inheritdoc/>
    public sealed override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        if (s.IsScalar) return Value.Scalar(Reduce([x[0].ToScalar()], 0, 1, 1));
        var (groups, length, groupStride, stride) = AxisReduction.Layout(s, Axis);
        var src = x[0].Span;
        var y = new double[groups];
        for (var g = 0; g < groups; g++) y[g] = Reduce(src, g * groupStride, length, stride);
        return Axis is null || s.IsVector ? Value.Scalar(y[0]) : Value.Own(Shape.Vector(groups), y);
    }

    /// <inheritdoc/>
    public sealed override bool Equals(object? obj) => obj is AxisReductionOp o && o.GetType() == GetType() && o.Axis == Axis;
    /// <inheritdoc/>
    public sealed override int GetHashCode() => HashCode.Combine(GetType(), Axis);
    /// <inheritdoc/>
    public sealed override string ToString() => Name + AxisReduction.Describe(Axis);
}

/// <summary>
/// y = the largest element, of all (a scalar) or along <see cref="AxisReductionOp.Axis"/> (NumPy's <c>amax</c>); NaN
/// where a group holds NaN    ẏ = Σ(w ⊙ ẋ)    x̄ = w ⊙ ȳ spread back, with w = max_weights(x).
/// </summary>
/// <remarks>
/// At ties the gradient is split evenly among the elements equal to the maximum, as PyTorch's <c>torch.amax</c> does
/// (not <c>torch.max(dim)</c>, which gives it all to one index): the max of [1, 3, 3] has gradient [0, ½, ½].
/// </remarks>
public sealed class MaxOp : AxisReductionOp
{
    /// <summary>The max over all elements.</summary>
    public MaxOp() : base("max", null) { }
    /// <summary>The max along <paramref name="axis"/>: 0 over the rows (per column), 1 over the columns (per row).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    public MaxOp(int axis) : base("max", axis) { }
    /// <inheritdoc/>
    public override string Name => "max";

    private protected override double Reduce(ReadOnlySpan<double> x, int start, int length, int stride)
    {
        var m = double.NegativeInfinity;
        for (var k = 0; k < length; k++) m = Math.Max(m, x[start + k * stride]); // NaN propagates
        return m;
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        AxisReduction.Spread(ybar, x[0].Shape, Axis) * Expr.Create(new MaxWeightsOp(Axis), x[0]);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? AxisReduction.SumAlong(Expr.Create(new MaxWeightsOp(Axis), x[0]) * t, Axis) : null;
}

/// <summary>
/// y = the smallest element, of all (a scalar) or along <see cref="AxisReductionOp.Axis"/> (NumPy's <c>amin</c>); NaN
/// where a group holds NaN    ẏ = Σ(w ⊙ ẋ)    x̄ = w ⊙ ȳ spread back, with w = max_weights(−x).
/// </summary>
/// <remarks>At ties the gradient is split evenly among the elements equal to the minimum, as <c>torch.amin</c> does.</remarks>
public sealed class MinOp : AxisReductionOp
{
    /// <summary>The min over all elements.</summary>
    public MinOp() : base("min", null) { }
    /// <summary>The min along <paramref name="axis"/>: 0 over the rows (per column), 1 over the columns (per row).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    public MinOp(int axis) : base("min", axis) { }
    /// <inheritdoc/>
    public override string Name => "min";

    private protected override double Reduce(ReadOnlySpan<double> x, int start, int length, int stride)
    {
        var m = double.PositiveInfinity;
        for (var k = 0; k < length; k++) m = Math.Min(m, x[start + k * stride]); // NaN propagates
        return m;
    }

    // The minima of x are the maxima of −x (negation is exact, so ties stay ties).
    private Expr Weights(Expr x) => Expr.Create(new MaxWeightsOp(Axis), -x);

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        AxisReduction.Spread(ybar, x[0].Shape, Axis) * Weights(x[0]);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? AxisReduction.SumAlong(Weights(x[0]) * t, Axis) : null;
}

/// <summary>
/// y = log Σ eˣ, of all elements (a scalar) or along <see cref="AxisReductionOp.Axis"/>, computed as
/// max + log Σ e^{x − max}    ẏ = Σ(softmax(x) ⊙ ẋ)    x̄ = softmax(x) ⊙ ȳ spread back, the softmax over each group.
/// </summary>
/// <remarks>
/// Stable at any finite logits (at ±1e15 too): the exponentials are of x − max ≤ 0, so none overflows and the
/// largest is 1. The rules read the softmax from log_softmax, which forms x − max before anything else, not from
/// e^{x − y}: at logits near 1e15, y rounds to the logits' spacing and e^{x − y} would be off by that much. The max
/// only shifts the value and has no gradient path of its own. A group whose max is ±∞ gives that max (all −∞: −∞).
/// </remarks>
public sealed class LogSumExpOp : AxisReductionOp
{
    /// <summary>The log-sum-exp over all elements.</summary>
    public LogSumExpOp() : base("log_sum_exp", null) { }
    /// <summary>The log-sum-exp along <paramref name="axis"/>: 0 over the rows (per column), 1 over the columns (per row).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    public LogSumExpOp(int axis) : base("log_sum_exp", axis) { }
    /// <inheritdoc/>
    public override string Name => "log_sum_exp";

    private protected override double Reduce(ReadOnlySpan<double> x, int start, int length, int stride)
    {
        var max = double.NegativeInfinity;
        for (var k = 0; k < length; k++) max = Math.Max(max, x[start + k * stride]);
        if (!double.IsFinite(max)) return max; // NaN, an infinite logit, or every logit −∞
        var shifted = new double[length];
        for (var k = 0; k < length; k++) shifted[k] = x[start + k * stride] - max;
        ElementwiseMath.Exp(shifted, shifted);
        return max + ElementwiseMath.Log(TensorPrimitives.Sum<double>(shifted));
    }

    private Expr Softmax(Expr x) => Expr.Exp(AxisReduction.LogSoftmaxAlong(x, Axis));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        x[0].Shape.IsScalar ? ybar : AxisReduction.Spread(ybar, x[0].Shape, Axis) * Softmax(x[0]);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is not { } t ? null : x[0].Shape.IsScalar ? t : AxisReduction.SumAlong(Softmax(x[0]) * t, Axis);
}

/// <summary>
/// Y = the share of each element in the max of its group (all elements, or along <see cref="Axis"/>): 1/t at the t
/// elements equal to the group's max, 0 elsewhere; NaN throughout a group that holds NaN    Ẏ = 0    x̄ = 0
/// (piecewise constant). The gradient of max (and, of −x, of min), splitting ties evenly as <c>torch.amax</c>.
/// </summary>
public sealed class MaxWeightsOp : Op, IEquatable<MaxWeightsOp>
{
    /// <summary>The weights of the max along <paramref name="axis"/>, or over all elements when it is null.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    public MaxWeightsOp(int? axis) => Axis = axis is { } a ? ShapeRules.CheckAxis("max_weights", a) : null;

    /// <summary>The axis of the max: 0 (over the rows), 1 (over the columns), or null for all elements.</summary>
    public int? Axis { get; }

    /// <inheritdoc/>
    public override string Name => "max_weights";
    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        AxisReduction.Reduced(Name, x[0], Axis);
        return x[0];
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        if (s.IsScalar) return Value.Scalar(double.IsNaN(x[0].ToScalar()) ? double.NaN : 1);
        var (groups, length, groupStride, stride) = AxisReduction.Layout(s, Axis);
        var src = x[0].Span;
        var y = new double[s.Size];
        for (var g = 0; g < groups; g++)
        {
            var start = g * groupStride;
            var max = double.NegativeInfinity;
            for (var k = 0; k < length; k++) max = Math.Max(max, src[start + k * stride]);
            var ties = 0;
            for (var k = 0; k < length; k++)
                if (src[start + k * stride] == max) ties++;
            var share = ties == 0 ? double.NaN : 1.0 / ties; // no element equals a NaN max
            for (var k = 0; k < length; k++)
                if (ties == 0 || src[start + k * stride] == max) y[start + k * stride] = share;
        }
        return Value.Own(s, y);
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => null;

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) => null;

    /// <inheritdoc/>
    public bool Equals(MaxWeightsOp? other) => other is not null && other.Axis == Axis;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as MaxWeightsOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Axis ?? -1;
    /// <inheritdoc/>
    public override string ToString() => Name + AxisReduction.Describe(Axis);
}

/// <summary>
/// y = Π x, the product of all elements    ẏ = Σ(prod_others(x) ⊙ ẋ)    x̄ = ȳ prod_others(x), where element k of
/// prod_others(x) is the product of the elements other than x_k.
/// </summary>
/// <remarks>
/// Right with zeros, with no division anywhere: with exactly one zero the gradient is the product of the others at
/// the zero and 0 elsewhere, with two or more zeros it is 0 throughout (the gradient of x ↦ Π x, as PyTorch's
/// <c>prod</c> gives). The first derivative costs O(size); the second builds, per element, the product of the others
/// without it (O(size²), the size of the Hessian).
/// </remarks>
public sealed class ProdOp : Op
{
    /// <summary>The op.</summary>
    public static readonly ProdOp Instance = new();
    private ProdOp() { }
    /// <inheritdoc/>
    public override string Name => "prod";
    /// <inheritdoc/>
    public override int Arity => 1;
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => Shape.Scalar;

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        if (x[0].Shape.IsScalar) return x[0];
        var p = 1.0;
        foreach (var v in x[0].Span) p *= v;
        return Value.Scalar(p);
    }

    /// <summary>prod_others(x) at x's shape: over the elements of a vector, or of a matrix flattened (and back).</summary>
    private static Expr Others(Expr x) =>
        x.Shape.IsVector ? Expr.Create(ProdOthersOp.Instance, x)
        : Expr.Reshape(Expr.Create(ProdOthersOp.Instance, Expr.Reshape(x, Shape.Vector(x.Shape.Size))), x.Shape);

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        x[0].Shape.IsScalar ? ybar : ybar * Others(x[0]);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is not { } t ? null : x[0].Shape.IsScalar ? t : Expr.Sum(Others(x[0]) * t);
}

/// <summary>
/// Y = for each element, the product of the other elements of its vector, or of its row of a matrix (no division:
/// prefix times suffix products, so zeros are right)    Ẏ[i, j] = Σ_{k≠j} Ẋ[i, k] Π_{l≠j,k} X[i, l]
/// X̄[i, k] = Σ_{j≠k} Ȳ[i, j] Π_{l≠j,k} X[i, l]. The gradient of prod.
/// </summary>
/// <remarks>
/// The rules are graphs of this op on a larger matrix: row (i, j) of B is row i of X with element j replaced by 1, so
/// prod_others(B)[(i, j), k] is Π_{l≠j,k} X[i, l]. B is a gather of X's rows (n copies each) with a constant mask, and
/// the cotangent goes back through the gather's transpose, scatter_add. Each further order multiplies the rows by n.
/// </remarks>
public sealed class ProdOthersOp : Op
{
    /// <summary>The op.</summary>
    public static readonly ProdOthersOp Instance = new();
    private ProdOthersOp() { }
    /// <inheritdoc/>
    public override string Name => "prod_others";
    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsScalar ? throw new ShapeMismatchException(Name, x[0], "prod_others takes a vector, or a matrix (each row on its own).") : x[0];

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var (m, n) = Losses.RowsAndColumns(s);
        var src = x[0].Span;
        var y = new double[s.Size];
        for (var i = 0; i < m; i++)
        {
            var p = 1.0;
            for (var j = 0; j < n; j++)
            {
                y[j * m + i] = p; // the product before j
                p *= src[j * m + i];
            }
            p = 1.0;
            for (var j = n - 1; j >= 0; j--)
            {
                y[j * m + i] *= p; // times the product after j
                p *= src[j * m + i];
            }
        }
        return Value.Own(s, y);
    }

    /// <summary>The rows of B (each row i of X repeated n times), the masks, and prod_others(B); see the remarks.</summary>
    private (int M, int N, ImmutableArray<int> Rows, Expr Keep, Expr P) Expanded(Expr x)
    {
        var (m, n) = Losses.RowsAndColumns(x.Shape);
        var rows = Enumerable.Range(0, m * n).Select(r => r / n).ToImmutableArray();
        var keep = new double[m * n * n];
        var diagonal = new double[m * n * n];
        for (var r = 0; r < m * n; r++)
            for (var k = 0; k < n; k++)
            {
                var at = k * m * n + r; // column-major (m·n)×n
                if (k == r % n) diagonal[at] = 1;
                else keep[at] = 1;
            }
        var shape = Shape.Matrix(m * n, n);
        Expr keepC = Expr.Const(Value.Own(shape, keep)), diagonalC = Expr.Const(Value.Own(shape, diagonal));
        var b = Expr.Create(new GatherOp(rows), Expr.Reshape(x, Shape.Matrix(m, n))) * keepC + diagonalC;
        return (m, n, rows, keepC, Expr.Create(this, b));
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar)
    {
        if (Losses.RowsAndColumns(x[0].Shape).Cols == 1) return null; // an empty product: constant 1
        var (m, n, rows, keep, p) = Expanded(x[0]);
        var spread = Expr.Create(new BroadcastColumnsOp(n), Expr.Reshape(ybar, Shape.Vector(m * n))); // row-major: (i, j) ↦ i·n + j
        return Expr.Reshape(Expr.Create(new ScatterAddOp(rows, m), spread * p * keep), x[0].Shape);
    }

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx)
    {
        if (dx[0] is not { } t || Losses.RowsAndColumns(x[0].Shape).Cols == 1) return null;
        var (m, n, rows, keep, p) = Expanded(x[0]);
        var gathered = Expr.Create(new GatherOp(rows), Expr.Reshape(t, Shape.Matrix(m, n)));
        return Expr.Reshape(Expr.Create(RowSumsOp.Instance, p * keep * gathered), x[0].Shape);
    }
}
