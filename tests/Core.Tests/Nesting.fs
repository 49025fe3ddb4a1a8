/// Nested derivatives against hand-derived closed forms, perturbation confusion (Siskind & Pearlmutter), and
/// stop_gradient under second order pinned to PyTorch's detach under double backward.
module Functional.Autodiff.Tests.Nesting

open System
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let fn (f: Expr -> Expr) = Func<Expr, Expr> f

/// Numbers f(x) for a scalar x.
let at (f: Func<Value, Value>) (x: float) = (f.Invoke(Value.Scalar x)).ToScalar()

let assertClose (tol: Tolerance) (what: string) (expected: float) (actual: float) =
    if not (within tol expected actual) then
        Assert.Fail
            $"{what}: got {g17 actual}, expected {g17 expected} (difference {g17 (actual - expected)}, tolerance {tol})"

let assertMatrix (tol: Tolerance) (what: string) (expected: float[,]) (actual: Matrix<float>) =
    let m, n = Array2D.length1 expected, Array2D.length2 expected

    if actual.RowCount <> m || actual.ColumnCount <> n then
        Assert.Fail $"{what}: {actual.RowCount}×{actual.ColumnCount}, expected {m}×{n}"

    let e = T.matrix m n (fun i j -> expected[i, j])
    let a = T.matrix m n (fun i j -> actual[i, j])
    assertAllClose tol what "" e a

/// Scalar points used by the scalar closed forms: a grid over [−3, 3] plus a few awkward ones.
let points =
    [ for k in -12 .. 12 -> float k / 4.0 ]
    @ [ 0.1; -0.7; 1e-3; 2.9; Math.PI / 2.0 ]

let vec (xs: float list) = Value.FromArray(Array.ofList xs)

// ------------------------------------------------------------------ closed forms

let ``the third derivative of sin is -cos and the fourth is sin`` () =
    let sin = fn Expr.Sin
    let third = AD.Grad(Diff.Grad(Diff.Grad sin))
    let fourth = AD.Grad(Diff.Grad(Diff.Grad(Diff.Grad sin)))
    // Forward over reverse over reverse: the tangent of sin'' in direction 1.
    let jvp = AD.Jvp(Diff.Grad(Diff.Grad sin))

    for x in points do
        assertClose rounding $"AD.Grad(Diff.Grad(Diff.Grad sin)) at {g17 x}" (-(cos x)) (at third x)
        assertClose rounding $"fourth derivative of sin at {g17 x}" (Math.Sin x) (at fourth x)
        let struct (v, t) = jvp.Invoke(Value.Scalar x, Value.Scalar 1.0)
        assertClose rounding $"sin'' at {g17 x}" (-(Math.Sin x)) (v.ToScalar())
        assertClose rounding $"AD.Jvp(sin'') at {g17 x}" (-(cos x)) (t.ToScalar())

let ``element-wise third derivative of sin on a vector`` () =
    let sumOf (f: Func<Expr, Expr>) = fn (fun e -> Expr.Sum(f.Invoke e))

    let third =
        AD.Grad(sumOf (Diff.Grad(sumOf (Diff.Grad(fn (fun e -> Expr.Sum(Expr.Sin e)))))))

    let xs = [| -2.5; -0.3; 0.0; 1.1; 3.0 |]

    assertAllClose
        rounding
        "third derivative of Σ sin, element-wise"
        $"x = {fmt (T.vector xs)}"
        (T.vector (Array.map (fun x -> -(cos x)) xs))
        (T.ofValue (third.Invoke(Value.FromArray(Array.copy xs))))

let ``d2/dx2 exp at 3 is e cubed`` () =
    let exp = fn Expr.Exp
    let e3 = Math.Exp 3.0
    assertClose rounding "AD.Grad(Diff.Grad exp) at 3" e3 (at (AD.Grad(Diff.Grad exp)) 3.0)
    assertMatrix rounding "AD.Hessian exp at 3" (array2D [ [ e3 ] ]) (AD.Hessian(exp).Invoke(Value.Scalar 3.0))

    assertClose
        rounding
        "AD.Hvp exp at 3 along 1"
        e3
        ((AD.Hvp(exp).Invoke(Value.Scalar 3.0, Value.Scalar 1.0)).ToScalar())

    assertClose
        rounding
        "AD.Hvp exp at 3 along -2"
        (-2.0 * e3)
        ((AD.Hvp(exp).Invoke(Value.Scalar 3.0, Value.Scalar -2.0)).ToScalar())

let ``the Hessian of 2 xT x is 4 I exactly`` () =
    let f = fn (fun x -> 2.0 * Expr.Dot(x, x))
    let rng = Random 20261123

    for n in 1..5 do
        let x = Array.init n (fun _ -> uniform rng -3.0 3.0)
        let h = AD.Hessian(f).Invoke(Value.FromArray(Array.copy x))
        let four = Array2D.init n n (fun i j -> if i = j then 4.0 else 0.0)
        assertMatrix { Absolute = 0.0; Relative = 0.0 } $"Hessian of 2 x.x at {fmt (T.vector x)}" four h
        // The Jacobian of the gradient graph (reverse over reverse) and Hvp say the same.
        let rr = AD.JacobianRev(Diff.Grad f).Invoke(Value.FromArray(Array.copy x))
        assertMatrix { Absolute = 0.0; Relative = 0.0 } $"JacobianRev(Diff.Grad) at {fmt (T.vector x)}" four rr
        let v = Array.init n (fun _ -> uniform rng -1.0 1.0)

        let hv =
            AD.Hvp(f).Invoke(Value.FromArray(Array.copy x), Value.FromArray(Array.copy v))

        assertAllClose
            rounding
            "Hvp of 2 x.x"
            $"x = {fmt (T.vector x)}"
            (T.vector (Array.map ((*) 4.0) v))
            (T.ofValue hv)

