using System;
using System.IO;
using System.Linq;
using Functional.Autodiff.Export;
using System.Text.Json;
using Functional.Autodiff.Serialization;
using Functional.Autodiff.Training;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>The README's C# example, statement for statement, with its printed lines checked.</summary>
[NonParallelizable]
public class ReadmeExample
{
    private static void Example()
    {
        var x = Vector<double>.Build.Dense(3, 0.5);
        Func<Expr, Expr> z = w => 3 * Expr.Dot(x, (w + 2).Pow(2));       // z = 3·xᵀ(w + 2)∘²

        var (value, grad) = AD.ValueAndGrad(z)(Vector<double>.Build.Dense(3, 1.0));
        Console.WriteLine($"{value} {grad}");                             // 40.5 [9, 9, 9]

        // Accumulation is a value you thread: what PyTorch does to w.grad on a second backward().
        var twice = grad + AD.Grad(z)(Vector<double>.Build.Dense(3, 1.0));
        Console.WriteLine(twice);                                         // [18, 18, 18]

        // A vector output takes a cotangent: PyTorch's y.backward(v).
        var (y, pullback) = AD.Vjp(v => v * v)(Vector<double>.Build.DenseOfArray([0.0, 1, 2, 3]));
        Console.WriteLine(pullback(Vector<double>.Build.DenseOfArray([0.01, 0.1, 1, 10])));   // [0, 0.2, 4, 60]

        // Gradients with respect to intermediate nodes of one graph: f = (x + 2y)·z.
        var (a, b, c) = (Expr.Var("x", 3.0), Expr.Var("y", -4.0), Expr.Var("z", 19.0));
        var q = a + 2 * b;
        var f = q * c;
        Console.WriteLine(string.Join(", ", AD.Gradients(f, a, b, c, q).Select(g => g.Value)));  // 19, 38, -5, 19
    }

    private static void HigherOrder()
    {
        // Forward mode, Jacobians, Hessians: the Hessian of y = 2xᵀx is 4I, exp'' at 3 is e³.
        var (y0, jv) = AD.Jvp(x => Expr.Sin(x) * x)(1.0, 1.0);              // J·v by forward mode
        Console.WriteLine(Value.FromMatrix(AD.Hessian(x => 2 * Expr.Dot(x, x))(Vector<double>.Build.Dense(3, 1.0))));  // [[4, 0, 0], [0, 4, 0], [0, 0, 4]]
        Console.WriteLine(AD.Grad(Diff.Grad(Expr.Exp))(3.0));              // 20.085536923187668

        // Diff.* work on graphs, so derivatives nest without perturbation confusion: d/dx [x · d/dy (x + y)] = 1.
        Console.WriteLine(AD.Grad(x => x * Diff.Grad(y => x + y)(x))(5.0));  // 1

        // A user-defined op: a stable log-sum-exp whose gradient is the softmax, checked by the public gradient checker.
        var logSumExp = CustomOp.FromComposite("logsumexp", 1,
            body: x => x[0][0] - Expr.LogSoftmax(x[0])[0],
            vjp: (i, x, y, ybar) => ybar * Expr.Softmax(x[0]),
            jvp: (x, y, dx) => Expr.Sum(Expr.Softmax(x[0]) * dx[0]!));
        var report = GradCheck.Run(x => Expr.Create(logSumExp, x), Value.FromArray(1000, 1000, 999), Tolerance.Default);
        Console.WriteLine(report.Passed);                                   // True

        Assert.That(y0.ToScalar(), Is.EqualTo(Math.Sin(1.0)));
        Assert.That(jv.ToScalar(), Is.EqualTo(Math.Cos(1.0) + Math.Sin(1.0)).Within(1e-15));
    }

    /// <summary>The README's anomaly check; returns the line of the lambda (Program.cs:3 in the README's file).</summary>
    private static int AnomalyExample()
    {
        Console.WriteLine(Anomaly.Check(x => Expr.Sqrt(x) + Expr.Log(x), 0.0)); return Here();
    }

