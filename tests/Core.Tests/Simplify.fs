/// Simplify: gradient graphs that read like math. Every rule is exact, so a simplified graph's value is bit-identical
/// to the original's (a NaN must stay a NaN; its sign bit, which IEEE leaves open, may differ) for every binding, on random graphs over symbolic and
/// traced variables and on their gradient graphs; it never has more nodes; simplifying again returns the same
/// instance; a graph no rule touches comes back as itself; equal subgraphs are shared; x·0 and x + 0 are not folded
/// (they are not exact); a million-node chain simplifies; and the printers' and drawings' option changes only what it
/// asks for.
module Functional.Autodiff.Tests.Simplify

open System
open System.Collections.Generic
open System.Collections.Immutable
open FsCheck
open FsCheck.FSharp
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Export
open Functional.Autodiff.Tests.Common

[<Literal>]
let Seed = "(20261122,90901)"

let private count (e: Expr) = Graph.PostOrder(e).Count

/// Distinct nodes under several roots.
let private countAll (roots: Expr seq) =
    let seen = HashSet<Expr>(HashIdentity.Reference)

    for r in roots do
        for node in Graph.PostOrder r do
            seen.Add node |> ignore

    seen.Count

let private same (a: Expr) (b: Expr) = obj.ReferenceEquals(a, b)

/// Equal shapes and, element by element, the same bits or both NaN.
let private sameValue (a: Value) (b: Value) =
    a.Shape = b.Shape
    && Array.forall2
        (fun (x: float) (y: float) -> bits x = bits y || (Double.IsNaN x && Double.IsNaN y))
        (a.ToArray())
        (b.ToArray())

let private assertSameValue (what: string) (expected: Value) (actual: Value) =
    if not (sameValue expected actual) then
        Assert.Fail $"{what}: not bit-identical\n  expected = {fmtValue expected}\n  actual   = {fmtValue actual}"

let private scalarVar name = Expr.Var(name, Shape.Scalar) :> Expr

// ------------------------------------------------------------------ random programs

let private shapes = [| Shape.Scalar; Shape.Vector 3; Shape.Matrix(2, 3) |]

/// −0 by its bits (a literal -0.0 must not be taken for granted).
let private minusZero = BitConverter.Int64BitsToDouble Int64.MinValue

let private specials = [| 0.0; minusZero; 1.0; -1.0; 2.0; 0.5; infinity; nan |]

/// One step of a program: a constant, or an op applied to earlier registers (the three inputs come first).
type Step =
    /// specials[k] of shapes[s], as a constant (broadcast = false) or a broadcast scalar constant.
    | Constant of k: int * s: int * broadcast: bool
    | Unary of name: string * arg: int
    | Binary of name: string * left: int * right: int
    /// The earlier step again: a distinct node of the same structure.
    | Repeat of step: int

let private unaries =
    [|
        "sin"
        "exp"
        "tanh"
        "neg"
        "negneg"
        "square"
        "sqrt"
        "log"
        "abs"
        "relu"
        "stop"
        "stopstop"
        "pow3"
        "transpose2"
        "sum"
        "times1"
        "timesMinus1"
        "div1"
        "plusMinus0"
        "minus0"
        "minus0x"
    |]

let private binaries = [| "+"; "-"; "*"; "/"; "dot"; "matvec"; "negneg*" |]

let private unary (name: string) (x: Expr) : Expr =
    match name with
    | "sin" -> Expr.Sin x
    | "exp" -> Expr.Exp x
    | "tanh" -> Expr.Tanh x
    | "neg" -> -x
    | "negneg" -> -(-x)
    | "square" -> Expr.Square x
    | "sqrt" -> Expr.Sqrt x
    | "log" -> Expr.Log x
    | "abs" -> Expr.Abs x
    | "relu" -> Expr.Relu x
    | "stop" -> Expr.StopGradient x
    | "stopstop" -> Expr.StopGradient(Expr.StopGradient x)
    | "pow3" -> Expr.Pow(x, 3.0)
    | "transpose2" ->
        if x.Shape.IsMatrix then
            Expr.Transpose(Expr.Transpose x)
        else
            -(-x)
    | "sum" -> Expr.Sum x
    | "times1" -> x * 1.0
    | "timesMinus1" -> -1.0 * x
    | "div1" -> x / 1.0
    | "plusMinus0" -> x + minusZero
    | "minus0" -> x - 0.0
    | _ -> minusZero - x

