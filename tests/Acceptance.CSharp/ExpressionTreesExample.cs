using System;
using System.IO;
using System.Linq;
using System.Linq.Expressions;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// C# expression-tree lambdas compiled to delegates, in the real C# lambda syntax (F# cannot write it): the example of
/// docs/expression-trees.fsx statement for statement, what it prints, that the page and the README show it, and the
/// overloads, captured variables and errors as a C# user meets them.
/// </summary>
[NonParallelizable]
public class ExpressionTreesExample
{
    private static void Example()
    {
        // ---- docs/expression-trees.fsx, C#: from here ----
        // A C# lambda becomes a graph once; its value and gradient compile to a delegate of straight-line code.
        var df = AD.CompileGrad((x, y) => x * Math.Exp(y));
        var (v, (gx, gy)) = df(1.0, 2.0);
        Console.WriteLine($"{v} {gx} {gy}");                       // 7.38905609893065 7.38905609893065 7.38905609893065

        // c ? a : b on comparisons is Expr.Where; captured variables are read once, when compiling.
        var scale = 3.0;
        var hinge = AD.CompileGrad(x => x > 0 ? scale * x * x : Math.Abs(x) / 2);
        scale = 100.0;                                               // not seen by hinge
        Console.WriteLine($"{hinge(2.0)} {hinge(-1.0)}");           // (12, 12) (0.5, -0.5)

        // A double[] read at constant indices: the gradient has the array's length (the highest index + 1).
        var rosenbrock = AD.CompileGrad(a => Math.Pow(1 - a[0], 2) + 100 * Math.Pow(a[1] - a[0] * a[0], 2));
        var (r, gr) = rosenbrock([1.5, 2.0]);
        Console.WriteLine($"{r} [{string.Join(", ", gr)}]");         // 6.5 [151, -50]

        // Anything else is refused, naming the node and where it is in the lambda.
        try { AD.CompileGrad(x => Math.Atan2(x, 1.0)); }
        catch (UnsupportedExpressionException e) { Console.WriteLine($"{e.Node}: {e.Subexpression}"); }  // The call to Math.Atan2: Atan2(x, 1)

        // A scalar graph built with Expr compiles the same way.
        var dg = AD.CompileScalarGrad(x => Expr.Sigmoid(x) * Expr.Sin(x));
        var (s, ds) = dg(0.5);
        Console.WriteLine($"{s:F6} {ds:F6}");                        // 0.298423 0.658926
        // ---- to here ----
    }

    /// <summary>The example prints the lines the page shows beside it.</summary>
    [Test]
    public void PrintsWhatThePageSays()
    {
        var lines = Check.Capture(Example);
        var block = Check.Block("ExpressionTreesExample.cs", "docs/expression-trees.fsx, C#: from here", 8).Split('\n');
        var printed = block.Where(l => l.Contains("Console.WriteLine") && l.Contains("// "))
            .Select(l => l[(l.LastIndexOf("// ") + 3)..]).ToArray();
        Assert.That(lines, Is.EqualTo(printed));
    }

    /// <summary>docs/expression-trees.fsx shows this file's example, line for line.</summary>
    [Test]
    public void ThePageShowsTheExample()
    {
        var block = Check.Block("ExpressionTreesExample.cs", "docs/expression-trees.fsx, C#: from here", 8);
        var page = File.ReadAllText(Path.Combine(Check.Root(), "docs", "expression-trees.fsx")).Replace("\r\n", "\n");
        Assert.That(page, Does.Contain("```csharp\n" + block + "\n```\n"),
            "docs/expression-trees.fsx's C# block differs from tests/Acceptance.CSharp/ExpressionTreesExample.cs");
    }

    private static void Readme()
    {
        // ---- README, expression trees: from here ----
        // Scalar code at hand-written speed: a C# lambda's value and gradient compiled to a delegate.
        var df = AD.CompileGrad((x, y) => x * Math.Exp(y));
        var (v, (gx, gy)) = df(1.0, 2.0);                           // e², e², e²
        // ---- to here ----
        Assert.That(new[] { v, gx, gy }, Is.EqualTo(Enumerable.Repeat(Math.Exp(2.0), 3)).Within(1e-15));
    }

