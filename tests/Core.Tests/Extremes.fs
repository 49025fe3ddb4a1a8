/// Numerics at extremes (issue 8): the norm's first and second derivatives at tiny and huge scales, against their
/// analytic forms, and log-sigmoid. Reference values are PyTorch's in float64, printed by
/// tests/reference/issue8_numerics.py.
module Functional.Autodiff.Tests.Extremes

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let private valueAndGrad (f: Expr -> Expr) (x: Value) =
    let struct (v, g) = AD.ValueAndGrad(Func<Expr, Expr> f).Invoke x
    v.ToScalar(), T.ofValue g

let private vector (xs: float list) = Value.FromArray(Array.ofList xs)

/// Within a few ulps, relative to the larger magnitude.
let private ulps = { Absolute = 0.0; Relative = 1e-15 }

// ------------------------------------------------------------------ the norm's first and second derivatives

/// (I − uuᵀ)/r for the unit vector u and the norm r.
let private normHessian (u: float[]) (r: float) =
    T.matrix u.Length u.Length (fun i j -> ((if i = j then 1.0 else 0.0) - u[i] * u[j]) / r)

let private ofMatrix (m: MathNet.Numerics.LinearAlgebra.Matrix<float>) =
    T.matrix m.RowCount m.ColumnCount (fun i j -> m[i, j])

[<Test>]
let ``the norm's gradient is x over its norm and its Hessian (I − uuᵀ) over its norm, at every scale`` () =
    // ‖x‖ = r·s for x = s·d: d = [3, 4] (r = 5) and d = [1, −2, 2] (r = 3). Old rules went through 1/‖x‖², which
    // overflows for ‖x‖ ≲ 1.4e-154 (a Hessian of −∞) and underflows past 1e154 (losing −uuᵀ/‖x‖).
    for d, r in [ [| 3.0; 4.0 |], 5.0; [| 1.0; -2.0; 2.0 |], 3.0 ] do
        let u = d |> Array.map (fun v -> v / r)

        for s in [ 1e-300; 1e-200; 1e-155; 1e-100; 1e-3; 1.0; 7.0; 1e100; 1e154; 1e200; 1e300 ] do
            let x = Value.FromArray(d |> Array.map (fun v -> v * s))
            let f = Func<Expr, Expr> Expr.Norm
            let context = $"x = {fmtValue x}"
            let _, g = valueAndGrad Expr.Norm x
            assertAllClose { Absolute = 0.0; Relative = 1e-15 } "the gradient, u" context (T.vector u) g
            let expected = normHessian u (r * s)
            let scale = expected.Data |> Array.map abs |> Array.max

            let tol =
                {
                    Absolute = 1e-15 * scale
                    Relative = 0.0
                }

            assertAllClose tol "AD.Hessian (forward over reverse)" context expected (ofMatrix (AD.Hessian(f).Invoke x))

            assertAllClose
                tol
                "JacobianRev of the gradient graph (reverse over reverse)"
                context
                expected
                (ofMatrix (AD.JacobianRev(Diff.Grad f).Invoke x))

[<Test>]
let ``the norm's gradient and Hessian at zero are zero`` () =
    let x = Value.Zeros(Shape.Vector 3)
    let f = Func<Expr, Expr> Expr.Norm
    assertBitIdentical "the gradient at 0" x (AD.Grad(f).Invoke x)
    let h = ofMatrix (AD.Hessian(f).Invoke x)
    assertBitIdentical "the Hessian at 0" (T.toValue (T.zeros h.Shape)) (T.toValue h)

// ------------------------------------------------------------------ log-sigmoid

[<Test>]
let ``log_sigmoid and its derivative are finite and right at the extremes`` () =
    // log(sigmoid(−1000)) is log 0 = −∞ with a NaN derivative; log_sigmoid(−1000) is −1000 with derivative 1.
    let x = vector [ -1000.0; -40.0; -1.0; 0.0; 1.0; 40.0; 1000.0 ]
    let y = Expr.LogSigmoid(Expr.Const x).Value
    let context = $"x = {fmtValue x}"

    assertAllClose
        ulps
        "log_sigmoid(x)"
        context
        (T.vector
            [|
                -1000.0
                -40.0
                -1.3132616875182228
                -0.6931471805599453
                -0.31326168751822286
                -4.248354255291589e-18
                0.0
            |])
        (T.ofValue y)

    let _, g = valueAndGrad (fun e -> Expr.Sum(e.LogSigmoid())) x

    assertAllClose
        ulps
        "log_sigmoid'(x) = sigmoid(−x)"
        context
        (T.vector
            [|
                1.0
                1.0
                0.7310585786300049
                0.5
                0.2689414213699951
                4.248354255291589e-18
                0.0
            |])
        g

    // The second derivative, −σ(x)σ(−x), is finite too (0 at ±1000).
    let second =
        AD.Hessian(Func<Expr, Expr>(fun e -> Expr.Sum(Expr.LogSigmoid e))).Invoke x

    Assert.That(
        second.Diagonal().ToArray() |> Array.forall Double.IsFinite,
        $"the Hessian's diagonal {second.Diagonal()}"
    )

    Assert.That(second[0, 0], Is.EqualTo 0.0)
    Assert.That(second[3, 3], Is.EqualTo(-0.25).Within(1e-16))
