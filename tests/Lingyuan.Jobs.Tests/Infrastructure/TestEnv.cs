namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>
/// Where the real services of a test run are: ops/test starts them and exports these variables.
/// Without them a test fails with a message saying how to run it, never silently passes.
/// </summary>
public static class TestEnv
{
    public static string AdminConnectionString => Required("LINGYUAN_TEST_PG");
    public static string? PgData => Environment.GetEnvironmentVariable("LINGYUAN_TEST_PGDATA");
    public static string PgBin => Environment.GetEnvironmentVariable("LINGYUAN_TEST_PGBIN") ?? "/usr/lib/postgresql/15/bin";
    public static int SmtpPort => int.Parse(Required("LINGYUAN_TEST_SMTP_PORT"));
    public static Uri SmtpApi => new(Required("LINGYUAN_TEST_SMTP_API"));

    public static string ArtifactsDir
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable("LINGYUAN_TEST_ARTIFACTS") ?? Path.Combine(Path.GetTempPath(), "lingyuan-test-artifacts");
            Directory.CreateDirectory(dir);
            return dir;
        }
    }

    private static string Required(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? v
            : throw new InvalidOperationException($"{name} is not set: run the tests through ops/test, which starts PostgreSQL and smtp4dev and sets it.");
}
