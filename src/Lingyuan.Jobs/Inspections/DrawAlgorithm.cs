using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Lingyuan.Jobs.Inspections;

// The pure "double random" draw (DOMAIN.md §1). Everything here is deterministic and free of I/O,
// and is specified byte for byte in docs/draw-algorithm.md so that anyone can recompute a draw.
// Change nothing here without bumping DrawAlgorithm.Version and updating that document.

/// <summary>Risk classes in sampling order; A is the lowest risk.</summary>
public static class RiskClasses
{
    public static readonly char[] All = ['A', 'B', 'C', 'D'];
    public static int IndexOf(char c) => c switch { 'A' => 0, 'B' => 1, 'C' => 2, 'D' => 3, _ => -1 };
}

/// <summary>The plan settings the draw depends on. Ratios are whole percent per class A..D.</summary>
public sealed record DrawParameters(int[] RatiosPercent, int TeamSize, int WorkloadCap)
{
    public static readonly int[] DefaultRatios = [3, 5, 20, 60];

    public IEnumerable<string> Problems()
    {
        if (RatiosPercent.Length != 4) yield return "ratios: exactly four classes A-D expected";
        else if (RatiosPercent.Any(r => r is < 0 or > 100)) yield return "ratios: each must be 0..100 percent";
        if (TeamSize < 2) yield return "team size: at least 2 inspectors per employer (劳动保障监察条例 art. 16)";
        if (WorkloadCap < 1) yield return "workload cap: at least 1";
    }

    public bool Equals(DrawParameters? other) =>
        other is not null && RatiosPercent.SequenceEqual(other.RatiosPercent) && TeamSize == other.TeamSize && WorkloadCap == other.WorkloadCap;

    public override int GetHashCode() => HashCode.Combine(TeamSize, WorkloadCap, RatiosPercent.Length);
}

public readonly record struct SnapshotEmployer(string Uscc, char RiskClass);

public readonly record struct SnapshotInspector(string Badge, bool Active);

/// <summary>An (inspector, employer) pair: a declared conflict or an earlier inspection (rotation).</summary>
public readonly record struct InspectorEmployer(string Badge, string Uscc);

/// <summary>
/// The register snapshot a draw runs on, in canonical form: every list sorted by the UTF-8 bytes of its
/// keys (= Unicode code point order) and free of duplicates. Its <see cref="Encode"/>d bytes are hashed
/// into the seed and stored with the draw.
/// </summary>
public sealed class DrawSnapshot
{
    public DrawParameters Parameters { get; }
    public IReadOnlyList<SnapshotEmployer> Employers { get; }
    public IReadOnlyList<SnapshotInspector> Inspectors { get; }
    public IReadOnlyList<InspectorEmployer> Conflicts { get; }
    public IReadOnlyList<InspectorEmployer> Rotation { get; }
    /// <summary>The algorithm version the snapshot is written for (its first line): <c>ly-draw-1</c> or <c>ly-draw-2</c>.</summary>
    public string Version { get; }

    private DrawSnapshot(DrawParameters p, SnapshotEmployer[] e, SnapshotInspector[] i, InspectorEmployer[] c, InspectorEmployer[] r, string version)
    {
        Parameters = p; Employers = e; Inspectors = i; Conflicts = c; Rotation = r; Version = version;
    }

