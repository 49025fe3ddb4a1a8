using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;

namespace Functional.Autodiff.Export;

/// <summary>
/// What a drawing (<see cref="Dot"/>, <see cref="Mermaid"/>) shows: how many nodes, whether forward values appear,
/// optional gradient values, and a title.
/// </summary>
/// <example>
/// <code>
/// var options = new DrawOptions { NodeLimit = 50, Gradients = Drawing.GradientsOf(f), Title = "f = (x + 2y) · z" };
/// string dot = Dot.Render(f, options);
/// </code>
/// </example>
public sealed record DrawOptions
{
    /// <summary>The default <see cref="NodeLimit"/>.</summary>
    public const int DefaultNodeLimit = 200;

    /// <summary>The options every drawing uses when it is given none.</summary>
    public static DrawOptions Default { get; } = new();

    /// <summary>
    /// How many graph nodes are drawn (at least 1; default <see cref="DefaultNodeLimit"/>). The nodes nearest the
    /// outputs (breadth-first from the roots) are kept; everything past the limit is replaced by one node that says how
    /// many nodes it stands for. The roots are always drawn, even when there are more of them than the limit.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The limit is less than 1.</exception>
    public int NodeLimit
    {
        get;
        init => field = value >= 1
            ? value
            : throw new ArgumentOutOfRangeException(nameof(NodeLimit), value,
                UserCode.Mark("A drawing needs room for at least one node: set NodeLimit to 1 or more (the default is 200)."));
    } = DefaultNodeLimit;

    /// <summary>Whether nodes show their forward value when it is known (<see cref="Expr.HasValue"/>); default true.</summary>
    public bool ShowValues { get; init; } = true;

    /// <summary>
    /// Gradient values to show under the nodes' values (in red in DOT, after "grad" in both formats), as
    /// <see cref="Drawing.GradientsOf"/> computes them; null for none. Looked up by node identity: any dictionary
    /// keyed by <see cref="Expr"/> works, since a node's equality and hash are its identity. Nodes missing from the
    /// dictionary show no gradient.
    /// </summary>
    public IReadOnlyDictionary<Expr, Value>? Gradients { get; init; }

    /// <summary>A title drawn above the graph, or null for none.</summary>
    public string? Title { get; init; }

    /// <summary>
    /// Whether to draw <see cref="Graph.Simplify(IReadOnlyList{Expr})"/> of the roots (simplified together) instead of the
    /// roots as built: the same values, bit for bit, in fewer nodes, so a gradient graph reads like math. Default false,
    /// so a drawing shows the graph as built. Roots that simplify to one node are drawn once, with all their names.
    /// </summary>
    /// <remarks>
    /// <see cref="Gradients"/> are looked up on the drawn nodes, so with simplification they must be the gradients of
    /// the simplified graph: simplify first and draw the result, whose simplification is itself.
    /// Drawing a graph that simplification changes, with gradients, throws instead of showing gradients that belong to
    /// other nodes.
    /// </remarks>
    /// <example>
    /// <code>
    /// var x = Expr.Var("x", Value.Scalar(3));
    /// var g = AD.Gradients(x * x, x)[0];                              // (1 * x) + (1 * x) = 6
    /// string dot = Dot.Render(g, new DrawOptions { Simplify = true }); // x + x: nodes x and add
    /// var s = Graph.Simplify(x * x * x);                              // with gradients: simplify first
    /// string circuit = Dot.Render(s, new DrawOptions { Gradients = Drawing.GradientsOf(s) });
    /// </code>
    /// </example>
    public bool Simplify { get; init; }
}

/// <summary>Helpers shared by the drawings: the gradient values to show on a graph.</summary>
public static class Drawing
{
    /// <summary>
    /// The gradient of a scalar <paramref name="output"/> at the nodes of its graph that a drawing keeps (the
    /// <paramref name="nodeLimit"/> nodes nearest the output, breadth-first), as numbers, for
    /// <see cref="DrawOptions.Gradients"/>: like the CS231n circuit diagrams, each node then shows d output / d node.
    /// Only nodes whose gradient has a value appear (all of them when the graph is traced, i.e. its variables carry values).
    /// </summary>
    /// <example>
    /// <code>
    /// var x = Expr.Var("x", Value.Scalar(3));
    /// var y = Expr.Var("y", Value.Scalar(-4));
    /// var z = Expr.Var("z", Value.Scalar(19));
    /// var q = x + 2 * y;
    /// var f = q * z;                                     // -95
    /// var grads = Drawing.GradientsOf(f);                // x: 19, y: 38, z: -5, q: 19, f: 1
    /// string dot = Dot.Render(f, new DrawOptions { Gradients = grads });
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="output"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="nodeLimit"/> is less than 1.</exception>
    /// <exception cref="NonScalarOutputException">The output is not a scalar.</exception>
    public static IReadOnlyDictionary<Expr, Value> GradientsOf(Expr output, int nodeLimit = DrawOptions.DefaultNodeLimit)
    {
        Guard.NotNull(output);
        if (nodeLimit < 1)
            throw new ArgumentOutOfRangeException(nameof(nodeLimit), nodeLimit,
                UserCode.Mark("Gradients are computed for at least one node: pass 1 or more (the default is 200)."));
        if (!output.Shape.IsScalar) throw new NonScalarOutputException("GradientsOf", output.Shape);
        var nodes = Layout.Nearest([output], nodeLimit, out _);
        var gradients = AD.Gradients(output, nodes.ToArray());
        var result = ImmutableDictionary.CreateBuilder<Expr, Value>(Identity.Instance);
        for (var k = 0; k < nodes.Count; k++)
            if (gradients[k].HasValue) result.Add(nodes[k], gradients[k].Value);
        return result.ToImmutable();
    }

