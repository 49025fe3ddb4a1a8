using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Linq;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using LinqExpression = System.Linq.Expressions.Expression;

namespace Functional.Autodiff;

public static partial class AD
{
    // ------------------------------------------------------------------ C# expression-tree lambdas

    /// <summary>
    /// Compiles the value and the derivative of a C# lambda of one double into a delegate: the lambda is translated
    /// into a graph once (see <see cref="Expr.FromLambda(Expression{Func{double, double}})"/> for what it may contain; captured
    /// variables are read now, once), its gradient graph is built from the ops' reverse rules, and both are emitted as
    /// straight-line code over doubles, each node computed once with the ops' own scalar kernels, so the delegate gives
    /// the bits the graph path gives. The delegate is pure and thread-safe and allocates nothing.
    /// </summary>
    /// <example><c>var df = AD.CompileGrad(x => x * Math.Exp(x)); var (v, g) = df(1.0);</c></example>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    // Preferred over the double[] overload when the lambda ignores its parameter (x => 1.0), which fits both.
    [OverloadResolutionPriority(1)]
    public static Func<double, (double Value, double Grad)> CompileGrad(Expression<Func<double, double>> f)
    {
        var graph = LambdaTranslation.Translate(f, null);
        return ScalarEmitter.CompileScalars<Func<double, (double, double)>>("CompileGrad", graph.Output, graph.Inputs, Tuple);
    }

    /// <summary>
    /// The value and both partial derivatives of a C# lambda of two doubles, compiled into a delegate (see
    /// <see cref="CompileGrad(Expression{Func{double, double}})"/>): <c>var (v, (gx, gy)) = AD.CompileGrad((x, y) =&gt; x * Math.Exp(y))(1.0, 2.0);</c>
    /// </summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static Func<double, double, (double Value, (double, double) Grad)> CompileGrad(Expression<Func<double, double, double>> f)
    {
        var graph = LambdaTranslation.Translate(f, null);
        return ScalarEmitter.CompileScalars<Func<double, double, (double, (double, double))>>("CompileGrad", graph.Output, graph.Inputs, Tuple);
    }

    /// <summary>The value and the three partial derivatives of a C# lambda of three doubles, compiled into a delegate (see <see cref="CompileGrad(Expression{Func{double, double}})"/>).</summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static Func<double, double, double, (double Value, (double, double, double) Grad)> CompileGrad(Expression<Func<double, double, double, double>> f)
    {
        var graph = LambdaTranslation.Translate(f, null);
        return ScalarEmitter.CompileScalars<Func<double, double, double, (double, (double, double, double))>>("CompileGrad", graph.Output, graph.Inputs, Tuple);
    }

    /// <summary>The value and the four partial derivatives of a C# lambda of four doubles, compiled into a delegate (see <see cref="CompileGrad(Expression{Func{double, double}})"/>).</summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static Func<double, double, double, double, (double Value, (double, double, double, double) Grad)> CompileGrad(Expression<Func<double, double, double, double, double>> f)
    {
        var graph = LambdaTranslation.Translate(f, null);
        return ScalarEmitter.CompileScalars<Func<double, double, double, double, (double, (double, double, double, double))>>("CompileGrad", graph.Output, graph.Inputs, Tuple);
    }

    /// <summary>
    /// The value and the gradient of a C# lambda of a <c>double[]</c> read at constant indices, compiled into a delegate
    /// (see <see cref="CompileGrad(Expression{Func{double, double}})"/>). The array's length n is the highest index read
    /// plus one; the delegate takes arrays of exactly n elements and returns a gradient of n elements.
    /// </summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    public static Func<double[], (double Value, double[] Grad)> CompileGrad(Expression<Func<double[], double>> f)
    {
        var graph = LambdaTranslation.Translate(f, null);
        return ScalarEmitter.CompileArray("CompileGrad", graph.Output, graph.Inputs);
    }

    /// <summary>
    /// <see cref="CompileGrad(Expression{Func{double[], double}})"/> for arrays of <paramref name="length"/> elements,
    /// some of which the lambda may not read (their gradient is 0).
    /// </summary>
    /// <exception cref="UnsupportedExpressionException">The lambda contains a node that cannot be translated.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An index read is not below <paramref name="length"/>.</exception>
    public static Func<double[], (double Value, double[] Grad)> CompileGrad(Expression<Func<double[], double>> f, int length)
    {
        var graph = LambdaTranslation.Translate(f, length);
        return ScalarEmitter.CompileArray("CompileGrad", graph.Output, graph.Inputs);
    }

    // ------------------------------------------------------------------ scalar graphs built with Expr

