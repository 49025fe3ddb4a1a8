namespace Functional.Autodiff.Generators

open System
open System.Collections.Generic
open System.Text
open Functional.Autodiff
open Functional.Autodiff.Export

/// One node of a random graph. Nodes are listed in topological order and refer to their inputs by position, so a
/// graph is a flat array: building, printing and shrinking it are loops, never recursion over its depth.
type GraphNode =
    /// A variable with a value (the point a property checks at), its elements from the domain.
    | Variable of name: string * domain: Domain * value: Value
    /// A constant, its elements from the domain.
    | Constant of domain: Domain * value: Value
    /// An op applied to earlier nodes; the domain each input must lie in.
    | Apply of op: Op * inputs: int list * domains: Domain list

/// A random graph over the library's ops (and any ops of your own): a flat list of nodes in topological order, the
/// last one the root. Its inputs lie in each op's domain, so it evaluates to finite numbers and GradCheck is
/// meaningful on it. ToString is the library's one-line text form (Export.Text) followed by the variables' values,
/// which is what FsCheck prints for a failing (shrunk) graph.
[<Sealed; AllowNullLiteral>]
type RandomGraph(nodes: GraphNode[]) =
    // A copy: the graph does not change when the caller's array does.
    let nodes = Array.copy nodes

    let built =
        lazy
            (let exprs = Array.zeroCreate<Expr> nodes.Length
             let vars = ResizeArray<Var>()

             for k in 0 .. nodes.Length - 1 do
                 exprs[k] <-
                     match nodes[k] with
                     | Variable(name, _, value) ->
                         let v = Expr.Var(name, value)
                         vars.Add v
                         v :> Expr
                     | Constant(_, value) -> Expr.Const value
                     | Apply(op, inputs, _) -> Expr.Create(op, inputs |> List.map (fun i -> exprs[i]) |> Array.ofList)

             exprs, vars.ToArray())

    do
        if nodes.Length = 0 then
            invalidArg "nodes" "A random graph has at least one node (the root is the last)."

    /// The nodes in topological order; the root is the last.
    member _.Nodes: GraphNode[] = Array.copy nodes

    /// How many nodes the graph has (leaves included).
    member _.NodeCount = nodes.Length

    /// How many op nodes the graph has.
    member _.OpCount =
        nodes
        |> Array.sumBy (function
            | Apply _ -> 1
            | _ -> 0)

    /// The graph built as an Expr (with its variables traced at their values).
    member _.Root: Expr = (fst built.Value)[nodes.Length - 1]

    /// The graph's variables, in node order.
    member _.Variables: Var[] = Array.copy (snd built.Value)

    /// The value of every node, in node order.
    member internal _.Values: Value[] = fst built.Value |> Array.map (fun e -> e.Value)

    /// The graph as a function of its variable number `index` (the others are held at their values as constants):
    /// what GradCheck checks.
    member _.AsFunction(index: int) : Func<Expr, Expr> =
        let positions =
            nodes
            |> Array.indexed
            |> Array.choose (fun (k, n) ->
                match n with
                | Variable _ -> Some k
                | _ -> None)

        if index < 0 || index >= positions.Length then
            raise (ArgumentOutOfRangeException(nameof index, index, $"The graph has {positions.Length} variables."))

        let at = positions[index]

        Func<Expr, Expr>(fun x ->
            let exprs = Array.zeroCreate<Expr> nodes.Length

            for k in 0 .. nodes.Length - 1 do
                exprs[k] <-
                    match nodes[k] with
                    | Variable _ when k = at -> x
                    | Variable(_, _, value)
                    | Constant(_, value) -> Expr.Const value
                    | Apply(op, inputs, _) -> Expr.Create(op, inputs |> List.map (fun i -> exprs[i]) |> Array.ofList)

            exprs[nodes.Length - 1])

    /// The value of variable number `index`.
    member this.VariableValue(index: int) : Value = this.Variables[index].Value

    /// The graph in the library's one-line text form, then each variable's value.
    override this.ToString() =
        let sb = StringBuilder(Text.Render(this.Root, nodeLimit = 64))

        for v in this.Variables do
            sb.Append($"\n  where {v.Name} = {v.Value}") |> ignore

        sb.ToString()

