using System;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>
/// The state behind one compiled combinator: the function, what it computes, and a small cache of programs keyed by
/// the input's form and leaf shapes. The cache is an immutable array swapped atomically (readers take no lock), at most
/// <see cref="MaxPrograms"/> entries, the oldest evicted first. An entry keeps the form, the shapes, the placeholder
/// trace and the programs: constants the function captured, never an input value.
/// </summary>
internal sealed class CompiledFunction<TIn, TTraced>
{
    /// <summary>The most programs (input forms and shapes) one compiled function keeps.</summary>
    internal const int MaxPrograms = 8;

    internal enum Mode
    {
        ValueAndGrad,
        Vjp,
        Jvp,
    }

    /// <summary>The programs for one input form and shapes.</summary>
    internal sealed class Entry(AD.Traced<TIn, TTraced> trace, Shape[] shapes, Program main, Program? forward, Shape output,
        Func<Value, (Value, Value)>? straight = null)
    {
        public AD.Traced<TIn, TTraced> Trace { get; } = trace;

        public Shape[] Shapes { get; } = shapes;

        /// <summary>ValueAndGrad: inputs → value, gradients. Vjp: inputs, cotangent → cotangents. Jvp: inputs, tangents → value, tangent.</summary>
        public Program Main { get; } = main;

        /// <summary>Vjp only: inputs → value.</summary>
        public Program? Forward { get; } = forward;

        /// <summary>The function's output shape.</summary>
        public Shape Output { get; } = output;

        /// <summary>
        /// ValueAndGrad of one leaf whose tensors are all small: the main program as straight-line code over elements
        /// (<see cref="ScalarEmitter.CompileSmall"/>), the same numbers without frames or an interpreter; null otherwise.
        /// </summary>
        public Func<Value, (Value, Value)>? Straight { get; } = straight;

        public bool Matches(TreeDef? def, ReadOnlySpan<Value> leaves)
        {
            if (!Equals(Trace.Def, def) || leaves.Length != Shapes.Length) return false;
            for (var k = 0; k < leaves.Length; k++)
                if (leaves[k].Shape != Shapes[k]) return false;
            return true;
        }

        public bool Matches(TreeDef? def, Shape[] shapes) => Equals(Trace.Def, def) && shapes.AsSpan().SequenceEqual(Shapes);
    }

    private readonly Func<TTraced, Expr> f;
    private readonly Wrt? wrt;
    private readonly Mode mode;
    private readonly string name;
    private readonly bool singleLeaf;
    private Entry[] entries = [];

    public CompiledFunction(Func<TTraced, Expr> f, Wrt? wrt, Mode mode, string name)
    {
        Guard.NotNull(f);
        AD.CheckTraced<TIn, TTraced>(name);
        this.f = f;
        this.wrt = wrt;
        this.mode = mode;
        this.name = name;
        singleLeaf = AD.Traced<TIn, TTraced>.IsSingleLeaf(wrt);
    }

    /// <summary>The main program of every cached entry (for tests).</summary>
    internal Program[] Programs => Array.ConvertAll(Volatile.Read(ref entries), e => e.Main);

    /// <summary>For every cached entry, whether it runs as straight-line code (for tests).</summary>
    internal bool[] StraightLine => Array.ConvertAll(Volatile.Read(ref entries), e => e.Straight is not null);

    // ------------------------------------------------------------------ the combinators

