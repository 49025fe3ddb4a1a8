/// Semantics of the transforms: stop-gradient, accumulation laws, Params arithmetic and immutability, purity,
/// zero gradients, gradients with respect to intermediate nodes, and perturbation confusion.
module Functional.Autodiff.Tests.Semantics

open System
open System.Collections.Immutable
open FsCheck
open FsCheck.FSharp
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

[<Literal>]
let Seed = "(20261122,40501)"

let private show (xs: float[]) =
    xs |> Array.map g17 |> String.concat "; " |> sprintf "[%s]"

let showParams (p: Params) =
    p.Entries
    |> Seq.map (fun kv -> $"{kv.Key}: {fmtValue kv.Value}")
    |> String.concat ", "
    |> sprintf "{%s}"

/// A vector of 1–5 elements in [−2, 2].
[<StructuredFormatDisplay("{Display}")>]
type Vec =
    {
        Elements: float[]
    }

    member v.Display = show v.Elements
    member v.Value = Value.FromArray(Array.copy v.Elements)
    member v.T = T.vector (Array.copy v.Elements)
    override v.ToString() = v.Display

/// Three parameter sets of the same names and shapes (w: vector(k), b: scalar, M: matrix(m, k)) and two numbers.
[<StructuredFormatDisplay("{Display}")>]
type Triple =
    {
        P: Params
        Q: Params
        R: Params
        A: float
        B: float
    }

    member t.Display =
        $"p = {showParams t.P}\nq = {showParams t.Q}\nr = {showParams t.R}\na = {g17 t.A}, b = {g17 t.B}"

    override t.ToString() = t.Display

let number =
    Gen.choose (-1_000_000_000, 1_000_000_000)
    |> Gen.map (fun k -> 2.0 * float k / 1e9)

let elements n = Gen.arrayOfLength n number

let vecGen =
    gen {
        let! n = Gen.choose (1, 5)
        let! e = elements n
        return { Elements = e }
    }

let paramsGen m k =
    gen {
        let! w = elements k
        let! b = number
        let! mm = elements (m * k)

        return
            Params.Of(
                struct ("w", Value.FromArray w),
                struct ("b", Value.Scalar b),
                struct ("M",
                        T.toValue
                            {
                                Shape = Shape.Matrix(m, k)
                                Data = mm
                            })
            )
    }

let tripleGen =
    gen {
        let! m = Gen.choose (1, 4)
        let! k = Gen.choose (1, 4)
        let! p = paramsGen m k
        let! q = paramsGen m k
        let! r = paramsGen m k
        let! a = number
        let! b = number
        return { P = p; Q = q; R = r; A = a; B = b }
    }

type Arbs =
    static member Vec() = Arb.fromGen vecGen
    static member Triple() = Arb.fromGen tripleGen

/// Every number of a Params, in order, for comparisons.
let flat (p: Params) =
    p.Entries |> Seq.collect (fun kv -> kv.Value.ToArray()) |> Array.ofSeq

let assertParamsBits (what: string) (expected: Params) (actual: Params) =
    Assert.That(List.ofSeq actual.Names, Is.EqualTo(List.ofSeq expected.Names), $"{what}: names and order")

    for kv in expected do
        assertBitIdentical $"{what}, entry {kv.Key}" kv.Value actual[kv.Key]

let assertParamsClose (tol: Tolerance) (what: string) (expected: Params) (actual: Params) =
    Assert.That(List.ofSeq actual.Names, Is.EqualTo(List.ofSeq expected.Names), $"{what}: names and order")

    for kv in expected do
        assertAllClose tol $"{what}, entry {kv.Key}" "" (T.ofValue kv.Value) (T.ofValue actual[kv.Key])

let grad1 (f: Expr -> Expr) (x: Value) = AD.Grad(Func<Expr, Expr> f).Invoke x

// ------------------------------------------------------------------ stop-gradient

let ``stop_gradient passes the value through and has zero gradient`` (x: Vec) =
    let v = Expr.Var("x", x.Value)
    assertBitIdentical "value of stop_gradient(x)" x.Value (Expr.StopGradient v).Value
    // d/dx Σ stop(x) ⊙ x = stop(x): the stopped factor is a constant.
    assertBitIdentical "grad of sum(stop(x) * x)" x.Value (grad1 (fun e -> Expr.Sum(Expr.StopGradient e * e)) x.Value)

    assertBitIdentical
        "grad of sum(stop(x))"
        (Value.Zeros v.Shape)
        (grad1 (fun e -> Expr.Sum(Expr.StopGradient e)) x.Value)
    // A gradient flowing only through stop_gradient is zero, and Gradients says so with zeros of the shape.
    let g = AD.Gradients(Expr.Sum(Expr.Sin(Expr.StopGradient v)), v)[0]
    assertBitIdentical "Gradients through stop_gradient only" (Value.Zeros v.Shape) g.Value

