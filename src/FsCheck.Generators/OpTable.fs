namespace Functional.Autodiff.Generators

open System
open Functional.Autodiff

/// One input of a drawn node: its shape and the domain its elements must lie in.
type Input =
    {
        /// The input's shape.
        Shape: Shape
        /// Where its elements are drawn from.
        Domain: Domain
    }

/// A drawn node: an op with its random parameters, and its inputs' shapes and domains (valid for the op).
type OpNode =
    {
        /// The op, parameters included (pow's exponent, an axis, indices, a target shape, …).
        Op: Op
        /// What each input must be.
        Inputs: Input list
    }

/// How to draw a node of one op: one row of the op table.
type OpEntry =
    {
        /// The op's name (Op.Name).
        Name: string
        /// Smooth on its drawn domains: second derivatives are meaningful (GradCheck at order 2).
        Smooth: bool
        /// Draws an op (random parameters) with valid input shapes and domains.
        Draw: Random -> OpNode
    }

    /// A row from a C# delegate.
    static member Create(name: string, smooth: bool, draw: Func<Random, OpNode>) =
        {
            Name = name
            Smooth = smooth
            Draw = draw.Invoke
        }

    /// A row for an element-wise op of one input (a user's custom op, for example): any shape, elements from the domain.
    static member Unary(op: Op, domain: Domain, smooth: bool) =
        {
            Name = op.Name
            Smooth = smooth
            Draw =
                fun rng ->
                    {
                        Op = op
                        Inputs = [ { Shape = Shapes.any rng; Domain = domain } ]
                    }
        }

