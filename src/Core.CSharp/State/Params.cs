using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Text;
using System.Text.Json.Serialization;

namespace Functional.Autodiff;

/// <summary>
/// An immutable, ordered map from names to values: a model's parameters, and also the type of their gradient.
/// Accumulation is ordinary arithmetic on it: add, scale, set one entry, reset to zero; each returns a new map.
/// <c>JsonSerializer.Serialize(p)</c> saves it as <c>{"name": {"shape": [...], "data": [...]}, ...}</c> with every
/// number exact, and <c>JsonSerializer.Deserialize&lt;Params&gt;</c> loads it back (see <see cref="Serialization.ParamsJsonConverter"/>).
/// </summary>
/// <example>
/// <code>
/// var p = Params.Of(("w", w0), ("b", b0));
/// var total = batches.Select(b => AD.Grad(Loss(b))(p)).Aggregate(p.ZerosLike(), (s, g) => s + g);
/// </code>
/// </example>
/// <remarks>
/// <c>foreach</c> (C#) and <c>for … in</c> (F#) go over the (name, value) entries directly; LINQ and F#'s <c>Seq</c>
/// functions take <see cref="Entries"/>. <c>Params</c> itself is deliberately not an <c>IEnumerable</c>: F#'s <c>%A</c>
/// would then print it as <c>seq [[w, 2]]</c> instead of its text, <c>{w: 2}</c>.
/// </remarks>
[JsonConverter(typeof(Serialization.ParamsJsonConverter))]
public sealed class Params
{
    private readonly ImmutableArray<KeyValuePair<string, Value>> entries;
    private ImmutableDictionary<string, int>? index;

    private Params(ImmutableArray<KeyValuePair<string, Value>> entries) => this.entries = entries;

    /// <summary>Lookup by name, built on first use (a pure function of the entries, so a race only builds it twice):
    /// a gradient or an optimizer step that is only added to and iterated never builds it.</summary>
    private ImmutableDictionary<string, int> Index =>
        index ??= entries.Select((e, k) => KeyValuePair.Create(e.Key, k)).ToImmutableDictionary();

    /// <summary>Parameters from names already known to be unique and non-empty (the names of another Params).</summary>
    internal static Params Trusted(ImmutableArray<string> names, Func<int, Value> value)
    {
        var built = ImmutableArray.CreateBuilder<KeyValuePair<string, Value>>(names.Length);
        for (var k = 0; k < names.Length; k++) built.Add(KeyValuePair.Create(names[k], value(k)));
        return new Params(built.MoveToImmutable());
    }

    /// <summary>Parameters from (name, value) pairs, in this order.</summary>
    /// <exception cref="ArgumentException">A name is empty or repeated.</exception>
    public static Params Of(params (string Name, Value Value)[] entries)
    {
        Guard.NotNull(entries);
        var seen = new HashSet<string>();
        foreach (var (name, _) in entries)
        {
            Guard.NotNullOrEmpty(name, nameof(entries));
            if (!seen.Add(name)) throw new ArgumentException(UserCode.Mark($"Parameter '{name}' is given twice: names must be unique."), nameof(entries));
        }
        return new Params(entries.Select(e => KeyValuePair.Create(e.Name, e.Value)).ToImmutableArray());
    }

    /// <summary>The names, in order.</summary>
    public IEnumerable<string> Names => entries.Select(e => e.Key);

    /// <summary>How many parameters there are.</summary>
    public int Count => entries.Length;

    /// <summary>The entry at position <paramref name="position"/>.</summary>
    public KeyValuePair<string, Value> this[int position] => entries[position];

    /// <summary>The value named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name; the message lists the names there are.</exception>
    public Value this[string name] => entries[IndexOf(name)].Value;

    /// <summary>True when a parameter has this name.</summary>
    public bool Contains(string name) => Index.ContainsKey(name);

    private int IndexOf(string name) =>
        Index.TryGetValue(name, out var k) ? k
        : throw new KeyNotFoundException(UserCode.Mark($"No parameter named '{name}'; the parameters are: {string.Join(", ", Names)}."));

    /// <summary>A copy with <paramref name="name"/> set to <paramref name="value"/> (PyTorch's <c>w.grad.data = ...</c>, as a new map).
    /// A new name is appended; an existing one keeps its position and must keep its shape.</summary>
    /// <exception cref="ShapeMismatchException">The existing entry has another shape.</exception>
    public Params SetItem(string name, Value value)
    {
        Guard.NotNullOrEmpty(name);
        if (!Index.TryGetValue(name, out var k)) return new Params(entries.Add(KeyValuePair.Create(name, value)));
        if (entries[k].Value.Shape != value.Shape)
            throw new ShapeMismatchException("Params.SetItem", entries[k].Value.Shape, value.Shape, $"Parameter '{name}' keeps its shape: give a value of shape {entries[k].Value.Shape}.");
        return new Params(entries.SetItem(k, KeyValuePair.Create(name, value)));
    }

