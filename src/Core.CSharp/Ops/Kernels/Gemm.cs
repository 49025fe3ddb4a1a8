using System;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Threading.Tasks;

namespace Functional.Autodiff;

// The matrix product C = op(A)·op(B) on column-major storage, op being the identity or the transpose: the GEMM of
// Goto and van de Geijn, laid out as BLIS does it.
//
//   for jc over the columns of C, NC at a time        B block, KC×NC, packed into NR-column micro-panels
//     for pc over the inner dimension, KC at a time   (the packing reads B or Bᵀ: the transpose costs nothing)
//       for ic over the rows of C, MC at a time       A block, MC×KC, packed into MR-row micro-panels (kept in L2)
//         for jr, ir over the micro-panels            the micro-kernel: an MR×NR block of C in registers,
//                                                    KC rank-1 updates, one B micro-panel reused from L1
//
// Edges are padded with zeros in the packed panels, so the same micro-kernel runs everywhere, except that a last
// panel of rows that needs only one or two of its three vectors runs on the kernel's one- or two-vector form (the
// same packed layout); a partial block of C goes through a small tile on the stack. Nothing else special-cases a size.
//
// The bits: every element of C is the chain c ← fma(a_ip, b_pj, c) over p = 0, 1, …, k−1 in that order, from c = 0
// (a K block resumes from the c the previous one stored). That is the same arithmetic whatever the blocking, the
// vector width, the micro-kernel's shape, the split over threads or the position of the element, so the result is a
// function of A and B alone: one thread and two give the same bits, and Multiply's scalar reference (ReferenceInto)
// gives them too. Work is split over threads by columns (or rows) of C, never over k.

/// <summary>A register-blocked micro-kernel: C[0..MR, 0..NR] (= or +=) Ã panel · B̃ panel over kc.</summary>
internal interface IMicroKernel
{
    /// <summary>Rows of the block of C (a multiple of the vector width).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of the block of C.</summary>
    static abstract int NR { get; }

    /// <summary>
    /// The block at <paramref name="c"/> (column stride <paramref name="ldc"/>) becomes Σ_p ã_p b̃_pᵀ over kc
    /// (added to what it holds when <paramref name="accumulate"/>, each element by one fma per p, p in order).
    /// </summary>
    static abstract void Run(nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate);

    /// <summary>
    /// <see cref="Run"/> on the first <paramref name="vectors"/> vectors of rows only (1 or 2 of the 3), for the last
    /// micro-panel of A when it holds at most that many rows: the same packed layout (stride MR), no work on padding.
    /// </summary>
    static abstract void RunRows(int vectors, nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate);
}

