namespace Functional.Autodiff.FSharp

open System.ComponentModel
open Functional.Autodiff
open MathNet.Numerics.LinearAlgebra

/// <summary>Never created: a second unsealed input type keeps F# from choosing a leaf overload of <see cref="T:Functional.Autodiff.FSharp.Tracing"/> too early.</summary>
[<Sealed; EditorBrowsable(EditorBrowsableState.Never)>]
type TraceBlocker private () =
    class
    end

/// <summary>The lowest-priority form of <see cref="T:Functional.Autodiff.FSharp.Tracing"/>: any other type (records, user types), resolved by the core at run time.</summary>
[<AbstractClass; EditorBrowsable(EditorBrowsableState.Never)>]
type TracingFallback =
    class
    end

/// <summary>
/// A compile-time function from an input's type to the type the differentiated function receives (an
/// implementation detail of <c>grad</c> and the other combinators, never called at run time): every leaf
/// (<c>float</c>, <c>Value</c>, MathNet <c>Vector&lt;float&gt;</c> or <c>Matrix&lt;float&gt;</c>) becomes an <c>Expr</c>,
/// <c>Params</c> becomes <c>ParamVars</c>, and tuples (up to 7), lists, arrays and <c>Map&lt;string, _&gt;</c> keep their form,
/// so <c>grad (fun (a, b) -> a * sin b) (2.0, 0.0)</c> needs no annotation. Any other type (an F# record such as
/// <c>Layer&lt;Value&gt;</c>, traced as <c>Layer&lt;Expr&gt;</c>) is taken as the function's annotation or use says,
/// and checked by the core's structure mechanism when the combinator is built.
/// </summary>
[<AbstractClass; Sealed; EditorBrowsable(EditorBrowsableState.Never)>]
type Tracing =
    inherit TracingFallback

    /// <summary>The traced form of x's type (type-level only).</summary>
    static member inline Invoke(x: 'X) : 'E =
        let inline call (w: ^w, y: ^y) =
            ((^w or ^y): (static member T: ^y * ^w -> _) (y, w))

        call (Unchecked.defaultof<Tracing>, x)

// The overloads come after Invoke, in an extension in this file, so that Invoke stays generic (F# would otherwise
// commit to one overload while generalising it). Their bodies never run: only their types are used.
type Tracing with
    /// <summary>Type-level only.</summary>
    static member T(_: TraceBlocker, _: Tracing) = Unchecked.defaultof<TraceBlocker>
    /// <summary>Type-level only.</summary>
    static member T(_: 'x, _: TracingFallback) : 'e = Unchecked.defaultof<'e>
    /// <summary>Type-level only.</summary>
    static member T(_: float, _: Tracing) = Unchecked.defaultof<Expr>
    /// <summary>Type-level only.</summary>
    static member T(_: Value, _: Tracing) = Unchecked.defaultof<Expr>
    /// <summary>Type-level only.</summary>
    static member T(_: Vector<float>, _: Tracing) = Unchecked.defaultof<Expr>
    /// <summary>Type-level only.</summary>
    static member T(_: Matrix<float>, _: Tracing) = Unchecked.defaultof<Expr>
    /// <summary>Type-level only.</summary>
    static member T(_: Params, _: Tracing) = Unchecked.defaultof<ParamVars>
    /// <summary>Type-level only.</summary>
    static member inline T((a, b), _: Tracing) = Tracing.Invoke a, Tracing.Invoke b
    /// <summary>Type-level only.</summary>
    static member inline T((a, b, c), _: Tracing) =
        Tracing.Invoke a, Tracing.Invoke b, Tracing.Invoke c
    /// <summary>Type-level only.</summary>
    static member inline T((a, b, c, d), _: Tracing) =
        Tracing.Invoke a, Tracing.Invoke b, Tracing.Invoke c, Tracing.Invoke d
    /// <summary>Type-level only.</summary>
    static member inline T((a, b, c, d, e), _: Tracing) =
        Tracing.Invoke a, Tracing.Invoke b, Tracing.Invoke c, Tracing.Invoke d, Tracing.Invoke e
    /// <summary>Type-level only.</summary>
    static member inline T((a, b, c, d, e, f), _: Tracing) =
        Tracing.Invoke a, Tracing.Invoke b, Tracing.Invoke c, Tracing.Invoke d, Tracing.Invoke e, Tracing.Invoke f
    /// <summary>Type-level only.</summary>
    static member inline T((a, b, c, d, e, f, g), _: Tracing) =
        Tracing.Invoke a,
        Tracing.Invoke b,
        Tracing.Invoke c,
        Tracing.Invoke d,
        Tracing.Invoke e,
        Tracing.Invoke f,
        Tracing.Invoke g
    /// <summary>Type-level only.</summary>
    static member inline T(xs: 'a list, _: Tracing) = List.map Tracing.Invoke xs
    /// <summary>Type-level only.</summary>
    static member inline T(xs: 'a[], _: Tracing) = Array.map Tracing.Invoke xs
    /// <summary>Type-level only.</summary>
    static member inline T(m: Map<string, 'a>, _: Tracing) = Map.map (fun _ v -> Tracing.Invoke v) m
