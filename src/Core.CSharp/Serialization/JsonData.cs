using System;
using System.Buffers;
using System.Collections.Generic;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Functional.Autodiff.Serialization;

/// <summary>
/// The JSON forms of numbers, shapes and values, shared by the converters and the graph format. Each reader starts on
/// the first token of its JSON value and ends on its last token (the convention of <c>JsonConverter.Read</c>); each
/// refuses what is not exactly the form it reads with a <see cref="JsonDataException"/> that says what was expected.
/// </summary>
/// <remarks>
/// Numbers: a finite double is a JSON number in its shortest round-trip form (.NET's "R"; −0 is written "-0" and
/// read back as −0); +∞ and −∞ are the strings "Infinity" and "-Infinity"; .NET's NaN (<see cref="double.NaN"/>) is
/// "NaN", and any other NaN is "NaN(0x…)" with its 64 bits in hexadecimal, so every double comes back bit for bit.
/// Shapes: <c>[]</c>, <c>[n]</c>, <c>[m, n]</c>. Values: <c>{"shape": …, "data": …}</c>, the data a bare number for a
/// scalar (a one-element array is read too) and otherwise a flat array in row-major order (NumPy's).
/// </remarks>
internal static class JsonData
{
    private static readonly long DefaultNaNBits = BitConverter.DoubleToInt64Bits(double.NaN);

    // ------------------------------------------------------------------ numbers

    /// <summary>Writes <paramref name="x"/> exactly: a number, or one of the named strings.</summary>
    public static void WriteDouble(Utf8JsonWriter writer, double x)
    {
        if (double.IsFinite(x)) writer.WriteNumberValue(x); // the shortest round-trip form, −0 as "-0"
        else writer.WriteStringValue(Name(x));
    }

    /// <summary>Writes the property <paramref name="name"/> with the number <paramref name="x"/>, exactly.</summary>
    public static void WriteDouble(Utf8JsonWriter writer, string name, double x)
    {
        writer.WritePropertyName(name);
        WriteDouble(writer, x);
    }

    private static string Name(double x)
    {
        if (double.IsPositiveInfinity(x)) return "Infinity";
        if (double.IsNegativeInfinity(x)) return "-Infinity";
        var bits = BitConverter.DoubleToInt64Bits(x);
        return bits == DefaultNaNBits ? "NaN" : $"NaN(0x{bits:X16})";
    }

