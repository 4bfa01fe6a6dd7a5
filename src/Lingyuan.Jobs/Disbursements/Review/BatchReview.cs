using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// The Review slice (DOMAIN.md §2): draft → submitted → approved by another finance user, or rejected with a
/// reason (its lines are released so the period is built again). Each step is one unit of work: the reviewer's
/// role, the batch locked and checked against <see cref="BatchLifecycle"/>, the conditional update, its audit
/// record (as the acting person) and its mail.
/// </summary>
public sealed class BatchReview(Work work, IOptions<DisbursementOptions> options)
{
    public Task SubmitAsync(long batchId, string user, CancellationToken ct) =>
        ActAsync("batch submit", batchId, user, BatchVerb.Submit, async (uow, b) =>
        {
            var move = await BatchLifecycle.MoveAsync(uow, b, BatchVerb.Submit, ", submitted_by = @user, submitted_at = now()", new { user });
            await uow.AuditAsync("disbursement.submit", "disbursement_batch", BatchLifecycle.Id(batchId),
                before: new { state = Db(b.State) }, after: new { state = Db(move.To), submitted_by = user });
            await Notices.AwaitingReviewAsync(uow, options.Value, batchId, b.Period, move.To, b.PayableCount, b.PayableTotalFen, b.HeldCount, exclude: user);
            return b with { State = move.To, SubmittedBy = user };
        }, ct);

    /// <summary>Freezes the batch: line count, total and the SHA-256 of its bank-file lines are stored.</summary>
    /// <remarks>
    /// From the dashboard, <paramref name="confirmed"/> is what the person confirmed on the confirmation page (line
    /// count and total); the approval is refused unless it is exactly what would be frozen now.
    /// </remarks>
    public Task<BatchHeader> ApproveAsync(long batchId, string user, CancellationToken ct, ApprovalConfirmation? confirmed = null) =>
        ActAsync("batch approve", batchId, user, BatchVerb.Approve, async (uow, b) =>
        {
            BatchLifecycle.Table.Require(BatchVerb.Approve, b.State, BatchLifecycle.Id(batchId));
            if (string.Equals(b.SubmittedBy, user, StringComparison.Ordinal))
                throw BatchLifecycle.Forbidden($"four eyes: {user} submitted batch {batchId} and cannot approve it; another finance user must / 双人复核:提交人 {user} 不能审批自己提交的批次,须由另一名财务人员审批");
            var (count, total) = await uow.SingleAsync<(long, long)>(
                "SELECT count(*), coalesce(sum(amount_fen), 0)::bigint FROM app.disbursement_lines WHERE batch_id = @batchId AND status = 'payable'",
                new { batchId });
            if (confirmed is not null && (confirmed.Count != count || confirmed.TotalFen != total))
                throw new DomainRuleException(confirmed.Count is null || confirmed.TotalFen is null
                    ? $"approving batch {batchId} needs the confirmation of its period, line count and total / 审批前须在确认页面核对期别、笔数和金额并勾选确认"
                    : $"batch {batchId} now has {count} lines and {total} fen, not the confirmed {confirmed.Count} and {confirmed.TotalFen} / 批次笔数或金额与确认时不一致,请重新核对");
            var sha = await BankLines.HashAsync(uow, batchId);
            var move = await BatchLifecycle.MoveAsync(uow, b, BatchVerb.Approve,
                ", decided_by = @user, decided_at = now(), approved_line_count = @count, approved_total_fen = @total, approved_sha256 = @sha",
                new { user, count, total, sha });
            await uow.AuditAsync("disbursement.approve", "disbursement_batch", BatchLifecycle.Id(batchId),
                before: new { state = Db(b.State) }, after: new { state = Db(move.To), decided_by = user, line_count = count, total_fen = total, sha256 = sha });
            await Notices.DecidedAsync(uow, batchId, b.Period, move.To, b.SubmittedBy!, user, null);
            return b with { State = move.To, DecidedBy = user, ApprovedLineCount = count, ApprovedTotalFen = total, ApprovedSha256 = sha };
        }, ct);

