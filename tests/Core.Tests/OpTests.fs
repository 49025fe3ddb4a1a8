/// The op spec table turned into tests: each property is one Expecto test per op (a test list over the table),
/// checked at several random points drawn with a fixed seed per (op, property).
module Functional.Autodiff.Tests.OpTests

open System
open System.Collections.Immutable
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common
open Functional.Autodiff.Tests.OpSpecs

/// Random points per op and property.
let trials = 12

/// The finite-difference step (directions have elements in [−1, 1]).
let h = 1e-5

/// Every op name in the table: the test cases.
let names = all |> List.map (fun s -> s.Name) |> Array.ofList

/// The ops whose second order is tested.
let smoothNames =
    all
    |> List.filter (fun s -> s.Smooth)
    |> List.map (fun s -> s.Name)
    |> Array.ofList

// ------------------------------------------------------------------ harness

let build (op: Op) (xs: Expr list) = Expr.Create(op, Array.ofList xs)

/// Runs check at `count` random points of the op's spec, seeded by `seedPrefix + name + "/" + property`. check gets
/// the random source, the spec, the case, the point, and a function that renders the context (op, seed, trial,
/// every input) plus extra named tensors.
let forEachPointWith (seedPrefix: string) (count: int) (name: string) (property: string) check =
    let spec = find name
    let seed = stableSeed (seedPrefix + name + "/" + property)
    let rng = Random seed

    for trial in 1..count do
        let case, xs = drawPoint spec rng

        let context (extra: (string * T) list) =
            let inputs =
                List.mapi2 (fun i (a: Arg) x -> $"  x{i} ({a.Domain}) = {fmt x}") case.Args xs

            let more = extra |> List.map (fun (k, t) -> $"  {k} = {fmt t}")

            String.concat
                "\n"
                ([ $"op {name} ({case.Op}), {property}, seed {seed}, trial {trial}" ]
                 @ inputs
                 @ more)

        if case.Op.Name <> name then
            Assert.Fail $"The spec row '{name}' drew op '{case.Op.Name}'."

        check rng spec case xs context

/// Runs check at `trials` random points of the op's spec (see forEachPointWith).
let forEachPoint (name: string) (property: string) check =
    forEachPointWith "" trials name property check

/// J_fd v by central differences of the reference (all inputs moved together); zero for ZeroByDefinition.
let finiteDifference (spec: OpSpec) (case: Case) (xs: T list) (vs: T list) =
    match spec.Derivative with
    | ZeroByDefinition -> T.zeros (case.Reference xs).Shape
    | FiniteDifference ->
        let fp = case.Reference(List.map2 (T.axpy h) vs xs)
        let fm = case.Reference(List.map2 (T.axpy -h) vs xs)
        T.init fp.Shape (fun k -> (fp.Data[k] - fm.Data[k]) / (2.0 * h))

/// Jᵀu for every input, by AD.Gradients with the cotangent u on traced inputs.
let pullback (op: Op) (xs: T list) (u: T) =
    let vars = traced xs
    let y = build op vars
    let gs = AD.Gradients(y, vars, Expr.Const(T.toValue u)) |> valuesOf

    List.iteri2
        (fun i (g: T) (x: T) ->
            if g.Shape <> x.Shape then
                Assert.Fail $"The pullback of {op} gave {g.Shape} for input {i} of shape {x.Shape}.")
        gs
        xs

    gs

/// J v by calling the op's Jvp rule directly, with tangent constants (None is a zero tangent, passed as null).
let pushforward (op: Op) (xs: T list) (vs: T option list) =
    let vars = traced xs
    let y = build op vars

    let dx: (Expr | null)[] =
        vs
        |> List.map (function
            | Some v -> withNull (Expr.Const(T.toValue v))
            | None -> null)
        |> Array.ofList

    match op.Jvp(ImmutableArray.CreateRange vars, y, ReadOnlySpan<Expr | null>(dx)) with
    | null -> T.zeros y.Shape
    | r ->
        if r.Shape <> y.Shape then
            Assert.Fail $"The Jvp rule of {op} gave {r.Shape} for an output of shape {y.Shape}."

        T.ofValue r.Value

