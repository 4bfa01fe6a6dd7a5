using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Lingyuan.Jobs.Tests.Disbursements;

public sealed class DisbursementOptionsTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Bad_settings_stop_the_start_with_a_message_naming_the_key()
    {
        await using var app = fixture.BuildApp(extra: new()
        {
            ["Disbursements:BuildDay"] = "31",
            ["Disbursements:FirstPeriod"] = "2026-13",
            ["Disbursements:AmountChangeAlertPercent"] = "-1",
        });
        var ex = Assert.Throws<OptionsValidationException>(() => app.Services.GetRequiredService<IStartupValidator>().Validate());
        Assert.Contains(ex.Failures, f => f.StartsWith("Disbursements:BuildDay", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("Disbursements:FirstPeriod", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.StartsWith("Disbursements:AmountChangeAlertPercent", StringComparison.Ordinal));
    }

    [Fact]
    public void The_build_job_follows_the_configured_build_day_and_time()
    {
        var o = new DisbursementOptions { BuildDay = 7, BuildTime = new TimeSpan(2, 30, 0) };
        Assert.Equal("30 2 7 * *", o.Cron);
        Assert.Equal("0 2 5 * *", new DisbursementOptions().Cron);
    }

    [Theory]
    [InlineData(0L, "0.00")]
    [InlineData(5L, "0.05")]
    [InlineData(123456L, "1,234.56")]
    [InlineData(123456789012L, "1,234,567,890.12")]
    public void Yuan_are_formatted_with_grouping_and_two_decimals(long fen, string yuan) => Assert.Equal(yuan, Money.Yuan(fen));

    [Theory]
    [InlineData("1,234.56", 123456L)]
    [InlineData("0.1", 10L)]
    [InlineData("7", 700L)]
    public void Yuan_parse_exactly_to_fen(string yuan, long fen)
    {
        Assert.True(Money.TryParseYuan(yuan, out var parsed));
        Assert.Equal(fen, parsed);
    }

    [Theory]
    [InlineData("1.234")]
    [InlineData("-1.00")]
    [InlineData("1e3")]
    [InlineData("")]
    public void Yuan_with_more_than_two_decimals_or_a_sign_are_refused(string yuan) => Assert.False(Money.TryParseYuan(yuan, out _));

    [Fact]
    public void Personal_data_is_masked_as_the_domain_says()
    {
        Assert.Equal("211382********123X", Mask.IdNumber("21138219491231123X"));
        Assert.Equal("6217********1234", Mask.Account("6217000011111234"));
    }
}
