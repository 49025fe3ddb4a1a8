using System;
using System.Text.Json.Serialization;

namespace Functional.Autodiff;

/// <summary>
/// The static shape of a node: a scalar, a vector of length n, or an m×n matrix.
/// Shapes are checked when a node is built, so a mismatch fails at the line that made it.
/// System.Text.Json writes a shape as NumPy's: <c>[]</c>, <c>[n]</c> or <c>[m, n]</c>.
/// </summary>
[JsonConverter(typeof(Serialization.ShapeJsonConverter))]
public readonly struct Shape : IEquatable<Shape>
{
    // Dimensions are stored less one, so that default(Shape) is the scalar shape (rank 0, 1×1), and so is the
    // shape of default(Value).
    private readonly int rowsLess1;
    private readonly int colsLess1;

    private Shape(int rank, int rows, int cols)
    {
        Rank = rank;
        rowsLess1 = rows - 1;
        colsLess1 = cols - 1;
    }

    /// <summary>0 for a scalar, 1 for a vector, 2 for a matrix.</summary>
    public int Rank { get; }

    /// <summary>Rows of a matrix, length of a vector, 1 for a scalar.</summary>
    public int Rows => rowsLess1 + 1;

    /// <summary>Columns of a matrix, 1 for a vector or a scalar.</summary>
    public int Cols => colsLess1 + 1;

    /// <summary>Length of a vector (same as <see cref="Rows"/>).</summary>
    public int Length => Rows;

    /// <summary>Number of elements: 1, n or m·n.</summary>
    public int Size => Rows * Cols;

    /// <summary>True for a scalar.</summary>
    public bool IsScalar => Rank == 0;

    /// <summary>True for a vector.</summary>
    public bool IsVector => Rank == 1;

    /// <summary>True for a matrix.</summary>
    public bool IsMatrix => Rank == 2;

    /// <summary>The scalar shape.</summary>
    public static Shape Scalar => default;

    /// <summary>The shape of a vector of length <paramref name="length"/> (at least 1).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The length is below 1.</exception>
    public static Shape Vector(int length)
    {
        if (length < 1)
            throw new ArgumentOutOfRangeException(nameof(length), length, UserCode.Mark("A vector needs at least one element."));
        return new(1, length, 1);
    }

    /// <summary>The most elements a value may have: the longest array .NET allocates.</summary>
    public static int MaxSize => Array.MaxLength;

    /// <summary>The shape of an m×n matrix (both at least 1, with at most <see cref="MaxSize"/> elements).</summary>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is below 1, or m·n is more than <see cref="MaxSize"/>.</exception>
    public static Shape Matrix(int rows, int cols)
    {
        if (rows < 1)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, UserCode.Mark("A matrix needs at least one row."));
        if (cols < 1)
            throw new ArgumentOutOfRangeException(nameof(cols), cols, UserCode.Mark("A matrix needs at least one column."));
        if ((long)rows * cols > MaxSize)
            throw new ArgumentOutOfRangeException(nameof(cols), cols,
                UserCode.Mark($"matrix({rows}, {cols}) would have {(long)rows * cols:N0} elements, more than the {MaxSize:N0} one .NET array holds: " +
                "split the data into smaller matrices."));
        return new(2, rows, cols);
    }

    /// <inheritdoc/>
    public bool Equals(Shape other) => Rank == other.Rank && rowsLess1 == other.rowsLess1 && colsLess1 == other.colsLess1;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Shape s && Equals(s);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rank, rowsLess1, colsLess1);

    /// <summary>Shape equality.</summary>
    public static bool operator ==(Shape a, Shape b) => a.Equals(b);

    /// <summary>Shape inequality.</summary>
    public static bool operator !=(Shape a, Shape b) => !a.Equals(b);

    /// <summary>"scalar", "vector(3)" or "matrix(2, 3)".</summary>
    public override string ToString() => Rank switch
    {
        0 => "scalar",
        1 => $"vector({Rows})",
        _ => $"matrix({Rows}, {Cols})",
    };
}
