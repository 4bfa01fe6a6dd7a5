using System.Text;
using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Registers.RegisterFiles;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>Imports that succeed: encodings, idempotent re-import, audited updates, --accept-valid, --dry-run, holidays.</summary>
public sealed class ImportFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly string _dir = TempDir();

    public Task InitializeAsync() => ExecuteAsync(db, TruncateRegisters);

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    private Task<ImportResult> ImportAsync(string kind, string path, bool dryRun = false, string? rejects = null) =>
        db.Services.GetRequiredService<RegisterImporter>().ImportAsync(
            new ImportRequest(kind, path, DryRun: dryRun, RejectsPath: rejects, Actor: "test"), TextWriter.Null, CancellationToken.None);

    public static TheoryData<string> Encodings() => ["utf-8", "utf-8-bom", "gb18030"];

    [Theory]
    [MemberData(nameof(Encodings))]
    public async Task A_file_in_each_accepted_encoding_is_detected_and_stored_as_unicode(string encoding)
    {
        Encoding enc = encoding switch
        {
            "utf-8" => new UTF8Encoding(false),
            "utf-8-bom" => new UTF8Encoding(true),
            _ => RegisterFileEncoding.Gb18030Strict,
        };
        var path = PersonsFile(_dir, $"persons-{encoding}.csv", [Person(1, "凌源张三"), Person(2, "热水汤李四")], enc);
        if (encoding == "gb18030") Assert.Throws<DecoderFallbackException>(() => RegisterFileEncoding.Utf8Strict.GetString(File.ReadAllBytes(path)));

        var result = await ImportAsync("persons", path);

        Assert.Equal((2L, 2L, 0L, 0L), (result.Rows, result.Inserted, result.Updated, result.Unchanged));
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var names = await conn.QueryAsync<string>("SELECT name FROM app.persons ORDER BY name");
        Assert.Equal(["凌源张三", "热水汤李四"], names.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_first_load_copied_straight_into_the_empty_register_stores_what_the_staged_upsert_stores()
    {
        // Into an empty register the rows are copied straight in; into one that has rows they are staged and
        // inserted by the upsert. Both must leave the same rows (generated columns included).
        var path = PersonsFile(_dir, $"first-load-{Guid.NewGuid():N}.csv", Enumerable.Range(1, 40).Select(i => Person(i)));
        const string rows = "SELECT string_agg(p::text, E'\\n' ORDER BY id_number) FROM (SELECT * FROM app.persons WHERE id_number <> @other) p";
        var other = IdNumber(99);
        var direct = await ImportAsync("persons", path);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var columns = await conn.QuerySingleAsync<string>("SELECT string_agg(column_name, ', ' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 'persons' AND column_name <> 'updated_at'");
        var query = rows.Replace("SELECT *", $"SELECT {columns}");
        var copied = await conn.QuerySingleAsync<string>(query, new { other });

        await ExecuteAsync(db, TruncateRegisters);
        await ImportAsync("persons", PersonsFile(_dir, "other.csv", [Person(99)]));
        var staged = await ImportAsync("persons", path);

        Assert.Equal((40L, 40L), (direct.Inserted, staged.Inserted));
        Assert.Equal(copied, await conn.QuerySingleAsync<string>(query, new { other }));
        // The audit record of the import is written on either path.
        Assert.Equal(2, await CountAsync(db, $"SELECT count(*) FROM app.audit_log WHERE action = 'import' AND details LIKE '{Path.GetFileName(path)}: 40 rows, 40 inserted, 0 updated, 0 unchanged%'"));
    }

    [Fact]
    public async Task Re_importing_the_same_file_changes_nothing()
    {
        var path = PersonsFile(_dir, "persons.csv", Enumerable.Range(1, 50).Select(i => Person(i)));
        var first = await ImportAsync("persons", path);
        var hash = await TableHashAsync(db, "app.persons");
        var audits = await CountAsync(db, "SELECT count(*) FROM app.audit_log WHERE action = 'import.update'");

        var again = await ImportAsync("persons", path);

        Assert.Equal((50L, 0L), (first.Inserted, first.Updated));
        Assert.Equal((0L, 0L, 50L), (again.Inserted, again.Updated, again.Unchanged));
        Assert.Equal(hash, await TableHashAsync(db, "app.persons")); // not even updated_at moved
        Assert.Equal(audits, await CountAsync(db, "SELECT count(*) FROM app.audit_log WHERE action = 'import.update'"));
    }

    [Fact]
    public async Task A_changed_row_is_updated_in_place_and_audited_with_before_and_after()
    {
        await ImportAsync("persons", PersonsFile(_dir, "v1.csv", [Person(1), Person(2), Person(3)]));
        var changed = Person(2, "新名字"); changed[5] = "rural"; changed[8] = "retired"; changed[9] = "";
        var result = await ImportAsync("persons", PersonsFile(_dir, "v2.csv", [Person(1), changed, Person(3), Person(4)]));

        Assert.Equal((1L, 1L, 2L), (result.Inserted, result.Updated, result.Unchanged));
        await using var conn = await db.DataSource.OpenConnectionAsync();
        var audit = await conn.QuerySingleAsync<(string Actor, string SubjectId, string Before, string After, string Details)>(
            "SELECT actor, subject_id, before::text, after::text, details FROM app.audit_log WHERE action = 'import.update'");
        Assert.Equal(("test", IdNumber(2), "v2.csv"), (audit.Actor, audit.SubjectId, audit.Details));
        Assert.Contains("\"name\": \"测试2\"", audit.Before);
        Assert.Contains("\"employment_since\": \"2020-05-01\"", audit.Before);
        Assert.Contains("\"name\": \"新名字\"", audit.After);
        Assert.Contains("\"employment\": \"retired\"", audit.After);
        Assert.Contains("\"employment_since\": null", audit.After);
        var stored = await conn.QuerySingleAsync<(string Name, string Employment)>("SELECT name, employment FROM app.persons WHERE id_number = @id", new { id = IdNumber(2) });
        Assert.Equal(("新名字", "retired"), stored);
        Assert.Equal(1, await conn.ExecuteScalarAsync<long>("SELECT count(*) FROM app.audit_log WHERE action = 'import' AND details LIKE 'v2.csv: 4 rows, 1 inserted, 1 updated, 2 unchanged%'"));
    }

    [Fact]
    public async Task Dry_run_validates_and_counts_but_changes_nothing()
    {
        await ImportAsync("persons", PersonsFile(_dir, "v1.csv", [Person(1), Person(2)]));
        var hash = await TableHashAsync(db, "app.persons");
        var auditRows = await CountAsync(db, "SELECT count(*) FROM app.audit_log");

        var result = await ImportAsync("persons", PersonsFile(_dir, "v2.csv", [Person(1), Person(2, "改名"), Person(3)]), dryRun: true);

        Assert.Equal((1L, 1L, 1L, true), (result.Inserted, result.Updated, result.Unchanged, result.DryRun));
        Assert.Equal(hash, await TableHashAsync(db, "app.persons"));
        Assert.Equal(auditRows, await CountAsync(db, "SELECT count(*) FROM app.audit_log"));
    }

    [Fact]
    public async Task Accept_valid_imports_the_good_rows_and_writes_the_bad_ones_with_reasons_for_excel()
    {
        var bad1 = Person(3, "=cmd|' /C calc'!A0"); bad1[5] = "town";
        var bad2 = Person(4); bad2[9] = "2023-02-29";
        var rejects = Path.Combine(_dir, "rejects.csv");
        var path = PersonsFile(_dir, "persons.csv", [Person(1), bad1, Person(2), bad2, Person(1, "重复")]);

        var (code, output) = await ServiceProcess.RunAsync(db, $"import persons {path} --accept-valid --rejects {rejects}");

        Assert.Equal(ExitCodes.Ok, code);
        Assert.Contains("persons.csv: 5 rows: 2 inserted, 0 updated, 0 unchanged, 3 rejected", output);
        Assert.Contains("persons.csv:3: hukou: 'town' is not one of urban, rural", output); // still told on stderr
        Assert.Equal(2, await CountAsync(db, "SELECT count(*) FROM app.persons"));
        var bytes = await File.ReadAllBytesAsync(rejects);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        using var csv = Sylvan.Data.Csv.CsvDataReader.Create(new StringReader(Encoding.UTF8.GetString(bytes[3..])));
        Assert.Equal(["row", .. PersonsHeader, "reason"], Enumerable.Range(0, csv.FieldCount).Select(csv.GetName));
        var got = new List<(string Row, string Id, string Name, string Reason)>();
        while (csv.Read()) got.Add((csv.GetString(0), csv.GetString(1), csv.GetString(2), csv.GetString(csv.FieldCount - 1)));
        Assert.Equal(
        [
            ("3", IdNumber(3), "'=cmd|' /C calc'!A0", "hukou: 'town' is not one of urban, rural"), // neutralised for Excel
            ("5", IdNumber(4), "测试4", "employment_since: '2023-02-29' is not a real date, expected YYYY-MM-DD"),
            ("6", IdNumber(1), "重复", "id_number: duplicate of row 2, expected each key once per file"),
        ], got);
    }

    [Fact]
    public async Task Formula_sql_and_html_in_names_are_kept_verbatim()
    {
        string[] names = ["=cmd|' /C calc'!A0", "Robert'); DROP TABLE app.persons;--", "<script>alert('x')</script>", "@SUM(1+1)"];
        var (code, _) = await ServiceProcess.RunAsync(db, $"import persons {PersonsFile(_dir, "persons.csv", names.Select((n, i) => Person(i + 1, n)))}");

        Assert.Equal(ExitCodes.Ok, code);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal(names.Order(StringComparer.Ordinal), (await conn.QueryAsync<string>("SELECT name FROM app.persons")).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Every_register_kind_loads_its_file_and_money_is_stored_in_fen()
    {
        string[][] Rows(params string[][] rows) => rows;
        var files = new (string Kind, string[][] Rows)[]
        {
            ("employers", Rows(["uscc", "name", "street", "community", "industry", "risk_class", "migrant_workers", "email", "legal_rep_name", "legal_rep_id_number", "abnormal"],
                [Uscc(1).ToLowerInvariant(), "凌源市甲公司", "城关街道", "和平社区", "建筑业", "b", "12", "", "张三", IdNumber(1).Replace('X', 'x'), "FALSE"])),
            ("inspectors", Rows(["badge_no", "name", "email", "unit", "street", "active"], ["LYJC-0001", "赵六", "zl@lingyuan-demo.test", "监察大队", "城关街道", "true"])),
            ("conflicts", Rows(["badge_no", "uscc", "reason"], ["LYJC-0001", Uscc(1), "亲属任职"])),
            ("communities", Rows(["street", "community", "caseworker_name", "caseworker_email"], ["城关街道", "和平社区", "钱七", "cw@lingyuan-demo.test"])),
            ("cards", Rows(["id_number", "card_no", "bank_code", "bank_account", "financial_status"], [IdNumber(1), "LY000000001", "CCB", BankAccount(1), "active"])),
            ("entitlements", Rows(["id_number", "benefit", "monthly_amount", "start_period", "end_period", "suspended"],
                [IdNumber(1), "enterprise_pension", "3200.5", "2024-01", "", "false"], [IdNumber(1), "training_subsidy", "0.07", "2024-01", "2024-06", "true"])),
            ("life-events", Rows(["id_number", "event", "date"], [IdNumber(1), "eligibility_verified", "2026-03-02"])),
            ("arrears-cases", Rows(["case_no", "uscc", "workers_affected", "amount_owed", "max_months_owed", "order_issued_on", "pay_deadline", "paid_on", "incident", "credit_promise_on", "responsible_persons"],
                ["LYQX-2026-0001", Uscc(1), "12", "56000.00", "4", "2026-03-01", "2026-03-31", "", "none", "", "项目经理 孙八"])),
            // A whole year: a holidays file must leave each year it touches with a plausible number of working days (issue 19).
            ("holidays", [["date", "kind"], .. Holidays2027, ["2026-01-04", "workday"]]),
        };
        foreach (var (kind, rows) in files)
        {
            var result = await ImportAsync(kind, Write(_dir, kind + ".csv", Csv(rows)));
            Assert.Equal(rows.Length - 1, result.Inserted + result.Unchanged);
        }

        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal([7L, 320_050L], await conn.QueryAsync<long>("SELECT monthly_amount_fen FROM app.entitlements ORDER BY 1"));
        Assert.Equal(5_600_000, await conn.ExecuteScalarAsync<long>("SELECT amount_owed_fen FROM app.arrears_cases"));
        Assert.Equal((Uscc(1), "B", IdNumber(1)), await conn.QuerySingleAsync<(string, string, string)>("SELECT uscc, risk_class, legal_rep_id_number FROM app.employers"));
        Assert.Equal("holiday", await conn.ExecuteScalarAsync<string>("SELECT kind FROM app.holidays WHERE date = '2027-01-01'"));
    }

    [Fact]
    public async Task A_feature_adds_its_own_kind_with_AddImportKind_on_the_same_frame()
    {
        await ExecuteAsync(db, "CREATE TABLE IF NOT EXISTS public.probe_results (code text PRIMARY KEY, amount_fen bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())");
        var upsertKind = new ImportKind("probe-results", "public.probe_results",
            [new("code", NpgsqlTypes.NpgsqlDbType.Text, Fields.Code(20)), new("amount", "amount_fen", NpgsqlTypes.NpgsqlDbType.Bigint, Fields.Yuan())], ["code"]);
        var appliedRows = -1L;
        var applyKind = upsertKind with
        {
            Name = "probe-apply",
            Apply = async ctx =>
            {
                appliedRows = await ctx.Connection.ExecuteScalarAsync<long>("SELECT count(*) FROM import_stage", transaction: ctx.Transaction);
                return (0, appliedRows);
            },
        };
        await using var app = db.BuildApp(testServices: s => s.AddImportKind(upsertKind).AddImportKind(applyKind));
        var importer = app.Services.GetRequiredService<RegisterImporter>();
        var file = Write(_dir, "probe.csv", Csv([["amount", "code"], ["1.5", "A-1"], ["2", "A-2"]]));

        var upserted = await importer.ImportAsync(new ImportRequest("probe-results", file), TextWriter.Null, CancellationToken.None);
        var applied = await importer.ImportAsync(new ImportRequest("probe-apply", file), TextWriter.Null, CancellationToken.None);

        Assert.Equal(2, upserted.Inserted);
        await using var conn = await db.DataSource.OpenConnectionAsync();
        Assert.Equal([150L, 200L], await conn.QueryAsync<long>("SELECT amount_fen FROM public.probe_results ORDER BY code"));
        Assert.Equal((2L, 2L), (appliedRows, applied.Updated));
        var bad = await Assert.ThrowsAsync<BadInputException>(() =>
            importer.ImportAsync(new ImportRequest("probe-results", Write(_dir, "bad.csv", Csv([["code", "amount"], ["A-3", "1.234"]]))), TextWriter.Null, CancellationToken.None));
        Assert.Equal("bad.csv:2: amount: '1.234' has 3 decimals, expected at most 2 (fen)", bad.Problems[0]);
    }
}
