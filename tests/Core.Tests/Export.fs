/// Export: the Graphviz DOT and Mermaid drawings are well formed, show values, gradients, stop-gradient and outputs,
/// are byte-stable, and stay bounded (and off the call stack) on a million-node chain. Where Graphviz is installed,
/// `dot -Tsvg` must accept the DOT; where it is not, only the structural checks run.
module Functional.Autodiff.Tests.Export

open System
open System.Collections.Generic
open System.Diagnostics
open System.IO
open System.Text
open System.Text.RegularExpressions
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Export
open Functional.Autodiff.Tests.Common

let private nil<'T when 'T: not struct> = Unchecked.defaultof<'T>

// ------------------------------------------------------------------ reading the drawings back

/// A node as read back from a drawing: its id, the plain text of its label lines, and the rest of its declaration.
type NodeSeen =
    {
        Id: string
        Lines: string list
        Attributes: string
    }

/// An edge as read back from a drawing; Attributes holds the DOT attributes or the Mermaid arrow and label.
type EdgeSeen =
    {
        From: string
        To: string
        Label: string option
        Attributes: string
    }

type Seen =
    {
        Nodes: NodeSeen list
        Edges: EdgeSeen list
        /// Mermaid: class name → node ids; DOT: empty.
        Classes: Map<string, string list>
    }

    member s.Node id =
        s.Nodes |> List.find (fun n -> n.Id = id)

    /// The nodes whose label has a line equal to text.
    member s.WithLine text =
        s.Nodes |> List.filter (fun n -> List.contains text n.Lines)

    member s.Into id =
        s.Edges |> List.filter (fun e -> e.To = id)

    member s.OutOf id =
        s.Edges |> List.filter (fun e -> e.From = id)

/// The DOT text outside HTML-like labels (<...> after '=') and quoted strings, so label text cannot fake structure.
let private dotSkeleton (text: string) =
    let sb = StringBuilder()
    let mutable depth = 0
    let mutable quoted = false
    let mutable i = 0

    while i < text.Length do
        let c = text[i]

        if quoted then
            if c = '\\' then
                i <- i + 1
            elif c = '"' then
                quoted <- false
                sb.Append c |> ignore
        elif depth > 0 then
            if c = '<' then
                depth <- depth + 1
            elif c = '>' then
                depth <- depth - 1

                if depth = 0 then
                    sb.Append c |> ignore
        elif c = '"' then
            quoted <- true
            sb.Append c |> ignore
        elif c = '<' && i > 0 && text[i - 1] = '=' then
            depth <- 1
            sb.Append c |> ignore
        else
            sb.Append c |> ignore

        i <- i + 1

    Assert.That(depth, Is.EqualTo 0, "an HTML-like label is not closed")
    Assert.That(quoted, Is.False, "a quoted string is not closed")
    sb.ToString()

let private decodeDot (s: string) =
    Regex
        .Replace(s, "<[^>]*>", "")
        .Replace("&lt;", "<")
        .Replace("&gt;", ">")
        .Replace("&quot;", "\"")
        .Replace("&#39;", "'")
        .Replace("&amp;", "&")

let private dotNode =
    Regex(@"^  (n\d+) \[label=<(.*)>((?:, [a-z\-]+=(?:""[^""]*""|[A-Za-z0-9.]+))*)\];$")

let private dotEdge = Regex(@"^  (n\d+) -> (n\d+)(?: \[(.*)\])?;$")

let private dotHeader = [ "digraph {"; "}"; "  rankdir=LR;"; "  labelloc=t;" ]

let private dotHeaderPrefixes = [ "  label=<"; "  graph ["; "  node ["; "  edge [" ]