    /// <summary>
    /// Compiles the value and the gradient of a scalar graph into a delegate taking the values of
    /// <paramref name="inputs"/> in order (an array of their count) and returning the value and the gradient with
    /// respect to each. Every node that depends on an input must be a scalar; a node that does not is computed now and
    /// baked in as a constant (so are variables carrying a value that are not inputs).
    /// </summary>
    /// <exception cref="ShapeMismatchException">A node depending on an input is not a scalar; the message names it.</exception>
    /// <exception cref="ArgumentException">An input is listed twice, or the graph reads a variable without a value that is not an input.</exception>
    public static Func<double[], (double Value, double[] Grad)> CompileScalarGrad(Expr output, params Var[] inputs)
    {
        Guard.NotNull(output);
        Guard.NotNull(inputs);
        for (var k = 0; k < inputs.Length; k++)
        {
            if (inputs[k] is null) throw new ArgumentNullException(nameof(inputs), UserCode.Mark($"Input {k} is null."));
            if (!inputs[k].Shape.IsScalar)
                throw new ShapeMismatchException("CompileScalarGrad", inputs[k].Shape,
                    $"Input {k} ('{inputs[k].Name}') must be a scalar variable: the emitter compiles graphs of scalars (use AD.ValueAndGrad for tensors).");
            for (var j = 0; j < k; j++)
                if (ReferenceEquals(inputs[j], inputs[k]))
                    throw new ArgumentException(UserCode.Mark($"CompileScalarGrad: variable '{inputs[k].Name}' is listed twice (inputs {j} and {k}): list each input once."), nameof(inputs));
        }
        return ScalarEmitter.CompileArray("CompileScalarGrad", output, [.. inputs]);
    }

    /// <summary>
    /// Compiles the value and the derivative of a scalar function built with <see cref="Expr"/> into a delegate: f is
    /// traced ONCE on a symbolic scalar (so it must not read <c>.Value</c>; use <see cref="Expr.Where"/> for choices),
    /// then compiled as <see cref="CompileScalarGrad(Expr, Var[])"/> does.
    /// </summary>
    /// <exception cref="InvalidOperationException">f reads a value while being traced.</exception>
    /// <exception cref="ShapeMismatchException">A node depending on the input is not a scalar.</exception>
    public static Func<double, (double Value, double Grad)> CompileScalarGrad(Func<Expr, Expr> f)
    {
        Guard.NotNull(f);
        var x = Expr.Var("x", Shape.Scalar);
        var y = TraceSymbolic(() => f(x));
        return ScalarEmitter.CompileScalars<Func<double, (double, double)>>("CompileScalarGrad", y, [x], Tuple);
    }

    /// <summary>The value and both partial derivatives of a scalar function of two scalars built with <see cref="Expr"/>, compiled into a delegate (see <see cref="CompileScalarGrad(Func{Expr, Expr})"/>).</summary>
    /// <exception cref="InvalidOperationException">f reads a value while being traced.</exception>
    /// <exception cref="ShapeMismatchException">A node depending on an input is not a scalar.</exception>
    public static Func<double, double, (double Value, (double, double) Grad)> CompileScalarGrad(Func<Expr, Expr, Expr> f)
    {
        Guard.NotNull(f);
        var x = Expr.Var("x", Shape.Scalar);
        var y = Expr.Var("y", Shape.Scalar);
        var z = TraceSymbolic(() => f(x, y));
        return ScalarEmitter.CompileScalars<Func<double, double, (double, (double, double))>>("CompileScalarGrad", z, [x, y], Tuple);
    }

    private static Expr TraceSymbolic(Func<Expr> f)
    {
        try
        {
            return Call(f);
        }
        catch (UnboundVariableException e)
        {
            throw new InvalidOperationException(UserCode.Mark(
                $"CompileScalarGrad traces the function once, on symbolic scalars, but the function read the value of a node that depends on '{e.Variable.Name}'. " +
                "A compiled function cannot branch on values: choose with Expr.Where (both branches are computed, the gradient flows through the chosen one), " +
                "or use the uncompiled AD.ValueAndGrad, which traces on every call."), e);
        }
    }

    /// <summary>The delegate's return value: the value and the gradients as nested tuples (one gradient as a plain double).</summary>
    private static LinqExpression Tuple(LinqExpression value, IReadOnlyList<LinqExpression> grads)
    {
        var grad = grads.Count == 1 ? grads[0] : NewTuple(grads);
        return NewTuple([value, grad]);
    }

    private static LinqExpression NewTuple(IReadOnlyList<LinqExpression> items)
    {
        var types = items.Select(i => i.Type).ToArray();
        var type = types.Length switch
        {
            2 => typeof(ValueTuple<,>).MakeGenericType(types),
            3 => typeof(ValueTuple<,,>).MakeGenericType(types),
            _ => typeof(ValueTuple<,,,>).MakeGenericType(types),
        };
        return LinqExpression.New(type.GetConstructor(types)!, items);
    }
}

