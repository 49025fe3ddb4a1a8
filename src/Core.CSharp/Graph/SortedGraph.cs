using System;
using System.Buffers;

namespace Functional.Autodiff;

/// <summary>
/// The topological sort behind every traversal: the nodes under a root in post-order (inputs first, the root last),
/// each node's position, and the positions of each node's inputs. Iterative, so depth never touches the call stack.
/// </summary>
/// <remarks>
/// It is a short-lived, single-owner working structure of one traversal: its arrays are rented from the shared array
/// pool and returned on <see cref="Dispose"/>, so sorting a large graph allocates almost nothing. The position index
/// is an open-addressing table keyed by node identity, using each node's stored hash.
/// </remarks>
internal sealed class SortedGraph : IDisposable
{
    private Expr[] order;
    private int[] edgeStart;
    private int[] edges;
    private Expr?[] keys;
    private int[] slots;
    private int count;
    private int edgeCount;

    public SortedGraph(Expr root)
    {
        order = ArrayPool<Expr>.Shared.Rent(64);
        edgeStart = ArrayPool<int>.Shared.Rent(65);
        edges = ArrayPool<int>.Shared.Rent(128);
        keys = RentTable<Expr?>(256);
        slots = ArrayPool<int>.Shared.Rent(keys.Length);
        Array.Clear(keys);
        var stackNodes = ArrayPool<Expr>.Shared.Rent(64);
        var stackNext = ArrayPool<int>.Shared.Rent(64);
        try
        {
            var depth = 0;
            Insert(root, -1);
            stackNodes[depth] = root;
            stackNext[depth++] = 0;
            while (depth > 0)
            {
                var node = stackNodes[depth - 1];
                var inputs = node.Inputs;
                var next = stackNext[depth - 1];
                if (next < inputs.Length)
                {
                    stackNext[depth - 1] = next + 1;
                    var child = inputs[next];
                    if (!Contains(child))
                    {
                        Insert(child, -1);
                        if (depth == stackNodes.Length)
                        {
                            Grow(ref stackNodes, depth * 2);
                            Grow(ref stackNext, depth * 2);
                        }
                        stackNodes[depth] = child;
                        stackNext[depth++] = 0;
                    }
                }
                else
                {
                    depth--;
                    stackNodes[depth] = null!;
                    Append(node);
                }
            }
        }
        finally
        {
            ArrayPool<Expr>.Shared.Return(stackNodes, clearArray: true);
            ArrayPool<int>.Shared.Return(stackNext);
        }
    }

    /// <summary>How many nodes there are.</summary>
    public int Count => count;

    /// <summary>The nodes, inputs before the nodes that read them.</summary>
    public ReadOnlySpan<Expr> Order => order.AsSpan(0, count);

    /// <summary>The position of input <paramref name="i"/> of the node at position <paramref name="k"/>.</summary>
    public int InputPosition(int k, int i) => edges[edgeStart[k] + i];

    /// <summary>The position of <paramref name="node"/>, or −1 when it is not in the graph.</summary>
    public int PositionOf(Expr node) => Find(node);

    private void Append(Expr node)
    {
        if (count + 1 >= order.Length)
        {
            Grow(ref order, order.Length * 2);
            Grow(ref edgeStart, order.Length + 1);
        }
        var inputs = node.Inputs;
        if (edgeCount + inputs.Length > edges.Length) Grow(ref edges, Math.Max(edges.Length * 2, edgeCount + inputs.Length));
        edgeStart[count] = edgeCount;
        foreach (var input in inputs) edges[edgeCount++] = Find(input);
        Update(node, count);
        order[count++] = node;
        edgeStart[count] = edgeCount;
    }

    // ---- the identity table: keys[h] is a node, slots[h] its position (−1 while it is on the stack)

    private int Probe(Expr node)
    {
        var mask = keys.Length - 1;
        var h = node.GetHashCode() & mask;
        while (keys[h] is { } k && !ReferenceEquals(k, node)) h = (h + 1) & mask;
        return h;
    }

    private bool Contains(Expr node) => keys[Probe(node)] is not null;

    private int Find(Expr node)
    {
        var h = Probe(node);
        return keys[h] is null ? -1 : slots[h];
    }

    private void Update(Expr node, int position) => slots[Probe(node)] = position;

    private int tableCount;

    private void Insert(Expr node, int position)
    {
        if ((tableCount + 1) * 2 > keys.Length) Rehash();
        var h = Probe(node);
        keys[h] = node;
        slots[h] = position;
        tableCount++;
    }

    private void Rehash()
    {
        var oldKeys = keys;
        var oldSlots = slots;
        keys = RentTable<Expr?>(oldKeys.Length * 2);
        slots = ArrayPool<int>.Shared.Rent(keys.Length);
        Array.Clear(keys);
        for (var h = 0; h < oldKeys.Length; h++)
        {
            if (oldKeys[h] is not { } k) continue;
            var p = Probe(k);
            keys[p] = k;
            slots[p] = oldSlots[h];
        }
        ArrayPool<Expr?>.Shared.Return(oldKeys, clearArray: true);
        ArrayPool<int>.Shared.Return(oldSlots);
    }

    /// <summary>A pooled array whose length is a power of two (the shared pool's buckets are), as the probe's mask needs.</summary>
    private static T[] RentTable<T>(int size)
    {
        var array = ArrayPool<T>.Shared.Rent(size);
        if ((array.Length & (array.Length - 1)) != 0)
            throw new InvalidOperationException("The shared array pool returned a table whose length is not a power of two.");
        return array;
    }

    private static void Grow<T>(ref T[] array, int size)
    {
        var bigger = ArrayPool<T>.Shared.Rent(size);
        array.AsSpan().CopyTo(bigger);
        ArrayPool<T>.Shared.Return(array, clearArray: System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<T>());
        array = bigger;
    }

    /// <summary>Returns the rented arrays (cleared of node references).</summary>
    public void Dispose()
    {
        if (order is null) return;
        ArrayPool<Expr>.Shared.Return(order, clearArray: true);
        ArrayPool<int>.Shared.Return(edgeStart);
        ArrayPool<int>.Shared.Return(edges);
        ArrayPool<Expr?>.Shared.Return(keys, clearArray: true);
        ArrayPool<int>.Shared.Return(slots);
        order = null!;
    }
}
