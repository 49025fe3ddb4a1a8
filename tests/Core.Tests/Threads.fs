/// Threads: graphs and differentiated functions are immutable values, so eight threads differentiating the same
/// graph or calling the same Func get bit-identical results.
module Functional.Autodiff.Tests.Threads

open System
open System.Threading
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let threadCount = 8
let repeats = 25

let private rng = Random 8080

let private matrix m n =
    T.toValue (T.matrix m n (fun _ _ -> uniform rng -1.0 1.0))

let private vector n =
    T.toValue (T.init (Shape.Vector n) (fun _ -> uniform rng -1.0 1.0))

let inputs = Expr.Const(matrix 6 3)
let labels = [ 0; 1; 1; 0; 1; 0 ]

let start =
    Params.Of(struct ("W1", matrix 3 5), struct ("b1", vector 5), struct ("W2", matrix 5 2), struct ("b2", vector 2))

/// A small two-layer classifier's loss with weight decay.
let loss (p: ParamVars) =
    let hidden = Expr.Tanh(Expr.MatMul(inputs, p["W1"]) + p["b1"])
    let logits = Expr.MatMul(hidden, p["W2"]) + p["b2"]
    Expr.SoftmaxCrossEntropy(logits, labels) + 0.01 * Expr.Sum(Expr.Square p["W1"])

/// Runs work on eight threads started together, each `repeats` times, and returns every result.
let onEightThreads (work: unit -> int64[]) =
    let results = Array.init threadCount (fun _ -> ResizeArray<int64[]>())
    let errors = Collections.Concurrent.ConcurrentQueue<exn>()
    use barrier = new Barrier(threadCount)

    let threads =
        Array.init threadCount (fun t ->
            Thread(fun () ->
                try
                    barrier.SignalAndWait()

                    for _ in 1..repeats do
                        results[t].Add(work ())
                with e ->
                    errors.Enqueue e))

    for th in threads do
        th.Start()

    for th in threads do
        th.Join()

    Assert.That(errors, Is.Empty, "no thread threw")
    results |> Seq.collect id |> List.ofSeq

let valueBits (vs: Value seq) =
    vs |> Seq.collect (fun v -> v.ToArray()) |> Seq.map bits |> Array.ofSeq

let assertAllBitIdentical (baseline: int64[]) (results: int64[] list) =
    Assert.That(results.Length, Is.EqualTo(threadCount * repeats))

    for k, r in List.indexed results do
        if r <> baseline then
            let show (b: int64[]) =
                b |> Array.map (BitConverter.Int64BitsToDouble >> g17) |> String.concat "; "

            Assert.Fail
                $"result {k} differs from the single-threaded one:\n  expected [{show baseline}]\n  actual   [{show r}]"

let ``eight threads differentiating one shared traced graph get bit-identical gradients`` () =
    let vars =
        start.Entries |> Seq.map (fun kv -> Expr.Var(kv.Key, kv.Value) :> Expr) |> Array.ofSeq

    let names = start.Names |> Array.ofSeq
    let p = Map.ofArray (Array.zip names vars)
    let shared = Expr.Tanh(Expr.MatMul(inputs, p["W1"]) + p["b1"])

    let y =
        Expr.SoftmaxCrossEntropy(Expr.MatMul(shared, p["W2"]) + p["b2"], labels)
        + 0.01 * Expr.Sum(Expr.Square p["W1"])

    let gradients () =
        AD.Gradients(y, vars) |> Seq.map (fun g -> g.Value) |> valueBits

    let baseline = gradients ()
    assertAllBitIdentical baseline (onEightThreads gradients)

    // AD.Grad of a function that closes over the shared traced subgraph.
    let grad =
        AD.Grad(Func<Expr, Expr>(fun w -> Expr.Sum(Expr.MatMul(shared, w) * shared[0, 1])))

    let w = matrix 5 4
    let viaGrad () = valueBits [ grad.Invoke w ]
    assertAllBitIdentical (viaGrad ()) (onEightThreads viaGrad)

let ``eight threads calling one shared Grad Func get bit-identical gradients`` () =
    let grad = AD.Grad(Func<ParamVars, Expr> loss)

    let work () =
        valueBits ((grad.Invoke start).Entries |> Seq.map (fun kv -> kv.Value))

    let baseline = work ()
    assertAllBitIdentical baseline (onEightThreads work)
    let vg = AD.ValueAndGrad(Func<ParamVars, Expr> loss)

    let both () =
        let struct (v, g) = vg.Invoke start
        valueBits (Seq.append [ v ] (g.Entries |> Seq.map (fun kv -> kv.Value)))

    assertAllBitIdentical (both ()) (onEightThreads both)

open Expecto

[<Tests>]
let tests =
    testSequenced <| testList "Threads" [
        testCase "eight threads differentiating one shared traced graph get bit-identical gradients" ``eight threads differentiating one shared traced graph get bit-identical gradients``
        testCase "eight threads calling one shared Grad Func get bit-identical gradients" ``eight threads calling one shared Grad Func get bit-identical gradients``
    ]
