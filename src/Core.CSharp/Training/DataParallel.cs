using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Numerics.Tensors;
using System.Runtime.ExceptionServices;
using System.Threading;
using System.Threading.Tasks;

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
/// <para>Deterministic: the chunks are computed in parallel with PLINQ (<c>ParallelEnumerable.Range(…).ForAll</c>, each result in its chunk's slot), and their
/// results are added in chunk order, ((g₀ + g₁) + g₂) + …, element by element (a large leaf in blocks over the cores, each element on its own). The result is the same bits on every
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
        AD.CheckTraced<T, TTraced>("DataParallel.ValueAndGrad");
        // The chunk's share of the batch is applied in its graph (the pullback starts from it), so its gradient comes
        // out weighted, with no pass over it, and the chunks' results are plainly added; one chunk has the weight 1 and
        // is the whole batch's gradient.
        return Run<T, TExample>((chunk, weight) =>
        {
            var f = loss(chunk);
            var (value, grad) = AD.ValueAndGrad<T, TTraced>(weight == 1 ? f : p => f(p) * weight)(parameters);
            return (value, grad);
        }, parameters, batch, chunks, reduction, weighInGraph: true, "DataParallel.ValueAndGrad", cancellationToken);
    }

    /// <summary>
    /// The loss of <paramref name="batch"/> and its gradient at <paramref name="parameters"/> from a function that
    /// gives one chunk's loss and gradient, with the batch split into <paramref name="chunks"/> contiguous chunks
    /// computed in parallel and combined in chunk order (see the remarks on <see cref="DataParallel"/>). This is the
    /// form for a compiled gradient: make the chunk's data an input of the compiled function, so one program serves
    /// every chunk of a size (<see cref="Compiled"/> bakes in what a function captures), and differentiate by the
    /// parameters only (<see cref="Wrt.Args"/>), so the data's gradient is never computed.
    /// </summary>
    /// <typeparam name="T">The parameters' type: <see cref="Params"/> or any structure (see <see cref="Tree"/>).</typeparam>
    /// <typeparam name="TExample">One example of the batch (any type).</typeparam>
    /// <param name="chunkValueAndGrad">A chunk's loss (the mean over the chunk for <see cref="LossReduction.Mean"/>,
    /// the sum for <see cref="LossReduction.Sum"/>) and its gradient at the parameters; called once per chunk, at
    /// most one call per core at a time, so it must be thread-safe (compiled and uncompiled combinators are).</param>
    /// <param name="parameters">Where the gradient is taken.</param>
    /// <param name="batch">The examples.</param>
    /// <param name="chunks">How many chunks: 1 to the batch's size (more chunks than cores only adds overhead).</param>
    /// <param name="reduction">Whether the batch's loss is the mean (the default) or the sum of the examples' losses.</param>
    /// <param name="cancellationToken">Stops the chunks not yet started; throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>For <see cref="LossReduction.Mean"/>, Σₖ wₖ·lossₖ and Σₖ wₖ·gradₖ with wₖ the chunk's share of the
    /// batch (nₖ / n), added in chunk order element by element, ((w₀g₀ + w₁g₁) + w₂g₂) + …; for
    /// <see cref="LossReduction.Sum"/> the plain sums. One chunk gives the function's own result.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunks"/> is below 1 or above the batch's size.</exception>
    /// <exception cref="ArgumentException">The batch is empty.</exception>
    /// <exception cref="NonScalarOutputException">A chunk's loss is not a scalar.</exception>
    /// <exception cref="StructureException">A chunk's gradient does not have the parameters' form and shapes; the message names the leaf.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <example>
    /// <code>
    /// // The chunk's images and classes are inputs of the compiled function; the gradient is taken by the parameters only.
    /// var vg = Compiled.ValueAndGrad&lt;(Params P, Value X, Value Y), (ParamVars P, Expr X, Expr Y)&gt;(
    ///     t =&gt; Expr.SoftmaxCrossEntropy(Model(t.P, t.X), t.Y), Wrt.Args(0));
    /// var (loss, grad) = DataParallel.ValueAndGrad&lt;Params, Digit&gt;((p, chunk) =&gt;
    /// {
    ///     var (l, g) = vg((p, Digits.Inputs(chunk), Digits.Targets(chunk)));
    ///     return (l, g.P);
    /// }, parameters, batch, chunks: 2);
    /// </code>
    /// </example>
    public static (double Loss, T Grad) ValueAndGrad<T, TExample>(
        Func<T, IReadOnlyList<TExample>, (Value Loss, T Grad)> chunkValueAndGrad, T parameters, IReadOnlyList<TExample> batch, int chunks,
        LossReduction reduction = LossReduction.Mean, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(chunkValueAndGrad);
        return Run<T, TExample>((chunk, _) => chunkValueAndGrad(parameters, chunk), parameters, batch, chunks, reduction,
            weighInGraph: false, "DataParallel.ValueAndGrad", cancellationToken);
    }

    /// <summary>
    /// The loss of <paramref name="batch"/> and its gradient at <paramref name="parameters"/> from a compiled gradient
    /// of a function of the parameters and one chunk's data, with the batch split into <paramref name="chunks"/>
    /// contiguous chunks computed in parallel and combined in chunk order (see the remarks on <see cref="DataParallel"/>).
    /// This is the fastest form: given a function made by <see cref="Compiled.ValueAndGrad{TIn, TTraced}"/>, each
    /// chunk's gradients stay in its program's buffers until they are added, so a call allocates what the whole
    /// batch's gradient would (the sum, and the chunks' data that <paramref name="data"/> builds), not a gradient per
    /// chunk as well. Any other function of that type is called once per chunk, with the same result.
    /// </summary>
    /// <typeparam name="T">The parameters' type: <see cref="Params"/> or any structure (see <see cref="Tree"/>).</typeparam>
    /// <typeparam name="TData">A chunk's data, as the compiled function takes it: a <see cref="Value"/>, a tuple of
    /// them (inputs and targets), or any structure.</typeparam>
    /// <typeparam name="TExample">One example of the batch (any type).</typeparam>
    /// <param name="valueAndGrad">The loss of a chunk (the mean over the chunk for <see cref="LossReduction.Mean"/>, the
    /// sum for <see cref="LossReduction.Sum"/>) and its gradient, as a function of the pair (parameters, chunk data):
    /// <c>Compiled.ValueAndGrad&lt;(T, TData), (TTraced, TDataTraced)&gt;(f, Wrt.Args(0))</c>, differentiated by the
    /// parameters only, so the data's gradient is never computed. Called from several threads at once.</param>
    /// <param name="parameters">Where the gradient is taken.</param>
    /// <param name="data">A chunk's data from its examples (called once per chunk, on the chunk's thread).</param>
    /// <param name="batch">The examples.</param>
    /// <param name="chunks">How many chunks: 1 to the batch's size (more chunks than cores only adds overhead).</param>
    /// <param name="reduction">Whether the batch's loss is the mean (the default) or the sum of the examples' losses.</param>
    /// <param name="cancellationToken">Stops the chunks not yet started; throws <see cref="OperationCanceledException"/>.</param>
    /// <returns>As the overload with a function of one chunk: Σₖ wₖ·lossₖ and the parameters' part of Σₖ wₖ·gradₖ,
    /// added in chunk order element by element; one chunk gives the function's own result.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="chunks"/> is below 1 or above the batch's size.</exception>
    /// <exception cref="ArgumentException">The batch is empty.</exception>
    /// <exception cref="NonScalarOutputException">A chunk's loss is not a scalar.</exception>
    /// <exception cref="StructureException">A chunk's gradient does not have the parameters' form and shapes; the message names the leaf.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <example>
    /// <code>
    /// var vg = Compiled.ValueAndGrad&lt;(Params P, (Value X, Value Y) D), (ParamVars P, (Expr X, Expr Y) D)&gt;(
    ///     t =&gt; Expr.SoftmaxCrossEntropy(Model(t.P, t.D.X), t.D.Y), Wrt.Args(0));
    /// var (loss, grad) = DataParallel.ValueAndGrad(vg, parameters, chunk =&gt; (Digits.Inputs(chunk), Digits.Targets(chunk)), batch, chunks: 2);
    /// </code>
    /// </example>
    public static (double Loss, T Grad) ValueAndGrad<T, TData, TExample>(
        Func<(T Parameters, TData Data), (Value Value, (T Parameters, TData Data) Grad)> valueAndGrad, T parameters,
        Func<IReadOnlyList<TExample>, TData> data, IReadOnlyList<TExample> batch, int chunks,
        LossReduction reduction = LossReduction.Mean, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(valueAndGrad);
        Guard.NotNull(data);
        const string who = "DataParallel.ValueAndGrad";
        if (chunks == 1 || valueAndGrad.Target is not IBorrowingValueAndGrad<(T, TData)> compiled)
            return Run<T, TExample>((chunk, _) =>
            {
                var (value, grad) = valueAndGrad((parameters, data(chunk)));
                return (value, grad.Parameters);
            }, parameters, batch, chunks, reduction, weighInGraph: false, who, cancellationToken);

        Guard.NotNull(parameters);
        Guard.NotNull(batch);
        var (parts, weights) = Weights(batch, chunks, reduction, who);
        var runs = new BorrowedRun?[parts.Count];
        try
        {
            ForEachChunk(parts.Count, chunks, cancellationToken, k =>
            {
                var run = compiled.RunBorrowed((parameters, data(parts[k])));
                runs[k] = run;
                if (!run.Value.Shape.IsScalar) throw new NonScalarOutputException(who, run.Value.Shape);
            });
            // The parameters are the pair's first leaves; a leaf the function is not differentiated by has a zero gradient.
            var (reference, def) = Tree.Flatten(parameters);
            var mask = runs[0]!.Value.Mask;
            var sum = new Value[reference.Length];
            var terms = new Value[runs.Length];
            for (int leaf = 0, chosen = 0; leaf < sum.Length; leaf++)
            {
                if (mask is not null && !mask[leaf])
                {
                    sum[leaf] = reference[leaf].ZerosLike();
                    continue;
                }
                for (var k = 0; k < runs.Length; k++) terms[k] = runs[k]!.Value.Grad(chosen);
                sum[leaf] = Sum(terms, weights, reference[leaf].Shape);
                chosen++;
            }
            var loss = 0.0;
            for (var k = 0; k < runs.Length; k++)
                loss = k == 0 ? Weigh(weights[0], runs[0]!.Value.Value.ToScalar()) : loss + Weigh(weights[k], runs[k]!.Value.Value.ToScalar());
            return (loss, Tree.Unflatten<T>(def, sum));
        }
        finally
        {
            foreach (var run in runs) run?.Dispose();
        }
    }

    /// <summary>
    /// Both overloads: the chunks in parallel, in order, then their weighted sum on this thread. With
    /// <paramref name="weighInGraph"/>, <paramref name="chunk"/> applies the weight it is given and the results are
    /// added plainly; otherwise it is given 1 and the weights are applied here, in the sum's one pass.
    /// </summary>
    private static (double Loss, T Grad) Run<T, TExample>(
        Func<IReadOnlyList<TExample>, double, (Value Loss, T Grad)> chunk, T parameters, IReadOnlyList<TExample> batch, int chunks,
        LossReduction reduction, bool weighInGraph, string who, CancellationToken cancellationToken)
    {
        Guard.NotNull(parameters);
        Guard.NotNull(batch);
        var (parts, weights) = Weights(batch, chunks, reduction, who);
        var results = new (double Loss, T Grad)[parts.Count];
        ForEachChunk(parts.Count, chunks, cancellationToken, k =>
        {
            var (value, grad) = chunk(parts[k], weighInGraph ? weights[k] : 1.0);
            if (!value.Shape.IsScalar) throw new NonScalarOutputException(who, value.Shape);
            results[k] = (value.ToScalar(), grad);
        });
        if (weighInGraph) Array.Fill(weights, 1.0);
        return WeightedSum(parameters, results, weights, who);
    }

    /// <summary>The batch's chunks and each one's weight: its share of the batch for a mean, 1 for a sum.</summary>
    private static (IReadOnlyList<IReadOnlyList<TExample>> Parts, double[] Weights) Weights<TExample>(
        IReadOnlyList<TExample> batch, int chunks, LossReduction reduction, string who)
    {
        if (!Enum.IsDefined(reduction))
            throw new ArgumentOutOfRangeException(nameof(reduction), reduction, UserCode.Mark($"Unknown LossReduction {reduction}."));
        var parts = Split(batch, chunks, who);
        var weights = new double[parts.Count];
        for (var k = 0; k < weights.Length; k++)
            weights[k] = reduction == LossReduction.Mean ? (double)parts[k].Count / batch.Count : 1.0;
        return (parts, weights);
    }

    /// <summary>
    /// <paramref name="body"/> for each chunk, in parallel, at most one per core; each chunk writes its own slot, so
    /// their order is the chunks', whatever ran first. ForAll runs one partition on the calling thread, so two chunks
    /// take two threads, not two workers and a waiting caller. A chunk's own exception is rethrown as it is.
    /// </summary>
    private static void ForEachChunk(int count, int chunks, CancellationToken cancellationToken, Action<int> body)
    {
        try
        {
            ParallelEnumerable.Range(0, count)
                .WithDegreeOfParallelism(Math.Max(1, Math.Min(chunks, Environment.ProcessorCount)))
                .WithCancellation(cancellationToken)
                .ForAll(body);
        }
        catch (AggregateException e) when (e.InnerExceptions.Count > 0)
        {
            // A chunk's own exception (a bad loss, a bad shape), as the sequential call would throw it.
            ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
            throw;
        }
    }

    /// <summary>
    /// Σₖ wₖ·lossₖ and Σₖ wₖ·gradₖ, added in chunk order element by element, ((w₀g₀ + w₁g₁) + w₂g₂) + …, in one pass
    /// per leaf (a weight of 1 multiplies nothing, so unit weights give the plain sum's bits). The gradients are checked
    /// against the parameters' form and shapes first.
    /// </summary>
    private static (double Loss, T Grad) WeightedSum<T>(T parameters, (double Loss, T Grad)[] results, double[] weights, string who)
    {
        if (results.Length == 1 && weights[0] == 1) return results[0];
        var (reference, def) = Tree.Flatten(parameters);
        var grads = new ImmutableArray<Value>[results.Length];
        var loss = 0.0;
        for (var k = 0; k < results.Length; k++)
        {
            grads[k] = Tree.Same(def, reference, results[k].Grad, who, $"gradient of chunk {k}");
            loss = k == 0 ? Weigh(weights[0], results[0].Loss) : loss + Weigh(weights[k], results[k].Loss);
        }
        var sum = new Value[reference.Length];
        var terms = new Value[grads.Length];
        for (var leaf = 0; leaf < sum.Length; leaf++)
        {
            for (var k = 0; k < terms.Length; k++) terms[k] = grads[k][leaf];
            sum[leaf] = Sum(terms, weights, reference[leaf].Shape);
        }
        return (loss, Tree.Unflatten<T>(def, sum));
    }

    /// <summary>
    /// One leaf's Σₖ wₖ·termₖ, in chunk order element by element, as a new value (the terms are only read). Each element
    /// is added on its own, so large leaves are summed in blocks over the cores without changing a bit.
    /// </summary>
    private static Value Sum(Value[] terms, double[] weights, Shape shape)
    {
        if (shape.IsScalar)
        {
            var s = Weigh(weights[0], terms[0].ToScalar());
            for (var k = 1; k < terms.Length; k++) s += Weigh(weights[k], terms[k].ToScalar());
            return Value.Scalar(s);
        }
        var acc = GC.AllocateUninitializedArray<double>(shape.Size);
        var storage = new double[terms.Length][];
        for (var k = 0; k < storage.Length; k++) storage[k] = terms[k].Storage;
        var blocks = acc.Length < ParallelSum ? 1 : Math.Min(Environment.ProcessorCount, acc.Length / (ParallelSum / 2));
        if (blocks == 1) Combine(storage, weights, acc, 0, acc.Length);
        else
            Parallel.For(0, blocks, new ParallelOptions { MaxDegreeOfParallelism = blocks }, b =>
            {
                int from = (int)((long)acc.Length * b / blocks), to = (int)((long)acc.Length * (b + 1) / blocks);
                Combine(storage, weights, acc, from, to - from);
            });
        return Value.Own(shape, acc);
    }

    /// <summary>The elements of a leaf from which the chunks' sum is split over the cores.</summary>
    private const int ParallelSum = 1 << 16;

    /// <summary>
    /// Elements per step of <see cref="Combine"/>: every term's step and the sum's stay in the L1 cache while all the
    /// terms are added, so the sum is written once and not read back from memory per term (at 200,000 elements, W3's
    /// first weight, this took the two-chunk sum from 0.24 ms to 0.09 ms on one core).
    /// </summary>
    private const int CombineStep = 2048;

    /// <summary>acc[from..from+count] = ((w₀t₀ + w₁t₁) + w₂t₂) + … element by element, a cache-sized step at a time.</summary>
    private static void Combine(double[][] terms, double[] weights, double[] acc, int from, int count)
    {
        for (var start = from; start < from + count; start += CombineStep)
        {
            var n = Math.Min(CombineStep, from + count - start);
            var dest = acc.AsSpan(start, n);
            var first = terms[0].AsSpan(start, n);
            if (weights[0] == 1) first.CopyTo(dest);
            else TensorPrimitives.Multiply(first, weights[0], dest);
            for (var k = 1; k < terms.Length; k++)
            {
                var g = terms[k].AsSpan(start, n);
                if (weights[k] == 1) TensorPrimitives.Add(dest, g, dest);
                else TensorPrimitives.MultiplyAdd(g, weights[k], dest, dest);
            }
        }
    }

    private static double Weigh(double weight, double x) => weight == 1 ? x : weight * x;

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
