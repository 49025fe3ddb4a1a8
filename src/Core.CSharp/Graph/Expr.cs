using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>
/// An immutable node of an expression graph: a constant, a variable, or an op applied to inputs.
/// </summary>
/// <remarks>
/// <para>Every node has a static <see cref="Shape"/>, checked when it is built. A node whose inputs all carry values
/// computes its own value when it is built (eagerly, once; the field is written in the constructor, so the value
/// is safely published with the node), which is what lets host code branch on <c>.Value</c> while tracing.</para>
/// <para>Equality and hashing are by reference: two nodes are equal only if they are the same node. Nothing here
/// recurses over the depth of a graph; printing is bounded and iterative.</para>
/// <para>Nodes are built only through the factories on <see cref="Expr"/> (and the operators), which validate shapes.</para>
/// </remarks>
public abstract partial class Expr
{
    private readonly Value value;
    private readonly int hash;

    // Identity hashes drawn from a per-thread sequence, so graph dictionaries never ask the runtime for an object's
    // identity hash (slow the first time for every new object). Only hashing uses it; equality stays reference.
    // Each thread's sequence starts at its own point (a shared counter times the golden ratio, never 0 since the
    // ratio is odd), so nodes made on many short-lived threads do not all get the same first few hashes. A sequence
    // at 0 is one not started yet (or, after 2³² nodes, wrapped round, which only starts it afresh).
    [ThreadStatic]
    private static uint hashSequence;

    private static int threadsStarted;

    private protected Expr(Shape shape, bool hasValue, Value value, AnomalyRecorder? recorder = null)
    {
        // The shape is kept once, in the value (a value-less node holds a storage-less value of its shape).
        HasValue = hasValue;
        this.value = hasValue ? value : Value.ShapeOnly(shape);
        Recorder = recorder;
        if (hashSequence == 0) StartHashSequence();
        hash = (int)(++hashSequence * 2654435761u);
    }

    /// <summary>
    /// The anomaly check's recorder when this node is an input traced by <see cref="Anomaly"/> or was built from one
    /// (null on every other path): <see cref="Expr.Build"/> hands it on from the inputs, so it marks exactly the
    /// checked trace.
    /// </summary>
    internal AnomalyRecorder? Recorder { get; }

    private static void StartHashSequence()
    {
        hashSequence = (uint)Interlocked.Increment(ref threadsStarted) * 0x9E3779B9u;
    }

    /// <summary>The static shape of this node.</summary>
    public Shape Shape => value.Shape;

    /// <summary>True when every leaf under this node is bound to a number, so <see cref="Value"/> is known.</summary>
    public bool HasValue { get; }

    /// <summary>The value of this node.</summary>
    /// <exception cref="UnboundVariableException">The graph reads a variable with no value; the message names it.</exception>
    /// <exception cref="CompileTraceException">The node depends on an input of a function being compiled (see <see cref="Compiled"/>).</exception>
    public Value Value => HasValue ? value : throw NoValue();

    /// <summary>The inputs of this node (empty for a leaf).</summary>
    public abstract ImmutableArray<Expr> Inputs { get; }

    /// <summary>The op this node applies, or null for a leaf.</summary>
    public virtual Op? Op => null;

    /// <summary>Reference equality: a node equals only itself (structural comparison is <see cref="Graph.StructurallyEqual"/>).</summary>
    public sealed override bool Equals(object? obj) => ReferenceEquals(this, obj);

    /// <summary>Identity hash, consistent with reference equality (a node's hash never changes).</summary>
    public sealed override int GetHashCode() => hash;

    /// <summary>A bounded, single-line rendering such as <c>3 * dot(x, (w + 2) ^ 2) : scalar = 40.5</c>.</summary>
    public sealed override string ToString() => Export.Text.Render(this);

    private InvalidOperationException NoValue()
    {
        // A node under a compiled function's placeholder input: the function branches on a value it cannot have.
        foreach (var node in Graph.PostOrder(this))
            if (node is Var { IsPlaceholder: true } v) return new CompileTraceException(this, v);
        return new UnboundVariableException(FirstUnboundVariable());
    }

    /// <summary>The first variable without a value under this node (post-order); for the errors that name it.</summary>
    internal Var FirstUnboundVariable()
    {
        foreach (var node in Graph.PostOrder(this))
            if (node is Var v && !v.HasValue) return v;
        throw new InvalidOperationException(UserCode.Mark("Internal error: a node without a value has no unbound variable under it."));
    }
}

/// <summary>A constant leaf. It owns a private copy of its value.</summary>
public sealed class Const : Expr
{
    internal Const(Value value) : base(value.Shape, true, value) { }

    /// <inheritdoc/>
    public override ImmutableArray<Expr> Inputs => ImmutableArray<Expr>.Empty;
}

/// <summary>
/// A variable leaf: a name, a shape and an identity. A traced variable also carries a value, so every node
/// built on it has a value too. Two variables with the same name are different variables.
/// </summary>
public sealed class Var : Expr
{
    internal Var(string name, Shape shape) : base(shape, false, default) => Name = name;

    /// <summary>A placeholder input of a function being compiled: it has a shape and never a value.</summary>
    internal Var(string name, Shape shape, bool placeholder) : base(shape, false, default)
    {
        Name = name;
        IsPlaceholder = placeholder;
    }

