using System.Net;
using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Notifications;

public sealed class OutboxPageTests(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    public Task InitializeAsync() => OutboxTestData.ClearAsync(db.DataSource);
    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<(long Failed, long Sent, string Domain)> FailedAndSentAsync()
    {
        var domain = OutboxTestData.Domain();
        var ids = await OutboxTestData.QueueAsync(db.DataSource, domain, 2);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await conn.ExecuteAsync(
            "UPDATE app.outbox SET state = 'failed', failed_at = now(), attempts = 1, last_reply = '550 5.1.1 <p0@x.test> <b>unknown</b> user' WHERE id = @id",
            new { id = ids[0] });
        await conn.ExecuteAsync("UPDATE app.outbox SET state = 'sent', sent_at = now(), attempts = 1, last_reply = 'Ok queued' WHERE id = @id", new { id = ids[1] });
        return (ids[0], ids[1], domain);
    }

    [Theory]
    [InlineData("250 2.0.0 Ok: queued as 1", "邮件服务器已接收")]
    [InlineData("421 4.7.0 try again later", "收件服务器暂时不能接收,将自动重试")]
    [InlineData("552 5.2.2 mailbox full", "收件人邮箱已满或邮件过大")]
    [InlineData("554 5.7.1 rejected as spam", "被收件服务器拒收(可能被视为垃圾邮件或未获授权)")]
    [InlineData("535 5.7.8 authentication failed", "收件服务器永久拒收,不再重试")]
    [InlineData("mail.lingyuan.gov.cn:25: Connection refused", "无法连接邮件服务器,将自动重试")]
    [InlineData("连接中断 / connection lost: reset", null)]
    [InlineData("Ok queued", null)]
    public void A_servers_reply_is_explained_in_Chinese_beside_it(string reply, string? zh) =>
        Assert.Equal(zh, OutboxPage.ReplyZh(reply));

    [Fact]
    public async Task Admin_sees_counts_the_failure_reason_escaped_and_can_requeue_with_an_audit_record()
    {
        var (failed, sent, domain) = await FailedAndSentAsync();
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard);
        var admin = await server.SignedInClientAsync("page-admin", "admin");

        var html = await admin.GetStringAsync("/hangfire/outbox");
        // Html.Of encodes interpolated Chinese as character references: compare text on the decoded page.
        Assert.Contains("<title>邮件发送", WebUtility.HtmlDecode(html));
        Assert.Contains("""id="count-failed">1<""", html);
        Assert.Contains("""id="count-sent">1<""", html);
        Assert.Contains("550 5.1.1 &lt;p0@x.test&gt; &lt;b&gt;unknown&lt;/b&gt; user", html);
        // The server's reply verbatim, and what it means in Chinese beside it.
        Assert.Contains("收件地址不存在或被拒收,请核对收件人的电子邮箱", WebUtility.HtmlDecode(html));
        Assert.Contains($"/hangfire/outbox/{failed}/requeue", html);
        Assert.DoesNotContain($"/hangfire/outbox/{sent}/requeue", html);

        var token = await TestServer.AntiforgeryTokenAsync(admin, "/hangfire/outbox");
        var response = await admin.PostAsync($"/hangfire/outbox/{failed}/requeue",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal("pending", await conn.ExecuteScalarAsync<string>("SELECT state FROM app.outbox WHERE id = @failed", new { failed }));
        var audit = await conn.QuerySingleAsync<(string Actor, string Before)>(
            "SELECT actor, before::text FROM app.audit_log WHERE action = 'outbox.requeue' AND subject_id = @id", new { id = failed.ToString() });
        Assert.Equal("page-admin", audit.Actor);
        Assert.Contains("failed", audit.Before);
        // The re-queue nudges delivery through Hangfire with no arguments: no address reaches job storage.
        // (Read through the app's own storage: Hangfire keeps it in a static shared by in-process apps.)
        var enqueued = server.App.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi().EnqueuedJobs("default", 0, 100);
        var job = Assert.Single(enqueued, j => j.Value.Job?.Type == typeof(OutboxDeliveryJob)).Value.Job;
        Assert.All(job.Args, a => Assert.True(a is null or CancellationToken, $"unexpected job argument {a}"));

        // Filtering by recipient and by what it is about.
        var filtered = await admin.GetStringAsync($"/hangfire/outbox?recipient=p1@{domain}");
        Assert.Contains($"id=\"outbox-{sent}\"", filtered);
        Assert.DoesNotContain($"id=\"outbox-{failed}\"", filtered);
        var regarding = await admin.GetStringAsync($"/hangfire/outbox?regarding=test:{domain}:0");
        Assert.Contains($"id=\"outbox-{failed}\"", regarding);
        Assert.DoesNotContain($"id=\"outbox-{sent}\"", regarding);
    }

    [Fact]
    public async Task Operator_sees_the_outbox_without_a_requeue_button_and_a_requeue_post_is_forbidden()
    {
        var (failed, _, _) = await FailedAndSentAsync();
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard);
        var op = await server.SignedInClientAsync("page-operator", "operator");

        var html = await op.GetStringAsync("/hangfire/outbox");
        Assert.Contains("&lt;b&gt;unknown&lt;/b&gt;", html);
        Assert.DoesNotContain("/requeue", html);
        Assert.DoesNotContain("重新发送", WebUtility.HtmlDecode(html));

        var token = await TestServer.AntiforgeryTokenAsync(op, "/hangfire/outbox");
        var response = await op.PostAsync($"/hangfire/outbox/{failed}/requeue",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal("failed", await conn.ExecuteScalarAsync<string>("SELECT state FROM app.outbox WHERE id = @failed", new { failed }));

        var finance = await server.SignedInClientAsync("page-finance", "finance");
        Assert.Equal(HttpStatusCode.Forbidden, (await finance.GetAsync("/hangfire/outbox")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await server.Client().GetAsync("/hangfire/outbox")).StatusCode); // anonymous → login
    }

    [Fact]
    public async Task A_requeue_post_without_the_antiforgery_token_changes_nothing()
    {
        var (failed, _, _) = await FailedAndSentAsync();
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard);
        var admin = await server.SignedInClientAsync("page-admin2", "admin");

        var response = await admin.PostAsync($"/hangfire/outbox/{failed}/requeue", new FormUrlEncodedContent([]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal("failed", await conn.ExecuteScalarAsync<string>("SELECT state FROM app.outbox WHERE id = @failed", new { failed }));
    }
}
