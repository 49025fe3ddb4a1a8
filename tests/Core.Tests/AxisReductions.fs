/// The reductions of issue 10 beyond the op-spec table: max, min, log-sum-exp, softmax and log-softmax along an axis,
/// sums and means along an axis, and the product, pinned with their gradients against PyTorch float64 on fixed inputs
/// (tests/reference/issue10_reductions.py): ties for max and min (amax/amin: the gradient splits evenly), logits of
/// ±1e15, products with zeros; second order of the product and of log-sum-exp; GradCheck of a composed function; the
/// builders' relation to the existing ops; and the errors.
module Functional.Autodiff.Tests.AxisReductions

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

/// A tensor of shape s from the script's literals (matrices column by column).
let private literal (s: Shape) (d: float[]) = { Shape = s; Data = d }

/// PyTorch's values, as the script prints them: "name" is y, "name grad" the gradient of sum(w ⊙ y), "name hvp" H v.
let private torch =
    Map.ofList [
        "max(ties)", literal (Shape.Scalar) [| 3.0 |]
        "max(ties) grad", literal (Shape.Matrix(3, 4)) [| -0.0; -0.0; -0.0; -0.375; -0.0; -0.0; -0.375; -0.0; -0.0; -0.0; -0.0; -0.0 |]
        "max(ties, 0)", literal (Shape.Vector 4) [| 1.0; 3.0; 3.0; 2.0 |]
        "max(ties, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.75; -0.0; -0.0; -0.5; -0.0; -0.0; -0.25; -0.0; -0.0; 0.0; 0.0; 0.0 |]
        "max(ties, 1)", literal (Shape.Vector 3) [| 3.0; 0.5; 2.0 |]
        "max(ties, 1) grad", literal (Shape.Matrix(3, 4)) [| -0.0; -0.125; -0.0; -0.375; -0.125; -0.125; -0.375; -0.125; -0.0; -0.0; -0.125; -0.125 |]
        "min(ties)", literal (Shape.Scalar) [| -2.0 |]
        "min(ties) grad", literal (Shape.Matrix(3, 4)) [| -0.0; -0.0; -0.375; -0.0; -0.0; -0.0; -0.0; -0.0; -0.0; -0.375; -0.0; -0.0 |]
        "min(ties, 0)", literal (Shape.Vector 4) [| -2.0; 0.5; -1.0; -2.0 |]
        "min(ties, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.0; -0.0; -0.75; -0.0; -0.5; -0.0; -0.0; -0.0; -0.25; 0.0; 0.0; 0.0 |]
        "min(ties, 1)", literal (Shape.Vector 3) [| -2.0; 0.5; -2.0 |]
        "min(ties, 1) grad", literal (Shape.Matrix(3, 4)) [| -0.0; -0.125; -0.25; -0.0; -0.125; -0.0; -0.0; -0.125; -0.0; -0.75; -0.125; -0.0 |]
        "max(vector ties)", literal (Shape.Scalar) [| 3.0 |]
        "max(vector ties) grad", literal (Shape.Vector 3) [| -0.0; -0.375; -0.375 |]
        "sum(m, 0)", literal (Shape.Vector 4) [| 1.0; 1.125; 1.5; -2.25 |]
        "sum(m, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.75; -0.75; -0.75; -0.5; -0.5; -0.5; -0.25; -0.25; -0.25; 0.0; 0.0; 0.0 |]
        "mean(m, 0)", literal (Shape.Vector 4) [| 0.3333333333333333; 0.375; 0.5; -0.75 |]
        "mean(m, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.25; -0.25; -0.25; -0.16666666666666666; -0.16666666666666666; -0.16666666666666666; -0.08333333333333333; -0.08333333333333333; -0.08333333333333333; 0.0; 0.0; 0.0 |]
        "mean(m, 1)", literal (Shape.Vector 3) [| 0.25; 0.59375; -0.5 |]
        "mean(m, 1) grad", literal (Shape.Matrix(3, 4)) [| -0.1875; -0.125; -0.0625; -0.1875; -0.125; -0.0625; -0.1875; -0.125; -0.0625; -0.1875; -0.125; -0.0625 |]
        "logsumexp(m)", literal (Shape.Scalar) [| 3.216014664321509 |]
        "logsumexp(m) grad", literal (Shape.Matrix(3, 4)) [| -0.049603358454203716; -0.22230682943626606; -0.006713084565886884; -0.023430967437389077; -0.03409185645759975; -0.10501031067159373; -0.17313273284708522; -0.0182480557883592; -0.038631134407105444; -0.011068005315786441; -0.06369197300827033; -0.004071691610454069 |]
        "logsumexp(m, 0)", literal (Shape.Vector 4) [| 2.2258020492315995; 1.6868233438002642; 2.0340726046861715; 0.9632562766359386 |]
        "logsumexp(m, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.13352265412961928; -0.5984070196552442; -0.018070326215136295; -0.07208058682886737; -0.10487663499664383; -0.32304277817448873; -0.1881779980760578; -0.019833815076820492; -0.0419881868471217; 0.0; 0.0; 0.0 |]
        "logsumexp(m, 1)", literal (Shape.Vector 3) [| 2.145931770778808; 2.4199889659615885; 1.635657907744241 |]
        "logsumexp(m, 1) grad", literal (Shape.Matrix(3, 4)) [| -0.14462460231617524; -0.32852703486745133; -0.010867786104148729; -0.06831582483763186; -0.050381252539760654; -0.170000777423294; -0.5047894621699817; -0.02696714120500829; -0.06253979099719216; -0.032270110676211154; -0.09412457138777973; -0.006591645475365119 |]
        "softmax(m, 0)", literal (Shape.Matrix(3, 4)) [| 0.178030205506159; 0.7978760262069925; 0.024093768286848397; 0.14416117365773473; 0.20975326999328767; 0.6460855563489776; 0.7527119923042312; 0.07933526030728197; 0.16795274738848678; 0.14040049291079532; 0.8079490522169863; 0.05165045487221843 |]
        "softmax(m, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.14311838754394973; 0.15646391298686538; -0.013345525442915644; -0.05352339060242484; 0.131877196185503; -0.07835380558307815; -0.09132161362080829; 0.06971003304591059; 0.02161158057489771; 0.08326439655277453; -0.12680826994414113; 0.043543873391366665 |]
        "log_softmax(m, 0)", literal (Shape.Matrix(3, 4)) [| -1.7258020492315995; -0.2258020492315995; -3.7258020492315995; -1.9368233438002642; -1.5618233438002642; -0.43682334380026416; -0.28407260468617146; -2.5340726046861715; -1.7840726046861715; -1.9632562766359385; -0.2132562766359386; -2.9632562766359385 |]
        "log_softmax(m, 0) grad", literal (Shape.Matrix(3, 4)) [| -0.571969794493841; 1.0478760262069926; -0.4759062317131516; -0.4639597065855663; 0.552438317498322; -0.0884786109127556; -0.6263559961521157; 0.7103323698463591; -0.0839763736942434; 0.07020024645539767; -0.34602547389150684; 0.2758252274361092 |]
        "log_softmax(m, 1)", literal (Shape.Matrix(3, 4)) [| -1.645931770778808; -0.4199889659615886; -3.135657907744241; -2.395931770778808; -2.2949889659615885; -0.385657907744241; -0.3959317707788078; -2.9199889659615885; -1.385657907744241; -3.145931770778808; -1.6699889659615885; -3.635657907744241 |]
        "log_softmax(m, 1) grad", literal (Shape.Matrix(3, 4)) [| -0.4607507953676495; -0.2427905523011769; -0.47826442779170253; -0.3633683503247363; 0.424428121190359; 0.090001554846588; 0.7595789243399635; 0.7095492881924875; 0.12507958199438432; 0.06454022135242231; -0.8911868570816696; 0.26318329095073023 |]
        "logsumexp(huge)", literal (Shape.Scalar) [| 1000000000000001.1 |]
        "logsumexp(huge) grad", literal (Shape.Matrix(3, 3)) [| -0.2434893505187623; -0.2434893505187623; -0.0; -0.0; -0.2434893505187623; -0.0; -0.0; -0.0; -0.0 |]
        "logsumexp(huge, 0)", literal (Shape.Vector 3) [| 1000000000000000.8; 1000000000000000.0; 0.5297504182726207 |]
        "logsumexp(huge, 0) grad", literal (Shape.Matrix(3, 3)) [| -0.354274914555761; -0.354274914555761; -0.0; -0.0; -0.5; -0.0; -0.24267194231216088; -0.007328057687839077; -0.0 |]
        "logsumexp(huge, 1)", literal (Shape.Vector 3) [| 1000000000000000.0; 1000000000000000.8; -999999999999998.9 |]
        "logsumexp(huge, 1) grad", literal (Shape.Matrix(3, 3)) [| -0.75; -0.23618327637050734; -0.08116311683958743; -0.0; -0.23618327637050734; -0.08116311683958743; -0.0; -0.0; -0.08116311683958743 |]
        "softmax(huge, 0)", literal (Shape.Matrix(3, 3)) [| 0.5; 0.5; 0.0; 0.0; 1.0; 0.0; 0.9706877692486436; 0.029312230751356316; 0.0 |]
        "softmax(huge, 0) grad", literal (Shape.Matrix(3, 3)) [| -0.1875; 0.1875; 0.0; -0.0; 0.0; -0.0; -0.021339767909801674; 0.021339767909801667; -0.0 |]
        "log_softmax(huge, 0)", literal (Shape.Matrix(3, 3)) [| -0.6931471805599453; -0.6931471805599453; -2000000000000000.8; -2000000000000000.0; 0.0; -2000000000000000.0; -0.029750418272620652; -3.5297504182726205; -1000000000000000.5 |]
        "log_softmax(huge, 0) grad", literal (Shape.Matrix(3, 3)) [| -0.75; 0.0; 0.75; -0.5; 1.25; -0.75; -0.00732805768783909; 0.5073280576878391; -0.5 |]
        "log_softmax(huge, 1)", literal (Shape.Matrix(3, 3)) [| 0.0; -0.6931471805599453; -1.0986122886681098; -2000000000000000.0; -0.6931471805599453; -1.0986122886681098; -999999999999999.5; -1000000000000003.8; -1.0986122886681098 |]
        "log_softmax(huge, 1) grad", literal (Shape.Matrix(3, 3)) [| 0.75; -0.375; 0.9166666666666666; -0.5; -0.125; -0.5833333333333334; -0.25; 0.5; -0.33333333333333337 |]
        "logsumexp(huge) grad (softmax)", literal (Shape.Matrix(3, 3)) [| -0.25; -0.25; -0.0; -0.0; -0.25; -0.0; -0.0; -0.0; -0.0 |]
        "logsumexp(huge, 0) grad (softmax)", literal (Shape.Matrix(3, 3)) [| -0.375; -0.375; -0.0; -0.0; -0.5; -0.0; -0.2426719423121609; -0.007328057687839079; -0.0 |]
        "logsumexp(huge, 1) grad (softmax)", literal (Shape.Matrix(3, 3)) [| -0.75; -0.25; -0.08333333333333333; -0.0; -0.25; -0.08333333333333333; -0.0; -0.0; -0.08333333333333333 |]
        "logsumexp(m) hvp", literal (Shape.Matrix(3, 4)) [| -0.04235000836506891; 0.10660953629656644; -0.0034937555218638875; -0.012194404980831044; 0.02771305405664639; -0.019648094631335312; -0.032394231547411514; 0.020916414165770943; 0.005648914729309232; 0.0016184411670012765; -0.05437848713768694; 0.0019526217689033098 |]
        "prod(none)", literal (Shape.Scalar) [| -4.5 |]
        "prod(none) grad", literal (Shape.Vector 4) [| 2.25; -1.6875; 6.75; 1.125 |]
        "prod(none) hvp", literal (Shape.Vector 4) [| -4.75; 4.5; -2.25; -2.125 |]
        "prod(one)", literal (Shape.Scalar) [| -0.0 |]
        "prod(one) grad", literal (Shape.Vector 4) [| 0.0; 1.6875; -0.0; 0.0 |]
        "prod(one) hvp", literal (Shape.Vector 4) [| -0.75; 2.25; 2.25; -0.375 |]
        "prod(two)", literal (Shape.Scalar) [| -0.0 |]
        "prod(two) grad", literal (Shape.Vector 4) [| 0.0; 0.0; 0.0; 0.0 |]
        "prod(two) hvp (from the Hessian)", literal (Shape.Vector 4) [| -4.5; 0.0; -1.5; 0.0 |]
        "prod(matrix)", literal (Shape.Scalar) [| 0.0 |]
        "prod(matrix) grad", literal (Shape.Matrix(2, 3)) [| -0.0; -1.0546875; 0.0; -0.0; -0.0; 0.0 |]
    ]

