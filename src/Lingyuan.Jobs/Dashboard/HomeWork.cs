using System.Security.Claims;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// One count of work waiting for the signed-in user on the home page, under the heading of the feature
/// (<paramref name="AreaZh"/>, e.g. 待遇发放): what it is, how many, and where the person acts on it.
/// A zero is shown too (nothing waiting is news as well).
/// </summary>
public sealed record HomeWorkItem(string AreaZh, string LabelZh, long Count, string? Link = null, bool Urgent = false);

/// <summary>
/// A feature that has work for some roles registers one of these (<c>services.AddSingleton&lt;IHomeWork, MyWork&gt;()</c>);
/// the home page (<c>/hangfire/home</c>) asks every one for the user and shows the counts by area. It decides by
/// the user's role what it returns (nothing for other roles) and counts with a small query of its feature's View
/// slice, never its own SQL in a page.
/// </summary>
public interface IHomeWork
{
    Task<IReadOnlyList<HomeWorkItem>> ForAsync(ClaimsPrincipal user, CancellationToken ct);
}
