using System.Diagnostics;
using System.Security.Cryptography;
using Lingyuan.Jobs.Inspections;

namespace Lingyuan.Jobs.Bench;

/// <summary>
/// The QUALITY.md workload "double-random draw + verify" (100,000 employers, 1,000 inspectors, 2,000
/// conflicts, teams of 2; target ≤ 1 s each), in memory, for ops/bench to call:
/// <c>DrawBenchmark.Measure()</c> returns the best of <paramref name="repeats"/> timings of each half.
/// </summary>
public static class DrawBenchmark
{
    /// <summary>A public random value in canonical form (ly-draw-2 needs one).</summary>
    private const string PublicValue = "03 07 11 15 19 22 28 31 36 40 44 47 52 55 61 64 68 72 75 80";

    public sealed record Figures(int Employers, int Inspectors, int Conflicts, int Drawn, int SnapshotBytes, TimeSpan Draw, TimeSpan Verify);

    /// <summary>A deterministic synthetic register: 40 % class A, 30 % B, 20 % C, 10 % D; every 50th inspector inactive; as many rotation pairs as conflicts.</summary>
    public static DrawSnapshot Synthetic(int employers = 100_000, int inspectors = 1_000, int conflicts = 2_000, int teamSize = 2, int cap = 40)
    {
        var rng = new Sha256CounterRng(SHA256.HashData("lingyuan draw bench"u8));
        const string Classes = "AAAABBBCCD";
        var e = Enumerable.Range(0, employers).Select(i => new SnapshotEmployer($"91211382{i:0000000000}", Classes[i % 10])).ToList();
        var ins = Enumerable.Range(0, inspectors).Select(i => new SnapshotInspector($"LY{i:00000}", i % 50 != 0)).ToList();
        InspectorEmployer Pair() => new(ins[(int)rng.Below(inspectors)].Badge, e[(int)rng.Below(employers)].Uscc);
        var x = Enumerable.Range(0, conflicts).Select(_ => Pair()).ToList();
        var r = Enumerable.Range(0, conflicts).Select(_ => Pair()).ToList();
        return DrawSnapshot.Create(new DrawParameters([.. DrawParameters.DefaultRatios], teamSize, cap), e, ins, x, r);
    }

    /// <summary>
    /// Draw = decode the stored snapshot bytes, re-encode, hash, derive the seed and draw (what the
    /// service does after its register queries); verify = everything <c>draw verify</c> does after its reads.
    /// </summary>
    public static Figures Measure(int employers = 100_000, int inspectors = 1_000, int conflicts = 2_000, int repeats = 3)
    {
        var snapshot = Synthetic(employers, inspectors, conflicts);
        var bytes = snapshot.Encode();
        var secret = SHA256.HashData("bench secret"u8);
        var date = new DateOnly(2026, 3, 2);
        DrawOutcome? outcome = null;
        var draw = Best(repeats, () => outcome = DrawAlgorithm.Run(DrawSnapshot.Decode(bytes), secret, 1, date, PublicValue));
        if (!outcome!.Succeeded) throw new InvalidOperationException("the synthetic draw failed");
        var resultHash = SHA256.HashData(outcome.ResultBytes());
        List<string>? diffs = null;
        var verify = Best(repeats, () => diffs = DrawService.Verify(1, DrawAlgorithm.Version, date, bytes, outcome.SnapshotHash, secret, outcome.Seed,
            resultHash, outcome.Drawn.Count, DrawAlgorithm.Commitment(secret), outcome.Drawn, PublicValue));
        if (diffs!.Count > 0) throw new InvalidOperationException("the synthetic draw does not verify: " + diffs[0]);
        return new Figures(employers, inspectors, conflicts, outcome.Drawn.Count, bytes.Length, draw, verify);
    }

    private static TimeSpan Best(int repeats, Action work)
    {
        var best = TimeSpan.MaxValue;
        for (var i = 0; i < Math.Max(1, repeats); i++)
        {
            var sw = Stopwatch.StartNew();
            work();
            if (sw.Elapsed < best) best = sw.Elapsed;
        }
        return best;
    }
}
