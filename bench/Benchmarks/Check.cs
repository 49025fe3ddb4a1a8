using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using MathNet.Numerics;

namespace Functional.Autodiff.Benchmarks;

/// <summary>
/// Runs every workload once, library and hand-written, checks they agree, and writes the values (and the
/// environment) as JSON for the runner, which also compares them with PyTorch's.
/// </summary>
public static class Check
{
    private const double Tolerance = 1e-9;

    public static int Run(string path)
    {
        Settings.Apply();
        var failures = new List<string>();
        var doc = new Dictionary<string, object>
        {
            ["env"] = new Dictionary<string, object>
            {
                ["runtime"] = RuntimeInformation.FrameworkDescription,
                ["os"] = RuntimeInformation.OSDescription,
                ["processors"] = Environment.ProcessorCount,
                ["mathnet_provider"] = MathNet.Numerics.Providers.LinearAlgebra.LinearAlgebraControl.Provider.ToString() ?? "?",
                ["mathnet_threads_default"] = Settings.DefaultMathNetThreads,
                ["mathnet_threads"] = Control.MaxDegreeOfParallelism,
                ["simd"] = $"Vector<double>: {Vector<double>.Count} lanes, Vector256: {Vector256.IsHardwareAccelerated}, Vector512: {Vector512.IsHardwareAccelerated}",
                ["products"] = ProductKernels.Description,
                ["gemm_kernel"] = Gemm.Description,
                ["peak_gflops_measured"] = Peak.MeasuredGflops(),
                ["peak_width_bits"] = Peak.Width,
                ["cpu_mhz"] = Peak.ClockMHz(),
            },
        };
        // OpenBLAS for the GEMM row: which kernel it runs, and that it agrees with the library's GEMM.
        if (Settings.OpenBlas() is { } blas)
        {
            var env = (Dictionary<string, object>)doc["env"];
            env["openblas"] = blas.Description;
            env["openblas_coretype"] = Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "";
            var rng = new SplitMix64(5);
            int m = 64, k = 784, n = 256;
            var x = new double[m * k];
            var y = new double[k * n];
            for (var i = 0; i < x.Length; i++) x[i] = rng.Symmetric(1);
            for (var i = 0; i < y.Length; i++) y[i] = rng.Symmetric(1);
            var lib = Gemm.Multiply(x, false, y, false, m, k, n, 1);
            var ob = blas.Multiply(x, false, y, false, m, k, n);
            var worst = 0.0;
            for (var i = 0; i < lib.Length; i++) worst = Math.Max(worst, Math.Abs(lib[i] - ob[i]) / (Math.Abs(lib[i]) + 1));
            env["openblas_vs_library_max_rel_diff"] = worst;
            Expect(failures, "GEMM OpenBLAS vs library", worst, true);
        }

        // W1
        {
            var (v, g) = AD.ValueAndGrad(ScalarChain.Build)(Value.Scalar(ScalarChain.X0));
            var (hv, hg) = ScalarChain.HandWritten(ScalarChain.X0);
            var err = Math.Max(Rel(v.ToScalar(), hv), Rel(g.ToScalar(), hg));
            Expect(failures, "W1", err, double.IsFinite(g.ToScalar()) && g.ToScalar() != 0);
            doc["W1"] = new { value = v.ToScalar(), grad = g.ToScalar(), hand_value = hv, hand_grad = hg, rel_diff = err };
            // The compiled delegates: the library's bits exactly, so the hand-written code within the same tolerance.
            var (ev, eg) = AD.CompileGrad(ScalarChain.BuildExpression())(ScalarChain.X0);
            var (sv, sg) = AD.CompileScalarGrad(ScalarChain.Build)(ScalarChain.X0);
            var derr = Math.Max(Math.Max(Rel(ev, hv), Rel(eg, hg)), Math.Max(Rel(sv, hv), Rel(sg, hg)));
            Expect(failures, "W1 delegates", derr,
                ev.Equals(v.ToScalar()) && eg.Equals(g.ToScalar()) && sv.Equals(v.ToScalar()) && sg.Equals(g.ToScalar()));
            doc["W1_delegates"] = new { expression_tree_value = ev, expression_tree_grad = eg, scalar_graph_value = sv, scalar_graph_grad = sg, rel_diff = derr };
        }
        // W2
        {
            var (v, g) = AD.ValueAndGrad(Seed000.F)(Seed000.W);
            var (hv, hg) = Seed000.HandWritten(Seed000.WPlain);
            var err = Math.Max(Rel(v.ToScalar(), hv), Rel(g.ToArray(), hg));
            Expect(failures, "W2", err, v.ToScalar() == 40.5 && g.ToArray().All(d => d == 9));
            doc["W2"] = new { value = v.ToScalar(), grad = g.ToArray(), hand_value = hv, hand_grad = hg, rel_diff = err };
        }
        // W3
        {
            var data = new MlpData();
            var x = Expr.Const(data.X);
            var (v, g) = AD.ValueAndGrad((ParamVars p) => Mlp.Loss(x, p["W1"], p["b1"], p["W2"], p["b2"], data.Labels))(data.Params());
            var h = Mlp.HandWritten(data);
            var err = new[]
            {
                Rel(v.ToScalar(), h.Loss),
                Rel(g["W1"].ToArray(), h.W1.ToColumnMajorArray()), Rel(g["b1"].ToArray(), h.B1.ToArray()),
                Rel(g["W2"].ToArray(), h.W2.ToColumnMajorArray()), Rel(g["b2"].ToArray(), h.B2.ToArray()),
            }.Max();
            Expect(failures, "W3", err, double.IsFinite(v.ToScalar()));
            doc["W3"] = new
            {
                value = v.ToScalar(),
                grad_norms = g.Entries.ToDictionary(e => e.Key, e => TensorPrimitives.Norm<double>(e.Value.ToArray())),
                hand_value = h.Loss,
                rel_diff = err,
                labels_head = data.Labels.Take(8).ToArray(),
                x_00 = data.X[0, 0],
            };
        }
        // W4
        {
            var xs = Elementwise.MakeX();
            var (v, g) = AD.ValueAndGrad(Elementwise.F)(Value.FromArray(xs));
            var (hv, hg) = Elementwise.HandWritten(xs);
            var ga = g.ToArray();
            var err = Math.Max(Rel(v.ToScalar(), hv), Rel(ga, hg));
            Expect(failures, "W4", err, double.IsFinite(v.ToScalar()));
            doc["W4"] = new { value = v.ToScalar(), grad_sum = TensorPrimitives.Sum<double>(ga), grad_norm = TensorPrimitives.Norm<double>(ga), hand_value = hv, rel_diff = err };
        }

        // Compiled: the uncompiled gradient's bits, and the one-off cost of compiling (trace, program, first call).
        {
            var data = new MlpData();
            var x = Expr.Const(data.X);
            Func<ParamVars, Expr> loss = p => Mlp.Loss(x, p["W1"], p["b1"], p["W2"], p["b2"], data.Labels);
            var xs = Value.FromArray(Elementwise.MakeX());
            var compiled = new Dictionary<string, object>();
            void Same(string name, Func<Value[]> uncompiled, Func<Value[]> compile)
            {
                var clock = System.Diagnostics.Stopwatch.StartNew();
                var c = compile();
                var ms = clock.Elapsed.TotalMilliseconds;
                var u = uncompiled();
                var same = u.Length == c.Length && u.Zip(c).All(t => t.First.Equals(t.Second));
                if (!same) failures.Add($"{name}: the compiled result differs from the uncompiled one");
                compiled[name] = new { bit_identical = same, compile_ms = ms };
                Console.Error.WriteLine($"check: {name} compiled in {ms:F1} ms (trace, program, first call); bit-identical: {same}");
            }
            Value[] Flat((Value Value, Value Grad) r) => [r.Value, r.Grad];
            Value[] FlatP((Value Value, Params Grad) r) => [r.Value, .. r.Grad.Entries.Select(e => e.Value)];
            var x0 = Value.Scalar(ScalarChain.X0);
            Same("W1", () => Flat(AD.ValueAndGrad(ScalarChain.Build)(x0)), () => Flat(Compiled.ValueAndGrad(ScalarChain.Build)(x0)));
            Same("W2", () => Flat(AD.ValueAndGrad(Seed000.F)(Seed000.W)), () => Flat(Compiled.ValueAndGrad(Seed000.F)(Seed000.W)));
            Same("W3", () => FlatP(AD.ValueAndGrad(loss)(data.Params())), () => FlatP(Compiled.ValueAndGrad(loss)(data.Params())));
            Same("W4", () => Flat(AD.ValueAndGrad(Elementwise.F)(xs)), () => Flat(Compiled.ValueAndGrad(Elementwise.F)(xs)));
            // Second order: the Hessians and the Hessian-vector product of the H rows (Hessians.cs).
            foreach (var n in new[] { 10, 100 })
            {
                var (a, hx, _) = HessianData.Make(n, n);
                var hf = HessianData.F(a);
                Same($"H{n}", () => [Value.FromMatrix(AD.Hessian(hf)(hx))], () => [Value.FromMatrix(Compiled.Hessian(hf)(hx))]);
            }
            {
                var (a, hx, hv) = HessianData.Make(H_Hvp.Rows, H_Hvp.N);
                var hf = HessianData.F(a);
                Same("Hvp1e4", () => [AD.Hvp(hf)(hx, hv)], () => [Compiled.Hvp(hf)(hx, hv)]);
            }
            doc["compiled"] = compiled;
        }

        doc["ok"] = failures.Count == 0;
        doc["failures"] = failures;
        var json = JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true });
        if (path == "-") Console.WriteLine(json);
        else
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            File.WriteAllText(path, json);
        }
        foreach (var f in failures) Console.Error.WriteLine($"check failed: {f}");
        Console.Error.WriteLine(failures.Count == 0 ? "check: library and hand-written code agree on all four workloads" : "check: FAILED");
        return failures.Count == 0 ? 0 : 1;
    }

    private static void Expect(List<string> failures, string name, double err, bool sane)
    {
        if (!(err <= Tolerance)) failures.Add($"{name}: library and hand-written differ (relative {err:G3})");
        if (!sane) failures.Add($"{name}: the value is not what it should be");
    }

    private static double Rel(double a, double b) => Math.Abs(a - b) / Math.Max(Math.Abs(b), 1e-300);

    private static double Rel(double[] a, double[] b)
    {
        if (a.Length != b.Length) return double.PositiveInfinity;
        double diff = 0, scale = 1e-300;
        for (var k = 0; k < a.Length; k++)
        {
            diff = Math.Max(diff, Math.Abs(a[k] - b[k]));
            scale = Math.Max(scale, Math.Abs(b[k]));
        }
        return diff / scale;
    }
}
