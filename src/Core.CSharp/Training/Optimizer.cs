using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;

namespace Functional.Autodiff.Training;

/// <summary>
/// An optimizer as a value: <see cref="Step"/> takes (parameters, gradients, state) and returns (new parameters, new
/// state); nothing is mutated and there is no hidden step counter (the count is in the <see cref="OptimizerState"/>).
/// An optimizer is a chain of gradient transformations, as in optax: each stage maps the updates (at first the
/// gradients) to new updates with its own buffers, and the last updates are added to the parameters.
/// <see cref="Chain"/> joins stages; the named optimizers (<see cref="Sgd"/>, <see cref="Adam"/>, <see cref="AdamW"/>,
/// <see cref="RMSprop"/>, <see cref="Adagrad"/>) are such chains, with <c>torch.optim</c>'s hyperparameters, defaults and numbers.
/// Parameters are <see cref="Params"/> or any structured value (<see cref="Step{T}"/>: a record, a tuple, a list, nested; see
/// <see cref="Tree"/>), with the same numbers; the optimizer is immutable and safe to share between threads.
/// </summary>
/// <example>
/// <code>
/// var opt = Optimizer.Adam(lr: 0.01);
/// var (p, state) = Enumerable.Range(0, 100).Aggregate((p0, opt.Init(p0)), (acc, _) => opt.Step(acc.Item1, AD.Grad(loss)(acc.Item1), acc.Item2));
/// </code>
/// </example>
public sealed class Optimizer
{
    private readonly ImmutableArray<Stage> stages;
    private readonly NonFiniteGradients nonFinite;

    private Optimizer(ImmutableArray<Stage> stages, NonFiniteGradients nonFinite)
    {
        this.stages = stages;
        this.nonFinite = nonFinite;
    }

    private Optimizer(Stage stage) : this([stage], NonFiniteGradients.Throw) { }

    /// <summary>One gradient transformation: its name, its buffers' names and initial values, and its update.</summary>
    private sealed record Stage(string Name, ImmutableArray<string> Buffers, Func<string, Params, Params> Init, StageUpdate Apply);

    /// <summary>A stage's update: new updates and buffers from the updates, the parameters, the step and the buffers.</summary>
    private delegate (Params Updates, ImmutableArray<Params> Buffers) StageUpdate(Params updates, Params parameters, int step, ImmutableArray<Params> buffers);

    private static readonly Func<string, Params, Params> Zeros = (_, p) => p.ZerosLike();

    private static Optimizer Stateless(string name, Func<Params, Params, int, Params> apply) =>
        new(new Stage(name, [], Zeros, (u, p, t, b) => (apply(u, p, t), b)));

    /// <summary>What the optimizer does with a non-finite gradient (throw, the default, or skip the step).</summary>
    public NonFiniteGradients NonFiniteGradients => nonFinite;

    /// <summary>The same optimizer with another policy for gradients that have a NaN or an infinity.</summary>
    public Optimizer WithNonFiniteGradients(NonFiniteGradients policy) =>
        Enum.IsDefined(policy) ? new(stages, policy)
        : throw new ArgumentOutOfRangeException(nameof(policy), policy, UserCode.Mark($"Unknown NonFiniteGradients policy {policy}."));

    /// <summary>The state before the first update: step 0 and every stage's buffers at their initial values
    /// (zeros, or Adagrad's <c>initial_accumulator_value</c>), of the names and shapes of <paramref name="parameters"/>.</summary>
    public OptimizerState Init(Params parameters)
    {
        Guard.NotNull(parameters);
        var buffers = ImmutableSortedDictionary.CreateBuilder<string, Params>(StringComparer.Ordinal);
        for (var s = 0; s < stages.Length; s++)
            foreach (var name in stages[s].Buffers) buffers.Add(Key(s, name), stages[s].Init(name, parameters));
        return new OptimizerState(0, buffers.ToImmutable());
    }

