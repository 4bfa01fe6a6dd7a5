using System.Globalization;
using System.Text;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Hosting;
using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

public sealed record ReconcileResult(long BatchId, long Rows, long Applied, long Paid, long Failed, long NewRecoveries, string State);

/// <summary>
/// Applies a bank return file (<c>bank-returns</c>: line_ref, status, amount, bank_txn_ref, failure_code,
/// failure_reason) to an exported batch. All or nothing: when any row is bad (a malformed value, a reference
/// that is not a payable line of the batch, a duplicate, an amount other than the line's, an outcome
/// contradicting one already recorded) the command fails with exit 65 and one line per problem, and nothing is
/// applied. Re-applying the same file changes nothing.
/// One pass: the batch's payable lines (id, amount and any recorded outcome; ~25 bytes a line with the check's) are read into
/// memory under the batch's row lock — an approved batch's lines cannot change — and every row of the file is
/// checked against them while the good ones stream into the outcomes by binary COPY. The first problem stops
/// the writing (the COPY is cancelled and the transaction rolled back) and the rest of the file is still
/// checked, so every problem is listed. The outcomes' primary key still refuses a second outcome for a line.
/// </summary>
public sealed class Reconciler(NpgsqlDataSource db)
{
    public static readonly string[] Columns = ["line_ref", "status", "amount", "bank_txn_ref", "failure_code", "failure_reason"];
    public const int MaxProblemsListed = 1000;