/// The script's weights: (k mod 7 − 3) / 4 for the k-th element in row-major order.
let private weights (s: Shape) =
    let w k = float (k % 7 - 3) / 4.0
    if s.IsMatrix then T.matrix s.Rows s.Cols (fun i j -> w (i * s.Cols + j)) else T.init s w

let private ofRows (rows: float[][]) = T.matrix rows.Length rows[0].Length (fun i j -> rows[i][j])

let private ties = ofRows [| [| 1.0; 3.0; 3.0; -2.0 |]; [| 0.5; 0.5; 0.5; 0.5 |]; [| -2.0; 2.0; -1.0; 2.0 |] |]
let private m = ofRows [| [| 0.5; -0.25; 1.75; -1.0 |]; [| 2.0; 0.125; -0.5; 0.75 |]; [| -1.5; 1.25; 0.25; -2.0 |] |]
let private huge = ofRows [| [| 1e15; -1e15; 0.5 |]; [| 1e15; 1e15; -3.0 |]; [| -1e15; -1e15; -1e15 |] |]

let private exactly = { Absolute = 0.0; Relative = 0.0 }
/// exp and log are the library's kernels (within an ulp of correctly rounded), summed in another order than PyTorch's.
let private closely = { Absolute = 1e-15; Relative = 1e-14 }