let ``stop_gradient stops the second derivative too`` (x: Vec) =
    let v = Expr.Var("x", x.Value)
    let y = Expr.Sum(Expr.Sin v * Expr.StopGradient(Expr.Square v))
    let g = AD.Gradients(y, v)[0]
    let g2 = AD.Gradients(Expr.Sum g, v)[0]
    let xs = x.Elements
    let context = $"x = {x.Display}"

    assertAllClose
        rounding
        "first derivative cos(x) x²"
        context
        (T.vector (xs |> Array.map (fun x -> cos x * x * x)))
        (T.ofValue g.Value)

    assertAllClose
        rounding
        "second derivative -sin(x) x²"
        context
        (T.vector (xs |> Array.map (fun x -> -(sin x) * x * x)))
        (T.ofValue g2.Value)

// ------------------------------------------------------------------ accumulation

let f (x: Expr) = Expr.Sum(Expr.Sin x * x)

let g (x: Expr) =
    Expr.Sum(Expr.Exp(x * 0.3) / (1.0 + Expr.Square x))

let ``grad f + grad g = grad (f + g)`` (x: Vec) =
    let sum = grad1 f x.Value + grad1 g x.Value
    let together = grad1 (fun e -> f e + g e) x.Value

    assertAllClose
        rounding
        "grad f + grad g against grad (f + g)"
        $"x = {x.Display}"
        (T.ofValue sum)
        (T.ofValue together)

/// One example's loss for a batch target t: Σ (tanh(M w + b) − t)².
let loss (t: Value) (p: ParamVars) =
    Expr.Sum(Expr.Square(Expr.Tanh(Expr.MatMul(p["M"], p["w"]) + p["b"]) - Expr.Const t))

let ``accumulating gradients over batches with a fold is the gradient of the total`` (t: Triple) =
    let m = t.P["M"].Shape.Rows

    let batches =
        [ for k in 1..3 -> Value.Full(Shape.Vector m, float k / 4.0 - t.A / 4.0) ]

    let before = flat t.P

    let folded =
        batches
        |> List.map (fun b -> AD.Grad(Func<ParamVars, Expr>(loss b)).Invoke t.P)
        |> List.fold (+) (t.P.ZerosLike())

    let total =
        AD.Grad(Func<ParamVars, Expr>(fun p -> batches |> List.map (fun b -> loss b p) |> List.reduce (+))).Invoke t.P

    assertParamsClose
        { Absolute = 1e-12; Relative = 1e-10 }
        "fold of batch gradients against gradient of the total"
        total
        folded

    Assert.That(flat t.P, Is.EqualTo before, "the parameters are unchanged")

// ------------------------------------------------------------------ Params laws

let ``Params addition, subtraction and scaling laws`` (t: Triple) =
    let p, q, r, a, b = t.P, t.Q, t.R, t.A, t.B
    let snapshot = flat p, flat q, flat r
    assertParamsBits "p + q = q + p" (p + q) (q + p)
    assertParamsClose rounding "(p + q) + r = p + (q + r)" ((p + q) + r) (p + (q + r))
    assertParamsBits "p - p = zeros" (p.ZerosLike()) (p - p)
    assertParamsBits "p + zeros = p" p (p + p.ZerosLike())
    assertParamsBits "p - q = p + (-1) q" (p - q) (p + (-1.0) * q)
    assertParamsBits "a p = p a" (a * p) (p * a)
    assertParamsBits "2 p = p + p" (p + p) (2.0 * p)
    assertParamsBits "1 p = p" p (1.0 * p)
    assertParamsClose rounding "(a + b) p = a p + b p" ((a + b) * p) (a * p + b * p)
    assertParamsClose rounding "a (p + q) = a p + a q" (a * (p + q)) (a * p + a * q)
    Assert.That(flat (0.0 * p) |> Array.forall (fun x -> x = 0.0), "0 p is zeros")
    Assert.That((flat p, flat q, flat r), Is.EqualTo snapshot, "the operands are unchanged")

