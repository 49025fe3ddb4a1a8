/// checkAnomalies and checkAnomaliesJvp: the core's anomaly check for F# functions, naming this file's lines.
module Functional.Autodiff.FSharp.Tests.AnomalyTests

open System
open System.IO
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.FSharp

let private notNull (what: string) (x: 'T | null) : 'T =
    match x with
    | null -> failwith $"{what} is null"
    | x -> x

let private site (a: NodeAnomaly | null) =
    let a = notNull "the anomaly" a
    let s = notNull $"the site of '{a}'" a.Site
    Path.GetFileName s.File, s.Line

let ``checkAnomalies names log and sqrt at the line of this file that built them`` () =
    let report, line = checkAnomalies (fun x -> sqrt x + log x) 0.0, int __LINE__
    Assert.That(site report.ValueAnomaly, Is.EqualTo(("AnomalyTests.fs", line)))
    Assert.That(site report.DerivativeAnomaly, Is.EqualTo(("AnomalyTests.fs", line)))

    Assert.That(
        string report,
        Is.EqualTo(
            $"log at AnomalyTests.fs:{line} produced -Infinity from input 0\n"
            + $"sqrt's gradient rule at AnomalyTests.fs:{line} produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)"
        )
    )

let ``checkAnomalies is the core's check: the same report for the same function`` () =
    let f (x: Expr) = x * log x
    let core = Anomaly.Check(Func<Expr, Expr> f, Value.Scalar -1.0)
    Assert.That(string (checkAnomalies f -1.0), Is.EqualTo(string core))
    Assert.That(string (checkAnomalies f (scalar -1.0)), Is.EqualTo(string core))

let ``checkAnomalies takes Values, MathNet vectors and matrices, and Params`` () =
    let f, line = (fun x -> sum (log x)), int __LINE__
    let atVector = checkAnomalies f (vector [ 1.0; 0.0 ])
    Assert.That(site atVector.ValueAnomaly, Is.EqualTo(("AnomalyTests.fs", line)))
    Assert.That((notNull "the anomaly" atVector.ValueAnomaly).Element, Is.EqualTo 1)

    let mathNet = checkAnomalies f (Vector<float>.Build.DenseOfArray [| 1.0; 0.0 |])
    Assert.That(string mathNet, Is.EqualTo(string atVector))

    let atMatrix = checkAnomalies (fun x -> sum (sqrt x)) (Matrix<float>.Build.DenseOfArray(array2D [ [ 1.0; 0.0 ] ]))
    Assert.That(atMatrix.ValueAnomaly, Is.Null)
    Assert.That((notNull "the anomaly" atMatrix.DerivativeAnomaly).Shape, Is.EqualTo(Shape.Matrix(1, 2)))

    let p = parameters [ "w", scalar 2.0; "b", scalar 0.0 ]
    let named, line = checkAnomalies (fun p -> p?w * log p?b) p, int __LINE__
    Assert.That(site named.ValueAnomaly, Is.EqualTo(("AnomalyTests.fs", line)))
    Assert.That((notNull "the anomaly" named.ValueAnomaly).Op, Is.EqualTo "log")

let ``checkAnomaliesJvp names sqrt's tangent rule; a finite function gives a clean report`` () =
    let report, line = checkAnomaliesJvp (fun x -> sqrt x + log x) 0.0 1.0, int __LINE__
    Assert.That(report.DerivativeKind, Is.EqualTo AnomalyKind.Tangent)
    Assert.That((notNull "the anomaly" report.DerivativeAnomaly).Op, Is.EqualTo "sqrt")
    Assert.That(site report.DerivativeAnomaly, Is.EqualTo(("AnomalyTests.fs", line)))
    Assert.That((checkAnomaliesJvp (fun x -> sin x * x) (vector [ 1.0; 2.0 ]) (vector [ 1.0; 0.0 ])).IsFinite)
    Assert.That(string (checkAnomalies (fun x -> exp x) 3.0), Is.EqualTo "no anomaly: every value and cotangent is finite")

open Expecto

[<Tests>]
let tests =
    testList "AnomalyTests" [
        testCase "checkAnomalies names log and sqrt at the line of this file that built them" ``checkAnomalies names log and sqrt at the line of this file that built them``
        testCase "checkAnomalies is the core's check: the same report for the same function" ``checkAnomalies is the core's check: the same report for the same function``
        testCase "checkAnomalies takes Values, MathNet vectors and matrices, and Params" ``checkAnomalies takes Values, MathNet vectors and matrices, and Params``
        testCase "checkAnomaliesJvp names sqrt's tangent rule; a finite function gives a clean report" ``checkAnomaliesJvp names sqrt's tangent rule; a finite function gives a clean report``
    ]
