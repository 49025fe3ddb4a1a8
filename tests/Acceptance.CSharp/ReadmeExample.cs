using System;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>The README's C# example, statement for statement, with its printed lines checked.</summary>
[NonParallelizable]
public class ReadmeExample
{
    private static void Example()
    {
        var x = Vector<double>.Build.Dense(3, 0.5);
        Func<Expr, Expr> z = w => 3 * Expr.Dot(x, (w + 2).Pow(2));       // z = 3·xᵀ(w + 2)∘²

        var (value, grad) = AD.ValueAndGrad(z)(Vector<double>.Build.Dense(3, 1.0));
        Console.WriteLine($"{value} {grad}");                             // 40.5 [9, 9, 9]

        // Accumulation is a value you thread: what PyTorch does to w.grad on a second backward().
        var twice = grad + AD.Grad(z)(Vector<double>.Build.Dense(3, 1.0));
        Console.WriteLine(twice);                                         // [18, 18, 18]

        // A vector output takes a cotangent: PyTorch's y.backward(v).
        var (y, pullback) = AD.Vjp(v => v * v)(Vector<double>.Build.DenseOfArray([0.0, 1, 2, 3]));
        Console.WriteLine(pullback(Vector<double>.Build.DenseOfArray([0.01, 0.1, 1, 10])));   // [0, 0.2, 4, 60]

        // Gradients with respect to intermediate nodes of one graph: f = (x + 2y)·z.
        var (a, b, c) = (Expr.Var("x", 3.0), Expr.Var("y", -4.0), Expr.Var("z", 19.0));
        var q = a + 2 * b;
        var f = q * c;
        Console.WriteLine(string.Join(", ", AD.Gradients(f, a, b, c, q).Select(g => g.Value)));  // 19, 38, -5, 19
    }

    /// <summary>The example prints the lines the README shows beside it.</summary>
    [Test]
    public void PrintsWhatTheReadmeSays()
    {
        var original = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try { Example(); }
        finally { Console.SetOut(original); }
        var lines = captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'));
        Assert.That(lines, Is.EqualTo(new[] { "40.5 [9, 9, 9]", "[18, 18, 18]", "[0, 0.2, 4, 60]", "19, 38, -5, 19" }));
    }
}
