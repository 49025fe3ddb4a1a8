/// Compiled programs (Compiled.*): trace once, run many. A compiled function gives the uncompiled combinator's
/// numbers bit for bit (value, gradient, VJP, JVP, structured inputs, random graphs), on eight threads too; new shapes
/// compile a second program and both keep working; value-dependent control flow is refused with a clear error;
/// nested Diff.Grad, deep chains and custom ops compile.
module Functional.Autodiff.Tests.Compile

open System
open System.Collections.Immutable
open FsCheck
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Generators
open Functional.Autodiff.Tests.Common

/// FsCheck's replay seed for every property here (fixed: a flaky test is a failing test).
[<Literal>]
let Seed = "(20261203,1317)"

let private valueBits (vs: Value seq) = Threads.valueBits vs

let private assertSameBits (what: string) (expected: Value seq) (actual: Value seq) =
    let e, a = valueBits expected, valueBits actual

    if e <> a then
        let show (b: int64[]) =
            b |> Array.map (BitConverter.Int64BitsToDouble >> g17) |> String.concat "; "

        Assert.Fail $"{what}: the compiled result differs from the uncompiled one:\n  expected [{show e}]\n  actual   [{show a}]"

    let shapes (vs: Value seq) = vs |> Seq.map (fun v -> v.Shape) |> List.ofSeq
    Assert.That(shapes actual, Is.EqualTo(shapes expected), $"{what}: shapes")

/// The random graph as a function of all its variables at once (an array input), the others constants.
let private asFunction (g: RandomGraph) =
    let nodes = g.Nodes

    Func<Expr[], Expr>(fun xs ->
        let exprs = Array.zeroCreate<Expr> nodes.Length
        let mutable v = 0

        for k in 0 .. nodes.Length - 1 do
            exprs[k] <-
                match nodes[k] with
                | Variable _ ->
                    v <- v + 1
                    xs[v - 1]
                | Constant(_, value) -> Expr.Const value
                | Apply(op, inputs, _) -> Expr.Create(op, inputs |> List.map (fun i -> exprs[i]) |> Array.ofList)

        exprs[nodes.Length - 1])

let private scalarOf (f: Func<Expr[], Expr>) =
    Func<Expr[], Expr>(fun xs ->
        let y = f.Invoke xs
        if y.Shape.IsScalar then y else Expr.Sum y)

/// A deterministic direction of a shape (a cotangent or a tangent).
let private direction (s: Shape) (salt: int) =
    Value.Own(s, Array.init s.Size (fun k -> 0.25 + 0.125 * float ((k + salt) % 7) - 0.5))

let ``random graphs: compiled value, gradient, VJP and JVP have the uncompiled bits`` (g: RandomGraph) =
    let xs = g.Variables |> Array.map (fun v -> v.Value)
    let f = asFunction g
    let fs = scalarOf f
    // Value and gradient, twice (the second call runs the cached program in reused buffers).
    let struct (y0, g0) = AD.ValueAndGrad<Value[], Expr[]>(fs).Invoke xs
    let vg = Compiled.ValueAndGrad<Value[], Expr[]>(fs)

    for _ in 1..2 do
        let struct (y1, g1) = vg.Invoke xs
        assertSameBits $"value and gradient of {g}" (Seq.append [ y0 ] g0) (Seq.append [ y1 ] g1)
    // The same program with its outputs left in its frame (the data-parallel sum reads them there): the same bits.
    let c = CompiledFunction<Value[], Expr[]>(fs, null, CompiledFunction<Value[], Expr[]>.Mode.ValueAndGrad, "test")

    for _ in 1..2 do
        use run = c.RunBorrowed xs
        assertSameBits $"borrowed outputs of {g}" (Seq.append [ y0 ] g0) (Array.init xs.Length run.Grad |> Array.append [| run.Value |])
    // VJP of the (possibly non-scalar) root, at two cotangents.
    let struct (u0, pull0) = AD.Vjp<Value[], Expr[]>(f).Invoke xs
    let struct (u1, pull1) = Compiled.Vjp<Value[], Expr[]>(f).Invoke xs
    assertSameBits $"vjp value of {g}" [ u0 ] [ u1 ]

    for salt in 0..1 do
        let ct = direction u0.Shape salt
        assertSameBits $"vjp pullback of {g}" (pull0.Invoke ct) (pull1.Invoke ct)
    // JVP along a deterministic tangent.
    let v = xs |> Array.mapi (fun k x -> direction x.Shape k)
    let struct (w0, t0) = AD.Jvp<Value[], Expr[]>(f).Invoke(xs, v)
    let jvp = Compiled.Jvp<Value[], Expr[]>(f)
    let struct (w1, t1) = jvp.Invoke(xs, v)
    assertSameBits $"jvp of {g}" [ w0; t0 ] [ w1; t1 ]

let private rng = Random 1317

let private vector n =
    T.toValue (T.init (Shape.Vector n) (fun _ -> uniform rng -1.0 1.0))

let private f1 =
    Func<Expr, Expr>(fun w -> 3.0 * Expr.Dot(Expr.Const(Value.FromArray [| 0.5; -1.0; 2.0 |]), (w + 2.0).Pow 2.0) + Expr.Sum(Expr.Tanh w * Expr.Exp(-w)))

