using System;

namespace Functional.Autodiff;

/// <summary>
/// NumPy's broadcasting within rank ≤ 2, the one rule every element-wise op of several inputs follows. Shapes are
/// aligned on the right as NumPy aligns them: a scalar is (1, 1), a vector(n) is (1, n), a matrix(m, n) is (m, n); two
/// sizes along an axis fit when they are equal or one of them is 1, and the result has the larger size and the larger
/// rank. So a scalar goes with anything, a vector(n) or a matrix(1, n) with every row of a matrix(m, n), a matrix(m, 1)
/// with every column, and matrix(m, 1) with vector(n) or matrix(1, n) makes a matrix(m, n). Any other pairing is
/// refused with a <see cref="ShapeMismatchException"/> naming the op.
/// </summary>
internal static class Broadcasting
{
    /// <summary>The shape as NumPy aligns it: (rows, cols), a vector(n) as (1, n), a scalar as (1, 1).</summary>
    public static (int Rows, int Cols) Aligned(Shape s) => s.IsMatrix ? (s.Rows, s.Cols) : s.IsVector ? (1, s.Length) : (1, 1);

    /// <summary>The broadcast shape of <paramref name="a"/> and <paramref name="b"/>, or null when they do not fit.</summary>
    public static Shape? TryResult(Shape a, Shape b)
    {
        if (a == b || b.IsScalar) return a;
        if (a.IsScalar) return b;
        var (ar, ac) = Aligned(a);
        var (br, bc) = Aligned(b);
        if (!Fits(ar, br) || !Fits(ac, bc)) return null;
        return a.IsMatrix || b.IsMatrix ? Shape.Matrix(Math.Max(ar, br), Math.Max(ac, bc)) : Shape.Vector(Math.Max(ac, bc));
    }

    private static bool Fits(int x, int y) => x == y || x == 1 || y == 1;

    /// <summary>The broadcast shape of two inputs of <paramref name="op"/>.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast; the message names the op, both shapes and the fix.</exception>
    public static Shape Result(string op, Shape a, Shape b) =>
        TryResult(a, b) ?? throw new ShapeMismatchException(op, a, b, Fix(op));

    /// <summary>What to do when shapes do not broadcast.</summary>
    public static string Fix(string op) =>
        $"{op} works element by element: give both inputs one shape, or shapes that broadcast as NumPy's do: a scalar with " +
        "anything, a vector(n) or a matrix(1, n) with every row of a matrix(m, n), a matrix(m, 1) with every column of a " +
        "matrix(m, n), a matrix(m, 1) with a vector(n) or a matrix(1, n) (giving matrix(m, n)). For products of vectors and " +
        "matrices use Dot, MatMul or Outer; Reshape turns a vector into a row or column matrix.";

    /// <summary>True when <paramref name="source"/> broadcasts to exactly <paramref name="target"/>.</summary>
    public static bool BroadcastsTo(Shape source, Shape target) => TryResult(source, target) == target;

    /// <summary>
    /// Where element (i, j) of a result of shape (rows, cols) (as <see cref="Aligned"/>) reads an input of the aligned
    /// shape (r, c) that broadcasts to it, in the input's column-major storage.
    /// </summary>
    public static int Index(int r, int c, int i, int j) => (c == 1 ? 0 : j) * r + (r == 1 ? 0 : i);
}
