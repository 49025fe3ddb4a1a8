using System;
using System.Collections;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using MathNet.Numerics.LinearAlgebra;
using LinqExpression = System.Linq.Expressions.Expression;

namespace Functional.Autodiff;

/// <summary>
/// Marks a C# class, record or struct as a structure whose leaves the combinators differentiate (JAX's registered
/// pytree nodes): its children are the parameters of its longest public constructor, read back through the public
/// properties or fields of the same names. F# records need no attribute.
/// </summary>
/// <remarks>
/// The traced form (what the function being differentiated receives) is the same generic type with every leaf type
/// replaced by <see cref="Expr"/> (<c>Layer&lt;Value&gt;</c> is traced as <c>Layer&lt;Expr&gt;</c>); a non-generic type
/// names its traced form: <c>[Structured(typeof(LayerVars))]</c>, whose constructor takes the same names.
/// </remarks>
/// <example>
/// <code>
/// [Structured] public sealed record Layer&lt;T&gt;(T W, T B);
/// var g = AD.Grad&lt;Layer&lt;Value&gt;, Layer&lt;Expr&gt;&gt;(l =&gt; Expr.Sum(l.W * l.W) + Expr.Sum(l.B))(layer);
/// </code>
/// </example>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class StructuredAttribute : Attribute
{
    /// <summary>A generic structure: its traced form is the same type over <see cref="Expr"/> leaves.</summary>
    public StructuredAttribute() { }

    /// <summary>A structure whose traced form is <paramref name="tracedType"/> (a type with a constructor of the same parameter names).</summary>
    public StructuredAttribute(Type tracedType) => TracedType = tracedType;

    /// <summary>The traced form named by the type, or null when it is the same generic type over <see cref="Expr"/> leaves.</summary>
    public Type? TracedType { get; }
}

/// <summary>
/// A value the structure mechanism cannot take apart or put together: an unsupported type (the message names it and
/// lists what is supported), or two structures that should have the same form and do not (the message names the
/// first leaf that differs by its path, such as <c>layers[1].w</c>).
/// </summary>
public sealed class StructureException : ArgumentException
{
    /// <summary>Creates the exception; <paramref name="path"/> is the path of the first part that differs, if any.</summary>
    public StructureException(string message, string? path = null) : base(UserCode.Mark(message)) => Path = path;

    /// <summary>The path of the leaf or node that differs (<c>[0]</c>, <c>layers[1].w</c>; <c>x</c> for the root), or null for a type error.</summary>
    public string? Path { get; }
}

/// <summary>
/// The form of a structured value with its leaves taken out (JAX's treedef): which tuple, sequence, record, dictionary
/// or <see cref="Params"/> sits where, with how many elements and which names. Two values have the same form when
/// their defs are equal; leaves are compared by shape separately.
/// </summary>
public sealed class TreeDef : IEquatable<TreeDef>
{
    private ImmutableArray<string> paths;

    internal TreeDef(Rule rule, ImmutableArray<TreeDef> children, ImmutableArray<string> keys)
    {
        Rule = rule;
        Children = children;
        Keys = keys;
        var count = rule is LeafRule ? 1 : 0;
        foreach (var c in children) count += c.LeafCount;
        LeafCount = count;
    }

    internal Rule Rule { get; }

    internal ImmutableArray<TreeDef> Children { get; }

    /// <summary>Record field names, dictionary keys or parameter names of the children; empty for tuples and sequences.</summary>
    internal ImmutableArray<string> Keys { get; }

    /// <summary>The number of leaves.</summary>
    public int LeafCount { get; }

    /// <summary>Whether the structure is a single leaf (a <see cref="Value"/>, a double, a vector or a matrix).</summary>
    public bool IsLeaf => Rule is LeafRule;

    /// <summary>
    /// The path of every leaf, in leaf order: <c>[1]</c> for a tuple or sequence position, <c>.w</c> for a record field
    /// or a parameter, <c>["key"]</c> for a dictionary entry, joined from the root (<c>layers[1].w</c>); the root leaf is <c>x</c>.
    /// </summary>
    public ImmutableArray<string> Paths
    {
        get
        {
            if (paths.IsDefault)
            {
                var all = ImmutableArray.CreateBuilder<string>(LeafCount);
                Collect(this, "", all);
                ImmutableInterlocked.InterlockedInitialize(ref paths, all.MoveToImmutable());
            }
            return paths;
        }
    }

    /// <summary>The child positions of the root: tuple or sequence positions, or record, dictionary or parameter names.</summary>
    internal int ChildIndex(string name) => Keys.IndexOf(name);

    private static void Collect(TreeDef def, string prefix, ImmutableArray<string>.Builder into)
    {
        if (def.IsLeaf)
        {
            into.Add(prefix.Length == 0 ? "x" : prefix);
            return;
        }
        for (var k = 0; k < def.Children.Length; k++) Collect(def.Children[k], Join(prefix, def.Label(k)), into);
    }

    /// <summary>The label of child <paramref name="k"/>: <c>[k]</c>, <c>.name</c> or <c>["key"]</c>.</summary>
    internal string Label(int k) => Rule switch
    {
        DictionaryRule => $"[\"{Keys[k]}\"]",
        RecordRule or ParamsRule => "." + Keys[k],
        _ => $"[{k}]",
    };

    internal static string Join(string prefix, string label) =>
        prefix.Length == 0 && label.StartsWith('.') ? label[1..] : prefix + label;

    /// <summary>The position, among all leaves, of the first leaf of child <paramref name="k"/>.</summary>
    internal int FirstLeafOf(int k)
    {
        var start = 0;
        for (var i = 0; i < k; i++) start += Children[i].LeafCount;
        return start;
    }

    /// <summary>
    /// Where this form and <paramref name="other"/> first differ: a sentence naming the path, and the path itself
    /// (empty for the root); null when they are the same form.
    /// </summary>
    internal (string Message, string Path)? Difference(TreeDef other)
    {
        if (Difference(this, other, out var labels) is not { } reason) return null;
        var path = "";
        for (var k = (labels?.Count ?? 0) - 1; k >= 0; k--) path = Join(path, labels![k]);
        return ($"at {(path.Length == 0 ? "the root" : path)}: {reason}", path.Length == 0 ? "x" : path);
    }

