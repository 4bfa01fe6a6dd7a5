using System.Globalization;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Notifications;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Inspections;

public sealed record DeadlineRunSummary(int Created, int Reminders, int NewlyOverdue);

/// <summary>
/// Legal deadlines of the drawn inspections (国发〔2019〕5号): completion within
/// <c>CompletionWorkingDays</c> (60) working days of the draw, publication within
/// <c>PublicationWorkingDays</c> (20) after completion. Reminds the team before, flags after.
/// Every step is a conditional insert/update or a deduplicated outbox message: reruns are no-ops.
/// </summary>
public sealed class InspectionDeadlines(Work work, CalendarStore calendars, IOptions<InspectionOptions> options, ILogger<InspectionDeadlines> log)
{
    private sealed class Open
    {
        public long DrawId { get; init; }
        public string Uscc { get; init; } = "";
        public string Kind { get; init; } = "";
        public DateTime DueOn { get; init; }
        public bool CalendarMissing { get; init; }
        public string EmployerName { get; init; } = "";
        public string[] Badges { get; init; } = [];
        public string[] Names { get; init; } = [];
        public string[] Emails { get; init; } = [];
        public string PlanName { get; init; } = "";
    }

    public async Task<DeadlineRunSummary> RunAsync(DateOnly today, CancellationToken ct)
    {
        var calendar = await calendars.LoadAsync(ct);
        // Two workers (or a worker and `jobs run`) never interleave: the second waits, then finds nothing new.
        var summary = await work.RunAsync("inspection-deadlines", uow => RunLockedAsync(uow, calendar, today), ct, new WorkOptions { Lock = "inspection-deadlines" });
        if (summary.Created + summary.Reminders + summary.NewlyOverdue > 0)
            log.LogInformation("inspection deadlines: {Created} computed, {Mails} mail(s) queued, {Overdue} newly overdue", summary.Created, summary.Reminders, summary.NewlyOverdue);
        return summary;
    }

    private async Task<DeadlineRunSummary> RunLockedAsync(UnitOfWork uow, WorkingCalendar calendar, DateOnly today)
    {
        var o = options.Value;

        // Completion deadlines: one due date per draw (all its employers open on the draw date).
        var draws = await uow.ListAsync<(long Id, DateTime DrawDate)>(
            $"""
            SELECT d.id, d.draw_date FROM app.draws d
            WHERE {PlanLifecycle.Standing("d")}
              AND EXISTS (SELECT 1 FROM app.draw_results r WHERE r.draw_id = d.id
                          AND NOT EXISTS (SELECT 1 FROM app.inspection_deadlines x WHERE x.draw_id = r.draw_id AND x.uscc = r.uscc AND x.kind = 'completion'))
            """);
        var created = 0;
        foreach (var d in draws)
        {
            var due = calendar.AddWorkingDays(DateOnly.FromDateTime(d.DrawDate), o.CompletionWorkingDays);
            created += await uow.ExecuteAsync(
                """
                INSERT INTO app.inspection_deadlines (draw_id, uscc, kind, due_on, calendar_missing)
                SELECT draw_id, uscc, 'completion', @due, @missing FROM app.draw_results WHERE draw_id = @id
                ON CONFLICT DO NOTHING
                """, new { id = d.Id, due = due.Date, missing = due.CalendarMissing });
        }

        // Publication deadlines follow the reported completion date (which a re-import may correct).
        var completedDates = (await uow.ListAsync<DateTime>(
            "SELECT DISTINCT completed_on FROM app.inspection_results")).Select(DateOnly.FromDateTime).ToArray();
        var dues = completedDates.Select(c => calendar.AddWorkingDays(c, o.PublicationWorkingDays)).ToArray();
        created += await uow.ExecuteAsync(
            """
            INSERT INTO app.inspection_deadlines (draw_id, uscc, kind, due_on, calendar_missing)
            SELECT x.draw_id, x.uscc, 'publication', m.due, m.missing
            FROM app.inspection_results x JOIN unnest(@completed, @due, @missing) AS m(completed, due, missing) ON m.completed = x.completed_on
            ON CONFLICT (draw_id, uscc, kind) DO UPDATE SET due_on = EXCLUDED.due_on, calendar_missing = EXCLUDED.calendar_missing
             WHERE inspection_deadlines.met_on IS NULL AND inspection_deadlines.due_on <> EXCLUDED.due_on
            """,
            new { completed = completedDates, due = dues.Select(x => x.Date).ToArray(), missing = dues.Select(x => x.CalendarMissing).ToArray() });

        // Met: completion when a result is reported, publication when it is published.
        await uow.ExecuteAsync(
            """
            UPDATE app.inspection_deadlines x SET met_on = CASE x.kind WHEN 'completion' THEN r.completed_on ELSE r.published_on END
            FROM app.inspection_results r
            WHERE x.met_on IS NULL AND r.draw_id = x.draw_id AND r.uscc = x.uscc
              AND (x.kind = 'completion' OR r.published_on IS NOT NULL)
            """);

        var open = await uow.ListAsync<Open>(
            $"""
            SELECT x.draw_id AS DrawId, x.uscc, x.kind, x.due_on AS DueOn, x.calendar_missing AS CalendarMissing, coalesce(e.name, x.uscc) AS EmployerName,
                   r.team AS Badges,
                   ARRAY(SELECT coalesce(i.name, '') FROM unnest(r.team) WITH ORDINALITY t(b, n) LEFT JOIN app.inspectors i ON i.badge_no = t.b ORDER BY t.n) AS Names,
                   ARRAY(SELECT coalesce(i.email, '') FROM unnest(r.team) WITH ORDINALITY t(b, n) LEFT JOIN app.inspectors i ON i.badge_no = t.b ORDER BY t.n) AS Emails,
                   p.name AS PlanName
            FROM app.inspection_deadlines x
            JOIN app.draw_results r ON r.draw_id = x.draw_id AND r.uscc = x.uscc
            JOIN app.draws d ON d.id = x.draw_id
            JOIN app.inspection_plans p ON p.id = d.plan_id
            LEFT JOIN app.employers e ON e.uscc = x.uscc
            WHERE x.met_on IS NULL AND {PlanLifecycle.Standing("d")}
            """);

        var reminders = 0;
        var overdue = 0;
        foreach (var x in open)
        {
            var due = DateOnly.FromDateTime(x.DueOn);
            var remindFrom = calendar.AddWorkingDays(due, -o.ReminderWorkingDaysBefore).Date;
            string? stage = null;
            if (due < today)
            {
                stage = "overdue";
                overdue += await uow.ExecuteAsync(
                    "UPDATE app.inspection_deadlines SET overdue_since = @since WHERE draw_id = @DrawId AND uscc = @Uscc AND kind = @Kind AND overdue_since IS NULL",
                    new { since = due.AddDays(1), x.DrawId, x.Uscc, x.Kind });
            }
            else if (today >= remindFrom) stage = "reminder";
            if (stage is null) continue;
            for (var i = 0; i < x.Badges.Length; i++)
            {
                if (string.IsNullOrWhiteSpace(x.Emails[i])) continue;
                if (await uow.EnqueueAsync(Message(x, due, stage, x.Badges[i], x.Names[i], x.Emails[i].Trim()))) reminders++;
            }
        }
        return new DeadlineRunSummary(created, reminders, overdue);
    }

