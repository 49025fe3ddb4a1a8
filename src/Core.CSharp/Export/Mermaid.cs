using System;
using System.Collections.Generic;
using System.Text;

namespace Functional.Autodiff.Export;

/// <summary>
/// Mermaid flowchart renderings of graphs, drawn left to right like a circuit (inputs on the left, outputs on the
/// right), for Markdown pages that render Mermaid.
/// </summary>
/// <remarks>
/// <para>The same content as <see cref="Dot"/>: each node shows what it is, its shape, its value when known (values of
/// more than 4 numbers are summed up by the shape) and, when <see cref="DrawOptions.Gradients"/> is given, its
/// gradient on a last line starting with "grad". Variables are stadiums, constants boxes, ops rounded boxes. A
/// stop-gradient node is a hexagon with a dashed red border, and its outgoing edges are dotted and red. Outputs have
/// a thick border and, when named, their name on the first line. Edges into an op of two or more inputs whose order
/// matters are labelled with the argument position.</para>
/// <para>Shared nodes are drawn once; past <see cref="DrawOptions.NodeLimit"/> nodes the rest become one node saying
/// how many it stands for. Rendering is iterative and deterministic (ids n0, n1, ... breadth-first from the roots).
/// Labels are quoted, with <c>"</c>, <c>#</c>, <c>&lt;</c>, <c>&gt;</c>, <c>&amp;</c> and backquotes written as Mermaid
/// entity codes. Mermaid renderers refuse very large diagrams by default (about 500 edges or 50,000 characters):
/// lower <see cref="DrawOptions.NodeLimit"/> for big graphs.</para>
/// </remarks>
public static class Mermaid
{
    /// <summary>The graph under <paramref name="root"/> as a Mermaid flowchart.</summary>
    /// <example>
    /// <code>
    /// var x = Expr.Var("x", Value.Scalar(3));
    /// var y = Expr.Var("y", Value.Scalar(-4));
    /// var z = Expr.Var("z", Value.Scalar(19));
    /// var f = (x + 2 * y) * z;
    /// string text = Mermaid.Render(f, new DrawOptions { Gradients = Drawing.GradientsOf(f) });
    /// // paste into a ```mermaid block of a Markdown page
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
    /// <exception cref="ArgumentException"><see cref="DrawOptions.Simplify"/> is set with <see cref="DrawOptions.Gradients"/> and simplification changes the graph (simplify first, then take the gradients).</exception>
    public static string Render(Expr root, DrawOptions? options = null)
    {
        if (root is null)
            throw new ArgumentNullException(nameof(root), UserCode.Mark("Pass the graph's output node to draw."));
        var o = options ?? DrawOptions.Default;
        return Write(Layout.Of([(null, root)], o), o);
    }

    /// <summary>The graphs under several <paramref name="roots"/> in one Mermaid flowchart; shared nodes are drawn
    /// once and every root is marked as an output.</summary>
    /// <example>
    /// <code>
    /// var grads = AD.Gradients(f, x, y, z);
    /// string text = Mermaid.Render(new[] { f, grads[0], grads[1], grads[2] });
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="roots"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="roots"/> is empty or holds a null, or <see cref="DrawOptions.Simplify"/> is set with <see cref="DrawOptions.Gradients"/> and simplification changes the graph.</exception>
    public static string Render(IReadOnlyList<Expr> roots, DrawOptions? options = null)
    {
        var o = options ?? DrawOptions.Default;
        return Write(Layout.Of(Drawing.Unnamed(roots, nameof(roots)), o), o);
    }

