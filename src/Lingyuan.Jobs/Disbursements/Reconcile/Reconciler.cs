using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Npgsql;
using Sylvan.Data.Csv;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>What a return file did; <c>FailedOtherwise</c>: rows repeating a recorded failure with another code or reason (not applied).</summary>
public sealed record ReconcileResult(long BatchId, long Rows, long Applied, long Paid, long Failed, long NewRecoveries, BatchState State, long FailedOtherwise);

/// <summary>
/// The Reconcile slice: applies a bank return file (<c>bank-returns</c>: line_ref, status, amount, bank_txn_ref, failure_code,
/// failure_reason) to an exported batch. All or nothing: when any row is bad (a malformed value, a reference
/// that is not a payable line of the batch, a duplicate, an amount other than the line's, an outcome
/// contradicting one already recorded) the command fails with exit 65 and one line per problem, and nothing is
/// applied. Re-applying the same file changes nothing.
/// One pass over the file (read with Sylvan.Data.Csv): its well-formed rows stream into the outcomes through
/// a text COPY (<see cref="OutcomeRows"/>) while the batch's payable lines (id, amount and any recorded outcome) are read on a
/// second connection — an approved batch's lines cannot change, and the batch's row lock, held by this work,
/// keeps any other reconciliation out — and every row is then checked against them before the COPY is completed.
/// A problem cancels the COPY (the transaction rolls back; nothing is applied) and every problem is listed, also when
/// the server has already refused a row the check names (a repeated reference meets the outcomes' key).
/// Why overlap: read first, the 490,000 lines of the bench took 0.5–0.8 s before the file's first row was looked at;
/// overlapped, the verb was ~0.15 s faster in 5 of 5 paired runs (ops/bench lab, 2026-12-02), for ~20 MB more.
/// At 1 M lines it is 1.63× the bound with the process start-up, 1.31× without (QUALITY.md: 2.0×; ops/bench, median of 3,
/// 2026-12-03; 1.98–2.08× before the outcomes were written as text and the lines read from the batch's index alone).
/// When outcomes are already recorded (a second file for the batch) the lines are awaited first, so a row the
/// bank repeats is not written twice. The outcomes' primary key still refuses a second outcome for a line.
/// </summary>
public sealed class Reconciler(Work work, NpgsqlDataSource db, ILogger<Reconciler> log)
{
    public static readonly string[] Columns = ["line_ref", "status", "amount", "bank_txn_ref", "failure_code", "failure_reason"];

    /// <summary>The columns as the batch page names them (the file keeps the English header).</summary>
    private static readonly string[] ColumnsZh = ["流水引用", "状态", "金额", "银行流水号", "失败代码", "失败原因"];

    /// <summary>
    /// The longest bank_txn_ref, failure_code and failure_reason stored: a bank's reference, code and reason are
    /// short, and a longer one (a file written wrongly) would swamp the batch page and pass a spreadsheet cell's limit.
    /// </summary>
    private static readonly int[] MaxTextChars = [64, 32, 200];

    private static string ColumnZh(int i) => $"{ColumnsZh[i]}({Columns[i]})";

    // The first of the three text fields longer than its limit, or -1.
    private static int TooLong(string[] text)
    {
        for (var k = 0; k < text.Length; k++)
            if (text[k].Length > MaxTextChars[k]) return k;
        return -1;
    }

    public const int MaxProblemsListed = 1000;

    // The most rows the line and row lists are sized for up front (a batch is ~1 M lines; beyond, they grow).
    private const int MaxPresized = 5_000_000;

    // A return row is six short fields; a record longer than this is not one (the reader's buffer grows up to it).
    private const int MaxRecordChars = 1 << 20;

