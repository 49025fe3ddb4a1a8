/// The one table of op specs (JAX's LAX_GRAD_OPS): one row per op name in Ops.All, saying how to draw a node
/// of the op (random parameters and random valid shapes, 1–5 per dimension), the domain of each input, an
/// independent reference forward, whether the op is smooth (second order tested) and the finite-difference
/// tolerance. OpTests turns every row into test cases.
module Functional.Autodiff.Tests.OpSpecs

open System
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

/// Where an input's elements are drawn from.
type Domain =
    /// Uniform in [−2, 2).
    | Real
    /// Uniform in [0.5, 3): log, sqrt, pow with a non-integer exponent.
    | Positive
    /// ±[0.3, 2): away from the kink or pole at 0 (abs, relu, sign, step, 1/x, norm of a scalar, negative powers).
    | AwayFromZero
    /// Uniform in [0, 1): probabilities (binary cross-entropy targets).
    | UnitInterval
    /// The whole numbers 0 … classes − 1 as doubles: class labels. Data, not a differentiable input: the tests move
    /// it by a zero direction, so finite differences keep it valid and no derivative with respect to it is compared
    /// but zero.
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

/// Whether the domain draws a whole matrix at once (its elements are not independent).
let isMatrixDomain (d: Domain) =
    match d with
    | Invertible
    | PositiveDeterminant
    | SymmetricPositiveDefinite -> true
    | _ -> false

/// One element of an element-wise domain.
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
    | SymmetricPositiveDefinite -> invalidArg "d" $"{d} draws whole matrices: use sampleTensor."

/// A tensor of the shape drawn from the domain: element by element, or a whole matrix for a matrix domain.
let sampleTensor (rng: Random) (d: Domain) (s: Shape) =
    match d with
    | Invertible
    | PositiveDeterminant ->
        let n = s.Rows
        let b = T.matrix n n (fun _ _ -> uniform rng -0.9 0.9)

        let signs =
            Array.init n (fun _ -> if d = Invertible && rng.Next 2 = 0 then -1.0 else 1.0)

        T.matrix n n (fun i j -> signs[i] * (T.at b i j + (if i = j then float n else 0.0)))
    | SymmetricPositiveDefinite ->
        let n = s.Rows
        let b = T.matrix n n (fun _ _ -> uniform rng -1.0 1.0)

        T.matrix n n (fun i j ->
            let bbt = Seq.init n (fun k -> T.at b i k * T.at b j k) |> Seq.sum
            bbt + (if i = j then float n else 0.0))
    | _ -> T.init s (fun _ -> sample rng d)

/// Whether derivatives with respect to an input of this domain are tested (class labels are data).
let differentiable (d: Domain) =
    match d with
    | ClassIndex _
    | Mask -> false
    | _ -> true

/// One input of a drawn node: its shape and domain.
type Arg = { ArgShape: Shape; Domain: Domain }

/// A drawn node: the op (with its random parameters), its inputs, and the reference forward for them.
type Case =
    {
        Op: Op
        Args: Arg list
        /// The op's output computed independently of the library (System.Math and plain loops).
        Reference: T list -> T
    }

/// What the op's derivative is, for the finite-difference tests.
type Derivative =
    /// The derivative of the reference function, checked by central finite differences.
    | FiniteDifference
    /// Zero by definition though the function is not constant (stop_gradient).
    | ZeroByDefinition

type OpSpec =
    {
        Name: string
        Draw: Random -> Case
        /// Smooth on the drawn domain: the gradient graph is differentiated again (second order).
        Smooth: bool
        Derivative: Derivative
        /// For the comparisons against finite differences.
        Tolerance: Tolerance
    }

// ------------------------------------------------------------------ drawing shapes

let dim (rng: Random) = rng.Next(1, 6)

let anyShape (rng: Random) =
    match rng.Next 3 with
    | 0 -> Shape.Scalar
    | 1 -> Shape.Vector(dim rng)
    | _ -> Shape.Matrix(dim rng, dim rng)

let vectorOrMatrix (rng: Random) =
    if rng.Next 2 = 0 then
        Shape.Vector(dim rng)
    else
        Shape.Matrix(dim rng, dim rng)

