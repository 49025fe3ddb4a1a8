using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace Functional.Autodiff;

// Shape ops: reshape (row-major, as NumPy and PyTorch), concat, slice and its transpose pad, gather and its transpose
// scatter_add, row and column. All but concat are linear ops of one input, each given by its transpose; concat is
// linear in two inputs and its rules are slices and pads. Values are stored column-major, so every kernel maps
// row-major positions to storage explicitly. Axis 0 runs along rows (a vector has only axis 0), axis 1 along columns.

/// <summary>The checks and index arithmetic the shape ops share.</summary>
internal static class ShapeRules
{
    /// <summary>The elements of a value in storage order (a scalar as one element).</summary>
    public static ReadOnlySpan<double> Elements(Value v) => v.Shape.IsScalar ? new[] { v.ToScalar() } : v.Span;

    /// <summary>The length of <paramref name="s"/> along <paramref name="axis"/> (a vector's length on axis 0).</summary>
    public static int Extent(Shape s, int axis) => axis == 0 ? s.Rows : s.Cols;

    /// <summary><paramref name="s"/> with its length along <paramref name="axis"/> replaced by <paramref name="extent"/>.</summary>
    public static Shape WithExtent(Shape s, int axis, int extent) =>
        s.IsVector ? Shape.Vector(extent) : axis == 0 ? Shape.Matrix(extent, s.Cols) : Shape.Matrix(s.Rows, extent);

    /// <summary>Storage distance between neighbours along <paramref name="axis"/>: 1 along a vector or down a column, the rows across columns.</summary>
    public static int Stride(Shape s, int axis) => s.IsMatrix && axis == 1 ? s.Rows : 1;

    public static string AxisName(int axis) => axis == 0 ? "axis 0 (rows)" : "axis 1 (columns)";

    /// <summary>Refuses an axis other than 0 or 1.</summary>
    public static int CheckAxis(string op, int axis) =>
        axis is 0 or 1 ? axis
            : throw new ArgumentOutOfRangeException(nameof(axis), axis,
                UserCode.Mark($"{op}: axis {axis} does not exist: give 0 (along rows; a vector's only axis) or 1 (along columns)."));

    /// <summary>Refuses a scalar, and a vector with axis 1; the message names the op.</summary>
    public static void CheckAxisFits(string op, Shape s, int axis)
    {
        if (s.IsScalar)
            throw new ShapeMismatchException(op, s, $"{op} takes a vector or a matrix: a scalar has no axis (Reshape it to vector(1) first).");
        if (s.IsVector && axis != 0)
            throw new ShapeMismatchException(op, s, $"A vector has only axis 0, but {op} was given axis {axis}: use axis 0, or Reshape the vector to a matrix first.");
    }

    /// <summary>Storage position (column-major) of the element at row-major position <paramref name="r"/> of <paramref name="s"/>.</summary>
    public static int StorageOfRowMajor(Shape s, int r) => s.IsMatrix ? r % s.Cols * s.Rows + r / s.Cols : r;

    public static string Format(ImmutableArray<int> indices)
    {
        const int shown = 8;
        var head = string.Join(", ", indices.Take(shown));
        return indices.Length > shown ? $"[{head}, … ({indices.Length} in all)]" : $"[{head}]";
    }

    public static int Hash(ImmutableArray<int> indices)
    {
        var h = new HashCode();
        foreach (var k in indices) h.Add(k);
        return h.ToHashCode();
    }

    public static ImmutableArray<int> Indices(string op, IEnumerable<int> indices)
    {
        Guard.NotNull(indices);
        var result = indices.ToImmutableArray();
        if (result.IsEmpty)
            throw new ArgumentException(UserCode.Mark($"{op}: the index list is empty, but a value has at least one element: give at least one index."), nameof(indices));
        for (var k = 0; k < result.Length; k++)
            if (result[k] < 0)
                throw new ArgumentOutOfRangeException(nameof(indices), result[k],
                    UserCode.Mark($"{op}: indices[{k}] = {result[k]} is negative: indices count from 0 (negative indices from the end are not supported)."));
        return result;
    }
}

