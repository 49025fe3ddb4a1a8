using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff;

// The validating factories: the only way nodes are made. Static forms (Expr.Sin(x)) carry the names F# resolves
// for sin, exp, ... ; fluent forms (x.Sin()) and operators serve C#.
public abstract partial class Expr
{
    /// <summary>The most inputs an op may take.</summary>
    public const int MaxArity = 4;

    [InlineArray(MaxArity)]
    private struct ValueBuffer
    {
        private Value element0;
    }

    /// <summary>Builds a validated node applying <paramref name="op"/> to <paramref name="inputs"/>.</summary>
    internal static Expr Build(Op op, ImmutableArray<Expr> inputs)
    {
        Guard.NotNull(op);
        if (inputs.IsDefault) throw new ArgumentNullException(nameof(inputs), UserCode.Mark("The inputs array is a default (uninitialised) ImmutableArray."));
        var n = inputs.Length;
        if (n != op.Arity || n > MaxArity)
            throw new ArgumentException(UserCode.Mark($"{op.Name} takes {op.Arity} input(s) but was given {n}."), nameof(inputs));
        Span<Shape> shapes = stackalloc Shape[n];
        var allValued = true;
        AnomalyRecorder? recorder = null; // non-null only inside Anomaly's checked trace; a field read per input otherwise
        for (var k = 0; k < n; k++)
        {
            var input = inputs[k] ?? throw new ArgumentNullException(nameof(inputs), UserCode.Mark($"Input {k} of {op.Name} is null."));
            shapes[k] = input.Shape;
            allValued &= input.HasValue;
            recorder ??= input.Recorder;
        }
        var shape = op.InferShape(shapes);
        if (!allValued) return Recorded(new Apply(op, inputs, shape, false, default, recorder));
        var buffer = new ValueBuffer();
        Span<Value> values = buffer;
        for (var k = 0; k < n; k++) values[k] = inputs[k].Value;
        return Recorded(new Apply(op, inputs, shape, true, op.EvalChecked(values[..n], shape), recorder));
    }

    /// <summary>Tells the anomaly check's recorder, when the node has one, that the node was built.</summary>
    private static Apply Recorded(Apply node)
    {
        node.Recorder?.Built(node);
        return node;
    }

    /// <summary>Applies an op (a library op or your own <see cref="Op"/>) to inputs, checking arity and shapes.</summary>
    /// <exception cref="ArgumentNullException">The op or an input is null.</exception>
    /// <exception cref="ArgumentException">The number of inputs is not the op's arity.</exception>
    /// <exception cref="ShapeMismatchException">The shapes do not fit the op.</exception>
    public static Expr Create(Op op, params Expr[] inputs)
    {
        Guard.NotNull(inputs);
        return Build(op, ImmutableArray.Create(inputs));
    }

    /// <summary>Applies a one-input op.</summary>
    public static Expr Create(Op op, Expr x) => Build(op, ImmutableArray.Create(x));

    /// <summary>Applies a two-input op.</summary>
    public static Expr Create(Op op, Expr a, Expr b) => Build(op, ImmutableArray.Create(a, b));

    // ---------------------------------------------------------------- leaves and builders

    /// <summary>A constant (owns a copy of the value).</summary>
    public static Expr Const(Value value) => new Const(value);

    /// <summary>A scalar constant.</summary>
    public static Expr Const(double x) => new Const(Value.Scalar(x));

    /// <summary>A vector constant; the vector is copied.</summary>
    public static Expr Const(Vector<double> v) => new Const(Value.FromVector(v));

    /// <summary>A matrix constant; the matrix is copied.</summary>
    public static Expr Const(Matrix<double> m) => new Const(Value.FromMatrix(m));

    /// <summary>A symbolic variable of the given shape, to be bound later with <see cref="AD.Eval(Expr, IReadOnlyDictionary{Var, Value})"/>.</summary>
    /// <exception cref="ArgumentException">The name is null or empty.</exception>
    public static Var Var(string name, Shape shape)
    {
        Guard.NotNullOrEmpty(name);
        return new Var(name, shape);
    }

    /// <summary>A traced variable carrying a value: every node built on it has a value, and gradients can be taken with respect to it.</summary>
    /// <exception cref="ArgumentException">The name is null or empty.</exception>
    public static Var Var(string name, Value value)
    {
        Guard.NotNullOrEmpty(name);
        return new Var(name, value);
    }

    /// <summary>The m×n matrix with ones on the main diagonal (PyTorch's <c>eye(m, n)</c>).</summary>
    public static Expr Eye(int rows, int cols)
    {
        var shape = Shape.Matrix(rows, cols);
        var d = new double[shape.Size];
        for (var k = 0; k < Math.Min(rows, cols); k++) d[k * rows + k] = 1;
        return new Const(Value.Own(shape, d));
    }

    /// <summary>The n×n identity matrix.</summary>
    public static Expr Eye(int n) => Eye(n, n);

    /// <summary>A constant of the given shape filled with <paramref name="x"/>.</summary>
    public static Expr Full(Shape shape, double x) => new Const(Value.Full(shape, x));

    /// <summary>Ones of the given shape.</summary>
    public static Expr Ones(Shape shape) => Full(shape, 1.0);

    /// <summary>Zeros of the given shape.</summary>
    public static Expr Zeros(Shape shape) => Full(shape, 0.0);

    /// <summary>Ones of <paramref name="x"/>'s shape.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public static Expr OnesLike(Expr x) => Ones((x ?? throw new ArgumentNullException(nameof(x), UserCode.Mark("x is null."))).Shape);

    /// <summary>Zeros of <paramref name="x"/>'s shape.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public static Expr ZerosLike(Expr x) => Zeros((x ?? throw new ArgumentNullException(nameof(x), UserCode.Mark("x is null."))).Shape);

    /// <summary>The vector [0, 1, …, n−1] (PyTorch's <c>arange(n)</c>).</summary>
    public static Expr Arange(int n) => Arange(0, n, 1);

