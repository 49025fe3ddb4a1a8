using System;
using System.Collections.Generic;
using System.Threading;

namespace Functional.Autodiff.Training;

/// <summary>Where a training run is, as <see cref="Train.Fit{T, TBatch}"/> reports it through <see cref="IProgress{T}"/> after every step.</summary>
/// <param name="Epoch">The epoch, counting from 0.</param>
/// <param name="Batch">The batch within the epoch, counting from 0.</param>
/// <param name="Step">The optimizer's step count after this batch (the state's <see cref="OptimizerState.Step"/>).</param>
/// <param name="Loss">The batch's loss at the parameters before the update.</param>
public sealed record TrainingProgress(int Epoch, int Batch, int Step, double Loss);

/// <summary>One step of a training run, as <see cref="Train.Steps{T, TBatch}"/> yields it: where it is, the batch's loss
/// before the update, and the parameters and state after it.</summary>
/// <param name="Epoch">The epoch, counting from 0.</param>
/// <param name="Batch">The batch within the epoch, counting from 0.</param>
/// <param name="Loss">The batch's loss at the parameters before the update.</param>
/// <param name="Params">The parameters after the update.</param>
/// <param name="State">The optimizer's state after the update.</param>
public sealed record TrainingStep<T>(int Epoch, int Batch, double Loss, T Params, OptimizerState State);

/// <summary>
/// Training as a fold over epochs of batches: each step takes the batch's loss and gradient at the parameters and
/// gives them to the optimizer; the parameters and the optimizer's state are threaded through as values, nothing is
/// mutated, and nothing is printed. <see cref="Steps{T, TBatch}"/> is the scan (every intermediate state, lazily, as
/// F#'s <c>Seq.scan</c>); <see cref="Fit{T, TBatch}"/> is the fold, reporting progress through <see cref="IProgress{T}"/>.
/// </summary>
/// <remarks>
/// <para>Cancellation: the token is checked before every step, and a cancelled run throws
/// <see cref="OperationCanceledException"/> from <see cref="Fit{T, TBatch}"/> (the .NET convention; the parameters so
/// far are not lost if you want them: enumerate <see cref="Steps{T, TBatch}"/> and keep the last element, or stop when you like).</para>
/// <para>A non-finite gradient stops the run with the optimizer's <see cref="NonFiniteGradientException"/>, which names the
/// parameter (its leaf path) and the step; with <see cref="Optimizer.WithNonFiniteGradients"/> set to skip, the step is
/// skipped and the run goes on.</para>
/// </remarks>
/// <example>
/// <code>
/// var epochs = Enumerable.Range(0, 20).Select(e => Shuffled(train, seed: e).Chunk(32));
/// var (p, state) = Train.Fit&lt;Params, ParamVars, Digit[]&gt;(Optimizer.Adam(1e-2), p0, batch => p => Loss(p, batch), epochs, progress, token);
/// </code>
/// </example>
public static class Train
{
    /// <summary>
    /// The training run as a lazy sequence of steps (a scan): one element per batch, with the parameters and state after
    /// it. Nothing runs until it is enumerated; enumerating it twice runs it twice, with the same numbers.
    /// </summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="parameters">The parameters to start from: <see cref="Params"/> or any structure (see <see cref="Tree"/>).</param>
    /// <param name="valueAndGrad">The loss of a batch and its gradient at the parameters (for example a
    /// <see cref="DataParallel"/>.ValueAndGrad).</param>
    /// <param name="epochs">The epochs, each a sequence of batches (enumerated once, when the epoch starts).</param>
    /// <param name="state">The optimizer's state to continue from; by default <c>optimizer.Init(parameters)</c>.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="OperationCanceledException">While enumerating: the token was cancelled.</exception>
    /// <exception cref="NonFiniteGradientException">While enumerating: a gradient has a NaN or an infinity (unless the optimizer skips such steps).</exception>
    public static IEnumerable<TrainingStep<T>> Steps<T, TBatch>(
        Optimizer optimizer, T parameters, Func<T, TBatch, (double Loss, T Grad)> valueAndGrad, IEnumerable<IEnumerable<TBatch>> epochs,
        OptimizerState? state = null, CancellationToken cancellationToken = default)
    {
        Guard.NotNull(optimizer);
        Guard.NotNull(parameters);
        Guard.NotNull(valueAndGrad);
        Guard.NotNull(epochs);
        return Run(optimizer, parameters, valueAndGrad, epochs, state ?? optimizer.Init(parameters), cancellationToken);
    }

    private static IEnumerable<TrainingStep<T>> Run<T, TBatch>(
        Optimizer optimizer, T p, Func<T, TBatch, (double Loss, T Grad)> valueAndGrad, IEnumerable<IEnumerable<TBatch>> epochs,
        OptimizerState s, CancellationToken cancellationToken)
    {
        var epoch = 0;
        foreach (var batches in epochs)
        {
            var b = 0;
            foreach (var batch in batches ?? throw new ArgumentException(UserCode.Mark($"Train: epoch {epoch} is null; give each epoch a sequence of batches."), nameof(epochs)))
            {
                cancellationToken.ThrowIfCancellationRequested();
                var (loss, grad) = valueAndGrad(p, batch);
                (p, s) = optimizer.Step(p, grad, s);
                yield return new TrainingStep<T>(epoch, b++, loss, p, s);
            }
            epoch++;
        }
    }

