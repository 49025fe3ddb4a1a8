using System;

namespace Functional.Autodiff.Serialization;

/// <summary>
/// A graph file (<see cref="GraphJson"/>) that cannot be loaded: malformed or truncated JSON, a missing or unknown
/// property, an unknown op, an input that is not an earlier node, a wrong number of inputs, shapes that do not fit
/// when the graph is rebuilt, data that do not match their shape. Loading either returns the whole graph or throws
/// this; it never returns part of one.
/// </summary>
/// <remarks>The message says what is wrong and what was expected, the node (by its index in <c>"nodes"</c>) where
/// there is one, and the position in the file: line and column (both from 1, the column in bytes of UTF-8) and the
/// byte offset (from 0).</remarks>
public sealed class GraphFormatException : FormatException
{
    internal GraphFormatException(string detail, int? node, long bytePosition, long line, long column, Exception? inner)
        : base(UserCode.Mark($"{detail} ({(node is { } k ? $"node {k}, " : "")}line {line}, column {column}, byte {bytePosition} of the file)"), inner)
    {
        Node = node;
        BytePosition = bytePosition;
        Line = line;
        Column = column;
    }

    /// <summary>The index in <c>"nodes"</c> of the node being read, or null when the error is outside the nodes.</summary>
    public int? Node { get; }

    /// <summary>Where in the file the error was found: the offset in bytes of UTF-8, from 0.</summary>
    public long BytePosition { get; }

    /// <summary>The line of <see cref="BytePosition"/>, from 1.</summary>
    public long Line { get; }

    /// <summary>The column of <see cref="BytePosition"/> in its line, in bytes, from 1.</summary>
    public long Column { get; }
}
