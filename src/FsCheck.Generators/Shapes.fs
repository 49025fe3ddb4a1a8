namespace Functional.Autodiff.Generators

open System
open Functional.Autodiff

/// Random shapes (1–5 per dimension) from a System.Random: the draws the op table and the graph generator are made
/// of. Arbitraries.Shape is the FsCheck arbitrary (with shrinking).
[<RequireQualifiedAccess>]
module Shapes =
    /// A dimension, 1 … 5.
    let dim (rng: Random) = rng.Next(1, 6)

    /// A scalar, a vector or a matrix, each a third of the time.
    let any (rng: Random) =
        match rng.Next 3 with
        | 0 -> Shape.Scalar
        | 1 -> Shape.Vector(dim rng)
        | _ -> Shape.Matrix(dim rng, dim rng)

    /// A vector or a matrix.
    let vectorOrMatrix (rng: Random) =
        if rng.Next 2 = 0 then
            Shape.Vector(dim rng)
        else
            Shape.Matrix(dim rng, dim rng)

    /// Shapes for a binary element-wise op, as NumPy broadcasts them within rank ≤ 2, each pair in either order: equal,
    /// a scalar with anything, a vector(n) or matrix(1, n) with a matrix(m, n) (rows), a matrix(m, 1) with a
    /// matrix(m, n) (columns), a matrix(m, 1) with a matrix(1, n) or a vector(n) (giving matrix(m, n)), and a single
    /// element (vector(1) or matrix(1, 1)) with a vector or matrix.
    let broadcastPair (rng: Random) =
        let s = any rng
        let m, n = dim rng, dim rng

        let a, b =
            match rng.Next 8 with
            | 0 -> s, s
            | 1 -> s, Shape.Scalar
            | 2 -> Shape.Matrix(m, n), Shape.Vector n
            | 3 -> Shape.Matrix(m, n), Shape.Matrix(1, n)
            | 4 -> Shape.Matrix(m, n), Shape.Matrix(m, 1)
            | 5 -> Shape.Matrix(m, 1), Shape.Matrix(1, n)
            | 6 -> Shape.Matrix(m, 1), Shape.Vector n
            | _ -> s, (if s.IsMatrix then Shape.Matrix(1, 1) else Shape.Vector 1)

        if rng.Next 2 = 0 then a, b else b, a

    /// A shape as NumPy aligns it: (rows, cols), a vector(n) as (1, n), a scalar as (1, 1).
    let aligned (s: Shape) =
        if s.IsMatrix then s.Rows, s.Cols
        elif s.IsVector then 1, s.Length
        else 1, 1

    /// NumPy's broadcast shape of shapes that broadcast (the largest rank, the largest size along each axis).
    let broadcast (shapes: Shape list) =
        let rows = shapes |> List.map (aligned >> fst) |> List.max
        let cols = shapes |> List.map (aligned >> snd) |> List.max

        match shapes |> List.map (fun s -> s.Rank) |> List.max with
        | 0 -> Shape.Scalar
        | 1 -> Shape.Vector cols
        | _ -> Shape.Matrix(rows, cols)

    /// A random shape of `size` elements: a vector, any matrix of that size, or (size 1) a scalar.
    let ofSize (rng: Random) size =
        let divisors = [ for a in 1..size do if size % a = 0 then a ]

        match rng.Next 3 with
        | 0 when size = 1 -> Shape.Scalar
        | 0 | 1 -> Shape.Vector size
        | _ ->
            let a = divisors[rng.Next divisors.Length]
            Shape.Matrix(a, size / a)

    /// Smaller shapes than s, smallest first: the scalar, vector(1), and s with one dimension reduced (the first
    /// rows or columns kept). What shrinking tries for a value or a graph's leaf.
    let smaller (s: Shape) : Shape list =
        [
            if not s.IsScalar then
                yield Shape.Scalar
            if s.Size > 1 then
                yield Shape.Vector 1
            if s.IsVector && s.Length > 2 then
                yield Shape.Vector(s.Length / 2)
            if s.IsVector && s.Length > 1 then
                yield Shape.Vector(s.Length - 1)
            if s.IsMatrix then
                if s.Rows > 1 then
                    yield Shape.Matrix(s.Rows - 1, s.Cols)
                if s.Cols > 1 then
                    yield Shape.Matrix(s.Rows, s.Cols - 1)
                if s.Rows = 1 then
                    yield Shape.Vector s.Cols
        ]
        |> List.distinct
        |> List.filter (fun t -> t <> s)
