namespace Functional.Autodiff.FSharp

open System
open System.ComponentModel
open Functional.Autodiff
open MathNet.Numerics.LinearAlgebra

/// Conversions at the boundary between F# values and the core's Value and Func types (one place for them).
module internal Convert =
    let scalar (x: float) = Value.Scalar x
    let toScalar (v: Value) = v.ToScalar()

    let valueAndGrad1 (f: Expr -> Expr) (x: Value) : float * Value =
        let struct (y, g) = AD.ValueAndGrad(Func<Expr, Expr>(f)).Invoke(x)
        y.ToScalar(), g

    let valueAndGrad2 (f: Expr * Expr -> Expr) (a: Value) (b: Value) : float * Value * Value =
        let struct (y, struct (ga, gb)) =
            AD.ValueAndGrad(Func<Expr, Expr, Expr>(fun a b -> f (a, b))).Invoke(a, b)

        y.ToScalar(), ga, gb

    let valueAndGrad3 (f: Expr * Expr * Expr -> Expr) (a: Value) (b: Value) (c: Value) : float * Value * Value * Value =
        let struct (y, struct (ga, gb, gc)) =
            AD.ValueAndGrad(Func<Expr, Expr, Expr, Expr>(fun a b c -> f (a, b, c))).Invoke(a, b, c)

        y.ToScalar(), ga, gb, gc

    let valueAndGradParams (f: ParamVars -> Expr) (p: Params) : float * Params =
        let struct (y, g) = AD.ValueAndGrad(Func<ParamVars, Expr>(f)).Invoke(p)
        y.ToScalar(), g

    let vjp1 (f: Expr -> Expr) (x: Value) : Value * (Value -> Value) =
        let struct (y, pullback) = AD.Vjp(Func<Expr, Expr>(f)).Invoke(x)
        y, pullback.Invoke

    let vjpParams (f: ParamVars -> Expr) (p: Params) : Value * (Value -> Params) =
        let struct (y, pullback) = AD.Vjp(Func<ParamVars, Expr>(f)).Invoke(p)
        y, pullback.Invoke

