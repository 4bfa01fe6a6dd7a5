using Lingyuan.Jobs.Demo;
using Lingyuan.Jobs.Hosting;
using Microsoft.Extensions.DependencyInjection;

// seed-demo through the service's command-line frame: the same configuration (appsettings.json beside the
// repository or the binaries, then ConnectionStrings__Jobs and the other environment variables), the same
// services and the same exit codes; only this console's own verbs.
return await CommandLine.RunAsync(args, new CliTool(
    "Lingyuan.Jobs.Demo",
    "Lingyuan.Jobs.Demo — synthetic demo registers for the Lingyuan HRSS jobs service / 演示数据生成工具",
    services =>
    {
        services.AddSingleton<DemoSeeder>();
        services.AddSingleton<DemoPlans>();
        services.AddCommand<SeedDemoCommand>();
    }));
