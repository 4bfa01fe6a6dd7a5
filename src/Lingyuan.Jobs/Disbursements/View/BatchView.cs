using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Disbursements;

public sealed record BenefitTotal(string Benefit, long Count, long Total);
public sealed record BatchBenefitTotal(long BatchId, string Benefit, long Count, long Total);
public sealed record ReasonTotal(string Reason, long Count, long Total);
public sealed record KindTotal(string Kind, long Count, long Total);
public sealed record BenefitKindTotal(string Benefit, string Kind, long Count, long Total);
public sealed record ChangeRow(string What, string IdNumber, string? Name, string Benefit, long? PrevFen, long? CurFen);
public sealed record RecoveryRow(long LineId, string IdNumber, DateOnly DeathDate, long AmountFen);
public sealed record AmountChangeRow(long LineId, string IdNumber, string? Name, string Benefit, long? BasisFen, long AmountFen, string? ReleasedBy, string? Reason, DateTime? ReleasedAt);
/// <summary>A line of the batch; <c>Outcome</c> is the bank's answer (paid, failed) when one is recorded and asked for.</summary>
public sealed record LineRow(long Id, string Kind, string IdNumber, string? Name, string Benefit, DateOnly Period, long AmountFen, string Status, string? HoldReason, string? BankAccount, long? RefersTo, string? Outcome);

/// <summary>A payment the bank returned as failed (退票), and the batch that re-issues it, once one does.</summary>
public sealed record FailedLineRow(long LineId, string IdNumber, string? Name, string Benefit, long AmountFen,
    string? FailureCode, string? FailureReason, long? ReissuedIn);

/// <summary>What the bank's return files said of a batch: the failed payments (the first <see cref="BatchView.FailedListed"/> listed).</summary>
public sealed record BatchOutcomes(long FailedCount, long FailedFen, List<FailedLineRow> Failed);

/// <summary>What the batch page shows of one batch.</summary>
public sealed record BatchDetail(
    BatchHeader Header, List<BenefitTotal> Benefits, List<ReasonTotal> Held, List<KindTotal> Kinds, List<ChangeRow> Changes,
    List<RecoveryRow> Recoveries, List<LineRow> Lines, int PageNo, bool HasNext, List<AmountChangeRow> AmountChanges,
    BatchOutcomes? Outcomes);

/// <summary>The XLSX summary's content.</summary>
public sealed record BatchSummary(BatchHeader Header, List<BenefitKindTotal> Benefits, List<LineRow> Held, List<FailedLineRow> Failed);

/// <summary>
/// The View slice: the queries of <c>/hangfire/batches</c> (finance) and its read-only endpoints; the page
/// file (<see cref="BatchesPage"/>) renders what these return.
/// </summary>
public sealed partial class BatchView(Work work)
{
    public const int PageSize = 50;

    // One read-only transaction for a page's queries: JIT off (compiling the aggregates over a million lines
    // cost more than running them: 0.68 s against 0.28 s for the held lines) and room for the month-to-month join.
    private static readonly WorkOptions PageWork = new() { Settings = ["jit = off", "work_mem = '64MB'"], CommandTimeout = 0 };

    public Task<(List<BatchHeader> Batches, ILookup<long, BatchBenefitTotal> ByBenefit)> ListAsync(CancellationToken ct) =>
        work.RunAsync("batches page", async uow =>
        {
            var batches = await BatchLifecycle.LatestAsync(uow, 120);
            // Kept by the lines' insert trigger (migration 0080): a few rows a batch, however many lines.
            var byBenefit = (await uow.ListAsync<BatchBenefitTotal>(
                """
                SELECT batch_id AS BatchId, benefit AS Benefit, payable_count AS Count, payable_total_fen AS Total
                FROM app.disbursement_batch_benefits
                WHERE batch_id = ANY(@ids)
                ORDER BY batch_id, benefit
                """, new { ids = batches.Select(b => b.Id).ToArray() })).ToLookup(x => x.BatchId);
            return (batches, byBenefit);
        }, ct);

