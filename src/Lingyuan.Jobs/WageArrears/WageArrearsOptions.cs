using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.WageArrears;

/// <summary>
/// Settings of the wage-arrears joint-punishment list (section <c>WageArrears</c>, DOMAIN.md §4).
/// Defaults are the Liaoning figures; every threshold and period is a setting because the local
/// notice may be revised.
/// </summary>
public sealed class WageArrearsOptions
{
    /// <summary>
    /// Amount owed to one worker for at least <see cref="SingleWorkerMinMonths"/> months that reaches the
    /// criminal threshold of refusing to pay wages (法释〔2013〕3号 art. 3 (1): 5,000–20,000 yuan nationally;
    /// Liaoning notice of 2013-05-28: 10,000). Yuan, at most two decimals.
    /// </summary>
    public decimal SingleWorkerThresholdYuan { get; set; } = 10_000m;

    /// <summary>Months owed to one worker (法释〔2013〕3号 art. 3 (1): "三个月以上").</summary>
    public int SingleWorkerMinMonths { get; set; } = 3;

    /// <summary>Total owed to <see cref="MultiWorkerMinWorkers"/> or more workers (法释〔2013〕3号 art. 3 (2): 30,000–100,000 nationally; Liaoning 50,000).</summary>
    public decimal MultiWorkerThresholdYuan { get; set; } = 50_000m;

    /// <summary>Workers owed (法释〔2013〕3号 art. 3 (2): "十名以上").</summary>
    public int MultiWorkerMinWorkers { get; set; } = 10;

    /// <summary>
    /// Working days the party has to state and defend after the pre-listing notice (人社部令第45号 art. 6: 5 working
    /// days), counted from the day after service (送达), not from the day it was sent.
    /// </summary>
    public int StatementPeriodWorkingDays { get; set; } = 5;

    /// <summary>Working days after the payment deadline within which the listing decision is due (人社部令第45号: 20 working days).</summary>
    public int DecisionWorkingDays { get; set; } = 20;

    /// <summary>Working days to check a statement and tell the party the result (人社部令第45号 art. 6 ¶2: 5 working days), from its receipt.</summary>
    public int StatementCheckWorkingDays { get; set; } = 5;

    /// <summary>Working days a complex case's decision deadline is extended by, once, with a decider's approval (人社部令第45号 art. 8: 20).</summary>
    public int DecisionExtensionWorkingDays { get; set; } = 20;

    /// <summary>Working days to decide an application for early removal (人社部令第45号 art. 14: 15), from the application.</summary>
    public int RemovalDecisionWorkingDays { get; set; } = 15;

    /// <summary>Years a party stays listed, counted from the decision (人社部令第45号: 3 years).</summary>
    public int ListingYears { get; set; } = 3;

    /// <summary>Months after the correction (payment) before early removal (信用修复) may be granted (人社部令第45号: 6 months).</summary>
    public int RepairWaitMonths { get; set; } = 6;

    /// <summary>Staff are reminded of undecided cases whose decision is due within this many working days.</summary>
    public int ReminderWorkingDays { get; set; } = 2;

    /// <summary>Joint-punishment partners (同级信用信息共享平台 and partner agencies) who get the daily digest of listed and removed parties.</summary>
    public List<string> PartnerRecipients { get; set; } = [];

    /// <summary>Inspection staff reminded of decisions (listing and early removal) falling due.</summary>
    public List<string> StaffRecipients { get; set; } = [];

    /// <summary>The authority that issues notices and decisions.</summary>
    public string Authority { get; set; } = "凌源市人力资源和社会保障局";

    /// <summary>Where an administrative review (行政复议) is applied for: since the 2023 行政复议法, the government at the same level.</summary>
    public string ReviewBody { get; set; } = "凌源市人民政府";

    /// <summary>The court of first instance for an administrative suit (行政诉讼).</summary>
    public string Court { get; set; } = "凌源市人民法院";
}

/// <summary>Thresholds in fen, converted once from the yuan settings.</summary>
public sealed record ListingThresholds(long SingleWorkerFen, int SingleWorkerMinMonths, long MultiWorkerFen, int MultiWorkerMinWorkers)
{
    public static ListingThresholds From(WageArrearsOptions o) => new(
        checked((long)(o.SingleWorkerThresholdYuan * 100m)), o.SingleWorkerMinMonths,
        checked((long)(o.MultiWorkerThresholdYuan * 100m)), o.MultiWorkerMinWorkers);
}

public sealed class WageArrearsOptionsValidator : IValidateOptions<WageArrearsOptions>
{
    public ValidateOptionsResult Validate(string? name, WageArrearsOptions o)
    {
        var problems = new List<string>();
        // The provincial threshold must lie inside the national range the judicial interpretation allows.
        Yuan("SingleWorkerThresholdYuan", o.SingleWorkerThresholdYuan, 5_000m, 20_000m);
        Yuan("MultiWorkerThresholdYuan", o.MultiWorkerThresholdYuan, 30_000m, 100_000m);
        Range("SingleWorkerMinMonths", o.SingleWorkerMinMonths, 1, 24);
        Range("MultiWorkerMinWorkers", o.MultiWorkerMinWorkers, 2, 1000);
        Range("StatementPeriodWorkingDays", o.StatementPeriodWorkingDays, 1, 60);
        Range("DecisionWorkingDays", o.DecisionWorkingDays, 1, 120);
        Range("StatementCheckWorkingDays", o.StatementCheckWorkingDays, 1, 60);
        Range("DecisionExtensionWorkingDays", o.DecisionExtensionWorkingDays, 0, 120);
        Range("RemovalDecisionWorkingDays", o.RemovalDecisionWorkingDays, 1, 120);
        Range("ListingYears", o.ListingYears, 1, 10);
        Range("RepairWaitMonths", o.RepairWaitMonths, 0, 36);
        Range("ReminderWorkingDays", o.ReminderWorkingDays, 0, 20);
        Addresses("PartnerRecipients", o.PartnerRecipients);
        Addresses("StaffRecipients", o.StaffRecipients);
        foreach (var (key, value) in new[] { ("Authority", o.Authority), ("ReviewBody", o.ReviewBody), ("Court", o.Court) })
            if (string.IsNullOrWhiteSpace(value)) problems.Add($"WageArrears:{key} must not be empty / 不能为空");
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);

        void Yuan(string key, decimal v, decimal min, decimal max)
        {
            if (v < min || v > max)
                problems.Add($"WageArrears:{key} is {v}, expected {min}-{max} yuan (法释〔2013〕3号 art. 3) / 数额标准超出全国范围");
            else if (decimal.Round(v, 2) != v)
                problems.Add($"WageArrears:{key} is {v}, expected at most two decimals / 金额最多两位小数");
        }

        void Range(string key, int v, int min, int max)
        {
            if (v < min || v > max) problems.Add($"WageArrears:{key} is {v}, expected {min}-{max} / 取值超出范围");
        }

        void Addresses(string key, List<string> list)
        {
            for (var i = 0; i < list.Count; i++)
                if (!System.Net.Mail.MailAddress.TryCreate(list[i], out _))
                    problems.Add($"WageArrears:{key}:{i} '{list[i]}' is not an e-mail address / 不是有效的电子邮件地址");
        }
    }
}