/// Whether an element-wise op takes these shapes (a scalar with anything; + and − also a vector(n) with a matrix(m, n)).
let private fits (name: string) (a: Shape) (b: Shape) =
    a = b
    || a.IsScalar
    || b.IsScalar
    || ((name = "+" || name = "-")
        && ((a.IsMatrix && b.IsVector && b.Length = a.Cols)
            || (b.IsMatrix && a.IsVector && a.Length = b.Cols)))

let private binary (name: string) (a: Expr) (b: Expr) : Expr =
    match name with
    | "dot" ->
        if a.Shape.IsVector && a.Shape = b.Shape then
            Expr.Dot(a, b)
        else
            Expr.Sum a * Expr.Sum b
    | "matvec" ->
        if a.Shape.IsMatrix && b.Shape.IsVector && b.Shape.Length = a.Shape.Cols then
            Expr.MatMul(a, b)
        else
            Expr.Sum(a) + Expr.Sum(b)
    | _ ->
        let b = if fits name a.Shape b.Shape then b else Expr.Sum b

        match name with
        | "+" -> a + b
        | "-" -> a - b
        | "*" -> a * b
        | "/" -> a / b
        | _ -> (-a) * (-b)

/// A program: the steps, and which register is added to the last one in the output.
type Program =
    {
        Steps: Step list
        Extra: int
    }

    override p.ToString() =
        sprintf "%A, output = sum(last) + sum(r%d)" p.Steps p.Extra

/// The program's output (a scalar) over the three inputs.
let run (p: Program) (inputs: Expr list) : Expr =
    let registers = ResizeArray<Expr>(inputs)
    let built = ResizeArray<Step>()

    let rec apply step =
        match step with
        | Constant(k, s, false) -> Expr.Full(shapes[s], specials[k])
        | Constant(k, s, true) -> Expr.BroadcastTo(Expr.Const specials[k], shapes[s])
        | Unary(name, a) -> unary name registers[a]
        | Binary(name, a, b) -> binary name registers[a] registers[b]
        | Repeat k -> apply built[k]

    for step in p.Steps do
        registers.Add(apply step)

        built.Add(
            match step with
            | Repeat k -> built[k]
            | s -> s
        )

    Expr.Sum registers[registers.Count - 1]
    + Expr.Sum registers[p.Extra % registers.Count]

let private stepGen (registers: int) (steps: int) =
    let reg = Gen.choose (0, registers - 1)

    Gen.frequency
        [
            1,
            Gen.map3
                (fun k s b -> Constant(k, s, b))
                (Gen.choose (0, specials.Length - 1))
                (Gen.choose (0, 2))
                (Gen.elements [ false; true ])
            5, Gen.map2 (fun n a -> Unary(n, a)) (Gen.elements unaries) reg
            5, Gen.map3 (fun n a b -> Binary(n, a, b)) (Gen.elements binaries) reg reg
            (if steps > 0 then 1 else 0), Gen.map Repeat (Gen.choose (0, max 0 (steps - 1)))
        ]

let programGen =
    gen {
        let! count = Gen.choose (1, 9)

        let rec steps k acc =
            if k = count then
                Gen.constant (List.rev acc)
            else
                gen {
                    let! s = stepGen (3 + k) k
                    return! steps (k + 1) (s :: acc)
                }

        let! body = steps 0 []
        let! extra = Gen.choose (0, 20)
        return { Steps = body; Extra = extra }
    }

/// A number in [−2, 2], or now and then 0, −0, ±1 or ±∞.
let private number =
    Gen.frequency
        [
            9, Gen.choose (-2_000_000, 2_000_000) |> Gen.map (fun k -> float k / 1e6)
            1, Gen.elements [ 0.0; minusZero; 1.0; -1.0; infinity; -infinity ]
        ]

/// A program with values for its three inputs: a scalar, a vector(3) and a matrix(2, 3).
type Case =
    {
        Program: Program
        Values: Value list
    }

    override c.ToString() =
        sprintf "%O\n  at %s" c.Program (c.Values |> List.map fmtValue |> String.concat ", ")

let private valueGen (s: Shape) =
    Gen.arrayOfLength s.Size number
    |> Gen.map (fun d -> T.toValue { Shape = s; Data = d })

