using System.Globalization;
using Hangfire;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>Settings of the register upload page (section <c>Registers</c>).</summary>
public sealed class RegisterUploadOptions
{
    /// <summary>Largest file the page takes. 512 MB holds about 4 million persons; beyond that, <c>import</c> on the command line.</summary>
    public long MaxUploadBytes { get; set; } = 512L * 1024 * 1024;
}

/// <summary>
/// <c>/hangfire/registers</c> (名录导入): choose the register, upload a CSV or XLSX file, read the check (rows to add,
/// change, leave; every problem as row, key, column, problem), then import every row or only the valid ones and
/// download the rejects. The check and the import run as Hangfire jobs (<see cref="RegisterUploadJob"/>); the page
/// follows them by reloading while they run. Who may load which register: <see cref="RegisterForms"/>. No SQL here.
/// </summary>
public static class RegisterUploadPage
{
    public const string Path = "registers";
    private const string Root = "/hangfire/" + Path;
    public static readonly string[] ViewRoles = [Roles.Admin, Roles.Finance, Roles.Inspection];

    public static void Map(WebApplication app)
    {
        var roles = new AuthorizeAttribute { Roles = string.Join(",", ViewRoles) };
        var max = app.Services.GetRequiredService<IOptions<RegisterUploadOptions>>().Value.MaxUploadBytes;
        app.MapGet(Root, Index).RequireAuthorization(roles);
        app.MapPost(Root + "/upload", UploadAsync).RequireAuthorization(roles)
            .WithMetadata(new RequestSafety.UploadLimit(max));
        app.MapGet(Root + "/{id:long}", ShowAsync).RequireAuthorization(roles);
        app.MapPost(Root + "/{id:long}/import", ImportAsync).RequireAuthorization(roles);
        app.MapPost(Root + "/{id:long}/discard", DiscardAsync).RequireAuthorization(roles);
        app.MapGet(Root + "/{id:long}/rejects", RejectsAsync).RequireAuthorization(roles);
        app.MapGet(Root + "/templates/{kind}", TemplateAsync).RequireAuthorization(roles);
        app.MapGet(Root + "/view/{kind}", ViewAsync).RequireAuthorization(roles);
    }

    private static IEnumerable<RegisterForm> FormsOf(HttpContext ctx, ImportKinds kinds) =>
        RegisterForms.All.Where(f => ctx.User.MayLoad(f) && kinds.Find(f.Kind) is not null);

    private static async Task<IResult> Index(HttpContext ctx, ImportKinds kinds, RegisterUploads uploads, BureauClock clock, string? kind, CancellationToken ct)
    {
        var forms = FormsOf(ctx, kinds).ToList();
        var recent = await uploads.RecentAsync(forms.Select(f => f.Kind).ToArray(), 20, ct);
        var body = Html.Of($"""
            <p>选择名录类型,上传 CSV 或 Excel(.xlsx)文件。系统先检查全部行并列出将新增、修改、不变的行数和每一处错误,确认后才导入;
            也可以只导入正确的行,并下载错误行修改后重新上传。列名可用中文(见模板)或英文。</p>
            <form method="post" action="{Root}/upload" enctype="multipart/form-data" id="upload-form">
              {Layout.AntiforgeryField(ctx)}
              <label>名录类型 <select name="kind" id="upload-kind">
                {forms.Select(f => Html.Of($"""<option value="{f.Kind}" {(f.Kind == kind ? Html.Raw("selected") : Html.Empty)}>{f.TitleZh}({f.Kind})</option>"""))}
              </select></label>
              <label>文件 <input type="file" name="file" id="upload-file" accept=".csv,.xlsx,text/csv,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" required></label>
              <button type="submit" id="upload-submit">上传并检查</button>
            </form>
            <h2>可导入的名录</h2>
            <table>
            <tr><th>名录</th><th>类型</th><th>模板</th><th>现有记录</th></tr>
            {forms.Select(f => Html.Of($"""
                <tr><td>{f.TitleZh}</td><td><code>{f.Kind}</code></td>
                <td><a href="{Root}/templates/{f.Kind}" id="template-{f.Kind}">下载模板(.xlsx)</a></td>
                <td><a href="{Root}/view/{f.Kind}" id="view-{f.Kind}">查看</a></td></tr>
                """))}
            </table>
            <h2>最近上传</h2>
            {UploadList(recent, forms, clock)}
            """);
        return Layout.Page(ctx, "名录导入", body);
    }

