/// Selection, broadcasting and the new element-wise ops pinned against PyTorch float64 (tests/reference/issue10_selection.py,
/// run once; its printed lines are the `reference` table below, matrices column by column): every binary element-wise op
/// on every broadcasting pair with its gradients, maximum and minimum at ties (½ each, as torch.maximum), clamp at its
/// bounds (gradient 1 there, as torch.clamp), the comparisons, where, log1p, expm1, reciprocal, erf, gelu, sign and pow
/// with a tensor exponent (PyTorch's zeros at a zero base or exponent); then the C# operators, the F# functions, values
/// and GradCheck on a composed function.
module Functional.Autodiff.Tests.Selection

open System
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Tests.Common

/// PyTorch's values and gradients by name (a gradient is "<name> d<k>" for input k).
let private reference =
    dict
        [
            "add M,r", [| 0.75; 1.75; 0.75; 2.75; 0.5; -2.0 |]
            "add M,r d0", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "add M,r d1", [| 4.0; -1.75; -0.5 |]
            "add r,M", [| 0.75; 1.75; 0.75; 2.75; 0.5; -2.0 |]
            "add r,M d0", [| 4.0; -1.75; -0.5 |]
            "add r,M d1", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "add M,R", [| 0.75; 1.75; 0.75; 2.75; 0.5; -2.0 |]
            "add M,R d0", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "add M,R d1", [| 4.0; -1.75; -0.5 |]
            "add M,c", [| 1.75; 0.75; 0.0; 0.0; 3.25; -1.25 |]
            "add M,c d0", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "add M,c d1", [| -0.5; 2.25 |]
            "add c,M", [| 1.75; 0.75; 0.0; 0.0; 3.25; -1.25 |]
            "add c,M d0", [| -0.5; 2.25 |]
            "add c,M d1", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "add c,R", [| 1.5; -0.5; 3.25; 1.25; -0.25; -2.25 |]
            "add c,R d0", [| -0.5; 2.25 |]
            "add c,R d1", [| 4.0; -1.75; -0.5 |]
            "add r,c", [| 1.5; -0.5; 3.25; 1.25; -0.25; -2.25 |]
            "add r,c d0", [| 4.0; -1.75; -0.5 |]
            "add r,c d1", [| -0.5; 2.25 |]
            "add s,M", [| 1.0; 2.0; -0.75; 1.25; 2.5; 0.0 |]
            "add s,M d0", [| 1.75 |]
            "add s,M d1", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "sub M,r", [| 0.25; 1.25; -3.25; -1.25; 3.5; 1.0 |]
            "sub M,r d0", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "sub M,r d1", [| -4.0; 1.75; 0.5 |]
            "sub r,M", [| -0.25; -1.25; 3.25; 1.25; -3.5; -1.0 |]
            "sub r,M d0", [| 4.0; -1.75; -0.5 |]
            "sub r,M d1", [| -1.0; -3.0; 2.0; -0.25; -0.5; 1.0 |]
            "sub M,R", [| 0.25; 1.25; -3.25; -1.25; 3.5; 1.0 |]
            "sub M,R d0", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "sub M,R d1", [| -4.0; 1.75; 0.5 |]
            "sub M,c", [| -0.75; 2.25; -2.5; 1.5; 0.75; 0.25 |]
            "sub M,c d0", [| 1.0; 3.0; -2.0; 0.25; 0.5; -1.0 |]
            "sub M,c d1", [| 0.5; -2.25 |]
            "sub c,M", [| 0.75; -2.25; 2.5; -1.5; -0.75; -0.25 |]
            "sub c,M d0", [| -0.5; 2.25 |]
            "sub c,M d1", [| -1.0; -3.0; 2.0; -0.25; -0.5; 1.0 |]
            "sub c,R", [| 1.0; -1.0; -0.75; -2.75; 2.75; 0.75 |]
            "sub c,R d0", [| -0.5; 2.25 |]
            "sub c,R d1", [| -4.0; 1.75; 0.5 |]
            "sub r,c", [| -1.0; 1.0; 0.75; 2.75; -2.75; -0.75 |]
            "sub r,c d0", [| 4.0; -1.75; -0.5 |]
            "sub r,c d1", [| 0.5; -2.25 |]
            "sub s,M", [| 0.0; -1.0; 1.75; -0.25; -1.5; 1.0 |]
            "sub s,M d0", [| 1.75 |]
            "sub s,M d1", [| -1.0; -3.0; 2.0; -0.25; -0.5; 1.0 |]
            "mul M,r", [| 0.125; 0.375; -2.5; 1.5; -3.0; 0.75 |]
            "mul M,r d0", [| 0.25; 0.75; -4.0; 0.5; -0.75; 1.5 |]
            "mul M,r d1", [| 5.0; 2.6875; 1.5 |]
            "mul r,M", [| 0.125; 0.375; -2.5; 1.5; -3.0; 0.75 |]
            "mul r,M d0", [| 5.0; 2.6875; 1.5 |]
            "mul r,M d1", [| 0.25; 0.75; -4.0; 0.5; -0.75; 1.5 |]
            "mul M,R", [| 0.125; 0.375; -2.5; 1.5; -3.0; 0.75 |]
            "mul M,R d0", [| 0.25; 0.75; -4.0; 0.5; -0.75; 1.5 |]
            "mul M,R d1", [| 5.0; 2.6875; 1.5 |]
            "mul M,c", [| 0.625; -1.125; -1.5625; -0.5625; 2.5; 0.375 |]
            "mul M,c d0", [| 1.25; -2.25; -2.5; -0.1875; 0.625; 0.75 |]
            "mul M,c d1", [| 4.0; 5.1875 |]
            "mul c,M", [| 0.625; -1.125; -1.5625; -0.5625; 2.5; 0.375 |]
            "mul c,M d0", [| 4.0; 5.1875 |]
            "mul c,M d1", [| 1.25; -2.25; -2.5; -0.1875; 0.625; 0.75 |]
            "mul c,R", [| 0.3125; -0.1875; 2.5; -1.5; -1.875; 1.125 |]
            "mul c,R d0", [| -4.5; 2.75 |]
            "mul c,R d1", [| -1.0; -2.6875; 1.375 |]
            "mul r,c", [| 0.3125; -0.1875; 2.5; -1.5; -1.875; 1.125 |]
            "mul r,c d0", [| -1.0; -2.6875; 1.375 |]
            "mul r,c d1", [| -4.5; 2.75 |]
            "mul s,M", [| 0.25; 0.75; -0.625; 0.375; 1.0; -0.25 |]
            "mul s,M d0", [| 9.1875 |]
            "mul s,M d1", [| 0.5; 1.5; -1.0; 0.125; 0.25; -0.5 |]
            "div M,r", [| 2.0; 6.0; -0.625; 0.375; -1.3333333333333333; 0.3333333333333333 |]
            "div M,r d0", [| 4.0; 12.0; -1.0; 0.125; -0.3333333333333333; 0.6666666666666666 |]
            "div M,r d1", [| -80.0; -0.671875; -0.6666666666666666 |]
            "div r,M", [| 0.5; 0.16666666666666666; -1.6; 2.6666666666666665; -0.75; 3.0 |]
            "div r,M d0", [| 4.0; 1.9333333333333333; 2.25 |]
            "div r,M d1", [| -1.0; -0.3333333333333333; 2.56; -0.8888888888888888; 0.1875; -6.0 |]
            "div M,R", [| 2.0; 6.0; -0.625; 0.375; -1.3333333333333333; 0.3333333333333333 |]
            "div M,R d0", [| 4.0; 12.0; -1.0; 0.125; -0.3333333333333333; 0.6666666666666666 |]
            "div M,R d1", [| -80.0; -0.671875; -0.6666666666666666 |]
            "div M,c", [| 0.4; -2.0; -1.0; -1.0; 1.6; 0.6666666666666666 |]
            "div M,c d0", [| 0.8; -4.0; -1.6; -0.3333333333333333; 0.4; 1.3333333333333333 |]
            "div M,c d1", [| -2.56; -9.222222222222223 |]
            "div c,M", [| 2.5; -0.5; -1.0; -1.0; 0.625; 1.5 |]
            "div c,M d0", [| 3.85; 4.333333333333334 |]
            "div c,M d1", [| -5.0; 1.0; 1.6; 0.3333333333333333; -0.15625; -3.0 |]
            "div c,R", [| 5.0; -3.0; 0.625; -0.375; -0.8333333333333334; 0.5 |]
            "div c,R d0", [| 2.6666666666666665; 12.791666666666666 |]
            "div c,R d1", [| 16.0; 0.671875; -0.6111111111111112 |]
            "div r,c", [| 0.2; -0.3333333333333333; 1.6; -2.6666666666666665; -1.2; 2.0 |]
            "div r,c d0", [| -3.2; -1.9333333333333333; 1.7333333333333334 |]
            "div r,c d1", [| 2.88; -4.888888888888889 |]
            "div s,M", [| 1.0; 0.3333333333333333; -0.4; 0.6666666666666666; 0.25; -1.0 |]
            "div s,M d0", [| 8.183333333333334 |]
            "div s,M d1", [| -2.0; -0.6666666666666666; 0.64; -0.2222222222222222; -0.0625; 2.0 |]
            "maximum M,r", [| 0.5; 1.5; 2.0; 2.0; 2.0; -0.5 |]
            "maximum M,r d0", [| 1.0; 3.0; 0.0; 0.0; 0.5; -1.0 |]
            "maximum M,r d1", [| 0.0; -1.75; 0.0 |]
            "maximum r,M", [| 0.5; 1.5; 2.0; 2.0; 2.0; -0.5 |]
            "maximum r,M d0", [| 0.0; -1.75; 0.0 |]
            "maximum r,M d1", [| 1.0; 3.0; 0.0; 0.0; 0.5; -1.0 |]
            "maximum M,R", [| 0.5; 1.5; 2.0; 2.0; 2.0; -0.5 |]
            "maximum M,R d0", [| 1.0; 3.0; 0.0; 0.0; 0.5; -1.0 |]
            "maximum M,R d1", [| 0.0; -1.75; 0.0 |]
            "maximum M,c", [| 1.25; 1.5; 1.25; 0.75; 2.0; -0.5 |]
            "maximum M,c d0", [| 0.0; 3.0; 0.0; 0.25; 0.5; -1.0 |]
            "maximum M,c d1", [| -1.0; 0.0 |]
            "maximum c,M", [| 1.25; 1.5; 1.25; 0.75; 2.0; -0.5 |]
            "maximum c,M d0", [| -1.0; 0.0 |]
            "maximum c,M d1", [| 0.0; 3.0; 0.0; 0.25; 0.5; -1.0 |]
            "maximum c,R", [| 1.25; 0.25; 2.0; 2.0; 1.25; -0.75 |]
            "maximum c,R d0", [| 1.5; -1.0 |]
            "maximum c,R d1", [| 3.0; -1.75; 0.0 |]
            "maximum r,c", [| 1.25; 0.25; 2.0; 2.0; 1.25; -0.75 |]
            "maximum r,c d0", [| 3.0; -1.75; 0.0 |]
            "maximum r,c d1", [| 1.5; -1.0 |]
            "maximum s,M", [| 0.5; 1.5; 0.5; 0.75; 2.0; 0.5 |]
            "maximum s,M d0", [| -2.5 |]
            "maximum s,M d1", [| 0.5; 3.0; 0.0; 0.25; 0.5; 0.0 |]
            "minimum M,r", [| 0.25; 0.25; -1.25; 0.75; -1.5; -1.5 |]
            "minimum M,r d0", [| 0.0; 0.0; -2.0; 0.25; 0.0; 0.0 |]
            "minimum M,r d1", [| 4.0; 0.0; -0.5 |]
            "minimum r,M", [| 0.25; 0.25; -1.25; 0.75; -1.5; -1.5 |]
            "minimum r,M d0", [| 4.0; 0.0; -0.5 |]
            "minimum r,M d1", [| 0.0; 0.0; -2.0; 0.25; 0.0; 0.0 |]
            "minimum M,R", [| 0.25; 0.25; -1.25; 0.75; -1.5; -1.5 |]
            "minimum M,R d0", [| 0.0; 0.0; -2.0; 0.25; 0.0; 0.0 |]
            "minimum M,R d1", [| 4.0; 0.0; -0.5 |]
            "minimum M,c", [| 0.5; -0.75; -1.25; -0.75; 1.25; -0.75 |]
            "minimum M,c d0", [| 1.0; 0.0; -2.0; 0.0; 0.0; 0.0 |]
            "minimum M,c d1", [| 0.5; 2.25 |]
            "minimum c,M", [| 0.5; -0.75; -1.25; -0.75; 1.25; -0.75 |]
            "minimum c,M d0", [| 0.5; 2.25 |]
            "minimum c,M d1", [| 1.0; 0.0; -2.0; 0.0; 0.0; 0.0 |]
            "minimum c,R", [| 0.25; -0.75; 1.25; -0.75; -1.5; -1.5 |]
            "minimum c,R d0", [| -2.0; 3.25 |]
            "minimum c,R d1", [| 1.0; 0.0; -0.5 |]
            "minimum r,c", [| 0.25; -0.75; 1.25; -0.75; -1.5; -1.5 |]
            "minimum r,c d0", [| 1.0; 0.0; -0.5 |]
            "minimum r,c d1", [| -2.0; 3.25 |]
            "minimum s,M", [| 0.5; 0.5; -1.25; 0.5; 0.5; -0.5 |]
            "minimum s,M d0", [| 4.25 |]
            "minimum s,M d1", [| 0.5; 0.0; -2.0; 0.0; 0.0; -1.0 |]
            "pow P,r", [| 1.0; 1.189207115002721; 3.0625; 1.5625; 0.25298221281347033; 1.0 |]
            "pow P,r d0", [| 0.25; 0.4459526681260204; -7.0; 0.625; -0.0758946638440411; 1.5 |]
            "pow P,r d1", [| 2.4728866765978883; -3.3404812513723505; 0.11590262846499899 |]
            "pow c+2,M", [| 1.8027756377319946; 1.3975424859373686; 0.22916368584245067; 1.1821770112539698; 10.5625; 0.8944271909999159 |]
            "pow c+2,M d0", [| 3.7036298564529613; 5.566250377462588 |]
            "pow c+2,M d1", [| 2.124850512695813; 0.9355577802736605; -0.5402098465965437; 0.06594879414330733; 6.2247716994293185; -0.19958565979171422 |]
            "pow P,c", [| 1.0; 0.5946035575013605; 2.0127858045673053; 0.8458970107524513; 3.1435835742073386; 1.0 |]
            "pow P,c d0", [| 1.25; -0.6689290021890306; -2.8754082922390074; -0.1268845516128677; 0.7858958935518346; 0.75 |]
            "pow P,c d1", [| -0.8125551809773253; 1.2836324540552881 |]
            "where c,M,r", [| 0.5; 0.25; -1.25; 2.0; 2.0; -1.5 |]
            "where c,M,r d0", [| 1.0; 0.0; -2.0; 0.0; 0.5; 0.0 |]
            "where c,M,r d1", [| 3.0; 0.25; -1.0 |]
            "mask M > 0.6", [| 0.0; 1.0; 0.0; 1.0; 1.0; 0.0 |]
            "where M>0.6,M,s", [| 0.5; 1.5; 0.5; 0.75; 2.0; 0.5 |]
            "where M>0.6,M,s d0", [| 0.0; 3.0; 0.0; 0.25; 0.5; 0.0 |]
            "where M>0.6,M,s d1", [| -2.0 |]
            "maximum ties", [| 1.0; 3.0; 3.0; 2.0; -1.0 |]
            "maximum ties d0", [| 0.5; 0.0; 1.0; 0.5; 0.5 |]
            "maximum ties d1", [| 0.5; 1.0; 0.0; 0.5; 0.5 |]
            "minimum ties", [| 1.0; 2.0; 2.0; 2.0; -1.0 |]
            "minimum ties d0", [| 0.5; 1.0; 0.0; 0.5; 0.5 |]
            "minimum ties d1", [| 0.5; 0.0; 1.0; 0.5; 0.5 |]
            "maximum infinite ties", [| infinity; -infinity |]
            "maximum infinite ties d0", [| 0.5; 0.5 |]
            "maximum infinite ties d1", [| 0.5; 0.5 |]
            "clamp -1 1", [| -1.0; -1.0; -0.5; 0.0; 1.0; 1.0 |]
            "clamp -1 1 d0", [| 0.0; 1.0; 1.0; 1.0; 1.0; 0.0 |]
            "clamp 0 inf", [| 0.0; 0.0; 0.0; 0.0; 1.0; 1.5 |]
            "clamp 0 inf d0", [| 0.0; 0.0; 0.0; 1.0; 1.0; 1.0 |]
            "greater u,v", [| 0.0; 0.0; 1.0; 0.0; 0.0 |]
            "greater_equal u,v", [| 0.0; 1.0; 1.0; 0.0; 1.0 |]
            "less u,v", [| 1.0; 0.0; 0.0; 0.0; 0.0 |]
            "less_equal u,v", [| 1.0; 1.0; 0.0; 0.0; 1.0 |]
            "equal u,v", [| 0.0; 1.0; 0.0; 0.0; 1.0 |]
            "where, inf unselected", [| 2.0; 4.0 |]
            "where, inf unselected d0", [| 1.0; 0.0 |]
            "where, inf unselected d1", [| 0.0; 1.0 |]
            "log1p", [| 9.999999999500001e-11; -0.6931471805599453; 0.26236426446749106; 1.791759469228055; -1e-300 |]
            "log1p d0", [| 0.9999999999; 2.0; 0.7692307692307692; 0.16666666666666666; 1.0 |]
            "expm1", [| 1.00000000005e-10; -9.999950000166666e-06; 0.10517091807564763; -0.3934693402873666; 19.085536923187668; -1.0; 1.0142320547350045e+304; 1e-300 |]
            "expm1 d0", [| 1.0000000001; 0.9999900000499998; 1.1051709180756477; 0.6065306597126334; 20.085536923187668; 0.0; 1.0142320547350045e+304; 1.0 |]
            "reciprocal", [| -0.5; 2.0; 0.25; 0.3333333333333333 |]
            "reciprocal d0", [| -0.25; -4.0; -0.0625; -0.1111111111111111 |]
            "erf", [| -0.9999779095030014; -0.5204998778130465; 0.0; 0.3286267594591274; 0.9953222650189527; 1.0 |]
            "erf d0", [| 0.00013925305194674786; 0.8787825789354448; 1.1283791670955126; 1.031260909618963; 0.020666985354092053; 2.6173012392492645e-16 |]
            "gelu", [| -0.00404969409489031; -0.15426876936299344; 0.0; 0.5306254434438489; 2.99595030590511 |]
            "gelu d0", [| -0.01194564720418392; 0.13250487534383712; 0.5; 0.9766141011336599; 1.011945647204184 |]
            "gelu exact", [| -7.619853024160526e-23; -0.0040496940948902835; -0.15426876936299344; 0.0; 0.5306254434438489; 2.99595030590511 |]
            "sign", [| -1.0; 0.0; 1.0 |]
            "sign d0", [| 0.0; 0.0; 0.0 |]
            "pow", [| 8.0; 2.8284271247461903; 1.7320508075688772; 0.0; 1.0; 1.0; -8.0 |]
            "pow d0", [| 12.0; -8.485281374238571; 0.28867513459481287; 0.0; 0.0; 0.0; 12.0 |]
            "pow d1", [| 5.545177444479562; -1.9605162869370945; 1.902852301792692; 0.0; 0.0; 0.6931471805599453; nan |]
        ]

