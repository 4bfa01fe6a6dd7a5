using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Disbursements;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Npgsql;
using static Lingyuan.Jobs.Tests.Disbursements.Periods;

namespace Lingyuan.Jobs.Tests.Disbursements;

/// <summary>Review, freezing, bank file, reconciliation, recovery and re-issue, through the services and the real CLI.</summary>
public sealed class BatchLifecycleTests(DatabaseFixture fixture) : IClassFixture<DatabaseFixture>, IAsyncLifetime
{
    private readonly RegisterRows _r = new(fixture.DataSource);
    private readonly string _domain = $"{Guid.NewGuid():N}.test";
    private BatchBuilder Builder => fixture.Services.GetRequiredService<BatchBuilder>();
    private BatchReview Review => fixture.Services.GetRequiredService<BatchReview>();
    private BankFile BankFile => fixture.Services.GetRequiredService<BankFile>();
    private Reconciler Reconciler => fixture.Services.GetRequiredService<Reconciler>();

    public async Task InitializeAsync()
    {
        await _r.ResetAsync();
        var users = fixture.Services.GetRequiredService<UserStore>();
        await _r.AddUserAsync(users, "preparer", "finance", $"preparer@{_domain}");
        await _r.AddUserAsync(users, "approver", "finance", $"approver@{_domain}");
        await _r.AddUserAsync(users, "watcher", "operator", $"watcher@{_domain}");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<long> ApprovedBatchAsync(string period = "2026-03")
    {
        var b = await Builder.BuildAsync(P(period), "test", default);
        await Review.SubmitAsync(b.BatchId, "preparer", default);
        await Review.ApproveAsync(b.BatchId, "approver", default);
        return b.BatchId;
    }

    private async Task<string> ExportAsync(long batchId)
    {
        var path = Path.Combine(Path.GetTempPath(), $"bank-{Guid.NewGuid():N}.csv");
        await BankFile.ExportToFileAsync(batchId, path, "test", default);
        return path;
    }

    private static MemoryStream Csv(string text) => new(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task The_preparer_cannot_approve_their_own_batch_and_the_cli_says_why_in_both_languages()
    {
        await _r.RecipientAsync(1);
        var b = await Builder.BuildAsync(P("2026-03"), "test", default);
        await Review.SubmitAsync(b.BatchId, "preparer", default);

        var ex = await Assert.ThrowsAsync<DomainRuleException>(() => Review.ApproveAsync(b.BatchId, "preparer", default));
        Assert.True(ex.Data.Contains(BatchLifecycle.ForbiddenKey));
        var (code, output) = await ServiceProcess.RunAsync(fixture, $"batch approve {b.BatchId} --user preparer", stdin: await TestSignIn.StdinAsync(fixture.Services, "preparer"));
        Assert.Equal(1, code);
        Assert.Contains("four eyes", output);
        Assert.Contains("双人复核", output);
        var (code2, output2) = await ServiceProcess.RunAsync(fixture, $"batch approve {b.BatchId} --user watcher", stdin: await TestSignIn.StdinAsync(fixture.Services, "watcher"));
        Assert.Equal(1, code2);
        Assert.Contains("无财务审核权限", output2);
        Assert.Equal(BatchState.Submitted, (await Batches.FindAsync(fixture.Services, b.BatchId))!.State);

        var (code3, output3) = await ServiceProcess.RunAsync(fixture, $"batch approve {b.BatchId} --user approver", stdin: await TestSignIn.StdinAsync(fixture.Services, "approver"));
        Assert.True(code3 == 0, output3);
        var approved = await Batches.FindAsync(fixture.Services, b.BatchId);
        Assert.Equal((BatchState.Approved, "preparer", "approver", 1L, 250_000L), (approved!.State, approved.SubmittedBy, approved.DecidedBy, approved.ApprovedLineCount!.Value, approved.ApprovedTotalFen!.Value));

        // Every transition is in the audit log; reviewers were told when it awaited them, the preparer of the decision.
        Assert.Equal(3, await _r.ScalarAsync<long>(
            "SELECT count(*) FROM app.audit_log WHERE subject_type = 'disbursement_batch' AND subject_id = @id", new { id = b.BatchId.ToString() }));
        var submittedTo = await _r.ScalarAsync<string[]>("SELECT recipients FROM app.outbox WHERE dedupe_key = @k", new { k = $"disbursement-batch:{b.BatchId}:submitted" });
        Assert.Equal([$"approver@{_domain}"], submittedTo);
        var approvedTo = await _r.ScalarAsync<string[]>("SELECT recipients FROM app.outbox WHERE dedupe_key = @k", new { k = $"disbursement-batch:{b.BatchId}:approved" });
        Assert.Equal([$"preparer@{_domain}"], approvedTo);
    }

    [Fact]
    public async Task Reviewers_and_the_preparer_receive_their_mail_once_through_the_outbox()
    {
        await _r.RecipientAsync(1);
        var id = await ApprovedBatchAsync();
        var delivery = fixture.Services.GetRequiredService<Lingyuan.Jobs.Notifications.OutboxDelivery>();
        await delivery.DeliverDueAsync(default);
        await delivery.DeliverDueAsync(default);
        var mails = await Smtp4dev.WaitForAsync(_domain, 3, TimeSpan.FromSeconds(20));
        Assert.Equal(3, mails.Count);
        Assert.Single(mails, m => m.Subject.Contains("等待提交审核") && m.To.Length == 2);
        Assert.Single(mails, m => m.Subject.Contains("等待审批") && m.To.Single().Contains($"approver@{_domain}"));
        Assert.Single(mails, m => m.Subject.Contains("已审批通过") && m.To.Single().Contains($"preparer@{_domain}"));
        Assert.All(mails, m => Assert.Contains(id.ToString(), m.Subject));
    }

    [Fact]
    public async Task An_approved_batch_is_frozen_in_the_database()
    {
        await _r.RecipientAsync(1);
        var id = await ApprovedBatchAsync();
        var ex = await Assert.ThrowsAsync<PostgresException>(() => _r.ExecAsync(
            "UPDATE app.disbursement_lines SET amount_fen = amount_fen + 1 WHERE batch_id = @id", new { id }));
        Assert.Contains("frozen", ex.MessageText);
        await Assert.ThrowsAsync<PostgresException>(() => _r.ExecAsync("DELETE FROM app.disbursement_lines WHERE batch_id = @id", new { id }));
        await Assert.ThrowsAsync<PostgresException>(() => _r.ExecAsync("UPDATE app.disbursement_batches SET approved_total_fen = 1 WHERE id = @id", new { id }));
        // No line joins an approved batch either (a held line, so no payment key stands in the way of the insert).
        var added = await Assert.ThrowsAsync<PostgresException>(() => _r.ExecAsync(
            """
            INSERT INTO app.disbursement_lines (batch_id, kind, id_number, benefit, period, amount_fen, status, hold_reason)
            SELECT batch_id, 'regular', id_number, 'resident_pension', period, 1, 'held', 'suspended'
            FROM app.disbursement_lines WHERE batch_id = @id LIMIT 1
            """, new { id }));
        Assert.Contains("only while it is a draft", added.MessageText);
    }

    [Fact]
    public async Task The_bank_file_has_the_control_record_and_lines_of_the_contract()
    {
        var a = await _r.RecipientAsync(1, amountFen: 123_456_789, name: "王,\"小\"明");
        var b = await _r.RecipientAsync(2, amountFen: 5);
        var id = await ApprovedBatchAsync();
        var path = await ExportAsync(id);
        var text = await File.ReadAllTextAsync(path, Encoding.UTF8);
        var lines = await _r.LinesAsync(id);
        var dLines = $"D,{lines[0].Id},102,{RegisterRows.Account(1)},\"王,\"\"小\"\"明\",1234567.89,enterprise_pension\n"
                   + $"D,{lines[1].Id},102,{RegisterRows.Account(2)},测试2,0.05,enterprise_pension\n";
        var sha = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(dLines)));
        Assert.Equal($"H,{id},2026-03,2,123456794,{sha}\n" + dLines, text);
        Assert.Equal(BatchState.Exported, (await Batches.FindAsync(fixture.Services, id))!.State);
        Assert.False(File.Exists(path + ".partial"));
        _ = (a, b);
    }

