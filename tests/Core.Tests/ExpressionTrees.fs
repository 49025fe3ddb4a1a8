/// C# expression-tree lambdas compiled to delegates (issue 12): random lambdas over every supported node kind, built
/// as System.Linq.Expressions trees (F# cannot write C# expression lambdas; tests/Acceptance.CSharp uses the real
/// syntax), give the bits of the equivalent Expr graph's value and gradient, and agree with central differences; every
/// unsupported node kind is refused with its own error; captured variables are read once; ?: takes both branches; the
/// emitter compiles scalar graphs built with Expr; deep lambdas translate and long chains compile.
module Functional.Autodiff.Tests.ExpressionTrees

open System
open System.Linq.Expressions
open FsCheck
open FsCheck.FSharp
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

let Seed = "(20261203,12013)"

/// A captured variable: the lambda reads the property of this object.
type Box(v: float) =
    member val Value = v with get, set

/// A captured int, converted to double by the lambda.
type IntBox(n: int) =
    member val N = n with get, set

type Cmp =
    | Lt
    | Le
    | Gt
    | Ge
    | Eq
    | Ne

/// A condition of a ?: node.
type Test =
    | Compare of Cmp * Node * Node
    | And of Test * Test
    | Or of Test * Test
    | Not of Test

/// A lambda body over the supported node kinds, each kept in its op's domain (log of a·a + 1, exp of tanh, ...).
and Node =
    | Arg of int
    | Num of float
    | Captured of float
    | CapturedInt of int
    | Add of Node * Node
    | Sub of Node * Node
    | Mul of Node * Node
    | Div of Node * Node // a / (b·b + 1)
    | Neg of Node
    | Exp of Node // exp(tanh a)
    | Log of Node // log(a·a + 1)
    | Sin of Node
    | Cos of Node
    | Tan of Node // tan(tanh a)
    | Tanh of Node
    | Sqrt of Node // sqrt(a·a + 1)
    | PowC of Node * float // (a·a + 1)^c
    | PowT of Node * Node // (a·a + 1)^sin b
    | Abs of Node
    | Max of Node * Node
    | Min of Node * Node
    | Cond of Test * Node * Node

let private math (name: string) (arity: int) =
    nonNull (typeof<Math>.GetMethod(name, Array.create arity typeof<float>))

let private call name (args: Expression list) : Expression =
    Expression.Call(math name args.Length, args) :> Expression

let private c (x: float) : Expression = Expression.Constant x :> Expression

/// The node as an expression tree; args reads input k.
let rec toLinq (args: int -> Expression) (node: Node) : Expression =
    let go = toLinq args
    let square1 (a: Expression) = Expression.Add(Expression.Multiply(a, a), c 1.0) :> Expression

    match node with
    | Arg k -> args k
    | Num x -> c x
    | Captured x -> Expression.Property(Expression.Constant(Box x), "Value") :> Expression
    | CapturedInt n -> Expression.Convert(Expression.Property(Expression.Constant(IntBox n), "N"), typeof<float>) :> Expression
    | Add(a, b) -> Expression.Add(go a, go b) :> Expression
    | Sub(a, b) -> Expression.Subtract(go a, go b) :> Expression
    | Mul(a, b) -> Expression.Multiply(go a, go b) :> Expression
    | Div(a, b) -> Expression.Divide(go a, square1 (go b)) :> Expression
    | Neg a -> Expression.Negate(go a) :> Expression
    | Exp a -> call "Exp" [ call "Tanh" [ go a ] ]
    | Log a -> call "Log" [ square1 (go a) ]
    | Sin a -> call "Sin" [ go a ]
    | Cos a -> call "Cos" [ go a ]
    | Tan a -> call "Tan" [ call "Tanh" [ go a ] ]
    | Tanh a -> call "Tanh" [ go a ]
    | Sqrt a -> call "Sqrt" [ square1 (go a) ]
    | PowC(a, p) -> call "Pow" [ square1 (go a); c p ]
    | PowT(a, b) -> call "Pow" [ square1 (go a); call "Sin" [ go b ] ]
    | Abs a -> call "Abs" [ go a ]
    | Max(a, b) -> call "Max" [ go a; go b ]
    | Min(a, b) -> call "Min" [ go a; go b ]
    | Cond(t, a, b) -> Expression.Condition(testToLinq args t, go a, go b) :> Expression