let private value (rows: float list list) = Value.FromRows(rows |> List.map Array.ofList |> Array.ofList)
let private M = value [ [ 0.5; -1.25; 2.0 ]; [ 1.5; 0.75; -0.5 ] ]
let private r = Value.FromArray [| 0.25; 2.0; -1.5 |]
let private R = value [ [ 0.25; 2.0; -1.5 ] ]
let private c = value [ [ 1.25 ]; [ -0.75 ] ]
let private s = Value.Scalar 0.5
let private W = value [ [ 1.0; -2.0; 0.5 ]; [ 3.0; 0.25; -1.0 ] ]
let private P = M.Map(fun x -> abs x + 0.5)

/// The library's value of f at xs and the gradients of sum(w ⊙ f(xs)) (w = ones when None), each against PyTorch's,
/// but for the elements (name, index, value) of `instead`, where the library deliberately differs.
let private checkWith instead (tol: Tolerance) (name: string) (f: Expr list -> Expr) (xs: Value list) (w: Value option) =
    let vars = xs |> List.mapi (fun k x -> Expr.Var($"x{k}", x) :> Expr)
    let y = f vars
    let weights = match w with Some w -> Expr.Const w | None -> Expr.Ones y.Shape
    let gs = AD.Gradients(Expr.Sum(weights * y), Array.ofList vars)

    let against what (expected: float[]) (actual: Value) =
        let actual = T.ofValue actual
        if actual.Data.Length <> expected.Length then
            Assert.Fail $"{what}: {actual.Data.Length} elements, PyTorch has {expected.Length}"

        // Equal (infinities included), both NaN, or within the tolerance.
        let agree (e: float) (a: float) = e = a || Double.IsNaN e && Double.IsNaN a || within tol e a

        match Seq.zip expected actual.Data |> Seq.tryFindIndex (fun (e, a) -> not (agree e a)) with
        | Some k -> Assert.Fail $"{what} against PyTorch: element {k} is {g17 actual.Data[k]}, expected {g17 expected[k]} (tolerance {tol})\n  actual = {fmt actual}"
        | None -> ()

    let expected key =
        Array.mapi (fun k e -> instead |> List.tryPick (fun (n, i, x) -> if n = key && i = k then Some x else None) |> Option.defaultValue e) reference[key]

    against name (expected name) y.Value
    gs |> Seq.iteri (fun k g -> against $"{name} d{k}" (expected $"{name} d{k}") g.Value)