    public Task<BatchDetail?> DetailAsync(long id, string? q, string? status, string? reason, int pageNo, CancellationToken ct) =>
        work.RunAsync("batch page", async uow =>
        {
            var b = await BatchLifecycle.FindAsync(uow, id);
            if (b is null) return null;
            var benefits = await uow.ListAsync<BenefitTotal>(
                "SELECT benefit AS Benefit, payable_count AS Count, payable_total_fen AS Total FROM app.disbursement_batch_benefits WHERE batch_id = @id ORDER BY benefit",
                new { id });
            var held = await uow.ListAsync<ReasonTotal>(
                "SELECT hold_reason AS Reason, count(*) AS Count, sum(amount_fen)::bigint AS Total FROM app.disbursement_lines WHERE batch_id = @id AND status = 'held' GROUP BY hold_reason ORDER BY count(*) DESC",
                new { id });
            var kinds = await uow.ListAsync<KindTotal>(
                "SELECT kind AS Kind, count(*) AS Count, sum(amount_fen)::bigint AS Total FROM app.disbursement_lines WHERE batch_id = @id AND status = 'payable' GROUP BY kind ORDER BY kind",
                new { id });
            var changes = await ChangesAsync(uow, id, b.Period);
            var recoveries = await uow.ListAsync<RecoveryRow>(
                """
                SELECT r.line_id AS LineId, r.id_number AS IdNumber, r.death_date AS DeathDate, r.amount_fen AS AmountFen FROM app.disbursement_recoveries r
                JOIN app.disbursement_lines l ON l.id = r.line_id WHERE l.batch_id = @id ORDER BY r.line_id LIMIT 200
                """, new { id });

            // Amount changes held in this batch, with their releases (DOMAIN.md §2: a person releases them).
            var amountChanges = await uow.ListAsync<AmountChangeRow>(
                """
                SELECT l.id AS LineId, l.id_number AS IdNumber, l.account_name AS Name, l.benefit AS Benefit, l.basis_fen AS BasisFen,
                       l.amount_fen AS AmountFen, r.released_by AS ReleasedBy, r.reason AS Reason, r.released_at AS ReleasedAt
                FROM app.disbursement_lines l LEFT JOIN app.disbursement_hold_releases r ON r.line_id = l.id
                WHERE l.batch_id = @id AND l.status = 'held' AND l.hold_reason = @code
                ORDER BY l.id LIMIT 200
                """, new { id, code = HoldReasons.AmountChange.Code });

            var (where, args) = LineFilter(id, q, status, reason);
            args.Add("offset", (pageNo - 1) * PageSize);
            args.Add("limit", PageSize + 1);
            var lines = await uow.ListAsync<LineRow>($"{LineSelect(withOutcome: true)} WHERE {where} ORDER BY id OFFSET @offset LIMIT @limit", args);
            var hasNext = lines.Count > PageSize;
            if (hasNext) lines.RemoveAt(PageSize);
            var outcomes = b.OutcomeCount == 0 ? null : await OutcomesAsync(uow, id, FailedListed);
            return new BatchDetail(b, benefits, held, kinds, changes, recoveries, lines, pageNo, hasNext, amountChanges, outcomes);
        }, ct, PageWork with { RecordId = BatchLifecycle.Id(id) });

    public Task<BatchSummary?> SummaryAsync(long id, CancellationToken ct) =>
        work.RunAsync("batch summary", async uow =>
        {
            var b = await BatchLifecycle.FindAsync(uow, id);
            if (b is null) return null;
            var benefits = await uow.ListAsync<BenefitKindTotal>(
                "SELECT benefit AS Benefit, kind AS Kind, count(*) AS Count, sum(amount_fen)::bigint AS Total FROM app.disbursement_lines WHERE batch_id = @id AND status = 'payable' GROUP BY benefit, kind ORDER BY benefit, kind",
                new { id });
            var held = await uow.ListAsync<LineRow>($"{LineSelect(withOutcome: false)} WHERE batch_id = @id AND status = 'held' ORDER BY id LIMIT 100000", new { id });
            var failed = b.OutcomeCount == 0 ? [] : (await OutcomesAsync(uow, id, 100_000)).Failed;
            return new BatchSummary(b, benefits, held, failed);
        }, ct, new WorkOptions { RecordId = BatchLifecycle.Id(id), CommandTimeout = 0 });

    /// <summary>
    /// The months a finance user may still build (the batches page's catch-up list): every month without a live
    /// batch from the earliest entitlement's start (not before <c>Disbursements:FirstPeriod</c> when set) up to
    /// <paramref name="current"/>, oldest first.
    /// </summary>
    public Task<List<Period>> CatchUpAsync(Period current, Period? configuredFirst, Period latestDue, CancellationToken ct) =>
        work.RunAsync("batches catch-up", async uow =>
        {
            var earliest = await uow.ScalarAsync<DateOnly?>("SELECT min(start_period) FROM app.entitlements");
            if (earliest is null) return [];
            var first = Period.Of(earliest.Value);
            var owed = await BatchBuilder.FirstOwedAsync(uow, configuredFirst, latestDue);
            if (owed > first) first = owed;
            if (first > current) return [];
            var live = (await uow.ListAsync<string>(
                $"SELECT to_char(period, 'YYYY-MM') FROM app.disbursement_batches WHERE {BatchLifecycle.LiveSql()} AND period BETWEEN @from AND @to",
                new { from = first.FirstDay, to = current.FirstDay })).ToHashSet();
            var missing = new List<Period>();
            for (var p = first; p <= current; p = p.Next())
                if (!live.Contains(p.ToString())) missing.Add(p);
            return missing;
        }, ct);

