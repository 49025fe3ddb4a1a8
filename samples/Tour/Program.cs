// A tour of Functional.Autodiff through five autograd tutorials (the project's shared/seeds/ folder, one file per tutorial).
// Every number a tutorial prints is computed here by the library and shown beside the tutorial's own.
// PyTorch stores gradients in .grad and adds to them on every backward(); here gradients are return values,
// and accumulating, editing or resetting them is ordinary arithmetic on values the caller keeps.

using System;
using System.Linq;
using Functional.Autodiff;
using Functional.Autodiff.Tour;
using MathNet.Numerics.LinearAlgebra;

var report = new Report();
Seed000(report);
Seed001(report);
Seed002(report);
Seed003(report);
Seed004(report);
return report.Finish();

// ------------------------------------------------------------------------------------------------------------

static void Seed000(Report r)
{
    r.Seed("000_e098977270c1702c.txt", "z = 3·xᵀ(w+2)∘²: Grad is pure; repeated backward is a sum the caller writes");

    // x = t.full((3,), 0.5) is a constant of the function; w is the argument Grad differentiates by.
    var x = Expr.Const(Full(3, 0.5));
    Func<Expr, Expr> z = w => 3 * Expr.Dot(x, (w + 2).Pow(2));

    var (z1, g1) = AD.ValueAndGrad(z)(Full(3, 1));
    r.Row("In [12]", "z at w = 1", z1, "40.5000");
    r.Row("In [19]", "w.grad at w = 1", g1, "[9., 9., 9.]");

    var (z2, g2) = AD.ValueAndGrad(z)(Full(3, 2));
    r.Row("In [26]", "z at w = 2", z2, "72.");
    r.Row("In [26]", "w.grad at w = 2", g2, "[12., 12., 12.]");

    // backward(retain_graph=True) twice: no graph to retain, just call Grad again and add.
    var grad = AD.Grad(z);
    var wGrad = grad(Full(3, 1));
    r.Row("In [31]", "w.grad after one backward", wGrad, "[9., 9., 9.]");
    wGrad += grad(Full(3, 1));
    r.Row("In [31]", "w.grad after two (accumulated)", wGrad, "[18., 18., 18.]");
    wGrad = wGrad.SetItem(0, 1).SetItem(1, 2).SetItem(2, 3); // w.grad.data = t.tensor([1., 2., 3.])
    r.Row("In [32]", "w.grad set by hand", wGrad, "[1., 2., 3.]");
    wGrad += grad(Full(3, 1));
    r.Row("In [32]", "w.grad after one more backward", wGrad, "[10., 11., 12.]");

    // z = 3(x+2)², dz/dx = 6(x+2): the worked values in the markdown.
    Func<Expr, Expr> z3 = v => 3 * (v + 2).Pow(2);
    r.Row("markdown", "dz/dx at x = 0", AD.Grad(z3)(0.0), "12");
    r.Row("markdown", "dz/dx at x = 1", AD.Grad(z3)(1.0), "18");
    r.Row("markdown", "dz/dx at x = 2", AD.Grad(z3)(2.0), "24");

    // A vector output: z.backward(dz_dz) is Vjp's pullback applied to the cotangent dz_dz = ones_like(z).
    var (zv, pullback) = AD.Vjp(z3)(Full(4, 1));
    var ones = Value.Full(zv.Shape, 1);
    r.Row("In [2]", "z = 3(x+2)² at x = ones(4)", zv, "[27., 27., 27., 27.]");
    var xGrad = pullback(ones);
    r.Row("In [4]", "x.grad after backward(ones)", xGrad, "[18., 18., 18., 18.]");
    xGrad += pullback(ones);
    r.Row("In [5]", "x.grad after a second", xGrad, "[36., 36., 36., 36.]");
    xGrad += pullback(ones);
    r.Row("In [5]", "x.grad after a third", xGrad, "[54., 54., 54., 54.]");
    xGrad = xGrad.ZerosLike(); // x.grad = torch.zeros_like(x)
    r.Row("In [6]", "x.grad reset", xGrad, "[0., 0., 0., 0.]");
    xGrad += pullback(ones);
    r.Row("In [7]", "x.grad after reset and backward", xGrad, "[18., 18., 18., 18.]");
}