    public async Task<ReconcileResult> ReconcileAsync(long batchId, Stream file, string fileName, string actor, CancellationToken ct)
    {
        using var reader = new StreamReader(file, new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true, bufferSize: 1 << 16);
        var header = await ReadHeaderAsync(reader, fileName, ct);
        using var acting = Acting.Begin(Acting.Current with { Actor = actor });
        var clock = Stopwatch.StartNew();
        var r = await work.RunAsync("batch reconcile", uow => ApplyAsync(uow, batchId, reader, header, fileName),
            ct, new WorkOptions { RecordId = BatchLifecycle.Id(batchId), Settings = ["jit = off"] });
        log.LogInformation("batch {BatchId}: {Rows} return rows, {Applied} applied, in {Seconds:F2} s", batchId, r.Rows, r.Applied, clock.Elapsed.TotalSeconds);
        return r;
    }

    private async Task<ReconcileResult> ApplyAsync(UnitOfWork uow, long batchId, StreamReader reader, List<string> header, string fileName)
    {
        var ct = uow.Cancellation;
        var b = await BatchLifecycle.LockAsync(uow, batchId);
        BatchLifecycle.Table.Require(BatchVerb.Reconcile, b.State, BatchLifecycle.Id(batchId));

        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(ct);
        // The approval counted the batch's payable lines: what the read holds, and what a whole return file has.
        var expected = (int)Math.Min(b.ApprovedLineCount ?? 0, MaxPresized);
        var reading = ReadLinesAsync(batchId, withOutcomes: b.OutcomeCount > 0, expected, stopReading.Token);
        try
        {
            var known = b.OutcomeCount > 0 ? await reading : null;
            var check = new ReturnRowCheck(batchId, expected);
            var outcomes = await OutcomeRows.BeginAsync(uow.Connection, ct);
            var completed = false;
            try
            {
                var written = WriteRows(reader, header, fileName, batchId, check, known, outcomes, ct);
                var lines = known ?? await reading;
                check.Check(lines);
                if (check.Count > 0)
                {
                    var listed = check.Listed.Select(p => $"{fileName}:{p.Line}: {p.Problem}").ToList();
                    if (check.Count > listed.Count) listed.Add($"{fileName}: … and {check.Count - listed.Count} more problems / 另有 {check.Count - listed.Count} 处问题");
                    listed.Add($"{fileName}: nothing applied / 未应用任何记录");
                    throw new BadInputException(listed); // the COPY is cancelled below: the server drops the rows
                }
                // Without a problem every written row is one to apply, and every row to apply was written.
                if (written != check.Applied) throw new InvalidOperationException($"batch {batchId}: {written} outcome rows written, {check.Applied} checked to apply");
                await outcomes.CompleteAsync();
                completed = true;
            }
            finally
            {
                if (!completed) await CancelAsync(outcomes, batchId);
            }
            return await FinishAsync(uow, batchId, b.State, fileName, check);
        }
        catch
        {
            // On an error before the lines were awaited they may still be on their way: stop the read and let its
            // connection go back to the pool before the error goes on (the read's own failure, if any, is secondary).
            await stopReading.CancelAsync();
            try { await reading; } catch { }
            throw;
        }
    }

    /// <summary>
    /// Ends the outcomes' COPY without applying a row. A server that has already refused one (a repeated reference
    /// meets the outcomes' key once its rows are inserted, before the file's check has run) answers the cancel with
    /// that refusal: the COPY is over either way, the transaction rolls back, and the file's problems are what the
    /// clerk is shown.
    /// </summary>
    private async Task CancelAsync(OutcomeRows outcomes, long batchId)
    {
        try
        {
            await outcomes.CancelAsync();
        }
        catch (PostgresException ex)
        {
            log.LogInformation("batch {BatchId}: the outcomes' COPY had already stopped on the server ({SqlState}); nothing applied", batchId, ex.SqlState);
        }
    }

