using System.Security.Claims;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using Lingyuan.Jobs.ZeroEmployment;

namespace Lingyuan.Jobs.Tests.Hosting;

/// <summary>Each lifecycle's states are written once, in its state table; the database's CHECK must agree.</summary>
public sealed partial class StateTableFacts(DatabaseFixture fx) : IClassFixture<DatabaseFixture>
{
    /// <summary>Every state table with the column that stores it. A new lifecycle adds its row here.</summary>
    public static TheoryData<string, string, string> Lifecycles => new()
    {
        { "batch", "app.disbursement_batches", "state" },
        { "zero-employment case", "app.zero_employment_cases", "state" },
        { "arrears procedure", "app.arrears_procedures", "state" },
        { "outbox message", "app.outbox", "state" },
        { "register upload", "app.register_uploads", "state" },
    };

    private static IEnumerable<string> StatesOf(string lifecycle) => lifecycle switch
    {
        "batch" => BatchLifecycle.Table.States.Select(BatchLifecycle.Table.Db),
        "zero-employment case" => CaseLifecycle.Table.States.Select(CaseLifecycle.Table.Db),
        "arrears procedure" => ProcedureLifecycle.Table.States.Select(ProcedureLifecycle.Table.Db),
        "outbox message" => Lingyuan.Jobs.Notifications.OutboxLifecycle.Table.States.Select(Lingyuan.Jobs.Notifications.OutboxLifecycle.Table.Db),
        "register upload" => Lingyuan.Jobs.Registers.Upload.UploadLifecycle.Table.States.Select(Lingyuan.Jobs.Registers.Upload.UploadLifecycle.Table.Db),
        _ => throw new ArgumentOutOfRangeException(nameof(lifecycle)),
    };

    [Theory]
    [MemberData(nameof(Lifecycles))]
    public async Task The_database_CHECK_Should_allow_exactly_the_states_of_the_table(string lifecycle, string table, string column)
    {
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var checks = (await conn.QueryAsync<string>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = @table::regclass AND contype = 'c'",
            new { table })).ToList();
        // The one CHECK of the form "state = ANY (ARRAY['a'::text, ...])" names the allowed states.
        var allowed = checks
            .Select(c => Regex.Match(c, $@"^CHECK \(\({column} = ANY \(ARRAY\[(.*)\]\)\)\)$"))
            .Where(m => m.Success)
            .Select(m => Quoted().Matches(m.Groups[1].Value).Select(q => q.Groups[1].Value).ToHashSet())
            .Single();
        Assert.Equal(StatesOf(lifecycle).ToHashSet(), allowed);
    }

    [Fact]
    public void A_state_Should_map_to_snake_case_text_and_back()
    {
        var t = BatchLifecycle.Table;
        Assert.Equal("submitted", t.Db(BatchState.Submitted));
        Assert.Equal(BatchState.Reconciled, t.Parse("reconciled"));
        Assert.Equal("待审批", t.Label("submitted"));
        Assert.Throws<InvalidOperationException>(() => t.Parse("Submitted"));
    }

    [Fact]
    public void A_guard_Should_refuse_a_move_from_another_state_in_Chinese()
    {
        var e = Assert.Throws<DomainRuleException>(() => BatchLifecycle.Table.Require(BatchVerb.Approve, BatchState.Draft, "7"));
        Assert.Contains("批次7当前状态为「草稿」,只有「待审批」状态可以审批通过", e.Message);
        Assert.Equal(BatchState.Approved, BatchLifecycle.Table.Require(BatchVerb.Approve, BatchState.Submitted, "7").To);
    }

    [Fact]
    public void A_button_Should_be_offered_only_to_a_role_the_table_names()
    {
        static ClaimsPrincipal As(string role) => new(new ClaimsIdentity([new Claim(ClaimTypes.Role, role)], "test"));
        Assert.True(BatchLifecycle.Table.Offers(BatchVerb.Submit, BatchState.Draft, As(Roles.Finance)));
        Assert.False(BatchLifecycle.Table.Offers(BatchVerb.Submit, BatchState.Draft, As(Roles.Operator)));
        Assert.False(BatchLifecycle.Table.Offers(BatchVerb.Submit, BatchState.Approved, As(Roles.Finance)));
    }

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex Quoted();
}
