using System.Globalization;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>Mail about batches, written to the outbox in the transaction of the state change. No personal data: totals only.</summary>
internal static class Notices
{
    /// <summary>Finance reviewers (their account e-mails and Disbursements:ReviewerEmails) when a batch awaits them.</summary>
    public static async Task AwaitingReviewAsync(
        UnitOfWork uow, DisbursementOptions o, long batchId, Period period, BatchState state,
        long payable, long totalFen, long held, string? exclude)
    {
        var accounts = await uow.ListAsync<string>(
            """
            SELECT email FROM app.users
            WHERE role = 'finance' AND NOT disabled AND email IS NOT NULL AND email <> '' AND name IS DISTINCT FROM @exclude
            ORDER BY name
            """, new { exclude });
        var recipients = accounts.Concat(o.ReviewerEmails).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (recipients.Count == 0) return;
        var built = state == BatchState.Draft;
        var step = built ? "提交审核" : "审批";
        var id = batchId.ToString(CultureInfo.InvariantCulture);
        await uow.EnqueueAsync(new OutboxMessage(
            $"disbursement-batch:{id}:{BatchLifecycle.Table.Db(state)}",
            recipients,
            $"待遇发放批次 {period}(编号 {id})等待{step}",
            $"""
            您好:

            {period} 待遇发放批次(编号 {id})已{(built ? "生成" : "提交")},等待{step}。
            应发笔数:{payable:N0}
            应发金额:{Money.Yuan(totalFen)} 元
            暂停发放笔数:{held:N0}

            请登录定时任务控制台“待遇发放”页面处理。审批人不能是提交人(双人复核)。

            凌源市人力资源和社会保障局
            """,
            null, "disbursement_batch", id));
    }

    /// <summary>The preparer (submitter) when their batch is approved or rejected.</summary>
    public static async Task DecidedAsync(
        UnitOfWork uow, long batchId, Period period, BatchState decision, string submitter, string decidedBy, string? reason)
    {
        var email = await uow.ScalarAsync<string?>(
            "SELECT email FROM app.users WHERE name = @submitter AND email IS NOT NULL AND email <> ''", new { submitter });
        if (email is null) return;
        var id = batchId.ToString(CultureInfo.InvariantCulture);
        var approved = decision == BatchState.Approved;
        var verdict = approved ? "已审批通过" : "已被退回";
        await uow.EnqueueAsync(new OutboxMessage(
            $"disbursement-batch:{id}:{BatchLifecycle.Table.Db(decision)}",
            [email],
            $"待遇发放批次 {period}(编号 {id}){verdict}",
            $"""
            {submitter},您好:

            您提交的 {period} 待遇发放批次(编号 {id})由 {decidedBy} {verdict}。
            {(approved ? "可生成银行发放文件。" : $"退回原因:{reason}\n批次退回后将重新生成。")}

            凌源市人力资源和社会保障局
            """,
            null, "disbursement_batch", id));
    }
}