/// Shapes for a binary element-wise op, as NumPy broadcasts them within rank ≤ 2, each pair in either order: equal, a
/// scalar with anything, a vector(n) or matrix(1, n) with a matrix(m, n) (rows), a matrix(m, 1) with a matrix(m, n)
/// (columns), a matrix(m, 1) with a matrix(1, n) or a vector(n) (giving matrix(m, n)), and a single element (vector(1) or
/// matrix(1, 1)) with a vector or matrix.
let broadcastPair (rng: Random) =
    let s = anyShape rng
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
let broadcastShape (shapes: Shape list) =
    let rows = shapes |> List.map (aligned >> fst) |> List.max
    let cols = shapes |> List.map (aligned >> snd) |> List.max

    match shapes |> List.map (fun s -> s.Rank) |> List.max with
    | 0 -> Shape.Scalar
    | 1 -> Shape.Vector cols
    | _ -> Shape.Matrix(rows, cols)

let arg domain shape = { ArgShape = shape; Domain = domain }

// ------------------------------------------------------------------ reference helpers (plain loops)

let private one (xs: T list) = List.head xs
let private two (xs: T list) = xs[0], xs[1]

/// Element k (column-major) of t broadcast to the shape out, as NumPy broadcasts.
let private broadcastAt (t: T) (out: Shape) k =
    let rows, _ = aligned out
    let i, j = k % rows, k / rows
    let r, c = aligned t.Shape
    t.Data[(if c = 1 then 0 else j) * r + (if r = 1 then 0 else i)]

let private zipBroadcast f (a: T) (b: T) =
    let out = broadcastShape [ a.Shape; b.Shape ]
    T.init out (fun k -> f (broadcastAt a out k) (broadcastAt b out k))

let private sumOf (xs: float seq) = Seq.fold (+) 0.0 xs

/// Per row (a vector is one row): x − log Σ eˣ, naively (inputs are small).
let private logSoftmax (t: T) =
    let m, n =
        (if t.Shape.IsMatrix then
             t.Shape.Rows, t.Shape.Cols
         else
             1, t.Shape.Size)

    let lse i =
        log (sumOf (Seq.init n (fun j -> exp t.Data[j * m + i])))

    T.init t.Shape (fun k -> t.Data[k] - lse (k % m))

/// Gaussian elimination with partial pivoting on copies: the solution of A X = B (B a vector or a matrix), and the
/// determinant as the product of the pivots with the sign of the row swaps.
let private eliminate (a: T) (b: T) =
    let n = a.Shape.Rows
    let k = if b.Shape.IsVector then 1 else b.Shape.Cols
    let m = Array2D.init n n (fun i j -> T.at a i j)
    let r = Array2D.init n k (fun i j -> b.Data[j * n + i])
    let mutable det = 1.0

    for c in 0 .. n - 1 do
        let p = seq { c .. n - 1 } |> Seq.maxBy (fun i -> abs m[i, c])

        if p <> c then
            det <- -det

            for j in 0 .. n - 1 do
                let t = m[c, j]
                m[c, j] <- m[p, j]
                m[p, j] <- t

            for j in 0 .. k - 1 do
                let t = r[c, j]
                r[c, j] <- r[p, j]
                r[p, j] <- t

        det <- det * m[c, c]

        for i in c + 1 .. n - 1 do
            let f = m[i, c] / m[c, c]

            for j in c .. n - 1 do
                m[i, j] <- m[i, j] - f * m[c, j]

            for j in 0 .. k - 1 do
                r[i, j] <- r[i, j] - f * r[c, j]

    for c in n - 1 .. -1 .. 0 do
        for j in 0 .. k - 1 do
            let s = Seq.init (n - 1 - c) (fun l -> m[c, c + 1 + l] * r[c + 1 + l, j]) |> Seq.sum
            r[c, j] <- (r[c, j] - s) / m[c, c]

    T.init b.Shape (fun q -> r[q % n, q / n]), det

let private identity n =
    T.matrix n n (fun i j -> if i = j then 1.0 else 0.0)

/// The lower Cholesky factor of (A + Aᵀ)/2, Cholesky–Banachiewicz row by row.
let private choleskyOfSymmetricPart (a: T) =
    let n = a.Shape.Rows
    let s i j = 0.5 * (T.at a i j + T.at a j i)
    let l = Array2D.zeroCreate n n

    for i in 0 .. n - 1 do
        for j in 0..i do
            let d = Seq.init j (fun k -> l[i, k] * l[j, k]) |> Seq.sum

            l[i, j] <-
                if i = j then
                    sqrt (s i i - d)
                else
                    (s i j - d) / l[j, j]

    T.matrix n n (fun i j -> l[i, j])

let private fd = { Absolute = 1e-7; Relative = 1e-6 }

