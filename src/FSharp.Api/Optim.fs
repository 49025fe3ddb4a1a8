namespace Functional.Autodiff.FSharp

open System
open Functional.Autodiff
open Functional.Autodiff.Training

[<RequireQualifiedAccess>]
module Optim =

    let init (optimizer: Optimizer) (parameters: Params) = optimizer.Init parameters

    let step (optimizer: Optimizer) (parameters: Params, state: OptimizerState) (gradients: Params) =
        let struct (p, s) = optimizer.Step(parameters, gradients, state)
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
