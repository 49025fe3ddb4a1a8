using System;
using System.Buffers;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Text;
using System.Text.Json;

namespace Functional.Autodiff.Serialization;

/// <summary>How <see cref="GraphJson"/> saves and loads: the ops it knows, the variables to load onto, indentation.</summary>
public sealed class GraphJsonOptions
{
    /// <summary>The library's ops, new variables, no indentation.</summary>
    public static GraphJsonOptions Default { get; } = new();

    /// <summary>The ops a file may name (<see cref="OpRegistry.BuiltIn"/> unless you register ops of your own).</summary>
    public OpRegistry Ops { get; init; } = OpRegistry.BuiltIn;

    /// <summary>Saving: indent the JSON (one number per line in long data).</summary>
    public bool Indented { get; init; }

    /// <summary>
    /// Loading: variables to use for the file's variables of the same names, instead of new ones, so the loaded graph
    /// reads the very variables you have (and is then <see cref="Graph.StructurallyEqual"/> to the graph that was
    /// saved from them). Each must have the shape the file gives; a file's value for a bound variable is not used
    /// (a variable's value is part of the variable). Names not in the file are ignored.
    /// </summary>
    public IEnumerable<Var>? Variables { get; init; }
}

/// <summary>A graph loaded by <see cref="GraphJson"/>: its root and its variables.</summary>
public sealed class LoadedGraph
{
    internal LoadedGraph(Expr root, ImmutableArray<Var> variables)
    {
        Root = root;
        Variables = variables;
    }

    /// <summary>The root node: the output of the graph that was saved.</summary>
    public Expr Root { get; }

    /// <summary>
    /// Every variable node of the file, once each, in the file's order (inputs first). They are new variables, with
    /// the names, shapes and values the file gives, except those bound by <see cref="GraphJsonOptions.Variables"/>.
    /// </summary>
    public ImmutableArray<Var> Variables { get; }

    /// <summary>The variable named <paramref name="name"/>.</summary>
    /// <exception cref="KeyNotFoundException">No variable has that name; the message lists the names there are.</exception>
    /// <exception cref="InvalidOperationException">Several variables have that name (distinct variables may share one): use <see cref="Variables"/>.</exception>
    public Var Variable(string name)
    {
        Guard.NotNull(name);
        var found = Variables.Where(v => v.Name == name).Take(2).ToArray();
        return found.Length switch
        {
            1 => found[0],
            0 => throw new KeyNotFoundException(UserCode.Mark($"The loaded graph has no variable named '{name}'; its variables are: {string.Join(", ", Variables.Select(v => v.Name))}.")),
            _ => throw new InvalidOperationException(UserCode.Mark($"The loaded graph has several variables named '{name}' (variables are told apart by identity, not by name): pick one from Variables, which lists them in the file's order.")),
        };
    }

    /// <summary>Deconstructs into the root and the variables.</summary>
    public void Deconstruct(out Expr root, out ImmutableArray<Var> variables)
    {
        root = Root;
        variables = Variables;
    }
}

/// <summary>
/// The graph format: a graph of any of the library's ops (and of your registered ones) as JSON, saved and loaded
/// without recursion, so a chain of a million nodes is fine.
/// </summary>
/// <remarks>
/// <para>The file is one object. <c>"nodes"</c> lists every node once, inputs before the nodes that read them
/// (post-order), so a node read by several others is listed once and stays shared, and the same variable object is
/// one node. Each node is one of</para>
/// <code>
/// {"var": "x", "shape": [3]}                                   a variable; with "value": {...} when it carries one
/// {"const": {"shape": [2, 2], "data": [1, 2, 3, 4]}}           a constant (values as ValueJsonConverter writes them: row-major, exact)
/// {"op": "add", "inputs": [0, 1]}                              an op, its inputs by index in "nodes"
/// {"op": "pow", "params": {"exponent": 3}, "inputs": [2]}      an op with parameters
/// </code>
/// <para>and <c>"root"</c> is the index of the output (the last node when the library writes the file). Beside them
/// are <c>"format": "functional-autodiff-graph"</c> and <c>"version": 1</c>.</para>
/// <para>Loading rebuilds every node through the validating factories, so shapes and parameters are checked again; a
/// file that is malformed, truncated or inconsistent gives a <see cref="GraphFormatException"/> naming the node and
/// the position, and never part of a graph. Variables are new objects unless <see cref="GraphJsonOptions.Variables"/>
/// binds them, so compare a loaded graph with <see cref="Graph.StructurallyEqual"/> after loading it onto the same
/// variables, or through <see cref="LoadedGraph.Variables"/>.</para>
/// </remarks>
/// <example>
/// <code>
/// var x = Expr.Var("x", Shape.Vector(3));
/// var y = Expr.Sum(Expr.Sin(x) * 2);
/// string json = GraphJson.Serialize(y);
/// var loaded = GraphJson.Deserialize(json);                                     // new variables: loaded.Variable("x")
/// var same = GraphJson.Deserialize(json, new GraphJsonOptions { Variables = [x] });
/// Graph.StructurallyEqual(same.Root, y);                                        // true
/// </code>
/// </example>
public static class GraphJson
{
    /// <summary>The value of the file's <c>"format"</c>.</summary>
    public const string Format = "functional-autodiff-graph";

