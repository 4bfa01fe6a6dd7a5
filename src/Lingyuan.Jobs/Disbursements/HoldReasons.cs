namespace Lingyuan.Jobs.Disbursements;

/// <summary>One reason a line is held: its code (stored), its Chinese name, whether its months are back-paid once it clears, and why.</summary>
public sealed record HoldReason(string Code, string LabelZh, bool BackPaid, string Source);

/// <summary>
/// The one table of hold reasons (DOMAIN.md §2), in the order the build tests them: a month held for several
/// reasons is held for the first, so the reasons whose months are never back-paid come before the administrative
/// ones (a pensioner in prison whose card is also inactive must not be back-paid when the card is fixed).
/// The build's SQL, the back-pay rule, the pages and the database's CHECK all read this table.
/// </summary>
public static class HoldReasons
{
    public static readonly HoldReason Dead = new("dead", "已报死亡(死亡次月起停发)", false,
        "社会保险经办条例 art. 25; DOMAIN.md §2: paid for the month of death, nothing for months after it");
    public static readonly HoldReason Imprisoned = new("imprisoned", "服刑期间停发", false,
        "劳社厅函〔2001〕44号: pension suspended while serving a sentence is not back-paid");
    public static readonly HoldReason UnemploymentStopped = new("unemployment_stopped", "失业保险金停止领取", false,
        "失业保险条例 art. 15: a stopped unemployment benefit is not paid for the stopped months");
    public static readonly HoldReason Suspended = new("suspended", "待遇已暂停", true,
        "DOMAIN.md §2: an administrative suspension (not imprisonment) is back-paid once resumed");
    public static readonly HoldReason IncompatibleBenefit = new("incompatible_benefit", "同月重复领取(后发生的待遇暂停)", false,
        "城乡养老保险制度衔接暂行办法 (人社部发〔2014〕17号) art. 9; 失业保险条例 art. 15(4); DOMAIN.md §2: the other benefit was paid "
        + "for these months; settling between the two is a caseworker's decision, never an automatic back-pay");
    public static readonly HoldReason NoPerson = new("no_person", "人员信息缺失", true,
        "DOMAIN.md §2: administrative hold (register data), back-paid once corrected");
    public static readonly HoldReason NoCard = new("no_card", "无社保卡", true,
        "人社领域待遇进卡; DOMAIN.md §2: administrative hold (card), back-paid once the card exists");
    public static readonly HoldReason CardInactive = new("card_inactive", "社保卡金融功能未激活或已冻结挂失", true,
        "人社领域待遇进卡; DOMAIN.md §2: administrative hold (card), back-paid once active");
    public static readonly HoldReason EligibilityLapsed = new("eligibility_lapsed", "待遇资格认证过期", true,
        "社会保险经办条例 art. 26; DOMAIN.md §2: lapsed verification later completed is back-paid");
    public static readonly HoldReason NotOwnAccount = new("not_own_account", "非本人社保卡账户", true,
        "人社领域待遇进卡; DOMAIN.md §2: paid only into the recipient's own card account; back-paid once corrected");
    public static readonly HoldReason DuplicateAccount = new("duplicate_account", "同一账户登记在多人名下", true,
        "人社领域待遇进卡; DOMAIN.md §2: account not provably the recipient's own (duplicate fixed: back-paid)");
    public static readonly HoldReason AmountChange = new("amount_change", "金额较上次发放变动超限(待财务人员确认)", true,
        "DOMAIN.md §2: held until a finance user other than the preparer releases it; back-paid after the release");

    /// <summary>Every reason, in the build's order of precedence.</summary>
    public static readonly IReadOnlyList<HoldReason> All =
        [Dead, Imprisoned, UnemploymentStopped, Suspended, IncompatibleBenefit, NoPerson, NoCard, CardInactive, EligibilityLapsed,
         NotOwnAccount, DuplicateAccount, AmountChange];

    public static HoldReason? Find(string? code) => All.FirstOrDefault(r => r.Code == code);

    /// <summary>SQL list of the codes whose months are back-paid (<c>'no_card', …</c>).</summary>
    public static string BackPaidSqlList() => string.Join(", ", All.Where(r => r.BackPaid).Select(r => $"'{r.Code}'"));

    /// <summary>SQL list of every code (the database's CHECK holds the same).</summary>
    public static string SqlList() => string.Join(", ", All.Select(r => $"'{r.Code}'"));
}

/// <summary>
/// Which benefits the rules treat how (DOMAIN.md §2). Benefit codes are those of the entitlements register.
/// </summary>
public static class BenefitRules
{
    /// <summary>
    /// Benefits that need the annual eligibility verification (待遇资格认证, 社会保险经办条例 art. 26): long-term
    /// benefits paid to a person — pensions, survivors' allowances and the monthly work-injury benefits (伤残津贴,
    /// 供养亲属抚恤金). Not one-off or short-term payments: subsidies and unemployment benefit.
    /// </summary>
    public static readonly IReadOnlyList<string> NeedVerification =
        ["enterprise_pension", "institution_pension", "resident_pension", "survivor_allowance", "work_injury"];

    /// <summary>
    /// Benefits a person may not receive together in one month: when a person has one of <c>First</c> and one of
    /// <c>Second</c>, the later-starting is held (on the same start month, the one of <c>Second</c>).
    /// </summary>
    public sealed record Incompatible(string[] First, string[] Second, string Source);

    public static readonly IReadOnlyList<Incompatible> IncompatiblePairs =
    [
        new(["enterprise_pension"], ["resident_pension"],
            "城乡养老保险制度衔接暂行办法 (人社部发〔2014〕17号) art. 9: not both an employees' and a residents' pension"),
        new(["enterprise_pension", "institution_pension", "resident_pension"], ["unemployment"],
            "失业保险条例 art. 15(4): unemployment benefit stops when a basic pension is drawn"),
    ];

    internal static string SqlList(IEnumerable<string> codes) => string.Join(", ", codes.Select(c => $"'{c}'"));
}