/// <summary>
/// Emits a scalar graph's value and gradient as one System.Linq.Expressions block of straight-line code over double
/// locals: the gradient graph comes from the ops' reverse rules (<see cref="Reverse.Gradients"/>), the nodes of both
/// are taken once each in one topological order (shared nodes are computed once), and every node is computed by its
/// op's own scalar function: an element-wise op's <c>Apply(double)</c> (or the static kernel it forwards to, see
/// <see cref="ForwardedKernel"/>), a binary one's <c>Apply(double, double)</c> (the four arithmetic ops and square as
/// the single IEEE operations they are), negation and <c>where</c> as the ops' scalar paths write them, any other op
/// through its <see cref="Op.Eval"/> on scalars. So the delegate gives the graph path's
/// bits. The block is flat (one assignment per node), so neither this code nor LINQ's compiler recurses over depth; a
/// program of more than <see cref="ChunkSize"/> nodes is split into methods of that many (see there).
/// <para>The same planner and kernels serve compiled programs whose tensors are all small
/// (<see cref="CompileSmall"/>): a node is then a few locals, one per element, each computed as the op's kernel
/// computes that element (<see cref="ElementsOf"/>).</para>
/// </summary>
internal static class ScalarEmitter
{
    private static readonly MethodInfo[] EvalOps =
    [
        typeof(ScalarEmitter).GetMethod(nameof(Eval1), BindingFlags.Static | BindingFlags.NonPublic)!,
        typeof(ScalarEmitter).GetMethod(nameof(Eval2), BindingFlags.Static | BindingFlags.NonPublic)!,
        typeof(ScalarEmitter).GetMethod(nameof(Eval3), BindingFlags.Static | BindingFlags.NonPublic)!,
        typeof(ScalarEmitter).GetMethod(nameof(Eval4), BindingFlags.Static | BindingFlags.NonPublic)!,
    ];

    private static readonly MethodInfo WrongArray = typeof(ScalarEmitter).GetMethod(nameof(WrongLength), BindingFlags.Static | BindingFlags.NonPublic)!;

    /// <summary>A delegate of one double parameter per input, returning what <paramref name="result"/> builds.</summary>
    public static TDelegate CompileScalars<TDelegate>(string combinator, Expr output, ImmutableArray<Var> inputs,
        Func<LinqExpression, IReadOnlyList<LinqExpression>, LinqExpression> result)
        where TDelegate : Delegate
    {
        var parameters = inputs.Select(v => LinqExpression.Parameter(typeof(double), v.Name)).ToArray();
        var body = Body(combinator, output, inputs, parameters, [], [], result);
        return LinqExpression.Lambda<TDelegate>(body, parameters).Compile();
    }

    /// <summary>A delegate taking the inputs' values as an array of exactly their count, returning the value and the gradient array.</summary>
    public static Func<double[], (double Value, double[] Grad)> CompileArray(string combinator, Expr output, ImmutableArray<Var> inputs)
    {
        var a = LinqExpression.Parameter(typeof(double[]), "a");
        var n = inputs.Length;
        var check = LinqExpression.IfThen(
            LinqExpression.OrElse(LinqExpression.Equal(a, LinqExpression.Constant(null, typeof(double[]))),
                LinqExpression.NotEqual(LinqExpression.ArrayLength(a), LinqExpression.Constant(n))),
            LinqExpression.Throw(LinqExpression.Call(WrongArray, a, LinqExpression.Constant(n), LinqExpression.Constant(combinator))));
        var locals = new ParameterExpression[n];
        var prologue = new List<LinqExpression> { check };
        for (var k = 0; k < n; k++)
        {
            locals[k] = LinqExpression.Variable(typeof(double), inputs[k].Name);
            prologue.Add(LinqExpression.Assign(locals[k], LinqExpression.ArrayIndex(a, LinqExpression.Constant(k))));
        }
        var body = Body(combinator, output, inputs, locals, locals, prologue, (value, grads) =>
            LinqExpression.New(typeof((double, double[])).GetConstructor([typeof(double), typeof(double[])])!,
                value, LinqExpression.NewArrayInit(typeof(double), grads)));
        return LinqExpression.Lambda<Func<double[], (double, double[])>>(body, a).Compile();
    }

    /// <summary>
    /// The most nodes one compiled method computes. A longer program is split into methods of this many nodes that
    /// pass the values they share through one array (rented per call from the shared pool): the JIT compiles a very
    /// large method without optimisation (no inlining of the kernels), which would cost about half the speed.
    /// </summary>
    internal const int ChunkSize = 256;

    private static readonly MethodInfo Rent = typeof(System.Buffers.ArrayPool<double>).GetMethod(nameof(System.Buffers.ArrayPool<double>.Rent))!;
    private static readonly MethodInfo Return = typeof(System.Buffers.ArrayPool<double>).GetMethod(nameof(System.Buffers.ArrayPool<double>.Return))!;

