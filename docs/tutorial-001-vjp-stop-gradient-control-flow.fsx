(**
---
title: 001 Vector outputs, stop-gradient, control flow
category: Tutorials
categoryindex: 1
index: 2
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
# 001 Vector outputs, stop-gradient, control flow

The tutorial (a PyTorch notebook with TensorFlow beside it) takes y = 2xᵀx, whose gradient is 4x, then a sum, then a
vector output, then `detach` / `tf.stop_gradient`, then gradients through loops and branches that look at values.

## A simple example: no requires_grad, no GradientTape

PyTorch marks `x` with `requires_grad_(True)` before `backward()`, and TensorFlow records operations on a
`GradientTape`. Here neither is needed: `grad` differentiates the function you give it with respect to the argument
you give it, and the same call serves every function.
*)
open Functional.Autodiff.FSharp

let x = vector [ 0.0; 1.0; 2.0; 3.0 ] // torch.arange(4.)

let y, gy = valueAndGrad (fun x -> 2.0 * dot x x) x
expect "In [15] y = 2·xᵀx" "28.0" y
expect "In [8] x.grad (= 4x)" "[ 0.,  4.,  8., 12.]" gy
(*** include-output ***)

(**
Before its second function the tutorial has to zero `x.grad` (`x.grad.zero_()`): a gradient here is a return value,
so there is nothing to clear.
*)
let s, gs = valueAndGrad sum x
expect "In [17] y = x.sum()" "6.0" s
expect "In [11] x.grad of the sum" "[1., 1., 1., 1.]" gs
(*** include-output ***)

(**
## Backward for non-scalar outputs

y = x ∘ x is a vector, so `grad` refuses it, with an error that says what to do:
*)
let refusal =
    try
        grad (fun x -> x * x) x |> ignore
        "no error"
    with :? Functional.Autodiff.NonScalarOutputException as e -> e.Message
(*** include-value: refusal ***)

(**
The tutorial's two ways out are `y.sum().backward()` and `y.backward(torch.ones(len(x)))`. The first is `grad` of
the sum; the second is `vjp`, whose pullback takes the cotangent v and returns vᵀJ (PyTorch's `backward(v)`,
TensorFlow's `t.gradient(y, x)`, which sums implicitly).
*)
let square, pullback = vjp (fun x -> x * x) x
expect "In [27] y = x * x" "[0., 1., 4., 9.]" square
expect "In [26] x.grad of y.sum()" "[0., 2., 4., 6.]" (grad (fun x -> sum (x * x)) x)
expect "In [28] x.grad of y.backward(ones)" "[0., 2., 4., 6.]" (pullback (vector [ 1.0; 1.0; 1.0; 1.0 ]))
(*** include-output ***)

(**
## Detaching computation: stop-gradient is a node

`u = y.detach()` makes a tensor with y's value that gradients do not flow through; `tf.stop_gradient(y)` is the same.
Here it is a node of the graph, `stopGradient`. To ask one graph for two gradients (the tutorial needs
`persistent=True` on its tape for that), build it once on a named variable and differentiate it twice with
`Functional.Autodiff.AD.Gradients`, which takes any nodes of a graph:
*)
open Functional.Autodiff

let xv = var "x" x
let yv = xv * xv
let u = stopGradient yv
let zv = u * xv

expect "In [37] z = u * x, u = detach(x * x)" "[ 0.,  1.,  8., 27.]" (eval zv)
expect "In [39] x.grad of z.sum() (= u)" "[0., 1., 4., 9.]" (AD.Gradients(sum zv, xv).[0].Value)
expect "In [41] x.grad of y.sum() (tutorial: == 2 * x)" "[0., 2., 4., 6.]" (AD.Gradients(sum yv, xv).[0].Value)
(*** include-output ***)

(**
The graph prints as a bounded one-line summary (here through the F# API's FSI printer):
*)
(*** include-value: zv ***)

(**
## Gradients through control flow

The tutorial's f doubles b while its norm is under 1000, then keeps b or multiplies it by 100 depending on the sign
of its sum. The loop and the branch are ordinary F# on `.Value`: `grad` traces f at concrete numbers, so whatever
path the values take is the one differentiated, as in eager PyTorch.
*)
let f (a: Expr) =
    let mutable b = a * 2.0
    while float (eval (norm b)) < 1000.0 do
        b <- b * 2.0
    if float (eval (sum b)) > 0.0 then b else 100.0 * b

(**
The notebook's `a` was a random draw that prints as -1.5694; the d it printed, -160708.2188, is 102400·a for the a
that produced it (the path doubles 10 times and takes the ×100 branch), so a = d/102400 reproduces the run.
TensorFlow's draw was another one; any a < 0 on the same path gives its gradient 409600 = 4096·100.
*)
let a = -160708.2188 / 102400.0
let d, da = valueAndGrad f a
expect "In [48] d = f(a), a = -1.5694…" "-160708.2188" d
expect "In [49] a.grad (tutorial: d/a == a.grad)" "102400." da
expect "In [53] TF d_grad at a = -0.3" "409600.0" (grad f -0.3)
(*** include-output ***)

(**
Exercise 3 makes a a random 2×2 matrix. d is then 2048·a (ten doublings, positive sum), so a = d/2048 reproduces the
printed d, and the gradient of d's sum is 2048 everywhere:
*)
let printedD = matrix [ [ -248.2693; 1364.9205 ]; [ -1133.4603; 396.8123 ] ]
let a2 = (1.0 / 2048.0) * printedD
let d2 = eval (f (constant a2))
expect "In [75] d = f(a), a 2×2" "[[ -248.2693,  1364.9205], [-1133.4603,   396.8123]]" d2
expect "In [77] a.grad of d.sum()" "[[2048., 2048.], [2048., 2048.]]" (grad (fun m -> sum (f m)) a2)
expect "In [78] d / a" "[[2048., 2048.], [2048., 2048.]]" (eval (constant d2 / constant a2))
(*** include-output ***)

(**
## Exercise 2: running backward again

Running `y.sum().backward()` again fails in PyTorch once the graph is freed; with `retain_graph=True` each run adds
into `x.grad`. Three runs give 3 · 2x:
*)
let gradSum = grad (fun x -> sum (x * x))
expect "In [72] three backward passes, summed" "[ 0.,  6., 12., 18.]" (gradSum x + gradSum x + gradSum x)
(*** include-output ***)

(**
## The same in C#

The C# version of this tutorial, as compiled in the tour (`dotnet run --project samples/Tour`):
*)
(*** hide ***)
CSharp.html [ "Seed001"; "F" ]
(*** include-it-raw ***)

(*** hide ***)
finish ()