/// Drawing random graphs and shrinking them.
[<RequireQualifiedAccess>]
module RandomGraph =
    /// Whether every element of the value is finite.
    let private finite (v: Value) =
        v.ToArray() |> Array.forall Double.IsFinite

    /// Whether the input node can feed a slot of the domain: matrix domains and data (labels, masks) take only their
    /// own leaves; other domains take any node whose value the domain admits (see Domain.admits).
    let private fits (nodes: IReadOnlyList<GraphNode>) (values: IReadOnlyList<Value>) (d: Domain) (j: int) =
        if Domain.isMatrix d || not (Domain.differentiable d) then
            match nodes[j] with
            | Variable(_, own, _)
            | Constant(own, _) -> own = d
            | Apply _ -> false
        else
            Domain.admits d values[j]

    /// The graph of these nodes if it builds, every value is finite and every input lies in its slot's domain; None
    /// otherwise. Shrink candidates that break a rule are dropped here.
    let tryCreate (nodes: GraphNode[]) : RandomGraph option =
        try
            let g = RandomGraph nodes
            let values = g.Values

            let ok =
                values |> Array.forall finite
                && nodes
                   |> Array.forall (function
                       | Apply(_, inputs, domains) -> List.forall2 (fits nodes values) domains inputs
                       | _ -> true)

            if ok then Some g else None
        with
        | :? ShapeMismatchException
        | :? ArgumentException
        | :? InvalidOperationException -> None

    /// The nodes the root reaches, renumbered in the same order (one pass from the root down, no recursion).
    let compact (nodes: GraphNode[]) (root: int) : GraphNode[] =
        let reached = Array.zeroCreate (root + 1)
        reached[root] <- true

        for k in root .. -1 .. 0 do
            if reached[k] then
                match nodes[k] with
                | Apply(_, inputs, _) ->
                    for i in inputs do
                        reached[i] <- true
                | _ -> ()

        let index = Array.create (root + 1) -1
        let kept = ResizeArray<GraphNode>()

        for k in 0..root do
            if reached[k] then
                index[k] <- kept.Count

                kept.Add(
                    match nodes[k] with
                    | Apply(op, inputs, domains) -> Apply(op, inputs |> List.map (fun i -> index[i]), domains)
                    | n -> n
                )

        kept.ToArray()

    /// Draws a graph of 1 … maxOps op nodes from the rows. Each new op is, when one of a dozen draws allows, one that
    /// takes the last op node as an input (so graphs grow deep, not only wide); its other inputs are earlier nodes of
    /// the right shape whose values lie in the input's domain (half of the time one fits), or new leaves drawn from the
    /// domain, variables two times in three, else constants. Matrix domains and data get fresh leaves of their own. A
    /// node whose value is not finite is dropped. The root is the last op node; what it does not reach is left out,
    /// and the variables are named x0, x1, … in order.
    let draw (rng: Random) (rows: OpEntry list) (maxOps: int) : RandomGraph =
        if List.isEmpty rows then
            invalidArg "rows" "Give at least one op row to draw graphs from."

        let rows = Array.ofList rows
        let nodes = ResizeArray<GraphNode>()
        let values = ResizeArray<Value>()
        let exprs = ResizeArray<Expr>()
        let mutable variables = 0
        let mutable lastOp = -1

        let add (n: GraphNode) (e: Expr) =
            nodes.Add n
            values.Add e.Value
            exprs.Add e
            nodes.Count - 1

        let leaf (input: Input) =
            let value = Domain.sampleValue rng input.Domain input.Shape

            if Domain.differentiable input.Domain && rng.Next 3 <> 0 then
                let name = $"x{variables}"
                variables <- variables + 1
                let v = Expr.Var(name, value)
                add (Variable(name, input.Domain, value)) v
            else
                add (Constant(input.Domain, value)) (Expr.Const value)

        let ops = rng.Next(1, max 1 maxOps + 1)
        let mutable attempts = 0

        while (lastOp < 0 || (nodes |> Seq.sumBy (function Apply _ -> 1 | _ -> 0)) < ops) && attempts < 20 * ops do
            attempts <- attempts + 1
            let fitsSlot (input: Input) j =
                exprs[j].Shape = input.Shape && fits nodes values input.Domain j

            // An op that can take the last op node, if one of a few draws can: graphs grow deep, not only wide.
            let candidates = Seq.init 12 (fun _ -> rows[rng.Next rows.Length].Draw rng) |> Seq.cache

            let drawn, chained =
                if lastOp < 0 then
                    Seq.head candidates, -1
                else
                    candidates
                    |> Seq.tryPick (fun d ->
                        d.Inputs |> List.tryFindIndex (fun i -> fitsSlot i lastOp) |> Option.map (fun slot -> d, slot))
                    |> Option.defaultWith (fun () -> Seq.head candidates, -1)

            let before = nodes.Count
            let beforeVariables = variables

            let inputs =
                drawn.Inputs
                |> List.mapi (fun slot input ->
                    if slot = chained then
                        lastOp
                    else
                        let fitting = [| for j in 0 .. nodes.Count - 1 do if fitsSlot input j then j |]

                        if fitting.Length > 0 && rng.Next 2 = 0 then
                            fitting[rng.Next fitting.Length]
                        else
                            leaf input)

            let created =
                try
                    let e = Expr.Create(drawn.Op, inputs |> List.map (fun i -> exprs[i]) |> Array.ofList)
                    if finite e.Value then Some e else None
                with
                | :? ShapeMismatchException
                | :? ArgumentException
                | :? InvalidOperationException -> None

            match created with
            | Some e ->
                lastOp <- add (Apply(drawn.Op, inputs, drawn.Inputs |> List.map (fun i -> i.Domain))) e
            | None ->
                nodes.RemoveRange(before, nodes.Count - before)
                values.RemoveRange(before, values.Count - before)
                exprs.RemoveRange(before, exprs.Count - before)
                variables <- beforeVariables

        if lastOp < 0 then
            invalidOp "No op of the rows gave a finite value in 20 attempts: check the rows' domains."

        // The variables the root reaches, named x0, x1, … in order.
        let mutable named = 0

        compact (nodes.ToArray()) lastOp
        |> Array.map (function
            | Variable(_, d, v) ->
                named <- named + 1
                Variable($"x{named - 1}", d, v)
            | n -> n)
        |> RandomGraph

    /// A value simpler than v in the domain (every element the domain's plainest number: 0.5, 1, ±1, 0.5), or with
    /// its elements rounded to one decimal; None when v is already that simple. Matrix domains are left alone.
    let internal simplerValues (d: Domain) (v: Value) : Value list =
        let xs = v.ToArray()

        let plain =
            match d with
            | Real -> Some(fun _ -> 0.5)
            | Positive -> Some(fun _ -> 1.0)
            | AwayFromZero -> Some(fun x -> if x < 0.0 then -1.0 else 1.0)
            | UnitInterval -> Some(fun _ -> 0.5)
            | ClassIndex _
            | Mask -> Some(fun _ -> 0.0)
            | Invertible
            | PositiveDeterminant
            | SymmetricPositiveDefinite -> None

        match plain with
        | None -> []
        | Some f ->
            [
                let p = Array.map f xs

                if p <> xs then
                    yield Data.toValue v.Shape p

                if Domain.differentiable d then
                    let r = xs |> Array.map (fun x -> Math.Round(x, 1))

                    if r <> xs && r <> p then
                        yield Data.toValue v.Shape r
            ]

    /// The first elements of v (column by column of the smaller shape from the same positions), in a smaller shape.
    let internal truncated (v: Value) (s: Shape) =
        let rows = if v.Shape.IsMatrix then v.Shape.Rows else v.Shape.Size
        let xs = v.ToArray()
        let sr = if s.IsMatrix then s.Rows else s.Size

        Data.toValue s (Array.init s.Size (fun k -> xs[(k / sr) * rows + (k % sr) |> min (xs.Length - 1)]))

    /// Smaller graphs than g, most promising first, each a valid graph (see tryCreate): the subgraph under each op
    /// node (dropping what is above it); each op node replaced by one of its inputs of the same shape, or by a
    /// constant of its value (dropping the subtree under it); each variable made a constant; each leaf in a smaller
    /// shape; each leaf's elements made simpler. Lazy: FsCheck takes the first that still fails and shrinks again, so
    /// a failing graph is cut down to a minimal expression.
    let shrink (g: RandomGraph) : seq<RandomGraph> =
        let nodes = g.Nodes
        let root = nodes.Length - 1
        let values = lazy g.Values

        let replace (k: int) (by: int) =
            // Users of k read `by` instead; k itself is then unreached unless it is the root.
            nodes
            |> Array.map (function
                | Apply(op, inputs, domains) -> Apply(op, inputs |> List.map (fun i -> if i = k then by else i), domains)
                | n -> n)

        let withNode (k: int) (n: GraphNode) =
            let copy = Array.copy nodes
            copy[k] <- n
            copy

        seq {
            // 1. the subgraph under an op node (earlier nodes are smaller)
            for k in 0 .. root - 1 do
                match nodes[k] with
                | Apply _ -> yield compact nodes k
                | _ -> ()
            // 2. an op node replaced by one of its inputs
            // (the root's inputs as roots are covered by 1)
            for k in root - 1 .. -1 .. 0 do
                match nodes[k] with
                | Apply(_, inputs, _) ->
                    for j in List.distinct inputs do
                        yield compact (replace k j) root
                | _ -> ()
            // 3. an op node (not the root) replaced by a constant of its value
            for k in 0 .. root - 1 do
                match nodes[k] with
                | Apply(_, _, _) -> yield compact (withNode k (Constant(Real, values.Value[k]))) root
                | _ -> ()
            // 4. a variable made a constant
            for k in 0..root do
                match nodes[k] with
                | Variable(_, d, v) -> yield withNode k (Constant(d, v))
                | _ -> ()
            // 5. a leaf in a smaller shape
            for k in 0..root do
                match nodes[k] with
                | Variable(_, d, v)
                | Constant(d, v) when not (Domain.isMatrix d) ->
                    for s in Shapes.smaller v.Shape do
                        let small = truncated v s

                        yield
                            withNode
                                k
                                (match nodes[k] with
                                 | Variable(name, _, _) -> Variable(name, d, small)
                                 | _ -> Constant(d, small))
                | _ -> ()
            // 6. a leaf's elements made simpler
            for k in 0..root do
                match nodes[k] with
                | Variable(name, d, v) ->
                    for s in simplerValues d v do
                        yield withNode k (Variable(name, d, s))
                | Constant(d, v) ->
                    for s in simplerValues d v do
                        yield withNode k (Constant(d, s))
                | Apply _ -> ()
        }
        |> Seq.choose tryCreate
