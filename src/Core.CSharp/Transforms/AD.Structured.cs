using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>
/// Which inputs a combinator differentiates by (JAX's <c>argnums</c>, PyTorch's <c>inputs=</c>): positions of the input
/// tuple or sequence, or names of its parameters, record fields or dictionary keys. The other inputs are held constant
/// and cost nothing; in the result they hold zeros of their shape (they are not computed), so the result keeps the
/// input's form.
/// </summary>
/// <example>
/// <code>
/// var g = AD.Grad&lt;(Value, Value, Value), (Expr, Expr, Expr)&gt;(t =&gt; t.Item1 * t.Item2 * t.Item3, Wrt.Args(0, 2));
/// </code>
/// </example>
public sealed class Wrt
{
    private readonly ImmutableArray<int> positions;
    private readonly ImmutableArray<string> names;

    private Wrt(ImmutableArray<int> positions, ImmutableArray<string> names)
    {
        this.positions = positions;
        this.names = names;
    }

    /// <summary>The inputs at these positions of the input tuple or sequence (0-based; one or several).</summary>
    /// <exception cref="ArgumentException">No position, a negative or a repeated one.</exception>
    public static Wrt Args(params int[] argnums)
    {
        Guard.NotNull(argnums);
        if (argnums.Length == 0) throw new ArgumentException(UserCode.Mark("Wrt.Args needs at least one position."), nameof(argnums));
        if (argnums.Any(a => a < 0)) throw new ArgumentException(UserCode.Mark($"Wrt.Args: positions start at 0, not {argnums.Min()}."), nameof(argnums));
        if (argnums.Distinct().Count() != argnums.Length) throw new ArgumentException(UserCode.Mark("Wrt.Args: a position is given twice."), nameof(argnums));
        return new Wrt([.. argnums], []);
    }

    /// <summary>The inputs with these names: parameters of a <see cref="Params"/>, fields of a record, keys of a dictionary.</summary>
    /// <exception cref="ArgumentException">No name, a null or a repeated one.</exception>
    public static Wrt Names(params string[] names)
    {
        Guard.NotNull(names);
        if (names.Length == 0) throw new ArgumentException(UserCode.Mark("Wrt.Names needs at least one name."), nameof(names));
        if (names.Any(n => n is null)) throw new ArgumentException(UserCode.Mark("Wrt.Names: a name is null."), nameof(names));
        if (names.Distinct().Count() != names.Length) throw new ArgumentException(UserCode.Mark("Wrt.Names: a name is given twice."), nameof(names));
        return new Wrt([], [.. names]);
    }

    /// <summary><c>Args(0, 2)</c> or <c>Names("w", "b")</c>.</summary>
    public override string ToString() =>
        names.IsEmpty ? $"Args({string.Join(", ", positions)})" : $"Names({string.Join(", ", names.Select(n => $"\"{n}\""))})";

    /// <summary>Which leaves of <paramref name="def"/> are chosen.</summary>
    internal bool[] Mask(TreeDef def, string combinator)
    {
        var mask = new bool[def.LeafCount];
        if (names.IsEmpty)
        {
            if (def.IsLeaf || def.Rule is not (TupleRule or SequenceRule))
            {
                if (positions is [0]) { Array.Fill(mask, true); return mask; }
                throw new ArgumentException(UserCode.Mark($"{combinator}: {this} chooses positions, but the input {Tree.Name(def.Rule.Type)} is not a tuple or a sequence; " +
                                                          "a single input is position 0, a record or parameters are chosen with Wrt.Names."), "wrt");
            }
            foreach (var p in positions)
            {
                if (p >= def.Children.Length)
                    throw new ArgumentOutOfRangeException("wrt", p, UserCode.Mark($"{combinator}: the input has {def.Children.Length} positions (0 to {def.Children.Length - 1}), so {this} is out of range."));
                Array.Fill(mask, true, def.FirstLeafOf(p), def.Children[p].LeafCount);
            }
            return mask;
        }
        if (def.Rule is not (RecordRule or ParamsRule or DictionaryRule))
            throw new ArgumentException(UserCode.Mark($"{combinator}: {this} chooses names, but the input {Tree.Name(def.Rule.Type)} has none; " +
                                                      "tuples and sequences are chosen with Wrt.Args."), "wrt");
        foreach (var n in names)
        {
            var k = def.ChildIndex(n);
            if (k < 0) throw new KeyNotFoundException(UserCode.Mark($"{combinator}: no input is named '{n}'; the names are: {string.Join(", ", def.Keys)}."));
            Array.Fill(mask, true, def.FirstLeafOf(k), def.Children[k].LeafCount);
        }
        return mask;
    }
}

