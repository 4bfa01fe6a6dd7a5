using System.Text;
using Dapper;
using Lingyuan.Jobs.Bench.Mail;
using Lingyuan.Jobs.Notifications;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Notifications;

/// <summary>Queues test mail the way features do: the smtp-test template, Outbox.EnqueueAsync, one transaction.</summary>
public static class OutboxTestData
{
    public static readonly byte[] Ics = Encoding.UTF8.GetBytes(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Lingyuan//Jobs//ZH\r\nBEGIN:VEVENT\r\nUID:test-1@lingyuan\r\n" +
        "DTSTART:20260301T010000Z\r\nDTEND:20260301T090000Z\r\nSUMMARY:双随机检查 · 凌源市某某有限公司\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n");

    public static string Domain() => $"{Guid.NewGuid():N}.test";

    /// <summary>Queues <paramref name="count"/> messages to <c>p{i}@{domain}</c>; returns their ids in order.</summary>
    public static async Task<long[]> QueueAsync(NpgsqlDataSource db, string domain, int count, bool attachment = false, string prefix = "t")
    {
        await using var conn = await db.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        for (var i = 0; i < count; i++)
        {
            var message = MailTemplates.Message("smtp-test",
                new { Title = $"第{i}号通知", RecipientName = $"张三{i}", IdNumber = "11010519491231002X", AmountFen = 123456L },
                dedupeKey: $"{prefix}:{domain}:{i}", recipients: [$"p{i}@{domain}"], regardingType: "test", regardingId: $"{domain}:{i}",
                attachments: attachment ? [new MailAttachment("检查安排.ics", "text/calendar; charset=utf-8", Ics)] : null);
            Assert.True(await Outbox.EnqueueAsync(conn, tx, message));
        }
        await tx.CommitAsync();
        return (await conn.QueryAsync<long>("SELECT id FROM app.outbox WHERE dedupe_key LIKE @p ORDER BY id", new { p = $"{prefix}:{domain}:%" })).ToArray();
    }

    public static async Task<Dictionary<string, int>> StatesAsync(NpgsqlDataSource db, IEnumerable<long> ids)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<(string State, int Count)>(
                "SELECT state, count(*)::int FROM app.outbox WHERE id = ANY(@ids) GROUP BY state", new { ids = ids.ToArray() }))
            .ToDictionary(r => r.State, r => r.Count);
    }

    /// <summary>Each test in a class starts from an empty outbox, so one test's leftovers are not sent by another.</summary>
    public static async Task ClearAsync(NpgsqlDataSource db)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("DELETE FROM app.outbox_attachments; DELETE FROM app.outbox;");
    }
}