/// Checks the DOT's structure and reads it back: a digraph, balanced braces outside labels, rankdir=LR, every line a
/// known statement, node ids declared once, every edge endpoint declared, no control characters in labels.
let checkDot (text: string) : Seen =
    Assert.That(text, Does.StartWith "digraph {\n")
    let skeleton = dotSkeleton text
    let mutable depth = 0

    for c in skeleton do
        if c = '{' then
            depth <- depth + 1
        elif c = '}' then
            depth <- depth - 1

        Assert.That(depth, Is.GreaterThanOrEqualTo 0, "a '}' closes nothing")

    Assert.That(depth, Is.EqualTo 0, "unbalanced braces")
    let lines = text.TrimEnd('\n').Split('\n')
    Assert.That(lines, Does.Contain "  rankdir=LR;")
    let nodes = ResizeArray()
    let edges = ResizeArray()

    for line in lines do
        let n = dotNode.Match line
        let e = dotEdge.Match line

        if n.Success then
            let label = n.Groups[2].Value
            Assert.That(label |> Seq.exists Char.IsControl, Is.False, $"a control character in {line}")

            nodes.Add
                {
                    Id = n.Groups[1].Value
                    Lines = label.Split("<br/>") |> Array.map decodeDot |> List.ofArray
                    Attributes = n.Groups[3].Value
                }
        elif e.Success then
            let attributes = e.Groups[3].Value
            let label = Regex.Match(attributes, "label=\"([^\"]*)\"")

            edges.Add
                {
                    From = e.Groups[1].Value
                    To = e.Groups[2].Value
                    Label = if label.Success then Some label.Groups[1].Value else None
                    Attributes = attributes
                }
        else
            Assert.That(
                List.contains line dotHeader || dotHeaderPrefixes |> List.exists line.StartsWith,
                $"not a statement the writer makes: {line}"
            )

    let ids = nodes |> Seq.map (fun n -> n.Id) |> List.ofSeq
    Assert.That(ids |> List.distinct |> List.length, Is.EqualTo ids.Length, "a node is declared twice")
    let declared = set ids

    for e in edges do
        Assert.That(
            declared.Contains e.From && declared.Contains e.To,
            $"edge {e.From} -> {e.To} has an undeclared end"
        )

    {
        Nodes = List.ofSeq nodes
        Edges = List.ofSeq edges
        Classes = Map.empty
    }

let private decodeMermaid (s: string) =
    s
        .Replace("#quot;", "\"")
        .Replace("#35;", "#")
        .Replace("#lt;", "<")
        .Replace("#gt;", ">")
        .Replace("#96;", "`")
        .Replace("#amp;", "&")

let private mermaidNode =
    Regex(@"^  (n\d+)(\(\[|\[/|\{\{|\[|\()""([^""]*)""(\]\)|/\]|\}\}|\]|\))$")

let private mermaidEdge =
    Regex(@"^  (n\d+) (-->|-\.->)(?:\|""([^""]*)""\|)? (n\d+)$")

let private brackets =
    Map [ "([", "])"; "[/", "/]"; "{{", "}}"; "[", "]"; "(", ")" ]

/// Checks the Mermaid's structure and reads it back: optional front matter, then `flowchart LR`; every line a node,
/// an edge, a classDef, a class or a linkStyle; quoted labels with only <br/> as markup and only entity codes after
/// '#'; node ids declared once; every edge endpoint and class member declared; linkStyle indices within the edges.
let checkMermaid (text: string) : Seen =
    let lines = text.TrimEnd('\n').Split('\n') |> List.ofArray

    let body =
        match lines with
        | "---" :: rest ->
            let close = rest |> List.findIndex ((=) "---")

            Assert.That(
                rest[.. close - 1] |> List.forall (fun l -> l.StartsWith "title: \""),
                "front matter other than a title"
            )

            rest[close + 1 ..]
        | _ -> lines

    Assert.That(List.head body, Is.EqualTo "flowchart LR")
    let nodes = ResizeArray()
    let edges = ResizeArray()
    let classes = Dictionary<string, string list>()
    let linkStyled = ResizeArray<int>()

    for line in List.tail body do
        let n = mermaidNode.Match line
        let e = mermaidEdge.Match line

        if n.Success then
            Assert.That(brackets[n.Groups[2].Value], Is.EqualTo n.Groups[4].Value, $"mismatched brackets: {line}")
            let label = n.Groups[3].Value
            Assert.That(label.Replace("<br/>", "").IndexOfAny [| '<'; '>' |], Is.EqualTo -1, $"markup in {line}")
            Assert.That(Regex.IsMatch(label, "#(?![a-z0-9]+;)"), Is.False, $"a '#' outside an entity code: {line}")
            Assert.That(label |> Seq.exists Char.IsControl, Is.False, $"a control character in {line}")

            nodes.Add
                {
                    Id = n.Groups[1].Value
                    Lines = label.Split("<br/>") |> Array.map decodeMermaid |> List.ofArray
                    Attributes = n.Groups[2].Value
                }
        elif e.Success then
            edges.Add
                {
                    From = e.Groups[1].Value
                    To = e.Groups[4].Value
                    Label = if e.Groups[3].Success then Some e.Groups[3].Value else None
                    Attributes = e.Groups[2].Value
                }
        elif line.StartsWith "  classDef " then
            ()
        elif line.StartsWith "  class " then
            let m = Regex.Match(line, @"^  class (n\d+(?:,n\d+)*) ([a-z]+)$")
            Assert.That(m.Success, $"a malformed class line: {line}")
            classes[m.Groups[2].Value] <- m.Groups[1].Value.Split(',') |> List.ofArray
        elif line.StartsWith "  linkStyle " then
            let m = Regex.Match(line, @"^  linkStyle (\d+(?:,\d+)*) [a-z\-]+:.+$")
            Assert.That(m.Success, $"a malformed linkStyle line: {line}")
            linkStyled.AddRange(m.Groups[1].Value.Split(',') |> Array.map int)
        else
            Assert.Fail $"not a statement the writer makes: {line}"

    let ids = nodes |> Seq.map (fun n -> n.Id) |> List.ofSeq
    Assert.That(ids |> List.distinct |> List.length, Is.EqualTo ids.Length, "a node is declared twice")
    let declared = set ids

    for e in edges do
        Assert.That(
            declared.Contains e.From && declared.Contains e.To,
            $"edge {e.From} --> {e.To} has an undeclared end"
        )

    for KeyValue(name, members) in classes do
        for id in members do
            Assert.That(declared.Contains id, $"class {name} names the undeclared {id}")

    for k in linkStyled do
        Assert.That(k, Is.InRange(0, edges.Count - 1), "a linkStyle index past the edges")

    {
        Nodes = List.ofSeq nodes
        Edges = List.ofSeq edges
        Classes = classes |> Seq.map (fun kv -> kv.Key, kv.Value) |> Map.ofSeq
    }

