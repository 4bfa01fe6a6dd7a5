using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Threading.RateLimiting;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// <c>/public/draws</c> and <c>/public/draws/{drawId}</c>, no sign-in: each plan's commitment with the time it
/// was published, its frozen snapshot's hash and the public value it waits for; after the draw the revealed
/// secret, the snapshot, the public value, the seed and the result, each downloadable byte for byte, and the
/// proof bundle. Rate-limited per address; answers carry an ETag and a short public cache lifetime.
/// The page renders what the Proof slice gives it.
/// </summary>
public static class DrawsPublicPage
{
    internal const string Base = "/public/draws";

    public static void Map(WebApplication app)
    {
        var g = app.MapGroup(Base).AllowAnonymous().RequireRateLimiting(PublicDrawsRateLimit.Name);
        g.MapGet("", Index);
        g.MapGet("/{drawId:long}", Detail);
        g.MapGet("/{drawId:long}/proof.txt", (HttpContext ctx, long drawId, DrawProofs proofs, CancellationToken ct) => FileAsync(ctx, drawId, proofs, "proof.txt", ct));
        g.MapGet("/{drawId:long}/snapshot.txt", (HttpContext ctx, long drawId, DrawProofs proofs, CancellationToken ct) => FileAsync(ctx, drawId, proofs, "snapshot.txt", ct));
        g.MapGet("/{drawId:long}/result.txt", (HttpContext ctx, long drawId, DrawProofs proofs, CancellationToken ct) => FileAsync(ctx, drawId, proofs, "result.txt", ct));
        g.MapGet("/{drawId:long}/proof.zip", Bundle);
    }

