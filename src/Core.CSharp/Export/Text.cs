using System;
using System.Collections.Generic;
using System.Text;

namespace Functional.Autodiff.Export;

/// <summary>
/// A bounded, single-line text rendering of a graph, e.g. <c>3 * dot(x, (w + 2) ^ 2) : scalar = 40.5</c>.
/// Iterative, and cut with "…" past <see cref="DefaultNodeLimit"/> op nodes, so a million-node chain prints in constant size.
/// Shared subgraphs are printed at each use (the rendering is a tree); the node budget still bounds it.
/// </summary>
public static class Text
{
    /// <summary>How many op nodes a rendering shows before it cuts the rest with "…".</summary>
    public const int DefaultNodeLimit = 24;

    /// <summary>The expression, its shape, and its value when it has one.</summary>
    /// <param name="expr">The graph to print.</param>
    /// <param name="nodeLimit">How many op nodes are shown before the rest is cut with "…".</param>
    /// <param name="simplify">
    /// Print <see cref="Graph.Simplify(Expr)"/> of the graph instead (same value, bit for bit): gradient graphs then
    /// read like math. Off by default, so the default rendering is what was built.
    /// </param>
    /// <example>
    /// <code>
    /// var x = Expr.Var("x", Shape.Scalar);
    /// var g = AD.Gradients(x * x, x)[0];
    /// Text.Render(g);                   // (1 * x) + (1 * x) : scalar
    /// Text.Render(g, simplify: true);   // x + x : scalar
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="expr"/> is null.</exception>
    public static string Render(Expr expr, int nodeLimit = DefaultNodeLimit, bool simplify = false)
    {
        Guard.NotNull(expr);
        if (simplify) expr = Graph.Simplify(expr);
        var sb = new StringBuilder();
        AppendExpression(sb, expr, nodeLimit);
        sb.Append(" : ").Append(expr.Shape);
        if (expr.HasValue) sb.Append(" = ").Append(expr.Value.ToString());
        return sb.ToString();
    }

    /// <summary>
    /// Only the expression, with at most <paramref name="nodeLimit"/> op nodes shown; with <paramref name="simplify"/>,
    /// the expression of <see cref="Graph.Simplify(Expr)"/> of the graph (see <see cref="Render"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="expr"/> is null.</exception>
    public static string Expression(Expr expr, int nodeLimit = DefaultNodeLimit, bool simplify = false)
    {
        Guard.NotNull(expr);
        if (simplify) expr = Graph.Simplify(expr);
        var sb = new StringBuilder();
        AppendExpression(sb, expr, nodeLimit);
        return sb.ToString();
    }

    private static void AppendExpression(StringBuilder sb, Expr root, int nodeLimit)
    {
        // Work items are either text to append or a node to render (with whether it needs parentheses).
        var stack = new Stack<(Expr? Node, bool Paren, string? Text)>();
        stack.Push((root, false, null));
        var shown = 0;
        while (stack.Count > 0)
        {
            var (node, paren, text) = stack.Pop();
            if (node is null)
            {
                sb.Append(text);
                continue;
            }
            switch (node)
            {
                case Var v:
                    sb.Append(v.Name);
                    continue;
                case Const c:
                    sb.Append(c.Shape.Size <= 4 ? c.Value.ToString() : $"const {c.Shape}");
                    continue;
            }
            if (++shown > nodeLimit)
            {
                sb.Append('…');
                continue;
            }
            var op = node.Op!;
            var inputs = node.Inputs;
            // Pushed in reverse: the last pushed is printed first.
            if (op.Infix is { } symbol && inputs.Length == 2)
            {
                if (paren) stack.Push((null, false, ")"));
                stack.Push((inputs[1], true, null));
                stack.Push((null, false, $" {symbol} "));
                stack.Push((inputs[0], true, null));
                if (paren) stack.Push((null, false, "("));
            }
            else if (op is PowOp pow)
            {
                if (paren) stack.Push((null, false, ")"));
                stack.Push((null, false, " ^ " + Value.Format(pow.Exponent)));
                stack.Push((inputs[0], true, null));
                if (paren) stack.Push((null, false, "("));
            }
            else if (op is NegOp)
            {
                stack.Push((inputs[0], true, null));
                stack.Push((null, false, "-"));
            }
            else if (op is IndexOp index)
            {
                stack.Push((null, false, index.J is { } j ? $"[{index.I}, {j}]" : $"[{index.I}]"));
                stack.Push((inputs[0], true, null));
            }
            else
            {
                stack.Push((null, false, ")"));
                for (var k = inputs.Length - 1; k >= 0; k--)
                {
                    stack.Push((inputs[k], false, null));
                    if (k > 0) stack.Push((null, false, ", "));
                }
                stack.Push((null, false, op.Name + "("));
            }
        }
    }
}
