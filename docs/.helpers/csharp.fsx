// The C# version of a tutorial, from the tour that is compiled with the solution: samples/Tour/Program.cs holds
// one top-level function per tutorial (`static void Seed000(Report r)` ... `Seed004`) and a few helpers (`F`,
// `Full`). On a page:
//
//     (*** hide ***)
//     CSharp.html [ "Seed000"; "Full" ]
//     (*** include-it-raw ***)
//
// shows those functions, as compiled, in a C# code block highlighted like fsdocs' own C# blocks.
module CSharp

open System
open System.IO
open System.Net
open System.Text
open System.Text.RegularExpressions

/// The file the functions come from.
let tourFile = Path.GetFullPath(Path.Combine(__SOURCE_DIRECTORY__, "..", "..", "samples", "Tour", "Program.cs"))

/// A top-level function starts at column 0: `static <type> <name>(`.
let private header = Regex(@"^static\s+(?<type>[\w<>\[\],.?]+)\s+(?<name>\w+)\s*\(")

/// The names of the top-level functions of the tour.
let functions () =
    File.ReadAllLines tourFile
    |> Array.choose (fun line ->
        let m = header.Match line
        if m.Success then Some m.Groups["name"].Value else None)

/// The source of one top-level function of the tour, with the comment lines right above it. A function with a
/// block body ends at the first line that is exactly "}"; an expression-bodied one at its first line ending in ";".
let source (name: string) : string =
    let lines = File.ReadAllLines tourFile
    let start =
        lines
        |> Array.tryFindIndex (fun line ->
            let m = header.Match line
            m.Success && m.Groups["name"].Value = name)
        |> Option.defaultWith (fun () ->
            failwith $"""{tourFile} has no top-level function {name}; it has: {String.Join(", ", functions ())}""")
    let last =
        if lines[start].TrimEnd().EndsWith ";" then
            start
        else
            match lines |> Array.skip start |> Array.tryFindIndex (fun line -> line.TrimEnd() = "}") with
            | Some k -> start + k
            | None -> failwith $"{tourFile}: no closing brace at column 0 after {name}"
    let mutable first = start
    while first > 0 && lines[first - 1].StartsWith "//" do
        first <- first - 1
    String.Join("\n", lines[first..last])

let private keywords =
    set [ "abstract"; "as"; "base"; "bool"; "break"; "case"; "catch"; "char"; "class"; "const"; "continue"; "default"
          "delegate"; "do"; "double"; "else"; "enum"; "false"; "finally"; "for"; "foreach"; "if"; "in"; "int"
          "interface"; "internal"; "is"; "long"; "namespace"; "new"; "null"; "object"; "out"; "override"; "params"
          "private"; "protected"; "public"; "readonly"; "record"; "ref"; "return"; "sealed"; "static"; "string"
          "struct"; "switch"; "this"; "throw"; "true"; "try"; "typeof"; "using"; "var"; "void"; "when"; "while"
          "with"; "yield" ]

/// Comments, strings (plain, verbatim, interpolated), characters, numbers, words, operators, anything else.
let private token =
    Regex(
        @"(?<c>//[^\n]*)|(?<s>\$?@?""(?:[^""\\\n]|\\.)*"")|(?<s>'(?:[^'\\\n]|\\.)')"
        + @"|(?<n>\b\d+(?:\.\d+)?(?:[eE][-+]?\d+)?[dDfFmMlL]?\b)|(?<w>[A-Za-z_]\w*)|(?<o>[-+*/%=<>!&|^~?:]+)|(?<x>[\s\S])"
    )

/// C# source as the HTML of a highlighted code block: the markup fsdocs gives a ```csharp block.
let highlight (code: string) : string =
    let html = StringBuilder()
    let span (cls: string) (text: string) =
        html.Append("<span class=\"").Append(cls).Append("\">").Append(WebUtility.HtmlEncode text).Append("</span>")
        |> ignore
    for m in token.Matches code do
        let text = m.Value
        if m.Groups["c"].Success then span "c" text
        elif m.Groups["s"].Success then span "s" text
        elif m.Groups["n"].Success then span "n" text
        elif m.Groups["w"].Success && keywords.Contains text then span "k" text
        elif m.Groups["o"].Success then span "o" text
        else html.Append(WebUtility.HtmlEncode text) |> ignore
    "<table class=\"pre\"><tr><td class=\"snippet\"><pre class=\"fssnip highlighted\"><code lang=\"csharp\">"
    + html.ToString()
    + "\n</code></pre></td></tr></table>"

/// The named functions of the tour, one after another, as a highlighted C# block (for `(*** include-it-raw ***)`).
let html (names: string list) : string =
    names |> List.map source |> String.concat "\n\n" |> highlight