    /// <summary>The first difference and the labels leading to it, innermost first; no string is made for equal forms.</summary>
    private static string? Difference(TreeDef a, TreeDef b, out List<string>? labels)
    {
        labels = null;
        if (ReferenceEquals(a, b)) return null;
        if (a.Rule.Form != b.Rule.Form) return $"{b.Rule.Describe()} where the input has {a.Rule.Describe()}";
        if (a.Children.Length != b.Children.Length) return $"{Elements(b.Children.Length)} where the input has {a.Children.Length}";
        for (var k = 0; k < a.Keys.Length; k++)
            if (a.Keys[k] != b.Keys[k]) return $"the name '{b.Keys[k]}' where the input has '{a.Keys[k]}'";
        for (var k = 0; k < a.Children.Length; k++)
            if (Difference(a.Children[k], b.Children[k], out labels) is { } d)
            {
                (labels ??= []).Add(a.Label(k));
                return d;
            }
        return null;
    }

    private static string Elements(int n) => n == 1 ? "1 element" : $"{n} elements";

    /// <inheritdoc/>
    public bool Equals(TreeDef? other) => other is not null && Difference(other) is null;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is TreeDef d && Equals(d);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Rule.Form, LeafCount, Children.Length);

    /// <summary>The form as the type it was read from and its leaf paths, e.g. <c>(Value, Value[]) with leaves [0], [1][0], [1][1]</c>.</summary>
    public override string ToString() => $"{Tree.Name(Rule.Type)} with leaves {string.Join(", ", Paths)}";
}

/// <summary>
/// The structure mechanism (JAX's pytrees): takes a structured value apart into its leaves and builds a value of the
/// same form from leaves. Every combinator of <see cref="AD"/> is written once over it, and it gives any structured
/// value leaf-by-leaf arithmetic (<see cref="Map{T}"/>, <see cref="Zip{T}(T, T, Func{Value, Value, Value})"/>, <see cref="Dot{T}"/>, <see cref="GlobalNorm{T}"/>).
/// </summary>
/// <remarks>
/// <para>A structure is a leaf (<see cref="Value"/>, <c>double</c>, MathNet <c>Vector&lt;double&gt;</c> or
/// <c>Matrix&lt;double&gt;</c>; in a traced form, <see cref="Expr"/>), a <see cref="Params"/> (traced as <see cref="ParamVars"/>),
/// or one of these holding structures: C# value tuples and F# tuples (any arity, nested); arrays, <c>List&lt;T&gt;</c>,
/// <c>ImmutableArray&lt;T&gt;</c>, <c>ImmutableList&lt;T&gt;</c>, <c>IReadOnlyList&lt;T&gt;</c>, <c>IList&lt;T&gt;</c> and F# lists;
/// dictionaries with string keys (<c>Dictionary</c>, <c>IReadOnlyDictionary</c>, <c>ImmutableDictionary</c>,
/// <c>ImmutableSortedDictionary</c>, F# <c>Map</c>); F# records and C# types marked <see cref="StructuredAttribute"/>.</para>
/// <para>Leaves come in depth-first order: tuple and sequence positions in order, record fields in declaration order,
/// parameters in their order, dictionary entries by key in ordinal order (F# maps order string keys the same way).
/// The form is read from the declared type, so it is the same on every call.</para>
/// </remarks>
public static class Tree
{
    /// <summary>The leaves of <paramref name="x"/> in leaf order, and its form.</summary>
    /// <exception cref="StructureException">The type is not a structure; the message lists what is.</exception>
    public static (ImmutableArray<Value> Leaves, TreeDef Def) Flatten<T>(T x)
    {
        var leaves = new List<Value>();
        try
        {
            var def = RuleOf<T>.Value.Flatten(x, new Sink(leaves, null));
            return (leaves.ToImmutableArray(), def);
        }
        catch (FlattenError error)
        {
            throw error.ToStructureException();
        }
    }

    /// <summary>A value of type <typeparamref name="T"/> and form <paramref name="def"/> with these leaves (each in its leaf's form).</summary>
    /// <exception cref="StructureException">The form is not one of <typeparamref name="T"/>, or the leaf count differs.</exception>
    public static T Unflatten<T>(TreeDef def, IReadOnlyList<Value> leaves)
    {
        Guard.NotNull(def);
        Guard.NotNull(leaves);
        var rule = RuleOf<T>.Value;
        if (def.Rule.Form != rule.Form)
            throw new StructureException($"Tree.Unflatten: the form is one of {Name(def.Rule.Type)}, not of {Name(typeof(T))}.");
        if (leaves.Count != def.LeafCount)
            throw new StructureException($"Tree.Unflatten: {leaves.Count} leaves for a form with {def.LeafCount} ({string.Join(", ", def.Paths)}).");
        return (T)rule.Build(def, new Source(leaves, null))!;
    }

    /// <summary>The leaves of <paramref name="x"/> with their paths (<c>layers[1].w</c>), in leaf order.</summary>
    public static IEnumerable<(string Path, Value Value)> Leaves<T>(T x)
    {
        var (leaves, def) = Flatten(x);
        return def.Paths.Zip(leaves, (p, v) => (p, v));
    }

    /// <summary><paramref name="f"/> applied to every leaf; the result has <paramref name="x"/>'s form.</summary>
    public static T Map<T>(T x, Func<Value, Value> f)
    {
        Guard.NotNull(f);
        var (leaves, def) = Flatten(x);
        return Unflatten<T>(def, leaves.Select(f).ToArray());
    }

    /// <summary><paramref name="f"/> applied leaf by leaf to two values of the same form (Adam's <c>m / (sqrt(v) + eps)</c> on a whole model).</summary>
    /// <exception cref="StructureException">The forms or a pair of leaf shapes differ; the message names the first leaf that differs.</exception>
    public static T Zip<T>(T a, T b, Func<Value, Value, Value> f)
    {
        Guard.NotNull(f);
        var (la, def) = Flatten(a);
        var lb = Same(def, la, b, "Tree.Zip", "second value");
        return Unflatten<T>(def, la.Select((v, k) => f(v, lb[k])).ToArray());
    }

