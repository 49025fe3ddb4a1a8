using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Functional.Autodiff;

/// <summary>
/// The anomaly check: evaluates a function and its gradient (or its tangent) and names the first node whose value,
/// cotangent or tangent is not finite, with its op, shapes, input values and the line of your code that built it.
/// A pure function returning an <see cref="AnomalyReport"/>: there is no mode to switch on or reset, nothing is
/// thrown for an anomaly and nothing is printed.
/// </summary>
/// <remarks>
/// <para>"First" for values is the first node in evaluation order whose value is not finite; its inputs are then
/// finite, so it is where the non-finite number was made. For cotangents it is the first rule in the reverse walk
/// that made a non-finite contribution from a finite cotangent, preferring one whose inputs and output were finite
/// too (a rule given a value that is already not finite only repeats what the value anomaly says). For tangents it
/// is the same in evaluation order, from finite input tangents.</para>
/// <para>The source line is the first stack frame outside this library's assemblies (Functional.Autodiff and
/// Functional.Autodiff.FSharp) that has file information, so it needs the caller's debug symbols (PDBs); in an
/// optimised build the JIT may inline a small method of yours, and the line is then its caller's. A node built only
/// from constants (one that does not depend on the checked input) has no recorded line.</para>
/// </remarks>
/// <example>
/// <code>
/// var report = Anomaly.Check(x =&gt; Expr.Sqrt(x) + Expr.Log(x), 0.0);
/// Console.WriteLine(report);
/// // log at Model.cs:42 produced -Infinity from input 0
/// // sqrt's gradient rule at Model.cs:42 produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)
/// </code>
/// </example>
public static class Anomaly
{
    // How the line is found, and why it costs nothing on the normal path.
    //
    // The check traces f on variables that carry an AnomalyRecorder. Expr.Build hands the recorder on from a node's
    // inputs to the node (a field on Var and Apply, null everywhere else), so exactly the nodes of the checked trace
    // know it; outside the check the only cost is one null check per input of each node built. There is no global
    // or thread-static mode: the context travels with the graph, so nested and concurrent checks cannot see each other.
    //
    // Capturing a stack trace with file information for every node would make a big graph's check very slow, so it
    // takes two passes. Pass 1 records only the order in which the nodes were built, evaluates, runs the reverse (or
    // forward) pass with an observer, and finds the anomalous nodes. Pass 2 traces f again with a recorder that
    // captures the stack only when the node with that creation ordinal is built. If that node does not have the same
    // op and shapes as in pass 1, f did not build the same graph twice (it is not deterministic), and the report says
    // so instead of naming a line that may be wrong. Pass 2 runs only when there is an anomaly with a recorded node.

    /// <summary>
    /// Checks f and its gradient at <paramref name="x"/> for a scalar-valued f (for other outputs pass a cotangent).
    /// </summary>
    /// <param name="f">The function to check, as you would give it to <see cref="AD.ValueAndGrad(Func{Expr, Expr})"/>.</param>
    /// <param name="x">Where to check it.</param>
    /// <returns>The report: <see cref="AnomalyReport.IsFinite"/>, or the first value and cotangent anomalies.</returns>
    /// <exception cref="ArgumentNullException">f is null.</exception>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar: use the overload with a cotangent.</exception>
    /// <example><c>Anomaly.Check(x =&gt; Expr.Log(x), -1.0).ToString()</c> is <c>log at Model.cs:42 produced NaN from input -1</c>.</example>
    public static AnomalyReport Check(Func<Expr, Expr> f, Value x)
    {
        Guard.NotNull(f);
        return Run(One(f, x), AnomalyKind.Cotangent, null);
    }

    /// <summary>Checks f and its vector-Jacobian product with <paramref name="cotangent"/> (of the output's shape) at x.</summary>
    /// <param name="f">The function to check; any output shape.</param>
    /// <param name="x">Where to check it.</param>
    /// <param name="cotangent">The output cotangent, as for <see cref="AD.Vjp(Func{Expr, Expr})"/>'s pullback; finite.</param>
    /// <exception cref="ArgumentNullException">f is null.</exception>
    /// <exception cref="ArgumentException">The cotangent is not finite.</exception>
    /// <exception cref="ShapeMismatchException">The cotangent's shape is not the output's.</exception>
    public static AnomalyReport Check(Func<Expr, Expr> f, Value x, Value cotangent)
    {
        Guard.NotNull(f);
        RequireFinite(cotangent, nameof(cotangent));
        return Run(One(f, x), AnomalyKind.Cotangent, cotangent);
    }

