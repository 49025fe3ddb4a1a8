using System;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Functional.Autodiff.Datasets;
using Functional.Autodiff.Training;

namespace Functional.Autodiff.Samples.Digits;

/// <summary>
/// A one-hidden-layer MLP on the digits (64 → 32 tanh → 10, softmax cross-entropy), trained with Adam on a fixed
/// split: every fifth image is held out for the test. Pure functions; the console program only shows the progress.
/// tests/Acceptance.CSharp compiles this file and checks a shortened run's accuracy.
/// </summary>
public static class DigitsMlp
{
    /// <summary>Hidden units.</summary>
    public const int Hidden = 32;

    /// <summary>The fixed split: images 0, 5, 10, … are the test set (360), the others the training set (1437).</summary>
    public static (Digit[] Train, Digit[] Test) Split(IReadOnlyList<Digit> all) =>
        (all.Where((_, i) => i % 5 != 0).ToArray(), all.Where((_, i) => i % 5 == 0).ToArray());

    /// <summary>PyTorch's default initialisation of nn.Linear (uniform in ±1/√fan_in), from a seed.</summary>
    public static Params Init(int seed)
    {
        var rng = new Random(seed);
        Value Uniform(int rows, int cols, int fanIn)
        {
            var a = 1 / Math.Sqrt(fanIn);
            var d = new double[rows * cols];
            for (var k = 0; k < d.Length; k++) d[k] = (2 * rng.NextDouble() - 1) * a;
            return cols == 1 ? Value.FromArray(d) : Value.FromRowMajor(rows, cols, d);
        }
        return Params.Of(
            ("W1", Uniform(Datasets.Digits.Features, Hidden, Datasets.Digits.Features)), ("b1", Uniform(Hidden, 1, Datasets.Digits.Features)),
            ("W2", Uniform(Hidden, Datasets.Digits.Classes, Hidden)), ("b2", Uniform(Datasets.Digits.Classes, 1, Hidden)));
    }

    /// <summary>The logits of a batch of images (a row each).</summary>
    public static Expr Logits(ParamVars p, Value inputs) =>
        Expr.MatMul(Expr.Tanh(Expr.MatMul(inputs, p["W1"]) + p["b1"]), p["W2"]) + p["b2"];

    /// <summary>The mean softmax cross-entropy of a batch.</summary>
    public static Expr Loss(ParamVars p, IReadOnlyList<Digit> batch) =>
        Expr.SoftmaxCrossEntropy(Logits(p, Datasets.Digits.Inputs(batch)), Datasets.Digits.Labels(batch));

    /// <summary>The epochs: the training set shuffled afresh for each (from the seed and the epoch), in batches.</summary>
    public static IEnumerable<IEnumerable<Digit[]>> Epochs(Digit[] train, int epochs, int batchSize, int seed) =>
        Enumerable.Range(0, epochs).Select(e => ((Digit[])train.Clone()).Shuffled(new Random(seed * 1000 + e)).Chunk(batchSize));

    private static T[] Shuffled<T>(this T[] items, Random rng)
    {
        rng.Shuffle(items);
        return items;
    }

    /// <summary>Trains from <see cref="Init"/>(seed) with Adam(lr): the parameters after the last epoch.</summary>
    public static Params Train(Digit[] train, int epochs, int seed, IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default, double lr = 1e-2, int batchSize = 32)
    {
        var (p, _) = Training.Train.Fit<Params, ParamVars, Digit[]>(
            Optimizer.Adam(lr), Init(seed), batch => p => Loss(p, batch), Epochs(train, epochs, batchSize, seed), progress, cancellationToken);
        return p;
    }

    /// <summary>The test accuracy: forward only, no gradient.</summary>
    public static double Accuracy(Params p, IReadOnlyList<Digit> test) =>
        Metrics.Accuracy(AD.Eval(v => Logits(v, Datasets.Digits.Inputs(test)), p), Datasets.Digits.Labels(test));
}
