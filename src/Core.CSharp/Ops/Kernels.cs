using System;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Functional.Autodiff;

/// <summary>
/// The numeric kernels of the linear-algebra ops, behind one seam so a faster implementation can replace them
/// without touching the ops. Inputs are read-only storage (column-major for matrices); every result is a new array.
/// </summary>
/// <remarks>
/// Matrix products run on the library's GEMM (Ops/Kernels/Gemm.cs) on <see cref="ProductKernels.Threads"/> threads,
/// or on OpenBLAS after <see cref="ProductKernels.UseOpenBlas"/>.
/// </remarks>
internal static class Kernels
{
    /// <summary>
    /// C = op(A)·op(B), C m×n: A is stored m×k (k×m when <paramref name="transposeA"/>), B k×n (n×k when
    /// <paramref name="transposeB"/>); the transposes are read in place, never materialised.
    /// </summary>
    public static double[] MatMul(double[] a, bool transposeA, double[] b, bool transposeB, int m, int k, int n)
    {
        if (ProductKernels.Native is { } blas) return blas.Multiply(a, transposeA, b, transposeB, m, k, n);
        return Gemm.Multiply(a, transposeA, b, transposeB, m, k, n, ProductKernels.Threads);
    }

    /// <summary><see cref="MatMul"/> into <paramref name="c"/> (m·n elements, overwritten; never an input): the same bits.</summary>
    public static void MatMulInto(double[] a, bool transposeA, double[] b, bool transposeB, double[] c, int m, int k, int n)
    {
        if (ProductKernels.Native is { } blas) blas.Multiply(a, transposeA, b, transposeB, m, k, n).CopyTo(c, 0);
        else Gemm.Into(a, transposeA, b, transposeB, c, m, k, n, ProductKernels.Threads);
    }

    /// <summary>
    /// y = A·x for A (m×n): each y_i the fma chain over j in order, the bits of <see cref="MatMul"/> with x as an
    /// n×1 matrix (see Gemm.cs). Column-major, so y is swept once per eight columns, a vector of rows at a time.
    /// </summary>
    public static double[] MatVec(double[] a, int m, int n, double[] x)
    {
        var y = new double[m];
        MatVecInto(a, m, n, x, y);
        return y;
    }

    /// <summary><see cref="MatVec"/> written into <paramref name="y"/> (m elements; cleared first), the same bits.</summary>
    public static void MatVecInto(double[] a, int m, int n, double[] x, Span<double> y)
    {
        y[..m].Clear();
        if (Vector512.IsHardwareAccelerated) MatVec<Vector512<double>, Lanes512>(a, m, n, x, y);
        else if (Vector256.IsHardwareAccelerated) MatVec<Vector256<double>, Lanes256>(a, m, n, x, y);
        else MatVec<Vector128<double>, Lanes128>(a, m, n, x, y);
    }