let ``one input: compiled Grad, ValueAndGrad, Vjp and Jvp give the uncompiled bits at many points`` () =
    let vg0, vg1 = AD.ValueAndGrad f1, Compiled.ValueAndGrad f1
    let gr0, gr1 = AD.Grad f1, Compiled.Grad f1
    let jv0, jv1 = AD.Jvp f1, Compiled.Jvp f1

    for _ in 1..20 do
        let w = vector 3
        let struct (a, b) = vg0.Invoke w
        let struct (c, d) = vg1.Invoke w
        assertSameBits "ValueAndGrad" [ a; b ] [ c; d ]
        assertSameBits "Grad" [ gr0.Invoke w ] [ gr1.Invoke w ]
        let v = vector 3
        let struct (a, b) = jv0.Invoke(w, v)
        let struct (c, d) = jv1.Invoke(w, v)
        assertSameBits "Jvp" [ a; b ] [ c; d ]

    let h = Func<Expr, Expr>(fun x -> Expr.Sin x * x)
    let x = vector 4
    let struct (y0, p0) = AD.Vjp(h).Invoke x
    let struct (y1, p1) = Compiled.Vjp(h).Invoke x

    for _ in 1..3 do
        let ct = vector 4
        assertSameBits "Vjp" [ y0; p0.Invoke ct ] [ y1; p1.Invoke ct ]

    let e = throws<ShapeMismatchException> (fun () -> p1.Invoke(vector 3) |> ignore)
    Assert.That(e.Message, Does.Contain "cotangent must have the output's shape")