// ------------------------------------------------------------------ graphs

/// Seed 003's circuit: x = 3, y = −4, z = 19, q = x + 2y = −5, f = q·z = −95.
let seed003 () =
    let x: Expr = Expr.Var("x", Value.Scalar 3.0)
    let y: Expr = Expr.Var("y", Value.Scalar -4.0)
    let z: Expr = Expr.Var("z", Value.Scalar 19.0)
    let q = x + 2.0 * y
    let f = q * z
    x, y, z, q, f

/// sin(stop_gradient(x·y) − y / x) at x = 3, y = −4.
let stopGraph () =
    let x: Expr = Expr.Var("x", Value.Scalar 3.0)
    let y: Expr = Expr.Var("y", Value.Scalar -4.0)
    Expr.Sin(Expr.StopGradient(x * y) - y / x)

/// A small layer with a loss: a 2×3 weight, vectors, and a large constant (6 numbers, shown by its shape).
let matrixGraph () =
    let w: Expr =
        Expr.Var("W", T.toValue (T.matrix 2 3 (fun i j -> 0.1 * float (i + 2 * j) - 0.2)))

    let b: Expr = Expr.Var("b", Value.FromArray [| 0.5; -0.5 |])
    let v = Expr.Const(Value.FromArray [| 1.0; 2.0; 3.0 |])
    let t = Expr.Const(Value.FromArray [| 0.25; -0.75 |])
    let big = Expr.Const(T.toValue (T.matrix 2 3 (fun i j -> float (i - j))))
    let h = Expr.Tanh(Expr.MatMul(w, v) + b)
    Expr.Sum(Expr.Square(h - t)) + 0.01 * Expr.Sum(w * big)

/// x, then n times e ← sin e: n + 1 nodes. Built with a loop: a recursive builder would overflow the stack.
let sinChain n =
    let x = Expr.Var("x", Value.Scalar 0.5)
    let mutable e: Expr = x

    for _ in 1..n do
        e <- Expr.Sin e

    e

/// A random DAG with sharing, stop-gradients and non-commutative ops; the same seed builds the same structure.
let randomGraph (seed: int) =
    let rng = Random(seed)
    let nodes = ResizeArray<Expr>()
    nodes.Add(Expr.Var("x", Value.Scalar 0.3))
    nodes.Add(Expr.Var("y", Value.Scalar -1.2))

    for _ in 1..60 do
        let pick () = nodes[rng.Next nodes.Count]

        let e =
            match rng.Next 6 with
            | 0 -> pick () + pick ()
            | 1 -> Expr.Tanh(pick () * pick ())
            | 2 -> pick () - pick ()
            | 3 -> Expr.Sin(pick ()) / 2.0
            | 4 -> Expr.StopGradient(pick ())
            | _ -> Expr.Tanh(pick ()) * 0.5

        nodes.Add e

    nodes[nodes.Count - 1] + nodes[nodes.Count - 2] * nodes[nodes.Count - 3]

let withGradients (f: Expr) =
    DrawOptions(Gradients = Drawing.GradientsOf f)

// ------------------------------------------------------------------ structure and content

