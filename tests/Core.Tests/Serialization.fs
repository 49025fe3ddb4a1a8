/// Saving and loading: System.Text.Json converters of Value, Shape and Params that round-trip every double bit for
/// bit, and the graph format (GraphJson), which round-trips any graph of the library's ops structurally, iteratively,
/// and refuses a bad file with an error that names the node and the position.
module Functional.Autodiff.Tests.Serialization

open System
open System.Collections.Generic
open System.Collections.Immutable
open System.IO
open System.Text
open System.Text.Json
open FsCheck
open FsCheck.FSharp
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Serialization
open Functional.Autodiff.Generators
open Functional.Autodiff.Tests.Common

[<Literal>]
let Seed = "(20260912,9)"

/// JsonSerializer.Deserialize through the untyped overload (F#'s nullness checks refuse Deserialize<'T> for a struct).
let fromJson<'T> (json: string) : 'T =
    match JsonSerializer.Deserialize(json, typeof<'T>) with
    | null -> Unchecked.defaultof<'T>
    | o -> unbox<'T> o

let assertMentions (ex: exn) (parts: string list) =
    for p in parts do
        Assert.That(ex.Message, Does.Contain(p).IgnoreCase, $"the message should mention '{p}'")

// ------------------------------------------------------------------ random doubles, values and parameters

/// Doubles that are easy to lose: NaNs (.NET's, the positive one, signalling and with payloads), ±∞, ±0, the
/// extremes, the subnormal boundary, and numbers whose shortest form is long.
let specials =
    [|
        Double.NaN
        -Double.NaN
        BitConverter.Int64BitsToDouble 0x7FF0000000000001L
        BitConverter.Int64BitsToDouble 0xFFF4000000000abcL
        infinity
        -infinity
        0.0
        -0.0
        Double.Epsilon
        -Double.Epsilon
        Double.MaxValue
        Double.MinValue
        2.2250738585072014E-308
        2.225073858507201E-308
        0.1
        1.0 / 3.0
        1e21
        1e-7
        123456789012345680.0
        -1.7976931348623155E+308
        4.9406564584124654E-324 * 3.0
    |]

/// Any 64-bit pattern: every double, NaN payloads and subnormals included.
let anyBits =
    Gen.choose64 (Int64.MinValue, Int64.MaxValue)
    |> Gen.map BitConverter.Int64BitsToDouble

let subnormal =
    gen {
        let! mantissa = Gen.choose64 (1L, (1L <<< 52) - 1L)
        let! negative = Gen.elements [ false; true ]
        return BitConverter.Int64BitsToDouble(if negative then mantissa ||| Int64.MinValue else mantissa)
    }

let ordinary =
    Gen.choose (-1_000_000_000, 1_000_000_000)
    |> Gen.map (fun k -> float k / 1e6)

let anyDouble =
    Gen.frequency [ 4, anyBits; 2, Gen.elements specials; 1, subnormal; 2, ordinary ]

let shapeGen =
    Gen.oneof
        [
            Gen.constant Shape.Scalar
            Gen.choose (1, 7) |> Gen.map Shape.Vector
            Gen.zip (Gen.choose (1, 5)) (Gen.choose (1, 5)) |> Gen.map Shape.Matrix
        ]

let valueGen =
    gen {
        let! s = shapeGen
        let! data = Gen.arrayOfLength s.Size anyDouble
        return T.toValue { Shape = s; Data = data }
    }

/// Names that need escaping or are not ASCII, besides plain ones.
let namePool =
    [ "w"; "b"; "layer.0/weight"; "é"; "quote\"d"; "tab\tand\nnewline"; "θ₁"; "0"; "a b"; "\\"; "W"; "<script>" ]

let paramsGen =
    gen {
        let! names = Gen.shuffle namePool
        let! n = Gen.choose (0, 6)
        let! values = Gen.arrayOfLength n valueGen
        return Params.Of(Array.init n (fun k -> struct (names[k], values[k])))
    }

[<StructuredFormatDisplay("{Display}")>]
type AnyValue =
    {
        V: Value
    }

    member x.Display = fmtValue x.V
    override x.ToString() = x.Display

[<StructuredFormatDisplay("{Display}")>]
type AnyParams =
    {
        P: Params
    }

    member x.Display =
        x.P.Entries
        |> Seq.map (fun kv -> $"{kv.Key}: {fmtValue kv.Value}")
        |> String.concat ", "
        |> sprintf "{%s}"

    override x.ToString() = x.Display

type Arbs =
    static member Value() =
        Arb.fromGen (valueGen |> Gen.map (fun v -> { V = v }))

    static member Params() =
        Arb.fromGen (paramsGen |> Gen.map (fun p -> { P = p }))

let assertParamsBits (expected: Params) (actual: Params) =
    Assert.That(List.ofSeq actual.Names, Is.EqualTo(List.ofSeq expected.Names), "names and order")

    for kv in expected do
        assertBitIdentical $"entry {kv.Key}" kv.Value actual[kv.Key]

// ------------------------------------------------------------------ values and parameters

let ``a Value round-trips through JsonSerializer bit for bit`` (x: AnyValue) =
    let json = JsonSerializer.Serialize x.V
    assertBitIdentical $"the value read back from {json}" x.V (fromJson<Value> json)

let ``Params round-trip through JsonSerializer bit for bit, keeping names and order`` (p: AnyParams) =
    let json = JsonSerializer.Serialize p.P
    assertParamsBits p.P (fromJson<Params> json)
    // Indented output reads back the same.
    let indented = JsonSerializer.Serialize(p.P, JsonSerializerOptions(WriteIndented = true))
    assertParamsBits p.P (fromJson<Params> indented)

let ``every special double round-trips bit for bit, as a scalar, in a vector and in a matrix`` () =
    for x in specials do
        let s = Value.Scalar x
        assertBitIdentical $"scalar {g17 x}" s (fromJson<Value>(JsonSerializer.Serialize s))

    let v = Value.FromArray(Array.copy specials)
    assertBitIdentical "vector" v (fromJson<Value>(JsonSerializer.Serialize v))
    let m = T.toValue { Shape = Shape.Matrix(3, 7); Data = Array.copy specials }
    assertBitIdentical "matrix" m (fromJson<Value>(JsonSerializer.Serialize m))

let ``the JSON form: shape and row-major data, numbers in shortest form, named strings for the rest`` () =
    Assert.That(JsonSerializer.Serialize(Value.Scalar 1.5), Is.EqualTo """{"shape":[],"data":1.5}""")
    Assert.That(JsonSerializer.Serialize(Value.FromArray [| 0.1; -0.0; 5e-324 |]), Is.EqualTo """{"shape":[3],"data":[0.1,-0,5E-324]}""")

    Assert.That(
        JsonSerializer.Serialize(Value.FromRows([| 1.0; 2.0; 3.0 |], [| 4.0; 5.0; 6.0 |])),
        Is.EqualTo """{"shape":[2,3],"data":[1,2,3,4,5,6]}""",
        "a matrix is written row-major (row 0 first), as NumPy reads it"
    )

    Assert.That(
        JsonSerializer.Serialize(Value.FromArray [| nan; infinity; -infinity; -nan |]),
        Is.EqualTo """{"shape":[4],"data":["NaN","Infinity","-Infinity","NaN(0x7FF8000000000000)"]}"""
    )

    Assert.That(JsonSerializer.Serialize(Shape.Matrix(2, 3)), Is.EqualTo "[2,3]")
    Assert.That(JsonSerializer.Serialize(Shape.Vector 4), Is.EqualTo "[4]")
    Assert.That(JsonSerializer.Serialize Shape.Scalar, Is.EqualTo "[]")

    for s in [ Shape.Scalar; Shape.Vector 4; Shape.Matrix(2, 3) ] do
        Assert.That(fromJson<Shape>(JsonSerializer.Serialize s), Is.EqualTo s)

let ``plain JsonSerializer.Serialize of Params writes the numbers (before the converters it wrote only shapes)`` () =
    // Before issue 9 this printed [{"Key":"w","Value":{"Shape":{"Rank":1,…}}},…]: no number at all.
    let p = Params.Of(struct ("w", Value.FromArray [| 1.25; -2.5 |]), struct ("b", Value.Scalar 0.75))
    let json = JsonSerializer.Serialize p

    Assert.That(json, Is.EqualTo """{"w":{"shape":[2],"data":[1.25,-2.5]},"b":{"shape":[],"data":0.75}}""")
    assertParamsBits p (fromJson<Params> json)

let ``a scalar's data may also be a one-element array, and the properties may come in either order`` () =
    assertBitIdentical "[2.5]" (Value.Scalar 2.5) (fromJson<Value> """{"shape":[],"data":[2.5]}""")

    assertBitIdentical
        "data first"
        (Value.FromRows([| 1.0; 2.0 |], [| 3.0; 4.0 |]))
        (fromJson<Value> """{"data":[1,2,3,4],"shape":[2,2]}""")

let ``values and Params inside structures use the converters too`` () =
    let d = Dictionary<string, Value>()
    d["a"] <- Value.FromArray [| -0.0; nan |]
    d["b"] <- Value.Scalar infinity
    let back = fromJson<Dictionary<string, Value>>(JsonSerializer.Serialize d)
    assertBitIdentical "a" d["a"] back["a"]
    assertBitIdentical "b" d["b"] back["b"]
    let arr = [| Value.Scalar 1.0; Value.FromRows([| 1.0; 2.0 |]) |]
    let arrBack = fromJson<Value[]>(JsonSerializer.Serialize arr)
    Array.iter2 (assertBitIdentical "array element") arr arrBack
    let ps = ResizeArray [ Params.Of(struct ("w", Value.Scalar 2.0)); Params.Of() ]
    let psBack = fromJson<ResizeArray<Params>>(JsonSerializer.Serialize ps)
    Seq.iter2 assertParamsBits ps psBack
    let maybe: Nullable<Value> = Nullable(Value.Scalar -0.0)
    assertBitIdentical "nullable" maybe.Value (fromJson<Nullable<Value>>(JsonSerializer.Serialize maybe)).Value
    Assert.That(fromJson<Nullable<Value>> "null", Is.EqualTo(Nullable<Value>()))
    Assert.That(fromJson<Params> "null", Is.Null)

// ------------------------------------------------------------------ value and parameter errors

let readFails<'T> (json: string) (parts: string list) =
    let ex = Assert.Catch<JsonException>(TestDelegate(fun () -> fromJson<'T> json |> ignore)) |> nonNull
    assertMentions ex parts
    ex

let ``bad values are refused with the problem, the path and the line`` () =
    let ex =
        readFails<Params> "{\"w\":\n {\"shape\":[2,3],\"data\":[1,2]}}" [ "parameter \"w\""; "2 numbers"; "[2, 3]"; "needs 6"; "row-major"; "Path: $"; "LineNumber: 1" ]

    Assert.That(ex.LineNumber, Is.EqualTo(Nullable 1L))
    readFails<Value> """{"shape":[3],"data":[1,"x",3]}""" [ "element 1"; "\"x\""; "expected a number"; "\"NaN\"" ] |> ignore
    readFails<Value> """{"shape":[3],"data":[1,null,3]}""" [ "element 1"; "null" ] |> ignore
    readFails<Value> """{"shape":[3],"Data":[1,2,3]}""" [ "unknown property \"Data\""; "\"shape\"" ] |> ignore
    readFails<Value> """{"data":[1,2,3]}""" [ "no \"shape\"" ] |> ignore
    readFails<Value> """{"shape":[3]}""" [ "no \"data\"" ] |> ignore
    readFails<Value> """{"shape":[3],"data":[]}""" [ "empty array" ] |> ignore
    readFails<Value> """{"shape":[3],"data":1}""" [ "one number"; "array of 3" ] |> ignore
    readFails<Value> """{"shape":[],"data":[1,2]}""" [ "2 numbers"; "scalar" ] |> ignore
    readFails<Value> """{"shape":[2,3,4],"data":[1]}""" [ "more than two dimensions" ] |> ignore
    readFails<Value> """{"shape":[0],"data":[1]}""" [ "dimension 0"; "at least 1" ] |> ignore
    readFails<Value> """{"shape":[1.5],"data":[1]}""" [ "dimension 0"; "1.5"; "whole number" ] |> ignore
    readFails<Value> """{"shape":[100000,100000],"data":[1]}""" [ "more than the" ] |> ignore
    readFails<Value> """{"shape":[1],"shape":[1],"data":[1]}""" [ "\"shape\" twice" ] |> ignore
    readFails<Value> "[1,2]" [ "an array"; "\"shape\"" ] |> ignore
    readFails<Value> "null" [ "null" ] |> ignore
    readFails<Value> """{"shape":[1],"data":["NaN(0x0000000000000001)"]}""" [ "NaN(0x0000000000000001)"; "expected a number" ] |> ignore
    readFails<Params> """{"w":{"shape":[],"data":1},"w":{"shape":[],"data":2}}""" [ "\"w\" is given twice" ] |> ignore
    readFails<Params> """{"":{"shape":[],"data":1}}""" [ "empty name" ] |> ignore
    readFails<Params> "[]" [ "an array"; "object" ] |> ignore
    readFails<Shape> "[1,2,3]" [ "more than two dimensions" ] |> ignore

let ``the message of a bad value ends with the user's line`` () =
    let ex = readFails<Value> """{"shape":[2],"data":[1]}""" [ "1 number," ]
    Assert.That(ex.Message, Does.Match @"\(at Serialization\.fs:\d+\)$")

let ``every truncation of saved Params is refused`` () =
    let p = Params.Of(struct ("w", Value.FromRows([| 1.5; nan |], [| -0.0; 1e-310 |])), struct ("b", Value.Scalar 2.0))
    let json = JsonSerializer.Serialize p

    for n in 0 .. json.Length - 1 do
        Assert.Catch<JsonException>(TestDelegate(fun () -> fromJson<Params>(json.Substring(0, n)) |> ignore)) |> ignore

// ------------------------------------------------------------------ graphs: random graphs of the library's ops

/// A random DAG of 1–12 op nodes drawn from the op table: each input is an earlier node of the right shape (so nodes
/// are shared) or a new leaf, a constant (sometimes with special numbers) or a variable (traced with a value, or
/// symbolic); class labels and the matrices of a matrix domain (invertible, SPD) are always fresh valid constants.
/// The root sums every op node, so all are reachable.
let randomGraph (seed: int) (traced: bool) =
    let rng = Random seed
    let pool = ResizeArray<Expr>()
    let vars = ResizeArray<Var>()

    let leaf (a: OpSpecs.Arg) =
        let t = OpSpecs.sampleTensor rng a.Domain a.Shape

        match a.Domain with
        | ClassIndex _ -> Expr.Const(T.toValue t)
        | d when OpSpecs.isMatrixDomain d -> Expr.Const(T.toValue t)
        | _ when rng.Next 3 = 0 ->
            let t = T.map (fun x -> if rng.Next 6 = 0 then specials[rng.Next specials.Length] else x) t
            Expr.Const(T.toValue t)
        | _ ->
            let name = $"v{vars.Count}"
            let v = if traced then Expr.Var(name, T.toValue t) else Expr.Var(name, a.Shape)
            vars.Add v
            pool.Add v
            v :> Expr

    for _ in 1 .. rng.Next(1, 13) do
        let spec = OpSpecs.all[rng.Next OpSpecs.all.Length]
        let case = spec.Draw rng

        let inputs =
            case.Args
            |> List.map (fun a ->
                let fits = pool |> Seq.filter (fun e -> e.Shape = a.Shape) |> Array.ofSeq

                match a.Domain with
                | ClassIndex _ -> leaf a
                | d when OpSpecs.isMatrixDomain d -> leaf a
                | _ when fits.Length > 0 && rng.Next 2 = 0 -> fits[rng.Next fits.Length]
                | _ -> leaf a)

        pool.Add(Expr.Create(case.Op, Array.ofList inputs))

    let root =
        pool
        |> Seq.filter (fun e -> e :? Apply)
        |> Seq.map Expr.Sum
        |> Seq.reduce (+)

    root, List.ofSeq vars

let bind (vars: Var seq) = GraphJsonOptions(Variables = vars)

let assertRoundTrip (root: Expr) (vars: Var list) =
    let json = GraphJson.Serialize root
    // Loaded onto the same variables, the graph is structurally equal to the one saved.
    let same = GraphJson.Deserialize(json, bind vars)
    Assert.That(Graph.StructurallyEqual(same.Root, root), Is.True, $"loaded onto the same variables, not structurally equal:\n{json}")
    // Loaded onto new variables: the same variables by name, shape and value, in the file's order, and the same file.
    let loaded = GraphJson.Deserialize json
    let reads = Graph.PostOrder root |> Seq.choose (function :? Var as v -> Some v | _ -> None) |> List.ofSeq
    Assert.That(loaded.Variables |> Seq.map (fun v -> v.Name) |> List.ofSeq, Is.EqualTo(reads |> List.map (fun v -> v.Name)))

    for a, b in Seq.zip reads loaded.Variables do
        Assert.That(b.Shape, Is.EqualTo a.Shape, $"shape of {a.Name}")
        Assert.That(b.HasValue, Is.EqualTo a.HasValue, $"value of {a.Name}")
        if a.HasValue then assertBitIdentical $"value of {a.Name}" a.Value b.Value
        Assert.That(obj.ReferenceEquals(a, b), Is.False, "unbound variables are new objects")

    Assert.That(GraphJson.Serialize loaded.Root, Is.EqualTo json, "saving the loaded graph gives the same file")
    loaded

let ``random graphs of traced variables round-trip structurally equal and evaluate to the same bits`` (seed: int) =
    let root, vars = randomGraph seed true
    let loaded = assertRoundTrip root vars
    assertBitIdentical $"the value of the loaded graph (seed {seed})" root.Value loaded.Root.Value

let ``random graphs of symbolic variables round-trip structurally equal and evaluate to the same bits`` (seed: int) =
    let root, vars = randomGraph seed false
    let loaded = assertRoundTrip root vars
    let rng = Random(seed + 1)
    let values = vars |> List.map (fun v -> T.toValue (randomOf rng v.Shape))

    let expected = AD.Eval(root, bindings (List.zip vars values))
    let actual = AD.Eval(loaded.Root, bindings (List.zip (List.ofSeq loaded.Variables) values))
    assertBitIdentical $"the value of the loaded graph (seed {seed})" expected actual

let opNames = Ops.All |> Seq.map (fun op -> op.Name) |> Array.ofSeq

let ``the registry names every op in Ops.All, and no other`` () =
    Assert.That(List.ofSeq OpRegistry.BuiltIn.Names, Is.EquivalentTo opNames, "ops in Ops.All that the graph format cannot save: add them in Serialization/OpRegistry.cs")

let ``every op in Ops.All round-trips through the graph format`` (name: string) =
    let spec = OpSpecs.find name
    let rng = Random(stableSeed ("json " + name))

    for _ in 1..10 do
        let case, xs = OpSpecs.drawPoint spec rng
        let vars = xs |> List.mapi (fun i x -> Expr.Var($"x{i}", T.toValue x))
        let leaves = List.map2 (fun (a: OpSpecs.Arg) (v: Var) -> match a.Domain with ClassIndex _ -> Expr.Const v.Value | _ -> v :> Expr) case.Args vars
        let node = Expr.Create(case.Op, Array.ofList leaves)
        let used = vars |> List.filter (fun v -> leaves |> List.exists (fun l -> obj.ReferenceEquals(l, v)))
        let loaded = assertRoundTrip node used
        Assert.That(loaded.Root.Op, Is.EqualTo case.Op, $"{case.Op} comes back with its parameters")
        assertBitIdentical $"value of {case.Op}" node.Value loaded.Root.Value

let ``a shared node is saved once and stays shared; one variable is one node`` () =
    let x = Expr.Var("x", Shape.Vector 2)
    let s = Expr.Sin x
    let y = s * s + x
    let json = GraphJson.Serialize y
    use doc = JsonDocument.Parse json
    Assert.That(doc.RootElement.GetProperty("nodes").GetArrayLength(), Is.EqualTo 4, json)
    let loaded = GraphJson.Deserialize json
    let product = loaded.Root.Inputs[0]
    Assert.That(obj.ReferenceEquals(product.Inputs[0], product.Inputs[1]), Is.True, "sin x is one node")
    Assert.That(obj.ReferenceEquals(product.Inputs[0].Inputs[0], loaded.Root.Inputs[1]), Is.True, "x is one variable")
    Assert.That(loaded.Variables.Length, Is.EqualTo 1)

let ``distinct variables with one name stay distinct`` () =
    let a, b = Expr.Var("x", Value.Scalar 2.0), Expr.Var("x", Value.Scalar 3.0)
    let loaded = GraphJson.Deserialize(GraphJson.Serialize(a * b))
    Assert.That(loaded.Variables.Length, Is.EqualTo 2)
    Assert.That(obj.ReferenceEquals(loaded.Variables[0], loaded.Variables[1]), Is.False)
    Assert.That(loaded.Root.Value.ToScalar(), Is.EqualTo 6.0)
    let ex = throws<InvalidOperationException>(fun () -> loaded.Variable "x" |> ignore)
    assertMentions ex [ "several variables named 'x'"; "Variables" ]
    let ex = throws<GraphFormatException>(fun () -> GraphJson.Deserialize(GraphJson.Serialize(a * b), bind [ a ]) |> ignore)
    assertMentions ex [ "more than one variable named 'x'"; "ambiguous" ]

let ``the file lists nodes in post-order with their ops, parameters and values`` () =
    let x = Expr.Var("x", Shape.Vector 3)
    let y = Expr.Sum(Expr.Sin x * 2.0 + Expr.Pow(x, 3.0))

    Assert.That(
        GraphJson.Serialize y,
        Is.EqualTo(
            """{"format":"functional-autodiff-graph","version":1,"nodes":[{"var":"x","shape":[3]},{"op":"sin","inputs":[0]},"""
            + """{"const":{"shape":[],"data":2}},{"op":"mul","inputs":[1,2]},{"op":"pow","params":{"exponent":3},"inputs":[0]},"""
            + """{"op":"add","inputs":[3,4]},{"op":"sum","inputs":[5]}],"root":6}"""
        )
    )

    let w = Expr.Var("w", Value.FromArray [| 1.0; -0.0 |])
    Assert.That(GraphJson.Serialize(Expr.Sum w), Does.StartWith """{"format":"functional-autodiff-graph","version":1,"nodes":[{"var":"w","shape":[2],"value":{"shape":[2],"data":[1,-0]}}""")

let ``streams and writers: a graph saved beside the parameters in one document loads back`` () =
    let w = Expr.Var("w", Value.FromArray [| 0.5; -1.5 |])
    let y = Expr.Sum(Expr.Tanh(w * 3.0))
    use stream = new MemoryStream()
    GraphJson.Serialize(stream, y)
    stream.Position <- 0L
    let loaded = GraphJson.Deserialize(stream, bind [ w ])
    Assert.That(Graph.StructurallyEqual(loaded.Root, y), Is.True)
    // One document holding the parameters and the graph, through the writer overload.
    use buffer = new MemoryStream()
    let writer = new Utf8JsonWriter(buffer)
    writer.WriteStartObject()
    writer.WritePropertyName "params"
    JsonSerializer.Serialize(writer, Params.Of(struct ("w", w.Value)))
    writer.WritePropertyName "graph"
    GraphJson.Serialize(writer, y)
    writer.WriteEndObject()
    writer.Dispose()
    use doc = JsonDocument.Parse(buffer.ToArray())
    let p = fromJson<Params>(doc.RootElement.GetProperty("params").GetRawText())
    let g = GraphJson.Deserialize(doc.RootElement.GetProperty("graph").GetRawText())
    assertBitIdentical "w" w.Value p["w"]
    assertBitIdentical "value" y.Value g.Root.Value
    // A UTF-8 byte-order mark is skipped.
    let bom = Array.append [| 0xEFuy; 0xBBuy; 0xBFuy |] (Encoding.UTF8.GetBytes(GraphJson.Serialize y))
    assertBitIdentical "with a BOM" y.Value (GraphJson.Deserialize(ReadOnlySpan bom)).Root.Value

// ------------------------------------------------------------------ graphs: depth

let ``a million-node chain saves and loads without recursion, and computes the same number`` () =
    // The chain of Depth: a traced x, the n op nodes, and a constant for each add, mul and sub.
    let x = Expr.Var("x", Value.Scalar Depth.x0)
    let y = Depth.chain x
    let json = GraphJson.Serialize y
    let loaded = GraphJson.Deserialize(json, bind [ x ])
    Assert.That(Graph.StructurallyEqual(loaded.Root, y), Is.True)
    assertBitIdentical "the chain's value" y.Value loaded.Root.Value
    Assert.That(json, Does.EndWith $"\"root\":{Depth.n + Depth.n / 2}}}")

// ------------------------------------------------------------------ graphs: own ops

let logSumExp =
    CustomOp.FromComposite(
        "logsumexp",
        1,
        Func<ImmutableArray<Expr>, Expr>(fun x -> x[0][0] - Expr.LogSoftmax(x[0])[0]),
        Func<int, ImmutableArray<Expr>, Expr, Expr, Expr>(fun _ x _ ybar -> ybar * Expr.Softmax(x[0])),
        Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr>, Expr>(fun x _ dx -> Expr.Sum(Expr.Softmax(x[0]) * dx[0]))
    )

/// An op of one's own with a parameter: y = k·x.
type ScaleOp(k: float) =
    inherit ElementwiseOp()
    member _.K = k
    override _.Name = "scale"
    override _.Apply(x: float) = k * x
    override _.Derivative(x, _) = Expr.Full(x.Shape, k)

    override _.Equals(o) =
        match o with
        | :? ScaleOp as s -> s.K.Equals k
        | _ -> false

    override _.GetHashCode() = k.GetHashCode()

let ``a CustomOp without a registered name cannot be saved, and the message says how to register it`` () =
    let x = Expr.Var("x", Value.FromArray [| 1.0; 2.0 |])
    let ex = throws<ArgumentException>(fun () -> GraphJson.Serialize(Expr.Create(logSumExp, x)) |> ignore)
    assertMentions ex [ "node 1"; "'logsumexp'"; "CustomOp"; "no registered name"; "OpRegistry.BuiltIn.With(\"logsumexp\""; "GraphJsonOptions.Ops" ]
    let ex = throws<ArgumentException>(fun () -> GraphJson.Serialize(Expr.Create(ScaleOp 2.0, x)) |> ignore)
    assertMentions ex [ "'scale'"; "ScaleOp"; "no registered name" ]

let ``a file naming an op that is not registered is refused with how to register it`` () =
    let x = Expr.Var("x", Value.FromArray [| 1.0; 2.0 |])
    let ops = OpRegistry.BuiltIn.With("logsumexp", fun () -> logSumExp :> Op)
    let json = GraphJson.Serialize(Expr.Create(logSumExp, x), GraphJsonOptions(Ops = ops))
    let ex = throws<GraphFormatException>(fun () -> GraphJson.Deserialize json |> ignore)
    assertMentions ex [ "node 1"; "'logsumexp'"; "neither a library op nor registered"; "OpRegistry.BuiltIn.With(\"logsumexp\""; "GraphJsonOptions.Ops" ]
    Assert.That(ex.Node, Is.EqualTo(Nullable 1))

let ``registered ops of one's own round-trip, with their parameters`` () =
    let x = Expr.Var("x", Value.FromArray [| 1000.0; 1000.0; 999.0 |])
    let y = Expr.Create(logSumExp, Expr.Create(ScaleOp 0.5, x)) * Expr.Create(ScaleOp -3.0, x)[0]

    let ops =
        OpRegistry.BuiltIn
            .With("logsumexp", fun () -> logSumExp :> Op)
            .With<ScaleOp>("scale", (fun w op -> w.WriteNumber("k", op.K)), fun p -> ScaleOp(p.GetProperty("k").GetDouble()))

    let options = GraphJsonOptions(Ops = ops)
    let json = GraphJson.Serialize(y, options)
    Assert.That(json, Does.Contain """{"op":"scale","params":{"k":0.5},"inputs":[0]}""")
    let loaded = GraphJson.Deserialize(json, GraphJsonOptions(Ops = ops, Variables = [ x ]))
    Assert.That(Graph.StructurallyEqual(loaded.Root, y), Is.True)
    assertBitIdentical "value" y.Value loaded.Root.Value
    Assert.That(List.ofSeq ops.Names, Does.Contain "scale")
    Assert.That(ops.Contains "logsumexp" && not (OpRegistry.BuiltIn.Contains "logsumexp"), Is.True)

let ``the registry refuses a library op's name, a name twice, and a factory that makes another op`` () =
    assertMentions (throws<ArgumentException>(fun () -> OpRegistry.BuiltIn.With("add", fun () -> logSumExp :> Op) |> ignore)) [ "'add'"; "library op" ]
    let ops = OpRegistry.BuiltIn.With("logsumexp", fun () -> logSumExp :> Op)
    assertMentions (throws<ArgumentException>(fun () -> ops.With("logsumexp", fun () -> logSumExp :> Op) |> ignore)) [ "registered already" ]
    let liar = OpRegistry.BuiltIn.With("other", fun () -> logSumExp :> Op)
    let json = """{"format":"functional-autodiff-graph","version":1,"nodes":[{"const":{"shape":[2],"data":[1,2]}},{"op":"other","inputs":[0]}],"root":1}"""
    let ex = throws<GraphFormatException>(fun () -> GraphJson.Deserialize(json, GraphJsonOptions(Ops = liar)) |> ignore)
    assertMentions ex [ "node 1"; "made an op named 'logsumexp'" ]
    // A custom op named like a library op cannot be saved: a file could not tell them apart.
    let fake =
        CustomOp(
            "sin",
            1,
            Func<ImmutableArray<Shape>, Shape>(fun s -> s[0]),
            Func<ImmutableArray<Value>, Value>(fun v -> v[0]),
            Func<int, ImmutableArray<Expr>, Expr, Expr, Expr>(fun _ _ _ ybar -> ybar),
            Func<ImmutableArray<Expr>, Expr, ImmutableArray<Expr>, Expr>(fun _ _ dx -> dx[0])
        )

    let ex = throws<ArgumentException>(fun () -> GraphJson.Serialize(Expr.Create(fake, Expr.Const 1.0)) |> ignore)
    assertMentions ex [ "'sin'"; "name of a library op" ]

// ------------------------------------------------------------------ graphs: bad files

let file (nodes: string list) (root: int) =
    sprintf """{"format":"functional-autodiff-graph","version":1,"nodes":[%s],"root":%d}""" (String.concat "," nodes) root

let vec3 = """{"var":"x","shape":[3]}"""

let loadFails (json: string) (parts: string list) =
    let ex = throws<GraphFormatException>(fun () -> GraphJson.Deserialize json |> ignore)
    assertMentions ex parts
    Assert.That(ex.Message, Does.Match @"\(at Serialization\.fs:\d+\)$", "the message ends with the user's line")
    ex

let ``malformed JSON is refused with its line and column`` () =
    let ex = loadFails "{\"format\":\"functional-autodiff-graph\",\n  \"version\":1 \"nodes\":[]}" [ "not valid JSON"; "line 2, column" ]
    Assert.That(ex.Line, Is.EqualTo 2L)
    Assert.That(ex.InnerException, Is.InstanceOf<JsonException>())
    loadFails "" [ "not valid JSON" ] |> ignore
    loadFails (file [ vec3 ] 0 + " {}") [ "not valid JSON" ] |> ignore

let ``every truncation of a saved graph is refused, never half loaded`` () =
    let x = Expr.Var("x", Value.FromRows([| 1.0; 2.0 |], [| 3.0; 4.0 |]))
    let y = Expr.Sum(Expr.MatMul(x, Expr.Transpose x) + Expr.Create(ScatterOp(Shape.Matrix(2, 2), 1, Nullable 0), x[0, 1]))
    let json = GraphJson.Serialize(y, GraphJsonOptions(Indented = true))

    for n in 0 .. json.Length - 1 do
        let ex = throws<GraphFormatException>(fun () -> GraphJson.Deserialize(json.Substring(0, n)) |> ignore)
        Assert.That(ex.BytePosition, Is.InRange(0L, int64 n), $"the position of the error in the first {n} characters")

let ``the position is the line and column of the offending node`` () =
    let x = Expr.Var("x", Shape.Vector 3)
    let json = GraphJson.Serialize(Expr.Sum(Expr.Sin x), GraphJsonOptions(Indented = true))
    let bad = json.Replace("\"sin\"", "\"sine\"")
    let ex = loadFails bad [ "'sine'"; "node 1" ]
    // The node starts at the "{" before "op": "sine".
    let at = bad.LastIndexOf('{', bad.IndexOf "\"sine\"")
    let line = bad.Substring(0, at).Split('\n').Length
    let column = at - bad.LastIndexOf('\n', at)
    Assert.That((ex.Line, ex.Column, ex.BytePosition), Is.EqualTo((int64 line, int64 column, int64 at)))
    Assert.That(ex.Message, Does.Contain $"node 1, line {line}, column {column}, byte {at}")

let ``an unknown op, a bad input index, a wrong arity: each refused with the node and what was expected`` () =
    loadFails (file [ vec3; """{"op":"frobnicate","inputs":[0]}""" ] 1) [ "node 1"; "'frobnicate'"; "neither a library op nor registered" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin","inputs":[5]}""" ] 1) [ "input 0 of node 1 is node 5"; "does not come before node 1"; "post-order"; "0 to 0" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin","inputs":[1]}""" ] 1) [ "input 0 of node 1 is node 1"; "does not come before" ] |> ignore
    loadFails (file [ """{"op":"sin","inputs":[0]}""" ] 0) [ "node 0 has no earlier nodes" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin","inputs":[-1]}""" ] 1) [ "input 0 of node 1 is the number -1"; "index of an earlier node" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin","inputs":["0"]}""" ] 1) [ "input 0 of node 1 is the string \"0\"" ] |> ignore
    loadFails (file [ vec3; """{"op":"add","inputs":[0]}""" ] 1) [ "node 1 gives op 'add' 1 input(s)"; "takes 2" ] |> ignore
    loadFails (file [ vec3; """{"op":"add","inputs":[0,0,0,0,0]}""" ] 1) [ "more than 4 inputs" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin"}""" ] 1) [ "node 1"; "no \"inputs\"" ] |> ignore

