using System.Globalization;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

public sealed record BatchHeader(
    long Id, DateOnly Period, string State, string BuiltBy, long PayableCount, long PayableTotalFen, long HeldCount,
    string? SubmittedBy, string? DecidedBy, string? RejectReason, long? ApprovedLineCount, long? ApprovedTotalFen, string? ApprovedSha256)
{
    public Period P => Disbursements.Period.Of(Period);
}

/// <summary>
/// The review of a batch (DOMAIN.md §2): draft → submitted → approved by another finance user, or
/// rejected with a reason (its lines are released so the period is built again). Each step is a
/// conditional update in one transaction with its audit record and its mail.
/// </summary>
public sealed class BatchReview(NpgsqlDataSource db, IOptions<DisbursementOptions> options)
{
    /// <summary>Set on a refusal the dashboard answers with 403 (wrong person), rather than 409 (wrong state).</summary>
    public const string ForbiddenKey = "forbidden";

    internal const string HeaderColumns = """
        id AS Id, period AS Period, state AS State, built_by AS BuiltBy, payable_count AS PayableCount,
        payable_total_fen AS PayableTotalFen, held_count AS HeldCount, submitted_by AS SubmittedBy, decided_by AS DecidedBy,
        reject_reason AS RejectReason, approved_line_count AS ApprovedLineCount, approved_total_fen AS ApprovedTotalFen,
        approved_sha256 AS ApprovedSha256
        """;

    public async Task<BatchHeader?> FindAsync(long batchId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<BatchHeader>(new CommandDefinition(
            $"SELECT {HeaderColumns} FROM app.disbursement_batches WHERE id = @batchId", new { batchId }, cancellationToken: ct));
    }

    public async Task SubmitAsync(long batchId, string user, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await RequireReviewerAsync(conn, tx, user, ct);
        var b = await LockAsync(conn, tx, batchId, ct);
        if (b.State != "draft") throw Refused($"batch {batchId} is {b.State}, only a draft can be submitted / 批次状态为{Zh.State(b.State)},只有草稿可以提交");
        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE app.disbursement_batches SET state = 'submitted', submitted_by = @user, submitted_at = now() WHERE id = @batchId AND state = 'draft'",
            new { batchId, user }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(conn, tx, user, "disbursement.submit", "disbursement_batch", Id(batchId),
            before: new { state = b.State }, after: new { state = "submitted", submitted_by = user });
        await Notices.AwaitingReviewAsync(conn, tx, options.Value, batchId, b.P, "submitted", b.PayableCount, b.PayableTotalFen, b.HeldCount, exclude: user, ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Freezes the batch: line count, total and the SHA-256 of its bank-file lines are stored.</summary>
    public async Task<BatchHeader> ApproveAsync(long batchId, string user, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await RequireReviewerAsync(conn, tx, user, ct);
        var b = await LockAsync(conn, tx, batchId, ct);
        if (b.State != "submitted") throw Refused($"batch {batchId} is {b.State}, only a submitted batch can be approved / 批次状态为{Zh.State(b.State)},只有待审批的批次可以审批");
        if (string.Equals(b.SubmittedBy, user, StringComparison.Ordinal))
            throw Forbidden($"four eyes: {user} submitted batch {batchId} and cannot approve it; another finance user must / 双人复核:提交人 {user} 不能审批自己提交的批次,须由另一名财务人员审批");
        var (count, total) = await conn.QuerySingleAsync<(long, long)>(new CommandDefinition(
            "SELECT count(*), coalesce(sum(amount_fen), 0)::bigint FROM app.disbursement_lines WHERE batch_id = @batchId AND status = 'payable'",
            new { batchId }, tx, cancellationToken: ct));
        var sha = await BankFile.HashLinesAsync(conn, batchId, Stream.Null, ct);
        await conn.ExecuteAsync(new CommandDefinition(
            """
            UPDATE app.disbursement_batches
            SET state = 'approved', decided_by = @user, decided_at = now(),
                approved_line_count = @count, approved_total_fen = @total, approved_sha256 = @sha
            WHERE id = @batchId AND state = 'submitted'
            """, new { batchId, user, count, total, sha }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(conn, tx, user, "disbursement.approve", "disbursement_batch", Id(batchId),
            before: new { state = b.State }, after: new { state = "approved", decided_by = user, line_count = count, total_fen = total, sha256 = sha });
        await Notices.DecidedAsync(conn, tx, batchId, b.P, approved: true, b.SubmittedBy!, user, null, ct);
        await tx.CommitAsync(ct);
        return b with { State = "approved", DecidedBy = user, ApprovedLineCount = count, ApprovedTotalFen = total, ApprovedSha256 = sha };
    }

    /// <summary>Rejects a draft or submitted batch; its lines stop counting, so the period can be built again.</summary>
    public async Task RejectAsync(long batchId, string user, string reason, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason)) throw new UsageException("a rejection needs a reason (--reason) / 退回必须填写原因");
        reason = Dashboard.TextRules.SingleLine(reason, "reason", "退回原因", Dashboard.TextRules.ReasonMaxLength);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await RequireReviewerAsync(conn, tx, user, ct);
        var b = await LockAsync(conn, tx, batchId, ct);
        if (b.State is not ("draft" or "submitted"))
            throw Refused($"batch {batchId} is {b.State}, only a draft or submitted batch can be rejected / 批次状态为{Zh.State(b.State)},不能退回");
        await conn.ExecuteAsync(new CommandDefinition(
            "UPDATE app.disbursement_lines SET released = true WHERE batch_id = @batchId AND NOT released",
            new { batchId }, tx, commandTimeout: 0, cancellationToken: ct));
        await conn.ExecuteAsync(new CommandDefinition(
            """
            UPDATE app.disbursement_batches SET state = 'rejected', decided_by = @user, decided_at = now(), reject_reason = @reason
            WHERE id = @batchId AND state IN ('draft', 'submitted')
            """, new { batchId, user, reason }, tx, cancellationToken: ct));
        await AuditLog.WriteAsync(conn, tx, user, "disbursement.reject", "disbursement_batch", Id(batchId),
            before: new { state = b.State }, after: new { state = "rejected", decided_by = user }, details: reason);
        if (b.SubmittedBy is not null)
            await Notices.DecidedAsync(conn, tx, batchId, b.P, approved: false, b.SubmittedBy, user, reason, ct);
        await tx.CommitAsync(ct);
    }

    private static async Task RequireReviewerAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string user, CancellationToken ct)
    {
        var role = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT role FROM app.users WHERE name = @user AND NOT disabled", new { user }, tx, cancellationToken: ct));
        if (role is not ("finance" or "admin"))
            throw Forbidden(role is null
                ? $"no enabled account '{user}' / 账号 '{user}' 不存在或已停用"
                : $"account '{user}' has role {role}; reviewing batches needs finance or admin / 账号 '{user}' 无财务审核权限");
    }

    private static async Task<BatchHeader> LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long batchId, CancellationToken ct) =>
        await conn.QuerySingleOrDefaultAsync<BatchHeader>(new CommandDefinition(
            $"SELECT {HeaderColumns} FROM app.disbursement_batches WHERE id = @batchId FOR UPDATE", new { batchId }, tx, cancellationToken: ct))
        ?? throw Refused($"batch {batchId} does not exist / 批次 {batchId} 不存在");

    private static string Id(long id) => id.ToString(CultureInfo.InvariantCulture);

    private static DomainRuleException Refused(string message) => new(message);

    private static DomainRuleException Forbidden(string message)
    {
        var e = new DomainRuleException(message);
        e.Data[ForbiddenKey] = true;
        return e;
    }
}
