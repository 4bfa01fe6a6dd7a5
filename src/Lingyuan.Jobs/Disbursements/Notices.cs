using System.Globalization;
using Dapper;
using Lingyuan.Jobs.Notifications;
using Npgsql;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>Mail about batches, written to the outbox in the transaction of the state change. No personal data: totals only.</summary>
internal static class Notices
{
    /// <summary>Finance reviewers (their account e-mails and Disbursements:ReviewerEmails) when a batch awaits them.</summary>
    public static async Task AwaitingReviewAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, DisbursementOptions o, long batchId, Period period, string state,
        long payable, long totalFen, long held, string? exclude, CancellationToken ct)
    {
        var accounts = await conn.QueryAsync<string>(new CommandDefinition(
            """
            SELECT email FROM app.users
            WHERE role = 'finance' AND NOT disabled AND email IS NOT NULL AND email <> '' AND name IS DISTINCT FROM @exclude
            ORDER BY name
            """, new { exclude }, tx, cancellationToken: ct));
        var recipients = accounts.Concat(o.ReviewerEmails).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (recipients.Count == 0) return;
        var step = state == "draft" ? "提交审核" : "审批";
        var id = batchId.ToString(CultureInfo.InvariantCulture);
        await Outbox.EnqueueAsync(conn, tx, new OutboxMessage(
            $"disbursement-batch:{id}:{state}",
            recipients,
            $"待遇发放批次 {period}(编号 {id})等待{step}",
            $"""
            您好:

            {period} 待遇发放批次(编号 {id})已{(state == "draft" ? "生成" : "提交")},等待{step}。
            应发笔数:{payable:N0}
            应发金额:{Money.Yuan(totalFen)} 元
            暂停发放笔数:{held:N0}

            请登录定时任务控制台“待遇发放”页面处理。审批人不能是提交人(双人复核)。

            凌源市人力资源和社会保障局
            """,
            null, "disbursement_batch", id), ct);
    }

    /// <summary>The preparer (submitter) when their batch is approved or rejected.</summary>
    public static async Task DecidedAsync(
        NpgsqlConnection conn, NpgsqlTransaction tx, long batchId, Period period, bool approved, string submitter, string decidedBy, string? reason, CancellationToken ct)
    {
        var email = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
            "SELECT email FROM app.users WHERE name = @submitter AND email IS NOT NULL AND email <> ''", new { submitter }, tx, cancellationToken: ct));
        if (email is null) return;
        var id = batchId.ToString(CultureInfo.InvariantCulture);
        var verdict = approved ? "已审批通过" : "已被退回";
        await Outbox.EnqueueAsync(conn, tx, new OutboxMessage(
            $"disbursement-batch:{id}:{(approved ? "approved" : "rejected")}",
            [email],
            $"待遇发放批次 {period}(编号 {id}){verdict}",
            $"""
            {submitter},您好:

            您提交的 {period} 待遇发放批次(编号 {id})由 {decidedBy} {verdict}。
            {(approved ? "可生成银行发放文件。" : $"退回原因:{reason}\n批次退回后将重新生成。")}

            凌源市人力资源和社会保障局
            """,
            null, "disbursement_batch", id), ct);
    }
}