let ``seed 003: the DOT shows the forward values and the gradients at every node`` () =
    let x, y, z, q, f = seed003 ()
    let grads = Drawing.GradientsOf f

    for node, expected in [ x, 19.0; y, 38.0; z, -5.0; q, 19.0; f, 1.0 ] do
        Assert.That(grads[node].ToScalar(), Is.EqualTo expected, $"the gradient at {node}")

    let dot =
        Dot.Render(f, DrawOptions(Gradients = grads, Title = "seed 003: f = (x + 2y) · z"))

    let seen = checkDot dot
    Assert.That(seen.Nodes.Length, Is.EqualTo 7, "x, y, z, 2, 2y, q, f")
    // f is the root, so n0; q its first input, n1.
    Assert.That((seen.Node "n0").Lines, Is.EqualTo [ "mul"; "scalar"; "-95"; "grad 1" ])
    Assert.That((seen.Node "n1").Lines, Is.EqualTo [ "add"; "scalar"; "-5"; "grad 19" ])
    Assert.That((seen.WithLine "x" |> List.exactlyOne).Lines, Is.EqualTo [ "x"; "scalar"; "3"; "grad 19" ])
    Assert.That((seen.WithLine "y" |> List.exactlyOne).Lines, Is.EqualTo [ "y"; "scalar"; "-4"; "grad 38" ])
    Assert.That((seen.WithLine "z" |> List.exactlyOne).Lines, Is.EqualTo [ "z"; "scalar"; "19"; "grad -5" ])
    Assert.That((seen.WithLine "2" |> List.exactlyOne).Lines, Is.EqualTo [ "2"; "scalar"; "grad -76" ])
    Assert.That(dot, Does.Contain "<font color=\"red\">grad 38</font>", "gradients are red")
    Assert.That(dot, Does.Contain "label=<seed 003: f = (x + 2y) · z>;")
    Assert.That((seen.Node "n0").Attributes, Does.Contain "peripheries=2", "the output has a double border")
    Assert.That((seen.WithLine "x" |> List.exactlyOne).Attributes, Does.Contain "shape=ellipse")
    // Edges run input → op; add and mul are commutative, so no position labels.
    Assert.That(seen.Edges |> List.map (fun e -> e.From, e.To), Does.Contain(("n1", "n0")))
    Assert.That(seen.Edges |> List.forall (fun e -> e.Label.IsNone), "no position labels on add and mul")
    Assert.That(seen.Edges.Length, Is.EqualTo 6)

let ``seed 003: the Mermaid shows the same values and gradients`` () =
    let _, _, _, _, f = seed003 ()

    let text =
        Mermaid.Render(f, DrawOptions(Gradients = Drawing.GradientsOf f, Title = "seed 003"))

    let seen = checkMermaid text
    Assert.That(text, Does.StartWith "---\ntitle: \"seed 003\"\n---\nflowchart LR\n")
    Assert.That((seen.Node "n0").Lines, Is.EqualTo [ "mul"; "scalar"; "-95"; "grad 1" ])
    Assert.That((seen.Node "n1").Lines, Is.EqualTo [ "add"; "scalar"; "-5"; "grad 19" ])
    Assert.That((seen.WithLine "y" |> List.exactlyOne).Lines, Is.EqualTo [ "y"; "scalar"; "-4"; "grad 38" ])
    Assert.That((seen.WithLine "z" |> List.exactlyOne).Lines, Is.EqualTo [ "z"; "scalar"; "19"; "grad -5" ])
    Assert.That((seen.WithLine "x" |> List.exactlyOne).Attributes, Is.EqualTo "([", "a variable is a stadium")
    Assert.That(seen.Classes["output"], Is.EqualTo [ "n0" ])
    Assert.That(seen.Edges.Length, Is.EqualTo 6)

let ``without values or gradients a node shows what it is and its shape`` () =
    let _, _, _, _, f = seed003 ()
    let seen = checkDot (Dot.Render(f, DrawOptions(ShowValues = false)))
    Assert.That((seen.Node "n0").Lines, Is.EqualTo [ "mul"; "scalar" ])

    Assert.That(
        (seen.WithLine "2" |> List.exactlyOne).Lines,
        Is.EqualTo [ "2"; "scalar" ],
        "a constant's value is its name"
    )

    let seen = checkMermaid (Mermaid.Render f)
    Assert.That((seen.Node "n0").Lines, Is.EqualTo [ "mul"; "scalar"; "-95" ])

