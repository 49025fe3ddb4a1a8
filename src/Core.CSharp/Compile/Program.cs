using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>
/// A graph flattened once into a program: instructions (an op, the slots of its arguments, the slot of its result)
/// over numbered slots, in one topological order. Slots are laid out as the inputs, then the constants (the nodes
/// that carry a value when the program is built, hoisted once), then one per instruction. Every instruction runs its
/// op's own forward kernel (<see cref="Op.Eval"/>, <see cref="Op.EvalInto(System.ReadOnlySpan{Value}, double[])"/> into a buffer, or for a scalar the very
/// function Eval applies), so a program gives the graph's numbers bit for bit. This is the engine's one evaluator of
/// flattened graphs: compiled functions (<see cref="Compiled"/>) and the library ops' compiled VJP rules
/// (<see cref="CompiledVjp"/>) both run it.
/// </summary>
/// <remarks>
/// <para>A planned program keeps scalars in a register file of doubles (no <see cref="Value"/> per scalar, no
/// allocation), and gives each non-scalar intermediate whose op writes into storage a buffer, planned once by liveness:
/// a buffer goes back to the free list (by size) once the last instruction reading it has run, so later results reuse
/// it. Outputs never share a buffer: each call gives them fresh storage, so a result handed out is never overwritten
/// (a program built to borrow its outputs, for a caller that reads them before the frame goes back, keeps them in the frame's buffers instead).
/// A plain program (a one-op rule) keeps every slot a Value and plans nothing.</para>
/// <para>A planned run works in a <see cref="Frame"/> (the slots, registers and buffers of one call), rented from the
/// program's pool and returned after the run, so concurrent calls never share one and the steady state allocates only
/// the results; a returned frame holds no input (its input and non-scalar slots are cleared).</para>
/// <para>Building and running are loops: a chain of a million nodes touches no call stack.</para>
/// </remarks>
internal sealed class Program
{
    private enum Kind : byte
    {
        /// <summary>The result is whatever the op's Eval returns (copied when it would share a planned buffer).</summary>
        Eval,

        /// <summary>The op writes into a planned buffer reused from call to call.</summary>
        Buffer,

        /// <summary>An element-wise function of one scalar register into a register.</summary>
        Unary,

        /// <summary>An element-wise function of two scalar registers into a register.</summary>
        Binary,
    }

    /// <summary>How a fusable element-wise instruction reads its arguments (as Eval's kernel does for these sizes).</summary>
    private enum Form : byte
    {
        /// <summary>Not fusable.</summary>
        None,

        /// <summary>f(span).</summary>
        Unary,

        /// <summary>f(span, span) of equal sizes.</summary>
        SpanSpan,

        /// <summary>f(span, number): the second argument has one element.</summary>
        SpanNumber,

        /// <summary>f(number, span): the first argument has one element.</summary>
        NumberSpan,
    }

    /// <summary>A run of consecutive fusable element-wise instructions of one size, executed chunk by chunk.</summary>
    private readonly record struct Group(int Start, int Count, int Size);

    /// <summary>
    /// Elements per chunk of a fused group: every array of the group stays in cache while the chunk passes through the
    /// whole chain. The same kernels run on each chunk, and an element's result depends only on its own inputs, so the
    /// bits are those of whole-array passes.
    /// </summary>
    internal const int Chunk = 1024;

    /// <summary>Groups of arrays shorter than this run unfused (one pass per op already fits the cache).</summary>
    internal const int MinFusedSize = 4 * Chunk;

    private readonly struct Instruction(Op op, int[] args, int dest, Shape shape, Kind kind, int buffer, bool readsBuffer, int scalarArgs, bool scalarResult)
    {
        public readonly Op Op = op;
        public readonly ElementwiseOp? Unary = op as ElementwiseOp;
        public readonly BinaryElementwiseOp? Binary = op as BinaryElementwiseOp;
        public readonly int[] Args = args;
        public readonly int Dest = dest;
        public readonly Shape Shape = shape;
        public readonly Kind Kind = kind;
        public readonly int Buffer = buffer;

        /// <summary>An argument lives in a planned buffer, so an Eval result must not keep its storage.</summary>
        public readonly bool ReadsBuffer = readsBuffer;

        /// <summary>Bit k set: argument k is in a scalar register.</summary>
        public readonly int ScalarArgs = scalarArgs;

        /// <summary>The result goes to a scalar register.</summary>
        public readonly bool ScalarResult = scalarResult;

        /// <summary>How the instruction would run in a fused group (None: it cannot).</summary>
        public Form Form { get; init; }

        /// <summary>The group this instruction starts, or −1.</summary>
        public int Group { get; init; } = -1;
    }

