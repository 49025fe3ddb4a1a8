using System;

namespace Functional.Autodiff;

/// <summary>
/// The differentiation combinators on graphs: functions from <see cref="Expr"/> to <see cref="Expr"/>, so they nest
/// with each other and with <see cref="AD"/>'s numeric combinators: <c>AD.Grad(Diff.Grad(f))</c> is f'',
/// <c>Diff.Grad(x =&gt; x * Diff.Grad(y =&gt; x + y)(x))</c> is 1 everywhere.
/// </summary>
/// <remarks>
/// Each call differentiates with respect to a fresh variable that stands for its argument, then substitutes the
/// argument back into the derivative graph. A function that closes over an outer variable therefore treats it as a
/// constant of the inner derivative (no perturbation confusion), and there is no global nesting level.
/// </remarks>
/// <example>
/// <code>
/// Func&lt;Expr, Expr&gt; f = x =&gt; Expr.Sin(x);
/// var third = AD.Grad(Diff.Grad(Diff.Grad(f)));   // −cos
/// double v = third(1.0).ToScalar();               // −0.5403…
/// </code>
/// </example>
public static class Diff
{
    /// <summary>∇f as a function on graphs; f must return a scalar.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Expr, Expr> Grad(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            Guard.NotNull(x);
            var u = Fresh(x);
            var y = Output(f, u);
            if (!y.Shape.IsScalar) throw new NonScalarOutputException("Diff.Grad", y.Shape);
            return Substitute.Run(Reverse.Gradients(y, [u], Expr.Const(1.0))[0], u, x);
        };
    }

    /// <summary>The vector-Jacobian product vᵀ·∂f/∂x as a function of x and the cotangent v (of f's output shape).</summary>
    /// <exception cref="ShapeMismatchException">The cotangent's shape is not the output's.</exception>
    public static Func<Expr, Expr, Expr> Vjp(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return (x, cotangent) =>
        {
            Guard.NotNull(x);
            Guard.NotNull(cotangent);
            var u = Fresh(x);
            var y = Output(f, u);
            if (cotangent.Shape != y.Shape)
                throw new ShapeMismatchException("Diff.Vjp", y.Shape, cotangent.Shape, $"The cotangent must have the output's shape {y.Shape}.");
            return Substitute.Run(Reverse.Gradients(y, [u], cotangent)[0], u, x);
        };
    }

    /// <summary>The Jacobian-vector product ∂f/∂x·v as a function of x and the tangent v (of x's shape), by forward mode.</summary>
    /// <exception cref="ShapeMismatchException">The tangent's shape is not the input's.</exception>
    public static Func<Expr, Expr, Expr> Jvp(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return (x, tangent) =>
        {
            Guard.NotNull(x);
            Guard.NotNull(tangent);
            if (tangent.Shape != x.Shape)
                throw new ShapeMismatchException("Diff.Jvp", x.Shape, tangent.Shape, $"The tangent must have the input's shape {x.Shape}.");
            var u = Fresh(x);
            var y = Output(f, u);
            return Substitute.Run(Forward.Tangent(y, [u], [tangent]), u, x);
        };
    }

    /// <summary>A fresh variable standing for <paramref name="x"/>: traced with x's value when it has one.</summary>
    internal static Var Fresh(Expr x) => x.HasValue ? new Var("u", x.Value) : new Var("u", x.Shape);

    internal static Expr Output(Func<Expr, Expr> f, Expr u) =>
        f(u) ?? throw new ArgumentException(UserCode.Mark("The function being differentiated returned null; it must return an Expr."), "f");
}
