using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.InteropServices;

namespace Functional.Autodiff;

public static partial class Graph
{
    /// <summary>
    /// The same computation with fewer nodes, so that gradient graphs read like math: the gradient of <c>x * x</c>,
    /// <c>(1 * x) + (1 * x)</c>, becomes <c>x + x</c>. Pure and iterative (one pass over the
    /// post-order, so a chain of a million nodes simplifies without touching the call stack).
    /// </summary>
    /// <remarks>
    /// <para>Every rule is exact for IEEE doubles, so the simplified graph's value is bit-identical to the original's
    /// for every binding of its variables; a NaN stays a NaN, though its sign bit may differ (IEEE leaves the sign and
    /// payload of a NaN result unspecified: <c>(-a) * (-b)</c> and <c>a * b</c> give NaNs of opposite signs on x64).
    /// The rules, applied bottom-up until none applies:</para>
    /// <list type="bullet">
    /// <item>constant folding: an op whose inputs are all constants becomes the constant it computed (its own kernel,
    /// so the same bits), unless the result is larger than its largest input (a broadcast or an outer product of
    /// constants stays the small expression that makes it);</item>
    /// <item><c>x * 1</c>, <c>1 * x</c>, <c>x / 1</c> → <c>x</c>; <c>x * -1</c>, <c>-1 * x</c>, <c>x / -1</c> → <c>-x</c>;
    /// <c>x - 0</c> → <c>x</c>; <c>x + (-0)</c>, <c>(-0) + x</c> → <c>x</c>; <c>(-0) - x</c> → <c>-x</c>: only where the
    /// result has x's shape (a constant that broadcasts x to a larger shape stays), the constant being all ones
    /// (minus ones, zeros) or a broadcast of such a constant;</item>
    /// <item><c>-(-x)</c> → <c>x</c>; <c>a - (-b)</c> → <c>a + b</c>; <c>a + (-b)</c>, <c>(-b) + a</c> → <c>a - b</c>;
    /// <c>(-a) * (-b)</c> → <c>a * b</c>; <c>(-a) / (-b)</c> → <c>a / b</c>;
    /// <c>stop_gradient(stop_gradient(x))</c> → <c>stop_gradient(x)</c>; <c>transpose(transpose(x))</c> → <c>x</c>;</item>
    /// <item>common subexpressions: nodes of one library op (by op equality, so <c>pow 2</c> built twice is one op)
    /// on the same inputs become one node, in either order for the commutative <c>+</c>, <c>*</c> and <c>dot</c>;
    /// constants of one shape and the same bits become one constant.</item>
    /// </list>
    /// <para>Deliberately not rules, because they change bits: <c>x * 0</c> → <c>0</c> (it is NaN for x = ±∞ or NaN,
    /// and −0 for negative x; only a constant times a constant is folded); <c>x + 0</c> → <c>x</c> (−0 + 0 is +0; adding
    /// −0 is exact and is folded); <c>x + x</c> → <c>2 * x</c> (exact, but one node more); reassociating or
    /// distributing sums and products. Nodes of your own ops (a <see cref="CustomOp"/> or a class derived from
    /// <see cref="Op"/>) are never merged, since such an op may be random or stateful (a dropout); they are folded
    /// over constants to the value they computed when built, and a node of one that must be rebuilt (because an input
    /// was simplified) runs its forward again, as any rewrite of a graph does.</para>
    /// <para>The result never has more nodes than the input. Where no rule applies the very same instance comes back,
    /// and every node the simplification did not need to rebuild keeps its identity, so simplifying a simplified graph
    /// returns it unchanged. A rebuilt node goes through the validating factories: over traced variables it
    /// recomputes its value with the same kernel on the same input bits. The value is preserved as a function of the
    /// leaves (variables and constants); an intermediate node that was rewritten is not in the result, so gradients
    /// with respect to it must be taken on the original graph.</para>
    /// </remarks>
    /// <example>
    /// <code>
    /// var x = Expr.Var("x", Shape.Scalar);
    /// var g = AD.Gradients(x * x * x, x)[0];
    /// Console.WriteLine(Export.Text.Expression(g));                  // ((1 * (x * x)) + ((1 * x) * x)) + ((1 * x) * x)
    /// Console.WriteLine(Export.Text.Expression(Graph.Simplify(g)));  // ((x * x) + (x * x)) + (x * x), one x * x node
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
    public static Expr Simplify(Expr root)
    {
        Guard.NotNull(root);
        return new Simplifier(shared: false).Run(root);
    }