let ``large values are shown by their shape, small vectors by value`` () =
    let loss = matrixGraph ()
    let o = withGradients loss
    let dot = checkDot (Dot.Render(loss, o))
    let mermaid = checkMermaid (Mermaid.Render(loss, o))

    for seen in [ dot; mermaid ] do
        Assert.That(
            (seen.WithLine "W" |> List.exactlyOne).Lines,
            Is.EqualTo [ "W"; "matrix(2, 3)"; "grad matrix(2, 3)" ]
        )

        let b = (seen.WithLine "b" |> List.exactlyOne).Lines
        Assert.That(b[..2], Is.EqualTo [ "b"; "vector(2)"; "[0.5, -0.5]" ])
        Assert.That(b[3], Does.StartWith "grad [")
        Assert.That((seen.WithLine "const" |> List.exactlyOne).Lines[1], Is.EqualTo "matrix(2, 3)")
        Assert.That(seen.WithLine "[1, 2, 3]", Has.Length.EqualTo 1, "a small constant vector by value")
        Assert.That(seen.WithLine "matvec", Has.Length.EqualTo 1)

    // matvec and sub are not commutative: their edges say the argument position.
    let matvec = dot.WithLine "matvec" |> List.exactlyOne
    Assert.That(dot.Into matvec.Id |> List.map (fun e -> e.Label), Is.EqualTo [ Some "0"; Some "1" ])
    let sub = mermaid.WithLine "sub" |> List.exactlyOne
    Assert.That(mermaid.Into sub.Id |> List.map (fun e -> e.Label), Is.EqualTo [ Some "0"; Some "1" ])

let ``StopGradient is marked in both formats: dashed red border and a dashed outgoing edge`` () =
    let s = stopGraph ()
    let o = withGradients s
    let dot = checkDot (Dot.Render(s, o))
    let stop = dot.WithLine "stop_gradient" |> List.exactlyOne
    Assert.That(stop.Attributes, Does.Contain "dashed")
    Assert.That(stop.Attributes, Does.Contain "color=red")
    let out = dot.OutOf stop.Id |> List.exactlyOne
    Assert.That(out.Attributes, Does.Contain "style=dashed")
    Assert.That(out.Label, Is.EqualTo(Some "0"), "it is the first argument of sub")

    for e in dot.Edges do
        if e.From <> stop.Id then
            Assert.That(e.Attributes, Does.Not.Contain "dashed", "only the stop-gradient's output is dashed")

    // No gradient flows through it: x·y under it gets 0.
    Assert.That((dot.WithLine "mul" |> List.exactlyOne).Lines, Does.Contain "grad 0")

    let mermaid = checkMermaid (Mermaid.Render(s, o))
    let stop = mermaid.WithLine "stop_gradient" |> List.exactlyOne
    Assert.That(stop.Attributes, Is.EqualTo "{{", "a hexagon")
    Assert.That(mermaid.Classes["stop"], Is.EqualTo [ stop.Id ])
    Assert.That((mermaid.OutOf stop.Id |> List.exactlyOne).Attributes, Is.EqualTo "-.->")

    Assert.That(
        mermaid.Edges |> List.filter (fun e -> e.Attributes = "-.->") |> List.length,
        Is.EqualTo 1,
        "only the stop-gradient's output is dotted"
    )

    let text = Mermaid.Render(s, o)
    let index = mermaid.Edges |> List.findIndex (fun e -> e.From = stop.Id)
    Assert.That(text, Does.Contain $"  linkStyle {index} stroke:#d00\n")

let ``a graph and its gradient graphs in one drawing: each root marked and named, shared nodes once`` () =
    let x, y, z, _, f = seed003 ()
    let g = AD.Gradients(f, x, y, z)
    let names = [ "f"; "∂f/∂x"; "∂f/∂y"; "∂f/∂z" ]

    let roots =
        Array.map2 (fun n r -> struct (n, r)) (Array.ofList names) [| f; g[0]; g[1]; g[2] |]

    let o = DrawOptions(Gradients = Drawing.GradientsOf f)
    let distinct = HashSet<Expr>(HashIdentity.Reference)

    for struct (_, r) in roots do
        distinct.UnionWith(Graph.PostOrder r)

    let dot = checkDot (Dot.Render(roots, o))
    let mermaid = checkMermaid (Mermaid.Render(roots, o))

    for seen in [ dot; mermaid ] do
        Assert.That(seen.Nodes.Length, Is.EqualTo distinct.Count, "every node once")

        for name in [ "x"; "y"; "z" ] do
            Assert.That(seen.WithLine name, Has.Length.EqualTo 1, $"{name} is drawn once")

        for name, value in List.zip names [ "-95"; "19"; "38"; "-5" ] do
            let root =
                seen.Nodes |> List.filter (fun n -> List.head n.Lines = name) |> List.exactlyOne

            Assert.That(root.Lines, Does.Contain value, $"the value of {name}")

    let rootIds =
        dot.Nodes
        |> List.filter (fun n -> List.contains (List.head n.Lines) names)
        |> List.map (fun n -> n.Id)

    for id in rootIds do
        Assert.That((dot.Node id).Attributes, Does.Contain "peripheries=2")

    Assert.That(
        dot.Nodes
        |> List.filter (fun n -> n.Attributes.Contains "peripheries")
        |> List.length,
        Is.EqualTo 4
    )

    Assert.That(Dot.Render(roots, o), Does.Contain "<b>∂f/∂x</b>")
    Assert.That(set mermaid.Classes["output"], Is.EqualTo(set rootIds), "the same ids in both formats")

    // Unnamed roots are still marked; a root given twice is drawn once with both names.
    let unnamed = checkMermaid (Mermaid.Render([| f; g[0]; f |]))
    Assert.That(unnamed.Classes["output"], Has.Length.EqualTo 2)
    let twice = checkDot (Dot.Render([| struct ("a", f); struct ("b", f) |]))
    Assert.That((twice.Node "n0").Lines |> List.head, Is.EqualTo "a, b")

