/// The op spec table turned into tests of the higher-order combinators: AD.Jvp against finite differences,
/// AD.Jvp and AD.Vjp adjoint, JacobianRev = JacobianFwd = Jacobian, Hessians symmetric and equal to finite
/// differences of the gradient, Hvp = H·v. Each op's inputs are packed into one vector (the Jacobian and Hessian
/// combinators take a scalar or a vector), and each input is also differentiated alone in its own shape.
module Functional.Autodiff.Tests.Higher

open System
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common
open Functional.Autodiff.Tests.OpSpecs
open Functional.Autodiff.Tests.OpTests

/// Every op name in the table: the test cases.
let opNames = OpTests.names

/// Random points per op and property.
let higherTrials = 12

/// OpTests.forEachPoint with its own number of trials and the property name prefixed by "higher/".
let forEachPointOf (name: string) (property: string) check =
    forEachPointWith "higher/" higherTrials name property check

// ------------------------------------------------------------------ packing the inputs into one vector

/// The offset of each shape's elements in the packed vector.
let offsets (shapes: Shape list) =
    shapes
    |> List.scan (fun o (s: Shape) -> o + s.Size) 0
    |> List.take shapes.Length

/// All inputs' elements one after another (each column-major): a vector.
let pack (xs: T list) =
    T.vector (xs |> List.map (fun x -> x.Data) |> Array.concat)

let unpackT (shapes: Shape list) (p: T) =
    List.map2 (fun (s: Shape) o -> T.init s (fun k -> p.Data[o + k])) shapes (offsets shapes)

/// A vector(n) as a matrix, column-major.
let private constMatrix rows cols (f: int -> int -> float) =
    Expr.Const(T.toValue (T.matrix rows cols f))

let private unit n k =
    Expr.Const(T.toValue (T.init (Shape.Vector n) (fun i -> if i = k then 1.0 else 0.0)))

/// The inputs as graphs of the packed vector p, by exact linear maps (products with 0/1 matrices): a scalar is
/// an index, a vector a selection S p, a matrix Σⱼ (Sⱼ p) eⱼᵀ.
let unpack (shapes: Shape list) (p: Expr) : Expr list =
    let total = p.Shape.Size

    List.map2
        (fun (s: Shape) o ->
            match s.Rank with
            | 0 -> p[o]
            | 1 -> Expr.MatMul(constMatrix s.Length total (fun i k -> if k = o + i then 1.0 else 0.0), p)
            | _ ->
                let m, n = s.Rows, s.Cols

                List.init n (fun j ->
                    let column =
                        Expr.MatMul(constMatrix m total (fun i k -> if k = o + j * m + i then 1.0 else 0.0), p)

                    Expr.Outer(column, unit n j))
                |> List.reduce (+))
        shapes
        (offsets shapes)

/// A matrix output as the vector of its elements, column-major (Σⱼ Tⱼ (Y eⱼ)); scalars and vectors unchanged.
let flatten (y: Expr) =
    if not y.Shape.IsMatrix then
        y
    else
        let m, n = y.Shape.Rows, y.Shape.Cols

        List.init n (fun j ->
            let column = Expr.MatMul(y, unit n j)
            Expr.MatMul(constMatrix (m * n) m (fun k i -> if k = j * m + i then 1.0 else 0.0), column))
        |> List.reduce (+)

let flattenT (t: T) =
    if t.Shape.IsMatrix then T.vector t.Data else t

/// The op as a function of the packed vector, with a flattened output: a scalar or vector function of a vector.
let packed (case: Case) (shapes: Shape list) =
    Func<Expr, Expr>(fun p -> flatten (build case.Op (unpack shapes p)))

/// The op as a function of input i alone, in its own shape, the other inputs constants.
let alone (case: Case) (xs: T list) (i: int) =
    Func<Expr, Expr>(fun x -> build case.Op (xs |> List.mapi (fun k t -> if k = i then x else Expr.Const(T.toValue t))))

let shapesOf (xs: T list) = xs |> List.map (fun x -> x.Shape)

/// A packed direction with the parts of inputs that are not differentiated (class labels) set to zero.
let keepFixedPacked (case: Case) (shapes: Shape list) (v: T) =
    pack (keepFixed case (unpackT shapes v))

/// A direction of input i in its own shape; zero when the input is not differentiated.
let keepFixedInput (case: Case) (i: int) (v: T) =
    if differentiable case.Args[i].Domain then
        v
    else
        T.zeros v.Shape

/// A direction that moves input i alone.
let onlyInput (i: int) (v: T) (xs: T list) =
    xs |> List.mapi (fun k x -> if k = i then v else T.zeros x.Shape)

let ofMatrix (m: Matrix<float>) =
    T.matrix m.RowCount m.ColumnCount (fun i j -> m[i, j])