/// Which inputs carry a tangent: all of them, then (for ops of several inputs) each one alone.
let masks (arity: int) =
    [
        yield List.replicate arity true
        if arity > 1 then
            for i in 0 .. arity - 1 -> List.init arity (fun k -> k = i)
    ]

let masked (mask: bool list) (vs: T list) =
    List.map2 (fun on (v: T) -> if on then v else T.zeros v.Shape) mask vs

let maskName (mask: bool list) =
    if List.forall id mask then
        "all inputs"
    else
        $"input {List.findIndex id mask} alone"

/// Random directions for the inputs; zero for an input that is not differentiated (class labels), so that moving
/// along them keeps the point valid.
let directions (rng: Random) (case: Case) (xs: T list) =
    keepFixed case (List.map (randomLike rng) xs)

let named (prefix: string) (ts: T list) =
    ts |> List.mapi (fun i t -> $"{prefix}{i}", t)

// ------------------------------------------------------------------ meta

let ``every op in Ops.All has a spec row`` () =
    let missing =
        Ops.All
        |> Seq.map (fun op -> op.Name)
        |> Seq.filter (byName.ContainsKey >> not)
        |> List.ofSeq

    Assert.That(missing, Is.Empty, "ops in Ops.All without a row in OpSpecs.all")

let ``every spec row is an op of Ops.All, and names are unique`` () =
    let opNames = Ops.All |> Seq.map (fun op -> op.Name) |> List.ofSeq
    Assert.That(opNames |> List.distinct, Is.EqualTo(opNames), "Ops.All names are unique")
    Assert.That(names |> Array.distinct, Is.EqualTo(names), "spec names are unique")
    let extra = names |> Array.filter (fun n -> not (List.contains n opNames))
    Assert.That(extra, Is.Empty, "spec rows for ops not in Ops.All")

// ------------------------------------------------------------------ a. forward

let ``forward matches an independent reference`` (name: string) =
    forEachPoint name "forward" (fun _ _ case xs context ->
        let expected = case.Reference xs
        let y = build case.Op (traced xs)

        if y.Shape <> expected.Shape then
            Assert.Fail $"InferShape gave {y.Shape}, expected {expected.Shape}\n{context []}"

        assertAllClose rounding "forward" (context []) expected (T.ofValue y.Value)

        // The same node over symbolic variables, evaluated with bindings, and over constants: the same numbers.
        let vars = xs |> List.mapi (fun i x -> Expr.Var($"s{i}", x.Shape))
        let symbolic = build case.Op (vars |> List.map (fun v -> v :> Expr))

        let evaluated =
            AD.Eval(symbolic, bindings (List.map2 (fun v x -> v, T.toValue x) vars xs))

        assertBitIdentical $"AD.Eval of the symbolic node\n{context []}" y.Value evaluated
        let constant = build case.Op (xs |> List.map (fun x -> Expr.Const(T.toValue x)))
        assertBitIdentical $"the node over constants\n{context []}" y.Value constant.Value)

// ------------------------------------------------------------------ b. VJP against finite differences

let ``VJP passes the dot-product test against finite differences`` (name: string) =
    forEachPoint name "vjp-fd" (fun rng spec case xs context ->
        let u = randomOf rng (case.Reference xs).Shape
        let vs = directions rng case xs
        let jv = finiteDifference spec case xs vs
        let pulled = pullback case.Op xs u
        let lhs, rhs = T.dot u jv, dots pulled vs

        if not (within spec.Tolerance lhs rhs) then
            Assert.Fail(
                $"<u, J_fd v> = {g17 lhs} but <J^T u, v> = {g17 rhs} (tolerance {spec.Tolerance})\n"
                + context ([ "u", u ] @ named "v" vs @ [ "J_fd v", jv ] @ named "J^T u #" pulled)
            ))

// ------------------------------------------------------------------ c. JVP against finite differences

let ``JVP matches finite differences in a random direction`` (name: string) =
    forEachPoint name "jvp-fd" (fun rng spec case xs context ->
        let vs = directions rng case xs

        for mask in masks xs.Length do
            let vm = masked mask vs
            let expected = finiteDifference spec case xs vm

            let actual =
                pushforward case.Op xs (List.map2 (fun on v -> if on then Some v else None) mask vs)

            assertAllClose
                spec.Tolerance
                $"JVP ({maskName mask}) against J_fd v"
                (context (named "v" vm))
                expected
                actual)