    /// <summary>
    /// The graphs under several named <paramref name="roots"/> in one Mermaid flowchart: a graph and its gradient
    /// graphs beside it, each output marked and labelled with its name. Shared nodes are drawn once.
    /// </summary>
    /// <example>
    /// <code>
    /// var grads = AD.Gradients(f, x, y, z);
    /// string text = Mermaid.Render(new[] { ("f", f), ("∂f/∂x", grads[0]), ("∂f/∂y", grads[1]), ("∂f/∂z", grads[2]) });
    /// </code>
    /// </example>
    /// <exception cref="ArgumentNullException"><paramref name="roots"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="roots"/> is empty or holds a null name or node, or <see cref="DrawOptions.Simplify"/> is set with <see cref="DrawOptions.Gradients"/> and simplification changes the graph.</exception>
    public static string Render(IReadOnlyList<(string Name, Expr Root)> roots, DrawOptions? options = null)
    {
        var o = options ?? DrawOptions.Default;
        return Write(Layout.Of(Drawing.Named(roots, nameof(roots)), o), o);
    }

    private static string Write(Layout layout, DrawOptions options)
    {
        var sb = new StringBuilder();
        if (options.Title is { } title)
            sb.Append("---\ntitle: \"").Append(YamlEscape(title)).Append("\"\n---\n");
        sb.Append("flowchart LR\n");
        for (var id = 0; id < layout.Nodes.Count; id++)
        {
            var node = layout.Nodes[id];
            var (open, close) = node.Kind switch
            {
                NodeKind.Variable => ("([", "])"),
                NodeKind.Constant => ("[", "]"),
                NodeKind.StopGradient => ("{{", "}}"),
                NodeKind.More => ("[/", "/]"),
                _ => ("(", ")"),
            };
            sb.Append("  n").Append(id).Append(open).Append('"');
            for (var k = 0; k < node.Lines.Length; k++)
            {
                if (k > 0) sb.Append("<br/>");
                sb.Append(Escape(node.Lines[k].Text));
            }
            sb.Append('"').Append(close).Append('\n');
        }
        var dashed = new List<int>();
        for (var e = 0; e < layout.Edges.Count; e++)
        {
            var edge = layout.Edges[e];
            sb.Append("  n").Append(edge.From).Append(edge.Dashed ? " -.->" : " -->");
            if (edge.Label is { } label) sb.Append("|\"").Append(label).Append("\"|");
            sb.Append(" n").Append(edge.To).Append('\n');
            if (edge.Dashed) dashed.Add(e);
        }
        sb.Append("  classDef output stroke-width:3px\n");
        sb.Append("  classDef stop stroke:#d00,stroke-width:2px,stroke-dasharray:5 5,color:#d00\n");
        sb.Append("  classDef more stroke-dasharray:3 3,color:#555\n");
        AppendClass(sb, layout, "output", n => n.IsOutput);
        AppendClass(sb, layout, "stop", n => n.Kind == NodeKind.StopGradient);
        AppendClass(sb, layout, "more", n => n.Kind == NodeKind.More);
        if (dashed.Count > 0) sb.Append("  linkStyle ").AppendJoin(',', dashed).Append(" stroke:#d00\n");
        return sb.ToString();
    }

    private static void AppendClass(StringBuilder sb, Layout layout, string name, Func<DrawnNode, bool> member)
    {
        var first = true;
        for (var id = 0; id < layout.Nodes.Count; id++)
        {
            if (!member(layout.Nodes[id])) continue;
            sb.Append(first ? "  class " : ",").Append('n').Append(id);
            first = false;
        }
        if (!first) sb.Append(' ').Append(name).Append('\n');
    }

    /// <summary>Text for a quoted Mermaid label: characters Mermaid reads as syntax become entity codes.</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '"': sb.Append("#quot;"); break;
                case '#': sb.Append("#35;"); break;
                case '&': sb.Append("#amp;"); break;
                case '<': sb.Append("#lt;"); break;
                case '>': sb.Append("#gt;"); break;
                case '`': sb.Append("#96;"); break;
                default: sb.Append(char.IsControl(ch) ? ' ' : ch); break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Text for a double-quoted YAML string (the front-matter title).</summary>
    private static string YamlEscape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                default: sb.Append(char.IsControl(ch) ? ' ' : ch); break;
            }
        }
        return sb.ToString();
    }
}
