/// The README's F# example, statement for statement, with its printed lines checked.
module Functional.Autodiff.FSharp.Tests.ReadmeExample

open NUnit.Framework
open Functional.Autodiff.FSharp

/// The example's printfn, capturing lines instead of writing them.
type private Capture() =
    let lines = ResizeArray<string>()
    member _.Lines = List.ofSeq lines
    member _.printfn(format: Printf.StringFormat<'a, unit>) : 'a = Printf.kprintf lines.Add format

let private example (out: Capture) =
    let printfn format = out.printfn format
    // ---- README, F# example: from here ----
    let x = constant (vector [ 0.5; 0.5; 0.5 ])
    let z (w: Expr) = 3.0 * dot x ((w + 2.0) ** 2.0)                      // z = 3·xᵀ(w + 2)∘²

    let value, g = valueAndGrad z (vector [ 1.0; 1.0; 1.0 ])
    printfn "%g %O" value g                                                // 40.5 [9, 9, 9]
    printfn "%O" (g + grad z (vector [ 1.0; 1.0; 1.0 ]))                   // [18, 18, 18]: accumulating is adding

    // A function of a tuple gives a tuple of gradients: f = (x + 2y)·z at (3, -4, 19).
    let f, (dx, dy, dz) = valueAndGrad (fun (x, y, z) -> (x + 2.0 * y) * z) (3.0, -4.0, 19.0)
    printfn "%g %g %g %g" f dx dy dz                                       // -95 19 38 -5

    // PyTorch's y.backward(v) is the pullback of vjp; second derivatives nest.
    let _, pullback = vjp (fun x -> x * x) (vector [ 0.0; 1.0; 2.0; 3.0 ])
    printfn "%O" (pullback (vector [ 0.01; 0.1; 1.0; 10.0 ]))              // [0, 0.2, 4, 60]
    printfn "%O" (hessian (fun x -> 2.0 * dot x x) (vector [ 1.0; 1.0 ]))  // [[4, 0], [0, 4]]
    printfn "%g" (grad (fun x -> x * diff (fun y -> x * y) x) 3.0)         // 6
    // ---- to here ----

/// The README's anomaly check, run in this file: the report names this file's line, where the README's Model.fs
/// has line 3.
let private anomalyExample (out: Capture) =
    let printfn format = out.printfn format
    // ---- README, F# anomaly check: from here ----
    let report = checkAnomalies (fun x -> sqrt x + log x) 0.0
    printfn "%b" report.IsFinite                                           // false
    printfn "%O" report
    // log at Model.fs:3 produced -Infinity from input 0
    // sqrt's gradient rule at Model.fs:3 produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)
    // ---- to here ----
    int __LINE__ - 6 // the line of "let report = ...", six above

let ``the README's F# example prints what the README says`` () =
    let out = Capture()
    example out
    Assert.That(out.Lines, Is.EqualTo [ "40.5 [9, 9, 9]"; "[18, 18, 18]"; "-95 19 38 -5"; "[0, 0.2, 4, 60]"; "[[4, 0], [0, 4]]"; "6" ])

let ``the README's F# anomaly check prints what the README says`` () =
    let out = Capture()
    let line = anomalyExample out
    let printed = out.Lines |> List.map (fun l -> l.Replace($"ReadmeExample.fs:{line}", "Model.fs:3"))
    Assert.That(
        printed,
        Is.EqualTo
            [
                "false"
                "log at Model.fs:3 produced -Infinity from input 0\n"
                + "sqrt's gradient rule at Model.fs:3 produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)"
            ]
    )

/// The lines of this file between a "from here" marker and the next "to here", as the README shows them.
let private region (marker: string) =
    let root =
        let rec up (dir: System.IO.DirectoryInfo | null) =
            match dir with
            | null -> failwith "no Functional.sln above the test's folder"
            | d when System.IO.File.Exists(System.IO.Path.Combine(d.FullName, "Functional.sln")) -> d.FullName
            | d -> up d.Parent
        up (System.IO.DirectoryInfo System.AppContext.BaseDirectory)
    let source = System.IO.File.ReadAllLines(System.IO.Path.Combine(root, "tests", "FSharp.Api.Tests", "ReadmeExample.fs"))
    let from = source |> Array.findIndex (fun l -> l.Contains marker)
    let upTo = from + (source[from..] |> Array.findIndex (fun l -> l.Contains "---- to here ----"))
    let body = source[from + 1 .. upTo - 1] |> Array.map (fun l -> if l.Length >= 4 then l.Substring 4 else l.Trim())
    let readme = System.IO.File.ReadAllText(System.IO.Path.Combine(root, "README.md")).Replace("\r\n", "\n")
    readme, String.concat "\n" body

let ``the README shows this example`` () =
    let readme, body = region "README, F# example: from here"
    Assert.That(readme, Does.Contain body, "README.md's F# example differs from tests/FSharp.Api.Tests/ReadmeExample.fs")

let ``the README shows this anomaly check`` () =
    let readme, body = region "README, F# anomaly check: from here"
    Assert.That(readme, Does.Contain body, "README.md's F# anomaly check differs from tests/FSharp.Api.Tests/ReadmeExample.fs")

open Expecto

[<Tests>]
let tests =
    testList "ReadmeExample" [
        testCase "the README's F# example prints what the README says" ``the README's F# example prints what the README says``
        testCase "the README's F# anomaly check prints what the README says" ``the README's F# anomaly check prints what the README says``
        testCase "the README shows this example" ``the README shows this example``
        testCase "the README shows this anomaly check" ``the README shows this anomaly check``
    ]