/// <summary>
/// y = x with shape <see cref="Target"/>, the elements kept in row-major order (NumPy's and PyTorch's <c>reshape</c>)
/// ẏ = reshape(ẋ)    x̄ = reshape(ȳ) back to x's shape.
/// </summary>
/// <remarks>Any two shapes of one size: scalar, vector(m·n), matrix(m, n), matrix(p, q) with p·q = m·n.</remarks>
public sealed class ReshapeOp : LinearOp, IEquatable<ReshapeOp>
{
    /// <summary>The op giving its input the shape <paramref name="target"/>.</summary>
    public ReshapeOp(Shape target) => Target = target;

    /// <summary>The output shape.</summary>
    public Shape Target { get; }

    /// <inheritdoc/>
    public override string Name => "reshape";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].Size == Target.Size
            ? Target
            : throw new ShapeMismatchException(Name, x[0], Target,
                $"reshape keeps every element, but {x[0]} has {x[0].Size} and {Target} has {Target.Size}: reshape to a shape of " +
                $"{x[0].Size} elements (vector({x[0].Size}), or matrix(m, n) with m·n = {x[0].Size}), or Slice or Concat first to change the size.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var source = x[0].Shape;
        var a = ShapeRules.Elements(x[0]);
        var y = new double[Target.Size];
        if (!source.IsMatrix && !Target.IsMatrix) a.CopyTo(y); // row-major and storage order agree
        else
            for (var r = 0; r < y.Length; r++)
                y[ShapeRules.StorageOfRowMajor(Target, r)] = a[ShapeRules.StorageOfRowMajor(source, r)];
        return Value.Own(Target, y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(new ReshapeOp(inputShape), ybar);

    /// <inheritdoc/>
    public bool Equals(ReshapeOp? other) => other is not null && other.Target == Target;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ReshapeOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Target.GetHashCode();
    /// <inheritdoc/>
    public override string ToString() => $"reshape to {Target}";
}

/// <summary>
/// y = [a; b] along <see cref="Axis"/>: two vectors end to end, or two matrices one above the other (axis 0) or side
/// by side (axis 1)    ẏ = concat(ȧ, ḃ)    ā = slice(ȳ, 0, |a|), b̄ = slice(ȳ, |a|, |a| + |b|).
/// </summary>
/// <remarks>
/// Two inputs: <see cref="Expr.Concat(int, Expr[])"/> joins any number of parts as a balanced tree of these, so the
/// engine's fixed, small arity (<see cref="Expr.MaxArity"/>) holds and every part is copied about log₂(parts) times.
/// </remarks>
public sealed class ConcatOp : Op, IEquatable<ConcatOp>
{
    /// <summary>The op joining two values along <paramref name="axis"/> (0 or 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    public ConcatOp(int axis) => Axis = ShapeRules.CheckAxis("concat", axis);

    /// <summary>The axis the parts are joined along: 0 (rows; a vector's only axis) or 1 (columns).</summary>
    public int Axis { get; }

    /// <inheritdoc/>
    public override string Name => "concat";

    /// <inheritdoc/>
    public override int Arity => 2;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => Joined(x[0], x[1], Axis, 0, 1);

    /// <summary>The shape of parts <paramref name="i"/> and <paramref name="j"/> joined along <paramref name="axis"/>, or the error naming them.</summary>
    internal static Shape Joined(Shape a, Shape b, int axis, int i, int j)
    {
        const string op = "concat";
        if (a.IsScalar || b.IsScalar)
            throw new ShapeMismatchException(op, a, b,
                $"concat joins vectors or matrices, and part {(a.IsScalar ? i : j)} is a scalar: Stack scalars into a vector, or Reshape each to vector(1).");
        if (a.Rank != b.Rank)
            throw new ShapeMismatchException(op, a, b,
                $"concat joins parts of one rank, but part {i} is {a} and part {j} is {b}: Reshape the vector to matrix(1, n) (a row) or " +
                "matrix(n, 1) (a column) first, or Stack vectors into a matrix.");
        if (a.IsVector)
        {
            if (axis != 0)
                throw new ShapeMismatchException(op, a, b,
                    "Vectors have only axis 0 (end to end): use axis 0, or Stack(1, …) to make them the columns of a matrix.");
            return Shape.Vector(checked(a.Length + b.Length));
        }
        if (axis == 0)
            return a.Cols == b.Cols
                ? Shape.Matrix(checked(a.Rows + b.Rows), a.Cols)
                : throw new ShapeMismatchException(op, a, b,
                    $"Joined along axis 0 (one above the other), every part needs the same number of columns, but part {i} has {a.Cols} and part {j} has {b.Cols}: " +
                    "give the parts equal columns, or join along axis 1 (side by side) if they have equal rows.");
        return a.Rows == b.Rows
            ? Shape.Matrix(a.Rows, checked(a.Cols + b.Cols))
            : throw new ShapeMismatchException(op, a, b,
                $"Joined along axis 1 (side by side), every part needs the same number of rows, but part {i} has {a.Rows} and part {j} has {b.Rows}: " +
                "give the parts equal rows, or join along axis 0 (one above the other) if they have equal columns.");
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        Value a = x[0], b = x[1];
        var shape = Joined(a.Shape, b.Shape, Axis, 0, 1);
        var y = new double[shape.Size];
        if (a.Shape.IsVector || Axis == 1)
        {
            // End to end in storage: a vector's elements, or whole columns.
            a.Span.CopyTo(y);
            b.Span.CopyTo(y.AsSpan(a.Shape.Size));
        }
        else
        {
            int ra = a.Shape.Rows, rb = b.Shape.Rows, m = ra + rb;
            for (var j = 0; j < shape.Cols; j++)
            {
                a.Span.Slice(j * ra, ra).CopyTo(y.AsSpan(j * m, ra));
                b.Span.Slice(j * rb, rb).CopyTo(y.AsSpan(j * m + ra, rb));
            }
        }
        return Value.Own(shape, y);
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar)
    {
        var split = ShapeRules.Extent(x[0].Shape, Axis);
        return i == 0
            ? Expr.Create(new SliceOp(Axis, 0, split), ybar)
            : Expr.Create(new SliceOp(Axis, split, ShapeRules.Extent(y.Shape, Axis)), ybar);
    }

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx)
    {
        // A missing tangent is zeros; padding the other one says so without building a constant.
        if (dx[0] is { } da && dx[1] is { } db) return Expr.Create(this, da, db);
        if (dx[0] is { } a) return Expr.Create(new PadOp(Axis, 0, ShapeRules.Extent(x[1].Shape, Axis)), a);
        if (dx[1] is { } b) return Expr.Create(new PadOp(Axis, ShapeRules.Extent(x[0].Shape, Axis), 0), b);
        return null;
    }

    /// <inheritdoc/>
    public bool Equals(ConcatOp? other) => other is not null && other.Axis == Axis;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ConcatOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Axis;
    /// <inheritdoc/>
    public override string ToString() => $"concat axis {Axis}";
}

