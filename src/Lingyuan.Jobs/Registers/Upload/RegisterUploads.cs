using System.Data;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Registers.Import;
using Npgsql;
using NpgsqlTypes;

namespace Lingyuan.Jobs.Registers.Upload;

/// <summary>One uploaded register file as the page shows it.</summary>
// A class, not a positional record: Npgsql reports array columns as System.Array, which Dapper's constructor matching refuses.
public sealed class UploadRow
{
    public long Id { get; init; }
    public string Kind { get; init; } = "";
    public string FileName { get; init; } = "";
    public long SizeBytes { get; init; }
    public string UploadedBy { get; init; } = "";
    public DateTime UploadedAt { get; init; }
    public string State { get; init; } = "";
    public string? ImportMode { get; init; }
    public string? ImportedBy { get; init; }
    public long RowsRead { get; init; }
    public long BytesRead { get; init; }
    public bool Upserting { get; init; }
    public long? Rows { get; init; }
    public long? Inserted { get; init; }
    public long? Updated { get; init; }
    public long? Unchanged { get; init; }
    public long? Rejected { get; init; }
    public long? ProblemCount { get; init; }
    public int[] ProblemRows { get; init; } = [];
    public string[] ProblemKeys { get; init; } = [];
    public string[] ProblemTexts { get; init; } = [];
    public string[] Failure { get; init; } = [];
    public DateTime? FinishedAt { get; init; }
    public bool HasRejects { get; init; }

    public UploadState StateValue => UploadLifecycle.Table.Parse(State);
}

/// <summary>
/// The uploaded files and their parts in <c>app.register_uploads</c>: the store slice the page and the job share.
/// A file goes into the database in 1 MiB parts as it streams in, and comes out the same way into the worker's
/// temporary folder, so neither side ever holds a whole file in memory.
/// </summary>
public sealed class RegisterUploads(Work work)
{
    public const int PartBytes = 1 << 20;

    private const string Columns =
        """
        id, kind, file_name AS FileName, size_bytes AS SizeBytes, uploaded_by AS UploadedBy, uploaded_at AS UploadedAt, state,
        import_mode AS ImportMode, imported_by AS ImportedBy, rows_read AS RowsRead, bytes_read AS BytesRead, upserting,
        rows, inserted, updated, unchanged, rejected, problem_count AS ProblemCount, problem_rows AS ProblemRows,
        problem_keys AS ProblemKeys, problem_texts AS ProblemTexts, failure, finished_at AS FinishedAt,
        EXISTS (SELECT 1 FROM app.register_upload_parts p WHERE p.upload_id = u.id AND p.part = 'rejects') AS HasRejects
        """;

