/// Saving and loading: System.Text.Json converters of Value, Shape and Params that round-trip every double bit for
/// bit.
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
open FsCheck.NUnit
open Functional.Autodiff
open Functional.Autodiff.Serialization
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
        x.P
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

[<Property(Replay = Seed, Arbitrary = [| typeof<Arbs> |], MaxTest = 300)>]
let ``a Value round-trips through JsonSerializer bit for bit`` (x: AnyValue) =
    let json = JsonSerializer.Serialize x.V
    assertBitIdentical $"the value read back from {json}" x.V (fromJson<Value> json)

[<Property(Replay = Seed, Arbitrary = [| typeof<Arbs> |], MaxTest = 200)>]
let ``Params round-trip through JsonSerializer bit for bit, keeping names and order`` (p: AnyParams) =
    let json = JsonSerializer.Serialize p.P
    assertParamsBits p.P (fromJson<Params> json)
    // Indented output reads back the same.
    let indented = JsonSerializer.Serialize(p.P, JsonSerializerOptions(WriteIndented = true))
    assertParamsBits p.P (fromJson<Params> indented)

[<Test>]
let ``every special double round-trips bit for bit, as a scalar, in a vector and in a matrix`` () =
    for x in specials do
        let s = Value.Scalar x
        assertBitIdentical $"scalar {g17 x}" s (fromJson<Value>(JsonSerializer.Serialize s))

    let v = Value.FromArray(Array.copy specials)
    assertBitIdentical "vector" v (fromJson<Value>(JsonSerializer.Serialize v))
    let m = T.toValue { Shape = Shape.Matrix(3, 7); Data = Array.copy specials }
    assertBitIdentical "matrix" m (fromJson<Value>(JsonSerializer.Serialize m))

[<Test>]
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

[<Test>]
let ``plain JsonSerializer.Serialize of Params writes the numbers (before the converters it wrote only shapes)`` () =
    // Before issue 9 this printed [{"Key":"w","Value":{"Shape":{"Rank":1,…}}},…]: no number at all.
    let p = Params.Of(struct ("w", Value.FromArray [| 1.25; -2.5 |]), struct ("b", Value.Scalar 0.75))
    let json = JsonSerializer.Serialize p

    Assert.That(json, Is.EqualTo """{"w":{"shape":[2],"data":[1.25,-2.5]},"b":{"shape":[],"data":0.75}}""")
    assertParamsBits p (fromJson<Params> json)

[<Test>]
let ``a scalar's data may also be a one-element array, and the properties may come in either order`` () =
    assertBitIdentical "[2.5]" (Value.Scalar 2.5) (fromJson<Value> """{"shape":[],"data":[2.5]}""")

    assertBitIdentical
        "data first"
        (Value.FromRows([| 1.0; 2.0 |], [| 3.0; 4.0 |]))
        (fromJson<Value> """{"data":[1,2,3,4],"shape":[2,2]}""")

[<Test>]
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

[<Test>]
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

[<Test>]
let ``the message of a bad value ends with the user's line`` () =
    let ex = readFails<Value> """{"shape":[2],"data":[1]}""" [ "1 number," ]
    Assert.That(ex.Message, Does.Match @"\(at Serialization\.fs:\d+\)$")

[<Test>]
let ``every truncation of saved Params is refused`` () =
    let p = Params.Of(struct ("w", Value.FromRows([| 1.5; nan |], [| -0.0; 1e-310 |])), struct ("b", Value.Scalar 2.0))
    let json = JsonSerializer.Serialize p

    for n in 0 .. json.Length - 1 do
        Assert.Catch<JsonException>(TestDelegate(fun () -> fromJson<Params>(json.Substring(0, n)) |> ignore)) |> ignore
