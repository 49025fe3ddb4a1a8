using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Functional.Autodiff.Acceptance.Check;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// Seed 001_9cd9801ec6f38431 (PyTorch and TensorFlow): y = 2xᵀx, sums, non-scalar outputs, detach and
/// stop_gradient, a persistent tape, and gradients through while/if control flow.
/// </summary>
[TestFixture]
public class Seed001_9cd9801ec6f38431
{
    private static readonly Value X = Arange(4); // torch.arange(4, dtype=torch.float32)

    /// <summary>
    /// The tutorial's f: b = 2a; double b while ‖b‖ &lt; 1000; c = b if Σb &gt; 0 else 100·b.
    /// The branches read <c>.Value</c>: tracing runs on concrete numbers, so host control flow just works.
    /// </summary>
    internal static Expr F(Expr a)
    {
        var b = a * 2;
        while (b.Norm().Value.ToScalar() < 1000) b = b * 2;
        return b.Sum().Value.ToScalar() > 0 ? b : 100 * b;
    }

    /// <summary>In [7] to [9] and In [14] to [16]: y = 2·xᵀx = 28 and its gradient 4x = [0, 4, 8, 12].</summary>
    [Test]
    public void GradientOfTwiceTheSquaredNorm()
    {
        // x.requires_grad_(True); y.backward(); x.grad: choosing what to differentiate is choosing what Grad receives.
        var (y, grad) = AD.ValueAndGrad(x => 2 * Expr.Dot(x, x))(X);
        Assert.That(y.ToScalar(), Is.EqualTo(28.0));
        Exact(grad, Vec(0, 4, 8, 12));
        Exact(grad, 4 * X); // x.grad == 4 * x
    }

    /// <summary>In [10] to [11] and In [17] to [18]: after zeroing, y = x.sum() = 6 has gradient ones.</summary>
    [Test]
    public void GradientOfTheSum()
    {
        // x.grad.zero_() is not needed: each Grad call returns a fresh gradient, nothing accumulates behind our back.
        var (y, grad) = AD.ValueAndGrad(x => x.Sum())(X);
        Assert.That(y.ToScalar(), Is.EqualTo(6.0));
        Exact(grad, Vec(1, 1, 1, 1));
    }

    /// <summary>In [27] and In [25] (commented out): y = x·x is a vector, so Grad refuses it and says what to use.</summary>
    [Test]
    public void GradOfAVectorOutputThrows()
    {
        var grad = AD.Grad(x => x * x);
        var error = Assert.Throws<NonScalarOutputException>(() => grad(X))!;
        Assert.That(error.Message, Does.Contain("Vjp"));
        Assert.That(error.Output, Is.EqualTo(Shape.Vector(4)));
    }

    /// <summary>In [25] to [30]: y.sum().backward(), y.backward(ones) and tape.gradient(y, x) all give [0, 2, 4, 6].</summary>
    [Test]
    public void VectorOutputThroughSumOrCotangent()
    {
        // y.backward(torch.ones(len(x))): Vjp, then pull back the cotangent ones.
        var (y, pullback) = AD.Vjp(x => x * x)(X);
        Exact(y, Vec(0, 1, 4, 9));
        Exact(pullback(Full(4, 1.0)), Vec(0, 2, 4, 6));

        // y.sum().backward() (and TF's implicit sum of a non-scalar target): Grad of the sum.
        Exact(AD.Grad(x => (x * x).Sum())(X), Vec(0, 2, 4, 6));
    }

    /// <summary>
    /// In [33] to [44]: u = detach(x·x), z = u·x; grad of Σz is u = [0, 1, 4, 9]; grad of Σy is 2x.
    /// One graph, several gradients: TF's persistent tape is just a graph we keep and ask twice.
    /// </summary>
    [Test]
    public void DetachAndStopGradientOnOneGraph()
    {
        var x = Expr.Var("x", X);
        var y = x * x;
        var u = y.StopGradient(); // y.detach() / tf.stop_gradient(y): a node through which no derivative flows
        var z = u * x;
        Exact(z.Value, Vec(0, 1, 8, 27));

        var dz = AD.Gradients(z.Sum(), x)[0].Value;
        Exact(dz, Vec(0, 1, 4, 9));
        Exact(dz, u.Value); // x.grad == u

        // x.grad.zero_(); y.sum().backward(): the same graph, asked again; no zeroing, no retain_graph, no persistent flag.
        var dy = AD.Gradients(y.Sum(), x)[0].Value;
        Exact(dy, 2 * X); // x.grad == 2 * x
    }

