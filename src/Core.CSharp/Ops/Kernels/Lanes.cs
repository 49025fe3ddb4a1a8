using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Functional.Autodiff;

// The few lane-wise primitives the element-wise kernels are written with, for each vector width. Every member is
// either one correctly rounded IEEE 754 operation applied to each lane (Add, Sub, Mul, Div, Fma) or an
// exact operation on each lane's bits (compare, select, shift, integer add). So a kernel written with them computes,
// in every lane, the same function of that lane's input alone, at every width: the bits of a result never depend
// on the neighbours, the position or the width. Nothing here may be an estimate (no MultiplyAddEstimate,
// reciprocal estimates, or *Native conversions) and nothing may reduce across lanes except Any/All, which the
// kernels only use to skip work no lane needs.

/// <summary>Lane-wise primitives over a vector of doubles V (see the file comment for the rule they obey).</summary>
internal interface ILanes<V> where V : struct
{
    /// <summary>The number of lanes.</summary>
    static abstract int Count { get; }

    /// <summary>Every lane x.</summary>
    static abstract V Splat(double x);

    /// <summary>Count elements starting at element <paramref name="at"/> of the storage that starts at <paramref name="x"/> (the caller checks the bounds).</summary>
    static abstract V Load(ref readonly double x, nuint at);

    /// <summary>Lane 0.</summary>
    static abstract double First(V v);

    /// <summary>Writes the lanes to Count elements starting at element <paramref name="at"/> (the caller checks the bounds).</summary>
    static abstract void Store(V v, ref double y, nuint at);

    /// <summary>a + b per lane.</summary>
    static abstract V Add(V a, V b);

    /// <summary>a − b per lane.</summary>
    static abstract V Sub(V a, V b);

    /// <summary>a · b per lane.</summary>
    static abstract V Mul(V a, V b);

    /// <summary>a / b per lane.</summary>
    static abstract V Div(V a, V b);

    /// <summary>The bits of a and b per lane.</summary>
    static abstract V And(V a, V b);

    /// <summary>The bits of a or b per lane.</summary>
    static abstract V Or(V a, V b);

    /// <summary>The bits of a xor b per lane.</summary>
    static abstract V Xor(V a, V b);

    /// <summary>The bits of a and not b per lane.</summary>
    static abstract V AndNot(V a, V b);

    /// <summary>a·b + c rounded once (a true fused multiply-add in every lane, in hardware or in software).</summary>
    static abstract V Fma(V a, V b, V c);

    /// <summary>All bits set in the lanes where a &lt; b, else zero (false for NaN).</summary>
    static abstract V Less(V a, V b);

    /// <summary>All bits set in the lanes where a ≤ b, else zero (false for NaN).</summary>
    static abstract V LessOrEqual(V a, V b);

    /// <summary>All bits set in the lanes where a = b as numbers, else zero (false for NaN, true for 0 = −0).</summary>
    static abstract V Equal(V a, V b);

    /// <summary>All bits set in the lanes whose bit patterns are equal, else zero.</summary>
    static abstract V EqualBits(V a, V b);

    /// <summary>Per lane: a where the mask's bits are set, b where they are clear.</summary>
    static abstract V Select(V mask, V a, V b);

    /// <summary>True when any lane of the mask (all bits set or clear) is set.</summary>
    static abstract bool Any(V mask);

    /// <summary>True when every lane of the mask (all bits set or clear) is set.</summary>
    static abstract bool All(V mask);

    /// <summary>Each lane's 64 bits shifted left by n.</summary>
    static abstract V ShiftLeft(V v, int n);

    /// <summary>Each lane's 64 bits shifted right by n, filling with zeros.</summary>
    static abstract V ShiftRightLogical(V v, int n);

    /// <summary>The lanes' bit patterns added as 64-bit integers (wrapping).</summary>
    static abstract V AddBits(V a, V b);
}