    /// <summary>Checks and normalises the roots of a drawing: names may be null (an unnamed output).</summary>
    internal static (string? Name, Expr Root)[] CheckRoots(IReadOnlyList<(string? Name, Expr Root)>? roots, string parameter)
    {
        if (roots is null)
            throw new ArgumentNullException(parameter, UserCode.Mark("Pass the graph's output node(s) to draw (one Expr, or a list of them)."));
        if (roots.Count == 0)
            throw new ArgumentException(UserCode.Mark("There is nothing to draw: pass at least one output node."), parameter);
        var result = new (string? Name, Expr Root)[roots.Count];
        for (var k = 0; k < roots.Count; k++)
        {
            if (roots[k].Root is null)
                throw new ArgumentException(UserCode.Mark($"Root {k} of the drawing is null: pass only built nodes."), parameter);
            result[k] = roots[k];
        }
        return result;
    }

    internal static (string? Name, Expr Root)[] Unnamed(IReadOnlyList<Expr>? roots, string parameter)
    {
        if (roots is null)
            throw new ArgumentNullException(parameter, UserCode.Mark("Pass the graph's output node(s) to draw (one Expr, or a list of them)."));
        var named = new (string? Name, Expr Root)[roots.Count];
        for (var k = 0; k < roots.Count; k++) named[k] = (null, roots[k]);
        return CheckRoots(named, parameter);
    }

    internal static (string? Name, Expr Root)[] Named(IReadOnlyList<(string Name, Expr Root)>? roots, string parameter)
    {
        if (roots is null)
            throw new ArgumentNullException(parameter, UserCode.Mark("Pass the graph's output node(s) to draw, each with a name."));
        var named = new (string? Name, Expr Root)[roots.Count];
        for (var k = 0; k < roots.Count; k++)
        {
            if (roots[k].Name is null)
                throw new ArgumentException(UserCode.Mark($"The name of root {k} is null: give every root a name, or use the overload without names."), parameter);
            named[k] = roots[k];
        }
        return CheckRoots(named, parameter);
    }
}

/// <summary>What a node of a drawing is, which decides its shape and style.</summary>
internal enum NodeKind { Variable, Constant, Operation, StopGradient, More }

/// <summary>What a line of a node's label says, which decides its typeface and colour.</summary>
internal enum LineKind { Output, Title, Shape, Value, Gradient }

/// <summary>One line of a node's label (plain text; each format escapes it).</summary>
internal readonly record struct Line(LineKind Kind, string Text);

/// <summary>One node of a drawing: its kind, its label lines, and whether it is an output.</summary>
internal sealed class DrawnNode(NodeKind kind, Line[] lines, bool isOutput)
{
    public NodeKind Kind { get; } = kind;
    public Line[] Lines { get; } = lines;
    public bool IsOutput { get; } = isOutput;
}

/// <summary>
/// An edge of a drawing, from node <see cref="From"/> into an argument of node <see cref="To"/>; <see cref="Label"/>
/// says the argument position when it matters (non-commutative ops of two or more inputs), else null.
/// <see cref="Dashed"/> marks the output of a stop-gradient node.
/// </summary>
internal readonly record struct DrawnEdge(int From, int To, string? Label, bool Dashed);

/// <summary>
/// The format-independent layout of a drawing: the kept nodes (ids 0, 1, ... in breadth-first order from the
/// roots, so the same graph always gives the same ids), their labels, the edges, and at most one extra node standing
/// for every node cut past the limit. Built iteratively, so graph depth never touches the call stack.
/// </summary>
internal sealed class Layout
{
    private Layout(List<DrawnNode> nodes, List<DrawnEdge> edges)
    {
        Nodes = nodes;
        Edges = edges;
    }

    /// <summary>The nodes; a node's id is its index.</summary>
    public List<DrawnNode> Nodes { get; }

    /// <summary>The edges, grouped by target node in id order, each target's inputs in argument order.</summary>
    public List<DrawnEdge> Edges { get; }

