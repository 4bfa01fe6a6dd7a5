namespace Lingyuan.Jobs.WageArrears;

/// <summary>Which branch of the listing test decided a case (stored with the case as <c>test_rule</c>).</summary>
public enum ListingRule { SingleWorker, MultiWorker, Incident, BelowThresholds }

/// <summary>The facts of an arrears case the listing test looks at.</summary>
public sealed record ArrearsFacts(int WorkersAffected, long AmountOwedFen, int MaxMonthsOwed, string Incident);

/// <summary>
/// 人社部令第45号 art. 5: a case whose payment deadline passed unpaid is listed when the unpaid amount
/// reaches the criminal threshold of 拒不支付劳动报酬罪 (法释〔2013〕3号 art. 3, with the provincial
/// figures) or the arrears caused a group or extreme incident with serious social impact.
/// </summary>
public static class ListingTest
{
    public static ListingRule Evaluate(ArrearsFacts c, ListingThresholds t)
    {
        // Branch (1) is about one worker. The register holds one amount and one months figure per case,
        // so the branch can only be applied to a case of one worker: for several workers the total says
        // nothing certain about what any one of them is owed (a worker owed more than the threshold
        // should be registered as a case of his own).
        if (c.WorkersAffected == 1 && c.MaxMonthsOwed >= t.SingleWorkerMinMonths && c.AmountOwedFen >= t.SingleWorkerFen)
            return ListingRule.SingleWorker;
        if (c.WorkersAffected >= t.MultiWorkerMinWorkers && c.AmountOwedFen >= t.MultiWorkerFen)
            return ListingRule.MultiWorker;
        if (c.Incident is "group" or "extreme")
            return ListingRule.Incident;
        return ListingRule.BelowThresholds;
    }

    public static bool IsListable(this ListingRule r) => r != ListingRule.BelowThresholds;

    public static string Code(this ListingRule r) => r switch
    {
        ListingRule.SingleWorker => "single_worker",
        ListingRule.MultiWorker => "multi_worker",
        ListingRule.Incident => "incident",
        _ => "below_thresholds",
    };

    public static ListingRule Parse(string code) => code switch
    {
        "single_worker" => ListingRule.SingleWorker,
        "multi_worker" => ListingRule.MultiWorker,
        "incident" => ListingRule.Incident,
        "below_thresholds" => ListingRule.BelowThresholds,
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "unknown listing rule"),
    };

    /// <summary>The reason as a decision states it, in Chinese.</summary>
    public static string ReasonZh(ListingRule r, ArrearsFacts c, ListingThresholds t) => r switch
    {
        ListingRule.SingleWorker =>
            $"拖欠 1 名农民工 {c.MaxMonthsOwed} 个月工资共计 {Money.Yuan(c.AmountOwedFen)} 元,经责令限期支付逾期未支付,"
            + $"数额达到拒不支付劳动报酬罪数额标准(拖欠一名劳动者 {t.SingleWorkerMinMonths} 个月以上且数额 {Money.Yuan(t.SingleWorkerFen)} 元以上)",
        ListingRule.MultiWorker =>
            $"拖欠 {c.WorkersAffected} 名农民工工资共计 {Money.Yuan(c.AmountOwedFen)} 元,经责令限期支付逾期未支付,"
            + $"数额达到拒不支付劳动报酬罪数额标准(拖欠 {t.MultiWorkerMinWorkers} 名以上劳动者且累计数额 {Money.Yuan(t.MultiWorkerFen)} 元以上)",
        ListingRule.Incident =>
            $"拖欠农民工工资共计 {Money.Yuan(c.AmountOwedFen)} 元,经责令限期支付逾期未支付,并引发{(c.Incident == "extreme" ? "极端事件" : "群体性事件")},造成严重不良社会影响",
        _ => $"拖欠农民工工资共计 {Money.Yuan(c.AmountOwedFen)} 元,未达到列入标准",
    };

    public static string RuleZh(ListingRule r) => r switch
    {
        ListingRule.SingleWorker => "单人数额标准",
        ListingRule.MultiWorker => "多人数额标准",
        ListingRule.Incident => "群体性/极端事件",
        _ => "未达列入标准",
    };
}
