/// The F# Optim module: training as List.fold / Seq.scan over steps, the same numbers as the core's optimizers.
module Functional.Autodiff.FSharp.Tests.OptimTests

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Training
open Functional.Autodiff.FSharp

let private p0 =
    parameters [ "w", vector [ 0.5; -0.25 ]; "b", scalar 1.0 ]

let private loss (p: ParamVars) =
    let w = p?w
    sum ((w - 2.0) * (w - 2.0)) + (p?b + 1.0) * (p?b + 1.0)

let private bits (p: Params) =
    p.Entries |> Seq.collect (fun kv -> kv.Value.ToArray()) |> Seq.map BitConverter.DoubleToInt64Bits |> Array.ofSeq

let ``a List.fold with Optim.adam equals the core's Adam step by step`` () =
    let opt = Optim.adam 0.1
    let p, state = [ 1..20 ] |> List.fold (fun (p, s) _ -> Optim.step opt (p, s) (grad loss p)) (p0, Optim.init opt p0)
    let core = Optimizer.Adam(lr = 0.1)
    let mutable q = p0
    let mutable t = core.Init p0
    for _ in 1..20 do
        let struct (q', t') = core.Step(q, AD.Grad(Func<ParamVars, Expr> loss).Invoke q, t)
        q <- q'
        t <- t'
    Assert.That(bits p, Is.EqualTo(bits q))
    Assert.That(state, Is.EqualTo t)
    Assert.That(state.Step, Is.EqualTo 20)

let ``Seq.scan gives the losses of a chained optimizer with a schedule, and they fall`` () =
    let opt =
        Optim.chain [ Optim.clipByGlobalNorm 1.0; Optim.trace 0.9; Optim.scaleByLearningRate (Optim.cosine 0.1 50) ]
    let losses =
        Seq.init 50 id
        |> Seq.scan (fun (p, s) _ -> Optim.step opt (p, s) (grad loss p)) (p0, Optim.init opt p0)
        |> Seq.map (fun (p, _) -> fst (valueAndGrad loss p))
        |> Array.ofSeq
    Assert.That(losses.Length, Is.EqualTo 51)
    Assert.That(losses[50], Is.LessThan(losses[0] / 10.0))

let ``the F# schedules and optimizers are the core's`` () =
    Assert.That([ 0..6 ] |> List.map (Optim.stepDecay 1.0 2 0.5), Is.EqualTo [ 1.0; 1.0; 0.5; 0.5; 0.25; 0.25; 0.125 ])
    Assert.That(Optim.linearWarmup 1.0 0.5 2 1, Is.EqualTo 0.75)
    Assert.That(Optim.constant 0.3 9, Is.EqualTo 0.3)
    Assert.That(string (Optim.sgdMomentum 0.1 0.9), Is.EqualTo(string (Optimizer.Sgd(0.1, momentum = 0.9))))
    Assert.That(string (Optim.adamW 0.1 0.01), Is.EqualTo(string (Optimizer.AdamW 0.1)))
    Assert.Throws<ArgumentOutOfRangeException>(fun () -> Optim.rmsprop nan |> ignore) |> ignore
    let bad = parameters [ "w", vector [ nan; 0.0 ]; "b", scalar 1.0 ]
    let opt = Optim.skipNonFinite (Optim.adagrad 0.1)
    let s0 = Optim.init opt p0
    let p, s = Optim.step opt (p0, s0) bad
    Assert.That(Object.ReferenceEquals(p, p0) && Object.ReferenceEquals(s, s0))
    Assert.Throws<NonFiniteGradientException>(fun () -> Optim.step (Optim.sgd 0.1) (p0, Optim.init (Optim.sgd 0.1) p0) bad |> ignore)
    |> ignore

open Expecto

[<Tests>]
let tests =
    testList "OptimTests" [
        testCase "a List.fold with Optim.adam equals the core's Adam step by step" ``a List.fold with Optim.adam equals the core's Adam step by step``
        testCase "Seq.scan gives the losses of a chained optimizer with a schedule, and they fall" ``Seq.scan gives the losses of a chained optimizer with a schedule, and they fall``
        testCase "the F# schedules and optimizers are the core's" ``the F# schedules and optimizers are the core's``
    ]
