using System;
using System.Linq;
using System.Numerics.Tensors;

namespace Functional.Autodiff;

// Element-wise functions of one input. Each supplies f (scalar, and vectorised where it pays) and f'(x) as a graph;
// ElementwiseOp turns the derivative into both rules. An element's result depends only on its own input, bit for bit
// (on a vector of any length, at any position, or as a scalar): the vectorised kernels are either correctly rounded
// IEEE operations (TensorPrimitives' multiply, sqrt, abs) or ElementwiseMath's lane-independent kernels,
// which also compute the scalar.

/// <summary>y = x^p (p a constant)    ẏ = p·x^(p−1) ⊙ ẋ    x̄ = ȳ ⊙ p·x^(p−1).</summary>
public sealed class PowOp : ElementwiseOp, IEquatable<PowOp>
{
    /// <summary>The op raising to the constant power <paramref name="exponent"/>.</summary>
    public PowOp(double exponent)
    {
        if (!double.IsFinite(exponent))
            throw new ArgumentOutOfRangeException(nameof(exponent), exponent, UserCode.Mark("pow needs a finite constant exponent."));
        Exponent = exponent;
    }

    /// <summary>The constant exponent p.</summary>
    public double Exponent { get; }

    /// <inheritdoc/>
    public override string Name => "pow";
    /// <inheritdoc/>
    public override string Infix => "^";
    /// <inheritdoc/>
    protected override double Apply(double x) => Exponent == 2 ? x * x : Math.Pow(x, Exponent);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        // Other exponents go element by element through Math.Pow, exactly as the scalar does: TensorPrimitives.Pow's
        // result depended on an element's neighbours, and no workload raises large vectors to such powers.
        if (Exponent == 2) TensorPrimitives.Multiply(x, x, y);
        else base.Apply(x, y);
    }
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) =>
        Exponent switch
        {
            0 => null,
            1 => Expr.OnesLike(x),
            2 => x * 2.0,
            _ => Expr.Pow(x, Exponent - 1) * Exponent,
        };

    // The ops for small integer exponents and square roots, shared, so that repeated graphs reuse one op instance
    // (and its compiled rules) instead of making a new one each time.
    private static readonly PowOp[] Common = [.. Enumerable.Range(-4, 9).Select(k => new PowOp(k))];
    private static readonly PowOp Half = new(0.5);

    /// <summary>The op raising to <paramref name="exponent"/>: a shared instance for −4…4 and 0.5, a new one otherwise.</summary>
    public static PowOp For(double exponent) =>
        exponent == 0.5 ? Half
        : exponent >= -4 && exponent <= 4 && exponent == Math.Floor(exponent) ? Common[(int)exponent + 4]
        : new PowOp(exponent);

    /// <inheritdoc/>
    public bool Equals(PowOp? other) => other is not null && other.Exponent.Equals(Exponent);
    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as PowOp);
    /// <inheritdoc/>
    public override int GetHashCode() => Exponent.GetHashCode();
    /// <inheritdoc/>
    public override string ToString() => $"pow {Value.Format(Exponent)}";
}

/// <summary>y = x²    ẏ = 2x ⊙ ẋ    x̄ = ȳ ⊙ 2x.</summary>
public sealed class SquareOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SquareOp Instance = new();
    private SquareOp() { }
    /// <inheritdoc/>
    public override string Name => "square";
    /// <inheritdoc/>
    protected override double Apply(double x) => x * x;
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Multiply(x, x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => x * 2.0;
}

