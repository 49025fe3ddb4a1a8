using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Functional.Autodiff;

// Lane-independent element-wise math: exp, log, log1p, sin, cos, tanh, sigmoid, softplus, relu.
//
// The invariant: an element's result is a pure function of that element's input, bit for bit, whatever the span's
// length, the element's position, its neighbours, the vector width, or whether it was computed as a scalar. It holds
// because
//   * each kernel is written once, generically over the width (SimdMath<V, L>), with the primitives of ILanes<V>,
//     every one an IEEE operation per lane or an exact bit operation, FMA used the same way at every width;
//   * the tail of a span (fewer elements than a vector) runs that same vector code on a copy padded into a stack
//     buffer, never a different scalar algorithm; a single scalar runs it in lane 0 of a 128-bit vector, which gives
//     the bits of every other width by the rule above (the tests compare all widths and the scalar);
//   * special inputs (NaN, ±∞, ±0, subnormals, exp's overflow and underflow, sin/cos beyond the reduction's range)
//     are decided per lane from that lane's own input: by selects inside the kernel, or, for sin and cos of
//     |x| > 2^20, by computing that element with Math.Sin/Math.Cos (the scalar path makes the same test).
// Branches on Any/All only skip a part of a kernel that no lane of the vector selects; they never change a value.
//
// Accuracy, measured against correctly rounded values (mpmath): exp 0.90 ulp, log 0.63, log1p 0.74, sin 0.77,
// cos 0.73, tanh 0.98, sigmoid 1.83, softplus 1.37. Against System.Math: 1 ulp for exp, log, sin, cos, and 2 for
// tanh, whose glibc version is itself up to 1.8 ulp off. Determinism.fs tests both.
//
// Coefficients: log and the sin/cos kernels are fdlibm's (e_log.c, k_sin.c, k_cos.c); exp and tanh use
// Chebyshev fits made for this file ((eʳ − 1 − r)/r² on |r| ≤ ln2/2; (tanh a − a)/a³ in a² on a ≤ 0.55).

/// <summary>A kernel of one input: its generic body, and optionally a scalar fallback for large |x|.</summary>
internal interface IUnaryKernel
{
    /// <summary>The kernel on one vector of lanes.</summary>
    static abstract V Run<V, L>(V x)
        where V : struct
        where L : struct, ILanes<V>;

    /// <summary>Elements with |x| above this are computed by <see cref="Fallback"/> instead (∞: never).</summary>
    static virtual double FallbackAbove => double.PositiveInfinity;

    /// <summary>The result for an element with |x| &gt; <see cref="FallbackAbove"/>.</summary>
    static virtual double Fallback(double x) => throw new InvalidOperationException(UserCode.Mark("This kernel has no fallback."));
}

/// <summary>The element-wise functions on spans and on single numbers, bit-identical to each other (see the file comment).</summary>
internal static class ElementwiseMath
{
    /// <summary>The functions, for tests and benchmarks that name them.</summary>
    public enum Function { Exp, Log, Log1p, Sin, Cos, Tanh, Sigmoid, Softplus, Relu }

    public static double Exp(double x) => Scalar<ExpKernel>(x);
    public static void Exp(ReadOnlySpan<double> x, Span<double> y) => Map<ExpKernel>(x, y);
    public static double Log(double x) => Scalar<LogKernel>(x);
    public static void Log(ReadOnlySpan<double> x, Span<double> y) => Map<LogKernel>(x, y);
    public static double Log1p(double x) => Scalar<Log1pKernel>(x);
    public static void Log1p(ReadOnlySpan<double> x, Span<double> y) => Map<Log1pKernel>(x, y);
    public static double Sin(double x) => Scalar<SinKernel>(x);
    public static void Sin(ReadOnlySpan<double> x, Span<double> y) => Map<SinKernel>(x, y);
    public static double Cos(double x) => Scalar<CosKernel>(x);
    public static void Cos(ReadOnlySpan<double> x, Span<double> y) => Map<CosKernel>(x, y);
    public static double Tanh(double x) => Scalar<TanhKernel>(x);
    public static void Tanh(ReadOnlySpan<double> x, Span<double> y) => Map<TanhKernel>(x, y);
    public static double Sigmoid(double x) => Scalar<SigmoidKernel>(x);
    public static void Sigmoid(ReadOnlySpan<double> x, Span<double> y) => Map<SigmoidKernel>(x, y);
    public static double Softplus(double x) => Scalar<SoftplusKernel>(x);
    public static void Softplus(ReadOnlySpan<double> x, Span<double> y) => Map<SoftplusKernel>(x, y);
    public static double Relu(double x) => Scalar<ReluKernel>(x);
    public static void Relu(ReadOnlySpan<double> x, Span<double> y) => Map<ReluKernel>(x, y);

