using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Lingyuan.Jobs.Calendar;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;
using Npgsql;
using NpgsqlTypes;
using Lingyuan.Jobs.Exports;
using Sylvan.Data.Csv;

namespace Lingyuan.Jobs.Registers.Import;

public sealed record ImportRequest(
    string Kind, string Path, string? Encoding = null, bool DryRun = false, string? RejectsPath = null, string Actor = "cli", bool Force = false)
{
    /// <summary>The name problem lines give the file when <see cref="Path"/> is a copy of it (an upload, a converted spreadsheet).</summary>
    public string? FileName { get; init; }

    /// <summary>Told about once a second while rows stream, and once when the upsert starts (the upload page follows it).</summary>
    public Func<ImportProgress, Task>? Progress { get; init; }
}

/// <summary>How far an import is: rows read, bytes of the file read (of <paramref name="TotalBytes"/>), and whether it is writing now.</summary>
public readonly record struct ImportProgress(long Rows, long BytesRead, long TotalBytes, bool Upserting);

/// <summary>One listed problem of a row: its number as a spreadsheet shows it, its key (personal identifiers masked), <c>column: problem</c>.</summary>
public sealed record ImportProblem(int Row, string Key, string Problem);

public sealed record ImportResult(string File, long Rows, long Inserted, long Updated, long Unchanged, long Rejected, bool DryRun)
{
    /// <summary>With --accept-valid: the problems of the rejected rows, as the strict mode would have listed them.</summary>
    public IReadOnlyList<string> Problems { get; init; } = [];

    /// <summary>The same problems, row by row, with the row's key masked where it is a personal identifier (for pages).</summary>
    public IReadOnlyList<ImportProblem> Listed { get; init; } = [];

    /// <summary>How many problems there were in all (only the first <see cref="RegisterImporter.MaxListedProblems"/> are listed).</summary>
    public long ProblemCount { get; init; }

    public override string ToString()
    {
        var rejected = Rejected > 0 ? string.Create(CultureInfo.InvariantCulture, $", {Rejected:N0} rejected") : "";
        var dry = DryRun ? " (dry run: nothing changed / 试运行,未作任何修改)" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"{File}: {Rows:N0} rows: {Inserted:N0} inserted, {Updated:N0} updated, {Unchanged:N0} unchanged{rejected}{dry}");
    }
}

/// <summary>
/// Loads one register file: every field checked while the rows stream into a binary COPY of a staging
/// table, then one audited, set-based upsert on the natural key, all in one transaction. Any bad row
/// (unless <c>--accept-valid</c>) throws <see cref="BadInputException"/> listing every problem, and the
/// transaction is rolled back: not a single row changes.
/// </summary>
public sealed class RegisterImporter(Work work, ImportKinds kinds, BureauClock clock)
{
    /// <summary>A register line is a few hundred characters; this bounds the memory a hostile 1 GB line can take.</summary>
    public const int MaxRecordChars = 1 << 16;

    /// <summary>More problems than this are counted, not listed.</summary>
    public const int MaxListedProblems = 200;

    /// <summary>A million-row upsert on a busy server outlasts Npgsql's 30 s default; the import is bounded by its file instead.</summary>
    private const int NoTimeout = 0;

