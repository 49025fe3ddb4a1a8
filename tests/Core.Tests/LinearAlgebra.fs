/// Linear algebra (issue 10): values and gradients pinned against PyTorch float64 on fixed 3×3 inputs (printed by
/// tests/reference/issue10_linalg.py; matrices listed column by column), algebraic properties on random well-conditioned
/// matrices, and the errors for singular, non-SPD, negative-determinant and badly shaped inputs. The rules themselves
/// are checked against finite differences, for adjointness and at second order by the op-spec table (OpSpecs.fs).
module Functional.Autodiff.Tests.LinearAlgebra

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Generators
open Functional.Autodiff.Tests.Common
open Functional.Autodiff.Tests.Errors

[<Literal>]
let Seed = "(20261202,11)"

let private rows (r: float list list) =
    Value.FromRows(r |> List.map Array.ofList |> Array.ofList)

/// An m×n matrix from its elements column by column (as the reference script prints them).
let private columns m n (data: float list) =
    {
        Shape = Shape.Matrix(m, n)
        Data = Array.ofList data
    }

let private vector (data: float list) = T.vector (Array.ofList data)

// The reference script's inputs, rows as written there.
let private A = rows [ [ 4.0; 1.0; 2.0 ]; [ 0.5; 3.0; -1.0 ]; [ 1.0; -2.0; 5.0 ] ]
let private N = rows [ [ 0.5; 3.0; -1.0 ]; [ 4.0; 1.0; 2.0 ]; [ 1.0; -2.0; 5.0 ] ]
let private S = rows [ [ 4.0; 2.0; 0.6 ]; [ 2.0; 5.0; 1.5 ]; [ 0.6; 1.5; 3.0 ] ]
let private W = rows [ [ 0.3; -1.2; 0.7 ]; [ 1.1; 0.4; -0.5 ]; [ -0.8; 0.9; 0.2 ] ]
let private b = Value.FromArray [| 1.0; -2.0; 0.5 |]
let private w = Value.FromArray [| 0.7; -0.3; 1.9 |]
let private B = rows [ [ 1.0; 0.0 ]; [ -2.0; 1.5 ]; [ 0.5; -1.0 ] ]
let private V = rows [ [ 0.2; -0.6 ]; [ 1.3; 0.8 ]; [ -0.4; 0.5 ] ]
let private v = Value.FromArray [| 2.0; -1.0; 0.5 |]

/// The value of f at traced inputs, and the gradients of sum(f(xs) ⊙ weight) (of f itself for a scalar f).
let private valueAndGrads (f: Expr list -> Expr) (weight: Value option) (xs: Value list) =
    let vars = xs |> List.mapi (fun i x -> Expr.Var($"x{i}", x) :> Expr)
    let y = f vars

    let s =
        match weight with
        | Some u -> Expr.Sum(y * Expr.Const u)
        | None -> y

    T.ofValue y.Value, AD.Gradients(s, Array.ofList vars) |> valuesOf

/// H·d for the scalar function f at x: the gradient of ⟨∇f(x), d⟩, through the gradient graph.
let private hvp (f: Expr -> Expr) (x: Value) (d: Value) =
    let var = Expr.Var("x", x) :> Expr
    let g = (AD.Gradients(f var, var))[0]
    T.ofValue (AD.Gradients(Expr.Sum(g * Expr.Const d), var)).[0].Value

let private close what expected actual =
    assertAllClose rounding what "" expected actual

// ------------------------------------------------------------------ pinned against PyTorch

let ``inverse and the gradient of sum(inverse(A) * W) match PyTorch`` () =
    let y, g = valueAndGrads (fun xs -> Expr.Inverse xs[0]) (Some W) [ A ]

    close "inverse(A)" (columns 3 3 [ 0.32098765432098764; -0.08641975308641975; -0.09876543209876543; -0.2222222222222222; 0.4444444444444444; 0.22222222222222218; -0.1728395061728395; 0.12345679012345678; 0.2839506172839506 ]) y
    close "its gradient" (columns 3 3 [ -0.09590001524157903; 0.007133058984910831; 0.13805822283188537; 0.20236244474927598; -0.22414266117969817; -0.22453894223441545; 0.05049535131839657; -0.024417009602194756; -0.09224203627495806 ]) g[0]