    /// <summary><paramref name="f"/> applied leaf by leaf to three values of the same form.</summary>
    /// <exception cref="StructureException">The forms or a triple of leaf shapes differ.</exception>
    public static T Zip<T>(T a, T b, T c, Func<Value, Value, Value, Value> f)
    {
        Guard.NotNull(f);
        var (la, def) = Flatten(a);
        var lb = Same(def, la, b, "Tree.Zip", "second value");
        var lc = Same(def, la, c, "Tree.Zip", "third value");
        return Unflatten<T>(def, la.Select((v, k) => f(v, lb[k], lc[k])).ToArray());
    }

    /// <summary>The sum over leaves of the element-wise products, Σᵢ ⟨aᵢ, bᵢ⟩.</summary>
    /// <exception cref="StructureException">The forms or a pair of leaf shapes differ.</exception>
    public static double Dot<T>(T a, T b)
    {
        var (la, def) = Flatten(a);
        var lb = Same(def, la, b, "Tree.Dot", "second value");
        var total = 0.0;
        for (var k = 0; k < la.Length; k++) total += Value.Dot(la[k], lb[k]);
        return total;
    }

    /// <summary>The L2 norm over every element of every leaf, √Σ‖xᵢ‖², without overflow or underflow.</summary>
    public static double GlobalNorm<T>(T x)
    {
        var (leaves, _) = Flatten(x);
        return leaves.Length == 0 ? 0 : Value.FromArray(leaves.Select(v => v.Norm()).ToArray()).Norm();
    }

    /// <summary>A value of <paramref name="x"/>'s form with every leaf zero.</summary>
    public static T ZerosLike<T>(T x) => Map(x, v => v.ZerosLike());

    /// <summary>
    /// <paramref name="x"/> as JSON (see <see cref="Serialization.TreeJsonConverter{T}"/>): arrays for tuples and
    /// sequences, objects for records, dictionaries and parameters, exact values for leaves.
    /// </summary>
    /// <exception cref="StructureException">The type is not a structure.</exception>
    public static string ToJson<T>(T x, bool indented = false) =>
        JsonSerializer.Serialize(x, new JsonSerializerOptions { WriteIndented = indented, Converters = { new Serialization.TreeJsonConverter<T>() } });

    /// <summary>A structured value of type <typeparamref name="T"/> read from JSON written by <see cref="ToJson{T}"/>.</summary>
    /// <exception cref="JsonException">Malformed JSON, or a part that does not fit the type: the message names its path and the position in the file.</exception>
    /// <exception cref="StructureException">The type is not a structure.</exception>
    public static T FromJson<T>(string json)
    {
        Guard.NotNull(json);
        T? x;
        try
        {
            x = JsonSerializer.Deserialize<T>(json, new JsonSerializerOptions { Converters = { new Serialization.TreeJsonConverter<T>() } });
        }
        catch (JsonException e) when (e is not Serialization.JsonDataException)
        {
            // The serializer's own message (malformed JSON) names the position; add the user's line, as every error here does.
            throw new JsonException(UserCode.Mark($"Tree.FromJson<{Name(typeof(T))}>: {e.Message}"), e.Path, e.LineNumber, e.BytePositionInLine, e);
        }
        return x ?? throw new Serialization.JsonDataException($"Tree.FromJson<{Name(typeof(T))}>: the JSON is null; a structure is an array or an object.");
    }

    /// <summary>
    /// The traced form of <paramref name="type"/>: what a function being differentiated receives for an input of that
    /// type (every leaf type replaced by <see cref="Expr"/>, <see cref="Params"/> by <see cref="ParamVars"/>).
    /// </summary>
    /// <exception cref="StructureException">The type is not a structure, or a record in it names no traced form.</exception>
    public static Type TracedType(Type type)
    {
        Guard.NotNull(type);
        return Rule.For(type).Traced.Type;
    }

    // ------------------------------------------------------------------ internals for the combinators

    /// <summary>The leaves of <paramref name="x"/> checked to have the form and leaf shapes of <paramref name="def"/>.</summary>
    internal static ImmutableArray<Value> Same<T>(TreeDef def, ImmutableArray<Value> reference, T x, string who, string what)
    {
        var (leaves, other) = Flatten(x);
        if (def.Difference(other) is ({ } message, { } at))
            throw new StructureException($"{who}: the {what} does not have the input's form {message}.", at);
        var paths = def.IsLeaf ? default : def.Paths;
        for (var k = 0; k < leaves.Length; k++)
            if (leaves[k].Shape != reference[k].Shape)
            {
                var path = paths.IsDefault ? "x" : paths[k];
                throw new StructureException(
                    $"{who}: the {what} differs from the input at {path}: {leaves[k].Shape} where the input has {reference[k].Shape}.", path);
            }
        return leaves;
    }

    /// <summary>A value of the traced form with these graph leaves.</summary>
    internal static object? BuildTraced(Rule traced, TreeDef def, IReadOnlyList<Expr> leaves) => traced.Build(def, new Source(null, leaves));

    /// <summary>The graph leaves of a traced value and its form (the graph-level combinators of <see cref="Diff"/>).</summary>
    internal static (List<Expr> Leaves, TreeDef Def) FlattenTraced<T>(T x)
    {
        var leaves = new List<Expr>();
        try
        {
            var def = RuleOf<T>.Value.Flatten(x, new Sink(null, leaves));
            return (leaves, def);
        }
        catch (FlattenError error)
        {
            throw error.ToStructureException();
        }
    }

    /// <summary>The rule of one declared type, built once.</summary>
    internal static class RuleOf<T>
    {
        // Not a static initializer: a type that is not a structure must throw its StructureException on every use,
        // not a TypeInitializationException once.
        private static Rule? rule;

        public static Rule Value => rule ??= Rule.For(typeof(T));
    }

