/// The shape ops (issue 10) beyond the op-spec table: the laws that tie them together (reshape and back, concat then
/// slice, gather by a permutation then its inverse, flatten as MathNet's row-major array, stack as MathNet's row and
/// column builders), a composed function pinned against PyTorch float64 (tests/reference/issue10_shapes.py), and the
/// errors for shapes and ranges that do not fit.
module Functional.Autodiff.Tests.ShapeOps

open System
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

[<Literal>]
let Seed = "(20261210,10101)"

let private randomShape (rng: Random) = OpSpecs.shapeOfSize rng (rng.Next(1, 13))

let private valueOf (rng: Random) (s: Shape) = T.toValue (randomOf rng s)

let private assertMentions (ex: exn) (parts: string list) =
    for p in parts do
        Assert.That(ex.Message, Does.Contain p, $"the message should mention '{p}'")

// ------------------------------------------------------------------ laws

let ``reshape to another shape and back is the input, bit for bit`` (seed: int) =
    let rng = Random seed
    let source = randomShape rng
    let target = OpSpecs.shapeOfSize rng source.Size
    let x = Expr.Var("x", valueOf rng source)
    let back = Expr.Reshape(Expr.Reshape(x, target), source)
    Assert.That(back.Shape, Is.EqualTo source)
    assertBitIdentical $"reshape {source} -> {target} -> {source}" x.Value back.Value
    // Its gradient is the cotangent itself, reshaped twice.
    let u = valueOf rng source
    let g = AD.Gradients(back, [| x :> Expr |], Expr.Const u)
    assertBitIdentical "the gradient of reshape and back" u g[0].Value

let ``reshape to its own shape is the very node, and reshape is row-major`` () =
    let x = Expr.Var("x", Shape.Matrix(2, 3))
    Assert.That(obj.ReferenceEquals(Expr.Reshape(x, x.Shape), x), Is.True)
    let v = Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
    let m = Expr.Reshape(v, Shape.Matrix(2, 3)).Value.ToMatrix()
    Assert.That(m.ToRowArrays(), Is.EqualTo [| [| 1.0; 2.0; 3.0 |]; [| 4.0; 5.0; 6.0 |] |])
    let m32 = Expr.Reshape(Expr.Const m, Shape.Matrix(3, 2)).Value.ToMatrix()
    Assert.That(m32.ToRowArrays(), Is.EqualTo [| [| 1.0; 2.0 |]; [| 3.0; 4.0 |]; [| 5.0; 6.0 |] |])

let ``flatten of a matrix is MathNet's row-major array; of a vector it is the vector; of a scalar, vector(1)`` (seed: int) =
    let rng = Random seed
    let m = (valueOf rng (Shape.Matrix(rng.Next(1, 6), rng.Next(1, 6)))).ToMatrix()
    let flat = Expr.Flatten(Expr.Const m)
    Assert.That(flat.Shape, Is.EqualTo(Shape.Vector(m.RowCount * m.ColumnCount)))
    Assert.That(flat.Value.ToArray(), Is.EqualTo(m.ToRowMajorArray()))
    let v = Expr.Var("v", valueOf rng (Shape.Vector(rng.Next(1, 6))))
    Assert.That(obj.ReferenceEquals(Expr.Flatten v, v), Is.True)
    let s = Expr.Flatten(Expr.Const 2.5)
    Assert.That(s.Shape, Is.EqualTo(Shape.Vector 1))
    Assert.That(s.Value.ToArray(), Is.EqualTo [| 2.5 |])

let ``concat then slice gives back the parts, bit for bit, and so does the gradient`` (seed: int) =
    let rng = Random seed
    let isVector = rng.Next 3 = 0
    let axis = if isVector then 0 else rng.Next 2
    let other = rng.Next(1, 5)
    let count = rng.Next(1, 8)
    let lengths = List.init count (fun _ -> rng.Next(1, 5))

    let shapeWith n =
        if isVector then Shape.Vector n
        elif axis = 0 then Shape.Matrix(n, other)
        else Shape.Matrix(other, n)

    let parts =
        lengths |> List.mapi (fun k n -> Expr.Var($"p{k}", valueOf rng (shapeWith n)) :> Expr)

    let joined = Expr.Concat(axis, Array.ofList parts)
    Assert.That(joined.Shape, Is.EqualTo(shapeWith (List.sum lengths)))
    let starts = List.scan (+) 0 lengths

    for k in 0 .. count - 1 do
        let back = Expr.Slice(joined, axis, starts[k], starts[k + 1])
        assertBitIdentical $"part {k} of {count} along axis {axis}" parts[k].Value back.Value

    // The gradient of concat with a cotangent u is u sliced back into the parts' shapes.
    let u = valueOf rng joined.Shape
    let gs = AD.Gradients(joined, Array.ofList parts, Expr.Const u)

    for k in 0 .. count - 1 do
        assertBitIdentical $"gradient of part {k}" (Expr.Slice(Expr.Const u, axis, starts[k], starts[k + 1])).Value gs[k].Value

