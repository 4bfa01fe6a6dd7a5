using System.Net;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>Issue 19: finance builds a chosen month from the page, approval confirms what it freezes, the XLSX amounts are numbers.</summary>
public sealed class DeskBatchFacts(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly RegisterRows _r = new(fixture.DataSource);
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        await _r.ResetAsync();
        // The service's first month is three months back (before it, the old system paid).
        var current = fixture.Services.GetRequiredService<BureauClock>().CurrentPeriod;
        _server = await TestServer.StartAsync(fixture, extra: new() { ["Disbursements:FirstPeriod"] = Minus(current, 3).ToString() });
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string page, string action, Dictionary<string, string>? fields = null)
    {
        var form = new Dictionary<string, string>(fields ?? []) { ["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(client, page) };
        return await client.PostAsync(action, new FormUrlEncodedContent(form));
    }

    private Period Current => _server.App.Services.GetRequiredService<BureauClock>().CurrentPeriod;

    private static Period Minus(Period p, int months) => Period.Of(p.FirstDay.AddMonths(-months));

    /// <summary>Waits for the worker to run the enqueued build; the batch of the period, built by <paramref name="by"/>.</summary>
    private async Task<long> BuiltAsync(Period period, string by)
    {
        for (var waited = 0; waited < 120; waited++)
        {
            var id = await _r.ScalarAsync<long>("SELECT coalesce(max(id), 0) FROM app.disbursement_batches WHERE period = @p AND state <> 'rejected' AND built_by = @by", new { p = period.FirstDay, by });
            if (id > 0) return id;
            await Task.Delay(500);
        }
        throw new Xunit.Sdk.XunitException($"no batch for {period} built by {by} within a minute");
    }

    [Fact]
    public async Task Without_a_first_month_set_the_page_offers_only_the_months_the_service_owes_and_refuses_an_older_one()
    {
        // Pensions that started in 2015 (the demo's story): those years were paid before the service existed.
        await _r.RecipientAsync(1, start: "2015-01-01");
        await using var plain = await TestServer.StartAsync(fixture);
        var latestDue = plain.App.Services.GetRequiredService<BatchBuilder>().LatestDuePeriod();
        var finance = await plain.SignedInClientAsync("desk-owed-fin", Roles.Finance);

        var page = WebUtility.HtmlDecode(await finance.GetStringAsync("/hangfire/batches"));
        var catchUp = page.Split("id=\"catch-up\"")[1].Split("</div>")[0];
        var offered = System.Text.RegularExpressions.Regex.Matches(catchUp, "data-period=\"([0-9-]+)\"").Select(m => m.Groups[1].Value).ToList();
        var expected = new List<string>();
        for (var p = latestDue; p <= Current; p = p.Next()) expected.Add(p.ToString());
        Assert.Equal(expected, offered);
        Assert.Contains("自本系统的第一个发放月份", page);

        var refused = await PostAsync(finance, "/hangfire/batches", "/hangfire/batches/build", new() { ["period"] = "2015-01" });
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains($"2015-01 早于本系统的第一个发放月份({latestDue})", WebUtility.HtmlDecode(await refused.Content.ReadAsStringAsync()));
        Assert.Equal(0L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_batches"));
    }

    [Fact]
    public async Task The_page_lists_the_catch_up_months_and_a_finance_user_builds_one_of_them()
    {
        var current = Current;
        await _r.RecipientAsync(1, start: Minus(current, 3).FirstDay.ToString("yyyy-MM-dd"));
        await _r.RecipientAsync(2, start: Minus(current, 3).FirstDay.ToString("yyyy-MM-dd"), amountFen: 123_456);
        await _server.App.Services.GetRequiredService<BatchBuilder>().BuildAsync(Minus(current, 2), "test", default);
        var finance = await _server.SignedInClientAsync("desk-build-fin", Roles.Finance);

        var page = WebUtility.HtmlDecode(await finance.GetStringAsync("/hangfire/batches"));
        var catchUp = page.Split("id=\"catch-up\"")[1].Split("</div>")[0];
        foreach (var p in new[] { Minus(current, 3), Minus(current, 1), current })
            Assert.Contains($"data-period=\"{p}\"", catchUp);
        Assert.DoesNotContain($"data-period=\"{Minus(current, 2)}\"", catchUp); // it has its batch
        Assert.DoesNotContain($"data-period=\"{Minus(current, 4)}\"", catchUp); // before the service's first month

        // Not a future month, not a malformed one.
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(finance, "/hangfire/batches", "/hangfire/batches/build", new() { ["period"] = current.Next().ToString() })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(finance, "/hangfire/batches", "/hangfire/batches/build", new() { ["period"] = "2026-13" })).StatusCode);
        var op = await _server.SignedInClientAsync("desk-build-op", Roles.Operator);
        Assert.NotEqual(HttpStatusCode.Redirect, (await op.PostAsync("/hangfire/batches/build", new FormUrlEncodedContent(new Dictionary<string, string> { ["period"] = current.ToString() }))).StatusCode);

        var requested = await PostAsync(finance, "/hangfire/batches", "/hangfire/batches/build", new() { ["period"] = Minus(current, 3).ToString() });
        Assert.Equal(HttpStatusCode.Redirect, requested.StatusCode);
        Assert.Equal($"/hangfire/batches?requested={Minus(current, 3)}", requested.Headers.Location!.OriginalString);
        var id = await BuiltAsync(Minus(current, 3), "desk-build-fin");
        var b = (await Batches.FindAsync(_server.App.Services, id))!;
        Assert.Equal((BatchState.Draft, 2L, 250_000L + 123_456L), (b.State, b.PayableCount, b.PayableTotalFen));
        Assert.Equal(1L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.audit_log WHERE action = 'disbursement.build' AND actor = 'desk-build-fin'"));

        var after = WebUtility.HtmlDecode(await finance.GetStringAsync("/hangfire/batches"));
        Assert.DoesNotContain($"data-period=\"{Minus(current, 3)}\"", after.Split("id=\"catch-up\"")[1].Split("</div>")[0]);
    }

    [Fact]
    public async Task Approval_confirms_period_lines_and_total_and_the_summary_amounts_are_numbers()
    {
        await _r.RecipientAsync(1, amountFen: 222_832_485_58);
        await _r.RecipientAsync(2, amountFen: 1_00);
        var held = await _r.RecipientAsync(3, amountFen: 7_654_32);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'frozen' WHERE id_number = @held", new { held });
        var built = await _server.App.Services.GetRequiredService<BatchBuilder>().BuildAsync(Periods.P("2026-03"), "test", default);
        var page = $"/hangfire/batches/{built.BatchId}";
        var preparer = await _server.SignedInClientAsync("desk-appr-prep", Roles.Finance);
        var approver = await _server.SignedInClientAsync("desk-appr-appr", Roles.Finance);
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(preparer, page, $"{page}/submit")).StatusCode);

        // The batch page offers the confirmation, not a one-click approval.
        var detail = await approver.GetStringAsync(page);
        Assert.Contains($"href=\"{page}/approve\"", detail);
        Assert.DoesNotContain($"action=\"{page}/approve\"", detail);
        var confirm = WebUtility.HtmlDecode(await approver.GetStringAsync($"{page}/approve"));
        Assert.Contains("<td id=\"confirm-period\">2026-03</td>", confirm);
        Assert.Contains("data-value=\"2\">2</td>", confirm);
        Assert.Contains($"data-fen=\"{222_832_485_58L + 1_00}\">222,832,486.58</td>", confirm);

        // Unconfirmed, or confirmed with other figures: refused, nothing frozen.
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(approver, page, $"{page}/approve",
            new() { ["confirmed_count"] = "2", ["confirmed_total_fen"] = "22283248658" })).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await PostAsync(approver, page, $"{page}/approve",
            new() { ["confirm"] = "on", ["confirmed_count"] = "2", ["confirmed_total_fen"] = "100" })).StatusCode);
        Assert.Equal(BatchState.Submitted, (await Batches.FindAsync(_server.App.Services, built.BatchId))!.State);
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(approver, page, $"{page}/approve",
            new() { ["confirm"] = "on", ["confirmed_count"] = "2", ["confirmed_total_fen"] = "22283248658" })).StatusCode);
        var approved = (await Batches.FindAsync(_server.App.Services, built.BatchId))!;
        Assert.Equal((BatchState.Approved, 2L, 22_283_248_658L), (approved.State, approved.ApprovedLineCount, approved.ApprovedTotalFen));

        var ms = new MemoryStream();
        await (await approver.GetStreamAsync($"{page}/summary.xlsx")).CopyToAsync(ms);
        ms.Position = 0;
        var amounts = XlsxCells.Column(ms, "汇总", "金额(元)");
        Assert.All(amounts, c => Assert.True(c.IsNumber, $"amount cell of type {c.Type}: {c.Value}"));
        Assert.All(amounts, c => Assert.Equal("#,##0.00", c.FormatCode));
        Assert.Equal(222_832_486.58m, amounts.Sum(c => decimal.Parse(c.Value, System.Globalization.CultureInfo.InvariantCulture)));
        ms.Position = 0;
        var heldAmount = Assert.Single(XlsxCells.Column(ms, "暂停发放", "金额(元)"));
        Assert.True(heldAmount.IsNumber);
        Assert.Equal(("#,##0.00", "7654.32"), (heldAmount.FormatCode, heldAmount.Value));
        ms.Position = 0;
        Assert.All(XlsxCells.Column(ms, "汇总", "期别"), c => Assert.False(c.IsNumber)); // text stays text
    }
}
