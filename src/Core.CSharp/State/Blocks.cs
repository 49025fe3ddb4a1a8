using System;
using System.Collections.Immutable;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff;

/// <summary>
/// A Jacobian or Hessian of structured inputs (and outputs) in blocks, one per pair of leaves, as JAX's
/// <c>jacobian</c> of pytrees gives them: block (i, j) is the matrix of ∂(row leaf i) / ∂(column leaf j) with a row
/// per element of row leaf i and a column per element of column leaf j, elements of a matrix leaf in row-major order
/// (as NumPy's <c>ravel</c>). <see cref="ToMatrix"/> gives the whole matrix, the blocks laid out in leaf order.
/// </summary>
/// <example>
/// <code>
/// var h = AD.Hessian&lt;(Value, Value), (Expr, Expr)&gt;(t =&gt; Expr.Sum(t.Item1 * t.Item2))((a, b));
/// Matrix&lt;double&gt; cross = h["[0]", "[1]"];   // ∂²f / ∂a ∂b
/// Matrix&lt;double&gt; all = h.ToMatrix();
/// </code>
/// </example>
public sealed class Blocks
{
    private readonly Matrix<double>[,] blocks;

    internal Blocks(ImmutableArray<string> rowPaths, ImmutableArray<Shape> rowShapes, ImmutableArray<string> columnPaths, ImmutableArray<Shape> columnShapes)
    {
        RowPaths = rowPaths;
        RowShapes = rowShapes;
        ColumnPaths = columnPaths;
        ColumnShapes = columnShapes;
        blocks = new Matrix<double>[rowPaths.Length, columnPaths.Length];
        for (var i = 0; i < rowPaths.Length; i++)
            for (var j = 0; j < columnPaths.Length; j++)
                blocks[i, j] = Matrix<double>.Build.Dense(rowShapes[i].Size, columnShapes[j].Size);
    }

    /// <summary>The paths of the row leaves (the outputs of a Jacobian, the inputs of a Hessian): <c>y</c> for a single output.</summary>
    public ImmutableArray<string> RowPaths { get; }

    /// <summary>The shapes of the row leaves.</summary>
    public ImmutableArray<Shape> RowShapes { get; }

    /// <summary>The paths of the column leaves (the inputs differentiated by, in leaf order).</summary>
    public ImmutableArray<string> ColumnPaths { get; }

    /// <summary>The shapes of the column leaves.</summary>
    public ImmutableArray<Shape> ColumnShapes { get; }

    /// <summary>Block (<paramref name="row"/>, <paramref name="column"/>) by leaf positions (a copy).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A position is out of range.</exception>
    public Matrix<double> this[int row, int column]
    {
        get
        {
            if ((uint)row >= (uint)RowPaths.Length)
                throw new ArgumentOutOfRangeException(nameof(row), row, UserCode.Mark($"There are {RowPaths.Length} row leaves ({string.Join(", ", RowPaths)})."));
            if ((uint)column >= (uint)ColumnPaths.Length)
                throw new ArgumentOutOfRangeException(nameof(column), column, UserCode.Mark($"There are {ColumnPaths.Length} column leaves ({string.Join(", ", ColumnPaths)})."));
            return blocks[row, column].Clone();
        }
    }

    /// <summary>Block (<paramref name="row"/>, <paramref name="column"/>) by leaf paths, e.g. <c>h["w", "b"]</c> (a copy).</summary>
    /// <exception cref="System.Collections.Generic.KeyNotFoundException">No leaf has that path; the message lists them.</exception>
    public Matrix<double> this[string row, string column] => blocks[Find(RowPaths, row, "row"), Find(ColumnPaths, column, "column")].Clone();

    /// <summary>The whole matrix: rows for every element of every row leaf, columns for every element of every column leaf, in leaf order.</summary>
    public Matrix<double> ToMatrix()
    {
        var m = Matrix<double>.Build.Dense(RowShapes.Sum(s => s.Size), ColumnShapes.Sum(s => s.Size));
        for (int i = 0, r = 0; i < RowPaths.Length; r += RowShapes[i].Size, i++)
            for (int j = 0, c = 0; j < ColumnPaths.Length; c += ColumnShapes[j].Size, j++)
                m.SetSubMatrix(r, c, blocks[i, j]);
        return m;
    }

    /// <summary>The leaves and their block sizes.</summary>
    public override string ToString() =>
        $"Blocks: rows {string.Join(", ", RowPaths.Zip(RowShapes, (p, s) => $"{p} ({s})"))}; columns {string.Join(", ", ColumnPaths.Zip(ColumnShapes, (p, s) => $"{p} ({s})"))}";

    /// <summary>Block (i, j) itself, for the combinators that hand out one block.</summary>
    internal Matrix<double> Block(int row, int column) => blocks[row, column];

    internal void Set(int row, int column, int i, int j, double value) => blocks[row, column][i, j] = value;

    private static int Find(ImmutableArray<string> paths, string path, string which)
    {
        Guard.NotNull(path);
        var k = paths.IndexOf(path);
        return k >= 0 ? k
            : throw new System.Collections.Generic.KeyNotFoundException(UserCode.Mark($"No {which} leaf has the path '{path}'; the {which} leaves are: {string.Join(", ", paths)}."));
    }
}