/// The n-dimensional Rosenbrock function Σᵢ 100 (xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)².
let rosenbrock =
    fn (fun x ->
        let n = x.Shape.Size

        List.init (n - 1) (fun i -> 100.0 * Expr.Square(x[i + 1] - Expr.Square x[i]) + Expr.Square(1.0 - x[i]))
        |> List.reduce (+))

/// Its Hessian: Hᵢᵢ = 1200 xᵢ² − 400 xᵢ₊₁ + 2 (i < n−1) + 200 (i > 0), Hᵢ,ᵢ₊₁ = Hᵢ₊₁,ᵢ = −400 xᵢ.
let rosenbrockHessian (x: float[]) =
    let n = x.Length

    Array2D.init n n (fun i j ->
        if i = j then
            (if i < n - 1 then
                 1200.0 * x[i] * x[i] - 400.0 * x[i + 1] + 2.0
             else
                 0.0)
            + (if i > 0 then 200.0 else 0.0)
        elif j = i + 1 then
            -400.0 * x[i]
        elif i = j + 1 then
            -400.0 * x[j]
        else
            0.0)

let ``the Hessian of the Rosenbrock function at several points`` () =
    let rng = Random 20261125

    let points =
        [ [| 1.0; 1.0 |]; [| 0.0; 0.0 |]; [| -1.2; 1.0 |]; [| 0.5; -0.3 |] ]
        @ [ for n in 2..5 -> Array.init n (fun _ -> uniform rng -2.0 2.0) ]

    for x in points do
        let expected = rosenbrockHessian x
        let where = $"at {fmt (T.vector x)}"
        let tol = { Absolute = 1e-10; Relative = 1e-13 }
        let value = Value.FromArray(Array.copy x)
        assertMatrix tol $"AD.Hessian {where}" expected (AD.Hessian(rosenbrock).Invoke value)
        assertMatrix tol $"JacobianRev(Diff.Grad) {where}" expected (AD.JacobianRev(Diff.Grad rosenbrock).Invoke value)
        assertMatrix tol $"JacobianFwd(Diff.Grad) {where}" expected (AD.JacobianFwd(Diff.Grad rosenbrock).Invoke value)
        assertMatrix tol $"Jacobian(Diff.Grad) {where}" expected (AD.Jacobian(Diff.Grad rosenbrock).Invoke value)

    // At the minimum (1, 1) the Hessian is [[802, −400], [−400, 200]] and the gradient is zero.
    let g = AD.Grad(rosenbrock).Invoke(vec [ 1.0; 1.0 ])
    assertBitIdentical "gradient at the minimum" (vec [ 0.0; 0.0 ]) g

/// f(x, y) = x y e^{xy} and, with s = xy: f_xx = y² e^s (2 + s), f_yy = x² e^s (2 + s), f_xy = e^s (1 + 3s + s²).
let xyExp (x: Expr) (y: Expr) = x * y * Expr.Exp(x * y)

let mixedClosedForms (x: float) (y: float) =
    let s = x * y
    let e = Math.Exp s
    y * y * e * (2.0 + s), x * x * e * (2.0 + s), e * (1.0 + 3.0 * s + s * s)

let ``mixed partials of x y exp(x y)`` () =
    let tol = { Absolute = 1e-12; Relative = 1e-12 }

    for x, y in [ 0.0, 0.0; 0.5, -1.0; 1.0, 1.0; -0.8, 0.3; 1.3, 0.9; -1.5, -1.1; 2.0, -0.25 ] do
        let fxx, fyy, fxy = mixedClosedForms x y
        let where = $"at (x, y) = ({g17 x}, {g17 y})"
        let h = AD.Hessian(fn (fun p -> xyExp p[0] p[1])).Invoke(vec [ x; y ])
        assertMatrix tol $"AD.Hessian {where}" (array2D [ [ fxx; fxy ]; [ fxy; fyy ] ]) h

        // ∂/∂x of (∂/∂y f) with the inner derivative closing over the outer x, and the other order.
        let dxdy =
            AD.Grad(fn (fun xe -> (Diff.Grad(fn (fun ye -> xyExp xe ye))).Invoke(Expr.Const y)))

        let dydx =
            AD.Grad(fn (fun ye -> (Diff.Grad(fn (fun xe -> xyExp xe ye))).Invoke(Expr.Const x)))

        assertClose tol $"d/dx d/dy {where}" fxy (at dxdy x)
        assertClose tol $"d/dy d/dx {where}" fxy (at dydx y)

        // Pure second derivatives through a closure over the other variable.
        let dxx = AD.Grad(Diff.Grad(fn (fun xe -> xyExp xe (Expr.Const y))))
        assertClose tol $"d2/dx2 {where}" fxx (at dxx x)

        // The two-input AD.Grad of Diff.Grad's result over the other input: (f_xy, f_yy).
        let struct (gx, gy) =
            AD
                .Grad(Func<Expr, Expr, Expr>(fun xe ye -> (Diff.Grad(fn (fun v -> xyExp xe v))).Invoke ye))
                .Invoke(Value.Scalar x, Value.Scalar y)

        assertClose tol $"d/dx (df/dy) from the two-input Grad {where}" fxy (gx.ToScalar())
        assertClose tol $"d/dy (df/dy) from the two-input Grad {where}" fyy (gy.ToScalar())