    /// <summary>
    /// One update: the gradients pass through every stage in order, and the resulting updates are added to the
    /// parameters. Returns the new parameters and the new state (step + 1); the arguments are not changed.
    /// </summary>
    /// <exception cref="ArgumentException">The gradients or the state's buffers are of other parameters (other names,
    /// order or shapes), or the state is of another optimizer; the message names the first parameter that differs.</exception>
    /// <exception cref="NonFiniteGradientException">A gradient has a NaN or an infinity (unless the policy is <see cref="NonFiniteGradients.Skip"/>, which returns the inputs unchanged).</exception>
    public (Params Params, OptimizerState State) Step(Params parameters, Params gradients, OptimizerState state)
    {
        if (Update(gradients, state, parameters) is not ({ } updates, { } next)) return (parameters, state);
        return (parameters + updates, next);
    }

    /// <summary>
    /// The updates without applying them (optax's <c>update</c>): what <see cref="Step"/> adds to the parameters, and the
    /// new state; null for both when a non-finite gradient is skipped.
    /// </summary>
    /// <exception cref="ArgumentException">As for <see cref="Step"/>.</exception>
    /// <exception cref="NonFiniteGradientException">As for <see cref="Step"/>.</exception>
    public (Params? Updates, OptimizerState? State) Update(Params gradients, OptimizerState state, Params parameters)
    {
        Guard.NotNull(parameters);
        Guard.NotNull(gradients);
        Guard.NotNull(state);
        Check(parameters, gradients, "the gradients");
        CheckState(parameters, state);
        foreach (var (name, g) in gradients)
        {
            var d = g.ToArray();
            for (var i = 0; i < d.Length; i++)
            {
                if (double.IsFinite(d[i])) continue;
                if (nonFinite == NonFiniteGradients.Skip) return (null, null);
                throw new NonFiniteGradientException(name, state.Step, i, d[i]);
            }
        }
        var u = gradients;
        var buffers = state.Buffers.ToBuilder();
        for (var s = 0; s < stages.Length; s++)
        {
            var stage = stages[s];
            var mine = stage.Buffers.Select(b => state.Buffers[Key(s, b)]).ToImmutableArray();
            var (nu, nb) = stage.Apply(u, parameters, state.Step, mine);
            u = nu;
            for (var k = 0; k < nb.Length; k++) buffers[Key(s, stage.Buffers[k])] = nb[k];
        }
        return (u, new OptimizerState(state.Step + 1, buffers.ToImmutable()));
    }

    // ------------------------------------------------------------------ any structured parameters

    /// <summary>
    /// The state before the first update for structured parameters (a tuple, record, list, dictionary, <see cref="Params"/>,
    /// nested; see <see cref="Tree"/>): the buffers are <see cref="Params"/> named by the leaves' paths (<c>W</c>,
    /// <c>layers[1].b</c>; the root leaf is <c>x</c>), so the state stays an ordinary value that saves as JSON. For a
    /// <see cref="Params"/> the paths are its names: the state is the one <see cref="Init(Params)"/> gives.
    /// </summary>
    /// <exception cref="StructureException">The type is not a structure.</exception>
    public OptimizerState Init<T>(T parameters) => Init(Leaves(parameters).Params);

    /// <summary>
    /// One update of structured parameters: the same arithmetic, leaf by leaf, as <see cref="Step(Params, Params, OptimizerState)"/>
    /// on a <see cref="Params"/> of the leaves named by their paths (so a record and the <see cref="Params"/> of the same
    /// names and values take bit-identical steps and keep the same state). Returns parameters of the same form.
    /// </summary>
    /// <exception cref="StructureException">The gradients do not have the parameters' form or a leaf's shape; the message names the first leaf that differs.</exception>
    /// <exception cref="ArgumentException">The state is of other parameters or of another optimizer; the message names the first leaf path that differs.</exception>
    /// <exception cref="NonFiniteGradientException">A gradient has a NaN or an infinity; <see cref="NonFiniteGradientException.Parameter"/> is the leaf's path.</exception>
    public (T Params, OptimizerState State) Step<T>(T parameters, T gradients, OptimizerState state)
    {
        if (Update(gradients, state, parameters) is not ({ } updates, { } next)) return (parameters, state);
        return (Tree.Zip(parameters, updates, (p, u) => p + u), next);
    }