let private check tol name f xs w = checkWith [] tol name f xs w

/// Arithmetic and selection agree with PyTorch to the last bit or two.
let private close = { Absolute = 1e-15; Relative = 4e-16 }
/// Kernels of the library (log, exp, erf) within a few ulps of PyTorch's.
let private ulps = { Absolute = 1e-300; Relative = 2e-15 }

let private pairs = [ "M,r", M, r; "r,M", r, M; "M,R", M, R; "M,c", M, c; "c,M", c, M; "c,R", c, R; "r,c", r, c; "s,M", s, M ]

let private binaries: (string * (Expr -> Expr -> Expr)) list =
    [
        "add", (+)
        "sub", (-)
        "mul", (*)
        "div", (/)
        "maximum", fun a b -> Expr.Maximum(a, b)
        "minimum", fun a b -> Expr.Minimum(a, b)
    ]

let ``every broadcasting pair of every binary op: values and gradients summed back over the broadcast axes, as PyTorch`` () =
    for opName, f in binaries do
        for pairName, a, b in pairs do
            check close $"{opName} {pairName}" (fun xs -> f xs[0] xs[1]) [ a; b ] (Some W)

    for pairName, a, b in [ "P,r", P, r; "c+2,M", c + 2.0, M; "P,c", P, c ] do
        check ulps $"pow {pairName}" (fun xs -> Expr.Pow(xs[0], xs[1])) [ a; b ] (Some W)

