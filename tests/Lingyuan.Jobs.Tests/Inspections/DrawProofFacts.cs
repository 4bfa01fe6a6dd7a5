using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;
using static Lingyuan.Jobs.Tests.Inspections.InspectionTestData;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>
/// Issue 20: commitment first, the snapshot frozen before a public random value, the public proof an outsider
/// checks; issue 19: plans changed or withdrawn until their draw.
/// </summary>
public class DrawProofFacts : IClassFixture<DrawProofFacts.Fixture>
{
    public sealed class Fixture : DatabaseFixture
    {
        public string MailDomain { get; } = $"{Guid.NewGuid():N}.test";

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            await AddInspectorsAsync(this, MailDomain,
                ("PF-001", "王一", true), ("PF-002", "李二", true), ("PF-003", "赵三", true),
                ("PF-004", "钱四", true), ("PF-005", "孙五", true), ("PF-006", "周六", false));
        }
    }

    private readonly Fixture _db;
    private readonly ITestOutputHelper _output;

    public DrawProofFacts(Fixture db, ITestOutputHelper output) { _db = db; _output = output; }

    private static string Street() => $"街道{Guid.NewGuid():N}"[..12];
    private static string CliValue => TestPublicValue.Replace(' ', ',');

    [Fact]
    public async Task A_plan_drawn_before_its_commitments_lead_time_is_refused_with_exit_65_and_a_snapshot_waits_for_a_public_value_drawn_after_it()
    {
        var street = Street();
        await AddEmployersAsync(_db, street, ("先承诺公司", 'D', false));
        var today = _db.Services.GetRequiredService<InspectionPlans>().Today;
        var (added, addOutput) = await ServiceProcess.RunAsync(_db, $"plan add --name 当日计划{Guid.NewGuid():N} --period 2026-Q4 --draw-date {today:yyyy-MM-dd} --streets {street}");
        Assert.True(added == 0, addOutput);
        var planId = long.Parse(addOutput.Split('\n').Single(l => l.StartsWith("plan ")).Split(' ')[1]);
        var (frozen, freezeOutput) = await ServiceProcess.RunAsync(_db, $"draw freeze {planId}");
        Assert.True(frozen == 0, freezeOutput);
        Assert.Contains("snapshot_sha256 ", freezeOutput);

        // Published today, lead 1 working day (the default): refused, both times named.
        var (code, output) = await ServiceProcess.RunAsync(_db, $"draw run {planId} --public-value {CliValue}");
        _output.WriteLine(output);
        Assert.Equal(65, code);
        Assert.Contains("须满 1 个工作日方可摇号", output);
        Assert.Contains("公开", output);

        // Without the lead the next rule stops it: the snapshot frozen today waits for a value not drawn yet.
        var (code0, output0) = await ServiceProcess.RunAsync(_db, $"draw run {planId} --public-value {CliValue}", new() { ["Inspections:CommitmentLeadWorkingDays"] = "0" });
        _output.WriteLine(output0);
        Assert.Equal(65, code0);
        Assert.Contains("尚未产生", output0);

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.draws WHERE plan_id = @planId", new { planId }));
    }

    [Fact]
    public async Task Knowing_the_secret_and_editing_the_registers_after_the_freeze_changes_nothing_and_without_the_public_value_there_is_no_seed()
    {
        var street = Street();
        await AddEmployersAsync(_db, street, ("甲建筑公司", 'A', false), ("乙餐饮公司", 'C', false), ("丙制造公司", 'D', false));
        var plan = await AddPlanAsync(_db, street);
        await FreezeAsync(_db, plan.Id);
        var work = _db.Services.GetRequiredService<Work>();
        var frozen = (await work.RunAsync("test", uow => SnapshotFreeze.OpenAsync(uow, plan.Id), CancellationToken.None))!;

        // An insider who can unseal the secret computes what the draw will give with a public value...
        var secret = await work.RunAsync("test", uow => _db.Services.GetRequiredService<PlanSecrets>().RevealAsync(uow, plan.Id), CancellationToken.None);
        var foreseen = DrawAlgorithm.Run(DrawSnapshot.Decode(frozen.Snapshot), secret, plan.Id, plan.DrawDate, TestPublicValue);
        // ...but without the value there is no seed, and each possible value gives its own result.
        Assert.Throws<ArgumentException>(() => DrawAlgorithm.SeedFor(DrawAlgorithm.Version, secret, plan.Id, plan.DrawDate, frozen.SnapshotHash, null));
        var outcomes = Enumerable.Range(0, 20)
            .Select(n => string.Join('\n', DrawAlgorithm.Run(DrawSnapshot.Decode(frozen.Snapshot), secret, plan.Id, plan.DrawDate, $"{n:00} 07 11").Drawn.Select(d => d.Line)))
            .Distinct().Count();
        Assert.True(outcomes > 1, "every public value gave the same result");

        // He edits the registers after the freeze to steer it: the drawn team made inactive, a conflict, a new employer.
        var team = foreseen.Drawn[0].Team;
        await using (var conn = await _db.DataSource.OpenConnectionAsync())
        {
            await conn.ExecuteAsync("UPDATE app.inspectors SET active = false WHERE badge_no = ANY(@team)", new { team });
            await conn.ExecuteAsync("INSERT INTO app.conflicts (badge_no, uscc, reason) SELECT badge_no, @uscc, '事后添加' FROM app.inspectors WHERE NOT badge_no = ANY(@team)",
                new { uscc = foreseen.Drawn[1].Uscc, team });
        }
        await AddEmployersAsync(_db, street, ("丁新增公司", 'D', false));
        try
        {
            var run = await DrawAsync(_db, plan.Id);
            Assert.True(run.Succeeded);
            await using var conn = await _db.DataSource.OpenConnectionAsync();
            var stored = await conn.QuerySingleAsync<(byte[] Snapshot, byte[] Seed)>("SELECT snapshot, seed FROM app.draws WHERE id = @id", new { id = run.DrawId });
            Assert.Equal(frozen.Snapshot, stored.Snapshot);
            Assert.Equal(foreseen.Seed, stored.Seed);
            var rows = (await conn.QueryAsync<(string RiskClass, string Uscc, string[] Team)>(
                "SELECT risk_class, uscc, team FROM app.draw_results WHERE draw_id = @id ORDER BY position", new { id = run.DrawId })).ToList();
            Assert.Equal(foreseen.Drawn.Select(d => d.Line), rows.Select(r => new DrawnEmployer(r.RiskClass[0], r.Uscc, r.Team).Line));
        }
        finally
        {
            await using var conn = await _db.DataSource.OpenConnectionAsync();
            await conn.ExecuteAsync("UPDATE app.inspectors SET active = true WHERE badge_no = ANY(@team)", new { team });
            await conn.ExecuteAsync("DELETE FROM app.conflicts WHERE reason = '事后添加'");
        }
    }

    [Fact]
    public async Task Signed_out_the_public_pages_show_the_commitment_before_the_draw_and_after_it_a_proof_the_outsiders_checker_accepts_and_rejects_with_one_inspector_swapped()
    {
        await using var server = await TestServer.StartAsync(_db, AppRole.Dashboard);
        var anonymous = server.Client();
        var street = Street();
        await AddEmployersAsync(_db, street, ("公开甲公司", 'A', false), ("公开乙公司", 'B', false), ("公开丙公司", 'D', true));
        var plan = await AddPlanAsync(_db, street);

        var before = await anonymous.GetAsync("/public/draws");
        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        var beforeHtml = await before.Content.ReadAsStringAsync();
        Assert.Contains(plan.CommitmentHex, beforeHtml);
        Assert.Contains(_db.Services.GetRequiredService<InspectionsView>().Format(plan.CreatedAt), beforeHtml);
        Assert.Contains("未冻结", beforeHtml);

        await FreezeAsync(_db, plan.Id);
        var work = _db.Services.GetRequiredService<Work>();
        var frozen = (await work.RunAsync("test", uow => SnapshotFreeze.OpenAsync(uow, plan.Id), CancellationToken.None))!;
        var frozenHtml = await anonymous.GetStringAsync("/public/draws");
        Assert.Contains(Convert.ToHexStringLower(frozen.SnapshotHash), frozenHtml); // published while the public value is unknown

        var run = await DrawAsync(_db, plan.Id);
        Assert.True(run.Succeeded);
        var list = await anonymous.GetStringAsync("/public/draws");
        Assert.Contains($"/public/draws/{run.DrawId}", list);
        var page = await anonymous.GetStringAsync($"/public/draws/{run.DrawId}");
        Assert.Contains(TestPublicValue, page);
        Assert.Contains("公开甲公司", page);

        var zip = await anonymous.GetByteArrayAsync($"/public/draws/{run.DrawId}/proof.zip");
        var dir = Path.Combine(TestEnv.ArtifactsDir, "inspections", $"proof-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var good = Path.Combine(dir, $"draw-{run.DrawId}-proof.zip");
        await File.WriteAllBytesAsync(good, zip);
        var (ok, okOutput) = await ProofCheck.RunAsync(good);
        _output.WriteLine(okOutput);
        Assert.True(ok == 0, okOutput);

        var bad = Path.Combine(dir, $"draw-{run.DrawId}-proof-tampered.zip");
        await File.WriteAllBytesAsync(bad, ProofCheck.SwapOneInspector(zip));
        var (rejected, badOutput) = await ProofCheck.RunAsync(bad);
        _output.WriteLine(badOutput);
        Assert.Equal(1, rejected);
        Assert.Contains("result row 1", badOutput);

        // Each file byte for byte as hashed; no personal data beyond the public list (no ID numbers, no e-mail).
        var files = ProofCheck.Read(zip);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var stored = await conn.QuerySingleAsync<(byte[] Snapshot, byte[] SnapshotHash, byte[] ResultHash)>(
            "SELECT snapshot, snapshot_hash, result_hash FROM app.draws WHERE id = @id", new { id = run.DrawId });
        Assert.Equal(stored.Snapshot, await anonymous.GetByteArrayAsync($"/public/draws/{run.DrawId}/snapshot.txt"));
        Assert.Equal(stored.SnapshotHash, SHA256.HashData(files["snapshot.txt"]));
        Assert.Equal(stored.ResultHash, SHA256.HashData(await anonymous.GetByteArrayAsync($"/public/draws/{run.DrawId}/result.txt")));
        var everything = string.Join("\n", files.Values.Select(Encoding.UTF8.GetString));
        Assert.DoesNotContain("11010519491231002X", everything);
        Assert.DoesNotContain("@", everything);
        Assert.DoesNotContain("张三", everything);

        // Cached: the same ETag answers 304 without a body.
        var first = await anonymous.GetAsync($"/public/draws/{run.DrawId}/proof.zip");
        var again = new HttpRequestMessage(HttpMethod.Get, $"/public/draws/{run.DrawId}/proof.zip");
        again.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.NotModified, (await anonymous.SendAsync(again)).StatusCode);

        // draw export-proof writes the same files.
        var exportDir = Path.Combine(dir, "export");
        var (exported, exportOutput) = await ServiceProcess.RunAsync(_db, $"draw export-proof {run.DrawId} --out {exportDir}");
        Assert.True(exported == 0, exportOutput);
        foreach (var name in new[] { "proof.txt", "snapshot.txt", "result.txt" })
            Assert.Equal(files[name], await File.ReadAllBytesAsync(Path.Combine(exportDir, name)));
        Assert.Equal(0, (await ProofCheck.RunAsync(exportDir)).Code);

        // Everything else stays behind sign-in.
        var staff = await anonymous.GetAsync($"/hangfire/draws/{run.DrawId}");
        Assert.Equal(HttpStatusCode.Redirect, staff.StatusCode);
        Assert.Contains("/login", staff.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task On_the_dashboard_an_inspection_user_edits_and_withdraws_plans_before_their_draw()
    {
        await using var server = await TestServer.StartAsync(_db, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        var inspector = await server.SignedInClientAsync("pf-jc", Lingyuan.Jobs.Dashboard.Roles.Inspection);
        var street = Street();
        await AddEmployersAsync(_db, street, ("页面修改公司", 'D', false));
        var toEdit = await AddPlanAsync(_db, street);
        var toWithdraw = await AddPlanAsync(_db, street);
        var token = await TestServer.AntiforgeryTokenAsync(inspector, "/hangfire/draws");
        FormUrlEncodedContent Form(params (string Key, string Value)[] fields) =>
            new(fields.Select(f => KeyValuePair.Create(f.Key, f.Value)).Append(KeyValuePair.Create("__RequestVerificationToken", token)));

        var editPage = await inspector.GetStringAsync($"/hangfire/draws/plans/{toEdit.Id}/edit");
        Assert.Contains($"value=\"{toEdit.RatiosText}\"", editPage);
        var noReason = await inspector.PostAsync($"/hangfire/draws/plans/{toEdit.Id}/edit", Form(("ratios", "A=50,B=50,C=50,D=50")));
        Assert.Equal(HttpStatusCode.BadRequest, noReason.StatusCode);
        Assert.Contains("须说明理由", await noReason.Content.ReadAsStringAsync());
        // The plan was dated two days ago (made on the test clock): a change keeps no draw date in the past, so it gets a new one.
        var newDate = _db.Services.GetRequiredService<InspectionPlans>().Today.AddDays(7).ToString("yyyy-MM-dd");
        var edited = await inspector.PostAsync($"/hangfire/draws/plans/{toEdit.Id}/edit", Form(("ratios", "A=50,B=50,C=50,D=50"), ("drawDate", newDate), ("reason", "比例调整")));
        var editedHtml = await edited.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, edited.StatusCode);
        Assert.Contains($"计划 {toEdit.Id} 已撤回并由计划", editedHtml);
        var withdrawn = await inspector.PostAsync($"/hangfire/draws/plans/{toWithdraw.Id}/withdraw", Form(("reason", "重复计划")));
        Assert.Contains($"计划 {toWithdraw.Id} 已撤回", await withdrawn.Content.ReadAsStringAsync());

        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var replacement = await conn.QuerySingleAsync<(long Id, short RatioA)>("SELECT id, ratio_a FROM app.inspection_plans WHERE replaces_plan_id = @id", new { id = toEdit.Id });
        Assert.Equal(50, replacement.RatioA);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.plan_withdrawals WHERE plan_id = ANY(@ids) AND withdrawn_by = 'pf-jc'", new { ids = new[] { toEdit.Id, toWithdraw.Id } }));
        var publicList = await server.Client().GetStringAsync("/public/draws");
        Assert.Contains(toEdit.CommitmentHex, publicList);
        Assert.Contains("已撤回", publicList);
    }

    [Fact]
    public async Task The_public_pages_are_rate_limited_per_address_with_a_chinese_429()
    {
        await using var server = await TestServer.StartAsync(_db, AppRole.Dashboard, new() { ["Inspections:PublicRequestsPerMinute"] = "3" });
        var anonymous = server.Client();
        for (var n = 0; n < 3; n++) Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/public/draws")).StatusCode);
        var limited = await anonymous.GetAsync("/public/draws");
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Contains("访问过于频繁", await limited.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode); // other routes are not limited by it
    }

    [Fact]
    public async Task A_plan_edited_before_its_draw_is_withdrawn_and_replaced_with_a_fresh_commitment_both_on_record_and_neither_edit_nor_withdrawal_after_the_draw()
    {
        var street = Street();
        await AddEmployersAsync(_db, street, ("修改甲公司", 'C', false), ("修改乙公司", 'D', false));
        var plan = await AddPlanAsync(_db, street, [10, 10, 10, 10]);
        var plans = PastApp(_db).Services.GetRequiredService<InspectionPlans>();

        Plan edited;
        using (Acting.Begin(new Acting("zhang.jc", Acting.Web)))
            edited = await plans.EditAsync(plan.Id, new PlanChange(Ratios: [100, 100, 100, 100]), "抽查比例填错", CancellationToken.None);

        Assert.NotEqual(plan.Id, edited.Id);
        Assert.NotEqual(plan.CommitmentHex, edited.CommitmentHex);
        Assert.Equal(plan.Id, edited.ReplacesPlanId);
        Assert.Equal(plan.Name, edited.Name);
        Assert.Equal("A=100,B=100,C=100,D=100", edited.RatiosText);
        Assert.Equal(plan.DrawDate, edited.DrawDate);
        await using var conn = await _db.DataSource.OpenConnectionAsync();
        var withdrawal = await conn.QuerySingleAsync<(string Reason, long ReplacedBy, string WithdrawnBy)>(
            "SELECT reason, replaced_by, withdrawn_by FROM app.plan_withdrawals WHERE plan_id = @id", new { id = plan.Id });
        Assert.Equal(("抽查比例填错", edited.Id, "zhang.jc"), withdrawal);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.audit_log WHERE action = 'inspection-plan.edit' AND subject_id = @id", new { id = plan.Id.ToString() }));
        var (publicPlans, _) = await _db.Services.GetRequiredService<DrawProofs>().ListAsync(CancellationToken.None);
        Assert.Equal(PlanState.Withdrawn, PlanLifecycle.Table.Parse(publicPlans.Single(p => p.Id == plan.Id).StateDb));
        Assert.Equal(edited.Id, publicPlans.Single(p => p.Id == plan.Id).ReplacedBy);
        Assert.Equal(plan.Commitment, publicPlans.Single(p => p.Id == plan.Id).Commitment); // the old commitment stays public
        Assert.Contains(publicPlans, p => p.Id == edited.Id && p.ReplacesPlanId == plan.Id);

        // The withdrawn plan is neither changed again nor drawn; its name is free for its replacement only.
        await Assert.ThrowsAsync<DomainRuleException>(() => plans.EditAsync(plan.Id, new PlanChange(TeamSize: 3), "再改", CancellationToken.None));
        await Assert.ThrowsAsync<DomainRuleException>(() => DrawAsync(_db, plan.Id));
        await Assert.ThrowsAsync<DomainRuleException>(() => plans.CreateAsync(new PlanInput(plan.Name, plan.Period, plans.Today.AddDays(1)), CancellationToken.None));

        // The replacement is drawn; the revealed secret matches the new commitment.
        var run = await DrawAsync(_db, edited.Id);
        Assert.True(run.Succeeded);
        Assert.Equal(edited.Commitment, SHA256.HashData(await conn.ExecuteScalarAsync<byte[]>("SELECT secret FROM app.draws WHERE id = @id", new { id = run.DrawId }) ?? []));

        // After the draw: no edit, no withdrawal (command line: refused, exit 1).
        await Assert.ThrowsAsync<DomainRuleException>(() => plans.EditAsync(edited.Id, new PlanChange(TeamSize: 3), "摇号后修改", CancellationToken.None));
        var (editCode, editOutput) = await ServiceProcess.RunAsync(_db, $"plan edit {edited.Id} --team-size 3 --reason 摇号后修改");
        Assert.Equal(1, editCode);
        Assert.Contains("可以修改", editOutput);
        var (withdrawCode, withdrawOutput) = await ServiceProcess.RunAsync(_db, $"plan withdraw {edited.Id} --reason 摇号后撤回");
        Assert.Equal(1, withdrawCode);
        Assert.Contains("可以撤回", withdrawOutput);

        // A plan withdrawn on the command line stays on record; it cannot be frozen or withdrawn twice.
        var other = await AddPlanAsync(_db, street);
        var (withdrawn, withdrawnOutput) = await ServiceProcess.RunAsync(_db, $"plan withdraw {other.Id} --reason 不再需要 --user li.jc");
        Assert.True(withdrawn == 0, withdrawnOutput);
        Assert.Equal("li.jc", await conn.ExecuteScalarAsync<string>("SELECT withdrawn_by FROM app.plan_withdrawals WHERE plan_id = @id", new { id = other.Id }));
        await Assert.ThrowsAsync<DomainRuleException>(() => _db.Services.GetRequiredService<SnapshotFreeze>().FreezeAsync(other.Id, CancellationToken.None));
        Assert.Equal(1, (await ServiceProcess.RunAsync(_db, $"plan withdraw {other.Id} --reason 再次")).ExitCode);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.inspection_plans WHERE id = @id", new { id = other.Id }));
    }
}
