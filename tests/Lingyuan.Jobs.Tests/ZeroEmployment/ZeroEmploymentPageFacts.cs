using System.Net;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.ZeroEmployment;
using MiniExcelLibs;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

public sealed class ZeroEmploymentPageFixture : DatabaseFixture
{
    public const string Household = "=HYPERLINK(\"http://evil.test\")";
    public const string Community = "<script>alert(1)</script>社区";
    public const string CaseworkerEmail = "Wang.Fang@page.test";
    public TestServer Server { get; private set; } = null!;
    public string[] Ids { get; private set; } = [];
    public long CaseId { get; private set; }

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        await using var conn = await DataSource.OpenConnectionAsync();
        Ids = await ZeroEmploymentData.InsertAsync(conn, null,
            new Member(Household, new DateOnly(1985, 1, 1), Male: true, Community: Community),
            new Member("H-PLAIN", new DateOnly(1990, 1, 1), Male: false));
        // H-PLAIN's community has a caseworker in the register; the other community has none.
        await ZeroEmploymentData.AddCommunityAsync(conn, "城关街道", "南街社区", "王芳", CaseworkerEmail);
        await Services.GetRequiredService<ZeroEmploymentCheck>().RunAsync(new DateOnly(2026, 3, 2), CancellationToken.None);
        CaseId = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.zero_employment_cases WHERE household_no = 'H-PLAIN'");
        Server = await TestServer.StartAsync(this, AppRole.Dashboard);
    }

    public override async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

public class ZeroEmploymentPageFacts(ZeroEmploymentPageFixture fx) : IClassFixture<ZeroEmploymentPageFixture>
{
    private const string Base = "/hangfire/zero-employment";

    [Fact]
    public async Task An_operator_reads_the_ledger_and_the_case_with_masked_ids_and_escaped_register_text()
    {
        var client = await fx.Server.SignedInClientAsync("ze-operator", Roles.Operator);
        var ledger = await client.GetStringAsync($"{Base}?month=2026-03");
        Assert.Contains("全市合计", ledger);
        Assert.DoesNotContain("<script>alert(1)</script>", ledger);
        Assert.Contains("&lt;script&gt;", ledger);

        var list = await client.GetStringAsync($"{Base}/cases?month=2026-03");
        foreach (var id in fx.Ids)
        {
            Assert.DoesNotContain(id, list);
            Assert.Contains(Html.Encode(id[..6] + "********" + id[^4..]), list);
        }

        var page = await client.GetStringAsync($"{Base}/cases/{fx.CaseId}");
        Assert.Contains(Html.Encode("劳动年龄内、有劳动能力和就业意愿,未就业"), page);
        Assert.DoesNotContain("action=\"" + Base + $"/cases/{fx.CaseId}/close\"", page); // no form for a read-only account
    }