let ``where broadcasts its condition and choices; the gradient goes to the chosen input only`` () =
    let cond = value [ [ 1.0 ]; [ 0.0 ] ]
    check close "where c,M,r" (fun xs -> Expr.Where(Expr.Const cond, xs[0], xs[1])) [ M; r ] (Some W)
    // A mask computed from values: the comparison is its own node, and no gradient reaches M through it.
    check close "where M>0.6,M,s" (fun xs -> Expr.Where(Expr.Greater(xs[0], 0.6), xs[0], xs[1])) [ M; s ] (Some W)
    Assert.That((Expr.Greater(Expr.Const M, 0.6)).Value.ToArray(), Is.EqualTo reference["mask M > 0.6"])
    // The unselected infinity reaches neither the value nor the gradient.
    let inputs = [ Value.FromArray [| 2.0; 3.0 |]; Value.FromArray [| infinity; 4.0 |] ]
    check close "where, inf unselected" (fun xs -> Expr.Where(Expr.Const(Value.FromArray [| 1.0; 0.0 |]), xs[0], xs[1])) inputs None

let ``maximum and minimum split the gradient evenly at ties, as torch.maximum and torch.minimum`` () =
    let a, b = Value.FromArray [| 1.0; 2.0; 3.0; 2.0; -1.0 |], Value.FromArray [| 1.0; 3.0; 2.0; 2.0; -1.0 |]
    check close "maximum ties" (fun xs -> Expr.Maximum(xs[0], xs[1])) [ a; b ] None
    check close "minimum ties" (fun xs -> Expr.Minimum(xs[0], xs[1])) [ a; b ] None
    let inf = Value.FromArray [| infinity; -infinity |]
    check close "maximum infinite ties" (fun xs -> Expr.Maximum(xs[0], xs[1])) [ inf; inf ] None
    // The tangent splits the same way (JVP and VJP are one linear map).
    let struct (_, t) = AD.Jvp(Func<Expr, Expr>(fun x -> Expr.Maximum(x, Expr.Const b))).Invoke(a, Value.FromArray [| 1.0; 1.0; 1.0; 1.0; 1.0 |]).ToTuple() |> fun (v, t) -> struct (v, t)
    Assert.That(t.ToArray(), Is.EqualTo reference["maximum ties d0"])

