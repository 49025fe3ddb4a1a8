/// Graph invariants: equality is identity, identity rewrites keep instances, constants own their data,
/// traversals visit each node once, printing is bounded.
module Functional.Autodiff.Tests.GraphInvariants

open System
open System.Collections.Generic
open System.Collections.Immutable
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

// ------------------------------------------------------------------ equality is identity

let ``structurally equal nodes are not Equal, and StructurallyEqual says they are alike`` () =
    let x = Expr.Var("x", Shape.Vector 3)
    let a = Expr.Sin(x * 2.0)
    let b = Expr.Sin(x * 2.0)
    Assert.That(a.Equals(b), Is.False, "Equals is identity")
    Assert.That(a.Equals(a), Is.True)
    Assert.That(HashSet<Expr>([ a; b ]).Count, Is.EqualTo 2, "a hash set keeps both")
    Assert.That(Graph.StructurallyEqual(a, b), Is.True, "the same structure")
    Assert.That(Graph.StructurallyEqual(a, Expr.Cos(x * 2.0)), Is.False, "another op")
    Assert.That(Graph.StructurallyEqual(a, Expr.Sin(x * 3.0)), Is.False, "another constant")

    Assert.That(
        Graph.StructurallyEqual(a, Expr.Sin(Expr.Var("x", Shape.Vector 3) * 2.0)),
        Is.False,
        "another variable of the same name"
    )

    Assert.That(
        Graph.StructurallyEqual(Expr.Pow(x, 2.0), Expr.Pow(x, 2.0)),
        Is.True,
        "parameterised ops compare by parameter"
    )

    Assert.That(Graph.StructurallyEqual(Expr.Pow(x, 2.0), Expr.Pow(x, 3.0)), Is.False, "different exponents")
    Assert.That(Graph.StructurallyEqual(x[0], x[0]), Is.True)
    Assert.That(Graph.StructurallyEqual(x[0], x[1]), Is.False, "different indices")

let ``structural comparison does not see sharing`` () =
    let x = Expr.Var("x", Shape.Vector 2)
    let s = Expr.Sin x
    Assert.That(Graph.StructurallyEqual(s * s, Expr.Sin x * Expr.Sin x), Is.True, "a shared input against two copies")
    Assert.That(Graph.StructurallyEqual(s * s, s * Expr.Cos x), Is.False)

let ``structural comparison of a heavily shared DAG is linear, not exponential`` () =
    let x = Expr.Var("x", Value.Scalar 1e-3)
    // 2^200 paths from the root to x: a recursive comparison would never finish.
    let build last =
        let mutable e: Expr = x

        for _ in 1..200 do
            e <- (e + e) * 0.5

        e + last

    Assert.That(Graph.StructurallyEqual(build 1.0, build 1.0), Is.True)
    Assert.That(Graph.StructurallyEqual(build 1.0, build 2.0), Is.False)
    Assert.That(Graph.PostOrder(build 1.0).Count, Is.EqualTo(1 + 200 * 3 + 2))

let ``parameterised ops are equal by their parameters`` () =
    let pairs: (Op * Op * bool) list =
        [
            PowOp 2.0, PowOp 2.0, true
            PowOp 2.0, PowOp 3.0, false
            IndexOp(1), IndexOp(1), true
            IndexOp(1), IndexOp(1, Nullable 0), false
            ScatterOp(Shape.Vector 3, 1), ScatterOp(Shape.Vector 3, 1), true
            ScatterOp(Shape.Vector 3, 1), ScatterOp(Shape.Vector 4, 1), false
            BroadcastScalarOp(Shape.Vector 3), BroadcastScalarOp(Shape.Vector 3), true
            BroadcastRowsOp 2, BroadcastRowsOp 2, true
            BroadcastColumnsOp 2, BroadcastColumnsOp 3, false
            OneHotOp 3, OneHotOp 3, true
            OneHotOp 3, OneHotOp 4, false
        ]

    for a, b, equal in pairs do
        Assert.That(a.Equals(b), Is.EqualTo equal, $"{a} vs {b}")

        if equal then
            Assert.That(a.GetHashCode(), Is.EqualTo(b.GetHashCode()), $"hash of {a}")

// ------------------------------------------------------------------ identity rewrites

