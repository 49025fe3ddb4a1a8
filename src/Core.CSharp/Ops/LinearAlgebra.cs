using System;
using System.Collections.Immutable;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Functional.Autodiff;

// Linear algebra on MathNet's decompositions: inverse, solve, det and logdet on LU, cholesky on Cholesky; trace,
// diag and diagonal are linear. The rules are the standard matrix-calculus ones (JAX's jax.numpy.linalg, PyTorch's
// torch.linalg), written with solve, inverse, matmul and transpose nodes, so they differentiate again. A matrix the
// decomposition cannot take (singular, not positive definite, a determinant that is not positive) is refused with a
// LinearAlgebraException naming the op, never answered with NaNs. MatrixPower is matmuls, built in Expr.MatrixPower.

/// <summary>Shape checks and MathNet factorisations shared by the ops of linear algebra.</summary>
internal static class LinAlg
{
    /// <summary>Throws the shape error of <paramref name="op"/> unless <paramref name="a"/> is a square matrix.</summary>
    public static void RequireSquare(string op, Shape a, string what = "a square matrix(n, n)")
    {
        if (!a.IsMatrix || a.Rows != a.Cols)
            throw new ShapeMismatchException(op, a,
                $"{op} takes {what}" + (a.IsMatrix ? "; this one is not square." : "."));
    }

    /// <summary>A MathNet matrix holding a copy of the value (MathNet's factorisations must never see shared storage).</summary>
    public static DenseMatrix Copy(Value a) => new(a.Shape.Rows, a.Shape.Cols, (double[])a.Storage.Clone());

    /// <summary>The LU factorisation of a square matrix, and the first zero pivot (−1 when there is none).</summary>
    public static (LU<double> Lu, Vector<double> Pivots, int ZeroPivot) Lu(Value a)
    {
        var lu = Copy(a).LU();
        var pivots = lu.U.Diagonal();
        var zero = -1;
        for (var k = 0; k < pivots.Count && zero < 0; k++)
            if (pivots[k] == 0) zero = k;
        return (lu, pivots, zero);
    }

    /// <summary>The LU factorisation of a matrix that must be invertible: throws for <paramref name="op"/> otherwise.</summary>
    public static LU<double> Invertible(string op, Value a, string what, string fix)
    {
        var (lu, _, zero) = Lu(a);
        if (zero >= 0)
            throw new LinearAlgebraException(op,
                $"{what} ({a.Shape}) is singular: its LU factorisation has a zero pivot in column {zero} (counting from 0), so a row is a " +
                "combination of the others", fix);
        return lu;
    }

    /// <summary>
    /// Throws for <paramref name="op"/> when the result is not finite though the inputs are: a pivot so small that
    /// the result overflowed.
    /// </summary>
    public static void RequireFinite(string op, Value result, string fix, Value a, Value? b = null)
    {
        if (AllFinite(result.Span) || !AllFinite(a.Span) || b is { } rhs && !AllFinite(rhs.Span)) return;
        throw new LinearAlgebraException(op, $"the matrix ({a.Shape}) is singular to working precision: the result overflowed", fix);
    }

    private static bool AllFinite(ReadOnlySpan<double> x)
    {
        foreach (var v in x)
            if (!double.IsFinite(v)) return false;
        return true;
    }

    /// <summary>+1 or −1: the sign of the row permutation of an LU factorisation.</summary>
    public static int Sign(MathNet.Numerics.Permutation p)
    {
        // A permutation of n elements with c cycles is a product of n − c transpositions.
        var n = p.Dimension;
        var seen = new bool[n];
        var transpositions = 0;
        for (var start = 0; start < n; start++)
        {
            if (seen[start]) continue;
            var length = 0;
            for (var k = start; !seen[k]; k = p[k])
            {
                seen[k] = true;
                length++;
            }
            transpositions += length - 1;
        }
        return transpositions % 2 == 0 ? 1 : -1;
    }

    /// <summary>The value of a MathNet matrix the caller just made (its storage is handed over, not copied).</summary>
    public static Value Own(Matrix<double> m) =>
        Value.Own(Shape.Matrix(m.RowCount, m.ColumnCount), ((DenseMatrix)m).Values);

    /// <summary>(X + Xᵀ) / 2, exactly symmetric.</summary>
    public static Expr Symmetric(Expr x) => 0.5 * (x + Expr.Transpose(x));