let ``clamp passes the gradient inside and at its bounds, as torch.clamp; an infinite bound clamps one side`` () =
    let x = Value.FromArray [| -2.0; -1.0; -0.5; 0.0; 1.0; 1.5 |]
    check close "clamp -1 1" (fun xs -> Expr.Clamp(xs[0], -1.0, 1.0)) [ x ] None
    check close "clamp 0 inf" (fun xs -> Expr.Clamp(xs[0], 0.0, infinity)) [ x ] None
    Assert.That(Double.IsNaN((Expr.Clamp(Expr.Const nan, -1.0, 1.0)).Value.ToScalar()), "NaN stays NaN")

let ``the comparisons give 0/1 masks as PyTorch's, NaN comparing false, and no gradient`` () =
    let u, v = Value.FromArray [| 1.0; 2.0; 3.0; nan; -0.0 |], Value.FromArray [| 2.0; 2.0; 2.0; 2.0; 0.0 |]

    for name, f in
        [
            "greater", (fun a b -> Expr.Greater(a, b))
            "greater_equal", (fun a b -> Expr.GreaterEqual(a, b))
            "less", (fun a b -> Expr.Less(a, b))
            "less_equal", (fun a b -> Expr.LessEqual(a, b))
            "equal", (fun a b -> Expr.Equal(a, b))
        ] do
        let x = Expr.Var("u", u)
        let mask = f x (Expr.Const v)
        Assert.That(mask.Value.ToArray(), Is.EqualTo reference[$"{name} u,v"], name)
        Assert.That((AD.Gradients(Expr.Sum(mask * x), [| x :> Expr |])[0]).Value.ToArray(), Is.EqualTo reference[$"{name} u,v"], $"{name}: d sum(mask ⊙ u)/du is the mask, nothing through the mask")

    // The C# operators are the builders.
    let a, b = Expr.Const u, Expr.Const v
    Assert.That((Expr.op_GreaterThan(a, b)).Value.ToArray(), Is.EqualTo reference["greater u,v"])
    Assert.That((Expr.op_GreaterThanOrEqual(a, b)).Value.ToArray(), Is.EqualTo reference["greater_equal u,v"])
    Assert.That((Expr.op_LessThan(a, b)).Value.ToArray(), Is.EqualTo reference["less u,v"])
    Assert.That((Expr.op_LessThanOrEqual(a, b)).Value.ToArray(), Is.EqualTo reference["less_equal u,v"])

