using System;
using System.Collections.Generic;
using System.Linq;

namespace Functional.Autodiff.Tour;

/// <summary>
/// Prints the tour: a heading per seed, then one row per tutorial number with the library's value beside the
/// tutorial's, and ok or MISMATCH, by the rule of <see cref="TutorialNumbers"/>.
/// </summary>
internal sealed class Report
{
    private const int MarkerWidth = 10;
    private const int CellWidth = 10;
    private const int WhatWidth = 40;
    private const int LibraryWidth = 38;

    private int rows;
    private int mismatches;

    /// <summary>Starts a seed: its file name and what it teaches in one line.</summary>
    public void Seed(string file, string summary)
    {
        Console.WriteLine();
        Console.WriteLine($"{file}  {summary}");
        Console.WriteLine($"  {"",-MarkerWidth}{"cell",-CellWidth}{"what",-WhatWidth}{"library",-LibraryWidth}tutorial");
    }

    /// <summary>
    /// One tutorial number: <paramref name="library"/> is what the library computed, <paramref name="tutorial"/> is the
    /// tutorial's output as printed (e.g. <c>"[9., 9., 9.]"</c> or <c>"40.5000"</c>; a matrix row by row).
    /// </summary>
    public void Row(string cell, string what, Value library, string tutorial)
    {
        var actual = RowMajor(library);
        var printed = TutorialNumbers.Parse(tutorial);
        var ok = printed.Length == actual.Length && actual.Zip(printed, TutorialNumbers.Agrees).All(a => a);
        rows++;
        if (!ok) mismatches++;

        // One line per matrix row (one line for a scalar or a vector), the marker on the first.
        var cols = library.Shape.IsMatrix ? library.Shape.Cols : actual.Length;
        var lines = Math.Max(1, actual.Length / Math.Max(1, cols));
        for (var i = 0; i < lines; i++)
        {
            var lib = Render(library, actual, printed, i * cols, cols);
            var tut = printed.Length == actual.Length ? Bracket(printed.Skip(i * cols).Take(cols), library.Shape.IsScalar)
                    : i == 0 ? tutorial : "";
            var (marker, c, w) = i == 0 ? (ok ? "ok" : "MISMATCH", cell, what) : ("", "", "");
            Console.WriteLine($"  {marker,-MarkerWidth}{c,-CellWidth}{w,-WhatWidth}{lib,-LibraryWidth}{tut}");
        }
    }

    /// <summary>Prints the count of reproduced numbers and returns the exit code: 0 when all match, 1 otherwise.</summary>
    public int Finish()
    {
        Console.WriteLine();
        Console.WriteLine($"{rows - mismatches} of {rows} tutorial numbers reproduced");
        return mismatches == 0 ? 0 : 1;
    }

    /// <summary>The library's numbers, shown with as many decimals as the tutorial shows for each.</summary>
    private static string Render(Value library, double[] actual, string[] printed, int start, int count)
    {
        var cells = Enumerable.Range(start, Math.Min(count, actual.Length - start)).Select(k =>
            TutorialNumbers.Format(actual[k], printed.Length == actual.Length ? TutorialNumbers.Decimals(printed[k]) : 4));
        return Bracket(cells, library.Shape.IsScalar);
    }

    private static string Bracket(IEnumerable<string> cells, bool scalar) =>
        scalar ? string.Concat(cells) : "[" + string.Join(", ", cells) + "]";

    /// <summary>The elements of a value in reading order (row by row for a matrix).</summary>
    private static double[] RowMajor(Value v) =>
        v.Shape.IsMatrix
            ? Enumerable.Range(0, v.Shape.Rows).SelectMany(i => Enumerable.Range(0, v.Shape.Cols).Select(j => v[i, j])).ToArray()
            : v.ToArray();
}