    /// <summary>
    /// Φ(X): the lower triangle of X with its diagonal halved, as X ⊙ M for a constant mask M (linear and
    /// self-adjoint, so it is its own transpose).
    /// </summary>
    public static Expr Phi(Expr x)
    {
        var n = x.Shape.Rows;
        var mask = new double[n * n];
        for (var j = 0; j < n; j++)
        {
            mask[j * n + j] = 0.5;
            for (var i = j + 1; i < n; i++) mask[j * n + i] = 1;
        }
        return x * Expr.Const(Value.Own(Shape.Matrix(n, n), mask));
    }
}

/// <summary>Y = A⁻¹ (A n×n, invertible)    Ẏ = −Y Ȧ Y    Ā = −Yᵀ Ȳ Yᵀ.</summary>
public sealed class InverseOp : Op
{
    /// <summary>The op.</summary>
    public static readonly InverseOp Instance = new();
    private InverseOp() { }

    /// <inheritdoc/>
    public override string Name => "inverse";

    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        LinAlg.RequireSquare(Name, x[0]);
        return x[0];
    }

    private const string Fix =
        "inverse (and the derivatives of det and logdet, which need the inverse) takes a non-singular matrix: check the " +
        "matrix, or regularise it (A + λI); to solve A x = b use Solve, not the inverse";

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var y = LinAlg.Own(LinAlg.Invertible(Name, x[0], "the matrix", Fix + ".").Inverse());
        LinAlg.RequireFinite(Name, y, Fix + ".", x[0]);
        return y;
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar)
    {
        var yt = Expr.Transpose(y);
        return -Expr.MatMul(Expr.MatMul(yt, ybar), yt);
    }

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } da ? -Expr.MatMul(Expr.MatMul(y, da), y) : null;
}

/// <summary>
/// X = A⁻¹ B (A n×n invertible; B a vector(n) or a matrix(n, k))    Ẋ = A⁻¹(Ḃ − Ȧ X)    B̄ = A⁻ᵀ X̄, Ā = −B̄ Xᵀ
/// (every A⁻¹ is a solve, never an inverse).
/// </summary>
public sealed class SolveOp : Op
{
    /// <summary>The op.</summary>
    public static readonly SolveOp Instance = new();
    private SolveOp() { }

    /// <inheritdoc/>
    public override string Name => "solve";

    /// <inheritdoc/>
    public override int Arity => 2;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        Shape a = x[0], b = x[1];
        if (!a.IsMatrix || a.Rows != a.Cols)
            throw new ShapeMismatchException(Name, a, b,
                "solve takes a square matrix A(n, n) and a right-hand side b, a vector(n) or a matrix(n, k)" +
                (a.IsMatrix ? ": for a non-square A, solve the least-squares normal equations Solve(AᵀA, Aᵀb)." : "."));
        if (b.IsScalar || b.Rows != a.Rows)
            throw new ShapeMismatchException(Name, a, b,
                $"solve's right-hand side must be a vector({a.Rows}) or a matrix({a.Rows}, k): its length (or rows) must equal A's rows.");
        return b;
    }

    private const string Fix =
        "A x = b has no unique solution: check A, or regularise it (A + λI); for a least-squares solution solve " +
        "(AᵀA + λI) x = Aᵀb.";

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var lu = LinAlg.Invertible(Name, x[0], "A", Fix);
        Value b = x[1];
        var y = b.Shape.IsVector
            ? Value.Own(b.Shape, ((DenseVector)lu.Solve(new DenseVector((double[])b.Storage.Clone()))).Values)
            : LinAlg.Own(lu.Solve(LinAlg.Copy(b)));
        LinAlg.RequireFinite(Name, y, Fix, x[0], b);
        return y;
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar)
    {
        var bbar = Expr.Create(this, Expr.Transpose(x[0]), ybar);
        if (i == 1) return bbar;
        return -(y.Shape.IsVector ? Expr.Outer(bbar, y) : Expr.MatMul(bbar, Expr.Transpose(y)));
    }

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx)
    {
        var rhs = dx[1];
        if (dx[0] is { } da)
        {
            var ax = Expr.MatMul(da, y);
            rhs = rhs is null ? -ax : rhs - ax;
        }
        return rhs is null ? null : Expr.Create(this, x[0], rhs);
    }
}