/// <summary>
/// y = x[start:stop] along <see cref="Axis"/> (stop exclusive, as Python)    ẏ = slice(ẋ)    x̄ = ȳ padded back with
/// zeros (pad).
/// </summary>
public sealed class SliceOp : LinearOp, IEquatable<SliceOp>
{
    /// <summary>The op keeping positions <paramref name="start"/> to <paramref name="stop"/> − 1 along <paramref name="axis"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1, start is negative, or stop is not above start.</exception>
    public SliceOp(int axis, int start, int stop)
    {
        Axis = ShapeRules.CheckAxis("slice", axis);
        if (start < 0)
            throw new ArgumentOutOfRangeException(nameof(start), start,
                UserCode.Mark($"slice: start = {start} is negative: positions count from 0 (negative positions from the end are not supported)."));
        if (stop <= start)
            throw new ArgumentOutOfRangeException(nameof(stop), stop,
                UserCode.Mark($"slice: [{start}, {stop}) is empty (stop is exclusive), but a value has at least one element: give a stop above start."));
        Start = start;
        Stop = stop;
    }

    /// <summary>The axis sliced: 0 (rows; a vector's only axis) or 1 (columns).</summary>
    public int Axis { get; }

    /// <summary>The first position kept.</summary>
    public int Start { get; }

    /// <summary>One past the last position kept.</summary>
    public int Stop { get; }

