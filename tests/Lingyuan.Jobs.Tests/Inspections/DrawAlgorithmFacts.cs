using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Lingyuan.Jobs.Bench;
using Lingyuan.Jobs.Inspections;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>The pure draw: the published document, the rules as properties, fairness and speed.</summary>
public class DrawAlgorithmFacts(ITestOutputHelper output)
{
    // ---- the worked example of docs/draw-algorithm.md ----

    private static string DocumentPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "draw-algorithm.md");
            if (File.Exists(candidate)) return candidate;
        }
        throw new FileNotFoundException("docs/draw-algorithm.md not found above " + AppContext.BaseDirectory);
    }

    private static string Fenced(string markdown, string info)
    {
        var open = $"```{info}\n";
        var start = markdown.IndexOf(open, StringComparison.Ordinal);
        Assert.True(start >= 0, $"no ```{info} block in the document");
        start += open.Length;
        var end = markdown.IndexOf("```", start, StringComparison.Ordinal);
        return markdown[start..end];
    }

    [Fact]
    public void The_worked_example_in_the_published_document_is_what_the_code_computes()
    {
        var md = File.ReadAllText(DocumentPath(), Encoding.UTF8).Replace("\r\n", "\n");
        var snapshotBytes = Encoding.UTF8.GetBytes(Fenced(md, "draw-example-snapshot"));
        var inputs = Fenced(md, "draw-example-inputs").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', 2)).ToDictionary(p => p[0], p => p[1]);
        var outputs = Fenced(md, "draw-example-outputs").Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var snapshot = DrawSnapshot.Decode(snapshotBytes);
        Assert.Equal(snapshotBytes, snapshot.Encode()); // the example is canonical
        var secret = Convert.FromHexString(inputs["secret"]);
        var outcome = DrawAlgorithm.Run(snapshot, secret, long.Parse(inputs["plan_id"]), DateOnly.Parse(inputs["draw_date"]), inputs.GetValueOrDefault("public_value"));

        Assert.True(outcome.Succeeded);
        Assert.Equal(Value("snapshot_sha256"), Convert.ToHexStringLower(outcome.SnapshotHash));
        Assert.Equal(Value("seed"), Convert.ToHexStringLower(outcome.Seed));
        Assert.Equal(Value("result_sha256"), Convert.ToHexStringLower(SHA256.HashData(outcome.ResultBytes())));
        var expectedRows = outputs.Where(l => l.StartsWith("result ", StringComparison.Ordinal)).Select(l => l["result ".Length..]).ToList();
        Assert.Equal(expectedRows, outcome.Drawn.Select(d => d.Line).ToList());

        string Value(string key) => outputs.Single(l => l.StartsWith(key + " ", StringComparison.Ordinal))[(key.Length + 1)..];
    }

    // ---- generators ----

    private sealed record Case(DrawSnapshot Snapshot, byte[] Seed);

    private static readonly Gen<Case> Cases =
        from employerCount in Gen.Int[0, 40]
        from classes in Gen.Char['A', 'D'].Array[employerCount]
        from inspectorCount in Gen.Int[2, 12]
        from active in Gen.Bool.Array[inspectorCount]
        from conflictBits in Gen.Int[0, 100].Array[employerCount * inspectorCount]
        from rotationBits in Gen.Int[0, 100].Array[employerCount * inspectorCount]
        from ratios in Gen.Int[0, 100].Array[4]
        from team in Gen.Int[2, 3]
        from cap in Gen.Int[1, 12]
        from seed in Gen.Byte.Array[32]
        select Build(classes, active, conflictBits, rotationBits, ratios, team, cap, seed);

    private static Case Build(char[] classes, bool[] active, int[] conflictBits, int[] rotationBits, int[] ratios, int team, int cap, byte[] seed)
    {
        var employers = classes.Select((c, i) => new SnapshotEmployer($"9121138200000{i:00000}", c)).ToList();
        var inspectors = active.Select((a, i) => new SnapshotInspector($"凌监-{i:000}", a || i < 2)).ToList();
        var conflicts = new List<InspectorEmployer>();
        var rotation = new List<InspectorEmployer>();
        for (var e = 0; e < employers.Count; e++)
            for (var i = 0; i < inspectors.Count; i++)
            {
                if (conflictBits[e * inspectors.Count + i] < 10) conflicts.Add(new(inspectors[i].Badge, employers[e].Uscc));
                if (rotationBits[e * inspectors.Count + i] < 10) rotation.Add(new(inspectors[i].Badge, employers[e].Uscc));
            }
        return new Case(DrawSnapshot.Create(new DrawParameters(ratios, team, cap), employers, inspectors, conflicts, rotation), seed);
    }

    // ---- the rules as properties ----

    [Fact]
    public void A_successful_draw_never_has_a_short_team_a_conflicted_or_rotated_out_or_inactive_inspector_or_one_over_the_cap()
    {
        Cases.Sample(c =>
        {
            var s = c.Snapshot;
            var (drawn, unassignable, _) = DrawAlgorithm.Draw(s, c.Seed);
            if (unassignable.Count > 0) return;
            var conflicts = s.Conflicts.ToHashSet();
            var rotation = s.Rotation.ToHashSet();
            var active = s.Inspectors.Where(i => i.Active).Select(i => i.Badge).ToHashSet();
            var load = new Dictionary<string, int>();
            foreach (var d in drawn)
            {
                Assert.Equal(s.Parameters.TeamSize, d.Team.Length);
                Assert.Equal(d.Team.Length, d.Team.Distinct().Count());
                foreach (var b in d.Team)
                {
                    Assert.Contains(b, active);
                    Assert.DoesNotContain(new InspectorEmployer(b, d.Uscc), conflicts);
                    Assert.DoesNotContain(new InspectorEmployer(b, d.Uscc), rotation);
                    load[b] = load.GetValueOrDefault(b) + 1;
                }
            }
            Assert.All(load.Values, n => Assert.True(n <= s.Parameters.WorkloadCap));
        }, iter: 3000);
    }

    [Fact]
    public void Each_class_draws_ceil_of_ratio_times_class_size_distinct_employers_of_that_class_and_at_least_one_when_the_ratio_is_not_zero()
    {
        Cases.Sample(c =>
        {
            var s = c.Snapshot;
            var (drawn, unassignable, sizes) = DrawAlgorithm.Draw(s, c.Seed);
            for (var k = 0; k < 4; k++)
            {
                var cls = RiskClasses.All[k];
                var n = s.Employers.Count(e => e.RiskClass == cls);
                var expected = (int)Math.Ceiling(s.Parameters.RatiosPercent[k] * n / 100m);
                Assert.Equal(expected, sizes[k]);
                if (s.Parameters.RatiosPercent[k] > 0 && n > 0) Assert.True(sizes[k] >= 1);
            }
            Assert.Equal(sizes.Sum(), drawn.Count + unassignable.Count);
            var classOf = s.Employers.ToDictionary(e => e.Uscc, e => e.RiskClass);
            Assert.All(drawn, d => Assert.Equal(classOf[d.Uscc], d.RiskClass));
            Assert.Equal(drawn.Count + unassignable.Count, drawn.Select(d => d.Uscc).Concat(unassignable.Select(u => u.Uscc)).Distinct().Count());
        }, iter: 3000);
    }

    [Fact]
    public void The_fast_candidate_lookup_draws_exactly_what_the_naive_specification_in_the_document_draws()
    {
        Cases.Sample(c =>
        {
            var (drawn, unassignable, _) = DrawAlgorithm.Draw(c.Snapshot, c.Seed);
            var (naiveDrawn, naiveFailed) = NaiveDraw(c.Snapshot, c.Seed);
            Assert.Equal(naiveDrawn, drawn.Select(d => d.Line).ToList());
            Assert.Equal(naiveFailed, unassignable.Select(u => u.Uscc).ToList());
        }, iter: 3000);
    }

    /// <summary>Sections 5 and 6 of docs/draw-algorithm.md, literally (candidate lists materialised).</summary>
    private static (List<string> Lines, List<string> Failed) NaiveDraw(DrawSnapshot s, byte[] seed)
    {
        var rng = new Sha256CounterRng(seed);
        var selected = new List<(char, string)>();
        for (var k = 0; k < 4; k++)
        {
            var cls = RiskClasses.All[k];
            var l = s.Employers.Where(e => e.RiskClass == cls).Select(e => e.Uscc).ToList();
            var n = (s.Parameters.RatiosPercent[k] * l.Count + 99) / 100;
            for (var i = 0; i < n; i++)
            {
                var j = i + (int)rng.Below(l.Count - i);
                (l[i], l[j]) = (l[j], l[i]);
                selected.Add((cls, l[i]));
            }
        }
        var load = s.Inspectors.ToDictionary(i => i.Badge, _ => 0);
        var x = s.Conflicts.ToHashSet();
        var r = s.Rotation.ToHashSet();
        var lines = new List<string>();
        var failed = new List<string>();
        foreach (var (cls, u) in selected)
        {
            var c = s.Inspectors.Where(i => i.Active && load[i.Badge] < s.Parameters.WorkloadCap && !x.Contains(new(i.Badge, u)) && !r.Contains(new(i.Badge, u)))
                .Select(i => i.Badge).ToList();
            if (c.Count < s.Parameters.TeamSize) { failed.Add(u); continue; }
            var team = new List<string>();
            for (var t = 0; t < s.Parameters.TeamSize; t++)
            {
                var pick = (int)rng.Below(c.Count);
                team.Add(c[pick]);
                c.RemoveAt(pick);
            }
            foreach (var b in team) load[b]++;
            team.Sort(CodePoint.Compare);
            lines.Add($"{cls}\t{u}\t{string.Join('\t', team)}");
        }
        return (lines, failed);
    }

    [Fact]
    public void A_failed_draw_names_every_inspector_left_out_of_an_unassignable_employer_with_a_reason_that_really_applies()
    {
        Cases.Sample(c =>
        {
            var s = c.Snapshot;
            var (_, unassignable, _) = DrawAlgorithm.Draw(s, c.Seed);
            foreach (var u in unassignable)
            {
                Assert.True(u.Candidates < s.Parameters.TeamSize);
                Assert.Equal(s.Inspectors.Count, u.Candidates + u.Excluded.Count);
                foreach (var (badge, reasons) in u.Excluded)
                {
                    Assert.NotEmpty(reasons);
                    var pair = new InspectorEmployer(badge, u.Uscc);
                    if (reasons.Contains(Exclusion.Inactive)) Assert.False(s.Inspectors.Single(i => i.Badge == badge).Active);
                    if (reasons.Contains(Exclusion.Conflict)) Assert.Contains(pair, s.Conflicts);
                    if (reasons.Contains(Exclusion.Rotation)) Assert.Contains(pair, s.Rotation);
                }
            }
        }, iter: 3000);
    }

    [Fact]
    public void The_same_inputs_always_give_the_same_draw()
    {
        Cases.Sample(c =>
        {
            var secret = SHA256.HashData(c.Seed);
            var a = DrawAlgorithm.Run(c.Snapshot, secret, 42, new DateOnly(2026, 5, 6), "1 2 3");
            var b = DrawAlgorithm.Run(DrawSnapshot.Decode(c.Snapshot.Encode()), secret.ToArray(), 42, new DateOnly(2026, 5, 6), "1 2 3");
            Assert.Equal(a.Seed, b.Seed);
            Assert.Equal(a.ResultBytes(), b.ResultBytes());
            Assert.Equal(a.Unassignable.Select(u => u.Uscc), b.Unassignable.Select(u => u.Uscc));
        }, iter: 500);
    }

    [Fact]
    public void Changing_any_byte_of_the_secret_plan_id_draw_date_or_snapshot_changes_the_seed()
    {
        var gen = from secret in Gen.Byte.Array[32]
                  from planId in Gen.Long[1, long.MaxValue]
                  from day in Gen.Int[0, 3650]
                  from c in Cases
                  from which in Gen.Int[0, 3]
                  from position in Gen.Int[0, 1_000_000]
                  from flip in Gen.Byte[1, 255]
                  select (secret, planId, day, c, which, position, flip);
        gen.Sample(t =>
        {
            var date = new DateOnly(2025, 1, 1).AddDays(t.day);
            var bytes = t.c.Snapshot.Encode();
            var hash = SHA256.HashData(bytes);
            var seed = DrawAlgorithm.Seed(t.secret, t.planId, date, hash);
            byte[] changed;
            switch (t.which)
            {
                case 0:
                    var s2 = t.secret.ToArray();
                    s2[t.position % 32] ^= t.flip;
                    changed = DrawAlgorithm.Seed(s2, t.planId, date, hash);
                    break;
                case 1:
                    changed = DrawAlgorithm.Seed(t.secret, t.planId ^ (1L << (t.position % 63)), date, hash);
                    break;
                case 2:
                    changed = DrawAlgorithm.Seed(t.secret, t.planId, date.AddDays(1 + t.position % 400), hash);
                    break;
                default:
                    var b2 = bytes.ToArray();
                    b2[t.position % b2.Length] ^= t.flip;
                    changed = DrawAlgorithm.Seed(t.secret, t.planId, date, SHA256.HashData(b2));
                    break;
            }
            Assert.NotEqual(seed, changed);
        }, iter: 2000);
    }

    [Fact]
    public void Changing_a_register_fact_changes_the_snapshot_hash()
    {
        var p = new DrawParameters([3, 5, 20, 60], 2, 5);
        SnapshotEmployer[] employers = [new("912113820000000011", 'A'), new("912113820000000022", 'B')];
        SnapshotInspector[] inspectors = [new("L1", true), new("L2", true)];
        var baseline = SHA256.HashData(DrawSnapshot.Create(p, employers, inspectors, [], []).Encode());
        var variants = new[]
        {
            DrawSnapshot.Create(p with { WorkloadCap = 6 }, employers, inspectors, [], []),
            DrawSnapshot.Create(p with { RatiosPercent = [3, 5, 20, 61] }, employers, inspectors, [], []),
            DrawSnapshot.Create(p, [employers[0], employers[1] with { RiskClass = 'D' }], inspectors, [], []),
            DrawSnapshot.Create(p, employers, [inspectors[0], inspectors[1] with { Active = false }], [], []),
            DrawSnapshot.Create(p, employers, inspectors, [new("L1", "912113820000000011")], []),
            DrawSnapshot.Create(p, employers, inspectors, [], [new("L1", "912113820000000011")]),
        };
        Assert.All(variants, v => Assert.NotEqual(baseline, SHA256.HashData(v.Encode())));
        // Order of input does not matter: the encoding is canonical.
        Assert.Equal(baseline, SHA256.HashData(DrawSnapshot.Create(p, employers.Reverse(), inspectors.Reverse(), [], []).Encode()));
    }

    [Fact]
    public void Uniform_integers_are_drawn_by_rejection_so_the_top_of_the_word_range_is_never_folded_in()
    {
        // n = 3·2^30: limit = 2^32 − 2^30; words at or above it must be skipped, not reduced mod n.
        var seed = new byte[32];
        var rng = new Sha256CounterRng(seed);
        var reference = new Sha256CounterRng(seed);
        var n = 3L << 30;
        for (var i = 0; i < 2000; i++)
        {
            var v = rng.Below(n);
            long w;
            do { w = reference.NextUInt32(); } while (w >= (1L << 32) - (1L << 32) % n);
            Assert.Equal(w % n, v);
        }
        Assert.True(rng.WordsUsed > 2000); // about a quarter of the words were rejected
    }

    // ---- fairness ----

    private static double ChiSquare(long[] observed)
    {
        var expected = observed.Sum() / (double)observed.Length;
        return observed.Sum(o => (o - expected) * (o - expected) / expected);
    }

    [Fact]
    public void Over_ten_thousand_seeds_employer_selection_and_inspector_assignment_are_uniform_by_a_chi_square_test_at_one_percent()
    {
        const int Seeds = 10_000;
        var employers = Enumerable.Range(0, 20).Select(i => new SnapshotEmployer($"9121138200000{i:00000}", 'C')).ToList();
        var inspectors = Enumerable.Range(0, 10).Select(i => new SnapshotInspector($"L{i:00}", true)).ToList();
        var snapshot = DrawSnapshot.Create(new DrawParameters([0, 0, 25, 0], 2, 100), employers, inspectors, [], []);
        var employerCounts = new long[20];
        var inspectorCounts = new long[10];
        for (var s = 0; s < Seeds; s++)
        {
            var seed = SHA256.HashData(BitConverter.GetBytes(s));
            var (drawn, unassignable, _) = DrawAlgorithm.Draw(snapshot, seed);
            Assert.Empty(unassignable);
            foreach (var d in drawn)
            {
                employerCounts[int.Parse(d.Uscc[^5..])]++;
                foreach (var b in d.Team) inspectorCounts[int.Parse(b[1..])]++;
            }
        }
        var employerChi = ChiSquare(employerCounts);
        var inspectorChi = ChiSquare(inspectorCounts);
        // Critical values of chi-square at the 1 % level: 19 degrees of freedom 36.191, 9 degrees 21.666.
        output.WriteLine($"employer selection: chi² = {employerChi:0.00} (df 19, 1 % critical 36.19), counts {string.Join(",", employerCounts)}");
        output.WriteLine($"inspector assignment: chi² = {inspectorChi:0.00} (df 9, 1 % critical 21.67), counts {string.Join(",", inspectorCounts)}");
        Assert.True(employerChi < 36.191, $"employer selection chi² {employerChi}");
        Assert.True(inspectorChi < 21.666, $"inspector assignment chi² {inspectorChi}");
    }

    // ---- speed (QUALITY.md: 100,000 employers, 1,000 inspectors, 2,000 conflicts, teams of 2: ≤ 1 s each) ----

    [Fact]
    public void A_draw_and_its_verification_over_100000_employers_and_1000_inspectors_each_take_at_most_a_second()
    {
        var f = DrawBenchmark.Measure();
        output.WriteLine($"draw: {f.Draw.TotalMilliseconds:0} ms; verify: {f.Verify.TotalMilliseconds:0} ms (best of 3); " +
                         $"{f.Employers} employers, {f.Inspectors} inspectors, {f.Conflicts} conflicts, {f.Drawn} drawn, {f.SnapshotBytes / 1024} KiB snapshot");
        Assert.True(f.Draw < TimeSpan.FromSeconds(1), $"draw took {f.Draw}");
        Assert.True(f.Verify < TimeSpan.FromSeconds(1), $"verify took {f.Verify}");
    }
}