/// <summary>3 vectors × 8 columns (24×8 doubles at 512 bits): 24 accumulators of 32 registers.</summary>
internal readonly struct Kernel3x8<V, L> : IMicroKernel
    where V : struct
    where L : struct, ILanes<V>
{
    public static int MR => 3 * L.Count;
    public static int NR => 8;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate)
    {
        nuint w = (nuint)L.Count, w2 = 2 * w;
        nint mr = 3 * L.Count;
        V c00, c10, c20, c01, c11, c21, c02, c12, c22, c03, c13, c23, c04, c14, c24, c05, c15, c25, c06, c16, c26, c07, c17, c27;
        if (accumulate)
        {
            ref var k0 = ref c; ref var k1 = ref Unsafe.Add(ref c, ldc); ref var k2 = ref Unsafe.Add(ref c, 2 * ldc); ref var k3 = ref Unsafe.Add(ref c, 3 * ldc);
            ref var k4 = ref Unsafe.Add(ref c, 4 * ldc); ref var k5 = ref Unsafe.Add(ref c, 5 * ldc); ref var k6 = ref Unsafe.Add(ref c, 6 * ldc); ref var k7 = ref Unsafe.Add(ref c, 7 * ldc);
            c00 = L.Load(in k0, 0); c10 = L.Load(in k0, w); c20 = L.Load(in k0, w2);
            c01 = L.Load(in k1, 0); c11 = L.Load(in k1, w); c21 = L.Load(in k1, w2);
            c02 = L.Load(in k2, 0); c12 = L.Load(in k2, w); c22 = L.Load(in k2, w2);
            c03 = L.Load(in k3, 0); c13 = L.Load(in k3, w); c23 = L.Load(in k3, w2);
            c04 = L.Load(in k4, 0); c14 = L.Load(in k4, w); c24 = L.Load(in k4, w2);
            c05 = L.Load(in k5, 0); c15 = L.Load(in k5, w); c25 = L.Load(in k5, w2);
            c06 = L.Load(in k6, 0); c16 = L.Load(in k6, w); c26 = L.Load(in k6, w2);
            c07 = L.Load(in k7, 0); c17 = L.Load(in k7, w); c27 = L.Load(in k7, w2);
        }
        else
        {
            c00 = c10 = c20 = c01 = c11 = c21 = c02 = c12 = c22 = c03 = c13 = c23 = L.Splat(0);
            c04 = c14 = c24 = c05 = c15 = c25 = c06 = c16 = c26 = c07 = c17 = c27 = L.Splat(0);
        }
        for (nint p = 0; p < kc; p++)
        {
            V a0 = L.Load(in a, 0), a1 = L.Load(in a, w), a2 = L.Load(in a, w2), bj;
            bj = L.Splat(b); c00 = L.Fma(a0, bj, c00); c10 = L.Fma(a1, bj, c10); c20 = L.Fma(a2, bj, c20);
            bj = L.Splat(Unsafe.Add(ref b, 1)); c01 = L.Fma(a0, bj, c01); c11 = L.Fma(a1, bj, c11); c21 = L.Fma(a2, bj, c21);
            bj = L.Splat(Unsafe.Add(ref b, 2)); c02 = L.Fma(a0, bj, c02); c12 = L.Fma(a1, bj, c12); c22 = L.Fma(a2, bj, c22);
            bj = L.Splat(Unsafe.Add(ref b, 3)); c03 = L.Fma(a0, bj, c03); c13 = L.Fma(a1, bj, c13); c23 = L.Fma(a2, bj, c23);
            bj = L.Splat(Unsafe.Add(ref b, 4)); c04 = L.Fma(a0, bj, c04); c14 = L.Fma(a1, bj, c14); c24 = L.Fma(a2, bj, c24);
            bj = L.Splat(Unsafe.Add(ref b, 5)); c05 = L.Fma(a0, bj, c05); c15 = L.Fma(a1, bj, c15); c25 = L.Fma(a2, bj, c25);
            bj = L.Splat(Unsafe.Add(ref b, 6)); c06 = L.Fma(a0, bj, c06); c16 = L.Fma(a1, bj, c16); c26 = L.Fma(a2, bj, c26);
            bj = L.Splat(Unsafe.Add(ref b, 7)); c07 = L.Fma(a0, bj, c07); c17 = L.Fma(a1, bj, c17); c27 = L.Fma(a2, bj, c27);
            a = ref Unsafe.Add(ref a, mr);
            b = ref Unsafe.Add(ref b, 8);
        }
        {
            ref var k0 = ref c; ref var k1 = ref Unsafe.Add(ref c, ldc); ref var k2 = ref Unsafe.Add(ref c, 2 * ldc); ref var k3 = ref Unsafe.Add(ref c, 3 * ldc);
            ref var k4 = ref Unsafe.Add(ref c, 4 * ldc); ref var k5 = ref Unsafe.Add(ref c, 5 * ldc); ref var k6 = ref Unsafe.Add(ref c, 6 * ldc); ref var k7 = ref Unsafe.Add(ref c, 7 * ldc);
            L.Store(c00, ref k0, 0); L.Store(c10, ref k0, w); L.Store(c20, ref k0, w2);
            L.Store(c01, ref k1, 0); L.Store(c11, ref k1, w); L.Store(c21, ref k1, w2);
            L.Store(c02, ref k2, 0); L.Store(c12, ref k2, w); L.Store(c22, ref k2, w2);
            L.Store(c03, ref k3, 0); L.Store(c13, ref k3, w); L.Store(c23, ref k3, w2);
            L.Store(c04, ref k4, 0); L.Store(c14, ref k4, w); L.Store(c24, ref k4, w2);
            L.Store(c05, ref k5, 0); L.Store(c15, ref k5, w); L.Store(c25, ref k5, w2);
            L.Store(c06, ref k6, 0); L.Store(c16, ref k6, w); L.Store(c26, ref k6, w2);
            L.Store(c07, ref k7, 0); L.Store(c17, ref k7, w); L.Store(c27, ref k7, w2);
        }
    }

    public static void RunRows(int vectors, nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate)
    {
        if (vectors == 2) Run2(kc, ref a, ref b, ref c, ldc, accumulate);
        else Run1(kc, ref a, ref b, ref c, ldc, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run2(nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate)
    {
        nuint w = (nuint)L.Count;
        nint mr = 3 * L.Count;
        V c00, c10, c01, c11, c02, c12, c03, c13, c04, c14, c05, c15, c06, c16, c07, c17;
        ref var k0 = ref c; ref var k1 = ref Unsafe.Add(ref c, ldc); ref var k2 = ref Unsafe.Add(ref c, 2 * ldc); ref var k3 = ref Unsafe.Add(ref c, 3 * ldc);
        ref var k4 = ref Unsafe.Add(ref c, 4 * ldc); ref var k5 = ref Unsafe.Add(ref c, 5 * ldc); ref var k6 = ref Unsafe.Add(ref c, 6 * ldc); ref var k7 = ref Unsafe.Add(ref c, 7 * ldc);
        if (accumulate)
        {
            c00 = L.Load(in k0, 0); c10 = L.Load(in k0, w); c01 = L.Load(in k1, 0); c11 = L.Load(in k1, w);
            c02 = L.Load(in k2, 0); c12 = L.Load(in k2, w); c03 = L.Load(in k3, 0); c13 = L.Load(in k3, w);
            c04 = L.Load(in k4, 0); c14 = L.Load(in k4, w); c05 = L.Load(in k5, 0); c15 = L.Load(in k5, w);
            c06 = L.Load(in k6, 0); c16 = L.Load(in k6, w); c07 = L.Load(in k7, 0); c17 = L.Load(in k7, w);
        }
        else c00 = c10 = c01 = c11 = c02 = c12 = c03 = c13 = c04 = c14 = c05 = c15 = c06 = c16 = c07 = c17 = L.Splat(0);
        for (nint p = 0; p < kc; p++)
        {
            V a0 = L.Load(in a, 0), a1 = L.Load(in a, w), bj;
            bj = L.Splat(b); c00 = L.Fma(a0, bj, c00); c10 = L.Fma(a1, bj, c10);
            bj = L.Splat(Unsafe.Add(ref b, 1)); c01 = L.Fma(a0, bj, c01); c11 = L.Fma(a1, bj, c11);
            bj = L.Splat(Unsafe.Add(ref b, 2)); c02 = L.Fma(a0, bj, c02); c12 = L.Fma(a1, bj, c12);
            bj = L.Splat(Unsafe.Add(ref b, 3)); c03 = L.Fma(a0, bj, c03); c13 = L.Fma(a1, bj, c13);
            bj = L.Splat(Unsafe.Add(ref b, 4)); c04 = L.Fma(a0, bj, c04); c14 = L.Fma(a1, bj, c14);
            bj = L.Splat(Unsafe.Add(ref b, 5)); c05 = L.Fma(a0, bj, c05); c15 = L.Fma(a1, bj, c15);
            bj = L.Splat(Unsafe.Add(ref b, 6)); c06 = L.Fma(a0, bj, c06); c16 = L.Fma(a1, bj, c16);
            bj = L.Splat(Unsafe.Add(ref b, 7)); c07 = L.Fma(a0, bj, c07); c17 = L.Fma(a1, bj, c17);
            a = ref Unsafe.Add(ref a, mr);
            b = ref Unsafe.Add(ref b, 8);
        }
        L.Store(c00, ref k0, 0); L.Store(c10, ref k0, w); L.Store(c01, ref k1, 0); L.Store(c11, ref k1, w);
        L.Store(c02, ref k2, 0); L.Store(c12, ref k2, w); L.Store(c03, ref k3, 0); L.Store(c13, ref k3, w);
        L.Store(c04, ref k4, 0); L.Store(c14, ref k4, w); L.Store(c05, ref k5, 0); L.Store(c15, ref k5, w);
        L.Store(c06, ref k6, 0); L.Store(c16, ref k6, w); L.Store(c07, ref k7, 0); L.Store(c17, ref k7, w);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run1(nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate)
    {
        nint mr = 3 * L.Count;
        V c00, c01, c02, c03, c04, c05, c06, c07;
        ref var k0 = ref c; ref var k1 = ref Unsafe.Add(ref c, ldc); ref var k2 = ref Unsafe.Add(ref c, 2 * ldc); ref var k3 = ref Unsafe.Add(ref c, 3 * ldc);
        ref var k4 = ref Unsafe.Add(ref c, 4 * ldc); ref var k5 = ref Unsafe.Add(ref c, 5 * ldc); ref var k6 = ref Unsafe.Add(ref c, 6 * ldc); ref var k7 = ref Unsafe.Add(ref c, 7 * ldc);
        if (accumulate)
        {
            c00 = L.Load(in k0, 0); c01 = L.Load(in k1, 0); c02 = L.Load(in k2, 0); c03 = L.Load(in k3, 0);
            c04 = L.Load(in k4, 0); c05 = L.Load(in k5, 0); c06 = L.Load(in k6, 0); c07 = L.Load(in k7, 0);
        }
        else c00 = c01 = c02 = c03 = c04 = c05 = c06 = c07 = L.Splat(0);
        for (nint p = 0; p < kc; p++)
        {
            var a0 = L.Load(in a, 0);
            c00 = L.Fma(a0, L.Splat(b), c00); c01 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 1)), c01);
            c02 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 2)), c02); c03 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 3)), c03);
            c04 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 4)), c04); c05 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 5)), c05);
            c06 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 6)), c06); c07 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 7)), c07);
            a = ref Unsafe.Add(ref a, mr);
            b = ref Unsafe.Add(ref b, 8);
        }
        L.Store(c00, ref k0, 0); L.Store(c01, ref k1, 0); L.Store(c02, ref k2, 0); L.Store(c03, ref k3, 0);
        L.Store(c04, ref k4, 0); L.Store(c05, ref k5, 0); L.Store(c06, ref k6, 0); L.Store(c07, ref k7, 0);
    }
}