    /// <summary>One member of a fused group, resolved for one run: its argument arrays or numbers and its destination.</summary>
    internal struct FusedStep
    {
        public double[]? A;
        public double[]? B;
        public double NumberA;
        public double NumberB;
        public double[] Dest;
    }

    private readonly Instruction[] code;
    private readonly Value[] constants;
    private readonly bool[] inRegister;
    private readonly int[] bufferSizes;
    private readonly int[] outputs;
    private readonly int[] referenceSlots; // inputs and results kept as Values: cleared when a frame is returned
    private readonly Group[] groups;
    private readonly int longestGroup;
    private readonly int inputCount;
    private readonly int slotCount;
    private readonly ConcurrentBag<Frame> frames = new();
    private Frame? spare; // one frame kept beside the pool: a single-threaded caller rents and returns it with two atomic swaps

    private Program(int inputCount, Value[] constants, bool[] inRegister, Instruction[] code, int[] bufferSizes, int[] outputs, int[] referenceSlots, int slotCount, Group[] groups)
    {
        this.groups = groups;
        foreach (var g in groups) longestGroup = Math.Max(longestGroup, g.Count);
        this.inputCount = inputCount;
        this.constants = constants;
        this.inRegister = inRegister;
        this.code = code;
        this.bufferSizes = bufferSizes;
        this.outputs = outputs;
        this.referenceSlots = referenceSlots;
        this.slotCount = slotCount;
    }

    /// <summary>How many inputs a run takes.</summary>
    public int InputCount => inputCount;

    /// <summary>How many outputs a run gives.</summary>
    public int OutputCount => outputs.Length;

    /// <summary>How many instructions the program runs.</summary>
    public int InstructionCount => code.Length;

    /// <summary>How many slots a plain run needs (see <see cref="RunPlain"/>).</summary>
    public int SlotCount => slotCount;

    /// <summary>How many planned buffers a frame holds (after reuse by liveness).</summary>
    public int BufferCount => bufferSizes.Length;

    /// <summary>How many fused groups of element-wise instructions the program runs chunk by chunk.</summary>
    public int FusedGroupCount => groups.Length;

    /// <summary>How many instructions run inside fused groups.</summary>
    public int FusedInstructionCount
    {
        get
        {
            var n = 0;
            foreach (var g in groups) n += g.Count;
            return n;
        }
    }

    /// <summary>The constants the program keeps (hoisted once).</summary>
    public ReadOnlySpan<Value> Constants => constants;

