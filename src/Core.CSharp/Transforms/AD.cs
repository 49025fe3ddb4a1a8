using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Runtime.CompilerServices;

namespace Functional.Autodiff;

/// <summary>
/// The differentiation combinators. Each is pure: it traces the function on fresh variables carrying the given
/// numbers (so the function may branch and loop on <c>.Value</c>), builds the gradient as a graph with the ops'
/// VJP rules, and returns numbers. Call them as often as you like; nothing is stored anywhere between calls,
/// so there is no <c>retain_graph</c>, no <c>.grad</c> to zero, and no <c>no_grad</c> mode.
/// </summary>
/// <example>
/// <code>
/// var x = Vector&lt;double&gt;.Build.Dense(3, 0.5);
/// Func&lt;Expr, Expr&gt; z = w =&gt; 3 * Expr.Dot(x, (w + 2).Pow(2));
/// Vector&lt;double&gt; g = AD.Grad(z)(Vector&lt;double&gt;.Build.Dense(3, 1.0));   // [9, 9, 9]
/// </code>
/// </example>
public static partial class AD
{
    // ------------------------------------------------------------------ graph level

    /// <summary>
    /// The gradients of a scalar <paramref name="output"/> with respect to any nodes of its graph, leaves or intermediate
    /// ones (PyTorch's df/dq for an intermediate q), as graphs. Their <c>.Value</c> is known when the graph is traced.
    /// A node the output does not depend on gets zeros of its shape.
    /// </summary>
    /// <exception cref="NonScalarOutputException">The output is not a scalar: pass a cotangent to the other overload.</exception>
    public static ImmutableArray<Expr> Gradients(Expr output, params Expr[] wrt)
    {
        Guard.NotNull(output);
        if (!output.Shape.IsScalar) throw new NonScalarOutputException("Gradients", output.Shape);
        return Gradients(output, wrt, Expr.Const(1.0));
    }

    /// <summary>
    /// The vector-Jacobian products vᵀ·∂output/∂x for every x in <paramref name="wrt"/>, with v = <paramref name="cotangent"/>
    /// of the output's shape (PyTorch's <c>output.backward(v)</c>), as graphs.
    /// </summary>
    /// <exception cref="ShapeMismatchException">The cotangent's shape is not the output's.</exception>
    public static ImmutableArray<Expr> Gradients(Expr output, IEnumerable<Expr> wrt, Expr cotangent)
    {
        Guard.NotNull(output);
        Guard.NotNull(wrt);
        Guard.NotNull(cotangent);
        var targets = wrt.ToImmutableArray();
        for (var k = 0; k < targets.Length; k++)
            if (targets[k] is null) throw new ArgumentNullException(nameof(wrt), UserCode.Mark($"Entry {k} of the nodes to differentiate by is null."));
        if (cotangent.Shape != output.Shape)
            throw new ShapeMismatchException("Gradients", output.Shape, cotangent.Shape,
                $"The cotangent (PyTorch's backward(v) argument) must have the output's shape {output.Shape}.");
        return Reverse.Gradients(output, targets, cotangent);
    }

    /// <summary>Evaluates a graph with values bound to its symbolic variables; nothing is recorded.</summary>
    /// <exception cref="ArgumentException">A bound variable is not in the graph.</exception>
    /// <exception cref="ShapeMismatchException">A bound value does not have its variable's shape.</exception>
    /// <exception cref="UnboundVariableException">The graph reads a variable that is neither bound nor traced.</exception>
    public static Value Eval(Expr expr, IReadOnlyDictionary<Var, Value> bindings)
    {
        Guard.NotNull(expr);
        Guard.NotNull(bindings);
        return Evaluate.Run(expr, bindings);
    }

