using System;
using System.Collections.Generic;

namespace Functional.Autodiff;

/// <summary>Evaluation of graphs over symbolic variables: memoised post-order, iterative, a local map keyed by identity.</summary>
internal static class Evaluate
{
    public static Value Run(Expr root, IReadOnlyDictionary<Var, Value> bindings)
    {
        foreach (var (v, value) in bindings)
        {
            ArgumentNullException.ThrowIfNull(v, nameof(bindings));
            if (v.Shape != value.Shape)
                throw new ShapeMismatchException("Eval", v.Shape, value.Shape,
                    $"Variable '{v.Name}' is {v.Shape} but was bound to a value of shape {value.Shape}: bind a value of the variable's shape.");
        }

        var values = new Dictionary<Expr, Value>(ReferenceEqualityComparer.Instance);
        // Nodes under a bound variable are recomputed even if they carry a traced value.
        var rebound = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
        Span<Value> args = new Value[Expr.MaxArity];
        foreach (var node in Graph.PostOrder(root))
        {
            switch (node)
            {
                case Var v when bindings.TryGetValue(v, out var bound):
                    values[node] = bound;
                    rebound.Add(node);
                    continue;
                case Var v when !v.HasValue:
                    throw new UnboundVariableException(v);
            }
            var inputs = node.Inputs;
            var dirty = false;
            foreach (var input in inputs) dirty |= rebound.Contains(input);
            if (!dirty && node.HasValue)
            {
                values[node] = node.Value;
                continue;
            }
            for (var k = 0; k < inputs.Length; k++) args[k] = values[inputs[k]];
            values[node] = node.Op!.Eval(args[..inputs.Length]);
            rebound.Add(node);
        }
        return values[root];
    }
}