let caseGen =
    gen {
        let! p = programGen
        let! values = shapes |> Array.map valueGen |> List.ofArray |> Gen.sequenceToList
        return { Program = p; Values = values }
    }

type Arbs =
    static member Case() = Arb.fromGen caseGen

/// The output, its gradients with respect to the three inputs, and a second-order gradient.
let private graphsOf (inputs: Expr list) (p: Program) =
    let f = run p inputs
    let g = AD.Gradients(f, List.toArray inputs)
    let second = AD.Gradients(g[0] + Expr.Sum g[1] + Expr.Sum g[2], List.toArray inputs)
    [ yield f; yield! g; yield! second ]

let private checkSimplified (what: string) (c: Case) (value: Expr -> Value) (graphs: Expr list) =
    for k, g in List.indexed graphs do
        let s = Graph.Simplify g

        let context =
            $"{what} {k} of {c}\n  graph      = {Text.Expression(g, 60)}\n  simplified = {Text.Expression(s, 60)}"

        if not (sameValue (value g) (value s)) then
            Assert.Fail $"not bit-identical: {fmtValue (value g)} before, {fmtValue (value s)} after\n{context}"

        Assert.That(count s, Is.LessThanOrEqualTo(count g), $"the node count grew\n{context}")
        Assert.That(same (Graph.Simplify s) s, $"simplifying again changed the graph\n{context}")
    // Simplified together: the same values, no more distinct nodes, and again a fixed point.
    let together = Graph.Simplify(graphs |> List.toArray)

    for g, s in List.zip graphs (List.ofSeq together) do
        if not (sameValue (value g) (value s)) then
            Assert.Fail $"{what}s simplified together: not bit-identical\n{c}\n  graph = {Text.Expression(g, 60)}"

    Assert.That(countAll together, Is.LessThanOrEqualTo(countAll graphs), $"{what}s simplified together grew\n{c}")
    let again = Graph.Simplify(together :> IReadOnlyList<Expr>)
    Assert.That(Seq.forall2 same again together, $"{what}s simplified together: not a fixed point\n{c}")

let ``over symbolic variables bound with AD.Eval, a graph, its gradients and a second order gradient keep their bits``
    (c: Case)
    =
    let vars = shapes |> Array.mapi (fun k s -> Expr.Var($"x{k}", s)) |> List.ofArray
    let all = bindings (List.zip vars c.Values)
    let eval (g: Expr) = AD.Eval(g, bindingsFor g all)
    checkSimplified "graph" c eval (graphsOf (vars |> List.map (fun v -> v :> Expr)) c.Program)

let ``over traced variables, a graph, its gradients and a second order gradient keep their bits`` (c: Case) =
    let vars = c.Values |> List.mapi (fun k v -> Expr.Var($"x{k}", v) :> Expr)
    checkSimplified "traced graph" c (fun g -> g.Value) (graphsOf vars c.Program)

let ``the graphs Diff.Grad builds keep their bits when simplified, and differentiating them again does too`` (c: Case) =
    let x1 = Expr.Var("x1", c.Values[1])
    let x2 = Expr.Var("x2", c.Values[2])

    let f (x0: Expr) =
        run c.Program [ x0; x1 :> Expr; x2 :> Expr ]

    let x0 = Expr.Var("x0", c.Values[0]) :> Expr
    let g = Diff.Grad(Func<Expr, Expr> f).Invoke x0
    let s = Graph.Simplify g
    assertSameValue $"Diff.Grad of {c}" g.Value s.Value
    // The simplified gradient is a graph like any other, and its own gradient is the original's up to rounding: where
    // nodes were merged, their cotangents are summed in another order. The scale of a rounding error is the largest
    // number in the two gradient graphs.
    let dg, ds = AD.Gradients(g, x0)[0], AD.Gradients(s, x0)[0]
    let a, b = dg.Value.ToScalar(), ds.Value.ToScalar()

    if Double.IsFinite a && Double.IsFinite b then
        let scale =
            Seq.append (Graph.PostOrder dg) (Graph.PostOrder ds)
            |> Seq.collect (fun n -> n.Value.ToArray())
            |> Seq.filter Double.IsFinite
            |> Seq.fold (fun m v -> max m (abs v)) 1.0

        Assert.That(
            within
                {
                    Absolute = 1e-12 * scale
                    Relative = 1e-12
                }
                a
                b,
            $"the second derivative: {g17 a}, simplified {g17 b}\n{c}"
        )

