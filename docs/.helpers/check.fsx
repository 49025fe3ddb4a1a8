// Tutorial numbers on the docs pages: `expect label tutorial actual` prints one line
//
//     z at w = 1: 40.5000 (tutorial: 40.5000)
//
// and fails when the library's number does not agree with what the tutorial printed; `finish ()` at the end of
// a page prints "docs-check: N numbers matched", which tests/Docs.Tests looks for.
//
// A number agrees when it rounds to the printed one at the printed precision ("40.5000" allows ±0.00005); a
// number printed without decimals ("72." or "12") must agree to 1e-9 relative. The rule is the tour's
// (samples/Tour/TutorialNumbers.cs), referenced from the tour's assembly so that it is written once.
//
// A mismatch throws, so `dotnet fsi docs/page.fsx` stops with exit code 1 and the message. fsdocs would only
// leave the cell's output empty (it swallows exceptions in evaluated cells, even with --strict), so under
// `fsdocs build --eval` a mismatch prints the message to stderr and ends fsdocs with exit code 1.
[<AutoOpen>]
module Check

#load "references.fsx"
#r "../.lib/Tour.dll"

open System
open System.Globalization
open System.IO
open System.Text.RegularExpressions
open MathNet.Numerics.LinearAlgebra
open Functional.Autodiff
open Functional.Autodiff.Tour

/// Numbers in reading order (row by row for a matrix) and their shape: rank 0, 1 or 2, and the row length.
type Numbers = { Items: float[]; Rank: int; Cols: int }

let private scalar x = { Items = [| x |]; Rank = 0; Cols = 1 }
let private vector (xs: float[]) = { Items = xs; Rank = 1; Cols = xs.Length }

let private matrix rows cols (at: int -> int -> float) =
    { Items = [| for i in 0 .. rows - 1 do for j in 0 .. cols - 1 -> at i j |]; Rank = 2; Cols = cols }

/// The numbers of what a page computed: a Value, a MathNet vector or matrix, a number, or an array or list of numbers.
let numbersOf (actual: obj) : Numbers =
    match actual with
    | null -> invalidArg "actual" "expect got null instead of a number"
    | :? Value as v when v.Shape.IsScalar -> scalar (v.ToScalar())
    | :? Value as v when v.Shape.IsVector -> vector (v.ToArray())
    | :? Value as v -> matrix v.Shape.Rows v.Shape.Cols (fun i j -> v[i, j])
    | :? Vector<float> as v -> vector (v.ToArray())
    | :? Matrix<float> as m -> matrix m.RowCount m.ColumnCount (fun i j -> m[i, j])
    | :? float as x -> scalar x
    | :? float32 as x -> scalar (float x)
    | :? int as x -> scalar (float x)
    | :? int64 as x -> scalar (float x)
    | :? decimal as x -> scalar (float x)
    | :? (float[,]) as a -> matrix (Array2D.length1 a) (Array2D.length2 a) (fun i j -> a[i, j])
    | :? seq<float[]> as rows ->
        let rows = Seq.toArray rows
        let cols = if rows.Length = 0 then 0 else rows[0].Length
        if rows |> Array.exists (fun r -> r.Length <> cols) then invalidArg "actual" "expect got rows of different lengths"
        matrix rows.Length cols (fun i j -> rows[i][j])
    | :? seq<float> as xs -> vector (Seq.toArray xs)
    | _ -> invalidArg "actual" $"expect cannot read numbers from a {actual.GetType().FullName}: {actual}"

let private bracket (n: Numbers) (cells: string[]) =
    match n.Rank with
    | 0 -> String.concat "" cells
    | 1 -> "[" + String.concat ", " cells + "]"
    | _ ->
        let rows = cells |> Array.chunkBySize (max 1 n.Cols) |> Array.map (fun r -> "[" + String.concat ", " r + "]")
        "[" + String.concat ", " rows + "]"

/// The library's numbers with as many decimals as the tutorial shows for each (4 when the counts differ).
let private render (n: Numbers) (printed: string[]) =
    n.Items
    |> Array.mapi (fun k x ->
        TutorialNumbers.Format(x, (if printed.Length = n.Items.Length then TutorialNumbers.Decimals printed[k] else 4)))
    |> bracket n

/// Every digit the library computed, for the message of a mismatch.
let private renderExact (n: Numbers) =
    n.Items |> Array.map (fun x -> x.ToString("R", CultureInfo.InvariantCulture)) |> bracket n

/// Rows of a printed matrix ("[[1., 2.], [3., 4.]]" has 2), or None when it is not printed as a matrix.
let private printedRows (printed: string) =
    if printed.Contains "[[" then Some(Regex.Matches(printed, @"\[(?!\[)").Count) else None

let private underFsdocs =
    let args = Environment.GetCommandLineArgs()
    args.Length > 0 && Path.GetFileName(args[0]).StartsWith("fsdocs", StringComparison.OrdinalIgnoreCase)

let mutable private matched = 0

let private fail (message: string) : unit =
    if underFsdocs then
        // fsdocs captures Console.Error while it evaluates a cell and ignores exceptions: write to the process's
        // own stderr and stop the docs build.
        use stderr = new StreamWriter(Console.OpenStandardError(), AutoFlush = true)
        stderr.WriteLine message
        exit 1
    else
        failwith message

/// Prints "label: library (tutorial: printed)" and fails unless every number agrees with the tutorial's printed
/// one at its printed precision. `tutorial` is the tutorial's output as printed: "40.5000", "[9., 9., 9.]",
/// "tensor([0., 2., 4., 6.])", "[[4., 2.], [2., 4.]]". `actual` is a Value, a MathNet vector or matrix, a number,
/// or an array or list of numbers.
let expect (label: string) (tutorial: string) (actual: 'T) : unit =
    let n = numbersOf (box actual)
    let printed = TutorialNumbers.Parse tutorial
    let sameCount = printed.Length = n.Items.Length
    let sameRows =
        match n.Rank, printedRows tutorial with
        | 2, Some rows -> rows = n.Items.Length / max 1 n.Cols
        | _ -> true
    let ok = sameCount && sameRows && Array.forall2 (fun x p -> TutorialNumbers.Agrees(x, p)) n.Items printed
    printfn "%s: %s (tutorial: %s)" label (render n printed) (tutorial.Trim())
    if ok then
        matched <- matched + 1
    else
        let why =
            if not sameCount then $"{n.Items.Length} numbers computed, {printed.Length} printed"
            elif not sameRows then "a different number of rows"
            else "a number differs beyond the printed precision"
        fail $"docs-check: MISMATCH {label}: the library computed {renderExact n}, the tutorial printed {tutorial.Trim()} ({why})"

/// Ends a page that checks numbers: prints "docs-check: N numbers matched" (N = the expect calls so far).
let finish () = printfn "docs-check: %d numbers matched" matched
