/// The F# API against the C# core: the same numbers, bit for bit, on random programs; input and output forms;
/// builders, operators and errors.
module Functional.Autodiff.FSharp.Tests.ApiTests

open System
open System.Collections.Generic
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.FSharp
open Functional.Autodiff.FSharp.Tests.Programs

let private throws<'E when 'E :> exn and 'E: not struct and 'E: not null> (f: unit -> unit) : 'E =
    match Assert.Throws<'E>(TestDelegate f) with
    | null -> failwith "Assert.Throws returned null"
    | e -> e

/// The last register of a program, before the sum: a vector output for vjp and jacobian.
let private runRaw (p: Program) (inputs: Expr list) : Expr =
    match (run p inputs).Inputs |> Seq.toList with
    | [ last ] -> last
    | _ -> failwith "run ends with sum"

// ------------------------------------------------------------------ the same numbers as the core

let ``valueAndGrad of one input equals the core's`` (One c) =
    let f x = run c.Program [ x ]
    let struct (y, g) = AD.ValueAndGrad(Func<Expr, Expr> f).Invoke(c.Values[0])
    let y', g' = valueAndGrad f c.Values[0]
    assertSame "value" y (scalar y')
    assertSame "gradient" g g'

    if c.Program.Length = 1 then
        assertSame "gradient at a float" g (scalar (grad f (c.Values[0].ToScalar())))
    else
        assertSame "gradient at a MathNet vector" g (Value.FromVector(grad f (c.Values[0].ToVector())))

let ``grad of a pair equals the core's two-input grad`` (Two c) =
    let f (a, b) = run c.Program [ a; b ]

    let struct (y, struct (ga, gb)) =
        AD.ValueAndGrad(Func<Expr, Expr, Expr>(fun a b -> f (a, b))).Invoke(c.Values[0], c.Values[1])

    let y', (ga', gb') = valueAndGrad f (c.Values[0], c.Values[1])
    assertSame "value" y (scalar y')
    assertSame "first gradient" ga ga'
    assertSame "second gradient" gb gb'

    if c.Program.Length = 1 then
        let fa, fb = grad f (c.Values[0].ToScalar(), c.Values[1].ToScalar())
        assertSame "first gradient at floats" ga (scalar fa)
        assertSame "second gradient at floats" gb (scalar fb)

let ``grad of a triple equals the core's three-input grad and the Params grad`` (Three c) =
    let f (a, b, d) = run c.Program [ a; b; d ]

    let struct (ga, gb, gd) =
        AD.Grad(Func<Expr, Expr, Expr, Expr>(fun a b d -> f (a, b, d))).Invoke(c.Values[0], c.Values[1], c.Values[2])

    let ga', gb', gd' = grad f (c.Values[0], c.Values[1], c.Values[2])
    assertSame "first gradient" ga ga'
    assertSame "second gradient" gb gb'
    assertSame "third gradient" gd gd'
    let p = parameters [ "a", c.Values[0]; "b", c.Values[1]; "d", c.Values[2] ]
    let gp = grad (fun p -> f (p?a, p?b, p?d)) p
    assertSame "Params gradient a" ga gp["a"]
    assertSame "Params gradient b" gb gp["b"]
    assertSame "Params gradient d" gd gp["d"]

let ``vjp, jvp, jacobian, hessian and hvp equal the core's`` (One c) =
    let x = c.Values[0]
    let direction = x.Map(fun e -> 0.25 - 0.5 * e)
    let g x = runRaw c.Program [ x ]
    let f x = run c.Program [ x ]
    let struct (y, pullback) = AD.Vjp(Func<Expr, Expr> g).Invoke(x)
    let y', pullback' = vjp g x
    let cotangent = y.Map(fun e -> 1.0 + e)
    assertSame "vjp value" y y'
    assertSame "vjp pullback" (pullback.Invoke cotangent) (pullback' cotangent)
    let struct (jy, jt) = AD.Jvp(Func<Expr, Expr> g).Invoke(x, direction)
    let jy', jt' = jvp g x direction
    assertSame "jvp value" jy jy'
    assertSame "jvp tangent" jt jt'
    assertSame "jacobian" (Value.FromMatrix(AD.Jacobian(Func<Expr, Expr> g).Invoke x)) (jacobian g x)
    assertSame "hessian" (Value.FromMatrix(AD.Hessian(Func<Expr, Expr> f).Invoke x)) (hessian f x)
    assertSame "hvp" (AD.Hvp(Func<Expr, Expr> f).Invoke(x, direction)) (hvp f x direction)


let ``compiledValueAndGrad and compiledGrad give valueAndGrad's bits, on one input and on a pair`` (One c) (Two d) =
    let f x = run c.Program [ x ]
    let vg = compiledValueAndGrad f
    let y, g = valueAndGrad f c.Values[0]
    let y', g' = vg c.Values[0]
    assertSame "value" (scalar y) (scalar y')
    assertSame "gradient" g g'
    assertSame "gradient, again" g (compiledGrad f c.Values[0])
    let f2 (a, b) = run d.Program [ a; b ]
    let _, (ga, gb) = valueAndGrad f2 (d.Values[0], d.Values[1])
    let ga', gb' = compiledGrad f2 (d.Values[0], d.Values[1])
    assertSame "first gradient" ga ga'
    assertSame "second gradient" gb gb'

let ``compiledHessian, compiledHessianBlocks and compiledHvp give hessian's and hvp's bits, on one input and on a pair`` (One c) (Two d) =
    let x = c.Values[0]
    let direction = x.Map(fun e -> 0.25 - 0.5 * e)
    let f x = run c.Program [ x ]
    let h = compiledHessian f
    let hv = compiledHvp f

    for _ in 1..2 do
        assertSame "hessian" (hessian f x) (h x)
        assertSame "hvp" (hvp f x direction) (hv x direction)

    let f2 (a, b) = run d.Program [ a; b ]
    let p = (d.Values[0], d.Values[1])
    let h0, h1 = hessianBlocks f2 p, compiledHessianBlocks f2 p
    Assert.That(List.ofSeq h1.ColumnPaths, Is.EqualTo(List.ofSeq h0.ColumnPaths))
    assertSame "hessian of a pair" (Value.FromMatrix(h0.ToMatrix())) (Value.FromMatrix(h1.ToMatrix()))
    let v = (d.Values[0].Map(fun e -> 1.0 - e), d.Values[1].Map(fun e -> 0.5 * e))
    let ha, hb = hvp f2 p v
    let ha', hb' = compiledHvp f2 p v
    assertSame "first hvp" ha ha'
    assertSame "second hvp" hb hb'

let ``compiledGrad refuses a branch on an input's value and accepts where`` () =
    let e =
        throws<CompileTraceException> (fun () ->
            compiledGrad (fun (x: Expr) -> if x.Value.ToScalar() > 0.0 then x * x else x) 2.0 |> ignore)

    Assert.That(e.Message, Does.Contain "Use Expr.Where")
    let g = compiledGrad (fun (x: Expr) -> where (greater x (constant (scalar 0.0))) (x * x) x)
    Assert.That(g 2.0, Is.EqualTo 4.0)
    Assert.That(g -2.0, Is.EqualTo 1.0)

// ------------------------------------------------------------------ forms in, forms out

let ``a tuple of mixed forms comes back in the same forms`` () =
    let (gx: float), (gv: Value) =
        grad (fun (x, v) -> x * sum v) (2.0, vector [ 1.0; 2.0 ])

    Assert.That(gx, Is.EqualTo 3.0)
    assertSame "vector part" (vector [ 2.0; 2.0 ]) gv

let ``seed 003: f = (x + 2y)z at (3, -4, 19) by a triple`` () =
    let f, (dx, dy, dz) =
        valueAndGrad (fun (x, y, z) -> (x + 2.0 * y) * z) (3.0, -4.0, 19.0)

    Assert.That((f, dx, dy, dz), Is.EqualTo((-95.0, 19.0, 38.0, -5.0)))

let ``seed 000: grad of z = 3·xᵀ(w + 2)² is 9s at w = 1, and accumulates by addition`` () =
    let x = constant (vector [ 0.5; 0.5; 0.5 ])
    let z (w: Expr) = 3.0 * dot x ((w + 2.0) ** 2.0)
    let w = vector [ 1.0; 1.0; 1.0 ]
    assertSame "grad" (vector [ 9.0; 9.0; 9.0 ]) (grad z w)
    assertSame "accumulated" (vector [ 18.0; 18.0; 18.0 ]) (grad z w + grad z w)

let ``MathNet vectors and matrices come back as MathNet vectors and matrices`` () =
    let v: Vector<float> =
        grad (fun x -> dot x x) (Vector<float>.Build.DenseOfArray [| 1.0; 2.0 |])

    Assert.That(v.ToArray(), Is.EqualTo [| 2.0; 4.0 |])

    let m: Matrix<float> =
        grad (fun x -> sum (x * x)) (Matrix<float>.Build.DenseOfRowArrays [| [| 1.0; 2.0 |] |])

    Assert.That(m.ToRowArrays(), Is.EqualTo [| [| 2.0; 4.0 |] |])
    let _, pullback = vjp (fun x -> 3.0 * x) (Vector<float>.Build.Dense(2, 1.0))
    Assert.That((pullback (vector [ 1.0; 2.0 ])).ToArray(), Is.EqualTo [| 3.0; 6.0 |])

let ``vjp over Params maps the cotangent to a Params`` () =
    let p = parameters [ "w", vector [ 1.0; 2.0 ]; "b", scalar 3.0 ]
    let y, pullback = vjp (fun p -> p?w * p?b) p
    assertSame "value" (vector [ 3.0; 6.0 ]) y
    let g = pullback (vector [ 1.0; 1.0 ])
    assertSame "w" (vector [ 3.0; 3.0 ]) g["w"]
    assertSame "b" (scalar 3.0) g["b"]

let ``diff nests without perturbation confusion`` () =
    Assert.That(grad (fun x -> x * diff (fun y -> x + y) x) 5.0, Is.EqualTo 1.0)
    Assert.That(grad (diff exp) 3.0, Is.EqualTo(exp 3.0).Within(1e-12))

let ``stopGradient is a node: it passes the value and blocks the derivative`` () =
    let y, g = valueAndGrad (fun x -> x * stopGradient x) 3.0
    Assert.That((y, g), Is.EqualTo((9.0, 3.0)))

// ------------------------------------------------------------------ operators and functions

let ``F# core functions and operators build the core's ops`` () =
    let x = var "x" (scalar 0.5)

    let opName (e: Expr) =
        match e.Op with
        | null -> ""
        | op -> op.Name

    let names =
        [
            exp x
            log x
            sin x
            cos x
            tanh x
            sqrt x
            abs x
            x ** 2.0
            -x
            x + x
            x - x
            x * x
            x / x
            2.0 * x
            x + 1.0
        ]
        |> List.map opName

    Assert.That(
        names,
        Is.EqualTo
            [
                "exp"
                "log"
                "sin"
                "cos"
                "tanh"
                "sqrt"
                "abs"
                "pow"
                "neg"
                "add"
                "sub"
                "mul"
                "div"
                "mul"
                "add"
            ]
    )

let ``the matrix-product operator binds like times`` () =
    let w = constant (matrix [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ])
    let x = constant (vector [ 1.0; 1.0 ])
    let b = constant (vector [ 10.0; 20.0 ])
    assertSame "w *@ x + b" (vector [ 13.0; 27.0 ]) (eval (w *@ x + b))
    assertSame "matmul" (eval (matmul w x)) (eval (w *@ x))

let ``the linear-algebra functions build the core's ops and give the documented values`` () =
    let a = constant (matrix [ [ 4.0; 7.0 ]; [ 2.0; 6.0 ] ])
    let s = constant (matrix [ [ 4.0; 2.0 ]; [ 2.0; 5.0 ] ])
    let close (what: string) (expected: Value) (actual: Value) =
        Assert.That(actual.IsCloseTo(expected, 1e-15), Is.True, $"{what}: {actual}, expected {expected}")

    close "inverse" (matrix [ [ 0.6; -0.7 ]; [ -0.2; 0.4 ] ]) (eval (inverse a))
    assertSame "solve" (vector [ 1.0; 0.5 ]) (eval (solve (constant (matrix [ [ 2.0; 0.0 ]; [ 0.0; 4.0 ] ])) (constant (vector [ 2.0; 2.0 ]))))
    close "det" (scalar 10.0) (eval (det a))
    close "logdet" (scalar (log 3.0)) (eval (logdet (constant (matrix [ [ 2.0; 1.0 ]; [ 1.0; 2.0 ] ]))))
    assertSame "cholesky" (matrix [ [ 2.0; 0.0 ]; [ 1.0; 2.0 ] ]) (eval (cholesky s))
    assertSame "trace" (scalar 10.0) (eval (trace a))
    assertSame "diag of a matrix" (vector [ 4.0; 6.0 ]) (eval (diag a))
    assertSame "diag of a vector" (matrix [ [ 4.0; 0.0 ]; [ 0.0; 6.0 ] ]) (eval (diag (diagonal a)))
    assertSame "matrixPower 2" (eval (a *@ a)) (eval (matrixPower 2 a))

    let names =
        [ inverse a; solve a a; det a; logdet s; cholesky s; trace a; diag a; diag (diagonal a) ]
        |> List.map (fun e ->
            match e.Op with
            | null -> ""
            | op -> op.Name)

    Assert.That(names, Is.EqualTo [ "inverse"; "solve"; "det"; "logdet"; "cholesky"; "trace"; "diagonal"; "diag" ])

let ``matrix takes rows`` () =
    let m = matrix [ [ 1.0; 2.0; 3.0 ]; [ 4.0; 5.0; 6.0 ] ]
    Assert.That(m.Shape, Is.EqualTo(Shape.Matrix(2, 3)))
    Assert.That(m.ToMatrix().ToRowArrays(), Is.EqualTo [| [| 1.0; 2.0; 3.0 |]; [| 4.0; 5.0; 6.0 |] |])

let ``evalWith binds variables to new values`` () =
    let x = var "x" (scalar 1.0)
    let y = var "y" (scalar 2.0)
    let e = x * y + 1.0
    assertSame "bound" (scalar 3.0) (eval e)
    assertSame "rebound" (scalar 13.0) (evalWith [ x, scalar 3.0; y, scalar 4.0 ] e)

// ------------------------------------------------------------------ errors

let ``ragged or empty matrices are refused with the row at fault`` () =
    let e =
        throws<ArgumentException>(fun () -> matrix [ [ 1.0; 2.0 ]; [ 3.0 ] ] |> ignore)

    Assert.That(e.Message, Does.Contain("row 1 has 1 elements but row 0 has 2"))

    throws<ArgumentException>(fun () -> matrix ([]: float list list) |> ignore)
    |> ignore

let ``a missing parameter name lists the names there are`` () =
    let p = parameters [ "w", scalar 1.0 ]
    let e = throws<KeyNotFoundException>(fun () -> grad (fun p -> p?v) p |> ignore)
    Assert.That(e.Message, Does.Contain("No parameter named 'v'"))
    Assert.That(e.Message, Does.Contain("w"))

let ``grad of a vector output says to use vjp`` () =
    let e =
        throws<NonScalarOutputException>(fun () -> grad (fun x -> 2.0 * x) (vector [ 1.0; 2.0 ]) |> ignore)

    Assert.That(e.Message, Does.Contain("Vjp"))

let ``evalWith refuses a binding that is not a variable`` () =
    let x = var "x" (scalar 1.0)

    let e =
        throws<ArgumentException>(fun () -> evalWith [ x + 1.0, scalar 2.0 ] x |> ignore)

    Assert.That(e.Message, Does.Contain("binds variables"))

// ------------------------------------------------------------------ drawings

let ``Draw renders the core's DOT and Mermaid, with gradients from Draw.circuit`` () =
    let x, y, z = var "x" (scalar 3.0), var "y" (scalar -4.0), var "z" (scalar 19.0)
    let f = (x + 2.0 * y) * z
    let options = Draw.circuit f
    let dot = Draw.dot options [ "f", f ]
    Assert.That(dot, Is.EqualTo(Export.Dot.Render([| struct ("f", f) |], options)))

    for text in [ "digraph"; "rankdir=LR"; "-95"; "grad 19"; "grad 38"; "grad -5" ] do
        Assert.That(dot, Does.Contain text)

    let mermaid = Draw.mermaid Draw.defaults [ "f", f ]
    Assert.That(mermaid, Does.Contain "flowchart LR")
    Assert.That(mermaid, Does.Not.Contain "grad")

let ``parameters refuses a name given twice`` () =
    let e =
        throws<ArgumentException> (fun () -> parameters [ "w", scalar 1.0; "w", scalar 2.0 ] |> ignore)

    Assert.That(e.Message, Does.Contain "'w' is given twice")

let ``simplify is the core's Graph.Simplify, and the drawings take Simplify through DrawOptions`` () =
    let x = var "x" (scalar 3.0)
    let g = AD.Gradients(x * x, x).[0]
    let s = simplify g
    Assert.That(string s, Is.EqualTo "x + x : scalar = 6")
    Assert.That(string g, Is.EqualTo "(1 * x) + (1 * x) : scalar = 6")
    Assert.That(obj.ReferenceEquals(simplify s, s), "a simplified graph simplifies to itself")
    let options = Export.DrawOptions(Simplify = true)
    Assert.That(Draw.dot options [ "g", g ], Is.EqualTo(Draw.dot Draw.defaults [ "g", s ]))
    Assert.That(Draw.mermaid options [ "g", g ], Is.EqualTo(Draw.mermaid Draw.defaults [ "g", s ]))
    Assert.That(Draw.dot (Draw.circuit s) [ "g", s ], Does.Contain "grad 2")

let ``the shape functions are the core's builders, data last`` () =
    let v = constant (vector [ 10.0; 20.0; 30.0; 40.0; 50.0; 60.0 ])
    let m = v |> reshape (Shape.Matrix(2, 3))
    Assert.That((eval m).ToMatrix().ToRowArrays(), Is.EqualTo [| [| 10.0; 20.0; 30.0 |]; [| 40.0; 50.0; 60.0 |] |])
    Assert.That((eval (flatten m)).ToArray(), Is.EqualTo((eval v).ToArray()))
    Assert.That((eval (v |> slice 1 3)).ToArray(), Is.EqualTo [| 20.0; 30.0 |])
    Assert.That((m |> sliceAxis 1 2 3 |> eval).ToArray(), Is.EqualTo [| 30.0; 60.0 |])
    Assert.That((eval (v |> gather [ 5; 0; 5 ])).ToArray(), Is.EqualTo [| 60.0; 10.0; 60.0 |])
    Assert.That((eval (row 1 m)).ToArray(), Is.EqualTo [| 40.0; 50.0; 60.0 |])
    Assert.That((eval (column 0 m)).ToArray(), Is.EqualTo [| 10.0; 40.0 |])
    Assert.That((concat 1 [ m; m ]).Shape, Is.EqualTo(Shape.Matrix(2, 6)))
    Assert.That((stack 1 [ row 0 m; row 1 m ]).Shape, Is.EqualTo(Shape.Matrix(3, 2)))
    let g: Value = grad (fun x -> sum (gather [ 0; 0; 1 ] x)) (vector [ 1.0; 2.0; 3.0 ])
    Assert.That(g.ToArray(), Is.EqualTo [| 2.0; 1.0; 0.0 |])

let ``the reductions along an axis are the core's builders, data last`` () =
    let m = constant (matrix [ [ 1.0; 3.0; 3.0 ]; [ 4.0; 0.0; -1.0 ] ])
    Assert.That((eval (sumAxis 0 m)).ToArray(), Is.EqualTo [| 5.0; 3.0; 2.0 |])
    Assert.That((eval (meanAxis 1 m)).ToArray(), Is.EqualTo [| 7.0 / 3.0; 1.0 |])
    Assert.That((eval (amaxAxis 1 m)).ToArray(), Is.EqualTo [| 3.0; 4.0 |])
    Assert.That((eval (aminAxis 0 m)).ToArray(), Is.EqualTo [| 1.0; 0.0; -1.0 |])
    Assert.That((eval (amax m)).ToScalar(), Is.EqualTo 4.0)
    Assert.That((eval (amin m)).ToScalar(), Is.EqualTo -1.0)
    Assert.That((eval (prod m)).ToScalar(), Is.EqualTo 0.0)
    Assert.That((eval (logSumExpAxis 0 m)).ToArray(), Is.EqualTo((Expr.LogSumExp(m, 0)).Value.ToArray()))
    Assert.That((eval (logSumExp m)).ToScalar(), Is.EqualTo((Expr.LogSumExp m).Value.ToScalar()))
    Assert.That((eval (softmaxAxis 0 m)).ToArray(), Is.EqualTo((Expr.Softmax(m, 0)).Value.ToArray()))
    Assert.That((eval (logSoftmaxAxis 1 m)).ToArray(), Is.EqualTo((eval (logSoftmax m)).ToArray()))
    // Ties split the gradient evenly (torch.amax); prod's gradient at one zero is the product of the others there.
    let g: Value = grad (fun x -> amax x) (vector [ 1.0; 3.0; 3.0 ])
    Assert.That(g.ToArray(), Is.EqualTo [| 0.0; 0.5; 0.5 |])
    let g: Value = grad (fun x -> prod x) (vector [ 2.0; 0.0; 3.0 ])
    Assert.That(g.ToArray(), Is.EqualTo [| 0.0; 6.0; 0.0 |])

let ``the selection and element-wise functions are the core's builders, data last; ** takes a graph exponent`` () =
    let x = constant (vector [ -2.0; 0.5; 3.0 ])
    let zero = constant (scalar 0.0)
    Assert.That((eval (greater x zero)).ToArray(), Is.EqualTo [| 0.0; 1.0; 1.0 |])
    Assert.That((eval (lessEqual x zero)).ToArray(), Is.EqualTo [| 1.0; 0.0; 0.0 |])
    Assert.That((eval (equal x x)).ToArray(), Is.EqualTo [| 1.0; 1.0; 1.0 |])
    Assert.That((eval (where (greater x zero) x (0.1 * x))).ToArray(), Is.EqualTo((eval (Expr.Where(Expr.Greater(x, zero), x, 0.1 * x))).ToArray()))
    Assert.That((eval (x |> clamp -1.0 1.0)).ToArray(), Is.EqualTo [| -1.0; 0.5; 1.0 |])
    Assert.That((eval (maximum x zero)).ToArray(), Is.EqualTo [| 0.0; 0.5; 3.0 |])
    Assert.That((eval (minimum x zero)).ToArray(), Is.EqualTo [| -2.0; 0.0; 0.0 |])
    Assert.That((eval (signum x)).ToArray(), Is.EqualTo [| -1.0; 1.0; 1.0 |])
    Assert.That((eval (reciprocal x)).ToArray(), Is.EqualTo [| -0.5; 2.0; 1.0 / 3.0 |])

    for f, g in [ log1p, Expr.Log1p; expm1, Expr.Expm1; erf, Expr.Erf; gelu, Expr.Gelu ] do
        Assert.That((eval (f (abs x))).ToArray(), Is.EqualTo((eval (g (abs x))).ToArray()))

    let y = constant (vector [ 2.0; 3.0; 1.0 ])
    Assert.That((eval (abs x ** y)).ToArray(), Is.EqualTo [| 4.0; 0.125; 3.0 |])
    Assert.That((eval (x ** 2.0)).ToArray(), Is.EqualTo [| 4.0; 0.25; 9.0 |])
    let g: Value = grad (fun (b: Expr) -> sum (constant (vector [ 2.0; 2.0 ]) ** b)) (vector [ 1.0; 3.0 ])
    Assert.That(g.ToArray(), Is.EqualTo [| 2.0 * log 2.0; 8.0 * log 2.0 |])

let ``softmaxCrossEntropy is the core's, classes as an F# list`` () =
    let logits = constant (matrix [ [ 1.0; 2.0; 0.5 ]; [ -1.0; 0.0; 3.0 ] ])
    let expected = (Expr.SoftmaxCrossEntropy(logits, [| 1; 2 |])).Value.ToScalar()
    Assert.That((eval (softmaxCrossEntropy logits [ 1; 2 ])).ToScalar(), Is.EqualTo expected)
    let g: Value = grad (fun z -> softmaxCrossEntropy z [ 1; 2 ]) (matrix [ [ 1.0; 2.0; 0.5 ]; [ -1.0; 0.0; 3.0 ] ])
    Assert.That(g.Shape, Is.EqualTo(Shape.Matrix(2, 3)))

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "ApiTests" [
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "valueAndGrad of one input equals the core's" ``valueAndGrad of one input equals the core's``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "grad of a pair equals the core's two-input grad" ``grad of a pair equals the core's two-input grad``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "grad of a triple equals the core's three-input grad and the Params grad" ``grad of a triple equals the core's three-input grad and the Params grad``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "vjp, jvp, jacobian, hessian and hvp equal the core's" ``vjp, jvp, jacobian, hessian and hvp equal the core's``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "compiledValueAndGrad and compiledGrad give valueAndGrad's bits, on one input and on a pair" ``compiledValueAndGrad and compiledGrad give valueAndGrad's bits, on one input and on a pair``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbs> ] } "compiledHessian, compiledHessianBlocks and compiledHvp give hessian's and hvp's bits, on one input and on a pair" ``compiledHessian, compiledHessianBlocks and compiledHvp give hessian's and hvp's bits, on one input and on a pair``
        testCase "compiledGrad refuses a branch on an input's value and accepts where" ``compiledGrad refuses a branch on an input's value and accepts where``
        testCase "a tuple of mixed forms comes back in the same forms" ``a tuple of mixed forms comes back in the same forms``
        testCase "seed 003: f = (x + 2y)z at (3, -4, 19) by a triple" ``seed 003: f = (x + 2y)z at (3, -4, 19) by a triple``
        testCase "seed 000: grad of z = 3·xᵀ(w + 2)² is 9s at w = 1, and accumulates by addition" ``seed 000: grad of z = 3·xᵀ(w + 2)² is 9s at w = 1, and accumulates by addition``
        testCase "MathNet vectors and matrices come back as MathNet vectors and matrices" ``MathNet vectors and matrices come back as MathNet vectors and matrices``
        testCase "vjp over Params maps the cotangent to a Params" ``vjp over Params maps the cotangent to a Params``
        testCase "diff nests without perturbation confusion" ``diff nests without perturbation confusion``
        testCase "stopGradient is a node: it passes the value and blocks the derivative" ``stopGradient is a node: it passes the value and blocks the derivative``
        testCase "F# core functions and operators build the core's ops" ``F# core functions and operators build the core's ops``
        testCase "the matrix-product operator binds like times" ``the matrix-product operator binds like times``
        testCase "the linear-algebra functions build the core's ops and give the documented values" ``the linear-algebra functions build the core's ops and give the documented values``
        testCase "matrix takes rows" ``matrix takes rows``
        testCase "evalWith binds variables to new values" ``evalWith binds variables to new values``
        testCase "ragged or empty matrices are refused with the row at fault" ``ragged or empty matrices are refused with the row at fault``
        testCase "a missing parameter name lists the names there are" ``a missing parameter name lists the names there are``
        testCase "grad of a vector output says to use vjp" ``grad of a vector output says to use vjp``
        testCase "evalWith refuses a binding that is not a variable" ``evalWith refuses a binding that is not a variable``
        testCase "Draw renders the core's DOT and Mermaid, with gradients from Draw.circuit" ``Draw renders the core's DOT and Mermaid, with gradients from Draw.circuit``
        testCase "parameters refuses a name given twice" ``parameters refuses a name given twice``
        testCase "simplify is the core's Graph.Simplify, and the drawings take Simplify through DrawOptions" ``simplify is the core's Graph.Simplify, and the drawings take Simplify through DrawOptions``
        testCase "the shape functions are the core's builders, data last" ``the shape functions are the core's builders, data last``
        testCase "the reductions along an axis are the core's builders, data last" ``the reductions along an axis are the core's builders, data last``
        testCase "the selection and element-wise functions are the core's builders, data last; ** takes a graph exponent" ``the selection and element-wise functions are the core's builders, data last; ** takes a graph exponent``
        testCase "softmaxCrossEntropy is the core's, classes as an F# list" ``softmaxCrossEntropy is the core's, classes as an F# list``
    ]