/// <summary>3 vectors × 4 columns (12×4 doubles at 256 bits): 12 accumulators, for machines with 16 vector registers.</summary>
internal readonly struct Kernel3x4<V, L> : IMicroKernel
    where V : struct
    where L : struct, ILanes<V>
{
    public static int MR => 3 * L.Count;
    public static int NR => 4;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate)
    {
        nuint w = (nuint)L.Count, w2 = 2 * w;
        nint mr = 3 * L.Count;
        V c00, c10, c20, c01, c11, c21, c02, c12, c22, c03, c13, c23;
        ref var k0 = ref c; ref var k1 = ref Unsafe.Add(ref c, ldc); ref var k2 = ref Unsafe.Add(ref c, 2 * ldc); ref var k3 = ref Unsafe.Add(ref c, 3 * ldc);
        if (accumulate)
        {
            c00 = L.Load(in k0, 0); c10 = L.Load(in k0, w); c20 = L.Load(in k0, w2);
            c01 = L.Load(in k1, 0); c11 = L.Load(in k1, w); c21 = L.Load(in k1, w2);
            c02 = L.Load(in k2, 0); c12 = L.Load(in k2, w); c22 = L.Load(in k2, w2);
            c03 = L.Load(in k3, 0); c13 = L.Load(in k3, w); c23 = L.Load(in k3, w2);
        }
        else c00 = c10 = c20 = c01 = c11 = c21 = c02 = c12 = c22 = c03 = c13 = c23 = L.Splat(0);
        for (nint p = 0; p < kc; p++)
        {
            V a0 = L.Load(in a, 0), a1 = L.Load(in a, w), a2 = L.Load(in a, w2), bj;
            bj = L.Splat(b); c00 = L.Fma(a0, bj, c00); c10 = L.Fma(a1, bj, c10); c20 = L.Fma(a2, bj, c20);
            bj = L.Splat(Unsafe.Add(ref b, 1)); c01 = L.Fma(a0, bj, c01); c11 = L.Fma(a1, bj, c11); c21 = L.Fma(a2, bj, c21);
            bj = L.Splat(Unsafe.Add(ref b, 2)); c02 = L.Fma(a0, bj, c02); c12 = L.Fma(a1, bj, c12); c22 = L.Fma(a2, bj, c22);
            bj = L.Splat(Unsafe.Add(ref b, 3)); c03 = L.Fma(a0, bj, c03); c13 = L.Fma(a1, bj, c13); c23 = L.Fma(a2, bj, c23);
            a = ref Unsafe.Add(ref a, mr);
            b = ref Unsafe.Add(ref b, 4);
        }
        L.Store(c00, ref k0, 0); L.Store(c10, ref k0, w); L.Store(c20, ref k0, w2);
        L.Store(c01, ref k1, 0); L.Store(c11, ref k1, w); L.Store(c21, ref k1, w2);
        L.Store(c02, ref k2, 0); L.Store(c12, ref k2, w); L.Store(c22, ref k2, w2);
        L.Store(c03, ref k3, 0); L.Store(c13, ref k3, w); L.Store(c23, ref k3, w2);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunRows(int vectors, nint kc, ref double a, ref double b, ref double c, nint ldc, bool accumulate)
    {
        nuint w = (nuint)L.Count;
        nint mr = 3 * L.Count;
        ref var k0 = ref c; ref var k1 = ref Unsafe.Add(ref c, ldc); ref var k2 = ref Unsafe.Add(ref c, 2 * ldc); ref var k3 = ref Unsafe.Add(ref c, 3 * ldc);
        if (vectors == 2)
        {
            V c00, c10, c01, c11, c02, c12, c03, c13;
            if (accumulate)
            {
                c00 = L.Load(in k0, 0); c10 = L.Load(in k0, w); c01 = L.Load(in k1, 0); c11 = L.Load(in k1, w);
                c02 = L.Load(in k2, 0); c12 = L.Load(in k2, w); c03 = L.Load(in k3, 0); c13 = L.Load(in k3, w);
            }
            else c00 = c10 = c01 = c11 = c02 = c12 = c03 = c13 = L.Splat(0);
            for (nint p = 0; p < kc; p++)
            {
                V a0 = L.Load(in a, 0), a1 = L.Load(in a, w), bj;
                bj = L.Splat(b); c00 = L.Fma(a0, bj, c00); c10 = L.Fma(a1, bj, c10);
                bj = L.Splat(Unsafe.Add(ref b, 1)); c01 = L.Fma(a0, bj, c01); c11 = L.Fma(a1, bj, c11);
                bj = L.Splat(Unsafe.Add(ref b, 2)); c02 = L.Fma(a0, bj, c02); c12 = L.Fma(a1, bj, c12);
                bj = L.Splat(Unsafe.Add(ref b, 3)); c03 = L.Fma(a0, bj, c03); c13 = L.Fma(a1, bj, c13);
                a = ref Unsafe.Add(ref a, mr);
                b = ref Unsafe.Add(ref b, 4);
            }
            L.Store(c00, ref k0, 0); L.Store(c10, ref k0, w); L.Store(c01, ref k1, 0); L.Store(c11, ref k1, w);
            L.Store(c02, ref k2, 0); L.Store(c12, ref k2, w); L.Store(c03, ref k3, 0); L.Store(c13, ref k3, w);
        }
        else
        {
            V c00, c01, c02, c03;
            if (accumulate) { c00 = L.Load(in k0, 0); c01 = L.Load(in k1, 0); c02 = L.Load(in k2, 0); c03 = L.Load(in k3, 0); }
            else c00 = c01 = c02 = c03 = L.Splat(0);
            for (nint p = 0; p < kc; p++)
            {
                var a0 = L.Load(in a, 0);
                c00 = L.Fma(a0, L.Splat(b), c00); c01 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 1)), c01);
                c02 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 2)), c02); c03 = L.Fma(a0, L.Splat(Unsafe.Add(ref b, 3)), c03);
                a = ref Unsafe.Add(ref a, mr);
                b = ref Unsafe.Add(ref b, 4);
            }
            L.Store(c00, ref k0, 0); L.Store(c01, ref k1, 0); L.Store(c02, ref k2, 0); L.Store(c03, ref k3, 0);
        }
    }
}

