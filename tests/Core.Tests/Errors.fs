/// Errors: the exception type, and a message that names the op, the shapes or values involved, and a fix.
module Functional.Autodiff.Tests.Errors

open System
open System.Collections.Generic
open System.Collections.Immutable
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let vec (xs: float list) =
    Expr.Const(Value.FromArray(Array.ofList xs))

let vecOf n =
    vec (List.init n (fun k -> float k + 1.0))

let matOf m n =
    Expr.Const(T.toValue (T.matrix m n (fun i j -> float (i + 2 * j))))

let assertMentions (ex: exn) (parts: string list) =
    for p in parts do
        Assert.That(ex.Message, Does.Contain p, $"the message should mention '{p}'")

// ------------------------------------------------------------------ non-scalar outputs

let ``Grad of a non-scalar output says to use Vjp or Jacobian`` () =
    let grad = AD.Grad(Func<Expr, Expr>(fun x -> x * 2.0))

    let ex =
        throws<NonScalarOutputException>(fun () -> grad.Invoke(Value.FromArray [| 1.0; 2.0; 3.0 |]) |> ignore)

    assertMentions ex [ "Grad"; "vector(3)"; "Vjp"; "Jacobian"; "Sum" ]
    Assert.That(ex.Output, Is.EqualTo(Shape.Vector 3))

let ``ValueAndGrad and Params Grad of a non-scalar output throw too`` () =
    let vg = AD.ValueAndGrad(Func<Expr, Expr>(fun x -> Expr.Outer(x, x)))

    let ex =
        throws<NonScalarOutputException>(fun () -> vg.Invoke(Value.FromArray [| 1.0; 2.0 |]) |> ignore)

    assertMentions ex [ "matrix(2, 2)"; "Vjp"; "Jacobian" ]
    let gp = AD.Grad(Func<ParamVars, Expr>(fun p -> p["w"] * 3.0))

    let ex =
        throws<NonScalarOutputException>(fun () ->
            gp.Invoke(Params.Of(struct ("w", Value.FromArray [| 1.0 |]))) |> ignore)

    assertMentions ex [ "vector(1)"; "Vjp" ]

let ``Gradients without a cotangent needs a scalar output`` () =
    let x = Expr.Var("x", Value.FromArray [| 1.0; 2.0 |])

    let ex =
        throws<NonScalarOutputException>(fun () -> AD.Gradients(Expr.Sin x, x) |> ignore)

    assertMentions ex [ "Gradients"; "vector(2)"; "Vjp" ]

// ------------------------------------------------------------------ shape mismatches

let ``a binary element-wise op refuses shapes that do not fit`` (name: string) =
    let op = Ops.All |> Seq.find (fun o -> o.Name = name)

    let ex =
        throws<ShapeMismatchException>(fun () -> Expr.Create(op, vecOf 3, vecOf 4) |> ignore)

    assertMentions ex [ name; "vector(3)"; "vector(4)"; "one shape"; "MatMul" ]
    Assert.That((ex.Op, ex.Left, ex.Right), Is.EqualTo((name, Shape.Vector 3, Shape.Vector 4)))

let ``every binary element-wise op refuses shapes that do not broadcast, naming the op, the shapes and the rule`` () =
    for op in Ops.All |> Seq.filter (fun o -> o :? BinaryElementwiseOp) do
        for a, b in [ matOf 2 3, vecOf 2; matOf 2 3, matOf 3 1; matOf 2 3, matOf 1 2; matOf 2 3, matOf 3 3 ] do
            let ex = throws<ShapeMismatchException>(fun () -> Expr.Create(op, a, b) |> ignore)
            assertMentions ex [ op.Name; string a.Shape; string b.Shape; "broadcast as NumPy"; "matrix(m, 1)"; "Errors.fs:" ]

let ``where refuses choices or a condition that do not broadcast`` () =
    let ex = throws<ShapeMismatchException>(fun () -> Expr.Where(vecOf 3, vecOf 3, vecOf 4) |> ignore)
    assertMentions ex [ "where"; "vector(3)"; "vector(4)"; "Errors.fs:" ]
    let ex = throws<ShapeMismatchException>(fun () -> Expr.Where(vecOf 2, matOf 2 3, 0.0) |> ignore)
    assertMentions ex [ "where"; "condition"; "vector(2)"; "matrix(2, 3)"; "Errors.fs:" ]

