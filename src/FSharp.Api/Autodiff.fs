// The public surface and its documentation are in Autodiff.fsi.
namespace Functional.Autodiff.FSharp

open System
open Functional.Autodiff
open MathNet.Numerics.LinearAlgebra

[<AutoOpen>]
module Autodiff =

    // ------------------------------------------------------------------ values

    let scalar (x: float) : Value = Value.Scalar x

    let vector (elements: seq<float>) : Value = Value.FromArray(Seq.toArray elements)

    let matrix (rows: seq<#seq<float>>) : Value =
        let rows = rows |> Seq.map Seq.toArray |> Seq.toArray

        if rows.Length = 0 || rows[0].Length = 0 then
            invalidArg
                (nameof rows)
                (UserCode.Mark "matrix needs at least one row of at least one element, e.g. matrix [ [ 1.0; 2.0 ] ].")

        match rows |> Array.tryFindIndex (fun r -> r.Length <> rows[0].Length) with
        | Some i ->
            invalidArg
                (nameof rows)
                (UserCode.Mark
                    $"matrix: row {i} has {rows[i].Length} elements but row 0 has {rows[0].Length}; every row needs the same length.")
        | None -> Value.FromMatrix(Matrix<float>.Build.DenseOfRowArrays rows)

    let parameters (entries: seq<string * Value>) : Params =
        Params.Of(entries |> Seq.map (fun (name, value) -> struct (name, value)) |> Seq.toArray)

    let (?) (p: ParamVars) (name: string) : Expr = p[name]

    // ------------------------------------------------------------------ graphs

    let var (name: string) (value: Value) : Expr = Expr.Var(name, value)

    let constant (value: Value) : Expr = Expr.Const value

    let eval (e: Expr) : Value = e.Value

    let evalWith (bindings: seq<Expr * Value>) (e: Expr) : Value =
        let pairs =
            bindings
            |> Seq.map (fun (v, value) ->
                match v with
                | :? Var as var -> struct (var, value)
                | _ ->
                    invalidArg
                        (nameof bindings)
                        (UserCode.Mark $"evalWith binds variables, but {v} is not one: bind the variables it is built from."))
            |> Seq.toArray

        AD.Eval(e, pairs)

    let stopGradient (e: Expr) : Expr = Expr.StopGradient e

    let dot (a: Expr) (b: Expr) : Expr = Expr.Dot(a, b)

    let matmul (a: Expr) (b: Expr) : Expr = Expr.MatMul(a, b)

    let ( *@ ) (a: Expr) (b: Expr) : Expr = Expr.MatMul(a, b)

    let outer (a: Expr) (b: Expr) : Expr = Expr.Outer(a, b)

    let transpose (e: Expr) : Expr = Expr.Transpose e

    let inverse (a: Expr) : Expr = Expr.Inverse a

    let solve (a: Expr) (b: Expr) : Expr = Expr.Solve(a, b)

    let det (a: Expr) : Expr = Expr.Det a

    let logdet (a: Expr) : Expr = Expr.LogDet a

    let cholesky (a: Expr) : Expr = Expr.Cholesky a

    let trace (a: Expr) : Expr = Expr.Trace a

    let diag (e: Expr) : Expr = Expr.Diag e

    let diagonal (e: Expr) : Expr = Expr.Diagonal e

    let matrixPower (k: int) (a: Expr) : Expr = Expr.MatrixPower(a, k)

    let sum (e: Expr) : Expr = Expr.Sum e

    let mean (e: Expr) : Expr = Expr.Mean e

    let norm (e: Expr) : Expr = Expr.Norm e

    let sumAxis (axis: int) (e: Expr) : Expr = Expr.Sum(e, axis)

    let meanAxis (axis: int) (e: Expr) : Expr = Expr.Mean(e, axis)

    let amax (e: Expr) : Expr = Expr.Max e

    let amaxAxis (axis: int) (e: Expr) : Expr = Expr.Max(e, axis)

    let amin (e: Expr) : Expr = Expr.Min e

    let aminAxis (axis: int) (e: Expr) : Expr = Expr.Min(e, axis)

    let logSumExp (e: Expr) : Expr = Expr.LogSumExp e

    let logSumExpAxis (axis: int) (e: Expr) : Expr = Expr.LogSumExp(e, axis)

    let prod (e: Expr) : Expr = Expr.Prod e

    let square (e: Expr) : Expr = Expr.Square e

    let sigmoid (e: Expr) : Expr = Expr.Sigmoid e

    let relu (e: Expr) : Expr = Expr.Relu e

    let softplus (e: Expr) : Expr = Expr.Softplus e

    let logSigmoid (e: Expr) : Expr = Expr.LogSigmoid e

    let log1p (e: Expr) : Expr = Expr.Log1p e

    let expm1 (e: Expr) : Expr = Expr.Expm1 e

    let signum (e: Expr) : Expr = Expr.Sign e

    let reciprocal (e: Expr) : Expr = Expr.Reciprocal e

    let erf (e: Expr) : Expr = Expr.Erf e

    let gelu (e: Expr) : Expr = Expr.Gelu e

    let greater (a: Expr) (b: Expr) : Expr = Expr.Greater(a, b)

    let greaterEqual (a: Expr) (b: Expr) : Expr = Expr.GreaterEqual(a, b)

    let less (a: Expr) (b: Expr) : Expr = Expr.Less(a, b)

    let lessEqual (a: Expr) (b: Expr) : Expr = Expr.LessEqual(a, b)

    let equal (a: Expr) (b: Expr) : Expr = Expr.Equal(a, b)

    let where (condition: Expr) (a: Expr) (b: Expr) : Expr = Expr.Where(condition, a, b)

    let maximum (a: Expr) (b: Expr) : Expr = Expr.Maximum(a, b)

    let minimum (a: Expr) (b: Expr) : Expr = Expr.Minimum(a, b)

    let clamp (lo: float) (hi: float) (e: Expr) : Expr = Expr.Clamp(e, lo, hi)

    let softmax (e: Expr) : Expr = Expr.Softmax e

    let logSoftmax (e: Expr) : Expr = Expr.LogSoftmax e

    let softmaxAxis (axis: int) (e: Expr) : Expr = Expr.Softmax(e, axis)

    let logSoftmaxAxis (axis: int) (e: Expr) : Expr = Expr.LogSoftmax(e, axis)

    let binaryCrossEntropyWithLogits (logits: Expr) (targets: Expr) : Expr =
        Expr.BinaryCrossEntropyWithLogits(logits, targets)

    let meanSquaredError (prediction: Expr) (target: Expr) : Expr =
        Expr.MeanSquaredError(prediction, target)

    let softmaxCrossEntropy (logits: Expr) (classes: int seq) : Expr =
        Expr.SoftmaxCrossEntropy(logits, classes)

    let reshape (shape: Shape) (e: Expr) : Expr = Expr.Reshape(e, shape)

    let flatten (e: Expr) : Expr = Expr.Flatten e

    let concat (axis: int) (parts: Expr seq) : Expr = Expr.Concat(axis, Seq.toArray parts)

    let stack (axis: int) (parts: Expr seq) : Expr = Expr.Stack(axis, Seq.toArray parts)

    let slice (start: int) (stop: int) (e: Expr) : Expr = Expr.Slice(e, start, stop)

    let sliceAxis (axis: int) (start: int) (stop: int) (e: Expr) : Expr = Expr.Slice(e, axis, start, stop)

    let gather (indices: int seq) (e: Expr) : Expr = Expr.Gather(e, Seq.toArray indices)

    let row (i: int) (m: Expr) : Expr = Expr.Row(m, i)

    let column (j: int) (m: Expr) : Expr = Expr.Column(m, j)

    // ------------------------------------------------------------------ combinators
    // Each is one call into the core's structured combinator. The `if false` line is type-level only (it lets
    // Tracing fix the traced type 'E from the input's type 'X, so lambdas need no annotation); it never runs.
    // The core reads a null Wrt (Unchecked.defaultof<Wrt>) as "every input"; F# code never sees it.

    let argnums (positions: int list) : Wrt = Wrt.Args(Array.ofList positions)

    let names (names: string list) : Wrt = Wrt.Names(Array.ofList names)

    let inline valueAndGradWrt (wrt: Wrt) (f: 'E -> Expr) (x: 'X) : float * 'X =
        if false then ignore (f (Tracing.Invoke x))
        let struct (y, g) = AD.ValueAndGrad<'X, 'E>(Func<'E, Expr>(f), wrt).Invoke(x)
        y.ToScalar(), g

    let inline valueAndGrad (f: 'E -> Expr) (x: 'X) : float * 'X = valueAndGradWrt (Unchecked.defaultof<Wrt>) f x

    let inline grad (f: 'E -> Expr) (x: 'X) : 'X = snd (valueAndGradWrt (Unchecked.defaultof<Wrt>) f x)

    let inline gradWrt (wrt: Wrt) (f: 'E -> Expr) (x: 'X) : 'X = snd (valueAndGradWrt wrt f x)

    let inline valueAndGradAuxWrt (wrt: Wrt) (f: 'E -> Expr * 'A) (x: 'X) : float * 'X * 'A =
        if false then ignore (f (Tracing.Invoke x))
        let struct (y, g, aux) =
            AD.ValueAndGradWithAux<'X, 'E, 'A>(Func<'E, struct (Expr * 'A)>(fun e -> f e |> fun (l, a) -> struct (l, a)), wrt).Invoke(x)
        y.ToScalar(), g, aux

    let inline valueAndGradAux (f: 'E -> Expr * 'A) (x: 'X) : float * 'X * 'A = valueAndGradAuxWrt (Unchecked.defaultof<Wrt>) f x

    let inline vjpWrt (wrt: Wrt) (f: 'E -> Expr) (x: 'X) : Value * (Value -> 'X) =
        if false then ignore (f (Tracing.Invoke x))
        let struct (y, pullback) = AD.Vjp<'X, 'E>(Func<'E, Expr>(f), wrt).Invoke(x)
        y, pullback.Invoke

    let inline vjp (f: 'E -> Expr) (x: 'X) : Value * (Value -> 'X) = vjpWrt (Unchecked.defaultof<Wrt>) f x

    let inline jvpWrt (wrt: Wrt) (f: 'E -> Expr) (x: 'X) (v: 'X) : Value * Value =
        if false then ignore (f (Tracing.Invoke x))
        AD.Jvp<'X, 'E>(Func<'E, Expr>(f), wrt).Invoke(x, v).ToTuple()

    let inline jvp (f: 'E -> Expr) (x: 'X) (v: 'X) : Value * Value = jvpWrt (Unchecked.defaultof<Wrt>) f x v

    let inline compiledValueAndGrad (f: 'E -> Expr) : 'X -> float * 'X =
        if false then ignore (f (Tracing.Invoke Unchecked.defaultof<'X>))
        let compiled = Compiled.ValueAndGrad<'X, 'E>(Func<'E, Expr>(f))

        fun x ->
            let struct (y, g) = compiled.Invoke(x)
            y.ToScalar(), g

    let inline compiledGrad (f: 'E -> Expr) : 'X -> 'X =
        if false then ignore (f (Tracing.Invoke Unchecked.defaultof<'X>))
        let compiled = Compiled.Grad<'X, 'E>(Func<'E, Expr>(f))
        fun x -> compiled.Invoke(x)

    let inline compiledHvp (f: 'E -> Expr) : 'X -> 'X -> 'X =
        if false then ignore (f (Tracing.Invoke Unchecked.defaultof<'X>))
        let compiled = Compiled.Hvp<'X, 'E>(Func<'E, Expr>(f))
        fun x v -> compiled.Invoke(x, v)

    let inline compiledHessianBlocks (f: 'E -> Expr) : 'X -> Blocks =
        if false then ignore (f (Tracing.Invoke Unchecked.defaultof<'X>))
        let compiled = Compiled.Hessian<'X, 'E>(Func<'E, Expr>(f))
        fun x -> compiled.Invoke(x)

    let inline compiledHessian (f: 'E -> Expr) : 'X -> Value =
        let blocks = compiledHessianBlocks f
        fun x -> Value.FromMatrix((blocks x).ToMatrix())

    let inline jacobianBlocksWrt (wrt: Wrt) (f: 'E -> 'Y) (x: 'X) : Blocks =
        if false then ignore (f (Tracing.Invoke x))
        AD.Jacobian<'X, 'E, 'Y>(Func<'E, 'Y>(f), wrt).Invoke(x)

    let inline jacobianBlocks (f: 'E -> 'Y) (x: 'X) : Blocks = jacobianBlocksWrt (Unchecked.defaultof<Wrt>) f x

    let inline jacobian (f: 'E -> 'Y) (x: 'X) : Value =
        Value.FromMatrix((jacobianBlocksWrt (Unchecked.defaultof<Wrt>) f x).ToMatrix())

    let inline hessianBlocksWrt (wrt: Wrt) (f: 'E -> Expr) (x: 'X) : Blocks =
        if false then ignore (f (Tracing.Invoke x))
        AD.Hessian<'X, 'E>(Func<'E, Expr>(f), wrt).Invoke(x)

    let inline hessianBlocks (f: 'E -> Expr) (x: 'X) : Blocks = hessianBlocksWrt (Unchecked.defaultof<Wrt>) f x

    let inline hessian (f: 'E -> Expr) (x: 'X) : Value =
        Value.FromMatrix((hessianBlocksWrt (Unchecked.defaultof<Wrt>) f x).ToMatrix())

    let inline hvpWrt (wrt: Wrt) (f: 'E -> Expr) (x: 'X) (v: 'X) : 'X =
        if false then ignore (f (Tracing.Invoke x))
        AD.Hvp<'X, 'E>(Func<'E, Expr>(f), wrt).Invoke(x, v)

    let inline hvp (f: 'E -> Expr) (x: 'X) (v: 'X) : 'X = hvpWrt (Unchecked.defaultof<Wrt>) f x v

    let inline evalAt (f: 'E -> Expr) (x: 'X) : Value =
        if false then ignore (f (Tracing.Invoke x))
        AD.Eval<'X, 'E>(Func<'E, Expr>(f), x)

    let diff (f: Expr -> Expr) : Expr -> Expr = Diff.Grad(Func<Expr, Expr>(f)).Invoke

    let inline checkAnomalies (f: 'E -> Expr) (x: 'X) : AnomalyReport =
        if false then ignore (f (Tracing.Invoke x))
        Anomaly.Check<'X, 'E>(Func<'E, Expr>(f), x)

    let inline checkAnomaliesJvp (f: 'E -> Expr) (x: 'X) (v: 'X) : AnomalyReport =
        if false then ignore (f (Tracing.Invoke x))
        Anomaly.CheckJvp<'X, 'E>(Func<'E, Expr>(f), x, v)

    let simplify (e: Expr) : Expr = Graph.Simplify e

[<RequireQualifiedAccess>]
module Draw =

    open Functional.Autodiff.Export

    let defaults: DrawOptions = DrawOptions.Default

    let circuit (output: Expr) : DrawOptions =
        DrawOptions(Gradients = Drawing.GradientsOf output)

    let private named (roots: (string * Expr) list) : Collections.Generic.IReadOnlyList<struct (string * Expr)> =
        roots |> List.map (fun (name, root) -> struct (name, root)) |> Array.ofList :> _

    let dot (options: DrawOptions) (roots: (string * Expr) list) : string = Dot.Render(named roots, options)

    let mermaid (options: DrawOptions) (roots: (string * Expr) list) : string = Mermaid.Render(named roots, options)
