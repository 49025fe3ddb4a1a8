(**
---
title: 000 Grad is pure
category: Tutorials
categoryindex: 1
index: 1
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/<page>.fsx          runs the page: each tutorial number is printed beside the tutorial's,
//                                       and a number that differs stops the script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/csharp.fsx"

(**
# 000 Grad is pure

The tutorial (a PyTorch notebook) differentiates z = 3·xᵀ(w + 2)∘² with respect to w, with x held at (0.5, 0.5, 0.5).
By hand, ∇w z = 6x ∘ (w + 2) = 3(w + 2): (9, 9, 9) at w = 1 and (12, 12, 12) at w = 2. Then it explores what
PyTorch's `backward()` does to `w.grad`: it fails when called twice, it accumulates when told to retain the
graph, and `w.grad` can be edited by hand.

Here the function is an ordinary F# function of a graph node, and `grad` turns it into a function that returns the
gradient. Nothing is stored on `w`, so every one of those behaviours becomes plain arithmetic on values.
*)
open Functional.Autodiff.FSharp

let x = constant (vector [ 0.5; 0.5; 0.5 ])
let z (w: Expr) = 3.0 * dot x ((w + 2.0) ** 2.0)

let ones = vector [ 1.0; 1.0; 1.0 ]
let z1, g1 = valueAndGrad z ones
expect "In [12] z at w = 1" "40.5000" z1
expect "In [19] w.grad at w = 1" "[9., 9., 9.]" g1
(*** include-output ***)

(**
`x` is a constant of the function, so it has no gradient (the tutorial's `x.grad is None`): the gradient is taken
with respect to what you pass to `grad`, and nothing else.

## Calling it again: no graph to retain

PyTorch frees the graph after `backward()`, so a second call fails unless the first said `retain_graph=True`.
`grad z` is a pure function: each call traces the function at its argument, differentiates, and returns. Call it
as often as you like, at the same point or a new one:
*)
let z2, g2 = valueAndGrad z (vector [ 2.0; 2.0; 2.0 ])
expect "In [26] z at w = 2" "72." z2
expect "In [26] w.grad at w = 2" "[12., 12., 12.]" g2
(*** include-output ***)

(**
## Accumulating is an addition you write

With `retain_graph=True`, a second `backward()` adds into `w.grad`: 9 becomes 18. The functional version makes the
accumulator a value of your own. Adding, overwriting an element (`w.grad.data = ...`) and resetting are operations on
`Value`, which return new values and change nothing:
*)
let gradZ = grad z
let once = gradZ ones
expect "In [31] w.grad after one backward" "[9., 9., 9.]" once
let twice = once + gradZ ones
expect "In [31] w.grad after two (accumulated)" "[18., 18., 18.]" twice
let edited = twice.SetItem(0, 1.0).SetItem(1, 2.0).SetItem(2, 3.0)
expect "In [32] w.grad set by hand" "[1., 2., 3.]" edited
expect "In [32] w.grad after one more backward" "[10., 11., 12.]" (edited + gradZ ones)
(*** include-output ***)

(**
Because the accumulator is yours, there is no hidden state to forget to zero, and two parts of a program can each
keep their own.

## The scalar case by hand: dz/dx = 6(x + 2)

The notebook works out z = 3(x + 2)² for a scalar x: dz/dx is 12, 18 and 24 at x = 0, 1 and 2.
*)
let z3 (x: Expr) = 3.0 * (x + 2.0) ** 2.0
expect "markdown dz/dx at x = 0" "12" (grad z3 0.0)
expect "markdown dz/dx at x = 1" "18" (grad z3 1.0)
expect "markdown dz/dx at x = 2" "24" (grad z3 2.0)
(*** include-output ***)

(**
## A vector output: backward(v) is the pullback of vjp

Applied element-wise to x = ones(4), z is a vector, and PyTorch's `z.backward(dz_dz)` needs the cotangent `dz_dz`
(here `ones_like(z)`). `vjp` returns the value and the pullback, the function v ↦ vᵀJ. The pullback is pure too:
calling it three times gives the same vector three times, and the tutorial's 18 → 36 → 54 is a running sum. Resetting
`x.grad` to zeros is starting the sum again.
*)
let zv, pullback = vjp z3 (vector [ 1.0; 1.0; 1.0; 1.0 ])
let dz_dz = vector [ 1.0; 1.0; 1.0; 1.0 ]
expect "In [2] z = 3(x+2)² at x = ones(4)" "[27., 27., 27., 27.]" zv
let first = pullback dz_dz
expect "In [4] x.grad after backward(ones)" "[18., 18., 18., 18.]" first
let second = first + pullback dz_dz
expect "In [5] x.grad after a second" "[36., 36., 36., 36.]" second
let third = second + pullback dz_dz
expect "In [5] x.grad after a third" "[54., 54., 54., 54.]" third
let reset = third.ZerosLike()
expect "In [6] x.grad reset" "[0., 0., 0., 0.]" reset
expect "In [7] x.grad after reset and backward" "[18., 18., 18., 18.]" (reset + pullback dz_dz)
(*** include-output ***)

(**
## The same in C#

The C# version of this tutorial, as compiled in the tour (`dotnet run --project samples/Tour`):
*)
(*** hide ***)
CSharp.html [ "Seed000"; "Full" ]
(*** include-it-raw ***)

(*** hide ***)
finish ()
