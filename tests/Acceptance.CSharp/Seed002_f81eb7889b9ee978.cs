using System;
using System.Linq;
using NUnit.Framework;
using static Functional.Autodiff.Acceptance.Check;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// Seed 002_f81eb7889b9ee978: requires_grad on and off, exp at 3, .grad only on leaves, the non-scalar error,
/// weighted backward(v), and gradients accumulating over a loop.
/// </summary>
[TestFixture]
public class Seed002_f81eb7889b9ee978
{
    private const double Exp3 = 20.085536923187668; // np.exp(3.)

    private static readonly Value Weights = Vec(0.01, 0.1, 1, 10); // torch.tensor([0.01, 0.1, 1., 10.])

    /// <summary>In [12]: with requires_grad=False, exp(x) is just a number. Plain evaluation needs no flag.</summary>
    [Test]
    public void PlainEvaluation()
    {
        var y = Expr.Exp(3.0);
        Assert.That(y.Value.ToScalar(), Is.EqualTo(Exp3));
    }

    /// <summary>In [13] to [16]: y = exp(x) at x = 3; x.grad = 20.0855 = np.exp(3.) = 20.085536923187668.</summary>
    [Test]
    public void GradientOfExp()
    {
        // x.requires_grad_(True) is "this is the argument of Grad".
        var (y, grad) = AD.ValueAndGrad(x => x.Exp())(3.0);
        Assert.That(y.ToScalar(), Is.EqualTo(Exp3));
        Assert.That(grad.ToScalar(), Is.EqualTo(Exp3));
        Assert.That(Math.Round(grad.ToScalar(), 4), Is.EqualTo(20.0855));
    }

    /// <summary>
    /// In [14]: y.grad is None because y is not a leaf. Gradients are asked for, not stored: ask for dy/dy and get 1;
    /// ask for dy/dx from the same graph and get exp(3).
    /// </summary>
    [Test]
    public void GradientWithRespectToAnyNode()
    {
        var x = Expr.Var("x", 3.0);
        var y = x.Exp();
        var grads = AD.Gradients(y, y, x);
        Assert.That(grads[0].Value.ToScalar(), Is.EqualTo(1.0));
        Assert.That(grads[1].Value.ToScalar(), Is.EqualTo(Exp3));
    }

    /// <summary>In [18]: a second backward() fails without retain_graph. Calling Grad again just works.</summary>
    [Test]
    public void GradTwice()
    {
        var grad = AD.Grad(x => x.Exp());
        Assert.That(grad(3.0).ToScalar(), Is.EqualTo(Exp3));
        Assert.That(grad(3.0).ToScalar(), Is.EqualTo(Exp3));
    }

    /// <summary>In [21]: "grad can be implicitly created only for scalar outputs". Grad says so too.</summary>
    [Test]
    public void NonScalarOutputError()
    {
        var error = Assert.Throws<NonScalarOutputException>(() => AD.Grad(x => x.Pow(2))(Arange(4)))!;
        Assert.That(error.Message, Does.Contain("scalar"));
    }

    /// <summary>In [22]: yy.backward(ones_like(yy)) gives 2·xx = [0, 2, 4, 6].</summary>
    [Test]
    public void BackwardWithOnes()
    {
        var (yy, pullback) = AD.Vjp(x => x.Pow(2))(Arange(4));
        Exact(yy, Vec(0, 1, 4, 9));
        Exact(pullback(Value.Full(yy.Shape, 1.0)), Vec(0, 2, 4, 6));
    }

    /// <summary>In [35]: weighted backward([0.01, 0.1, 1, 10]) on yy = xx² gives [0, 0.2, 4, 60].</summary>
    [Test]
    public void WeightedBackward()
    {
        // The weights are the cotangent: vᵀ·J, one weight per output ("several losses with different weights").
        var (_, pullback) = AD.Vjp(x => x.Pow(2))(Arange(4));
        Exact(pullback(Weights), Vec(0, 0.2, 4, 60));
    }

    /// <summary>In [36]: five iterations of yy = xx², backward(weights): the k-th total is k·[0, 0.2, 4, 60], the last [0, 1, 20, 300].</summary>
    [Test]
    public void LoopAccumulates()
    {
        // xx.grad silently adds up in PyTorch; here the running total is an explicit scan over the iterations.
        var xx = Arange(4);
        var total = xx.ZerosLike();
        for (var k = 1; k <= 5; k++)
        {
            var (_, pullback) = AD.Vjp(x => x.Pow(2))(xx); // a fresh yy each iteration, as in the tutorial
            total += pullback(Weights);
            Close(total, Vec(0, 0.2 * k, 4 * k, 60 * k), 1e-12);
        }
        Close(total, Vec(0, 1, 20, 300), 1e-12);
    }
}
