using System;
using System.Collections.Generic;
using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>
/// Reverse mode: one walk of the graph in reverse topological order with a local cotangent table, applying each
/// op's VJP rule. <see cref="Gradients"/> builds the gradient as a graph (so it can be differentiated again);
/// <see cref="GradientValues"/> runs the same rules on numbers: a library op's rule compiled once per op and shapes,
/// a user's rule on the real nodes.
/// </summary>
internal static class Reverse
{
    /// <summary>
    /// The cotangents of <paramref name="wrt"/> for the output cotangent <paramref name="seed"/>, as graphs:
    /// one per entry of <paramref name="wrt"/>, zeros of its shape where the output does not depend on it.
    /// </summary>
    public static ImmutableArray<Expr> Gradients(Expr output, ImmutableArray<Expr> wrt, Expr seed)
    {
        using var sorted = new SortedGraph(output);
        var order = sorted.Order;
        var relevant = Relevant(sorted, wrt);
        var cotangents = new Expr?[order.Length];
        var last = order.Length - 1;
        if (relevant[last]) cotangents[last] = seed;
        for (var k = last; k >= 0; k--)
        {
            if (cotangents[k] is not { } ybar || order[k] is not Apply node) continue;
            var inputs = node.Inputs;
            for (var i = 0; i < inputs.Length; i++)
            {
                var j = sorted.InputPosition(k, i);
                if (!relevant[j]) continue;
                var g = node.Op.Vjp(i, inputs, node, ybar);
                if (g is null) continue;
                CheckShape(node.Op, i, g.Shape, inputs[i].Shape);
                cotangents[j] = cotangents[j] is { } sum ? sum + g : g;
            }
        }
        var result = ImmutableArray.CreateBuilder<Expr>(wrt.Length);
        foreach (var x in wrt)
            result.Add(sorted.PositionOf(x) is var p && p >= 0 && cotangents[p] is { } g ? g : Expr.ZerosLike(x));
        return result.MoveToImmutable();
    }

    /// <summary>
    /// The same cotangents as numbers, for a graph whose nodes all carry values (a traced graph). No gradient
    /// graph is built: each op's VJP rule runs in its compiled form. <paramref name="observe"/>, when given, sees
    /// every contribution as it is made (the anomaly check's hook; null on every other path).
    /// </summary>
    public static ImmutableArray<Value> GradientValues(Expr output, ImmutableArray<Expr> wrt, Value seed, CotangentObserver? observe = null)
    {
        using var sorted = new SortedGraph(output);
        var order = sorted.Order;
        var flags = sorted.FlagTables;
        var relevant = flags[..order.Length];
        var has = flags[order.Length..];
        MarkRelevant(sorted, wrt, relevant);
        var cotangents = sorted.ValueTable;
        ref var scratch = ref sorted.Scratch;
        var last = order.Length - 1;
        if (relevant[last]) (cotangents[last], has[last]) = (seed, true);
        Span<Shape> shapes = stackalloc Shape[Expr.MaxArity];
        for (var k = last; k >= 0; k--)
        {
            if (!has[k] || order[k] is not Apply node) continue;
            var inputs = node.Inputs;
            var n = inputs.Length;
            for (var i = 0; i < n; i++) shapes[i] = inputs[i].Shape;
            // A library op's rule runs compiled; a user's rule runs on the real nodes (it may read their values or
            // captured state), exactly as Gradients runs it, and the graph it builds is evaluated.
            var rule = node.Op.CompilesRules ? CompiledRules.For(node.Op, shapes[..n], node.Shape) : null;
            Expr? ybarNode = null;
            for (var i = 0; i < n; i++)
            {
                var j = sorted.InputPosition(k, i);
                if (!relevant[j]) continue;
                Value g;
                if (rule is not null)
                {
                    if (rule.IsZero(i)) continue;
                    g = rule.Run(i, inputs, node.Value, cotangents[k], ref scratch);
                }
                else
                {
                    ybarNode ??= Expr.Const(cotangents[k]);
                    if (node.Op.Vjp(i, inputs, node, ybarNode) is not { } rg) continue;
                    g = rg.Value;
                }
                CheckShape(node.Op, i, g.Shape, inputs[i].Shape);
                observe?.Invoke(node, i, cotangents[k], g);
                (cotangents[j], has[j]) = (has[j] ? cotangents[j] + g : g, true);
            }
        }
        var result = ImmutableArray.CreateBuilder<Value>(wrt.Length);
        foreach (var x in wrt)
            result.Add(sorted.PositionOf(x) is var p && p >= 0 && has[p] ? cotangents[p] : Value.Zeros(x.Shape));
        return result.MoveToImmutable();
    }

    /// <summary>Which nodes depend on a target (and so can carry a non-zero cotangent); a stop-gradient cuts dependence.</summary>
    private static bool[] Relevant(SortedGraph sorted, ImmutableArray<Expr> wrt)
    {
        var relevant = new bool[sorted.Count];
        MarkRelevant(sorted, wrt, relevant);
        return relevant;
    }

    private static void MarkRelevant(SortedGraph sorted, ImmutableArray<Expr> wrt, Span<bool> relevant)
    {
        var order = sorted.Order;
        foreach (var x in wrt)
            if (sorted.PositionOf(x) is var p && p >= 0) relevant[p] = true;
        for (var k = 0; k < relevant.Length; k++)
        {
            if (relevant[k] || order[k].Op is StopGradientOp) continue;
            var n = order[k].Inputs.Length;
            for (var i = 0; i < n && !relevant[k]; i++) relevant[k] = relevant[sorted.InputPosition(k, i)];
        }
    }

    private static void CheckShape(Op op, int i, Shape got, Shape expected)
    {
        if (got != expected)
            throw new InvalidOperationException(
                UserCode.Mark($"The VJP rule of {op} gave a cotangent of shape {got} for input {i} of shape {expected}: the rule is wrong."));
    }
}
