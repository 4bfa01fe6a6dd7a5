using System.Globalization;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Registers.Import;


namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>A register's size and its most recently changed rows, as the upload page shows them after an import.</summary>
public sealed record RegisterSample(long Count, IReadOnlyList<string> Headers, IReadOnlyList<string[]> Rows);

/// <summary>
/// Reads a register through its import declaration (table and column names come from code, never from a request):
/// ID numbers and bank accounts masked as on every page, money in yuan, yes/no as 是/否.
/// </summary>
public sealed class RegisterView(Work work)
{
    public Task<RegisterSample> SampleAsync(ImportKind kind, int limit, CancellationToken ct) =>
        work.RunAsync("register.view", async uow =>
        {
            var columns = kind.Columns;
            var count = await uow.ScalarAsync<long>($"SELECT count(*) FROM {kind.Table}");
            var select = string.Join(", ", columns.Select(c => $"{c.DbColumn}::text"));
            var rows = new List<string[]>();
            await using (var cmd = new Npgsql.NpgsqlCommand($"SELECT {select} FROM {kind.Table} ORDER BY updated_at DESC LIMIT {limit}", uow.Connection, uow.Transaction))
            await using (var reader = await cmd.ExecuteReaderAsync(ct))
                while (await reader.ReadAsync(ct))
                    rows.Add(columns.Select((c, i) => reader.IsDBNull(i) ? "" : Shown(c, reader.GetString(i))).ToArray());
            return new RegisterSample(count, columns.Select(RegisterForms.Header).ToList(), rows);
        }, ct);

    private static string Shown(ImportColumn c, string value) =>
        c.Parse == Fields.ResidentId ? IdNumber.Mask(value)
        : c.Parse == Fields.CardAccount ? BankAccount.Mask(value)
        : c.DbColumn.EndsWith("_fen", StringComparison.Ordinal) && long.TryParse(value, CultureInfo.InvariantCulture, out var fen) ? Money.Yuan(fen)
        : c.DbType == NpgsqlTypes.NpgsqlDbType.Boolean ? (value == "true" ? "是" : "否")
        : c.DbType == NpgsqlTypes.NpgsqlDbType.Date && c.Name.EndsWith("_period", StringComparison.Ordinal) && value.Length >= 7 ? value[..7]
        : value;
}