let ``shapes that do not fit are refused when the graph is rebuilt`` () =
    let ex =
        loadFails
            (file [ vec3; """{"var":"y","shape":[2]}"""; """{"op":"add","inputs":[0,1]}""" ] 2)
            [ "node 2 (add) does not fit its inputs when the graph is rebuilt"; "vector(3)"; "vector(2)" ]

    Assert.That(ex.InnerException, Is.InstanceOf<ShapeMismatchException>())
    Assert.That(ex.Message.IndexOf "(at ", Is.EqualTo(ex.Message.LastIndexOf "(at "), "the user's line once")
    loadFails (file [ vec3; """{"op":"index","params":{"i":3},"inputs":[0]}""" ] 1) [ "node 1 (index)"; "outside vector(3)" ] |> ignore
    loadFails (file [ vec3; """{"op":"matmul","inputs":[0,0]}""" ] 1) [ "matmul"; "vector(3)" ] |> ignore
    // Labels are checked where the node is rebuilt, as where it is built.
    loadFails (file [ """{"const":{"shape":[],"data":7}}"""; """{"op":"one_hot","params":{"classes":3},"inputs":[0]}""" ] 1) [ "node 1 (one_hot)"; "label 7" ] |> ignore

let ``bad parameters are refused with the op and the parameter`` () =
    loadFails (file [ vec3; """{"op":"pow","params":{"exponent":"two"},"inputs":[0]}""" ] 1) [ "node 1"; "parameter \"exponent\" of pow"; "\"two\"" ] |> ignore
    loadFails (file [ vec3; """{"op":"pow","params":{"exponent":"Infinity"},"inputs":[0]}""" ] 1) [ "node 1"; "pow"; "finite" ] |> ignore
    loadFails (file [ vec3; """{"op":"pow","inputs":[0]}""" ] 1) [ "pow needs its parameters"; "\"exponent\"" ] |> ignore
    loadFails (file [ vec3; """{"op":"pow","params":{"exponent":2,"base":3},"inputs":[0]}""" ] 1) [ "pow has no parameter \"base\"" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin","params":{},"inputs":[0]}""" ] 1) [ "sin takes no parameters" ] |> ignore
    loadFails (file [ vec3; """{"op":"index","params":{"j":1},"inputs":[0]}""" ] 1) [ "params of index have no \"i\"" ] |> ignore
    loadFails (file [ """{"const":{"shape":[],"data":1}}"""; """{"op":"scatter","params":{"target":[3],"i":4},"inputs":[0]}""" ] 1) [ "node 1"; "scatter"; "outside vector(3)" ] |> ignore
    loadFails (file [ vec3; """{"op":"broadcast_rows","params":{"rows":0},"inputs":[0]}""" ] 1) [ "parameter \"rows\" of broadcast_rows"; "at least 1" ] |> ignore
    loadFails (file [ """{"const":{"shape":[],"data":1}}"""; """{"op":"broadcast","params":{"target":[2,2,2]},"inputs":[0]}""" ] 1) [ "parameter \"target\" of broadcast"; "more than two dimensions" ] |> ignore

