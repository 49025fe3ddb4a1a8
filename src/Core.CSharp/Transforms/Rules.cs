using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Threading;

namespace Functional.Autodiff;

/// <summary>
/// An op's VJP rule compiled for numbers: the rule is applied once to placeholder variables of the input shapes,
/// and the resulting small graph is flattened into a <see cref="Program"/> (the same flattening and evaluator as a
/// compiled function's, in its plain form: every slot a value, run in the caller's scratch) that runs each op's forward
/// kernel. This is the numeric fast path of reverse mode: derived from the same rule, never a second hand-written copy.
/// </summary>
internal sealed class CompiledVjp
{
    // Program inputs: 0..arity-1 the inputs, arity the output y, arity+1 the cotangent ȳ.
    private readonly int arity;
    private readonly Program?[] programs; // per input; null where the cotangent is always zero

    private CompiledVjp(Shape[] shapes, Program?[] programs)
    {
        arity = shapes.Length;
        Shapes = shapes;
        this.programs = programs;
        // An estimate of what keeping this rule costs: its constants' storage and a few words per instruction.
        long bytes = 64;
        foreach (var p in programs)
        {
            if (p is null) continue;
            bytes += 64 + 48L * p.InstructionCount;
            foreach (var value in p.Constants) bytes += 32 + 8L * (value.Shape.IsScalar ? 0 : value.Shape.Size);
        }
        Bytes = bytes;
    }

    /// <summary>The estimated bytes this rule keeps alive (constants and instructions), which bounds the memo.</summary>
    public long Bytes { get; }

    /// <summary>The input shapes this rule was compiled for.</summary>
    public Shape[] Shapes { get; }

    /// <summary>True when this rule was compiled for exactly these input shapes.</summary>
    public bool Matches(ReadOnlySpan<Shape> shapes) => shapes.SequenceEqual(Shapes);

    /// <summary>True when input <paramref name="i"/> always receives a zero cotangent (nothing to run for it).</summary>
    public bool IsZero(int i) => programs[i] is null;

    /// <summary>
    /// Runs the rule on numbers for input <paramref name="i"/> (which must not be <see cref="IsZero"/>), using
    /// <paramref name="scratch"/> (the caller's, grown here when too small) for its slots.
    /// </summary>
    public Value Run(int i, ImmutableArray<Expr> x, Value y, Value ybar, ref Value[] scratch)
    {
        var p = programs[i]!;
        if (scratch.Length < p.SlotCount + Expr.MaxArity) scratch = new Value[p.SlotCount + Expr.MaxArity];
        var slots = scratch;
        for (var k = 0; k < x.Length; k++) slots[k] = x[k].Value;
        slots[arity] = y;
        slots[arity + 1] = ybar;
        return p.RunPlain(slots, 0);
    }

    /// <summary>Compiles <paramref name="op"/>'s VJP rule for inputs of these shapes.</summary>
    public static CompiledVjp Compile(Op op, ReadOnlySpan<Shape> shapes, Shape output)
    {
        var arity = shapes.Length;
        var inputs = new Var[arity + 2];
        for (var i = 0; i < arity; i++) inputs[i] = new Var($"x{i}", shapes[i], true);
        inputs[arity] = new Var("y", output, true);
        inputs[arity + 1] = new Var("ybar", output, true);
        var x = ImmutableArray.Create<Expr>(inputs, 0, arity);
        var programs = new Program?[arity];
        for (var i = 0; i < arity; i++)
        {
            if (op.Vjp(i, x, inputs[arity], inputs[arity + 1]) is not { } g) continue;
            try
            {
                programs[i] = Program.Build(inputs, [g], plan: false);
            }
            catch (UnboundVariableException e)
            {
                throw new InvalidOperationException(UserCode.Mark($"The VJP rule of {op} reads a variable '{e.Variable.Name}' that is not one of its inputs."), e);
            }
        }
        return new CompiledVjp(shapes.ToArray(), programs);
    }
}

/// <summary>
/// A thread-safe memo of compiled VJP rules keyed by op (by its equality, so parameterised ops with equal
/// parameters share an entry) and input shapes. It only ever holds pure functions of its key: only the library's own
/// ops are compiled (<see cref="Op.CompilesRules"/>), and their parameters are small numbers and shapes, never a
/// caller's data. It is bounded in entries and in bytes: when the current generation is full it becomes the old one
/// and a new one starts (a rule found in the old generation moves to the new one), so memory stays within two
/// generations and a long run with many shapes keeps caching the shapes in use. A rule whose constants are large is
/// never kept: compiling it again costs little next to its data.
/// </summary>
internal static class CompiledRules
{
    /// <summary>The most entries one generation holds.</summary>
    internal const int MaxEntries = 4096;

    /// <summary>The most bytes (estimated) one generation holds.</summary>
    internal const long MaxBytes = 8L << 20;

    /// <summary>Rules larger than this (estimated bytes) are not memoised at all.</summary>
    internal const long MaxRuleBytes = 64L << 10;

    private readonly record struct Key(Op Op, Shape S0, Shape S1, Shape S2, Shape S3);

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<Key, CompiledVjp> Rules = new();
        public long Bytes;
    }

    private static Generation current = new();
    private static Generation old = new();
    private static readonly object Turnover = new();

    public static CompiledVjp For(Op op, ReadOnlySpan<Shape> shapes, Shape output)
    {
        // First the op instance's own memo (one reference, read and written atomically), then the shared table.
        var last = Volatile.Read(ref op.LastCompiledVjp);
        if (last is not null && last.Matches(shapes)) return last;
        var rule = Lookup(op, shapes, output);
        if (rule.Bytes <= MaxRuleBytes) Volatile.Write(ref op.LastCompiledVjp, rule);
        return rule;
    }

    private static CompiledVjp Lookup(Op op, ReadOnlySpan<Shape> shapes, Shape output)
    {
        var key = new Key(op,
            shapes.Length > 0 ? shapes[0] : default,
            shapes.Length > 1 ? shapes[1] : default,
            shapes.Length > 2 ? shapes[2] : default,
            shapes.Length > 3 ? shapes[3] : default);
        var generation = Volatile.Read(ref current);
        if (generation.Rules.TryGetValue(key, out var rule)) return rule;
        if (!Volatile.Read(ref old).Rules.TryGetValue(key, out rule))
        {
            rule = CompiledVjp.Compile(op, shapes, output);
            if (rule.Bytes > MaxRuleBytes) return rule;
        }
        Add(generation, key, rule);
        return rule;
    }

    private static void Add(Generation generation, Key key, CompiledVjp rule)
    {
        if (generation.Rules.Count >= MaxEntries || Interlocked.Read(ref generation.Bytes) + rule.Bytes > MaxBytes)
        {
            lock (Turnover)
            {
                // Another thread may have turned the generation over already; then add to the new one.
                if (ReferenceEquals(generation, current))
                {
                    Volatile.Write(ref old, current);
                    Volatile.Write(ref current, new Generation());
                }
                generation = current;
            }
        }
        if (generation.Rules.TryAdd(key, rule)) Interlocked.Add(ref generation.Bytes, rule.Bytes);
    }
}
