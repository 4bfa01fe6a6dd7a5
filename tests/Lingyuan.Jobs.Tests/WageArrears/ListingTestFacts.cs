using Microsoft.Extensions.Configuration;
using Lingyuan.Jobs.WageArrears;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>The listing test of 人社部令第45号 art. 5 with the Liaoning thresholds (the defaults).</summary>
public class ListingTestFacts
{
    private static readonly ListingThresholds Liaoning = ListingThresholds.From(new WageArrearsOptions());

    private static ListingRule Test(int workers, decimal yuan, int months, string incident = "none") =>
        ListingTest.Evaluate(new ArrearsFacts(workers, (long)(yuan * 100), months, incident), Liaoning);

    [Fact]
    public void The_Liaoning_defaults_are_converted_to_fen_once()
    {
        Assert.Equal(new ListingThresholds(1_000_000, 3, 5_000_000, 10), Liaoning);
    }

    [Fact]
    public void One_worker_owed_three_months_and_9999_99_yuan_is_not_listable() =>
        Assert.Equal(ListingRule.BelowThresholds, Test(1, 9_999.99m, 3));

    [Fact]
    public void One_worker_owed_three_months_and_10000_yuan_is_listable() =>
        Assert.Equal(ListingRule.SingleWorker, Test(1, 10_000.00m, 3));

    [Fact]
    public void One_worker_owed_two_months_and_10000_yuan_is_not_listable() =>
        Assert.Equal(ListingRule.BelowThresholds, Test(1, 10_000.00m, 2));

    [Fact]
    public void Ten_workers_owed_50000_yuan_are_listable() =>
        Assert.Equal(ListingRule.MultiWorker, Test(10, 50_000.00m, 1));

    [Fact]
    public void Ten_workers_owed_49999_99_yuan_are_not_listable() =>
        Assert.Equal(ListingRule.BelowThresholds, Test(10, 49_999.99m, 6));

    [Fact]
    public void Nine_workers_owed_60000_yuan_each_under_10000_are_not_listable() =>
        Assert.Equal(ListingRule.BelowThresholds, Test(9, 60_000.00m, 4));

    [Fact]
    public void A_group_incident_with_a_small_amount_is_listable()
    {
        Assert.Equal(ListingRule.Incident, Test(3, 1_200.00m, 1, "group"));
        Assert.Equal(ListingRule.Incident, Test(1, 800.00m, 1, "extreme"));
    }

    [Fact]
    public void Another_province_sets_its_own_thresholds_within_the_national_range()
    {
        var t = ListingThresholds.From(new WageArrearsOptions { SingleWorkerThresholdYuan = 5_000m, MultiWorkerThresholdYuan = 30_000m });
        Assert.Equal(ListingRule.SingleWorker, ListingTest.Evaluate(new ArrearsFacts(1, 500_000, 3, "none"), t));
        Assert.Equal(ListingRule.MultiWorker, ListingTest.Evaluate(new ArrearsFacts(10, 3_000_000, 1, "none"), t));
    }

    [Theory]
    [InlineData("SingleWorkerThresholdYuan", "4999", "WageArrears:SingleWorkerThresholdYuan")]
    [InlineData("MultiWorkerThresholdYuan", "100000.01", "WageArrears:MultiWorkerThresholdYuan")]
    [InlineData("SingleWorkerThresholdYuan", "10000.005", "at most two decimals")]
    [InlineData("StatementPeriodWorkingDays", "0", "WageArrears:StatementPeriodWorkingDays")]
    [InlineData("PartnerRecipients:0", "not-an-address", "WageArrears:PartnerRecipients:0")]
    public void A_bad_setting_is_refused_with_a_message_naming_the_key(string key, string value, string expected)
    {
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"WageArrears:{key}"] = value }).Build();
        var o = new WageArrearsOptions();
        config.GetSection("WageArrears").Bind(o);
        var result = new WageArrearsOptionsValidator().Validate(null, o);
        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage);
    }

    [Fact]
    public void The_defaults_are_valid() =>
        Assert.True(new WageArrearsOptionsValidator().Validate(null, new WageArrearsOptions()).Succeeded);

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\",\"x\")", "\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"")]
    [InlineData("+1+2", "'+1+2")]
    [InlineData("-3", "'-3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("凌源建筑有限公司", "凌源建筑有限公司")]
    [InlineData("a,b", "\"a,b\"")]
    public void A_csv_cell_that_a_spreadsheet_would_run_as_a_formula_is_kept_as_text(string value, string cell) =>
        Assert.Equal(cell, PublicList.Cell(value));
}