    /// <summary>The version of the format this library writes and reads.</summary>
    public const int Version = 1;

    private static ReadOnlySpan<byte> Bom => [0xEF, 0xBB, 0xBF];

    // ------------------------------------------------------------------ saving

    /// <summary>The graph under <paramref name="root"/> as JSON.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="root"/> is null.</exception>
    /// <exception cref="ArgumentException">The graph holds an op the registry cannot name (a <see cref="CustomOp"/> with no
    /// registered name, say); the message names the op and how to register it. Nothing is written then.</exception>
    public static string Serialize(Expr root, GraphJsonOptions? options = null)
    {
        Guard.NotNull(root);
        options ??= GraphJsonOptions.Default;
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = options.Indented }))
            Write(writer, root, options, flushAsItGoes: false);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>Writes the graph under <paramref name="root"/> to <paramref name="utf8Json"/> as UTF-8 JSON (the stream is left open).</summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The graph holds an op the registry cannot name; nothing is written then.</exception>
    public static void Serialize(Stream utf8Json, Expr root, GraphJsonOptions? options = null)
    {
        Guard.NotNull(utf8Json);
        Guard.NotNull(root);
        options ??= GraphJsonOptions.Default;
        using var writer = new Utf8JsonWriter(utf8Json, new JsonWriterOptions { Indented = options.Indented });
        Write(writer, root, options, flushAsItGoes: true);
    }

    /// <summary>
    /// Writes the graph under <paramref name="root"/> as one JSON value at the writer's position (inside a larger
    /// document, say, beside the parameters); the writer's own options decide indentation.
    /// </summary>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">The graph holds an op the registry cannot name; nothing is written then.</exception>
    public static void Serialize(Utf8JsonWriter writer, Expr root, GraphJsonOptions? options = null)
    {
        Guard.NotNull(writer);
        Guard.NotNull(root);
        Write(writer, root, options ?? GraphJsonOptions.Default, flushAsItGoes: false);
    }

    private static void Write(Utf8JsonWriter w, Expr root, GraphJsonOptions options, bool flushAsItGoes)
    {
        var ops = options.Ops ?? throw new ArgumentNullException(nameof(options), UserCode.Mark("GraphJsonOptions.Ops is null: use OpRegistry.BuiltIn or a registry made from it."));
        using var sorted = new SortedGraph(root);
        var order = sorted.Order;

        // Every op is named before anything is written, so a graph that cannot be saved leaves no partial file.
        for (var k = 0; k < order.Length; k++)
            if (order[k] is Apply apply) EntryOf(ops, apply, k);

        w.WriteStartObject();
        w.WriteString("format"u8, Format);
        w.WriteNumber("version"u8, Version);
        w.WriteStartArray("nodes"u8);
        for (var k = 0; k < order.Length; k++)
        {
            w.WriteStartObject();
            switch (order[k])
            {
                case Var v:
                    w.WriteString("var"u8, v.Name);
                    w.WritePropertyName("shape"u8);
                    JsonData.WriteShape(w, v.Shape);
                    if (v.HasValue)
                    {
                        w.WritePropertyName("value"u8);
                        JsonData.WriteValue(w, v.Value);
                    }
                    break;
                case Const c:
                    w.WritePropertyName("const"u8);
                    JsonData.WriteValue(w, c.Value);
                    break;
                case Apply a:
                    var entry = EntryOf(ops, a, k);
                    w.WriteString("op"u8, entry.Name);
                    if (entry.WritesParameters(a.Op))
                    {
                        w.WriteStartObject("params"u8);
                        entry.WriteParameters(w, a.Op);
                        w.WriteEndObject();
                    }
                    w.WriteStartArray("inputs"u8);
                    for (var i = 0; i < a.Inputs.Length; i++) w.WriteNumberValue(sorted.InputPosition(k, i));
                    w.WriteEndArray();
                    break;
            }
            w.WriteEndObject();
            if (flushAsItGoes && w.BytesPending > 1 << 16) w.Flush();
        }
        w.WriteEndArray();
        w.WriteNumber("root"u8, order.Length - 1);
        w.WriteEndObject();
        w.Flush();
    }

    private static OpEntry EntryOf(OpRegistry ops, Apply apply, int k) =>
        ops.ForSaving(apply.Op, out var problem)
        ?? throw new ArgumentException(UserCode.Mark($"GraphJson.Serialize: node {k} cannot be saved: {problem}"), "root");

    // ------------------------------------------------------------------ loading

    /// <summary>The graph in <paramref name="json"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="json"/> is null.</exception>
    /// <exception cref="ArgumentException">Two of <see cref="GraphJsonOptions.Variables"/> have one name.</exception>
    /// <exception cref="GraphFormatException">The file cannot be loaded; the message says why, with the node and the position.</exception>
    public static LoadedGraph Deserialize(string json, GraphJsonOptions? options = null)
    {
        Guard.NotNull(json);
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetByteCount(json));
        try
        {
            var n = Encoding.UTF8.GetBytes(json, bytes);
            return Deserialize(bytes.AsSpan(0, n), options);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    /// <summary>The graph in the UTF-8 JSON <paramref name="utf8Json"/> (a leading byte-order mark is skipped).</summary>
    /// <exception cref="ArgumentException">Two of <see cref="GraphJsonOptions.Variables"/> have one name.</exception>
    /// <exception cref="GraphFormatException">The file cannot be loaded; the message says why, with the node and the position.</exception>
    public static LoadedGraph Deserialize(ReadOnlySpan<byte> utf8Json, GraphJsonOptions? options = null)
    {
        options ??= GraphJsonOptions.Default;
        var ops = options.Ops ?? throw new ArgumentNullException(nameof(options), UserCode.Mark("GraphJsonOptions.Ops is null: use OpRegistry.BuiltIn or a registry made from it."));
        var state = new LoadState(ops, Bindings(options.Variables));
        var start = utf8Json.StartsWith(Bom) ? Bom.Length : 0;
        var reader = new Utf8JsonReader(utf8Json[start..]);
        try
        {
            ReadDocument(ref reader, state);
            if (reader.Read()) throw new JsonDataException("there is more after the graph's object: a file holds one graph.");
            return state.Result();
        }
        catch (JsonDataException e)
        {
            throw Fail(utf8Json, e.Detail, state.Node, start + reader.TokenStartIndex, null);
        }
        catch (NodeError e)
        {
            throw Fail(utf8Json, e.Message, state.Node, start + e.Position, e.InnerException);
        }
        catch (JsonException e)
        {
            // The reader's own syntax errors: malformed or truncated JSON. It gives the line and the byte in the line.
            var line = e.LineNumber ?? 0;
            var inLine = e.BytePositionInLine ?? 0;
            var text = e.Message;
            var cut = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) text = text[..cut];
            throw Fail(utf8Json, $"the file is not valid JSON, malformed or truncated: {text}", state.Node, start + OffsetOf(utf8Json[start..], line, inLine), e);
        }
    }

    /// <summary>The graph in the UTF-8 JSON of <paramref name="utf8Json"/>, read to its end (the stream is left open).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="utf8Json"/> is null.</exception>
    /// <exception cref="ArgumentException">Two of <see cref="GraphJsonOptions.Variables"/> have one name.</exception>
    /// <exception cref="GraphFormatException">The file cannot be loaded; the message says why, with the node and the position.</exception>
    public static LoadedGraph Deserialize(Stream utf8Json, GraphJsonOptions? options = null)
    {
        Guard.NotNull(utf8Json);
        using var copy = new MemoryStream();
        utf8Json.CopyTo(copy);
        return Deserialize(copy.GetBuffer().AsSpan(0, (int)copy.Length), options);
    }

    private static Dictionary<string, Var>? Bindings(IEnumerable<Var>? variables)
    {
        if (variables is null) return null;
        var byName = new Dictionary<string, Var>(StringComparer.Ordinal);
        foreach (var v in variables)
        {
            if (v is null) throw new ArgumentNullException(nameof(GraphJsonOptions.Variables), UserCode.Mark("GraphJsonOptions.Variables holds null."));
            if (!byName.TryAdd(v.Name, v))
                throw new ArgumentException(UserCode.Mark($"GraphJsonOptions.Variables holds two variables named '{v.Name}': a file's variables are bound by name, so give each name once."), nameof(GraphJsonOptions.Variables));
        }
        return byName;
    }

    private const string DocumentForm = "a graph file is an object {\"format\": \"" + Format + "\", \"version\": 1, \"nodes\": [...], \"root\": k}";

    private static void ReadDocument(ref Utf8JsonReader reader, LoadState state)
    {
        JsonData.Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonDataException($"the file is {JsonData.Describe(ref reader)}: {DocumentForm}.");
        bool format = false, version = false, nodes = false;
        int? root = null;
        long rootAt = 0;
        while (JsonData.Next(ref reader) != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("format"u8))
            {
                Once(ref format, "format");
                JsonData.Next(ref reader);
                if (reader.TokenType != JsonTokenType.String || !reader.ValueTextEquals(Format))
                    throw new JsonDataException($"\"format\" is {JsonData.Describe(ref reader)}, not \"{Format}\": this is not a graph file of Functional.Autodiff.");
            }
            else if (reader.ValueTextEquals("version"u8))
            {
                Once(ref version, "version");
                JsonData.Next(ref reader);
                if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var v) || v != Version)
                    throw new JsonDataException($"\"version\" is {JsonData.Describe(ref reader)}: this library reads version {Version} of the graph format.");
            }
            else if (reader.ValueTextEquals("nodes"u8))
            {
                Once(ref nodes, "nodes");
                JsonData.Next(ref reader);
                ReadNodes(ref reader, state);
            }
            else if (reader.ValueTextEquals("root"u8))
            {
                if (root is not null) throw new JsonDataException("the file has \"root\" twice.");
                JsonData.Next(ref reader);
                rootAt = reader.TokenStartIndex;
                root = JsonData.ReadInt(ref reader, "\"root\"", 0);
            }
            else
            {
                throw new JsonDataException($"the file has an unknown property \"{JsonData.Shorten(reader.GetString()!)}\": {DocumentForm}.");
            }
        }
        var missing = new[] { (format, "format"), (version, "version"), (nodes, "nodes"), (root is not null, "root") }.Where(p => !p.Item1).Select(p => $"\"{p.Item2}\"").ToArray();
        if (missing.Length > 0) throw new JsonDataException($"the file has no {string.Join(", ", missing)}: {DocumentForm}.");
        if (root >= state.Count)
            throw new NodeError($"\"root\" is node {root}, but the file has {state.Count} node(s), 0 to {state.Count - 1}.", rootAt);
        state.Root = root!.Value;
    }

    private static void Once(ref bool seen, string name)
    {
        if (seen) throw new JsonDataException($"the file has \"{name}\" twice.");
        seen = true;
    }

    private static void ReadNodes(ref Utf8JsonReader reader, LoadState state)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonDataException($"\"nodes\" is {JsonData.Describe(ref reader)}: give an array of nodes, inputs before the nodes that read them.");
        while (JsonData.Next(ref reader) != JsonTokenType.EndArray)
        {
            state.Node = state.Count;
            ReadNode(ref reader, state);
        }
        state.Node = null;
        if (state.Count == 0) throw new JsonDataException("\"nodes\" is empty: a graph has at least one node.");
    }

    private const string NodeForm = "a node is {\"var\": name, \"shape\": [...]} (with an optional \"value\"), {\"const\": value}, or {\"op\": name, \"inputs\": [...]} (with \"params\" for an op that has them)";

    private static void ReadNode(ref Utf8JsonReader reader, LoadState state)
    {
        var k = state.Count;
        var nodeAt = reader.TokenStartIndex;
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonDataException($"node {k} is {JsonData.Describe(ref reader)}: {NodeForm}.");
        string? op = null, var = null;
        JsonElement? parameters = null;
        long parametersAt = nodeAt;
        var inputs = state.Inputs;
        var inputCount = -1;
        Shape? shape = null;
        Value? value = null, constant = null;
        while (JsonData.Next(ref reader) != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("op"u8))
            {
                if (op is not null) throw Twice(k, "op");
                JsonData.Next(ref reader);
                op = Name(ref reader, $"the op of node {k}");
            }
            else if (reader.ValueTextEquals("params"u8))
            {
                if (parameters is not null) throw Twice(k, "params");
                JsonData.Next(ref reader);
                parametersAt = reader.TokenStartIndex;
                parameters = JsonElement.ParseValue(ref reader);
            }
            else if (reader.ValueTextEquals("inputs"u8))
            {
                if (inputCount >= 0) throw Twice(k, "inputs");
                JsonData.Next(ref reader);
                if (reader.TokenType != JsonTokenType.StartArray)
                    throw new JsonDataException($"the inputs of node {k} are {JsonData.Describe(ref reader)}: give an array of the indices of earlier nodes.");
                inputCount = 0;
                while (JsonData.Next(ref reader) != JsonTokenType.EndArray)
                {
                    if (inputCount == Expr.MaxArity) throw new JsonDataException($"node {k} has more than {Expr.MaxArity} inputs: no op takes more.");
                    if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt32(out var i) || i < 0)
                        throw new JsonDataException($"input {inputCount} of node {k} is {JsonData.Describe(ref reader)}: expected the index of an earlier node (0 to {k - 1}).");
                    if (i >= k)
                        throw new JsonDataException(k == 0
                            ? $"input {inputCount} of node 0 is node {i}, but node 0 has no earlier nodes: list every node after its inputs (post-order)."
                            : $"input {inputCount} of node {k} is node {i}, which does not come before node {k}: list every node after its inputs (post-order), so an input is one of nodes 0 to {k - 1}.");
                    inputs[inputCount++] = state.Nodes[i];
                }
            }
            else if (reader.ValueTextEquals("var"u8))
            {
                if (var is not null) throw Twice(k, "var");
                JsonData.Next(ref reader);
                var = Name(ref reader, $"the name of variable node {k}");
            }
            else if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null) throw Twice(k, "shape");
                JsonData.Next(ref reader);
                shape = JsonData.ReadShape(ref reader, $"the shape of node {k}");
            }
            else if (reader.ValueTextEquals("value"u8))
            {
                if (value is not null) throw Twice(k, "value");
                JsonData.Next(ref reader);
                value = JsonData.ReadValue(ref reader, $"the value of node {k}");
            }
            else if (reader.ValueTextEquals("const"u8))
            {
                if (constant is not null) throw Twice(k, "const");
                JsonData.Next(ref reader);
                constant = JsonData.ReadValue(ref reader, $"the constant of node {k}");
            }
            else
            {
                throw new JsonDataException($"node {k} has an unknown property \"{JsonData.Shorten(reader.GetString()!)}\": {NodeForm}.");
            }
        }

        var kinds = (op is not null ? 1 : 0) + (var is not null ? 1 : 0) + (constant is not null ? 1 : 0);
        if (kinds != 1)
            throw new NodeError(kinds == 0
                ? $"node {k} has none of \"op\", \"var\" and \"const\": {NodeForm}."
                : $"node {k} has more than one of \"op\", \"var\" and \"const\": {NodeForm}.", nodeAt);

        if (constant is { } c)
        {
            if (parameters is not null || inputCount >= 0 || shape is not null || value is not null)
                throw new NodeError($"constant node {k} has properties other than \"const\": a constant is {{\"const\": value}}.", nodeAt);
            state.Add(Expr.Const(c));
        }
        else if (var is not null)
        {
            if (parameters is not null || inputCount >= 0) throw new NodeError($"variable node {k} has \"params\" or \"inputs\": a variable has \"var\", \"shape\" and an optional \"value\".", nodeAt);
            if (shape is not { } s) throw new NodeError($"variable node {k} ('{var}') has no \"shape\".", nodeAt);
            if (value is { } v0 && v0.Shape != s)
                throw new NodeError($"variable node {k} ('{var}') has shape {JsonData.Describe(s)} but a value of shape {JsonData.Describe(v0.Shape)}: give them one shape.", nodeAt);
            state.AddVariable(var, s, value, nodeAt);
        }
        else
        {
            if (shape is not null || value is not null) throw new NodeError($"op node {k} has \"shape\" or \"value\": an op's shape and value come from its inputs.", nodeAt);
            if (inputCount < 0) throw new NodeError($"op node {k} ({op}) has no \"inputs\".", nodeAt);
            var entry = state.Ops.ForLoading(op!)
                ?? throw new NodeError($"node {k} applies op '{JsonData.Shorten(op!)}', which is neither a library op nor registered: if it is an op of your own " +
                    $"(a CustomOp or a class derived from Op), register it with OpRegistry.BuiltIn.With(\"{JsonData.Shorten(op!)}\", () => yourOp) and pass the registry " +
                    "as GraphJsonOptions.Ops.", nodeAt);
            Op made;
            try
            {
                made = entry.Load(parameters);
            }
            catch (JsonDataException e)
            {
                throw new NodeError($"node {k}: {e.Detail}", parametersAt);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException or KeyNotFoundException or JsonException)
            {
                throw new NodeError($"node {k}: the parameters of op '{op}' do not make an op: {Unmarked(e.Message)}", parametersAt, e);
            }
            if (inputCount != made.Arity)
                throw new NodeError($"node {k} gives op '{op}' {inputCount} input(s), but {op} takes {made.Arity}.", nodeAt);
            Expr node;
            try
            {
                node = Expr.Build(made, ImmutableArray.Create<Expr>(inputs.AsSpan(0, inputCount)));
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException)
            {
                throw new NodeError($"node {k} ({op}) does not fit its inputs when the graph is rebuilt: {Unmarked(e.Message)}", nodeAt, e);
            }
            state.Add(node);
        }
        Array.Clear(inputs);
    }

    private static JsonDataException Twice(int k, string property) => new($"node {k} has \"{property}\" twice.");

    private static string Name(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.String) throw new JsonDataException($"{what} is {JsonData.Describe(ref reader)}: expected a string.");
        var s = reader.GetString()!;
        if (s.Length == 0) throw new JsonDataException($"{what} is the empty string: give a name.");
        return s;
    }

    /// <summary>An inner exception's message without its " (at File.cs:12)", which the outer message ends with already.</summary>
    private static string Unmarked(string message)
    {
        var site = UserCode.Site();
        var suffix = site is null ? null : $" (at {site})";
        return suffix is not null && message.EndsWith(suffix, StringComparison.Ordinal) ? message[..^suffix.Length] : message;
    }

    private static GraphFormatException Fail(ReadOnlySpan<byte> json, string detail, int? node, long position, Exception? inner)
    {
        position = Math.Clamp(position, 0, json.Length);
        var before = json[..(int)position];
        var line = before.Count((byte)'\n') + 1L;
        var column = position - (before.LastIndexOf((byte)'\n') + 1) + 1;
        return new GraphFormatException(char.ToUpperInvariant(detail[0]) + detail[1..], node, position, line, column, inner);
    }

    /// <summary>The byte offset of a 0-based line and byte in that line.</summary>
    private static long OffsetOf(ReadOnlySpan<byte> json, long line, long inLine)
    {
        var offset = 0;
        for (var l = 0L; l < line; l++)
        {
            var next = json[offset..].IndexOf((byte)'\n');
            if (next < 0) break;
            offset += next + 1;
        }
        return Math.Min(offset + inLine, json.Length);
    }

    /// <summary>An error found after a node or a property was read, reported at where it starts.</summary>
    private sealed class NodeError(string message, long position, Exception? inner = null) : Exception(message, inner)
    {
        public long Position { get; } = position;
    }

    /// <summary>What one load has built so far; dropped with the exception when the file is bad.</summary>
    private sealed class LoadState(OpRegistry ops, Dictionary<string, Var>? bindings)
    {
        public OpRegistry Ops { get; } = ops;
        public List<Expr> Nodes { get; } = [];
        public Expr[] Inputs { get; } = new Expr[Expr.MaxArity];
        public int? Node { get; set; }
        public int Root { get; set; }
        public int Count => Nodes.Count;
        private readonly List<Var> variables = [];
        private HashSet<string>? boundUsed;

        public void Add(Expr node) => Nodes.Add(node);

        public void AddVariable(string name, Shape shape, Value? value, long at)
        {
            Var v;
            if (bindings is not null && bindings.TryGetValue(name, out var bound))
            {
                boundUsed ??= new HashSet<string>(StringComparer.Ordinal);
                if (!boundUsed.Add(name))
                    throw new NodeError($"the file has more than one variable named '{name}', so binding '{name}' by name is ambiguous: load without binding it and use LoadedGraph.Variables.", at);
                if (bound.Shape != shape)
                    throw new NodeError($"variable '{name}' has shape {JsonData.Describe(shape)} in the file, but the variable bound to it has {JsonData.Describe(bound.Shape)}.", at);
                v = bound;
            }
            else
            {
                v = value is { } x ? Expr.Var(name, x) : Expr.Var(name, shape);
            }
            variables.Add(v);
            Nodes.Add(v);
        }

        public LoadedGraph Result() => new(Nodes[Root], [.. variables]);
    }
}
