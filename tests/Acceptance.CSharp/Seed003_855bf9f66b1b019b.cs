using System.Linq;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// Seed 003_855bf9f66b1b019b: staged computation f = (x + 2y)·z at (3, −4, 19) with q = x + 2y;
/// gradients of every gate, including the intermediate q and f itself; accumulation and resets.
/// </summary>
[TestFixture]
public class Seed003_855bf9f66b1b019b
{
    private static (Var X, Var Y, Var Z, Expr Q, Expr F) Circuit()
    {
        var x = Expr.Var("x", 3.0);
        var y = Expr.Var("y", -4.0);
        var z = Expr.Var("z", 19.0);
        var q = x + 2 * y; // #1
        var f = q * z;     // #2
        return (x, y, z, q, f);
    }

    /// <summary>In [21] and In [72]: the forward pass, f = −95.</summary>
    [Test]
    public void ForwardPass()
    {
        var (_, _, _, q, f) = Circuit();
        Assert.That(q.Value.ToScalar(), Is.EqualTo(-5.0));
        Assert.That(f.Value.ToScalar(), Is.EqualTo(-95.0));
    }

    /// <summary>"[Include a diagram here.]": the circuit is the graph itself; its text rendering (fully parenthesised) names every gate and input.</summary>
    [Test]
    public void CircuitAsText()
    {
        var (_, _, _, q, f) = Circuit();
        Assert.That(q.ToString(), Is.EqualTo("x + (2 * y) : scalar = -5"));
        Assert.That(f.ToString(), Is.EqualTo("(x + (2 * y)) * z : scalar = -95"));
    }

    /// <summary>
    /// In [24] (by hand) and In [76] to [116] (PyTorch): df/dq = 19, df/dx = 19, df/dy = 38, df/dz = −5.
    /// PyTorch keeps only leaf gradients (q's needs a hook); AD.Gradients takes any node of the graph.
    /// </summary>
    [Test]
    public void GradientsOfEveryGate()
    {
        var (x, y, z, q, f) = Circuit();
        var g = AD.Gradients(f, x, y, z, q);
        Assert.That(g[0].Value.ToScalar(), Is.EqualTo(19.0), "df/dx");
        Assert.That(g[1].Value.ToScalar(), Is.EqualTo(38.0), "df/dy");
        Assert.That(g[2].Value.ToScalar(), Is.EqualTo(-5.0), "df/dz");
        Assert.That(g[3].Value.ToScalar(), Is.EqualTo(19.0), "df/dq");
    }

    /// <summary>In [76] to [79]: with only f requiring grad, f.grad = df/df = 1.</summary>
    [Test]
    public void GradientOfTheOutputItself()
    {
        var (_, _, _, _, f) = Circuit();
        Assert.That(AD.Gradients(f, f)[0].Value.ToScalar(), Is.EqualTo(1.0));
    }

    /// <summary>In [80] to [83]: q as the variable (a leaf of its own), f = q·z, df/dq = 19.</summary>
    [Test]
    public void GradientWhenQIsTheInput()
    {
        // q.requires_grad_() makes q the thing to differentiate by: make it the argument.
        var (f, dq) = AD.ValueAndGrad(q => q * 19.0)(3.0 + 2 * -4.0);
        Assert.That(f.ToScalar(), Is.EqualTo(-95.0));
        Assert.That(dq.ToScalar(), Is.EqualTo(19.0));
    }

    /// <summary>The three-argument form: AD.Grad of (x, y, z) ↦ (x + 2y)·z gives (19, 38, −5).</summary>
    [Test]
    public void GradOfThreeArguments()
    {
        var (value, (dx, dy, dz)) = AD.ValueAndGrad((x, y, z) => (x + 2 * y) * z)(3.0, -4.0, 19.0);
        Assert.That(value.ToScalar(), Is.EqualTo(-95.0));
        Assert.That((dx.ToScalar(), dy.ToScalar(), dz.ToScalar()), Is.EqualTo((19.0, 38.0, -5.0)));
    }

    /// <summary>
    /// In [118] to [122]: two backward passes with retain_graph accumulate to 38, 76, −10.
    /// In [125] to [130]: grad = None then one pass: 19, 38, −5 again.
    /// </summary>
    [Test]
    public void AccumulateAndReset()
    {
        var (x, y, z, _, f) = Circuit();
        (double X, double Y, double Z) Backward()
        {
            var g = AD.Gradients(f, x, y, z);
            return (g[0].Value.ToScalar(), g[1].Value.ToScalar(), g[2].Value.ToScalar());
        }
        static (double, double, double) Add((double, double, double) a, (double, double, double) b) =>
            (a.Item1 + b.Item1, a.Item2 + b.Item2, a.Item3 + b.Item3);

        var acc = Backward();
        Assert.That(acc, Is.EqualTo((19.0, 38.0, -5.0)));
        acc = Add(acc, Backward()); // f.backward() again: the caller adds
        Assert.That(acc, Is.EqualTo((38.0, 76.0, -10.0)));

        acc = (0.0, 0.0, 0.0);      // o.grad = None
        acc = Add(acc, Backward());
        Assert.That(acc, Is.EqualTo((19.0, 38.0, -5.0)));
    }

    /// <summary>The same accumulation with named parameters x, y, z in a <see cref="Params"/>.</summary>
    [Test]
    public void AccumulateWithParams()
    {
        var grad = AD.Grad((ParamVars p) => (p["x"] + 2 * p["y"]) * p["z"]);
        var point = Params.Of(("x", 3.0), ("y", -4.0), ("z", 19.0));

        var acc = point.ZerosLike() + grad(point) + grad(point);
        Assert.That(acc.Entries.Select(e => e.Value.ToScalar()), Is.EqualTo(new[] { 38.0, 76.0, -10.0 }));

        acc = acc.ZerosLike() + grad(point);
        Assert.That(acc.Entries.Select(e => e.Value.ToScalar()), Is.EqualTo(new[] { 19.0, 38.0, -5.0 }));
    }
}
