/// The F# side of training (issue 13): Optim.step over a record of parameters, the data-parallel gradient,
/// the training fold and scan, evaluation at parameters.
module Functional.Autodiff.FSharp.Tests.TrainingTests

open System
open System.Collections.Generic
open System.Threading
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Training
open Functional.Autodiff.FSharp

type Lin<'T> = { W: 'T; B: 'T }

let private xs = [| [| 1.0; 2.0 |]; [| -1.0; 0.5 |]; [| 0.25; -2.0 |]; [| 3.0; 1.0 |]; [| -0.5; -0.5 |] |]
let private ys = [| 1.0; -1.0; 0.5; 2.0; 0.0 |]
let private examples = Array.zip xs ys :> IReadOnlyList<_>

/// Mean squared error of a linear model on a chunk of (features, target) examples.
let private chunkLoss (chunk: IReadOnlyList<float[] * float>) (l: Lin<Expr>) =
    let x = constant (matrix (chunk |> Seq.map fst))
    let y = constant (vector (chunk |> Seq.map snd))
    meanSquaredError (x *@ l.W + l.B) y

let private p0 = { W = vector [ 0.5; -0.25 ]; B = scalar 0.1 }

let private bitsOf (l: Lin<Value>) =
    Array.append (l.W.ToArray()) (l.B.ToArray()) |> Array.map BitConverter.DoubleToInt64Bits

let ``Optim.step folds over a record of parameters with the numbers of the Params form`` () =
    let opt = Optim.adam 0.1
    let p, s =
        [ 1..10 ] |> List.fold (fun (p, s) _ -> Optim.step opt (p, s) (grad (chunkLoss examples) p)) (p0, Optim.init opt p0)
    let q0 = parameters [ "W", p0.W; "B", p0.B ]
    let q, t =
        [ 1..10 ]
        |> List.fold (fun (q, t) _ -> Optim.step opt (q, t) (grad (fun (v: ParamVars) -> chunkLoss examples { W = v?W; B = v?B }) q)) (q0, Optim.init opt q0)
    Assert.That(bitsOf p, Is.EqualTo(bitsOf { W = q["W"]; B = q["B"] }))
    Assert.That(s, Is.EqualTo t)

let ``parallelValueAndGrad is valueAndGrad of the whole batch: bit for bit with one chunk, to rounding with more`` () =
    let l1, g1 = Optim.parallelValueAndGrad 1 chunkLoss examples p0
    let l, g = valueAndGrad (chunkLoss examples) p0
    Assert.That(BitConverter.DoubleToInt64Bits l1, Is.EqualTo(BitConverter.DoubleToInt64Bits l))
    Assert.That(bitsOf g1, Is.EqualTo(bitsOf g))
    let l2, g2 = Optim.parallelValueAndGrad 2 chunkLoss examples p0
    Assert.That(l2, Is.EqualTo(l).Within(1e-14))
    Assert.That(Array.append (g2.W.ToArray()) (g2.B.ToArray()), Is.EqualTo(Array.append (g.W.ToArray()) (g.B.ToArray())).Within(1e-14))

let ``parallelChunks with a compiled chunk gradient (the data as inputs) is the whole batch's gradient to rounding`` () =
    let vg = compiledValueAndGrad (fun (l: Lin<Expr>, x: Expr, y: Expr) -> meanSquaredError (x *@ l.W + l.B) y)
    let chunkVg (chunk: IReadOnlyList<float[] * float>) (p: Lin<Value>) =
        let l, (g, _, _) = vg (p, matrix (chunk |> Seq.map fst), vector (chunk |> Seq.map snd))
        l, g
    let l, g = valueAndGrad (chunkLoss examples) p0
    let l1, g1 = Optim.parallelChunks 1 chunkVg examples p0
    Assert.That(BitConverter.DoubleToInt64Bits l1, Is.EqualTo(BitConverter.DoubleToInt64Bits l), "one chunk: the compiled whole batch")
    Assert.That(bitsOf g1, Is.EqualTo(bitsOf g))
    let l2, g2 = Optim.parallelChunks 2 chunkVg examples p0
    Assert.That(l2, Is.EqualTo(l).Within(1e-14))
    Assert.That(Array.append (g2.W.ToArray()) (g2.B.ToArray()), Is.EqualTo(Array.append (g.W.ToArray()) (g.B.ToArray())).Within(1e-14))

let ``Optim.fit is the fold and Optim.steps the scan, reporting progress`` () =
    let opt = Optim.adam 0.05
    let vg p (batch: IReadOnlyList<float[] * float>) = valueAndGrad (chunkLoss batch) p
    let batches = DataParallel.Split(examples, 2)
    let epochs = List.replicate 3 batches
    let seen = ResizeArray<TrainingProgress>()
    let progress = { new IProgress<TrainingProgress> with member _.Report r = seen.Add r }
    let p, s = Optim.fit opt vg epochs (Some progress) CancellationToken.None p0
    let steps = Optim.steps opt vg epochs p0 |> List.ofSeq
    Assert.That(s.Step, Is.EqualTo 6)
    Assert.That(seen |> Seq.map (fun r -> r.Step) |> List.ofSeq, Is.EqualTo [ 1..6 ])
    Assert.That(bitsOf (List.last steps).Params, Is.EqualTo(bitsOf p))
    Assert.That(seen[5].Loss, Is.LessThan(seen[1].Loss))

let ``evalAt is the forward value of the model at the parameters`` () =
    let v = evalAt (chunkLoss examples) p0
    Assert.That(v.ToScalar(), Is.EqualTo(fst (valueAndGrad (chunkLoss examples) p0)))
    Assert.That((evalAt (fun (w, b) -> w * 2.0 + b) (3.0, 1.0)).ToScalar(), Is.EqualTo 7.0)

open Expecto

[<Tests>]
let tests =
    testList "TrainingTests" [
        testCase "Optim.step folds over a record of parameters with the numbers of the Params form" ``Optim.step folds over a record of parameters with the numbers of the Params form``
        testCase "parallelValueAndGrad is valueAndGrad of the whole batch: bit for bit with one chunk, to rounding with more" ``parallelValueAndGrad is valueAndGrad of the whole batch: bit for bit with one chunk, to rounding with more``
        testCase "parallelChunks with a compiled chunk gradient (the data as inputs) is the whole batch's gradient to rounding" ``parallelChunks with a compiled chunk gradient (the data as inputs) is the whole batch's gradient to rounding``
        testCase "Optim.fit is the fold and Optim.steps the scan, reporting progress" ``Optim.fit is the fold and Optim.steps the scan, reporting progress``
        testCase "evalAt is the forward value of the model at the parameters" ``evalAt is the forward value of the model at the parameters``
    ]