let ``gather by a permutation then by its inverse is the identity`` (seed: int) =
    let rng = Random seed
    let n = rng.Next(1, 9)
    let s = if rng.Next 2 = 0 then Shape.Vector n else Shape.Matrix(n, rng.Next(1, 5))
    let perm = Array.init n id |> Array.sortBy (fun _ -> rng.Next())
    let inverse = Array.zeroCreate n
    perm |> Array.iteri (fun k p -> inverse[p] <- k)
    let x = Expr.Var("x", valueOf rng s)
    let back = Expr.Gather(Expr.Gather(x, perm), inverse)
    assertBitIdentical $"gather {fmt (T.vector (Array.map float perm))} then its inverse" x.Value back.Value
    let u = valueOf rng s
    let g = AD.Gradients(back, [| x :> Expr |], Expr.Const u)
    assertBitIdentical "its gradient" u g[0].Value

let ``the gradient of gather adds up repeated indices`` () =
    let g =
        AD.Grad(Func<Expr, Expr>(fun x -> Expr.Sum(Expr.Gather(x, 0, 2, 0, 0) * Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0; 4.0 |]))))
            .Invoke(Value.FromArray [| 5.0; 6.0; 7.0 |])

    Assert.That(g.ToArray(), Is.EqualTo [| 8.0; 0.0; 2.0 |])

    // Rows of a matrix, row 1 twice.
    let gm =
        AD.Grad(Func<Expr, Expr>(fun m -> Expr.Sum(Expr.Gather(m, 1, 1))))
            .Invoke(Value.FromMatrix(Matrix<float>.Build.Dense(3, 2, 1.0)))

    Assert.That(gm.ToMatrix().ToRowArrays(), Is.EqualTo [| [| 0.0; 0.0 |]; [| 2.0; 2.0 |]; [| 0.0; 0.0 |] |])

let ``stack makes MathNet's matrix of row or column vectors; stacked scalars are a vector`` (seed: int) =
    let rng = Random seed
    let n, k = rng.Next(1, 6), rng.Next(1, 7)
    let vs = List.init k (fun _ -> (valueOf rng (Shape.Vector n)).ToVector())
    let parts = vs |> List.map (fun v -> Expr.Const v) |> Array.ofList
    Assert.That(Expr.Stack(parts).Value.ToMatrix(), Is.EqualTo(Matrix<float>.Build.DenseOfRowVectors vs))
    Assert.That(Expr.Stack(1, parts).Value.ToMatrix(), Is.EqualTo(Matrix<float>.Build.DenseOfColumnVectors vs))
    let xs = List.init k (fun _ -> uniform rng -2.0 2.0)
    let stacked = Expr.Stack(xs |> List.map Expr.Const |> Array.ofList)
    Assert.That(stacked.Shape, Is.EqualTo(Shape.Vector k))
    Assert.That(stacked.Value.ToArray(), Is.EqualTo(Array.ofList xs))

let ``row and column read a matrix without a transpose, and Slice keeps the rank`` () =
    let m = Expr.Const(T.toValue (T.matrix 3 4 (fun i j -> float (10 * i + j))))
    Assert.That(Expr.Row(m, 1).Value.ToArray(), Is.EqualTo [| 10.0; 11.0; 12.0; 13.0 |])
    Assert.That(Expr.Column(m, 2).Value.ToArray(), Is.EqualTo [| 2.0; 12.0; 22.0 |])
    Assert.That(Expr.Slice(m, 0, 1, 2).Shape, Is.EqualTo(Shape.Matrix(1, 4)))
    Assert.That(Expr.Slice(m, 1, 1, 3).Value.ToMatrix().ToRowArrays(), Is.EqualTo [| [| 1.0; 2.0 |]; [| 11.0; 12.0 |]; [| 21.0; 22.0 |] |])
    let v = Expr.Const(Value.FromArray [| 10.0; 20.0; 30.0; 40.0 |])
    Assert.That(Expr.Slice(v, 1, 3).Value.ToArray(), Is.EqualTo [| 20.0; 30.0 |])