    public (Value Value, TIn Grad) ValueAndGrad(TIn x)
    {
        if (!singleLeaf) return ValueAndGradOfTree(x);
        // The hot path of small programs is kept small (its frame is zeroed on every call); the others are calls.
        var leaf = typeof(TIn) == typeof(Value) ? (Value)(object)x! : LeafRule.ToValue(x);
        var e = Find(null, new ReadOnlySpan<Value>(in leaf)) ?? Add(x);
        if (e.Straight is not { } straight) return ValueAndGradOfLeaf(e.Main, leaf);
        if (typeof(TIn) == typeof(Value)) return ((Value, TIn))(object)straight(leaf); // the same type: no copy, no box
        var (value, grad) = straight(leaf);
        return (value, LeafRule.FromValue<TIn>(grad));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static (Value Value, TIn Grad) ValueAndGradOfLeaf(Program p, Value leaf)
    {
        var frame = p.Rent();
        try
        {
            p.SetInput(frame, 0, leaf);
            p.Run(frame);
            return (p.Output(frame, 0), LeafRule.FromValue<TIn>(p.Output(frame, 1)));
        }
        finally
        {
            p.Return(frame);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private (Value Value, TIn Grad) ValueAndGradOfTree(TIn x)
    {
        var (leaves, def) = Tree.Flatten(x);
        var entry = Find(def, leaves.AsSpan()) ?? Add(x);
        var outputs = Run(entry.Main, leaves.AsSpan(), default);
        return (outputs[0], entry.Trace.Result(outputs.RemoveAt(0)));
    }

    public (Value Value, Func<Value, TIn> Pullback) Vjp(TIn x)
    {
        var (leaves, def) = Leaves(x);
        var entry = Find(def, leaves.AsSpan()) ?? Add(x);
        var y = Run(entry.Forward!, leaves.AsSpan(), default)[0];
        return (y, ct =>
        {
            if (ct.Shape != entry.Output)
                throw new ShapeMismatchException("Vjp pullback", entry.Output, ct.Shape,
                    $"The cotangent must have the output's shape {entry.Output} (for PyTorch's backward(torch.ones_like(y)) pass Value.Full(shape, 1)).");
            return entry.Trace.Result(Run(entry.Main, leaves.AsSpan(), new ReadOnlySpan<Value>(in ct)));
        });
    }

    public (Value Value, Value Tangent) Jvp(TIn x, TIn v)
    {
        var (leaves, def) = Leaves(x);
        var entry = Find(def, leaves.AsSpan()) ?? Add(x);
        var all = entry.Trace.SameForm(v, name, "tangent");
        var mask = entry.Trace.Mask;
        var chosen = ImmutableArray.CreateBuilder<Value>();
        for (var k = 0; k < all.Length; k++)
            if (mask is null || mask[k]) chosen.Add(all[k]);
        var outputs = Run(entry.Main, leaves.AsSpan(), chosen.ToImmutable().AsSpan());
        return (outputs[0], outputs[1]);
    }

    // ------------------------------------------------------------------ programs

    private static ImmutableArray<Value> Run(Program p, ReadOnlySpan<Value> leaves, ReadOnlySpan<Value> extra)
    {
        var frame = p.Rent();
        try
        {
            for (var k = 0; k < leaves.Length; k++) p.SetInput(frame, k, leaves[k]);
            for (var k = 0; k < extra.Length; k++) p.SetInput(frame, leaves.Length + k, extra[k]);
            p.Run(frame);
            var result = ImmutableArray.CreateBuilder<Value>(p.OutputCount);
            for (var k = 0; k < p.OutputCount; k++) result.Add(p.Output(frame, k));
            return result.MoveToImmutable();
        }
        finally
        {
            p.Return(frame);
        }
    }

    private (ImmutableArray<Value> Leaves, TreeDef? Def) Leaves(TIn x)
    {
        if (singleLeaf) return ([LeafRule.ToValue(x)], null);
        var (leaves, def) = Tree.Flatten(x);
        return (leaves, def);
    }

    private Entry? Find(TreeDef? def, ReadOnlySpan<Value> leaves)
    {
        foreach (var e in Volatile.Read(ref entries))
            if (e.Matches(def, leaves)) return e;
        return null;
    }

    /// <summary>Traces f once at x's form and shapes, builds the programs, and adds them to the cache.</summary>
    private Entry Add(TIn x)
    {
        var t = AD.Traced<TIn, TTraced>.Of(x, wrt, name, placeholders: true);
        var y = AD.Call(() => f(t.Arg));
        var vars = t.Vars.AsSpan();
        var shapes = new Shape[vars.Length];
        for (var k = 0; k < shapes.Length; k++) shapes[k] = vars[k].Shape;
        Entry entry;
        switch (mode)
        {
            case Mode.ValueAndGrad:
            {
                var grads = Reverse.Gradients(AD.Scalar(name, y), t.Targets, Expr.Const(1.0));
                var straight = singleLeaf ? ScalarEmitter.CompileSmall(vars[0], y, grads[0]) : null;
                entry = new Entry(t, shapes, Program.Build(vars, [y, .. grads]), null, y.Shape, straight);
                break;
            }
            case Mode.Vjp:
            {
                var ct = new Var("cotangent", y.Shape, true);
                var grads = Reverse.Gradients(y, t.Targets, ct);
                entry = new Entry(t, shapes, Program.Build([.. vars, ct], grads.AsSpan()), Program.Build(vars, [y]), y.Shape);
                break;
            }
            default:
            {
                var tangents = ImmutableArray.CreateBuilder<Var>(t.Targets.Length);
                foreach (var target in t.Targets) tangents.Add(new Var("d" + ((Var)target).Name, target.Shape, true));
                var dx = tangents.MoveToImmutable();
                var tangent = Forward.Tangent(y, t.Targets, dx.CastArray<Expr>());
                entry = new Entry(t, shapes, Program.Build([.. vars, .. dx], [y, tangent]), null, y.Shape);
                break;
            }
        }
        while (true)
        {
            var current = Volatile.Read(ref entries);
            foreach (var e in current)
                if (e.Matches(t.Def, shapes)) return e; // another thread was first
            var keep = current.Length < MaxPrograms ? current : current.AsSpan(1).ToArray();
            Entry[] next = [.. keep, entry];
            if (Interlocked.CompareExchange(ref entries, next, current) == current) return entry;
        }
    }
}
