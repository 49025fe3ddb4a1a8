using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

public class Smoke
{
    [Test]
    public void Seed000_FirstGradient()
    {
        var x = Vector<double>.Build.Dense(3, 0.5);
        Vector<double> g = AD.Grad(w => 3 * Expr.Dot(x, (w + 2).Pow(2)))(Vector<double>.Build.Dense(3, 1.0));
        Assert.That(g.ToArray(), Is.EqualTo(new[] { 9.0, 9.0, 9.0 }));
    }
}