let ``WithInputs with the same inputs returns the same instance`` () =
    let x = Expr.Var("x", Value.FromArray [| 1.0; 2.0 |])
    let y = Expr.Var("y", Value.FromArray [| 3.0; 4.0 |])
    let node = (x * y) :?> Apply
    Assert.That(obj.ReferenceEquals(node.WithInputs(node.Inputs), node), "the same array")

    Assert.That(
        obj.ReferenceEquals(node.WithInputs(ImmutableArray.Create<Expr>(x, y)), node),
        "a new array of the same instances"
    )

    let rewritten = node.WithInputs(ImmutableArray.Create<Expr>(x, x))
    Assert.That(obj.ReferenceEquals(rewritten, node), Is.False, "another input gives a new node")
    assertBitIdentical "the rewritten node's value" (Value.FromArray [| 1.0; 4.0 |]) rewritten.Value
    assertBitIdentical "the original is unchanged" (Value.FromArray [| 3.0; 8.0 |]) node.Value

    let copy =
        node.WithInputs(ImmutableArray.Create<Expr>(Expr.Const(Value.FromArray [| 1.0; 2.0 |]), y))

    Assert.That(obj.ReferenceEquals(copy, node), Is.False, "an equal but distinct input is another input")

    throws<ShapeMismatchException>(fun () ->
        node.WithInputs(ImmutableArray.Create<Expr>(x, Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0 |])))
        |> ignore)
    |> ignore

// ------------------------------------------------------------------ constants own their data

let ``a constant does not alias the vector it was built from or the vector it hands out`` () =
    let v = Vector<float>.Build.DenseOfArray [| 1.0; 2.0; 3.0 |]
    let c = Expr.Const v
    v[0] <- 99.0
    assertBitIdentical "after mutating the source vector" (Value.FromArray [| 1.0; 2.0; 3.0 |]) c.Value
    let out = c.Value.ToVector()
    out[1] <- -7.0
    assertBitIdentical "after mutating ToVector()" (Value.FromArray [| 1.0; 2.0; 3.0 |]) c.Value
    let arr = c.Value.ToArray()
    arr[2] <- 42.0
    assertBitIdentical "after mutating ToArray()" (Value.FromArray [| 1.0; 2.0; 3.0 |]) c.Value
    // Nodes built on the constant computed from the original numbers and keep them.
    let s = Expr.Sum c
    v[1] <- 1e6
    Assert.That(s.Value.ToScalar(), Is.EqualTo 6.0)

let ``a constant does not alias a matrix or an array`` () =
    let m = Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ])
    let c = Expr.Const m
    m[0, 0] <- 99.0
    Assert.That(c.Value[0, 0], Is.EqualTo 1.0, "after mutating the source matrix")
    let out = c.Value.ToMatrix()
    out[1, 1] <- -1.0
    Assert.That(c.Value[1, 1], Is.EqualTo 4.0, "after mutating ToMatrix()")
    let arr = [| 5.0; 6.0 |]
    let fromArray = Value.FromArray arr
    arr[0] <- 0.0
    Assert.That(fromArray[0], Is.EqualTo 5.0, "after mutating the array given to Value.FromArray")
    let v = Vector<float>.Build.DenseOfArray [| 1.0; 2.0 |]
    let traced = Expr.Var("x", Value.FromVector v)
    v[0] <- 10.0
    Assert.That(traced.Value[0], Is.EqualTo 1.0, "a traced variable does not alias either")

let ``Value arithmetic never mutates its operands`` () =
    let a = Value.FromArray [| 1.0; 2.0 |]
    let b = Value.FromArray [| 3.0; 5.0 |]

    let results =
        [
            a + b
            a - b
            -a
            2.0 * a
            a * 3.0
            a.SetItem(0, 9.0)
            a.Map(fun x -> x * x)
            a.ZerosLike()
        ]

    Assert.That(results.Length, Is.EqualTo 8)
    assertBitIdentical "a" (Value.FromArray [| 1.0; 2.0 |]) a
    assertBitIdentical "b" (Value.FromArray [| 3.0; 5.0 |]) b
    assertBitIdentical "SetItem's copy" (Value.FromArray [| 9.0; 2.0 |]) results[5]

let ``default(Value) is the scalar 0, as documented`` () =
    // default(Value) turns up in every new Value[n] and default struct field.
    let d = (Array.zeroCreate<Value> 1)[0]
    // Today: Grad throws InvalidOperationException "The VJP rule of mul gave a cotangent of shape scalar for input 0
    // of shape scalar: the rule is wrong", and Eval throws "Eval: shapes scalar and scalar do not fit".
    Assert.That(
        (AD.Grad(Func<Expr, Expr>(fun e -> e * e)).Invoke d).ToScalar(),
        Is.EqualTo 0.0,
        "grad of x² at default(Value)"
    )

    let s = Expr.Var("s", Shape.Scalar)

    Assert.That(
        AD.Eval(s + 1.0, bindings [ s, d ]).ToScalar(),
        Is.EqualTo 1.0,
        "binding a scalar variable to default(Value)"
    )

    Assert.That(d.Shape, Is.EqualTo Shape.Scalar, "its shape")
    Assert.That(d.Shape.Size, Is.EqualTo 1, "its size")
    Assert.That(d.Equals(Value.Scalar 0.0), "it equals Value.Scalar 0")

