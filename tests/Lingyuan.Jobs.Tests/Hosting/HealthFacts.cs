using System.Net;
using Lingyuan.Jobs.Tests.Infrastructure;
using Npgsql;

namespace Lingyuan.Jobs.Tests.Hosting;

public class HealthFacts
{
    private sealed class OwnClusterDatabase(OwnCluster cluster) : DatabaseFixture
    {
        public override Dictionary<string, string?> Settings()
        {
            var s = base.Settings();
            s["ConnectionStrings:Jobs"] = cluster.ConnectionString();
            return s;
        }

        public override async Task InitializeAsync()
        {
            // The database of this test lives on its own cluster, which the test stops and starts.
            await using var probe = new NpgsqlConnection(cluster.ConnectionString());
            await probe.OpenAsync();
        }

        public override Task DisposeAsync() => Task.CompletedTask;
    }

    [Fact]
    public async Task Healthz_is_503_while_the_database_is_stopped_and_200_after_it_starts_again_without_a_restart()
    {
        await using var cluster = await OwnCluster.CreateAsync();
        var db = new OwnClusterDatabase(cluster);
        await db.InitializeAsync();
        await using var server = await TestServer.StartAsync(db, Lingyuan.Jobs.Hosting.AppRole.Dashboard);
        var http = server.Client();

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);

        await cluster.StopAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, await PollAsync(http, HttpStatusCode.ServiceUnavailable));

        await cluster.StartAsync();
        Assert.Equal(HttpStatusCode.OK, await PollAsync(http, HttpStatusCode.OK));
    }

    private static async Task<HttpStatusCode> PollAsync(HttpClient http, HttpStatusCode wanted)
    {
        var status = HttpStatusCode.InternalServerError;
        for (var i = 0; i < 60 && status != wanted; i++)
        {
            status = (await http.GetAsync("/healthz")).StatusCode;
            if (status != wanted) await Task.Delay(500);
        }
        return status;
    }
}