/// The table of the library's ops (JAX's LAX_GRAD_OPS): one row per op name in Ops.All, saying how to draw a node of
/// the op with random parameters, random valid shapes (1–5 per dimension) and each input's domain.
[<RequireQualifiedAccess>]
module OpTable =
    let private input domain shape = { Shape = shape; Domain = domain }
    let private node (op: Op) inputs = { Op = op; Inputs = inputs }

    let private entry name smooth draw =
        {
            Name = name
            Smooth = smooth
            Draw = draw
        }

    let private unary name (op: Op) smooth domain =
        entry name smooth (fun rng -> node op [ input domain (Shapes.any rng) ])

    let private binaryWith smooth name (op: Op) (da, db) =
        entry name smooth (fun rng ->
            let a, b = Shapes.broadcastPair rng
            node op [ input da a; input db b ])

    let private binary name op domains = binaryWith true name op domains

    /// A comparison: a 0/1 mask, piecewise constant.
    let private comparison name op = binaryWith false name op (Real, Real)

    /// A shape and a reduction axis: all elements of any shape (None), or an axis of a vector or a matrix.
    let private drawAxis (rng: Random) =
        if rng.Next 3 = 0 then
            Shapes.any rng, None
        else
            let s = Shapes.vectorOrMatrix rng
            s, Some(if s.IsVector then 0 else rng.Next 2)

    let private axisReduction name (make: int option -> Op) =
        entry name true (fun rng ->
            let s, axis = drawAxis rng
            node (make axis) [ input Real s ])

    /// A vector of length n or a matrix with n along the axis (the other side `other`).
    let private alongAxis (isVector: bool) axis n other =
        if isVector then Shape.Vector n
        elif axis = 0 then Shape.Matrix(n, other)
        else Shape.Matrix(other, n)

    let private dim = Shapes.dim
    let private anyShape = Shapes.any
    let private vectorOrMatrix = Shapes.vectorOrMatrix

    /// Every row, in a fixed order.
    let all: OpEntry list =
        [
            binary "add" AddOp.Instance (Real, Real)
            binary "sub" SubOp.Instance (Real, Real)
            binary "mul" MulOp.Instance (Real, Real)
            binary "div" DivOp.Instance (Real, AwayFromZero)
            unary "neg" NegOp.Instance true Real
            entry "pow" true (fun rng ->
                let p = [| -2.0; -1.0; 0.0; 1.0; 2.0; 3.0; 4.0; -0.5; 0.5; 1.5; 2.5 |][rng.Next 11]

                let domain =
                    if Math.Round p <> p then Positive
                    elif p < 0.0 then AwayFromZero
                    else Real

                node (PowOp p) [ input domain (anyShape rng) ])
            unary "square" SquareOp.Instance true Real
            unary "sqrt" SqrtOp.Instance true Positive
            unary "exp" ExpOp.Instance true Real
            unary "log" LogOp.Instance true Positive
            unary "sin" SinOp.Instance true Real
            unary "cos" CosOp.Instance true Real
            unary "tanh" TanhOp.Instance true Real
            unary "sigmoid" SigmoidOp.Instance true Real
            unary "relu" ReluOp.Instance false AwayFromZero
            unary "softplus" SoftplusOp.Instance true Real
            unary "abs" AbsOp.Instance false AwayFromZero
            unary "sign" SignOp.Instance false AwayFromZero
            unary "step" StepOp.Instance false AwayFromZero
            unary "safe_reciprocal" SafeReciprocalOp.Instance true AwayFromZero
            unary "log_sigmoid" LogSigmoidOp.Instance true Real
            unary "log1p" Log1pOp.Instance true Positive
            unary "expm1" Expm1Op.Instance true Real
            unary "reciprocal" ReciprocalOp.Instance true AwayFromZero
            unary "erf" ErfOp.Instance true Real
            unary "gelu" GeluOp.Instance true Real
            binary "pow_tensor" PowTensorOp.Instance (Positive, Real)
            comparison "greater" GreaterOp.Instance
            comparison "greater_equal" GreaterEqualOp.Instance
            comparison "less" LessOp.Instance
            comparison "less_equal" LessEqualOp.Instance
            comparison "equal" EqualOp.Instance
            binary "maximum" MaximumOp.Instance (Real, Real)
            binary "minimum" MinimumOp.Instance (Real, Real)
            entry "where" true (fun rng ->
                let a, b = Shapes.broadcastPair rng
                let out = Shapes.broadcast [ a; b ]
                let c = [| out; a; b; Shape.Scalar |][rng.Next 4]
                node WhereOp.Instance [ input Mask c; input Real a; input Real b ])
            entry "clamp" false (fun rng ->
                let lo = [| -1.0; -0.5; Double.NegativeInfinity |][rng.Next 3]
                let hi = [| 0.5; 1.0; Double.PositiveInfinity |][rng.Next 3]
                node (ClampOp(lo, hi)) [ input Real (anyShape rng) ])
            entry "dot" true (fun rng ->
                let n = dim rng
                node DotOp.Instance [ input Real (Shape.Vector n); input Real (Shape.Vector n) ])
            entry "matvec" true (fun rng ->
                let m, n = dim rng, dim rng
                node MatVecOp.Instance [ input Real (Shape.Matrix(m, n)); input Real (Shape.Vector n) ])
            entry "vecmat" true (fun rng ->
                let m, n = dim rng, dim rng
                node VecMatOp.Instance [ input Real (Shape.Vector m); input Real (Shape.Matrix(m, n)) ])
            entry "matmul" true (fun rng ->
                // The four forms op(A)·op(B), either input stored transposed (what the reverse rule builds).
                let m, k, n = dim rng, dim rng, dim rng
                let ta, tb = rng.Next 2 = 1, rng.Next 2 = 1

                node
                    (MatMulOp.Of(ta, tb))
                    [ input Real (if ta then Shape.Matrix(k, m) else Shape.Matrix(m, k))
                      input Real (if tb then Shape.Matrix(n, k) else Shape.Matrix(k, n)) ])
            entry "outer" true (fun rng ->
                let m, n = dim rng, dim rng
                node OuterOp.Instance [ input Real (Shape.Vector m); input Real (Shape.Vector n) ])
            entry "transpose" true (fun rng ->
                let m, n = dim rng, dim rng
                node TransposeOp.Instance [ input Real (Shape.Matrix(m, n)) ])
            entry "inverse" true (fun rng ->
                let n = dim rng
                node InverseOp.Instance [ input Invertible (Shape.Matrix(n, n)) ])
            entry "solve" true (fun rng ->
                let n = dim rng

                let b =
                    if rng.Next 2 = 0 then
                        Shape.Vector n
                    else
                        Shape.Matrix(n, dim rng)

                node SolveOp.Instance [ input Invertible (Shape.Matrix(n, n)); input Real b ])
            entry "det" true (fun rng ->
                let n = dim rng
                node DetOp.Instance [ input Invertible (Shape.Matrix(n, n)) ])
            entry "logdet" true (fun rng ->
                let n = dim rng
                node LogDetOp.Instance [ input PositiveDeterminant (Shape.Matrix(n, n)) ])
            entry "cholesky" true (fun rng ->
                let n = dim rng
                node CholeskyOp.Instance [ input SymmetricPositiveDefinite (Shape.Matrix(n, n)) ])
            entry "trace" true (fun rng ->
                let m, n = dim rng, dim rng
                node TraceOp.Instance [ input Real (Shape.Matrix(m, n)) ])
            entry "diag" true (fun rng ->
                let n = dim rng
                node DiagOp.Instance [ input Real (Shape.Vector n) ])
            entry "diagonal" true (fun rng ->
                let m, n = dim rng, dim rng
                node DiagonalOp.Instance [ input Real (Shape.Matrix(m, n)) ])
            entry "sum" true (fun rng -> node SumOp.Instance [ input Real (anyShape rng) ])
            entry "column_sums" true (fun rng ->
                let m, n = dim rng, dim rng
                node ColumnSumsOp.Instance [ input Real (Shape.Matrix(m, n)) ])
            entry "row_sums" true (fun rng ->
                let m, n = dim rng, dim rng
                node RowSumsOp.Instance [ input Real (Shape.Matrix(m, n)) ])
            axisReduction "max" (function
                | None -> MaxOp() :> Op
                | Some a -> MaxOp a)
            axisReduction "min" (function
                | None -> MinOp() :> Op
                | Some a -> MinOp a)
            axisReduction "log_sum_exp" (function
                | None -> LogSumExpOp() :> Op
                | Some a -> LogSumExpOp a)
            entry "max_weights" false (fun rng ->
                let s, axis = drawAxis rng
                node (MaxWeightsOp(Option.toNullable axis)) [ input Real s ])
            entry "prod" true (fun rng -> node ProdOp.Instance [ input Real (anyShape rng) ])
            entry "prod_others" true (fun rng -> node ProdOthersOp.Instance [ input Real (vectorOrMatrix rng) ])
            entry "broadcast" true (fun rng ->
                let target = anyShape rng
                node (BroadcastScalarOp target) [ input Real Shape.Scalar ])
            entry "broadcast_rows" true (fun rng ->
                let m, n = dim rng, dim rng
                node (BroadcastRowsOp m) [ input Real (Shape.Vector n) ])
            entry "broadcast_columns" true (fun rng ->
                let m, n = dim rng, dim rng
                node (BroadcastColumnsOp n) [ input Real (Shape.Vector m) ])
            entry "norm" true (fun rng -> node NormOp.Instance [ input AwayFromZero (anyShape rng) ])
            entry "normalize" true (fun rng -> node NormalizeOp.Instance [ input AwayFromZero (anyShape rng) ])
            entry "index" true (fun rng ->
                if rng.Next 2 = 0 then
                    let n = dim rng
                    let i = rng.Next n
                    node (IndexOp(i)) [ input Real (Shape.Vector n) ]
                else
                    let m, n = dim rng, dim rng
                    let i, j = rng.Next m, rng.Next n
                    node (IndexOp(i, Nullable j)) [ input Real (Shape.Matrix(m, n)) ])
            entry "scatter" true (fun rng ->
                if rng.Next 2 = 0 then
                    let n = dim rng
                    let i = rng.Next n
                    node (ScatterOp(Shape.Vector n, i)) [ input Real Shape.Scalar ]
                else
                    let m, n = dim rng, dim rng
                    let i, j = rng.Next m, rng.Next n
                    node (ScatterOp(Shape.Matrix(m, n), i, Nullable j)) [ input Real Shape.Scalar ])
            entry "reshape" true (fun rng ->
                let source = anyShape rng
                let target = Shapes.ofSize rng source.Size
                node (ReshapeOp target) [ input Real source ])
            entry "concat" true (fun rng ->
                let isVector = rng.Next 3 = 0
                let axis = if isVector then 0 else rng.Next 2
                let na, nb, other = dim rng, dim rng, dim rng
                let a, b = alongAxis isVector axis na other, alongAxis isVector axis nb other
                node (ConcatOp axis) [ input Real a; input Real b ])
            entry "slice" true (fun rng ->
                let s = vectorOrMatrix rng
                let axis = if s.IsVector then 0 else rng.Next 2
                let n = if axis = 0 then s.Rows else s.Cols
                let start = rng.Next n
                let stop = rng.Next(start + 1, n + 1)
                node (SliceOp(axis, start, stop)) [ input Real s ])
            entry "pad" true (fun rng ->
                let s = vectorOrMatrix rng
                let axis = if s.IsVector then 0 else rng.Next 2
                let before, after = rng.Next 3, rng.Next 3
                node (PadOp(axis, before, after)) [ input Real s ])
            entry "gather" true (fun rng ->
                let s = vectorOrMatrix rng
                let indices = Array.init (rng.Next(1, 7)) (fun _ -> rng.Next s.Rows)
                node (GatherOp indices) [ input Real s ])
            entry "scatter_add" true (fun rng ->
                let count = dim rng
                let indices = Array.init (rng.Next(1, 7)) (fun _ -> rng.Next count)
                let isVector = rng.Next 2 = 0
                let cols = dim rng

                let s =
                    if isVector then
                        Shape.Vector indices.Length
                    else
                        Shape.Matrix(indices.Length, cols)

                node (ScatterAddOp(indices, count)) [ input Real s ])
            entry "row" true (fun rng ->
                let m, n = dim rng, dim rng
                let i = rng.Next m
                node (RowOp i) [ input Real (Shape.Matrix(m, n)) ])
            entry "column" true (fun rng ->
                let m, n = dim rng, dim rng
                let j = rng.Next n
                node (ColumnOp j) [ input Real (Shape.Matrix(m, n)) ])
            entry "stop_gradient" false (fun rng -> node StopGradientOp.Instance [ input Real (anyShape rng) ])
            entry "log_softmax" true (fun rng -> node LogSoftmaxOp.Instance [ input Real (vectorOrMatrix rng) ])
            entry "softmax_cross_entropy" true (fun rng ->
                let s = vectorOrMatrix rng
                let rows, classes = (if s.IsMatrix then s.Rows, s.Cols else 1, s.Length)

                node
                    SoftmaxCrossEntropyOp.Instance
                    [
                        input Real s
                        input (ClassIndex classes) (if s.IsMatrix then Shape.Vector rows else Shape.Scalar)
                    ])
            entry "one_hot" false (fun rng ->
                let classes = dim rng
                let s = if rng.Next 2 = 0 then Shape.Scalar else Shape.Vector(dim rng)
                node (OneHotOp classes) [ input (ClassIndex classes) s ])
            entry "binary_cross_entropy_with_logits" true (fun rng ->
                let s = anyShape rng
                node BinaryCrossEntropyWithLogitsOp.Instance [ input Real s; input UnitInterval s ])
        ]

    let private byName = all |> List.map (fun e -> e.Name, e) |> Map.ofList

    /// The row of the op of this name.
    let find (name: string) =
        match byName.TryFind name with
        | Some e -> e
        | None -> invalidArg "name" $"No row for op '{name}' in OpTable.all (names are Op.Name, e.g. \"sin\", \"matmul\")."

    /// The rows of the smooth ops: the ones whose second derivatives GradCheck can check.
    let smooth = all |> List.filter (fun e -> e.Smooth)

    /// A drawn node and a point in its domain: one value per input.
    let drawPoint (e: OpEntry) (rng: Random) =
        let n = e.Draw rng
        let xs = n.Inputs |> List.map (fun i -> Domain.sampleValue rng i.Domain i.Shape)
        n, xs
