using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>A compiled value-and-gradient that can run with its gradients left in its frame (<see cref="BorrowedRun"/>).</summary>
internal interface IBorrowingValueAndGrad<in TIn>
{
    /// <summary>
    /// The value and the gradients at <paramref name="x"/>, bit for bit those of the compiled function, with the
    /// gradients' storage in the program's frame: read them, then dispose the run (which hands the frame back).
    /// </summary>
    BorrowedRun RunBorrowed(TIn x);
}

/// <summary>
/// One run of a program whose outputs live in its frame: output 0 is the value, output 1 + c the gradient of the c-th
/// chosen leaf (<see cref="Mask"/>, null when every leaf is chosen). The Values are good until <see cref="Dispose"/>.
/// </summary>
internal readonly struct BorrowedRun(Program program, Program.Frame frame, bool[]? mask) : IDisposable
{
    public Value Value => program.Output(frame, 0);

    public Value Grad(int chosen) => program.Output(frame, 1 + chosen);

    public bool[]? Mask => mask;

    public void Dispose() => program.Return(frame);
}

/// <summary>
/// The state behind one compiled combinator: the function, what it computes, and a small cache of programs keyed by
/// the input's form and leaf shapes. The cache is an immutable array swapped atomically (readers take no lock), at most
/// <see cref="MaxPrograms"/> entries, the oldest evicted first. An entry keeps the form, the shapes, the placeholder
/// trace and the programs: constants the function captured, never an input value.
/// </summary>
internal sealed class CompiledFunction<TIn, TTraced> : IBorrowingValueAndGrad<TIn>
{
    /// <summary>The most programs (input forms and shapes) one compiled function keeps.</summary>
    internal const int MaxPrograms = 8;

    internal enum Mode
    {
        ValueAndGrad,
        Vjp,
        Jvp,
        Hvp,
        Hessian,
    }

