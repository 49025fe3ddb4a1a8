/// The shipped FsCheck generators (Functional.Autodiff.FsCheck): random graphs are valid and pass GradCheck, every
/// shrink candidate is a valid smaller graph, shrinking cuts a wrong rule hidden in a random graph down to at most three
/// nodes, deep graphs are printed and shrunk without recursion, and the arbitraries of Value, Params and Shape work
/// through Expecto.FsCheck's registration.
module Functional.Autodiff.Tests.PropertyGenerators

open System
open FsCheck
open FsCheck.FSharp
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Generators
open Functional.Autodiff.Tests.Common

/// FsCheck's replay seed for every property here (fixed: a flaky test is a failing test).
[<Literal>]
let Seed = "(20261202,1401)"

let private replay = Some { Rnd = Rnd(20261202UL, 1401UL); Size = None }

/// sin whose VJP is `factor`·cos x (the JVP is right): factor 1 is the right rule, any other a wrong one.
let sinWithVjp (name: string) (factor: float) =
    CustomOp.FromComposite(
        name,
        1,
        (fun x -> Expr.Sin x[0]),
        (fun _ x _ ybar -> ybar * Expr.Cos(x[0]) * factor),
        (fun x _ dx ->
            match dx[0] with
            | null -> null
            | d -> d * Expr.Cos(x[0]))
    )

/// sin with a wrong VJP (1.5 cos x) and a right JVP: the kind of slip GradCheck is for.
let wrongSin = sinWithVjp "wrong_sin" 1.5

/// The same op with the right rules.
let rightSin = sinWithVjp "right_sin" 1.0

/// Runs the property with FsCheck and returns its result (not thrown), seeded by `replay`.
let private run (startSize: int) (property: Property) =
    let mutable result = None

    let runner =
        { new IRunner with
            member _.OnStartFixture _ = ()
            member _.OnArguments(_, _, _) = ()
            member _.OnShrink(_, _) = ()
            member _.OnFinished(_, r) = result <- Some r }

    Check.One(Config.Quick.WithRunner(runner).WithReplay(replay).WithStartSize(startSize), property)

    match result with
    | Some r -> r
    | None -> failwith "FsCheck did not report a result"

// ------------------------------------------------------------------ the table

let ``the generators' op table has a row for every op in Ops.All, in the order of the test specs`` () =
    let names = OpTable.all |> List.map (fun e -> e.Name)
    Assert.That(names, Is.EquivalentTo(Ops.All |> Seq.map (fun op -> op.Name)), "one row per op")
    Assert.That(names, Is.EqualTo(OpSpecs.all |> List.map (fun s -> s.Name)), "the specs follow the table")

let ``every row draws nodes that build, with inputs in their domains`` () =
    let rng = Random 20261202

    for e in OpTable.all do
        for _ in 1..20 do
            let node, xs = OpTable.drawPoint e rng
            Assert.That(node.Op.Name, Is.EqualTo e.Name)
            let y = Expr.Create(node.Op, xs |> List.map Expr.Const |> Array.ofList)
            Assert.That(y.Value.ToArray() |> Array.forall Double.IsFinite, $"{node.Op} at {xs}: {y.Value}")

            for i, x in List.zip node.Inputs xs do
                Assert.That(x.Shape, Is.EqualTo i.Shape, $"{node.Op}: the drawn value has the input's shape")

                if not (Domain.isMatrix i.Domain) && Domain.differentiable i.Domain then
                    Assert.That(Domain.admits i.Domain x, $"{node.Op}: {x} in {i.Domain}")

// ------------------------------------------------------------------ random graphs

let ``random graphs are valid, reach every node, and pass GradCheck at orders 1 and 2`` (g: RandomGraph) =
    Assert.That(RandomGraph.tryCreate g.Nodes |> Option.isSome, $"valid: {g}")
    Assert.That(RandomGraph.compact g.Nodes (g.NodeCount - 1), Is.EqualTo g.Nodes, $"every node reached: {g}")
    Assert.That(g.OpCount, Is.GreaterThanOrEqualTo 1)
    Assert.That(g.Variables |> Array.map (fun v -> v.Name), Is.EqualTo(Array.init g.Variables.Length (sprintf "x%d")))
    GradProperties.OfGraph g

