using System;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Functional.Autodiff.Serialization;

// The System.Text.Json converters of the value types. Value, Params and Shape carry [JsonConverter] attributes, so
// JsonSerializer uses these with default options, inside any structure (arrays, dictionaries, records, tuples). The
// format is fixed: naming policies, number handling and the other options do not change it.

/// <summary>
/// Reads and writes a <see cref="Shape"/> as the JSON array of its dimensions: <c>[]</c> for a scalar, <c>[n]</c> for
/// a vector(n), <c>[m, n]</c> for a matrix(m, n) (NumPy's <c>shape</c>).
/// </summary>
public sealed class ShapeJsonConverter : JsonConverter<Shape>
{
    /// <inheritdoc/>
    /// <exception cref="JsonException">The JSON is not an array of at most two whole dimensions of at least 1; the
    /// message says what was found and, after the serializer fills them in, the path and the line.</exception>
    public override Shape Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonData.ReadShape(ref reader, "the shape");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Shape value, JsonSerializerOptions options)
    {
        Guard.NotNull(writer);
        JsonData.WriteShape(writer, value);
    }
}

/// <summary>
/// Reads and writes a <see cref="Value"/> as <c>{"shape": [m, n], "data": [...]}</c>, every double exactly.
/// </summary>
/// <remarks>
/// <para>The data of a vector or a matrix are one flat array in <b>row-major</b> order (row 0 first), as NumPy and
/// PyTorch lay a matrix out, so <c>numpy.asarray(v["data"], dtype=float).reshape(v["shape"])</c> reads any value,
/// a scalar included; a scalar's data are a bare number, and a one-element array is read too.</para>
/// <para>A finite number is written in its shortest round-trip form ("R"), so it reads back to the same bits, −0
/// and subnormals included. JSON has no literals for the others: +∞ and −∞ are the strings <c>"Infinity"</c> and
/// <c>"-Infinity"</c>, .NET's <see cref="double.NaN"/> is <c>"NaN"</c> (what <c>float()</c> in Python and
/// <see cref="JsonNumberHandling.AllowNamedFloatingPointLiterals"/> read), and a NaN with other bits, rare, is
/// <c>"NaN(0x7FF8000000000000)"</c> with its 64 bits in hexadecimal.</para>
/// </remarks>
/// <example>
/// <code>
/// JsonSerializer.Serialize(Value.FromRows([1.5, 2], [3, double.NaN]));
/// // {"shape":[2,2],"data":[1.5,2,3,"NaN"]}
/// </code>
/// </example>
public sealed class ValueJsonConverter : JsonConverter<Value>
{
    /// <inheritdoc/>
    /// <exception cref="JsonException">The JSON is not a value of this form: a missing or unknown property, a shape
    /// that is not one, data that are not numbers or not as many as the shape needs. The message says which and,
    /// after the serializer fills them in, the path and the line.</exception>
    public override Value Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonData.ReadValue(ref reader, "the value");

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Value value, JsonSerializerOptions options)
    {
        Guard.NotNull(writer);
        JsonData.WriteValue(writer, value);
    }
}

/// <summary>
/// Reads and writes <see cref="Params"/> as one JSON object of name → value (each value as
/// <see cref="ValueJsonConverter"/> writes it), in the parameters' order, which reading keeps.
/// </summary>
/// <example>
/// <code>
/// var json = JsonSerializer.Serialize(Params.Of(("w", Value.FromArray(0.5, -0.0)), ("b", 1.0)));
/// // {"w":{"shape":[2],"data":[0.5,-0]},"b":{"shape":[],"data":1}}
/// var p = JsonSerializer.Deserialize&lt;Params&gt;(json);   // the same names, order and bits
/// </code>
/// </example>
public sealed class ParamsJsonConverter : JsonConverter<Params>
{
    /// <inheritdoc/>
    /// <exception cref="JsonException">The JSON is not an object of values, a name is empty or repeated, or a value is
    /// malformed; the message names the parameter and, after the serializer fills them in, the path and the line.</exception>
    public override Params Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        JsonData.ReadParams(ref reader);

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, Params value, JsonSerializerOptions options)
    {
        Guard.NotNull(writer);
        Guard.NotNull(value);
        JsonData.WriteParams(writer, value);
    }
}