    /// <summary>The README's lines run, and the README shows them.</summary>
    [Test]
    public void TheReadmeShowsItsLines()
    {
        Readme();
        Check.ReadmeShows("ExpressionTreesExample.cs", "README, expression trees: from here");
    }

    /// <summary>Every arity has its tuple; a lambda that ignores its parameter takes the double overload.</summary>
    [Test]
    public void EveryArityHasItsTuple()
    {
        var (v1, g1) = AD.CompileGrad(x => x * x)(3.0);
        var (v3, (a3, b3, c3)) = AD.CompileGrad((x, y, z) => x * y * z)(2.0, 3.0, 4.0);
        var (v4, (a4, b4, c4, d4)) = AD.CompileGrad((x, y, z, w) => x + y * z - w)(1.0, 2.0, 3.0, 4.0);
        var (v0, g0) = AD.CompileGrad(x => 1.0)(5.0);
        var (va, ga) = AD.CompileGrad(a => a[1] * 2.0, 3)([1.0, 2.0, 3.0]);
        Assert.That(new[] { v1, g1 }, Is.EqualTo(new[] { 9.0, 6.0 }));
        Assert.That(new[] { v3, a3, b3, c3 }, Is.EqualTo(new[] { 24.0, 12.0, 8.0, 6.0 }));
        Assert.That(new[] { v4, a4, b4, c4, d4 }, Is.EqualTo(new[] { 3.0, 1.0, 3.0, 2.0, -1.0 }));
        Assert.That(new[] { v0, g0 }, Is.EqualTo(new[] { 1.0, 0.0 }));
        Assert.That((va, ga), Is.EqualTo((4.0, new[] { 0.0, 2.0, 0.0 })));
    }

    /// <summary>The graph of a lambda is public, and the delegate agrees with the graph path bit for bit.</summary>
    [Test]
    public void TheGraphAndTheDelegateAgree()
    {
        Expression<Func<double, double, double>> f = (x, y) => Math.Tanh(x * y) + Math.Log(x * x + 1) * Math.Cos(y);
        var graph = Expr.FromLambda(f);
        Assert.That(graph.Inputs.Select(i => i.Name), Is.EqualTo(new[] { "x", "y" }));
        var (v, (gx, gy)) = AD.CompileGrad(f)(0.7, -1.3);
        var (ev, (egx, egy)) = AD.ValueAndGrad((x, y) => Expr.Tanh(x * y) + Expr.Log(x * x + 1) * Expr.Cos(y))(0.7, -1.3);
        Assert.That(new[] { v, gx, gy }.Select(BitConverter.DoubleToInt64Bits),
            Is.EqualTo(new[] { ev.ToScalar(), egx.ToScalar(), egy.ToScalar() }.Select(BitConverter.DoubleToInt64Bits)));
    }

    /// <summary>An unsupported call from a real C# lambda names the method, the lambda and the user's line.</summary>
    [Test]
    public void AnUnsupportedCallNamesTheMethodTheLambdaAndTheLine()
    {
        var e = Assert.Throws<UnsupportedExpressionException>(() => AD.CompileGrad(x => x + Math.Cbrt(x)))!;
        Assert.That(e.NodeType, Is.EqualTo(ExpressionType.Call));
        Assert.That(e.Message, Does.Contain("Math.Cbrt"));
        Assert.That(e.Message, Does.Contain("`Cbrt(x)` in `x => (x + Cbrt(x))`"));
        Assert.That(e.Message, Does.Contain("ExpressionTreesExample.cs:"));
        var m = Assert.Throws<UnsupportedExpressionException>(() => AD.CompileGrad(x => x % 2.0))!;
        Assert.That(m.NodeType, Is.EqualTo(ExpressionType.Modulo));
    }
}
