using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Reflection;
using System.Text.Json;

namespace Functional.Autodiff.Serialization;

/// <summary>
/// The ops the graph format (<see cref="GraphJson"/>) knows, by name: every op in <see cref="Ops.All"/>, and ops of
/// your own (a <see cref="CustomOp"/>, or a class derived from <see cref="Op"/>) once you register a name for them.
/// Immutable: <c>With</c> returns a new registry.
/// </summary>
/// <remarks>
/// A file names each node's op by <see cref="Op.Name"/> and keeps its parameters beside it (<c>"params"</c>): pow's
/// <c>exponent</c>, index's <c>i</c> and <c>j</c>, scatter's <c>target</c>, <c>i</c> and <c>j</c>, broadcast's
/// <c>target</c>, broadcast_rows' <c>rows</c>, broadcast_columns' <c>cols</c>, one_hot's <c>classes</c>, reshape's <c>target</c>,
/// concat's <c>axis</c>, slice's <c>axis</c>, <c>start</c> and <c>stop</c>, pad's <c>axis</c>, <c>before</c> and
/// <c>after</c>, matmul's <c>transpose_a</c> and <c>transpose_b</c> (written when true; a plain matmul has no params), gather's <c>indices</c>, scatter_add's <c>indices</c> and <c>count</c>, row's <c>i</c>, column's <c>j</c>, and the <c>axis</c> of max, min,
/// log_sum_exp and max_weights (absent for a reduction over all elements), clamp's <c>min</c> and <c>max</c>. An op of your
/// own is code (a <see cref="CustomOp"/> holds delegates), which a file cannot hold: registering a name says which op
/// to make when a file names it, and the same registration lets a graph holding the op be saved.
/// </remarks>
/// <example>
/// <code>
/// var ops = OpRegistry.BuiltIn.With("logsumexp", () => logSumExp);
/// var json = GraphJson.Serialize(y, new GraphJsonOptions { Ops = ops });
/// var loaded = GraphJson.Deserialize(json, new GraphJsonOptions { Ops = ops });
/// </code>
/// </example>
public sealed class OpRegistry
{
    private static readonly ImmutableDictionary<Type, OpEntry> BuiltInByType;
    private readonly ImmutableDictionary<string, OpEntry> byName;

