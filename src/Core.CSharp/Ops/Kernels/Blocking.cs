using System;
using System.Globalization;
using System.IO;

namespace Functional.Autodiff;

/// <summary>The data caches of one core, in bytes, as the operating system reports them (or a safe default).</summary>
/// <param name="L1">Level-1 data cache of one core.</param>
/// <param name="L2">Level-2 cache of one core.</param>
/// <param name="L3">The share of the last-level cache one core may count on (its size over the cores sharing it; 0 without one).</param>
/// <param name="Source">Where the sizes come from ("/sys" or "default").</param>
internal readonly record struct CacheSizes(long L1, long L2, long L3, string Source)
{
    /// <summary>A common modern core (32 KiB L1d, 512 KiB L2, 2 MiB of L3 per core): used where the sizes cannot be read.</summary>
    public static readonly CacheSizes Default = new(32 << 10, 512 << 10, 2 << 20, "default");

    /// <summary>The sizes of this machine, read once.</summary>
    public static readonly CacheSizes Machine = Read("/sys/devices/system/cpu/cpu0/cache");

    /// <summary>
    /// The caches of the core whose sysfs cache directory is <paramref name="directory"/> (Linux: index0…indexN, each
    /// with level, type, size such as "48K", and shared_cpu_list such as "0-7"); <see cref="Default"/> for whatever
    /// is missing or unreadable (another OS, a container without /sys).
    /// </summary>
    public static CacheSizes Read(string directory)
    {
        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            if (!Directory.Exists(directory)) return Default;
            foreach (var index in Directory.EnumerateDirectories(directory, "index*"))
            {
                string Field(string name) => File.ReadAllText(Path.Combine(index, name)).Trim();
                var type = Field("type");
                if (type == "Instruction") continue;
                var size = ParseSize(Field("size"));
                var sharers = File.Exists(Path.Combine(index, "shared_cpu_list")) ? CountCpus(Field("shared_cpu_list")) : 1;
                switch (Field("level"))
                {
                    case "1" when type == "Data" || type == "Unified": l1 = size; break;
                    case "2": l2 = size; break;
                    case "3": l3 = size / Math.Max(1, sharers); break;
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or OverflowException)
        {
            return Default;
        }
        if (l1 <= 0 || l2 <= 0) return Default;
        return new CacheSizes(l1, l2, l3, "/sys");
    }

    /// <summary>"32K", "1024K", "32M" or a plain byte count.</summary>
    internal static long ParseSize(string text)
    {
        var unit = text.Length == 0 ? ' ' : char.ToUpperInvariant(text[^1]);
        var scale = unit switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, _ => 1L };
        var digits = scale == 1 ? text : text[..^1];
        return long.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture) * scale;
    }

    /// <summary>The number of CPUs in a list such as "0-3,8-11" or "5".</summary>
    internal static int CountCpus(string list)
    {
        var count = 0;
        foreach (var part in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-');
            count += dash < 0 ? 1
                : int.Parse(part[(dash + 1)..], CultureInfo.InvariantCulture) - int.Parse(part[..dash], CultureInfo.InvariantCulture) + 1;
        }
        return Math.Max(1, count);
    }

    /// <inheritdoc/>
    public override string ToString() => $"L1d {L1 >> 10} KiB, L2 {L2 >> 10} KiB, L3 {L3 >> 10} KiB per core ({Source})";
}

/// <summary>
/// The block sizes of the GEMM (see Gemm.cs): KC the inner dimension of a packed block, MC the rows of a packed A
/// block, NC the columns of a packed B block. They change the speed only: every blocking gives the same bits.
/// </summary>
internal readonly record struct Blocking(int KC, int MC, int NC)
{
    /// <summary>
    /// The analytic model of BLIS (Low, Igual, Smith, Quintana-Ortí, "Analytical modeling is enough for
    /// high-performance BLIS", 2016), in its simple form: a KC×NR micro-panel of B stays in L1 while A's MR×KC
    /// micro-panels stream past it, so KC·NR doubles take half of L1; the MC×KC block of A stays in L2 while the
    /// micro-panels of B stream past, so it takes half of L2; the KC×NC block of B stays in this core's share of L3
    /// (half of it), or in a quarter of L2 without an L3. Rounded to the micro-kernel (MC to MR, NC to NR) and kept
    /// within sane limits (KC 64…512, MC ≥ MR, NC NR…8192).
    /// </summary>
    public static Blocking For(CacheSizes caches, int mr, int nr)
    {
        const int bytes = sizeof(double);
        var kc = (int)Math.Clamp(caches.L1 / 2 / (nr * bytes), 64, 512) / 8 * 8;
        var mc = (int)Math.Max(mr, caches.L2 / 2 / ((long)kc * bytes) / mr * mr);
        var budget = caches.L3 > 0 ? caches.L3 / 2 : caches.L2 / 4;
        var nc = (int)Math.Clamp(budget / ((long)kc * bytes) / nr * nr, nr, 8192 / nr * nr);
        return new Blocking(kc, mc, nc);
    }

    /// <inheritdoc/>
    public override string ToString() => $"KC {KC} MC {MC} NC {NC}";
}
