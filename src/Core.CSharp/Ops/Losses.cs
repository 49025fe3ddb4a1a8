using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;

namespace Functional.Autodiff;

// Log-softmax and the two classification losses, each computed stably (from the logits shifted by their maximum, or
// with |z| and log1p), and the one-hot encoding that lets the cross-entropy's rules read their classes as an input.

/// <summary>
/// y = (x − max x) − log Σ e^{x − max x} (over a vector, or over each row of a matrix)    ẏ = ẋ − Σ(eʸ ⊙ ẋ)
/// x̄ = ȳ − eʸ ⊙ Σ ȳ, where the sums run over the same vector or row.
/// </summary>
/// <remarks>
/// The value is formed from the shifted logits x − max x, never as x − log-sum-exp: for logits near 1e15 the
/// log-sum-exp rounds to the logits' spacing and the difference would lose every digit.
/// </remarks>
public sealed class LogSoftmaxOp : Op
{
    /// <summary>The op.</summary>
    public static readonly LogSoftmaxOp Instance = new();
    private LogSoftmaxOp() { }

    /// <inheritdoc/>
    public override string Name => "log_softmax";
    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsScalar ? throw new ShapeMismatchException(Name, x[0], "log_softmax normalises a vector, or each row of a matrix.") : x[0];

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var s = x[0].Shape;
        var src = x[0].Span;
        var y = new double[s.Size];
        var (m, n) = Losses.RowsAndColumns(s);
        for (var i = 0; i < m; i++)
        {
            var (max, logSum) = Losses.ShiftedLogSumExpOfRow(src, m, n, i);
            for (var j = 0; j < n; j++) y[j * m + i] = (src[j * m + i] - max) - logSum;
        }
        return Value.Own(s, y);
    }

    /// <summary>Σ over each vector or row, repeated back over it.</summary>
    private static Expr SumPerRow(Expr e) =>
        e.Shape.IsMatrix
            ? Expr.Create(new BroadcastColumnsOp(e.Shape.Cols), Expr.Create(RowSumsOp.Instance, e))
            : Expr.BroadcastTo(Expr.Sum(e), e.Shape);

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => ybar - Expr.Exp(y) * SumPerRow(ybar);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? t - SumPerRow(Expr.Exp(y) * t) : null;
}

/// <summary>
/// Softmax cross-entropy against integer classes c, the mean over rows:
/// y = mean_r (log Σ e^{z_r − max z_r} − (z_r[c_r] − max z_r))    ẏ = Σ((softmax(z) − one_hot(c)) ⊙ ż) / m
/// z̄ = ȳ (softmax(z) − one_hot(c)) / m, c̄ = 0.
/// </summary>
/// <remarks>
/// <para>Two inputs. The logits z: a vector (one example) or a matrix(m, n) with one row per example. The classes c,
/// whole numbers 0 to n − 1 stored as doubles: a scalar for vector logits, a vector(m) (one class per row) for matrix
/// logits. <see cref="Expr.SoftmaxCrossEntropy(Expr, IEnumerable{int})"/> builds c as a constant from integers.</para>
/// <para>The classes are data, an ordinary input, not part of the op: every minibatch shares this one op and its
/// compiled rules, and the rules build the one-hot matrix from the classes input when they run. No derivative flows
/// to the classes. The kernel checks them (whole and in range) wherever they come from, so a variable bound later
/// fails with the same message as a bad constant.</para>
/// </remarks>
public sealed class SoftmaxCrossEntropyOp : Op
{
    /// <summary>The op.</summary>
    public static readonly SoftmaxCrossEntropyOp Instance = new();
    private SoftmaxCrossEntropyOp() { }

