namespace Functional.Autodiff.Generators

open System
open FsCheck
open FsCheck.FSharp
open Functional.Autodiff

/// Ready properties that check derivatives with the library's GradCheck at orders 1 and 2: for your own function at
/// random points, for your own op (a CustomOp or an Op subclass) at random valid inputs, and for your op hidden in
/// random graphs of the library's ops, where a failure shrinks to the smallest graph that still fails.
[<AbstractClass; Sealed>]
type GradProperties =
    /// FsCheck's Config.QuickThrowOnFailure replaying from a fixed seed (seed, and an odd gamma), with FsCheck's defaults
    /// otherwise: a property test that runs the same cases every time, and so is never flaky.
    static member Replay(seed: uint64, gamma: uint64) : Config =
        Config.QuickThrowOnFailure.WithReplay(Some { Rnd = Rnd(seed, gamma); Size = None })

    /// The tolerance the properties use unless told: 1e-6 absolute (scaled by the function's magnitude), 1e-5 relative.
    static member DefaultTolerance = Tolerance(1e-6, 1e-5)

    /// GradCheck of f at x at orders 1 and 2 (VJP and JVP against central differences and each other, then the same
    /// on the gradient graph), directions from the seed.
    static member Check(f: Func<Expr, Expr>, x: Value, tolerance: Tolerance, seed: int) : GradCheckReport =
        GradCheck.Run(f, x, tolerance, order = 2, seed = seed)

    /// GradCheck of f at x at orders 1 and 2 with the tolerance, directions from seed 1.
    static member Check(f: Func<Expr, Expr>, x: Value, tolerance: Tolerance) : GradCheckReport =
        GradProperties.Check(f, x, tolerance, 1)

    /// GradCheck of f at x at orders 1 and 2 with the default tolerance, directions from seed 1.
    static member Check(f: Func<Expr, Expr>, x: Value) : GradCheckReport =
        GradProperties.Check(f, x, GradProperties.DefaultTolerance, 1)

    /// The property that GradCheck passes for f at x at orders 1 and 2, its report as the label on failure.
    static member AtPoint(f: Func<Expr, Expr>, x: Value, tolerance: Tolerance) : Property =
        let report = GradProperties.Check(f, x, tolerance)
        report.Passed |> Prop.label (string report)

    /// The property that GradCheck passes for f at x at orders 1 and 2 (default tolerance).
    static member AtPoint(f: Func<Expr, Expr>, x: Value) : Property =
        GradProperties.AtPoint(f, x, GradProperties.DefaultTolerance)

    /// For all x from the arbitrary, GradCheck passes for f at x at orders 1 and 2.
    static member ForAll(values: Arbitrary<Value>, f: Func<Expr, Expr>, tolerance: Tolerance) : Property =
        Prop.forAll values (fun x -> GradProperties.AtPoint(f, x, tolerance))

    /// For all x from the arbitrary, GradCheck passes for f at x at orders 1 and 2 (default tolerance).
    static member ForAll(values: Arbitrary<Value>, f: Func<Expr, Expr>) : Property =
        GradProperties.ForAll(values, f, GradProperties.DefaultTolerance)

    /// GradCheck of every variable of the graph (the others held at their values), at orders 1 and 2; the first
    /// failing report, or None.
    static member CheckGraph(g: RandomGraph, tolerance: Tolerance) : GradCheckReport option =
        seq {
            for i in 0 .. g.Variables.Length - 1 do
                let r = GradProperties.Check(g.AsFunction i, g.VariableValue i, tolerance)

                if not r.Passed then
                    yield r
        }
        |> Seq.tryHead

    /// GradCheck of every variable of the graph (default tolerance); the first failing report, or None.
    static member CheckGraph(g: RandomGraph) : GradCheckReport option =
        GradProperties.CheckGraph(g, GradProperties.DefaultTolerance)

    /// The property that GradCheck passes for every variable of the graph; the failing report as the label.
    static member OfGraph(g: RandomGraph, tolerance: Tolerance) : Property =
        match GradProperties.CheckGraph(g, tolerance) with
        | None -> Prop.ofTestable true
        | Some r -> false |> Prop.label (string r)

    /// The property that GradCheck passes for every variable of the graph (default tolerance).
    static member OfGraph(g: RandomGraph) : Property =
        GradProperties.OfGraph(g, GradProperties.DefaultTolerance)

    /// For all graphs from the arbitrary, GradCheck passes for every variable at orders 1 and 2. A failing graph is
    /// shrunk, and FsCheck prints the smallest one that still fails in the library's text form.
    static member ForGraphs(graphs: Arbitrary<RandomGraph>, tolerance: Tolerance) : Property =
        Prop.forAll graphs (fun g -> GradProperties.OfGraph(g, tolerance))

    /// For all graphs from the arbitrary, GradCheck passes for every variable (default tolerance).
    static member ForGraphs(graphs: Arbitrary<RandomGraph>) : Property =
        GradProperties.ForGraphs(graphs, GradProperties.DefaultTolerance)

    /// Your op (its row says how to draw its inputs) at random valid points: GradCheck passes for each
    /// differentiable input alone (the others held at their values), at orders 1 and 2 if the row is smooth, else 1.
    /// A failing point is shrunk to simpler numbers.
    static member ForOp(row: OpEntry, tolerance: Tolerance) : Property =
        let tol = tolerance

        // A failing point shrinks to simpler numbers in each input's domain (the op and the shapes are kept).
        let simpler (node: OpNode, xs: Value list) =
            seq {
                for i in 0 .. xs.Length - 1 do
                    for x in RandomGraph.simplerValues node.Inputs[i].Domain xs[i] -> node, List.updateAt i x xs
            }

        let points =
            Arb.fromGenShrink (
                Gen.choose (0, Int32.MaxValue) |> Gen.map (fun seed -> OpTable.drawPoint row (Random seed)),
                simpler
            )

        Prop.forAll points (fun (node, xs) ->
            let xs = Array.ofList xs

            let failures =
                [
                    for i in 0 .. xs.Length - 1 do
                        if Domain.differentiable node.Inputs[i].Domain then
                            let f =
                                Func<Expr, Expr>(fun x ->
                                    Expr.Create(node.Op, xs |> Array.mapi (fun k v -> if k = i then x else Expr.Const v)))

                            let r =
                                GradCheck.Run(f, xs[i], tol, order = (if row.Smooth then 2 else 1), seed = 1)

                            if not r.Passed then
                                yield $"{node.Op} input {i} at {xs[i]}\n{r}"
                ]

            List.isEmpty failures |> Prop.label (String.concat "\n" failures))

    /// Your op at random valid points (default tolerance).
    static member ForOp(row: OpEntry) : Property =
        GradProperties.ForOp(row, GradProperties.DefaultTolerance)

    /// Your op hidden in random graphs of up to maxOps op nodes over the library's smooth ops and your row: GradCheck
    /// passes for every variable at orders 1 and 2, and a failure shrinks to the smallest graph that still fails.
    static member InGraphs(row: OpEntry, maxOps: int, tolerance: Tolerance) : Property =
        GradProperties.ForGraphs(Arbitraries.RandomGraph(OpTable.smooth @ [ row; row; row ], maxOps), tolerance)

    /// Your op hidden in random graphs of up to maxOps op nodes (default tolerance).
    static member InGraphs(row: OpEntry, maxOps: int) : Property =
        GradProperties.InGraphs(row, maxOps, GradProperties.DefaultTolerance)

    /// Your op hidden in random graphs of up to 6 op nodes (default tolerance).
    static member InGraphs(row: OpEntry) : Property = GradProperties.InGraphs(row, 6)
