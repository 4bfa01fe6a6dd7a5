using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Npgsql;
using static Lingyuan.Jobs.Tests.Disbursements.Periods;

namespace Lingyuan.Jobs.Tests.Disbursements;

public sealed class BatchBuildTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly RegisterRows _r = new(fixture.DataSource);
    private BatchBuilder Builder => fixture.Services.GetRequiredService<BatchBuilder>();
    private BatchReview Review => fixture.Services.GetRequiredService<BatchReview>();

    public Task InitializeAsync() => _r.ResetAsync();
    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Each_hold_reason_holds_its_line_and_the_rest_is_paid()
    {
        var payable = await _r.RecipientAsync(1);
        var dead = await _r.RecipientAsync(2);
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@dead, 'death', '2026-02-20')", new { dead });
        // A pension drawn since 2025 (past its first 12 months, when the award itself stands for the verification).
        var lapsed = await _r.RecipientAsync(3, start: "2025-01-01", verified: "2025-02-28");
        var noCard = await _r.RecipientAsync(4);
        await _r.ExecAsync("DELETE FROM app.cards WHERE id_number = @noCard", new { noCard });
        var frozen = await _r.RecipientAsync(5);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'frozen' WHERE id_number = @frozen", new { frozen });
        var suspended = await _r.RecipientAsync(6);
        await _r.ExecAsync("UPDATE app.entitlements SET suspended = true WHERE id_number = @suspended", new { suspended });
        var suspendedByEvent = await _r.RecipientAsync(7);
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@suspendedByEvent, 'suspended', '2026-02-01')", new { suspendedByEvent });
        // One account, two persons of different households: both held. Same household (a spouse's account): held too,
        // DOMAIN.md §2 (corrected, issue #17): only the recipient's own card account is paid.
        var dupA = await _r.RecipientAsync(8, account: "6217000000009999");
        var dupB = await _r.RecipientAsync(9, account: "6217000000009999");
        var spouseA = await _r.RecipientAsync(10, household: "H-family", account: "6217000000008888");
        var spouseB = await _r.RecipientAsync(11, household: "H-family", account: "6217000000008888");
        var raised = await _r.RecipientAsync(12, amountFen: 100_000);
        var raisedSlightly = await _r.RecipientAsync(13, amountFen: 100_000);

        var feb = await Builder.BuildAsync(P("2026-02"), "test", default);
        await _r.ExecAsync("UPDATE app.entitlements SET monthly_amount_fen = 120001 WHERE id_number = @raised", new { raised });
        await _r.ExecAsync("UPDATE app.entitlements SET monthly_amount_fen = 120000 WHERE id_number = @raisedSlightly", new { raisedSlightly });
        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);

        var lines = (await _r.LinesAsync(mar.BatchId)).ToDictionary(l => l.IdNumber, l => l.HoldReason ?? "payable");
        Assert.Equal("payable", lines[payable]);
        Assert.Equal("dead", lines[dead]);
        Assert.Equal("eligibility_lapsed", lines[lapsed]);
        Assert.Equal("no_card", lines[noCard]);
        Assert.Equal("card_inactive", lines[frozen]);
        Assert.Equal("suspended", lines[suspended]);
        Assert.Equal("suspended", lines[suspendedByEvent]);
        Assert.Equal("duplicate_account", lines[dupA]);
        Assert.Equal("duplicate_account", lines[dupB]);
        Assert.Equal("duplicate_account", lines[spouseA]);
        Assert.Equal("duplicate_account", lines[spouseB]);
        Assert.Equal("amount_change", lines[raised]);          // +20.001 % > 20 %
        Assert.Equal("payable", lines[raisedSlightly]);        // +20 % exactly is not "more than"
        // In February the death (02-20) came after the 1st: February is still paid; eligibility of 2025-02-28 was within 12 months.
        var febLines = (await _r.LinesAsync(feb.BatchId)).ToDictionary(l => l.IdNumber, l => l.HoldReason ?? "payable");
        Assert.Equal("payable", febLines[dead]);
        Assert.Equal("payable", febLines[lapsed]);

        var b = await Batches.FindAsync(fixture.Services, mar.BatchId);
        Assert.Equal(2, b!.PayableCount);
        Assert.Equal(250_000 + 120_000, b.PayableTotalFen);
        Assert.Equal(11, b.HeldCount);
    }

    [Fact]
    public async Task A_suspension_holds_until_a_later_resumption_and_the_same_day_counts_as_suspended()
    {
        // Events dated before the 1st of the paid month count (life_events.date < next month's 1st).
        var resumed = await _r.RecipientAsync(1);
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@resumed, 'suspended', '2026-01-10'), (@resumed, 'resumed', '2026-02-05')", new { resumed });
        var sameDay = await _r.RecipientAsync(2);
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@sameDay, 'suspended', '2026-02-05'), (@sameDay, 'resumed', '2026-02-05')", new { sameDay });
        var suspendedAgain = await _r.RecipientAsync(3);
        await _r.ExecAsync("""
            INSERT INTO app.life_events VALUES (@suspendedAgain, 'suspended', '2026-01-10'), (@suspendedAgain, 'resumed', '2026-01-20'),
                                               (@suspendedAgain, 'suspended', '2026-02-03')
            """, new { suspendedAgain });
        var resumedNextMonth = await _r.RecipientAsync(4);
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@resumedNextMonth, 'suspended', '2026-02-10'), (@resumedNextMonth, 'resumed', '2026-03-02')", new { resumedNextMonth });

        var feb = await Builder.BuildAsync(P("2026-02"), "test", default);
        var lines = (await _r.LinesAsync(feb.BatchId)).ToDictionary(l => l.IdNumber, l => l.HoldReason ?? "payable");
        Assert.Equal("payable", lines[resumed]);
        Assert.Equal("suspended", lines[sameDay]);
        Assert.Equal("suspended", lines[suspendedAgain]);
        Assert.Equal("suspended", lines[resumedNextMonth]); // the resumption of 03-02 is not yet known for February

        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);
        var marLines = await _r.LinesAsync(mar.BatchId);
        Assert.Equal("payable", Assert.Single(marLines, l => l.IdNumber == resumedNextMonth && l.Kind == "regular").Status);
        // Its February is back-paid once, pointing at the held line.
        var backPay = Assert.Single(marLines, l => l.IdNumber == resumedNextMonth && l.Kind == "back_pay");
        Assert.Equal("2026-02", backPay.Period);
    }

    [Fact]
    public async Task The_batch_counters_equal_a_count_of_its_lines()
    {
        // Regular, held and back-pay lines in one batch: the counters the insert trigger keeps
        // must equal what a direct count of the lines says.
        for (var n = 1; n <= 6; n++) await _r.RecipientAsync(n, amountFen: 100_000 + n);
        var held = await _r.RecipientAsync(7);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'inactive' WHERE id_number = @held", new { held });
        var heldThenPaid = await _r.RecipientAsync(8, amountFen: 77_777);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'lost' WHERE id_number = @heldThenPaid", new { heldThenPaid });
        await Builder.BuildAsync(P("2026-03"), "test", default);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'active', updated_at = now() WHERE id_number = @heldThenPaid", new { heldThenPaid });
        await Builder.BuildAsync(P("2026-04"), "test", default);

        var mismatches = await _r.ScalarAsync<long>("""
            SELECT count(*) FROM app.disbursement_batches b
            LEFT JOIN LATERAL (
                SELECT count(*) FILTER (WHERE status = 'payable') AS payable,
                       coalesce(sum(amount_fen) FILTER (WHERE status = 'payable'), 0) AS total,
                       count(*) FILTER (WHERE status = 'held') AS held
                FROM app.disbursement_lines l WHERE l.batch_id = b.id) c ON true
            WHERE (b.payable_count, b.payable_total_fen, b.held_count) IS DISTINCT FROM (c.payable, c.total, c.held)
            """);
        Assert.Equal(0L, mismatches);
        // And the per-benefit totals the batches page shows (migration 0080), against a direct sum.
        await _r.RecipientAsync(9, amountFen: 50_000, benefit: "unemployment", start: "2026-04-01");
        await Builder.BuildAsync(P("2026-05"), "test", default);
        var benefitMismatches = await _r.ScalarAsync<long>("""
            SELECT count(*) FROM (
                SELECT batch_id, benefit, count(*) AS payable, sum(amount_fen) AS total
                FROM app.disbursement_lines WHERE status = 'payable' GROUP BY batch_id, benefit) c
            FULL JOIN app.disbursement_batch_benefits t USING (batch_id, benefit)
            WHERE (t.payable_count, t.payable_total_fen) IS DISTINCT FROM (c.payable, c.total)
            """);
        Assert.Equal(0L, benefitMismatches);
        Assert.Equal(4L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_batch_benefits"));
        Assert.Equal(3L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_batches"));
        Assert.Equal(1L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_lines WHERE kind = 'back_pay'"));
    }

    [Fact]
    public async Task A_held_month_is_back_paid_once_when_its_cause_clears()
    {
        var id = await _r.RecipientAsync(1, amountFen: 180_000);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'inactive' WHERE id_number = @id", new { id });
        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);
        var held = Assert.Single(await _r.LinesAsync(mar.BatchId));
        Assert.Equal("card_inactive", held.HoldReason);

        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'active', updated_at = now() WHERE id_number = @id", new { id });
        var apr = await Builder.BuildAsync(P("2026-04"), "test", default);
        var aprLines = await _r.LinesAsync(apr.BatchId);
        Assert.Equal(2, aprLines.Count);
        var backPay = Assert.Single(aprLines, l => l.Kind == "back_pay");
        Assert.Equal(("2026-03", 180_000L, "payable", held.Id), (backPay.Period, backPay.AmountFen, backPay.Status, backPay.RefersTo!.Value));
        Assert.Single(aprLines, l => l.Kind == "regular" && l.Period == "2026-04" && l.Status == "payable");

        var may = await Builder.BuildAsync(P("2026-05"), "test", default);
        Assert.DoesNotContain(await _r.LinesAsync(may.BatchId), l => l.Kind == "back_pay");
    }

    [Fact]
    public async Task The_database_refuses_a_second_payment_for_the_same_person_benefit_and_month()
    {
        var id = await _r.RecipientAsync(1);
        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);
        var other = await _r.ScalarAsync<long>("INSERT INTO app.disbursement_batches (period, state, built_by) VALUES ('2026-04-01', 'draft', 'test') RETURNING id");
        var ex = await Assert.ThrowsAsync<PostgresException>(() => _r.ExecAsync("""
            INSERT INTO app.disbursement_lines (batch_id, kind, id_number, benefit, period, amount_fen, status, refers_to, bank_code, bank_account, account_name)
            VALUES (@other, 'back_pay', @id, 'enterprise_pension', '2026-03-01', 1, 'payable', (SELECT min(id) FROM app.disbursement_lines), '102', '6217000000000001', 'x')
            """, new { other, id }));
        Assert.Equal("23505", ex.SqlState);
        Assert.Equal("disbursement_lines_one_payment", ex.ConstraintName);
        // A re-issue of a line the bank did not return as failed is refused too.
        var reissue = await Assert.ThrowsAsync<PostgresException>(() => _r.ExecAsync("""
            INSERT INTO app.disbursement_lines (batch_id, kind, id_number, benefit, period, amount_fen, status, refers_to, bank_code, bank_account, account_name)
            VALUES (@other, 'reissue', @id, 'enterprise_pension', '2026-03-01', 1, 'payable', (SELECT min(id) FROM app.disbursement_lines), '102', '6217000000000001', 'x')
            """, new { other, id }));
        Assert.Equal("23514", reissue.SqlState);
        // And a batch per period: building March again returns the same batch.
        Assert.Equal(mar with { Built = false }, await Builder.BuildAsync(P("2026-03"), "test", default));
    }

    [Fact]
    public async Task A_rejected_batch_releases_its_period_and_the_rebuild_pays_each_line_once()
    {
        var users = fixture.Services.GetRequiredService<UserStore>();
        await _r.AddUserAsync(users, "fin1", "finance");
        var id = await _r.RecipientAsync(1);
        var first = await Builder.BuildAsync(P("2026-03"), "test", default);
        await Review.SubmitAsync(first.BatchId, "fin1", default);
        await Review.RejectAsync(first.BatchId, "fin1", "金额有误 wrong amounts", default);
        Assert.All(await _r.LinesAsync(first.BatchId), l => Assert.True(l.Released));

        var second = await Builder.BuildAsync(P("2026-03"), "test", default);
        Assert.True(second.Built);
        Assert.NotEqual(first.BatchId, second.BatchId);
        Assert.Equal(1, await _r.ScalarAsync<long>(
            "SELECT count(*) FROM app.disbursement_lines WHERE id_number = @id AND status = 'payable' AND NOT released", new { id }));
        Assert.Equal(BatchState.Rejected, (await Batches.FindAsync(fixture.Services, first.BatchId))!.State);
    }

    [Fact]
    public async Task Follow_ups_look_up_the_new_lines_on_the_one_payment_index_whatever_the_statistics_say()
    {
        // A third month of a million entitlements ran for over ten minutes: the statistics (analysed after the
        // second month) knew nothing of the batch being built, so each held line looked for its person's new line
        // by scanning the whole batch on disbursement_lines_batch. The lookup must take the one-payment key.
        for (var n = 1; n <= 200; n++) await _r.RecipientAsync(n);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'inactive' WHERE card_no LIKE '%0'"); // 20 held each month
        await Builder.BuildAsync(P("2026-02"), "test", default);
        await Builder.BuildAsync(P("2026-03"), "test", default);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'active'"); // their held months are back-paid in April
        await _r.ExecAsync("ANALYZE app.disbursement_lines");

#pragma warning disable DAP018 // the builder's statements are constants of another assembly: Dapper's analyser cannot see their parameters
        await using var conn = await fixture.DataSource.OpenConnectionAsync();
        await using var tx = await conn.BeginTransactionAsync();
        var id = await conn.ExecuteScalarAsync<long>(
            "INSERT INTO app.disbursement_batches (period, state, built_by) VALUES ('2026-04-01', 'draft', 'test') RETURNING id", transaction: tx);
        var args = BatchBuilder.Arguments(id, P("2026-04"), fixture.Services.GetRequiredService<IOptions<DisbursementOptions>>().Value);
        await conn.ExecuteAsync(string.Concat(BatchBuilder.BulkSettings.Select(s => $"SET LOCAL {s};")), transaction: tx); // as the build's unit of work applies them
        await conn.ExecuteAsync(BatchBuilder.RegularLinesSql, args, tx);
        await conn.ExecuteAsync(BatchBuilder.FollowUpSettings, transaction: tx); // as BuildAsync runs it
        var plan = string.Join('\n', await conn.QueryAsync<string>("EXPLAIN " + BatchBuilder.FollowUpLinesSql, args, tx));

        Assert.DoesNotContain("disbursement_lines_batch", plan);
        Assert.Contains("disbursement_lines_one_payment", plan);
        Assert.Equal(40, await conn.ExecuteAsync(BatchBuilder.FollowUpLinesSql, args, tx)); // February's and March's held months
        await tx.RollbackAsync();
#pragma warning restore DAP018
    }
}
