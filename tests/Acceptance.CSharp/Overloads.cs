using System;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// From C#: lambdas that ignore their parameter compile against the combinators (they fit both the one-input and
/// the <see cref="Params"/> overloads; the one-input form is preferred), and give zero gradients.
/// </summary>
public class Overloads
{
    private static readonly Expr Captured = Expr.Const(4.0);

    /// <summary>Grad, ValueAndGrad, Vjp and ValueAndGradWithAux of a constant function.</summary>
    [Test]
    public void ALambdaThatIgnoresItsParameterCompiles()
    {
        Assert.That(AD.Grad(x => Expr.Const(1.0))(2.0).ToScalar(), Is.EqualTo(0.0));
        var (value, grad) = AD.ValueAndGrad(x => Captured)(3.0);
        Assert.That((value.ToScalar(), grad.ToScalar()), Is.EqualTo((4.0, 0.0)));
        var (y, pullback) = AD.Vjp(x => Captured * 2)(1.0);
        Assert.That((y.ToScalar(), pullback(1.0).ToScalar()), Is.EqualTo((8.0, 0.0)));
        var (loss, g, aux) = AD.ValueAndGradWithAux(x => (Captured, "aux"))(1.0);
        Assert.That((loss.ToScalar(), g.ToScalar(), aux), Is.EqualTo((4.0, 0.0, "aux")));
    }

    /// <summary>A lambda that uses its parameter as Params still picks the Params overload.</summary>
    [Test]
    public void AParamsLambdaStillPicksTheParamsOverload()
    {
        var g = AD.Grad((ParamVars p) => p["w"] * 3)(Params.Of(("w", 2.0)));
        Assert.That(g["w"].ToScalar(), Is.EqualTo(3.0));
    }
}
