using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// What every request to the service goes through before any page sees it: the response headers that
/// keep pages out of frames, caches and foreign scripts; body size limits; refusal of control characters
/// in paths, query strings and form fields and of page numbers out of range; a same-origin check on every
/// state change; and a Chinese page instead of a stack trace when something fails. Each refusal is a 4xx
/// with a Chinese message, never a 500.
/// </summary>
public static partial class RequestSafety
{
    /// <summary>Largest body of a form post (url-encoded or any other non-multipart body).</summary>
    public const long FormBodyLimitBytes = 64 * 1024;

    /// <summary>
    /// Largest multipart upload (the bank's return file, inspection results): 32 MB, about 500,000 return
    /// lines. Larger files go through the command line (<c>batch reconcile</c>, <c>inspections results import</c>).
    /// </summary>
    public const long UploadLimitBytes = 32 * 1024 * 1024;

    /// <summary>Largest value of one form field (the file parts of an upload are not fields).</summary>
    public const int FormValueLimitBytes = 64 * 1024;

    /// <summary>How much of a refused body is still read (and thrown away) so that the client gets the 413 answer.</summary>
    public const long DrainLimitBytes = 2 * UploadLimitBytes;

    /// <summary>
    /// Endpoint metadata (<c>.WithMetadata(new RequestSafety.UploadLimit(bytes))</c>) for a page that takes larger files
    /// than <see cref="UploadLimitBytes"/> (register files: a county's persons register is about 130 MB). The page reads
    /// the file as a stream; the form reader buffers it on disk, not in memory.
    /// </summary>
    public sealed record UploadLimit(long Bytes);

    private const string OriginalBodyKey = "Lingyuan.Jobs.RequestSafety.OriginalBody";

    /// <summary>Highest page number a list accepts (?page=); above it, or below 1, or not a number: 400.</summary>
    public const int MaxPageNumber = 100_000;

    /// <summary>
    /// The pages load scripts only from the service itself (Hangfire's bundle under /hangfire/js…; the
    /// project's pages have none). Styles need 'unsafe-inline': Hangfire's pages carry style attributes
    /// (state cards, labels) and its chart library injects a style element; the project's pages have one
    /// style block. Images may be data: URIs (Bootstrap's CSS). No frames, no plugins, forms post only here.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public const string InvalidCharacterMessage = "请求包含无效字符(如空字符或其他控制字符),已拒绝。请检查输入后重试。";
    public const string CrossOriginMessage = "请求来源与本系统地址不一致,已拒绝。请在本系统页面中重新操作。";

    /// <summary>
    /// Registers the checks, early in the pipeline: after forwarded headers are applied (the same-origin
    /// check compares against the request's own scheme and host), before authentication and the pages.
    /// </summary>
    public static WebApplication UseRequestSafety(this WebApplication app)
    {
        app.Use(AnswerFailuresInChinese);
        app.Use(SecurityHeaders);
        app.Use(RefuseUnsafeRequests);
        return app;
    }

