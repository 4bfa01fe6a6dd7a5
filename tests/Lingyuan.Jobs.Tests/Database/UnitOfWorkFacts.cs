using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace Lingyuan.Jobs.Tests.Database;

public sealed class UnitOfWorkFacts(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    private Work Work => fx.Services.GetRequiredService<Work>();

    [Fact]
    public async Task Work_Should_commit_the_change_and_audit_it_as_the_acting_person()
    {
        using (Acting.Begin(new Acting("zhang.san", Acting.Web)))
        {
            await Work.RunAsync("test.commit", async uow =>
            {
                await uow.ExecuteAsync("CREATE TABLE IF NOT EXISTS app.uow_probe (id int PRIMARY KEY)");
                await uow.ExecuteAsync("INSERT INTO app.uow_probe VALUES (1) ON CONFLICT DO NOTHING");
                await uow.AuditAsync("test.commit", "probe", "1");
            }, CancellationToken.None);
        }
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.uow_probe WHERE id = 1"));
        Assert.Equal("zhang.san", await conn.ExecuteScalarAsync<string>(
            "SELECT actor FROM app.audit_log WHERE action = 'test.commit' ORDER BY id DESC LIMIT 1"));
    }

    [Fact]
    public async Task Work_Should_roll_back_everything_When_the_body_throws()
    {
        var key = $"uow-rollback-{Guid.NewGuid():N}";
        await Assert.ThrowsAsync<InvalidOperationException>(() => Work.RunAsync("test.rollback", async uow =>
        {
            await uow.EnqueueAsync(new OutboxMessage(key, ["a@example.org"], "s", "t", null, "probe", "1"));
            throw new InvalidOperationException("boom");
        }, CancellationToken.None));
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE dedupe_key = @key", new { key }));
    }

    [Fact]
    public async Task Work_Should_apply_its_settings_and_hold_its_lock_for_the_transaction_only()
    {
        var (jit, locks) = await Work.RunAsync("test.settings", async uow =>
            (await uow.ScalarAsync<string>("SHOW jit"),
             await uow.ScalarAsync<long>("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()")),
            CancellationToken.None, new WorkOptions { Settings = ["jit = off"], Lock = "uow-test" });
        Assert.Equal("off", jit);
        Assert.Equal(1, locks);
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        // pg_locks is the whole cluster's: tests of other classes run beside this one on their own databases.
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
    }

    [Fact]
    public async Task Work_Should_signal_the_outbox_only_after_a_commit_that_queued_mail()
    {
        var signal = new CountingSignal();
        await using var app = fx.BuildApp(testServices: s => s.AddSingleton<IOutboxSignal>(signal));
        var work = app.Services.GetRequiredService<Work>();
        await work.RunAsync("test.nomail", _ => Task.CompletedTask, CancellationToken.None);
        Assert.Equal(0, signal.Count);
        await work.RunAsync("test.mail", uow =>
            uow.EnqueueAsync(new OutboxMessage($"uow-{Guid.NewGuid():N}", ["a@example.org"], "s", "t", null, "probe", "1")),
            CancellationToken.None);
        Assert.Equal(1, signal.Count);
    }

    [Fact]
    public async Task A_session_lock_Should_make_a_repeatable_read_work_that_waited_see_what_the_holder_committed()
    {
        // A transaction-scoped lock would be taken after the snapshot; the session lock is taken before it.
        var key = $"uow-session-{Guid.NewGuid():N}";
        await using (var setup = await fx.DataSource.OpenConnectionAsync())
            await setup.ExecuteAsync("CREATE TABLE IF NOT EXISTS app.uow_session_probe (k text PRIMARY KEY)");
        var options = new WorkOptions { SessionLock = key, Isolation = System.Data.IsolationLevel.RepeatableRead };
        var entered = new TaskCompletionSource();
        var release = new TaskCompletionSource();
        var holder = Work.RunAsync("test.holder", async uow =>
        {
            entered.SetResult();
            await release.Task;
            await uow.ExecuteAsync("INSERT INTO app.uow_session_probe VALUES (@key)", new { key });
        }, CancellationToken.None, options);
        await entered.Task;
        var waiter = Work.RunAsync("test.waiter", uow => uow.ScalarAsync<long>("SELECT count(*) FROM app.uow_session_probe WHERE k = @key", new { key }),
            CancellationToken.None, options);
        await Task.Delay(300);
        Assert.False(waiter.IsCompleted);
        release.SetResult();
        await holder;
        Assert.Equal(1, await waiter);
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<long>(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"));
    }

    [Fact]
    public async Task Work_Should_roll_back_a_dry_run_and_signal_nothing_When_RollBack_is_set()
    {
        var signal = new CountingSignal();
        await using var app = fx.BuildApp(testServices: s => s.AddSingleton<IOutboxSignal>(signal));
        var work = app.Services.GetRequiredService<Work>();
        var key = $"uow-dry-{Guid.NewGuid():N}";
        var seen = await work.RunAsync("test.dry", async uow =>
        {
            await uow.EnqueueAsync(new OutboxMessage(key, ["a@example.org"], "s", "t", null, "probe", "1"));
            return await uow.ScalarAsync<long>("SELECT count(*) FROM app.outbox WHERE dedupe_key = @key", new { key });
        }, CancellationToken.None, new WorkOptions { RollBack = true });
        Assert.Equal(1, seen); // the body saw its own work
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.outbox WHERE dedupe_key = @key", new { key }));
        Assert.Equal(0, signal.Count);
    }

    [Fact]
    public void BureauClock_Should_give_the_bureau_date_When_UTC_is_still_the_previous_day()
    {
        // 2026-12-31 17:30 UTC is 2027-01-01 01:30 in Beijing: a new day, a new month, a new year.
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 31, 17, 30, 0, TimeSpan.Zero));
        using var app = fx.BuildApp(testServices: s => s.AddSingleton<TimeProvider>(time));
        var clock = app.Services.GetRequiredService<BureauClock>();
        Assert.Equal(new DateOnly(2027, 1, 1), clock.Today);
        Assert.Equal("2027-01", clock.CurrentPeriod.ToString());
        Assert.Equal("2027-01-01 01:30 (北京时间)", clock.Format(time.GetUtcNow()));
    }

    private sealed class CountingSignal : IOutboxSignal
    {
        public int Count;
        public void MailQueued() => Interlocked.Increment(ref Count);
    }
}
