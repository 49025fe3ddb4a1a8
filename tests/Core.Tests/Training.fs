/// Training beyond one step (issue 13): optimizers over structured parameters with the numbers of the Params form,
/// the data-parallel mini-batch gradient, the training fold (progress, cancellation, non-finite gradients),
/// evaluation without differentiation and the classification metrics.
module Functional.Autodiff.Tests.Training

open System
open System.Collections.Generic
open System.Text.Json
open System.Threading
open NUnit.Framework
open FsCheck
open Functional.Autodiff
open Functional.Autodiff.Training
open Functional.Autodiff.Tests.Common

/// FsCheck's replay seed for every property here (fixed: a flaky test is a failing test).
[<Literal>]
let Seed = "(20261202,1341)"

/// A linear model as a record: traced as Lin<Expr>.
type Lin<'T> = { W: 'T; B: 'T }

/// Six examples of three features.
let private x = Value.FromRows(Array.init 6 (fun i -> Array.init 3 (fun j -> 2.0 * sin (float (3 * i + j) + 0.5))))

let private y = Value.FromArray(1.0, 0.0, 1.0, 0.0, 1.0, 1.0)
let private w0 = Value.FromArray(0.5, -0.25, 1.0)
let private b0 = Value.Scalar 0.75

let private logistic (w: Expr) (b: Expr) =
    Expr.BinaryCrossEntropyWithLogits(Expr.MatMul(Expr.Const x, w) + b, Expr.Const y) + 0.1 * Expr.Sum(Expr.Square w)

let private paramsGrad = AD.Grad(Func<ParamVars, Expr>(fun p -> logistic p["W"] p["B"]))
let private recordGrad = AD.Grad<Lin<Value>, Lin<Expr>>(Func<Lin<Expr>, Expr>(fun l -> logistic l.W l.B))
let private tupleGrad = AD.Grad<Value * Value, Expr * Expr>(Func<Expr * Expr, Expr>(fun (w, b) -> logistic w b))

let private optimizers =
    [
        "sgd nesterov weight_decay", (fun () -> Optimizer.Sgd(0.1, momentum = 0.9, nesterov = true, weightDecay = 0.05))
        "adam amsgrad", (fun () -> Optimizer.Adam(0.1, amsgrad = true))
        "adamw", (fun () -> Optimizer.AdamW(0.1))
        "rmsprop centered momentum", (fun () -> Optimizer.RMSprop(0.01, momentum = 0.9, centered = true))
        "adagrad lr_decay", (fun () -> Optimizer.Adagrad(0.1, lrDecay = 0.1))
        "clip, adam, cosine", (fun () ->
            Optimizer.Chain(Optimizer.ClipByGlobalNorm 0.5, Optimizer.ScaleByAdam(), Optimizer.ScaleByLearningRate(Schedules.Cosine(0.1, 5))))
    ]
    |> dict

let private optimizerNames = List.ofSeq optimizers.Keys

