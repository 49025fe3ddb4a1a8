namespace Functional.Autodiff.FSharp

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

    /// <summary>The state before the first update (step 0, buffers at their initial values).</summary>
    val init: optimizer: Optimizer -> parameters: Params -> OptimizerState

    /// <summary>One update: the new parameters and state; nothing given is changed.</summary>
    /// <exception cref="T:System.ArgumentException">The gradients or the state are of other parameters; the message names the first that differs.</exception>
    /// <exception cref="T:Functional.Autodiff.Training.NonFiniteGradientException">A gradient is not finite (unless the optimizer skips such steps).</exception>
    val step: optimizer: Optimizer -> parameters: Params * state: OptimizerState -> gradients: Params -> Params * OptimizerState

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
