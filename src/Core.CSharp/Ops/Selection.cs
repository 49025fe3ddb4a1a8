using System;
using System.Collections.Immutable;

namespace Functional.Autodiff;

// Selection: comparisons giving 0/1 masks (no derivative), where, element-wise maximum and minimum, clamp. The ops of
// several inputs broadcast as NumPy does (see Broadcasting); their partials are at the output's shape and are summed
// back over the broadcast axes by BinaryElementwiseOp (by WhereOp for where).

/// <summary>
/// A comparison of two inputs giving a mask: 1 where it holds, 0 where it does not (also where either is NaN, as IEEE
/// comparisons are false there; IEEE's NaN ≠ NaN holds for no op here). Piecewise constant: no derivative flows through
/// a mask, at any order.
/// </summary>
public abstract class ComparisonOp : BinaryElementwiseOp
{
    /// <summary>Whether the comparison holds for one pair of numbers.</summary>
    protected abstract bool Holds(double a, double b);
    /// <inheritdoc/>
    protected sealed override double Apply(double a, double b) => Holds(a, b) ? 1 : 0;
    /// <inheritdoc/>
    protected sealed override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => null;
    /// <inheritdoc/>
    protected sealed override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) => null;
}

/// <summary>y = 1 where a &gt; b, else 0    ẏ = 0    ā = b̄ = 0.</summary>
public sealed class GreaterOp : ComparisonOp
{
    /// <summary>The op.</summary>
    public static readonly GreaterOp Instance = new();
    private GreaterOp() { }
    /// <inheritdoc/>
    public override string Name => "greater";
    /// <inheritdoc/>
    public override string Infix => ">";
    /// <inheritdoc/>
    protected override bool Holds(double a, double b) => a > b;
}

/// <summary>y = 1 where a ≥ b, else 0    ẏ = 0    ā = b̄ = 0.</summary>
public sealed class GreaterEqualOp : ComparisonOp
{
    /// <summary>The op.</summary>
    public static readonly GreaterEqualOp Instance = new();
    private GreaterEqualOp() { }
    /// <inheritdoc/>
    public override string Name => "greater_equal";
    /// <inheritdoc/>
    public override string Infix => ">=";
    /// <inheritdoc/>
    protected override bool Holds(double a, double b) => a >= b;
}

/// <summary>y = 1 where a &lt; b, else 0    ẏ = 0    ā = b̄ = 0.</summary>
public sealed class LessOp : ComparisonOp
{
    /// <summary>The op.</summary>
    public static readonly LessOp Instance = new();
    private LessOp() { }
    /// <inheritdoc/>
    public override string Name => "less";
    /// <inheritdoc/>
    public override string Infix => "<";
    /// <inheritdoc/>
    protected override bool Holds(double a, double b) => a < b;
}

/// <summary>y = 1 where a ≤ b, else 0    ẏ = 0    ā = b̄ = 0.</summary>
public sealed class LessEqualOp : ComparisonOp
{
    /// <summary>The op.</summary>
    public static readonly LessEqualOp Instance = new();
    private LessEqualOp() { }
    /// <inheritdoc/>
    public override string Name => "less_equal";
    /// <inheritdoc/>
    public override string Infix => "<=";
    /// <inheritdoc/>
    protected override bool Holds(double a, double b) => a <= b;
}

/// <summary>y = 1 where a = b (−0 = +0; NaN equals nothing), else 0    ẏ = 0    ā = b̄ = 0.</summary>
public sealed class EqualOp : ComparisonOp
{
    /// <summary>The op.</summary>
    public static readonly EqualOp Instance = new();
    private EqualOp() { }
    /// <inheritdoc/>
    public override string Name => "equal";
    /// <inheritdoc/>
    public override bool IsCommutative => true;
    /// <inheritdoc/>
    protected override bool Holds(double a, double b) => a == b;
}

/// <summary>
/// y = max(a, b) element-wise (NaN if either is NaN)    ẏ = w ⊙ ȧ + (1 − w) ⊙ ḃ    ā = ȳ ⊙ w, b̄ = ȳ ⊙ (1 − w), with
/// w = 1 where a &gt; b, 0 where a &lt; b and ½ at ties: the gradient splits evenly at a tie, as torch.maximum's does.
/// </summary>
public sealed class MaximumOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly MaximumOp Instance = new();
    private MaximumOp() { }
    /// <inheritdoc/>
    public override string Name => "maximum";
    /// <inheritdoc/>
    public override bool IsCommutative => true;
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => Math.Max(a, b);
    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => ybar * Selecting.Weight(i == 0 ? a : b, i == 0 ? b : a);
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) =>
        AddOrNull(da is null ? null : Selecting.Weight(a, b) * da, db is null ? null : Selecting.Weight(b, a) * db);
}

/// <summary>
/// y = min(a, b) element-wise (NaN if either is NaN)    ẏ = w ⊙ ȧ + (1 − w) ⊙ ḃ    ā = ȳ ⊙ w, b̄ = ȳ ⊙ (1 − w), with
/// w = 1 where a &lt; b, 0 where a &gt; b and ½ at ties (as torch.minimum).
/// </summary>
public sealed class MinimumOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly MinimumOp Instance = new();
    private MinimumOp() { }
    /// <inheritdoc/>
    public override string Name => "minimum";
    /// <inheritdoc/>
    public override bool IsCommutative => true;
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => Math.Min(a, b);
    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => ybar * Selecting.Weight(i == 0 ? b : a, i == 0 ? a : b);
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) =>
        AddOrNull(da is null ? null : Selecting.Weight(b, a) * da, db is null ? null : Selecting.Weight(a, b) * db);
}

