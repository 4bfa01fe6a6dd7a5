using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>
/// The mails of the zero-employment work, in Chinese, HTML built escaped with <see cref="Html.Of"/>.
/// Members appear with masked ID numbers only. Every message has a dedupe key naming the case and the
/// event, so a rerun stores nothing twice.
/// </summary>
public static class ZeroEmploymentMail
{
    public const string RegardingCase = "zero_employment_case";
    public const string RegardingDigest = "zero_employment_digest";

    public static string Day(DateOnly d) => d.ToString("yyyy年M月d日", CultureInfo.InvariantCulture);

    public static string EmploymentZh(string e) => e switch
    {
        "employed" => "已就业(劳动合同)",
        "self_employed" => "自主创业(持照经营)",
        "flexible_insured" => "灵活就业(已缴社保)",
        "flexible_uninsured" => "灵活就业(未缴社保,不计为就业)",
        "unemployed" => "失业",
        "registered_unemployed" => "登记失业",
        "student" => "在校学生",
        "retired" => "退休",
        _ => "其他",
    };

    public static string CountsZh(string c) => c switch
    {
        "seeking" => "劳动年龄内、有劳动能力和就业意愿,未就业",
        "not_working_age" => "不在劳动年龄内",
        "unable" => "无劳动能力",
        "unwilling" => "无就业意愿",
        _ => c,
    };

    public static string StateZh(CaseState s) => CaseLifecycle.Table.Label(s);

    public static string CloseReasonZh(string? r) => r switch
    {
        "moved" => "已迁出本辖区",
        "no_longer_qualifies" => "不再符合认定条件",
        "refused_referrals" => "三次拒绝推荐就业",
        null => "",
        _ => r,
    };

    /// <summary>Why the household qualifies, in one sentence.</summary>
    public static string Why(CaseView c)
    {
        var seeking = c.Reason.Members.Count(m => m.Counts == "seeking");
        return $"该户有 {seeking} 名劳动年龄内、有劳动能力和就业意愿的成员,均未就业(劳动合同、持照自主创业、缴纳社保的灵活就业均未出现),且无经营性收入。";
    }

    public static string MembersText(CaseView c) => string.Join("\n", c.Reason.Members.Select(m =>
        $"  {m.Member}  {(m.Sex == "M" ? "男" : "女")}  {m.Age}岁  {EmploymentZh(m.Employment)}  —— {CountsZh(m.Counts)}"));

    public static Html MembersHtml(CaseView c) => Html.Of($"""
        <table border="1" cellpadding="4" cellspacing="0">
        <tr><th>身份证号(脱敏)</th><th>性别</th><th>年龄</th><th>法定退休日期</th><th>就业状况</th><th>认定说明</th></tr>
        {c.Reason.Members.Select(m => Html.Of($"<tr><td>{m.Member}</td><td>{(m.Sex == "M" ? "男" : "女")}</td><td>{m.Age}</td><td>{(m.RetiresOn is { } r ? Day(r) : "")}</td><td>{EmploymentZh(m.Employment)}</td><td>{CountsZh(m.Counts)}</td></tr>"))}
        </table>
        """);

    private static (string To, string? NoteText) Recipient(CaseView c, string escalation) =>
        c.CaseworkerEmail is { } e
            ? (e, null)
            : (escalation, $"注意:人员名册中没有{c.Street}{c.Community}的社区协理员(或其邮箱为空),本邮件改发就业服务机构,请指定负责人并补录社区名册。");

    private static OutboxMessage Build(string key, string to, string subject, string text, Html html, string regardingType, string regardingId) =>
        new(key, [to], subject, text, Html.Of($"""
            <div style="font-family:'Microsoft YaHei',sans-serif">{html}<p style="color:#888">本邮件由凌源市人力资源和社会保障局定时任务系统自动发送。</p></div>
            """).Value, regardingType, regardingId);

