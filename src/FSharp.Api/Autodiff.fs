namespace Functional.Autodiff.FSharp

open System
open Functional.Autodiff
open MathNet.Numerics.LinearAlgebra

/// <summary>
/// The F# API of Functional.Autodiff: open <c>Functional.Autodiff.FSharp</c> and differentiate F# functions.
/// Graphs are the core's immutable <see cref="T:Functional.Autodiff.Expr"/> values; F#'s own operators and
/// <c>exp</c>, <c>log</c>, <c>sin</c>, <c>cos</c>, <c>tanh</c>, <c>sqrt</c>, <c>abs</c> and <c>**</c> work on them
/// (they resolve to the core's static members), so do the functions below. Every combinator is pure: call it as
/// often as you like; gradients are values you add, set and reset yourself.
/// </summary>
/// <example>
/// <code>
/// open Functional.Autodiff.FSharp
/// let x = vector [ 0.5; 0.5; 0.5 ]
/// let z (w: Expr) = 3.0 * dot x ((w + 2.0) ** 2.0)
/// grad z (vector [ 1.0; 1.0; 1.0 ])                 // [9, 9, 9]
/// grad (fun (a, b) -> a * sin b) (2.0, 0.0)       // (0.0, 2.0)
/// </code>
/// </example>
[<AutoOpen>]
module Autodiff =

    // ------------------------------------------------------------------ values

    /// <summary>A scalar value.</summary>
    let scalar (x: float) : Value = Value.Scalar x

    /// <summary>A vector value from F# numbers: <c>vector [ 1.0; 2.0; 3.0 ]</c>.</summary>
    let vector (elements: seq<float>) : Value = Value.FromArray(Seq.toArray elements)

    /// <summary>A matrix value from rows: <c>matrix [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]</c> is 2×2 with first row 1, 2.</summary>
    /// <exception cref="T:System.ArgumentException">No rows, an empty row, or rows of different lengths.</exception>
    let matrix (rows: seq<#seq<float>>) : Value =
        let rows = rows |> Seq.map Seq.toArray |> Seq.toArray

        if rows.Length = 0 || rows[0].Length = 0 then
            invalidArg
                (nameof rows)
                "matrix needs at least one row of at least one element, e.g. matrix [ [ 1.0; 2.0 ] ]."

        match rows |> Array.tryFindIndex (fun r -> r.Length <> rows[0].Length) with
        | Some i ->
            invalidArg
                (nameof rows)
                $"matrix: row {i} has {rows[i].Length} elements but row 0 has {rows[0].Length}; every row needs the same length."
        | None -> Value.FromMatrix(Matrix<float>.Build.DenseOfRowArrays rows)

    /// <summary>Named parameters from (name, value) pairs, in order: <c>parameters [ "w", matrix [..]; "b", vector [..] ]</c>.</summary>
    /// <exception cref="T:System.ArgumentException">A name appears twice.</exception>
    let parameters (entries: seq<string * Value>) : Params =
        Params.Of(entries |> Seq.map (fun (name, value) -> struct (name, value)) |> Seq.toArray)

    /// <summary>The traced parameter <paramref name="name"/> inside a function of <see cref="T:Functional.Autodiff.Params"/>: <c>fun p -> p?w * p?x + p?b</c>.</summary>
    /// <exception cref="T:System.Collections.Generic.KeyNotFoundException">No parameter has that name.</exception>
    let (?) (p: ParamVars) (name: string) : Expr = p[name]

    // ------------------------------------------------------------------ graphs

    /// <summary>A variable with a name and a bound value (a leaf of a graph built by hand).</summary>
    let var (name: string) (value: Value) : Expr = Expr.Var(name, value)

    /// <summary>A constant node.</summary>
    let constant (value: Value) : Expr = Expr.Const value

    /// <summary>The value of a graph whose variables are all bound.</summary>
    /// <exception cref="T:Functional.Autodiff.UnboundVariableException">A variable has no value.</exception>
    let eval (e: Expr) : Value = e.Value

    /// <summary>The value of a graph with its variables bound to the given values (others keep theirs).</summary>
    let evalWith (bindings: seq<Expr * Value>) (e: Expr) : Value =
        let pairs =
            bindings
            |> Seq.map (fun (v, value) ->
                match v with
                | :? Var as var -> struct (var, value)
                | _ ->
                    invalidArg
                        (nameof bindings)
                        $"evalWith binds variables, but {v} is not one: bind the variables it is built from.")
            |> Seq.toArray

        AD.Eval(e, pairs)

    /// <summary>Stop-gradient as a node: the value of <paramref name="e"/>, with zero derivative (PyTorch's <c>detach</c>).</summary>
    let stopGradient (e: Expr) : Expr = Expr.StopGradient e

    /// <summary>The inner product of two vectors (a scalar).</summary>
    let dot (a: Expr) (b: Expr) : Expr = Expr.Dot(a, b)

    /// <summary>The matrix product (matrix·matrix, matrix·vector or vector·matrix).</summary>
    let matmul (a: Expr) (b: Expr) : Expr = Expr.MatMul(a, b)

    /// <summary>The matrix product as an operator, like Python's <c>@</c>: <c>x *@ w + b</c>. It binds like <c>*</c>.</summary>
    let ( *@ ) (a: Expr) (b: Expr) : Expr = Expr.MatMul(a, b)

    /// <summary>The outer product of two vectors.</summary>
    let outer (a: Expr) (b: Expr) : Expr = Expr.Outer(a, b)

    /// <summary>The transpose of a matrix.</summary>
    let transpose (e: Expr) : Expr = Expr.Transpose e

    /// <summary>The sum of all elements (a scalar).</summary>
    let sum (e: Expr) : Expr = Expr.Sum e

    /// <summary>The mean of all elements (a scalar).</summary>
    let mean (e: Expr) : Expr = Expr.Mean e

    /// <summary>The Euclidean (Frobenius) norm.</summary>
    let norm (e: Expr) : Expr = Expr.Norm e

    /// <summary>Element-wise square.</summary>
    let square (e: Expr) : Expr = Expr.Square e

    /// <summary>Element-wise logistic sigmoid.</summary>
    let sigmoid (e: Expr) : Expr = Expr.Sigmoid e

    /// <summary>Element-wise max(x, 0).</summary>
    let relu (e: Expr) : Expr = Expr.Relu e

    /// <summary>Element-wise log(1 + eˣ), computed stably.</summary>
    let softplus (e: Expr) : Expr = Expr.Softplus e

    /// <summary>The softmax of a vector.</summary>
    let softmax (e: Expr) : Expr = Expr.Softmax e

    /// <summary>The log-softmax of a vector.</summary>
    let logSoftmax (e: Expr) : Expr = Expr.LogSoftmax e

    /// <summary>Binary cross-entropy of logits against targets, averaged (PyTorch's <c>binary_cross_entropy_with_logits</c>).</summary>
    let binaryCrossEntropyWithLogits (logits: Expr) (targets: Expr) : Expr =
        Expr.BinaryCrossEntropyWithLogits(logits, targets)

    /// <summary>The mean squared error between a prediction and a target.</summary>
    let meanSquaredError (prediction: Expr) (target: Expr) : Expr =
        Expr.MeanSquaredError(prediction, target)

    // ------------------------------------------------------------------ combinators

    /// <summary>
    /// f(x) and ∇f(x) from one trace, for a scalar-valued f. x is a <c>float</c>, a <c>Value</c>, a MathNet vector or
    /// matrix, a <c>Params</c> (then f reads <c>p?name</c>), or a tuple of two or three <c>float</c>/<c>Value</c> inputs;
    /// the gradient comes back in x's form.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar (use <c>vjp</c>).</exception>
    /// <example><c>valueAndGrad (fun (x, y) -> x * y) (3.0, 4.0)</c> is <c>(12.0, (4.0, 3.0))</c>.</example>
    let inline valueAndGrad f x =
        let inline call (w: ^W, x: ^X, f: ^E -> Expr) =
            ((^W or ^X): (static member ValueAndGrad: ^X * (^E -> Expr) * ^W -> float * ^X) (x, f, w))

        call (Unchecked.defaultof<Inputs>, x, f)

    /// <summary>∇f(x) for a scalar-valued f, in x's form (see <c>valueAndGrad</c> for the forms x may take).</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar (use <c>vjp</c>).</exception>
    /// <example><c>grad (fun x -> x * x) 3.0</c> is <c>6.0</c>; <c>grad (fun (x, y) -> x * y) (3.0, 4.0)</c> is <c>(4.0, 3.0)</c>.</example>
    let inline grad f x = snd (valueAndGrad f x)

    /// <summary>
    /// f(x) and its pullback v ↦ vᵀJ for any output shape (PyTorch's <c>y.backward(v)</c>); the pullback is pure and
    /// returns a cotangent in x's form. x is a <c>float</c>, a <c>Value</c>, a MathNet vector or matrix, or a <c>Params</c>.
    /// </summary>
    /// <example><c>let y, pullback = vjp (fun x -> x * x) (vector [ 1.0; 2.0 ]) in pullback (vector [ 1.0; 1.0 ])</c> is <c>[2, 4]</c>.</example>
    let inline vjp f x =
        let inline call (w: ^W, x: ^X, f: ^E -> Expr) =
            ((^W or ^X): (static member Vjp: ^X * (^E -> Expr) * ^W -> Value * (Value -> ^X)) (x, f, w))

        call (Unchecked.defaultof<Inputs>, x, f)

    /// <summary>
    /// A single input (<c>float</c>, <c>Value</c>, MathNet vector or matrix) as a Value, and how to read a Value of its
    /// shape back in the input's form. The conversion <c>jvp</c>, <c>jacobian</c>, <c>hessian</c> and <c>hvp</c> use.
    /// </summary>
    let inline leaf x =
        let inline call (w: ^W, x: ^X) =
            ((^W or ^X): (static member Leaf: ^X * ^W -> Value * (Value -> ^X)) (x, w))

        call (Unchecked.defaultof<Inputs>, x)

    /// <summary>f(x) and the directional derivative J·v by forward mode (JAX's <c>jvp</c>); v has x's shape.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">v's shape is not x's.</exception>
    /// <example><c>jvp (fun x -> sin x * x) 1.0 1.0</c> is <c>(sin 1, cos 1 + sin 1)</c> as Values.</example>
    let inline jvp (f: Expr -> Expr) (x: ^X) (v: ^X) : Value * Value =
        let x, _ = leaf x
        let v, _ = leaf v
        AD.Jvp(Func<Expr, Expr>(f)).Invoke(x, v).ToTuple()

    /// <summary>The Jacobian of f at x as a matrix Value (rows: output elements; columns: input elements).</summary>
    /// <example><c>jacobian (fun x -> 2.0 * x) (vector [ 1.0; 2.0 ])</c> is <c>[[2, 0], [0, 2]]</c>.</example>
    let inline jacobian (f: Expr -> Expr) (x: ^X) : Value =
        let x, _ = leaf x
        Value.FromMatrix(AD.Jacobian(Func<Expr, Expr>(f)).Invoke(x))

    /// <summary>The Hessian of a scalar-valued f at x as a matrix Value (forward-over-reverse).</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar.</exception>
    /// <example><c>hessian (fun x -> 2.0 * dot x x) (vector [ 1.0; 1.0 ])</c> is <c>[[4, 0], [0, 4]]</c>.</example>
    let inline hessian (f: Expr -> Expr) (x: ^X) : Value =
        let x, _ = leaf x
        Value.FromMatrix(AD.Hessian(Func<Expr, Expr>(f)).Invoke(x))

    /// <summary>The Hessian-vector product H·v of a scalar-valued f at x, without forming H; in x's form.</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar.</exception>
    let inline hvp (f: Expr -> Expr) (x: ^X) (v: ^X) : ^X =
        let x, back = leaf x
        let v, _ = leaf v
        back (AD.Hvp(Func<Expr, Expr>(f)).Invoke(x, v))

    /// <summary>
    /// The gradient of f as a graph-to-graph function, for nesting derivatives: <c>grad (diff (fun y -> x * y)) 2.0</c>.
    /// Nested uses never confuse their perturbations.
    /// </summary>
    let diff (f: Expr -> Expr) : Expr -> Expr = Diff.Grad(Func<Expr, Expr>(f)).Invoke

/// <summary>
/// Graphs drawn as circuits, in Graphviz DOT or Mermaid (thin wrappers over <c>Functional.Autodiff.Export</c>):
/// inputs on the left, outputs on the right, values on the nodes, stop-gradient marked, and, with
/// <c>Draw.circuit</c>, each node's gradient under its value.
/// </summary>
/// <example>
/// <code>
/// let x, y, z = var "x" (scalar 3.0), var "y" (scalar -4.0), var "z" (scalar 19.0)
/// let f = (x + 2.0 * y) * z
/// Draw.dot (Draw.circuit f) [ ("f", f) ]   // render with: dot -Tsvg f.dot -o f.svg
/// </code>
/// </example>
[<RequireQualifiedAccess>]
module Draw =

    open Functional.Autodiff.Export

    /// <summary>The default options: up to 200 nodes, forward values shown, no gradients, no title.</summary>
    let defaults: DrawOptions = DrawOptions.Default

    /// <summary>Options that show, under each node's value, the gradient of the scalar <paramref name="output"/> with respect to that node.</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">The output is not a scalar.</exception>
    let circuit (output: Expr) : DrawOptions =
        DrawOptions(Gradients = Drawing.GradientsOf output)

    let private named (roots: (string * Expr) list) : Collections.Generic.IReadOnlyList<struct (string * Expr)> =
        roots |> List.map (fun (name, root) -> struct (name, root)) |> Array.ofList :> _

    /// <summary>The named graphs in one DOT digraph (shared nodes once, each output marked with its name).</summary>
    let dot (options: DrawOptions) (roots: (string * Expr) list) : string = Dot.Render(named roots, options)

    /// <summary>The named graphs in one Mermaid flowchart (shared nodes once, each output marked with its name).</summary>
    let mermaid (options: DrawOptions) (roots: (string * Expr) list) : string = Mermaid.Render(named roots, options)
