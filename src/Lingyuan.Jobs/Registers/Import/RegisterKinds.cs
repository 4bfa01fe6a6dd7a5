using NpgsqlTypes;
using static Lingyuan.Jobs.Registers.Import.Fields;

namespace Lingyuan.Jobs.Registers.Import;

/// <summary>The bureau's register files (INTERFACES.md, Register files) mapped onto the tables of 0002_registers.sql.</summary>
public static class RegisterKinds
{
    private const NpgsqlDbType Str = NpgsqlDbType.Text, Bool = NpgsqlDbType.Boolean, Day = NpgsqlDbType.Date,
        Int = NpgsqlDbType.Integer, Fen = NpgsqlDbType.Bigint, Small = NpgsqlDbType.Smallint;

    public const int NameMax = 200, PlaceMax = 100, TextMax = 1000;

    public static readonly string[] Employments =
        ["employed", "self_employed", "flexible_insured", "flexible_uninsured", "unemployed", "registered_unemployed", "student", "retired", "other"];

    public static readonly string[] Benefits =
        ["enterprise_pension", "institution_pension", "resident_pension", "work_injury", "unemployment", "employment_subsidy",
         "training_subsidy", "insurance_subsidy", "survivor_allowance"];

    public static readonly ImportKind Employers = new("employers", "app.employers",
    [
        new("uscc", Str, CreditCode) { Chinese = "统一社会信用代码" },
        new("name", Str, Text(NameMax)) { Chinese = "单位名称" },
        new("street", Str, Text(PlaceMax)) { Chinese = "街道" },
        new("community", Str, Text(PlaceMax)) { Chinese = "社区" },
        new("industry", Str, Text(PlaceMax)) { Chinese = "行业" },
        new("risk_class", Str, Enum("A", "B", "C", "D")) { Chinese = "风险等级" },
        new("migrant_workers", Int, Count()) { Chinese = "农民工人数" },
        new("email", Str, Email(optional: true)) { Chinese = "电子邮箱" },
        new("legal_rep_name", Str, Text(NameMax)) { Chinese = "法定代表人" },
        new("legal_rep_id_number", Str, ResidentId) { Chinese = "法定代表人身份证号码" },
        new("abnormal", Bool, TrueFalse) { Chinese = "经营异常" },
        // Complaints received (DOMAIN.md §1: many complaints → class D, Inspections:ComplaintsForClassD); optional.
        new("complaints", Int, Count(), optional: true) { Chinese = "投诉次数" },
    ], ["uscc"]);

    public static readonly ImportKind Inspectors = new("inspectors", "app.inspectors",
    [
        new("badge_no", Str, Code(30)) { Chinese = "执法证号" },
        new("name", Str, Text(NameMax)) { Chinese = "姓名" },
        new("email", Str, Email()) { Chinese = "电子邮箱" },
        new("unit", Str, Text(NameMax)) { Chinese = "单位" },
        new("street", Str, Text(PlaceMax)) { Chinese = "街道" },
        new("active", Bool, TrueFalse) { Chinese = "在岗" },
    ], ["badge_no"]);

    public static readonly ImportKind Conflicts = new("conflicts", "app.conflicts",
    [
        new("badge_no", Str, Code(30)) { Chinese = "执法证号" },
        new("uscc", Str, CreditCode) { Chinese = "统一社会信用代码" },
        new("reason", Str, Text(TextMax)) { Chinese = "回避原因" },
    ], ["badge_no", "uscc"]);

    public static readonly ImportKind Communities = new("communities", "app.communities",
    [
        new("street", Str, Text(PlaceMax)) { Chinese = "街道" },
        new("community", Str, Text(PlaceMax)) { Chinese = "社区" },
        new("caseworker_name", Str, Text(NameMax)) { Chinese = "协理员姓名" },
        new("caseworker_email", Str, Email()) { Chinese = "协理员电子邮箱" },
    ], ["street", "community"]);

    public static readonly ImportKind Persons = new("persons", "app.persons",
    [
        new("id_number", Str, ResidentId) { Chinese = "身份证号码" },
        new("name", Str, Text(NameMax)) { Chinese = "姓名" },
        new("household_no", Str, Code(50)) { Chinese = "户号" },
        new("street", Str, Text(PlaceMax)) { Chinese = "街道" },
        new("community", Str, Text(PlaceMax)) { Chinese = "社区" },
        new("hukou", Str, Enum("urban", "rural")) { Chinese = "户籍类型" },
        new("able_to_work", Bool, TrueFalse) { Chinese = "有劳动能力" },
        new("wants_work", Bool, TrueFalse) { Chinese = "有就业意愿" },
        new("employment", Str, Enum(Employments)) { Chinese = "就业状态" },
        new("employment_since", Day, Date(optional: true, notFuture: true)) { Chinese = "就业状态起始日期" },
        new("business_income", Bool, TrueFalse) { Chinese = "有经营性收入" },
        // Not in the contract's list; accepted when present (DOMAIN.md §0, retirement-age baseline of women).
        new("female_baseline", Small, FemaleBaseline, optional: true) { Chinese = "女性原退休年龄" },
    ], ["id_number"]);

    public static readonly ImportKind Cards = new("cards", "app.cards",
    [
        new("id_number", Str, ResidentId) { Chinese = "身份证号码" },
        new("card_no", Str, Code(30)) { Chinese = "社保卡号" },
        new("bank_code", Str, Code(20)) { Chinese = "银行代码" },
        new("bank_account", Str, CardAccount) { Chinese = "银行账号" },
        new("financial_status", Str, Enum("active", "inactive", "frozen", "lost")) { Chinese = "金融账户状态" },
        // Not in the contract's list; accepted when present: the bank's holder of the account when it is not the card's
        // own holder (DOMAIN.md §2: only the recipient's own card account is paid). Empty: the card's holder.
        new("account_holder_id_number", "account_holder", Str, OptionalResidentId, Optional: true) { Chinese = "账户持有人身份证号码" },
    ], ["id_number"]);