    public async Task<ReconcileResult> ReconcileAsync(long batchId, Stream file, string fileName, string actor, CancellationToken ct)
    {
        using var reader = new StreamReader(file, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var header = await ReadHeaderAsync(reader, fileName, ct);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var batch = await conn.QuerySingleOrDefaultAsync<(string State, long OutcomeCount)?>(new CommandDefinition(
            "SELECT state, outcome_count FROM app.disbursement_batches WHERE id = @batchId FOR UPDATE", new { batchId }, tx, cancellationToken: ct))
            ?? throw new DomainRuleException($"batch {batchId} does not exist / 批次 {batchId} 不存在");
        var state = batch.State;
        if (state is not ("exported" or "reconciled"))
            throw new DomainRuleException($"batch {batchId} is {state}; only a batch whose bank file was written is reconciled / 批次状态为{Zh.State(state)},生成银行文件后才能对账");

        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL jit = off", transaction: tx, cancellationToken: ct));
        var lines = await BatchLines.ReadAsync(conn, batchId, withOutcomes: batch.OutcomeCount > 0, ct);
        var check = new ReturnRowCheck(lines, batchId);
        var col = Columns.Select(c => header.IndexOf(c)).ToArray();
        long rows = 0, applied = 0, paid = 0, failed = 0;
        var copy = await conn.BeginRawBinaryCopyAsync(
            "COPY app.disbursement_outcomes (line_id, batch_id, status, amount_fen, bank_txn_ref, failure_code, failure_reason) FROM STDIN (FORMAT binary)", ct);
        var outcomes = new BinaryCopyWriter(copy, columns: 7);
        try
        {
            var csv = new CsvRecords(reader, fileName, firstLine: 2);
            while (ReadRecord(csv, fileName) is { } rec)
            {
                ct.ThrowIfCancellationRequested();
                if (rec.Count == 1 && rec[0].Length == 0) continue; // a blank line
                rows++;
                string Field(int i) => col[i] < rec.Count ? rec[col[i]].Trim() : "";
                var refText = Field(0);
                var statusText = Field(1);
                var amountText = Field(2);
                long? lineId = long.TryParse(refText, NumberStyles.None, CultureInfo.InvariantCulture, out var lid) ? lid : null;
                var status = statusText.Equals("paid", StringComparison.OrdinalIgnoreCase) ? "paid"
                    : statusText.Equals("failed", StringComparison.OrdinalIgnoreCase) ? "failed" : null;
                long? fen = Money.TryParseYuan(amountText, out var f) ? f : null;
                var line = csv.RecordLine;
                if (rec.Count < header.Count) check.Problem(line, $"{rec.Count} columns, the header has {header.Count} / 列数与表头不符");
                else if (lineId is null) check.Problem(line, $"line_ref: '{refText}' is not a line reference / 流水引用无效");
                else if (status is null) check.Problem(line, $"status: '{statusText.ToLowerInvariant()}' is not paid or failed / 状态应为 paid 或 failed");
                else if (fen is null) check.Problem(line, $"amount: '{amountText}' is not yuan with at most two decimals / 金额格式错误");
                // Every row is checked; rows are written only while the file has shown no problem.
                if (check.Row(line, lineId, status, fen) != RowVerdict.Apply || check.Count > 0) continue;

                applied++;
                if (status == "paid") paid++; else failed++;
                outcomes.StartRow();
                outcomes.Bigint(lineId!.Value);
                outcomes.Bigint(batchId);
                outcomes.TextOrNull(status);
                outcomes.Bigint(fen!.Value);
                outcomes.TextOrNull(Field(3));
                outcomes.TextOrNull(Field(4));
                outcomes.TextOrNull(Field(5));
            }
            if (check.Count > 0)
            {
                var listed = check.Listed.Select(p => $"{fileName}:{p.Line}: {p.Problem}").ToList();
                if (check.Count > listed.Count) listed.Add($"{fileName}: … and {check.Count - listed.Count} more problems / 另有 {check.Count - listed.Count} 处问题");
                listed.Add($"{fileName}: nothing applied / 未应用任何记录");
                throw new BadInputException(listed);
            }
            await outcomes.CompleteAsync(ct);
        }
        catch
        {
            outcomes.Cancel(); // the server drops the rows; the transaction rolls back
            throw;
        }

        var recoveries = await conn.ExecuteAsync(new CommandDefinition(BatchBuilder.RecoveriesSql, transaction: tx, commandTimeout: 0, cancellationToken: ct));
        // Outcomes are unique per line and admitted only for payable lines of this batch, so counting them suffices.
        var newState = await conn.ExecuteScalarAsync<string>(new CommandDefinition(
            """
            UPDATE app.disbursement_batches
            SET outcome_count = outcome_count + @applied,
                state = CASE WHEN outcome_count + @applied = approved_line_count THEN 'reconciled' ELSE state END,
                reconciled_at = CASE WHEN outcome_count + @applied = approved_line_count THEN coalesce(reconciled_at, now()) END
            WHERE id = @batchId
            RETURNING state
            """, new { batchId, applied }, tx, cancellationToken: ct)) ?? state;
        await AuditLog.WriteAsync(conn, tx, actor, "disbursement.reconcile", "disbursement_batch", batchId.ToString(CultureInfo.InvariantCulture),
            before: new { state }, after: new { state = newState, rows, applied, paid, failed, recoveries },
            details: Path.GetFileName(fileName));
        await tx.CommitAsync(ct);
        return new ReconcileResult(batchId, rows, applied, paid, failed, recoveries, newState);
    }

    private static List<string>? ReadRecord(CsvRecords csv, string fileName)
    {
        try
        {
            return csv.Read();
        }
        catch (DecoderFallbackException)
        {
            // The reader decodes ahead in blocks: the bad bytes are on this line or a later one.
            throw new BadInputException($"{fileName}:{csv.RecordLine + 1}: bytes that are not UTF-8 on this line or after it / 文件不是 UTF-8 编码");
        }
    }

    private static async Task<List<string>> ReadHeaderAsync(StreamReader reader, string fileName, CancellationToken ct)
    {
        string text;
        try
        {
            text = (await reader.ReadLineAsync(ct) ?? "").TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException)
        {
            throw new BadInputException($"{fileName}:1: not UTF-8 / 文件不是 UTF-8 编码");
        }
        var header = text.Split(',').Select(h => h.Trim().Trim('"').ToLowerInvariant()).ToList();
        var problems = Columns.Where(c => !header.Contains(c)).Select(c => $"{fileName}:1: missing column '{c}' / 缺少列 {c}").ToList();
        problems.AddRange(header.GroupBy(h => h).Where(g => g.Count() > 1).Select(g => $"{fileName}:1: column '{g.Key}' appears twice / 列重复"));
        if (problems.Count > 0) throw new BadInputException(problems);
        return header;
    }
}

/// <summary>
/// Records of an RFC 4180 CSV text (quoted fields, doubled quotes, line breaks inside quotes), one at a time,
/// with the file line each starts on; lines end in CR LF, LF or CR alone (<see cref="TextReader.ReadLine"/>).
/// Small on purpose: the return file has six plain columns.
/// </summary>
internal sealed class CsvRecords(TextReader reader, string fileName, long firstLine)
{
    private long _nextLine = firstLine;
    private readonly System.Text.StringBuilder _field = new();

    public long RecordLine { get; private set; }

    /// <summary>The next record, or null at the end. Synchronous: the reader is buffered, and an await per line cost more than the parsing.</summary>
    public List<string>? Read()
    {
        var text = reader.ReadLine();
        if (text is null) return null;
        RecordLine = _nextLine++;
        var fields = new List<string>(8);
        if (!text.Contains('"'))
        {
            // The usual record: without quotes every comma separates two fields.
            var start = 0;
            for (int comma; (comma = text.IndexOf(',', start)) >= 0; start = comma + 1) fields.Add(text[start..comma]);
            fields.Add(text[start..]);
            return fields;
        }
        _field.Clear();
        var quoted = false;
        for (var i = 0; ; i++)
        {
            if (i == text.Length)
            {
                if (!quoted) break;
                // A line break inside quotes belongs to the field.
                var more = reader.ReadLine() ?? throw new BadInputException($"{fileName}:{RecordLine}: a quoted field is not closed before the end of the file / 引号未闭合");
                _nextLine++;
                _field.Append('\n');
                text = more;
                i = -1;
                continue;
            }
            var c = text[i];
            if (quoted)
            {
                if (c != '"') _field.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"') { _field.Append('"'); i++; }
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',') { fields.Add(_field.ToString()); _field.Clear(); }
            else _field.Append(c);
        }
        fields.Add(_field.ToString());
        return fields;
    }
}
