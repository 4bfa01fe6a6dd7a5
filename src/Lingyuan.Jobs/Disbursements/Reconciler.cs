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
/// failure_reason) to an exported batch. The file is COPYed as text into a temporary staging table and
/// checked set-based; all or nothing: when any row is bad (unknown reference, duplicate, amount mismatch,
/// an outcome contradicting one already recorded, a malformed value) the command fails with exit 65 and one
/// line per problem, and nothing is applied. Re-applying the same file changes nothing.
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

        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL max_parallel_workers_per_gather = 0",
            transaction: tx, cancellationToken: ct));
        // Parsed here (one pass, exact yuan → fen), staged by binary COPY; the relational checks run in SQL.
        await conn.ExecuteAsync(new CommandDefinition(
            """
            CREATE TEMP TABLE bank_return_stage (
                file_line bigint NOT NULL, line_id bigint, status text, amount_fen bigint,
                bank_txn_ref text, failure_code text, failure_reason text) ON COMMIT DROP
            """, transaction: tx, cancellationToken: ct));
        var formatProblems = new List<(long Line, string Problem)>();
        long formatProblemCount = 0, staged = 0, paid = 0, failed = 0, lastLineId = long.MinValue;
        var ascending = true; // strictly ascending references cannot repeat: no duplicate check needed
        var col = Columns.Select(c => header.IndexOf(c)).ToArray();
        await using (var importer = await conn.BeginBinaryImportAsync(
            "COPY bank_return_stage (file_line, line_id, status, amount_fen, bank_txn_ref, failure_code, failure_reason) FROM STDIN (FORMAT binary)", ct))
        {
            var csv = new CsvRecords(reader, firstLine: 2);
            while (await csv.ReadAsync(ct) is { } rec)
            {
                var line = csv.RecordLine;
                if (rec.Count == 1 && rec[0].Length == 0) continue; // a blank line
                string Field(int i) => col[i] < rec.Count ? rec[col[i]].Trim() : "";
                var refText = Field(0);
                var statusText = Field(1).ToLowerInvariant();
                var amountText = Field(2);
                long? lineId = long.TryParse(refText, NumberStyles.None, CultureInfo.InvariantCulture, out var lid) ? lid : null;
                var status = statusText is "paid" or "failed" ? statusText : null;
                long? fen = Money.TryParseYuan(amountText, out var f) ? f : null;
                void Problem(string p) { formatProblemCount++; if (formatProblems.Count < MaxProblemsListed) formatProblems.Add((line, p)); }
                if (rec.Count < header.Count) Problem($"{rec.Count} columns, the header has {header.Count} / 列数与表头不符");
                else if (lineId is null) Problem($"line_ref: '{refText}' is not a line reference / 流水引用无效");
                else if (status is null) Problem($"status: '{statusText}' is not paid or failed / 状态应为 paid 或 failed");
                else if (fen is null) Problem($"amount: '{amountText}' is not yuan with at most two decimals / 金额格式错误");
                // Buffered writes: the importer only touches the socket when its buffer is full.
                staged++;
                if (status == "paid") paid++; else if (status == "failed") failed++;
                if (lineId is { } id) { ascending &= id > lastLineId; lastLineId = id; }
                importer.StartRow();
                importer.Write(line, NpgsqlTypes.NpgsqlDbType.Bigint);
                WriteNullable(importer, lineId);
                importer.Write((object?)status ?? DBNull.Value, NpgsqlTypes.NpgsqlDbType.Text);
                WriteNullable(importer, fen);
                importer.Write(NullIfEmpty(Field(3)), NpgsqlTypes.NpgsqlDbType.Text);
                importer.Write(NullIfEmpty(Field(4)), NpgsqlTypes.NpgsqlDbType.Text);
                importer.Write(NullIfEmpty(Field(5)), NpgsqlTypes.NpgsqlDbType.Text);
            }
            await importer.CompleteAsync(ct);
        }

        // The usual file: well formed, in line order (as exported), for a batch with no outcome yet. Then one pass
        // suffices: insert every row that matches a payable line of the batch with the same amount; when that is
        // every staged row, there is nothing to report. Otherwise undo it and take the full check below.
        // (Should outcome_count ever lag the table, the outcomes' primary key refuses the insert: never applied twice.)
        (long Applied, long Paid, long Failed)? fast = null;
        if (formatProblemCount == 0 && ascending && batch.OutcomeCount == 0 && staged > 0)
        {
            await conn.ExecuteAsync(new CommandDefinition("SAVEPOINT fast_apply", transaction: tx, cancellationToken: ct));
            var inserted = await conn.ExecuteAsync(new CommandDefinition(FastApplySql, new { batchId }, tx, commandTimeout: 0, cancellationToken: ct));
            if (inserted == staged) fast = (inserted, paid, failed);
            else await conn.ExecuteAsync(new CommandDefinition("ROLLBACK TO SAVEPOINT fast_apply", transaction: tx, cancellationToken: ct));
        }
        if (fast is null)
        {
            var found = (await conn.QueryAsync<(long Line, string Problem, long Total)>(new CommandDefinition(
                ascending ? ProblemsSql.Replace("/*dups*/", "false AND", StringComparison.Ordinal) : ProblemsSql,
                new { batchId, limit = MaxProblemsListed }, tx, commandTimeout: 0, cancellationToken: ct))).ToList();
            var total = formatProblemCount + (found.Count > 0 ? found[0].Total : 0);
            var problems = formatProblems.Concat(found.Select(p => (p.Line, p.Problem))).OrderBy(p => p.Line).Take(MaxProblemsListed).ToList();
            if (problems.Count > 0)
            {
                var lines = problems.Select(p => $"{fileName}:{p.Line}: {p.Problem}").ToList();
                if (total > problems.Count) lines.Add($"{fileName}: … and {total - problems.Count} more problems / 另有 {total - problems.Count} 处问题");
                lines.Add($"{fileName}: nothing applied / 未应用任何记录");
                throw new BadInputException(lines);
            }
        }
        var rows = staged;
        var applied = fast ?? await conn.QuerySingleAsync<(long Applied, long Paid, long Failed)>(new CommandDefinition(
            ApplySql, new { batchId }, tx, commandTimeout: 0, cancellationToken: ct));
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
            """, new { batchId, applied = applied.Applied }, tx, cancellationToken: ct)) ?? state;
        await AuditLog.WriteAsync(conn, tx, actor, "disbursement.reconcile", "disbursement_batch", batchId.ToString(CultureInfo.InvariantCulture),
            before: new { state }, after: new { state = newState, rows, applied = applied.Applied, paid = applied.Paid, failed = applied.Failed, recoveries },
            details: Path.GetFileName(fileName));
        await tx.CommitAsync(ct);
        return new ReconcileResult(batchId, rows, applied.Applied, applied.Paid, applied.Failed, recoveries, newState);
    }

    private static void WriteNullable(NpgsqlBinaryImporter importer, long? value)
    {
        if (value is { } v) importer.Write(v, NpgsqlTypes.NpgsqlDbType.Bigint);
        else importer.WriteNull();
    }

    private static object NullIfEmpty(string s) => s.Length == 0 ? DBNull.Value : s;

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

    private const string ProblemsSql = """
        WITH dups AS (
            SELECT line_id, min(file_line) AS first_line FROM bank_return_stage WHERE /*dups*/ line_id IS NOT NULL GROUP BY line_id HAVING count(*) > 1
        ),
        p AS (
            SELECT s.file_line,
                   CASE
                       WHEN d.line_id IS NOT NULL THEN format('line_ref %s: duplicate (first on line %s) / 流水引用重复', s.line_id, d.first_line)
                       WHEN l.id IS NULL THEN format('line_ref %s: unknown in batch %s / 本批次没有该流水引用', s.line_id, @batchId)
                       WHEN l.amount_fen <> s.amount_fen THEN format('line_ref %s: amount %s fen, the batch paid %s fen / 金额与发放金额不符', s.line_id, s.amount_fen, l.amount_fen)
                       WHEN o.line_id IS NOT NULL AND o.status <> s.status THEN format('line_ref %s: already recorded as %s / 已登记为 %s', s.line_id, o.status, o.status)
                   END AS problem
            FROM bank_return_stage s
            LEFT JOIN dups d ON d.line_id = s.line_id AND s.file_line <> d.first_line
            LEFT JOIN app.disbursement_lines l ON l.id = s.line_id AND l.batch_id = @batchId AND l.status = 'payable'
            LEFT JOIN app.disbursement_outcomes o ON o.line_id = l.id
            WHERE s.line_id IS NOT NULL AND s.status IS NOT NULL AND s.amount_fen IS NOT NULL
        )
        SELECT file_line, problem, count(*) OVER () AS total FROM p WHERE problem IS NOT NULL ORDER BY file_line LIMIT @limit
        """;

    // Only for a batch without outcomes and a file without duplicates (see above): no anti-join with the outcomes.
    private const string FastApplySql = """
        INSERT INTO app.disbursement_outcomes (line_id, batch_id, status, amount_fen, bank_txn_ref, failure_code, failure_reason)
        SELECT s.line_id, @batchId, s.status, s.amount_fen, s.bank_txn_ref, s.failure_code, s.failure_reason
        FROM bank_return_stage s
        JOIN app.disbursement_lines l ON l.id = s.line_id AND l.batch_id = @batchId AND l.status = 'payable' AND l.amount_fen = s.amount_fen
        """;

    private const string ApplySql = """
        WITH ins AS (
            INSERT INTO app.disbursement_outcomes (line_id, batch_id, status, amount_fen, bank_txn_ref, failure_code, failure_reason)
            SELECT line_id, @batchId, status, amount_fen, bank_txn_ref, failure_code, failure_reason
            FROM bank_return_stage s
            -- Re-applied lines are skipped. Outcomes of a batch are written only under its row lock (FOR UPDATE
            -- above), so no concurrent reconciliation can insert the same line in between.
            WHERE NOT EXISTS (SELECT 1 FROM app.disbursement_outcomes o WHERE o.line_id = s.line_id)
            RETURNING status
        )
        SELECT count(*), count(*) FILTER (WHERE status = 'paid'), count(*) FILTER (WHERE status = 'failed') FROM ins
        """;
}

/// <summary>
/// Records of an RFC 4180 CSV text (quoted fields, doubled quotes, line breaks inside quotes), one at a time,
/// with the file line each starts on. Small on purpose: the return file has six plain columns.
/// </summary>
internal sealed class CsvRecords(TextReader reader, long firstLine)
{
    private long _nextLine = firstLine;
    private readonly System.Text.StringBuilder _field = new();

    public long RecordLine { get; private set; }

    public async Task<List<string>?> ReadAsync(CancellationToken ct)
    {
        var text = await reader.ReadLineAsync(ct);
        if (text is null) return null;
        RecordLine = _nextLine++;
        var fields = new List<string>(8);
        _field.Clear();
        var quoted = false;
        for (var i = 0; ; i++)
        {
            if (i == text.Length)
            {
                if (!quoted) break;
                // A line break inside quotes belongs to the field.
                var more = await reader.ReadLineAsync(ct) ?? throw new BadInputException($"line {RecordLine}: unterminated quoted field / 引号未闭合");
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