// ------------------------------------------------------------------ d. JVP and VJP exactly adjoint

let ``JVP and VJP are adjoint to rounding`` (name: string) =
    forEachPoint name "adjoint" (fun rng _ case xs context ->
        let u = randomOf rng (case.Reference xs).Shape
        let vs = directions rng case xs
        let pulled = pullback case.Op xs u

        for mask in masks xs.Length do
            let vm = masked mask vs

            let jv =
                pushforward case.Op xs (List.map2 (fun on v -> if on then Some v else None) mask vs)

            let lhs, rhs = T.dot u jv, dots pulled vm
            let scale = 1.0 + T.absDot u jv + absDots pulled vm

            if not (abs (lhs - rhs) <= 1e-12 * scale) then
                Assert.Fail(
                    $"{maskName mask}: <u, J v> = {g17 lhs} but <J^T u, v> = {g17 rhs} (difference {g17 (lhs - rhs)}, scale {g17 scale})\n"
                    + context ([ "u", u ] @ named "v" vm @ [ "J v", jv ] @ named "J^T u #" pulled)
                ))

// ------------------------------------------------------------------ e. the pullback is linear

let ``the pullback is linear in the cotangent`` (name: string) =
    forEachPoint name "linear" (fun rng _ case xs context ->
        let shape = (case.Reference xs).Shape
        let u, w = randomOf rng shape, randomOf rng shape
        let a, b = uniform rng -2.0 2.0, uniform rng -2.0 2.0
        let combined = pullback case.Op xs (T.axpy a u (T.axpy b w (T.zeros shape)))
        let pu, pw = pullback case.Op xs u, pullback case.Op xs w

        let separate =
            List.map2 (fun x y -> T.axpy a x (T.axpy b y (T.zeros x.Shape))) pu pw

        let maxAbs (ts: T list) =
            ts
            |> List.collect (fun t -> List.ofArray t.Data)
            |> List.fold (fun m x -> max m (abs x)) 0.0

        let tol =
            {
                Absolute = 1e-12 * (1.0 + maxAbs combined + abs a * maxAbs pu + abs b * maxAbs pw)
                Relative = 0.0
            }

        List.iteri2
            (fun i expected actual ->
                assertAllClose
                    tol
                    $"pullback(a u + b w) against a pullback(u) + b pullback(w), input {i}"
                    (context [ "a", T.scalar a; "b", T.scalar b; "u", u; "w", w ])
                    expected
                    actual)
            separate
            combined)

// ------------------------------------------------------------------ f. second order

/// The gradient graphs of sum(u ⊙ op(x)) with respect to traced inputs at xs.
let gradientGraphs (op: Op) (u: T) (xs: T list) =
    let vars = traced xs
    let y = build op vars
    let s = Expr.Sum(Expr.Const(T.toValue u) * y)
    vars, AD.Gradients(s, Array.ofList vars) |> List.ofSeq

let ``the gradient graph passes the VJP finite-difference test (second order)`` (name: string) =
    forEachPoint name "second-order" (fun rng spec case xs context ->
        let u = randomOf rng (case.Reference xs).Shape
        let vars, gs = gradientGraphs case.Op u xs
        let ws = gs |> List.map (fun g -> randomOf rng g.Shape)
        let vs = directions rng case xs

        // VJP of x ↦ g(x) with cotangents w, through the gradient graph.
        let hsum =
            List.map2 (fun (g: Expr) w -> Expr.Sum(Expr.Const(T.toValue w) * g)) gs ws
            |> List.reduce (+)

        let pulled = AD.Gradients(hsum, Array.ofList vars) |> valuesOf
        let rhs = dots pulled vs

        // Finite differences of g, re-traced at x ± h v.
        let gAt (pts: T list) =
            let _, g = gradientGraphs case.Op u pts
            valuesOf g

        let gp = gAt (List.map2 (T.axpy h) vs xs)
        let gm = gAt (List.map2 (T.axpy -h) vs xs)

        let jv =
            List.map2 (fun (p: T) (m: T) -> T.init p.Shape (fun k -> (p.Data[k] - m.Data[k]) / (2.0 * h))) gp gm

        let lhs = dots ws jv

        if not (within spec.Tolerance lhs rhs) then
            Assert.Fail(
                $"<w, J_fd v> = {g17 lhs} but <J^T w, v> = {g17 rhs} for the gradient graph (tolerance {spec.Tolerance})\n"
                + context (
                    [ "u", u ]
                    @ named "w" ws
                    @ named "v" vs
                    @ named "J_fd v #" jv
                    @ named "J^T w #" pulled
                )
            ))

