using System;
using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// A differentiable operation: its shape rule, its numeric forward kernel, its reverse rule (VJP) and its
/// forward rule (JVP), declared together. Rules are written with <see cref="Expr"/> operations, so the
/// derivative of a graph is a graph and can be differentiated again.
/// </summary>
/// <remarks>
/// Ops without parameters are singletons; ops with parameters (the exponent of <c>pow</c>, the index of <c>index</c>)
/// are small immutable objects that compare by their parameters. Parameters describe the op, never per-call data:
/// labels and targets that change from one minibatch to the next are inputs (compiled rules are memoised per op and
/// shapes, so data kept in an op would be kept alive with them). Extend the library by deriving from
/// <see cref="Op"/> (or from <see cref="ElementwiseOp"/>, <see cref="BinaryElementwiseOp"/>, <see cref="LinearOp"/>)
/// and building nodes with <see cref="Expr.Create(Op, Expr[])"/>.
/// </remarks>
public abstract class Op
{
    /// <summary>The op's name, used in printing and in error messages (e.g. "matmul").</summary>
    public abstract string Name { get; }

    /// <summary>How many inputs the op takes (1 to 4).</summary>
    public abstract int Arity { get; }

    /// <summary>The output shape for these input shapes.</summary>
    /// <exception cref="ShapeMismatchException">The inputs do not fit; the message names the op and the shapes.</exception>
    public abstract Shape InferShape(ReadOnlySpan<Shape> x);

    /// <summary>The numeric forward kernel: the output value for these input values (already shape-checked).</summary>
    public abstract Value Eval(ReadOnlySpan<Value> x);

    /// <summary>
    /// The reverse rule: the cotangent of input <paramref name="i"/> given the inputs <paramref name="x"/>,
    /// the output <paramref name="y"/> and the output's cotangent <paramref name="ybar"/>; null means zero.
    /// The result has the shape of input <paramref name="i"/>.
    /// </summary>
    public abstract Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar);

    /// <summary>
    /// The forward rule: the output's tangent given the inputs, the output and the inputs' tangents
    /// <paramref name="dx"/> (null entries are zero); null means zero. The result has the output's shape.
    /// </summary>
    public abstract Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx);

    /// <summary>An infix symbol for printing ("+", "*"), or null to print as a function call.</summary>
    public virtual string? Infix => null;

    /// <summary>Whether the order of the inputs never changes the result (drawings then leave argument positions unlabelled).</summary>
    public virtual bool IsCommutative => false;

    /// <summary>The name, with parameters where the op has any (e.g. "pow 2").</summary>
    public override string ToString() => Name;

    /// <summary>The last compiled VJP rule of this op instance (a memo of a pure function; see CompiledRules).</summary>
    internal CompiledVjp? LastCompiledVjp;

    /// <summary>
    /// True for the library's own ops, whose rules are pure functions of the input shapes (they only build graphs of
    /// their arguments), so the numeric reverse pass may compile them once per shapes and reuse the result. A rule
    /// of your own op (a <see cref="CustomOp"/> or a class derived from <see cref="Op"/>) may read input values,
    /// captured variables or state that changes between calls, so it is run on the real nodes every time instead:
    /// it then gives the same numbers in every transform.
    /// </summary>
    internal bool CompilesRules { get; }

    /// <summary>Creates the op; a library op is marked as one whose rules may be compiled.</summary>
    protected Op() => CompilesRules = GetType().Assembly == typeof(Op).Assembly && GetType() != typeof(CustomOp);

    /// <summary>
    /// <see cref="Eval"/>, checked against the shape the op's shape rule gave: a kernel that returns another shape
    /// (a mistake in a custom op) is refused here, rather than giving a node whose value disagrees with its shape.
    /// </summary>
    internal Value EvalChecked(ReadOnlySpan<Value> x, Shape shape)
    {
        var value = Eval(x);
        if (value.Shape != shape)
            throw new InvalidOperationException(
                UserCode.Mark($"{Name}: the forward kernel returned a value of shape {value.Shape}, but the op's shape rule gives {shape} " +
                "for these inputs: make the forward return a value of the shape the shape rule declares (or fix the shape rule)."));
        return value;
    }

    /// <summary>
    /// True when <see cref="EvalInto(ReadOnlySpan{Value}, double[])"/> writes the result straight into the caller's storage (no array of its own):
    /// a compiled program then gives the op a buffer it reuses from call to call.
    /// </summary>
    internal virtual bool WritesInto => false;

    /// <summary>
    /// The forward kernel writing a non-scalar result into <paramref name="dest"/> (of the output's size, which never
    /// overlaps an input): the same numbers as <see cref="Eval"/>, bit for bit, since both run the same kernel. The
    /// default runs <see cref="Eval"/> and copies.
    /// </summary>
    internal virtual void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) => Eval(x).Span.CopyTo(dest);

    /// <summary>
    /// <see cref="EvalInto(ReadOnlySpan{Value}, Span{double})"/> into a whole array (a compiled program's buffer, of the
    /// output's size exactly), for kernels that need the array itself: the matrix product splits its work over threads,
    /// which cannot share a span. The default writes through the span.
    /// </summary>
    internal virtual void EvalInto(ReadOnlySpan<Value> x, double[] dest) => EvalInto(x, dest.AsSpan());

    /// <summary>Builds the cotangent-or-tangent sum, treating null as zero.</summary>
    protected static Expr? AddOrNull(Expr? a, Expr? b) => a is null ? b : b is null ? a : a + b;
}

