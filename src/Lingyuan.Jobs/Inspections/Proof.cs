using System.Globalization;
using System.IO.Compression;
using System.Text;
using Lingyuan.Jobs.Database;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Inspections;

/// <summary>A plan as the public page lists it: the commitment and when it was published, the frozen snapshot, the withdrawal.</summary>
public sealed class PublicPlanRow
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Period { get; init; } = "";
    public DateOnly DrawDate { get; init; }
    public byte[] Commitment { get; init; } = [];
    public DateTime PublishedAt { get; init; }
    public long? ReplacesPlanId { get; init; }
    public DateTime? WithdrawnAt { get; init; }
    public string? WithdrawReason { get; init; }
    public long? ReplacedBy { get; init; }
    public byte[]? SnapshotHash { get; init; }
    public DateTime? FrozenAt { get; init; }
    public string? PublicSource { get; init; }
    public DateOnly? PublicValueDate { get; init; }
    public string StateDb { get; init; } = "";
}

/// <summary>A draw as the public page lists it.</summary>
public sealed class PublicDrawRow
{
    public long Id { get; init; }
    public long PlanId { get; init; }
    public int Attempt { get; init; }
    public string Algorithm { get; init; } = "";
    public DateOnly DrawDate { get; init; }
    public int EmployerCount { get; init; }
    public DateTime FinishedAt { get; init; }
    public DateTime? CancelledAt { get; init; }
    public string? CancelReason { get; init; }
}

/// <summary>One drawn employer with the names the public list shows (employer name, inspector names; no ID numbers).</summary>
public sealed class PublicResultRow
{
    public int Position { get; init; }
    public string RiskClass { get; init; } = "";
    public string Uscc { get; init; } = "";
    public string Name { get; init; } = "";
    public string[] Team { get; init; } = [];
    public string[] Names { get; init; } = [];
}

/// <summary>
/// The proof of one draw, byte for byte as hashed (docs/draw-algorithm.md §7a): <c>proof.txt</c> (every input
/// and output, one <c>key TAB value</c> line each), <c>snapshot.txt</c> and <c>result.txt</c> (the exact bytes
/// whose SHA-256 the proof names), and the three in one zip.
/// </summary>
public sealed record ProofFiles(long DrawId, long PlanId, string PlanName, string Period, IReadOnlyDictionary<string, string> Fields, byte[] Proof, byte[] Snapshot, byte[] Result)
{
    public const string Format = "ly-proof-1";

    public string ZipName => $"draw-{DrawId}-proof.zip";

    /// <summary>The bundle: a zip of proof.txt, snapshot.txt and result.txt, with fixed entry times (same bytes every time).</summary>
    public byte[] Zip()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, bytes) in Files)
            {
                var entry = zip.CreateEntry(name, CompressionLevel.Optimal);
                entry.LastWriteTime = new DateTimeOffset(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
                using var s = entry.Open();
                s.Write(bytes);
            }
        }
        return ms.ToArray();
    }

    public IEnumerable<(string Name, byte[] Bytes)> Files => [("proof.txt", Proof), ("snapshot.txt", Snapshot), ("result.txt", Result)];
}

/// <summary>
/// The Proof slice: what the public pages (<c>/public/draws</c>) and <c>draw export-proof</c> publish. Reads only;
/// never the sealed secret of a plan that has not been drawn, never an operator's name, never an ID number.
/// </summary>
public sealed class DrawProofs(Work work)
{
    public Task<(List<PublicPlanRow> Plans, List<PublicDrawRow> Draws)> ListAsync(CancellationToken ct) =>
        work.RunAsync("draws.public", async uow =>
        {
            var plans = await uow.ListAsync<PublicPlanRow>(
                $"""
                SELECT p.id, p.name, p.period, p.draw_date AS DrawDate, p.commitment, p.created_at AS PublishedAt, p.replaces_plan_id AS ReplacesPlanId,
                       w.withdrawn_at AS WithdrawnAt, w.reason AS WithdrawReason, w.replaced_by AS ReplacedBy,
                       s.snapshot_hash AS SnapshotHash, s.frozen_at AS FrozenAt, s.public_source AS PublicSource, s.public_value_date AS PublicValueDate,
                       {PlanLifecycle.StateSql} AS StateDb
                FROM app.inspection_plans p
                LEFT JOIN app.plan_withdrawals w ON w.plan_id = p.id
                LEFT JOIN LATERAL (SELECT * FROM app.draw_snapshots s WHERE s.plan_id = p.id ORDER BY s.id DESC LIMIT 1) s ON true
                ORDER BY p.draw_date DESC, p.id DESC LIMIT 500
                """);
            var draws = await uow.ListAsync<PublicDrawRow>(
                """
                SELECT d.id, d.plan_id AS PlanId, d.attempt, d.algorithm, d.draw_date AS DrawDate, d.employer_count AS EmployerCount,
                       d.finished_at AS FinishedAt, c.cancelled_at AS CancelledAt, c.reason AS CancelReason
                FROM app.draws d LEFT JOIN app.draw_cancellations c ON c.draw_id = d.id
                ORDER BY d.id DESC LIMIT 1000
                """);
            return (plans, draws);
        }, ct);