    /// <summary>
    /// ASP.NET Core checks antiforgery only on endpoints that bind a form; a POST that carries its data in
    /// the route would slip through. Every state-changing request to our own endpoints is checked here
    /// instead, so a new page cannot forget it. Hangfire's pages check their own token; the same-origin
    /// check of <see cref="UseRequestSafety"/> covers them as well. Runs after authentication (the token
    /// is bound to the signed-in user) and <c>UseAntiforgery</c>.
    /// </summary>
    public static WebApplication UseAntiforgeryOnEveryStateChange(this WebApplication app)
    {
        app.Use(async (ctx, next) =>
        {
            if (IsStateChange(ctx.Request.Method)
                && ctx.GetEndpoint() is RouteEndpoint endpoint
                && endpoint.RoutePattern.RawText != "/hangfire/{**path}")
            {
                // UseAntiforgery has already checked endpoints that bind a form; check the others now.
                // The token first: a form whose token failed must not be read again.
                var valid = ctx.Features.Get<IAntiforgeryValidationFeature>()?.IsValid
                    ?? await ctx.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(ctx);
                if (!valid)
                {
                    await RefuseAsync(ctx, StatusCodes.Status400BadRequest, "请求缺少有效的防伪令牌,请刷新页面后重试。");
                    return;
                }
                if (await FormHasControlCharactersAsync(ctx))
                {
                    await RefuseAsync(ctx, StatusCodes.Status400BadRequest, InvalidCharacterMessage);
                    return;
                }
            }
            else if (IsStateChange(ctx.Request.Method) && ctx.GetEndpoint() is RouteEndpoint && await FormHasControlCharactersAsync(ctx))
            {
                // Hangfire's own command routes: the same rule for their fields.
                await RefuseAsync(ctx, StatusCodes.Status400BadRequest, InvalidCharacterMessage);
                return;
            }
            await next(ctx);
        });
        return app;
    }

    /// <summary>Reads the form (the pages then read the same parsed form): every field of every form, the same rule.</summary>
    private static async Task<bool> FormHasControlCharactersAsync(HttpContext ctx)
    {
        if (!ctx.Request.HasFormContentType) return false;
        var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
        return form.Any(f => HasControl(f.Key, false) || f.Value.Any(v => HasControl(v, MultiLineFields.Contains(f.Key))))
            || form.Files.Any(f => HasControl(f.FileName, false) || HasControl(f.Name, false));
    }

