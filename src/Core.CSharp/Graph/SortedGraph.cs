using System;

namespace Functional.Autodiff;

/// <summary>
/// The topological sort behind every traversal: the nodes under a root in post-order (inputs first, the root last),
/// each node's position, and the positions of each node's inputs. Iterative, so depth never touches the call stack.
/// </summary>
/// <remarks>
/// A short-lived, single-owner working structure of one traversal. Its arrays live in a workspace that each thread
/// keeps one of and lends to one traversal at a time (a nested traversal on the same thread gets a fresh one), so
/// repeated gradients allocate almost nothing for sorting; nothing is shared between threads. The position index
/// is an open-addressing table keyed by node identity, using each node's stored hash.
/// </remarks>
internal sealed class SortedGraph : IDisposable
{
    /// <summary>Workspaces larger than this many table entries are not kept after use.</summary>
    private const int MaxKeptTable = 1 << 16;

    [ThreadStatic]
    private static Workspace? spare;

    private Workspace? w;

    public SortedGraph(Expr root)
    {
        w = spare ?? new Workspace();
        spare = null;
        var depth = 0;
        Insert(root);
        w.StackNodes[depth] = root;
        w.StackNext[depth++] = 0;
        while (depth > 0)
        {
            var node = w.StackNodes[depth - 1];
            var inputs = node.Inputs;
            var next = w.StackNext[depth - 1];
            if (next < inputs.Length)
            {
                w.StackNext[depth - 1] = next + 1;
                var child = inputs[next];
                if (w.Keys[Probe(child)] is null)
                {
                    Insert(child);
                    if (depth == w.StackNodes.Length)
                    {
                        Array.Resize(ref w.StackNodes, depth * 2);
                        Array.Resize(ref w.StackNext, depth * 2);
                    }
                    w.StackNodes[depth] = child;
                    w.StackNext[depth++] = 0;
                }
            }
            else
            {
                w.StackNodes[--depth] = null!;
                Append(node);
            }
        }
    }

    /// <summary>How many nodes there are.</summary>
    public int Count { get; private set; }

    /// <summary>The nodes, inputs before the nodes that read them.</summary>
    public ReadOnlySpan<Expr> Order => w!.Order.AsSpan(0, Count);

    /// <summary>
    /// A per-node table of values for the traversal's own use (cotangents, evaluated values), all default when lent;
    /// it is cleared when this sort is disposed.
    /// </summary>
    public Span<Value> ValueTable
    {
        get
        {
            if (w!.Values.Length < Count) w.Values = new Value[Math.Max(Count, w.Values.Length * 2)];
            w.ValuesUsed = Count;
            return w.Values.AsSpan(0, Count);
        }
    }

    /// <summary>Two per-node flag tables (the first <see cref="Count"/> entries, then the next) for the traversal's
    /// own use, all false when lent; cleared on dispose.</summary>
    public Span<bool> FlagTables
    {
        get
        {
            if (w!.Flags.Length < 2 * Count) w.Flags = new bool[Math.Max(2 * Count, w.Flags.Length * 2)];
            w.FlagsUsed = 2 * Count;
            return w.Flags.AsSpan(0, 2 * Count);
        }
    }

    /// <summary>A small scratch array of values (at least <see cref="Expr.MaxArity"/> long) for one traversal's own use.</summary>
    public ref Value[] Scratch => ref w!.Scratch;

    /// <summary>The position of input <paramref name="i"/> of the node at position <paramref name="k"/>.</summary>
    public int InputPosition(int k, int i) => w!.Edges[w.EdgeStart[k] + i];

    /// <summary>The position of <paramref name="node"/>, or −1 when it is not in the graph.</summary>
    public int PositionOf(Expr node)
    {
        var h = Probe(node);
        return w!.Keys[h] is null ? -1 : w.Slots[h];
    }

    private void Append(Expr node)
    {
        var count = Count;
        if (count + 1 >= w!.Order.Length)
        {
            Array.Resize(ref w.Order, w.Order.Length * 2);
            Array.Resize(ref w.EdgeStart, w.Order.Length + 1);
        }
        var inputs = node.Inputs;
        var edgeCount = w.EdgeStart[count];
        if (edgeCount + inputs.Length > w.Edges.Length) Array.Resize(ref w.Edges, Math.Max(w.Edges.Length * 2, edgeCount + inputs.Length));
        foreach (var input in inputs) w.Edges[edgeCount++] = w.Slots[Probe(input)];
        w.Slots[Probe(node)] = count;
        w.Order[count] = node;
        Count = count + 1;
        w.EdgeStart[count + 1] = edgeCount;
    }

    private int Probe(Expr node)
    {
        var keys = w!.Keys;
        var mask = keys.Length - 1;
        var h = node.GetHashCode() & mask;
        while (keys[h] is { } k && !ReferenceEquals(k, node)) h = (h + 1) & mask;
        return h;
    }

    private void Insert(Expr node)
    {
        if ((w!.TableCount + 1) * 2 > w.Keys.Length) Rehash();
        var h = Probe(node);
        w.Keys[h] = node;
        w.Slots[h] = -1; // on the stack; its position is set when it is appended
        w.TableCount++;
    }

    private void Rehash()
    {
        var oldKeys = w!.Keys;
        var oldSlots = w.Slots;
        w.Keys = new Expr?[oldKeys.Length * 2];
        w.Slots = new int[w.Keys.Length];
        for (var h = 0; h < oldKeys.Length; h++)
        {
            if (oldKeys[h] is not { } k) continue;
            var p = Probe(k);
            w.Keys[p] = k;
            w.Slots[p] = oldSlots[h];
        }
    }

    /// <summary>Clears the workspace of node references and hands it back to this thread for the next traversal.</summary>
    public void Dispose()
    {
        if (w is null) return;
        // Every inserted node was appended (the sort ran to completion), so clearing by order empties the table.
        // Find every slot first: clearing one entry of a linear-probing table would hide the entries probed past it.
        if (w.Cleanup.Length < Count) w.Cleanup = new int[Math.Max(Count, w.Cleanup.Length * 2)];
        for (var k = 0; k < Count; k++) w.Cleanup[k] = Probe(w.Order[k]);
        for (var k = 0; k < Count; k++)
        {
            w.Keys[w.Cleanup[k]] = null;
            w.Order[k] = null!;
        }
        Array.Clear(w.Values, 0, w.ValuesUsed);
        Array.Clear(w.Flags, 0, w.FlagsUsed);
        Array.Clear(w.Scratch);
        w.ValuesUsed = w.FlagsUsed = 0;
        if (w.TableCount == Count && w.Keys.Length <= MaxKeptTable)
        {
            w.TableCount = 0;
            spare = w;
        }
        w = null;
    }

    private sealed class Workspace
    {
        public Expr[] Order = new Expr[32];
        public int[] EdgeStart = new int[33];
        public int[] Edges = new int[64];
        public Expr?[] Keys = new Expr?[64];
        public int[] Slots = new int[64];
        public int TableCount;
        public Expr[] StackNodes = new Expr[32];
        public int[] StackNext = new int[32];
        public int[] Cleanup = new int[32];
        public Value[] Values = new Value[32];
        public int ValuesUsed;
        public bool[] Flags = new bool[64];
        public int FlagsUsed;
        public Value[] Scratch = new Value[16];
    }
}