static void Seed001(Report r)
{
    r.Seed("001_9cd9801ec6f38431.txt", "y = 2xᵀx, detach, control flow: Vjp for vectors, StopGradient as a node, one graph many gradients");
    var arange = Expr.Arange(4).Value; // [0, 1, 2, 3]

    var (y, g) = AD.ValueAndGrad(x => 2 * Expr.Dot(x, x))(arange);
    r.Row("In [15]", "y = 2·xᵀx", y, "28.0");
    r.Row("In [8]", "x.grad (= 4x)", g, "[0., 4., 8., 12.]");

    var (s, gs) = AD.ValueAndGrad(x => x.Sum())(arange);
    r.Row("In [17]", "y = x.sum()", s, "6.0");
    r.Row("In [11]", "x.grad of the sum", gs, "[1., 1., 1., 1.]");

    // y = x * x is a vector: Grad would throw NonScalarOutputException; use Grad of the sum, or Vjp with ones.
    var (sq, pullback) = AD.Vjp(x => x * x)(arange);
    r.Row("In [27]", "y = x * x", sq, "[0., 1., 4., 9.]");
    r.Row("In [26]", "x.grad of y.sum()", AD.Grad(x => (x * x).Sum())(arange), "[0., 2., 4., 6.]");
    r.Row("In [28]", "x.grad of y.backward(ones)", pullback(Value.Full(sq.Shape, 1)), "[0., 2., 4., 6.]");

    // detach / stop_gradient: build the graph once on a traced variable, then ask it for two gradients.
    var xv = Expr.Var("x", arange);
    var yv = xv * xv;
    var u = yv.StopGradient();
    var zv = u * xv;
    r.Row("In [37]", "z = u * x, u = detach(x * x)", zv.Value, "[0., 1., 8., 27.]");
    r.Row("In [39]", "x.grad of z.sum() (= u)", AD.Gradients(zv.Sum(), xv)[0].Value, "[0., 1., 4., 9.]");
    r.Row("In [41]", "x.grad of y.sum() (tutorial: == 2 * x)", AD.Gradients(yv.Sum(), xv)[0].Value, "[0., 2., 4., 6.]");

    // Control flow on values: F branches on .Value while it traces.
    // The printed d = -160708.2188 came from an a that prints as -1.5694; that a is d/102400.
    var (d, da) = AD.ValueAndGrad(F)(-160708.2188 / 102400);
    r.Row("In [48]", "d = f(a), a = -1.5694…", d, "-160708.2188");
    r.Row("In [49]", "a.grad (tutorial: d/a == a.grad)", da, "102400.");
    // TF's a was another random draw; any a < 0 with 1000 ≤ |4096a| and |2048a| < 1000 takes the same path.
    r.Row("In [53]", "TF d_grad at a = -0.3", AD.Grad(F)(-0.3), "409600.0");

    // A 2×2 a: the printed d is 2048a (10 doublings, positive sum), so a = d/2048.
    var printedD = Matrix<double>.Build.DenseOfArray(new[,] { { -248.2693, 1364.9205 }, { -1133.4603, 396.8123 } });
    Value a = printedD / 2048;
    var dm = F(Expr.Const(a)).Value;
    var am = AD.Grad(m => F(m).Sum())(a);
    r.Row("In [75]", "d = f(a), a 2×2", dm, "[[-248.2693, 1364.9205], [-1133.4603, 396.8123]]");
    r.Row("In [77]", "a.grad of d.sum()", am, "[[2048., 2048.], [2048., 2048.]]");
    r.Row("In [78]", "d / a", dm.ToMatrix().PointwiseDivide(a), "[[2048., 2048.], [2048., 2048.]]");

    // Exercise: y.sum().backward() run three times accumulates three gradients.
    var once = AD.Grad(x => (x * x).Sum());
    r.Row("In [72]", "three backward passes, summed", once(arange) + once(arange) + once(arange), "[0., 6., 12., 18.]");
}

static void Seed002(Report r)
{
    r.Seed("002_f81eb7889b9ee978.txt", "exp, non-scalar outputs, weighted backward: Grad for scalars, Vjp with weights, sums for loops");

    // requires_grad_(True) is "pass x to Grad"; y.grad of a non-leaf is not needed: ask AD.Gradients for any node.
    var (y, dy) = AD.ValueAndGrad(x => x.Exp())(3.0);
    r.Row("In [16]", "x.grad of exp at x = 3", dy, "[20.0855]");
    r.Row("In [16]", "exp(3), as np.exp(3.)", y, "20.085536923187668");

    // yy.backward() would throw (not a scalar): Vjp, with ones or with per-output weights.
    var (yy, pullback) = AD.Vjp(x => x.Pow(2))(Expr.Arange(4).Value);
    r.Row("In [21]", "yy = xx²", yy, "[0., 1., 4., 9.]");
    r.Row("In [22]", "xx.grad of backward(ones)", pullback(Value.Full(yy.Shape, 1)), "[0., 2., 4., 6.]");
    var weights = Value.FromArray(0.01, 0.1, 1, 10);
    r.Row("In [35]", "xx.grad of backward(weights)", pullback(weights), "[0.0000, 0.2000, 4.0000, 60.0000]");

    // The loop: PyTorch adds into xx.grad each time; here the total is a variable of the loop.
    string[] printed =
    [
        "[0.0000, 0.2000, 4.0000, 60.0000]", "[0.0000, 0.4000, 8.0000, 120.0000]", "[0.0000, 0.6000, 12.0000, 180.0000]",
        "[0.0000, 0.8000, 16.0000, 240.0000]", "[0., 1., 20., 300.]",
    ];
    var total = yy.ZerosLike();
    for (var i = 0; i < 5; i++)
    {
        total += pullback(weights);
        r.Row("In [36]", $"{i}-th gradient (accumulated)", total, printed[i]);
    }
}

