using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// Replaces nodes of a graph by others, iteratively and keeping identity: every node that does not depend on a
/// replaced node is the same instance in the result, so rewriting is cheap and sharing is preserved.
/// This is how nested transforms connect the fresh variable they differentiate by back to their argument.
/// </summary>
internal static class Substitute
{
    public static Expr Run(Expr root, Expr from, Expr to)
    {
        if (ReferenceEquals(from, to)) return root;
        using var sorted = new SortedGraph(root);
        var order = sorted.Order;
        var rewritten = new Expr[order.Length];
        var inputs = new Expr[Expr.MaxArity];
        for (var k = 0; k < order.Length; k++)
        {
            var node = order[k];
            if (ReferenceEquals(node, from)) { rewritten[k] = to; continue; }
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
