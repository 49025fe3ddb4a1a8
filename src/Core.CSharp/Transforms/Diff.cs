using System;
using System.Collections.Immutable;
using System.Linq;

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

    // ------------------------------------------------------------------ structured inputs

    /// <summary>
    /// ∇f as a function on graphs for a structured input: <typeparamref name="T"/> is a traced form (a tuple, array,
    /// list, record or dictionary of <see cref="Expr"/>, nested; see <see cref="Tree"/>), and the gradient has its form.
    /// </summary>
    /// <exception cref="StructureException">T is not a structure of Expr leaves.</exception>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<T, T> Grad<T>(Func<T, Expr> f)
    {
        Guard.NotNull(f);
        return x => Structured(f, x, "Diff.Grad", (y, us) =>
        {
            if (!y.Shape.IsScalar) throw new NonScalarOutputException("Diff.Grad", y.Shape);
            return Reverse.Gradients(y, us, Expr.Const(1.0));
        });
    }

    /// <summary>The vector-Jacobian product vᵀ·∂f/∂x for a structured input, in its form.</summary>
    /// <exception cref="StructureException">T is not a structure of Expr leaves.</exception>
    /// <exception cref="ShapeMismatchException">The cotangent's shape is not the output's.</exception>
    public static Func<T, Expr, T> Vjp<T>(Func<T, Expr> f)
    {
        Guard.NotNull(f);
        return (x, cotangent) =>
        {
            Guard.NotNull(cotangent);
            return Structured(f, x, "Diff.Vjp", (y, us) =>
            {
                if (cotangent.Shape != y.Shape)
                    throw new ShapeMismatchException("Diff.Vjp", y.Shape, cotangent.Shape, $"The cotangent must have the output's shape {y.Shape}.");
                return Reverse.Gradients(y, us, cotangent);
            });
        };
    }

    /// <summary>The Jacobian-vector product ∂f/∂x·v for a structured input, the tangent v of x's form, by forward mode.</summary>
    /// <exception cref="StructureException">T is not a structure of Expr leaves, or v's form or a leaf's shape differs from x's.</exception>
    public static Func<T, T, Expr> Jvp<T>(Func<T, Expr> f)
    {
        Guard.NotNull(f);
        return (x, tangent) =>
        {
            var (xs, def) = Tree.FlattenTraced(x);
            var (vs, vdef) = Tree.FlattenTraced(tangent);
            if (def.Difference(vdef) is { } d) throw new StructureException($"Diff.Jvp: the tangent does not have the input's form {d.Sentence}.", d.Path);
            var paths = def.Paths;
            for (var k = 0; k < xs.Count; k++)
                if (vs[k].Shape != xs[k].Shape)
                    throw new StructureException($"Diff.Jvp: the tangent differs from the input at {paths[k]}: {vs[k].Shape} where the input has {xs[k].Shape}.", paths[k]);
            var us = xs.Select(Fresh).ToImmutableArray<Expr>();
            var y = Output(f, (T)Tree.BuildTraced(Tree.RuleOf<T>.Value, def, us)!);
            return Substitute.Run(Forward.Tangent(y, us, [.. vs]), us, [.. xs]);
        };
    }

    /// <summary>One structured graph-level derivative: fresh variables per leaf, the rule, the argument substituted back.</summary>
    private static T Structured<T>(Func<T, Expr> f, T x, string name, Func<Expr, ImmutableArray<Expr>, ImmutableArray<Expr>> rule)
    {
        var (xs, def) = Tree.FlattenTraced(x);
        if (xs.Count == 0) throw new StructureException($"{name}: the input has no leaves to differentiate by.");
        var us = xs.Select(Fresh).ToImmutableArray<Expr>();
        var arg = (T)Tree.BuildTraced(Tree.RuleOf<T>.Value, def, us)!;
        var to = xs.ToImmutableArray();
        var grads = rule(Output(f, arg), us).Select(g => Substitute.Run(g, us, to)).ToArray();
        return (T)Tree.BuildTraced(Tree.RuleOf<T>.Value, def, grads)!;
    }

    /// <summary>A fresh variable standing for <paramref name="x"/>: traced with x's value when it has one.</summary>
    internal static Var Fresh(Expr x) => x.HasValue ? new Var("u", x.Value) : new Var("u", x.Shape);

    internal static Expr Output<T>(Func<T, Expr> f, T u) =>
        f(u) ?? throw new ArgumentException(UserCode.Mark("The function being differentiated returned null; it must return an Expr."), "f");
}