    /// <summary>A type's name as C# writes it: <c>(Value, List&lt;double&gt;)</c>, <c>Value[]</c>.</summary>
    internal static string Name(Type t)
    {
        if (t.IsArray) return Name(t.GetElementType()!) + "[]";
        if (!t.IsGenericType)
            return t == typeof(double) ? "double" : t == typeof(int) ? "int" : t == typeof(string) ? "string" : t == typeof(float) ? "float" : t.Name;
        var args = t.GetGenericArguments().Select(Name);
        if (t.FullName?.StartsWith("System.ValueTuple`", StringComparison.Ordinal) == true) return $"({string.Join(", ", args)})";
        if (t.FullName?.StartsWith("System.Tuple`", StringComparison.Ordinal) == true) return string.Join(" * ", args);
        var name = t.Name[..t.Name.IndexOf('`')];
        return $"{name}<{string.Join(", ", args)}>";
    }
}

/// <summary>Where flattening writes leaves: values on the value side, graphs on the traced side.</summary>
internal sealed class Sink(List<Value>? values, List<Expr>? exprs)
{

    public void Add(Value v) =>
        (values ?? throw new FlattenError(at => $"A Value leaf at {at} of a traced structure: its leaves must all be Expr.")).Add(v);

    public void Add(Expr e) =>
        (exprs ?? throw new FlattenError(at => $"An Expr leaf at {at} of an input: give a Value, a double, a vector or a matrix.")).Add(e);
}

/// <summary>
/// A part that cannot be flattened, on its way out of the walk: each node it passes adds its label to the path, so no
/// path string is made unless something is wrong. <see cref="Tree"/> turns it into a <see cref="StructureException"/>.
/// </summary>
internal sealed class FlattenError(Func<string, string> message) : Exception
{
    private string path = "";

    public string PathText => path.Length == 0 ? "the root" : path;

    public string FullPath => path.Length == 0 ? "x" : path;

    public FlattenError Under(string label)
    {
        path = TreeDef.Join("", label + path);
        return this;
    }

    public StructureException ToStructureException() => new(message(PathText), FullPath);
}

/// <summary>Where building reads leaves from.</summary>
internal sealed class Source(IReadOnlyList<Value>? values, IReadOnlyList<Expr>? exprs)
{
    private int next;

    public Value NextValue() => values![next++];

    public Expr NextExpr() => exprs is not null ? exprs[next++] : Expr.Const(values![next++]);
}

/// <summary>How one declared type is taken apart and put together; one per type, built once and cached.</summary>
internal abstract class Rule
{
    private static readonly ConditionalWeakTable<Type, Rule> Cache = new();
    private Rule? traced;

    protected Rule(Type type, string form)
    {
        Type = type;
        Form = form;
    }

    public Type Type { get; }

    /// <summary>The kind of node with its type arguments abstracted: equal for a type and its traced form.</summary>
    public string Form { get; }

    /// <summary>The rule of the traced form.</summary>
    public Rule Traced => traced ??= MakeTraced();

    protected abstract Rule MakeTraced();

    /// <summary>Appends x's leaves to <paramref name="into"/> and returns its form; a bad part throws <see cref="FlattenError"/>.</summary>
    public abstract TreeDef Flatten(object? x, Sink into);

    /// <summary>The form when it is the same for every value of the type (a leaf, a tuple or record of such): made once.</summary>
    public virtual TreeDef? StaticDef => null;

    public abstract object? Build(TreeDef def, Source from);

    /// <summary>Reads this type's JSON form at the reader (see <see cref="Serialization.TreeJsonConverter{T}"/>) into leaves and a form.</summary>
    public abstract TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into);

    public virtual string Describe() => Tree.Name(Type);

    protected static string At(string path) => path.Length == 0 ? "the root" : path;

    protected static void Expect(ref Utf8JsonReader reader, JsonTokenType token, string path, string what)
    {
        if (reader.TokenType != token)
            throw new Serialization.JsonDataException($"{At(path)} is {Serialization.JsonData.Describe(ref reader)}: {what}.");
    }

    /// <summary>The elements of a JSON array, each read by <paramref name="element"/>.</summary>
    protected static ImmutableArray<TreeDef> ReadArray(ref Utf8JsonReader reader, string path, List<Value> into, Rule element, int? count, string what)
    {
        Expect(ref reader, JsonTokenType.StartArray, path, what);
        var children = ImmutableArray.CreateBuilder<TreeDef>();
        while (Serialization.JsonData.Next(ref reader) != JsonTokenType.EndArray)
        {
            if (children.Count == count)
                throw new Serialization.JsonDataException($"{At(path)} has more than {count} elements: {what}.");
            children.Add(element.Read(ref reader, $"{path}[{children.Count}]", into));
        }
        if (count is { } n && children.Count != n)
            throw new Serialization.JsonDataException($"{At(path)} has {children.Count} elements: {what}.");
        return children.ToImmutable();
    }

    /// <summary>Refuses a form read from a value of another type (Tree.Unflatten of a def that is not one of its type).</summary>
    protected void Expect(TreeDef def)
    {
        if (!ReferenceEquals(def.Rule, this) && def.Rule.Form != Form)
            throw new StructureException($"Tree.Unflatten: the form has {def.Rule.Describe()} where the type has {Describe()}.");
    }

    public static Rule For(Type type) => Cache.GetValue(type, Create);

    protected static FlattenError Missing() => new(at => $"A null at {at} of a structure: every part must be present.");

    private static Rule Create(Type t)
    {
        if (LeafRule.TryCreate(t) is { } leaf) return leaf;
        if (t == typeof(Params)) return new ParamsRule(traced: false);
        if (t == typeof(ParamVars)) return new ParamsRule(traced: true);
        if (TupleRule.IsTuple(t)) return new TupleRule(t);
        if (SequenceRule.TryCreate(t) is { } seq) return seq;
        if (DictionaryRule.TryCreate(t) is { } dict) return dict;
        if (RecordRule.TryCreate(t) is { } rec) return rec;
        throw new StructureException(
            $"{Tree.Name(t)} is not a structure the combinators can take apart. Supported: Value, double, Vector<double>, Matrix<double> " +
            "(and Expr in a traced form), Params, value tuples and F# tuples, arrays, List<T>, ImmutableArray<T>, ImmutableList<T>, " +
            "IReadOnlyList<T>, IList<T>, F# lists, dictionaries with string keys and F# Maps, F# records, and C# types marked [Structured].");
    }

    /// <summary>A type with its generic arguments replaced by their traced forms.</summary>
    protected static Type TracedGeneric(Type t) =>
        t.GetGenericTypeDefinition().MakeGenericType(t.GetGenericArguments().Select(a => For(a).Traced.Type).ToArray());

    protected static Func<object, object?> Getter(Type owner, MemberInfo member)
    {
        var o = LinqExpression.Parameter(typeof(object));
        var typed = LinqExpression.Convert(o, owner);
        var read = member is PropertyInfo p ? LinqExpression.Property(typed, p) : LinqExpression.Field(typed, (FieldInfo)member);
        return LinqExpression.Lambda<Func<object, object?>>(LinqExpression.Convert(read, typeof(object)), o).Compile();
    }

    protected static Func<object?[], object> Constructor(ConstructorInfo ctor)
    {
        var args = LinqExpression.Parameter(typeof(object?[]));
        var ps = ctor.GetParameters();
        var call = LinqExpression.New(ctor, ps.Select((p, k) =>
            LinqExpression.Convert(LinqExpression.ArrayIndex(args, LinqExpression.Constant(k)), p.ParameterType)));
        return LinqExpression.Lambda<Func<object?[], object>>(LinqExpression.Convert(call, typeof(object)), args).Compile();
    }
}

