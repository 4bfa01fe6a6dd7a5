using System.Globalization;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>A benefit month, <c>YYYY-MM</c>; stored as the first day of the month.</summary>
public readonly record struct Period(int Year, int Month) : IComparable<Period>
{
    public DateOnly FirstDay => new(Year, Month, 1);

    public static Period Of(DateOnly d) => new(d.Year, d.Month);

    public Period Next() => Of(FirstDay.AddMonths(1));

    public static bool TryParse(string? s, out Period period)
    {
        period = default;
        if (s is null || !DateOnly.TryParseExact(s + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return false;
        period = Of(d);
        return true;
    }

    public int CompareTo(Period other) => FirstDay.CompareTo(other.FirstDay);
    public static bool operator <(Period a, Period b) => a.CompareTo(b) < 0;
    public static bool operator >(Period a, Period b) => a.CompareTo(b) > 0;
    public static bool operator <=(Period a, Period b) => a.CompareTo(b) <= 0;
    public static bool operator >=(Period a, Period b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Year:D4}-{Month:D2}";
}


/// <summary>Personal data as people outside the review rows see it (DOMAIN.md §0: masking), as the registers mask it.</summary>
public static class Mask
{
    /// <summary><c>211382********123X</c>: first 6, last 4.</summary>
    public static string IdNumber(string? id) => Registers.IdNumber.Mask(id);

    /// <summary><c>6217********1234</c>: first 4, last 4.</summary>
    public static string Account(string? account) => Registers.BankAccount.Mask(account);
}

/// <summary>Chinese names of the codes users see.</summary>
public static class Zh
{
    public static string Benefit(string b) => b switch
    {
        "enterprise_pension" => "企业职工基本养老金",
        "institution_pension" => "机关事业单位养老金",
        "resident_pension" => "城乡居民养老金",
        "work_injury" => "工伤保险待遇",
        "unemployment" => "失业保险金",
        "employment_subsidy" => "就业补贴",
        "training_subsidy" => "培训补贴",
        "insurance_subsidy" => "社会保险补贴",
        "survivor_allowance" => "遗属待遇",
        _ => b,
    };

    public static string HoldReason(string? r) => r is null ? "" : HoldReasons.Find(r)?.LabelZh ?? r;

    public static string Kind(string k) => k switch
    {
        "regular" => "当月",
        "back_pay" => "补发",
        "reissue" => "退票重发",
        _ => k,
    };
}
