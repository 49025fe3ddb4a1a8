(**
---
title: Numbers you can trust
category: Guides
categoryindex: 2
index: 1
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/reliability.fsx     runs the page; a claim that does not hold stops the script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`
#load ".helpers/references.fsx"

/// Stops the page when a claim it makes does not hold.
let holds (claim: string) (ok: bool) =
    if not ok then failwithf "docs/reliability.fsx: %s does not hold" claim
    printfn "%s: yes" claim

(**
# Numbers you can trust

What the library promises about its numbers, and what it does when they go wrong: custom ops whose rules give
the same gradient in every transform, an anomaly check that names the line where a NaN or an infinity was made,
errors that point at your code, and results that do not depend on where an element sits in a vector.

## A custom op's rule may read values and state

A gradient-reversal layer (used in domain adaptation) is the identity going forward and multiplies the gradient by
−λ going back. Its rule reads λ, which the training loop changes. A rule of your own op is run on the real nodes each
time it is needed, so the gradient follows λ, in `grad` as in every other transform:
*)
open System
open System.Collections.Immutable
open Functional.Autodiff
open Functional.Autodiff.FSharp

let mutable lambda = 3.0

let reversal =
    CustomOp(
        "gradient_reversal",
        1,
        (fun s -> s[0]),
        (fun v -> v[0]),
        (fun _ _ _ ybar -> -lambda * ybar),
        (fun _ _ dx -> -lambda * dx[0])
    )

let layer (x: Expr) = Expr.Create(reversal, x) * 2.0

let atThree = grad layer 0.7
lambda <- 1.5
let atOneAndAHalf = grad layer 0.7
printfn "λ = 3: %g    λ = 1.5: %g" atThree atOneAndAHalf
(*** include-output ***)
(*** hide ***)
holds "the gradient follows λ" (atThree = -6.0 && atOneAndAHalf = -3.0)

(**
A rule may also read its inputs' numbers (`x[0].Value`) and use traced variables it captured. What it must do is
return a graph of the input's shape (or null for zero); a forward whose value disagrees with the op's shape rule is
refused where the node is built. Making a `CustomOp` per call, capturing that call's data, keeps nothing alive.

## The anomaly check names the line

`sqrt x + log x` at 0 has the value −∞ and the gradient +∞, and nothing says so. `checkAnomalies` (C#:
`Anomaly.Check`) evaluates the function and its gradient and names the first node whose value, and the first rule
whose cotangent, is not finite, with the file and line of the code that built it:
*)
let report = checkAnomalies (fun x -> sqrt x + log x) 0.0
printfn "%O" report
(*** include-output ***)
(*** hide ***)
holds "the value anomaly is log's" (report.ValueAnomaly.Op = "log")
holds "the gradient anomaly is sqrt's" (report.DerivativeAnomaly.Op = "sqrt")

(**
The check is a pure function returning a report: there is no mode to switch on and forget to switch off, and the
normal path pays nothing for it (the line is looked up only while the check runs).

## Errors point at your code

Every exception for bad input names the op, the shapes or values and a fix, and ends with the file and line of your
code that made the mistake (the first stack frame outside the library):
*)
let message =
    try
        constant (vector [ 1.0; 2.0 ]) + constant (vector [ 1.0; 2.0; 3.0 ]) |> ignore
        ""
    with :? ShapeMismatchException as e ->
        e.Message

printfn "%s" message
(*** include-output ***)
(*** hide ***)
holds "the message names this script" (message.Contains "reliability.fsx:")

(**
## An element's result depends only on that element

Element-wise ops compute each element from that element alone, with the same bits whether it is a scalar, the
first of two elements or the thousandth of a vector, and whatever its neighbours are. So a chain of ops on scalars
and the same chain on a vector agree bit for bit, and repeating a computation repeats its bits:
*)
let x0 = -0.7537537537537538
let alone = eval (cos (constant (scalar x0)))
let besideHalf = (eval (cos (constant (vector [ x0; 0.5 ])))).ToArray()[0]
let besideThree = (eval (cos (constant (vector [ x0; 3.0 ])))).ToArray()[0]
printfn "%.17g %.17g %.17g" (alone.ToScalar()) besideHalf besideThree
(*** include-output ***)
(*** hide ***)
holds
    "cos of one number has one result"
    (BitConverter.DoubleToInt64Bits(alone.ToScalar()) = BitConverter.DoubleToInt64Bits besideHalf
     && BitConverter.DoubleToInt64Bits besideHalf = BitConverter.DoubleToInt64Bits besideThree)

(**
Reductions (sums, dot products, matrix products) are deterministic too: the same inputs of the same shapes give the
same bits on every call and every thread; their order of summation is fixed by the shapes, so a sum computed by the
library may differ in the last bits from a left-to-right loop.
*)
