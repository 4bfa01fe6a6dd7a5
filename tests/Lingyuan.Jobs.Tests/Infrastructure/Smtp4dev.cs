using System.Net.Http.Json;
using System.Text.Json;

namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>
/// Reads what reached the test run's smtp4dev through its HTTP API. The server is shared by all
/// test classes running in parallel, so a test looks only at recipients it made up itself
/// (e.g. <c>someone@{unique}.test</c>), never at "all messages".
/// </summary>
public sealed class Smtp4dev
{
    private static readonly HttpClient Http = new() { BaseAddress = TestEnv.SmtpApi, Timeout = TimeSpan.FromSeconds(30) };

    public sealed record Summary(Guid Id, string From, string[] To, string Subject, DateTimeOffset ReceivedDate);

    /// <summary>Every message whose recipients include one ending with <paramref name="recipientSuffix"/>.</summary>
    public static async Task<IReadOnlyList<Summary>> MessagesToAsync(string recipientSuffix)
    {
        var all = new List<Summary>();
        for (var page = 1; ; page++)
        {
            using var doc = await JsonDocument.ParseAsync(await Http.GetStreamAsync($"/api/messages?page={page}&pageSize=500"));
            var root = doc.RootElement;
            var items = root.ValueKind == JsonValueKind.Array ? root : root.GetProperty("results");
            var count = 0;
            foreach (var m in items.EnumerateArray())
            {
                count++;
                var to = m.TryGetProperty("to", out var t) && t.ValueKind == JsonValueKind.Array
                    ? t.EnumerateArray().Select(x => x.GetString() ?? "").ToArray()
                    : [];
                all.Add(new Summary(m.GetProperty("id").GetGuid(), m.GetProperty("from").GetString() ?? "", to,
                    m.GetProperty("subject").GetString() ?? "", m.GetProperty("receivedDate").GetDateTimeOffset()));
            }
            if (root.ValueKind == JsonValueKind.Array || count < 500) break;
        }
        return all.Where(m => m.To.Any(r => r.TrimEnd('>').EndsWith(recipientSuffix, StringComparison.OrdinalIgnoreCase))).ToList();
    }

    /// <summary>
    /// The raw RFC 5322 source of a message (headers, MIME parts, attachments). smtp4dev 3.x serves it
    /// at <c>/raw</c>; its <c>/source</c> is only the HTML body.
    /// </summary>
    public static Task<string> SourceAsync(Guid id) => Http.GetStringAsync($"/api/messages/{id}/raw");

    public static async Task<IReadOnlyList<Summary>> WaitForAsync(string recipientSuffix, int count, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var found = await MessagesToAsync(recipientSuffix);
            if (found.Count >= count || DateTime.UtcNow > until) return found;
            await Task.Delay(250);
        }
    }
}