/// n steps from start: the parameters and the state after each.
let private runN n (opt: Optimizer) (grad: 'T -> 'T) (start: 'T) =
    Seq.unfold
        (fun (p, s) ->
            let struct (p', s') = opt.Step<'T>(p, grad p, s)
            Some((p', s'), (p', s')))
        (start, opt.Init<'T> start)
    |> Seq.take n
    |> List.ofSeq

let private bitsOf (vs: Value seq) = vs |> Seq.collect (fun v -> v.ToArray()) |> Seq.map bits |> Array.ofSeq

let ``a record and a tuple of parameters take the Params form's steps bit for bit, with the same state`` (name: string) =
    let opt = optimizers[name] ()
    let byParams = runN 5 opt paramsGrad.Invoke (Params.Of(struct ("W", w0), struct ("B", b0)))
    let byRecord = runN 5 opt recordGrad.Invoke { W = w0; B = b0 }
    let byTuple = runN 5 opt tupleGrad.Invoke (w0, b0)
    for ((p, s), ((r, t), (u, v))) in List.zip byParams (List.zip byRecord byTuple) do
        Assert.That(bitsOf [ r.W; r.B ], Is.EqualTo(bitsOf [ p["W"]; p["B"] ]), name + ": record")
        Assert.That(bitsOf [ fst u; snd u ], Is.EqualTo(bitsOf [ p["W"]; p["B"] ]), name + ": tuple")
        Assert.That(t, Is.EqualTo s, name + ": the record's state is the Params' state (buffers named by the leaf paths)")
        Assert.That(v.Step, Is.EqualTo s.Step)
        Assert.That(v.Buffers.Values |> Seq.collect (fun b -> b.Names) |> Seq.distinct |> List.ofSeq, Is.EqualTo [ "[0]"; "[1]" ])

let ``a generic step on Params is the Params step, and a list of layers and a lone vector are parameters too`` () =
    let opt = Optimizer.Adam(0.05)
    let p0 = Params.Of(struct ("W", w0), struct ("B", b0))
    let direct = runN 3 opt paramsGrad.Invoke p0
    let generic = runN 3 opt (fun p -> paramsGrad.Invoke p) p0
    for ((p, s), (q, t)) in List.zip direct generic do
        Assert.That(bitsOf [ q["W"]; q["B"] ], Is.EqualTo(bitsOf [ p["W"]; p["B"] ]))
        Assert.That(t, Is.EqualTo s)
    // A list of records: paths [0].W, [0].B, [1].W, [1].B.
    let layers = [ { W = w0; B = b0 }; { W = 2.0 * w0; B = b0 } ]
    let g (ls: Lin<Value> list) = ls |> List.map recordGrad.Invoke
    let (last, state) = runN 2 opt g layers |> List.last
    Assert.That(state.Buffers["0.exp_avg"].Names, Is.EqualTo [ "[0].W"; "[0].B"; "[1].W"; "[1].B" ])
    Assert.That(bitsOf [ last[0].W ], Is.EqualTo(bitsOf [ (fst (List.last (runN 2 opt recordGrad.Invoke layers[0]))).W ]))
    // A single vector: its one leaf is named x.
    let v0 = Value.FromArray(1.0, -2.0)
    let (v2, s2) = runN 2 (Optimizer.Sgd(0.5)) (fun (v: Value) -> 2.0 * v) v0 |> List.last
    Assert.That(v2.ToArray(), Is.EqualTo [| 0.0; -0.0 |])
    Assert.That(s2.Step, Is.EqualTo 2)
    Assert.That((Optimizer.Adam().Init v0).Buffers["0.exp_avg"].Names, Is.EqualTo [ "x" ])

let ``the state of a record saves as JSON and the run continues from it bit for bit`` () =
    let opt = Optimizer.Adam(0.1, amsgrad = true)
    let steps = runN 3 opt recordGrad.Invoke { W = w0; B = b0 }
    let (p2, s2) = steps[1]
    let back =
        match JsonSerializer.Deserialize<OptimizerState>(JsonSerializer.Serialize s2) with
        | null -> failwith "null state"
        | b -> b
    Assert.That(back, Is.EqualTo s2)
    let struct (p3, s3) = opt.Step(p2, recordGrad.Invoke p2, back)
    Assert.That(bitsOf [ p3.W; p3.B ], Is.EqualTo(bitsOf [ (fst steps[2]).W; (fst steps[2]).B ]))
    Assert.That(s3, Is.EqualTo(snd steps[2]))

let ``a state or gradients of other parameters name the first leaf path that differs`` () =
    let opt = Optimizer.Adam()
    let p = { W = w0; B = b0 }
    let g = recordGrad.Invoke p
    let e = throws<ArgumentException> (fun () -> opt.Step(p, g, opt.Init { W = Value.FromArray(1.0, 2.0); B = b0 }) |> ignore)
    Assert.That(e.Message, Does.Contain("parameter 'W' is vector(3)").And.Contain("vector(2)").And.Contain("Training.fs:"))
    let e = throws<ArgumentException> (fun () -> opt.Step(p, g, opt.Init(Params.Of(struct ("W", w0), struct ("bias", b0)))) |> ignore)
    Assert.That(e.Message, Does.Contain("'bias'").And.Contain("'B'"))
    let layers = [ p; p ]
    let e = throws<StructureException> (fun () -> opt.Step(layers, [ g ], opt.Init layers) |> ignore)
    Assert.That(e.Message, Does.Contain "gradient")
    let e = throws<StructureException> (fun () -> opt.Step(layers, [ g; { g with B = w0 } ], opt.Init layers) |> ignore)
    Assert.That(e.Path, Is.EqualTo "[1].B")
    Assert.That(e.Message, Does.Contain("[1].B").And.Contain("Training.fs:"))

let ``a non-finite gradient of a record names its leaf path and the step, or is skipped by option`` () =
    let opt = Optimizer.Sgd(0.1, momentum = 0.9)
    let p = { W = w0; B = b0 }
    let struct (p1, s1) = opt.Step(p, recordGrad.Invoke p, opt.Init p)
    let bad = { W = Value.FromArray(0.0, 1.0, nan); B = Value.Scalar 1.0 }
    let e = throws<NonFiniteGradientException> (fun () -> opt.Step(p1, bad, s1) |> ignore)
    Assert.That((e.Parameter, e.Step), Is.EqualTo(("W", 1)))
    Assert.That(e.Message, Does.Contain("parameter 'W'").And.Contain("at step 1"))
    let struct (p2, s2) = (opt.WithNonFiniteGradients NonFiniteGradients.Skip).Step(p1, bad, s1)
    Assert.That(Object.ReferenceEquals(s2, s1) && bitsOf [ p2.W ] = bitsOf [ p1.W ])

// ------------------------------------------------------------------ data-parallel mini-batch gradients

/// An example: features and a class.
type Example = { Features: float[]; Label: int }

let private mlpLoss (chunk: IReadOnlyList<Example>) =
    let inputs = Expr.Const(Value.FromRows(chunk |> Seq.map (fun e -> e.Features) |> Array.ofSeq))
    let labels = chunk |> Seq.map (fun e -> e.Label) |> Array.ofSeq
    Func<ParamVars, Expr>(fun p ->
        let h = Expr.Tanh(Expr.MatMul(inputs, p["W1"]) + p["b1"])
        Expr.SoftmaxCrossEntropy(Expr.MatMul(h, p["W2"]) + p["b2"], labels))

let private randomMlp (rng: Random) =
    let m r c = T.toValue (T.matrix r c (fun _ _ -> uniform rng -1.0 1.0))
    let v n = T.toValue (T.init (Shape.Vector n) (fun _ -> uniform rng -0.5 0.5))
    Params.Of(struct ("W1", m 4 5), struct ("b1", v 5), struct ("W2", m 5 3), struct ("b2", v 3))

let private randomBatch (rng: Random) n =
    Array.init n (fun _ -> { Features = Array.init 4 (fun _ -> uniform rng -2.0 2.0); Label = rng.Next 3 }) :> IReadOnlyList<_>

/// Every element within tol, absolute and relative.
let private closeAll (tol: float) (actual: float[]) (expected: float[]) =
    Array.iteri2 (fun k (a: float) (b: float) -> if abs (a - b) > tol * (1.0 + abs b) then Assert.Fail(sprintf "element %d: %s, expected %s" k (g17 a) (g17 b))) actual expected

let private flat (p: Params) = p.Entries |> Seq.collect (fun kv -> kv.Value.ToArray()) |> Array.ofSeq

let ``the data-parallel gradient is the sequential sum of the chunks' gradients bit for bit, and the whole batch's to rounding`` (DoNotSize seed) =
    let rng = Random(seed)
    let n = 1 + rng.Next 40
    let chunks = 1 + rng.Next(min n 6)
    let p = randomMlp rng
    let batch = randomBatch rng n
    let loss = Func<IReadOnlyList<Example>, Func<ParamVars, Expr>> mlpLoss
    let struct (l, g) = DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, batch, chunks)
    // The sequential sum, in chunk order, of each chunk's loss times its share of the batch.
    let parts = DataParallel.Split(batch, chunks)
    Assert.That(parts |> Seq.map (fun c -> c.Count) |> Seq.sum, Is.EqualTo n)
    Assert.That(parts |> Seq.collect id |> Array.ofSeq, Is.EqualTo(Array.ofSeq batch))
    let weighted (c: IReadOnlyList<Example>) =
        let w = float c.Count / float n
        if w = 1.0 then mlpLoss c else Func<ParamVars, Expr>(fun p -> (mlpLoss c).Invoke p * w)
    let each = parts |> Seq.map (fun c -> AD.ValueAndGrad(weighted c).Invoke p) |> List.ofSeq
    let seqLoss = each |> List.map (fun (struct (v, _)) -> v.ToScalar()) |> List.reduce (+)
    let seqGrad = each |> List.map (fun (struct (_, g)) -> g) |> List.reduce (+)
    Assert.That(bits l, Is.EqualTo(bits seqLoss), "loss")
    Assert.That(flat g |> Array.map bits, Is.EqualTo(flat seqGrad |> Array.map bits), "gradient")
    // The whole batch at once: the same to rounding.
    let struct (wl, wg) = AD.ValueAndGrad(mlpLoss batch).Invoke p
    Assert.That(l, Is.EqualTo(wl.ToScalar()).Within(1e-12 * abs (wl.ToScalar())))
    closeAll 1e-11 (flat g) (flat wg)
    // Run to run: the same bits.
    let struct (l2, g2) = DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, batch, chunks)
    Assert.That(bits l2, Is.EqualTo(bits l))
    Assert.That(flat g2 |> Array.map bits, Is.EqualTo(flat g |> Array.map bits))

