using Dapper;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using System.Runtime.CompilerServices;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>Register rows for inspection tests, written with plain SQL; each test scopes its plan to a street of its own.</summary>
public static class InspectionTestData
{
    private static int _sequence;

    /// <summary>A valid USCC (GB 32100-2015 check character) unique within the test run.</summary>
    public static string NewUscc()
    {
        var n = Interlocked.Increment(ref _sequence) + Random.Shared.Next(0, 1_000_000) * 1000;
        var first17 = $"91211382{n:000000000}";
        return first17 + Uscc.CheckCharacter(first17);
    }

    public static async Task<List<string>> AddEmployersAsync(DatabaseFixture db, string street, params (string Name, char Class, bool Abnormal)[] employers)
    {
        var usccs = new List<string>();
        await using var conn = await db.DataSource.OpenConnectionAsync();
        foreach (var (name, cls, abnormal) in employers)
        {
            var uscc = NewUscc();
            usccs.Add(uscc);
            await conn.ExecuteAsync(
                """
                INSERT INTO app.employers (uscc, name, street, community, industry, risk_class, migrant_workers, email, legal_rep_name, legal_rep_id_number, abnormal)
                VALUES (@uscc, @name, @street, '河坎子社区', '建筑业', @cls, 12, 'hr@example.test', '张三', '11010519491231002X', @abnormal)
                """, new { uscc, name, street, cls = cls.ToString(), abnormal });
        }
        return usccs;
    }

    public static async Task AddInspectorsAsync(DatabaseFixture db, string mailDomain, params (string Badge, string Name, bool Active)[] inspectors)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        foreach (var (badge, name, active) in inspectors)
            await conn.ExecuteAsync(
                """
                INSERT INTO app.inspectors (badge_no, name, email, unit, street, active)
                VALUES (@badge, @name, @email, '凌源市劳动保障监察大队', '城关街道', @active)
                """, new { badge, name, email = $"{badge.ToLowerInvariant()}@{mailDomain}", active });
    }

    public static async Task AddConflictAsync(DatabaseFixture db, string badge, string uscc)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync("INSERT INTO app.conflicts (badge_no, uscc, reason) VALUES (@badge, @uscc, '近亲属任职')", new { badge, uscc });
    }

    /// <summary>A public value in canonical form (an example of 快乐8's 20 numbers), with the default source.</summary>
    public const string TestPublicValue = "03 07 11 15 19 22 28 31 36 40 44 47 52 55 61 64 68 72 75 80";

    public static PublicValue Value { get; } = new(TestPublicValue, InspectionOptions.DefaultPublicValueSource);

    private static readonly ConditionalWeakTable<DatabaseFixture, WebApplication> PastApps = new();

    /// <summary>
    /// The application with its clock three days back (10:00 Beijing time): plans scheduled there had their
    /// commitment published three days ago, and snapshots frozen there wait for the public value of that day.
    /// Drawing needs both in the past (commitment lead time, public value drawn after the freeze), so tests
    /// that draw at once schedule and freeze here; the TimeProvider is the only thing faked.
    /// </summary>
    public static WebApplication PastApp(DatabaseFixture db, Dictionary<string, string?>? settings = null) =>
        settings is null ? PastApps.GetValue(db, d => Build(d, null)) : Build(db, settings);

    private static WebApplication Build(DatabaseFixture db, Dictionary<string, string?>? settings)
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(DateTime.UtcNow.Date.AddDays(-3).AddHours(2), TimeSpan.Zero));
        return db.BuildApp(AppRole.Cli, settings, s => s.AddSingleton<TimeProvider>(clock));
    }

    /// <summary>A plan whose commitment was published three days ago, dated two days ago (not frozen).</summary>
    public static Task<Plan> AddPlanAsync(DatabaseFixture db, string street, int[]? ratios = null, int teamSize = 2, int cap = 20, string? name = null)
    {
        var plans = PastApp(db).Services.GetRequiredService<InspectionPlans>();
        return plans.CreateAsync(new PlanInput(name ?? $"测试计划 {Guid.NewGuid():N}"[..16], "2026-Q2", plans.Today.AddDays(1), ratios ?? [100, 100, 100, 100], teamSize, cap, 24, [street]), CancellationToken.None);
    }

    /// <summary>Freezes the plan's snapshot three days ago (on today's registers), unless one is waiting already.</summary>
    public static async Task FreezeAsync(DatabaseFixture db, long planId)
    {
        var freeze = PastApp(db).Services.GetRequiredService<SnapshotFreeze>();
        var work = db.Services.GetRequiredService<Lingyuan.Jobs.Database.Work>();
        if (await work.RunAsync("test", uow => SnapshotFreeze.OpenAsync(uow, planId), CancellationToken.None) is null)
            await freeze.FreezeAsync(planId, CancellationToken.None);
    }

    /// <summary>Freezes (in the past) and draws now with <see cref="Value"/>.</summary>
    public static async Task<DrawRun> DrawAsync(DatabaseFixture db, long planId, IServiceProvider? services = null)
    {
        await FreezeAsync(db, planId);
        return await (services ?? db.Services).GetRequiredService<DrawService>().RunAsync(planId, Value, CancellationToken.None);
    }
}