    /// <summary>Checks a scalar-valued function of named parameters and its gradient at <paramref name="p"/>.</summary>
    /// <param name="f">The function to check, reading its parameters by name.</param>
    /// <param name="p">Where to check it.</param>
    /// <exception cref="ArgumentNullException">f or p is null.</exception>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar: use the overload with a cotangent.</exception>
    public static AnomalyReport Check(Func<ParamVars, Expr> f, Params p)
    {
        Guard.NotNull(f);
        Guard.NotNull(p);
        return Run(Named(f, p), AnomalyKind.Cotangent, null);
    }

    /// <summary>Checks a function of named parameters and its vector-Jacobian product with <paramref name="cotangent"/>.</summary>
    /// <param name="f">The function to check; any output shape.</param>
    /// <param name="p">Where to check it.</param>
    /// <param name="cotangent">The output cotangent, of the output's shape; finite.</param>
    /// <exception cref="ArgumentNullException">f or p is null.</exception>
    /// <exception cref="ArgumentException">The cotangent is not finite.</exception>
    /// <exception cref="ShapeMismatchException">The cotangent's shape is not the output's.</exception>
    public static AnomalyReport Check(Func<ParamVars, Expr> f, Params p, Value cotangent)
    {
        Guard.NotNull(f);
        Guard.NotNull(p);
        RequireFinite(cotangent, nameof(cotangent));
        return Run(Named(f, p), AnomalyKind.Cotangent, cotangent);
    }

    /// <summary>
    /// Checks f and its directional derivative J·v at x by forward mode (as <see cref="AD.Jvp(Func{Expr, Expr})"/>):
    /// the derivative anomaly is then a tangent one.
    /// </summary>
    /// <param name="f">The function to check; any output shape.</param>
    /// <param name="x">Where to check it.</param>
    /// <param name="tangent">The direction v, of x's shape; finite.</param>
    /// <exception cref="ArgumentNullException">f is null.</exception>
    /// <exception cref="ArgumentException">The tangent is not finite.</exception>
    /// <exception cref="ShapeMismatchException">The tangent's shape is not the input's.</exception>
    public static AnomalyReport CheckJvp(Func<Expr, Expr> f, Value x, Value tangent)
    {
        Guard.NotNull(f);
        if (tangent.Shape != x.Shape)
            throw new ShapeMismatchException("Anomaly.CheckJvp", x.Shape, tangent.Shape, $"The tangent must have the input's shape {x.Shape}.");
        RequireFinite(tangent, nameof(tangent));
        return Run(One(f, x), AnomalyKind.Tangent, null, [tangent]);
    }

    /// <summary>
    /// Checks a scalar-valued function of a structured input (a tuple, array, record, dictionary, <see cref="Params"/>…;
    /// see <see cref="Tree"/>) and its gradient at x; <typeparamref name="TTraced"/> is x's traced form, as for
    /// <see cref="AD.Grad{TIn, TTraced}"/>. Anomalies at the inputs are named by the input's path (<c>layers[1].w</c>).
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="NonScalarOutputException">f's output is not a scalar.</exception>
    public static AnomalyReport Check<TIn, TTraced>(Func<TTraced, Expr> f, TIn x)
    {
        Guard.NotNull(f);
        AD.CheckTraced<TIn, TTraced>("Anomaly.Check");
        return Run(Structured(f, x, out _), AnomalyKind.Cotangent, null);
    }

    /// <summary>Checks f and its directional derivative J·v at a structured x by forward mode; the tangent has x's form and is finite.</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or the tangent's form or a leaf's shape differs from x's.</exception>
    /// <exception cref="ArgumentException">The tangent is not finite.</exception>
    public static AnomalyReport CheckJvp<TIn, TTraced>(Func<TTraced, Expr> f, TIn x, TIn tangent)
    {
        Guard.NotNull(f);
        AD.CheckTraced<TIn, TTraced>("Anomaly.CheckJvp");
        var trace = Structured(f, x, out var flat);
        var tangents = Tree.Same(flat.Def, flat.Leaves, tangent, "Anomaly.CheckJvp", "tangent");
        foreach (var t in tangents) RequireFinite(t, nameof(tangent));
        return Run(trace, AnomalyKind.Tangent, null, tangents);
    }