let ``data that do not match their shape, and malformed nodes, are refused`` () =
    loadFails (file [ """{"const":{"shape":[2,2],"data":[1,2,3]}}""" ] 0) [ "node 0"; "the constant of node 0"; "3 numbers"; "needs 4" ] |> ignore
    loadFails (file [ """{"var":"x","shape":[2],"value":{"shape":[2],"data":[1,2,3]}}""" ] 0) [ "the value of node 0"; "3 numbers" ] |> ignore
    loadFails (file [ """{"var":"x","shape":[2],"value":{"shape":[3],"data":[1,2,3]}}""" ] 0) [ "shape [2] (vector(2))"; "value of shape [3]" ] |> ignore
    loadFails (file [ """{"var":"x"}""" ] 0) [ "variable node 0 ('x') has no \"shape\"" ] |> ignore
    loadFails (file [ """{"var":"","shape":[]}""" ] 0) [ "the name of variable node 0"; "empty" ] |> ignore
    loadFails (file [ """{"var":"x","shape":[],"op":"sin"}""" ] 0) [ "more than one of" ] |> ignore
    loadFails (file [ """{"shape":[]}""" ] 0) [ "none of" ] |> ignore
    loadFails (file [ """{"const":{"shape":[],"data":1},"inputs":[]}""" ] 0) [ "constant node 0 has properties other than" ] |> ignore
    loadFails (file [ """{"const":{"shape":[],"data":1},"colour":"red"}""" ] 0) [ "unknown property \"colour\"" ] |> ignore
    loadFails (file [ "[]" ] 0) [ "node 0 is an array" ] |> ignore
    loadFails (file [ vec3; """{"op":"sin","inputs":[0],"inputs":[0]}""" ] 1) [ "\"inputs\" twice" ] |> ignore

