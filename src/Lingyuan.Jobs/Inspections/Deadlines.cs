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
/// Legal deadlines of the drawn inspections: completion within <c>CompletionWorkingDays</c> (60) working
/// days of case opening (立案), plus <c>ExtensionWorkingDays</c> (30) when the department head approved an
/// extension (劳动保障监察条例 art. 17; until the opening is recorded the draw date stands in for it, the
/// earliest it can be); publication within <c>PublicationWorkingDays</c> (20) after completion (企业信息公示暂行条例
/// arts. 6-7). Reminds the team before, flags after; a deadline moved by an approved extension is flagged only
/// after the extended date. Every step is a conditional insert/update or a deduplicated outbox message: reruns
/// are no-ops.
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
        public bool Extended { get; init; }
        public bool? Opened { get; init; }
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

        // Completion deadlines: from the opening (立案) or, until it is recorded, the draw date; plus the approved
        // extension. One due date per distinct (start, extra days), computed on the working-day calendar.
        var starts = await uow.ListAsync<(DateTime Start, int Extra)>(
            $"""
            SELECT DISTINCT coalesce(o.opened_on, d.draw_date)::timestamp, coalesce(x.working_days, 0)::int
            FROM app.draw_results r JOIN app.draws d ON d.id = r.draw_id
            LEFT JOIN app.inspection_openings o ON o.draw_id = r.draw_id AND o.uscc = r.uscc
            LEFT JOIN app.inspection_extensions x ON x.draw_id = r.draw_id AND x.uscc = r.uscc
            WHERE {PlanLifecycle.Standing("d")}
            """);
        var completionDues = starts.Select(st => calendar.AddWorkingDays(DateOnly.FromDateTime(st.Start), o.CompletionWorkingDays + st.Extra)).ToArray();
        // A moved deadline (an opening recorded, an extension approved) is no longer overdue unless the new date passed.
        var created = await uow.ExecuteAsync(
            $"""
            INSERT INTO app.inspection_deadlines AS t (draw_id, uscc, kind, due_on, calendar_missing, extended)
            SELECT r.draw_id, r.uscc, 'completion', m.due, m.missing, m.extra > 0
            FROM app.draw_results r JOIN app.draws d ON d.id = r.draw_id
            LEFT JOIN app.inspection_openings o ON o.draw_id = r.draw_id AND o.uscc = r.uscc
            LEFT JOIN app.inspection_extensions x ON x.draw_id = r.draw_id AND x.uscc = r.uscc
            JOIN unnest(@start, @extra, @due, @missing) AS m(start, extra, due, missing)
              ON m.start = coalesce(o.opened_on, d.draw_date) AND m.extra = coalesce(x.working_days, 0)
            WHERE {PlanLifecycle.Standing("d")}
            ON CONFLICT (draw_id, uscc, kind) DO UPDATE
               SET due_on = EXCLUDED.due_on, calendar_missing = EXCLUDED.calendar_missing, extended = EXCLUDED.extended,
                   overdue_since = CASE WHEN EXCLUDED.due_on < @today THEN t.overdue_since END
             WHERE t.met_on IS NULL AND (t.due_on, t.extended) IS DISTINCT FROM (EXCLUDED.due_on, EXCLUDED.extended)
            """,
            new
            {
                start = starts.Select(x => DateOnly.FromDateTime(x.Start)).ToArray(), extra = starts.Select(x => x.Extra).ToArray(),
                due = completionDues.Select(x => x.Date).ToArray(), missing = completionDues.Select(x => x.CalendarMissing).ToArray(), today,
            });

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
            SELECT x.draw_id AS DrawId, x.uscc, x.kind, x.due_on AS DueOn, x.calendar_missing AS CalendarMissing, x.extended AS Extended,
                   (SELECT o.opened_on IS NOT NULL FROM app.inspection_openings o WHERE o.draw_id = x.draw_id AND o.uscc = x.uscc) AS Opened,
                   coalesce(e.name, x.uscc) AS EmployerName,
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
        var note = (x.CalendarMissing ? "(该期限跨入尚未导入节假日安排的年度,仅按周末推算。)" : "")
            + (x.Kind != "completion" ? ""
               : x.Extended ? "(已经部门负责人批准延长办结期限,依《劳动保障监察条例》第十七条。)"
               : x.Opened == true ? "(自立案之日起计算,《劳动保障监察条例》第十七条。)"
               : "(尚未登记立案日期,暂按摇号日计算;请在系统中登记立案日期。)");
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

