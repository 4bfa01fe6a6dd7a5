using Dapper;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.WageArrears.ArrearsData;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>The <c>arrears-workers</c> register file (issue 16): amounts per worker, with the worker's ID masked.</summary>
public sealed class ArrearsWorkersImportFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IDisposable
{
    private readonly string _dir = Registers.RegisterFiles.TempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private Task<ImportResult> ImportAsync(string name, string content) =>
        db.Services.GetRequiredService<RegisterImporter>().ImportAsync(
            new ImportRequest("arrears-workers", Registers.RegisterFiles.Write(_dir, name, content), Actor: "test"), TextWriter.Null, CancellationToken.None);

    [Fact]
    public async Task Worker_rows_are_imported_in_fen_and_a_full_ID_number_is_refused()
    {
        var uscc = await EmployerAsync(db.DataSource, "凌源市明细导入测试有限公司", $"a@{Guid.NewGuid():N}.test");
        var caseNo = await CaseAsync(db.DataSource, uscc, 3, 45_000m, 4, Day("2026-06-01"));
        var result = await ImportAsync("workers.csv",
            $"case_no,worker_id,amount_owed,months_owed\n{caseNo},211382********0011,12000.00,4\n{caseNo},211382********003x,15000,2\n");
        Assert.Equal(2, result.Inserted);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal([("211382********0011", 1_200_000L, 4), ("211382********003X", 1_500_000L, 2)],
            (await conn.QueryAsync<(string, long, int)>("SELECT worker_id, amount_owed_fen, months_owed FROM app.arrears_workers WHERE case_no = @caseNo ORDER BY worker_id", new { caseNo })).ToList());

        var full = NewIdNumber();
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => ImportAsync("full.csv", $"case_no,worker_id,amount_owed,months_owed\n{caseNo},{full},100,1\n"));
        Assert.DoesNotContain(full, refused.Message); // a full ID number is never echoed
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.arrears_workers WHERE case_no = @caseNo", new { caseNo }));
    }
}
