using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>The Cases slice: the follow-up of a case by people, i.e. the admin's closing of a case for another reason.</summary>
public sealed class ZeroEmploymentCases(Work work, BureauClock clock)
{
    public static readonly IReadOnlyDictionary<string, string> OperatorCloseReasons = new Dictionary<string, string>
    {
        ["moved"] = "已迁出本辖区",
        ["refused_referrals"] = "三次拒绝推荐就业",
    };

    /// <summary>
    /// An operator closes an open case for a reason the registers cannot show (moved away, refused
    /// three referrals). Conditional on the case being open, audited in the same transaction.
    /// </summary>
    public async Task CloseAsync(long id, string reason, string note, string actor, CancellationToken ct)
    {
        await CloseCoreAsync(id, reason, note, actor, ct);
    }

    /// <summary>The command line's close: the same rule as the dashboard, the account named must be an enabled admin.</summary>
    public async Task CloseAsAccountAsync(long id, string reason, string note, string user, CancellationToken ct)
    {
        var role = await work.RunAsync("zero-employment.close.account", uow =>
            uow.ScalarAsync<string?>("SELECT role FROM app.users WHERE name = @user AND NOT disabled", new { user }), ct);
        if (role != Dashboard.Roles.Admin)
            throw new DomainRuleException($"'{user}' is not an enabled admin account; closing a case is an admin's action / 结案需管理员账号");
        await CloseCoreAsync(id, reason, note, user, ct);
    }

    private async Task CloseCoreAsync(long id, string reason, string note, string actor, CancellationToken ct)
    {
        if (!OperatorCloseReasons.ContainsKey(reason))
            throw new UsageException($"reason must be one of {string.Join(", ", OperatorCloseReasons.Keys)}, got '{reason}' / 结案原因无效");
        if (string.IsNullOrWhiteSpace(note))
            throw new UsageException("a note of 1-500 characters is required / 需要填写 1 到 500 字的说明");
        note = Dashboard.TextRules.SingleLine(note, "note", "说明", Dashboard.TextRules.ReasonMaxLength);
        var today = clock.Today;
        var table = CaseLifecycle.Table;
        // The person named (the signed-in admin, or the account of the command line) is who acts and is audited.
        using var acting = Acting.Begin(Acting.Current with { Actor = actor });
        await work.RunAsync("zero-employment.close", async uow =>
        {
            var before = await CaseLifecycle.LockAsync(uow, id);
            if (!table.Allows(CaseVerb.Close, before))
                throw new DomainRuleException($"case {id} is {table.Db(before)}, not open / 案件 {id} 已{(before == CaseState.Cleared ? "清零" : "结案")},不能再结案");
            var move = table.MoveOf(CaseVerb.Close);
            await uow.ExecuteAsync("""
                UPDATE app.zero_employment_cases
                SET state = @closed, closed_on = greatest(@today, identified_on), close_reason = @reason, close_note = @note, closed_by = @actor, closed_at = now()
                WHERE id = @id AND state = ANY(@from)
                """, new { id, today, reason, note, actor, closed = table.Db(move.To), from = move.From.Select(table.Db).ToArray() });
            await uow.AuditAsync("zero-employment.close", "zero_employment_case", id.ToString(),
                before: new { state = table.Db(before) }, after: new { state = table.Db(move.To), close_reason = reason }, details: note);
        }, ct, new WorkOptions { RecordId = id.ToString() });
    }
}
