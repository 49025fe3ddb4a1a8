using System;
using System.IO;
using System.Runtime.CompilerServices;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>From C#: the anomaly check names the file, line and member of the C# code that built the node.</summary>
public class AnomalyCheck
{
    private static int Here([CallerLineNumber] int line = 0) => line;

    private static readonly int ModelLine = Here() + 2;

    private static Expr Model(Expr w) => Expr.Sum(Expr.Log(w) * w);

    /// <summary>The case: ValueAndGrad returns (−∞, ∞) silently; the check names log and sqrt at this line.</summary>
    [Test]
    public void NamesTheLambdasLineForLogAndSqrt()
    {
        var (value, grad) = AD.ValueAndGrad(x => Expr.Sqrt(x) + Expr.Log(x))(0.0);
        Assert.That((value.ToScalar(), grad.ToScalar()), Is.EqualTo((double.NegativeInfinity, double.PositiveInfinity)));

        var (report, line) = (Anomaly.Check(x => Expr.Sqrt(x) + Expr.Log(x), 0.0), Here());
        Assert.That(report.HasAnomaly);
        var v = report.ValueAnomaly!;
        Assert.That((v.Op, v.NonFinite, Path.GetFileName(v.Site!.File), v.Site.Line), Is.EqualTo(("log", double.NegativeInfinity, "AnomalyCheck.cs", line)));
        Assert.That(v.Site.Member, Is.EqualTo($"{nameof(AnomalyCheck)}.{nameof(NamesTheLambdasLineForLogAndSqrt)}"));
        var g = report.DerivativeAnomaly!;
        Assert.That((g.Kind, g.Op, g.Input, g.Site!.Line), Is.EqualTo((AnomalyKind.Cotangent, "sqrt", (int?)0, line)));
        Assert.That(report.ToString(), Is.EqualTo(
            $"log at AnomalyCheck.cs:{line} produced -Infinity from input 0\n" +
            $"sqrt's gradient rule at AnomalyCheck.cs:{line} produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)"));
    }

    /// <summary>A node built in a method of yours is named at that method's line, with its name.</summary>
    [Test]
    public void NamesTheMethodThatBuiltTheNode()
    {
        var report = Anomaly.Check(Model, Value.FromArray(1.0, -1.0));
        var v = report.ValueAnomaly!;
        Assert.That((v.Op, v.Element, double.IsNaN(v.NonFinite)), Is.EqualTo(("log", 1, true)));
        Assert.That((Path.GetFileName(v.Site!.File), v.Site.Line, v.Site.Member), Is.EqualTo(("AnomalyCheck.cs", ModelLine, "AnomalyCheck.Model")));
        Assert.That(v.ToString(), Is.EqualTo($"log at AnomalyCheck.cs:{ModelLine} produced NaN at element 1 of vector(2) from input [1, -1]"));
    }

    /// <summary>Forward mode and named parameters, from C#.</summary>
    [Test]
    public void ForwardModeAndParams()
    {
        var (forward, line) = (Anomaly.CheckJvp(x => Expr.Sqrt(x), 0.0, 1.0), Here());
        Assert.That(forward.ToString(), Is.EqualTo($"sqrt's tangent rule at AnomalyCheck.cs:{line} produced Infinity from a finite tangent 1 (input 0, output 0)"));

        var p = Params.Of(("w", Value.FromArray(1.0, 2.0)), ("b", 0.0));
        var (named, at) = (Anomaly.Check(q => Expr.Sum(q["w"] / q["b"]), p), Here());
        Assert.That(named.ValueAnomaly!.ToString(), Is.EqualTo($"div at AnomalyCheck.cs:{at} produced Infinity at element 0 of vector(2) from inputs [1, 2], 0"));
        Assert.That(Anomaly.Check(q => Expr.Sum(q["w"] * q["b"]), p).IsFinite);
    }
}