    private static Html UploadList(List<UploadRow> rows, List<RegisterForm> forms, BureauClock clock) => rows.Count == 0
        ? Html.Of($"<p>还没有上传的文件。</p>")
        : Html.Of($"""
            <table>
            <tr><th>编号</th><th>名录</th><th>文件</th><th>上传人</th><th>上传时间</th><th>状态</th></tr>
            {rows.Select(r => Html.Of($"""
                <tr><td class="num"><a href="{Root}/{r.Id}">{r.Id}</a></td><td>{forms.FirstOrDefault(f => f.Kind == r.Kind)?.TitleZh ?? r.Kind}</td>
                <td>{r.FileName}</td><td>{r.UploadedBy}</td><td>{Time(clock, r.UploadedAt)}</td>
                <td>{UploadLifecycle.Table.Label(r.State)}</td></tr>
                """))}
            </table>
            """);

    private static string Time(BureauClock clock, DateTime utc) => clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));

    private static async Task<IResult> UploadAsync(
        HttpContext ctx, ImportKinds kinds, RegisterUploads uploads, IBackgroundJobClient jobs, IOptions<RegisterUploadOptions> options, CancellationToken ct)
    {
        // The form was read (the file buffered on disk) and its antiforgery token checked by the dashboard's middleware.
        var form = await ctx.Request.ReadFormAsync(ct);
        var kind = form["kind"].ToString();
        var f = RegisterForms.Find(kind);
        if (f is null || kinds.Find(kind) is null) return Problem(ctx, "未知的名录类型。", StatusCodes.Status400BadRequest);
        if (!ctx.User.MayLoad(f)) return Problem(ctx, $"您的账号无权导入{f.TitleZh}。", StatusCodes.Status403Forbidden);
        var file = form.Files.GetFile("file");
        if (file is null || file.Length == 0) return Problem(ctx, "请选择要上传的文件(文件不能为空)。", StatusCodes.Status400BadRequest);
        var name = System.IO.Path.GetFileName(file.FileName.Replace('\\', '/'));
        if (name.Length is 0 or > 200) name = kind + ".csv";
        long id;
        try
        {
            await using var content = file.OpenReadStream();
            id = await uploads.CreateAsync(kind, name, content, options.Value.MaxUploadBytes, ct);
        }
        catch (DomainRuleException ex)
        {
            return Problem(ctx, ex.Message, StatusCodes.Status413PayloadTooLarge);
        }
        jobs.Enqueue<RegisterUploadJob>(j => j.CheckAsync(id, CancellationToken.None));
        return Results.Redirect($"{Root}/{id}");
    }

    private static async Task<(UploadRow? Row, RegisterForm? Form, IResult? Refusal)> LoadAsync(HttpContext ctx, RegisterUploads uploads, long id, CancellationToken ct)
    {
        var row = await uploads.FindAsync(id, ct);
        if (row is null) return (null, null, Problem(ctx, "没有这个上传文件。", StatusCodes.Status404NotFound));
        var form = RegisterForms.Find(row.Kind);
        if (form is null || !ctx.User.MayLoad(form)) return (null, null, Problem(ctx, "您的账号无权查看这个名录文件。", StatusCodes.Status403Forbidden));
        return (row, form, null);
    }

    private static async Task<IResult> ShowAsync(HttpContext ctx, long id, RegisterUploads uploads, ImportKinds kinds, BureauClock clock, CancellationToken ct)
    {
        var (r, f, refusal) = await LoadAsync(ctx, uploads, id, ct);
        if (refusal is not null) return refusal;
        var columns = kinds.Find(r!.Kind)?.Columns ?? [];
        string Zh(string problem) => ProblemTextZh.Zh(problem, name => columns.FirstOrDefault(c => c.Name == name)?.Chinese);
        var state = r!.StateValue;
        var running = state is UploadState.Uploaded or UploadState.Checking or UploadState.Importing;
        // The page follows the job: while it runs the browser reloads every two seconds (a header: the pages carry no script).
        if (running) ctx.Response.Headers["Refresh"] = "2";
        string N(long? n) => (n ?? 0).ToString("N0", CultureInfo.InvariantCulture);
        var percent = r.SizeBytes == 0 ? 0 : Math.Min(100, (int)(100 * r.BytesRead / r.SizeBytes));
        var progress = !running ? Html.Empty : Html.Of($"""
            <section id="upload-progress" data-rows="{r.RowsRead}">
              <p><progress max="100" value="{percent}"></progress>
              {(state == UploadState.Uploaded ? "等待检查任务开始……" : r.Upserting ? $"已读取 {N(r.RowsRead)} 行,正在写入名录……" : $"已读取 {N(r.RowsRead)} 行({percent}%)……")}</p>
              <p>{(state == UploadState.Importing ? "正在导入" : "正在检查")},页面每 2 秒自动刷新。</p>
            </section>
            """);
        var isCheck = state is UploadState.Checked || (state == UploadState.Discarded && r.ImportMode is null);
        var counts = r.Rows is null || state is UploadState.Failed ? Html.Empty : Html.Of($"""
            <table class="counts" id="upload-counts">
              <tr><th>{(isCheck ? "将新增" : "新增")}</th><td class="num" id="count-inserted">{N(r.Inserted)}</td>
                  <th>{(isCheck ? "将修改" : "修改")}</th><td class="num" id="count-updated">{N(r.Updated)}</td>
                  <th>不变</th><td class="num" id="count-unchanged">{N(r.Unchanged)}</td>
                  <th>有错误的行</th><td class="num" id="count-rejected">{N(r.Rejected)}</td>
                  <th>共</th><td class="num" id="count-rows">{N(r.Rows)}</td></tr>
            </table>
            """);
        var problems = r.ProblemTexts.Length == 0 ? Html.Empty : Html.Of($"""
            <h2>错误({N(r.ProblemCount)} 处)</h2>
            <table id="upload-problems">
            <tr><th>行</th><th>记录(脱敏)</th><th>列:问题</th></tr>
            {r.ProblemTexts.Select((t, i) => Html.Of($"""<tr class="problem"><td class="num">{r.ProblemRows[i]}</td><td>{r.ProblemKeys[i]}</td><td>{Zh(t)}</td></tr>"""))}
            </table>
            {(r.ProblemCount > r.ProblemTexts.Length ? Html.Of($"<p>仅列出前 {r.ProblemTexts.Length} 处,其余见错误行文件。</p>") : Html.Empty)}
            """);
        var failure = r.Failure.Length == 0 ? Html.Empty : Html.Of($"""
            <div class="error" id="upload-failure" role="alert"><p>文件未通过检查,名录未作任何修改:</p>
            <ul>{r.Failure.Select(l => Html.Of($"<li>{Zh(l)}</li>"))}</ul></div>
            """);
        var rejects = !r.HasRejects ? Html.Empty
            : Html.Of($"""<p><a href="{Root}/{r.Id}/rejects" id="download-rejects">下载错误行(CSV,含原因)</a></p>""");
        var actions = Html.Empty;
        if (state == UploadState.Checked && UploadLifecycle.Table.Offers(UploadVerb.Import, state, ctx.User))
        {
            var valid = (r.Rows ?? 0) - (r.Rejected ?? 0);
            actions = Html.Of($"""
                <div class="actions">
                {((r.ProblemCount ?? 0) == 0
                    ? Html.Of($"""
                        <form method="post" action="{Root}/{r.Id}/import" class="inline">{Layout.AntiforgeryField(ctx)}
                          <input type="hidden" name="mode" value="all"><button type="submit" id="import-all">确认导入</button></form>
                        """)
                    : valid > 0
                        ? Html.Of($"""
                            <form method="post" action="{Root}/{r.Id}/import" class="inline">{Layout.AntiforgeryField(ctx)}
                              <input type="hidden" name="mode" value="valid"><button type="submit" id="import-valid">只导入正确的 {N(valid)} 行</button></form>
                            """)
                        : Html.Of($"<p>没有可以导入的行。请下载错误行,修改后重新上传。</p>"))}
                <form method="post" action="{Root}/{r.Id}/discard" class="inline">{Layout.AntiforgeryField(ctx)}
                  <button type="submit" id="discard">放弃</button></form>
                </div>
                """);
        }
        var done = state != UploadState.Imported ? Html.Empty : Html.Of($"""
            <p class="ok" id="upload-done">{r.ImportedBy} 已于 {(r.FinishedAt is { } at ? Time(clock, at) : "")} 导入。<a href="{Root}/view/{r.Kind}" id="view-register">查看{f!.TitleZh}</a></p>
            """);
        var body = Html.Of($"""
            <p>名录:{f!.TitleZh}(<code>{r.Kind}</code>) · 文件:{r.FileName}({N(r.SizeBytes)} 字节) · 上传人:{r.UploadedBy} · {Time(clock, r.UploadedAt)}</p>
            <p>状态:<strong id="upload-state" data-state="{r.State}">{UploadLifecycle.Table.Label(r.State)}</strong></p>
            {progress}{failure}{counts}{done}{actions}{rejects}{problems}
            <p><a href="{Root}?kind={r.Kind}">上传另一个文件</a></p>
            """);
        return Layout.Page(ctx, $"名录文件 #{r.Id}", body);
    }

    private static async Task<IResult> ImportAsync(HttpContext ctx, long id, RegisterUploads uploads, IBackgroundJobClient jobs, CancellationToken ct)
    {
        var (r, _, refusal) = await LoadAsync(ctx, uploads, id, ct);
        if (refusal is not null) return refusal;
        var form = await ctx.Request.ReadFormAsync(ct);
        var mode = form["mode"].ToString();
        if (mode is not ("all" or "valid")) return Problem(ctx, "导入方式无效。", StatusCodes.Status400BadRequest);
        if (mode == "all" && (r!.ProblemCount ?? 0) > 0)
            return Problem(ctx, "文件有错误,不能全部导入;请只导入正确的行,或修改后重新上传。", StatusCodes.Status409Conflict);
        if (!UploadLifecycle.Table.Offers(UploadVerb.Import, r!.StateValue, ctx.User)
            || !await uploads.MoveAsync(id, UploadVerb.Import, mode, ctx.User.Identity!.Name, ct))
            return Problem(ctx, "该文件当前不能导入(可能已导入或已放弃)。", StatusCodes.Status409Conflict);
        jobs.Enqueue<RegisterUploadJob>(j => j.ImportAsync(id, CancellationToken.None));
        return Results.Redirect($"{Root}/{id}");
    }

    private static async Task<IResult> DiscardAsync(HttpContext ctx, long id, RegisterUploads uploads, CancellationToken ct)
    {
        var (_, _, refusal) = await LoadAsync(ctx, uploads, id, ct);
        if (refusal is not null) return refusal;
        if (!await uploads.DiscardAsync(id, ct)) return Problem(ctx, "该文件当前不能放弃。", StatusCodes.Status409Conflict);
        return Results.Redirect($"{Root}/{id}");
    }

    private static async Task<IResult> RejectsAsync(HttpContext ctx, long id, RegisterUploads uploads, CancellationToken ct)
    {
        var (r, _, refusal) = await LoadAsync(ctx, uploads, id, ct);
        if (refusal is not null) return refusal;
        if (!r!.HasRejects) return Problem(ctx, "这个文件没有错误行。", StatusCodes.Status404NotFound);
        var name = System.IO.Path.GetFileNameWithoutExtension(r.FileName);
        return Results.Stream(output => uploads.CopyPartAsync(id, "rejects", output, ct), "text/csv; charset=utf-8", $"{name}-错误行.csv");
    }

    private static async Task<IResult> TemplateAsync(HttpContext ctx, string kind, ImportKinds kinds, CancellationToken ct)
    {
        var f = RegisterForms.Find(kind);
        var k = kinds.Find(kind);
        if (f is null || k is null) return Problem(ctx, "未知的名录类型。", StatusCodes.Status404NotFound);
        if (!ctx.User.MayLoad(f)) return Problem(ctx, $"您的账号无权导入{f.TitleZh}。", StatusCodes.Status403Forbidden);
        var stream = await RegisterTemplates.XlsxAsync(k, f, ct);
        return Results.File(stream, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", $"{kind}-template.xlsx");
    }

    private static async Task<IResult> ViewAsync(HttpContext ctx, string kind, ImportKinds kinds, RegisterView view, CancellationToken ct)
    {
        var f = RegisterForms.Find(kind);
        var k = kinds.Find(kind);
        if (f is null || k is null) return Problem(ctx, "未知的名录类型。", StatusCodes.Status404NotFound);
        if (!ctx.User.MayLoad(f)) return Problem(ctx, $"您的账号无权查看{f.TitleZh}。", StatusCodes.Status403Forbidden);
        var sample = await view.SampleAsync(k, 50, ct);
        var body = Html.Of($"""
            <p>共 <strong id="register-count" data-value="{sample.Count}">{sample.Count.ToString("N0", CultureInfo.InvariantCulture)}</strong> 条记录;下表为最近修改的 {sample.Rows.Count} 条(身份证号码、银行账号已脱敏)。</p>
            <table id="register-rows">
            <tr>{sample.Headers.Select(h => Html.Of($"<th>{h}</th>"))}</tr>
            {sample.Rows.Select(row => Html.Of($"""<tr class="register-row">{row.Select(v => Html.Of($"<td>{v}</td>"))}</tr>"""))}
            </table>
            <p><a href="{Root}?kind={kind}">上传{f.TitleZh}</a></p>
            """);
        return Layout.Page(ctx, f.TitleZh, body);
    }

    private static IResult Problem(HttpContext ctx, string message, int status) =>
        Layout.Page(ctx, "无法处理", Html.Of($"""<p class="error" role="alert">{message}</p><p><a href="{Root}">返回名录导入</a></p>"""), status);
}
