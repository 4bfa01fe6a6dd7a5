using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Notifications;

namespace Lingyuan.Jobs.ZeroEmployment;

/// <summary>
/// The mails of the zero-employment work, in Chinese, HTML built escaped with <see cref="Html.Of"/>.
/// Members appear with masked ID numbers only. Every message has a dedupe key naming the day and the
/// recipient (or the week), so a rerun stores nothing twice; one run sends each recipient at most one digest.
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
        "student" => "全日制在校学生,不计为求职人员",
        "pensioner" => "领取养老金,不计为求职人员",
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
        return $"该户有 {seeking} 名劳动年龄内、有劳动能力和就业意愿的成员(全日制在校学生、领取养老金人员不计),均未就业(劳动合同、持照自主创业、缴纳社保的灵活就业均未出现),且无经营性收入。";
    }

    public static string MembersText(CaseView c) => string.Join("\n", c.Reason.Members.Select(m =>
        $"  {m.Member}  {(m.Sex == "M" ? "男" : "女")}  {m.Age}岁  {EmploymentZh(m.Employment)}  —— {CountsZh(m.Counts)}"));

    public static Html MembersHtml(CaseView c) => Html.Of($"""
        <table border="1" cellpadding="4" cellspacing="0">
        <tr><th>身份证号(脱敏)</th><th>性别</th><th>年龄</th><th>法定退休日期</th><th>就业状况</th><th>认定说明</th></tr>
        {c.Reason.Members.Select(m => Html.Of($"<tr><td>{m.Member}</td><td>{(m.Sex == "M" ? "男" : "女")}</td><td>{m.Age}</td><td>{(m.RetiresOn is { } r ? Day(r) : "")}</td><td>{EmploymentZh(m.Employment)}</td><td>{CountsZh(m.Counts)}</td></tr>"))}
        </table>
        """);

    private static OutboxMessage Build(string key, string to, string subject, string text, Html html, string regardingType, string regardingId) =>
        new(key, [to], subject, text, Html.Of($"""
            <div style="font-family:'Microsoft YaHei',sans-serif">{html}<p style="color:#888">本邮件由凌源市人力资源和社会保障局定时任务系统自动发送。</p></div>
            """).Value, regardingType, regardingId);

    /// <summary>At most this many households are listed per section of a digest; the rest are counted and on the dashboard.</summary>
    public const int DigestRowsPerSection = 300;

    /// <summary>What a digest section is about, in the order a reader acts on them.</summary>
    public enum DigestSection { Proposed, ProposalReminder, DeadlineNear, Overdue }

    public static string SectionZh(DigestSection s) => s switch
    {
        DigestSection.Proposed => "新排查出的疑似零就业家庭(待您确认或不予认定)",
        DigestSection.ProposalReminder => "尚未确认的疑似零就业家庭(提醒)",
        DigestSection.DeadlineNear => "临近清零期限的零就业家庭",
        _ => "逾期未清零的零就业家庭(已报送就业服务机构)",
    };

    private sealed record Route(long Id, string? Email, string? Name);

    /// <summary>
    /// One digest per recipient per run (DOMAIN.md §3): each community caseworker (the e-mail the communities
    /// register names; one caseworker may serve several communities) gets one mail listing the households of
    /// all their communities by section; the employment service (<paramref name="escalation"/>) gets the newly
    /// overdue cases and the households of communities without a caseworker. The dedupe key names the day and
    /// the recipient, so a rerun stores nothing twice. Returns how many mails were stored now.
    /// </summary>
    public static async Task<int> EnqueueDigestsAsync(UnitOfWork uow, DateOnly asOf, string escalation,
        IReadOnlyList<long> proposed, IReadOnlyList<long> proposalsReminded, IReadOnlyList<long> deadlineNear, IReadOnlyList<long> overdue)
    {
        var sectionOf = new List<(long Id, DigestSection Section)>();
        sectionOf.AddRange(proposed.Select(id => (id, DigestSection.Proposed)));
        sectionOf.AddRange(proposalsReminded.Select(id => (id, DigestSection.ProposalReminder)));
        sectionOf.AddRange(deadlineNear.Select(id => (id, DigestSection.DeadlineNear)));
        sectionOf.AddRange(overdue.Select(id => (id, DigestSection.Overdue)));
        if (sectionOf.Count == 0) return 0;

        var routes = (await uow.ListAsync<Route>("""
            SELECT c.id, nullif(lower(btrim(cw.caseworker_email)), '') AS email, cw.caseworker_name AS name
            FROM app.zero_employment_cases c
            LEFT JOIN app.communities cw ON cw.street = c.street AND cw.community = c.community
            WHERE c.id = ANY(@ids)
            """, new { ids = sectionOf.Select(x => x.Id).Distinct().ToArray() })).ToDictionary(r => r.Id);

        // Who is told what: the caseworker of each case's community (none: the employment service, with a note),
        // and the employment service of every overdue case.
        var escalationKey = escalation.Trim().ToLowerInvariant();
        var byRecipient = new Dictionary<string, (string? Name, List<(long Id, DigestSection Section, bool NoCaseworker)> Items)>();
        void Add(string to, string? name, long id, DigestSection section, bool noCaseworker)
        {
            if (!byRecipient.TryGetValue(to, out var r)) byRecipient[to] = r = (name, []);
            if (!r.Items.Any(i => i.Id == id && i.Section == section)) r.Items.Add((id, section, noCaseworker));
        }
        foreach (var (id, section) in sectionOf)
        {
            var route = routes[id];
            if (route.Email is { } e) Add(e, route.Name, id, section, false);
            else Add(escalationKey, null, id, section, true);
            if (section == DigestSection.Overdue) Add(escalationKey, null, id, section, route.Email is null);
        }

        var messages = new List<OutboxMessage>();
        foreach (var (to, (name, items)) in byRecipient.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var shown = items.GroupBy(i => i.Section).OrderBy(g => g.Key)
                .Select(g => (Section: g.Key, Total: g.Count(), Rows: g.OrderBy(i => i.Id).Take(DigestRowsPerSection).ToList())).ToList();
            var cases = await ZeroEmploymentView.LoadForMailAsync(uow, [.. shown.SelectMany(g => g.Rows.Select(r => r.Id)).Distinct()]);
            var isEscalation = to == escalationKey;
            var noCaseworker = items.Where(i => i.NoCaseworker).Select(i => cases.TryGetValue(i.Id, out var c) ? c.Street + c.Community : null)
                .OfType<string>().Distinct().Order(StringComparer.Ordinal).ToList();
            messages.Add(Digest(to, isEscalation ? null : name, asOf, shown.Select(g => (g.Section, g.Total, (IReadOnlyList<CaseView>)g.Rows.Select(r => cases[r.Id]).ToList())).ToList(), noCaseworker));
        }
        return await EnqueueAllAsync(uow, messages);
    }

    /// <summary>The digest of one run to one recipient.</summary>
    public static OutboxMessage Digest(string to, string? caseworkerName, DateOnly asOf,
        IReadOnlyList<(DigestSection Section, int Total, IReadOnlyList<CaseView> Cases)> sections, IReadOnlyList<string> communitiesWithoutCaseworker)
    {
        var greeting = caseworkerName is { Length: > 0 } n ? $"{n}同志:" : "您好:";
        var counts = string.Join(",", sections.Select(s => $"{SectionShortZh(s.Section)} {s.Total} 户"));
        var subject = $"【零就业家庭】{Day(asOf)}排查汇总:{counts}";
        var note = communitiesWithoutCaseworker.Count == 0 ? null
            : $"注意:社区名册中没有以下社区的社区协理员(或其邮箱为空),其家庭改发就业服务机构,请指定负责人并补录社区名册:{string.Join("、", communitiesWithoutCaseworker)}。";
        const string how = "疑似零就业家庭须由社区协理员登录看板「零就业家庭 · 待确认」逐户核实后确认认定或不予认定(须填写理由);确认之日起计算清零期限。成员就业后请及时更新人员名册,系统将自动清零(就业促进法第五十六条)。";

        var text = new StringBuilder().AppendLine(greeting);
        if (note is not null) text.AppendLine(note);
        text.AppendLine($"{Day(asOf)}零就业家庭排查结果:{counts}。").AppendLine(how);
        foreach (var (section, total, cases) in sections)
        {
            text.AppendLine().AppendLine($"{SectionZh(section)}:{total} 户");
            foreach (var c in cases)
                text.AppendLine($"  案件 {c.Id}  {c.Street}{c.Community}  户号 {c.HouseholdNo}  成员 {string.Join("、", c.Reason.Members.Select(m => m.Member))}  {Dates(c, asOf)}");
            if (total > cases.Count) text.AppendLine($"  另有 {total - cases.Count} 户未列出,请登录看板查看。");
        }
        var html = Html.Of($"""
            <p>{greeting}</p>
            {(note is null ? Html.Empty : Html.Of($"<p style=\"color:#b00\"><strong>{note}</strong></p>"))}
            <p>{Day(asOf)}零就业家庭排查结果:<strong>{counts}</strong>。</p>
            <p>{how}</p>
            {sections.Select(s => Html.Of($"""
                <h3>{SectionZh(s.Section)}:{s.Total} 户</h3>
                <table border="1" cellpadding="4" cellspacing="0">
                <tr><th>案件</th><th>街道</th><th>社区</th><th>户号</th><th>成员(身份证号脱敏)</th><th>有就业意愿的成员</th><th>日期</th></tr>
                {s.Cases.Select(c => Html.Of($"<tr><td>{c.Id}</td><td>{c.Street}</td><td>{c.Community}</td><td>{c.HouseholdNo}</td><td>{string.Join("、", c.Reason.Members.Select(m => m.Member))}</td><td>{c.Reason.Members.Count(m => m.Counts == "seeking")}</td><td>{Dates(c, asOf)}</td></tr>"))}
                </table>
                {(s.Total > s.Cases.Count ? Html.Of($"<p>另有 {s.Total - s.Cases.Count} 户未列出,请登录看板查看。</p>") : Html.Empty)}
                """))}
            """);
        var day = asOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        return Build(DigestKey(asOf, to, sections), to, subject, text.ToString(), html, RegardingDigest, day);
    }

    /// <summary>
    /// The dedupe key of a digest: the day, the recipient and a hash of what it lists. A rerun of the same day lists
    /// nothing new, so it stores nothing; a second run after a register import that proposes more households tells
    /// of those (a key of day and recipient alone would swallow that mail).
    /// </summary>
    public static string DigestKey(DateOnly asOf, string to, IReadOnlyList<(DigestSection Section, int Total, IReadOnlyList<CaseView> Cases)> sections)
    {
        var listed = string.Join(",", sections.Select(s => $"{s.Section}:{s.Total}:{string.Join(".", s.Cases.Select(c => c.Id))}"));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(listed)))[..12];
        return $"zero-employment:digest:{asOf.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}:{to}:{hash}";
    }

    private static string SectionShortZh(DigestSection s) => s switch
    {
        DigestSection.Proposed => "待确认(新)",
        DigestSection.ProposalReminder => "待确认(提醒)",
        DigestSection.DeadlineNear => "临近期限",
        _ => "逾期",
    };

    private static string Dates(CaseView c, DateOnly asOf) => c.State switch
    {
        CaseState.Proposed => $"{Day(c.ProposedOn)}排查提出,待确认",
        CaseState.Overdue when c.Deadline is { } d => $"{Day(c.IdentifiedOn!.Value)}认定,期限{Day(d)},逾期 {asOf.DayNumber - d.DayNumber} 天",
        _ when c.Deadline is { } d => $"{Day(c.IdentifiedOn!.Value)}认定,清零期限{Day(d)}(还有 {d.DayNumber - asOf.DayNumber} 天)",
        _ => StateZh(c.State),
    };

    /// <summary>All open overdue cases, once per ISO week.</summary>
    public static OutboxMessage WeeklyDigest(IReadOnlyList<CaseView> overdue, string escalation, DateOnly asOf)
    {
        var week = $"{ISOWeek.GetYear(asOf.ToDateTime(TimeOnly.MinValue))}-W{ISOWeek.GetWeekOfYear(asOf.ToDateTime(TimeOnly.MinValue)):00}";
        var subject = $"【零就业家庭】逾期未清零案件周报({week},共 {overdue.Count} 户)";
        var text = new StringBuilder($"截至{Day(asOf)},逾期未清零的零就业家庭共 {overdue.Count} 户:\n");
        foreach (var c in overdue)
            text.AppendLine($"  案件 {c.Id}  {c.Street}{c.Community}  户号 {c.HouseholdNo}  认定 {Day(c.IdentifiedOn!.Value)}  期限 {Day(c.Deadline!.Value)}  逾期 {asOf.DayNumber - c.Deadline!.Value.DayNumber} 天  协理员 {c.CaseworkerName ?? "(无)"}");
        var html = Html.Of($"""
            <p>截至{Day(asOf)},逾期未清零的零就业家庭共 <strong>{overdue.Count}</strong> 户:</p>
            <table border="1" cellpadding="4" cellspacing="0">
            <tr><th>案件</th><th>街道</th><th>社区</th><th>户号</th><th>认定日期</th><th>清零期限</th><th>逾期天数</th><th>社区协理员</th></tr>
            {overdue.Select(c => Html.Of($"<tr><td>{c.Id}</td><td>{c.Street}</td><td>{c.Community}</td><td>{c.HouseholdNo}</td><td>{Day(c.IdentifiedOn!.Value)}</td><td>{Day(c.Deadline!.Value)}</td><td>{asOf.DayNumber - c.Deadline!.Value.DayNumber}</td><td>{c.CaseworkerName ?? "(无)"}</td></tr>"))}
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
