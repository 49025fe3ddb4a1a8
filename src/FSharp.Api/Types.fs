namespace Functional.Autodiff.FSharp

/// <summary>A graph node (the core's <see cref="T:Functional.Autodiff.Expr"/>), so <c>open Functional.Autodiff.FSharp</c> is all a script needs.</summary>
type Expr = Functional.Autodiff.Expr

/// <summary>A scalar, vector or matrix value (the core's <see cref="T:Functional.Autodiff.Value"/>).</summary>
type Value = Functional.Autodiff.Value

/// <summary>Named values (the core's <see cref="T:Functional.Autodiff.Params"/>).</summary>
type Params = Functional.Autodiff.Params

/// <summary>The traced variables of a function of <see cref="T:Functional.Autodiff.Params"/>; read them with <c>p?name</c>.</summary>
type ParamVars = Functional.Autodiff.ParamVars

/// <summary>The shape of a value: scalar, vector(n) or matrix(m, n) (the core's <see cref="T:Functional.Autodiff.Shape"/>).</summary>
type Shape = Functional.Autodiff.Shape

/// <summary>Which inputs the <c>…Wrt</c> combinators differentiate by (the core's <see cref="T:Functional.Autodiff.Wrt"/>); build one with <c>argnums</c> or <c>names</c>.</summary>
type Wrt = Functional.Autodiff.Wrt

/// <summary>A Jacobian or Hessian in blocks per pair of leaves (the core's <see cref="T:Functional.Autodiff.Blocks"/>).</summary>
type Blocks = Functional.Autodiff.Blocks