let ``two and three inputs, and named parameters with and without a choice, give the uncompiled bits`` () =
    let f2 = Func<Expr, Expr, Expr>(fun a b -> Expr.Sum(a * Expr.Sin b) + Expr.Dot(a, a))
    let a, b = vector 5, vector 5
    let struct (y0, struct (ga0, gb0)) = AD.ValueAndGrad(f2).Invoke(a, b)
    let struct (y1, struct (ga1, gb1)) = Compiled.ValueAndGrad(f2).Invoke(a, b)
    assertSameBits "two inputs" [ y0; ga0; gb0 ] [ y1; ga1; gb1 ]
    assertSameBits "argnum 1" [ AD.Grad(f2, 1).Invoke(a, b) ] [ Compiled.Grad(f2, 1).Invoke(a, b) ]
    let f3 = Func<Expr, Expr, Expr, Expr>(fun a b c -> Expr.Sum(a * b * c))
    let struct (p, q, r) = AD.Grad(f3).Invoke(a, b, a)
    let struct (p', q', r') = Compiled.Grad(f3).Invoke(a, b, a)
    assertSameBits "three inputs" [ p; q; r ] [ p'; q'; r' ]
    let loss = Func<ParamVars, Expr> Threads.loss
    let struct (v0, g0) = AD.ValueAndGrad(loss).Invoke Threads.start
    let struct (v1, g1) = Compiled.ValueAndGrad(loss).Invoke Threads.start
    assertSameBits "params" (Seq.append [ v0 ] (g0.Entries |> Seq.map (fun kv -> kv.Value))) (Seq.append [ v1 ] (g1.Entries |> Seq.map (fun kv -> kv.Value)))
    let chosen0 = AD.Grad(loss, "W2", "b1").Invoke Threads.start
    let chosen1 = Compiled.Grad(loss, "W2", "b1").Invoke Threads.start
    Assert.That(List.ofSeq chosen1.Names, Is.EqualTo(List.ofSeq chosen0.Names))
    assertSameBits "params, chosen" (chosen0.Entries |> Seq.map (fun kv -> kv.Value)) (chosen1.Entries |> Seq.map (fun kv -> kv.Value))

let ``eight threads calling one compiled function get the uncompiled bits`` () =
    let loss = Func<ParamVars, Expr> Threads.loss
    let struct (v0, g0) = AD.ValueAndGrad(loss).Invoke Threads.start
    let baseline = valueBits (Seq.append [ v0 ] (g0.Entries |> Seq.map (fun kv -> kv.Value)))
    let vg = Compiled.ValueAndGrad(loss)

    let work () =
        let struct (v, g) = vg.Invoke Threads.start
        valueBits (Seq.append [ v ] (g.Entries |> Seq.map (fun kv -> kv.Value)))

    Threads.assertAllBitIdentical baseline (Threads.onEightThreads work)
    // A scalar function of one vector, each thread at its own point.
    let vg1 = Compiled.ValueAndGrad f1
    let points = Array.init Threads.threadCount (fun _ -> vector 3)
    let expected = points |> Array.map (fun w -> let struct (y, g) = AD.ValueAndGrad(f1).Invoke w in valueBits [ y; g ])
    let next = ref -1

    let perThread () =
        let k = Threading.Interlocked.Increment(&next.contents) % Threads.threadCount
        let struct (y, g) = vg1.Invoke points[k]
        Assert.That(valueBits [ y; g ], Is.EqualTo expected[k])
        [||]

    Threads.onEightThreads perThread |> ignore

let ``new shapes trace again and keep both programs; the oldest of more than eight is evicted`` () =
    let traces = ref 0

    let f =
        Func<Expr, Expr>(fun x ->
            traces.Value <- traces.Value + 1
            Expr.Sum(Expr.Square x) + Expr.Sum(Expr.Sin x))

    let vg0, vg = AD.ValueAndGrad f, Compiled.ValueAndGrad f
    let check (x: Value) =
        let struct (a, b) = vg0.Invoke x
        let struct (c, d) = vg.Invoke x
        assertSameBits $"at {x.Shape}" [ a; b ] [ c; d ]

    let before = traces.Value
    check (vector 3)
    check (vector 5)
    check (vector 3)
    check (vector 5)
    Assert.That(traces.Value - before, Is.EqualTo 6, "one trace per shape compiled (2), one per uncompiled call (4)")
    let before = traces.Value
    // Ten shapes: the first two are evicted, so coming back to them traces again.
    for n in 1..10 do
        vg.Invoke(vector n) |> ignore

    Assert.That(traces.Value - before, Is.EqualTo 8, "3 and 5 were cached; eight new shapes traced")
    let before = traces.Value
    vg.Invoke(vector 10) |> ignore
    Assert.That(traces.Value - before, Is.EqualTo 0, "a recent shape is still cached")
    vg.Invoke(vector 3) |> ignore
    Assert.That(traces.Value - before, Is.EqualTo 1, "the oldest shape was evicted")

let ``a function that branches on an input's value is refused with the node, the line and the fix`` () =
    let f =
        Func<Expr, Expr>(fun x ->
            let s = Expr.Sum x
            if s.Value.ToScalar() > 0.0 then s * 2.0 else s)

    let e = throws<CompileTraceException> (fun () -> Compiled.Grad(f).Invoke(vector 3) |> ignore)
    Assert.That(e.Message, Does.Contain "'sum' node of shape scalar")
    Assert.That(e.Message, Does.Contain "input 'x' (vector(3))")
    Assert.That(e.Message, Does.Contain "Use Expr.Where for a value-dependent choice, or the uncompiled AD.ValueAndGrad")
    Assert.That(e.Message, Does.Contain "Compile.fs:")
    Assert.That((nonNull e.Node.Op).Name, Is.EqualTo "sum")
    // The same choice written with Where compiles and agrees with the uncompiled combinator.
    let g =
        Func<Expr, Expr>(fun x ->
            let s = Expr.Sum x
            Expr.Where(Expr.Greater(s, Expr.Const 0.0), s * 2.0, s))

    for _ in 1..5 do
        let x = vector 3
        assertSameBits "Where" [ AD.Grad(g).Invoke x ] [ Compiled.Grad(g).Invoke x ]
    // Uncompiled, the branching function works as before.
    Assert.That(AD.Grad(f).Invoke(vector 3).Shape, Is.EqualTo(Shape.Vector 3))

let ``captured constants are baked in, inputs are not`` () =
    let scale = ref 2.0
    let f = Func<Expr, Expr>(fun x -> Expr.Sum(x * scale.Value))
    let g = Compiled.Grad f
    let x = vector 2
    Assert.That(g.Invoke(x).ToArray(), Is.EqualTo [| 2.0; 2.0 |])
    scale.Value <- 3.0
    Assert.That(g.Invoke(vector 2).ToArray(), Is.EqualTo [| 2.0; 2.0 |], "the constant read at trace time")
    Assert.That(Compiled.Grad(f).Invoke(x).ToArray(), Is.EqualTo [| 3.0; 3.0 |], "a new compiled function traces again")

let ``a function using Diff.Grad (second order) compiles`` () =
    let f = Func<Expr, Expr>(fun x -> Expr.Sin x * x * x)
    let df = Diff.Grad f
    let nested = Func<Expr, Expr>(fun x -> x * Diff.Grad(Func<Expr, Expr>(fun y -> x * y * y)).Invoke x)

    for x in [ 0.3; -1.2; 2.5 ] do
        assertSameBits "f''" [ AD.Grad(df).Invoke(Value.Scalar x) ] [ Compiled.Grad(df).Invoke(Value.Scalar x) ]
        let struct (a, b) = AD.ValueAndGrad(nested).Invoke(Value.Scalar x)
        let struct (c, d) = Compiled.ValueAndGrad(nested).Invoke(Value.Scalar x)
        assertSameBits "nested" [ a; b ] [ c; d ]

let ``a chain of 100 000 scalar ops compiles and runs`` () =
    let n = 100_000

    let f =
        Func<Expr, Expr>(fun x ->
            let mutable y = x

            for k in 1..n do
                y <- if k % 2 = 0 then Expr.Sin y + 0.5 else y * 0.999 + x * 0.001

            y)

    let struct (a, b) = AD.ValueAndGrad(f).Invoke(Value.Scalar 0.7)
    let vg = Compiled.ValueAndGrad f
    let struct (c, d) = vg.Invoke(Value.Scalar 0.7)
    assertSameBits "deep chain" [ a; b ] [ c; d ]
    let struct (c, d) = vg.Invoke(Value.Scalar 0.7)
    assertSameBits "deep chain, again" [ a; b ] [ c; d ]

let ``the steady state of a scalar program allocates nothing`` () =
    let f =
        Func<Expr, Expr>(fun x ->
            let mutable y = x

            for _ in 1..100 do
                y <- Expr.Sin y * 1.5 + x

            y)

    let vg = Compiled.ValueAndGrad f

    for _ in 1..10 do
        vg.Invoke(Value.Scalar 0.3) |> ignore

    let bytes =
        bytesAllocatedBy (fun () ->
            for _ in 1..100 do
                vg.Invoke(Value.Scalar 0.3) |> ignore)

    Assert.That(bytes, Is.EqualTo 0L, "bytes allocated by 100 calls")

let ``a vector program reuses its buffers: only the results are allocated`` () =
    let f = Func<Expr, Expr>(fun x -> Expr.Sum(Expr.Tanh x * Expr.Exp(-(x * x))))
    let vg = Compiled.ValueAndGrad f
    let x = vector 1000

    for _ in 1..10 do
        vg.Invoke x |> ignore

    let bytes = bytesAllocatedBy (fun () -> vg.Invoke x |> ignore)
    // The gradient (8000 bytes of elements and an array header); every intermediate lives in a reused buffer.
    Assert.That(bytes, Is.LessThanOrEqualTo 8200L, "bytes allocated by one call")
    let struct (a, b) = AD.ValueAndGrad(f).Invoke x
    let struct (c, d) = vg.Invoke x
    assertSameBits "buffers" [ a; b ] [ c; d ]

let ``matrix products write into planned buffers: a layer's gradient allocates only its result`` () =
    // X·W of 64×50 by 50×40 (below the GEMM's two-thread threshold, so every allocation is on this thread).
    let rng = Random 7
    let xs = Value.FromRowMajor(64, 50, ReadOnlySpan(Array.init (64 * 50) (fun _ -> rng.NextDouble() - 0.5)))
    let x = Expr.Const xs
    let f = Func<Expr, Expr>(fun w -> let h = Expr.Tanh(Expr.MatMul(x, w)) in Expr.Sum(h * h))
    let vg = Compiled.ValueAndGrad f
    let w = Value.FromRowMajor(50, 40, ReadOnlySpan(Array.init (50 * 40) (fun _ -> rng.NextDouble() - 0.5)))

    for _ in 1..10 do
        vg.Invoke w |> ignore

    let bytes = bytesAllocatedBy (fun () -> vg.Invoke w |> ignore)
    // The gradient (16 000 bytes of elements); X·W (20 480 bytes) and every other intermediate live in reused buffers.
    Assert.That(bytes, Is.LessThanOrEqualTo 16_400L, "bytes allocated by one call")
    let struct (a, b) = AD.ValueAndGrad(f).Invoke w
    let struct (c, d) = vg.Invoke w
    assertSameBits "products into buffers" [ a; b ] [ c; d ]

let ``element-wise chains run fused, chunk by chunk, with the uncompiled bits`` () =
    let f =
        Func<Expr, Expr>(fun x ->
            let u = Expr.Tanh x * Expr.Exp(-(x * x)) + Expr.Sin(x) * 0.5
            Expr.Sum(u * u + Expr.Sigmoid(x - 1.0)))

    let vg = Compiled.ValueAndGrad f

    // Sizes below and above the fusion threshold, a whole number of chunks and not.
    for n in [ 100; Program.MinFusedSize; 5003; 5 * Program.Chunk + 1; 20_000 ] do
        let x = vector n
        let struct (a, b) = AD.ValueAndGrad(f).Invoke x
        let struct (c, d) = vg.Invoke x
        assertSameBits $"fused, n = {n}" [ a; b ] [ c; d ]
        let struct (c, d) = vg.Invoke x
        assertSameBits $"fused, n = {n}, again" [ a; b ] [ c; d ]

    let programs = (nonNull vg.Target :?> CompiledFunction<Value, Expr>).Programs
    let fused = programs |> Array.filter (fun p -> p.FusedGroupCount > 0)
    Assert.That(fused.Length, Is.EqualTo 4, "every size from the threshold up runs fused groups")
    Assert.That(fused |> Array.forall (fun p -> p.FusedInstructionCount >= 8), $"%A{fused |> Array.map (fun p -> p.FusedInstructionCount)}")

let ``custom ops: graph-building rules compile, value-reading rules are refused`` () =
    let f = Func<Expr, Expr>(fun x -> Expr.Sum(Expr.Create(PropertyGenerators.rightSin, x) * x))

    for _ in 1..3 do
        let x = vector 4
        let struct (a, b) = AD.ValueAndGrad(f).Invoke x
        let struct (c, d) = Compiled.ValueAndGrad(f).Invoke x
        assertSameBits "custom op" [ a; b ] [ c; d ]

    // A rule that reads its input's value (here to pick a slope) cannot be traced without values.
    let peeking =
        CustomOp(
            "peeking_relu",
            1,
            (fun s -> s[0]),
            (fun v -> v[0].Map(fun e -> max e 0.0)),
            (fun _ x _ ybar -> if x[0].Value.ToScalar() > 0.0 then ybar else Expr.ZerosLike ybar),
            (fun _ _ dx -> dx[0])
        )

    let g = Func<Expr, Expr>(fun x -> Expr.Create(peeking, x) * 2.0)
    Assert.That(AD.Grad(g).Invoke(Value.Scalar 0.5).ToScalar(), Is.EqualTo 2.0, "uncompiled, the rule reads the value")
    let e = throws<CompileTraceException> (fun () -> Compiled.Grad(g).Invoke(Value.Scalar 0.5) |> ignore)
    Assert.That(e.Message, Does.Contain "reads .Value of its input 'x' (scalar)")
    Assert.That(e.Message, Does.Contain "Expr.Where")

// ------------------------------------------------------------------ second order: Hvp and Hessian

/// The whole Hessian as one value (none when no input is differentiated by).
let private hessianBits (h: Blocks) =
    let m = h.ToMatrix()
    if m.RowCount = 0 then [] else [ Value.FromMatrix m ]

let ``random graphs: compiled Hvp and Hessian have the uncompiled bits, all inputs and a chosen one`` (g: RandomGraph) =
    let xs = g.Variables |> Array.map (fun v -> v.Value)
    let fs = scalarOf (asFunction g)
    let v = xs |> Array.mapi (fun k x -> direction x.Shape (k + 3))
    let hvp = Compiled.Hvp<Value[], Expr[]>(fs)
    let hessian = Compiled.Hessian<Value[], Expr[]>(fs)
    // Twice: the second call runs the cached programs.
    for _ in 1..2 do
        assertSameBits $"hvp of {g}" (AD.Hvp<Value[], Expr[]>(fs).Invoke(xs, v)) (hvp.Invoke(xs, v))
        assertSameBits $"hessian of {g}" (hessianBits (AD.Hessian<Value[], Expr[]>(fs).Invoke xs)) (hessianBits (hessian.Invoke xs))

    if xs.Length > 0 then
        let wrt = Wrt.Args(xs.Length - 1)
        assertSameBits $"hvp of {g}, {wrt}" (AD.Hvp<Value[], Expr[]>(fs, wrt).Invoke(xs, v)) (Compiled.Hvp<Value[], Expr[]>(fs, wrt).Invoke(xs, v))
        let h0 = AD.Hessian<Value[], Expr[]>(fs, wrt).Invoke xs
        let h1 = Compiled.Hessian<Value[], Expr[]>(fs, wrt).Invoke xs
        Assert.That(List.ofSeq h1.RowPaths, Is.EqualTo(List.ofSeq h0.RowPaths))
        assertSameBits $"hessian of {g}, {wrt}" (hessianBits h0) (hessianBits h1)

let private matrix m n =
    T.toValue (T.init (Shape.Matrix(m, n)) (fun _ -> uniform rng -1.0 1.0))

let ``one input: compiled Hvp and Hessian give the uncompiled bits for scalar, vector and matrix inputs`` () =
    let a = Expr.Const(matrix 4 3)
    let cases: (string * Func<Expr, Expr> * (unit -> Value)) list =
        [ "vector", f1, (fun () -> vector 3)
          "tanh(A x)", Func<Expr, Expr>(fun x -> Expr.Sum(Expr.Tanh(Expr.MatMul(a, x)))), (fun () -> vector 3)
          "scalar", Func<Expr, Expr>(fun x -> Expr.Sin x * x * x), (fun () -> Value.Scalar(uniform rng -2.0 2.0))
          "matrix", Func<Expr, Expr>(fun w -> Expr.Sum(Expr.Exp(Expr.MatMul(a, w)) * 0.25)), (fun () -> matrix 3 2)
          "quadratic (H·v is v)", Func<Expr, Expr>(fun x -> 0.5 * Expr.Dot(x, x)), (fun () -> vector 5)
          "linear (H is 0)", Func<Expr, Expr>(fun x -> Expr.Sum(x * 3.0)), (fun () -> vector 4) ]

    for name, f, point in cases do
        let hvp0, hvp1 = AD.Hvp f, Compiled.Hvp f
        let h0, h1 = AD.Hessian f, Compiled.Hessian f

        for _ in 1..5 do
            let x = point ()
            let v = direction x.Shape 1
            assertSameBits $"Hvp, {name}" [ hvp0.Invoke(x, v) ] [ hvp1.Invoke(x, v) ]
            assertSameBits $"Hessian, {name}" [ Value.FromMatrix(h0.Invoke x) ] [ Value.FromMatrix(h1.Invoke x) ]

    let quadratic = Compiled.Hvp(Func<Expr, Expr>(fun x -> 0.5 * Expr.Dot(x, x)))
    Assert.That(quadratic.Invoke(vector 3, Value.FromArray [| 1.0; 2.0; 3.0 |]).ToArray(), Is.EqualTo [| 1.0; 2.0; 3.0 |])

let ``structured inputs: compiled Hvp and Hessian give the uncompiled bits, with Wrt subsets`` () =
    let f2 = Func<struct (Expr * Expr), Expr>(fun (struct (a, b)) -> Expr.Sum(a * Expr.Sin a) * Expr.Sum(Expr.Tanh b) + Expr.Dot(b, b) * Expr.Sum(Expr.Exp a))
    let a, b = vector 3, vector 4
    let da, db = direction a.Shape 0, direction b.Shape 1

    for wrt in [ Unchecked.defaultof<Wrt>; Wrt.Args 0; Wrt.Args 1; Wrt.Args(1, 0) ] do
        let struct (p, q) = AD.Hvp<struct (Value * Value), struct (Expr * Expr)>(f2, wrt).Invoke(struct (a, b), struct (da, db))
        let struct (p', q') = Compiled.Hvp<struct (Value * Value), struct (Expr * Expr)>(f2, wrt).Invoke(struct (a, b), struct (da, db))
        assertSameBits $"pair Hvp, {wrt}" [ p; q ] [ p'; q' ]
        let h0 = AD.Hessian<struct (Value * Value), struct (Expr * Expr)>(f2, wrt).Invoke(struct (a, b))
        let h1 = Compiled.Hessian<struct (Value * Value), struct (Expr * Expr)>(f2, wrt).Invoke(struct (a, b))
        Assert.That(List.ofSeq h1.ColumnPaths, Is.EqualTo(List.ofSeq h0.ColumnPaths), $"{wrt}")
        Assert.That(List.ofSeq h1.RowShapes, Is.EqualTo(List.ofSeq h0.RowShapes), $"{wrt}")
        assertSameBits $"pair Hessian, {wrt}" (hessianBits h0) (hessianBits h1)

    let loss = Func<ParamVars, Expr> Threads.loss
    let p = Threads.start
    let dp = p * 0.5
    let values (q: Params) = q.Entries |> Seq.map (fun kv -> kv.Value)

    for wrt in [ Unchecked.defaultof<Wrt>; Wrt.Names "b2"; Wrt.Names("W2", "b1") ] do
        assertSameBits $"params Hvp, {wrt}" (values (AD.Hvp<Params, ParamVars>(loss, wrt).Invoke(p, dp))) (values (Compiled.Hvp<Params, ParamVars>(loss, wrt).Invoke(p, dp)))

    for wrt in [ Wrt.Names "b2"; Wrt.Names("b1", "b2") ] do
        let h0 = AD.Hessian<Params, ParamVars>(loss, wrt).Invoke p
        let h1 = Compiled.Hessian<Params, ParamVars>(loss, wrt).Invoke p
        Assert.That(List.ofSeq h1.ColumnPaths, Is.EqualTo(List.ofSeq h0.ColumnPaths), $"{wrt}")
        assertSameBits $"params Hessian, {wrt}" (hessianBits h0) (hessianBits h1)

let ``compiled Hvp and Hessian: errors, value branches, nesting and new shapes`` () =
    let e = throws<NonScalarOutputException> (fun () -> Compiled.Hessian(Func<Expr, Expr>(fun x -> x * 2.0)).Invoke(vector 3) |> ignore)
    Assert.That(e.Message, Does.Contain "Compiled.Hessian")
    throws<NonScalarOutputException> (fun () -> Compiled.Hvp(Func<Expr, Expr>(fun x -> x * 2.0)).Invoke(vector 3, vector 3) |> ignore) |> ignore
    let e = throws<ShapeMismatchException> (fun () -> Compiled.Hvp(f1).Invoke(vector 3, vector 2) |> ignore)
    Assert.That(e.Message, Does.Contain "direction must have the input's shape")
    let branching =
        Func<Expr, Expr>(fun x ->
            let s = Expr.Sum(x * x)
            if s.Value.ToScalar() > 0.0 then s * 2.0 else s)

    let e = throws<CompileTraceException> (fun () -> Compiled.Hessian(branching).Invoke(vector 3) |> ignore)
    Assert.That(e.Message, Does.Contain "Expr.Where")
    // A function using Diff.Grad: its Hessian is a third derivative's worth of graph, compiled.
    let nested = Func<Expr, Expr>(fun x -> Expr.Sum(x * Diff.Grad(Func<Expr, Expr>(fun y -> Expr.Sum(Expr.Sin(x * y) * y))).Invoke x))
    let traces = ref 0

    let counted =
        Func<Expr, Expr>(fun x ->
            traces.Value <- traces.Value + 1
            nested.Invoke x)

    let h = Compiled.Hessian counted
    let hvp = Compiled.Hvp counted

    for n in [ 2; 3; 2; 3 ] do
        let x = vector n
        assertSameBits $"nested Hessian, n = {n}" [ Value.FromMatrix(AD.Hessian(nested).Invoke x) ] [ Value.FromMatrix(h.Invoke x) ]
        let v = vector n
        assertSameBits $"nested Hvp, n = {n}" [ AD.Hvp(nested).Invoke(x, v) ] [ hvp.Invoke(x, v) ]

    Assert.That(traces.Value, Is.EqualTo 4, "one trace per shape and compiled function")

let ``the Hessian's column programs run only what moves: the values of x alone are computed once per call`` () =
    let a = Expr.Const(matrix 6 6)
    let f = Func<Expr, Expr>(fun x -> Expr.Sum(Expr.Tanh(Expr.MatMul(a, x))))
    let hessian = Compiled.Hessian<Value, Expr>(f)
    let hvp = Compiled.Hvp<Value, Expr>(f)
    let x = vector 6
    assertSameBits "Hessian" (hessianBits (AD.Hessian<Value, Expr>(f).Invoke x)) (hessianBits (hessian.Invoke x))
    hvp.Invoke(x, x) |> ignore
    let column = (nonNull hessian.Target :?> CompiledFunction<Value, Expr>).Programs[0]
    let whole = (nonNull hvp.Target :?> CompiledFunction<Value, Expr>).Programs[0]
    // H·v runs A·x, tanh and the tangent; a column reads tanh(A·x)'s values from the staged program.
    Assert.That(column.InstructionCount, Is.LessThan whole.InstructionCount, "instructions of a column against the whole Hvp")
    Assert.That(column.InputCount, Is.GreaterThan whole.InputCount, "a column reads staged values")

let ``eight threads calling one compiled Hessian and one compiled Hvp get the uncompiled bits`` () =
    let loss = Func<ParamVars, Expr> Threads.loss
    let p = Threads.start
    let wrt = Wrt.Names("b1", "W2")
    let baseline = valueBits (hessianBits (AD.Hessian<Params, ParamVars>(loss, wrt).Invoke p) @ [ for kv in AD.Hvp<Params, ParamVars>(loss).Invoke(p, p).Entries -> kv.Value ])
    let hessian = Compiled.Hessian<Params, ParamVars>(loss, wrt)
    let hvp = Compiled.Hvp<Params, ParamVars>(loss)

    let work () =
        valueBits (hessianBits (hessian.Invoke p) @ [ for kv in hvp.Invoke(p, p).Entries -> kv.Value ])

    Threads.assertAllBitIdentical baseline (Threads.onEightThreads work)
/// Whether each program of a compiled one-input ValueAndGrad runs as straight-line code over elements.
let private straightLine (vg: Func<Value, struct (Value * Value)>) =
    (nonNull vg.Target :?> CompiledFunction<Value, Expr>).StraightLine

let ``random graphs of one input: small tensors' straight-line code has the uncompiled bits`` (g: RandomGraph) =
    for k in 0 .. g.Variables.Length - 1 do
        let f = g.AsFunction k
        let f = Func<Expr, Expr>(fun x -> let y = f.Invoke x in if y.Shape.IsScalar then y else Expr.Sum y)
        let x = g.VariableValue k
        let struct (y0, g0) = AD.ValueAndGrad(f).Invoke x
        let vg = Compiled.ValueAndGrad f

        for _ in 1..2 do
            let struct (y1, g1) = vg.Invoke x
            assertSameBits $"value and gradient in variable {k} of {g} (straight line: %A{straightLine vg})" [ y0; g0 ] [ y1; g1 ]


/// Numbers of a wide range of magnitudes and both signs, zeros of both signs among them: sums of them in another
/// order round differently.
let private wide (rng: Random) n =
    Array.init n (fun _ ->
        match rng.Next 8 with
        | 0 -> 0.0
        | 1 -> -0.0
        | _ -> (if rng.Next 2 = 0 then -1.0 else 1.0) * (1.0 + rng.NextDouble()) * Math.Pow(2.0, float (rng.Next(-40, 40))))

let ``reductions of 1 to 16 elements in straight-line code add in the kernels' order`` () =
    let rng = Random 16

    for n in 1 .. ScalarEmitter.MaxElements do
        let c = Expr.Const(Value.FromArray(wide rng n))

        let fs =
            [ "sum", Func<Expr, Expr>(fun w -> Expr.Sum(w * c))
              "dot", Func<Expr, Expr>(fun w -> Expr.Dot(w, c) * Expr.Dot(w, w))
              "sum of squares", Func<Expr, Expr>(fun w -> Expr.Sum(w * w) + Expr.Sum(Expr.Sin w)) ]

        for name, f in fs do
            let vg = Compiled.ValueAndGrad f

            for _ in 1..20 do
                let w = Value.FromArray(wide rng n)
                let struct (a, b) = AD.ValueAndGrad(f).Invoke w
                let struct (y, d) = vg.Invoke w
                assertSameBits $"{name}, n = {n}, w = %A{w}" [ a; b ] [ y; d ]

            Assert.That(straightLine vg, Is.EqualTo [| true |], $"{name}, n = {n} runs as straight-line code")

    // Matrices: column and row sums, broadcasts back in the gradient, a transpose, a where with a broadcast condition,
    // an element, reshapes.
    for m, n in [ 1, 1; 2, 3; 3, 2; 4, 4; 1, 16; 16, 1; 5, 3 ] do
        let c = Expr.Const(Value.FromRowMajor(m, n, ReadOnlySpan(wide rng (m * n))))

        let f =
            Func<Expr, Expr>(fun w ->
                let u = w * c + Expr.Tanh w
                Expr.Dot(Expr.ColumnSums u, Expr.ColumnSums(w * w)) + Expr.Sum(Expr.RowSums(u * w))
                + Expr.Sum(Expr.Where(Expr.RowSums c, Expr.Transpose(Expr.Exp(-w)) + Expr.Transpose c, 0.5))
                + Expr.Create(IndexOp(m - 1, Nullable 0), w) * Expr.Dot(Expr.Reshape(w, Shape.Vector(m * n)), Expr.Reshape(c, Shape.Vector(m * n))))

        let vg = Compiled.ValueAndGrad f

        for _ in 1..20 do
            let w = Value.FromRowMajor(m, n, ReadOnlySpan(wide rng (m * n) |> Array.map (fun x -> Math.Clamp(x, -5.0, 5.0))))
            let struct (a, b) = AD.ValueAndGrad(f).Invoke w
            let struct (y, d) = vg.Invoke w
            assertSameBits $"matrix({m}, {n}), w = %A{w}" [ a; b ] [ y; d ]

        // Larger ones have more than ScalarEmitter.ChunkSize elements to compute in all, and run the program.
        if m * n <= 6 then
            Assert.That(straightLine vg, Is.EqualTo [| true |], $"matrix({m}, {n}) runs as straight-line code")

/// The order the straight-line code writes out is the kernels' own definition, for the graph path too: up to 16
/// elements, ((0 + t₀) + t₁) + … with each product rounded; beyond, TensorPrimitives' vectorised order.
let ``sums and dot products of up to 16 elements add in sequence from 0, longer ones are vectorised`` () =
    let rng = Random 1603
    let bits (x: float) = BitConverter.DoubleToInt64Bits x

    for n in 1..40 do
        for _ in 1..20 do
            let a, b = wide rng n, wide rng n
            let sum = Expr.Sum(Expr.Const(Value.FromArray a)).Value.ToScalar()
            let dot = Expr.Dot(Expr.Const(Value.FromArray a), Expr.Const(Value.FromArray b)).Value.ToScalar()

            let expectedSum, expectedDot =
                if n <= SumOp.SequentialLength then
                    Array.fold (+) 0.0 a, Array.fold2 (fun s x y -> s + x * y) 0.0 a b
                else
                    System.Numerics.Tensors.TensorPrimitives.Sum(ReadOnlySpan a),
                    System.Numerics.Tensors.TensorPrimitives.Dot(ReadOnlySpan a, ReadOnlySpan b)

            Assert.That(bits sum, Is.EqualTo(bits expectedSum), $"sum of %A{a}")
            Assert.That(bits dot, Is.EqualTo(bits expectedDot), $"dot of %A{a} and %A{b}")

    // −0 alone sums to +0 (0 + −0), as TensorPrimitives' short path gives it.
    Assert.That(bits (Expr.Sum(Expr.Const(Value.FromArray -0.0)).Value.ToScalar()), Is.EqualTo(bits 0.0))

let ``small programs take the straight-line path, others run the program`` () =
    let x = Expr.Const(Value.FromArray [| 0.5; 0.5; 0.5 |])
    let w2 = Func<Expr, Expr>(fun w -> 3.0 * Expr.Dot(x, (w + 2.0).Pow 2.0))
    let vg = Compiled.ValueAndGrad w2
    let struct (y, g) = vg.Invoke(Value.FromArray [| 1.0; 1.0; 1.0 |])
    Assert.That(y.ToScalar(), Is.EqualTo 40.5)
    Assert.That(g.ToVector().ToArray(), Is.EqualTo [| 9.0; 9.0; 9.0 |])
    // Dot, tanh, exp and sum at 3 elements, then the same function at 17 (over the bound): two programs, one straight.
    let vg1 = Compiled.ValueAndGrad(Func<Expr, Expr>(fun w -> Expr.Sum(Expr.Tanh w * Expr.Exp(-w)) + Expr.Dot(w, w) * 0.5))
    vg1.Invoke(vector 3) |> ignore
    vg1.Invoke(vector 17) |> ignore
    Assert.That(straightLine vg, Is.EqualTo [| true |], "W2")
    Assert.That(straightLine vg1, Is.EqualTo [| true; false |], "at 3 and at 17 elements")
    // A scalar input, a scalar program.
    let s = Compiled.ValueAndGrad(Func<Expr, Expr>(fun x -> Expr.Sin x * x))
    s.Invoke(Value.Scalar 0.3) |> ignore
    Assert.That(straightLine s, Is.EqualTo [| true |], "scalar")
    // An op without an element rule (a matrix product), and an intermediate over the bound, run the program.
    let m = Expr.Const(Value.FromRowMajor(2, 2, ReadOnlySpan [| 1.0; 2.0; 3.0; 4.0 |]))
    let big = Expr.Const(Value.FromArray(Array.init 20 float))

    for name, f, x in
        [ "matmul", Func<Expr, Expr>(fun w -> Expr.Sum(Expr.MatMul(m, w))), Value.FromRowMajor(2, 2, ReadOnlySpan [| 0.1; 0.2; 0.3; 0.4 |])
          "a large intermediate", Func<Expr, Expr>(fun w -> Expr.Sum(Expr.BroadcastTo(Expr.Sum w, Shape.Vector 20) * big)), vector 3 ] do
        let vg = Compiled.ValueAndGrad f
        let struct (a, b) = AD.ValueAndGrad(f).Invoke x
        let struct (c, d) = vg.Invoke x
        assertSameBits name [ a; b ] [ c; d ]
        Assert.That(straightLine vg, Is.EqualTo [| false |], name)

    // Several inputs (a structured input) run the program too.
    let f2 = Func<Expr, Expr, Expr>(fun a b -> Expr.Dot(a, b))
    let a, b = vector 3, vector 3
    let struct (y0, struct (ga0, gb0)) = AD.ValueAndGrad(f2).Invoke(a, b)
    let struct (y1, struct (ga1, gb1)) = Compiled.ValueAndGrad(f2).Invoke(a, b)
    assertSameBits "two inputs" [ y0; ga0; gb0 ] [ y1; ga1; gb1 ]

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Compile" [
        testPropertyWithConfig { replay Seed with maxTest = 200; arbitrary = [ typeof<Arbitraries> ] } "random graphs: compiled value, gradient, VJP and JVP have the uncompiled bits" ``random graphs: compiled value, gradient, VJP and JVP have the uncompiled bits``
        testCase "one input: compiled Grad, ValueAndGrad, Vjp and Jvp give the uncompiled bits at many points" ``one input: compiled Grad, ValueAndGrad, Vjp and Jvp give the uncompiled bits at many points``
        testCase "two and three inputs, and named parameters with and without a choice, give the uncompiled bits" ``two and three inputs, and named parameters with and without a choice, give the uncompiled bits``
        testSequenced <| testCase "eight threads calling one compiled function get the uncompiled bits" ``eight threads calling one compiled function get the uncompiled bits``
        testCase "new shapes trace again and keep both programs; the oldest of more than eight is evicted" ``new shapes trace again and keep both programs; the oldest of more than eight is evicted``
        testCase "a function that branches on an input's value is refused with the node, the line and the fix" ``a function that branches on an input's value is refused with the node, the line and the fix``
        testCase "captured constants are baked in, inputs are not" ``captured constants are baked in, inputs are not``
        testCase "a function using Diff.Grad (second order) compiles" ``a function using Diff.Grad (second order) compiles``
        testCase "a chain of 100 000 scalar ops compiles and runs" ``a chain of 100 000 scalar ops compiles and runs``
        testCase "the steady state of a scalar program allocates nothing" ``the steady state of a scalar program allocates nothing``
        testCase "a vector program reuses its buffers: only the results are allocated" ``a vector program reuses its buffers: only the results are allocated``
        testCase "matrix products write into planned buffers: a layer's gradient allocates only its result" ``matrix products write into planned buffers: a layer's gradient allocates only its result``
        testCase "element-wise chains run fused, chunk by chunk, with the uncompiled bits" ``element-wise chains run fused, chunk by chunk, with the uncompiled bits``
        testCase "custom ops: graph-building rules compile, value-reading rules are refused" ``custom ops: graph-building rules compile, value-reading rules are refused``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbitraries> ] } "random graphs: compiled Hvp and Hessian have the uncompiled bits, all inputs and a chosen one" ``random graphs: compiled Hvp and Hessian have the uncompiled bits, all inputs and a chosen one``
        testCase "one input: compiled Hvp and Hessian give the uncompiled bits for scalar, vector and matrix inputs" ``one input: compiled Hvp and Hessian give the uncompiled bits for scalar, vector and matrix inputs``
        testCase "structured inputs: compiled Hvp and Hessian give the uncompiled bits, with Wrt subsets" ``structured inputs: compiled Hvp and Hessian give the uncompiled bits, with Wrt subsets``
        testCase "the Hessian's column programs run only what moves: the values of x alone are computed once per call" ``the Hessian's column programs run only what moves: the values of x alone are computed once per call``
        testSequenced <| testCase "eight threads calling one compiled Hessian and one compiled Hvp get the uncompiled bits" ``eight threads calling one compiled Hessian and one compiled Hvp get the uncompiled bits``
        testCase "compiled Hvp and Hessian: errors, value branches, nesting and new shapes" ``compiled Hvp and Hessian: errors, value branches, nesting and new shapes``
        testPropertyWithConfig { replay Seed with maxTest = 200; arbitrary = [ typeof<Arbitraries> ] } "random graphs of one input: small tensors' straight-line code has the uncompiled bits" ``random graphs of one input: small tensors' straight-line code has the uncompiled bits``
        testCase "reductions of 1 to 16 elements in straight-line code add in the kernels' order" ``reductions of 1 to 16 elements in straight-line code add in the kernels' order``
        testCase "sums and dot products of up to 16 elements add in sequence from 0, longer ones are vectorised" ``sums and dot products of up to 16 elements add in sequence from 0, longer ones are vectorised``
        testCase "small programs take the straight-line path, others run the program" ``small programs take the straight-line path, others run the program``
    ]