    public async Task<ImportResult> ImportAsync(ImportRequest req, TextWriter progress, CancellationToken ct)
    {
        var kind = kinds.Find(req.Kind) ?? throw new UsageException(
            $"unknown register kind '{req.Kind}', expected one of {string.Join(", ", kinds.Names)} / 未知的名录类型");
        if (!File.Exists(req.Path)) throw new UsageException($"no such file: {req.Path} / 文件不存在");
        // A rejects target that would be refused is refused now, before anything is imported.
        if (req.RejectsPath is not null) SafeFile.CheckTarget(req.RejectsPath, req.Force, "--rejects");
        var file = req.FileName ?? Path.GetFileName(req.Path);
        if (RegisterSpreadsheet.IsXlsx(req.Path))
        {
            // An Excel workbook becomes the CSV the engine reads (MiniExcel streams the sheet), row for row, so the
            // same rules, row numbers, audit and all-or-nothing transaction apply to both.
            if (req.Encoding is not null)
                throw new UsageException("--encoding applies to CSV files; an XLSX workbook carries its own / XLSX 文件无需指定编码");
            var csvPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"lingyuan-import-{Guid.NewGuid():N}.csv");
            try
            {
                RegisterSpreadsheet.ToCsv(req.Path, csvPath, file, ct);
                return await ImportAsync(req with { Path = csvPath, FileName = file }, progress, ct);
            }
            finally
            {
                File.Delete(csvPath);
            }
        }
        var encoding = RegisterFileEncoding.Detect(req.Path, req.Encoding);
        var ctx = new ParseContext(clock.Today);
        var acceptValid = req.RejectsPath is not null;

