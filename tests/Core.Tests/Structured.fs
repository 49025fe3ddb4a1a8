/// The structure mechanism (Tree) and the combinators over structured inputs (AD.Structured, Diff's structured
/// forms), on random structures built by reflection: each transform on a structure equals the same transform on the
/// flat vector of its leaves; chosen inputs; round trips; errors; Diff over structures; a wide structure.
module Functional.Autodiff.Tests.Structured

open System
open System.Collections
open System.Collections.Generic
open System.Collections.Immutable
open System.Diagnostics
open System.Reflection
open System.Runtime.ExceptionServices
open MathNet.Numerics.LinearAlgebra
open Microsoft.FSharp.Reflection
open NUnit.Framework
open FsCheck
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

/// FsCheck's replay seed for every property here (fixed: a flaky test is a failing test).
[<Literal>]
let Seed = "(20261202,61823)"

/// A generic F# record: traced as Pair<Expr>.
type Pair<'T> = { A: 'T; B: 'T }

/// A record for the error paths (`[1].W`).
type Layer<'T> = { W: 'T; B: 'T }

/// A class that is not marked as a structure.
type Plain() =
    member val X = 1.0 with get, set

// ------------------------------------------------------------------ random structure specs

/// The form of a leaf.
type Form =
    | FValue
    | FDouble
    | FVector
    | FMatrix

/// The type skeleton of a structure.
type Kind =
    | KLeaf of Form
    | KVTuple of Kind list
    | KFTuple of Kind list
    | KArray of Kind
    | KFList of Kind
    | KList of Kind
    | KImm of Kind
    | KMap of Kind
    | KDict of Kind
    | KPair of Kind
    | KParams

/// A value of a kind: leaves carry their shape and elements in row-major order.
type Inst =
    | ILeaf of Form * Shape * float[]
    | ITuple of Inst list
    | ISeq of Inst list
    | IDict of (string * Inst) list // ordinal key order
    | IRec of Inst * Inst
    | IParams of (string * Inst) list // the parameters' own order

let private keyPool = [| "a"; "b"; "B"; "w"; "_x"; "z1"; "aa"; "Zeta" |]