    /// <summary>The vector [start, start + step, …] of numbers below <paramref name="stop"/> (above it for a negative step).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The step is zero or not finite, or the range is empty.</exception>
    public static Expr Arange(double start, double stop, double step = 1.0)
    {
        if (step == 0 || !double.IsFinite(step)) throw new ArgumentOutOfRangeException(nameof(step), step, UserCode.Mark("arange needs a finite, non-zero step."));
        var count = (int)Math.Ceiling((stop - start) / step);
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(stop), stop, UserCode.Mark($"arange({start}, {stop}, {step}) is empty."));
        var d = new double[count];
        for (var k = 0; k < count; k++) d[k] = start + k * step;
        return new Const(Value.Own(Shape.Vector(count), d));
    }

    // ---------------------------------------------------------------- conversions and operators

    /// <summary>A scalar constant.</summary>
    public static implicit operator Expr(double x) => Const(x);

    /// <summary>The constant 0, the zero F#'s <c>List.sum</c> and <c>Seq.sum</c> start from: <c>List.sum [ a; b; c ]</c> on graphs.</summary>
    public static Expr Zero => Const(0.0);

    /// <summary>A constant holding the value (values are immutable, so nothing is copied).</summary>
    public static implicit operator Expr(Value v) => Const(v);

    /// <summary>A vector constant (copied).</summary>
    public static implicit operator Expr(Vector<double> v) => Const(v);

    /// <summary>A matrix constant (copied).</summary>
    public static implicit operator Expr(Matrix<double> m) => Const(m);

    /// <summary>Element-wise sum, broadcasting as NumPy does (a scalar with anything, a row onto every row, a column onto every column).</summary>
    public static Expr operator +(Expr a, Expr b) => Add(a, b);
    /// <summary>Adds a number to every element.</summary>
    public static Expr operator +(Expr a, double b) => Add(a, Const(b));
    /// <summary>Adds a number to every element.</summary>
    public static Expr operator +(double a, Expr b) => Add(Const(a), b);
    /// <summary>Element-wise difference.</summary>
    public static Expr operator -(Expr a, Expr b) => Sub(a, b);
    /// <summary>Subtracts a number from every element.</summary>
    public static Expr operator -(Expr a, double b) => Sub(a, Const(b));
    /// <summary>A number minus every element.</summary>
    public static Expr operator -(double a, Expr b) => Sub(Const(a), b);
    /// <summary>Element-wise (Hadamard) product; for matrix products use <see cref="MatMul(Expr, Expr)"/>.</summary>
    public static Expr operator *(Expr a, Expr b) => Mul(a, b);
    /// <summary>Scales every element.</summary>
    public static Expr operator *(Expr a, double b) => Mul(a, Const(b));
    /// <summary>Scales every element.</summary>
    public static Expr operator *(double a, Expr b) => Mul(Const(a), b);
    /// <summary>Element-wise quotient.</summary>
    public static Expr operator /(Expr a, Expr b) => Div(a, b);
    /// <summary>Divides every element by a number.</summary>
    public static Expr operator /(Expr a, double b) => Div(a, Const(b));
    /// <summary>A number divided by every element.</summary>
    public static Expr operator /(double a, Expr b) => Div(Const(a), b);
    /// <summary>Negation.</summary>
    public static Expr operator -(Expr x) => Neg(x);

    /// <summary>Element-wise power with a constant exponent (F#'s <c>x ** 2.0</c>).</summary>
    public static Expr Pow(Expr x, double exponent) => Create(PowOp.For(exponent), x);

    /// <summary>
    /// Element-wise power with a tensor exponent, x^y (F#'s <c>x ** y</c> for a graph y), broadcasting as NumPy does.
    /// Each element is Math.Pow, so whole exponents are exact (2^3 is 8); for x &gt; 0 it is exp(y·ln x). The derivatives
    /// are y·x^(y−1) and x^y·ln x, with PyTorch's zeros where y = 0 and where x = 0 ≤ y.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Pow(Expr x, Expr exponent) => Create(PowTensorOp.Instance, x, exponent);

    /// <summary>The mask of a &gt; b element-wise: 1 where it holds, 0 elsewhere (and at NaN); no derivative flows through it.</summary>
    public static Expr operator >(Expr a, Expr b) => Greater(a, b);
    /// <summary>The mask of a &lt; b element-wise: 1 where it holds, 0 elsewhere (and at NaN); no derivative flows through it.</summary>
    public static Expr operator <(Expr a, Expr b) => Less(a, b);
    /// <summary>The mask of a ≥ b element-wise: 1 where it holds, 0 elsewhere (and at NaN); no derivative flows through it.</summary>
    public static Expr operator >=(Expr a, Expr b) => GreaterEqual(a, b);
    /// <summary>The mask of a ≤ b element-wise: 1 where it holds, 0 elsewhere (and at NaN); no derivative flows through it.</summary>
    public static Expr operator <=(Expr a, Expr b) => LessEqual(a, b);

    // ---------------------------------------------------------------- static forms

    /// <summary>Element-wise sum, broadcasting as NumPy does within rank ≤ 2.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast; the message names both and the fix.</exception>
    public static Expr Add(Expr a, Expr b) => Create(AddOp.Instance, a, b);
    /// <summary>Element-wise difference, broadcasting as NumPy does within rank ≤ 2.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Sub(Expr a, Expr b) => Create(SubOp.Instance, a, b);
    /// <summary>Element-wise product, broadcasting as NumPy does within rank ≤ 2.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Mul(Expr a, Expr b) => Create(MulOp.Instance, a, b);
    /// <summary>Element-wise quotient, broadcasting as NumPy does within rank ≤ 2.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Div(Expr a, Expr b) => Create(DivOp.Instance, a, b);
    /// <summary>Negation.</summary>
    public static Expr Neg(Expr x) => Create(NegOp.Instance, x);
    /// <summary>Element-wise square.</summary>
    public static Expr Square(Expr x) => Create(SquareOp.Instance, x);
    /// <summary>Element-wise square root.</summary>
    public static Expr Sqrt(Expr x) => Create(SqrtOp.Instance, x);
    /// <summary>Element-wise exponential.</summary>
    public static Expr Exp(Expr x) => Create(ExpOp.Instance, x);
    /// <summary>Element-wise natural logarithm.</summary>
    public static Expr Log(Expr x) => Create(LogOp.Instance, x);
    /// <summary>Element-wise sine.</summary>
    public static Expr Sin(Expr x) => Create(SinOp.Instance, x);
    /// <summary>Element-wise cosine.</summary>
    public static Expr Cos(Expr x) => Create(CosOp.Instance, x);
    /// <summary>Element-wise hyperbolic tangent.</summary>
    public static Expr Tanh(Expr x) => Create(TanhOp.Instance, x);
    /// <summary>Element-wise logistic sigmoid.</summary>
    public static Expr Sigmoid(Expr x) => Create(SigmoidOp.Instance, x);
    /// <summary>Element-wise max(x, 0).</summary>
    public static Expr Relu(Expr x) => Create(ReluOp.Instance, x);
    /// <summary>Element-wise ln(1 + eˣ), computed stably.</summary>
    public static Expr Softplus(Expr x) => Create(SoftplusOp.Instance, x);
    /// <summary>Element-wise log σ(x) = −softplus(−x), computed stably (log_sigmoid(−1000) is −1000, its derivative 1).</summary>
    public static Expr LogSigmoid(Expr x) => Create(LogSigmoidOp.Instance, x);
    /// <summary>Element-wise absolute value.</summary>
    public static Expr Abs(Expr x) => Create(AbsOp.Instance, x);
    /// <summary>Element-wise ln(1 + x), accurate for small x (log1p(1e-10) is 1e-10 to the last digits).</summary>
    public static Expr Log1p(Expr x) => Create(Log1pOp.Instance, x);
    /// <summary>Element-wise eˣ − 1, accurate for small x (expm1(1e-10) is 1.00000000005e-10).</summary>
    public static Expr Expm1(Expr x) => Create(Expm1Op.Instance, x);
    /// <summary>Element-wise sign, −1, 0 or 1 (NaN gives 0); piecewise constant, so no derivative flows through it.</summary>
    public static Expr Sign(Expr x) => Create(SignOp.Instance, x);
    /// <summary>Element-wise 1/x (±∞ at ±0, as PyTorch's reciprocal).</summary>
    public static Expr Reciprocal(Expr x) => Create(ReciprocalOp.Instance, x);
    /// <summary>Element-wise error function erf x.</summary>
    public static Expr Erf(Expr x) => Create(ErfOp.Instance, x);
    /// <summary>Element-wise GELU x·Φ(x) in its exact erf form (torch.nn.functional.gelu's default, not the tanh approximation).</summary>
    public static Expr Gelu(Expr x) => Create(GeluOp.Instance, x);

    /// <summary>The mask of a &gt; b element-wise, broadcasting as NumPy does: 1 where it holds, 0 elsewhere (also where either is NaN). No derivative flows through a mask.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Greater(Expr a, Expr b) => Create(GreaterOp.Instance, a, b);
    /// <summary>The mask of a ≥ b element-wise, broadcasting as NumPy does: 1 where it holds, 0 elsewhere (also at NaN). No derivative flows through it.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr GreaterEqual(Expr a, Expr b) => Create(GreaterEqualOp.Instance, a, b);
    /// <summary>The mask of a &lt; b element-wise, broadcasting as NumPy does: 1 where it holds, 0 elsewhere (also at NaN). No derivative flows through it.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Less(Expr a, Expr b) => Create(LessOp.Instance, a, b);
    /// <summary>The mask of a ≤ b element-wise, broadcasting as NumPy does: 1 where it holds, 0 elsewhere (also at NaN). No derivative flows through it.</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr LessEqual(Expr a, Expr b) => Create(LessEqualOp.Instance, a, b);
    /// <summary>
    /// The mask of a = b element-wise, broadcasting as NumPy does: 1 where equal (−0 equals +0), 0 elsewhere (NaN equals
    /// nothing). No derivative flows through it. (A method, not <c>==</c>, which stays reference equality on graphs.)
    /// </summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Equal(Expr a, Expr b) => Create(EqualOp.Instance, a, b);

    /// <summary>
    /// <paramref name="a"/> where <paramref name="condition"/> is non-zero, <paramref name="b"/> where it is 0 (NumPy's and
    /// PyTorch's <c>where</c>; a mask from Greater, Less, … or a 0/1 value), the three broadcasting as NumPy does. The
    /// gradient flows to a where the condition holds and to b where it does not, none to the condition; the unselected
    /// input is never read, so an infinity there does not reach the value or the gradient.
    /// </summary>
    /// <exception cref="ArgumentNullException">An input is null.</exception>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast; the message names them.</exception>
    /// <example><c>Expr.Where(x &gt; 0.0, x, 0.1 * x)</c> is a leaky relu.</example>
    public static Expr Where(Expr condition, Expr a, Expr b) => Build(WhereOp.Instance, [condition, a, b]);

    /// <summary>
    /// The element-wise maximum, broadcasting as NumPy does (NaN if either is NaN). At a tie the gradient splits
    /// evenly, ½ to each input, as torch.maximum's does.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Maximum(Expr a, Expr b) => Create(MaximumOp.Instance, a, b);

    /// <summary>The element-wise minimum, broadcasting as NumPy does (NaN if either is NaN); at a tie the gradient splits ½ each (as torch.minimum).</summary>
    /// <exception cref="ShapeMismatchException">The shapes do not broadcast.</exception>
    public static Expr Minimum(Expr a, Expr b) => Create(MinimumOp.Instance, a, b);

    /// <summary>
    /// Each element limited to [<paramref name="min"/>, <paramref name="max"/>] (NaN stays NaN); an infinite bound limits
    /// one side only. The derivative is 1 inside and at the bounds (as torch.clamp) and 0 outside.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A bound is NaN, or min &gt; max.</exception>
    public static Expr Clamp(Expr x, double min, double max) => Create(new ClampOp(min, max), x);

    /// <summary>The value of <paramref name="x"/> with no derivative flowing through it, at any order.</summary>
    public static Expr StopGradient(Expr x) => Create(StopGradientOp.Instance, x);

    /// <summary>The dot product of two vectors of one length.</summary>
    public static Expr Dot(Expr a, Expr b) => Create(DotOp.Instance, a, b);

    /// <summary>
    /// The product by shapes, like <c>torch.matmul</c>: matrix·matrix, matrix·vector, vector·matrix, and vector·vector (the dot product).
    /// </summary>
    public static Expr MatMul(Expr a, Expr b)
    {
        Guard.NotNull(a);
        Guard.NotNull(b);
        return (a.Shape.Rank, b.Shape.Rank) switch
        {
            (2, 1) => Create(MatVecOp.Instance, a, b),
            (1, 2) => Create(VecMatOp.Instance, a, b),
            (1, 1) => Create(DotOp.Instance, a, b),
            _ => Create(MatMulOp.Instance, a, b),
        };
    }

    /// <summary>The outer product a·bᵀ of two vectors.</summary>
    public static Expr Outer(Expr a, Expr b) => Create(OuterOp.Instance, a, b);
    /// <summary>The transpose of a matrix.</summary>
    public static Expr Transpose(Expr x) => Create(TransposeOp.Instance, x);

    // ---------------------------------------------------------------- linear algebra (Ops/LinearAlgebra.cs)

    /// <summary>The inverse A⁻¹ of a square matrix (PyTorch's <c>linalg.inv</c>), by MathNet's LU factorisation.</summary>
    /// <remarks>To solve A x = b, use <see cref="Solve(Expr, Expr)"/>: it is cheaper and more accurate than the inverse.</remarks>
    /// <exception cref="ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="LinearAlgebraException">A is singular (a zero pivot, or a result that overflows), when its value is computed.</exception>
    /// <example><c>Expr.Inverse(Value.FromRows([4.0, 7.0], [2.0, 6.0]))</c> is <c>[[0.6, -0.7], [-0.2, 0.4]]</c>.</example>
    public static Expr Inverse(Expr a) => Create(InverseOp.Instance, a);

    /// <summary>
    /// The solution X of A X = B for a square matrix A and a right-hand side B that is a vector(n) or a matrix(n, k)
    /// (PyTorch's <c>linalg.solve</c>), by MathNet's LU factorisation. Its derivatives are solves too (with A and
    /// Aᵀ), never an explicit inverse.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A is not square, or B's length (rows) is not A's rows; where the node is built.</exception>
    /// <exception cref="LinearAlgebraException">A is singular, when the value is computed.</exception>
    /// <example><c>Expr.Solve(Value.FromRows([2.0, 0.0], [0.0, 4.0]), Value.FromArray(2.0, 2.0))</c> is <c>[1, 0.5]</c>.</example>
    public static Expr Solve(Expr a, Expr b) => Create(SolveOp.Instance, a, b);

    /// <summary>The determinant of a square matrix (PyTorch's <c>linalg.det</c>), by MathNet's LU factorisation.</summary>
    /// <remarks>
    /// The value of a singular matrix is 0; its derivatives (y·A⁻ᵀ) need A⁻¹, so at a singular matrix they are refused
    /// with the <see cref="LinearAlgebraException"/> of inverse.
    /// </remarks>
    /// <exception cref="ShapeMismatchException">A is not a square matrix.</exception>
    /// <example><c>Expr.Det(Value.FromRows([4.0, 7.0], [2.0, 6.0]))</c> is <c>10</c>.</example>
    public static Expr Det(Expr a) => Create(DetOp.Instance, a);

    /// <summary>
    /// log det A for a square matrix of positive determinant (PyTorch's <c>logdet</c>), summed from the logs of the LU
    /// pivots, so it stays finite where det A overflows; its gradient is A⁻ᵀ.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="LinearAlgebraException">
    /// The determinant is negative or zero, when the value is computed (PyTorch returns NaN or −∞ there); the message gives
    /// the sign. For log |det A| use <c>Log(Abs(Det(A)))</c>.
    /// </exception>
    /// <example><c>Expr.LogDet(Value.FromRows([2.0, 1.0], [1.0, 2.0]))</c> is <c>log 3</c>.</example>
    public static Expr LogDet(Expr a) => Create(LogDetOp.Instance, a);

    /// <summary>
    /// The lower-triangular Cholesky factor L of a symmetric positive-definite matrix, L Lᵀ = A (PyTorch's
    /// <c>linalg.cholesky</c>), by MathNet's Cholesky factorisation. The factor is that of the symmetric part
    /// (A + Aᵀ)/2, as in JAX, so the op is defined (and differentiable) in every direction and its gradient is symmetric.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="LinearAlgebraException">A is not positive definite, when the value is computed.</exception>
    /// <example><c>Expr.Cholesky(Value.FromRows([4.0, 2.0], [2.0, 5.0]))</c> is <c>[[2, 0], [1, 2]]</c>.</example>
    public static Expr Cholesky(Expr a) => Create(CholeskyOp.Instance, a);

    /// <summary>The trace Σᵢ Aᵢᵢ of a matrix: the sum of its main diagonal (any m×n, as <c>torch.trace</c>).</summary>
    /// <exception cref="ShapeMismatchException">The input is not a matrix.</exception>
    public static Expr Trace(Expr a) => Create(TraceOp.Instance, a);

    /// <summary>
    /// As <c>torch.diag</c> and <c>numpy.diag</c>: of a vector(n), the n×n matrix with it on the diagonal (op
    /// <c>diag</c>); of a matrix(m, n), its main diagonal, a vector(min(m, n)) (op <c>diagonal</c>, as <see cref="Diagonal"/>).
    /// </summary>
    /// <exception cref="ShapeMismatchException">The input is a scalar.</exception>
    public static Expr Diag(Expr x)
    {
        Guard.NotNull(x);
        return x.Shape.IsMatrix ? Create(DiagonalOp.Instance, x) : Create(DiagOp.Instance, x);
    }

    /// <summary>The main diagonal of a matrix(m, n), a vector(min(m, n)) (<c>torch.diagonal</c>).</summary>
    /// <exception cref="ShapeMismatchException">The input is not a matrix.</exception>
    public static Expr Diagonal(Expr x) => Create(DiagonalOp.Instance, x);

    /// <summary>
    /// Aᵏ for a square matrix and a whole k ≥ 0 (PyTorch's <c>linalg.matrix_power</c>): the identity for k = 0, otherwise
    /// ⌊log₂ k⌋ squarings and a matmul per further bit of k. It is a graph of matmuls, not an op of its own, so its
    /// derivatives are those of matmul.
    /// </summary>
    /// <exception cref="ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException">k is negative: use <c>MatrixPower(Inverse(A), -k)</c>.</exception>
    /// <example><c>Expr.MatrixPower(Value.FromRows([1.0, 1.0], [0.0, 1.0]), 3)</c> is <c>[[1, 3], [0, 1]]</c>.</example>
    public static Expr MatrixPower(Expr a, int k)
    {
        Guard.NotNull(a);
        LinAlg.RequireSquare("matrix_power", a.Shape);
        if (k < 0)
            throw new ArgumentOutOfRangeException(nameof(k), k,
                UserCode.Mark($"matrix_power takes a power k ≥ 0, not {k}: for a negative power use MatrixPower(Inverse(A), -k)."));
        if (k == 0) return Eye(a.Shape.Rows);
        // Binary powering: the result gathers A^(2^j) for every set bit j of k (the powers of A commute).
        Expr? result = null;
        var square = a;
        while (true)
        {
            if ((k & 1) != 0) result = result is null ? square : MatMul(result, square);
            k >>= 1;
            if (k == 0) return result!;
            square = MatMul(square, square);
        }
    }

    /// <summary>The sum of all elements.</summary>
    public static Expr Sum(Expr x) => Create(SumOp.Instance, x);
    /// <summary>The mean of all elements.</summary>
    public static Expr Mean(Expr x) => Sum(x) / x.Shape.Size;
    /// <summary>The column totals of a matrix(m, n), a vector(n).</summary>
    public static Expr ColumnSums(Expr x) => Create(ColumnSumsOp.Instance, x);
    /// <summary>The row totals of a matrix(m, n), a vector(m).</summary>
    public static Expr RowSums(Expr x) => Create(RowSumsOp.Instance, x);
    /// <summary>The L2 norm (Frobenius for a matrix); its gradient at 0 is 0.</summary>
    public static Expr Norm(Expr x) => Create(NormOp.Instance, x);

    // ---------------------------------------------------------------- reductions along an axis

    /// <summary>Checks <paramref name="axis"/> for a reduction named <paramref name="op"/> of <paramref name="x"/>, where the node is built.</summary>
    private static int CheckReductionAxis(string op, Expr x, int axis)
    {
        Guard.NotNull(x);
        ShapeRules.CheckAxis(op, axis);
        ShapeRules.CheckAxisFits(op, x.Shape, axis);
        return axis;
    }

    /// <summary>
    /// The sums along <paramref name="axis"/>, as NumPy's <c>sum(axis=…)</c>: axis 0 sums over the rows (a matrix(m, n)
    /// gives the column totals, a vector(n); a vector gives its total, a scalar), axis 1 over the columns (a matrix(m, n)
    /// gives the row totals, a vector(m)). The same nodes as <see cref="Sum(Expr)"/>, <see cref="ColumnSums"/> and
    /// <see cref="RowSums"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    /// <example><c>Expr.Sum(m, 0)</c> of m = [[1, 2], [3, 4]] is [4, 6]; <c>Expr.Sum(m, 1)</c> is [3, 7].</example>
    public static Expr Sum(Expr x, int axis)
    {
        CheckReductionAxis("sum", x, axis);
        return AxisReduction.SumAlong(x, axis);
    }

    /// <summary>The means along <paramref name="axis"/> (see <see cref="Sum(Expr, int)"/>), as NumPy's <c>mean(axis=…)</c>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    public static Expr Mean(Expr x, int axis)
    {
        CheckReductionAxis("mean", x, axis);
        return AxisReduction.SumAlong(x, axis) / ShapeRules.Extent(x.Shape, axis);
    }

    /// <summary>
    /// The largest element (NumPy's <c>amax</c>; NaN if any element is NaN). At ties the gradient is split evenly among
    /// the elements equal to the max, as PyTorch's <c>torch.amax</c> (not <c>torch.max(dim)</c>, which picks one index).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <example>The gradient of <c>Expr.Max</c> at [1, 3, 3] is [0, 0.5, 0.5].</example>
    public static Expr Max(Expr x) => Create(new MaxOp(), x);

    /// <summary>
    /// The largest elements along <paramref name="axis"/>, as <c>torch.amax(x, dim)</c>: axis 0 the max of each column (a
    /// vector(n) of a matrix(m, n); a scalar of a vector), axis 1 of each row (a vector(m)). Ties split the gradient evenly.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    public static Expr Max(Expr x, int axis) => Create(new MaxOp(CheckReductionAxis("max", x, axis)), x);

    /// <summary>
    /// The smallest element (NumPy's <c>amin</c>; NaN if any element is NaN). At ties the gradient is split evenly
    /// among the elements equal to the min, as PyTorch's <c>torch.amin</c>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public static Expr Min(Expr x) => Create(new MinOp(), x);

    /// <summary>
    /// The smallest elements along <paramref name="axis"/>, as <c>torch.amin(x, dim)</c>: axis 0 of each column, axis 1
    /// of each row (see <see cref="Max(Expr, int)"/>). Ties split the gradient evenly.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    public static Expr Min(Expr x, int axis) => Create(new MinOp(CheckReductionAxis("min", x, axis)), x);

    /// <summary>
    /// log Σ eˣ over all elements, as <c>torch.logsumexp</c>, stable at any finite logits (±1e15 too): computed as
    /// max + log Σ e^{x − max}. Its gradient is the softmax of all elements; the max contributes no gradient of its own.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public static Expr LogSumExp(Expr x) => Create(new LogSumExpOp(), x);

    /// <summary>
    /// log Σ eˣ along <paramref name="axis"/>, as <c>torch.logsumexp(x, dim)</c>: axis 0 of each column, axis 1 of each
    /// row. Stable at any finite logits; its gradient is the softmax along the same axis.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    public static Expr LogSumExp(Expr x, int axis) => Create(new LogSumExpOp(CheckReductionAxis("log_sum_exp", x, axis)), x);

    /// <summary>
    /// log-softmax along <paramref name="axis"/>, as <c>torch.log_softmax(x, dim)</c>: axis 1 normalises each row of a
    /// matrix (as <see cref="LogSoftmax(Expr)"/>), axis 0 each column; a vector takes axis 0. Stable at any finite logits.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    public static Expr LogSoftmax(Expr x, int axis) => AxisReduction.LogSoftmaxAlong(x, CheckReductionAxis("log_softmax", x, axis));

    /// <summary>
    /// softmax along <paramref name="axis"/>, as <c>torch.softmax(x, dim)</c>: axis 1 normalises each row of a matrix
    /// (as <see cref="Softmax(Expr)"/>), axis 0 each column; a vector takes axis 0. The exp of <see cref="LogSoftmax(Expr, int)"/>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    public static Expr Softmax(Expr x, int axis) => Exp(LogSoftmax(x, axis));

    /// <summary>
    /// The product of all elements, as <c>torch.prod</c>. Its gradient is right with zeros and divides by nothing: with
    /// one zero it is the product of the others at the zero and 0 elsewhere, with two or more zeros it is 0.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <example>The gradient of <c>Expr.Prod</c> at [2, 0, 3] is [0, 6, 0].</example>
    public static Expr Prod(Expr x) => Create(ProdOp.Instance, x);
    /// <summary>log-softmax of a vector, or of each row of a matrix.</summary>
    public static Expr LogSoftmax(Expr x) => Create(LogSoftmaxOp.Instance, x);
    /// <summary>softmax of a vector, or of each row of a matrix (exp of log-softmax).</summary>
    public static Expr Softmax(Expr x) => Exp(LogSoftmax(x));

    /// <summary>
    /// Softmax cross-entropy of a logits vector against one integer class (a matrix with one row also takes one class).
    /// The class becomes a constant input of the node (see <see cref="SoftmaxCrossEntropyOp"/>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> is null.</exception>
    /// <exception cref="ShapeMismatchException">The logits are a scalar.</exception>
    /// <exception cref="ArgumentException">The logits are a matrix of more than one row: give one class per row.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The class is outside 0 to n − 1 for n classes; the message gives the range.</exception>
    public static Expr SoftmaxCrossEntropy(Expr logits, int label) => SoftmaxCrossEntropy(logits, [label]);

    /// <summary>
    /// Softmax cross-entropy of a logits matrix (one row per example) against one integer class per row, averaged over
    /// rows; for a logits vector, one class. The classes become a constant input of the node (a vector(m), or a scalar
    /// for a vector of logits), so a new minibatch of classes makes a new constant, never a new op.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="labels"/> is null.</exception>
    /// <exception cref="ShapeMismatchException">The logits are a scalar.</exception>
    /// <exception cref="ArgumentException">The number of labels is not the number of rows.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A label is outside 0 to n − 1 for n classes; the message names its row and the range.</exception>
    public static Expr SoftmaxCrossEntropy(Expr logits, IEnumerable<int> labels)
    {
        Guard.NotNull(logits);
        Guard.NotNull(labels);
        return Create(SoftmaxCrossEntropyOp.Instance, logits, SoftmaxCrossEntropyOp.ClassesConstant(logits.Shape, labels));
    }

    /// <summary>
    /// Softmax cross-entropy of logits against classes given as a graph: a scalar class for a logits vector, a vector(m)
    /// with one class per row for a logits matrix(m, n), each a whole number 0 to n − 1 stored as a double (PyTorch's
    /// <c>cross_entropy(logits, target)</c> with the default mean reduction). Use it when the classes are an input of a
    /// compiled function (one program for every minibatch of that size, the classes read at each call) rather than a
    /// constant baked into the graph. No derivative flows to the classes.
    /// </summary>
    /// <remarks>The classes are checked (whole and in range) when the node is evaluated, with the same messages as the
    /// integer overload's, naming the row and the valid classes.</remarks>
    /// <exception cref="ArgumentNullException"><paramref name="logits"/> or <paramref name="classes"/> is null.</exception>
    /// <exception cref="ShapeMismatchException">The logits are a scalar, or the classes are not one per row.</exception>
    /// <example><c>Compiled.ValueAndGrad&lt;(Params, Value, Value), (ParamVars, Expr, Expr)&gt;(t =&gt; Expr.SoftmaxCrossEntropy(Model(t.Item1, t.Item2), t.Item3), Wrt.Args(0))</c></example>
    public static Expr SoftmaxCrossEntropy(Expr logits, Expr classes) => Create(SoftmaxCrossEntropyOp.Instance, logits, classes);

    /// <summary>PyTorch's <c>binary_cross_entropy_with_logits</c> (mean over elements), stable for large logits.</summary>
    public static Expr BinaryCrossEntropyWithLogits(Expr logits, Expr targets) => Create(BinaryCrossEntropyWithLogitsOp.Instance, logits, targets);

    /// <summary>Mean squared error, mean((a − b)²).</summary>
    public static Expr MeanSquaredError(Expr prediction, Expr target) => Mean(Square(prediction - target));

    /// <summary>
    /// Broadcasts <paramref name="x"/> to <paramref name="shape"/> as NumPy's <c>broadcast_to</c> within rank ≤ 2: a
    /// scalar (or a single element) to anything, a vector(n) or matrix(1, n) to every row of a matrix(m, n), a
    /// matrix(m, 1) to every column. Built from the linear broadcast ops (and reshapes), whose transposes are the sums
    /// of <see cref="SumTo"/>.
    /// </summary>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/>'s shape does not broadcast to <paramref name="shape"/>.</exception>
    public static Expr BroadcastTo(Expr x, Shape shape)
    {
        Guard.NotNull(x);
        if (x.Shape == shape) return x;
        if (!Broadcasting.BroadcastsTo(x.Shape, shape))
            throw new ShapeMismatchException("broadcast", x.Shape, shape,
                "Only shapes that broadcast as NumPy's do reach the target: a scalar to anything, a vector(n) or matrix(1, n) to the rows of a matrix(m, n), a matrix(m, 1) to its columns.");
        if (x.Shape.Size == shape.Size) return Reshape(x, shape); // vector(n) ↔ matrix(1, n), vector(1) ↔ matrix(1, 1)
        if (x.Shape.Size == 1) return Create(new BroadcastScalarOp(shape), Reshape(x, Shape.Scalar));
        var (r, _) = Broadcasting.Aligned(x.Shape);
        return r == 1
            ? Create(new BroadcastRowsOp(shape.Rows), Reshape(x, Shape.Vector(x.Shape.Size)))
            : Create(new BroadcastColumnsOp(shape.Cols), Reshape(x, Shape.Vector(x.Shape.Size)));
    }

    /// <summary>
    /// The transpose of <see cref="BroadcastTo"/>: sums <paramref name="x"/> over the axes along which
    /// <paramref name="shape"/> was broadcast to x's shape (all elements, the rows, or the columns), giving
    /// <paramref name="shape"/>.
    /// </summary>
    /// <exception cref="ShapeMismatchException"><paramref name="shape"/> does not broadcast to x's shape.</exception>
    public static Expr SumTo(Expr x, Shape shape)
    {
        Guard.NotNull(x);
        if (x.Shape == shape) return x;
        if (!Broadcasting.BroadcastsTo(shape, x.Shape))
            throw new ShapeMismatchException("sum_to", x.Shape, shape,
                "The target must be a shape that broadcasts to x's: a scalar, a vector(n) or matrix(1, n) from a matrix(m, n), or a matrix(m, 1) from it.");
        if (x.Shape.Size == shape.Size) return Reshape(x, shape);
        if (shape.Size == 1) return Reshape(Sum(x), shape);
        var (r, _) = Broadcasting.Aligned(shape);
        return Reshape(r == 1 ? ColumnSums(x) : RowSums(x), shape);
    }

    // ---------------------------------------------------------------- shapes

    /// <summary>
    /// <paramref name="x"/> with the shape <paramref name="shape"/>, its elements kept in row-major order (as NumPy's
    /// and PyTorch's <c>reshape</c>, whatever the storage order): vector(m·n) ↔ matrix(m, n), matrix(m, n) ↔ matrix(p, q)
    /// with p·q = m·n, and a scalar ↔ vector(1) or matrix(1, 1). Reshaping to x's own shape returns x itself.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ShapeMismatchException">The shapes have different numbers of elements; the message gives both.</exception>
    /// <example><c>Expr.Reshape(v, Shape.Matrix(2, 3))</c> of v = [1, 2, 3, 4, 5, 6] has rows [1, 2, 3] and [4, 5, 6].</example>
    public static Expr Reshape(Expr x, Shape shape)
    {
        Guard.NotNull(x);
        return x.Shape == shape ? x : Create(new ReshapeOp(shape), x);
    }

    /// <summary>
    /// The elements of <paramref name="x"/> as a vector, in row-major order (a matrix's rows one after another, as
    /// NumPy's <c>flatten</c>); a vector is returned as it is, and a scalar becomes vector(1) (NumPy flattens a 0-d array
    /// to shape (1,)).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    public static Expr Flatten(Expr x)
    {
        Guard.NotNull(x);
        return Reshape(x, Shape.Vector(x.Shape.Size));
    }

    /// <summary>
    /// The parts joined along <paramref name="axis"/>: vectors end to end (axis 0), matrices one above the other
    /// (axis 0: equal columns) or side by side (axis 1: equal rows), as NumPy's <c>concatenate</c>. One part is returned
    /// as it is. Many parts are joined as a balanced tree of two-input concat nodes.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or a part is null.</exception>
    /// <exception cref="ArgumentException">There are no parts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException">
    /// A part is a scalar, parts mix vectors and matrices, vectors are joined along axis 1, or the sides that must
    /// match do not; the message names the parts, their shapes and the fix.
    /// </exception>
    /// <example><c>Expr.Concat(0, a, b)</c> of matrices a (2×3) and b (1×3) is 3×3, a's rows then b's.</example>
    public static Expr Concat(int axis, params Expr[] parts)
    {
        Guard.NotNull(parts);
        ShapeRules.CheckAxis("concat", axis);
        if (parts.Length == 0)
            throw new ArgumentException(UserCode.Mark("concat needs at least one part."), nameof(parts));
        for (var k = 0; k < parts.Length; k++)
            if (parts[k] is null) throw new ArgumentNullException(nameof(parts), UserCode.Mark($"concat: part {k} is null."));
        // Every part against the first, so the message names the part that does not fit (not a node of the tree).
        for (var k = 1; k < parts.Length; k++) ConcatOp.Joined(parts[0].Shape, parts[k].Shape, axis, 0, k);
        if (parts.Length == 1) ConcatOp.Joined(parts[0].Shape, parts[0].Shape, axis, 0, 0);
        return Balanced(new ConcatOp(axis), parts);
    }

    /// <summary>The parts joined along axis 0: vectors end to end, matrices one above the other (see <see cref="Concat(int, Expr[])"/>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or a part is null.</exception>
    /// <exception cref="ArgumentException">There are no parts.</exception>
    /// <exception cref="ShapeMismatchException">The parts do not fit; the message names them and the fix.</exception>
    public static Expr Concat(params Expr[] parts) => Concat(0, parts);

    /// <summary>
    /// Parts of one shape stacked along a new axis, as NumPy's <c>stack</c>: vectors(n) as the rows of a matrix(k, n)
    /// (axis 0) or as its columns, a matrix(n, k) (axis 1); scalars into a vector(k) (axis 0).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or a part is null.</exception>
    /// <exception cref="ArgumentException">There are no parts.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <exception cref="ShapeMismatchException">
    /// The parts have different shapes, are matrices (values are at most matrices: use Concat), or are scalars stacked
    /// along axis 1.
    /// </exception>
    /// <example><c>Expr.Stack(0, u, v)</c> of two vector(3) is a matrix(2, 3) with rows u and v; <c>Expr.Stack(1, u, v)</c> is matrix(3, 2).</example>
    public static Expr Stack(int axis, params Expr[] parts)
    {
        Guard.NotNull(parts);
        ShapeRules.CheckAxis("stack", axis);
        if (parts.Length == 0)
            throw new ArgumentException(UserCode.Mark("stack needs at least one part."), nameof(parts));
        for (var k = 0; k < parts.Length; k++)
            if (parts[k] is null) throw new ArgumentNullException(nameof(parts), UserCode.Mark($"stack: part {k} is null."));
        var s = parts[0].Shape;
        for (var k = 1; k < parts.Length; k++)
            if (parts[k].Shape != s)
                throw new ShapeMismatchException("stack", s, parts[k].Shape,
                    $"stack needs parts of one shape, but part 0 is {s} and part {k} is {parts[k].Shape}: Slice or Reshape them to one shape, or Concat parts of different lengths.");
        if (s.IsMatrix)
            throw new ShapeMismatchException("stack", s,
                "stack makes a matrix of vectors (or a vector of scalars), and values are at most matrices: join matrices with Concat along axis 0 or 1.");
        if (s.IsScalar && axis != 0)
            throw new ShapeMismatchException("stack", s, "Scalars stack into a vector along axis 0 only: use axis 0.");
        var part = s.IsScalar ? Shape.Vector(1) : axis == 0 ? Shape.Matrix(1, s.Length) : Shape.Matrix(s.Length, 1);
        var reshaped = new Expr[parts.Length];
        for (var k = 0; k < parts.Length; k++) reshaped[k] = Reshape(parts[k], part);
        return Balanced(new ConcatOp(s.IsScalar ? 0 : axis), reshaped);
    }

    /// <summary>Parts of one shape stacked along axis 0: vectors as the rows of a matrix, scalars into a vector (see <see cref="Stack(int, Expr[])"/>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="parts"/> or a part is null.</exception>
    /// <exception cref="ArgumentException">There are no parts.</exception>
    /// <exception cref="ShapeMismatchException">The parts have different shapes, or are matrices.</exception>
    public static Expr Stack(params Expr[] parts) => Stack(0, parts);

    /// <summary>
    /// A balanced tree of a two-input op over the parts, in order, built level by level (no recursion): each part is
    /// copied about log₂(parts) times, and the engine's small fixed arity holds.
    /// </summary>
    private static Expr Balanced(Op op, Expr[] parts)
    {
        var level = parts;
        while (level.Length > 1)
        {
            var next = new Expr[(level.Length + 1) / 2];
            for (var k = 0; k < next.Length; k++)
                next[k] = 2 * k + 1 < level.Length ? Create(op, level[2 * k], level[2 * k + 1]) : level[2 * k];
            level = next;
        }
        return level[0];
    }

    /// <summary>Elements <paramref name="start"/> to <paramref name="stop"/> − 1 of a vector (stop exclusive, as Python's <c>v[start:stop]</c>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is not a vector (give a matrix an axis: <see cref="Slice(Expr, int, int, int)"/>).</exception>
    /// <exception cref="ArgumentOutOfRangeException">The range is empty, negative or past the end; the message gives the valid range.</exception>
    /// <example><c>Expr.Slice(v, 1, 3)</c> of v = [10, 20, 30, 40] is [20, 30].</example>
    public static Expr Slice(Expr x, int start, int stop)
    {
        Guard.NotNull(x);
        if (!x.Shape.IsVector)
            throw new ShapeMismatchException("slice", x.Shape,
                x.Shape.IsMatrix
                    ? "Slice(x, start, stop) slices a vector: for a matrix give the axis, Slice(x, 0, start, stop) for rows or Slice(x, 1, start, stop) for columns."
                    : "slice takes a vector or a matrix: a scalar has no elements to slice.");
        return Create(new SliceOp(0, start, stop), x);
    }

    /// <summary>
    /// Positions <paramref name="start"/> to <paramref name="stop"/> − 1 along <paramref name="axis"/>: rows (axis 0; a
    /// vector's elements) or columns (axis 1) of a matrix, as Python's <c>m[start:stop, :]</c> and <c>m[:, start:stop]</c>.
    /// The result keeps x's rank (a matrix of one row stays a matrix: use <see cref="Row(Expr, int)"/> for a vector).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> is null.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The axis is not 0 or 1, or the range is empty, negative or past the end.</exception>
    public static Expr Slice(Expr x, int axis, int start, int stop) => Create(new SliceOp(axis, start, stop), x);

    /// <summary>
    /// The elements of a vector, or the rows of a matrix, at <paramref name="indices"/>, in that order (repeats allowed;
    /// the gradient adds up the repeats), as PyTorch's <c>index_select</c> along dimension 0.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="x"/> or <paramref name="indices"/> is null.</exception>
    /// <exception cref="ArgumentException">There are no indices.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="x"/> is a scalar.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index is negative or past the end; the message names it and the valid range.</exception>
    /// <example><c>Expr.Gather(v, 2, 0, 2)</c> of v = [10, 20, 30] is [30, 10, 30].</example>
    public static Expr Gather(Expr x, params int[] indices) => Create(new GatherOp(indices), x);

    /// <summary>Row <paramref name="i"/> of a matrix, as a vector (no transpose involved).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="m"/> is null.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="m"/> is not a matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The row is outside the matrix; the message gives the valid range.</exception>
    public static Expr Row(Expr m, int i) => Create(new RowOp(i), m);

    /// <summary>Column <paramref name="j"/> of a matrix, as a vector (no transpose involved).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="m"/> is null.</exception>
    /// <exception cref="ShapeMismatchException"><paramref name="m"/> is not a matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The column is outside the matrix; the message gives the valid range.</exception>
    public static Expr Column(Expr m, int j) => Create(new ColumnOp(j), m);

    // ---------------------------------------------------------------- fluent forms

    /// <summary>this + other.</summary>
    public Expr Add(Expr other) => Add(this, other);
    /// <summary>this − other.</summary>
    public Expr Sub(Expr other) => Sub(this, other);
    /// <summary>this ⊙ other.</summary>
    public Expr Mul(Expr other) => Mul(this, other);
    /// <summary>this ⊘ other.</summary>
    public Expr Div(Expr other) => Div(this, other);
    /// <summary>−this.</summary>
    public Expr Neg() => Neg(this);
    /// <summary>this raised element-wise to a constant power.</summary>
    public Expr Pow(double exponent) => Pow(this, exponent);
    /// <summary>Element-wise square.</summary>
    public Expr Square() => Square(this);
    /// <summary>Element-wise square root.</summary>
    public Expr Sqrt() => Sqrt(this);
    /// <summary>Element-wise exponential.</summary>
    public Expr Exp() => Exp(this);
    /// <summary>Element-wise natural logarithm.</summary>
    public Expr Log() => Log(this);
    /// <summary>Element-wise sine.</summary>
    public Expr Sin() => Sin(this);
    /// <summary>Element-wise cosine.</summary>
    public Expr Cos() => Cos(this);
    /// <summary>Element-wise hyperbolic tangent.</summary>
    public Expr Tanh() => Tanh(this);
    /// <summary>Element-wise logistic sigmoid.</summary>
    public Expr Sigmoid() => Sigmoid(this);
    /// <summary>Element-wise max(x, 0).</summary>
    public Expr Relu() => Relu(this);
    /// <summary>Element-wise ln(1 + eˣ).</summary>
    public Expr Softplus() => Softplus(this);
    /// <summary>Element-wise log σ(x), computed stably.</summary>
    public Expr LogSigmoid() => LogSigmoid(this);
    /// <summary>Element-wise absolute value.</summary>
    public Expr Abs() => Abs(this);
    /// <summary>this raised element-wise to a tensor power (see <see cref="Pow(Expr, Expr)"/>).</summary>
    public Expr Pow(Expr exponent) => Pow(this, exponent);
    /// <summary>Element-wise ln(1 + x).</summary>
    public Expr Log1p() => Log1p(this);
    /// <summary>Element-wise eˣ − 1.</summary>
    public Expr Expm1() => Expm1(this);
    /// <summary>Element-wise sign.</summary>
    public Expr Sign() => Sign(this);
    /// <summary>Element-wise 1/x.</summary>
    public Expr Reciprocal() => Reciprocal(this);
    /// <summary>Element-wise erf.</summary>
    public Expr Erf() => Erf(this);
    /// <summary>Element-wise exact GELU.</summary>
    public Expr Gelu() => Gelu(this);
    /// <summary>Each element limited to [min, max] (see <see cref="Clamp(Expr, double, double)"/>).</summary>
    public Expr Clamp(double min, double max) => Clamp(this, min, max);
    /// <summary>The element-wise maximum with another (see <see cref="Maximum(Expr, Expr)"/>).</summary>
    public Expr Maximum(Expr other) => Maximum(this, other);
    /// <summary>The element-wise minimum with another (see <see cref="Minimum(Expr, Expr)"/>).</summary>
    public Expr Minimum(Expr other) => Minimum(this, other);
    /// <summary>This value with no derivative flowing through it (PyTorch's <c>detach</c>).</summary>
    public Expr StopGradient() => StopGradient(this);
    /// <summary>Dot product with another vector.</summary>
    public Expr Dot(Expr other) => Dot(this, other);
    /// <summary>Product by shapes (see <see cref="MatMul(Expr, Expr)"/>).</summary>
    public Expr MatMul(Expr other) => MatMul(this, other);
    /// <summary>Transpose of a matrix.</summary>
    public Expr T() => Transpose(this);
    /// <summary>Sum of all elements.</summary>
    public Expr Sum() => Sum(this);
    /// <summary>Mean of all elements.</summary>
    public Expr Mean() => Mean(this);
    /// <summary>L2 norm.</summary>
    public Expr Norm() => Norm(this);
    /// <summary>Sums along an axis (see <see cref="Sum(Expr, int)"/>).</summary>
    public Expr Sum(int axis) => Sum(this, axis);
    /// <summary>Means along an axis (see <see cref="Mean(Expr, int)"/>).</summary>
    public Expr Mean(int axis) => Mean(this, axis);
    /// <summary>The largest element; ties split the gradient evenly (see <see cref="Max(Expr)"/>).</summary>
    public Expr Max() => Max(this);
    /// <summary>The largest elements along an axis (see <see cref="Max(Expr, int)"/>).</summary>
    public Expr Max(int axis) => Max(this, axis);
    /// <summary>The smallest element; ties split the gradient evenly (see <see cref="Min(Expr)"/>).</summary>
    public Expr Min() => Min(this);
    /// <summary>The smallest elements along an axis (see <see cref="Min(Expr, int)"/>).</summary>
    public Expr Min(int axis) => Min(this, axis);
    /// <summary>log Σ eˣ over all elements, stably (see <see cref="LogSumExp(Expr)"/>).</summary>
    public Expr LogSumExp() => LogSumExp(this);
    /// <summary>log Σ eˣ along an axis, stably (see <see cref="LogSumExp(Expr, int)"/>).</summary>
    public Expr LogSumExp(int axis) => LogSumExp(this, axis);
    /// <summary>The product of all elements (see <see cref="Prod(Expr)"/>).</summary>
    public Expr Prod() => Prod(this);
    /// <summary>log-softmax of a vector or of each row.</summary>
    public Expr LogSoftmax() => LogSoftmax(this);
    /// <summary>softmax of a vector or of each row.</summary>
    public Expr Softmax() => Softmax(this);
    /// <summary>log-softmax along an axis (see <see cref="LogSoftmax(Expr, int)"/>).</summary>
    public Expr LogSoftmax(int axis) => LogSoftmax(this, axis);
    /// <summary>softmax along an axis (see <see cref="Softmax(Expr, int)"/>).</summary>
    public Expr Softmax(int axis) => Softmax(this, axis);
    /// <summary>This with another shape of as many elements, row-major (see <see cref="Reshape(Expr, Shape)"/>).</summary>
    public Expr Reshape(Shape shape) => Reshape(this, shape);
    /// <summary>The elements as a vector, row-major (see <see cref="Flatten(Expr)"/>).</summary>
    public Expr Flatten() => Flatten(this);
    /// <summary>Elements start to stop − 1 of a vector (see <see cref="Slice(Expr, int, int)"/>).</summary>
    public Expr Slice(int start, int stop) => Slice(this, start, stop);
    /// <summary>Positions start to stop − 1 along an axis (see <see cref="Slice(Expr, int, int, int)"/>).</summary>
    public Expr Slice(int axis, int start, int stop) => Slice(this, axis, start, stop);
    /// <summary>Elements (vector) or rows (matrix) at the indices (see <see cref="Gather(Expr, int[])"/>).</summary>
    public Expr Gather(params int[] indices) => Gather(this, indices);
    /// <summary>Row i of a matrix, as a vector.</summary>
    public Expr Row(int i) => Row(this, i);
    /// <summary>Column j of a matrix, as a vector.</summary>
    public Expr Column(int j) => Column(this, j);

    /// <summary>Element <paramref name="i"/> of a vector.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The index is outside the vector; the message gives the valid range.</exception>
    public Expr this[int i] => Create(new IndexOp(i), this);

    /// <summary>Element (<paramref name="i"/>, <paramref name="j"/>) of a matrix.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is outside the matrix; the message gives the valid range.</exception>
    public Expr this[int i, int j] => Create(new IndexOp(i, j), this);
}
