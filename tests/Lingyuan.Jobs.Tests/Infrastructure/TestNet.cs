using System.Net;
using System.Net.Sockets;

namespace Lingyuan.Jobs.Tests.Infrastructure;

public static class TestNet
{
    /// <summary>A loopback port nobody listens on now (the OS picks it).</summary>
    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }
}