/// The elements of t in row-major order (a matrix's rows one after another).
let private rowMajor (t: T) =
    if t.Shape.IsMatrix then
        Array.init t.Shape.Size (fun r -> T.at t (r / t.Shape.Cols) (r % t.Shape.Cols))
    else
        t.Data

/// A tensor of shape s from its elements in row-major order.
let private ofRowMajor (s: Shape) (d: float[]) =
    if s.IsMatrix then T.matrix s.Rows s.Cols (fun i j -> d[i * s.Cols + j]) else { Shape = s; Data = d }

/// A random shape of `size` elements: a vector, any matrix of that size, or (size 1) a scalar.
let shapeOfSize (rng: Random) size =
    let divisors = [ for a in 1..size do if size % a = 0 then a ]

    match rng.Next 3 with
    | 0 when size = 1 -> Shape.Scalar
    | 0 | 1 -> Shape.Vector size
    | _ ->
        let a = divisors[rng.Next divisors.Length]
        Shape.Matrix(a, size / a)

/// Lengths along an axis: the rows of a matrix or vector, the columns of a matrix.
let private extent (s: Shape) axis = if axis = 0 then s.Rows else s.Cols

/// A vector of length n or a matrix with n along the axis (the other side `other`).
let private alongAxis (isVector: bool) axis n other =
    if isVector then Shape.Vector n
    elif axis = 0 then Shape.Matrix(n, other)
    else Shape.Matrix(other, n)

/// Element (i, j) of t for a vector or a matrix, with the vector's elements on axis 0.
let private get (t: T) i j = if t.Shape.IsMatrix then T.at t i j else t.Data[i]

/// The tensor of shape s with element (i, j) from f (a vector's elements are (i, 0)).
let private build (s: Shape) (f: int -> int -> float) =
    if s.IsMatrix then T.matrix s.Rows s.Cols f else T.init s (fun i -> f i 0)

let private unary name (op: Op) smooth domain (f: float -> float) =
    {
        Name = name
        Smooth = smooth
        Derivative = FiniteDifference
        Tolerance = fd
        Draw =
            fun rng ->
                {
                    Op = op
                    Args = [ arg domain (anyShape rng) ]
                    Reference = fun xs -> T.map f (one xs)
                }
    }

let private binaryWith smooth name (op: Op) (da, db) (f: float -> float -> float) =
    {
        Name = name
        Smooth = smooth
        Derivative = FiniteDifference
        Tolerance = fd
        Draw =
            fun rng ->
                let a, b = broadcastPair rng

                {
                    Op = op
                    Args = [ arg da a; arg db b ]
                    Reference = fun xs -> two xs ||> zipBroadcast f
                }
    }

let private binary name op domains f = binaryWith true name op domains f

/// A comparison: a 0/1 mask, piecewise constant (its finite differences are 0 away from ties, which random points miss).
let private comparison name op (f: float -> float -> bool) =
    binaryWith false name op (Real, Real) (fun a b -> if f a b then 1.0 else 0.0)

/// erf by its Maclaurin series Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1)) · 2/√π, to rounding for |x| ≤ 3 (the drawn domain).
let erfSeries (x: float) =
    let mutable sum, term, n = 0.0, x, 0

    while n < 200 && (n = 0 || abs term > 1e-18 * abs sum) do
        sum <- sum + term / float (2 * n + 1)
        n <- n + 1
        term <- -term * x * x / float n

    2.0 / sqrt Math.PI * sum

let private spec name smooth (draw: Random -> Case) =
    {
        Name = name
        Smooth = smooth
        Derivative = FiniteDifference
        Tolerance = fd
        Draw = draw
    }

/// The groups of a reduction over all elements (None) or along an axis, each as its storage positions: one group of
/// a vector, a column per group (axis 0) or a row per group (axis 1) of a matrix.
let private groups (s: Shape) (axis: int option) =
    match axis with
    | Some 0 when s.IsMatrix -> [ for j in 0 .. s.Cols - 1 -> [ for i in 0 .. s.Rows - 1 -> j * s.Rows + i ] ]
    | Some _ when s.IsMatrix -> [ for i in 0 .. s.Rows - 1 -> [ for j in 0 .. s.Cols - 1 -> j * s.Rows + i ] ]
    | _ -> [ [ 0 .. s.Size - 1 ] ]

/// f over each group, one output element per group: a scalar for all elements or a vector, else a vector.
let private reduction (f: float list -> float) (axis: int option) (t: T) =
    let shape =
        match axis with
        | Some a when t.Shape.IsMatrix -> Shape.Vector(if a = 0 then t.Shape.Cols else t.Shape.Rows)
        | _ -> Shape.Scalar

    {
        Shape = shape
        Data = groups t.Shape axis |> List.map (fun g -> f (g |> List.map (fun k -> t.Data[k]))) |> Array.ofList
    }

