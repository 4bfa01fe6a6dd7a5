using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Microsoft.AspNetCore.Authorization;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// <c>/hangfire/runs</c> (运行记录): the open alerts, then per recurring job its last runs — when, how long,
/// how it ended, what it did — with the technical detail of a failure folded below its Chinese summary.
/// <c>?job=ID</c> lists more runs of one job. Renders <see cref="JobRuns"/>; no SQL here.
/// </summary>
public static class RunsPage
{
    private const int PerJob = 5;
    private const int OneJob = 100;

    public static WebApplication MapRuns(this WebApplication app)
    {
        app.MapGet("/hangfire/runs", ListAsync).RequireAuthorization(new AuthorizeAttribute { Roles = $"{Roles.Admin},{Roles.Operator}" });
        return app;
    }

    private static async Task<IResult> ListAsync(HttpContext ctx, JobRuns runs, JobCatalog catalog, BureauClock clock, string? job, CancellationToken ct)
    {
        var one = job is null ? null : catalog.Find(job);
        var alerts = await runs.OpenAlertsAsync(ct);
        var rows = one is null ? await runs.LatestAsync(PerJob, ct) : await runs.OfJobAsync(one.Id, OneJob, ct);
        var byJob = rows.ToLookup(r => r.JobId);
        string Time(DateTime? utc) => utc is null ? "" : clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc.Value, DateTimeKind.Utc)));

        var alertList = alerts.Count == 0
            ? Html.Of($"""<p class="ok" id="alerts-none">当前没有未解除的告警。</p>""")
            : Html.Of($"""
                <table id="alerts">
                <tr><th>告警</th><th>任务</th><th>首次出现</th><th>最近出现</th><th>告警邮件</th></tr>
                {alerts.Select(a => Html.Of($"""
                    <tr class="alert"><td class="error">{a.TextZh}</td><td>{runs.NameOf(a.JobId)}</td><td>{Time(a.OpenedAt)}</td><td>{Time(a.LastSeenAt)}</td>
                    <td>{(a.LastMailedAt is null ? "未发送(未配置收件人)" : "已于 " + Time(a.LastMailedAt) + " 发送")}</td></tr>
                    """))}
                </table>
                <p>问题解决后,相应任务下一次正常运行时告警自动解除。</p>
                """);

        var jobs = one is null ? catalog.All : [one];
        var sections = jobs.Select(d =>
        {
            var list = byJob[d.Id].ToList();
            var needs = list.FirstOrDefault() is { Result: RunResult.Failed or RunResult.Attention };
            return Html.Of($"""
                <section class="job" id="job-{d.Id}">
                <h2>{d.NameZh} <small>({d.Id})</small>{(needs ? Html.Of($""" <span class="error">需要人工处理</span>""") : Html.Empty)}</h2>
                {(list.Count == 0 ? Html.Of($"<p>尚无运行记录。</p>") : Html.Of($"""
                    <table>
                    <tr><th>开始时间</th><th>用时</th><th>方式</th><th>结果</th><th>摘要</th></tr>
                    {list.Select(r => Row(r, Time))}
                    </table>
                    """))}
                {(one is null ? Html.Of($"""<p><a href="/hangfire/runs?job={d.Id}">查看该任务全部运行记录</a></p>""") : Html.Of($"""<p><a href="/hangfire/runs">返回全部任务</a></p>"""))}
                </section>
                """);
        });
        var title = one is null ? "运行记录" : $"运行记录 · {one.NameZh}";
        return Layout.Page(ctx, title, Html.Of($"<h2>未解除的告警</h2>{alertList}{sections}"));
    }

    private static Html Row(JobRunRow r, Func<DateTime?, string> time)
    {
        var css = r.Result switch { RunResult.Succeeded => "ok", RunResult.Running => "warn", _ => "error" };
        var took = r.FinishedAt is { } f ? Duration(f - r.StartedAt) : "";
        var how = r.Channel == JobRuns.Cli ? "命令行"
            : r.Actor.StartsWith("job:", StringComparison.Ordinal) ? "计划任务" : $"手动触发({r.Actor})";
        var job = r.HangfireJobId is null ? Html.Empty : Html.Of($"""(<a href="/hangfire/jobs/details/{r.HangfireJobId}">作业 #{r.HangfireJobId}</a>)""");
        var detail = r.Error is null && r.Counters is "{}" or "" ? Html.Empty : Html.Of($"""
            <details><summary>技术信息</summary>
            {(r.Counters is "{}" or "" ? Html.Empty : Html.Of($"<div>计数:<code>{r.Counters}</code></div>"))}
            {(r.Error is null ? Html.Empty : Html.Of($"<pre><code>{r.Error}</code></pre>"))}
            </details>
            """);
        return Html.Of($"""
            <tr class="run" data-result="{r.Result}">
              <td>{time(r.StartedAt)}</td><td class="num">{took}</td><td>{how}{job}</td>
              <td class="{css}">{RunResult.Label(r.Result)}</td>
              <td class="summary">{r.Summary}{detail}</td>
            </tr>
            """);
    }

    public static string Duration(TimeSpan t) =>
        t.TotalSeconds < 60 ? $"{Math.Max(0, t.TotalSeconds):0.0} 秒"
        : t.TotalMinutes < 60 ? $"{(int)t.TotalMinutes} 分 {t.Seconds} 秒"
        : $"{(int)t.TotalHours} 小时 {t.Minutes} 分";
}