/// <summary>
/// An element-wise function y = f(x). A derived op supplies the scalar function, optionally a vectorised
/// kernel, and the derivative f'(x) as a graph; both rules follow: x̄ = ȳ ⊙ f'(x), ẏ = f'(x) ⊙ ẋ.
/// </summary>
public abstract class ElementwiseOp : Op
{
    /// <inheritdoc/>
    public sealed override int Arity => 1;

    /// <inheritdoc/>
    public sealed override Shape InferShape(ReadOnlySpan<Shape> x) => x[0];

    /// <summary>f at one number.</summary>
    protected abstract double Apply(double x);

    /// <summary>f over a span; the default calls the scalar function, vectorised ops override it.</summary>
    protected virtual void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        for (var k = 0; k < x.Length; k++) y[k] = Apply(x[k]);
    }

    /// <summary>f'(x) as a graph of x and (where cheaper) y = f(x); null when the derivative is zero everywhere.</summary>
    public abstract Expr? Derivative(Expr x, Expr y);

    /// <inheritdoc/>
    public sealed override Value Eval(ReadOnlySpan<Value> x)
    {
        var a = x[0];
        if (a.Shape.IsScalar) return Value.Scalar(Apply(a.ToScalar()));
        var y = new double[a.Shape.Size];
        Apply(a.Span, y);
        return Value.Own(a.Shape, y);
    }

    internal sealed override bool WritesInto => true;

    internal sealed override void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) => Apply(x[0].Span, dest);

    /// <summary>f at one number: the kernel <see cref="Eval"/> runs on a scalar, for a compiled program's scalar registers.</summary>
    internal double ApplyScalar(double x) => Apply(x);

    /// <summary>f over a span: the kernel <see cref="Eval"/> runs on a vector, for a compiled program's fused chunks.</summary>
    internal void ApplyInto(ReadOnlySpan<double> x, Span<double> y) => Apply(x, y);

    /// <inheritdoc/>
    public sealed override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        Derivative(x[0], y) is { } d ? ybar * d : null;

    /// <inheritdoc/>
    public sealed override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t && Derivative(x[0], y) is { } d ? d * t : null;
}

/// <summary>
/// A linear op of one input, y = L x. A derived op supplies the transpose; both rules follow:
/// ẏ = L ẋ and x̄ = Lᵀ ȳ.
/// </summary>
public abstract class LinearOp : Op
{
    /// <inheritdoc/>
    public sealed override int Arity => 1;

    /// <summary>Lᵀ ȳ, of the input's shape <paramref name="inputShape"/>.</summary>
    public abstract Expr Transpose(Expr ybar, Shape inputShape);

    /// <inheritdoc/>
    public sealed override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => Transpose(ybar, x[0].Shape);

    /// <inheritdoc/>
    public sealed override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        dx[0] is { } t ? Expr.Create(this, t) : null;
}

/// <summary>
/// An element-wise function of two inputs, broadcasting as NumPy does within rank ≤ 2 (see <see cref="Broadcasting"/>):
/// equal shapes, a scalar with anything, a vector(n) or matrix(1, n) with every row of a matrix(m, n), a matrix(m, 1)
/// with every column, and a matrix(m, 1) with a vector(n) or matrix(1, n) giving matrix(m, n).
/// A derived op supplies the scalar function, optional vectorised kernels, the partial cotangents (at the output's
/// shape; summing back over a broadcast input's axes is done here) and the tangent (broadcast to the output here).
/// </summary>
public abstract class BinaryElementwiseOp : Op
{
    /// <inheritdoc/>
    public sealed override int Arity => 2;

    /// <inheritdoc/>
    public sealed override Shape InferShape(ReadOnlySpan<Shape> x) => Broadcasting.Result(Name, x[0], x[1]);

    /// <summary>f at one pair of numbers.</summary>
    protected abstract double Apply(double a, double b);

    /// <summary>f over two spans of one length; vectorised ops override it.</summary>
    protected virtual void Apply(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y)
    {
        for (var k = 0; k < y.Length; k++) y[k] = Apply(a[k], b[k]);
    }