let ``Grad of the sum of a Diff.Vjp and a Diff.Jvp`` () =
    // f(x) = sin x ⊙ x: J = diag(cos x ⊙ x + sin x), and the derivative of that diagonal is 2 cos x − x sin x.
    let f = fn (fun x -> Expr.Sin x * x)
    let xs = [| -1.3; 0.0; 0.4; 2.2 |]
    let vs = [| 0.5; -1.0; 2.0; 0.25 |]
    let v = Expr.Const(Value.FromArray(Array.copy vs))
    let x = Value.FromArray(Array.copy xs)
    let ctx = $"x = {fmt (T.vector xs)}, v = {fmt (T.vector vs)}"
    let second = Array.map (fun x -> 2.0 * cos x - x * sin x) xs
    let expected = T.vector (Array.map2 (*) vs second)
    let viaVjp = AD.Grad(fn (fun e -> Expr.Sum((Diff.Vjp f).Invoke(e, v))))
    let viaJvp = AD.Grad(fn (fun e -> Expr.Sum((Diff.Jvp f).Invoke(e, v))))
    assertAllClose rounding "AD.Grad(x => Sum(Diff.Vjp(f)(x, v)))" ctx expected (T.ofValue (viaVjp.Invoke x))
    assertAllClose rounding "AD.Grad(x => Sum(Diff.Jvp(f)(x, v)))" ctx expected (T.ofValue (viaJvp.Invoke x))
    // A cotangent that is the outer variable itself: d/dx Σ x ⊙ cos x = cos x − x sin x.
    let selfVjp = AD.Grad(fn (fun e -> Expr.Sum((Diff.Vjp(fn Expr.Sin)).Invoke(e, e))))

    assertAllClose
        rounding
        "AD.Grad(x => Sum(Diff.Vjp(sin)(x, x)))"
        ctx
        (T.vector (Array.map (fun x -> cos x - x * sin x) xs))
        (T.ofValue (selfVjp.Invoke x))

    // AD.Jvp of Diff.Grad is a Hessian-vector product: H = diag(2 cos x − x sin x) for Σ sin x ⊙ x.
    let g = fn (fun e -> Expr.Sum(f.Invoke e))

    let struct (grad, hv) =
        AD.Jvp(Diff.Grad g).Invoke(x, Value.FromArray(Array.copy vs))

    assertAllClose
        rounding
        "value of AD.Jvp(Diff.Grad g)"
        ctx
        (T.vector (Array.map (fun x -> cos x * x + sin x) xs))
        (T.ofValue grad)

    assertAllClose rounding "AD.Jvp(Diff.Grad g) = H v" ctx expected (T.ofValue hv)

    assertAllClose
        rounding
        "AD.Hvp g = H v"
        ctx
        expected
        (T.ofValue (AD.Hvp(g).Invoke(x, Value.FromArray(Array.copy vs))))

let ``Diff.Grad of a symbolic variable evaluates to AD.Grad`` () =
    let f = fn (fun x -> Expr.Sum(Expr.Sin x * x))
    let s = Expr.Var("s", Shape.Vector 3)
    let g = (Diff.Grad f).Invoke s
    Assert.That(g.HasValue, Is.False, "the gradient graph of a symbolic variable has no value")

    for xs in [ [| 0.1; -2.0; 1.5 |]; [| 3.0; 0.0; -0.5 |] ] do
        let x = Value.FromArray(Array.copy xs)

        assertBitIdentical
            $"AD.Eval(Diff.Grad f (s), s = {fmtValue x}) against AD.Grad"
            (AD.Grad(f).Invoke x)
            (AD.Eval(g, bindings [ s, x ]))

let ``Diff.Grad of a function that ignores its argument is zero, and the outer derivative still flows`` () =
    // d/dx [x + Σ Diff.Grad(y => x²)(x)] = 1: the inner derivative is 0 whatever x is.
    let outer =
        AD.Grad(fn (fun x -> x + Expr.Sum((Diff.Grad(fn (fun _ -> x * x))).Invoke x)))

    for x in points do
        assertClose { Absolute = 0.0; Relative = 0.0 } $"at {g17 x}" 1.0 (at outer x)

// ------------------------------------------------------------------ perturbation confusion

/// Each outer function with its derivative in closed form.
let confusionCases: (string * (Expr -> Expr) * (float -> float)) list =
    [
        // D (λx. x · D (λy. x + y) x) = 1 (a confused implementation gives 2).
        "d/dx [x * d/dy (x + y) at y = x] = 1", (fun x -> x * (Diff.Grad(fn (fun y -> x + y))).Invoke x), (fun _ -> 1.0)
        // The same evaluated at a constant y.
        "d/dx [x * d/dy (x + y) at y = 1] = 1",
        (fun x -> x * (Diff.Grad(fn (fun y -> x + y))).Invoke(Expr.Const 1.0)),
        (fun _ -> 1.0)
        // The inner derivative is a closure over the outer variable: d/dy (x y) = x, so d/dx [x · x] = 2x.
        "d/dx [x * (d/dy (x y))(1)] = 2x",
        (fun x -> x * (Diff.Grad(fn (fun y -> x * y))).Invoke(Expr.Const 1.0)),
        (fun x -> 2.0 * x)
        // d/dy (x + y)² = 2(x + y), at y = x: 4x, so the outer derivative is 4.
        "d/dx [d/dy (x + y)^2 at y = x] = 4",
        (fun x -> (Diff.Grad(fn (fun y -> Expr.Square(x + y)))).Invoke x),
        (fun _ -> 4.0)
        // Three deep: d/dz (x y z) = x y at z = y; d/dy [y · x y] = 2 x y at y = x: 2x²; d/dx [x · 2x²] = 6x².
        "d/dx [x * d/dy [y * d/dz (x y z) at z = y] at y = x] = 6 x^2",
        (fun x ->
            let middle =
                Diff.Grad(fn (fun y -> y * (Diff.Grad(fn (fun z -> x * y * z))).Invoke y))

            x * middle.Invoke x),
        (fun x -> 6.0 * x * x)
        // Inner forward mode: Diff.Jvp (λy. x y) at 1 along 1 is x, so d/dx [x · x] = 2x.
        "d/dx [x * jvp (y => x y) (1, 1)] = 2x",
        (fun x -> x * (Diff.Jvp(fn (fun y -> x * y))).Invoke(Expr.Const 1.0, Expr.Const 1.0)),
        (fun x -> 2.0 * x)
        // d/dy sin(x y) = x cos(x y), at y = x: x cos x²; d/dx exp(x² cos x²) = exp(x² cos x²) (2x cos x² − 2x³ sin x²).
        "d/dx exp(x * d/dy sin(x y) at y = x)",
        (fun x -> Expr.Exp(x * (Diff.Grad(fn (fun y -> Expr.Sin(x * y)))).Invoke x)),
        (fun x ->
            let s = x * x
            exp (s * cos s) * (2.0 * x * cos s - 2.0 * x * x * x * sin s))
    ]