    private static int Here([System.Runtime.CompilerServices.CallerLineNumber] int line = 0) => line;

    private static void Simplified()
    {
        var x = Expr.Var("x", Shape.Scalar);
        var g = AD.Gradients(x * x * x, x)[0];
        Console.WriteLine(Text.Expression(g));                         // ((1 * (x * x)) + ((1 * x) * x)) + ((1 * x) * x)
        Console.WriteLine(Text.Expression(g, simplify: true));         // ((x * x) + (x * x)) + (x * x)
        Console.WriteLine(Graph.PostOrder(Graph.Simplify(g)).Count);   // 4: x, one shared x * x, two sums (9 before)
        string dot = Dot.Render(g, new DrawOptions { Simplify = true });

        Assert.That(dot, Is.EqualTo(Dot.Render(Graph.Simplify(g))));
        Assert.That(Graph.PostOrder(g).Count, Is.EqualTo(9));
    }

    private static void SavingAndLoading()
    {
        // ---- README, saving and loading: from here ----
        // Params and values: plain System.Text.Json, every double exact (NaN, ±∞ and -0 included), matrices row-major.
        var p = Params.Of(("w", Value.FromRows([1.5, -0.0], [3, 4])), ("b", double.NaN));
        var json = JsonSerializer.Serialize(p);
        Console.WriteLine(json);                      // {"w":{"shape":[2,2],"data":[1.5,-0,3,4]},"b":{"shape":[],"data":"NaN"}}
        var back = JsonSerializer.Deserialize<Params>(json)!;

        // A graph: every node once (inputs first), ops by name with their parameters, then rebuilt and rechecked.
        var x = Expr.Var("x", Shape.Vector(2));
        var y = Expr.Sum(Expr.MatMul(back["w"], x.Pow(3)));
        var saved = GraphJson.Serialize(y);
        var loaded = GraphJson.Deserialize(saved);    // new variables: loaded.Variable("x")
        Console.WriteLine(AD.Eval(loaded.Root, (loaded.Variable("x"), Value.FromArray(1, 2))));  // 36.5
        var onto = GraphJson.Deserialize(saved, new GraphJsonOptions { Variables = [x] });
        Console.WriteLine(Graph.StructurallyEqual(onto.Root, y));                                // True
        // ---- to here ----
    }

    private static void Structured()
    {
        // ---- README, structured inputs: from here ----
        // f of a vector and an array of scalars; the type arguments are the input and what f receives (its traced form).
        Func<(Expr W, Expr[] Bs), Expr> f = t => Expr.Sum(t.W * t.W) * (t.Bs[0] + t.Bs[1]);
        (Value, Value[]) p = (Value.FromArray(1.0, 2.0), [0.5, 1.5]);

        var (gw, gbs) = AD.Grad<(Value, Value[]), (Expr W, Expr[] Bs)>(f)(p);
        Console.WriteLine($"{gw} {gbs[0]} {gbs[1]}");                            // [4, 8] 5 5

        // A gradient step on the whole structure, leaf by leaf; every leaf has a path.
        var next = Tree.Zip(p, (gw, gbs), (v, g) => v - 0.1 * g);
        Console.WriteLine(string.Join(", ", Tree.Leaves(next).Select(l => $"{l.Path}: {l.Value}")));  // [0]: [0.6, 1.2], [1][0]: 0, [1][1]: 1

        // Only the first input: the others are zeros, not computed. A Hessian comes in blocks, indexed by leaf path.
        var (_, noBs) = AD.Grad<(Value, Value[]), (Expr W, Expr[] Bs)>(f, Wrt.Args(0))(p);
        var h = AD.Hessian<(Value, Value[]), (Expr W, Expr[] Bs)>(f)(p);
        Console.WriteLine($"{noBs[0]} {Value.FromMatrix(h["[0]", "[1][1]"])}");   // 0 [[2], [4]]
        // ---- to here ----
    }