    // ------------------------------------------------------------------ the two passes

    /// <summary>Traces f once on inputs that carry <paramref name="recorder"/>: the output and the inputs.</summary>
    private delegate (Expr Output, ImmutableArray<Expr> Inputs) Tracer(AnomalyRecorder recorder);

    /// <summary>An anomaly seen in pass 1 and its node (held only until pass 1 ends, so the graph can go).</summary>
    private sealed record Sighting(NodeAnomaly Anomaly, Expr Node);

    /// <summary>An anomaly after pass 1: its node's creation ordinal to look up in pass 2 (−1: none), and its op.</summary>
    private sealed record Pending(NodeAnomaly Anomaly, int Ordinal, Op? Op);

    private static Tracer One(Func<Expr, Expr> f, Value x) => recorder =>
    {
        var v = new Var("x", x, recorder);
        return (Invoke(f, v), [v]);
    };

    private static Tracer Named(Func<ParamVars, Expr> f, Params p) => recorder =>
    {
        var vars = new ParamVars(p.Entries.Select(e => new Var(e.Key, e.Value, recorder)).ToImmutableArray());
        return (Invoke(f, vars), vars.Ordered.CastArray<Expr>());
    };

    private static Tracer Structured<TIn, TTraced>(Func<TTraced, Expr> f, TIn x, out (ImmutableArray<Value> Leaves, TreeDef Def) flat)
    {
        var (leaves, def) = flat = Tree.Flatten(x);
        var paths = def.IsLeaf ? ["x"] : def.Paths;
        return recorder =>
        {
            var vars = leaves.Select((v, k) => (Expr)new Var(paths[k], v, recorder)).ToImmutableArray();
            return (Invoke(f, (TTraced)Tree.BuildTraced(Tree.RuleOf<TIn>.Value.Traced, def, vars)!), vars);
        };
    }

