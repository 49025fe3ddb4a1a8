using System;
using System.Collections.Immutable;
using System.Linq;

namespace Functional.Autodiff;

/// <summary>
/// A user-defined differentiable op from functions: its shape rule, forward, VJP and JVP declared in one place
/// (JAX's <c>custom_vjp</c>/<c>custom_jvp</c>, PyTorch's <c>autograd.Function</c>). The rules are written with
/// <see cref="Expr"/> operations, so the op works under every transform, nesting included. Build nodes with
/// <see cref="Expr.Create(Op, Expr[])"/>; instances compare by reference, and making one per call is fine.
/// Deriving from <see cref="Op"/> directly is the other way to add an op.
/// </summary>
/// <remarks>
/// <para>What a rule may do: build any graph of its arguments; read the inputs' and the output's numbers
/// (<c>x[0].Value</c>) when they have them; use variables it captured (traced ones, with values, included); read
/// state that changes between calls (a gradient-reversal layer's λ). A user's rule is run on the real nodes each
/// time it is needed, in every transform, so <see cref="AD.Grad(Func{Expr, Expr})"/>, <see cref="AD.Gradients(Expr, Expr[])"/>,
/// <see cref="AD.Jvp"/> and the Hessians all see the same rule with the same numbers; nothing is compiled or kept
/// from one call to the next. (The library's own ops, whose rules depend only on shapes, are compiled once per shapes.)</para>
/// <para>What a rule must do: return a graph of the input's shape for <c>vjp</c> and of the output's shape for
/// <c>jvp</c> (or null for zero); the forward must return a value of the shape the shape rule gives, or the node is
/// refused where it is built. The body of <see cref="FromComposite"/> is traced on value-less placeholders to find
/// its shape, so the body itself must not read <c>.Value</c> (the rules may).</para>
/// </remarks>
/// <example>
/// A numerically stable log-sum-exp (log Σ eˣ = x₀ − log_softmax(x)₀) whose gradient is the softmax:
/// <code>
/// var logSumExp = CustomOp.FromComposite("logsumexp", 1,
///     body: x =&gt; x[0][0] - Expr.LogSoftmax(x[0])[0],
///     vjp: (i, x, y, ybar) =&gt; ybar * Expr.Softmax(x[0]),
///     jvp: (x, y, dx) =&gt; Expr.Sum(Expr.Softmax(x[0]) * dx[0]!));
/// var y = Expr.Create(logSumExp, Expr.Const(Value.FromArray(1000, 1000)));   // 1000.6931…, no overflow
/// </code>
/// </example>
public sealed class CustomOp : Op
{
    private readonly Func<ImmutableArray<Shape>, Shape> shape;
    private readonly Func<ImmutableArray<Value>, Value> forward;
    private readonly Func<int, ImmutableArray<Expr>, Expr, Expr, Expr?> vjp;
    private readonly Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr?>, Expr?> jvp;

    /// <summary>An op from its four rules.</summary>
    /// <param name="name">The name used in printing and errors.</param>
    /// <param name="arity">How many inputs (1 to 4).</param>
    /// <param name="shape">The output shape for the input shapes; throw <see cref="ShapeMismatchException"/> for shapes it cannot take.</param>
    /// <param name="forward">The output value for the input values.</param>
    /// <param name="vjp">The cotangent of input i given (i, inputs, output, output cotangent), as a graph; null for zero.</param>
    /// <param name="jvp">The output tangent given (inputs, output, input tangents with null for zero), as a graph; null for zero.</param>
    /// <exception cref="ArgumentOutOfRangeException">The arity is not 1 to 4.</exception>
    public CustomOp(string name, int arity,
        Func<ImmutableArray<Shape>, Shape> shape,
        Func<ImmutableArray<Value>, Value> forward,
        Func<int, ImmutableArray<Expr>, Expr, Expr, Expr?> vjp,
        Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr?>, Expr?> jvp)
    {
        Guard.NotNullOrEmpty(name);
        if (arity < 1 || arity > Expr.MaxArity) throw new ArgumentOutOfRangeException(nameof(arity), arity, UserCode.Mark($"An op takes 1 to {Expr.MaxArity} inputs."));
        Name = name;
        Arity = arity;
        this.shape = shape ?? throw new ArgumentNullException(nameof(shape), UserCode.Mark($"{nameof(shape)} is null."));
        this.forward = forward ?? throw new ArgumentNullException(nameof(forward), UserCode.Mark($"{nameof(forward)} is null."));
        this.vjp = vjp ?? throw new ArgumentNullException(nameof(vjp), UserCode.Mark($"{nameof(vjp)} is null."));
        this.jvp = jvp ?? throw new ArgumentNullException(nameof(jvp), UserCode.Mark($"{nameof(jvp)} is null."));
    }

    /// <summary>
    /// An op whose value is a composite function of graphs (its shape and value come from tracing
    /// <paramref name="body"/>) and whose derivatives are the given rules instead of the body's own.
    /// </summary>
    public static CustomOp FromComposite(string name, int arity,
        Func<ImmutableArray<Expr>, Expr> body,
        Func<int, ImmutableArray<Expr>, Expr, Expr, Expr?> vjp,
        Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr?>, Expr?> jvp)
    {
        Guard.NotNull(body);
        return new CustomOp(name, arity,
            shapes => Result(name, body(shapes.Select((s, k) => (Expr)Expr.Var($"x{k}", s)).ToImmutableArray())).Shape,
            values => Result(name, body(values.Select(Expr.Const).ToImmutableArray())).Value,
            vjp, jvp);
    }

    private static Expr Result(string name, Expr? e) => e ?? throw new InvalidOperationException(UserCode.Mark($"The body of custom op {name} returned null."));

    /// <inheritdoc/>
    public override string Name { get; }

    /// <inheritdoc/>
    public override int Arity { get; }

    /// <inheritdoc/>
    public override Shape InferShape(ReadOnlySpan<Shape> x) => shape(ImmutableArray.Create(x.ToArray()));

    /// <inheritdoc/>
    public override Value Eval(ReadOnlySpan<Value> x) => forward(ImmutableArray.Create(x.ToArray()));

    /// <inheritdoc/>
    public override Expr? Vjp(int i, ImmutableArray<Expr> x, Expr y, Expr ybar) => vjp(i, x, y, ybar);

    /// <inheritdoc/>
    public override Expr? Jvp(ImmutableArray<Expr> x, Expr y, ReadOnlySpan<Expr?> dx) => jvp(x, y, ImmutableArray.Create(dx.ToArray()));
}
