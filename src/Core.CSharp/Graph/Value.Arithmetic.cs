using System;
using System.Collections.Generic;
using System.Numerics.Tensors;

namespace Functional.Autodiff;

// Arithmetic on values, for the code around a gradient (optimizer steps, accumulation, metrics). Every element-wise
// operation runs the kernel of the op of the same name, so a number computed on values is the number the graph
// computes: Value.Exp(v) has the bits of Expr.Exp(v).Value, and broadcasting follows the ops' rules (a scalar with
// anything; a vector(n) with every row of a matrix(m, n) for + and −). Nothing mutates an operand.
public readonly partial struct Value
{
    /// <summary>Applies <paramref name="op"/>'s shape rule and forward kernel to the values.</summary>
    private static Value Run(Op op, Value a) => op.EvalChecked([a], op.InferShape([a.Shape]));

    private static Value Run(Op op, Value a, Value b) => op.EvalChecked([a, b], op.InferShape([a.Shape, b.Shape]));

    /// <summary>Element-wise sum (accumulation), broadcasting as NumPy does within rank ≤ 2.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not fit.</exception>
    public static Value operator +(Value a, Value b) => Run(AddOp.Instance, a, b);

    /// <summary>Element-wise difference, broadcasting as <c>+</c> does.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not fit.</exception>
    public static Value operator -(Value a, Value b) => Run(SubOp.Instance, a, b);

    /// <summary>Element-wise (Hadamard) product, broadcasting as <c>+</c> does.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not fit.</exception>
    public static Value operator *(Value a, Value b) => Run(MulOp.Instance, a, b);

    /// <summary>Element-wise quotient, broadcasting as <c>+</c> does.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not fit.</exception>
    public static Value operator /(Value a, Value b) => Run(DivOp.Instance, a, b);

    /// <summary>Adds a number to every element.</summary>
    public static Value operator +(Value a, double b) => a + Scalar(b);

    /// <summary>Adds a number to every element.</summary>
    public static Value operator +(double a, Value b) => Scalar(a) + b;

    /// <summary>Subtracts a number from every element.</summary>
    public static Value operator -(Value a, double b) => a - Scalar(b);

    /// <summary>A number minus every element.</summary>
    public static Value operator -(double a, Value b) => Scalar(a) - b;

    /// <summary>Scaling by a number.</summary>
    public static Value operator *(double s, Value a) => Scalar(s) * a;

    /// <summary>Scaling by a number.</summary>
    public static Value operator *(Value a, double s) => a * Scalar(s);

    /// <summary>Divides every element by a number.</summary>
    public static Value operator /(Value a, double b) => a / Scalar(b);

    /// <summary>A number divided by every element.</summary>
    public static Value operator /(double a, Value b) => Scalar(a) / b;

    /// <summary>Negation.</summary>
    public static Value operator -(Value a) => Run(NegOp.Instance, a);

    /// <summary>Element-wise square root (the kernel of <see cref="Expr.Sqrt(Expr)"/>).</summary>
    public static Value Sqrt(Value x) => Run(SqrtOp.Instance, x);

    /// <summary>Element-wise square.</summary>
    public static Value Square(Value x) => Run(SquareOp.Instance, x);

    /// <summary>Element-wise exponential (the kernel of <see cref="Expr.Exp(Expr)"/>).</summary>
    public static Value Exp(Value x) => Run(ExpOp.Instance, x);

    /// <summary>Element-wise natural logarithm (the kernel of <see cref="Expr.Log(Expr)"/>).</summary>
    public static Value Log(Value x) => Run(LogOp.Instance, x);

    /// <summary>Element-wise absolute value.</summary>
    public static Value Abs(Value x) => Run(AbsOp.Instance, x);

    /// <summary>Element-wise sign: −1, 0 or 1 (the kernel of the sign op; NaN gives 0).</summary>
    public static Value Sign(Value x) => Run(SignOp.Instance, x);

    /// <summary>Element-wise power with a constant exponent (the kernel of <see cref="Expr.Pow(Expr, double)"/>).</summary>
    public static Value Pow(Value x, double exponent) => Run(PowOp.For(exponent), x);

    /// <summary>The element-wise larger of two values (NaN if either is NaN); a scalar broadcasts.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not fit.</exception>
    public static Value Max(Value a, Value b) => Zip(a, b, Math.Max, "Value.Max");

    /// <summary>The element-wise smaller of two values (NaN if either is NaN); a scalar broadcasts.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not fit.</exception>
    public static Value Min(Value a, Value b) => Zip(a, b, Math.Min, "Value.Min");

    /// <summary>Every element limited to [<paramref name="min"/>, <paramref name="max"/>] (NaN stays NaN).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="min"/> is above <paramref name="max"/>, or either is NaN.</exception>
    public Value Clamp(double min, double max)
    {
        if (!(min <= max))
            throw new ArgumentOutOfRangeException(nameof(min), min, UserCode.Mark($"Value.Clamp needs min ≤ max, but got [{Format(min)}, {Format(max)}]."));
        return Map(x => double.IsNaN(x) ? x : Math.Clamp(x, min, max));
    }

    /// <summary>The sum of all elements (the kernel of <see cref="Expr.Sum(Expr)"/>).</summary>
    public double Sum() => Run(SumOp.Instance, this).ToScalar();

    /// <summary>The largest element (NaN if any element is NaN).</summary>
    public double Max() => data is null ? scalar : TensorPrimitives.Max<double>(data);

    /// <summary>The smallest element (NaN if any element is NaN).</summary>
    public double Min() => data is null ? scalar : TensorPrimitives.Min<double>(data);

    /// <summary>The L2 norm (Frobenius for a matrix), without overflow or underflow (the kernel of <see cref="Expr.Norm(Expr)"/>).</summary>
    public double Norm() => Run(NormOp.Instance, this).ToScalar();

    /// <summary>The sum of the element-wise products of two values of one shape.</summary>
    /// <exception cref="ShapeMismatchException">The shapes differ.</exception>
    public static double Dot(Value a, Value b)
    {
        SameShape(a, b, "Value.Dot");
        return a.data is null ? a.scalar * b.scalar : TensorPrimitives.Dot<double>(a.data, b.data!);
    }

    /// <summary>Applies <paramref name="f"/> to each pair of elements; a scalar operand broadcasts.</summary>
    /// <exception cref="ShapeMismatchException">The shapes differ and neither is a scalar.</exception>
    public static Value Zip(Value a, Value b, Func<double, double, double> f) => Zip(a, b, f, "Value.Zip");

    /// <summary>Applies <paramref name="f"/> to each triple of elements of three values of one shape (scalars broadcast).</summary>
    /// <exception cref="ShapeMismatchException">The shapes differ and the odd one is not a scalar.</exception>
    public static Value Zip(Value a, Value b, Value c, Func<double, double, double, double> f)
    {
        Guard.NotNull(f);
        var shape = Broadcast(Broadcast(a.Shape, b.Shape, "Value.Zip"), c.Shape, "Value.Zip");
        if (shape.IsScalar) return Scalar(f(a.scalar, b.scalar, c.scalar));
        var d = new double[shape.Size];
        for (var k = 0; k < d.Length; k++) d[k] = f(a.At(k), b.At(k), c.At(k));
        return new Value(shape, d);
    }

    private static Value Zip(Value a, Value b, Func<double, double, double> f, string name)
    {
        Guard.NotNull(f);
        var shape = Broadcast(a.Shape, b.Shape, name);
        if (shape.IsScalar) return Scalar(f(a.scalar, b.scalar));
        var d = new double[shape.Size];
        for (var k = 0; k < d.Length; k++) d[k] = f(a.At(k), b.At(k));
        return new Value(shape, d);
    }

    /// <summary>Element k, or the scalar for every k.</summary>
    private double At(int k) => data is null ? scalar : data[k];

    private static Shape Broadcast(Shape a, Shape b, string name) =>
        a == b || b.IsScalar ? a
        : a.IsScalar ? b
        : throw new ShapeMismatchException(name, a, b, "Values are combined element by element: give both one shape, or use a scalar.");

    private static void SameShape(Value a, Value b, string name)
    {
        if (a.Shape != b.Shape)
            throw new ShapeMismatchException(name, a.Shape, b.Shape, "Give both values one shape.");
    }

    // ------------------------------------------------------------------ row-major construction and export

    /// <summary>A matrix from its rows (row-major, as one writes a matrix down); the numbers are copied.</summary>
    /// <exception cref="ArgumentException">There are no rows, a row is empty, or the rows differ in length (the message names the row).</exception>
    public static Value FromRows(params double[][] rows)
    {
        Guard.NotNull(rows);
        if (rows.Length == 0 || rows[0] is null || rows[0].Length == 0)
            throw new ArgumentException(UserCode.Mark("Value.FromRows needs at least one row of at least one number."), nameof(rows));
        int m = rows.Length, n = rows[0].Length;
        var d = new double[Shape.Matrix(m, n).Size];
        for (var i = 0; i < m; i++)
        {
            var row = rows[i];
            if (row is null || row.Length != n)
                throw new ArgumentException(UserCode.Mark($"Value.FromRows: row {i} has {row?.Length ?? 0} numbers but row 0 has {n}; every row needs the same length."), nameof(rows));
            for (var j = 0; j < n; j++) d[j * m + i] = row[j];
        }
        return new Value(Shape.Matrix(m, n), d);
    }

    /// <summary>A matrix from its rows (row-major); the numbers are copied.</summary>
    /// <exception cref="ArgumentException">There are no rows, a row is empty, or the rows differ in length.</exception>
    public static Value FromRows(IEnumerable<IEnumerable<double>> rows)
    {
        Guard.NotNull(rows);
        var list = new List<double[]>();
        foreach (var row in rows) list.Add(row is null ? [] : [.. row]);
        return FromRows(list.ToArray());
    }

    /// <summary>A matrix of <paramref name="rows"/>×<paramref name="cols"/> from numbers in row-major order (NumPy's and PyTorch's); copied.</summary>
    /// <exception cref="ArgumentException">The number of elements is not rows·cols.</exception>
    public static Value FromRowMajor(int rows, int cols, ReadOnlySpan<double> elements)
    {
        var shape = Shape.Matrix(rows, cols);
        if (elements.Length != shape.Size)
            throw new ArgumentException(UserCode.Mark($"Value.FromRowMajor: {elements.Length} numbers for a {shape} of {shape.Size}."), nameof(elements));
        var d = new double[shape.Size];
        for (var i = 0; i < rows; i++)
            for (var j = 0; j < cols; j++)
                d[j * rows + i] = elements[i * cols + j];
        return new Value(shape, d);
    }

    /// <summary>A copy of the elements in row-major order (row 0 first); for a scalar or vector the same as <see cref="ToArray"/>.</summary>
    public double[] ToRowMajorArray()
    {
        if (!Shape.IsMatrix) return ToArray();
        int m = Shape.Rows, n = Shape.Cols;
        var d = new double[m * n];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
                d[i * n + j] = data![j * m + i];
        return d;
    }

    /// <summary>A copy of the elements in column-major order (MathNet's storage order; the same as <see cref="ToArray"/>).</summary>
    public double[] ToColumnMajorArray() => ToArray();
}