static void Seed003(Report r)
{
    r.Seed("003_855bf9f66b1b019b.txt", "f = (x + 2y)·z at (3, -4, 19): gradients of every gate, intermediate q included");

    var x = Expr.Var("x", 3.0);
    var y = Expr.Var("y", -4.0);
    var z = Expr.Var("z", 19.0);
    var q = x + 2 * y; // #1
    var f = q * z;     // #2
    r.Row("In [21]", "f", f.Value, "-95");

    // PyTorch keeps .grad on leaves only (q needs a hook); Gradients takes any nodes of the graph.
    var g = AD.Gradients(f, q, x, y, z, f);
    r.Row("In [24]", "df/dq", g[0].Value, "19");
    r.Row("In [24]", "df/dx", g[1].Value, "19");
    r.Row("In [24]", "df/dy", g[2].Value, "38");
    r.Row("In [24]", "df/dz", g[3].Value, "-5");
    r.Row("In [79]", "df/df", g[4].Value, "1.");

    // Two backward passes accumulate; with named parameters the total is a Params we add to and reset.
    var grad = AD.Grad((ParamVars p) => (p["x"] + 2 * p["y"]) * p["z"]);
    var point = Params.Of(("x", 3.0), ("y", -4.0), ("z", 19.0));
    var acc = grad(point) + grad(point);
    r.Row("In [122]", "x.grad after two passes", acc["x"], "38.");
    r.Row("In [122]", "y.grad after two passes", acc["y"], "76.");
    r.Row("In [122]", "z.grad after two passes", acc["z"], "-10.");
    acc = acc.ZerosLike() + grad(point); // o.grad = None, then f.backward()
    r.Row("In [130]", "x.grad after reset", acc["x"], "19.");
    r.Row("In [130]", "y.grad after reset", acc["y"], "38.");
    r.Row("In [130]", "z.grad after reset", acc["z"], "-5.");
}

static void Seed004(Report r)
{
    r.Seed("004_c32217cd4a3667f2.txt", "z = x·w + b with BCE-with-logits, and eye(4, 5): matrices, losses, explicit accumulation");

    // The printed gradients came from a random w and b. With x = ones(5), every row of w.grad equals
    // b.grad = σ(z)/3, so w = 0 and b = logit(3g) give exactly the printed g.
    var printedG = new[] { 0.1581, 0.0495, 0.0256 };
    var x = Expr.Const(Full(5, 1));
    var target = Expr.Const(Full(3, 0));
    Value w0 = Matrix<double>.Build.Dense(5, 3);
    var b0 = Value.FromArray(printedG.Select(gi => Math.Log(3 * gi / (1 - 3 * gi))).ToArray());

    var (dw, db) = AD.Grad((w, b) => Expr.BinaryCrossEntropyWithLogits(Expr.MatMul(x, w) + b, target))(w0, b0);
    r.Row("In [4]", "w.grad", dw,
        "[[0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256]]");
    r.Row("In [4]", "b.grad", db, "[0.1581, 0.0495, 0.0256]");

    // no_grad and detach need no numbers: .Value evaluates without a mode, StopGradient gives zero gradients.
    // out = (inp + 1).pow(2).t(), out.backward(ones) three times, zeroing before the third.
    var (output, pullback) = AD.Vjp(inp => (inp + 1).Pow(2).T())(Expr.Eye(4, 5).Value);
    var ones = Value.Full(output.Shape, 1);
    const string first = "[[4., 2., 2., 2., 2.], [2., 4., 2., 2., 2.], [2., 2., 4., 2., 2.], [2., 2., 2., 4., 2.]]";
    var inpGrad = pullback(ones);
    r.Row("In [7]", "inp.grad, first call", inpGrad, first);
    inpGrad += pullback(ones);
    r.Row("In [7]", "inp.grad, second call", inpGrad,
        "[[8., 4., 4., 4., 4.], [4., 8., 4., 4., 4.], [4., 4., 8., 4., 4.], [4., 4., 4., 8., 4.]]");
    inpGrad = inpGrad.ZerosLike() + pullback(ones); // inp.grad.zero_(), then backward
    r.Row("In [7]", "inp.grad, after zeroing", inpGrad, first);
}

// ------------------------------------------------------------------------------------------------------------

// The tutorial's f (seed 001): b = 2a; double b while ‖b‖ < 1000; c = b if Σb > 0 else 100·b.
// The conditions read .Value: tracing runs on concrete numbers, so C# control flow is differentiated as it runs.
static Expr F(Expr a)
{
    var b = a * 2;
    while (b.Norm().Value.ToScalar() < 1000) b = b * 2;
    return b.Sum().Value.ToScalar() > 0 ? b : 100 * b;
}

static Value Full(int n, double x) => Value.Full(Shape.Vector(n), x);