    /// <inheritdoc/>
    public override string Name => "slice";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        ShapeRules.CheckAxisFits(Name, s, Axis);
        var extent = ShapeRules.Extent(s, Axis);
        if (Stop > extent)
            throw new ArgumentOutOfRangeException("stop", Stop,
                UserCode.Mark($"slice: [{Start}, {Stop}) along {ShapeRules.AxisName(Axis)} is outside {s}, which has {extent} there: " +
                $"give 0 ≤ start < stop ≤ {extent}."));
        return ShapeRules.WithExtent(s, Axis, Stop - Start);
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        var shape = ShapeRules.WithExtent(s, Axis, Stop - Start);
        var y = new double[shape.Size];
        if (s.IsVector || Axis == 1) a.Slice(Start * ShapeRules.Stride(s, Axis), y.Length).CopyTo(y); // contiguous: elements, or whole columns
        else
            for (var j = 0; j < s.Cols; j++) a.Slice(j * s.Rows + Start, shape.Rows).CopyTo(y.AsSpan(j * shape.Rows, shape.Rows));
        return Value.Own(shape, y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) =>
        Expr.Create(new PadOp(Axis, Start, ShapeRules.Extent(inputShape, Axis) - Stop), ybar);

    /// <inheritdoc/>
    public bool Equals(SliceOp? other) => other is not null && other.Axis == Axis && other.Start == Start && other.Stop == Stop;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SliceOp);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Axis, Start, Stop);
    /// <inheritdoc/>
    public override string ToString() => $"slice axis {Axis} [{Start}, {Stop})";
}

/// <summary>
/// y = x with <see cref="Before"/> zeros before and <see cref="After"/> zeros after it along <see cref="Axis"/> (the
/// transpose of slice, as JAX's <c>pad</c>)    ẏ = pad(ẋ)    x̄ = slice(ȳ, before, before + |x|).
/// </summary>
public sealed class PadOp : LinearOp, IEquatable<PadOp>
{
    /// <summary>The op placing its input between <paramref name="before"/> and <paramref name="after"/> zeros along <paramref name="axis"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1, or a count is negative.</exception>
    public PadOp(int axis, int before, int after)
    {
        Axis = ShapeRules.CheckAxis("pad", axis);
        Before = before >= 0 ? before : throw new ArgumentOutOfRangeException(nameof(before), before, UserCode.Mark("pad: before is negative: give a count of zeros of 0 or more."));
        After = after >= 0 ? after : throw new ArgumentOutOfRangeException(nameof(after), after, UserCode.Mark("pad: after is negative: give a count of zeros of 0 or more."));
    }

    /// <summary>The axis padded: 0 (rows; a vector's only axis) or 1 (columns).</summary>
    public int Axis { get; }

    /// <summary>Zeros before the input.</summary>
    public int Before { get; }

    /// <summary>Zeros after the input.</summary>
    public int After { get; }

    /// <inheritdoc/>
    public override string Name => "pad";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        ShapeRules.CheckAxisFits(Name, x[0], Axis);
        return ShapeRules.WithExtent(x[0], Axis, checked(ShapeRules.Extent(x[0], Axis) + Before + After));
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        var shape = ShapeRules.WithExtent(s, Axis, ShapeRules.Extent(s, Axis) + Before + After);
        var y = new double[shape.Size];
        if (s.IsVector || Axis == 1) a.CopyTo(y.AsSpan(Before * ShapeRules.Stride(s, Axis)));
        else
            for (var j = 0; j < s.Cols; j++) a.Slice(j * s.Rows, s.Rows).CopyTo(y.AsSpan(j * shape.Rows + Before, s.Rows));
        return Value.Own(shape, y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) =>
        Expr.Create(new SliceOp(Axis, Before, Before + ShapeRules.Extent(inputShape, Axis)), ybar);

    /// <inheritdoc/>
    public bool Equals(PadOp? other) => other is not null && other.Axis == Axis && other.Before == Before && other.After == After;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PadOp);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Axis, Before, After);
    /// <inheritdoc/>
    public override string ToString() => $"pad axis {Axis} ({Before}, {After})";
}

