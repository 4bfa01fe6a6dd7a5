using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>
/// The Cases slice: what people do with a case: the caseworker's (or an admin's) confirmation or rejection of
/// a proposal, and the admin's closing of a case for another reason.
/// </summary>
public sealed class ZeroEmploymentCases(Work work, BureauClock clock, IOptions<ZeroEmploymentOptions> options)
{
    /// <summary>
    /// Identification is a person's act (DOMAIN.md §3; 就业促进法 art. 56; 就业服务与就业管理规定 arts. 40-43):
    /// the caseworker of the household's community (the account whose e-mail the communities register names)
    /// or an admin confirms a proposal — the household is identified today and the clearing deadline
    /// (ZeroEmployment:ClearWithinDays) starts — or rejects it; both with a reason, audited in the same
    /// transaction. The account is checked inside the unit of work: a caseworker never decides on another
    /// community's household, whatever the page showed.
    /// </summary>
    public async Task DecideAsync(long id, bool confirm, string note, string actor, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(note))
            throw new UsageException("a reason of 1-500 characters is required / 需要填写 1 到 500 字的理由");
        note = Dashboard.TextRules.SingleLine(note, "note", "理由", Dashboard.TextRules.ReasonMaxLength);
        var today = clock.Today;
        var days = options.Value.ClearWithinDays;
        var table = CaseLifecycle.Table;
        var verb = confirm ? CaseVerb.Confirm : CaseVerb.Reject;
        var action = confirm ? "zero-employment.confirm" : "zero-employment.reject";
        var recordId = id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        using var acting = Acting.Begin(Acting.Current with { Actor = actor });
        await work.RunAsync(action, async uow =>
        {
            var account = await uow.SingleOrDefaultAsync<(string? Role, string? Email)>(
                "SELECT role, email FROM app.users WHERE name = @actor AND NOT disabled", new { actor });
            if (account.Role is not (Dashboard.Roles.Caseworker or Dashboard.Roles.Admin))
                throw new DomainRuleException($"'{actor}' is not an enabled caseworker or admin account / 只有社区协理员或管理员可以确认或不予认定");
            var before = await CaseLifecycle.LockAsync(uow, id);
            var move = table.Require(verb, before, recordId);
            if (account.Role == Dashboard.Roles.Caseworker)
            {
                var scope = account.Email ?? "";
                var mine = await uow.ScalarAsync<bool>(
                    $"SELECT EXISTS (SELECT 1 FROM app.zero_employment_cases c WHERE c.id = @id AND {ZeroEmploymentView.InScopeSql})", new { id, scope });
                if (!mine)
                    throw new DomainRuleException($"case {id} is not in a community of caseworker '{actor}' / 案件 {id} 不属于您负责的社区");
            }
            var after = await uow.SingleAsync<(DateTime? IdentifiedOn, DateTime? Deadline)>(confirm
                ? """
                  UPDATE app.zero_employment_cases
                  SET state = @to, identified_on = greatest(@today, proposed_on), deadline = greatest(@today, proposed_on) + @days,
                      decided_by = @actor, decided_at = now(), decision_note = @note
                  WHERE id = @id AND state = @from
                  RETURNING identified_on::timestamp, deadline::timestamp
                  """
                : """
                  UPDATE app.zero_employment_cases
                  SET state = @to, rejected_on = greatest(@today, proposed_on), decided_by = @actor, decided_at = now(), decision_note = @note
                  WHERE id = @id AND state = @from
                  RETURNING identified_on::timestamp, deadline::timestamp
                  """,
                new { id, today, days, actor, note, to = table.Db(move.To), from = table.Db(before) });
            await uow.AuditAsync(action, "zero_employment_case", recordId,
                before: new { state = table.Db(before) },
                after: new
                {
                    state = table.Db(move.To),
                    identified_on = after.IdentifiedOn?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                    deadline = after.Deadline?.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
                }, details: note);
        }, ct, new WorkOptions { RecordId = recordId });
    }

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