        await using var stream = new FileStream(req.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var text = new StreamReader(stream, encoding, detectEncodingFromByteOrderMarks: encoding.CodePage == Encoding.UTF8.CodePage, 1 << 16);
        // The header is read on its own (bounded) so that an over-long line is pinned to its row: Sylvan reads
        // ahead into the first record when it opens, and could not tell the two apart.
        var headerLine = await ReadHeaderLineAsync(text, file, ct);
        var header = Header.Match(file, kind, headerLine);
        CsvDataReader csv;
        try
        {
            csv = await CsvDataReader.CreateAsync(text, new CsvDataReaderOptions
            {
                HasHeaders = false,
                // The buffer is the cap on a record: a 1 GB line costs this much memory, then stops the import.
                BufferSize = MaxRecordChars,
                MaxBufferSize = MaxRecordChars,
                ResultSetMode = ResultSetMode.SingleResult,
            }, ct);
        }
        catch (CsvRecordTooLargeException)
        {
            throw new BadInputException($"{file}:2: line: is longer than {MaxRecordChars:N0} characters, expected a register row of a few hundred");
        }
        catch (CsvInvalidCharacterException ex)
        {
            throw new BadInputException($"{file}:2: row: {QuoteProblem(ex)}");
        }
        using var _ = csv;

        var columns = header.Used;
        var problems = new Problems(file);
        var rejects = new List<string[]>();
        var keyIndexes = kind.Key.Select(k => columns.FindIndex(c => c.Column.Name == k)).ToArray();
        var seen = new KeySet();
        var slots = columns.Select((c, i) => (c.Column.Name, i)).ToDictionary(p => p.Name, p => p.i);
        var values = new object?[columns.Count];
        var rowValues = new RowValues(slots, values);
        var rowProblems = new List<string>();

        var sql = new UpsertSql(kind, columns.Select(c => c.Column).ToList());
        long rows = 0, written = 0, inserted = 0, updated = 0;
        var direct = false;
        var started = Stopwatch.StartNew();
        var loaded = TimeSpan.Zero;
        // The person who imports (the command line's account, a test's name) is who acts and is audited.
        using var acting = Acting.Begin(Acting.Current with { Actor = req.Actor });
        await work.RunAsync("import", async uow =>
        {
            var conn = uow.Connection;
            started.Restart(); // the figures count from when the lock was granted
            // A register empty when its lock is granted (a county's first load) has nothing to compare with: the rows
            // are copied straight into it, as PostgreSQL's COPY inserts them (in batches), instead of staged and then
            // inserted row by row (1,000,000 persons: 9.1 s for that INSERT against 6.6 s for COPY with the same
            // indexes, ops/bench lab, 2026-12-03). Kinds with a step of their own read the staged rows.
            direct = kind.Check is null && kind.Apply is null
                && !await uow.ScalarAsync<bool>($"SELECT EXISTS (SELECT 1 FROM {kind.Table})");
            if (!direct) await uow.ExecuteAsync(sql.CreateStage);

            var lastReport = TimeSpan.Zero;
            await using (var copy = await conn.BeginBinaryImportAsync(direct ? sql.CopyIntoRegister : sql.Copy, ct))
            {
                copy.Timeout = TimeSpan.Zero;
                var rowNo = 1; // the header is row 1, as a spreadsheet shows it
                while (true)
                {
                    try
                    {
                        if (!csv.Read()) break;
                    }
                    catch (CsvRecordTooLargeException)
                    {
                        // The reader cannot resynchronise after a record it could not hold: stop here.
                        problems.Add(rowNo + 1, "line", $"is longer than {MaxRecordChars:N0} characters, expected a register row of a few hundred");
                        throw problems.ToException();
                    }
                    catch (DecoderFallbackException)
                    {
                        problems.Add(rowNo + 1, "encoding", $"bytes are not valid {encoding.WebName}, expected one encoding throughout");
                        throw problems.ToException();
                    }
                    catch (CsvInvalidCharacterException ex)
                    {
                        // A quote out of place: the reader cannot tell where this record ends, so it cannot go on.
                        problems.Add(rowNo + 1, "row", QuoteProblem(ex));
                        throw problems.ToException();
                    }
                    rowNo++;
                    if (csv.RowFieldCount == 1 && csv.GetFieldSpan(0).IsEmpty) continue; // a blank line carries no row
                    rows++;
                    rowProblems.Clear();

                    if (csv.RowFieldCount != header.FieldCount)
                    {
                        rowProblems.Add($"row: has {csv.RowFieldCount} fields, expected {header.FieldCount} as in the header (truncated or unquoted comma?)");
                    }
                    else
                    {
                        for (var i = 0; i < columns.Count; i++)
                        {
                            var (column, ordinal) = columns[i];
                            if (column.Parse(csv.GetString(ordinal), in ctx, out values[i]) is { } error)
                                rowProblems.Add($"{column.Name}: {error}");
                        }
                        if (rowProblems.Count == 0 && kind.RowCheck?.Invoke(rowValues) is { } rp)
                            rowProblems.Add($"{rp.Column}: {rp.Message}");
                        if (rowProblems.Count == 0)
                        {
                            if (!seen.TryAdd(values, keyIndexes, rowNo, out var firstRow))
                                rowProblems.Add($"{string.Join("+", kind.Key)}: duplicate of row {firstRow}, expected each key once per file");
                        }
                    }

                    if (rowProblems.Count > 0)
                    {
                        var key = problems.Listing ? KeyShown(csv, kind, header) : "";
                        foreach (var p in rowProblems) problems.AddOfRow(rowNo, p, key);
                        if (acceptValid) rejects.Add(RejectRow(csv, header.FieldCount, rowNo, rowProblems));
                    }
                    else if (acceptValid || problems.Count == 0)
                    {
                        // Once a strict import has a problem nothing will be written, so stop feeding COPY.
                        copy.StartRow();
                        for (var i = 0; i < values.Length; i++) Write(copy, values[i], columns[i].Column.DbType);
                        written++;
                    }

                    if ((rows & 0x3FFF) == 0) ct.ThrowIfCancellationRequested();
                    if ((rows & 0x3FFF) == 0 && started.Elapsed - lastReport >= TimeSpan.FromSeconds(1))
                    {
                        lastReport = started.Elapsed;
                        progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{file}: {rows:N0} rows, {rows / started.Elapsed.TotalSeconds:N0} rows/s"));
                        if (req.Progress is not null) await req.Progress(new ImportProgress(rows, stream.Position, stream.Length, false));
                    }
                }
                if (problems.Count > 0 && !acceptValid) throw problems.ToException();
                await copy.CompleteAsync(ct);
            }
            loaded = started.Elapsed;
            if (req.Progress is not null) await req.Progress(new ImportProgress(rows, stream.Length, stream.Length, true));
            if (direct)
                inserted = written;
            else
                (inserted, updated) = await ApplyStagedAsync(uow, kind, sql, file, req, ct);
            if (!req.DryRun)
                await uow.AuditAsync("import", "register", kind.Name,
                    details: string.Create(CultureInfo.InvariantCulture,
                        $"{file}: {rows} rows, {inserted} inserted, {updated} updated, {written - inserted - updated} unchanged, {rejects.Count} rejected"));
        }, ct, new WorkOptions
        {
            RecordId = kind.Name,
            // Two imports of one kind at once would race on the same keys; the second waits for the first.
            Lock = "lingyuan.import:" + kind.Name,
            // Only the generic upsert plans joins (a kind's own Apply step plans its own way).
            Settings = kind.Apply is null ? [UpsertSql.NoNestedLoopsSetting] : [],
            // A million-row upsert on a busy server outlasts Npgsql's 30 s default; the import is bounded by its file instead.
            CommandTimeout = NoTimeout,
            // A dry run does all the work, then changes nothing.
            RollBack = req.DryRun,
        });
        if (req.RejectsPath is not null) await WriteRejectsAsync(req.RejectsPath, req.Force, header.Names, rejects, ct);
        if (started.Elapsed > TimeSpan.FromSeconds(1))
            progress.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{file}: {rows:N0} rows in {started.Elapsed.TotalSeconds:0.0} s ({loaded.TotalSeconds:0.0} s checking and staging, {(started.Elapsed - loaded).TotalSeconds:0.0} s upserting), {rows / started.Elapsed.TotalSeconds:N0} rows/s"));
        return new ImportResult(file, rows, inserted, updated, written - inserted - updated, rejects.Count, req.DryRun)
        {
            Problems = problems.Count == 0 ? [] : problems.ToException().Problems.SkipLast(1).ToList(),
            Listed = problems.Listed,
            ProblemCount = problems.Count,
        };
    }

