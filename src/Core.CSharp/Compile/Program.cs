using System;
using System.Collections.Concurrent;
using System.Collections.Generic;

namespace Functional.Autodiff;

/// <summary>
/// A graph flattened once into a program: instructions (an op, the slots of its arguments, the slot of its result)
/// over numbered slots, in one topological order. Slots are laid out as the inputs, then the constants (the nodes
/// that carry a value when the program is built, hoisted once), then one per instruction. Every instruction runs its
/// op's own forward kernel (<see cref="Op.Eval"/>, or <see cref="Op.EvalInto"/> into a buffer), so a program gives the
/// graph's numbers bit for bit.
/// </summary>
/// <remarks>
/// <para>Buffers are planned once by liveness: a non-scalar intermediate result whose op writes into storage gets a
/// buffer, and a buffer goes back to the free list (by size) once the last instruction reading it has run, so later
/// results reuse it. Scalars need no buffer at all. Outputs never share a buffer: each call gives them fresh storage,
/// so a result handed to the caller is never overwritten.</para>
/// <para>A run works in a <see cref="Frame"/> (the slots and buffers of one call). Frames are rented from the program's
/// pool and returned after the run, so concurrent calls never share one and the steady state allocates only the
/// results; a returned frame holds no input (its input and result slots are cleared).</para>
/// <para>Building and running are loops: a chain of a million nodes touches no call stack.</para>
/// </remarks>
internal sealed class Program
{
    private enum Kind : byte
    {
        /// <summary>The result is whatever the op's Eval returns (a scalar, or an op that allocates its own storage).</summary>
        Eval,

        /// <summary>The op writes into a planned buffer reused from call to call.</summary>
        Buffer,

        /// <summary>A program output computed by the op's Eval, copied when it would share a planned buffer.</summary>
        Output,
    }

    private readonly struct Instruction(Op op, int[] args, int dest, Shape shape, Kind kind, int buffer, bool readsBuffer)
    {
        public readonly Op Op = op;
        public readonly int[] Args = args;
        public readonly int Dest = dest;
        public readonly Shape Shape = shape;
        public readonly Kind Kind = kind;
        public readonly int Buffer = buffer;

        /// <summary>An argument lives in a planned buffer, so an Eval result must not keep its storage.</summary>
        public readonly bool ReadsBuffer = readsBuffer;
    }

    private readonly Instruction[] code;
    private readonly Value[] constants;
    private readonly int[] bufferSizes;
    private readonly int[] outputs;
    private readonly int inputCount;
    private readonly int slotCount;
    private readonly ConcurrentBag<Frame> frames = new();

    private Program(int inputCount, Value[] constants, Instruction[] code, int[] bufferSizes, int[] outputs, int slotCount)
    {
        this.inputCount = inputCount;
        this.constants = constants;
        this.code = code;
        this.bufferSizes = bufferSizes;
        this.outputs = outputs;
        this.slotCount = slotCount;
    }

    /// <summary>How many inputs a run takes.</summary>
    public int InputCount => inputCount;

    /// <summary>How many outputs a run gives.</summary>
    public int OutputCount => outputs.Length;

    /// <summary>How many instructions the program runs.</summary>
    public int InstructionCount => code.Length;

    /// <summary>How many planned buffers a frame holds (after reuse by liveness).</summary>
    public int BufferCount => bufferSizes.Length;

    /// <summary>The shapes of the inputs, in order.</summary>
    public Shape[] InputShapes { get; private set; } = [];

    /// <summary>
    /// Flattens the graphs of <paramref name="results"/> over the inputs <paramref name="inputs"/> (variables without
    /// values). A node that carries a value (it depends on constants only) is a constant of the program. A variable
    /// that is neither an input nor has a value is refused.
    /// </summary>
    /// <exception cref="UnboundVariableException">A graph reads a variable that is not an input and has no value.</exception>
    public static Program Build(ReadOnlySpan<Var> inputs, ReadOnlySpan<Expr> results)
    {
        // One topological order over all the results: each result's post-order, skipping the nodes met already.
        var position = new Dictionary<Expr, int>(Identity.Instance);
        var order = new List<Expr>();
        foreach (var v in inputs) position.TryAdd(v, -1);
        foreach (var r in results)
        {
            using var sorted = new SortedGraph(r);
            foreach (var node in sorted.Order)
            {
                if (position.ContainsKey(node)) continue;
                position[node] = -1;
                order.Add(node);
            }
        }

        // Slots: the inputs, then the constants, then the instructions' results.
        var slotOf = new Dictionary<Expr, int>(Identity.Instance);
        for (var k = 0; k < inputs.Length; k++) slotOf.TryAdd(inputs[k], k);
        var constants = new List<Value>();
        foreach (var node in order)
        {
            if (node.HasValue)
            {
                slotOf[node] = inputs.Length + constants.Count;
                constants.Add(node.Value);
            }
            else if (node is Var v) throw new UnboundVariableException(v);
        }
        var next = inputs.Length + constants.Count;
        var ops = new List<Expr>();
        foreach (var node in order)
        {
            if (slotOf.ContainsKey(node)) continue;
            slotOf[node] = next++;
            ops.Add(node);
        }

        var outputSlots = new int[results.Length];
        var isOutput = new bool[next];
        for (var k = 0; k < results.Length; k++) isOutput[outputSlots[k] = slotOf[results[k]]] = true;

        // Liveness: the last instruction reading each slot.
        var lastUse = new int[next];
        Array.Fill(lastUse, -1);
        var args = new int[ops.Count][];
        for (var i = 0; i < ops.Count; i++)
        {
            var inputsOf = ops[i].Inputs;
            var a = new int[inputsOf.Length];
            for (var k = 0; k < a.Length; k++) lastUse[a[k] = slotOf[inputsOf[k]]] = i;
            args[i] = a;
        }

        // Buffers: a non-scalar, non-output result of an op that writes into storage; freed after its last reader.
        var bufferOf = new int[next];
        Array.Fill(bufferOf, -1);
        var sizes = new List<int>();
        var free = new Dictionary<int, Stack<int>>();
        var code = new Instruction[ops.Count];
        for (var i = 0; i < ops.Count; i++)
        {
            var node = ops[i];
            var dest = slotOf[node];
            var op = node.Op!;
            var kind = isOutput[dest] ? Kind.Output : !node.Shape.IsScalar && op.WritesInto ? Kind.Buffer : Kind.Eval;
            var buffer = -1;
            if (kind == Kind.Buffer)
            {
                var size = node.Shape.Size;
                if (free.TryGetValue(size, out var stack) && stack.Count > 0) buffer = stack.Pop();
                else
                {
                    buffer = sizes.Count;
                    sizes.Add(size);
                }
                bufferOf[dest] = buffer;
            }
            var readsBuffer = false;
            foreach (var s in args[i]) readsBuffer |= bufferOf[s] >= 0;
            code[i] = new Instruction(op, args[i], dest, node.Shape, kind, buffer, readsBuffer);
            // After the destination is chosen (so it never overlaps an argument), release the arguments read last here.
            foreach (var s in args[i])
            {
                if (lastUse[s] != i || bufferOf[s] < 0) continue;
                var b = bufferOf[s];
                bufferOf[s] = -1; // released once, even when the argument appears twice
                if (!free.TryGetValue(sizes[b], out var stack)) free[sizes[b]] = stack = new Stack<int>();
                stack.Push(b);
            }
        }

        var shapes = new Shape[inputs.Length];
        for (var k = 0; k < inputs.Length; k++) shapes[k] = inputs[k].Shape;
        return new Program(inputs.Length, constants.ToArray(), code, sizes.ToArray(), outputSlots, next) { InputShapes = shapes };
    }

