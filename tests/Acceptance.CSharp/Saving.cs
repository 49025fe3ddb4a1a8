using System;
using System.IO;
using System.Linq;
using System.Text.Json;
using Functional.Autodiff.Serialization;
using NUnit.Framework;

namespace Functional.Autodiff.Acceptance;

/// <summary>From C#: saving and loading parameters with plain System.Text.Json, and a graph with GraphJson.</summary>
public class Saving
{
    /// <summary>A checkpoint of one's own: a record holding the step and the parameters.</summary>
    public sealed record Checkpoint(int Step, Params Weights);

    /// <summary>Parameters trained a few steps, saved to a file and loaded, come back with their names, order and bits.</summary>
    [Test]
    public void ParamsSaveToAFileAndLoadBitForBit()
    {
        var p = Params.Of(("w", Value.FromRows([0.1, -0.0], [1e-310, 3])), ("b", Value.FromArray(double.NaN, double.PositiveInfinity)));
        var loss = (ParamVars v) => Expr.Sum(Expr.Square(v["w"] - 1.0));
        for (var step = 0; step < 3; step++) p -= 0.1 * AD.Grad(loss)(p).Map((name, g) => name == "w" ? g : g.ZerosLike());

        var path = Path.Combine(Path.GetTempPath(), $"params-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, JsonSerializer.Serialize(p));
            var loaded = JsonSerializer.Deserialize<Params>(File.ReadAllText(path))!;
            Assert.That(loaded.Names, Is.EqualTo(p.Names));
            foreach (var (name, value) in p)
                Assert.That(loaded[name].ToArray().Select(BitConverter.DoubleToInt64Bits), Is.EqualTo(value.ToArray().Select(BitConverter.DoubleToInt64Bits)), name);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Params inside a record of one's own use the converter too, with default options.</summary>
    [Test]
    public void ParamsInsideARecordRoundTrip()
    {
        var checkpoint = new Checkpoint(7, Params.Of(("w", Value.FromArray(1.5, -2.5)), ("b", 0.25)));
        var json = JsonSerializer.Serialize(checkpoint);
        Assert.That(json, Is.EqualTo("""{"Step":7,"Weights":{"w":{"shape":[2],"data":[1.5,-2.5]},"b":{"shape":[],"data":0.25}}}"""));
        var back = JsonSerializer.Deserialize<Checkpoint>(json)!;
        Assert.That(back.Step, Is.EqualTo(7));
        Assert.That(back.Weights["w"], Is.EqualTo(checkpoint.Weights["w"]));
        Assert.That(back.Weights["b"], Is.EqualTo(checkpoint.Weights["b"]));
    }

    /// <summary>A model's loss graph saved with GraphJson and loaded onto new variables computes the same loss.</summary>
    [Test]
    public void AGraphSavesAndLoads()
    {
        var w = Expr.Var("w", Value.FromArray(0.5, -1.0));
        var x = Expr.Const(Value.FromRows([1.0, 2.0], [3.0, 4.0]));
        var loss = Expr.MeanSquaredError(Expr.Tanh(Expr.MatMul(x, w)), Expr.Const(Value.FromArray(0.0, 1.0)));

        var loaded = GraphJson.Deserialize(GraphJson.Serialize(loss));
        Assert.That(loaded.Root.Value, Is.EqualTo(loss.Value));
        Assert.That(loaded.Variable("w").Value, Is.EqualTo(w.Value));
        Assert.That(Graph.StructurallyEqual(GraphJson.Deserialize(GraphJson.Serialize(loss), new GraphJsonOptions { Variables = [w] }).Root, loss), Is.True);
        // The loaded graph is a graph like any other: its gradient is the original's.
        Assert.That(AD.Gradients(loaded.Root, loaded.Variable("w"))[0].Value, Is.EqualTo(AD.Gradients(loss, w)[0].Value));
    }
}