    /// <summary>In [45] to [49]: a scalar a = −1.5694 goes through 9 doublings and the ×100 branch, so grad = 102400 = d/a.</summary>
    [Test]
    public void ControlFlowScalar()
    {
        const double a = -1.5694;
        var (d, grad) = AD.ValueAndGrad(F)(a);
        Assert.That(grad.ToScalar(), Is.EqualTo(102400.0));
        Assert.That(d.ToScalar() / a, Is.EqualTo(grad.ToScalar()).Within(1e-9)); // d/a == a.grad
    }

    /// <summary>
    /// In [48]: the printed d = −160708.2188 came from a random a that prints as −1.5694. The a behind it is
    /// d/102400; with it f reproduces the printed d, and a still prints as −1.5694.
    /// </summary>
    [Test]
    public void ControlFlowScalarReproducesThePrintedD()
    {
        const double printedD = -160708.2188;
        var a = printedD / 102400;
        Assert.That(Math.Round(a, 4), Is.EqualTo(-1.5694));
        var (d, grad) = AD.ValueAndGrad(F)(a);
        Assert.That(d.ToScalar(), Is.EqualTo(printedD).Within(1e-9));
        Assert.That(grad.ToScalar(), Is.EqualTo(102400.0));
    }

    /// <summary>
    /// In [53] (TensorFlow): grad 409600 = 100·4096, the negative branch after 11 doublings (b = 4096a).
    /// That needs 1000 ≤ |4096a| and |2048a| &lt; 1000, i.e. |a| in [0.244140625, 0.48828125), and Σa &lt; 0: a = −0.3.
    /// </summary>
    [Test]
    public void ControlFlowTensorFlowGradient()
    {
        const double a = -0.3;
        var (d, grad) = AD.ValueAndGrad(F)(a);
        Assert.That(grad.ToScalar(), Is.EqualTo(409600.0));
        Assert.That(d.ToScalar() / a, Is.EqualTo(grad.ToScalar()).Within(1e-9)); // d_grad == d_tf / a
    }

    /// <summary>
    /// In [74] to [78]: a 2×2 a. The printed d has Σd &gt; 0 (so c = b) and ‖d‖ ≈ 1835, i.e. 10 doublings: d = 2048a.
    /// Using a = d/2048 (exact) from the printed d, f reproduces d, and the gradient of Σd is 2048 everywhere = d/a.
    /// </summary>
    [Test]
    public void ControlFlowMatrix()
    {
        var printedD = Mat(new[,] { { -248.2693, 1364.9205 }, { -1133.4603, 396.8123 } });
        Value a = printedD.ToMatrix() / 2048;

        var d = F(Expr.Const(a)).Value;              // d = f(a): plain evaluation
        Exact(d, printedD);

        var grad = AD.Grad(x => F(x).Sum())(a);      // d.sum().backward(); a.grad
        Exact(grad, Mat(new[,] { { 2048.0, 2048 }, { 2048, 2048 } }));
        Exact(d.ToMatrix().PointwiseDivide(a), grad); // d / a
    }

    /// <summary>Exercise 2, In [72]: three backward passes of y.sum() accumulated into x.grad give [0, 6, 12, 18].</summary>
    [Test]
    public void ExerciseThreeAccumulatedGradients()
    {
        var grad = AD.Grad(x => (x * x).Sum());
        var acc = Enumerable.Range(0, 3).Select(_ => grad(X)).Aggregate(X.ZerosLike(), (s, g) => s + g);
        Exact(acc, Vec(0, 6, 12, 18));
    }
}