// ------------------------------------------------------------------ g. the Hessian is symmetric

let ``the Hessian of sum(u * op(x)) is symmetric to rounding`` (name: string) =
    forEachPoint name "hessian-symmetric" (fun rng _ case xs context ->
        let u = randomOf rng (case.Reference xs).Shape
        let vars, gs = gradientGraphs case.Op u xs
        let vs, ws = directions rng case xs, directions rng case xs

        // H v as the gradient of <g(x), v>, exactly (no finite differences).
        let hessianTimes (ds: T list) =
            let inner =
                List.map2 (fun (g: Expr) (d: T) -> Expr.Sum(g * Expr.Const(T.toValue d))) gs ds
                |> List.reduce (+)

            AD.Gradients(inner, Array.ofList vars) |> valuesOf

        let hv, hw = hessianTimes vs, hessianTimes ws
        let lhs, rhs = dots ws hv, dots vs hw
        let scale = 1.0 + absDots ws hv + absDots vs hw

        if not (abs (lhs - rhs) <= 1e-11 * scale) then
            Assert.Fail(
                $"<w, H v> = {g17 lhs} but <v, H w> = {g17 rhs} (difference {g17 (lhs - rhs)}, scale {g17 scale})\n"
                + context ([ "u", u ] @ named "v" vs @ named "w" ws @ named "H v #" hv @ named "H w #" hw)
            ))

// ------------------------------------------------------------------ h. gradient graphs evaluate symbolically

let ``the gradient graph over symbolic variables evaluates to the traced gradient`` (name: string) =
    forEachPoint name "symbolic-gradient" (fun rng _ case xs context ->
        let u = randomOf rng (case.Reference xs).Shape
        let traced = pullback case.Op xs u
        let vars = xs |> List.mapi (fun i x -> Expr.Var($"s{i}", x.Shape))
        let cotangent = Expr.Var("u", u.Shape)
        let y = build case.Op (vars |> List.map (fun v -> v :> Expr))
        let gs = AD.Gradients(y, vars |> List.map (fun v -> v :> Expr), cotangent)

        let binding =
            bindings ((cotangent, T.toValue u) :: List.map2 (fun v x -> v, T.toValue x) vars xs)

        let ctx = context [ "u", u ]

        List.iteri2
            (fun i (g: Expr) (expected: T) ->
                assertBitIdentical
                    $"AD.Eval of symbolic gradient {i} against the traced gradient\n{ctx}"
                    (T.toValue expected)
                    (AD.Eval(g, bindingsFor g binding)))
            (List.ofSeq gs)
            traced)

// ------------------------------------------------------------------ i. scalar and vector kernels agree

/// Ordinary and special inputs: NaN, ±∞, ±0, huge, overflowing exp, and small integers.
let specials =
    [|
        nan
        infinity
        -infinity
        0.0
        -0.0
        1e308
        -1e308
        710.0
        -750.0
        0.5
        -2.0
        3.0
        1.0
        -1.0
    |]

/// Ops whose kernels are known to disagree, with the library bug (none at present).
let kernelBugs: Map<string, string> = Map.empty

let elementwiseCases =
    Ops.All
    |> Seq.filter (fun op -> op :? ElementwiseOp || op :? BinaryElementwiseOp)
    |> Seq.map (fun op -> op.Name)
    |> Array.ofSeq

/// Both NaN, or equal to an ulp (vectorised kernels may round differently).
let agree (a: float) (b: float) =
    (Double.IsNaN a && Double.IsNaN b)
    || a = b && bits a = bits b
    || abs (a - b) <= 4e-16 * abs a