/// y = f(x) and the gradient of sum(w ⊙ y) at x, against the script's "name" and the gradient "gradName".
let private pinnedAs (tol: Tolerance) (name: string) (gradName: string) (f: Expr -> Expr) (x: T) =
    let v = Expr.Var("x", T.toValue x)
    let y = f v
    let expected = torch[name]
    assertAllClose tol name "" expected (T.ofValue y.Value)
    let g = AD.Gradients(Expr.Sum(Expr.Const(T.toValue (weights y.Shape)) * y), v)
    assertAllClose tol gradName "" torch[gradName] (T.ofValue g[0].Value)

/// y = f(x) and the gradient of sum(w ⊙ y) at x, against the script's "name" and "name grad".
let private pinned tol name f x = pinnedAs tol name (name + " grad") f x

/// H v of the scalar f at x, through the gradient graph, against the script's "name hvp".
let private pinnedHvp (tol: Tolerance) (name: string) (f: Expr -> Expr) (x: T) (direction: T) =
    let v = Expr.Var("x", T.toValue x)
    let g = AD.Gradients(f v, v)
    let h = AD.Gradients(Expr.Sum(g[0] * Expr.Const(T.toValue direction)), v)
    assertAllClose tol (name + " hvp") "" torch[name] (T.ofValue h[0].Value)

