/// Errors of the higher-order combinators: the exception type, its Op/Left/Right or Output, and a message that
/// names the combinator and the shapes.
module Functional.Autodiff.Tests.HigherErrors

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let private fn (f: Expr -> Expr) = Func<Expr, Expr> f

let private vector n =
    Value.FromArray(Array.init n (fun k -> 0.5 + float k))

let private matrix m n =
    T.toValue (T.matrix m n (fun i j -> float (i + 2 * j) + 0.25))

let private assertMentions (ex: exn) (parts: string list) =
    for p in parts do
        Assert.That(ex.Message, Does.Contain p, $"the message should mention '{p}'")

let private assertShapes (ex: ShapeMismatchException) (op: string) (left: Shape) (right: Shape) =
    Assert.That(ex.Op, Is.EqualTo op, "ShapeMismatchException.Op")
    Assert.That(ex.Left, Is.EqualTo left, "ShapeMismatchException.Left")
    Assert.That(ex.Right, Is.EqualTo right, "ShapeMismatchException.Right")

// ------------------------------------------------------------------ tangents and directions of the wrong shape

let ``AD.Jvp with a tangent of the wrong shape`` () =
    let jvp = AD.Jvp(fn Expr.Sin)

    let ex =
        throws<ShapeMismatchException>(fun () -> jvp.Invoke(vector 3, vector 2) |> ignore)

    assertMentions ex [ "Jvp"; "vector(3)"; "vector(2)"; "tangent" ]
    assertShapes ex "Jvp" (Shape.Vector 3) (Shape.Vector 2)

    let ex =
        throws<ShapeMismatchException>(fun () -> jvp.Invoke(Value.Scalar 1.0, vector 1) |> ignore)

    assertMentions ex [ "Jvp"; "scalar"; "vector(1)" ]
    assertShapes ex "Jvp" Shape.Scalar (Shape.Vector 1)

    let ex =
        throws<ShapeMismatchException>(fun () -> jvp.Invoke(matrix 2 3, matrix 3 2) |> ignore)

    assertMentions ex [ "Jvp"; "matrix(2, 3)"; "matrix(3, 2)" ]

let ``AD.Hvp with a direction of the wrong shape`` () =
    let hvp = AD.Hvp(fn (fun x -> Expr.Sum(Expr.Exp x)))

    let ex =
        throws<ShapeMismatchException>(fun () -> hvp.Invoke(vector 4, vector 3) |> ignore)

    assertMentions ex [ "Hvp"; "vector(4)"; "vector(3)"; "direction" ]
    assertShapes ex "Hvp" (Shape.Vector 4) (Shape.Vector 3)

    let ex =
        throws<ShapeMismatchException>(fun () -> hvp.Invoke(vector 2, Value.Scalar 1.0) |> ignore)

    assertMentions ex [ "Hvp"; "vector(2)"; "scalar" ]

let ``Diff.Jvp with a tangent of the wrong shape`` () =
    let x = Expr.Var("x", vector 3)

    let ex =
        throws<ShapeMismatchException>(fun () -> (Diff.Jvp(fn Expr.Tanh)).Invoke(x, Expr.Const(vector 2)) |> ignore)

    assertMentions ex [ "Diff.Jvp"; "vector(3)"; "vector(2)"; "tangent" ]
    assertShapes ex "Diff.Jvp" (Shape.Vector 3) (Shape.Vector 2)

let ``Diff.Vjp with a cotangent of the wrong shape`` () =
    let x = Expr.Var("x", vector 3)
    // The output is a matrix(3, 3); a vector(3) cotangent does not fit.
    let ex =
        throws<ShapeMismatchException>(fun () ->
            (Diff.Vjp(fn (fun e -> Expr.Outer(e, e)))).Invoke(x, Expr.Const(vector 3))
            |> ignore)

    assertMentions ex [ "Diff.Vjp"; "matrix(3, 3)"; "vector(3)"; "cotangent" ]
    assertShapes ex "Diff.Vjp" (Shape.Matrix(3, 3)) (Shape.Vector 3)
    // A scalar output with a vector(1) cotangent, also refused.
    let ex =
        throws<ShapeMismatchException>(fun () -> (Diff.Vjp(fn Expr.Sum)).Invoke(x, Expr.Const(vector 1)) |> ignore)

    assertMentions ex [ "Diff.Vjp"; "scalar"; "vector(1)" ]
    assertShapes ex "Diff.Vjp" Shape.Scalar (Shape.Vector 1)

