/// The F# API's side of benchmark F (bench/Benchmarks/FSharpApi.cs): the same workloads written as an F# user
/// writes them, compiled as F# code calls them, so the C# benchmark can time them against the core called directly.
module Functional.Autodiff.Benchmarks.FSharpWorkloads

open Functional.Autodiff.FSharp

let private x = constant (vector [ 0.5; 0.5; 0.5 ])

/// W2, seed 000: z = 3·xᵀ(w + 2)∘², value and ∂z/∂w, through `valueAndGrad`.
let seed000 (w: Value) : float * Value =
    valueAndGrad (fun (w: Expr) -> 3.0 * dot x ((w + 2.0) ** 2.0)) w

/// Seed 003: f = (x + 2y)·z, value and the three partial derivatives, through `valueAndGrad` on a tuple of floats.
let seed003 (x: float) (y: float) (z: float) : float * (float * float * float) =
    valueAndGrad (fun (x, y, z) -> (x + 2.0 * y) * z) (x, y, z)
