/// Every docs page runs as a script: one test per docs/*.fsx runs `dotnet fsi <page>` from the repository root
/// and asserts exit code 0 and, for a page that checks tutorial numbers (it loads .helpers/check.fsx), the
/// "docs-check: N numbers matched" line. The build of this project copies the libraries into docs/.lib first
/// (Docs.Tests.fsproj), so the pages run against the libraries this test was built with.
module Functional.Autodiff.Docs.Tests.Pages

open System
open System.Diagnostics
open System.IO
open System.Reflection.Metadata
open System.Reflection.PortableExecutable
open System.Runtime.InteropServices
open System.Text.RegularExpressions
open NUnit.Framework

/// The repository root: the nearest folder above the test assembly that holds Functional.sln.
let repoRoot =
    let rec up (dir: DirectoryInfo | null) =
        match dir with
        | null -> failwith $"No Functional.sln in any folder above {AppContext.BaseDirectory}"
        | dir when File.Exists(Path.Combine(dir.FullName, "Functional.sln")) -> dir.FullName
        | dir -> up dir.Parent

    up (DirectoryInfo AppContext.BaseDirectory)

let docsDir = Path.Combine(repoRoot, "docs")
let libDir = Path.Combine(docsDir, ".lib")
let helpersDir = Path.Combine(docsDir, ".helpers")

/// The pages: docs/*.fsx. The helpers they load live in docs/.helpers, which is not a page (fsdocs skips it too).
let pages =
    Directory.GetFiles(docsDir, "*.fsx") |> Array.map (Path.GetFileName >> nonNull) |> Array.sort

/// A page's run gets this long; the slowest page takes a few seconds.
let timeout = TimeSpan.FromMinutes 5.0

/// The dotnet executable that runs this test (testhost runs under it), else DOTNET_HOST_PATH, else dotnet on PATH.
let dotnet =
    match Process.GetCurrentProcess().MainModule, Environment.GetEnvironmentVariable "DOTNET_HOST_PATH" with
    | NonNull host, _ when Path.GetFileNameWithoutExtension host.FileName = "dotnet" -> host.FileName
    | _, NonNull fromEnv when File.Exists fromEnv -> fromEnv
    | _ -> "dotnet"

type Run =
    {
        ExitCode: int
        Stdout: string
        Stderr: string
        Elapsed: TimeSpan
    }

/// Runs `dotnet fsi <arguments>` in the repository root, with this process's environment, and with `input` on its
/// standard input when given (F# Interactive then reads it as typed lines, and echoes each value with its printer).
let fsiRun (arguments: string list) (input: string option) : Run =
    let start = ProcessStartInfo(dotnet, WorkingDirectory = repoRoot)
    start.ArgumentList.Add "fsi"

    for a in arguments do
        start.ArgumentList.Add a

    start.RedirectStandardOutput <- true
    start.RedirectStandardError <- true
    start.RedirectStandardInput <- input.IsSome
    start.UseShellExecute <- false
    let what = String.Join(" ", arguments)
    let clock = Stopwatch.StartNew()

    use p =
        match Process.Start start with
        | null -> failwith $"could not start {dotnet} fsi {what}"
        | p -> p

    let stdout = p.StandardOutput.ReadToEndAsync()
    let stderr = p.StandardError.ReadToEndAsync()

    match input with
    | Some text ->
        p.StandardInput.Write text
        p.StandardInput.Close()
    | None -> ()

    if not (p.WaitForExit timeout) then
        p.Kill(entireProcessTree = true)
        p.WaitForExit()
        Assert.Fail($"dotnet fsi {what} did not finish in {timeout}\n{stdout.Result}\n{stderr.Result}")

    p.WaitForExit() // lets the output reads finish

    {
        ExitCode = p.ExitCode
        Stdout = stdout.Result
        Stderr = stderr.Result
        Elapsed = clock.Elapsed
    }

/// Runs `dotnet fsi <script>` in the repository root.
let fsi (script: string) : Run = fsiRun [ script ] None

/// The last lines of some output, for a failure message.
let tail (lines: int) (text: string) =
    let all = text.TrimEnd().Split('\n')
    let kept = all[max 0 (all.Length - lines) ..]
    (if kept.Length < all.Length then "…\n" else "") + String.Join("\n", kept)

let describe (script: string) (run: Run) =
    $"dotnet fsi {script} exited with {run.ExitCode} after {run.Elapsed.TotalSeconds:F1} s\n"
    + $"--- stdout (tail)\n{tail 40 run.Stdout}\n--- stderr (tail)\n{tail 40 run.Stderr}"