let ``a concat of many parts is a balanced tree of two-input nodes, and one part is itself`` () =
    let parts = Array.init 1000 (fun k -> Expr.Const(Value.FromArray [| float k |]))
    let joined = Expr.Concat(parts)
    Assert.That(joined.Value.ToArray(), Is.EqualTo(Array.init 1000 float))

    // Depth of the tree, iteratively.
    let mutable depth, level = 0, [ joined ]

    while not level.IsEmpty do
        depth <- depth + 1
        level <- level |> List.collect (fun e -> if e.Op :? ConcatOp then List.ofSeq e.Inputs else [])

    Assert.That(depth, Is.EqualTo 11, "⌈log₂ 1000⌉ levels of concat and the leaves")
    Assert.That(obj.ReferenceEquals(Expr.Concat(parts[0]), parts[0]), Is.True)

// ------------------------------------------------------------------ against PyTorch

/// (k mod 7 − 3) / 4 for k = 0 … n − 1 (exact in binary), as the script's weights.
let private weights n =
    Array.init n (fun k -> float (k % 7 - 3) / 4.0)

/// A matrix(m, n) whose row-major elements are the weights (the script's weights(m·n).reshape(m, n)).
let private weightMatrix m n =
    let w = weights (m * n)
    Expr.Const(T.toValue (T.matrix m n (fun i j -> w[i * n + j])))

let private parts (x: Expr) (m: Expr) =
    let a = Expr.Reshape(x, Shape.Matrix(2, 3))
    let b = Expr.Concat(0, a, Expr.Slice(m, 1, 0, 3))
    let g = Expr.Gather(m, 2, 0, 2, 1, 0)
    let d = Expr.Concat(1, b, g)
    let s0 = Expr.Stack(0, Expr.Row(m, 1), Expr.Slice(x, 0, 4))
    let s1 = Expr.Stack(1, Expr.Column(m, 3), Expr.Slice(x, 3, 6))
    let v = Expr.Concat(Expr.Gather(x, 5, 5, 1), Expr.Flatten(m[0, 0]))
    let r = Expr.Reshape(m, Shape.Matrix(4, 3))
    d, s0, s1, v, r

let private composed (x: Expr) (m: Expr) =
    let d, s0, s1, v, r = parts x m

    Expr.Sum(Expr.Sin d * weightMatrix 5 7)
    + Expr.Sum(Expr.Tanh(Expr.Flatten s0) * Expr.Const(Value.FromArray(weights 8)))
    + Expr.Sum(Expr.Exp(0.3 * s1) * weightMatrix 3 2)
    + Expr.Sum(Expr.Cos v * Expr.Const(Value.FromArray(weights 4)))
    + Expr.Sum(r * r * weightMatrix 4 3)

let private x0 = [| 0.3; -1.2; 0.7; 2.1; -0.4; 1.5 |]

let private m0 =
    let rows = [| [| 0.5; -0.25; 1.75; -1.0 |]; [| 2.0; 0.125; -0.5; 0.75 |]; [| -1.5; 1.25; 0.25; -2.0 |] |]
    T.matrix 3 4 (fun i j -> rows[i][j])

/// A tensor of shape s from the script's literals (matrices column by column).
let private literal (s: Shape) (d: float[]) = { Shape = s; Data = d }

let ``the shape ops match PyTorch float64: every part bit for bit, a composed function and its gradients to rounding`` () =
    let x = Expr.Var("x", Value.FromArray(Array.copy x0))
    let m = Expr.Var("m", T.toValue m0)
    let d, s0, s1, v, r = parts x m

    let exact (name: string) (expected: T) (e: Expr) =
        assertBitIdentical $"{name} against PyTorch" (T.toValue expected) e.Value

    exact "d" (literal (Shape.Matrix(5, 7)) [| 0.3; 2.1; 0.5; 2.0; -1.5; -1.2; -0.4; -0.25; 0.125; 1.25; 0.7; 1.5; 1.75; -0.5; 0.25; -1.5; 0.5; -1.5; 2.0; 0.5; 1.25; -0.25; 1.25; 0.125; -0.25; 0.25; 1.75; 0.25; -0.5; 1.75; -2.0; -1.0; -2.0; 0.75; -1.0 |]) d
    exact "s0" (literal (Shape.Matrix(2, 4)) [| 2.0; 0.3; 0.125; -1.2; -0.5; 0.7; 0.75; 2.1 |]) s0
    exact "s1" (literal (Shape.Matrix(3, 2)) [| -1.0; 0.75; -2.0; 2.1; -0.4; 1.5 |]) s1
    exact "v" (literal (Shape.Vector 4) [| 1.5; 1.5; -1.2; 0.5 |]) v
    exact "r" (literal (Shape.Matrix(4, 3)) [| 0.5; -1.0; -0.5; 1.25; -0.25; 2.0; 0.75; 0.25; 1.75; 0.125; -1.5; -2.0 |]) r

    let y = composed x m
    let gs = AD.Gradients(y, [| x :> Expr; m |])
    // sin, tanh, exp and cos are the library's kernels (within 1 ulp of correctly rounded), summed in another order.
    let tol = { Absolute = 1e-15; Relative = 1e-14 }
    assertAllClose tol "f" "" (T.scalar -5.334518044028098) (T.ofValue y.Value)

    assertAllClose tol "df/dx" ""
        (T.vector [| -0.48771812638754725; -0.26167865062643886; 0.2848441456657218; 0.053325712517844015; -0.46053049700144255; 1.4644312606616676 |])
        (T.ofValue gs[0].Value)

    assertAllClose tol "df/dm" ""
        (literal (Shape.Matrix(3, 4)) [| -1.4081869214177796; 1.2591220087704835; 1.4469470987492228; 0.24999999999999994; -0.615317582282529; -0.625; -1.008684541737119; -0.7272162927688887; 0.7266843162829836; 0.6437693591488232; -0.6701575520590243; -1.5830593821136616 |])
        (T.ofValue gs[1].Value)