// ------------------------------------------------------------------ values and gradients against PyTorch

let ``max and min split the gradient evenly among ties, as torch.amax and torch.amin`` () =
    pinned exactly "max(ties)" Expr.Max ties
    pinned exactly "max(ties, 0)" (fun x -> Expr.Max(x, 0)) ties
    pinned exactly "max(ties, 1)" (fun x -> Expr.Max(x, 1)) ties
    pinned exactly "min(ties)" Expr.Min ties
    pinned exactly "min(ties, 0)" (fun x -> Expr.Min(x, 0)) ties
    pinned exactly "min(ties, 1)" (fun x -> Expr.Min(x, 1)) ties
    pinned exactly "max(vector ties)" (fun x -> Expr.Max(x, 0)) (T.vector [| 1.0; 3.0; 3.0 |])

let ``sums and means along an axis match PyTorch, and are the existing sum nodes`` () =
    pinned exactly "sum(m, 0)" (fun x -> Expr.Sum(x, 0)) m
    pinned closely "mean(m, 0)" (fun x -> Expr.Mean(x, 0)) m
    pinned closely "mean(m, 1)" (fun x -> Expr.Mean(x, 1)) m
    let x = Expr.Var("x", T.toValue m)
    Assert.That(Expr.Sum(x, 0).Op, Is.SameAs ColumnSumsOp.Instance)
    Assert.That(Expr.Sum(x, 1).Op, Is.SameAs RowSumsOp.Instance)
    let v = Expr.Var("v", Value.FromArray [| 1.0; 2.0 |])
    Assert.That(Expr.Sum(v, 0).Op, Is.SameAs SumOp.Instance)
    Assert.That(Expr.Mean(v, 0).Value.ToScalar(), Is.EqualTo 1.5)