    private static LinqExpression Body(string combinator, Expr output, ImmutableArray<Var> inputs, IReadOnlyList<ParameterExpression> inputValues,
        IEnumerable<ParameterExpression> inputLocals, IEnumerable<LinqExpression> prologue,
        Func<LinqExpression, IReadOnlyList<LinqExpression>, LinqExpression> result)
    {
        if (!output.Shape.IsScalar) throw new NonScalarOutputException(combinator, output.Shape);
        var grads = Reverse.Gradients(output, [.. inputs], Expr.Const(1.0));
        var outputs = new List<Expr>(grads.Length + 1) { output };
        outputs.AddRange(grads);
        var (steps, computed) = Plan(combinator, [.. outputs], inputs.AsSpan(), tensors: false)!.Value;

        var locals = new List<ParameterExpression>(inputLocals);
        var statements = new List<LinqExpression>(prologue);
        if (steps.Count <= ChunkSize)
        {
            // One method: a local per node.
            var elements = new LinqExpression[inputs.Length][];
            for (var k = 0; k < inputs.Length; k++) elements[k] = [inputValues[k]];
            var emitted = EmitSteps(steps, [.. outputs], inputs.AsSpan(), elements, locals, statements)!;
            statements.Add(result(emitted[output][0], [.. grads.Select(g => emitted[g][0])]));
            return LinqExpression.Block(locals, statements);
        }

        // The values computed now, as constants of the code (a scalar graph reads only scalar ones).
        var constants = new Dictionary<Expr, LinqExpression>(Identity.Instance);
        foreach (var c in computed)
            if (c.Shape.IsScalar) constants[c] = LinqExpression.Constant(c.Value.ToScalar());
        var args = new LinqExpression[Expr.MaxArity];

        // Methods of ChunkSize nodes each; a value read outside the method computing it (and every input and output)
        // has a slot in the shared array.
        var chunkOf = new Dictionary<Expr, int>(Identity.Instance);
        foreach (var x in inputs) chunkOf[x] = -1;
        for (var k = 0; k < steps.Count; k++) chunkOf[steps[k]] = k / ChunkSize;
        var slotOf = new Dictionary<Expr, int>(Identity.Instance);
        foreach (var x in inputs) slotOf.TryAdd(x, slotOf.Count);
        foreach (var o in outputs)
            if (!constants.ContainsKey(o)) slotOf.TryAdd(o, slotOf.Count);
        foreach (var node in steps)
            foreach (var i in node.Inputs)
                if (chunkOf.TryGetValue(i, out var c) && c != chunkOf[node]) slotOf.TryAdd(i, slotOf.Count);

        var shared = LinqExpression.Variable(typeof(double[]), "shared");
        var pool = LinqExpression.Property(null, typeof(System.Buffers.ArrayPool<double>), nameof(System.Buffers.ArrayPool<double>.Shared));
        locals.Add(shared);
        statements.Add(LinqExpression.Assign(shared, LinqExpression.Call(pool, Rent, LinqExpression.Constant(slotOf.Count))));
        for (var k = 0; k < inputs.Length; k++)
            statements.Add(LinqExpression.Assign(LinqExpression.ArrayAccess(shared, LinqExpression.Constant(slotOf[inputs[k]])), inputValues[k]));
        var s = LinqExpression.Parameter(typeof(double[]), "shared");
        for (var start = 0; start < steps.Count; start += ChunkSize)
        {
            var chunkLocals = new List<ParameterExpression>();
            var chunk = new List<LinqExpression>();
            var emitted = new Dictionary<Expr, LinqExpression>(constants, Identity.Instance);
            for (var k = start; k < Math.Min(start + ChunkSize, steps.Count); k++)
            {
                var node = steps[k];
                var inputsOf = node.Inputs;
                for (var i = 0; i < inputsOf.Length; i++)
                {
                    if (!emitted.TryGetValue(inputsOf[i], out var arg))
                    {
                        // Read from the shared array once per method.
                        var read = LinqExpression.Variable(typeof(double));
                        chunkLocals.Add(read);
                        chunk.Add(LinqExpression.Assign(read, LinqExpression.ArrayIndex(s, LinqExpression.Constant(slotOf[inputsOf[i]]))));
                        emitted[inputsOf[i]] = arg = read;
                    }
                    args[i] = arg;
                }
                var local = LinqExpression.Variable(typeof(double));
                chunkLocals.Add(local);
                chunk.Add(LinqExpression.Assign(local, Kernel(node.Op!, args.AsSpan(0, inputsOf.Length))));
                emitted[node] = local;
                if (slotOf.TryGetValue(node, out var slot))
                    chunk.Add(LinqExpression.Assign(LinqExpression.ArrayAccess(s, LinqExpression.Constant(slot)), local));
            }
            chunk.Add(LinqExpression.Empty());
            var method = LinqExpression.Lambda<Action<double[]>>(LinqExpression.Block(chunkLocals, chunk), s).Compile();
            statements.Add(LinqExpression.Invoke(LinqExpression.Constant(method), shared));
        }
        LinqExpression Read(Expr o) => constants.TryGetValue(o, out var c) ? c : LinqExpression.ArrayIndex(shared, LinqExpression.Constant(slotOf[o]));
        var results = outputs.Select(o => (LinqExpression)LinqExpression.Variable(typeof(double))).ToList();
        for (var k = 0; k < outputs.Count; k++)
        {
            locals.Add((ParameterExpression)results[k]);
            statements.Add(LinqExpression.Assign(results[k], Read(outputs[k])));
        }
        statements.Add(LinqExpression.Call(pool, Return, shared, LinqExpression.Constant(false)));
        statements.Add(result(results[0], results.Skip(1).ToArray()));
        return LinqExpression.Block(locals, statements);
    }

