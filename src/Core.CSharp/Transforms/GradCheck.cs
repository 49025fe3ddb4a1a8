using System;
using System.Collections.Immutable;
using System.Linq;
using System.Text;

namespace Functional.Autodiff;

/// <summary>How close two numbers must be: |a − b| ≤ Absolute + Relative·max(|a|, |b|).</summary>
/// <param name="Absolute">The absolute part of the bound.</param>
/// <param name="Relative">The relative part of the bound.</param>
public readonly record struct Tolerance(double Absolute, double Relative)
{
    /// <summary>A bound suited to central differences with the default step: 1e-6 absolute, 1e-5 relative.</summary>
    public static Tolerance Default => new(1e-6, 1e-5);

    /// <summary>True when <paramref name="a"/> and <paramref name="b"/> are within the bound (NaN never is).</summary>
    public bool Accepts(double a, double b) => Math.Abs(a - b) <= Absolute + Relative * Math.Max(Math.Abs(a), Math.Abs(b));
}

/// <summary>One comparison of a gradient check: the largest error found and where.</summary>
/// <param name="Name">What was compared, e.g. "order 1: VJP dot-product test against central differences".</param>
/// <param name="Passed">Whether every compared pair was within the tolerance.</param>
/// <param name="MaxAbsoluteError">The largest |a − b|.</param>
/// <param name="MaxRelativeError">The largest |a − b| / max(|a|, |b|).</param>
/// <param name="Where">Where the worst pair is (trial and element).</param>
/// <param name="Expected">The reference side of the worst pair (finite differences, or the other mode).</param>
/// <param name="Actual">The automatic derivative's side of the worst pair.</param>
/// <param name="Magnitude">The function's magnitude M for this comparison: the largest |number| among f's values at the
/// points evaluated and the numbers compared. The absolute part of the tolerance is scaled by it (Absolute·M), so a
/// function of magnitude 1e-7 is held to 1e-7 of the bound a function of magnitude 1 is held to.</param>
public sealed record GradCheckEntry(string Name, bool Passed, double MaxAbsoluteError, double MaxRelativeError, string Where, double Expected, double Actual, double Magnitude);

/// <summary>The result of <see cref="GradCheck.Run"/>: every comparison made, and whether all passed. Nothing is thrown or printed.</summary>
/// <param name="Entries">The comparisons, first order first.</param>
public sealed record GradCheckReport(ImmutableArray<GradCheckEntry> Entries)
{
    /// <summary>True when every comparison passed.</summary>
    public bool Passed => Entries.All(e => e.Passed);

    /// <summary>One line per comparison, with %.17g numbers, for a test's failure message.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder(Passed ? "gradient check passed" : "gradient check FAILED");
        foreach (var e in Entries)
            sb.Append($"\n  {(e.Passed ? "ok  " : "FAIL")} {e.Name}: max abs {e.MaxAbsoluteError:G3}, max rel {e.MaxRelativeError:G3}, magnitude {e.Magnitude:G3}; worst at {e.Where}: expected {e.Expected:G17}, got {e.Actual:G17}");
        return sb.ToString();
    }
}

/// <summary>
/// A public gradient checker for property tests (autograd's <c>check_grads</c>, PyTorch's <c>gradcheck</c>): it
/// compares a function's VJP and JVP with central finite differences, and with each other, at first and second order.
/// </summary>
/// <example>
/// <code>
/// var report = GradCheck.Run(x =&gt; Expr.Sum(Expr.Tanh(x) * Expr.Exp(-x)), Value.FromArray(0.3, -1.2), Tolerance.Default);
/// Assert.That(report.Passed, report.ToString());
/// </code>
/// </example>
public static class GradCheck
{
    /// <summary>
    /// Checks f at x: (1) the VJP dot-product test ⟨u, J_fd v⟩ ≈ ⟨Jᵀu, v⟩, (2) the JVP against central differences
    /// element by element, (3) JVP and VJP adjoint, ⟨u, J v⟩ ≈ ⟨Jᵀu, v⟩; and with <paramref name="order"/> 2 the same
    /// three on x ↦ Jᵀu (the gradient graph as a function). Directions u, v are drawn from <paramref name="seed"/>.
    /// A pair (expected e, actual a) passes when |e − a| ≤ Absolute·M + Relative·max(|e|, |a|), where M is the
    /// function's magnitude (<see cref="GradCheckEntry.Magnitude"/>): the absolute part scales with the function, so
    /// a wrong rule is caught on functions of any size.
    /// </summary>
    /// <param name="f">The function to check; any output shape.</param>
    /// <param name="x">Where to check it.</param>
    /// <param name="tolerance">The bound for every comparison.</param>
    /// <param name="order">1, or 2 to check second derivatives as well.</param>
    /// <param name="trials">How many random direction pairs per comparison.</param>
    /// <param name="seed">The seed of the directions, so a failure can be replayed.</param>
    /// <param name="step">The finite-difference step along the direction.</param>
    /// <exception cref="ArgumentOutOfRangeException">The order is not 1 or 2, trials is below 1, or the step is not positive.</exception>
    public static GradCheckReport Run(Func<Expr, Expr> f, Value x, Tolerance tolerance, int order = 2, int trials = 3, int seed = 0, double step = 1e-6)
    {
        Guard.NotNull(f);
        if (order is not (1 or 2)) throw new ArgumentOutOfRangeException(nameof(order), order, UserCode.Mark("GradCheck checks order 1, or orders 1 and 2."));
        if (trials < 1) throw new ArgumentOutOfRangeException(nameof(trials), trials, UserCode.Mark("GradCheck needs at least one trial."));
        if (!(step > 0)) throw new ArgumentOutOfRangeException(nameof(step), step, UserCode.Mark("The finite-difference step must be positive."));
        var random = new Random(seed);
        var entries = ImmutableArray.CreateBuilder<GradCheckEntry>();
        entries.AddRange(CheckOne("order 1", f, x, tolerance, trials, random, step));
        if (order == 2)
        {
            var u = RandomLike(Evaluate(f, x).Shape, random);
            Func<Expr, Expr> pulled = e => Diff.Vjp(f)(e, Expr.Const(u));
            entries.AddRange(CheckOne("order 2 (x ↦ Jᵀu)", pulled, x, tolerance, trials, random, step));
        }
        return new GradCheckReport(entries.ToImmutable());
    }

