using System.Text;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Registers.RegisterFiles;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>
/// The bad-input corpus (QUALITY.md, Reliability): every broken file is refused with exit 65 / BadInputException,
/// one precise line per problem, and not a single row of the register changes (table digests before and after).
/// </summary>
public sealed class ImportBadInputFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly string _dir = TempDir();
    private string _persons = "", _entitlements = "", _cards = "", _employers = "";

    public async Task InitializeAsync()
    {
        await ExecuteAsync(db, TruncateRegisters);
        await ImportAsync("persons", PersonsFile(_dir, "baseline.csv", Enumerable.Range(1, 20).Select(i => Person(i))));
        _persons = await TableHashAsync(db, "app.persons");
        _entitlements = await TableHashAsync(db, "app.entitlements");
        _cards = await TableHashAsync(db, "app.cards");
        _employers = await TableHashAsync(db, "app.employers");
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private Task<ImportResult> ImportAsync(string kind, string path, string? encoding = null) =>
        db.Services.GetRequiredService<RegisterImporter>().ImportAsync(new ImportRequest(kind, path, encoding), TextWriter.Null, CancellationToken.None);

    private async Task<IReadOnlyList<string>> RefusedAsync(string kind, string path, string? encoding = null)
    {
        var ex = await Assert.ThrowsAsync<BadInputException>(() => ImportAsync(kind, path, encoding));
        await AssertNothingChangedAsync();
        return ex.Problems;
    }

    private async Task AssertNothingChangedAsync()
    {
        Assert.Equal(_persons, await TableHashAsync(db, "app.persons"));
        Assert.Equal(_entitlements, await TableHashAsync(db, "app.entitlements"));
        Assert.Equal(_cards, await TableHashAsync(db, "app.cards"));
        Assert.Equal(_employers, await TableHashAsync(db, "app.employers"));
    }

    /// <summary>Good rows that would update and insert, so a partial import would show in the digests.</summary>
    private static IEnumerable<string[]> GoodRows() =>
        [Person(1, name: "改过的名字"), Person(2), Person(100), Person(101)];

    [Fact]
    public async Task A_wrong_id_check_character_is_named_with_the_expected_one()
    {
        var (bad, was, expected) = WrongCheck(IdNumber(102));
        var row = Person(102); row[0] = bad;
        var path = PersonsFile(_dir, "persons.csv", [.. GoodRows(), row]);
        var problems = await RefusedAsync("persons", path);
        Assert.Equal($"persons.csv:6: id_number: check character is '{was}', expected '{expected}'", problems[0]);
        Assert.Equal("persons.csv: 1 problem(s); nothing was imported / 数据有误,未导入任何记录", problems[^1]);
        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public async Task Impossible_dates_and_birth_dates_are_refused()
    {
        var r1 = Person(102); r1[9] = "2023-02-29";
        var r2 = Person(103); r2[9] = "2023-13-01";
        var r3 = Person(104); r3[9] = "01/05/2020";
        var r4 = Person(105); r4[0] = IdNumber(105, new DateOnly(1990, 1, 1)).Replace("19900101", "19900230");
        var path = PersonsFile(_dir, "persons.csv", [.. GoodRows(), r1, r2, r3, r4]);
        var problems = await RefusedAsync("persons", path);
        Assert.Equal(
        [
            "persons.csv:6: employment_since: '2023-02-29' is not a real date, expected YYYY-MM-DD",
            "persons.csv:7: employment_since: '2023-13-01' is not a real date, expected YYYY-MM-DD",
            "persons.csv:8: employment_since: '01/05/2020' is not a date, expected YYYY-MM-DD",
            "persons.csv:9: id_number: birth date '19900230' is not a real date",
        ], problems.Take(4));
    }

    [Fact]
    public async Task Negative_and_three_decimal_money_and_bad_periods_are_refused()
    {
        string[] header = ["id_number", "benefit", "monthly_amount", "start_period", "end_period", "suspended"];
        var path = Write(_dir, "entitlements.csv", Csv(
        [
            header,
            [IdNumber(1), "enterprise_pension", "3200.50", "2024-01", "", "false"],
            [IdNumber(2), "resident_pension", "-12.00", "2024-01", "", "false"],
            [IdNumber(3), "resident_pension", "12.345", "2024-01", "", "false"],
            [IdNumber(4), "resident_pension", "1,234.00", "2024-01", "", "false"],
            [IdNumber(5), "resident_pension", "200", "2024-13", "", "false"],
            [IdNumber(6), "unemployment", "1600", "2024-06", "2024-03", "false"],
        ]));
        var problems = await RefusedAsync("entitlements", path);
        Assert.Equal(
        [
            "entitlements.csv:3: monthly_amount: '-12.00' is negative, expected an amount ≥ 0 in yuan",
            "entitlements.csv:4: monthly_amount: '12.345' has 3 decimals, expected at most 2 (fen)",
            "entitlements.csv:5: monthly_amount: '1,234.00' is not an amount, expected yuan such as 1234.56 (no sign, no thousands separator)",
            "entitlements.csv:6: start_period: '2024-13' is not a period, expected YYYY-MM",
            "entitlements.csv:7: end_period: 2024-03 is before start_period 2024-06, expected the same month or later",
            "entitlements.csv: 5 problem(s); nothing was imported / 数据有误,未导入任何记录",
        ], problems);
    }

    [Fact]
    public async Task Unknown_enum_values_and_booleans_are_refused_with_the_allowed_values()
    {
        var r1 = Person(102); r1[5] = "town";
        var r2 = Person(103); r2[8] = "farmer";
        var r3 = Person(104); r3[6] = "yes";
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", [.. GoodRows(), r1, r2, r3]));
        Assert.Equal(
        [
            "persons.csv:6: hukou: 'town' is not one of urban, rural",
            "persons.csv:7: employment: 'farmer' is not one of employed, self_employed, flexible_insured, flexible_uninsured, unemployed, registered_unemployed, student, retired, other",
            "persons.csv:8: able_to_work: 'yes' is not a boolean, expected true or false",
        ], problems.Take(3));
    }

    [Fact]
    public async Task A_duplicate_natural_key_names_the_first_row()
    {
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", [.. GoodRows(), Person(2, name: "另一个")]));
        Assert.Equal("persons.csv:6: id_number: duplicate of row 3, expected each key once per file", problems[0]);
    }

    [Fact]
    public async Task A_duplicate_composite_key_is_found_and_a_differing_part_is_not_a_duplicate()
    {
        var path = Write(_dir, "life-events.csv", Csv(
        [
            ["id_number", "event", "date"],
            [IdNumber(1), "eligibility_verified", "2026-03-02"],
            [IdNumber(1), "eligibility_verified", "2025-03-02"],
            [IdNumber(1), "death", "2026-03-02"],
            [IdNumber(2), "eligibility_verified", "2026-03-02"],
            [IdNumber(1).ToLowerInvariant(), "ELIGIBILITY_VERIFIED", "2026-03-02"],
        ]));
        var problems = await RefusedAsync("life-events", path);
        Assert.Equal(["life-events.csv:6: id_number+event+date: duplicate of row 2, expected each key once per file", "life-events.csv: 1 problem(s); nothing was imported / 数据有误,未导入任何记录"], problems);
    }

    [Fact]
    public async Task A_truncated_row_is_refused_with_its_field_count()
    {
        var truncated = Person(102)[..7];
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", [.. GoodRows(), truncated]));
        Assert.Equal("persons.csv:6: row: has 7 fields, expected 11 as in the header (truncated or unquoted comma?)", problems[0]);
    }

    [Fact]
    public async Task An_over_long_line_is_refused_without_reading_it_whole()
    {
        var path = Path.Combine(_dir, "persons.csv");
        await using (var w = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            await w.WriteAsync(Csv([PersonsHeader, .. GoodRows()]));
            for (var i = 0; i < 64; i++) await w.WriteAsync(new string('x', 1 << 17)); // an 8 MiB line
            await w.WriteAsync("\r\n" + Csv([Person(102)]));
        }
        var problems = await RefusedAsync("persons", path);
        Assert.Equal($"persons.csv:6: line: is longer than {RegisterImporter.MaxRecordChars:N0} characters, expected a register row of a few hundred", problems[0]);
    }

    [Fact]
    public async Task An_over_long_header_or_first_row_is_pinned_to_its_row()
    {
        var header = Write(_dir, "header.csv", string.Join(',', PersonsHeader) + new string('x', 100_000) + "\r\n" + Csv(GoodRows()));
        Assert.Equal([$"header.csv:1: header: the line is longer than {RegisterImporter.MaxRecordChars:N0} characters, expected a header of column names"],
            await RefusedAsync("persons", header));
        var first = Write(_dir, "first.csv", Csv([PersonsHeader]) + new string('x', 100_000) + "\r\n" + Csv(GoodRows()));
        Assert.Equal([$"first.csv:2: line: is longer than {RegisterImporter.MaxRecordChars:N0} characters, expected a register row of a few hundred"],
            await RefusedAsync("persons", first));
    }

    [Fact]
    public async Task Formula_sql_and_html_in_names_do_not_rescue_a_file_with_a_bad_row()
    {
        var bad = Person(105); bad[5] = "town";
        var rows = new[] { Person(102, "=cmd|' /C calc'!A0"), Person(103, "Robert'); DROP TABLE app.persons;--"), Person(104, "<script>alert(1)</script>"), bad };
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", [.. GoodRows(), .. rows]));
        Assert.Equal(["persons.csv:9: hukou: 'town' is not one of urban, rural", "persons.csv: 1 problem(s); nothing was imported / 数据有误,未导入任何记录"], problems);
    }

    [Fact]
    public async Task A_control_character_in_a_name_is_refused()
    {
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", [.. GoodRows(), Person(102, "张\0三")]));
        Assert.Equal("persons.csv:6: name: contains the control character U+0000, expected printable text", problems[0]);
    }

    [Fact]
    public async Task Bad_uscc_and_bank_account_check_characters_are_named()
    {
        var uscc = Uscc(7);
        var wrong = uscc[17] == '3' ? 'L' : '3';
        string[] employerHeader = ["uscc", "name", "street", "community", "industry", "risk_class", "migrant_workers", "email", "legal_rep_name", "legal_rep_id_number", "abnormal"];
        var employers = Write(_dir, "employers.csv", Csv(
        [
            employerHeader,
            [Uscc(1), "凌源市甲公司", "城关街道", "和平社区", "建筑业", "B", "12", "a@x.test", "张三", IdNumber(1), "false"],
            [uscc[..17] + wrong, "凌源市乙公司", "城关街道", "和平社区", "建筑业", "E", "-3", "not-an-email", "李四", IdNumber(2), "false"],
            [Uscc(3).Replace("MA", "MO"), "凌源市丙公司", "城关街道", "和平社区", "建筑业", "A", "1", "", "王五", IdNumber(3), "false"],
        ]));
        var problems = await RefusedAsync("employers", employers);
        Assert.Equal(
        [
            $"employers.csv:3: uscc: check character is '{wrong}', expected '{uscc[17]}'",
            "employers.csv:3: risk_class: 'E' is not one of A, B, C, D",
            "employers.csv:3: migrant_workers: '-3' is negative, expected a whole number ≥ 0",
            "employers.csv:3: email: is not an e-mail address, expected name@domain",
            "employers.csv:4: uscc: character 10 is 'O', expected one of 0123456789ABCDEFGHJKLMNPQRTUWXY",
        ], problems.Take(5));

        var account = BankAccount(42);
        var badDigit = (char)('0' + (account[^1] - '0' + 1) % 10);
        var cards = Write(_dir, "cards.csv", Csv(
        [
            ["id_number", "card_no", "bank_code", "bank_account", "financial_status"],
            [IdNumber(1), "LY000000001", "CCB", BankAccount(41), "active"],
            [IdNumber(2), "LY000000002", "CCB", account[..^1] + badDigit, "active"],
            [IdNumber(3), "LY000000003", "CCB", "62170012345", "closed"],
        ]));
        problems = await RefusedAsync("cards", cards);
        Assert.Equal(
        [
            $"cards.csv:3: bank_account: Luhn check digit is '{badDigit}', expected '{account[^1]}'",
            "cards.csv:4: bank_account: has 11 characters, expected 16-19 digits",
            "cards.csv:4: financial_status: 'closed' is not one of active, inactive, frozen, lost",
        ], problems.Take(3));
    }

    [Fact]
    public async Task More_than_two_hundred_problems_are_counted_not_listed()
    {
        var rows = Enumerable.Range(1000, 250).Select(i => { var r = Person(i); r[5] = "x"; return r; });
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", rows));
        Assert.Equal(RegisterImporter.MaxListedProblems + 2, problems.Count);
        Assert.Equal("persons.csv: … and 50 more problems (250 in all)", problems[^2]);
    }

    [Fact]
    public async Task A_header_typo_names_the_missing_column_and_what_was_found_on_the_command_line()
    {
        var header = PersonsHeader.Select(h => h == "household_no" ? "houshold_no" : h).ToArray();
        var path = Write(_dir, "persons.csv", Csv([header, .. GoodRows()]));
        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path}");
        Assert.Equal(ExitCodes.BadData, code);
        Assert.Contains(
            "persons.csv:1: header: missing column 'household_no' (is 'houshold_no' a typo?), found: id_number, name, houshold_no, street, community, hukou, able_to_work, wants_work, employment, employment_since, business_income",
            output);
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task A_bad_row_on_the_command_line_exits_65_with_its_line()
    {
        var (bad, was, expected) = WrongCheck(IdNumber(102));
        var row = Person(102); row[0] = bad;
        var path = PersonsFile(_dir, "persons.csv", [.. GoodRows(), row]);
        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path}");
        Assert.Equal(ExitCodes.BadData, code);
        Assert.Contains($"persons.csv:6: id_number: check character is '{was}', expected '{expected}'", output);
        Assert.DoesNotContain(bad, output); // the ID number itself is personal data
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task A_wrongly_forced_encoding_and_an_unknown_encoding_are_refused_on_the_command_line()
    {
        var gb = PersonsFile(_dir, "gb.csv", GoodRows(), RegisterFileEncoding.Gb18030Strict);
        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {gb} --encoding utf-8");
        Assert.Equal(ExitCodes.BadData, code);
        Assert.Contains("gb.csv:2: encoding: byte", output);
        Assert.Contains("is not valid UTF-8 though --encoding utf-8 was given", output);

        var utf8 = PersonsFile(_dir, "utf8.csv", GoodRows(), new UTF8Encoding(true));
        (code, output) = await ServiceProcess.RunAsync(db, $"import persons {utf8} --encoding gb18030");
        Assert.Equal(ExitCodes.BadData, code);
        Assert.Contains("utf8.csv:1: encoding: the file starts with a UTF-8 BOM though --encoding gb18030 was given", output);

        var neither = Path.Combine(_dir, "neither.csv");
        await File.WriteAllBytesAsync(neither, [.. Encoding.ASCII.GetBytes(Csv([PersonsHeader, Person(102)])), 0xFF, 0xFF, 0x0D, 0x0A]);
        (code, output) = await ServiceProcess.RunAsync(db, $"import persons {neither}");
        Assert.Equal(ExitCodes.BadData, code);
        Assert.Contains("neither.csv:3: encoding: the file is neither UTF-8", output);
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task Accept_valid_without_rejects_is_a_usage_error()
    {
        var path = PersonsFile(_dir, "persons.csv", GoodRows());
        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path} --accept-valid");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains("--accept-valid and --rejects OUT.csv go together", output);
        await AssertNothingChangedAsync();
    }

    // Issue 14, finding 10: every malformed file is refused cleanly (exit 65, FILE:LINE: problem, no exception
    // names, no personal data in the lines); finding 9 for the rejects file.

    private static void AssertClean(string output)
    {
        Assert.DoesNotContain("Exception", output);
        Assert.DoesNotContain("   at ", output);
        Assert.DoesNotContain("error / 错误:", output); // the catch-all of unexpected failures
    }

    [Fact]
    public async Task Finding10_cr_only_line_ends_are_read()
    {
        try
        {
            // Inspectors, a small register without a whole-file rule (a holidays file must now hold a plausible year, issue 19).
            foreach (var (name, eol, n) in new[] { ("cr.csv", "\r", 1), ("lf.csv", "\n", 2), ("crlf.csv", "\r\n", 3) })
            {
                var text = string.Join(eol, "badge_no,name,email,unit,street,active",
                    $"EOL-{n}-1,甲,a{n}@lingyuan-demo.test,监察大队,城关街道,true",
                    $"EOL-{n}-2,乙,b{n}@lingyuan-demo.test,监察大队,城关街道,true",
                    $"EOL-{n}-3,丙,c{n}@lingyuan-demo.test,监察大队,城关街道,false") + eol;
                var result = await ImportAsync("inspectors", Write(_dir, name, text));
                Assert.True(result.Rows == 3 && result.Inserted == 3, $"{name}: {result}");
                Assert.Equal(3, await CountAsync(db, $"SELECT count(*) FROM app.inspectors WHERE badge_no LIKE 'EOL-{n}-%'"));
                Assert.Equal(1, await CountAsync(db, $"SELECT count(*) FROM app.inspectors WHERE badge_no = 'EOL-{n}-3' AND NOT active"));
            }
            // A CR-only persons file with a bad row is refused on the right line.
            var bad = Person(102); bad[5] = "town";
            var cr = Write(_dir, "persons-cr.csv", Csv([PersonsHeader, .. GoodRows(), bad]).Replace("\r\n", "\r", StringComparison.Ordinal));
            Assert.Equal("persons-cr.csv:6: hukou: 'town' is not one of urban, rural", (await RefusedAsync("persons", cr))[0]);
        }
        finally
        {
            await ExecuteAsync(db, "DELETE FROM app.inspectors WHERE badge_no LIKE 'EOL-%'");
        }
    }

    [Fact]
    public async Task Finding10_an_empty_a_bom_only_or_an_unterminated_quote_file_exits_65_with_its_line()
    {
        var empty = Write(_dir, "empty.csv", "");
        var bom = Path.Combine(_dir, "bom.csv");
        await File.WriteAllBytesAsync(bom, [0xEF, 0xBB, 0xBF]);
        var blank = Write(_dir, "blank.csv", "\r\n\r\n");
        var openRow = Write(_dir, "open-row.csv", Csv([PersonsHeader, .. GoodRows()]) + string.Join(',', Person(102)).Replace("测试102", "\"测试102", StringComparison.Ordinal) + "\r\n");
        var openHeader = Write(_dir, "open-header.csv", "id_number,\"name,household_no\r\n" + Csv(GoodRows()));
        var afterQuote = Write(_dir, "after-quote.csv", Csv([PersonsHeader, .. GoodRows()]) + string.Join(',', Person(102)).Replace("测试102", "\"测试\"102", StringComparison.Ordinal) + "\r\n");
        foreach (var (path, expected) in new[]
                 {
                     (empty, "empty.csv:1: header: the file is empty, expected a header row of column names / 文件为空"),
                     (bom, "bom.csv:1: header: the file is empty, expected a header row of column names / 文件为空"),
                     (blank, "blank.csv:1: header: the line is empty, expected a header row of column names / 首行为空"),
                     (openRow, "open-row.csv:6: row: a quoted field is not closed before the end of the file, expected quotes in pairs / 引号未闭合"),
                     (openHeader, "open-header.csv:1: header: a quoted field is not closed before the end of the file, expected quotes in pairs / 引号未闭合"),
                     (afterQuote, "after-quote.csv:6: row: text follows a closing quote, expected a comma or the end of the line after it / 引号后有多余字符"),
                 })
        {
            var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path}");
            Assert.True(code == ExitCodes.BadData, $"{path}: {code} {output}");
            Assert.Contains(expected, output);
            AssertClean(output);
        }
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task Finding10_a_persons_file_without_its_header_row_prints_no_personal_data()
    {
        var rows = GoodRows().ToList();
        var path = Write(_dir, "persons.csv", Csv(rows));
        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path}");
        Assert.Equal(ExitCodes.BadData, code);
        Assert.Contains("persons.csv:1: header: the first line is not a header row (none of its 11 fields is a column name; is the header row missing?), expected: id_number, name, household_no", output);
        foreach (var row in rows)
        {
            Assert.DoesNotContain(row[0], output); // ID number
            Assert.DoesNotContain(row[1], output); // name
        }
        AssertClean(output);
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task Finding10_error_lines_mask_id_numbers_accounts_and_phones()
    {
        // Columns shifted by a hand edit: an ID number, an account and a phone land where an enum or a code is expected.
        var r1 = Person(102); r1[5] = IdNumber(7);
        var r2 = Person(103); r2[8] = BankAccount(42);
        var r3 = Person(104); r3[2] = "电话13812345678";
        var r4 = Person(105); r4[0] = IdNumber(9)[..17] + "Y";
        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {PersonsFile(_dir, "persons.csv", [.. GoodRows(), r1, r2, r3, r4])}");
        Assert.Equal(ExitCodes.BadData, code);
        var maskedId = Lingyuan.Jobs.Registers.IdNumber.Mask(IdNumber(7));
        var maskedAccount = Lingyuan.Jobs.Registers.BankAccount.Mask(BankAccount(42));
        Assert.Contains($"persons.csv:6: hukou: '{maskedId}' is not one of urban, rural", output);
        Assert.Contains($"persons.csv:7: employment: '{maskedAccount}' is not one of", output);
        Assert.Contains("persons.csv:8: household_no: contains '电', expected letters", output);
        Assert.Contains("persons.csv:9: id_number: check character is 'Y', expected a digit or X", output);
        foreach (var secret in new[] { IdNumber(7), BankAccount(42), "13812345678", IdNumber(9)[..17] })
            Assert.DoesNotContain(secret, output);
        Assert.Equal("138****5678", Fields.Clip("13812345678"));
        Assert.Equal("10004919962.731", Fields.Clip("10004919962.731")); // an amount is not a personal number
        AssertClean(output);
        await AssertNothingChangedAsync();
    }

    [Fact]
    public async Task Finding10_monthly_amount_above_one_million_is_refused()
    {
        string[] header = ["id_number", "benefit", "monthly_amount", "start_period", "end_period", "suspended"];
        var path = Write(_dir, "entitlements.csv", Csv(
        [
            header,
            [IdNumber(1), "enterprise_pension", "1000000.00", "2024-01", "", "false"],
            [IdNumber(2), "resident_pension", "1000000.99", "2024-01", "", "false"],
            [IdNumber(3), "resident_pension", "1000000.01", "2024-01", "", "false"],
            [IdNumber(4), "resident_pension", "999999.99", "2024-01", "", "false"],
        ]));
        Assert.Equal(
        [
            "entitlements.csv:3: monthly_amount: '1000000.99' is too large, expected at most 1000000 yuan",
            "entitlements.csv:4: monthly_amount: '1000000.01' is too large, expected at most 1000000 yuan",
            "entitlements.csv: 2 problem(s); nothing was imported / 数据有误,未导入任何记录",
        ], await RefusedAsync("entitlements", path));
    }

    [Fact]
    public async Task Finding10_birth_dates_before_1900_or_after_the_import_clock_are_refused()
    {
        // The import's own clock (injected), not the machine's: on 2030-06-15 someone born 2030-06-01 exists, 2030-07-01 not yet.
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2030, 6, 15, 12, 0, 0, TimeSpan.Zero));
        var bureau = new Lingyuan.Jobs.Calendar.BureauClock(clock, db.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<JobsOptions>>());
        var importer = new RegisterImporter(db.Services.GetRequiredService<Lingyuan.Jobs.Database.Work>(), db.Services.GetRequiredService<ImportKinds>(), bureau);
        Task<ImportResult> Import(string path) => importer.ImportAsync(new ImportRequest("persons", path), TextWriter.Null, CancellationToken.None);

        var old = Person(102); old[0] = IdNumber(102, new DateOnly(1800, 1, 1));
        var edge = Person(103); edge[0] = IdNumber(103, new DateOnly(1899, 12, 31));
        var future = Person(104); future[0] = IdNumber(104, new DateOnly(2030, 7, 1));
        var ex = await Assert.ThrowsAsync<BadInputException>(() => Import(PersonsFile(_dir, "persons.csv", [.. GoodRows(), old, edge, future])));
        Assert.Equal(
        [
            "persons.csv:6: id_number: birth date 1800-01-01 is before 1900-01-01, expected a birth date in the register's range",
            "persons.csv:7: id_number: birth date 1899-12-31 is before 1900-01-01, expected a birth date in the register's range",
            "persons.csv:8: id_number: birth date 2030-07-01 is in the future",
        ], ex.Problems.Take(3));
        await AssertNothingChangedAsync();

        var first = Person(105); first[0] = IdNumber(105, new DateOnly(1900, 1, 1));
        var baby = Person(106); baby[0] = IdNumber(106, new DateOnly(2030, 6, 1));
        var ok = await Import(PersonsFile(_dir, "ok.csv", [first, baby]));
        Assert.Equal(2, ok.Inserted);
    }

    [Fact]
    public async Task Finding10_invisible_only_and_bidi_control_names_are_refused()
    {
        var rows = new[]
        {
            Person(102, "\u200B"), Person(103, "\u200B\u200C \u200D\uFEFF\u2060"), Person(104, "张\u202E三"), Person(105, "\u2066李四\u2069"),
            Person(106, "王\u202A五"), Person(107, "赵\u200B六"), // a zero-width space inside a visible name is kept as the source wrote it
        };
        var problems = await RefusedAsync("persons", PersonsFile(_dir, "persons.csv", [.. GoodRows(), .. rows]));
        Assert.Equal(
        [
            "persons.csv:6: name: has only invisible characters, expected visible text",
            "persons.csv:7: name: has only invisible characters, expected visible text",
            "persons.csv:8: name: contains the bidirectional control U+202E, expected plain text",
            "persons.csv:9: name: contains the bidirectional control U+2066, expected plain text",
            "persons.csv:10: name: contains the bidirectional control U+202A, expected plain text",
            "persons.csv: 5 problem(s); nothing was imported / 数据有误,未导入任何记录",
        ], problems);
    }

    [Fact]
    public async Task Finding9_the_rejects_file_is_written_safely()
    {
        var bad = Person(102); bad[5] = "town";
        var path = PersonsFile(_dir, "persons.csv", [.. GoodRows(), bad]);
        var rejects = Path.Combine(_dir, "rejects.csv");
        await File.WriteAllTextAsync(rejects, "last week's rejects");
        await File.WriteAllTextAsync(rejects + ".partial", "not ours");
        var link = Path.Combine(_dir, "link.csv");
        File.CreateSymbolicLink(link, path);

        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path} --accept-valid --rejects {rejects}");
        Assert.Equal(ExitCodes.Usage, code);
        Assert.Contains($"--rejects {rejects}: the file exists; add --force to replace it / 文件已存在,如需覆盖请加 --force", output);
        Assert.Equal("last week's rejects", await File.ReadAllTextAsync(rejects));
        await AssertNothingChangedAsync(); // refused before anything was imported

        foreach (var (target, says) in new[] { (link, "is a symbolic link"), (_dir, "is a directory"), ("/dev/null", "is a device") })
        {
            (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path} --accept-valid --rejects {target} --force");
            Assert.True(code == ExitCodes.Usage, $"{target}: {code} {output}");
            Assert.Contains(says, output);
            await AssertNothingChangedAsync();
        }
        Assert.Equal("symbolic link", new FileInfo(link).LinkTarget is null ? "file" : "symbolic link");
        Assert.Equal(Csv([PersonsHeader, .. GoodRows(), bad]), await File.ReadAllTextAsync(path));

        (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path} --accept-valid --rejects {rejects} --force");
        Assert.True(code == ExitCodes.Ok, output);
        Assert.Contains("town", await File.ReadAllTextAsync(rejects));
        Assert.Equal("not ours", await File.ReadAllTextAsync(rejects + ".partial"));
        Assert.Empty(Directory.GetFiles(_dir, ".*"));

        var (help, text) = await ServiceProcess.RunAsync(db, "import --help");
        Assert.Equal(0, help);
        Assert.Contains("--force", text);
    }
}
