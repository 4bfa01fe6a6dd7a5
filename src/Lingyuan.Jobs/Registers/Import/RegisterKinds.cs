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
        new("uscc", Str, CreditCode),
        new("name", Str, Text(NameMax)),
        new("street", Str, Text(PlaceMax)),
        new("community", Str, Text(PlaceMax)),
        new("industry", Str, Text(PlaceMax)),
        new("risk_class", Str, Enum("A", "B", "C", "D")),
        new("migrant_workers", Int, Count()),
        new("email", Str, Email(optional: true)),
        new("legal_rep_name", Str, Text(NameMax)),
        new("legal_rep_id_number", Str, ResidentId),
        new("abnormal", Bool, TrueFalse),
        // Complaints received (DOMAIN.md §1: many complaints → class D, Inspections:ComplaintsForClassD); optional.
        new("complaints", Int, Count(), optional: true),
    ], ["uscc"]);

    public static readonly ImportKind Inspectors = new("inspectors", "app.inspectors",
    [
        new("badge_no", Str, Code(30)),
        new("name", Str, Text(NameMax)),
        new("email", Str, Email()),
        new("unit", Str, Text(NameMax)),
        new("street", Str, Text(PlaceMax)),
        new("active", Bool, TrueFalse),
    ], ["badge_no"]);

    public static readonly ImportKind Conflicts = new("conflicts", "app.conflicts",
    [
        new("badge_no", Str, Code(30)),
        new("uscc", Str, CreditCode),
        new("reason", Str, Text(TextMax)),
    ], ["badge_no", "uscc"]);

    public static readonly ImportKind Communities = new("communities", "app.communities",
    [
        new("street", Str, Text(PlaceMax)),
        new("community", Str, Text(PlaceMax)),
        new("caseworker_name", Str, Text(NameMax)),
        new("caseworker_email", Str, Email()),
    ], ["street", "community"]);

    public static readonly ImportKind Persons = new("persons", "app.persons",
    [
        new("id_number", Str, ResidentId),
        new("name", Str, Text(NameMax)),
        new("household_no", Str, Code(50)),
        new("street", Str, Text(PlaceMax)),
        new("community", Str, Text(PlaceMax)),
        new("hukou", Str, Enum("urban", "rural")),
        new("able_to_work", Bool, TrueFalse),
        new("wants_work", Bool, TrueFalse),
        new("employment", Str, Enum(Employments)),
        new("employment_since", Day, Date(optional: true, notFuture: true)),
        new("business_income", Bool, TrueFalse),
        // Not in the contract's list; accepted when present (DOMAIN.md §0, retirement-age baseline of women).
        new("female_baseline", Small, FemaleBaseline, optional: true),
    ], ["id_number"]);

    public static readonly ImportKind Cards = new("cards", "app.cards",
    [
        new("id_number", Str, ResidentId),
        new("card_no", Str, Code(30)),
        new("bank_code", Str, Code(20)),
        new("bank_account", Str, CardAccount),
        new("financial_status", Str, Enum("active", "inactive", "frozen", "lost")),
        // Not in the contract's list; accepted when present: the bank's holder of the account when it is not the card's
        // own holder (DOMAIN.md §2: only the recipient's own card account is paid). Empty: the card's holder.
        new("account_holder_id_number", "account_holder", Str, OptionalResidentId, Optional: true),
    ], ["id_number"]);

    public static readonly ImportKind Entitlements = new("entitlements", "app.entitlements",
    [
        new("id_number", Str, ResidentId),
        new("benefit", Str, Enum(Benefits)),
        new("monthly_amount", "monthly_amount_fen", Fen, Yuan(1_000_000)),
        new("start_period", Day, Period()),
        new("end_period", Day, Period(optional: true)),
        new("suspended", Bool, TrueFalse),
    ], ["id_number", "benefit"],
    row => row["end_period"] is DateOnly end && row["start_period"] is DateOnly start && end < start
        ? new RowProblem("end_period", $"{end:yyyy-MM} is before start_period {start:yyyy-MM}, expected the same month or later")
        : null);

    public static readonly ImportKind LifeEvents = new("life-events", "app.life_events",
    [
        new("id_number", Str, ResidentId),
        new("event", Str, Enum("death", "eligibility_verified", "suspended", "resumed", "imprisoned")),
        new("date", Day, Date(notFuture: true)),
    ], ["id_number", "event", "date"]);

    public static readonly ImportKind ArrearsCases = new("arrears-cases", "app.arrears_cases",
    [
        new("case_no", Str, Code(50)),
        new("uscc", Str, CreditCode),
        new("workers_affected", Int, Count()),
        new("amount_owed", "amount_owed_fen", Fen, Yuan()),
        new("max_months_owed", Int, Count(1200)),
        new("order_issued_on", Day, Date(notFuture: true)),
        new("pay_deadline", Day, Date()),
        new("paid_on", Day, Date(optional: true, notFuture: true)),
        new("incident", Str, Enum("none", "group", "extreme")),
        new("credit_promise_on", Day, Date(optional: true, notFuture: true)),
        new("responsible_persons", Str, Text(TextMax, optional: true)),
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
        new("case_no", Str, Code(50)),
        new("worker_id", Str, MaskedId),
        new("amount_owed", "amount_owed_fen", Fen, Yuan()),
        new("months_owed", Int, Count(1200)),
    ], ["case_no", "worker_id"]);

    /// <summary>The working-day calendar (DOMAIN.md §0): exceptions to Monday-Friday, read by the Calendar code.</summary>
    public static readonly ImportKind Holidays = new("holidays", "app.holidays",
    [
        new("date", Day, Date()),
        new("kind", Str, Enum("holiday", "workday")),
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
