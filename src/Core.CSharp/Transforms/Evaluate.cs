using System;
using System.Collections.Generic;

namespace Functional.Autodiff;

/// <summary>Evaluation of graphs over symbolic variables: one post-order walk, iterative, values in a local table.</summary>
internal static class Evaluate
{
    public static Value Run(Expr root, IReadOnlyDictionary<Var, Value> bindings)
    {
        foreach (var (v, value) in bindings)
        {
            Guard.NotNull(v, nameof(bindings));
            if (v.Shape != value.Shape)
                throw new ShapeMismatchException("Eval", v.Shape, value.Shape,
                    $"Variable '{v.Name}' is {v.Shape} but was bound to a value of shape {value.Shape}: bind a value of the variable's shape.");
        }

        using var sorted = new SortedGraph(root);
        var order = sorted.Order;
        foreach (var v in bindings.Keys)
            if (sorted.PositionOf(v) < 0)
                throw new ArgumentException(
                    UserCode.Mark($"Eval: variable '{v.Name}' ({v.Shape}) is bound, but the graph does not read it: remove the binding, " +
                    "or bind the variable the graph was built with (variables are told apart by identity, not by name)."), nameof(bindings));
        var values = new Value[order.Length];
        // Nodes under a bound variable are recomputed even if they carry a traced value.
        var rebound = new bool[order.Length];
        Span<Value> args = new Value[Expr.MaxArity];
        for (var k = 0; k < order.Length; k++)
        {
            var node = order[k];
            switch (node)
            {
                case Var v when bindings.TryGetValue(v, out var bound):
                    values[k] = bound;
                    rebound[k] = true;
                    continue;
                case Var v when !v.HasValue:
                    throw SameName(v, bindings) is { } other
                        ? new UnboundVariableException(v, other)
                        : new UnboundVariableException(v);
            }
            var n = node.Inputs.Length;
            var dirty = false;
            for (var i = 0; i < n; i++) dirty |= rebound[sorted.InputPosition(k, i)];
            if (!dirty && node.HasValue)
            {
                values[k] = node.Value;
                continue;
            }
            for (var i = 0; i < n; i++) args[i] = values[sorted.InputPosition(k, i)];
            values[k] = node.Op!.EvalChecked(args[..n], node.Shape);
            rebound[k] = true;
        }
        return values[order.Length - 1];
    }

    private static Var? SameName(Var v, IReadOnlyDictionary<Var, Value> bindings)
    {
        foreach (var bound in bindings.Keys)
            if (bound.Name == v.Name) return bound;
        return null;
    }
}