let ``the document: format, version, nodes and root are required and checked`` () =
    loadFails (file [ vec3 ] 3) [ "\"root\" is node 3"; "1 node(s)" ] |> ignore
    loadFails (file [] 0) [ "\"nodes\" is empty" ] |> ignore
    loadFails """{"format":"functional-autodiff-graph","version":1,"nodes":[{"var":"x","shape":[]}]}""" [ "no \"root\"" ] |> ignore
    loadFails """{"nodes":[{"var":"x","shape":[]}],"root":0}""" [ "no \"format\", \"version\"" ] |> ignore
    loadFails ((file [ vec3 ] 0).Replace("\"version\":1", "\"version\":2")) [ "\"version\" is the number 2"; "version 1" ] |> ignore
    loadFails ((file [ vec3 ] 0).Replace("functional-autodiff-graph", "onnx")) [ "not a graph file of Functional.Autodiff" ] |> ignore
    loadFails ((file [ vec3 ] 0).Replace("\"root\"", "\"extra\":1,\"root\"")) [ "unknown property \"extra\"" ] |> ignore
    loadFails "[1,2]" [ "the file is an array" ] |> ignore

let ``a variable bound to one of another shape is refused; unused bindings are ignored`` () =
    let x = Expr.Var("x", Shape.Vector 3)
    let json = GraphJson.Serialize(Expr.Sum x)
    let ex = throws<GraphFormatException>(fun () -> GraphJson.Deserialize(json, bind [ Expr.Var("x", Shape.Vector 2) ]) |> ignore)
    assertMentions ex [ "variable 'x'"; "[3] (vector(3)) in the file"; "[2] (vector(2))" ]
    let loaded = GraphJson.Deserialize(json, bind [ x; Expr.Var("unused", Shape.Scalar) ])
    Assert.That(obj.ReferenceEquals(loaded.Variable "x", x), Is.True)
    let ex = throws<ArgumentException>(fun () -> GraphJson.Deserialize(json, bind [ x; Expr.Var("x", Shape.Scalar) ]) |> ignore)
    assertMentions ex [ "two variables named 'x'" ]
    let ex = throws<KeyNotFoundException>(fun () -> loaded.Variable "y" |> ignore)
    assertMentions ex [ "no variable named 'y'"; "x" ]

