using System;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;
using static Functional.Autodiff.Acceptance.Check;

namespace Functional.Autodiff.Acceptance;

/// <summary>
/// Seed 004_c32217cd4a3667f2: a one-layer model z = x·w + b with binary_cross_entropy_with_logits, the gradients
/// of w and b, no_grad and detach, and the eye(4, 5) example of vᵀ·J with accumulation and zeroing.
/// </summary>
[TestFixture]
public class Seed004_c32217cd4a3667f2
{
    private static readonly Value X = Full(5, 1.0);  // torch.ones(5)
    private static readonly Value Y = Full(3, 0.0);  // torch.zeros(3)

    /// <summary>The gradients the tutorial prints, in every row of w.grad and in b.grad.</summary>
    private static readonly Value Printed = Vec(0.1581, 0.0495, 0.0256);

    // z = torch.matmul(x, w) + b; loss = binary_cross_entropy_with_logits(z, y)
    private static Expr Z(Expr w, Expr b) => Expr.MatMul(Expr.Const(X), w) + b;

    private static Expr Loss(Expr w, Expr b) => Expr.BinaryCrossEntropyWithLogits(Z(w, b), Expr.Const(Y));

    private static double Logit(double p) => Math.Log(p / (1 - p));

    private static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>
    /// w = 0 and b = logit(3g): then z = b, ∂loss/∂z = σ(z)/3 = g, and since x = ones every row of ∂loss/∂w is g too.
    /// This is the (w, b) that reproduces the printed gradients, which came from a random w and b.
    /// </summary>
    private static (Value W, Value B) PrintedModel() =>
        (Matrix<double>.Build.Dense(5, 3), Printed.Map(g => Logit(3 * g)));

    /// <summary>An arbitrary, non-trivial model for the identity checks.</summary>
    private static (Value W, Value B) OtherModel() =>
        (Matrix<double>.Build.Dense(5, 3, (i, j) => Math.Sin(i + 3 * j)), Vec(0.3, -1.2, 2.5));

    /// <summary>In [4]: every row of w.grad and b.grad print as [0.1581, 0.0495, 0.0256].</summary>
    [Test]
    public void GradientsOfWAndB()
    {
        // loss.backward(); w.grad; b.grad: one Grad of a two-argument function returns both.
        var (w, b) = PrintedModel();
        var (dw, db) = AD.Grad(Loss)(w, b);

        Assert.That(dw.Shape, Is.EqualTo(Shape.Matrix(5, 3)));
        for (var i = 0; i < 5; i++) RoundsTo(Row(dw, i), Printed, 4);
        RoundsTo(db, Printed, 4);
        Close(db, Printed, 1e-12);
    }

    /// <summary>With x = ones, every row of ∂loss/∂w equals ∂loss/∂b = σ(z)/3, for any w and b.</summary>
    [Test]
    public void EveryRowOfWGradientIsTheBGradient()
    {
        var (w, b) = OtherModel();
        var (dw, db) = AD.Grad(Loss)(w, b);

        for (var i = 0; i < 5; i++) Exact(Row(dw, i), db);

        var z = w.ToMatrix().ColumnSums() + b.ToVector();
        Close(db, z.Map(v => Sigmoid(v) / 3), 1e-15);
    }

    /// <summary>The loss value against the formula: with targets 0, loss = mean(log(1 + eᶻ)) = −mean(log(1 − σ(z))).</summary>
    [Test]
    public void LossValueMatchesTheFormula()
    {
        var (w, b) = PrintedModel();
        var loss = AD.ValueAndGrad(Loss)(w, b).Value.ToScalar();
        var expected = -Printed.ToArray().Average(g => Math.Log(1 - 3 * g)); // σ(z) = 3g here
        Assert.That(loss, Is.EqualTo(expected).Within(1e-12));

        var (w2, b2) = OtherModel();
        var z = w2.ToMatrix().ColumnSums() + b2.ToVector();
        var loss2 = Loss(Expr.Const(w2), Expr.Const(b2)).Value.ToScalar();
        Assert.That(loss2, Is.EqualTo(z.Average(v => Math.Log(1 + Math.Exp(v)))).Within(1e-12));
    }

    /// <summary>In [5]: torch.no_grad() to compute z without tracking. Plain evaluation of a graph of constants needs no mode.</summary>
    [Test]
    public void PlainEvaluationNeedsNoMode()
    {
        var (w, b) = OtherModel();
        var z = Z(Expr.Const(w), Expr.Const(b)).Value;
        Close(z, X.ToVector() * w.ToMatrix() + b.ToVector(), 1e-15);
    }