let ``the composed function passes GradCheck at orders 1 and 2 in each input`` () =
    let m = T.toValue m0
    let x = Value.FromArray(Array.copy x0)
    assertGradCheckOrders12 "in x, " (fun x -> composed x (Expr.Const m)) x
    assertGradCheckOrders12 "in m, " (fun m -> composed (Expr.Const x) m) m

// ------------------------------------------------------------------ errors

let private vecOf n = Expr.Const(Value.FromArray(Array.init n float))
let private matOf m n = Expr.Const(T.toValue (T.matrix m n (fun i j -> float (i + 2 * j))))

let ``reshape to a different size names both shapes and sizes`` () =
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Reshape(matOf 2 3, Shape.Matrix(4, 2)) |> ignore)
    assertMentions ex [ "reshape"; "matrix(2, 3)"; "matrix(4, 2)"; "has 6"; "has 8"; "vector(6)"; "ShapeOps.fs:" ]
    Assert.That((ex.Op, ex.Left, ex.Right), Is.EqualTo(("reshape", Shape.Matrix(2, 3), Shape.Matrix(4, 2))))

let ``concat of mismatched sides names the part, the shapes and the axis to use`` () =
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Concat(0, matOf 2 3, matOf 2 3, matOf 2 4) |> ignore)
    assertMentions ex [ "concat"; "matrix(2, 3)"; "matrix(2, 4)"; "part 2"; "columns"; "axis 1"; "ShapeOps.fs:" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Concat(1, matOf 2 3, matOf 3 3) |> ignore)
    assertMentions ex [ "concat"; "matrix(2, 3)"; "matrix(3, 3)"; "rows"; "axis 0" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Concat(vecOf 3, matOf 2 3) |> ignore)
    assertMentions ex [ "concat"; "vector(3)"; "matrix(2, 3)"; "matrix(1, n)"; "Stack" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Concat(1, vecOf 3, vecOf 2) |> ignore)
    assertMentions ex [ "concat"; "axis 0"; "Stack" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Concat(Expr.Const 1.0, vecOf 2) |> ignore)
    assertMentions ex [ "concat"; "scalar"; "Stack" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Concat(2, vecOf 3) |> ignore)
    assertMentions ex [ "concat"; "axis 2" ]
    throws<ArgumentException> (fun () -> Expr.Concat(Array.empty<Expr>) |> ignore) |> ignore

let ``stack of different shapes or of matrices says what to use`` () =
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Stack(vecOf 3, vecOf 3, vecOf 2) |> ignore)
    assertMentions ex [ "stack"; "vector(3)"; "vector(2)"; "part 2"; "one shape"; "ShapeOps.fs:" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Stack(matOf 2 2, matOf 2 2) |> ignore)
    assertMentions ex [ "stack"; "matrix(2, 2)"; "Concat" ]