let ``clamp refuses NaN bounds and min above max`` () =
    let ex = throws<ArgumentOutOfRangeException>(fun () -> Expr.Clamp(vecOf 2, 1.0, -1.0) |> ignore)
    assertMentions ex [ "clamp"; "min ≤ max"; "Errors.fs:" ]
    let ex = throws<ArgumentOutOfRangeException>(fun () -> Expr.Clamp(vecOf 2, nan, 1.0) |> ignore)
    assertMentions ex [ "clamp"; "NaN"; "Errors.fs:" ]

let ``add refuses a vector that does not match the matrix's columns`` () =
    let ex = throws<ShapeMismatchException>(fun () -> matOf 2 3 + vecOf 2 |> ignore)
    assertMentions ex [ "add"; "matrix(2, 3)"; "vector(2)"; "every row" ]

let ``dot refuses vectors of different lengths`` () =
    let ex =
        throws<ShapeMismatchException>(fun () -> Expr.Dot(vecOf 3, vecOf 4) |> ignore)

    assertMentions ex [ "dot"; "vector(3)"; "vector(4)"; "MatMul" ]

let ``matvec refuses a vector that does not match the matrix's columns`` () =
    let ex =
        throws<ShapeMismatchException>(fun () -> Expr.MatMul(matOf 2 3, vecOf 4) |> ignore)

    assertMentions ex [ "matvec"; "matrix(2, 3)"; "vector(4)"; "columns" ]

let ``vecmat refuses a vector that does not match the matrix's rows`` () =
    let ex =
        throws<ShapeMismatchException>(fun () -> Expr.MatMul(vecOf 3, matOf 2 3) |> ignore)

    assertMentions ex [ "vecmat"; "vector(3)"; "matrix(2, 3)"; "rows" ]

let ``matmul refuses inner dimensions that differ`` () =
    let ex =
        throws<ShapeMismatchException>(fun () -> Expr.MatMul(matOf 2 3, matOf 4 5) |> ignore)

    assertMentions ex [ "matmul"; "matrix(2, 3)"; "matrix(4, 5)"; "columns" ]

let ``binary cross-entropy refuses logits and targets of different shapes`` () =
    let ex =
        throws<ShapeMismatchException>(fun () -> Expr.BinaryCrossEntropyWithLogits(vecOf 3, vecOf 2) |> ignore)

    assertMentions ex [ "binary_cross_entropy_with_logits"; "vector(3)"; "vector(2)"; "one shape" ]

// ------------------------------------------------------------------ cotangents and bindings

let ``a pullback given a cotangent of the wrong shape names both shapes`` () =
    let struct (_, pullback) =
        AD.Vjp(Func<Expr, Expr>(fun x -> Expr.Sin x)).Invoke(Value.FromArray [| 1.0; 2.0; 3.0 |])

    let ex =
        throws<ShapeMismatchException>(fun () -> pullback.Invoke(Value.FromArray [| 1.0; 2.0 |]) |> ignore)

    assertMentions ex [ "Vjp pullback"; "vector(3)"; "vector(2)"; "output's shape" ]

let ``Gradients given a cotangent of the wrong shape names both shapes`` () =
    let x = Expr.Var("x", Value.FromArray [| 1.0; 2.0; 3.0 |])

    let ex =
        throws<ShapeMismatchException>(fun () -> AD.Gradients(Expr.Sin x, [ x :> Expr ], Expr.Const 1.0) |> ignore)

    assertMentions ex [ "Gradients"; "vector(3)"; "scalar"; "cotangent" ]

let ``the Value of a graph over an unbound variable names it`` () =
    let w = Expr.Var("weights", Shape.Vector 3)
    let y = Expr.Sum(Expr.Sin w + 1.0)
    Assert.That(y.HasValue, Is.False)
    let ex = throws<UnboundVariableException>(fun () -> y.Value |> ignore)
    assertMentions ex [ "'weights'"; "vector(3)"; "AD.Eval" ]
    Assert.That(obj.ReferenceEquals(ex.Variable, w), "the exception carries the variable")

    let ex =
        throws<UnboundVariableException>(fun () -> AD.Eval(y, bindings []) |> ignore)

    assertMentions ex [ "'weights'" ]

