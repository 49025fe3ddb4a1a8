(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/index.fsx           runs the page: each tutorial number is printed beside the tutorial's,
//                                       and a number that differs stops the script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`: the numbers on the page
//                                       are the numbers the code computed
// tests/Docs.Tests runs every page under `dotnet fsi` as part of `./test`.
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/csharp.fsx"

(**
# Functional.Autodiff

Automatic differentiation for .NET in the functional style: expression graphs are immutable values,
differentiation is a pure function (`AD.Grad(f)(x)`), stop-gradient is an ordinary node, and gradient
accumulation is a value the caller threads. The core is C# on MathNet.Numerics; a thin F# API sits on top.

The tutorials below are five PyTorch (and one TensorFlow) autograd notebooks, redone the functional way. Each
page computes every number its notebook prints, shows it beside the notebook's, and shows the same task in C#.

## A first gradient

The first tutorial's function, z = 3·xᵀ(w + 2)∘² with x = (0.5, 0.5, 0.5), at w = (1, 1, 1). In F#, open
`Functional.Autodiff.FSharp`: a function of graph nodes is an ordinary F# function, F#'s operators and `exp`, `log`,
`sin`, `**` work on nodes, and `grad`, `valueAndGrad`, `vjp`, `jvp`, `jacobian`, `hessian`, `hvp` return numbers:
*)
open Functional.Autodiff.FSharp

let x = constant (vector [ 0.5; 0.5; 0.5 ])
let z (w: Expr) = 3.0 * dot x ((w + 2.0) ** 2.0)

let value, g = valueAndGrad z (vector [ 1.0; 1.0; 1.0 ])

(**
The value and the gradient, each beside the number the tutorial printed:
*)

expect "z at w = 1" "40.5000" value
expect "w.grad at w = 1" "[9., 9., 9.]" g
(*** include-output ***)

(**
`grad` is pure: calling it again gives the same gradient, and what PyTorch does to `w.grad` on a second
`backward()` is an addition you write.
*)

let twice = g + grad z (vector [ 1.0; 1.0; 1.0 ])
(*** include-value: twice ***)

expect "w.grad after two backward passes" "[18., 18., 18.]" twice
(*** include-output ***)

(**
Functions of several inputs take a tuple and return a tuple of gradients, each in its input's form (any
structure works the same way: lists, maps and records of parameters, nested; see
[structured inputs](structured-inputs.html)):
*)
let f, (dx, dy, dz) = valueAndGrad (fun (x, y, z) -> (x + 2.0 * y) * z) (3.0, -4.0, 19.0)
(f, (dx, dy, dz))
(*** include-it ***)

(**
Second derivatives and nesting: the Hessian of 2xᵀx is 4I, and `diff` turns a function into its gradient as a
function of graphs, so derivatives nest (exp'' = exp):
*)
let h = hessian (fun x -> 2.0 * dot x x) (vector [ 1.0; 1.0 ])
(*** include-value: h ***)
let exp'' = grad (diff exp) 3.0
(*** include-value: exp'' ***)

(**
The F# API is a thin layer over the C# core (`open Functional.Autodiff`: `AD.Grad(f)(x)` on `Func<Expr, Expr>`),
which F# can call directly too. The same first tutorial in C#, as compiled in the tour
(`dotnet run --project samples/Tour`), which goes on through the rest of it:
*)

(*** hide ***)
CSharp.html [ "Seed000"; "Full" ]
(*** include-it-raw ***)

(**
## The tutorials

| page | what it teaches |
|---|---|
| [000 Grad is pure](tutorial-000-grad-is-pure.html) | a gradient is a return value: call `Grad` again and again; accumulate, set and reset gradients as values |
| [001 Vector outputs, stop-gradient, control flow](tutorial-001-vjp-stop-gradient-control-flow.html) | `Vjp` with a cotangent for non-scalar outputs, `StopGradient` as a node, one graph and many gradients, loops and branches on values |
| [002 What to differentiate](tutorial-002-what-to-differentiate.html) | choose the inputs by what you pass to `Grad`, the error for a non-scalar output, weighted `Vjp` |
| [003 Circuits](tutorial-003-circuit-gradients.html) | gradients of every gate of f = (x + 2y)·z, intermediate nodes included, and the graph drawn as a circuit |
| [004 Matrices and losses](tutorial-004-matrices-and-losses.html) | z = x·w + b with a logistic loss, evaluation without a mode switch, accumulation over matrices |

## Guides

| page | what it covers |
|---|---|
| [Numbers you can trust](reliability.html) | custom-op rules, the anomaly check, errors that name your line, determinism |
| [Structured inputs](structured-inputs.html) | tuples, lists, maps and records of parameters in every combinator, `Tree` for optimizer steps, choosing inputs with `argnums` and `names`, Jacobians and Hessians in blocks |
| [Shapes, selection and linear algebra](shapes-selection-linear-algebra.html) | least squares through `solve` and its gradient, a Gaussian log-likelihood differentiated by its covariance (`logdet`, `solve`, a Cholesky parameterisation trained by gradient steps), reshape, concat and slice, broadcasting, `where` and `maximum`, `logSumExp` along an axis, the errors for a singular matrix and a shape mismatch |
| [C# expression trees, compiled](expression-trees.html) | `AD.CompileGrad` of a C# lambda to a delegate of straight-line code (the graph path's bits, about hand-written speed), what a lambda may contain, captured variables read once, `?:` as `where`, the errors, `AD.CompileScalarGrad` of scalar graphs built with `Expr` |
| [Training on the digits](training-digits.html) | a one-hidden-layer MLP trained on a real data set (the UCI digits) as a fold over epochs with `Optim.step` on a record of parameters, `Optim.fit`, the data-parallel batch gradient, evaluation without differentiation, loss and accuracy curves (OxyPlot SVG), a confusion matrix |
| [Compiling: trace once, run many](compiling.html) | `compiledValueAndGrad` and C#'s `Compiled`: one flat program per input shape with the uncompiled numbers bit for bit, what is baked in, `where` for value-dependent choices, the cache, threads, when it pays |

The [API reference](reference/index.html) is generated from the libraries' XML docs.

## Running a page yourself

Each page is an F# script. Build once, then run it:

    [lang=text]
    dotnet tool restore && dotnet build
    dotnet fsi docs/index.fsx

The build copies the libraries and the packages they use into `docs/.lib`, which every page references with
`#load ".helpers/references.fsx"`. Each tutorial number prints as `label: library (tutorial: printed)`; one that does
not round to the printed number stops the script with exit code 1. `./test` runs every page the same way
(tests/Docs.Tests).

## Building this site

    [lang=text]
    docs/build.sh

restores the tools, builds the solution in Release, runs every page under `dotnet fsi`, then
`dotnet fsdocs build --eval --strict` writes the site to `output/`. Pages that draw graphs need Graphviz's `dot`
(`apt-get install -y graphviz`).
*)

(*** hide ***)
finish ()
