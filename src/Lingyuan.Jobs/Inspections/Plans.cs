using System.Globalization;
using System.Security.Cryptography;
using Dapper;
using Lingyuan.Jobs.Audit;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Lingyuan.Jobs.Inspections;

/// <summary>What a user asks for when scheduling a plan; null fields take the settings' defaults.</summary>
public sealed record PlanInput(
    string Name, string Period, DateOnly DrawDate,
    int[]? Ratios = null, int? TeamSize = null, int? WorkloadCap = null, int? RotationLookbackMonths = null,
    string[]? Streets = null, string[]? Industries = null);

/// <summary>A scheduled plan as stored (the secret is never loaded with it).</summary>
public sealed class Plan
{
    public long Id { get; init; }
    public string Name { get; init; } = "";
    public string Period { get; init; } = "";
    public string[] Streets { get; init; } = [];
    public string[] Industries { get; init; } = [];
    public short RatioA { get; init; }
    public short RatioB { get; init; }
    public short RatioC { get; init; }
    public short RatioD { get; init; }
    public short TeamSize { get; init; }
    public int WorkloadCap { get; init; }
    public short RotationLookbackMonths { get; init; }
    public DateOnly DrawDate { get; init; }
    public byte[] Commitment { get; init; } = [];
    public string CreatedBy { get; init; } = "";
    public DateTime CreatedAt { get; init; }

    public DrawParameters Parameters => new([RatioA, RatioB, RatioC, RatioD], TeamSize, WorkloadCap);
    public InspectionPeriod Window => InspectionPeriod.TryParse(Period, out var p) ? p : throw new InvalidOperationException($"plan {Id}: bad period");
    public string CommitmentHex => Convert.ToHexStringLower(Commitment);
    public string RatiosText => $"A={RatioA},B={RatioB},C={RatioC},D={RatioD}";
}

public sealed class InspectionPlans(NpgsqlDataSource db, IOptions<InspectionOptions> options, TimeProvider clock, IOptions<JobsOptions> jobs)
{
    public const string Columns = """
        id, name, period, streets, industries, ratio_a AS RatioA, ratio_b AS RatioB, ratio_c AS RatioC, ratio_d AS RatioD,
        team_size AS TeamSize, workload_cap AS WorkloadCap, rotation_lookback_months AS RotationLookbackMonths,
        draw_date AS DrawDate, commitment, created_by AS CreatedBy, created_at AS CreatedAt
        """;

