using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Hosting;
using Npgsql;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>One member as the case's reason records them: masked ID, never a raw number or a name.</summary>
public sealed record ReasonMember(
    [property: JsonPropertyName("member")] string Member,
    [property: JsonPropertyName("sex")] string Sex,
    [property: JsonPropertyName("age")] int Age,
    [property: JsonPropertyName("retires_on")] DateOnly? RetiresOn,
    [property: JsonPropertyName("hukou")] string Hukou,
    [property: JsonPropertyName("employment")] string Employment,
    [property: JsonPropertyName("counts")] string Counts);

public sealed record CaseReason([property: JsonPropertyName("members")] IReadOnlyList<ReasonMember> Members);

public sealed record ClearedMember(
    [property: JsonPropertyName("member")] string Member,
    [property: JsonPropertyName("employment")] string Employment,
    [property: JsonPropertyName("since")] DateOnly? Since);

/// <summary>A case with what a mail or a page shows about it.</summary>
public sealed record CaseView(
    long Id, string HouseholdNo, string Street, string Community, string State,
    DateOnly IdentifiedOn, DateOnly Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn,
    DateOnly? ClearedOn, DateOnly? ClosedOn, string? CloseReason, string? CloseNote, string? ClosedBy,
    string? CaseworkerName, string? CaseworkerEmail, CaseReason Reason, IReadOnlyList<ClearedMember> ClearedBy);

public sealed record LedgerRow(
    string? Street, string? Community, int Identified, int Cleared, int Open, int Overdue, double? MedianDaysToClear);

