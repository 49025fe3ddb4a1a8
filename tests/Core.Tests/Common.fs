/// Helpers shared by the property tests: plain-array tensors for reference computations, tolerances,
/// deterministic randomness, and failure messages that print every number with %.17g.
module Functional.Autodiff.Tests.Common

open System
open System.Collections.Generic
open MathNet.Numerics.LinearAlgebra
open NUnit.Framework
open Functional.Autodiff

/// How close two numbers must be: |a − b| ≤ Absolute + Relative · max(|a|, |b|).
type Tolerance =
    {
        Absolute: float
        Relative: float
    }

    override t.ToString() =
        sprintf "{ absolute %g; relative %g }" t.Absolute t.Relative

/// True when a and b are within the tolerance (false for NaN).
let within (tol: Tolerance) (a: float) (b: float) =
    abs (a - b) <= tol.Absolute + tol.Relative * max (abs a) (abs b)

/// Rounding-level agreement, for computations that should agree up to a few ulps per term.
let rounding = { Absolute = 1e-13; Relative = 1e-12 }

/// A plain tensor for reference computations: a shape and its elements, column-major like Value.
type T = { Shape: Shape; Data: float[] }

[<RequireQualifiedAccess>]
module T =
    let scalar x =
        { Shape = Shape.Scalar; Data = [| x |] }

    let vector (d: float[]) =
        {
            Shape = Shape.Vector d.Length
            Data = d
        }

    let init (s: Shape) (f: int -> float) =
        {
            Shape = s
            Data = Array.init s.Size f
        }

    let zeros (s: Shape) = init s (fun _ -> 0.0)

    /// An m×n matrix from f i j.
    let matrix m n (f: int -> int -> float) =
        {
            Shape = Shape.Matrix(m, n)
            Data = Array.init (m * n) (fun k -> f (k % m) (k / m))
        }

    /// Element (i, j) of a matrix (column-major), element i of a vector (j = 0).
    let at (t: T) i j = t.Data[j * t.Shape.Rows + i]
    let map f (t: T) = { t with Data = Array.map f t.Data }
    let ofValue (v: Value) = { Shape = v.Shape; Data = v.ToArray() }

    let toValue (t: T) : Value =
        match t.Shape.Rank with
        | 0 -> Value.Scalar t.Data[0]
        | 1 -> Value.FromArray(Array.copy t.Data)
        | _ -> Value.FromMatrix(Matrix<float>.Build.DenseOfColumnMajor(t.Shape.Rows, t.Shape.Cols, Array.copy t.Data))

    /// a·x + y.
    let axpy (a: float) (x: T) (y: T) =
        if x.Shape <> y.Shape then
            invalidArg "x" $"axpy: {x.Shape} and {y.Shape}"

        { y with
            Data = Array.map2 (fun xi yi -> a * xi + yi) x.Data y.Data
        }

    /// ⟨a, b⟩ over all elements.
    let dot (a: T) (b: T) =
        if a.Shape <> b.Shape then
            invalidArg "b" $"dot: {a.Shape} and {b.Shape}"

        Array.fold2 (fun s x y -> s + x * y) 0.0 a.Data b.Data

    /// Σ |aₖ bₖ|: the scale a rounding error of ⟨a, b⟩ is measured against.
    let absDot (a: T) (b: T) =
        Array.fold2 (fun s x y -> s + abs (x * y)) 0.0 a.Data b.Data

/// Σᵢ ⟨aᵢ, bᵢ⟩ over lists of tensors.
let dots (a: T list) (b: T list) = List.map2 T.dot a b |> List.sum

/// Σᵢ Σₖ |aᵢₖ bᵢₖ|.
let absDots (a: T list) (b: T list) = List.map2 T.absDot a b |> List.sum

/// A number as C's %.17g, enough digits to reproduce it exactly.
let g17 (x: float) = sprintf "%.17g" x

/// "vector(3) [0.10000000000000001; …]" with every element printed in full.
let fmt (t: T) =
    sprintf "%O [%s]" t.Shape (t.Data |> Array.map g17 |> String.concat "; ")

let fmtValue (v: Value) = fmt (T.ofValue v)

/// A seed that is the same in every process (string.GetHashCode is randomised per process).
let stableSeed (s: string) =
    let mutable h = 2166136261u

    for c in s do
        h <- (h ^^^ uint32 c) * 16777619u

    int (h &&& 0x7fffffffu)

/// Uniform in [lo, hi).
let uniform (rng: Random) lo hi = lo + (hi - lo) * rng.NextDouble()