    /// <summary>The widest accelerated vector, in bits; 128 (emulated lane by lane) where none is.</summary>
    public static int Width =>
        Vector512.IsHardwareAccelerated ? 512 : Vector256.IsHardwareAccelerated ? 256 : 128;

    /// <summary>y = f(x) element by element at the widest accelerated width; x and y may be the same span.</summary>
    public static void Map<K>(ReadOnlySpan<double> x, Span<double> y) where K : struct, IUnaryKernel
    {
        if (Vector512.IsHardwareAccelerated) SimdMath<Vector512<double>, Lanes512>.Map<K>(x, y);
        else if (Vector256.IsHardwareAccelerated) SimdMath<Vector256<double>, Lanes256>.Map<K>(x, y);
        else SimdMath<Vector128<double>, Lanes128>.Map<K>(x, y);
    }

    /// <summary>
    /// f at one number: the same kernel in lane 0 of a 128-bit vector (the narrowest width, for the shortest wait),
    /// with the same fallback test, so the bits are those of any element of a span.
    /// </summary>
    public static double Scalar<K>(double x) where K : struct, IUnaryKernel =>
        SimdMath<Vector128<double>, Lanes128>.One<K>(x);

    /// <summary>y = f(x) at a given width (128, 256 or 512; a width the machine lacks is emulated): tests check every width gives the same bits.</summary>
    public static void Apply(Function f, int width, ReadOnlySpan<double> x, Span<double> y)
    {
        switch (width)
        {
            case 512: At<Vector512<double>, Lanes512>(f, x, y); break;
            case 256: At<Vector256<double>, Lanes256>(f, x, y); break;
            case 128: At<Vector128<double>, Lanes128>(f, x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, UserCode.Mark("The widths are 128, 256 and 512."));
        }
    }

    /// <summary>y = f(x) at the width Map uses.</summary>
    public static void Apply(Function f, ReadOnlySpan<double> x, Span<double> y) => Apply(f, Width, x, y);

    /// <summary>f at one number, as the ops compute a scalar.</summary>
    public static double Scalar(Function f, double x) => f switch
    {
        Function.Exp => Exp(x),
        Function.Log => Log(x),
        Function.Log1p => Log1p(x),
        Function.Sin => Sin(x),
        Function.Cos => Cos(x),
        Function.Tanh => Tanh(x),
        Function.Sigmoid => Sigmoid(x),
        Function.Softplus => Softplus(x),
        Function.Relu => Relu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(f), f, UserCode.Mark($"No element-wise kernel for {f}.")),
    };

    private static void At<V, L>(Function f, ReadOnlySpan<double> x, Span<double> y)
        where V : struct
        where L : struct, ILanes<V>
    {
        switch (f)
        {
            case Function.Exp: SimdMath<V, L>.Map<ExpKernel>(x, y); break;
            case Function.Log: SimdMath<V, L>.Map<LogKernel>(x, y); break;
            case Function.Log1p: SimdMath<V, L>.Map<Log1pKernel>(x, y); break;
            case Function.Sin: SimdMath<V, L>.Map<SinKernel>(x, y); break;
            case Function.Cos: SimdMath<V, L>.Map<CosKernel>(x, y); break;
            case Function.Tanh: SimdMath<V, L>.Map<TanhKernel>(x, y); break;
            case Function.Sigmoid: SimdMath<V, L>.Map<SigmoidKernel>(x, y); break;
            case Function.Softplus: SimdMath<V, L>.Map<SoftplusKernel>(x, y); break;
            case Function.Relu: SimdMath<V, L>.Map<ReluKernel>(x, y); break;
            default: throw new ArgumentOutOfRangeException(nameof(f), f, UserCode.Mark($"No element-wise kernel for {f}."));
        }
    }

    private readonly struct ExpKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Exp(x);
    }

    private readonly struct LogKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Log(x);
    }

    private readonly struct Log1pKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Log1p(x);
    }

    private readonly struct SinKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Sin(x);
        public static double FallbackAbove => SimdMath.TrigReductionLimit;
        public static double Fallback(double x) => Math.Sin(x);
    }

    private readonly struct CosKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Cos(x);
        public static double FallbackAbove => SimdMath.TrigReductionLimit;
        public static double Fallback(double x) => Math.Cos(x);
    }

    private readonly struct TanhKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Tanh(x);
    }

    private readonly struct SigmoidKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Sigmoid(x);
    }

    private readonly struct SoftplusKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Softplus(x);
    }

    private readonly struct ReluKernel : IUnaryKernel
    {
        public static V Run<V, L>(V x)
            where V : struct
            where L : struct, ILanes<V> => SimdMath<V, L>.Relu(x);
    }
}