    /// <summary>Canonicalises the inputs; throws <see cref="ArgumentException"/> naming the first bad value.</summary>
    public static DrawSnapshot Create(
        DrawParameters parameters, IEnumerable<SnapshotEmployer> employers, IEnumerable<SnapshotInspector> inspectors,
        IEnumerable<InspectorEmployer> conflicts, IEnumerable<InspectorEmployer> rotation, string version = DrawAlgorithm.Version)
    {
        if (!DrawAlgorithm.Versions.Contains(version)) throw new ArgumentException($"algorithm '{version}' is not implemented here");
        if (parameters.Problems().FirstOrDefault() is { } problem) throw new ArgumentException(problem);
        var e = employers.ToArray();
        foreach (var x in e)
        {
            CheckField(x.Uscc, "uscc");
            if (RiskClasses.IndexOf(x.RiskClass) < 0) throw new ArgumentException($"employer {x.Uscc}: risk class must be A-D");
        }
        // Stored snapshots arrive sorted: check in one pass before paying for a sort.
        if (!IsStrictlySorted(e, (a, b) => CodePoint.Compare(a.Uscc, b.Uscc)))
        {
            Array.Sort(e, (a, b) => CodePoint.Compare(a.Uscc, b.Uscc));
            for (var k = 1; k < e.Length; k++)
                if (e[k].Uscc == e[k - 1].Uscc) throw new ArgumentException($"employer {e[k].Uscc} appears twice");
        }

        var i = inspectors.ToArray();
        foreach (var x in i) CheckField(x.Badge, "badge");
        if (!IsStrictlySorted(i, (a, b) => CodePoint.Compare(a.Badge, b.Badge)))
        {
            Array.Sort(i, (a, b) => CodePoint.Compare(a.Badge, b.Badge));
            for (var k = 1; k < i.Length; k++)
                if (i[k].Badge == i[k - 1].Badge) throw new ArgumentException($"inspector {i[k].Badge} appears twice");
        }

        return new DrawSnapshot(parameters, e, i, Pairs(conflicts), Pairs(rotation), version);
    }

    private static InspectorEmployer[] Pairs(IEnumerable<InspectorEmployer> pairs)
    {
        var a = pairs.ToArray();
        foreach (var x in a) { CheckField(x.Badge, "badge"); CheckField(x.Uscc, "uscc"); }
        if (IsStrictlySorted(a, ComparePairs)) return a;
        a = a.Distinct().ToArray();
        Array.Sort(a, ComparePairs);
        return a;
    }

    private static bool IsStrictlySorted<T>(T[] items, Comparison<T> compare)
    {
        for (var k = 1; k < items.Length; k++)
            if (compare(items[k - 1], items[k]) >= 0) return false;
        return true;
    }

    private static int ComparePairs(InspectorEmployer a, InspectorEmployer b)
    {
        var c = CodePoint.Compare(a.Badge, b.Badge);
        return c != 0 ? c : CodePoint.Compare(a.Uscc, b.Uscc);
    }

    // Fields are separated by TAB and lines end in LF: a key holding either could forge a line.
    private static void CheckField(string value, string what)
    {
        if (string.IsNullOrEmpty(value) || value.AsSpan().IndexOfAny('\t', '\n', '\r') >= 0)
            throw new ArgumentException($"{what} '{value.Replace("\t", "\\t").Replace("\n", "\\n").Replace("\r", "\\r")}' is empty or holds a TAB or line break");
    }