    /// <summary>
    /// The plan: the nodes to compute, in one topological order of all the outputs (the inputs left out), and the nodes
    /// that depend on no input, computed now (by the ops themselves) and read as constants. A scalar graph
    /// (<paramref name="tensors"/> false) refuses a non-scalar node that depends on an input; a program of small tensors
    /// is refused (null) when a node has more than <see cref="MaxElements"/> elements.
    /// </summary>
    private static (List<Expr> Steps, HashSet<Expr> Computed)? Plan(string combinator, ReadOnlySpan<Expr> outputs, ReadOnlySpan<Var> inputs, bool tensors)
    {
        var steps = new List<Expr>();
        var computed = new HashSet<Expr>(Identity.Instance);
        var depends = new HashSet<Expr>(Identity.Instance);
        foreach (var x in inputs) depends.Add(x);
        foreach (var node in Graph.PostOrder(outputs, inputs))
        {
            if (depends.Contains(node) || computed.Contains(node)) continue;
            var inputsOf = node.Inputs;
            var dependent = false;
            foreach (var i in inputsOf) dependent |= depends.Contains(i);
            if (!dependent)
            {
                if (!node.HasValue)
                    throw new ArgumentException(UserCode.Mark(
                        $"{combinator}: the graph reads variable '{node.FirstUnboundVariable().Name}', which has no value and is not an input: list it among the inputs, or give it a value (it is then a constant)."), "inputs");
                computed.Add(node);
                continue;
            }
            depends.Add(node);
            if (tensors)
            {
                if (node.Shape.Size > MaxElements) return null;
                foreach (var i in inputsOf)
                    if (i.Shape.Size > MaxElements) return null;
            }
            else
            {
                if (!node.Shape.IsScalar) throw NotScalar(combinator, node, node);
                foreach (var i in inputsOf)
                    if (!i.Shape.IsScalar) throw NotScalar(combinator, i, node);
            }
            steps.Add(node);
        }
        return (steps, computed);
    }

    /// <summary>
    /// Emits the steps in order into <paramref name="statements"/>, one local per element computed, and returns every
    /// node's elements (its storage order; one for a scalar); null when a step's op has no element rule.
    /// </summary>
    private static Dictionary<Expr, LinqExpression[]>? EmitSteps(List<Expr> steps, ReadOnlySpan<Expr> outputs, ReadOnlySpan<Var> inputs,
        LinqExpression[][] inputElements, List<ParameterExpression> locals, List<LinqExpression> statements)
    {
        var emitted = new Dictionary<Expr, LinqExpression[]>(Identity.Instance);
        for (var k = 0; k < inputs.Length; k++) emitted.TryAdd(inputs[k], inputElements[k]);
        var emit = new Emitter(locals, statements);
        var args = new LinqExpression[Expr.MaxArity][];
        foreach (var node in steps)
        {
            var inputsOf = node.Inputs;
            for (var i = 0; i < inputsOf.Length; i++) args[i] = Elements(inputsOf[i], emitted);
            var elements = ElementsOf(node, args.AsSpan(0, inputsOf.Length), emit);
            if (elements is null) return null;
            for (var k = 0; k < elements.Length; k++) elements[k] = emit.Local(elements[k]);
            emitted[node] = elements;
        }
        foreach (var o in outputs) Elements(o, emitted); // an output may be an input, or computed now
        return emitted;
    }

    /// <summary>A node's elements: emitted already, or (for a node computed now) its value's numbers as constants.</summary>
    private static LinqExpression[] Elements(Expr node, Dictionary<Expr, LinqExpression[]> emitted)
    {
        if (emitted.TryGetValue(node, out var elements)) return elements;
        var v = node.Value;
        if (v.Shape.IsScalar) elements = [LinqExpression.Constant(v.ToScalar())];
        else
        {
            var span = v.Span;
            elements = new LinqExpression[span.Length];
            for (var k = 0; k < span.Length; k++) elements[k] = LinqExpression.Constant(span[k]);
        }
        return emitted[node] = elements;
    }

    /// <summary>Where element rules put what they compute before their result: locals.</summary>
    private sealed class Emitter(List<ParameterExpression> locals, List<LinqExpression> statements)
    {
        /// <summary>The expression itself when it is a local or a constant, else a new local assigned it now.</summary>
        public LinqExpression Local(LinqExpression e)
        {
            if (e is ParameterExpression or ConstantExpression) return e;
            var local = LinqExpression.Variable(typeof(double));
            locals.Add(local);
            statements.Add(LinqExpression.Assign(local, e));
            return local;
        }