    /// <summary>
    /// Several graphs simplified together (see <see cref="Simplify(Expr)"/>), so that what they share stays shared and
    /// what they compute alike becomes one node: <c>Graph.Simplify(AD.Gradients(f, x, y))</c>. The results are in the
    /// order of <paramref name="roots"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="roots"/> is null.</exception>
    /// <exception cref="ArgumentException">A root is null.</exception>
    public static ImmutableArray<Expr> Simplify(IReadOnlyList<Expr> roots)
    {
        Guard.NotNull(roots);
        for (var k = 0; k < roots.Count; k++)
            if (roots[k] is null)
                throw new ArgumentException(UserCode.Mark($"Root {k} of the graphs to simplify is null: pass only built nodes."), nameof(roots));
        var simplifier = new Simplifier(shared: roots.Count > 1);
        var result = ImmutableArray.CreateBuilder<Expr>(roots.Count);
        for (var k = 0; k < roots.Count; k++) result.Add(simplifier.Run(roots[k]));
        return result.MoveToImmutable();
    }
}

/// <summary>
/// One simplification: hash-consing tables (structure → the one node kept for it) and, across several roots, what
/// each original node became. Local to one call of <see cref="Graph.Simplify(Expr)"/>; nothing is kept afterwards.
/// </summary>
/// <remarks>
/// Invariant: every node this returns is canonical: its inputs are canonical, no rule applies to it, and it is the
/// node the tables hold for its structure. Rules only return a canonical node (an input, or an input of an input) or
/// a new node built from canonical nodes, which is reduced again; so each original node maps to exactly one node, and
/// every node of the result is the image of an original node: the count never grows.
/// </remarks>
internal sealed class Simplifier(bool shared)
{
    private readonly Dictionary<Expr, Expr>? done = shared ? new Dictionary<Expr, Expr>(Identity.Instance) : null;
    private readonly Dictionary<ApplyKey, Expr> applies = new();
    private readonly Dictionary<Value, Expr> constants = new(SameBits.Instance);
    private readonly Expr[] args = new Expr[Expr.MaxArity];

    private const long PlusZero = 0;
    private const long MinusZero = long.MinValue;
    private static readonly long One = BitConverter.DoubleToInt64Bits(1.0);
    private static readonly long MinusOne = BitConverter.DoubleToInt64Bits(-1.0);

    public Expr Run(Expr root)
    {
        if (done is not null && done.TryGetValue(root, out var known)) return known;
        using var sorted = new SortedGraph(root);
        var order = sorted.Order;
        var result = new Expr[order.Length];
        for (var k = 0; k < order.Length; k++)
        {
            var node = order[k];
            if (done is not null && done.TryGetValue(node, out var seen))
            {
                result[k] = seen;
                continue;
            }
            Expr r;
            switch (node)
            {
                case Apply apply:
                    var n = apply.Inputs.Length;
                    var changed = false;
                    for (var i = 0; i < n; i++)
                    {
                        args[i] = result[sorted.InputPosition(k, i)];
                        changed |= !ReferenceEquals(args[i], apply.Inputs[i]);
                    }
                    r = Reduce(apply, changed ? null : apply, n);
                    break;
                case Const c:
                    r = Intern(c);
                    break;
                default:
                    r = node; // a variable is its own identity
                    break;
            }
            result[k] = r;
            done?.Add(node, r);
        }
        Array.Clear(args);
        return result[^1];
    }

