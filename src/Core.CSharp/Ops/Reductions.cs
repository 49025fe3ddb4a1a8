using System;
using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Functional.Autodiff;

// Sums and their transposes, the broadcasts; and the L2 norm. Sums and broadcasts are linear and each is the
// other's transpose: sum ↔ broadcast_scalar, column_sums ↔ broadcast_rows, row_sums ↔ broadcast_columns. The norm's
// rules go through normalize, the unit vector x / ‖x‖.

/// <summary>y = Σᵢ xᵢ (all elements)    ẏ = Σ ẋ    x̄ = ȳ broadcast to x's shape.</summary>
public sealed class SumOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly SumOp Instance = new();
    private SumOp() { }
    /// <inheritdoc/>
    public override string Name => "sum";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => Shape.Scalar;
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) =>
        x[0].Shape.IsScalar ? x[0] : Value.Scalar(Kernel(x[0].Span));

    /// <summary>
    /// The longest run of elements that sums and dot products add one after another, from 0 in storage order
    /// (((0 + x₀) + x₁) + …); longer ones go to the vectorised kernel. Hardware-independent bits for short vectors, and
    /// an order that compiled straight-line code writes out as plain additions (<see cref="ScalarEmitter.MaxElements"/>
    /// is this length), where a vector kernel reading elements just stored one by one would stall on them.
    /// </summary>
    internal const int SequentialLength = 16;

    /// <summary>The sum of a vector's or matrix's elements: in sequence up to <see cref="SequentialLength"/>, vectorised beyond (column sums call it too).</summary>
    internal static double Kernel(ReadOnlySpan<double> x)
    {
        if (x.Length > SequentialLength) return TensorPrimitives.Sum(x);
        var s = 0.0;
        foreach (var e in x) s += e;
        return s;
    }
    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.BroadcastTo(ybar, inputShape);
}

/// <summary>y = the column totals of X (m×n), a vector(n)    ẏ = column_sums(Ẋ)    X̄ = ȳ repeated as every row.</summary>
public sealed class ColumnSumsOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly ColumnSumsOp Instance = new();
    private ColumnSumsOp() { }
    /// <inheritdoc/>
    public override string Name => "column_sums";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix ? Shape.Vector(x[0].Cols) : throw new ShapeMismatchException(Name, x[0], "column_sums takes a matrix; use Sum for a vector.");
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var y = new double[s.Cols];
        for (var j = 0; j < s.Cols; j++) y[j] = SumOp.Kernel(x[0].Span.Slice(j * s.Rows, s.Rows));
        return Value.Own(Shape.Vector(s.Cols), y);
    }
    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(new BroadcastRowsOp(inputShape.Rows), ybar);
}

/// <summary>y = the row totals of X (m×n), a vector(m)    ẏ = row_sums(Ẋ)    X̄ = ȳ repeated as every column.</summary>
public sealed class RowSumsOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly RowSumsOp Instance = new();
    private RowSumsOp() { }
    /// <inheritdoc/>
    public override string Name => "row_sums";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix ? Shape.Vector(x[0].Rows) : throw new ShapeMismatchException(Name, x[0], "row_sums takes a matrix; use Sum for a vector.");
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var y = new double[s.Rows];
        for (var j = 0; j < s.Cols; j++) TensorPrimitives.Add(y, x[0].Span.Slice(j * s.Rows, s.Rows), y);
        return Value.Own(Shape.Vector(s.Rows), y);
    }
    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(new BroadcastColumnsOp(inputShape.Cols), ybar);
}

/// <summary>Y = a scalar repeated to <see cref="Target"/>    Ẏ = broadcast(ẋ)    x̄ = Σ Ȳ.</summary>
public sealed class BroadcastScalarOp : LinearOp, IEquatable<BroadcastScalarOp>
{
    /// <summary>The op repeating a scalar to <paramref name="target"/>.</summary>
    public BroadcastScalarOp(Shape target) => Target = target;
    /// <summary>The output shape.</summary>
    public Shape Target { get; }
    /// <inheritdoc/>
    public override string Name => "broadcast";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsScalar ? Target : throw new ShapeMismatchException(Name, x[0], Target, "broadcast repeats a scalar.");
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) => Value.Full(Target, x[0].ToScalar());

    internal override bool WritesInto => true;

    internal override void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) => dest.Fill(x[0].ToScalar());
    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Sum(ybar);
    /// <inheritdoc/>
    public bool Equals(BroadcastScalarOp? other) => other is not null && other.Target == Target;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BroadcastScalarOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Target.GetHashCode();
    /// <inheritdoc/>
    public override string ToString() => $"broadcast to {Target}";
}

/// <summary>Y = a vector(n) repeated as each of <see cref="Rows"/> rows    Ẏ = broadcast_rows(ẋ)    x̄ = column_sums(Ȳ).</summary>
public sealed class BroadcastRowsOp : LinearOp, IEquatable<BroadcastRowsOp>
{
    /// <summary>The op repeating a vector as <paramref name="rows"/> rows.</summary>
    public BroadcastRowsOp(int rows) => Rows = rows >= 1 ? rows : throw new ArgumentOutOfRangeException(nameof(rows), rows, UserCode.Mark("broadcast_rows needs at least one row."));
    /// <summary>How many rows the output has.</summary>
    public int Rows { get; }
    /// <inheritdoc/>
    public override string Name => "broadcast_rows";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsVector ? Shape.Matrix(Rows, x[0].Length) : throw new ShapeMismatchException(Name, x[0], "broadcast_rows repeats a vector.");
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var v = x[0].Span;
        var y = new double[Rows * v.Length];
        for (var j = 0; j < v.Length; j++) y.AsSpan(j * Rows, Rows).Fill(v[j]);
        return Value.Own(Shape.Matrix(Rows, v.Length), y);
    }
    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(ColumnSumsOp.Instance, ybar);
    /// <inheritdoc/>
    public bool Equals(BroadcastRowsOp? other) => other is not null && other.Rows == Rows;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BroadcastRowsOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Rows;
}