let ``solve with a vector and with a matrix right-hand side, and its gradients, match PyTorch`` () =
    let y, g = valueAndGrads (fun xs -> Expr.Solve(xs[0], xs[1])) (Some w) [ A; b ]
    close "solve(A, b)" (vector [ 0.6790123456790124; -0.9135802469135802; -0.4012345679012345 ]) y
    close "grad_A" (columns 3 3 [ -0.04275262917238227; -0.09053497942386828; -0.2590306355738454; 0.05752171925011432; 0.1218106995884773; 0.3485139460448102; 0.02526291723822588; 0.05349794238683125; 0.153063557384545 ]) g[0]
    close "grad_b" (vector [ 0.06296296296296297; 0.13333333333333328; 0.3814814814814814 ]) g[1]

    let y, g = valueAndGrads (fun xs -> Expr.Solve(xs[0], xs[1])) (Some V) [ A; B ]
    close "solve(A, B)" (columns 3 2 [ 0.6790123456790124; -0.9135802469135802; -0.4012345679012345; -0.1604938271604938; 0.5432098765432098; 0.04938271604938268 ]) y
    close "grad_A" (columns 3 3 [ -0.04406340496875476; -0.20548696844993142; 0.04689833866788599; 0.16110349032159732; 0.08010973936899862; -0.1758268556622466; 0.011896052431031846; 0.14869684499314126; -0.012056089010821511 ]) g[0]
    close "grad_B" (columns 3 2 [ -0.00864197530864197; 0.4444444444444444; 0.01234567901234567; -0.3111111111111111; 0.6; 0.34444444444444444 ]) g[1]

let ``det of positive and negative determinants, and its gradient, match PyTorch`` () =
    let y, g = valueAndGrads (fun xs -> Expr.Det xs[0]) None [ A ]
    close "det(A)" (T.scalar 40.5) y
    close "grad det(A)" (columns 3 3 [ 13.0; -9.0; -6.999999999999999; -3.5; 18.0; 5.0; -4.0; 9.0; 11.5 ]) g[0]

    let y, g = valueAndGrads (fun xs -> Expr.Det xs[0]) None [ N ]
    close "det(N)" (T.scalar -40.49999999999999) y
    close "grad det(N)" (columns 3 3 [ 9.0; -12.999999999999998; 7.0; -17.999999999999996; 3.499999999999999; -4.999999999999999; -9.0; 3.9999999999999996; -11.5 ]) g[0]

let ``logdet, its gradient and its Hessian times a direction match PyTorch`` () =
    let y, g = valueAndGrads (fun xs -> Expr.LogDet xs[0]) None [ A ]
    close "logdet(A)" (T.scalar 3.7013019741124933) y
    close "grad logdet(A)" (columns 3 3 [ 0.3209876543209877; -0.22222222222222224; -0.17283950617283952; -0.08641975308641975; 0.4444444444444444; 0.12345679012345678; -0.09876543209876543; 0.2222222222222222; 0.2839506172839506 ]) g[0]
    close "H W" (columns 3 3 [ -0.02149062642889803; 0.2106995884773662; -0.009510745313214441; -0.10845907636031092; -0.03621399176954733; 0.08774577046181983; 0.031778692272519435; -0.18106995884773658; -0.024234110653863744 ]) (hvp Expr.LogDet A W)

    let y, g = valueAndGrads (fun xs -> Expr.LogDet xs[0]) None [ S ]
    close "logdet(S)" (T.scalar 3.708682081410116) y
    close "grad logdet(S)" (columns 3 3 [ 0.3125; -0.125; 0.0; -0.125; 0.2852941176470588; -0.1176470588235294; 0.0; -0.11764705882352938; 0.392156862745098 ]) g[0]

