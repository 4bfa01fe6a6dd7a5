using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Registers.Upload;
using Lingyuan.Jobs.Tests.Infrastructure;
using MiniExcelLibs;
using static Lingyuan.Jobs.Tests.Registers.RegisterFiles;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>Issue 19: register files as Excel workbooks, Chinese headers, problems with masked keys, templates, and the holidays year check.</summary>
public sealed class SpreadsheetImportFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly string _dir = TempDir();

    public Task InitializeAsync() => ExecuteAsync(db, TruncateRegisters + "; DELETE FROM app.holidays WHERE date >= '2027-01-01'");

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private Task<ImportResult> ImportAsync(string kind, string path, bool dryRun = false, string? rejects = null) =>
        db.Services.GetRequiredService<RegisterImporter>().ImportAsync(
            new ImportRequest(kind, path, DryRun: dryRun, RejectsPath: rejects, Actor: "test"), TextWriter.Null, CancellationToken.None);

    private static readonly string[] EntitlementsZh = ["身份证号码", "待遇类别", "月发放金额", "起始月份", "终止月份", "暂停发放"];

    /// <summary>Six entitlements, rows 3 and 6 bad: a wrong ID check character and an amount with three decimals.</summary>
    public static string[][] EntitlementRows()
    {
        var (badId, _, _) = WrongCheck(IdNumber(2));
        return
        [
            [IdNumber(1), "resident_pension", "233.00", "2026-01", "", "false"],
            [badId, "resident_pension", "233.00", "2026-01", "", "false"],
            [IdNumber(3), "enterprise_pension", "3200.50", "2025-07", "", "false"],
            [IdNumber(4), "work_injury", "1800", "2026-02", "2026-12", "true"],
            [IdNumber(5), "unemployment", "1.005", "2026-03", "", "false"],
            [IdNumber(6), "survivor_allowance", "950.10", "2026-01", "", "false"],
        ];
    }

    public static string WriteXlsx(string dir, string name, string[] header, IEnumerable<string[]> rows)
    {
        var path = Path.Combine(dir, name);
        var sheet = rows.Select(r => header.Select((h, i) => (h, v: (object?)r[i])).ToDictionary(p => p.h, p => p.v)).ToList();
        MiniExcel.SaveAs(path, sheet);
        return path;
    }

    [Fact]
    public async Task An_xlsx_file_with_chinese_headers_gives_the_same_counts_and_problems_as_its_csv_twin()
    {
        var rows = EntitlementRows();
        var xlsx = WriteXlsx(_dir, "待遇.xlsx", EntitlementsZh, rows);
        var csv = Write(_dir, "待遇.csv", Csv([EntitlementsZh, .. rows]));

        var fromXlsx = await ImportAsync("entitlements", xlsx, dryRun: true, rejects: Path.Combine(_dir, "x-rejects.csv"));
        var fromCsv = await ImportAsync("entitlements", csv, dryRun: true, rejects: Path.Combine(_dir, "c-rejects.csv"));

        Assert.Equal((6L, 4L, 0L, 0L, 2L), (fromXlsx.Rows, fromXlsx.Inserted, fromXlsx.Updated, fromXlsx.Unchanged, fromXlsx.Rejected));
        Assert.Equal((fromCsv.Rows, fromCsv.Inserted, fromCsv.Rejected), (fromXlsx.Rows, fromXlsx.Inserted, fromXlsx.Rejected));
        Assert.Equal(fromCsv.Listed.Select(p => (p.Row, p.Key, p.Problem)), fromXlsx.Listed.Select(p => (p.Row, p.Key, p.Problem)));
        // Rows as Excel numbers them (the header is row 1), the key masked, the problem as the CLI prints it.
        Assert.Equal([3, 6], fromXlsx.Listed.Select(p => p.Row));
        Assert.Equal(Lingyuan.Jobs.Registers.IdNumber.Mask(WrongCheck(IdNumber(2)).Bad) + " + resident_pension", fromXlsx.Listed[0].Key);
        Assert.StartsWith("id_number: check character is", fromXlsx.Listed[0].Problem);
        Assert.StartsWith("monthly_amount: '1.005' has 3 decimals", fromXlsx.Listed[1].Problem);
        Assert.DoesNotContain(fromXlsx.Listed, p => p.Key.Contains(IdNumber(5), StringComparison.Ordinal));
        Assert.Equal(["待遇.xlsx:3: " + fromXlsx.Listed[0].Problem, "待遇.xlsx:6: " + fromXlsx.Listed[1].Problem], fromXlsx.Problems);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM app.entitlements"));

        // Imported for real (valid rows only), the amounts are the same fen whichever file.
        var imported = await ImportAsync("entitlements", xlsx, rejects: Path.Combine(_dir, "rejects.csv"));
        Assert.Equal((4L, 2L), (imported.Inserted, imported.Rejected));
        var amounts = (await db.DataSource.OpenConnection().QueryAsync<long>("SELECT monthly_amount_fen FROM app.entitlements ORDER BY benefit")).ToArray();
        Assert.Equal(new long[] { 320_050, 23_300, 95_010, 180_000 }, amounts);
        var rejectsText = await File.ReadAllTextAsync(Path.Combine(_dir, "rejects.csv"));
        Assert.Contains(WrongCheck(IdNumber(2)).Bad, rejectsText); // the operator fixes the rows in their own file
        Assert.Contains("1.005", rejectsText);
    }

    [Fact]
    public async Task Excel_cells_typed_as_numbers_dates_and_booleans_come_back_as_the_text_the_rules_expect()
    {
        var path = Path.Combine(_dir, "typed.xlsx");
        MiniExcel.SaveAs(path, new[]
        {
            new Dictionary<string, object?>
            {
                ["id_number"] = IdNumber(7), ["event"] = "eligibility_verified", ["date"] = new DateTime(2026, 3, 2),
            },
        });
        var events = await ImportAsync("life-events", path);
        Assert.Equal(1, events.Inserted);
        Assert.Equal(new DateTime(2026, 3, 2), await db.DataSource.OpenConnection().ExecuteScalarAsync<DateTime>("SELECT date FROM app.life_events"));

        var inspectors = Path.Combine(_dir, "inspectors.xlsx");
        MiniExcel.SaveAs(inspectors, new[]
        {
            new Dictionary<string, object?> { ["执法证号"] = "LY-1", ["姓名"] = "甲, 乙", ["电子邮箱"] = "a@lingyuan-demo.test", ["单位"] = "大队", ["街道"] = "城关街道", ["在岗"] = true },
            new Dictionary<string, object?> { ["执法证号"] = "LY-2", ["姓名"] = "丙\"丁\"", ["电子邮箱"] = "b@lingyuan-demo.test", ["单位"] = "大队", ["街道"] = "城关街道", ["在岗"] = false },
        });
        Assert.Equal(2, (await ImportAsync("inspectors", inspectors)).Inserted);
        Assert.Equal([("LY-1", "甲, 乙", true), ("LY-2", "丙\"丁\"", false)],
            await db.DataSource.OpenConnection().QueryAsync<(string, string, bool)>("SELECT badge_no, name, active FROM app.inspectors ORDER BY badge_no"));
    }

    [Fact]
    public async Task A_missing_column_is_named_in_english_and_chinese()
    {
        var path = Write(_dir, "cards.csv", Csv([["身份证号码", "社保卡号", "银行代码", "银行账号"], [IdNumber(1), "C1", "CCB", BankAccount(1)]]));
        var ex = await Assert.ThrowsAsync<BadInputException>(() => ImportAsync("cards", path));
        Assert.StartsWith("cards.csv:1: header: missing column 'financial_status', found: 身份证号码, 社保卡号, 银行代码, 银行账号", ex.Problems[0]);
        Assert.EndsWith(" / 缺少列:金融账户状态(financial_status)", ex.Problems[0]);
    }

    [Fact]
    public async Task Every_template_has_the_chinese_headers_and_an_example_row_that_passes_the_rules()
    {
        var kinds = db.Services.GetRequiredService<ImportKinds>();
        foreach (var form in RegisterForms.All)
        {
            var kind = kinds.Find(form.Kind)!;
            await using var stream = await RegisterTemplates.XlsxAsync(kind, form, CancellationToken.None);
            var path = Path.Combine(_dir, $"{form.Kind}-template.xlsx");
            await File.WriteAllBytesAsync(path, stream.ToArray());
            var header = ((IDictionary<string, object?>)MiniExcel.Query(path, useHeaderRow: false).First()).Values.Select(v => v?.ToString()).ToList();
            Assert.Equal(kind.Columns.Select(c => c.Chinese ?? c.Name), header);
            if (form.Kind == "holidays")
            {
                // One example day is not a year: the year check refuses it, and says why in Chinese.
                var refused = await Assert.ThrowsAsync<BadInputException>(() => ImportAsync(form.Kind, path, dryRun: true));
                Assert.Contains("2027年将有", refused.Problems[0]);
                continue;
            }
            ImportResult result;
            try { result = await ImportAsync(form.Kind, path, dryRun: true); }
            catch (BadInputException e) { throw new Xunit.Sdk.XunitException($"{form.Kind}: {string.Join(" | ", e.Problems)}"); }
            Assert.True(result.Rows == 1 && result.Inserted == 1 && result.Rejected == 0, $"{form.Kind}: {result}");
        }
    }

    [Fact]
    public async Task A_holiday_calendar_that_leaves_a_year_with_an_implausible_number_of_working_days_is_refused_whole()
    {
        var half = Write(_dir, "2027-half.csv", Csv([["日期", "类型"], .. Holidays2027.Take(10)]));
        var ex = await Assert.ThrowsAsync<BadInputException>(() => ImportAsync("holidays", half));
        var o = new HolidayOptions();
        Assert.StartsWith($"2027-half.csv: 2027: working days: the year would have 254 working days, expected between {o.MinWorkingDays} and {o.MaxWorkingDays} / 2027年将有254个工作日", ex.Problems[0]);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM app.holidays WHERE date >= '2027-01-01'"));

        // Kinds swapped (workdays entered as holidays and the other way round): too few working days, refused too.
        var swapped = Write(_dir, "2027-swapped.csv", Csv([["date", "kind"], .. Holidays2027.Select(r => new[] { r[0], r[1] == "holiday" ? "workday" : "holiday" })]));
        Assert.Contains("2027年将有", (await Assert.ThrowsAsync<BadInputException>(() => ImportAsync("holidays", swapped))).Problems[0]);

        var whole = Write(_dir, "2027.csv", Csv([["date", "kind"], .. Holidays2027]));
        Assert.Equal(31, (await ImportAsync("holidays", whole)).Inserted);
        var years = await db.Services.GetRequiredService<HolidayCalendar>().YearsAsync(CancellationToken.None);
        Assert.Equal(new CalendarYear(2027, 25, 6, 249), years.Single(y => y.Year == 2027));
        Assert.Equal(248, years.Single(y => y.Year == 2026).WorkingDays); // as shipped (国务院办公厅 2025-11-04)
    }
}