    private static bool IsStateChange(string method) =>
        !(HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method) || HttpMethods.IsTrace(method));

    // ---- failures ----

    private static async Task AnswerFailuresInChinese(HttpContext ctx, RequestDelegate next)
    {
        try
        {
            await next(ctx);
        }
        catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody reads an answer.
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (!ctx.Response.HasStarted)
        {
            await RefuseBadBodyAsync(ctx, ex);
        }
        catch (InvalidDataException ex) when (!ctx.Response.HasStarted)
        {
            await RefuseBadFormAsync(ctx, ex);
        }
        // The antiforgery check reads the form first and wraps what the form reader threw.
        catch (Microsoft.AspNetCore.Antiforgery.AntiforgeryValidationException ex)
            when (!ctx.Response.HasStarted && ex.InnerException is Microsoft.AspNetCore.Http.BadHttpRequestException bad)
        {
            await RefuseBadBodyAsync(ctx, bad);
        }
        catch (Microsoft.AspNetCore.Antiforgery.AntiforgeryValidationException ex)
            when (!ctx.Response.HasStarted && ex.InnerException is InvalidDataException data)
        {
            await RefuseBadFormAsync(ctx, data);
        }
        catch (Exception ex) when (!ctx.Response.HasStarted)
        {
            ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lingyuan.Jobs.Dashboard.Errors")
                .LogError(ex, "unhandled exception on {Method} {Path} (trace {TraceId})", ctx.Request.Method, ctx.Request.Path, ctx.TraceIdentifier);
            ctx.Response.Clear();
            var body = Layout.Bare("系统错误", Html.Of($"""
                <p class="error" role="alert">系统处理您的请求时出错,操作未完成。请稍后重试;如问题持续,请将编号 <code>{ctx.TraceIdentifier}</code> 告知系统管理员。</p>
                <p><a href="/hangfire">返回控制台</a></p>
                """));
            ctx.Response.StatusCode = StatusCodes.Status500InternalServerError;
            ctx.Response.ContentType = "text/html; charset=utf-8";
            await ctx.Response.WriteAsync(body.Value);
        }

        // An error status that no one explained (routing's 404/405, a binding's 400/415): say it in Chinese.
        if (!ctx.Response.HasStarted && ctx.Response.StatusCode >= 400 && ctx.Response.ContentLength is null or 0
            && ctx.Response.ContentType is null && !HttpMethods.IsHead(ctx.Request.Method))
        {
            var text = ctx.Response.StatusCode switch
            {
                400 => "请求无效,已拒绝。请从本系统页面重新操作。",
                401 => "请先登录。",
                403 => "您的账号无权执行此操作或访问此页面。",
                404 => "页面或记录不存在。",
                405 => "不支持该请求方式。",
                413 => TooLargeMessage(ctx),
                415 => "请求格式不受支持。",
                _ => null,
            };
            if (text is not null) await RefuseAsync(ctx, ctx.Response.StatusCode, text);
        }
    }


    private static async Task RefuseBadBodyAsync(HttpContext ctx, Microsoft.AspNetCore.Http.BadHttpRequestException ex)
    {
        if (ex.StatusCode == StatusCodes.Status413PayloadTooLarge) await DrainAsync(ctx);
        Log(ctx).LogInformation("{Method} {Path} refused: {Status} {Message}", ctx.Request.Method, ctx.Request.Path, ex.StatusCode, ex.Message);
        // Kestrel's body limit (413), a malformed body or a value a page could not bind (400).
        await RefuseAsync(ctx, ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? 413 : 400,
            ex.StatusCode == StatusCodes.Status413PayloadTooLarge ? TooLargeMessage(ctx) : "请求格式无效,已拒绝。请从本系统页面重新操作。");
    }

    private static async Task RefuseBadFormAsync(HttpContext ctx, InvalidDataException ex)
    {
        // The form reader's limits (value length, field count) or a broken multipart body.
        var tooLarge = ex.Message.Contains("limit", StringComparison.OrdinalIgnoreCase);
        if (tooLarge) await DrainAsync(ctx);
        Log(ctx).LogInformation("{Method} {Path} refused: {Message}", ctx.Request.Method, ctx.Request.Path, ex.Message);
        // The url-encoded form reader refuses a NUL itself ("The form value contains invalid characters").
        var invalidCharacter = ex.Message.Contains("invalid character", StringComparison.OrdinalIgnoreCase);
        await RefuseAsync(ctx, tooLarge ? 413 : 400,
            tooLarge ? TooLargeMessage(ctx) : invalidCharacter ? InvalidCharacterMessage : "请求格式无效,已拒绝。请从本系统页面重新操作。");
    }
    private static string TooLargeMessage(HttpContext ctx) =>
        IsMultipart(ctx.Request)
            ? string.Create(CultureInfo.InvariantCulture, $"上传的文件过大(上限 {(ctx.GetEndpoint()?.Metadata.GetMetadata<UploadLimit>()?.Bytes ?? UploadLimitBytes) / 1024 / 1024} MB),已拒绝。更大的文件请使用命令行导入。")
            : string.Create(CultureInfo.InvariantCulture, $"提交的内容过长(上限 {FormBodyLimitBytes / 1024} KB),已拒绝。");

    private static ILogger Log(HttpContext ctx) =>
        ctx.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Lingyuan.Jobs.Dashboard.RequestSafety");

    /// <summary>Reads what is left of a refused body, up to <see cref="DrainLimitBytes"/> and 30 seconds.</summary>
    private static async Task DrainAsync(HttpContext ctx)
    {
        var body = ctx.Items[OriginalBodyKey] as Stream ?? ctx.Request.Body;
        var buffer = new byte[64 * 1024];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ctx.RequestAborted);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            while (await body.ReadAsync(buffer, timeout.Token) > 0) { }
        }
        catch (Exception ex) when (ex is Microsoft.AspNetCore.Http.BadHttpRequestException or IOException or OperationCanceledException or InvalidOperationException)
        {
            // Beyond Kestrel's cap, too slow, or the client has gone: the connection closes after the answer.
        }
    }

    /// <summary>The request body as the pages read it: past <c>limit</c> bytes a 413.</summary>
    private sealed class LimitedBody(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) =>
            ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) =>
            Count(await inner.ReadAsync(buffer, ct));

        private int Count(int n)
        {
            _read += n;
            if (_read > limit)
                throw new Microsoft.AspNetCore.Http.BadHttpRequestException("request body too large", StatusCodes.Status413PayloadTooLarge);
            return n;
        }
    }

    private static async Task RefuseAsync(HttpContext ctx, int status, string message)
    {
        ctx.Response.Clear();
        ctx.Response.StatusCode = status;
        if (ctx.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            // A person's browser: a page with the way back (refused before sign-in is read, so without the menu).
            ctx.Response.ContentType = "text/html; charset=utf-8";
            var back = ctx.Request.Headers.Referer.ToString() is { Length: > 0 } referer
                && Uri.TryCreate(referer, UriKind.Absolute, out var r) && string.Equals(r.Authority, ctx.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
                && DashboardSetup.IsLocal(r.PathAndQuery)
                ? Html.Of($"""<a href="{r.PathAndQuery}">返回上一页</a> · """) : Html.Empty;
            await ctx.Response.WriteAsync(Layout.Bare("请求被拒绝", Html.Of(
                $"""<p class="error" role="alert">{message}</p><p>{back}<a href="/hangfire">返回任务概览</a></p>""")).Value);
            return;
        }
        ctx.Response.ContentType = "text/plain; charset=utf-8";
        await ctx.Response.WriteAsync(message + "\n");
    }

    // ---- headers ----

    private static Task SecurityHeaders(HttpContext ctx, RequestDelegate next)
    {
        var path = ctx.Request.Path;
        ctx.Response.OnStarting(() =>
        {
            var h = ctx.Response.Headers;
            h.XContentTypeOptions = "nosniff";
            h.XFrameOptions = "DENY";
            h["Referrer-Policy"] = "same-origin";
            h.ContentSecurityPolicy = ContentSecurityPolicy;
            // Pages and downloads carry ID numbers, accounts and money: never kept by a browser or proxy cache.
            // Hangfire's own scripts, styles and fonts are versioned by URL and hold no data.
            if (!IsHangfireAsset(path)) h.CacheControl = "no-store";
            return Task.CompletedTask;
        });
        return next(ctx);
    }

    private static bool IsHangfireAsset(PathString path) =>
        path.StartsWithSegments("/hangfire", out var rest) && HangfireAsset().IsMatch(rest.Value ?? "");

    [GeneratedRegex(@"^/(js\d+|css\d+|css-dark\d+|fonts/[a-z0-9-]+/[a-z0-9]+)$")]
    private static partial Regex HangfireAsset();

    // ---- refusals ----

    private static async Task RefuseUnsafeRequests(HttpContext ctx, RequestDelegate next)
    {
        var request = ctx.Request;

        // Route values and the query: no control character at all (a path never holds a line).
        if (HasControl(request.Path.Value, multiLine: false) || request.Query.Any(q => HasControl(q.Key, false) || q.Value.Any(v => HasControl(v, false))))
        {
            await RefuseAsync(ctx, StatusCodes.Status400BadRequest, InvalidCharacterMessage);
            return;
        }
        if (PageNumberProblem(request.Query) is { } pageProblem)
        {
            await RefuseAsync(ctx, StatusCodes.Status400BadRequest, pageProblem);
            return;
        }

        if (IsStateChange(request.Method))
        {
            if (!IsSameOrigin(request))
            {
                Log(ctx).LogWarning("cross-origin {Method} {Path} refused (Origin {Origin}, Referer {Referer})",
                        request.Method, request.Path, Short(request.Headers.Origin), Short(request.Headers.Referer));
                await RefuseAsync(ctx, StatusCodes.Status403Forbidden, CrossOriginMessage);
                return;
            }

            // Uploads only to pages behind sign-in: a page open to everyone (the sign-in form) takes a small form.
            var upload = IsMultipart(request) && ctx.GetEndpoint() is { } endpoint && endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null;
            var uploadLimit = upload ? ctx.GetEndpoint()?.Metadata.GetMetadata<UploadLimit>()?.Bytes ?? UploadLimitBytes : UploadLimitBytes;
            var limit = upload ? uploadLimit : FormBodyLimitBytes;
            // Kestrel's own cap is above the page's limit: a refused body is read to its end and thrown away,
            // so the browser gets the Chinese 413 instead of a reset connection. Beyond the cap the connection closes.
            if (ctx.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size) size.MaxRequestBodySize = Math.Max(DrainLimitBytes, 2 * uploadLimit);
            if (request.ContentLength > limit)
            {
                await DrainAsync(ctx);
                await RefuseAsync(ctx, StatusCodes.Status413PayloadTooLarge, TooLargeMessage(ctx));
                return;
            }
            ctx.Items[OriginalBodyKey] = request.Body;
            request.Body = new LimitedBody(request.Body, limit);
            // The limits apply when a page reads the form, after sign-in and roles are checked (see
            // UseAntiforgeryOnEveryStateChange): an anonymous request never gets a body buffered.
            if (request.HasFormContentType)
                ctx.Features.Set<IFormFeature>(new FormFeature(request, new FormOptions
                {
                    ValueLengthLimit = FormValueLimitBytes,
                    MultipartBodyLengthLimit = limit,
                    BufferBodyLengthLimit = limit,
                }));
        }
        await next(ctx);
    }

    /// <summary>
    /// Form fields that are multi-line text (a textarea): TAB, CR and LF are allowed in them, in no other.
    /// <c>holiday_days</c>: the days of the holiday calendar typed one per line (Calendar/HolidaysPage). Single-line
    /// fields are further checked by <see cref="TextRules"/> in the services.
    /// </summary>
    public static readonly IReadOnlySet<string> MultiLineFields = new HashSet<string>(["holiday_days"], StringComparer.OrdinalIgnoreCase);

    private static bool HasControl(string? s, bool multiLine)
    {
        if (s is null) return false;
        foreach (var c in s)
            if (TextRules.IsForbiddenAnywhere(c, multiLine)) return true;
        return false;
    }

    private static bool IsMultipart(HttpRequest r) =>
        r.ContentType?.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase) == true;

    /// <summary>A list's <c>page</c>: one whole number from 1 to <see cref="MaxPageNumber"/>, else a Chinese problem.</summary>
    private static string? PageNumberProblem(IQueryCollection query)
    {
        if (!query.TryGetValue("page", out var values)) return null;
        if (values.Count == 1 && int.TryParse(values[0], NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= MaxPageNumber)
            return null;
        return string.Create(CultureInfo.InvariantCulture, $"页码无效:应为 1 到 {MaxPageNumber} 之间的整数。");
    }

    /// <summary>
    /// A browser names where a request comes from: <c>Origin</c> on every cross-site and every non-GET
    /// request, else <c>Referer</c>. Either must match the request's own scheme, host and port; a request
    /// carrying neither (a script with its own token, the tests) is left to the antiforgery token.
    /// </summary>
    private static bool IsSameOrigin(HttpRequest request)
    {
        var claimed = request.Headers.Origin.ToString();
        if (string.IsNullOrEmpty(claimed)) claimed = request.Headers.Referer.ToString();
        if (string.IsNullOrEmpty(claimed)) return true;
        if (!Uri.TryCreate(claimed, UriKind.Absolute, out var from) || from.Scheme is not ("http" or "https")) return false; // "null", file:, …
        if (!Uri.TryCreate($"{request.Scheme}://{request.Host.Value}/", UriKind.Absolute, out var own)) return false;
        return string.Equals(from.Scheme, own.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(from.IdnHost, own.IdnHost, StringComparison.OrdinalIgnoreCase)
            && from.Port == own.Port;
    }

    private static string Short(Microsoft.Extensions.Primitives.StringValues v)
    {
        var s = v.ToString();
        return s.Length > 200 ? s[..200] + "…" : s;
    }
}
