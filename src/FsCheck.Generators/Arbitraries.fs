namespace Functional.Autodiff.Generators

open System
open FsCheck
open FsCheck.FSharp
open Functional.Autodiff

/// FsCheck generators of the library's data: shapes, values in a domain, parameter sets, random graphs. Each draw
/// that needs many random numbers takes one seed from FsCheck and draws the rest from a System.Random of that seed,
/// so a failure replays from FsCheck's seed.
[<AbstractClass; Sealed>]
type Gens =
    static member private Seeded(draw: Random -> 'T) : Gen<'T> =
        Gen.choose (0, Int32.MaxValue) |> Gen.map (fun seed -> draw (Random seed))

    /// A scalar, a vector or a matrix, 1–5 per dimension.
    static member Shape: Gen<Shape> = Gens.Seeded Shapes.any

    /// A value of the shape with elements from the domain.
    static member Value(domain: Domain, shape: Shape) : Gen<Value> =
        Gens.Seeded(fun rng -> Domain.sampleValue rng domain shape)

    /// A value of a random shape with elements from the domain (a square matrix for a matrix domain).
    static member Value(domain: Domain) : Gen<Value> =
        Gens.Seeded(fun rng ->
            let s =
                if Domain.isMatrix domain then
                    let n = Shapes.dim rng
                    Shape.Matrix(n, n)
                else
                    Shapes.any rng

            Domain.sampleValue rng domain s)

    /// A parameter set of 0–4 entries named from "w", "b", "gain", "bias", "scale", each a value of a random shape in
    /// [−2, 2).
    static member Params: Gen<Params> =
        Gens.Seeded(fun rng ->
            let names = [| "w"; "b"; "gain"; "bias"; "scale" |] |> Array.sortBy (fun _ -> rng.Next())
            let n = rng.Next 5

            Params.Of(
                Array.init n (fun k -> struct (names[k], Domain.sampleValue rng Real (Shapes.any rng)))
            ))

    /// Random graphs of 1 … maxOps op nodes drawn from the rows (see RandomGraph.draw); FsCheck's size caps the
    /// number of ops as well (size/10 + 1), so early tests are small.
    static member Graph(rows: OpEntry seq, maxOps: int) : Gen<RandomGraph> =
        let rows = List.ofSeq rows

        Gen.sized (fun size ->
            Gens.Seeded(fun rng -> RandomGraph.draw rng rows (max 1 (min maxOps (size / 10 + 1)))))

    /// Random graphs of up to 6 op nodes over the library's smooth ops (OpTable.smooth).
    static member Graph() : Gen<RandomGraph> = Gens.Graph(OpTable.smooth, 6)

/// FsCheck shrinkers of the library's data (see Arbitraries).
[<AbstractClass; Sealed>]
type Shrinks =
    /// Smaller shapes: the scalar, vector(1), one dimension less.
    static member Shape(s: Shape) : seq<Shape> = Shapes.smaller s

    /// The value in smaller shapes (its first elements), then with simpler elements in the domain.
    static member Value(domain: Domain, v: Value) : seq<Value> =
        seq {
            if not (Domain.isMatrix domain) then
                for s in Shapes.smaller v.Shape -> RandomGraph.truncated v s

            yield! RandomGraph.simplerValues domain v
        }

    /// The parameter set with one entry left out, then with one value shrunk.
    static member Params(p: Params) : seq<Params> =
        let entries = [| for kv in p -> kv.Key, kv.Value |]
        let ofEntries (es: (string * Value)[]) = Params.Of(es |> Array.map (fun (k, v) -> struct (k, v)))

        seq {
            for k in 0 .. entries.Length - 1 -> ofEntries (Array.removeAt k entries)

            for k in 0 .. entries.Length - 1 do
                let name, v = entries[k]

                for smaller in Shrinks.Value(Real, v) -> ofEntries (Array.updateAt k (name, smaller) entries)
        }

    /// Smaller valid graphs (see RandomGraph.shrink).
    static member Graph(g: RandomGraph) : seq<RandomGraph> = RandomGraph.shrink g

/// FsCheck arbitraries (generator and shrinker) of the library's data. Register the class for properties that take
/// these types as arguments: FsCheck.NUnit's Property(Arbitrary = [| typeof&lt;Arbitraries&gt; |]), Expecto's
/// { FsCheckConfig.defaultConfig with arbitrary = [ typeof&lt;Arbitraries&gt; ] }, or pass one to Prop.ForAll.
[<AbstractClass; Sealed>]
type Arbitraries =
    /// Shapes (see Gens.Shape), shrunk towards the scalar.
    static member Shape() : Arbitrary<Shape> = Arb.fromGenShrink (Gens.Shape, Shrinks.Shape)

    /// Values of random shapes in [−2, 2), shrunk to smaller shapes and simpler elements.
    static member Value() : Arbitrary<Value> = Arbitraries.Value Real

    /// Values of random shapes in the domain, shrunk within it.
    static member Value(domain: Domain) : Arbitrary<Value> =
        Arb.fromGenShrink (Gens.Value domain, (fun v -> Shrinks.Value(domain, v)))

    /// Values of the shape in the domain, shrunk to simpler elements (the shape is kept).
    static member Value(domain: Domain, shape: Shape) : Arbitrary<Value> =
        Arb.fromGenShrink (Gens.Value(domain, shape), (fun v -> RandomGraph.simplerValues domain v |> Seq.ofList))

    /// Parameter sets (see Gens.Params), shrunk by leaving entries out and shrinking values.
    static member Params() : Arbitrary<Params> = Arb.fromGenShrink (Gens.Params, Shrinks.Params)

    /// Random graphs over the library's smooth ops, shrunk to a minimal failing expression.
    static member RandomGraph() : Arbitrary<RandomGraph> = Arbitraries.RandomGraph(OpTable.smooth, 6)

    /// Random graphs over the rows (your own ops among them), shrunk to a minimal failing expression.
    static member RandomGraph(rows: OpEntry seq, maxOps: int) : Arbitrary<RandomGraph> =
        Arb.fromGenShrink (Gens.Graph(rows, maxOps), Shrinks.Graph)