    /// <summary>The updates of structured parameters without applying them, in the parameters' form (see <see cref="Step{T}"/>);
    /// default values for both when a non-finite gradient is skipped.</summary>
    /// <exception cref="StructureException">As for <see cref="Step{T}"/>.</exception>
    /// <exception cref="ArgumentException">As for <see cref="Step{T}"/>.</exception>
    /// <exception cref="NonFiniteGradientException">As for <see cref="Step{T}"/>.</exception>
    public (T? Updates, OptimizerState? State) Update<T>(T gradients, OptimizerState state, T parameters)
    {
        var (p, def, leaves) = Leaves(parameters);
        Params g;
        if (gradients is Params gp) g = gp;
        else
        {
            var gl = Tree.Same(def, leaves, gradients, "Optimizer.Step", "gradient");
            g = Params.Trusted(p.Names.ToImmutableArray(), k => gl[k]);
        }
        if (Update(g, state, p) is not ({ } u, { } next)) return (default, null);
        return (u is T same ? same : Tree.Unflatten<T>(def, [.. u.Entries.Select(e => e.Value)]), next);
    }

    /// <summary>Structured parameters as the <see cref="Params"/> of their leaves named by path (a Params is itself).</summary>
    private static (Params Params, TreeDef Def, ImmutableArray<Value> Leaves) Leaves<T>(T parameters)
    {
        Guard.NotNull(parameters);
        var (leaves, def) = Tree.Flatten(parameters);
        return (parameters as Params ?? Params.Trusted(def.IsLeaf ? ["x"] : def.Paths, k => leaves[k]), def, leaves);
    }

    private static string Key(int stage, string buffer) => $"{stage}.{buffer}";

    /// <summary>Throws naming the first parameter where <paramref name="other"/> differs from the parameters.</summary>
    private static void Check(Params parameters, Params other, string what)
    {
        for (var k = 0; k < Math.Max(parameters.Count, other.Count); k++)
        {
            if (k >= other.Count)
                throw new ArgumentException(UserCode.Mark($"Optimizer.Step: {what} have no parameter '{parameters[k].Key}' (position {k}); they must be of the parameters being updated ({string.Join(", ", parameters.Names)})."), "state");
            if (k >= parameters.Count)
                throw new ArgumentException(UserCode.Mark($"Optimizer.Step: {what} have parameter '{other[k].Key}' (position {k}), which the parameters do not ({string.Join(", ", parameters.Names)})."), "state");
            var (name, v) = parameters[k];
            if (other[k].Key != name)
                throw new ArgumentException(UserCode.Mark($"Optimizer.Step: {what} are of other parameters: at position {k} they have '{other[k].Key}' where the parameters have '{name}'."), "state");
            if (other[k].Value.Shape != v.Shape)
                throw new ArgumentException(UserCode.Mark($"Optimizer.Step: parameter '{name}' is {v.Shape} but {what} have {other[k].Value.Shape} for it: they are of other parameters."), "state");
        }
    }

    private void CheckState(Params parameters, OptimizerState state)
    {
        var expected = stages.SelectMany((st, s) => st.Buffers.Select(b => Key(s, b))).Order(StringComparer.Ordinal).ToArray();
        if (state.Buffers is null || !expected.SequenceEqual(state.Buffers.Keys))
            throw new ArgumentException(UserCode.Mark($"Optimizer.Step: the state is of another optimizer: it has buffers [{string.Join(", ", state.Buffers?.Keys ?? [])}], " +
                $"this optimizer ({this}) keeps [{string.Join(", ", expected)}]. Start from optimizer.Init(parameters)."), nameof(state));
        if (state.Step < 0)
            throw new ArgumentException(UserCode.Mark($"Optimizer.Step: the state's step is {state.Step}; it counts updates from 0."), nameof(state));
        foreach (var (key, buffer) in state.Buffers)
        {
            Guard.NotNull(buffer);
            Check(parameters, buffer, $"the state's buffer '{key}'");
        }
    }