// ------------------------------------------------------------------ stability

let ``the same graph, or a separately built identical one, gives byte-identical text`` () =
    let render (f: Expr) =
        let o = DrawOptions(Gradients = Drawing.GradientsOf f, Title = "random")
        Dot.Render(f, o), Mermaid.Render(f, o)

    let a = randomGraph 3
    let dot, mermaid = render a
    checkDot dot |> ignore
    checkMermaid mermaid |> ignore
    Assert.That(render a, Is.EqualTo((dot, mermaid)), "twice the same graph")
    Assert.That(render (randomGraph 3), Is.EqualTo((dot, mermaid)), "a separately built graph")
    let _, _, _, _, f1 = seed003 ()
    let _, _, _, _, f2 = seed003 ()
    Assert.That(Dot.Render(f1, withGradients f1), Is.EqualTo(Dot.Render(f2, withGradients f2)))
    Assert.That(Mermaid.Render(f1, withGradients f1), Is.EqualTo(Mermaid.Render(f2, withGradients f2)))
    Assert.That(fst (render (randomGraph 4)), Is.Not.EqualTo dot, "another seed, another graph")

// ------------------------------------------------------------------ escaping

let private oddName =
    "a \"quoted\" <b>name</b> & #x; \\ `tick`\nnext line {brace} ]"

let escapingGraph () =
    let a: Expr = Expr.Var(oddName, Value.Scalar 1.0)
    let b: Expr = Expr.Var("∂f/∂x · g∘h", Value.Scalar 2.0)
    a * b - Expr.StopGradient a

let escapingTitle = "title: \"quotes\" <tags> & ∂ · ∘ \\ {braces} #1;"

let ``labels and titles are escaped, and unicode passes through`` () =
    let e = escapingGraph ()
    let o = DrawOptions(Gradients = Drawing.GradientsOf e, Title = escapingTitle)
    let shown = oddName.Replace('\n', ' ')
    let dot = Dot.Render(e, o)
    let seen = checkDot dot
    Assert.That(seen.WithLine shown, Has.Length.EqualTo 1)
    Assert.That(seen.WithLine "∂f/∂x · g∘h", Has.Length.EqualTo 1)
    Assert.That(dot, Does.Contain "&quot;quoted&quot; &lt;b&gt;name&lt;/b&gt; &amp;")
    let mermaid = Mermaid.Render(e, o)
    let seen = checkMermaid mermaid
    Assert.That(seen.WithLine shown, Has.Length.EqualTo 1)
    Assert.That(seen.WithLine "∂f/∂x · g∘h", Has.Length.EqualTo 1)
    Assert.That(mermaid, Does.Contain "#quot;quoted#quot; #lt;b#gt;name#lt;/b#gt; #amp; #35;x;")
    Assert.That(mermaid, Does.Contain "title: \"title: \\\"quotes\\\" <tags> & ∂ · ∘ \\\\ {braces} #1;\"\n")

// ------------------------------------------------------------------ depth and the node limit

let ``a million-node chain exports in bounded size, with the count of the cut nodes`` () =
    let e = sinChain 1_000_000
    let o = withGradients e

    Assert.That(
        o.Gradients |> Option.ofObj |> Option.map (fun g -> g.Count),
        Is.EqualTo(Some 200),
        "gradients at the drawn nodes"
    )

    let dot = Dot.Render(e, o)
    let mermaid = Mermaid.Render(e, o)

    for text, seen in [ dot, checkDot dot; mermaid, checkMermaid mermaid ] do
        Assert.That(text.Length, Is.LessThan 100_000)
        // 1,000,001 nodes, the 200 nearest the output drawn, one note for the rest.
        Assert.That(seen.Nodes.Length, Is.EqualTo 201)
        let more = seen.WithLine "… 999,801 more nodes" |> List.exactlyOne
        Assert.That(more.Id, Is.EqualTo "n200")
        Assert.That(seen.OutOf more.Id |> List.map (fun e -> e.To), Is.EqualTo [ "n199" ], "into the last drawn sin")

        for n in seen.Nodes do
            if n <> more then
                Assert.That(List.head n.Lines, Is.EqualTo "sin")
                Assert.That(seen.Into n.Id, Has.Length.EqualTo 1, "each drawn sin has its input")