/// <summary>The weights of maximum's and minimum's rules.</summary>
internal static class Selecting
{
    /// <summary>
    /// ½ + ½·sign(u − v): 1 where u &gt; v, 0 where u &lt; v, ½ at ties. A difference of distinct doubles is never 0
    /// (subnormals), ±∞ keeps its sign, and ∞ − ∞ is NaN, whose sign is 0: a tie of infinities splits too.
    /// </summary>
    public static Expr Weight(Expr u, Expr v) => 0.5 + 0.5 * Expr.Create(SignOp.Instance, u - v);
}

/// <summary>
/// y = a where the condition is non-zero, b where it is 0 (NumPy's <c>where</c>; a NaN condition counts as non-zero,
/// as NumPy's truth value of NaN does), broadcasting the three inputs as NumPy does.
/// ẏ = where(c, ȧ, ḃ)    ā = where(c, ȳ, 0), b̄ = where(c, 0, ȳ) (each summed back over its broadcast axes); the
/// condition gets no derivative. The unselected input is never read, so an infinity or NaN there does not leak into
/// the value or the gradient.
/// </summary>
public sealed class WhereOp : Op
{
    /// <summary>The op.</summary>
    public static readonly WhereOp Instance = new();
    private WhereOp() { }
    /// <inheritdoc/>
    public override string Name => "where";
    /// <inheritdoc/>
    public override int Arity => 3;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var ab = Broadcasting.TryResult(x[1], x[2])
            ?? throw new ShapeMismatchException(Name, x[1], x[2], Broadcasting.Fix(Name));
        return Broadcasting.TryResult(x[0], ab)
            ?? throw new ShapeMismatchException(Name, x[0], ab,
                $"where's condition must broadcast with the shape of its choices ({ab}), as NumPy's shapes broadcast: give a mask of that shape, a scalar, or a row or column that broadcasts.");
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        Value c = x[0], a = x[1], b = x[2];
        var shape = InferShape([c.Shape, a.Shape, b.Shape]);
        if (shape.IsScalar) return Value.Scalar(c.ToScalar() != 0 ? a.ToScalar() : b.ToScalar());
        var (rows, cols) = Broadcasting.Aligned(shape);
        var (cr, cc) = Broadcasting.Aligned(c.Shape);
        var (ar, ac) = Broadcasting.Aligned(a.Shape);
        var (br, bc) = Broadcasting.Aligned(b.Shape);
        var y = new double[shape.Size];
        for (var j = 0; j < cols; j++)
            for (var i = 0; i < rows; i++)
                y[j * rows + i] = At(c, Broadcasting.Index(cr, cc, i, j)) != 0
                    ? At(a, Broadcasting.Index(ar, ac, i, j))
                    : At(b, Broadcasting.Index(br, bc, i, j));
        return Value.Own(shape, y);
    }

    private static double At(Value v, int k) => v.Shape.IsScalar ? v.ToScalar() : v.Span[k];

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => i switch
    {
        1 => Expr.SumTo(Expr.Where(x[0], ybar, 0.0), x[1].Shape),
        2 => Expr.SumTo(Expr.Where(x[0], 0.0, ybar), x[2].Shape),
        _ => null,
    };

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[1] is null && dx[2] is null ? null : Expr.BroadcastTo(Expr.Where(x[0], dx[1] ?? 0.0, dx[2] ?? 0.0), y.Shape);
}

/// <summary>
/// y = min(max(x, <see cref="Min"/>), <see cref="Max"/>) (NaN stays NaN)    ẏ = m ⊙ ẋ    x̄ = ȳ ⊙ m, with m = 1 where
/// Min ≤ x ≤ Max (the bounds included, as torch.clamp passes the gradient at x = min and x = max) and 0 outside.
/// </summary>
public sealed class ClampOp : ElementwiseOp, IEquatable<ClampOp>
{
    /// <summary>The op clamping to [<paramref name="min"/>, <paramref name="max"/>]; an infinite bound clamps one side only.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is NaN, or min &gt; max.</exception>
    public ClampOp(double min, double max)
    {
        if (double.IsNaN(min) || double.IsNaN(max))
            throw new ArgumentOutOfRangeException(double.IsNaN(min) ? nameof(min) : nameof(max), UserCode.Mark("clamp needs bounds that are numbers, not NaN (use ±Infinity for no bound)."));
        if (min > max)
            throw new ArgumentOutOfRangeException(nameof(min), min, UserCode.Mark($"clamp needs min ≤ max, but min = {Value.Format(min)} and max = {Value.Format(max)}: swap them."));
        Min = min;
        Max = max;
    }

    /// <summary>The lower bound.</summary>
    public double Min { get; }
    /// <summary>The upper bound.</summary>
    public double Max { get; }
    /// <inheritdoc/>
    public override string Name => "clamp";
    /// <inheritdoc/>
    protected override double Apply(double x) => x < Min ? Min : x > Max ? Max : x;
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.GreaterEqual(x, Min) * Expr.LessEqual(x, Max);
    /// <inheritdoc/>
    public bool Equals(ClampOp? other) => other is not null && other.Min.Equals(Min) && other.Max.Equals(Max);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ClampOp);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Min, Max);
    /// <inheritdoc/>
    public override string ToString() => $"clamp [{Value.Format(Min)}, {Value.Format(Max)}]";
}
