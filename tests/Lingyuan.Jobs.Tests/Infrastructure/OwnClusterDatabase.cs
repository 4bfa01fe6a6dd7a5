namespace Lingyuan.Jobs.Tests.Infrastructure;

/// <summary>A migrated test database on a cluster of the test's own, which the test may stop and start.</summary>
public sealed class OwnClusterDatabase(OwnCluster cluster) : DatabaseFixture
{
    public OwnCluster Cluster { get; } = cluster;

    protected override string AdminConnectionString => Cluster.ConnectionString();

    public static async Task<OwnClusterDatabase> CreateAsync(OwnCluster cluster)
    {
        var db = new OwnClusterDatabase(cluster);
        await db.InitializeAsync();
        return db;
    }
}