    /// <summary>
    /// The staged rows into the register: the kind's file checks and its own step, or the generic upsert (changed
    /// rows updated and audited, new rows inserted); a dry run only counts. Returns (inserted, updated).
    /// </summary>
    private static async Task<(long Inserted, long Updated)> ApplyStagedAsync(UnitOfWork uow, ImportKind kind, UpsertSql sql, string file, ImportRequest req, CancellationToken ct)
    {
        var conn = uow.Connection;
        await uow.ExecuteAsync("ANALYZE import_stage");
        if (kind.Check is not null
            && await kind.Check(new ImportApplyContext(conn, uow.Transaction, uow.Acting.Actor, file, req.DryRun, ct)) is { Count: > 0 } fileProblems)
            throw new BadInputException([.. fileProblems.Select(p => $"{file}: {p}"), $"{file}: {fileProblems.Count:N0} problem(s); nothing was imported / 数据有误,未导入任何记录"]);

        if (kind.Apply is not null)
            return await kind.Apply(new ImportApplyContext(conn, uow.Transaction, uow.Acting.Actor, file, req.DryRun, ct));
        if (req.DryRun)
            return await uow.SingleAsync<(long, long)>(sql.Preview);
        if (sql.Audit is not null)
            await uow.ExecuteAsync(sql.Audit, new { actor = uow.Acting.Actor, details = file });
        var updated = sql.Update is null ? 0 : await uow.ExecuteAsync(sql.Update);
        var inserted = await uow.ExecuteAsync(sql.Insert);
        return (inserted, updated);
    }

    /// <summary>
    /// The first line without its line break, which may be CR LF, LF or CR alone (old Mac and some exporters);
    /// the CSV reader after it takes all three too. Refuses an empty file (a BOM alone is empty: the reader drops
    /// it), an empty first line and one longer than <see cref="MaxRecordChars"/>.
    /// </summary>
    private static async Task<string> ReadHeaderLineAsync(StreamReader text, string file, CancellationToken ct)
    {
        var line = new StringBuilder();
        var one = new char[1];
        var any = false;
        while (await text.ReadAsync(one, ct) == 1)
        {
            any = true;
            if (one[0] == '\n') break;
            if (one[0] == '\r')
            {
                if (text.Peek() == '\n') text.Read();
                break;
            }
            if (line.Length >= MaxRecordChars)
                throw new BadInputException($"{file}:1: header: the line is longer than {MaxRecordChars:N0} characters, expected a header of column names");
            line.Append(one[0]);
        }
        var header = line.ToString().TrimStart('\uFEFF');
        if (!any)
            throw new BadInputException($"{file}:1: header: the file is empty, expected a header row of column names / 文件为空");
        if (header.Trim().Length == 0)
            throw new BadInputException($"{file}:1: header: the line is empty, expected a header row of column names / 首行为空");
        return header;
    }