/// <summary>The blocked product over one micro-kernel (see the file comment).</summary>
internal static class Gemm
{
    /// <summary>The blocking of the micro-kernel <see cref="Into"/> runs on this machine, from its cache sizes.</summary>
    public static Blocking Blocks =>
        Vector512.IsHardwareAccelerated ? BlockingOf<Kernel3x8<Vector512<double>, Lanes512>>.Value
        : Vector256.IsHardwareAccelerated ? BlockingOf<Kernel3x4<Vector256<double>, Lanes256>>.Value
        : BlockingOf<Kernel3x4<Vector128<double>, Lanes128>>.Value;

    /// <summary>The blocking of one micro-kernel, computed once from <see cref="CacheSizes.Machine"/>.</summary>
    private static class BlockingOf<K> where K : struct, IMicroKernel
    {
        public static readonly Blocking Value = Blocking.For(CacheSizes.Machine, K.MR, K.NR);
    }

    /// <summary>
    /// Below this many multiply-adds (m·n·k) a product runs on the calling thread; from here it is split over
    /// <see cref="ProductKernels.Threads"/>. Measured with `Benchmarks --gemm threshold` on the 2-core development VM
    /// (AMD EPYC, AVX-512; 2026-12-03, other builds running, so the best of three runs per size: the best is the run
    /// in which the second core was free). Time of 1 part against 2, µs:
    ///
    ///   24³  1.0 /  3.7    40³  3.2 / 3.5    48³  5.0 / 4.2 (0.84)   56³   7.9 /  5.9 (0.75)   64³ 11.3 / 7.3 (0.65)
    ///   96³ 35.1 / 19.5 (0.56)   128³ 81 / 51 (0.63)   256³ 650 / 343 (0.53)   512³ 5416 / 2918 (0.54)
    ///   64×784·784×256 (W3's product) 519 / 306 (0.59)
    ///
    /// so the split starts to pay between 40³ (64 000) and 48³ (110 592), and 2¹⁷ sits just above that. On a loaded
    /// machine, where the second thread waits for a core, the split loses up to 3× below ~200³ (the typical, not the
    /// best, figures of the same runs); set <see cref="ProductKernels.Threads"/> to 1 there.
    /// </summary>
    internal const long ParallelThreshold = 1L << 17;

