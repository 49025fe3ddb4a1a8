/// Depth: a chain of a million scalar op nodes must not overflow the stack anywhere (a .NET stack overflow kills
/// the test host, so these tests can only pass or take the run down).
module Functional.Autodiff.Tests.Depth

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

/// Op nodes in the chain.
let n = 1_000_000

let x0 = 1e-4

/// The chain's steps, cycled: add, mul, tanh, sin, exp and sub. Near x0 the values settle at a small fixed point
/// (about 1.05e-4), so every value is finite and the derivative (about 1.6e-65) neither vanishes nor overflows.
let chain (x: Expr) =
    let mutable e = x

    for k in 0 .. n - 1 do
        e <-
            match k % 6 with
            | 0 -> e + 1e-7
            | 1 -> e * 0.999
            | 2 -> Expr.Tanh e
            | 3 -> Expr.Sin e
            | 4 -> Expr.Exp e
            | _ -> e - 1.0

    e

/// The chain's value and derivative at x by a plain loop (forward mode on doubles).
let reference (x: float) =
    let mutable v, d = x, 1.0

    for k in 0 .. n - 1 do
        match k % 6 with
        | 0 -> v <- v + 1e-7
        | 1 ->
            v <- v * 0.999
            d <- d * 0.999
        | 2 ->
            let t = Math.Tanh v
            d <- d * (1.0 - t * t)
            v <- t
        | 3 ->
            d <- d * Math.Cos v
            v <- Math.Sin v
        | 4 ->
            v <- Math.Exp v
            d <- d * v
        | _ -> v <- v - 1.0

    v, d

let private relative = { Absolute = 0.0; Relative = 1e-9 }

// Each test builds its own graphs and lets them go: a million-node graph and its gradient take hundreds of MB.

let ``a traced million-node chain: Value, PostOrder, StructurallyEqual, ToString, and Gradients`` () =
    let v, d = reference x0

    Assert.That(
        Double.IsFinite v && v <> 0.0 && Double.IsFinite d && d <> 0.0,
        $"the reference: value {g17 v}, derivative {g17 d}"
    )

    let x = Expr.Var("x", Value.Scalar x0)
    let y = chain x
    Assert.That(within relative v (y.Value.ToScalar()), $"value {g17 (y.Value.ToScalar())}, reference {g17 v}")
    // x, the n op nodes, and one constant for each add, mul and sub.
    Assert.That(Graph.PostOrder(y).Count, Is.EqualTo(1 + n + n / 2))
    Assert.That(y.ToString().Length, Is.LessThan 2000)
    Assert.That(Graph.StructurallyEqual(y, chain x), Is.True)
    let g = AD.Gradients(y, x)[0]
    Assert.That(within relative d (g.Value.ToScalar()), $"gradient {g17 (g.Value.ToScalar())}, reference {g17 d}")
    Assert.That(Graph.PostOrder(g).Count, Is.GreaterThan n)
    Assert.That(g.ToString().Length, Is.LessThan 2000)

let ``AD.Grad of a million-node chain`` () =
    let _, d = reference x0
    let g = AD.Grad(Func<Expr, Expr> chain).Invoke(Value.Scalar x0)
    Assert.That(within relative d (g.ToScalar()), $"gradient {g17 (g.ToScalar())}, reference {g17 d}")

let ``a million-node chain over a symbolic variable: unbound Value, and AD.Eval with a binding`` () =
    let v, _ = reference x0
    let s = Expr.Var("s", Shape.Scalar)
    let y = chain s
    let ex = throws<UnboundVariableException>(fun () -> y.Value |> ignore)
    Assert.That(ex.Message, Does.Contain "'s'")
    let value = AD.Eval(y, bindings [ s, Value.Scalar x0 ])
    Assert.That(within relative v (value.ToScalar()), $"AD.Eval gave {g17 (value.ToScalar())}, reference {g17 v}")

open Expecto

[<Tests>]
let tests =
    testList "Depth" [
        testCase "a traced million-node chain: Value, PostOrder, StructurallyEqual, ToString, and Gradients" ``a traced million-node chain: Value, PostOrder, StructurallyEqual, ToString, and Gradients``
        testCase "AD.Grad of a million-node chain" ``AD.Grad of a million-node chain``
        testCase "a million-node chain over a symbolic variable: unbound Value, and AD.Eval with a binding" ``a million-node chain over a symbolic variable: unbound Value, and AD.Eval with a binding``
    ]
