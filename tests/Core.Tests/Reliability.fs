/// Reliability: what a stress audit found silently wrong or unbounded (issue 8), each pinned by a test that failed
/// before the fix. Custom-op rules give the same numbers in every transform, a forward that disagrees with its shape
/// is refused, shapes too large for an array are refused where they are made, memory stays bounded over long runs
/// with fresh data, and the smaller things: null arguments, bindings, identity hashes on many threads, GradCheck's
/// tolerance on small functions.
module Functional.Autodiff.Tests.Reliability

open System
open System.Collections.Generic
open System.Collections.Immutable
open System.Threading
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let private unary (f: Expr -> Expr) = Func<Expr, Expr>(f)

let private grad f (x: float) = AD.Grad(unary f).Invoke(Value.Scalar x).ToScalar()

/// A custom op of one input from F# functions: the identity forward with the given rules.
let private customOp name (vjp: ImmutableArray<Expr> -> Expr -> Expr) (jvp: ImmutableArray<Expr> -> Expr -> Expr) =
    CustomOp(
        name,
        1,
        Func<ImmutableArray<Shape>, Shape>(fun s -> s[0]),
        Func<ImmutableArray<Value>, Value>(fun v -> v[0]),
        Func<int, ImmutableArray<Expr>, Expr, Expr, Expr>(fun _ x _ ybar -> vjp x ybar),
        Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr>, Expr>(fun x _ dx -> jvp x dx[0])
    )

let private nil<'T when 'T: not struct> = Unchecked.defaultof<'T>

/// The managed heap after a full collection, in bytes.
let private heap () =
    GC.Collect()
    GC.WaitForPendingFinalizers()
    GC.Collect()
    GC.GetTotalMemory true

// ------------------------------------------------------------------ custom ops: one answer in every transform

let ``a custom op whose rule reads captured state gives the current gradient in Grad, Gradients and Jvp`` () =
    // A gradient-reversal layer: the identity forward, −λ·ȳ backward, with λ changed between calls.
    let lam = ref 3.0

    let grl =
        customOp "gradient_reversal" (fun _ ybar -> -lam.Value * ybar) (fun _ dx -> -lam.Value * dx)

    let f (x: Expr) = Expr.Create(grl, x) * 2.0

    for l in [ 3.0; 1.5; -0.25 ] do
        lam.Value <- l
        let expected = -2.0 * l
        Assert.That(grad f 0.7, Is.EqualTo expected, $"AD.Grad at λ = {l}")
        let x = Expr.Var("x", Value.Scalar 0.7)
        Assert.That((AD.Gradients(f x, x)[0]).Value.ToScalar(), Is.EqualTo expected, $"AD.Gradients at λ = {l}")
        let struct (_, t) = AD.Jvp(unary f).Invoke(Value.Scalar 0.7, Value.Scalar 1.0)
        Assert.That(t.ToScalar(), Is.EqualTo expected, $"AD.Jvp at λ = {l}")

let ``a custom op's rule may read its inputs' values, in AD.Grad as in AD.Gradients`` () =
    // x ↦ x³ with a rule computed from the input's number: 3x².
    let cube =
        CustomOp(
            "cube",
            1,
            Func<ImmutableArray<Shape>, Shape>(fun s -> s[0]),
            Func<ImmutableArray<Value>, Value>(fun v -> v[0].Map(fun a -> a * a * a)),
            Func<int, ImmutableArray<Expr>, Expr, Expr, Expr>(fun _ x _ ybar ->
                let a = x[0].Value.ToScalar()
                ybar * (3.0 * a * a)),
            Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr>, Expr>(fun x _ dx ->
                let a = x[0].Value.ToScalar()
                dx[0] * (3.0 * a * a))
        )

    let f (x: Expr) = Expr.Create(cube, x)
    Assert.That(grad f 2.0, Is.EqualTo 12.0)
    let x = Expr.Var("x", Value.Scalar 2.0)
    Assert.That((AD.Gradients(f x, x)[0]).Value.ToScalar(), Is.EqualTo 12.0)