let ``AD.Eval with a binding of the wrong shape names the variable and both shapes`` () =
    let w = Expr.Var("weights", Shape.Vector 3)

    let ex =
        throws<ShapeMismatchException>(fun () ->
            AD.Eval(Expr.Sum w, bindings [ w, Value.FromArray [| 1.0; 2.0 |] ]) |> ignore)

    assertMentions ex [ "Eval"; "'weights'"; "vector(3)"; "vector(2)" ]

// ------------------------------------------------------------------ indices and labels

let ``an index outside a vector gives the valid range`` () =
    let ex = throws<ArgumentOutOfRangeException>(fun () -> (vecOf 3)[5] |> ignore)
    assertMentions ex [ "5"; "vector(3)"; "0 to 2" ]
    let ex = throws<ArgumentOutOfRangeException>(fun () -> (vecOf 3)[-1] |> ignore)
    assertMentions ex [ "-1"; "0 to 2" ]

let ``an index outside a matrix names the dimension and the valid range`` () =
    let ex = throws<ArgumentOutOfRangeException>(fun () -> (matOf 2 3)[1, 7] |> ignore)
    assertMentions ex [ "j"; "7"; "matrix(2, 3)"; "0 to 2" ]
    Assert.That(ex.ParamName, Is.EqualTo "j")

let ``a cross-entropy label outside the classes gives the valid range`` () =
    let ex =
        throws<ArgumentOutOfRangeException>(fun () -> Expr.SoftmaxCrossEntropy(vecOf 3, 3) |> ignore)

    assertMentions ex [ "softmax_cross_entropy"; "label 3"; "3 classes"; "0 to 2" ]

    let ex =
        throws<ArgumentOutOfRangeException>(fun () -> Expr.SoftmaxCrossEntropy(matOf 2 3, [ 0; -1 ]) |> ignore)

    assertMentions ex [ "label -1"; "row 1" ]

let ``cross-entropy needs one label per row`` () =
    let ex =
        throws<ArgumentException>(fun () -> Expr.SoftmaxCrossEntropy(matOf 2 3, [ 0 ]) |> ignore)

    assertMentions
        ex
        [
            "softmax_cross_entropy"
            "1 label"
            "matrix(2, 3)"
            "2 row"
            "one class label per row"
        ]

let ``labels bound later are checked by the kernel with the same messages`` () =
    // A labels input that is not a validated constant: the shapes fit when the node is built, the values are
    // checked when it is evaluated, so nothing reads outside the logits.
    let c = Expr.Var("c", Shape.Vector 2)
    let loss = Expr.Create(SoftmaxCrossEntropyOp.Instance, matOf 2 3, c)

    let evalWith (labels: float[]) =
        AD.Eval(loss, bindings [ c, Value.FromArray labels ]) |> ignore

    let ex = throws<ArgumentOutOfRangeException>(fun () -> evalWith [| 0.0; 3.0 |])
    assertMentions ex [ "softmax_cross_entropy"; "label 3"; "row 1"; "3 classes"; "0 to 2" ]
    Assert.That(ex.ParamName, Is.EqualTo "labels")
    let ex = throws<ArgumentOutOfRangeException>(fun () -> evalWith [| 1.5; 0.0 |])
    assertMentions ex [ "label 1.5"; "row 0"; "whole numbers 0 to 2" ]
    let ex = throws<ArgumentOutOfRangeException>(fun () -> evalWith [| 0.0; nan |])
    assertMentions ex [ "label NaN"; "row 1" ]
    let ex = throws<ArgumentOutOfRangeException>(fun () -> evalWith [| -1.0; 0.0 |])
    assertMentions ex [ "label -1"; "row 0" ]

    // The same check guards the one-hot encoding the rules build.
    let ex =
        throws<ArgumentOutOfRangeException>(fun () ->
            Expr.Create(OneHotOp 3, Expr.Const(Value.FromArray [| 0.0; 4.0 |])) |> ignore)

    assertMentions ex [ "one_hot"; "label 4"; "row 1"; "0 to 2" ]

let ``a labels input of the wrong shape names both shapes`` () =
    let ex =
        throws<ShapeMismatchException>(fun () ->
            Expr.Create(SoftmaxCrossEntropyOp.Instance, matOf 2 3, vecOf 3) |> ignore)

    assertMentions
        ex
        [
            "softmax_cross_entropy"
            "matrix(2, 3)"
            "vector(3)"
            "vector(2)"
            "one class per row"
        ]

    let ex =
        throws<ShapeMismatchException>(fun () ->
            Expr.Create(SoftmaxCrossEntropyOp.Instance, vecOf 3, vecOf 1) |> ignore)

    assertMentions ex [ "softmax_cross_entropy"; "scalar" ]