let ``log1p, expm1, reciprocal, erf, gelu, sign and pow with a tensor exponent match PyTorch float64`` () =
    let v (xs: float list) = Value.FromArray(Array.ofList xs)
    check ulps "log1p" (fun xs -> Expr.Log1p xs[0]) [ v [ 1e-10; -0.5; 0.3; 5.0; -1e-300 ] ] None
    // expm1's derivative is eˣ, where PyTorch's is expm1(x) + 1, which rounds e⁻⁴⁰ to 0: there the reference is eˣ.
    checkWith [ "expm1 d0", 5, exp -40.0 ] ulps "expm1" (fun xs -> Expr.Expm1 xs[0]) [ v [ 1e-10; -1e-5; 0.1; -0.5; 3.0; -40.0; 700.0; 1e-300 ] ] None
    check close "reciprocal" (fun xs -> Expr.Reciprocal xs[0]) [ v [ -2.0; 0.5; 4.0; 3.0 ] ] None
    check ulps "erf" (fun xs -> Expr.Erf xs[0]) [ v [ -3.0; -0.5; 0.0; 0.3; 2.0; 6.0 ] ] None
    // For x < 0 PyTorch's 1 + erf(x/√2) cancels (30 ulps at −3); the library's erfc form is held to the exact values.
    let geluTail = { Absolute = 1e-300; Relative = 1e-14 }
    check geluTail "gelu" (fun xs -> Expr.Gelu xs[0]) [ v [ -3.0; -0.5; 0.0; 0.7; 3.0 ] ] None
    check close "sign" (fun xs -> Expr.Sign xs[0]) [ v [ -2.0; 0.0; 3.0 ] ] None
    // Exact at whole exponents (2³ = 8, (−2)³ = −8); zeros where the base or the exponent is 0, as PyTorch's.
    check close "pow" (fun xs -> Expr.Pow(xs[0], xs[1])) [ v [ 2.0; 0.5; 3.0; 0.0; 0.0; 2.0; -2.0 ]; v [ 3.0; -1.5; 0.5; 2.0; 0.0; 0.0; 3.0 ] ] None
    Assert.That((Expr.Pow(Expr.Const 2.0, Expr.Const 10.0)).Value.ToScalar(), Is.EqualTo 1024.0)
    // Against the exact x·Φ(x) (MathNet's erfc: within 1e-14), also in the far tail, where PyTorch's gelu(−10) is 0.
    let ours = (Expr.Gelu(Expr.Const(Value.FromArray [| -10.0; -3.0; -0.5; 0.0; 0.7; 3.0 |]))).Value.ToArray()

    Array.iteri2
        (fun k exact x -> Assert.That(within geluTail exact x, $"gelu element {k} = {g17 x}, exactly {g17 exact}"))
        reference["gelu exact"]
        ours
    // Reciprocal is 1/x with its infinities; safe_reciprocal (the norm's) stays 0 at 0.
    Assert.That((Expr.Reciprocal(Expr.Const 0.0)).Value.ToScalar(), Is.EqualTo infinity)
    Assert.That((Expr.Reciprocal(Expr.Const -0.0)).Value.ToScalar(), Is.EqualTo -infinity)

