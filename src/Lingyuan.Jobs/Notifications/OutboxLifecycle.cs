using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Notifications;

/// <summary>The states of an outbox message; stored as snake_case text in <c>app.outbox.state</c>.</summary>
public enum OutboxState { Pending, Sent, Failed }

/// <summary>What can happen to an outbox message.</summary>
public enum OutboxVerb { Send, Defer, Fail, Requeue }

/// <summary>
/// The lifecycle of an outbox message, written once: delivery sends a pending message, defers it after a
/// transient failure (it stays pending with a later attempt) or fails it (refused permanently, or past the
/// retry horizon); an admin puts a failed message back in the queue. The database's CHECK on
/// <c>app.outbox.state</c> is tested against this table.
/// </summary>
public static class OutboxLifecycle
{
    public static StateTable<OutboxState, OutboxVerb> Table { get; } = new(
        "邮件",
        new Dictionary<OutboxState, string>
        {
            [OutboxState.Pending] = "待发送",
            [OutboxState.Sent] = "已发送",
            [OutboxState.Failed] = "发送失败",
        },
        [
            // Delivery's moves (no role: only the service makes them).
            new(OutboxVerb.Send, [OutboxState.Pending], OutboxState.Sent, [], "发送"),
            new(OutboxVerb.Defer, [OutboxState.Pending], OutboxState.Pending, [], "推迟重试"),
            new(OutboxVerb.Fail, [OutboxState.Pending], OutboxState.Failed, [], "标记失败"),
            // A person's move.
            new(OutboxVerb.Requeue, [OutboxState.Failed], OutboxState.Pending, [Dashboard.Roles.Admin], "重新发送"),
        ]);

    public static string Pending => Table.Db(OutboxState.Pending);
    public static string Sent => Table.Db(OutboxState.Sent);
    public static string Failed => Table.Db(OutboxState.Failed);
}
