using System;
using System.Collections.Immutable;
using System.Numerics.Tensors;

namespace Functional.Autodiff;

// Products of vectors and matrices. Each is bilinear, so its tangent is f(ȧ, b) + f(a, ḃ); the cotangents are
// products with the transpose. The numbers come from Kernels, the one seam for linear-algebra speed.

/// <summary>Base of the bilinear products: the tangent is f(ȧ, b) + f(a, ḃ).</summary>
public abstract class BilinearOp : Op
{
    /// <inheritdoc/>
    public sealed override int Arity => 2;

    /// <inheritdoc/>
    public sealed override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        AddOrNull(dx[0] is { } da ? Expr.Create(this, da, x[1]) : null,
                  dx[1] is { } db ? Expr.Create(this, x[0], db) : null);

    /// <summary>Throws the shape error for this product with a hint.</summary>
    protected ShapeMismatchException Mismatch(ReadOnlySpan<Shape> x, string fix) => new(Name, x[0], x[1], fix);
}

/// <summary>y = a · b (vectors of one length)    ẏ = ȧ·b + a·ḃ    ā = ȳ b, b̄ = ȳ a.</summary>
public sealed class DotOp : BilinearOp
{
    /// <summary>The op.</summary>
    public static readonly DotOp Instance = new();
    private DotOp() { }

    /// <inheritdoc/>
    public override string Name => "dot";

    /// <inheritdoc/>
    public override bool IsCommutative => true;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsVector && x[0] == x[1] ? Shape.Scalar
        : throw Mismatch(x, "dot takes two vectors of one length; for matrices use MatMul, for element-wise products use *.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) => Value.Scalar(TensorPrimitives.Dot(x[0].Span, x[1].Span));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => ybar * x[1 - i];
}

/// <summary>y = A x (A m×n, x n)    ẏ = Ȧx + Aẋ    Ā = ȳ xᵀ, x̄ = Aᵀ ȳ.</summary>
public sealed class MatVecOp : BilinearOp
{
    /// <summary>The op.</summary>
    public static readonly MatVecOp Instance = new();
    private MatVecOp() { }

    /// <inheritdoc/>
    public override string Name => "matvec";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix && x[1].IsVector && x[0].Cols == x[1].Length ? Shape.Vector(x[0].Rows)
        : throw Mismatch(x, "matvec takes a matrix(m, n) and a vector(n): the vector's length must equal the matrix's columns.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) =>
        Value.Own(Shape.Vector(x[0].Shape.Rows), Kernels.MatVec(x[0].Storage, x[0].Shape.Rows, x[0].Shape.Cols, x[1].Storage));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        i == 0 ? Expr.Outer(ybar, x[1]) : Expr.Create(VecMatOp.Instance, ybar, x[0]);
}

/// <summary>y = vᵀA (v m, A m×n)    ẏ = v̇ᵀA + vᵀȦ    v̄ = A ȳ, Ā = v ȳᵀ.</summary>
public sealed class VecMatOp : BilinearOp
{
    /// <summary>The op.</summary>
    public static readonly VecMatOp Instance = new();
    private VecMatOp() { }

    /// <inheritdoc/>
    public override string Name => "vecmat";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsVector && x[1].IsMatrix && x[0].Length == x[1].Rows ? Shape.Vector(x[1].Cols)
        : throw Mismatch(x, "vecmat takes a vector(m) and a matrix(m, n): the vector's length must equal the matrix's rows.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) =>
        Value.Own(Shape.Vector(x[1].Shape.Cols), Kernels.VecMat(x[0].Storage, x[1].Storage, x[1].Shape.Rows, x[1].Shape.Cols));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        i == 0 ? Expr.Create(MatVecOp.Instance, x[1], ybar) : Expr.Outer(x[0], ybar);
}

/// <summary>Y = A B (A m×k, B k×n)    Ẏ = ȦB + AḂ    Ā = Ȳ Bᵀ, B̄ = Aᵀ Ȳ.</summary>
public sealed class MatMulOp : BilinearOp
{
    /// <summary>The op.</summary>
    public static readonly MatMulOp Instance = new();
    private MatMulOp() { }

    /// <inheritdoc/>
    public override string Name => "matmul";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix && x[1].IsMatrix && x[0].Cols == x[1].Rows ? Shape.Matrix(x[0].Rows, x[1].Cols)
        : throw Mismatch(x, "matmul takes a matrix(m, k) and a matrix(k, n): the first's columns must equal the second's rows.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        Shape a = x[0].Shape, b = x[1].Shape;
        return Value.Own(Shape.Matrix(a.Rows, b.Cols), Kernels.MatMul(x[0].Storage, a.Rows, a.Cols, x[1].Storage, b.Cols));
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        i == 0 ? Expr.Create(this, ybar, Expr.Transpose(x[1])) : Expr.Create(this, Expr.Transpose(x[0]), ybar);
}

/// <summary>Y = a bᵀ (a m, b n)    Ẏ = ȧbᵀ + aḃᵀ    ā = Ȳ b, b̄ = Ȳᵀ a.</summary>
public sealed class OuterOp : BilinearOp
{
    /// <summary>The op.</summary>
    public static readonly OuterOp Instance = new();
    private OuterOp() { }

    /// <inheritdoc/>
    public override string Name => "outer";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsVector && x[1].IsVector ? Shape.Matrix(x[0].Length, x[1].Length)
        : throw Mismatch(x, "outer takes two vectors.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) =>
        Value.Own(Shape.Matrix(x[0].Shape.Length, x[1].Shape.Length), Kernels.Outer(x[0].Span, x[1].Span));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        i == 0 ? Expr.Create(MatVecOp.Instance, ybar, x[1]) : Expr.Create(VecMatOp.Instance, x[0], ybar);
}

/// <summary>Y = Xᵀ    Ẏ = Ẋᵀ    X̄ = Ȳᵀ.</summary>
public sealed class TransposeOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly TransposeOp Instance = new();
    private TransposeOp() { }

    /// <inheritdoc/>
    public override string Name => "transpose";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix ? Shape.Matrix(x[0].Cols, x[0].Rows)
        : throw new ShapeMismatchException(Name, x[0], "transpose takes a matrix; a vector has no orientation here (use Outer or MatMul with a one-row matrix).");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        return Value.Own(Shape.Matrix(s.Cols, s.Rows), Kernels.Transpose(x[0].Span, s.Rows, s.Cols));
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Transpose(ybar);
}
