namespace Functional.Autodiff.FSharp

open System
open System.Collections.Generic
open System.Threading
open Functional.Autodiff
open Functional.Autodiff.Training

[<RequireQualifiedAccess>]
module Optim =

    let init (optimizer: Optimizer) (parameters: 'T) = optimizer.Init<'T> parameters

    let step (optimizer: Optimizer) (parameters: 'T, state: OptimizerState) (gradients: 'T) =
        let struct (p, s) = optimizer.Step<'T>(parameters, gradients, state)
        p, s

    let skipNonFinite (optimizer: Optimizer) =
        optimizer.WithNonFiniteGradients NonFiniteGradients.Skip

    let sgd (lr: float) = Optimizer.Sgd lr
    let sgdMomentum (lr: float) (momentum: float) = Optimizer.Sgd(lr, momentum = momentum)
    let adam (lr: float) = Optimizer.Adam lr
    let adamW (lr: float) (weightDecay: float) = Optimizer.AdamW(lr, weightDecay = weightDecay)
    let rmsprop (lr: float) = Optimizer.RMSprop lr
    let adagrad (lr: float) = Optimizer.Adagrad lr
    let chain (parts: Optimizer list) = Optimizer.Chain(Array.ofList parts)
    let scale (factor: float) = Optimizer.Scale factor
    let scaleByLearningRate (lr: int -> float) = Optimizer.ScaleByLearningRate(Func<int, float> lr)
    let scaleBySchedule (schedule: int -> float) = Optimizer.ScaleBySchedule(Func<int, float> schedule)
    let scaleByAdam = Optimizer.ScaleByAdam()
    let scaleByRms = Optimizer.ScaleByRms()
    let trace (momentum: float) = Optimizer.Trace momentum
    let addDecayedWeights (weightDecay: float) = Optimizer.AddDecayedWeights weightDecay
    let clipByGlobalNorm (maxNorm: float) = Optimizer.ClipByGlobalNorm maxNorm

    let private ofFunc (f: Func<int, float>) = fun t -> f.Invoke t
    let constant (lr: float) = ofFunc (Schedules.Constant lr)
    let stepDecay (lr: float) (stepSize: int) (gamma: float) = ofFunc (Schedules.StepDecay(lr, stepSize, gamma))
    let cosine (lr: float) (tMax: int) = ofFunc (Schedules.Cosine(lr, tMax))
    let linearWarmup (lr: float) (startFactor: float) (totalIters: int) =
        ofFunc (Schedules.LinearWarmup(lr, startFactor, totalIters = totalIters))

    let inline parallelValueAndGrad (chunks: int) (loss: IReadOnlyList<'T> -> 'E -> Expr) (batch: IReadOnlyList<'T>) (x: 'X) : float * 'X =
        if false then ignore (loss batch (Tracing.Invoke x))
        let struct (l, g) =
            DataParallel.ValueAndGrad<'X, 'E, 'T>(Func<IReadOnlyList<'T>, Func<'E, Expr>>(fun chunk -> Func<'E, Expr>(loss chunk)), x, batch, chunks)
        l, g

    /// The data-parallel gradient from a function giving one chunk's loss and gradient (a compiled function with the
    /// chunk's data as inputs, typically): the chunks in parallel, combined in chunk order, each weighted by its share
    /// of the batch (DataParallel.ValueAndGrad with a chunk function).
    let parallelChunks (chunks: int) (chunkValueAndGrad: IReadOnlyList<'T> -> 'X -> float * 'X) (batch: IReadOnlyList<'T>) (x: 'X) : float * 'X =
        let chunk =
            Func<'X, IReadOnlyList<'T>, struct (Value * 'X)>(fun p c -> let l, g = chunkValueAndGrad c p in struct (Value.Scalar l, g))
        let struct (l, g) = DataParallel.ValueAndGrad<'X, 'T>(chunk, x, batch, chunks)
        l, g

    let private toFunc (valueAndGrad: 'X -> 'B -> float * 'X) =
        Func<'X, 'B, struct (float * 'X)>(fun p b -> let l, g = valueAndGrad p b in struct (l, g))

    let steps (optimizer: Optimizer) (valueAndGrad: 'X -> 'B -> float * 'X) (epochs: seq<#seq<'B>>) (parameters: 'X) =
        Train.Steps(optimizer, parameters, toFunc valueAndGrad, Seq.map (fun e -> e :> seq<'B>) epochs)

    let fit
        (optimizer: Optimizer)
        (valueAndGrad: 'X -> 'B -> float * 'X)
        (epochs: seq<#seq<'B>>)
        (progress: IProgress<TrainingProgress> option)
        (cancellationToken: CancellationToken)
        (parameters: 'X)
        =
        let struct (p, s) =
            Train.Fit(optimizer, parameters, toFunc valueAndGrad, Seq.map (fun e -> e :> seq<'B>) epochs, Option.toObj progress, cancellationToken)
        p, s
