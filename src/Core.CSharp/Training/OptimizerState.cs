using System;
using System.Collections.Immutable;

namespace Functional.Autodiff.Training;

/// <summary>
/// The state of an <see cref="Optimizer"/>: an ordinary immutable value, threaded through the training fold.
/// It holds the number of updates applied and every buffer of the optimizer's stages (momentum, Adam's moments, …),
/// each a <see cref="Params"/> of the parameters' names and shapes, keyed <c>"position.name"</c> by the stage's place in
/// the chain (<c>"0.exp_avg"</c>, <c>"0.exp_avg_sq"</c> for Adam). It saves with plain System.Text.Json, every number
/// exact: <c>JsonSerializer.Serialize(state)</c> and <c>JsonSerializer.Deserialize&lt;OptimizerState&gt;(json)</c>.
/// </summary>
/// <param name="Step">How many updates have been applied: 0 after <see cref="Optimizer.Init"/>. The next update's
/// schedules and bias corrections read it (PyTorch's <c>state["step"]</c> before the step).</param>
/// <param name="Buffers">The stages' buffers by key, each with the parameters' names, order and shapes.</param>
public sealed record OptimizerState(int Step, ImmutableSortedDictionary<string, Params> Buffers)
{
    /// <summary>Value equality: the same step, the same keys and, under each, the same names, shapes and bits.</summary>
    public bool Equals(OptimizerState? other)
    {
        if (other is null || other.Step != Step || other.Buffers.Count != Buffers.Count) return false;
        foreach (var (key, p) in Buffers)
        {
            if (!other.Buffers.TryGetValue(key, out var q) || p.Count != q.Count) return false;
            for (var k = 0; k < p.Count; k++)
                if (p[k].Key != q[k].Key || !SameBits(p[k].Value, q[k].Value)) return false;
        }
        return true;
    }

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Step, Buffers.Count);

    private static bool SameBits(Value a, Value b)
    {
        if (a.Shape != b.Shape) return false;
        var (x, y) = (a.ToArray(), b.ToArray());
        for (var k = 0; k < x.Length; k++)
            if (BitConverter.DoubleToInt64Bits(x[k]) != BitConverter.DoubleToInt64Bits(y[k])) return false;
        return true;
    }
}

/// <summary>What <see cref="Optimizer.Step"/> does with a gradient that has a NaN or an infinity.</summary>
public enum NonFiniteGradients
{
    /// <summary>Throw <see cref="NonFiniteGradientException"/> naming the parameter and the step (the default).</summary>
    Throw,

    /// <summary>Skip the step: return the parameters and the state unchanged (the step count does not advance),
    /// as PyTorch's <c>GradScaler</c> skips <c>optimizer.step()</c>.</summary>
    Skip,
}

/// <summary>
/// A gradient given to <see cref="Optimizer.Step"/> has a NaN or an infinity: the update is refused, so the
/// parameters are never silently poisoned. The message names the parameter, the element and the step.
/// </summary>
public sealed class NonFiniteGradientException : ArgumentException
{
    /// <summary>Creates the exception for parameter <paramref name="parameter"/> at step <paramref name="step"/>.</summary>
    public NonFiniteGradientException(string parameter, int step, int element, double value)
        : base(UserCode.Mark($"The gradient of parameter '{parameter}' is {value} at element {element} at step {step} " +
               "(updates counted from 0, the state's Step): the update is refused so the parameters stay finite. Find where it " +
               "comes from with Anomaly.Check, or skip such steps with optimizer.WithNonFiniteGradients(NonFiniteGradients.Skip)."), "gradients")
    {
        Parameter = parameter;
        Step = step;
    }

    /// <summary>The name of the parameter whose gradient is not finite.</summary>
    public string Parameter { get; }

    /// <summary>The state's step count when the gradient was given (0 for the first update).</summary>
    public int Step { get; }
}