    /// <summary>Rejects a draft or submitted batch; its lines stop counting, so the period can be built again.</summary>
    public Task RejectAsync(long batchId, string user, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new UsageException("a rejection needs a reason (--reason) / 退回必须填写原因");
        reason = TextRules.SingleLine(reason, "reason", "退回原因", TextRules.ReasonMaxLength);
        return ActAsync("batch reject", batchId, user, BatchVerb.Reject, async (uow, b) =>
        {
            BatchLifecycle.Table.Require(BatchVerb.Reject, b.State, BatchLifecycle.Id(batchId));
            await uow.ExecuteAsync("UPDATE app.disbursement_lines SET released = true WHERE batch_id = @batchId AND NOT released", new { batchId }, timeout: 0);
            var move = await BatchLifecycle.MoveAsync(uow, b, BatchVerb.Reject, ", decided_by = @user, decided_at = now(), reject_reason = @reason", new { user, reason });
            await uow.AuditAsync("disbursement.reject", "disbursement_batch", BatchLifecycle.Id(batchId),
                before: new { state = Db(b.State) }, after: new { state = Db(move.To), decided_by = user }, details: reason);
            if (b.SubmittedBy is not null)
                await Notices.DecidedAsync(uow, batchId, b.Period, move.To, b.SubmittedBy, user, reason);
            return b with { State = move.To };
        }, ct);
    }

    // The sequence every review step shares: as the reviewer, in one unit of work, the reviewer's role checked
    // against the move, then the batch locked.
    private async Task<BatchHeader> ActAsync(string use, long batchId, string user, BatchVerb verb, Func<UnitOfWork, BatchHeader, Task<BatchHeader>> body, CancellationToken ct)
    {
        using var acting = Acting.Begin(Acting.Current with { Actor = user });
        return await work.RunAsync(use, async uow =>
        {
            await RequireReviewerAsync(uow, user, verb);
            return await body(uow, await BatchLifecycle.LockAsync(uow, batchId));
        }, ct, new WorkOptions { RecordId = BatchLifecycle.Id(batchId) });
    }

    private static async Task RequireReviewerAsync(UnitOfWork uow, string user, BatchVerb verb)
    {
        var role = await uow.ScalarAsync<string?>("SELECT role FROM app.users WHERE name = @user AND NOT disabled", new { user });
        if (role is null || !BatchLifecycle.Table.MoveOf(verb).Roles.Contains(role))
            throw BatchLifecycle.Forbidden(role is null
                ? $"no enabled account '{user}' / 账号 '{user}' 不存在或已停用"
                : $"account '{user}' has role {role}; reviewing batches needs finance or admin / 账号 '{user}' 无财务审核权限");
    }

    private static string Db(BatchState s) => BatchLifecycle.Table.Db(s);

    /// <summary>The review forms' endpoints (finance; the antiforgery token is checked).</summary>
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/{id:long}/submit", (HttpContext ctx, long id, BatchReview r) =>
            ActEndpointAsync(ctx, id, (user, _, ct) => r.SubmitAsync(id, user, ct)));
        g.MapPost("/{id:long}/approve", (HttpContext ctx, long id, BatchReview r) =>
            ActEndpointAsync(ctx, id, (user, form, ct) => r.ApproveAsync(id, user, ct, ApprovalConfirmation.From(form))));
        g.MapPost("/{id:long}/reject", (HttpContext ctx, long id, BatchReview r) =>
            ActEndpointAsync(ctx, id, (user, form, ct) => r.RejectAsync(id, user, form["reason"].ToString(), ct)));
    }

    private static async Task<IResult> ActEndpointAsync(HttpContext ctx, long id, Func<string, IFormCollection, CancellationToken, Task> act)
    {
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        if (await BatchesPage.ValidAntiforgeryAsync(ctx) is { } bad) return bad;
        var user = BatchesPage.UserName(ctx);
        try
        {
            using (Acting.Begin(new Acting(user, Acting.Web)))
                await act(user, form, ctx.RequestAborted);
        }
        catch (Exception ex) when (ex is DomainRuleException or UsageException or BadInputException)
        {
            var status = ex.Data.Contains(BatchLifecycle.ForbiddenKey) ? StatusCodes.Status403Forbidden
                : ex is BadInputException ? StatusCodes.Status400BadRequest : StatusCodes.Status409Conflict;
            return BatchesPage.Refused(ctx, id, ex.Message, status);
        }
        return Results.Redirect($"/hangfire/batches/{id}", permanent: false, preserveMethod: false);
    }
}