let ``log-sum-exp, softmax and log-softmax along an axis match PyTorch at ordinary logits and at ±1e15`` () =
    for label, x in [ "m", m; "huge", huge ] do
        // At ±1e15 torch.logsumexp's own backward, exp(x − result), is off by the result's rounding; the script gives
        // the exact gradient there as the softmax (torch.softmax, which is stable), and that is what is pinned.
        let grad (name: string) = if label = "huge" then name + " grad (softmax)" else name + " grad"
        pinnedAs closely $"logsumexp({label})" (grad $"logsumexp({label})") Expr.LogSumExp x
        pinnedAs closely $"logsumexp({label}, 0)" (grad $"logsumexp({label}, 0)") (fun x -> Expr.LogSumExp(x, 0)) x
        pinnedAs closely $"logsumexp({label}, 1)" (grad $"logsumexp({label}, 1)") (fun x -> Expr.LogSumExp(x, 1)) x
        pinned closely $"softmax({label}, 0)" (fun x -> Expr.Softmax(x, 0)) x
        pinned closely $"log_softmax({label}, 0)" (fun x -> Expr.LogSoftmax(x, 0)) x
        pinned closely $"log_softmax({label}, 1)" (fun x -> Expr.LogSoftmax(x, 1)) x

    pinnedHvp closely "logsumexp(m) hvp" Expr.LogSumExp m (weights m.Shape)

let ``prod and its gradient are right with no zero, one zero and two zeros, and so is its second order`` () =
    let direction = T.init (Shape.Vector 4) (fun k -> float (k % 7 - 3) / 4.0 + 1.0)

    for label, x in [ "none", [| 1.5; -2.0; 0.5; 3.0 |]; "one", [| 1.5; 0.0; -0.5; 3.0 |]; "two", [| 0.0; -2.0; 0.0; 3.0 |] ] do
        pinned exactly $"prod({label})" Expr.Prod (T.vector x)
        // PyTorch's double backward is disconnected at two zeros; the script gives the Hessian's product there.
        let hvp = if label = "two" then "prod(two) hvp (from the Hessian)" else $"prod({label}) hvp"
        pinnedHvp exactly hvp Expr.Prod (T.vector x) direction

    pinned exactly "prod(matrix)" Expr.Prod (ofRows [| [| 1.5; -2.0; 0.5 |]; [| 0.0; 1.25; -0.75 |] |])

// ------------------------------------------------------------------ relations to the existing ops