    public DateOnly Today => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(clock.GetUtcNow(), jobs.Value.GetZone()).DateTime);

    /// <summary>Each problem of the input, one line each (empty when valid).</summary>
    public List<string> Problems(PlanInput input)
    {
        var o = options.Value;
        var problems = new List<string>();
        if (Dashboard.TextRules.Problem(input.Name, "name", "计划名称", Dashboard.TextRules.NameMaxLength) is { } nameProblem) problems.Add(nameProblem);
        if (!InspectionPeriod.TryParse(input.Period, out _)) problems.Add($"period: '{input.Period}' is not YYYY-MM or YYYY-Qn / 期间格式应为 YYYY-MM 或 YYYY-Qn");
        if (input.DrawDate < Today) problems.Add($"draw date: {input.DrawDate:yyyy-MM-dd} is in the past / 摇号日期不能早于今天");
        var parameters = new DrawParameters(input.Ratios ?? o.DefaultRatios, input.TeamSize ?? o.DefaultTeamSize, input.WorkloadCap ?? o.DefaultWorkloadCap);
        problems.AddRange(parameters.Problems());
        if ((input.RotationLookbackMonths ?? o.DefaultRotationLookbackMonths) is < 0 or > 240) problems.Add("rotation look-back: 0-240 months / 轮换回溯月数应为 0-240");
        foreach (var s in (input.Streets ?? []).Concat(input.Industries ?? []))
            if (Dashboard.TextRules.Problem(s, "streets/industries", "街道或行业名称", Dashboard.TextRules.NameMaxLength) is { } listProblem) problems.Add(listProblem);
        return problems;
    }

    /// <summary>
    /// Schedules a plan: a fresh 32-byte secret from the OS CSPRNG is stored and only its SHA-256
    /// commitment is returned, to be published before the draw (commit–reveal, DOMAIN.md §1).
    /// </summary>
    public async Task<Plan> CreateAsync(PlanInput input, string actor, CancellationToken ct)
    {
        var problems = Problems(input);
        if (problems.Count > 0) throw new BadInputException(problems);
        var o = options.Value;
        var ratios = input.Ratios ?? o.DefaultRatios;
        var secret = RandomNumberGenerator.GetBytes(32);
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        long id;
        try
        {
            id = await conn.ExecuteScalarAsync<long>(new CommandDefinition(
                """
                INSERT INTO app.inspection_plans (name, period, streets, industries, ratio_a, ratio_b, ratio_c, ratio_d,
                    team_size, workload_cap, rotation_lookback_months, draw_date, secret, commitment, created_by)
                VALUES (@Name, @Period, @streets, @industries, @a, @b, @c, @d, @team, @cap, @lookback, @DrawDate, @secret, sha256(@secret), @actor)
                RETURNING id
                """,
                new
                {
                    Name = input.Name.Trim(), input.Period, input.DrawDate, secret, actor,
                    streets = Clean(input.Streets), industries = Clean(input.Industries),
                    a = (short)ratios[0], b = (short)ratios[1], c = (short)ratios[2], d = (short)ratios[3],
                    team = (short)(input.TeamSize ?? o.DefaultTeamSize), cap = input.WorkloadCap ?? o.DefaultWorkloadCap,
                    lookback = (short)(input.RotationLookbackMonths ?? o.DefaultRotationLookbackMonths),
                }, tx, cancellationToken: ct));
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new DomainRuleException($"a plan named '{input.Name.Trim()}' exists for {input.Period} / 该期间已有同名计划");
        }
        var plan = await GetAsync(conn, tx, id, ct) ?? throw new InvalidOperationException("plan vanished");
        await AuditLog.WriteAsync(conn, tx, actor, "inspection-plan.add", "inspection_plan", id.ToString(CultureInfo.InvariantCulture),
            after: new { plan.Name, plan.Period, plan.Streets, plan.Industries, plan.RatiosText, plan.TeamSize, plan.WorkloadCap, plan.RotationLookbackMonths, DrawDate = plan.DrawDate.ToString("yyyy-MM-dd"), Commitment = plan.CommitmentHex });
        await tx.CommitAsync(ct);
        return plan;
    }

    private static string[] Clean(string[]? names) =>
        (names ?? []).Select(s => s.Trim()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();

    public static Task<Plan?> GetAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, long id, CancellationToken ct) =>
        conn.QuerySingleOrDefaultAsync<Plan>(new CommandDefinition($"SELECT {Columns} FROM app.inspection_plans WHERE id = @id", new { id }, tx, cancellationToken: ct));

    public async Task<IReadOnlyList<Plan>> ListAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Plan>(new CommandDefinition($"SELECT {Columns} FROM app.inspection_plans ORDER BY draw_date DESC, id DESC", cancellationToken: ct))).ToList();
    }

    /// <summary>Parses <c>A=3,B=5,C=20,D=60</c> (every class given once).</summary>
    public static int[] ParseRatios(string text)
    {
        var ratios = new int?[4];
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            var c = kv[0].Length == 1 ? RiskClasses.IndexOf(char.ToUpperInvariant(kv[0][0])) : -1;
            if (kv.Length != 2 || c < 0 || ratios[c] is not null
                || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out var v) || v > 100)
                throw new UsageException($"--ratios: '{part}' is not CLASS=PERCENT with CLASS A-D once each and PERCENT 0-100 / 抽查比例格式应为 A=3,B=5,C=20,D=60");
            ratios[c] = v;
        }
        if (ratios.Any(r => r is null)) throw new UsageException("--ratios: give all four classes A, B, C and D / 需给出 A、B、C、D 四类比例");
        return ratios.Select(r => r!.Value).ToArray();
    }
}