    private static void Training()
    {
        // ---- README, training: from here ----
        // Parameters, a loss of them, an optimizer: training is a fold over the steps, and the state is a value.
        var p0 = Params.Of(("w", Value.FromArray(0.0, 0.0)), ("b", 0.0));
        Func<ParamVars, Expr> loss = p => Expr.Sum(Expr.Square(p["w"] - Value.FromArray(1.0, -2.0))) + Expr.Square(p["b"] - 0.5);
        var grad = AD.Grad(loss);
        var adam = Optimizer.Adam(lr: 0.05);                                   // torch.optim.Adam's numbers
        var (p, state) = Enumerable.Range(0, 300).Aggregate((p0, adam.Init(p0)), (acc, _) => adam.Step(acc.Item1, grad(acc.Item1), acc.Item2));
        Console.WriteLine($"{state.Step}: {p.Map(v => v.Map(x => Math.Round(x, 3)))}");   // 300: {w: [1, -2], b: 0.5}

        // Optimizers are chains of gradient transformations (optax's), here with clipping and a cosine schedule.
        var opt = Optimizer.Chain(Optimizer.ClipByGlobalNorm(1.0), Optimizer.ScaleByAdam(), Optimizer.ScaleByLearningRate(Schedules.Cosine(0.05, tMax: 300)));
        var (q, _) = Enumerable.Range(0, 300).Aggregate((p0, opt.Init(p0)), (acc, _) => opt.Step(acc.Item1, grad(acc.Item1), acc.Item2));
        Console.WriteLine(q.Map(v => v.Map(x => Math.Round(x, 3))));                     // {w: [1, -2], b: 0.5}

        // The state saves with System.Text.Json, every number exact, and a run continues from it.
        var json = JsonSerializer.Serialize(state);
        Console.WriteLine(JsonSerializer.Deserialize<OptimizerState>(json) == state);    // True
        // ---- to here ----
    }