    /// <summary>The canonical bytes (docs/draw-algorithm.md, "Snapshot encoding").</summary>
    public byte[] Encode()
    {
        var sb = new StringBuilder(64 + Employers.Count * 22 + Inspectors.Count * 16 + (Conflicts.Count + Rotation.Count) * 32);
        var p = Parameters;
        sb.Append(Version).Append('\n');
        sb.Append("ratios\tA=").Append(p.RatiosPercent[0]).Append("\tB=").Append(p.RatiosPercent[1])
          .Append("\tC=").Append(p.RatiosPercent[2]).Append("\tD=").Append(p.RatiosPercent[3]).Append('\n');
        sb.Append("team\t").Append(p.TeamSize).Append('\n');
        sb.Append("cap\t").Append(p.WorkloadCap).Append('\n');
        foreach (var e in Employers) sb.Append("E\t").Append(e.Uscc).Append('\t').Append(e.RiskClass).Append('\n');
        foreach (var i in Inspectors) sb.Append("I\t").Append(i.Badge).Append('\t').Append(i.Active ? '1' : '0').Append('\n');
        foreach (var c in Conflicts) sb.Append("X\t").Append(c.Badge).Append('\t').Append(c.Uscc).Append('\n');
        foreach (var r in Rotation) sb.Append("R\t").Append(r.Badge).Append('\t').Append(r.Uscc).Append('\n');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    /// <summary>Reads bytes written by <see cref="Encode"/>; throws <see cref="FormatException"/> naming the line.</summary>
    public static DrawSnapshot Decode(byte[] bytes)
    {
        var text = new UTF8Encoding(false, true).GetString(bytes);
        if (!text.EndsWith('\n')) throw new FormatException("snapshot does not end with a line feed");
        var lines = text[..^1].Split('\n');
        if (lines.Length < 4 || !DrawAlgorithm.Versions.Contains(lines[0])) throw new FormatException($"line 1: expected one of '{string.Join("', '", DrawAlgorithm.Versions)}'");
        var ratioParts = lines[1].Split('\t');
        if (ratioParts.Length != 5 || ratioParts[0] != "ratios") throw new FormatException("line 2: expected ratios");
        var ratios = new int[4];
        for (var k = 0; k < 4; k++)
        {
            var expected = $"{RiskClasses.All[k]}=";
            if (!ratioParts[k + 1].StartsWith(expected, StringComparison.Ordinal)) throw new FormatException($"line 2: expected {expected}");
            ratios[k] = ParseInt(ratioParts[k + 1][2..], 2);
        }
        var team = ParseInt(Field(lines[2], "team", 3), 3);
        var cap = ParseInt(Field(lines[3], "cap", 4), 4);
        var employers = new List<SnapshotEmployer>();
        var inspectors = new List<SnapshotInspector>();
        var conflicts = new List<InspectorEmployer>();
        var rotation = new List<InspectorEmployer>();
        for (var n = 4; n < lines.Length; n++)
        {
            var f = lines[n].Split('\t');
            if (f.Length != 3) throw new FormatException($"line {n + 1}: expected 3 fields");
            switch (f[0])
            {
                case "E" when f[2].Length == 1: employers.Add(new(f[1], f[2][0])); break;
                case "I" when f[2] is "0" or "1": inspectors.Add(new(f[1], f[2] == "1")); break;
                case "X": conflicts.Add(new(f[1], f[2])); break;
                case "R": rotation.Add(new(f[1], f[2])); break;
                default: throw new FormatException($"line {n + 1}: unknown record '{f[0]}'");
            }
        }
        return Create(new DrawParameters(ratios, team, cap), employers, inspectors, conflicts, rotation, lines[0]);

        static string Field(string line, string name, int no) =>
            line.StartsWith(name + "\t", StringComparison.Ordinal) ? line[(name.Length + 1)..] : throw new FormatException($"line {no}: expected {name}");
        static int ParseInt(string s, int no) =>
            int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v.ToString(CultureInfo.InvariantCulture) == s
                ? v : throw new FormatException($"line {no}: '{s}' is not a canonical number");
    }
}

/// <summary>Compares strings by Unicode code point, which is the order of their UTF-8 bytes.</summary>
public static class CodePoint
{
    public static int Compare(string? a, string? b)
    {
        if (ReferenceEquals(a, b)) return 0;
        if (a is null) return -1;
        if (b is null) return 1;
        var n = Math.Min(a.Length, b.Length);
        for (var k = 0; k < n; k++)
        {
            int x = a[k], y = b[k];
            if (x == y) continue;
            // UTF-16 order differs from code point order only between surrogates (D800-DFFF, which
            // encode code points above FFFF) and E000-FFFF: move surrogates above the rest.
            if (x >= 0xD800 && y >= 0xD800) { x = Fix(x); y = Fix(y); }
            return x - y;
        }
        return a.Length - b.Length;

        static int Fix(int c) => c >= 0xE000 ? c - 0x800 : c + 0x2000;
    }
}

/// <summary>
/// SHA-256 in counter mode: block <c>i</c> = SHA-256(seed ‖ i as 8-byte big-endian); the stream is
/// the blocks concatenated; each 32-bit word is 4 bytes of the stream read big-endian.
/// </summary>
public sealed class Sha256CounterRng
{
    private readonly byte[] _input = new byte[40];
    private readonly byte[] _block = new byte[32];
    private ulong _counter;
    private int _offset = 32;