and testToLinq args (t: Test) : Expression =
    match t with
    | Compare(cmp, a, b) ->
        let a, b = toLinq args a, toLinq args b

        match cmp with
        | Lt -> Expression.LessThan(a, b)
        | Le -> Expression.LessThanOrEqual(a, b)
        | Gt -> Expression.GreaterThan(a, b)
        | Ge -> Expression.GreaterThanOrEqual(a, b)
        | Eq -> Expression.Equal(a, b)
        | Ne -> Expression.NotEqual(a, b)
        :> Expression
    | And(p, q) -> Expression.AndAlso(testToLinq args p, testToLinq args q) :> Expression
    | Or(p, q) -> Expression.OrElse(testToLinq args p, testToLinq args q) :> Expression
    | Not p -> Expression.Not(testToLinq args p) :> Expression

/// The same body as an Expr graph, written with the library's functions as a user would.
let rec toExpr (args: Expr[]) (node: Node) : Expr =
    let go = toExpr args
    let square1 (a: Expr) = a * a + 1.0

    match node with
    | Arg k -> args[k]
    | Num x -> Expr.Const x
    | Captured x -> Expr.Const x
    | CapturedInt n -> Expr.Const(float n)
    | Add(a, b) -> go a + go b
    | Sub(a, b) -> go a - go b
    | Mul(a, b) -> go a * go b
    | Div(a, b) -> go a / square1 (go b)
    | Neg a -> -(go a)
    | Exp a -> Expr.Exp(Expr.Tanh(go a))
    | Log a -> Expr.Log(square1 (go a))
    | Sin a -> Expr.Sin(go a)
    | Cos a -> Expr.Cos(go a)
    | Tan a ->
        let t = Expr.Tanh(go a)
        Expr.Sin t / Expr.Cos t
    | Tanh a -> Expr.Tanh(go a)
    | Sqrt a -> Expr.Sqrt(square1 (go a))
    | PowC(a, p) -> Expr.Pow(square1 (go a), p)
    | PowT(a, b) -> Expr.Pow(square1 (go a), Expr.Sin(go b))
    | Abs a -> Expr.Abs(go a)
    | Max(a, b) -> Expr.Maximum(go a, go b)
    | Min(a, b) -> Expr.Minimum(go a, go b)
    | Cond(t, a, b) -> Expr.Where(testToExpr args t, go a, go b)

and testToExpr args (t: Test) : Expr =
    match t with
    | Compare(cmp, a, b) ->
        let a, b = toExpr args a, toExpr args b

        match cmp with
        | Lt -> Expr.Less(a, b)
        | Le -> Expr.LessEqual(a, b)
        | Gt -> Expr.Greater(a, b)
        | Ge -> Expr.GreaterEqual(a, b)
        | Eq -> Expr.Equal(a, b)
        | Ne -> 1.0 - Expr.Equal(a, b)
    | And(p, q) -> testToExpr args p * testToExpr args q
    | Or(p, q) -> Expr.Maximum(testToExpr args p, testToExpr args q)
    | Not p -> 1.0 - testToExpr args p

/// Random bodies of at most `depth` levels over `arity` inputs; `smooth` leaves out the kinks (abs, max, min, ?:).
let rec nodeGen smooth arity depth : Gen<Node> =
    let leaf =
        Gen.oneof
            [
                Gen.choose (0, arity - 1) |> Gen.map Arg
                Gen.choose (-3000, 3000) |> Gen.map (fun k -> Num(float k / 1000.0))
                Gen.choose (-2000, 2000) |> Gen.map (fun k -> Captured(float k / 1000.0))
                Gen.choose (-3, 3) |> Gen.map CapturedInt
            ]

    if depth <= 0 then
        Gen.frequency [ 3, Gen.choose (0, arity - 1) |> Gen.map Arg; 1, leaf ]
    else
        let sub = nodeGen smooth arity (depth - 1)
        let one f = Gen.map f sub
        let two f = Gen.map2 (fun a b -> f (a, b)) sub sub

        let smoothKinds =
            [
                2, leaf
                2, two Add
                1, two Sub
                2, two Mul
                1, two Div
                1, one Neg
                1, one Exp
                1, one Log
                1, one Sin
                1, one Cos
                1, one Tan
                1, one Tanh
                1, one Sqrt
                1, Gen.map2 (fun a p -> PowC(a, p)) sub (Gen.elements [ 0.0; 0.5; 1.0; 1.5; 2.0; 3.0; -1.0; -2.5 ])
                1, two PowT
            ]

        let kinks =
            [
                1, one Abs
                1, two Max
                1, two Min
                2, Gen.map3 (fun t a b -> Cond(t, a, b)) (testGen arity (depth - 1)) sub sub
            ]

        Gen.frequency (if smooth then smoothKinds else smoothKinds @ kinks)

