using System.Globalization;
using System.Text;
using Ical.Net.CalendarComponents;
using Ical.Net.DataTypes;
using Ical.Net.Serialization;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;

namespace Lingyuan.Jobs.Inspections;

/// <summary>
/// The assignment e-mail each drawn inspector gets (DOMAIN.md §1): their employers (name, USCC,
/// address), team mates, the window and the deadlines, in Chinese, with an .ics attachment. Written
/// to the outbox in the draw's transaction, one message per draw and inspector (dedupe key).
/// </summary>
public static class AssignmentMail
{
    public sealed class Assignment
    {
        public string Badge { get; init; } = "";
        public string InspectorName { get; init; } = "";
        public string Email { get; init; } = "";
        public int Position { get; init; }
        public string Uscc { get; init; } = "";
        public string EmployerName { get; init; } = "";
        public string Street { get; init; } = "";
        public string Community { get; init; } = "";
        public string[] MateBadges { get; init; } = [];
        public string[] MateNames { get; init; } = [];

        public string Address => $"{Street}{Community}";
        public string Mates => string.Join("、", MateBadges.Select((b, i) => $"{MateNames[i]}({b})"));
    }

    public static string DedupeKey(long drawId, string badge) => $"inspection-draw:{drawId}:inspector:{badge}";

    /// <summary>Queues the assignment mails of a draw in its unit of work; returns how many were queued now.</summary>
    public static async Task<int> EnqueueAsync(
        UnitOfWork uow, long drawId, Plan plan, DueDate completion, int completionWorkingDays, int publicationWorkingDays)
    {
        var rows = await uow.ListAsync<Assignment>(
            """
            SELECT t.badge, i.name AS InspectorName, i.email, r.position, r.uscc, e.name AS EmployerName, e.street, e.community,
                   ARRAY(SELECT m FROM unnest(r.team) m WHERE m <> t.badge ORDER BY m) AS MateBadges,
                   ARRAY(SELECT coalesce(i2.name, '') FROM unnest(r.team) m LEFT JOIN app.inspectors i2 ON i2.badge_no = m
                         WHERE m <> t.badge ORDER BY m) AS MateNames
            FROM app.draw_results r
            CROSS JOIN LATERAL unnest(r.team) AS t(badge)
            JOIN app.inspectors i ON i.badge_no = t.badge
            JOIN app.employers e ON e.uscc = r.uscc
            WHERE r.draw_id = @drawId
            ORDER BY t.badge, r.position
            """, new { drawId });
        var queued = 0;
        foreach (var group in rows.GroupBy(r => r.Badge))
        {
            var list = group.ToList();
            var email = list[0].Email.Trim();
            if (email.Length == 0) continue; // the draw's dashboard page lists drawn inspectors without an address
            var message = Build(drawId, plan, completion, completionWorkingDays, publicationWorkingDays, list);
            if (await uow.EnqueueAsync(message)) queued++;
        }
        return queued;
    }

