using System.Net;
using Lingyuan.Jobs.Tests.Infrastructure;

namespace Lingyuan.Jobs.Tests.Hosting;

public class HealthFacts
{
    [Fact]
    public async Task Healthz_is_503_while_the_database_is_stopped_and_200_after_it_starts_again_without_a_restart()
    {
        await using var cluster = await OwnCluster.CreateAsync();
        var db = await OwnClusterDatabase.CreateAsync(cluster);
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