let confusionNames = confusionCases |> List.map (fun (n, _, _) -> n) |> Array.ofList

let confusionCase (name: string) =
    confusionCases |> List.find (fun (n, _, _) -> n = name)

let ``no perturbation confusion, reverse outer derivative`` (name: string) =
    let _, f, d = confusionCase name
    let grad = AD.Grad(fn f)

    for x in points do
        assertClose { Absolute = 1e-13; Relative = 1e-12 } $"{name} at x = {g17 x}" (d x) (at grad x)

let ``no perturbation confusion, forward outer derivative`` (name: string) =
    let _, f, d = confusionCase name
    let jvp = AD.Jvp(fn f)

    for x in points do
        let struct (_, t) = jvp.Invoke(Value.Scalar x, Value.Scalar 1.0)
        assertClose { Absolute = 1e-13; Relative = 1e-12 } $"{name} at x = {g17 x}, AD.Jvp" (d x) (t.ToScalar())

let ``no perturbation confusion, outer derivative taken twice (Diff.Grad inside AD.Grad)`` (name: string) =
    let _, f, d = confusionCase name
    // The derivative of the outer derivative, checked against central differences of the closed form.
    let second = AD.Grad(Diff.Grad(fn f))
    let h = 1e-5

    for x in points do
        let expected = (d (x + h) - d (x - h)) / (2.0 * h)

        assertClose
            { Absolute = 1e-7; Relative = 1e-6 }
            $"{name} at x = {g17 x}, second derivative"
            expected
            (at second x)

let ``the three-deep case has second derivative 12x, through AD.Hessian and AD.Grad of Diff.Grad`` () =
    let _, f, _ =
        confusionCase "d/dx [x * d/dy [y * d/dz (x y z) at z = y] at y = x] = 6 x^2"

    for x in points do
        assertClose rounding $"AD.Grad(Diff.Grad f) at {g17 x}" (12.0 * x) (at (AD.Grad(Diff.Grad(fn f))) x)
        let h = AD.Hessian(fn f).Invoke(Value.Scalar x)
        assertClose rounding $"AD.Hessian f at {g17 x}" (12.0 * x) h[0, 0]

// ------------------------------------------------------------------ stop_gradient at first and second order

// The reference numbers are PyTorch 1.13 (float64) with detach() for stop_gradient, first and second derivatives
// by double backward:
//
//   import torch
//   torch.set_default_dtype(torch.float64)
//   def first_second(f, x0):
//       x = torch.tensor(x0, requires_grad=True)
//       y = f(x)
//       g, = torch.autograd.grad(y, x, create_graph=True)
//       gg, = torch.autograd.grad(g, x)
//       return y.item(), g.item(), gg.item()
//   f1 = lambda x: x**3 * (x**2).detach()
//   f2 = lambda x: torch.sin(x) * torch.cos(x).detach() + x.detach() * x**2 + torch.exp((x*x).detach() * x)
//   first_second(f1, 1.5)  # (7.59375, 15.1875, 20.25)
//   first_second(f2, 0.7)  # (2.2448936269206805, 2.255476264794081, 1.2456165547443105)

let scalarDetachCases: (string * (Expr -> Expr) * float * (float * float * float)) list =
    [
        "x^3 * sg(x^2)",
        (fun x -> Expr.Pow(x, 3.0) * Expr.StopGradient(Expr.Pow(x, 2.0))),
        1.5,
        (7.59375, 15.1875, 20.25)
        "sin x * sg(cos x) + sg(x) * x^2 + exp(sg(x x) * x)",
        (fun x ->
            Expr.Sin x * Expr.StopGradient(Expr.Cos x)
            + Expr.StopGradient x * Expr.Pow(x, 2.0)
            + Expr.Exp(Expr.StopGradient(x * x) * x)),
        0.7,
        (2.2448936269206805, 2.255476264794081, 1.2456165547443105)
    ]

let scalarDetachNames =
    scalarDetachCases |> List.map (fun (n, _, _, _) -> n) |> Array.ofList

let ``stop_gradient stops first and second order alike (PyTorch detach, double backward)`` (name: string) =
    let _, f, x, (y, d1, d2) =
        scalarDetachCases |> List.find (fun (n, _, _, _) -> n = name)

    let f = fn f
    let tol = rounding
    let struct (value, grad) = AD.ValueAndGrad(f).Invoke(Value.Scalar x)
    assertClose tol $"{name}: value at {g17 x}" y (value.ToScalar())
    assertClose tol $"{name}: AD.Grad at {g17 x}" d1 (grad.ToScalar())
    assertClose tol $"{name}: AD.Grad(Diff.Grad f) at {g17 x}" d2 (at (AD.Grad(Diff.Grad f)) x)
    assertClose tol $"{name}: AD.Hessian at {g17 x}" d2 ((AD.Hessian(f).Invoke(Value.Scalar x))[0, 0])

    assertClose
        tol
        $"{name}: AD.Hvp along 1 at {g17 x}"
        d2
        ((AD.Hvp(f).Invoke(Value.Scalar x, Value.Scalar 1.0)).ToScalar())

    let struct (g, t) = AD.Jvp(Diff.Grad f).Invoke(Value.Scalar x, Value.Scalar 1.0)
    assertClose tol $"{name}: value of AD.Jvp(Diff.Grad f) at {g17 x}" d1 (g.ToScalar())
    assertClose tol $"{name}: AD.Jvp(Diff.Grad f) at {g17 x}" d2 (t.ToScalar())
    let struct (v, t) = AD.Jvp(f).Invoke(Value.Scalar x, Value.Scalar 1.0)
    assertClose tol $"{name}: value of AD.Jvp f at {g17 x}" y (v.ToScalar())
    assertClose tol $"{name}: AD.Jvp f at {g17 x}" d1 (t.ToScalar())

