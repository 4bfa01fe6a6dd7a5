using Dapper;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.ZeroEmployment;

/// <summary>The verbs through the real executable, and a check killed before it commits.</summary>
public class ZeroEmploymentCommandFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Check_dry_run_changes_nothing_a_killed_check_leaves_nothing_and_close_records_the_reason()
    {
        var domain = $"{Guid.NewGuid():N}.test";
        var settings = new Dictionary<string, string?> { ["ZeroEmployment:EscalationEmail"] = $"jiuye@{domain}" };
        await using var conn = await db.DataSource.OpenConnectionAsync();
        await ZeroEmploymentData.ResetAsync(conn);
        await ZeroEmploymentData.InsertAsync(conn, null,
            new Member("H-CLI-1", new DateOnly(1985, 1, 1), Male: true),
            new Member("H-CLI-2", new DateOnly(1986, 1, 1), Male: false));

        var (code, text) = await ServiceProcess.RunAsync(db, "zero-employment check --as-of 2026-03-02 --dry-run", settings);
        Assert.True(code == 0, text);
        Assert.Contains("2026-03-02\t2\t2\t0\t0\t0\t0\t0\t1\t", text); // both households in one digest (no caseworker: the employment service)
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases"));
        Assert.Empty(await ZeroEmploymentData.QueuedToAsync(conn, domain));

        // SIGKILL after every case and message is written but before the commit: nothing is left behind.
        var (killed, killedText) = await ServiceProcess.RunAsync(db, "zero-employment check --as-of 2026-03-02", settings, killAt: "zero-employment:before-commit:1");
        Assert.True(killed is 137 or -1 or 9, $"exit {killed}: {killedText}");
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases"));
        Assert.Empty(await ZeroEmploymentData.QueuedToAsync(conn, domain));

        (code, text) = await ServiceProcess.RunAsync(db, "zero-employment check --as-of 2026-03-02", settings);
        Assert.True(code == 0, text);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM app.zero_employment_cases WHERE state = 'proposed'"));
        Assert.Single(await ZeroEmploymentData.QueuedToAsync(conn, domain));

        (code, text) = await ServiceProcess.RunAsync(db, "zero-employment check --as-of 2026-03-01", settings);
        Assert.True(code == 1, text);

        var id = await conn.ExecuteScalarAsync<long>("SELECT id FROM app.zero_employment_cases WHERE household_no = 'H-CLI-1'");
        var users = db.Services.GetRequiredService<Lingyuan.Jobs.Dashboard.UserStore>();
        await users.AddAsync("zhangsan", "admin", TestSignIn.Password, "test", CancellationToken.None);
        await users.AddAsync("lisi", "operator", TestSignIn.Password, "test", CancellationToken.None);
        // A proposal is decided by a caseworker or an admin, never by an operator; the decision needs a reason.
        (code, text) = await ServiceProcess.RunAsync(db, $"zero-employment decide {id} confirm --note 核实 --user lisi", settings, stdin: await TestSignIn.StdinAsync(db.Services, "lisi"));
        Assert.True(code == 1, text);
        (code, text) = await ServiceProcess.RunAsync(db, $"zero-employment decide {id} maybe --note 核实 --user zhangsan", settings, stdin: await TestSignIn.StdinAsync(db.Services, "zhangsan"));
        Assert.True(code == 64, text);
        (code, text) = await ServiceProcess.RunAsync(db, $"zero-employment decide {id} confirm --note 入户核实无误 --user zhangsan", settings, stdin: await TestSignIn.StdinAsync(db.Services, "zhangsan"));
        Assert.True(code == 0, text);
        Assert.Equal(("identified", "zhangsan"), await conn.QuerySingleAsync<(string, string)>(
            "SELECT state, decided_by FROM app.zero_employment_cases WHERE id = @id", new { id }));
        (code, text) = await ServiceProcess.RunAsync(db, $"zero-employment close {id} --reason moved --note 迁往外省 --user lisi", settings, stdin: await TestSignIn.StdinAsync(db.Services, "lisi"));
        Assert.True(code == 1, text);
        Assert.Equal("identified", await conn.ExecuteScalarAsync<string>("SELECT state FROM app.zero_employment_cases WHERE id = @id", new { id }));
        (code, text) = await ServiceProcess.RunAsync(db, $"zero-employment close {id} --reason moved --note 迁往外省 --user zhangsan", settings, stdin: await TestSignIn.StdinAsync(db.Services, "zhangsan"));
        Assert.True(code == 0, text);
        Assert.Equal(("closed", "moved", "zhangsan"), await conn.QuerySingleAsync<(string, string, string)>(
            "SELECT state, close_reason, closed_by FROM app.zero_employment_cases WHERE id = @id", new { id }));

        (code, _) = await ServiceProcess.RunAsync(db, $"zero-employment close {id} --reason moved --note 再次 --user zhangsan", settings, stdin: await TestSignIn.StdinAsync(db.Services, "zhangsan"));
        Assert.Equal(1, code);
        (code, _) = await ServiceProcess.RunAsync(db, $"zero-employment close {id} --reason bored --note x --user zhangsan", settings, stdin: await TestSignIn.StdinAsync(db.Services, "zhangsan"));
        Assert.Equal(64, code);
        (code, _) = await ServiceProcess.RunAsync(db, "zero-employment check --as-of 2026-02-30", settings);
        Assert.Equal(64, code);
    }

    [Theory]
    [InlineData("ZeroEmployment:ClearWithinDays", "0")]
    [InlineData("ZeroEmployment:RemindDaysBefore", "30")]
    [InlineData("ZeroEmployment:EscalationEmail", "not an address")]
    public void A_bad_setting_stops_the_start_with_a_message_naming_the_key(string key, string value)
    {
        using var app = db.BuildApp(extra: new() { [key] = value });
        var ex = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(
            () => app.Services.GetRequiredService<Microsoft.Extensions.Options.IStartupValidator>().Validate());
        Assert.Contains(key, ex.Message);
    }
}