    /// <summary>Stores the file as it streams in; refuses it (nothing kept) beyond <paramref name="maxBytes"/>.</summary>
    public Task<long> CreateAsync(string kind, string fileName, Stream content, long maxBytes, CancellationToken ct) =>
        work.RunAsync("register-upload.store", async uow =>
        {
            var id = await uow.SingleAsync<long>(
                "INSERT INTO app.register_uploads (kind, file_name, size_bytes, uploaded_by) VALUES (@kind, @fileName, 0, @actor) RETURNING id",
                new { kind, fileName, actor = uow.Acting.Actor });
            var buffer = new byte[PartBytes];
            long size = 0;
            var seq = 0;
            while (true)
            {
                var n = await content.ReadAtLeastAsync(buffer, PartBytes, throwOnEndOfStream: false, ct);
                if (n == 0) break;
                size += n;
                if (size > maxBytes)
                    throw new DomainRuleException($"上传的文件超过 {maxBytes / 1024 / 1024} MB 上限,未保存。");
                await using (var cmd = new NpgsqlCommand(
                    "INSERT INTO app.register_upload_parts (upload_id, part, seq, data) VALUES ($1, 'file', $2, $3)", uow.Connection, uow.Transaction))
                {
                    cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
                    cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = seq++ });
                    cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = new ReadOnlyMemory<byte>(buffer, 0, n) });
                    await cmd.ExecuteNonQueryAsync(ct);
                }
                if (n < PartBytes) break;
            }
            await uow.ExecuteAsync("UPDATE app.register_uploads SET size_bytes = @size WHERE id = @id", new { id, size });
            return id;
        }, ct);

    public Task<UploadRow?> FindAsync(long id, CancellationToken ct) =>
        work.RunAsync("register-upload.view", uow => uow.SingleOrDefaultAsync<UploadRow>(
            $"SELECT {Columns} FROM app.register_uploads u WHERE id = @id", new { id }), ct);

    /// <summary>The latest uploads of the given kinds.</summary>
    public Task<List<UploadRow>> RecentAsync(string[] kinds, int limit, CancellationToken ct) =>
        work.RunAsync("register-upload.view", uow => uow.ListAsync<UploadRow>(
            $"SELECT {Columns} FROM app.register_uploads u WHERE kind = ANY(@kinds) ORDER BY id DESC LIMIT @limit", new { kinds, limit }), ct);

    /// <summary>Makes a move of the lifecycle if the upload is in a state it starts from; false when it is not (another run got there first).</summary>
    public Task<bool> MoveAsync(long id, UploadVerb verb, string? importMode = null, string? importedBy = null, CancellationToken ct = default)
    {
        var move = UploadLifecycle.Table.MoveOf(verb);
        var from = move.From.Select(UploadLifecycle.Db).ToArray();
        return work.RunAsync("register-upload.move", async uow => await uow.ExecuteAsync(
            """
            UPDATE app.register_uploads
            SET state = @to, import_mode = coalesce(@importMode, import_mode), imported_by = coalesce(@importedBy, imported_by),
                rows_read = CASE WHEN @restart THEN 0 ELSE rows_read END, bytes_read = CASE WHEN @restart THEN 0 ELSE bytes_read END,
                upserting = CASE WHEN @restart THEN false ELSE upserting END
            WHERE id = @id AND state = ANY(@from)
            """,
            new { id, to = UploadLifecycle.Db(move.To), from, importMode, importedBy, restart = verb is UploadVerb.StartCheck or UploadVerb.Import }) == 1,
            ct, new WorkOptions { RecordId = id.ToString(System.Globalization.CultureInfo.InvariantCulture) });
    }

    public Task ProgressAsync(long id, ImportProgress p, CancellationToken ct) =>
        work.RunAsync("register-upload.progress", uow => uow.ExecuteAsync(
            "UPDATE app.register_uploads SET rows_read = @rows, bytes_read = @bytes, upserting = @upserting, progress_at = now() WHERE id = @id",
            new { id, rows = p.Rows, bytes = p.BytesRead, upserting = p.Upserting }), ct);

    /// <summary>Records what a check or an import found, keeps its rejects, and moves on (FinishCheck or FinishImport).</summary>
    public Task FinishAsync(long id, UploadVerb verb, ImportResult result, string? rejectsPath, CancellationToken ct) =>
        work.RunAsync("register-upload.finish", async uow =>
        {
            var move = UploadLifecycle.Table.MoveOf(verb);
            var changed = await uow.ExecuteAsync(
                """
                UPDATE app.register_uploads
                SET state = @to, rows = @rows, inserted = @inserted, updated = @updated, unchanged = @unchanged, rejected = @rejected,
                    problem_count = @problemCount, problem_rows = @problemRows, problem_keys = @problemKeys, problem_texts = @problemTexts,
                    failure = '{}', upserting = false, rows_read = @rows, finished_at = now()
                WHERE id = @id AND state = ANY(@from)
                """,
                new
                {
                    id, to = UploadLifecycle.Db(move.To), from = move.From.Select(UploadLifecycle.Db).ToArray(),
                    rows = result.Rows, inserted = result.Inserted, updated = result.Updated, unchanged = result.Unchanged,
                    rejected = result.Rejected, problemCount = result.ProblemCount,
                    problemRows = result.Listed.Select(p => p.Row).ToArray(),
                    problemKeys = result.Listed.Select(p => p.Key).ToArray(),
                    problemTexts = result.Listed.Select(p => p.Problem).ToArray(),
                });
            if (changed == 0) return;
            await uow.ExecuteAsync("DELETE FROM app.register_upload_parts WHERE upload_id = @id AND part = 'rejects'", new { id });
            if (rejectsPath is not null && result.Rejected > 0)
                await StorePartsAsync(uow, id, "rejects", rejectsPath);
            // Once imported, the register holds the rows: the file itself need not stay in the database.
            if (verb == UploadVerb.FinishImport)
                await uow.ExecuteAsync("DELETE FROM app.register_upload_parts WHERE upload_id = @id AND part = 'file'", new { id });
        }, ct);

    /// <summary>The file as a whole was refused (header, encoding, a year's working days): the lines say why.</summary>
    public Task FailAsync(long id, IReadOnlyList<string> lines, CancellationToken ct) =>
        work.RunAsync("register-upload.fail", uow => uow.ExecuteAsync(
            """
            UPDATE app.register_uploads SET state = @to, failure = @lines, upserting = false, finished_at = now()
            WHERE id = @id AND state = ANY(@from)
            """,
            new
            {
                id, lines = lines.ToArray(), to = UploadLifecycle.Db(UploadState.Failed),
                from = UploadLifecycle.Table.MoveOf(UploadVerb.Fail).From.Select(UploadLifecycle.Db).ToArray(),
            }), ct);

    /// <summary>Discards the file (a person's move); its parts are dropped.</summary>
    public Task<bool> DiscardAsync(long id, CancellationToken ct) =>
        work.RunAsync("register-upload.discard", async uow =>
        {
            var move = UploadLifecycle.Table.MoveOf(UploadVerb.Discard);
            var changed = await uow.ExecuteAsync("UPDATE app.register_uploads SET state = @to WHERE id = @id AND state = ANY(@from)",
                new { id, to = UploadLifecycle.Db(move.To), from = move.From.Select(UploadLifecycle.Db).ToArray() });
            if (changed == 1) await uow.ExecuteAsync("DELETE FROM app.register_upload_parts WHERE upload_id = @id", new { id });
            return changed == 1;
        }, ct);

    /// <summary>Writes a stored part (the file, the rejects) to <paramref name="output"/>, one part at a time.</summary>
    public Task CopyPartAsync(long id, string part, Stream output, CancellationToken ct) =>
        work.RunAsync("register-upload.read", async uow =>
        {
            await using var cmd = new NpgsqlCommand(
                "SELECT data FROM app.register_upload_parts WHERE upload_id = $1 AND part = $2 ORDER BY seq", uow.Connection, uow.Transaction);
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = part });
            cmd.CommandTimeout = 0;
            await using var reader = await cmd.ExecuteReaderAsync(CommandBehavior.SequentialAccess, ct);
            while (await reader.ReadAsync(ct))
            {
                await using var data = await reader.GetStreamAsync(0, ct);
                await data.CopyToAsync(output, ct);
            }
        }, ct);

    private static async Task StorePartsAsync(UnitOfWork uow, long id, string part, string path)
    {
        await using var input = File.OpenRead(path);
        var buffer = new byte[PartBytes];
        var seq = 0;
        int n;
        while ((n = await input.ReadAtLeastAsync(buffer, PartBytes, throwOnEndOfStream: false, uow.Cancellation)) > 0)
        {
            await using var cmd = new NpgsqlCommand(
                "INSERT INTO app.register_upload_parts (upload_id, part, seq, data) VALUES ($1, $2, $3, $4)", uow.Connection, uow.Transaction);
            cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = part });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = seq++ });
            cmd.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Bytea, Value = new ReadOnlyMemory<byte>(buffer, 0, n) });
            await cmd.ExecuteNonQueryAsync(uow.Cancellation);
        }
    }
}
