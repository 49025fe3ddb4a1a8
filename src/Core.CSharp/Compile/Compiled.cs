using System;
using System.Collections.Generic;
using System.Linq;
using System.Runtime.CompilerServices;
using MathNet.Numerics.LinearAlgebra;

namespace Functional.Autodiff;

/// <summary>
/// The differentiation combinators of <see cref="AD"/>, compiled: trace once, run many. The returned function traces f
/// once per input form and shapes, on placeholder variables that have shapes but no values, builds the value and the
/// derivative as graphs with the ops' own rules, and flattens them into one program of kernel calls over buffers
/// planned once. Later calls with inputs of those shapes run the program: no tracing, no nodes, no sorting, and (after
/// the first calls) no allocation but the results. The numbers are those of the uncompiled combinator, bit for bit:
/// the program runs the same kernels in the same order. Switching is one word: <c>AD.ValueAndGrad(f)</c> becomes
/// <c>Compiled.ValueAndGrad(f)</c>, with the same overloads and the same delegate types. Second order too:
/// <see cref="Hvp(Func{Expr, Expr})"/> and <see cref="Hessian(Func{Expr, Expr})"/> compile forward over reverse.
/// </summary>
/// <remarks>
/// <para><b>When it pays</b>: when the function is called many times with inputs of the same shapes (a training loop,
/// an optimiser, a sampler). Compiling costs about one uncompiled call plus building the program.</para>
/// <para><b>What is baked in</b>: everything the function captures (arrays, numbers, <see cref="Value"/>s, models' data)
/// is read once, when the function is traced for a new shape, and kept in the program as constants. To change such
/// data between calls, make it an input (a leaf of the structured input) instead.</para>
/// <para><b>Control flow</b>: the trace has no input values, so f may not branch or loop on the <c>.Value</c> of a node
/// that depends on its inputs: reading one throws <see cref="CompileTraceException"/> naming the node and the line. Write
/// a value-dependent choice with <see cref="Expr.Where"/>, or use the uncompiled combinators, which trace at every call.
/// Branching on shapes, on captured constants or on anything else known at trace time is fine. A custom op whose rules
/// read values is refused the same way; one whose rules only build graphs compiles.</para>
/// <para><b>The cache</b>: each returned function keeps the programs of the last 8 input forms and shapes it met; a call with new shapes traces again and keeps both, the oldest evicted. It never
/// keeps an input value.</para>
/// <para><b>Threads</b>: a compiled function is a pure, thread-safe value: any number of threads may call it at once
/// (each run works in its own buffers, rented from a pool); there is no global mode.</para>
/// </remarks>
/// <example>
/// <code>
/// var vg = Compiled.ValueAndGrad(w =&gt; 3 * Expr.Dot(x, (w + 2).Pow(2)));   // x captured: a constant of the program
/// for (var step = 0; step &lt; 1000; step++) { var (loss, g) = vg(w); w = w - 0.01 * g; }
/// </code>
/// </example>
public static class Compiled
{
    // ------------------------------------------------------------------ one input

    /// <summary>∇f at x, compiled (see <see cref="AD.Grad(Func{Expr, Expr})"/>).</summary>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    /// <exception cref="CompileTraceException">From the returned function: f reads the value of a node depending on x.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Value, Value> Grad(Func<Expr, Expr> f) => Grad<Value, Expr>(f);

    /// <summary>f(x) and ∇f(x), compiled (see <see cref="AD.ValueAndGrad(Func{Expr, Expr})"/>).</summary>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    /// <exception cref="CompileTraceException">From the returned function: f reads the value of a node depending on x.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Value Grad)> ValueAndGrad(Func<Expr, Expr> f) => ValueAndGrad<Value, Expr>(f);

    /// <summary>
    /// f(x) and its pullback, compiled (see <see cref="AD.Vjp(Func{Expr, Expr})"/>). The pullback runs one program that
    /// recomputes the forward pass with the backward one, so it keeps nothing of the call but x.
    /// </summary>
    /// <exception cref="ShapeMismatchException">From the pullback: the cotangent's shape is not the output's.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Value, (Value Value, Func<Value, Value> Pullback)> Vjp(Func<Expr, Expr> f) => Vjp<Value, Expr>(f);