    static OpRegistry()
    {
        // The ops with parameters, by type: how their parameters are written and read back. Every other op in
        // Ops.All is a parameterless singleton (its type's public static Instance); an op that is neither has no
        // entry, so the writer refuses it and the test that every op in Ops.All round-trips fails.
        var withParameters = new OpEntry[]
        {
            new BuiltInWithParameters<PowOp>(
                (w, op) => JsonData.WriteDouble(w, "exponent", op.Exponent),
                p => PowOp.For(p.Double("exponent")), "exponent"),
            new BuiltInWithParameters<IndexOp>(
                (w, op) => WritePosition(w, op.I, op.J),
                p => new IndexOp(p.Int("i", 0), p.OptionalInt("j", 0)), "i", "j"),
            new BuiltInWithParameters<ScatterOp>(
                (w, op) =>
                {
                    w.WritePropertyName("target"u8);
                    JsonData.WriteShape(w, op.Target);
                    WritePosition(w, op.Position.I, op.Position.J);
                },
                p => new ScatterOp(p.Shape("target"), p.Int("i", 0), p.OptionalInt("j", 0)), "target", "i", "j"),
            new BuiltInWithParameters<BroadcastScalarOp>(
                (w, op) =>
                {
                    w.WritePropertyName("target"u8);
                    JsonData.WriteShape(w, op.Target);
                },
                p => new BroadcastScalarOp(p.Shape("target")), "target"),
            new BuiltInWithParameters<BroadcastRowsOp>((w, op) => w.WriteNumber("rows"u8, op.Rows), p => new BroadcastRowsOp(p.Int("rows", 1)), "rows"),
            new BuiltInWithParameters<BroadcastColumnsOp>((w, op) => w.WriteNumber("cols"u8, op.Cols), p => new BroadcastColumnsOp(p.Int("cols", 1)), "cols"),
            new BuiltInWithParameters<OneHotOp>((w, op) => w.WriteNumber("classes"u8, op.Classes), p => new OneHotOp(p.Int("classes", 1)), "classes"),
            new BuiltInWithParameters<ReshapeOp>(
                (w, op) =>
                {
                    w.WritePropertyName("target"u8);
                    JsonData.WriteShape(w, op.Target);
                },
                p => new ReshapeOp(p.Shape("target")), "target"),
            new BuiltInWithParameters<ConcatOp>((w, op) => w.WriteNumber("axis"u8, op.Axis), p => new ConcatOp(p.Int("axis", 0)), "axis"),
            new BuiltInWithParameters<SliceOp>(
                (w, op) =>
                {
                    w.WriteNumber("axis"u8, op.Axis);
                    w.WriteNumber("start"u8, op.Start);
                    w.WriteNumber("stop"u8, op.Stop);
                },
                p => new SliceOp(p.Int("axis", 0), p.Int("start", 0), p.Int("stop", 1)), "axis", "start", "stop"),
            new BuiltInWithParameters<PadOp>(
                (w, op) =>
                {
                    w.WriteNumber("axis"u8, op.Axis);
                    w.WriteNumber("before"u8, op.Before);
                    w.WriteNumber("after"u8, op.After);
                },
                p => new PadOp(p.Int("axis", 0), p.Int("before", 0), p.Int("after", 0)), "axis", "before", "after"),
            new BuiltInWithParameters<GatherOp>((w, op) => WriteIndices(w, op.Indices), p => new GatherOp(p.IntArray("indices", 0)), "indices"),
            new BuiltInWithParameters<ScatterAddOp>(
                (w, op) =>
                {
                    WriteIndices(w, op.Indices);
                    w.WriteNumber("count"u8, op.Count);
                },
                p => new ScatterAddOp(p.IntArray("indices", 0), p.Int("count", 1)), "indices", "count"),
            new BuiltInWithParameters<RowOp>((w, op) => w.WriteNumber("i"u8, op.I), p => new RowOp(p.Int("i", 0)), "i"),
            new BuiltInWithParameters<ColumnOp>((w, op) => w.WriteNumber("j"u8, op.J), p => new ColumnOp(p.Int("j", 0)), "j"),
            new BuiltInWithParameters<MaxOp>(WriteAxis, p => p.OptionalInt("axis", 0) is { } a ? new MaxOp(a) : new MaxOp(), "axis"),
            new BuiltInWithParameters<MinOp>(WriteAxis, p => p.OptionalInt("axis", 0) is { } a ? new MinOp(a) : new MinOp(), "axis"),
            new BuiltInWithParameters<LogSumExpOp>(WriteAxis, p => p.OptionalInt("axis", 0) is { } a ? new LogSumExpOp(a) : new LogSumExpOp(), "axis"),
            new BuiltInWithParameters<MaxWeightsOp>((w, op) => WriteAxis(w, op.Axis), p => new MaxWeightsOp(p.OptionalInt("axis", 0)), "axis"),
            new BuiltInWithParameters<ClampOp>(
                (w, op) =>
                {
                    JsonData.WriteDouble(w, "min", op.Min);
                    JsonData.WriteDouble(w, "max", op.Max);
                },
                p => new ClampOp(p.Double("min"), p.Double("max")), "min", "max"),
            new MatMulEntry(),
        }.ToDictionary(e => e.Type!);

        var byType = ImmutableDictionary.CreateBuilder<Type, OpEntry>();
        var names = ImmutableDictionary.CreateBuilder<string, OpEntry>(StringComparer.Ordinal);
        foreach (var op in Ops.All)
        {
            var type = op.GetType();
            OpEntry? entry = withParameters.TryGetValue(type, out var e) ? e
                : type.GetField("Instance", BindingFlags.Public | BindingFlags.Static)?.GetValue(null) is Op instance && ReferenceEquals(instance, op)
                    ? new Singleton(op)
                    : null;
            if (entry is null || byType.ContainsKey(type) || names.ContainsKey(op.Name)) continue;
            entry.Name = op.Name;
            byType.Add(type, entry);
            names.Add(op.Name, entry);
        }
        BuiltInByType = byType.ToImmutable();
        BuiltIn = new OpRegistry(names.ToImmutable());
    }

