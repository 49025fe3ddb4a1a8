namespace Functional.Autodiff.FSharp

open System
open System.Collections.Generic
open System.Threading
open Functional.Autodiff
open Functional.Autodiff.Training

/// <summary>
/// Optimizers as pure state transitions (thin functions over <see cref="T:Functional.Autodiff.Training.Optimizer"/>):
/// <c>Optim.step opt (p, state) g</c> returns the new parameters and state, so training is a fold. The named
/// optimizers have <c>torch.optim</c>'s defaults; for every hyperparameter call the core's factories with named
/// arguments, <c>Optimizer.Adam(lr = 1e-3, amsgrad = true)</c>.
/// </summary>
/// <example>
/// <code>
/// let opt = Optim.adam 0.01
/// let p, state =
///     batches |> List.fold (fun (p, s) batch -> Optim.step opt (p, s) (grad (loss batch) p)) (p0, Optim.init opt p0)
/// </code>
/// </example>
[<RequireQualifiedAccess>]
module Optim =

    /// <summary>The state before the first update (step 0, buffers at their initial values), for <c>Params</c> or any
    /// structured parameters (a record, a tuple, a list, nested): the buffers are named by the leaves' paths.</summary>
    /// <exception cref="T:Functional.Autodiff.StructureException">The type is not a structure.</exception>
    val init: optimizer: Optimizer -> parameters: 'T -> OptimizerState

    /// <summary>One update: the new parameters and state; nothing given is changed. The parameters are <c>Params</c> or
    /// any structured value (an F# record of values, say), with the same numbers leaf by leaf.</summary>
    /// <exception cref="T:System.ArgumentException">The gradients or the state are of other parameters; the message names the first leaf path that differs.</exception>
    /// <exception cref="T:Functional.Autodiff.Training.NonFiniteGradientException">A gradient is not finite (unless the optimizer skips such steps).</exception>
    val step: optimizer: Optimizer -> parameters: 'T * state: OptimizerState -> gradients: 'T -> 'T * OptimizerState

    /// <summary>The optimizer skipping, instead of refusing, steps whose gradient has a NaN or an infinity.</summary>
    val skipNonFinite: optimizer: Optimizer -> Optimizer

    /// <summary><c>torch.optim.SGD(lr)</c>.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">lr ≤ 0, infinite or NaN.</exception>
    val sgd: lr: float -> Optimizer

    /// <summary><c>torch.optim.SGD(lr, momentum)</c>, without dampening or Nesterov.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">lr ≤ 0, infinite or NaN; a negative momentum.</exception>
    val sgdMomentum: lr: float -> momentum: float -> Optimizer

    /// <summary><c>torch.optim.Adam(lr)</c> with the default betas (0.9, 0.999) and eps 1e-8.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">lr ≤ 0, infinite or NaN.</exception>
    val adam: lr: float -> Optimizer

    /// <summary><c>torch.optim.AdamW(lr, weight_decay)</c>.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">lr ≤ 0, infinite or NaN; a negative decay.</exception>
    val adamW: lr: float -> weightDecay: float -> Optimizer

    /// <summary><c>torch.optim.RMSprop(lr)</c> (alpha 0.99, eps 1e-8).</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">lr ≤ 0, infinite or NaN.</exception>
    val rmsprop: lr: float -> Optimizer

    /// <summary><c>torch.optim.Adagrad(lr)</c> (eps 1e-10).</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">lr ≤ 0, infinite or NaN.</exception>
    val adagrad: lr: float -> Optimizer

    /// <summary>The transformations applied in order, as one optimizer (optax's <c>chain</c>).</summary>
    val chain: parts: Optimizer list -> Optimizer

    /// <summary>Multiplies the updates by a factor (<c>scale -lr</c> ends a chain).</summary>
    val scale: factor: float -> Optimizer

    /// <summary>Multiplies the updates by <c>−lr(step)</c>, a learning-rate schedule's descent step.</summary>
    val scaleByLearningRate: lr: (int -> float) -> Optimizer

    /// <summary>Multiplies the updates by <c>schedule(step)</c>, sign included.</summary>
    val scaleBySchedule: schedule: (int -> float) -> Optimizer

    /// <summary>Adam's scaling with the default betas and eps.</summary>
    val scaleByAdam: Optimizer

    /// <summary>RMSprop's scaling, <c>u / (√square_avg + eps)</c>, with alpha 0.99 and eps 1e-8.</summary>
    val scaleByRms: Optimizer

    /// <summary>Momentum with PyTorch SGD's first step (the buffer starts as the update).</summary>
    val trace: momentum: float -> Optimizer

    /// <summary>Adds <c>weightDecay · parameters</c> to the updates.</summary>
    val addDecayedWeights: weightDecay: float -> Optimizer

    /// <summary>Scales the updates down to a global norm of at most <paramref name="maxNorm"/>.</summary>
    val clipByGlobalNorm: maxNorm: float -> Optimizer

    /// <summary>The same rate at every step.</summary>
    val constant: lr: float -> (int -> float)

    /// <summary>StepLR: <c>lr · gamma^⌊t / stepSize⌋</c>.</summary>
    val stepDecay: lr: float -> stepSize: int -> gamma: float -> (int -> float)

    /// <summary>CosineAnnealingLR with eta_min 0: <c>lr · (1 + cos(π t / tMax)) / 2</c>.</summary>
    val cosine: lr: float -> tMax: int -> (int -> float)

    /// <summary>LinearLR: from <c>lr · startFactor</c> linearly to lr over <paramref name="totalIters"/> steps.</summary>
    val linearWarmup: lr: float -> startFactor: float -> totalIters: int -> (int -> float)

    /// <summary>
    /// The data-parallel mini-batch loss and gradient (the core's <c>DataParallel.ValueAndGrad</c>): the batch split
    /// into <paramref name="chunks"/> contiguous chunks computed on the machine's cores, each chunk's loss the mean over
    /// its examples, combined in chunk order into the batch's mean, so the result is the same bits on every run.
    /// </summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">chunks below 1 or above the batch's size.</exception>
    /// <example><c>Optim.parallelValueAndGrad 2 (fun chunk p -> loss chunk p) batch p</c></example>
    val inline parallelValueAndGrad<'T, 'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> :
        chunks: int -> loss: (IReadOnlyList<'T> -> 'E -> Expr) -> batch: IReadOnlyList<'T> -> x: ^X -> float * ^X

    /// <summary>
    /// The data-parallel mini-batch loss and gradient from a function that gives one chunk's loss (the mean over the
    /// chunk) and gradient: the form for a compiled gradient with the chunk's data as inputs (one program for every
    /// chunk of a size, see <c>compiledValueAndGrad</c>). The chunks run on the machine's cores and are combined in
    /// chunk order, each weighted by its share of the batch, so the result is the same bits on every run; one chunk
    /// gives the function's own result.
    /// </summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">chunks below 1 or above the batch's size.</exception>
    /// <exception cref="T:Functional.Autodiff.StructureException">A chunk's gradient does not have the parameters' form and shapes.</exception>
    /// <example><c>let vg = compiledValueAndGrad (fun (p, x, y) -> loss p x y) in Optim.parallelChunks 2 (fun c p -> let l, (g, _, _) = vg (p, inputs c, targets c) in l, g) batch p</c></example>
    val parallelChunks: chunks: int -> chunkValueAndGrad: (IReadOnlyList<'T> -> 'X -> float * 'X) -> batch: IReadOnlyList<'T> -> x: 'X -> float * 'X

    /// <summary>
    /// The training run as a lazy scan (the core's <c>Train.Steps</c>): one element per batch of every epoch, with the
    /// loss before the update and the parameters and state after it; <c>valueAndGrad p batch</c> gives the batch's loss and gradient.
    /// </summary>
    val steps:
        optimizer: Optimizer -> valueAndGrad: ('X -> 'B -> float * 'X) -> epochs: seq<#seq<'B>> -> parameters: 'X -> seq<TrainingStep<'X>>

    /// <summary>
    /// The training run as a fold (the core's <c>Train.Fit</c>): the parameters and state after the last batch, every
    /// step reported to <paramref name="progress"/> (epoch, batch, step, loss); nothing is printed.
    /// </summary>
    /// <exception cref="T:System.OperationCanceledException">The token was cancelled (checked before every step); use <c>steps</c> to keep the state so far.</exception>
    /// <exception cref="T:Functional.Autodiff.Training.NonFiniteGradientException">A gradient is not finite: the message names the parameter and the step.</exception>
    val fit:
        optimizer: Optimizer ->
        valueAndGrad: ('X -> 'B -> float * 'X) ->
        epochs: seq<#seq<'B>> ->
        progress: IProgress<TrainingProgress> option ->
        cancellationToken: CancellationToken ->
        parameters: 'X ->
            'X * OptimizerState