    // Not optimised, so the JIT never inlines the user's function into this frame (guarded devirtualisation of a
    // hot delegate call would otherwise hide the user's frame from the stack trace).
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.NoOptimization)]
    private static Expr Invoke<T>(Func<T, Expr> f, T input) =>
        f(input) ?? throw new ArgumentException(UserCode.Mark("The function being checked returned null; it must return an Expr."), "f");

    private static AnomalyReport Run(Tracer trace, AnomalyKind kind, Value? cotangent, ImmutableArray<Value> tangents = default)
    {
        var (value, derivative) = FirstPass(trace, kind, cotangent, tangents);
        int[] ordinals = [value?.Ordinal ?? -1, derivative?.Ordinal ?? -1];
        var found = new (Apply Node, SourceSite? Site)?[ordinals.Length];
        if (ordinals.Any(o => o >= 0))
        {
            var locator = new AnomalyRecorder(ordinals);
            trace(locator);
            locator.Close();
            found = locator.Found;
        }
        return new AnomalyReport(kind, Resolve(value, found[0]), Resolve(derivative, found[1]));
    }

    /// <summary>Pass 1: trace, evaluate, differentiate with an observer; the graph is dropped when this returns.</summary>
    private static (Pending? Value, Pending? Derivative) FirstPass(Tracer trace, AnomalyKind kind, Value? cotangent, ImmutableArray<Value> tangents)
    {
        var recorder = new AnomalyRecorder();
        var (y, inputs) = trace(recorder);
        recorder.Close(); // rule graphs built from the trace below (forward mode) are not the user's nodes
        _ = y.Value; // a graph over an unbound variable fails here, naming it
        var watch = new Watch();
        Sighting? value;
        if (kind == AnomalyKind.Tangent)
        {
            value = FirstValueAnomaly(y);
            Forward.Tangent(y, inputs, tangents.Select(t => Expr.Const(t)).ToImmutableArray(), watch.SeeTangent);
        }
        else
        {
            var seed = cotangent ?? (y.Shape.IsScalar ? Value.Scalar(1.0) : throw new NonScalarOutputException("Anomaly.Check", y.Shape));
            if (seed.Shape != y.Shape)
                throw new ShapeMismatchException("Anomaly.Check", y.Shape, seed.Shape, $"The cotangent must have the output's shape {y.Shape}.");
            value = FirstValueAnomaly(y);
            watch.SeeGradients(inputs, Reverse.GradientValues(y, inputs, seed, watch.SeeCotangent));
        }
        return (Locate(value, recorder), Locate(watch.First, recorder));
    }

    private static Sighting? FirstValueAnomaly(Expr y)
    {
        using var sorted = new SortedGraph(y);
        foreach (var node in sorted.Order)
            if (FirstNonFinite(node.Value) is var e && e >= 0)
                return Describe(AnomalyKind.Value, node, null, [], node.Value, e);
        return null;
    }

    /// <summary>The creation ordinal of the anomaly's node, for pass 2; or, when pass 1 did not record it, why not.</summary>
    private static Pending? Locate(Sighting? sighting, AnomalyRecorder recorder)
    {
        if (sighting is not { Anomaly: var anomaly, Node: var node }) return null;
        if (node is not Apply apply) return new Pending(anomaly, -1, null); // a leaf: an input or a constant
        var ordinal = recorder.OrdinalOf(apply);
        return ordinal >= 0
            ? new Pending(anomaly, ordinal, apply.Op)
            : new Pending(anomaly.WithSite(null, "it does not depend on the checked input, so where it was built was not recorded"), -1, apply.Op);
    }

    /// <summary>Pass 2's verdict on one anomaly: the line when the node built again is the same, or why there is none.</summary>
    private static NodeAnomaly? Resolve(Pending? pending, (Apply Node, SourceSite? Site)? found)
    {
        if (pending is null) return null;
        var a = pending.Anomaly;
        if (pending.Ordinal < 0) return a;
        if (found is not { } hit || !hit.Node.Op.Equals(pending.Op) || hit.Node.Shape != a.Shape
            || !hit.Node.Inputs.Select(i => i.Shape).SequenceEqual(a.InputShapes))
            return a.WithSite(null, "f built a different graph when it was traced again (it is not deterministic), so where this node was built is not known");
        return hit.Site is { } site
            ? a.WithSite(site, null)
            : a.WithSite(null, "no stack frame outside the library had file information (build your code with debug symbols)");
    }

    private static Sighting Describe(AnomalyKind kind, Expr node, int? input, ImmutableArray<Value> incoming, Value produced, int element)
    {
        var name = node switch
        {
            Apply app => app.Op.ToString(),
            Var v => $"input {v.Name}",
            _ => "a constant",
        };
        var anomaly = new NodeAnomaly(kind, name, node is not Apply, node.Shape, node.Inputs.Select(i => i.Shape).ToImmutableArray(),
            node.Inputs.Select(i => i.Value).ToImmutableArray(), node.Value, input, incoming, produced, element, null, null);
        return new Sighting(anomaly, node);
    }

    /// <summary>Watches the reverse or forward pass of pass 1 for the first derivative anomaly.</summary>
    private sealed class Watch
    {
        private Sighting? clean;      // the first made from finite numbers only: inputs, output and incoming derivative
        private Sighting? propagated; // the first made from a finite incoming derivative at a value already not finite
        private bool sawNonFinite;

        public Sighting? First => clean ?? propagated;

        public void SeeCotangent(Apply node, int input, Value ybar, Value g)
        {
            if (!sawNonFinite && FirstNonFinite(ybar) is var s && s >= 0)
            {
                // Every contribution so far was finite, so this cotangent is a sum of finite numbers that overflowed.
                sawNonFinite = true;
                clean = Describe(AnomalyKind.Cotangent, node, null, [], ybar, s);
            }
            var e = FirstNonFinite(g);
            if (e < 0) return;
            sawNonFinite = true;
            if (clean is not null || FirstNonFinite(ybar) >= 0) return; // found already, or carried from an earlier anomaly
            if (AllFinite(node)) clean = Describe(AnomalyKind.Cotangent, node, input, [ybar], g, e);
            else propagated ??= Describe(AnomalyKind.Cotangent, node, input, [ybar], g, e);
        }

        /// <summary>After the reverse pass: a non-finite gradient that no contribution explains is a sum that overflowed.</summary>
        public void SeeGradients(ImmutableArray<Expr> inputs, ImmutableArray<Value> gradients)
        {
            for (var k = 0; k < inputs.Length && !sawNonFinite; k++)
                if (FirstNonFinite(gradients[k]) is var e && e >= 0)
                {
                    sawNonFinite = true;
                    clean = Describe(AnomalyKind.Cotangent, inputs[k], null, [], gradients[k], e);
                }
        }

        public void SeeTangent(Apply node, ReadOnlySpan<Expr?> dx, Expr? tangent)
        {
            if (clean is not null || tangent is not { HasValue: true }) return;
            var e = FirstNonFinite(tangent.Value);
            if (e < 0) return;
            var incoming = ImmutableArray.CreateBuilder<Value>(dx.Length);
            for (var i = 0; i < dx.Length; i++)
            {
                var t = dx[i] is { HasValue: true } d ? d.Value : Value.Zeros(node.Inputs[i].Shape);
                if (FirstNonFinite(t) >= 0) return; // carried from an earlier anomaly
                incoming.Add(t);
            }
            if (AllFinite(node)) clean = Describe(AnomalyKind.Tangent, node, null, incoming.MoveToImmutable(), tangent.Value, e);
            else propagated ??= Describe(AnomalyKind.Tangent, node, null, incoming.MoveToImmutable(), tangent.Value, e);
        }

        private static bool AllFinite(Apply node) => FirstNonFinite(node.Value) < 0 && node.Inputs.All(i => FirstNonFinite(i.Value) < 0);
    }

    // ------------------------------------------------------------------ helpers

    /// <summary>The index of the first element that is not finite (column-major), or −1 when all are.</summary>
    internal static int FirstNonFinite(Value v)
    {
        if (v.Shape.IsScalar) return double.IsFinite(v.ToScalar()) ? -1 : 0;
        var d = v.Span;
        for (var k = 0; k < d.Length; k++)
            if (!double.IsFinite(d[k])) return k;
        return -1;
    }

    private static void RequireFinite(Value v, string name)
    {
        if (FirstNonFinite(v) is var e && e >= 0)
            throw new ArgumentException(UserCode.Mark($"The {name} must be finite for the check to mean anything, but element {e} of {v.Shape} is not: {v}."), name);
    }

    /// <summary>The first frame outside the library's assemblies that has file information, or null (see <see cref="UserCode"/>).</summary>
    internal static SourceSite? UserSite(StackTrace trace) => UserCode.Site(trace, MemberOf);

    /// <summary>"Type.Member", seen through compiler-made names: a C# lambda's &lt;Member&gt;b__0_0, an F# closure's binding@12.</summary>
    private static string MemberOf(MethodBase method)
    {
        var name = method.Name;
        if (name.StartsWith('<') && name.IndexOf('>') is var end && end > 1) name = name[1..end];
        var type = method.DeclaringType;
        var named = false;
        while (type is { DeclaringType: not null } && (type.Name.StartsWith('<') || type.Name.Contains('@')))
        {
            if (!named && type.Name.IndexOf('@') is var at && at > 0) (name, named) = (type.Name[..at], true);
            type = type.DeclaringType;
        }
        return type is null ? name : $"{type.Name}.{name}";
    }
}