// ------------------------------------------------------------------ what it prints

let ``the gradient of x·x prints as x + x, and the default printing is unchanged`` () =
    let x = scalarVar "x"
    let g = AD.Gradients(x * x, x)[0]
    Assert.That(Text.Render g, Is.EqualTo "(1 * x) + (1 * x) : scalar")
    Assert.That(Text.Render(g, simplify = false), Is.EqualTo "(1 * x) + (1 * x) : scalar")
    Assert.That(g.ToString(), Is.EqualTo "(1 * x) + (1 * x) : scalar")
    Assert.That(Text.Render(g, simplify = true), Is.EqualTo "x + x : scalar")
    Assert.That(Text.Expression(g, simplify = true), Is.EqualTo "x + x")
    Assert.That(count (Graph.Simplify g), Is.EqualTo 2)
    let traced = Expr.Var("x", Value.Scalar 3.0) :> Expr
    Assert.That(Text.Render(AD.Gradients(traced * traced, traced)[0], simplify = true), Is.EqualTo "x + x : scalar = 6")

let ``more gradients, before and after`` () =
    let x = scalarVar "x"
    let v = Expr.Var("v", Shape.Vector 3) :> Expr

    let cases =
        [
            AD.Gradients(x * x * x, x)[0],
            "((1 * (x * x)) + ((1 * x) * x)) + ((1 * x) * x)",
            "((x * x) + (x * x)) + (x * x)",
            4
            AD.Gradients(Expr.Sin x * Expr.Exp x, x)[0],
            "((1 * sin(x)) * exp(x)) + ((1 * exp(x)) * cos(x))",
            "(sin(x) * exp(x)) + (exp(x) * cos(x))",
            7
            Diff.Grad(Diff.Grad(Func<Expr, Expr>(fun x -> x * x * x))).Invoke x,
            "((((1 * (1 * x)) + (1 * (1 * x))) + (((1 * x) + (1 * x)) * 1)) + ((1 * 1) * x)) + ((1 * 1) * x)",
            "(((x + x) + (x + x)) + x) + x",
            5
            AD.Gradients(Expr.Sum(v * v), v)[0], "(broadcast(1) * v) + (broadcast(1) * v)", "v + v", 2
            AD.Gradients(Expr.Pow(x, 3.0), x)[0], "1 * ((x ^ 2) * 3)", "(x ^ 2) * 3", 4
        ]

    for g, before, after, nodes in cases do
        Assert.That(Text.Expression g, Is.EqualTo before)
        Assert.That(Text.Expression(g, simplify = true), Is.EqualTo after)
        Assert.That(count (Graph.Simplify g), Is.EqualTo nodes, after)

// ------------------------------------------------------------------ identity, sharing, the rules

let ``a graph no rule changes comes back as the same instance, and so does every node it did not rebuild`` () =
    let x = scalarVar "x"
    let y = Expr.Var("y", Value.FromArray(1.0, -2.0)) :> Expr

    let untouched =
        [
            Expr.Sin x * Expr.Exp x + 2.0
            Expr.Sum(y * y) / x
            x
            Expr.Const 3.0
            x * 0.0
            x + 0.0
        ]

    for e in untouched do
        Assert.That(same (Graph.Simplify e) e, $"{e} was rebuilt")

    let shared = Expr.Sin x * Expr.Exp x
    let s = Graph.Simplify((shared * 1.0) + 2.0)
    Assert.That(same s.Inputs[0] shared, "the subgraph below the rewrite keeps its identity")
    Assert.That(same (Graph.Simplify(ImmutableArray.Create(shared, x) :> IReadOnlyList<Expr>)[0]) shared)