    private OpRegistry(ImmutableDictionary<string, OpEntry> byName) => this.byName = byName;

    private static void WriteIndices(Utf8JsonWriter w, ImmutableArray<int> indices)
    {
        w.WriteStartArray("indices"u8);
        foreach (var k in indices) w.WriteNumberValue(k);
        w.WriteEndArray();
    }

    /// <summary>The axis of a reduction, when it has one (none: over all elements, written as empty params).</summary>
    private static void WriteAxis(Utf8JsonWriter w, int? axis)
    {
        if (axis is { } a) w.WriteNumber("axis"u8, a);
    }

    private static void WriteAxis(Utf8JsonWriter w, AxisReductionOp op) => WriteAxis(w, op.Axis);

    private static void WritePosition(Utf8JsonWriter w, int i, int? j)
    {
        w.WriteNumber("i"u8, i);
        if (j is { } col) w.WriteNumber("j"u8, col);
    }

    /// <summary>Every op of the library, the ones in <see cref="Ops.All"/>.</summary>
    public static OpRegistry BuiltIn { get; }

    /// <summary>The names this registry knows, in ordinal order.</summary>
    public IEnumerable<string> Names => byName.Keys.OrderBy(n => n, StringComparer.Ordinal);

    /// <summary>True when a file may name an op <paramref name="name"/>.</summary>
    public bool Contains(string name) => name is not null && byName.ContainsKey(name);

    /// <summary>
    /// This registry and an op of your own without parameters: a file node named <paramref name="name"/> is loaded
    /// as the op <paramref name="create"/> returns (the same instance each time, or a new one), and a graph holding an
    /// op of that name (other than a library op) can be saved.
    /// </summary>
    /// <param name="name">The op's <see cref="Op.Name"/>; the op <paramref name="create"/> makes must have it.</param>
    /// <param name="create">Makes the op, when a file is loaded.</param>
    /// <exception cref="ArgumentException">The name is empty, is a library op's, or is registered already.</exception>
    public OpRegistry With(string name, Func<Op> create)
    {
        Guard.NotNull(create);
        return Add(name, new Factory(create));
    }

    /// <summary>
    /// This registry and an op type of your own with parameters: <paramref name="writeParameters"/> writes an op's
    /// parameters as properties of the node's <c>"params"</c> object, and <paramref name="read"/> makes the op from
    /// that object when a file is loaded (an undefined <see cref="JsonElement"/> when a node has no <c>"params"</c>).
    /// Ops of type <typeparamref name="TOp"/> named <paramref name="name"/> can be saved; an exception that
    /// <paramref name="read"/> throws for bad parameters becomes the <see cref="GraphFormatException"/> of that node.
    /// </summary>
    /// <exception cref="ArgumentException">The name is empty, is a library op's, or is registered already.</exception>
    public OpRegistry With<TOp>(string name, Action<Utf8JsonWriter, TOp> writeParameters, Func<JsonElement, TOp> read) where TOp : Op
    {
        Guard.NotNull(writeParameters);
        Guard.NotNull(read);
        return Add(name, new UserWithParameters<TOp>(writeParameters, read));
    }

    private OpRegistry Add(string name, OpEntry entry)
    {
        Guard.NotNullOrEmpty(name);
        if (byName.TryGetValue(name, out var existing))
            throw new ArgumentException(UserCode.Mark(existing.IsBuiltIn
                ? $"'{name}' is the name of a library op: give your op another name and register that."
                : $"An op named '{name}' is registered already: register each name once."), nameof(name));
        entry.Name = name;
        return new OpRegistry(byName.Add(name, entry));
    }