let ``one chunk is the whole batch's gradient bit for bit, and the sum reduction adds the chunks`` () =
    let rng = Random 7
    let p = randomMlp rng
    let batch = randomBatch rng 10
    let loss = Func<IReadOnlyList<Example>, Func<ParamVars, Expr>> mlpLoss
    let struct (l1, g1) = DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, batch, 1)
    let struct (wl, wg) = AD.ValueAndGrad(mlpLoss batch).Invoke p
    Assert.That(bits l1, Is.EqualTo(bits (wl.ToScalar())))
    Assert.That(flat g1 |> Array.map bits, Is.EqualTo(flat wg |> Array.map bits))
    let struct (ls, gs) = DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, batch, 2, LossReduction.Sum)
    let halves = DataParallel.Split(batch, 2) |> Seq.map (fun c -> AD.ValueAndGrad(mlpLoss c).Invoke p) |> Array.ofSeq
    let struct (a, ga), struct (b, gb) = halves[0], halves[1]
    Assert.That(bits ls, Is.EqualTo(bits (a.ToScalar() + b.ToScalar())))
    Assert.That(flat gs |> Array.map bits, Is.EqualTo(flat (ga + gb) |> Array.map bits))

let ``the data-parallel gradient refuses bad chunk counts, an empty batch and a wrong traced type`` () =
    let p = randomMlp (Random 1)
    let batch = randomBatch (Random 2) 4
    let loss = Func<IReadOnlyList<Example>, Func<ParamVars, Expr>> mlpLoss
    for chunks in [ 0; 5 ] do
        let e = throws<ArgumentOutOfRangeException> (fun () -> DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, batch, chunks) |> ignore)
        Assert.That(e.Message, Does.Contain(sprintf "%d chunks for a batch of 4 examples; give 1 to 4" chunks).And.Contain("Training.fs:"))
    let e = throws<ArgumentException> (fun () -> DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, [||], 1) |> ignore)
    Assert.That(e.Message, Does.Contain "the batch is empty")
    let bad = Func<IReadOnlyList<Example>, Func<Expr, Expr>>(fun _ -> Func<Expr, Expr> id)
    throws<StructureException> (fun () -> DataParallel.ValueAndGrad<Params, Expr, Example>(bad, p, batch, 1) |> ignore) |> ignore

let ``a cancelled token stops the data-parallel gradient`` () =
    use cts = new CancellationTokenSource()
    cts.Cancel()
    let loss = Func<IReadOnlyList<Example>, Func<ParamVars, Expr>> mlpLoss
    Assert.Throws<OperationCanceledException>(fun () ->
        DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, randomMlp (Random 1), randomBatch (Random 2) 4, 2, cancellationToken = cts.Token) |> ignore)
    |> ignore

// ------------------------------------------------------------------ data-parallel with a compiled chunk gradient

/// The MLP's loss with the chunk's inputs and classes as graphs: inputs of a compiled function.
let private mlpLossOf (p: ParamVars) (x: Expr) (classes: Expr) =
    let h = Expr.Tanh(Expr.MatMul(x, p["W1"]) + p["b1"])
    Expr.SoftmaxCrossEntropy(Expr.MatMul(h, p["W2"]) + p["b2"], classes)

let private inputsOf (chunk: IReadOnlyList<Example>) = Value.FromRows(chunk |> Seq.map (fun e -> e.Features) |> Array.ofSeq)
let private classesOf (chunk: IReadOnlyList<Example>) = Value.FromArray(chunk |> Seq.map (fun e -> float e.Label) |> Array.ofSeq)

/// One compiled function for every chunk: the data are inputs, the gradient is by the parameters only.
let private compiledChunk () =
    let vg =
        Compiled.ValueAndGrad<struct (Params * Value * Value), struct (ParamVars * Expr * Expr)>(
            Func<_, _>(fun (struct (p, x, y)) -> mlpLossOf p x y), Wrt.Args 0)
    Func<Params, IReadOnlyList<Example>, struct (Value * Params)>(fun p chunk ->
        let struct (l, struct (g, _, _)) = vg.Invoke(struct (p, inputsOf chunk, classesOf chunk))
        struct (l, g))

