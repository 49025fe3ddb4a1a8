(**
---
title: Property testing your own code
category: Guides
categoryindex: 2
index: 4
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/property-testing.fsx    runs the page: a claim that does not hold stops it (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`
// The C# on this page is compiled and run by tests/Acceptance.CSharp/PropertyTestingExample.cs, which also checks
// that this page shows it line for line.
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/guides.fsx"
// The generators package and the test libraries, copied into docs/.lib by the build of tests/Docs.Tests.
#r ".lib/FsCheck.dll"
#r ".lib/Functional.Autodiff.FsCheck.dll"
#r ".lib/nunit.framework.dll"
#r ".lib/FsCheck.NUnit.dll"
#r ".lib/Expecto.dll"
#r ".lib/Expecto.FsCheck3.dll"

(**
# Property testing your own code

Property tests are one of the three things this library is for, and the generators its own tests use ship as a
package, `Functional.Autodiff.FsCheck`, for your tests:

* **random graphs** (`RandomGraph`) over the library's ops, with valid shapes and with every input in its op's
  domain (log and sqrt of positives, 1/x and the kinks of abs and relu away from zero, invertible and positive
  definite matrices for the linear algebra), so GradCheck is meaningful on them; your own ops can be mixed in;
* **shrinking** of a failing graph to a minimal expression: dropping what is above a node, replacing a node by one of
  its inputs or by a constant of its value, turning variables into constants, smaller shapes, simpler numbers. FsCheck
  prints the smallest graph that still fails, in the library's one-line text form (`Export.Text`);
* **arbitraries** of `Value`, `Params` and `Shape`, and of values in a domain: `Arbitraries.Value Positive`;
* **ready properties** (`GradProperties`) that check a function, a custom op, or a custom op hidden in random graphs
  with `GradCheck` at orders 1 and 2.

Everything is a static member, so F# and C# call it the same way, and it works with FsCheck.NUnit, Expecto.FsCheck
and FsCheck's own runner. Add the package next to FsCheck 3 (`dotnet add package Functional.Autodiff.FsCheck`, or a
`nuget Functional.Autodiff.FsCheck` line in paket.dependencies).
*)

open System
open FsCheck
open FsCheck.FSharp
open Functional.Autodiff
open Functional.Autodiff.Generators

(**
## Your function at random points

`GradProperties.ForAll` draws points from an arbitrary and runs GradCheck there: the VJP and the JVP against central
differences and against each other, then the same on the gradient graph (second order). `GradProperties.Replay`
is FsCheck's throwing configuration with a fixed seed, so the test runs the same cases every time:
*)

let entropyLike (x: Expr) = Expr.Sum(x * Expr.Log x)

Check.One(GradProperties.Replay(2026UL, 13UL), GradProperties.ForAll(Arbitraries.Value Positive, entropyLike))

(**
`Positive` keeps the points where the log is defined. The other domains are `Real`, `AwayFromZero`, `UnitInterval`,
`ClassIndex n`, `Mask`, and the matrix domains `Invertible`, `PositiveDeterminant` and `SymmetricPositiveDefinite`.
To check one point, `GradProperties.Check(f, x)` returns GradCheck's report:
*)

let report = GradProperties.Check(entropyLike, Value.FromArray(0.5, 2.0))
printfn "%b, %d comparisons" report.Passed report.Entries.Length
(*** include-output ***)
(*** hide ***)
holds "the report covers orders 1 and 2" (report.Passed && report.Entries.Length = 6)
near "the gradient of Σ x log x at (0.5, 2), log x + 1" [| log 0.5 + 1.0; log 2.0 + 1.0 |] (AD.Grad(Func<Expr, Expr> entropyLike).Invoke(Value.FromArray(0.5, 2.0)))

(**
## Your op, hidden in random graphs

A custom op's rules are the place a derivative goes wrong. Here the VJP of a sine says 1.5·cos x where it should say
cos x (the JVP is right). `OpEntry.Unary` makes it a row of the generators' op table (any shape, inputs from the
domain), and `GradProperties.InGraphs` hides it in random graphs of the library's smooth ops:
*)

let wrongSin =
    CustomOp.FromComposite(
        "wrong_sin",
        1,
        (fun x -> Expr.Sin x[0]),
        (fun _ x _ ybar -> ybar * Expr.Cos(x[0]) * 1.5),
        (fun x _ dx -> dx[0] * Expr.Cos(x[0]))
    )

let failure =
    try
        Check.One(GradProperties.Replay(2026UL, 13UL), GradProperties.InGraphs(OpEntry.Unary(wrongSin, Real, true)))
        "no failure"
    with e ->
        e.Message

(**
FsCheck finds a failing graph and shrinks it; the end of its message is the graph it started from and the smallest
that still fails, with the variables' values:
*)

let between (first: string) (last: string) (message: string) =
    let from = message.IndexOf first
    let upTo = message.IndexOf(last, from)
    message.Substring(from, (if upTo < 0 then message.Length else upTo) - from).TrimEnd()

printfn "%s" (between "Original:" "with exception" failure)
(*** include-output ***)
(*** hide ***)
holds "the failure shrinks to the wrong op alone" (failure.Contains "Shrunk:\nwrong_sin(x0) : scalar")

(**
Above the graphs, the message has GradCheck's report for the shrunk graph (which comparison failed, by how much) and
the seed to replay it. `GradProperties.ForOp row` checks the op alone at random valid inputs, each input on its own.
A row for an op of several inputs, or with parameters, is a record: a name, whether the op is smooth, and a function
from a `System.Random` to an `OpNode` (the op and its inputs' shapes and domains), like the rows of `OpTable.all`.

## Graphs, values and parameters as test arguments

`Arbitraries` is a class of FsCheck arbitraries: register it and a property takes `RandomGraph`, `Value`, `Params` or
`Shape` arguments. With FsCheck.NUnit (the attribute makes it a test; called here directly, once):
*)

open FsCheck.NUnit

[<Property(Arbitrary = [| typeof<Arbitraries> |], Replay = "(2026,13)")>]
let ``the library's ops pass GradCheck in random graphs`` (g: RandomGraph) = GradProperties.OfGraph g

[<Property(Arbitrary = [| typeof<Arbitraries> |], Replay = "(2026,13)")>]
let ``adding parameters to themselves doubles them`` (p: Params) =
    let values (q: Params) = [ for kv in q.Entries -> kv.Value ]
    values (p + p) = values (2.0 * p)

let oneGraph = RandomGraph.draw (Random 3) OpTable.smooth 6
printfn "%O" oneGraph
(*** include-output ***)
(*** hide ***)
let registered = GradProperties.Replay(2026UL, 13UL).WithArbitrary [ typeof<Arbitraries> ]
Check.One(registered, ``the library's ops pass GradCheck in random graphs``)
Check.One(registered, ``adding parameters to themselves doubles them``)


(**
With Expecto and Expecto.FsCheck, the same arbitraries go in the FsCheck configuration, and Expecto's runner (run as
a console program, `dotnet run`) prints the shrunk graph of a failure in the same form:
*)

open Expecto

let config =
    { FsCheckConfig.defaultConfig with
        arbitrary = [ typeof<Arbitraries> ]
        replay = Some(2026UL, 13UL, None) }

let expectoTests =
    testList "my ops" [
        testPropertyWithConfig config "the library's ops in random graphs" (fun (g: RandomGraph) -> GradProperties.OfGraph g)
        testPropertyWithConfig config "my function at positive points" (fun () ->
            GradProperties.ForAll(Arbitraries.Value Positive, entropyLike))
    ]

(*** hide ***)
holds "Expecto runs the properties and they pass" (runTestsWithCLIArgs [ No_Spinner ] [| "--summary" |] expectoTests = 0)

(**
## In C#

FsCheck's fluent API takes the same arbitraries and properties: `Prop.ForAll` over an arbitrary, and `Check.One` with
a configuration (`GradProperties.Replay` fixes the seed; `Check.QuickThrowOnFailure` draws a new one each run):

```csharp
// Your function at random positive points: GradCheck at orders 1 and 2 at each.
Func<Expr, Expr> entropyLike = x => Expr.Sum(x * Expr.Log(x));
Check.One(GradProperties.Replay(2026, 13), Prop.ForAll(Arbitraries.Value(Domain.Positive), x => GradProperties.Check(entropyLike, x).Passed));

// Your op with a wrong rule, hidden in random graphs: the failure is shrunk to the op alone.
var wrongSin = CustomOp.FromComposite("wrong_sin", 1,
    body: x => Expr.Sin(x[0]),
    vjp: (i, x, y, ybar) => ybar * Expr.Cos(x[0]) * 1.5,
    jvp: (x, y, dx) => dx[0]! * Expr.Cos(x[0]));
var message = "";
try { Check.One(GradProperties.Replay(2026, 13), GradProperties.InGraphs(OpEntry.Unary(wrongSin, Domain.Real, true))); }
catch (Exception e) { message = e.Message; }
var shrunk = message[(message.IndexOf("Shrunk:\n") + 8)..].Split('\n')[0];
Console.WriteLine(shrunk[..shrunk.IndexOf(" = ")]);                 // wrong_sin(x0) : scalar
```
*)
(*** hide ***)
finish ()