    /// <summary>Evaluates a graph with values bound to its symbolic variables.</summary>
    /// <exception cref="ArgumentException">A variable is bound twice, or a bound variable is not in the graph.</exception>
    /// <exception cref="ShapeMismatchException">A bound value does not have its variable's shape.</exception>
    /// <exception cref="UnboundVariableException">The graph reads a variable that is neither bound nor traced.</exception>
    public static Value Eval(Expr expr, params (Var Var, Value Value)[] bindings)
    {
        Guard.NotNull(bindings);
        var map = new Dictionary<Var, Value>(Identity.Instance);
        foreach (var (v, value) in bindings)
        {
            Guard.NotNull(v, nameof(bindings));
            if (!map.TryAdd(v, value))
                throw new ArgumentException(UserCode.Mark($"Eval: variable '{v.Name}' is bound twice: give each variable one value."), nameof(bindings));
        }
        return Eval(expr, map);
    }

    /// <summary>
    /// A model (a function of named parameters) evaluated at <paramref name="p"/>, forward only: predictions, a loss to
    /// report, an accuracy. Nothing is differentiated, so it costs what the forward pass costs.
    /// </summary>
    /// <exception cref="ArgumentNullException">The model or the parameters are null.</exception>
    public static Value Eval(Func<ParamVars, Expr> model, Params p)
    {
        Guard.NotNull(model);
        Guard.NotNull(p);
        var vars = new ParamVars(p.Entries.Select(e => Expr.Var(e.Key, e.Value)).ToImmutableArray());
        return Call(() => model(vars)).Value;
    }

    // ------------------------------------------------------------------ one input

    /// <summary>∇f at x for a function with a scalar output; the gradient has x's shape.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar (use <see cref="Vjp(Func{Expr, Expr})"/>).</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, Value> Grad(Func<Expr, Expr> f) => Grad<Value, Expr>(f);

    /// <summary>f(x) and ∇f(x) from one trace.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Value Grad)> ValueAndGrad(Func<Expr, Expr> f) => ValueAndGrad<Value, Expr>(f);

    /// <summary>
    /// f(x) and its pullback v ↦ vᵀ·J, for any output shape (PyTorch's <c>y.backward(v)</c>). The pullback is pure:
    /// call it any number of times, with any cotangents of the output's shape.
    /// </summary>
    /// <exception cref="ShapeMismatchException">From the pullback: the cotangent's shape is not the output's.</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Func<Value, Value> Pullback)> Vjp(Func<Expr, Expr> f) => Vjp<Value, Expr>(f);

    // ------------------------------------------------------------------ two and three inputs (a tuple, traced as one)

    /// <summary>The gradients of a scalar function of two inputs, one per input.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Value, Value, (Value, Value)> Grad(Func<Expr, Expr, Expr> f)
    {
        var vg = ValueAndGrad(f);
        return (a, b) => vg(a, b).Grad;
    }

    /// <summary>f(a, b) and its two gradients from one trace.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Value, Value, (Value Value, (Value, Value) Grad)> ValueAndGrad(Func<Expr, Expr, Expr> f)
    {
        Guard.NotNull(f);
        var vg = ValueAndGrad<(Value, Value), (Expr, Expr)>(t => f(t.Item1, t.Item2));
        return (a, b) => vg((a, b));
    }

    /// <summary>
    /// The gradient of a scalar function of two inputs with respect to input <paramref name="argnum"/> (0 or 1) only,
    /// the other held constant (JAX's <c>argnums</c>; for any arity, see <see cref="Wrt.Args"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="argnum"/> is not 0 or 1.</exception>
    public static Func<Value, Value, Value> Grad(Func<Expr, Expr, Expr> f, int argnum)
    {
        Guard.NotNull(f);
        if ((uint)argnum > 1) throw new ArgumentOutOfRangeException(nameof(argnum), argnum, UserCode.Mark("A function of two inputs has argnum 0 or 1."));
        var g = Grad<(Value, Value), (Expr, Expr)>(t => f(t.Item1, t.Item2), Wrt.Args(argnum));
        return (a, b) =>
        {
            var (ga, gb) = g((a, b));
            return argnum == 0 ? ga : gb;
        };
    }

    /// <summary>The gradients of a scalar function of three inputs, one per input.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Value, Value, Value, (Value, Value, Value)> Grad(Func<Expr, Expr, Expr, Expr> f)
    {
        var vg = ValueAndGrad(f);
        return (a, b, c) => vg(a, b, c).Grad;
    }