/// <summary>Y = a vector(m) repeated as each of <see cref="Cols"/> columns    Ẏ = broadcast_columns(ẋ)    x̄ = row_sums(Ȳ).</summary>
public sealed class BroadcastColumnsOp : LinearOp, IEquatable<BroadcastColumnsOp>
{
    /// <summary>The op repeating a vector as <paramref name="cols"/> columns.</summary>
    public BroadcastColumnsOp(int cols) => Cols = cols >= 1 ? cols : throw new ArgumentOutOfRangeException(nameof(cols), cols, UserCode.Mark("broadcast_columns needs at least one column."));
    /// <summary>How many columns the output has.</summary>
    public int Cols { get; }
    /// <inheritdoc/>
    public override string Name => "broadcast_columns";
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsVector ? Shape.Matrix(x[0].Length, Cols) : throw new ShapeMismatchException(Name, x[0], "broadcast_columns repeats a vector.");
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var v = x[0].Span;
        var y = new double[Cols * v.Length];
        for (var j = 0; j < Cols; j++) v.CopyTo(y.AsSpan(j * v.Length, v.Length));
        return Value.Own(Shape.Matrix(v.Length, Cols), y);
    }
    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(RowSumsOp.Instance, ybar);
    /// <inheritdoc/>
    public bool Equals(BroadcastColumnsOp? other) => other is not null && other.Cols == Cols;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as BroadcastColumnsOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Cols;
}

/// <summary>
/// y = ‖x‖₂ (Frobenius for a matrix)    ẏ = ⟨x̂, ẋ⟩    x̄ = ȳ x̂, with x̂ = normalize(x) = x / ‖x‖, taken as 0 at x = 0
/// (as PyTorch does).
/// </summary>
/// <remarks>
/// The rules read x only through its unit vector x̂, whose own rules divide by ‖x‖ once: every intermediate of the
/// first and the second derivative (the Hessian is (I − x̂x̂ᵀ)/‖x‖) stays in range for any ‖x‖ a double holds.
/// </remarks>
public sealed class NormOp : Op
{
    /// <summary>The op.</summary>
    public static readonly NormOp Instance = new();
    private NormOp() { }
    /// <inheritdoc/>
    public override string Name => "norm";
    /// <inheritdoc/>
    public override int Arity => 1;
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => Shape.Scalar;
    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) =>
        Value.Scalar(x[0].Shape.IsScalar ? Math.Abs(x[0].ToScalar()) : Norm(x[0].Span));

    /// <summary>
    /// √Σx², without overflow or underflow: the plain sum of squares where it is safely in range, otherwise the
    /// elements are scaled by the largest magnitude first (as BLAS's dnrm2 does).
    /// </summary>
    internal static double Norm(ReadOnlySpan<double> x)
    {
        var ss = TensorPrimitives.SumOfSquares(x);
        if (ss > 1e-280 && ss < 1e280) return Math.Sqrt(ss);
        var m = Math.Abs(TensorPrimitives.MaxMagnitude(x));
        if (m == 0 || !double.IsFinite(m)) return double.IsNaN(ss) ? double.NaN : m;
        var scaled = 0.0;
        foreach (var v in x)
        {
            var r = v / m;
            scaled += r * r;
        }
        return m * Math.Sqrt(scaled);
    }
    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        ybar * Expr.Create(NormalizeOp.Instance, x[0]);
    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? Expr.Sum(Expr.Create(NormalizeOp.Instance, x[0]) * t) : null;
}

/// <summary>
/// y = x / ‖x‖ (the unit vector of x; 0 at x = 0, the sign for a scalar)    ẏ = (ẋ − y⟨y, ẋ⟩) / ‖x‖
/// x̄ = (ȳ − y⟨y, ȳ⟩) / ‖x‖ (the projection orthogonal to y, which is symmetric, so both rules are one).
/// </summary>
/// <remarks>
/// The norm's gradient. Its value is formed from the scale-safe norm, and its rules divide by ‖x‖ exactly once and
/// otherwise combine numbers of the size of y and the incoming tangent, so they neither overflow at ‖x‖ ≈ 1e-155 nor
/// lose the projection at ‖x‖ ≈ 1e200, as forms in 1/‖x‖² or 1/‖x‖³ do. At x = 0 both rules give 0.
/// </remarks>
public sealed class NormalizeOp : Op
{
    /// <summary>The op.</summary>
    public static readonly NormalizeOp Instance = new();
    private NormalizeOp() { }
    /// <inheritdoc/>
    public override string Name => "normalize";
    /// <inheritdoc/>
    public override int Arity => 1;
    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => x[0];

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var a = x[0];
        if (a.Shape.IsScalar)
        {
            var s = a.ToScalar();
            return Value.Scalar(s == 0 ? 0 : s / Math.Abs(s));
        }
        var src = a.Span;
        var norm = NormOp.Norm(src);
        var y = new double[src.Length];
        if (norm != 0) TensorPrimitives.Divide(src, norm, y);
        return Value.Own(a.Shape, y);
    }

    /// <summary>(v − y⟨y, v⟩) / ‖x‖, and 0 at x = 0.</summary>
    private static Expr Project(Expr x, Expr y, Expr v) =>
        (v - y * Expr.Sum(y * v)) * Expr.Create(SafeReciprocalOp.Instance, Expr.Norm(x));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => Project(x[0], y, ybar);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? Project(x[0], y, t) : null;
}