    public static string KindZh(string kind) => kind == "completion" ? "检查完成期限" : "结果公示期限";

    private static OutboxMessage Message(Open x, DateOnly due, string stage, string badge, string name, string email)
    {
        var what = KindZh(x.Kind);
        var dueText = due.ToString("yyyy年M月d日", CultureInfo.InvariantCulture);
        var subject = stage == "overdue" ? $"【已逾期】{what}:{x.EmployerName}" : $"【期限提醒】{what}:{x.EmployerName}";
        var sentence = stage == "overdue"
            ? $"{x.EmployerName}(统一社会信用代码 {x.Uscc})的{what}为{dueText},现已逾期,请尽快办理并报告。"
            : $"{x.EmployerName}(统一社会信用代码 {x.Uscc})的{what}为{dueText},请在期限前办理。";
        var note = x.CalendarMissing ? "(该期限跨入尚未导入节假日安排的年度,仅按周末推算。)" : "";
        var text = $"{name}(执法证号 {badge}):\n\n抽查计划“{x.PlanName}”(摇号编号 {x.DrawId}):{sentence}{note}\n\n凌源市人力资源和社会保障局\n";
        var html = Html.Of($"<html lang=\"zh-CN\"><body><p>{name}(执法证号 {badge}):</p><p>抽查计划“{x.PlanName}”(摇号编号 {x.DrawId}):{sentence}{note}</p><p>凌源市人力资源和社会保障局</p></body></html>");
        return new OutboxMessage($"inspection-deadline:{x.DrawId}:{x.Uscc}:{x.Kind}:{due:yyyy-MM-dd}:{stage}:{badge}", [email], subject, text, html.Value,
            "draw", x.DrawId.ToString(CultureInfo.InvariantCulture));
    }
}

/// <summary><c>inspection-deadlines</c>: daily deadline computation, reminders and overdue flags.</summary>
public sealed class InspectionDeadlinesJob(InspectionDeadlines deadlines, BureauClock clock) : IRecurringJob
{
    public const string Id = "inspection-deadlines";

    public async Task RunAsync(CancellationToken ct)
    {
        var s = await deadlines.RunAsync(clock.Today, ct);
        Hosting.Runs.RunReport.Done($"新建期限 {s.Created} 项,发送提醒 {s.Reminders} 封,新逾期 {s.NewlyOverdue} 项", new { created = s.Created, reminders = s.Reminders, newly_overdue = s.NewlyOverdue });
    }
}