// ------------------------------------------------------------------ null arguments

let private nil<'T when 'T: not struct> = Unchecked.defaultof<'T>

let private x3 = vecOf 3

let nullCases: (string * (unit -> unit)) list =
    [
        "Expr.Sin(null)", (fun () -> Expr.Sin nil |> ignore)
        "Expr.Add(x, null)", (fun () -> Expr.Add(x3, nil) |> ignore)
        "Expr.Create(null, x)", (fun () -> Expr.Create(nil<Op>, x3) |> ignore)
        "Expr.Create(op, null array)", (fun () -> Expr.Create(AddOp.Instance, nil<Expr[]>) |> ignore)
        "Expr.MatMul(null, x)", (fun () -> Expr.MatMul(nil, x3) |> ignore)
        "Expr.Var(null, shape)", (fun () -> Expr.Var(nil<string>, Shape.Scalar) |> ignore)
        "Expr.SoftmaxCrossEntropy(x, null labels)", (fun () -> Expr.SoftmaxCrossEntropy(x3, nil<int seq>) |> ignore)
        "Value.FromArray(null)", (fun () -> Value.FromArray(nil<float[]>) |> ignore)
        "Value.FromVector(null)", (fun () -> Value.FromVector nil |> ignore)
        "Value.FromMatrix(null)", (fun () -> Value.FromMatrix nil |> ignore)
        "AD.Grad(null)", (fun () -> AD.Grad(nil<Func<Expr, Expr>>) |> ignore)
        "AD.Vjp(null)", (fun () -> AD.Vjp(nil<Func<Expr, Expr>>) |> ignore)
        "AD.Gradients(null, x)", (fun () -> AD.Gradients(nil, x3) |> ignore)
        "AD.Gradients(y, null, v)", (fun () -> AD.Gradients(Expr.Sum x3, nil<Expr seq>, Expr.Const 1.0) |> ignore)
        "AD.Gradients(y, [x], null)", (fun () -> AD.Gradients(Expr.Sum x3, [ x3 ], nil<Expr>) |> ignore)
        "AD.Eval(null, bindings)", (fun () -> AD.Eval(nil, bindings []) |> ignore)
        "AD.Eval(y, null)", (fun () -> AD.Eval(x3, nil<IReadOnlyDictionary<Var, Value>>) |> ignore)
        "Graph.PostOrder(null)", (fun () -> Graph.PostOrder nil |> ignore)
        "Graph.StructurallyEqual(null, x)", (fun () -> Graph.StructurallyEqual(nil, x3) |> ignore)
        "Params.Of(null)", (fun () -> Params.Of(nil<struct (string * Value)[]>) |> ignore)
        "Params.SetItem(null, v)",
        (fun () ->
            Params.Of(struct ("w", Value.Scalar 1.0)).SetItem(nil<string>, Value.Scalar 2.0)
            |> ignore)
        "Apply.WithInputs(default)", (fun () -> (Expr.Sin x3 :?> Apply).WithInputs(ImmutableArray<Expr>()) |> ignore)
    ]

let nullCaseNames = nullCases |> List.map fst |> Array.ofList

let ``a null argument throws ArgumentNullException`` (name: string) =
    let action = nullCases |> List.find (fst >> (=) name) |> snd
    throws<ArgumentNullException> action |> ignore

let ``a function that returns null is refused with a message`` () =
    let grad = AD.Grad(Func<Expr, Expr>(fun _ -> nil<Expr>))

    let ex =
        throws<ArgumentException>(fun () -> grad.Invoke(Value.Scalar 1.0) |> ignore)

    assertMentions ex [ "returned null"; "Expr" ]

// ------------------------------------------------------------------ parameters

