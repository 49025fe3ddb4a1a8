/// The F# combinators on structured inputs (tuples, lists, arrays, Maps, Params, records): unannotated lambdas,
/// the same numbers as the core's structured combinators bit for bit, chosen inputs, blocks by path, anomalies by path.
module Functional.Autodiff.FSharp.Tests.StructuredTests

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.FSharp
open Functional.Autodiff.FSharp.Tests.Programs

type Layer<'T> = { W: 'T; B: 'T }

/// Two structures of the same form with bit-identical leaves.
let private sameTree (what: string) (expected: 'X) (actual: 'X) =
    let struct (le, de) = Tree.Flatten expected
    let struct (la, da) = Tree.Flatten actual
    Assert.That(da, Is.EqualTo de, $"{what}: form")
    Seq.iteri2 (fun k e a -> assertSame $"{what}: leaf {de.Paths[k]}" e a) le la

let private sameMatrix (what: string) (expected: MathNet.Numerics.LinearAlgebra.Matrix<float>) (actual: MathNet.Numerics.LinearAlgebra.Matrix<float>) =
    assertSame what (Value.FromMatrix expected) (Value.FromMatrix actual)

let private sameBlocks (what: string) (expected: Blocks) (actual: Blocks) =
    Assert.That(actual.RowPaths, Is.EqualTo expected.RowPaths, $"{what}: rows")
    Assert.That(actual.ColumnPaths, Is.EqualTo expected.ColumnPaths, $"{what}: columns")
    sameMatrix what (expected.ToMatrix()) (actual.ToMatrix())

