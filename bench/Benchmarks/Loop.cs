using System;
using System.Collections.Generic;
using System.Diagnostics;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// `--loop NAME SECONDS`: calls one benchmark method in a loop, for a profiler to attach to
/// (e.g. dotnet-trace collect -- dotnet Benchmarks.dll --loop W1.LibraryGrad 10). Prints the mean time per call, and
/// the process's CPU time per call (all its threads, the GC's included; on a busy machine it leaves out the time
/// slices other processes take, so it is the steadier figure), the fastest single call, and the collections and the
/// time the GC paused the program, per call.
/// </summary>
public static class Loop
{
    public static int Run(string name, double seconds)
    {
        var w1 = new W1_ScalarChain(); var w2 = new W2_Seed000(); var w3 = new W3_Mlp(); var w4 = new W4_Elementwise();
        var p1 = new P_DataParallel { Chunks = 1 }; var p2 = new P_DataParallel { Chunks = 2 };
        var calls = new Dictionary<string, (Action Setup, Func<object> Call)>(StringComparer.OrdinalIgnoreCase)
        {
            ["P1.Gradient"] = (p1.Setup, () => p1.Gradient()),
            ["P1.CompiledGradient"] = (p1.Setup, () => p1.CompiledGradient()),
            ["P2.Gradient"] = (p2.Setup, () => p2.Gradient()),
            ["P2.CompiledGradient"] = (p2.Setup, () => p2.CompiledGradient()),
            ["W1.LibraryGrad"] = (w1.Setup, () => w1.LibraryGrad()),
            ["W1.CompiledGrad"] = (w1.Setup, () => w1.CompiledGrad()),
            ["W1.LibraryForward"] = (w1.Setup, () => w1.LibraryForward()),
            ["W1.HandWrittenGrad"] = (w1.Setup, () => w1.HandWrittenGrad()),
            ["W1.HandWrittenLibraryKernelsGrad"] = (w1.Setup, () => w1.HandWrittenLibraryKernelsGrad()),
            ["W1.ExpressionTreeGrad"] = (w1.Setup, () => w1.ExpressionTreeGrad()),
            ["W1.ScalarGraphGrad"] = (w1.Setup, () => w1.ScalarGraphGrad()),
            ["W2.LibraryGrad"] = (w2.Setup, () => w2.LibraryGrad()),
            ["W2.CompiledGrad"] = (w2.Setup, () => w2.CompiledGrad()),
            ["W2.LibraryForward"] = (w2.Setup, () => w2.LibraryForward()),
            ["W2.HandWrittenGrad"] = (w2.Setup, () => w2.HandWrittenGrad()),
            ["W3.LibraryGrad"] = (w3.Setup, () => w3.LibraryGrad()),
            ["W3.CompiledGrad"] = (w3.Setup, () => w3.CompiledGrad()),
            ["W3.LibraryForward"] = (w3.Setup, () => w3.LibraryForward()),
            ["W3.HandWrittenGrad"] = (w3.Setup, () => w3.HandWrittenGrad()),
            ["W4.LibraryGrad"] = (w4.Setup, () => w4.LibraryGrad()),
            ["W4.CompiledGrad"] = (w4.Setup, () => w4.CompiledGrad()),
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
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var gcs = GC.CollectionCount(0);
        var gen2 = GC.CollectionCount(2);
        var paused = GC.GetTotalPauseDuration();
        var sw = Stopwatch.StartNew();
        long n = 0;
        var best = double.MaxValue;
        while (sw.Elapsed.TotalSeconds < seconds)
        {
            var t = Stopwatch.GetTimestamp();
            sink = c.Call();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalMilliseconds);
            n++;
        }
        var cpuPerCall = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds * 1e6 / n;
        Console.WriteLine($"{name}: {n} calls, {sw.Elapsed.TotalMilliseconds * 1e6 / n:F0} ns per call (best call {best * 1e6:F0} ns), process CPU {cpuPerCall:F0} ns per call, " +
                          $"{(GC.CollectionCount(0) - gcs) * 1000.0 / n:F1} collections per 1000 calls ({(GC.CollectionCount(2) - gen2) * 1000.0 / n:F1} of generation 2), " +
                          $"GC pauses {(GC.GetTotalPauseDuration() - paused).TotalMilliseconds * 1e6 / n:F0} ns per call ({sink?.GetType().Name})");
        return 0;
    }
}
