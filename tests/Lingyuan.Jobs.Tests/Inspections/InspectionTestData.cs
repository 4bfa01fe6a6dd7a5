using Dapper;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Inspections;

/// <summary>Register rows for inspection tests, written with plain SQL; each test scopes its plan to a street of its own.</summary>
internal static class InspectionTestData
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

    public static Task<Plan> AddPlanAsync(DatabaseFixture db, string street, int[]? ratios = null, int teamSize = 2, int cap = 20, string? name = null)
    {
        var plans = db.Services.GetRequiredService<InspectionPlans>();
        return plans.CreateAsync(new PlanInput(name ?? $"测试计划 {Guid.NewGuid():N}"[..16], "2026-Q2", plans.Today, ratios ?? [100, 100, 100, 100], teamSize, cap, 24, [street]), CancellationToken.None);
    }
}
