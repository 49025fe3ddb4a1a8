using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.IO;
using System.IO.Compression;
using System.Linq;

namespace Functional.Autodiff.Datasets;

/// <summary>One image of the digits data set: 64 pixels (8×8, row by row, each 0 to 16) and its digit.</summary>
/// <param name="Pixels">The 64 pixel counts, row by row.</param>
/// <param name="Label">The digit, 0 to 9.</param>
public sealed record Digit(ImmutableArray<double> Pixels, int Label);

/// <summary>
/// The UCI optical recognition of handwritten digits data set (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), in the copy
/// scikit-learn distributes as <c>digits.csv.gz</c> (<c>sklearn.datasets.load_digits</c>): 1,797 images of 8×8 pixels
/// counting 0 to 16, ten classes. The repository ships the file as <c>data/digits.csv.gz</c> (see data/README.md);
/// this reads it: gzip, then one line per image of 64 pixels and the label, comma-separated.
/// </summary>
/// <example>
/// <code>
/// var digits = Digits.Load("data/digits.csv.gz");
/// Value x = Digits.Inputs(digits);        // 1797×64, pixels / 16
/// int[] y = Digits.Labels(digits);
/// </code>
/// </example>
public static class Digits
{
    /// <summary>Pixels per image (8×8).</summary>
    public const int Features = 64;

    /// <summary>Classes (the digits 0 to 9).</summary>
    public const int Classes = 10;

    /// <summary>The images of a gzipped CSV file, in file order.</summary>
    /// <exception cref="FileNotFoundException">No file at <paramref name="path"/>.</exception>
    /// <exception cref="InvalidDataException">The file is not gzip, or a line is not 64 pixels 0–16 and a label 0–9; the message names the line.</exception>
    public static IReadOnlyList<Digit> Load(string path)
    {
        Guard.NotNullOrEmpty(path);
        if (!File.Exists(path))
            throw new FileNotFoundException(UserCode.Mark($"Digits.Load: no file '{Path.GetFullPath(path)}'. The repository ships it as data/digits.csv.gz."), path);
        using var file = File.OpenRead(path);
        return Load(file);
    }

    /// <summary>The images of a gzipped CSV stream, in order; the stream is read to its end and left open.</summary>
    /// <exception cref="InvalidDataException">The stream is not gzip, or a line is not 64 pixels 0–16 and a label 0–9; the message names the line.</exception>
    public static IReadOnlyList<Digit> Load(Stream gzipped)
    {
        Guard.NotNull(gzipped);
        using var gzip = new GZipStream(gzipped, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new StreamReader(gzip);
        var digits = new List<Digit>();
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (text.Length == 0) continue;
            digits.Add(Parse(text, line));
        }
        return digits;
    }

    private static Digit Parse(string text, int line)
    {
        var fields = text.Split(',');
        if (fields.Length != Features + 1)
            throw Bad(line, $"has {fields.Length} fields; a line is {Features} pixels and a label");
        var pixels = ImmutableArray.CreateBuilder<double>(Features);
        for (var k = 0; k < Features; k++)
        {
            if (!int.TryParse(fields[k], NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v > 16)
                throw Bad(line, $"has '{fields[k]}' for pixel {k}; pixels are whole numbers 0 to 16");
            pixels.Add(v);
        }
        if (!int.TryParse(fields[Features], NumberStyles.None, CultureInfo.InvariantCulture, out var label) || label >= Classes)
            throw Bad(line, $"has '{fields[Features]}' for the label; labels are 0 to 9");
        return new Digit(pixels.MoveToImmutable(), label);
    }

    private static InvalidDataException Bad(int line, string what) =>
        new(UserCode.Mark($"Digits.Load: line {line} {what}."));

    /// <summary>The images as one matrix, a row of 64 pixels per image scaled to [0, 1] (divided by 16).</summary>
    /// <exception cref="ArgumentException">No images.</exception>
    public static Value Inputs(IEnumerable<Digit> digits)
    {
        Guard.NotNull(digits);
        var rows = digits.Select(d => d.Pixels.Select(p => p / 16).ToArray()).ToArray();
        if (rows.Length == 0) throw new ArgumentException(UserCode.Mark("Digits.Inputs: no images; give at least one."), nameof(digits));
        return Value.FromRows(rows);
    }

    /// <summary>The images' digits, in order.</summary>
    public static int[] Labels(IEnumerable<Digit> digits)
    {
        Guard.NotNull(digits);
        return digits.Select(d => d.Label).ToArray();
    }

    /// <summary>
    /// The images' digits as a vector of whole numbers stored as doubles, in order: the classes input of
    /// <see cref="Expr.SoftmaxCrossEntropy(Expr, Expr)"/>, for a compiled loss that takes the classes as an input.
    /// </summary>
    public static Value Targets(IEnumerable<Digit> digits)
    {
        Guard.NotNull(digits);
        return Value.FromArray(digits.Select(d => (double)d.Label).ToArray());
    }
}