/// <summary>What an anomaly is about.</summary>
public enum AnomalyKind
{
    /// <summary>A node's value is not finite.</summary>
    Value,

    /// <summary>A reverse rule (VJP) made a cotangent that is not finite, or finite cotangents summed to one that is not.</summary>
    Cotangent,

    /// <summary>A forward rule (JVP) made a tangent that is not finite.</summary>
    Tangent,
}

/// <summary>Where your code built a node: the first stack frame outside the library that has file information.</summary>
/// <param name="File">The source file's full path.</param>
/// <param name="Line">The line in it.</param>
/// <param name="Member">The member that built the node, e.g. "Model.Forward" (the member a lambda is written in).</param>
public sealed record SourceSite(string File, int Line, string Member)
{
    /// <summary>"Model.cs:42": the file's name without its folder, and the line.</summary>
    public override string ToString() => $"{Path.GetFileName(File)}:{Line}";
}

/// <summary>
/// One anomaly of an <see cref="AnomalyReport"/>: the node, or the rule of a node, that first made a number that is
/// not finite, with what it was given and where your code built it. Immutable.
/// </summary>
public sealed class NodeAnomaly
{
    private readonly bool isLeaf;

    internal NodeAnomaly(AnomalyKind kind, string op, bool isLeaf, Shape shape, ImmutableArray<Shape> inputShapes,
        ImmutableArray<Value> inputValues, Value output, int? input, ImmutableArray<Value> incoming, Value produced,
        int element, SourceSite? site, string? siteNote)
    {
        Kind = kind;
        Op = op;
        this.isLeaf = isLeaf;
        Shape = shape;
        InputShapes = inputShapes;
        InputValues = inputValues;
        Output = output;
        Input = input;
        Incoming = incoming;
        Produced = produced;
        Element = element;
        Site = site;
        SiteNote = siteNote;
    }