    /// <summary>f(a, b, c) and its three gradients from one trace.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Value, Value, Value, (Value Value, (Value, Value, Value) Grad)> ValueAndGrad(Func<Expr, Expr, Expr, Expr> f)
    {
        Guard.NotNull(f);
        var vg = ValueAndGrad<(Value, Value, Value), (Expr, Expr, Expr)>(t => f(t.Item1, t.Item2, t.Item3));
        return (a, b, c) => vg((a, b, c));
    }

    // ------------------------------------------------------------------ named parameters

    /// <summary>The gradient of a scalar function of named parameters: a <see cref="Params"/> with the same names and shapes.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Params, Params> Grad(Func<ParamVars, Expr> f) => Grad<Params, ParamVars>(f);

    /// <summary>f(p) and its gradient from one trace.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Params, (Value Value, Params Grad)> ValueAndGrad(Func<ParamVars, Expr> f) => ValueAndGrad(f, null);

    /// <summary>
    /// The gradient with respect to the named parameters only (JAX's <c>argnums</c>, PyTorch's <c>inputs=</c>); the
    /// others are held constant and cost nothing. The result has just the chosen names, in the parameters' order.
    /// </summary>
    /// <exception cref="KeyNotFoundException">From the returned function: a chosen name is not a parameter.</exception>
    public static Func<Params, Params> Grad(Func<ParamVars, Expr> f, params string[] wrt)
    {
        Guard.NotNull(wrt);
        var vg = ValueAndGrad(f, wrt);
        return p => vg(p).Grad;
    }

    /// <summary>f(p) and its gradient with respect to the named parameters only.</summary>
    /// <exception cref="KeyNotFoundException">From the returned function: a chosen name is not a parameter.</exception>
    public static Func<Params, (Value Value, Params Grad)> ValueAndGrad(Func<ParamVars, Expr> f, IEnumerable<string>? wrt)
    {
        var chosen = wrt?.ToArray();
        var vg = ValueAndGrad<Params, ParamVars>(f, chosen is null ? null : Wrt.Names(chosen));
        return p =>
        {
            Guard.NotNull(p);
            var (y, g) = vg(p);
            return (y, Restrict(g, chosen));
        };
    }

    /// <summary>f(p) and its pullback for any output shape, with the cotangent mapped to a <see cref="Params"/>.</summary>
    /// <exception cref="ShapeMismatchException">From the pullback: the cotangent's shape is not the output's.</exception>
    public static Func<Params, (Value Value, Func<Value, Params> Pullback)> Vjp(Func<ParamVars, Expr> f)
    {
        var vjp = Vjp<Params, ParamVars>(f);
        return p =>
        {
            Guard.NotNull(p);
            return vjp(p);
        };
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>A gradient of named parameters restricted to the chosen names (all when none are chosen).</summary>
    internal static Params Restrict(Params g, string[]? chosen)
    {
        if (chosen is null) return g;
        var set = chosen.ToHashSet();
        return Params.Of(g.Entries.Where(e => set.Contains(e.Key)).Select(e => (e.Key, e.Value)).ToArray());
    }

    private static ImmutableArray<Value> Pull(Expr y, ImmutableArray<Expr> wrt, Value cotangent)
    {
        if (cotangent.Shape != y.Shape)
            throw new ShapeMismatchException("Vjp pullback", y.Shape, cotangent.Shape,
                $"The cotangent must have the output's shape {y.Shape} (for PyTorch's backward(torch.ones_like(y)) pass Value.Full(shape, 1)).");
        return Reverse.GradientValues(y, wrt, cotangent);
    }

    internal static Expr Call(Func<Expr> f) =>
        f() ?? throw new ArgumentException(UserCode.Mark("The function being differentiated returned null; it must return an Expr."), "f");

    internal static Expr Scalar(string combinator, Expr y) =>
        y.Shape.IsScalar ? y : throw new NonScalarOutputException(combinator, y.Shape);
}
