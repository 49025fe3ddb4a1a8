using System;

namespace Functional.Autodiff;

// Element access and its transpose. Both are linear: index picks one element, scatter places a scalar into zeros.

/// <summary>y = x[i] or X[i, j]    ẏ = ẋ[i]    x̄ = zeros with ȳ at the position (scatter).</summary>
public sealed class IndexOp : LinearOp, IEquatable<IndexOp>
{
    /// <summary>The op reading element <paramref name="i"/> of a vector, or (<paramref name="i"/>, <paramref name="j"/>) of a matrix when <paramref name="j"/> is given.</summary>
    public IndexOp(int i, int? j = null)
    {
        I = i;
        J = j;
    }

    /// <summary>The element (vector) or row (matrix) index.</summary>
    public int I { get; }

    /// <summary>The column index for a matrix; null for a vector.</summary>
    public int? J { get; }

    /// <inheritdoc/>
    public override string Name => "index";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        if (J is null)
        {
            if (!s.IsVector)
                throw new ShapeMismatchException(Name, s, s.IsMatrix ? "A matrix takes two indices: use x[i, j]." : "A scalar has no elements to index.");
            CheckRange(Name, I, s.Length, s, "i");
        }
        else
        {
            if (!s.IsMatrix)
                throw new ShapeMismatchException(Name, s, s.IsVector ? "A vector takes one index: use x[i]." : "A scalar has no elements to index.");
            CheckRange(Name, I, s.Rows, s, "i");
            CheckRange(Name, J.Value, s.Cols, s, "j");
        }
        return Shape.Scalar;
    }

    internal static void CheckRange(string op, int index, int count, Shape shape, string name)
    {
        if ((uint)index >= (uint)count)
            throw new ArgumentOutOfRangeException(name, index, UserCode.Mark($"{op}: {name} = {index} is outside {shape} (valid: 0 to {count - 1})."));
    }

    internal int Offset(Shape s) => J is { } j ? j * s.Rows + I : I;

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) => Value.Scalar(x[0].Span[Offset(x[0].Shape)]);

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(new ScatterOp(inputShape, I, J), ybar);

    /// <inheritdoc/>
    public bool Equals(IndexOp? other) => other is not null && other.I == I && other.J == J;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as IndexOp);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(I, J);
    /// <inheritdoc/>
    public override string ToString() => J is { } j ? $"index [{I}, {j}]" : $"index [{I}]";
}

/// <summary>Y = zeros of <see cref="Target"/> with the scalar x at one position    Ẏ = scatter(ẋ)    x̄ = Ȳ at the position.</summary>
public sealed class ScatterOp : LinearOp, IEquatable<ScatterOp>
{
    private readonly IndexOp index;

    /// <summary>The op placing a scalar at (<paramref name="i"/>[, <paramref name="j"/>]) of zeros shaped <paramref name="target"/>.</summary>
    public ScatterOp(Shape target, int i, int? j = null)
    {
        index = new IndexOp(i, j);
        if (j is null ? !target.IsVector : !target.IsMatrix)
            throw new ShapeMismatchException("scatter", target,
                j is null ? "One position (i) places a scalar into a vector; give (i, j) for a matrix." : "Two positions (i, j) place a scalar into a matrix; give one for a vector.");
        IndexOp.CheckRange("scatter", i, target.Rows, target, "i");
        if (j is { } col) IndexOp.CheckRange("scatter", col, target.Cols, target, "j");
        Target = target;
    }

    /// <summary>The output shape.</summary>
    public Shape Target { get; }

    /// <summary>The position: the element (vector) or row (matrix) index, and the column index for a matrix (the graph format saves them).</summary>
    public (int I, int? J) Position => (index.I, index.J);

    /// <summary>Where the scalar goes in the output's storage.</summary>
    internal int Offset => index.Offset(Target);

    /// <inheritdoc/>
    public override string Name => "scatter";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsScalar ? Target : throw new ShapeMismatchException(Name, x[0], Target, "scatter places a scalar.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var y = new double[Target.Size];
        y[Offset] = x[0].ToScalar();
        return Value.Own(Target, y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(index, ybar);

    /// <inheritdoc/>
    public bool Equals(ScatterOp? other) => other is not null && other.Target == Target && other.index.Equals(index);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as ScatterOp);
    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Target, index);
}
