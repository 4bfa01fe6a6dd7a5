using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>The states of a disbursement batch (DOMAIN.md §2); stored as snake_case text.</summary>
public enum BatchState { Draft, Submitted, Approved, Rejected, Exported, Reconciled }

/// <summary>What can be done to a batch.</summary>
public enum BatchVerb { Submit, Approve, Reject, Export, Reconcile }

/// <summary>
/// The lifecycle of a batch, written once: draft → submitted → approved by another finance user (four
/// eyes) → exported (bank file) → reconciled (return file); a draft or submitted batch may be rejected with
/// a reason. The database's CHECK on <c>app.disbursement_batches.state</c> is tested against this table.
/// </summary>
public static class BatchLifecycle
{
    private static readonly string[] Reviewers = [Roles.Finance, Roles.Admin];

    public static StateTable<BatchState, BatchVerb> Table { get; } = new(
        "批次",
        new Dictionary<BatchState, string>
        {
            [BatchState.Draft] = "草稿",
            [BatchState.Submitted] = "待审批",
            [BatchState.Approved] = "已审批",
            [BatchState.Rejected] = "已退回",
            [BatchState.Exported] = "已生成银行文件",
            [BatchState.Reconciled] = "已对账",
        },
        [
            new(BatchVerb.Submit, [BatchState.Draft], BatchState.Submitted, Reviewers, "提交审批"),
            new(BatchVerb.Approve, [BatchState.Submitted], BatchState.Approved, Reviewers, "审批通过"),
            new(BatchVerb.Reject, [BatchState.Draft, BatchState.Submitted], BatchState.Rejected, Reviewers, "退回"),
            // Export again is allowed (a lost file is written again from the same approved lines); the state stays.
            new(BatchVerb.Export, [BatchState.Approved, BatchState.Exported, BatchState.Reconciled], BatchState.Exported, Reviewers, "生成银行文件"),
            // A return file may come in parts: the batch is reconciled when every approved line has its outcome.
            new(BatchVerb.Reconcile, [BatchState.Exported, BatchState.Reconciled], BatchState.Reconciled, Reviewers, "导入银行回盘"),
        ]);
}