// A vector function mixing detached and live paths, with its gradient and Hessian from PyTorch:
//
//   def f3(x):
//       return torch.sum(torch.exp(x.detach() * x)) + torch.dot(x.detach(), x)**2 \
//              + torch.sum(torch.tanh(x)) * torch.sum(x.detach()**2)
//   x0 = torch.tensor([0.3, -0.8, 1.1])
//   x = x0.clone().requires_grad_(True)
//   y = f3(x)
//   g, = torch.autograd.grad(y, x, create_graph=True)
//   H = torch.stack([torch.autograd.grad(g[i], x, retain_graph=True)[0] for i in range(3)])
//   # (torch.autograd.functional.hessian(f3, x0) gives the same H)

let f3 =
    fn (fun x ->
        let sx = Expr.StopGradient x

        Expr.Sum(Expr.Exp(sx * x))
        + Expr.Square(Expr.Dot(sx, x))
        + Expr.Sum(Expr.Tanh x) * Expr.Sum(Expr.Square sx))

let f3At = [| 0.3; -0.8; 1.1 |]
let f3Value = 10.93762305161127
let f3Grad = [| 3.2676179910552245; -3.5366176780434087; 8.653683671154862 |]

let f3Hessian =
    array2D
        [
            [ -0.7558971581773528; -0.48; 0.66 ]
            [ -0.48; 3.934132532127153; -1.7600000000000002 ]
            [ 0.66; -1.7600000000000002; 5.362060057042769 ]
        ]

let ``stop_gradient in a vector function: gradient and Hessian match PyTorch`` () =
    let x () = Value.FromArray(Array.copy f3At)
    let tol = { Absolute = 1e-13; Relative = 1e-12 }
    let struct (y, g) = AD.ValueAndGrad(f3).Invoke(x ())
    assertClose tol "value" f3Value (y.ToScalar())
    assertAllClose tol "AD.Grad" "" (T.vector f3Grad) (T.ofValue g)
    assertMatrix tol "AD.Hessian" f3Hessian (AD.Hessian(f3).Invoke(x ()))
    assertMatrix tol "JacobianRev(Diff.Grad f3)" f3Hessian (AD.JacobianRev(Diff.Grad f3).Invoke(x ()))
    assertMatrix tol "JacobianFwd(Diff.Grad f3)" f3Hessian (AD.JacobianFwd(Diff.Grad f3).Invoke(x ()))

    for j in 0..2 do
        let e = Array.init 3 (fun i -> if i = j then 1.0 else 0.0)

        assertAllClose
            tol
            $"AD.Hvp along e{j}"
            ""
            (T.vector (Array.init 3 (fun i -> f3Hessian[i, j])))
            (T.ofValue (AD.Hvp(f3).Invoke(x (), Value.FromArray e)))

let ``stop_gradient of an inner derivative: d/dx [x * sg(d/dy y^2 at y = x)] = 2x, second derivative 0`` () =
    // As PyTorch's x * torch.autograd.grad(y**2, y, create_graph=True)[0].detach() at y = x: x * sg(2x), whose
    // gradient graph is sg(2x) itself, a constant to the next derivative.
    let f = fn (fun x -> x * Expr.StopGradient((Diff.Grad(fn Expr.Square)).Invoke x))

    for x in points do
        assertClose rounding $"first derivative at {g17 x}" (2.0 * x) (at (AD.Grad f) x)
        assertClose { Absolute = 0.0; Relative = 0.0 } $"second derivative at {g17 x}" 0.0 (at (AD.Grad(Diff.Grad f)) x)

// ------------------------------------------------------------------ degenerate functions

