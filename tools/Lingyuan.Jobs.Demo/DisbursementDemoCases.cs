using Dapper;
using Npgsql;

namespace Lingyuan.Jobs.Demo;

/// <summary>
/// The cases of issue #17 (DOMAIN.md §2) in the demo registers, added after the generator's rows by deterministic
/// set-based statements (a hash of the ID number picks the persons, so a seed still means the same data):
/// cards paid into a household member's account with the card register naming that member as the holder (a
/// spouse's account: held as not the recipient's own), and pensioners suspended for imprisonment (服刑, their
/// months are not back-paid), half of them released and resumed since.
/// </summary>
internal static class DisbursementDemoCases
{
    /// <summary>Returns how many register rows it changed or added.</summary>
    public static async Task<long> AddAsync(NpgsqlConnection conn, NpgsqlTransaction tx, DateOnly today, CancellationToken ct)
    {
        // About one household in 1,500 of those with two card holders: the second member's benefits go to the first's account,
        // which the card register names as the first member's.
        var spouses = await conn.ExecuteAsync(new CommandDefinition("""
            WITH pairs AS (
                SELECT p.household_no, min(c.id_number) AS first_id, max(c.id_number) AS second_id
                FROM app.cards c JOIN app.persons p ON p.id_number = c.id_number
                GROUP BY p.household_no
                HAVING count(*) = 2 AND abs(hashtext(p.household_no)::bigint) % 1500 = 7
            )
            UPDATE app.cards c
            SET account_holder = pairs.first_id, bank_account = f.bank_account, bank_code = f.bank_code
            FROM pairs JOIN app.cards f ON f.id_number = pairs.first_id
            WHERE c.id_number IN (pairs.first_id, pairs.second_id) -- the first card names its own holder: it stays payable
            """, transaction: tx, commandTimeout: 0, cancellationToken: ct));
        // About one pensioner in 4,000: imprisoned 100 days ago; half of them resumed 30 days ago.
        var prisoners = await conn.ExecuteAsync(new CommandDefinition("""
            WITH chosen AS (
                SELECT DISTINCT id_number FROM app.entitlements
                WHERE benefit IN ('enterprise_pension', 'institution_pension', 'resident_pension') AND abs(hashtext(id_number)::bigint) % 4000 = 11
            )
            INSERT INTO app.life_events (id_number, event, date)
            SELECT id_number, 'imprisoned', @jailed FROM chosen
            UNION ALL
            SELECT id_number, 'resumed', @freed FROM chosen WHERE abs(hashtext(id_number)::bigint) % 2 = 0
            ON CONFLICT DO NOTHING
            """, new { jailed = today.AddDays(-100), freed = today.AddDays(-30) }, tx, commandTimeout: 0, cancellationToken: ct));
        return spouses + prisoners;
    }
}