/// <summary>y = √x    ẏ = ẋ ⊘ 2y    x̄ = ȳ ⊘ 2y.</summary>
public sealed class SqrtOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SqrtOp Instance = new();
    private SqrtOp() { }
    /// <inheritdoc/>
    public override string Name => "sqrt";
    /// <inheritdoc/>
    protected override double Apply(double x) => Math.Sqrt(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Sqrt(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => 0.5 / y;
}

/// <summary>y = eˣ    ẏ = y ⊙ ẋ    x̄ = ȳ ⊙ y.</summary>
public sealed class ExpOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly ExpOp Instance = new();
    private ExpOp() { }
    /// <inheritdoc/>
    public override string Name => "exp";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Exp(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Exp(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => y;
}

/// <summary>y = ln x    ẏ = ẋ ⊘ x    x̄ = ȳ ⊘ x.</summary>
public sealed class LogOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly LogOp Instance = new();
    private LogOp() { }
    /// <inheritdoc/>
    public override string Name => "log";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Log(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Log(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => 1.0 / x;
}

/// <summary>y = sin x    ẏ = cos x ⊙ ẋ    x̄ = ȳ ⊙ cos x.</summary>
public sealed class SinOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SinOp Instance = new();
    private SinOp() { }
    /// <inheritdoc/>
    public override string Name => "sin";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Sin(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Sin(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Cos(x);
}

/// <summary>y = cos x    ẏ = −sin x ⊙ ẋ    x̄ = −ȳ ⊙ sin x.</summary>
public sealed class CosOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly CosOp Instance = new();
    private CosOp() { }
    /// <inheritdoc/>
    public override string Name => "cos";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Cos(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Cos(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => -Expr.Sin(x);
}

/// <summary>y = tanh x    ẏ = (1 − y²) ⊙ ẋ    x̄ = ȳ ⊙ (1 − y²).</summary>
public sealed class TanhOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly TanhOp Instance = new();
    private TanhOp() { }
    /// <inheritdoc/>
    public override string Name => "tanh";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Tanh(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Tanh(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => 1.0 - Expr.Square(y);
}

/// <summary>y = σ(x) = 1 ⊘ (1 + e⁻ˣ)    ẏ = y ⊙ (1 − y) ⊙ ẋ    x̄ = ȳ ⊙ y ⊙ (1 − y).</summary>
public sealed class SigmoidOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SigmoidOp Instance = new();
    private SigmoidOp() { }
    /// <inheritdoc/>
    public override string Name => "sigmoid";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Sigmoid(x); // 1/(1 + e⁻ˣ), or eˣ/(1 + eˣ) for x < 0
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Sigmoid(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => y * (1.0 - y);
}

/// <summary>y = max(x, 0)    ẏ = step(x) ⊙ ẋ    x̄ = ȳ ⊙ step(x) (the derivative at 0 is 0, as in PyTorch).</summary>
public sealed class ReluOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly ReluOp Instance = new();
    private ReluOp() { }
    /// <inheritdoc/>
    public override string Name => "relu";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Relu(x); // Math.Max(x, 0): NaN stays NaN, bit for bit
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Relu(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Create(StepOp.Instance, x);
}

/// <summary>y = ln(1 + eˣ) (computed stably)    ẏ = σ(x) ⊙ ẋ    x̄ = ȳ ⊙ σ(x).</summary>
public sealed class SoftplusOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SoftplusOp Instance = new();
    private SoftplusOp() { }
    /// <inheritdoc/>
    public override string Name => "softplus";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Softplus(x); // max(x, 0) + log1p(e^−|x|)
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Softplus(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Sigmoid(x);
}

/// <summary>y = |x|    ẏ = sign(x) ⊙ ẋ    x̄ = ȳ ⊙ sign(x) (the derivative at 0 is 0, as in PyTorch).</summary>
public sealed class AbsOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly AbsOp Instance = new();
    private AbsOp() { }
    /// <inheritdoc/>
    public override string Name => "abs";
    /// <inheritdoc/>
    protected override double Apply(double x) => Math.Abs(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Abs(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Create(SignOp.Instance, x);
}

/// <summary>y = sign(x) ∈ {−1, 0, 1}    ẏ = 0    x̄ = 0 (piecewise constant).</summary>
public sealed class SignOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SignOp Instance = new();
    private SignOp() { }
    /// <inheritdoc/>
    public override string Name => "sign";
    /// <inheritdoc/>
    protected override double Apply(double x) => x > 0 ? 1 : x < 0 ? -1 : 0;
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => null;
}

/// <summary>y = step(x): 1 where x &gt; 0, else 0    ẏ = 0    x̄ = 0 (piecewise constant; relu's derivative).</summary>
public sealed class StepOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly StepOp Instance = new();
    private StepOp() { }
    /// <inheritdoc/>
    public override string Name => "step";
    /// <inheritdoc/>
    protected override double Apply(double x) => x > 0 ? 1 : 0;
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => null;
}

/// <summary>
/// y = 1 ⊘ x, and 0 where x = 0    ẏ = −y² ⊙ ẋ    x̄ = −ȳ ⊙ y².
/// Used by the norm's rules so the gradient of ‖x‖ at x = 0 is 0 (PyTorch's choice) rather than NaN.
/// </summary>
public sealed class SafeReciprocalOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly SafeReciprocalOp Instance = new();
    private SafeReciprocalOp() { }
    /// <inheritdoc/>
    public override string Name => "safe_reciprocal";
    /// <inheritdoc/>
    protected override double Apply(double x) => x == 0 ? 0 : 1 / x;
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => -Expr.Square(y);
}

/// <summary>y = log σ(x) = −softplus(−x) (computed stably)    ẏ = σ(−x) ⊙ ẋ    x̄ = ȳ ⊙ σ(−x).</summary>
public sealed class LogSigmoidOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly LogSigmoidOp Instance = new();
    private LogSigmoidOp() { }
    /// <inheritdoc/>
    public override string Name => "log_sigmoid";
    /// <inheritdoc/>
    protected override double Apply(double x) => -ElementwiseMath.Softplus(-x); // min(x, 0) − log1p(e^−|x|)
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y)
    {
        TensorPrimitives.Negate(x, y);
        ElementwiseMath.Softplus(y, y);
        TensorPrimitives.Negate(y, y);
    }
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Sigmoid(-x);
}

/// <summary>y = ln(1 + x), accurate for small x    ẏ = ẋ ⊘ (1 + x)    x̄ = ȳ ⊘ (1 + x).</summary>
public sealed class Log1pOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly Log1pOp Instance = new();
    private Log1pOp() { }
    /// <inheritdoc/>
    public override string Name => "log1p";
    /// <inheritdoc/>
    protected override double Apply(double x) => ElementwiseMath.Log1p(x);
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => ElementwiseMath.Log1p(x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => 1.0 / (1.0 + x);
}

/// <summary>y = eˣ − 1, accurate for small x    ẏ = eˣ ⊙ ẋ    x̄ = ȳ ⊙ eˣ.</summary>
/// <remarks>
/// Kahan's form (Higham, Accuracy and Stability of Numerical Algorithms, §1.14.1): with u = eˣ rounded,
/// (u − 1)·x / ln u; u − 1 is exact and the ratio x / ln u corrects the rounding of u, so the result is accurate to a
/// few ulps where eˣ − 1 would cancel. Element by element on the library's exp and log, so an element's result is its
/// scalar result, bit for bit.
/// </remarks>
public sealed class Expm1Op : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly Expm1Op Instance = new();
    private Expm1Op() { }
    /// <inheritdoc/>
    public override string Name => "expm1";
    /// <inheritdoc/>
    protected override double Apply(double x)
    {
        var u = ElementwiseMath.Exp(x);
        if (u == 1.0) return x; // |x| below half an ulp of 1 (and ±0, keeping its sign)
        var um1 = u - 1.0;
        if (um1 == -1.0) return -1.0; // x ≤ −37.5: e^x below half an ulp of 1
        if (double.IsPositiveInfinity(u)) return u;
        return um1 * (x / ElementwiseMath.Log(u)); // NaN stays NaN
    }
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Exp(x);
}

/// <summary>y = 1 ⊘ x (±∞ at ±0, as PyTorch's reciprocal)    ẏ = −y² ⊙ ẋ    x̄ = −ȳ ⊙ y².</summary>
public sealed class ReciprocalOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly ReciprocalOp Instance = new();
    private ReciprocalOp() { }
    /// <inheritdoc/>
    public override string Name => "reciprocal";
    /// <inheritdoc/>
    protected override double Apply(double x) => 1.0 / x;
    /// <inheritdoc/>
    protected override void Apply(ReadOnlySpan<double> x, Span<double> y) => TensorPrimitives.Divide(1.0, x, y);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => -Expr.Square(y);
}