/// <summary>A leaf: a Value, double, vector or matrix on the value side, an Expr on the traced side.</summary>
internal sealed class LeafRule : Rule
{
    private readonly TreeDef def;

    private LeafRule(Type type) : base(type, "leaf") => def = new TreeDef(this, [], []);

    /// <summary>The form of a leaf (one per leaf type).</summary>
    public TreeDef Def => def;

    // MathNet's own subclasses (DenseVector, DenseMatrix) are leaves too: a value read back is built dense.
    public static LeafRule? TryCreate(Type t) =>
        t == typeof(Value) || t == typeof(double) || t == typeof(Expr)
        || typeof(Vector<double>).IsAssignableFrom(t) || typeof(Matrix<double>).IsAssignableFrom(t)
            ? new LeafRule(t) : null;

    protected override Rule MakeTraced() => For(typeof(Expr));

    public override string Describe() => "a leaf";

    public override TreeDef? StaticDef => def;

    public override TreeDef Flatten(object? x, Sink into)
    {
        switch (x)
        {
            case Value v: into.Add(v); break;
            case double d: into.Add(Value.Scalar(d)); break;
            case Vector<double> vec: into.Add(Value.FromVector(vec)); break;
            case Matrix<double> m: into.Add(Value.FromMatrix(m)); break;
            case Expr e: into.Add(e); break;
            default: throw Missing();
        }
        return def;
    }

    public override object? Build(TreeDef def, Source from)
    {
        Expect(def);
        if (Type == typeof(Expr)) return from.NextExpr();
        var v = from.NextValue();
        if (Type == typeof(Value)) return v;
        if (Type == typeof(double)) return v.ToScalar();
        object built = typeof(Vector<double>).IsAssignableFrom(Type) ? v.ToVector() : v.ToMatrix();
        return Type.IsInstanceOfType(built) ? built
            : throw new StructureException($"A {v.Shape} leaf cannot be given back as a {Tree.Name(Type)} (values come back as dense vectors and matrices): declare the leaf as {(built is Vector<double> ? "Vector<double>" : "Matrix<double>")}.");
    }

    public override TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into)
    {
        if (Type == typeof(Expr)) throw new StructureException($"A traced form (Expr leaves) has no JSON form; save the values.");
        var v = Serialization.JsonData.ReadValue(ref reader, path.Length == 0 ? "the value" : path);
        if (Type == typeof(double) && !v.Shape.IsScalar || typeof(Vector<double>).IsAssignableFrom(Type) && !v.Shape.IsVector
            || typeof(Matrix<double>).IsAssignableFrom(Type) && !v.Shape.IsMatrix)
            throw new Serialization.JsonDataException($"{At(path)} is a {v.Shape}, but its type is {Tree.Name(Type)}.");
        into.Add(v);
        return def;
    }

    /// <summary>A leaf value in the form of leaf type <typeparamref name="T"/> (the fast path of a single-leaf input).</summary>
    public static T FromValue<T>(Value v)
    {
        if (typeof(T) == typeof(Value)) return (T)(object)v;
        if (typeof(T) == typeof(double)) return (T)(object)v.ToScalar();
        if (typeof(T) == typeof(Vector<double>)) return (T)(object)v.ToVector();
        if (typeof(T) == typeof(Matrix<double>)) return (T)(object)v.ToMatrix();
        return (T)For(typeof(T)).Build(null!, new Source([v], null))!;
    }

    /// <summary>A leaf in any of its forms as a Value (the fast path of a single-leaf input).</summary>
    public static Value ToValue<T>(T x) => x switch
    {
        Value v => v,
        double d => Value.Scalar(d),
        Vector<double> vec => Value.FromVector(vec),
        Matrix<double> m => Value.FromMatrix(m),
        _ => throw Missing().ToStructureException(),
    };
}

/// <summary>A Params (value side) or ParamVars (traced side): named leaves in the parameters' order.</summary>
internal sealed class ParamsRule(bool traced) : Rule(traced ? typeof(ParamVars) : typeof(Params), "params")
{
    protected override Rule MakeTraced() => For(typeof(ParamVars));

    public override TreeDef Flatten(object? x, Sink into)
    {
        switch (x)
        {
            case Params p:
            {
                var leaf = ((LeafRule)For(typeof(Value))).Def;
                foreach (var e in p)
                {
                    try { into.Add(e.Value); }
                    catch (FlattenError error) { throw error.Under("." + e.Key); }
                }
                return new TreeDef(this, Enumerable.Repeat(leaf, p.Count).ToImmutableArray(), p.Names.ToImmutableArray());
            }
            case ParamVars vars:
            {
                var leaf = ((LeafRule)For(typeof(Expr))).Def;
                for (var k = 0; k < vars.Ordered.Length; k++)
                {
                    try { into.Add(vars.Ordered[k]); }
                    catch (FlattenError error) { throw error.Under("." + vars.Names[k]); }
                }
                return new TreeDef(this, Enumerable.Repeat(leaf, vars.Ordered.Length).ToImmutableArray(), vars.Names);
            }
            default:
                throw Missing();
        }
    }

