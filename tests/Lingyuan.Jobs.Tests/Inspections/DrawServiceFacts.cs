using System.Text;
using Dapper;
using Ical.Net;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>Draws against the real PostgreSQL: records, e-mails, verification, cancellation, the job, results and deadlines.</summary>
public class DrawServiceFacts : IClassFixture<DrawServiceFacts.Fixture>
{
    /// <summary>Six active inspectors and one inactive one, shared by the tests of this class.</summary>
    public sealed class Fixture : DatabaseFixture
    {
        public string MailDomain { get; } = $"{Guid.NewGuid():N}.test";

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await AddInspectorsAsync(this, MailDomain,
                ("LY-001", "王<b>一</b>", true), ("LY-002", "李二", true), ("LY-003", "赵三", true),
                ("LY-004", "钱四", true), ("LY-005", "孙五", true), ("LY-006", "周六", true), ("LY-007", "吴七", false));
        }
    }

    private readonly Fixture _db;
    private readonly ITestOutputHelper _output;
    private DrawService Draws => _db.Services.GetRequiredService<DrawService>();

    public DrawServiceFacts(Fixture db, ITestOutputHelper output) { _db = db; _output = output; }

    private static async Task<string[]> TeamAsync(NpgsqlConnection conn, long drawId)
    {
        await using var cmd = new NpgsqlCommand("SELECT team FROM app.draw_results WHERE draw_id = $1", conn) { Parameters = { new() { Value = drawId } } };
        return (string[])(await cmd.ExecuteScalarAsync())!;
    }

    private static string Street() => $"街道{Guid.NewGuid():N}"[..12];

    private static async Task<bool> Attempt(Func<Task<DrawRun>> draw)
    {
        try { return (await draw()).Succeeded; }
        catch (DomainRuleException) { return false; }
    }

    [Fact]
    public async Task A_draw_records_snapshot_seed_and_results_and_queues_one_escaped_chinese_mail_with_an_ics_per_inspector()
    {
        var street = Street();
        var usccs = await AddEmployersAsync(_db, street, ("凌源<script>alert(1)</script>建筑公司", 'A', false), ("凌源市热力公司", 'C', false), ("凌源市食品厂", 'B', true));
        var plan = await AddPlanAsync(_db, street);

        var run = await DrawAsync(_db, plan.Id);

        Assert.True(run.Succeeded);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var results = (await conn.QueryAsync<(string Uscc, string RiskClass, string[] Team)>(
            "SELECT uscc, risk_class, team FROM app.draw_results WHERE draw_id = @id ORDER BY position", new { id = run.DrawId })).ToList();
        Assert.Equal(usccs.Order(), results.Select(r => r.Uscc).Order());
        Assert.Equal("D", results.Single(r => r.Uscc == usccs[2]).RiskClass); // abnormal-operations list → class D
        Assert.All(results, r => Assert.Equal(2, r.Team.Length));
        Assert.All(results, r => Assert.DoesNotContain("LY-007", r.Team)); // inactive
        var stored = await conn.QuerySingleAsync<(byte[] Snapshot, byte[] Secret, byte[] Seed)>(
            "SELECT snapshot, secret, seed FROM app.draws WHERE id = @id", new { id = run.DrawId });
        Assert.Equal(plan.Commitment, System.Security.Cryptography.SHA256.HashData(stored.Secret));
        Assert.StartsWith("ly-draw-2\n", Encoding.UTF8.GetString(stored.Snapshot));

        var mails = (await conn.QueryAsync<(long Id, string DedupeKey, string[] Recipients, string Subject, string TextBody, string HtmlBody)>(
            "SELECT id, dedupe_key, recipients, subject, text_body, html_body FROM app.outbox WHERE regarding_type = 'draw' AND regarding_id = @id",
            new { id = run.DrawId.ToString() })).ToList();
        var inspectors = results.SelectMany(r => r.Team).Distinct().ToList();
        Assert.Equal(inspectors.Count, mails.Count);
        Assert.Equal(inspectors.Count, run.MailsQueued);
        Assert.All(mails, m => Assert.StartsWith($"inspection-draw:{run.DrawId}:inspector:", m.DedupeKey));
        Assert.All(mails, m => Assert.Contains("双随机抽查任务通知", m.Subject));
        Assert.All(mails, m => Assert.DoesNotContain("<script>", m.HtmlBody));
        Assert.All(mails, m => Assert.DoesNotContain("<b>一</b>", m.HtmlBody));
        var first = results[0];
        var mail = mails.Single(m => m.Recipients.Single() == $"{first.Team[0].ToLowerInvariant()}@{_db.MailDomain}");
        Assert.Contains(first.Uscc, mail.TextBody);
        Assert.Contains("河坎子社区", mail.TextBody); // address
        Assert.Contains("检查完成期限", mail.TextBody);
        Assert.Contains(first.Team[1], mail.TextBody); // team mate

        var ics = await conn.QuerySingleAsync<(string FileName, string ContentType, byte[] Content)>(
            "SELECT file_name, content_type, content FROM app.outbox_attachments WHERE message_id = @id", new { id = mail.Id });
        Assert.EndsWith(".ics", ics.FileName);
        Assert.StartsWith("text/calendar", ics.ContentType);
        var calendar = Ical.Net.Calendar.Load(Encoding.UTF8.GetString(ics.Content))!;
        var assignedToHim = results.Count(r => r.Team.Contains(first.Team[0]));
        Assert.Equal(assignedToHim, calendar.Events.Count);
        Assert.Contains(calendar.Events, e => e.Description!.Contains(first.Uscc));

        Assert.Empty(await Draws.VerifyAsync(run.DrawId!.Value, CancellationToken.None));
    }

    [Fact]
    public async Task Draw_verify_exits_zero_when_untouched_and_non_zero_naming_the_row_after_a_superuser_tampers_with_one_result()
    {
        var street = Street();
        await AddEmployersAsync(_db, street, ("甲公司", 'A', false), ("乙公司", 'B', false), ("丙公司", 'D', false));
        var plan = await AddPlanAsync(_db, street);
        var run = await DrawAsync(_db, plan.Id);

        var (ok, okOutput) = await ServiceProcess.RunAsync(_db, $"draw verify {run.DrawId}");
        Assert.True(ok == 0, okOutput);
        Assert.Contains("identical", okOutput);

        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            var outsider = (await conn.QueryAsync<string>("SELECT i.badge_no FROM app.inspectors i WHERE i.active AND NOT EXISTS (SELECT 1 FROM app.draw_results r WHERE r.draw_id = @id AND r.position = 2 AND i.badge_no = ANY(r.team)) ORDER BY 1 LIMIT 1", new { id = run.DrawId })).Single();
            await conn.ExecuteAsync(
                $"""
                ALTER TABLE app.draw_results DISABLE TRIGGER draw_results_append_only;
                UPDATE app.draw_results SET team = ARRAY[team[1], '{outsider}'] WHERE draw_id = {run.DrawId} AND position = 2;
                ALTER TABLE app.draw_results ENABLE TRIGGER draw_results_append_only;
                """);
        }
        var (code, output) = await ServiceProcess.RunAsync(_db, $"draw verify {run.DrawId}");
        _output.WriteLine(output);
        Assert.Equal(1, code);
        Assert.Contains("result row 2: stored", output);
        Assert.Contains("does NOT verify", output);
    }

    [Fact]
    public async Task A_plan_is_not_drawn_before_its_draw_date_by_hand_and_the_job_only_freezes_its_snapshot()
    {
        // The job no longer draws (a draw needs the public value, which a person enters): it freezes the
        // snapshot of tomorrow's plans, once, however often it runs.
        var street = Street();
        await AddEmployersAsync(_db, street, ("寅公司", 'C', false));
        var plans = _db.Services.GetRequiredService<InspectionPlans>();
        var plan = await plans.CreateAsync(new PlanInput("明日计划" + Guid.NewGuid().ToString("N")[..6], "2026-Q3", plans.Today.AddDays(1), null, null, null, null, [street]), CancellationToken.None);

        await Assert.ThrowsAsync<BadInputException>(() => Draws.RunAsync(plan.Id, Value, CancellationToken.None));
        await _db.Services.GetRequiredService<InspectionDrawsJob>().RunAsync(CancellationToken.None);
        await _db.Services.GetRequiredService<InspectionDrawsJob>().RunAsync(CancellationToken.None);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws WHERE plan_id = @id", new { id = plan.Id }));
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draw_snapshots WHERE plan_id = @id", new { id = plan.Id }));
        Assert.Equal("job:inspection-draws", await conn.ExecuteScalarAsync<string>("SELECT frozen_by FROM app.draw_snapshots WHERE plan_id = @id", new { id = plan.Id }));
        await Assert.ThrowsAsync<BadInputException>(() => Draws.RunAsync(plan.Id, Value, CancellationToken.None));
    }

    [Fact]
    public async Task Draw_records_refuse_update_delete_and_truncate()
    {
        var street = Street();
        await AddEmployersAsync(_db, street, ("丁公司", 'C', false));
        var plan = await AddPlanAsync(_db, street);
        var run = await DrawAsync(_db, plan.Id);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        foreach (var sql in new[]
                 {
                     $"UPDATE app.draws SET operator = 'x' WHERE id = {run.DrawId}",
                     $"DELETE FROM app.draw_results WHERE draw_id = {run.DrawId}",
                     $"UPDATE app.inspection_plans SET draw_date = draw_date + 1 WHERE id = {plan.Id}",
                     "TRUNCATE app.draw_results CASCADE",
                 })
        {
            var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync(sql));
            Assert.Contains("append-only", e.MessageText);
        }
    }

    [Fact]
    public async Task A_redraw_is_refused_until_the_draw_is_cancelled_with_a_reason_and_both_stay_on_record()
    {
        var street = Street();
        await AddEmployersAsync(_db, street, ("戊公司", 'B', false), ("己公司", 'D', false));
        var plan = await AddPlanAsync(_db, street);
        var first = await DrawAsync(_db, plan.Id);

        await Assert.ThrowsAsync<DomainRuleException>(() => Draws.RunAsync(plan.Id, Value, CancellationToken.None));
        await Assert.ThrowsAsync<UsageException>(() => Draws.CancelAsync(first.DrawId!.Value, "  ", CancellationToken.None));
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            // The database refuses a second standing draw even when the code is bypassed.
            var e = await Assert.ThrowsAsync<PostgresException>(() => conn.ExecuteAsync(
                "INSERT INTO app.draws (plan_id, attempt, algorithm, draw_date, snapshot, snapshot_hash, secret, seed, result_hash, employer_count, operator, started_at) " +
                "SELECT plan_id, 2, algorithm, draw_date, snapshot, snapshot_hash, secret, seed, result_hash, employer_count, operator, started_at FROM app.draws WHERE id = @id",
                new { id = first.DrawId }));
            Assert.Equal(PostgresErrorCodes.UniqueViolation, e.SqlState);
        }

        await Draws.CancelAsync(first.DrawId!.Value, "摇号时名录未更新", CancellationToken.None);
        var second = await DrawAsync(_db, plan.Id);

        Assert.NotEqual(first.DrawId, second.DrawId);
        var draws = (await _db.Services.GetRequiredService<InspectionsView>().DrawsAsync(CancellationToken.None)).Where(d => d.PlanId == plan.Id).OrderBy(d => d.Attempt).ToList();
        Assert.Equal(2, draws.Count);
        Assert.Equal("摇号时名录未更新", draws[0].CancelReason);
        Assert.False(draws[1].Cancelled);
        Assert.Empty(await Draws.VerifyAsync(first.DrawId!.Value, CancellationToken.None)); // the cancelled draw still verifies
    }

    [Fact]
    public async Task Two_draws_of_one_plan_at_once_leave_one_draw_and_one_mail_per_inspector()
    {
        // Was: the draw job run twice and concurrently. The job now freezes; two people drawing at once
        // (two instances) are what can race: one waits for the plan's lock, then sees the other's draw.
        var street = Street();
        await AddEmployersAsync(_db, street, ("庚公司", 'A', false), ("辛公司", 'C', false));
        var plan = await AddPlanAsync(_db, street);
        await FreezeAsync(_db, plan.Id);
        var other = _db.BuildApp().Services;

        var runs = await Task.WhenAll(
            Attempt(() => Draws.RunAsync(plan.Id, Value, CancellationToken.None)),
            Attempt(() => other.GetRequiredService<DrawService>().RunAsync(plan.Id, Value, CancellationToken.None)));
        Assert.Equal(1, runs.Count(r => r));

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws WHERE plan_id = @id", new { id = plan.Id }));
        var drawId = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.draws WHERE plan_id = @id", new { id = plan.Id });
        var mails = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE regarding_type = 'draw' AND regarding_id = @id", new { id = drawId.ToString() });
        var inspectors = await conn.ExecuteScalarAsync<int>("SELECT count(DISTINCT b) FROM app.draw_results, unnest(team) b WHERE draw_id = @id", new { id = drawId });
        Assert.Equal(inspectors, mails);
    }

    [Fact]
    public async Task A_later_plan_does_not_send_an_inspector_back_to_an_employer_he_inspected_within_the_look_back()
    {
        var street = Street();
        var usccs = await AddEmployersAsync(_db, street, ("壬公司", 'D', false));
        // Rotation (inspectors) is tested apart from the 12-month employer exclusion (issue #17), which would leave the
        // employer out of the second plan altogether: both snapshots are frozen with the exclusion off.
        await using var past = InspectionTestData.PastApp(_db, new() { ["Inspections:ExcludeInspectedWithinMonths"] = "0" });
        var freeze = past.Services.GetRequiredService<SnapshotFreeze>();
        var firstPlan = await AddPlanAsync(_db, street);
        await freeze.FreezeAsync(firstPlan.Id, CancellationToken.None);
        var first = await DrawAsync(_db, firstPlan.Id);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var firstTeam = await TeamAsync(conn, first.DrawId!.Value);

        // The rotation window is [draw date − look-back, draw date]: a second plan of the same draw date, frozen
        // after the first draw was recorded, sees the first draw.
        var later = await AddPlanAsync(_db, street, name: "后续计划" + Guid.NewGuid().ToString("N")[..6]);
        await freeze.FreezeAsync(later.Id, CancellationToken.None);
        var second = await DrawAsync(_db, later.Id);

        var snapshot = Encoding.UTF8.GetString(await conn.ExecuteScalarAsync<byte[]>("SELECT snapshot FROM app.draws WHERE id = @id", new { id = second.DrawId }) ?? []);
        foreach (var b in firstTeam!) Assert.Contains($"R\t{b}\t{usccs[0]}\n", snapshot);
        var secondTeam = await TeamAsync(conn, second.DrawId!.Value);
        Assert.Empty(firstTeam!.Intersect(secondTeam!));
    }

    [Fact]
    public async Task Results_import_is_all_or_nothing_and_reimporting_changes_nothing_and_the_public_csv_neutralises_formulas()
    {
        var street = Street();
        var usccs = await AddEmployersAsync(_db, street, ("=cmd|' /C calc'!A0", 'A', false), ("癸公司", 'B', false));
        var plan = await AddPlanAsync(_db, street);
        var run = await DrawAsync(_db, plan.Id);
        var results = _db.Services.GetRequiredService<InspectionResults>();
        var today = plan.DrawDate.ToString("yyyy-MM-dd");

        var bad = $"draw_id,uscc,completed_on,finding,summary\n{run.DrawId},{usccs[0]},{today},compliant,ok\n{run.DrawId},{NewUscc()},{today},compliant,ok\n{run.DrawId},{usccs[1]},2026-02-30,fine,\n";
        var badInput = await Assert.ThrowsAnyAsync<BadInputException>(async () =>
            await results.ImportAsync("r.csv", InspectionResults.Parse("r.csv", new StringReader(bad)), false, CancellationToken.None));
        Assert.Contains(badInput.Problems, p => p.StartsWith("r.csv:4: completed_on"));
        Assert.Contains(badInput.Problems, p => p.StartsWith("r.csv:4: finding"));
        Assert.Contains(badInput.Problems, p => p.StartsWith("r.csv:4: summary"));

        var unknown = $"draw_id,uscc,completed_on,finding,summary\n{run.DrawId},{usccs[0]},{today},compliant,ok\n{run.DrawId},{NewUscc()},{today},compliant,ok\n";
        var notDrawn = await Assert.ThrowsAsync<BadInputException>(() =>
            results.ImportAsync("r.csv", InspectionResults.Parse("r.csv", new StringReader(unknown)), false, CancellationToken.None));
        Assert.StartsWith("r.csv:3: uscc:", notDrawn.Problems.Single());
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.inspection_results WHERE draw_id = @id", new { id = run.DrawId }));

        var good = $"\uFEFFsummary,draw_id,uscc,completed_on,finding\n\"=HYPERLINK(\"\"http://x\"\")\",{run.DrawId},{usccs[0]},{today},violation\n已整改,{run.DrawId},{usccs[1]},{today},rectification_ordered\n";
        Assert.Equal(2, await results.ImportAsync("r.csv", InspectionResults.Parse("r.csv", new StringReader(good)), false, CancellationToken.None));
        Assert.Equal(0, await results.ImportAsync("r.csv", InspectionResults.Parse("r.csv", new StringReader(good)), false, CancellationToken.None));

        var csv = InspectionResults.PublicCsv(await results.PublicListAsync(run.DrawId!.Value, CancellationToken.None));
        Assert.Equal(new byte[] { 0xEF, 0xBB, 0xBF }, csv[..3]);
        var text = Encoding.UTF8.GetString(csv[3..]);
        Assert.Contains("'=cmd|' /C calc'!A0", text);
        Assert.Contains("\"'=HYPERLINK(\"\"http://x\"\")\"", text);
        Assert.Contains("发现违法行为", text);
    }

    [Fact]
    public async Task The_deadline_job_computes_60_and_20_working_day_deadlines_reminds_once_and_flags_overdue_ones()
    {
        var street = Street();
        var usccs = await AddEmployersAsync(_db, street, ("子公司", 'A', false), ("丑公司", 'B', false));
        var plan = await AddPlanAsync(_db, street);
        var run = await DrawAsync(_db, plan.Id);
        var deadlines = _db.Services.GetRequiredService<InspectionDeadlines>();
        var calendar = await _db.Services.GetRequiredService<Lingyuan.Jobs.Calendar.CalendarStore>().LoadAsync();
        var due = calendar.AddWorkingDays(plan.DrawDate, 60);

        await deadlines.RunAsync(plan.DrawDate, CancellationToken.None);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var rows = (await conn.QueryAsync<(string Uscc, DateTime DueOn, bool Missing)>(
            "SELECT uscc, due_on, calendar_missing FROM app.inspection_deadlines WHERE draw_id = @id AND kind = 'completion'", new { id = run.DrawId })).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(due.Date, DateOnly.FromDateTime(r.DueOn)));
        Assert.All(rows, r => Assert.Equal(due.CalendarMissing, r.Missing));

        // Within the reminder window (5 working days before): one reminder per team member and deadline, once.
        var reminderDay = calendar.AddWorkingDays(due.Date, -2).Date;
        // (The job covers every draw of this class's database; only this draw's messages are counted.)
        Assert.True((await deadlines.RunAsync(reminderDay, CancellationToken.None)).Reminders >= 4);
        Assert.Equal(0, (await deadlines.RunAsync(reminderDay, CancellationToken.None)).Reminders);
        Assert.Equal(4, await conn.ExecuteScalarAsync<int>( // 2 employers x team of 2
            "SELECT count(*) FROM app.outbox WHERE dedupe_key LIKE @k", new { k = $"inspection-deadline:{run.DrawId}:%:completion:%:reminder:%" }));

        // A result for one employer; the other is still open on the day after its deadline.
        var results = _db.Services.GetRequiredService<InspectionResults>();
        var csv = $"draw_id,uscc,completed_on,finding,summary\n{run.DrawId},{usccs[0]},{plan.DrawDate:yyyy-MM-dd},compliant,未发现问题\n";
        await results.ImportAsync("r.csv", InspectionResults.Parse("r.csv", new StringReader(csv)), false, CancellationToken.None);
        var dayAfter = due.Date.AddDays(1);
        var summary = await deadlines.RunAsync(dayAfter, CancellationToken.None);
        var again = await deadlines.RunAsync(dayAfter, CancellationToken.None);

        var state = (await conn.QueryAsync<(string Uscc, string Kind, DateTime? MetOn, DateTime? OverdueSince, DateTime DueOn)>(
            "SELECT uscc, kind, met_on, overdue_since, due_on FROM app.inspection_deadlines WHERE draw_id = @id", new { id = run.DrawId })).ToList();
        Assert.NotNull(state.Single(s => s.Uscc == usccs[0] && s.Kind == "completion").MetOn);
        Assert.Equal(dayAfter, DateOnly.FromDateTime(state.Single(s => s.Uscc == usccs[1] && s.Kind == "completion").OverdueSince!.Value));
        var publication = state.Single(s => s.Uscc == usccs[0] && s.Kind == "publication");
        Assert.Equal(calendar.AddWorkingDays(plan.DrawDate, 20).Date, DateOnly.FromDateTime(publication.DueOn));
        Assert.True(summary.NewlyOverdue >= 1);
        Assert.Equal(0, again.Reminders);
        Assert.Equal(0, again.NewlyOverdue);
        var overdueMails = await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM app.outbox WHERE dedupe_key LIKE @k", new { k = $"inspection-deadline:{run.DrawId}:{usccs[1]}:completion:%:overdue:%" });
        Assert.Equal(2, overdueMails); // one per team member, once
    }

    [Fact]
    public async Task Plan_add_on_the_command_line_prints_the_plan_id_and_the_commitment_of_a_secret_it_never_shows()
    {
        var plans = _db.Services.GetRequiredService<InspectionPlans>();
        var (code, output) = await ServiceProcess.RunAsync(_db,
            $"plan add --name 第二季度抽查{Guid.NewGuid():N} --period 2026-Q2 --draw-date {plans.Today:yyyy-MM-dd} --ratios A=3,B=5,C=20,D=60 --team-size 2 --streets 城关街道,红山街道");
        Assert.True(code == 0, output);
        var id = long.Parse(output.Split('\n').Single(l => l.StartsWith("plan ")).Split(' ')[1]);
        var commitment = output.Split('\n').Single(l => l.StartsWith("commitment ")).Split(' ')[1].Trim();
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        // The secret is sealed: the plan row holds no plain secret; unsealed, it matches the commitment.
        var stored = await conn.QuerySingleAsync<(byte[]? Secret, byte[] Sealed, string[] Streets)>("SELECT secret, sealed_secret, streets FROM app.inspection_plans WHERE id = @id", new { id });
        Assert.Null(stored.Secret);
        var secret = await _db.Services.GetRequiredService<Lingyuan.Jobs.Database.Work>().RunAsync("test",
            uow => _db.Services.GetRequiredService<PlanSecrets>().RevealAsync(uow, id), CancellationToken.None);
        Assert.Equal(commitment, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(secret)));
        Assert.DoesNotContain(Convert.ToHexStringLower(secret), output);
        Assert.DoesNotContain(Convert.ToHexStringLower(secret), Convert.ToHexStringLower(stored.Sealed));
        Assert.Contains("published ", output);
        Assert.Equal(["城关街道", "红山街道"], stored.Streets);

        var (bad, badOutput) = await ServiceProcess.RunAsync(_db, "plan add --name x --period 2026-13 --draw-date 2026-01-01 --team-size 1");
        Assert.Equal(64, bad);
        Assert.Contains("period", badOutput);
        Assert.Contains("team size", badOutput);
    }
}