let ``softmax along axis 1 is the row softmax, along axis 0 the softmax of the transpose, bit for bit`` () =
    let x = Expr.Var("x", T.toValue m)
    assertBitIdentical "softmax axis 1" (Expr.Softmax x).Value (Expr.Softmax(x, 1)).Value
    assertBitIdentical "log_softmax axis 0" (Expr.Transpose(Expr.LogSoftmax(Expr.Transpose x))).Value (Expr.LogSoftmax(x, 0)).Value
    let v = Expr.Var("v", Value.FromArray [| 0.5; -1.0; 2.0 |])
    assertBitIdentical "log_softmax of a vector, axis 0" (Expr.LogSoftmax v).Value (Expr.LogSoftmax(v, 0)).Value

let ``log-sum-exp is finite at logits of ±1e15 and its gradient is the softmax, with no NaN`` () =
    let x = Expr.Var("x", T.toValue huge)
    let g = AD.Gradients(Expr.LogSumExp(x, 1) |> Expr.Sum, x)
    let softmax = (Expr.Softmax(x, 1)).Value.ToArray()
    Assert.That(g[0].Value.ToArray(), Is.EqualTo softmax)
    Assert.That(softmax |> Array.forall Double.IsFinite, Is.True)
    // Each row's softmax sums to 1 (to rounding): the max's shift leaks nothing into the gradient.
    let rows = (Expr.Sum(Expr.Softmax(x, 1), 1)).Value.ToArray()
    Assert.That(rows, Is.EqualTo([| 1.0; 1.0; 1.0 |]).Within 1e-15)

let ``max, min and log-sum-exp of infinities and NaN: NaN propagates, −∞ everywhere gives −∞`` () =
    let v (xs: float[]) = Expr.Const(Value.FromArray xs)
    Assert.That((Expr.Max(v [| 1.0; nan; 2.0 |])).Value.ToScalar(), Is.NaN)
    Assert.That((Expr.Min(v [| 1.0; nan; 2.0 |])).Value.ToScalar(), Is.NaN)
    Assert.That((Expr.LogSumExp(v [| -infinity; -infinity |])).Value.ToScalar(), Is.EqualTo -infinity)
    Assert.That((Expr.LogSumExp(v [| 1.0; infinity |])).Value.ToScalar(), Is.EqualTo infinity)
    Assert.That((Expr.LogSumExp(v [| 1.0; nan |])).Value.ToScalar(), Is.NaN)

let ``a composed function of the new reductions passes GradCheck at orders 1 and 2`` () =
    let x0 = T.toValue m

    let f (x: Expr) =
        Expr.Sum(Expr.LogSumExp(x, 0) * Expr.Max(x, 1).Sum())
        + Expr.Min(x)
        + Expr.Prod(Expr.Row(x, 1))
        + Expr.Sum(Expr.Softmax(x, 0) * Expr.Const(T.toValue (weights m.Shape)))
        + Expr.Sum(Expr.Mean(x, 1) * Expr.LogSoftmax(x, 1).Column(2))
        + Expr.LogSumExp x

    assertGradCheckOrders12 "" f x0

// ------------------------------------------------------------------ errors

let private vecOf n = Expr.Const(Value.FromArray(Array.init n float))
let private matOf m n = Expr.Const(T.toValue (T.matrix m n (fun i j -> float (i + 2 * j))))

let private assertMentions (ex: exn) (parts: string list) =
    for p in parts do
        Assert.That(ex.Message, Does.Contain p, $"the message should mention '{p}'")