let ``the scalar and vector kernels of an element-wise op agree, special values included`` (name: string) =
    let instances =
        if name = "pow" then
            [ for p in [ 0.0; 1.0; 2.0; 3.0; -1.0; -2.0; 0.5; 1.5; -0.5 ] -> PowOp p :> Op ]
        else
            [ Ops.All |> Seq.find (fun o -> o.Name = name) ]

    let scalar (op: Op) (xs: float list) =
        (Expr.Create(op, xs |> List.map Expr.Const |> Array.ofList)).Value.ToScalar()

    let fail (op: Op) (inputs: string) (path: string) (expected: float) (actual: float) =
        Assert.Fail $"{op} at {inputs}: the {path} gives {g17 actual}, one scalar gives {g17 expected}"

    for op in instances do
        if op.Arity = 1 then
            let onVector = Expr.Create(op, Expr.Const(Value.FromArray specials)).Value.ToArray()

            let onMatrix =
                Expr.Create(op, Expr.Const(T.toValue (T.matrix 2 7 (fun i j -> specials[j * 2 + i])))).Value.ToArray()

            specials
            |> Array.iteri (fun k x ->
                let expected = scalar op [ x ]

                if not (agree expected onVector[k]) then
                    fail op (g17 x) "vector kernel" expected onVector[k]

                if not (agree expected onMatrix[k]) then
                    fail op (g17 x) "matrix kernel" expected onMatrix[k])
        else
            let n = specials.Length

            for a in specials do
                let va = Value.FromArray(Array.create n a)

                let vv =
                    Expr.Create(op, Expr.Const va, Expr.Const(Value.FromArray specials)).Value.ToArray()

                let sv =
                    Expr.Create(op, Expr.Const a, Expr.Const(Value.FromArray specials)).Value.ToArray()

                let vs =
                    Expr.Create(op, Expr.Const(Value.FromArray specials), Expr.Const a).Value.ToArray()

                specials
                |> Array.iteri (fun k b ->
                    let inputs = $"({g17 a}, {g17 b})"
                    let ab, ba = scalar op [ a; b ], scalar op [ b; a ]

                    if not (agree ab vv[k]) then
                        fail op inputs "vector-vector kernel" ab vv[k]

                    if not (agree ab sv[k]) then
                        fail op inputs "scalar-vector kernel" ab sv[k]

                    if not (agree ba vs[k]) then
                        fail op $"({g17 b}, {g17 a})" "vector-scalar kernel" ba vs[k])

open Expecto

[<Tests>]
let tests =
    testList "OpTests" [
        testCase "every op in Ops.All has a spec row" ``every op in Ops.All has a spec row``
        testCase "every spec row is an op of Ops.All, and names are unique" ``every spec row is an op of Ops.All, and names are unique``
        testList "forward matches an independent reference" [ for c in names -> testCase c (fun () -> ``forward matches an independent reference`` c) ]
        testList "VJP passes the dot-product test against finite differences" [ for c in names -> testCase c (fun () -> ``VJP passes the dot-product test against finite differences`` c) ]
        testList "JVP matches finite differences in a random direction" [ for c in names -> testCase c (fun () -> ``JVP matches finite differences in a random direction`` c) ]
        testList "JVP and VJP are adjoint to rounding" [ for c in names -> testCase c (fun () -> ``JVP and VJP are adjoint to rounding`` c) ]
        testList "the pullback is linear in the cotangent" [ for c in names -> testCase c (fun () -> ``the pullback is linear in the cotangent`` c) ]
        testList "the gradient graph passes the VJP finite-difference test (second order)" [ for c in smoothNames -> testCase c (fun () -> ``the gradient graph passes the VJP finite-difference test (second order)`` c) ]
        testList "the Hessian of sum(u * op(x)) is symmetric to rounding" [ for c in smoothNames -> testCase c (fun () -> ``the Hessian of sum(u * op(x)) is symmetric to rounding`` c) ]
        testList "the gradient graph over symbolic variables evaluates to the traced gradient" [ for c in names -> testCase c (fun () -> ``the gradient graph over symbolic variables evaluates to the traced gradient`` c) ]
        testList "the scalar and vector kernels of an element-wise op agree, special values included" [
            for n in elementwiseCases ->
                match kernelBugs.TryFind n with
                | Some reason -> ptestCase $"{n} ({reason})" (fun () -> ``the scalar and vector kernels of an element-wise op agree, special values included`` n)
                | None -> testCase n (fun () -> ``the scalar and vector kernels of an element-wise op agree, special values included`` n)
        ]
    ]