/// <summary>
/// The Case slice (劳动保障监察条例 art. 17): the inspection team records when the case was opened (立案), and
/// the department head (an account with the decider flag, checked inside the unit of work) approves an
/// extension of the completion limit for a complex case, with the reason. Both are append-only records,
/// audited; the deadlines job moves the completion deadline after them (<see cref="InspectionDeadlines"/>).
/// CLI <c>inspection-case open|extend</c>; dashboard forms on the draw's page.
/// </summary>
public sealed class InspectionCases(Work work, BureauClock clock, IOptions<InspectionOptions> options)
{
    /// <summary>Records the opening date of a drawn employer's case, as the acting person (an inspection user or admin).</summary>
    public Task OpenAsync(long drawId, string uscc, DateOnly openedOn, CancellationToken ct) =>
        work.RunAsync("inspection-case.open", async uow =>
        {
            uscc = Registers.Uscc.Normalize(uscc);
            var actor = uow.Acting.Actor;
            var drawDate = await StandingDrawnAsync(uow, drawId, uscc);
            if (openedOn < drawDate)
                throw new DomainRuleException($"the case cannot be opened ({openedOn:yyyy-MM-dd}) before the draw ({drawDate:yyyy-MM-dd}) / 立案日期不能早于摇号日期");
            if (openedOn > clock.Today)
                throw new DomainRuleException($"the opening date {openedOn:yyyy-MM-dd} is in the future / 立案日期不能晚于今天");
            var n = await uow.ExecuteAsync(
                """
                INSERT INTO app.inspection_openings (draw_id, uscc, opened_on, recorded_by)
                VALUES (@drawId, @uscc, @openedOn, @actor) ON CONFLICT DO NOTHING
                """, new { drawId, uscc, openedOn, actor });
            if (n == 0) throw new DomainRuleException($"the case of {uscc} in draw {drawId} is already opened / 该单位已登记立案");
            await uow.AuditAsync("inspection-case.open", "draw_result", $"{drawId}:{uscc}", after: new { opened_on = openedOn.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) });
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });

    /// <summary>
    /// The department head approves an extension of <c>ExtensionWorkingDays</c> (30) working days for a complex
    /// case, once, with the reason (art. 17). <paramref name="approver"/> must be an enabled account with the
    /// decider flag; the case must be opened and not yet completed.
    /// </summary>
    public async Task ExtendAsync(long drawId, string uscc, string reason, string approver, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(reason))
            throw new UsageException("a reason of 1-500 characters is required / 需要填写 1 到 500 字的延期理由");
        reason = TextRules.SingleLine(reason, "reason", "延期理由", TextRules.ReasonMaxLength);
        var days = options.Value.ExtensionWorkingDays;
        using var acting = Acting.Begin(Acting.Current with { Actor = approver });
        await work.RunAsync("inspection-case.extend", async uow =>
        {
            uscc = Registers.Uscc.Normalize(uscc);
            if (!await UserStore.IsDeciderAsync(uow, approver))
                throw new DomainRuleException($"'{approver}' is not the department head (decider); only the department head approves an extension (劳动保障监察条例 art. 17) / 延长办结期限须经部门负责人批准");
            await StandingDrawnAsync(uow, drawId, uscc);
            if (!await uow.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM app.inspection_openings WHERE draw_id = @drawId AND uscc = @uscc)", new { drawId, uscc }))
                throw new DomainRuleException($"the case of {uscc} in draw {drawId} has no opening date; record it first / 请先登记立案日期");
            if (await uow.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM app.inspection_results WHERE draw_id = @drawId AND uscc = @uscc)", new { drawId, uscc }))
                throw new DomainRuleException($"the inspection of {uscc} in draw {drawId} is completed; nothing to extend / 该单位检查已办结,无需延期");
            var n = await uow.ExecuteAsync(
                """
                INSERT INTO app.inspection_extensions (draw_id, uscc, working_days, reason, approved_by)
                VALUES (@drawId, @uscc, @days, @reason, @approver) ON CONFLICT DO NOTHING
                """, new { drawId, uscc, days, reason, approver });
            if (n == 0) throw new DomainRuleException($"the case of {uscc} in draw {drawId} was extended already; art. 17 allows one extension / 该案件已延期,不能再次延期");
            await uow.AuditAsync("inspection-case.extend", "draw_result", $"{drawId}:{uscc}", after: new { working_days = days }, details: reason);
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });
    }

    private static async Task<DateOnly> StandingDrawnAsync(UnitOfWork uow, long drawId, string uscc)
    {
        var draw = await PlanLifecycle.LoadDrawAsync(uow, drawId);
        if (!PlanLifecycle.Table.Allows(PlanVerb.Publish, draw.State))
            throw new DomainRuleException($"draw {drawId} is cancelled / 摇号 {drawId} 已撤销");
        var date = await uow.ScalarAsync<DateTime?>(
            "SELECT d.draw_date::timestamp FROM app.draw_results r JOIN app.draws d ON d.id = r.draw_id WHERE r.draw_id = @drawId AND r.uscc = @uscc",
            new { drawId, uscc })
            ?? throw new DomainRuleException($"{uscc} was not drawn in draw {drawId} / 该单位不在本次摇号结果中");
        return DateOnly.FromDateTime(date);
    }

    /// <summary>The slice's endpoints: record an opening (inspection users), approve an extension (the decider).</summary>
    internal static void Map(RouteGroupBuilder g)
    {
        g.MapPost("/{drawId:long}/opening", Open).RequireAuthorization(Policies.Inspection);
        g.MapPost("/{drawId:long}/extension", Extend).RequireAuthorization(Policies.Inspection);
    }

    private static async Task<IResult> Open(HttpContext ctx, long drawId, InspectionCases cases, CancellationToken ct)
    {
        var form = await DrawsPage.FormAsync(ctx);
        try
        {
            if (!DateOnly.TryParseExact(form["openedOn"].ToString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var on))
                throw new UsageException("请填写立案日期(YYYY-MM-DD)");
            using (DrawsPage.ActingAs(ctx)) await cases.OpenAsync(drawId, form["uscc"].ToString(), on, ct);
        }
        catch (Exception e) when (e is UsageException or DomainRuleException or BadInputException)
        {
            return Layout.Page(ctx, "登记立案失败", Html.Of($"""<p class="error" role="alert">{e.Message}</p><p><a href="{DrawsPage.Base}/{drawId}">返回</a></p>"""), 400);
        }
        return Results.Redirect($"{DrawsPage.Base}/{drawId}");
    }

    private static async Task<IResult> Extend(HttpContext ctx, long drawId, InspectionCases cases, CancellationToken ct)
    {
        var form = await DrawsPage.FormAsync(ctx);
        try
        {
            await cases.ExtendAsync(drawId, form["uscc"].ToString(), form["reason"].ToString(), ctx.User.Identity?.Name ?? "unknown", ct);
        }
        catch (Exception e) when (e is UsageException or DomainRuleException or BadInputException)
        {
            return Layout.Page(ctx, "批准延期失败", Html.Of($"""<p class="error" role="alert">{e.Message}</p><p><a href="{DrawsPage.Base}/{drawId}">返回</a></p>"""), 400);
        }
        return Results.Redirect($"{DrawsPage.Base}/{drawId}");
    }
}

