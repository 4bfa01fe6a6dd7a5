using System.Net;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using MiniExcelLibs;
using static Lingyuan.Jobs.Tests.Disbursements.Periods;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>The batches page over real HTTP: four eyes (403), roles, antiforgery, masking, downloads.</summary>
public sealed class BatchesPageTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly RegisterRows _r = new(fixture.DataSource);
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        await _r.ResetAsync();
        _server = await TestServer.StartAsync(fixture);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string page, string action, Dictionary<string, string>? fields = null)
    {
        var form = new Dictionary<string, string>(fields ?? []) { ["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(client, page) };
        return await client.PostAsync(action, new FormUrlEncodedContent(form));
    }

    [Fact]
    public async Task The_batch_page_lists_new_stopped_and_changed_recipients_against_last_month()
    {
        await _r.RecipientAsync(1);
        var stops = await _r.RecipientAsync(2);
        var raised = await _r.RecipientAsync(3, amountFen: 100_000);
        var builder = _server.App.Services.GetRequiredService<BatchBuilder>();
        var feb = await builder.BuildAsync(P("2026-02"), "test", default);
        await _r.ExecAsync("UPDATE app.entitlements SET end_period = '2026-02-01' WHERE id_number = @stops", new { stops });
        await _r.ExecAsync("UPDATE app.entitlements SET monthly_amount_fen = 110000 WHERE id_number = @raised", new { raised });
        var joins = await _r.RecipientAsync(4, start: "2026-03-01");
        var mar = await builder.BuildAsync(P("2026-03"), "test", default);
        var finance = await _server.SignedInClientAsync("page-changes", Roles.Finance);

        var first = WebUtility.HtmlDecode(await finance.GetStringAsync($"/hangfire/batches/{feb.BatchId}"));
        Assert.Contains("新增 0 人次,停发 0 人次,金额变动 0 人次", first); // no earlier month to compare with
        var html = WebUtility.HtmlDecode(await finance.GetStringAsync($"/hangfire/batches/{mar.BatchId}"));
        Assert.Contains("新增 1 人次,停发 1 人次,金额变动 1 人次", html);
        Assert.Matches($@"<td>新增</td><td>{System.Text.RegularExpressions.Regex.Escape(Mask.IdNumber(joins))}</td>", html);
        Assert.Matches($@"<td>停发</td><td>{System.Text.RegularExpressions.Regex.Escape(Mask.IdNumber(stops))}</td>", html);
        Assert.Matches($@"<td>金额变动</td><td>{System.Text.RegularExpressions.Regex.Escape(Mask.IdNumber(raised))}</td>.*1,000\.00.*1,100\.00", html);
    }

    [Fact]
    public async Task The_preparer_gets_403_on_approve_and_another_finance_user_approves()
    {
        var id = await _r.RecipientAsync(1, name: "=HYPERLINK(\"http://x\")");
        await _r.RecipientAsync(2);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'lost' WHERE id_number = @id", new { id });
        var b = await _server.App.Services.GetRequiredService<BatchBuilder>().BuildAsync(P("2026-03"), "test", default);
        var page = $"/hangfire/batches/{b.BatchId}";

        var preparer = await _server.SignedInClientAsync("page-preparer", Roles.Finance);
        var approver = await _server.SignedInClientAsync("page-approver", Roles.Finance);
        var op = await _server.SignedInClientAsync("page-operator", Roles.Operator);

        Assert.NotEqual(HttpStatusCode.OK, (await op.GetAsync(page)).StatusCode);
        var html = WebUtility.HtmlDecode(await preparer.GetStringAsync(page));
        Assert.Contains(Mask.IdNumber(id), html);
        Assert.DoesNotContain(id, html);
        Assert.DoesNotContain(RegisterRows.Account(2), html);
        Assert.Contains(Mask.Account(RegisterRows.Account(2)), html);
        Assert.Contains("社保卡金融功能未激活或已冻结挂失", html);

        // Without the antiforgery token nothing happens.
        var forged = await preparer.PostAsync($"{page}/submit", new FormUrlEncodedContent([]));
        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(preparer, page, $"{page}/submit")).StatusCode);

        var own = await PostAsync(preparer, page, $"{page}/approve");
        Assert.Equal(HttpStatusCode.Forbidden, own.StatusCode);
        Assert.Contains("双人复核", WebUtility.HtmlDecode(await own.Content.ReadAsStringAsync()));
        Assert.Equal(BatchState.Submitted, (await Batches.FindAsync(_server.App.Services, b.BatchId))!.State);

        // Issue 19: approval needs the confirmation of what it freezes (period, line count, total), echoed by the form.
        var unconfirmed = await PostAsync(approver, page, $"{page}/approve");
        Assert.Equal(HttpStatusCode.Conflict, unconfirmed.StatusCode);
        Assert.Contains("核对", WebUtility.HtmlDecode(await unconfirmed.Content.ReadAsStringAsync()));
        Assert.Equal(BatchState.Submitted, (await Batches.FindAsync(_server.App.Services, b.BatchId))!.State);
        Assert.Equal(HttpStatusCode.Redirect, (await PostAsync(approver, page, $"{page}/approve",
            new() { ["confirm"] = "on", ["confirmed_count"] = "1", ["confirmed_total_fen"] = "250000" })).StatusCode);
        var approved = (await Batches.FindAsync(_server.App.Services, b.BatchId))!;
        Assert.Equal((BatchState.Approved, "page-preparer", "page-approver"), (approved.State, approved.SubmittedBy, approved.DecidedBy));

        var bank = await (await PostAsync(approver, page, $"{page}/bank-file")).Content.ReadAsStringAsync();
        Assert.StartsWith($"H,{b.BatchId},2026-03,1,250000,{approved.ApprovedSha256}\n", bank);

        // The bank's return file uploaded on the page reconciles the batch.
        var lineId = (await _r.LinesAsync(b.BatchId)).Single(l => l.Status == "payable").Id;
        var upload = new MultipartFormDataContent
        {
            { new StringContent(await TestServer.AntiforgeryTokenAsync(approver, page)), "__RequestVerificationToken" },
            { new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes($"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{lineId},paid,2500.00,T1,,\n")), "file", "returns.csv" },
        };
        var reconciled = await approver.PostAsync($"{page}/reconcile", upload);
        Assert.Equal(HttpStatusCode.OK, reconciled.StatusCode);
        Assert.Contains("已对账", WebUtility.HtmlDecode(await reconciled.Content.ReadAsStringAsync()));
        Assert.Equal(BatchState.Reconciled, (await Batches.FindAsync(_server.App.Services, b.BatchId))!.State);

        // The XLSX neutralises a formula in a name; search by the masked ID finds the line.
        var xlsx = await approver.GetStreamAsync($"{page}/summary.xlsx");
        var ms = new MemoryStream();
        await xlsx.CopyToAsync(ms);
        ms.Position = 0;
        var heldRows = ms.Query(useHeaderRow: true, sheetName: "暂停发放").Cast<IDictionary<string, object>>().ToList();
        Assert.Equal("'=HYPERLINK(\"http://x\")", Assert.Single(heldRows)["姓名"]);
        var search = WebUtility.HtmlDecode(await approver.GetStringAsync($"{page}?q={Uri.EscapeDataString(Mask.IdNumber(id))}"));
        Assert.Contains("原因", search);
        Assert.Contains(Mask.IdNumber(id), search);
        Assert.DoesNotContain(Mask.IdNumber(RegisterRows.IdNumber(2)), search.Split("id=\"lines\"")[1]);
    }
}
