using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// Reverse mode, graph to graph: walks the graph once in reverse topological order with a local cotangent map,
/// applying each op's VJP rule. The result is a graph, so it can be evaluated, printed, or differentiated again.
/// </summary>
internal static class Reverse
{
    /// <summary>
    /// The cotangents of <paramref name="wrt"/> for the output cotangent <paramref name="seed"/>: one graph per
    /// entry of <paramref name="wrt"/>, zeros of its shape where the output does not depend on it.
    /// </summary>
    public static ImmutableArray<Expr> Gradients(Expr output, ImmutableArray<Expr> wrt, Expr seed)
    {
        var order = Graph.PostOrder(output);
        var targets = new HashSet<Expr>(wrt, ReferenceEqualityComparer.Instance);

        // Only nodes that depend on a target carry a cotangent worth computing; a stop-gradient cuts dependence.
        var relevant = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
        foreach (var node in order)
        {
            if (targets.Contains(node)) { relevant.Add(node); continue; }
            if (node.Op is StopGradientOp) continue;
            foreach (var input in node.Inputs)
                if (relevant.Contains(input)) { relevant.Add(node); break; }
        }

        var cotangents = new Dictionary<Expr, Expr>(ReferenceEqualityComparer.Instance);
        if (relevant.Contains(output)) cotangents[output] = seed;
        for (var k = order.Count - 1; k >= 0; k--)
        {
            var node = order[k];
            if (node is not Apply apply || !cotangents.TryGetValue(node, out var ybar)) continue;
            var inputs = apply.Inputs;
            for (var i = 0; i < inputs.Length; i++)
            {
                var input = inputs[i];
                if (!relevant.Contains(input)) continue;
                var g = apply.Op.Vjp(i, inputs, node, ybar);
                if (g is null) continue;
                if (g.Shape != input.Shape)
                    throw new InvalidOperationException(
                        $"The VJP rule of {apply.Op} gave a cotangent of shape {g.Shape} for input {i} of shape {input.Shape}: the rule is wrong.");
                cotangents[input] = cotangents.TryGetValue(input, out var sum) ? sum + g : g;
            }
        }

        var result = ImmutableArray.CreateBuilder<Expr>(wrt.Length);
        foreach (var x in wrt) result.Add(cotangents.TryGetValue(x, out var g) ? g : Expr.ZerosLike(x));
        return result.MoveToImmutable();
    }
}