/// <summary>
/// The input forms the F# combinators accept, resolved at compile time by the type of the input (an implementation
/// detail of <c>grad</c>, <c>valueAndGrad</c>, <c>vjp</c> and the other combinators; not meant to be called directly).
/// A single input is a <c>float</c>, a <see cref="T:Functional.Autodiff.Value"/>, a MathNet <c>Vector&lt;float&gt;</c> or
/// <c>Matrix&lt;float&gt;</c>, or a <see cref="T:Functional.Autodiff.Params"/>; <c>grad</c> and <c>valueAndGrad</c> also take
/// tuples of two or three <c>float</c> or <c>Value</c> inputs. A gradient comes back in the input's own form.
/// </summary>
[<Sealed; AbstractClass; EditorBrowsable(EditorBrowsableState.Never)>]
type Inputs =
    /// <summary>A single input as a Value, and how to read a Value of its shape back in its form.</summary>
    static member Leaf(x: float, _: Inputs) = Convert.scalar x, Convert.toScalar
    /// <summary>A single input as a Value, and how to read a Value of its shape back in its form.</summary>
    static member Leaf(x: Value, _: Inputs) = x, (id: Value -> Value)

    /// <summary>A single input as a Value, and how to read a Value of its shape back in its form.</summary>
    static member Leaf(x: Vector<float>, _: Inputs) =
        Value.FromVector x, (fun (v: Value) -> v.ToVector())

    /// <summary>A single input as a Value, and how to read a Value of its shape back in its form.</summary>
    static member Leaf(x: Matrix<float>, _: Inputs) =
        Value.FromMatrix x, (fun (v: Value) -> v.ToMatrix())


    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad(x: float, f: Expr -> Expr, _: Inputs) =
        let y, g = Convert.valueAndGrad1 f (Convert.scalar x) in y, Convert.toScalar g

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad(x: Value, f: Expr -> Expr, _: Inputs) =
        let y, g = Convert.valueAndGrad1 f (x) in y, g

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad(x: Vector<float>, f: Expr -> Expr, _: Inputs) =
        let y, g = Convert.valueAndGrad1 f (Value.FromVector x) in y, g.ToVector()

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad(x: Matrix<float>, f: Expr -> Expr, _: Inputs) =
        let y, g = Convert.valueAndGrad1 f (Value.FromMatrix x) in y, g.ToMatrix()

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad(x: Params, f: ParamVars -> Expr, _: Inputs) = Convert.valueAndGradParams f x

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: float, b: float), f: Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb = Convert.valueAndGrad2 f (Convert.scalar a) (Convert.scalar b) in
        y, (Convert.toScalar ga, Convert.toScalar gb)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: float, b: Value), f: Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb = Convert.valueAndGrad2 f (Convert.scalar a) (b) in y, (Convert.toScalar ga, gb)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: Value, b: float), f: Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb = Convert.valueAndGrad2 f (a) (Convert.scalar b) in y, (ga, Convert.toScalar gb)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: Value, b: Value), f: Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb = Convert.valueAndGrad2 f (a) (b) in y, (ga, gb)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: float, b: float, c: float), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc =
            Convert.valueAndGrad3 f (Convert.scalar a) (Convert.scalar b) (Convert.scalar c) in

        y, (Convert.toScalar ga, Convert.toScalar gb, Convert.toScalar gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: float, b: float, c: Value), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc =
            Convert.valueAndGrad3 f (Convert.scalar a) (Convert.scalar b) (c) in

        y, (Convert.toScalar ga, Convert.toScalar gb, gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: float, b: Value, c: float), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc =
            Convert.valueAndGrad3 f (Convert.scalar a) (b) (Convert.scalar c) in

        y, (Convert.toScalar ga, gb, Convert.toScalar gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: float, b: Value, c: Value), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc = Convert.valueAndGrad3 f (Convert.scalar a) (b) (c) in y, (Convert.toScalar ga, gb, gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: Value, b: float, c: float), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc =
            Convert.valueAndGrad3 f (a) (Convert.scalar b) (Convert.scalar c) in

        y, (ga, Convert.toScalar gb, Convert.toScalar gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: Value, b: float, c: Value), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc = Convert.valueAndGrad3 f (a) (Convert.scalar b) (c) in y, (ga, Convert.toScalar gb, gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: Value, b: Value, c: float), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc = Convert.valueAndGrad3 f (a) (b) (Convert.scalar c) in y, (ga, gb, Convert.toScalar gc)

    /// <summary>f(x) and its gradient, for this input form.</summary>
    static member ValueAndGrad((a: Value, b: Value, c: Value), f: Expr * Expr * Expr -> Expr, _: Inputs) =
        let y, ga, gb, gc = Convert.valueAndGrad3 f (a) (b) (c) in y, (ga, gb, gc)

    /// <summary>f(x) and its pullback, for this input form.</summary>
    static member Vjp(x: float, f: Expr -> Expr, _: Inputs) =
        let y, pullback = Convert.vjp1 f (Convert.scalar x) in y, (fun (ct: Value) -> Convert.toScalar (pullback ct))

    /// <summary>f(x) and its pullback, for this input form.</summary>
    static member Vjp(x: Value, f: Expr -> Expr, _: Inputs) =
        let y, pullback = Convert.vjp1 f (x) in y, (fun (ct: Value) -> pullback ct)

    /// <summary>f(x) and its pullback, for this input form.</summary>
    static member Vjp(x: Vector<float>, f: Expr -> Expr, _: Inputs) =
        let y, pullback = Convert.vjp1 f (Value.FromVector x) in y, (fun (ct: Value) -> (pullback ct).ToVector())

    /// <summary>f(x) and its pullback, for this input form.</summary>
    static member Vjp(x: Matrix<float>, f: Expr -> Expr, _: Inputs) =
        let y, pullback = Convert.vjp1 f (Value.FromMatrix x) in y, (fun (ct: Value) -> (pullback ct).ToMatrix())

    /// <summary>f(x) and its pullback, for this input form.</summary>
    static member Vjp(x: Params, f: ParamVars -> Expr, _: Inputs) = Convert.vjpParams f x

    /// <summary>The anomaly check of f and its gradient at x, for this input form.</summary>
    static member CheckAnomalies(x: float, f: Expr -> Expr, _: Inputs) =
        Anomaly.Check(Func<Expr, Expr>(f), Convert.scalar x)

    /// <summary>The anomaly check of f and its gradient at x, for this input form.</summary>
    static member CheckAnomalies(x: Value, f: Expr -> Expr, _: Inputs) = Anomaly.Check(Func<Expr, Expr>(f), x)

    /// <summary>The anomaly check of f and its gradient at x, for this input form.</summary>
    static member CheckAnomalies(x: Vector<float>, f: Expr -> Expr, _: Inputs) =
        Anomaly.Check(Func<Expr, Expr>(f), Value.FromVector x)

    /// <summary>The anomaly check of f and its gradient at x, for this input form.</summary>
    static member CheckAnomalies(x: Matrix<float>, f: Expr -> Expr, _: Inputs) =
        Anomaly.Check(Func<Expr, Expr>(f), Value.FromMatrix x)

    /// <summary>The anomaly check of f and its gradient at x, for this input form.</summary>
    static member CheckAnomalies(x: Params, f: ParamVars -> Expr, _: Inputs) = Anomaly.Check(Func<ParamVars, Expr>(f), x)
