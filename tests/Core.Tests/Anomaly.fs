/// The anomaly check (Anomaly.Check, Anomaly.CheckJvp): which node it names, the line of this file it names, what it
/// says when it cannot name a line, and that it works through a million-node chain.
module Functional.Autodiff.Tests.AnomalyCheck

open System
open System.IO
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff

let private notNull (what: string) (x: 'T | null) : 'T =
    match x with
    | null -> failwith $"{what} is null"
    | x -> x

let private valueAnomaly (r: AnomalyReport) = notNull $"the value anomaly of '{r}'" r.ValueAnomaly
let private derivativeAnomaly (r: AnomalyReport) = notNull $"the derivative anomaly of '{r}'" r.DerivativeAnomaly

/// The site is this file at the given line.
let private assertHere (line: int) (a: NodeAnomaly) =
    let site = notNull $"the site of '{a}'" a.Site
    Assert.That(Path.GetFileName site.File, Is.EqualTo "Anomaly.fs", string a)
    Assert.That(site.Line, Is.EqualTo line, string a)
    Assert.That(a.SiteNote, Is.Null)

let private nil<'T when 'T: not struct> = Unchecked.defaultof<'T>

let private vec (xs: float list) = Value.FromArray(Array.ofList xs)

let ``sqrt + log at 0: the value anomaly is log, the gradient anomaly is sqrt, both at this line`` () =
    let report, line = Anomaly.Check((fun (x: Expr) -> sqrt x + log x), Value.Scalar 0.0), int __LINE__
    Assert.That(report.HasAnomaly && not report.IsFinite)
    let v = valueAnomaly report
    Assert.That((v.Kind, v.Op, v.Shape), Is.EqualTo((AnomalyKind.Value, "log", Shape.Scalar)))
    Assert.That(v.NonFinite, Is.EqualTo Double.NegativeInfinity)
    Assert.That(List.ofSeq v.InputShapes, Is.EqualTo [ Shape.Scalar ])
    Assert.That(List.ofSeq v.InputValues, Is.EqualTo [ Value.Scalar 0.0 ])
    Assert.That(v.Input.HasValue, Is.False)
    assertHere line v
    let g = derivativeAnomaly report
    Assert.That((g.Kind, g.Op, g.Input), Is.EqualTo((AnomalyKind.Cotangent, "sqrt", Nullable 0)))
    Assert.That(g.NonFinite, Is.EqualTo Double.PositiveInfinity)
    Assert.That(List.ofSeq g.Incoming, Is.EqualTo [ Value.Scalar 1.0 ])
    assertHere line g
    Assert.That(string (notNull "the member" g.Site).Member, Does.Contain "log at 0: the value anomaly")

    Assert.That(
        string report,
        Is.EqualTo(
            $"log at Anomaly.fs:{line} produced -Infinity from input 0\n"
            + $"sqrt's gradient rule at Anomaly.fs:{line} produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)"
        )
    )

    // What the issue saw: ValueAndGrad says nothing, it just returns the numbers.
    let struct (y, dy) = AD.ValueAndGrad(Func<Expr, Expr>(fun x -> sqrt x + log x)).Invoke(Value.Scalar 0.0)
    Assert.That((y.ToScalar(), dy.ToScalar()), Is.EqualTo((Double.NegativeInfinity, Double.PositiveInfinity)))

let ``log at -1 is a NaN value with a finite gradient; x log x at -1 has a NaN gradient from mul's rule`` () =
    let report, line = Anomaly.Check((fun (x: Expr) -> log x), Value.Scalar -1.0), int __LINE__
    Assert.That(string report, Is.EqualTo $"log at Anomaly.fs:{line} produced NaN from input -1")
    Assert.That(report.DerivativeAnomaly, Is.Null, "d/dx log x = 1/x is -1 at -1")

    let report, line = Anomaly.Check((fun (x: Expr) -> x * log x), Value.Scalar -1.0), int __LINE__
    let struct (_, dy) = AD.ValueAndGrad(Func<Expr, Expr>(fun x -> x * log x)).Invoke(Value.Scalar -1.0)
    Assert.That(Double.IsNaN(dy.ToScalar()))
    assertHere line (valueAnomaly report)
    let g = derivativeAnomaly report
    Assert.That((g.Op, g.Input, Double.IsNaN g.NonFinite), Is.EqualTo(("mul", Nullable 0, true)))
    assertHere line g
    Assert.That(string g, Is.EqualTo $"mul's gradient rule at Anomaly.fs:{line} produced NaN for input 0 from a finite cotangent 1 (inputs -1, NaN, output NaN)")

let ``forward mode: sqrt's tangent rule at 0 is the tangent anomaly`` () =
    let report, line =
        Anomaly.CheckJvp((fun (x: Expr) -> sqrt x + log x), Value.Scalar 0.0, Value.Scalar 1.0), int __LINE__

    Assert.That(report.DerivativeKind, Is.EqualTo AnomalyKind.Tangent)
    Assert.That((valueAnomaly report).Op, Is.EqualTo "log")
    let t = derivativeAnomaly report
    Assert.That((t.Kind, t.Op, t.NonFinite), Is.EqualTo((AnomalyKind.Tangent, "sqrt", Double.PositiveInfinity)))
    Assert.That(List.ofSeq t.Incoming, Is.EqualTo [ Value.Scalar 1.0 ])
    assertHere line t
    Assert.That(string t, Is.EqualTo $"sqrt's tangent rule at Anomaly.fs:{line} produced Infinity from a finite tangent 1 (input 0, output 0)")

let ``Params: every value finite, the gradient anomaly is sqrt at element 1 of w`` () =
    let p = Params.Of(struct ("w", vec [ 1.0; 0.0 ]), struct ("b", Value.Scalar 2.0))
    let report, line = Anomaly.Check((fun (p: ParamVars) -> Expr.Sum(sqrt p["w"] * p["b"])), p), int __LINE__
    Assert.That(report.ValueAnomaly, Is.Null)
    let g = derivativeAnomaly report
    Assert.That((g.Op, g.Shape, g.Element), Is.EqualTo(("sqrt", Shape.Vector 2, 1)))
    Assert.That(List.ofSeq g.InputShapes, Is.EqualTo [ Shape.Vector 2 ])
    assertHere line g

    Assert.That(
        string report,
        Is.EqualTo $"sqrt's gradient rule at Anomaly.fs:{line} produced Infinity at element 1 of vector(2) for input 0 from a finite cotangent [2, 2] (input [1, 0], output [1, 0])"
    )

let ``a function finite everywhere gives a clean report, in both modes`` () =
    let f = Func<Expr, Expr>(fun x -> sin x * exp x + Expr.Sum(Expr.Tanh(x * x)))
    let reverse = Anomaly.Check(Func<Expr, Expr>(fun x -> Expr.Sum(f.Invoke x)), vec [ 0.3; -2.0 ])
    let forward = Anomaly.CheckJvp(f, vec [ 0.3; -2.0 ], vec [ 1.0; 0.5 ])
    Assert.That((reverse.IsFinite, reverse.HasAnomaly, reverse.ValueAnomaly, reverse.DerivativeAnomaly), Is.EqualTo((true, false, null, null)))
    Assert.That(string reverse, Is.EqualTo "no anomaly: every value and cotangent is finite")
    Assert.That(forward.IsFinite)
    Assert.That(string forward, Is.EqualTo "no anomaly: every value and tangent is finite")

let ``a vector output takes a cotangent; without one the check says to pass one`` () =
    let report, line =
        Anomaly.Check((fun (x: Expr) -> log x), vec [ 1.0; 0.0 ], vec [ 1.0; 1.0 ]), int __LINE__

    let v = valueAnomaly report
    Assert.That((v.Op, v.Element, v.NonFinite), Is.EqualTo(("log", 1, Double.NegativeInfinity)))
    assertHere line v
    Assert.That(string v, Is.EqualTo $"log at Anomaly.fs:{line} produced -Infinity at element 1 of vector(2) from input [1, 0]")
    Assert.That((derivativeAnomaly report).Op, Is.EqualTo "log", "log's rule at a value already -Infinity, the only one")

    let e =
        Assert.Throws<NonScalarOutputException>(fun () ->
            Anomaly.Check((fun (x: Expr) -> log x), vec [ 1.0; 0.0 ]) |> ignore)

    Assert.That((notNull "the exception" e).Message, Does.Contain "Anomaly.Check")

let ``bad arguments throw; anomalies never do`` () =
    Assert.Throws<ArgumentNullException>(fun () -> Anomaly.Check(nil<Func<Expr, Expr>>, Value.Scalar 1.0) |> ignore)
    |> ignore

    Assert.Throws<ArgumentNullException>(fun () ->
        Anomaly.CheckJvp(nil<Func<Expr, Expr>>, Value.Scalar 1.0, Value.Scalar 1.0) |> ignore)
    |> ignore

    Assert.Throws<ArgumentNullException>(fun () ->
        Anomaly.Check((fun (p: ParamVars) -> p["w"]), nil<Params>) |> ignore)
    |> ignore

    Assert.Throws<ArgumentException>(fun () ->
        Anomaly.Check((fun (x: Expr) -> log x), vec [ 1.0 ], vec [ nan ]) |> ignore)
    |> ignore

    Assert.Throws<ShapeMismatchException>(fun () ->
        Anomaly.CheckJvp((fun (x: Expr) -> log x), vec [ 1.0 ], Value.Scalar 1.0) |> ignore)
    |> ignore

    // A NaN input is data, not a bad argument: it is reported.
    Assert.That(string (Anomaly.Check((fun (x: Expr) -> x * 2.0), Value.Scalar nan)), Does.StartWith "input x is NaN")

let ``a node that does not depend on the input has no line, and the report says why`` () =
    let report = Anomaly.Check((fun (x: Expr) -> x + log (Expr.Const 0.0)), Value.Scalar 1.0)
    let v = valueAnomaly report
    Assert.That((v.Op, v.Site), Is.EqualTo(("log", (null: SourceSite | null))))
    Assert.That(string v, Does.EndWith "(no source line: it does not depend on the checked input, so where it was built was not recorded)")

let ``finite cotangents that sum to Infinity are reported as a sum that overflowed`` () =
    let report = Anomaly.Check((fun (x: Expr) -> 1e308 * x + 1e308 * x), Value.Scalar 0.0)
    Assert.That(report.ValueAnomaly, Is.Null)
    Assert.That(string report, Is.EqualTo "the finite cotangents summed into input x overflowed to Infinity")

let ``a function that builds another graph when traced again is reported without a line`` () =
    // The check traces f twice: the second time, the node the first trace found is an add, or is never built.
    let mutable calls = 0

    let changing (x: Expr) =
        calls <- calls + 1
        if calls = 1 then log x else x + 1.0

    let shrinking (x: Expr) =
        calls <- calls + 1
        if calls = 1 then log (x * 1.0) else x

    for f in [ changing; shrinking ] do
        calls <- 0
        let v = valueAnomaly (Anomaly.Check(Func<Expr, Expr> f, Value.Scalar 0.0))
        Assert.That((calls, v.Op, v.Site), Is.EqualTo((2, "log", (null: SourceSite | null))))
        Assert.That(notNull "the note" v.SiteNote, Does.Contain "not deterministic")
        Assert.That(string v, Does.StartWith "log produced -Infinity from input 0 (no source line: f built a different graph")

let ``the check is pure: the same call gives the same report, and AD's results are unchanged after it`` () =
    let f = Func<Expr, Expr>(fun x -> sqrt x + log x)
    let first = string (Anomaly.Check(f, Value.Scalar 0.0))
    Assert.That(string (Anomaly.Check(f, Value.Scalar 0.0)), Is.EqualTo first)
    let struct (y, _) = AD.ValueAndGrad(f).Invoke(Value.Scalar 4.0)
    Assert.That(y.ToScalar(), Is.EqualTo(2.0 + Math.Log 4.0))

// ------------------------------------------------------------------ depth

let ``a million-node chain: a clean report, and an anomaly at its end named at this line`` () =
    let clean = Anomaly.Check(Func<Expr, Expr> Depth.chain, Value.Scalar Depth.x0)
    Assert.That(clean.IsFinite, string clean)

    let report, line =
        Anomaly.Check((fun (x: Expr) -> let e = Depth.chain x in log (e - e)), Value.Scalar Depth.x0), int __LINE__

    let v = valueAnomaly report
    Assert.That((v.Op, v.NonFinite), Is.EqualTo(("log", Double.NegativeInfinity)))
    assertHere line v
    let g = derivativeAnomaly report
    Assert.That((g.Op, g.Input), Is.EqualTo(("log", Nullable 0)))
    assertHere line g

open Expecto

[<Tests>]
let tests =
    testList "AnomalyCheck" [
        testCase "sqrt + log at 0: the value anomaly is log, the gradient anomaly is sqrt, both at this line" ``sqrt + log at 0: the value anomaly is log, the gradient anomaly is sqrt, both at this line``
        testCase "log at -1 is a NaN value with a finite gradient; x log x at -1 has a NaN gradient from mul's rule" ``log at -1 is a NaN value with a finite gradient; x log x at -1 has a NaN gradient from mul's rule``
        testCase "forward mode: sqrt's tangent rule at 0 is the tangent anomaly" ``forward mode: sqrt's tangent rule at 0 is the tangent anomaly``
        testCase "Params: every value finite, the gradient anomaly is sqrt at element 1 of w" ``Params: every value finite, the gradient anomaly is sqrt at element 1 of w``
        testCase "a function finite everywhere gives a clean report, in both modes" ``a function finite everywhere gives a clean report, in both modes``
        testCase "a vector output takes a cotangent; without one the check says to pass one" ``a vector output takes a cotangent; without one the check says to pass one``
        testCase "bad arguments throw; anomalies never do" ``bad arguments throw; anomalies never do``
        testCase "a node that does not depend on the input has no line, and the report says why" ``a node that does not depend on the input has no line, and the report says why``
        testCase "finite cotangents that sum to Infinity are reported as a sum that overflowed" ``finite cotangents that sum to Infinity are reported as a sum that overflowed``
        testCase "a function that builds another graph when traced again is reported without a line" ``a function that builds another graph when traced again is reported without a line``
        testCase "the check is pure: the same call gives the same report, and AD's results are unchanged after it" ``the check is pure: the same call gives the same report, and AD's results are unchanged after it``
        testCase "a million-node chain: a clean report, and an anomaly at its end named at this line" ``a million-node chain: a clean report, and an anomaly at its end named at this line``
    ]