and testGen arity depth : Gen<Test> =
    let sub = nodeGen false arity (max 0 (depth - 1))
    let compare = Gen.map3 (fun cmp a b -> Compare(cmp, a, b)) (Gen.elements [ Lt; Le; Gt; Ge; Eq; Ne ]) sub sub
    let single = Gen.frequency [ 4, compare; 1, Gen.map Not compare ]
    Gen.frequency [ 3, single; 1, Gen.map2 (fun p q -> And(p, q)) single single; 1, Gen.map2 (fun p q -> Or(p, q)) single single ]

/// A random lambda: how many inputs, whether they come as a double[], the body and the point.
type Case =
    {
        Arity: int
        AsArray: bool
        Body: Node
        Point: float[]
    }

let private caseGen smooth =
    gen {
        let! arity = Gen.choose (1, 4)
        let! asArray = Gen.elements [ false; false; true ]
        // Now and then a deep body, whose value and gradient take more than one emitted method (ScalarEmitter.ChunkSize).
        let! depth = Gen.frequency [ 6, Gen.choose (1, 5); 1, Gen.choose (7, 9) ]
        let! body = nodeGen smooth arity depth
        // Points on a grid of 1/64, so comparisons of inputs tie now and then (== and the ?: branches at ties).
        let! point = Gen.arrayOfLength arity (Gen.choose (-128, 128) |> Gen.map (fun k -> float k / 64.0))
        return { Arity = arity; AsArray = asArray; Body = body; Point = point }
    }

/// The case compiled through AD.CompileGrad (the overload of its arity, or the double[] one): value and gradient.
let compiled (case: Case) : float * float[] =
    let x = case.Point

    if case.AsArray then
        let a = Expression.Parameter(typeof<float[]>, "a")
        let body = toLinq (fun k -> Expression.ArrayIndex(a, Expression.Constant k) :> Expression) case.Body
        let f = Expression.Lambda<Func<float[], float>>(body, [| a |])
        let struct (v, g) = AD.CompileGrad(f, case.Arity).Invoke(Array.copy x)
        v, g
    else
        let ps = Array.init case.Arity (fun k -> Expression.Parameter(typeof<float>, $"x{k}"))
        let body = toLinq (fun k -> ps[k] :> Expression) case.Body

        match case.Arity with
        | 1 ->
            let struct (v, g) = AD.CompileGrad(Expression.Lambda<Func<float, float>>(body, ps)).Invoke(x[0])
            v, [| g |]
        | 2 ->
            let struct (v, struct (g0, g1)) = AD.CompileGrad(Expression.Lambda<Func<float, float, float>>(body, ps)).Invoke(x[0], x[1])
            v, [| g0; g1 |]
        | 3 ->
            let struct (v, struct (g0, g1, g2)) =
                AD.CompileGrad(Expression.Lambda<Func<float, float, float, float>>(body, ps)).Invoke(x[0], x[1], x[2])

            v, [| g0; g1; g2 |]
        | _ ->
            let struct (v, struct (g0, g1, g2, g3)) =
                AD.CompileGrad(Expression.Lambda<Func<float, float, float, float, float>>(body, ps)).Invoke(x[0], x[1], x[2], x[3])

            v, [| g0; g1; g2; g3 |]

/// The equivalent Expr graph on the library's graph path: traced inputs, the value, and the reverse-mode gradient
/// (AD.ValueAndGrad's numeric path over named parameters).
let graphPath (case: Case) : float * float[] =
    let names = Array.init case.Arity (fun k -> $"x{k}")
    let p = Params.Of([| for k in 0 .. case.Arity - 1 -> struct (names[k], Value.Scalar case.Point[k]) |])
    let struct (v, g) = AD.ValueAndGrad(Func<ParamVars, Expr>(fun vars -> toExpr (names |> Array.map (fun n -> vars[n])) case.Body)).Invoke(p)
    v.ToScalar(), names |> Array.map (fun n -> g[n].ToScalar())

let private show (xs: float[]) =
    xs |> Array.map (sprintf "%.17g") |> String.concat "; "

let ``a random lambda's delegate gives the bits of the equivalent Expr graph's value and gradient`` (case: Case) =
    let v, g = compiled case
    let ev, eg = graphPath case

    if bits v <> bits ev || Array.map bits g <> Array.map bits eg then
        Assert.Fail $"{case}: delegate {v:R}, [{show g}]; graph {ev:R}, [{show eg}]"