// ------------------------------------------------------------------ traversals and printing

let ``PostOrder visits every node once, inputs first, the root last`` () =
    let rng = Random 20261122
    let x = Expr.Var("x", Value.FromArray [| 0.5; -0.25 |])
    let nodes = List<Expr>([ x :> Expr ])

    for _ in 1..300 do
        let a, b = nodes[rng.Next nodes.Count], nodes[rng.Next nodes.Count]

        let e: Expr =
            match rng.Next 4 with
            | 0 -> a + b
            | 1 -> Expr.Tanh a * b
            | 2 -> Expr.Sin(a - b)
            | _ -> a * 0.5

        nodes.Add e

    let root = nodes[nodes.Count - 1]
    let order = Graph.PostOrder root
    let position = Dictionary<Expr, int>()

    for k in 0 .. order.Count - 1 do
        Assert.That(position.TryAdd(order[k], k), $"node {k} appears once")

    Assert.That(obj.ReferenceEquals(order[order.Count - 1], root), "the root is last")

    for node in order do
        for input in node.Inputs do
            Assert.That(position[input], Is.LessThan(position[node]), "an input comes before its user")

let ``ToString of a big graph is bounded`` () =
    let x = Expr.Var("x", Value.FromArray(Array.init 1000 (fun k -> float k / 1000.0)))
    let mutable e: Expr = x

    for k in 1..20_000 do
        e <- if k % 2 = 0 then Expr.Tanh(e + e) else e * 0.5

    let wide = List.init 200 (fun k -> Expr.Sin(x * float k)) |> List.reduce (+)

    for name, g in
        [
            "a deep shared chain", e
            "a wide sum", wide
            "a big constant", Expr.Const x.Value
        ] do
        let s = g.ToString()
        Assert.That(s.Length, Is.LessThan 2000, $"{name}: {s.Length} characters")
        Assert.That(s, Does.Contain "vector(1000)", $"{name} shows its shape")

let ``an op that says it is commutative gives the same value with its inputs swapped`` () =
    let commutative = Ops.All |> Seq.filter (fun op -> op.IsCommutative) |> Seq.map (fun op -> op.Name) |> Set.ofSeq
    Assert.That(commutative, Is.EquivalentTo [ "add"; "mul"; "dot"; "equal"; "maximum"; "minimum" ])
    let a = Expr.Const(Value.FromArray(0.3, -1.7, 2.5))
    let b = Expr.Const(Value.FromArray(1.1, 0.4, -0.9))
    for op in Ops.All |> Seq.filter (fun op -> op.IsCommutative) do
        Assert.That((Expr.Create(op, a, b)).Value, Is.EqualTo((Expr.Create(op, b, a)).Value), op.Name)

open Expecto

[<Tests>]
let tests =
    testList "GraphInvariants" [
        testCase "structurally equal nodes are not Equal, and StructurallyEqual says they are alike" ``structurally equal nodes are not Equal, and StructurallyEqual says they are alike``
        testCase "structural comparison does not see sharing" ``structural comparison does not see sharing``
        testCase "structural comparison of a heavily shared DAG is linear, not exponential" ``structural comparison of a heavily shared DAG is linear, not exponential``
        testCase "parameterised ops are equal by their parameters" ``parameterised ops are equal by their parameters``
        testCase "WithInputs with the same inputs returns the same instance" ``WithInputs with the same inputs returns the same instance``
        testCase "a constant does not alias the vector it was built from or the vector it hands out" ``a constant does not alias the vector it was built from or the vector it hands out``
        testCase "a constant does not alias a matrix or an array" ``a constant does not alias a matrix or an array``
        testCase "Value arithmetic never mutates its operands" ``Value arithmetic never mutates its operands``
        testCase "default(Value) is the scalar 0, as documented" ``default(Value) is the scalar 0, as documented``
        testCase "PostOrder visits every node once, inputs first, the root last" ``PostOrder visits every node once, inputs first, the root last``
        testCase "ToString of a big graph is bounded" ``ToString of a big graph is bounded``
        testCase "an op that says it is commutative gives the same value with its inputs swapped" ``an op that says it is commutative gives the same value with its inputs swapped``
    ]
