using Lingyuan.Jobs.Exports;
using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using NpgsqlTypes;

namespace Lingyuan.Jobs.Inspections;

public sealed record ResultRow(long DrawId, string Uscc, DateOnly CompletedOn, string Finding, string Summary)
{
    /// <summary>The file's row number, for error lines.</summary>
    public int Line { get; init; }
}

public sealed class PublicResult
{
    public int Position { get; init; }
    public string? EmployerName { get; init; }
    public string Uscc { get; init; } = "";
    public string PlanName { get; init; } = "";
    public string Period { get; init; } = "";
    public DateOnly DrawDay { get; init; }
    public DateOnly? CompletedOn { get; init; }
    public string? Finding { get; init; }
    public string? Summary { get; init; }
}

/// <summary>
/// Inspection results reported back (columns <c>draw_id, uscc, completed_on, finding, summary</c>) and
/// their publication (公示, 国发〔2019〕5号). An import is all or nothing: any bad row → nothing changes.
/// </summary>
public sealed class InspectionResults(Work work, BureauClock clock)
{
    public static readonly string[] Findings = ["compliant", "violation", "rectification_ordered"];
    public static readonly string[] Columns = ["draw_id", "uscc", "completed_on", "finding", "summary"];

    public static string FindingZh(string? f) => f switch
    {
        "compliant" => "未发现违法行为",
        "violation" => "发现违法行为,已依法处理",
        "rectification_ordered" => "责令限期整改",
        _ => "检查中",
    };

