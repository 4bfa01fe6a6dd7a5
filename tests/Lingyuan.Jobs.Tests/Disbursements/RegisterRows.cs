using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>Register rows for disbursement tests, written straight into the tables the build reads.</summary>
public sealed class RegisterRows(NpgsqlDataSource db)
{
    public NpgsqlDataSource Db => db;

    /// <summary>A valid GB 11643 number of Lingyuan for sequence <paramref name="n"/>.</summary>
    public static string IdNumber(int n)
    {
        var body = $"211382{1940 + n % 30:D4}0101{n % 1000:D3}";
        int[] w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        var sum = body.Select((c, i) => (c - '0') * w[i]).Sum();
        return body + "10X98765432"[sum % 11];
    }

    public static string Account(int n) => $"6217{n:D12}";

    /// <summary>Empties registers and disbursement tables (TRUNCATE skips the frozen-row triggers, which is what a fresh test needs).</summary>
    public async Task ResetAsync()
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            TRUNCATE app.disbursement_recoveries, app.disbursement_outcomes, app.disbursement_lines, app.disbursement_batch_benefits, app.disbursement_batches, app.disbursement_hold_releases,
                     app.persons, app.cards, app.entitlements, app.life_events, app.outbox_attachments, app.outbox, app.audit_log, app.users
            """);
    }

    /// <summary>Recipients 1 to <paramref name="count"/> (at most 3,000: the ID numbers repeat after that), as <see cref="RecipientAsync"/> writes them, in one statement.</summary>
    public async Task RecipientsAsync(int count, long amountFen = 100_000)
    {
        var ids = Enumerable.Range(1, count).Select(IdNumber).ToArray();
        var accounts = Enumerable.Range(1, count).Select(Account).ToArray();
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
            SELECT id, '测试' || n, 'H' || n, '城关街道', '南街社区', 'urban', false, false, 'retired' FROM unnest(@ids::text[]) WITH ORDINALITY AS t (id, n);
            INSERT INTO app.cards (id_number, card_no, bank_code, bank_account, financial_status)
            SELECT id, 'C' || n, '102', account, 'active' FROM unnest(@ids::text[], @accounts::text[]) WITH ORDINALITY AS t (id, account, n);
            INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period) SELECT id, 'enterprise_pension', @amountFen, '2026-01-01' FROM unnest(@ids::text[]) AS t (id);
            INSERT INTO app.life_events (id_number, event, date) SELECT id, 'eligibility_verified', '2026-01-10' FROM unnest(@ids::text[]) AS t (id);
            """, new { ids, accounts, amountFen });
    }

    /// <summary>A person with an active card, a verified eligibility and one entitlement: payable unless the test changes something.</summary>
    public async Task<string> RecipientAsync(int n, long amountFen = 250_000, string? household = null, string? account = null,
        string benefit = "enterprise_pension", string start = "2026-01-01", string? verified = "2026-01-10", string name = "")
    {
        var id = IdNumber(n);
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync("""
            INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
            VALUES (@id, @name, @household, '城关街道', '南街社区', 'urban', false, false, 'retired');
            INSERT INTO app.cards (id_number, card_no, bank_code, bank_account, financial_status) VALUES (@id, @card, '102', @account, 'active');
            INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period) VALUES (@id, @benefit, @amountFen, @start::date);
            INSERT INTO app.life_events (id_number, event, date) SELECT @id, 'eligibility_verified', @verified::date WHERE @verified::date IS NOT NULL;
            """, new { id, name = name == "" ? $"测试{n}" : name, household = household ?? $"H{n}", card = $"C{n}", account = account ?? Account(n), benefit, amountFen, start, verified });
        return id;
    }

    /// <summary>A second (or further) entitlement of an existing recipient.</summary>
    public Task EntitlementAsync(string id, string benefit, string start, long amountFen = 100_000, string? end = null) => ExecAsync(
        "INSERT INTO app.entitlements (id_number, benefit, monthly_amount_fen, start_period, end_period) VALUES (@id, @benefit, @amountFen, @start::date, @end::date)",
        new { id, benefit, amountFen, start, end });

    public async Task ExecAsync(string sql, object? args = null)
    {
        await using var conn = await db.OpenConnectionAsync();
        await conn.ExecuteAsync(sql, args);
    }

    public async Task<T> ScalarAsync<T>(string sql, object? args = null)
    {
        await using var conn = await db.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<T>(sql, args) ?? throw new InvalidOperationException($"no value: {sql}");
    }

    public async Task<List<Line>> LinesAsync(long batchId)
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<Line>("""
            SELECT id AS Id, kind AS Kind, id_number AS IdNumber, benefit AS Benefit, to_char(period, 'YYYY-MM') AS Period, amount_fen AS AmountFen,
                   status AS Status, hold_reason AS HoldReason, refers_to AS RefersTo, released AS Released
            FROM app.disbursement_lines WHERE batch_id = @batchId ORDER BY id
            """, new { batchId })).ToList();
    }

    public async Task AddUserAsync(UserStore users, string name, string role, string? email = null)
    {
        await users.AddAsync(name, role, Infrastructure.TestSignIn.Password, "test", CancellationToken.None);
        if (email is not null) await ExecAsync("UPDATE app.users SET email = @email WHERE name = @name", new { email, name });
    }

    /// <summary>Every live line of every batch, without ids: two builds of the same registers must give the same list.</summary>
    public async Task<List<string>> SnapshotAsync()
    {
        await using var conn = await db.OpenConnectionAsync();
        return (await conn.QueryAsync<string>("""
            SELECT concat_ws('|', to_char(b.period, 'YYYY-MM'), b.state, b.payable_count, b.payable_total_fen, b.held_count,
                             l.kind, l.id_number, l.benefit, to_char(l.period, 'YYYY-MM'), l.amount_fen, l.status, coalesce(l.hold_reason, '-'),
                             coalesce(to_char(r.period, 'YYYY-MM'), '-'), coalesce(r.kind, '-'))
            FROM app.disbursement_lines l
            JOIN app.disbursement_batches b ON b.id = l.batch_id
            LEFT JOIN app.disbursement_lines r ON r.id = l.refers_to
            WHERE b.state <> 'rejected'
            ORDER BY 1
            """)).ToList();
    }
}

public sealed record Line(long Id, string Kind, string IdNumber, string Benefit, string Period, long AmountFen, string Status, string? HoldReason, long? RefersTo, bool Released);

public static class Periods
{
    public static Period P(string s) => Period.TryParse(s, out var p) ? p : throw new ArgumentException(s);
}
