namespace Lingyuan.Jobs.WageArrears;

/// <summary>Which branch of the listing test decided a case (stored with the case as <c>test_rule</c>).</summary>
public enum ListingRule { SingleWorker, MultiWorker, Incident, BelowThresholds }

/// <summary>The facts of an arrears case the listing test looks at; <paramref name="Workers"/> the amounts per worker where the register has them.</summary>
public sealed record ArrearsFacts(int WorkersAffected, long AmountOwedFen, int MaxMonthsOwed, string Incident, IReadOnlyList<WorkerOwed>? Workers = null)
{
    public bool HasWorkerRows => Workers is { Count: > 0 };
}

/// <summary>What one worker of a case is owed (import <c>arrears-workers</c>); the ID is stored masked.</summary>
public sealed record WorkerOwed(string WorkerId, long AmountOwedFen, int MonthsOwed);

/// <summary>What the single-worker branch could be tested on (stored as <c>single_worker_basis</c>).</summary>
public enum SingleWorkerBasis { WorkerRows, CaseTotals, NotTestable }

/// <summary>
/// 人社部令第45号 art. 5: a case whose payment deadline passed unpaid is listed when the unpaid amount
/// reaches the criminal threshold of 拒不支付劳动报酬罪 (法释〔2013〕3号 art. 3, with the provincial
/// figures) or the arrears caused a group or extreme incident with serious social impact.
/// </summary>
public static class ListingTest
{
    public static ListingRule Evaluate(ArrearsFacts c, ListingThresholds t) => EvaluateWithBasis(c, t).Rule;

    /// <summary>
    /// Which evidence branch (1) rests on: each worker's own amount and months where the case has worker rows
    /// (a worker owed ≥ the threshold for ≥ the months satisfies it however many others are owed); otherwise
    /// the case totals, which say what one worker is owed only when the case has one worker.
    /// </summary>
    public static SingleWorkerBasis BasisOf(ArrearsFacts c) =>
        c.HasWorkerRows ? SingleWorkerBasis.WorkerRows : c.WorkersAffected == 1 ? SingleWorkerBasis.CaseTotals : SingleWorkerBasis.NotTestable;

    public static (ListingRule Rule, SingleWorkerBasis Basis) EvaluateWithBasis(ArrearsFacts c, ListingThresholds t)
    {
        var basis = BasisOf(c);
        var single = basis switch
        {
            SingleWorkerBasis.WorkerRows => c.Workers!.Any(w => w.MonthsOwed >= t.SingleWorkerMinMonths && w.AmountOwedFen >= t.SingleWorkerFen),
            SingleWorkerBasis.CaseTotals => c.MaxMonthsOwed >= t.SingleWorkerMinMonths && c.AmountOwedFen >= t.SingleWorkerFen,
            _ => false,
        };
        return (Branches(c, t, single), basis);
    }

    private static ListingRule Branches(ArrearsFacts c, ListingThresholds t, bool single)
    {
        if (single) return ListingRule.SingleWorker;
        if (c.WorkersAffected >= t.MultiWorkerMinWorkers && c.AmountOwedFen >= t.MultiWorkerFen)
            return ListingRule.MultiWorker;
        if (c.Incident is "group" or "extreme")
            return ListingRule.Incident;
        return ListingRule.BelowThresholds;
    }

    /// <summary>The worker of a case whose own amount met branch (1), for the reason text; null when the totals decided.</summary>
    public static WorkerOwed? SingleWorkerOf(ArrearsFacts c, ListingThresholds t) => c.HasWorkerRows
        ? c.Workers!.Where(w => w.MonthsOwed >= t.SingleWorkerMinMonths && w.AmountOwedFen >= t.SingleWorkerFen).OrderByDescending(w => w.AmountOwedFen).FirstOrDefault()
        : null;

    public static string Code(this SingleWorkerBasis b) => b switch
    {
        SingleWorkerBasis.WorkerRows => "worker_rows",
        SingleWorkerBasis.CaseTotals => "case_totals",
        _ => "not_testable",
    };

    public static string BasisZh(string? code) => code switch
    {
        "worker_rows" => "按每名劳动者的欠薪数额检验单人标准",
        "case_totals" => "案件仅涉及 1 名劳动者,按案件合计检验单人标准",
        "not_testable" => "无每名劳动者欠薪明细,单人标准无法检验(仅检验多人标准与群体性/极端事件)",
        _ => "—",
    };

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
        ListingRule.SingleWorker when SingleWorkerOf(c, t) is { } w =>
            $"拖欠 {c.WorkersAffected} 名农民工工资共计 {Money.Yuan(c.AmountOwedFen)} 元,其中拖欠 1 名农民工(身份证号码 {w.WorkerId}){w.MonthsOwed} 个月工资 {Money.Yuan(w.AmountOwedFen)} 元,经责令限期支付逾期未支付,"
            + $"数额达到拒不支付劳动报酬罪数额标准(拖欠一名劳动者 {t.SingleWorkerMinMonths} 个月以上且数额 {Money.Yuan(t.SingleWorkerFen)} 元以上)",
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