        /// <summary>
        /// The additions of <see cref="SumOp.Kernel"/> and <see cref="DotOp.Kernel"/> on elements of at most
        /// <see cref="SumOp.SequentialLength"/>: ((0 + t₀) + t₁) + … in order, each partial sum a local.
        /// </summary>
        public LinqExpression Sequence(IEnumerable<LinqExpression> terms)
        {
            LinqExpression sum = LinqExpression.Constant(0.0);
            foreach (var t in terms) sum = Local(LinqExpression.Add(sum, t));
            return sum;
        }
    }

    // ------------------------------------------------------------------ programs of small tensors

    /// <summary>
    /// The most elements a node of straight-line code over tensors may have: the code keeps one local per element, and
    /// the sums and dot products of this many are the kernels' additions in sequence (<see cref="SumOp.SequentialLength"/>).
    /// </summary>
    internal const int MaxElements = SumOp.SequentialLength;

    private static readonly MethodInfo ScalarValue = typeof(Value).GetMethod(nameof(Value.Scalar), BindingFlags.Static | BindingFlags.Public)!;
    private static readonly MethodInfo OwnValue = typeof(Value).GetMethod(nameof(Value.Own), BindingFlags.Static | BindingFlags.NonPublic)!;
    private static readonly MethodInfo ToScalar = typeof(Value).GetMethod(nameof(Value.ToScalar), BindingFlags.Instance | BindingFlags.Public)!;
    private static readonly PropertyInfo Storage = typeof(Value).GetProperty(nameof(Value.Storage), BindingFlags.Instance | BindingFlags.NonPublic)!;

    /// <summary>
    /// A compiled program's value and gradient for one input, as straight-line code over the elements of its tensors
    /// (see <see cref="ElementsOf"/>): the input's elements are read once into locals, every element of every node is
    /// one local computed by its op's own scalar function (a reduction as its op's kernel adds short vectors, in
    /// sequence), and the results are new values. Null when the program does not fit: a node of more than
    /// <see cref="MaxElements"/> elements, more than <see cref="ChunkSize"/> elements computed in all, or an op
    /// without an element rule; the caller then runs the program.
    /// </summary>
    public static Func<Value, (Value Value, Value Grad)>? CompileSmall(Var input, Expr value, Expr grad)
    {
        if (input.Shape.Size > MaxElements) return null;
        var plan = Plan("Compiled.ValueAndGrad", [value, grad], [input], tensors: true);
        if (plan is not { } p) return null;
        var steps = p.Steps;
        var work = 0;
        foreach (var node in steps) work += node.Shape.Size;
        if (work > ChunkSize) return null;

        var x = LinqExpression.Parameter(typeof(Value), "x");
        var locals = new List<ParameterExpression>();
        var statements = new List<LinqExpression>();
        LinqExpression[] elements;
        if (input.Shape.IsScalar) elements = [LinqExpression.Call(x, ToScalar)];
        else
        {
            var storage = LinqExpression.Variable(typeof(double[]), "storage");
            locals.Add(storage);
            statements.Add(LinqExpression.Assign(storage, LinqExpression.Property(x, Storage)));
            elements = new LinqExpression[input.Shape.Size];
            for (var k = 0; k < elements.Length; k++) elements[k] = LinqExpression.ArrayIndex(storage, LinqExpression.Constant(k));
        }
        var emit = new Emitter(locals, statements);
        for (var k = 0; k < elements.Length; k++) elements[k] = emit.Local(elements[k]);
        var emitted = EmitSteps(steps, [value, grad], [input], [elements], locals, statements);
        if (emitted is null) return null;
        statements.Add(LinqExpression.New(typeof((Value, Value)).GetConstructor([typeof(Value), typeof(Value)])!,
            NewValue(value.Shape, emitted[value]), NewValue(grad.Shape, emitted[grad])));
        return LinqExpression.Lambda<Func<Value, (Value, Value)>>(LinqExpression.Block(locals, statements), x).Compile();
    }

    /// <summary>A new value of these elements (fresh storage on every call, never shared with the input).</summary>
    private static LinqExpression NewValue(Shape shape, LinqExpression[] elements) =>
        shape.IsScalar
            ? LinqExpression.Call(ScalarValue, elements[0])
            : LinqExpression.Call(OwnValue, ShapeOf(shape), LinqExpression.NewArrayInit(typeof(double), elements));

    /// <summary>The shape built from its dimensions (a struct constant would be boxed in the closure and unboxed on every call).</summary>
    private static LinqExpression ShapeOf(Shape shape) =>
        shape.IsVector
            ? LinqExpression.Call(typeof(Shape).GetMethod(nameof(Shape.Vector), [typeof(int)])!, LinqExpression.Constant(shape.Size))
            : LinqExpression.Call(typeof(Shape).GetMethod(nameof(Shape.Matrix), [typeof(int), typeof(int)])!,
                LinqExpression.Constant(shape.Rows), LinqExpression.Constant(shape.Cols));

