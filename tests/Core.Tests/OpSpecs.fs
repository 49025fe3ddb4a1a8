/// The one table of op specs (JAX's LAX_GRAD_OPS): one row per op name in Ops.All. How to draw a node of each op
/// (random parameters and random valid shapes, 1–5 per dimension) and the domain of each input come from the shipped
/// generators' table (Functional.Autodiff.Generators.OpTable, the rows users draw random graphs from); this file adds,
/// per row, an independent reference forward, the kind of derivative and the finite-difference tolerance. OpTests
/// turns every row into test cases.
module Functional.Autodiff.Tests.OpSpecs

open System
open Functional.Autodiff
open Functional.Autodiff.Generators
open Functional.Autodiff.Tests.Common

/// Whether the domain draws a whole matrix at once (its elements are not independent).
let isMatrixDomain = Domain.isMatrix

/// One element of an element-wise domain.
let sample (rng: Random) (d: Domain) = Domain.sample rng d

/// A tensor of the shape drawn from the domain: element by element, or a whole matrix for a matrix domain.
let sampleTensor (rng: Random) (d: Domain) (s: Shape) =
    { Shape = s; Data = Domain.sampleData rng d s }

/// Whether derivatives with respect to an input of this domain are tested (class labels are data).
let differentiable = Domain.differentiable

/// One input of a drawn node: its shape and domain.
type Arg = Input

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


// ------------------------------------------------------------------ drawing shapes (the shipped generators')

let dim = Shapes.dim
let anyShape = Shapes.any
let vectorOrMatrix = Shapes.vectorOrMatrix
let broadcastPair = Shapes.broadcastPair
let aligned = Shapes.aligned
let broadcastShape = Shapes.broadcast
let shapeOfSize = Shapes.ofSize

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

/// A row: the shipped table's draw of the op (parameters, shapes, domains) with the reference forward for the drawn
/// node (which may read the op's parameters and the inputs' shapes).
let private row name (reference: OpNode -> T list -> T) =
    let e = OpTable.find name

    {
        Name = name
        Smooth = e.Smooth
        Derivative = FiniteDifference
        Tolerance = fd
        Draw =
            fun rng ->
                let n = e.Draw rng

                {
                    Op = n.Op
                    Args = n.Inputs
                    Reference = reference n
                }
    }

let private unary name (f: float -> float) = row name (fun _ xs -> T.map f (one xs))

let private binary name (f: float -> float -> float) =
    row name (fun _ xs -> two xs ||> zipBroadcast f)

/// A comparison: a 0/1 mask, piecewise constant (its finite differences are 0 away from ties, which random points miss).
let private comparison name (f: float -> float -> bool) =
    binary name (fun a b -> if f a b then 1.0 else 0.0)

/// erf by its Maclaurin series Σ (−1)ⁿ x²ⁿ⁺¹ / (n! (2n + 1)) · 2/√π, to rounding for |x| ≤ 3 (the drawn domain).
let erfSeries (x: float) =
    let mutable sum, term, n = 0.0, x, 0

    while n < 200 && (n = 0 || abs term > 1e-18 * abs sum) do
        sum <- sum + term / float (2 * n + 1)
        n <- n + 1
        term <- -term * x * x / float n

    2.0 / sqrt Math.PI * sum

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

/// The reduction axis of a drawn node (None: all elements).
let private axisOf (n: OpNode) =
    match n.Op with
    | :? AxisReductionOp as op -> Option.ofNullable op.Axis
    | :? MaxWeightsOp as op -> Option.ofNullable op.Axis
    | op -> failwith $"{op} has no reduction axis"

let private axisReduction name (f: float list -> float) =
    row name (fun n xs -> reduction f (axisOf n) (one xs))

/// The op of a drawn node as its class, to read its parameters.
let private opOf<'Op when 'Op :> Op> (n: OpNode) = n.Op :?> 'Op

// ------------------------------------------------------------------ the table