/// valueAndGrad and grad against the core's AD.ValueAndGrad<'X, 'E>.
let private againstCore (f: 'E -> Expr) (x: 'X) (y: float, g: 'X) (g2: 'X) =
    let struct (cy, cg) = AD.ValueAndGrad<'X, 'E>(Func<'E, Expr> f).Invoke(x)
    assertSame "value" cy (scalar y)
    sameTree "gradient" cg g
    sameTree "grad" cg g2

let private v (xs: float list) = vector xs

let ``an unannotated lambda over a 4-tuple of mixed leaves equals the core's`` () =
    let f (a: Expr, b: Expr, c: Expr, d: Expr) = a * sin b + sum (c * c) * d
    let x = 1.5, scalar 0.3, v [ 1.0; -2.0 ], 0.25
    againstCore f x (valueAndGrad (fun (a, b, c, d) -> a * sin b + sum (c * c) * d) x) (grad (fun (a, b, c, d) -> a * sin b + sum (c * c) * d) x)
    let _, (ga, _, _, gd) = valueAndGrad (fun (a, b, c, d) -> a * sin b + sum (c * c) * d) x
    Assert.That((ga, gd), Is.EqualTo((sin 0.3, 5.0)), "the gradient keeps the leaf forms (floats)")

let ``an unannotated lambda over a 7-tuple equals the core's`` () =
    let x = 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0
    let f (a: Expr, b: Expr, c: Expr, d: Expr, e: Expr, g: Expr, h: Expr) = a * b + c * sin d + e * g * h
    againstCore f x (valueAndGrad (fun (a, b, c, d, e, g, h) -> a * b + c * sin d + e * g * h) x) (grad (fun (a, b, c, d, e, g, h) -> a * b + c * sin d + e * g * h) x)
    let (ga, gb, _, _, ge, gg, gh) = grad (fun (a, b, c, d, e, g, h) -> a * b + c * sin d + e * g * h) x
    Assert.That([ ga; gb; ge; gg; gh ], Is.EqualTo [ 2.0; 1.0; 42.0; 35.0; 30.0 ])

let ``an unannotated lambda over a nested tuple with a list equals the core's`` () =
    let x = (scalar 2.0, [ 1.0; 2.0; 3.0 ]), v [ 0.5; 0.25 ]
    let f ((a: Expr, bs: Expr list), c: Expr) = a * List.reduce (+) (List.map sin bs) + sum (c * c) * a
    let y, g = valueAndGrad (fun ((a, bs), c) -> a * List.reduce (+) (List.map sin bs) + sum (c * c) * a) x
    againstCore f x (y, g) (grad (fun ((a, bs), c) -> a * List.reduce (+) (List.map sin bs) + sum (c * c) * a) x)
    let (_, gbs), _ = g
    Assert.That(gbs, Is.EqualTo [ 2.0 * cos 1.0; 2.0 * cos 2.0; 2.0 * cos 3.0 ])

let ``an unannotated lambda over an array and over a Map equals the core's`` () =
    let xs = [| v [ 1.0; 2.0 ]; v [ -1.0; 0.5 ]; v [ 3.0; 0.0 ] |]
    let f (es: Expr[]) = es |> Array.mapi (fun k e -> float (k + 1) * sum (sin e * e)) |> Array.reduce (+)
    againstCore f xs (valueAndGrad (fun es -> es |> Array.mapi (fun k e -> float (k + 1) * sum (sin e * e)) |> Array.reduce (+)) xs) (grad f xs)

    let m = Map [ "w", v [ 1.0; 2.0 ]; "b", scalar 0.5; "a", scalar -1.0 ]
    let fm (m: Map<string, Expr>) = sum (m["w"] * m["w"]) * m["b"] + exp m["a"]
    // Indexing needs the argument's type first: pipe the input in.
    let y, g = m |> valueAndGrad (fun m -> sum (m["w"] * m["w"]) * m["b"] + exp m["a"])
    againstCore fm m (y, g) (grad fm m)
    Assert.That(g.Keys, Is.EqualTo [ "a"; "b"; "w" ])
    assertSame "∂/∂b" (scalar 5.0) g["b"]

let ``Params in a tuple and an annotated record equal the core's`` () =
    let x = parameters [ "w", v [ 1.0; -1.0 ]; "b", scalar 0.5 ], v [ 2.0; 3.0 ]
    let f (p: ParamVars, input: Expr) = sin (dot p?w input + p?b)
    let y, g = valueAndGrad (fun (p, input) -> sin (dot p?w input + p?b)) x
    againstCore f x (y, g) (grad f x)
    let gp, _ = g
    assertSame "∂/∂b" (scalar (cos -0.5)) gp["b"]

    let layer = { W = v [ 1.0; 2.0 ]; B = scalar 0.5 }
    let fl (l: Layer<Expr>) = sum (tanh (l.W * l.B))
    let y, g = valueAndGrad (fun (l: Layer<Expr>) -> sum (tanh (l.W * l.B))) layer
    againstCore fl layer (y, g) (grad fl layer)

let ``gradWrt with argnums and with names: the core's Wrt, zeros elsewhere`` () =
    let x = 1.0, v [ 2.0; 3.0 ], 4.0
    let f (a: Expr, b: Expr, c: Expr) = a * sum b * c
    let g = gradWrt (argnums [ 0; 2 ]) (fun (a, b, c) -> a * sum b * c) x
    sameTree "argnums" (AD.Grad<float * Value * float, Expr * Expr * Expr>(Func<_, _> f, Wrt.Args(0, 2)).Invoke(x)) g
    let ga, gb, gc = g
    Assert.That((ga, gc), Is.EqualTo((20.0, 5.0)))
    assertSame "not chosen" (v [ 0.0; 0.0 ]) gb

    let m = Map [ "w", v [ 1.0; 2.0 ]; "b", scalar 0.5 ]
    let fm (m: Map<string, Expr>) = sum (m["w"] * m["w"]) * m["b"]
    let gm = gradWrt (names [ "w" ]) fm m
    sameTree "names on a Map" (AD.Grad<Map<string, Value>, Map<string, Expr>>(Func<_, _> fm, Wrt.Names "w").Invoke(m)) gm
    assertSame "b not chosen" (scalar 0.0) gm["b"]

    let p = parameters [ "w", v [ 1.0; 2.0 ]; "b", scalar 0.5 ]
    let y, gp = valueAndGradWrt (names [ "b" ]) (fun p -> sum (p?w * p?w) * p?b) p
    Assert.That(y, Is.EqualTo 2.5)
    assertSame "w not chosen" (v [ 0.0; 0.0 ]) gp["w"]
    assertSame "b" (scalar 5.0) gp["b"]

    let layer = { W = v [ 1.0; 2.0 ]; B = scalar 0.5 }
    let gl = gradWrt (names [ "W" ]) (fun (l: Layer<Expr>) -> sum (l.W * l.W) * l.B) layer
    assertSame "W" (v [ 1.0; 2.0 ]) gl.W
    assertSame "B not chosen" (scalar 0.0) gl.B

let ``jacobianBlocks of a tuple output and hessianBlocks by path equal the core's`` () =
    let x = v [ 1.0; 2.0 ], scalar 0.5
    let f (a: Expr, b: Expr) = a * b, sin (sum a)
    let j = jacobianBlocks (fun (a, b) -> a * b, sin (sum a)) x
    sameBlocks "jacobian" (AD.Jacobian<Value * Value, Expr * Expr, Expr * Expr>(Func<_, _> f).Invoke(x)) j
    Assert.That(List.ofSeq j.RowPaths, Is.EqualTo [ "[0]"; "[1]" ])
    Assert.That(List.ofSeq j.ColumnPaths, Is.EqualTo [ "[0]"; "[1]" ])
    sameMatrix "∂(a·b)/∂b" (MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0 ]; [ 2.0 ] ])) j["[0]", "[1]"]
    sameMatrix "jacobian as one matrix" (j.ToMatrix()) ((jacobian (fun (a, b) -> a * b, sin (sum a)) x).ToMatrix())

    let m = Map [ "a", v [ 1.0; 2.0 ]; "b", scalar 3.0 ]
    let fm (m: Map<string, Expr>) = sum (m["a"] * m["a"]) * m["b"]
    let h = hessianBlocks fm m
    sameBlocks "hessian" (AD.Hessian<Map<string, Value>, Map<string, Expr>>(Func<_, _> fm).Invoke(m)) h
    sameMatrix "∂²/∂a∂b" (MathNet.Numerics.LinearAlgebra.Matrix<float>.Build.DenseOfArray(array2D [ [ 2.0 ]; [ 4.0 ] ])) h["[\"a\"]", "[\"b\"]"]
    let hb = hessianBlocksWrt (names [ "b" ]) fm m
    Assert.That(List.ofSeq hb.ColumnPaths, Is.EqualTo [ "[\"b\"]" ])
    sameMatrix "hessian as one matrix" (h.ToMatrix()) ((hessian fm m).ToMatrix())

