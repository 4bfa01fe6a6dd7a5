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

    private static async Task<(HttpStatusCode Status, string Html)> UploadReturnsAsync(HttpClient client, string page, string rows)
    {
        var upload = new MultipartFormDataContent
        {
            { new StringContent(await TestServer.AntiforgeryTokenAsync(client, page)), "__RequestVerificationToken" },
            { new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n" + rows)), "file", "returns.csv" },
        };
        var response = await client.PostAsync($"{page}/reconcile", upload);
        return (response.StatusCode, WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync()));
    }

    [Fact]
    public async Task After_reconciliation_the_page_shows_the_outcomes_and_each_failed_payment_and_a_bad_file_is_explained_in_Chinese()
    {
        var first = await _r.RecipientAsync(1, amountFen: 100_000);
        var second = await _r.RecipientAsync(2, amountFen: 200_000);
        var preparer = await _server.SignedInClientAsync("outcome-preparer", Roles.Finance);
        var finance = await _server.SignedInClientAsync("outcome-approver", Roles.Finance);
        var b = await _server.App.Services.GetRequiredService<BatchBuilder>().BuildAsync(P("2026-03"), "test", default);
        var review = _server.App.Services.GetRequiredService<BatchReview>();
        await review.SubmitAsync(b.BatchId, "outcome-preparer", default);
        await review.ApproveAsync(b.BatchId, "outcome-approver", default);
        var page = $"/hangfire/batches/{b.BatchId}";
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(finance, page, $"{page}/bank-file")).StatusCode);
        Assert.Contains("尚未导入银行回盘文件", WebUtility.HtmlDecode(await finance.GetStringAsync(page)));
        var lines = await _r.LinesAsync(b.BatchId);
        var (one, two) = (lines.Single(l => l.IdNumber == first).Id, lines.Single(l => l.IdNumber == second).Id);

        // A bad file: nothing applied, each problem on its file line in Chinese, amounts in yuan.
        var (status, bad) = await UploadReturnsAsync(finance, page, $"{one},paid,1000.01,T1,,\n{one},paid,1000.00,T1,,\n999999,paid,1.00,,,\n{two},ok,2000.00,,,\n");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains($"<li>第 2 行:流水引用 {one} 回盘金额 1,000.01 元,与发放金额 1,000.00 元不符</li>", bad);
        Assert.Contains($"<li>第 3 行:流水引用 {one} 重复(首次出现在第 2 行)</li>", bad);
        Assert.Contains($"<li>第 4 行:本批次(编号 {b.BatchId})没有流水引用 999999</li>", bad);
        Assert.Contains("<li>第 5 行:状态“ok”无效,应为 paid(成功)或 failed(失败)</li>", bad);
        Assert.Contains("本次未登记任何记录", bad);
        Assert.DoesNotContain("<li>未应用任何记录</li>", bad);
        Assert.DoesNotContain(" fen", bad);
        Assert.Contains("尚未导入银行回盘文件", WebUtility.HtmlDecode(await finance.GetStringAsync(page)));

        // Part of the answers, then the whole file (one line failed), then the same file again.
        var (_, partly) = await UploadReturnsAsync(finance, page, $"{one},paid,1000.00,T1,,\n");
        Assert.Contains("文件共 1 行,本次登记 1 笔(成功 1 笔,失败 0 笔);", partly);
        Assert.Contains("<title>回盘已导入,尚有发放未回盘", partly);
        var html = WebUtility.HtmlDecode(await finance.GetStringAsync(page));
        Assert.Contains("已回盘 1 笔(共 2 笔):成功 1 笔;失败(退票)0 笔,0.00 元;尚未回盘 1 笔。", html);
        var whole = $"{one},paid,1000.00,T1,,\n{two},failed,2000.00,,E05,账户已销户\n";
        var (_, rest) = await UploadReturnsAsync(finance, page, whole);
        Assert.Contains("文件共 2 行,本次登记 1 笔(成功 0 笔,失败 1 笔),另有 1 行此前已登记,未重复登记;", rest);
        Assert.Contains("批次状态:已对账", rest);
        html = WebUtility.HtmlDecode(await finance.GetStringAsync(page));
        Assert.Contains("已回盘 2 笔(共 2 笔):成功 1 笔,1,000.00 元;失败(退票)1 笔,2,000.00 元。", html);
        var failed = html.Split("id=\"failed-lines\"")[1].Split("</table>")[0];
        Assert.Contains($"<td>{two}</td><td>{Mask.IdNumber(second)}</td>", failed);
        Assert.Contains("<td>E05</td><td>账户已销户</td><td>待更正后补发</td>", failed);
        Assert.DoesNotContain($"<td>{one}</td>", failed);
        // The lines list says what the bank answered for each line.
        var listed = html.Split("id=\"lines\"")[1];
        Assert.Matches($@"<tr><td>{one}</td>.*?<td>已发放</td></tr>", listed);
        Assert.Matches($@"<tr><td>{two}</td>.*?<td>退票</td></tr>", listed);
        var (_, again) = await UploadReturnsAsync(finance, page, whole);
        Assert.Contains("文件共 2 行,均已在此前导入的回盘文件中登记,本次未作任何更改", again);
        Assert.DoesNotContain("reconcile-otherwise", again);
        // The bank sends the failure again with another code: the first answer stays, and the clerk is told.
        var (_, otherwise) = await UploadReturnsAsync(finance, page, $"{two},failed,2000.00,,E99,户名不符\n");
        Assert.Contains("其中 1 行为已登记的退票,但银行失败代码或原因与首次登记的不同", otherwise);
        Assert.Contains("<td>E05</td><td>账户已销户</td>", WebUtility.HtmlDecode(await finance.GetStringAsync(page)));

        // The XLSX summary lists every failed payment.
        var ms = new MemoryStream();
        await (await finance.GetStreamAsync($"{page}/summary.xlsx")).CopyToAsync(ms);
        ms.Position = 0;
        var returned = ms.Query(useHeaderRow: true, sheetName: "退票").Cast<IDictionary<string, object>>().ToList();
        Assert.Equal("账户已销户", Assert.Single(returned)["失败原因"]);
        Assert.Equal("待更正后补发", returned[0]["补发批次"]);
    }
}
