using System;
using System.Collections.Immutable;
using System.Linq;

namespace Functional.Autodiff;

// Log-softmax and the two classification losses, each computed stably (from the logits shifted by their maximum, or
// with |z| and log1p).

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
/// Softmax cross-entropy against integer classes, the mean over rows:
/// y = mean_r (log Σ e^{z_r − max z_r} − (z_r[c_r] − max z_r))    ẏ = Σ((softmax(z) − onehot) ⊙ ż) / m    z̄ = ȳ (softmax(z) − onehot) / m.
/// Logits are a vector (one class) or a matrix with one row per example (one class per row).
/// </summary>
public sealed class SoftmaxCrossEntropyOp : Op, IEquatable<SoftmaxCrossEntropyOp>
{
    /// <summary>The op for these class labels (one per row of the logits).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="labels"/> is null.</exception>
    /// <exception cref="ArgumentException">No labels were given.</exception>
    public SoftmaxCrossEntropyOp(ImmutableArray<int> labels)
    {
        if (labels.IsDefault) throw new ArgumentNullException(nameof(labels));
        if (labels.IsEmpty) throw new ArgumentException("softmax_cross_entropy needs at least one class label.", nameof(labels));
        Labels = labels;
    }

    /// <summary>The class of each row.</summary>
    public ImmutableArray<int> Labels { get; }

    /// <inheritdoc/>
    public override string Name => "softmax_cross_entropy";
    /// <inheritdoc/>
    public override int Arity => 1;

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x)
    {
        var s = x[0];
        if (s.IsScalar)
            throw new ShapeMismatchException(Name, s, "The logits must be a vector (one example) or a matrix with one row per example.");
        int rows = s.IsMatrix ? s.Rows : 1, classes = s.IsMatrix ? s.Cols : s.Length;
        if (rows != Labels.Length)
            throw new ArgumentException(
                $"{Name}: {Labels.Length} label(s) for logits of shape {s} with {rows} row(s): give one class label per row.", "labels");
        for (var r = 0; r < Labels.Length; r++)
            if ((uint)Labels[r] >= (uint)classes)
                throw new ArgumentOutOfRangeException("labels", Labels[r],
                    $"{Name}: label {Labels[r]} of row {r} is not a class of logits with {classes} classes (valid: 0 to {classes - 1}).");
        return Shape.Scalar;
    }

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x)
    {
        var z = x[0].Span;
        var (m, n) = Losses.RowsAndColumns(x[0].Shape);
        var total = 0.0;
        for (var i = 0; i < m; i++)
        {
            var (max, logSum) = Losses.ShiftedLogSumExpOfRow(z, m, n, i);
            total += logSum - (z[Labels[i] * m + i] - max);
        }
        return Value.Scalar(total / m);
    }

    private Expr Residual(Expr z)
    {
        var s = z.Shape;
        int m = s.IsMatrix ? s.Rows : 1;
        var onehot = new double[s.Size];
        for (var i = 0; i < m; i++) onehot[Labels[i] * m + i] = 1;
        return Expr.Exp(Expr.LogSoftmax(z)) - Expr.Const(Value.Own(s, onehot));
    }

    private static int Rows(Expr z) => z.Shape.IsMatrix ? z.Shape.Rows : 1;

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        Residual(x[0]) * (ybar / Rows(x[0]));

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? Expr.Sum(Residual(x[0]) * t) / Rows(x[0]) : null;

    /// <inheritdoc/>
    public bool Equals(SoftmaxCrossEntropyOp? other) => other is not null && other.Labels.SequenceEqual(Labels);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SoftmaxCrossEntropyOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Labels.Aggregate(Labels.Length, HashCode.Combine);
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

    private static double Term(double z, double t) => Math.Max(z, 0) - z * t + SoftplusOp.Log1p(Math.Exp(-Math.Abs(z)));

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
}