    /// <summary>The proof files of a draw, or null when there is no such draw.</summary>
    public Task<ProofFiles?> FilesAsync(long drawId, CancellationToken ct) =>
        work.RunAsync("draws.public", async uow =>
        {
            var d = await uow.SingleOrDefaultAsync<ProofRow>(
                """
                SELECT d.id, d.plan_id AS PlanId, p.name AS PlanName, p.period, d.attempt, d.algorithm, d.draw_date AS DrawDate, p.commitment,
                       p.created_at AS PublishedAt, d.secret, d.snapshot, d.snapshot_hash AS SnapshotHash, s.frozen_at AS FrozenAt,
                       d.public_source AS PublicSource, s.public_value_date AS PublicValueDate, d.public_value AS PublicValue, d.seed,
                       d.result_hash AS ResultHash, d.finished_at AS FinishedAt, c.cancelled_at AS CancelledAt, c.reason AS CancelReason
                FROM app.draws d JOIN app.inspection_plans p ON p.id = d.plan_id
                LEFT JOIN app.draw_snapshots s ON s.id = d.snapshot_id
                LEFT JOIN app.draw_cancellations c ON c.draw_id = d.id
                WHERE d.id = @drawId
                """, new { drawId });
            if (d is null) return null;
            var rows = await uow.ListAsync<(string RiskClass, string Uscc, string[] Team)>(
                "SELECT risk_class, uscc, team FROM app.draw_results WHERE draw_id = @drawId ORDER BY position", new { drawId });
            var result = DrawAlgorithm.EncodeResult(rows.Select(r => new DrawnEmployer(r.RiskClass[0], r.Uscc, r.Team)));
            var fields = new List<(string, string)>
            {
                ("algorithm", d.Algorithm),
                ("draw_id", Num(d.Id)),
                ("plan_id", Num(d.PlanId)),
                ("attempt", Num(d.Attempt)),
                ("draw_date", Day(d.DrawDate)),
                ("commitment", Hex(d.Commitment)),
                ("commitment_published_at", Utc(d.PublishedAt)),
                ("secret", Hex(d.Secret)),
                ("snapshot_sha256", Hex(d.SnapshotHash)),
            };
            if (d.PublicValue is not null)
            {
                fields.Add(("snapshot_frozen_at", Utc(d.FrozenAt!.Value)));
                fields.Add(("public_source", d.PublicSource!));
                fields.Add(("public_value_date", Day(d.PublicValueDate!.Value)));
                fields.Add(("public_value", d.PublicValue));
            }
            fields.Add(("seed", Hex(d.Seed)));
            fields.Add(("result_sha256", Hex(d.ResultHash)));
            fields.Add(("drawn_at", Utc(d.FinishedAt)));
            fields.Add(("status", d.CancelledAt is null ? "standing" : "cancelled"));
            var text = new StringBuilder(ProofFiles.Format).Append('\n');
            foreach (var (k, v) in fields) text.Append(k).Append('\t').Append(v).Append('\n');
            return new ProofFiles(d.Id, d.PlanId, d.PlanName, d.Period, fields.ToDictionary(f => f.Item1, f => f.Item2),
                Encoding.UTF8.GetBytes(text.ToString()), d.Snapshot, result);
        }, ct, new WorkOptions { RecordId = $"draw:{drawId}" });

