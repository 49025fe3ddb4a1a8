/// Values you can compute with: element-wise arithmetic, functions, reductions and row-major construction on Value,
/// the same leaf by leaf on Params, and a model evaluated without differentiating. Every element-wise operation on
/// values runs the kernel of the op of the same name, so it gives the graph's bits.
module Functional.Autodiff.Tests.ValueArithmetic

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let private rng = Random 9090

let private vec n lo hi =
    Value.FromArray(Array.init n (fun _ -> uniform rng lo hi))

let private mat m n =
    T.toValue (T.matrix m n (fun _ _ -> uniform rng -2.0 2.0))

let private bitsOf (v: Value) =
    v.ToArray() |> Array.map BitConverter.DoubleToInt64Bits

let private sameBits (what: string) (expected: Value) (actual: Value) =
    Assert.That(actual.Shape, Is.EqualTo expected.Shape, what)
    Assert.That(bitsOf actual, Is.EqualTo(bitsOf expected), what)

let private graph (f: Expr -> Expr) (v: Value) = (f (Expr.Const v)).Value

let private graph2 (f: Expr -> Expr -> Expr) (a: Value) (b: Value) = (f (Expr.Const a) (Expr.Const b)).Value

let ``element-wise operations on values give the bits of the ops on graphs`` () =
    for n in [ 1; 3; 17; 64 ] do
        let a, b, pos = vec n -3.0 3.0, vec n -3.0 3.0, vec n 0.1 5.0
        sameBits "a + b" (graph2 (+) a b) (a + b)
        sameBits "a - b" (graph2 (-) a b) (a - b)
        sameBits "a * b" (graph2 (*) a b) (a * b)
        sameBits "a / b" (graph2 (/) a b) (a / b)
        sameBits "-a" (graph (~-) a) (-a)
        sameBits "a * 2.5" (graph (fun e -> e * 2.5) a) (a * 2.5)
        sameBits "1 / a" (graph (fun e -> 1.0 / e) a) (1.0 / a)
        sameBits "a + 1e-8" (graph (fun e -> e + 1e-8) a) (a + 1e-8)
        sameBits "sqrt" (graph Expr.Sqrt pos) (Value.Sqrt pos)
        sameBits "exp" (graph Expr.Exp a) (Value.Exp a)
        sameBits "log" (graph Expr.Log pos) (Value.Log pos)
        sameBits "abs" (graph Expr.Abs a) (Value.Abs a)
        sameBits "square" (graph Expr.Square a) (Value.Square a)
        sameBits "pow 1.5" (graph (fun e -> Expr.Pow(e, 1.5)) pos) (Value.Pow(pos, 1.5))
        sameBits "sum" (graph Expr.Sum a) (Value.Scalar(a.Sum()))
        sameBits "norm" (graph Expr.Norm a) (Value.Scalar(a.Norm()))

let ``a scalar broadcasts, a vector adds to every row, other shapes are refused naming the op`` () =
    let m = mat 3 2
    let v = vec 2 -1.0 1.0
    sameBits "matrix + vector" (graph2 (+) m v) (m + v)
    sameBits "2 * matrix" (graph (fun e -> 2.0 * e) m) (Value.Scalar 2.0 * m)
    let ex = throws<ShapeMismatchException> (fun () -> (vec 3 0.0 1.0 * vec 2 0.0 1.0) |> ignore)
    Assert.That(ex.Message, Does.Contain "mul")
    Assert.That(ex.Message, Does.Contain "vector(3)")

let ``max, min, clamp, sign and the reductions`` () =
    let a = Value.FromArray [| -2.0; 0.5; 3.0; nan |]
    let b = Value.FromArray [| 1.0; 0.25; 4.0; 0.0 |]
    Assert.That((Value.Max(a, b)).ToArray()[0..2], Is.EqualTo [| 1.0; 0.5; 4.0 |])
    Assert.That(Double.IsNaN((Value.Max(a, b)).ToArray()[3]), "NaN stays NaN")
    Assert.That((Value.Min(a, Value.Scalar 0.0)).ToArray()[0..2], Is.EqualTo [| -2.0; 0.0; 0.0 |])
    Assert.That((a.Clamp(-1.0, 1.0)).ToArray()[0..2], Is.EqualTo [| -1.0; 0.5; 1.0 |])
    Assert.That((Value.Sign a).ToArray()[0..2], Is.EqualTo [| -1.0; 1.0; 1.0 |])
    throws<ArgumentOutOfRangeException> (fun () -> a.Clamp(1.0, -1.0) |> ignore) |> ignore
    let c = Value.FromArray [| 3.0; -4.0 |]
    Assert.That((c.Sum(), c.Max(), c.Min(), c.Norm()), Is.EqualTo((-1.0, 3.0, -4.0, 5.0)))
    Assert.That(Value.Dot(c, c), Is.EqualTo 25.0)
    Assert.That(Value.FromArray([| 1e200; 1e200 |]).Norm(), Is.EqualTo(1e200 * sqrt 2.0).Within(1e186))