// ------------------------------------------------------------------ structured values (Tree.ToJson / FromJson)

type Layer<'T> = { W: 'T; B: 'T }

let private layerGen =
    gen {
        let! w = valueGen
        let! b = valueGen
        return { W = w; B = b }
    }

let private assertLeavesBits (what: string) (expected: ImmutableArray<Value>) (actual: ImmutableArray<Value>) =
    Assert.That(actual.Length, Is.EqualTo expected.Length, $"{what}: the number of leaves")
    for k in 0 .. expected.Length - 1 do
        assertBitIdentical $"{what}: leaf {k}" expected[k] actual[k]

let ``a structured value round-trips through Tree.ToJson bit for bit, keeping its form`` () =
    let structure =
        gen {
            let! layers = Gen.listOfLength 3 layerGen
            let! n = Gen.choose (0, 3)
            let! extra = Gen.arrayOfLength n valueGen
            let! p = paramsGen
            let! s = anyDouble
            let! keys = Gen.shuffle [ "b"; "a"; "é"; "A" ]
            let! dictValues = Gen.arrayOfLength 4 valueGen
            return struct (layers, extra, p, s, Map(Seq.zip keys dictValues))
        }

    Prop.forAll (Arb.fromGen structure) (fun x ->
        let json = Tree.ToJson x
        let back = Tree.FromJson<struct (Layer<Value> list * Value[] * Params * float * Map<string, Value>)> json
        let struct (l1, d1) = Tree.Flatten x
        let struct (l2, d2) = Tree.Flatten back
        Assert.That(d2, Is.EqualTo d1, "the form read back")
        assertLeavesBits json l1 l2
        // Indented output reads back the same.
        let struct (l3, _) = Tree.Flatten(Tree.FromJson<struct (Layer<Value> list * Value[] * Params * float * Map<string, Value>)>(Tree.ToJson(x, true)))
        assertLeavesBits "indented" l1 l3)