/// A value as a non-null obj.
let ob (x: 'a) : obj =
    match box x with
    | null -> failwith "a null"
    | b -> b

let private pick (rng: Random) (xs: 'a[]) = xs[rng.Next xs.Length]

let private shuffle (rng: Random) (xs: 'a[]) =
    let a = Array.copy xs

    for i in a.Length - 1 .. -1 .. 1 do
        let j = rng.Next(i + 1)
        let t = a[i]
        a[i] <- a[j]
        a[j] <- t

    a

let rec private genKind (rng: Random) (depth: int) : Kind =
    let leafChance = [| 0.15; 0.5; 0.7; 1.0 |][min depth 3]

    if rng.NextDouble() < leafChance then
        KLeaf(pick rng [| FValue; FValue; FDouble; FVector; FMatrix |])
    else
        let sub () = genKind rng (depth + 1)

        match rng.Next 10 with
        | 0 -> KVTuple(List.init (1 + rng.Next 7) (fun _ -> sub ()))
        | 1 -> KFTuple(List.init (2 + rng.Next 6) (fun _ -> sub ()))
        | 2 -> KArray(sub ())
        | 3 -> KFList(sub ())
        | 4 -> KList(sub ())
        | 5 -> KImm(sub ())
        | 6 -> KMap(sub ())
        | 7 -> KDict(sub ())
        | 8 -> KPair(sub ())
        | _ -> KVTuple(List.init (1 + rng.Next 3) (fun _ -> sub ()))

let private randomShape (rng: Random) (form: Form) =
    let vector () = Shape.Vector(1 + rng.Next 4)
    let matrix () = Shape.Matrix(1 + rng.Next 3, 1 + rng.Next 3)

    match form with
    | FDouble -> Shape.Scalar
    | FVector -> vector ()
    | FMatrix -> matrix ()
    | FValue ->
        match rng.Next 3 with
        | 0 -> Shape.Scalar
        | 1 -> vector ()
        | _ -> matrix ()

let private randomData (rng: Random) (s: Shape) = Array.init s.Size (fun _ -> uniform rng -1.0 1.0)

let private randomLeaf rng form =
    let s = randomShape rng form
    ILeaf(form, s, randomData rng s)

let private randomKeys (rng: Random) n =
    shuffle rng keyPool |> Array.truncate n |> Array.sortWith (fun a b -> String.CompareOrdinal(a, b)) |> List.ofArray

let rec private genInst (rng: Random) (minLength: int) (kind: Kind) : Inst =
    let seq k =
        ISeq(List.init (minLength + rng.Next(4 - minLength)) (fun _ -> genInst rng minLength k))

    match kind with
    | KLeaf form -> randomLeaf rng form
    | KVTuple ks
    | KFTuple ks -> ITuple(ks |> List.map (genInst rng minLength))
    | KArray k
    | KFList k
    | KList k
    | KImm k -> seq k
    | KMap k
    | KDict k -> IDict(randomKeys rng (minLength + rng.Next(4 - minLength)) |> List.map (fun key -> key, genInst rng minLength k))
    | KPair k -> IRec(genInst rng minLength k, genInst rng minLength k)
    | KParams ->
        let names = shuffle rng keyPool |> Array.truncate (1 + rng.Next 4) |> List.ofArray
        IParams(names |> List.map (fun n -> n, randomLeaf rng FValue))

/// The same structure with new random elements (a tangent, a direction).
let rec private redata (rng: Random) (inst: Inst) =
    match inst with
    | ILeaf(f, s, _) -> ILeaf(f, s, randomData rng s)
    | ITuple xs -> ITuple(List.map (redata rng) xs)
    | ISeq xs -> ISeq(List.map (redata rng) xs)
    | IDict xs -> IDict(xs |> List.map (fun (k, x) -> k, redata rng x))
    | IRec(a, b) -> IRec(redata rng a, redata rng b)
    | IParams xs -> IParams(xs |> List.map (fun (k, x) -> k, redata rng x))

/// The leaves in leaf order: shapes and row-major elements.
let rec leavesOf (inst: Inst) : (Shape * float[]) list =
    match inst with
    | ILeaf(_, s, d) -> [ s, d ]
    | ITuple xs
    | ISeq xs -> List.collect leavesOf xs
    | IDict xs
    | IParams xs -> xs |> List.collect (snd >> leavesOf)
    | IRec(a, b) -> leavesOf a @ leavesOf b

let private join (prefix: string) (label: string) =
    if prefix = "" && label.StartsWith "." then label[1..] else prefix + label

/// The leaf paths, computed by hand.
let pathsOf (inst: Inst) : string list =
    let rec go prefix inst =
        match inst with
        | ILeaf _ -> [ (if prefix = "" then "x" else prefix) ]
        | ITuple xs
        | ISeq xs -> xs |> List.mapi (fun k x -> go (prefix + $"[{k}]") x) |> List.concat
        | IDict xs -> xs |> List.collect (fun (key, x) -> go (prefix + $"[\"{key}\"]") x)
        | IParams xs -> xs |> List.collect (fun (key, x) -> go (join prefix ("." + key)) x)
        | IRec(a, b) -> go (join prefix ".A") a @ go (join prefix ".B") b

    go "" inst

// ------------------------------------------------------------------ building values of a spec by reflection

/// Generic builders, called through MakeGenericMethod.
type Builders =
    static member Arr<'T>(xs: obj[]) : 'T[] = Array.map unbox<'T> xs
    static member FList<'T>(xs: obj[]) : 'T list = [ for x in xs -> unbox<'T> x ]
    static member RList<'T>(xs: obj[]) : List<'T> = List<'T>(Seq.map unbox<'T> xs)
    static member Imm<'T>(xs: obj[]) : ImmutableArray<'T> = ImmutableArray.CreateRange(Seq.map unbox<'T> xs)

    static member FMap<'T>(keys: string[], xs: obj[]) : Map<string, 'T> =
        Array.zip keys (Array.map unbox<'T> xs) |> Map.ofArray

    static member Dict<'T>(keys: string[], xs: obj[]) : Dictionary<string, 'T> =
        let d = Dictionary<string, 'T>()
        // Not in key order, so the mechanism's ordinal sort is what puts them in order.
        for k in Array.rev keys |> Array.indexed do
            d[snd k] <- unbox<'T> xs[keys.Length - 1 - fst k]

        d

let private callBuilder (name: string) (element: Type) (args: obj[]) : obj =
    match typeof<Builders>.GetMethod(name) with
    | null -> failwith name
    | m -> m.MakeGenericMethod(element).Invoke(null, args) |> nonNull

/// The runtime type of a kind: traced (every leaf an Expr, Params as ParamVars) or not.
let rec typeOf (traced: bool) (kind: Kind) : Type =
    match kind with
    | KLeaf _ when traced -> typeof<Expr>
    | KLeaf FValue -> typeof<Value>
    | KLeaf FDouble -> typeof<float>
    | KLeaf FVector -> typeof<Vector<float>>
    | KLeaf FMatrix -> typeof<Matrix<float>>
    | KVTuple ks ->
        let t = typeof<ValueTuple>.Assembly.GetType($"System.ValueTuple`{ks.Length}") |> nonNull
        t.MakeGenericType(ks |> List.map (typeOf traced) |> Array.ofList)
    | KFTuple ks -> FSharpType.MakeTupleType(ks |> List.map (typeOf traced) |> Array.ofList)
    | KArray k -> (typeOf traced k).MakeArrayType()
    | KFList k -> typedefof<list<obj>>.MakeGenericType(typeOf traced k)
    | KList k -> typedefof<List<obj>>.MakeGenericType(typeOf traced k)
    | KImm k -> typedefof<ImmutableArray<obj>>.MakeGenericType(typeOf traced k)
    | KMap k -> typedefof<Map<string, obj>>.MakeGenericType(typeof<string>, typeOf traced k)
    | KDict k -> typedefof<Dictionary<string, obj>>.MakeGenericType(typeof<string>, typeOf traced k)
    | KPair k -> typedefof<Pair<obj>>.MakeGenericType(typeOf traced k)
    | KParams -> if traced then typeof<ParamVars> else typeof<Params>

let valueOf (s: Shape, d: float[]) : Value =
    match s.Rank with
    | 0 -> Value.Scalar d[0]
    | 1 -> Value.FromArray(Array.copy d)
    | _ -> Value.FromMatrix(Matrix<float>.Build.DenseOfRowMajor(s.Rows, s.Cols, d))

/// A value's elements in row-major order.
let rowMajor (v: Value) : float[] =
    match v.Shape.Rank with
    | 0 -> [| v.ToScalar() |]
    | 1 -> v.ToArray()
    | _ -> v.ToMatrix().ToRowMajorArray()

/// A value of the kind's type holding the instance; on the traced side, leaf k is mkLeaf k (value).
let build (traced: bool) (mkLeaf: int -> Value -> Expr) (kind: Kind) (inst: Inst) : obj =
    let mutable next = 0

    let rec go kind inst : obj =
        match kind, inst with
        | KLeaf form, ILeaf(_, s, d) ->
            let v = valueOf (s, d)
            let k = next
            next <- next + 1

            if traced then
                ob (mkLeaf k v)
            else
                match form with
                | FValue -> ob v
                | FDouble -> ob d[0]
                | FVector -> ob (Vector<float>.Build.DenseOfArray(Array.copy d))
                | FMatrix -> ob (Matrix<float>.Build.DenseOfRowMajor(s.Rows, s.Cols, d))
        | KVTuple ks, ITuple xs ->
            let args = List.map2 go ks xs |> Array.ofList
            Activator.CreateInstance(typeOf traced kind, args) |> nonNull
        | KFTuple ks, ITuple xs -> FSharpValue.MakeTuple(List.map2 go ks xs |> Array.ofList, typeOf traced kind)
        | (KArray k | KFList k | KList k | KImm k), ISeq xs ->
            let name =
                match kind with
                | KArray _ -> "Arr"
                | KFList _ -> "FList"
                | KList _ -> "RList"
                | _ -> "Imm"

            callBuilder name (typeOf traced k) [| ob (xs |> List.map (go k) |> Array.ofList) |]
        | (KMap k | KDict k), IDict xs ->
            let keys = xs |> List.map fst |> Array.ofList
            let values = xs |> List.map (snd >> go k) |> Array.ofList
            callBuilder (if kind.IsKMap then "FMap" else "Dict") (typeOf traced k) [| ob keys; ob values |]
        | KPair k, IRec(a, b) ->
            let a = go k a
            let b = go k b
            FSharpValue.MakeRecord(typeOf traced kind, [| a; b |])
        | KParams, IParams xs when not traced ->
            Params.Of(xs |> List.map (fun (n, x) -> struct (n, unbox<Value> (go (KLeaf FValue) x))) |> Array.ofList)
        | _ -> failwith $"build: {kind} and {inst} do not match"

    go kind inst

/// The Expr leaves of a traced value, in leaf order, read by a reflection walk that mirrors the instance.
let rec walk (inst: Inst) (o: obj) : Expr list =
    match inst with
    | ILeaf _ -> [ o :?> Expr ]
    | ITuple xs -> List.map2 walk xs (FSharpValue.GetTupleFields o |> Array.map nonNull |> List.ofArray) |> List.concat
    | ISeq xs -> List.map2 walk xs (o :?> IEnumerable |> Seq.cast<obj> |> List.ofSeq) |> List.concat
    | IDict xs ->
        let entries =
            [
                for pair in o :?> IEnumerable |> Seq.cast<obj> do
                    let t = pair.GetType()
                    let key = (t.GetProperty("Key") |> nonNull).GetValue(pair) |> nonNull :?> string
                    key, (t.GetProperty("Value") |> nonNull).GetValue(pair) |> nonNull
            ]
            |> List.sortWith (fun (a, _) (b, _) -> String.CompareOrdinal(a, b))

        Assert.That(entries |> List.map fst, Is.EqualTo(xs |> List.map fst), "traced dictionary keys")
        List.map2 (fun (_, x) (_, e) -> walk x e) xs entries |> List.concat
    | IRec(a, b) ->
        match FSharpValue.GetRecordFields o with
        | [| fa; fb |] -> walk a (nonNull fa) @ walk b (nonNull fb)
        | fields -> failwith $"record with {fields.Length} fields"
    | IParams xs ->
        let p = o :?> ParamVars
        xs |> List.map (fun (n, _) -> p[n])

// ------------------------------------------------------------------ the functions and their flat forms

let private coefficient k = 1.0 + 0.1 * float k

/// The cross term between the first two leaves (0 with fewer).
let private cross (ls: Expr list) : Expr option =
    match ls with
    | a :: b :: _ -> Some(0.3 * Expr.Sum(a) * Expr.Sum(Expr.Cos b))
    | _ -> None

/// One term per leaf: c_k · Σ sin(l_k) ⊙ l_k.
let private terms (ls: Expr list) =
    ls |> List.mapi (fun k l -> coefficient k * Expr.Sum(Expr.Sin l * l))

/// f = Σ_k c_k · Σ sin(l_k) ⊙ l_k + 0.3 · Σ l_0 · Σ cos l_1.
let fScalar (ls: Expr list) : Expr =
    let s = terms ls |> List.reduce (+)

    match cross ls with
    | Some c -> s + c
    | None -> s

/// A scalar's entry k of a vector(n).
let private placed (n: int) (k: int) (x: Expr) = Expr.Create(ScatterOp(Shape.Vector n, k), x)

/// A vector output: term k at k, the cross term added to element 0.
let fVector (ls: Expr list) : Expr =
    let ts = terms ls
    let ts = match cross ls with Some c -> (ts.Head + c) :: ts.Tail | None -> ts
    ts |> List.mapi (placed ts.Length) |> List.reduce (+)

/// A structured output: one Expr per leaf, of its shape.
let fLeafwise (ls: Expr list) : Expr[] =
    let c = cross ls

    ls
    |> List.mapi (fun k l ->
        let y = coefficient k * Expr.Sin l * l
        match c with Some c when k = 0 -> y + c * l | _ -> y)
    |> Array.ofList

/// Element e (row-major) of a graph.
let private element (y: Expr) (e: int) : Expr =
    match y.Shape.Rank with
    | 0 -> y
    | 1 -> y[e]
    | _ -> y[e / y.Shape.Cols, e % y.Shape.Cols]

/// The leaves as graphs sliced from a flat vector (row-major), each of its shape.
let ofFlat (shapes: Shape list) (x: Expr) : Expr list =
    let mutable offset = 0

    [
        for s in shapes do
            let o = offset
            offset <- offset + s.Size

            match s.Rank with
            | 0 -> x[o]
            | 1 -> List.init s.Size (fun e -> Expr.Create(ScatterOp(s, e), x[o + e])) |> List.reduce (+)
            | _ -> List.init s.Size (fun e -> Expr.Create(ScatterOp(s, e / s.Cols, e % s.Cols), x[o + e])) |> List.reduce (+)
    ]

/// Graphs concatenated row-major into one vector.
let toFlat (ys: Expr list) : Expr =
    let n = ys |> List.sumBy (fun y -> y.Shape.Size)

    ys
    |> List.fold (fun (acc, o) y -> acc @ List.init y.Shape.Size (fun e -> placed n (o + e) (element y e)), o + y.Shape.Size) ([], 0)
    |> fst
    |> List.reduce (+)

/// The leaves of a structure concatenated row-major.
let flatOf (x: 'X when 'X: not null) : float[] =
    let struct (leaves, _) = Tree.Flatten x
    leaves |> Seq.collect rowMajor |> Array.ofSeq

let private close (what: string) (expected: float[]) (actual: float[]) =
    assertAllClose rounding what "" (T.vector expected) (T.vector actual)

let private same (what: string) (expected: float[]) (actual: float[]) =
    if Array.map bits expected <> Array.map bits actual then
        Assert.Fail $"{what}: not bit-identical\n  expected = {fmt (T.vector expected)}\n  actual   = {fmt (T.vector actual)}"

let private matrixClose (what: string) (expected: Matrix<float>) (actual: Matrix<float>) =
    Assert.That((actual.RowCount, actual.ColumnCount), Is.EqualTo((expected.RowCount, expected.ColumnCount)), $"{what}: size")
    close what (expected.ToRowMajorArray()) (actual.ToRowMajorArray())

/// Runs a generic check with the runtime types, rethrowing what it throws as itself.
let private invoke (owner: Type) (name: string) (types: Type[]) (args: obj[]) =
    match owner.GetMethod(name) with
    | null -> failwith name
    | m ->
        try
            m.MakeGenericMethod(types).Invoke(null, args) |> ignore
        with :? TargetInvocationException as e when not (isNull e.InnerException) ->
            ExceptionDispatchInfo.Capture(nonNull e.InnerException).Throw()

/// A random spec: a kind and an instance with 1..12 leaves and at most 60 elements (sequences of at least minLength).
let rec randomSpec (rng: Random) (top: Random -> Kind) (minLength: int) (minLeaves: int) =
    let kind = top rng
    let inst = genInst rng minLength kind
    let leaves = leavesOf inst

    if leaves.Length < minLeaves || leaves.Length > 12 || List.sumBy (fun (s: Shape, _) -> s.Size) leaves > 60 then
        randomSpec rng top minLength minLeaves
    else
        kind, inst

let private anyTop (rng: Random) =
    if rng.Next 10 = 0 then KParams else genKind rng 0

// ------------------------------------------------------------------ 1. every transform on a structure = on the flat vector

type Checks =
    /// Every combinator on x (of kind/instance inst) against the same combinator on the flat vector of its leaves.
    static member Transforms<'X, 'E when 'X: not null and 'E: not null>(x: 'X, v: 'X, kind: Kind, inst: Inst, vinst: Inst, cotangent: Value) =
        let shapes = leavesOf inst |> List.map fst
        let paths = pathsOf inst
        let xflat = Value.FromArray(flatOf x)
        let vflat = Value.FromArray(flatOf v)
        Assert.That(flatOf v, Is.EqualTo(leavesOf vinst |> Seq.collect snd |> Array.ofSeq), "the tangent's leaves")
        let onLeaves (g: Expr list -> 'R) = fun (e: 'E) -> g (walk inst (ob e))
        let flat (g: Expr list -> 'R) = fun (e: Expr) -> g (ofFlat shapes e)
        let f = Func<'E, Expr>(onLeaves fScalar)
        let fv = Func<'E, Expr>(onLeaves fVector)
        let ff = Func<Expr, Expr>(flat fScalar)
        let ffv = Func<Expr, Expr>(flat fVector)

        // The form: paths, leaves, type.
        let struct (leaves, def) = Tree.Flatten x
        Assert.That(def.Paths |> List.ofSeq, Is.EqualTo paths, "paths")
        same "leaves" (leavesOf inst |> Seq.collect snd |> Array.ofSeq) (flatOf x)
        Assert.That(leaves |> Seq.map (fun l -> l.Shape) |> List.ofSeq, Is.EqualTo shapes, "leaf shapes")

        let inForm (what: string) (g: 'X) =
            Assert.That(g.GetType(), Is.EqualTo(x.GetType()), $"{what}: runtime type")
            let struct (_, gdef) = Tree.Flatten g
            Assert.That(gdef, Is.EqualTo def, $"{what}: form")

        // ValueAndGrad, Grad, ValueAndGradWithAux.
        let struct (y, g) = AD.ValueAndGrad<'X, 'E>(f).Invoke(x)
        let struct (yf, gf) = AD.ValueAndGrad(ff).Invoke(xflat)
        inForm "gradient" g
        close "value" [| yf.ToScalar() |] [| y.ToScalar() |]
        close "gradient" (gf.ToArray()) (flatOf g)
        same "Grad = ValueAndGrad" (flatOf g) (flatOf (AD.Grad<'X, 'E>(f).Invoke(x)))

        let aux = Func<'E, struct (Expr * int)>(fun e -> struct (fScalar (walk inst (ob e)), 17))
        let struct (ya, ga, a) = AD.ValueAndGradWithAux<'X, 'E, int>(aux).Invoke(x)
        same "aux value" [| y.ToScalar() |] [| ya.ToScalar() |]
        same "aux gradient" (flatOf g) (flatOf ga)
        Assert.That(a, Is.EqualTo 17)

        // Vjp on the vector variant.
        let struct (yv, pullback) = AD.Vjp<'X, 'E>(fv).Invoke(x)
        let struct (yvf, pullbackf) = AD.Vjp(ffv).Invoke(xflat)
        close "vjp value" (yvf.ToArray()) (yv.ToArray())
        let pulled = pullback.Invoke cotangent
        inForm "vjp" pulled
        close "vjp" ((pullbackf.Invoke cotangent).ToArray()) (flatOf pulled)

        // Jvp with a random tangent in the structure.
        let struct (yj, tj) = AD.Jvp<'X, 'E>(fv).Invoke(x, v)
        let struct (_, tjf) = AD.Jvp(ffv).Invoke(xflat, vflat)
        same "jvp value = vjp value" (yv.ToArray()) (yj.ToArray())
        close "jvp" (tjf.ToArray()) (tj.ToArray())

        // Hvp.
        let hv = AD.Hvp<'X, 'E>(f).Invoke(x, v)
        inForm "hvp" hv
        close "hvp" ((AD.Hvp(ff).Invoke(xflat, vflat)).ToArray()) (flatOf hv)

        // Jacobian of the vector variant: one row leaf y.
        let jac = AD.Jacobian<'X, 'E>(fv).Invoke(x)
        Assert.That(jac.RowPaths |> List.ofSeq, Is.EqualTo [ "y" ], "jacobian rows")
        Assert.That(jac.ColumnPaths |> List.ofSeq, Is.EqualTo paths, "jacobian columns")
        matrixClose "jacobian" (AD.Jacobian(ffv).Invoke(xflat)) (jac.ToMatrix())

        // Jacobian of a structured output (an Expr per leaf).
        let fo = Func<'E, Expr[]>(onLeaves fLeafwise)
        let jo = AD.Jacobian<'X, 'E, Expr[]>(fo).Invoke(x)
        Assert.That(jo.RowPaths |> List.ofSeq, Is.EqualTo(List.init shapes.Length (fun k -> $"[{k}]")), "structured jacobian rows")
        Assert.That(jo.ColumnPaths |> List.ofSeq, Is.EqualTo paths, "structured jacobian columns")
        let jof = AD.Jacobian(Func<Expr, Expr>(flat (fLeafwise >> List.ofArray >> toFlat))).Invoke(xflat)
        let jom = jo.ToMatrix()
        matrixClose "structured jacobian" jof jom
        let last = shapes.Length - 1
        let r0 = shapes |> List.take last |> List.sumBy (fun s -> s.Size)
        let block = jo[$"[{last}]", paths[0]]
        same "block by path" (jom.SubMatrix(r0, shapes[last].Size, 0, shapes[0].Size).ToRowMajorArray()) (block.ToRowMajorArray())
        same "block by position" (block.ToRowMajorArray()) (jo[last, 0].ToRowMajorArray())

        // Hessian: symmetric, equal to the flat one.
        let h = AD.Hessian<'X, 'E>(f).Invoke(x)
        Assert.That(h.RowPaths |> List.ofSeq, Is.EqualTo paths, "hessian rows")
        Assert.That(h.ColumnPaths |> List.ofSeq, Is.EqualTo paths, "hessian columns")
        let hm = h.ToMatrix()
        matrixClose "hessian symmetric" (hm.Transpose()) hm
        matrixClose "hessian" (AD.Hessian(ff).Invoke(xflat)) hm
        close "hvp = H v" ((hm * Vector<float>.Build.DenseOfArray(flatOf v)).ToArray()) (flatOf hv)

        // Diff over the same structure (a ParamVars holds only the variables of a Params, so not for Params).
        if kind <> KParams then
            let e = build true (fun k value -> Expr.Var(paths[k], value) :> Expr) kind inst :?> 'E
            let dg = Diff.Grad<'E>(Func<'E, Expr>(fun e -> fScalar (walk inst (ob e)))).Invoke(e)
            let dgv = walk inst (ob dg) |> Seq.collect (fun d -> rowMajor d.Value) |> Array.ofSeq
            same "Diff.Grad" (flatOf g) dgv
            let ev = build true (fun _ value -> Expr.Const value) kind vinst :?> 'E
            let dj = Diff.Jvp<'E>(fv).Invoke(e, ev)
            same "Diff.Jvp" (tj.ToArray()) (dj.Value.ToArray())
            let dv = Diff.Vjp<'E>(fv).Invoke(e, Expr.Const cotangent)
            same "Diff.Vjp" (flatOf pulled) (walk inst (ob dv) |> Seq.collect (fun d -> rowMajor d.Value) |> Array.ofSeq)

            // AD over Diff: the gradient of ⟨∇f, v⟩ is H·v.
            let vleaves = leavesOf vinst |> List.map (valueOf >> Expr.Const)

            let nested =
                AD.Grad<'X, 'E>(Func<'E, Expr>(fun e ->
                    let grads = walk inst (ob (Diff.Grad<'E>(f).Invoke(e)))
                    List.map2 (fun (gk: Expr) vk -> Expr.Sum(gk * vk)) grads vleaves |> List.reduce (+)))

            close "AD.Grad (Diff.Grad f)" (flatOf hv) (flatOf (nested.Invoke x))

let ``every transform on a random structure equals the transform on the flat vector of its leaves`` (DoNotSize seed) =
    let rng = Random(seed)
    let kind, inst = randomSpec rng anyTop 0 1
    let vinst = redata rng inst
    let x = build false (fun _ _ -> failwith "value side") kind inst
    let v = build false (fun _ _ -> failwith "value side") kind vinst
    let cotangent = Value.FromArray(randomData rng (Shape.Vector (leavesOf inst).Length))
    let tin = typeOf false kind
    Assert.That(Tree.TracedType tin, Is.EqualTo(typeOf true kind), "Tree.TracedType")
    invoke typeof<Checks> "Transforms" [| tin; Tree.TracedType tin |] [| x; v; ob kind; ob inst; ob vinst; ob cotangent |]

// ------------------------------------------------------------------ 2. chosen inputs

/// The leaf mask of the chosen top-level children (positions or names).
let private maskOf (inst: Inst) (chosen: int list) : bool[] =
    let children =
        match inst with
        | ITuple xs
        | ISeq xs -> xs
        | IDict xs
        | IParams xs -> List.map snd xs
        | IRec(a, b) -> [ a; b ]
        | ILeaf _ -> [ inst ]

    children
    |> List.mapi (fun k c -> List.replicate (leavesOf c).Length (List.contains k chosen))
    |> List.concat
    |> Array.ofList

/// The elements of the chosen leaves (row-major within each), as indices into the flat vector.
let private chosenElements (shapes: Shape list) (mask: bool[]) : int list =
    let offsets = shapes |> List.scan (fun o (s: Shape) -> o + s.Size) 0
    [ for k in 0 .. shapes.Length - 1 do if mask[k] then yield! [ offsets[k] .. offsets[k] + shapes[k].Size - 1 ] ]

type Checks with
    /// With wrt choosing the leaves in mask: the full result on the chosen leaves, zeros elsewhere; Blocks columns are the chosen paths.
    static member Chosen<'X, 'E when 'X: not null and 'E: not null>(x: 'X, v: 'X, inst: Inst, wrt: Wrt, mask: bool[]) =
        let shapes = leavesOf inst |> List.map fst
        let paths = pathsOf inst
        let f = Func<'E, Expr>(fun e -> fScalar (walk inst (ob e)))
        let fv = Func<'E, Expr>(fun e -> fVector (walk inst (ob e)))
        let leavesOfX (g: 'X) = let struct (ls, _) = Tree.Flatten g in List.ofSeq ls

        /// Chosen leaves equal the full result's (bit for bit when exact, else to rounding); the others are zeros.
        let onChosen (what: string) exact (full: 'X) (chosen: 'X) =
            Assert.That(chosen.GetType(), Is.EqualTo(x.GetType()), $"{what}: type")

            List.zip3 (leavesOfX full) (leavesOfX chosen) (List.ofArray mask)
            |> List.iteri (fun k (a, b, m) ->
                Assert.That(b.Shape, Is.EqualTo a.Shape, $"{what}: shape of {paths[k]}")

                if m then
                    (if exact then same else close) $"{what} at {paths[k]}" (rowMajor a) (rowMajor b)
                else
                    same $"{what} at {paths[k]} (not chosen)" (Array.zeroCreate a.Shape.Size) (rowMajor b))

        let struct (y, g) = AD.ValueAndGrad<'X, 'E>(f).Invoke(x)
        let struct (yw, gw) = AD.ValueAndGrad<'X, 'E>(f, wrt).Invoke(x)
        same "value" [| y.ToScalar() |] [| yw.ToScalar() |]
        onChosen "gradient" true g gw
        onChosen "Grad" true g (AD.Grad<'X, 'E>(f, wrt).Invoke(x))

        let aux = Func<'E, struct (Expr * string)>(fun e -> struct (fScalar (walk inst (ob e)), "aux"))
        let struct (_, ga, a) = AD.ValueAndGradWithAux<'X, 'E, string>(aux, wrt).Invoke(x)
        onChosen "gradient with aux" true g ga
        Assert.That(a, Is.EqualTo "aux")

        let ct = Value.FromArray(Array.init (leavesOf inst).Length (fun k -> 0.5 - 0.1 * float k))
        let struct (_, pb) = AD.Vjp<'X, 'E>(fv).Invoke(x)
        let struct (_, pbw) = AD.Vjp<'X, 'E>(fv, wrt).Invoke(x)
        onChosen "vjp" true (pb.Invoke ct) (pbw.Invoke ct)

        // Jvp moves only the chosen leaves: the full Jvp with the others' tangents zero.
        let struct (_, vdef) = Tree.Flatten v
        let vMasked = Tree.Unflatten<'X>(vdef, leavesOfX v |> List.mapi (fun k l -> if mask[k] then l else l.ZerosLike()) |> Array.ofList)
        let struct (_, tw) = AD.Jvp<'X, 'E>(fv, wrt).Invoke(x, v)
        let struct (_, tm) = AD.Jvp<'X, 'E>(fv).Invoke(x, vMasked)
        same "jvp" (tm.ToArray()) (tw.ToArray())

        // Jacobian and Hessian columns: the chosen leaves' paths; entries: the full matrices' chosen columns.
        let chosenPaths = paths |> List.indexed |> List.filter (fun (k, _) -> mask[k]) |> List.map snd
        let cols = chosenElements shapes mask
        let jac = AD.Jacobian<'X, 'E>(fv).Invoke(x).ToMatrix()
        let jw = AD.Jacobian<'X, 'E>(fv, wrt).Invoke(x)
        Assert.That(jw.ColumnPaths |> List.ofSeq, Is.EqualTo chosenPaths, "jacobian columns")
        // Rounding, not bits: fewer columns can turn the Jacobian from reverse to forward mode.
        matrixClose "jacobian" (Matrix<float>.Build.DenseOfColumnVectors([ for c in cols -> jac.Column c ])) (jw.ToMatrix())

        let h = AD.Hessian<'X, 'E>(f).Invoke(x).ToMatrix()
        let hw = AD.Hessian<'X, 'E>(f, wrt).Invoke(x)
        Assert.That(hw.ColumnPaths |> List.ofSeq, Is.EqualTo chosenPaths, "hessian columns")
        Assert.That(hw.RowPaths |> List.ofSeq, Is.EqualTo chosenPaths, "hessian rows")
        let hcc = Matrix<float>.Build.Dense(cols.Length, cols.Length, fun i j -> h[cols[i], cols[j]])
        same "hessian" (hcc.ToRowMajorArray()) (hw.ToMatrix().ToRowMajorArray())

        // Hvp: H_cc · v_c on the chosen leaves, zeros elsewhere.
        let hvw = AD.Hvp<'X, 'E>(f, wrt).Invoke(x, v)
        let vflat = flatOf v
        let expected = hcc * Vector<float>.Build.DenseOfArray([| for c in cols -> vflat[c] |])
        let hvFlat = flatOf hvw
        close "hvp on the chosen leaves" (expected.ToArray()) [| for c in cols -> hvFlat[c] |]
        let others = Set.difference (Set.ofList [ 0 .. vflat.Length - 1 ]) (Set.ofList cols)
        same "hvp elsewhere" (Array.zeroCreate others.Count) [| for c in others -> hvFlat[c] |]

let private randomSubset (rng: Random) (n: int) : int list =
    let s = [ for k in 0 .. n - 1 do if rng.Next 2 = 0 then k ]
    if s.IsEmpty then [ rng.Next n ] else s

let private runChosen (rng: Random) (kind: Kind) (inst: Inst) (wrt: Wrt) (chosen: int list) =
    let x = build false (fun _ _ -> failwith "value side") kind inst
    let v = build false (fun _ _ -> failwith "value side") kind (redata rng inst)
    let tin = typeOf false kind
    invoke typeof<Checks> "Chosen" [| tin; Tree.TracedType tin |] [| x; v; ob inst; ob wrt; ob (maskOf inst chosen) |]

let ``Wrt.Args on a random tuple or sequence: the full derivatives on the chosen positions and zeros elsewhere`` (DoNotSize seed) =
    let rng = Random(seed)

    let top (rng: Random) =
        let sub () = genKind rng 1

        match rng.Next 4 with
        | 0 -> KVTuple(List.init (1 + rng.Next 7) (fun _ -> sub ()))
        | 1 -> KFTuple(List.init (2 + rng.Next 6) (fun _ -> sub ()))
        | 2 -> KArray(sub ())
        | _ -> KFList(sub ())

    let kind, inst = randomSpec rng top 1 1

    let n =
        match inst with
        | ITuple xs
        | ISeq xs -> xs.Length
        | _ -> failwith "a tuple or sequence"

    let chosen = randomSubset rng n
    runChosen rng kind inst (Wrt.Args(Array.ofList chosen)) chosen

let ``Wrt.Names on random Params, records and dictionaries: the full derivatives on the chosen names and zeros elsewhere`` (DoNotSize seed) =
    let rng = Random(seed)

    let top (rng: Random) =
        match rng.Next 4 with
        | 0 -> KParams
        | 1 -> KPair(genKind rng 1)
        | 2 -> KMap(genKind rng 1)
        | _ -> KDict(genKind rng 1)

    let kind, inst = randomSpec rng top 1 1

    let names =
        match inst with
        | IDict xs
        | IParams xs -> List.map fst xs
        | IRec _ -> [ "A"; "B" ]
        | _ -> failwith "named"

    let chosen = randomSubset rng names.Length
    runChosen rng kind inst (Wrt.Names([| for k in chosen -> names[k] |])) chosen

// ------------------------------------------------------------------ 3. round trips and leaf arithmetic

type Checks with
    static member RoundTrip<'X when 'X: not null>(x: 'X, y: 'X, inst: Inst) =
        let paths = pathsOf inst
        let data = leavesOf inst |> List.map snd
        let struct (leaves, def) = Tree.Flatten x
        Assert.That(def.LeafCount, Is.EqualTo data.Length, "leaf count")
        Assert.That(def.IsLeaf, Is.EqualTo(match inst with ILeaf _ -> true | _ -> false), "IsLeaf")
        Assert.That(def.Paths |> List.ofSeq, Is.EqualTo paths, "paths")

        let back = Tree.Unflatten<'X>(def, leaves)
        Assert.That(back.GetType(), Is.EqualTo(x.GetType()), "runtime type")
        same "round trip" (flatOf x) (flatOf back)
        let struct (_, def2) = Tree.Flatten back
        Assert.That(def2, Is.EqualTo def, "form after the round trip")
        Assert.That(def2.GetHashCode(), Is.EqualTo(def.GetHashCode()), "hash of equal forms")

        let named = Tree.Leaves x |> List.ofSeq
        Assert.That(named |> List.map (fun struct (p, _) -> p), Is.EqualTo paths, "Tree.Leaves paths")
        same "Tree.Leaves values" (flatOf x) (named |> Seq.collect (fun struct (_, v) -> rowMajor v) |> Array.ofSeq)

        let identity = Tree.Map(x, Func<Value, Value>(id))
        Assert.That(identity.GetType(), Is.EqualTo(x.GetType()), "Tree.Map type")
        same "Tree.Map id" (flatOf x) (flatOf identity)
        same "Tree.Map (2·)" (flatOf x |> Array.map (fun a -> 2.0 * a)) (flatOf (Tree.Map(x, Func<Value, Value>(fun v -> v * 2.0))))

        let a, b = flatOf x, flatOf y
        same "Tree.Zip (+)" (Array.map2 (+) a b) (flatOf (Tree.Zip(x, y, Func<Value, Value, Value>(fun p q -> p + q))))
        same "Tree.Zip (a, b, a) a·b − a" (Array.map2 (fun p q -> p * q - p) a b) (flatOf (Tree.Zip(x, y, x, Func<Value, Value, Value, Value>(fun p q r -> p * q - r))))
        close "Tree.Dot" [| Array.fold2 (fun s p q -> s + p * q) 0.0 a b |] [| Tree.Dot(x, y) |]
        close "Tree.GlobalNorm" [| sqrt (Array.sumBy (fun p -> p * p) a) |] [| Tree.GlobalNorm x |]
        same "Tree.ZerosLike" (Array.zeroCreate a.Length) (flatOf (Tree.ZerosLike x))
        Assert.That((Tree.ZerosLike x).GetType(), Is.EqualTo(x.GetType()), "Tree.ZerosLike type")

let ``Unflatten of Flatten is the value; Map, Zip, Dot and GlobalNorm agree with the leaves computed by hand`` (DoNotSize seed) =
    let rng = Random(seed)
    let kind, inst = randomSpec rng anyTop 0 0
    let x = build false (fun _ _ -> failwith "value side") kind inst
    let y = build false (fun _ _ -> failwith "value side") kind (redata rng inst)
    invoke typeof<Checks> "RoundTrip" [| typeOf false kind |] [| x; y; ob inst |]

let ``an empty structure flattens to no leaves and back, with a global norm of 0`` () =
    let struct (leaves, def) = Tree.Flatten(Map.empty<string, Value>)
    Assert.That(leaves.Length, Is.EqualTo 0)
    Assert.That((Tree.Unflatten<Map<string, Value>>(def, leaves)).IsEmpty, Is.True)
    Assert.That(Tree.GlobalNorm(Array.empty<Value>), Is.EqualTo 0.0)
    Assert.That(Tree.Dot(([]: float list), []), Is.EqualTo 0.0)

let ``a Params inside a structure is read by its parameters' names; its variables are named by their paths`` () =
    let p = Params.Of(struct ("w", Value.FromArray [| 1.0; -2.0 |]), struct ("b", Value.Scalar 0.5))
    let x = struct (Value.FromArray [| 3.0; 4.0 |], [ p; p.Map(fun v -> v * 2.0) ])
    let names = List<string>()

    let f =
        Func<struct (Expr * ParamVars list), Expr>(fun struct (input, ps) ->
            for q in ps do
                names.Add (q["w"] :?> Var).Name

            ps |> List.map (fun q -> Expr.Dot(q["w"], input) * q["b"]) |> List.reduce (+))

    let struct (_, grads) = AD.Grad<struct (Value * Params list), struct (Expr * ParamVars list)>(f).Invoke(x)
    Assert.That(List.ofSeq names, Is.EqualTo [ "[1][0].w"; "[1][1].w" ])
    Assert.That((grads[0]["w"]).ToArray(), Is.EqualTo [| 1.5; 2.0 |])
    Assert.That((grads[1]["b"]).ToScalar(), Is.EqualTo(2.0 * (3.0 - 8.0)))
    let g = AD.Grad<struct (Value * Params list), struct (Expr * ParamVars list)>(f, Wrt.Args 1).Invoke(x)
    let struct (gi, _) = g
    Assert.That(gi.ToArray(), Is.EqualTo [| 0.0; 0.0 |])
    let h = AD.Hessian<struct (Value * Params list), struct (Expr * ParamVars list)>(f).Invoke(x)
    Assert.That(List.ofSeq h.ColumnPaths, Is.EqualTo [ "[0]"; "[1][0].w"; "[1][0].b"; "[1][1].w"; "[1][1].b" ])
    let e = throws<KeyNotFoundException> (fun () -> AD.Grad<Params list, ParamVars list>(Func<ParamVars list, Expr>(fun ps -> ps[0]["q"])).Invoke([ p ]) |> ignore)
    Assert.That(e.Message, Does.Contain "No parameter named 'q'; the parameters are: w, b.")

let ``a tuple of 8 or more has a position per item, not a nested Rest`` () =
    let t = struct (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0)
    let struct (leaves, def) = Tree.Flatten t
    Assert.That(List.ofSeq def.Paths, Is.EqualTo [ for k in 0..8 -> $"[{k}]" ])
    Assert.That(Tree.Unflatten<struct (float * float * float * float * float * float * float * float * float)>(def, leaves), Is.EqualTo t)

    let f =
        Func<struct (Expr * Expr * Expr * Expr * Expr * Expr * Expr * Expr * Expr), Expr>(fun struct (a, b, c, d, e, g, h, i, j) ->
            a * b * c + d * e * g + h * i * j)

    let grad = AD.Grad<struct (float * float * float * float * float * float * float * float * float), _>(f, Wrt.Args(0, 8))
    Assert.That(grad.Invoke t, Is.EqualTo(struct (6.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 56.0)))

    let e = throws<ArgumentOutOfRangeException> (fun () -> grad.Invoke t |> ignore; AD.Grad<struct (float * float * float * float * float * float * float * float * float), _>(f, Wrt.Args 9).Invoke t |> ignore)
    Assert.That(e.Message, Does.Contain "the input has 9 positions (0 to 8)")

    let ft = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0)
    let struct (_, fdef) = Tree.Flatten ft
    Assert.That(List.ofSeq fdef.Paths, Is.EqualTo [ for k in 0..7 -> $"[{k}]" ])
    let h = AD.Hessian<float * float * float * float * float * float * float * float, _>(Func<_, _>(fun (a: Expr, _: Expr, _: Expr, _: Expr, _: Expr, _: Expr, _: Expr, b: Expr) -> a * b * b)).Invoke ft
    Assert.That(h["[7]", "[0]"][0, 0], Is.EqualTo 16.0)
    Assert.That(Tree.TracedType(typeof<float * float * float * float * float * float * float * float>), Is.EqualTo typeof<Expr * Expr * Expr * Expr * Expr * Expr * Expr * Expr>)

// ------------------------------------------------------------------ 4. errors

let private atThisFile (e: exn) =
    Assert.That(e.Message, Does.Contain "(at Structured.fs:", "the message names this file's line")

let ``an unsupported type is refused naming the type and listing what is supported`` () =
    for name, f in
        [
            "int", (fun () -> Tree.Flatten 3 |> ignore)
            "string", (fun () -> Tree.Flatten "leaf" |> ignore)
            "Plain", (fun () -> Tree.Flatten(Plain()) |> ignore)
            "int", (fun () -> Tree.Flatten(struct (Value.Scalar 1.0, [| 2 |])) |> ignore)
            "Plain", (fun () -> Tree.TracedType typeof<Plain list> |> ignore)
            "int", (fun () -> AD.Grad<int, Expr>(Func<Expr, Expr>(fun x -> x)) |> ignore)
        ] do
        let e = throws<StructureException> f
        Assert.That(e.Message, Does.Contain $"{name} is not a structure the combinators can take apart")
        Assert.That(e.Message, Does.Contain "Supported: Value, double, Vector<double>, Matrix<double>")
        Assert.That(e.Message, Does.Contain "F# records, and C# types marked [Structured]")
        Assert.That(e.Path, Is.Null, "a type error has no path")
        atThisFile e

    // Every use throws it again (not a type initializer's exception once).
    throws<StructureException> (fun () -> Tree.Flatten 3 |> ignore) |> atThisFile

let ``a traced type that is not the input's traced form is refused naming the correct one`` () =
    let e =
        throws<StructureException> (fun () ->
            AD.Grad<struct (Value * Value), struct (Expr * Expr[])>(Func<struct (Expr * Expr[]), Expr>(fun struct (a, _) -> a)) |> ignore)

    Assert.That(e.Message, Does.Contain "AD.Grad: a function differentiated at a (Value, Value) receives it in its traced form (Expr, Expr)")
    Assert.That(e.Message, Does.Contain "not (Expr, Expr[]): write the function over (Expr, Expr) (in C#, AD.Grad<(Value, Value), (Expr, Expr)>).")
    atThisFile e

    let e = throws<StructureException> (fun () -> AD.Hessian<Layer<Value>, Layer<Value>>(Func<Layer<Value>, Expr>(fun _ -> Expr.Const 0.0)) |> ignore)
    Assert.That(e.Message, Does.Contain "traced form Layer<Expr> (every leaf an Expr), not Layer<Value>")
    atThisFile e

let private layers (ws: Value list) : Layer<Value> list =
    ws |> List.map (fun w -> { W = w; B = Value.Scalar 0.5 })

let private layerLoss (ls: Layer<Expr> list) =
    ls |> List.map (fun l -> Expr.Sum(Expr.Sin l.W * l.W) * l.B) |> List.reduce (+)

let ``a tangent whose leaf shape differs names the leaf by its path in the message and in Path`` () =
    let x = layers [ Value.FromArray [| 1.0; 2.0 |]; Value.FromArray [| 3.0; 4.0; 5.0 |] ]
    let v = layers [ Value.FromArray [| 1.0; 2.0 |]; Value.FromArray [| 3.0; 4.0 |] ]
    let f = Func<Layer<Expr> list, Expr>(layerLoss)

    for what, run in
        [
            "Jvp", (fun () -> AD.Jvp<Layer<Value> list, Layer<Expr> list>(f).Invoke(x, v) |> ignore)
            "Hvp", (fun () -> AD.Hvp<Layer<Value> list, Layer<Expr> list>(f).Invoke(x, v) |> ignore)
            "Anomaly.CheckJvp", (fun () -> Anomaly.CheckJvp<Layer<Value> list, Layer<Expr> list>(f, x, v) |> ignore)
            "Tree.Zip", (fun () -> Tree.Zip(x, v, Func<Value, Value, Value>(fun a b -> a + b)) |> ignore)
        ] do
        let e = throws<StructureException> run
        Assert.That(e.Path, Is.EqualTo "[1].W", what)
        Assert.That(e.Message, Does.Contain "at [1].W: vector(2) where the input has vector(3)", what)
        atThisFile e

let ``a tangent whose form differs names the first differing node by its path in the message and in Path`` () =
    let x = [ { W = [ Value.Scalar 1.0 ]; B = [ Value.Scalar 2.0 ] }; { W = [ Value.Scalar 3.0; Value.Scalar 4.0 ]; B = [] } ]
    let v = [ { W = [ Value.Scalar 1.0 ]; B = [ Value.Scalar 2.0 ] }; { W = [ Value.Scalar 3.0 ]; B = [] } ]
    let f = Func<Layer<Expr list> list, Expr>(fun ls -> ls |> List.collect (fun l -> l.W @ l.B) |> List.map Expr.Sin |> List.reduce (+))

    for what, run in
        [
            "Jvp", (fun () -> AD.Jvp<Layer<Value list> list, Layer<Expr list> list>(f).Invoke(x, v) |> ignore)
            "Hvp", (fun () -> AD.Hvp<Layer<Value list> list, Layer<Expr list> list>(f).Invoke(x, v) |> ignore)
            "Tree.Dot", (fun () -> Tree.Dot(x, v) |> ignore)
        ] do
        let e = throws<StructureException> run
        Assert.That(e.Message, Does.Contain "at [1].W: 1 element where the input has 2", what)
        Assert.That(e.Path, Is.EqualTo "[1].W", what)
        atThisFile e

    let e =
        throws<StructureException> (fun () ->
            Diff.Jvp<Map<string, Expr>>(Func<Map<string, Expr>, Expr>(fun m -> m["a"])).Invoke(Map [ "a", Expr.Const 1.0 ], Map [ "b", Expr.Const 1.0 ]) |> ignore)

    Assert.That(e.Message, Does.Contain "the name 'b' where the input has 'a'")
    Assert.That(e.Path, Is.EqualTo "x", "the root")

let ``Unflatten refuses a form of another type`` () =
    let struct (leaves, def) = Tree.Flatten(struct ([| Value.Scalar 1.0 |], Value.Scalar 2.0))
    let e = throws<StructureException> (fun () -> Tree.Unflatten<struct (Value * Value[])>(def, leaves) |> ignore)
    Assert.That(e.Message, Does.Contain "the form has Value[] where the type has a leaf")
    atThisFile e
    let struct (mleaves, mdef) = Tree.Flatten([ Map [ "a", Value.Scalar 1.0 ] ])
    let e = throws<StructureException> (fun () -> Tree.Unflatten<Pair<Value> list>(mdef, mleaves) |> ignore)
    Assert.That(e.Message, Does.Contain "the form has FSharpMap<string, Value> where the type has Pair<Value>")
    let e = throws<StructureException> (fun () -> Tree.Unflatten<struct (Value[] * Value)>(def, [ Value.Scalar 1.0 ]) |> ignore)
    Assert.That(e.Message, Does.Contain "1 leaves for a form with 2 ([0][0], [1])")

let ``Wrt errors: a position out of range, an unknown name, positions of a record, names of a tuple`` () =
    let pair = struct (Value.Scalar 1.0, Value.Scalar 2.0)
    let f2 = Func<struct (Expr * Expr), Expr>(fun struct (a, b) -> a * b)

    let e = throws<ArgumentOutOfRangeException> (fun () -> AD.Grad<struct (Value * Value), struct (Expr * Expr)>(f2, Wrt.Args(0, 2)).Invoke(pair) |> ignore)
    Assert.That(e.Message, Does.Contain "the input has 2 positions (0 to 1), so Args(0, 2) is out of range")
    atThisFile e

    let p = Params.Of(struct ("w", Value.Scalar 1.0), struct ("b", Value.Scalar 2.0))
    let fp = Func<ParamVars, Expr>(fun p -> p["w"] * p["b"])
    let e = throws<Collections.Generic.KeyNotFoundException> (fun () -> AD.Hessian<Params, ParamVars>(fp, Wrt.Names("w", "q")).Invoke(p) |> ignore)
    Assert.That(e.Message, Does.Contain "no input is named 'q'; the names are: w, b")
    atThisFile e

    let m = Map [ "a", 1.0; "b", 2.0 ]
    let e = throws<Collections.Generic.KeyNotFoundException> (fun () -> AD.Grad<Map<string, float>, Map<string, Expr>>(Func<Map<string, Expr>, Expr>(fun m -> m["a"]), Wrt.Names "c").Invoke(m) |> ignore)
    Assert.That(e.Message, Does.Contain "the names are: a, b")

    let layer = { W = Value.Scalar 1.0; B = Value.Scalar 2.0 }
    let fl = Func<Layer<Expr>, Expr>(fun l -> l.W * l.B)
    let e = throws<ArgumentException> (fun () -> AD.Grad<Layer<Value>, Layer<Expr>>(fl, Wrt.Args 1).Invoke(layer) |> ignore)
    Assert.That(e.Message, Does.Contain "chooses positions, but the input Layer<Value> is not a tuple or a sequence")
    atThisFile e

    let e = throws<ArgumentException> (fun () -> AD.Jvp<struct (Value * Value), struct (Expr * Expr)>(f2, Wrt.Names "a").Invoke(pair, pair) |> ignore)
    Assert.That(e.Message, Does.Contain "chooses names, but the input (Value, Value) has none")
    atThisFile e

    // Blocks by an unknown path.
    let h = AD.Hessian<Layer<Value>, Layer<Expr>>(fl).Invoke(layer)
    let e = throws<Collections.Generic.KeyNotFoundException> (fun () -> h["W", "C"] |> ignore)
    Assert.That(e.Message, Does.Contain "the column leaves are: W, B")
    atThisFile e

// ------------------------------------------------------------------ 5. Diff over structures

let ``Diff.Grad over (Expr, Expr[]) evaluates to AD.Grad and nests into second derivatives`` () =
    let f (struct (a: Expr, bs: Expr[])) =
        Expr.Sum(Expr.Sin(a * bs[0]) * bs[1]) + Expr.Sum(bs[1] * bs[1] * a) + Expr.Sum(Expr.Cos bs[0])

    let x = struct (Value.Scalar 0.7, [| Value.FromArray [| 0.3; -1.2 |]; Value.FromArray [| 2.0; 0.5 |] |])
    let ad = AD.Grad<struct (Value * Value[]), struct (Expr * Expr[])>(Func<_, _> f).Invoke(x)
    let struct (a0, bs0) = x
    let vars = struct (Expr.Var("a", a0) :> Expr, bs0 |> Array.mapi (fun k b -> Expr.Var($"b{k}", b) :> Expr))
    let struct (da, dbs) = Diff.Grad<struct (Expr * Expr[])>(Func<_, _> f).Invoke(vars)
    let struct (ga, gbs) = ad
    Assert.That(dbs.Length, Is.EqualTo 2, "same form out")
    same "∂a" (rowMajor ga) (rowMajor da.Value)

    for k in 0..1 do
        same $"∂b{k}" (rowMajor gbs[k]) (rowMajor dbs[k].Value)

    // AD.Grad of a component of Diff.Grad: a row of the Hessian.
    let row =
        AD.Grad<struct (Value * Value[]), struct (Expr * Expr[])>(Func<struct (Expr * Expr[]), Expr>(fun e ->
            let struct (da, _) = Diff.Grad<struct (Expr * Expr[])>(Func<_, _> f).Invoke(e)
            da))
            .Invoke(x)

    let h = AD.Hessian<struct (Value * Value[]), struct (Expr * Expr[])>(Func<_, _> f).Invoke(x)
    let struct (ra, rbs) = row
    close "Hessian row a" (h.ToMatrix().Row(0).ToArray()) (Array.append (rowMajor ra) (rbs |> Array.collect rowMajor))
    close "block by path" (h["[0]", "[1][1]"].ToRowMajorArray()) (rowMajor rbs[1])

let ``Diff over a tuple of Exprs, a record and a Map: the same form out, derivatives of their values`` () =
    let a, b = Expr.Var("a", Value.Scalar 2.0) :> Expr, Expr.Var("b", Value.Scalar 3.0) :> Expr
    let struct (ga, gb) = Diff.Grad<struct (Expr * Expr)>(Func<_, _>(fun struct (x, y) -> x * x * y)).Invoke(struct (a, b))
    Assert.That((ga.Value.ToScalar(), gb.Value.ToScalar()), Is.EqualTo((12.0, 4.0)))

    // Nested: d/da of ∂(x·x·y)/∂y = 2a, with the inner derivative's b held by the outer trace.
    let outer = AD.Grad(Func<Expr, Expr>(fun a -> let struct (_, gy) = Diff.Grad<struct (Expr * Expr)>(Func<_, _>(fun struct (x, y) -> x * x * y)).Invoke(struct (a, b)) in gy))
    Assert.That((outer.Invoke(Value.Scalar 2.0)).ToScalar(), Is.EqualTo 4.0)

    let l = Diff.Grad<Layer<Expr>>(Func<Layer<Expr>, Expr>(fun l -> Expr.Sin l.W * l.B)).Invoke({ W = a; B = b })
    Assert.That((l.W.Value.ToScalar(), l.B.Value.ToScalar()), Is.EqualTo((3.0 * cos 2.0, sin 2.0)))

    let m = Diff.Vjp<Map<string, Expr>>(Func<Map<string, Expr>, Expr>(fun m -> m["u"] * m["v"])).Invoke(Map [ "u", a; "v", b ], Expr.Const 2.0)
    Assert.That((m["u"].Value.ToScalar(), m["v"].Value.ToScalar()), Is.EqualTo((6.0, 4.0)))

    let t = Diff.Jvp<Expr list>(Func<Expr list, Expr>(fun xs -> xs[0] * xs[1])).Invoke([ a; b ], [ Expr.Const 1.0; Expr.Const 0.0 ])
    Assert.That(t.Value.ToScalar(), Is.EqualTo 3.0)

    let e = throws<StructureException> (fun () -> Diff.Grad<Expr[]>(Func<Expr[], Expr>(fun _ -> Expr.Const 1.0)).Invoke([||]) |> ignore)
    Assert.That(e.Message, Does.Contain "the input has no leaves to differentiate by")
    atThisFile e

// ------------------------------------------------------------------ 6. a wide structure

let ``a 100000-leaf array flattens, unflattens and differentiates in reasonable time`` () =
    let n = 100_000
    let xs = Array.init n (fun k -> float (k % 17) / 17.0 - 0.5)
    let clock = Stopwatch.StartNew()
    let struct (leaves, def) = Tree.Flatten xs
    Assert.That(def.LeafCount, Is.EqualTo n)
    let back = Tree.Unflatten<float[]>(def, leaves)
    same "round trip" xs back
    Assert.That(def.Paths[n - 1], Is.EqualTo $"[{n - 1}]")

    let f = Func<Expr[], Expr>(fun es -> es |> Array.mapi (fun k e -> (1.0 + float (k % 3)) * e * e) |> Array.reduce (+))
    let struct (y, g) = AD.ValueAndGrad<float[], Expr[]>(f).Invoke(xs)
    close "gradient" (xs |> Array.mapi (fun k x -> 2.0 * (1.0 + float (k % 3)) * x)) g
    close "value" [| xs |> Array.mapi (fun k x -> (1.0 + float (k % 3)) * x * x) |> Array.sum |] [| y.ToScalar() |]
    // Not a timing test (speed is measured in bench/): a guard against a quadratic walk, which at 100000 leaves takes
    // many minutes; about 2 s on a quiet 2-core machine, 9 s under a load of 16, so the bound is loose.
    let seconds = clock.Elapsed.TotalSeconds
    Assert.That(seconds, Is.LessThan 60.0, "seconds")

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "Structured" [
        testPropertyWithConfig { replay Seed with maxTest = 100 } "every transform on a random structure equals the transform on the flat vector of its leaves" ``every transform on a random structure equals the transform on the flat vector of its leaves``
        testPropertyWithConfig { replay Seed with maxTest = 60 } "Wrt.Args on a random tuple or sequence: the full derivatives on the chosen positions and zeros elsewhere" ``Wrt.Args on a random tuple or sequence: the full derivatives on the chosen positions and zeros elsewhere``
        testPropertyWithConfig { replay Seed with maxTest = 60 } "Wrt.Names on random Params, records and dictionaries: the full derivatives on the chosen names and zeros elsewhere" ``Wrt.Names on random Params, records and dictionaries: the full derivatives on the chosen names and zeros elsewhere``
        testPropertyWithConfig { replay Seed with maxTest = 200 } "Unflatten of Flatten is the value; Map, Zip, Dot and GlobalNorm agree with the leaves computed by hand" ``Unflatten of Flatten is the value; Map, Zip, Dot and GlobalNorm agree with the leaves computed by hand``
        testCase "an empty structure flattens to no leaves and back, with a global norm of 0" ``an empty structure flattens to no leaves and back, with a global norm of 0``
        testCase "a Params inside a structure is read by its parameters' names; its variables are named by their paths" ``a Params inside a structure is read by its parameters' names; its variables are named by their paths``
        testCase "a tuple of 8 or more has a position per item, not a nested Rest" ``a tuple of 8 or more has a position per item, not a nested Rest``
        testCase "an unsupported type is refused naming the type and listing what is supported" ``an unsupported type is refused naming the type and listing what is supported``
        testCase "a traced type that is not the input's traced form is refused naming the correct one" ``a traced type that is not the input's traced form is refused naming the correct one``
        testCase "a tangent whose leaf shape differs names the leaf by its path in the message and in Path" ``a tangent whose leaf shape differs names the leaf by its path in the message and in Path``
        testCase "a tangent whose form differs names the first differing node by its path in the message and in Path" ``a tangent whose form differs names the first differing node by its path in the message and in Path``
        testCase "Unflatten refuses a form of another type" ``Unflatten refuses a form of another type``
        testCase "Wrt errors: a position out of range, an unknown name, positions of a record, names of a tuple" ``Wrt errors: a position out of range, an unknown name, positions of a record, names of a tuple``
        testCase "Diff.Grad over (Expr, Expr[]) evaluates to AD.Grad and nests into second derivatives" ``Diff.Grad over (Expr, Expr[]) evaluates to AD.Grad and nests into second derivatives``
        testCase "Diff over a tuple of Exprs, a record and a Map: the same form out, derivatives of their values" ``Diff over a tuple of Exprs, a record and a Map: the same form out, derivatives of their values``
        // It is timed: no other test may share the machine meanwhile.
        testSequenced <| testCase "a 100000-leaf array flattens, unflattens and differentiates in reasonable time" ``a 100000-leaf array flattens, unflattens and differentiates in reasonable time``
    ]