/// <summary>Reading cases, the ledger (台账), and the operator's closing of a case for another reason.</summary>
public sealed class ZeroEmploymentCases(NpgsqlDataSource db, TimeProvider clock, Microsoft.Extensions.Options.IOptions<JobsOptions> jobs)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string SelectCase = """
        SELECT c.id, c.household_no AS HouseholdNo, c.street, c.community, c.state, c.identified_on AS IdentifiedOn, c.deadline,
               c.reminded_on AS RemindedOn, c.overdue_on AS OverdueOn, c.cleared_on AS ClearedOn, c.closed_on AS ClosedOn,
               c.close_reason AS CloseReason, c.close_note AS CloseNote, c.closed_by AS ClosedBy,
               cw.caseworker_name AS CaseworkerName, nullif(btrim(cw.caseworker_email), '') AS CaseworkerEmail,
               c.reason::text AS Reason, coalesce(c.cleared_by, '[]')::text AS ClearedBy
        FROM app.zero_employment_cases c
        LEFT JOIN app.communities cw ON cw.street = c.street AND cw.community = c.community
        """;

    private sealed record Row(
        long Id, string HouseholdNo, string Street, string Community, string State,
        DateOnly IdentifiedOn, DateOnly Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn,
        DateOnly? ClearedOn, DateOnly? ClosedOn, string? CloseReason, string? CloseNote, string? ClosedBy,
        string? CaseworkerName, string? CaseworkerEmail, string Reason, string ClearedBy)
    {
        public CaseView ToView() => new(Id, HouseholdNo, Street, Community, State,
            IdentifiedOn, Deadline, RemindedOn, OverdueOn, ClearedOn, ClosedOn, CloseReason, CloseNote, ClosedBy,
            CaseworkerName, CaseworkerEmail,
            JsonSerializer.Deserialize<CaseReason>(Reason, Json)!, JsonSerializer.Deserialize<List<ClearedMember>>(ClearedBy, Json)!);
    }

    public static async Task<Dictionary<long, CaseView>> LoadForMailAsync(NpgsqlConnection conn, NpgsqlTransaction tx, long[] ids, CancellationToken ct)
    {
        if (ids.Length == 0) return [];
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(SelectCase + " WHERE c.id = ANY(@ids)", new { ids }, tx, commandTimeout: 900, cancellationToken: ct));
        return rows.Select(r => r.ToView()).ToDictionary(c => c.Id);
    }

    public static async Task<IReadOnlyList<CaseView>> OpenOverdueAsync(NpgsqlConnection conn, NpgsqlTransaction tx, CancellationToken ct) =>
        (await conn.QueryAsync<Row>(new CommandDefinition(
            SelectCase + " WHERE c.state = 'overdue' ORDER BY c.deadline, c.id", transaction: tx, commandTimeout: 900, cancellationToken: ct)))
        .Select(r => r.ToView()).ToList();

    public async Task<CaseView?> FindAsync(long id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<Row>(new CommandDefinition(SelectCase + " WHERE c.id = @id", new { id }, cancellationToken: ct));
        return row?.ToView();
    }

    /// <summary>Cases of a place (null = all) that were open at some time in the month, newest first.</summary>
    public async Task<IReadOnlyList<CaseView>> ListAsync(DateOnly month, string? street, string? community, int limit, CancellationToken ct)
    {
        var (start, end) = (month, month.AddMonths(1));
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<Row>(new CommandDefinition(SelectCase + """
             WHERE (@street::text IS NULL OR c.street = @street) AND (@community::text IS NULL OR c.community = @community)
               AND c.identified_on < @end AND coalesce(c.cleared_on, c.closed_on, 'infinity') >= @start
             ORDER BY c.identified_on DESC, c.id DESC
             LIMIT @limit
            """, new { street, community, start, end, limit }, cancellationToken: ct));
        return rows.Select(r => r.ToView()).ToList();
    }

    /// <summary>
    /// The monthly ledger per street and community, with street subtotals and a county total (null street):
    /// identified and cleared in the month; open and overdue at the month's end (today for the running month);
    /// median days from identification to clearing of the cases cleared in the month.
    /// </summary>
    public async Task<IReadOnlyList<LedgerRow>> LedgerAsync(DateOnly month, CancellationToken ct)
    {
        var today = Today();
        var end = month.AddMonths(1);
        var at = end.AddDays(-1) < today ? end.AddDays(-1) : today;
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<LedgerRow>(new CommandDefinition(LedgerSql, new { start = month, end, at }, cancellationToken: ct));
        return rows.AsList();
    }

    public const string LedgerSql = """
        SELECT CASE WHEN grouping(street) = 0 THEN street END AS Street,
               CASE WHEN grouping(community) = 0 THEN community END AS Community,
               count(*) FILTER (WHERE identified_on >= @start AND identified_on < @end)::int AS identified,
               count(*) FILTER (WHERE cleared_on >= @start AND cleared_on < @end)::int AS cleared,
               count(*) FILTER (WHERE identified_on <= @at AND coalesce(cleared_on, closed_on, 'infinity') > @at)::int AS open,
               count(*) FILTER (WHERE identified_on <= @at AND coalesce(cleared_on, closed_on, 'infinity') > @at AND deadline < @at)::int AS overdue,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY cleared_on - identified_on)
                   FILTER (WHERE cleared_on >= @start AND cleared_on < @end) AS MedianDaysToClear
        FROM app.zero_employment_cases
        WHERE identified_on < @end AND coalesce(cleared_on, closed_on, 'infinity') >= @start
        GROUP BY GROUPING SETS ((street, community), (street), ())
        ORDER BY grouping(street), street, grouping(community), community
        """;

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
        await using (var conn = await db.OpenConnectionAsync(ct))
        {
            var role = await conn.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT role FROM app.users WHERE name = @user AND NOT disabled", new { user }, cancellationToken: ct));
            if (role != Dashboard.Roles.Admin)
                throw new DomainRuleException($"'{user}' is not an enabled admin account; closing a case is an admin's action / 结案需管理员账号");
        }
        await CloseCoreAsync(id, reason, note, user, ct);
    }

    private async Task CloseCoreAsync(long id, string reason, string note, string actor, CancellationToken ct)
    {
        if (!OperatorCloseReasons.ContainsKey(reason))
            throw new UsageException($"reason must be one of {string.Join(", ", OperatorCloseReasons.Keys)}, got '{reason}' / 结案原因无效");
        if (string.IsNullOrWhiteSpace(note))
            throw new UsageException("a note of 1-500 characters is required / 需要填写 1 到 500 字的说明");
        note = Dashboard.TextRules.SingleLine(note, "note", "说明", Dashboard.TextRules.ReasonMaxLength);
        var today = Today();
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var before = await conn.QuerySingleOrDefaultAsync<string>(new CommandDefinition(
            "SELECT state FROM app.zero_employment_cases WHERE id = @id FOR UPDATE", new { id }, tx, cancellationToken: ct))
            ?? throw new DomainRuleException($"no zero-employment case {id} / 没有编号为 {id} 的案件");
        var changed = await conn.ExecuteAsync(new CommandDefinition("""
            UPDATE app.zero_employment_cases
            SET state = 'closed', closed_on = greatest(@today, identified_on), close_reason = @reason, close_note = @note, closed_by = @actor, closed_at = now()
            WHERE id = @id AND state IN ('identified', 'overdue')
            """, new { id, today, reason, note, actor }, tx, cancellationToken: ct));
        if (changed == 0)
            throw new DomainRuleException($"case {id} is {before}, not open / 案件 {id} 已{(before == "cleared" ? "清零" : "结案")},不能再结案");
        await AuditLog.WriteAsync(conn, tx, actor, "zero-employment.close", "zero_employment_case", id.ToString(),
            before: new { state = before }, after: new { state = "closed", close_reason = reason }, details: note);
        await tx.CommitAsync(ct);
    }

    public DateOnly Today() => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), jobs.Value.GetZone()).DateTime);
}