let ``a chain of two million nodes with a small limit keeps the nodes nearest the output`` () =
    let x = Expr.Var("x", Shape.Scalar)
    let mutable e: Expr = x

    for _ in 1..1_000_000 do
        e <- e + 1.0

    let o = DrawOptions(NodeLimit = 50)
    let dot = checkDot (Dot.Render(e, o))
    let mermaid = checkMermaid (Mermaid.Render(e, o))

    for seen in [ dot; mermaid ] do
        // x, a million adds and a million constants 1; 50 drawn.
        Assert.That(seen.WithLine "… 1,999,951 more nodes", Has.Length.EqualTo 1)
        Assert.That(seen.Nodes.Length, Is.EqualTo 51)
        Assert.That((seen.Node "n0").Lines, Is.EqualTo [ "add"; "scalar" ], "symbolic: no value")

        for n in seen.Nodes do
            if List.head n.Lines = "add" then
                Assert.That(seen.Into n.Id, Has.Length.EqualTo 2, "a drawn add has both inputs, drawn or cut")

let ``a node limit of one draws the root and one note; the roots are always drawn`` () =
    let _, _, _, _, f = seed003 ()
    let seen = checkDot (Dot.Render(f, DrawOptions(NodeLimit = 1)))
    Assert.That(seen.Nodes |> List.map (fun n -> List.head n.Lines), Is.EqualTo [ "mul"; "… 6 more nodes" ])
    Assert.That(seen.Edges |> List.map (fun e -> e.From, e.To), Is.EqualTo [ ("n1", "n0"); ("n1", "n0") ])
    let x, y, _, _, _ = seed003 ()

    let seen =
        checkMermaid (Mermaid.Render([| x; y; x + y |], DrawOptions(NodeLimit = 1)))

    Assert.That(seen.Nodes |> List.map (fun n -> List.head n.Lines), Is.EqualTo [ "x"; "y"; "add" ])

// ------------------------------------------------------------------ errors

let ``bad arguments: null or empty roots, a null name, a node limit below 1, a non-scalar output`` () =
    let _, _, _, _, f = seed003 ()
    let e = throws<ArgumentNullException>(fun () -> Dot.Render(nil<Expr>) |> ignore)
    Assert.That(e.ParamName, Is.EqualTo "root")

    let e =
        throws<ArgumentNullException>(fun () -> Mermaid.Render(nil<IReadOnlyList<Expr>>) |> ignore)

    Assert.That(e.ParamName, Is.EqualTo "roots")

    for render in [ (fun (r: Expr[]) -> Dot.Render r); (fun (r: Expr[]) -> Mermaid.Render r) ] do
        let e = throws<ArgumentException>(fun () -> render [||] |> ignore)
        Assert.That(e.ParamName, Is.EqualTo "roots")
        Assert.That(e.Message, Does.Contain "at least one output node")
        let e = throws<ArgumentException>(fun () -> render [| f; nil |] |> ignore)
        Assert.That(e.Message, Does.Contain "Root 1")

    let e =
        throws<ArgumentException>(fun () -> Dot.Render([| struct (nil<string>, f) |]) |> ignore)

    Assert.That(e.Message, Does.Contain "name of root 0")

    let e =
        throws<ArgumentOutOfRangeException>(fun () -> DrawOptions(NodeLimit = 0) |> ignore)

    Assert.That(e.ParamName, Is.EqualTo "NodeLimit")
    Assert.That(e.Message, Does.Contain "at least one node")

    throws<ArgumentOutOfRangeException>(fun () -> Drawing.GradientsOf(f, 0) |> ignore)
    |> ignore

    throws<NonScalarOutputException>(fun () ->
        Drawing.GradientsOf(Expr.Const(Value.FromArray [| 1.0; 2.0 |])) |> ignore)
    |> ignore

// ------------------------------------------------------------------ Graphviz, where installed

/// The path of Graphviz's `dot` when it is on PATH.
let private graphviz =
    lazy
        (match Environment.GetEnvironmentVariable "PATH" with
         | null -> None
         | path ->
             path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
             |> Array.tryPick (fun dir ->
                 [ "dot"; "dot.exe" ]
                 |> List.map (fun name -> Path.Combine(dir, name))
                 |> List.tryFind File.Exists))