    /// <summary>f(x) and J·v by forward mode, compiled (see <see cref="AD.Jvp(Func{Expr, Expr})"/>).</summary>
    /// <exception cref="StructureException">From the returned function: v's shape is not x's.</exception>
    public static Func<Value, Value, (Value Value, Value Tangent)> Jvp(Func<Expr, Expr> f) => Jvp<Value, Expr>(f);

    /// <summary>
    /// The Hessian-vector product H·v of a scalar f, compiled (see <see cref="AD.Hvp(Func{Expr, Expr})"/>): one program
    /// with inputs x and v computes the tangent of the gradient graph (forward over reverse), without forming H.
    /// </summary>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    /// <exception cref="ShapeMismatchException">From the returned function: v's shape is not x's.</exception>
    /// <exception cref="CompileTraceException">From the returned function: f reads the value of a node depending on x.</exception>
    public static Func<Value, Value, Value> Hvp(Func<Expr, Expr> f) => Hvp<Value, Expr>(f);

    /// <summary>
    /// The Hessian of a scalar f at x, compiled (see <see cref="AD.Hessian(Func{Expr, Expr})"/>): per call, one program
    /// computes what the gradient's tangent reads of x alone, then the program of the tangent itself runs once per
    /// element of x, at the unit directions, each run filling one column.
    /// </summary>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    /// <exception cref="CompileTraceException">From the returned function: f reads the value of a node depending on x.</exception>
    /// <example>
    /// <code>
    /// var h = Compiled.Hessian(x =&gt; Expr.Sum(Expr.Tanh(Expr.MatMul(a, x))));
    /// Matrix&lt;double&gt; h0 = h(x0), h1 = h(x1);   // one trace, two runs of n programs each
    /// </code>
    /// </example>
    public static Func<Value, Matrix<double>> Hessian(Func<Expr, Expr> f)
    {
        var h = Hessian<Value, Expr>(f);
        return x => h(x).Block(0, 0);
    }

    // ------------------------------------------------------------------ two and three inputs

    /// <summary>The gradients of a scalar function of two inputs, compiled.</summary>
    public static Func<Value, Value, (Value, Value)> Grad(Func<Expr, Expr, Expr> f)
    {
        var vg = ValueAndGrad(f);
        return (a, b) => vg(a, b).Grad;
    }

    /// <summary>f(a, b) and its two gradients, compiled.</summary>
    public static Func<Value, Value, (Value Value, (Value, Value) Grad)> ValueAndGrad(Func<Expr, Expr, Expr> f)
    {
        Guard.NotNull(f);
        var vg = ValueAndGrad<(Value, Value), (Expr, Expr)>(t => f(t.Item1, t.Item2));
        return (a, b) => vg((a, b));
    }

    /// <summary>The gradient of a function of two inputs with respect to input <paramref name="argnum"/> (0 or 1), compiled.</summary>
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

    /// <summary>The gradients of a scalar function of three inputs, compiled.</summary>
    public static Func<Value, Value, Value, (Value, Value, Value)> Grad(Func<Expr, Expr, Expr, Expr> f)
    {
        var vg = ValueAndGrad(f);
        return (a, b, c) => vg(a, b, c).Grad;
    }

    /// <summary>f(a, b, c) and its three gradients, compiled.</summary>
    public static Func<Value, Value, Value, (Value Value, (Value, Value, Value) Grad)> ValueAndGrad(Func<Expr, Expr, Expr, Expr> f)
    {
        Guard.NotNull(f);
        var vg = ValueAndGrad<(Value, Value, Value), (Expr, Expr, Expr)>(t => f(t.Item1, t.Item2, t.Item3));
        return (a, b, c) => vg((a, b, c));
    }

    // ------------------------------------------------------------------ named parameters

    /// <summary>The gradient of a scalar function of named parameters, compiled.</summary>
    public static Func<Params, Params> Grad(Func<ParamVars, Expr> f) => Grad<Params, ParamVars>(f);

    /// <summary>f(p) and its gradient, compiled.</summary>
    public static Func<Params, (Value Value, Params Grad)> ValueAndGrad(Func<ParamVars, Expr> f) => ValueAndGrad(f, null);

