/// Numerics at extremes (issue 8): the norm's first and second derivatives at tiny and huge scales, against their
/// analytic forms.
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