let ``cholesky, the gradient of sum(cholesky(S) * W) and its Hessian times a direction match PyTorch`` () =
    let y, g = valueAndGrads (fun xs -> Expr.Cholesky xs[0]) (Some W) [ S ]
    close "cholesky(S)" (columns 3 3 [ 2.0; 1.0; 0.3; 0.0; 2.0; 0.6; 0.0; 0.0; 1.5968719422671314 ]) y
    close "its gradient (symmetric, as PyTorch's)" (columns 3 3 [ 0.009375000000000001; 0.22500000000000003; -0.3125; 0.22500000000000003; 0.03813601861976636; 0.2062132712674455; -0.3125; 0.2062132712674455; 0.06262242910851494 ]) g[0]

    close
        "H A"
        (columns 3 3 [ 0.19226562500000005; -0.22996458165085654; 0.1722777721695216; -0.22996458165085654; 0.12230542830920575; -0.021124084801631075; 0.1722777721695216; -0.021124084801631075; -0.0757608603136347 ])
        (hvp (fun s -> Expr.Sum(Expr.Cholesky s * Expr.Const W)) S A)

let ``trace, diag and diagonal, and their gradients, match PyTorch`` () =
    let y, g = valueAndGrads (fun xs -> Expr.Trace xs[0]) None [ A ]
    close "trace(A)" (T.scalar 12.0) y
    close "grad trace(A)" (columns 3 3 [ 1.0; 0.0; 0.0; 0.0; 1.0; 0.0; 0.0; 0.0; 1.0 ]) g[0]

    let y, g = valueAndGrads (fun xs -> Expr.Diag xs[0]) (Some W) [ v ]
    close "diag(v)" (columns 3 3 [ 2.0; 0.0; 0.0; 0.0; -1.0; 0.0; 0.0; 0.0; 0.5 ]) y
    close "grad_v" (vector [ 0.3; 0.4; 0.2 ]) g[0]

    let y, g = valueAndGrads (fun xs -> Expr.Diag xs[0]) (Some w) [ A ]
    close "diag(A)" (vector [ 4.0; 3.0; 5.0 ]) y
    close "grad_A" (columns 3 3 [ 0.7; 0.0; 0.0; 0.0; -0.3; 0.0; 0.0; 0.0; 1.9 ]) g[0]

    let R = rows [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
    let y, g = valueAndGrads (fun xs -> Expr.Diagonal xs[0]) (Some(Value.FromArray [| 0.5; -1.5 |])) [ R ]
    close "diagonal(R)" (vector [ 1.0; 5.0 ]) y
    close "grad_R" (columns 2 3 [ 0.5; 0.0; 0.0; -1.5; 0.0; 0.0 ]) g[0]

let matrixPowers =
    [|
        (0, [ 1.0; 0.0; 0.0; 0.0; 1.0; 0.0; 0.0; 0.0; 1.0 ], [ 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; 0.0 ])
        (1, [ 4.0; 0.5; 1.0; 1.0; 3.0; -2.0; 2.0; -1.0; 5.0 ], [ 0.3; 1.1; -0.8; -1.2; 0.4; 0.9; 0.7; -0.5; 0.2 ])
        (2, [ 18.5; 2.5; 8.0; 3.0; 11.5; -15.0; 17.0; -7.0; 29.0 ], [ 2.3499999999999996; 9.0; -6.4; -7.85; 0.4500000000000002; 3.8000000000000003; 8.95; -3.4000000000000004; 1.2999999999999998 ])
        (3, [ 92.5; 8.75; 53.5; -6.5; 51.0; -95.0; 119.0; -41.5; 176.0 ], [ 21.349999999999998; 55.2; -45.000000000000014; -45.324999999999996; -3.2499999999999982; 9.800000000000004; 76.1; -15.550000000000002; 13.699999999999996 ])
        (5, [ 2647.0; -42.625; 2160.25; -1582.25; 1235.25; -3572.0; 5069.0; -1411.75; 6678.5 ], [ 1506.425; 1798.8250000000003; -1790.4500000000003; -1519.4499999999998; -77.5499999999999; -379.7249999999999; 3925.25; -315.67500000000007; 1325.25 ])
    |]

let ``matrix_power and the gradient of sum(matrix_power(A, k) * W) match PyTorch`` (k: int, value: float list, grad: float list) =
    let y, g = valueAndGrads (fun xs -> Expr.MatrixPower(xs[0], k)) (Some W) [ A ]
    close $"matrix_power(A, {k})" (columns 3 3 value) y
    close "its gradient" (columns 3 3 grad) g[0]

let ``matrix_power is a graph of matmuls: k = 5 is two squarings and one more product`` () =
    let a = Expr.Var("A", A)
    let p = Expr.MatrixPower(a, 5)
    let ops = Graph.PostOrder p |> Seq.choose (fun e -> Option.ofObj e.Op) |> Seq.map (fun op -> op.Name) |> List.ofSeq
    Assert.That(ops, Is.EqualTo [ "matmul"; "matmul"; "matmul" ])
    Assert.That(obj.ReferenceEquals(Expr.MatrixPower(a, 1), a), Is.True, "A¹ is A itself")

// ------------------------------------------------------------------ properties on random well-conditioned matrices

/// A random matrix of the domain, 1–6 rows, and the random source for more.
let private draw (seed: int) (domain: Domain) =
    let rng = Random seed
    let n = rng.Next(1, 7)
    rng, OpSpecs.sampleTensor rng domain (Shape.Matrix(n, n))

let private maxAbs (t: T) =
    t.Data |> Array.fold (fun m x -> max m (abs x)) 0.0

/// Agreement to rounding relative to the largest element of the expected side.
let private toRounding (expected: T) =
    {
        Absolute = 1e-13 * (1.0 + maxAbs expected)
        Relative = 1e-12
    }

let ``Solve(A, A·x) is x, for a vector and a matrix x`` (seed: int) =
    let rng, a = draw seed Invertible
    let n = a.Shape.Rows
    let ae = Expr.Const(T.toValue a)

    for x in [ randomOf rng (Shape.Vector n); randomOf rng (Shape.Matrix(n, rng.Next(1, 4))) ] do
        let solved = Expr.Solve(ae, Expr.MatMul(ae, Expr.Const(T.toValue x)))
        assertAllClose (toRounding x) "Solve(A, A x)" $"seed {seed}, A = {fmt a}" x (T.ofValue solved.Value)

let ``Inverse(A)·A and A·Inverse(A) are the identity`` (seed: int) =
    let _, a = draw seed Invertible
    let n = a.Shape.Rows
    let ae = Expr.Const(T.toValue a)
    let eye = T.ofValue (Expr.Eye n).Value
    let context = $"seed {seed}, A = {fmt a}"
    assertAllClose (toRounding eye) "Inverse(A) A" context eye (T.ofValue (Expr.MatMul(Expr.Inverse ae, ae)).Value)
    assertAllClose (toRounding eye) "A Inverse(A)" context eye (T.ofValue (Expr.MatMul(ae, Expr.Inverse ae)).Value)

let ``Det(A·B) is Det(A)·Det(B), and LogDet is log Det where det > 0`` (seed: int) =
    let rng, a = draw seed Invertible
    let bm = OpSpecs.sampleTensor rng Invertible a.Shape
    let ae, be = Expr.Const(T.toValue a), Expr.Const(T.toValue bm)
    let product = (Expr.Det(Expr.MatMul(ae, be))).Value.ToScalar()
    let separate = (Expr.Det ae * Expr.Det be).Value.ToScalar()
    let context = $"seed {seed}, A = {fmt a}, B = {fmt bm}"
    assertAllClose { Absolute = 0.0; Relative = 1e-12 } "Det(A B) against Det(A) Det(B)" context (T.scalar separate) (T.scalar product)

    let p = OpSpecs.sampleTensor rng PositiveDeterminant a.Shape
    let pe = Expr.Const(T.toValue p)

    assertAllClose
        { Absolute = 1e-13; Relative = 1e-13 }
        "LogDet(P) against log Det(P)"
        $"seed {seed}, P = {fmt p}"
        (T.scalar (log ((Expr.Det pe).Value.ToScalar())))
        (T.ofValue (Expr.LogDet pe).Value)

let ``Cholesky(A)·Cholesky(A)ᵀ is A, and the factor is lower triangular with a positive diagonal`` (seed: int) =
    let _, a = draw seed SymmetricPositiveDefinite
    let l = Expr.Cholesky(Expr.Const(T.toValue a))
    let context = $"seed {seed}, A = {fmt a}"
    assertAllClose (toRounding a) "L Lᵀ" context a (T.ofValue (Expr.MatMul(l, Expr.Transpose l)).Value)
    let lt = T.ofValue l.Value

    for i in 0 .. a.Shape.Rows - 1 do
        Assert.That(T.at lt i i, Is.GreaterThan 0.0, $"L[{i}, {i}]\n{context}")

        for j in i + 1 .. a.Shape.Rows - 1 do
            Assert.That(T.at lt i j, Is.EqualTo 0.0, $"L[{i}, {j}] above the diagonal\n{context}")

// ------------------------------------------------------------------ errors

/// Two equal rows: LU meets an exact zero pivot.
let private singular = rows [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ]; [ 1.0; 2.0; 3.0 ] ]

