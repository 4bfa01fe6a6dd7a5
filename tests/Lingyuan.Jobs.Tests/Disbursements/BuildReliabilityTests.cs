using Dapper;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>
/// "No double payment, proven" (QUALITY.md, Reliability): the build killed with SIGKILL at random points,
/// two workers at once, the job run twice, a missed month — each ends with exactly the lines of one clean run.
/// </summary>
public sealed class BuildReliabilityTests(DatabaseFixture fixture, ITestOutputHelper output) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private const int People = 400;
    private readonly RegisterRows _r = new(fixture.DataSource);

    // Three periods ending with the current one (BuildDay 1 at 00:00: the current month is always due).
    private static readonly Period Current = Period.Of(DateOnly.FromDateTime(
        TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById("Asia/Shanghai")).DateTime));
    private static readonly Period First = Period.Of(Current.FirstDay.AddMonths(-2));

    private static Dictionary<string, string?> JobSettings() => new()
    {
        ["Disbursements:BuildDay"] = "1",
        ["Disbursements:BuildTime"] = "00:00",
        ["Disbursements:FirstPeriod"] = First.ToString(),
    };

    public async Task InitializeAsync()
    {
        await _r.ResetAsync();
        // Deterministic registers with every kind of line: payable, held (card, death, suspension) and back-pay
        // (suspended in the first month, resumed in the second).
        await _r.ExecAsync("""
            INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
            SELECT '211382' || lpad(n::text, 12, '0'), '测试' || n, 'H' || n, '城关街道', '南街社区', 'urban', false, false, 'retired'
            FROM generate_series(1, @People) n;
            INSERT INTO app.cards (id_number, card_no, bank_code, bank_account, financial_status)
            SELECT '211382' || lpad(n::text, 12, '0'), 'C' || n, '102', '6217' || lpad(n::text, 12, '0'), CASE WHEN n % 10 = 0 THEN 'inactive' ELSE 'active' END
            FROM generate_series(1, @People) n;
            INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period)
            SELECT '211382' || lpad(n::text, 12, '0'), CASE WHEN n % 3 = 0 THEN 'resident_pension' ELSE 'enterprise_pension' END, 10000 + n * 137, @first
            FROM generate_series(1, @People) n;
            INSERT INTO app.life_events (id_number, event, date)
            SELECT '211382' || lpad(n::text, 12, '0'), 'eligibility_verified', @first - 20 FROM generate_series(1, @People) n;
            INSERT INTO app.life_events (id_number, event, date)
            SELECT '211382' || lpad(n::text, 12, '0'), 'death', (@first + interval '1 month')::date + 9 FROM generate_series(25, @People, 25) n;
            INSERT INTO app.life_events (id_number, event, date)
            SELECT '211382' || lpad(n::text, 12, '0'), 'suspended', @first FROM generate_series(7, @People, 7) n;
            INSERT INTO app.life_events (id_number, event, date)
            SELECT '211382' || lpad(n::text, 12, '0'), 'resumed', @first + interval '1 month' FROM generate_series(7, @People, 7) n;
            """, new { People, first = First.FirstDay });
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private Task ResetBatchesAsync() => _r.ExecAsync(
        "TRUNCATE app.disbursement_hold_releases, app.disbursement_recoveries, app.disbursement_outcomes, app.disbursement_lines, app.disbursement_batch_benefits, app.disbursement_batches, app.outbox_attachments, app.outbox");

    private async Task<List<string>> CleanRunAsync()
    {
        await ResetBatchesAsync();
        var (code, text) = await ServiceProcess.RunAsync(fixture, "jobs run disbursement-build", JobSettings());
        Assert.True(code == 0, text);
        var snapshot = await _r.SnapshotAsync();
        Assert.Equal(3, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_batches"));
        Assert.Contains(snapshot, l => l.Contains("|back_pay|", StringComparison.Ordinal));
        Assert.Contains(snapshot, l => l.Contains("|held|dead|", StringComparison.Ordinal));
        return snapshot;
    }

    private async Task AssertOneBatchPerPeriodAsync(List<string> reference)
    {
        Assert.Equal(reference, await _r.SnapshotAsync());
        Assert.Equal(0, await _r.ScalarAsync<long>("""
            SELECT count(*) FROM (SELECT period FROM app.disbursement_batches GROUP BY period HAVING count(*) > 1) x
            """));
        Assert.Equal(0, await _r.ScalarAsync<long>("""
            SELECT count(*) FROM (SELECT 1 FROM app.disbursement_lines WHERE status = 'payable' AND NOT released
                                  GROUP BY id_number, benefit, period HAVING count(*) > 1) x
            """));
    }

    [Fact]
    public async Task A_build_killed_at_ten_random_points_ends_with_the_lines_of_one_clean_run()
    {
        var reference = await CleanRunAsync();
        string[] points = [.. Enumerable.Range(1, 9).Select(n => $"disbursement.build-step:{n}"), .. Enumerable.Range(1, 3).Select(n => $"disbursement.build-period:{n}")];
        var seed = Environment.TickCount;
        var random = new Random(seed);
        var killed = 0;
        for (var trial = 0; trial < 10; trial++)
        {
            await ResetBatchesAsync();
            var point = points[random.Next(points.Length)];
            await using (var p = ServiceProcess.Start(fixture, "jobs run disbursement-build", JobSettings(), killAt: point))
            {
                await p.WaitForExitAsync(TimeSpan.FromMinutes(2));
                Assert.True(p.WasKilled, $"{point}: expected the process to kill itself, exit {p.ExitCode}: {p.Output}");
                killed++;
            }
            var (code, text) = await ServiceProcess.RunAsync(fixture, "jobs run disbursement-build", JobSettings());
            Assert.True(code == 0, text);
            await AssertOneBatchPerPeriodAsync(reference);
        }
        output.WriteLine($"seed {seed}: {killed}/10 builds killed by SIGKILL, each rerun identical to the clean run ({reference.Count} lines)");
    }

    [Fact]
    public async Task Two_workers_building_at_once_and_a_second_run_leave_one_batch_per_period()
    {
        var reference = await CleanRunAsync();
        await ResetBatchesAsync();
        await using var a = ServiceProcess.Start(fixture, "jobs run disbursement-build", JobSettings());
        await using var b = ServiceProcess.Start(fixture, "jobs run disbursement-build", JobSettings());
        Assert.Equal(0, await a.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        Assert.Equal(0, await b.WaitForExitAsync(TimeSpan.FromMinutes(2)));
        await AssertOneBatchPerPeriodAsync(reference);

        var (code, text) = await ServiceProcess.RunAsync(fixture, "jobs run disbursement-build", JobSettings());
        Assert.True(code == 0, text);
        var (code2, text2) = await ServiceProcess.RunAsync(fixture, $"batch build {Current}", JobSettings());
        Assert.True(code2 == 0, text2);
        await AssertOneBatchPerPeriodAsync(reference);
    }

    [Fact]
    public async Task A_missed_build_day_is_caught_up_on_the_next_run()
    {
        await ResetBatchesAsync();
        var zone = TimeSpan.FromHours(8);
        var month1 = First.FirstDay;
        var fake = new FakeTimeProvider(new DateTimeOffset(month1.Year, month1.Month, 5, 2, 30, 0, zone));
        await using var app = fixture.BuildApp(testServices: s => s.AddSingleton<TimeProvider>(fake));
        var job = app.Services.GetRequiredService<DisbursementBuildJob>();

        await job.RunAsync(default);
        Assert.Equal([First.ToString()], await PeriodsAsync());

        // The worker was down over two build days: the next run builds both months, oldest first.
        var month3 = First.FirstDay.AddMonths(2);
        fake.SetUtcNow(new DateTimeOffset(month3.Year, month3.Month, 5, 3, 0, 0, zone));
        await job.RunAsync(default);
        Assert.Equal([First.ToString(), First.Next().ToString(), First.Next().Next().ToString()], await PeriodsAsync());

        // Before the next build day nothing more is due; running again changes nothing.
        fake.SetUtcNow(new DateTimeOffset(month3.Year, month3.Month, 28, 23, 0, 0, zone));
        await job.RunAsync(default);
        Assert.Equal(3, (await PeriodsAsync()).Count);
    }

    private async Task<List<string>> PeriodsAsync()
    {
        await using var conn = await fixture.DataSource.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("SELECT to_char(period, 'YYYY-MM') FROM app.disbursement_batches ORDER BY id")).ToList();
    }
}