/// <summary>y = erf x (MathNet's SpecialFunctions.Erf)    ẏ = (2/√π)·e^(−x²) ⊙ ẋ    x̄ = ȳ ⊙ (2/√π)·e^(−x²).</summary>
public sealed class ErfOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly ErfOp Instance = new();
    private ErfOp() { }
    /// <inheritdoc/>
    public override string Name => "erf";
    /// <inheritdoc/>
    protected override double Apply(double x) => MathNet.Numerics.SpecialFunctions.Erf(x);
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) => Expr.Exp(-Expr.Square(x)) * (2 / Math.Sqrt(Math.PI));
}

/// <summary>
/// y = x·Φ(x), the exact (erf) GELU of torch.nn.functional.gelu's default, with Φ the standard normal CDF
/// ½·erfc(−x/√2) (erfc keeps the tail accurate for negative x)    ẏ = (Φ(x) + x·φ(x)) ⊙ ẋ    x̄ = ȳ ⊙ (Φ(x) + x·φ(x)),
/// φ(x) = e^(−x²/2)/√(2π).
/// </summary>
public sealed class GeluOp : ElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly GeluOp Instance = new();
    private GeluOp() { }
    /// <inheritdoc/>
    public override string Name => "gelu";
    /// <inheritdoc/>
    protected override double Apply(double x) =>
        double.IsNegativeInfinity(x) ? -0.0 : x * (0.5 * MathNet.Numerics.SpecialFunctions.Erfc(-x * (1 / Math.Sqrt(2))));
    /// <inheritdoc/>
    public override Expr? Derivative(Expr x, Expr y) =>
        0.5 + 0.5 * Expr.Erf(x * (1 / Math.Sqrt(2))) + x * Expr.Exp(-0.5 * Expr.Square(x)) * (1 / Math.Sqrt(2 * Math.PI));
}