let ``a custom op's rule may use a traced variable it captured, in AD.Grad as in AD.Gradients`` () =
    let k = Expr.Var("k", Value.Scalar 5.0)
    let scaled = customOp "scaled_by_k" (fun _ ybar -> ybar * k) (fun _ dx -> dx * k)
    let f (x: Expr) = Expr.Create(scaled, x) + 1.0
    Assert.That(grad f 0.5, Is.EqualTo 5.0)
    let x = Expr.Var("x", Value.Scalar 0.5)
    Assert.That((AD.Gradients(f x, x)[0]).Value.ToScalar(), Is.EqualTo 5.0)

let ``a class derived from Op runs its rule on the real nodes too`` () =
    // An op written by deriving from Op (not CustomOp) whose VJP reads the input's value.
    let op =
        { new Op() with
            member _.Name = "square_by_value"
            member _.Arity = 1
            member _.InferShape(s) = s[0]
            member _.Eval(v) = v[0].Map(fun a -> a * a)

            member _.Vjp(_, x, _, ybar) =
                ybar * (2.0 * x[0].Value.ToScalar())

            member _.Jvp(x, _, dx) =
                match dx[0] with
                | null -> null
                | t -> t * (2.0 * x[0].Value.ToScalar())
        }

    Assert.That(grad (fun x -> Expr.Create(op, x)) 3.0, Is.EqualTo 6.0)

let ``a custom op whose forward returns another shape than its shape rule is refused where the node is built`` () =
    let liar =
        CustomOp(
            "liar",
            1,
            Func<ImmutableArray<Shape>, Shape>(fun s -> s[0]),
            Func<ImmutableArray<Value>, Value>(fun _ -> Value.FromArray [| 2.0; 3.0 |]),
            Func<int, ImmutableArray<Expr>, Expr, Expr, Expr>(fun _ _ _ ybar -> ybar),
            Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr>, Expr>(fun _ _ dx -> dx[0])
        )

    let x = Expr.Const(Value.FromArray [| 1.0; 1.0; 1.0 |])
    let ex = throws<InvalidOperationException> (fun () -> Expr.Create(liar, x) |> ignore)

    for part in [ "liar"; "vector(2)"; "vector(3)"; "shape rule" ] do
        Assert.That(ex.Message, Does.Contain part)

    // The same check on the evaluation path of a graph over a symbolic variable.
    let v = Expr.Var("v", Shape.Vector 3)
    let g = Expr.Create(liar, v)

    throws<InvalidOperationException> (fun () ->
        AD.Eval(g, struct (v, Value.FromArray [| 1.0; 2.0; 3.0 |])) |> ignore)
    |> ignore

// ------------------------------------------------------------------ shapes too large for one array

let ``a matrix shape with more elements than an array holds is refused where it is made`` () =
    let ex =
        throws<ArgumentOutOfRangeException> (fun () -> Shape.Matrix(65536, 65537) |> ignore)

    for part in [ "matrix(65536, 65537)"; "4,295,032,832"; "split" ] do
        Assert.That(ex.Message, Does.Contain part)

    throws<ArgumentOutOfRangeException> (fun () ->
        Expr.Sum(Expr.Full(Shape.Matrix(65536, 65537), 1.0)).Value |> ignore)
    |> ignore

    throws<ArgumentOutOfRangeException> (fun () -> Expr.Eye 65536 |> ignore) |> ignore

    throws<ArgumentOutOfRangeException> (fun () -> Expr.Zeros(Shape.Matrix(46341, 46341)) |> ignore)
    |> ignore

    let a = Expr.Var("a", Shape.Vector 65536)
    let b = Expr.Var("b", Shape.Vector 65537)
    throws<ArgumentOutOfRangeException> (fun () -> Expr.Outer(a, b) |> ignore) |> ignore
    let m = Expr.Var("m", Shape.Matrix(65536, 2))
    let n = Expr.Var("n", Shape.Matrix(2, 65537))
    throws<ArgumentOutOfRangeException> (fun () -> Expr.MatMul(m, n) |> ignore) |> ignore
    // The largest shapes that fit are still shapes.
    Assert.That(Shape.Matrix(46340, 46340).Size, Is.EqualTo(46340 * 46340))