    /// <summary>Below this many multiply-adds the product is the plain loop (packing costs more than it saves); the same bits.</summary>
    internal const long PackThreshold = 4096;

    /// <summary>The micro-kernel chosen for this machine, e.g. "24×8 micro-kernel on 512-bit vectors".</summary>
    public static string Description =>
        Vector512.IsHardwareAccelerated ? $"{Kernel3x8<Vector512<double>, Lanes512>.MR}×8 micro-kernel on 512-bit vectors"
        : Vector256.IsHardwareAccelerated ? $"{Kernel3x4<Vector256<double>, Lanes256>.MR}×4 micro-kernel on 256-bit vectors"
        : $"{Kernel3x4<Vector128<double>, Lanes128>.MR}×4 micro-kernel on 128-bit vectors"
          + (Vector128.IsHardwareAccelerated ? "" : " (emulated lane by lane)");

    /// <summary>
    /// C = op(A)·op(B), C m×n (a new array). A is stored m×k, or k×m when <paramref name="transposeA"/> (then op(A) = Aᵀ);
    /// B is stored k×n, or n×k when <paramref name="transposeB"/>. Runs on up to <paramref name="threads"/> threads.
    /// </summary>
    public static double[] Multiply(double[] a, bool transposeA, double[] b, bool transposeB, int m, int k, int n, int threads)
    {
        // Into writes every element of C, so the array need not be zeroed first (for large results that is a pass
        // over memory saved; small ones are zeroed by the allocator anyway).
        var c = GC.AllocateUninitializedArray<double>(m * n);
        Into(a, transposeA, b, transposeB, c, m, k, n, threads);
        return c;
    }

