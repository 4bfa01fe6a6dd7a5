using System.Globalization;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>What a release did: the line named, its batch, and every held month of the same change it released.</summary>
public sealed record HoldReleaseResult(long LineId, long BatchId, IReadOnlyList<long> ReleasedLineIds);

/// <summary>
/// The release of an amount-change hold (DOMAIN.md §2): a held change never clears itself; a finance user other than
/// the batch's preparer accepts it with a reason, audited. The release accepts the new amount for the person and
/// benefit: every live month held for the same change (same amount) is released with it, the next build back-pays
/// them (<see cref="BatchBuilder.FollowUpLinesSql"/>) and measures later months against the released amount.
/// Nothing about the lines changes (approved batches stay frozen): the release is a row of its own.
/// </summary>
public sealed class HoldRelease(Work work)
{
    private static readonly string[] Releasers = [Roles.Finance, Roles.Admin];

    public async Task<HoldReleaseResult> ReleaseAsync(long lineId, string user, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new UsageException("a release needs a reason (--reason) / 解除暂停必须填写原因");
        reason = TextRules.SingleLine(reason, "reason", "解除原因", TextRules.ReasonMaxLength);
        using var acting = Acting.Begin(Acting.Current with { Actor = user });
        return await work.RunAsync("hold release", async uow =>
        {
            var role = await uow.ScalarAsync<string?>("SELECT role FROM app.users WHERE name = @user AND NOT disabled", new { user });
            if (role is null || !Releasers.Contains(role))
                throw BatchLifecycle.Forbidden(role is null
                    ? $"no enabled account '{user}' / 账号 '{user}' 不存在或已停用"
                    : $"account '{user}' has role {role}; releasing a hold needs finance / 账号 '{user}' 无财务审核权限,不能解除暂停");

            var line = await uow.SingleOrDefaultAsync<HeldLine>(
                """
                SELECT l.id AS Id, l.batch_id AS BatchId, l.id_number AS IdNumber, l.benefit AS Benefit, l.amount_fen AS AmountFen,
                       l.status AS Status, l.hold_reason AS HoldReason, l.released AS Released,
                       r.released_by AS ReleasedBy
                FROM app.disbursement_lines l LEFT JOIN app.disbursement_hold_releases r ON r.line_id = l.id
                WHERE l.id = @lineId
                """, new { lineId }) ?? throw new DomainRuleException($"line {lineId} does not exist / 流水 {lineId} 不存在");
            if (line.Released)
                throw new DomainRuleException($"line {lineId} belongs to a rejected batch / 流水 {lineId} 所在批次已退回");
            if (line.Status != "held" || line.HoldReason != HoldReasons.AmountChange.Code)
                throw new DomainRuleException(
                    $"line {lineId} is not held for an amount change; only that hold is released by a person (the others clear when their cause does) / "
                    + $"流水 {lineId} 不是因金额变动暂停,其他原因的暂停在原因消除后自动恢复");
            if (line.ReleasedBy is not null)
                throw new DomainRuleException($"line {lineId} was already released by {line.ReleasedBy} / 流水 {lineId} 已由 {line.ReleasedBy} 解除暂停");

            // The same change held in other months (live lines of the same person, benefit and amount), with their batches' preparers.
            var group = await uow.ListAsync<GroupLine>(
                """
                SELECT l.id AS Id, l.batch_id AS BatchId, b.built_by AS BuiltBy, b.submitted_by AS SubmittedBy
                FROM app.disbursement_lines l JOIN app.disbursement_batches b ON b.id = l.batch_id
                WHERE l.status = 'held' AND NOT l.released AND l.hold_reason = @code
                  AND l.id_number = @IdNumber AND l.benefit = @Benefit AND l.amount_fen = @AmountFen
                  AND NOT EXISTS (SELECT 1 FROM app.disbursement_hold_releases r WHERE r.line_id = l.id)
                ORDER BY l.id
                """, new { code = HoldReasons.AmountChange.Code, line.IdNumber, line.Benefit, line.AmountFen });
            if (group.FirstOrDefault(g => user == g.SubmittedBy || user == g.BuiltBy) is { } own)
                throw BatchLifecycle.Forbidden(
                    $"four eyes: {user} prepared batch {own.BatchId} and cannot release its hold; another finance user must / "
                    + $"双人复核:{user} 是批次 {own.BatchId} 的制单人,不能解除其暂停,须由另一名财务人员处理");

            var ids = group.Select(g => g.Id).ToArray();
            var inserted = await uow.ExecuteAsync(
                """
                INSERT INTO app.disbursement_hold_releases (line_id, released_by, reason)
                SELECT unnest(@ids), @user, @reason
                ON CONFLICT (line_id) DO NOTHING
                """, new { ids, user, reason });
            if (inserted != ids.Length || !ids.Contains(lineId))
                throw new DomainRuleException($"line {lineId} was released by someone else meanwhile / 流水 {lineId} 已被他人解除暂停");
            await uow.AuditAsync("disbursement.hold_release", "disbursement_line", lineId.ToString(CultureInfo.InvariantCulture),
                before: new { status = "held", hold_reason = line.HoldReason },
                after: new { released_by = user, amount_fen = line.AmountFen, lines = ids, batches = group.Select(g => g.BatchId).Distinct().ToArray() },
                details: reason);
            return new HoldReleaseResult(lineId, line.BatchId, ids);
        }, ct, new WorkOptions { RecordId = lineId.ToString(CultureInfo.InvariantCulture) });
    }