let ``a random smooth lambda's gradient agrees with central differences`` (case: Case) =
    let v, g = compiled case
    let value (x: float[]) = fst (compiled { case with Point = x })

    for k in 0 .. case.Arity - 1 do
        let h = 1e-5 * max 1.0 (abs case.Point[k])
        let at d = value (Array.mapi (fun j x -> if j = k then x + d else x) case.Point)
        let fd = (at h - at (-h)) / (2.0 * h)
        let tol = { Absolute = 1e-6 * (1.0 + abs v); Relative = 1e-4 }

        if not (within tol g[k] fd) then
            Assert.Fail $"{case}: ∂/∂x{k} is {g[k]:R}, central difference {fd:R} ({tol})"

let ``the translated graph is the equivalent Expr graph: same value when evaluated`` (case: Case) =
    let ps = Array.init case.Arity (fun k -> Expression.Parameter(typeof<float>, $"x{k}"))
    let body = toLinq (fun k -> ps[k] :> Expression) case.Body

    let graph =
        match case.Arity with
        | 1 -> Expr.FromLambda(Expression.Lambda<Func<float, float>>(body, ps))
        | 2 -> Expr.FromLambda(Expression.Lambda<Func<float, float, float>>(body, ps))
        | 3 -> Expr.FromLambda(Expression.Lambda<Func<float, float, float, float>>(body, ps))
        | _ -> Expr.FromLambda(Expression.Lambda<Func<float, float, float, float, float>>(body, ps))

    Assert.That(graph.Inputs |> Seq.map (fun v -> v.Name), Is.EqualTo(Array.init case.Arity (fun k -> $"x{k}")))
    let read = Collections.Generic.HashSet<Expr>(Graph.PostOrder graph.Output, HashIdentity.Reference)

    let bindings =
        [| for k in 0 .. case.Arity - 1 do
               if read.Contains graph.Inputs[k] then
                   struct (graph.Inputs[k], Value.Scalar case.Point[k]) |]

    let v = AD.Eval(graph.Output, bindings)
    let ev, _ = graphPath case
    Assert.That(bits (v.ToScalar()), Is.EqualTo(bits ev), $"{case}")

// ------------------------------------------------------------------ fixed cases

let private lambda1 (body: ParameterExpression -> Expression) =
    let x = Expression.Parameter(typeof<float>, "x")
    Expression.Lambda<Func<float, float>>(body x, [| x |])

let ``the issue's example: x * exp(y) at (1, 2)`` () =
    let x, y = Expression.Parameter(typeof<float>, "x"), Expression.Parameter(typeof<float>, "y")
    let f = Expression.Lambda<Func<float, float, float>>(Expression.Multiply(x, call "Exp" [ y ]), [| x; y |])
    let struct (v, struct (gx, gy)) = AD.CompileGrad(f).Invoke(1.0, 2.0)
    let e = Math.Exp 2.0
    Assert.That([| v; gx; gy |], Is.EqualTo([| e; e; e |]).Within(1e-15))

let ``?: takes the true branch and the false branch, the gradient flowing through the chosen one`` () =
    // x > 0 ? x * x : -3 * x
    let f =
        lambda1 (fun x ->
            Expression.Condition(Expression.GreaterThan(x, c 0.0), Expression.Multiply(x, x), Expression.Multiply(c -3.0, x)))

    let df = AD.CompileGrad f
    let struct (v1, g1) = df.Invoke 1.5
    let struct (v2, g2) = df.Invoke -2.0
    let struct (v0, g0) = df.Invoke 0.0
    Assert.That([| v1; g1 |], Is.EqualTo([| 2.25; 3.0 |]))
    Assert.That([| v2; g2 |], Is.EqualTo([| 6.0; -3.0 |]))
    Assert.That([| v0; g0 |], Is.EqualTo([| 0.0; -3.0 |]), "at 0 the condition is false")
    // The unchosen branch is never read: log of a negative number there does not leak NaN into the value or gradient.
    let safe = lambda1 (fun x -> Expression.Condition(Expression.GreaterThan(x, c 0.0), call "Log" [ x ], c 0.0))
    let struct (v, g) = AD.CompileGrad(safe).Invoke -1.0
    Assert.That([| v; g |], Is.EqualTo([| 0.0; 0.0 |]))