    /// <summary>What approval will freeze, counted from the lines as the approval counts them: the confirmation page shows it.</summary>
    public Task<(BatchHeader Header, long Count, long TotalFen)?> ApprovalFiguresAsync(long id, CancellationToken ct) =>
        work.RunAsync<(BatchHeader, long, long)?>("batch approval figures", async uow =>
        {
            var b = await BatchLifecycle.FindAsync(uow, id);
            if (b is null) return null;
            var (count, total) = await uow.SingleAsync<(long, long)>(
                "SELECT count(*), coalesce(sum(amount_fen), 0)::bigint FROM app.disbursement_lines WHERE batch_id = @id AND status = 'payable'",
                new { id });
            return (b, count, total);
        }, ct, PageWork with { RecordId = BatchLifecycle.Id(id) });

    /// <summary>The home page's counts: batches waiting to be submitted, waiting for approval (all, and those another person submitted).</summary>
    public Task<(long Drafts, long Submitted, long SubmittedByOthers)> WaitingAsync(string user, CancellationToken ct) =>
        work.RunAsync("batches waiting", uow => uow.SingleAsync<(long, long, long)>(
            $"""
            SELECT count(*) FILTER (WHERE {BatchLifecycle.InSql(BatchState.Draft)}),
                   count(*) FILTER (WHERE {BatchLifecycle.InSql(BatchState.Submitted)}),
                   count(*) FILTER (WHERE {BatchLifecycle.InSql(BatchState.Submitted)} AND submitted_by IS DISTINCT FROM @user)
            FROM app.disbursement_batches
            """, new { user }), ct);

    /// <summary>Failed payments listed on the batch page; the XLSX summary lists them all.</summary>
    public const int FailedListed = 200;

    /// <summary>
    /// The failed outcomes of a batch, from the partial index of failed outcomes within the batch's line ids (a
    /// few rows, however many lines), with the batch of each one's re-issue (a later line referring to it).
    /// </summary>
    private static async Task<BatchOutcomes> OutcomesAsync(UnitOfWork uow, long id, int limit)
    {
        var failedOfBatch = $"o.status = 'failed' AND o.batch_id = @id AND o.line_id {BatchLineRange.Between(id)}";
        var (count, fen) = await uow.SingleAsync<(long, long)>(
            $"SELECT count(*), coalesce(sum(o.amount_fen), 0)::bigint FROM app.disbursement_outcomes o WHERE {failedOfBatch}", new { id });
        var failed = count == 0 ? [] : await uow.ListAsync<FailedLineRow>(
            $"""
            SELECT o.line_id AS LineId, l.id_number AS IdNumber, l.account_name AS Name, l.benefit AS Benefit, o.amount_fen AS AmountFen,
                   o.failure_code AS FailureCode, o.failure_reason AS FailureReason,
                   (SELECT r.batch_id FROM app.disbursement_lines r
                    WHERE r.refers_to = o.line_id AND r.kind = 'reissue' AND NOT r.released ORDER BY r.id LIMIT 1) AS ReissuedIn
            FROM app.disbursement_outcomes o JOIN app.disbursement_lines l ON l.id = o.line_id
            WHERE {failedOfBatch}
            ORDER BY o.line_id LIMIT @limit
            """, new { id, limit });
        return new BatchOutcomes(count, fen, failed);
    }

    // The page's fifty lines look their outcome up one by one on its primary key; held lines never have one.
    private static string LineSelect(bool withOutcome) => $"""
        SELECT id AS Id, kind AS Kind, id_number AS IdNumber, account_name AS Name, benefit AS Benefit, period AS Period,
               amount_fen AS AmountFen, status AS Status, hold_reason AS HoldReason, bank_account AS BankAccount, refers_to AS RefersTo,
               {(withOutcome ? "(SELECT o.status FROM app.disbursement_outcomes o WHERE o.line_id = l.id)" : "NULL::text")} AS Outcome
        FROM app.disbursement_lines l
        """;