    /// <summary><see cref="Multiply"/> into <paramref name="c"/> (m·n elements, overwritten).</summary>
    public static void Into(double[] a, bool transposeA, double[] b, bool transposeB, double[] c, int m, int k, int n, int threads)
    {
        if (m == 0 || n == 0) return;
        if (k == 0) { Array.Clear(c, 0, m * n); return; }
        var work = (long)m * n * k;
        if (work < PackThreshold) { ReferenceInto(a, transposeA, b, transposeB, c, m, k, n); return; }
        var parts = work < ParallelThreshold ? 1 : threads;
        if (Vector512.IsHardwareAccelerated) Run<Kernel3x8<Vector512<double>, Lanes512>>(a, transposeA, b, transposeB, c, m, k, n, parts);
        else if (Vector256.IsHardwareAccelerated) Run<Kernel3x4<Vector256<double>, Lanes256>>(a, transposeA, b, transposeB, c, m, k, n, parts);
        else Run<Kernel3x4<Vector128<double>, Lanes128>>(a, transposeA, b, transposeB, c, m, k, n, parts);
    }

    /// <summary>
    /// <see cref="Into"/> with the micro-kernel of a given width (512: 24×8; 256 and 128: 3 vectors × 4; a width the
    /// machine lacks is emulated), split over <paramref name="threads"/> parts whatever the size, and no small-size
    /// shortcut: tests check that every width, split and blocking gives the same bits, the tuning harness times them.
    /// <paramref name="blocking"/> replaces the machine's (null: the machine's).
    /// </summary>
    public static void IntoAt(int width, double[] a, bool transposeA, double[] b, bool transposeB, double[] c, int m, int k, int n, int threads, Blocking? blocking = null)
    {
        if (m == 0 || n == 0) return;
        if (k == 0) { Array.Clear(c, 0, m * n); return; }
        switch (width)
        {
            case 512: Run<Kernel3x8<Vector512<double>, Lanes512>>(a, transposeA, b, transposeB, c, m, k, n, threads, blocking); break;
            case 256: Run<Kernel3x4<Vector256<double>, Lanes256>>(a, transposeA, b, transposeB, c, m, k, n, threads, blocking); break;
            case 128: Run<Kernel3x4<Vector128<double>, Lanes128>>(a, transposeA, b, transposeB, c, m, k, n, threads, blocking); break;
            default: throw new ArgumentOutOfRangeException(nameof(width), width, UserCode.Mark("The widths are 128, 256 and 512."));
        }
    }

    /// <summary>The plain loop: each element the fma chain over p in order, the bits every path gives.</summary>
    public static void ReferenceInto(double[] a, bool transposeA, double[] b, bool transposeB, double[] c, int m, int k, int n)
    {
        for (var j = 0; j < n; j++)
            for (var i = 0; i < m; i++)
            {
                var s = 0.0;
                for (var p = 0; p < k; p++)
                    s = Math.FusedMultiplyAdd(transposeA ? a[i * k + p] : a[p * m + i], transposeB ? b[p * n + j] : b[j * k + p], s);
                c[j * m + i] = s;
            }
    }

