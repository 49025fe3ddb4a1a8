using System;
using System.Linq;
using NUnit.Framework;
using static Functional.Autodiff.Acceptance.Check;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// Seed 000_e098977270c1702c: z = 3·xᵀ(w+2)∘² with x = 0.5s, gradients of w, backward twice,
/// accumulation, editing .grad by hand, backward(ones) on a vector output, and resets.
/// </summary>
[TestFixture]
public class Seed000_e098977270c1702c
{
    private static readonly Value X = Full(3, 0.5);

    // z = 3 * t.dot(x, (w + 2) ** 2): x is a constant captured by the function; w is what Grad differentiates by.
    private static Expr Z(Expr w) => 3 * Expr.Dot(Expr.Const(X), (w + 2).Pow(2));

    // z = 3 * (x + 2) ** 2 with a vector output.
    private static Expr VectorZ(Expr x) => 3 * (x + 2).Pow(2);

    /// <summary>In [12] and In [19]: z = 40.5 and w.grad = [9, 9, 9] at w = ones(3).</summary>
    [Test]
    public void ValueAndGradientAtOnes()
    {
        // requires_grad=True + z.backward() + w.grad: ValueAndGrad traces z on w and returns both numbers.
        var (z, grad) = AD.ValueAndGrad(Z)(Full(3, 1.0));
        Assert.That(z.ToScalar(), Is.EqualTo(40.5));
        Exact(grad, Vec(9, 9, 9));
    }

    /// <summary>In [34]: x.grad is None. x is captured as a constant, so there is nothing to ask for.</summary>
    [Test]
    public void ConstantInputHasNoGradient()
    {
        // PyTorch keeps no x.grad because x does not require grad. Here x is a constant of the function; if we
        // do ask for a gradient through a traced x that z ignores, it is zeros, never an error.
        var xVar = Expr.Var("x", X);
        var w = Expr.Var("w", Full(3, 1.0));
        var z = 3 * Expr.Dot(xVar.StopGradient(), (w + 2).Pow(2));
        Exact(AD.Gradients(z, xVar)[0].Value, Vec(0, 0, 0));
    }

    /// <summary>In [23]: a second backward fails without retain_graph. Grad is pure: a second call gives the same answer.</summary>
    [Test]
    public void GradCanBeCalledTwice()
    {
        // No retain_graph: nothing is freed, because nothing is stored between calls.
        var grad = AD.Grad(Z);
        var first = grad(Full(3, 1.0));
        var second = grad(Full(3, 1.0));
        Exact(first, Vec(9, 9, 9));
        Exact(second, first);
    }

    /// <summary>In [26]: z = 72 and grad w = [12, 12, 12] at w = 2s (a new w, a new trace).</summary>
    [Test]
    public void ValueAndGradientAtTwos()
    {
        var (z, grad) = AD.ValueAndGrad(Z)(Full(3, 2.0));
        Assert.That(z.ToScalar(), Is.EqualTo(72.0));
        Exact(grad, Vec(12, 12, 12));
    }

    /// <summary>In [31]: two backward passes with retain_graph accumulate 9 → 18. Here accumulation is a fold the caller writes.</summary>
    [Test]
    public void RepeatedBackwardIsAnExplicitFold()
    {
        // w.grad += grad on every backward(): the running total is a value we thread ourselves.
        var grad = AD.Grad(Z);
        var w = Full(3, 1.0);
        Value BackwardTimes(int n) => Enumerable.Repeat(w, n).Select(grad).Aggregate(w.ZerosLike(), (acc, g) => acc + g);
        Exact(BackwardTimes(1), Vec(9, 9, 9));
        Exact(BackwardTimes(2), Vec(18, 18, 18));
    }

    /// <summary>In [32]: set .grad to [1, 2, 3] by hand, then backward → [10, 11, 12].</summary>
    [Test]
    public void EditTheAccumulatorThenAdd()
    {
        var grad = AD.Grad(Z);
        var w = Full(3, 1.0);
        var acc = grad(w) + grad(w);
        Exact(acc, Vec(18, 18, 18));

        // w.grad.data = t.tensor([1., 2., 3.]): the accumulator is a value; replace it (or edit entries with SetItem).
        acc = acc.SetItem(0, 1).SetItem(1, 2).SetItem(2, 3);
        Exact(acc, Vec(1, 2, 3));

        // z.backward(): add one more gradient.
        acc += grad(w);
        Exact(acc, Vec(10, 11, 12));
    }

    /// <summary>In [2] to [7] (second part): z = 3(x+2)² on x = ones(4); backward(ones) → 18s, accumulating 36s, 54s; reset; 18s.</summary>
    [Test]
    public void VectorOutputNeedsACotangent()
    {
        // z.backward(dz_dz) with dz_dz = ones_like(z): Vjp gives z and its pullback, which takes the cotangent.
        var (z, pullback) = AD.Vjp(VectorZ)(Full(4, 1.0));
        Exact(z, Full(4, 27));

        var ones = Value.Full(z.Shape, 1.0); // torch.ones_like(z)
        var grad = pullback(ones);
        Exact(grad, Full(4, 18));

        // Every backward accumulates: dz_dx := dz_dx(old) + dz_dx(new); the pullback can be called again and again.
        var acc = grad;
        acc += pullback(ones);
        Exact(acc, Full(4, 36));
        acc += pullback(ones);
        Exact(acc, Full(4, 54));

        // x.grad = torch.zeros_like(x), then one more backward.
        acc = acc.ZerosLike();
        Exact(acc, Full(4, 0));
        acc += pullback(ones);
        Exact(acc, Full(4, 18));
    }

    /// <summary>The markdown's worked derivative dz/dx = 6(x+2): 12 at x = 0, 18 at x = 1, 24 at x = 2.</summary>
    [TestCase(0.0, 12.0)]
    [TestCase(1.0, 18.0)]
    [TestCase(2.0, 24.0)]
    public void DerivativeOfTheVectorFunction(double x, double expected)
    {
        var (_, pullback) = AD.Vjp(VectorZ)(Full(4, x));
        Exact(pullback(Full(4, 1.0)), Full(4, expected));
    }

    /// <summary>The same sequences with named parameters: accumulation with <see cref="Params"/> (+, SetItem, ZerosLike).</summary>
    [Test]
    public void AccumulationWithParams()
    {
        // The model's parameters and their gradient are both Params; the caller owns the running total.
        var grad = AD.Grad((ParamVars p) => Z(p["w"]));
        var theta = Params.Of(("w", Full(3, 1.0)));

        var acc = theta.ZerosLike() + grad(theta);
        Exact(acc["w"], Vec(9, 9, 9));
        acc += grad(theta);
        Exact(acc["w"], Vec(18, 18, 18));

        acc = acc.SetItem("w", Vec(1, 2, 3));
        acc += grad(theta);
        Exact(acc["w"], Vec(10, 11, 12));

        acc = acc.ZerosLike() + grad(theta);
        Exact(acc["w"], Vec(9, 9, 9));

        // A new w is a new argument, not a mutation: 12s at w = 2.
        Exact(grad(theta.SetItem("w", Full(3, 2.0)))["w"], Vec(12, 12, 12));
        Assert.That(theta["w"], Is.EqualTo(Full(3, 1.0)), "theta is unchanged");
    }
}