let ``a compiled chunk gradient with the data as inputs gives the weighted sum of its chunks bit for bit, and the graph path's numbers to rounding`` (DoNotSize seed) =
    let rng = Random(seed)
    let n = 1 + rng.Next 40
    let chunks = 1 + rng.Next(min n 6)
    let p = randomMlp rng
    let batch = randomBatch rng n
    let chunk = compiledChunk ()
    let struct (l, g) = DataParallel.ValueAndGrad<Params, Example>(chunk, p, batch, chunks)
    // The compiled chunk's gradient is the uncompiled one with the data as constants, bit for bit.
    let parts = DataParallel.Split(batch, chunks)
    let each = parts |> Seq.map (fun c -> chunk.Invoke(p, c)) |> Array.ofSeq
    for c, struct (cl, cg) in Seq.zip parts each do
        let struct (ul, ug) = AD.ValueAndGrad(mlpLoss c).Invoke p
        Assert.That(bits (cl.ToScalar()), Is.EqualTo(bits (ul.ToScalar())), "a chunk's loss, compiled")
        Assert.That(flat cg |> Array.map bits, Is.EqualTo(flat ug |> Array.map bits), "a chunk's gradient, compiled")
    // Σ wₖ·gₖ in chunk order, element by element, with wₖ = nₖ / n (a weight of 1 multiplies nothing).
    let weight k = float parts[k].Count / float n
    let weigh k (x: float) = if weight k = 1.0 then x else weight k * x
    let expectedLoss = each |> Array.mapi (fun k (struct (v, _)) -> weigh k (v.ToScalar())) |> Array.reduce (+)
    let expectedGrad =
        each |> Array.mapi (fun k (struct (_, g)) -> flat g |> Array.map (weigh k)) |> Array.reduce (Array.map2 (+))
    Assert.That(bits l, Is.EqualTo(bits expectedLoss), "loss")
    Assert.That(flat g |> Array.map bits, Is.EqualTo(expectedGrad |> Array.map bits), "gradient")
    // The graph path (the weight applied in each chunk's graph): the same numbers to rounding.
    let loss = Func<IReadOnlyList<Example>, Func<ParamVars, Expr>> mlpLoss
    let struct (gl, gg) = DataParallel.ValueAndGrad<Params, ParamVars, Example>(loss, p, batch, chunks)
    Assert.That(l, Is.EqualTo(gl).Within(1e-12 * (1.0 + abs gl)))
    closeAll 1e-11 (flat g) (flat gg)
    // Run to run: the same bits.
    let struct (l2, g2) = DataParallel.ValueAndGrad<Params, Example>(chunk, p, batch, chunks)
    Assert.That(bits l2, Is.EqualTo(bits l))
    Assert.That(flat g2 |> Array.map bits, Is.EqualTo(flat g |> Array.map bits))

let ``a chunk gradient function: one chunk is its own result, the sum reduction adds, and bad results are refused`` () =
    let rng = Random 11
    let p = randomMlp rng
    let batch = randomBatch rng 10
    let chunk = compiledChunk ()
    let struct (l1, g1) = DataParallel.ValueAndGrad<Params, Example>(chunk, p, batch, 1)
    let struct (wl, wg) = chunk.Invoke(p, batch)
    Assert.That(bits l1, Is.EqualTo(bits (wl.ToScalar())))
    Assert.That(flat g1 |> Array.map bits, Is.EqualTo(flat wg |> Array.map bits))
    let struct (ls, gs) = DataParallel.ValueAndGrad<Params, Example>(chunk, p, batch, 2, LossReduction.Sum)
    let halves = DataParallel.Split(batch, 2) |> Seq.map (fun c -> chunk.Invoke(p, c)) |> Array.ofSeq
    let struct (a, ga), struct (b, gb) = halves[0], halves[1]
    Assert.That(bits ls, Is.EqualTo(bits (a.ToScalar() + b.ToScalar())))
    Assert.That(flat gs |> Array.map bits, Is.EqualTo(flat (ga + gb) |> Array.map bits))
    // A leaf large enough to be summed in blocks over the cores: every element as the sequential sum, bit for bit.
    let big = Params.Of(struct ("W", Value.FromRowMajor(300, 301, ReadOnlySpan(Array.zeroCreate<float> (300 * 301)))), struct ("b", Value.Scalar 0.0))
    let termOf (chunk: IReadOnlyList<Example>) k = sin (float (k + 1) * (chunk[0].Features[0] + 0.25)) * 1e3
    let bigChunk = Func<Params, IReadOnlyList<Example>, struct (Value * Params)>(fun _ chunk ->
        struct (Value.Scalar(chunk[0].Features[1]), Params.Of(struct ("W", Value.FromRowMajor(300, 301, ReadOnlySpan(Array.init (300 * 301) (termOf chunk)))), struct ("b", Value.Scalar(termOf chunk 7)))))
    let bigBatch = randomBatch rng 7
    let struct (_, gBig) = DataParallel.ValueAndGrad<Params, Example>(bigChunk, big, bigBatch, 3)
    let parts = DataParallel.Split(bigBatch, 3)
    let expected k = parts |> Seq.mapi (fun i c -> float c.Count / 7.0 * termOf c k) |> Seq.reduce (+)
    Assert.That(gBig["W"].ToRowMajorArray() |> Array.map bits, Is.EqualTo(Array.init (300 * 301) (fun k -> bits (expected k))), "a large leaf summed in blocks")
    Assert.That(bits (gBig["b"].ToScalar()), Is.EqualTo(bits (expected 7)))
    // A gradient of other shapes names the leaf; a loss that is not a scalar is refused.
    let wrongShape = Func<Params, IReadOnlyList<Example>, struct (Value * Params)>(fun p _ ->
        struct (Value.Scalar 1.0, p.Map(fun name v -> if name = "b2" then Value.FromArray(1.0, 2.0) else v)))
    let e = throws<StructureException> (fun () -> DataParallel.ValueAndGrad<Params, Example>(wrongShape, p, batch, 2) |> ignore)
    Assert.That(e.Message, Does.Contain "b2")
    let notScalar = Func<Params, IReadOnlyList<Example>, struct (Value * Params)>(fun p _ -> struct (Value.FromArray(1.0, 2.0), p))
    throws<NonScalarOutputException> (fun () -> DataParallel.ValueAndGrad<Params, Example>(notScalar, p, batch, 2) |> ignore) |> ignore
    throws<ArgumentOutOfRangeException> (fun () -> DataParallel.ValueAndGrad<Params, Example>(chunk, p, batch, 11) |> ignore) |> ignore

