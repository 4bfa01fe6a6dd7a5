using System.Globalization;
using System.Text;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Exports;
using Lingyuan.Jobs.Hosting;
using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// The bank file (INTERFACES.md, docs/bank-file.md): <c>H,BATCH_ID,PERIOD,LINE_COUNT,TOTAL_FEN,SHA256</c>, then
/// one <c>D,LINE_REF,BANK_CODE,BANK_ACCOUNT,ACCOUNT_NAME,AMOUNT_YUAN,BENEFIT</c> per payable line. The lines are
/// read as binary COPY rows and written with PostgreSQL's own CSV rules (<see cref="BankLines"/>), streamed
/// through an incremental SHA-256, so memory stays flat whatever the batch size; approval hashes the output
/// of the same code, and export refuses any difference.
/// </summary>
public sealed class BankFile(NpgsqlDataSource db)
{
    // One query makes the bytes for approval and for export: the hash cannot drift from the file.
    private static string LinesSelect(long batchId) => string.Create(CultureInfo.InvariantCulture, $"""
        SELECT id, bank_code, bank_account, account_name, amount_fen, benefit
        FROM app.disbursement_lines
        WHERE batch_id = {batchId} AND status = 'payable'
        ORDER BY id
        """);

    /// <summary>Streams the D lines to <paramref name="output"/> and returns their SHA-256 (lower-case hex).</summary>
    internal static Task<string> HashLinesAsync(NpgsqlConnection conn, long batchId, Stream output, CancellationToken ct) =>
        BankLines.WriteAsync(conn, LinesSelect(batchId), output, ct);

    /// <summary>
    /// Writes the bank file of an approved batch. The header comes from the approval record; the hash is
    /// re-computed while writing: a mismatch throws (the caller discards what was written) and the batch
    /// is not marked exported.
    /// </summary>
    public async Task<BatchHeader> ExportAsync(long batchId, Stream output, string actor, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var b = await conn.QuerySingleOrDefaultAsync<BatchHeader>(new CommandDefinition(
            $"SELECT {BatchReview.HeaderColumns} FROM app.disbursement_batches WHERE id = @batchId", new { batchId }, cancellationToken: ct))
            ?? throw new DomainRuleException($"batch {batchId} does not exist / 批次 {batchId} 不存在");
        if (b.State is not ("approved" or "exported" or "reconciled"))
            throw new DomainRuleException($"batch {batchId} is {b.State}; only an approved batch is exported / 批次状态为{Zh.State(b.State)},审批通过后才能生成银行文件");
        // The SHA-256 over every written line is the check: equal hashes mean the very lines that were approved,
        // so also their count and total, which the header takes from the approval record.
        var header = string.Create(CultureInfo.InvariantCulture,
            $"H,{b.Id},{b.P},{b.ApprovedLineCount},{b.ApprovedTotalFen},{b.ApprovedSha256}\n");
        await output.WriteAsync(Encoding.UTF8.GetBytes(header), ct);

        var sha = await HashLinesAsync(conn, batchId, output, ct);
        if (sha != b.ApprovedSha256)
            throw new DomainRuleException(
                $"batch {batchId}: the lines hash to {sha}, approval recorded {b.ApprovedSha256}: refused / 银行文件校验值与审批时不一致,拒绝导出");
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE app.disbursement_batches SET state = 'exported', exported_at = now() WHERE id = @batchId AND state = 'approved'",
            new { batchId }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(conn, tx, actor, "disbursement.export", "disbursement_batch", batchId.ToString(CultureInfo.InvariantCulture),
            before: new { state = b.State }, after: new { state = b.State == "approved" ? "exported" : b.State, line_count = b.ApprovedLineCount, total_fen = b.ApprovedTotalFen, sha256 = sha });
        await tx.CommitAsync(ct);
        return b;
    }

    /// <summary>
    /// Writes the bank file to <paramref name="path"/> through <see cref="SafeFile"/>: a refused target (device,
    /// directory, link, an existing file without <paramref name="force"/>) is refused before anything is read; the
    /// lines go to a temporary file beside it that replaces the target only when the hash matched, so a refused
    /// or killed export leaves no bank file and the target untouched.
    /// </summary>
    public Task<BatchHeader> ExportToFileAsync(long batchId, string path, string actor, bool force, CancellationToken ct) =>
        SafeFile.WriteAsync(path, force, "--out", (stream, token) => ExportAsync(batchId, stream, actor, token), ct);

    /// <summary>Writes a new file (an existing one is refused); see the overload with <c>force</c>.</summary>
    public Task<BatchHeader> ExportToFileAsync(long batchId, string path, string actor, CancellationToken ct) =>
        ExportToFileAsync(batchId, path, actor, force: false, ct);
}
