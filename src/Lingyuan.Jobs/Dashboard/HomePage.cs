using System.Globalization;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// <c>/hangfire/home</c>: where every role lands after signing in. First every notice the features have for
/// this user (<see cref="IHomeNotices"/>), then the work waiting for them (<see cref="IHomeWork"/>) by area,
/// with counts and the page to act on. No SQL here: each feature counts its own.
/// </summary>
public static class HomePage
{
    public const string Path = "home";
    public const string Url = "/hangfire/" + Path;

    public static void Map(WebApplication app)
    {
        app.MapGet(Url, async (HttpContext ctx, CancellationToken ct) =>
        {
            var user = ctx.User;
            var notices = new List<HomeNotice>();
            foreach (var source in ctx.RequestServices.GetServices<IHomeNotices>())
                notices.AddRange(await source.ForAsync(user, ct));
            var work = new List<HomeWorkItem>();
            foreach (var source in ctx.RequestServices.GetServices<IHomeWork>())
                work.AddRange(await source.ForAsync(user, ct));
            return Render(ctx, notices, work);
        }).RequireAuthorization(Policies.SignedIn);
    }

    private static IResult Render(HttpContext ctx, List<HomeNotice> notices, List<HomeWorkItem> work)
    {
        var noticeList = notices.Count == 0 ? Html.Empty : Html.Of($"""
            <ul id="home-notices">{Html.Join(notices.OrderBy(n => n.Level).Select(n => Html.Of($"""
                <li class="{LevelClass(n.Level)}" data-level="{n.Level.ToString().ToLowerInvariant()}">{(n.Link is null ? Html.Of($"{n.TextZh}") : Html.Of($"""<a href="{n.Link}">{n.TextZh}</a>"""))}</li>
                """)))}</ul>
            """);
        var areas = work.GroupBy(w => w.AreaZh).Select(g => Html.Of($"""
            <h2>{g.Key}</h2>
            <table class="home-work"><tbody>
            {Html.Join(g.Select(w => Html.Of($"""
                <tr data-work="{w.LabelZh}"><td>{(w.Link is null ? Html.Of($"{w.LabelZh}") : Html.Of($"""<a href="{w.Link}">{w.LabelZh}</a>"""))}</td>
                <td class="num {(w.Urgent && w.Count > 0 ? "warn" : "")}" data-count="{w.Count}">{w.Count.ToString("N0", CultureInfo.InvariantCulture)}</td></tr>
                """)))}
            </tbody></table>
            """));
        var body = Html.Of($"""
            {noticeList}
            {(work.Count == 0 ? Html.Of($"<p>目前没有等待您处理的事项。</p>") : Html.Join(areas))}
            <p><a href="/hangfire">任务概览</a> · <a href="{AccountPages.PasswordPath}">修改密码</a></p>
            """);
        return Layout.Page(ctx, "我的工作", body);
    }

    private static string LevelClass(NoticeLevel level) => level switch
    {
        NoticeLevel.Danger => "error",
        NoticeLevel.Warning => "warn",
        _ => "",
    };
}
