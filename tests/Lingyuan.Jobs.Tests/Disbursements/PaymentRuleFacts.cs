using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using static Lingyuan.Jobs.Tests.Disbursements.Periods;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>
/// The pay-and-hold rules of DOMAIN.md §2 as corrected by issue #17, each a table of rows naming their source; the
/// issue's examples are rows. Each table is set up in one database and built once, and every row that fails is listed.
/// </summary>
public sealed class PaymentRuleFacts(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly RegisterRows _r = new(fixture.DataSource);
    private BatchBuilder Builder => fixture.Services.GetRequiredService<BatchBuilder>();
    private BatchReview Review => fixture.Services.GetRequiredService<BatchReview>();
    private HoldRelease Release => fixture.Services.GetRequiredService<HoldRelease>();

    public async Task InitializeAsync()
    {
        await _r.ResetAsync();
        var users = fixture.Services.GetRequiredService<UserStore>();
        await _r.AddUserAsync(users, "preparer", "finance");
        await _r.AddUserAsync(users, "approver", "finance");
        await _r.AddUserAsync(users, "watcher", "operator");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<Dictionary<(string Id, string Benefit), string>> OutcomesAsync(long batchId) =>
        (await _r.LinesAsync(batchId)).Where(l => l.Kind == "regular").ToDictionary(l => (l.IdNumber, l.Benefit), l => l.HoldReason ?? "payable");

    private static void Expect(List<string> failures, string row, string source, object? expected, object? actual)
    {
        if (!Equals(expected, actual)) failures.Add($"{row} [{source}]: expected {expected}, got {actual ?? "(none)"}");
    }

    private sealed record DeathRow(int N, string Died, string Period, string Expected, string Source);

    [Fact]
    public async Task A_pension_is_paid_for_the_month_of_death_and_held_from_the_next_month()
    {
        DeathRow[] rows =
        [
            new(1, "2026-03-01", "2026-03", "payable", "DOMAIN.md §2, issue #17 example: died 03-01, March is paid, not held"),
            new(1, "2026-03-01", "2026-04", "dead", "DOMAIN.md §2: stops from the month after the month of death"),
            new(2, "2026-03-31", "2026-03", "payable", "DOMAIN.md §2: the month of death is paid to its last day"),
            new(3, "2026-02-20", "2026-03", "dead", "DOMAIN.md §2: died in an earlier month"),
            new(3, "2026-02-20", "2026-02", "payable", "DOMAIN.md §2: the month of death"),
        ];
        foreach (var n in rows.Select(r => r.N).Distinct())
        {
            var id = await _r.RecipientAsync(n);
            await _r.ExecAsync("INSERT INTO app.life_events VALUES (@id, 'death', @d::date)", new { id, d = rows.First(r => r.N == n).Died });
        }
        var batches = new Dictionary<string, long>();
        foreach (var p in rows.Select(r => r.Period).Distinct().Order()) batches[p] = (await Builder.BuildAsync(P(p), "test", default)).BatchId;

        var failures = new List<string>();
        foreach (var row in rows)
        {
            var outcomes = await OutcomesAsync(batches[row.Period]);
            Expect(failures, $"died {row.Died}, {row.Period}", row.Source, row.Expected, outcomes.GetValueOrDefault((RegisterRows.IdNumber(row.N), "enterprise_pension")));
        }
        Assert.Empty(failures);
    }

    private sealed record RecoveryRow(int N, string? Died, string[] Recovered, string Source);

    [Fact]
    public async Task Only_payments_for_months_after_the_month_of_death_are_listed_for_recovery()
    {
        RecoveryRow[] rows =
        [
            new(1, "2026-03-01", ["2026-04"], "DOMAIN.md §2, issue #17 example: March paid for a death on 03-01 is not recovered"),
            new(2, "2026-03-15", ["2026-04"], "社会保险经办条例 art. 25/46: recovery covers months after the month of death"),
            new(3, "2026-02-28", ["2026-03", "2026-04"], "社会保险经办条例 art. 46: both months after February are recovered"),
            new(4, null, [], "no death: nothing recovered"),
        ];
        foreach (var row in rows) await _r.RecipientAsync(row.N, amountFen: 100_000);
        var bankFile = fixture.Services.GetRequiredService<BankFile>();
        var reconciler = fixture.Services.GetRequiredService<Reconciler>();
        async Task PaidAsync(string period, Func<Task>? beforeReturnFile = null)
        {
            var b = await Builder.BuildAsync(P(period), "test", default);
            await Review.SubmitAsync(b.BatchId, "preparer", default);
            await Review.ApproveAsync(b.BatchId, "approver", default);
            await bankFile.ExportToFileAsync(b.BatchId, Path.Combine(Path.GetTempPath(), $"bank-{Guid.NewGuid():N}.csv"), "test", default);
            if (beforeReturnFile is not null) await beforeReturnFile();
            var csv = new StringBuilder("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n");
            foreach (var l in await _r.LinesAsync(b.BatchId))
                csv.Append(CultureInfo.InvariantCulture, $"{l.Id},paid,{l.AmountFen / 100}.00,T{l.Id},,\n");
            await reconciler.ReconcileAsync(b.BatchId, new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), "r.csv", "test", default);
        }
        await PaidAsync("2026-03");
        // The deaths are reported late, after April's bank file went out; the return file then lists the recoveries.
        await PaidAsync("2026-04", async () =>
        {
            foreach (var row in rows.Where(r => r.Died is not null))
                await _r.ExecAsync("INSERT INTO app.life_events VALUES (@id, 'death', @d::date)", new { id = RegisterRows.IdNumber(row.N), d = row.Died });
        });

        var failures = new List<string>();
        foreach (var row in rows)
        {
            await using var conn = await fixture.DataSource.OpenConnectionAsync();
            var recovered = (await Dapper.SqlMapper.QueryAsync<string>(conn, """
                SELECT to_char(l.period, 'YYYY-MM') FROM app.disbursement_recoveries r JOIN app.disbursement_lines l ON l.id = r.line_id
                WHERE r.id_number = @id ORDER BY 1
                """, new { id = RegisterRows.IdNumber(row.N) })).ToArray();
            Expect(failures, $"died {row.Died ?? "-"}", row.Source, string.Join(",", row.Recovered), string.Join(",", recovered));
        }
        Assert.Empty(failures);
    }

    private sealed record EligibilityRow(int N, string Benefit, string Start, string? Verified, string Expected, string Source);

    [Fact]
    public async Task Eligibility_verification_holds_only_long_term_benefits_past_their_first_twelve_months()
    {
        // March 2026: a verification is valid when made after 2025-03-01 (12 months).
        EligibilityRow[] rows =
        [
            new(1, "enterprise_pension", "2026-01-01", null, "payable", "issue #17 example; 社会保险经办条例 art. 26: a new pensioner without a verification record, first 12 months"),
            new(2, "enterprise_pension", "2025-04-01", null, "payable", "DOMAIN.md §2: the 12th month of a new entitlement"),
            new(3, "enterprise_pension", "2025-03-01", null, "eligibility_lapsed", "社会保险经办条例 art. 26: the 13th month without verification"),
            new(4, "enterprise_pension", "2024-01-01", "2025-02-28", "eligibility_lapsed", "社会保险经办条例 art. 26: verified more than 12 months ago"),
            new(5, "enterprise_pension", "2024-01-01", "2025-03-02", "payable", "社会保险经办条例 art. 26: verified within 12 months"),
            new(6, "survivor_allowance", "2024-01-01", null, "eligibility_lapsed", "DOMAIN.md §2: survivors' allowance is a long-term benefit"),
            new(7, "resident_pension", "2024-01-01", "2025-06-01", "payable", "社会保险经办条例 art. 26: verified within 12 months"),
            new(8, "unemployment", "2025-01-01", null, "payable", "DOMAIN.md §2: unemployment benefit is short-term, not verified"),
            new(9, "employment_subsidy", "2024-01-01", null, "payable", "DOMAIN.md §2: subsidies are not verified"),
            new(10, "training_subsidy", "2024-01-01", null, "payable", "DOMAIN.md §2: subsidies are not verified"),
            new(11, "insurance_subsidy", "2024-01-01", null, "payable", "DOMAIN.md §2: subsidies are not verified"),
            new(12, "institution_pension", "2024-01-01", null, "eligibility_lapsed", "社会保险经办条例 art. 26: a pension"),
        ];
        foreach (var row in rows) await _r.RecipientAsync(row.N, benefit: row.Benefit, start: row.Start, verified: row.Verified);
        var outcomes = await OutcomesAsync((await Builder.BuildAsync(P("2026-03"), "test", default)).BatchId);

        var failures = new List<string>();
        foreach (var row in rows)
            Expect(failures, $"{row.Benefit} from {row.Start}, verified {row.Verified ?? "never"}", row.Source, row.Expected,
                outcomes.GetValueOrDefault((RegisterRows.IdNumber(row.N), row.Benefit)));
        Assert.Empty(failures);
    }

    private sealed record TwiceRow(int N, (string Benefit, string Start)[] Benefits, string HeldBenefit, string Source);

    [Fact]
    public async Task Of_two_benefits_a_person_may_not_draw_together_the_later_starting_is_held()
    {
        TwiceRow[] rows =
        [
            new(1, [("enterprise_pension", "2025-01-01"), ("resident_pension", "2026-02-01")], "resident_pension",
                "城乡养老保险制度衔接暂行办法 art. 9; DOMAIN.md §2: the residents' pension started later"),
            new(2, [("resident_pension", "2020-01-01"), ("enterprise_pension", "2026-01-01")], "enterprise_pension",
                "DOMAIN.md §2: the later-starting one is held, whichever it is"),
            new(3, [("enterprise_pension", "2026-01-01"), ("resident_pension", "2026-01-01")], "resident_pension",
                "城乡养老保险制度衔接暂行办法 art. 9: same start, the residents' pension yields"),
            new(4, [("unemployment", "2025-06-01"), ("enterprise_pension", "2026-02-01")], "enterprise_pension",
                "失业保险条例 art. 15(4); DOMAIN.md §2: the later-starting one is held"),
            new(5, [("enterprise_pension", "2024-01-01"), ("unemployment", "2026-01-01")], "unemployment",
                "失业保险条例 art. 15(4): unemployment benefit beside a pension"),
            new(6, [("resident_pension", "2024-01-01"), ("unemployment", "2026-01-01")], "unemployment",
                "失业保险条例 art. 15(4): a residents' pension is a basic pension too"),
            new(7, [("enterprise_pension", "2024-01-01"), ("survivor_allowance", "2026-01-01")], "",
                "DOMAIN.md §2: a survivors' allowance beside a pension is no double payment"),
            new(8, [("enterprise_pension", "2024-01-01"), ("resident_pension", "2026-01-01")], "resident_pension",
                "城乡养老保险制度衔接暂行办法 art. 9"),
        ];
        foreach (var row in rows)
        {
            var id = await _r.RecipientAsync(row.N, benefit: row.Benefits[0].Benefit, start: row.Benefits[0].Start, verified: "2026-01-10");
            foreach (var (benefit, start) in row.Benefits.Skip(1)) await _r.EntitlementAsync(id, benefit, start);
        }
        // Row 8's residents' pension ended in February: in March only the employees' pension is drawn.
        await _r.ExecAsync("UPDATE app.entitlements SET end_period = '2026-02-01' WHERE id_number = @id AND benefit = 'resident_pension'", new { id = RegisterRows.IdNumber(8) });
        rows[7] = rows[7] with { HeldBenefit = "", Source = "DOMAIN.md §2: in one month only; the other ended before March" };
        var outcomes = await OutcomesAsync((await Builder.BuildAsync(P("2026-03"), "test", default)).BatchId);

        var failures = new List<string>();
        foreach (var row in rows)
            foreach (var (benefit, start) in row.Benefits)
            {
                if (!outcomes.TryGetValue((RegisterRows.IdNumber(row.N), benefit), out var got)) continue; // ended
                Expect(failures, $"row {row.N}: {benefit} from {start}", row.Source, benefit == row.HeldBenefit ? "incompatible_benefit" : "payable", got);
            }
        Assert.Empty(failures);
    }

    private sealed record AccountRow(int N, string? Account, int? HolderN, int? Household, string Expected, string Source);

    [Fact]
    public async Task Only_the_recipients_own_card_account_is_paid()
    {
        AccountRow[] rows =
        [
            new(1, null, 2, null, "not_own_account", "issue #17; DOMAIN.md §2: the card register names the spouse as the account's holder"),
            new(3, "6217000000003333", null, 1, "duplicate_account", "issue #17: a spouse's account, same household, holder not named"),
            new(4, "6217000000003333", null, 1, "duplicate_account", "issue #17: a spouse's account, same household, holder not named"),
            new(5, "6217000000005555", 5, 2, "payable", "DOMAIN.md §2: the register names this recipient as the holder"),
            new(6, "6217000000005555", 5, 2, "not_own_account", "DOMAIN.md §2: the register names the spouse (row 5) as the holder"),
            new(7, "6217000000007777", null, null, "duplicate_account", "DOMAIN.md §2: one account, two households"),
            new(8, "6217000000007777", null, null, "duplicate_account", "DOMAIN.md §2: one account, two households"),
            new(9, null, 9, null, "payable", "DOMAIN.md §2: own account, own name as holder"),
            new(10, null, null, null, "payable", "DOMAIN.md §2: own account"),
        ];
        foreach (var row in rows)
        {
            var id = await _r.RecipientAsync(row.N, account: row.Account, household: row.Household is { } h ? $"F{h}" : null);
            if (row.HolderN is { } holder)
                await _r.ExecAsync("UPDATE app.cards SET account_holder = @holder WHERE id_number = @id", new { id, holder = RegisterRows.IdNumber(holder) });
        }
        var outcomes = await OutcomesAsync((await Builder.BuildAsync(P("2026-03"), "test", default)).BatchId);

        var failures = new List<string>();
        foreach (var row in rows)
            Expect(failures, $"row {row.N}", row.Source, row.Expected, outcomes.GetValueOrDefault((RegisterRows.IdNumber(row.N), "enterprise_pension")));
        Assert.Empty(failures);
    }

    [Fact]
    public async Task The_card_register_file_names_the_accounts_holder_and_the_life_events_file_an_imprisonment()
    {
        // The registers as the bureau loads them: cards with the optional account_holder_id_number column (empty: the
        // card's own holder), life events with 'imprisoned'.
        var spouse = await _r.RecipientAsync(1);
        var own = await _r.RecipientAsync(2);
        var jailed = await _r.RecipientAsync(3);
        static string Luhn(string payload) => payload + Lingyuan.Jobs.Registers.BankAccount.LuhnCheckDigit(payload);
        var dir = Directory.CreateTempSubdirectory("i17-cards").FullName;
        var cards = Path.Combine(dir, "cards.csv");
        await File.WriteAllTextAsync(cards, $"""
            id_number,card_no,bank_code,bank_account,financial_status,account_holder_id_number
            {spouse},C1,102,{Luhn("621700000000001")},active,{own}
            {own},C2,102,{Luhn("621700000000002")},active,

            """);
        var events = Path.Combine(dir, "life-events.csv");
        await File.WriteAllTextAsync(events, $"""
            id_number,event,date
            {jailed},imprisoned,2026-02-10

            """);
        var importer = fixture.Services.GetRequiredService<Lingyuan.Jobs.Registers.Import.RegisterImporter>();
        foreach (var (kind, path) in new[] { ("cards", cards), ("life-events", events) })
            await importer.ImportAsync(new Lingyuan.Jobs.Registers.Import.ImportRequest(kind, path, Actor: "test"), TextWriter.Null, default);

        var outcomes = await OutcomesAsync((await Builder.BuildAsync(P("2026-03"), "test", default)).BatchId);
        Assert.Equal("not_own_account", outcomes[(spouse, "enterprise_pension")]); // DOMAIN.md §2: a spouse's account
        Assert.Equal("payable", outcomes[(own, "enterprise_pension")]);
        Assert.Equal("imprisoned", outcomes[(jailed, "enterprise_pension")]); // 劳社厅函〔2001〕44号
    }

    /// <summary>How a month comes to be held for a reason in March 2026, and how its cause is cleared before April.</summary>
    private sealed record BackPayRow(string Reason, bool BackPaid, string Source, string Benefit, Func<string, Task> Hold, Func<string, Task> Clear);

    [Fact]
    public async Task Whether_a_held_month_is_back_paid_is_decided_by_its_hold_reason_through_the_one_table()
    {
        Task Sql(string sql, string id) => _r.ExecAsync(sql, new { id });
        Task Nothing(string _) => Task.CompletedTask;
        BackPayRow[] rows =
        [
            new("dead", false, "DOMAIN.md §2: nothing after death", "enterprise_pension",
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'death', '2026-02-15')", id), Nothing),
            new("imprisoned", false, "劳社厅函〔2001〕44号: suspension for imprisonment is not back-paid", "enterprise_pension",
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'imprisoned', '2026-03-05')", id),
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'resumed', '2026-04-02')", id)),
            new("unemployment_stopped", false, "失业保险条例 art. 15: months of a stopped unemployment benefit are not back-paid", "unemployment",
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'suspended', '2026-03-05')", id),
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'resumed', '2026-04-02')", id)),
            new("suspended", true, "DOMAIN.md §2: an administrative suspension, resumed", "enterprise_pension",
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'suspended', '2026-03-05')", id),
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'resumed', '2026-04-02')", id)),
            new("incompatible_benefit", false, "城乡养老保险制度衔接暂行办法 art. 9: the other pension was paid for March", "resident_pension",
                id => _r.EntitlementAsync(id, "resident_pension", "2026-03-01"),
                id => Sql("UPDATE app.entitlements SET end_period = '2026-03-01' WHERE id_number = @id AND benefit = 'enterprise_pension'", id)),
            new("no_person", true, "DOMAIN.md §2: administrative hold", "enterprise_pension",
                id => Sql("DELETE FROM app.persons WHERE id_number = @id", id),
                id => Sql("""
                    INSERT INTO app.persons (id_number, name, household_no, street, community, hukou, able_to_work, wants_work, employment)
                    VALUES (@id, '补录', 'H-late', '城关街道', '南街社区', 'urban', false, false, 'retired')
                    """, id)),
            new("no_card", true, "DOMAIN.md §2: administrative hold (no card)", "enterprise_pension",
                id => Sql("DELETE FROM app.cards WHERE id_number = @id", id),
                id => Sql("INSERT INTO app.cards (id_number, card_no, bank_code, bank_account, financial_status) VALUES (@id, 'C-late', '102', '6217000000424242', 'active')", id)),
            new("card_inactive", true, "DOMAIN.md §2: administrative hold (inactive card)", "enterprise_pension",
                id => Sql("UPDATE app.cards SET financial_status = 'inactive' WHERE id_number = @id", id),
                id => Sql("UPDATE app.cards SET financial_status = 'active', updated_at = now() WHERE id_number = @id", id)),
            new("eligibility_lapsed", true, "社会保险经办条例 art. 26: lapsed verification later completed", "enterprise_pension",
                id => Sql("DELETE FROM app.life_events WHERE id_number = @id; INSERT INTO app.life_events VALUES (@id, 'eligibility_verified', '2025-02-15')", id),
                id => Sql("INSERT INTO app.life_events VALUES (@id, 'eligibility_verified', '2026-04-02')", id)),
            new("not_own_account", true, "DOMAIN.md §2: another person's account, corrected", "enterprise_pension",
                id => Sql($"UPDATE app.cards SET account_holder = '{RegisterRows.IdNumber(999)}' WHERE id_number = @id", id),
                id => Sql("UPDATE app.cards SET account_holder = NULL, updated_at = now() WHERE id_number = @id", id)),
            new("duplicate_account", true, "DOMAIN.md §2: duplicate account fixed", "enterprise_pension",
                id => Sql($"UPDATE app.cards SET bank_account = '6217000000999999' WHERE id_number IN (@id, '{RegisterRows.IdNumber(998)}')", id),
                id => Sql($"UPDATE app.cards SET bank_account = '6217000000888888', updated_at = now() WHERE id_number = '{RegisterRows.IdNumber(998)}'", id)),
            new("amount_change", true, "DOMAIN.md §2: amount change released by a finance user", "enterprise_pension",
                id => Sql("UPDATE app.entitlements SET monthly_amount_fen = 2000000 WHERE id_number = @id", id),
                async id =>
                {
                    var line = await _r.ScalarAsync<long>(
                        "SELECT id FROM app.disbursement_lines WHERE id_number = @id AND hold_reason = 'amount_change' AND period = '2026-03-01'", new { id });
                    await Release.ReleaseAsync(line, "approver", "已核实调待文件", default);
                }),
        ];
        // Every reason of the table has its row here, and the table says what the sources say.
        Assert.Equal(HoldReasons.All.Select(r => r.Code).Order(), rows.Select(r => r.Reason).Order());
        var failures = new List<string>();
        foreach (var row in rows)
            Expect(failures, $"table: {row.Reason} back-paid", row.Source, row.BackPaid, HoldReasons.Find(row.Reason)!.BackPaid);

        var ids = new Dictionary<string, string>();
        for (var i = 0; i < rows.Length; i++)
            ids[rows[i].Reason] = await _r.RecipientAsync(i + 1, amountFen: 200_000, benefit: rows[i].Benefit == "unemployment" ? "unemployment" : "enterprise_pension",
                start: "2025-01-01", verified: "2026-01-10");
        await _r.RecipientAsync(998); // the other holder of the duplicate account
        await Builder.BuildAsync(P("2026-02"), "test", default);
        foreach (var row in rows) await row.Hold(ids[row.Reason]);
        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);
        await Review.SubmitAsync(mar.BatchId, "preparer", default);
        var marLines = (await _r.LinesAsync(mar.BatchId)).Where(l => l.Kind == "regular").ToList();
        foreach (var row in rows) await row.Clear(ids[row.Reason]);
        var apr = await _r.LinesAsync((await Builder.BuildAsync(P("2026-04"), "test", default)).BatchId);

        foreach (var row in rows)
        {
            var held = marLines.SingleOrDefault(l => l.IdNumber == ids[row.Reason] && l.Benefit == row.Benefit);
            Expect(failures, $"{row.Reason}: March held", row.Source, row.Reason, held?.HoldReason);
            var backPaid = held is not null && apr.Any(l => l.Kind == "back_pay" && l.RefersTo == held.Id);
            Expect(failures, $"{row.Reason}: March back-paid in April", row.Source, row.BackPaid, backPaid);
        }
        Assert.Empty(failures);
    }

    [Fact]
    public async Task An_amount_change_stays_held_until_another_finance_user_releases_it_and_the_next_build_back_pays_it()
    {
        // Issue #17 example: 2,000 → 20,000 yuan in March.
        var id = await _r.RecipientAsync(1, amountFen: 200_000);
        await Builder.BuildAsync(P("2026-02"), "test", default);
        await _r.ExecAsync("UPDATE app.entitlements SET monthly_amount_fen = 2000000 WHERE id_number = @id", new { id });
        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);
        await Review.SubmitAsync(mar.BatchId, "preparer", default);
        var apr = await Builder.BuildAsync(P("2026-04"), "test", default);
        var marLine = Assert.Single(await _r.LinesAsync(mar.BatchId));
        var aprLines = await _r.LinesAsync(apr.BatchId);
        // It never clears itself: April is held for the same change (measured against the last paid 2,000), nothing is back-paid.
        Assert.Equal(("held", "amount_change"), (marLine.Status, marLine.HoldReason));
        var aprLine = Assert.Single(aprLines);
        Assert.Equal(("held", "amount_change", 2_000_000L), (aprLine.Status, aprLine.HoldReason, aprLine.AmountFen));
        Assert.Equal(200_000L, await _r.ScalarAsync<long>("SELECT basis_fen FROM app.disbursement_lines WHERE id = @x", new { x = aprLine.Id }));

        // Who may release (DOMAIN.md §2): rows name the rule each refusal pins.
        var refusals = new (string User, string Reason, Type Error, bool Forbidden, string Source)[]
        {
            ("preparer", "已核实", typeof(DomainRuleException), true, "DOMAIN.md §2: not the batch's preparer (four eyes)"),
            ("watcher", "已核实", typeof(DomainRuleException), true, "DOMAIN.md §2: a finance user"),
            ("approver", " ", typeof(UsageException), false, "DOMAIN.md §2: with a reason"),
        };
        foreach (var r in refusals)
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(() => Release.ReleaseAsync(marLine.Id, r.User, r.Reason, default));
            Assert.True(ex.GetType() == r.Error && ex.Data.Contains(BatchLifecycle.ForbiddenKey) == r.Forbidden, $"{r.User} [{r.Source}]: {ex.GetType().Name}: {ex.Message}");
        }
        Assert.Equal(0L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_hold_releases"));

        // The release, from the command line as the proved account. Its one-time code is the next step's (the server
        // accepts one step of drift either way): a CLI process starting on a loaded machine outlived the current one.
        await TestSignIn.CodeAsync(fixture.Services, "approver"); // enrols the account's second factor
        var secret = await fixture.Services.GetRequiredService<UserStore>().TotpSecretAsync("approver", default);
        var nextStep = (DateTimeOffset.UtcNow.ToUnixTimeSeconds() / 30 + 1) * 30;
        var stdin = $"{TestSignIn.Password}\n{TwoFactor.Code(secret!, DateTimeOffset.FromUnixTimeSeconds(nextStep))}\n";
        var (code, output) = await ServiceProcess.RunAsync(fixture, $"batch release-hold {marLine.Id} --user approver --reason 已核实调待文件", stdin: stdin);
        Assert.True(code == 0, output);
        Assert.Contains("下一批次补发", output);
        // March and April (the same change) are released, by the approver, audited once with the reason.
        Assert.Equal(2L, await _r.ScalarAsync<long>(
            "SELECT count(*) FROM app.disbursement_hold_releases WHERE line_id IN (@m, @a) AND released_by = 'approver' AND reason = '已核实调待文件'",
            new { m = marLine.Id, a = aprLine.Id }));
        Assert.Equal(1L, await _r.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE action = 'disbursement.hold_release' AND subject_id = @s AND actor = 'approver'",
            new { s = marLine.Id.ToString(CultureInfo.InvariantCulture) }));
        var again = await Assert.ThrowsAsync<DomainRuleException>(() => Release.ReleaseAsync(aprLine.Id, "approver", "再次", default));
        Assert.Contains("already released", again.Message);

        // The next build pays May at 20,000 and back-pays March and April, each once.
        var may = await _r.LinesAsync((await Builder.BuildAsync(P("2026-05"), "test", default)).BatchId);
        Assert.Single(may, l => l.IdNumber == id && l.Kind == "regular" && l.Status == "payable" && l.AmountFen == 2_000_000);
        Assert.Equal([marLine.Id, aprLine.Id], may.Where(l => l.Kind == "back_pay").Select(l => l.RefersTo!.Value).Order());
        Assert.All(may.Where(l => l.Kind == "back_pay"), l => Assert.Equal(2_000_000, l.AmountFen));
        var jun = await _r.LinesAsync((await Builder.BuildAsync(P("2026-06"), "test", default)).BatchId);
        Assert.DoesNotContain(jun, l => l.Kind == "back_pay" && l.IdNumber == id);
    }

    [Fact]
    public async Task Only_an_amount_change_hold_is_released_by_a_person()
    {
        var id = await _r.RecipientAsync(1);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'frozen' WHERE id_number = @id", new { id });
        var mar = await Builder.BuildAsync(P("2026-03"), "test", default);
        var line = Assert.Single(await _r.LinesAsync(mar.BatchId));
        var ex = await Assert.ThrowsAsync<DomainRuleException>(() => Release.ReleaseAsync(line.Id, "approver", "已核实", default));
        Assert.Contains("not held for an amount change", ex.Message);
        Assert.Equal(0L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_hold_releases"));
    }

    [Fact]
    public async Task The_hold_reasons_table_matches_the_database_check_and_every_reason_has_a_rule()
    {
        var def = await _r.ScalarAsync<string>(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'disbursement_lines_hold_reason_check'");
        var codes = Regex.Matches(def, "'([a-z_]+)'").Select(m => m.Groups[1].Value).Order().ToList();
        Assert.Equal(HoldReasons.All.Select(r => r.Code).Order().ToList(), codes);
        Assert.All(HoldReasons.All, r =>
        {
            Assert.True(BatchBuilder.HoldConditions.ContainsKey(r.Code), r.Code);
            Assert.False(string.IsNullOrWhiteSpace(r.Source), r.Code);
            Assert.NotEqual(r.Code, Zh.HoldReason(r.Code));
        });
    }
}