    /// <summary>What a misplaced quote means, for the <c>FILE:ROW: row: …</c> line (the reader names the character).</summary>
    private static string QuoteProblem(CsvInvalidCharacterException ex) => ex.InvalidCharacter == '"'
        ? "a quoted field is not closed before the end of the file, expected quotes in pairs / 引号未闭合"
        : "text follows a closing quote, expected a comma or the end of the line after it / 引号后有多余字符";

    // Synchronous on purpose: an await per field costs more than the parsing (the buffer flushes rarely block).
    private static void Write(NpgsqlBinaryImporter copy, object? value, NpgsqlDbType type)
    {
        switch (value)
        {
            case null: copy.WriteNull(); break;
            case string s: copy.Write(s, type); break;
            case bool b: copy.Write(b, type); break;
            case DateOnly d: copy.Write(d, type); break;
            case long l: copy.Write(l, type); break;
            case int i: copy.Write(i, type); break;
            case short h: copy.Write(h, type); break;
            default: throw new InvalidOperationException($"no COPY writer for {value.GetType().Name}");
        }
    }

    /// <summary>The row's key as a page may show it: ID numbers and bank accounts masked, other codes clipped.</summary>
    private static string KeyShown(CsvDataReader csv, ImportKind kind, Header header)
    {
        var parts = new List<string>(kind.Key.Count);
        foreach (var k in kind.Key)
        {
            var used = header.Used.FirstOrDefault(u => u.Column.Name == k);
            if (used.Column is null || used.Ordinal >= csv.RowFieldCount) continue;
            var raw = csv.GetString(used.Ordinal).Trim();
            parts.Add(used.Column.Parse == Fields.ResidentId ? IdNumber.Mask(raw)
                : used.Column.Parse == Fields.CardAccount ? BankAccount.Mask(raw)
                : Fields.Clip(raw));
        }
        return string.Join(" + ", parts);
    }

    private static string[] RejectRow(CsvDataReader csv, int fieldCount, int rowNo, List<string> rowProblems)
    {
        var row = new string[fieldCount + 2];
        row[0] = rowNo.ToString(CultureInfo.InvariantCulture);
        for (var i = 0; i < fieldCount; i++) row[i + 1] = i < csv.RowFieldCount ? csv.GetString(i) : "";
        row[^1] = string.Join("; ", rowProblems);
        return row;
    }