    /// <summary>The number at the reader: a JSON number, or "NaN", "Infinity", "-Infinity", "NaN(0x…)".</summary>
    public static double ReadDouble(ref Utf8JsonReader reader, string what)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Number:
                if (reader.TryGetDouble(out var x)) return x;
                break;
            case JsonTokenType.String:
                if (reader.ValueTextEquals("NaN"u8)) return double.NaN;
                if (reader.ValueTextEquals("Infinity"u8)) return double.PositiveInfinity;
                if (reader.ValueTextEquals("-Infinity"u8)) return double.NegativeInfinity;
                var s = reader.GetString()!;
                if (TryParseNaN(s, out var nan)) return nan;
                throw new JsonDataException($"{what} is the string \"{Shorten(s)}\": expected a number, or one of \"NaN\", \"Infinity\", \"-Infinity\".");
        }
        throw new JsonDataException($"{what} is {Describe(ref reader)}: expected a number, or one of \"NaN\", \"Infinity\", \"-Infinity\".");
    }

    /// <summary>The number in a JSON element, read as <see cref="ReadDouble(ref Utf8JsonReader, string)"/> reads it.</summary>
    public static double ReadDouble(JsonElement element, string what)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Number:
                if (element.TryGetDouble(out var x)) return x;
                break;
            case JsonValueKind.String:
                var s = element.GetString()!;
                if (s == "NaN") return double.NaN;
                if (s == "Infinity") return double.PositiveInfinity;
                if (s == "-Infinity") return double.NegativeInfinity;
                if (TryParseNaN(s, out var nan)) return nan;
                break;
        }
        throw new JsonDataException($"{what} is {Describe(element)}: expected a number, or one of \"NaN\", \"Infinity\", \"-Infinity\".");
    }

    private static bool TryParseNaN(string s, out double nan)
    {
        nan = 0;
        if (s.Length != 23 || !s.StartsWith("NaN(0x", StringComparison.Ordinal) || s[^1] != ')') return false;
        if (!long.TryParse(s.AsSpan(6, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var bits)) return false;
        nan = BitConverter.Int64BitsToDouble(bits);
        return double.IsNaN(nan);
    }

    /// <summary>A whole number at the reader, at least <paramref name="min"/>.</summary>
    public static int ReadInt(ref Utf8JsonReader reader, string what, int min)
    {
        if (reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var k) && k >= min) return k;
        throw new JsonDataException($"{what} is {Describe(ref reader)}: expected a whole number of at least {min}.");
    }

    // ------------------------------------------------------------------ shapes

    /// <summary>Writes <c>[]</c>, <c>[n]</c> or <c>[m, n]</c>.</summary>
    public static void WriteShape(Utf8JsonWriter writer, Shape shape)
    {
        writer.WriteStartArray();
        if (shape.Rank >= 1) writer.WriteNumberValue(shape.Rows);
        if (shape.Rank == 2) writer.WriteNumberValue(shape.Cols);
        writer.WriteEndArray();
    }

    private const string ShapeForms = "a shape is [] (a scalar), [n] (a vector) or [m, n] (a matrix), with whole dimensions of at least 1";

    /// <summary>A shape at the reader.</summary>
    public static Shape ReadShape(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new JsonDataException($"{what} is {Describe(ref reader)}: {ShapeForms}.");
        Span<int> dims = stackalloc int[2];
        var rank = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (rank == 2) throw new JsonDataException($"{what} has more than two dimensions: {ShapeForms}.");
            dims[rank] = ReadInt(ref reader, $"dimension {rank} of {what}", 1);
            rank++;
        }
        return MakeShape(rank, dims[0], dims[1], what);
    }

    /// <summary>A shape in a JSON element, read as <see cref="ReadShape(ref Utf8JsonReader, string)"/> reads it.</summary>
    public static Shape ReadShape(JsonElement element, string what)
    {
        if (element.ValueKind != JsonValueKind.Array) throw new JsonDataException($"{what} is {Describe(element)}: {ShapeForms}.");
        var n = element.GetArrayLength();
        if (n > 2) throw new JsonDataException($"{what} has more than two dimensions ({n}): {ShapeForms}.");
        Span<int> dims = stackalloc int[2];
        for (var k = 0; k < n; k++)
        {
            var d = element[k];
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out dims[k]) || dims[k] < 1)
                throw new JsonDataException($"dimension {k} of {what} is {Describe(d)}: expected a whole number of at least 1.");
        }
        return MakeShape(n, dims[0], dims[1], what);
    }

    private static Shape MakeShape(int rank, int rows, int cols, string what)
    {
        if (rank == 0) return Shape.Scalar;
        if (rank == 1) return Shape.Vector(rows);
        if ((long)rows * cols > Shape.MaxSize)
            throw new JsonDataException($"{what} is [{rows}, {cols}]: {(long)rows * cols:N0} elements are more than the {Shape.MaxSize:N0} one .NET array holds.");
        return Shape.Matrix(rows, cols);
    }

    // ------------------------------------------------------------------ values

    /// <summary>Writes <c>{"shape": …, "data": …}</c>, the data row-major.</summary>
    public static void WriteValue(Utf8JsonWriter writer, Value value)
    {
        var shape = value.Shape;
        writer.WriteStartObject();
        writer.WritePropertyName("shape"u8);
        WriteShape(writer, shape);
        writer.WritePropertyName("data"u8);
        if (shape.IsScalar)
        {
            WriteDouble(writer, value.ToScalar());
        }
        else
        {
            var d = value.Span;
            writer.WriteStartArray();
            if (shape.IsVector)
            {
                foreach (var x in d) WriteDouble(writer, x);
            }
            else
            {
                int m = shape.Rows, n = shape.Cols;
                for (var i = 0; i < m; i++)
                    for (var j = 0; j < n; j++)
                        WriteDouble(writer, d[j * m + i]);
            }
            writer.WriteEndArray();
        }
        writer.WriteEndObject();
    }

    private const string ValueForm = "a value is an object {\"shape\": [...], \"data\": ...}";

    /// <summary>A value at the reader. The data are collected before they are checked against the shape, so a file
    /// that claims a huge shape over little data fails on the count, never by allocating for the claim.</summary>
    public static Value ReadValue(ref Utf8JsonReader reader, string what)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonDataException($"{what} is {Describe(ref reader)}: {ValueForm}.");
        Shape? shape = null;
        double[]? data = null;
        var count = -1; // −1: no data yet; for a bare number, data holds it and count is 0
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            if (reader.ValueTextEquals("shape"u8))
            {
                if (shape is not null) throw new JsonDataException($"{what} has \"shape\" twice.");
                Next(ref reader);
                shape = ReadShape(ref reader, $"the shape of {what}");
            }
            else if (reader.ValueTextEquals("data"u8))
            {
                if (count != -1) throw new JsonDataException($"{what} has \"data\" twice.");
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.StartArray)
                {
                    data = new double[16];
                    count = 0;
                    while (Next(ref reader) != JsonTokenType.EndArray)
                    {
                        if (count == data.Length)
                        {
                            if (count == Shape.MaxSize) throw new JsonDataException($"the data of {what} have more than {Shape.MaxSize:N0} numbers.");
                            Array.Resize(ref data, (int)Math.Min(2L * count, Shape.MaxSize));
                        }
                        data[count] = ReadDouble(ref reader, $"element {count} of the data of {what}");
                        count++;
                    }
                    if (count == 0) throw new JsonDataException($"the data of {what} are an empty array: give the numbers of the value (a vector or a matrix has at least one).");
                }
                else
                {
                    data = [ReadDouble(ref reader, $"the data of {what}")];
                    count = 0;
                }
            }
            else
            {
                throw new JsonDataException($"{what} has an unknown property \"{Shorten(reader.GetString()!)}\": {ValueForm}.");
            }
        }
        if (shape is not { } s) throw new JsonDataException($"{what} has no \"shape\": {ValueForm}.");
        if (count == -1) throw new JsonDataException($"{what} has no \"data\": {ValueForm}.");
        if (s.IsScalar)
        {
            if (count > 1) throw new JsonDataException($"the data of {what} are {Numbers(count)}, but its shape [] is a scalar: give one number.");
            return Value.Scalar(data![0]);
        }
        if (count == 0) throw new JsonDataException($"the data of {what} are one number, but its shape is {Describe(s)}: give an array of {s.Size} numbers, row-major.");
        if (count != s.Size)
            throw new JsonDataException($"the data of {what} are {Numbers(count)}, but its shape {Describe(s)} needs {s.Size:N0}: give the numbers row-major (row 0 first).");
        if (s.IsVector)
        {
            if (data!.Length != count) Array.Resize(ref data, count);
            return Value.Own(s, data);
        }
        int m = s.Rows, n = s.Cols;
        var columnMajor = new double[count];
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
                columnMajor[j * m + i] = data![i * n + j];
        return Value.Own(s, columnMajor);
    }

    // ------------------------------------------------------------------ parameters

    /// <summary>Writes <c>{"name": value, …}</c> in the parameters' order.</summary>
    public static void WriteParams(Utf8JsonWriter writer, Params p)
    {
        writer.WriteStartObject();
        foreach (var (name, value) in p)
        {
            writer.WritePropertyName(name);
            WriteValue(writer, value);
        }
        writer.WriteEndObject();
    }

    /// <summary>Parameters at the reader, in the file's order.</summary>
    public static Params ReadParams(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new JsonDataException($"the parameters are {Describe(ref reader)}: parameters are an object {{\"name\": value, ...}} of values {{\"shape\": [...], \"data\": ...}}.");
        var entries = new List<(string, Value)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            if (name.Length == 0) throw new JsonDataException("a parameter has the empty name \"\": give every parameter a non-empty name.");
            if (!seen.Add(name)) throw new JsonDataException($"parameter \"{Shorten(name)}\" is given twice: names must be unique.");
            Next(ref reader);
            entries.Add((name, ReadValue(ref reader, $"parameter \"{Shorten(name)}\"")));
        }
        return Params.Of(entries.ToArray());
    }

    // ------------------------------------------------------------------ helpers

    private static string Numbers(int count) => count == 1 ? "1 number" : $"{count:N0} numbers";

    /// <summary>Moves to the next token. The reader is over complete JSON here (the serializer buffers a converter's
    /// whole value, the graph reader has the whole file), so running out of tokens is the reader's own syntax error.</summary>
    public static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new JsonDataException("the JSON ends in the middle of a value.");
        return reader.TokenType;
    }

    /// <summary>"[2, 3] (matrix(2, 3))".</summary>
    public static string Describe(Shape s) => s.Rank switch
    {
        0 => "[] (scalar)",
        1 => $"[{s.Rows}] ({s})",
        _ => $"[{s.Rows}, {s.Cols}] ({s})",
    };

    /// <summary>What the token at the reader is, for messages: "the string \"x\"", "the number 1.5", "an array", ….</summary>
    public static string Describe(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.String => $"the string \"{Shorten(reader.GetString()!)}\"",
        JsonTokenType.Number => $"the number {Shorten(Encoding.UTF8.GetString(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan.ToArray()))}",
        JsonTokenType.True => "true",
        JsonTokenType.False => "false",
        JsonTokenType.Null => "null",
        JsonTokenType.EndArray => "the end of an array",
        JsonTokenType.EndObject => "the end of an object",
        _ => reader.TokenType.ToString(),
    };

    /// <summary>What a JSON element is, for messages.</summary>
    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => $"the string \"{Shorten(element.GetString()!)}\"",
        JsonValueKind.Number => $"the number {Shorten(element.GetRawText())}",
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Null => "null",
        _ => "missing",
    };

    /// <summary>At most 60 characters of <paramref name="s"/>, for messages.</summary>
    public static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}

/// <summary>
/// Bad data in one of the library's JSON forms. Thrown from a converter, it is a <see cref="JsonException"/> as the
/// serializer's callers expect; the serializer fills in <see cref="JsonException.Path"/> and the line, and the message
/// then ends with them, as the serializer's own messages do, and with the user's line.
/// </summary>
internal sealed class JsonDataException : JsonException
{
    private readonly string? site;

    public JsonDataException(string detail) : base(detail)
    {
        Detail = detail;
        site = UserCode.Site();
    }

    /// <summary>What is wrong, without the position or the user's line.</summary>
    public string Detail { get; }

    /// <inheritdoc/>
    public override string Message
    {
        get
        {
            var text = char.ToUpperInvariant(Detail[0]) + Detail[1..];
            if (Path is not null) text += $" Path: {Path} | LineNumber: {LineNumber} | BytePositionInLine: {BytePositionInLine}.";
            return site is null ? text : $"{text} (at {site})";
        }
    }
}