let ``values broadcast as graphs do: a column onto a matrix, a column with a row`` () =
    let mc = M + c
    Assert.That(mc.ToRowMajorArray(), Is.EqualTo [| 1.75; 0.0; 3.25; 0.75; 0.0; -1.25 |])
    Assert.That((c * r).Shape, Is.EqualTo(Shape.Matrix(2, 3)))
    assertBitIdentical "c * r" (Expr.Const c * Expr.Const r).Value (c * r)
    throws<ShapeMismatchException> (fun () -> M + Value.FromArray [| 1.0; 2.0 |] |> ignore) |> ignore

let ``BroadcastTo and SumTo are each other's transposes for every broadcast form`` () =
    let rng = Random(stableSeed "sumto")

    for source, target in
        [
            Shape.Scalar, Shape.Matrix(2, 3)
            Shape.Vector 3, Shape.Matrix(2, 3)
            Shape.Matrix(1, 3), Shape.Matrix(2, 3)
            Shape.Matrix(2, 1), Shape.Matrix(2, 3)
            Shape.Matrix(1, 1), Shape.Matrix(2, 3)
            Shape.Vector 1, Shape.Vector 4
            Shape.Vector 3, Shape.Matrix(1, 3)
        ] do
        let x, u = randomOf rng source, randomOf rng target
        let bx = Expr.BroadcastTo(Expr.Const(T.toValue x), target)
        let su = Expr.SumTo(Expr.Const(T.toValue u), source)
        Assert.That((bx.Shape, su.Shape), Is.EqualTo((target, source)))
        Assert.That(T.dot (T.ofValue bx.Value) u, Is.EqualTo(T.dot x (T.ofValue su.Value)).Within(1e-12), $"{source} → {target}")

    throws<ShapeMismatchException> (fun () -> Expr.BroadcastTo(Expr.Ones(Shape.Vector 2), Shape.Matrix(2, 3)) |> ignore) |> ignore