/// A shape and a reduction axis: all elements of any shape (None), or an axis of a vector or a matrix.
let private drawAxis (rng: Random) =
    if rng.Next 3 = 0 then
        anyShape rng, None
    else
        let s = vectorOrMatrix rng
        s, Some(if s.IsVector then 0 else rng.Next 2)

let private axisReduction name (make: int option -> Op) (f: float list -> float) =
    spec name true (fun rng ->
        let s, axis = drawAxis rng

        {
            Op = make axis
            Args = [ arg Real s ]
            Reference = fun xs -> reduction f axis (one xs)
        })

// ------------------------------------------------------------------ the table

let all: OpSpec list =
    [
        binary "add" AddOp.Instance (Real, Real) (+)
        binary "sub" SubOp.Instance (Real, Real) (-)
        binary "mul" MulOp.Instance (Real, Real) (*)
        binary "div" DivOp.Instance (Real, AwayFromZero) (/)
        unary "neg" NegOp.Instance true Real (fun x -> -x)
        spec "pow" true (fun rng ->
            let p = [| -2.0; -1.0; 0.0; 1.0; 2.0; 3.0; 4.0; -0.5; 0.5; 1.5; 2.5 |][rng.Next 11]

            let domain =
                if Math.Round p <> p then Positive
                elif p < 0.0 then AwayFromZero
                else Real

            {
                Op = PowOp p
                Args = [ arg domain (anyShape rng) ]
                Reference = fun xs -> T.map (fun x -> Math.Pow(x, p)) (one xs)
            })
        unary "square" SquareOp.Instance true Real (fun x -> x * x)
        unary "sqrt" SqrtOp.Instance true Positive Math.Sqrt
        unary "exp" ExpOp.Instance true Real Math.Exp
        unary "log" LogOp.Instance true Positive Math.Log
        unary "sin" SinOp.Instance true Real Math.Sin
        unary "cos" CosOp.Instance true Real Math.Cos
        unary "tanh" TanhOp.Instance true Real Math.Tanh
        unary "sigmoid" SigmoidOp.Instance true Real (fun x -> 1.0 / (1.0 + Math.Exp -x))
        unary "relu" ReluOp.Instance false AwayFromZero (fun x -> Math.Max(x, 0.0))
        unary "softplus" SoftplusOp.Instance true Real (fun x -> Math.Log(1.0 + Math.Exp x))
        unary "abs" AbsOp.Instance false AwayFromZero Math.Abs
        unary "sign" SignOp.Instance false AwayFromZero (fun x -> float (Math.Sign x))
        unary "step" StepOp.Instance false AwayFromZero (fun x -> if x > 0.0 then 1.0 else 0.0)
        unary "safe_reciprocal" SafeReciprocalOp.Instance true AwayFromZero (fun x -> 1.0 / x)
        unary "log_sigmoid" LogSigmoidOp.Instance true Real (fun x -> -Math.Log(1.0 + Math.Exp -x))
        unary "log1p" Log1pOp.Instance true Positive (fun x -> Math.Log(1.0 + x))
        unary "expm1" Expm1Op.Instance true Real (fun x -> Math.Exp x - 1.0)
        unary "reciprocal" ReciprocalOp.Instance true AwayFromZero (fun x -> 1.0 / x)
        unary "erf" ErfOp.Instance true Real erfSeries
        unary "gelu" GeluOp.Instance true Real (fun x -> x * 0.5 * (1.0 + erfSeries (x / sqrt 2.0)))
        binary "pow_tensor" PowTensorOp.Instance (Positive, Real) (fun a b -> Math.Pow(a, b))
        comparison "greater" GreaterOp.Instance (>)
        comparison "greater_equal" GreaterEqualOp.Instance (>=)
        comparison "less" LessOp.Instance (<)
        comparison "less_equal" LessEqualOp.Instance (<=)
        comparison "equal" EqualOp.Instance (=)
        binary "maximum" MaximumOp.Instance (Real, Real) (fun a b -> if a >= b then a else b)
        binary "minimum" MinimumOp.Instance (Real, Real) (fun a b -> if a <= b then a else b)
        spec "where" true (fun rng ->
            let a, b = broadcastPair rng
            let out = broadcastShape [ a; b ]
            let c = [| out; a; b; Shape.Scalar |][rng.Next 4]

            {
                Op = WhereOp.Instance
                Args = [ arg Mask c; arg Real a; arg Real b ]
                Reference =
                    fun xs ->
                        let c, a, b = xs[0], xs[1], xs[2]
                        T.init out (fun k -> if broadcastAt c out k <> 0.0 then broadcastAt a out k else broadcastAt b out k)
            })
        spec "clamp" false (fun rng ->
            let lo = [| -1.0; -0.5; Double.NegativeInfinity |][rng.Next 3]
            let hi = [| 0.5; 1.0; Double.PositiveInfinity |][rng.Next 3]

            {
                Op = ClampOp(lo, hi)
                Args = [ arg Real (anyShape rng) ]
                Reference = fun xs -> T.map (fun x -> Math.Min(Math.Max(x, lo), hi)) (one xs)
            })
        spec "dot" true (fun rng ->
            let n = dim rng

            {
                Op = DotOp.Instance
                Args = [ arg Real (Shape.Vector n); arg Real (Shape.Vector n) ]
                Reference =
                    fun xs -> let a, b = two xs in T.scalar (sumOf (Seq.init n (fun k -> a.Data[k] * b.Data[k])))
            })
        spec "matvec" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = MatVecOp.Instance
                Args = [ arg Real (Shape.Matrix(m, n)); arg Real (Shape.Vector n) ]
                Reference =
                    fun xs ->
                        let a, x = two xs
                        T.init (Shape.Vector m) (fun i -> sumOf (Seq.init n (fun j -> T.at a i j * x.Data[j])))
            })
        spec "vecmat" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = VecMatOp.Instance
                Args = [ arg Real (Shape.Vector m); arg Real (Shape.Matrix(m, n)) ]
                Reference =
                    fun xs ->
                        let v, a = two xs
                        T.init (Shape.Vector n) (fun j -> sumOf (Seq.init m (fun i -> v.Data[i] * T.at a i j)))
            })
        spec "matmul" true (fun rng ->
            // The four forms: op(A)·op(B) with either input stored transposed (what the reverse rule builds).
            let m, k, n = dim rng, dim rng, dim rng
            let ta, tb = rng.Next 2 = 1, rng.Next 2 = 1

            {
                Op = MatMulOp.Of(ta, tb)
                Args =
                    [ arg Real (if ta then Shape.Matrix(k, m) else Shape.Matrix(m, k))
                      arg Real (if tb then Shape.Matrix(n, k) else Shape.Matrix(k, n)) ]
                Reference =
                    fun xs ->
                        let a, b = two xs
                        let opA i l = if ta then T.at a l i else T.at a i l
                        let opB l j = if tb then T.at b j l else T.at b l j
                        T.matrix m n (fun i j -> sumOf (Seq.init k (fun l -> opA i l * opB l j)))
            })
        spec "outer" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = OuterOp.Instance
                Args = [ arg Real (Shape.Vector m); arg Real (Shape.Vector n) ]
                Reference = fun xs -> let a, b = two xs in T.matrix m n (fun i j -> a.Data[i] * b.Data[j])
            })
        spec "transpose" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = TransposeOp.Instance
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference = fun xs -> let a = one xs in T.matrix n m (fun i j -> T.at a j i)
            })
        spec "inverse" true (fun rng ->
            let n = dim rng

            {
                Op = InverseOp.Instance
                Args = [ arg Invertible (Shape.Matrix(n, n)) ]
                Reference = fun xs -> fst (eliminate (one xs) (identity n))
            })
        spec "solve" true (fun rng ->
            let n = dim rng

            let b =
                if rng.Next 2 = 0 then
                    Shape.Vector n
                else
                    Shape.Matrix(n, dim rng)

            {
                Op = SolveOp.Instance
                Args = [ arg Invertible (Shape.Matrix(n, n)); arg Real b ]
                Reference = fun xs -> fst (two xs ||> eliminate)
            })
        spec "det" true (fun rng ->
            let n = dim rng

            {
                Op = DetOp.Instance
                Args = [ arg Invertible (Shape.Matrix(n, n)) ]
                Reference = fun xs -> T.scalar (snd (eliminate (one xs) (identity n)))
            })
        spec "logdet" true (fun rng ->
            let n = dim rng

            {
                Op = LogDetOp.Instance
                Args = [ arg PositiveDeterminant (Shape.Matrix(n, n)) ]
                Reference = fun xs -> T.scalar (log (snd (eliminate (one xs) (identity n))))
            })
        spec "cholesky" true (fun rng ->
            let n = dim rng

            {
                Op = CholeskyOp.Instance
                Args = [ arg SymmetricPositiveDefinite (Shape.Matrix(n, n)) ]
                Reference = fun xs -> choleskyOfSymmetricPart (one xs)
            })
        spec "trace" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = TraceOp.Instance
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference = fun xs -> T.scalar (sumOf (Seq.init (min m n) (fun k -> T.at (one xs) k k)))
            })
        spec "diag" true (fun rng ->
            let n = dim rng

            {
                Op = DiagOp.Instance
                Args = [ arg Real (Shape.Vector n) ]
                Reference = fun xs -> T.matrix n n (fun i j -> if i = j then (one xs).Data[i] else 0.0)
            })
        spec "diagonal" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = DiagonalOp.Instance
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference = fun xs -> T.init (Shape.Vector(min m n)) (fun k -> T.at (one xs) k k)
            })
        spec "sum" true (fun rng ->
            {
                Op = SumOp.Instance
                Args = [ arg Real (anyShape rng) ]
                Reference = fun xs -> T.scalar (sumOf (one xs).Data)
            })
        spec "column_sums" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = ColumnSumsOp.Instance
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference =
                    fun xs ->
                        let a = one xs in T.init (Shape.Vector n) (fun j -> sumOf (Seq.init m (fun i -> T.at a i j)))
            })
        spec "row_sums" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = RowSumsOp.Instance
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference =
                    fun xs ->
                        let a = one xs in T.init (Shape.Vector m) (fun i -> sumOf (Seq.init n (fun j -> T.at a i j)))
            })
        axisReduction "max" (function None -> MaxOp() :> Op | Some a -> MaxOp a) List.max
        axisReduction "min" (function None -> MinOp() :> Op | Some a -> MinOp a) List.min
        axisReduction "log_sum_exp" (function None -> LogSumExpOp() :> Op | Some a -> LogSumExpOp a) (fun g ->
            log (sumOf (g |> List.map exp)))
        spec "max_weights" false (fun rng ->
            let s, axis = drawAxis rng

            {
                Op = MaxWeightsOp(Option.toNullable axis)
                Args = [ arg Real s ]
                Reference =
                    fun xs ->
                        let x = one xs
                        let y = Array.zeroCreate x.Shape.Size

                        for g in groups x.Shape axis do
                            let m = g |> List.map (fun k -> x.Data[k]) |> List.max
                            let ties = g |> List.filter (fun k -> x.Data[k] = m)

                            for k in ties do
                                y[k] <- 1.0 / float ties.Length

                        { Shape = x.Shape; Data = y }
            })
        spec "prod" true (fun rng ->
            {
                Op = ProdOp.Instance
                Args = [ arg Real (anyShape rng) ]
                Reference = fun xs -> T.scalar (Array.fold (*) 1.0 (one xs).Data)
            })
        spec "prod_others" true (fun rng ->
            {
                Op = ProdOthersOp.Instance
                Args = [ arg Real (vectorOrMatrix rng) ]
                Reference =
                    fun xs ->
                        let x = one xs
                        let rows = groups x.Shape (if x.Shape.IsMatrix then Some 1 else None)
                        let y = Array.zeroCreate x.Shape.Size

                        for g in rows do
                            for k in g do
                                y[k] <- g |> List.filter ((<>) k) |> List.fold (fun p l -> p * x.Data[l]) 1.0

                        { Shape = x.Shape; Data = y }
            })
        spec "broadcast" true (fun rng ->
            let target = anyShape rng

            {
                Op = BroadcastScalarOp target
                Args = [ arg Real Shape.Scalar ]
                Reference = fun xs -> T.init target (fun _ -> (one xs).Data[0])
            })
        spec "broadcast_rows" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = BroadcastRowsOp m
                Args = [ arg Real (Shape.Vector n) ]
                Reference = fun xs -> let v = one xs in T.matrix m n (fun _ j -> v.Data[j])
            })
        spec "broadcast_columns" true (fun rng ->
            let m, n = dim rng, dim rng

            {
                Op = BroadcastColumnsOp n
                Args = [ arg Real (Shape.Vector m) ]
                Reference = fun xs -> let v = one xs in T.matrix m n (fun i _ -> v.Data[i])
            })
        spec "norm" true (fun rng ->
            {
                Op = NormOp.Instance
                Args = [ arg AwayFromZero (anyShape rng) ]
                Reference = fun xs -> T.scalar (sqrt (sumOf ((one xs).Data |> Array.map (fun x -> x * x))))
            })
        spec "normalize" true (fun rng ->
            {
                Op = NormalizeOp.Instance
                Args = [ arg AwayFromZero (anyShape rng) ]
                Reference =
                    fun xs ->
                        let x = one xs
                        let n = sqrt (sumOf (x.Data |> Array.map (fun v -> v * v)))
                        T.map (fun v -> v / n) x
            })
        spec "index" true (fun rng ->
            if rng.Next 2 = 0 then
                let n = dim rng
                let i = rng.Next n

                {
                    Op = IndexOp(i)
                    Args = [ arg Real (Shape.Vector n) ]
                    Reference = fun xs -> T.scalar (one xs).Data[i]
                }
            else
                let m, n = dim rng, dim rng
                let i, j = rng.Next m, rng.Next n

                {
                    Op = IndexOp(i, Nullable j)
                    Args = [ arg Real (Shape.Matrix(m, n)) ]
                    Reference = fun xs -> T.scalar (T.at (one xs) i j)
                })
        spec "scatter" true (fun rng ->
            if rng.Next 2 = 0 then
                let n = dim rng
                let i = rng.Next n
                let target = Shape.Vector n

                {
                    Op = ScatterOp(target, i)
                    Args = [ arg Real Shape.Scalar ]
                    Reference = fun xs -> T.init target (fun k -> if k = i then (one xs).Data[0] else 0.0)
                }
            else
                let m, n = dim rng, dim rng
                let i, j = rng.Next m, rng.Next n
                let target = Shape.Matrix(m, n)

                {
                    Op = ScatterOp(target, i, Nullable j)
                    Args = [ arg Real Shape.Scalar ]
                    Reference = fun xs -> T.matrix m n (fun r c -> if (r, c) = (i, j) then (one xs).Data[0] else 0.0)
                })
        spec "reshape" true (fun rng ->
            let source = anyShape rng
            let target = shapeOfSize rng source.Size

            {
                Op = ReshapeOp target
                Args = [ arg Real source ]
                Reference = fun xs -> ofRowMajor target (Array.copy (rowMajor (one xs)))
            })
        spec "concat" true (fun rng ->
            let isVector = rng.Next 3 = 0
            let axis = if isVector then 0 else rng.Next 2
            let na, nb, other = dim rng, dim rng, dim rng
            let a, b = alongAxis isVector axis na other, alongAxis isVector axis nb other
            let out = alongAxis isVector axis (na + nb) other

            {
                Op = ConcatOp axis
                Args = [ arg Real a; arg Real b ]
                Reference =
                    fun xs ->
                        let x, y = two xs

                        build out (fun i j ->
                            let k = if axis = 0 then i else j

                            if k < na then get x i j
                            elif axis = 0 then get y (i - na) j
                            else get y i (j - na))
            })
        spec "slice" true (fun rng ->
            let s = vectorOrMatrix rng
            let axis = if s.IsVector then 0 else rng.Next 2
            let n = extent s axis
            let start = rng.Next n
            let stop = rng.Next(start + 1, n + 1)
            let out = alongAxis s.IsVector axis (stop - start) (if axis = 0 then s.Cols else s.Rows)

            {
                Op = SliceOp(axis, start, stop)
                Args = [ arg Real s ]
                Reference =
                    fun xs ->
                        let x = one xs
                        build out (fun i j -> if axis = 0 then get x (i + start) j else get x i (j + start))
            })
        spec "pad" true (fun rng ->
            let s = vectorOrMatrix rng
            let axis = if s.IsVector then 0 else rng.Next 2
            let before, after = rng.Next 3, rng.Next 3
            let n = extent s axis
            let out = alongAxis s.IsVector axis (before + n + after) (if axis = 0 then s.Cols else s.Rows)

            {
                Op = PadOp(axis, before, after)
                Args = [ arg Real s ]
                Reference =
                    fun xs ->
                        let x = one xs

                        build out (fun i j ->
                            let k = (if axis = 0 then i else j) - before

                            if k < 0 || k >= n then 0.0
                            elif axis = 0 then get x k j
                            else get x i k)
            })
        spec "gather" true (fun rng ->
            let s = vectorOrMatrix rng
            let indices = Array.init (rng.Next(1, 7)) (fun _ -> rng.Next s.Rows)

            let out =
                if s.IsVector then Shape.Vector indices.Length else Shape.Matrix(indices.Length, s.Cols)

            {
                Op = GatherOp indices
                Args = [ arg Real s ]
                Reference = fun xs -> let x = one xs in build out (fun i j -> get x indices[i] j)
            })
        spec "scatter_add" true (fun rng ->
            let count = dim rng
            let indices = Array.init (rng.Next(1, 7)) (fun _ -> rng.Next count)
            let isVector = rng.Next 2 = 0
            let cols = dim rng
            let s = if isVector then Shape.Vector indices.Length else Shape.Matrix(indices.Length, cols)
            let out = if isVector then Shape.Vector count else Shape.Matrix(count, cols)

            {
                Op = ScatterAddOp(indices, count)
                Args = [ arg Real s ]
                Reference =
                    fun xs ->
                        let x = one xs

                        build out (fun i j ->
                            sumOf (Seq.init indices.Length (fun k -> if indices[k] = i then get x k j else 0.0)))
            })
        spec "row" true (fun rng ->
            let m, n = dim rng, dim rng
            let i = rng.Next m

            {
                Op = RowOp i
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference = fun xs -> T.init (Shape.Vector n) (fun j -> T.at (one xs) i j)
            })
        spec "column" true (fun rng ->
            let m, n = dim rng, dim rng
            let j = rng.Next n

            {
                Op = ColumnOp j
                Args = [ arg Real (Shape.Matrix(m, n)) ]
                Reference = fun xs -> T.init (Shape.Vector m) (fun i -> T.at (one xs) i j)
            })
        { spec "stop_gradient" false (fun rng ->
              {
                  Op = StopGradientOp.Instance
                  Args = [ arg Real (anyShape rng) ]
                  Reference = one
              }) with
            Derivative = ZeroByDefinition
        }
        spec "log_softmax" true (fun rng ->
            {
                Op = LogSoftmaxOp.Instance
                Args = [ arg Real (vectorOrMatrix rng) ]
                Reference = fun xs -> logSoftmax (one xs)
            })
        spec "softmax_cross_entropy" true (fun rng ->
            let s = vectorOrMatrix rng
            let rows, classes = (if s.IsMatrix then s.Rows, s.Cols else 1, s.Length)

            {
                Op = SoftmaxCrossEntropyOp.Instance
                Args =
                    [
                        arg Real s
                        arg (ClassIndex classes) (if s.IsMatrix then Shape.Vector rows else Shape.Scalar)
                    ]
                Reference =
                    fun xs ->
                        let z, c = two xs
                        let ls = logSoftmax z
                        T.scalar (sumOf (Seq.init rows (fun r -> -ls.Data[int c.Data[r] * rows + r])) / float rows)
            })
        spec "one_hot" false (fun rng ->
            let classes = dim rng

            let s =
                if rng.Next 2 = 0 then
                    Shape.Scalar
                else
                    Shape.Vector(dim rng)

            let rows = if s.IsScalar then 1 else s.Length

            let out =
                if s.IsScalar then
                    Shape.Vector classes
                else
                    Shape.Matrix(rows, classes)

            {
                Op = OneHotOp classes
                Args = [ arg (ClassIndex classes) s ]
                Reference =
                    fun xs ->
                        let c = one xs
                        T.init out (fun k -> if k / rows = int c.Data[k % rows] then 1.0 else 0.0)
            })
        spec "binary_cross_entropy_with_logits" true (fun rng ->
            let s = anyShape rng

            {
                Op = BinaryCrossEntropyWithLogitsOp.Instance
                Args = [ arg Real s; arg UnitInterval s ]
                Reference =
                    fun xs ->
                        let z, t = two xs
                        let terms = Array.map2 (fun z t -> Math.Log(1.0 + Math.Exp z) - z * t) z.Data t.Data
                        T.scalar (sumOf terms / float terms.Length)
            })
    ]

let byName = all |> List.map (fun s -> s.Name, s) |> Map.ofList

let find (name: string) =
    match byName.TryFind name with
    | Some s -> s
    | None -> failwith $"No spec row for op '{name}': add one to OpSpecs.all."

/// The directions ds with those of inputs that are not differentiated (class labels) set to zero, so that a point
/// moved along them stays in its domain.
let keepFixed (case: Case) (ds: T list) =
    List.map2 (fun (a: Arg) (d: T) -> if differentiable a.Domain then d else T.zeros d.Shape) case.Args ds

/// A drawn case and a point in its domain.
let drawPoint (spec: OpSpec) (rng: Random) =
    let case = spec.Draw rng

    let xs = case.Args |> List.map (fun a -> sampleTensor rng a.Domain a.ArgShape)

    case, xs