    /// <summary>
    /// A node's elements (in storage order) from its inputs' elements, exactly as the op's forward kernel computes them,
    /// or null for an op without such a rule. A node of scalars is its op's scalar function (<see cref="Kernel"/>).
    /// Element-wise ops (of one input, of two broadcasting ones, and <c>where</c>) compute each element by their scalar
    /// function from the elements the kernel reads for it: their vectorised kernels give every element the scalar's
    /// bits (the ops' rule, see Elementwise.cs). Reductions (sum, column sums, dot) of these lengths are added by their
    /// kernels one after another from 0 (<see cref="SumOp.SequentialLength"/>), and so they are here; row sums add the
    /// columns one after another from 0, as their kernel does. Broadcasts, transposes, reshapes, indexing and
    /// scattering only move elements.
    /// </summary>
    private static LinqExpression[]? ElementsOf(Expr node, ReadOnlySpan<LinqExpression[]> x, Emitter emit)
    {
        var op = node.Op!;
        var inputs = node.Inputs;
        var allScalar = node.Shape.IsScalar;
        foreach (var i in inputs) allScalar &= i.Shape.IsScalar;
        if (allScalar)
        {
            var a = new LinqExpression[x.Length];
            for (var k = 0; k < a.Length; k++) a[k] = x[k][0];
            return [Kernel(op, a)];
        }
        var shape = node.Shape;
        var n = shape.Size;
        var y = new LinqExpression[n];
        switch (op)
        {
            case ElementwiseOp or NegOp:
                for (var k = 0; k < n; k++) y[k] = Kernel(op, [x[0][k]]);
                return y;
            case StopGradientOp:
                return x[0];
            case BinaryElementwiseOp or WhereOp:
            {
                var (rows, cols) = Broadcasting.Aligned(shape);
                var a = new LinqExpression[inputs.Length];
                for (var j = 0; j < cols; j++)
                    for (var i = 0; i < rows; i++)
                    {
                        for (var t = 0; t < a.Length; t++)
                        {
                            var (r, c) = Broadcasting.Aligned(inputs[t].Shape);
                            a[t] = x[t][Broadcasting.Index(r, c, i, j)];
                        }
                        y[j * rows + i] = Kernel(op, a);
                    }
                return y;
            }
            case SumOp:
                return [emit.Sequence(x[0])];
            case DotOp:
            {
                var a = x[0];
                var b = x[1];
                return [emit.Sequence(Enumerable.Range(0, a.Length).Select(k => emit.Local(LinqExpression.Multiply(a[k], b[k]))))];
            }
            case ColumnSumsOp:
            {
                var m = inputs[0].Shape.Rows;
                for (var j = 0; j < n; j++) y[j] = emit.Sequence(x[0].AsSpan(j * m, m).ToArray());
                return y;
            }
            case RowSumsOp:
            {
                // TensorPrimitives.Add(y, column j, y) from y = 0, column after column: each element a chain of IEEE additions.
                var cols = inputs[0].Shape.Cols;
                for (var i = 0; i < n; i++)
                {
                    LinqExpression sum = LinqExpression.Constant(0.0);
                    for (var j = 0; j < cols; j++) sum = emit.Local(LinqExpression.Add(sum, x[0][j * n + i]));
                    y[i] = sum;
                }
                return y;
            }
            case BroadcastScalarOp:
                Array.Fill(y, x[0][0]);
                return y;
            case BroadcastRowsOp b:
                for (var j = 0; j < shape.Cols; j++)
                    for (var i = 0; i < b.Rows; i++) y[j * b.Rows + i] = x[0][j];
                return y;
            case BroadcastColumnsOp:
                for (var j = 0; j < shape.Cols; j++)
                    for (var i = 0; i < shape.Rows; i++) y[j * shape.Rows + i] = x[0][i];
                return y;
            case IndexOp index:
                return [x[0][index.Offset(inputs[0].Shape)]];
            case ScatterOp scatter:
                Array.Fill(y, LinqExpression.Constant(0.0));
                y[scatter.Offset] = x[0][0];
                return y;
            case ReshapeOp:
                // Element r in row-major order stays element r (ReshapeOp.Eval).
                for (var r = 0; r < n; r++) y[ShapeRules.StorageOfRowMajor(shape, r)] = x[0][ShapeRules.StorageOfRowMajor(inputs[0].Shape, r)];
                return y;
            case TransposeOp:
            {
                int m = inputs[0].Shape.Rows, c = inputs[0].Shape.Cols;
                for (var j = 0; j < c; j++)
                    for (var i = 0; i < m; i++) y[i * c + j] = x[0][j * m + i];
                return y;
            }
            default:
                return null;
        }
    }