let ``Params refuse a repeated name and name the parameters there are`` () =
    let ex =
        throws<ArgumentException>(fun () ->
            Params.Of(struct ("w", Value.Scalar 1.0), struct ("w", Value.Scalar 2.0))
            |> ignore)

    assertMentions ex [ "'w'"; "twice" ]
    let p = Params.Of(struct ("w", Value.Scalar 1.0), struct ("b", Value.Scalar 2.0))

    let ex =
        throws<Collections.Generic.KeyNotFoundException>(fun () -> p["v"] |> ignore)

    assertMentions ex [ "'v'"; "w, b" ]
    let grad = AD.Grad(Func<ParamVars, Expr>(fun q -> q["bias"]))

    let ex =
        throws<Collections.Generic.KeyNotFoundException>(fun () -> grad.Invoke p |> ignore)

    assertMentions ex [ "'bias'"; "w, b" ]

let ``scatter names itself when its position is outside the target`` () =
    let e = throws<ArgumentOutOfRangeException> (fun () -> ScatterOp(Shape.Vector 3, 5) |> ignore)
    Assert.That(e.Message, Does.StartWith "scatter: i = 5 is outside vector(3)")

open Expecto

[<Tests>]
let tests =
    testList "Errors" [
        testCase "Grad of a non-scalar output says to use Vjp or Jacobian" ``Grad of a non-scalar output says to use Vjp or Jacobian``
        testCase "ValueAndGrad and Params Grad of a non-scalar output throw too" ``ValueAndGrad and Params Grad of a non-scalar output throw too``
        testCase "Gradients without a cotangent needs a scalar output" ``Gradients without a cotangent needs a scalar output``
        testList "a binary element-wise op refuses shapes that do not fit" [ for c in [ "add"; "sub"; "mul"; "div" ] -> testCase c (fun () -> ``a binary element-wise op refuses shapes that do not fit`` c) ]
        testCase "every binary element-wise op refuses shapes that do not broadcast, naming the op, the shapes and the rule" ``every binary element-wise op refuses shapes that do not broadcast, naming the op, the shapes and the rule``
        testCase "where refuses choices or a condition that do not broadcast" ``where refuses choices or a condition that do not broadcast``
        testCase "clamp refuses NaN bounds and min above max" ``clamp refuses NaN bounds and min above max``
        testCase "add refuses a vector that does not match the matrix's columns" ``add refuses a vector that does not match the matrix's columns``
        testCase "dot refuses vectors of different lengths" ``dot refuses vectors of different lengths``
        testCase "matvec refuses a vector that does not match the matrix's columns" ``matvec refuses a vector that does not match the matrix's columns``
        testCase "vecmat refuses a vector that does not match the matrix's rows" ``vecmat refuses a vector that does not match the matrix's rows``
        testCase "matmul refuses inner dimensions that differ" ``matmul refuses inner dimensions that differ``
        testCase "binary cross-entropy refuses logits and targets of different shapes" ``binary cross-entropy refuses logits and targets of different shapes``
        testCase "a pullback given a cotangent of the wrong shape names both shapes" ``a pullback given a cotangent of the wrong shape names both shapes``
        testCase "Gradients given a cotangent of the wrong shape names both shapes" ``Gradients given a cotangent of the wrong shape names both shapes``
        testCase "the Value of a graph over an unbound variable names it" ``the Value of a graph over an unbound variable names it``
        testCase "AD.Eval with a binding of the wrong shape names the variable and both shapes" ``AD.Eval with a binding of the wrong shape names the variable and both shapes``
        testCase "an index outside a vector gives the valid range" ``an index outside a vector gives the valid range``
        testCase "an index outside a matrix names the dimension and the valid range" ``an index outside a matrix names the dimension and the valid range``
        testCase "a cross-entropy label outside the classes gives the valid range" ``a cross-entropy label outside the classes gives the valid range``
        testCase "cross-entropy needs one label per row" ``cross-entropy needs one label per row``
        testCase "labels bound later are checked by the kernel with the same messages" ``labels bound later are checked by the kernel with the same messages``
        testCase "a labels input of the wrong shape names both shapes" ``a labels input of the wrong shape names both shapes``
        testList "a null argument throws ArgumentNullException" [ for c in nullCaseNames -> testCase c (fun () -> ``a null argument throws ArgumentNullException`` c) ]
        testCase "a function that returns null is refused with a message" ``a function that returns null is refused with a message``
        testCase "Params refuse a repeated name and name the parameters there are" ``Params refuse a repeated name and name the parameters there are``
        testCase "scatter names itself when its position is outside the target" ``scatter names itself when its position is outside the target``
    ]