/// <summary>Constants shared by every width.</summary>
internal static class SimdMath
{
    /// <summary>sin and cos reduce |x| ≤ 2^20 with a 3-part π/2 in double-double; beyond, elements use Math.Sin/Math.Cos.</summary>
    public const double TrigReductionLimit = 1048576.0;
}

/// <summary>
/// The kernels, written once for every width V (with its primitives L). Every function here is lane-wise: see the
/// file comment for why each lane's bits depend on that lane's input only.
/// </summary>
internal static class SimdMath<V, L>
    where V : struct
    where L : struct, ILanes<V>
{
    /// <summary>y = f(x) for the kernel K; x and y may be the same span.</summary>
    public static void Map<K>(ReadOnlySpan<double> x, Span<double> y) where K : struct, IUnaryKernel
    {
        if (y.Length != x.Length) throw new ArgumentException(UserCode.Mark("The spans differ in length."), nameof(y));
        var n = x.Length;
        var w = L.Count;
        ref readonly var xs = ref MemoryMarshal.GetReference(x);
        ref var ys = ref MemoryMarshal.GetReference(y);
        var k = 0;
        for (; k <= n - w; k += w) L.Store(Run<K>(L.Load(in xs, (nuint)k)), ref ys, (nuint)k);
        if (k == n) return;

        // The tail, shorter than a vector: the same vector code on a zero-padded copy, so an element's bits never
        // depend on where it sits.
        Span<double> pad = stackalloc double[8];
        pad.Clear();
        x[k..].CopyTo(pad);
        L.Store(Run<K>(L.Load(in pad[0], 0)), ref pad[0], 0);
        pad[..(n - k)].CopyTo(y[k..]);
    }

    /// <summary>f at one number, in lane 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double One<K>(double x) where K : struct, IUnaryKernel =>
        Math.Abs(x) > K.FallbackAbove ? K.Fallback(x) : L.First(K.Run<V, L>(L.Splat(x)));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V Run<K>(V x) where K : struct, IUnaryKernel
    {
        var y = K.Run<V, L>(x);
        if (K.FallbackAbove < double.PositiveInfinity && L.Any(L.Less(L.Splat(K.FallbackAbove), Abs(x))))
            y = Patch<K>(x, y);
        return y;
    }

    /// <summary>Replaces the lanes with |x| above the kernel's limit by its scalar fallback (each from its own input).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static V Patch<K>(V x, V y) where K : struct, IUnaryKernel
    {
        Span<double> xs = stackalloc double[8], ys = stackalloc double[8];
        L.Store(x, ref xs[0], 0);
        L.Store(y, ref ys[0], 0);
        for (var j = 0; j < L.Count; j++)
            if (Math.Abs(xs[j]) > K.FallbackAbove) ys[j] = K.Fallback(xs[j]);
        return L.Load(in ys[0], 0);
    }

    // ------------------------------------------------------------------ helpers

    private const double Shifter = 6755399441055744.0; // 1.5·2^52: x + Shifter rounds x to an integer held in the low bits
    private const long SignBit = long.MinValue;

    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V C(double c) => L.Splat(c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Bits(long b) => L.Splat(BitConverter.Int64BitsToDouble(b));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Add(V a, V b) => L.Add(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Sub(V a, V b) => L.Sub(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Mul(V a, V b) => L.Mul(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Div(V a, V b) => L.Div(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Fma(V a, V b, V c) => L.Fma(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Select(V mask, V a, V b) => L.Select(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Abs(V x) => L.AndNot(x, Bits(SignBit));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] private static V Neg(V x) => L.Xor(x, Bits(SignBit));

    /// <summary>2^j for t = j + Shifter, j an integer in [−1022, 1023]: j's low bits moved into the exponent field.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V Pow2(V t) => L.AddBits(L.ShiftLeft(t, 52), Bits(1023L << 52));

    // ------------------------------------------------------------------ exp

    private const double Log2E = 1.4426950408889634;
    private const double Ln2Hi = 0.6931471805599453;     // ln 2 rounded; the FMA subtracts k·Ln2Hi exactly
    private const double Ln2Lo = 2.3190468138462996e-17; // ln 2 − Ln2Hi

    /// <summary>eˣ.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Exp(V x)
    {
        // Beyond [−746, 710] eˣ is +0 or +∞ in double; clamping keeps k where the scaling below works. NaN passes.
        x = Select(L.Less(C(710), x), C(710), x);
        x = Select(L.Less(x, C(-746)), C(-746), x);

        // x = k·ln2 + r, |r| ≤ ln2/2. The first FMA is exact (x − k·Ln2Hi is a multiple of ulp(k·Ln2Hi) below 1).
        var t = Fma(x, C(Log2E), C(Shifter));
        var k = Sub(t, C(Shifter));
        var r = Fma(k, C(-Ln2Hi), x);
        r = Fma(k, C(-Ln2Lo), r);

        // eʳ = 1 + r + r²·P(r), P of degree 10 in Estrin's scheme (4 FMAs deep instead of 10: a scalar waits less).
        var r2 = Mul(r, r);
        var r4 = Mul(r2, r2);
        var p01 = Fma(C(0.1666666666666667), r, C(0.5));
        var p23 = Fma(C(0.008333333333326136), r, C(0.04166666666666667));
        var p45 = Fma(C(0.00019841269874820627), r, C(0.0013888888888883748));
        var p67 = Fma(C(2.7557255400206422e-06), r, C(2.4801587325547743e-05));
        var p89 = Fma(C(2.5105217004720745e-08), r, C(2.75572736431103e-07));
        var p03 = Fma(p23, r2, p01);
        var p47 = Fma(p67, r2, p45);
        var p8t = Fma(C(2.0914686968086876e-09), r2, p89);
        var p = Fma(p8t, Mul(r4, r4), Fma(p47, r4, p03));
        var er = Add(Fma(r2, p, r), C(1));

        // 2^k as 2^k1 · 2^k2 with k1 = round(k/2): both factors are normal numbers, the first product is exact, and a
        // result in the subnormal range is rounded once, by the second.
        var t1 = Fma(k, C(0.5), C(Shifter));
        var t2 = Add(Sub(k, Sub(t1, C(Shifter))), C(Shifter));
        return Mul(Mul(er, Pow2(t1)), Pow2(t2));
    }

    // ------------------------------------------------------------------ log

    // fdlibm's split of ln 2 (Ln2HiF has trailing zeros, so k·Ln2HiF is exact) and its polynomial in s² for
    // ln(1 + f) = 2s + 2s³/3 + …, s = f/(2 + f).
    private const double Ln2HiF = 6.93147180369123816490e-01;
    private const double Ln2LoF = 1.90821492927058770002e-10;
    private const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01, Lg3 = 2.857142874366239149e-01,
        Lg4 = 2.222219843214978396e-01, Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
        Lg7 = 1.479819860511658591e-01;

    /// <summary>ln x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Log(V x) => LogSpecials(x, LogCore(x, default));

    /// <summary>ln(1 + x), accurate for small x: ln w + c/w with w = 1 + x rounded and c = (1 + x) − w exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Log1p(V x)
    {
        var w = Add(C(1), x);
        // The rounding error of 1 + x (Fast2Sum, the larger operand first).
        var c = Select(L.Less(C(1), Abs(x)), Add(Sub(x, w), C(1)), Add(Sub(C(1), w), x));
        var y = LogSpecials(w, LogCore(w, Div(c, w)));
        // Tiny x (and ±0, subnormals): ln(1 + x) rounds to x.
        return Select(L.Less(Abs(x), C(5.551115123125783e-17)), x, y);
    }

    /// <summary>ln x + c for positive finite x and a small correction c (LogSpecials fixes up the other x).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V LogCore(V x, V c)
    {
        // Subnormals: scale by 2^54 into the normal range first.
        var sub = L.Less(x, C(2.2250738585072014e-308));
        x = Select(sub, Mul(x, C(18014398509481984.0)), x);

        // x = 2^k · m with m in [√2/2, √2): adding 0x95f62 to the high word carries into the exponent when m ≥ √2.
        var bits = L.AddBits(x, Bits(0x95f62L << 32));
        var e = L.Or(L.ShiftRightLogical(bits, 52), Bits(0x4330000000000000L)); // 2^52 + biased exponent
        var k = Sub(Sub(e, C(4503599627371519.0)), L.And(sub, C(54)));         // 4503599627371519 = 2^52 + 1023
        var m = L.AddBits(L.And(bits, Bits(0x000fffffffffffffL)), Bits(0x3fe6a09eL << 32));

        var f = Sub(m, C(1));
        var hfsq = Mul(Mul(C(0.5), f), f);
        var s = Div(f, Add(C(2), f));
        var z = Mul(s, s);
        var w = Mul(z, z);
        var t1 = Mul(w, Fma(w, Fma(w, C(Lg6), C(Lg4)), C(Lg2)));
        var t2 = Mul(z, Fma(w, Fma(w, Fma(w, C(Lg7), C(Lg5)), C(Lg3)), C(Lg1)));
        var r = Add(t2, t1);
        // k·ln2_hi − ((hfsq − (s·(hfsq + R) + (k·ln2_lo + c))) − f)
        var tail = Add(Mul(s, Add(hfsq, r)), Add(Mul(k, C(Ln2LoF)), c));
        return Sub(Mul(k, C(Ln2HiF)), Sub(Sub(hfsq, tail), f));
    }

    /// <summary>ln at the inputs LogCore does not handle: +∞ → +∞, ±0 → −∞, negative or NaN → NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V LogSpecials(V x, V y)
    {
        y = Select(L.Equal(x, C(double.PositiveInfinity)), x, y);
        y = Select(L.Equal(x, C(0)), C(double.NegativeInfinity), y);
        return Select(L.LessOrEqual(C(0), x), y, C(double.NaN));
    }

    // ------------------------------------------------------------------ sin, cos

    private const double TwoOverPi = 0.6366197723675814;
    private const double PiOver2A = 1.5707963267948966; // π/2 = A + B + C to about 160 bits
    private const double PiOver2B = 6.123233995736766e-17;
    private const double PiOver2C = -1.4973849048591698e-33;

    /// <summary>sin x (|x| ≤ 2^20; the span driver computes larger |x| with Math.Sin).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Sin(V x)
    {
        var (r, rr, t) = Reduce(x);
        var y = SinOrCos(r, rr, t);
        // Tiny |x| (and ±0, subnormals): sin x rounds to x.
        return Select(L.Less(Abs(x), C(1.4901161193847656e-08)), x, y);
    }

    /// <summary>cos x (|x| ≤ 2^20; the span driver computes larger |x| with Math.Cos).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Cos(V x)
    {
        var (r, rr, t) = Reduce(x);
        return SinOrCos(r, rr, L.AddBits(t, Bits(1))); // cos x = sin(x + π/2): one quadrant on
    }

    /// <summary>x = n·π/2 + (r + rr), |r| ≲ π/4, in double-double; t holds n in its low bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (V R, V Rr, V T) Reduce(V x)
    {
        var t = Fma(x, C(TwoOverPi), C(Shifter));
        var n = Sub(t, C(Shifter));
        // Exact: x − n·A is a multiple of 2^-52 smaller than 2 (or Sterbenz applies when |n| = 1).
        var r1 = Fma(n, C(-PiOver2A), x);
        // r1 − n·B keeping every rounding error: n·B = pb + pbLo exactly, then Knuth's TwoSum of r1 and −pb.
        var pb = Mul(n, C(PiOver2B));
        var pbLo = Fma(n, C(PiOver2B), Neg(pb));
        var hi = Sub(r1, pb);
        var bb = Sub(hi, r1);
        var err = Add(Sub(r1, Sub(hi, bb)), Sub(Neg(pb), bb));
        var lo = Fma(n, C(-PiOver2C), Sub(err, pbLo));
        var r = Add(hi, lo);
        return (r, Add(Sub(hi, r), lo), t);
    }

    /// <summary>sin(r + rr) or cos(r + rr), with its sign, for the quadrant in t's low two bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static V SinOrCos(V r, V rr, V t)
    {
        var z = Mul(r, r);
        var w = Mul(z, z);

        // fdlibm's __kernel_sin(r, rr): r − ((z·(rr/2 − v·R) − rr) − v·S1), v = z·r.
        var sr = Add(Fma(z, Fma(z, C(2.75573137070700676789e-06), C(-1.98412698298579493134e-04)), C(8.33333333332248946124e-03)),
            Mul(Mul(z, w), Fma(z, C(1.58969099521155010221e-10), C(-2.50507602534068634195e-08))));
        var v = Mul(z, r);
        var sin = Sub(r, Sub(Sub(Mul(z, Sub(Mul(C(0.5), rr), Mul(v, sr))), rr), Mul(v, C(-1.66666666666666324348e-01))));

        // fdlibm's __kernel_cos(r, rr): c1 + (((1 − c1) − z/2) + (z·R − r·rr)), c1 = 1 − z/2.
        var cr = Add(Mul(z, Fma(z, Fma(z, C(2.48015872894767294178e-05), C(-1.38888888888741095749e-03)), C(4.16666666666666019037e-02))),
            Mul(Mul(w, w), Fma(z, Fma(z, C(-1.13596475577881948265e-11), C(2.08757232129817482790e-09)), C(-2.75573143513906633035e-07))));
        var hz = Mul(C(0.5), z);
        var c1 = Sub(C(1), hz);
        var cos = Add(c1, Add(Sub(Sub(C(1), c1), hz), Sub(Mul(z, cr), Mul(r, rr))));

        var odd = L.EqualBits(L.And(t, Bits(1)), Bits(1));
        var y = Select(odd, cos, sin);
        return L.Xor(y, L.ShiftLeft(L.And(t, Bits(2)), 62)); // negative in quadrants 2 and 3
    }

    // ------------------------------------------------------------------ tanh

    /// <summary>tanh x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Tanh(V x)
    {
        var a = Abs(x);
        var small = L.Less(a, C(0.55));
        V near = default, far = default;
        if (L.Any(small))
        {
            // tanh a = a + a³·Q(a²), Q of degree 10 in Estrin's scheme: no cancellation, so accurate to the last bit near 0.
            var s = Mul(a, a);
            var s2 = Mul(s, s);
            var s4 = Mul(s2, s2);
            var q01 = Fma(C(0.13333333333332714), s, C(-0.3333333333333333));
            var q23 = Fma(C(0.021869488493666944), s, C(-0.053968253967434016));
            var q45 = Fma(C(0.003592110378689024), s, C(-0.008863234397814355));
            var q67 = Fma(C(0.0005889360520074057), s, C(-0.001455661830100716));
            var q89 = Fma(C(8.511313685577671e-05), s, C(-0.0002346347410887237));
            var q03 = Fma(q23, s2, q01);
            var q47 = Fma(q67, s2, q45);
            var q8t = Fma(C(-2.060276537636634e-05), s2, q89);
            var q = Fma(q8t, Mul(s4, s4), Fma(q47, s4, q03));
            near = Fma(Mul(a, s), q, a);
        }
        if (!L.All(small))
        {
            // tanh a = 1 − 2/(e^{2a} + 1), NaN for NaN. The quotient gets one Newton step on
            // the exact denominator (e + 1 = d + dLo, Fast2Sum as e ≥ 1), so only exp's own error is left in it.
            // From a = 20 on tanh a rounds to 1; clamping there keeps e + 1 finite.
            var ac = Select(L.Less(C(20), a), C(20), a);
            var e = Exp(Add(ac, ac));
            var d = Add(e, C(1));
            var dLo = Sub(C(1), Sub(d, e));
            var q = Div(C(2), d);
            var residual = Sub(Fma(Neg(q), d, C(2)), Mul(q, dLo)); // 2 − q·(d + dLo)
            far = Sub(C(1), Fma(residual, Mul(q, C(0.5)), q));
        }
        return L.Or(Select(small, near, far), L.And(x, Bits(SignBit)));
    }

    // ------------------------------------------------------------------ sigmoid, softplus

    /// <summary>σ(x) = 1/(1 + e⁻ˣ) for x ≥ 0 and eˣ/(1 + eˣ) below, so e never overflows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Sigmoid(V x)
    {
        var e = Exp(Neg(Abs(x)));
        return Div(Select(L.LessOrEqual(C(0), x), C(1), e), Add(C(1), e));
    }

    /// <summary>
    /// max(x, 0) as Math.Max computes it: +0 for x ≤ 0 (−0 included), and x itself otherwise, a NaN unchanged (a
    /// signalling NaN is not quieted, as arithmetic such as TensorPrimitives.Max would).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Relu(V x) => Select(L.LessOrEqual(x, default), default, x);

    /// <summary>ln(1 + eˣ) = max(x, 0) + ln(1 + e^−|x|), stable for large |x|.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static V Softplus(V x) => Add(Select(L.Less(C(0), x), x, default), Log1p(Exp(Neg(Abs(x)))));
}