let maxAbs (t: T) =
    t.Data |> Array.fold (fun m x -> max m (abs x)) 0.0

/// Element-wise agreement up to rounding relative to the largest element of either side.
let roundingAgainst (scale: float) =
    {
        Absolute = 1e-12 * (1.0 + scale)
        Relative = 1e-12
    }

/// The j-th column of a matrix.
let column (m: T) (j: int) =
    T.init (Shape.Vector m.Shape.Rows) (fun i -> T.at m i j)

let unitT (n: int) (j: int) =
    T.init (Shape.Vector n) (fun i -> if i = j then 1.0 else 0.0)

/// M·v for a matrix and a vector.
let matVec (m: T) (v: T) =
    T.init (Shape.Vector m.Shape.Rows) (fun i -> Seq.sum (Seq.init m.Shape.Cols (fun j -> T.at m i j * v.Data[j])))

/// Σⱼ |Mᵢⱼ vⱼ| per row: the scale of the rounding error of (M·v)ᵢ.
let absMatVec (m: T) (v: T) =
    T.init (Shape.Vector m.Shape.Rows) (fun i ->
        Seq.sum (Seq.init m.Shape.Cols (fun j -> abs (T.at m i j * v.Data[j]))))

/// Fails unless |a − b| ≤ 1e-12·(1 + scale) element by element.
let assertCloseToScale (what: string) (context: string) (scale: T) (expected: T) (actual: T) =
    if expected.Shape <> actual.Shape then
        Assert.Fail $"{what}: shape {actual.Shape}, expected {expected.Shape}\n{context}"

    for k in 0 .. expected.Data.Length - 1 do
        let e, a, s = expected.Data[k], actual.Data[k], scale.Data[k]

        if not (abs (e - a) <= 1e-12 * (1.0 + s)) then
            Assert.Fail(
                $"{what}: element {k} is {g17 a}, expected {g17 e} (difference {g17 (a - e)}, scale {g17 s})\n"
                + $"  expected = {fmt expected}\n  actual   = {fmt actual}\n{context}"
            )

// ------------------------------------------------------------------ a. AD.Jvp against finite differences

let ``AD.Jvp matches finite differences in a random direction`` (name: string) =
    forEachPointOf name "jvp-fd" (fun rng spec case xs context ->
        let shapes = shapesOf xs
        let p = pack xs
        let v = keepFixedPacked case shapes (randomOf rng p.Shape)
        let vs = unpackT shapes v

        let struct (y, t) = AD.Jvp(packed case shapes).Invoke(T.toValue p, T.toValue v)

        let ctx = context [ "v (packed)", v ]
        assertAllClose rounding "AD.Jvp value (all inputs packed)" ctx (flattenT (case.Reference xs)) (T.ofValue y)

        assertAllClose
            spec.Tolerance
            "AD.Jvp tangent (all inputs packed) against J_fd v"
            ctx
            (flattenT (finiteDifference spec case xs vs))
            (T.ofValue t)

        // Each input alone, in its own shape (matrices included), the others constants.
        for i in 0 .. xs.Length - 1 do
            let vi = keepFixedInput case i (randomLike rng xs[i])

            let struct (yi, ti) = AD.Jvp(alone case xs i).Invoke(T.toValue xs[i], T.toValue vi)

            let ctx = context [ $"v{i}", vi ]
            assertAllClose rounding $"AD.Jvp value (input {i} alone)" ctx (case.Reference xs) (T.ofValue yi)

            assertAllClose
                spec.Tolerance
                $"AD.Jvp tangent (input {i} alone) against J_fd v"
                ctx
                (finiteDifference spec case xs (onlyInput i vi xs))
                (T.ofValue ti))

// ------------------------------------------------------------------ b. AD.Jvp and AD.Vjp adjoint

/// Asserts ⟨u, J v⟩ = ⟨Jᵀu, v⟩ to rounding, with J v from AD.Jvp and Jᵀu from AD.Vjp.
let assertAdjoint (what: string) (context: string) (f: Func<Expr, Expr>) (x: T) (u: T) (v: T) =
    let struct (_, jv) = AD.Jvp(f).Invoke(T.toValue x, T.toValue v)
    let struct (_, pullback) = AD.Vjp(f).Invoke(T.toValue x)
    let jv, jtu = T.ofValue jv, T.ofValue (pullback.Invoke(T.toValue u))
    let lhs, rhs = T.dot u jv, T.dot jtu v
    let scale = 1.0 + T.absDot u jv + T.absDot jtu v

    if not (abs (lhs - rhs) <= 1e-12 * scale) then
        Assert.Fail(
            $"{what}: <u, J v> = {g17 lhs} but <J^T u, v> = {g17 rhs} (difference {g17 (lhs - rhs)}, scale {g17 scale})\n"
            + $"  u = {fmt u}\n  v = {fmt v}\n  J v = {fmt jv}\n  J^T u = {fmt jtu}\n{context}"
        )