let docsCheck =
    Regex(@"^docs-check: (\d+) numbers matched\s*$", RegexOptions.Multiline)

/// The tutorial numbers the C# tour checks for one seed (samples/Tour/Program.cs, the rows of `static void SeedNNN`):
/// each row's notebook cell ("In [12]", "markdown") and, where the row gives it as a literal, the printed number.
let tourRows (seed: string) : (string * string option) list =
    let program =
        File.ReadAllText(Path.Combine(repoRoot, "samples", "Tour", "Program.cs"))

    let start = program.IndexOf $"static void Seed{seed}("

    if start < 0 then
        failwith $"samples/Tour/Program.cs has no Seed{seed}"

    let next = program.IndexOf("static ", start + 1)

    let body =
        program.Substring(start, (if next < 0 then program.Length else next) - start)

    [
        for m in Regex.Matches(body, @"r\.Row\(""([^""]+)"",(.*?)\);", RegexOptions.Singleline) ->
            let literal = Regex.Match(m.Groups[2].Value, @"""([^""]*)""\s*$")
            let constant = Regex.Match(m.Groups[2].Value, @",\s*(\w+)\s*$")

            let declared (name: string) =
                Regex.Match(body, $@"const string {name} = ""([^""]*)"";")

            m.Groups[1].Value,
            (if literal.Success then
                 Some literal.Groups[1].Value
             elif constant.Success && (declared constant.Groups[1].Value).Success then
                 Some (declared constant.Groups[1].Value).Groups[1].Value
             else
                 None)
    ]

/// Numbers as printed, without the spaces the notebooks align them with.
let private squeeze (s: string) = s.Replace(" ", "")

/// A tutorial page (tutorial-NNN-*.fsx) checks every number the tour checks for seed NNN: as many `expect` lines
/// from each notebook cell, and each literal tutorial number among its "(tutorial: ...)" lines.
let assertCoversTour (page: string) (stdout: string) =
    let m = Regex.Match(page, @"^tutorial-(\d{3})-")

    if m.Success then
        let rows = tourRows m.Groups[1].Value
        Assert.That(rows, Is.Not.Empty, $"the tour has no rows for {page}")
        let lines = stdout.Split('\n') |> Array.map (fun l -> l.TrimEnd())

        for cell, count in rows |> List.countBy fst do
            let shown =
                lines |> Array.filter (fun l -> l.StartsWith(cell + " ")) |> Array.length

            Assert.That(
                shown,
                Is.GreaterThanOrEqualTo count,
                $"{page}: the tour checks {count} number(s) of {cell}, the page {shown}"
            )

        let printed =
            lines
            |> Array.choose (fun l ->
                let k = l.LastIndexOf "(tutorial: " in if k < 0 then None else Some(squeeze l[k..]))

        for cell, expected in rows do
            match expected with
            | Some e ->
                Assert.That(
                    printed |> Array.exists (fun p -> p = squeeze $"(tutorial: {e})"),
                    Is.True,
                    $"{page}: no check of {cell}'s {e}"
                )
            | None -> ()

let ``the tour's rows are read: 57 rows over five seeds, one page per seed`` () =
    let rows = [ for seed in [ "000"; "001"; "002"; "003"; "004" ] -> tourRows seed ]
    // 61 tutorial numbers: seed 002's loop is one row in the source that prints five times.
    Assert.That(rows |> List.sumBy List.length, Is.EqualTo 57, "rows in samples/Tour/Program.cs")

    Assert.That(
        rows |> List.concat |> List.filter (snd >> Option.isNone) |> List.length,
        Is.EqualTo 1,
        "only seed 002's loop row prints a computed number"
    )

    for seed in [ "000"; "001"; "002"; "003"; "004" ] do
        Assert.That(
            pages |> Array.exists (fun p -> (string p).StartsWith $"tutorial-{seed}-"),
            Is.True,
            $"no page for seed {seed}"
        )

let ``page runs under dotnet fsi`` (page: string) =
    let script = Path.Combine("docs", page)
    let run = fsi script
    Console.Out.WriteLine($"{script}: {run.Elapsed.TotalSeconds:F1} s")
    Assert.That(run.ExitCode, Is.EqualTo 0, describe script run)

    if File.ReadAllText(Path.Combine(repoRoot, script)).Contains ".helpers/check.fsx" then
        let m = docsCheck.Match run.Stdout

        Assert.That(
            m.Success,
            Is.True,
            $"{script} loads check.fsx but printed no docs-check line: end it with `finish ()`.\n{describe script run}"
        )

        Console.Out.WriteLine(m.Value.Trim())

        Assert.That(
            int m.Groups[1].Value,
            Is.GreaterThan 0,
            $"{script} checked no tutorial number\n{describe script run}"
        )

        assertCoversTour page run.Stdout

let ``docs/.lib holds the libraries this test was built with`` () =
    let libraries =
        Directory.GetFiles(AppContext.BaseDirectory, "Functional.Autodiff*.dll")
        |> Array.map (fun path -> FileInfo(path).Name)

    Assert.That(libraries, Does.Contain "Functional.Autodiff.dll", "the test references the C# core")

    for library in libraries do
        let built = Path.Combine(AppContext.BaseDirectory, library)
        let copied = Path.Combine(libDir, library)

        Assert.That(
            File.Exists copied,
            Is.True,
            $"{copied} is missing: build tests/Docs.Tests (dotnet build) to fill docs/.lib"
        )

        Assert.That(
            File.ReadAllBytes copied = File.ReadAllBytes built,
            Is.True,
            $"{copied} is not the {built} this test was built with: docs/.lib was filled by another build since; build again"
        )

/// The names of the assemblies an assembly references, read from its metadata without loading it.
let references (path: string) =
    use pe = new PEReader(File.OpenRead path)
    let md = pe.GetMetadataReader()

    [
        for h in md.AssemblyReferences -> md.GetString(md.GetAssemblyReference(h).Name)
    ]

let ``docs/.lib holds every assembly the libraries reference beyond the framework`` () =
    let framework = RuntimeEnvironment.GetRuntimeDirectory()

    let provided name =
        File.Exists(Path.Combine(framework, name + ".dll")) || name = "FSharp.Core" // fsi brings its own

    for library in Directory.GetFiles(libDir, "Functional.Autodiff*.dll") do
        for name in references library do
            if not (provided name) then
                Assert.That(
                    File.Exists(Path.Combine(libDir, name + ".dll")),
                    Is.True,
                    $"{Path.GetFileName library} references {name}, which is not in docs/.lib: add its package to DocsLibraryPackages in tests/Docs.Tests/Docs.Tests.fsproj and an #r to docs/.helpers/references.fsx"
                )

/// The helpers' contract, on a script that is not a page: numbers within the printed precision pass and are
/// counted, the C# of every tutorial is found, a graph is drawn (or shown as DOT where Graphviz is missing), and a
/// number beyond the printed precision stops the script with the message.
let ``check.fsx passes numbers within the printed precision and stops at one beyond it`` () =
    let script = Path.Combine(Path.GetTempPath(), $"docs-check-{Guid.NewGuid():N}.fsx")

    let helper name =
        Path.Combine(helpersDir, name).Replace("\\", "/")

    File.WriteAllText(
        script,
        $"""
#load "{helper "references.fsx"}" "{helper "check.fsx"}" "{helper "csharp.fsx"}" "{helper "graphviz.fsx"}"
open Functional.Autodiff
expect "four decimals" "40.5000" 40.50004
expect "no decimals, a PyTorch tensor" "tensor([9., 9., 9.], grad_fn=<MulBackward0>)" (Value.FromArray(9.0, 9.0, 9.0))
expect "a matrix, row by row" "[[4., 2., 2.], [2., 4., 2.]]" (array2D [ [ 4.0; 2.0; 2.0 ]; [ 2.0; 4.0; 2.0 ] ])
expect "a one-element tensor against a scalar" "[20.0855]" (exp 3.0)
for seed in [ "Seed000"; "Seed001"; "Seed002"; "Seed003"; "Seed004" ] do
    let source = CSharp.source seed
    if not (source.StartsWith $"static void {{seed}}(Report r)" && source.EndsWith "}}") then failwith $"C# of {{seed}}: {{source}}"
    if not ((CSharp.html [ seed ]).Contains "<code lang=\"csharp\">") then failwith $"no code block for {{seed}}"
let drawn = Graphviz.svg "digraph {{ x -> q; y -> q; q -> f; z -> f }}"
if not (drawn.StartsWith "<svg" || drawn.StartsWith "<pre><code>digraph") then failwith $"Graphviz.svg: {{drawn}}"
finish ()
expect "beyond four decimals" "40.5000" 40.50006
printfn "not reached"
"""
    )

    try
        let run = fsi script
        let message = describe script run
        Assert.That(run.ExitCode, Is.EqualTo 1, message)
        Assert.That(run.Stdout, Does.Contain "docs-check: 4 numbers matched", message)
        Assert.That(run.Stdout, Does.Contain "beyond four decimals: 40.5001 (tutorial: 40.5000)", message)

        Assert.That(
            run.Stderr,
            Does.Contain "docs-check: MISMATCH beyond four decimals: the library computed 40.50006",
            message
        )

        Assert.That(run.Stdout, Does.Not.Contain "not reached", message)
    finally
        File.Delete script

let ``F# Interactive prints graphs, values and parameters with the F# API's printers`` () =
    let input =
        String.concat
            "\n"
            [
                "#load \"docs/.helpers/references.fsx\";;"
                "open Functional.Autodiff.FSharp;;"
                "let e = sum (var \"x\" (vector [ 1.0; 2.0 ]) * 3.0);;"
                "let v = eval e;;"
                "let p = parameters [ \"w\", vector [ 9.0; 9.0 ]; \"b\", scalar 1.5 ];;"
                "let mutable chain = var \"x\" (scalar 0.1) in (for _ in 1 .. 100000 do chain <- sin chain); chain;;"
                "#quit;;"
                ""
            ]

    let run = fsiRun [ "--nologo" ] (Some input)

    let what =
        $"dotnet fsi with typed input\n--- stdout\n{tail 40 run.Stdout}\n--- stderr\n{tail 40 run.Stderr}"

    Assert.That(
        run.Stdout,
        Does.Contain "val e: Functional.Autodiff.Expr = Expr (4 nodes) sum(x * 3) : scalar = 9",
        what
    )

    Assert.That(run.Stdout, Does.Contain "val v: Functional.Autodiff.Value = Value scalar 9", what)
    Assert.That(run.Stdout, Does.Contain "val p: Functional.Autodiff.Params = Params {w: [9, 9], b: 1.5}", what)
    Assert.That(run.Stdout, Does.Contain "Expr (100001 nodes) sin(sin(", what)
    Assert.That(run.Stdout, Does.Not.Contain "Inputs =", "no property dump")

let ``tutorial numbers are read as printed and compared at the printed precision`` () =
    let parse = Functional.Autodiff.Tour.TutorialNumbers.Parse

    let agrees (x: float) (p: string) =
        Functional.Autodiff.Tour.TutorialNumbers.Agrees(x, p)

    Assert.That(parse "tensor([ 0.,  4.,  8., 12.], grad_fn=<MulBackward0>)", Is.EqualTo [| "0."; "4."; "8."; "12." |])
    Assert.That(parse "tensor([20.0855], dtype=torch.float64)", Is.EqualTo [| "20.0855" |])
    Assert.That(parse "[[ -248.2693,  1364.9205], [-1133.4603,   396.8123]]", Has.Length.EqualTo 4)
    Assert.That(agrees 40.50004 "40.5000", Is.True, "within half a unit of the last decimal")
    Assert.That(agrees 40.50006 "40.5000", Is.False, "beyond half a unit of the last decimal")
    Assert.That(agrees (72.0 + 1e-8) "72.", Is.True, "no decimals: 1e-9 relative")
    Assert.That(agrees 72.001 "72.", Is.False, "no decimals: 1e-9 relative")
    Assert.That(Functional.Autodiff.Tour.TutorialNumbers.Format(-0.0, 2), Is.EqualTo "0.00", "no -0")

open Expecto

[<Tests>]
let tests =
    testSequenced <| testList "Pages" [
        testCase "the tour's rows are read: 57 rows over five seeds, one page per seed" ``the tour's rows are read: 57 rows over five seeds, one page per seed``
        testList "page runs under dotnet fsi" [ for c in pages -> testCase c (fun () -> ``page runs under dotnet fsi`` c) ]
        testCase "docs/.lib holds the libraries this test was built with" ``docs/.lib holds the libraries this test was built with``
        testCase "docs/.lib holds every assembly the libraries reference beyond the framework" ``docs/.lib holds every assembly the libraries reference beyond the framework``
        testCase "check.fsx passes numbers within the printed precision and stops at one beyond it" ``check.fsx passes numbers within the printed precision and stops at one beyond it``
        testCase "F# Interactive prints graphs, values and parameters with the F# API's printers" ``F# Interactive prints graphs, values and parameters with the F# API's printers``
        testCase "tutorial numbers are read as printed and compared at the printed precision" ``tutorial numbers are read as printed and compared at the printed precision``
    ]
