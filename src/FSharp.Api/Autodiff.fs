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

    let sum (e: Expr) : Expr = Expr.Sum e

    let mean (e: Expr) : Expr = Expr.Mean e

    let norm (e: Expr) : Expr = Expr.Norm e

    let square (e: Expr) : Expr = Expr.Square e

    let sigmoid (e: Expr) : Expr = Expr.Sigmoid e

    let relu (e: Expr) : Expr = Expr.Relu e

    let softplus (e: Expr) : Expr = Expr.Softplus e

    let logSigmoid (e: Expr) : Expr = Expr.LogSigmoid e

    let softmax (e: Expr) : Expr = Expr.Softmax e

    let logSoftmax (e: Expr) : Expr = Expr.LogSoftmax e

    let binaryCrossEntropyWithLogits (logits: Expr) (targets: Expr) : Expr =
        Expr.BinaryCrossEntropyWithLogits(logits, targets)

    let meanSquaredError (prediction: Expr) (target: Expr) : Expr =
        Expr.MeanSquaredError(prediction, target)

    // ------------------------------------------------------------------ combinators

    let inline valueAndGrad f x =
        let inline call (w: ^W, x: ^X, f: ^E -> Expr) =
            ((^W or ^X): (static member ValueAndGrad: ^X * (^E -> Expr) * ^W -> float * ^X) (x, f, w))

        call (Unchecked.defaultof<Inputs>, x, f)

    let inline grad f x = snd (valueAndGrad f x)

    let inline vjp f x =
        let inline call (w: ^W, x: ^X, f: ^E -> Expr) =
            ((^W or ^X): (static member Vjp: ^X * (^E -> Expr) * ^W -> Value * (Value -> ^X)) (x, f, w))

        call (Unchecked.defaultof<Inputs>, x, f)

    let inline leaf x =
        let inline call (w: ^W, x: ^X) =
            ((^W or ^X): (static member Leaf: ^X * ^W -> Value * (Value -> ^X)) (x, w))

        call (Unchecked.defaultof<Inputs>, x)

    let inline jvp (f: Expr -> Expr) (x: ^X) (v: ^X) : Value * Value =
        let x, _ = leaf x
        let v, _ = leaf v
        AD.Jvp(Func<Expr, Expr>(f)).Invoke(x, v).ToTuple()

    let inline jacobian (f: Expr -> Expr) (x: ^X) : Value =
        let x, _ = leaf x
        Value.FromMatrix(AD.Jacobian(Func<Expr, Expr>(f)).Invoke(x))

    let inline hessian (f: Expr -> Expr) (x: ^X) : Value =
        let x, _ = leaf x
        Value.FromMatrix(AD.Hessian(Func<Expr, Expr>(f)).Invoke(x))

    let inline hvp (f: Expr -> Expr) (x: ^X) (v: ^X) : ^X =
        let x, back = leaf x
        let v, _ = leaf v
        back (AD.Hvp(Func<Expr, Expr>(f)).Invoke(x, v))

    let diff (f: Expr -> Expr) : Expr -> Expr = Diff.Grad(Func<Expr, Expr>(f)).Invoke

    let inline checkAnomalies f x =
        let inline call (w: ^W, x: ^X, f: ^E -> Expr) =
            ((^W or ^X): (static member CheckAnomalies: ^X * (^E -> Expr) * ^W -> AnomalyReport) (x, f, w))

        call (Unchecked.defaultof<Inputs>, x, f)

    let inline checkAnomaliesJvp (f: Expr -> Expr) (x: ^X) (v: ^X) : AnomalyReport =
        let x, _ = leaf x
        let v, _ = leaf v
        Anomaly.CheckJvp(Func<Expr, Expr>(f), x, v)

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