    /// <summary>
    /// Reads the file's rows into the check and writes the well-formed ones to the outcomes while no row has
    /// been malformed (and, when the lines are <paramref name="known"/>, not a row already recorded); returns
    /// how many were written.
    /// </summary>
    private static long WriteRows(StreamReader reader, List<string> header, string fileName, long batchId, ReturnRowCheck check,
        BatchLines? known, OutcomeRows outcomes, CancellationToken ct)
    {
        var col = Columns.Select(c => header.IndexOf(c)).ToArray();
        long written = 0;
        using var csv = Open(reader, fileName);
        // The file line each record starts on: the header is line 1, and a quoted line break is a line too.
        long next = 2;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var line = next;
            if (!ReadRecord(csv, fileName, line)) break;
            var count = csv.RowFieldCount;
            next += 1 + LineBreaks(csv, count);
            if (count == 1 && csv.GetFieldSpan(0).IsEmpty) continue; // a blank line
            string Field(int i) => col[i] < count ? Value(csv, col[i]).Trim() : "";
            var refText = Field(0);
            var statusText = Field(1);
            var amountText = Field(2);
            long? lineId = long.TryParse(refText, NumberStyles.None, CultureInfo.InvariantCulture, out var lid) ? lid : null;
            var status = statusText.Equals("paid", StringComparison.OrdinalIgnoreCase) ? "paid"
                : statusText.Equals("failed", StringComparison.OrdinalIgnoreCase) ? "failed" : null;
            long? fen = Money.TryParseYuan(amountText, out var f) ? f : null;
            string[] text = [Field(3), Field(4), Field(5)];
            // PostgreSQL text cannot hold NUL: refused here, on its line, before the COPY would fail the whole file.
            var nul = Array.FindIndex(text, t => t.Contains('\0'));
            var tooLong = TooLong(text);
            var problem = count < header.Count ? $"{count} columns, the header has {header.Count} / 本行 {count} 列,表头 {header.Count} 列"
                : lineId is null ? $"line_ref: '{Registers.Import.Fields.Clip(refText)}' is not a line reference / 流水引用“{Registers.Import.Fields.Clip(refText)}”无效"
                : status is null ? $"status: '{Registers.Import.Fields.Clip(statusText.ToLowerInvariant())}' is not paid or failed / 状态“{Registers.Import.Fields.Clip(statusText)}”无效,应为 paid(成功)或 failed(失败)"
                : fen is null ? $"amount: '{Registers.Import.Fields.Clip(amountText)}' is not yuan with at most two decimals / 金额“{Registers.Import.Fields.Clip(amountText)}”格式错误,应为元,最多两位小数"
                : nul >= 0 ? $"{Columns[3 + nul]}: contains a NUL character / {ColumnZh(3 + nul)}含有空字符(NUL)"
                : tooLong >= 0 ? $"{Columns[3 + tooLong]}: {text[tooLong].Length} characters, at most {MaxTextChars[tooLong]} / {ColumnZh(3 + tooLong)}共 {text[tooLong].Length} 个字符,超过上限 {MaxTextChars[tooLong]} 个"
                : null;
            check.Add(line, lineId, status, fen, problem);
            // Rows are written only while the file has shown no malformed row; the check at the end decides.
            if (check.Malformed) continue;
            if (known is not null && known.IndexOf(lineId!.Value) is var i and >= 0 && known.Recorded(i) is { } recorded)
            {
                if (recorded == "failed" && status == "failed" && known.FailedOtherwise(i, text[1], text[2])) check.CountFailedOtherwise();
                continue;
            }

            written++;
            outcomes.Write(lineId!.Value, batchId, status!, fen!.Value, text);
        }
        return written;
    }

    /// <summary>The batch's payable lines, read on a connection of their own while the file streams on the work's.</summary>
    private async Task<BatchLines> ReadLinesAsync(long batchId, bool withOutcomes, int expected, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using (var jitOff = new NpgsqlCommand("SET jit = off", conn)) await jitOff.ExecuteNonQueryAsync(ct);
        return await BatchLines.ReadAsync(conn, batchId, withOutcomes, expected, ct);
    }

    private static async Task<ReconcileResult> FinishAsync(UnitOfWork uow, long batchId, BatchState before, string fileName, ReturnRowCheck check)
    {
        var (rows, applied, paid, failed, failedOtherwise) = (check.Rows, check.Applied, check.PaidCount, check.FailedCount, check.FailedOtherwise);
        var recoveries = await Recoveries.ListNewAsync(uow);
        // Outcomes are unique per line and admitted only for payable lines of this batch, so counting them suffices.
        var newState = await uow.ScalarAsync<string>(
            """
            UPDATE app.disbursement_batches
            SET outcome_count = outcome_count + @applied,
                state = CASE WHEN outcome_count + @applied = approved_line_count THEN @reconciled ELSE state END,
                reconciled_at = CASE WHEN outcome_count + @applied = approved_line_count THEN coalesce(reconciled_at, now()) END
            WHERE id = @batchId
            RETURNING state
            """, new { batchId, applied, reconciled = BatchLifecycle.Table.Db(BatchState.Reconciled) });
        var state = newState is null ? before : BatchLifecycle.Table.Parse(newState);
        await uow.AuditAsync("disbursement.reconcile", "disbursement_batch", BatchLifecycle.Id(batchId),
            before: new { state = BatchLifecycle.Table.Db(before) }, after: new { state = BatchLifecycle.Table.Db(state), rows, applied, paid, failed, recoveries, failed_otherwise = failedOtherwise },
            details: Path.GetFileName(fileName));
        return new ReconcileResult(batchId, rows, applied, paid, failed, recoveries, state, failedOtherwise);
    }

    private static CsvDataReader Open(StreamReader reader, string fileName)
    {
        try
        {
            return CsvDataReader.Create(reader, new CsvDataReaderOptions
            {
                HasHeaders = false, // read above, on its own
                Delimiter = ',',
                BufferSize = 1 << 16,
                MaxBufferSize = MaxRecordChars,
                ResultSetMode = ResultSetMode.SingleResult,
            });
        }
        catch (Exception ex) when (ex is DecoderFallbackException or CsvFormatException)
        {
            throw Unreadable(ex, fileName, 2);
        }
    }

    private static bool ReadRecord(CsvDataReader csv, string fileName, long line)
    {
        try
        {
            return csv.Read();
        }
        catch (Exception ex) when (ex is DecoderFallbackException or CsvFormatException)
        {
            throw Unreadable(ex, fileName, line);
        }
    }

    private static BadInputException Unreadable(Exception ex, string fileName, long line) => ex switch
    {
        // The reader decodes ahead in blocks: the bad bytes are on this line or a later one.
        DecoderFallbackException => new BadInputException($"{fileName}:{line}: bytes that are not UTF-8 on this line or after it / 本行或其后有非 UTF-8 编码的内容,请将文件另存为 UTF-8 后重新导入"),
        CsvRecordTooLargeException => new BadInputException($"{fileName}:{line}: a record longer than {MaxRecordChars:N0} characters / 记录过长"),
        // As the register importer reads Sylvan's refusal: the quote itself is the bad character when it never closes.
        CsvInvalidCharacterException { InvalidCharacter: not '"' } =>
            new BadInputException($"{fileName}:{line}: text follows a closing quote, expected a comma or the end of the line after it / 引号后有多余字符"),
        _ => new BadInputException($"{fileName}:{line}: a quoted field is not closed before the end of the file / 引号未闭合"),
    };

    // A quoted field keeps its line breaks as they were (CR LF, LF or CR); they count as lines of the file and
    // are stored as LF, as the file's lines are read.
    private static int LineBreaks(CsvDataReader csv, int count)
    {
        var breaks = 0;
        for (var i = 0; i < count; i++)
        {
            var span = csv.GetFieldSpan(i);
            if (span.IndexOfAny('\r', '\n') < 0) continue;
            for (var k = 0; k < span.Length; k++)
                if (span[k] == '\n' || (span[k] == '\r' && (k + 1 == span.Length || span[k + 1] != '\n'))) breaks++;
        }
        return breaks;
    }

    private static string Value(CsvDataReader csv, int i)
    {
        var s = csv.GetString(i);
        return s.Contains('\r') ? s.Replace("\r\n", "\n").Replace('\r', '\n') : s;
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
            // The reader decodes a block ahead: the bad bytes are in the file's first block, not necessarily on line 1.
            throw new BadInputException($"{fileName}: bytes that are not UTF-8 near the start / 文件不是 UTF-8 编码(银行系统导出的 GBK 文件常见此情况),请另存为 UTF-8 后重新导入");
        }
        var header = text.Split(',').Select(h => h.Trim().Trim('"').ToLowerInvariant()).ToList();
        var problems = Columns.Where(c => !header.Contains(c)).Select(c => $"{fileName}:1: missing column '{c}' / 表头缺少列 {c}({ColumnsZh[Array.IndexOf(Columns, c)]})").ToList();
        problems.AddRange(header.GroupBy(h => h).Where(g => g.Count() > 1).Select(g => $"{fileName}:1: column '{g.Key}' appears twice / 列重复"));
        if (problems.Count > 0) throw new BadInputException(problems);
        return header;
    }

    /// <summary>The upload of a return file on the batch page (finance; the antiforgery token is checked).</summary>
    internal static void Map(RouteGroupBuilder g) => g.MapPost("/{id:long}/reconcile", UploadAsync);

    private static async Task<IResult> UploadAsync(HttpContext ctx, long id, Reconciler reconciler)
    {
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        if (await BatchesPage.ValidAntiforgeryAsync(ctx) is { } bad) return bad;
        var file = form.Files.GetFile("file");
        if (file is null) return BatchesPage.ReconcileMissingFile(ctx);
        var user = BatchesPage.UserName(ctx);
        try
        {
            await using var s = file.OpenReadStream();
            ReconcileResult r;
            using (Acting.Begin(new Acting(user, Acting.Web)))
                r = await reconciler.ReconcileAsync(id, s, Path.GetFileName(file.FileName), user, ctx.RequestAborted);
            return BatchesPage.Reconciled(ctx, id, r);
        }
        catch (BadInputException ex)
        {
            return BatchesPage.ReconcileProblems(ctx, id, ex.Problems);
        }
        catch (DomainRuleException ex)
        {
            return BatchesPage.Refused(ctx, "对账被拒绝", ex.Message, alert: false);
        }
    }
}

