using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Dapper;
using Lingyuan.Jobs.Dashboard;
using Lingyuan.Jobs.Hosting;
using Lingyuan.Jobs.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Lingyuan.Jobs.Tests.Dashboard;

/// <summary>Findings 2 and 3: a flood of sign-ins, lockouts per account and address, proxies.</summary>
public class LoginFloodFacts(DatabaseFixture db, ITestOutputHelper output) : IClassFixture<DatabaseFixture>
{
    /// <summary>
    /// A client whose connections come from the given loopback address (Linux routes all of 127/8
    /// to lo), so the server sees a distinct client address without any forwarded header.
    /// </summary>
    private static HttpClient ClientFrom(TestServer server, IPAddress source, CookieContainer cookies) =>
        new(new SocketsHttpHandler
        {
            CookieContainer = cookies,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (ctx, ct) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(source, 0));
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, ctx.DnsEndPoint.Port), ct);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        })
        { BaseAddress = server.BaseAddress, Timeout = TimeSpan.FromMinutes(3) };

    private async Task<long> ScalarAsync(string sql, object? args = null)
    {
        await using var conn = await db.DataSource.OpenConnectionAsync();
        return await conn.ExecuteScalarAsync<long>(sql, args);
    }

    [Fact]
    public async Task Finding2_a_login_flood_leaves_every_other_request_answering()
    {
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard);
        var reader = await server.SignedInClientAsync("flood-reader", Roles.Operator);
        await server.App.Services.GetRequiredService<UserStore>().AddAsync("flood-victim", Roles.Finance, TestSignIn.Password, "test", default);

        // One antiforgery pair for every attacker (a token is not tied to the address).
        var cookies = new CookieContainer();
        var token = await TestServer.AntiforgeryTokenAsync(ClientFrom(server, IPAddress.Parse("127.0.9.9"), cookies), "/login");

        const int addresses = 300, attemptsEach = 3;
        var floodStatuses = new ConcurrentBag<int>();
        var readerStatuses = new ConcurrentBag<(string Path, int Status)>();
        using var flooding = new CancellationTokenSource();
        var watch = Stopwatch.StartNew();

        var readerLoop = Task.Run(async () =>
        {
            while (!flooding.IsCancellationRequested)
            {
                foreach (var path in new[] { "/healthz", "/hangfire", "/hangfire/recurring", "/healthz", "/hangfire/outbox" })
                {
                    var response = await reader.GetAsync(path);
                    readerStatuses.Add((path, (int)response.StatusCode));
                }
                await Task.Delay(100);
            }
        });

        using var parallel = new SemaphoreSlim(48);
        var attackers = Enumerable.Range(0, addresses).Select(async i =>
        {
            await parallel.WaitAsync();
            try
            {
                using var client = ClientFrom(server, IPAddress.Parse($"127.0.{1 + i / 200}.{1 + i % 200}"), cookies);
                for (var a = 0; a < attemptsEach; a++)
                {
                    var user = a == 0 ? "flood-victim" : $"guess-{i}-{a}";
                    var response = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
                    {
                        ["__RequestVerificationToken"] = token, ["UserName"] = user, ["Password"] = $"wrong-password-{i}-{a}",
                    }));
                    floodStatuses.Add((int)response.StatusCode);
                }
            }
            finally
            {
                parallel.Release();
            }
        }).ToList();
        await Task.WhenAll(attackers);
        flooding.Cancel();
        await readerLoop;

        var byStatus = floodStatuses.GroupBy(s => s).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine($"flood of {floodStatuses.Count} sign-ins in {watch.Elapsed.TotalSeconds:F1} s: "
            + string.Join(", ", byStatus.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key} x{kv.Value}"))
            + $"; reader made {readerStatuses.Count} requests");
        Assert.Equal(addresses * attemptsEach, floodStatuses.Count);
        Assert.DoesNotContain(floodStatuses, s => s >= 500);
        Assert.All(floodStatuses, s => Assert.True(s is 401 or 429, $"flood answer {s}"));
        Assert.NotEmpty(readerStatuses);
        Assert.All(readerStatuses, r => Assert.True(r.Status == 200, $"{r.Path} answered {r.Status} during the flood"));
        Assert.Contains(readerStatuses, r => r.Path == "/healthz");

        // The server saw 300 distinct addresses; none of them was locked (3 failures each), the victim account was.
        Assert.True(await ScalarAsync("SELECT count(DISTINCT client_address) FROM app.sign_in_failures WHERE client_address LIKE '127.0.%'") >= addresses);
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM app.audit_log WHERE action = 'sign-in.lockout' AND subject_id = 'flood-victim'"));
        // Only the flood's own addresses (127.0.1.x, 127.0.2.x): the class's other facts lock addresses of their own.
        Assert.Equal(0L, await ScalarAsync(
            "SELECT count(*) FROM app.audit_log WHERE action = 'sign-in.lockout' AND subject_type = 'address' AND (subject_id LIKE '127.0.1.%' OR subject_id LIKE '127.0.2.%')"));
        // Healthy after the flood, and the reader still signs in.
        Assert.Equal(HttpStatusCode.OK, (await server.Client().GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await TestServer.PostLoginAsync(server.Client(), "flood-reader", TestSignIn.Password)).StatusCode);
    }

    [Fact]
    public async Task Finding3_successful_sign_ins_are_not_counted_and_repeated_failures_lock_the_account()
    {
        await using var server = await TestServer.StartAsync(db, AppRole.Dashboard, new() { ["Dashboard:LoginFailuresPerAddress"] = "8" });
        var users = server.App.Services.GetRequiredService<UserStore>();
        await users.AddAsync("office-clerk", Roles.Operator, TestSignIn.Password, "test", default);
        await users.AddAsync("office-other", Roles.Operator, TestSignIn.Password, "test", default);
        await users.AddAsync("office-third", Roles.Operator, TestSignIn.Password, "test", default);

        // The office's own address, so the other facts of this class keep 127.0.0.1 unlocked.
        HttpClient Office() => ClientFrom(server, IPAddress.Parse("127.0.50.1"), new CookieContainer());

        // An office behind one address signs in many times: never refused.
        for (var i = 0; i < 20; i++)
            Assert.Equal(HttpStatusCode.Redirect, (await TestServer.PostLoginAsync(Office(), "office-clerk", TestSignIn.Password)).StatusCode);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
            statuses.Add((await TestServer.PostLoginAsync(Office(), "office-clerk", $"wrong-guess-{i}")).StatusCode);
        Assert.All(statuses.Take(5), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.TooManyRequests, statuses[5]);
        // Locked: even the right password is refused for now, with a Chinese answer and Retry-After.
        var locked = await TestServer.PostLoginAsync(Office(), "office-clerk", TestSignIn.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.Contains("临时锁定", await locked.Content.ReadAsStringAsync());
        Assert.NotNull(locked.Headers.RetryAfter);
        // Another account from the same address is not locked (5 failures < 8 for the address)...
        Assert.Equal(HttpStatusCode.Redirect, (await TestServer.PostLoginAsync(Office(), "office-other", TestSignIn.Password)).StatusCode);
        // ...until the address reaches its own limit.
        for (var i = 0; i < 3; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await TestServer.PostLoginAsync(Office(), $"no-such-{i}", "wrong-guess")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await TestServer.PostLoginAsync(Office(), "office-third", TestSignIn.Password)).StatusCode);
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM app.audit_log WHERE action = 'sign-in.lockout' AND subject_id = 'office-clerk' AND channel = 'web'"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM app.sign_in_failures WHERE user_name IN ('office-other', 'office-third')"));
    }

    [Fact]
    public async Task Finding3_a_forwarded_address_is_believed_only_from_a_configured_proxy()
    {
        var settings = new Dictionary<string, string?> { ["Dashboard:LoginFailuresPerAddress"] = "3", ["Dashboard:LoginFailuresPerAccount"] = "100" };
        await using (var direct = await TestServer.StartAsync(db, AppRole.Dashboard, settings))
        {
            var client = direct.Client();
            client.DefaultRequestHeaders.Add("X-Forwarded-For", "10.9.9.9");
            await TestServer.PostLoginAsync(client, "nobody-direct", "wrong-guess");
            Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM app.sign_in_failures WHERE client_address = '10.9.9.9'"));
            Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM app.sign_in_failures WHERE user_name = 'nobody-direct' AND client_address = '127.0.0.1'"));
        }

        settings["Dashboard:KnownProxies:0"] = "127.0.0.1";
        await using var behindProxy = await TestServer.StartAsync(db, AppRole.Dashboard, settings);
        async Task<HttpStatusCode> FromAsync(string forwarded, string user)
        {
            var client = behindProxy.Client();
            client.DefaultRequestHeaders.Add("X-Forwarded-For", forwarded);
            return (await TestServer.PostLoginAsync(client, user, "wrong-guess")).StatusCode;
        }
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.Unauthorized, await FromAsync("10.1.1.1", $"proxy-user-{i}"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await FromAsync("10.1.1.1", "proxy-user-x"));
        Assert.Equal(HttpStatusCode.Unauthorized, await FromAsync("10.2.2.2", "proxy-user-y"));
        Assert.Equal(3L, await ScalarAsync("SELECT count(*) FROM app.sign_in_failures WHERE client_address = '10.1.1.1'"));
    }
}