/// <summary>
/// y = a^b element-wise with a tensor exponent (Math.Pow per element, so exact where the power is, e.g. at whole
/// exponents; NaN for a negative base and a fractional exponent), broadcasting as NumPy does
/// ẏ = b·a^(b−1) ⊙ ȧ + y·ln a ⊙ ḃ    ā = ȳ ⊙ b·a^(b−1), b̄ = ȳ ⊙ y·ln a. As PyTorch's pow: the base's partial is 0
/// where b = 0 and the exponent's is 0 where a = 0 and b ≥ 0 (rather than 0·∞ or 0·(−∞)).
/// </summary>
public sealed class PowTensorOp : BinaryElementwiseOp
{
    /// <summary>The op.</summary>
    public static readonly PowTensorOp Instance = new();
    private PowTensorOp() { }
    /// <inheritdoc/>
    public override string Name => "pow_tensor";
    /// <inheritdoc/>
    public override string Infix => "^";
    /// <inheritdoc/>
    protected override double Apply(double a, double b) => Math.Pow(a, b);

    /// <summary>∂y/∂a = b·a^(b−1), 0 where b = 0.</summary>
    private static Expr OfBase(Expr a, Expr b) => Expr.Where(Expr.Equal(b, 0.0), 0.0, b * Expr.Pow(a, b - 1.0));

    /// <summary>∂y/∂b = y·ln a, 0 where a = 0 and b ≥ 0.</summary>
    private static Expr OfExponent(Expr a, Expr b, Expr y) =>
        Expr.Where(Expr.Equal(a, 0.0) * Expr.GreaterEqual(b, 0.0), 0.0, y * Expr.Log(a));

    /// <inheritdoc/>
    protected override Expr? Partial(int i, Expr a, Expr b, Expr y, Expr ybar) => ybar * (i == 0 ? OfBase(a, b) : OfExponent(a, b, y));
    /// <inheritdoc/>
    protected override Expr? Tangent(Expr a, Expr b, Expr y, Expr? da, Expr? db) =>
        AddOrNull(da is null ? null : OfBase(a, b) * da, db is null ? null : OfExponent(a, b, y) * db);
}
