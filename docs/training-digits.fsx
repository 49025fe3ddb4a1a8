(**
---
title: Training on the digits
category: Guides
categoryindex: 2
index: 4
---
*)
(*** hide ***)
// Every page in docs/ is an F# script that runs two ways, and starts with this cell:
//   dotnet build                        the build copies the libraries into docs/.lib (see .helpers/references.fsx)
//   dotnet fsi docs/training-digits.fsx runs the page: its claims are checked, and one that fails stops the script
//                                       (exit code 1); under dotnet fsi (the docs test) it trains 5 epochs, under
//                                       fsdocs (docs/build.sh) the full 30 the figures show
//   docs/build.sh                       renders every page with `fsdocs build --eval`
#load ".helpers/references.fsx" ".helpers/check.fsx" ".helpers/guides.fsx" ".helpers/graphviz.fsx"
#r ".lib/OxyPlot.dll"

open System
open System.IO
open Functional.Autodiff
open Functional.Autodiff.Datasets
open Functional.Autodiff.Training
open Functional.Autodiff.FSharp

/// fsdocs renders the page with the full run; the docs test runs it short.
let underFsdocs = Graphviz.underFsdocs

(**
# Training on the digits

This page trains a small neural network on a real data set, as a fold: the parameters are an F# record, the
optimizer's state is a value threaded through `List.fold`, and nothing is mutated. It is the model of the C# sample
`samples/Digits` (`dotnet run --project samples/Digits`): a hidden layer of 32 tanh units, softmax cross-entropy,
Adam with PyTorch's defaults and a learning rate of 0.01, batches of 32.

## The data

The UCI optical recognition of handwritten digits (E. Alpaydin, C. Kaynak, 1998; CC BY 4.0), in the copy
scikit-learn distributes, ships with the repository as `data/digits.csv.gz` (see `data/README.md`): 1,797 images of
8×8 pixels, each pixel a count from 0 to 16. `Digits.Load` reads the gzipped CSV; every fifth image is held out for
the test, as in the sample.
*)
let digits = Digits.Load(Path.Combine(__SOURCE_DIRECTORY__, "..", "data", "digits.csv.gz"))
let train = digits |> Seq.indexed |> Seq.filter (fun (i, _) -> i % 5 <> 0) |> Seq.map snd |> Array.ofSeq
let test = digits |> Seq.indexed |> Seq.filter (fun (i, _) -> i % 5 = 0) |> Seq.map snd |> Array.ofSeq
printfn "%d images: %d to train on, %d to test" digits.Count train.Length test.Length
(*** include-output ***)

(**
## The model

The parameters are a record; the function being differentiated receives the same record with `Expr` leaves, and
its gradient comes back as a record. They start as PyTorch's `nn.Linear` does, uniform in ±1/√fan-in.
*)
type Mlp<'T> = { W1: 'T; B1: 'T; W2: 'T; B2: 'T }

let init (seed: int) =
    let rng = Random seed
    let uniform rows cols fanIn =
        let a = 1.0 / sqrt (float fanIn)
        let d = Array.init (rows * cols) (fun _ -> (2.0 * rng.NextDouble() - 1.0) * a)
        if cols = 1 then Value.FromArray d else Value.FromRowMajor(rows, cols, ReadOnlySpan d)
    { W1 = uniform 64 32 64; B1 = uniform 32 1 64; W2 = uniform 32 10 32; B2 = uniform 10 1 32 }

let logits (p: Mlp<Expr>) (x: Value) = tanh (constant x *@ p.W1 + p.B1) *@ p.W2 + p.B2

let loss (batch: Digit seq) (p: Mlp<Expr>) =
    softmaxCrossEntropy (logits p (Digits.Inputs batch)) (Digits.Labels batch)

(**
The test accuracy is the model evaluated at the parameters, forward only: `evalAt` builds the graph once and
reads its value; nothing is differentiated.
*)
let accuracy (p: Mlp<Value>) =
    Metrics.Accuracy(evalAt (fun (q: Mlp<Expr>) -> logits q (Digits.Inputs test)) p, Digits.Labels test)

