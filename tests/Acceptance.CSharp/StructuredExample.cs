using System;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

// The page's record, public as the page writes it; a test's type needs no XML docs.
#pragma warning disable CS1591
// ---- docs/structured-inputs.fsx, C# record: from here ----
[Structured] public sealed record Layer<T>(T W, T B);
// ---- to here ----
#pragma warning restore CS1591

/// <summary>
/// The C# of docs/structured-inputs.fsx, statement for statement: what it prints, its numbers against closed forms,
/// and that the page shows it line for line.
/// </summary>
[NonParallelizable]
public class StructuredExample
{
    private static void Example()
    {
        // ---- docs/structured-inputs.fsx, C#: from here ----
        // A value and an array of values: f receives (Expr, Expr[]), the gradient is a (Value, Value[]).
        var (ga, gxs) = AD.Grad<(Value, Value[]), (Expr A, Expr[] Xs)>(t => t.A * t.Xs[0] * t.Xs[1])((2.0, [3.0, 4.0]));
        Console.WriteLine($"{ga} {gxs[0]} {gxs[1]}");                   // 12 8 6

        // A record of leaves: Layer<Value> in, Layer<Expr> traced, Layer<Value> out.
        var layer = new Layer<Value>(Value.FromRows([1.0, 2.0], [3.0, 4.0]), Value.FromArray(0.5, -0.5));
        var x = Value.FromArray(1.0, -1.0);
        Func<Layer<Expr>, Expr> loss = l => Expr.Sum(Expr.Square(Expr.MatMul(l.W, x) + l.B));
        var g = AD.Grad<Layer<Value>, Layer<Expr>>(loss)(layer);
        Console.WriteLine($"{g.W} {g.B}");                             // [[-1, 1], [-3, 3]] [-1, -3]

        // A step of gradient descent on the whole structure, leaf by leaf.
        var next = Tree.Zip(layer, g, (w, dw) => w - 0.25 * dw);
        Console.WriteLine(AD.ValueAndGrad<Layer<Value>, Layer<Expr>>(loss)(next).Value);  // 0.625

        // Only some inputs: the others are zeros, not computed.
        var byW = AD.Grad<Layer<Value>, Layer<Expr>>(loss, Wrt.Names("W"))(layer);
        var byEnds = AD.Grad<(Value, Value, Value), (Expr, Expr, Expr)>(t => t.Item1 * t.Item2 * t.Item3, Wrt.Args(0, 2))((2.0, 3.0, 4.0));
        Console.WriteLine($"{byW.B} {byEnds}");                        // [0, 0] (12, 0, 6)

        // A Hessian in blocks, indexed by leaf path: ∂²f/∂a∂x = 2x for f(a, x) = a·xᵀx.
        var h = AD.Hessian<(Value, Value), (Expr A, Expr X)>(t => t.A * Expr.Dot(t.X, t.X))((0.5, Value.FromArray(1.0, 2.0)));
        Console.WriteLine(Value.FromMatrix(h["[0]", "[1]"]));          // [[2, 4]]
        Console.WriteLine(Value.FromMatrix(h.ToMatrix()));             // [[0, 2, 4], [2, 1, 0], [4, 0, 1]]
        // ---- to here ----

        // The closed forms: r = Wx + b = (-0.5, -1.5), ∂Σr²/∂W = 2r xᵀ, ∂/∂b = 2r; one step of 0.25 gives r = (0.25, 0.75).
        Assert.That(g.W.ToRowMajorArray(), Is.EqualTo(new[] { -1.0, 1.0, -3.0, 3.0 }).Within(1e-15));
        Assert.That(g.B.ToArray(), Is.EqualTo(new[] { -1.0, -3.0 }).Within(1e-15));
        Assert.That(next.W.ToRowMajorArray(), Is.EqualTo(new[] { 1.25, 1.75, 3.75, 3.25 }));
        Assert.That(byW.W.ToRowMajorArray(), Is.EqualTo(g.W.ToRowMajorArray()));
        Assert.That(byEnds.Item2.ToScalar(), Is.EqualTo(0.0));
        Assert.That(h.ColumnPaths, Is.EqualTo(new[] { "[0]", "[1]" }));
    }

    /// <summary>The example prints the lines the page shows beside it.</summary>
    [Test]
    public void PrintsWhatThePageSays()
    {
        var lines = Check.Capture(Example);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "12 8 6",
            "[[-1, 1], [-3, 3]] [-1, -3]",
            "0.625",
            "[0, 0] (12, 0, 6)",
            "[[2, 4]]",
            "[[0, 2, 4], [2, 1, 0], [4, 0, 1]]",
        }));
    }

    /// <summary>Every printed comment in the example is what the line prints (the page shows the comments).</summary>
    [Test]
    public void TheCommentsAreThePrintedLines()
    {
        var comments = Region("C#: from here", 8)
            .Where(l => l.StartsWith("Console.WriteLine", StringComparison.Ordinal))
            .Select(l => l[(l.LastIndexOf("// ", StringComparison.Ordinal) + 3)..])
            .ToArray();
        Assert.That(comments, Is.EqualTo(Check.Capture(Example)));
    }

    /// <summary>docs/structured-inputs.fsx shows this file's example, line for line, and the record after it.</summary>
    [Test]
    public void ThePageShowsTheExample()
    {
        var block = string.Join("\n", Region("C#: from here", 8)) + "\n\n" + string.Join("\n", Region("C# record: from here", 0));
        var page = File.ReadAllText(Path.Combine(Check.Root(), "docs", "structured-inputs.fsx")).Replace("\r\n", "\n");
        Assert.That(page, Does.Contain("```csharp\n" + block + "\n```\n"),
            "docs/structured-inputs.fsx's C# block differs from tests/Acceptance.CSharp/StructuredExample.cs");
    }

    /// <summary>The lines of this file between a "from here" marker and the next "to here", without their indentation.</summary>
    private static string[] Region(string marker, int indent)
    {
        var source = File.ReadAllLines(Path.Combine(Check.Root(), "tests", "Acceptance.CSharp", "StructuredExample.cs"));
        var from = Array.FindIndex(source, l => l.Contains("docs/structured-inputs.fsx, " + marker));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        return source[(from + 1)..upTo].Select(l => l.Length >= indent ? l[indent..] : l.Trim()).ToArray();
    }
}