    /// <summary>Parses a results file; throws <see cref="BadInputException"/> with one line per problem.</summary>
    public static List<ResultRow> Parse(string fileName, TextReader reader)
    {
        var problems = new List<string>();
        var rows = new List<ResultRow>();
        using var records = Csv.Read(reader).GetEnumerator();
        bool Next()
        {
            try { return records.MoveNext(); }
            catch (FormatException e) { problems.Add($"{fileName}:{e.Message}"); return false; }
        }
        if (!Next()) throw new BadInputException(problems.Count > 0 ? problems : [$"{fileName}:1: empty file, expected the header {string.Join(",", Columns)}"]);
        var header = records.Current.Fields.Select(h => h.Trim().TrimStart('\uFEFF')).ToList();
        var missing = Columns.Where(c => !header.Contains(c)).ToList();
        if (missing.Count > 0) throw new BadInputException($"{fileName}:1: missing column(s) {string.Join(", ", missing)}");
        var seen = new HashSet<(long, string)>();
        while (Next())
        {
            var (line, fields) = records.Current;
            if (fields.Count != header.Count) { problems.Add($"{fileName}:{line}: {fields.Count} field(s), the header has {header.Count}"); continue; }
            string F(string name) => fields[header.IndexOf(name)].Trim();
            var before = problems.Count;
            if (!long.TryParse(F("draw_id"), NumberStyles.None, CultureInfo.InvariantCulture, out var drawId) || drawId <= 0)
                problems.Add($"{fileName}:{line}: draw_id: '{F("draw_id")}' is not a draw number");
            var uscc = Registers.Uscc.Normalize(F("uscc"));
            if (Registers.Uscc.Problem(uscc) is { } usccProblem) problems.Add($"{fileName}:{line}: uscc: {usccProblem}");
            if (!DateOnly.TryParseExact(F("completed_on"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var completed))
                problems.Add($"{fileName}:{line}: completed_on: '{F("completed_on")}' is not a date YYYY-MM-DD");
            var finding = F("finding");
            if (!Findings.Contains(finding)) problems.Add($"{fileName}:{line}: finding: '{finding}' is not one of {string.Join("/", Findings)}");
            var summary = F("summary");
            if (summary.Length is 0 or > 2000) problems.Add($"{fileName}:{line}: summary: 1-2000 characters expected");
            if (problems.Count == before && !seen.Add((drawId, uscc))) problems.Add($"{fileName}:{line}: draw {drawId}, uscc {uscc} appears twice in the file");
            if (problems.Count == before) rows.Add(new ResultRow(drawId, uscc, completed, finding, summary) { Line = line });
        }
        if (problems.Count > 0) throw new BadInputException(problems);
        return rows;
    }

    /// <summary>
    /// Checks the rows against the draws (drawn employer of a standing draw, completed on or after the
    /// draw and not in the future) and upserts them. Returns how many rows changed.
    /// </summary>
    public Task<int> ImportAsync(string fileName, IReadOnlyList<ResultRow> rows, bool dryRun, CancellationToken ct) =>
        work.RunAsync("inspection-results.import", async uow =>
        {
            await uow.ExecuteAsync("CREATE TEMP TABLE results_in (line integer, draw_id bigint, uscc text, completed_on date, finding text, summary text) ON COMMIT DROP");
            await using (var w = await uow.Connection.BeginBinaryImportAsync("COPY results_in FROM STDIN (FORMAT BINARY)", ct))
            {
                foreach (var r in rows)
                {
                    await w.StartRowAsync(ct);
                    await w.WriteAsync(r.Line, NpgsqlDbType.Integer, ct);
                    await w.WriteAsync(r.DrawId, NpgsqlDbType.Bigint, ct);
                    await w.WriteAsync(r.Uscc, NpgsqlDbType.Text, ct);
                    await w.WriteAsync(r.CompletedOn, NpgsqlDbType.Date, ct);
                    await w.WriteAsync(r.Finding, NpgsqlDbType.Text, ct);
                    await w.WriteAsync(r.Summary, NpgsqlDbType.Text, ct);
                }
                await w.CompleteAsync(ct);
            }
            var problems = await uow.ListAsync<string>(
                $"""
                SELECT format('%s:%s: %s', @fileName, i.line,
                       CASE WHEN d.id IS NULL THEN format('draw_id: no draw %s', i.draw_id)
                            WHEN NOT {PlanLifecycle.Standing("d")} THEN format('draw_id: draw %s is cancelled', i.draw_id)
                            WHEN r.uscc IS NULL THEN format('uscc: %s was not drawn in draw %s', i.uscc, i.draw_id)
                            WHEN i.completed_on < d.draw_date THEN format('completed_on: %s is before the draw date %s', i.completed_on, d.draw_date)
                            ELSE format('completed_on: %s is in the future', i.completed_on) END)
                FROM results_in i
                LEFT JOIN app.draws d ON d.id = i.draw_id
                LEFT JOIN app.draw_results r ON r.draw_id = d.id AND r.uscc = i.uscc
                WHERE d.id IS NULL OR NOT {PlanLifecycle.Standing("d")} OR r.uscc IS NULL OR i.completed_on < d.draw_date OR i.completed_on > @today
                ORDER BY i.line
                """, new { fileName, today = clock.Today });
            if (problems.Count > 0) throw new BadInputException(problems);
            if (dryRun) return 0;
            var changed = await uow.ExecuteAsync(
                """
                INSERT INTO app.inspection_results (draw_id, uscc, completed_on, finding, summary, updated_by)
                SELECT draw_id, uscc, completed_on, finding, summary, @actor FROM results_in
                ON CONFLICT (draw_id, uscc) DO UPDATE
                   SET completed_on = EXCLUDED.completed_on, finding = EXCLUDED.finding, summary = EXCLUDED.summary,
                       updated_by = EXCLUDED.updated_by, updated_at = now()
                 WHERE (inspection_results.completed_on, inspection_results.finding, inspection_results.summary)
                       IS DISTINCT FROM (EXCLUDED.completed_on, EXCLUDED.finding, EXCLUDED.summary)
                """, new { actor = uow.Acting.Actor });
            await uow.AuditAsync("inspection-results.import", "file", Path.GetFileName(fileName), details: $"{rows.Count} row(s), {changed} changed");
            return changed;
        }, ct);

    /// <summary>
    /// Records publication (公示) of every completed, unpublished result of a standing draw, as the acting
    /// person; returns how many.
    /// </summary>
    public Task<int> MarkPublishedAsync(long drawId, CancellationToken ct) =>
        work.RunAsync("inspection-results.publish", async uow =>
        {
            var draw = await PlanLifecycle.LoadDrawAsync(uow, drawId);
            if (!PlanLifecycle.Table.Allows(PlanVerb.Publish, draw.State))
                throw new DomainRuleException($"draw {drawId} is cancelled; its results are not published / 摇号 {drawId} 已撤销,不能登记公示");
            var n = await uow.ExecuteAsync(
                "UPDATE app.inspection_results SET published_on = @today, updated_by = @actor, updated_at = now() WHERE draw_id = @drawId AND published_on IS NULL",
                new { drawId, today = clock.Today, actor = uow.Acting.Actor });
            await uow.AuditAsync("inspection-results.publish", "draw", drawId.ToString(CultureInfo.InvariantCulture), details: $"{n} result(s)");
            return n;
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });

    /// <summary>The public list of a draw: every drawn employer, with its result when reported.</summary>
    public Task<List<PublicResult>> PublicListAsync(long drawId, CancellationToken ct) =>
        work.RunAsync("inspection-results.public", uow => uow.ListAsync<PublicResult>(
            """
            SELECT r.position, e.name AS EmployerName, r.uscc, p.name AS PlanName, p.period, d.draw_date AS DrawDay,
                   x.completed_on AS CompletedOn, x.finding, x.summary
            FROM app.draw_results r
            JOIN app.draws d ON d.id = r.draw_id
            JOIN app.inspection_plans p ON p.id = d.plan_id
            LEFT JOIN app.employers e ON e.uscc = r.uscc
            LEFT JOIN app.inspection_results x ON x.draw_id = r.draw_id AND x.uscc = r.uscc
            WHERE r.draw_id = @drawId
            ORDER BY r.position
            """, new { drawId }), ct);

    /// <summary>The slice's endpoints: import a results file, record publication (inspection and admin users).</summary>
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/results", ImportResults).RequireAuthorization(Policies.Inspection);
        g.MapPost("/{drawId:long}/publish", Publish).RequireAuthorization(Policies.Inspection);
    }