/// <summary><c>inspection-case open DRAW_ID USCC --on DATE [--user NAME]</c> and <c>inspection-case extend DRAW_ID USCC --reason TEXT --user NAME</c>.</summary>
public sealed class InspectionCaseCommand(InspectionCases cases, CliIdentity identity) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "inspection-case",
        "record a case opening or approve an extension (劳动保障监察条例 art. 17) / 登记立案或批准延期",
        """
        usage: Lingyuan.Jobs inspection-case open DRAW_ID USCC --on YYYY-MM-DD [--user NAME]
               Lingyuan.Jobs inspection-case extend DRAW_ID USCC --reason TEXT --user NAME
        用法:  Lingyuan.Jobs inspection-case open 摇号编号 统一社会信用代码 --on 立案日期 [--user 账号]
               Lingyuan.Jobs inspection-case extend 摇号编号 统一社会信用代码 --reason 理由 --user 部门负责人账号
          open    the completion limit (60 working days) runs from the opening date / 办结期限自立案之日起计算
          extend  30 more working days for a complex case, approved by the department head (an account with
                  the decider flag; its password is read from stdin) / 经部门负责人批准延长三十个工作日
        """ + CliIdentity.HelpZhEn,
        ValueOptions: ["on", "reason", "user", "code"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var verb = args.Positional(0, "open|extend");
        var drawId = args.PositionalId(1, "DRAW_ID");
        var uscc = args.Positional(2, "USCC");
        args.ExpectPositionals(3);
        switch (verb)
        {
            case "open":
                var on = CliActor.Date(args.Option("on"), "on");
                using (CliActor.Begin(args)) await cases.OpenAsync(drawId, uscc, on, ct);
                Console.WriteLine($"draw {drawId}, {uscc}: opened {on:yyyy-MM-dd} / 已登记立案");
                break;
            case "extend":
                var reason = args.Option("reason") ?? throw new UsageException("--reason is required / 需要 --reason");
                var user = await identity.ProveAsync(args, ct);
                await cases.ExtendAsync(drawId, uscc, reason, user, ct);
                Console.WriteLine($"draw {drawId}, {uscc}: extension approved by {user} / 已批准延期");
                break;
            default:
                throw new UsageException($"expected open or extend, got '{verb}' / 应为 open 或 extend");
        }
        return ExitCodes.Ok;
    }
}