    public static OutboxMessage Opened(CaseView c, string escalation)
    {
        var (to, note) = Recipient(c, escalation);
        var greeting = c.CaseworkerName is { Length: > 0 } n && note is null ? $"{n}同志:" : "您好:";
        var subject = $"【零就业家庭】新认定:{c.Street}{c.Community} 户号 {c.HouseholdNo},请于{Day(c.Deadline)}前帮扶清零";
        var text = new StringBuilder()
            .AppendLine(greeting)
            .AppendLine(note is null ? "" : note)
            .AppendLine($"经{Day(c.IdentifiedOn)}排查,{c.Street}{c.Community} 户号 {c.HouseholdNo} 的家庭认定为零就业家庭(案件编号 {c.Id})。")
            .AppendLine($"认定理由:{Why(c)}")
            .AppendLine("家庭成员:")
            .AppendLine(MembersText(c))
            .AppendLine($"请于{Day(c.Deadline)}前帮助该户至少一名成员实现就业(就业促进法第五十六条,动态清零)。成员就业后请及时更新人员名册,系统将自动清零。")
            .ToString();
        var html = Html.Of($"""
            <p>{greeting}</p>
            {(note is null ? Html.Empty : Html.Of($"<p style=\"color:#b00\"><strong>{note}</strong></p>"))}
            <p>经{Day(c.IdentifiedOn)}排查,<strong>{c.Street}{c.Community} 户号 {c.HouseholdNo}</strong> 的家庭认定为零就业家庭(案件编号 {c.Id})。</p>
            <p>认定理由:{Why(c)}</p>
            {MembersHtml(c)}
            <p>请于 <strong>{Day(c.Deadline)}</strong> 前帮助该户至少一名成员实现就业(就业促进法第五十六条,动态清零)。成员就业后请及时更新人员名册,系统将自动清零。</p>
            """);
        return Build($"zero-employment:case:{c.Id}:opened", to, subject, text, html, RegardingCase, c.Id.ToString(CultureInfo.InvariantCulture));
    }

    public static OutboxMessage Reminder(CaseView c, string escalation, DateOnly asOf)
    {
        var (to, note) = Recipient(c, escalation);
        var left = c.Deadline.DayNumber - asOf.DayNumber;
        var subject = $"【零就业家庭】提醒:户号 {c.HouseholdNo} 距清零期限还有 {left} 天({Day(c.Deadline)})";
        var text = $"""
            {note}
            {c.Street}{c.Community} 户号 {c.HouseholdNo} 的零就业家庭(案件编号 {c.Id},{Day(c.IdentifiedOn)}认定)尚未清零,期限为{Day(c.Deadline)},还有 {left} 天。
            家庭成员:
            {MembersText(c)}
            逾期未清零的案件将报送就业服务机构。
            """;
        var html = Html.Of($"""
            {(note is null ? Html.Empty : Html.Of($"<p style=\"color:#b00\"><strong>{note}</strong></p>"))}
            <p>{c.Street}{c.Community} 户号 <strong>{c.HouseholdNo}</strong> 的零就业家庭(案件编号 {c.Id},{Day(c.IdentifiedOn)}认定)尚未清零,期限为 <strong>{Day(c.Deadline)}</strong>,还有 {left} 天。</p>
            {MembersHtml(c)}
            <p>逾期未清零的案件将报送就业服务机构。</p>
            """);
        return Build($"zero-employment:case:{c.Id}:reminder", to, subject, text, html, RegardingCase, c.Id.ToString(CultureInfo.InvariantCulture));
    }