    public Sha256CounterRng(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != 32) throw new ArgumentException("the seed is 32 bytes", nameof(seed));
        seed.CopyTo(_input);
    }

    /// <summary>How many 32-bit words have been read.</summary>
    public long WordsUsed { get; private set; }

    public uint NextUInt32()
    {
        if (_offset == 32)
        {
            BinaryPrimitives.WriteUInt64BigEndian(_input.AsSpan(32), _counter++);
            SHA256.HashData(_input, _block);
            _offset = 0;
        }
        var v = BinaryPrimitives.ReadUInt32BigEndian(_block.AsSpan(_offset));
        _offset += 4;
        WordsUsed++;
        return v;
    }

    /// <summary>A uniform integer in [0, n) for 1 ≤ n ≤ 2^32, by rejection (no modulo bias).</summary>
    public long Below(long n)
    {
        if (n is < 1 or > 1L << 32) throw new ArgumentOutOfRangeException(nameof(n));
        var limit = (1L << 32) - (1L << 32) % n;
        while (true)
        {
            long x = NextUInt32();
            if (x < limit) return x % n;
        }
    }
}

/// <summary>One drawn employer and its team (badges in code point order).</summary>
public sealed record DrawnEmployer(char RiskClass, string Uscc, string[] Team)
{
    public string Line => $"{RiskClass}\t{Uscc}\t{string.Join('\t', Team)}";
}

public enum Exclusion { Inactive, Conflict, Rotation, Cap }

/// <summary>An employer that cannot get a full team, and why each inspector was left out.</summary>
public sealed record Unassignable(string Uscc, char RiskClass, int Candidates, IReadOnlyList<(string Badge, Exclusion[] Reasons)> Excluded);

public sealed record DrawOutcome(
    byte[] SnapshotHash, byte[] Seed, IReadOnlyList<DrawnEmployer> Drawn, IReadOnlyList<Unassignable> Unassignable, int[] SampleSizes)
{
    public bool Succeeded => Unassignable.Count == 0;

    /// <summary>The canonical result: one line per drawn employer in draw order.</summary>
    public byte[] ResultBytes() => DrawAlgorithm.EncodeResult(Drawn);
}

public static class DrawAlgorithm
{
    /// <summary>The version new draws use: ly-draw-1 plus the public random value in the seed (docs/draw-algorithm.md §3).</summary>
    public const string Version = "ly-draw-2";

    /// <summary>The first version (no public value); draws recorded with it are still verified.</summary>
    public const string Version1 = "ly-draw-1";

    public static readonly string[] Versions = [Version1, Version];

    public static byte[] Commitment(ReadOnlySpan<byte> secret) => SHA256.HashData(secret);

