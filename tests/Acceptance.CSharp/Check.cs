using System;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>Small builders and assertions shared by the seed tests, and what the example tests run examples with.</summary>
internal static class Check
{
    /// <summary>A vector value.</summary>
    public static Value Vec(params double[] xs) => Value.FromArray(xs);

    /// <summary>A vector of <paramref name="n"/> copies of <paramref name="x"/>.</summary>
    public static Value Full(int n, double x) => Value.Full(Shape.Vector(n), x);

    /// <summary>PyTorch's <c>arange(n)</c> as a value.</summary>
    public static Value Arange(int n) => Expr.Arange(n).Value;

    /// <summary>A matrix value from rows.</summary>
    public static Value Mat(double[,] rows) => Matrix<double>.Build.DenseOfArray(rows);

    /// <summary>Same shape and every element bit-for-bit equal.</summary>
    public static void Exact(Value actual, Value expected)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), "shape");
        Assert.That(actual.ToArray(), Is.EqualTo(expected.ToArray()), $"got {actual}, expected {expected}");
    }

    /// <summary>Same shape and every element within <paramref name="tolerance"/> (absolute).</summary>
    public static void Close(Value actual, Value expected, double tolerance)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), "shape");
        Assert.That(actual.ToArray(), Is.EqualTo(expected.ToArray()).Within(tolerance), $"got {actual}, expected {expected}");
    }

    /// <summary>Every element, rounded to <paramref name="decimals"/> places, equals the printed number.</summary>
    public static void RoundsTo(Value actual, Value printed, int decimals)
    {
        Assert.That(actual.Shape, Is.EqualTo(printed.Shape), "shape");
        var rounded = actual.Map(x => Math.Round(x, decimals, MidpointRounding.AwayFromZero));
        Assert.That(rounded.ToArray(), Is.EqualTo(printed.ToArray()), $"got {actual}, printed {printed}");
    }

    /// <summary>Row <paramref name="i"/> of a matrix value, as a vector value.</summary>
    public static Value Row(Value matrix, int i) => matrix.ToMatrix().Row(i);

    /// <summary>The lines an example prints to the console, without empty ones.</summary>
    public static string[] Capture(Action example)
    {
        var original = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try { example(); }
        finally { Console.SetOut(original); }
        return captured.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    }

    /// <summary>
    /// Fails unless README.md shows, as a C# block, the lines of <paramref name="file"/> (under tests/Acceptance.CSharp)
    /// between the comment holding <paramref name="marker"/> and the next "---- to here ----", unindented by 8.
    /// </summary>
    public static void ReadmeShows(string file, string marker)
    {
        var source = File.ReadAllLines(Path.Combine(Root(), "tests", "Acceptance.CSharp", file));
        var from = Array.FindIndex(source, l => l.Contains(marker));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        var body = source[(from + 1)..upTo].Select(l => l.Length >= 8 ? l[8..] : l.Trim());
        var readme = File.ReadAllText(Path.Combine(Root(), "README.md")).Replace("\r\n", "\n");
        Assert.That(readme, Does.Contain("```csharp\n" + string.Join("\n", body) + "\n```\n"), $"README.md's example differs from tests/Acceptance.CSharp/{file} ({marker})");
    }

    /// <summary>The repository's root: the first folder above the test's that holds Functional.sln.</summary>
    public static string Root()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Functional.sln"))) return dir.FullName;
        throw new InvalidOperationException("No Functional.sln above the test's folder.");
    }

    /// <summary>The lines of a test file between the line holding <paramref name="marker"/> and the next
    /// <c>---- to here ----</c>, without their first <paramref name="indent"/> characters: an example as a README shows it.</summary>
    public static string Block(string file, string marker, int indent)
    {
        var source = File.ReadAllLines(Path.Combine(Root(), "tests", "Acceptance.CSharp", file));
        var from = Array.FindIndex(source, l => l.Contains(marker));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        return string.Join("\n", source[(from + 1)..upTo].Select(l => l.Length >= indent ? l[indent..] : l.Trim()));
    }
}