let private assertAtThisFile (ex: exn) =
    Assert.That(ex.Message, Does.Contain "(at LinearAlgebra.fs:", "the message ends with the user's line")

let ``inverse of a singular matrix is refused, naming the op and the zero pivot, not answered with NaNs`` () =
    let ex = throws<LinearAlgebraException>(fun () -> Expr.Inverse(Expr.Const singular) |> ignore)
    assertMentions ex [ "inverse"; "matrix(3, 3)"; "singular"; "zero pivot"; "Solve" ]
    Assert.That(ex.Op, Is.EqualTo "inverse")
    Assert.That(ex, Is.InstanceOf<InvalidOperationException>())
    assertAtThisFile ex

let ``inverse of a matrix whose inverse overflows is refused as singular to working precision`` () =
    let ex = throws<LinearAlgebraException>(fun () -> Expr.Inverse(Expr.Const(rows [ [ 1e-320 ] ])) |> ignore)
    assertMentions ex [ "inverse"; "singular to working precision"; "overflowed" ]

let ``solve with a singular A is refused at evaluation, also when the graph is symbolic`` () =
    let ex =
        throws<LinearAlgebraException>(fun () -> Expr.Solve(Expr.Const singular, Expr.Const b) |> ignore)

    assertMentions ex [ "solve"; "singular"; "least-squares" ]
    assertAtThisFile ex
    let a = Expr.Var("A", Shape.Matrix(3, 3))
    let x = Expr.Solve(a, Expr.Const b)

    let ex =
        throws<LinearAlgebraException>(fun () -> AD.Eval(x, bindings [ a, singular ]) |> ignore)

    assertMentions ex [ "solve"; "singular" ]

