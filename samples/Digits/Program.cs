using System;
using System.IO;
using System.Threading;
using Functional.Autodiff.Samples.Digits;
using Functional.Autodiff.Training;
using Spectre.Console;

// dotnet run --project samples/Digits [epochs]
// Trains DigitsMlp on the digits (data/digits.csv.gz) with a live progress bar, then prints the test accuracy.
// Ctrl+C stops the run before the next step.

var epochs = args.Length > 0 ? int.Parse(args[0]) : 30;
const int seed = 1;
var all = Functional.Autodiff.Datasets.Digits.Load(Path.Combine(AppContext.BaseDirectory, "digits.csv.gz"));
var (train, test) = DigitsMlp.Split(all);
AnsiConsole.MarkupLine($"[bold]Digits[/]: {all.Count} images, {train.Length} to train on, {test.Length} to test; " +
                       $"MLP 64 → {DigitsMlp.Hidden} (tanh) → 10, Adam(lr = 0.01), batches of 32, {epochs} epochs, seed {seed}");

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cancel.Cancel(); };
var stepsPerEpoch = (train.Length + 31) / 32;
try
{
    var p = AnsiConsole.Progress()
        .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
        .Start(ctx =>
        {
            var task = ctx.AddTask("training", maxValue: epochs * stepsPerEpoch);
            var progress = new SyncProgress(r =>
            {
                task.Value = r.Step;
                task.Description = $"epoch {r.Epoch + 1}/{epochs}  loss {r.Loss:F4}";
            });
            return DigitsMlp.Train(train, epochs, seed, progress, cancel.Token);
        });
    AnsiConsole.MarkupLine($"test accuracy: [green]{DigitsMlp.Accuracy(p, test):P2}[/] ({test.Length} images)");
}
catch (OperationCanceledException)
{
    AnsiConsole.MarkupLine("[yellow]cancelled[/]");
}

/// <summary>Reports on the training thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
internal sealed class SyncProgress(Action<TrainingProgress> report) : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value) => report(value);
}
