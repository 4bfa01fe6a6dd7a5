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
        var state = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT state FROM app.disbursement_batches WHERE id = @batchId FOR UPDATE", new { batchId }, tx, cancellationToken: ct))
            ?? throw new DomainRuleException($"batch {batchId} does not exist / 批次 {batchId} 不存在");
        if (state is not ("exported" or "reconciled"))
            throw new DomainRuleException($"batch {batchId} is {state}; only a batch whose bank file was written is reconciled / 批次状态为{Zh.State(state)},生成银行文件后才能对账");

        await conn.ExecuteAsync(new CommandDefinition("SET LOCAL jit = off; SET LOCAL work_mem = '256MB'; SET LOCAL max_parallel_workers_per_gather = 0",
            transaction: tx, cancellationToken: ct));
        // Columns in the file's order; extra columns are staged and ignored.
        var staged = header.Select((h, i) => Columns.Contains(h) ? h : $"extra_{i}").ToList();
        await conn.ExecuteAsync(new CommandDefinition(
            $"CREATE TEMP TABLE bank_return_stage (row_no bigint GENERATED ALWAYS AS IDENTITY, {string.Join(", ", staged.Select(c => c + " text"))}) ON COMMIT DROP",
            transaction: tx, cancellationToken: ct));
        try
        {
            await using var copy = await conn.BeginTextImportAsync(
                $"COPY bank_return_stage ({string.Join(", ", staged)}) FROM STDIN (FORMAT csv)", ct);
            var buffer = new char[1 << 15];
            int n;
            while ((n = await reader.ReadAsync(buffer, ct)) > 0)
                await copy.WriteAsync(buffer.AsMemory(0, n), ct);
        }
        catch (DecoderFallbackException)
        {
            throw new BadInputException($"{fileName}: not UTF-8 / 文件不是 UTF-8 编码");
        }
        catch (PostgresException ex) when (ex.SqlState.StartsWith("22", StringComparison.Ordinal))
        {
            // e.g. "COPY bank_return_stage, line 17": the staging line is the file's line after the header.
            var m = System.Text.RegularExpressions.Regex.Match(ex.Where ?? "", @"line (\d+)");
            var line = m.Success ? (long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) + 1).ToString(CultureInfo.InvariantCulture) : "?";
            throw new BadInputException($"{fileName}:{line}: {ex.MessageText} / 文件格式错误");
        }

        var problems = (await conn.QueryAsync<(long Line, string Problem, long Total)>(new CommandDefinition(
            ProblemsSql, new { batchId, limit = MaxProblemsListed }, tx, commandTimeout: 0, cancellationToken: ct))).ToList();
        if (problems.Count > 0)
        {
            var lines = problems.Select(p => $"{fileName}:{p.Line}: {p.Problem}").ToList();
            if (problems[0].Total > problems.Count) lines.Add($"{fileName}: … and {problems[0].Total - problems.Count} more problems / 另有 {problems[0].Total - problems.Count} 处问题");
            lines.Add($"{fileName}: nothing applied / 未应用任何记录");
            throw new BadInputException(lines);
        }

        var rows = await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM bank_return_stage", transaction: tx, cancellationToken: ct));
        var applied = await conn.QuerySingleAsync<(long Applied, long Paid, long Failed)>(new CommandDefinition(ApplySql, new { batchId }, tx, commandTimeout: 0, cancellationToken: ct));
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

    // row_no 1 is the file's line 2 (after the header).
    private const string ProblemsSql = """
        WITH s AS (
            SELECT row_no + 1 AS file_line, trim(line_ref) AS ref, lower(trim(status)) AS status, trim(amount) AS amount,
                   CASE WHEN trim(line_ref) ~ '^[0-9]{1,18}$' THEN trim(line_ref)::bigint END AS ref_id,
                   CASE WHEN replace(trim(amount), ',', '') ~ '^[0-9]{1,15}(\.[0-9]{1,2})?$'
                        THEN (replace(trim(amount), ',', '')::numeric * 100)::bigint END AS amount_fen
            FROM bank_return_stage
        ),
        dups AS (
            SELECT ref, min(file_line) AS first_line FROM s GROUP BY ref HAVING count(*) > 1
        ),
        p AS (
            SELECT s.file_line,
                   CASE
                       WHEN s.ref IS NULL OR s.ref = '' THEN 'line_ref: empty / 缺少流水引用'
                       WHEN d.ref IS NOT NULL THEN format('line_ref %s: duplicate (first on line %s) / 流水引用重复', s.ref, d.first_line)
                       WHEN s.status IS NULL OR s.status NOT IN ('paid', 'failed') THEN format('status: %s is not paid or failed / 状态应为 paid 或 failed', coalesce(s.status, '(empty)'))
                       WHEN s.amount_fen IS NULL THEN format('amount: %s is not yuan with at most two decimals / 金额格式错误', coalesce(s.amount, '(empty)'))
                       WHEN l.id IS NULL THEN format('line_ref %s: unknown in batch %s / 本批次没有该流水引用', s.ref, @batchId)
                       WHEN l.amount_fen <> s.amount_fen THEN format('line_ref %s: amount %s fen, the batch paid %s fen / 金额与发放金额不符', s.ref, s.amount_fen, l.amount_fen)
                       WHEN o.line_id IS NOT NULL AND o.status <> s.status THEN format('line_ref %s: already recorded as %s / 已登记为 %s', s.ref, o.status, o.status)
                   END AS problem
            FROM s
            LEFT JOIN dups d ON d.ref = s.ref AND s.file_line <> d.first_line
            LEFT JOIN app.disbursement_lines l ON l.id = s.ref_id AND l.batch_id = @batchId AND l.status = 'payable'
            LEFT JOIN app.disbursement_outcomes o ON o.line_id = l.id
        )
        SELECT file_line, problem, count(*) OVER () AS total FROM p WHERE problem IS NOT NULL ORDER BY file_line LIMIT @limit
        """;

    private const string ApplySql = """
        WITH ins AS (
            INSERT INTO app.disbursement_outcomes (line_id, batch_id, status, amount_fen, bank_txn_ref, failure_code, failure_reason)
            SELECT trim(line_ref)::bigint, @batchId, lower(trim(status)), (replace(trim(amount), ',', '')::numeric * 100)::bigint,
                   nullif(trim(bank_txn_ref), ''), nullif(trim(failure_code), ''), nullif(trim(failure_reason), '')
            FROM bank_return_stage
            ON CONFLICT (line_id) DO NOTHING
            RETURNING status
        )
        SELECT count(*), count(*) FILTER (WHERE status = 'paid'), count(*) FILTER (WHERE status = 'failed') FROM ins
        """;
}