    [Fact]
    public async Task A_tampered_batch_is_not_exported()
    {
        await _r.RecipientAsync(1);
        await _r.RecipientAsync(2);
        var id = await ApprovedBatchAsync();
        // Someone with superuser rights bypasses the triggers and redirects a payment to another account (same total).
        await using (var conn = await fixture.DataSource.OpenConnectionAsync())
        {
            await using (var off = new NpgsqlCommand("SET session_replication_role = replica", conn)) await off.ExecuteNonQueryAsync();
            await using var cmd = new NpgsqlCommand(
                "UPDATE app.disbursement_lines SET bank_account = '6217999999999999' WHERE id = (SELECT min(id) FROM app.disbursement_lines WHERE batch_id = $1)", conn);
            cmd.Parameters.AddWithValue(id);
            Assert.Equal(1, await cmd.ExecuteNonQueryAsync());
            await using (var on = new NpgsqlCommand("RESET session_replication_role", conn)) await on.ExecuteNonQueryAsync();
        }
        var path = Path.Combine(Path.GetTempPath(), $"bank-{Guid.NewGuid():N}.csv");
        var (code, output) = await ServiceProcess.RunAsync(fixture, $"batch export {id} --out {path}");
        Assert.Equal(1, code);
        Assert.Contains("校验值与审批时不一致", output);
        Assert.False(File.Exists(path));
        Assert.False(File.Exists(path + ".partial"));
        Assert.Equal(BatchState.Approved, (await Batches.FindAsync(fixture.Services, id))!.State);
    }

