/// The matrix-product kernel (Ops/Kernels/Gemm.cs) against MathNet's own product for random shapes and all four
/// transpose forms, bit for bit against the plain fused-multiply-add loop it is defined by (so across vector widths,
/// blockings and thread counts), the reverse rule of matmul without transposes, and OpenBLAS to rounding.
module Functional.Autodiff.Tests.Gemm

open System
open System.IO
open NUnit.Framework
open MathNet.Numerics.LinearAlgebra
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

[<Literal>]
let Seed = "(20261202,1111)"

/// A dimension in 1 … 1100, log-uniform, so 1, small odd sizes, sizes around the vector width and the blocks, and
/// large ones all come up.
let private dimension (rng: Random) =
    int (Math.Round(Math.Exp(rng.NextDouble() * Math.Log 1100.0)))

/// m, k, n with m·k·n at most `work`: the largest side is shrunk until the product fits, so each case stays quick.
let private shapeWithin (rng: Random) (work: int64) =
    let mutable d = [| dimension rng; dimension rng; dimension rng |]

    while int64 d[0] * int64 d[1] * int64 d[2] > work do
        let i = Array.IndexOf(d, Array.max d)
        d[i] <- max 1 (d[i] / 2)

    d[0], d[1], d[2]

let private randomArray (rng: Random) n = Array.init n (fun _ -> uniform rng -1.0 1.0)

/// A's storage (m×k, or k×m when transposed) and B's (k×n, or n×k).
let private operands (rng: Random) m k n ta tb =
    randomArray rng (m * k), randomArray rng (k * n), (if ta then k, m else m, k), (if tb then n, k else k, n)

let private describe m k n ta tb =
    sprintf "%s(%d×%d)·%s(%d×%d)" (if ta then "Aᵀ" else "A") m k (if tb then "Bᵀ" else "B") k n

/// MathNet's managed product of op(A)·op(B), and the bound on the rounding error of any order of summation:
/// |ĉ − c| ≤ γ_k Σ_p |a_ip||b_pj| with γ_k ≈ k·2⁻⁵³ for each side, so two results differ by at most twice that.
let private mathNetWithBound (a: float[]) (b: float[]) m k n ta tb =
    let rowsA, colsA = if ta then k, m else m, k
    let rowsB, colsB = if tb then n, k else k, n
    let am = Matrix<float>.Build.Dense(rowsA, colsA, a)
    let bm = Matrix<float>.Build.Dense(rowsB, colsB, b)
    let opA, opB = (if ta then am.Transpose() else am), (if tb then bm.Transpose() else bm)
    let product = opA * opB
    let magnitude = opA.PointwiseAbs() * opB.PointwiseAbs()
    product.ToColumnMajorArray(), magnitude.ToColumnMajorArray() |> Array.map (fun s -> 2.0 * float (k + 2) * 1.1102230246251565e-16 * s + 1e-300)

let private assertWithin (what: string) (expected: float[]) (bound: float[]) (actual: float[]) =
    Assert.That(actual.Length, Is.EqualTo(expected.Length), what)

    match Array.tryFindIndex id (Array.init expected.Length (fun i -> not (abs (actual[i] - expected[i]) <= bound[i]))) with
    | Some i ->
        Assert.Fail $"{what}: element {i} is {g17 actual[i]}, MathNet gives {g17 expected[i]}, allowed difference {g17 bound[i]}"
    | None -> ()

let private assertSameBits (what: string) (expected: float[]) (actual: float[]) =
    match Array.tryFindIndex id (Array.map2 (fun (e: float) a -> bits e <> bits a) expected actual) with
    | Some i -> Assert.Fail $"{what}: element {i} is {g17 actual[i]}, expected {g17 expected[i]} (bit for bit)"
    | None -> ()

let ``the product agrees with MathNet's to the rounding bound of the inner dimension, for random shapes and transposes``
    (seed: int)
    =
    let rng = Random seed
    let m, k, n = shapeWithin rng 6_000_000L
    let ta, tb = rng.Next 2 = 1, rng.Next 2 = 1
    let a, b, _, _ = operands rng m k n ta tb
    let expected, bound = mathNetWithBound a b m k n ta tb
    let actual = Gemm.Multiply(a, ta, b, tb, m, k, n, 2)
    assertWithin $"seed {seed}, {describe m k n ta tb}" expected bound actual

