/// Numerics at extremes (issue 8): softmax, log-softmax and cross-entropy from the shifted logits, the log1p form of
/// binary cross-entropy, the norm's second derivative at tiny and huge scales, and log-sigmoid. Reference values are
/// PyTorch's in float64, printed by tests/reference/issue8_numerics.py, or the analytic forms where PyTorch itself
/// loses them (noted at each).
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

// ------------------------------------------------------------------ softmax, log-softmax, cross-entropy

let ``softmax and log-softmax of huge equal logits are exact`` () =
    // Formed as x − log Σ eˣ, log Σ eˣ rounds to the spacing of doubles near 1e15 (0.125) and softmax was 0.4724.
    let x = Expr.Const(vector [ 1e15; 1e15 ])
    assertBitIdentical "softmax([1e15, 1e15])" (vector [ 0.5; 0.5 ]) (Expr.Softmax x).Value

    assertBitIdentical
        "log_softmax([1e15, 1e15])"
        (vector [ -0.6931471805599453; -0.6931471805599453 ])
        (Expr.LogSoftmax x).Value

let ``cross-entropy at logits near 1e13 matches PyTorch to rounding`` () =
    // One example: logits [1e13, 1e13 + 1, 1e13 − 2], class 0 (the spacing of doubles there is 0.002).
    let z = vector [ 1e13; 1e13 + 1.0; 1e13 - 2.0 ]
    let v, g = valueAndGrad (fun e -> Expr.SoftmaxCrossEntropy(e, 0)) z
    let context = $"z = {fmtValue z}"
    assertAllClose ulps "cross-entropy (vector)" context (T.scalar 1.3490122167681864) (T.scalar v)

    assertAllClose
        { Absolute = 0.0; Relative = 4e-15 }
        "its gradient"
        context
        (T.vector [| -0.7405035396575809; 0.7053845126982412; 0.03511902695933973 |])
        g

    // A batch of two rows, classes [0, 2]; matrices are listed column by column.
    let rows =
        [| [| 1e13; 1e13 + 1.0; 1e13 - 2.0 |]; [| -1e13; -1e13 + 0.5; -1e13 - 3.0 |] |]

    let zm = T.matrix 2 3 (fun i j -> rows[i][j])

    let v, g =
        valueAndGrad (fun e -> Expr.SoftmaxCrossEntropy(e, [ 0; 2 ])) (T.toValue zm)

    let context = $"z = {fmt zm}"
    assertAllClose ulps "cross-entropy (matrix)" context (T.scalar 2.6708556850502423) (T.scalar v)

    let expected =
        [|
            -0.37025176982879043
            0.18528755044451314
            0.3526922563491206
            0.30548752561379183
            0.017559513479669865
            -0.490775076058305
        |]

    assertAllClose
        { Absolute = 0.0; Relative = 4e-15 }
        "its gradient"
        context
        {
            Shape = Shape.Matrix(2, 3)
            Data = expected
        }
        g

// ------------------------------------------------------------------ binary cross-entropy with logits

let ``binary cross-entropy with logits keeps its tiny terms`` () =
    // log(1 + e^−40) rounds to 0; log1p(e^−40) = 4.248354255291589e-18. (PyTorch 1.13's own
    // binary_cross_entropy_with_logits also gives 0 here; the reference is the log1p form evaluated by PyTorch.)
    let t0 = Expr.Const 0.0
    let y = Expr.BinaryCrossEntropyWithLogits(Expr.Const -40.0, t0).Value.ToScalar()
    assertAllClose ulps "bce(z = −40, t = 0)" "" (T.scalar 4.248354255291589e-18) (T.scalar y)

    let t = Expr.Const(vector [ 0.0; 1.0; 0.0 ])
    let z = vector [ -40.0; 40.0; -30.0 ]
    let v, g = valueAndGrad (fun e -> Expr.BinaryCrossEntropyWithLogits(e, t)) z
    let context = $"z = {fmtValue z}, t = [0; 1; 0]"
    assertAllClose ulps "bce of the vector" context (T.scalar 3.1194908798969316e-14) (T.scalar v)

    assertAllClose
        { Absolute = 0.0; Relative = 4e-15 }
        "its gradient"
        context
        (T.vector [| 1.4161180850971963e-18; 0.0; 3.119207656279767e-14 |])
        g

// ------------------------------------------------------------------ the norm's first and second derivatives

/// (I − uuᵀ)/r for the unit vector u and the norm r.
let private normHessian (u: float[]) (r: float) =
    T.matrix u.Length u.Length (fun i j -> ((if i = j then 1.0 else 0.0) - u[i] * u[j]) / r)

let private ofMatrix (m: MathNet.Numerics.LinearAlgebra.Matrix<float>) =
    T.matrix m.RowCount m.ColumnCount (fun i j -> m[i, j])

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

let ``the norm's gradient and Hessian at zero are zero`` () =
    let x = Value.Zeros(Shape.Vector 3)
    let f = Func<Expr, Expr> Expr.Norm
    assertBitIdentical "the gradient at 0" x (AD.Grad(f).Invoke x)
    let h = ofMatrix (AD.Hessian(f).Invoke x)
    assertBitIdentical "the Hessian at 0" (T.toValue (T.zeros h.Shape)) (T.toValue h)

// ------------------------------------------------------------------ log-sigmoid

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

open Expecto

[<Tests>]
let tests =
    testList "Extremes" [
        testCase "softmax and log-softmax of huge equal logits are exact" ``softmax and log-softmax of huge equal logits are exact``
        testCase "cross-entropy at logits near 1e13 matches PyTorch to rounding" ``cross-entropy at logits near 1e13 matches PyTorch to rounding``
        testCase "binary cross-entropy with logits keeps its tiny terms" ``binary cross-entropy with logits keeps its tiny terms``
        testCase "the norm's gradient is x over its norm and its Hessian (I − uuᵀ) over its norm, at every scale" ``the norm's gradient is x over its norm and its Hessian (I − uuᵀ) over its norm, at every scale``
        testCase "the norm's gradient and Hessian at zero are zero" ``the norm's gradient and Hessian at zero are zero``
        testCase "log_sigmoid and its derivative are finite and right at the extremes" ``log_sigmoid and its derivative are finite and right at the extremes``
    ]
