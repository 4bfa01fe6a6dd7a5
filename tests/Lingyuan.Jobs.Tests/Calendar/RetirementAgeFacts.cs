using CsCheck;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Registers;

namespace Lingyuan.Jobs.Tests.Calendar;

public class RetirementAgeFacts
{
    [Theory]
    // Men: 60, +1 month per 4 months of birth from 1965-01, cap 63.
    [InlineData("1964-12-15", Sex.Male, 50, 60, 0)]
    [InlineData("1965-01-01", Sex.Male, 50, 60, 1)]
    [InlineData("1965-04-30", Sex.Male, 50, 60, 1)]
    [InlineData("1965-05-01", Sex.Male, 50, 60, 2)]
    [InlineData("1976-08-31", Sex.Male, 50, 62, 11)]
    [InlineData("1976-09-01", Sex.Male, 50, 63, 0)]
    [InlineData("1990-01-01", Sex.Male, 50, 63, 0)]
    // Women of baseline 50: +1 month per 2 months from 1975-01, cap 55.
    [InlineData("1974-12-31", Sex.Female, 50, 50, 0)]
    [InlineData("1975-01-01", Sex.Female, 50, 50, 1)]
    [InlineData("1975-03-01", Sex.Female, 50, 50, 2)]
    [InlineData("1984-11-01", Sex.Female, 50, 55, 0)]
    [InlineData("1995-06-01", Sex.Female, 50, 55, 0)]
    // Women of baseline 55: +1 month per 4 months from 1970-01, cap 58.
    [InlineData("1969-12-31", Sex.Female, 55, 55, 0)]
    [InlineData("1970-01-01", Sex.Female, 55, 55, 1)]
    [InlineData("1981-09-01", Sex.Female, 55, 58, 0)]
    public void Retirement_age_matches_the_official_table_at_its_edges(string birth, Sex sex, int baseline, int years, int months) =>
        Assert.Equal(new RetirementAge.Age(years, months), RetirementAge.For(DateOnly.Parse(birth), sex, baseline));

    [Fact]
    public void A_man_is_of_working_age_one_month_short_of_his_reformed_retirement_age_and_not_at_it()
    {
        var birth = new DateOnly(1965, 5, 10); // 60 years 2 months
        var retires = RetirementAge.RetirementDate(birth, Sex.Male);
        Assert.Equal(new DateOnly(2025, 7, 10), retires);
        Assert.True(RetirementAge.IsWorkingAge(birth, Sex.Male, retires.AddMonths(-1)));
        Assert.False(RetirementAge.IsWorkingAge(birth, Sex.Male, retires));
    }

    [Fact]
    public void Working_age_starts_on_the_sixteenth_birthday()
    {
        var birth = new DateOnly(2010, 3, 1);
        Assert.False(RetirementAge.IsWorkingAge(birth, Sex.Female, new DateOnly(2026, 2, 28)));
        Assert.True(RetirementAge.IsWorkingAge(birth, Sex.Female, new DateOnly(2026, 3, 1)));
    }

    [Fact]
    public void Retirement_age_never_decreases_with_later_birth_and_stays_within_the_caps() =>
        Gen.Select(Gen.Int[0, 365 * 60], Gen.Int[1, 400], Gen.OneOfConst(Sex.Male, Sex.Female), Gen.OneOfConst(50, 55)).Sample((d, later, sex, baseline) =>
        {
            var a = new DateOnly(1950, 1, 1).AddDays(d);
            var b = a.AddDays(later);
            var ageA = RetirementAge.For(a, sex, baseline).TotalMonths;
            Assert.True(ageA <= RetirementAge.For(b, sex, baseline).TotalMonths);
            var (min, max) = sex == Sex.Male ? (720, 756) : baseline == 55 ? (660, 696) : (600, 660);
            Assert.InRange(ageA, min, max);
        }, iter: 2000);
}