/// Shapes at the edges: 1×n, n×1, sizes below, at and just past the vector width (8), the micro-kernel's 24 and 8,
/// and the blocks (k past 256 resumes a block of C; m past 240 or 480 takes a second A block).
let edgeShapes =
    [ 1, 1, 1
      1, 7, 1
      1, 300, 9
      9, 300, 1
      1, 1, 1000
      1000, 1, 1
      7, 8, 9
      8, 8, 8
      23, 5, 7
      24, 17, 8
      25, 33, 9
      17, 257, 31
      500, 270, 17
      31, 600, 3
      3, 513, 40
      481, 3, 25
      // A last panel of rows that takes one or two of the kernel's three vectors, exactly or in part, at each width
      // (24, 12 and 6 rows a panel): W3's m = 64 is 24 + 24 + 16.
      64, 70, 16
      64, 9, 17
      56, 31, 24
      16, 20, 8
      8, 9, 16
      40, 5, 9
      30, 12, 7
      2, 3, 8 ]

let forms = [ false, false; true, false; false, true; true, true ]

let ``every element is the fused multiply-add chain over the inner index, at every vector width, at the edges`` () =
    let rng = Random 111

    for m, k, n in edgeShapes do
        for ta, tb in forms do
            let a, b, _, _ = operands rng m k n ta tb
            let reference = Array.zeroCreate (m * n)
            Gemm.ReferenceInto(a, ta, b, tb, reference, m, k, n)
            assertSameBits $"{describe m k n ta tb}, Multiply" reference (Gemm.Multiply(a, ta, b, tb, m, k, n, 1))

            for width in [ 512; 256; 128 ] do
                let c = Array.create (m * n) nan
                Gemm.IntoAt(width, a, ta, b, tb, c, m, k, n, (if width = 256 then 2 else 1))
                assertSameBits $"{describe m k n ta tb}, width {width}" reference c

            let expected, bound = mathNetWithBound a b m k n ta tb
            assertWithin $"{describe m k n ta tb} against MathNet" expected bound reference

/// Blockings small enough that products of a few hundred multiply-adds cross every block boundary, and the
/// machine's own: each the same bits as the plain loop (a blocking changes the order of nothing).
let ``every blocking gives the same bits, with sizes just below, at and just above each block`` () =
    let rng = Random 116
    let machine = Gemm.Blocks
    // A blocking of the 24×8 kernel's own units (MC 48 = 2 panels, NC 16 = 2 panels, KC 5) and one that is not
    // (MC 30 rounds down to 24, NC 13 down to 8, KC 1: one rank-1 update per block of C).
    let small = [ Blocking(5, 48, 16); Blocking(1, 30, 13) ]
    let around b = [ b - 1; b; b + 1 ]

    let shapes =
        [ for b in small do
              for m in around b.MC do
                  for k in around b.KC |> List.filter (fun k -> k > 0) do
                      for n in around b.NC do
                          b, m, k, n
          // The machine's blocks: m around MC, k around KC and n around NC, the other sides small.
          for m in around machine.MC do
              machine, m, machine.KC + 1, 9
          for k in around machine.KC do
              machine, 25, k, 17
          for n in around machine.NC do
              machine, 3, machine.KC + 1, n ]

    for blocking, m, k, n in shapes do
        for ta, tb in forms do
            let a, b, _, _ = operands rng m k n ta tb
            let reference = Array.zeroCreate (m * n)
            Gemm.ReferenceInto(a, ta, b, tb, reference, m, k, n)

            for width, threads in [ 512, 1; 256, 2 ] do
                let c = Array.create (m * n) nan
                Gemm.IntoAt(width, a, ta, b, tb, c, m, k, n, threads, blocking)
                assertSameBits $"{describe m k n ta tb}, {blocking}, width {width}, {threads} thread(s)" reference c

/// A sysfs cache directory as Linux lays it out (index0 … index3: level, type, size, shared_cpu_list).
let private fakeSysfs (caches: (string * string * string * string) list) =
    let root = Path.Combine(Path.GetTempPath(), $"gemm-caches-{Guid.NewGuid():N}")

    caches
    |> List.iteri (fun i (level, kind, size, shared) ->
        let dir = Path.Combine(root, $"index{i}")
        Directory.CreateDirectory dir |> ignore
        File.WriteAllText(Path.Combine(dir, "level"), level + "\n")
        File.WriteAllText(Path.Combine(dir, "type"), kind + "\n")
        File.WriteAllText(Path.Combine(dir, "size"), size + "\n")
        File.WriteAllText(Path.Combine(dir, "shared_cpu_list"), shared + "\n"))

    root

