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
    public override Value Eval(ReadOnlySpan<Value> x) => Value.Scalar(Kernel(x[0].Span, x[1].Span));

    /// <summary>
    /// a · b: up to <see cref="SumOp.SequentialLength"/> elements the products added one after another from 0
    /// (((0 + a₀b₀) + a₁b₁) + …, each product rounded, no fused multiply-add), vectorised beyond.
    /// </summary>
    internal static double Kernel(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length > SumOp.SequentialLength) return TensorPrimitives.Dot(a, b);
        var s = 0.0;
        for (var k = 0; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }

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

    internal override bool WritesInto => true;

    /// <summary>The same product as <see cref="Eval"/>, written into a compiled program's buffer (same kernel, same bits).</summary>
    internal override void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) =>
        Kernels.MatVecInto(x[0].Storage, x[0].Shape.Rows, x[0].Shape.Cols, x[1].Storage, dest);

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

    internal override bool WritesInto => true;

    /// <summary>The same product as <see cref="Eval"/>, written into a compiled program's buffer (same kernel, same bits).</summary>
    internal override void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) =>
        Kernels.VecMatInto(x[0].Storage, x[1].Storage, x[1].Shape.Rows, x[1].Shape.Cols, dest);

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        i == 0 ? Expr.Create(MatVecOp.Instance, x[1], ybar) : Expr.Outer(x[0], ybar);
}

/// <summary>
/// Y = op(A) op(B), op the identity or the transpose as the op's flags say (op(A) m×k, op(B) k×n)
///     Ẏ = op(Ȧ) op(B) + op(A) op(Ḃ)    Ā = Ȳ op(B)ᵀ (transposed back when A is), B̄ = op(A)ᵀ Ȳ (likewise).
/// </summary>
/// <remarks>
/// <see cref="Instance"/> is the plain product A·B that <see cref="Expr.MatMul(Expr, Expr)"/> builds. The transposed forms are
/// what the reverse rule builds, so a gradient reads the stored matrices transposed inside the kernel (the packing
/// of the GEMM) and never materialises a transpose: the cotangents of A·B are Ȳ·Bᵀ and Aᵀ·Ȳ, each one node.
/// </remarks>
public sealed class MatMulOp : BilinearOp
{
    /// <summary>The op: Y = A·B.</summary>
    public static readonly MatMulOp Instance = new(false, false);
    private static readonly MatMulOp TransposedA = new(true, false), TransposedB = new(false, true), TransposedBoth = new(true, true);
    private MatMulOp(bool transposeA, bool transposeB) => (TransposeA, TransposeB) = (transposeA, transposeB);

    /// <summary>The product op(A)·op(B) with A transposed when <paramref name="transposeA"/> and B when <paramref name="transposeB"/>.</summary>
    public static MatMulOp Of(bool transposeA, bool transposeB) =>
        (transposeA, transposeB) switch { (false, false) => Instance, (true, false) => TransposedA, (false, true) => TransposedB, _ => TransposedBoth };

    /// <summary>Whether the first input enters transposed (op(A) = Aᵀ).</summary>
    public bool TransposeA { get; }

    /// <summary>Whether the second input enters transposed (op(B) = Bᵀ).</summary>
    public bool TransposeB { get; }

    /// <inheritdoc/>
    public override string Name => "matmul";

    /// <inheritdoc/>
    public override string ToString() => (TransposeA, TransposeB) switch
    {
        (false, false) => Name,
        _ => $"{Name} {(TransposeA ? "Aᵀ" : "A")}·{(TransposeB ? "Bᵀ" : "B")}",
    };

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        if (x[0].IsMatrix && x[1].IsMatrix)
        {
            int m = TransposeA ? x[0].Cols : x[0].Rows, k = TransposeA ? x[0].Rows : x[0].Cols;
            int kb = TransposeB ? x[1].Cols : x[1].Rows, n = TransposeB ? x[1].Rows : x[1].Cols;
            if (k == kb) return Shape.Matrix(m, n);
        }
        throw Mismatch(x, (TransposeA, TransposeB) switch
        {
            (false, false) => "matmul takes a matrix(m, k) and a matrix(k, n): the first's columns must equal the second's rows.",
            _ => $"{this} takes two matrices whose inner dimensions agree once {(TransposeA ? "the first" : "")}{(TransposeA && TransposeB ? " and " : "")}{(TransposeB ? "the second" : "")} is transposed.",
        });
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        Shape a = x[0].Shape, b = x[1].Shape;
        int m = TransposeA ? a.Cols : a.Rows, k = TransposeA ? a.Rows : a.Cols, n = TransposeB ? b.Rows : b.Cols;
        return Value.Own(Shape.Matrix(m, n), Kernels.MatMul(x[0].Storage, TransposeA, x[1].Storage, TransposeB, m, k, n));
    }

    internal override bool WritesInto => true;

    /// <summary>The same product as <see cref="Eval"/>, written into a compiled program's buffer (same kernel, same bits).</summary>
    internal override void EvalInto(ReadOnlySpan<Value> x, double[] dest)
    {
        Shape a = x[0].Shape, b = x[1].Shape;
        int m = TransposeA ? a.Cols : a.Rows, k = TransposeA ? a.Rows : a.Cols, n = TransposeB ? b.Rows : b.Cols;
        Kernels.MatMulInto(x[0].Storage, TransposeA, x[1].Storage, TransposeB, dest, m, k, n);
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => i == 0
        // op(A)‾ = Ȳ op(B)ᵀ; A's own cotangent is that, or its transpose op(B) Ȳᵀ when A enters transposed.
        ? TransposeA ? Expr.Create(Of(TransposeB, true), x[1], ybar) : Expr.Create(Of(false, !TransposeB), ybar, x[1])
        // op(B)‾ = op(A)ᵀ Ȳ; B's own cotangent is that, or its transpose Ȳᵀ op(A) when B enters transposed.
        : TransposeB ? Expr.Create(Of(true, TransposeA), ybar, x[0]) : Expr.Create(Of(!TransposeA, false), x[0], ybar);
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