/// <summary>512-bit vectors: 8 lanes.</summary>
internal readonly struct Lanes512 : ILanes<Vector512<double>>
{
    public static int Count => Vector512<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Splat(double x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Load(ref readonly double x, nuint at) => Vector512.LoadUnsafe(in x, at);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double First(Vector512<double> v) => v.ToScalar();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector512<double> v, ref double y, nuint at) => v.StoreUnsafe(ref y, at);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Add(Vector512<double> a, Vector512<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Sub(Vector512<double> a, Vector512<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Mul(Vector512<double> a, Vector512<double> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Div(Vector512<double> a, Vector512<double> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> And(Vector512<double> a, Vector512<double> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Or(Vector512<double> a, Vector512<double> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Xor(Vector512<double> a, Vector512<double> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AndNot(Vector512<double> a, Vector512<double> b) => Vector512.AndNot(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Fma(Vector512<double> a, Vector512<double> b, Vector512<double> c) => Vector512.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Less(Vector512<double> a, Vector512<double> b) => Vector512.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> LessOrEqual(Vector512<double> a, Vector512<double> b) => Vector512.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Equal(Vector512<double> a, Vector512<double> b) => Vector512.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> EqualBits(Vector512<double> a, Vector512<double> b) => Vector512.Equals(a.AsInt64(), b.AsInt64()).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> Select(Vector512<double> mask, Vector512<double> a, Vector512<double> b) => Vector512.ConditionalSelect(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(Vector512<double> mask) => Vector512.ExtractMostSignificantBits(mask) != 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All(Vector512<double> mask) => Vector512.ExtractMostSignificantBits(mask) == 0xFF;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ShiftLeft(Vector512<double> v, int n) => Vector512.ShiftLeft(v.AsInt64(), n).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> ShiftRightLogical(Vector512<double> v, int n) => Vector512.ShiftRightLogical(v.AsUInt64(), n).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<double> AddBits(Vector512<double> a, Vector512<double> b) => (a.AsInt64() + b.AsInt64()).AsDouble();
}

/// <summary>256-bit vectors: 4 lanes.</summary>
internal readonly struct Lanes256 : ILanes<Vector256<double>>
{
    public static int Count => Vector256<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Splat(double x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Load(ref readonly double x, nuint at) => Vector256.LoadUnsafe(in x, at);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double First(Vector256<double> v) => v.ToScalar();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector256<double> v, ref double y, nuint at) => v.StoreUnsafe(ref y, at);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Add(Vector256<double> a, Vector256<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Sub(Vector256<double> a, Vector256<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Mul(Vector256<double> a, Vector256<double> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Div(Vector256<double> a, Vector256<double> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> And(Vector256<double> a, Vector256<double> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Or(Vector256<double> a, Vector256<double> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Xor(Vector256<double> a, Vector256<double> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AndNot(Vector256<double> a, Vector256<double> b) => Vector256.AndNot(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Fma(Vector256<double> a, Vector256<double> b, Vector256<double> c) => Vector256.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Less(Vector256<double> a, Vector256<double> b) => Vector256.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> LessOrEqual(Vector256<double> a, Vector256<double> b) => Vector256.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Equal(Vector256<double> a, Vector256<double> b) => Vector256.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> EqualBits(Vector256<double> a, Vector256<double> b) => Vector256.Equals(a.AsInt64(), b.AsInt64()).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> Select(Vector256<double> mask, Vector256<double> a, Vector256<double> b) => Vector256.ConditionalSelect(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(Vector256<double> mask) => Vector256.ExtractMostSignificantBits(mask) != 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All(Vector256<double> mask) => Vector256.ExtractMostSignificantBits(mask) == 0xF;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ShiftLeft(Vector256<double> v, int n) => Vector256.ShiftLeft(v.AsInt64(), n).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> ShiftRightLogical(Vector256<double> v, int n) => Vector256.ShiftRightLogical(v.AsUInt64(), n).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<double> AddBits(Vector256<double> a, Vector256<double> b) => (a.AsInt64() + b.AsInt64()).AsDouble();
}

/// <summary>128-bit vectors: 2 lanes. Also the fallback where no SIMD is accelerated: the runtime then emulates each
/// operation lane by lane with the same IEEE semantics (its software FusedMultiplyAdd is Math.FusedMultiplyAdd).</summary>
internal readonly struct Lanes128 : ILanes<Vector128<double>>
{
    public static int Count => Vector128<double>.Count;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Splat(double x) => Vector128.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Load(ref readonly double x, nuint at) => Vector128.LoadUnsafe(in x, at);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static double First(Vector128<double> v) => v.ToScalar();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(Vector128<double> v, ref double y, nuint at) => v.StoreUnsafe(ref y, at);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Add(Vector128<double> a, Vector128<double> b) => a + b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Sub(Vector128<double> a, Vector128<double> b) => a - b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Mul(Vector128<double> a, Vector128<double> b) => a * b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Div(Vector128<double> a, Vector128<double> b) => a / b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> And(Vector128<double> a, Vector128<double> b) => a & b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Or(Vector128<double> a, Vector128<double> b) => a | b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Xor(Vector128<double> a, Vector128<double> b) => a ^ b;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> AndNot(Vector128<double> a, Vector128<double> b) => Vector128.AndNot(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Fma(Vector128<double> a, Vector128<double> b, Vector128<double> c) => Vector128.FusedMultiplyAdd(a, b, c);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Less(Vector128<double> a, Vector128<double> b) => Vector128.LessThan(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> LessOrEqual(Vector128<double> a, Vector128<double> b) => Vector128.LessThanOrEqual(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Equal(Vector128<double> a, Vector128<double> b) => Vector128.Equals(a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> EqualBits(Vector128<double> a, Vector128<double> b) => Vector128.Equals(a.AsInt64(), b.AsInt64()).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> Select(Vector128<double> mask, Vector128<double> a, Vector128<double> b) => Vector128.ConditionalSelect(mask, a, b);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Any(Vector128<double> mask) => Vector128.ExtractMostSignificantBits(mask) != 0;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool All(Vector128<double> mask) => Vector128.ExtractMostSignificantBits(mask) == 0x3;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> ShiftLeft(Vector128<double> v, int n) => Vector128.ShiftLeft(v.AsInt64(), n).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> ShiftRightLogical(Vector128<double> v, int n) => Vector128.ShiftRightLogical(v.AsUInt64(), n).AsDouble();
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<double> AddBits(Vector128<double> a, Vector128<double> b) => (a.AsInt64() + b.AsInt64()).AsDouble();
}
