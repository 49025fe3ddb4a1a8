using System;
using System.Collections;
using System.Collections.Generic;
using System.Linq;
using System.Threading;

namespace Functional.Autodiff.Training;

/// <summary>How the losses of a batch's examples combine into the batch's loss (PyTorch's <c>reduction</c>).</summary>
public enum LossReduction
{
    /// <summary>The mean over the batch: each chunk's loss is the mean over its examples (as
    /// <see cref="Expr.SoftmaxCrossEntropy(Expr, IEnumerable{int})"/> is), weighted by its share of the batch.</summary>
    Mean,

    /// <summary>The sum over the batch: each chunk's loss is the sum over its examples, and the chunks' losses and gradients are added.</summary>
    Sum,
}

/// <summary>
/// Data-parallel mini-batch gradients: a batch split into contiguous chunks, each chunk's loss and gradient computed
/// on its own core, and the chunks' results added. This is safe because nothing is shared and mutated: every chunk
/// builds its own graph over the same immutable parameters and returns its gradient as a new value, and the sum is
/// explicit accumulation of those values (the gradient of a sum is the sum of the gradients).
/// </summary>
/// <remarks>
/// <para>Deterministic: the chunks are computed in parallel with PLINQ (<c>AsParallel().AsOrdered()</c>), and their
/// results are added in chunk order, ((g₀ + g₁) + g₂) + …, on the calling thread. The result is the same bits on every
/// run and on any number of cores (it depends only on the batch and the number of chunks), and it equals the sequential
/// sum of the chunks' gradients (each of the chunk's loss times its share of the batch) bit for bit. PLINQ's own <c>Aggregate(seed, add, combine, result)</c> would combine
/// per-thread partial sums in an order that depends on the partitioning, so its last bits could change with the
/// machine; the fixed order costs nothing measurable, since a chunk's gradient is far dearer than one addition.</para>
/// <para>With one chunk it is <see cref="AD.ValueAndGrad{TIn, TTraced}"/> of the whole batch's loss, bit for bit; with
/// more, the same numbers to rounding.</para>
/// </remarks>
/// <example>
/// <code>
/// var (loss, grad) = DataParallel.ValueAndGrad&lt;Params, ParamVars, Digit&gt;(
///     chunk =&gt; p =&gt; Expr.SoftmaxCrossEntropy(Model(p, Digits.Inputs(chunk)), Digits.Labels(chunk)), parameters, batch, chunks: 2);
/// </code>
/// </example>
public static class DataParallel
{
    /// <summary>
    /// The loss of <paramref name="batch"/> and its gradient at <paramref name="parameters"/>, with the batch split into
    /// <paramref name="chunks"/> contiguous chunks (sizes differing by at most one, the larger first) computed in
    /// parallel, at most one per core, and combined in chunk order (see the remarks on <see cref="DataParallel"/>).
    /// </summary>
    /// <typeparam name="T">The parameters' type: <see cref="Params"/> or any structure (see <see cref="Tree"/>).</typeparam>
    /// <typeparam name="TTraced">Its traced form (<see cref="ParamVars"/> for <see cref="Params"/>).</typeparam>
    /// <typeparam name="TExample">One example of the batch (any type).</typeparam>
    /// <param name="loss">The loss of a chunk of examples, as a function of the traced parameters: the mean over the
    /// chunk for <see cref="LossReduction.Mean"/>, the sum for <see cref="LossReduction.Sum"/>.</param>
    /// <param name="parameters">Where the gradient is taken.</param>
    /// <param name="batch">The examples.</param>
    /// <param name="chunks">How many chunks: 1 to the batch's size (more chunks than cores only adds overhead).</param>
    /// <param name="reduction">Whether the batch's loss is the mean (the default) or the sum of the examples' losses.</param>
    /// <param name="cancellationToken">Stops the chunks not yet started; throws <see cref="OperationCanceledException"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunks"/> is below 1 or above the batch's size.</exception>
    /// <exception cref="ArgumentException">The batch is empty.</exception>
    /// <exception cref="NonScalarOutputException">A chunk's loss is not a scalar.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public static (double Loss, T Grad) ValueAndGrad<T, TTraced, TExample>(
        Func<IReadOnlyList<TExample>, Func<TTraced, Expr>> loss, T parameters, IReadOnlyList<TExample> batch, int chunks,
        LossReduction reduction = LossReduction.Mean, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(loss);
        Guard.NotNull(parameters);
        Guard.NotNull(batch);
        if (!Enum.IsDefined(reduction))
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction, UserCode.Mark($"Unknown LossReduction {reduction}."));
        AD.CheckTraced<T, TTraced>("DataParallel.ValueAndGrad");
        var parts = Split(batch, chunks, "DataParallel.ValueAndGrad");
        var results = parts
            .AsParallel().AsOrdered()
            .WithDegreeOfParallelism(Math.Max(1, Math.Min(chunks, Environment.ProcessorCount)))
            .WithCancellation(cancellationToken)
            .Select(chunk =>
            {
                // The chunk's share of the batch is applied in its graph (the pullback starts from it), so its gradient
                // comes out weighted, with no pass over it; one chunk has the weight 1 and is the whole batch's gradient.
                var weight = reduction == LossReduction.Mean ? (double)chunk.Count / batch.Count : 1.0;
                var f = loss(chunk);
                var (value, grad) = AD.ValueAndGrad<T, TTraced>(weight == 1 ? f : p => f(p) * weight)(parameters);
                return (Loss: value.ToScalar(), Grad: grad);
            })
            .ToArray();
        // In chunk order, on this thread: ((g0 + g1) + g2) + ...
        var (total, sum) = results[0];
        for (var k = 1; k < results.Length; k++)
        {
            total += results[k].Loss;
            sum = Tree.Zip(sum, results[k].Grad, (a, b) => a + b);
        }
        return (total, sum);
    }

    /// <summary>
    /// <paramref name="batch"/> as <paramref name="chunks"/> contiguous views (no copy), in order: the first
    /// <c>count % chunks</c> have one example more than the others.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunks"/> is below 1 or above the batch's size.</exception>
    /// <exception cref="ArgumentException">The batch is empty.</exception>
    public static IReadOnlyList<IReadOnlyList<TExample>> Split<TExample>(IReadOnlyList<TExample> batch, int chunks) =>
        Split(batch, chunks, "DataParallel.Split");

    private static IReadOnlyList<IReadOnlyList<TExample>> Split<TExample>(IReadOnlyList<TExample> batch, int chunks, string who)
    {
        Guard.NotNull(batch);
        if (batch.Count == 0) throw new ArgumentException(UserCode.Mark($"{who}: the batch is empty; give at least one example."), nameof(batch));
        if (chunks < 1 || chunks > batch.Count)
            throw new ArgumentOutOfRangeException(nameof(chunks), chunks, UserCode.Mark(
                $"{who}: {chunks} chunks for a batch of {batch.Count} examples; give 1 to {batch.Count} (one per core is enough)."));
        var parts = new IReadOnlyList<TExample>[chunks];
        int size = batch.Count / chunks, extra = batch.Count % chunks, start = 0;
        for (var k = 0; k < chunks; k++)
        {
            var n = size + (k < extra ? 1 : 0);
            parts[k] = new Segment<TExample>(batch, start, n);
            start += n;
        }
        return parts;
    }

    /// <summary>A read-only window on a list.</summary>
    private sealed class Segment<TExample>(IReadOnlyList<TExample> items, int start, int count) : IReadOnlyList<TExample>
    {
        public TExample this[int index] =>
            (uint)index < (uint)count ? items[start + index] : throw new ArgumentOutOfRangeException(nameof(index));

        public int Count => count;

        public IEnumerator<TExample> GetEnumerator()
        {
            for (var k = 0; k < count; k++) yield return items[start + k];
        }

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