    private static void Run<K>(double[] a, bool ta, double[] b, bool tb, double[] c, int m, int k, int n, int parts, Blocking? blocking = null)
        where K : struct, IMicroKernel
    {
        var blocks = blocking ?? BlockingOf<K>.Value;
        if (parts <= 1)
        {
            Blocked<K>(a, ta, b, tb, c, m, k, n, 0, m, 0, n, blocks);
            return;
        }
        // Split the longer side of C into parts of whole micro-panels; each part is an independent product.
        bool byColumns = (n + K.NR - 1) / K.NR >= parts && (n >= m || (m + K.MR - 1) / K.MR < parts);
        int unit = byColumns ? K.NR : K.MR, length = byColumns ? n : m;
        var panels = (length + unit - 1) / unit;
        parts = Math.Min(parts, panels);
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, t =>
        {
            int from = (int)Math.Min(length, (long)panels * t / parts * unit), to = (int)Math.Min(length, (long)panels * (t + 1) / parts * unit);
            if (byColumns) Blocked<K>(a, ta, b, tb, c, m, k, n, 0, m, from, to, blocks);
            else Blocked<K>(a, ta, b, tb, c, m, k, n, from, to, 0, n, blocks);
        });
    }

    /// <summary>C[i0..i1, j0..j1] = op(A)[i0..i1, :]·op(B)[:, j0..j1] (C's column stride is m).</summary>
    private static void Blocked<K>(double[] a, bool ta, double[] b, bool tb, double[] c, int m, int k, int n, int i0, int i1, int j0, int j1, Blocking blocks)
        where K : struct, IMicroKernel
    {
        int mr = K.MR, nr = K.NR;
        // Blocks of equal size rather than full ones and a remnant (k = 784 is 4 blocks of 196, not 3 of 256 and one of 16).
        int kcMax = Balanced(k, Math.Max(1, blocks.KC), 1);
        int mcMax = Balanced(i1 - i0, Math.Max(mr, blocks.MC / mr * mr), mr);
        int ncMax = Balanced(j1 - j0, Math.Max(nr, blocks.NC / nr * nr), nr);
        var packA = ArrayPool<double>.Shared.Rent(mcMax * kcMax);
        var packB = ArrayPool<double>.Shared.Rent(ncMax * kcMax);
        Span<double> tile = stackalloc double[mr * nr];
        try
        {
            for (var jc = j0; jc < j1; jc += ncMax)
            {
                var nc = Math.Min(ncMax, j1 - jc);
                for (var pc = 0; pc < k; pc += kcMax)
                {
                    var kc = Math.Min(kcMax, k - pc);
                    PackB(b, tb, k, n, pc, kc, jc, nc, nr, packB);
                    for (var ic = i0; ic < i1; ic += mcMax)
                    {
                        var mc = Math.Min(mcMax, i1 - ic);
                        PackA(a, ta, m, k, ic, mc, pc, kc, mr, packA);
                        Macro<K>(packA, packB, c, m, ic, mc, jc, nc, kc, pc > 0, tile);
                    }
                }
            }
        }
        finally
        {
            ArrayPool<double>.Shared.Return(packA);
            ArrayPool<double>.Shared.Return(packB);
        }
    }

    private static int RoundUp(int x, int unit) => (x + unit - 1) / unit * unit;

    /// <summary>The size of ⌈length / limit⌉ equal blocks covering length, rounded up to a multiple of unit.</summary>
    private static int Balanced(int length, int limit, int unit)
    {
        var blocks = (length + limit - 1) / limit;
        return RoundUp((length + blocks - 1) / blocks, unit);
    }

    /// <summary>The micro-kernel over every MR×NR block of C[ic..ic+mc, jc..jc+nc].</summary>
    private static void Macro<K>(double[] packA, double[] packB, double[] c, int ldc, int ic, int mc, int jc, int nc, int kc, bool accumulate, Span<double> tile)
        where K : struct, IMicroKernel
    {
        int mr = K.MR, nr = K.NR, w = mr / 3;
        ref var pa = ref MemoryMarshal.GetArrayDataReference(packA);
        ref var pb = ref MemoryMarshal.GetArrayDataReference(packB);
        ref var pc = ref MemoryMarshal.GetArrayDataReference(c);
        ref var pt = ref MemoryMarshal.GetReference(tile);
        for (var jr = 0; jr < nc; jr += nr)
        {
            var nv = Math.Min(nr, nc - jr);
            ref var bPanel = ref Unsafe.Add(ref pb, (nint)jr * kc);
            for (var ir = 0; ir < mc; ir += mr)
            {
                var mv = Math.Min(mr, mc - ir);
                ref var aPanel = ref Unsafe.Add(ref pa, (nint)ir * kc);
                ref var cBlock = ref Unsafe.Add(ref pc, (nint)(jc + jr) * ldc + ic + ir);
                // The last panel of rows may need only one or two of the kernel's three vectors (m = 64 is 24 + 24 + 16).
                var vectors = (mv + w - 1) / w;
                if (nv == nr && mv == mr)
                {
                    K.Run(kc, ref aPanel, ref bPanel, ref cBlock, ldc, accumulate);
                    continue;
                }
                if (nv == nr && mv == vectors * w)
                {
                    K.RunRows(vectors, kc, ref aPanel, ref bPanel, ref cBlock, ldc, accumulate);
                    continue;
                }
                // A partial block: through the tile, so the kernel never touches C outside the block.
                if (accumulate)
                    for (var j = 0; j < nv; j++)
                        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref cBlock, (nint)j * ldc), mv).CopyTo(tile.Slice(j * mr, mv));
                if (vectors < 3) K.RunRows(vectors, kc, ref aPanel, ref bPanel, ref pt, mr, accumulate);
                else K.Run(kc, ref aPanel, ref bPanel, ref pt, mr, accumulate);
                for (var j = 0; j < nv; j++)
                    tile.Slice(j * mr, mv).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref cBlock, (nint)j * ldc), mv));
            }
        }
    }

    /// <summary>op(A)[ic..ic+mc, pc..pc+kc] into MR-row micro-panels, each kc columns of MR contiguous rows; zero-padded.</summary>
    private static void PackA(double[] a, bool ta, int m, int k, int ic, int mc, int pc, int kc, int mr, double[] dst)
    {
        for (var ir = 0; ir < mc; ir += mr)
        {
            var mv = Math.Min(mr, mc - ir);
            var panel = dst.AsSpan(ir * kc, mr * kc);
            if (mv < mr) panel.Clear();
            if (!ta)
            {
                // A is m×k: column p of op(A) holds rows ic+ir … contiguously.
                for (var p = 0; p < kc; p++)
                    a.AsSpan((pc + p) * m + ic + ir, mv).CopyTo(panel.Slice(p * mr, mv));
            }
            else
            {
                // A is stored k×m: row i of op(A) is column i of the storage, contiguous over p.
                a.AsSpan((ic + ir) * k + pc, (mv - 1) * k + kc); // the bounds, checked once
                Interleave(ref a[(ic + ir) * k + pc], k, mv, kc, ref panel[0], mr);
            }
        }
    }

    /// <summary>op(B)[pc..pc+kc, jc..jc+nc] into NR-column micro-panels, each kc rows of NR contiguous columns; zero-padded.</summary>
    private static void PackB(double[] b, bool tb, int k, int n, int pc, int kc, int jc, int nc, int nr, double[] dst)
    {
        for (var jr = 0; jr < nc; jr += nr)
        {
            var nv = Math.Min(nr, nc - jr);
            var panel = dst.AsSpan(jr * kc, nr * kc);
            if (nv < nr) panel.Clear();
            if (!tb)
            {
                // B is k×n: column j of op(B) is contiguous over p.
                b.AsSpan((jc + jr) * k + pc, (nv - 1) * k + kc); // the bounds, checked once
                Interleave(ref b[(jc + jr) * k + pc], k, nv, kc, ref panel[0], nr);
            }
            else
            {
                // B is stored n×k: row p of op(B) is column p of the storage, contiguous over j.
                for (var p = 0; p < kc; p++)
                    b.AsSpan((pc + p) * n + jc + jr, nv).CopyTo(panel.Slice(p * nr, nv));
            }
        }
    }

    /// <summary>
    /// dst[p·width + r] = src[r·stride + p] for r &lt; rows, p &lt; length: rows read as streams side by side, the
    /// packed panel written in order (four rows at a time, with AVX as 4×4 transposes; the caller has checked both ranges).
    /// </summary>
    private static void Interleave(ref double src, int stride, int rows, int length, ref double dst, int width)
    {
        var r = 0;
        for (; r + 4 <= rows; r += 4)
        {
            ref var s0 = ref Unsafe.Add(ref src, (nint)r * stride);
            ref var s1 = ref Unsafe.Add(ref s0, stride);
            ref var s2 = ref Unsafe.Add(ref s1, stride);
            ref var s3 = ref Unsafe.Add(ref s2, stride);
            ref var d = ref Unsafe.Add(ref dst, r);
            nint p = 0;
            if (Avx.IsSupported)
            {
                // Four rows by four elements at a time: a 4×4 transpose in registers (a copy: the bits are the same).
                nint w = width;
                for (; p + 4 <= length; p += 4)
                {
                    var v0 = Vector256.LoadUnsafe(ref s0, (nuint)p);
                    var v1 = Vector256.LoadUnsafe(ref s1, (nuint)p);
                    var v2 = Vector256.LoadUnsafe(ref s2, (nuint)p);
                    var v3 = Vector256.LoadUnsafe(ref s3, (nuint)p);
                    Vector256<double> t0 = Avx.UnpackLow(v0, v1), t1 = Avx.UnpackHigh(v0, v1), t2 = Avx.UnpackLow(v2, v3), t3 = Avx.UnpackHigh(v2, v3);
                    ref var dp = ref Unsafe.Add(ref d, p * w);
                    Avx.Permute2x128(t0, t2, 0x20).StoreUnsafe(ref dp);
                    Avx.Permute2x128(t1, t3, 0x20).StoreUnsafe(ref Unsafe.Add(ref dp, w));
                    Avx.Permute2x128(t0, t2, 0x31).StoreUnsafe(ref Unsafe.Add(ref dp, 2 * w));
                    Avx.Permute2x128(t1, t3, 0x31).StoreUnsafe(ref Unsafe.Add(ref dp, 3 * w));
                }
            }
            for (; p < length; p++)
            {
                ref var dp = ref Unsafe.Add(ref d, p * width);
                dp = Unsafe.Add(ref s0, p);
                Unsafe.Add(ref dp, 1) = Unsafe.Add(ref s1, p);
                Unsafe.Add(ref dp, 2) = Unsafe.Add(ref s2, p);
                Unsafe.Add(ref dp, 3) = Unsafe.Add(ref s3, p);
            }
        }
        for (; r < rows; r++)
        {
            ref var s0 = ref Unsafe.Add(ref src, (nint)r * stride);
            ref var d = ref Unsafe.Add(ref dst, r);
            for (nint p = 0; p < length; p++) Unsafe.Add(ref d, p * width) = Unsafe.Add(ref s0, p);
        }
    }
}
