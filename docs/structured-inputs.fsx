(**
---
title: Structured inputs
category: Guides
categoryindex: 2
index: 2
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/structured-inputs.fsx   runs the page: each number is printed beside its closed form or its
//                                       finite difference, and one that differs stops the script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`
// The C# on this page is compiled and run by tests/Acceptance.CSharp/StructuredExample.cs, which also checks that
// this page shows it line for line.
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/guides.fsx"

open Functional.Autodiff

/// x moved by t·v, leaf by leaf.
let along (x: 'X) (v: 'X) (t: float) : 'X = Tree.Zip(x, v, fun a b -> a + t * b)

(**
# Structured inputs

A model's parameters are rarely one vector: they are a list of layers, each a weight matrix and a bias, or a
dictionary of named arrays, or a tuple of a few of these. Every combinator (`grad`, `valueAndGrad`, `vjp`, `jvp`,
`hvp`, `jacobian`, `hessian` and their C# forms in `AD`) takes any such structure, differentiates by every number in
it, and gives the gradient back in the same form. There is one mechanism behind all of them, JAX's pytrees: `Tree`
takes a structure apart into its leaves and builds a structure of the same form from leaves. A combinator flattens
its input, makes one variable per leaf, hands the function the same form with an `Expr` in place of every leaf, and
unflattens the gradient. So whatever works for one combinator works for all, and `Tree` itself gives you leaf-by-leaf
arithmetic on your structures (an optimizer step on a whole model is one `Tree.Zip`).

## What a structure is

| | forms |
|---|---|
| leaves | `float`, `Value`, MathNet `Vector<float>` and `Matrix<float>` (traced as `Expr`) |
| nodes | tuples (F# and C# value tuples, any arity, nested), arrays, F# lists, `List<T>`, `ImmutableArray<T>`, `ImmutableList<T>`, `IReadOnlyList<T>`, `Map<string, _>` and string-keyed dictionaries, F# records, C# types marked `[Structured]` |
| parameters | `Params` (traced as `ParamVars`, read with `p?w`) |

The function receives the traced form: every leaf becomes an `Expr` and every node keeps its form, so a
`float * Value list` comes in as `Expr * Expr list` and a `Layer<Value>` record as `Layer<Expr>`. Leaves are taken
depth first: tuple and list positions in order, record fields in declaration order, dictionary and map entries by
key. Each leaf has a path, which is how blocks of Jacobians and Hessians and error messages name it:
*)
open Functional.Autodiff.FSharp

let nested = (2.0, ([ vector [ 1.0 ]; vector [ 2.0; 3.0 ] ], Map [ "w", scalar 1.0; "b", scalar 0.5 ]))

for struct (path, leaf) in Tree.Leaves nested do
    printfn "%-12s %O" path leaf
(*** include-output ***)

(**
## Tuples, lists and maps

A function of four numbers takes a 4-tuple and returns four partial derivatives; lambdas over tuples, lists, arrays
and maps need no annotation:
*)
let g4 = grad (fun (a, b, c, d) -> a * b * c * d) (1.0, 2.0, 3.0, 4.0)
(*** include-value: g4 ***)
(*** hide ***)
let (ga, gb, gc, gd) = g4
near "∂(abcd)" [| 24.0; 12.0; 8.0; 6.0 |] [| ga; gb; gc; gd |]

(**
Nesting works the same way: here a scale, and a pair of a list of numbers and a vector. The gradient is a scale and
a pair of a list and a vector. A function defined on its own, rather than as a lambda at the call, has its types
inferred from its body alone, where F# would take an untyped `a` in `a * a` for a `float`; so its parameters are
annotated with the traced form:
*)
let nestedInput = (2.0, ([ 1.0; 2.0; 3.0 ], vector [ 1.0; -1.0 ]))
let nestedF (a: Expr, (xs: Expr list, v: Expr)) = a * List.reduce ( * ) xs + a * a * dot v v

let nestedValue, nestedGrad = valueAndGrad nestedF nestedInput
(nestedValue, nestedGrad)
(*** include-it ***)
(*** hide ***)
near "nested value" [| 2.0 * 6.0 + 4.0 * 2.0 |] nestedValue
near "nested gradient" (numericGrad (fun x -> fst (valueAndGrad nestedF x)) nestedInput) (elements nestedGrad)

(**
A `Map<string, _>` is a dictionary of named parameters; its gradient is a map with the same keys, in key order.
Indexing with `m["w"]` needs the map's type known where it is written, so `namedLoss` is annotated (a lambda at the
call can use `Map.find "w" m` without one):
*)
let named = Map [ "w", vector [ 1.0; 2.0 ]; "b", scalar 0.5 ]
let namedLoss (m: Map<string, Expr>) = sum (m["w"] * m["w"]) * m["b"] + 3.0 * m["b"]

let namedGrad = grad namedLoss named
(*** include-value: namedGrad ***)
(*** hide ***)
near "map gradient, b then w" [| 5.0 + 3.0; 1.0; 2.0 |] (elements namedGrad)

(**
`Params` (`parameters [ "w", ...; "b", ... ]`, read as `p?w`) is one more form of the same mechanism.

## A model as a list of records

A two-layer perceptron is a list of layers, each a record of a weight matrix and a bias. The record is generic in its
leaf type, so the same type holds the numbers (`Layer<Value>`) and the traced graph (`Layer<Expr>`):
*)
type Layer<'T> = { W: 'T; B: 'T }

let inputs = matrix [ [ 0.0; 1.0 ]; [ 1.0; 0.0 ]; [ 1.0; 1.0 ]; [ -1.0; 0.5 ] ]
let targets = matrix [ [ 1.0 ]; [ 1.0 ]; [ 0.0 ]; [ 0.5 ] ]

let model =
    [
        { W = matrix [ [ 0.5; -0.3; 0.8 ]; [ 0.2; 0.7; -0.4 ] ]; B = vector [ 0.1; 0.0; -0.1 ] }
        { W = matrix [ [ 0.6 ]; [ -0.5 ]; [ 0.3 ] ]; B = vector [ 0.0 ] }
    ]

let predict (layers: Layer<Expr> list) =
    layers |> List.fold (fun h l -> tanh (h *@ l.W + l.B)) (constant inputs)

let loss (layers: Layer<Expr> list) = meanSquaredError (predict layers) (constant targets)

(**
The loss's parameter is annotated with the traced form, `Layer<Expr> list`: F# works out the traced form of a tuple,
list, array or map from the input, but takes a record's from the function (here it could find `Layer` from the field
names `l.W` and `l.B`; the annotation says it plainly). The gradient is a `Layer<Value> list` of the model's shapes:
*)
let lossValue, modelGrad = valueAndGrad loss model

for struct (path, leaf) in Tree.Leaves modelGrad do
    printfn "%-6s %-13s %O" path (string leaf.Shape) leaf
(*** include-output ***)
(*** hide ***)
let lossAt (layers: Layer<Value> list) = fst (valueAndGrad loss layers)
near "the model's gradient, every element" (numericGrad lossAt model) (elements modelGrad)

(**
## Gradient descent on the structure

`Tree.Zip` applies a function leaf by leaf to two structures of the same form, and `Tree.Map` to one; both return the
form they were given. So a step of gradient descent on the whole model is one line, and training is a fold over steps
that makes a new model each time (`List.scan`, which keeps every model; nothing is mutated). `Tree.GlobalNorm` is the norm over every element of every
leaf, for clipping:
*)
let step (layers: Layer<Value> list) =
    let g = grad loss layers
    let norm = Tree.GlobalNorm g
    let clipped = if norm > 1.0 then Tree.Map(g, fun v -> v / norm) else g
    Tree.Zip(layers, clipped, fun w dw -> w - 0.5 * dw)

let models = List.scan (fun layers _ -> step layers) model [ 1..8 ]
let losses = models |> List.map lossAt

for k, l in List.indexed losses do
    printfn "step %d: loss %.6f" k l
(*** include-output ***)
(*** hide ***)
holds "the loss decreases at every step" (List.pairwise losses |> List.forall (fun (a, b) -> b < a))
let firstStep =
    let g = elements modelGrad
    let norm = sqrt (Array.sumBy (fun x -> x * x) g)
    Array.map2 (fun w dw -> w - 0.5 * dw / max 1.0 norm) (elements model) g
near "the first step, element by element" firstStep (elements models[1])
near "the global norm" [| sqrt (Array.sumBy (fun x -> x * x) (elements modelGrad)) |] (Tree.GlobalNorm modelGrad)

(**
## Choosing what to differentiate

`gradWrt` (and `valueAndGradWrt`, `vjpWrt`, `jvpWrt`, `hvpWrt`, `valueAndGradAuxWrt`, `jacobianBlocksWrt`,
`hessianBlocksWrt`) differentiates by some inputs only: `argnums [ .. ]` picks positions of a tuple, list or array
(JAX's `argnums`), `names [ .. ]` picks record fields, map keys or parameter names. The result keeps the input's form;
the inputs not chosen hold zeros of their shape, which are placeholders: their derivatives are not computed.
*)
let byFirstAndLast = gradWrt (argnums [ 0; 2 ]) (fun (a, b, c) -> a * b * c) (2.0, 3.0, 4.0)
(*** include-value: byFirstAndLast ***)

let secondLayerOnly = gradWrt (argnums [ 1 ]) loss model
let weightsOnly = gradWrt (names [ "W" ]) (fun (l: Layer<Expr>) -> sum (l.W * l.W) + sum l.B) model[0]
(*** include-value: weightsOnly ***)
(*** hide ***)
let (ba, bb, bc) = byFirstAndLast
near "argnums [0; 2]" [| 12.0; 0.0; 6.0 |] [| ba; bb; bc |]
near "argnums [1]: the first layer is zeros" (Array.zeroCreate (elements model[0]).Length) (elements secondLayerOnly[0])
near "argnums [1]: the second layer's gradient" (elements modelGrad[1]) (elements secondLayerOnly[1])
near "names [W]" (Array.append (elements (2.0 * model[0].W)) [| 0.0; 0.0; 0.0 |]) (elements weightsOnly)

(**
## Jacobians and Hessians in blocks

For a structured input a Jacobian or a Hessian is naturally a grid of blocks, one per pair of leaves (as JAX returns
them). `hessianBlocks` and `jacobianBlocks` return a `Blocks`: block `.[row, column]` is the matrix of the row leaf's
elements by the column leaf's, indexed by path; `ToMatrix()` lays all of them out in leaf order, which is what
`hessian` and `jacobian` return as one `Value`. For f(a, x) = a·xᵀx + sin a, the Hessian has blocks ∂²f/∂a² = −sin a,
∂²f/∂a∂x = 2x and ∂²f/∂x² = 2a·I:
*)
let f (a: Expr, x: Expr) = a * dot x x + sin a
let at = (0.5, vector [ 1.0; 2.0 ])

let h = hessianBlocks f at
printfn "%O" h
printfn "∂²f/∂a∂x = %O" (Value.FromMatrix h.["[0]", "[1]"])
printfn "∂²f/∂x²  = %O" (Value.FromMatrix h.["[1]", "[1]"])
printfn "all      = %O" (hessian f at)
(*** include-output ***)
(*** hide ***)
near "∂²f/∂a²" [| -(sin 0.5) |] h.["[0]", "[0]"]
near "∂²f/∂a∂x" [| 2.0; 4.0 |] (h.["[0]", "[1]"].ToRowMajorArray())
near "∂²f/∂x²" [| 1.0; 0.0; 0.0; 1.0 |] (h.["[1]", "[1]"].ToRowMajorArray())
near "the whole Hessian" [| -(sin 0.5); 2.0; 4.0; 2.0; 1.0; 0.0; 4.0; 0.0; 1.0 |] ((hessian f at).ToRowMajorArray())

(**
The function of a Jacobian may return a structure too; the rows are then its leaves (`y` for a single output). For
g(a, x) = (a·x, Σx):
*)
let j = jacobianBlocks (fun (a, x) -> a * x, sum x) at
printfn "%O" j
printfn "∂(a·x)/∂a = %O" (Value.FromMatrix j.["[0]", "[0]"])
printfn "∂(a·x)/∂x = %O" (Value.FromMatrix j.["[0]", "[1]"])
printfn "all       = %O" (jacobian (fun (a, x) -> a * x, sum x) at)

let xBlockOnly = hessianBlocksWrt (argnums [ 1 ]) f at
printfn "%O" xBlockOnly
(*** include-output ***)
(*** hide ***)
near "∂(a·x)/∂a" [| 1.0; 2.0 |] (j.["[0]", "[0]"].ToRowMajorArray())
near "∂(a·x)/∂x" [| 0.5; 0.0; 0.0; 0.5 |] (j.["[0]", "[1]"].ToRowMajorArray())
near "∂Σx/∂(a, x)" [| 0.0; 1.0; 1.0 |] (Array.append (j.["[1]", "[0]"].ToRowMajorArray()) (j.["[1]", "[1]"].ToRowMajorArray()))
near "the x block alone" [| 1.0; 0.0; 0.0; 1.0 |] (xBlockOnly.["[1]", "[1]"].ToRowMajorArray())
holds "hessianBlocksWrt has no block for a" (xBlockOnly.ColumnPaths.Length = 1)

(**
## Hessian-vector products

`hvp f x v` is H·v without forming H, with v and the result in x's form. On the model, H·g costs a few gradients'
worth, whatever the number of parameters:
*)
let hv = hvp f at (1.0, vector [ 0.0; 1.0 ])
(*** include-value: hv ***)

let curvature = hvp loss model modelGrad
printfn "gᵀHg = %.6f" (Tree.Dot(modelGrad, curvature))
(*** include-output ***)
(*** hide ***)
let (hva, hvx) = hv
near "H·v" [| -(sin 0.5) + 4.0; 2.0; 4.0 + 1.0 |] (Array.append [| hva |] (hvx.ToArray()))
let gradAt (layers: Layer<Value> list) = elements (grad loss layers)
let hvNumeric =
    let d = 1e-5
    Array.map2 (fun a b -> (a - b) / (2.0 * d)) (gradAt (along model modelGrad d)) (gradAt (along model modelGrad -d))
near "H·g against differences of gradients" hvNumeric (elements curvature)

(**
## Auxiliary outputs

`valueAndGradAux` (JAX's `has_aux`) lets the function return something beside the loss, here the predictions; it is
not differentiated, and graphs in it carry their values:
*)
let auxLoss, auxGrad, predictions =
    valueAndGradAux (fun (layers: Layer<Expr> list) -> loss layers, predict layers) model

printfn "loss %.6f, predictions %O" auxLoss predictions.Value
(*** include-output ***)
(*** hide ***)
near "the aux loss" [| lossValue |] auxLoss
near "the aux gradient" (elements modelGrad) (elements auxGrad)
holds "the predictions have a row per input" (predictions.Value.Shape = Shape.Matrix(4, 1))

(**
## When forms differ

A tangent, a direction or a second structure given to `Tree.Zip` must have the input's form and leaf shapes. When it
does not, a `StructureException` names the first leaf that differs by its path (also in its `Path` property), and the
line of your code:
*)
let tangent = [ model[0]; { model[1] with W = matrix [ [ 1.0; 2.0; 3.0 ] ] } ]

let structureError =
    try
        jvp loss model tangent |> ignore
        None
    with :? StructureException as e ->
        Some(e.Path, e.Message)

match structureError with
| Some(path, message) -> printfn "Path = %s\n%s" path message
| None -> printfn "no error"
(*** include-output ***)
(*** hide ***)
holds "the error names [1].W" (match structureError with Some(path, m) -> path = "[1].W" && m.Contains "[1].W" | None -> false)
holds "the error names this page" (match structureError with Some(_, m) -> m.Contains "structured-inputs.fsx:" | None -> false)

(**
A function annotated with the value form instead of the traced one is refused when the combinator is built, with
the type it should take:
*)
let annotationError =
    try
        grad (fun (l: Layer<Value>) -> constant l.B) model[0] |> ignore
        ""
    with :? StructureException as e ->
        e.Message

printfn "%s" annotationError
(*** include-output ***)
(*** hide ***)
holds "the error names the traced form" (annotationError.Contains "Layer<Expr>")

(**
## In C#

The C# combinators take the input type and the traced type as type arguments: `AD.Grad<TIn, TTraced>(f, wrt)`. A
tuple is traced as a tuple of `Expr` (element names are free), an array as `Expr[]`, and a C# record marked
`[Structured]` and generic in its leaf type as the same record over `Expr`. `Wrt.Args(..)` and `Wrt.Names(..)` choose
inputs, `AD.Jacobian` and `AD.Hessian` of structured inputs return `Blocks`, and `Tree` is the same mechanism:

```csharp
// A value and an array of values: f receives (Expr, Expr[]), the gradient is a (Value, Value[]).
var (ga, gxs) = AD.Grad<(Value, Value[]), (Expr A, Expr[] Xs)>(t => t.A * t.Xs[0] * t.Xs[1])((2.0, [3.0, 4.0]));
Console.WriteLine($"{ga} {gxs[0]} {gxs[1]}");                   // 12 8 6

// A record of leaves: Layer<Value> in, Layer<Expr> traced, Layer<Value> out.
var layer = new Layer<Value>(Value.FromRows([1.0, 2.0], [3.0, 4.0]), Value.FromArray(0.5, -0.5));
var x = Value.FromArray(1.0, -1.0);
Func<Layer<Expr>, Expr> loss = l => Expr.Sum(Expr.Square(Expr.MatMul(l.W, x) + l.B));
var g = AD.Grad<Layer<Value>, Layer<Expr>>(loss)(layer);
Console.WriteLine($"{g.W} {g.B}");                             // [[-1, 1], [-3, 3]] [-1, -3]

// A step of gradient descent on the whole structure, leaf by leaf.
var next = Tree.Zip(layer, g, (w, dw) => w - 0.25 * dw);
Console.WriteLine(AD.ValueAndGrad<Layer<Value>, Layer<Expr>>(loss)(next).Value);  // 0.625

// Only some inputs: the others are zeros, not computed.
var byW = AD.Grad<Layer<Value>, Layer<Expr>>(loss, Wrt.Names("W"))(layer);
var byEnds = AD.Grad<(Value, Value, Value), (Expr, Expr, Expr)>(t => t.Item1 * t.Item2 * t.Item3, Wrt.Args(0, 2))((2.0, 3.0, 4.0));
Console.WriteLine($"{byW.B} {byEnds}");                        // [0, 0] (12, 0, 6)

// A Hessian in blocks, indexed by leaf path: ∂²f/∂a∂x = 2x for f(a, x) = a·xᵀx.
var h = AD.Hessian<(Value, Value), (Expr A, Expr X)>(t => t.A * Expr.Dot(t.X, t.X))((0.5, Value.FromArray(1.0, 2.0)));
Console.WriteLine(Value.FromMatrix(h["[0]", "[1]"]));          // [[2, 4]]
Console.WriteLine(Value.FromMatrix(h.ToMatrix()));             // [[0, 2, 4], [2, 1, 0], [4, 0, 1]]

[Structured] public sealed record Layer<T>(T W, T B);
```

These lines are compiled and run by `tests/Acceptance.CSharp/StructuredExample.cs`, which checks what they print
and that this page shows them as they are compiled.
*)

(*** hide ***)
finish ()
