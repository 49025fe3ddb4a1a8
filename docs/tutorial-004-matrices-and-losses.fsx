(**
---
title: 004 Matrices and losses
category: Tutorials
categoryindex: 1
index: 5
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
# 004 Matrices and losses

The tutorial (PyTorch's autograd introduction) trains nothing but shows the pieces: a one-layer model
z = x·w + b with w of 5×3 and b of 3, a logistic loss against zeros, the gradients of w and b; then `no_grad` and
`detach`; then a vector-Jacobian product on a matrix function, called twice (accumulating) and once more after
zeroing.

## z = x·w + b and its loss

The notebook's w and b were random draws, printed only through their gradients. With x = ones(5) every row of
∂loss/∂w equals ∂loss/∂b = σ(z)/3, so w = 0 and b = logit(3g) reproduce the printed g exactly. The function is of a
pair (w, b), and so is its gradient:
*)
open Functional.Autodiff.FSharp

let printedG = [ 0.1581; 0.0495; 0.0256 ]
let x = constant (vector [ 1.0; 1.0; 1.0; 1.0; 1.0 ])
let target = constant (vector [ 0.0; 0.0; 0.0 ])
let w0 = matrix (List.replicate 5 [ 0.0; 0.0; 0.0 ])
let b0 = vector [ for g in printedG -> log (3.0 * g / (1.0 - 3.0 * g)) ]

let loss (w: Expr, b: Expr) = binaryCrossEntropyWithLogits (x *@ w + b) target
let dw, db = grad loss (w0, b0)

expect "In [4] w.grad" "[[0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256], [0.1581, 0.0495, 0.0256]]" dw
expect "In [4] b.grad" "[0.1581, 0.0495, 0.0256]" db
(*** include-output ***)

(**
`*@` is the matrix product (Python's `@`); it binds like `*`, so `x *@ w + b` is (x·w) + b.

## no_grad and detach: nothing to switch off

`torch.no_grad()` stops PyTorch from recording operations, for speed and to freeze parameters. Here recording is not a
mode: a graph is built when you call an F# function on nodes, and its value is there as soon as it is built. Plain
evaluation is `eval`, and a frozen parameter is one you do not differentiate with respect to (pass it as a constant,
or differentiate a `Params` with respect to chosen names only, `AD.Grad(f, "w")` from the C# core). `detach` is the
`stopGradient` node (page 001):
*)
let logits = eval (x *@ constant w0 + constant b0)
(*** include-value: logits ***)

(**
Through a detached z, the loss has no gradient with respect to b:
*)
let throughDetached = grad (fun b -> sum (stopGradient (x *@ constant w0 + b))) b0
(*** include-value: throughDetached ***)

(**
## Vector-Jacobian products on a matrix function

out = ((inp + 1)²)ᵀ at inp = eye(4, 5). `out.backward(ones_like(out))` is the pullback applied to ones: 2(inp + 1),
so 4 on the diagonal and 2 elsewhere. A second call doubles it in PyTorch because `inp.grad` accumulates; here it
doubles because you add, and `inp.grad.zero_()` is starting from zeros:
*)
let eye45 = matrix [ for i in 0..3 -> [ for j in 0..4 -> if i = j then 1.0 else 0.0 ] ]
let out, pullback = vjp (fun inp -> transpose ((inp + 1.0) ** 2.0)) eye45
let ones = out.Map(fun _ -> 1.0)

let first = pullback ones
expect "In [7] inp.grad, first call" "[[4., 2., 2., 2., 2.], [2., 4., 2., 2., 2.], [2., 2., 4., 2., 2.], [2., 2., 2., 4., 2.]]" first
let second = first + pullback ones
expect "In [7] inp.grad, second call" "[[8., 4., 4., 4., 4.], [4., 8., 4., 4., 4.], [4., 4., 8., 4., 4.], [4., 4., 4., 8., 4.]]" second
let afterZeroing = second.ZerosLike() + pullback ones
expect "In [7] inp.grad, after zeroing" "[[4., 2., 2., 2., 2.], [2., 4., 2., 2., 2.], [2., 2., 4., 2., 2.], [2., 2., 2., 4., 2.]]" afterZeroing
(*** include-output ***)

(**
## The same in C#

The C# version of this tutorial, as compiled in the tour (`dotnet run --project samples/Tour`):
*)
(*** hide ***)
CSharp.html [ "Seed004"; "Full" ]
(*** include-it-raw ***)

(*** hide ***)
finish ()