let ``a compiled gradient by the parameters allocates no zeros for the data it leaves alone`` () =
    let rng = Random 5
    let w = Value.FromArray(0.5, -0.25, 1.0, 0.125)
    let x = Value.FromRows(Array.init 4000 (fun _ -> Array.init 4 (fun _ -> uniform rng -1.0 1.0)))   // 128 KB
    let vg =
        Compiled.ValueAndGrad<struct (Value * Value), struct (Expr * Expr)>(
            Func<_, _>(fun (struct (w, x)) -> Expr.Sum(Expr.Tanh(Expr.MatMul(x, w)))), Wrt.Args 0)
    let struct (_, struct (_, gx)) = vg.Invoke(struct (w, x))
    Assert.That(gx.Shape, Is.EqualTo x.Shape)
    Assert.That(gx.ToArray() |> Array.forall (fun v -> v = 0.0), "zeros for the data")
    let struct (_, struct (_, gx2)) = vg.Invoke(struct (w, x))
    Assert.That(Object.ReferenceEquals(gx.Storage, gx2.Storage), "the zeros are made once per program and shared")
    let allocated = bytesAllocatedBy (fun () -> vg.Invoke(struct (w, x)) |> ignore)
    Assert.That(allocated, Is.LessThan 4096L, "bytes allocated by one call (the data are 128 KB)")

// ------------------------------------------------------------------ data-parallel with a compiled gradient of (parameters, chunk data)

type private PairIn = (struct (Params * struct (Value * Value)))
type private PairTraced = (struct (ParamVars * struct (Expr * Expr)))

let private pairLoss = Func<PairTraced, Expr>(fun (struct (p, struct (x, y))) -> mlpLossOf p x y)
let private dataOf = Func<IReadOnlyList<Example>, struct (Value * Value)>(fun c -> struct (inputsOf c, classesOf c))

let ``a compiled gradient of (parameters, chunk data) sums the chunks from its buffers with the chunk function's bits`` (DoNotSize seed) =
    let rng = Random(seed)
    let n = 1 + rng.Next 40
    let chunks = 1 + rng.Next(min n 6)
    let p = randomMlp rng
    let batch = randomBatch rng n
    for reduction in [ LossReduction.Mean; LossReduction.Sum ] do
        // The chunk-function form, whose bits the tests above pin to the sequential sum of the chunks.
        let struct (el, eg) = DataParallel.ValueAndGrad<Params, Example>(compiledChunk (), p, batch, chunks, reduction)
        let check what (struct (l: float, g: Params)) =
            Assert.That(bits l, Is.EqualTo(bits el), $"{what}, {reduction}, {chunks} of {n}: loss")
            Assert.That(flat g |> Array.map bits, Is.EqualTo(flat eg |> Array.map bits), $"{what}, {reduction}, {chunks} of {n}: gradient")
        let byParams = Compiled.ValueAndGrad<PairIn, PairTraced>(pairLoss, Wrt.Args 0)
        // Twice: the second call runs in the frames the first handed back.
        for _ in 1..2 do
            check "compiled, by the parameters" (DataParallel.ValueAndGrad(byParams, p, dataOf, batch, chunks, reduction))
        check "compiled, by the data too" (DataParallel.ValueAndGrad(Compiled.ValueAndGrad<PairIn, PairTraced>(pairLoss), p, dataOf, batch, chunks, reduction))
        // Any other function of that type is called once per chunk, with the same result.
        check "uncompiled" (DataParallel.ValueAndGrad(AD.ValueAndGrad<PairIn, PairTraced>(pairLoss, Wrt.Args 0), p, dataOf, batch, chunks, reduction))

let ``a compiled gradient of (parameters, chunk data): parameters it is not differentiated by get zeros, errors are the chunk's own`` () =
    let rng = Random 13
    let p = randomMlp rng
    let batch = randomBatch rng 9
    // Differentiated by the data only: the loss is the same, the parameters' gradients are zeros of their shapes.
    let byData = Compiled.ValueAndGrad<PairIn, PairTraced>(pairLoss, Wrt.Args 1)
    let struct (l, g) = DataParallel.ValueAndGrad(byData, p, dataOf, batch, 3)
    let struct (el, eg) = DataParallel.ValueAndGrad<Params, Example>(compiledChunk (), p, batch, 3)
    Assert.That(bits l, Is.EqualTo(bits el))
    for name in [ "W1"; "b1"; "W2"; "b2" ] do
        Assert.That(g[name].Shape, Is.EqualTo p[name].Shape)
        Assert.That(g[name].ToArray() |> Array.forall (fun v -> v = 0.0), $"zeros for {name}")
    // A loss that is not a scalar, and data of the wrong width, fail as the sequential call fails.
    let notScalar = Compiled.ValueAndGrad<PairIn, PairTraced>(Func<PairTraced, Expr>(fun (struct (p, struct (x, _))) -> Expr.MatMul(x, p["W1"])), Wrt.Args 0)
    throws<NonScalarOutputException> (fun () -> DataParallel.ValueAndGrad(notScalar, p, dataOf, batch, 2) |> ignore) |> ignore
    let wide = Func<IReadOnlyList<Example>, struct (Value * Value)>(fun c -> struct (Value.FromRows(c |> Seq.map (fun e -> Array.append e.Features [| 1.0 |]) |> Array.ofSeq), classesOf c))
    let byParams = Compiled.ValueAndGrad<PairIn, PairTraced>(pairLoss, Wrt.Args 0)
    throws<ShapeMismatchException> (fun () -> DataParallel.ValueAndGrad(byParams, p, wide, batch, 2) |> ignore) |> ignore
    // The frames went back despite the failures: the next call gives the same bits as before.
    let struct (l2, g2) = DataParallel.ValueAndGrad(byParams, p, dataOf, batch, 3)
    Assert.That(bits l2, Is.EqualTo(bits el))
    Assert.That(flat g2 |> Array.map bits, Is.EqualTo(flat eg |> Array.map bits))
    use cts = new CancellationTokenSource()
    cts.Cancel()
    Assert.Throws<OperationCanceledException>(fun () -> DataParallel.ValueAndGrad(byParams, p, dataOf, batch, 2, cancellationToken = cts.Token) |> ignore) |> ignore

