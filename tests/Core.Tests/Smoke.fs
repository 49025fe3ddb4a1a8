module Functional.Autodiff.Tests.Smoke

open NUnit.Framework
open FsCheck
open Functional.Autodiff

let ``grad of x squared at 3 is 6`` () =
    let g = AD.Grad(fun (x: Expr) -> x * x).Invoke(Value.Scalar 3.0)
    Assert.That(g.ToScalar(), Is.EqualTo 6.0)

let ``grad of x squared is 2x`` (x: NormalFloat) =
    let x = x.Get
    let g = AD.Grad(fun (e: Expr) -> e * e).Invoke(Value.Scalar x)
    abs (g.ToScalar() - 2.0 * x) <= 1e-12 * (1.0 + abs x)

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Smoke" [
        testCase "grad of x squared at 3 is 6" ``grad of x squared at 3 is 6``
        testPropertyWithConfig (replay "(12345,67891)") "grad of x squared is 2x" ``grad of x squared is 2x``
    ]
