using System;
using System.Numerics.Tensors;

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

    /// <summary>y = A·x for A (m×n).</summary>
    public static double[] MatVec(double[] a, int m, int n, double[] x)
    {
        // Column-major: y = Σ_j x[j]·A[:, j], each column contiguous; four columns per sweep over y.
        var y = new double[m];
        var lanes = System.Numerics.Vector<double>.Count;
        var j = 0;
        for (; j + 4 <= n; j += 4)
        {
            double x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
            int c0 = j * m, c1 = c0 + m, c2 = c1 + m, c3 = c2 + m;
            var i = 0;
            if (System.Numerics.Vector.IsHardwareAccelerated)
            {
                System.Numerics.Vector<double> v0 = new(x0), v1 = new(x1), v2 = new(x2), v3 = new(x3);
                for (; i + lanes <= m; i += lanes)
                {
                    var acc = new System.Numerics.Vector<double>(y, i)
                        + new System.Numerics.Vector<double>(a, c0 + i) * v0 + new System.Numerics.Vector<double>(a, c1 + i) * v1
                        + new System.Numerics.Vector<double>(a, c2 + i) * v2 + new System.Numerics.Vector<double>(a, c3 + i) * v3;
                    acc.CopyTo(y, i);
                }
            }
            for (; i < m; i++) y[i] += a[c0 + i] * x0 + a[c1 + i] * x1 + a[c2 + i] * x2 + a[c3 + i] * x3;
        }
        var span = a.AsSpan();
        for (; j < n; j++) TensorPrimitives.MultiplyAdd(span.Slice(j * m, m), x[j], y, y);
        return y;
    }

    /// <summary>y = vᵀ·A for A (m×n).</summary>
    public static double[] VecMat(double[] v, double[] a, int m, int n)
    {
        var y = new double[n];
        var span = a.AsSpan();
        for (var j = 0; j < n; j++) y[j] = TensorPrimitives.Dot(span.Slice(j * m, m), v);
        return y;
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