(**
## Training as a fold

An epoch is the training set shuffled (from the seed and the epoch's number) and cut into batches; a step is
`Optim.step`, which takes the parameters, the gradient and the state and returns the new parameters and state. The
fold over the epochs keeps, besides the parameters and the state, each epoch's mean batch loss and test accuracy:
the curves below.
*)
let epochs = if underFsdocs then 30 else 5
let opt = Optim.adam 0.01

let batchesOf (epoch: int) =
    let order = Array.copy train
    Random(1000 + epoch).Shuffle order
    Array.chunkBySize 32 order

let step (p, s) batch =
    let l, g = valueAndGrad (loss batch) p
    l, Optim.step opt (p, s) g

let p0 = init 1

let (pFinal, sFinal), history =
    [ 0 .. epochs - 1 ]
    |> List.mapFold
        (fun ps epoch ->
            let losses, ps' = Array.mapFold step ps (batchesOf epoch)
            (epoch + 1, Array.average losses, accuracy (fst ps')), ps')
        (p0, Optim.init opt p0)
    |> fun (h, ps) -> ps, h

for epoch, l, a in history do
    printfn "epoch %2d: mean loss %.4f, test accuracy %.2f %%" epoch l (100.0 * a)
(*** include-output ***)

(*** hide ***)
let finalAccuracy = accuracy pFinal
holds "the loss falls" (let _, l0, _ = history.Head in let _, l1, _ = List.last history in l1 < l0 / 5.0)
holds (sprintf "the test accuracy is at least %d %%" (if underFsdocs then 95 else 90)) (finalAccuracy >= (if underFsdocs then 0.95 else 0.90))
holds "the state counted every step" (sFinal.Step = epochs * 45)

(**
The same run through the library's fold, `Optim.fit` (the core's `Train.Fit`), gives the same parameters bit for
bit; it reports every step to an `IProgress` (epoch, batch, step, loss) and takes a `CancellationToken`, and prints
nothing itself. With `Optim.parallelValueAndGrad 2` as the gradient, each batch is split over two cores, and the
result equals the sequential sum of the chunks' gradients.
*)
let viaFit, _ =
    Optim.fit opt (fun p batch -> valueAndGrad (loss batch) p) (List.init epochs batchesOf) None Threading.CancellationToken.None p0

(*** hide ***)
holds "Optim.fit gives the fold's parameters bit for bit" (elements viaFit = elements pFinal)
near "test accuracy of Optim.fit's parameters" [| finalAccuracy |] (accuracy viaFit)

(**
## Curves

Drawn with OxyPlot (its managed SVG export, no native code), inline in the page.
*)
(*** hide ***)
open OxyPlot
open OxyPlot.Axes
open OxyPlot.Series

let chart (title: string) (yTitle: string) (points: (int * float) list) (color: OxyColor) =
    let model = PlotModel(Title = title, Background = OxyColors.White)
    model.Axes.Add(LinearAxis(Position = AxisPosition.Bottom, Title = "epoch", Minimum = 1.0, Maximum = float epochs, MajorGridlineStyle = LineStyle.Dot))
    model.Axes.Add(LinearAxis(Position = AxisPosition.Left, Title = yTitle, MajorGridlineStyle = LineStyle.Dot))
    let series = LineSeries(Color = color, MarkerType = MarkerType.Circle, MarkerSize = 3.0)
    for x, y in points do
        series.Points.Add(DataPoint(float x, y))
    model.Series.Add series
    let svg = SvgExporter.ExportToString(model, 480.0, 300.0, false)
    svg.Substring(svg.IndexOf "<svg") // inline in the HTML page: without the XML declaration

let lossSvg = chart "Training loss (mean over the epoch's batches)" "cross-entropy" [ for e, l, _ in history -> e, l ] OxyColors.SteelBlue
let accuracySvg = chart "Test accuracy" "accuracy (%)" [ for e, _, a in history -> e, 100.0 * a ] OxyColors.SeaGreen
holds "the curves are SVG" (lossSvg.Contains "<svg" && accuracySvg.Contains "polyline")

(*** hide ***)
$"<div style=\"display: flex; flex-wrap: wrap; gap: 1em\">{lossSvg}{accuracySvg}</div>"
(*** include-it-raw ***)

(**
## Confusion matrix

Row i counts the test images of digit i by the digit the model predicts for them (`Metrics.ConfusionMatrix`, as
scikit-learn's): the diagonal is the images it gets right.
*)
let predicted = Metrics.ArgMax(evalAt (fun (q: Mlp<Expr>) -> logits q (Digits.Inputs test)) pFinal)
let confusion = Metrics.ConfusionMatrix(Digits.Labels test, predicted, 10)

(*** hide ***)
holds "the confusion matrix counts every test image" (Seq.sum (Seq.cast<int> confusion) = test.Length)
holds "its diagonal is the accuracy" (abs (float (Seq.sum [ for i in 0..9 -> confusion[i, i] ]) / float test.Length - finalAccuracy) < 1e-12)

let table =
    let cell (i: int) (j: int) =
        let n = confusion[i, j]
        let style = if i = j then " style=\"background: #d8f0d8\"" elif n > 0 then " style=\"background: #f6d8d8\"" else ""
        $"<td{style}>{n}</td>"
    let header = String.concat "" [ for j in 0..9 -> $"<th>{j}</th>" ]
    let rows = String.concat "\n" [ for i in 0..9 -> $"<tr><th>{i}</th>" + String.concat "" [ for j in 0..9 -> cell i j ] + "</tr>" ]
    $"<table><tr><th>true \\ predicted</th>{header}</tr>\n{rows}</table>"

(*** hide ***)
table
(*** include-it-raw ***)

(*** hide ***)
for i in 0..9 do
    printfn "%d: %s" i (String.Join(" ", [| for j in 0..9 -> sprintf "%3d" confusion[i, j] |]))
(*** include-output ***)

(*** hide ***)
finish ()
