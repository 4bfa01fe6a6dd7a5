using System.Globalization;
using Lingyuan.Jobs.BrowserTests.Infrastructure;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Lingyuan.Jobs.Tests.Registers;
using Microsoft.Playwright;
using Npgsql;

namespace Lingyuan.Jobs.BrowserTests.Registers;

public sealed class RegisterUploadBrowserFixture : DatabaseFixture
{
    public TestServer Server { get; private set; } = null!;
    public Browser Browser { get; } = new();

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Server = await TestServer.StartAsync(this, AppRole.All);
        await Browser.InitializeAsync();
        var users = Server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("fin.browser", Roles.Finance, TestSignIn.Password, "test", CancellationToken.None);
        await users.AddAsync("clerk.browser", Roles.Inspection, TestSignIn.Password, "test", CancellationToken.None);
    }

    public override async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        await Server.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>Issue 19, done means: Chromium drives the register upload page and the holidays page as a clerk would.</summary>
public sealed class RegisterUploadBrowserTests(RegisterUploadBrowserFixture fx) : IClassFixture<RegisterUploadBrowserFixture>
{
    private static readonly string Shots = Path.Combine(TestEnv.ArtifactsDir, "registers");

    private async Task<IPage> SignInAsync(string user)
    {
        var page = await fx.Browser.NewPageAsync(fx.Server.BaseAddress);
        await Browser.SignInAsync(page, user, TestSignIn.Password, await TestSignIn.CodeAsync(fx.Server.App.Services, user));
        return page;
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var cmd = fx.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await cmd.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private static async Task ShotAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Shots);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Shots, name + ".png"), FullPage = true });
    }

    /// <summary>Uploads, reads the check, downloads the rejects, imports the valid rows, opens the register; returns what the pages showed.</summary>
    private async Task<(string[] Problems, string Counts, int RejectLines, string RegisterCount, string[] RegisterRows)> FlowAsync(IPage page, string file, string shot)
    {
        await page.GotoAsync("/hangfire/registers");
        await page.SelectOptionAsync("#upload-kind", "entitlements");
        await page.SetInputFilesAsync("#upload-file", file);
        await ShotAsync(page, shot + "-0-choose");
        await page.ClickAsync("#upload-submit");
        // The page reloads itself while the check runs (a Hangfire job), then shows its result.
        await Assertions.Expect(page.Locator("#upload-state")).ToHaveAttributeAsync("data-state", "checked", new() { Timeout = 120_000 });
        await ShotAsync(page, shot + "-1-checked");
        var problems = (await page.Locator("tr.problem").AllInnerTextsAsync()).ToArray();
        var counts = await page.Locator("#upload-counts").InnerTextAsync();

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#download-rejects"));
        var rejects = Path.Combine(Shots, shot + "-rejects.csv");
        await download.SaveAsAsync(rejects);
        var rejectLines = (await File.ReadAllLinesAsync(rejects)).Count(l => l.Length > 0) - 1;

        await page.ClickAsync("#import-valid");
        await Assertions.Expect(page.Locator("#upload-state")).ToHaveAttributeAsync("data-state", "imported", new() { Timeout = 120_000 });
        await ShotAsync(page, shot + "-2-imported");
        await page.ClickAsync("#view-register");
        await ShotAsync(page, shot + "-3-register");
        var registerCount = await page.Locator("#register-count").GetAttributeAsync("data-value") ?? "";
        var rows = (await page.Locator("tr.register-row").AllInnerTextsAsync()).Order(StringComparer.Ordinal).ToArray();
        return (problems, counts, rejectLines, registerCount, rows);
    }

    [Fact]
    public async Task Finance_uploads_entitlements_as_xlsx_and_as_csv_with_two_bad_rows_and_gets_the_same_result()
    {
        await using (var cmd = fx.DataSource.CreateCommand("TRUNCATE app.entitlements")) await cmd.ExecuteNonQueryAsync();
        var dir = Directory.CreateTempSubdirectory("lingyuan-browser-upload").FullName;
        string[] header = ["身份证号码", "待遇类别", "月发放金额", "起始月份", "终止月份", "暂停发放"];
        var rows = SpreadsheetImportFacts.EntitlementRows();
        var xlsx = SpreadsheetImportFacts.WriteXlsx(dir, "待遇名录.xlsx", header, rows);
        var csv = RegisterFiles.Write(dir, "待遇名录.csv", RegisterFiles.Csv([header, .. rows]));
        var page = await SignInAsync("fin.browser");

        var fromXlsx = await FlowAsync(page, xlsx, "entitlements-xlsx");
        Assert.Equal(2, fromXlsx.Problems.Length);
        Assert.StartsWith("3", fromXlsx.Problems[0]);
        // The page says it in Chinese, the column by its Chinese header (the rejects file keeps the CLI's English).
        Assert.Contains("身份证号码(id_number):校验位是", fromXlsx.Problems[0]);
        Assert.StartsWith("6", fromXlsx.Problems[1]);
        Assert.Contains("月发放金额(monthly_amount):“1.005”有 3 位小数,最多 2 位(到分)", fromXlsx.Problems[1]);
        Assert.Equal(2, fromXlsx.RejectLines);
        Assert.Equal("4", fromXlsx.RegisterCount);
        Assert.Equal(4, fromXlsx.RegisterRows.Length);
        Assert.Equal(4, await ScalarAsync("SELECT count(*) FROM app.entitlements"));

        await using (var cmd = fx.DataSource.CreateCommand("TRUNCATE app.entitlements")) await cmd.ExecuteNonQueryAsync();
        var fromCsv = await FlowAsync(page, csv, "entitlements-csv");
        Assert.Equal(fromXlsx.Problems, fromCsv.Problems);
        Assert.Equal(fromXlsx.Counts, fromCsv.Counts);
        Assert.Equal(fromXlsx.RejectLines, fromCsv.RejectLines);
        Assert.Equal(fromXlsx.RegisterCount, fromCsv.RegisterCount);
        // The same rows but for updated_at, which the register page does not show.
        Assert.Equal(fromXlsx.RegisterRows, fromCsv.RegisterRows);
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>A plausible calendar for any year (249 working days): New Year's Day and enough weekdays from 1 October off.</summary>
    private static List<string[]> PlausibleYear(int year)
    {
        var weekdays = Enumerable.Range(0, DateTime.IsLeapYear(year) ? 366 : 365).Select(i => new DateOnly(year, 1, 1).AddDays(i))
            .Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).ToList();
        var off = weekdays.Count - 249;
        var days = new List<DateOnly> { new(year, 1, 1) };
        days.AddRange(weekdays.Where(d => d >= new DateOnly(year, 10, 1) && d != new DateOnly(year, 1, 1)).Take(off - (weekdays.Contains(new DateOnly(year, 1, 1)) ? 1 : 0)));
        return days.Select(d => new[] { d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "holiday" }).ToList();
    }

    [Fact]
    public async Task A_clerk_uploads_next_years_holiday_calendar_and_the_year_shows_its_working_days()
    {
        var clock = fx.Server.App.Services.GetRequiredService<BureauClock>();
        var next = clock.Today.Year + 1;
        await using (var cmd = fx.DataSource.CreateCommand($"DELETE FROM app.holidays WHERE date >= make_date({next}, 1, 1)")) await cmd.ExecuteNonQueryAsync();
        var dir = Directory.CreateTempSubdirectory("lingyuan-browser-holidays").FullName;
        var calendar = PlausibleYear(next);
        var file = RegisterFiles.Write(dir, $"{next}年节假日.csv", RegisterFiles.Csv([["日期", "类型"], .. calendar]));
        var page = await SignInAsync("clerk.browser");

        await page.GotoAsync("/hangfire/holidays");
        if (clock.Today.Month >= new HolidayOptions().NextYearNoticeMonth)
            await Assertions.Expect(page.Locator(".missing-year")).ToContainTextAsync($"{next}年节假日安排尚未导入");
        await ShotAsync(page, "holidays-0-missing");
        await page.SetInputFilesAsync("#holiday-file", file);
        await page.ClickAsync("#holiday-upload-submit");
        await Assertions.Expect(page.Locator("#upload-state")).ToHaveAttributeAsync("data-state", "checked", new() { Timeout = 120_000 });
        await Assertions.Expect(page.Locator("#count-inserted")).ToHaveTextAsync(calendar.Count.ToString(CultureInfo.InvariantCulture));
        await ShotAsync(page, "holidays-1-checked");
        await page.ClickAsync("#import-all");
        await Assertions.Expect(page.Locator("#upload-state")).ToHaveAttributeAsync("data-state", "imported", new() { Timeout = 120_000 });

        await page.GotoAsync("/hangfire/holidays");
        await Assertions.Expect(page.Locator($"#year-{next} .working-days")).ToHaveAttributeAsync("data-value", "249");
        await Assertions.Expect(page.Locator(".missing-year")).ToHaveCountAsync(0);
        await ShotAsync(page, "holidays-2-loaded");

        // One more day off, typed on the page: 248 working days, still plausible, saved through the same import.
        var lastWeekday = Enumerable.Range(0, 7).Select(i => new DateOnly(next, 12, 31).AddDays(-i)).First(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday));
        await page.FillAsync("#holiday-days", $"{lastWeekday:yyyy-MM-dd} 放假");
        await page.ClickAsync("#holiday-enter-submit");
        await Assertions.Expect(page.Locator("#holiday-saved")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator($"#year-{next} .working-days")).ToHaveAttributeAsync("data-value", "248");
        // Nine more would leave 239: refused with the Chinese reason, nothing saved.
        var more = Enumerable.Range(1, 60).Select(i => new DateOnly(next, 3, 1).AddDays(i)).Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday)).Take(9);
        await page.FillAsync("#holiday-days", string.Join("\n", more.Select(d => $"{d:yyyy-MM-dd} 放假")));
        await page.ClickAsync("#holiday-enter-submit");
        await Assertions.Expect(page.Locator("#holiday-problems")).ToContainTextAsync($"{next}年将有239个工作日");
        await ShotAsync(page, "holidays-3-refused");
        Assert.Equal(calendar.Count + 1, await ScalarAsync($"SELECT count(*) FROM app.holidays WHERE date >= make_date({next}, 1, 1)"));
        Directory.Delete(dir, recursive: true);
    }
}
