using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Functional.Autodiff.Datasets;
using Functional.Autodiff.Training;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

// The README's record, public as the README writes it; a test's type needs no XML docs.
#pragma warning disable CS1591
// ---- README, LINQ training, record: from here ----
[Structured] public sealed record Mlp<T>(T W1, T B1, T W2, T B2);
// ---- to here ----
#pragma warning restore CS1591

/// <summary>The README's LINQ-style training on the digits, statement for statement: what it prints, and that the README shows it.</summary>
[NonParallelizable]
public class LinqTraining
{
    private static void Example()
    {
        var repository = Check.Root();
        // ---- README, LINQ training: from here ----
        // The digits, every fifth image held out for the test; the parameters are a record.
        var digits = Digits.Load(Path.Combine(repository, "data", "digits.csv.gz"));     // 1797 images of 8×8
        var train = digits.Where((_, i) => i % 5 != 0).ToArray();
        var test = digits.Where((_, i) => i % 5 == 0).ToArray();
        var rng = new Random(7);
        Value Init(int rows, int cols) => Value.FromRowMajor(rows, cols, Enumerable.Range(0, rows * cols).Select(_ => (2 * rng.NextDouble() - 1) / Math.Sqrt(rows)).ToArray());
        var p0 = new Mlp<Value>(Init(64, 32), Value.Zeros(Shape.Vector(32)), Init(32, 10), Value.Zeros(Shape.Vector(10)));
        Expr Logits(Mlp<Expr> p, Value x) => Expr.MatMul(Expr.Tanh(Expr.MatMul(x, p.W1) + p.B1), p.W2) + p.B2;
        Func<IReadOnlyList<Digit>, Func<Mlp<Expr>, Expr>> loss = batch => p => Expr.SoftmaxCrossEntropy(Logits(p, Digits.Inputs(batch)), Digits.Labels(batch));

        // Epochs as a query: each a shuffle seeded by its number, cut into batches of 32.
        var epochs = Enumerable.Range(0, 10).Select(e => { var r = new Random(e); return train.OrderBy(_ => r.Next()).Chunk(32); });

        // Training is a fold: one Adam step per batch of every epoch, the state a value.
        var adam = Optimizer.Adam(lr: 0.01);
        var (p, state) = epochs.SelectMany(batches => batches).Aggregate((p0, adam.Init(p0)),
            (acc, batch) => adam.Step(acc.Item1, AD.Grad<Mlp<Value>, Mlp<Expr>>(loss(batch))(acc.Item1), acc.Item2));
        double Accuracy(Mlp<Value> q) => Metrics.Accuracy(AD.Eval<Mlp<Value>, Mlp<Expr>>(m => Logits(m, Digits.Inputs(test)), q), Digits.Labels(test));
        Console.WriteLine($"{state.Step} steps, test accuracy {Accuracy(p):P1}");               // 450 steps, test accuracy 96.7 %

        // The same run as the library's scan, each batch's gradient split over two cores; query the steps.
        var run = Train.Steps(adam, p0, (q, batch) => DataParallel.ValueAndGrad<Mlp<Value>, Mlp<Expr>, Digit>(loss, q, batch, chunks: 2), epochs).ToList();
        Console.WriteLine(string.Join(" ", run.Where(s => s.Batch == 0).Select(s => s.Loss.ToString("F2"))));  // 2.29 0.47 0.12 ... 0.13
        Console.WriteLine($"test accuracy {Accuracy(run[^1].Params):P1}");                        // test accuracy 96.7 %
        // ---- to here ----
        // ---- README, LINQ training, compiled: from here ----
        // Faster: one compiled gradient, by the parameters only, with the chunk's images and classes as its inputs.
        var vg = Compiled.ValueAndGrad<(Mlp<Value> P, Value X, Value Y), (Mlp<Expr> P, Expr X, Expr Y)>(
            t => Expr.SoftmaxCrossEntropy(Expr.MatMul(Expr.Tanh(Expr.MatMul(t.X, t.P.W1) + t.P.B1), t.P.W2) + t.P.B2, t.Y), Wrt.Args(0));
        (Value, Mlp<Value>) Chunk(Mlp<Value> q, IReadOnlyList<Digit> chunk)
        {
            var (l, g) = vg((q, Digits.Inputs(chunk), Digits.Targets(chunk)));
            return (l, g.P);
        }
        var compiled = Train.Steps(adam, p0, (q, batch) => DataParallel.ValueAndGrad(Chunk, q, batch, chunks: 2), epochs).ToList();
        Console.WriteLine($"test accuracy {Accuracy(compiled[^1].Params):P1}");                   // test accuracy 96.7 %
        // ---- to here ----
    }

    /// <summary>The example prints the lines the README shows beside it.</summary>
    [Test]
    public void PrintsWhatTheReadmeSays()
    {
        var lines = Check.Capture(Example);
        Assert.That(lines, Is.EqualTo(new[] { "450 steps, test accuracy 96.7 %", "2.29 0.47 0.12 0.13 0.08 0.26 0.06 0.09 0.12 0.13", "test accuracy 96.7 %", "test accuracy 96.7 %" }));
    }

    /// <summary>The README's LINQ training example is this one, line for line.</summary>
    [Test]
    public void TheReadmeShowsIt()
    {
        var readme = File.ReadAllText(Path.Combine(Check.Root(), "README.md")).Replace("\r\n", "\n");
        // Each block whole: the record opens the first code block, the others end theirs.
        foreach (var (marker, indent, end) in new[] { ("README, LINQ training, record: from here", 0, "\n\n"), ("README, LINQ training: from here", 8, "\n```\n"), ("README, LINQ training, compiled: from here", 8, "\n```\n") })
            Assert.That(readme, Does.Contain(Check.Block("LinqTraining.cs", marker, indent) + end), $"README.md's LINQ training example ({marker}) differs from tests/Acceptance.CSharp/LinqTraining.cs");
    }
}
