using System;
using System.IO;
using System.Linq;
using MathNet.Numerics.LinearAlgebra;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>The README's matrix-products example (threads, opting in to OpenBLAS), run and checked against the README.</summary>
[NonParallelizable]
public class ProductsExample
{
    private static void Products()
    {
        // ---- README, products: from here ----
        // Products run on the library's own GEMM over ProductKernels.Threads threads; the bits do not depend on it.
        ProductKernels.Threads = 2;
        var a = Matrix<double>.Build.Dense(300, 200, (i, j) => Math.Sin(i + 2 * j));
        var b = Matrix<double>.Build.Dense(200, 100, (i, j) => Math.Cos(i - j));
        Matrix<double> managed = Expr.MatMul(Expr.Const(a), Expr.Const(b)).Value;
        Console.WriteLine(ProductKernels.Description.StartsWith("managed GEMM"));      // True

        // Opt in to OpenBLAS once, at start-up (Debian: apt-get install libopenblas0); UseManaged() goes back.
        var openBlas = Environment.GetEnvironmentVariable("FUNCTIONAL_AUTODIFF_OPENBLAS") ?? "/usr/lib/x86_64-linux-gnu/libopenblas.so.0";
        if (File.Exists(openBlas))
        {
            ProductKernels.UseOpenBlas(openBlas);
            Matrix<double> native = Expr.MatMul(Expr.Const(a), Expr.Const(b)).Value;
            ProductKernels.UseManaged();
            Console.WriteLine((native - managed).Enumerate().Max(Math.Abs) < 1e-12);   // True: they agree to rounding
        }
        // ---- to here ----
    }

    /// <summary>The example prints True, and True again where OpenBLAS is there; afterwards products are managed again.</summary>
    [Test]
    public void ProductsExamplePrintsWhatTheReadmeSays()
    {
        var threads = ProductKernels.Threads;
        try
        {
            var lines = Check.Capture(Products);
            Assert.That(lines, Is.EqualTo(new[] { "True" }).Or.EqualTo(new[] { "True", "True" }));
            Assert.That(ProductKernels.Description, Does.StartWith("managed GEMM"));
        }
        finally
        {
            ProductKernels.UseManaged();
            ProductKernels.Threads = threads;
        }
    }

    /// <summary>The README's products example is this one, line for line.</summary>
    [Test]
    public void TheReadmeShowsTheProductsExample() => Check.ReadmeShows("ProductsExample.cs", "README, products: from here");
}
