using System;
using System.Collections.Generic;
using System.IO;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters.Json;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Usage: Benchmarks [--quick | --dry] [--artifacts DIR] [--in-process] [BenchmarkDotNet args, e.g. --filter *W3*]
///        Benchmarks --check FILE|-
///        Benchmarks --loop W1.LibraryGrad [SECONDS]   (a target for a profiler)
///        Benchmarks --gemm [THREADS] [MxKxN,...] [KCxMCxNC,...]   (min-of-repetitions GEMM timing, for tuning;
///                                                  with blockings: the library's kernel under each)
///        Benchmarks --gemm threshold                  (1 part against 2, 24³ … 1024³ and W3's shapes)
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var rest = new List<string>();
        string artifacts = Path.Combine("BenchmarkDotNet.Artifacts");
        bool quick = false, dry = false, inProcess = false;
        for (var k = 0; k < args.Length; k++)
        {
            switch (args[k])
            {
                case "--check":
                    return Check.Run(k + 1 < args.Length ? args[k + 1] : "-");
                case "--loop" when k + 1 < args.Length:
                    return Loop.Run(args[k + 1], k + 2 < args.Length ? double.Parse(args[k + 2], System.Globalization.CultureInfo.InvariantCulture) : 10);
                case "--gemm":
                    return GemmTune.Run(args[(k + 1)..]);
                case "--quick": quick = true; break;
                case "--dry": dry = true; break;
                case "--in-process": inProcess = true; break;
                case "--artifacts" when k + 1 < args.Length: artifacts = args[++k]; break;
                default: rest.Add(args[k]); break;
            }
        }
        if (!rest.Exists(a => a is "--filter" or "-f" or "--list")) rest.AddRange(["--filter", "*"]);

        // Default: BenchmarkDotNet's own choice of warm-up and iteration counts, one process per benchmark.
        // --quick: one launch, one warm-up and three 100 ms iterations (a check of the pipeline, not a measurement).
        var job = dry ? Job.Dry
            : quick ? Job.Default.WithLaunchCount(1).WithWarmupCount(1).WithIterationCount(3)
                                 .WithIterationTime(TimeInterval.FromMilliseconds(100)).WithId("Quick")
            : Job.Default.WithId("Full");
        if (inProcess) job = job.WithToolchain(InProcessEmitToolchain.Instance);
        job = job.WithEnvironmentVariable("BENCH_THREADS", Settings.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture));

        // A job named on the command line (--job short) replaces the suite's default job rather than running beside it.
        var namedJob = rest.Exists(a => a is "--job" or "-j");
        var config = ManualConfig.Create(DefaultConfig.Instance)
            .AddJob(namedJob ? [] : [job])
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddExporter(JsonExporter.Brief)
            .WithArtifactsPath(Path.GetFullPath(artifacts))
            // The default 2 minutes is not enough to build the generated project on a busy 2-core machine.
            .WithBuildTimeout(TimeSpan.FromMinutes(10))
            .WithOptions(ConfigOptions.JoinSummary);

        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], config);
        foreach (var s in summaries)
            if (s.HasCriticalValidationErrors || s.Reports.Length == 0 || System.Linq.Enumerable.Any(s.Reports, r => !r.Success)) return 1;
        return 0;
    }
}