let ``an axis other than 0 or 1 is refused where the node is built, naming the op and the axes there are`` () =
    for name, build in
        [ "max", (fun x -> Expr.Max(x, 2)); "min", (fun x -> Expr.Min(x, -1)); "log_sum_exp", (fun x -> Expr.LogSumExp(x, 2))
          "sum", (fun x -> Expr.Sum(x, 2)); "mean", (fun x -> Expr.Mean(x, 3)); "softmax", (fun x -> Expr.Softmax(x, 2))
          "log_softmax", (fun x -> Expr.LogSoftmax(x, 2)) ] do
        let ex = throws<ArgumentOutOfRangeException> (fun () -> build (matOf 2 3) |> ignore)
        assertMentions ex [ name; "axis"; "give 0"; "or 1"; "AxisReductions.fs:" ]

    throws<ArgumentOutOfRangeException> (fun () -> MaxOp 2 |> ignore) |> ignore

let ``a vector given axis 1, or a scalar given an axis, is refused naming the op, the shape and the fix`` () =
    for name, build in
        [ "max", (fun (x: Expr) -> x.Max 1); "min", (fun x -> x.Min 1); "log_sum_exp", (fun x -> x.LogSumExp 1)
          "sum", (fun x -> x.Sum 1); "mean", (fun x -> x.Mean 1); "softmax", (fun x -> x.Softmax 1)
          "log_softmax", (fun x -> x.LogSoftmax 1) ] do
        let ex = throws<ShapeMismatchException> (fun () -> build (vecOf 3) |> ignore)
        assertMentions ex [ name; "vector(3)"; "only axis 0"; "use axis 0"; "Reshape"; "AxisReductions.fs:" ]
        let ex = throws<ShapeMismatchException> (fun () -> build (Expr.Const 1.0) |> ignore)
        assertMentions ex [ name; "scalar"; "no axis"; "Reshape" ]

let ``reductions over all elements take any shape, a scalar included`` () =
    let s = Expr.Var("s", Value.Scalar -2.5)

    for f in [ Expr.Max; Expr.Min; Expr.LogSumExp; Expr.Prod ] do
        let y = f s
        Assert.That(y.Value.ToScalar(), Is.EqualTo -2.5)
        Assert.That((AD.Gradients(y, s)[0]).Value.ToScalar(), Is.EqualTo 1.0)

open Expecto

[<Tests>]
let tests =
    testList "AxisReductions" [
        testCase "max and min split the gradient evenly among ties, as torch.amax and torch.amin" ``max and min split the gradient evenly among ties, as torch.amax and torch.amin``
        testCase "sums and means along an axis match PyTorch, and are the existing sum nodes" ``sums and means along an axis match PyTorch, and are the existing sum nodes``
        testCase "log-sum-exp, softmax and log-softmax along an axis match PyTorch at ordinary logits and at ±1e15" ``log-sum-exp, softmax and log-softmax along an axis match PyTorch at ordinary logits and at ±1e15``
        testCase "prod and its gradient are right with no zero, one zero and two zeros, and so is its second order" ``prod and its gradient are right with no zero, one zero and two zeros, and so is its second order``
        testCase "softmax along axis 1 is the row softmax, along axis 0 the softmax of the transpose, bit for bit" ``softmax along axis 1 is the row softmax, along axis 0 the softmax of the transpose, bit for bit``
        testCase "log-sum-exp is finite at logits of ±1e15 and its gradient is the softmax, with no NaN" ``log-sum-exp is finite at logits of ±1e15 and its gradient is the softmax, with no NaN``
        testCase "max, min and log-sum-exp of infinities and NaN: NaN propagates, −∞ everywhere gives −∞" ``max, min and log-sum-exp of infinities and NaN: NaN propagates, −∞ everywhere gives −∞``
        testCase "a composed function of the new reductions passes GradCheck at orders 1 and 2" ``a composed function of the new reductions passes GradCheck at orders 1 and 2``
        testCase "an axis other than 0 or 1 is refused where the node is built, naming the op and the axes there are" ``an axis other than 0 or 1 is refused where the node is built, naming the op and the axes there are``
        testCase "a vector given axis 1, or a scalar given an axis, is refused naming the op, the shape and the fix" ``a vector given axis 1, or a scalar given an axis, is refused naming the op, the shape and the fix``
        testCase "reductions over all elements take any shape, a scalar included" ``reductions over all elements take any shape, a scalar included``
    ]
