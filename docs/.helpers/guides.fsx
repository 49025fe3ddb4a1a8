// What the guide pages (structured-inputs, shapes-selection-linear-algebra) check their numbers with, written once:
// claims that must hold, a structure's elements in order, central differences over any structure, and `expect`
// against a number the page computed itself. Load it after check.fsx:
//     #load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/guides.fsx"
[<AutoOpen>]
module Guides

open Functional.Autodiff

/// Stops the page when a claim it makes does not hold.
let holds (claim: string) (ok: bool) =
    if not ok then failwithf "docs: %s does not hold" claim
    printfn "%s: yes" claim

/// Every element of every leaf of a structure, leaves in order, a matrix row by row (the order of the blocks).
let elements (x: 'X) : float[] =
    let struct (leaves, _) = Tree.Flatten x
    [| for leaf in leaves do yield! leaf.ToRowMajorArray() |]

/// A value of a leaf's shape with these elements (row by row for a matrix).
let private rebuild (like: Value) (xs: float[]) =
    if like.Shape.IsScalar then Value.Scalar xs[0]
    elif like.Shape.IsVector then Value.FromArray xs
    else Value.FromRowMajor(like.Shape.Rows, like.Shape.Cols, System.ReadOnlySpan<float>(xs))

/// Central differences of f at x, one per element of every leaf, in the order of `elements`.
let numericGrad (f: 'X -> float) (x: 'X) : float[] =
    let struct (leaves, def) = Tree.Flatten x
    let h = 1e-6
    [|
        for k in 0 .. leaves.Length - 1 do
            let xs = leaves[k].ToRowMajorArray()
            for i in 0 .. xs.Length - 1 do
                let at d =
                    let moved = Array.copy xs
                    moved[i] <- moved[i] + d
                    f (Tree.Unflatten<'X>(def, leaves.SetItem(k, rebuild leaves[k] moved)))
                yield (at h - at -h) / (2.0 * h)
    |]

/// `expect` against a reference computed on the page (a closed form, MathNet or finite differences), at six decimals.
let near (label: string) (reference: float[]) (actual: 'T) =
    let printed = reference |> Array.map (fun x -> Functional.Autodiff.Tour.TutorialNumbers.Format(x, 6))
    expect label (if printed.Length = 1 then printed[0] else "[" + String.concat ", " printed + "]") actual
