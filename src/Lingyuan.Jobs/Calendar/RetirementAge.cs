using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.Calendar;

/// <summary>Settings of the working-age test (section <c>WorkingAge</c>).</summary>
public sealed class WorkingAgeOptions
{
    /// <summary>Working age starts at 16 (劳动法 art. 15: no employment of minors under 16).</summary>
    public int MinimumAge { get; set; } = 16;

    /// <summary>
    /// The original retirement age (50 for workers, 55 for cadres) of a woman whose baseline the
    /// register does not record (全国人大常委会关于实施渐进式延迟法定退休年龄的决定, 2024-09-13).
    /// </summary>
    public int DefaultFemaleBaseline { get; set; } = 50;
}

/// <summary>
/// Statutory retirement age after the 2025 reform (全国人大常委会关于实施渐进式延迟法定退休年龄的决定,
/// 2024-09-13, in force 2025-01-01): men 60 + 1 month per 4 months of birth from 1965-01 (cap 63);
/// women of baseline 55 + 1 month per 4 months from 1970-01 (cap 58); women of baseline 50 + 1 month
/// per 2 months from 1975-01 (cap 55).
/// </summary>
public static class RetirementAge
{
    public readonly record struct Age(int Years, int Months)
    {
        public int TotalMonths => Years * 12 + Months;
        public override string ToString() => Months == 0 ? $"{Years}岁" : $"{Years}岁{Months}个月";
    }

    public static Age For(DateOnly birth, Sex sex, int femaleBaseline = 50)
    {
        var (baseYears, reformStart, monthsPerStep, capMonths) = sex switch
        {
            Sex.Male => (60, new DateOnly(1965, 1, 1), 4, 36),
            _ when femaleBaseline == 55 => (55, new DateOnly(1970, 1, 1), 4, 36),
            _ when femaleBaseline == 50 => (50, new DateOnly(1975, 1, 1), 2, 60),
            _ => throw new ArgumentOutOfRangeException(nameof(femaleBaseline), "a woman's baseline is 50 or 55"),
        };
        var monthsSinceStart = (birth.Year - reformStart.Year) * 12 + birth.Month - reformStart.Month;
        var delay = monthsSinceStart < 0 ? 0 : Math.Min(capMonths, monthsSinceStart / monthsPerStep + 1);
        var total = baseYears * 12 + delay;
        return new Age(total / 12, total % 12);
    }

    /// <summary>The day the person reaches statutory retirement age.</summary>
    public static DateOnly RetirementDate(DateOnly birth, Sex sex, int femaleBaseline = 50) =>
        birth.AddMonths(For(birth, sex, femaleBaseline).TotalMonths);

    /// <summary>From the 16th birthday (inclusive) to the retirement date (exclusive).</summary>
    public static bool IsWorkingAge(DateOnly birth, Sex sex, DateOnly asOf, int femaleBaseline = 50, int minimumAge = 16) =>
        asOf >= birth.AddYears(minimumAge) && asOf < RetirementDate(birth, sex, femaleBaseline);
}