    /// <inheritdoc/>
    public override string Name => "softmax_cross_entropy";
    /// <inheritdoc/>
    public override int Arity => 2;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        Shape z = x[0], c = x[1];
        CheckLogits(z);
        var expected = ClassesShape(z);
        if (c != expected)
            throw new ShapeMismatchException(Name, z, c,
                $"The classes of logits of shape {z} are a {expected}: a scalar class for vector logits, a vector(m) with one class per row for matrix(m, n) logits.");
        return Shape.Scalar;
    }

    private static void CheckLogits(Shape z)
    {
        if (z.IsScalar)
            throw new ShapeMismatchException(Instance.Name, z, "The logits must be a vector (one example) or a matrix with one row per example.");
    }

    /// <summary>The shape of the classes input for logits of shape <paramref name="z"/>.</summary>
    private static Shape ClassesShape(Shape z) => z.IsMatrix ? Shape.Vector(z.Rows) : Shape.Scalar;

    /// <summary>
    /// The classes constant for logits of shape <paramref name="z"/>: checks the count (one per row), and each
    /// class's range, with messages naming the op, the row and the valid classes.
    /// </summary>
    internal static Expr ClassesConstant(Shape z, IEnumerable<int> labels)
    {
        CheckLogits(z);
        var c = labels.Select(static l => (double)l).ToArray();
        var (rows, classes) = Losses.RowsAndColumns(z);
        if (c.Length != rows)
            throw new ArgumentException(
                UserCode.Mark($"{Instance.Name}: {c.Length} label(s) for logits of shape {z} with {rows} row(s): give one class label per row."), nameof(labels));
        for (var r = 0; r < rows; r++) Losses.Class(Instance.Name, c[r], r, classes);
        return z.IsMatrix ? Expr.Const(Value.Own(Shape.Vector(rows), c)) : Expr.Const(c[0]);
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var z = x[0].Span;
        var (m, n) = Losses.RowsAndColumns(x[0].Shape);
        var total = 0.0;
        for (var i = 0; i < m; i++)
        {
            var c = Losses.Class(Name, Losses.ClassOfRow(x[1], i), i, n);
            var (max, logSum) = Losses.ShiftedLogSumExpOfRow(z, m, n, i);
            total += logSum - (z[c * m + i] - max);
        }
        return Value.Scalar(total / m);
    }

    /// <summary>softmax(z) − one_hot(c), the gradient of each row's loss.</summary>
    private static Expr Residual(Expr z, Expr c) =>
        Expr.Softmax(z) - Expr.Create(new OneHotOp(Losses.RowsAndColumns(z.Shape).Cols), c);

    private static int Rows(Expr z) => Losses.RowsAndColumns(z.Shape).Rows;

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        i == 0 ? Residual(x[0], x[1]) * (ybar / Rows(x[0])) : null;

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? Expr.Sum(Residual(x[0], x[1]) * t) / Rows(x[0]) : null;
}

/// <summary>
/// Y = one_hot(c): row r holds 1 in column c_r and 0 elsewhere    Ẏ = 0    c̄ = 0 (piecewise constant).
/// The classes c are whole numbers 0 to <see cref="Classes"/> − 1 stored as doubles: a scalar gives a
/// vector(<see cref="Classes"/>), a vector(m) a matrix(m, <see cref="Classes"/>). Softmax cross-entropy's rules use it
/// to build the one-hot matrix from their classes input when they run, so no labels live in a rule.
/// </summary>
public sealed class OneHotOp : Op, IEquatable<OneHotOp>
{
    /// <summary>The op encoding classes among <paramref name="classes"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="classes"/> is below 1.</exception>
    public OneHotOp(int classes) =>
        Classes = classes >= 1 ? classes : throw new ArgumentOutOfRangeException(nameof(classes), classes, UserCode.Mark("one_hot needs at least one class."));

    /// <summary>How many classes there are: the length of each one-hot row.</summary>
    public int Classes { get; }

    /// <inheritdoc/>
    public override string Name => "one_hot";
    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0].IsScalar ? Shape.Vector(Classes)
        : x[0].IsVector ? Shape.Matrix(x[0].Length, Classes)
        : throw new ShapeMismatchException(Name, x[0], "one_hot takes a scalar class, or a vector of classes (one per row).");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var m = x[0].Shape.IsScalar ? 1 : x[0].Shape.Length;
        var y = new double[m * Classes];
        for (var i = 0; i < m; i++) y[Losses.Class(Name, Losses.ClassOfRow(x[0], i), i, Classes) * m + i] = 1;
        return Value.Own(x[0].Shape.IsScalar ? Shape.Vector(Classes) : Shape.Matrix(m, Classes), y);
    }

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => null;

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) => null;

    /// <inheritdoc/>
    public bool Equals(OneHotOp? other) => other is not null && other.Classes == Classes;
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as OneHotOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Classes;
    /// <inheritdoc/>
    public override string ToString() => $"one_hot {Classes}";
}

