using System;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// The machine's double-precision peak on one core, measured: 16 independent chains of fused multiply-adds at the
/// widest accelerated vector width (enough to cover the FMA latency on two FMA units), best of several runs.
/// </summary>
public static class Peak
{
    /// <summary>The nominal clock from /proc/cpuinfo ("cpu MHz"), or 0 where there is none.</summary>
    public static double ClockMHz()
    {
        try
        {
            foreach (var line in System.IO.File.ReadLines("/proc/cpuinfo"))
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                    return double.Parse(line[(line.IndexOf(':') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (System.IO.IOException) { }
        catch (UnauthorizedAccessException) { }
        return 0;
    }

    public static int Width => Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    public static double MeasuredGflops()
    {
        var best = 0.0;
        for (var r = 0; r < 7; r++) best = Math.Max(best, Vector512.IsHardwareAccelerated ? Once512() : Once256());
        return best;
    }

    private const long Iterations = 4_000_000;

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Once512()
    {
        var t = Stopwatch.GetTimestamp();
        Sink = Loop512(Vector512.Create(0.999999999), Vector512.Create(1e-9), Vector512.Create(1.0));
        return Iterations * 16.0 * 8 * 2 / Stopwatch.GetElapsedTime(t).TotalSeconds / 1e9;
    }

    // No call inside: a vector live across a call is kept in memory for the whole loop.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Loop512(Vector512<double> m, Vector512<double> x, Vector512<double> a0)
    {
        Vector512<double> a1 = a0 + x, a2 = a1 + x, a3 = a2 + x, a4 = a3 + x, a5 = a4 + x, a6 = a5 + x, a7 = a6 + x;
        Vector512<double> a8 = a7 + x, a9 = a8 + x, a10 = a9 + x, a11 = a10 + x, a12 = a11 + x, a13 = a12 + x, a14 = a13 + x, a15 = a14 + x;
        for (nint i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, x); a1 = Vector512.FusedMultiplyAdd(a1, m, x); a2 = Vector512.FusedMultiplyAdd(a2, m, x); a3 = Vector512.FusedMultiplyAdd(a3, m, x);
            a4 = Vector512.FusedMultiplyAdd(a4, m, x); a5 = Vector512.FusedMultiplyAdd(a5, m, x); a6 = Vector512.FusedMultiplyAdd(a6, m, x); a7 = Vector512.FusedMultiplyAdd(a7, m, x);
            a8 = Vector512.FusedMultiplyAdd(a8, m, x); a9 = Vector512.FusedMultiplyAdd(a9, m, x); a10 = Vector512.FusedMultiplyAdd(a10, m, x); a11 = Vector512.FusedMultiplyAdd(a11, m, x);
            a12 = Vector512.FusedMultiplyAdd(a12, m, x); a13 = Vector512.FusedMultiplyAdd(a13, m, x); a14 = Vector512.FusedMultiplyAdd(a14, m, x); a15 = Vector512.FusedMultiplyAdd(a15, m, x);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11 + a12 + a13 + a14 + a15).ToScalar();
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Once256()
    {
        var t = Stopwatch.GetTimestamp();
        Sink = Loop256(Vector256.Create(0.999999999), Vector256.Create(1e-9), Vector256.Create(1.0));
        return Iterations * 10.0 * 4 * 2 / Stopwatch.GetElapsedTime(t).TotalSeconds / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static double Loop256(Vector256<double> m, Vector256<double> x, Vector256<double> a0)
    {
        Vector256<double> a1 = a0 + x, a2 = a1 + x, a3 = a2 + x, a4 = a3 + x, a5 = a4 + x, a6 = a5 + x, a7 = a6 + x, a8 = a7 + x, a9 = a8 + x;
        for (nint i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, x); a1 = Vector256.FusedMultiplyAdd(a1, m, x); a2 = Vector256.FusedMultiplyAdd(a2, m, x); a3 = Vector256.FusedMultiplyAdd(a3, m, x);
            a4 = Vector256.FusedMultiplyAdd(a4, m, x); a5 = Vector256.FusedMultiplyAdd(a5, m, x); a6 = Vector256.FusedMultiplyAdd(a6, m, x); a7 = Vector256.FusedMultiplyAdd(a7, m, x);
            a8 = Vector256.FusedMultiplyAdd(a8, m, x); a9 = Vector256.FusedMultiplyAdd(a9, m, x);
        }
        return (a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9).ToScalar();
    }

    /// <summary>Keeps the loops' results alive.</summary>
    public static double Sink;
}