/// A tensor of the given shape with elements uniform in [−1, 1): a random direction or cotangent.
let randomOf (rng: Random) (s: Shape) =
    T.init s (fun _ -> uniform rng -1.0 1.0)

let randomLike (rng: Random) (t: T) = randomOf rng t.Shape

/// Traced variables x0, x1, … carrying these values.
let traced (xs: T list) : Expr list =
    xs |> List.mapi (fun i x -> Expr.Var($"x{i}", T.toValue x) :> Expr)

/// The values of a list of graphs.
let valuesOf (es: Expr seq) =
    es |> Seq.map (fun e -> T.ofValue e.Value) |> List.ofSeq

/// A dictionary of bindings for AD.Eval (Expr equality is identity, so the default comparer is the identity).
let bindings (pairs: (Var * Value) list) : IReadOnlyDictionary<Var, Value> =
    let d = Dictionary<Var, Value>()

    for v, x in pairs do
        d[v] <- x

    d :> IReadOnlyDictionary<Var, Value>

/// The bindings of those variables that the graph reads (AD.Eval refuses a binding the graph does not read).
let bindingsFor (graph: Expr) (all: IReadOnlyDictionary<Var, Value>) : IReadOnlyDictionary<Var, Value> =
    let reads = HashSet<Expr>(Graph.PostOrder graph, HashIdentity.Reference)
    bindings [ for KeyValue(v, x) in all do if reads.Contains v then v, x ]

/// The bits of a double, for bit-identical comparisons.
let bits (x: float) = BitConverter.DoubleToInt64Bits x

/// The bytes this thread allocates while f runs (warm f up first: a first call compiles and fills caches).
let bytesAllocatedBy (f: unit -> unit) =
    let before = GC.GetAllocatedBytesForCurrentThread()
    f ()
    GC.GetAllocatedBytesForCurrentThread() - before

/// Fails unless every element is within the tolerance; the message shows both sides in full.
let assertAllClose (tol: Tolerance) (what: string) (context: string) (expected: T) (actual: T) =
    if expected.Shape <> actual.Shape then
        Assert.Fail $"{what}: shape {actual.Shape}, expected {expected.Shape}\n{context}"

    let bad =
        Array.zip expected.Data actual.Data
        |> Array.tryFindIndex (fun (e, a) -> not (within tol e a))

    match bad with
    | Some k ->
        Assert.Fail(
            $"{what}: element {k} is {g17 actual.Data[k]}, expected {g17 expected.Data[k]} (tolerance {tol})\n"
            + $"  expected = {fmt expected}\n  actual   = {fmt actual}\n{context}"
        )
    | None -> ()

/// Fails unless the two values are bit-identical.
let assertBitIdentical (what: string) (expected: Value) (actual: Value) =
    let e, a = T.ofValue expected, T.ofValue actual

    if e.Shape <> a.Shape || Array.map bits e.Data <> Array.map bits a.Data then
        Assert.Fail $"{what}: not bit-identical\n  expected = {fmt e}\n  actual   = {fmt a}"

/// Asserts that f throws exactly 'E and returns the exception.
let throws<'E when 'E :> exn and 'E: not struct and 'E: not null> (f: unit -> unit) : 'E =
    match Assert.Throws<'E>(TestDelegate f) with
    | null -> failwith "Assert.Throws returned null"
    | e -> e

/// Asserts that the library's GradCheck passes for f at x at orders 1 and 2 (tolerance 1e-6 absolute, 1e-5 relative,
/// seed 1), naming `what` and the order on failure: the check the op families' composed models go through.
/// The shipped generators' GradProperties.Check, the same check users run on their own functions.
let assertGradCheckOrders12 (what: string) (f: Expr -> Expr) (x: Value) =
    let r = Functional.Autodiff.Generators.GradProperties.Check(Func<Expr, Expr>(f), x)
    Assert.That(r.Passed, $"{what}orders 1 and 2\n{r}")

/// The repository root: the nearest folder above the test assembly that holds Functional.sln (for files in data/).
let repoRoot =
    let rec up (dir: IO.DirectoryInfo | null) =
        match dir with
        | null -> failwith $"No Functional.sln in any folder above {AppContext.BaseDirectory}"
        | dir when IO.File.Exists(IO.Path.Combine(dir.FullName, "Functional.sln")) -> dir.FullName
        | dir -> up dir.Parent

    up (IO.DirectoryInfo AppContext.BaseDirectory)