    /// <summary>The entry to save <paramref name="op"/> with, or null and what is wrong.</summary>
    internal OpEntry? ForSaving(Op op, out string problem)
    {
        problem = "";
        var type = op.GetType();
        if (BuiltInByType.TryGetValue(type, out var builtIn)) return builtIn;
        var kind = type == typeof(CustomOp) ? "a CustomOp" : $"of type {type.Name}";
        if (type.Assembly == typeof(Op).Assembly && type != typeof(CustomOp))
        {
            problem = $"op '{op.Name}' is a library op that the graph format cannot save yet: Serialization/OpRegistry.cs has no entry for {type.Name}.";
            return null;
        }
        if (byName.TryGetValue(op.Name, out var entry))
        {
            if (entry.IsBuiltIn)
                problem = $"op '{op.Name}' ({kind}) has the name of a library op, so a file could not tell them apart: give your op another name and register that.";
            else if (!entry.Accepts(op))
                problem = $"op '{op.Name}' ({kind}) is not of the type {entry.Type!.Name} registered under its name.";
            else
                return entry;
            return null;
        }
        problem = $"op '{op.Name}' ({kind}) has no registered name, so a file could not load it: register it with " +
                  $"OpRegistry.BuiltIn.With(\"{op.Name}\", () => yourOp) (or With<TOp>(name, writeParameters, read) for an op with parameters) " +
                  "and pass the registry as GraphJsonOptions.Ops when saving and when loading.";
        return null;
    }

    /// <summary>The entry of a name found in a file, or null.</summary>
    internal OpEntry? ForLoading(string name) => byName.TryGetValue(name, out var e) ? e : null;
}

/// <summary>How one op is saved and loaded.</summary>
internal abstract class OpEntry
{
    /// <summary>The op's name in files.</summary>
    public string Name { get; set; } = "";

    /// <summary>The type of op accepted for saving, when the entry is for one type.</summary>
    public virtual Type? Type => null;

    public virtual bool IsBuiltIn => false;

    /// <summary>Whether the nodes of this op get a "params" object.</summary>
    public abstract bool HasParameters { get; }

    public virtual bool Accepts(Op op) => op.Name == Name;

    /// <summary>Whether the node of <paramref name="op"/> gets a "params" object (an entry may leave it out for default parameters).</summary>
    public virtual bool WritesParameters(Op op) => HasParameters;

    /// <summary>Writes the parameters of <paramref name="op"/> as properties of the open "params" object.</summary>
    public virtual void WriteParameters(Utf8JsonWriter writer, Op op) { }

    /// <summary>The op of a node: <paramref name="parameters"/> is its "params" object, or null when it has none.</summary>
    public abstract Op Load(JsonElement? parameters);

    protected void NoParameters(JsonElement? parameters)
    {
        if (parameters is not null) throw new JsonDataException($"{Name} takes no parameters, but the node has \"params\": remove them.");
    }

    protected JsonElement Required(JsonElement? parameters, string form) =>
        parameters ?? throw new JsonDataException($"{Name} needs its parameters: give the node \"params\": {{{form}}}.");
}

internal sealed class Singleton(Op op) : OpEntry
{
    public override bool IsBuiltIn => true;
    public override bool HasParameters => false;

    public override Op Load(JsonElement? parameters)
    {
        NoParameters(parameters);
        return op;
    }
}

internal sealed class BuiltInWithParameters<TOp>(Action<Utf8JsonWriter, TOp> write, Func<ParameterObject, Op> read, params string[] names) : OpEntry
    where TOp : Op
{
    public override Type Type => typeof(TOp);
    public override bool IsBuiltIn => true;
    public override bool HasParameters => true;
    public override void WriteParameters(Utf8JsonWriter writer, Op op) => write(writer, (TOp)op);

    public override Op Load(JsonElement? parameters)
    {
        var p = new ParameterObject(Name, Required(parameters, string.Join(", ", names.Select(n => $"\"{n}\": …"))), names);
        return read(p);
    }
}

/// <summary>matmul: the plain product has no params (as in files written before the transposed forms existed).</summary>
internal sealed class MatMulEntry : OpEntry
{
    private static readonly string[] Names = ["transpose_a", "transpose_b"];
    public override Type Type => typeof(MatMulOp);
    public override bool IsBuiltIn => true;
    public override bool HasParameters => true;
    public override bool WritesParameters(Op op) => op is MatMulOp { TransposeA: true } or MatMulOp { TransposeB: true };