    public override TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into)
    {
        if (Type != typeof(Params)) throw new StructureException("A traced form (ParamVars) has no JSON form; save the Params.");
        Expect(ref reader, JsonTokenType.StartObject, path, "parameters are an object {\"name\": value, ...}");
        var p = Serialization.JsonData.ReadParams(ref reader);
        foreach (var e in p) into.Add(e.Value);
        var leaf = ((LeafRule)For(typeof(Value))).Def;
        return new TreeDef(this, p.Entries.Select(_ => leaf).ToImmutableArray(), p.Names.ToImmutableArray());
    }

    public override object? Build(TreeDef def, Source from)
    {
        Expect(def);
        if (Type == typeof(Params)) return Params.Trusted(def.Keys, _ => from.NextValue());
        var vars = ImmutableArray.CreateBuilder<Var>(def.Keys.Length);
        foreach (var name in def.Keys)
            vars.Add(from.NextExpr() as Var
                     ?? throw new StructureException("A ParamVars can only hold the traced variables of a Params; the graph-level combinators (Diff) take dictionaries or records instead."));
        return new ParamVars(vars.MoveToImmutable(), def.Keys);
    }
}

/// <summary>A C# value tuple or an F# (System.Tuple) tuple: positions in order.</summary>
internal sealed class TupleRule : Rule
{
    private readonly Func<object, object?>[] items;
    private readonly Func<object?[], object> make;
    private readonly Rule[] rules;

    public TupleRule(Type t) : base(t, (t.IsValueType ? "valuetuple" : "tuple") + Arity(t))
    {
        var args = t.GetGenericArguments();
        var own = args.Select((_, k) => Getter(t, (MemberInfo?)t.GetField(ItemName(k)) ?? t.GetProperty(ItemName(k))!)).ToArray();
        var ctor = Constructor(t.GetConstructor(args)!);
        if (HasRest(args))
        {
            // A tuple of 8 or more is 7 items and a Rest tuple: the Rest's positions continue this one's, so C#'s
            // (a, …, h) and F#'s a * … * h have positions 0 to 7 (not a nested [7][0]).
            var rest = (TupleRule)For(args[7]);
            var getRest = own[7];
            rules = [.. args.Take(7).Select(For), .. rest.rules];
            items = [.. own.Take(7), .. rest.items.Select(get => (Func<object, object?>)(x => get(getRest(x)!)))];
            make = values => ctor([.. values.Take(7), rest.make(values[7..])]);
        }
        else
        {
            rules = args.Select(For).ToArray();
            items = own;
            make = ctor;
        }
        if (rules.All(r => r.StaticDef is not null)) staticDef = new TreeDef(this, [.. rules.Select(r => r.StaticDef!)], []);
    }

    private readonly TreeDef? staticDef;

    private static string ItemName(int k) => k == 7 ? "Rest" : $"Item{k + 1}";

    private static bool HasRest(Type[] args) => args.Length == 8 && IsTuple(args[7]);

    /// <summary>The number of positions, a long tuple's Rest counted by its own positions.</summary>
    private static int Arity(Type t)
    {
        var args = t.GetGenericArguments();
        return HasRest(args) ? 7 + Arity(args[7]) : args.Length;
    }

    public static bool IsTuple(Type t) =>
        t.IsGenericType && t.FullName is { } n && (n.StartsWith("System.ValueTuple`", StringComparison.Ordinal) || n.StartsWith("System.Tuple`", StringComparison.Ordinal));

    protected override Rule MakeTraced() => For(TracedGeneric(Type));

    public override TreeDef? StaticDef => staticDef;

    public override TreeDef Flatten(object? x, Sink into)
    {
        if (x is null) throw Missing();
        var children = staticDef is null ? ImmutableArray.CreateBuilder<TreeDef>(rules.Length) : null;
        var k = 0;
        try
        {
            for (; k < rules.Length; k++)
            {
                var child = rules[k].Flatten(items[k](x), into);
                children?.Add(child);
            }
        }
        catch (FlattenError error)
        {
            throw error.Under($"[{k}]");
        }
        return staticDef ?? new TreeDef(this, children!.MoveToImmutable(), []);
    }

    public override object? Build(TreeDef def, Source from)
    {
        Expect(def);
        var args = new object?[rules.Length];
        for (var k = 0; k < rules.Length; k++) args[k] = rules[k].Build(def.Children[k], from);
        return make(args);
    }

    public override TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into)
    {
        var what = $"a {Tree.Name(Type)} is an array of {rules.Length}";
        Expect(ref reader, JsonTokenType.StartArray, path, what);
        var children = ImmutableArray.CreateBuilder<TreeDef>(rules.Length);
        for (var k = 0; k < rules.Length; k++)
        {
            if (Serialization.JsonData.Next(ref reader) == JsonTokenType.EndArray)
                throw new Serialization.JsonDataException($"{At(path)} has {k} elements: {what}.");
            children.Add(rules[k].Read(ref reader, $"{path}[{k}]", into));
        }
        if (Serialization.JsonData.Next(ref reader) != JsonTokenType.EndArray)
            throw new Serialization.JsonDataException($"{At(path)} has more than {rules.Length} elements: {what}.");
        return new TreeDef(this, children.MoveToImmutable(), []);
    }
}

/// <summary>Arrays, lists and immutable sequences, F# lists: elements in order.</summary>
internal sealed class SequenceRule : Rule
{
    private readonly Rule element;
    private readonly Func<Array, object> make;

    private SequenceRule(Type t, Type element, Func<Array, object> make) : base(t, "sequence:" + Kind(t))
    {
        this.element = For(element);
        this.make = make;
    }

    private static string Kind(Type t) => t.IsArray ? "array" : t.GetGenericTypeDefinition().FullName!;