    /// <summary>y += A·x, the fma chain over j in order per y_i (y zero on entry for A·x).</summary>
    private static void MatVec<V, L>(double[] a, int m, int n, double[] x, Span<double> y)
        where V : struct
        where L : struct, ILanes<V>
    {
        if (a.Length < (long)m * n || x.Length < n || y.Length < m) throw new ArgumentException(UserCode.Mark("matvec: storage shorter than its shape."));
        ref var pa = ref MemoryMarshal.GetArrayDataReference(a);
        ref var py = ref MemoryMarshal.GetReference(y);
        nint w = L.Count, rows = m;
        var j = 0;
        for (; j + 8 <= n; j += 8)
        {
            ref var c0 = ref Unsafe.Add(ref pa, (nint)j * m);
            ref var c1 = ref Unsafe.Add(ref c0, rows); ref var c2 = ref Unsafe.Add(ref c1, rows); ref var c3 = ref Unsafe.Add(ref c2, rows);
            ref var c4 = ref Unsafe.Add(ref c3, rows); ref var c5 = ref Unsafe.Add(ref c4, rows); ref var c6 = ref Unsafe.Add(ref c5, rows); ref var c7 = ref Unsafe.Add(ref c6, rows);
            V x0 = L.Splat(x[j]), x1 = L.Splat(x[j + 1]), x2 = L.Splat(x[j + 2]), x3 = L.Splat(x[j + 3]);
            V x4 = L.Splat(x[j + 4]), x5 = L.Splat(x[j + 5]), x6 = L.Splat(x[j + 6]), x7 = L.Splat(x[j + 7]);
            nint i = 0;
            for (; i + w <= rows; i += w)
            {
                var u = (nuint)i;
                var acc = L.Load(in py, u);
                acc = L.Fma(L.Load(in c0, u), x0, acc); acc = L.Fma(L.Load(in c1, u), x1, acc);
                acc = L.Fma(L.Load(in c2, u), x2, acc); acc = L.Fma(L.Load(in c3, u), x3, acc);
                acc = L.Fma(L.Load(in c4, u), x4, acc); acc = L.Fma(L.Load(in c5, u), x5, acc);
                acc = L.Fma(L.Load(in c6, u), x6, acc); acc = L.Fma(L.Load(in c7, u), x7, acc);
                L.Store(acc, ref py, u);
            }
            for (; i < rows; i++)
            {
                var s = Unsafe.Add(ref py, i);
                s = Math.FusedMultiplyAdd(Unsafe.Add(ref c0, i), x[j], s); s = Math.FusedMultiplyAdd(Unsafe.Add(ref c1, i), x[j + 1], s);
                s = Math.FusedMultiplyAdd(Unsafe.Add(ref c2, i), x[j + 2], s); s = Math.FusedMultiplyAdd(Unsafe.Add(ref c3, i), x[j + 3], s);
                s = Math.FusedMultiplyAdd(Unsafe.Add(ref c4, i), x[j + 4], s); s = Math.FusedMultiplyAdd(Unsafe.Add(ref c5, i), x[j + 5], s);
                s = Math.FusedMultiplyAdd(Unsafe.Add(ref c6, i), x[j + 6], s); s = Math.FusedMultiplyAdd(Unsafe.Add(ref c7, i), x[j + 7], s);
                Unsafe.Add(ref py, i) = s;
            }
        }
        for (; j < n; j++)
        {
            ref var c0 = ref Unsafe.Add(ref pa, (nint)j * m);
            var x0 = L.Splat(x[j]);
            nint i = 0;
            for (; i + w <= rows; i += w) L.Store(L.Fma(L.Load(in c0, (nuint)i), x0, L.Load(in py, (nuint)i)), ref py, (nuint)i);
            for (; i < rows; i++) Unsafe.Add(ref py, i) = Math.FusedMultiplyAdd(Unsafe.Add(ref c0, i), x[j], Unsafe.Add(ref py, i));
        }
    }

    /// <summary>y = vᵀ·A for A (m×n).</summary>
    public static double[] VecMat(double[] v, double[] a, int m, int n)
    {
        var y = new double[n];
        VecMatInto(v, a, m, n, y);
        return y;
    }

    /// <summary><see cref="VecMat"/> written into <paramref name="y"/> (n elements), the same bits.</summary>
    public static void VecMatInto(double[] v, double[] a, int m, int n, Span<double> y)
    {
        var span = a.AsSpan();
        for (var j = 0; j < n; j++) y[j] = TensorPrimitives.Dot(span.Slice(j * m, m), v);
    }

    /// <summary>The m×n matrix a·bᵀ.</summary>
    public static double[] Outer(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        int m = a.Length, n = b.Length;
        var c = new double[m * n];
        for (var j = 0; j < n; j++) TensorPrimitives.Multiply(a, b[j], c.AsSpan(j * m, m));
        return c;
    }

    /// <summary>The transpose of an m×n matrix, as an n×m matrix.</summary>
    public static double[] Transpose(ReadOnlySpan<double> a, int m, int n)
    {
        var t = new double[m * n];
        for (var j = 0; j < n; j++)
            for (var i = 0; i < m; i++)
                t[i * n + j] = a[j * m + i];
        return t;
    }
}