    /// <summary>A frame for one run: from the pool, or a new one.</summary>
    public Frame Rent()
    {
        if (frames.TryTake(out var frame)) return frame;
        return new Frame(this);
    }

    /// <summary>Clears the frame's inputs and results and hands it back to the pool.</summary>
    public void Return(Frame frame)
    {
        var slots = frame.Slots;
        Array.Clear(slots, 0, inputCount);
        Array.Clear(slots, inputCount + constants.Length, slotCount - inputCount - constants.Length);
        frames.Add(frame);
    }

    /// <summary>Runs the program on the inputs set in <paramref name="frame"/>; the outputs are then read from it.</summary>
    public void Run(Frame frame)
    {
        var slots = frame.Slots;
        var buffers = frame.Buffers;
        var x = frame.Args;
        foreach (ref readonly var ins in code.AsSpan())
        {
            var a = ins.Args;
            for (var k = 0; k < a.Length; k++) x[k] = slots[a[k]];
            var args = new ReadOnlySpan<Value>(x, 0, a.Length);
            switch (ins.Kind)
            {
                case Kind.Buffer:
                    var storage = buffers[ins.Buffer];
                    ins.Op.EvalInto(args, storage);
                    slots[ins.Dest] = Value.Own(ins.Shape, storage);
                    break;
                default:
                    var y = ins.Op.EvalChecked(args, ins.Shape);
                    // An Eval that hands back an argument's storage (a stop-gradient, a reshape) must not keep a planned
                    // buffer alive past its reuse: such a result is copied.
                    if (ins.ReadsBuffer && y.StorageOrNull is { } d && SharesBuffer(d, args)) y = Value.Own(y.Shape, (double[])d.Clone());
                    slots[ins.Dest] = y;
                    break;
            }
        }
        Array.Clear(x);
    }

    private static bool SharesBuffer(double[] storage, ReadOnlySpan<Value> args)
    {
        foreach (var a in args)
            if (ReferenceEquals(a.StorageOrNull, storage)) return true;
        return false;
    }

    /// <summary>Output <paramref name="k"/> of the last run in <paramref name="frame"/>.</summary>
    public Value Output(Frame frame, int k) => frame.Slots[outputs[k]];

    /// <summary>Runs the program once on <paramref name="inputs"/> and returns its outputs (for a one-off run).</summary>
    public Value[] Run(ReadOnlySpan<Value> inputs)
    {
        var frame = Rent();
        try
        {
            for (var k = 0; k < inputs.Length; k++) frame.Slots[k] = inputs[k];
            Run(frame);
            var result = new Value[outputs.Length];
            for (var k = 0; k < result.Length; k++) result[k] = Output(frame, k);
            return result;
        }
        finally
        {
            Return(frame);
        }
    }

    /// <summary>
    /// The slots and buffers of one run. Set the inputs in <see cref="Slots"/> 0 to <see cref="InputCount"/> − 1; never
    /// shared between two runs at once.
    /// </summary>
    internal sealed class Frame
    {
        public Frame(Program program)
        {
            Slots = new Value[program.slotCount];
            Array.Copy(program.constants, 0, Slots, program.inputCount, program.constants.Length);
            Buffers = new double[program.bufferSizes.Length][];
            for (var b = 0; b < Buffers.Length; b++) Buffers[b] = new double[program.bufferSizes[b]];
            Args = new Value[Expr.MaxArity];
        }

        public Value[] Slots { get; }

        public double[][] Buffers { get; }

        public Value[] Args { get; }
    }
}
