using System.Linq;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>From C#: values you compute with around a gradient — an Adam step written with values and Params.</summary>
public class Values
{
    /// <summary>A value is a graph constant where an Expr is expected (no Expr.Const needed).</summary>
    [Test]
    public void AValueConvertsToAnExpr()
    {
        var x = Value.FromArray(1, 2, 3);
        Expr e = x;
        Assert.That(Expr.Dot(e, x).Value.ToScalar(), Is.EqualTo(14.0));
        Assert.That(AD.Grad(w => Expr.Dot(w, x))(Value.FromArray(0, 0, 0)).ToArray(), Is.EqualTo(new[] { 1.0, 2.0, 3.0 }));
    }

    /// <summary>Three Adam steps on Σ(w − 3)², written as a fold over Params arithmetic, agree with the formula.</summary>
    [Test]
    public void AnAdamStepIsParamsArithmetic()
    {
        const double lr = 0.1, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var p = Params.Of(("w", Value.FromArray(0.0, 1.0)));
        var loss = (ParamVars v) => Expr.Sum(Expr.Square(v["w"] - 3.0));
        var (m, s) = (p.ZerosLike(), p.ZerosLike());
        var w0 = p["w"].ToArray();
        double[] mh = [0, 0], vh = [0, 0];
        for (var t = 1; t <= 3; t++)
        {
            var g = AD.Grad(loss)(p);
            m = beta1 * m + (1 - beta1) * g;
            s = beta2 * s + (1 - beta2) * g * g;
            var (c1, c2) = (1 - System.Math.Pow(beta1, t), 1 - System.Math.Pow(beta2, t));
            p = p - lr * Params.Zip(m, s, (mi, si) => mi / c1 / (Value.Sqrt(si / c2) + eps));
            // The same step by hand, element by element.
            for (var k = 0; k < 2; k++)
            {
                var gk = 2 * (w0[k] - 3);
                mh[k] = beta1 * mh[k] + (1 - beta1) * gk;
                vh[k] = beta2 * vh[k] + (1 - beta2) * gk * gk;
                w0[k] -= lr * (mh[k] / c1) / (System.Math.Sqrt(vh[k] / c2) + eps);
            }
        }
        Assert.That(p["w"].ToArray(), Is.EqualTo(w0).Within(1e-15));
        Assert.That(AD.Eval(loss, p).ToScalar(), Is.EqualTo(w0.Sum(w => (w - 3) * (w - 3))).Within(1e-12));
    }
}