let ``solve refuses a non-square A and a mismatched right-hand side where the node is built`` () =
    let a = Expr.Var("A", Shape.Matrix(2, 3))
    let ex = throws<ShapeMismatchException>(fun () -> Expr.Solve(a, Expr.Var("b", Shape.Vector 2)) |> ignore)
    assertMentions ex [ "solve"; "matrix(2, 3)"; "vector(2)"; "square"; "normal equations" ]
    Assert.That((ex.Op, ex.Left, ex.Right), Is.EqualTo(("solve", Shape.Matrix(2, 3), Shape.Vector 2)))
    assertAtThisFile ex

    let a = Expr.Var("A", Shape.Matrix(3, 3))

    for rhs in [ Shape.Vector 4; Shape.Matrix(2, 3); Shape.Scalar ] do
        let ex = throws<ShapeMismatchException>(fun () -> Expr.Solve(a, Expr.Var("b", rhs)) |> ignore)
        assertMentions ex [ "solve"; "matrix(3, 3)"; string rhs; "vector(3)"; "matrix(3, k)" ]

let ``cholesky of a matrix that is not positive definite is refused, naming the op`` () =
    let indefinite = rows [ [ 1.0; 2.0 ]; [ 2.0; 1.0 ] ]
    let ex = throws<LinearAlgebraException>(fun () -> Expr.Cholesky(Expr.Const indefinite) |> ignore)
    assertMentions ex [ "cholesky"; "matrix(2, 2)"; "not positive definite"; "εI" ]
    Assert.That(ex.Op, Is.EqualTo "cholesky")
    assertAtThisFile ex