    /// <summary>A draw's employers and teams with names (at most 5,000 rows shown).</summary>
    public Task<List<PublicResultRow>> ResultRowsAsync(long drawId, CancellationToken ct) =>
        work.RunAsync("draws.public", uow => uow.ListAsync<PublicResultRow>(
            """
            SELECT r.position, r.risk_class AS RiskClass, r.uscc, coalesce(e.name, '') AS Name, r.team,
                   ARRAY(SELECT coalesce(i.name, '') FROM unnest(r.team) WITH ORDINALITY t(b, n) LEFT JOIN app.inspectors i ON i.badge_no = t.b ORDER BY t.n) AS Names
            FROM app.draw_results r LEFT JOIN app.employers e ON e.uscc = r.uscc
            WHERE r.draw_id = @drawId ORDER BY r.position LIMIT 5000
            """, new { drawId }), ct);

    private static string Num(long n) => n.ToString(CultureInfo.InvariantCulture);
    private static string Day(DateOnly d) => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
    private static string Hex(byte[] b) => Convert.ToHexStringLower(b);
    private static string Utc(DateTime t) => DateTime.SpecifyKind(t, DateTimeKind.Utc).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private sealed class ProofRow
    {
        public long Id { get; init; }
        public long PlanId { get; init; }
        public string PlanName { get; init; } = "";
        public string Period { get; init; } = "";
        public int Attempt { get; init; }
        public string Algorithm { get; init; } = "";
        public DateOnly DrawDate { get; init; }
        public byte[] Commitment { get; init; } = [];
        public DateTime PublishedAt { get; init; }
        public byte[] Secret { get; init; } = [];
        public byte[] Snapshot { get; init; } = [];
        public byte[] SnapshotHash { get; init; } = [];
        public DateTime? FrozenAt { get; init; }
        public string? PublicSource { get; init; }
        public DateOnly? PublicValueDate { get; init; }
        public string? PublicValue { get; init; }
        public byte[] Seed { get; init; } = [];
        public byte[] ResultHash { get; init; } = [];
        public DateTime FinishedAt { get; init; }
        public DateTime? CancelledAt { get; init; }
        public string? CancelReason { get; init; }
    }
}

public sealed class DrawExportProofCommand(DrawProofs proofs) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "draw export-proof",
        "write a draw's public proof files / 导出摇号的公开证明文件",
        """
        usage: Lingyuan.Jobs draw export-proof DRAW_ID --out DIR [--force]
        用法:  Lingyuan.Jobs draw export-proof 摇号编号 --out 目录 [--force]
        Writes proof.txt, snapshot.txt, result.txt and draw-DRAW_ID-proof.zip into DIR (created if missing), the
        same bytes the public page /public/draws/DRAW_ID serves (docs/draw-algorithm.md §7a); each file whole or
        not at all, an existing one replaced only with --force. Check them with tools/DrawCheck/drawcheck.py.
        写出与公开页面相同的证明文件,可用 tools/DrawCheck/drawcheck.py 独立复核。
        """,
        ValueOptions: ["out"],
        Flags: ["force"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        var drawId = args.PositionalId(0, "DRAW_ID");
        args.ExpectPositionals(1);
        var dir = args.Option("out") ?? throw new UsageException("--out DIR is required / 需要 --out 目录");
        var force = args.Flag("force");
        if (File.Exists(dir) || (Directory.Exists(dir) && new DirectoryInfo(dir).LinkTarget is not null))
            throw new UsageException($"--out: '{dir}' is not a directory / --out 应为目录");
        Directory.CreateDirectory(dir);
        var names = new[] { "proof.txt", "snapshot.txt", "result.txt", $"draw-{drawId}-proof.zip" };
        foreach (var name in names) Exports.SafeFile.CheckTarget(Path.Combine(dir, name), force, "--out");
        var files = await proofs.FilesAsync(drawId, ct) ?? throw new DomainRuleException($"no draw {drawId} / 没有该摇号记录");
        foreach (var (name, bytes) in files.Files.Append((files.ZipName, files.Zip())))
            await Exports.SafeFile.WriteAsync(Path.Combine(dir, name), force, "--out", async (stream, token) => { await stream.WriteAsync(bytes, token); return 0; }, ct);
        Console.WriteLine($"draw {drawId}: proof.txt, snapshot.txt, result.txt, {files.ZipName} written to {dir}");
        return ExitCodes.Ok;
    }
}
