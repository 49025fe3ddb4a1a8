using System;
using System.Collections.Generic;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Functional.Autodiff.Serialization;

/// <summary>
/// System.Text.Json for any structured value (see <see cref="Tree"/>): a tuple or a sequence is a JSON array, a record,
/// a dictionary or a <see cref="Params"/> an object, a leaf a value <c>{"shape": [...], "data": [...]}</c> with every
/// double exact (NaN, ±Infinity and −0 included). Reading checks the form against the type as it goes and names the
/// path of the first part that does not fit (<c>layers[1].W</c>); nothing is built from a file that does not fit.
/// <see cref="Tree.ToJson{T}"/> and <see cref="Tree.FromJson{T}"/> use it; register it in your own options for a type
/// the serializer would not otherwise handle (a value tuple, an F# list of records).
/// </summary>
/// <typeparam name="T">The structure's type, as for <see cref="Tree.Flatten{T}"/>.</typeparam>
public sealed class TreeJsonConverter<T> : JsonConverter<T>
{
    /// <inheritdoc/>
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var leaves = new List<Value>();
        var def = Tree.RuleOf<T>.Value.Read(ref reader, "", leaves);
        return Tree.Unflatten<T>(def, leaves);
    }

    /// <inheritdoc/>
    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options)
    {
        var (leaves, def) = Tree.Flatten(value);
        var next = 0;
        Write(writer, def, leaves, ref next);
    }

    private static void Write(Utf8JsonWriter writer, TreeDef def, IReadOnlyList<Value> leaves, ref int next)
    {
        if (def.IsLeaf)
        {
            JsonData.WriteValue(writer, leaves[next++]);
            return;
        }
        var named = !def.Keys.IsEmpty || def.Rule is RecordRule or ParamsRule or DictionaryRule;
        if (named) writer.WriteStartObject();
        else writer.WriteStartArray();
        for (var k = 0; k < def.Children.Length; k++)
        {
            if (named) writer.WritePropertyName(def.Keys[k]);
            Write(writer, def.Children[k], leaves, ref next);
        }
        if (named) writer.WriteEndObject();
        else writer.WriteEndArray();
    }
}
