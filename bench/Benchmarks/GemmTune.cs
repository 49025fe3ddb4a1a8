using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MathNet.Numerics.LinearAlgebra.Double;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// `--gemm [THREADS] [SHAPES] [BLOCKINGS]`: a quick min-of-many-repetitions timing of the library's GEMM next to MathNet's
/// managed provider (and OpenBLAS when FUNCTIONAL_AUTODIFF_OPENBLAS names it), for tuning the blocking and the
/// threading threshold on a busy machine: the minimum is the figure least disturbed by other processes. The
/// BenchmarkDotNet class K_Gemm gives the figures of record. Checks every result against the plain loop first.
/// SHAPES: MxKxN,… ; BLOCKINGS: KCxMCxNC,… times the library's kernel with each blocking instead (for tuning).
/// </summary>
public static class GemmTune
{
    public static int Run(string[] args)
    {
        if (args.Length > 0 && args[0] == "threshold") return Threshold();
        var threads = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 1;
        var shapes = args.Length > 1
            ? args[1].Split(',').Select(s => s.Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray()
            : [[64, 784, 256], [256, 256, 256], [512, 512, 512], [1024, 1024, 1024], [2048, 2048, 2048]];
        Blocking[] blockings = args.Length > 2
            ? args[2].Split(',').Select(s => s.Split('x').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray()).Select(v => new Blocking(v[0], v[1], v[2])).ToArray()
            : [];
        MathNet.Numerics.Control.MaxDegreeOfParallelism = threads;
        var library = Environment.GetEnvironmentVariable("FUNCTIONAL_AUTODIFF_OPENBLAS");
        var blas = string.IsNullOrEmpty(library) ? null : OpenBlas.Load(library);
        blas?.SetThreads(threads);
        if (blas is not null) Console.WriteLine(blas.Description);
        Console.WriteLine($"kernel {Gemm.Description}; threads {threads}; {Gemm.Blocks} from {CacheSizes.Machine}; peak (FMA loop) {Peak.MeasuredGflops():F1} GFLOP/s per core");
        foreach (var s in shapes)
        {
            int m = s[0], k = s[1], n = s[2];
            var rng = new SplitMix64(1);
            var a = Enumerable.Range(0, m * k).Select(_ => rng.Symmetric(1)).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => rng.Symmetric(1)).ToArray();
            var c = new double[m * n];
            if (m * n * (long)k <= 300L * 300 * 300)
            {
                var r = new double[m * n];
                Gemm.ReferenceInto(a, false, b, false, r, m, k, n);
                Gemm.Into(a, false, b, false, c, m, k, n, threads);
                if (!r.AsSpan().SequenceEqual(c)) { Console.WriteLine($"{m}x{k}x{n}: MISMATCH with the plain loop"); return 1; }
            }
            var flops = 2.0 * m * n * k;
            var reps = (int)Math.Clamp(6e9 / flops, 7, 3000);
            // The calling thread's CPU time is the whole work only on one thread.
            string Cpu(double seconds) => threads == 1 && !double.IsNaN(seconds) ? string.Create(CultureInfo.InvariantCulture, $" (thread CPU {flops / seconds / 1e9:F1})") : "";
            if (blockings.Length > 0)
            {
                var width = Vector512.IsHardwareAccelerated ? 512 : 256;
                foreach (var bl in blockings)
                {
                    var (t, cpu) = Times(reps, () => Gemm.IntoAt(width, a, false, b, false, c, m, k, n, threads, bl));
                    var (tt, ttCpu) = m == k ? Times(reps, () => Gemm.IntoAt(width, a, true, b, false, c, m, k, n, threads, bl)) : (double.NaN, double.NaN);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{m}x{k}x{n} {bl}: lib {flops / t / 1e9,6:F1} GFLOP/s{Cpu(cpu)}{(double.IsNaN(tt) ? "" : $" Aᵀ·B {flops / tt / 1e9:F1}{Cpu(ttCpu)}")}  [{t * 1e3:F3} ms]"));
                }
                continue;
            }
            var (lib, libCpu) = Times(reps, () => Gemm.Into(a, false, b, false, c, m, k, n, threads));
            double libTN = Time(reps, () => Gemm.Into(a, true, b, false, c, m, k, n, threads), m == k);
            var (ob, obCpu) = blas is null ? (double.NaN, double.NaN) : Times(reps, () => blas.Multiply(a, false, b, false, m, k, n));
            DenseMatrix am = new(m, k, a), bm = new(k, n, b), cm = new(m, n);
            double mn = Time(Math.Max(3, reps / 10), () => am.Multiply(bm, cm));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m}x{k}x{n}: lib {flops / lib / 1e9,6:F1} GFLOP/s{Cpu(libCpu)}{(double.IsNaN(libTN) ? "" : $" (Aᵀ·B {flops / libTN / 1e9:F1})")}  MathNet {flops / mn / 1e9,6:F1} GFLOP/s{(blas is null ? "" : $"  OpenBLAS {flops / ob / 1e9,6:F1} GFLOP/s{Cpu(obCpu)}")}  [{lib * 1e3:F3} ms]"));
        }
        return 0;
    }

    /// <summary>One part against two for cubes from 24³ to 1024³ and W3's shapes: where two threads start to pay.</summary>
    private static int Threshold()
    {
        Console.WriteLine($"kernel {Gemm.Description}; threshold now {Gemm.ParallelThreshold} multiply-adds");
        int[][] shapes = [.. new[] { 24, 32, 40, 48, 56, 64, 80, 96, 128, 160, 192, 256, 384, 512, 1024 }.Select(s => new[] { s, s, s }),
                          [64, 784, 256], [784, 64, 256], [64, 256, 784]];
        var width = Vector512.IsHardwareAccelerated ? 512 : 256;
        foreach (var s in shapes)
        {
            int m = s[0], k = s[1], n = s[2];
            var rng = new SplitMix64(2);
            var a = Enumerable.Range(0, m * k).Select(_ => rng.Symmetric(1)).ToArray();
            var b = Enumerable.Range(0, k * n).Select(_ => rng.Symmetric(1)).ToArray();
            var c = new double[m * n];
            var work = (long)m * n * k;
            var reps = (int)Math.Clamp(2e9 / (2.0 * work), 20, 20000);
            double one = Time(reps, () => Gemm.IntoAt(width, a, false, b, false, c, m, k, n, 1));
            double two = Time(reps, () => Gemm.IntoAt(width, a, false, b, false, c, m, k, n, 2));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{m}x{k}x{n} = {work,10} multiply-adds: 1 part {one * 1e6,9:F1} us ({2.0 * work / one / 1e9,5:F1} GFLOP/s), 2 parts {two * 1e6,9:F1} us ({2.0 * work / two / 1e9,5:F1} GFLOP/s), ratio {two / one:F2}"));
        }
        return 0;
    }

    private static double Time(int reps, Action f, bool run = true) => run ? Times(reps, f).Wall : double.NaN;

    /// <summary>
    /// The least wall-clock time of <paramref name="reps"/> calls, and the least CPU time of the calling thread (Linux:
    /// CLOCK_THREAD_CPUTIME_ID; NaN elsewhere). On one thread the CPU time leaves out the time slices other processes
    /// take on a busy machine, so it is the steadier figure there; on two it misses the second thread's work.
    /// </summary>
    private static (double Wall, double Cpu) Times(int reps, Action f)
    {
        f();
        double best = double.MaxValue, bestCpu = double.MaxValue;
        for (var r = 0; r < reps; r++)
        {
            var c = ThreadCpu();
            var t = Stopwatch.GetTimestamp();
            f();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t).TotalSeconds);
            bestCpu = Math.Min(bestCpu, ThreadCpu() - c);
        }
        return (best, double.IsNaN(bestCpu) ? double.NaN : bestCpu);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec { public long Seconds, Nanoseconds; }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGettime(int clock, out Timespec time);

    private static double ThreadCpu()
    {
        if (!OperatingSystem.IsLinux()) return double.NaN;
        try { return ClockGettime(3 /* CLOCK_THREAD_CPUTIME_ID */, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN; }
        catch (DllNotFoundException) { return double.NaN; }
        catch (EntryPointNotFoundException) { return double.NaN; }
    }
}