/// <summary>
/// PyTorch's <c>binary_cross_entropy_with_logits</c> with mean reduction, for logits z and targets t of one shape:
/// y = mean(max(z, 0) − z ⊙ t + log(1 + e^{−|z|}))    ẏ = Σ((σ(z) − t) ⊙ ż − z ⊙ ṫ) / N
/// z̄ = ȳ (σ(z) − t) / N, t̄ = −ȳ z / N.
/// </summary>
public sealed class BinaryCrossEntropyWithLogitsOp : Op
{
    /// <summary>The op.</summary>
    public static readonly BinaryCrossEntropyWithLogitsOp Instance = new();
    private BinaryCrossEntropyWithLogitsOp() { }

    /// <inheritdoc/>
    public override string Name => "binary_cross_entropy_with_logits";
    /// <inheritdoc/>
    public override int Arity => 2;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) =>
        x[0] == x[1] ? Shape.Scalar
        : throw new ShapeMismatchException(Name, x[0], x[1], "Give the logits and the targets one shape (one target per logit).");

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        if (x[0].Shape.IsScalar) return Value.Scalar(Term(x[0].ToScalar(), x[1].ToScalar()));
        ReadOnlySpan<double> z = x[0].Span, t = x[1].Span;
        var total = 0.0;
        for (var k = 0; k < z.Length; k++) total += Term(z[k], t[k]);
        return Value.Scalar(total / z.Length);
    }

    // (max(z, 0) − z·t) first, then the small log1p term: at z = 40, t = 1 the 4.25e-18 survives.
    private static double Term(double z, double t) =>
        Math.Max(z, 0) - z * t + ElementwiseMath.Log1p(ElementwiseMath.Exp(-Math.Abs(z)));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar)
    {
        var scale = ybar / x[0].Shape.Size;
        return i == 0 ? (Expr.Sigmoid(x[0]) - x[1]) * scale : -(x[0] * scale);
    }

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx)
    {
        var dz = dx[0] is { } a ? (Expr.Sigmoid(x[0]) - x[1]) * a : null;
        var dt = dx[1] is { } b ? -(x[0] * b) : null;
        return AddOrNull(dz, dt) is { } sum ? Expr.Sum(sum) / x[0].Shape.Size : null;
    }
}

internal static class Losses
{
    /// <summary>The rows and the columns of a vector (one row) or a matrix: the examples and the classes of logits.</summary>
    public static (int Rows, int Cols) RowsAndColumns(Shape s) => s.IsMatrix ? (s.Rows, s.Cols) : (1, s.Length);

    /// <summary>
    /// The maximum of row i of an m×n column-major block (m = 1 for a vector) and log Σⱼ e^{x[i, j] − max}: the
    /// log-sum-exp is their sum, but callers keep them apart so that x − max is formed before anything is subtracted.
    /// </summary>
    public static (double Max, double LogSum) ShiftedLogSumExpOfRow(ReadOnlySpan<double> x, int m, int n, int i)
    {
        var max = double.NegativeInfinity;
        for (var j = 0; j < n; j++) max = Math.Max(max, x[j * m + i]);
        var sum = 0.0;
        for (var j = 0; j < n; j++) sum += Math.Exp(x[j * m + i] - max);
        return (max, Math.Log(sum));
    }

    /// <summary>The class of row <paramref name="i"/>: the scalar itself, or element i of a vector of classes.</summary>
    public static double ClassOfRow(Value classes, int i) => classes.Shape.IsScalar ? classes.ToScalar() : classes.Span[i];

    /// <summary>
    /// <paramref name="label"/> as a class index of row <paramref name="row"/> among <paramref name="classes"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The label is not a whole number from 0 to classes − 1.</exception>
    public static int Class(string op, double label, int row, int classes)
    {
        if (label >= 0 && label < classes && label == Math.Floor(label)) return (int)label;
        throw new ArgumentOutOfRangeException("labels", label,
            UserCode.Mark($"{op}: label {Value.Format(label)} of row {row} is not a class of logits with {classes} classes " +
            $"(valid: the whole numbers 0 to {classes - 1}): give each row the index of its class."));
    }
}