/// <summary>What a person confirmed on the approval's confirmation page: the line count and total (fen) it showed; null when not confirmed.</summary>
public sealed record ApprovalConfirmation(long? Count, long? TotalFen)
{
    public static ApprovalConfirmation From(IFormCollection form) =>
        form["confirm"] != "on" ? new(null, null)
        : new(long.TryParse(form["confirmed_count"].ToString(), out var c) ? c : null, long.TryParse(form["confirmed_total_fen"].ToString(), out var t) ? t : null);
}

public sealed class BatchSubmitCommand(BatchReview review, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch submit",
        "submit a draft batch for approval / 提交发放批次待审批",
        """
        usage: Lingyuan.Jobs batch submit BATCH_ID --user NAME
        用法:  Lingyuan.Jobs batch submit 批次编号 --user 用户名
        NAME is a finance (or admin) account; it becomes the batch's preparer, who cannot approve it.
        用户须为财务审核(或管理员)账号,提交人即制单人,不能审批本批次。
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        var user = await identity.ProveAsync(args, ct);
        using (Acting.Begin(new Acting(user, Acting.Cli)))
            await review.SubmitAsync(id, user, ct);
        Console.WriteLine($"batch {id} submitted / 批次 {id} 已提交");
        return ExitCodes.Ok;
    }
}

public sealed class BatchApproveCommand(BatchReview review, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch approve",
        "approve a submitted batch (four eyes) / 审批发放批次(双人复核)",
        """
        usage: Lingyuan.Jobs batch approve BATCH_ID --user NAME
        用法:  Lingyuan.Jobs batch approve 批次编号 --user 用户名
        NAME is a finance (or admin) account other than the submitter. Approval freezes the batch:
        line count, total and SHA-256 are recorded. Exit 1 if refused.
        审批人须为提交人以外的财务审核(或管理员)账号。审批后批次冻结,记录笔数、总额与 SHA-256。被拒绝时退出码为 1。
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        var user = await identity.ProveAsync(args, ct);
        BatchHeader b;
        using (Acting.Begin(new Acting(user, Acting.Cli)))
            b = await review.ApproveAsync(id, user, ct);
        Console.WriteLine($"batch {id} approved: {b.ApprovedLineCount} lines, {Money.Yuan(b.ApprovedTotalFen ?? 0)} yuan, sha256 {b.ApprovedSha256} / 批次 {id} 已审批");
        return ExitCodes.Ok;
    }
}

public sealed class BatchRejectCommand(BatchReview review, Dashboard.CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch reject",
        "reject a batch with a reason; the period is built again / 退回发放批次(需填写原因),该期别将重新生成",
        """
        usage: Lingyuan.Jobs batch reject BATCH_ID --user NAME --reason TEXT
        用法:  Lingyuan.Jobs batch reject 批次编号 --user 用户名 --reason 原因
        """ + Dashboard.CliIdentity.HelpZhEn,
        ValueOptions: ["user", "reason", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var id = args.PositionalId(0, "BATCH_ID");
        args.ExpectPositionals(1);
        var reason = args.Option("reason") ?? throw new UsageException("--reason is required / 需要 --reason");
        var user = await identity.ProveAsync(args, ct);
        using (Acting.Begin(new Acting(user, Acting.Cli)))
            await review.RejectAsync(id, user, reason, ct);
        Console.WriteLine($"batch {id} rejected / 批次 {id} 已退回");
        return ExitCodes.Ok;
    }
}