    /// <summary>The stages, optax style: <c>chain(scale_by_adam(b1=0.9, b2=0.999, eps=1E-08), scale(-0.001))</c>.</summary>
    public override string ToString() => stages.Length == 1 ? stages[0].Name : $"chain({string.Join(", ", stages.Select(s => s.Name))})";

    // ------------------------------------------------------------------ composition and gradient transformations

    /// <summary>One optimizer that applies <paramref name="parts"/> in order (optax's <c>chain</c>); chains nest and flatten.
    /// The result throws on non-finite gradients; set another policy with <see cref="WithNonFiniteGradients"/>.</summary>
    /// <exception cref="ArgumentException">No parts, or a part is null.</exception>
    public static Optimizer Chain(params Optimizer[] parts)
    {
        Guard.NotNull(parts);
        if (parts.Length == 0) throw new ArgumentException(UserCode.Mark("Optimizer.Chain needs at least one part."), nameof(parts));
        foreach (var part in parts) Guard.NotNull(part, nameof(parts));
        return new([.. parts.SelectMany(p => p.stages)], NonFiniteGradients.Throw);
    }

    /// <summary>Multiplies the updates by <paramref name="factor"/> (optax's <c>scale</c>; <c>Scale(-lr)</c> ends a chain).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is not finite.</exception>
    public static Optimizer Scale(double factor)
    {
        if (!double.IsFinite(factor)) throw new ArgumentOutOfRangeException(nameof(factor), factor, UserCode.Mark($"Optimizer.Scale needs a finite factor, but got {factor}."));
        return Stateless($"scale({F(factor)})", (u, _, _) => factor * u);
    }

    /// <summary>Multiplies the updates by <c>schedule(step)</c> (optax's <c>scale_by_schedule</c>; the sign is the schedule's).</summary>
    /// <exception cref="ArgumentOutOfRangeException">At a step, the schedule gives a number that is not finite.</exception>
    public static Optimizer ScaleBySchedule(Func<int, double> schedule)
    {
        Guard.NotNull(schedule);
        return Stateless("scale_by_schedule", (u, _, t) =>
        {
            var s = schedule(t);
            if (!double.IsFinite(s)) throw new ArgumentOutOfRangeException(nameof(schedule), s, UserCode.Mark($"The schedule gave {s} at step {t}: give a finite factor."));
            return s * u;
        });
    }

    /// <summary>Multiplies the updates by <c>−lr(step)</c>, the descent step of a learning-rate schedule (optax's
    /// <c>scale_by_learning_rate</c>; see <see cref="Schedules"/>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">At a step, the schedule gives a rate ≤ 0, infinite or NaN.</exception>
    public static Optimizer ScaleByLearningRate(Func<int, double> lr)
    {
        Guard.NotNull(lr);
        return Stateless("scale_by_learning_rate", (u, _, t) => -Rate(lr(t), t) * u);
    }

    private static double Rate(double lr, int t) =>
        lr > 0 && double.IsFinite(lr) ? lr
        : throw new ArgumentOutOfRangeException(nameof(lr), lr, UserCode.Mark($"The learning-rate schedule gave {lr} at step {t}: a rate must be a finite number above 0."));