/// A small model using every new op (a leaky gate by where, maximum, clamp, gelu, erf, log1p, expm1, pow with a tensor
/// exponent, a column bias): GradCheck at orders 1 and 2.
let private model (x: Expr) (b: Expr) =
    let h = Expr.Gelu(x + b) + Expr.Where(Expr.Greater(x, 0.0), x, 0.1 * x)
    let g = Expr.Maximum(h, Expr.Minimum(x, b)) + Expr.Clamp(x, -0.8, 0.8) * Expr.Erf x
    Expr.Sum(g * g) + Expr.Sum(Expr.Log1p(Expr.Pow(Expr.Exp x, b) * 0.5) + Expr.Expm1(0.1 * x))

let ``a model of the new ops passes GradCheck at orders 1 and 2, in x and in a column bias`` () =
    let x = value [ [ 0.3; -1.1; 0.6 ]; [ -0.35; 0.9; -0.2 ] ]
    let b = value [ [ 0.45 ]; [ -0.7 ] ]
    assertGradCheckOrders12 "in x, " (fun x -> model x (Expr.Const b)) x
    assertGradCheckOrders12 "in b, " (fun b -> model (Expr.Const x) b) b

open Expecto

[<Tests>]
let tests =
    testList "Selection" [
        testCase "every broadcasting pair of every binary op: values and gradients summed back over the broadcast axes, as PyTorch" ``every broadcasting pair of every binary op: values and gradients summed back over the broadcast axes, as PyTorch``
        testCase "where broadcasts its condition and choices; the gradient goes to the chosen input only" ``where broadcasts its condition and choices; the gradient goes to the chosen input only``
        testCase "maximum and minimum split the gradient evenly at ties, as torch.maximum and torch.minimum" ``maximum and minimum split the gradient evenly at ties, as torch.maximum and torch.minimum``
        testCase "clamp passes the gradient inside and at its bounds, as torch.clamp; an infinite bound clamps one side" ``clamp passes the gradient inside and at its bounds, as torch.clamp; an infinite bound clamps one side``
        testCase "the comparisons give 0/1 masks as PyTorch's, NaN comparing false, and no gradient" ``the comparisons give 0/1 masks as PyTorch's, NaN comparing false, and no gradient``
        testCase "log1p, expm1, reciprocal, erf, gelu, sign and pow with a tensor exponent match PyTorch float64" ``log1p, expm1, reciprocal, erf, gelu, sign and pow with a tensor exponent match PyTorch float64``
        testCase "values broadcast as graphs do: a column onto a matrix, a column with a row" ``values broadcast as graphs do: a column onto a matrix, a column with a row``
        testCase "BroadcastTo and SumTo are each other's transposes for every broadcast form" ``BroadcastTo and SumTo are each other's transposes for every broadcast form``
        testCase "a model of the new ops passes GradCheck at orders 1 and 2, in x and in a column bias" ``a model of the new ops passes GradCheck at orders 1 and 2, in x and in a column bias``
    ]