    /// <summary>
    /// The rows that were not imported, with the reason, for the operator to fix in Excel: UTF-8 with a BOM
    /// (Excel guesses the ANSI code page without one) and formula-like cells neutralised (QUALITY.md, Security).
    /// </summary>
    private static Task WriteRejectsAsync(string path, bool force, IReadOnlyList<string> names, List<string[]> rejects, CancellationToken ct)
    {
        var table = new DataTable();
        table.Columns.Add("row");
        foreach (var n in names) table.Columns.Add(table.Columns.Contains(n) ? n + "_" : n);
        table.Columns.Add("reason");
        foreach (var r in rejects) table.Rows.Add(r.Select(SpreadsheetText.Neutralise).ToArray<object>());
        return SafeFile.WriteAsync(path, force, "--rejects", async (stream, token) =>
        {
            await using var writer = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 1 << 16, leaveOpen: true);
            await using (var csvOut = CsvDataWriter.Create(writer))
                await csvOut.WriteAsync(table.CreateDataReader(), token);
            return true;
        }, ct);
    }

    /// <summary>The file's header matched against the kind: which file column feeds which register column.</summary>
    private sealed record Header(int FieldCount, IReadOnlyList<string> Names, List<(ImportColumn Column, int Ordinal)> Used)
    {
        public static Header Match(string file, ImportKind kind, string line)
        {
            List<string> names;
            try
            {
                using var csv = CsvDataReader.Create(new StringReader(line), new CsvDataReaderOptions { HasHeaders = true });
                names = Enumerable.Range(0, csv.FieldCount).Select(i => csv.GetName(i).Trim()).ToList();
            }
            catch (CsvInvalidCharacterException ex)
            {
                throw new BadInputException($"{file}:1: header: {QuoteProblem(ex)}");
            }
            // Rows without their header: say so, and quote nothing of the line, which is then someone's personal data.
            if (!names.Any(n => kind.Columns.Any(c => c.Named(n))))
                throw new BadInputException(
                    $"{file}:1: header: the first line is not a header row (none of its {names.Count} fields is a column name; is the header row missing?), " +
                    $"expected: {string.Join(", ", kind.Columns.Where(c => !c.Optional).Select(c => c.Name))} / 首行不是表头,缺少列名行");
            var byName = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
            var problems = new List<string>();
            for (var i = 0; i < names.Count; i++)
                if (!byName.TryAdd(names[i], i))
                    problems.Add($"{file}:1: header: column '{Fields.Clip(names[i])}' appears twice, expected each column once");
            var used = new List<(ImportColumn, int)>();
            foreach (var c in kind.Columns)
            {
                if (byName.TryGetValue(c.Name, out var ordinal) || (c.Chinese is { } zh && byName.TryGetValue(zh, out ordinal))) used.Add((c, ordinal));
                else if (!c.Optional)
                {
                    var near = names.Where(n => !kind.Columns.Any(k => k.Named(n)))
                        .FirstOrDefault(n => Distance(n.ToLowerInvariant(), c.Name) <= 2);
                    problems.Add($"{file}:1: header: missing column '{c.Name}'" + (near is null ? "" : $" (is '{Fields.Clip(near)}' a typo?)") +
                                 $", found: {Fields.Clip(string.Join(", ", names), 400)}" + (c.Chinese is null ? "" : $" / 缺少列:{c.Chinese}({c.Name})"));
                }
            }
            if (problems.Count > 0) throw new BadInputException(problems);
            return new Header(names.Count, names, used);
        }

        private static int Distance(string a, string b)
        {
            var d = new int[a.Length + 1, b.Length + 1];
            for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
            for (var j = 0; j <= b.Length; j++) d[0, j] = j;
            for (var i = 1; i <= a.Length; i++)
                for (var j = 1; j <= b.Length; j++)
                    d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            return d[a.Length, b.Length];
        }
    }

    /// <summary>Problem lines in the contract's shape, the first <see cref="MaxListedProblems"/> kept.</summary>
    private sealed class Problems(string file)
    {
        private readonly List<string> _lines = [];
        private readonly List<ImportProblem> _listed = [];
        public int Count { get; private set; }

        /// <summary>Whether the next problem will be listed (its row's key is worth working out).</summary>
        public bool Listing => _lines.Count < MaxListedProblems;

        public IReadOnlyList<ImportProblem> Listed => _listed;

        public void Add(int row, string column, string message) => Add(row, $"{column}: {message}");

        public void Add(int row, string problem) => AddOfRow(row, problem, "");

        public void AddOfRow(int row, string problem, string key)
        {
            Count++;
            if (_lines.Count < MaxListedProblems)
            {
                _lines.Add($"{file}:{row}: {problem}");
                _listed.Add(new ImportProblem(row, key, problem));
            }
        }

        public BadInputException ToException()
        {
            var lines = new List<string>(_lines);
            if (Count > _lines.Count) lines.Add($"{file}: … and {Count - _lines.Count:N0} more problems ({Count:N0} in all)");
            lines.Add($"{file}: {Count:N0} problem(s); nothing was imported / 数据有误,未导入任何记录");
            return new BadInputException(lines);
        }
    }
}