    /// <summary>True for a compiled function's placeholder input (see <see cref="Compiled"/>).</summary>
    internal bool IsPlaceholder { get; }

    internal Var(string name, Value value, AnomalyRecorder? recorder = null) : base(value.Shape, true, value, recorder) => Name = name;

    /// <summary>The name used in printing, errors and bindings.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public override ImmutableArray<Expr> Inputs => ImmutableArray<Expr>.Empty;
}

/// <summary>An op applied to inputs.</summary>
public sealed class Apply : Expr
{
    private readonly Op op;
    private readonly ImmutableArray<Expr> inputs;

    internal Apply(Op op, ImmutableArray<Expr> inputs, Shape shape, bool hasValue, Value value, AnomalyRecorder? recorder)
        : base(shape, hasValue, value, recorder)
    {
        this.op = op;
        this.inputs = inputs;
    }

    /// <inheritdoc/>
    public override Op Op => op;

    /// <inheritdoc/>
    public override ImmutableArray<Expr> Inputs => inputs;

    /// <summary>
    /// This node with other inputs: returns this very instance when every input is the same instance
    /// (so rewrites keep unchanged subgraphs), otherwise a new validated node.
    /// </summary>
    public Expr WithInputs(ImmutableArray<Expr> newInputs)
    {
        if (newInputs.IsDefault) throw new ArgumentNullException(nameof(newInputs), UserCode.Mark($"{nameof(newInputs)} is null."));
        if (newInputs.Length == inputs.Length)
        {
            var same = true;
            for (var k = 0; k < inputs.Length && same; k++) same = ReferenceEquals(inputs[k], newInputs[k]);
            if (same) return this;
        }
        return Expr.Build(op, newInputs);
    }
}

/// <summary>Reference equality with the node's own stored hash: the comparer of every graph dictionary.</summary>
internal sealed class Identity : IEqualityComparer<Expr>
{
    public static readonly Identity Instance = new();

    public bool Equals(Expr? x, Expr? y) => ReferenceEquals(x, y);

    public int GetHashCode(Expr obj) => obj.GetHashCode();
}

/// <summary>Iterative traversals, structural comparison and simplification of graphs.</summary>
public static partial class Graph
{
    /// <summary>
    /// Every node under <paramref name="root"/> once, inputs before the nodes that read them, the root last.
    /// Iterative: a chain of millions of nodes does not touch the call stack.
    /// </summary>
    public static IReadOnlyList<Expr> PostOrder(Expr root)
    {
        Guard.NotNull(root);
        using var sorted = new SortedGraph(root);
        return sorted.Order.ToArray();
    }

    /// <summary>
    /// Every node under any of <paramref name="roots"/> once, inputs before the nodes that read them, except the nodes of
    /// <paramref name="skip"/> (and what lies under them): one order for several graphs that share nodes, such as a value
    /// and its gradients. Iterative.
    /// </summary>
    internal static List<Expr> PostOrder(ReadOnlySpan<Expr> roots, ReadOnlySpan<Var> skip)
    {
        var order = new List<Expr>();
        var entered = new HashSet<Expr>(Identity.Instance);
        foreach (var v in skip) entered.Add(v);
        var stack = new Stack<(Expr Node, int Next)>();
        foreach (var root in roots)
        {
            if (!entered.Add(root)) continue;
            stack.Push((root, 0));
            while (stack.Count > 0)
            {
                var (node, next) = stack.Pop();
                var inputs = node.Inputs;
                if (next < inputs.Length)
                {
                    stack.Push((node, next + 1));
                    if (entered.Add(inputs[next])) stack.Push((inputs[next], 0));
                }
                else order.Add(node);
            }
        }
        return order;
    }

    /// <summary>
    /// True when two graphs have the same structure: the same ops, equal constants, the same variables (by identity)
    /// and the same sharing-insensitive shape of inputs. Iterative.
    /// </summary>
    public static bool StructurallyEqual(Expr a, Expr b)
    {
        Guard.NotNull(a);
        Guard.NotNull(b);
        var pairs = new Stack<(Expr, Expr)>();
        var checkedPairs = new HashSet<(Expr, Expr)>(PairComparer.Instance);
        pairs.Push((a, b));
        while (pairs.Count > 0)
        {
            var (x, y) = pairs.Pop();
            if (ReferenceEquals(x, y) || !checkedPairs.Add((x, y))) continue;
            if (x.Shape != y.Shape) return false;
            switch (x, y)
            {
                case (Const cx, Const cy):
                    if (!cx.Value.Equals(cy.Value)) return false;
                    break;
                case (Apply ax, Apply ay):
                    if (!ax.Op.Equals(ay.Op) || ax.Inputs.Length != ay.Inputs.Length) return false;
                    for (var k = 0; k < ax.Inputs.Length; k++) pairs.Push((ax.Inputs[k], ay.Inputs[k]));
                    break;
                default:
                    return false; // distinct variables, or different kinds of node
            }
        }
        return true;
    }

    private sealed class PairComparer : IEqualityComparer<(Expr, Expr)>
    {
        public static readonly PairComparer Instance = new();

        public bool Equals((Expr, Expr) p, (Expr, Expr) q) => ReferenceEquals(p.Item1, q.Item1) && ReferenceEquals(p.Item2, q.Item2);

        public int GetHashCode((Expr, Expr) p) => HashCode.Combine(p.Item1.GetHashCode(), p.Item2.GetHashCode());
    }
}