    /// <summary>Applies <paramref name="f"/> to every value, keeping names and order.</summary>
    public Params Map(Func<string, Value, Value> f)
    {
        Guard.NotNull(f);
        return new Params(entries.Select(e => KeyValuePair.Create(e.Key, f(e.Key, e.Value))).ToImmutableArray());
    }

    /// <summary>The same names and shapes, all zeros: the reset, and the start of a fold.</summary>
    public Params ZerosLike() => Map((_, v) => v.ZerosLike());

    private static Params Zip(Params a, Params b, string op, Func<Value, Value, Value> f)
    {
        Guard.NotNull(a);
        Guard.NotNull(b);
        SameNames(a, b, op);
        return new Params(a.entries.Select((e, k) => KeyValuePair.Create(e.Key, f(e.Value, b.entries[k].Value))).ToImmutableArray());
    }

    /// <summary>Applies <paramref name="f"/> to every value, keeping names and order.</summary>
    public Params Map(Func<Value, Value> f)
    {
        Guard.NotNull(f);
        return Map((_, v) => f(v));
    }

    /// <summary>Combines two parameter sets of the same names entry by entry (for example an optimizer's update).</summary>
    /// <exception cref="ArgumentException">The names differ; the message lists both.</exception>
    public static Params Zip(Params a, Params b, Func<Value, Value, Value> f)
    {
        Guard.NotNull(f);
        return Zip(a, b, "Zip", f);
    }

    /// <summary>Combines three parameter sets of the same names entry by entry (Adam's m, v and the gradient, say).</summary>
    /// <exception cref="ArgumentException">The names differ; the message lists them.</exception>
    public static Params Zip(Params a, Params b, Params c, Func<Value, Value, Value, Value> f)
    {
        Guard.NotNull(f);
        Guard.NotNull(a);
        Guard.NotNull(b);
        Guard.NotNull(c);
        SameNames(a, b, "Zip");
        SameNames(a, c, "Zip");
        return new Params(a.entries.Select((e, k) => KeyValuePair.Create(e.Key, f(e.Value, b.entries[k].Value, c.entries[k].Value))).ToImmutableArray());
    }

    private static void SameNames(Params a, Params b, string op)
    {
        if (a.Count != b.Count || !a.Names.SequenceEqual(b.Names))
            throw new ArgumentException(UserCode.Mark($"Params {op}: the names differ ({string.Join(", ", a.Names)} vs {string.Join(", ", b.Names)}); combine gradients of the same parameters."));
    }

    /// <summary>Entry-wise sum (accumulation).</summary>
    public static Params operator +(Params a, Params b) => Zip(a, b, "+", (x, y) => x + y);

    /// <summary>Entry-wise difference.</summary>
    public static Params operator -(Params a, Params b) => Zip(a, b, "-", (x, y) => x - y);

    /// <summary>Entry-wise, element-wise product.</summary>
    public static Params operator *(Params a, Params b) => Zip(a, b, "*", (x, y) => x * y);

    /// <summary>Entry-wise, element-wise quotient.</summary>
    public static Params operator /(Params a, Params b) => Zip(a, b, "/", (x, y) => x / y);

    /// <summary>Negation of every entry.</summary>
    public static Params operator -(Params a) => a.Map(v => -v);

    /// <summary>Scales every entry.</summary>
    public static Params operator *(double s, Params a) => a.Map((_, v) => s * v);

    /// <summary>Scales every entry.</summary>
    public static Params operator *(Params a, double s) => a.Map((_, v) => v * s);

    /// <summary>Divides every entry by a number.</summary>
    public static Params operator /(Params a, double s) => a.Map((_, v) => v / s);

    /// <summary>Adds a number to every element of every entry.</summary>
    public static Params operator +(Params a, double s) => a.Map((_, v) => v + s);

    /// <summary>Subtracts a number from every element of every entry.</summary>
    public static Params operator -(Params a, double s) => a.Map((_, v) => v - s);

    /// <summary>Element-wise square root of every entry.</summary>
    public static Params Sqrt(Params p) => NotNull(p).Map(Value.Sqrt);

    /// <summary>Element-wise square of every entry.</summary>
    public static Params Square(Params p) => NotNull(p).Map(Value.Square);

    /// <summary>Element-wise exponential of every entry.</summary>
    public static Params Exp(Params p) => NotNull(p).Map(Value.Exp);