// The combinators over structured inputs: every one is written once here, over the structure mechanism (Tree).
public static partial class AD
{
    /// <summary>
    /// ∇f at x for a structured input (a tuple of any arity, an array or list, a record, a dictionary, <see cref="Params"/>,
    /// nested; see <see cref="Tree"/>). <typeparamref name="TIn"/> is the input's type, <typeparamref name="TTraced"/> the
    /// type f receives: the same form with every leaf an <see cref="Expr"/> (<c>(Value, double[])</c> is traced as
    /// <c>(Expr, Expr[])</c>). The gradient has the input's form, each leaf in its own form (a double for a double).
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    public static Func<TIn, TIn> Grad<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        var vg = ValueAndGradIn<TIn, TTraced>("Grad", f, wrt);
        return x => vg(x).Grad;
    }

    /// <summary>f(x) and ∇f(x) from one trace, for a structured input (see <see cref="Grad{TIn, TTraced}"/>).</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    public static Func<TIn, (Value Value, TIn Grad)> ValueAndGrad<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null) =>
        ValueAndGradIn<TIn, TTraced>("ValueAndGrad", f, wrt);

    /// <summary>ValueAndGrad, its errors naming the combinator the user called.</summary>
    private static Func<TIn, (Value Value, TIn Grad)> ValueAndGradIn<TIn, TTraced>(string name, Func<TTraced, Expr> f, Wrt? wrt)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>(name);
        return x =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, "Grad");
            var y = Scalar("Grad", Call(() => f(t.Arg)));
            return (y.Value, t.Result(Reverse.GradientValues(y, t.Targets, 1.0)));
        };
    }

    /// <summary>
    /// A model evaluated at structured parameters (a record, a tuple, <see cref="Params"/>…), forward only: predictions,
    /// a loss to report, an accuracy. The graph of f is built once on variables holding x's leaves and read; nothing is
    /// differentiated, so it costs what the forward pass costs.
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    public static Value Eval<TIn, TTraced>(Func<TTraced, Expr> f, TIn x)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>("Eval");
        var t = Traced<TIn, TTraced>.Of(x, null, "Eval");
        return Call(() => f(t.Arg)).Value;
    }

    /// <summary>
    /// The loss, its gradient and the auxiliary values f returned beside it, for a structured input (JAX's
    /// <c>value_and_grad(f, has_aux=True)</c>).
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: the loss is not a scalar.</exception>
    public static Func<TIn, (Value Value, TIn Grad, TAux Aux)> ValueAndGradWithAux<TIn, TTraced, TAux>(Func<TTraced, (Expr Loss, TAux Aux)> f, Wrt? wrt = null)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>("ValueAndGradWithAux");
        return x =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, "ValueAndGradWithAux");
            var (loss, aux) = f(t.Arg);
            var y = Scalar("Grad", loss ?? throw new ArgumentException(UserCode.Mark("The function returned a null loss."), nameof(f)));
            return (y.Value, t.Result(Reverse.GradientValues(y, t.Targets, 1.0)), aux);
        };
    }

    /// <summary>f(x) and its pullback v ↦ vᵀ·J for a structured input; the pullback's result has the input's form.</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="ShapeMismatchException">From the pullback: the cotangent's shape is not the output's.</exception>
    public static Func<TIn, (Value Value, Func<Value, TIn> Pullback)> Vjp<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>("Vjp");
        return x =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, "Vjp");
            var y = Call(() => f(t.Arg));
            return (y.Value, ct => t.Result(Pull(y, t.Targets, ct)));
        };
    }

    /// <summary>
    /// f(x) and J·v by forward mode for a structured input; the tangent v has the input's form (with <paramref name="wrt"/>,
    /// only the chosen inputs move and the rest of v is not read).
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form; from the returned function, v's form or a leaf's shape differs from x's (the message names the leaf).</exception>
    public static Func<TIn, TIn, (Value Value, Value Tangent)> Jvp<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>("Jvp");
        return (x, v) =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, "Jvp");
            var tangents = t.Chosen(t.SameForm(v, "Jvp", "tangent"));
            var y = Call(() => f(t.Arg));
            return (y.Value, Forward.Tangent(y, t.Targets, tangents).Value);
        };
    }

    /// <summary>The Hessian-vector product H·v of a scalar f for a structured input, in the input's form, without forming H.</summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form; from the returned function, v's form or a leaf's shape differs from x's.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    public static Func<TIn, TIn, TIn> Hvp<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>("Hvp");
        return (x, v) =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, "Hvp");
            var directions = t.Chosen(t.SameForm(v, "Hvp", "direction"));
            var g = Reverse.Gradients(Scalar("Hvp", Call(() => f(t.Arg))), t.Targets, Expr.Const(1.0));
            var hv = ImmutableArray.CreateBuilder<Value>(g.Length);
            foreach (var gk in g) hv.Add(Forward.Tangent(gk, t.Targets, directions).Value);
            return t.Result(hv.MoveToImmutable());
        };
    }

    /// <summary>
    /// The Jacobian of f at a structured x in blocks per input leaf (see <see cref="Blocks"/>; the output is the single row
    /// leaf <c>y</c>, of any shape). Reverse mode when the output has no more elements than the chosen inputs, forward otherwise.
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    public static Func<TIn, Blocks> Jacobian<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        Guard.NotNull(f);
        return Jacobian<TIn, TTraced, Expr>(f, wrt);
    }

    /// <summary>
    /// The Jacobian of a function with structured inputs and structured outputs (<typeparamref name="TOut"/> is a traced
    /// form: an <see cref="Expr"/>, a tuple of them, an array…), in blocks per pair of output and input leaves.
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn or TOut is not a structure.</exception>
    public static Func<TIn, Blocks> Jacobian<TIn, TTraced, TOut>(Func<TTraced, TOut> f, Wrt? wrt = null) =>
        JacobianIn<TIn, TTraced, TOut>("Jacobian", f, wrt, null);

    /// <summary>
    /// The Hessian of a scalar f at a structured x in blocks per pair of input leaves (see <see cref="Blocks"/>),
    /// by forward-over-reverse: block (i, j) is ∂²f / ∂xᵢ ∂xⱼ.
    /// </summary>
    /// <exception cref="StructureException">TTraced is not TIn's traced form, or TIn is not a structure.</exception>
    /// <exception cref="NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    public static Func<TIn, Blocks> Hessian<TIn, TTraced>(Func<TTraced, Expr> f, Wrt? wrt = null)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>("Hessian");
        return x =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, "Hessian");
            var g = Reverse.Gradients(Scalar("Hessian", Call(() => f(t.Arg))), t.Targets, Expr.Const(1.0));
            var (paths, shapes) = t.ChosenLeaves();
            var h = new Blocks(paths, shapes, paths, shapes);
            ColumnsByJvps(h, g, t.Targets);
            return h;
        };
    }

    // ------------------------------------------------------------------ the one implementation of Jacobians

    /// <summary>Mode: null chooses by size, true is reverse (one pullback per output element), false forward (one JVP per input element).</summary>
    private static Func<TIn, Blocks> JacobianIn<TIn, TTraced, TOut>(string name, Func<TTraced, TOut> f, Wrt? wrt, bool? reverse)
    {
        Guard.NotNull(f);
        CheckTraced<TIn, TTraced>(name);
        return x =>
        {
            var t = Traced<TIn, TTraced>.Of(x, wrt, name);
            var output = f(t.Arg);
            if (output is null) throw new ArgumentException(UserCode.Mark("The function being differentiated returned null."), nameof(f));
            var (ys, outDef) = Tree.FlattenTraced(output);
            var rowPaths = outDef.IsLeaf ? ["y"] : outDef.Paths;
            var rowShapes = ys.Select(y => y.Shape).ToImmutableArray();
            var (columnPaths, columnShapes) = t.ChosenLeaves();
            var jac = new Blocks(rowPaths, rowShapes, columnPaths, columnShapes);
            var m = rowShapes.Sum(s => s.Size);
            var n = columnShapes.Sum(s => s.Size);
            if (reverse ?? m <= n)
            {
                for (var i = 0; i < ys.Count; i++)
                    for (var e = 0; e < rowShapes[i].Size; e++)
                    {
                        var rows = Reverse.GradientValues(ys[i], t.Targets, Basis(rowShapes[i], e));
                        for (var j = 0; j < rows.Length; j++)
                            for (var c = 0; c < columnShapes[j].Size; c++) jac.Set(i, j, e, c, Element(rows[j], c));
                    }
            }
            else
            {
                ColumnsByJvps(jac, ys, t.Targets);
            }
            return jac;
        };
    }

    /// <summary>
    /// Fills <paramref name="blocks"/> by forward mode: one JVP of every row graph per element of every column leaf
    /// (a Jacobian's forward mode, and the Hessian as the forward-mode Jacobian of the gradient graphs).
    /// </summary>
    private static void ColumnsByJvps(Blocks blocks, IReadOnlyList<Expr> rows, ImmutableArray<Expr> columns)
    {
        for (var j = 0; j < columns.Length; j++)
            for (var e = 0; e < blocks.ColumnShapes[j].Size; e++)
            {
                var basis = Expr.Const(Basis(blocks.ColumnShapes[j], e));
                for (var i = 0; i < rows.Count; i++)
                {
                    var column = Forward.Tangent(rows[i], [columns[j]], [basis]).Value;
                    for (var r = 0; r < blocks.RowShapes[i].Size; r++) blocks.Set(i, j, r, e, Element(column, r));
                }
            }
    }

    /// <summary>Refuses a traced type that is not the input type's traced form, when the combinator is built.</summary>
    internal static void CheckTraced<TIn, TTraced>(string combinator)
    {
        var expected = Tree.RuleOf<TIn>.Value.Traced.Type;
        if (expected != typeof(TTraced))
        {
            var member = combinator.Contains('.') ? combinator : "AD." + combinator;
            throw new StructureException(
                $"{member}: a function differentiated at a {Tree.Name(typeof(TIn))} receives it in its traced form {Tree.Name(expected)} " +
                $"(every leaf an Expr), not {Tree.Name(typeof(TTraced))}: write the function over {Tree.Name(expected)} " +
                $"(in C#, {member}<{Tree.Name(typeof(TIn))}, {Tree.Name(expected)}>).");
        }
    }

    /// <summary>The k-th unit value of a shape, elements counted in row-major order.</summary>
    internal static Value Basis(Shape shape, int k)
    {
        if (shape.IsScalar) return Value.Scalar(1.0);
        var d = new double[shape.Size];
        d[Storage(shape, k)] = 1;
        return Value.Own(shape, d);
    }

    /// <summary>Element k of a value in row-major order.</summary>
    internal static double Element(Value v, int k) => v.Shape.IsScalar ? v.ToScalar() : v.Span[Storage(v.Shape, k)];

    /// <summary>The storage (column-major) index of row-major element k.</summary>
    private static int Storage(Shape shape, int k) => shape.IsMatrix ? k % shape.Cols * shape.Rows + k / shape.Cols : k;

    /// <summary>
    /// One trace of a structured function: the input's form, a variable per leaf, the ones differentiated by, f's argument.
    /// A compiled function's trace (<see cref="Compiled"/>) has placeholder variables (shapes, no values) and keeps only
    /// the leaves' shapes.
    /// </summary>
    internal sealed class Traced<TIn, TTraced>
    {
        private readonly TreeDef? def;
        private readonly ImmutableArray<Value> leaves;
        private readonly ImmutableArray<Var> vars;
        private readonly bool[]? mask;

        private Traced(TreeDef? def, ImmutableArray<Value> leaves, ImmutableArray<Var> vars, bool[]? mask, TTraced arg)
        {
            this.def = def;
            this.leaves = leaves;
            this.vars = vars;
            this.mask = mask;
            Arg = arg;
            Targets = mask is null ? vars.CastArray<Expr>() : vars.Where((_, k) => mask[k]).ToImmutableArray<Expr>();
        }

        public TTraced Arg { get; }

        /// <summary>The form (null for a single leaf traced by the fast path).</summary>
        public TreeDef? Def => def;

        /// <summary>A variable per leaf, in leaf order.</summary>
        public ImmutableArray<Var> Vars => vars;

        /// <summary>Which leaves are differentiated by (null: all).</summary>
        public bool[]? Mask => mask;

        /// <summary>The variables differentiated by: all, or the chosen ones, in leaf order.</summary>
        public ImmutableArray<Expr> Targets { get; }

        /// <summary>True when inputs of type TIn take the single-leaf fast path (no form to walk).</summary>
        public static bool IsSingleLeaf(Wrt? wrt) => Tree.RuleOf<TIn>.Value is LeafRule && wrt is null;

        public static Traced<TIn, TTraced> Of(TIn x, Wrt? wrt, string combinator) => Of(x, wrt, combinator, false);

        /// <summary>The trace at x; with <paramref name="placeholders"/>, on variables of x's leaf shapes without values.</summary>
        public static Traced<TIn, TTraced> Of(TIn x, Wrt? wrt, string combinator, bool placeholders)
        {
            if (IsSingleLeaf(wrt))
            {
                // A single leaf: no form to walk (the cost of the mechanism on one Value input is a type test).
                var leaf = LeafRule.ToValue(x);
                var v = placeholders ? new Var("x", leaf.Shape, true) : new Var("x", leaf);
                return new Traced<TIn, TTraced>(null, [placeholders ? Value.ShapeOnly(leaf.Shape) : leaf], [v], null, (TTraced)(object)v);
            }
            var (leaves, def) = Tree.Flatten(x);
            var paths = def.IsLeaf ? ["x"] : def.Paths;
            var vars = ImmutableArray.CreateBuilder<Var>(leaves.Length);
            for (var k = 0; k < leaves.Length; k++) vars.Add(placeholders ? new Var(paths[k], leaves[k].Shape, true) : new Var(paths[k], leaves[k]));
            if (placeholders) leaves = leaves.Select(l => Value.ShapeOnly(l.Shape)).ToImmutableArray();
            var all = vars.MoveToImmutable();
            var arg = (TTraced)Tree.BuildTraced(Tree.RuleOf<TIn>.Value.Traced, def, all.CastArray<Expr>())!;
            return new Traced<TIn, TTraced>(def, leaves, all, wrt?.Mask(def, combinator), arg);
        }

        /// <summary>
        /// The input's form with these values for the chosen leaves and zeros for the others. The zeros are made once
        /// per trace and shared by its results (values are immutable): a compiled function's trace lives as long as its
        /// program, so a gradient that leaves a model's data alone does not allocate zeros of the data at every call.
        /// </summary>
        public TIn Result(ImmutableArray<Value> chosen)
        {
            if (def is null) return LeafRule.FromValue<TIn>(chosen[0]);
            var all = new Value[leaves.Length];
            var none = mask is null ? null : Zeros();
            for (int k = 0, c = 0; k < all.Length; k++) all[k] = none is null || mask![k] ? chosen[c++] : none[k];
            return Tree.Unflatten<TIn>(def, all);
        }

        private Value[]? zeros;

        /// <summary>Zeros of each unchosen leaf's shape (default at the chosen ones), made on first use; a race makes equal values.</summary>
        private Value[] Zeros()
        {
            if (Volatile.Read(ref zeros) is { } made) return made;
            var z = new Value[leaves.Length];
            for (var k = 0; k < z.Length; k++)
                if (!mask![k]) z[k] = leaves[k].ZerosLike();
            Volatile.Write(ref zeros, z);
            return z;
        }

        /// <summary>The leaves of <paramref name="v"/>, checked to have x's form and shapes.</summary>
        public ImmutableArray<Value> SameForm(TIn v, string combinator, string what)
        {
            if (def is null)
            {
                var leaf = LeafRule.ToValue(v);
                if (leaf.Shape != leaves[0].Shape)
                    throw new ShapeMismatchException(combinator, leaves[0].Shape, leaf.Shape, $"The {what} must have the input's shape {leaves[0].Shape}.");
                return [leaf];
            }
            return Tree.Same(def, leaves, v, combinator, what);
        }

        /// <summary>The entries of the chosen leaves, as constants.</summary>
        public ImmutableArray<Expr> Chosen(ImmutableArray<Value> all) =>
            all.Where((_, k) => mask is null || mask[k]).Select(v => Expr.Const(v)).ToImmutableArray();

        /// <summary>The paths and shapes of the chosen leaves.</summary>
        public (ImmutableArray<string> Paths, ImmutableArray<Shape> Shapes) ChosenLeaves()
        {
            var paths = def is null || def.IsLeaf ? ["x"] : def.Paths;
            var chosen = Enumerable.Range(0, leaves.Length).Where(k => mask is null || mask[k]).ToArray();
            return (chosen.Select(k => paths[k]).ToImmutableArray(), chosen.Select(k => leaves[k].Shape).ToImmutableArray());
        }
    }
}