    /// <summary>A value, cotangent or tangent anomaly.</summary>
    public AnomalyKind Kind { get; }

    /// <summary>The node's op, e.g. "log" or "pow 2"; for a leaf, "input x" or "a constant".</summary>
    public string Op { get; }

    /// <summary>The node's shape.</summary>
    public Shape Shape { get; }

    /// <summary>The shapes of the node's inputs (empty for a leaf).</summary>
    public ImmutableArray<Shape> InputShapes { get; }

    /// <summary>The values of the node's inputs (printed bounded, like every <see cref="Functional.Autodiff.Value"/>).</summary>
    public ImmutableArray<Value> InputValues { get; }

    /// <summary>The node's own value.</summary>
    public Value Output { get; }

    /// <summary>For a cotangent anomaly, the input whose cotangent the rule made; null otherwise (and for a sum that overflowed).</summary>
    public int? Input { get; }

    /// <summary>
    /// What the rule was given, all finite: the node's cotangent (one value) for a cotangent anomaly, its inputs'
    /// tangents (zeros for an input that does not move) for a tangent anomaly; empty for a value anomaly.
    /// </summary>
    public ImmutableArray<Value> Incoming { get; }

    /// <summary>What was made: the node's value, the cotangent contribution, or the tangent.</summary>
    public Value Produced { get; }

    /// <summary>The index (column-major) of the first element of <see cref="Produced"/> that is not finite.</summary>
    public int Element { get; }

    /// <summary>That element: NaN, Infinity or -Infinity.</summary>
    public double NonFinite => Produced.Shape.IsScalar ? Produced.ToScalar() : Produced[Element];

    /// <summary>Where your code built the node, or null (then <see cref="SiteNote"/> says why; always null for a leaf).</summary>
    public SourceSite? Site { get; }

    /// <summary>Why <see cref="Site"/> is null for an op node (not deterministic, no debug symbols, ...); null otherwise.</summary>
    public string? SiteNote { get; }

    internal NodeAnomaly WithSite(SourceSite? site, string? note) =>
        new(Kind, Op, isLeaf, Shape, InputShapes, InputValues, Output, Input, Incoming, Produced, Element, site, note);

    /// <summary>One line, e.g. <c>log at Model.cs:42 produced -Infinity from input 0</c>.</summary>
    public override string ToString()
    {
        var at = Site is null ? "" : $" at {Site}";
        var made = Functional.Autodiff.Value.Format(NonFinite) + (Produced.Shape.IsScalar ? "" : $" at element {Element} of {Produced.Shape}");
        var text = Kind switch
        {
            AnomalyKind.Value when isLeaf => $"{Op} is {made}",
            AnomalyKind.Value => $"{Op}{at} produced {made} from {Plural("input", InputValues)}",
            AnomalyKind.Cotangent when Input is null => $"the finite cotangents summed into {Op}{at} overflowed to {made}",
            AnomalyKind.Cotangent => $"{Op}'s gradient rule{at} produced {made} for input {Input} from a finite cotangent {Incoming[0]} ({Context()})",
            _ => $"{Op}'s tangent rule{at} produced {made} from {(Incoming.Length == 1 ? "a finite tangent" : "finite tangents")} {string.Join(", ", Incoming)} ({Context()})",
        };
        return SiteNote is null ? text : $"{text} (no source line: {SiteNote})";
    }

    private string Context() => $"{Plural("input", InputValues)}, output {Output}";

    private static string Plural(string word, ImmutableArray<Value> values) =>
        $"{word}{(values.Length == 1 ? "" : "s")} {string.Join(", ", values)}";
}

