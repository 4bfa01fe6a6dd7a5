using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Inspections;

/// <summary>Settings of the inspection draws (section <c>Inspections</c>); plan fields default to these.</summary>
public sealed class InspectionOptions
{
    /// <summary>
    /// Sampling ratio per risk class A..D in whole percent. Practice varies by city (国办发〔2015〕58号
    /// leaves it to local plans); default A 3, B 5, C 20, D 60 (DOMAIN.md §1).
    /// </summary>
    public int[] DefaultRatios { get; set; } = [.. DrawParameters.DefaultRatios];

    /// <summary>Inspectors per employer; 劳动保障监察条例 art. 16 requires at least 2.</summary>
    public int DefaultTeamSize { get; set; } = 2;

    /// <summary>
    /// Most employers one inspector is assigned in one draw (local practice). 30 fits the county: the county
    /// demo's 30,000 employers at the default ratios draw about 3,700, i.e. 7,400 visits of two for about 285
    /// active inspectors (26 each); at 20 that draw could not be made (issue #17).
    /// </summary>
    public int DefaultWorkloadCap { get; set; } = 30;

    /// <summary>An inspector is not drawn again for an employer inspected within this many months (rotation, local practice); 0 = off.</summary>
    public int DefaultRotationLookbackMonths { get; set; } = 24;

    /// <summary>An investigation finishes within this many working days of case opening (立案; 劳动保障监察条例 art. 17: 60).</summary>
    public int CompletionWorkingDays { get; set; } = 60;

    /// <summary>Working days the department head may add for a complex case (劳动保障监察条例 art. 17: at most 30).</summary>
    public int ExtensionWorkingDays { get; set; } = 30;

    /// <summary>
    /// Employers drawn in a standing draw of another plan within this many months before the draw date are left
    /// out of the draw (local practice: the same employer is not inspected twice a year; DOMAIN.md §1); 0 = off.
    /// </summary>
    public int ExcludeInspectedWithinMonths { get; set; } = 12;

    /// <summary>
    /// An employer with at least this many complaints on the employers register (column <c>complaints</c>) is drawn
    /// in class D, like one on the abnormal-operations list (DOMAIN.md §1: "employers with many complaints ... are
    /// class D unless overridden"; the number is local practice); 0 = off.
    /// </summary>
    public int ComplaintsForClassD { get; set; } = 3;

    /// <summary>Results are published (公示) within this many working days after the inspection ends (国发〔2019〕5号: 20).</summary>
    public int PublicationWorkingDays { get; set; } = 20;

    /// <summary>Inspectors are reminded this many working days before a deadline.</summary>
    public int ReminderWorkingDaysBefore { get; set; } = 5;

    /// <summary>
    /// A plan is drawn no earlier than this many working days after its commitment was published
    /// (its creation), so that the public has seen the commitment before the draw (commit first).
    /// </summary>
    public int CommitmentLeadWorkingDays { get; set; } = 1;

    /// <summary>
    /// The public random value the seed also depends on: a draw nobody at the bureau controls, held in
    /// public every evening (docs/draw-algorithm.md §3). Published with each frozen snapshot.
    /// </summary>
    public string PublicValueSource { get; set; } = DefaultPublicValueSource;

    public const string DefaultPublicValueSource = "中国福利彩票“快乐8”当日开奖号码(20个号码,按开奖公告顺序,以空格分隔)";

    /// <summary>
    /// Bureau time (HH:mm) before which a snapshot frozen on a day waits for that day's public value; a
    /// snapshot frozen later waits for the next day's. Must be before the source's drawing (快乐8: 21:30).
    /// </summary>
    public string PublicValueCutoff { get; set; } = "20:00";

    /// <summary>Requests per minute one address may make to the public draw pages (/public/draws).</summary>
    public int PublicRequestsPerMinute { get; set; } = 60;

    public TimeOnly Cutoff => TimeOnly.ParseExact(PublicValueCutoff, "HH:mm", CultureInfo.InvariantCulture);
}

