using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// `--loop NAME SECONDS`: calls one benchmark method in a loop, for a profiler to attach to
/// (e.g. dotnet-trace collect -- dotnet Benchmarks.dll --loop W1.LibraryGrad 10). Prints the mean time per call.
/// </summary>
public static class Loop
{
    public static int Run(string name, double seconds)
    {
        var w1 = new W1_ScalarChain(); var w2 = new W2_Seed000(); var w3 = new W3_Mlp(); var w4 = new W4_Elementwise();
        var calls = new Dictionary<string, (Action Setup, Func<object> Call)>(StringComparer.OrdinalIgnoreCase)
        {
            ["W1.LibraryGrad"] = (w1.Setup, () => w1.LibraryGrad()),
            ["W1.LibraryForward"] = (w1.Setup, () => w1.LibraryForward()),
            ["W1.HandWrittenGrad"] = (w1.Setup, () => w1.HandWrittenGrad()),
            ["W1.HandWrittenLibraryKernelsGrad"] = (w1.Setup, () => w1.HandWrittenLibraryKernelsGrad()),
            ["W1.ExpressionTreeGrad"] = (w1.Setup, () => w1.ExpressionTreeGrad()),
            ["W1.ScalarGraphGrad"] = (w1.Setup, () => w1.ScalarGraphGrad()),
            ["W2.LibraryGrad"] = (w2.Setup, () => w2.LibraryGrad()),
            ["W2.LibraryForward"] = (w2.Setup, () => w2.LibraryForward()),
            ["W2.HandWrittenGrad"] = (w2.Setup, () => w2.HandWrittenGrad()),
            ["W3.LibraryGrad"] = (w3.Setup, () => w3.LibraryGrad()),
            ["W3.LibraryForward"] = (w3.Setup, () => w3.LibraryForward()),
            ["W3.HandWrittenGrad"] = (w3.Setup, () => w3.HandWrittenGrad()),
            ["W4.LibraryGrad"] = (w4.Setup, () => w4.LibraryGrad()),
            ["W4.LibraryForward"] = (w4.Setup, () => w4.LibraryForward()),
            ["W4.HandWrittenGrad"] = (w4.Setup, () => w4.HandWrittenGrad()),
        };
        if (!calls.TryGetValue(name, out var c))
        {
            Console.Error.WriteLine($"--loop: unknown '{name}'; one of: {string.Join(", ", calls.Keys)}");
            return 2;
        }
        c.Setup();
        object? sink = null;
        for (var k = 0; k < 3; k++) sink = c.Call();
        var sw = Stopwatch.StartNew();
        long n = 0;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            sink = c.Call();
            n++;
        }
        Console.WriteLine($"{name}: {n} calls, {sw.Elapsed.TotalMilliseconds * 1e6 / n:F0} ns per call ({sink?.GetType().Name})");
        return 0;
    }
}