let ``the blocking comes from the cache sizes: B's micro-panel in half of L1, A's block in half of L2, B's block in L3`` () =
    // This machine's kind of core (32 KiB L1d, 1 MiB L2, 32 MiB L3 shared by two CPUs).
    let root =
        fakeSysfs [ "1", "Data", "32K", "0"; "1", "Instruction", "32K", "0"; "2", "Unified", "1024K", "0"; "3", "Unified", "32768K", "0-1" ]

    try
        let caches = CacheSizes.Read root
        Assert.That(caches, Is.EqualTo(CacheSizes(32L <<< 10, 1L <<< 20, 16L <<< 20, "/sys")))
        // KC = 32 KiB / 2 / (8 columns · 8 bytes) = 256; MC = 512 KiB / (256 · 8) = 256, down to 240 (24s);
        // NC = 8 MiB / (256 · 8) = 4096.
        Assert.That(Blocking.For(caches, 24, 8), Is.EqualTo(Blocking(256, 240, 4096)))
        // The 12×4 kernel: KC = 512 (the cap), MC = 128 down to 120, NC = 2048.
        Assert.That(Blocking.For(caches, 12, 4), Is.EqualTo(Blocking(512, 120, 2048)))
    finally
        Directory.Delete(root, true)

    // Without an L3, B's block takes a quarter of L2; a missing directory gives the default sizes.
    let noL3 = fakeSysfs [ "1", "Data", "48K", "0"; "2", "Unified", "2048K", "0-1" ]

    try
        let caches = CacheSizes.Read noL3
        Assert.That(caches, Is.EqualTo(CacheSizes(48L <<< 10, 2L <<< 20, 0L, "/sys")))
        Assert.That(Blocking.For(caches, 24, 8), Is.EqualTo(Blocking(384, 336, 168)))
    finally
        Directory.Delete(noL3, true)

    Assert.That(CacheSizes.Read(Path.Combine(Path.GetTempPath(), $"no-such-{Guid.NewGuid():N}")), Is.EqualTo CacheSizes.Default)
    Assert.That(CacheSizes.CountCpus "0-3,8-11,15", Is.EqualTo 9)
    Assert.That(CacheSizes.ParseSize "1024K", Is.EqualTo(1L <<< 20))

let ``one thread and two give the same bits, split by columns and by rows`` () =
    let rng = Random 112
    // Wide (split over columns), tall and thin (split over rows), and odd sizes that leave partial panels.
    for m, k, n in [ 64, 784, 256; 700, 64, 10; 301, 97, 299; 2, 1100, 300 ] do
        for ta, tb in forms do
            let a, b, _, _ = operands rng m k n ta tb
            let one = Gemm.Multiply(a, ta, b, tb, m, k, n, 1)
            assertSameBits $"{describe m k n ta tb}, 2 threads" one (Gemm.Multiply(a, ta, b, tb, m, k, n, 2))
            // Split in two whatever the size (Multiply keeps products below its threshold on one thread).
            let two = Array.create (m * n) nan
            Gemm.IntoAt(512, a, ta, b, tb, two, m, k, n, 2)
            assertSameBits $"{describe m k n ta tb}, forced into 2 parts" one two

let ``matvec is the product with an n×1 matrix, bit for bit, and agrees with MathNet`` () =
    let rng = Random 115

    for m, n in [ 1, 1; 1, 9; 9, 1; 7, 8; 8, 7; 17, 16; 33, 100; 100, 33; 1000, 3; 5, 1100 ] do
        let a, x = randomArray rng (m * n), randomArray rng n
        let reference = Array.zeroCreate m
        Gemm.ReferenceInto(a, false, x, false, reference, m, n, 1)
        assertSameBits $"matvec {m}×{n}" reference (Kernels.MatVec(a, m, n, x))
        let expected, bound = mathNetWithBound a x m n 1 false false
        assertWithin $"matvec {m}×{n} against MathNet" expected bound reference

let ``an empty inner dimension gives zeros`` () =
    Assert.That(Gemm.Multiply([||], false, [||], false, 2, 0, 3, 1), Is.EqualTo(Array.zeroCreate<float> 6))

