(**
---
title: Shapes, selection and linear algebra
category: Guides
categoryindex: 2
index: 3
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/shapes-selection-linear-algebra.fsx   runs the page: each number is printed beside its closed
//                                       form, MathNet's or its finite difference, and one that differs stops the
//                                       script (exit code 1)
//   docs/build.sh                       renders every page with `fsdocs build --eval`
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/guides.fsx"

open MathNet.Numerics.LinearAlgebra
open Functional.Autodiff

/// Numbers at six decimals, for printing.
let show (xs: float[]) = "[" + (xs |> Array.map (sprintf "%.6f") |> String.concat ", ") + "]"

/// A small number as 1.2e-15.
let tiny (x: float) = x.ToString("0.0e0", System.Globalization.CultureInfo.InvariantCulture)

/// The largest difference between two lists of numbers.
let maxDiff (a: float[]) (b: float[]) = Array.map2 (fun x y -> abs (x - y)) a b |> Array.max

(**
# Shapes, selection and linear algebra

Values are a scalar, a vector(n) or a matrix(m, n) on MathNet, and batches are matrix rows. On top of the arithmetic
and the losses, the library has the ops that numerical code needs: linear algebra on MathNet's LU and Cholesky
(`inverse`, `solve`, `det`, `logdet`, `cholesky`, `trace`, `diag`, `diagonal`, `matrixPower`), selection (`where`,
`maximum`, `minimum`, `clamp` and the comparisons that make masks), reductions along an axis, and shapes (`reshape`,
`flatten`, `concat`, `stack`, `slice`, `gather`, `row`, `column`). Each has its VJP and JVP, so everything on this
page differentiates at any order. The README's op table lists them by family and the
[API reference](reference/index.html) documents each; this page puts them to work on two problems, least squares and
a Gaussian likelihood, and then goes through shapes and selection briefly. Every number shown is checked on the page
against a closed form, MathNet or central differences.

## Least squares through `solve`

Twenty points on a parabola, with a little fixed noise: the design matrix X has rows (1, tᵢ, tᵢ²) for tᵢ evenly
spaced on [−1, 1], and y = X·β* + εᵢ with β* = (0.5, −1, 2) and εᵢ = 0.05·sin(3.7i + 1). The normal equations give
the fit, β̂ = (XᵀX)⁻¹Xᵀy, which `solve` computes without forming the inverse:
*)
open Functional.Autodiff.FSharp

let n = 20
let t i = -1.0 + 2.0 * float i / float (n - 1)
let xData = Matrix<float>.Build.Dense(n, 3, fun i j -> t i ** float j)
let betaTrue = vector [ 0.5; -1.0; 2.0 ]
let noise = Vector<float>.Build.Dense(n, fun i -> 0.05 * sin (3.7 * float i + 1.0))
let yData = xData * betaTrue.ToVector() + noise

let X = constant (Value.FromMatrix xData)
let fit (y: Expr) = solve (transpose X *@ X) (transpose X *@ y)

let betaHat = eval (fit (constant (Value.FromVector yData)))
(*** include-value: betaHat ***)

(**
MathNet's least squares by QR (`X.QR().Solve(y)`), which never forms XᵀX, gives the same coefficients to rounding:
*)
let betaQR = xData.QR().Solve(yData)
printfn "β̂ by solve: %O" betaHat
printfn "β̂ by QR:    %O" (Value.FromVector betaQR)
printfn "largest difference: %s" (tiny (maxDiff (betaHat.ToArray()) (betaQR.ToArray())))
(*** include-output ***)
(*** hide ***)
near "β̂ against QR" (betaQR.ToArray()) betaHat
holds "solve and QR agree to 1e-12" (maxDiff (betaHat.ToArray()) (betaQR.ToArray()) < 1e-12)

(**
Since the fit is a graph of y, so is everything computed from it. The residual sum of squares
r(y) = ‖X β̂(y) − y‖² differentiates through `solve`; its gradient has a closed form, −2e for the residual
e = X β̂ − y (the hat matrix X(XᵀX)⁻¹Xᵀ is symmetric and idempotent), which the gradient matches, as it does the
central differences:
*)
let residualNorm (y: Expr) =
    let e = X *@ fit y - y
    dot e e

let rss, dRss = valueAndGrad residualNorm (Value.FromVector yData)
let residual = xData * betaQR - yData
printfn "r = %.6f, ‖e‖² from QR = %.6f" rss (residual.DotProduct residual)
printfn "∂r/∂y, first five: %s" (show (dRss.ToArray()[0..4]))
printfn "−2e,   first five: %s" (show ((-2.0 * residual).ToArray()[0..4]))
(*** include-output ***)
(*** hide ***)
near "r against QR's residual" [| residual.DotProduct residual |] rss
near "∂r/∂y against −2e" ((-2.0 * residual).ToArray()) dRss
near "∂r/∂y against central differences"
    (numericGrad (fun (y: Value) -> (eval (residualNorm (constant y))).ToScalar()) (Value.FromVector yData))
    dRss

(**
Ridge regression adds λI to XᵀX, and the fit is then a function of λ too. The residual grows with λ as the
coefficients shrink; its derivative by λ, checked against the closed form −2 eᵀX(XᵀX + λI)⁻¹β̂(λ) and central
differences:
*)
let ridgeResidual (lambda: Expr) =
    let beta = solve (transpose X *@ X + lambda * Expr.Eye 3) (transpose X *@ constant (Value.FromVector yData))
    let e = X *@ beta - constant (Value.FromVector yData)
    dot e e

let lambda0 = 0.5
let ridgeValue, dRidge = valueAndGrad ridgeResidual lambda0
printfn "r(λ = %g) = %.6f, ∂r/∂λ = %.6f" lambda0 ridgeValue dRidge
(*** include-output ***)
(*** hide ***)
let ridgeClosedForm =
    let a = xData.TransposeThisAndMultiply xData + lambda0 * Matrix<float>.Build.DenseIdentity 3
    let beta = a.Solve(xData.TransposeThisAndMultiply yData)
    let e = xData * beta - yData
    -2.0 * e.DotProduct(xData * a.Solve beta)
near "∂r/∂λ against the closed form" [| ridgeClosedForm |] dRidge
near "∂r/∂λ against central differences"
    (numericGrad (fun (l: float) -> (eval (ridgeResidual (constant (scalar l)))).ToScalar()) lambda0)
    dRidge
holds "the residual grows with λ" (dRidge > 0.0 && ridgeValue > rss)

(**
## A Gaussian log-likelihood and its covariance

The log-density of a point x under N(μ, Σ) in d dimensions is

  log N(x; μ, Σ) = −½ (d log 2π + log det Σ + (x − μ)ᵀ Σ⁻¹ (x − μ)),

which is `logdet` and `solve`. Over six points in three dimensions (the rows of `points`), the differences from μ
are one broadcast subtraction (μ, a vector(3), goes onto every row), and with them as the columns of Dᵀ the quadratic
forms of all points are one `solve` with six right-hand sides: Σᵢ dᵢᵀΣ⁻¹dᵢ is the sum of Dᵀ ∘ Σ⁻¹Dᵀ.
*)
let points =
    matrix
        [
            [ 0.9; -0.4; 0.6 ]
            [ -0.7; 0.3; 0.2 ]
            [ 1.6; 0.5; 1.1 ]
            [ 0.2; -1.3; -0.4 ]
            [ -1.1; -0.6; 0.5 ]
            [ 0.4; 0.9; -0.2 ]
        ]

let mu = vector [ 0.1; -0.2; 0.3 ]
let sigma = matrix [ [ 2.0; 0.5; 0.3 ]; [ 0.5; 1.5; 0.2 ]; [ 0.3; 0.2; 1.0 ] ]

let dT = transpose (constant points - constant mu)

let logLik (s: Expr) =
    let count, dim = float points.Shape.Rows, float points.Shape.Cols
    -0.5 * (count * (dim * log (2.0 * System.Math.PI) + logdet s) + sum (dT * solve s dT))

let ll, dSigma = valueAndGrad logLik sigma
printfn "log-likelihood %.6f" ll
printfn "∂/∂Σ %O" dSigma
(*** include-output ***)

(**
The gradient by Σ, every entry taken as free, has the closed form Σᵢ ½(Σ⁻¹ dᵢ dᵢᵀ Σ⁻¹ − Σ⁻¹) for dᵢ = xᵢ − μ
(the derivative of log det Σ is Σ⁻ᵀ, that of dᵀΣ⁻¹d is −Σ⁻ᵀddᵀΣ⁻ᵀ). The library's gradient agrees with it, computed
with MathNet's inverse, and with central differences on all nine entries:
*)
let centred = points.ToMatrix() - Matrix<float>.Build.DenseOfRowVectors(Array.create 6 (mu.ToVector()))

let closedForm =
    let inv = sigma.ToMatrix().Inverse()
    centred.EnumerateRows()
    |> Seq.map (fun d -> 0.5 * (inv * d.OuterProduct d * inv - inv))
    |> Seq.reduce (+)

printfn "closed form %O" (Value.FromMatrix closedForm)
(*** include-output ***)
(*** hide ***)
near "log-likelihood against MathNet"
    [|
        centred.EnumerateRows()
        |> Seq.sumBy (fun d ->
            let s = sigma.ToMatrix()
            -0.5 * (3.0 * log (2.0 * System.Math.PI) + s.Cholesky().DeterminantLn + d * s.Solve d))
    |]
    ll
near "∂/∂Σ against the closed form" (closedForm.ToRowMajorArray()) (elements dSigma)
near "∂/∂Σ against central differences"
    (numericGrad (fun (s: Value) -> (eval (logLik (constant s))).ToScalar()) sigma)
    (elements dSigma)

(**
### Fitting Σ through its Cholesky factor

A covariance must stay symmetric positive definite, which a gradient step on Σ itself does not promise. The usual
cure is to learn an unconstrained parameter θ and build Σ = L Lᵀ from it, with L lower triangular: below the
diagonal L is θ, on the diagonal exp θ, so L's diagonal is positive and Σ is SPD whatever θ is. The entries of θ above
the diagonal are not used, and their gradient is 0. `diagonal` and `diag` take the diagonal out and put it back:
*)
let strictlyLower = constant (matrix [ [ 0.0; 0.0; 0.0 ]; [ 1.0; 0.0; 0.0 ]; [ 1.0; 1.0; 0.0 ] ])

let covariance (theta: Expr) =
    let l = strictlyLower * theta + diag (exp (diagonal theta))
    l *@ transpose l

let logLikTheta (theta: Expr) = logLik (covariance theta)

(**
Gradient ascent from θ = 0 (Σ = I) is a fold over the steps that makes a new θ each time (`List.scan` keeps them
all); nothing is mutated. The log-likelihood rises at every step towards its maximum, which is at the sample
covariance S = (1/n) Σᵢ dᵢdᵢᵀ, where it is −(n/2)(d log 2π + log det S + d):
*)
let ascend (theta: Value) = theta + 0.02 * grad logLikTheta theta

let thetas = List.scan (fun theta _ -> ascend theta) (Value.Zeros(Shape.Matrix(3, 3))) [ 1..20 ]
let lls = thetas |> List.map (fun theta -> (eval (logLikTheta (constant theta))).ToScalar())

let sampleCov = centred.TransposeThisAndMultiply centred / 6.0
let llMax = -3.0 * (3.0 * log (2.0 * System.Math.PI) + sampleCov.Cholesky().DeterminantLn + 3.0)

for k in [ 0; 1; 2; 5; 10; 20 ] do
    printfn "step %2d: log-likelihood %.6f" k lls[k]
printfn "maximum:  log-likelihood %.6f" llMax
(*** include-output ***)
(*** hide ***)
holds "the log-likelihood rises at every step" (List.pairwise lls |> List.forall (fun (a, b) -> b > a))
holds "and stays below its maximum" (lls |> List.forall (fun l -> l < llMax))
near "∂/∂θ at step 5 against central differences"
    (numericGrad (fun (th: Value) -> (eval (logLikTheta (constant th))).ToScalar()) thetas[5])
    (elements (grad logLikTheta thetas[5]))
near "the upper entries of θ get no gradient" [| 0.0; 0.0; 0.0 |]
    (let g = grad logLikTheta thetas[5] in [| g[0, 1]; g[0, 2]; g[1, 2] |])

(**
At the maximum the gradient vanishes, to rounding. `cholesky` gives the factor of S (as MathNet's
`Cholesky().Factor`), from which θ* is its strictly lower part and the log of its diagonal:
*)
let lStar = cholesky (constant (Value.FromMatrix sampleCov))
let thetaStar =
    eval (strictlyLower * lStar + diag (log (diagonal lStar)))

printfn "L of S  %O" (eval lStar)
printfn "largest |∂/∂θ| at θ*: %s" (tiny (elements (grad logLikTheta thetaStar) |> Array.map abs |> Array.max))
(*** include-output ***)
(*** hide ***)
near "cholesky against MathNet" (sampleCov.Cholesky().Factor.ToRowMajorArray()) (elements (eval lStar))
near "the log-likelihood at θ* is the maximum" [| llMax |] (eval (logLikTheta (constant thetaStar)))
holds "the gradient at θ* is zero to rounding"
    (elements (grad logLikTheta thetaStar) |> Array.forall (fun g -> abs g < 1e-12))

(**
## Shapes

`reshape` keeps the elements in row-major order, as NumPy and PyTorch do; `flatten` is the reshape to a vector. `concat`
joins along an axis and `slice` cuts out a range (stop exclusive), so the round trip gives back the parts, and the
gradient through all of them lands on the right elements:
*)
let six = vector [ 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 ]
let asMatrix = constant six |> reshape (Shape.Matrix(2, 3))
let joined = concat 0 [ asMatrix; constant (matrix [ [ 7.0; 8.0; 9.0 ] ]) ]
let backAgain = joined |> sliceAxis 0 0 2 |> flatten

printfn "reshape: %O" (eval asMatrix)
printfn "concat:  %O" (eval joined)
printfn "slice and flatten: %O" (eval backAgain)

let weights = constant (matrix [ [ 1.0; 0.0; -1.0 ]; [ 2.0; 0.5; 0.0 ]; [ 0.0; 0.0; 3.0 ] ])
let throughShapes =
    let lastRow = constant (matrix [ [ 7.0; 8.0; 9.0 ] ])
    grad (fun v -> sum (weights * concat 0 [ reshape (Shape.Matrix(2, 3)) v; lastRow ])) six
printfn "gradient: %O" throughShapes
(*** include-output ***)
(*** hide ***)
near "reshape then concat" [| 1.0 .. 9.0 |] (elements (eval joined))
near "the round trip" (six.ToArray()) (eval backAgain)
near "the gradient is the first two rows of the weights" [| 1.0; 0.0; -1.0; 2.0; 0.5; 0.0 |] throughShapes

(**
Broadcasting follows NumPy within rank 2: a matrix(m, 1) spreads over the columns, a vector(n) (or a
matrix(1, n)) over the rows, and the two together make a matrix(m, n). The gradient sums back over the axes that were
spread, so the column's entries each get n, the row's each m:
*)
let col = matrix [ [ 1.0 ]; [ 2.0 ]; [ 3.0 ] ]
let rowV = vector [ 10.0; 20.0 ]
printfn "column + row: %O" (eval (constant col + constant rowV))

let dCol, dRow = grad (fun (c, r) -> sum (c + r)) (col, rowV)
printfn "∂/∂column %O, ∂/∂row %O" dCol dRow
(*** include-output ***)
(*** hide ***)
near "column + row" [| 11.0; 21.0; 12.0; 22.0; 13.0; 23.0 |] (elements (eval (constant col + constant rowV)))
near "∂/∂column" [| 2.0; 2.0; 2.0 |] (elements dCol)
near "∂/∂row" [| 3.0; 3.0 |] dRow

(**
## Selection

The comparisons make 0/1 masks (no gradient flows through them), and `where mask a b` picks a where the mask is
non-zero and b elsewhere, with the gradient going to the picked input only. A leaky ReLU:
*)
let leaky (x: Expr) = where (greater x (constant (scalar 0.0))) x (0.1 * x)

let xs = vector [ -2.0; -0.5; 1.0; 3.0 ]
printfn "leaky %O" (eval (leaky (constant xs)))
printfn "∂    %O" (grad (fun x -> sum (leaky x)) xs)
(*** include-output ***)
(*** hide ***)
near "leaky relu" [| -0.2; -0.05; 1.0; 3.0 |] (eval (leaky (constant xs)))
near "its gradient" [| 0.1; 0.1; 1.0; 1.0 |] (grad (fun x -> sum (leaky x)) xs)

(**
`maximum` and `minimum` are element-wise. Where the two inputs tie, the gradient splits ½ to each, as torch.maximum's
does (`amax`, the largest element, splits evenly among the tied elements):
*)
let dA, dB = grad (fun (a, b) -> sum (maximum a b)) (vector [ 1.0; 2.0; 3.0 ], vector [ 3.0; 2.0; 1.0 ])
printfn "∂/∂a %O, ∂/∂b %O" dA dB
(*** include-output ***)
(*** hide ***)
near "∂max/∂a" [| 0.0; 0.5; 1.0 |] dA
near "∂max/∂b" [| 1.0; 0.5; 0.0 |] dB

(**
## Reductions along an axis

Axis 1 reduces each row, axis 0 each column, as NumPy. `logSumExpAxis` shifts by the maximum first, so logits of
1e15 give a finite answer, where log Σ eˣ written out overflows to ∞; its gradient is the softmax of each row:
*)
let logits = matrix [ [ 1e15; 1e15 ]; [ 0.0; -1e15 ] ]
let lse = eval (logSumExpAxis 1 (constant logits))
let naive = eval (log (sumAxis 1 (exp (constant logits))))
printfn "logSumExp of each row: %O" lse
printfn "written out:           %O" naive
printfn "gradient:              %O" (grad (fun z -> sum (logSumExpAxis 1 z)) logits)
(*** include-output ***)
(*** hide ***)
near "logSumExp of each row" [| 1e15 + log 2.0; 0.0 |] lse
holds "written out it overflows" (System.Double.IsPositiveInfinity naive[0])
near "its gradient, the softmax of each row" [| 0.5; 0.5; 1.0; 0.0 |]
    (elements (grad (fun z -> sum (logSumExpAxis 1 z)) logits))

(**
## Errors

A singular matrix is refused with a `LinearAlgebraException` that names the op and a fix, never a result filled with
NaN; a shape that does not fit is refused where the node is built, with the shapes. Both messages end with the line
of the code that made the mistake:
*)
let singular = matrix [ [ 1.0; 2.0 ]; [ 2.0; 4.0 ] ]

let solveError =
    try
        eval (solve (constant singular) (constant (vector [ 1.0; 1.0 ]))) |> ignore
        None
    with :? LinearAlgebraException as e ->
        Some e

let shapeError =
    try
        constant (matrix [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ]; [ 5.0; 6.0 ] ]) + constant (vector [ 1.0; 2.0; 3.0 ]) |> ignore
        None
    with :? ShapeMismatchException as e ->
        Some e

solveError |> Option.iter (fun e -> printfn "%s: %s" (e.GetType().Name) e.Message)
shapeError |> Option.iter (fun e -> printfn "%s: %s" (e.GetType().Name) e.Message)
(*** include-output ***)
(*** hide ***)
holds "solve refuses the singular matrix, by name" (match solveError with Some e -> e.Op = "solve" | None -> false)
holds "the shape error names both shapes"
    (match shapeError with
     | Some e -> e.Message.Contains "matrix(3, 2)" && e.Message.Contains "vector(3)"
     | None -> false)
holds "both name this page"
    ([ solveError |> Option.map (fun e -> e.Message); shapeError |> Option.map (fun e -> e.Message) ]
     |> List.forall (function Some m -> m.Contains "shapes-selection-linear-algebra.fsx:" | None -> false))

(*** hide ***)
finish ()