let ``slice out of range or empty gives the valid range`` () =
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Slice(vecOf 4, 2, 6) |> ignore)
    assertMentions ex [ "slice"; "[2, 6)"; "vector(4)"; "stop ≤ 4"; "ShapeOps.fs:" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Slice(matOf 2 3, 1, 1, 4) |> ignore)
    assertMentions ex [ "slice"; "[1, 4)"; "matrix(2, 3)"; "axis 1"; "stop ≤ 3" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Slice(vecOf 4, 2, 2) |> ignore)
    assertMentions ex [ "slice"; "[2, 2)"; "empty" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Slice(vecOf 4, -1, 2) |> ignore)
    assertMentions ex [ "slice"; "-1"; "negative" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Slice(matOf 2 3, 0, 1) |> ignore)
    assertMentions ex [ "slice"; "matrix(2, 3)"; "Slice(x, 0, start, stop)" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Slice(vecOf 4, 1, 0, 1) |> ignore)
    assertMentions ex [ "slice"; "vector(4)"; "axis 0" ]

let ``gather and row and column out of range name the index and the valid range`` () =
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Gather(vecOf 3, 0, 3) |> ignore)
    assertMentions ex [ "gather"; "indices[1] = 3"; "vector(3)"; "0 to 2"; "ShapeOps.fs:" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Gather(matOf 2 5, 4) |> ignore)
    assertMentions ex [ "gather"; "indices[0] = 4"; "matrix(2, 5)"; "rows"; "0 to 1" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Gather(vecOf 3, -1) |> ignore)
    assertMentions ex [ "gather"; "negative" ]
    let ex = throws<ArgumentException> (fun () -> Expr.Gather(vecOf 3) |> ignore)
    assertMentions ex [ "gather"; "empty" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Gather(Expr.Const 1.0, 0) |> ignore)
    assertMentions ex [ "gather"; "scalar" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Row(matOf 2 3, 2) |> ignore)
    assertMentions ex [ "row"; "i = 2"; "matrix(2, 3)"; "0 to 1"; "ShapeOps.fs:" ]
    let ex = throws<ArgumentOutOfRangeException> (fun () -> Expr.Column(matOf 2 3, 3) |> ignore)
    assertMentions ex [ "column"; "j = 3"; "0 to 2" ]
    let ex = throws<ShapeMismatchException> (fun () -> Expr.Row(vecOf 3, 0) |> ignore)
    assertMentions ex [ "row"; "vector(3)"; "x[i]" ]

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "ShapeOps" [
        testPropertyWithConfig { replay Seed with maxTest = 200 } "reshape to another shape and back is the input, bit for bit" ``reshape to another shape and back is the input, bit for bit``
        testCase "reshape to its own shape is the very node, and reshape is row-major" ``reshape to its own shape is the very node, and reshape is row-major``
        testPropertyWithConfig { replay Seed with maxTest = 200 } "flatten of a matrix is MathNet's row-major array; of a vector it is the vector; of a scalar, vector(1)" ``flatten of a matrix is MathNet's row-major array; of a vector it is the vector; of a scalar, vector(1)``
        testPropertyWithConfig { replay Seed with maxTest = 200 } "concat then slice gives back the parts, bit for bit, and so does the gradient" ``concat then slice gives back the parts, bit for bit, and so does the gradient``
        testPropertyWithConfig { replay Seed with maxTest = 200 } "gather by a permutation then by its inverse is the identity" ``gather by a permutation then by its inverse is the identity``
        testCase "the gradient of gather adds up repeated indices" ``the gradient of gather adds up repeated indices``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "stack makes MathNet's matrix of row or column vectors; stacked scalars are a vector" ``stack makes MathNet's matrix of row or column vectors; stacked scalars are a vector``
        testCase "row and column read a matrix without a transpose, and Slice keeps the rank" ``row and column read a matrix without a transpose, and Slice keeps the rank``
        testCase "a concat of many parts is a balanced tree of two-input nodes, and one part is itself" ``a concat of many parts is a balanced tree of two-input nodes, and one part is itself``
        testCase "the shape ops match PyTorch float64: every part bit for bit, a composed function and its gradients to rounding" ``the shape ops match PyTorch float64: every part bit for bit, a composed function and its gradients to rounding``
        testCase "the composed function passes GradCheck at orders 1 and 2 in each input" ``the composed function passes GradCheck at orders 1 and 2 in each input``
        testCase "reshape to a different size names both shapes and sizes" ``reshape to a different size names both shapes and sizes``
        testCase "concat of mismatched sides names the part, the shapes and the axis to use" ``concat of mismatched sides names the part, the shapes and the axis to use``
        testCase "stack of different shapes or of matrices says what to use" ``stack of different shapes or of matrices says what to use``
        testCase "slice out of range or empty gives the valid range" ``slice out of range or empty gives the valid range``
        testCase "gather and row and column out of range name the index and the valid range" ``gather and row and column out of range name the index and the valid range``
    ]