    private sealed record HeldLine(long Id, long BatchId, string IdNumber, string Benefit, long AmountFen, string Status, string? HoldReason, bool Released, string? ReleasedBy);

    private sealed record GroupLine(long Id, long BatchId, string BuiltBy, string? SubmittedBy);

    /// <summary>The release form's endpoint on the batch page (finance; the antiforgery token is checked).</summary>
    internal static void Map(RouteGroupBuilder g) =>
        g.MapPost("/{id:long}/lines/{lineId:long}/release", async (HttpContext ctx, long id, long lineId, HoldRelease release) =>
        {
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            if (await BatchesPage.ValidAntiforgeryAsync(ctx) is { } bad) return bad;
            var user = BatchesPage.UserName(ctx);
            try
            {
                using (Acting.Begin(new Acting(user, Acting.Web)))
                    await release.ReleaseAsync(lineId, user, form["reason"].ToString(), ctx.RequestAborted);
            }
            catch (Exception ex) when (ex is DomainRuleException or UsageException or BadInputException)
            {
                var status = ex.Data.Contains(BatchLifecycle.ForbiddenKey) ? StatusCodes.Status403Forbidden
                    : ex is DomainRuleException ? StatusCodes.Status409Conflict : StatusCodes.Status400BadRequest;
                return BatchesPage.Refused(ctx, id, ex.Message, status);
            }
            return Results.Redirect($"/hangfire/batches/{id}#amount-changes", permanent: false, preserveMethod: false);
        });
}

/// <summary><c>batch release-hold LINE_ID --user NAME --reason TEXT</c>: the release from the command line, as the proved account.</summary>
public sealed class BatchReleaseHoldCommand(HoldRelease release, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "batch release-hold",
        "release an amount-change hold with a reason (four eyes) / 解除金额变动暂停(需填写原因,双人复核)",
        """
        usage: Lingyuan.Jobs batch release-hold LINE_ID --user NAME --reason TEXT
        用法:  Lingyuan.Jobs batch release-hold 流水引用 --user 用户名 --reason 原因
        NAME is a finance (or admin) account other than the preparer of the line's batch. The release accepts the
        new amount: every month held for the same change is released, and the next batch back-pays them.
        用户须为该批次制单人以外的财务审核(或管理员)账号。解除后确认新金额:同一变动暂停的各月一并解除,下一批次补发。
        """ + CliIdentity.HelpZhEn,
        ValueOptions: ["user", "reason", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var lineId = args.PositionalId(0, "LINE_ID");
        args.ExpectPositionals(1);
        var reason = args.Option("reason") ?? throw new UsageException("--reason is required / 需要 --reason");
        var user = await identity.ProveAsync(args, ct);
        HoldReleaseResult r;
        using (Acting.Begin(new Acting(user, Acting.Cli)))
            r = await release.ReleaseAsync(lineId, user, reason, ct);
        Console.WriteLine($"line {lineId} released with {r.ReleasedLineIds.Count - 1} other month(s) of the same change; the next build back-pays them / "
            + $"流水 {lineId} 已解除暂停(同一变动另有 {r.ReleasedLineIds.Count - 1} 个月一并解除),下一批次补发");
        return ExitCodes.Ok;
    }
}