    /// <summary>The node's value from its inputs' values: the op's own scalar function.</summary>
    private static LinqExpression Kernel(Op op, ReadOnlySpan<LinqExpression> a)
    {
        switch (op)
        {
            // The four arithmetic ops and square are single IEEE operations (their scalar Apply is a + b, …, x * x):
            // written as IL they give the same bits, without a call per node.
            case AddOp:
                return LinqExpression.Add(a[0], a[1]);
            case SubOp:
                return LinqExpression.Subtract(a[0], a[1]);
            case MulOp:
                return LinqExpression.Multiply(a[0], a[1]);
            case DivOp:
                return LinqExpression.Divide(a[0], a[1]);
            case SquareOp:
            case PowOp { Exponent: 2 }: // PowOp.Apply: x * x for the exponent 2
                return LinqExpression.Multiply(a[0], a[0]);
            case NegOp:
                return LinqExpression.Negate(a[0]); // NegOp.Eval on a scalar: −x
            case WhereOp:
                return LinqExpression.Condition(LinqExpression.NotEqual(a[0], LinqExpression.Constant(0.0)), a[1], a[2]); // c ≠ 0 ? a : b, NaN choosing a
            case ElementwiseOp:
            {
                var apply = ScalarFunction(op.GetType(), 1);
                return ForwardedKernel(apply) is { } kernel
                    ? LinqExpression.Call(kernel, a[0])
                    : LinqExpression.Call(LinqExpression.Constant(op, op.GetType()), apply, a[0]);
            }
            case BinaryElementwiseOp:
                return LinqExpression.Call(LinqExpression.Constant(op, op.GetType()), ScalarFunction(op.GetType(), 2), a[0], a[1]);
            default:
                return LinqExpression.Call(EvalOps[a.Length - 1], [LinqExpression.Constant(op, typeof(Op)), .. a]);
        }
    }

    /// <summary>The op type's <c>Apply(double)</c> or <c>Apply(double, double)</c>: its scalar function.</summary>
    private static MethodInfo ScalarFunction(Type op, int arity) =>
        op.GetMethod("Apply", BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic, null,
            arity == 1 ? [typeof(double)] : [typeof(double), typeof(double)], null)
        ?? throw new InvalidOperationException($"Internal error: {op.Name} has no scalar Apply of {arity} argument(s).");

    /// <summary>
    /// The static method an op's scalar function only forwards to (its whole body <c>=&gt; Kernel(x)</c>, as
    /// <c>ExpOp.Apply</c>'s is <c>ElementwiseMath.Exp(x)</c>), read from the method's IL; null for any other body. The
    /// delegate then calls the kernel itself, the same method with the same argument, so the bits cannot differ; and
    /// the JIT inlines it into the delegate when it compiles it, where a call through the op would run at the tiered
    /// JIT's first, unoptimised tier until the runtime recompiles the op's method.
    /// </summary>
    internal static MethodInfo? ForwardedKernel(MethodInfo apply)
    {
        const byte Nop = 0x00, LdArg1 = 0x03, Call = 0x28, Ret = 0x2A;
        var il = apply.GetMethodBody()?.GetILAsByteArray();
        if (il is null) return null;
        var k = 0;
        void SkipNops()
        {
            while (k < il.Length && il[k] == Nop) k++;
        }
        SkipNops();
        if (k >= il.Length || il[k++] != LdArg1) return null;
        SkipNops();
        if (k + 5 > il.Length || il[k] != Call) return null;
        var token = BitConverter.ToInt32(il, k + 1);
        k += 5;
        SkipNops();
        if (k != il.Length - 1 || il[k] != Ret) return null;
        try
        {
            return apply.Module.ResolveMethod(token) is MethodInfo { IsStatic: true, ContainsGenericParameters: false } m
                && m.ReturnType == typeof(double) && m.GetParameters() is [{ ParameterType: var t }] && t == typeof(double)
                ? m
                : null;
        }
        catch (ArgumentException)
        {
            return null; // a token this module cannot resolve on its own: call the op instead
        }
    }

    private static double Eval1(Op op, double a) => op.Eval([Value.Scalar(a)]).ToScalar();

    private static double Eval2(Op op, double a, double b) => op.Eval([Value.Scalar(a), Value.Scalar(b)]).ToScalar();

    private static double Eval3(Op op, double a, double b, double c) => op.Eval([Value.Scalar(a), Value.Scalar(b), Value.Scalar(c)]).ToScalar();

    private static double Eval4(Op op, double a, double b, double c, double d) =>
        op.Eval([Value.Scalar(a), Value.Scalar(b), Value.Scalar(c), Value.Scalar(d)]).ToScalar();

    private static Exception WrongLength(double[]? a, int n, string combinator) =>
        a is null
            ? new ArgumentNullException("a", UserCode.Mark($"The function compiled by {combinator} was given a null array: give an array of {n} elements."))
            : new ArgumentException(UserCode.Mark(
                $"The function compiled by {combinator} takes an array of exactly {n} elements, but was given {a.Length}: " +
                "pass the length to CompileGrad(f, length) when the array is longer than the highest index read + 1."), "a");

    private static ShapeMismatchException NotScalar(string combinator, Expr node, Expr reader) =>
        new(combinator, node.Shape,
            $"The emitter compiles graphs whose nodes are all scalars, but {(node.Op?.Name ?? "the variable")} `{Export.Text.Render(node)}`" +
            $"{(ReferenceEquals(node, reader) ? "" : $", read by {reader.Op!.Name}")} is {node.Shape}: use AD.ValueAndGrad for graphs of tensors.");
}