let ``cholesky factors the symmetric part of its input, as JAX does`` () =
    let lower = rows [ [ 4.0; 0.0 ]; [ 4.0; 5.0 ] ]
    let symmetric = rows [ [ 4.0; 2.0 ]; [ 2.0; 5.0 ] ]

    assertBitIdentical
        "cholesky of a matrix and of its symmetric part"
        (Expr.Cholesky(Expr.Const symmetric)).Value
        (Expr.Cholesky(Expr.Const lower)).Value

let ``logdet of a negative or zero determinant is refused, naming the sign`` () =
    let ex = throws<LinearAlgebraException>(fun () -> Expr.LogDet(Expr.Const N) |> ignore)
    assertMentions ex [ "logdet"; "negative"; "sign −1"; "Log(Abs(Det(A)))" ]
    assertAtThisFile ex
    let ex = throws<LinearAlgebraException>(fun () -> Expr.LogDet(Expr.Const singular) |> ignore)
    assertMentions ex [ "logdet"; "singular"; "sign 0" ]

let ``det of a singular matrix is 0; its gradient, which needs the inverse, is refused`` () =
    Assert.That((Expr.Det(Expr.Const singular)).Value.ToScalar(), Is.EqualTo 0.0)
    let grad = AD.Grad(Func<Expr, Expr>(fun a -> Expr.Det a))
    let ex = throws<LinearAlgebraException>(fun () -> grad.Invoke singular |> ignore)
    assertMentions ex [ "inverse"; "singular"; "det" ]

let ``the square-matrix ops refuse other shapes where the node is built`` () =
    let builders: (string * (Expr -> Expr)) list =
        [
            "inverse", Expr.Inverse
            "det", Expr.Det
            "logdet", Expr.LogDet
            "cholesky", Expr.Cholesky
            "matrix_power", (fun a -> Expr.MatrixPower(a, 2))
        ]

    for name, f in builders do
        for s in [ Shape.Matrix(2, 3); Shape.Vector 3; Shape.Scalar ] do
            let ex = throws<ShapeMismatchException>(fun () -> f (Expr.Var("A", s)) |> ignore)
            assertMentions ex [ name; string s; "matrix(n, n)" ]
            Assert.That(ex.Op, Is.EqualTo name)

let ``trace, diag and diagonal refuse the shapes they cannot take`` () =
    let ex = throws<ShapeMismatchException>(fun () -> Expr.Trace(Expr.Var("x", Shape.Vector 3)) |> ignore)
    assertMentions ex [ "trace"; "vector(3)"; "Sum" ]
    let ex = throws<ShapeMismatchException>(fun () -> Expr.Diag(Expr.Const 2.0) |> ignore)
    assertMentions ex [ "diag"; "scalar" ]
    let ex = throws<ShapeMismatchException>(fun () -> Expr.Diagonal(Expr.Var("x", Shape.Vector 3)) |> ignore)
    assertMentions ex [ "diagonal"; "vector(3)"; "Diag" ]

