(**
---
title: Compiling: trace once, run many
category: Guides
categoryindex: 2
index: 5
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/compiling.fsx       runs the page: each number is printed beside what the page says, and one
//                                       that differs stops the script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`
// The C# on this page is compiled and run by tests/Acceptance.CSharp/CompiledExample.cs, which also checks that
// this page shows it line for line.
#load ".helpers/references.fsx" ".helpers/check.fsx"

open Functional.Autodiff
open Functional.Autodiff.FSharp

(**
# Compiling: trace once, run many

Every `valueAndGrad` call traces the function: it runs it on fresh variables, builds a node per operation, sorts the
graph and walks it back. That is what lets a function branch on `.Value` while it is being differentiated, and it
is cheap next to a matrix product, but on scalar work or small vectors it is most of the time. When a function is
called many times with inputs of the same shapes (a training loop, an optimiser, a sampler), compile it instead:
`compiledValueAndGrad f` (C#: `Compiled.ValueAndGrad(f)`, and likewise `Grad`, `Vjp`, `Jvp`, `Hvp`, `Hessian`) returns a function that
traces f once per input form and shapes, on placeholder variables that have shapes but no values, builds the value
and the gradient graphs with the ops' own rules, and flattens them into one program: kernel calls over slots, the
constants hoisted, scalars in registers, every intermediate array in a buffer planned once and reused from call to
call. Later calls run the program: no tracing, no nodes, no sorting, and no allocation but the results.

The numbers are the uncompiled combinator's, bit for bit: the program runs the same kernels in the same order
(tests/Core.Tests/Compile.fs checks it on random graphs, for values, gradients, pullbacks and tangents).
*)
let loss (w: Expr) = 3.0 * dot (constant (vector [ 0.5; 0.5; 0.5 ])) (square (w + 2.0)) + sum (tanh w)

let vg = compiledValueAndGrad loss
let value, gradient = vg (vector [ 1.0; 1.0; 1.0 ])
expect "value" "42.7848" value
expect "gradient" "[9.42, 9.42, 9.42]" gradient

// The same bits as the uncompiled combinator.
let value', gradient' = valueAndGrad loss (vector [ 1.0; 1.0; 1.0 ])
printfn "same bits: %b" (value = value' && gradient.ToArray() = gradient'.ToArray())
(*** include-output ***)

(**
## Small tensors: straight-line code

A function of one input whose tensors are all small (every node at most 16 elements, at most 256 elements computed in
all), like `loss` above, compiles one step further: its value and gradient become straight-line .NET code over the
elements, through the same emitter as [C# expression trees](expression-trees.html). Each element is a local computed
by its op's own scalar function, which gives the element the bits the op's vector kernel gives it; sums and dot
products of up to 16 elements are added by their kernels one after another from 0, on any hardware, and the code
writes out those same additions. There is no program to interpret and no frame to rent, and the numbers stay the
uncompiled ones (the random graphs of tests/Core.Tests/Compile.fs check it). Element-wise ops, `where`, sums (of all
elements, of rows, of columns), dot products, broadcasts, transposes, reshapes and indexing take this path; any other
op (a matrix product, a norm, a concatenation), a larger shape, or an input of several leaves runs the program
instead. Building that code is part of compiling, once per shape: W2's whole compile (trace, program, straight-line
code, first call) takes about 0.5 ms in a warm process, more for the first function a process compiles.
*)

(**
## What is baked in

Everything the function captures (arrays, numbers, `Value`s, a data set) is read once, when the function is traced
for a new shape, and kept in the program as a constant. Changing a captured variable afterwards does not change the
compiled function; make such data an input instead (a leaf of a tuple or record input), and it is read at every call:
*)
let mutable scale = 2.0
let scaled = compiledGrad (fun (x: Expr) -> sum (x * scale))
expect "scale read at trace time" "[2, 2]" (scaled (vector [ 1.0; 1.0 ]))
scale <- 3.0
expect "still the traced constant" "[2, 2]" (scaled (vector [ 1.0; 1.0 ]))

// As an input, the scale is read at every call (its gradient comes back too).
let byInput = compiledGrad (fun (x: Expr, s: Expr) -> sum (x * s))
expect "scale as an input" "[3, 3]" (fst (byInput (vector [ 1.0; 1.0 ], scale)))

(**
## Control flow: use `where`

The trace has no input values, so a compiled function cannot branch or loop on the `.Value` of a node that depends
on its inputs: reading one throws `CompileTraceException`, naming the node, the input it depends on and your line,
as JAX's `jit` does. Write a value-dependent choice with `where` (both branches are computed, the choice is made per
element), or use the uncompiled combinators, which trace at every call. Branching on shapes, on captured constants
or on anything else known when the function is traced is fine.
*)
let branching (x: Expr) = if x.Value.ToScalar() > 0.0 then x * x else -x

try
    compiledGrad branching 2.0 |> ignore
with :? CompileTraceException as e ->
    printfn "%s" (e.Message.Substring(0, e.Message.IndexOf ": a compiled"))

let choosing = compiledGrad (fun (x: Expr) -> where (greater x (constant (scalar 0.0))) (x * x) (-x))
expect "where, x > 0" "4" (choosing 2.0)
expect "where, x < 0" "-1" (choosing -2.0)
(*** include-output ***)

(**
A custom op (`CustomOp`) whose rules only build graphs compiles like the library's own; one whose rule reads its
inputs' values is refused the same way.

## The cache and threads

Each compiled function keeps the programs of the last eight input forms and shapes it met: a call with new shapes
traces again and keeps both, the oldest evicted first. The cache holds shapes, the programs and the function's
captured constants, never an input. A compiled function is a pure value: any number of threads may call it at once
(each run works in its own buffers, rented from a pool), and there is no global mode to switch.

Compiling composes: `compiledGrad (diffGrad f)`-style second order works (`Diff.Grad` inside a compiled function is
traced like any other graph-building code). Compiling a compiled function has nothing to do, as JAX's `jit` of a
jitted function: a compiled function maps values to values, so it is not a graph-building function and the types do
not let it be compiled again; calling one on a traced input's `.Value` inside a function being compiled is the
value-dependent case above, refused with its error. Compile the graph-building function once, at the outside.

## Second order: Hessians and Hessian-vector products

`compiledHvp f` (C#: `Compiled.Hvp`) compiles H·v forward over reverse, as `hvp` computes it: one program with inputs
x and v that runs the gradient graphs and their tangent along v, without forming H. `compiledHessian f` (C#:
`Compiled.Hessian`; `compiledHessianBlocks` for the blocks of a structured input) runs the same kind of program once
per input element, at the unit directions, each run filling one column, as `hessian` fills it. For a structured
input there is one such program per leaf, so that block column j is the tangent when only leaf j moves, exactly as
the uncompiled Hessian builds it; `Wrt` chooses the leaves in C#. The numbers are the uncompiled ones, bit for bit.
*)
let cubic (x: Expr) = sum (x * x * x) + dot x x   // H = diag(6x + 2)

let hessianOf = compiledHessian cubic
expect "compiled Hessian at [1, 2]" "[[8, 0], [0, 14]]" (hessianOf (vector [ 1.0; 2.0 ]))
let hvpOf = compiledHvp cubic
expect "compiled H·v at [1, 2], v = [1, 1]" "[8, 14]" (hvpOf (vector [ 1.0; 2.0 ]) (vector [ 1.0; 1.0 ]))
let point = vector [ 0.3; -1.7 ]
printfn "same bits: %b" ((hessianOf point).ToArray() = (hessian cubic point).ToArray())
(*** include-output ***)

(**
Each call of a compiled Hessian first runs a small program for what the columns read of x alone (tanh(A·x) below,
the values the uncompiled Hessian keeps in its graph), once; each column's program then runs only what moves with
the direction. Rough figures (one thread on a busy 2-core VM, the best of 15 timed loops of `bench/`'s H workloads)
for f(x) = sum(tanh(A·x)): the Hessian for n = 10 in 5.5 µs compiled against 26 µs uncompiled, for n = 100 in
0.50 ms against 0.70 ms (a third of the allocations), and H·v for n = 10⁴ (A of 100 rows) in 0.47 ms against
0.65 ms. For large n the columns' matrix-vector products dominate either way.

## When it pays

Compiling costs about one uncompiled call plus building the program (milliseconds for the benchmarks' workloads;
`Benchmarks --check` prints them). It pays from the second call on wherever tracing is a visible share of the time:
scalar chains and small vectors gain most (several times faster), large element-wise work gains the allocations of
its intermediates, and a gradient dominated by matrix products runs at the products' speed either way.

Measured with `bench/` (BenchmarkDotNet's default job, one thread, a 2-core AMD EPYC VM; hand-written is plain C#
doing the same arithmetic, PyTorch 1.13 eager float64 with OpenBLAS, best of its repeats):

| gradient of | uncompiled | compiled | hand-written | PyTorch | compile (trace, program, first call; rough) |
|---|---:|---:|---:|---:|---:|
| W1: a chain of 1000 scalar ops | 237 µs | 26.7 µs | 17.9 µs | 5.4 ms | ≈ 18 ms |
| W2: 3·xᵀ(w + 2)², 3-vectors (a later run, see below) | 1.72 µs | 29.5 ns (straight-line code) | 12.2 ns | 42.5 µs | ≈ 0.5 ms |
| W3: an MLP, batch 64, 784 → 256 → 10 | 2.12 ms | 1.75 ms | 1.94 ms | 1.53 ms | ≈ 11 ms |
| W4: sum(tanh(x)·exp(−x²)), 10⁶ elements | 33.7 ms | 13.6 ms | 20.9 ms | 20.4 ms | ≈ 22 ms |

W4's compiled gradient allocates its result only (8 MB, against 128 MB uncompiled), and fuses the element-wise
chain, which is why it beats hand-written code that allocates its three arrays per call; W1 through the
[expression-tree delegate](expression-trees.html) takes 19.2 µs. Compiling costs milliseconds and saves per call, so it pays after one or
two calls for W4, about 30 for W3, about 90 for W1 and about 300 for W2: compile what runs in a loop.

W2's row is from a later run on the same kind of machine (2026-12-03, quiet, the same default job; that day the
hand-written code took 12.2 ns where the first run's took 9.4 ns), with W2 running as straight-line code (see *Small
tensors* above): 29.5 ns per call, 2.4× hand-written, where the interpreted program had taken 242 ns, 26× hand-written.
Of the 17 ns over hand-written code, about 5 are the straight-line code's own (its result is a `Value` pair) and about
10 the compiled function's call: finding the program for the input's shape. Compiling costs about 0.5 ms, so W2 pays
after about 300 calls.

## In C#

`Compiled` has the same overloads as `AD` and returns the same delegate types, so switching is one word:
*)

(**
```csharp
// One word changes: AD.ValueAndGrad becomes Compiled.ValueAndGrad; the delegate type is the same.
var x = Value.FromArray(0.5, 0.5, 0.5);
Func<Expr, Expr> z = w => 3 * Expr.Dot(x, (w + 2).Pow(2));
var vg = Compiled.ValueAndGrad(z);
var (v, g) = vg(Value.FromArray(1.0, 1.0, 1.0));
Console.WriteLine($"{v} {g}");                                 // 40.5 [9, 9, 9]

// Named parameters and structured inputs compile the same way.
var grad = Compiled.Grad((ParamVars p) => Expr.Sum(Expr.Square(p["w"] * p["b"])));
Console.WriteLine(grad(Params.Of(("w", 2.0), ("b", 3.0)))["w"]); // 36

// A branch on an input's value is refused; write it with Where.
Func<Expr, Expr> relu = t => Expr.Where(Expr.Greater(t, Expr.Const(0.0)), t, Expr.Const(0.0));
Console.WriteLine(Compiled.Grad(relu)(Value.Scalar(-1.5)));    // 0

// Second order: the Hessian and H·v, compiled forward over reverse.
Func<Expr, Expr> cubic = t => Expr.Sum(t * t * t) + Expr.Dot(t, t);
Console.WriteLine(Value.FromMatrix(Compiled.Hessian(cubic)(Value.FromArray(1.0, 2.0)))); // [[8, 0], [0, 14]]
Console.WriteLine(Compiled.Hvp(cubic)(Value.FromArray(1.0, 2.0), Value.FromArray(1.0, 1.0))); // [8, 14]
```
*)
finish ()