let ``Params ZerosLike keeps names, order and shapes`` (t: Triple) =
    let before = flat t.P
    let z = t.P.ZerosLike()
    Assert.That(List.ofSeq z.Names, Is.EqualTo(List.ofSeq t.P.Names))

    for kv in t.P do
        Assert.That(z[kv.Key].Shape, Is.EqualTo kv.Value.Shape)
        Assert.That(z[kv.Key].ToArray() |> Array.forall (fun x -> x = 0.0), $"{kv.Key} is zeros")

    Assert.That(flat t.P, Is.EqualTo before, "p is unchanged")

let ``Params SetItem replaces one entry in a copy`` (t: Triple) =
    let p = t.P
    let before = flat p
    let b' = Value.Scalar t.A
    let p2 = p.SetItem("b", b')
    assertBitIdentical "the set entry" b' p2["b"]
    assertBitIdentical "w unchanged in the copy" p["w"] p2["w"]
    assertBitIdentical "M unchanged in the copy" p["M"] p2["M"]
    Assert.That(List.ofSeq p2.Names, Is.EqualTo [ "w"; "b"; "M" ], "the order is kept")
    Assert.That(flat p, Is.EqualTo before, "the original is unchanged")
    let p3 = p.SetItem("extra", Value.Scalar t.B)
    Assert.That(List.ofSeq p3.Names, Is.EqualTo [ "w"; "b"; "M"; "extra" ], "a new name is appended")
    Assert.That(p.Count, Is.EqualTo 3, "the original keeps its entries")

    let ex =
        throws<ShapeMismatchException>(fun () -> p.SetItem("b", Value.FromArray [| 1.0; 2.0 |]) |> ignore)

    Assert.That(ex.Message, Does.Contain "b")

let ``Params of different names do not combine`` () =
    let p = Params.Of(struct ("w", Value.Scalar 1.0))
    let q = Params.Of(struct ("v", Value.Scalar 1.0))
    let ex = throws<ArgumentException>(fun () -> p + q |> ignore)
    Assert.That(ex.Message, Does.Contain("w").And.Contain("v"))

// ------------------------------------------------------------------ purity

let ``Grad is pure: repeated calls give bit-identical results and leave the input alone`` (x: Vec) =
    let input = x.Value
    let before = input.ToArray()

    let h (e: Expr) =
        Expr.Sum(Expr.Tanh(e * e) * Expr.Exp(Expr.Sin e)) + Expr.Norm e

    let gradH = AD.Grad(Func<Expr, Expr> h)
    let first = gradH.Invoke input
    assertBitIdentical "second call of the same Func" first (gradH.Invoke input)
    assertBitIdentical "a fresh AD.Grad" first (AD.Grad(Func<Expr, Expr> h).Invoke input)
    let struct (value, g) = AD.ValueAndGrad(Func<Expr, Expr> h).Invoke input
    assertBitIdentical "ValueAndGrad's gradient" first g
    assertBitIdentical "ValueAndGrad's value" (h (Expr.Const input)).Value value
    Assert.That(input.ToArray(), Is.EqualTo before, "the input is unchanged")

let ``a Vjp pullback is pure and linear`` (x: Vec) =
    let struct (y, pullback) =
        AD.Vjp(Func<Expr, Expr>(fun e -> Expr.Sin e * e)).Invoke x.Value

    let u = Value.FromArray(x.Elements |> Array.map (fun v -> 1.0 - v))
    let first = pullback.Invoke u
    assertBitIdentical "second call of the pullback" first (pullback.Invoke u)
    assertBitIdentical "the pullback of 2u is 2 pullback(u)" (2.0 * first) (pullback.Invoke(2.0 * u))
    let expected = x.Elements |> Array.mapi (fun k v -> u[k] * (cos v * v + sin v))

    assertAllClose
        rounding
        "pullback against u (x cos x + sin x)"
        $"x = {x.Display}"
        (T.vector expected)
        (T.ofValue first)
    // The vectorised kernels may differ from System.Math by an ulp, so the primal is compared to rounding.
    assertAllClose
        rounding
        "the primal"
        $"x = {x.Display}"
        (T.vector (x.Elements |> Array.map (fun v -> sin v * v)))
        (T.ofValue y)

let ``the Params pullback of a vector output is the gradient of <u, f(p)>`` (t: Triple) =
    let f (p: ParamVars) =
        Expr.Tanh(Expr.MatMul(p["M"], p["w"]) + p["b"])

    let m = t.P["M"].Shape.Rows
    let u = Value.FromArray(Array.init m (fun k -> t.A - float k))
    let struct (y, pullback) = AD.Vjp(Func<ParamVars, Expr> f).Invoke t.P
    Assert.That(y.Shape, Is.EqualTo(Shape.Vector m))

    let viaGrad =
        AD.Grad(Func<ParamVars, Expr>(fun p -> Expr.Sum(f p * Expr.Const u))).Invoke t.P

    assertParamsClose rounding "pullback(u) against grad <u, f(p)>" viaGrad (pullback.Invoke u)

// ------------------------------------------------------------------ zero gradients

let ``an output that does not depend on the input has a zero gradient`` (x: Vec) =
    let zeros = Value.Zeros(Shape.Vector x.Elements.Length)
    assertBitIdentical "constant output" zeros (grad1 (fun _ -> Expr.Const 3.0) x.Value)

    let struct (_, gb) =
        AD.Grad(fun (a: Expr) (_: Expr) -> Expr.Sum a).Invoke(Value.Scalar 1.0, x.Value)

    assertBitIdentical "second input unused" zeros gb
    let v = Expr.Var("x", x.Value)
    let other = Expr.Var("other", Value.Full(Shape.Matrix(2, 3), 1.0))
    let gs = AD.Gradients(Expr.Sum(Expr.Sin v), v, other)
    assertBitIdentical "an unrelated variable" (Value.Zeros(Shape.Matrix(2, 3))) gs[1].Value

    let p =
        Params.Of(struct ("w", x.Value), struct ("M", Value.Full(Shape.Matrix(2, 2), 1.0)))

    let gp = AD.Grad(Func<ParamVars, Expr>(fun q -> Expr.Sum(Expr.Exp q["w"]))).Invoke p
    assertBitIdentical "an unused parameter" (Value.Zeros(Shape.Matrix(2, 2))) gp["M"]

// ------------------------------------------------------------------ intermediate nodes

let ``gradients with respect to intermediate nodes`` (x: Vec) =
    let v = Expr.Var("x", x.Value)
    let q = v * v
    let y = Expr.Sum(Expr.Sin q) + Expr.Sum q
    let gs = AD.Gradients(y, q, v, y)
    let xs = x.Elements
    let context = $"x = {x.Display}"

    assertAllClose
        rounding
        "dy/dq = cos q + 1"
        context
        (T.vector (xs |> Array.map (fun x -> cos (x * x) + 1.0)))
        (T.ofValue gs[0].Value)

    assertAllClose
        rounding
        "dy/dx = 2x (cos q + 1)"
        context
        (T.vector (xs |> Array.map (fun x -> 2.0 * x * (cos (x * x) + 1.0))))
        (T.ofValue gs[1].Value)

    assertBitIdentical "dy/dy = 1" (Value.Scalar 1.0) gs[2].Value

let ``a node used several times accumulates its cotangents`` (x: Vec) =
    let context = $"x = {x.Display}"
    let xs = x.Elements

    assertAllClose
        rounding
        "grad sum(x * x)"
        context
        (T.vector (xs |> Array.map (fun x -> 2.0 * x)))
        (T.ofValue (grad1 (fun e -> Expr.Sum(e * e)) x.Value))

    assertBitIdentical
        "grad sum(x + x + x)"
        (Value.Full(Shape.Vector xs.Length, 3.0))
        (grad1 (fun e -> Expr.Sum(e + e + e)) x.Value)

// ------------------------------------------------------------------ nesting

let ``no perturbation confusion: d/dx [x d/dy (x + y)] = 1`` () =
    for x0 in [ -2.0; 0.0; 0.5; 3.0 ] do
        let outer (x: Expr) =
            let inner = AD.Grad(Func<Expr, Expr>(fun y -> x + y)).Invoke(Value.Scalar 1.0)
            x * Expr.Const inner

        Assert.That((grad1 outer (Value.Scalar x0)).ToScalar(), Is.EqualTo 1.0, $"at x = {g17 x0}")
        // The same at graph level: the inner derivative is a graph over fresh variables.
        let x = Expr.Var("x", Value.Scalar x0)
        let y = Expr.Var("y", Value.Scalar 1.0)
        let inner = AD.Gradients(x + y, y)[0]
        let d = AD.Gradients(x * inner, x)[0]
        Assert.That(d.Value.ToScalar(), Is.EqualTo 1.0, $"graph level at x = {g17 x0}")

let ``AD.Eval of a traced graph with a new binding equals re-tracing at the new value`` (x: Vec) =
    let build (v: Expr) =
        Expr.Sum(Expr.Tanh(v * 1.5) * Expr.Exp(Expr.Cos v)) + Expr.Norm v

    let v = Expr.Var("x", x.Value)
    let y = build v
    let x' = Value.FromArray(x.Elements |> Array.map (fun e -> 0.5 - e))
    let rebound = AD.Eval(y, bindings [ v, x' ])
    assertBitIdentical "Eval with a new binding" (build (Expr.Var("x", x'))).Value rebound
    assertBitIdentical "the traced graph keeps its own value" (build (Expr.Const x.Value)).Value y.Value

// ------------------------------------------------------------------ documented conventions at kinks

let ``derivatives at kinks follow the documented conventions`` () =
    let zero3 = Value.Zeros(Shape.Vector 3)
    assertBitIdentical "relu'(0) = 0" zero3 (grad1 (fun e -> Expr.Sum(Expr.Relu e)) zero3)
    assertBitIdentical "abs'(0) = 0" zero3 (grad1 (fun e -> Expr.Sum(Expr.Abs e)) zero3)
    assertBitIdentical "grad of the norm at 0 is 0" zero3 (grad1 Expr.Norm zero3)
    let r = Expr.Create(SafeReciprocalOp.Instance, Expr.Const 0.0)
    Assert.That(r.Value.ToScalar(), Is.EqualTo 0.0, "safe_reciprocal(0) = 0")

let ``losses and their gradients stay finite for large logits`` () =
    let z = Value.FromArray [| 800.0; -800.0; 0.0 |]

    let ce =
        AD.ValueAndGrad(Func<Expr, Expr>(fun e -> Expr.SoftmaxCrossEntropy(e, 1))).Invoke z

    let bce =
        AD
            .ValueAndGrad(
                Func<Expr, Expr>(fun e ->
                    Expr.BinaryCrossEntropyWithLogits(e, Expr.Const(Value.FromArray [| 0.0; 1.0; 0.5 |])))
            )
            .Invoke
            z

    let lsm =
        AD
            .ValueAndGrad(
                Func<Expr, Expr>(fun e -> Expr.Sum(Expr.LogSoftmax e * Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0 |])))
            )
            .Invoke
            z

    for name, struct (v: Value, g: Value) in [ "softmax_cross_entropy", ce; "bce", bce; "log_softmax", lsm ] do
        Assert.That(Double.IsFinite(v.ToScalar()), $"{name} value {g17 (v.ToScalar())}")
        Assert.That(g.ToArray() |> Array.forall Double.IsFinite, $"{name} gradient {fmtValue g}")

    let struct (v, _) = ce
    Assert.That(v.ToScalar(), Is.EqualTo(1600.0).Within(1e-9), "cross-entropy of the class 1600 below the max")

let ``Grad of a function that returns a gradient graph is the second derivative`` (x: Vec) =
    // d/dx Σ d/dx Σ sin(x)·x = d/dx Σ (cos x · x + sin x) = −sin x · x + 2 cos x
    let inner (e: Expr) =
        AD.Gradients(Expr.Sum(Expr.Sin e * e), e)[0]

    let second = grad1 (fun e -> Expr.Sum(inner e)) x.Value
    let expected = x.Elements |> Array.map (fun v -> -(sin v) * v + 2.0 * cos v)

    assertAllClose
        rounding
        "second derivative through AD.Grad"
        $"x = {x.Display}"
        (T.vector expected)
        (T.ofValue second)

let ``the norm and its gradient are right for very large and very small elements`` () =
    // ‖[3s, 4s]‖ = 5s, ∇ = [0.6, 0.8], at every scale s whose result is a normal double.
    for s in [ 1e-200; 1e-160; 1e-100; 1.0; 1e100; 1e154; 1e200 ] do
        let x = Value.FromArray [| 3.0 * s; 4.0 * s |]
        let struct (n, g) = AD.ValueAndGrad(Func<Expr, Expr> Expr.Norm).Invoke x
        let context = $"x = {fmtValue x}"
        assertAllClose { Absolute = 0.0; Relative = 1e-14 } "norm" context (T.scalar (5.0 * s)) (T.ofValue n)
        assertAllClose rounding "gradient of the norm" context (T.vector [| 0.6; 0.8 |]) (T.ofValue g)

let ``softplus keeps its tiny values for very negative inputs`` () =
    // ln(1 + e^-40) = 4.248354255291589e-18; a naive log(1 + exp x) rounds it to 0.
    let y = Expr.Softplus(Expr.Const -40.0).Value.ToScalar()
    Assert.That(y, Is.EqualTo(4.248354255291589e-18).Within(1e-30))

// ------------------------------------------------------------------ data is an input, not part of an op

/// Logits of 16 rows and 100 classes, and a set of labels for minibatch k, different for every k below 10,000.
let private logits16x100 =
    T.toValue (T.matrix 16 100 (fun i j -> sin (float (7 * i + 3 * j))))

let private labelsOf (k: int) =
    List.init 16 (fun r ->
        match r with
        | 0 -> k % 100
        | 1 -> k / 100 % 100
        | _ -> r * 17 % 100)

let ``softmax cross-entropy is one op whatever the labels, which are a constant input`` () =
    let z = Expr.Const logits16x100

    let a, b =
        Expr.SoftmaxCrossEntropy(z, labelsOf 1), Expr.SoftmaxCrossEntropy(z, labelsOf 2)

    Assert.That(obj.ReferenceEquals(a.Op, b.Op), "one op instance for two sets of labels")
    Assert.That(obj.ReferenceEquals(a.Op, SoftmaxCrossEntropyOp.Instance), "the singleton")
    Assert.That(a.Inputs[1], Is.InstanceOf<Const>(), "the labels are a constant input")

    assertBitIdentical
        "the labels input holds the classes as doubles"
        (Value.FromArray(labelsOf 1 |> List.map float |> Array.ofList))
        a.Inputs[1].Value

    let v = Expr.SoftmaxCrossEntropy(Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0 |]), 2)
    assertBitIdentical "the class of one vector of logits is a scalar" (Value.Scalar 2.0) v.Inputs[1].Value

let ``gradients with fresh labels on every call do not grow the heap`` () =
    // The issue's measurement, scaled down: with the labels inside the op, each call added a compiled-rule memo entry
    // holding a 16×100 one-hot matrix (12.8 kB), 1,000 calls about 13 MB that were never released.
    let grad (k: int) =
        AD.Grad(Func<Expr, Expr>(fun z -> Expr.SoftmaxCrossEntropy(z, labelsOf k))).Invoke logits16x100

    for k in 1..20 do
        grad k |> ignore

    let before = GC.GetTotalMemory true

    for k in 21..1020 do
        grad k |> ignore

    let grown = GC.GetTotalMemory true - before
    Assert.That(grown, Is.LessThan(2_000_000L), $"the heap grew by {grown} bytes over 1,000 calls")

let ``the cross-entropy's compiled rule holds no labels: it reads them from its input`` () =
    // The VJP rule on placeholders, as CompiledRules compiles it: a pure function of the input shapes.
    let z, c = Expr.Var("z", Shape.Matrix(2, 3)), Expr.Var("c", Shape.Vector 2)
    let y, ybar = Expr.Var("y", Shape.Scalar), Expr.Var("ybar", Shape.Scalar)
    let op = SoftmaxCrossEntropyOp.Instance

    let rule =
        match op.Vjp(0, ImmutableArray.Create<Expr>(z, c), y, ybar) with
        | null -> failwith "no cotangent for the logits"
        | g -> g

    let constants =
        Graph.PostOrder rule |> Seq.filter (fun n -> n :? Const) |> List.ofSeq

    Assert.That(
        constants |> List.forall (fun n -> n.Shape.IsScalar),
        $"the rule's constants are scalars only: {constants |> List.map (fun n -> n.Shape)}"
    )

    Assert.That(op.Vjp(1, ImmutableArray.Create<Expr>(z, c), y, ybar), Is.Null, "no cotangent for the labels")

    // Evaluated with two sets of labels, the same rule gives each its own gradient (softmax − one-hot) ȳ / 2.
    let zv = T.matrix 2 3 (fun i j -> float (i - j) * 0.5)
    let p = T.ofValue (Expr.Softmax(Expr.Const(T.toValue zv))).Value

    for labels in [ [| 0; 2 |]; [| 1; 1 |] ] do
        let classes = Value.FromArray(labels |> Array.map float)

        let expected =
            T.matrix 2 3 (fun i j -> (T.at p i j - (if labels[i] = j then 1.0 else 0.0)) * 3.0 / 2.0)

        let actual =
            AD.Eval(rule, bindingsFor rule (bindings [ z, T.toValue zv; c, classes; y, Value.Scalar 0.0; ybar, Value.Scalar 3.0 ]))

        assertAllClose rounding "the rule's cotangent" $"labels {labels}" expected (T.ofValue actual)

let ``no derivative flows to the labels`` () =
    let z = Expr.Const(T.toValue (T.matrix 2 3 (fun i j -> float (i + j))))
    let c = Expr.Var("c", Value.FromArray [| 0.0; 2.0 |])
    let loss = SoftmaxCrossEntropyOp.Instance
    let y = Expr.Create(loss, z, c)

    assertBitIdentical
        "the gradient with respect to the labels"
        (Value.Zeros(Shape.Vector 2))
        (AD.Gradients(y, c)[0]).Value

    let struct (_, tangent) =
        AD.Jvp(Func<Expr, Expr>(fun e -> Expr.Create(loss, z, e))).Invoke(c.Value, Value.FromArray [| 1.0; -1.0 |])

    assertBitIdentical "the tangent along the labels" (Value.Scalar 0.0) tangent

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Semantics" [
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "stop_gradient passes the value through and has zero gradient" ``stop_gradient passes the value through and has zero gradient``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "stop_gradient stops the second derivative too" ``stop_gradient stops the second derivative too``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "grad f + grad g = grad (f + g)" ``grad f + grad g = grad (f + g)``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "accumulating gradients over batches with a fold is the gradient of the total" ``accumulating gradients over batches with a fold is the gradient of the total``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "Params addition, subtraction and scaling laws" ``Params addition, subtraction and scaling laws``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "Params ZerosLike keeps names, order and shapes" ``Params ZerosLike keeps names, order and shapes``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "Params SetItem replaces one entry in a copy" ``Params SetItem replaces one entry in a copy``
        testCase "Params of different names do not combine" ``Params of different names do not combine``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "Grad is pure: repeated calls give bit-identical results and leave the input alone" ``Grad is pure: repeated calls give bit-identical results and leave the input alone``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "a Vjp pullback is pure and linear" ``a Vjp pullback is pure and linear``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "the Params pullback of a vector output is the gradient of <u, f(p)>" ``the Params pullback of a vector output is the gradient of <u, f(p)>``
        testPropertyWithConfig { replay Seed with maxTest = 20; arbitrary = [ typeof<Arbs> ] } "an output that does not depend on the input has a zero gradient" ``an output that does not depend on the input has a zero gradient``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "gradients with respect to intermediate nodes" ``gradients with respect to intermediate nodes``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "a node used several times accumulates its cotangents" ``a node used several times accumulates its cotangents``
        testCase "no perturbation confusion: d/dx [x d/dy (x + y)] = 1" ``no perturbation confusion: d/dx [x d/dy (x + y)] = 1``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "AD.Eval of a traced graph with a new binding equals re-tracing at the new value" ``AD.Eval of a traced graph with a new binding equals re-tracing at the new value``
        testCase "derivatives at kinks follow the documented conventions" ``derivatives at kinks follow the documented conventions``
        testCase "losses and their gradients stay finite for large logits" ``losses and their gradients stay finite for large logits``
        testPropertyWithConfig { replay Seed with maxTest = 50; arbitrary = [ typeof<Arbs> ] } "Grad of a function that returns a gradient graph is the second derivative" ``Grad of a function that returns a gradient graph is the second derivative``
        testCase "the norm and its gradient are right for very large and very small elements" ``the norm and its gradient are right for very large and very small elements``
        testCase "softplus keeps its tiny values for very negative inputs" ``softplus keeps its tiny values for very negative inputs``
        testCase "softmax cross-entropy is one op whatever the labels, which are a constant input" ``softmax cross-entropy is one op whatever the labels, which are a constant input``
        // It measures the process heap: no other test may allocate meanwhile.
        testSequenced <| testCase "gradients with fresh labels on every call do not grow the heap" ``gradients with fresh labels on every call do not grow the heap``
        testCase "the cross-entropy's compiled rule holds no labels: it reads them from its input" ``the cross-entropy's compiled rule holds no labels: it reads them from its input``
        testCase "no derivative flows to the labels" ``no derivative flows to the labels``
    ]