    private static async Task<IResult> Index(HttpContext ctx, DrawProofs proofs, BureauClock clock, IOptions<InspectionOptions> options, CancellationToken ct)
    {
        var (plans, draws) = await proofs.ListAsync(ct);
        var byPlan = draws.ToLookup(d => d.PlanId);
        string T(DateTime utc) => clock.Format(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));
        var rows = plans.Select(p => Html.Of($"""
            <tr id="plan-{p.Id}"><td>{p.Id}</td><td>{p.Name}</td><td>{p.Period}</td><td>{Day(p.DrawDate)}</td>
            <td><code class="commitment">{Convert.ToHexStringLower(p.Commitment)}</code></td><td>{T(p.PublishedAt)}</td>
            <td>{(p.SnapshotHash is null ? Html.Of($"未冻结") : Html.Of($"<code>{Convert.ToHexStringLower(p.SnapshotHash)}</code><br>{T(p.FrozenAt!.Value)} 冻结;摇号使用 {p.PublicSource} {Day(p.PublicValueDate!.Value)}"))}</td>
            <td>{PlanLifecycle.Table.Label(p.StateDb)}{(p.ReplacesPlanId is { } r ? Html.Of($";取代计划 {r}") : Html.Empty)}{(p.WithdrawnAt is { } w ? Html.Of($";{T(w)} 撤回{(p.ReplacedBy is { } by ? $",由计划 {by} 取代" : "")}:{p.WithdrawReason}") : Html.Empty)}
            {Html.Join(byPlan[p.Id].Select(d => Html.Of($"<br><a class=\"draw-link\" href=\"{Base}/{d.Id}\">摇号 {d.Id}{(d.CancelledAt is null ? "" : "(已撤销)")}</a>")))}</td></tr>
            """));
        var body = Html.Of($"""
            <p>凌源市人力资源和社会保障局劳动保障监察“双随机、一公开”抽查。每个计划建立时即公开随机种子的承诺值(SHA-256);摇号前一日冻结名录快照并公开其哈希值及所用公开随机数(默认:{options.Value.PublicValueSource});摇号后公开种子秘密、名录快照、公开随机数、种子与结果,任何人可依据公开算法独立复核。</p>
            <table><tr><th>计划</th><th>名称</th><th>期间</th><th>摇号日期</th><th>种子承诺值(SHA-256)</th><th>承诺值公开时间</th><th>名录快照(SHA-256)</th><th>状态与摇号</th></tr>{rows}</table>
            """);
        return Cached(ctx, Encoding.UTF8.GetBytes(Layout.Bare("双随机抽查摇号公开", body).Value), "text/html; charset=utf-8", null);
    }

    private static async Task<IResult> Detail(HttpContext ctx, long drawId, DrawProofs proofs, BureauClock clock, CancellationToken ct)
    {
        var files = await proofs.FilesAsync(drawId, ct);
        if (files is null) return Results.Content(Layout.Bare("没有该摇号记录", Html.Of($"<p><a href=\"{Base}\">返回</a></p>")).Value, "text/html; charset=utf-8", statusCode: 404);
        var f = files.Fields;
        var rows = await proofs.ResultRowsAsync(drawId, ct);
        string T(string key) => f.TryGetValue(key, out var v) ? clock.Format(DateTimeOffset.Parse(v, CultureInfo.InvariantCulture)) : "";
        Html Row(string label, string key, bool code = true) => f.TryGetValue(key, out var v)
            ? Html.Of($"<tr><th>{label}</th><td>{(code ? Html.Of($"<code id=\"{key}\">{v}</code>") : Html.Of($"<span id=\"{key}\">{v}</span>"))}</td></tr>") : Html.Empty;
        var result = rows.Select(r => Html.Of($"""
            <tr><td class="num">{r.Position}</td><td>{r.RiskClass}</td><td>{r.Name}</td><td>{r.Uscc}</td><td>{string.Join("、", r.Team.Select((b, i) => $"{r.Names[i]}({b})"))}</td></tr>
            """));
        var body = Html.Of($"""
            <p><a href="{Base}">返回公开列表</a></p>
            <p>计划 {files.PlanId}:{files.PlanName}({files.Period});摇号编号 {drawId};状态:{(f["status"] == "standing" ? "有效" : "已撤销")}。</p>
            <table>
            {Row("算法版本", "algorithm")}
            {Row("计划摇号日期", "draw_date")}
            {Row("种子承诺值", "commitment")}
            <tr><th>承诺值公开时间</th><td>{T("commitment_published_at")}</td></tr>
            {Row("种子秘密(摇号后公开)", "secret")}
            {Row("名录快照 SHA-256", "snapshot_sha256")}
            {(f.ContainsKey("snapshot_frozen_at") ? Html.Of($"<tr><th>快照冻结时间</th><td>{T("snapshot_frozen_at")}</td></tr>") : Html.Empty)}
            {Row("公开随机数来源", "public_source", code: false)}
            {Row("公开随机数开奖日期", "public_value_date")}
            {Row("公开随机数", "public_value")}
            {Row("种子", "seed")}
            {Row("结果 SHA-256", "result_sha256")}
            <tr><th>摇号完成时间</th><td>{T("drawn_at")}</td></tr>
            </table>
            <p>下载(UTF-8,逐字节与哈希值对应,格式见 docs/draw-algorithm.md):
              <a id="download-proof" href="{Base}/{drawId}/proof.txt">proof.txt(全部输入与输出)</a> ·
              <a id="download-snapshot" href="{Base}/{drawId}/snapshot.txt">snapshot.txt(名录快照)</a> ·
              <a id="download-result" href="{Base}/{drawId}/result.txt">result.txt(结果)</a> ·
              <a id="download-bundle" href="{Base}/{drawId}/proof.zip">{files.ZipName}(证明包)</a></p>
            <h2>抽中单位与检查组</h2>
            <table><tr><th>序号</th><th>类别</th><th>单位名称</th><th>统一社会信用代码</th><th>检查组(执法证号)</th></tr>{result}</table>
            """);
        return Cached(ctx, Encoding.UTF8.GetBytes(Layout.Bare($"摇号 {drawId} 公开证明", body).Value), "text/html; charset=utf-8", null);
    }

    private static async Task<IResult> FileAsync(HttpContext ctx, long drawId, DrawProofs proofs, string name, CancellationToken ct)
    {
        var files = await proofs.FilesAsync(drawId, ct);
        if (files is null) return Results.NotFound();
        var bytes = files.Files.Single(x => x.Name == name).Bytes;
        return Cached(ctx, bytes, "text/plain; charset=utf-8", $"draw-{drawId}-{name}");
    }

    private static async Task<IResult> Bundle(HttpContext ctx, long drawId, DrawProofs proofs, CancellationToken ct)
    {
        var files = await proofs.FilesAsync(drawId, ct);
        return files is null ? Results.NotFound() : Cached(ctx, files.Zip(), "application/zip", files.ZipName);
    }

    /// <summary>
    /// The body with a strong ETag (its SHA-256) and one minute of public caching; a request naming the same
    /// ETag gets 304 without the body.
    /// </summary>
    private static IResult Cached(HttpContext ctx, byte[] body, string contentType, string? downloadName)
    {
        var etag = $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"";
        ctx.Response.Headers.ETag = etag;
        ctx.Response.Headers.CacheControl = "public, max-age=60";
        if (ctx.Request.Headers.IfNoneMatch.Any(v => v is not null && v.Split(',').Any(x => x.Trim() == etag || x.Trim() == "*")))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return downloadName is null ? Results.Bytes(body, contentType) : Results.File(body, contentType, downloadName);
    }

    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

/// <summary>
/// The public pages' rate limit: <c>Inspections:PublicRequestsPerMinute</c> requests per client address per
/// minute (a fixed window), then 429 in Chinese with Retry-After.
/// </summary>
public sealed class PublicDrawsRateLimit(IOptions<InspectionOptions> options) : IRateLimiterPolicy<string>
{
    public const string Name = "public-draws";

    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => async (ctx, ct) =>
    {
        ctx.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        ctx.HttpContext.Response.Headers.RetryAfter = "60";
        ctx.HttpContext.Response.ContentType = "text/html; charset=utf-8";
        await ctx.HttpContext.Response.WriteAsync(Layout.Bare("访问过于频繁", Html.Of($"""
            <p class="error" role="alert">访问过于频繁,请一分钟后再试。</p>
            """)).Value, ct);
    };

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) =>
        RateLimitPartition.GetFixedWindowLimiter(httpContext.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = options.Value.PublicRequestsPerMinute,
            Window = TimeSpan.FromMinutes(1),
            QueueLimit = 0,
        });
}