    /// <summary>The programs for one input form and shapes.</summary>
    internal sealed class Entry(AD.Traced<TIn, TTraced> trace, Shape[] shapes, Program main, Program? forward, Shape output,
        Program[]? columns = null, Func<Value, (Value, Value)>? straight = null, Func<Program>? borrowing = null)
    {
        private Program? borrowed;

        public AD.Traced<TIn, TTraced> Trace { get; } = trace;

        public Shape[] Shapes { get; } = shapes;

        /// <summary>
        /// ValueAndGrad: inputs → value, gradients. Vjp: inputs, cotangent → cotangents. Jvp: inputs, tangents → value,
        /// tangent. Hvp: inputs, directions → H·v per chosen leaf. Hessian: the first of <see cref="Columns"/>.
        /// </summary>
        public Program Main { get; } = main;

        /// <summary>Vjp: inputs → value. Hessian: inputs → the nodes of x alone that the columns read (computed once per call).</summary>
        public Program? Forward { get; } = forward;

        /// <summary>
        /// Hessian only, one per chosen leaf j: inputs, the values of <see cref="Forward"/>, a direction of leaf j → the
        /// tangents of every gradient when only leaf j moves (column block j of the Hessian for a unit direction), as
        /// <see cref="AD.Hessian{TIn, TTraced}"/> builds them.
        /// </summary>
        public Program[]? Columns { get; } = columns;

        /// <summary>The function's output shape.</summary>
        public Shape Output { get; } = output;

        /// <summary>
        /// ValueAndGrad of one leaf whose tensors are all small: the main program as straight-line code over elements
        /// (<see cref="ScalarEmitter.CompileSmall"/>), the same numbers without frames or an interpreter; null otherwise.
        /// </summary>
        public Func<Value, (Value, Value)>? Straight { get; } = straight;

        /// <summary>
        /// ValueAndGrad only: <see cref="Main"/> built again with its outputs in the frame's buffers
        /// (<see cref="Program.Build"/>'s borrowOutputs), made on first use, for callers that consume the gradients
        /// before returning the frame (<see cref="RunBorrowed"/>); a race builds equal programs.
        /// </summary>
        public Program Borrowing
        {
            get
            {
                if (Volatile.Read(ref borrowed) is { } made) return made;
                var p = (borrowing ?? throw new InvalidOperationException("Only a compiled value-and-gradient borrows its outputs."))();
                return Interlocked.CompareExchange(ref borrowed, p, null) ?? p;
            }
        }

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

    public BorrowedRun RunBorrowed(TIn x)
    {
        if (mode != Mode.ValueAndGrad) throw new InvalidOperationException($"{name} does not compute a value and a gradient.");
        var (leaves, def) = Leaves(x);
        var entry = Find(def, leaves.AsSpan()) ?? Add(x);
        var p = entry.Borrowing;
        var frame = p.Rent();
        try
        {
            for (var k = 0; k < leaves.Length; k++) p.SetInput(frame, k, leaves[k]);
            p.Run(frame);
            return new BorrowedRun(p, frame, entry.Trace.Mask);
        }
        catch
        {
            p.Return(frame);
            throw;
        }
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
        var outputs = Run(entry.Main, leaves.AsSpan(), Chosen(entry, v, "tangent").AsSpan());
        return (outputs[0], outputs[1]);
    }

    public TIn Hvp(TIn x, TIn v)
    {
        var (leaves, def) = Leaves(x);
        var entry = Find(def, leaves.AsSpan()) ?? Add(x);
        return entry.Trace.Result(Run(entry.Main, leaves.AsSpan(), Chosen(entry, v, "direction").AsSpan()));
    }

    /// <summary>
    /// The Hessian filled as <see cref="AD.Hessian{TIn, TTraced}"/> fills it: for each chosen leaf j and each of its
    /// elements e, leaf j's column program at the unit direction e gives column e of every block (i, j).
    /// </summary>
    public Blocks Hessian(TIn x)
    {
        var (leaves, def) = Leaves(x);
        var entry = Find(def, leaves.AsSpan()) ?? Add(x);
        var (paths, shapes) = entry.Trace.ChosenLeaves();
        var h = new Blocks(paths, shapes, paths, shapes);
        var columns = entry.Columns!;
        var staged = Run(entry.Forward!, leaves.AsSpan(), default);
        var direction = leaves.Length + staged.Length;
        for (var j = 0; j < columns.Length; j++)
        {
            var p = columns[j];
            var frame = p.Rent();
            try
            {
                for (var k = 0; k < leaves.Length; k++) p.SetInput(frame, k, leaves[k]);
                for (var k = 0; k < staged.Length; k++) p.SetInput(frame, leaves.Length + k, staged[k]);
                for (var e = 0; e < shapes[j].Size; e++)
                {
                    p.SetInput(frame, direction, AD.Basis(shapes[j], e));
                    p.Run(frame);
                    for (var i = 0; i < p.OutputCount; i++)
                    {
                        var column = p.Output(frame, i);
                        for (var r = 0; r < shapes[i].Size; r++) h.Set(i, j, r, e, AD.Element(column, r));
                    }
                }
            }
            finally
            {
                p.Return(frame);
            }
        }
        return h;
    }

    // ------------------------------------------------------------------ programs

    /// <summary>The leaves of a tangent or direction <paramref name="v"/> (checked to have x's form) that the chosen inputs take.</summary>
    private ImmutableArray<Value> Chosen(Entry entry, TIn v, string what)
    {
        var all = entry.Trace.SameForm(v, name, what);
        var mask = entry.Trace.Mask;
        if (mask is null) return all;
        var chosen = ImmutableArray.CreateBuilder<Value>();
        for (var k = 0; k < all.Length; k++)
            if (mask[k]) chosen.Add(all[k]);
        return chosen.ToImmutable();
    }

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

    /// <summary>A placeholder tangent variable per variable differentiated by, named after it.</summary>
    private static ImmutableArray<Var> Tangents(ImmutableArray<Expr> targets)
    {
        var tangents = ImmutableArray.CreateBuilder<Var>(targets.Length);
        foreach (var target in targets) tangents.Add(new Var("d" + ((Var)target).Name, target.Shape, true));
        return tangents.MoveToImmutable();
    }

    /// <summary>
    /// The graphs <paramref name="roots"/> with every node that does not depend on <paramref name="moving"/> but is read
    /// by one that does (or is a root) replaced by a placeholder variable, which <paramref name="staged"/> and
    /// <paramref name="stagedVars"/> record (shared between calls, so a node staged for two columns is computed once).
    /// Leaves and nodes carrying a value stay as they are (inputs and constants of the program). One iterative walk
    /// over all the roots; nodes that move keep their identity unless an input was replaced.
    /// </summary>
    private static Expr[] Stage(Expr[] roots, Var moving, ReadOnlySpan<Var> vars, List<Expr> staged, Dictionary<Expr, Var> stagedVars)
    {
        var rewritten = new Dictionary<Expr, Expr>(Identity.Instance) { [moving] = moving };
        Expr Read(Expr node)
        {
            if (rewritten.TryGetValue(node, out var r)) return r;
            if (node is not Apply || node.HasValue) return node;
            if (!stagedVars.TryGetValue(node, out var v))
            {
                stagedVars[node] = v = new Var("staged", node.Shape, true);
                staged.Add(node);
            }
            return v;
        }
        var inputs = new Expr[Expr.MaxArity];
        foreach (var node in Graph.PostOrder(roots, vars))
        {
            if (node is not Apply apply) continue;
            var n = node.Inputs.Length;
            var moves = false;
            for (var k = 0; k < n; k++) moves |= rewritten.ContainsKey(node.Inputs[k]);
            if (!moves) continue;
            var changed = false;
            for (var k = 0; k < n; k++) changed |= !ReferenceEquals(inputs[k] = Read(node.Inputs[k]), node.Inputs[k]);
            rewritten[node] = changed ? apply.WithInputs(ImmutableArray.Create(inputs, 0, n)) : node;
        }
        var result = new Expr[roots.Length];
        for (var i = 0; i < roots.Length; i++) result[i] = Read(roots[i]);
        return result;
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
                var inputs = t.Vars;
                Expr[] roots = [y, .. grads];
                entry = new Entry(t, shapes, Program.Build(vars, roots), null, y.Shape, straight: straight,
                    borrowing: () => Program.Build(inputs.AsSpan(), roots, borrowOutputs: true));
                break;
            }
            case Mode.Vjp:
            {
                var ct = new Var("cotangent", y.Shape, true);
                var grads = Reverse.Gradients(y, t.Targets, ct);
                entry = new Entry(t, shapes, Program.Build([.. vars, ct], grads.AsSpan()), Program.Build(vars, [y]), y.Shape);
                break;
            }
            case Mode.Jvp:
            {
                var dx = Tangents(t.Targets);
                var tangent = Forward.Tangent(y, t.Targets, dx.CastArray<Expr>());
                entry = new Entry(t, shapes, Program.Build([.. vars, .. dx], [y, tangent]), null, y.Shape);
                break;
            }
            case Mode.Hvp:
            {
                // Forward over reverse, as AD.Hvp: the tangent of each gradient graph when every chosen leaf moves.
                var grads = Reverse.Gradients(AD.Scalar(name, y), t.Targets, Expr.Const(1.0));
                var dx = Tangents(t.Targets);
                var hv = new Expr[grads.Length];
                for (var k = 0; k < hv.Length; k++) hv[k] = Forward.Tangent(grads[k], t.Targets, dx.CastArray<Expr>());
                entry = new Entry(t, shapes, Program.Build([.. vars, .. dx], hv), null, y.Shape);
                break;
            }
            default:
            {
                // As AD.Hessian: column block j is the tangent of each gradient graph when only leaf j moves. What the
                // tangents read of x alone (the forward values the uncompiled graph keeps) is staged: computed once per
                // call by a program of its own and read by the columns' programs, which then run only what moves.
                var grads = Reverse.Gradients(AD.Scalar(name, y), t.Targets, Expr.Const(1.0));
                var dx = Tangents(t.Targets);
                var staged = new List<Expr>();
                var stagedVars = new Dictionary<Expr, Var>(Identity.Instance);
                var roots = new Expr[dx.Length][];
                for (var j = 0; j < dx.Length; j++)
                {
                    var column = new Expr[grads.Length];
                    for (var i = 0; i < column.Length; i++) column[i] = Forward.Tangent(grads[i], [t.Targets[j]], [dx[j]]);
                    roots[j] = Stage(column, dx[j], vars, staged, stagedVars);
                }
                var stagedInputs = new Var[staged.Count];
                for (var k = 0; k < stagedInputs.Length; k++) stagedInputs[k] = stagedVars[staged[k]];
                var columns = new Program[dx.Length];
                for (var j = 0; j < columns.Length; j++) columns[j] = Program.Build([.. vars, .. stagedInputs, dx[j]], roots[j]);
                var prefix = Program.Build(vars, [.. staged]);
                entry = new Entry(t, shapes, columns.Length > 0 ? columns[0] : prefix, prefix, y.Shape, columns);
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
