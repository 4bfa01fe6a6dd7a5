using System.Text;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Inspections;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>
/// The inspection rules of issue #17 that need no database: the article cited for 回避, the brief report of a
/// draw that cannot be made, and default settings that fit a register of the county demo's size. Each row names
/// its source.
/// </summary>
public class InspectionRuleFacts
{
    private static AssignmentMail.Assignment Assignment() => new()
    {
        Badge = "LY-001", InspectorName = "王一", Email = "ly-001@example.test", Position = 1, Uscc = "91211382000000001X",
        EmployerName = "凌源市热力公司", Street = "城关街道", Community = "南街社区", MateBadges = ["LY-002"], MateNames = ["李二"],
    };

    public static TheoryData<string, string, bool> MailTexts() => new()
    {
        // 劳动保障监察条例 art. 16 ¶2: an inspector with an interest in the case withdraws (回避).
        { "劳动保障监察条例 art. 16 ¶2: the text cites the second paragraph of article 16 for 回避", "text:依第十六条第二款立即申请回避", true },
        { "劳动保障监察条例 art. 16 ¶2: the HTML cites the second paragraph of article 16 for 回避", "html:依第十六条第二款立即申请回避", true },
        // art. 17 is the 60-working-day limit, not avoidance.
        { "劳动保障监察条例 art. 17 is the time limit: never cited for 回避 (text)", "text:依第十七条立即申请回避", false },
        { "劳动保障监察条例 art. 17 is the time limit: never cited for 回避 (HTML)", "html:依第十七条立即申请回避", false },
        { "劳动保障监察条例 art. 17: the completion limit runs from case opening (立案)", "text:自立案之日起60个工作日内办结", true },
    };

    [Theory]
    [MemberData(nameof(MailTexts))]
    public void The_assignment_mail_cites_the_right_article(string source, string where, bool present)
    {
        _ = source;
        var plan = new Plan { Id = 7, Name = "2026年第二季度", Period = "2026-Q2", DrawDate = new DateOnly(2026, 4, 1), TeamSize = 2, WorkloadCap = 30 };
        var mail = AssignmentMail.Build(3, plan, new DueDate(new DateOnly(2026, 6, 26), false), 60, 20, [Assignment()]);
        var (part, phrase) = (where[..where.IndexOf(':')], where[(where.IndexOf(':') + 1)..]);
        var body = part == "text" ? mail.TextBody : mail.HtmlBody!;
        Assert.Equal(present, body.Contains(phrase, StringComparison.Ordinal));
    }

    [Fact]
    public void The_published_algorithm_cites_article_16_paragraph_2_for_avoidance()
    {
        var doc = File.ReadAllText(Path.Combine(RepoRoot(), "docs", "draw-algorithm.md"));
        Assert.Contains("回避, 劳动保障监察条例 art. 16 ¶2", doc);
        Assert.DoesNotContain("回避, art. 17", doc);
    }

