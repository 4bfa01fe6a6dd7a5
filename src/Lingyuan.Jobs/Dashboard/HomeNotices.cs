using System.Security.Claims;

namespace Lingyuan.Jobs.Dashboard;

/// <summary>How urgent a home-page notice is: danger (something failed), warning (a person must act soon), info.</summary>
public enum NoticeLevel { Danger, Warning, Info }

/// <summary>
/// One line on the signed-in user's home page: an open alert, a missing holiday calendar, work waiting
/// for this user. Chinese text; <paramref name="Link"/> is where the person acts on it.
/// </summary>
public sealed record HomeNotice(NoticeLevel Level, string TextZh, string? Link = null);

/// <summary>
/// A feature that has something to say on the home page registers one of these
/// (<c>services.AddSingleton&lt;IHomeNotices, MyNotices&gt;()</c>); the home page asks every one
/// and shows what each returns for the user (by role). Keep it cheap: one small query.
/// </summary>
public interface IHomeNotices
{
    Task<IReadOnlyList<HomeNotice>> ForAsync(ClaimsPrincipal user, CancellationToken ct);
}
