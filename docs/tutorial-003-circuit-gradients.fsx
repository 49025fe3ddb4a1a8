(**
---
title: 003 Circuits
category: Tutorials
categoryindex: 1
index: 4
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/<page>.fsx          runs the page: each tutorial number is printed beside the tutorial's,
//                                       and a number that differs stops the script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval` (it needs Graphviz for the
//                                       circuit below: apt-get install -y graphviz)
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/csharp.fsx" ".helpers/graphviz.fsx"

(**
# 003 Circuits

The tutorial (a fastai/PyTorch notebook after CS231n's notes on backpropagation) draws a computation as a circuit:
inputs on the left, gates in the middle, the output on the right; the forward pass runs left to right and the
backward pass right to left, each gate multiplying the gradient that reaches its output by its local gradient.
Its example is staged:

    [lang=text]
    q = x + 2y        (gate #1)
    f = q · z         (gate #2)

at x = 3, y = -4, z = 19. Then it spends most of its length on which PyTorch tensors get a `.grad` (leaves that
`require_grad`, never intermediate ones like q without a hook), on `retain_graph`, and on resetting `.grad`.

## Forward and backward by hand
*)
open Functional.Autodiff.FSharp

let x, y, z = var "x" (scalar 3.0), var "y" (scalar -4.0), var "z" (scalar 19.0)
let q = x + 2.0 * y // #1
let f = q * z       // #2
expect "In [21] f" "-95" (eval f)
(*** include-output ***)

(**
Each node holds its value as soon as it is built (the graph is traced on concrete numbers), so `f` is already -95.

## Gradients of every gate

`Functional.Autodiff.AD.Gradients` takes the output and any nodes of its graph, leaves or not, and returns
∂f/∂node for each: what the tutorial computes by hand as `dq, dx, dy, dz`, and what PyTorch reaches for q only through
a hook.
*)
open Functional.Autodiff

let gradients = AD.Gradients(f, q, x, y, z, f) |> Seq.map eval |> Array.ofSeq
expect "In [24] df/dq" "19" gradients[0]
expect "In [24] df/dx" "19" gradients[1]
expect "In [24] df/dy" "38" gradients[2]
expect "In [24] df/dz" "-5" gradients[3]
expect "In [79] df/df" "1." gradients[4]
(*** include-output ***)

(**
## The circuit, drawn

`Draw.dot` exports a graph as a Graphviz DOT circuit, left to right, each gate with its op, shape and value;
`Draw.circuit f` adds under each value the gradient of f with respect to that node, in red, as in the CS231n
diagrams. (`Draw.mermaid` gives the same drawing as a Mermaid flowchart.) This is the tutorial's missing
"[Include a diagram here.]", for the staged f. The picture is drawn from that DOT text by Graphviz when the site is
built (`docs/build.sh` needs it: `apt-get install -y graphviz` on Debian; by hand, `dot -Tsvg f.dot -o f.svg`); run
under `dotnet fsi` without Graphviz, the page prints the DOT text instead.
*)
let circuit = Draw.dot (Draw.circuit f) [ ("f", f) ]
(*** hide ***)
Graphviz.svg circuit
(*** include-it-raw ***)

(**
The gradients are graphs too: `AD.Gradients` returns nodes, and drawing them beside f shows how the backward pass
reuses the forward values (the gradient of y is 2·z, of z is q):
*)
let backward = AD.Gradients(f, x, y, z)
(*** hide ***)
Graphviz.svg (Draw.dot Draw.defaults [ "f", f; "df/dx", backward[0]; "df/dy", backward[1]; "df/dz", backward[2] ])
(*** include-it-raw ***)

(**
## No retain_graph, and resetting is starting over

The tutorial's second `f.backward()` fails unless the first kept the graph, and with `retain_graph=True` the
gradients add up: 38, 76, -10 after two passes. With named inputs (`parameters`, read as `p?x`), the gradient is a
`Params` value, and the accumulated total is a `Params` you add to, and reset by starting from zeros:
*)
let gradF = grad (fun p -> (p?x + 2.0 * p?y) * p?z)
let point = parameters [ "x", scalar 3.0; "y", scalar -4.0; "z", scalar 19.0 ]
let twice = gradF point + gradF point
expect "In [122] x.grad after two passes" "38." twice["x"]
expect "In [122] y.grad after two passes" "76." twice["y"]
expect "In [122] z.grad after two passes" "-10." twice["z"]
let afterReset = twice.ZerosLike() + gradF point // o.grad = None, then f.backward()
expect "In [130] x.grad after reset" "19." afterReset["x"]
expect "In [130] y.grad after reset" "38." afterReset["y"]
expect "In [130] z.grad after reset" "-5." afterReset["z"]
(*** include-output ***)

(**
The same three partial derivatives come from a function of a tuple, in one call:
*)
let value, (dx, dy, dz) = valueAndGrad (fun (x, y, z) -> (x + 2.0 * y) * z) (3.0, -4.0, 19.0)
expect "In [24] dx, by a function of a tuple" "19" dx
expect "In [24] dy, by a function of a tuple" "38" dy
expect "In [24] dz, by a function of a tuple" "-5" dz
(*** include-output ***)

(**
## The same in C#

The C# version of this tutorial, as compiled in the tour (`dotnet run --project samples/Tour`):
*)
(*** hide ***)
CSharp.html [ "Seed003" ]
(*** include-it-raw ***)

(*** hide ***)
finish ()