// ------------------------------------------------------------------ bounded memory over long runs

let ``custom ops made per call and capturing data are not kept alive`` () =
    let before = heap ()

    for step in 1..1000 do
        // Each call makes its own op, capturing 256 KB of "data".
        let data = Array.create 32768 (float step)

        let op =
            customOp $"per_call_{step}" (fun _ ybar -> ybar * (data[0] / float step)) (fun _ dx -> dx * (data[0] / float step))

        Assert.That(grad (fun x -> Expr.Create(op, x) * 2.0) 1.0, Is.EqualTo 2.0)

    let grown = float (heap () - before) / 1e6
    Assert.That(grown, Is.LessThan 20.0, $"the heap grew by {grown:F1} MB over 1000 calls")

let ``ten thousand cross-entropy gradients with fresh labels hold the heap under 20 MB`` () =
    // The issue's soak, at 32×100 logits to stay well under 30 s in a Debug build: new labels every step (before,
    // each step kept a 25.6 KB one-hot alive in the memo, about 105 MB over 4,096 entries).
    let labelRng = Random 424242
    let logits = T.toValue (T.matrix 32 100 (fun i j -> float ((i * 7 + j * 3) % 11) * 0.1))
    let before = heap ()

    for step in 1..10000 do
        let labels = Array.init 32 (fun _ -> labelRng.Next 100)
        let g = AD.Grad(unary (fun z -> Expr.SoftmaxCrossEntropy(z, labels))).Invoke logits

        if step % 2500 = 0 then
            // Each row of the gradient sums to zero (softmax minus one-hot, over the rows' mean).
            let row0 = Array.init 100 (fun j -> g[0, j]) |> Array.sum
            Assert.That(row0, Is.EqualTo(0.0).Within(1e-15))

    let grown = float (heap () - before) / 1e6
    Assert.That(grown, Is.LessThan 20.0, $"the heap grew by {grown:F1} MB over 10,000 steps")

let ``the compiled-rule memo is bounded in bytes, not only in entries`` () =
    // pow 1's derivative is a constant of ones of x's shape, so each vector length compiles a rule holding 8·n bytes
    // (128 KB per rule at the last length); 4096 entries of such rules held 268 MB.
    let before = heap ()

    for k in 1..3000 do
        let n = 16 * k

        let g =
            AD.Grad(unary (fun x -> Expr.Sum(Expr.Pow(x, 1.0)))).Invoke(Value.Full(Shape.Vector n, 0.5))

        if k % 500 = 0 then
            Assert.That(g.ToArray(), Is.All.EqualTo 1.0)

    let grown = float (heap () - before) / 1e6
    Assert.That(grown, Is.LessThan 20.0, $"the heap grew by {grown:F1} MB over 3000 shapes")

// ------------------------------------------------------------------ the smaller things

let ``OnesLike, ZerosLike and the text renderings refuse null`` () =
    throws<ArgumentNullException> (fun () -> Expr.OnesLike nil |> ignore) |> ignore
    throws<ArgumentNullException> (fun () -> Expr.ZerosLike nil |> ignore) |> ignore
    throws<ArgumentNullException> (fun () -> Export.Text.Render nil |> ignore) |> ignore
    throws<ArgumentNullException> (fun () -> Export.Text.Expression nil |> ignore) |> ignore