/// <summary>
/// y = x[indices]: the elements of a vector, or the rows of a matrix, at <see cref="Indices"/> (repeats allowed)
/// ẏ = gather(ẋ)    x̄ = scatter_add(ȳ): each entry of ȳ added at its index, so repeated indices accumulate.
/// </summary>
/// <remarks>The indices are a parameter of the op, like index's position; they describe the op, not per-call data.</remarks>
public sealed class GatherOp : LinearOp, IEquatable<GatherOp>
{
    /// <summary>The op picking elements (of a vector) or rows (of a matrix) at <paramref name="indices"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="indices"/> is null.</exception>
    /// <exception cref="ArgumentException">There are no indices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is negative.</exception>
    public GatherOp(IEnumerable<int> indices) => Indices = ShapeRules.Indices("gather", indices);

    /// <summary>The positions picked, in output order.</summary>
    public ImmutableArray<int> Indices { get; }

    /// <inheritdoc/>
    public override string Name => "gather";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        if (s.IsScalar)
            throw new ShapeMismatchException(Name, s, "gather picks elements of a vector or rows of a matrix; a scalar has neither.");
        for (var k = 0; k < Indices.Length; k++)
            if (Indices[k] >= s.Rows)
                throw new ArgumentOutOfRangeException("indices", Indices[k],
                    UserCode.Mark($"gather: indices[{k}] = {Indices[k]} is outside {s} (valid {(s.IsVector ? "elements" : "rows")}: 0 to {s.Rows - 1})."));
        return s.IsVector ? Shape.Vector(Indices.Length) : Shape.Matrix(Indices.Length, s.Cols);
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        int k = Indices.Length, m = s.Rows;
        var y = new double[k * s.Cols];
        for (var j = 0; j < s.Cols; j++)
            for (var r = 0; r < k; r++) y[j * k + r] = a[j * m + Indices[r]];
        return Value.Own(s.IsVector ? Shape.Vector(k) : Shape.Matrix(k, s.Cols), y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(new ScatterAddOp(Indices, inputShape.Rows), ybar);

    /// <inheritdoc/>
    public bool Equals(GatherOp? other) => other is not null && other.Indices.SequenceEqual(Indices);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as GatherOp);
    /// <inheritdoc/>
    public override int GetHashCode() => ShapeRules.Hash(Indices);
    /// <inheritdoc/>
    public override string ToString() => $"gather {ShapeRules.Format(Indices)}";
}

/// <summary>
/// y = zeros of <see cref="Count"/> elements (or rows), with element (row) k of x added at position indices[k]
/// ẏ = scatter_add(ẋ)    x̄ = gather(ȳ). The transpose of gather: repeated indices accumulate.
/// </summary>
public sealed class ScatterAddOp : LinearOp, IEquatable<ScatterAddOp>
{
    /// <summary>The op adding element (row) k of its input at <paramref name="indices"/>[k] of <paramref name="count"/> zeros (zero rows).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="indices"/> is null.</exception>
    /// <exception cref="ArgumentException">There are no indices.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The count is below 1, or an index is outside 0 to count − 1.</exception>
    public ScatterAddOp(IEnumerable<int> indices, int count)
    {
        Indices = ShapeRules.Indices("scatter_add", indices);
        if (count < 1)
            throw new ArgumentOutOfRangeException(nameof(count), count, UserCode.Mark("scatter_add: count is below 1: a value has at least one element."));
        for (var k = 0; k < Indices.Length; k++)
            if (Indices[k] >= count)
                throw new ArgumentOutOfRangeException(nameof(indices), Indices[k],
                    UserCode.Mark($"scatter_add: indices[{k}] = {Indices[k]} is outside the {count} positions of the output (valid: 0 to {count - 1})."));
        Count = count;
    }

    /// <summary>Where element (row) k of the input goes.</summary>
    public ImmutableArray<int> Indices { get; }

    /// <summary>The output's length (vector) or rows (matrix).</summary>
    public int Count { get; }