    /// <summary>Element-wise logarithm of every entry.</summary>
    public static Params Log(Params p) => NotNull(p).Map(Value.Log);

    /// <summary>Element-wise absolute value of every entry.</summary>
    public static Params Abs(Params p) => NotNull(p).Map(Value.Abs);

    /// <summary>Element-wise sign of every entry.</summary>
    public static Params Sign(Params p) => NotNull(p).Map(Value.Sign);

    /// <summary>The entry-wise, element-wise larger of two parameter sets.</summary>
    public static Params Max(Params a, Params b) => Zip(a, b, "Max", Value.Max);

    /// <summary>The entry-wise, element-wise smaller of two parameter sets.</summary>
    public static Params Min(Params a, Params b) => Zip(a, b, "Min", Value.Min);

    /// <summary>Every element of every entry limited to [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public Params Clamp(double min, double max) => Map(v => v.Clamp(min, max));

    /// <summary>The L2 norm over every element of every entry, √Σ‖pᵢ‖² (what gradient clipping by global norm measures).</summary>
    public double GlobalNorm()
    {
        // Through the norm kernel on each entry, then on the entries' norms: no overflow or underflow.
        if (entries.Length == 0) return 0;
        var norms = new double[entries.Length];
        for (var k = 0; k < norms.Length; k++) norms[k] = entries[k].Value.Norm();
        return Value.FromArray(norms).Norm();
    }

    /// <summary>The sum over entries of the element-wise products, Σᵢ ⟨aᵢ, bᵢ⟩.</summary>
    /// <exception cref="ArgumentException">The names differ.</exception>
    /// <exception cref="ShapeMismatchException">An entry's shapes differ.</exception>
    public static double Dot(Params a, Params b)
    {
        Guard.NotNull(a);
        Guard.NotNull(b);
        SameNames(a, b, "Dot");
        var total = 0.0;
        for (var k = 0; k < a.Count; k++) total += Value.Dot(a.entries[k].Value, b.entries[k].Value);
        return total;
    }

    private static Params NotNull(Params p)
    {
        Guard.NotNull(p);
        return p;
    }

    /// <summary>The (name, value) entries in order, for LINQ (<c>p.Entries.Select(…)</c>) and F#'s <c>Seq</c> functions.</summary>
    public IReadOnlyList<KeyValuePair<string, Value>> Entries => entries;

    /// <summary>Goes over the entries in order: <c>foreach (var (name, value) in p)</c>.</summary>
    public ImmutableArray<KeyValuePair<string, Value>>.Enumerator GetEnumerator() => entries.GetEnumerator();

    /// <summary>"{w: [9, 9, 9], b: 1.5}".</summary>
    public override string ToString()
    {
        var sb = new StringBuilder("{");
        for (var k = 0; k < entries.Length; k++)
        {
            if (k > 0) sb.Append(", ");
            sb.Append(entries[k].Key).Append(": ").Append(entries[k].Value);
        }
        return sb.Append('}').ToString();
    }
}

/// <summary>The traced variables a function of <see cref="Params"/> reads, by name.</summary>
public sealed class ParamVars
{
    private Dictionary<string, Var>? vars;

    /// <summary>The variables in the parameters' order, and the parameters' names (the variables' names unless given:
    /// a Params inside a structure has variables named by their paths, <c>[0].w</c>, and parameters named <c>w</c>).</summary>
    internal ParamVars(ImmutableArray<Var> ordered, ImmutableArray<string> names = default)
    {
        Ordered = ordered;
        Names = names.IsDefault ? ordered.Select(v => v.Name).ToImmutableArray() : names;
    }

    /// <summary>Lookup by name, built on first use and never written after (a race only builds it twice).</summary>
    private Dictionary<string, Var> Vars => vars ??= Enumerable.Range(0, Ordered.Length).ToDictionary(k => Names[k], k => Ordered[k]);

    internal ImmutableArray<Var> Ordered { get; }

    /// <summary>The parameters' names, in their order.</summary>
    internal ImmutableArray<string> Names { get; }

    /// <summary>The variables of the named parameters, in the parameters' order.</summary>
    internal ImmutableArray<Var> Select(ImmutableArray<string> names)
    {
        foreach (var name in names) _ = this[name];
        var set = names.ToHashSet();
        return Ordered.Where((_, k) => set.Contains(Names[k])).ToImmutableArray();
    }

    /// <summary>The traced variable of parameter <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No parameter has that name; the message lists the names there are.</exception>
    public Expr this[string name] =>
        Vars.TryGetValue(name, out var v) ? v
        : throw new KeyNotFoundException(UserCode.Mark($"No parameter named '{name}'; the parameters are: {string.Join(", ", Names)}."));
}