    private static async Task<IResult> ImportResults(HttpContext ctx, InspectionResults results, InspectionsView view, CancellationToken ct)
    {
        if (!DrawsPage.CanChange(ctx)) return DrawsPage.Forbidden(ctx);
        var file = (await DrawsPage.FormAsync(ctx)).Files["file"];
        if (file is null || file.Length == 0) return await DrawsPage.IndexAsync(ctx, view, ct, error: "请选择要导入的 CSV 文件。");
        var name = Path.GetFileName(file.FileName);
        try
        {
            using var reader = new StreamReader(file.OpenReadStream(), new UTF8Encoding(false, true), detectEncodingFromByteOrderMarks: true);
            var rows = Parse(name, reader);
            int changed;
            using (DrawsPage.ActingAs(ctx)) changed = await results.ImportAsync(name, rows, dryRun: false, ct);
            return await DrawsPage.IndexAsync(ctx, view, ct, message: $"已导入 {rows.Count} 行,其中 {changed} 行有变化。");
        }
        catch (BadInputException e)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: "未导入任何数据:" + string.Join(";", e.Problems.Take(50)));
        }
        catch (DecoderFallbackException)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: "未导入任何数据:文件不是 UTF-8 编码,请另存为 UTF-8 或使用命令行 --encoding gb18030。");
        }
    }

    private static async Task<IResult> Publish(HttpContext ctx, long drawId, InspectionResults results, InspectionsView view, CancellationToken ct)
    {
        if (!DrawsPage.CanChange(ctx)) return DrawsPage.Forbidden(ctx);
        try
        {
            using (DrawsPage.ActingAs(ctx)) await results.MarkPublishedAsync(drawId, ct);
        }
        catch (DomainRuleException e)
        {
            return await DrawsPage.IndexAsync(ctx, view, ct, error: DrawsPage.Zh(e));
        }
        return Results.Redirect($"{DrawsPage.Base}/{drawId}");
    }

    /// <summary>The public list as CSV: UTF-8 with BOM (Excel), every cell neutralised against formula injection.</summary>
    public static byte[] PublicCsv(IReadOnlyList<PublicResult> list)
    {
        var sb = new StringBuilder();
        Csv.WriteRow(sb, ["序号", "单位名称", "统一社会信用代码", "抽查计划", "抽查期间", "摇号日期", "检查完成日期", "检查结果", "处理情况"]);
        foreach (var r in list)
            Csv.WriteRow(sb, [
                r.Position.ToString(CultureInfo.InvariantCulture), SpreadsheetText.Neutralise(r.EmployerName ?? ""), SpreadsheetText.Neutralise(r.Uscc), SpreadsheetText.Neutralise(r.PlanName), r.Period,
                r.DrawDay.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), r.CompletedOn?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) ?? "",
                FindingZh(r.Finding), SpreadsheetText.Neutralise(r.Summary ?? "")]);
        return [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(sb.ToString())];
    }

}

public sealed class InspectionResultsImportCommand(InspectionResults results) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "inspection-results import",
        "load inspection results (draw_id, uscc, completed_on, finding, summary) / 导入检查结果",
        """
        usage: Lingyuan.Jobs inspection-results import FILE [--encoding utf-8|gb18030] [--dry-run] [--user NAME]
        用法:  Lingyuan.Jobs inspection-results import 文件 [--encoding utf-8|gb18030] [--dry-run]
        Columns: draw_id, uscc, completed_on (YYYY-MM-DD), finding (compliant/violation/rectification_ordered), summary.
        All or nothing: any bad row → exit 65, one line per problem, nothing changed. Re-importing changes nothing.
        列:摇号编号、统一社会信用代码、完成日期、检查结论、处理情况。任何一行有误则全部不导入(退出码 65)。
        """,
        ValueOptions: ["encoding", "user"],
        Flags: ["dry-run"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var file = args.Positional(0, "FILE");
        args.ExpectPositionals(1);
        if (!File.Exists(file)) throw new BadInputException($"{file}: no such file / 文件不存在");
        Encoding encoding;
        switch (args.Option("encoding") ?? "utf-8")
        {
            case "utf-8": encoding = new UTF8Encoding(false, true); break;
            case "gb18030":
                Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
                encoding = Encoding.GetEncoding("GB18030", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
                break;
            default: throw new UsageException("--encoding must be utf-8 or gb18030 / 编码应为 utf-8 或 gb18030");
        }
        List<ResultRow> rows;
        try
        {
            using var reader = new StreamReader(file, encoding, detectEncodingFromByteOrderMarks: true);
            rows = InspectionResults.Parse(Path.GetFileName(file), reader);
        }
        catch (DecoderFallbackException) { throw new BadInputException($"{Path.GetFileName(file)}: not valid {args.Option("encoding") ?? "utf-8"} text (try --encoding gb18030) / 文件编码不符"); }
        int changed;
        using (CliActor.Begin(args)) changed = await results.ImportAsync(Path.GetFileName(file), rows, args.Flag("dry-run"), ct);
        Console.WriteLine(args.Flag("dry-run")
            ? $"{rows.Count} row(s) valid; nothing written (--dry-run) / 校验通过,未写入"
            : $"{rows.Count} row(s) read, {changed} changed / 已导入");
        return ExitCodes.Ok;
    }
}
