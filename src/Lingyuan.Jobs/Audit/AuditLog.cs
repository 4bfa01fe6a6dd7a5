using System.Text.Json;
using Dapper;
using Npgsql;

namespace Lingyuan.Jobs.Audit;

/// <summary>
/// Writes who did what and when. Call it inside the transaction of the change it records, so the
/// record and the change commit together or not at all.
/// </summary>
public static class AuditLog
{
    private static readonly JsonSerializerOptions Json = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The channel acts of the current flow come through, from <see cref="Database.Acting"/>: <c>web</c> (every
    /// dashboard request), <c>cli</c> (a command-line verb), otherwise <c>job</c> (background work).
    /// </summary>
    public static string Channel => Database.Acting.Current.Channel;

    public static Task WriteAsync(
        NpgsqlConnection conn, NpgsqlTransaction? tx, string actor, string action,
        string subjectType, string subjectId, object? before = null, object? after = null, string? details = null, string? channel = null) =>
        conn.ExecuteAsync(
            """
            INSERT INTO app.audit_log (actor, action, subject_type, subject_id, before, after, details, channel)
            VALUES (@actor, @action, @subjectType, @subjectId, @before::jsonb, @after::jsonb, @details, @channel)
            """,
            new
            {
                actor, action, subjectType, subjectId, channel = channel ?? Channel,
                before = before is null ? null : ToJson(before),
                after = after is null ? null : ToJson(after),
                details,
            },
            tx);

    private static string ToJson(object value) => value as string ?? JsonSerializer.Serialize(value, Json);
}
