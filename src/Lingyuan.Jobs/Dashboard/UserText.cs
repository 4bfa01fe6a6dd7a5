namespace Lingyuan.Jobs.Dashboard;

/// <summary>
/// Messages written for both the command line and the dashboard ("English / 中文", e.g. the four-eyes
/// refusal): a page shows the Chinese half. A message without a Chinese half is shown as it is.
/// </summary>
public static class UserText
{
    public static string Zh(string message)
    {
        var slash = message.IndexOf(" / ", StringComparison.Ordinal);
        return slash >= 0 && message[(slash + 3)..].Any(c => c is >= '\u4e00' and <= '\u9fff') ? message[(slash + 3)..].Trim() : message;
    }
}