    public override void WriteParameters(Utf8JsonWriter writer, Op op)
    {
        var m = (MatMulOp)op;
        if (m.TransposeA) writer.WriteBoolean("transpose_a"u8, true);
        if (m.TransposeB) writer.WriteBoolean("transpose_b"u8, true);
    }

    public override Op Load(JsonElement? parameters)
    {
        if (parameters is not { } e) return MatMulOp.Instance;
        var p = new ParameterObject(Name, e, Names);
        return MatMulOp.Of(p.OptionalBool("transpose_a"), p.OptionalBool("transpose_b"));
    }
}

internal sealed class Factory(Func<Op> create) : OpEntry
{
    public override bool HasParameters => false;

    public override Op Load(JsonElement? parameters)
    {
        NoParameters(parameters);
        return Checked(create(), Name);
    }

    public static Op Checked(Op? op, string name)
    {
        if (op is null) throw new InvalidOperationException(UserCode.Mark($"the factory registered for op '{name}' returned null."));
        if (op.Name != name) throw new InvalidOperationException(UserCode.Mark($"the factory registered for op '{name}' made an op named '{op.Name}': register it under the name it has."));
        return op;
    }
}

internal sealed class UserWithParameters<TOp>(Action<Utf8JsonWriter, TOp> write, Func<JsonElement, TOp> read) : OpEntry
    where TOp : Op
{
    public override Type Type => typeof(TOp);
    public override bool HasParameters => true;
    public override bool Accepts(Op op) => op is TOp && op.Name == Name;
    public override void WriteParameters(Utf8JsonWriter writer, Op op) => write(writer, (TOp)op);
    public override Op Load(JsonElement? parameters) => Factory.Checked(read(parameters ?? default), Name);
}

/// <summary>The "params" object of a library op's node, read strictly: known names only, each of the right kind.</summary>
internal readonly struct ParameterObject
{
    private readonly string op;
    private readonly JsonElement element;

    public ParameterObject(string op, JsonElement element, string[] known)
    {
        this.op = op;
        this.element = element;
        if (element.ValueKind != JsonValueKind.Object)
            throw new JsonDataException($"the params of {op} are {JsonData.Describe(element)}: give an object.");
        foreach (var property in element.EnumerateObject())
            if (Array.IndexOf(known, property.Name) < 0)
                throw new JsonDataException($"{op} has no parameter \"{JsonData.Shorten(property.Name)}\" (its parameters: {string.Join(", ", known)}).");
    }

    private JsonElement? Find(string name) => element.TryGetProperty(name, out var e) ? e : null;

    private JsonElement Get(string name) =>
        Find(name) ?? throw new JsonDataException($"the params of {op} have no \"{name}\".");

    public int Int(string name, int min)
    {
        var e = Get(name);
        if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var k) && k >= min) return k;
        throw new JsonDataException($"parameter \"{name}\" of {op} is {JsonData.Describe(e)}: expected a whole number of at least {min}.");
    }

    public int[] IntArray(string name, int min)
    {
        var e = Get(name);
        if (e.ValueKind == JsonValueKind.Array)
        {
            var result = new int[e.GetArrayLength()];
            var k = 0;
            foreach (var item in e.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt32(out var value) || value < min)
                    throw new JsonDataException($"element {k} of parameter \"{name}\" of {op} is {JsonData.Describe(item)}: expected a whole number of at least {min}.");
                result[k++] = value;
            }
            if (result.Length > 0) return result;
        }
        throw new JsonDataException($"parameter \"{name}\" of {op} is {JsonData.Describe(e)}: expected a non-empty array of whole numbers of at least {min}.");
    }

    public int? OptionalInt(string name, int min) => Find(name) is null ? null : Int(name, min);

    public bool OptionalBool(string name) => Find(name) is not { } e ? false
        : e.ValueKind is JsonValueKind.True or JsonValueKind.False ? e.GetBoolean()
        : throw new JsonDataException($"parameter \"{name}\" of {op} is {JsonData.Describe(e)}: expected true or false.");

    public double Double(string name) => JsonData.ReadDouble(Get(name), $"parameter \"{name}\" of {op}");

    public Shape Shape(string name) => JsonData.ReadShape(Get(name), $"parameter \"{name}\" of {op}");
}
