using System;
using System.Collections.Immutable;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// From C#: user-defined ops, the public gradient checker, auxiliary outputs, differentiating a chosen subset of
/// inputs, and nesting the graph combinators.
/// </summary>
public class Extending
{
    /// <summary>log Σ eˣ, stable, with the softmax as its hand-written gradient (the body's own is never used).</summary>
    private static readonly CustomOp LogSumExp = CustomOp.FromComposite("logsumexp", 1,
        body: x => x[0][0] - Expr.LogSoftmax(x[0])[0],
        vjp: (i, x, y, ybar) => ybar * Expr.Softmax(x[0]),
        jvp: (x, y, dx) => Expr.Sum(Expr.Softmax(x[0]) * dx[0]!));

    private static Expr Lse(Expr x) => Expr.Create(LogSumExp, x);

    /// <summary>The custom op's value is stable where the naive formula overflows.</summary>
    [Test]
    public void CustomLogSumExpIsStable()
    {
        var y = Lse(Expr.Const(Value.FromArray(1000, 1000))).Value.ToScalar();
        Assert.That(y, Is.EqualTo(1000 + Math.Log(2)).Within(1e-12));
        Assert.That(Expr.Log(Expr.Sum(Expr.Exp(Expr.Const(Value.FromArray(1000, 1000))))).Value.ToScalar(), Is.EqualTo(double.PositiveInfinity));
    }

    /// <summary>Its gradient is the softmax, its Hessian diag(p) − ppᵀ, and it passes the gradient checker at both orders.</summary>
    [Test]
    public void CustomLogSumExpWorksUnderEveryTransform()
    {
        var x = Value.FromArray(0.5, -1.0, 2.0);
        var p = x.ToArray().Select(Math.Exp).ToArray();
        var total = p.Sum();
        p = p.Select(v => v / total).ToArray();
        Assert.That(AD.Grad(Lse)(x).ToArray(), Is.EqualTo(p).Within(1e-15));
        var h = AD.Hessian(Lse)(x);
        for (var i = 0; i < 3; i++)
            for (var j = 0; j < 3; j++)
                Assert.That(h[i, j], Is.EqualTo((i == j ? p[i] : 0) - p[i] * p[j]).Within(1e-15));
        var report = GradCheck.Run(e => Lse(e) * Lse(e), x, Tolerance.Default);
        Assert.That(report.Passed, report.ToString());
        Assert.That(report.Entries, Has.Length.EqualTo(6));
    }

    /// <summary>A custom op with a wrong rule is caught by the checker, which reports the error rather than throwing.</summary>
    [Test]
    public void GradCheckReportsAWrongRule()
    {
        var wrong = new CustomOp("wrong_sin", 1,
            shape: s => s[0],
            forward: v => v[0].Map(Math.Sin),
            vjp: (i, x, y, ybar) => ybar * Expr.Sin(x[0]),  // should be cos
            jvp: (x, y, dx) => Expr.Cos(x[0]) * dx[0]!);
        var report = GradCheck.Run(e => Expr.Sum(Expr.Create(wrong, e)), Value.FromArray(0.3, 1.1), Tolerance.Default, order: 1);
        Assert.That(report.Passed, Is.False);
        Assert.That(report.Entries.Single(e => e.Name.Contains("dot-product")).Passed, Is.False);
        Assert.That(report.Entries.Single(e => e.Name.Contains("JVP against")).Passed, Is.True);
        Assert.That(report.ToString(), Does.Contain("FAIL"));
    }

    /// <summary>Every library op, in a small composite, passes the public checker at first and second order.</summary>
    [TestCase(0.7)]
    [TestCase(-1.3)]
    public void LibraryFunctionsPassGradCheck(double shift)
    {
        var w = Matrix<double>.Build.DenseOfArray(new[,] { { 0.3, -0.2 }, { 0.5, 0.1 }, { -0.4, 0.6 } });
        Func<Expr, Expr> f = x =>
        {
            var z = Expr.Tanh(Expr.MatMul(w, x) + shift);
            return Expr.Sum(Expr.Sigmoid(z) * Expr.Exp(-Expr.Square(z))) + Expr.Norm(x) + Expr.SoftmaxCrossEntropy(z, 1);
        };
        var report = GradCheck.Run(f, Value.FromArray(0.4, -0.9), Tolerance.Default, seed: 7);
        Assert.That(report.Passed, report.ToString());
    }

    /// <summary>JAX's has_aux: the loss is differentiated, the auxiliary values come back as computed.</summary>
    [Test]
    public void AuxiliaryOutputsAreReturnedNotDifferentiated()
    {
        var (loss, grad, aux) = AD.ValueAndGradWithAux(x =>
        {
            var prediction = Expr.Tanh(x);
            return (Expr.Sum(Expr.Square(prediction)), prediction);
        })(Value.FromArray(0.5, -0.25));
        var t = new[] { Math.Tanh(0.5), Math.Tanh(-0.25) };
        Assert.That(loss.ToScalar(), Is.EqualTo(t[0] * t[0] + t[1] * t[1]).Within(1e-15));
        Assert.That(aux.Value.ToArray(), Is.EqualTo(t).Within(1e-15));
        Assert.That(grad.ToArray(), Is.EqualTo(t.Select(v => 2 * v * (1 - v * v)).ToArray()).Within(1e-15));
    }

    /// <summary>JAX's argnums / PyTorch's inputs=: only the chosen parameters are differentiated.</summary>
    [Test]
    public void GradientWithRespectToAChosenSubset()
    {
        var p = Params.Of(("w", Value.FromArray(1, 2)), ("b", 0.5));
        var g = AD.Grad(q => Expr.Sum(q["w"] * q["w"]) * q["b"], "b")(p);
        Assert.That(g.Names, Is.EqualTo(new[] { "b" }));
        Assert.That(g["b"].ToScalar(), Is.EqualTo(5.0));
        var gy = AD.Grad((Expr x, Expr y) => x * x * y, argnum: 1)(3.0, 4.0);
        Assert.That(gy.ToScalar(), Is.EqualTo(9.0));
        Assert.Throws<System.Collections.Generic.KeyNotFoundException>(() => AD.Grad(q => q["w"].Sum(), "nope")(p));
    }

    /// <summary>Nesting the graph combinators: f''' of sin, and the perturbation-confusion example.</summary>
    [Test]
    public void NestedDerivatives()
    {
        Assert.That(AD.Grad(Diff.Grad(Diff.Grad(Expr.Sin)))(1.0).ToScalar(), Is.EqualTo(-Math.Cos(1.0)).Within(1e-15));
        Func<Expr, Expr> confusing = x => x * Diff.Grad(y => x + y)(x);
        foreach (var x in new[] { -2.0, 0.0, 3.5 })
            Assert.That(AD.Grad(confusing)(x).ToScalar(), Is.EqualTo(1.0));
        // Seed 001's exercise: the Hessian of y = 2xᵀx is 4I; the second derivative of exp at 3 is e³.
        Assert.That(AD.Hessian(x => 2 * Expr.Dot(x, x))(Value.FromArray(0, 1, 2, 3)), Is.EqualTo(4 * Matrix<double>.Build.DenseIdentity(4)));
        Assert.That(AD.Grad(Diff.Grad(Expr.Exp))(3.0).ToScalar(), Is.EqualTo(Math.Exp(3)).Within(1e-14));
    }
}
