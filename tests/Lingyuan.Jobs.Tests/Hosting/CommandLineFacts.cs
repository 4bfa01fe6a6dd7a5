using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Hosting;

public class CommandLineFacts(DatabaseFixture db) : IClassFixture<DatabaseFixture>
{
    [Fact]
    public async Task Migrate_twice_changes_nothing_the_second_time()
    {
        var (code, output) = await ServiceProcess.RunAsync(db, "migrate");
        Assert.Equal(0, code);
        Assert.Contains("up to date", output);
    }

    [Fact]
    public async Task An_unknown_time_zone_stops_with_one_line_naming_the_key_and_exit_64()
    {
        var (code, output) = await ServiceProcess.RunAsync(db, "jobs list", new() { ["Jobs:TimeZone"] = "Mars/Base" });
        Assert.Equal(64, code);
        Assert.Contains("Jobs:TimeZone", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task Serve_with_an_unknown_time_zone_stops_before_listening()
    {
        var (code, output) = await ServiceProcess.RunAsync(db, "serve", new() { ["Jobs:TimeZone"] = "Mars/Base" });
        Assert.Equal(64, code);
        Assert.Contains("Jobs:TimeZone", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Fact]
    public async Task An_unreachable_database_stops_serve_with_one_line_and_exit_69()
    {
        var (code, output) = await ServiceProcess.RunAsync(db, "serve --role worker",
            new() { ["ConnectionStrings:Jobs"] = "Host=127.0.0.1;Port=1;Username=postgres;Database=x" });
        Assert.Equal(69, code);
        Assert.Contains("ConnectionStrings:Jobs", output);
        Assert.DoesNotContain("   at ", output);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("serve --role kitchen")]
    [InlineData("migrate --force")]
    [InlineData("users add x")]
    public async Task Usage_errors_exit_64_with_one_line(string args)
    {
        var (code, output) = await ServiceProcess.RunAsync(db, args);
        Assert.Equal(64, code);
        Assert.Single(output.Trim().Split('\n'));
    }

    [Fact]
    public async Task Help_lists_every_verb_in_English_and_Chinese()
    {
        var (code, output) = await ServiceProcess.RunAsync(db, "--help");
        Assert.Equal(0, code);
        foreach (var verb in new[] { "serve", "migrate", "users add", "jobs list", "jobs run" })
            Assert.Contains(verb, output);
        Assert.Contains("用法", output);
        var (verbCode, verbHelp) = await ServiceProcess.RunAsync(db, "users add --help");
        Assert.Equal(0, verbCode);
        Assert.Contains("用法", verbHelp);
    }

    [Fact]
    public async Task Without_a_connection_string_help_still_lists_the_verbs_and_a_verb_stops_with_one_line_and_exit_64()
    {
        var unset = new Dictionary<string, string?> { ["ConnectionStrings:Jobs"] = "" };
        var (code, output) = await ServiceProcess.RunAsync(db, "--help", unset);
        Assert.Equal(0, code);
        Assert.Contains("users add", output);
        Assert.DoesNotContain("   at ", output);
        foreach (var verb in new[] { "jobs list", "serve --role worker" })
        {
            var (verbCode, verbOutput) = await ServiceProcess.RunAsync(db, verb, unset);
            Assert.Equal(64, verbCode);
            Assert.Contains("未配置数据库连接串", verbOutput);
            Assert.DoesNotContain("   at ", verbOutput);
        }
        var (badCode, badOutput) = await ServiceProcess.RunAsync(db, "jobs list", new() { ["ConnectionStrings:Jobs"] = "Host=x;Frobnicate=1" });
        Assert.Equal(64, badCode);
        Assert.Contains("数据库连接串无效", badOutput);
    }

    [Fact]
    public async Task Users_add_reads_the_password_from_stdin_and_refuses_a_duplicate()
    {
        var (code, output) = await ServiceProcess.RunAsync(db, "users add zhangsan --role finance", stdin: Infrastructure.TestSignIn.Password + "\n");
        Assert.Equal(0, code);
        Assert.Contains("zhangsan", output);
        var (again, _) = await ServiceProcess.RunAsync(db, "users add zhangsan --role finance", stdin: Infrastructure.TestSignIn.Password + "\n");
        Assert.Equal(1, again);
        var (shortPw, msg) = await ServiceProcess.RunAsync(db, "users add lisi --role finance", stdin: "short\n");
        Assert.Equal(64, shortPw);
        Assert.Contains("12", msg);
    }

    [Fact]
    public async Task Jobs_list_shows_every_recurring_job_and_jobs_run_runs_one_and_exits_0()
    {
        var catalog = db.Services.GetRequiredService<Lingyuan.Jobs.Hosting.JobCatalog>();
        Assert.NotEmpty(catalog.All);
        var (code, output) = await ServiceProcess.RunAsync(db, "jobs list");
        Assert.Equal(0, code);
        foreach (var job in catalog.All) Assert.Contains(job.Id, output);

        var (runCode, runOutput) = await ServiceProcess.RunAsync(db, "jobs run outbox-delivery");
        Assert.Equal(0, runCode);
        Assert.Contains("outbox-delivery", runOutput);
        var (unknown, _) = await ServiceProcess.RunAsync(db, "jobs run no-such-job");
        Assert.Equal(64, unknown);
    }
}