    /// <summary>The higher-order example prints the lines the README shows beside it.</summary>
    [Test]
    public void HigherOrderExamplePrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(HigherOrder);
        Assert.That(lines, Is.EqualTo(new[] { "[[4, 0, 0], [0, 4, 0], [0, 0, 4]]", "20.085536923187668", "1", "True" }));
    }

    /// <summary>The anomaly check prints the two lines the README shows under it, naming the lambda's file and line.</summary>
    [Test]
    public void AnomalyExamplePrintsWhatTheReadmeSays()
    {
        var line = 0;
        var lines = Check.Capture(() => line = AnomalyExample());
        var printed = lines.Select(l => l.Replace($"ReadmeExample.cs:{line}", "Program.cs:3")).ToArray();
        var expected = new[]
        {
            "log at Program.cs:3 produced -Infinity from input 0",
            "sqrt's gradient rule at Program.cs:3 produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)",
        };
        Assert.That(printed, Is.EqualTo(expected));
        var readme = File.ReadAllText(Path.Combine(Check.Root(), "README.md")).Replace("\r\n", "\n");
        Assert.That(readme, Does.Contain(
            "Console.WriteLine(Anomaly.Check(x => Expr.Sqrt(x) + Expr.Log(x), 0.0));\n// " + expected[0] + "\n// " + expected[1] + "\n"));
    }


    /// <summary>The simplification example prints the lines the README shows beside it.</summary>
    [Test]
    public void SimplifiedExamplePrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(Simplified);
        Assert.That(lines, Is.EqualTo(new[]
        {
            "((1 * (x * x)) + ((1 * x) * x)) + ((1 * x) * x)",
            "((x * x) + (x * x)) + (x * x)",
            "4",
        }));
    }

    /// <summary>The saving and loading example prints the lines the README shows beside it.</summary>
    [Test]
    public void SavingAndLoadingPrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(SavingAndLoading);
        Assert.That(lines, Is.EqualTo(new[] { """{"w":{"shape":[2,2],"data":[1.5,-0,3,4]},"b":{"shape":[],"data":"NaN"}}""", "36.5", "True" }));
    }

    /// <summary>The README's saving and loading example is this one, line for line.</summary>
    [Test]
    public void TheReadmeShowsTheSavingAndLoadingExample()
    {
        var source = File.ReadAllLines(Path.Combine(Check.Root(), "tests", "Acceptance.CSharp", "ReadmeExample.cs"));
        var from = Array.FindIndex(source, l => l.Contains("README, saving and loading: from here"));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        var body = source[(from + 1)..upTo].Select(l => l.Length >= 8 ? l[8..] : l.Trim());
        var readme = File.ReadAllText(Path.Combine(Check.Root(), "README.md")).Replace("\r\n", "\n");
        Assert.That(readme, Does.Contain(string.Join("\n", body)), "README.md's saving and loading example differs from tests/Acceptance.CSharp/ReadmeExample.cs");
    }

    /// <summary>The structured-inputs example prints the lines the README shows beside it.</summary>
    [Test]
    public void StructuredExamplePrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(Structured);
        Assert.That(lines, Is.EqualTo(new[] { "[4, 8] 5 5", "[0]: [0.6, 1.2], [1][0]: 0, [1][1]: 1", "0 [[2], [4]]" }));
    }

    /// <summary>The README's structured-inputs example is this one, line for line.</summary>
    [Test]
    public void TheReadmeShowsTheStructuredExample()
    {
        var source = File.ReadAllLines(Path.Combine(Check.Root(), "tests", "Acceptance.CSharp", "ReadmeExample.cs"));
        var from = Array.FindIndex(source, l => l.Contains("README, structured inputs: from here"));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        var body = source[(from + 1)..upTo].Select(l => l.Length >= 8 ? l[8..] : l.Trim());
        var readme = File.ReadAllText(Path.Combine(Check.Root(), "README.md")).Replace("\r\n", "\n");
        Assert.That(readme, Does.Contain("```csharp\n" + string.Join("\n", body) + "\n```\n"), "README.md's structured-inputs example differs from tests/Acceptance.CSharp/ReadmeExample.cs");
    }

    /// <summary>The training example prints the lines the README shows beside it.</summary>
    [Test]
    public void TrainingExamplePrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(Training);
        Assert.That(lines, Is.EqualTo(new[] { "300: {w: [1, -2], b: 0.5}", "{w: [1, -2], b: 0.5}", "True" }));
    }

    /// <summary>The README's training example is this one, line for line.</summary>
    [Test]
    public void TheReadmeShowsTheTrainingExample()
    {
        var source = File.ReadAllLines(Path.Combine(Check.Root(), "tests", "Acceptance.CSharp", "ReadmeExample.cs"));
        var from = Array.FindIndex(source, l => l.Contains("README, training: from here"));
        var upTo = Array.FindIndex(source, from, l => l.Contains("---- to here ----"));
        var body = source[(from + 1)..upTo].Select(l => l.Length >= 8 ? l[8..] : l.Trim());
        var readme = File.ReadAllText(Path.Combine(Check.Root(), "README.md")).Replace("\r\n", "\n");
        Assert.That(readme, Does.Contain("```csharp\n" + string.Join("\n", body) + "\n```\n"), "README.md's training example differs from tests/Acceptance.CSharp/ReadmeExample.cs");
    }

    /// <summary>The example prints the lines the README shows beside it.</summary>
    [Test]
    public void PrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(Example);
        Assert.That(lines, Is.EqualTo(new[] { "40.5 [9, 9, 9]", "[18, 18, 18]", "[0, 0.2, 4, 60]", "19, 38, -5, 19" }));
    }
}