let ``every shrink candidate is a valid graph, smaller than the original`` (g: RandomGraph) =
    let leafSize (r: RandomGraph) =
        r.Nodes
        |> Array.sumBy (function
            | Variable(_, _, v)
            | Constant(_, v) -> v.Shape.Size
            | Apply _ -> 0)

    let variables (r: RandomGraph) = r.Variables.Length

    for c in RandomGraph.shrink g do
        Assert.That(RandomGraph.tryCreate c.Nodes |> Option.isSome, $"valid: {c}")

        let smaller =
            c.OpCount < g.OpCount
            || (c.OpCount = g.OpCount && variables c < variables g)
            || (c.OpCount = g.OpCount && variables c = variables g && leafSize c <= leafSize g)

        Assert.That(smaller, $"{c}\nis not smaller than\n{g}")
        Assert.That(c.NodeCount, Is.LessThanOrEqualTo g.NodeCount)

let ``a wrong rule hidden in a random graph is reported as a graph of at most three nodes`` () =
    match run 60 (GradProperties.InGraphs(OpEntry.Unary(wrongSin, Real, true), 8)) with
    | TestResult.Failed(data, original, shrunk, _, _, _, _) ->
        let original, shrunk = original.Head :?> RandomGraph, shrunk.Head :?> RandomGraph
        let text = string shrunk
        Assert.That(shrunk.NodeCount, Is.LessThanOrEqualTo 3, $"shrunk to\n{text}\nfrom\n{original}")
        Assert.That(original.NodeCount, Is.GreaterThan shrunk.NodeCount, $"the failing graph was shrunk: {original}")
        Assert.That(text, Does.StartWith "wrong_sin(", "the wrong op is what is left")
        Assert.That(data.NumberOfShrinks, Is.GreaterThan 0)
        Assert.That(GradProperties.CheckGraph shrunk |> Option.isSome, "the shrunk graph still fails")
    | r -> Assert.Fail $"the property did not fail: {r}"

let ``FsCheck's failure message shows the shrunk graph in the library's text form`` () =
    let config = Config.QuickThrowOnFailure.WithReplay(replay).WithStartSize 60

    let e =
        match Assert.Catch(fun () -> Check.One(config, GradProperties.InGraphs(OpEntry.Unary(wrongSin, Real, true)))) with
        | null -> failwith "Check.One did not throw"
        | e -> e

    Assert.That(e.Message, Does.Contain "Shrunk:\nwrong_sin(x0) : ")
    Assert.That(e.Message, Does.Contain "FAIL order 1: VJP dot-product test")

let ``the right rule in random graphs passes`` () =
    match run 1 (GradProperties.InGraphs(OpEntry.Unary(rightSin, Real, true), 8)) with
    | TestResult.Passed _ -> ()
    | r -> Assert.Fail $"{r}"

let ``ForOp checks each input of an op at random valid points`` () =
    match run 1 (GradProperties.ForOp(OpTable.find "pow_tensor")) with
    | TestResult.Passed _ -> ()
    | r -> Assert.Fail $"{r}"

    match run 1 (GradProperties.ForOp(OpEntry.Unary(wrongSin, Real, true))) with
    | TestResult.Failed(_, _, shrunk, _, _, _, _) ->
        let node, xs = shrunk.Head :?> OpNode * Value list
        Assert.That(node.Op.Name, Is.EqualTo "wrong_sin")
        Assert.That(xs.Length, Is.EqualTo 1)
        Assert.That(xs.Head.ToArray() |> Array.forall ((=) 0.5), $"shrunk to the plainest point: {xs.Head}")
    | r -> Assert.Fail $"the property did not fail: {r}"

let ``a deep graph is printed, checked and shrunk without recursion over its depth`` () =
    let depth = 100_000

    let nodes =
        [|
            yield Variable("x0", Real, Value.FromArray [| 0.3; -0.2 |])
            for k in 1..depth -> Apply((if k % 2 = 0 then SinOp.Instance :> Op else TanhOp.Instance), [ k - 1 ], [ Real ])
        |]

    let g = RandomGraph nodes
    Assert.That(g.NodeCount, Is.EqualTo(depth + 1))
    Assert.That((string g).Length, Is.LessThan 2000, "the text form is bounded")
    Assert.That(RandomGraph.compact nodes depth, Is.EqualTo nodes)
    let first = RandomGraph.shrink g |> Seq.truncate 3 |> List.ofSeq
    Assert.That(first |> List.map (fun c -> c.NodeCount), Is.EqualTo [ 2; 3; 4 ], "the smallest subgraphs first")
    let replaced = RandomGraph.compact (Array.updateAt (depth - 1) (Constant(Real, Value.Scalar 0.5)) nodes) depth
    Assert.That(replaced.Length, Is.EqualTo 2, "replacing a node by a constant drops its whole chain")

