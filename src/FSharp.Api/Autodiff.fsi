namespace Functional.Autodiff.FSharp

open Functional.Autodiff

/// <summary>
/// The F# API of Functional.Autodiff: open <c>Functional.Autodiff.FSharp</c> and differentiate F# functions.
/// Graphs are the core's immutable <see cref="T:Functional.Autodiff.Expr"/> values; F#'s own operators and
/// <c>exp</c>, <c>log</c>, <c>sin</c>, <c>cos</c>, <c>tanh</c>, <c>sqrt</c>, <c>abs</c> and <c>**</c> (a float or a graph exponent) work on them
/// (they resolve to the core's static members), so do the functions below. Every combinator is pure: call it as
/// often as you like; gradients are values you add, set and reset yourself.
/// </summary>
/// <example>
/// <code>
/// open Functional.Autodiff.FSharp
/// let x = constant (vector [ 0.5; 0.5; 0.5 ])
/// let z (w: Expr) = 3.0 * dot x ((w + 2.0) ** 2.0)
/// grad z (vector [ 1.0; 1.0; 1.0 ])                 // [9, 9, 9]
/// grad (fun (a, b) -> a * sin b) (2.0, 0.0)       // (0.0, 2.0)
/// </code>
/// </example>
[<AutoOpen>]
module Autodiff =

    /// <summary>A scalar value.</summary>
    val scalar: x: float -> Value

    /// <summary>A vector value from F# numbers: <c>vector [ 1.0; 2.0; 3.0 ]</c>.</summary>
    val vector: elements: float seq -> Value

    /// <summary>A matrix value from rows: <c>matrix [ [ 1.0; 2.0 ]; [ 3.0; 4.0 ] ]</c> is 2×2 with first row 1, 2.</summary>
    /// <exception cref="T:System.ArgumentException">No rows, an empty row, or rows of different lengths.</exception>
    val matrix: rows: #seq<float> seq -> Value

    /// <summary>Named parameters from (name, value) pairs, in order: <c>parameters [ "w", matrix [..]; "b", vector [..] ]</c>.</summary>
    /// <exception cref="T:System.ArgumentException">A name appears twice.</exception>
    val parameters: entries: (string * Value) seq -> Params

    /// <summary>The traced parameter <paramref name="name"/> inside a function of <see cref="T:Functional.Autodiff.Params"/>: <c>fun p -> p?w * p?x + p?b</c>.</summary>
    /// <exception cref="T:System.Collections.Generic.KeyNotFoundException">No parameter has that name.</exception>
    val (?): p: ParamVars -> name: string -> Expr

    /// <summary>A variable with a name and a bound value (a leaf of a graph built by hand).</summary>
    val var: name: string -> value: Value -> Expr

    /// <summary>A constant node.</summary>
    val constant: value: Value -> Expr

    /// <summary>The value of a graph whose variables are all bound.</summary>
    /// <exception cref="T:Functional.Autodiff.UnboundVariableException">A variable has no value.</exception>
    val eval: e: Expr -> Value

    /// <summary>The value of a graph with its variables bound to the given values (others keep theirs).</summary>
    val evalWith: bindings: (Expr * Value) seq -> e: Expr -> Value

    /// <summary>Stop-gradient as a node: the value of <paramref name="e"/>, with zero derivative (PyTorch's <c>detach</c>).</summary>
    val stopGradient: e: Expr -> Expr

    /// <summary>The inner product of two vectors (a scalar).</summary>
    val dot: a: Expr -> b: Expr -> Expr

    /// <summary>The matrix product (matrix·matrix, matrix·vector or vector·matrix).</summary>
    val matmul: a: Expr -> b: Expr -> Expr

    /// <summary>The matrix product as an operator, like Python's <c>@</c>: <c>x *@ w + b</c>. It binds like <c>*</c>.</summary>
    val ( *@ ): a: Expr -> b: Expr -> Expr

    /// <summary>The outer product of two vectors.</summary>
    val outer: a: Expr -> b: Expr -> Expr

    /// <summary>The transpose of a matrix.</summary>
    val transpose: e: Expr -> Expr

    /// <summary>The inverse of a square matrix (to solve A x = b, <c>solve</c> is cheaper and more accurate).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="T:Functional.Autodiff.LinearAlgebraException">A is singular.</exception>
    /// <example><c>inverse (constant (matrix [ [ 4.0; 7.0 ]; [ 2.0; 6.0 ] ]))</c> is <c>[[0.6, -0.7], [-0.2, 0.4]]</c>.</example>
    val inverse: a: Expr -> Expr

    /// <summary>The solution x of A x = b, for b a vector(n) or a matrix(n, k); its derivatives are solves, never an inverse.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">A is not square, or b does not have A's rows.</exception>
    /// <exception cref="T:Functional.Autodiff.LinearAlgebraException">A is singular.</exception>
    /// <example><c>solve (constant (matrix [ [ 2.0; 0.0 ]; [ 0.0; 4.0 ] ])) (constant (vector [ 2.0; 2.0 ]))</c> is <c>[1, 0.5]</c>.</example>
    val solve: a: Expr -> b: Expr -> Expr

    /// <summary>The determinant of a square matrix (0 for a singular one, whose derivatives are refused: they need the inverse).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">A is not a square matrix.</exception>
    /// <example><c>det (constant (matrix [ [ 4.0; 7.0 ]; [ 2.0; 6.0 ] ]))</c> is <c>10</c>.</example>
    val det: a: Expr -> Expr

    /// <summary>log det A for a square matrix of positive determinant, finite where det A overflows.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="T:Functional.Autodiff.LinearAlgebraException">The determinant is negative or zero (the message gives the sign).</exception>
    /// <example><c>logdet (constant (matrix [ [ 2.0; 1.0 ]; [ 1.0; 2.0 ] ]))</c> is <c>log 3</c>.</example>
    val logdet: a: Expr -> Expr

    /// <summary>The lower Cholesky factor L (L Lᵀ = A) of a symmetric positive-definite matrix (of its symmetric part, as JAX).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="T:Functional.Autodiff.LinearAlgebraException">A is not positive definite.</exception>
    /// <example><c>cholesky (constant (matrix [ [ 4.0; 2.0 ]; [ 2.0; 5.0 ] ]))</c> is <c>[[2, 0], [1, 2]]</c>.</example>
    val cholesky: a: Expr -> Expr

    /// <summary>The sum of the main diagonal of a matrix.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is not a matrix.</exception>
    val trace: a: Expr -> Expr

    /// <summary>Of a vector, the diagonal matrix; of a matrix, its main diagonal (as <c>torch.diag</c>).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar.</exception>
    val diag: e: Expr -> Expr

    /// <summary>The main diagonal of a matrix(m, n), a vector(min(m, n)).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is not a matrix.</exception>
    val diagonal: e: Expr -> Expr

    /// <summary>Aᵏ for a whole k ≥ 0 (the identity for k = 0), as matmuls: <c>matrixPower 3 a</c>.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">A is not a square matrix.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">k is negative.</exception>
    val matrixPower: k: int -> a: Expr -> Expr

    /// <summary>The sum of all elements (a scalar).</summary>
    val sum: e: Expr -> Expr

    /// <summary>The mean of all elements (a scalar).</summary>
    val mean: e: Expr -> Expr

    /// <summary>The Euclidean (Frobenius) norm.</summary>
    val norm: e: Expr -> Expr

    /// <summary>
    /// The sums along an axis, as NumPy's <c>sum(axis=…)</c>: axis 0 over the rows (a matrix(m, n) gives a vector(n), a
    /// vector its total), axis 1 over the columns (a matrix(m, n) gives a vector(m)).
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    /// <example><c>sumAxis 0 m</c> of m = [[1, 2], [3, 4]] is [4; 6]; <c>sumAxis 1 m</c> is [3; 7].</example>
    val sumAxis: axis: int -> e: Expr -> Expr

    /// <summary>The means along an axis (see <c>sumAxis</c>), as NumPy's <c>mean(axis=…)</c>.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    val meanAxis: axis: int -> e: Expr -> Expr

    /// <summary>
    /// The largest element, as <c>torch.amax</c> (NaN if any element is NaN); at ties the gradient is split evenly among
    /// the maxima. Named after NumPy's <c>amax</c> so that F#'s <c>max</c> stays as it is.
    /// </summary>
    /// <example>The gradient of <c>amax</c> at [1; 3; 3] is [0; 0.5; 0.5].</example>
    val amax: e: Expr -> Expr

    /// <summary>The largest elements along an axis (0: of each column, 1: of each row), as <c>torch.amax(x, dim)</c>; ties split the gradient evenly.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    val amaxAxis: axis: int -> e: Expr -> Expr

    /// <summary>The smallest element, as <c>torch.amin</c> (NaN if any element is NaN); at ties the gradient is split evenly among the minima.</summary>
    val amin: e: Expr -> Expr

    /// <summary>The smallest elements along an axis (0: of each column, 1: of each row), as <c>torch.amin(x, dim)</c>; ties split the gradient evenly.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    val aminAxis: axis: int -> e: Expr -> Expr

    /// <summary>log Σ eˣ over all elements, stable at any finite logits (max + log Σ e^{x − max}); its gradient is the softmax.</summary>
    val logSumExp: e: Expr -> Expr

    /// <summary>log Σ eˣ along an axis (0: of each column, 1: of each row), stably; its gradient is the softmax along that axis.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    val logSumExpAxis: axis: int -> e: Expr -> Expr

    /// <summary>
    /// The product of all elements; its gradient is right with zeros (one zero: the product of the others there, 0
    /// elsewhere; two or more: 0) and divides by nothing.
    /// </summary>
    /// <example>The gradient of <c>prod</c> at [2; 0; 3] is [0; 6; 0].</example>
    val prod: e: Expr -> Expr

    /// <summary>Element-wise square.</summary>
    val square: e: Expr -> Expr

    /// <summary>Element-wise logistic sigmoid.</summary>
    val sigmoid: e: Expr -> Expr

    /// <summary>Element-wise max(x, 0).</summary>
    val relu: e: Expr -> Expr

    /// <summary>Element-wise log(1 + eˣ), computed stably.</summary>
    val softplus: e: Expr -> Expr

    /// <summary>Element-wise log σ(x) = −softplus(−x), computed stably: <c>logSigmoid</c> of −1000 is −1000, its derivative 1.</summary>
    val logSigmoid: e: Expr -> Expr

    /// <summary>Element-wise ln(1 + x), accurate for small x.</summary>
    val log1p: e: Expr -> Expr

    /// <summary>Element-wise eˣ − 1, accurate for small x.</summary>
    val expm1: e: Expr -> Expr

    /// <summary>Element-wise sign, −1, 0 or 1, with no derivative (named so as not to hide F#'s <c>sign</c>, which returns an int).</summary>
    val signum: e: Expr -> Expr

    /// <summary>Element-wise 1/x (±∞ at ±0).</summary>
    val reciprocal: e: Expr -> Expr

    /// <summary>Element-wise error function.</summary>
    val erf: e: Expr -> Expr

    /// <summary>Element-wise GELU x·Φ(x) in its exact erf form (torch.nn.functional.gelu's default).</summary>
    val gelu: e: Expr -> Expr

    /// <summary>The 0/1 mask of a &gt; b element-wise (broadcasting as NumPy does); no derivative flows through it.</summary>
    val greater: a: Expr -> b: Expr -> Expr

    /// <summary>The 0/1 mask of a ≥ b element-wise; no derivative flows through it.</summary>
    val greaterEqual: a: Expr -> b: Expr -> Expr

    /// <summary>The 0/1 mask of a &lt; b element-wise; no derivative flows through it.</summary>
    val less: a: Expr -> b: Expr -> Expr

    /// <summary>The 0/1 mask of a ≤ b element-wise; no derivative flows through it.</summary>
    val lessEqual: a: Expr -> b: Expr -> Expr

    /// <summary>The 0/1 mask of a = b element-wise (NaN equals nothing); no derivative flows through it.</summary>
    val equal: a: Expr -> b: Expr -> Expr

    /// <summary>
    /// <paramref name="a"/> where <paramref name="condition"/> is non-zero, <paramref name="b"/> where it is 0, the three
    /// broadcasting as NumPy does; the gradient goes to the selected input only, none to the condition.
    /// </summary>
    /// <example><c>where (greater x (constant (scalar 0.0))) x (0.1 * x)</c> is a leaky relu.</example>
    val where: condition: Expr -> a: Expr -> b: Expr -> Expr

    /// <summary>The element-wise maximum (broadcasting); at a tie the gradient splits ½ each, as torch.maximum's.</summary>
    val maximum: a: Expr -> b: Expr -> Expr

    /// <summary>The element-wise minimum (broadcasting); at a tie the gradient splits ½ each, as torch.minimum's.</summary>
    val minimum: a: Expr -> b: Expr -> Expr

    /// <summary>Each element limited to [lo, hi]; the derivative is 1 inside and at the bounds (as torch.clamp), 0 outside.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">A bound is NaN, or lo &gt; hi.</exception>
    val clamp: lo: float -> hi: float -> e: Expr -> Expr

    /// <summary>The softmax of a vector.</summary>
    val softmax: e: Expr -> Expr

    /// <summary>The log-softmax of a vector.</summary>
    val logSoftmax: e: Expr -> Expr

    /// <summary>The softmax along an axis of a matrix: 1 normalises each row (as <c>softmax</c>), 0 each column; a vector takes 0.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    val softmaxAxis: axis: int -> e: Expr -> Expr

    /// <summary>The log-softmax along an axis of a matrix: 1 normalises each row (as <c>logSoftmax</c>), 0 each column; a vector takes 0.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1.</exception>
    val logSoftmaxAxis: axis: int -> e: Expr -> Expr

    /// <summary>Binary cross-entropy of logits against targets, averaged (PyTorch's <c>binary_cross_entropy_with_logits</c>).</summary>
    val binaryCrossEntropyWithLogits: logits: Expr -> targets: Expr -> Expr

    /// <summary>The mean squared error between a prediction and a target.</summary>
    val meanSquaredError: prediction: Expr -> target: Expr -> Expr

    /// <summary>
    /// Softmax cross-entropy of logits (a matrix, one row per example, or a vector) against integer classes (one per row),
    /// averaged over rows, as PyTorch's <c>cross_entropy</c>: <c>softmaxCrossEntropy (x *@ w + b) [ 0; 2; 1 ]</c>.
    /// </summary>
    /// <exception cref="T:System.ArgumentException">The number of classes is not the number of rows.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">A class is outside 0 to n − 1; the message names its row.</exception>
    val softmaxCrossEntropy: logits: Expr -> classes: int seq -> Expr

    /// <summary>
    /// <paramref name="e"/> with another shape of as many elements, its elements kept in row-major order (NumPy's and
    /// PyTorch's <c>reshape</c>); to its own shape it is <paramref name="e"/> itself.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The shapes have different numbers of elements.</exception>
    /// <example><c>vector [ 1.0 .. 6.0 ] |> constant |> reshape (Shape.Matrix(2, 3))</c> has rows 1, 2, 3 and 4, 5, 6.</example>
    val reshape: shape: Shape -> e: Expr -> Expr

    /// <summary>The elements as a vector in row-major order (rows one after another); a scalar becomes a vector of one element.</summary>
    val flatten: e: Expr -> Expr

    /// <summary>
    /// The parts joined along an axis: vectors end to end (axis 0), matrices one above the other (axis 0) or side by
    /// side (axis 1).
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The parts do not fit; the message names them and the fix.</exception>
    /// <exception cref="T:System.ArgumentException">There are no parts.</exception>
    /// <example><c>concat 0 [ a; b ]</c> of vectors [1; 2] and [3] is [1; 2; 3].</example>
    val concat: axis: int -> parts: Expr seq -> Expr

    /// <summary>Parts of one shape stacked along a new axis: vectors as the rows (axis 0) or the columns (axis 1) of a matrix, scalars into a vector.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The parts have different shapes, or are matrices.</exception>
    /// <exception cref="T:System.ArgumentException">There are no parts.</exception>
    /// <example><c>stack 0 [ u; v ]</c> of two vectors of 3 is a 2×3 matrix with rows u and v.</example>
    val stack: axis: int -> parts: Expr seq -> Expr

    /// <summary>Elements <paramref name="start"/> to <paramref name="stop"/> − 1 of a vector (stop exclusive, as Python).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is not a vector (use <c>sliceAxis</c> for a matrix).</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The range is empty or outside the vector.</exception>
    /// <example><c>slice 1 3 (constant (vector [ 10.0; 20.0; 30.0; 40.0 ]))</c> is [20; 30].</example>
    val slice: start: int -> stop: int -> e: Expr -> Expr

    /// <summary>Positions <paramref name="start"/> to <paramref name="stop"/> − 1 along an axis: rows (0) or columns (1) of a matrix, a vector's elements (0).</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">The input is a scalar, or a vector given axis 1.</exception>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The axis is not 0 or 1, or the range is empty or outside the input.</exception>
    val sliceAxis: axis: int -> start: int -> stop: int -> e: Expr -> Expr

    /// <summary>The elements of a vector, or the rows of a matrix, at the indices (repeats allowed; their gradients add up).</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">An index is outside the vector or the rows.</exception>
    /// <example><c>gather [ 2; 0; 2 ] (constant (vector [ 10.0; 20.0; 30.0 ]))</c> is [30; 10; 30].</example>
    val gather: indices: int seq -> e: Expr -> Expr

    /// <summary>Row <paramref name="i"/> of a matrix, as a vector.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The row is outside the matrix.</exception>
    val row: i: int -> m: Expr -> Expr

    /// <summary>Column <paramref name="j"/> of a matrix, as a vector.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">The column is outside the matrix.</exception>
    val column: j: int -> m: Expr -> Expr

    /// <summary>
    /// Differentiate by the inputs at these positions of the input tuple, list or array only (JAX's <c>argnums</c>), for
    /// the <c>…Wrt</c> combinators: <c>gradWrt (argnums [ 0; 2 ]) f (a, b, c)</c>. The others are held constant; in a
    /// gradient they hold zeros of their shape (not computed), so the result keeps the input's form.
    /// </summary>
    val argnums: positions: int list -> Wrt

    /// <summary>Differentiate by the parameters, record fields or <c>Map</c> keys with these names only: <c>gradWrt (names [ "w" ]) loss p</c>.</summary>
    val names: names: string list -> Wrt

    /// <summary>
    /// f(x) and ∇f(x) from one trace, for a scalar-valued f. x is any structure: a <c>float</c>, a <c>Value</c>, a MathNet
    /// vector or matrix, a <c>Params</c> (f reads <c>p?name</c>), or tuples (up to 7), lists, arrays, <c>Map&lt;string, _&gt;</c>
    /// and records of these, nested. f receives the same form with every leaf an <c>Expr</c> (a record
    /// <c>Layer&lt;Value&gt;</c> as <c>Layer&lt;Expr&gt;</c>); the gradient comes back in x's form.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar (use <c>vjp</c>).</exception>
    /// <exception cref="T:Functional.Autodiff.StructureException">x's type is not a structure (the message lists what is), or a record has no traced form.</exception>
    /// <example><c>valueAndGrad (fun (x, y) -> x * y) (3.0, 4.0)</c> is <c>(12.0, (4.0, 3.0))</c>.</example>
    val inline valueAndGrad<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> float * ^X

    /// <summary>∇f(x) for a scalar-valued f, in x's form (see <c>valueAndGrad</c> for the forms x may take).</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar (use <c>vjp</c>).</exception>
    /// <example><c>grad (fun x -> x * x) 3.0</c> is <c>6.0</c>; <c>grad (fun (a, b, c, d) -> a * b * c * d) (1.0, 2.0, 3.0, 4.0)</c> is <c>(24.0, 12.0, 8.0, 6.0)</c>.</example>
    val inline grad<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> ^X

    /// <summary><c>valueAndGrad</c> differentiating by the chosen inputs only (<c>argnums</c> or <c>names</c>); the others' entries are zeros.</summary>
    /// <exception cref="T:System.ArgumentOutOfRangeException">A position is past the input's last.</exception>
    /// <exception cref="T:System.Collections.Generic.KeyNotFoundException">A name is not one of the input's.</exception>
    val inline valueAndGradWrt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr) -> x: ^X -> float * ^X

    /// <summary><c>grad</c> differentiating by the chosen inputs only: <c>gradWrt (argnums [ 1 ]) (fun (a, b) -> a * b) (3.0, 4.0)</c> is <c>(0.0, 3.0)</c>.</summary>
    val inline gradWrt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr) -> x: ^X -> ^X

    /// <summary>
    /// The loss, its gradient and auxiliary values f returns beside the loss (JAX's <c>has_aux</c>): f returns
    /// <c>loss, aux</c>; aux is not differentiated (graphs in it carry their values).
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">The loss is not a scalar.</exception>
    /// <example><c>let loss, g, pred = valueAndGradAux (fun w -> w * w, 2.0 * w) 3.0</c> gives <c>9.0, 6.0</c> and the graph <c>2 * w</c> (its value 6).</example>
    val inline valueAndGradAux<'E, 'A, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr * 'A) -> x: ^X -> float * ^X * 'A

    /// <summary><c>valueAndGradAux</c> differentiating by the chosen inputs only.</summary>
    val inline valueAndGradAuxWrt<'E, 'A, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr * 'A) -> x: ^X -> float * ^X * 'A

    /// <summary>
    /// f(x) and its pullback v ↦ vᵀJ for any output shape (PyTorch's <c>y.backward(v)</c>); the pullback is pure and
    /// returns a cotangent in x's form. x is any structure (see <c>valueAndGrad</c>).
    /// </summary>
    /// <example><c>let y, pullback = vjp (fun x -> x * x) (vector [ 1.0; 2.0 ]) in pullback (vector [ 1.0; 1.0 ])</c> is <c>[2, 4]</c>.</example>
    val inline vjp<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> Value * (Value -> ^X)

    /// <summary><c>vjp</c> differentiating by the chosen inputs only.</summary>
    val inline vjpWrt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr) -> x: ^X -> Value * (Value -> ^X)

    /// <summary>f(x) and the directional derivative J·v by forward mode (JAX's <c>jvp</c>); v has x's form and shapes.</summary>
    /// <exception cref="T:Functional.Autodiff.ShapeMismatchException">x is a single leaf and v's shape is not x's.</exception>
    /// <exception cref="T:Functional.Autodiff.StructureException">v's form or a leaf's shape differs from x's; the message names the leaf (<c>[1].w</c>).</exception>
    /// <example><c>jvp (fun x -> sin x * x) 1.0 1.0</c> is <c>(sin 1, cos 1 + sin 1)</c> as Values.</example>
    val inline jvp<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> v: ^X -> Value * Value

    /// <summary><c>jvp</c> moving the chosen inputs only (the rest of v is not read).</summary>
    val inline jvpWrt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr) -> x: ^X -> v: ^X -> Value * Value

    /// <summary>
    /// <c>valueAndGrad f</c>, compiled (see <c>Compiled</c>): the returned function traces f once per input form and shapes,
    /// on placeholders without values, and then runs one flat program per call: the same numbers bit for bit, no tracing,
    /// no graph, and no allocation but the result. Keep the returned function and call it many times. Constants f captures
    /// are read once, when it is traced, and baked in; f may not branch on an input's value (use <c>where</c>).
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.CompileTraceException">From the returned function: f reads the value of a node that depends on x.</exception>
    /// <example><c>let vg = compiledValueAndGrad (fun x -> x * x) in vg 3.0</c> is <c>(9.0, 6.0)</c>.</example>
    val inline compiledValueAndGrad<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> (^X -> float * ^X)

    /// <summary><c>grad f</c>, compiled (see <c>compiledValueAndGrad</c>).</summary>
    /// <exception cref="T:Functional.Autodiff.CompileTraceException">From the returned function: f reads the value of a node that depends on x.</exception>
    val inline compiledGrad<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> (^X -> ^X)

    /// <summary>
    /// <c>hvp f</c>, compiled (see <c>compiledValueAndGrad</c>): one program with inputs x and v computes H·v, the tangent
    /// of the gradient graphs, with <c>hvp</c>'s numbers bit for bit.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    /// <exception cref="T:Functional.Autodiff.CompileTraceException">From the returned function: f reads the value of a node that depends on x.</exception>
    /// <example><c>let hv = compiledHvp (fun x -> 2.0 * dot x x) in hv (vector [ 1.0; 1.0 ]) (vector [ 1.0; 0.0 ])</c> is <c>[4, 0]</c>.</example>
    val inline compiledHvp<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> (^X -> ^X -> ^X)

    /// <summary>
    /// <c>hessian f</c>, compiled (see <c>compiledValueAndGrad</c>): what the gradient's tangent reads of x alone is computed
    /// once per call, then the tangent's program runs once per input element, at the unit directions, with
    /// <c>hessian</c>'s numbers bit for bit.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    /// <exception cref="T:Functional.Autodiff.CompileTraceException">From the returned function: f reads the value of a node that depends on x.</exception>
    /// <example><c>let h = compiledHessian (fun x -> 2.0 * dot x x) in h (vector [ 1.0; 1.0 ])</c> is <c>[[4, 0], [0, 4]]</c>.</example>
    val inline compiledHessian<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> (^X -> Value)

    /// <summary><c>hessianBlocks f</c>, compiled (see <c>compiledHessian</c>).</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">From the returned function: f's output is not a scalar.</exception>
    val inline compiledHessianBlocks<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> (^X -> Blocks)

    /// <summary>
    /// The Jacobian of f at x as one matrix Value: a row per output element, a column per input element, leaves in
    /// order and a matrix's elements row-major. f may return an <c>Expr</c> of any shape or a structure of them (a tuple, a list…).
    /// </summary>
    /// <example><c>jacobian (fun x -> 2.0 * x) (vector [ 1.0; 2.0 ])</c> is <c>[[2, 0], [0, 2]]</c>.</example>
    val inline jacobian<'E, 'Y, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> 'Y) -> x: ^X -> Value

    /// <summary>The Jacobian in blocks per pair of output and input leaves (see <see cref="T:Functional.Autodiff.Blocks"/>): <c>(jacobianBlocks f (a, b)).["y", "[1]"]</c>.</summary>
    val inline jacobianBlocks<'E, 'Y, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> 'Y) -> x: ^X -> Blocks

    /// <summary><c>jacobianBlocks</c> with columns for the chosen inputs only.</summary>
    val inline jacobianBlocksWrt<'E, 'Y, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> 'Y) -> x: ^X -> Blocks

    /// <summary>The Hessian of a scalar-valued f at x as one matrix Value (forward-over-reverse), leaves in order, matrices row-major.</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar.</exception>
    /// <example><c>hessian (fun x -> 2.0 * dot x x) (vector [ 1.0; 1.0 ])</c> is <c>[[4, 0], [0, 4]]</c>.</example>
    val inline hessian<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> Value

    /// <summary>The Hessian in blocks per pair of input leaves: <c>(hessianBlocks f (a, b)).["[0]", "[1]"]</c> is ∂²f/∂a∂b.</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar.</exception>
    val inline hessianBlocks<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> Blocks

    /// <summary><c>hessianBlocks</c> over the chosen inputs only.</summary>
    val inline hessianBlocksWrt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr) -> x: ^X -> Blocks

    /// <summary>The Hessian-vector product H·v of a scalar-valued f at x, without forming H; v and the result in x's form.</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar.</exception>
    val inline hvp<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> v: ^X -> ^X

    /// <summary><c>hvp</c> over the chosen inputs only (the others' entries are zeros).</summary>
    val inline hvpWrt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : wrt: Wrt -> f: ('E -> Expr) -> x: ^X -> v: ^X -> ^X

    /// <summary>
    /// The gradient of f as a graph-to-graph function, for nesting derivatives: <c>grad (diff (fun y -> x * y)) 2.0</c>.
    /// Nested uses never confuse their perturbations.
    /// </summary>
    val diff: f: (Expr -> Expr) -> (Expr -> Expr)

    /// <summary>
    /// f evaluated at x, forward only (the core's <c>AD.Eval</c>): a model's predictions or a loss to report, at the
    /// cost of the forward pass; nothing is differentiated. x is any structure (see <c>valueAndGrad</c>).
    /// </summary>
    /// <example><c>evalAt (fun (w, b) -> w * 2.0 + b) (3.0, 1.0)</c> is <c>7</c>.</example>
    val inline evalAt<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> Value

    /// <summary>
    /// The anomaly check (the core's <see cref="T:Functional.Autodiff.Anomaly"/>): evaluates a scalar-valued f and its
    /// gradient at x and names the first node whose value or cotangent is not finite, with the line of your code that
    /// built it. x is any structure (see <c>valueAndGrad</c>). Pure: nothing is thrown for an anomaly, nothing printed,
    /// no mode to reset; print the report for one line per anomaly.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">f's output is not a scalar.</exception>
    /// <example>
    /// <c>checkAnomalies (fun x -> sqrt x + log x) 0.0</c> prints as
    /// <c>log at Model.fs:3 produced -Infinity from input 0</c> and
    /// <c>sqrt's gradient rule at Model.fs:3 produced Infinity for input 0 from a finite cotangent 1 (input 0, output 0)</c>.
    /// </example>
    val inline checkAnomalies<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> AnomalyReport

    /// <summary>
    /// The anomaly check in forward mode: evaluates f and its tangent J·v at x (v of x's form, finite) and names the
    /// first node whose value or tangent is not finite, with the line of your code that built it.
    /// </summary>
    /// <exception cref="T:Functional.Autodiff.StructureException">v's form or a leaf's shape differs from x's.</exception>
    /// <example><c>(checkAnomaliesJvp (fun x -> sqrt x) 0.0 1.0).DerivativeAnomaly</c> names sqrt's tangent rule.</example>
    val inline checkAnomaliesJvp<'E, ^X when (Tracing or ^X): (static member T: ^X * Tracing -> 'E)> : f: ('E -> Expr) -> x: ^X -> v: ^X -> AnomalyReport

    /// <summary>
    /// The same graph in fewer nodes, value for value bit for bit (<see cref="M:Functional.Autodiff.Graph.Simplify(Functional.Autodiff.Expr)"/>):
    /// constants folded, <c>x * 1</c>, <c>x - 0</c>, <c>-(-x)</c> removed, common subexpressions shared, so gradient graphs
    /// read like math. Returns the same node when nothing simplifies.
    /// </summary>
    /// <example>
    /// <c>let x = Expr.Var("x", Shape.Scalar) :> Expr in AD.Gradients(x * x, x).[0] |> simplify |> string</c> is
    /// <c>"x + x : scalar"</c> (unsimplified: <c>"(1 * x) + (1 * x) : scalar"</c>).
    /// </example>
    val simplify: e: Expr -> Expr

/// <summary>
/// Graphs drawn as circuits, in Graphviz DOT or Mermaid (thin wrappers over <c>Functional.Autodiff.Export</c>):
/// inputs on the left, outputs on the right, values on the nodes, stop-gradient marked, and, with
/// <c>Draw.circuit</c>, each node's gradient under its value.
/// </summary>
/// <example>
/// <code>
/// let x, y, z = var "x" (scalar 3.0), var "y" (scalar -4.0), var "z" (scalar 19.0)
/// let f = (x + 2.0 * y) * z
/// Draw.dot (Draw.circuit f) [ ("f", f) ]   // render with: dot -Tsvg f.dot -o f.svg
/// let g = AD.Gradients(f, x).[0]
/// Draw.dot (Export.DrawOptions(Simplify = true)) [ ("df/dx", g) ]   // the gradient graph simplified
/// let s = simplify f in Draw.dot (Draw.circuit s) [ ("f", s) ]      // simplified, with gradients
/// </code>
/// </example>
[<RequireQualifiedAccess>]
module Draw =

    /// <summary>The default options: up to 200 nodes, forward values shown, no gradients, no title, not simplified.</summary>
    val defaults: Export.DrawOptions

    /// <summary>Options that show, under each node's value, the gradient of the scalar <paramref name="output"/> with respect to that node.</summary>
    /// <exception cref="T:Functional.Autodiff.NonScalarOutputException">The output is not a scalar.</exception>
    val circuit: output: Expr -> Export.DrawOptions

    /// <summary>The named graphs in one DOT digraph (shared nodes once, each output marked with its name).</summary>
    val dot: options: Export.DrawOptions -> roots: (string * Expr) list -> string

    /// <summary>The named graphs in one Mermaid flowchart (shared nodes once, each output marked with its name).</summary>
    val mermaid: options: Export.DrawOptions -> roots: (string * Expr) list -> string