    public static SequenceRule? TryCreate(Type t)
    {
        if (t.IsArray && t.GetArrayRank() == 1) return new SequenceRule(t, t.GetElementType()!, a => a);
        if (!t.IsGenericType || t.GetGenericArguments().Length != 1) return null;
        var e = t.GetGenericArguments()[0];
        var def = t.GetGenericTypeDefinition();
        if (def == typeof(List<>) || def == typeof(ImmutableList<>) || def == typeof(ImmutableArray<>))
        {
            var factory = def == typeof(List<>) ? null
                : typeof(ImmutableArray).Assembly.GetType(def == typeof(ImmutableList<>) ? "System.Collections.Immutable.ImmutableList" : "System.Collections.Immutable.ImmutableArray")!
                    .GetMethods().Single(m => m.Name == (def == typeof(ImmutableList<>) ? "CreateRange" : "Create") && m.IsGenericMethod
                                              && m.GetParameters() is [{ } p] && (p.ParameterType.IsArray || p.ParameterType.Name == "IEnumerable`1"))
                    .MakeGenericMethod(e);
            return new SequenceRule(t, e, a => factory is null ? Activator.CreateInstance(t, a)! : factory.Invoke(null, [a])!);
        }
        if (def == typeof(IReadOnlyList<>) || def == typeof(IList<>) || def == typeof(IReadOnlyCollection<>) || def == typeof(ICollection<>))
            return new SequenceRule(t, e, a => a);
        if (def.FullName == "Microsoft.FSharp.Collections.FSharpList`1")
        {
            var empty = t.GetProperty("Empty", BindingFlags.Public | BindingFlags.Static)!;
            var cons = t.GetMethod("Cons", BindingFlags.Public | BindingFlags.Static)!;
            return new SequenceRule(t, e, a =>
            {
                var list = empty.GetValue(null)!;
                for (var k = a.Length - 1; k >= 0; k--) list = cons.Invoke(null, [a.GetValue(k), list])!;
                return list;
            });
        }
        return null;
    }

    protected override Rule MakeTraced() =>
        Type.IsArray ? For(element.Traced.Type.MakeArrayType()) : For(TracedGeneric(Type));

    public override TreeDef Flatten(object? x, Sink into)
    {
        if (x is not IEnumerable items) throw Missing();
        var children = ImmutableArray.CreateBuilder<TreeDef>();
        try
        {
            foreach (var item in items) children.Add(element.Flatten(item, into));
        }
        catch (FlattenError error)
        {
            throw error.Under($"[{children.Count}]");
        }
        return new TreeDef(this, children.ToImmutable(), []);
    }

    public override object? Build(TreeDef def, Source from)
    {
        Expect(def);
        var array = Array.CreateInstance(element.Type, def.Children.Length);
        for (var k = 0; k < def.Children.Length; k++) array.SetValue(element.Build(def.Children[k], from), k);
        return make(array);
    }

    public override TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into) =>
        new(this, ReadArray(ref reader, path, into, element, null, $"a {Tree.Name(Type)} is an array"), []);
}

/// <summary>Dictionaries with string keys and F# maps: entries by key.</summary>
internal sealed class DictionaryRule : Rule
{
    private readonly Rule element;
    private readonly Func<string[], Array, object> make;
    private readonly Func<object, object?> key, value;

    private DictionaryRule(Type t, Type element, Func<string[], Array, object> make) : base(t, "dictionary:" + t.GetGenericTypeDefinition().FullName)
    {
        this.element = For(element);
        this.make = make;
        var pair = typeof(KeyValuePair<,>).MakeGenericType(typeof(string), element);
        key = Getter(pair, pair.GetProperty("Key")!);
        value = Getter(pair, pair.GetProperty("Value")!);
    }

    public static DictionaryRule? TryCreate(Type t)
    {
        if (!t.IsGenericType || t.GetGenericArguments() is not [var k, var e] || k != typeof(string)) return null;
        var def = t.GetGenericTypeDefinition();
        var dict = typeof(Dictionary<,>).MakeGenericType(typeof(string), e);
        object Dict(string[] keys, Array values)
        {
            var d = (IDictionary)Activator.CreateInstance(dict, StringComparer.Ordinal)!;
            for (var i = 0; i < keys.Length; i++) d.Add(keys[i], values.GetValue(i));
            return d;
        }
        if (def == typeof(Dictionary<,>) || def == typeof(IReadOnlyDictionary<,>) || def == typeof(IDictionary<,>))
            return new DictionaryRule(t, e, Dict);
        if (def == typeof(ImmutableDictionary<,>) || def == typeof(ImmutableSortedDictionary<,>))
        {
            var name = def == typeof(ImmutableDictionary<,>) ? "System.Collections.Immutable.ImmutableDictionary" : "System.Collections.Immutable.ImmutableSortedDictionary";
            var create = typeof(ImmutableArray).Assembly.GetType(name)!.GetMethods()
                .Single(m => m.Name == "CreateRange" && m.GetParameters().Length == 2 && m.GetParameters()[0].ParameterType.Name.StartsWith(def == typeof(ImmutableDictionary<,>) ? "IEqualityComparer" : "IComparer", StringComparison.Ordinal))
                .MakeGenericMethod(typeof(string), e);
            return new DictionaryRule(t, e,
                (keys, values) => create.Invoke(null, [StringComparer.Ordinal, Dict(keys, values)])!);
        }
        if (def.FullName == "Microsoft.FSharp.Collections.FSharpMap`2")
        {
            var tuple = typeof(Tuple<,>).MakeGenericType(typeof(string), e);
            var ctor = t.GetConstructor([typeof(IEnumerable<>).MakeGenericType(tuple)])!;
            return new DictionaryRule(t, e, (keys, values) =>
            {
                var pairs = Array.CreateInstance(tuple, keys.Length);
                for (var i = 0; i < keys.Length; i++) pairs.SetValue(Activator.CreateInstance(tuple, keys[i], values.GetValue(i)), i);
                return ctor.Invoke([pairs]);
            });
        }
        return null;
    }

    protected override Rule MakeTraced() => For(Type.GetGenericTypeDefinition().MakeGenericType(typeof(string), element.Traced.Type));

    public override TreeDef Flatten(object? x, Sink into)
    {
        if (x is not IEnumerable items) throw Missing();
        var entries = new List<(string Key, object? Value)>();
        foreach (var pair in items) entries.Add(((string)key(pair!)!, value(pair!)));
        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var children = ImmutableArray.CreateBuilder<TreeDef>(entries.Count);
        foreach (var (k, v) in entries)
        {
            try { children.Add(element.Flatten(v, into)); }
            catch (FlattenError error) { throw error.Under($"[\"{k}\"]"); }
        }
        return new TreeDef(this, children.MoveToImmutable(), entries.Select(e => e.Key).ToImmutableArray());
    }