let ``common subexpressions: structurally equal nodes become one, constants by bits, + and * in either order`` () =
    let x = scalarVar "x"
    let y = scalarVar "y"
    let e = Expr.Sin x + Expr.Sin x
    Assert.That(count e, Is.EqualTo 4)
    let s = Graph.Simplify e
    Assert.That(count s, Is.EqualTo 3)
    Assert.That(same s.Inputs[0] s.Inputs[1])
    // Equal constants are one node; +0 and −0 are not equal constants.
    let c = Expr.Const 2.0 * x + Expr.Const 2.0 * y
    Assert.That(count (Graph.Simplify c), Is.EqualTo(count c - 1))
    let zeros = Expr.Const 0.0 * x + Expr.Const minusZero * y
    Assert.That(count (Graph.Simplify zeros), Is.EqualTo(count zeros))
    Assert.That(Text.Expression(Graph.Simplify zeros), Is.EqualTo "(0 * x) + (-0 * y)")
    // x * y and y * x are one node (IEEE + and * are commutative, bit for bit); x - y and y - x are not.
    let m = Graph.Simplify((x * y) + (y * x))
    Assert.That(same m.Inputs[0] m.Inputs[1])
    let d = Graph.Simplify((x - y) + (y - x))
    Assert.That(same d.Inputs[0] d.Inputs[1], Is.False)
    // Parameterised ops compare by their parameters: two pow 2.5 ops are one.
    let p = Expr.Create(PowOp 2.5, x) + Expr.Create(PowOp 2.5, x)
    Assert.That(count (Graph.Simplify p), Is.EqualTo 3)
    // Sharing across several roots: the gradients of sin(x * y) share cos(x * y) once simplified together.
    let f = Expr.Sin(x * y)
    let g = AD.Gradients(f, x, y)
    let together = Graph.Simplify(g :> IReadOnlyList<Expr>)
    Assert.That(Text.Expression together[0], Is.EqualTo "cos(x * y) * y")
    Assert.That(Text.Expression together[1], Is.EqualTo "cos(x * y) * x")
    Assert.That(same together[0].Inputs[0] together[1].Inputs[0], "cos(x * y) is one node")
    Assert.That(countAll together, Is.LessThan(countAll g))

let ``nodes of a user's op are never merged (it may be random), but fold over constants to the value they computed``
    ()
    =
    let calls = ref 0

    let noisy =
        CustomOp(
            "noisy",
            1,
            (fun s -> s[0]),
            (fun v ->
                calls.Value <- calls.Value + 1
                Value.Scalar(v[0].ToScalar() + float calls.Value)),
            (fun _ _ _ ybar -> ybar),
            (fun _ _ dx -> dx[0])
        )

    let x = scalarVar "x"
    let e = Expr.Create(noisy, x) + Expr.Create(noisy, x)
    Assert.That(count (Graph.Simplify e), Is.EqualTo(count e))
    let folded = Expr.Create(noisy, Expr.Const 1.0)
    let value = folded.Value
    let s = Graph.Simplify folded
    Assert.That(s, Is.InstanceOf<Const>())
    assertSameValue "the folded user op" value s.Value

let ``x * 0 is not folded: it is NaN at infinity and −0 at negative x; constants times constants are`` () =
    for v in [ infinity; -infinity; nan; -3.0 ] do
        let x = Expr.Var("x", Value.Scalar v) :> Expr

        for e in [ x * 0.0; 0.0 * x; x * Expr.Zeros(Shape.Scalar) ] do
            let s = Graph.Simplify e
            Assert.That(same s e, $"{e} at x = {g17 v} was simplified to {s}")
            assertSameValue $"{e} at {g17 v}" e.Value s.Value

    Assert.That(Double.IsNaN((Graph.Simplify((Expr.Var("x", Value.Scalar infinity) :> Expr) * 0.0)).Value.ToScalar()))
    let folded = Graph.Simplify(Expr.Const 0.0 * Expr.Const 5.0)
    Assert.That(folded, Is.InstanceOf<Const>())
    Assert.That(bits (folded.Value.ToScalar()), Is.EqualTo(bits 0.0))
    let nanFold = Graph.Simplify(Expr.Const infinity * Expr.Const 0.0)
    Assert.That(nanFold, Is.InstanceOf<Const>())
    Assert.That(Double.IsNaN(nanFold.Value.ToScalar()), "∞ · 0 folds to the kernel's NaN, not to 0")

