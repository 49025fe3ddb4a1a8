using System;
using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// Forward mode, graph to graph: one walk in topological order carrying a tangent per node, applying each op's JVP
/// rule. The tangent is a graph, so it can be evaluated or differentiated again (forward-over-reverse Hessians).
/// </summary>
internal static class Forward
{
    /// <summary>
    /// The tangent of <paramref name="output"/> when each node of <paramref name="wrt"/> moves along the matching
    /// entry of <paramref name="tangents"/> (J·v); zeros of the output's shape when the output does not depend on them.
    /// <paramref name="observe"/>, when given, sees each node's tangent as it is made (the anomaly check's hook).
    /// </summary>
    public static Expr Tangent(Expr output, ImmutableArray<Expr> wrt, ImmutableArray<Expr> tangents, TangentObserver? observe = null)
    {
        using var sorted = new SortedGraph(output);
        var order = sorted.Order;
        var table = new Expr?[order.Length];
        for (var t = 0; t < wrt.Length; t++)
            if (sorted.PositionOf(wrt[t]) is var p && p >= 0) table[p] = tangents[t];
        var dx = new Expr?[Expr.MaxArity];
        for (var k = 0; k < order.Length; k++)
        {
            if (table[k] is not null || order[k] is not Apply node || node.Op is StopGradientOp) continue;
            var n = node.Inputs.Length;
            var any = false;
            for (var i = 0; i < n; i++) any |= (dx[i] = table[sorted.InputPosition(k, i)]) is not null;
            if (!any) continue;
            var tangent = node.Op.Jvp(node.Inputs, node, dx.AsSpan(0, n));
            if (tangent is not null && tangent.Shape != node.Shape)
                throw new InvalidOperationException(
                    UserCode.Mark($"The JVP rule of {node.Op} gave a tangent of shape {tangent.Shape} for an output of shape {node.Shape}: the rule is wrong."));
            table[k] = tangent;
            observe?.Invoke(node, dx.AsSpan(0, n), tangent);
        }
        return table[order.Length - 1] ?? Expr.ZerosLike(output);
    }
}
