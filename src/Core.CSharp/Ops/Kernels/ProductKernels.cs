using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>
/// Start-up settings of the matrix products (matmul and the products of its gradients): how many threads the
/// library's GEMM uses, and whether products go to OpenBLAS instead. Set them once, before computing.
/// </summary>
/// <remarks>
/// <para>
/// The default needs nothing installed: a GEMM written in C# (packed panels, a register-blocked micro-kernel on
/// 512-bit, 256-bit or 128-bit vectors, chosen once for the machine). Each element of a product is one chain of fused
/// multiply-adds in the order of the inner index, so its bits do not depend on <see cref="Threads"/>: the thread
/// count changes the speed, never a result.
/// </para>
/// <para>
/// <see cref="UseOpenBlas"/> switches products to an OpenBLAS shared library (for instance Debian's
/// <c>libopenblas0</c>). OpenBLAS sums in another order, so results then differ from the managed kernel's in the last
/// bits (the tests check that the two agree to rounding). It is a setting for the whole process, made by this one
/// documented call; <see cref="UseManaged"/> goes back.
/// </para>
/// </remarks>
/// <example>
/// <code>
/// ProductKernels.Threads = 1;                                                        // one thread for products
/// ProductKernels.UseOpenBlas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3");  // opt in to OpenBLAS
/// Console.WriteLine(ProductKernels.Description);                                     // e.g. "OpenBLAS 0.3.21 …, core SkylakeX"
/// </code>
/// </example>
public static class ProductKernels
{
    private static int threads = Math.Max(1, Environment.ProcessorCount);
    private static OpenBlas? native;

    /// <summary>
    /// The threads a large product is split over (by columns or rows of the result; default: the machine's logical
    /// processors). Products below a measured size always run on the calling thread. Results do not depend on it.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1.</exception>
    public static int Threads
    {
        get => Volatile.Read(ref threads);
        set
        {
            if (value < 1)
                throw new ArgumentOutOfRangeException(nameof(value), value, UserCode.Mark("ProductKernels.Threads must be at least 1 (1 runs every product on the calling thread)."));
            Volatile.Write(ref threads, value);
            Native?.SetThreads(value);
        }
    }

    /// <summary>What computes the products now, e.g. "managed GEMM (24×8 micro-kernel on 512-bit vectors), threads: 2".</summary>
    public static string Description =>
        Native is { } blas ? $"{blas.Description}, threads: {Threads}" : $"managed GEMM ({Gemm.Description}), threads: {Threads}";

    /// <summary>
    /// Computes matrix products with the OpenBLAS shared library at <paramref name="library"/> (a path, or a name the
    /// system's loader finds, such as <c>libopenblas.so.0</c>) from now on, on <see cref="Threads"/> threads.
    /// Set <c>OPENBLAS_CORETYPE</c> in the environment before the process starts to choose its kernel.
    /// </summary>
    /// <exception cref="DllNotFoundException">The library cannot be loaded, or it has no <c>cblas_dgemm</c>.</exception>
    public static void UseOpenBlas(string library)
    {
        Guard.NotNullOrEmpty(library);
        var blas = OpenBlas.Load(library);
        blas.SetThreads(Threads);
        Volatile.Write(ref native, blas);
    }

    /// <summary>Computes matrix products with the library's own GEMM again (the default).</summary>
    public static void UseManaged() => Volatile.Write(ref native, null);

    /// <summary>OpenBLAS when <see cref="UseOpenBlas"/> chose it, else null.</summary>
    internal static OpenBlas? Native => Volatile.Read(ref native);
}

/// <summary>The few entry points of an OpenBLAS library that the products use, bound by name at load time.</summary>
internal sealed class OpenBlas
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void Dgemm(int layout, int transA, int transB, int m, int n, int k, double alpha,
        [In] double[] a, int lda, [In] double[] b, int ldb, double beta, [In, Out] double[] c, int ldc);

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate IntPtr Text();

    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate void SetNumThreads(int n);

    private const int ColumnMajor = 102, NoTrans = 111, Trans = 112;
    private readonly Dgemm dgemm;
    private readonly SetNumThreads? setThreads;

    private OpenBlas(Dgemm dgemm, SetNumThreads? setThreads, string description) =>
        (this.dgemm, this.setThreads, Description) = (dgemm, setThreads, description);

    /// <summary>The library's configuration and the kernel it chose, e.g. "OpenBLAS 0.3.21 … USE_OPENMP … (core SkylakeX)".</summary>
    public string Description { get; }

    public static OpenBlas Load(string library)
    {
        if (!NativeLibrary.TryLoad(library, out var handle))
            throw new DllNotFoundException(UserCode.Mark(
                $"ProductKernels.UseOpenBlas: cannot load '{library}': give the path of an OpenBLAS shared library " +
                "(Debian: apt-get install libopenblas0, or apt-get download libopenblas0-openmp and dpkg -x it; bench/openblas.sh does that)."));
        if (!NativeLibrary.TryGetExport(handle, "cblas_dgemm", out var gemm))
            throw new DllNotFoundException(UserCode.Mark($"ProductKernels.UseOpenBlas: '{library}' has no cblas_dgemm: give the path of an OpenBLAS library."));
        T? Bind<T>(string name) where T : Delegate =>
            NativeLibrary.TryGetExport(handle, name, out var f) ? Marshal.GetDelegateForFunctionPointer<T>(f) : null;
        string Read(string name) => Bind<Text>(name) is { } t && Marshal.PtrToStringAnsi(t()) is { } s ? s.Trim() : "?";
        var description = $"{Read("openblas_get_config")} (core {Read("openblas_get_corename")})";
        return new OpenBlas(Marshal.GetDelegateForFunctionPointer<Dgemm>(gemm), Bind<SetNumThreads>("openblas_set_num_threads"), description);
    }

    public void SetThreads(int n) => setThreads?.Invoke(n);

    /// <summary>C = op(A)·op(B) by cblas_dgemm, with the storage conventions of <see cref="Kernels.MatMul"/>.</summary>
    public double[] Multiply(double[] a, bool transposeA, double[] b, bool transposeB, int m, int k, int n)
    {
        var c = new double[m * n];
        if (m == 0 || n == 0) return c;
        dgemm(ColumnMajor, transposeA ? Trans : NoTrans, transposeB ? Trans : NoTrans, m, n, k, 1.0,
            a, Math.Max(1, transposeA ? k : m), b, Math.Max(1, transposeB ? n : k), 0.0, c, m);
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        return c;
    }
}