    [Fact]
    public async Task A_return_file_with_unknown_duplicate_or_mismatched_lines_is_refused_whole()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        await _r.RecipientAsync(2, amountFen: 200_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var file = Path.Combine(Path.GetTempPath(), $"returns-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(file, $"""
            status,line_ref,amount,bank_txn_ref,failure_code,failure_reason
            paid,{l[0].Id},"1,000.00",T1,,
            paid,{l[1].Id},2000.01,T2,,
            paid,999999,1.00,T3,,
            paid,{l[0].Id},1000.00,T1,,

            """);
        var (code, output) = await ServiceProcess.RunAsync(fixture, $"batch reconcile {id} {file}");
        Assert.Equal(65, code);
        var problems = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(x => x.StartsWith(file, StringComparison.Ordinal)).ToList();
        Assert.Equal(4, problems.Count);
        Assert.Contains($"{file}:3: line_ref {l[1].Id}: amount 200001 fen, the batch paid 200000 fen", problems[0]);
        Assert.Contains($"{file}:4: line_ref 999999: unknown in batch {id}", problems[1]);
        Assert.Contains($"{file}:5: line_ref {l[0].Id}: duplicate (first on line 2)", problems[2]);
        Assert.Contains("nothing applied", problems[3]);
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
        Assert.Equal(BatchState.Exported, (await Batches.FindAsync(fixture.Services, id))!.State);
    }

    [Fact]
    public async Task Good_rows_already_streamed_are_undone_when_a_later_row_is_bad_and_a_thousand_problems_are_listed()
    {
        // Good rows stream into the outcomes as they are checked (300 rows: more than the COPY's send buffer, so
        // the server has received some); the unknown references after them cancel it all.
        for (var n = 1; n <= 300; n++) await _r.RecipientAsync(n, amountFen: 100_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var text = new StringBuilder("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n");
        foreach (var line in await _r.LinesAsync(id)) text.Append(CultureInfo.InvariantCulture, $"{line.Id},paid,1000.00,T{line.Id},,\n");
        for (var k = 1; k <= 1200; k++) text.Append(CultureInfo.InvariantCulture, $"{9_000_000 + k},paid,1.00,,,\n");

        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(text.ToString()), "r.csv", "test", default));
        Assert.Equal(1002, ex.Problems.Count);
        Assert.Equal($"r.csv:302: line_ref 9000001: unknown in batch {id} / 本批次(编号 {id})没有流水引用 9000001", ex.Problems[0]);
        Assert.Equal("r.csv: … and 200 more problems / 另有 200 处问题", ex.Problems[1000]);
        Assert.Equal("r.csv: nothing applied / 未应用任何记录", ex.Problems[1001]);
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
        var b = (await Batches.FindAsync(fixture.Services, id))!;
        Assert.Equal(BatchState.Exported, b.State);

        // The same connection pool serves the next, good file: all 300 paid, the batch reconciled.
        var good = string.Join('\n', text.ToString().Split('\n').Take(301)) + "\n";
        var r = await Reconciler.ReconcileAsync(id, Csv(good), "r2.csv", "test", default);
        Assert.Equal((BatchState.Reconciled, 300L, 300L), (r.State, r.Applied, r.Paid));
        Assert.Equal(300, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes WHERE batch_id = @id", new { id }));
    }

    [Fact]
    public async Task A_duplicate_the_database_has_already_refused_is_still_listed_as_the_files_problem()
    {
        // 1,500 good rows with the first one repeated second: the rows stream to the server, whose COPY meets the
        // outcomes' key on the repeat (it inserts a thousand rows at a time) and fails before the file is checked.
        await _r.RecipientsAsync(1500);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        Assert.Equal(1500, l.Count);
        var text = new StringBuilder("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n");
        text.Append(CultureInfo.InvariantCulture, $"{l[0].Id},paid,1000.00,T{l[0].Id},,\n");
        foreach (var line in l) text.Append(CultureInfo.InvariantCulture, $"{line.Id},paid,1000.00,T{line.Id},,\n");

        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(text.ToString()), "r.csv", "test", default));
        Assert.Equal([$"r.csv:3: line_ref {l[0].Id}: duplicate (first on line 2) / 流水引用 {l[0].Id} 重复(首次出现在第 2 行)", "r.csv: nothing applied / 未应用任何记录"], ex.Problems);
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));

        // The pool's connection is usable after it: the file without the repeat reconciles the batch.
        var good = string.Join('\n', text.ToString().Split('\n').Where((_, i) => i != 1));
        var r = await Reconciler.ReconcileAsync(id, Csv(good), "r2.csv", "test", default);
        Assert.Equal((BatchState.Reconciled, 1500L), (r.State, r.Paid));
    }

    [Fact]
    public async Task The_banks_text_is_stored_as_written_backslashes_tabs_and_line_breaks_included()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        await _r.RecipientAsync(2, amountFen: 200_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var r = await Reconciler.ReconcileAsync(id, Csv(
            "line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n" +
            $"{l[0].Id},paid,1000.00,T\\N,,\n" +
            $"{l[1].Id},failed,2000.00,,\"E\t05\",\"户名\\不符\r\n请核实\\\r\"\n"), "r.csv", "test", default);
        Assert.Equal((1L, 1L), (r.Paid, r.Failed));
        Assert.Equal("T\\N", await _r.ScalarAsync<string>("SELECT bank_txn_ref FROM app.disbursement_outcomes WHERE line_id = @x", new { x = l[0].Id }));
        Assert.True(await _r.ScalarAsync<bool>("SELECT failure_code IS NULL AND failure_reason IS NULL FROM app.disbursement_outcomes WHERE line_id = @x", new { x = l[0].Id }));
        Assert.Equal("E\t05", await _r.ScalarAsync<string>("SELECT failure_code FROM app.disbursement_outcomes WHERE line_id = @x", new { x = l[1].Id }));
        // A quoted line break is stored as LF, as the file's lines are read (the trailing one is trimmed).
        Assert.Equal("户名\\不符\n请核实\\", await _r.ScalarAsync<string>("SELECT failure_reason FROM app.disbursement_outcomes WHERE line_id = @x", new { x = l[1].Id }));
    }

    [Fact]
    public async Task A_return_file_that_is_not_UTF8_after_its_header_is_refused_with_a_line_and_nothing_applied()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        // 100,000 blank lines put the bad bytes beyond the reader's first block, past the header.
        var bytes = Encoding.UTF8.GetBytes($"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{new string('\n', 100_000)}{l[0].Id},failed,1000.00,,E01,")
            .Concat(new byte[] { 0xBB, 0xA7, 0xC3, 0xFB, (byte)'\n' }).ToArray(); // 户名 in GB18030, on line 100,002
        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, new MemoryStream(bytes), "r.csv", "test", default));
        var problem = Assert.Single(ex.Problems);
        var m = System.Text.RegularExpressions.Regex.Match(problem, @"^r\.csv:(\d+): bytes that are not UTF-8 on this line or after it / 本行或其后有非 UTF-8 编码的内容,请将文件另存为 UTF-8 后重新导入$");
        Assert.True(m.Success, problem);
        Assert.InRange(long.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), 2, 100_002);
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
    }

    [Fact]
    public async Task Malformed_return_values_are_reported_with_their_line_and_nothing_is_applied()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(
            $"\uFEFFline_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[0].Id},ok,1000.00,T1,,\n{l[0].Id},paid,1000.001,T1,,\nL-1,paid,1.00,,,\n\"{l[0].Id}\",paid,-5,,,\"多行\n原因\"\n{l[0].Id},paid\n"),
            "r.csv", "test", default));
        Assert.Equal(
            ["r.csv:2: status: 'ok' is not paid or failed / 状态“ok”无效,应为 paid(成功)或 failed(失败)",
             "r.csv:3: amount: '1000.001' is not yuan with at most two decimals / 金额“1000.001”格式错误,应为元,最多两位小数",
             "r.csv:4: line_ref: 'L-1' is not a line reference / 流水引用“L-1”无效",
             "r.csv:5: amount: '-5' is not yuan with at most two decimals / 金额“-5”格式错误,应为元,最多两位小数",
             "r.csv:7: 2 columns, the header has 6 / 本行 2 列,表头 6 列",
             "r.csv: nothing applied / 未应用任何记录"],
            ex.Problems);
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
    }

    [Fact]
    public async Task A_file_of_malformed_rows_lists_the_first_thousand_and_counts_the_rest_after_a_good_row()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var text = new StringBuilder("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n");
        for (var k = 1; k <= 1500; k++) text.Append(CultureInfo.InvariantCulture, $"L-{k},paid,1.00,,,\n");
        // The one good line comes last, and a duplicate of it after: counted as a problem among the unlisted.
        text.Append(CultureInfo.InvariantCulture, $"{l[0].Id},paid,1000.00,T1,,\n{l[0].Id},paid,1000.00,T1,,\n");

        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(text.ToString()), "r.csv", "test", default));
        Assert.Equal(1002, ex.Problems.Count);
        Assert.Equal("r.csv:2: line_ref: 'L-1' is not a line reference / 流水引用“L-1”无效", ex.Problems[0]);
        Assert.Equal("r.csv:1001: line_ref: 'L-1000' is not a line reference / 流水引用“L-1000”无效", ex.Problems[999]);
        Assert.Equal("r.csv: … and 501 more problems / 另有 501 处问题", ex.Problems[1000]);
        Assert.Equal(0, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
    }

    [Fact]
    public async Task A_complete_return_file_reconciles_the_batch_and_a_rerun_changes_nothing()
    {
        await _r.RecipientAsync(1, amountFen: 100_000);
        await _r.RecipientAsync(2, amountFen: 200_000);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var text = $"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[0].Id},paid,1000.00,T1,,\n";
        var first = await Reconciler.ReconcileAsync(id, Csv(text), "r1.csv", "test", default);
        Assert.Equal((BatchState.Exported, 1L), (first.State, first.Paid));
        text += $"{l[1].Id},failed,2000.00,,E05,账户已销户\n";
        var second = await Reconciler.ReconcileAsync(id, Csv(text), "r2.csv", "test", default);
        Assert.Equal((BatchState.Reconciled, 1L, 0L, 1L), (second.State, second.Applied, second.Paid, second.Failed));
        var again = await Reconciler.ReconcileAsync(id, Csv(text), "r2.csv", "test", default);
        Assert.Equal(0, again.Applied);
        Assert.Equal("账户已销户", await _r.ScalarAsync<string>("SELECT failure_reason FROM app.disbursement_outcomes WHERE line_id = @x", new { x = l[1].Id }));
        // A contradicting answer for a recorded line is refused.
        var contra = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id,
            Csv($"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[1].Id},paid,2000.00,T9,,\n"), "r3.csv", "test", default));
        Assert.Contains("already recorded as failed", contra.Problems[0]);
    }

    [Fact]
    public async Task A_payment_for_a_month_after_a_late_reported_death_is_listed_for_recovery()
    {
        var dies = await _r.RecipientAsync(1, amountFen: 300_000);
        await _r.RecipientAsync(2);
        var id = await ApprovedBatchAsync("2026-04");
        await ExportAsync(id);
        // Death on 03-15 reported only now, after April's bank file went out.
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@dies, 'death', '2026-03-15')", new { dies });
        var l = await _r.LinesAsync(id);
        var result = await Reconciler.ReconcileAsync(id, Csv(
            $"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[0].Id},paid,3000.00,T1,,\n{l[1].Id},paid,2500.00,T2,,\n"), "r.csv", "test", default);
        Assert.Equal(1, result.NewRecoveries);
        Assert.Equal(dies, await _r.ScalarAsync<string>("SELECT id_number FROM app.disbursement_recoveries WHERE line_id = @x AND amount_fen = 300000 AND death_date = '2026-03-15'", new { x = l[0].Id }));
        // And May holds the line.
        var may = await Builder.BuildAsync(P("2026-05"), "test", default);
        Assert.Equal("dead", (await _r.LinesAsync(may.BatchId)).Single(x => x.IdNumber == dies).HoldReason);
    }

    [Fact]
    public async Task A_NUL_in_a_text_field_of_the_return_file_is_a_problem_on_its_line_and_nothing_is_applied()
    {
        // Found by hand on the batch page: a NUL in bank_txn_ref reached the COPY, and PostgreSQL's refusal was a 500.
        await _r.RecipientAsync(1, amountFen: 300_000);
        await _r.RecipientAsync(2);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(
            $"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[0].Id},paid,3000.00,T1,,\n{l[1].Id},failed,2500.00,,E01,户名\0不符\n"),
            "r.csv", "test", default));
        Assert.Equal(["r.csv:3: failure_reason: contains a NUL character / 失败原因(failure_reason)含有空字符(NUL)", "r.csv: nothing applied / 未应用任何记录"], ex.Problems);
        Assert.Equal(0L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
    }

    [Fact]
    public async Task A_bank_reference_code_or_reason_longer_than_its_limit_is_a_problem_on_its_line_and_nothing_is_applied()
    {
        // Found trying the batch page: a 100,000-character reason was stored, stretched the page and passed the
        // 32,767 characters of a spreadsheet cell in the summary.
        await _r.RecipientAsync(1, amountFen: 300_000);
        await _r.RecipientAsync(2);
        var id = await ApprovedBatchAsync();
        await ExportAsync(id);
        var l = await _r.LinesAsync(id);
        var ex = await Assert.ThrowsAsync<BadInputException>(() => Reconciler.ReconcileAsync(id, Csv(
            $"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[0].Id},paid,3000.00,{new string('T', 65)},,\n" +
            $"{l[1].Id},failed,2500.00,,E01,{new string('户', 100_000)}\n"),
            "r.csv", "test", default));
        Assert.Equal(["r.csv:2: bank_txn_ref: 65 characters, at most 64 / 银行流水号(bank_txn_ref)共 65 个字符,超过上限 64 个",
                      "r.csv:3: failure_reason: 100000 characters, at most 200 / 失败原因(failure_reason)共 100000 个字符,超过上限 200 个",
                      "r.csv: nothing applied / 未应用任何记录"], ex.Problems);
        Assert.Equal(0L, await _r.ScalarAsync<long>("SELECT count(*) FROM app.disbursement_outcomes"));
        // At the limits the file applies.
        var r = await Reconciler.ReconcileAsync(id, Csv(
            $"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{l[0].Id},paid,3000.00,{new string('T', 64)},,\n" +
            $"{l[1].Id},failed,2500.00,,{new string('E', 32)},{new string('户', 200)}\n"), "r.csv", "test", default);
        Assert.Equal((2L, BatchState.Reconciled), (r.Applied, r.State));
    }

    [Fact]
    public async Task A_back_paid_month_after_a_late_reported_death_is_listed_for_recovery_with_the_current_month()
    {
        // March held (card inactive), April pays April and March's back-pay (a line whose month is not its batch's).
        var dies = await _r.RecipientAsync(1, amountFen: 180_000);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'inactive' WHERE id_number = @dies", new { dies });
        await Builder.BuildAsync(P("2026-03"), "test", default);
        await _r.ExecAsync("UPDATE app.cards SET financial_status = 'active', updated_at = now() WHERE id_number = @dies", new { dies });
        var apr = await ApprovedBatchAsync("2026-04");
        await ExportAsync(apr);
        // Death on 02-20 reported only after April's bank file went out: both months paid after it are recovered.
        await _r.ExecAsync("INSERT INTO app.life_events VALUES (@dies, 'death', '2026-02-20')", new { dies });
        var l = await _r.LinesAsync(apr);
        Assert.Equal(["back_pay", "regular"], l.Select(x => x.Kind).Order().ToArray());
        var result = await Reconciler.ReconcileAsync(apr, Csv("line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n"
            + string.Concat(l.Select(x => $"{x.Id},paid,1800.00,T{x.Id},,\n"))), "r.csv", "test", default);
        Assert.Equal(2, result.NewRecoveries);
        Assert.Equal(["2026-03", "2026-04"], (await _r.ScalarAsync<string>(
            "SELECT string_agg(to_char(l.period, 'YYYY-MM'), ',' ORDER BY l.period) FROM app.disbursement_recoveries r JOIN app.disbursement_lines l ON l.id = r.line_id WHERE r.id_number = @dies",
            new { dies })).Split(','));
    }

    [Fact]
    public async Task A_failed_payment_is_reissued_once_after_the_card_changes_and_never_paid_twice()
    {
        var id = await _r.RecipientAsync(1, amountFen: 150_000);
        var mar = await ApprovedBatchAsync("2026-03");
        await ExportAsync(mar);
        var failed = Assert.Single(await _r.LinesAsync(mar));
        await Reconciler.ReconcileAsync(mar, Csv($"line_ref,status,amount,bank_txn_ref,failure_code,failure_reason\n{failed.Id},failed,1500.00,,E01,户名不符\n"), "r.csv", "test", default);

        // Nothing changed on the card yet: April pays April only.
        var apr = await Builder.BuildAsync(P("2026-04"), "test", default);
        Assert.DoesNotContain(await _r.LinesAsync(apr.BatchId), x => x.Kind == "reissue");

        await _r.ExecAsync("UPDATE app.cards SET bank_account = '6217000000077777', updated_at = now() WHERE id_number = @id", new { id });
        var may = await Builder.BuildAsync(P("2026-05"), "test", default);
        var reissue = Assert.Single(await _r.LinesAsync(may.BatchId), x => x.Kind == "reissue");
        Assert.Equal(("2026-03", 150_000L, failed.Id), (reissue.Period, reissue.AmountFen, reissue.RefersTo!.Value));
        Assert.Equal("6217000000077777", await _r.ScalarAsync<string>("SELECT bank_account FROM app.disbursement_lines WHERE id = @x", new { x = reissue.Id }));

        var jun = await Builder.BuildAsync(P("2026-06"), "test", default);
        Assert.DoesNotContain(await _r.LinesAsync(jun.BatchId), x => x.Kind == "reissue");
    }
}