    private static (string Where, DynamicParameters Args) LineFilter(long id, string? q, string? status, string? reason)
    {
        var args = new DynamicParameters();
        args.Add("id", id);
        var where = "batch_id = @id";
        if (status is "payable" or "held") { where += " AND status = @status"; args.Add("status", status); }
        if (!string.IsNullOrEmpty(reason)) { where += " AND hold_reason = @reason"; args.Add("reason", reason); }
        q = q?.Trim();
        if (!string.IsNullOrEmpty(q))
        {
            var masked = MaskedId().Match(q.ToUpperInvariant());
            if (masked.Success)
            {
                where += " AND id_number LIKE @idPattern";
                args.Add("idPattern", masked.Groups[1].Value + "%" + masked.Groups[2].Value);
            }
            else
            {
                where += " AND account_name LIKE @namePattern ESCAPE '\\'";
                args.Add("namePattern", "%" + q.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%");
            }
        }
        return (where, args);
    }

    // A full ID number, or the masked form 211382********123X (stars for any hidden digits).
    [GeneratedRegex(@"^([0-9]{6})(?:[0-9]{8}|\*+)([0-9]{3}[0-9X])$")]
    private static partial Regex MaskedId();

    /// <summary>
    /// New, stopped and changed amounts against last month's live batch. Last month's batch is found first, so both
    /// sides are read on the batch index (joined to the batches, last month's lines were found by scanning every
    /// line ever built: 2.5 s a view with seven months of 1,000,000 lines, and growing); JIT off (its compilation cost
    /// ~0.2 s a view) and enough memory for the hash join of two months (it spilled in 16 batches): see PageWork.
    /// </summary>
    private static async Task<List<ChangeRow>> ChangesAsync(UnitOfWork uow, long id, Period period)
    {
        var prevId = await BatchLifecycle.LiveBatchOfAsync(uow, Period.Of(period.FirstDay.AddMonths(-1)));
        if (prevId is null) return [];
        return await uow.ListAsync<ChangeRow>(ChangesSql, new { id, prevId });
    }

    private const string ChangesSql = """
        WITH cur AS (
            SELECT id_number, benefit, amount_fen, account_name FROM app.disbursement_lines WHERE batch_id = @id AND kind = 'regular'
        ),
        prev AS (
            SELECT id_number, benefit, amount_fen, account_name FROM app.disbursement_lines WHERE batch_id = @prevId AND kind = 'regular'
        )
        SELECT CASE WHEN p.id_number IS NULL THEN 'new' WHEN c.id_number IS NULL THEN 'stopped' ELSE 'changed' END AS What,
               coalesce(c.id_number, p.id_number) AS IdNumber, coalesce(c.account_name, p.account_name) AS Name,
               coalesce(c.benefit, p.benefit) AS Benefit, p.amount_fen AS PrevFen, c.amount_fen AS CurFen
        FROM cur c FULL JOIN prev p ON p.id_number = c.id_number AND p.benefit = c.benefit
        WHERE EXISTS (SELECT 1 FROM app.disbursement_lines x WHERE x.batch_id = @prevId) AND (p.id_number IS NULL OR c.id_number IS NULL OR p.amount_fen <> c.amount_fen)
        ORDER BY 1, 2
        LIMIT 5000
        """;

    /// <summary>The page's read-only endpoints (finance).</summary>
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapGet("", async (HttpContext ctx, BatchView view, BatchBuilder builder, IOptions<DisbursementOptions> options, Calendar.BureauClock clock, string? requested, CancellationToken ct) =>
        {
            var (batches, byBenefit) = await view.ListAsync(ct);
            var current = clock.CurrentPeriod;
            var catchUp = await view.CatchUpAsync(current, options.Value.GetFirstPeriod(), builder.LatestDuePeriod(), ct);
            return BatchesPage.List(ctx, options.Value.BuildDay, batches, byBenefit, catchUp, current, Period.TryParse(requested, out var r) ? r : null);
        });
        g.MapGet("/{id:long}/approve", async (HttpContext ctx, long id, BatchView view, CancellationToken ct) =>
            await view.ApprovalFiguresAsync(id, ct) is { } f ? BatchesPage.ConfirmApproval(ctx, f.Header, f.Count, f.TotalFen) : BatchesPage.Missing(ctx, id));
        g.MapGet("/{id:long}", async (HttpContext ctx, long id, BatchView view, string? q, string? status, string? reason, int? page, CancellationToken ct) =>
        {
            var pageNo = Math.Clamp(page ?? 1, 1, RequestSafety.MaxPageNumber);
            var detail = await view.DetailAsync(id, q, status, reason, pageNo, ct);
            return detail is null ? BatchesPage.Missing(ctx, id) : BatchesPage.Detail(ctx, detail, q, status, reason);
        });
        g.MapGet("/{id:long}/summary.xlsx", async (long id, BatchView view, CancellationToken ct) =>
            await view.SummaryAsync(id, ct) is { } summary ? await BatchesPage.SummaryXlsxAsync(summary, ct) : Results.NotFound());
    }
}