let ``Eval names a same-name binding of another variable, and refuses unknown and duplicate bindings`` () =
    let x = Expr.Var("x", Shape.Scalar)
    let y = Expr.Var("y", Shape.Scalar)
    let namesake = Expr.Var("x", Shape.Scalar)
    let g = Expr.Sin x + y
    // Bound under the same name, but another variable: the message says so.
    let ex =
        throws<ArgumentException> (fun () ->
            AD.Eval(g, struct (namesake, Value.Scalar 1.0), struct (y, Value.Scalar 2.0)) |> ignore)

    Assert.That(ex.Message, Does.Contain "does not read it")
    let ex =
        throws<UnboundVariableException> (fun () ->
            AD.Eval(Expr.Sin x, Dictionary<Var, Value>(HashIdentity.Reference)) |> ignore)

    Assert.That(ex.Message, Does.Contain "no value")
    // The graph reads two variables named x; only one is bound.
    let both = Expr.Sin x + Expr.Cos namesake

    let ex =
        throws<UnboundVariableException> (fun () -> AD.Eval(both, struct (namesake, Value.Scalar 1.0)) |> ignore)

    for part in [ "'x'"; "another variable"; "identity" ] do
        Assert.That(ex.Message, Does.Contain part)
    // Unknown: bound, but not in the graph.
    let ex =
        throws<ArgumentException> (fun () ->
            AD.Eval(Expr.Sin x, struct (x, Value.Scalar 1.0), struct (y, Value.Scalar 2.0)) |> ignore)

    for part in [ "'y'"; "does not read it" ] do
        Assert.That(ex.Message, Does.Contain part)
    // Duplicate: the same variable twice.
    let ex =
        throws<ArgumentException> (fun () ->
            AD.Eval(Expr.Sin x, struct (x, Value.Scalar 1.0), struct (x, Value.Scalar 2.0)) |> ignore)

    Assert.That(ex.Message, Does.Contain "bound twice")

let ``leaves made on many short-lived threads get different identity hashes`` () =
    let hashes = Collections.Concurrent.ConcurrentBag<int>()

    for _ in 1..500 do
        let t = Thread(fun () -> hashes.Add((Expr.Const 1.0).GetHashCode()))
        t.Start()
        t.Join()

    let distinct = Seq.length (Seq.distinct hashes)
    Assert.That(distinct, Is.EqualTo 500, "one leaf on each of 500 fresh threads")

let ``GradCheck catches a 2x-wrong rule on a function of magnitude 1e-7, and passes the right one`` () =
    let sinWith factor =
        CustomOp(
            "sin_times",
            1,
            Func<ImmutableArray<Shape>, Shape>(fun s -> s[0]),
            Func<ImmutableArray<Value>, Value>(fun v -> v[0].Map(fun a -> Math.Sin a)),
            Func<int, ImmutableArray<Expr>, Expr, Expr, Expr>(fun _ x _ ybar -> ybar * (factor * Expr.Cos x[0])),
            Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr>, Expr>(fun x _ dx -> dx[0] * (factor * Expr.Cos x[0]))
        )

    let at = Value.FromArray [| 0.3; -1.1; 2.0 |]

    let check factor =
        GradCheck.Run(unary (fun x -> 1e-7 * Expr.Create(sinWith factor, x)), at, Tolerance.Default, order = 1)

    let wrong = check 2.0
    Assert.That(wrong.Passed, Is.False, wrong.ToString())
    Assert.That(wrong.ToString(), Does.Contain "magnitude")
    let right = check 1.0
    Assert.That(right.Passed, right.ToString())

// ------------------------------------------------------------------ every bad-input error names the user's line

/// The message ends with " (at Reliability.fs:LINE)".
let private namesLine (line: int) (ex: exn) =
    Assert.That(ex.Message, Does.Contain $"(at Reliability.fs:{line})", ex.Message)