let ``AD.Jvp and AD.Vjp are adjoint to rounding`` (name: string) =
    forEachPointOf name "jvp-vjp-adjoint" (fun rng _ case xs context ->
        let shapes = shapesOf xs
        let p = pack xs
        let u = randomOf rng (flattenT (case.Reference xs)).Shape
        let v = randomOf rng p.Shape
        assertAdjoint "all inputs packed" (context []) (packed case shapes) p u v

        for i in 0 .. xs.Length - 1 do
            let u = randomOf rng (case.Reference xs).Shape
            let v = randomLike rng xs[i]
            assertAdjoint $"input {i} alone" (context []) (alone case xs i) xs[i] u v)

// ------------------------------------------------------------------ c. Jacobians

let ``JacobianRev equals JacobianFwd, Jacobian equals both, and all match finite differences`` (name: string) =
    forEachPointOf name "jacobian" (fun _ spec case xs context ->
        let shapes = shapesOf xs
        let p = pack xs
        let f = packed case shapes
        let x = T.toValue p
        let rev = ofMatrix (AD.JacobianRev(f).Invoke x)
        let fwd = ofMatrix (AD.JacobianFwd(f).Invoke x)
        let auto = ofMatrix (AD.Jacobian(f).Invoke x)
        let m, n = (flattenT (case.Reference xs)).Shape.Size, p.Shape.Size
        let ctx = context [ "JacobianRev", rev; "JacobianFwd", fwd ]

        if
            rev.Shape <> Shape.Matrix(m, n)
            || fwd.Shape <> rev.Shape
            || auto.Shape <> rev.Shape
        then
            Assert.Fail
                $"Jacobian shapes: rev {rev.Shape}, fwd {fwd.Shape}, auto {auto.Shape}; expected {m}×{n}\n{ctx}"

        assertAllClose (roundingAgainst (max (maxAbs rev) (maxAbs fwd))) "JacobianFwd against JacobianRev" ctx rev fwd
        // Jacobian picks reverse mode when the output is no larger than the input, forward mode otherwise.
        let chosen, mode = if m <= n then rev, "JacobianRev" else fwd, "JacobianFwd"

        assertBitIdentical
            $"Jacobian against {mode} ({m} outputs, {n} inputs)\n{ctx}"
            (T.toValue chosen)
            (T.toValue auto)

        for j in 0 .. n - 1 do
            let e = unitT n j

            assertAllClose
                spec.Tolerance
                $"column {j} of JacobianRev against finite differences"
                ctx
                (T.vector (finiteDifference spec case xs (keepFixed case (unpackT shapes e))).Data)
                (column rev j))

// ------------------------------------------------------------------ d. Hessians

/// x ↦ Σ u ⊙ op(x) over the packed inputs.
let weighted (case: Case) (shapes: Shape list) (u: T) =
    let f = packed case shapes
    Func<Expr, Expr>(fun p -> Expr.Sum(Expr.Const(T.toValue u) * f.Invoke p))

/// The same over input i alone, in its own shape.
let weightedAlone (case: Case) (xs: T list) (i: int) (u: T) =
    let f = alone case xs i
    Func<Expr, Expr>(fun x -> Expr.Sum(Expr.Const(T.toValue u) * f.Invoke x))

/// (∇g(x + h v) − ∇g(x − h v)) / 2h with AD.Grad.
let gradientDifference (g: Func<Expr, Expr>) (x: T) (v: T) =
    let grad = AD.Grad g
    let gp = T.ofValue (grad.Invoke(T.toValue (T.axpy h v x)))
    let gm = T.ofValue (grad.Invoke(T.toValue (T.axpy -h v x)))
    T.init gp.Shape (fun k -> (gp.Data[k] - gm.Data[k]) / (2.0 * h))

