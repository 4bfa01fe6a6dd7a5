using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static Lingyuan.Jobs.Tests.Registers.RegisterFiles;

namespace Lingyuan.Jobs.Tests.Registers;

/// <summary>Issue 19: the register upload page over HTTP, against the real service with its Hangfire worker.</summary>
public sealed partial class RegisterUploadFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly string _dir = TempDir();

    public Task InitializeAsync() => ExecuteAsync(db, TruncateRegisters + "; DELETE FROM app.holidays WHERE date >= '2027-01-01'");

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>Uploads a file as the client's user; returns the upload's page address.</summary>
    internal static async Task<HttpResponseMessage> UploadAsync(HttpClient client, string kind, string path, string? fileName = null)
    {
        var token = await TestServer.AntiforgeryTokenAsync(client, "/hangfire/registers");
        await using var file = File.OpenRead(path);
        using var form = new MultipartFormDataContent
        {
            { new StringContent(token), "__RequestVerificationToken" },
            { new StringContent(kind), "kind" },
            { new StreamContent(file), "file", fileName ?? Path.GetFileName(path) },
        };
        return await client.PostAsync("/hangfire/registers/upload", form);
    }

    /// <summary>Reads the upload's page until its state is one of <paramref name="states"/>; returns the page and every rows figure seen on the way.</summary>
    internal static async Task<(string Html, List<long> Progress)> FollowAsync(HttpClient client, string page, TimeSpan timeout, params string[] states)
    {
        var seen = new List<long>();
        var until = DateTime.UtcNow + timeout;
        while (true)
        {
            var html = await client.GetStringAsync(page);
            if (ProgressRows().Match(html) is { Success: true } p) seen.Add(long.Parse(p.Groups[1].Value));
            var state = StateOf().Match(html).Groups[1].Value;
            if (states.Contains(state)) return (html, seen);
            if (DateTime.UtcNow > until) throw new TimeoutException($"{page} still '{state}' after {timeout}");
            await Task.Delay(250);
        }
    }

    internal static long Count(string html, string id) =>
        long.Parse(Regex.Match(html, $"id=\"count-{id}\">([0-9,]+)<").Groups[1].Value.Replace(",", ""));

    [GeneratedRegex("id=\"upload-state\" data-state=\"([a-z_]+)\"")]
    private static partial Regex StateOf();

    [GeneratedRegex("id=\"upload-progress\" data-rows=\"([0-9]+)\"")]
    private static partial Regex ProgressRows();

    private async Task<HttpResponseMessage> PostAsync(HttpClient client, string page, string action, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = await TestServer.AntiforgeryTokenAsync(client, page);
        return await client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    [Fact]
    public async Task Finance_checks_an_entitlements_file_sees_its_two_problems_imports_the_valid_rows_and_downloads_the_rejects()
    {
        await using var server = await TestServer.StartAsync(db);
        var finance = await server.SignedInClientAsync("fin.upload", Roles.Finance);
        var xlsx = SpreadsheetImportFacts.WriteXlsx(_dir, "待遇名录.xlsx", ["身份证号码", "待遇类别", "月发放金额", "起始月份", "终止月份", "暂停发放"],
            SpreadsheetImportFacts.EntitlementRows());

        var uploaded = await UploadAsync(finance, "entitlements", xlsx);
        Assert.Equal(HttpStatusCode.Redirect, uploaded.StatusCode);
        var page = uploaded.Headers.Location!.OriginalString;
        var (html, _) = await FollowAsync(finance, page, TimeSpan.FromMinutes(2), "checked", "failed");

        Assert.Equal((4L, 0L, 0L, 2L, 6L), (Count(html, "inserted"), Count(html, "updated"), Count(html, "unchanged"), Count(html, "rejected"), Count(html, "rows")));
        var problems = Regex.Matches(html, "<tr class=\"problem\"><td class=\"num\">([0-9]+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>");
        Assert.Equal(["3", "6"], problems.Select(m => m.Groups[1].Value));
        Assert.Equal(Lingyuan.Jobs.Registers.IdNumber.Mask(WrongCheck(IdNumber(2)).Bad) + " + resident_pension", WebUtility.HtmlDecode(problems[0].Groups[2].Value));
        Assert.DoesNotContain(WrongCheck(IdNumber(2)).Bad, html); // masked on the page
        Assert.DoesNotContain("id=\"import-all\"", html);          // not all-or-nothing with problems
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM app.entitlements")); // a check writes nothing

        var rejects = await finance.GetAsync(page + "/rejects");
        Assert.Equal(HttpStatusCode.OK, rejects.StatusCode);
        var rejectsCsv = await rejects.Content.ReadAsStringAsync();
        Assert.Equal(3, rejectsCsv.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + 2 rows
        Assert.Contains("1.005", rejectsCsv);

        var import = await PostAsync(finance, page, page + "/import", new() { ["mode"] = "valid" });
        Assert.Equal(HttpStatusCode.Redirect, import.StatusCode);
        (html, _) = await FollowAsync(finance, page, TimeSpan.FromMinutes(2), "imported", "failed");
        Assert.Equal((4L, 2L), (Count(html, "inserted"), Count(html, "rejected")));
        Assert.Equal(4, await CountAsync(db, "SELECT count(*) FROM app.entitlements"));
        // Audited as the person who confirmed it, through the same engine as the command line.
        Assert.Equal(1, await CountAsync(db, "SELECT count(*) FROM app.audit_log WHERE action = 'import' AND actor = 'fin.upload' AND subject_id = 'entitlements' AND details LIKE '待遇名录.xlsx: 6 rows, 4 inserted%'"));
        // The file itself is gone from the database once imported; the rejects stay for download.
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM app.register_upload_parts WHERE part = 'file' AND upload_id = " + page.Split('/')[^1]));
        Assert.Equal(HttpStatusCode.OK, (await finance.GetAsync(page + "/rejects")).StatusCode);

        var register = await finance.GetStringAsync("/hangfire/registers/view/entitlements");
        Assert.Contains("data-value=\"4\"", register);
        Assert.Contains(Lingyuan.Jobs.Registers.IdNumber.Mask(IdNumber(6)), register);
        Assert.DoesNotContain(IdNumber(6), register);
    }

    [Fact]
    public async Task A_clean_file_is_imported_all_or_nothing_after_its_check_and_a_second_import_changes_nothing()
    {
        await using var server = await TestServer.StartAsync(db);
        var admin = await server.SignedInClientAsync("admin.upload", Roles.Admin);
        var path = PersonsFile(_dir, "persons.csv", Enumerable.Range(1, 40).Select(i => Person(i)));
        for (var round = 0; round < 2; round++)
        {
            var page = (await UploadAsync(admin, "persons", path)).Headers.Location!.OriginalString;
            var (html, _) = await FollowAsync(admin, page, TimeSpan.FromMinutes(2), "checked", "failed");
            Assert.Contains("id=\"import-all\"", html);
            await PostAsync(admin, page, page + "/import", new() { ["mode"] = "all" });
            (html, _) = await FollowAsync(admin, page, TimeSpan.FromMinutes(2), "imported", "failed");
            Assert.Equal(round == 0 ? (40L, 0L) : (0L, 40L), (Count(html, "inserted"), Count(html, "unchanged")));
        }
        Assert.Equal(40, await CountAsync(db, "SELECT count(*) FROM app.persons"));
    }

    [Fact]
    public async Task Each_register_is_loaded_only_by_the_roles_that_answer_for_it()
    {
        await using var server = await TestServer.StartAsync(db);
        var finance = await server.SignedInClientAsync("fin.roles", Roles.Finance);
        var inspection = await server.SignedInClientAsync("insp.roles", Roles.Inspection);
        var operatorClient = await server.SignedInClientAsync("op.roles", Roles.Operator);
        var employers = Write(_dir, "employers.csv", Csv([["uscc", "name"], [Uscc(1), "甲"]]));

        Assert.Equal(HttpStatusCode.Forbidden, (await UploadAsync(finance, "employers", employers)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await inspection.GetAsync("/hangfire/registers/templates/entitlements")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await inspection.GetAsync("/hangfire/registers/templates/employers")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.GetAsync("/hangfire/registers")).StatusCode);
        var financePage = await finance.GetStringAsync("/hangfire/registers");
        Assert.Contains("value=\"entitlements\"", financePage);
        Assert.DoesNotContain("value=\"employers\"", financePage);
        Assert.DoesNotContain("value=\"persons\"", financePage);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM app.register_uploads WHERE kind = 'employers'"));
    }

    [Fact]
    public async Task A_file_refused_as_a_whole_is_shown_with_its_reason_and_changes_nothing()
    {
        await using var server = await TestServer.StartAsync(db);
        var inspection = await server.SignedInClientAsync("insp.holidays", Roles.Inspection);
        var half = Write(_dir, "2027.csv", Csv([["日期", "类型"], .. Holidays2027.Take(10)]));
        var page = (await UploadAsync(inspection, "holidays", half)).Headers.Location!.OriginalString;
        var (html, _) = await FollowAsync(inspection, page, TimeSpan.FromMinutes(2), "checked", "failed");
        Assert.Contains("id=\"upload-failure\"", html);
        Assert.Contains("2027年将有254个工作日", html);
        Assert.Equal(0, await CountAsync(db, "SELECT count(*) FROM app.holidays WHERE date >= '2027-01-01'"));
    }

    [Fact]
    public async Task The_home_notice_asks_for_next_years_calendar_from_the_first_of_november_until_it_is_loaded()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 10, 31, 12, 0, 0, TimeSpan.Zero));
        await using var app = db.BuildApp(testServices: s => s.AddSingleton<TimeProvider>(time));
        var notices = app.Services.GetServices<IHomeNotices>().OfType<HolidayCalendarNotices>().Single();
        var clerk = new System.Security.Claims.ClaimsPrincipal(new System.Security.Claims.ClaimsIdentity(
            [new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.Role, Roles.Finance)], "test"));

        Assert.Empty(await notices.ForAsync(clerk, CancellationToken.None));
        time.SetUtcNow(new DateTimeOffset(2026, 10, 31, 16, 0, 0, TimeSpan.Zero)); // 2026-11-01 00:00 in Beijing
        var notice = Assert.Single(await notices.ForAsync(clerk, CancellationToken.None));
        Assert.Equal(NoticeLevel.Warning, notice.Level);
        Assert.StartsWith("2027年节假日安排尚未导入", notice.TextZh);
        Assert.Equal("/hangfire/holidays", notice.Link);

        await app.Services.GetRequiredService<Lingyuan.Jobs.Registers.Import.RegisterImporter>().ImportAsync(
            new("holidays", Write(_dir, "2027.csv", Csv([["date", "kind"], .. Holidays2027])), Actor: "test"), TextWriter.Null, CancellationToken.None);
        Assert.Empty(await notices.ForAsync(clerk, CancellationToken.None));
    }
}