let ``captured variables are read once, when the lambda is compiled`` () =
    let box = Box 2.0
    let count = IntBox 3
    // x * box.Value + (double)count.N + Math.PI
    let f =
        lambda1 (fun x ->
            Expression.Add(
                Expression.Add(
                    Expression.Multiply(x, Expression.Property(Expression.Constant box, "Value")),
                    Expression.Convert(Expression.Property(Expression.Constant count, "N"), typeof<float>)
                ),
                Expression.Field(null, nonNull (typeof<Math>.GetField("PI")))
            ))

    let df = AD.CompileGrad f
    box.Value <- 100.0
    count.N <- 100
    let struct (v, g) = df.Invoke 1.0
    Assert.That(v, Is.EqualTo(2.0 + 3.0 + Math.PI))
    Assert.That(g, Is.EqualTo 2.0)
    // Compiling again reads the new values.
    let struct (v', g') = AD.CompileGrad(f).Invoke 1.0
    Assert.That([| v'; g' |], Is.EqualTo([| 200.0 + Math.PI; 100.0 |]))

let ``a double[] lambda: the length is the highest index + 1, or the one given; the gradient has that length`` () =
    let a = Expression.Parameter(typeof<float[]>, "a")
    let at (k: int) = Expression.ArrayIndex(a, Expression.Constant k) :> Expression
    let f = Expression.Lambda<Func<float[], float>>(Expression.Multiply(at 0, call "Sin" [ at 2 ]), [| a |])
    let struct (v, g) = AD.CompileGrad(f).Invoke [| 2.0; 7.0; 0.5 |]
    Assert.That(v, Is.EqualTo(2.0 * Math.Sin 0.5).Within(1e-15))
    Assert.That(g, Is.EqualTo([| Math.Sin 0.5; 0.0; 2.0 * Math.Cos 0.5 |]).Within(1e-15))
    let graph = Expr.FromLambda(f)
    Assert.That(graph.Inputs |> Seq.map (fun v -> v.Name), Is.EqualTo([| "a[0]"; "a[1]"; "a[2]" |]))
    let struct (_, g5) = AD.CompileGrad(f, 5).Invoke [| 2.0; 7.0; 0.5; 1.0; 1.0 |]
    Assert.That(g5.Length, Is.EqualTo 5)
    let e = throws<ArgumentException> (fun () -> AD.CompileGrad(f).Invoke [| 1.0; 2.0 |] |> ignore)
    Assert.That(e.Message, Does.Contain "exactly 3 elements")
    throws<ArgumentNullException> (fun () -> AD.CompileGrad(f).Invoke(Unchecked.defaultof<float[]>) |> ignore) |> ignore
    let e = throws<ArgumentOutOfRangeException> (fun () -> AD.CompileGrad(f, 2) |> ignore)
    Assert.That(e.Message, Does.Contain "a[2]")
    // A captured index is read at translation time, like any captured value.
    let index = IntBox 1
    let g = Expression.Lambda<Func<float[], float>>(Expression.ArrayIndex(a, Expression.Property(Expression.Constant index, "N")), [| a |])
    let struct (v, grad) = AD.CompileGrad(g).Invoke [| 4.0; 5.0 |]
    Assert.That((v, grad), Is.EqualTo((5.0, [| 0.0; 1.0 |])))

/// Asserts that translating the lambda is refused, naming the node kind, and returns the exception.
let private refused (kind: ExpressionType) (name: string) (f: LambdaExpression) =
    let e = throws<UnsupportedExpressionException> (fun () -> LambdaTranslation.Translate(f, Nullable()) |> ignore)
    Assert.That(e.NodeType, Is.EqualTo kind, e.Message)
    Assert.That(e.Message, Does.Contain name)
    Assert.That(e.Message, Does.Contain(e.Subexpression))
    Assert.That(e.Lambda, Is.EqualTo(LambdaTranslation.Describe f))
    e

