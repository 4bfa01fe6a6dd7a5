using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Inspections;
using Lingyuan.Jobs.Tests.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.WageArrears;
using Lingyuan.Jobs.ZeroEmployment;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Security;

public sealed class RequestSafetyFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;
    public HttpClient Admin { get; private set; } = null!;
    public HttpClient Inspector { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.Dashboard, new() { ["Dashboard:LoginAttemptsPerMinute"] = "1000" });
        Admin = await Server.SignedInClientAsync("safety-admin", Roles.Admin);
        Inspector = await Server.SignedInClientAsync("safety-inspector", Roles.Inspection);
    }

    public override async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>Findings 4–7 of issue 14 (requests and pages) over real HTTP against the in-process Kestrel server.</summary>
public sealed partial class RequestSafetyFacts(RequestSafetyFixture fx, ITestOutputHelper output) : IClassFixture<RequestSafetyFixture>
{
    private string Origin => fx.Server.BaseAddress.GetLeftPart(UriPartial.Authority);

    private static async Task<HttpResponseMessage> PostFormAsync(HttpClient client, string page, string action,
        Dictionary<string, string>? fields = null, string? origin = null, string? referer = null)
    {
        var form = new Dictionary<string, string>(fields ?? []) { ["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(client, page) };
        var request = new HttpRequestMessage(HttpMethod.Post, action) { Content = new FormUrlEncodedContent(form) };
        if (origin is not null) request.Headers.Add("Origin", origin);
        if (referer is not null) request.Headers.Referrer = new Uri(referer);
        return await client.SendAsync(request);
    }

    private async Task<long> PlanAsync(string name)
    {
        var plans = fx.Services.GetRequiredService<InspectionPlans>();
        var plan = await plans.CreateAsync(new PlanInput(name, "2099-01", plans.Today.AddDays(30)), default);
        return plan.Id;
    }

    private async Task<long> CountAsync(string sql, object? args = null)
    {
        await using var conn = await fx.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>(sql, args);
    }

    // ---- finding 4 ----

    [Fact]
    public async Task Finding4_a_line_break_or_nul_in_the_path_answers_400_in_Chinese_not_500()
    {
        // A NUL in the path Kestrel refuses itself (400, before any middleware, so without a message).
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Admin.GetAsync("/hangfire/batches/%00")).StatusCode);
        foreach (var path in new[] { "/%0A/evil.example/", "/%09/evil.example/", "/hangfire/%0A/x", "/hangfire/batches/%01", "/%0D%0ASet-Cookie:%20x=1" })
        {
            foreach (var client in new[] { fx.Server.Client(), fx.Admin })
            {
                var response = await client.GetAsync(path);
                var body = await response.Content.ReadAsStringAsync();
                output.WriteLine($"GET {path}: {(int)response.StatusCode} [{string.Join(" | ", response.Headers.Select(h => h.Key))}] {body}");
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"GET {path} answered {(int)response.StatusCode}");
                Assert.Contains("请求包含无效字符", body);
                Assert.False(response.Headers.Contains("Set-Cookie") && response.Headers.GetValues("Set-Cookie").Any(c => c.StartsWith("x=", StringComparison.Ordinal)));
            }
        }
        // A tab is a control character as well (the redirect check of the sign-in handler is the sign-in's own).
        Assert.Equal(HttpStatusCode.BadRequest, (await fx.Server.Client().GetAsync("/login?ReturnUrl=/%09/evil.example/")).StatusCode);
    }

    // ---- finding 5 ----

    [Fact]
    public async Task Finding5_bank_file_download_changes_nothing_on_GET()
    {
        var r = new RegisterRows(fx.DataSource);
        await r.RecipientAsync(501, amountFen: 123_456);
        await r.RecipientAsync(502);
        var built = await fx.Services.GetRequiredService<BatchBuilder>().BuildAsync(Periods.P("2026-03"), "test", default);
        var preparer = await fx.Server.SignedInClientAsync("safety-preparer", Roles.Finance);
        var approver = await fx.Server.SignedInClientAsync("safety-approver", Roles.Finance);
        var review = fx.Services.GetRequiredService<BatchReview>();
        await review.SubmitAsync(built.BatchId, "safety-preparer", default);
        await review.ApproveAsync(built.BatchId, "safety-approver", default);
        var page = $"/hangfire/batches/{built.BatchId}";
        const string exports = "SELECT count(*) FROM app.audit_log WHERE action = 'disbursement.export'";

        // A GET (a link, a prefetch, an image tag on another site) exports nothing and changes no state.
        var before = await DatabaseDigest.TakeAsync(fx.DataSource);
        var get = await approver.GetAsync($"{page}/bank-file");
        // No GET route: Hangfire's catch-all under /hangfire answers 404, explained in Chinese.
        Assert.True(get.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed, $"GET bank-file: {(int)get.StatusCode}");
        Assert.Matches("不存在|不支持该请求方式", await get.Content.ReadAsStringAsync());
        Assert.Empty(DatabaseDigest.Changed(before, await DatabaseDigest.TakeAsync(fx.DataSource)));
        Assert.Equal(BatchState.Approved, (await Batches.FindAsync(fx.Services, built.BatchId))!.State);

        // The batch page offers a form button with the antiforgery token, not a link.
        var html = await approver.GetStringAsync(page);
        Assert.Matches($"""<form method="post" action="{page}/bank-file"[^>]*><input type="hidden" name="__RequestVerificationToken" value="[^"]+"><button type="submit" id="download-bank-file">""", html);
        Assert.DoesNotContain($"href=\"{page}/bank-file\"", html);

        // Without a token, or with a valid token from another site: refused, nothing exported.
        Assert.Equal(HttpStatusCode.BadRequest, (await approver.PostAsync($"{page}/bank-file", new FormUrlEncodedContent([]))).StatusCode);
        var foreign = await PostFormAsync(approver, page, $"{page}/bank-file", origin: "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Contains("请求来源与本系统地址不一致", await foreign.Content.ReadAsStringAsync());
        Assert.Equal(BatchState.Approved, (await Batches.FindAsync(fx.Services, built.BatchId))!.State);
        Assert.Equal(0, await CountAsync(exports));

        // The POST from the page answers the file, never cached, and marks the batch exported.
        var post = await PostFormAsync(approver, page, $"{page}/bank-file", origin: Origin, referer: $"{Origin}{page}");
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);
        Assert.Equal("no-store", post.Headers.CacheControl?.ToString());
        Assert.Equal("attachment", post.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith($"H,{built.BatchId},2026-03,2,", await post.Content.ReadAsStringAsync());
        Assert.Equal(BatchState.Exported, (await Batches.FindAsync(fx.Services, built.BatchId))!.State);
        Assert.Equal(1, await CountAsync(exports));

        // The other downloads are never cached either.
        var xlsx = await approver.GetAsync($"{page}/summary.xlsx");
        Assert.Equal(HttpStatusCode.OK, xlsx.StatusCode);
        Assert.Equal("no-store", xlsx.Headers.CacheControl?.ToString());
    }

    [Fact]
    public async Task Finding5_pages_and_downloads_send_csp_frame_referrer_nosniff_and_no_store()
    {
        var planId = await PlanAsync($"头部检查{Guid.NewGuid():N}"[..12]);
        foreach (var (client, path) in new[]
        {
            (fx.Server.Client(), "/login"), (fx.Admin, "/hangfire"), (fx.Admin, "/hangfire/recurring"), (fx.Admin, "/hangfire/draws"),
            (fx.Admin, "/hangfire/draws/commitments.csv"), (fx.Admin, "/hangfire/outbox"), (fx.Admin, "/hangfire/zero-employment"),
            (fx.Admin, "/hangfire/arrears"), (fx.Admin, "/hangfire/arrears/public.csv"), (fx.Admin, "/hangfire/batches"),
        })
        {
            var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode}");
            Assert.True(DatabaseDigest.MissingSecurityHeaders(response) is [], $"{path}: {string.Join("; ", DatabaseDigest.MissingSecurityHeaders(response))}");
        }
        Assert.Contains(planId.ToString(), await fx.Admin.GetStringAsync("/hangfire/draws/commitments.csv"));
        var csp = RequestSafety.ContentSecurityPolicy;
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Contains("frame-ancestors 'none'", csp);
        // Hangfire's own scripts are served from the service itself, so 'self' lets them run.
        var dashboard = await fx.Admin.GetStringAsync("/hangfire");
        var scripts = ScriptSrc().Matches(dashboard).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(scripts);
        Assert.All(scripts, s => Assert.StartsWith("/hangfire/", s));
        Assert.DoesNotMatch("<script>|<script [^>]*>[^<]", dashboard);
    }

    [GeneratedRegex("<script src=\"([^\"]+)\"")]
    private static partial Regex ScriptSrc();

    [Fact]
    public async Task Finding5_a_valid_token_from_a_foreign_origin_is_refused_on_project_pages_sign_in_and_Hangfire()
    {
        var planId = await PlanAsync($"来源检查{Guid.NewGuid():N}"[..12]);
        var page = "/hangfire/draws";
        foreach (var (origin, referer) in new (string?, string?)[]
        {
            ("http://evil.example", null), ("null", null), (Origin.Replace("127.0.0.1", "localhost"), null),
            ($"http://127.0.0.1:{fx.Server.BaseAddress.Port + 1}", null), (Origin.Replace("http:", "https:"), null),
            (null, "http://evil.example/hangfire/draws"), (null, "file:///tmp/x.html"),
        })
        {
            var response = await PostFormAsync(fx.Inspector, page, $"{page}/plans/{planId}/run", origin: origin, referer: referer);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"Origin {origin} Referer {referer}: {(int)response.StatusCode}");
            Assert.Contains("请求来源与本系统地址不一致", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM app.draws WHERE plan_id = @planId", new { planId }));

        // Sign-in from a foreign page, and Hangfire's own command routes with a valid token.
        var anonymous = fx.Server.Client();
        var login = new HttpRequestMessage(HttpMethod.Post, "/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(anonymous, "/login"),
                ["UserName"] = "safety-admin", ["Password"] = "test-password-1",
            }),
        };
        login.Headers.Add("Origin", "http://evil.example");
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.SendAsync(login)).StatusCode);

        var hangfireToken = HangfireToken().Match(await fx.Admin.GetStringAsync("/hangfire")).Groups[1].Value;
        HttpRequestMessage Requeue(string? origin)
        {
            var m = new HttpRequestMessage(HttpMethod.Post, "/hangfire/jobs/failed/requeue")
            {
                Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["jobs[]"] = "1" }),
            };
            m.Headers.Add("RequestVerificationToken", hangfireToken);
            if (origin is not null) m.Headers.Add("Origin", origin);
            return m;
        }
        Assert.Equal(HttpStatusCode.Forbidden, (await fx.Admin.SendAsync(Requeue("http://evil.example"))).StatusCode);
        Assert.True((await fx.Admin.SendAsync(Requeue(Origin))).IsSuccessStatusCode);

        // The same request from the page itself is accepted.
        var same = await PostFormAsync(fx.Inspector, page, $"{page}/plans/{planId}/run", origin: Origin, referer: $"{Origin}{page}");
        Assert.NotEqual(HttpStatusCode.Forbidden, same.StatusCode);
        Assert.True((int)same.StatusCode < 500);
    }

    [GeneratedRegex("<meta name=\"csrf-token\" content=\"([^\"]*)\"")]
    private static partial Regex HangfireToken();

    // ---- finding 6 ----

    [Fact]
    public async Task A_browser_refused_for_a_nul_character_gets_a_chinese_page_with_the_way_back_and_a_script_gets_plain_text()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/hangfire/outbox?recipient=a%00b");
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        request.Headers.Referrer = new Uri(fx.Server.BaseAddress, "/hangfire/outbox");
        var page = await fx.Admin.SendAsync(request);
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<h1>请求被拒绝</h1>", html);
        Assert.Contains("请求包含无效字符", html);
        Assert.Contains("<a href=\"/hangfire/outbox\">返回上一页</a>", html);
        Assert.Contains("返回任务概览", html);

        var plain = await fx.Admin.GetAsync("/hangfire/outbox?recipient=a%00b");
        Assert.Equal("text/plain", plain.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Finding6_a_nul_or_control_character_in_a_search_or_form_field_answers_400_never_500()
    {
        var planId = await PlanAsync($"控制字符{Guid.NewGuid():N}"[..12]);
        foreach (var url in new[] { "/hangfire/outbox?recipient=a%00b", "/hangfire/batches/1?q=%00", "/hangfire/zero-employment/cases?street=%1B", "/hangfire/outbox?regarding=%C2%9B" })
        {
            var response = await fx.Admin.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{url}: {(int)response.StatusCode}");
            Assert.Contains("请求包含无效字符", await response.Content.ReadAsStringAsync());
        }
        var plans = await CountAsync("SELECT count(*) FROM app.inspection_plans");
        foreach (var (field, value) in new[] { ("name", "a\0b"), ("name", "a\u0007"), ("period", "2099-01\0"), ("streets", "城关\u001b街道"), ("ratios", "A=3\u007f") })
        {
            var fields = new Dictionary<string, string> { ["name"] = "合法名称", ["period"] = "2099-01", ["drawDate"] = "2099-01-15", [field] = value };
            var response = await PostFormAsync(fx.Inspector, "/hangfire/draws", "/hangfire/draws/plans", fields);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{field}={value}: {(int)response.StatusCode}");
            Assert.Contains("请求包含无效字符", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(plans, await CountAsync("SELECT count(*) FROM app.inspection_plans"));

        // The sign-in form and an upload's file name: the same rule.
        var anonymous = fx.Server.Client();
        var login = await PostFormAsync(anonymous, "/login", "/login", new() { ["UserName"] = "safety-admin\0", ["Password"] = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, login.StatusCode);
        Assert.Matches("请求包含无效字符|防伪令牌", await login.Content.ReadAsStringAsync());
        var upload = new MultipartFormDataContent
        {
            { new StringContent(await TestServer.AntiforgeryTokenAsync(fx.Inspector, "/hangfire/draws")), "__RequestVerificationToken" },
            { new ByteArrayContent("draw_id,uscc,completed_on,finding,summary\n"u8.ToArray()), "file", "a\u0001.csv" },
        };
        var badName = await fx.Inspector.PostAsync("/hangfire/draws/results", upload);
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        // Depending on how the client encodes it, the multipart header itself is malformed, or the name holds the character.
        Assert.Matches("请求包含无效字符|请求格式无效", await badName.Content.ReadAsStringAsync());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM app.draws WHERE plan_id = @planId", new { planId }));
    }

    [Fact]
    public async Task Finding6_page_numbers_out_of_range_or_not_numbers_answer_400_never_500()
    {
        foreach (var list in new[] { "/hangfire/outbox", "/hangfire/batches/1" })
        {
            foreach (var page in new[] { "2147483647", "2147483648", "-1", "0", "abc", "1.5", "99999999999999999999", "%2B5", "1&page=2" })
            {
                var response = await fx.Admin.GetAsync($"{list}?page={page}");
                Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{list}?page={page}: {(int)response.StatusCode}");
                Assert.Contains("页码无效", await response.Content.ReadAsStringAsync());
            }
            Assert.True((int)(await fx.Admin.GetAsync($"{list}?page={RequestSafety.MaxPageNumber}")).StatusCode is 200 or 404);
        }
        // Hangfire's own lists take from/count: out of range, they still answer.
        foreach (var q in new[] { "from=2147483647&count=2147483647", "from=-1&count=-5", "from=abc&count=xyz", "from=99999999999999999999" })
        {
            var response = await fx.Admin.GetAsync($"/hangfire/jobs/succeeded?{q}");
            Assert.True((int)response.StatusCode < 500, $"succeeded?{q}: {(int)response.StatusCode}");
        }
        // A huge id does not match the route: 404 in Chinese.
        var huge = await fx.Admin.GetAsync("/hangfire/batches/99999999999999999999");
        Assert.Equal(HttpStatusCode.NotFound, huge.StatusCode);
        Assert.Contains("不存在", await huge.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Finding6_oversized_bodies_answer_413_in_Chinese_never_500()
    {
        var planId = await PlanAsync($"超长请求{Guid.NewGuid():N}"[..12]);
        var token = await TestServer.AntiforgeryTokenAsync(fx.Inspector, "/hangfire/draws");

        // A 1 MB form, with and without Content-Length (chunked).
        var big = new string('a', 1024 * 1024);
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token, ["name"] = big, ["period"] = "2099-01" });
        var withLength = await fx.Inspector.PostAsync("/hangfire/draws/plans", form);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, withLength.StatusCode);
        Assert.Contains("提交的内容过长", await withLength.Content.ReadAsStringAsync());
        var chunked = new StreamContent(new MemoryStream(Encoding.ASCII.GetBytes($"__RequestVerificationToken={Uri.EscapeDataString(token)}&reason={big}")));
        chunked.Headers.ContentType = new("application/x-www-form-urlencoded");
        var request = new HttpRequestMessage(HttpMethod.Post, $"/hangfire/draws/{planId}/cancel") { Content = chunked };
        request.Headers.TransferEncodingChunked = true;
        var chunkedResponse = await fx.Inspector.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, chunkedResponse.StatusCode);
        Assert.Contains("提交的内容过长", await chunkedResponse.Content.ReadAsStringAsync());

        // An upload above the documented limit; one below it passes the size check and is read as a file.
        MultipartFormDataContent Upload(int bytes) => new()
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new ByteArrayContent(Encoding.ASCII.GetBytes("draw_id,uscc,completed_on,finding,summary\n" + new string('x', bytes))), "file", "results.csv" },
        };
        var tooBig = await fx.Inspector.PostAsync("/hangfire/draws/results", Upload((int)RequestSafety.UploadLimitBytes + 1024));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooBig.StatusCode);
        Assert.Contains("上传的文件过大", await tooBig.Content.ReadAsStringAsync());
        var fits = await fx.Inspector.PostAsync("/hangfire/draws/results", Upload(1024 * 1024));
        Assert.Equal(HttpStatusCode.BadRequest, fits.StatusCode); // read and refused line by line, not for its size
        Assert.Contains("未导入任何数据", WebUtility.HtmlDecode(await fits.Content.ReadAsStringAsync()));

        // Before sign-in nothing large is taken, not even as an upload.
        var anonymous = fx.Server.Client();
        var anonymousUpload = new MultipartFormDataContent { { new ByteArrayContent(new byte[200 * 1024]), "file", "x.csv" } };
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await anonymous.PostAsync("/login", anonymousUpload)).StatusCode);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM app.draw_cancellations"));
    }

    [Fact]
    public async Task Finding6_an_unhandled_exception_answers_a_Chinese_500_page_without_a_stack_trace()
    {
        // A failure report the page cannot read (a bare string where it expects the brief report object or a
        // first-format list) makes the draws page throw.
        var planId = await PlanAsync($"错误页{Guid.NewGuid():N}"[..12]);
        await using (var conn = await fx.DataSource.OpenConnectionAsync())
            await conn.ExecuteAsync("""
                INSERT INTO app.draw_failures (plan_id, algorithm, snapshot_hash, report, operator)
                VALUES (@planId, 'test', '\x01'::bytea, '"not a report"', 'test')
                """, new { planId });
        try
        {
            var response = await fx.Admin.GetAsync("/hangfire/draws");
            var body = await response.Content.ReadAsStringAsync();
            Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
            Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("系统处理您的请求时出错", body);
            Assert.DoesNotContain("Exception", body);
            Assert.DoesNotContain("   at ", body);
            Assert.DoesNotContain("Lingyuan.Jobs.", body);
            Assert.True(DatabaseDigest.MissingSecurityHeaders(response) is [], string.Join("; ", DatabaseDigest.MissingSecurityHeaders(response)));
        }
        finally
        {
            // draw_failures is append-only; the rows of this plan would break every later draws page of the class.
            await using var conn = await fx.DataSource.OpenConnectionAsync();
            await conn.ExecuteAsync("ALTER TABLE app.draw_failures DISABLE TRIGGER draw_failures_append_only; DELETE FROM app.draw_failures WHERE plan_id = @planId; ALTER TABLE app.draw_failures ENABLE TRIGGER draw_failures_append_only", new { planId });
        }
    }

    // ---- finding 7 ----

    public static TheoryData<string, string> BadSingleLineText => new()
    {
        { "CRLF", "第一行\r\n第二行" },
        { "LF", "a\nb" },
        { "U+2028", "a\u2028b" },
        { "U+2029", "a\u2029b" },
        { "U+202E", "付款\u202Egnp.exe" },
        { "U+2066", "a\u2066b\u2069" },
        { "TAB", "a\tb" },
    };

    [Theory]
    [MemberData(nameof(BadSingleLineText))]
    public async Task Finding7_a_plan_name_or_cancel_reason_with_a_line_break_or_direction_control_is_refused_on_the_page(string what, string text)
    {
        var plans = await CountAsync("SELECT count(*) FROM app.inspection_plans");
        var response = await PostFormAsync(fx.Inspector, "/hangfire/draws", "/hangfire/draws/plans",
            new() { ["name"] = text, ["period"] = "2099-02", ["drawDate"] = "2099-02-15" });
        var body = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        if (what is "CRLF" or "LF" or "TAB")
        {
            // Control characters are stopped before any page: the generic Chinese message.
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode}");
            Assert.True(body.Contains("计划名称不能包含换行") || body.Contains("请求包含无效字符"), body);
        }
        else
        {
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{what}: {(int)response.StatusCode}");
            Assert.Contains("计划名称不能包含换行、控制字符或文字方向控制字符", body);
            Assert.Contains("role=\"alert\"", body); // on the draws page itself, with the form
        }
        Assert.Equal(plans, await CountAsync("SELECT count(*) FROM app.inspection_plans"));
    }

    [Fact]
    public async Task Finding7_names_and_reasons_longer_than_their_form_allows_are_refused_by_the_services_too()
    {
        // The form's maxlength and the service agree.
        var draws = await fx.Admin.GetStringAsync("/hangfire/draws");
        Assert.Contains($"name=\"name\" required maxlength=\"{TextRules.NameMaxLength}\"", draws);

        var tooLongName = new string('名', TextRules.NameMaxLength + 1);
        var page = await PostFormAsync(fx.Inspector, "/hangfire/draws", "/hangfire/draws/plans",
            new() { ["name"] = tooLongName, ["period"] = "2099-03", ["drawDate"] = "2099-03-15" });
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains($"计划名称最多 {TextRules.NameMaxLength} 个字符", WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync()));
        var exact = await PostFormAsync(fx.Inspector, "/hangfire/draws", "/hangfire/draws/plans",
            new() { ["name"] = new string('名', TextRules.NameMaxLength), ["period"] = "2099-03", ["drawDate"] = "2099-03-15" });
        Assert.Equal(HttpStatusCode.Redirect, exact.StatusCode); // saved: post/redirect/get

        // A 10,000-character cancel reason (small enough for the body limit) is refused by the service, not stored.
        var cancel = await PostFormAsync(fx.Inspector, "/hangfire/draws", "/hangfire/draws/1/cancel", new() { ["reason"] = new string('r', 10_000) });
        Assert.Equal(HttpStatusCode.BadRequest, cancel.StatusCode);
        Assert.Contains($"撤销理由最多 {TextRules.ReasonMaxLength} 个字符", WebUtility.HtmlDecode(await cancel.Content.ReadAsStringAsync()));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM app.draw_cancellations"));

        // Every service that takes a name or reason applies the same rule before it touches anything.
        var longReason = new string('r', TextRules.ReasonMaxLength + 1);
        var refusals = new List<Func<Task>>
        {
            () => fx.Services.GetRequiredService<DrawService>().CancelAsync(999_999, "a\r\nb", default),
            () => fx.Services.GetRequiredService<DrawService>().CancelAsync(999_999, longReason, default),
            () => fx.Services.GetRequiredService<BatchReview>().RejectAsync(999_999, "nobody", "退回\u2028原因", default),
            () => fx.Services.GetRequiredService<BatchReview>().RejectAsync(999_999, "nobody", longReason, default),
            () => fx.Services.GetRequiredService<ZeroEmploymentCases>().CloseAsync(999_999, ZeroEmploymentCases.OperatorCloseReasons.Keys.First(), "说明\u202E", "test", default),
            () => fx.Services.GetRequiredService<ArrearsActs>().OverturnAsync("NO-SUCH-CASE", "test", "理由\n第二行", default),
            () => fx.Services.GetRequiredService<ArrearsActs>().ProposeAsync("NO-SUCH-CASE", "test", DecisionKind.NotListed, longReason, default),
            () => fx.Services.GetRequiredService<InspectionPlans>().CreateAsync(new PlanInput("计划\u2029", "2099-04", new DateOnly(2099, 4, 1)), default),
            () => fx.Services.GetRequiredService<InspectionPlans>().CreateAsync(new PlanInput("计划", "2099-04", new DateOnly(2099, 4, 1), Streets: ["城关\r\n街道"]), default),
        };
        foreach (var refusal in refusals)
            await Assert.ThrowsAsync<BadInputException>(refusal);
    }

    [Fact]
    public async Task Finding7_the_command_line_refuses_a_multi_line_plan_name_and_an_oversized_reason_with_exit_65()
    {
        var plans = await CountAsync("SELECT count(*) FROM app.inspection_plans");
        var (code, text) = await CliAsync("plan", "add", "--name", "a\r\nb", "--period", "2099-05", "--draw-date", "2099-05-15");
        Assert.True(code == ExitCodes.BadData, $"plan add exited {code}: {text}");
        Assert.Contains("计划名称不能包含换行", text);
        Assert.Equal(plans, await CountAsync("SELECT count(*) FROM app.inspection_plans"));

        // Linux caps one argument at 128 KB; 100 KB is as large as a command line can carry.
        var planId = await PlanAsync($"命令行{Guid.NewGuid():N}"[..12]);
        var (cancel, cancelText) = await CliAsync("draw", "cancel", "999999", "--reason", new string('r', 100 * 1024));
        Assert.True(cancel == ExitCodes.BadData, $"draw cancel exited {cancel}: {cancelText[..Math.Min(cancelText.Length, 500)]}");
        Assert.Contains($"撤销理由最多 {TextRules.ReasonMaxLength} 个字符", cancelText);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM app.draw_cancellations"));
        output.WriteLine($"plan {planId}: CLI refusals exit {code} and {cancel}");
    }

    /// <summary>The real executable with exact arguments (a line break in one of them included).</summary>
    private async Task<(int Code, string Output)> CliAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = AppContext.BaseDirectory,
        };
        psi.ArgumentList.Add(ServiceProcess.DllPath);
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in fx.Settings()) psi.Environment[k.Replace(":", "__")] = v;
        psi.Environment["LINGYUAN_CONTENT_ROOT"] = AppContext.BaseDirectory;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await p.WaitForExitAsync(timeout.Token);
        return (p.ExitCode, await stdout + await stderr);
    }
}
