namespace Functional.Autodiff.FSharp

open Functional.Autodiff

/// <summary>
/// Readable, bounded renderings for F# Interactive. FSI would otherwise dump an <c>Expr</c>'s properties,
/// inputs within inputs; register these in a script (the docs' load script does):
/// <code>
/// fsi.AddPrinter Printers.expr
/// fsi.AddPrinter Printers.value
/// fsi.AddPrinter Printers.parameters
/// </code>
/// Without them (a compiled program, or a script that does not register them), <c>%A</c>, <c>%O</c> and
/// <c>string</c> print the same text without the kind in front: <c>{w: [9, 9, 9], b: 1.5}</c> for a <c>Params</c>,
/// <c>[9, 9, 9]</c> for a <c>Value</c>, <c>3 * ((w + 2) ^ 2) : vector(2) = [27, 48]</c> for an <c>Expr</c>.
/// </summary>
module Printers =

    /// <summary>
    /// A graph as one bounded line: its node count, then the expression (cut with "…" past
    /// <see cref="F:Functional.Autodiff.Export.Text.DefaultNodeLimit"/> ops), shape and value, e.g.
    /// <c>Expr (6 nodes) 3 * ((x + 2) ^ 2) : vector(2) = [27, 48]</c>. Iterative: a million-node chain prints.
    /// </summary>
    val expr: e: Expr -> string

    /// <summary>A value with its shape, e.g. <c>Value vector(3) [9, 9, 9]</c>; large values are cut with "…".</summary>
    val value: v: Value -> string

    /// <summary>Named parameters, e.g. <c>Params {w: [9, 9, 9], b: 1.5}</c>.</summary>
    val parameters: p: Params -> string
