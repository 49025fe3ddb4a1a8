/// The FSI printers: readable, and bounded for graphs of any depth.
module Functional.Autodiff.FSharp.Tests.PrinterTests

open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.FSharp

let ``an expression prints its node count, expression, shape and value`` () =
    let w = var "w" (vector [ 1.0; 2.0 ])

    Assert.That(
        Printers.expr (3.0 * (w + 2.0) ** 2.0),
        Is.EqualTo "Expr (6 nodes) 3 * ((w + 2) ^ 2) : vector(2) = [27, 48]"
    )

let ``a value prints its shape and elements`` () =
    Assert.That(Printers.value (vector [ 9.0; 9.0; 9.0 ]), Is.EqualTo "Value vector(3) [9, 9, 9]")

    Assert.That(
        Printers.value (matrix [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]),
        Is.EqualTo "Value matrix(2, 2) [[1, 2], [3, 4]]"
    )

    Assert.That(Printers.value (scalar 40.5), Is.EqualTo "Value scalar 40.5")

let ``parameters print by name`` () =
    Assert.That(
        Printers.parameters (parameters [ "w", vector [ 9.0; 9.0 ]; "b", scalar 1.5 ]),
        Is.EqualTo "Params {w: [9, 9], b: 1.5}"
    )

let ``a million-node chain prints in bounded size`` () =
    let mutable e = var "x" (scalar 0.1)

    for _ in 1..1_000_000 do
        e <- sin e

    let text = Printers.expr e
    Assert.That(text, Does.StartWith("Expr (1000001 nodes) "))
    Assert.That(text, Does.Contain("…"))
    Assert.That(text.Length, Is.LessThan 1000)

/// `%A` and `%O` in a compiled program or a script (where the FSI printers do not apply) print the text the printers show
/// after their kind: `Params` is not an IEnumerable, so `%A` does not print it as `seq [[w, 2]]`.
let ``%A and %O print the printers' text`` () =
    let w = var "w" (vector [ 1.0; 2.0 ])
    let e = 3.0 * (w + 2.0) ** 2.0
    let v = matrix [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]
    let p = parameters [ "w", vector [ 9.0; 9.0 ]; "b", scalar 1.5 ]

    for text in [ sprintf "%A" e; sprintf "%O" e; string e ] do
        Assert.That(text, Is.EqualTo "3 * ((w + 2) ^ 2) : vector(2) = [27, 48]")

    for text in [ sprintf "%A" v; sprintf "%O" v ] do
        Assert.That(text, Is.EqualTo "[[1, 2], [3, 4]]")

    for text in [ sprintf "%A" p; sprintf "%O" p ] do
        Assert.That(text, Is.EqualTo "{w: [9, 9], b: 1.5}")

    Assert.That(Printers.expr e, Does.EndWith(sprintf "%A" e))
    Assert.That(Printers.value v, Does.EndWith(sprintf "%A" v))
    Assert.That(Printers.parameters p, Is.EqualTo("Params " + sprintf "%A" p))
    // Inside F# values too: a record of parameters, a list of values.
    Assert.That(sprintf "%A" [ p ], Is.EqualTo "[{w: [9, 9], b: 1.5}]")
    Assert.That(sprintf "%A" (Some(scalar 2.0)), Is.EqualTo "Some 2")

/// Params is gone over with `for … in` and, through `Entries`, with the Seq functions.
let ``parameters are enumerated directly and through Entries`` () =
    let p = parameters [ "w", vector [ 9.0; 9.0 ]; "b", scalar 1.5 ]
    let names = ResizeArray()

    for KeyValue(name, _) in p do
        names.Add name

    Assert.That(names, Is.EqualTo [ "w"; "b" ])
    Assert.That(p.Entries |> Seq.map (fun kv -> kv.Key) |> List.ofSeq, Is.EqualTo [ "w"; "b" ])

open Expecto

[<Tests>]
let tests =
    testList "PrinterTests" [
        testCase "an expression prints its node count, expression, shape and value" ``an expression prints its node count, expression, shape and value``
        testCase "a value prints its shape and elements" ``a value prints its shape and elements``
        testCase "parameters print by name" ``parameters print by name``
        testCase "a million-node chain prints in bounded size" ``a million-node chain prints in bounded size``
        testCase "%A and %O print the printers' text" ``%A and %O print the printers' text``
        testCase "parameters are enumerated directly and through Entries" ``parameters are enumerated directly and through Entries``
    ]