let ``x + 0 is kept (it turns −0 into +0); x − 0, x + (−0) and (−0) − x are exact and fold`` () =
    let x = Expr.Var("x", Value.Scalar minusZero) :> Expr
    let plus = x + 0.0
    Assert.That(same (Graph.Simplify plus) plus)
    Assert.That(bits (plus.Value.ToScalar()), Is.EqualTo(bits 0.0))
    Assert.That(same (Graph.Simplify(x - 0.0)) x)
    Assert.That(same (Graph.Simplify(x + minusZero)) x)
    Assert.That(same (Graph.Simplify(minusZero + x)) x)
    Assert.That(Text.Expression(Graph.Simplify(minusZero - x)), Is.EqualTo "-x")
    Assert.That(bits ((Graph.Simplify(minusZero - x)).Value.ToScalar()), Is.EqualTo(bits 0.0))
    // x − (−0) is x + 0: kept.
    let minusMinusZero = x - minusZero
    Assert.That(same (Graph.Simplify minusMinusZero) minusMinusZero)

let ``x · 1 and x + (−0) fold only where the result has x's shape`` () =
    let x = scalarVar "x"
    let v = Expr.Var("v", Shape.Vector 3) :> Expr
    let m = Expr.Var("m", Shape.Matrix(2, 3)) :> Expr
    // A scalar times ones(3) is a vector: the ones are what broadcast it, so they stay.
    let widened = x * Expr.Ones(Shape.Vector 3)
    Assert.That(same (Graph.Simplify widened) widened)
    let rows = v + Expr.Full(Shape.Matrix(2, 3), minusZero)
    Assert.That(same (Graph.Simplify rows) rows)
    Assert.That(same (Graph.Simplify(v * 1.0)) v)
    Assert.That(same (Graph.Simplify(Expr.Ones(Shape.Vector 3) * v)) v)
    Assert.That(same (Graph.Simplify(v * Expr.BroadcastTo(Expr.Const 1.0, Shape.Vector 3))) v)

    Assert.That(
        bits (Expr.Full(Shape.Vector 3, minusZero).Value.ToArray()[2]),
        Is.EqualTo(bits minusZero),
        "Full keeps −0"
    )

    Assert.That(same (Graph.Simplify(m + Expr.Full(Shape.Vector 3, minusZero))) m, "a row of −0 added to every row")
    Assert.That(same (Graph.Simplify(m / 1.0)) m)
    Assert.That(Text.Expression(Graph.Simplify(v * -1.0)), Is.EqualTo "-v")

let ``negation pairs, stop-gradient and transpose pairs`` () =
    let a = scalarVar "a"
    let b = scalarVar "b"
    let m = Expr.Var("m", Shape.Matrix(2, 3)) :> Expr
    Assert.That(same (Graph.Simplify(-(-a))) a)
    Assert.That(same (Graph.Simplify(-(-(-(-a))))) a)
    Assert.That(Text.Expression(Graph.Simplify(a - (-b))), Is.EqualTo "a + b")
    Assert.That(Text.Expression(Graph.Simplify(a + (-b))), Is.EqualTo "a - b")
    Assert.That(Text.Expression(Graph.Simplify(-b + a)), Is.EqualTo "a - b")
    Assert.That(Text.Expression(Graph.Simplify(-a * -b)), Is.EqualTo "a * b")
    Assert.That(Text.Expression(Graph.Simplify(-a / -b)), Is.EqualTo "a / b")
    Assert.That(Text.Expression(Graph.Simplify(-a * -1.0)), Is.EqualTo "a")
    Assert.That(Text.Expression(Graph.Simplify(Expr.StopGradient(Expr.StopGradient a))), Is.EqualTo "stop_gradient(a)")
    Assert.That(same (Graph.Simplify(Expr.Transpose(Expr.Transpose m))) m)
    // Constants fold with their own kernels: −(2 · 3) + a is −6 + a.
    Assert.That(Text.Expression(Graph.Simplify(-(Expr.Const 2.0 * 3.0) + a)), Is.EqualTo "-6 + a")
    // A broadcast of a constant is not folded into a larger constant: it stays readable.
    let wide = Expr.BroadcastTo(Expr.Const 2.0, Shape.Vector 100)
    Assert.That(same (Graph.Simplify wide) wide)

let ``bad arguments: null graphs`` () =
    throws<ArgumentNullException>(fun () -> Graph.Simplify(Unchecked.defaultof<Expr>) |> ignore)
    |> ignore

    throws<ArgumentNullException>(fun () -> Graph.Simplify(Unchecked.defaultof<IReadOnlyList<Expr>>) |> ignore)
    |> ignore

    let e =
        throws<ArgumentException>(fun () -> Graph.Simplify([| scalarVar "x"; Unchecked.defaultof<Expr> |]) |> ignore)

    Assert.That(e.Message, Does.Contain "Root 1")
    Assert.That(e.Message, Does.Contain "Simplify.fs:")

