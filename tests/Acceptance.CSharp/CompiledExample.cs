using System;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// The C# of docs/compiling.fsx, statement for statement: what it prints, that the compiled functions agree with the
/// uncompiled ones bit for bit, and that the page shows it line for line.
/// </summary>
[NonParallelizable]
public class CompiledExample
{
    private static void Example()
    {
        // ---- docs/compiling.fsx, C#: from here ----
        // One word changes: AD.ValueAndGrad becomes Compiled.ValueAndGrad; the delegate type is the same.
        var x = Value.FromArray(0.5, 0.5, 0.5);
        Func<Expr, Expr> z = w => 3 * Expr.Dot(x, (w + 2).Pow(2));
        var vg = Compiled.ValueAndGrad(z);
        var (v, g) = vg(Value.FromArray(1.0, 1.0, 1.0));
        Console.WriteLine($"{v} {g}");                                 // 40.5 [9, 9, 9]

        // Named parameters and structured inputs compile the same way.
        var grad = Compiled.Grad((ParamVars p) => Expr.Sum(Expr.Square(p["w"] * p["b"])));
        Console.WriteLine(grad(Params.Of(("w", 2.0), ("b", 3.0)))["w"]); // 36

        // A branch on an input's value is refused; write it with Where.
        Func<Expr, Expr> relu = t => Expr.Where(Expr.Greater(t, Expr.Const(0.0)), t, Expr.Const(0.0));
        Console.WriteLine(Compiled.Grad(relu)(Value.Scalar(-1.5)));    // 0

        // Second order: the Hessian and H·v, compiled forward over reverse.
        Func<Expr, Expr> cubic = t => Expr.Sum(t * t * t) + Expr.Dot(t, t);
        Console.WriteLine(Value.FromMatrix(Compiled.Hessian(cubic)(Value.FromArray(1.0, 2.0)))); // [[8, 0], [0, 14]]
        Console.WriteLine(Compiled.Hvp(cubic)(Value.FromArray(1.0, 2.0), Value.FromArray(1.0, 1.0))); // [8, 14]
        // ---- to here ----

        var (v0, g0) = AD.ValueAndGrad(z)(Value.FromArray(1.0, 1.0, 1.0));
        Assert.That(v.Equals(v0) && g.Equals(g0), "the compiled value and gradient are the uncompiled ones");
        Assert.That(Compiled.Grad(relu)(Value.Scalar(2.0)).ToScalar(), Is.EqualTo(1.0));
        var at = Value.FromArray(0.3, -1.7);
        Assert.That(Value.FromMatrix(Compiled.Hessian(cubic)(at)).Equals(Value.FromMatrix(AD.Hessian(cubic)(at))), "the compiled Hessian is the uncompiled one");
        Assert.That(Compiled.Hvp(cubic)(at, at).Equals(AD.Hvp(cubic)(at, at)), "the compiled H·v is the uncompiled one");
    }

    /// <summary>The example prints the lines the page shows beside it.</summary>
    [Test]
    public void PrintsWhatThePageSays()
    {
        Assert.That(Check.Capture(Example), Is.EqualTo(new[] { "40.5 [9, 9, 9]", "36", "0", "[[8, 0], [0, 14]]", "[8, 14]" }));
    }

    /// <summary>A branch on an input's value is refused with the node, the line and the fix.</summary>
    [Test]
    public void ABranchOnAnInputIsRefused()
    {
        Func<Expr, Expr> branching = t => t.Value.ToScalar() > 0 ? t * t : -t;
        var e = Assert.Throws<CompileTraceException>(() => Compiled.Grad(branching)(Value.Scalar(2.0)))!;
        Assert.That(e.Message, Does.Contain("reads .Value of its input 'x' (scalar)"));
        Assert.That(e.Message, Does.Contain("Use Expr.Where"));
        Assert.That(e.Message, Does.Contain("CompiledExample.cs:"));
    }

    /// <summary>docs/compiling.fsx shows this file's example, line for line.</summary>
    [Test]
    public void ThePageShowsTheExample()
    {
        var source = File.ReadAllLines(Path.Combine(Check.Root(), "tests", "Acceptance.CSharp", "CompiledExample.cs"));
        var from = Array.FindIndex(source, l => l.Contains("docs/compiling.fsx, C#: from here"));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        var block = string.Join("\n", source[(from + 1)..upTo].Select(l => l.Length >= 8 ? l[8..] : l.Trim()));
        var page = File.ReadAllText(Path.Combine(Check.Root(), "docs", "compiling.fsx")).Replace("\r\n", "\n");
        Assert.That(page, Does.Contain("```csharp\n" + block + "\n```\n"),
            "docs/compiling.fsx's C# block differs from tests/Acceptance.CSharp/CompiledExample.cs");
    }
}