    /// <summary>seed = SHA-256(secret[32] ‖ plan id as int64 big-endian[8] ‖ draw date ASCII "YYYY-MM-DD"[10] ‖ snapshot hash[32]).</summary>
    public static byte[] Seed(ReadOnlySpan<byte> secret, long planId, DateOnly drawDate, ReadOnlySpan<byte> snapshotHash)
    {
        if (secret.Length != 32) throw new ArgumentException("the secret is 32 bytes");
        if (snapshotHash.Length != 32) throw new ArgumentException("the snapshot hash is 32 bytes");
        Span<byte> input = stackalloc byte[82];
        secret.CopyTo(input);
        BinaryPrimitives.WriteInt64BigEndian(input[32..], planId);
        Encoding.ASCII.GetBytes(drawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), input[40..]);
        snapshotHash.CopyTo(input[50..]);
        return SHA256.HashData(input);
    }

    /// <summary>
    /// ly-draw-2: seed = SHA-256(secret[32] ‖ plan id int64 BE[8] ‖ draw date ASCII[10] ‖ snapshot hash[32] ‖
    /// SHA-256(UTF-8 of the canonical public value)[32]) — 114 bytes.
    /// </summary>
    public static byte[] Seed(ReadOnlySpan<byte> secret, long planId, DateOnly drawDate, ReadOnlySpan<byte> snapshotHash, string publicValue)
    {
        if (secret.Length != 32) throw new ArgumentException("the secret is 32 bytes");
        if (snapshotHash.Length != 32) throw new ArgumentException("the snapshot hash is 32 bytes");
        Span<byte> input = stackalloc byte[114];
        secret.CopyTo(input);
        BinaryPrimitives.WriteInt64BigEndian(input[32..], planId);
        Encoding.ASCII.GetBytes(drawDate.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), input[40..]);
        snapshotHash.CopyTo(input[50..]);
        SHA256.HashData(Encoding.UTF8.GetBytes(publicValue), input[82..]);
        return SHA256.HashData(input);
    }

    /// <summary>The seed of a snapshot's version: ly-draw-2 needs the public value, ly-draw-1 has none.</summary>
    public static byte[] SeedFor(string version, ReadOnlySpan<byte> secret, long planId, DateOnly drawDate, ReadOnlySpan<byte> snapshotHash, string? publicValue) =>
        version == Version1
            ? (publicValue is null ? Seed(secret, planId, drawDate, snapshotHash) : throw new ArgumentException("ly-draw-1 has no public value"))
            : Seed(secret, planId, drawDate, snapshotHash, publicValue ?? throw new ArgumentException($"{Version} needs the public random value"));

    /// <summary>k = ceil(ratio × n / 100): a class with a non-zero ratio and at least one employer draws at least one.</summary>
    public static int SampleSize(int ratioPercent, int classSize) => (int)((ratioPercent * (long)classSize + 99) / 100);

    public static byte[] EncodeResult(IEnumerable<DrawnEmployer> drawn)
    {
        var sb = new StringBuilder();
        foreach (var d in drawn) sb.Append(d.Line).Append('\n');
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static DrawOutcome Run(DrawSnapshot snapshot, ReadOnlySpan<byte> secret, long planId, DateOnly drawDate, string? publicValue = null)
    {
        var encoded = snapshot.Encode();
        var snapshotHash = SHA256.HashData(encoded);
        var seed = SeedFor(snapshot.Version, secret, planId, drawDate, snapshotHash, publicValue);
        var (drawn, unassignable, sizes) = Draw(snapshot, seed);
        return new DrawOutcome(snapshotHash, seed, drawn, unassignable, sizes);
    }

    /// <summary>Phase 1 samples employers per class; phase 2 draws a team for each, in draw order.</summary>
    public static (List<DrawnEmployer>, List<Unassignable>, int[]) Draw(DrawSnapshot s, byte[] seed)
    {
        var rng = new Sha256CounterRng(seed);
        var p = s.Parameters;

        // Phase 1: per class A..D, a partial Fisher–Yates shuffle of the class's USCCs (code point order).
        var byClass = new List<int>[4];
        for (var c = 0; c < 4; c++) byClass[c] = [];
        for (var e = 0; e < s.Employers.Count; e++) byClass[RiskClasses.IndexOf(s.Employers[e].RiskClass)].Add(e);
        var selected = new List<int>();
        var sizes = new int[4];
        for (var c = 0; c < 4; c++)
        {
            var list = byClass[c];
            var k = SampleSize(p.RatiosPercent[c], list.Count);
            sizes[c] = k;
            for (var i = 0; i < k; i++)
            {
                var j = i + (int)rng.Below(list.Count - i);
                (list[i], list[j]) = (list[j], list[i]);
                selected.Add(list[i]);
            }
        }

        // Phase 2 state. Inspectors are numbered by their position in the snapshot (code point order).
        var badgeIndex = new Dictionary<string, int>(s.Inspectors.Count, StringComparer.Ordinal);
        for (var i = 0; i < s.Inspectors.Count; i++) badgeIndex[s.Inspectors[i].Badge] = i;
        var excluded = new Dictionary<string, List<(int Inspector, Exclusion Why)>>(StringComparer.Ordinal);
        void Exclude(IEnumerable<InspectorEmployer> pairs, Exclusion why)
        {
            foreach (var pair in pairs)
            {
                if (!badgeIndex.TryGetValue(pair.Badge, out var i)) continue; // not in the register: nothing to exclude
                if (!excluded.TryGetValue(pair.Uscc, out var l)) excluded[pair.Uscc] = l = [];
                l.Add((i, why));
            }
        }
        Exclude(s.Conflicts, Exclusion.Conflict);
        Exclude(s.Rotation, Exclusion.Rotation);

        // The pool: active inspectors under the cap, ascending. Each employer's candidate list is the
        // pool minus its excluded inspectors; it is never materialised (O(pool) per employer would be
        // too slow at 100,000 employers): the r-th candidate is found by skipping excluded positions.
        var pool = new List<int>(s.Inspectors.Count);
        for (var i = 0; i < s.Inspectors.Count; i++) if (s.Inspectors[i].Active) pool.Add(i);
        var load = new int[s.Inspectors.Count];
        var drawn = new List<DrawnEmployer>(selected.Count);
        var unassignable = new List<Unassignable>();
        var skip = new List<int>();
        var team = new List<int>(p.TeamSize);
        foreach (var e in selected)
        {
            var employer = s.Employers[e];
            var ex = excluded.GetValueOrDefault(employer.Uscc);
            skip.Clear();
            if (ex is not null)
                foreach (var (i, _) in ex)
                {
                    var pos = pool.BinarySearch(i);
                    if (pos >= 0 && !skip.Contains(pos)) skip.Add(pos);
                }
            var candidates = pool.Count - skip.Count;
            if (candidates < p.TeamSize)
            {
                unassignable.Add(Explain(s, employer, ex, load, p.WorkloadCap, candidates));
                continue;
            }
            skip.Sort();
            team.Clear();
            for (var t = 0; t < p.TeamSize; t++)
            {
                var r = (int)rng.Below(candidates - t);
                // Map r to a pool position: step over every skipped position at or before it.
                var pos = r;
                foreach (var sp in skip)
                {
                    if (sp <= pos) pos++;
                    else break;
                }
                team.Add(pool[pos]);
                var at = skip.BinarySearch(pos);
                skip.Insert(~at, pos);
            }
            team.Sort();
            drawn.Add(new DrawnEmployer(employer.RiskClass, employer.Uscc, team.Select(i => s.Inspectors[i].Badge).ToArray()));
            foreach (var i in team)
                if (++load[i] == p.WorkloadCap) pool.RemoveAt(pool.BinarySearch(i));
        }
        return (drawn, unassignable, sizes);
    }

    private static Unassignable Explain(DrawSnapshot s, SnapshotEmployer employer, List<(int Inspector, Exclusion Why)>? ex, int[] load, int cap, int candidates)
    {
        var reasons = new List<(string, Exclusion[])>();
        for (var i = 0; i < s.Inspectors.Count; i++)
        {
            var why = new List<Exclusion>();
            if (!s.Inspectors[i].Active) why.Add(Exclusion.Inactive);
            if (ex is not null)
            {
                if (ex.Any(x => x.Inspector == i && x.Why == Exclusion.Conflict)) why.Add(Exclusion.Conflict);
                if (ex.Any(x => x.Inspector == i && x.Why == Exclusion.Rotation)) why.Add(Exclusion.Rotation);
            }
            if (load[i] >= cap) why.Add(Exclusion.Cap);
            if (why.Count > 0) reasons.Add((s.Inspectors[i].Badge, why.ToArray()));
        }
        return new Unassignable(employer.Uscc, employer.RiskClass, candidates, reasons);
    }
}