    /// <summary>
    /// The canonical node for <paramref name="original"/>'s op applied to <see cref="args"/> (canonical nodes);
    /// <paramref name="built"/> is a node of exactly that op and those inputs when one exists, so nothing is rebuilt.
    /// </summary>
    private Expr Reduce(Apply original, Apply? built, int n)
    {
        var op = original.Op;
        var shape = original.Shape; // every rule keeps the shape
        while (true)
        {
            if (Foldable(shape, n))
            {
                // The original node computed this value when it was built (no rule drops a variable, so a node whose
                // inputs simplify to constants reads only constants): fold to it rather than run the kernel again.
                var value = original.HasValue ? original.Value : (built ?? Build(op, n)).Value;
                return Intern((Const)Expr.Const(value));
            }
            var (rewritten, fresh) = Rewrite(op, n, shape);
            if (rewritten is null) return Intern(op, n, built);
            if (!fresh) return rewritten;
            // A new node of canonical inputs: the rules may apply to it in turn.
            var next = (Apply)rewritten;
            op = next.Op;
            n = next.Inputs.Length;
            for (var i = 0; i < n; i++) args[i] = next.Inputs[i];
            built = next;
        }
    }

    /// <summary>Whether every input is a constant and the result is no larger than the largest of them.</summary>
    private bool Foldable(Shape shape, int n)
    {
        var largest = 0;
        for (var i = 0; i < n; i++)
        {
            if (args[i] is not Const) return false;
            largest = Math.Max(largest, args[i].Shape.Size);
        }
        return shape.Size <= largest;
    }

    /// <summary>
    /// The rules (see <see cref="Graph.Simplify(Expr)"/>): null when none applies; otherwise the replacement, and whether
    /// it is a new node (to be reduced again) rather than an existing canonical one.
    /// </summary>
    private (Expr? Result, bool Fresh) Rewrite(Op op, int n, Shape shape)
    {
        var a = args[0];
        var b = n > 1 ? args[1] : a; // read only by the rules of two-input ops
        switch (op)
        {
            case AddOp:
                if (shape == a.Shape && IsAll(b, MinusZero)) return (a, false);
                if (shape == b.Shape && IsAll(a, MinusZero)) return (b, false);
                if (Negated(b) is { } nb) return (Expr.Sub(a, nb), true);
                if (Negated(a) is { } na) return (Expr.Sub(b, na), true);
                break;
            case SubOp:
                if (shape == a.Shape && IsAll(b, PlusZero)) return (a, false);
                if (Negated(b) is { } sb) return (Expr.Add(a, sb), true);
                if (shape == b.Shape && IsAll(a, MinusZero)) return (Expr.Neg(b), true);
                break;
            case MulOp:
                if (shape == a.Shape && IsAll(b, One)) return (a, false);
                if (shape == b.Shape && IsAll(a, One)) return (b, false);
                if (shape == a.Shape && IsAll(b, MinusOne)) return (Expr.Neg(a), true);
                if (shape == b.Shape && IsAll(a, MinusOne)) return (Expr.Neg(b), true);
                if (Negated(a) is { } ma && Negated(b) is { } mb) return (Expr.Mul(ma, mb), true);
                break;
            case DivOp:
                if (shape == a.Shape && IsAll(b, One)) return (a, false);
                if (shape == a.Shape && IsAll(b, MinusOne)) return (Expr.Neg(a), true);
                if (Negated(a) is { } da && Negated(b) is { } db) return (Expr.Div(da, db), true);
                break;
            case NegOp:
                if (Negated(a) is { } x) return (x, false);
                break;
            case StopGradientOp:
                if (a.Op is StopGradientOp) return (a, false);
                break;
            case TransposeOp:
                if (a.Op is TransposeOp) return (a.Inputs[0], false);
                break;
        }
        return (null, false);
    }

    /// <summary>x when <paramref name="e"/> is −x.</summary>
    private static Expr? Negated(Expr e) => e.Op is NegOp ? e.Inputs[0] : null;

