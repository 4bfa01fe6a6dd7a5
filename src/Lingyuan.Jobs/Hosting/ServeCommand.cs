
namespace Lingyuan.Jobs.Hosting;

/// <summary><c>serve [--role all|worker|dashboard] [--urls URL]</c>: the long-running service.</summary>
public static class ServeCommand
{
    public static readonly CommandSpec Spec = new(
        "serve",
        "run the worker and/or the dashboard / 运行服务(任务执行与控制台)",
        """
        usage: Lingyuan.Jobs serve [--role all|worker|dashboard] [--urls URL]
        用法:  Lingyuan.Jobs serve [--role all|worker|dashboard] [--urls URL]

          --role  all (default): worker + dashboard; worker: runs jobs only; dashboard: web pages only
                  all(默认):执行任务并提供控制台; worker:只执行任务; dashboard:只提供控制台
          --urls  where the dashboard listens (default Dashboard:Urls, http://127.0.0.1:5000)
                  控制台监听地址
        Several worker processes on several machines may share one database.
        多台机器上的多个 worker 进程可共用一个数据库。
        """,
        ValueOptions: ["role", "urls"],
        Flags: ["help"]);

    public static async Task<int> RunAsync(string[] rest)
    {
        var args = CommandArgs.Parse(Spec, rest);
        if (args.Flag("help")) { Console.WriteLine(Spec.Usage); return ExitCodes.Ok; }
        args.ExpectPositionals(0);
        var role = args.Option("role") switch
        {
            null or "all" => AppRole.All,
            "worker" => AppRole.Worker,
            "dashboard" => AppRole.Dashboard,
            var other => throw new UsageException($"--role must be all, worker or dashboard, got '{other}' / --role 取值应为 all、worker 或 dashboard"),
        };
        var overrides = new Dictionary<string, string?>();
        if (args.Option("urls") is { } urls)
            overrides[role == AppRole.Worker ? "Worker:Urls" : "Dashboard:Urls"] = urls;

        await using var app = await App.CreateServerAsync(role, overrides);
        await app.RunAsync();
        return ExitCodes.Ok;
    }
}