let ``valueAndGradAux, vjp, jvp and hvp on structures equal the core's`` () =
    let x = v [ 1.0; 2.0 ], [ 0.5; -0.5 ]
    let loss (w: Expr, bs: Expr list) = sum (sin w * w) * (bs[0] + bs[1] * bs[1])

    let y, g, aux = x |> valueAndGradAux (fun (w, bs) -> loss (w, bs), 2.0 * w)
    let struct (cy, cg, caux) = AD.ValueAndGradWithAux<Value * float list, Expr * Expr list, Expr>(Func<_, _>(fun e -> struct (loss e, 2.0 * fst e))).Invoke(x)
    assertSame "aux loss" cy (scalar y)
    sameTree "aux gradient" cg g
    assertSame "aux" caux.Value aux.Value

    let out (w: Expr, bs: Expr list) = w * bs[0] + sin w * bs[1]
    let y, pullback = x |> vjp (fun (w, bs) -> w * bs[0] + sin w * bs[1])
    let struct (cy, cpullback) = AD.Vjp<Value * float list, Expr * Expr list>(Func<_, _> out).Invoke(x)
    assertSame "vjp value" cy y
    sameTree "pullback" (cpullback.Invoke(v [ 1.0; -2.0 ])) (pullback (v [ 1.0; -2.0 ]))

    let t = v [ 0.3; -0.7 ], [ 1.0; 0.25 ]
    let y, tangent = (x, t) ||> jvp (fun (w, bs) -> w * bs[0] + sin w * bs[1])
    let struct (cy, ct) = AD.Jvp<Value * float list, Expr * Expr list>(Func<_, _> out).Invoke(x, t)
    assertSame "jvp value" cy y
    assertSame "jvp tangent" ct tangent

    let hv = hvp loss x t
    sameTree "hvp" (AD.Hvp<Value * float list, Expr * Expr list>(Func<_, _> loss).Invoke(x, t)) hv
    let _, ty = (x, t) ||> jvpWrt (argnums [ 1 ]) (fun (w, bs) -> w * bs[0] + sin w * bs[1])
    let struct (_, cty) = AD.Jvp<Value * float list, Expr * Expr list>(Func<_, _> out, Wrt.Args 1).Invoke(x, t)
    assertSame "jvpWrt" cty ty

let ``checkAnomalies on a tuple names the input by its path`` () =
    let report = checkAnomalies (fun (a, bs) -> a * List.reduce (+) bs) (1.0, [ 2.0; nan ])
    Assert.That(report.IsFinite, Is.False)
    Assert.That(string report, Does.StartWith "input [1][1] is NaN")
    let f (a: Expr, bs: Expr list) = a * List.reduce (+) bs
    let core = Anomaly.Check<float * float list, Expr * Expr list>(Func<_, _> f, (1.0, [ 2.0; nan ]))
    Assert.That(string (checkAnomalies f (1.0, [ 2.0; nan ])), Is.EqualTo(string core))

    // A Params inside a tuple: its variables are named by their paths.
    let report = checkAnomalies (fun (p, x) -> log (p?w * x)) (parameters [ "w", scalar -1.0 ], scalar 2.0)
    Assert.That(string report, Does.Contain "log at StructuredTests.fs:")

open Expecto

[<Tests>]
let tests =
    testList "StructuredTests" [
        testCase "an unannotated lambda over a 4-tuple of mixed leaves equals the core's" ``an unannotated lambda over a 4-tuple of mixed leaves equals the core's``
        testCase "an unannotated lambda over a 7-tuple equals the core's" ``an unannotated lambda over a 7-tuple equals the core's``
        testCase "an unannotated lambda over a nested tuple with a list equals the core's" ``an unannotated lambda over a nested tuple with a list equals the core's``
        testCase "an unannotated lambda over an array and over a Map equals the core's" ``an unannotated lambda over an array and over a Map equals the core's``
        testCase "Params in a tuple and an annotated record equal the core's" ``Params in a tuple and an annotated record equal the core's``
        testCase "gradWrt with argnums and with names: the core's Wrt, zeros elsewhere" ``gradWrt with argnums and with names: the core's Wrt, zeros elsewhere``
        testCase "jacobianBlocks of a tuple output and hessianBlocks by path equal the core's" ``jacobianBlocks of a tuple output and hessianBlocks by path equal the core's``
        testCase "valueAndGradAux, vjp, jvp and hvp on structures equal the core's" ``valueAndGradAux, vjp, jvp and hvp on structures equal the core's``
        testCase "checkAnomalies on a tuple names the input by its path" ``checkAnomalies on a tuple names the input by its path``
    ]