    public static OutboxMessage Overdue(CaseView c, string escalation, DateOnly asOf)
    {
        var late = asOf.DayNumber - c.Deadline.DayNumber;
        var caseworker = c.CaseworkerEmail is null ? "(名册中无社区协理员)" : $"{c.CaseworkerName} <{c.CaseworkerEmail}>";
        var subject = $"【零就业家庭】逾期未清零:{c.Street}{c.Community} 户号 {c.HouseholdNo}(逾期 {late} 天)";
        var text = $"""
            就业服务机构:
            {c.Street}{c.Community} 户号 {c.HouseholdNo} 的零就业家庭(案件编号 {c.Id})于{Day(c.IdentifiedOn)}认定,清零期限{Day(c.Deadline)}已过,至{Day(asOf)}仍未清零。
            社区协理员:{caseworker}
            认定理由:{Why(c)}
            家庭成员:
            {MembersText(c)}
            请督促帮扶。
            """;
        var html = Html.Of($"""
            <p>就业服务机构:</p>
            <p>{c.Street}{c.Community} 户号 <strong>{c.HouseholdNo}</strong> 的零就业家庭(案件编号 {c.Id})于{Day(c.IdentifiedOn)}认定,清零期限 <strong>{Day(c.Deadline)}</strong> 已过,至{Day(asOf)}仍未清零(逾期 {late} 天)。</p>
            <p>社区协理员:{caseworker}</p>
            <p>认定理由:{Why(c)}</p>
            {MembersHtml(c)}
            <p>请督促帮扶。</p>
            """);
        return Build($"zero-employment:case:{c.Id}:overdue", escalation, subject, text, html, RegardingCase, c.Id.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>All open overdue cases, once per ISO week.</summary>
    public static OutboxMessage WeeklyDigest(IReadOnlyList<CaseView> overdue, string escalation, DateOnly asOf)
    {
        var week = $"{ISOWeek.GetYear(asOf.ToDateTime(TimeOnly.MinValue))}-W{ISOWeek.GetWeekOfYear(asOf.ToDateTime(TimeOnly.MinValue)):00}";
        var subject = $"【零就业家庭】逾期未清零案件周报({week},共 {overdue.Count} 户)";
        var text = new StringBuilder($"截至{Day(asOf)},逾期未清零的零就业家庭共 {overdue.Count} 户:\n");
        foreach (var c in overdue)
            text.AppendLine($"  案件 {c.Id}  {c.Street}{c.Community}  户号 {c.HouseholdNo}  认定 {Day(c.IdentifiedOn)}  期限 {Day(c.Deadline)}  逾期 {asOf.DayNumber - c.Deadline.DayNumber} 天  协理员 {c.CaseworkerName ?? "(无)"}");
        var html = Html.Of($"""
            <p>截至{Day(asOf)},逾期未清零的零就业家庭共 <strong>{overdue.Count}</strong> 户:</p>
            <table border="1" cellpadding="4" cellspacing="0">
            <tr><th>案件</th><th>街道</th><th>社区</th><th>户号</th><th>认定日期</th><th>清零期限</th><th>逾期天数</th><th>社区协理员</th></tr>
            {overdue.Select(c => Html.Of($"<tr><td>{c.Id}</td><td>{c.Street}</td><td>{c.Community}</td><td>{c.HouseholdNo}</td><td>{Day(c.IdentifiedOn)}</td><td>{Day(c.Deadline)}</td><td>{asOf.DayNumber - c.Deadline.DayNumber}</td><td>{c.CaseworkerName ?? "(无)"}</td></tr>"))}
            </table>
            """);
        return Build($"zero-employment:overdue-digest:{week}", escalation, subject, text.ToString(), html, RegardingDigest, week);
    }

    /// <summary>
    /// Stores the messages in the caller's transaction with one statement (the first run on a county can
    /// open thousands of cases); same table, columns and dedupe rule as <see cref="Outbox.EnqueueAsync"/>.
    /// Returns how many were stored now.
    /// </summary>
    public static async Task<int> EnqueueAllAsync(UnitOfWork uow, IReadOnlyList<OutboxMessage> messages)
    {
        if (messages.Count == 0) return 0;
        if (messages.Any(m => m.Recipients.Count != 1 || m.Attachments is { Count: > 0 }))
            throw new ArgumentException("bulk enqueue takes one recipient and no attachment per message", nameof(messages));
        var stored = 0;
        // Chunks keep one command's parameters to a few megabytes; all in the caller's one transaction.
        foreach (var chunk in messages.Chunk(1000))
        {
            stored += await uow.ExecuteAsync("""
                INSERT INTO app.outbox (dedupe_key, recipients, subject, text_body, html_body, regarding_type, regarding_id)
                SELECT k, ARRAY[r], s, t, h, rt, ri
                FROM unnest(@keys, @recipients, @subjects, @texts, @htmls, @types, @ids) AS m(k, r, s, t, h, rt, ri)
                ON CONFLICT (dedupe_key) DO NOTHING
                """,
                new
                {
                    keys = chunk.Select(m => m.DedupeKey).ToArray(),
                    recipients = chunk.Select(m => m.Recipients[0]).ToArray(),
                    subjects = chunk.Select(m => m.Subject).ToArray(),
                    texts = chunk.Select(m => m.TextBody).ToArray(),
                    htmls = chunk.Select(m => m.HtmlBody).ToArray(),
                    types = chunk.Select(m => m.RegardingType).ToArray(),
                    ids = chunk.Select(m => m.RegardingId).ToArray(),
                });
        }
        // Delivery is signalled after the commit, as for a single message (UnitOfWork.EnqueueAsync).
        if (stored > 0) uow.QueuedMail();
        return stored;
    }
}
