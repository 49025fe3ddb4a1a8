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
        var (vars, _) = Trace(p, null);
        return Call(() => model(vars)).Value;
    }

    // ------------------------------------------------------------------ one input

    /// <summary>∇f at x for a function with a scalar output; the gradient has x's shape.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar (use <see cref="Vjp(Func{Expr, Expr})"/>).</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, Value> Grad(Func<Expr, Expr> f)
    {
        var vg = ValueAndGrad(f);
        return x => vg(x).Grad;
    }

    /// <summary>f(x) and ∇f(x) from one trace.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Value Grad)> ValueAndGrad(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            var v = Expr.Var("x", x);
            var y = Scalar("Grad", Call(f, v));
            return (y.Value, Reverse.GradientValues(y, [v], 1.0)[0]);
        };
    }

    /// <summary>
    /// f(x) and its pullback v ↦ vᵀ·J, for any output shape (PyTorch's <c>y.backward(v)</c>). The pullback is pure:
    /// call it any number of times, with any cotangents of the output's shape.
    /// </summary>
    /// <exception cref="ShapeMismatchException">From the pullback: the cotangent's shape is not the output's.</exception>
    // Preferred over the Params overload when a lambda ignores its parameter (x => Expr.Const(1.0)), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Func<Value, Value> Pullback)> Vjp(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        return x =>
        {
            var v = Expr.Var("x", x);
            var y = Call(f, v);
            return (y.Value, ct => Pull(y, [v], ct)[0]);
        };
    }

    // ------------------------------------------------------------------ two and three inputs

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
        return (a, b) =>
        {
            Var va = Expr.Var("a", a), vb = Expr.Var("b", b);
            var y = Scalar("Grad", Call(() => f(va, vb)));
            var g = Reverse.GradientValues(y, [va, vb], 1.0);
            return (y.Value, (g[0], g[1]));
        };
    }

    /// <summary>
    /// The gradient of a scalar function of two inputs with respect to input <paramref name="argnum"/> (0 or 1) only,
    /// the other held constant (JAX's <c>argnums</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="argnum"/> is not 0 or 1.</exception>
    public static Func<Value, Value, Value> Grad(Func<Expr, Expr, Expr> f, int argnum)
    {
        Guard.NotNull(f);
        if ((uint)argnum > 1) throw new ArgumentOutOfRangeException(nameof(argnum), argnum, UserCode.Mark("A function of two inputs has argnum 0 or 1."));
        return (a, b) =>
        {
            Var va = Expr.Var("a", a), vb = Expr.Var("b", b);
            var y = Scalar("Grad", Call(() => f(va, vb)));
            return Reverse.GradientValues(y, [argnum == 0 ? va : vb], 1.0)[0];
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
        return (a, b, c) =>
        {
            Var va = Expr.Var("a", a), vb = Expr.Var("b", b), vc = Expr.Var("c", c);
            var y = Scalar("Grad", Call(() => f(va, vb, vc)));
            var g = Reverse.GradientValues(y, [va, vb, vc], 1.0);
            return (y.Value, (g[0], g[1], g[2]));
        };
    }

    // ------------------------------------------------------------------ named parameters

    /// <summary>The gradient of a scalar function of named parameters: a <see cref="Params"/> with the same names and shapes.</summary>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static Func<Params, Params> Grad(Func<ParamVars, Expr> f)
    {
        var vg = ValueAndGrad(f);
        return p => vg(p).Grad;
    }

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
        Guard.NotNull(f);
        var chosen = wrt?.ToImmutableArray();
        return p =>
        {
            Guard.NotNull(p);
            var (vars, targets) = Trace(p, chosen);
            var y = Scalar("Grad", Call(() => f(vars)));
            return (y.Value, ToParams(targets, Reverse.GradientValues(y, targets.CastArray<Expr>(), 1.0)));
        };
    }

    /// <summary>f(p) and its pullback for any output shape, with the cotangent mapped to a <see cref="Params"/>.</summary>
    /// <exception cref="ShapeMismatchException">From the pullback: the cotangent's shape is not the output's.</exception>
    public static Func<Params, (Value Value, Func<Value, Params> Pullback)> Vjp(Func<ParamVars, Expr> f)
    {
        Guard.NotNull(f);
        return p =>
        {
            Guard.NotNull(p);
            var (vars, _) = Trace(p, null);
            var y = Call(() => f(vars));
            var wrt = vars.Ordered.CastArray<Expr>();
            return (y.Value, ct => ToParams(vars.Ordered, Pull(y, wrt, ct)));
        };
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>Traced variables for every parameter, and the ones to differentiate by (all, or the chosen names).</summary>
    private static (ParamVars Vars, ImmutableArray<Var> Targets) Trace(Params p, ImmutableArray<string>? chosen)
    {
        var vars = new ParamVars(p.Select(e => Expr.Var(e.Key, e.Value)).ToImmutableArray());
        return (vars, chosen is { } names ? vars.Select(names) : vars.Ordered);
    }

    private static Params ToParams(ImmutableArray<Var> vars, ImmutableArray<Value> grads) =>
        Params.Of(vars.Select((v, k) => (v.Name, grads[k])).ToArray());

    private static ImmutableArray<Value> Pull(Expr y, ImmutableArray<Expr> wrt, Value cotangent)
    {
        if (cotangent.Shape != y.Shape)
            throw new ShapeMismatchException("Vjp pullback", y.Shape, cotangent.Shape,
                $"The cotangent must have the output's shape {y.Shape} (for PyTorch's backward(torch.ones_like(y)) pass Value.Full(shape, 1)).");
        return Reverse.GradientValues(y, wrt, cotangent);
    }

    private static Expr Call(Func<Expr, Expr> f, Expr x) => Call(() => f(x));

    private static Expr Call(Func<Expr> f) =>
        f() ?? throw new ArgumentException(UserCode.Mark("The function being differentiated returned null; it must return an Expr."), "f");

    private static Expr Scalar(string combinator, Expr y) =>
        y.Shape.IsScalar ? y : throw new NonScalarOutputException(combinator, y.Shape);
}