    /// <inheritdoc/>
    public override string Name => "scatter_add";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        if (s.IsScalar || s.Rows != Indices.Length)
            throw new ShapeMismatchException(Name, s,
                $"scatter_add has {Indices.Length} indices, so it takes a vector({Indices.Length}) or a matrix({Indices.Length}, n): one element or row per index.");
        return s.IsVector ? Shape.Vector(Count) : Shape.Matrix(Count, s.Cols);
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        int k = Indices.Length;
        var y = new double[Count * s.Cols];
        for (var j = 0; j < s.Cols; j++)
            for (var r = 0; r < k; r++) y[j * Count + Indices[r]] += a[j * k + r]; // in index order: deterministic
        return Value.Own(s.IsVector ? Shape.Vector(Count) : Shape.Matrix(Count, s.Cols), y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(new GatherOp(Indices), ybar);

    /// <inheritdoc/>
    public bool Equals(ScatterAddOp? other) => other is not null && other.Count == Count && other.Indices.SequenceEqual(Indices);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ScatterAddOp);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Count, ShapeRules.Hash(Indices));
    /// <inheritdoc/>
    public override string ToString() => $"scatter_add {ShapeRules.Format(Indices)} into {Count}";
}

/// <summary>y = row <see cref="I"/> of X (m×n), a vector(n)    ẏ = row(Ẋ)    X̄ = ȳ as row i of zeros.</summary>
public sealed class RowOp : LinearOp, IEquatable<RowOp>
{
    /// <summary>The op reading row <paramref name="i"/> of a matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is negative.</exception>
    public RowOp(int i) => I = i >= 0 ? i : throw new ArgumentOutOfRangeException(nameof(i), i, UserCode.Mark($"row: i = {i} is negative: rows count from 0."));

    /// <summary>The row read.</summary>
    public int I { get; }

    /// <inheritdoc/>
    public override string Name => "row";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        if (!s.IsMatrix)
            throw new ShapeMismatchException(Name, s, s.IsVector ? "row reads a row of a matrix; for an element of a vector use x[i]." : "row reads a row of a matrix; a scalar has none.");
        IndexOp.CheckRange(Name, I, s.Rows, s, "i");
        return Shape.Vector(s.Cols);
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        var y = new double[s.Cols];
        for (var j = 0; j < y.Length; j++) y[j] = a[j * s.Rows + I];
        return Value.Own(Shape.Vector(s.Cols), y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) =>
        Expr.Create(new PadOp(0, I, inputShape.Rows - 1 - I), Expr.Create(new ReshapeOp(Shape.Matrix(1, inputShape.Cols)), ybar));

    /// <inheritdoc/>
    public bool Equals(RowOp? other) => other is not null && other.I == I;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as RowOp);
    /// <inheritdoc/>
    public override int GetHashCode() => I;
    /// <inheritdoc/>
    public override string ToString() => $"row {I}";
}

/// <summary>y = column <see cref="J"/> of X (m×n), a vector(m)    ẏ = column(Ẋ)    X̄ = ȳ as column j of zeros.</summary>
public sealed class ColumnOp : LinearOp, IEquatable<ColumnOp>
{
    /// <summary>The op reading column <paramref name="j"/> of a matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is negative.</exception>
    public ColumnOp(int j) => J = j >= 0 ? j : throw new ArgumentOutOfRangeException(nameof(j), j, UserCode.Mark($"column: j = {j} is negative: columns count from 0."));

    /// <summary>The column read.</summary>
    public int J { get; }

    /// <inheritdoc/>
    public override string Name => "column";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        if (!s.IsMatrix)
            throw new ShapeMismatchException(Name, s, s.IsVector ? "column reads a column of a matrix; for an element of a vector use x[i]." : "column reads a column of a matrix; a scalar has none.");
        IndexOp.CheckRange(Name, J, s.Cols, s, "j");
        return Shape.Vector(s.Rows);
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        return Value.Own(Shape.Vector(s.Rows), x[0].Span.Slice(J * s.Rows, s.Rows).ToArray());
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) =>
        Expr.Create(new PadOp(1, J, inputShape.Cols - 1 - J), Expr.Create(new ReshapeOp(Shape.Matrix(inputShape.Rows, 1)), ybar));

    /// <inheritdoc/>
    public bool Equals(ColumnOp? other) => other is not null && other.J == J;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ColumnOp);
    /// <inheritdoc/>
    public override int GetHashCode() => J;
    /// <inheritdoc/>
    public override string ToString() => $"column {J}";
}