let ``identity, constant and linear functions`` () =
    let x = Value.FromArray [| 0.5; -1.5; 2.0 |]
    let v = Value.FromArray [| 1.0; 0.25; -3.0 |]
    let exact = { Absolute = 0.0; Relative = 0.0 }
    let identity = fn id
    let constant = fn (fun _ -> Expr.Const(Value.FromArray [| 7.0; 8.0 |]))
    let detached = fn Expr.StopGradient
    // Identity: J v = v, J = I, and the graph combinators return their seeds.
    let struct (y, t) = AD.Jvp(identity).Invoke(x, v)
    assertBitIdentical "identity value" x y
    assertBitIdentical "identity tangent" v t

    assertMatrix
        exact
        "JacobianRev of the identity"
        (array2D [ [ 1.0; 0.0; 0.0 ]; [ 0.0; 1.0; 0.0 ]; [ 0.0; 0.0; 1.0 ] ])
        (AD.JacobianRev(identity).Invoke x)

    assertMatrix
        exact
        "JacobianFwd of the identity"
        (array2D [ [ 1.0; 0.0; 0.0 ]; [ 0.0; 1.0; 0.0 ]; [ 0.0; 0.0; 1.0 ] ])
        (AD.JacobianFwd(identity).Invoke x)

    let xe = Expr.Const x
    let ve = Expr.Const v
    assertBitIdentical "Diff.Jvp of the identity" v ((Diff.Jvp identity).Invoke(xe, ve)).Value
    assertBitIdentical "Diff.Vjp of the identity" v ((Diff.Vjp identity).Invoke(xe, ve)).Value

    assertBitIdentical
        "Diff.Grad of the scalar identity"
        (Value.Scalar 1.0)
        ((Diff.Grad identity).Invoke(Expr.Const 3.0)).Value
    // A constant output, and an output cut off by stop_gradient: zero tangents and Jacobians of the right shapes.
    let struct (_, t) = AD.Jvp(constant).Invoke(x, v)
    assertBitIdentical "tangent of a constant" (Value.Zeros(Shape.Vector 2)) t
    assertMatrix exact "Jacobian of a constant" (Array2D.zeroCreate 2 3) (AD.Jacobian(constant).Invoke x)
    assertMatrix exact "JacobianFwd of a constant" (Array2D.zeroCreate 2 3) (AD.JacobianFwd(constant).Invoke x)
    let struct (_, t) = AD.Jvp(detached).Invoke(x, v)
    assertBitIdentical "tangent of stop_gradient" (Value.Zeros(Shape.Vector 3)) t
    assertMatrix exact "JacobianFwd of stop_gradient" (Array2D.zeroCreate 3 3) (AD.JacobianFwd(detached).Invoke x)
    assertMatrix exact "JacobianRev of stop_gradient" (Array2D.zeroCreate 3 3) (AD.JacobianRev(detached).Invoke x)
    // Hessians of linear and constant scalar functions are zero; so are their Hvps.
    for name, f in
        [
            "linear", fn (fun e -> Expr.Dot(e, Expr.Const v))
            "constant", fn (fun _ -> Expr.Const 4.0)
            "detached", fn (fun e -> Expr.Sum(Expr.StopGradient(e * e)))
        ] do
        assertMatrix exact $"Hessian of a {name} function" (Array2D.zeroCreate 3 3) (AD.Hessian(f).Invoke x)
        assertBitIdentical $"Hvp of a {name} function" (Value.Zeros(Shape.Vector 3)) (AD.Hvp(f).Invoke(x, v))

let ``Jacobians of scalar functions and of functions of a scalar`` () =
    // f(x) = [x, x², sin x] at a scalar: a 3×1 Jacobian [1, 2x, cos x]ᵀ.
    let curve =
        fn (fun t ->
            Expr.Create(ScatterOp(Shape.Vector 3, 0), t)
            + Expr.Create(ScatterOp(Shape.Vector 3, 1), t * t)
            + Expr.Create(ScatterOp(Shape.Vector 3, 2), Expr.Sin t))

    for x in [ -1.0; 0.0; 0.3; 2.5 ] do
        let expected = array2D [ [ 1.0 ]; [ 2.0 * x ]; [ cos x ] ]

        for name, jac in
            [
                "Jacobian", AD.Jacobian curve
                "JacobianRev", AD.JacobianRev curve
                "JacobianFwd", AD.JacobianFwd curve
            ] do
            assertMatrix rounding $"{name} of a curve at {g17 x}" expected (jac.Invoke(Value.Scalar x))

    // A scalar function of a vector: the 1×n Jacobian is the gradient as a row.
    let f = fn (fun e -> Expr.Sum(Expr.Exp e) * Expr.Norm e)
    let x = Value.FromArray [| 0.2; -0.4; 1.2; 0.7 |]
    let g = (AD.Grad(f).Invoke x).ToArray()

    for name, jac in
        [
            "Jacobian", AD.Jacobian f
            "JacobianRev", AD.JacobianRev f
            "JacobianFwd", AD.JacobianFwd f
        ] do
        assertMatrix rounding $"{name} of a scalar function" (array2D [ g ]) (jac.Invoke x)

    // A scalar function of a scalar: 1×1.
    assertMatrix
        rounding
        "Jacobian of sin at 0.5"
        (array2D [ [ cos 0.5 ] ])
        (AD.Jacobian(fn Expr.Sin).Invoke(Value.Scalar 0.5))

// ------------------------------------------------------------------ arguments that are intermediate nodes, host branching

let ``the chain rule runs through an intermediate argument of Diff.Grad, Diff.Vjp and Diff.Jvp`` () =
    // d/dz [(d/dy y³)(sin z)] = d/dz 3 sin² z = 6 sin z cos z.
    let cube = fn (fun y -> Expr.Pow(y, 3.0))
    let viaGrad = AD.Grad(fn (fun z -> (Diff.Grad cube).Invoke(Expr.Sin z)))
    // d/dz [Vjp(cube)(sin z, z)] = d/dz 3 sin² z · z = 6 sin z cos z · z + 3 sin² z; the same for Jvp (scalars).
    let viaVjp = AD.Grad(fn (fun z -> (Diff.Vjp cube).Invoke(Expr.Sin z, z)))
    let viaJvp = AD.Grad(fn (fun z -> (Diff.Jvp cube).Invoke(Expr.Sin z, z)))

    for z in points do
        let s, c = sin z, cos z
        assertClose rounding $"Grad through sin at {g17 z}" (6.0 * s * c) (at viaGrad z)
        assertClose rounding $"Vjp through sin at {g17 z}" (6.0 * s * c * z + 3.0 * s * s) (at viaVjp z)
        assertClose rounding $"Jvp through sin at {g17 z}" (6.0 * s * c * z + 3.0 * s * s) (at viaJvp z)

let ``nested combinators trace with values, so the function may branch on them`` () =
    // f(x) = x³ for x > 0, −x² otherwise, chosen on the host from .Value: f'' = 6x or −2.
    let f =
        fn (fun x ->
            if x.Value.ToScalar() > 0.0 then
                Expr.Pow(x, 3.0)
            else
                -(Expr.Square x))

    for x in points do
        let expected = if x > 0.0 then 6.0 * x else -2.0
        assertClose rounding $"AD.Grad(Diff.Grad f) at {g17 x}" expected (at (AD.Grad(Diff.Grad f)) x)
        assertClose rounding $"AD.Hessian f at {g17 x}" expected ((AD.Hessian(f).Invoke(Value.Scalar x))[0, 0])