    public static readonly ImportKind Entitlements = new("entitlements", "app.entitlements",
    [
        new("id_number", Str, ResidentId) { Chinese = "身份证号码" },
        new("benefit", Str, Enum(Benefits)) { Chinese = "待遇类别" },
        new("monthly_amount", "monthly_amount_fen", Fen, Yuan(1_000_000)) { Chinese = "月发放金额" },
        new("start_period", Day, Period()) { Chinese = "起始月份" },
        new("end_period", Day, Period(optional: true)) { Chinese = "终止月份" },
        new("suspended", Bool, TrueFalse) { Chinese = "暂停发放" },
    ], ["id_number", "benefit"],
    row => row["end_period"] is DateOnly end && row["start_period"] is DateOnly start && end < start
        ? new RowProblem("end_period", $"{end:yyyy-MM} is before start_period {start:yyyy-MM}, expected the same month or later")
        : null);

    public static readonly ImportKind LifeEvents = new("life-events", "app.life_events",
    [
        new("id_number", Str, ResidentId) { Chinese = "身份证号码" },
        new("event", Str, Enum("death", "eligibility_verified", "suspended", "resumed", "imprisoned")) { Chinese = "事件" },
        new("date", Day, Date(notFuture: true)) { Chinese = "日期" },
    ], ["id_number", "event", "date"]);

    public static readonly ImportKind ArrearsCases = new("arrears-cases", "app.arrears_cases",
    [
        new("case_no", Str, Code(50)) { Chinese = "案件编号" },
        new("uscc", Str, CreditCode) { Chinese = "统一社会信用代码" },
        new("workers_affected", Int, Count()) { Chinese = "涉及人数" },
        new("amount_owed", "amount_owed_fen", Fen, Yuan()) { Chinese = "拖欠金额" },
        new("max_months_owed", Int, Count(1200)) { Chinese = "最长拖欠月数" },
        new("order_issued_on", Day, Date(notFuture: true)) { Chinese = "责令支付日期" },
        new("pay_deadline", Day, Date()) { Chinese = "支付期限" },
        new("paid_on", Day, Date(optional: true, notFuture: true)) { Chinese = "支付日期" },
        new("incident", Str, Enum("none", "group", "extreme")) { Chinese = "事件类型" },
        new("credit_promise_on", Day, Date(optional: true, notFuture: true)) { Chinese = "信用承诺日期" },
        new("responsible_persons", Str, Text(TextMax, optional: true)) { Chinese = "责任人" },
    ], ["case_no"],
    row => row["pay_deadline"] is DateOnly due && row["order_issued_on"] is DateOnly issued && due < issued
        ? new RowProblem("pay_deadline", $"{due:yyyy-MM-dd} is before order_issued_on {issued:yyyy-MM-dd}, expected the same day or later")
        : null);

    /// <summary>
    /// What each worker of an arrears case is owed (issue 16): the single-worker branch of the listing test
    /// is tested per worker. The worker's ID number is given and stored masked (first 6, last 4).
    /// </summary>
    public static readonly ImportKind ArrearsWorkers = new("arrears-workers", "app.arrears_workers",
    [
        new("case_no", Str, Code(50)) { Chinese = "案件编号" },
        new("worker_id", Str, MaskedId) { Chinese = "劳动者身份证号码(脱敏)" },
        new("amount_owed", "amount_owed_fen", Fen, Yuan()) { Chinese = "欠薪金额" },
        new("months_owed", Int, Count(1200)) { Chinese = "欠薪月数" },
    ], ["case_no", "worker_id"]);

    /// <summary>The working-day calendar (DOMAIN.md §0): exceptions to Monday-Friday, read by the Calendar code.</summary>
    public static readonly ImportKind Holidays = new("holidays", "app.holidays",
    [
        new("date", Day, Date()) { Chinese = "日期" },
        new("kind", Str, Enum("holiday", "workday")) { Chinese = "类型" },
    ], ["date"]);

    public static readonly ImportKind[] All =
        [Employers, Inspectors, Conflicts, Communities, Persons, Cards, Entitlements, LifeEvents, ArrearsCases, ArrearsWorkers, Holidays];

    /// <summary>A masked resident ID number, <c>211382********123X</c>: the full number is never taken in.</summary>
    private static string? MaskedId(string raw, in ParseContext _, out object? value)
    {
        var v = raw.Trim().ToUpperInvariant();
        value = null;
        if (v.Length != 18 || !v[..6].All(char.IsAsciiDigit) || v[6..14] != "********" || !v[14..17].All(char.IsAsciiDigit) || !(char.IsAsciiDigit(v[17]) || v[17] == 'X'))
            // The value is not echoed: it may be a full ID number, which never goes into a message or a log.
            return "is not a masked ID number, expected 6 digits, 8 asterisks, 3 digits and a check character (e.g. 211382********123X)";
        value = v;
        return null;
    }

    private static string? OptionalResidentId(string raw, in ParseContext ctx, out object? value)
    {
        value = null;
        return raw.Trim().Length == 0 ? null : ResidentId(raw, ctx, out value);
    }

    private static string? FemaleBaseline(string raw, in ParseContext _, out object? value)
    {
        value = null;
        switch (raw.Trim())
        {
            case "": return null;
            case "50": value = (short)50; return null;
            case "55": value = (short)55; return null;
            default: return $"'{Clip(raw.Trim())}' is not a baseline, expected 50, 55 or empty";
        }
    }
}
