using Dapper;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>
/// Importing 1,000,000 persons into a register that the statistics called empty ran for over ten minutes: the
/// planner joined the staged rows to the register by a sequential scan per staged row, a scan the INSERT itself
/// kept lengthening. Under <see cref="UpsertSql.NoNestedLoops"/> (which the importer sets around its upsert) no
/// statement of the upsert may join by a nested loop, whatever the statistics say.
/// </summary>
public sealed class ImportPlanFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task No_upsert_statement_joins_by_nested_loop_even_when_statistics_call_the_register_empty(bool setting)
    {
        var kind = db.Services.GetRequiredService<ImportKinds>().Find("persons")!;
        var sql = new UpsertSql(kind, kind.Columns);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        await conn.ExecuteAsync("TRUNCATE app.persons CASCADE; ANALYZE app.persons", transaction: tx); // analysed empty (rolled back below)
        await conn.ExecuteAsync(sql.CreateStage, transaction: tx);
        await conn.ExecuteAsync("""
            INSERT INTO import_stage (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
            SELECT '211382' || lpad(n::text, 12, '0'), '测试' || n, 'H' || n, '城关街道', '南街社区', 'urban', true, true, 'unemployed'
            FROM generate_series(1, 20000) n;
            ANALYZE import_stage;
            """, transaction: tx);
        if (setting) await conn.ExecuteAsync(UpsertSql.NoNestedLoops, transaction: tx);

        var plans = new List<string>();
        foreach (var statement in new[] { sql.Insert, sql.Update!, sql.Audit!, sql.Preview })
            plans.Add(string.Join('\n', await conn.QueryAsync<string>("EXPLAIN " + statement, new { actor = "test", details = "plan" }, tx)));

        if (setting)
            Assert.All(plans, plan => Assert.DoesNotContain("Nested Loop", plan));
        else // the hazard is real: without the setting the INSERT rescans the register for every staged row
            Assert.Matches(@"Nested Loop Anti Join[\s\S]*Seq Scan on persons", plans[0]);
        await tx.RollbackAsync();
    }
}