// ------------------------------------------------------------------ the graphs the Diff combinators return

/// The variables a graph reads.
let varsOf (e: Expr) =
    Graph.PostOrder e
    |> Seq.choose (fun n ->
        match n with
        | :? Var as v -> Some v
        | _ -> None)
    |> List.ofSeq

let ``the fresh variables of Diff combinators never leak into their results`` () =
    let x = Expr.Var("x", Shape.Vector 3)
    let w = Expr.Var("w", Shape.Vector 3)
    let sumOf (f: Expr -> Expr) = fn (fun e -> Expr.Sum(f e))

    let results =
        [
            "Diff.Grad", (Diff.Grad(sumOf (fun e -> Expr.Sin e * w))).Invoke x
            "Diff.Grad of Diff.Grad",
            (Diff.Grad(fn (fun e -> Expr.Sum((Diff.Grad(sumOf (fun u -> Expr.Exp(u * w)))).Invoke e)))).Invoke x
            "Diff.Vjp", (Diff.Vjp(fn (fun e -> Expr.Tanh(e * w)))).Invoke(x, w)
            "Diff.Jvp", (Diff.Jvp(fn (fun e -> Expr.Tanh(e * w)))).Invoke(x, w)
            "Diff.Jvp of Diff.Grad", (Diff.Jvp(Diff.Grad(sumOf (fun e -> Expr.Sin e * w)))).Invoke(x, w)
        ]

    for name, r in results do
        let vars = varsOf r

        let foreign =
            vars
            |> List.filter (fun v -> not (obj.ReferenceEquals(v, x) || obj.ReferenceEquals(v, w)))

        Assert.That(foreign |> List.map (fun v -> v.Name), Is.Empty, $"{name}: variables other than x and w in {r}")
        Assert.That(vars |> List.exists (fun v -> obj.ReferenceEquals(v, x)), $"{name}: the result reads x")

let ``nested derivative graphs of a symbolic variable evaluate to the numeric ones`` () =
    // f(x) = Σ sin(x ⊙ w) with w a second symbolic variable the function closes over.
    let s = Expr.Var("s", Shape.Vector 3)
    let w = Expr.Var("w", Shape.Vector 3)
    let f (w: Expr) = fn (fun x -> Expr.Sum(Expr.Sin(x * w)))
    let sumOf (g: Func<Expr, Expr>) = fn (fun e -> Expr.Sum(g.Invoke e))
    // The gradient of Σ ∇f: the Hessian's row sums, as a graph of s and w.
    let second = (Diff.Grad(sumOf (Diff.Grad(f w)))).Invoke s

    for xs, ws in
        [
            [| 0.1; -2.0; 1.5 |], [| 1.0; 0.5; -1.0 |]
            [| 3.0; 0.0; -0.5 |], [| -0.3; 2.0; 0.7 |]
        ] do
        let x, wv = Value.FromArray(Array.copy xs), Value.FromArray(Array.copy ws)
        let numeric = AD.Grad(sumOf (Diff.Grad(f (Expr.Const wv)))).Invoke x

        assertBitIdentical
            $"AD.Eval of the nested graph at s = {fmtValue x}, w = {fmtValue wv}"
            numeric
            (AD.Eval(second, bindings [ s, x; w, wv ]))
        // Closed form: ∂²/∂x² Σ sin(x ⊙ w) = diag(−w² sin(x ⊙ w)).
        let expected = Array.map2 (fun x w -> -w * w * sin (x * w)) xs ws

        assertAllClose
            rounding
            "closed form"
            $"x = {fmtValue x}, w = {fmtValue wv}"
            (T.vector expected)
            (T.ofValue numeric)

// ------------------------------------------------------------------ every pairing of combinators

/// The derivative of a scalar function as a function on graphs, by each Diff combinator (direction and cotangent 1).
let inners: (string * (Func<Expr, Expr> -> Func<Expr, Expr>)) list =
    [
        "Diff.Grad", Diff.Grad
        "Diff.Jvp", (fun f -> fn (fun x -> (Diff.Jvp f).Invoke(x, Expr.Const 1.0)))
        "Diff.Vjp", (fun f -> fn (fun x -> (Diff.Vjp f).Invoke(x, Expr.Const 1.0)))
    ]

/// The derivative of a scalar function as numbers, by each AD combinator.
let outers: (string * (Func<Expr, Expr> -> float -> float)) list =
    [
        "AD.Grad", (fun f x -> at (AD.Grad f) x)
        "AD.Jvp",
        (fun f x ->
            let struct (_, t) = AD.Jvp(f).Invoke(Value.Scalar x, Value.Scalar 1.0)
            t.ToScalar())
        "AD.Vjp",
        (fun f x ->
            let struct (_, pullback) = AD.Vjp(f).Invoke(Value.Scalar x)
            (pullback.Invoke(Value.Scalar 1.0)).ToScalar())
        "AD.JacobianRev", (fun f x -> (AD.JacobianRev(f).Invoke(Value.Scalar x))[0, 0])
        "AD.JacobianFwd", (fun f x -> (AD.JacobianFwd(f).Invoke(Value.Scalar x))[0, 0])
    ]

let pairings =
    [|
        for o, _ in outers do
            for i, _ in inners -> $"{o} of {i}"
    |]

let triples =
    [|
        for o, _ in outers do
            for i, _ in inners do
                for j, _ in inners -> $"{o} of {i} of {j}"
    |]

let outerNamed (name: string) =
    outers |> List.find (fst >> (=) name) |> snd

let innerNamed (name: string) =
    inners |> List.find (fst >> (=) name) |> snd

