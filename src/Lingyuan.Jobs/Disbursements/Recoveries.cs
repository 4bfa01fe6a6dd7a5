using Lingyuan.Jobs.Database;

namespace Lingyuan.Jobs.Disbursements;

/// <summary>
/// Paid lines for a month after the month of the recipient's recorded death (deaths are often reported late:
/// 经办条例 art. 25 allows 20 working days), listed for recovery (追回). The month of death itself is due (a pension
/// is paid for the month of death and stops from the next month, DOMAIN.md §2): a line's period is the 1st of its
/// month, so "after the month of death" is exactly <c>period &gt; death date</c>. Run after a build (a late death found
/// against earlier payments) and after a reconciliation (a payment the bank confirmed). Idempotent.
/// </summary>
internal static class Recoveries
{
    /// <summary>Lists the new recoveries in the work's transaction; returns how many were added.</summary>
    public static Task<int> ListNewAsync(UnitOfWork uow) => uow.ExecuteAsync(Sql, timeout: 0);

    // Each month after the death that has a batch is looked up on the one-payment key (month, person); the
    // months come from the batches, as every line's month is its batch's or a held month of an earlier batch.
    // Deaths are few and lines many: a probe per death and month.
    internal const string Sql = """
        INSERT INTO app.disbursement_recoveries (line_id, id_number, death_date, amount_fen)
        SELECT l.id, l.id_number, d.died_on, l.amount_fen
        FROM (SELECT id_number, min(date) AS died_on FROM app.life_events WHERE event = 'death' GROUP BY id_number) d
        JOIN LATERAL (
            SELECT x.id, x.id_number, x.period, x.amount_fen
            FROM (SELECT DISTINCT period FROM app.disbursement_batches WHERE period > d.died_on) m
            JOIN app.disbursement_lines x ON x.period = m.period AND x.id_number = d.id_number
            WHERE x.status = 'payable' AND x.kind <> 'reissue' AND NOT x.released
            UNION ALL
            -- Re-issues, on the follow-up index (re-issues are few).
            SELECT id, id_number, period, amount_fen FROM app.disbursement_lines x
            WHERE x.refers_to IS NOT NULL AND NOT x.released AND x.kind = 'reissue' AND x.id_number = d.id_number
        ) l ON l.period > d.died_on
        JOIN app.disbursement_outcomes o ON o.line_id = l.id AND o.status = 'paid'
        ON CONFLICT (line_id) DO NOTHING
        """;
}