// ------------------------------------------------------------------ Value, Params, Shape

let ``the registered arbitraries give values, parameter sets and shapes`` (x: Value) (p: Params) (s: Shape) =
    Assert.That(x.ToArray() |> Array.forall (fun v -> v >= -2.0 && v < 2.0), $"{x}")
    Assert.That(p.Count, Is.InRange(0, 4))
    Assert.That(s.Rows, Is.InRange(1, 5))
    Assert.That(s.Cols, Is.InRange(1, 5))

let ``values, parameter sets and shapes shrink to smaller ones in their domain`` () =
    let rng = Random 7

    for d in [ Real; Positive; AwayFromZero; UnitInterval ] do
        for _ in 1..30 do
            let x = Domain.sampleValue rng d (Shapes.any rng)

            for c in Shrinks.Value(d, x) do
                Assert.That(c.Shape.Size <= x.Shape.Size, $"{c} from {x}")
                Assert.That(Domain.admits d c, $"{c} in {d}")
                Assert.That(c, Is.Not.EqualTo x)

    let p = Params.Of(struct ("w", Value.FromArray [| 0.37; 1.21 |]), struct ("b", Value.Scalar 0.5))
    let shrunk = Shrinks.Params p |> List.ofSeq
    Assert.That(shrunk |> List.take 2 |> List.map (fun q -> List.ofSeq q.Names), Is.EqualTo [ [ "b" ]; [ "w" ] ])
    Assert.That(shrunk |> List.forall (fun q -> q.Count <= 2))
    Assert.That(Shrinks.Shape(Shape.Matrix(2, 3)) |> List.ofSeq, Does.Contain Shape.Scalar)
    Assert.That(Shrinks.Shape Shape.Scalar, Is.Empty)

let ``a failing property over values shrinks to a simple value`` () =
    // A property that fails for vectors of more than one element: shrinks to vector(2) of plain elements.
    let property = Prop.forAll (Arbitraries.Value()) (fun x -> x.Shape.Size <= 1)

    match run 30 property with
    | TestResult.Failed(_, _, shrunk, _, _, _, _) ->
        let x = shrunk.Head :?> Value
        Assert.That(x.Shape.Size, Is.EqualTo 2, $"{x}")
        Assert.That(x.ToArray(), Is.EqualTo [| 0.5; 0.5 |])
    | r -> Assert.Fail $"{r}"

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "PropertyGenerators" [
        testCase "the generators' op table has a row for every op in Ops.All, in the order of the test specs" ``the generators' op table has a row for every op in Ops.All, in the order of the test specs``
        testCase "every row draws nodes that build, with inputs in their domains" ``every row draws nodes that build, with inputs in their domains``
        testPropertyWithConfig { replay Seed with maxTest = 200; arbitrary = [ typeof<Arbitraries> ] } "random graphs are valid, reach every node, and pass GradCheck at orders 1 and 2" ``random graphs are valid, reach every node, and pass GradCheck at orders 1 and 2``
        testPropertyWithConfig { replay Seed with maxTest = 60; startSize = 50; arbitrary = [ typeof<Arbitraries> ] } "every shrink candidate is a valid graph, smaller than the original" ``every shrink candidate is a valid graph, smaller than the original``
        testCase "a wrong rule hidden in a random graph is reported as a graph of at most three nodes" ``a wrong rule hidden in a random graph is reported as a graph of at most three nodes``
        testCase "FsCheck's failure message shows the shrunk graph in the library's text form" ``FsCheck's failure message shows the shrunk graph in the library's text form``
        testCase "the right rule in random graphs passes" ``the right rule in random graphs passes``
        testCase "ForOp checks each input of an op at random valid points" ``ForOp checks each input of an op at random valid points``
        testCase "a deep graph is printed, checked and shrunk without recursion over its depth" ``a deep graph is printed, checked and shrunk without recursion over its depth``
        testPropertyWithConfig { replay Seed with maxTest = 100; arbitrary = [ typeof<Arbitraries> ] } "the registered arbitraries give values, parameter sets and shapes" ``the registered arbitraries give values, parameter sets and shapes``
        testCase "values, parameter sets and shapes shrink to smaller ones in their domain" ``values, parameter sets and shapes shrink to smaller ones in their domain``
        testCase "a failing property over values shrinks to a simple value" ``a failing property over values shrinks to a simple value``
    ]