let ``Zip of two and three values, with scalars broadcast`` () =
    let a, b, c = Value.FromArray [| 1.0; 2.0 |], Value.FromArray [| 10.0; 20.0 |], Value.Scalar 100.0
    Assert.That((Value.Zip(a, b, fun x y -> x * y)).ToArray(), Is.EqualTo [| 10.0; 40.0 |])
    Assert.That((Value.Zip(a, b, c, fun x y z -> x + y + z)).ToArray(), Is.EqualTo [| 111.0; 122.0 |])
    throws<ShapeMismatchException> (fun () -> Value.Zip(a, Value.FromArray [| 1.0 |], fun x y -> x) |> ignore)
    |> ignore

let ``matrices come in and go out row-major`` () =
    let m = Value.FromRows([| [| 1.0; 2.0; 3.0 |]; [| 4.0; 5.0; 6.0 |] |])
    Assert.That(m.Shape, Is.EqualTo(Shape.Matrix(2, 3)))
    Assert.That(m[1, 0], Is.EqualTo 4.0)
    Assert.That(m.ToRowMajorArray(), Is.EqualTo [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
    Assert.That(m.ToColumnMajorArray(), Is.EqualTo [| 1.0; 4.0; 2.0; 5.0; 3.0; 6.0 |])
    sameBits "FromRowMajor" m (Value.FromRowMajor(2, 3, ReadOnlySpan [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |]))
    sameBits "FromRows of sequences" m (Value.FromRows(seq { seq { 1.0; 2.0; 3.0 }; seq { 4.0; 5.0; 6.0 } }))
    let ex = throws<ArgumentException> (fun () -> Value.FromRows([| [| 1.0 |]; [| 1.0; 2.0 |] |]) |> ignore)
    Assert.That(ex.Message, Does.Contain "row 1")
    throws<ArgumentException> (fun () -> Value.FromRowMajor(2, 2, ReadOnlySpan [| 1.0 |]) |> ignore) |> ignore

let private p () =
    Params.Of(struct ("w", Value.FromArray [| 3.0; -4.0 |]), struct ("b", Value.Scalar 12.0))

let ``Params arithmetic works leaf by leaf`` () =
    let p = p ()
    let q = p * p
    Assert.That(q["w"].ToArray(), Is.EqualTo [| 9.0; 16.0 |])
    Assert.That(((p / p)["b"]).ToScalar(), Is.EqualTo 1.0)
    Assert.That(((Params.Sqrt q)["w"]).ToArray(), Is.EqualTo [| 3.0; 4.0 |])
    Assert.That(((p / 2.0)["b"]).ToScalar(), Is.EqualTo 6.0)
    Assert.That(((p + 1.0)["w"]).ToArray(), Is.EqualTo [| 4.0; -3.0 |])
    Assert.That(((-p)["b"]).ToScalar(), Is.EqualTo -12.0)
    Assert.That(((Params.Abs p)["w"]).ToArray(), Is.EqualTo [| 3.0; 4.0 |])
    Assert.That(((p.Clamp(-1.0, 1.0))["w"]).ToArray(), Is.EqualTo [| 1.0; -1.0 |])
    Assert.That(p.GlobalNorm(), Is.EqualTo 13.0)
    Assert.That(Params.Dot(p, p), Is.EqualTo 169.0)
    let adam = Params.Zip(p, q, p, fun m v g -> m / (Value.Sqrt v + 1e-8) * g)
    Assert.That(adam["w"].ToArray()[0], Is.EqualTo(3.0 / (3.0 + 1e-8) * 3.0))
    let other = Params.Of(struct ("w", Value.FromArray [| 1.0; 1.0 |]))
    let ex = throws<ArgumentException> (fun () -> (p * other) |> ignore)
    Assert.That(ex.Message, Does.Contain "names differ")

let ``a model is evaluated at parameters without differentiating, with the value ValueAndGrad gives`` () =
    let model = Func<ParamVars, Expr>(fun v -> Expr.Sum(Expr.Tanh(v["w"] * v["b"])))
    let p = p ()
    let struct (value, _) = AD.ValueAndGrad(model).Invoke p
    sameBits "Eval against ValueAndGrad" value (AD.Eval(model, p))

open Expecto

[<Tests>]
let tests =
    testList "ValueArithmetic" [
        testCase "element-wise operations on values give the bits of the ops on graphs" ``element-wise operations on values give the bits of the ops on graphs``
        testCase "a scalar broadcasts, a vector adds to every row, other shapes are refused naming the op" ``a scalar broadcasts, a vector adds to every row, other shapes are refused naming the op``
        testCase "max, min, clamp, sign and the reductions" ``max, min, clamp, sign and the reductions``
        testCase "Zip of two and three values, with scalars broadcast" ``Zip of two and three values, with scalars broadcast``
        testCase "matrices come in and go out row-major" ``matrices come in and go out row-major``
        testCase "Params arithmetic works leaf by leaf" ``Params arithmetic works leaf by leaf``
        testCase "a model is evaluated at parameters without differentiating, with the value ValueAndGrad gives" ``a model is evaluated at parameters without differentiating, with the value ValueAndGrad gives``
    ]