public sealed class BatchReconcileCommand(Reconciler reconciler) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch reconcile",
        "apply a bank return file to a batch / 导入银行回盘文件进行对账",
        """
        usage: Lingyuan.Jobs batch reconcile BATCH_ID FILE
        用法:  Lingyuan.Jobs batch reconcile 批次编号 文件
        FILE: CSV (UTF-8) with columns line_ref, status (paid/failed), amount, bank_txn_ref, failure_code, failure_reason.
        All or nothing: unknown references, duplicates, amount mismatches → exit 65, one line per problem, nothing applied.
        全部或全不:未知引用、重复、金额不符时退出码 65,逐行列出问题,不应用任何记录。
        """);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        var path = args.Positional(1, "FILE");
        args.ExpectPositionals(2);
        if (!File.Exists(path)) throw new UsageException($"{path}: no such file / 文件不存在");
        await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        var r = await reconciler.ReconcileAsync(id, file, path, Acting.Current.Actor, ct);
        Console.WriteLine($"batch {id}: {r.Rows} rows, {r.Applied} applied ({r.Paid} paid, {r.Failed} failed), {r.NewRecoveries} to recover, state {BatchLifecycle.Table.Db(r.State)} / 对账完成,状态:{BatchLifecycle.Table.Label(r.State)}");
        if (r.FailedOtherwise > 0)
            Console.WriteLine($"note: {r.FailedOtherwise} rows repeat a recorded failure with another code or reason; the first answer stays / {r.FailedOtherwise} 行为已登记的退票,银行代码或原因与首次登记不同,以首次登记为准");
        return ExitCodes.Ok;
    }
}