    private static string RepoRoot([System.Runtime.CompilerServices.CallerFilePath] string here = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(here)!, "..", "..", ".."));

    /// <summary>A register the size and mix of the county demo (tools/Lingyuan.Jobs.Demo, DemoScale.County): classes as the seeder draws them.</summary>
    private static (List<SnapshotEmployer> Employers, List<SnapshotInspector> Inspectors, List<InspectorEmployer> Conflicts) CountyLike(int seed, int employers = 30_000, int inspectors = 300, int conflicts = 600)
    {
        var r = new Random(seed);
        var e = new List<SnapshotEmployer>(employers);
        for (var i = 0; i < employers; i++)
        {
            var abnormal = r.NextDouble() < 0.03;
            var cls = abnormal ? 'D' : r.NextDouble() switch { < 0.40 => 'A', < 0.75 => 'B', < 0.93 => 'C', _ => 'D' };
            e.Add(new SnapshotEmployer($"91211382{i:D9}X", cls));
        }
        var ins = Enumerable.Range(1, inspectors).Select(i => new SnapshotInspector($"LYJC-{i:D4}", r.NextDouble() < 0.95)).ToList();
        var c = new HashSet<InspectorEmployer>();
        while (c.Count < conflicts) c.Add(new InspectorEmployer($"LYJC-{r.Next(1, inspectors + 1):D4}", e[r.Next(employers)].Uscc));
        return (e, ins, [.. c]);
    }

    public static TheoryData<string, int> DemoSeeds() => new()
    {
        { "issue #17: a plan with the default ratios, team size and cap draws on a county-demo-size register (seed 1)", 1 },
        { "issue #17: … (seed 2)", 2 },
        { "issue #17: … (seed 3)", 3 },
    };

    [Theory]
    [MemberData(nameof(DemoSeeds))]
    public void The_default_settings_fit_a_register_of_the_county_demo_size(string source, int seed)
    {
        _ = source;
        var o = new InspectionOptions();
        var (employers, inspectors, conflicts) = CountyLike(seed);
        var snapshot = DrawSnapshot.Create(new DrawParameters(o.DefaultRatios, o.DefaultTeamSize, o.DefaultWorkloadCap), employers, inspectors, conflicts, []);
        var outcome = DrawAlgorithm.Run(snapshot, new byte[32], 1, new DateOnly(2026, 12, 2), InspectionTestData.TestPublicValue);
        Assert.True(outcome.Succeeded, string.Join(" ", DrawFailureReport.Of(outcome, snapshot).Advice));
        Assert.True(outcome.Drawn.Count > 3_000, $"{outcome.Drawn.Count} drawn");
    }

    [Fact]
    public void At_the_old_cap_of_20_the_county_draw_fails_and_the_report_says_to_raise_the_cap_or_lower_the_ratios()
    {
        var (employers, inspectors, conflicts) = CountyLike(1);
        var snapshot = DrawSnapshot.Create(new DrawParameters([3, 5, 20, 60], 2, 20), employers, inspectors, conflicts, []);
        var outcome = DrawAlgorithm.Run(snapshot, new byte[32], 1, new DateOnly(2026, 12, 2), InspectionTestData.TestPublicValue);
        Assert.False(outcome.Succeeded);
        var report = DrawFailureReport.Of(outcome, snapshot);
        var json = report.ToJson();
        // issue #17: the failed county draw stored 9.7 MB; counts by reason and the first 100 employers stay small.
        Assert.True(Encoding.UTF8.GetByteCount(json) < 64 * 1024, $"{Encoding.UTF8.GetByteCount(json)} bytes");
        Assert.Equal(outcome.Unassignable.Count, report.Unassignable);
        Assert.Equal(DrawFailureReport.EmployersListed, report.Employers.Count);
        Assert.True(report.ByReason["cap"] > 0);
        var advice = Assert.Single(report.Advice, a => a.Contains("每人上限"));
        Assert.Contains("抽查比例", advice);
        var back = DrawFailureReport.Parse(json);
        Assert.Equal(report.Unassignable, back.Unassignable);
        Assert.Equal(report.ByReason, back.ByReason);
        Assert.True(report.Render().Value.Length < 64 * 1024);
    }

    public static TheoryData<string, int, int, int, int, string, string> AdviceRows() => new()
    {
        // DOMAIN.md §1: "the draw fails as a whole with a short report (counts by reason, the first employers
        // affected, and which setting to change)".
        { "DOMAIN §1: more visits than inspectors × cap → raise the cap (to the minimum that fits) or lower the ratios", 100, 10, 2, 5, "至少 20 户", "抽查比例" },
        { "DOMAIN §1 / 监察条例 art. 16 ¶1: a team larger than two may be reduced to two", 100, 10, 3, 5, "每组人数", "最少 2 人" },
        { "DOMAIN §1: fewer active inspectors than the team size → activate inspectors or reduce the team", 10, 1, 2, 20, "在岗执法人员仅 1 名", "每组人数" },
    };

    [Theory]
    [MemberData(nameof(AdviceRows))]
    public void A_failed_draw_names_the_setting_to_change(string source, int selected, int active, int team, int cap, string says, string alsoSays)
    {
        _ = source;
        var report = new DrawFailureReport { Unassignable = 1, Selected = selected, ActiveInspectors = active, TeamSize = team, WorkloadCap = cap, Ratios = [3, 5, 20, 60] };
        var advice = string.Join(" ", DrawFailureReport.AdviceOf(report));
        Assert.Contains(says, advice);
        Assert.Contains(alsoSays, advice);
    }

    [Fact]
    public void A_report_of_the_first_format_is_still_read_and_summarised()
    {
        const string legacy = """[{"uscc":"91211382000000001X","risk_class":"A","candidates":1,"team_size":2,"excluded":[{"badge":"JC-02","reasons":["conflict"]},{"badge":"JC-03","reasons":["cap","rotation"]}]}]""";
        var r = DrawFailureReport.Parse(legacy);
        Assert.Equal((1, 2), (r.Unassignable, r.TeamSize));
        Assert.Equal(new Dictionary<string, int> { ["conflict"] = 1, ["cap"] = 1, ["rotation"] = 1 }, r.ByReason);
        Assert.Contains("JC-02", r.Render().Value);
    }
}