    public override object? Build(TreeDef def, Source from)
    {
        Expect(def);
        var values = Array.CreateInstance(element.Type, def.Children.Length);
        for (var k = 0; k < def.Children.Length; k++) values.SetValue(element.Build(def.Children[k], from), k);
        return make(def.Keys.ToArray(), values);
    }

    public override TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into)
    {
        Expect(ref reader, JsonTokenType.StartObject, path, $"a {Tree.Name(Type)} is an object {{\"key\": ..., ...}}");
        var entries = new List<(string Key, TreeDef Def, List<Value> Leaves)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (Serialization.JsonData.Next(ref reader) != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            if (!seen.Add(key)) throw new Serialization.JsonDataException($"{At(path)} has the key \"{Serialization.JsonData.Shorten(key)}\" twice.");
            Serialization.JsonData.Next(ref reader);
            var leaves = new List<Value>();
            entries.Add((key, element.Read(ref reader, $"{path}[\"{key}\"]", leaves), leaves));
        }
        // Keys in ordinal order, as flattening puts them, so a file's own key order never changes the form.
        entries.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        foreach (var e in entries) into.AddRange(e.Leaves);
        return new TreeDef(this, entries.Select(e => e.Def).ToImmutableArray(), entries.Select(e => e.Key).ToImmutableArray());
    }
}

/// <summary>An F# record or a C# type marked [Structured]: named fields in constructor order.</summary>
internal sealed class RecordRule : Rule
{
    private readonly (string Name, Rule Rule, Func<object, object?> Get)[] fields;
    private readonly Func<object?[], object> make;
    private readonly ImmutableArray<string> names;
    private readonly Type? tracedType;

    private RecordRule(Type t, ConstructorInfo ctor, Type? tracedType) : base(t, "record:" + (t.IsGenericType ? t.GetGenericTypeDefinition() : t).FullName)
    {
        this.tracedType = tracedType;
        make = Constructor(ctor);
        fields = ctor.GetParameters().Select(p =>
        {
            var member = (MemberInfo?)t.GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                         ?? t.GetField(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)
                         ?? throw new StructureException($"{Tree.Name(t)}: constructor parameter '{p.Name}' has no public property or field of that name to read it back.");
            return (member.Name, For(p.ParameterType), Getter(t, member));
        }).ToArray();
        names = fields.Select(f => f.Name).ToImmutableArray();
        if (fields.All(f => f.Rule.StaticDef is not null)) staticDef = new TreeDef(this, [.. fields.Select(f => f.Rule.StaticDef!)], names);
    }

    private readonly TreeDef? staticDef;

    public static RecordRule? TryCreate(Type t)
    {
        var marked = t.GetCustomAttribute<StructuredAttribute>();
        if (marked is null && !IsFSharpRecord(t)) return null;
        var ctor = t.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                   ?? throw new StructureException($"{Tree.Name(t)} is marked as a structure but has no public constructor to build it with.");
        return new RecordRule(t, ctor, marked?.TracedType);
    }

    private static bool IsFSharpRecord(Type t) =>
        t.CustomAttributes.Any(a => a.AttributeType.FullName == "Microsoft.FSharp.Core.CompilationMappingAttribute"
                                    && a.ConstructorArguments.Count > 0 && a.ConstructorArguments[0].Value is int flags && (flags & 31) == 2);

    protected override Rule MakeTraced()
    {
        if (tracedType is not null) return For(tracedType);
        if (fields.All(f => f.Rule.Traced.Type == f.Rule.Type)) return this;
        if (!Type.IsGenericType)
            throw new StructureException(
                $"{Tree.Name(Type)} has value leaves but no traced form: make it generic in its leaf type ({Type.Name}<T>, traced as {Type.Name}<Expr>), " +
                $"or, in C#, name one with [Structured(typeof({Type.Name}Vars))].");
        return For(TracedGeneric(Type));
    }

    public override TreeDef? StaticDef => staticDef;

    public override TreeDef Flatten(object? x, Sink into)
    {
        if (x is null) throw Missing();
        var children = staticDef is null ? ImmutableArray.CreateBuilder<TreeDef>(fields.Length) : null;
        foreach (var (name, rule, get) in fields)
        {
            try
            {
                var child = rule.Flatten(get(x), into);
                children?.Add(child);
            }
            catch (FlattenError error)
            {
                throw error.Under("." + name);
            }
        }
        return staticDef ?? new TreeDef(this, children!.MoveToImmutable(), names);
    }

    public override object? Build(TreeDef def, Source from)
    {
        Expect(def);
        var args = new object?[fields.Length];
        for (var k = 0; k < fields.Length; k++) args[k] = fields[k].Rule.Build(def.Children[k], from);
        return make(args);
    }

    public override TreeDef Read(ref Utf8JsonReader reader, string path, List<Value> into)
    {
        var what = $"a {Tree.Name(Type)} is an object {{{string.Join(", ", names.Select(n => $"\"{n}\": ..."))}}}";
        Expect(ref reader, JsonTokenType.StartObject, path, what);
        var children = new TreeDef?[fields.Length];
        var leaves = new List<Value>?[fields.Length];
        while (Serialization.JsonData.Next(ref reader) != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            var k = names.IndexOf(name);
            if (k < 0) throw new Serialization.JsonDataException($"{At(path)} has an unknown field \"{Serialization.JsonData.Shorten(name)}\": {what}.");
            if (children[k] is not null) throw new Serialization.JsonDataException($"{At(path)} has the field \"{name}\" twice.");
            Serialization.JsonData.Next(ref reader);
            leaves[k] = [];
            children[k] = fields[k].Rule.Read(ref reader, TreeDef.Join(path, "." + name), leaves[k]!);
        }
        for (var k = 0; k < fields.Length; k++)
        {
            if (children[k] is null) throw new Serialization.JsonDataException($"{At(path)} has no field \"{names[k]}\": {what}.");
            into.AddRange(leaves[k]!);
        }
        return new TreeDef(this, children.Select(c => c!).ToImmutableArray(), names);
    }

    public override string Describe() => Tree.Name(Type);
}