    public static OutboxMessage Build(long drawId, Plan plan, DueDate completion, int completionWorkingDays, int publicationWorkingDays, IReadOnlyList<Assignment> list)
    {
        var me = list[0];
        var window = plan.Window;
        var due = completion.Date.ToString("yyyy年M月d日", CultureInfo.InvariantCulture);
        var windowText = $"{window.Start:yyyy年M月d日}至{window.End:yyyy年M月d日}";
        var calendarNote = completion.CalendarMissing ? "(注意:期限跨入尚未导入节假日安排的年度,仅按周末推算,请以正式日历为准。)" : "";
        var subject = $"双随机抽查任务通知:{plan.Name}({plan.Period}),共{list.Count}户";

        var text = new StringBuilder();
        text.AppendLine($"{me.InspectorName}(执法证号 {me.Badge}):");
        text.AppendLine();
        text.AppendLine($"根据抽查计划“{plan.Name}”({plan.Period}),经{plan.DrawDate:yyyy年M月d日}随机摇号(摇号编号 {drawId}),您被抽中参加以下{list.Count}户用人单位的劳动保障监察检查。");
        text.AppendLine($"检查期间:{windowText}。");
        text.AppendLine($"检查完成期限:{due}(摇号之日起{completionWorkingDays}个工作日内);检查结束后{publicationWorkingDays}个工作日内公示检查结果。{calendarNote}");
        text.AppendLine();
        foreach (var a in list)
        {
            text.AppendLine($"{a.Position}. {a.EmployerName}");
            text.AppendLine($"   统一社会信用代码:{a.Uscc}");
            text.AppendLine($"   地址:{a.Address}");
            text.AppendLine($"   同组执法人员:{a.Mates}");
        }
        text.AppendLine();
        text.AppendLine("请按《劳动保障监察条例》第十六条由两名以上执法人员共同检查;如与上述单位存在利害关系,请依第十六条第二款立即申请回避。");
        text.AppendLine("凌源市人力资源和社会保障局");

        var rows = list.Select(a => Html.Of($"""
            <tr><td>{a.Position}</td><td>{a.EmployerName}</td><td>{a.Uscc}</td><td>{a.Address}</td><td>{a.Mates}</td></tr>
            """));
        var html = Html.Of($"""
            <html lang="zh-CN"><body>
            <p>{me.InspectorName}(执法证号 {me.Badge}):</p>
            <p>根据抽查计划“{plan.Name}”({plan.Period}),经{plan.DrawDate.ToString("yyyy年M月d日", CultureInfo.InvariantCulture)}随机摇号(摇号编号 {drawId}),您被抽中参加以下{list.Count}户用人单位的劳动保障监察检查。</p>
            <p>检查期间:{windowText}。<br>检查完成期限:<strong>{due}</strong>;检查结束后{publicationWorkingDays}个工作日内公示检查结果。{calendarNote}</p>
            <table border="1" cellpadding="4" cellspacing="0">
            <tr><th>序号</th><th>单位名称</th><th>统一社会信用代码</th><th>地址</th><th>同组执法人员</th></tr>
            {rows}
            </table>
            <p>请按《劳动保障监察条例》第十六条由两名以上执法人员共同检查;如与上述单位存在利害关系,请依第十六条第二款立即申请回避。</p>
            <p>凌源市人力资源和社会保障局</p>
            </body></html>
            """);

        return new OutboxMessage(
            DedupeKey(drawId, me.Badge), [me.Email.Trim()], subject, text.ToString(), html.Value, "draw", drawId.ToString(CultureInfo.InvariantCulture),
            [new MailAttachment($"draw-{drawId}-{Safe(me.Badge)}.ics", "text/calendar; charset=utf-8; method=PUBLISH", Ics(drawId, plan, completion, list))]);
    }

    private static string Safe(string badge) => new(badge.Select(c => char.IsAsciiLetterOrDigit(c) || c == '-' ? c : '_').ToArray());

    /// <summary>One all-day event per employer, from the draw date to the completion deadline (inclusive).</summary>
    public static byte[] Ics(long drawId, Plan plan, DueDate completion, IReadOnlyList<Assignment> list)
    {
        var calendar = new Ical.Net.Calendar { ProductId = "-//Lingyuan HRSS//Inspection draws//ZH", Method = "PUBLISH" };
        foreach (var a in list)
        {
            calendar.Events.Add(new CalendarEvent
            {
                Uid = $"draw-{drawId}-{a.Uscc}-{Safe(a.Badge)}@lingyuan-hrss.local",
                Summary = $"双随机抽查:{a.EmployerName}",
                Description = $"统一社会信用代码:{a.Uscc}\n地址:{a.Address}\n同组执法人员:{a.Mates}\n抽查计划:{plan.Name}({plan.Period}),摇号编号 {drawId}\n完成期限:{completion.Date:yyyy-MM-dd}",
                Location = a.Address,
                DtStart = new CalDateTime(plan.DrawDate.Year, plan.DrawDate.Month, plan.DrawDate.Day),
                DtEnd = new CalDateTime(completion.Date.Year, completion.Date.Month, completion.Date.Day).AddDays(1),
                DtStamp = new CalDateTime(plan.DrawDate.Year, plan.DrawDate.Month, plan.DrawDate.Day, 0, 0, 0, CalDateTime.UtcTzId),
            });
        }
        return new UTF8Encoding(false).GetBytes(new CalendarSerializer().SerializeToString(calendar) ?? "");
    }
}