/// f(x) = sin x · e^{x/2}: f'' = e^{x/2} (cos x − ¾ sin x), f''' = −e^{x/2} (¼ cos x + 11/8 sin x).
let wave = fn (fun x -> Expr.Sin x * Expr.Exp(x * 0.5))

let ``every outer combinator of every inner one is the second derivative`` (name: string) =
    let parts = name.Split " of "
    let d2 = (outerNamed parts[0]) ((innerNamed parts[1]) wave)

    for x in points do
        assertClose
            { Absolute = 1e-13; Relative = 1e-12 }
            $"{name} at {g17 x}"
            (exp (x / 2.0) * (cos x - 0.75 * sin x))
            (d2 x)

let ``every outer combinator of two inner ones is the third derivative`` (name: string) =
    let parts = name.Split " of "
    let d3 = (outerNamed parts[0]) ((innerNamed parts[1]) ((innerNamed parts[2]) wave))

    for x in points do
        assertClose
            { Absolute = 1e-13; Relative = 1e-12 }
            $"{name} at {g17 x}"
            (-(exp (x / 2.0)) * (0.25 * cos x + 1.375 * sin x))
            (d3 x)

let ``no perturbation confusion for any pairing: d/dx [x * D(y => x y)(x)] = 2x`` (name: string) =
    let parts = name.Split " of "
    let inner = innerNamed parts[1]

    let d =
        (outerNamed parts[0]) (fn (fun x -> x * (inner (fn (fun y -> x * y))).Invoke x))

    for x in points do
        assertClose { Absolute = 1e-13; Relative = 1e-12 } $"{name} at {g17 x}" (2.0 * x) (d x)

open Expecto

[<Tests>]
let tests =
    testList "Nesting" [
        testCase "the third derivative of sin is -cos and the fourth is sin" ``the third derivative of sin is -cos and the fourth is sin``
        testCase "element-wise third derivative of sin on a vector" ``element-wise third derivative of sin on a vector``
        testCase "d2/dx2 exp at 3 is e cubed" ``d2/dx2 exp at 3 is e cubed``
        testCase "the Hessian of 2 xT x is 4 I exactly" ``the Hessian of 2 xT x is 4 I exactly``
        testCase "the Hessian of the Rosenbrock function at several points" ``the Hessian of the Rosenbrock function at several points``
        testCase "mixed partials of x y exp(x y)" ``mixed partials of x y exp(x y)``
        testCase "Grad of the sum of a Diff.Vjp and a Diff.Jvp" ``Grad of the sum of a Diff.Vjp and a Diff.Jvp``
        testCase "Diff.Grad of a symbolic variable evaluates to AD.Grad" ``Diff.Grad of a symbolic variable evaluates to AD.Grad``
        testCase "Diff.Grad of a function that ignores its argument is zero, and the outer derivative still flows" ``Diff.Grad of a function that ignores its argument is zero, and the outer derivative still flows``
        testList "no perturbation confusion, reverse outer derivative" [ for c in confusionNames -> testCase c (fun () -> ``no perturbation confusion, reverse outer derivative`` c) ]
        testList "no perturbation confusion, forward outer derivative" [ for c in confusionNames -> testCase c (fun () -> ``no perturbation confusion, forward outer derivative`` c) ]
        testList "no perturbation confusion, outer derivative taken twice (Diff.Grad inside AD.Grad)" [ for c in confusionNames -> testCase c (fun () -> ``no perturbation confusion, outer derivative taken twice (Diff.Grad inside AD.Grad)`` c) ]
        testCase "the three-deep case has second derivative 12x, through AD.Hessian and AD.Grad of Diff.Grad" ``the three-deep case has second derivative 12x, through AD.Hessian and AD.Grad of Diff.Grad``
        testList "stop_gradient stops first and second order alike (PyTorch detach, double backward)" [ for c in scalarDetachNames -> testCase c (fun () -> ``stop_gradient stops first and second order alike (PyTorch detach, double backward)`` c) ]
        testCase "stop_gradient in a vector function: gradient and Hessian match PyTorch" ``stop_gradient in a vector function: gradient and Hessian match PyTorch``
        testCase "stop_gradient of an inner derivative: d/dx [x * sg(d/dy y^2 at y = x)] = 2x, second derivative 0" ``stop_gradient of an inner derivative: d/dx [x * sg(d/dy y^2 at y = x)] = 2x, second derivative 0``
        testCase "identity, constant and linear functions" ``identity, constant and linear functions``
        testCase "Jacobians of scalar functions and of functions of a scalar" ``Jacobians of scalar functions and of functions of a scalar``
        testCase "the chain rule runs through an intermediate argument of Diff.Grad, Diff.Vjp and Diff.Jvp" ``the chain rule runs through an intermediate argument of Diff.Grad, Diff.Vjp and Diff.Jvp``
        testCase "nested combinators trace with values, so the function may branch on them" ``nested combinators trace with values, so the function may branch on them``
        testCase "the fresh variables of Diff combinators never leak into their results" ``the fresh variables of Diff combinators never leak into their results``
        testCase "nested derivative graphs of a symbolic variable evaluate to the numeric ones" ``nested derivative graphs of a symbolic variable evaluate to the numeric ones``
        testList "every outer combinator of every inner one is the second derivative" [ for c in pairings -> testCase c (fun () -> ``every outer combinator of every inner one is the second derivative`` c) ]
        testList "every outer combinator of two inner ones is the third derivative" [ for c in triples -> testCase c (fun () -> ``every outer combinator of two inner ones is the third derivative`` c) ]
        testList "no perturbation confusion for any pairing: d/dx [x * D(y => x y)(x)] = 2x" [ for c in pairings -> testCase c (fun () -> ``no perturbation confusion for any pairing: d/dx [x * D(y => x y)(x)] = 2x`` c) ]
    ]