let ``matrix_power refuses a negative power, pointing to Inverse`` () =
    let ex =
        throws<ArgumentOutOfRangeException>(fun () -> Expr.MatrixPower(Expr.Const A, -2) |> ignore)

    assertMentions ex [ "matrix_power"; "-2"; "Inverse" ]

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "LinearAlgebra" [
        testCase "inverse and the gradient of sum(inverse(A) * W) match PyTorch" ``inverse and the gradient of sum(inverse(A) * W) match PyTorch``
        testCase "solve with a vector and with a matrix right-hand side, and its gradients, match PyTorch" ``solve with a vector and with a matrix right-hand side, and its gradients, match PyTorch``
        testCase "det of positive and negative determinants, and its gradient, match PyTorch" ``det of positive and negative determinants, and its gradient, match PyTorch``
        testCase "logdet, its gradient and its Hessian times a direction match PyTorch" ``logdet, its gradient and its Hessian times a direction match PyTorch``
        testCase "cholesky, the gradient of sum(cholesky(S) * W) and its Hessian times a direction match PyTorch" ``cholesky, the gradient of sum(cholesky(S) * W) and its Hessian times a direction match PyTorch``
        testCase "trace, diag and diagonal, and their gradients, match PyTorch" ``trace, diag and diagonal, and their gradients, match PyTorch``
        testList "matrix_power and the gradient of sum(matrix_power(A, k) * W) match PyTorch" [ for (k, _, _) as c in matrixPowers -> testCase $"k = {k}" (fun () -> ``matrix_power and the gradient of sum(matrix_power(A, k) * W) match PyTorch`` c) ]
        testCase "matrix_power is a graph of matmuls: k = 5 is two squarings and one more product" ``matrix_power is a graph of matmuls: k = 5 is two squarings and one more product``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "Solve(A, A·x) is x, for a vector and a matrix x" ``Solve(A, A·x) is x, for a vector and a matrix x``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "Inverse(A)·A and A·Inverse(A) are the identity" ``Inverse(A)·A and A·Inverse(A) are the identity``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "Det(A·B) is Det(A)·Det(B), and LogDet is log Det where det > 0" ``Det(A·B) is Det(A)·Det(B), and LogDet is log Det where det > 0``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "Cholesky(A)·Cholesky(A)ᵀ is A, and the factor is lower triangular with a positive diagonal" ``Cholesky(A)·Cholesky(A)ᵀ is A, and the factor is lower triangular with a positive diagonal``
        testCase "inverse of a singular matrix is refused, naming the op and the zero pivot, not answered with NaNs" ``inverse of a singular matrix is refused, naming the op and the zero pivot, not answered with NaNs``
        testCase "inverse of a matrix whose inverse overflows is refused as singular to working precision" ``inverse of a matrix whose inverse overflows is refused as singular to working precision``
        testCase "solve with a singular A is refused at evaluation, also when the graph is symbolic" ``solve with a singular A is refused at evaluation, also when the graph is symbolic``
        testCase "solve refuses a non-square A and a mismatched right-hand side where the node is built" ``solve refuses a non-square A and a mismatched right-hand side where the node is built``
        testCase "cholesky of a matrix that is not positive definite is refused, naming the op" ``cholesky of a matrix that is not positive definite is refused, naming the op``
        testCase "cholesky factors the symmetric part of its input, as JAX does" ``cholesky factors the symmetric part of its input, as JAX does``
        testCase "logdet of a negative or zero determinant is refused, naming the sign" ``logdet of a negative or zero determinant is refused, naming the sign``
        testCase "det of a singular matrix is 0; its gradient, which needs the inverse, is refused" ``det of a singular matrix is 0; its gradient, which needs the inverse, is refused``
        testCase "the square-matrix ops refuse other shapes where the node is built" ``the square-matrix ops refuse other shapes where the node is built``
        testCase "trace, diag and diagonal refuse the shapes they cannot take" ``trace, diag and diagonal refuse the shapes they cannot take``
        testCase "matrix_power refuses a negative power, pointing to Inverse" ``matrix_power refuses a negative power, pointing to Inverse``
    ]
