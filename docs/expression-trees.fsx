(**
---
title: C# expression trees, compiled
category: Guides
categoryindex: 2
index: 6
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/expression-trees.fsx    runs the page: a number that differs from the one printed stops it
//   docs/build.sh                       renders every page with `fsdocs build --eval`
// The C# on this page is compiled and run by tests/Acceptance.CSharp/ExpressionTreesExample.cs, which also checks
// that this page shows it line for line (F# cannot write C# expression-tree lambdas; the F# below builds the trees).
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/guides.fsx"

open System
open System.Linq.Expressions
open Functional.Autodiff

(**
# C# expression trees, compiled

`AD.ValueAndGrad` traces the function on every call: it builds a node per op, sorts the graph and walks it, which is
what lets the function branch on values, and what costs about 136 ns per scalar op (bench W1). Scalar code written
as a C# lambda does not need that: `AD.CompileGrad` takes the lambda as an *expression tree*, translates it into a
graph once, builds its gradient graph from the ops' reverse rules, and compiles both into a .NET delegate of
straight-line code over doubles. Each node is computed once (shared sub-expressions are shared), by the op's own
scalar kernel, so the delegate gives exactly the bits the graph path gives, at about the speed of code written by hand.

```csharp
// A C# lambda becomes a graph once; its value and gradient compile to a delegate of straight-line code.
var df = AD.CompileGrad((x, y) => x * Math.Exp(y));
var (v, (gx, gy)) = df(1.0, 2.0);
Console.WriteLine($"{v} {gx} {gy}");                       // 7.38905609893065 7.38905609893065 7.38905609893065

// c ? a : b on comparisons is Expr.Where; captured variables are read once, when compiling.
var scale = 3.0;
var hinge = AD.CompileGrad(x => x > 0 ? scale * x * x : Math.Abs(x) / 2);
scale = 100.0;                                               // not seen by hinge
Console.WriteLine($"{hinge(2.0)} {hinge(-1.0)}");           // (12, 12) (0.5, -0.5)

// A double[] read at constant indices: the gradient has the array's length (the highest index + 1).
var rosenbrock = AD.CompileGrad(a => Math.Pow(1 - a[0], 2) + 100 * Math.Pow(a[1] - a[0] * a[0], 2));
var (r, gr) = rosenbrock([1.5, 2.0]);
Console.WriteLine($"{r} [{string.Join(", ", gr)}]");         // 6.5 [151, -50]

// Anything else is refused, naming the node and where it is in the lambda.
try { AD.CompileGrad(x => Math.Atan2(x, 1.0)); }
catch (UnsupportedExpressionException e) { Console.WriteLine($"{e.Node}: {e.Subexpression}"); }  // The call to Math.Atan2: Atan2(x, 1)

// A scalar graph built with Expr compiles the same way.
var dg = AD.CompileScalarGrad(x => Expr.Sigmoid(x) * Expr.Sin(x));
var (s, ds) = dg(0.5);
Console.WriteLine($"{s:F6} {ds:F6}");                        // 0.298423 0.658926
```

The delegate is a pure value: thread-safe, and allocation-free except for a `double[]` gradient (a long program
rents one buffer from the shared pool per call, see below).

## What a lambda may contain

| C# | becomes |
|---|---|
| the parameters: one to four `double`s, or one `double[]` read at constant indices `a[0]`, `a[2]` | one scalar variable each (`x`, `y`, or `a[0]`, `a[1]`, …) |
| constants, and numeric conversions of constants (`2`, `(double)n`) | constants |
| captured variables: fields and properties of the closure, static ones such as `Math.PI` | constants, **read once, when the lambda is translated** |
| `+ - * /`, unary minus | `add`, `sub`, `mul`, `div`, `neg` |
| `Math.Exp`, `Log`, `Sin`, `Cos`, `Tanh`, `Sqrt`, `Abs` | `exp`, `log`, `sin`, `cos`, `tanh`, `sqrt`, `abs` (gradient 0 at 0) |
| `Math.Tan(x)` | `sin(x) / cos(x)` |
| `Math.Pow(x, c)` with `c` known at translation time; `Math.Pow(x, y)` | `pow c` (the pow-by-constant op); `pow_tensor` |
| `Math.Max`, `Math.Min` | `maximum`, `minimum` (the gradient splits evenly at a tie, as PyTorch's) |
| `c ? a : b` on `<`, `<=`, `>`, `>=`, `==`, `!=`, combined with `&&`, `\|\|`, `!` | `where(c, a, b)` on 0/1 masks |

**Captured variables are read once.** The lambda `x => scale * x` is translated when `CompileGrad` is called, and
`scale` is read then: changing it later does not change the delegate (compile again to see the new value). This is
JAX's rule for constants captured by a `jit`-compiled function. An array index may be a captured `int` too.

**`?:` is `Where`.** Both branches are part of the graph and the condition picks one per call; the gradient flows
through the chosen branch only, and the unchosen one is never read, so `x > 0 ? Math.Log(x) : 0` is 0 with gradient
0 at `x = -1`, not NaN. A compiled function cannot take other value-dependent paths: there are no statements to
branch with.

**A `double[]` has a fixed length**: the highest index read plus one, or the one given
(`AD.CompileGrad(f, length)`, for elements the lambda does not read, whose gradient is 0). The delegate takes arrays
of exactly that length and returns a gradient of that length.

Anything else is refused when the lambda is translated, with an `UnsupportedExpressionException` that names the node
(its `NodeType`, and for a call the method, e.g. `Math.Atan2`), shows the sub-expression and the whole lambda, points
at your line, and says what to do: calls to other methods, `%`, blocks, loops, assignments, nested lambdas and their
invocations, indices that depend on the parameters, the array's `Length`, conversions of traced values to `int`,
other parameter types. The translation is one iterative walk (a lambda nesting 100 000 additions translates), and a
message shows a lambda too deep to print by its depth instead.

`Expr.FromLambda` gives the translated graph itself, with its input variables, for drawing, evaluating or
differentiating it further. From F#, an expression tree is built with `System.Linq.Expressions` (F# lambdas are not
expression trees; quotations are a different form):
*)
let x = Expression.Parameter(typeof<float>, "x")
let y = Expression.Parameter(typeof<float>, "y")
let exp = typeof<Math>.GetMethod("Exp", [| typeof<float> |]) |> nonNull
let lambda = Expression.Lambda<Func<float, float, float>>(Expression.Multiply(x, Expression.Call(exp, y)), [| x; y |])

let graph = Expr.FromLambda lambda
printfn "%s over %s" (Export.Text.Expression graph.Output) (graph.Inputs |> Seq.map (fun v -> v.Name) |> String.concat ", ")
let struct (v, struct (gx, gy)) = AD.CompileGrad(lambda).Invoke(1.0, 2.0)
expect "x * exp(y) at (1, 2) and its gradient" "[7.389056, 7.389056, 7.389056]" [| v; gx; gy |]
(*** include-output ***)

(**
## Scalar graphs built with Expr

The same emitter compiles any graph whose nodes are all scalars, however it was built:
`AD.CompileScalarGrad(f)` for a function of one or two scalars (traced once on symbolic variables, so `f` must not
read `.Value`: choose with `Expr.Where`), and `AD.CompileScalarGrad(output, inputs)` for a graph over given scalar
variables, taking their values as an array. A node that depends on no input is computed once and baked in as a
constant (so is a variable that carries a value but is not an input); a node that depends on an input and is not a
scalar is refused with a `ShapeMismatchException` naming it. Library ops are computed by their scalar kernels, any
other op (your own `Op`) through its `Eval` on scalars.
*)
let chain = AD.CompileScalarGrad(fun (x: Expr) -> Expr.Tanh(Expr.Exp(x * 0.8 + 0.5)) * Expr.Sin x)
let traced = AD.ValueAndGrad(fun (x: Expr) -> Expr.Tanh(Expr.Exp(x * 0.8 + 0.5)) * Expr.Sin x)
let struct (cv, cg) = chain.Invoke 0.3
let struct (tv, tg) = traced.Invoke(Value.Scalar 0.3)
holds "the delegate gives the graph path's bits" (BitConverter.DoubleToInt64Bits cv = BitConverter.DoubleToInt64Bits(tv.ToScalar()) && BitConverter.DoubleToInt64Bits cg = BitConverter.DoubleToInt64Bits(tg.ToScalar()))
expect "tanh(exp(0.8x + 0.5)) sin x at 0.3 and its derivative" "[0.286718, 0.955960]" [| cv; cg |]
(*** include-output ***)

(**
## Speed, and when compiling pays

The code is one `System.Linq.Expressions` block of assignments to double locals, one per node, in topological order.
The JIT compiles a very large method without optimisation (no inlining of the kernels), so a program of more than
256 nodes is split into methods of 256 nodes that pass the values they share through one array, rented from the
shared pool per call. On bench W1 (a chain of 1000 scalar ops cycling `x + 0.5`, `x * 0.8`, `tanh`, `exp`, `sin`;
value and gradient):

| W1, value and gradient | time per call | per op |
|---|---:|---:|
| hand-written (Math.Tanh, Exp, Sin, Cos, a tape of doubles) | 18.3 µs | 18 ns |
| `AD.CompileGrad` of the chain as an expression tree | 19.6 µs | 20 ns |
| `AD.CompileScalarGrad` of the chain built with `Expr` | 20.6 µs | 21 ns |
| `AD.ValueAndGrad`, traced on every call (issue 12's figure) | 136 µs | 136 ns |

BenchmarkDotNet's default job on a busy shared machine (`Benchmarks --filter '*W1_*'`; bench/run.sh measures them
on a quiet one): the delegate runs within about 1.1× the hand-written code (the target was 1.5×), some 7× faster than
tracing. The hand-written code on the library's own scalar kernels instead of Math's runs about as fast as on Math's,
so the difference is the emitter's. These are steady-state figures: the kernels are compiled by .NET's tiered JIT, so
for the first fraction of a second after a process starts (until the runtime has recompiled them optimised) a
delegate, like the graph path, runs several times slower; BenchmarkDotNet's `--quick` job measures that phase.

Compiling costs a translation, a gradient graph and the JIT: about 0.1 s for W1's 1000 ops, so the delegate pays for
itself after about a thousand calls; for a function called a few times, `AD.ValueAndGrad` is the cheaper way. What it
cannot do is what tracing does: branch on values (`if (x.Value > 0)`), loop a data-dependent number of times, or
take tensors; compile scalar code, trace the rest.
*)
finish ()
