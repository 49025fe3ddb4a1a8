// Graphs drawn on the docs pages: `Graphviz.svg dotSource` runs Graphviz's dot and returns the SVG, for
//
//     (*** hide ***)
//     Graphviz.svg (export the graph as DOT)
//     (*** include-it-raw ***)
//
// dot is needed to build the site (docs/build.sh stops without it: apt-get install -y graphviz). Where it is
// missing outside fsdocs (a test run, `dotnet fsi` on a machine without Graphviz), the page still runs: it says
// so on stderr and shows the DOT source instead of the picture. Under fsdocs a missing dot ends the docs build.
module Graphviz

open System
open System.Diagnostics
open System.IO
open System.Net

/// Whether the page runs under fsdocs (docs/build.sh), not under dotnet fsi (the docs test).
let underFsdocs =
    let args = Environment.GetCommandLineArgs()
    args.Length > 0 && Path.GetFileName(args[0]).StartsWith("fsdocs", StringComparison.OrdinalIgnoreCase)

/// dot's full path, if it is on PATH.
let dotPath () =
    (Environment.GetEnvironmentVariable "PATH" |> string).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
    |> Array.map (fun dir -> Path.Combine(dir, (if OperatingSystem.IsWindows() then "dot.exe" else "dot")))
    |> Array.tryFind File.Exists

let private stop (message: string) =
    use stderr = new StreamWriter(Console.OpenStandardError(), AutoFlush = true)
    stderr.WriteLine message
    exit 1

/// The SVG that dot draws for a graph in the DOT language (the XML prolog cut, ready to inline in a page).
let svg (dotSource: string) : string =
    match dotPath () with
    | None when underFsdocs -> stop "docs: Graphviz's dot is not installed (apt-get install -y graphviz)"
    | None ->
        eprintfn "docs: Graphviz's dot is not installed, so the page shows the DOT source instead of the picture (apt-get install -y graphviz)"
        "<pre><code>" + WebUtility.HtmlEncode dotSource + "</code></pre>"
    | Some dot ->
        let start = ProcessStartInfo(dot, "-Tsvg", RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true)
        use p =
            match Process.Start start with
            | null -> failwith $"could not start {dot}"
            | p -> p
        let output = p.StandardOutput.ReadToEndAsync()
        let errors = p.StandardError.ReadToEndAsync()
        p.StandardInput.Write dotSource
        p.StandardInput.Close()
        if not (p.WaitForExit(TimeSpan.FromMinutes 1.0)) then
            p.Kill true
            failwith "dot did not finish in a minute"
        p.WaitForExit()
        if p.ExitCode <> 0 then
            failwith $"dot failed (exit code {p.ExitCode}): {errors.Result}\n{dotSource}"
        let svg = output.Result
        match svg.IndexOf "<svg" with
        | -1 -> failwith $"dot printed no <svg>: {svg}"
        | at -> svg.Substring at