    /// <summary>
    /// Flattens the graphs of <paramref name="results"/> over the inputs <paramref name="inputs"/> (variables without
    /// values). A node that carries a value (it depends on constants only) is a constant of the program. A variable
    /// that is neither an input nor has a value is refused. <paramref name="plan"/> plans scalar registers and buffers
    /// (for runs in a <see cref="Frame"/>); without it every slot is a Value (for <see cref="RunPlain"/>).
    /// With <paramref name="borrowOutputs"/> (planned programs only), a non-scalar output whose op writes into storage
    /// gets a buffer of the frame too, never reused by another result: its Value is then only good until the frame is
    /// returned, and the caller reads it before that (a data-parallel sum of chunk gradients, which allocates only the sum).
    /// </summary>
    /// <exception cref="UnboundVariableException">A graph reads a variable that is not an input and has no value.</exception>
    public static Program Build(ReadOnlySpan<Var> inputs, ReadOnlySpan<Expr> results, bool plan = true, bool borrowOutputs = false)
    {
        // One topological order over all the results, the inputs left out.
        var order = Graph.PostOrder(results, inputs);

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

        // Scalars live in registers (planned programs only).
        var inRegister = new bool[next];
        if (plan)
        {
            for (var k = 0; k < inputs.Length; k++) inRegister[k] = inputs[k].Shape.IsScalar;
            for (var k = 0; k < constants.Count; k++) inRegister[inputs.Length + k] = constants[k].Shape.IsScalar;
            foreach (var node in ops) inRegister[slotOf[node]] = node.Shape.IsScalar;
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
        var referenceSlots = new List<int>();
        for (var k = 0; k < inputs.Length; k++)
            if (!inRegister[k]) referenceSlots.Add(k);
        for (var i = 0; i < ops.Count; i++)
        {
            var node = ops[i];
            var dest = slotOf[node];
            var op = node.Op!;
            var a = args[i];
            var scalarArgs = 0;
            for (var k = 0; k < a.Length; k++)
                if (inRegister[a[k]]) scalarArgs |= 1 << k;
            var allScalar = inRegister[dest] && scalarArgs == (1 << a.Length) - 1;
            var kind = allScalar && op is ElementwiseOp ? Kind.Unary
                : allScalar && op is BinaryElementwiseOp ? Kind.Binary
                : plan && (!isOutput[dest] || borrowOutputs) && !node.Shape.IsScalar && op.WritesInto ? Kind.Buffer
                : Kind.Eval;
            if (!inRegister[dest]) referenceSlots.Add(dest);
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
            foreach (var s in a) readsBuffer |= bufferOf[s] >= 0;
            code[i] = new Instruction(op, a, dest, node.Shape, kind, buffer, readsBuffer, scalarArgs, inRegister[dest]);
            // After the destination is chosen (so it never overlaps an argument), release the arguments read last here.
            foreach (var s in a)
            {
                if (lastUse[s] != i || bufferOf[s] < 0 || isOutput[s]) continue; // an output's buffer is never reused
                var b = bufferOf[s];
                bufferOf[s] = -1; // released once, even when the argument appears twice
                if (!free.TryGetValue(sizes[b], out var stack)) free[sizes[b]] = stack = new Stack<int>();
                stack.Push(b);
            }
        }
        // Fusion: maximal runs of consecutive element-wise instructions of one size writing arrays.
        var shapeOf = new Shape[next];
        for (var k = 0; k < inputs.Length; k++) shapeOf[k] = inputs[k].Shape;
        for (var k = 0; k < constants.Count; k++) shapeOf[inputs.Length + k] = constants[k].Shape;
        foreach (var node in ops) shapeOf[slotOf[node]] = node.Shape;
        var groups = new List<Group>();
        if (plan)
        {
            for (var i = 0; i < code.Length; i++) code[i] = code[i] with { Form = FormOf(code[i], shapeOf) };
            for (var i = 0; i < code.Length;)
            {
                var j = i;
                var size = code[i].Shape.Size;
                while (j < code.Length && code[j].Form != Form.None && code[j].Shape.Size == size && size >= MinFusedSize) j++;
                if (j - i >= 2)
                {
                    code[i] = code[i] with { Group = groups.Count };
                    groups.Add(new Group(i, j - i, size));
                    i = j;
                }
                else i = Math.Max(j, i + 1);
            }
        }
        return new Program(inputs.Length, constants.ToArray(), inRegister, code, sizes.ToArray(), outputSlots, referenceSlots.ToArray(), next, groups.ToArray());
    }

    /// <summary>How an instruction reads its arguments when fused: Eval's own case analysis for these sizes, or None.</summary>
    private static Form FormOf(in Instruction ins, Shape[] shapeOf)
    {
        if (ins.ScalarResult || ins.Kind is not (Kind.Buffer or Kind.Eval)) return Form.None;
        var n = ins.Shape.Size;
        if (ins.Unary is not null) return Form.Unary;
        if (ins.Binary is null) return Form.None;
        Shape a = shapeOf[ins.Args[0]], b = shapeOf[ins.Args[1]];
        // The order of BinaryElementwiseOp.Fill's cases: equal sizes, then a number on the right, then on the left.
        if (a.Size == n && b.Size == n && !a.IsScalar && !b.IsScalar) return Form.SpanSpan;
        if (a.Size == n && b.Size == 1 && !a.IsScalar) return Form.SpanNumber;
        if (b.Size == n && a.Size == 1 && !b.IsScalar) return Form.NumberSpan;
        return Form.None;
    }

    // ------------------------------------------------------------------ planned runs, in frames

    /// <summary>A frame for one run: the spare one, one from the pool, or a new one.</summary>
    public Frame Rent() => Interlocked.Exchange(ref spare, null) ?? (frames.TryTake(out var frame) ? frame : new Frame(this));

    /// <summary>Clears the frame's inputs and non-scalar results and hands it back.</summary>
    public void Return(Frame frame)
    {
        var slots = frame.Slots;
        foreach (var s in referenceSlots) slots[s] = default;
        Array.Clear(frame.Registers, 0, inputCount);
        if (Interlocked.CompareExchange(ref spare, frame, null) is not null) frames.Add(frame);
    }

    /// <summary>Sets input <paramref name="k"/> of the next run in <paramref name="frame"/> (of the shape the program was built for).</summary>
    public void SetInput(Frame frame, int k, Value x)
    {
        if (inRegister[k]) frame.Registers[k] = x.ToScalar();
        else frame.Slots[k] = x;
    }

    /// <summary>Output <paramref name="k"/> of the last run in <paramref name="frame"/>.</summary>
    public Value Output(Frame frame, int k)
    {
        var s = outputs[k];
        return inRegister[s] ? Value.Scalar(frame.Registers[s]) : frame.Slots[s];
    }

    /// <summary>Runs the program on the inputs set in <paramref name="frame"/>; the outputs are then read from it.</summary>
    public void Run(Frame frame) => Execute(frame.Slots, frame.Registers, frame.Buffers, frame.Args, frame.Steps);

    // ------------------------------------------------------------------ plain runs, in the caller's scratch

    /// <summary>
    /// Runs a plain program (built without <c>plan</c>) in <paramref name="scratch"/>, whose first
    /// <see cref="InputCount"/> entries the caller has set to the inputs, and returns output <paramref name="k"/>.
    /// The scratch must hold <see cref="SlotCount"/> + <see cref="Expr.MaxArity"/> values.
    /// </summary>
    public Value RunPlain(Value[] scratch, int k)
    {
        constants.CopyTo(scratch.AsSpan(inputCount));
        var args = scratch.AsSpan(slotCount, Expr.MaxArity);
        Execute(scratch, null, null, args);
        return scratch[outputs[k]];
    }

    // ------------------------------------------------------------------ the evaluator

    private void Execute(Value[] slots, double[]? registers, double[][]? buffers, Span<Value> x, FusedStep[]? steps = null)
    {
        var program = code.AsSpan();
        for (var i = 0; i < program.Length; i++)
        {
            ref readonly var ins = ref program[i];
            if (ins.Group >= 0)
            {
                var g = groups[ins.Group];
                RunGroup(program.Slice(g.Start, g.Count), g.Size, slots, registers!, buffers!, steps!);
                i += g.Count - 1;
                continue;
            }
            var a = ins.Args;
            switch (ins.Kind)
            {
                case Kind.Unary:
                    registers![ins.Dest] = ins.Unary!.ApplyScalar(registers[a[0]]);
                    continue;
                case Kind.Binary:
                    registers![ins.Dest] = ins.Binary!.ApplyScalar(registers[a[0]], registers[a[1]]);
                    continue;
            }
            for (var k = 0; k < a.Length; k++) x[k] = (ins.ScalarArgs & (1 << k)) != 0 ? Value.Scalar(registers![a[k]]) : slots[a[k]];
            var args = x[..a.Length];
            if (ins.Kind == Kind.Buffer)
            {
                var storage = buffers![ins.Buffer];
                ins.Op.EvalInto(args, storage);
                slots[ins.Dest] = Value.Own(ins.Shape, storage);
                continue;
            }
            var y = ins.Op.EvalChecked(args, ins.Shape);
            if (ins.ScalarResult) registers![ins.Dest] = y.ToScalar();
            else
            {
                // An Eval that hands back an argument's storage (a stop-gradient, a reshape) must not keep a planned
                // buffer alive past its reuse: such a result is copied.
                if (ins.ReadsBuffer && y.StorageOrNull is { } d && SharesStorage(d, args)) y = Value.Own(y.Shape, (double[])d.Clone());
                slots[ins.Dest] = y;
            }
        }
        x.Clear();
    }

    /// <summary>
    /// Runs a fused group: every member's destination is set first (a planned buffer, or fresh storage for an output),
    /// then the chunks pass through the whole chain in order. A buffer reused inside the group is safe chunk by chunk:
    /// its earlier occupant's readers come before its new writer in the chain, position for position.
    /// </summary>
    private static void RunGroup(ReadOnlySpan<Instruction> members, int n, Value[] slots, double[] registers, double[][] buffers, FusedStep[] steps)
    {
        for (var m = 0; m < members.Length; m++)
        {
            ref readonly var ins = ref members[m];
            var dest = ins.Kind == Kind.Buffer ? buffers[ins.Buffer] : new double[n];
            slots[ins.Dest] = Value.Own(ins.Shape, dest);
            steps[m].Dest = dest;
        }
        for (var m = 0; m < members.Length; m++)
        {
            ref readonly var ins = ref members[m];
            ref var step = ref steps[m];
            var a = ins.Args;
            switch (ins.Form)
            {
                case Form.Unary:
                    step.A = slots[a[0]].Storage;
                    break;
                case Form.SpanSpan:
                    step.A = slots[a[0]].Storage;
                    step.B = slots[a[1]].Storage;
                    break;
                case Form.SpanNumber:
                    step.A = slots[a[0]].Storage;
                    step.NumberB = (ins.ScalarArgs & 2) != 0 ? registers[a[1]] : slots[a[1]].Storage[0];
                    break;
                default:
                    step.NumberA = (ins.ScalarArgs & 1) != 0 ? registers[a[0]] : slots[a[0]].Storage[0];
                    step.B = slots[a[1]].Storage;
                    break;
            }
        }
        for (var start = 0; start < n; start += Chunk)
        {
            var length = Math.Min(Chunk, n - start);
            for (var m = 0; m < members.Length; m++)
            {
                ref readonly var ins = ref members[m];
                ref readonly var step = ref steps[m];
                var dest = step.Dest.AsSpan(start, length);
                switch (ins.Form)
                {
                    case Form.Unary:
                        ins.Unary!.ApplyInto(step.A.AsSpan(start, length), dest);
                        break;
                    case Form.SpanSpan:
                        ins.Binary!.ApplyInto(step.A.AsSpan(start, length), step.B.AsSpan(start, length), dest);
                        break;
                    case Form.SpanNumber:
                        ins.Binary!.ApplyInto(step.A.AsSpan(start, length), step.NumberB, dest);
                        break;
                    default:
                        ins.Binary!.ApplyInto(step.NumberA, step.B.AsSpan(start, length), dest);
                        break;
                }
            }
        }
        for (var m = 0; m < members.Length; m++) steps[m] = default;
    }

    private static bool SharesStorage(double[] storage, ReadOnlySpan<Value> args)
    {
        foreach (var a in args)
            if (ReferenceEquals(a.StorageOrNull, storage)) return true;
        return false;
    }

    /// <summary>
    /// The slots, scalar registers and buffers of one planned run. Set the inputs with <see cref="SetInput"/>; never
    /// shared between two runs at once.
    /// </summary>
    internal sealed class Frame
    {
        public Frame(Program program)
        {
            Slots = new Value[program.slotCount];
            Registers = new double[program.slotCount];
            for (var k = 0; k < program.constants.Length; k++)
            {
                var s = program.inputCount + k;
                if (program.inRegister[s]) Registers[s] = program.constants[k].ToScalar();
                else Slots[s] = program.constants[k];
            }
            Buffers = new double[program.bufferSizes.Length][];
            for (var b = 0; b < Buffers.Length; b++) Buffers[b] = new double[program.bufferSizes[b]];
            Args = new Value[Expr.MaxArity];
            Steps = new FusedStep[program.longestGroup];
        }

        public FusedStep[] Steps { get; }

        public Value[] Slots { get; }

        public double[] Registers { get; }

        public double[][] Buffers { get; }

        public Value[] Args { get; }
    }
}
