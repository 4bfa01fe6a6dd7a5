using Npgsql;

namespace Lingyuan.Jobs.Hosting.Runs;

/// <summary>
/// A failure as an operator reads it: one Chinese line first (what failed, in the bureau's words), the
/// technical detail (exception type and message, no stack trace) kept apart to be folded below it.
/// Messages of this project are written "English / 中文"; the Chinese half is taken when there is one.
/// </summary>
public static class RunErrors
{
    public static string ChineseFirstLine(Exception error)
    {
        var e = error is AggregateException { InnerExceptions.Count: 1 } a ? a.InnerExceptions[0] : error;
        var message = e.Message;
        var slash = message.IndexOf(" / ", StringComparison.Ordinal);
        if (slash >= 0 && HasChinese(message[(slash + 3)..])) return Line(message[(slash + 3)..]);
        if (HasChinese(message) && !HasLatinWords(message)) return Line(message);
        return e switch
        {
            RunNeedsAttentionException => Line(message),
            PostgresException => "数据库拒绝了操作(详见技术信息)",
            NpgsqlException => "无法连接数据库或数据库出错(详见技术信息)",
            TimeoutException => "操作超时",
            OperationCanceledException => "运行被中断(服务停止或超时)",
            ServiceUnavailableException => "所需服务(数据库或邮件服务器)无法连接",
            _ => "程序出错(详见技术信息)",
        };
    }

    /// <summary>The technical detail: exception types and messages down the inner chain (no stack trace).</summary>
    public static string Detail(Exception error)
    {
        var lines = new List<string>();
        for (var e = error; e is not null && lines.Count < 5; e = e.InnerException)
            lines.Add($"{e.GetType().FullName}: {e.Message}");
        return string.Join("\n", lines);
    }

    private static string Line(string s)
    {
        var first = s.Split('\n', 2)[0].Trim();
        return first.Length <= 300 ? first : first[..299] + "…";
    }

    public static bool HasChinese(string s) => s.Any(c => c is >= '\u4e00' and <= '\u9fff');

    private static bool HasLatinWords(string s) =>
        System.Text.RegularExpressions.Regex.IsMatch(s, @"\b[A-Za-z]{4,}\b(?:\s+\b[A-Za-z]{3,}\b){2,}");
}
