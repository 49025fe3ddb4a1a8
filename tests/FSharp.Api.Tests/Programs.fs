/// Random straight-line programs over one to three inputs, built with the F# API's operators and functions,
/// so the same program can be differentiated through the F# API and through the C# core and the results compared.
module Functional.Autodiff.FSharp.Tests.Programs

open System
open FsCheck
open FsCheck.FSharp
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.FSharp

/// FsCheck's replay seed for every property here (fixed: a flaky test is a failing test).
[<Literal>]
let Seed = "(20261122,7)"

/// One step: an op applied to earlier registers (inputs first, then earlier steps' results).
type Step =
    | Unary of name: string * arg: int
    | Binary of name: string * left: int * right: int

let unaries: (string * (Expr -> Expr)) list =
    [
        "sin", sin
        "cos", cos
        "tanh", tanh
        "sigmoid", sigmoid
        "softplus", softplus
        "square", square
        "neg", (fun x -> -x)
        "pow3", (fun x -> x ** 3.0)
        "scale", (fun x -> 0.5 * x + 1.0)
    ]

let binaries: (string * (Expr -> Expr -> Expr)) list =
    [ "+", (+); "-", (-); "*", (*) ]

/// A program: how many inputs, their length (1 means scalars), and the steps.
type Program =
    {
        Inputs: int
        Length: int
        Steps: Step list
    }

    override p.ToString() =
        sprintf "%d input(s) of length %d: %A" p.Inputs p.Length p.Steps

/// Runs a program on traced inputs; the output is the sum of the last register, a scalar.
let run (p: Program) (inputs: Expr list) : Expr =
    let registers = ResizeArray<Expr>(inputs)

    for step in p.Steps do
        match step with
        | Unary(name, a) -> registers.Add((unaries |> List.find (fst >> (=) name) |> snd) registers[a])
        | Binary(name, a, b) ->
            registers.Add((binaries |> List.find (fst >> (=) name) |> snd) registers[a] registers[b])

    sum registers[registers.Count - 1]

let private stepGen (registers: int) =
    Gen.oneof
        [
            gen {
                let! name = Gen.elements (List.map fst unaries)
                let! a = Gen.choose (0, registers - 1)
                return Unary(name, a)
            }
            gen {
                let! name = Gen.elements (List.map fst binaries)
                let! a = Gen.choose (0, registers - 1)
                let! b = Gen.choose (0, registers - 1)
                return Binary(name, a, b)
            }
        ]

let programGen inputs =
    gen {
        let! length = Gen.elements [ 1; 3 ]
        let! count = Gen.choose (1, 7)

        let rec steps k acc =
            if k = count then
                Gen.constant (List.rev acc)
            else
                gen {
                    let! s = stepGen (inputs + k)
                    return! steps (k + 1) (s :: acc)
                }

        let! body = steps 0 []

        return
            {
                Inputs = inputs
                Length = length
                Steps = body
            }
    }

/// A value of the program's input length, elements in [-2, 2].
let valueGen (length: int) =
    Gen.choose (-2_000_000, 2_000_000)
    |> Gen.map (fun k -> float k / 1e6)
    |> Gen.arrayOfLength length
    |> Gen.map (fun xs ->
        if length = 1 then
            Value.Scalar xs[0]
        else
            Value.FromArray xs)

/// A program of one, two or three inputs together with input values.
type Case =
    {
        Program: Program
        Values: Value list
    }

    override c.ToString() =
        sprintf "%O at %A" c.Program (c.Values |> List.map string)

let caseGen inputs =
    gen {
        let! p = programGen inputs
        let! values = Gen.listOfLength inputs (valueGen p.Length)
        return { Program = p; Values = values }
    }

type One = One of Case
type Two = Two of Case
type Three = Three of Case

type Arbs =
    static member One() = caseGen 1 |> Gen.map One |> Arb.fromGen
    static member Two() = caseGen 2 |> Gen.map Two |> Arb.fromGen

    static member Three() =
        caseGen 3 |> Gen.map Three |> Arb.fromGen

/// Bit-for-bit equality of two values (the F# API has no arithmetic of its own, so nothing may differ).
let assertSame (what: string) (expected: Value) (actual: Value) =
    Assert.That(actual.Shape, Is.EqualTo expected.Shape, $"{what}: shape")

    let bits (v: Value) =
        v.ToArray() |> Array.map BitConverter.DoubleToInt64Bits

    Assert.That(bits actual, Is.EqualTo(bits expected), $"{what}: expected {expected}, got {actual}")
