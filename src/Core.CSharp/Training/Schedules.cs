using System;

namespace Functional.Autodiff.Training;

/// <summary>
/// Learning-rate schedules as pure functions of the step: <c>schedule(t)</c> is the rate of update <c>t</c>, counting
/// from 0 (the number of updates already applied, PyTorch's <c>last_epoch</c> when the scheduler steps after every
/// optimizer step). The values are the closed forms of <c>torch.optim.lr_scheduler</c>'s StepLR, CosineAnnealingLR and
/// LinearLR. Use one with <see cref="Optimizer.ScaleByLearningRate(Func{int, double})"/> in a chain.
/// </summary>
/// <example>
/// <code>
/// var opt = Optimizer.Chain(Optimizer.ScaleByAdam(), Optimizer.ScaleByLearningRate(Schedules.Cosine(1e-3, tMax: 1000)));
/// </code>
/// </example>
public static class Schedules
{
    /// <summary>The same rate at every step.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> is not a finite number above 0.</exception>
    public static Func<int, double> Constant(double lr)
    {
        Optimizer.CheckLr(lr, nameof(lr));
        return _ => lr;
    }

    /// <summary>Step decay (PyTorch's <c>StepLR</c>): <c>lr · gamma^⌊t / stepSize⌋</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0 or NaN, <paramref name="stepSize"/> &lt; 1,
    /// or <paramref name="gamma"/> not in (0, 1].</exception>
    public static Func<int, double> StepDecay(double lr, int stepSize, double gamma = 0.1)
    {
        Optimizer.CheckLr(lr, nameof(lr));
        if (stepSize < 1) throw new ArgumentOutOfRangeException(nameof(stepSize), stepSize, UserCode.Mark($"Schedules.StepDecay needs stepSize ≥ 1, but got {stepSize}."));
        if (!(gamma > 0 && gamma <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, UserCode.Mark($"Schedules.StepDecay needs gamma in (0, 1], but got {gamma}."));
        return t => lr * Math.Pow(gamma, Step(t) / stepSize);
    }

    /// <summary>Cosine annealing (PyTorch's <c>CosineAnnealingLR</c>, closed form):
    /// <c>etaMin + (lr − etaMin) · (1 + cos(π t / tMax)) / 2</c>, periodic with period 2·tMax as PyTorch's is.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0 or NaN, <paramref name="tMax"/> &lt; 1,
    /// or <paramref name="etaMin"/> negative, NaN or above <paramref name="lr"/>.</exception>
    public static Func<int, double> Cosine(double lr, int tMax, double etaMin = 0)
    {
        Optimizer.CheckLr(lr, nameof(lr));
        if (tMax < 1) throw new ArgumentOutOfRangeException(nameof(tMax), tMax, UserCode.Mark($"Schedules.Cosine needs tMax ≥ 1, but got {tMax}."));
        if (!(etaMin >= 0 && etaMin <= lr)) throw new ArgumentOutOfRangeException(nameof(etaMin), etaMin, UserCode.Mark($"Schedules.Cosine needs 0 ≤ etaMin ≤ lr, but got etaMin {etaMin} with lr {lr}."));
        return t => etaMin + (lr - etaMin) * (1 + Math.Cos(Math.PI * Step(t) / tMax)) / 2;
    }

    /// <summary>Linear warm-up (PyTorch's <c>LinearLR</c>, closed form): the rate goes linearly from
    /// <c>lr · startFactor</c> at step 0 to <c>lr · endFactor</c> at step <paramref name="totalIters"/> and stays there.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0 or NaN, a factor outside (0, 1]
    /// (<paramref name="endFactor"/> may be any value in [0, 1]), or <paramref name="totalIters"/> &lt; 1.</exception>
    public static Func<int, double> LinearWarmup(double lr, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5)
    {
        Optimizer.CheckLr(lr, nameof(lr));
        if (!(startFactor > 0 && startFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(startFactor), startFactor, UserCode.Mark($"Schedules.LinearWarmup needs startFactor in (0, 1], but got {startFactor}."));
        if (!(endFactor >= 0 && endFactor <= 1)) throw new ArgumentOutOfRangeException(nameof(endFactor), endFactor, UserCode.Mark($"Schedules.LinearWarmup needs endFactor in [0, 1], but got {endFactor}."));
        if (totalIters < 1) throw new ArgumentOutOfRangeException(nameof(totalIters), totalIters, UserCode.Mark($"Schedules.LinearWarmup needs totalIters ≥ 1, but got {totalIters}."));
        return t => lr * (startFactor + (endFactor - startFactor) * Math.Min(totalIters, Step(t)) / totalIters);
    }

    private static int Step(int t) =>
        t >= 0 ? t : throw new ArgumentOutOfRangeException(nameof(t), t, UserCode.Mark($"A schedule's step counts updates from 0, but got {t}."));
}