    /// <summary>Scales the updates down to global norm <paramref name="maxNorm"/> when their global norm (over every
    /// element of every parameter) is above it, as optax's <c>clip_by_global_norm</c>: <c>u · maxNorm / ‖u‖</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is not a finite number above 0.</exception>
    public static Optimizer ClipByGlobalNorm(double maxNorm)
    {
        if (!(maxNorm > 0 && double.IsFinite(maxNorm)))
            throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, UserCode.Mark($"Optimizer.ClipByGlobalNorm needs a finite maxNorm above 0, but got {maxNorm}."));
        return Stateless($"clip_by_global_norm({F(maxNorm)})", (u, _, _) =>
        {
            var norm = u.GlobalNorm();
            return norm <= maxNorm ? u : u * (maxNorm / norm);
        });
    }

    /// <summary>Adds <c>weightDecay · parameters</c> to the updates (optax's <c>add_decayed_weights</c>; PyTorch's
    /// <c>weight_decay</c> is this before the other stages, AdamW's after Adam's scaling).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="weightDecay"/> is negative, infinite or NaN.</exception>
    public static Optimizer AddDecayedWeights(double weightDecay)
    {
        NonNegative(weightDecay, nameof(weightDecay), "AddDecayedWeights");
        return Stateless($"add_decayed_weights({F(weightDecay)})", (u, p, _) => Params.Zip(u, p, (g, w) => g + weightDecay * w));
    }

    /// <summary>
    /// Momentum (optax's <c>trace</c>, with PyTorch SGD's dampening and first step): the buffer <c>momentum_buffer</c> is the
    /// updates at the first step, then <c>momentum · buf + (1 − dampening) · u</c>; the output is the buffer, or with
    /// Nesterov <c>u + momentum · buf</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="momentum"/> or <paramref name="dampening"/> is negative or not finite.</exception>
    /// <exception cref="ArgumentException">Nesterov with momentum 0 or with dampening (as PyTorch refuses it).</exception>
    public static Optimizer Trace(double momentum, double dampening = 0, bool nesterov = false)
    {
        NonNegative(momentum, nameof(momentum), "Trace");
        NonNegative(dampening, nameof(dampening), "Trace");
        if (nesterov && (momentum <= 0 || dampening != 0))
            throw new ArgumentException(UserCode.Mark($"Nesterov momentum needs momentum > 0 and dampening 0, but got momentum {F(momentum)} and dampening {F(dampening)}."), nameof(nesterov));
        return new(new Stage($"trace(momentum={F(momentum)}, dampening={F(dampening)}, nesterov={nesterov})", ["momentum_buffer"], Zeros, (u, _, t, b) =>
        {
            var buf = t == 0 ? u : Params.Zip(b[0], u, (m, g) => m * momentum + (1 - dampening) * g);
            var outp = nesterov ? Params.Zip(u, buf, (g, m) => g + momentum * m) : buf;
            return (outp, [buf]);
        }));
    }

    /// <summary>
    /// Adam's scaling (optax's <c>scale_by_adam</c>, in PyTorch's order): with t = step + 1,
    /// <c>exp_avg = β₁·m + (1 − β₁)·u</c>, <c>exp_avg_sq = β₂·v + (1 − β₂)·u²</c>, and the output
    /// <c>(m / (√v / √(1 − β₂ᵗ) + eps)) / (1 − β₁ᵗ)</c>; with AMSGrad, v is replaced by its running maximum <c>max_exp_avg_sq</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A beta outside [0, 1), or eps negative or not finite.</exception>
    public static Optimizer ScaleByAdam(double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, bool amsgrad = false)
    {
        Beta(beta1, nameof(beta1));
        Beta(beta2, nameof(beta2));
        NonNegative(eps, nameof(eps), "ScaleByAdam");
        ImmutableArray<string> names = amsgrad ? ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"] : ["exp_avg", "exp_avg_sq"];
        return new(new Stage($"scale_by_adam(b1={F(beta1)}, b2={F(beta2)}, eps={F(eps)}, amsgrad={amsgrad})", names, Zeros, (u, _, t, b) =>
        {
            var step = t + 1;
            double bc1 = 1 - Math.Pow(beta1, step), bc2Sqrt = Math.Sqrt(1 - Math.Pow(beta2, step));
            // One pass per parameter over its elements, each element by the formulas above in their order (the same
            // IEEE operations as the element-wise Value arithmetic, so the same bits), allocating only the results.
            var names = u.Names.ToImmutableArray();
            var leaves = new (Value M, Value V, Value VMax, Value Out)[names.Length];
            for (var k = 0; k < leaves.Length; k++)
                leaves[k] = AdamLeaf(b[0][k].Value, b[1][k].Value, amsgrad ? b[2][k].Value : (Value?)null, u[k].Value, beta1, beta2, eps, bc1, bc2Sqrt);
            var m = Params.Trusted(names, k => leaves[k].M);
            var v = Params.Trusted(names, k => leaves[k].V);
            var outp = Params.Trusted(names, k => leaves[k].Out);
            return (outp, amsgrad ? [m, v, Params.Trusted(names, k => leaves[k].VMax)] : [m, v]);
        }));
    }

    /// <summary>Adam's moments, the running maximum (AMSGrad) and the output of one parameter, element by element.</summary>
    private static (Value M, Value V, Value VMax, Value Out) AdamLeaf(Value m0, Value v0, Value? vmax0, Value g0,
        double beta1, double beta2, double eps, double bc1, double bc2Sqrt)
    {
        var shape = g0.Shape;
        if (m0.Shape != shape || v0.Shape != shape || (vmax0 is { } x && x.Shape != shape))
            throw new ShapeMismatchException("Optimizer.ScaleByAdam", m0.Shape, shape, "The moments must have the parameters' shapes.");
        ReadOnlySpan<double> m = ShapeRules.Elements(m0), v = ShapeRules.Elements(v0), g = ShapeRules.Elements(g0),
            vm = vmax0 is { } w ? ShapeRules.Elements(w) : default;
        var n = g.Length;
        double[] mo = new double[n], vo = new double[n], o = new double[n], vmo = vmax0 is null ? vo : new double[n];
        for (var i = 0; i < n; i++)
        {
            mo[i] = m[i] * beta1 + (1 - beta1) * g[i];
            vo[i] = v[i] * beta2 + (1 - beta2) * g[i] * g[i];
            if (vmax0 is not null) vmo[i] = Math.Max(vm[i], vo[i]);
            o[i] = mo[i] / (Math.Sqrt(vmo[i]) / bc2Sqrt + eps) / bc1;
        }
        var vmaxOut = Value.Own(shape, vmo);
        var vOut = ReferenceEquals(vmo, vo) ? vmaxOut : Value.Own(shape, vo);
        return (Value.Own(shape, mo), vOut, vmaxOut, Value.Own(shape, o));
    }

    /// <summary>
    /// RMSprop's scaling, in PyTorch's form (eps outside the root): <c>square_avg = α·s + (1 − α)·u²</c> and the output
    /// <c>u / (√square_avg + eps)</c>; centered, also <c>grad_avg = α·a + (1 − α)·u</c> and the root of <c>square_avg − grad_avg²</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="alpha"/> outside [0, 1], or eps negative or not finite.</exception>
    public static Optimizer ScaleByRms(double alpha = 0.99, double eps = 1e-8, bool centered = false)
    {
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, UserCode.Mark($"Optimizer.ScaleByRms needs alpha in [0, 1], but got {alpha}."));
        NonNegative(eps, nameof(eps), "ScaleByRms");
        ImmutableArray<string> names = centered ? ["square_avg", "grad_avg"] : ["square_avg"];
        return new(new Stage($"scale_by_rms(alpha={F(alpha)}, eps={F(eps)}, centered={centered})", names, Zeros, (u, _, _, b) =>
        {
            var sq = Params.Zip(b[0], u, (s, g) => s * alpha + (1 - alpha) * g * g);
            if (!centered) return (Params.Zip(u, sq, (g, s) => g / (Value.Sqrt(s) + eps)), [sq]);
            var avg = Params.Zip(b[1], u, (a, g) => a * alpha + (1 - alpha) * g);
            var outp = Params.Zip(u, sq, avg, (g, s, a) => g / (Value.Sqrt(s - a * a) + eps));
            return (outp, [sq, avg]);
        }));
    }

    /// <summary>Adagrad's scaling: <c>sum = sum + u²</c> (starting at <paramref name="initialAccumulatorValue"/>) and the
    /// output <c>u / (√sum + eps)</c>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative or non-finite initial value or eps.</exception>
    public static Optimizer ScaleByAdagrad(double initialAccumulatorValue = 0, double eps = 1e-10)
    {
        NonNegative(initialAccumulatorValue, nameof(initialAccumulatorValue), "ScaleByAdagrad");
        NonNegative(eps, nameof(eps), "ScaleByAdagrad");
        return new(new Stage($"scale_by_adagrad(initial_accumulator_value={F(initialAccumulatorValue)}, eps={F(eps)})", ["sum"],
            (_, p) => p.Map(v => v.ZerosLike() + initialAccumulatorValue), (u, _, _, b) =>
            {
                var sum = Params.Zip(b[0], u, (s, g) => s + g * g);
                return (Params.Zip(u, sum, (g, s) => g / (Value.Sqrt(s) + eps)), [sum]);
            }));
    }

    // ------------------------------------------------------------------ the named optimizers (torch.optim)

    /// <summary>
    /// Stochastic gradient descent as <c>torch.optim.SGD</c>: <c>d = g + weight_decay·p</c>; with momentum, the buffer is
    /// d at the first step and <c>momentum·buf + (1 − dampening)·d</c> after, and d becomes the buffer (Nesterov:
    /// <c>d + momentum·buf</c>); then <c>p − lr·d</c>. The chain <c>[AddDecayedWeights, Trace, Scale(−lr)]</c>, without the
    /// stages whose coefficient is 0.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0, infinite or NaN; a negative coefficient.</exception>
    /// <exception cref="ArgumentException">Nesterov without momentum or with dampening.</exception>
    public static Optimizer Sgd(double lr, double momentum = 0, double dampening = 0, double weightDecay = 0, bool nesterov = false)
    {
        CheckLr(lr, nameof(lr));
        NonNegative(momentum, nameof(momentum), "Sgd");
        NonNegative(weightDecay, nameof(weightDecay), "Sgd");
        var parts = new List<Optimizer>();
        if (weightDecay != 0) parts.Add(AddDecayedWeights(weightDecay));
        if (momentum != 0 || nesterov) parts.Add(Trace(momentum, dampening, nesterov));
        parts.Add(Scale(-lr));
        return Chain([.. parts]);
    }

    /// <summary>
    /// Adam as <c>torch.optim.Adam</c> (weight decay added to the gradient, L2 style): the chain
    /// <c>[AddDecayedWeights(weight_decay), ScaleByAdam(betas, eps, amsgrad), Scale(−lr)]</c>, without a zero decay.
    /// </summary>
    /// <param name="lr">The learning rate.</param>
    /// <param name="betas">(β₁, β₂), by default (0.9, 0.999).</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">L2 penalty.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0, infinite or NaN; a beta outside [0, 1); a negative eps or decay.</exception>
    public static Optimizer Adam(double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
    {
        CheckLr(lr, nameof(lr));
        NonNegative(weightDecay, nameof(weightDecay), "Adam");
        var (b1, b2) = betas ?? (0.9, 0.999);
        var adam = ScaleByAdam(b1, b2, eps, amsgrad);
        return weightDecay != 0 ? Chain(AddDecayedWeights(weightDecay), adam, Scale(-lr)) : Chain(adam, Scale(-lr));
    }

    /// <summary>
    /// AdamW as <c>torch.optim.AdamW</c> (decoupled weight decay, default 0.01): the chain
    /// <c>[ScaleByAdam(betas, eps, amsgrad), AddDecayedWeights(weight_decay), Scale(−lr)]</c>, which is PyTorch's
    /// <c>p·(1 − lr·wd) − lr·adam</c> up to rounding.
    /// </summary>
    /// <param name="lr">The learning rate.</param>
    /// <param name="betas">(β₁, β₂), by default (0.9, 0.999).</param>
    /// <param name="eps">Added to the denominator.</param>
    /// <param name="weightDecay">Decoupled weight decay.</param>
    /// <param name="amsgrad">Use the running maximum of the second moment.</param>
    /// <exception cref="ArgumentOutOfRangeException">As for <see cref="Adam"/>.</exception>
    public static Optimizer AdamW(double lr = 1e-3, (double Beta1, double Beta2)? betas = null, double eps = 1e-8, double weightDecay = 1e-2, bool amsgrad = false)
    {
        CheckLr(lr, nameof(lr));
        NonNegative(weightDecay, nameof(weightDecay), "AdamW");
        var (b1, b2) = betas ?? (0.9, 0.999);
        var adam = ScaleByAdam(b1, b2, eps, amsgrad);
        return weightDecay != 0 ? Chain(adam, AddDecayedWeights(weightDecay), Scale(-lr)) : Chain(adam, Scale(-lr));
    }

    /// <summary>
    /// RMSprop as <c>torch.optim.RMSprop</c>: the chain <c>[AddDecayedWeights(weight_decay), ScaleByRms(alpha, eps,
    /// centered), Trace(momentum), Scale(−lr)]</c>, without the stages whose coefficient is 0 (PyTorch's zero-initialised
    /// momentum buffer gives the same first step as Trace's).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0, infinite or NaN; alpha outside [0, 1]; a negative coefficient.</exception>
    public static Optimizer RMSprop(double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false)
    {
        CheckLr(lr, nameof(lr));
        NonNegative(weightDecay, nameof(weightDecay), "RMSprop");
        NonNegative(momentum, nameof(momentum), "RMSprop");
        var parts = new List<Optimizer>();
        if (weightDecay != 0) parts.Add(AddDecayedWeights(weightDecay));
        parts.Add(ScaleByRms(alpha, eps, centered));
        if (momentum != 0) parts.Add(Trace(momentum));
        parts.Add(Scale(-lr));
        return Chain([.. parts]);
    }

    /// <summary>
    /// Adagrad as <c>torch.optim.Adagrad</c>: the chain <c>[AddDecayedWeights(weight_decay),
    /// ScaleByAdagrad(initial_accumulator_value, eps), ScaleBySchedule(t ↦ −lr / (1 + t·lr_decay))]</c>, without a zero decay.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="lr"/> ≤ 0, infinite or NaN; a negative coefficient.</exception>
    public static Optimizer Adagrad(double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10)
    {
        CheckLr(lr, nameof(lr));
        NonNegative(lrDecay, nameof(lrDecay), "Adagrad");
        NonNegative(weightDecay, nameof(weightDecay), "Adagrad");
        var scaling = ScaleByAdagrad(initialAccumulatorValue, eps);
        var rate = lrDecay == 0 ? Scale(-lr) : ScaleBySchedule(t => -lr / (1 + t * lrDecay));
        return weightDecay != 0 ? Chain(AddDecayedWeights(weightDecay), scaling, rate) : Chain(scaling, rate);
    }

    // ------------------------------------------------------------------ argument checks

    /// <summary>Refuses a learning rate that is not a finite number above 0.</summary>
    internal static void CheckLr(double lr, string name)
    {
        if (!(lr > 0 && double.IsFinite(lr)))
            throw new ArgumentOutOfRangeException(name, lr, UserCode.Mark($"A learning rate must be a finite number above 0, but got {F(lr)}."));
    }

    private static void NonNegative(double x, string name, string where)
    {
        if (!(x >= 0 && double.IsFinite(x)))
            throw new ArgumentOutOfRangeException(name, x, UserCode.Mark($"Optimizer.{where} needs {name} ≥ 0 and finite, but got {F(x)}."));
    }

    private static void Beta(double beta, string name)
    {
        if (!(beta >= 0 && beta < 1))
            throw new ArgumentOutOfRangeException(name, beta, UserCode.Mark($"Adam's {name} must be in [0, 1), but got {F(beta)}."));
    }

    private static string F(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}
