/// The digits data set shipped in data/ (issue 13): the loader reads the gzipped CSV into 1,797 images with the
/// counts and pixels scikit-learn's load_digits gives, and names the line of a bad file.
module Functional.Autodiff.Tests.Digits

open System
open System.IO
open System.IO.Compression
open System.Text
open NUnit.Framework
open Functional.Autodiff
open Functional.Autodiff.Datasets
open Functional.Autodiff.Tests.Common

/// data/digits.csv.gz of the repository.
let path = Path.Combine(repoRoot, "data", "digits.csv.gz")

let private digits = lazy (Digits.Load path)

let ``1797 images of 64 pixels, with scikit-learn's class counts`` () =
    let d = digits.Value
    Assert.That(d.Count, Is.EqualTo 1797)
    Assert.That(d |> Seq.forall (fun x -> x.Pixels.Length = 64 && Seq.forall (fun p -> p >= 0.0 && p <= 16.0) x.Pixels))
    let counts = d |> Seq.countBy (fun x -> x.Label) |> Seq.sortBy fst |> Seq.map snd |> List.ofSeq
    Assert.That(counts, Is.EqualTo [ 178; 182; 177; 183; 181; 182; 181; 179; 174; 180 ])
    // sklearn.datasets.load_digits(): data.sum()
    Assert.That(d |> Seq.sumBy (fun x -> Seq.sum x.Pixels), Is.EqualTo 561718.0)

let ``pinned pixels and labels, as load_digits gives them`` () =
    let d = digits.Value
    Assert.That(d |> Seq.take 5 |> Seq.map (fun x -> x.Label) |> List.ofSeq, Is.EqualTo [ 0; 1; 2; 3; 4 ])
    Assert.That(d[0].Pixels |> Seq.take 8 |> List.ofSeq, Is.EqualTo [ 0.0; 0.0; 5.0; 13.0; 9.0; 1.0; 0.0; 0.0 ])
    Assert.That(d[999].Pixels |> Seq.skip 10 |> Seq.take 4 |> List.ofSeq, Is.EqualTo [ 9.0; 3.0; 9.0; 8.0 ])
    Assert.That(d[999].Label, Is.EqualTo 3)
    Assert.That(d[1796].Pixels |> Seq.skip 60 |> List.ofSeq, Is.EqualTo [ 14.0; 12.0; 1.0; 0.0 ])
    Assert.That(d[1796].Label, Is.EqualTo 8)

let ``Inputs scales the pixels to [0, 1] a row per image, Labels keeps the order`` () =
    let d = digits.Value |> Seq.take 3 |> Array.ofSeq
    let x = Digits.Inputs d
    Assert.That(x.Shape, Is.EqualTo(Shape.Matrix(3, 64)))
    Assert.That(x[0, 3], Is.EqualTo(13.0 / 16.0))
    Assert.That(Digits.Labels d, Is.EqualTo [| 0; 1; 2 |])
    Assert.That(Digits.Targets(d).ToArray(), Is.EqualTo [| 0.0; 1.0; 2.0 |], "the labels as a vector, for a classes input")
    throws<ArgumentException> (fun () -> Digits.Inputs [||] |> ignore) |> ignore

let private gz (text: string) =
    let ms = new MemoryStream()
    (use z = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen = true)
     z.Write(Encoding.UTF8.GetBytes text))
    ms.Position <- 0L
    ms

let ``a bad file names the line and what is wrong`` () =
    let row label = String.Join(",", Array.create 64 "1") + "," + label
    let e = throws<InvalidDataException> (fun () -> Digits.Load(gz (row "3" + "\n" + row "12" + "\n")) |> ignore)
    Assert.That(e.Message, Does.Contain("line 2 has '12' for the label").And.Contain("Digits.fs:"))
    let e = throws<InvalidDataException> (fun () -> Digits.Load(gz "1,2,3\n") |> ignore)
    Assert.That(e.Message, Does.Contain "line 1 has 3 fields")
    let e = throws<InvalidDataException> (fun () -> Digits.Load(gz (row "3" + "\n" + row("1").Replace("1,1,1,", "1,17,1,") + "\n")) |> ignore)
    Assert.That(e.Message, Does.Contain "line 2 has '17' for pixel 1")
    Assert.That((Digits.Load(gz (row "3" + "\n\n"))).Count, Is.EqualTo 1)
    throws<FileNotFoundException> (fun () -> Digits.Load "no/such/digits.csv.gz" |> ignore) |> ignore

open Expecto

[<Tests>]
let tests =
    testList "Digits" [
        testCase "1797 images of 64 pixels, with scikit-learn's class counts" ``1797 images of 64 pixels, with scikit-learn's class counts``
        testCase "pinned pixels and labels, as load_digits gives them" ``pinned pixels and labels, as load_digits gives them``
        testCase "Inputs scales the pixels to [0, 1] a row per image, Labels keeps the order" ``Inputs scales the pixels to [0, 1] a row per image, Labels keeps the order``
        testCase "a bad file names the line and what is wrong" ``a bad file names the line and what is wrong``
    ]
