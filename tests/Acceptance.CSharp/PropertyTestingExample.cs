using System;
using System.IO;
using System.Linq;
using FsCheck.Fluent;
using Functional.Autodiff.Generators;
using NUnit.Framework;

// A namespace of its own, so that the page's `Check` is FsCheck's (the alias below) and not the tests' Check helpers.
namespace Functional.Autodiff.Acceptance.PropertyTesting;

using Check = FsCheck.Check;
using Helpers = Functional.Autodiff.Acceptance.Check;

/// <summary>
/// The C# of docs/property-testing.fsx, statement for statement: the shipped generators from C# through FsCheck's
/// fluent API, what it prints, and that the page shows it line for line.
/// </summary>
[NonParallelizable]
public class PropertyTestingExample
{
    private static void Example()
    {
        // ---- docs/property-testing.fsx, C#: from here ----
        // Your function at random positive points: GradCheck at orders 1 and 2 at each.
        Func<Expr, Expr> entropyLike = x => Expr.Sum(x * Expr.Log(x));
        Check.One(GradProperties.Replay(2026, 13), Prop.ForAll(Arbitraries.Value(Domain.Positive), x => GradProperties.Check(entropyLike, x).Passed));

        // Your op with a wrong rule, hidden in random graphs: the failure is shrunk to the op alone.
        var wrongSin = CustomOp.FromComposite("wrong_sin", 1,
            body: x => Expr.Sin(x[0]),
            vjp: (i, x, y, ybar) => ybar * Expr.Cos(x[0]) * 1.5,
            jvp: (x, y, dx) => dx[0]! * Expr.Cos(x[0]));
        var message = "";
        try { Check.One(GradProperties.Replay(2026, 13), GradProperties.InGraphs(OpEntry.Unary(wrongSin, Domain.Real, true))); }
        catch (Exception e) { message = e.Message; }
        var shrunk = message[(message.IndexOf("Shrunk:\n") + 8)..].Split('\n')[0];
        Console.WriteLine(shrunk[..shrunk.IndexOf(" = ")]);                 // wrong_sin(x0) : scalar
        // ---- to here ----
    }

    /// <summary>The example prints the line the page shows beside it (FsCheck's "Ok, passed" line first).</summary>
    [Test]
    public void PrintsWhatThePageSays()
    {
        var lines = Helpers.Capture(Example);
        Assert.That(lines, Is.EqualTo(new[] { "Ok, passed 100 tests.", "wrong_sin(x0) : scalar" }));
    }

    /// <summary>A wrong rule fails the fluent property, and the right one passes (the shipped property from C#).</summary>
    [Test]
    public void TheRuleDecides()
    {
        var rightSin = CustomOp.FromComposite("right_sin", 1,
            body: x => Expr.Sin(x[0]),
            vjp: (i, x, y, ybar) => ybar * Expr.Cos(x[0]),
            jvp: (x, y, dx) => dx[0]! * Expr.Cos(x[0]));
        Assert.DoesNotThrow(() => Check.One(GradProperties.Replay(2026, 13), GradProperties.InGraphs(OpEntry.Unary(rightSin, Domain.Real, true))));
        Assert.DoesNotThrow(() => Check.One(GradProperties.Replay(2026, 13), GradProperties.ForOp(OpTable.find("matmul"))));
    }

    /// <summary>docs/property-testing.fsx shows this file's example, line for line.</summary>
    [Test]
    public void ThePageShowsTheExample()
    {
        var source = File.ReadAllLines(Path.Combine(Helpers.Root(), "tests", "Acceptance.CSharp", "PropertyTestingExample.cs"));
        var from = Array.FindIndex(source, l => l.Contains("docs/property-testing.fsx, C#: from here"));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        var block = string.Join("\n", source[(from + 1)..upTo].Select(l => l.Length >= 8 ? l[8..] : l.Trim()));
        var page = File.ReadAllText(Path.Combine(Helpers.Root(), "docs", "property-testing.fsx")).Replace("\r\n", "\n");
        Assert.That(page, Does.Contain("```csharp\n" + block + "\n```\n"),
            "docs/property-testing.fsx's C# block differs from tests/Acceptance.CSharp/PropertyTestingExample.cs");
    }
}
