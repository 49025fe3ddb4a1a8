using System;
using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>From C#: an error for bad input names the file and line of the C# code that made it.</summary>
public class UserLines
{
    private static int Line([CallerLineNumber] int line = 0) => line;

    /// <summary>A shape mismatch inside a differentiated lambda, and a non-scalar output at the call.</summary>
    [Test]
    public void ErrorsNameTheCSharpFileAndLine()
    {
        var b = Expr.Const(Value.FromArray(1, 2, 3));
        int line = Line(); var ex = Assert.Throws<ShapeMismatchException>(() => AD.Grad(x => Expr.Sum(x + b))(Value.FromArray(1, 2)));
        Assert.That(ex!.Message, Does.EndWith($"(at UserLines.cs:{line})"));
        var twice = AD.Grad(x => x * 2);
        line = Line(); var ns = Assert.Throws<NonScalarOutputException>(() => twice(Value.FromArray(1, 2)));
        Assert.That(ns!.Message, Does.Contain($"(at UserLines.cs:{line})"));
    }
}