public sealed class InspectionOptionsValidator : IValidateOptions<InspectionOptions>
{
    public ValidateOptionsResult Validate(string? name, InspectionOptions o)
    {
        var problems = new List<string>();
        if (o.DefaultRatios.Length != 4 || o.DefaultRatios.Any(r => r is < 0 or > 100))
            problems.Add("Inspections:DefaultRatios must be four whole percentages 0-100 for classes A-D / 抽查比例应为四个 0-100 的整数");
        if (o.DefaultTeamSize < 2) problems.Add("Inspections:DefaultTeamSize must be at least 2 (劳动保障监察条例 art. 16) / 每组至少 2 名执法人员");
        if (o.DefaultWorkloadCap < 1) problems.Add("Inspections:DefaultWorkloadCap must be at least 1 / 工作量上限至少为 1");
        if (o.DefaultRotationLookbackMonths is < 0 or > 240) problems.Add("Inspections:DefaultRotationLookbackMonths must be 0-240 / 轮换回溯月数应为 0-240");
        if (o.CompletionWorkingDays is < 1 or > 365) problems.Add("Inspections:CompletionWorkingDays must be 1-365 / 完成期限应为 1-365 个工作日");
        if (o.ExtensionWorkingDays is < 1 or > 30) problems.Add("Inspections:ExtensionWorkingDays must be 1-30 (劳动保障监察条例 art. 17) / 延长期限应为 1-30 个工作日");
        if (o.ExcludeInspectedWithinMonths is < 0 or > 120) problems.Add("Inspections:ExcludeInspectedWithinMonths must be 0-120 / 近期已检查排除月数应为 0-120");
        if (o.ComplaintsForClassD is < 0 or > 10_000) problems.Add("Inspections:ComplaintsForClassD must be 0-10000 / 投诉件数阈值应为 0-10000");
        if (o.PublicationWorkingDays is < 1 or > 365) problems.Add("Inspections:PublicationWorkingDays must be 1-365 / 公示期限应为 1-365 个工作日");
        if (o.ReminderWorkingDaysBefore is < 0 or > 60) problems.Add("Inspections:ReminderWorkingDaysBefore must be 0-60 / 提前提醒天数应为 0-60");
        if (o.CommitmentLeadWorkingDays is < 0 or > 60) problems.Add("Inspections:CommitmentLeadWorkingDays must be 0-60 / 承诺值公开提前量应为 0-60 个工作日");
        if (string.IsNullOrWhiteSpace(o.PublicValueSource) || o.PublicValueSource.Length > 200 || o.PublicValueSource.Any(char.IsControl))
            problems.Add("Inspections:PublicValueSource must be one line of at most 200 characters / 公开随机数来源应为一行文字(不超过200字)");
        if (!TimeOnly.TryParseExact(o.PublicValueCutoff, "HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            problems.Add("Inspections:PublicValueCutoff must be a time HH:mm / 快照冻结截止时间格式应为 HH:mm");
        if (o.PublicRequestsPerMinute is < 1 or > 100_000) problems.Add("Inspections:PublicRequestsPerMinute must be 1-100000 / 公开页面访问频率上限应为 1-100000");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>A plan period: a month <c>YYYY-MM</c> or a quarter <c>YYYY-Qn</c>; its window is its first to last day.</summary>
public readonly partial record struct InspectionPeriod(string Text, DateOnly Start, DateOnly End)
{
    public static bool TryParse(string? text, out InspectionPeriod period)
    {
        period = default;
        var m = Shape().Match(text ?? "");
        if (!m.Success) return false;
        var year = int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
        if (year is < 2000 or > 2999) return false;
        var (first, months) = m.Groups[2].Success
            ? (int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), 1)
            : ((int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) - 1) * 3 + 1, 3);
        if (first is < 1 or > 12) return false;
        var start = new DateOnly(year, first, 1);
        period = new InspectionPeriod(text!, start, start.AddMonths(months).AddDays(-1));
        return true;
    }

    public override string ToString() => Text;

    [GeneratedRegex(@"^([0-9]{4})-(?:([0-9]{2})|Q([1-4]))$")]
    private static partial Regex Shape();
}
