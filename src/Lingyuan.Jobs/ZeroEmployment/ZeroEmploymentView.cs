using System.Text.Json;
using System.Text.Json.Serialization;
using Lingyuan.Jobs.Database;

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
    long Id, string HouseholdNo, string Street, string Community, CaseState State,
    DateOnly ProposedOn, DateOnly? IdentifiedOn, DateOnly? Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn,
    DateOnly? ClearedOn, DateOnly? ClosedOn, string? CloseReason, string? CloseNote, string? ClosedBy,
    string? CaseworkerName, string? CaseworkerEmail, CaseReason Reason, IReadOnlyList<ClearedMember> ClearedBy,
    string? DecidedBy = null, DateTimeOffset? DecidedAt = null, string? DecisionNote = null, DateOnly? RejectedOn = null);

/// <summary>The View slice: reading cases for the pages, the export and the check's mails.</summary>
public sealed class ZeroEmploymentView(Work work)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string SelectCase = """
        SELECT c.id, c.household_no AS HouseholdNo, c.street, c.community, c.state, c.proposed_on AS ProposedOn, c.identified_on AS IdentifiedOn, c.deadline,
               c.reminded_on AS RemindedOn, c.overdue_on AS OverdueOn, c.cleared_on AS ClearedOn, c.closed_on AS ClosedOn,
               c.close_reason AS CloseReason, c.close_note AS CloseNote, c.closed_by AS ClosedBy,
               cw.caseworker_name AS CaseworkerName, nullif(btrim(cw.caseworker_email), '') AS CaseworkerEmail,
               c.reason::text AS Reason, coalesce(c.cleared_by, '[]')::text AS ClearedBy,
               c.decided_by AS DecidedBy, c.decided_at AS DecidedAt, c.decision_note AS DecisionNote, c.rejected_on AS RejectedOn
        FROM app.zero_employment_cases c
        LEFT JOIN app.communities cw ON cw.street = c.street AND cw.community = c.community
        """;

    private sealed record Row(
        long Id, string HouseholdNo, string Street, string Community, string State,
        DateOnly ProposedOn, DateOnly? IdentifiedOn, DateOnly? Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn,
        DateOnly? ClearedOn, DateOnly? ClosedOn, string? CloseReason, string? CloseNote, string? ClosedBy,
        string? CaseworkerName, string? CaseworkerEmail, string Reason, string ClearedBy,
        string? DecidedBy, DateTime? DecidedAt, string? DecisionNote, DateOnly? RejectedOn)
    {
        public CaseView ToView() => new(Id, HouseholdNo, Street, Community, CaseLifecycle.Table.Parse(State),
            ProposedOn, IdentifiedOn, Deadline, RemindedOn, OverdueOn, ClearedOn, ClosedOn, CloseReason, CloseNote, ClosedBy,
            CaseworkerName, CaseworkerEmail,
            JsonSerializer.Deserialize<CaseReason>(Reason, Json)!, JsonSerializer.Deserialize<List<ClearedMember>>(ClearedBy, Json)!,
            DecidedBy, DecidedAt is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null, DecisionNote, RejectedOn);
    }

    /// <summary>The cases a chunk of the check's mails is about, in the check's transaction.</summary>
    public static async Task<Dictionary<long, CaseView>> LoadForMailAsync(UnitOfWork uow, long[] ids)
    {
        if (ids.Length == 0) return [];
        var rows = await uow.ListAsync<Row>(SelectCase + " WHERE c.id = ANY(@ids)", new { ids });
        return rows.Select(r => r.ToView()).ToDictionary(c => c.Id);
    }

    /// <summary>Every open overdue case (the weekly digest), oldest deadline first.</summary>
    public static async Task<IReadOnlyList<CaseView>> OpenOverdueAsync(UnitOfWork uow) =>
        (await uow.ListAsync<Row>(SelectCase + " WHERE c.state = @overdue ORDER BY c.deadline, c.id",
            new { overdue = CaseLifecycle.Table.Db(CaseState.Overdue) }))
        .Select(r => r.ToView()).ToList();

    /// <summary>
    /// The home page's counts of proposals awaiting confirmation and open cases (being helped, overdue), within a
    /// scope (<see cref="ScopeOfAsync(string, CancellationToken)"/>: null = every community).
    /// </summary>
    public Task<(long Proposed, long Identified, long Overdue)> OpenCountsAsync(string? scope, CancellationToken ct) =>
        work.RunAsync("zero-employment.open-counts", uow => uow.SingleAsync<(long, long, long)>(
            $"""
            SELECT count(*) FILTER (WHERE c.state = '{CaseLifecycle.Table.Db(CaseState.Proposed)}'),
                   count(*) FILTER (WHERE c.state = '{CaseLifecycle.Table.Db(CaseState.Identified)}'),
                   count(*) FILTER (WHERE c.state = '{CaseLifecycle.Table.Db(CaseState.Overdue)}')
            FROM app.zero_employment_cases c
            WHERE c.state IN ('{CaseLifecycle.Table.Db(CaseState.Proposed)}', '{CaseLifecycle.Table.Db(CaseState.Identified)}', '{CaseLifecycle.Table.Db(CaseState.Overdue)}')
              AND {InScopeSql}
            """, new { scope }), ct);

    /// <summary>One case, if within the scope (null = any community; else a caseworker's e-mail).</summary>
    public Task<CaseView?> FindAsync(long id, CancellationToken ct, string? scope = null) =>
        work.RunAsync("zero-employment.view", async uow =>
            (await uow.SingleOrDefaultAsync<Row>(SelectCase + $" WHERE c.id = @id AND {InScopeSql}", new { id, scope }))?.ToView(),
            ct, new WorkOptions { RecordId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>
    /// The SQL condition "case <c>c</c> is within the scope <c>@scope</c>": null = every community (admin,
    /// operator); otherwise the e-mail of a caseworker account, and only the communities whose register row
    /// names it (app.communities.caseworker_email, compared trimmed and case-insensitively).
    /// </summary>
    public const string InScopeSql = """
        (@scope::text IS NULL OR EXISTS (
            SELECT 1 FROM app.communities s
            WHERE s.street = c.street AND s.community = c.community AND lower(btrim(s.caseworker_email)) = lower(btrim(@scope))))
        """;

    /// <summary>
    /// Whose communities a signed-in account sees: null for every role but caseworker (all communities);
    /// for a caseworker the account's e-mail, or "" when it has none (it then sees nothing).
    /// </summary>
    public static async Task<string?> ScopeOfAsync(UnitOfWork uow, string user)
    {
        var row = await uow.SingleOrDefaultAsync<(string Role, string? Email)>(
            "SELECT role, email FROM app.users WHERE name = @user AND NOT disabled", new { user });
        return row.Role != Dashboard.Roles.Caseworker && row.Role is not null ? null : (row.Email ?? "");
    }

    public Task<string?> ScopeOfAsync(string user, CancellationToken ct) =>
        work.RunAsync("zero-employment.scope", uow => ScopeOfAsync(uow, user), ct);

    /// <summary>Cases of a place (null = all) within a scope that were open or proposed at some time in the month, newest first.</summary>
    public Task<IReadOnlyList<CaseView>> ListAsync(DateOnly month, string? street, string? community, int limit, CancellationToken ct, string? scope = null)
    {
        var (start, end) = (month, month.AddMonths(1));
        return work.RunAsync<IReadOnlyList<CaseView>>("zero-employment.list", async uow =>
            (await uow.ListAsync<Row>(SelectCase + $"""
                 WHERE (@street::text IS NULL OR c.street = @street) AND (@community::text IS NULL OR c.community = @community)
                   AND c.proposed_on < @end AND coalesce(c.cleared_on, c.closed_on, c.rejected_on, 'infinity') >= @start
                   AND {InScopeSql}
                 ORDER BY c.proposed_on DESC, c.id DESC
                 LIMIT @limit
                """, new { street, community, start, end, limit, scope }))
            .Select(r => r.ToView()).ToList(), ct);
    }

    /// <summary>The proposals awaiting a decision within a scope, oldest first.</summary>
    public Task<IReadOnlyList<CaseView>> ProposalsAsync(string? scope, int limit, CancellationToken ct) =>
        work.RunAsync<IReadOnlyList<CaseView>>("zero-employment.proposals", async uow =>
            (await uow.ListAsync<Row>(SelectCase + $"""
                 WHERE c.state = @proposed AND {InScopeSql}
                 ORDER BY c.proposed_on, c.street, c.community, c.id
                 LIMIT @limit
                """, new { proposed = CaseLifecycle.Table.Db(CaseState.Proposed), scope, limit }))
            .Select(r => r.ToView()).ToList(), ct);
}