    /// <summary>
    /// Whether every element of <paramref name="e"/> has exactly these bits: a constant, or a broadcast of a constant
    /// (which stays unfolded to keep drawings small).
    /// </summary>
    private static bool IsAll(Expr e, long bits)
    {
        if (e.Op is BroadcastScalarOp or BroadcastRowsOp or BroadcastColumnsOp) e = e.Inputs[0];
        if (e is not Const c) return false;
        var v = c.Value;
        if (v.Shape.IsScalar) return BitConverter.DoubleToInt64Bits(v.ToScalar()) == bits;
        foreach (var x in v.Span)
            if (BitConverter.DoubleToInt64Bits(x) != bits) return false;
        return true;
    }

    private Expr Build(Op op, int n) => Expr.Build(op, ImmutableArray.Create(args, 0, n));

    /// <summary>
    /// The one node for this op on these inputs: the one already kept, else <paramref name="built"/> (or a new node),
    /// which is kept. Nodes of users' ops are never merged.
    /// </summary>
    private Expr Intern(Op op, int n, Apply? built)
    {
        // CompilesRules marks the library's own ops, whose kernels are deterministic functions of their inputs.
        if (!op.CompilesRules) return built ?? Build(op, n);
        var key = new ApplyKey(op, args, n);
        if (applies.TryGetValue(key, out var existing)) return existing;
        var node = built ?? Build(op, n);
        applies.Add(key, node);
        return node;
    }

    private Expr Intern(Const c)
    {
        if (constants.TryGetValue(c.Value, out var existing)) return existing;
        constants.Add(c.Value, c);
        return c;
    }

    /// <summary>An op and its (canonical) inputs, compared by op equality and input identity.</summary>
    private readonly struct ApplyKey : IEquatable<ApplyKey>
    {
        private readonly Op op;
        private readonly Expr? a0, a1, a2, a3;
        private readonly int n;

        public ApplyKey(Op op, Expr[] args, int n)
        {
            this.op = op;
            this.n = n;
            a0 = args[0];
            a1 = n > 1 ? args[1] : null;
            a2 = n > 2 ? args[2] : null;
            a3 = n > 3 ? args[3] : null;
        }

        // The library's commutative ops (+, *, dot) give the same bits in either order, so their keys ignore it.
        private bool Commutative => n == 2 && op.IsCommutative;

        public bool Equals(ApplyKey other)
        {
            if (n != other.n || !op.Equals(other.op)) return false;
            if (ReferenceEquals(a0, other.a0) && ReferenceEquals(a1, other.a1) && ReferenceEquals(a2, other.a2) && ReferenceEquals(a3, other.a3))
                return true;
            return Commutative && ReferenceEquals(a0, other.a1) && ReferenceEquals(a1, other.a0);
        }

        public override bool Equals(object? obj) => obj is ApplyKey k && Equals(k);

        public override int GetHashCode()
        {
            int h0 = a0!.GetHashCode(), h1 = a1?.GetHashCode() ?? 0;
            var inputs = Commutative ? h0 + h1 : HashCode.Combine(h0, h1);
            return HashCode.Combine(op, n, inputs, a2?.GetHashCode() ?? 0, a3?.GetHashCode() ?? 0);
        }
    }

    /// <summary>Values compared by shape and bits (so −0 and +0 are different constants, and a NaN equals itself).</summary>
    private sealed class SameBits : IEqualityComparer<Value>
    {
        public static readonly SameBits Instance = new();

        public bool Equals(Value x, Value y)
        {
            if (x.Shape != y.Shape) return false;
            if (x.Shape.IsScalar) return BitConverter.DoubleToInt64Bits(x.ToScalar()) == BitConverter.DoubleToInt64Bits(y.ToScalar());
            return MemoryMarshal.AsBytes(x.Span).SequenceEqual(MemoryMarshal.AsBytes(y.Span));
        }

        public int GetHashCode(Value v)
        {
            var h = new HashCode();
            h.Add(v.Shape);
            if (v.Shape.IsScalar) h.Add(BitConverter.DoubleToInt64Bits(v.ToScalar()));
            else h.AddBytes(MemoryMarshal.AsBytes(v.Span));
            return h.ToHashCode();
        }
    }
}