let ``every unsupported node kind is refused, naming the node, where it is in the lambda, and the fix`` () =
    let x = Expression.Parameter(typeof<float>, "x")
    let one (body: Expression) = Expression.Lambda<Func<float, float>>(body, [| x |]) :> LambdaExpression
    // A call to another Math function, and to a method of another type.
    let e = refused ExpressionType.Call "Math.Atan2" (one (Expression.Call(math "Atan2" 2, x, x)))
    Assert.That(e.Subexpression, Is.EqualTo "Atan2(x, x)")
    Assert.That(e.Message, Does.Contain "AD.CompileScalarGrad")
    refused ExpressionType.Call "Double.Parse" (one (Expression.Call(nonNull (typeof<Double>.GetMethod("Parse", [| typeof<string> |])), Expression.Constant "1"))) |> ignore
    // Math.Log with a base, Math.Abs on an int.
    let e = refused ExpressionType.Call "Math.Log(Double, Double)" (one (Expression.Call(math "Log" 2, x, c 2.0)))
    Assert.That(e.Message, Does.Contain "Math.Log(x) / Math.Log(b)")
    refused ExpressionType.Call "Math.Abs(Int32)" (one (Expression.Convert(Expression.Call(nonNull (typeof<Math>.GetMethod("Abs", [| typeof<int> |])), Expression.Constant 3), typeof<float>))) |> ignore
    // The remainder.
    refused ExpressionType.Modulo "remainder" (one (Expression.Modulo(x, c 2.0))) |> ignore
    // Statements: a block, a loop, an assignment.
    let v = Expression.Variable(typeof<float>, "v")
    refused ExpressionType.Block "Block" (one (Expression.Block([| v |], Expression.Assign(v, x), v))) |> ignore
    let brk = Expression.Label(typeof<float>)
    refused ExpressionType.Loop "Loop" (one (Expression.Loop(Expression.Break(brk, x), brk))) |> ignore
    refused ExpressionType.Assign "assignment" (one (Expression.Assign(x, c 1.0))) |> ignore
    // A nested lambda and its invocation.
    let y = Expression.Parameter(typeof<float>, "y")
    let inner = Expression.Lambda<Func<float, float>>(Expression.Multiply(y, y), [| y |])
    refused ExpressionType.Invoke "Invoke" (one (Expression.Invoke(inner, x))) |> ignore
    // A non-constant array index.
    let a = Expression.Parameter(typeof<float[]>, "a")
    let byValue = Expression.ArrayIndex(a, Expression.Convert(Expression.ArrayIndex(a, Expression.Constant 0), typeof<int>))
    let e = refused ExpressionType.Convert "index that depends on the parameters" (Expression.Lambda<Func<float[], float>>(byValue, [| a |]))
    Assert.That(e.Message, Does.Contain "constant or a captured int")
    // The array's length, and the array as a whole.
    refused ExpressionType.ArrayLength "Length" (Expression.Lambda<Func<float[], float>>(Expression.Convert(Expression.ArrayLength a, typeof<float>), [| a |])) |> ignore
    // A conversion of a traced value to int (truncation).
    refused ExpressionType.Convert "conversion to Int32" (one (Expression.Convert(Expression.Convert(x, typeof<int>), typeof<float>))) |> ignore
    // Another parameter type, and too many parameters.
    let i = Expression.Parameter(typeof<int>, "i")
    refused ExpressionType.Lambda "Int32" (Expression.Lambda<Func<int, float>>(Expression.Convert(i, typeof<float>), [| i |])) |> ignore
    let ps = Array.init 5 (fun k -> Expression.Parameter(typeof<float>, $"p{k}"))
    refused ExpressionType.Lambda "one to four doubles" (Expression.Lambda<Func<float, float, float, float, float, float>>(ps[0], ps)) |> ignore
    // A captured value that is not a number.
    refused ExpressionType.Convert "String" (one (Expression.Add(x, Expression.Convert(Expression.Constant(box "s", typeof<obj>), typeof<float>)))) |> ignore
    // Reading a member of something that is not captured: a DateTime's property of a new DateTime.
    refused ExpressionType.New "New" (one (Expression.Convert(Expression.Property(Expression.New(typeof<DateTime>), "Ticks"), typeof<float>))) |> ignore
    // The sub-expression is shown, also for a node deep inside the lambda.
    let e = refused ExpressionType.Call "Math.Atan" (one (Expression.Add(x, Expression.Multiply(c 2.0, Expression.Call(math "Atan" 1, x)))))
    Assert.That(e.Subexpression, Is.EqualTo "Atan(x)")
    Assert.That(e.Lambda, Is.EqualTo "x => (x + (2 * Atan(x)))")