let all: OpSpec list =
    [
        binary "add" (+)
        binary "sub" (-)
        binary "mul" (*)
        binary "div" (/)
        unary "neg" (fun x -> -x)
        row "pow" (fun n ->
            let p = (opOf<PowOp> n).Exponent
            fun xs -> T.map (fun x -> Math.Pow(x, p)) (one xs))
        unary "square" (fun x -> x * x)
        unary "sqrt" Math.Sqrt
        unary "exp" Math.Exp
        unary "log" Math.Log
        unary "sin" Math.Sin
        unary "cos" Math.Cos
        unary "tanh" Math.Tanh
        unary "sigmoid" (fun x -> 1.0 / (1.0 + Math.Exp -x))
        unary "relu" (fun x -> Math.Max(x, 0.0))
        unary "softplus" (fun x -> Math.Log(1.0 + Math.Exp x))
        unary "abs" Math.Abs
        unary "sign" (fun x -> float (Math.Sign x))
        unary "step" (fun x -> if x > 0.0 then 1.0 else 0.0)
        unary "safe_reciprocal" (fun x -> 1.0 / x)
        unary "log_sigmoid" (fun x -> -Math.Log(1.0 + Math.Exp -x))
        unary "log1p" (fun x -> Math.Log(1.0 + x))
        unary "expm1" (fun x -> Math.Exp x - 1.0)
        unary "reciprocal" (fun x -> 1.0 / x)
        unary "erf" erfSeries
        unary "gelu" (fun x -> x * 0.5 * (1.0 + erfSeries (x / sqrt 2.0)))
        binary "pow_tensor" (fun a b -> Math.Pow(a, b))
        comparison "greater" (>)
        comparison "greater_equal" (>=)
        comparison "less" (<)
        comparison "less_equal" (<=)
        comparison "equal" (=)
        binary "maximum" (fun a b -> if a >= b then a else b)
        binary "minimum" (fun a b -> if a <= b then a else b)
        row "where" (fun n ->
            let out = broadcastShape [ n.Inputs[1].Shape; n.Inputs[2].Shape ]

            fun xs ->
                let c, a, b = xs[0], xs[1], xs[2]
                T.init out (fun k -> if broadcastAt c out k <> 0.0 then broadcastAt a out k else broadcastAt b out k))
        row "clamp" (fun n ->
            let op = opOf<ClampOp> n
            let lo, hi = op.Min, op.Max
            fun xs -> T.map (fun x -> Math.Min(Math.Max(x, lo), hi)) (one xs))
        row "dot" (fun n ->
            let n = n.Inputs[0].Shape.Length
            fun xs -> let a, b = two xs in T.scalar (sumOf (Seq.init n (fun k -> a.Data[k] * b.Data[k]))))
        row "matvec" (fun n ->
            let m, n = n.Inputs[0].Shape.Rows, n.Inputs[0].Shape.Cols

            fun xs ->
                let a, x = two xs
                T.init (Shape.Vector m) (fun i -> sumOf (Seq.init n (fun j -> T.at a i j * x.Data[j]))))
        row "vecmat" (fun n ->
            let m, n = n.Inputs[1].Shape.Rows, n.Inputs[1].Shape.Cols

            fun xs ->
                let v, a = two xs
                T.init (Shape.Vector n) (fun j -> sumOf (Seq.init m (fun i -> v.Data[i] * T.at a i j))))
        row "matmul" (fun n ->
            let op = opOf<MatMulOp> n
            let ta, tb = op.TransposeA, op.TransposeB
            let a, b = n.Inputs[0].Shape, n.Inputs[1].Shape
            let m, k = (if ta then a.Cols else a.Rows), (if ta then a.Rows else a.Cols)
            let n = if tb then b.Rows else b.Cols

            fun xs ->
                let a, b = two xs
                let opA i l = if ta then T.at a l i else T.at a i l
                let opB l j = if tb then T.at b j l else T.at b l j
                T.matrix m n (fun i j -> sumOf (Seq.init k (fun l -> opA i l * opB l j))))
        row "outer" (fun n ->
            let m, n = n.Inputs[0].Shape.Length, n.Inputs[1].Shape.Length
            fun xs -> let a, b = two xs in T.matrix m n (fun i j -> a.Data[i] * b.Data[j]))
        row "transpose" (fun n ->
            let m, n = n.Inputs[0].Shape.Rows, n.Inputs[0].Shape.Cols
            fun xs -> let a = one xs in T.matrix n m (fun i j -> T.at a j i))
        row "inverse" (fun n ->
            let n = n.Inputs[0].Shape.Rows
            fun xs -> fst (eliminate (one xs) (identity n)))
        row "solve" (fun _ xs -> fst (two xs ||> eliminate))
        row "det" (fun n ->
            let n = n.Inputs[0].Shape.Rows
            fun xs -> T.scalar (snd (eliminate (one xs) (identity n))))
        row "logdet" (fun n ->
            let n = n.Inputs[0].Shape.Rows
            fun xs -> T.scalar (log (snd (eliminate (one xs) (identity n)))))
        row "cholesky" (fun _ xs -> choleskyOfSymmetricPart (one xs))
        row "trace" (fun n ->
            let m, n = n.Inputs[0].Shape.Rows, n.Inputs[0].Shape.Cols
            fun xs -> T.scalar (sumOf (Seq.init (min m n) (fun k -> T.at (one xs) k k))))
        row "diag" (fun n ->
            let n = n.Inputs[0].Shape.Length
            fun xs -> T.matrix n n (fun i j -> if i = j then (one xs).Data[i] else 0.0))
        row "diagonal" (fun n ->
            let m, n = n.Inputs[0].Shape.Rows, n.Inputs[0].Shape.Cols
            fun xs -> T.init (Shape.Vector(min m n)) (fun k -> T.at (one xs) k k))
        row "sum" (fun _ xs -> T.scalar (sumOf (one xs).Data))
        row "column_sums" (fun n ->
            let m, n = n.Inputs[0].Shape.Rows, n.Inputs[0].Shape.Cols
            fun xs -> let a = one xs in T.init (Shape.Vector n) (fun j -> sumOf (Seq.init m (fun i -> T.at a i j))))
        row "row_sums" (fun n ->
            let m, n = n.Inputs[0].Shape.Rows, n.Inputs[0].Shape.Cols
            fun xs -> let a = one xs in T.init (Shape.Vector m) (fun i -> sumOf (Seq.init n (fun j -> T.at a i j))))
        axisReduction "max" List.max
        axisReduction "min" List.min
        axisReduction "log_sum_exp" (fun g -> log (sumOf (g |> List.map exp)))
        row "max_weights" (fun n ->
            let axis = axisOf n

            fun xs ->
                let x = one xs
                let y = Array.zeroCreate x.Shape.Size

                for g in groups x.Shape axis do
                    let m = g |> List.map (fun k -> x.Data[k]) |> List.max
                    let ties = g |> List.filter (fun k -> x.Data[k] = m)

                    for k in ties do
                        y[k] <- 1.0 / float ties.Length

                { Shape = x.Shape; Data = y })
        row "prod" (fun _ xs -> T.scalar (Array.fold (*) 1.0 (one xs).Data))
        row "prod_others" (fun _ xs ->
            let x = one xs
            let rows = groups x.Shape (if x.Shape.IsMatrix then Some 1 else None)
            let y = Array.zeroCreate x.Shape.Size

            for g in rows do
                for k in g do
                    y[k] <- g |> List.filter ((<>) k) |> List.fold (fun p l -> p * x.Data[l]) 1.0

            { Shape = x.Shape; Data = y })
        row "broadcast" (fun n ->
            let target = (opOf<BroadcastScalarOp> n).Target
            fun xs -> T.init target (fun _ -> (one xs).Data[0]))
        row "broadcast_rows" (fun n ->
            let m, n = (opOf<BroadcastRowsOp> n).Rows, n.Inputs[0].Shape.Length
            fun xs -> let v = one xs in T.matrix m n (fun _ j -> v.Data[j]))
        row "broadcast_columns" (fun n ->
            let m, n = n.Inputs[0].Shape.Length, (opOf<BroadcastColumnsOp> n).Cols
            fun xs -> let v = one xs in T.matrix m n (fun i _ -> v.Data[i]))
        row "norm" (fun _ xs -> T.scalar (sqrt (sumOf ((one xs).Data |> Array.map (fun x -> x * x)))))
        row "normalize" (fun _ xs ->
            let x = one xs
            let n = sqrt (sumOf (x.Data |> Array.map (fun v -> v * v)))
            T.map (fun v -> v / n) x)
        row "index" (fun n ->
            let op = opOf<IndexOp> n

            match Option.ofNullable op.J with
            | None -> fun xs -> T.scalar (one xs).Data[op.I]
            | Some j -> fun xs -> T.scalar (T.at (one xs) op.I j))
        row "scatter" (fun n ->
            let op = opOf<ScatterOp> n
            let struct (i, j) = op.Position
            let target = op.Target

            match Option.ofNullable j with
            | None -> fun xs -> T.init target (fun k -> if k = i then (one xs).Data[0] else 0.0)
            | Some j ->
                fun xs -> T.matrix target.Rows target.Cols (fun r c -> if (r, c) = (i, j) then (one xs).Data[0] else 0.0))
        row "reshape" (fun n ->
            let target = (opOf<ReshapeOp> n).Target
            fun xs -> ofRowMajor target (Array.copy (rowMajor (one xs))))
        row "concat" (fun n ->
            let axis = (opOf<ConcatOp> n).Axis
            let a, b = n.Inputs[0].Shape, n.Inputs[1].Shape
            let na = extent a axis
            let other = if a.IsVector then 0 else extent a (1 - axis)
            let out = alongAxis a.IsVector axis (na + extent b axis) other

            fun xs ->
                let x, y = two xs

                build out (fun i j ->
                    let k = if axis = 0 then i else j

                    if k < na then get x i j
                    elif axis = 0 then get y (i - na) j
                    else get y i (j - na)))
        row "slice" (fun n ->
            let op = opOf<SliceOp> n
            let s = n.Inputs[0].Shape
            let axis, start = op.Axis, op.Start
            let out = alongAxis s.IsVector axis (op.Stop - start) (if axis = 0 then s.Cols else s.Rows)

            fun xs ->
                let x = one xs
                build out (fun i j -> if axis = 0 then get x (i + start) j else get x i (j + start)))
        row "pad" (fun n ->
            let op = opOf<PadOp> n
            let s = n.Inputs[0].Shape
            let axis, before = op.Axis, op.Before
            let n = extent s axis
            let out = alongAxis s.IsVector axis (before + n + op.After) (if axis = 0 then s.Cols else s.Rows)

            fun xs ->
                let x = one xs

                build out (fun i j ->
                    let k = (if axis = 0 then i else j) - before

                    if k < 0 || k >= n then 0.0
                    elif axis = 0 then get x k j
                    else get x i k))
        row "gather" (fun n ->
            let indices = (opOf<GatherOp> n).Indices
            let s = n.Inputs[0].Shape

            let out =
                if s.IsVector then Shape.Vector indices.Length else Shape.Matrix(indices.Length, s.Cols)

            fun xs -> let x = one xs in build out (fun i j -> get x indices[i] j))
        row "scatter_add" (fun n ->
            let op = opOf<ScatterAddOp> n
            let indices, count = op.Indices, op.Count
            let s = n.Inputs[0].Shape
            let out = if s.IsVector then Shape.Vector count else Shape.Matrix(count, s.Cols)

            fun xs ->
                let x = one xs

                build out (fun i j ->
                    sumOf (Seq.init indices.Length (fun k -> if indices[k] = i then get x k j else 0.0))))
        row "row" (fun n ->
            let i, n = (opOf<RowOp> n).I, n.Inputs[0].Shape.Cols
            fun xs -> T.init (Shape.Vector n) (fun j -> T.at (one xs) i j))
        row "column" (fun n ->
            let j, m = (opOf<ColumnOp> n).J, n.Inputs[0].Shape.Rows
            fun xs -> T.init (Shape.Vector m) (fun i -> T.at (one xs) i j))
        { row "stop_gradient" (fun _ xs -> one xs) with
            Derivative = ZeroByDefinition
        }
        row "log_softmax" (fun _ xs -> logSoftmax (one xs))
        row "softmax_cross_entropy" (fun n ->
            let s = n.Inputs[0].Shape
            let rows = if s.IsMatrix then s.Rows else 1

            fun xs ->
                let z, c = two xs
                let ls = logSoftmax z
                T.scalar (sumOf (Seq.init rows (fun r -> -ls.Data[int c.Data[r] * rows + r])) / float rows))
        row "one_hot" (fun n ->
            let classes = (opOf<OneHotOp> n).Classes
            let s = n.Inputs[0].Shape
            let rows = if s.IsScalar then 1 else s.Length
            let out = if s.IsScalar then Shape.Vector classes else Shape.Matrix(rows, classes)

            fun xs ->
                let c = one xs
                T.init out (fun k -> if k / rows = int c.Data[k % rows] then 1.0 else 0.0))
        row "binary_cross_entropy_with_logits" (fun _ xs ->
            let z, t = two xs
            let terms = Array.map2 (fun z t -> Math.Log(1.0 + Math.Exp z) - z * t) z.Data t.Data
            T.scalar (sumOf terms / float terms.Length))
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

    let xs = case.Args |> List.map (fun a -> sampleTensor rng a.Domain a.Shape)

    case, xs