// ------------------------------------------------------------------ Jacobians of matrices

let jacobians: (string * (Func<Expr, Expr> -> Func<Value, MathNet.Numerics.LinearAlgebra.Matrix<float>>)) list =
    [
        "Jacobian", AD.Jacobian
        "JacobianRev", AD.JacobianRev
        "JacobianFwd", AD.JacobianFwd
    ]

let jacobianNames = jacobians |> List.map fst |> Array.ofList

// Matrices were refused here until structured inputs; they are now taken with their elements in row-major order.
let ``a Jacobian of a matrix input counts its elements row-major`` (name: string) =
    // f(X) = sin X, element-wise, summed with row weights: d/dX[i, j] of sum_ij (i + 1) sin X[i, j].
    let weights = T.toValue (T.matrix 2 3 (fun i _ -> float (i + 1)))
    let jac = (jacobians |> List.find (fst >> (=) name) |> snd) (fn (fun x -> Expr.Sum(Expr.Const weights * Expr.Sin x)))
    let x = matrix 2 3
    let j = jac.Invoke x
    Assert.That((j.RowCount, j.ColumnCount), Is.EqualTo((1, 6)))
    let xm = x.ToMatrix()
    for k in 0..5 do
        let i, c = k / 3, k % 3
        Assert.That(j.[0, k], Is.EqualTo(float (i + 1) * cos xm.[i, c]), $"element {k} is X[{i}, {c}]")

let ``a Jacobian of a matrix output counts its elements row-major`` (name: string) =
    let jac = (jacobians |> List.find (fst >> (=) name) |> snd) (fn (fun x -> Expr.Outer(x, x)))
    let x = Value.FromArray [| 2.0; 3.0 |]
    let j = jac.Invoke x
    // Rows: (0,0), (0,1), (1,0), (1,1) of x xᵀ; d(x_a x_b)/dx_c.
    let expected = array2D [ [ 4.0; 0.0 ]; [ 3.0; 2.0 ]; [ 3.0; 2.0 ]; [ 0.0; 6.0 ] ]
    Assert.That(j.ToArray(), Is.EqualTo expected)

// ------------------------------------------------------------------ Hessians of non-scalar functions

let ``the Hessian of a non-scalar output`` () =
    let hess = AD.Hessian(fn (fun x -> Expr.Sin x))

    let ex = throws<NonScalarOutputException>(fun () -> hess.Invoke(vector 3) |> ignore)

    assertMentions ex [ "Hessian"; "vector(3)"; "scalar" ]
    Assert.That(ex.Output, Is.EqualTo(Shape.Vector 3))
    let hess = AD.Hessian(fn (fun x -> Expr.Outer(x, x)))

    let ex = throws<NonScalarOutputException>(fun () -> hess.Invoke(vector 2) |> ignore)

    assertMentions ex [ "Hessian"; "matrix(2, 2)" ]
    Assert.That(ex.Output, Is.EqualTo(Shape.Matrix(2, 2)))

let ``the Hessian of a matrix input counts its elements row-major`` () =
    // f(X) = X[0,0] * X[1,2]: the only second derivatives pair elements 0 and 5 (row-major).
    let hess = AD.Hessian(fn (fun x -> Expr.Sum(Expr.Const(T.toValue (T.matrix 2 3 (fun i j -> if i = 0 && j = 0 then 1.0 else 0.0))) * x)
                                        * Expr.Sum(Expr.Const(T.toValue (T.matrix 2 3 (fun i j -> if i = 1 && j = 2 then 1.0 else 0.0))) * x)))
    let h = hess.Invoke(matrix 2 3)
    Assert.That((h.RowCount, h.ColumnCount), Is.EqualTo((6, 6)))
    for r in 0..5 do
        for c in 0..5 do
            let expected = if (r, c) = (0, 5) || (r, c) = (5, 0) then 1.0 else 0.0
            Assert.That(h.[r, c], Is.EqualTo expected, $"H[{r}, {c}]")

let ``Hvp of a non-scalar output`` () =
    let hvp = AD.Hvp(fn (fun x -> x * x))

    let ex =
        throws<NonScalarOutputException>(fun () -> hvp.Invoke(vector 3, vector 3) |> ignore)

    assertMentions ex [ "Hvp"; "vector(3)" ]
    Assert.That(ex.Output, Is.EqualTo(Shape.Vector 3))