let ``exceptions for bad input name the file and line of the user's code`` () =
    let a = Expr.Const(Value.FromArray [| 1.0; 2.0 |])
    let b = Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0 |])
    let line = int __LINE__ + 1
    throws<ShapeMismatchException> (fun () -> Expr.Add(a, b) |> ignore) |> namesLine line
    let line = int __LINE__ + 1
    throws<ArgumentOutOfRangeException> (fun () -> a[5] |> ignore) |> namesLine line
    let line = int __LINE__ + 1
    throws<ArgumentNullException> (fun () -> Expr.Sin nil |> ignore) |> namesLine line
    let line = int __LINE__ + 1
    throws<UnboundVariableException> (fun () -> (Expr.Var("x", Shape.Scalar) :> Expr).Value |> ignore) |> namesLine line
    let line = int __LINE__ + 1
    throws<Collections.Generic.KeyNotFoundException> (fun () -> Params.Of(struct ("w", Value.Scalar 1.0))["v"] |> ignore) |> namesLine line
    let line = int __LINE__ + 1
    throws<InvalidOperationException> (fun () -> (Value.FromArray [| 1.0 |]).ToScalar() |> ignore) |> namesLine line
    // From a combinator: the line that calls it.
    let grad = AD.Grad(unary (fun x -> x * 2.0))
    let line = int __LINE__ + 1
    throws<NonScalarOutputException> (fun () -> grad.Invoke(Value.FromArray [| 1.0; 2.0 |]) |> ignore) |> namesLine line
    // Inside the function being differentiated: the line in that function.
    let f (x: Expr) =
        x + b // line of the bad op

    let line = int __LINE__ - 2

    throws<ShapeMismatchException> (fun () -> AD.Grad(unary (fun x -> Expr.Sum(f x))).Invoke(Value.FromArray [| 1.0; 2.0 |]) |> ignore)
    |> namesLine line

open Expecto

[<Tests>]
let tests =
    testList "Reliability" [
        testCase "a custom op whose rule reads captured state gives the current gradient in Grad, Gradients and Jvp" ``a custom op whose rule reads captured state gives the current gradient in Grad, Gradients and Jvp``
        testCase "a custom op's rule may read its inputs' values, in AD.Grad as in AD.Gradients" ``a custom op's rule may read its inputs' values, in AD.Grad as in AD.Gradients``
        testCase "a custom op's rule may use a traced variable it captured, in AD.Grad as in AD.Gradients" ``a custom op's rule may use a traced variable it captured, in AD.Grad as in AD.Gradients``
        testCase "a class derived from Op runs its rule on the real nodes too" ``a class derived from Op runs its rule on the real nodes too``
        testCase "a custom op whose forward returns another shape than its shape rule is refused where the node is built" ``a custom op whose forward returns another shape than its shape rule is refused where the node is built``
        testCase "a matrix shape with more elements than an array holds is refused where it is made" ``a matrix shape with more elements than an array holds is refused where it is made``
        // It measures the process heap: no other test may allocate meanwhile.
        testSequenced <| testCase "custom ops made per call and capturing data are not kept alive" ``custom ops made per call and capturing data are not kept alive``
        // It measures the process heap: no other test may allocate meanwhile.
        testSequenced <| testCase "ten thousand cross-entropy gradients with fresh labels hold the heap under 20 MB" ``ten thousand cross-entropy gradients with fresh labels hold the heap under 20 MB``
        // It measures the process heap: no other test may allocate meanwhile.
        testSequenced <| testCase "the compiled-rule memo is bounded in bytes, not only in entries" ``the compiled-rule memo is bounded in bytes, not only in entries``
        testCase "OnesLike, ZerosLike and the text renderings refuse null" ``OnesLike, ZerosLike and the text renderings refuse null``
        testCase "Eval names a same-name binding of another variable, and refuses unknown and duplicate bindings" ``Eval names a same-name binding of another variable, and refuses unknown and duplicate bindings``
        testCase "leaves made on many short-lived threads get different identity hashes" ``leaves made on many short-lived threads get different identity hashes``
        testCase "GradCheck catches a 2x-wrong rule on a function of magnitude 1e-7, and passes the right one" ``GradCheck catches a 2x-wrong rule on a function of magnitude 1e-7, and passes the right one``
        testCase "exceptions for bad input name the file and line of the user's code" ``exceptions for bad input name the file and line of the user's code``
    ]
