using System;
using System.Collections.Generic;
using System.Text;

namespace Functional.Autodiff.Export;

/// <summary>
/// Graphviz DOT renderings of graphs, drawn left to right like a circuit (inputs on the left, outputs on the right).
/// </summary>
/// <remarks>
/// <para>Each node shows what it is (a variable's name, a small constant's value, an op with its parameters), its shape,
/// its value when known (<see cref="Expr.HasValue"/>; values of more than 4 numbers are summed up by the shape) and,
/// when <see cref="DrawOptions.Gradients"/> is given, its gradient in red below the value, as in the CS231n circuit
/// diagrams. Variables are ellipses, constants boxes, ops rounded boxes. A stop-gradient node has a dashed red border
/// and a dashed red outgoing edge. Outputs have a double border and, when named, their name in bold on top. Edges into
/// an op of two or more inputs whose order matters are labelled with the argument position ("0", "1", ...).</para>
/// <para>Shared nodes are drawn once. Past <see cref="DrawOptions.NodeLimit"/> nodes, the nodes nearest the outputs
/// are kept and the rest become one node saying how many it stands for. Rendering is iterative and deterministic:
/// node ids n0, n1, ... follow a breadth-first walk from the roots, so the same graph (or a separately built graph of
/// the same structure) gives byte-identical text. Labels are Graphviz HTML-like labels, escaped; text is UTF-8.</para>
/// <para>Render the text with e.g. <c>dot -Tsvg graph.dot -o graph.svg</c>.</para>
/// </remarks>
public static class Dot
{
    /// <summary>The graph under <paramref name="root"/> as a DOT digraph.</summary>
    /// <example>
    /// <code>
    /// var x = Expr.Var("x", Value.Scalar(3));
    /// var y = Expr.Var("y", Value.Scalar(-4));
    /// var z = Expr.Var("z", Value.Scalar(19));
    /// var f = (x + 2 * y) * z;
    /// File.WriteAllText("f.dot", Dot.Render(f, new DrawOptions { Gradients = Drawing.GradientsOf(f) }));
    /// // then: dot -Tsvg f.dot -o f.svg
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

    /// <summary>The graphs under several <paramref name="roots"/> in one DOT digraph; shared nodes are drawn once
    /// and every root is marked as an output.</summary>
    /// <example>
    /// <code>
    /// var grads = AD.Gradients(f, x, y, z);
    /// string dot = Dot.Render(new[] { f, grads[0], grads[1], grads[2] });
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
    /// The graphs under several named <paramref name="roots"/> in one DOT digraph: a graph and its gradient graphs
    /// beside it, each output marked and labelled with its name. Shared nodes are drawn once.
    /// </summary>
    /// <example>
    /// <code>
    /// var grads = AD.Gradients(f, x, y, z);
    /// string dot = Dot.Render(new[] { ("f", f), ("∂f/∂x", grads[0]), ("∂f/∂y", grads[1]), ("∂f/∂z", grads[2]) },
    ///                         new DrawOptions { Title = "f and its gradient" });
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
        sb.Append("digraph {\n");
        sb.Append("  rankdir=LR;\n");
        if (options.Title is { } title)
            sb.Append("  labelloc=t;\n  label=<").Append(Escape(title)).Append(">;\n");
        sb.Append("  graph [fontname=\"Helvetica\"];\n");
        sb.Append("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n");
        sb.Append("  edge [fontname=\"Helvetica\", fontsize=9];\n");
        for (var id = 0; id < layout.Nodes.Count; id++)
        {
            var node = layout.Nodes[id];
            sb.Append("  n").Append(id).Append(" [label=<");
            for (var k = 0; k < node.Lines.Length; k++)
            {
                if (k > 0) sb.Append("<br/>");
                AppendLine(sb, node.Lines[k]);
            }
            sb.Append('>');
            sb.Append(node.Kind switch
            {
                NodeKind.Variable => ", shape=ellipse, style=solid",
                NodeKind.Constant => ", style=solid",
                NodeKind.StopGradient => ", style=\"rounded,dashed\", color=red, fontcolor=red, penwidth=2",
                NodeKind.More => ", shape=note, style=dashed, fontcolor=gray30",
                _ => "",
            });
            if (node.IsOutput) sb.Append(", peripheries=2");
            sb.Append("];\n");
        }
        foreach (var edge in layout.Edges)
        {
            sb.Append("  n").Append(edge.From).Append(" -> n").Append(edge.To);
            var attributes = new List<string>(2);
            if (edge.Label is { } label) attributes.Add($"label=\"{label}\"");
            if (edge.Dashed) attributes.Add("style=dashed, color=red");
            if (attributes.Count > 0) sb.Append(" [").AppendJoin(", ", attributes).Append(']');
            sb.Append(";\n");
        }
        sb.Append("}\n");
        return sb.ToString();
    }

    private static void AppendLine(StringBuilder sb, Line line)
    {
        var text = Escape(line.Text);
        switch (line.Kind)
        {
            case LineKind.Output: sb.Append("<b>").Append(text).Append("</b>"); break;
            case LineKind.Shape: sb.Append("<font point-size=\"9\" color=\"gray40\">").Append(text).Append("</font>"); break;
            case LineKind.Gradient: sb.Append("<font color=\"red\">").Append(text).Append("</font>"); break;
            default: sb.Append(text); break;
        }
    }

    /// <summary>Text for a Graphviz HTML-like label: markup characters as entities, line breaks as spaces.</summary>
    private static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var ch in text)
        {
            switch (ch)
            {
                case '&': sb.Append("&amp;"); break;
                case '<': sb.Append("&lt;"); break;
                case '>': sb.Append("&gt;"); break;
                case '"': sb.Append("&quot;"); break;
                case '\'': sb.Append("&#39;"); break;
                default: sb.Append(char.IsControl(ch) ? ' ' : ch); break;
            }
        }
        return sb.ToString();
    }
}