/// <summary>
/// What <see cref="Anomaly"/> found: the first value anomaly and the first cotangent (or tangent) anomaly, each null
/// when there is none. Immutable; printing it gives one line per anomaly.
/// </summary>
public sealed class AnomalyReport
{
    internal AnomalyReport(AnomalyKind derivativeKind, NodeAnomaly? valueAnomaly, NodeAnomaly? derivativeAnomaly)
    {
        DerivativeKind = derivativeKind;
        ValueAnomaly = valueAnomaly;
        DerivativeAnomaly = derivativeAnomaly;
    }

    /// <summary>Which derivative was checked: <see cref="AnomalyKind.Cotangent"/> (reverse mode) or <see cref="AnomalyKind.Tangent"/> (forward).</summary>
    public AnomalyKind DerivativeKind { get; }

    /// <summary>The first node in evaluation order whose value is not finite, or null.</summary>
    public NodeAnomaly? ValueAnomaly { get; }

    /// <summary>The first rule that made a cotangent (or tangent) that is not finite from finite ones, or null.</summary>
    public NodeAnomaly? DerivativeAnomaly { get; }

    /// <summary>True when every value and every cotangent (or tangent) was finite.</summary>
    public bool IsFinite => ValueAnomaly is null && DerivativeAnomaly is null;

    /// <summary>True when some value, cotangent or tangent was not finite.</summary>
    public bool HasAnomaly => !IsFinite;

    /// <summary>One line per anomaly, the value's first; or a line saying that everything was finite.</summary>
    public override string ToString() =>
        IsFinite
            ? $"no anomaly: every value and {(DerivativeKind == AnomalyKind.Tangent ? "tangent" : "cotangent")} is finite"
            : string.Join("\n", new[] { ValueAnomaly, DerivativeAnomaly }.OfType<NodeAnomaly>());
}

/// <summary>The anomaly check's hook into the reverse pass: node's input <paramref name="input"/> receives <paramref name="contribution"/> from the node's cotangent <paramref name="ybar"/>.</summary>
internal delegate void CotangentObserver(Apply node, int input, Value ybar, Value contribution);

/// <summary>The anomaly check's hook into the forward pass: the node's tangent (null is zero) from its inputs' tangents.</summary>
internal delegate void TangentObserver(Apply node, ReadOnlySpan<Expr?> dx, Expr? tangent);

/// <summary>
/// The context the anomaly check's traced variables carry, handed on by <see cref="Expr.Build"/> to every node built
/// from them. Pass 1 (no targets) records the nodes in the order they are built; pass 2 captures the stack only
/// when the node of a target ordinal is built. Local to one check; closed once f has returned.
/// </summary>
internal sealed class AnomalyRecorder
{
    private readonly object gate = new(); // f may build nodes on several threads
    private readonly List<Apply>? built;
    private readonly int[] targets;
    private int count;
    private bool closed;

    /// <summary>Pass 1: records the creation order.</summary>
    public AnomalyRecorder()
    {
        built = [];
        targets = [];
        Found = [];
    }

    /// <summary>Pass 2: captures the user's site of the nodes with these creation ordinals (−1: none).</summary>
    public AnomalyRecorder(int[] targets)
    {
        this.targets = targets;
        Found = new (Apply, SourceSite?)?[targets.Length];
    }

    /// <summary>For each target, the node built at that ordinal and its user site; null when f built fewer nodes.</summary>
    public (Apply Node, SourceSite? Site)?[] Found { get; }

    /// <summary>Called by <see cref="Expr.Build"/> for each node built from a recording input.</summary>
    public void Built(Apply node)
    {
        lock (gate)
        {
            if (closed) return;
            var ordinal = count++;
            built?.Add(node);
            for (var t = 0; t < targets.Length; t++)
                if (targets[t] == ordinal) Found[t] = (node, Anomaly.UserSite(new StackTrace(true)));
        }
    }

    /// <summary>Stops recording: nodes built after f returned (rule graphs) are not the user's.</summary>
    public void Close()
    {
        lock (gate) closed = true;
    }

    /// <summary>The creation ordinal of a node of this trace, or −1 when this recorder did not record it.</summary>
    public int OrdinalOf(Apply node)
    {
        if (!ReferenceEquals(node.Recorder, this) || built is null) return -1;
        lock (gate) return built.IndexOf(node);
    }
}
