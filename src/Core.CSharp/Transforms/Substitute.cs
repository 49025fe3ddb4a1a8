using System.Collections.Generic;
using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// Replaces nodes of a graph by others, iteratively and keeping identity: every node that does not depend on a
/// replaced node is the same instance in the result, so rewriting is cheap and sharing is preserved.
/// This is how nested transforms connect the fresh variable they differentiate by back to their argument.
/// </summary>
internal static class Substitute
{
    public static Expr Run(Expr root, Expr from, Expr to) =>
        ReferenceEquals(from, to) ? root : Run(root, [from], [to]);

    /// <summary>Every node of <paramref name="from"/> replaced by the matching node of <paramref name="to"/>, in one walk.</summary>
    public static Expr Run(Expr root, ImmutableArray<Expr> from, ImmutableArray<Expr> to)
    {
        using var sorted = new SortedGraph(root);
        var order = sorted.Order;
        var rewritten = new Expr[order.Length];
        var inputs = new Expr[Expr.MaxArity];
        Dictionary<Expr, int>? index = null;
        if (from.Length != 1)
        {
            index = new Dictionary<Expr, int>(from.Length, Identity.Instance);
            for (var i = 0; i < from.Length; i++) index.TryAdd(from[i], i);
        }
        for (var k = 0; k < order.Length; k++)
        {
            var node = order[k];
            var replaced = from.Length == 1 ? (ReferenceEquals(node, from[0]) ? to[0] : null)
                : index!.TryGetValue(node, out var at) ? to[at] : null;
            if (replaced is not null) { rewritten[k] = replaced; continue; }
            if (node is not Apply apply) { rewritten[k] = node; continue; }
            var n = node.Inputs.Length;
            var changed = false;
            for (var i = 0; i < n; i++)
            {
                inputs[i] = rewritten[sorted.InputPosition(k, i)];
                changed |= !ReferenceEquals(inputs[i], node.Inputs[i]);
            }
            rewritten[k] = changed ? apply.WithInputs(ImmutableArray.Create(inputs, 0, n)) : node;
        }
        return rewritten[order.Length - 1];
    }
}