    /// <summary>In [6]: z.detach(). The detached z has z's value, and no gradient flows back through it.</summary>
    [Test]
    public void DetachGivesZeroGradient()
    {
        var (w, b) = OtherModel();
        Func<Expr, Expr, Expr> detached = (wv, bv) => Expr.BinaryCrossEntropyWithLogits(Z(wv, bv).StopGradient(), Expr.Const(Y));

        var (loss, (dw, db)) = AD.ValueAndGrad(detached)(w, b);
        Assert.That(loss.ToScalar(), Is.EqualTo(Loss(Expr.Const(w), Expr.Const(b)).Value.ToScalar()));
        Exact(dw, w.ZerosLike());
        Exact(db, b.ZerosLike());
    }

    /// <summary>The model's gradients with named parameters: Params in, Params out; accumulated, edited and reset explicitly.</summary>
    [Test]
    public void GradientsAsParams()
    {
        var (w, b) = PrintedModel();
        var model = Params.Of(("w", w), ("b", b));
        var grad = AD.Grad((ParamVars p) => Loss(p["w"], p["b"]));

        var g = grad(model);
        Assert.That(g.Names, Is.EqualTo(new[] { "w", "b" }));
        RoundsTo(g["b"], Printed, 4);
        for (var i = 0; i < 5; i++) RoundsTo(Row(g["w"], i), Printed, 4);

        // Two backward() calls without zero_grad: the caller adds the two gradients.
        var acc = model.ZerosLike() + g + grad(model);
        Close(acc["b"], 2 * Printed, 1e-12);

        // Editing one gradient by hand, and resetting them all (optimizer.zero_grad()).
        acc = acc.SetItem("b", Vec(1, 2, 3));
        Exact(acc["b"], Vec(1, 2, 3));
        acc = acc.ZerosLike();
        Exact(acc["w"], Value.Zeros(Shape.Matrix(5, 3)));
        Exact(acc["b"], Vec(0, 0, 0));

        // One SGD step is arithmetic on Params too, and the model itself is untouched.
        var stepped = model - 0.1 * g;
        Close(stepped["b"], b - 0.1 * g["b"], 0);
        Exact(model["w"], w);
    }

    // --------------------------------------------------------------- the eye(4, 5) example

    private static readonly Value Eye = Expr.Eye(4, 5).Value; // torch.eye(4, 5)

    private static readonly Value FirstCall = Matrix<double>.Build.Dense(4, 5, (i, j) => i == j ? 4 : 2);

    // out = (inp + 1).pow(2).t()
    private static Expr Out(Expr inp) => (inp + 1).Pow(2).T();

    /// <summary>In [7]: out.backward(ones) three times, zeroing before the third: 4/2, then 8/4, then 4/2 again.</summary>
    [Test]
    public void EyeExampleVectorJacobianProducts()
    {
        // out.backward(torch.ones_like(out), retain_graph=True): Vjp and a pullback called with ones of out's shape.
        var (output, pullback) = AD.Vjp(Out)(Eye);
        Assert.That(output.Shape, Is.EqualTo(Shape.Matrix(5, 4)));
        var ones = Value.Full(output.Shape, 1.0);

        var grad = pullback(ones);
        Exact(grad, FirstCall);                  // First call

        grad += pullback(ones);
        Exact(grad, 2 * FirstCall);              // Second call: 8 on the diagonal, 4 elsewhere

        grad = grad.ZerosLike() + pullback(ones);
        Exact(grad, FirstCall);                  // Call after zeroing gradients
    }

    /// <summary>The eye(4, 5) sequence with a named parameter: the pullback returns Params, accumulated with + and reset with ZerosLike.</summary>
    [Test]
    public void EyeExampleWithParams()
    {
        var (_, pullback) = AD.Vjp((ParamVars p) => Out(p["inp"]))(Params.Of(("inp", Eye)));
        var ones = Value.Full(Shape.Matrix(5, 4), 1.0);

        var acc = pullback(ones);
        Exact(acc["inp"], FirstCall);
        acc += pullback(ones);
        Exact(acc["inp"], 2 * FirstCall);
        acc = acc.ZerosLike() + pullback(ones);
        Exact(acc["inp"], FirstCall);
    }

    /// <summary>The printed gradients, checked as the tutorial's rows: every row of the 5×3 w.grad is the same.</summary>
    [Test]
    public void WGradientMatrixAsPrinted()
    {
        var (w, b) = PrintedModel();
        var (dw, _) = AD.Grad(Loss)(w, b);
        var printedW = Matrix<double>.Build.DenseOfRowVectors(Enumerable.Repeat(Printed.ToVector(), 5));
        RoundsTo(dw, printedW, 4);
    }
}