let ``a lambda nesting 100 000 additions translates, and a 10 000-op chain compiles to the graph path's bits`` () =
    let x = Expression.Parameter(typeof<float>, "x")
    let mutable e = x :> Expression

    for _ in 1..100_000 do
        e <- Expression.Add(e, x)

    let graph = Expr.FromLambda(Expression.Lambda<Func<float, float>>(e, [| x |]))
    Assert.That(graph.Output.Inputs.Length, Is.EqualTo 2)
    // An error deep inside it is reported without printing the whole lambda.
    let bad = Expression.Lambda<Func<float, float>>(Expression.Add(e, Expression.Call(math "Atan" 1, x)), [| x |])
    let err = throws<UnsupportedExpressionException> (fun () -> Expr.FromLambda(bad) |> ignore)
    Assert.That(err.Lambda, Does.Contain "nested more than")
    // The W1 chain, ten times longer.
    let mutable chain = x :> Expression
    let mutable graphChain = Expr.Var("x", Value.Scalar 0.3) :> Expr
    let start = graphChain

    for i in 0..9_999 do
        match i % 5 with
        | 0 -> chain <- Expression.Add(chain, c 0.5); graphChain <- graphChain + 0.5
        | 1 -> chain <- Expression.Multiply(chain, c 0.8); graphChain <- graphChain * 0.8
        | 2 -> chain <- call "Tanh" [ chain ]; graphChain <- Expr.Tanh graphChain
        | 3 -> chain <- call "Exp" [ chain ]; graphChain <- Expr.Exp graphChain
        | _ -> chain <- call "Sin" [ chain ]; graphChain <- Expr.Sin graphChain

    let struct (v, g) = AD.CompileGrad(Expression.Lambda<Func<float, float>>(chain, [| x |])).Invoke 0.3
    let eg = AD.Gradients(graphChain, start)[0]
    Assert.That((bits v, bits g), Is.EqualTo((bits (graphChain.Value.ToScalar()), bits (eg.Value.ToScalar()))))

let ``a delegate is thread-safe: 8 threads calling one long (split) delegate get the bits of one thread`` () =
    let x = Expression.Parameter(typeof<float>, "x")
    let mutable e = x :> Expression

    for i in 0..1_999 do
        e <-
            match i % 4 with
            | 0 -> Expression.Add(e, Expression.Multiply(x, c 0.001)) :> Expression
            | 1 -> call "Tanh" [ e ]
            | 2 -> call "Sin" [ Expression.Multiply(e, c 1.5) ]
            | _ -> call "Exp" [ Expression.Multiply(e, c 0.5) ]

    let df = AD.CompileGrad(Expression.Lambda<Func<float, float>>(e, [| x |]))
    let points = Array.init 400 (fun k -> -2.0 + float k / 100.0)
    let one = points |> Array.map (fun p -> let struct (v, g) = df.Invoke p in bits v, bits g)
    let many = Array.zeroCreate points.Length
    Threading.Tasks.Parallel.For(0, points.Length, Threading.Tasks.ParallelOptions(MaxDegreeOfParallelism = 8), fun k ->
        let struct (v, g) = df.Invoke points[k]
        many[k] <- (bits v, bits g)) |> ignore
    Assert.That(many, Is.EqualTo one)

let ``an op whose scalar function only forwards to a kernel is compiled as a call to that kernel, others through the op`` () =
    let applyOf (op: Op) =
        nonNull (op.GetType().GetMethod("Apply", Reflection.BindingFlags.Instance ||| Reflection.BindingFlags.NonPublic, null, [| typeof<float> |], null))

    for op, kernel in
        [
            ExpOp.Instance :> Op, "Exp"
            LogOp.Instance, "Log"
            SinOp.Instance, "Sin"
            CosOp.Instance, "Cos"
            TanhOp.Instance, "Tanh"
            SigmoidOp.Instance, "Sigmoid"
            SqrtOp.Instance, "Sqrt"
            AbsOp.Instance, "Abs"
        ] do
        match ScalarEmitter.ForwardedKernel(applyOf op) with
        | null -> Assert.Fail $"{op.Name}: no forwarded kernel found"
        | m -> Assert.That(m.Name, Is.EqualTo kernel, op.Name)

    for op in [ PowOp.For 3.0 :> Op; SignOp.Instance; ClampOp(-1.0, 1.0) ] do
        Assert.That(ScalarEmitter.ForwardedKernel(applyOf op), Is.Null, op.Name)