let ``structured JSON: tuples are arrays, records dictionaries and parameters objects`` () =
    let x = struct (1.5, [| Value.FromArray [| 2.0 |] |], { W = Value.Scalar -0.0; B = Value.Scalar nan })
    Assert.That(
        Tree.ToJson x,
        Is.EqualTo """[{"shape":[],"data":1.5},[{"shape":[1],"data":[2]}],{"W":{"shape":[],"data":-0},"B":{"shape":[],"data":"NaN"}}]"""
    )

let private fails<'T> (json: string) (parts: string list) =
    let ex = Assert.Catch<JsonException>(TestDelegate(fun () -> Tree.FromJson<'T> json |> ignore)) |> nonNull
    assertMentions ex ("Serialization.fs:" :: parts)

let ``structured JSON that does not fit the type names the path, the position and the user's line`` () =


    fails<Layer<Value> list> """[{"W": {"shape":[],"data":1}}]""" [ "[0] has no field \"B\""; "{\"W\": ..., \"B\": ...}" ]
    fails<Layer<Value> list> """[{"W": {"shape":[],"data":1}, "B": 3}]""" [ "[0].B is the number 3" ]
    fails<Layer<Value> list> """[{"W": {"shape":[],"data":1}, "B": {"shape":[],"data":1}, "C": 1}]""" [ "unknown field \"C\"" ]
    fails<struct (Value * Value)> """[{"shape":[],"data":1}]""" [ "has 1 elements"; "an array of 2" ]
    fails<struct (Value * Value)> """[{"shape":[],"data":1},{"shape":[],"data":1},{"shape":[],"data":1}]""" [ "more than 2 elements" ]
    fails<float[]> """[{"shape":[2],"data":[1,2]}]""" [ "[0] is a vector(2), but its type is double" ]
    fails<Map<string, Value>> """{"a": {"shape":[],"data":1}, "a": {"shape":[],"data":2}}""" [ "the key \"a\" twice" ]
    fails<Value[]> """[{"shape":[],"data":1}""" [ "LineNumber" ]
    fails<Value[]> "null" [ "the JSON is null" ]

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Serialization" [
        testPropertyWithConfig { replay Seed with maxTest = 300; arbitrary = [ typeof<Arbs> ] } "a Value round-trips through JsonSerializer bit for bit" ``a Value round-trips through JsonSerializer bit for bit``
        testPropertyWithConfig { replay Seed with maxTest = 200; arbitrary = [ typeof<Arbs> ] } "Params round-trip through JsonSerializer bit for bit, keeping names and order" ``Params round-trip through JsonSerializer bit for bit, keeping names and order``
        testCase "every special double round-trips bit for bit, as a scalar, in a vector and in a matrix" ``every special double round-trips bit for bit, as a scalar, in a vector and in a matrix``
        testCase "the JSON form: shape and row-major data, numbers in shortest form, named strings for the rest" ``the JSON form: shape and row-major data, numbers in shortest form, named strings for the rest``
        testCase "plain JsonSerializer.Serialize of Params writes the numbers (before the converters it wrote only shapes)" ``plain JsonSerializer.Serialize of Params writes the numbers (before the converters it wrote only shapes)``
        testCase "a scalar's data may also be a one-element array, and the properties may come in either order" ``a scalar's data may also be a one-element array, and the properties may come in either order``
        testCase "values and Params inside structures use the converters too" ``values and Params inside structures use the converters too``
        testCase "bad values are refused with the problem, the path and the line" ``bad values are refused with the problem, the path and the line``
        testCase "the message of a bad value ends with the user's line" ``the message of a bad value ends with the user's line``
        testCase "every truncation of saved Params is refused" ``every truncation of saved Params is refused``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "random graphs of traced variables round-trip structurally equal and evaluate to the same bits" ``random graphs of traced variables round-trip structurally equal and evaluate to the same bits``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "random graphs of symbolic variables round-trip structurally equal and evaluate to the same bits" ``random graphs of symbolic variables round-trip structurally equal and evaluate to the same bits``
        testCase "the registry names every op in Ops.All, and no other" ``the registry names every op in Ops.All, and no other``
        testList "every op in Ops.All round-trips through the graph format" [ for c in opNames -> testCase c (fun () -> ``every op in Ops.All round-trips through the graph format`` c) ]
        testCase "a shared node is saved once and stays shared; one variable is one node" ``a shared node is saved once and stays shared; one variable is one node``
        testCase "distinct variables with one name stay distinct" ``distinct variables with one name stay distinct``
        testCase "the file lists nodes in post-order with their ops, parameters and values" ``the file lists nodes in post-order with their ops, parameters and values``
        testCase "streams and writers: a graph saved beside the parameters in one document loads back" ``streams and writers: a graph saved beside the parameters in one document loads back``
        testCase "a million-node chain saves and loads without recursion, and computes the same number" ``a million-node chain saves and loads without recursion, and computes the same number``
        testCase "a CustomOp without a registered name cannot be saved, and the message says how to register it" ``a CustomOp without a registered name cannot be saved, and the message says how to register it``
        testCase "a file naming an op that is not registered is refused with how to register it" ``a file naming an op that is not registered is refused with how to register it``
        testCase "registered ops of one's own round-trip, with their parameters" ``registered ops of one's own round-trip, with their parameters``
        testCase "the registry refuses a library op's name, a name twice, and a factory that makes another op" ``the registry refuses a library op's name, a name twice, and a factory that makes another op``
        testCase "malformed JSON is refused with its line and column" ``malformed JSON is refused with its line and column``
        testCase "every truncation of a saved graph is refused, never half loaded" ``every truncation of a saved graph is refused, never half loaded``
        testCase "the position is the line and column of the offending node" ``the position is the line and column of the offending node``
        testCase "an unknown op, a bad input index, a wrong arity: each refused with the node and what was expected" ``an unknown op, a bad input index, a wrong arity: each refused with the node and what was expected``
        testCase "shapes that do not fit are refused when the graph is rebuilt" ``shapes that do not fit are refused when the graph is rebuilt``
        testCase "bad parameters are refused with the op and the parameter" ``bad parameters are refused with the op and the parameter``
        testCase "data that do not match their shape, and malformed nodes, are refused" ``data that do not match their shape, and malformed nodes, are refused``
        testCase "the document: format, version, nodes and root are required and checked" ``the document: format, version, nodes and root are required and checked``
        testCase "a variable bound to one of another shape is refused; unused bindings are ignored" ``a variable bound to one of another shape is refused; unused bindings are ignored``
        testPropertyWithConfig { replay Seed with maxTest = 100 } "a structured value round-trips through Tree.ToJson bit for bit, keeping its form" ``a structured value round-trips through Tree.ToJson bit for bit, keeping its form``
        testCase "structured JSON: tuples are arrays, records dictionaries and parameters objects" ``structured JSON: tuples are arrays, records dictionaries and parameters objects``
        testCase "structured JSON that does not fit the type names the path, the position and the user's line" ``structured JSON that does not fit the type names the path, the position and the user's line``
    ]
