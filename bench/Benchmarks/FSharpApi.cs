using System;
using BenchmarkDotNet.Attributes;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// F: the F# API's cost over the C# core. The same two workloads through the core's <c>AD.ValueAndGrad</c> (the
/// baseline) and through the F# API as F# code calls it (<c>bench/FSharpWorkloads</c>); the F# API converts at the
/// boundary and adds no logic, so the ratio should be about 1. An F# call builds the core's combinator each time
/// (<c>valueAndGrad f x</c> is one call), so the core is also timed that way.
/// </summary>
[BenchmarkCategory("F")]
public class F_FSharpApi
{
    private Func<Value, (Value Value, Value Grad)> seed000 = null!;
    private Func<Value, Value, Value, (Value Value, (Value, Value, Value) Grad)> seed003 = null!;

    [GlobalSetup]
    public void Setup()
    {
        Settings.Apply();
        seed000 = AD.ValueAndGrad(Seed000.F);
        seed003 = AD.ValueAndGrad((x, y, z) => (x + 2 * y) * z);
    }

    [Benchmark(Baseline = true, Description = "seed 000, C# core")]
    public (Value Value, Value Grad) Seed000Core() => seed000(Seed000.W);

    [Benchmark(Description = "seed 000, C# core, AD.ValueAndGrad(f)(w) per call")]
    public (Value Value, Value Grad) Seed000CorePerCall() => AD.ValueAndGrad(Seed000.F)(Seed000.W);

    [Benchmark(Description = "seed 000, F# API")]
    public Tuple<double, Value> Seed000FSharp() => FSharpWorkloads.seed000(Seed000.W);

    [Benchmark(Description = "seed 003 (3 scalars), C# core")]
    public (Value Value, (Value, Value, Value) Grad) Seed003Core() => seed003(3.0, -4.0, 19.0);

    [Benchmark(Description = "seed 003 (3 scalars), F# API")]
    public Tuple<double, Tuple<double, double, double>> Seed003FSharp() => FSharpWorkloads.seed003(3.0, -4.0, 19.0);
}
