// The public surface and its documentation are in Printers.fsi.
namespace Functional.Autodiff.FSharp

open Functional.Autodiff

module Printers =

    let expr (e: Expr) : string =
        $"Expr ({Graph.PostOrder(e).Count} nodes) {Export.Text.Render e}"

    let value (v: Value) : string = $"Value {v.Shape} {v}"

    let parameters (p: Params) : string = $"Params {p}"
