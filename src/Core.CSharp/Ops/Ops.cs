using System.Collections.Immutable;

namespace Functional.Autodiff;

/// <summary>The one list of the library's ops, which tests and docs enumerate.</summary>
public static class Ops
{
    /// <summary>
    /// Every op the library defines, once each. Ops with parameters appear with example parameters; their
    /// <see cref="Op.Name"/> is unique and is what test tables key on.
    /// </summary>
    public static ImmutableArray<Op> All { get; } =
    [
        AddOp.Instance, SubOp.Instance, MulOp.Instance, DivOp.Instance, NegOp.Instance,
        new PowOp(3), SquareOp.Instance, SqrtOp.Instance, ExpOp.Instance, LogOp.Instance,
        SinOp.Instance, CosOp.Instance, TanhOp.Instance, SigmoidOp.Instance, ReluOp.Instance,
        SoftplusOp.Instance, AbsOp.Instance, SignOp.Instance, StepOp.Instance, SafeReciprocalOp.Instance, LogSigmoidOp.Instance,
        Log1pOp.Instance, Expm1Op.Instance, ReciprocalOp.Instance, ErfOp.Instance, GeluOp.Instance, PowTensorOp.Instance,
        GreaterOp.Instance, GreaterEqualOp.Instance, LessOp.Instance, LessEqualOp.Instance, EqualOp.Instance,
        WhereOp.Instance, MaximumOp.Instance, MinimumOp.Instance, new ClampOp(-1, 1),
        DotOp.Instance, MatVecOp.Instance, VecMatOp.Instance, MatMulOp.Instance, OuterOp.Instance, TransposeOp.Instance,
        InverseOp.Instance, SolveOp.Instance, DetOp.Instance, LogDetOp.Instance, CholeskyOp.Instance, TraceOp.Instance,
        DiagOp.Instance, DiagonalOp.Instance,
        SumOp.Instance, ColumnSumsOp.Instance, RowSumsOp.Instance,
        new MaxOp(0), new MinOp(1), new MaxWeightsOp(0), new LogSumExpOp(1), ProdOp.Instance, ProdOthersOp.Instance,
        new BroadcastScalarOp(Shape.Vector(3)), new BroadcastRowsOp(2), new BroadcastColumnsOp(2), NormOp.Instance,
        NormalizeOp.Instance,
        new IndexOp(1), new ScatterOp(Shape.Vector(3), 1),
        new ReshapeOp(Shape.Matrix(2, 3)), new ConcatOp(0), new SliceOp(0, 0, 1), new PadOp(0, 1, 1), new GatherOp([0]),
        new ScatterAddOp([0], 2), new RowOp(0), new ColumnOp(0),
        StopGradientOp.Instance,
        LogSoftmaxOp.Instance, SoftmaxCrossEntropyOp.Instance, new OneHotOp(3), BinaryCrossEntropyWithLogitsOp.Instance,
    ];
}
