/// The public gradient checker (GradCheck) run over the whole op table: the library's own ops are checked with
/// the same tool users get, so the checker is tested by use, and a rule that breaks shows up in its report.
module Functional.Autodiff.Tests.GradCheckUse

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common
open Functional.Autodiff.Tests.OpSpecs
open Functional.Autodiff.Tests.OpTests
open Functional.Autodiff.Tests.Higher

let private toLibrary (t: Common.Tolerance) (scale: float) =
    Functional.Autodiff.Tolerance(t.Absolute * scale, t.Relative * scale)

/// Every op name in the table: the test cases.
let names = OpTests.names

let ``GradCheck passes for every input of every op`` (name: string) =
    let spec = find name

    if spec.Derivative = FiniteDifference then
        let seed = stableSeed ("gradcheck/" + name)
        let rng = Random seed

        for trial in 1..4 do
            let case, xs = drawPoint spec rng

            // Inputs that are not differentiated (class labels) have no derivative to check.
            for i in
                [ 0 .. xs.Length - 1 ]
                |> List.filter (fun i -> differentiable case.Args[i].Domain) do
                let f = alone case xs i
                let x = T.toValue xs[i]

                let first =
                    GradCheck.Run(f, x, toLibrary spec.Tolerance 1.0, order = 1, seed = trial)

                let context =
                    $"op {name} ({case.Op}), input {i}, seed {seed}, trial {trial}, x = {fmt xs[i]}"

                Assert.That(first.Passed, $"{context}\n{first}")

                if spec.Smooth then
                    // The second-order part differences a gradient graph: one more order of rounding.
                    let second =
                        GradCheck.Run(f, x, toLibrary spec.Tolerance 10.0, order = 2, seed = trial)

                    Assert.That(second.Passed, $"{context}\n{second}")

open Expecto

[<Tests>]
let tests =
    testList "GradCheckUse" [
        testList "GradCheck passes for every input of every op" [ for c in names -> testCase c (fun () -> ``GradCheck passes for every input of every op`` c) ]
    ]