    private static GradCheckEntry[] CheckOne(string label, Func<Expr, Expr> f, Value x, Tolerance tol, int trials, Random random, double step)
    {
        var dot = new Worst($"{label}: VJP dot-product test against central differences", tol);
        var fd = new Worst($"{label}: JVP against central differences", tol);
        var adjoint = new Worst($"{label}: JVP and VJP adjoint", tol);
        var jvp = AD.Jvp(f);
        var vjp = AD.Vjp(f);
        for (var t = 0; t < trials; t++)
        {
            var v = RandomLike(x.Shape, random);
            var (y, pullback) = vjp(x);
            var u = RandomLike(y.Shape, random);
            var (plus, minus) = (Evaluate(f, x + v * step), Evaluate(f, x - v * step));
            var magnitude = Math.Max(MaxAbs(y), Math.Max(MaxAbs(plus), MaxAbs(minus)));
            dot.SeeMagnitude(magnitude);
            fd.SeeMagnitude(magnitude);
            adjoint.SeeMagnitude(magnitude);
            var central = (1 / (2 * step)) * (plus - minus);
            var (_, jv) = jvp(x, v);
            var jtu = pullback(u);
            dot.See($"trial {t}", Dot(u, central), Dot(jtu, v));
            adjoint.See($"trial {t}", Dot(u, jv), Dot(jtu, v));
            var c = central.ToArray();
            var a = jv.ToArray();
            for (var k = 0; k < c.Length; k++) fd.See($"trial {t}, element {k}", c[k], a[k]);
        }
        return [dot.Entry, fd.Entry, adjoint.Entry];
    }

    private static Value Evaluate(Func<Expr, Expr> f, Value x) => Diff.Output(f, Expr.Var("x", x)).Value;

    private static Value RandomLike(Shape shape, Random random)
    {
        var d = new double[shape.Size];
        for (var k = 0; k < d.Length; k++) d[k] = 2 * random.NextDouble() - 1;
        return Value.Own(shape, d);
    }

    private static double Dot(Value a, Value b)
    {
        double[] x = a.ToArray(), y = b.ToArray();
        var s = 0.0;
        for (var k = 0; k < x.Length; k++) s += x[k] * y[k];
        return s;
    }

    private static double MaxAbs(Value v)
    {
        var m = 0.0;
        foreach (var e in v.ToArray()) m = Math.Max(m, Math.Abs(e));
        return m;
    }

    /// <summary>Collects the pairs of one comparison; the verdict needs the magnitude, known once all are seen.</summary>
    private sealed class Worst(string name, Tolerance tol)
    {
        private readonly System.Collections.Generic.List<(string At, double Expected, double Actual)> pairs = [];
        private double magnitude;

        public void SeeMagnitude(double m) => magnitude = Math.Max(magnitude, double.IsNaN(m) ? 0 : m);

        public void See(string at, double e, double a)
        {
            pairs.Add((at, e, a));
            SeeMagnitude(Math.Max(Math.Abs(e), Math.Abs(a)));
        }

        public GradCheckEntry Entry
        {
            get
            {
                var scaled = tol with { Absolute = tol.Absolute * magnitude };
                bool passed = true;
                double maxAbs = 0, maxRel = 0, expected = 0, actual = 0;
                var where = "-";
                foreach (var (at, e, a) in pairs)
                {
                    var abs = Math.Abs(e - a);
                    var scale = Math.Max(Math.Abs(e), Math.Abs(a));
                    var ok = scaled.Accepts(e, a);
                    passed &= ok;
                    if (double.IsNaN(abs) || abs > maxAbs || (!ok && where == "-"))
                        (maxAbs, expected, actual, where) = (double.IsNaN(abs) ? double.NaN : abs, e, a, at);
                    maxRel = Math.Max(maxRel, scale > 0 ? abs / scale : 0);
                }
                return new(name, passed, maxAbs, maxRel, where, expected, actual, magnitude);
            }
        }
    }
}
