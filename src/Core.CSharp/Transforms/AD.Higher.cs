using System;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff;

// Forward mode, Jacobians and Hessians of one input: the structured combinators (AD.Structured.cs) on a single leaf.
public static partial class AD
{
    /// <summary>f(x) and the directional derivative J·v, computed by forward mode (no Jacobian is formed).</summary>
    /// <exception cref="ShapeMismatchException">The tangent's shape is not the input's.</exception>
    public static Func<Value, Value, (Value Value, Value Tangent)> Jvp(Func<Expr, Expr> f) => Jvp<Value, Expr>(f);

    /// <summary>
    /// The Jacobian of f at x as a matrix: a row per output element, a column per input element, the elements of a
    /// matrix counted in row-major order (NumPy's <c>ravel</c>). Reverse mode (one pullback per row) when the output has
    /// no more elements than the input, forward mode (one JVP per column) otherwise; both are also available as
    /// <see cref="JacobianRev"/> and <see cref="JacobianFwd"/>. For several inputs or outputs, see <see cref="Jacobian{TIn, TTraced}"/>.
    /// </summary>
    public static Func<Value, Matrix<double>> Jacobian(Func<Expr, Expr> f) => OneBlock(JacobianIn<Value, Expr, Expr>("Jacobian", f, null, null));

    /// <summary>The Jacobian by reverse mode: one pullback per output element.</summary>
    public static Func<Value, Matrix<double>> JacobianRev(Func<Expr, Expr> f) => OneBlock(JacobianIn<Value, Expr, Expr>("JacobianRev", f, null, true));

    /// <summary>The Jacobian by forward mode: one JVP per input element.</summary>
    public static Func<Value, Matrix<double>> JacobianFwd(Func<Expr, Expr> f) => OneBlock(JacobianIn<Value, Expr, Expr>("JacobianFwd", f, null, false));

    /// <summary>
    /// The Hessian of a scalar function at x (scalar, vector or matrix; a matrix's elements in row-major order), by
    /// forward-over-reverse (one JVP of the gradient graph per column).
    /// </summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Value, Matrix<double>> Hessian(Func<Expr, Expr> f) => OneBlock(Hessian<Value, Expr>(f));

    /// <summary>The Hessian-vector product H·v of a scalar function, without forming H (forward-over-reverse).</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    /// <exception cref="ShapeMismatchException">v's shape is not x's.</exception>
    public static Func<Value, Value, Value> Hvp(Func<Expr, Expr> f) => Hvp<Value, Expr>(f);

    private static Func<Value, Matrix<double>> OneBlock(Func<Value, Blocks> blocks) => x => blocks(x).Block(0, 0);
}
