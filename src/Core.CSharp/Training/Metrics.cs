using System;
using System.Collections.Generic;

namespace Functional.Autodiff.Training;

/// <summary>
/// Classification metrics on a model's outputs (scores or logits, one row per example, as <see cref="AD.Eval{TIn, TTraced}"/>
/// gives them): the predicted classes, the accuracy and the confusion matrix. Plain functions of values.
/// </summary>
public static class Metrics
{
    /// <summary>The class of the largest score in each row of a matrix (the first on ties, as NumPy's <c>argmax</c>); for a vector, its one class.</summary>
    /// <exception cref="ShapeMismatchException">The scores are a scalar.</exception>
    public static int[] ArgMax(Value scores)
    {
        if (scores.Shape.IsScalar)
            throw new ShapeMismatchException("Metrics.ArgMax", scores.Shape, "Give a vector of scores, or a matrix with one row of scores per example.");
        if (!scores.Shape.IsMatrix) return [Best(scores.ToArray())];
        var m = scores.ToMatrix();
        var classes = new int[m.RowCount];
        for (var i = 0; i < classes.Length; i++) classes[i] = Best(m.Row(i).AsArray() ?? m.Row(i).ToArray());
        return classes;
    }

    private static int Best(double[] row)
    {
        var best = 0;
        for (var j = 1; j < row.Length; j++)
            if (row[j] > row[best]) best = j;
        return best;
    }

    /// <summary>The fraction of rows whose largest score is at their label.</summary>
    /// <exception cref="ArgumentException">The number of labels is not the number of rows.</exception>
    public static double Accuracy(Value scores, IReadOnlyList<int> labels)
    {
        Guard.NotNull(labels);
        var predicted = ArgMax(scores);
        Same(predicted.Length, labels.Count, "Metrics.Accuracy");
        var right = 0;
        for (var i = 0; i < predicted.Length; i++)
            if (predicted[i] == labels[i]) right++;
        return (double)right / predicted.Length;
    }

    /// <summary>
    /// The confusion matrix of <paramref name="classes"/> classes, as scikit-learn's: entry [i, j] counts the examples of
    /// label i predicted as j (rows are the true classes, columns the predictions; the diagonal is the right ones).
    /// </summary>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A class is outside 0 to classes − 1.</exception>
    public static int[,] ConfusionMatrix(IReadOnlyList<int> labels, IReadOnlyList<int> predicted, int classes)
    {
        Guard.NotNull(labels);
        Guard.NotNull(predicted);
        Same(predicted.Count, labels.Count, "Metrics.ConfusionMatrix");
        if (classes < 1) throw new ArgumentOutOfRangeException(nameof(classes), classes, UserCode.Mark($"Metrics.ConfusionMatrix needs at least 1 class, but got {classes}."));
        var counts = new int[classes, classes];
        for (var k = 0; k < labels.Count; k++)
        {
            int t = labels[k], p = predicted[k];
            if ((uint)t >= (uint)classes || (uint)p >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), UserCode.Mark($"Metrics.ConfusionMatrix: example {k} has label {t} and prediction {p}; classes are 0 to {classes - 1}."));
            counts[t, p]++;
        }
        return counts;
    }

    private static void Same(int rows, int labels, string who)
    {
        if (rows != labels)
            throw new ArgumentException(UserCode.Mark($"{who}: {rows} rows of scores but {labels} labels; give one label per row."), nameof(labels));
    }
}