let ``four threads sharing one compiled gradient of (parameters, chunk data) get the same bits`` () =
    let rng = Random 17
    let p = randomMlp rng
    let batch = randomBatch rng 30
    let byParams = Compiled.ValueAndGrad<PairIn, PairTraced>(pairLoss, Wrt.Args 0)
    let struct (el, eg) = DataParallel.ValueAndGrad<Params, Example>(compiledChunk (), p, batch, 3)
    let runs =
        Array.init 4 (fun _ -> Tasks.Task.Run(fun () -> Array.init 20 (fun _ -> DataParallel.ValueAndGrad(byParams, p, dataOf, batch, 3))))
        |> Array.collect (fun t -> t.Result)
    for struct (l, g) in runs do
        Assert.That(bits l, Is.EqualTo(bits el))
        Assert.That(flat g |> Array.map bits, Is.EqualTo(flat eg |> Array.map bits))

let ``a compiled gradient of (parameters, chunk data) allocates the sum, not a gradient per chunk`` () =
    // W1 of 40×300 (96 KB: on the large-object heap, as a real layer's gradient is); the chunks' data are small.
    let rng = Random 19
    let m r c = Value.FromRowMajor(r, c, ReadOnlySpan(Array.init (r * c) (fun _ -> uniform rng -0.2 0.2)))
    let p = Params.Of(struct ("W1", m 40 300), struct ("b1", Value.FromArray(Array.zeroCreate<float> 300)), struct ("W2", m 300 3), struct ("b2", Value.FromArray(0.0, 0.0, 0.0)))
    let batch = Array.init 8 (fun _ -> { Features = Array.init 40 (fun _ -> uniform rng -1.0 1.0); Label = rng.Next 3 }) :> IReadOnlyList<_>
    let byParams = Compiled.ValueAndGrad<PairIn, PairTraced>(pairLoss, Wrt.Args 0)
    let chunk = compiledChunk ()
    let allBytes (f: unit -> unit) =
        // Both chunks' threads: the process's count (this test runs alone).
        for _ in 1..5 do f ()
        Array.init 5 (fun _ ->
            let before = GC.GetTotalAllocatedBytes true
            f ()
            GC.GetTotalAllocatedBytes true - before) |> Array.min
    let pair = allBytes (fun () -> DataParallel.ValueAndGrad(byParams, p, dataOf, batch, 2) |> ignore)
    let perChunk = allBytes (fun () -> DataParallel.ValueAndGrad<Params, Example>(chunk, p, batch, 2) |> ignore)
    let gradient = 8L * int64 (40 * 300 + 300 + 300 * 3 + 3)
    // The chunk-function form allocates each chunk's gradient and the sum; this form the sum (and the chunks' data).
    Assert.That(pair, Is.LessThan(gradient + gradient / 4L), $"bytes of one call: {pair}, a gradient is {gradient}")
    Assert.That(perChunk - pair, Is.GreaterThan(2L * gradient - gradient / 4L), $"bytes saved: {perChunk - pair}")

let ``softmax cross-entropy against classes given as a graph is the integer overload's, and checks the classes when it runs`` () =
    let rng = Random 3
    let z = T.toValue (T.matrix 5 4 (fun _ _ -> uniform rng -2.0 2.0))
    let labels = [| 0; 3; 1; 1; 2 |]
    let classes = Value.FromArray(labels |> Array.map float)
    let struct (v1, g1) = AD.ValueAndGrad(Func<Expr, Expr>(fun z -> Expr.SoftmaxCrossEntropy(z, labels))).Invoke z
    let struct (v2, g2) = AD.ValueAndGrad(Func<Expr, Expr>(fun z -> Expr.SoftmaxCrossEntropy(z, Expr.Const classes))).Invoke z
    Assert.That(bits (v2.ToScalar()), Is.EqualTo(bits (v1.ToScalar())))
    Assert.That(g2.ToArray() |> Array.map bits, Is.EqualTo(g1.ToArray() |> Array.map bits))
    let cvg = Compiled.ValueAndGrad<struct (Value * Value), struct (Expr * Expr)>(Func<_, _>(fun (struct (z, c)) -> Expr.SoftmaxCrossEntropy(z, c)), Wrt.Args 0)
    let struct (v3, struct (g3, _)) = cvg.Invoke(struct (z, classes))
    Assert.That(bits (v3.ToScalar()), Is.EqualTo(bits (v1.ToScalar())), "compiled, classes an input")
    Assert.That(g3.ToArray() |> Array.map bits, Is.EqualTo(g1.ToArray() |> Array.map bits))
    let e = throws<ArgumentOutOfRangeException> (fun () -> cvg.Invoke(struct (z, Value.FromArray(0.0, 3.0, 4.0, 1.0, 2.0))) |> ignore)
    Assert.That(e.Message, Does.Contain("label 4 of row 2").And.Contain("valid: the whole numbers 0 to 3"))
    let e = throws<ArgumentOutOfRangeException> (fun () -> cvg.Invoke(struct (z, Value.FromArray(0.0, 3.0, 1.5, 1.0, 2.0))) |> ignore)
    Assert.That(e.Message, Does.Contain("label 1.5 of row 2"))
    throws<ShapeMismatchException> (fun () -> Expr.SoftmaxCrossEntropy(Expr.Const z, Expr.Const(Value.FromArray(0.0, 1.0))) |> ignore) |> ignore

// ------------------------------------------------------------------ the training fold

/// Collects reports synchronously (Progress<T> would post them to the thread pool).
type private Recorder() =
    let seen = ResizeArray<TrainingProgress>()
    member _.Seen = List.ofSeq seen
    interface IProgress<TrainingProgress> with
        member _.Report p = seen.Add p