let ``the Hessian of sum(u * op(x)) is symmetric and matches finite differences of the gradient`` (name: string) =
    forEachPointOf name "hessian" (fun rng spec case xs context ->
        let shapes = shapesOf xs
        let p = pack xs
        let n = p.Shape.Size
        let u = randomOf rng (flattenT (case.Reference xs)).Shape
        let g = weighted case shapes u
        let hess = ofMatrix (AD.Hessian(g).Invoke(T.toValue p))
        let ctx = context [ "u", u; "H", hess ]

        if hess.Shape <> Shape.Matrix(n, n) then
            Assert.Fail $"Hessian shape {hess.Shape}, expected {n}×{n}\n{ctx}"

        let transposed = T.matrix n n (fun i j -> T.at hess j i)
        let scale = maxAbs hess

        assertAllClose
            {
                Absolute = 1e-11 * (1.0 + scale)
                Relative = 0.0
            }
            "H against Hᵀ"
            ctx
            transposed
            hess

        for j in 0 .. n - 1 do
            assertAllClose
                spec.Tolerance
                $"column {j} of the Hessian against finite differences of AD.Grad"
                ctx
                (gradientDifference g p (keepFixedPacked case shapes (unitT n j)))
                (column hess j)

        // Reverse-over-reverse (the Jacobian of the gradient graph) gives the same matrix.
        let rr = ofMatrix (AD.JacobianRev(Diff.Grad g).Invoke(T.toValue p))
        let ff = ofMatrix (AD.JacobianFwd(Diff.Grad g).Invoke(T.toValue p))

        assertAllClose
            {
                Absolute = 1e-11 * (1.0 + scale)
                Relative = 0.0
            }
            "JacobianRev(Diff.Grad g) against AD.Hessian"
            ctx
            hess
            rr

        assertAllClose
            {
                Absolute = 1e-11 * (1.0 + scale)
                Relative = 0.0
            }
            "JacobianFwd(Diff.Grad g) against AD.Hessian"
            ctx
            hess
            ff)

// ------------------------------------------------------------------ e. Hessian-vector products

let ``Hvp equals Hessian times v, AD.Jvp of Diff.Grad, and finite differences of the gradient`` (name: string) =
    forEachPointOf name "hvp" (fun rng spec case xs context ->
        let shapes = shapesOf xs
        let p = pack xs
        let u = randomOf rng (flattenT (case.Reference xs)).Shape
        let v = randomOf rng p.Shape
        let g = weighted case shapes u
        let x = T.toValue p
        let hess = ofMatrix (AD.Hessian(g).Invoke x)
        let hvp = T.ofValue (AD.Hvp(g).Invoke(x, T.toValue v))
        let ctx = context [ "u", u; "v", v; "H", hess; "Hvp", hvp ]
        let scale = absMatVec hess v
        assertCloseToScale "AD.Hvp against AD.Hessian · v" ctx scale (matVec hess v) hvp
        let struct (grad, jvp) = AD.Jvp(Diff.Grad g).Invoke(x, T.toValue v)
        assertCloseToScale "AD.Jvp(Diff.Grad g) against AD.Hvp" ctx scale hvp (T.ofValue jvp)

        assertAllClose
            rounding
            "the value of AD.Jvp(Diff.Grad g) against AD.Grad g"
            ctx
            (T.ofValue (AD.Grad(g).Invoke x))
            (T.ofValue grad)

        // The gradient of ⟨∇g(x), v⟩ is Hᵀv = H v.
        let inner =
            AD.Grad(Func<Expr, Expr>(fun e -> Expr.Dot((Diff.Grad g).Invoke e, Expr.Const(T.toValue v))))

        assertCloseToScale "AD.Grad of <Diff.Grad g, v> against AD.Hvp" ctx scale hvp (T.ofValue (inner.Invoke x))

        // Each input alone, in its own shape (matrices included), against finite differences of the gradient.
        for i in 0 .. xs.Length - 1 do
            let vi = keepFixedInput case i (randomLike rng xs[i])
            let gi = weightedAlone case xs i (randomOf rng (case.Reference xs).Shape)
            let actual = T.ofValue (AD.Hvp(gi).Invoke(T.toValue xs[i], T.toValue vi))

            assertAllClose
                spec.Tolerance
                $"AD.Hvp (input {i} alone) against finite differences of AD.Grad"
                (context [ $"v{i}", vi ])
                (gradientDifference gi xs[i] vi)
                actual)

open Expecto

[<Tests>]
let tests =
    testList "Higher" [
        testList "AD.Jvp matches finite differences in a random direction" [ for c in opNames -> testCase c (fun () -> ``AD.Jvp matches finite differences in a random direction`` c) ]
        testList "AD.Jvp and AD.Vjp are adjoint to rounding" [ for c in opNames -> testCase c (fun () -> ``AD.Jvp and AD.Vjp are adjoint to rounding`` c) ]
        testList "JacobianRev equals JacobianFwd, Jacobian equals both, and all match finite differences" [ for c in opNames -> testCase c (fun () -> ``JacobianRev equals JacobianFwd, Jacobian equals both, and all match finite differences`` c) ]
        testList "the Hessian of sum(u * op(x)) is symmetric and matches finite differences of the gradient" [ for c in opNames -> testCase c (fun () -> ``the Hessian of sum(u * op(x)) is symmetric and matches finite differences of the gradient`` c) ]
        testList "Hvp equals Hessian times v, AD.Jvp of Diff.Grad, and finite differences of the gradient" [ for c in opNames -> testCase c (fun () -> ``Hvp equals Hessian times v, AD.Jvp of Diff.Grad, and finite differences of the gradient`` c) ]
    ]