    /// <summary>The gradient with respect to the named parameters only, compiled.</summary>
    /// <exception cref="KeyNotFoundException">From the returned function: a chosen name is not a parameter.</exception>
    public static Func<Params, Params> Grad(Func<ParamVars, Expr> f, params string[] wrt)
    {
        Guard.NotNull(wrt);
        var vg = ValueAndGrad(f, wrt);
        return p => vg(p).Grad;
    }

    /// <summary>f(p) and its gradient with respect to the named parameters only, compiled.</summary>
    /// <exception cref="KeyNotFoundException">From the returned function: a chosen name is not a parameter.</exception>
    public static Func<Params, (Value Value, Params Grad)> ValueAndGrad(Func<ParamVars, Expr> f, IEnumerable<string>? wrt)
    {
        var chosen = wrt?.ToArray();
        var vg = ValueAndGrad<Params, ParamVars>(f, chosen is null ? null : Wrt.Names(chosen));
        return p =>
        {
            Guard.NotNull(p);
            var (y, g) = vg(p);
            return (y, AD.Restrict(g, chosen));
        };
    }

    /// <summary>f(p) and its pullback, compiled.</summary>
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

    // ------------------------------------------------------------------ structured inputs

    /// <summary>∇f at a structured x, compiled (see <see cref="AD.Grad{TIn, TTraced}"/>).</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    public static Func<TIn, TIn> Grad<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        var c = new CompiledFunction<TIn, TTraced>(f, wrt, CompiledFunction<TIn, TTraced>.Mode.ValueAndGrad, "Compiled.Grad");
        return x => c.ValueAndGrad(x).Grad;
    }

    /// <summary>f(x) and ∇f(x) for a structured x, compiled (see <see cref="AD.ValueAndGrad{TIn, TTraced}"/>).</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    public static Func<TIn, (Value Value, TIn Grad)> ValueAndGrad<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null) =>
        new CompiledFunction<TIn, TTraced>(f, wrt, CompiledFunction<TIn, TTraced>.Mode.ValueAndGrad, "Compiled.ValueAndGrad").ValueAndGrad;

    /// <summary>f(x) and its pullback for a structured x, compiled (see <see cref="AD.Vjp{TIn, TTraced}"/>).</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    public static Func<TIn, (Value Value, Func<Value, TIn> Pullback)> Vjp<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null) =>
        new CompiledFunction<TIn, TTraced>(f, wrt, CompiledFunction<TIn, TTraced>.Mode.Vjp, "Compiled.Vjp").Vjp;

    /// <summary>f(x) and J·v for a structured x, compiled (see <see cref="AD.Jvp{TIn, TTraced}"/>).</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form; from the returned function, v's form or a leaf's shape differs from x's.</exception>
    public static Func<TIn, TIn, (Value Value, Value Tangent)> Jvp<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null) =>
        new CompiledFunction<TIn, TTraced>(f, wrt, CompiledFunction<TIn, TTraced>.Mode.Jvp, "Compiled.Jvp").Jvp;

    /// <summary>
    /// H·v of a scalar f for a structured x, in the input's form, compiled (see <see cref="AD.Hvp{TIn, TTraced}"/>):
    /// one program with inputs x and v. With <paramref name="wrt"/>, only the chosen leaves move, the rest of v is not
    /// read and the other entries of the result are zeros.
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form; from the returned function, v's form or a leaf's shape differs from x's.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    public static Func<TIn, TIn, TIn> Hvp<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null) =>
        new CompiledFunction<TIn, TTraced>(f, wrt, CompiledFunction<TIn, TTraced>.Mode.Hvp, "Compiled.Hvp").Hvp;

    /// <summary>
    /// The Hessian of a scalar f at a structured x in blocks per pair of chosen leaves, compiled (see
    /// <see cref="AD.Hessian{TIn, TTraced}"/>): per call, one program computes what the tangents read of x alone, then
    /// one program per chosen leaf j (the tangents of the gradients when leaf j moves) runs once per element of leaf j
    /// at its unit direction, filling column block j.
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    public static Func<TIn, Blocks> Hessian<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null) =>
        new CompiledFunction<TIn, TTraced>(f, wrt, CompiledFunction<TIn, TTraced>.Mode.Hessian, "Compiled.Hessian").Hessian;
}