let private epochs (batches: 'B list) n : IEnumerable<IEnumerable<'B>> = Seq.init n (fun _ -> Seq.ofList batches)

let private batches = [ for k in 0..2 -> randomBatch (Random(10 + k)) 5 ]

let private mlpFn = Func<IReadOnlyList<Example>, Func<ParamVars, Expr>> mlpLoss

let ``Fit is the fold of optimizer steps over epochs of batches and reports every step`` () =
    let p0 = randomMlp (Random 3)
    let opt = Optimizer.Adam(0.05)
    let recorder = Recorder()
    let struct (p, s) = Train.Fit<Params, ParamVars, IReadOnlyList<Example>>(opt, p0, mlpFn, epochs batches 2, recorder)
    // By hand: the same fold.
    let mutable q = p0
    let mutable t = opt.Init p0
    let losses = ResizeArray()
    for _ in 1..2 do
        for b in batches do
            let struct (l, g) = AD.ValueAndGrad(mlpLoss b).Invoke q
            losses.Add(l.ToScalar())
            let struct (q', t') = opt.Step(q, g, t)
            q <- q'
            t <- t'
    Assert.That(flat p |> Array.map bits, Is.EqualTo(flat q |> Array.map bits))
    Assert.That(s, Is.EqualTo t)
    Assert.That(s.Step, Is.EqualTo 6)
    let seen = recorder.Seen
    Assert.That(seen |> List.map (fun r -> r.Epoch, r.Batch, r.Step), Is.EqualTo [ 0, 0, 1; 0, 1, 2; 0, 2, 3; 1, 0, 4; 1, 1, 5; 1, 2, 6 ])
    Assert.That(seen |> List.map (fun r -> bits r.Loss), Is.EqualTo(losses |> Seq.map bits |> List.ofSeq))
    // Steps is the scan: its last element is Fit's result; it continues from a given state.
    let steps = Train.Steps<Params, ParamVars, IReadOnlyList<Example>>(opt, p0, mlpFn, epochs batches 2) |> List.ofSeq
    Assert.That(steps.Length, Is.EqualTo 6)
    Assert.That(flat (List.last steps).Params |> Array.map bits, Is.EqualTo(flat p |> Array.map bits))
    let third = steps[2]
    let struct (p', s') = Train.Fit<Params, ParamVars, IReadOnlyList<Example>>(opt, third.Params, mlpFn, epochs batches 1, state = third.State)
    Assert.That(s', Is.EqualTo s)
    Assert.That(flat p' |> Array.map bits, Is.EqualTo(flat p |> Array.map bits))

let ``Fit with the data-parallel gradient gives the same run to rounding, and a record of parameters the same bits as Params`` () =
    let p0 = randomMlp (Random 4)
    let opt = Optimizer.Adam(0.05)
    let parallelGrad =
        Func<Params, IReadOnlyList<Example>, struct (float * Params)>(fun p b ->
            DataParallel.ValueAndGrad<Params, ParamVars, Example>(mlpFn, p, b, 2))
    let struct (p, _) = Train.Fit(opt, p0, parallelGrad, epochs batches 2)
    let struct (q, _) = Train.Fit<Params, ParamVars, IReadOnlyList<Example>>(opt, p0, mlpFn, epochs batches 2)
    closeAll 1e-9 (flat p) (flat q)

let ``a cancelled run throws OperationCanceledException before the next step; Steps keeps what was done`` () =
    use cts = new CancellationTokenSource()
    let opt = Optimizer.Sgd(0.1)
    let stopper =
        { new IProgress<TrainingProgress> with
            member _.Report p = if p.Step = 2 then cts.Cancel() }
    Assert.Throws<OperationCanceledException>(fun () ->
        Train.Fit<Params, ParamVars, IReadOnlyList<Example>>(opt, randomMlp (Random 5), mlpFn, epochs batches 3, stopper, cts.Token) |> ignore)
    |> ignore
    use cts2 = new CancellationTokenSource()
    let taken = ResizeArray()
    let run () =
        for step in Train.Steps<Params, ParamVars, IReadOnlyList<Example>>(opt, randomMlp (Random 5), mlpFn, epochs batches 3, cancellationToken = cts2.Token) do
            taken.Add step
            if taken.Count = 4 then cts2.Cancel()
    Assert.Throws<OperationCanceledException>(TestDelegate run) |> ignore
    Assert.That(taken.Count, Is.EqualTo 4)
    Assert.That((Seq.last taken).State.Step, Is.EqualTo 4)

let ``a non-finite gradient stops the fold naming the parameter and the step; skipping goes on`` () =
    let p0 = { W = w0; B = b0 }
    // The third batch's loss has an infinite slope in B.
    let loss =
        Func<int, Func<Lin<Expr>, Expr>>(fun k ->
            Func<Lin<Expr>, Expr>(fun l -> if k = 2 then Expr.Sqrt(l.B - l.B) + logistic l.W l.B else logistic l.W l.B))
    let epochs = Seq.singleton (Seq.ofList [ 0; 1; 2; 3 ])
    let e =
        throws<NonFiniteGradientException> (fun () ->
            Train.Fit<Lin<Value>, Lin<Expr>, int>(Optimizer.Adam(0.1), p0, loss, epochs) |> ignore)
    Assert.That((e.Parameter, e.Step), Is.EqualTo(("B", 2)))
    Assert.That(e.Message, Does.Contain("parameter 'B'").And.Contain("at step 2").And.Contain("Training.fs:"))
    let skipping = Optimizer.Adam(0.1).WithNonFiniteGradients NonFiniteGradients.Skip
    let struct (_, s) = Train.Fit<Lin<Value>, Lin<Expr>, int>(skipping, p0, loss, epochs)
    Assert.That(s.Step, Is.EqualTo 3)

// ------------------------------------------------------------------ evaluation and metrics

let ``Eval of a model at structured parameters is the forward value, without a gradient`` () =
    let p = { W = w0; B = b0 }
    let model = Func<Lin<Expr>, Expr>(fun l -> logistic l.W l.B)
    let v = AD.Eval<Lin<Value>, Lin<Expr>>(model, p)
    let struct (vg, _) = AD.ValueAndGrad<Lin<Value>, Lin<Expr>>(model).Invoke p
    Assert.That(bits (v.ToScalar()), Is.EqualTo(bits (vg.ToScalar())))
    let scores = AD.Eval<Lin<Value>, Lin<Expr>>(Func<Lin<Expr>, Expr>(fun l -> Expr.MatMul(Expr.Const x, l.W) + l.B), p)
    Assert.That(scores.Shape, Is.EqualTo(Shape.Vector 6))
    throws<StructureException> (fun () -> AD.Eval<Lin<Value>, Lin<Value>>(Func<Lin<Value>, Expr>(fun _ -> Expr.Zero), p) |> ignore)
    |> ignore

let ``ArgMax, Accuracy and ConfusionMatrix`` () =
    let scores = Value.FromRows([| [| 0.1; 0.7; 0.2 |]; [| 0.5; 0.5; 0.0 |]; [| -1.0; -3.0; 2.0 |]; [| 0.0; 1.0; 0.0 |] |])
    Assert.That(Metrics.ArgMax scores, Is.EqualTo [| 1; 0; 2; 1 |])
    Assert.That(Metrics.ArgMax(Value.FromArray(0.0, 3.0, 3.0)), Is.EqualTo [| 1 |])
    Assert.That(Metrics.Accuracy(scores, [| 1; 1; 2; 0 |]), Is.EqualTo 0.5)
    let cm = Metrics.ConfusionMatrix([| 1; 1; 2; 0 |], Metrics.ArgMax scores, 3)
    Assert.That(cm, Is.EqualTo(array2D [ [ 0; 1; 0 ]; [ 1; 1; 0 ]; [ 0; 0; 1 ] ]))
    let e = throws<ArgumentException> (fun () -> Metrics.Accuracy(scores, [| 1 |]) |> ignore)
    Assert.That(e.Message, Does.Contain "4 rows of scores but 1 labels")
    let e = throws<ArgumentOutOfRangeException> (fun () -> Metrics.ConfusionMatrix([| 3 |], [| 0 |], 3) |> ignore)
    Assert.That(e.Message, Does.Contain "example 0 has label 3")
    throws<ShapeMismatchException> (fun () -> Metrics.ArgMax(Value.Scalar 1.0) |> ignore) |> ignore

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Training" [
        testList "a record and a tuple of parameters take the Params form's steps bit for bit, with the same state" [ for c in optimizerNames -> testCase c (fun () -> ``a record and a tuple of parameters take the Params form's steps bit for bit, with the same state`` c) ]
        testCase "a generic step on Params is the Params step, and a list of layers and a lone vector are parameters too" ``a generic step on Params is the Params step, and a list of layers and a lone vector are parameters too``
        testCase "the state of a record saves as JSON and the run continues from it bit for bit" ``the state of a record saves as JSON and the run continues from it bit for bit``
        testCase "a state or gradients of other parameters name the first leaf path that differs" ``a state or gradients of other parameters name the first leaf path that differs``
        testCase "a non-finite gradient of a record names its leaf path and the step, or is skipped by option" ``a non-finite gradient of a record names its leaf path and the step, or is skipped by option``
        testPropertyWithConfig { replay Seed with maxTest = 40 } "the data-parallel gradient is the sequential sum of the chunks' gradients bit for bit, and the whole batch's to rounding" ``the data-parallel gradient is the sequential sum of the chunks' gradients bit for bit, and the whole batch's to rounding``
        testCase "one chunk is the whole batch's gradient bit for bit, and the sum reduction adds the chunks" ``one chunk is the whole batch's gradient bit for bit, and the sum reduction adds the chunks``
        testCase "the data-parallel gradient refuses bad chunk counts, an empty batch and a wrong traced type" ``the data-parallel gradient refuses bad chunk counts, an empty batch and a wrong traced type``
        testCase "a cancelled token stops the data-parallel gradient" ``a cancelled token stops the data-parallel gradient``
        testPropertyWithConfig { replay Seed with maxTest = 30 } "a compiled chunk gradient with the data as inputs gives the weighted sum of its chunks bit for bit, and the graph path's numbers to rounding" ``a compiled chunk gradient with the data as inputs gives the weighted sum of its chunks bit for bit, and the graph path's numbers to rounding``
        testCase "a chunk gradient function: one chunk is its own result, the sum reduction adds, and bad results are refused" ``a chunk gradient function: one chunk is its own result, the sum reduction adds, and bad results are refused``
        testCase "a compiled gradient by the parameters allocates no zeros for the data it leaves alone" ``a compiled gradient by the parameters allocates no zeros for the data it leaves alone``
        testPropertyWithConfig { replay Seed with maxTest = 30 } "a compiled gradient of (parameters, chunk data) sums the chunks from its buffers with the chunk function's bits" ``a compiled gradient of (parameters, chunk data) sums the chunks from its buffers with the chunk function's bits``
        testCase "a compiled gradient of (parameters, chunk data): parameters it is not differentiated by get zeros, errors are the chunk's own" ``a compiled gradient of (parameters, chunk data): parameters it is not differentiated by get zeros, errors are the chunk's own``
        testSequenced <| testCase "four threads sharing one compiled gradient of (parameters, chunk data) get the same bits" ``four threads sharing one compiled gradient of (parameters, chunk data) get the same bits``
        testSequenced <| testCase "a compiled gradient of (parameters, chunk data) allocates the sum, not a gradient per chunk" ``a compiled gradient of (parameters, chunk data) allocates the sum, not a gradient per chunk``
        testCase "softmax cross-entropy against classes given as a graph is the integer overload's, and checks the classes when it runs" ``softmax cross-entropy against classes given as a graph is the integer overload's, and checks the classes when it runs``
        testCase "Fit is the fold of optimizer steps over epochs of batches and reports every step" ``Fit is the fold of optimizer steps over epochs of batches and reports every step``
        testCase "Fit with the data-parallel gradient gives the same run to rounding, and a record of parameters the same bits as Params" ``Fit with the data-parallel gradient gives the same run to rounding, and a record of parameters the same bits as Params``
        testCase "a cancelled run throws OperationCanceledException before the next step; Steps keeps what was done" ``a cancelled run throws OperationCanceledException before the next step; Steps keeps what was done``
        testCase "a non-finite gradient stops the fold naming the parameter and the step; skipping goes on" ``a non-finite gradient stops the fold naming the parameter and the step; skipping goes on``
        testCase "Eval of a model at structured parameters is the forward value, without a gradient" ``Eval of a model at structured parameters is the forward value, without a gradient``
        testCase "ArgMax, Accuracy and ConfusionMatrix" ``ArgMax, Accuracy and ConfusionMatrix``
    ]