/// <summary>y = det A (A n×n)    ẏ = y tr(A⁻¹Ȧ)    Ā = ȳ y A⁻ᵀ (the derivatives need A invertible).</summary>
public sealed class DetOp : Op
{
    /// <summary>The op.</summary>
    public static readonly DetOp Instance = new();
    private DetOp() { }

    /// <inheritdoc/>
    public override string Name => "det";

    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        LinAlg.RequireSquare(Name, x[0]);
        return Shape.Scalar;
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) => Value.Scalar(LinAlg.Copy(x[0]).LU().Determinant);

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        ybar * y * Expr.Transpose(Expr.Create(InverseOp.Instance, x[0]));

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } da ? y * Expr.Create(TraceOp.Instance, Expr.Create(SolveOp.Instance, x[0], da)) : null;
}

/// <summary>y = log det A (A n×n, det A &gt; 0)    ẏ = tr(A⁻¹Ȧ)    Ā = ȳ A⁻ᵀ.</summary>
public sealed class LogDetOp : Op
{
    /// <summary>The op.</summary>
    public static readonly LogDetOp Instance = new();
    private LogDetOp() { }

    /// <inheritdoc/>
    public override string Name => "logdet";

    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        LinAlg.RequireSquare(Name, x[0]);
        return Shape.Scalar;
    }

    private const string Fix =
        "logdet takes matrices of positive determinant (a covariance, an SPD matrix, a Jacobian that keeps orientation): " +
        "for log |det A| use Log(Abs(Det(A))), or Det(A) for the signed value.";

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        // Summed as logs of the pivots, so a determinant beyond the range of doubles still has a finite log.
        var (lu, pivots, zero) = LinAlg.Lu(x[0]);
        if (zero >= 0)
            throw new LinearAlgebraException(Name,
                $"the matrix ({x[0].Shape}) is singular (determinant 0, sign 0; a zero pivot in column {zero}, counting from 0), so its log is −∞", Fix);
        var sign = LinAlg.Sign(lu.P);
        var log = 0.0;
        for (var k = 0; k < pivots.Count; k++)
        {
            if (pivots[k] < 0) sign = -sign;
            log += Math.Log(Math.Abs(pivots[k]));
        }
        if (sign < 0)
            throw new LinearAlgebraException(Name,
                $"the determinant of the matrix ({x[0].Shape}) is negative (sign −1, log |det| = {Value.Format(log)}), so it has no real log", Fix);
        return Value.Scalar(log);
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        ybar * Expr.Transpose(Expr.Create(InverseOp.Instance, x[0]));

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } da ? Expr.Create(TraceOp.Instance, Expr.Create(SolveOp.Instance, x[0], da)) : null;
}

/// <summary>
/// L = cholesky(S), S = (A + Aᵀ)/2 symmetric positive definite, L lower triangular with L Lᵀ = S
/// L̇ = L Φ(L⁻¹ Ṡ L⁻ᵀ)    Ā = L⁻ᵀ sym(Φ(Lᵀ L̄)) L⁻¹, where Φ takes the lower triangle with the diagonal halved
/// (Murray 2016; JAX's cholesky_jvp_rule, PyTorch's cholesky_backward).
/// </summary>
/// <remarks>
/// The op factors the symmetric part of its input, as JAX's <c>cholesky</c> does (<c>symmetrize_input</c>): for a
/// symmetric matrix that is the matrix itself, and the op is a function of every element, so its derivatives in any
/// direction exist and the cotangent is symmetric (PyTorch's).
/// </remarks>
public sealed class CholeskyOp : Op
{
    /// <summary>The op.</summary>
    public static readonly CholeskyOp Instance = new();
    private CholeskyOp() { }