let ``Diff.Grad of a non-scalar output, also when nested in AD.Grad`` () =
    let x = Expr.Var("x", vector 3)

    let ex =
        throws<NonScalarOutputException>(fun () -> (Diff.Grad(fn Expr.Exp)).Invoke x |> ignore)

    assertMentions ex [ "Diff.Grad"; "vector(3)" ]
    Assert.That(ex.Output, Is.EqualTo(Shape.Vector 3))
    // The inner combinator's error surfaces unchanged through the outer one.
    let outer = AD.Grad(fn (fun e -> Expr.Sum((Diff.Grad(fn Expr.Exp)).Invoke e)))

    let ex =
        throws<NonScalarOutputException>(fun () -> outer.Invoke(vector 2) |> ignore)

    assertMentions ex [ "Diff.Grad"; "vector(2)" ]

// ------------------------------------------------------------------ null functions and results

let ``null functions and functions returning null are refused`` () =
    let nullFn = Unchecked.defaultof<Func<Expr, Expr>>

    for name, make in
        [
            "AD.Jvp", (fun () -> AD.Jvp nullFn |> ignore)
            "AD.Jacobian", (fun () -> AD.Jacobian nullFn |> ignore)
            "AD.JacobianRev", (fun () -> AD.JacobianRev nullFn |> ignore)
            "AD.JacobianFwd", (fun () -> AD.JacobianFwd nullFn |> ignore)
            "AD.Hessian", (fun () -> AD.Hessian nullFn |> ignore)
            "AD.Hvp", (fun () -> AD.Hvp nullFn |> ignore)
            "Diff.Grad", (fun () -> Diff.Grad nullFn |> ignore)
            "Diff.Vjp", (fun () -> Diff.Vjp nullFn |> ignore)
            "Diff.Jvp", (fun () -> Diff.Jvp nullFn |> ignore)
        ] do
        let ex = throws<ArgumentNullException> make
        Assert.That(ex.ParamName, Is.EqualTo "f", $"{name}(null)")

    let returnsNull = Func<Expr, Expr>(fun _ -> Unchecked.defaultof<Expr>)
    let x = Expr.Var("x", vector 2)

    for name, call in
        [
            "AD.Jvp", (fun () -> AD.Jvp(returnsNull).Invoke(vector 2, vector 2) |> ignore)
            "AD.Jacobian", (fun () -> AD.Jacobian(returnsNull).Invoke(vector 2) |> ignore)
            "AD.Hessian", (fun () -> AD.Hessian(returnsNull).Invoke(vector 2) |> ignore)
            "AD.Hvp", (fun () -> AD.Hvp(returnsNull).Invoke(vector 2, vector 2) |> ignore)
            "Diff.Grad", (fun () -> (Diff.Grad returnsNull).Invoke x |> ignore)
            "Diff.Vjp", (fun () -> (Diff.Vjp returnsNull).Invoke(x, x) |> ignore)
            "Diff.Jvp", (fun () -> (Diff.Jvp returnsNull).Invoke(x, x) |> ignore)
        ] do
        let ex = throws<ArgumentException> call
        assertMentions ex [ "returned null" ]

open Expecto

[<Tests>]
let tests =
    testList "HigherErrors" [
        testCase "AD.Jvp with a tangent of the wrong shape" ``AD.Jvp with a tangent of the wrong shape``
        testCase "AD.Hvp with a direction of the wrong shape" ``AD.Hvp with a direction of the wrong shape``
        testCase "Diff.Jvp with a tangent of the wrong shape" ``Diff.Jvp with a tangent of the wrong shape``
        testCase "Diff.Vjp with a cotangent of the wrong shape" ``Diff.Vjp with a cotangent of the wrong shape``
        testList "a Jacobian of a matrix input counts its elements row-major" [ for c in jacobianNames -> testCase c (fun () -> ``a Jacobian of a matrix input counts its elements row-major`` c) ]
        testList "a Jacobian of a matrix output counts its elements row-major" [ for c in jacobianNames -> testCase c (fun () -> ``a Jacobian of a matrix output counts its elements row-major`` c) ]
        testCase "the Hessian of a non-scalar output" ``the Hessian of a non-scalar output``
        testCase "the Hessian of a matrix input counts its elements row-major" ``the Hessian of a matrix input counts its elements row-major``
        testCase "Hvp of a non-scalar output" ``Hvp of a non-scalar output``
        testCase "Diff.Grad of a non-scalar output, also when nested in AD.Grad" ``Diff.Grad of a non-scalar output, also when nested in AD.Grad``
        testCase "null functions and functions returning null are refused" ``null functions and functions returning null are refused``
    ]