    /// <summary>f of a span and a number; vectorised ops override it.</summary>
    protected virtual void Apply(ReadOnlySpan<double> a, double b, Span<double> y)
    {
        for (var k = 0; k < y.Length; k++) y[k] = Apply(a[k], b);
    }

    /// <summary>f of a number and a span; vectorised ops override it.</summary>
    protected virtual void Apply(double a, ReadOnlySpan<double> b, Span<double> y)
    {
        for (var k = 0; k < y.Length; k++) y[k] = Apply(a, b[k]);
    }

    /// <inheritdoc/>
    public sealed override Value Eval(ReadOnlySpan<Value> x)
    {
        Value a = x[0], b = x[1];
        if (a.Shape.IsScalar && b.Shape.IsScalar) return Value.Scalar(Apply(a.ToScalar(), b.ToScalar()));
        var shape = Broadcasting.Result(Name, a.Shape, b.Shape);
        var y = new double[shape.Size];
        Fill(a, b, shape, y);
        return Value.Own(shape, y);
    }

    /// <summary>f at one pair of numbers: the kernel <see cref="Eval"/> runs on scalars, for a compiled program's scalar registers.</summary>
    internal double ApplyScalar(double a, double b) => Apply(a, b);

    /// <summary>f over two spans, as <see cref="Eval"/> runs it on equal sizes (a compiled program's fused chunks).</summary>
    internal void ApplyInto(ReadOnlySpan<double> a, ReadOnlySpan<double> b, Span<double> y) => Apply(a, b, y);

    /// <summary>f of a span and a number, as <see cref="Eval"/> runs it when b has one element.</summary>
    internal void ApplyInto(ReadOnlySpan<double> a, double b, Span<double> y) => Apply(a, b, y);

    /// <summary>f of a number and a span, as <see cref="Eval"/> runs it when a has one element.</summary>
    internal void ApplyInto(double a, ReadOnlySpan<double> b, Span<double> y) => Apply(a, b, y);

    internal sealed override bool WritesInto => true;

    internal sealed override void EvalInto(ReadOnlySpan<Value> x, Span<double> dest) =>
        Fill(x[0], x[1], Broadcasting.Result(Name, x[0].Shape, x[1].Shape), dest);

    /// <summary>The non-scalar result of f for these inputs, written into <paramref name="y"/> (every element).</summary>
    private void Fill(Value a, Value b, Shape shape, Span<double> y)
    {
        int n = shape.Size, na = a.Shape.Size, nb = b.Shape.Size;
        // Equal sizes share one storage order (a vector(n) and a matrix(1, n) alike), and a single number meets every
        // element; otherwise the output is a matrix, met column by column (storage is column-major): an input with all
        // the rows gives a contiguous column (its only one, or column j), an input of one row gives one number.
        if (na == n && nb == n && !a.Shape.IsScalar && !b.Shape.IsScalar) Apply(a.Span, b.Span, y);
        else if (na == n && nb == 1 && !a.Shape.IsScalar) Apply(a.Span, First(b), y);
        else if (nb == n && na == 1 && !b.Shape.IsScalar) Apply(First(a), b.Span, y);
        else
        {
            int m = shape.Rows;
            var (ar, ac) = Broadcasting.Aligned(a.Shape);
            var (br, bc) = Broadcasting.Aligned(b.Shape);
            for (var j = 0; j < shape.Cols; j++)
            {
                var col = y.Slice(j * m, m);
                int ka = Broadcasting.Index(ar, ac, 0, j), kb = Broadcasting.Index(br, bc, 0, j);
                if (ar == m && br == m) Apply(a.Span.Slice(ka, m), b.Span.Slice(kb, m), col);
                else if (ar == m) Apply(a.Span.Slice(ka, m), At(b, kb), col);
                else if (br == m) Apply(At(a, ka), b.Span.Slice(kb, m), col);
                else col.Fill(Apply(At(a, ka), At(b, kb)));
            }
        }
    }

    private static double First(Value v) => v.Shape.IsScalar ? v.ToScalar() : v.Span[0];

    private static double At(Value v, int k) => v.Shape.IsScalar ? v.ToScalar() : v.Span[k];

    /// <summary>
    /// The cotangent of input <paramref name="i"/> at the output's shape (before it is summed back over broadcast
    /// dimensions); null for zero.
    /// </summary>
    protected abstract Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar);

    /// <summary>The output's tangent from the inputs' tangents (null is zero); the result may be broadcast later.</summary>
    protected abstract Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db);

    /// <inheritdoc/>
    public sealed override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) =>
        Partial(i, x[0], x[1], y, ybar) is { } g ? Expr.SumTo(g, x[i].Shape) : null;

    /// <inheritdoc/>
    public sealed override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) =>
        Tangent(x[0], x[1], y, dx[0], dx[1]) is { } t ? Expr.BroadcastTo(t, y.Shape) : null;
}