    /// <inheritdoc/>
    public override string Name => "cholesky";

    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        LinAlg.RequireSquare(Name, x[0], "a symmetric positive-definite matrix(n, n)");
        return x[0];
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var a = x[0].Span;
        var n = x[0].Shape.Rows;
        var s = new double[n * n];
        for (var j = 0; j < n; j++)
            for (var i = 0; i < n; i++)
                s[j * n + i] = 0.5 * (a[j * n + i] + a[i * n + j]);
        Matrix<double> factor;
        try
        {
            factor = new DenseMatrix(n, n, s).Cholesky().Factor;
        }
        catch (ArgumentException)
        {
            throw new LinearAlgebraException(Name,
                $"the matrix ({x[0].Shape}) is not positive definite (cholesky factors its symmetric part (A + Aᵀ)/2, and " +
                "that has an eigenvalue ≤ 0)",
                "cholesky takes symmetric positive-definite matrices: for a covariance add a small multiple of the identity " +
                "(A + εI); for B·Bᵀ check that B has full row rank.");
        }
        return LinAlg.Own(factor);
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar)
    {
        // P = sym(Φ(Lᵀ L̄)) is symmetric, so (L⁻ᵀ P)ᵀ = P L⁻¹ and L⁻ᵀ P L⁻¹ is two solves with Lᵀ.
        var lt = Expr.Transpose(y);
        var p = LinAlg.Symmetric(LinAlg.Phi(Expr.MatMul(lt, ybar)));
        return Expr.Create(SolveOp.Instance, lt, Expr.Transpose(Expr.Create(SolveOp.Instance, lt, p)));
    }

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx)
    {
        if (dx[0] is not { } da) return null;
        // Ṡ is symmetric, so (L⁻¹ Ṡ)ᵀ = Ṡ L⁻ᵀ and L⁻¹ Ṡ L⁻ᵀ is two solves with L.
        var sdot = LinAlg.Symmetric(da);
        var inner = Expr.Create(SolveOp.Instance, y, Expr.Transpose(Expr.Create(SolveOp.Instance, y, sdot)));
        return Expr.MatMul(y, LinAlg.Phi(inner));
    }
}

/// <summary>y = tr A = Σᵢ Aᵢᵢ (A m×n, the main diagonal)    ẏ = tr Ȧ    Ā = ȳ I (m×n).</summary>
public sealed class TraceOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly TraceOp Instance = new();
    private TraceOp() { }

    /// <inheritdoc/>
    public override string Name => "trace";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix ? Shape.Scalar : throw new ShapeMismatchException(Name, x[0], "trace takes a matrix; for the sum of a vector use Sum.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        var t = 0.0;
        for (var k = 0; k < Math.Min(s.Rows, s.Cols); k++) t += a[k * s.Rows + k];
        return Value.Scalar(t);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => ybar * Expr.Eye(inputShape.Rows, inputShape.Cols);
}

/// <summary>Y = the n×n matrix with the vector(n) x on its diagonal    Ẏ = diag(ẋ)    x̄ = diagonal(Ȳ).</summary>
public sealed class DiagOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly DiagOp Instance = new();
    private DiagOp() { }

    /// <inheritdoc/>
    public override string Name => "diag";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsVector ? Shape.Matrix(x[0].Length, x[0].Length)
        : throw new ShapeMismatchException(Name, x[0],
            "diag takes a vector and makes the diagonal matrix (Expr.Diag also takes a matrix, and gives its diagonal).");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var v = x[0].Span;
        var n = v.Length;
        var y = new double[n * n];
        for (var k = 0; k < n; k++) y[k * n + k] = v[k];
        return Value.Own(Shape.Matrix(n, n), y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape) => Expr.Create(DiagonalOp.Instance, ybar);
}

/// <summary>
/// y = the main diagonal of X (m×n), a vector(min(m, n))    ẏ = diagonal(Ẋ)    X̄ = diag(ȳ), padded with zero rows or
/// columns to m×n.
/// </summary>
public sealed class DiagonalOp : LinearOp
{
    /// <summary>The op.</summary>
    public static readonly DiagonalOp Instance = new();
    private DiagonalOp() { }

    /// <inheritdoc/>
    public override string Name => "diagonal";

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsMatrix ? Shape.Vector(Math.Min(x[0].Rows, x[0].Cols))
        : throw new ShapeMismatchException(Name, x[0], "diagonal takes a matrix; to make a diagonal matrix of a vector use Expr.Diag.");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var a = x[0].Span;
        var y = new double[Math.Min(s.Rows, s.Cols)];
        for (var k = 0; k < y.Length; k++) y[k] = a[k * s.Rows + k];
        return Value.Own(Shape.Vector(y.Length), y);
    }

    /// <inheritdoc/>
    public override Expr Transpose(Expr ybar, Shape inputShape)
    {
        var d = Expr.Create(DiagOp.Instance, ybar);
        int m = inputShape.Rows, n = inputShape.Cols;
        return m == n ? d
            : m < n ? Expr.MatMul(d, Expr.Eye(m, n))   // (m×m)(m×n): zero columns on the right
            : Expr.MatMul(Expr.Eye(m, n), d);          // (m×n)(n×n): zero rows below
    }
}
