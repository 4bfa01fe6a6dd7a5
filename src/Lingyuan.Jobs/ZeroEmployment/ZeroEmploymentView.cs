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
    DateOnly IdentifiedOn, DateOnly Deadline, DateOnly? RemindedOn, DateOnly? OverdueOn,
    DateOnly? ClearedOn, DateOnly? ClosedOn, string? CloseReason, string? CloseNote, string? ClosedBy,
    string? CaseworkerName, string? CaseworkerEmail, CaseReason Reason, IReadOnlyList<ClearedMember> ClearedBy);

/// <summary>The View slice: reading cases for the pages, the export and the check's mails.</summary>
public sealed class ZeroEmploymentView(Work work)
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
        public CaseView ToView() => new(Id, HouseholdNo, Street, Community, CaseLifecycle.Table.Parse(State),
            IdentifiedOn, Deadline, RemindedOn, OverdueOn, ClearedOn, ClosedOn, CloseReason, CloseNote, ClosedBy,
            CaseworkerName, CaseworkerEmail,
            JsonSerializer.Deserialize<CaseReason>(Reason, Json)!, JsonSerializer.Deserialize<List<ClearedMember>>(ClearedBy, Json)!);
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
    /// The home page's counts of open cases (being helped, overdue): of the communities whose register row names
    /// <paramref name="caseworker"/>'s e-mail, or of all communities when null.
    /// </summary>
    public Task<(long Identified, long Overdue)> OpenCountsAsync(string? caseworker, CancellationToken ct) =>
        work.RunAsync("zero-employment.open-counts", uow => uow.SingleAsync<(long, long)>(
            $"""
            SELECT count(*) FILTER (WHERE c.state = '{CaseLifecycle.Table.Db(CaseState.Identified)}'),
                   count(*) FILTER (WHERE c.state = '{CaseLifecycle.Table.Db(CaseState.Overdue)}')
            FROM app.zero_employment_cases c
            WHERE c.state IN ('{CaseLifecycle.Table.Db(CaseState.Identified)}', '{CaseLifecycle.Table.Db(CaseState.Overdue)}')
              AND (@caseworker::text IS NULL OR EXISTS (
                    SELECT 1 FROM app.communities m JOIN app.users u ON lower(u.email) = lower(m.caseworker_email)
                    WHERE m.street = c.street AND m.community = c.community AND u.name = @caseworker))
            """, new { caseworker }), ct);

    public Task<CaseView?> FindAsync(long id, CancellationToken ct) =>
        work.RunAsync("zero-employment.view", async uow =>
            (await uow.SingleOrDefaultAsync<Row>(SelectCase + " WHERE c.id = @id", new { id }))?.ToView(),
            ct, new WorkOptions { RecordId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) });

    /// <summary>Cases of a place (null = all) that were open at some time in the month, newest first.</summary>
    public Task<IReadOnlyList<CaseView>> ListAsync(DateOnly month, string? street, string? community, int limit, CancellationToken ct)
    {
        var (start, end) = (month, month.AddMonths(1));
        return work.RunAsync<IReadOnlyList<CaseView>>("zero-employment.list", async uow =>
            (await uow.ListAsync<Row>(SelectCase + """
                 WHERE (@street::text IS NULL OR c.street = @street) AND (@community::text IS NULL OR c.community = @community)
                   AND c.identified_on < @end AND coalesce(c.cleared_on, c.closed_on, 'infinity') >= @start
                 ORDER BY c.identified_on DESC, c.id DESC
                 LIMIT @limit
                """, new { street, community, start, end, limit }))
            .Select(r => r.ToView()).ToList(), ct);
    }
}