// ------------------------------------------------------------------ depth

let ``a million-node chain simplifies without touching the stack`` () =
    let n = 1_000_000
    let s = Expr.Var("s", Shape.Scalar)
    let mutable e = s :> Expr

    // Cycled: × 1 and −(−·) go away, sin and + 1e-7 stay, and the million constants 1e-7 and 1 become two.
    for k in 0 .. n - 1 do
        e <-
            match k % 4 with
            | 0 -> e * 1.0
            | 1 -> -(-e)
            | 2 -> Expr.Sin e
            | _ -> e + 1e-7

    // Before: s and, per four steps, seven nodes (mul, 1, neg, neg, sin, add, 1e-7).
    let simplified = Graph.Simplify e
    Assert.That(count simplified, Is.EqualTo(1 + n / 2 + 1), "s, the sin and add nodes, one constant 1e-7")
    let b = bindings [ s, Value.Scalar 0.3 ]
    assertSameValue "the chain's value" (AD.Eval(e, b)) (AD.Eval(simplified, b))
    Assert.That(same (Graph.Simplify simplified) simplified)

let ``the traced million-node chain of Depth: constants shared, values bit for bit`` () =
    let x = Expr.Var("x", Value.Scalar Depth.x0)
    let y = Depth.chain x
    let s = Graph.Simplify y
    // x, the n op nodes, and three constants (1e-7, 0.999, 1) instead of one per add, mul and sub.
    Assert.That(count s, Is.EqualTo(1 + Depth.n + 3))
    assertSameValue "the chain's value" y.Value s.Value
    Assert.That(s.ToString().Length, Is.LessThan 2000)

// ------------------------------------------------------------------ printers and drawings

let private checkDot = Functional.Autodiff.Tests.Export.checkDot
let private checkMermaid = Functional.Autodiff.Tests.Export.checkMermaid

let private gradientOf () =
    let x = Expr.Var("x", Value.Scalar 3.0) :> Expr
    let y = Expr.Var("y", Value.Scalar -4.0) :> Expr
    let f = Expr.Sin(x * y) * x
    f, x, y, AD.Gradients(f, x, y)

let ``DOT and Mermaid: Simplify draws the simplified graph; the default drawing is unchanged`` () =
    let _, _, _, g = gradientOf ()
    let dx = g[0]

    for render in
        [
            (fun (e: Expr) (o: DrawOptions) -> Dot.Render(e, o))
            (fun e o -> Mermaid.Render(e, o))
        ] do
        let plain = render dx DrawOptions.Default
        Assert.That(render dx (DrawOptions()), Is.EqualTo plain)
        Assert.That(render dx (DrawOptions(Simplify = false)), Is.EqualTo plain)
        let simplified = render dx (DrawOptions(Simplify = true))
        Assert.That(simplified, Is.Not.EqualTo plain)
        Assert.That(simplified, Is.EqualTo(render (Graph.Simplify dx) DrawOptions.Default))

    let plain = checkDot (Dot.Render dx)
    let simplified = checkDot (Dot.Render(dx, DrawOptions(Simplify = true)))
    Assert.That(simplified.Nodes.Length, Is.LessThan plain.Nodes.Length)
    Assert.That(simplified.WithLine "1", Is.Empty, "no constant 1 is left")
    checkMermaid (Mermaid.Render(dx, DrawOptions(Simplify = true))) |> ignore

let ``drawing several roots simplified: they are simplified together, and roots that become one node share it`` () =
    let f, x, _, g = gradientOf ()

    let roots: IReadOnlyList<struct (string * Expr)> =
        [|
            struct ("f", f)
            struct ("∂f/∂x", g[0])
            struct ("∂f/∂y", g[1])
            struct ("x · 1", x * 1.0)
        |]

    let text = Dot.Render(roots, DrawOptions(Simplify = true))
    let seen = checkDot text
    let expected = Graph.Simplify([| f; g[0]; g[1]; x * 1.0 |])
    Assert.That(seen.Nodes.Length, Is.EqualTo(countAll expected))
    // x · 1 is x: the variable is drawn once, marked as the output "x · 1".
    Assert.That(
        seen.Nodes
        |> List.filter (fun n -> List.contains "x" n.Lines && List.contains "x · 1" n.Lines),
        Has.Length.EqualTo 1
    )

    checkMermaid (Mermaid.Render(roots, DrawOptions(Simplify = true))) |> ignore

