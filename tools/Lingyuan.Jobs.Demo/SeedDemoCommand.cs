using System.Globalization;
using Lingyuan.Jobs.Hosting;

namespace Lingyuan.Jobs.Demo;

/// <summary><c>seed-demo [--scale small|county|large] [--seed N]</c>.</summary>
public sealed class SeedDemoCommand(DemoSeeder seeder, DemoPlans plans) : ICliCommand
{
    public static CommandSpec Spec { get; } = new(
        "seed-demo",
        "fill empty registers with deterministic synthetic data / 生成确定性的演示名录数据",
        """
        usage: Lingyuan.Jobs.Demo seed-demo [--scale small|county|large] [--seed N]
        用法:  Lingyuan.Jobs.Demo seed-demo [--scale small|county|large] [--seed N]

          --scale  small (default): 1/100 of the county, for tests; county: Lingyuan, ~600,000 persons;
                   large: 1,000,000 persons and entitlements (a prefecture)
                   small(默认):县级规模的百分之一;county:凌源市全市规模;large:百万人口规模
          --seed   the same seed gives the same data (default 1) / 相同的种子生成相同的数据
        Refuses (exit 1) unless the registers are empty. Synthetic people only; mail goes to @lingyuan-demo.test.
        名录非空时拒绝执行。全部为虚构数据。
        """,
        ValueOptions: ["scale", "seed"]);

    public async Task<int> RunAsync(CommandArgs args, CancellationToken ct)
    {
        args.ExpectPositionals(0);
        var scale = DemoScale.Parse(args.Option("scale"));
        var seedText = args.Option("seed") ?? "1";
        if (!int.TryParse(seedText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seed))
            throw new UsageException($"--seed must be a whole number, got '{seedText}' / --seed 应为整数");
        var result = await seeder.SeedAsync(scale, seed, ct);
        foreach (var line in await plans.SeedAsync(ct)) Console.WriteLine(line);
        foreach (var (table, rows) in result.Rows) Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{table}\t{rows:N0}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"seed-demo: scale {scale.Name}, seed {seed}, {result.Rows.Values.Sum():N0} rows in {result.Elapsed.TotalSeconds:0.0} s / 已生成演示数据"));
        return ExitCodes.Ok;
    }
}