let ``matmul's reverse rule reads the transposes in place: the gradient graph has no transpose node`` () =
    let rng = Random 113
    let a = Expr.Var("A", T.toValue (T.matrix 5 3 (fun _ _ -> uniform rng -1.0 1.0)))
    let b = Expr.Var("B", T.toValue (T.matrix 3 4 (fun _ _ -> uniform rng -1.0 1.0)))
    let w = Expr.Const(T.toValue (T.matrix 5 4 (fun _ _ -> uniform rng -1.0 1.0)))

    for ta, tb in forms do
        let x = if ta then Expr.Var("X", T.toValue (T.matrix 3 5 (fun _ _ -> uniform rng -1.0 1.0))) else a
        let y = if tb then Expr.Var("Y", T.toValue (T.matrix 4 3 (fun _ _ -> uniform rng -1.0 1.0))) else b
        let f = Expr.Sum(Expr.Create(MatMulOp.Of(ta, tb), x, y) * w)
        let grads = AD.Gradients(f, x, y)

        for g in grads do
            let ops = Graph.PostOrder g |> Seq.choose (fun e -> Option.ofObj e.Op)
            Assert.That(ops |> Seq.filter (fun op -> op :? TransposeOp), Is.Empty, $"{MatMulOp.Of(ta, tb)}: gradient {g}")

        // Against the explicit transposes: Ā = W·op(B)ᵀ, transposed back when A enters transposed.
        let opX = if ta then Expr.Transpose x else x
        let opY = if tb then Expr.Transpose y else y
        let viaTransposes = AD.Gradients(Expr.Sum(Expr.MatMul(opX, opY) * w), x, y)

        for g, e in Seq.zip grads viaTransposes do
            assertAllClose rounding $"{MatMulOp.Of(ta, tb)} gradient" "" (T.ofValue e.Value) (T.ofValue g.Value)

let ``the transposed forms print their flags and round-trip through the graph format`` () =
    let a = Expr.Var("A", T.toValue (T.matrix 3 2 (fun i j -> float (i + 2 * j))))
    let b = Expr.Var("B", T.toValue (T.matrix 4 3 (fun i j -> float (i - j))))
    let y = Expr.Create(MatMulOp.Of(true, true), a, b)
    Assert.That(string y.Op, Is.EqualTo "matmul Aᵀ·Bᵀ")
    let json = Serialization.GraphJson.Serialize y
    Assert.That(json.Replace(" ", ""), Does.Contain("\"transpose_a\":true"))
    let loaded = Serialization.GraphJson.Deserialize json
    Assert.That(loaded.Root.Op, Is.SameAs(MatMulOp.Of(true, true)))
    assertBitIdentical "loaded value" y.Value loaded.Root.Value
    // The plain product keeps its old form, with no params.
    let plain = Serialization.GraphJson.Serialize(Expr.MatMul(Expr.Transpose a, Expr.Transpose b))
    Assert.That(plain.Contains "transpose_a", Is.False)

let ``a transposed form with inner dimensions that do not agree names both shapes`` () =
    let e =
        throws<ShapeMismatchException> (fun () ->
            Expr.Create(MatMulOp.Of(true, false), Expr.Const(T.toValue (T.zeros (Shape.Matrix(3, 2)))), Expr.Const(T.toValue (T.zeros (Shape.Matrix(2, 2)))))
            |> ignore)

    Assert.That(e.Message, Does.Contain("matrix(3, 2)"))
    Assert.That(e.Message, Does.Contain("first is transposed"))

let ``the thread count is at least 1`` () =
    let e = throws<ArgumentOutOfRangeException> (fun () -> ProductKernels.Threads <- 0)
    Assert.That(e.Message, Does.Contain("at least 1"))

let ``UseOpenBlas with a library that is not there says where to get one and keeps the managed kernel`` () =
    let before = ProductKernels.Description
    let e = throws<DllNotFoundException> (fun () -> ProductKernels.UseOpenBlas "/nonexistent/libopenblas.so.0")
    Assert.That(e.Message, Does.Contain("libopenblas0"))
    Assert.That(ProductKernels.Description, Is.EqualTo before)

