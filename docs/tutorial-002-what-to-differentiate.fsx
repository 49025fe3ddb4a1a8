(**
---
title: 002 What to differentiate
category: Tutorials
categoryindex: 1
index: 3
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
# 002 What to differentiate

The tutorial (a PyTorch notebook) switches `requires_grad` on and off, finds that `.grad` lives on leaves only, meets
"grad can be implicitly created only for scalar outputs", weights a vector output with `backward(v)`, and watches
gradients pile up in a loop.

## requires_grad is what you pass to grad

Whether y = exp(x) "requires grad" depends, in PyTorch, on a flag of x that the operation propagates. Here a
function is differentiated with respect to its argument when you pass it to `grad`; evaluating it is just calling it
(`eval` of a graph), and no flag or mode exists to get wrong.
*)
open Functional.Autodiff.FSharp

let y, dy = valueAndGrad exp 3.0
expect "In [16] x.grad of exp at x = 3" "[20.0855]" dy
expect "In [16] exp(3), as np.exp(3.)" "20.085536923187668" y
(*** include-output ***)

(**
`y.grad` is `None` in PyTorch because y is not a leaf. Here any node of a graph can be asked for its gradient with
`Functional.Autodiff.AD.Gradients`, intermediate ones included (page 003 does it for every gate of a circuit).

## Non-scalar outputs need a cotangent

`yy.backward()` on the vector yy = xx² fails in PyTorch with "grad can be implicitly created only for scalar
outputs". `grad` fails too, and its message names the way out:
*)
let xx = vector [ 0.0; 1.0; 2.0; 3.0 ]
let refusal =
    try
        grad (fun x -> x ** 2.0) xx |> ignore
        "no error"
    with :? Functional.Autodiff.NonScalarOutputException as e -> e.Message
(*** include-value: refusal ***)

(**
The way out is `vjp`: the pullback takes the weights of the outputs (PyTorch's `gradient` argument of `backward`),
ones for a plain sum, or any other weights:
*)
let yy, pullback = vjp (fun x -> x ** 2.0) xx
expect "In [21] yy = xx²" "[0., 1., 4., 9.]" yy
expect "In [22] xx.grad of backward(ones)" "[0., 2., 4., 6.]" (pullback (vector [ 1.0; 1.0; 1.0; 1.0 ]))
let weights = vector [ 0.01; 0.1; 1.0; 10.0 ]
expect "In [35] xx.grad of backward(weights)" "[ 0.0000,  0.2000,  4.0000, 60.0000]" (pullback weights)
(*** include-output ***)

(**
The pullback can be called again and again: there is no `retain_graph`, because nothing is freed behind your back.

## The loop: accumulation is a fold

The tutorial recomputes yy in a loop and calls `backward(weights)` each time; `xx.grad` grows because PyTorch adds
into it. The functional version of "add into a buffer" is a fold over the iterations, whose state is the running total:
*)
let printed =
    [ "[ 0.0000,  0.2000,  4.0000, 60.0000]"
      "[  0.0000,   0.4000,   8.0000, 120.0000]"
      "[  0.0000,   0.6000,  12.0000, 180.0000]"
      "[  0.0000,   0.8000,  16.0000, 240.0000]"
      "[  0.,   1.,  20., 300.]" ]

let totals =
    [ 0..4 ]
    |> List.scan (fun (total: Value) _ -> total + snd (vjp (fun x -> x ** 2.0) xx) weights) (xx.ZerosLike())
    |> List.tail

for i, (total, tutorial) in List.indexed (List.zip totals printed) do
    expect $"In [36] {i}-th gradient (accumulated)" tutorial total
(*** include-output ***)

(**
Each iteration traces the function anew, as the tutorial's loop does; since the pullback is pure, tracing once and
calling `pullback weights` five times gives the same totals.

## The same in C#

The C# version of this tutorial, as compiled in the tour (`dotnet run --project samples/Tour`):
*)
(*** hide ***)
CSharp.html [ "Seed002" ]
(*** include-it-raw ***)

(*** hide ***)
finish ()