    [Fact]
    public async Task An_operator_may_not_close_a_case_and_a_finance_user_may_not_see_the_page()
    {
        var op = await fx.Server.SignedInClientAsync("ze-operator2", Roles.Operator);
        var token = await TestServer.AntiforgeryTokenAsync(op, $"{Base}/cases/{fx.CaseId}");
        var response = await op.PostAsync($"{Base}/cases/{fx.CaseId}/close", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token,
            ["reason"] = "moved",
            ["note"] = "迁往朝阳市",
        }));
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);

        var finance = await fx.Server.SignedInClientAsync("ze-finance", Roles.Finance);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync(Base)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync($"{Base}/export.xlsx")).StatusCode);
    }

    [Fact]
    public async Task An_admin_closes_a_case_for_another_reason_only_with_an_antiforgery_token()
    {
        var admin = await fx.Server.SignedInClientAsync("ze-admin", Roles.Admin);
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var id = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.zero_employment_cases WHERE household_no = @h", new { h = ZeroEmploymentPageFixture.Household });
        var form = new Dictionary<string, string> { ["reason"] = "moved", ["note"] = "已迁往朝阳市双塔区" };

        // A proposal is decided first (an admin may, for any community), then it can be closed.
        var decided = await admin.PostAsync($"{Base}/cases/{id}/decide", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(admin, $"{Base}/cases/{id}"),
            ["decision"] = "confirm",
            ["note"] = "管理员代为确认",
        }));
        Assert.Equal(HttpStatusCode.Redirect, decided.StatusCode);

        var noToken = await admin.PostAsync($"{Base}/cases/{id}/close", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.BadRequest, noToken.StatusCode);
        Assert.Equal("identified", await conn.ExecuteScalarAsync<string>("SELECT state FROM app.zero_employment_cases WHERE id = @id", new { id }));

        form["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(admin, $"{Base}/cases/{id}");
        var ok = await admin.PostAsync($"{Base}/cases/{id}/close", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.Redirect, ok.StatusCode);
        var row = await conn.QuerySingleAsync<(string, string, string, string)>(
            "SELECT state, close_reason, close_note, closed_by FROM app.zero_employment_cases WHERE id = @id", new { id });
        Assert.Equal(("closed", "moved", "已迁往朝阳市双塔区", "ze-admin"), row);

        form["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(admin, $"{Base}/cases/{id}");
        var again = await admin.PostAsync($"{Base}/cases/{id}/close", new FormUrlEncodedContent(form));
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
    }

    [Fact]
    public async Task The_export_holds_the_ledger_and_the_cases_with_formulas_neutralised()
    {
        var client = await fx.Server.SignedInClientAsync("ze-operator3", Roles.Operator);
        var response = await client.GetAsync($"{Base}/export.xlsx?month=2026-03");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var stream = new MemoryStream(await response.Content.ReadAsByteArrayAsync());

        var cases = stream.Query(useHeaderRow: true, sheetName: "案件").Cast<IDictionary<string, object?>>().ToList();
        Assert.Equal(2, cases.Count);
        var households = cases.Select(c => c["户号"]?.ToString()).ToList();
        Assert.Contains("'" + ZeroEmploymentPageFixture.Household, households);
        Assert.DoesNotContain(households, h => h!.StartsWith('='));
        var members = string.Join(" ", cases.Select(c => c["成员(脱敏)"]));
        Assert.All(fx.Ids, id => Assert.DoesNotContain(id, members));

        stream.Position = 0;
        var ledger = stream.Query(useHeaderRow: true, sheetName: "台账").Cast<IDictionary<string, object?>>().ToList();
        var total = Assert.Single(ledger, r => (string?)r["街道"] == "全市合计");
        // Proposed in March, not confirmed in March: none identified, both awaiting confirmation at the month's end.
        Assert.Equal(0, Convert.ToInt32(total["认定"]));
        Assert.Equal(2, Convert.ToInt32(total["待确认"]));
    }

    [Fact]
    public async Task A_caseworker_sees_and_decides_only_the_proposals_of_the_communities_whose_register_row_names_their_email()
    {
        var users = fx.Server.App.Services.GetRequiredService<UserStore>();
        var client = await fx.Server.SignedInClientAsync("ze-caseworker", Roles.Caseworker);
        await users.SetEmailAsync("ze-caseworker", "wang.fang@PAGE.test", "test", CancellationToken.None); // compared case-insensitively
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        var other = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.zero_employment_cases WHERE household_no = @h", new { h = ZeroEmploymentPageFixture.Household });

        var proposals = await client.GetStringAsync($"{Base}/proposals");
        Assert.Contains("H-PLAIN", proposals);
        Assert.DoesNotContain(Html.Encode(ZeroEmploymentPageFixture.Household), proposals);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Base}/cases/{other}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync($"{Base}/export.xlsx")).StatusCode);

        var token = await TestServer.AntiforgeryTokenAsync(client, $"{Base}/proposals");
        var refused = await client.PostAsync($"{Base}/cases/{other}/decide", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = token, ["decision"] = "reject", ["note"] = "不是我的社区",
        }));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var state = await conn.ExecuteScalarAsync<string>("SELECT state FROM app.zero_employment_cases WHERE id = @other", new { other });
        Assert.NotEqual("rejected", state);

        // The home page's line of work waiting counts the caseworker's own proposals only.
        var principal = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new(System.Security.Claims.ClaimTypes.Name, "ze-caseworker"), new(System.Security.Claims.ClaimTypes.Role, Roles.Caseworker)], "test"));
        var notices = fx.Server.App.Services.GetServices<IHomeNotices>().OfType<ZeroEmploymentNotices>().Single();
        var before = await notices.ForAsync(principal, CancellationToken.None);
        Assert.StartsWith("1 户疑似零就业家庭待确认", Assert.Single(before).TextZh);

        var ledger = await client.GetStringAsync($"{Base}?month=2026-03");
        Assert.Contains("南街社区", ledger);
        Assert.DoesNotContain("&lt;script&gt;", ledger);
    }

    [Theory]
    [InlineData("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0")]
    [InlineData("+1", "'+1")]
    [InlineData("-1", "'-1")]
    [InlineData("@SUM(1)", "'@SUM(1)")]
    [InlineData("南街社区", "南街社区")]
    public void A_cell_starting_like_a_formula_gets_a_leading_quote(string value, string expected) =>
        Assert.Equal(expected, ZeroEmploymentPages.Cell(value));
}