/// OpenBLAS for the agreement test: FUNCTIONAL_AUTODIFF_OPENBLAS names the library (.ci/run sets it from
/// bench/openblas.sh, which extracts Debian's libopenblas0-openmp without installing it), else bench/.openblas is
/// searched. With neither the test is ignored, with the reason printed, unless FUNCTIONAL_AUTODIFF_REQUIRE_OPENBLAS
/// is set (as CI sets it): then it fails.
let private openBlasLibrary () =
    match Environment.GetEnvironmentVariable "FUNCTIONAL_AUTODIFF_OPENBLAS" with
    | null
    | "" ->
        let rec up (dir: DirectoryInfo | null) =
            match dir with
            | null -> None
            | d when Directory.Exists(Path.Combine(d.FullName, "bench", ".openblas")) -> Some(Path.Combine(d.FullName, "bench", ".openblas"))
            | d -> up d.Parent

        up (DirectoryInfo AppContext.BaseDirectory)
        |> Option.bind (fun root ->
            Directory.EnumerateFiles(root, "libblas.so.3", SearchOption.AllDirectories)
            |> Seq.tryFind (fun p -> p.Contains "openblas"))
    | library -> Some library

let ``OpenBLAS and the managed kernel agree to rounding, in all four forms`` () =
    match openBlasLibrary () with
    | None when not (String.IsNullOrEmpty(Environment.GetEnvironmentVariable "FUNCTIONAL_AUTODIFF_REQUIRE_OPENBLAS")) ->
        Assert.Fail "FUNCTIONAL_AUTODIFF_REQUIRE_OPENBLAS is set but no OpenBLAS was found: run bench/openblas.sh and set FUNCTIONAL_AUTODIFF_OPENBLAS to the path it prints."
    | None ->
        Expecto.Tests.skiptest "No OpenBLAS here: run bench/openblas.sh (apt-get download, nothing installed) and set FUNCTIONAL_AUTODIFF_OPENBLAS to the path it prints."
    | Some library ->
        let blas = OpenBlas.Load library
        Console.Out.WriteLine $"{library}: {blas.Description}"
        let rng = Random 114

        for m, k, n in [ 1, 1, 1; 7, 300, 9; 64, 784, 256; 257, 33, 100; 1, 500, 1; 300, 1, 200 ] do
            for ta, tb in forms do
                let a, b, _, _ = operands rng m k n ta tb
                let _, bound = mathNetWithBound a b m k n ta tb
                let managed = Gemm.Multiply(a, ta, b, tb, m, k, n, 2)
                assertWithin $"{describe m k n ta tb}: OpenBLAS against the managed kernel" managed bound (blas.Multiply(a, ta, b, tb, m, k, n))

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Gemm" [
        testPropertyWithConfig { replay Seed with maxTest = 60 } "the product agrees with MathNet's to the rounding bound of the inner dimension, for random shapes and transposes" ``the product agrees with MathNet's to the rounding bound of the inner dimension, for random shapes and transposes``
        testCase "every element is the fused multiply-add chain over the inner index, at every vector width, at the edges" ``every element is the fused multiply-add chain over the inner index, at every vector width, at the edges``
        testCase "every blocking gives the same bits, with sizes just below, at and just above each block" ``every blocking gives the same bits, with sizes just below, at and just above each block``
        testCase "the blocking comes from the cache sizes: B's micro-panel in half of L1, A's block in half of L2, B's block in L3" ``the blocking comes from the cache sizes: B's micro-panel in half of L1, A's block in half of L2, B's block in L3``
        testCase "one thread and two give the same bits, split by columns and by rows" ``one thread and two give the same bits, split by columns and by rows``
        testCase "matvec is the product with an n×1 matrix, bit for bit, and agrees with MathNet" ``matvec is the product with an n×1 matrix, bit for bit, and agrees with MathNet``
        testCase "an empty inner dimension gives zeros" ``an empty inner dimension gives zeros``
        testCase "matmul's reverse rule reads the transposes in place: the gradient graph has no transpose node" ``matmul's reverse rule reads the transposes in place: the gradient graph has no transpose node``
        testCase "the transposed forms print their flags and round-trip through the graph format" ``the transposed forms print their flags and round-trip through the graph format``
        testCase "a transposed form with inner dimensions that do not agree names both shapes" ``a transposed form with inner dimensions that do not agree names both shapes``
        testCase "the thread count is at least 1" ``the thread count is at least 1``
        testCase "UseOpenBlas with a library that is not there says where to get one and keeps the managed kernel" ``UseOpenBlas with a library that is not there says where to get one and keeps the managed kernel``
        testCase "OpenBLAS and the managed kernel agree to rounding, in all four forms" ``OpenBLAS and the managed kernel agree to rounding, in all four forms``
    ]
