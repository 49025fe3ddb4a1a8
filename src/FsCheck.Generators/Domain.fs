namespace Functional.Autodiff.Generators

open System
open MathNet.Numerics.LinearAlgebra
open Functional.Autodiff

/// Values from their elements in column-major order (the order Value.ToArray gives).
module internal Data =
    /// The value of the shape with these elements (copied).
    let toValue (s: Shape) (d: float[]) : Value =
        match s.Rank with
        | 0 -> Value.Scalar d[0]
        | 1 -> Value.FromArray(Array.copy d)
        | _ -> Value.FromMatrix(Matrix<float>.Build.DenseOfColumnMajor(s.Rows, s.Cols, Array.copy d))

/// Where an op input's elements are drawn from: the domains that keep every op of the library valid and away from
/// its kinks and poles, so finite differences (GradCheck) are meaningful at the drawn point.
type Domain =
    /// Uniform in [−2, 2).
    | Real
    /// Uniform in [0.5, 3): log, sqrt, pow with a non-integer exponent.
    | Positive
    /// ±[0.3, 2): away from the kink or pole at 0 (abs, relu, sign, step, 1/x, norm of a scalar, negative powers).
    | AwayFromZero
    /// Uniform in [0, 1): probabilities (binary cross-entropy targets).
    | UnitInterval
    /// The whole numbers 0 … classes − 1 as doubles: class labels. Data, not a differentiable input.
    | ClassIndex of classes: int
    /// A square matrix n·I + B (B uniform in [−0.9, 0.9)), each row negated at random: strictly diagonally dominant,
    /// so invertible and well conditioned, its determinant of either sign (inverse, solve, det).
    | Invertible
    /// n·I + B as for Invertible, no row negated: diagonally dominant with a positive diagonal, so det > 0 (logdet).
    | PositiveDeterminant
    /// B·Bᵀ + n·I (B uniform in [−1, 1)): symmetric positive definite, eigenvalues ≥ n (cholesky).
    | SymmetricPositiveDefinite
    /// 0 or 1: a mask (where's condition). Data, not differentiated, like class labels.
    | Mask

/// Drawing from a domain, and checking that a value lies in one.
[<RequireQualifiedAccess>]
module Domain =
    let private uniform (rng: Random) lo hi = lo + (hi - lo) * rng.NextDouble()

    /// Whether the domain draws a whole matrix at once (its elements are not independent).
    let isMatrix (d: Domain) =
        match d with
        | Invertible
        | PositiveDeterminant
        | SymmetricPositiveDefinite -> true
        | _ -> false

    /// Whether derivatives with respect to an input of this domain are meaningful (class labels and masks are data).
    let differentiable (d: Domain) =
        match d with
        | ClassIndex _
        | Mask -> false
        | _ -> true

    /// One element of an element-wise domain (a matrix domain throws ArgumentException: use sampleData).
    let sample (rng: Random) (d: Domain) =
        match d with
        | Real -> uniform rng -2.0 2.0
        | Positive -> uniform rng 0.5 3.0
        | AwayFromZero ->
            let m = uniform rng 0.3 2.0
            if rng.Next 2 = 0 then -m else m
        | UnitInterval -> rng.NextDouble()
        | ClassIndex classes -> float (rng.Next classes)
        | Mask -> float (rng.Next 2)
        | Invertible
        | PositiveDeterminant
        | SymmetricPositiveDefinite -> invalidArg "d" $"{d} draws whole matrices: use Domain.sampleData."

    /// The elements (column-major, as Value stores them) of a tensor of the shape drawn from the domain: element by
    /// element, or a whole square matrix for a matrix domain.
    let sampleData (rng: Random) (d: Domain) (s: Shape) : float[] =
        match d with
        | Invertible
        | PositiveDeterminant ->
            let n = s.Rows
            let b = Array.init (n * n) (fun _ -> uniform rng -0.9 0.9)
            let signs = Array.init n (fun _ -> if d = Invertible && rng.Next 2 = 0 then -1.0 else 1.0)

            Array.init (n * n) (fun k ->
                let i, j = k % n, k / n
                signs[i] * (b[j * n + i] + (if i = j then float n else 0.0)))
        | SymmetricPositiveDefinite ->
            let n = s.Rows
            let b = Array.init (n * n) (fun _ -> uniform rng -1.0 1.0)

            Array.init (n * n) (fun k ->
                let i, j = k % n, k / n
                let bbt = Seq.init n (fun l -> b[l * n + i] * b[l * n + j]) |> Seq.sum
                bbt + (if i = j then float n else 0.0))
        | _ -> Array.init s.Size (fun _ -> sample rng d)

    /// A value of the shape drawn from the domain.
    let sampleValue (rng: Random) (d: Domain) (s: Shape) : Value =
        Data.toValue s (sampleData rng d s)

    /// Whether x can stand for an input of this domain in a composed graph: finite and of moderate size (|x| ≤ 4), and
    /// inside the domain with a margin that a finite-difference step cannot cross (Positive ≥ 0.25, |AwayFromZero| ≥
    /// 0.15). Matrix domains and data (labels, masks) are never stood in for: they take their own drawn leaves.
    let admits (d: Domain) (x: Value) =
        let xs = x.ToArray()
        let moderate = xs |> Array.forall (fun v -> Double.IsFinite v && abs v <= 4.0)

        moderate
        && match d with
           | Real -> true
           | Positive -> xs |> Array.forall (fun v -> v >= 0.25)
           | AwayFromZero -> xs |> Array.forall (fun v -> abs v >= 0.15)
           | UnitInterval -> xs |> Array.forall (fun v -> v >= 0.0 && v <= 1.0)
           | ClassIndex _
           | Mask
           | Invertible
           | PositiveDeterminant
           | SymmetricPositiveDefinite -> false
