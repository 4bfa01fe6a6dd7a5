using Dapper;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers;
using Lingyuan.Jobs.WageArrears;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Lingyuan.Jobs.Tests.WageArrears;

/// <summary>Register rows for arrears tests, written as the import would write them (the import is the registers feature's).</summary>
internal static class ArrearsData
{
    private static int _seq;

    /// <summary>A valid, unique USCC in Lingyuan (region 211382).</summary>
    public static string NewUscc()
    {
        var n = Interlocked.Increment(ref _seq) + Random.Shared.Next(0, 1_000_000) * 1000;
        var body = "91211382" + ToAlphabet(n, 9);
        return body + Uscc.CheckCharacter(body);
    }

    private static string ToAlphabet(long n, int width)
    {
        var chars = new char[width];
        for (var i = width - 1; i >= 0; i--) { chars[i] = Uscc.Alphabet[(int)(n % 31)]; n /= 31; }
        return new string(chars);
    }

    /// <summary>A valid ID number of a man born 1980-05-12 in Lingyuan.</summary>
    public static string NewIdNumber()
    {
        var body = "21138219800512" + Random.Shared.Next(0, 1000).ToString("000");
        return body + IdNumber.CheckCharacter(body);
    }

    public static string NewCaseNo(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..24];

    public static async Task<string> EmployerAsync(NpgsqlDataSource db, string name, string email, string? legalRepId = null, string legalRepName = "张三")
    {
        var uscc = NewUscc();
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO app.employers (uscc, name, street, community, industry, risk_class, migrant_workers, email, legal_rep_name, legal_rep_id_number)
            VALUES (@uscc, @name, '城关街道', '东城社区', '建筑业', 'C', 40, @email, @legalRepName, @legalRepId)
            """, new { uscc, name, email, legalRepName, legalRepId = legalRepId ?? NewIdNumber() });
        return uscc;
    }

    public static async Task<string> CaseAsync(NpgsqlDataSource db, string uscc, int workers, decimal amountYuan, int months, DateOnly payDeadline,
        string incident = "none", string responsible = "", string prefix = "LY")
    {
        var caseNo = NewCaseNo(prefix);
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO app.arrears_cases (case_no, uscc, workers_affected, amount_owed_fen, max_months_owed, order_issued_on, pay_deadline, incident, responsible_persons)
            VALUES (@caseNo, @uscc, @workers, @fen, @months, @ordered, @payDeadline, @incident, @responsible)
            """, new { caseNo, uscc, workers, fen = (long)(amountYuan * 100), months, ordered = payDeadline.AddDays(-15), payDeadline, incident, responsible });
        return caseNo;
    }

    /// <summary>Payment and credit promise dates as an <c>import arrears-cases</c> update sets them.</summary>
    public static async Task PaidAsync(NpgsqlDataSource db, string caseNo, DateOnly? paidOn, DateOnly? promiseOn)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("UPDATE app.arrears_cases SET paid_on = @paidOn, credit_promise_on = @promiseOn, updated_at = now() WHERE case_no = @caseNo",
            new { caseNo, paidOn, promiseOn });
    }

    /// <summary>An enabled account with a role and, for the department head, the decider duty (as `users add` makes it).</summary>
    public static async Task<string> UserAsync(NpgsqlDataSource db, string name, string role = "inspection", bool decider = false)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO app.users (name, role, password_hash, decider) VALUES (@name, @role, 'not-a-login', @decider)
            ON CONFLICT (name) DO UPDATE SET role = excluded.role, decider = excluded.decider, disabled = false
            """, new { name, role, decider });
        return name;
    }

    /// <summary>Amounts per worker as `import arrears-workers` writes them.</summary>
    public static async Task WorkerAsync(NpgsqlDataSource db, string caseNo, string maskedId, decimal amountYuan, int months)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(
            "INSERT INTO app.arrears_workers (case_no, worker_id, amount_owed_fen, months_owed) VALUES (@caseNo, @maskedId, @fen, @months)",
            new { caseNo, maskedId, fen = (long)(amountYuan * 100), months });
    }

    public static async Task<CaseView> ViewAsync(NpgsqlDataSource db, string caseNo)
    {
        await using var conn = await db.OpenConnectionAsync();
        return await conn.QuerySingleAsync<CaseView>(CaseView.Select + " WHERE c.case_no = @caseNo", new { caseNo });
    }

    /// <summary>08:00 in Lingyuan on <paramref name="day"/>, or another local time.</summary>
    public static DateTimeOffset At(DateOnly day, int hour = 8, int minute = 0) =>
        new DateTimeOffset(day.ToDateTime(new TimeOnly(hour, minute)), TimeSpan.FromHours(8));

    public static DateOnly Day(string iso) => DateOnly.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The application with the clock under the test's control.</summary>
    public static (WebApplication App, FakeTimeProvider Clock) App(DatabaseFixture fixture, DateOnly day, Dictionary<string, string?>? settings = null)
    {
        var clock = new FakeTimeProvider(At(day, 0));
        var app = fixture.BuildApp(AppRole.Cli, settings, s => s.AddSingleton<TimeProvider>(clock));
        return (app, clock);
    }

    public static async Task<List<(string Kind, string Key)>> DocumentsAsync(NpgsqlDataSource db, string caseNo)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<(string, string)>("SELECT kind, dedupe_key FROM app.arrears_documents WHERE case_no = @caseNo ORDER BY id", new { caseNo })).ToList();
    }

    public static async Task<List<string>> OutboxKeysAsync(NpgsqlDataSource db, string caseNo)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("SELECT dedupe_key FROM app.outbox WHERE regarding_type = 'arrears_case' AND regarding_id = @caseNo ORDER BY id", new { caseNo })).ToList();
    }
}