    /// <summary>The training run of <see cref="Steps{T, TBatch}"/> with the loss of a batch given as a function to differentiate.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="parameters">The parameters to start from.</param>
    /// <param name="loss">The loss of a batch, as a function of the traced parameters (<see cref="ParamVars"/> for <see cref="Params"/>).</param>
    /// <param name="epochs">The epochs, each a sequence of batches.</param>
    /// <param name="state">The optimizer's state to continue from; by default <c>optimizer.Init(parameters)</c>.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <exception cref="StructureException">TTraced is not T's traced form.</exception>
    /// <exception cref="OperationCanceledException">While enumerating: the token was cancelled.</exception>
    /// <exception cref="NonFiniteGradientException">While enumerating: a gradient has a NaN or an infinity.</exception>
    public static IEnumerable<TrainingStep<T>> Steps<T, TTraced, TBatch>(
        Optimizer optimizer, T parameters, Func<TBatch, Func<TTraced, Expr>> loss, IEnumerable<IEnumerable<TBatch>> epochs,
        OptimizerState? state = null, CancellationToken cancellationToken = default) =>
        Steps(optimizer, parameters, ValueAndGrad<T, TTraced, TBatch>(loss), epochs, state, cancellationToken);

    /// <summary>
    /// The training run as a fold: every step of <see cref="Steps{T, TBatch}"/>, each reported to
    /// <paramref name="progress"/>, and the parameters and optimizer state after the last.
    /// </summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="parameters">The parameters to start from.</param>
    /// <param name="valueAndGrad">The loss of a batch and its gradient at the parameters.</param>
    /// <param name="epochs">The epochs, each a sequence of batches.</param>
    /// <param name="progress">Told (epoch, batch, step, loss) after every step; null for none.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <param name="state">The optimizer's state to continue from; by default <c>optimizer.Init(parameters)</c>.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled (see the remarks on <see cref="Train"/>).</exception>
    /// <exception cref="NonFiniteGradientException">A gradient has a NaN or an infinity: the message names the parameter and the step.</exception>
    public static (T Params, OptimizerState State) Fit<T, TBatch>(
        Optimizer optimizer, T parameters, Func<T, TBatch, (double Loss, T Grad)> valueAndGrad, IEnumerable<IEnumerable<TBatch>> epochs,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, OptimizerState? state = null)
    {
        Guard.NotNull(optimizer);
        Guard.NotNull(parameters);
        var last = (parameters, state ?? optimizer.Init(parameters));
        foreach (var step in Steps(optimizer, parameters, valueAndGrad, epochs, last.Item2, cancellationToken))
        {
            last = (step.Params, step.State);
            progress?.Report(new TrainingProgress(step.Epoch, step.Batch, step.State.Step, step.Loss));
        }
        return last;
    }

    /// <summary>The fold of <see cref="Fit{T, TBatch}"/> with the loss of a batch given as a function to differentiate.</summary>
    /// <param name="optimizer">The optimizer.</param>
    /// <param name="parameters">The parameters to start from.</param>
    /// <param name="loss">The loss of a batch, as a function of the traced parameters.</param>
    /// <param name="epochs">The epochs, each a sequence of batches.</param>
    /// <param name="progress">Told (epoch, batch, step, loss) after every step; null for none.</param>
    /// <param name="cancellationToken">Checked before every step.</param>
    /// <param name="state">The optimizer's state to continue from; by default <c>optimizer.Init(parameters)</c>.</param>
    /// <exception cref="StructureException">TTraced is not T's traced form.</exception>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="NonFiniteGradientException">A gradient has a NaN or an infinity: the message names the parameter and the step.</exception>
    public static (T Params, OptimizerState State) Fit<T, TTraced, TBatch>(
        Optimizer optimizer, T parameters, Func<TBatch, Func<TTraced, Expr>> loss, IEnumerable<IEnumerable<TBatch>> epochs,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, OptimizerState? state = null) =>
        Fit(optimizer, parameters, ValueAndGrad<T, TTraced, TBatch>(loss), epochs, progress, cancellationToken, state);

    private static Func<T, TBatch, (double Loss, T Grad)> ValueAndGrad<T, TTraced, TBatch>(Func<TBatch, Func<TTraced, Expr>> loss)
    {
        Guard.NotNull(loss);
        AD.CheckTraced<T, TTraced>("Train");
        return (p, batch) =>
        {
            var (value, grad) = AD.ValueAndGrad<T, TTraced>(loss(batch))(p);
            return (value.ToScalar(), grad);
        };
    }
}
