using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>
/// Issue #17, inspections against the real PostgreSQL: the completion limit of 60 working days from case opening
/// (立案), +30 with the department head's approval (劳动保障监察条例 art. 17), never shown overdue once extended; and
/// the plan's register rules: employers inspected within ExcludeInspectedWithinMonths are left out, employers with
/// ComplaintsForClassD complaints are class D (DOMAIN.md §1). Each row names its source.
/// </summary>
public class InspectionCaseFacts : IClassFixture<InspectionCaseFacts.Fixture>
{
    public sealed class Fixture : DatabaseFixture
    {
        public string MailDomain { get; } = $"{Guid.NewGuid():N}.test";

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await AddInspectorsAsync(this, MailDomain, ("CS-001", "王一", true), ("CS-002", "李二", true), ("CS-003", "赵三", true));
            var users = Services.GetRequiredService<UserStore>();
            await users.AddAsync("head", Roles.Inspection, TestSignIn.Password, "test", CancellationToken.None);
            await users.SetDeciderAsync("head", true, "test", CancellationToken.None);
            await users.AddAsync("inspector1", Roles.Inspection, TestSignIn.Password, "test", CancellationToken.None);
        }
    }

    private readonly Fixture _db;

    public InspectionCaseFacts(Fixture db) => _db = db;

    private static string Street() => $"街道{Guid.NewGuid():N}"[..12];

    /// <summary>The case slice on a clock some days after the draw (an opening is never in the future).</summary>
    private InspectionCases CasesAt(DateOnly day, out WebApplication app)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(day.ToDateTime(new TimeOnly(10, 0)), TimeSpan.FromHours(8)));
        app = _db.BuildApp(testServices: s => s.AddSingleton<TimeProvider>(clock));
        return app.Services.GetRequiredService<InspectionCases>();
    }

    public static TheoryData<string, int?, bool, int, bool> DeadlineRows() => new()
    {
        // (source, opened working days after the draw or none, extension approved, limit in working days from the start, overdue the day after the ORIGINAL 60-day limit)
        { "劳动保障监察条例 art. 17: before the opening is recorded, 60 working days from the draw date (the earliest opening)", null, false, 60, true },
        { "劳动保障监察条例 art. 17: 60 working days from case opening (立案)", 3, false, 60, true },
        { "劳动保障监察条例 art. 17: +30 working days when the department head approves an extension", 3, true, 90, false },
    };

    [Theory]
    [MemberData(nameof(DeadlineRows))]
    public async Task The_completion_deadline_follows_the_opening_and_the_approved_extension(string source, int? openedAfter, bool extended, int limit, bool overdueAfterOriginal)
    {
        _ = source;
        var street = Street();
        var usccs = await AddEmployersAsync(_db, street, ("甲公司", 'A', false));
        var plan = await AddPlanAsync(_db, street);
        var run = await InspectionTestData.DrawAsync(_db, plan.Id);
        var calendar = await _db.Services.GetRequiredService<CalendarStore>().LoadAsync();
        var start = openedAfter is { } n ? calendar.AddWorkingDays(plan.DrawDate, n).Date : plan.DrawDate;
        var cases = CasesAt(start.AddDays(1), out var app);
        await using var appScope = app;
        if (openedAfter is not null)
            using (Acting.Begin(new Acting("inspector1", Acting.Web)))
                await cases.OpenAsync(run.DrawId!.Value, usccs[0], start, CancellationToken.None);
        if (extended)
            await cases.ExtendAsync(run.DrawId!.Value, usccs[0], "涉及劳务派遣多方用工,案情复杂", "head", CancellationToken.None);

        var deadlines = _db.Services.GetRequiredService<InspectionDeadlines>();
        var original = calendar.AddWorkingDays(start, 60).Date;
        await deadlines.RunAsync(original.AddDays(1), CancellationToken.None);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var row = await conn.QuerySingleAsync<(DateTime DueOn, bool Extended, DateTime? OverdueSince)>(
            "SELECT due_on, extended, overdue_since FROM app.inspection_deadlines WHERE draw_id = @id AND kind = 'completion'", new { id = run.DrawId });
        Assert.Equal(calendar.AddWorkingDays(start, limit).Date, DateOnly.FromDateTime(row.DueOn));
        Assert.Equal(extended, row.Extended);
        Assert.Equal(overdueAfterOriginal, row.OverdueSince is not null);
        var overdueMails = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE dedupe_key LIKE @k",
            new { k = $"inspection-deadline:{run.DrawId}:%:completion:%:overdue:%" });
        Assert.Equal(overdueAfterOriginal, overdueMails > 0);
    }

    [Fact]
    public async Task An_extension_is_approved_only_by_the_department_head_once_with_a_reason_after_the_opening_and_both_are_audited()
    {
        var street = Street();
        var usccs = await AddEmployersAsync(_db, street, ("乙公司", 'B', false));
        var plan = await AddPlanAsync(_db, street);
        var run = await InspectionTestData.DrawAsync(_db, plan.Id);
        var id = run.DrawId!.Value;
        var cases = CasesAt(plan.DrawDate.AddDays(2), out var app);
        await using var appScope = app;

        var noOpening = await Assert.ThrowsAsync<DomainRuleException>(() => cases.ExtendAsync(id, usccs[0], "复杂", "head", CancellationToken.None));
        Assert.Contains("立案", noOpening.Message);
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.OpenAsync(id, usccs[0], plan.DrawDate.AddDays(-1), CancellationToken.None)); // before the draw
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.OpenAsync(id, usccs[0], plan.DrawDate.AddDays(3), CancellationToken.None)); // in the future
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.OpenAsync(id, NewUscc(), plan.DrawDate, CancellationToken.None)); // not drawn
        using (Acting.Begin(new Acting("inspector1", Acting.Web)))
            await cases.OpenAsync(id, usccs[0], plan.DrawDate.AddDays(1), CancellationToken.None);
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.OpenAsync(id, usccs[0], plan.DrawDate.AddDays(1), CancellationToken.None)); // once

        var notHead = await Assert.ThrowsAsync<DomainRuleException>(() => cases.ExtendAsync(id, usccs[0], "复杂", "inspector1", CancellationToken.None));
        Assert.Contains("部门负责人", notHead.Message);
        await Assert.ThrowsAsync<UsageException>(() => cases.ExtendAsync(id, usccs[0], "  ", "head", CancellationToken.None));
        await cases.ExtendAsync(id, usccs[0], "需调取银行流水", "head", CancellationToken.None);
        await Assert.ThrowsAsync<DomainRuleException>(() => cases.ExtendAsync(id, usccs[0], "再延", "head", CancellationToken.None));

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(("inspector1", "head", "需调取银行流水"), await conn.QuerySingleAsync<(string, string, string)>(
            """
            SELECT o.recorded_by, x.approved_by, x.reason FROM app.inspection_openings o
            JOIN app.inspection_extensions x USING (draw_id, uscc) WHERE o.draw_id = @id
            """, new { id }));
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.audit_log WHERE action IN ('inspection-case.open', 'inspection-case.extend') AND subject_id = @s",
            new { s = $"{id}:{usccs[0]}" }));
        await Assert.ThrowsAnyAsync<Npgsql.PostgresException>(() => conn.ExecuteAsync("UPDATE app.inspection_extensions SET reason = 'x' WHERE draw_id = @id", new { id }));
    }

    /// <summary>A standing draw of another plan that drew <paramref name="uscc"/> on a past date (written straight into the records).</summary>
    private static async Task PastDrawAsync(Npgsql.NpgsqlConnection conn, string uscc, DateOnly drawDate)
    {
        var planId = await conn.ExecuteScalarAsync<long>(
            """
            INSERT INTO app.inspection_plans (name, period, ratio_a, ratio_b, ratio_c, ratio_d, team_size, workload_cap, rotation_lookback_months,
                                              draw_date, secret, commitment, created_by)
            VALUES (@name, '2025-Q1', 100, 100, 100, 100, 2, 20, 24, @drawDate, sha256('s'::bytea), sha256(sha256('s'::bytea)), 'test')
            RETURNING id
            """, new { name = "往期计划" + Guid.NewGuid().ToString("N")[..8], drawDate });
        var drawId = await conn.ExecuteScalarAsync<long>(
            """
            INSERT INTO app.draws (plan_id, attempt, algorithm, draw_date, snapshot, snapshot_hash, secret, seed, result_hash, employer_count, operator, started_at)
            VALUES (@planId, 1, 'ly-draw-1', @drawDate, 'x'::bytea, sha256('x'::bytea), sha256('s'::bytea), sha256('t'::bytea), sha256('r'::bytea), 1, 'test', now())
            RETURNING id
            """, new { planId, drawDate });
        await conn.ExecuteAsync("INSERT INTO app.draw_results (draw_id, position, risk_class, uscc, team) VALUES (@drawId, 1, 'A', @uscc, ARRAY['CS-001', 'CS-002'])",
            new { drawId, uscc });
    }

    public static TheoryData<string, int?, int, int, bool, int, string?> RegisterRows() => new()
    {
        // (source, drawn by another plan N months before, ExcludeInspectedWithinMonths, complaints, abnormal, ComplaintsForClassD, expected class or null = left out)
        { "DOMAIN §1 (local practice, default 12 months): an employer drawn 6 months ago is left out", 6, 12, 0, false, 3, null },
        { "DOMAIN §1: drawn 13 months ago, outside the 12 months: drawn again", 13, 12, 0, false, 3, "A" },
        { "DOMAIN §1: ExcludeInspectedWithinMonths 0 turns the rule off", 1, 0, 0, false, 3, "A" },
        { "DOMAIN §1: an employer with many complaints (3 ≥ ComplaintsForClassD 3) is class D", null, 12, 3, false, 3, "D" },
        { "DOMAIN §1: 2 complaints, below the threshold: its own class", null, 12, 2, false, 3, "A" },
        { "DOMAIN §1: ComplaintsForClassD 0 turns the rule off", null, 12, 50, false, 0, "A" },
        { "DOMAIN §1: the abnormal-operations list (经营异常名录) is class D as before", null, 12, 0, true, 3, "D" },
    };

    [Theory]
    [MemberData(nameof(RegisterRows))]
    public async Task A_plan_leaves_out_recently_inspected_employers_and_puts_those_with_complaints_in_class_D(
        string source, int? drawnMonthsAgo, int excludeMonths, int complaints, bool abnormal, int complaintsForD, string? expected)
    {
        _ = source;
        var street = Street();
        var uscc = (await AddEmployersAsync(_db, street, ("丙公司", 'A', abnormal)))[0];
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("UPDATE app.employers SET complaints = @complaints WHERE uscc = @uscc", new { complaints, uscc });
        var plan = await AddPlanAsync(_db, street);
        if (drawnMonthsAgo is { } m) await PastDrawAsync(conn, uscc, plan.DrawDate.AddMonths(-m));

        var snapshot = await _db.Services.GetRequiredService<Work>().RunAsync("test.snapshot",
            uow => DrawService.LoadSnapshotAsync(uow, plan, excludeMonths, complaintsForD), CancellationToken.None);
        var found = snapshot.Employers.Where(e => e.Uscc == uscc).Select(e => e.RiskClass.ToString()).SingleOrDefault();
        Assert.Equal(expected, found);
    }

    [Fact]
    public async Task The_draw_uses_the_settings_and_the_employers_register_accepts_an_optional_complaints_column()
    {
        var street = Street();
        var dir = Directory.CreateTempSubdirectory("complaints").FullName;
        var uscc = NewUscc();
        var file = Path.Combine(dir, "employers.csv");
        await File.WriteAllTextAsync(file,
            "uscc,name,street,community,industry,risk_class,migrant_workers,email,legal_rep_name,legal_rep_id_number,abnormal,complaints\n"
            + $"{uscc},丁公司,{street},南街社区,建筑业,A,3,,张三,11010519491231002X,false,4\n");
        await _db.Services.GetRequiredService<Lingyuan.Jobs.Registers.Import.RegisterImporter>()
            .ImportAsync(new Lingyuan.Jobs.Registers.Import.ImportRequest("employers", file, null), TextWriter.Null, CancellationToken.None);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(4, await conn.ExecuteScalarAsync<int>("SELECT complaints FROM app.employers WHERE uscc = @uscc", new { uscc }));

        // Without the column the register keeps what it has.
        await File.WriteAllTextAsync(file,
            "uscc,name,street,community,industry,risk_class,migrant_workers,email,legal_rep_name,legal_rep_id_number,abnormal\n"
            + $"{uscc},丁公司,{street},南街社区,建筑业,A,5,,张三,11010519491231002X,false\n");
        await _db.Services.GetRequiredService<Lingyuan.Jobs.Registers.Import.RegisterImporter>()
            .ImportAsync(new Lingyuan.Jobs.Registers.Import.ImportRequest("employers", file, null), TextWriter.Null, CancellationToken.None);
        Assert.Equal(4, await conn.ExecuteScalarAsync<int>("SELECT complaints FROM app.employers WHERE uscc = @uscc", new { uscc }));

        // The draw itself (default settings: ComplaintsForClassD 3) puts it in class D.
        var plan = await AddPlanAsync(_db, street, ratios: [0, 0, 0, 100]);
        var run = await InspectionTestData.DrawAsync(_db, plan.Id);
        Assert.True(run.Succeeded);
        Assert.Equal("D", await conn.ExecuteScalarAsync<string>("SELECT risk_class FROM app.draw_results WHERE draw_id = @id AND uscc = @uscc", new { id = run.DrawId, uscc }));
    }
}