let private runDot (exe: string) (text: string) =
    let info =
        ProcessStartInfo(
            exe,
            "-Tsvg",
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = UTF8Encoding(false)
        )

    match Process.Start info with
    | null -> failwith $"could not start {exe}"
    | p ->
        use p = p
        let out = p.StandardOutput.ReadToEndAsync()
        let err = p.StandardError.ReadToEndAsync()
        p.StandardInput.Write text
        p.StandardInput.Close()
        p.WaitForExit()
        p.ExitCode, out.Result, err.Result

let private dotSamples: (string * (unit -> string)) list =
    [
        "seed 003 with gradients",
        (fun () ->
            let _, _, _, _, f = seed003 ()
            Dot.Render(f, DrawOptions(Gradients = Drawing.GradientsOf f, Title = "seed 003")))
        "seed 003 with its gradient graphs",
        (fun () ->
            let x, y, z, _, f = seed003 ()
            let g = AD.Gradients(f, x, y, z)

            Dot.Render(
                [|
                    struct ("f", f)
                    struct ("∂f/∂x", g[0])
                    struct ("∂f/∂y", g[1])
                    struct ("∂f/∂z", g[2])
                |],
                withGradients f
            ))
        "stop-gradient", (fun () -> let s = stopGraph () in Dot.Render(s, withGradients s))
        "matrix", (fun () -> let m = matrixGraph () in Dot.Render(m, withGradients m))
        "random", (fun () -> let r = randomGraph 3 in Dot.Render(r, withGradients r))
        "escaping", (fun () -> let e = escapingGraph () in Dot.Render(e, DrawOptions(Title = escapingTitle)))
        "collapsed chain", (fun () -> Dot.Render(sinChain 1_000_000))
    ]

let dotSampleNames = dotSamples |> List.map fst |> Array.ofList

let ``Graphviz renders the DOT to SVG without errors, where it is installed`` (name: string) =
    let text = (dotSamples |> List.find (fst >> (=) name) |> snd) ()
    checkDot text |> ignore

    match graphviz.Value with
    | None -> printfn "Graphviz (dot) is not on PATH: only the structural checks ran."
    | Some exe ->
        let code, svg, errors = runDot exe text
        Assert.That(code, Is.EqualTo 0, $"dot -Tsvg exited with {code}: {errors}")
        Assert.That(errors, Is.Empty, "dot -Tsvg wrote to stderr")
        Assert.That(svg, Does.Contain "<svg")

open Expecto

[<Tests>]
let tests =
    testList "Export" [
        testCase "seed 003: the DOT shows the forward values and the gradients at every node" ``seed 003: the DOT shows the forward values and the gradients at every node``
        testCase "seed 003: the Mermaid shows the same values and gradients" ``seed 003: the Mermaid shows the same values and gradients``
        testCase "without values or gradients a node shows what it is and its shape" ``without values or gradients a node shows what it is and its shape``
        testCase "large values are shown by their shape, small vectors by value" ``large values are shown by their shape, small vectors by value``
        testCase "StopGradient is marked in both formats: dashed red border and a dashed outgoing edge" ``StopGradient is marked in both formats: dashed red border and a dashed outgoing edge``
        testCase "a graph and its gradient graphs in one drawing: each root marked and named, shared nodes once" ``a graph and its gradient graphs in one drawing: each root marked and named, shared nodes once``
        testCase "the same graph, or a separately built identical one, gives byte-identical text" ``the same graph, or a separately built identical one, gives byte-identical text``
        testCase "labels and titles are escaped, and unicode passes through" ``labels and titles are escaped, and unicode passes through``
        testCase "a million-node chain exports in bounded size, with the count of the cut nodes" ``a million-node chain exports in bounded size, with the count of the cut nodes``
        testCase "a chain of two million nodes with a small limit keeps the nodes nearest the output" ``a chain of two million nodes with a small limit keeps the nodes nearest the output``
        testCase "a node limit of one draws the root and one note; the roots are always drawn" ``a node limit of one draws the root and one note; the roots are always drawn``
        testCase "bad arguments: null or empty roots, a null name, a node limit below 1, a non-scalar output" ``bad arguments: null or empty roots, a null name, a node limit below 1, a non-scalar output``
        testList "Graphviz renders the DOT to SVG without errors, where it is installed" [ for c in dotSampleNames -> testCase c (fun () -> ``Graphviz renders the DOT to SVG without errors, where it is installed`` c) ]
    ]