    public static Layout Of((string? Name, Expr Root)[] roots, DrawOptions options)
    {
        if (options.Simplify) roots = Simplified(roots, options);
        var distinctRoots = new List<Expr>();
        var names = new Dictionary<Expr, List<string>>(Identity.Instance);
        foreach (var (name, root) in roots)
        {
            if (!names.TryGetValue(root, out var list))
            {
                names.Add(root, list = []);
                distinctRoots.Add(root);
            }
            if (name is not null && !list.Contains(name)) list.Add(name);
        }

        var limit = Math.Max(options.NodeLimit, distinctRoots.Count);
        var kept = Nearest(distinctRoots, limit, out var total);
        var ids = new Dictionary<Expr, int>(kept.Count, Identity.Instance);
        for (var k = 0; k < kept.Count; k++) ids.Add(kept[k], k);
        var cut = total - kept.Count;
        var moreId = cut > 0 ? kept.Count : -1;

        var nodes = new List<DrawnNode>(kept.Count + 1);
        var edges = new List<DrawnEdge>();
        for (var k = 0; k < kept.Count; k++)
        {
            var node = kept[k];
            names.TryGetValue(node, out var rootNames);
            nodes.Add(Describe(node, rootNames, options));
            var inputs = node.Inputs;
            var positional = inputs.Length >= 2 && node.Op is { IsCommutative: false };
            for (var i = 0; i < inputs.Length; i++)
            {
                var from = ids.TryGetValue(inputs[i], out var id) ? id : moreId;
                edges.Add(new DrawnEdge(from, k, positional ? i.ToString(CultureInfo.InvariantCulture) : null,
                    inputs[i].Op is StopGradientOp && from != moreId));
            }
        }
        if (cut > 0)
        {
            var text = $"… {cut.ToString("N0", CultureInfo.InvariantCulture)} more node{(cut == 1 ? "" : "s")}";
            nodes.Add(new DrawnNode(NodeKind.More, [new Line(LineKind.Title, text)], false));
        }
        return new Layout(nodes, edges);
    }

    /// <summary>The roots simplified together (see <see cref="DrawOptions.Simplify"/>).</summary>
    private static (string? Name, Expr Root)[] Simplified((string? Name, Expr Root)[] roots, DrawOptions options)
    {
        var nodes = new Expr[roots.Length];
        for (var k = 0; k < roots.Length; k++) nodes[k] = roots[k].Root;
        var simplified = Graph.Simplify(nodes);
        var result = new (string? Name, Expr Root)[roots.Length];
        for (var k = 0; k < roots.Length; k++)
        {
            if (options.Gradients is not null && !ReferenceEquals(simplified[k], nodes[k]))
                throw new ArgumentException(
                    UserCode.Mark("DrawOptions.Simplify changes this graph, so the gradients given (of the graph as built) do not belong to " +
                    "the nodes that would be drawn: simplify first and draw the result with its own gradients " +
                    "(var s = Graph.Simplify(f); Dot.Render(s, new DrawOptions { Gradients = Drawing.GradientsOf(s) })), " +
                    "or draw without Simplify."), "options");
            result[k] = (roots[k].Name, simplified[k]);
        }
        return result;
    }

    /// <summary>
    /// The first <paramref name="limit"/> distinct nodes breadth-first from the roots (the roots first, then inputs
    /// in argument order), and how many distinct nodes there are under the roots in all. Iterative.
    /// </summary>
    public static List<Expr> Nearest(IReadOnlyList<Expr> roots, int limit, out int total)
    {
        var seen = new HashSet<Expr>(Identity.Instance);
        var queue = new Queue<Expr>();
        var kept = new List<Expr>(Math.Min(limit, 1024));
        foreach (var root in roots)
            if (seen.Add(root)) queue.Enqueue(root);
        while (queue.Count > 0)
        {
            var node = queue.Dequeue();
            if (kept.Count < limit) kept.Add(node);
            foreach (var input in node.Inputs)
                if (seen.Add(input)) queue.Enqueue(input);
        }
        total = seen.Count;
        return kept;
    }

    private const int MaxShownElements = 4;

    private static DrawnNode Describe(Expr node, List<string>? rootNames, DrawOptions options)
    {
        var lines = new List<Line>(5);
        if (rootNames is { Count: > 0 }) lines.Add(new Line(LineKind.Output, string.Join(", ", rootNames)));
        NodeKind kind;
        switch (node)
        {
            case Var v:
                kind = NodeKind.Variable;
                lines.Add(new Line(LineKind.Title, v.Name));
                break;
            case Const c:
                kind = NodeKind.Constant;
                lines.Add(new Line(LineKind.Title, IsSmall(c.Shape) ? c.Value.ToString() : "const"));
                break;
            default:
                var op = node.Op!;
                kind = op is StopGradientOp ? NodeKind.StopGradient : NodeKind.Operation;
                lines.Add(new Line(LineKind.Title, op.ToString()));
                break;
        }
        lines.Add(new Line(LineKind.Shape, node.Shape.ToString()));
        // A constant's value is its title; a large value is summed up by the shape line.
        if (options.ShowValues && kind != NodeKind.Constant && node.HasValue && IsSmall(node.Shape))
            lines.Add(new Line(LineKind.Value, node.Value.ToString()));
        if (options.Gradients is { } gradients && gradients.TryGetValue(node, out var g))
            lines.Add(new Line(LineKind.Gradient, "grad " + (IsSmall(g.Shape) ? g.ToString() : g.Shape.ToString())));
        return new DrawnNode(kind, lines.ToArray(), rootNames is not null);
    }

    private static bool IsSmall(Shape shape) => shape.Size <= MaxShownElements;
}