let ``gradients on a simplified drawing: of the simplified graph they show; of the graph as built they are refused``
    ()
    =
    let _, _, _, g = gradientOf ()
    let dx = g[0]

    let e =
        throws<ArgumentException>(fun () ->
            Dot.Render(dx, DrawOptions(Simplify = true, Gradients = Drawing.GradientsOf dx))
            |> ignore)

    Assert.That(e.Message, Does.Contain "Graph.Simplify")
    Assert.That(e.Message, Does.Contain "Simplify.fs:")

    throws<ArgumentException>(fun () ->
        Mermaid.Render(dx, DrawOptions(Simplify = true, Gradients = Drawing.GradientsOf dx))
        |> ignore)
    |> ignore

    let s = Graph.Simplify dx
    let options = DrawOptions(Simplify = true, Gradients = Drawing.GradientsOf s)
    let text = Dot.Render(s, options)
    Assert.That(text, Is.EqualTo(Dot.Render(s, DrawOptions(Gradients = Drawing.GradientsOf s))))
    Assert.That(text, Does.Contain "grad ")

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Simplify" [
        testPropertyWithConfig { replay Seed with maxTest = 150; arbitrary = [ typeof<Arbs> ] } "over symbolic variables bound with AD.Eval, a graph, its gradients and a second order gradient keep their bits" ``over symbolic variables bound with AD.Eval, a graph, its gradients and a second order gradient keep their bits``
        testPropertyWithConfig { replay Seed with maxTest = 150; arbitrary = [ typeof<Arbs> ] } "over traced variables, a graph, its gradients and a second order gradient keep their bits" ``over traced variables, a graph, its gradients and a second order gradient keep their bits``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "the graphs Diff.Grad builds keep their bits when simplified, and differentiating them again does too" ``the graphs Diff.Grad builds keep their bits when simplified, and differentiating them again does too``
        testCase "the gradient of x·x prints as x + x, and the default printing is unchanged" ``the gradient of x·x prints as x + x, and the default printing is unchanged``
        testCase "more gradients, before and after" ``more gradients, before and after``
        testCase "a graph no rule changes comes back as the same instance, and so does every node it did not rebuild" ``a graph no rule changes comes back as the same instance, and so does every node it did not rebuild``
        testCase "common subexpressions: structurally equal nodes become one, constants by bits, + and * in either order" ``common subexpressions: structurally equal nodes become one, constants by bits, + and * in either order``
        testCase "nodes of a user's op are never merged (it may be random), but fold over constants to the value they computed" ``nodes of a user's op are never merged (it may be random), but fold over constants to the value they computed``
        testCase "x * 0 is not folded: it is NaN at infinity and −0 at negative x; constants times constants are" ``x * 0 is not folded: it is NaN at infinity and −0 at negative x; constants times constants are``
        testCase "x + 0 is kept (it turns −0 into +0); x − 0, x + (−0) and (−0) − x are exact and fold" ``x + 0 is kept (it turns −0 into +0); x − 0, x + (−0) and (−0) − x are exact and fold``
        testCase "x · 1 and x + (−0) fold only where the result has x's shape" ``x · 1 and x + (−0) fold only where the result has x's shape``
        testCase "negation pairs, stop-gradient and transpose pairs" ``negation pairs, stop-gradient and transpose pairs``
        testCase "bad arguments: null graphs" ``bad arguments: null graphs``
        testCase "a million-node chain simplifies without touching the stack" ``a million-node chain simplifies without touching the stack``
        testCase "the traced million-node chain of Depth: constants shared, values bit for bit" ``the traced million-node chain of Depth: constants shared, values bit for bit``
        testCase "DOT and Mermaid: Simplify draws the simplified graph; the default drawing is unchanged" ``DOT and Mermaid: Simplify draws the simplified graph; the default drawing is unchanged``
        testCase "drawing several roots simplified: they are simplified together, and roots that become one node share it" ``drawing several roots simplified: they are simplified together, and roots that become one node share it``
        testCase "gradients on a simplified drawing: of the simplified graph they show; of the graph as built they are refused" ``gradients on a simplified drawing: of the simplified graph they show; of the graph as built they are refused``
    ]
