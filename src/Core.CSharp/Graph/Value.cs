using System;
using System.Globalization;
using System.Numerics.Tensors;
using System.Text;
using System.Text.Json.Serialization;
using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Functional.Autodiff;

/// <summary>
/// An immutable number: a scalar, a vector or a matrix. This is what evaluation and gradients produce,
/// and what accumulation adds, scales, sets and resets.
/// </summary>
/// <remarks>
/// A value owns its storage: MathNet vectors and matrices are copied on the way in and on the way out,
/// so a value never aliases a caller's array. Matrices are stored column-major, like MathNet's dense matrices.
/// <c>default(Value)</c> is the scalar 0. System.Text.Json reads and writes a value as
/// <c>{"shape": [m, n], "data": [...]}</c>, row-major and exact (see <see cref="Serialization.ValueJsonConverter"/>).
/// </remarks>
[JsonConverter(typeof(Serialization.ValueJsonConverter))]
public readonly partial struct Value : IEquatable<Value>
{
    private readonly double scalar;
    private readonly double[]? data;

    private Value(double scalar)
    {
        Shape = Shape.Scalar;
        this.scalar = scalar;
        data = null;
    }

    private Value(Shape shape, double[] data)
    {
        Shape = shape;
        scalar = 0;
        this.data = data;
    }

    /// <summary>The shape of this value.</summary>
    public Shape Shape { get; }

    /// <summary>Storage of a vector or a matrix (column-major); never handed out of the library.</summary>
    internal ReadOnlySpan<double> Span => data ?? throw new InvalidOperationException(UserCode.Mark("A scalar value has no element storage."));

    /// <summary>The storage array itself, for kernels that wrap it read-only (MathNet products); never mutated, never handed out.</summary>
    internal double[] Storage => data ?? throw new InvalidOperationException(UserCode.Mark("A scalar value has no element storage."));

    /// <summary>The storage array, or null for a scalar (a compiled program's check that a result does not share a buffer).</summary>
    internal double[]? StorageOrNull => data;

    /// <summary>Takes ownership of <paramref name="storage"/> (which the caller just allocated); a scalar shape reads element 0.</summary>
    internal static Value Own(Shape shape, double[] storage) =>
        shape.IsScalar ? new Value(storage[0]) : new Value(shape, storage);

    /// <summary>
    /// A value that carries only a shape, no numbers: what a value-less node keeps so its shape is stored once. Never
    /// handed out (<see cref="Expr.Value"/> throws for such a node).
    /// </summary>
    internal static Value ShapeOnly(Shape shape) => shape.IsScalar ? default : new Value(shape, null!);

    /// <summary>A scalar value.</summary>
    public static Value Scalar(double x) => new(x);

    /// <summary>A vector value; the elements are copied.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="vector"/> is null.</exception>
    public static Value FromVector(Vector<double> vector)
    {
        Guard.NotNull(vector);
        return new Value(Shape.Vector(vector.Count), vector.ToArray());
    }

    /// <summary>A vector value from an array of elements; the array is copied.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="elements"/> is null.</exception>
    public static Value FromArray(params double[] elements)
    {
        Guard.NotNull(elements);
        return new Value(Shape.Vector(elements.Length), (double[])elements.Clone());
    }

    /// <summary>A matrix value; the elements are copied.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="matrix"/> is null.</exception>
    public static Value FromMatrix(Matrix<double> matrix)
    {
        Guard.NotNull(matrix);
        return new Value(Shape.Matrix(matrix.RowCount, matrix.ColumnCount), matrix.ToColumnMajorArray());
    }

    /// <summary>A value of the given shape filled with <paramref name="x"/>.</summary>
    public static Value Full(Shape shape, double x)
    {
        if (shape.IsScalar) return new Value(x);
        var d = new double[shape.Size];
        if (BitConverter.DoubleToInt64Bits(x) != 0) Array.Fill(d, x); // a new array is +0 already; −0 must be filled
        return new Value(shape, d);
    }

    /// <summary>Zeros of the given shape: the starting point of an accumulation.</summary>
    public static Value Zeros(Shape shape) => Full(shape, 0.0);

    /// <summary>Zeros of this value's shape (PyTorch's <c>grad.zero_()</c>, as a new value).</summary>
    public Value ZerosLike() => Zeros(Shape);

    /// <summary>The scalar.</summary>
    /// <exception cref="InvalidOperationException">This value is not a scalar.</exception>
    public double ToScalar() => Shape.IsScalar ? scalar : throw NotA("a scalar", "ToVector() or ToMatrix()");

    /// <summary>A new MathNet vector holding a copy of the elements.</summary>
    /// <exception cref="InvalidOperationException">This value is not a vector.</exception>
    public Vector<double> ToVector() =>
        Shape.IsVector ? new DenseVector((double[])data!.Clone()) : throw NotA("a vector", Shape.IsScalar ? "ToScalar()" : "ToMatrix()");

    /// <summary>A new MathNet matrix holding a copy of the elements.</summary>
    /// <exception cref="InvalidOperationException">This value is not a matrix.</exception>
    public Matrix<double> ToMatrix() =>
        Shape.IsMatrix ? new DenseMatrix(Shape.Rows, Shape.Cols, (double[])data!.Clone()) : throw NotA("a matrix", Shape.IsScalar ? "ToScalar()" : "ToVector()");

    /// <summary>A copy of the elements: one for a scalar, n for a vector, m·n column-major for a matrix.</summary>
    public double[] ToArray() => data is null ? new[] { scalar } : (double[])data.Clone();

    private InvalidOperationException NotA(string what, string instead) =>
        new(UserCode.Mark($"This value is {Shape}, not {what}: use {instead}."));

    /// <summary>Element <paramref name="i"/> of a vector.</summary>
    /// <exception cref="InvalidOperationException">This value is not a vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="i"/> is outside the vector.</exception>
    public double this[int i]
    {
        get
        {
            if (!Shape.IsVector) throw new InvalidOperationException(UserCode.Mark($"value[i] needs a vector but this value is {Shape}; use value[i, j] for a matrix or ToScalar() for a scalar."));
            CheckIndex(i, Shape.Rows, nameof(i));
            return data![i];
        }
    }

    /// <summary>Element (<paramref name="i"/>, <paramref name="j"/>) of a matrix.</summary>
    /// <exception cref="InvalidOperationException">This value is not a matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the matrix.</exception>
    public double this[int i, int j]
    {
        get
        {
            if (!Shape.IsMatrix) throw new InvalidOperationException(UserCode.Mark($"value[i, j] needs a matrix but this value is {Shape}."));
            CheckIndex(i, Shape.Rows, nameof(i));
            CheckIndex(j, Shape.Cols, nameof(j));
            return data![j * Shape.Rows + i];
        }
    }

    private void CheckIndex(int index, int count, string name)
    {
        if ((uint)index >= (uint)count)
            throw new ArgumentOutOfRangeException(name, index, UserCode.Mark($"Index {index} is outside a value of shape {Shape} (valid: 0 to {count - 1})."));
    }

    /// <summary>A copy of this vector with element <paramref name="i"/> set to <paramref name="x"/>.</summary>
    public Value SetItem(int i, double x)
    {
        _ = this[i];
        var d = (double[])data!.Clone();
        d[i] = x;
        return new Value(Shape, d);
    }

    /// <summary>A copy of this matrix with element (<paramref name="i"/>, <paramref name="j"/>) set to <paramref name="x"/>.</summary>
    public Value SetItem(int i, int j, double x)
    {
        _ = this[i, j];
        var d = (double[])data!.Clone();
        d[j * Shape.Rows + i] = x;
        return new Value(Shape, d);
    }

    /// <summary>Applies <paramref name="f"/> to every element, giving a new value of the same shape.</summary>
    public Value Map(Func<double, double> f)
    {
        Guard.NotNull(f);
        if (data is null) return new Value(f(scalar));
        var d = new double[data.Length];
        for (var k = 0; k < d.Length; k++) d[k] = f(data[k]);
        return new Value(Shape, d);
    }

    /// <summary>A scalar value.</summary>
    public static implicit operator Value(double x) => new(x);

    /// <summary>A vector value (copied).</summary>
    public static implicit operator Value(Vector<double> v) => FromVector(v);

    /// <summary>A matrix value (copied).</summary>
    public static implicit operator Value(Matrix<double> m) => FromMatrix(m);

    /// <summary>The scalar; throws <see cref="InvalidOperationException"/> naming the shape if this is not a scalar.</summary>
    public static explicit operator double(Value v) => v.ToScalar();

    /// <summary>A copy as a MathNet vector; throws <see cref="InvalidOperationException"/> naming the shape if this is not a vector.</summary>
    public static implicit operator Vector<double>(Value v) => v.ToVector();

    /// <summary>A copy as a MathNet matrix; throws <see cref="InvalidOperationException"/> naming the shape if this is not a matrix.</summary>
    public static implicit operator Matrix<double>(Value v) => v.ToMatrix();

    /// <summary>Exact equality of shape and every element.</summary>
    public bool Equals(Value other)
    {
        if (Shape != other.Shape) return false;
        return data is null ? scalar.Equals(other.scalar) : data.AsSpan().SequenceEqual(other.data);
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Value v && Equals(v);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Shape, data is null ? scalar : data.Length > 0 ? data[0] : 0);

    /// <summary>Exact equality.</summary>
    public static bool operator ==(Value a, Value b) => a.Equals(b);

    /// <summary>Exact inequality.</summary>
    public static bool operator !=(Value a, Value b) => !a.Equals(b);

    /// <summary>True when both have one shape and every pair of elements is within <paramref name="tolerance"/> (absolute).</summary>
    public bool IsCloseTo(Value other, double tolerance)
    {
        if (Shape != other.Shape) return false;
        if (data is null) return Math.Abs(scalar - other.scalar) <= tolerance;
        for (var k = 0; k < data.Length; k++)
            if (!(Math.Abs(data[k] - other.data![k]) <= tolerance)) return false;
        return true;
    }

    /// <summary>Formats a number the way the values print: shortest round-trip, invariant culture.</summary>
    internal static string Format(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// "40.5", "[9, 9, 9]" or "[[4, 2], [2, 4]]"; long vectors and large matrices are cut with "…" and the shape.
    /// </summary>
    public override string ToString()
    {
        const int maxItems = 8;
        if (data is null) return Format(scalar);
        var d = data;
        var shape = Shape;
        var sb = new StringBuilder();
        if (Shape.IsVector)
        {
            AppendRow(sb, shape.Rows, k => d[k], maxItems);
        }
        else
        {
            sb.Append('[');
            var rows = Math.Min(Shape.Rows, maxItems);
            for (var i = 0; i < rows; i++)
            {
                if (i > 0) sb.Append(", ");
                var r = i;
                AppendRow(sb, shape.Cols, j => d[j * shape.Rows + r], maxItems);
            }
            if (Shape.Rows > rows) sb.Append(", …");
            sb.Append(']');
        }
        if (Shape.Rows > maxItems || Shape.Cols > maxItems) sb.Append(" : ").Append(Shape);
        return sb.ToString();
    }

    private static void AppendRow(StringBuilder sb, int count, Func<int, double> at, int maxItems)
    {
        sb.Append('[');
        var n = Math.Min(count, maxItems);
        for (var k = 0; k < n; k++)
        {
            if (k > 0) sb.Append(", ");
            sb.Append(Format(at(k)));
        }
        if (count > n) sb.Append(", …");
        sb.Append(']');
    }
}