let ``the emitter compiles scalar graphs built with Expr, with the graph path's bits`` () =
    let f (x: Expr) (y: Expr) = Expr.Sigmoid(x * y) + Expr.Softplus(x - y) * Expr.Erf y + Expr.Clamp(x, -0.5, 0.5)
    let df = AD.CompileScalarGrad(Func<Expr, Expr, Expr> f)
    let reference = AD.ValueAndGrad(Func<Expr, Expr, Expr> f)

    for x, y in [ 0.3, -1.2; -0.7, 0.4; 2.0, 2.0; 0.5, 0.1 ] do
        let struct (v, struct (gx, gy)) = df.Invoke(x, y)
        let struct (ev, struct (egx, egy)) = reference.Invoke(Value.Scalar x, Value.Scalar y)
        Assert.That(Array.map bits [| v; gx; gy |], Is.EqualTo(Array.map bits [| ev.ToScalar(); egx.ToScalar(); egy.ToScalar() |]), $"at {x}, {y}")

    // Over given variables; a variable with a value that is not an input is a constant.
    let a, b = Expr.Var("a", Shape.Scalar), Expr.Var("b", Shape.Scalar)
    let k = Expr.Var("k", Value.Scalar 3.0)
    let g = AD.CompileScalarGrad(a * b * k + Expr.Sum(Expr.Const(Value.FromArray [| 1.0; 2.0 |])), a, b)
    let struct (v, grad) = g.Invoke [| 2.0; 5.0 |]
    Assert.That((v, grad), Is.EqualTo((33.0, [| 15.0; 6.0 |])))
    // A node depending on an input that is not a scalar.
    let e = throws<ShapeMismatchException> (fun () -> AD.CompileScalarGrad(Expr.Sum(Expr.BroadcastTo(a, Shape.Vector 3)), a) |> ignore)
    Assert.That(e.Message, Does.Contain "all scalars")
    Assert.That(e.Message, Does.Contain "vector(3)")
    // A variable without a value that is not an input.
    let e = throws<ArgumentException> (fun () -> AD.CompileScalarGrad(a * Expr.Var("free", Shape.Scalar), a) |> ignore)
    Assert.That(e.Message, Does.Contain "'free'")
    // A function that reads a value while traced.
    let e =
        throws<InvalidOperationException> (fun () ->
            AD.CompileScalarGrad(Func<Expr, Expr>(fun x -> if x.Value.ToScalar() > 0.0 then x else -x)) |> ignore)

    Assert.That(e.Message, Does.Contain "Expr.Where")

open Expecto
open Functional.Autodiff.Tests.Properties

[<Tests>]
let tests =
    testList "ExpressionTrees" [
        testPropertyWithConfig { replay Seed with maxTest = 300 } "a random lambda's delegate gives the bits of the equivalent Expr graph's value and gradient" (Prop.forAll (Arb.fromGen (caseGen false)) ``a random lambda's delegate gives the bits of the equivalent Expr graph's value and gradient``)
        testPropertyWithConfig (replay Seed) "a random smooth lambda's gradient agrees with central differences" (Prop.forAll (Arb.fromGen (caseGen true)) ``a random smooth lambda's gradient agrees with central differences``)
        testPropertyWithConfig (replay Seed) "the translated graph is the equivalent Expr graph: same value when evaluated" (Prop.forAll (Arb.fromGen (caseGen false)) ``the translated graph is the equivalent Expr graph: same value when evaluated``)
        testCase "the issue's example: x * exp(y) at (1, 2)" ``the issue's example: x * exp(y) at (1, 2)``
        testCase "?: takes the true branch and the false branch, the gradient flowing through the chosen one" ``?: takes the true branch and the false branch, the gradient flowing through the chosen one``
        testCase "captured variables are read once, when the lambda is compiled" ``captured variables are read once, when the lambda is compiled``
        testCase "a double[] lambda: the length is the highest index + 1, or the one given; the gradient has that length" ``a double[] lambda: the length is the highest index + 1, or the one given; the gradient has that length``
        testCase "every unsupported node kind is refused, naming the node, where it is in the lambda, and the fix" ``every unsupported node kind is refused, naming the node, where it is in the lambda, and the fix``
        testCase "a lambda nesting 100 000 additions translates, and a 10 000-op chain compiles to the graph path's bits" ``a lambda nesting 100 000 additions translates, and a 10 000-op chain compiles to the graph path's bits``
        testCase "a delegate is thread-safe: 8 threads calling one long (split) delegate get the bits of one thread" ``a delegate is thread-safe: 8 threads calling one long (split) delegate get the bits of one thread``
        testCase "an op whose scalar function only forwards to a kernel is compiled as a call to that kernel, others through the op" ``an op whose scalar function only forwards to a kernel is compiled as a call to that kernel, others through the op``
        testCase "the emitter compiles scalar graphs built with Expr, with the graph path's bits" ``the emitter compiles scalar graphs built with Expr, with the graph path's bits``
    ]
