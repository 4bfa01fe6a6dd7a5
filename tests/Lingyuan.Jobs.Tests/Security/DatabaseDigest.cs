using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Security;

/// <summary>
/// A fingerprint of every table of the <c>app</c> schema: its row count and a sum of a hash of each row
/// version's (xmin, ctid). An insert or delete changes the count; an update writes a new row version
/// with a new xmin and ctid. Bookkeeping of sign-in (sessions, the key ring, last-seen times, login
/// attempts) may change on any request and is left out.
/// </summary>
public static partial class DatabaseDigest
{
    [GeneratedRegex("session|data_protection|last_seen|login_attempt|login_failure|sign_in", RegexOptions.IgnoreCase)]
    private static partial Regex Bookkeeping();

    public static async Task<Dictionary<string, string>> TakeAsync(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        var tables = (await conn.QueryAsync<string>(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'app' AND table_type = 'BASE TABLE' ORDER BY table_name"))
            .Where(t => !Bookkeeping().IsMatch(t)).ToList();
        if (tables.Count == 0) return [];
        var sql = new StringBuilder();
        foreach (var t in tables)
        {
            if (sql.Length > 0) sql.Append("\nUNION ALL ");
            sql.Append($"SELECT '{t}', count(*)::text || ':' || coalesce(sum(hashtext(xmin::text || ctid::text)::bigint), 0)::text FROM app.\"{t}\"");
        }
        return (await conn.QueryAsync<(string Table, string Digest)>(sql.ToString())).ToDictionary(x => x.Table, x => x.Digest);
    }

    /// <summary>The tables whose fingerprint differs, empty when none.</summary>
    public static List<string> Changed(Dictionary<string, string> before, Dictionary<string, string> after) =>
        before.Keys.Union(after.Keys).Where(t => before.GetValueOrDefault(t) != after.GetValueOrDefault(t)).Order().ToList();

    /// <summary>The headers every answer of the service carries; a problem per missing one, empty when all are there.</summary>
    public static List<string> MissingSecurityHeaders(HttpResponseMessage response)
    {
        var problems = new List<string>();
        string? Header(string name) =>
            response.Headers.TryGetValues(name, out var v) ? string.Join(",", v)
            : response.Content.Headers.TryGetValues(name, out var c) ? string.Join(",", c) : null;
        if (Header("Content-Security-Policy") != RequestSafety.ContentSecurityPolicy) problems.Add($"Content-Security-Policy: {Header("Content-Security-Policy")}");
        if (Header("X-Frame-Options") != "DENY") problems.Add($"X-Frame-Options: {Header("X-Frame-Options")}");
        if (Header("X-Content-Type-Options") != "nosniff") problems.Add($"X-Content-Type-Options: {Header("X-Content-Type-Options")}");
        if (Header("Referrer-Policy") is not ("same-origin" or "no-referrer")) problems.Add($"Referrer-Policy: {Header("Referrer-Policy")}");
        if (response.StatusCode == HttpStatusCode.OK && Header("Cache-Control") != "no-store") problems.Add($"Cache-Control: {Header("Cache-Control")}");
        return problems;
    }
}
