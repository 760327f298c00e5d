using Cairn.Adapters.PostgreSql;
using Cairn.Adapters.Sql;
using Cairn.Core;
using Cairn.Testing;

namespace Cairn.Adapters.Tests;

/// <summary>The metadata store contract on a real PostgreSQL server, one fresh database per test.</summary>
public sealed class PostgreSqlMetadataStoreTests(PostgreSqlServer server) : MetadataStoreContract, IClassFixture<PostgreSqlServer>, IAsyncLifetime
{
    private string _database = "";

    public async Task InitializeAsync() => _database = await server.CreateDatabaseAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    private protected override async Task<SqlMetadataStore> OpenAsync() => await PostgreSqlMetadataStore.OpenAsync(_database, Clock, CancellationToken.None);

    [Fact]
    public async Task Open_CreatesTheSchemaOnce_EvenWhenProcessesStartTogether()
    {
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => OpenAsync()));

        Assert.All(await Task.WhenAll(stores.Select(s => s.GetSchemaVersionAsync(CancellationToken.None))),
            v => Assert.Equal(PostgreSqlMetadataStore.CurrentSchemaVersion, v));
    }

    [Fact]
    public async Task Open_AnUnreachableServer_IsUnavailable_WithoutThePassword()
    {
        var e = await Assert.ThrowsAsync<CairnException>(() =>
            PostgreSqlMetadataStore.OpenAsync("postgresql://cairn:s3cret@127.0.0.1:1/nowhere?Timeout=2", Clock, CancellationToken.None));

        Assert.Equal(ErrorCode.Unavailable, e.Code);
        Assert.Contains("127.0.0.1:1/nowhere", e.Message);
        Assert.DoesNotContain("s3cret", e.Message);
    }

    [Theory]
    [InlineData("postgresql://ana:p%40ss@db.example:6543/cairn?sslmode=require", "db.example", 6543, "cairn", "ana", "p@ss")]
    [InlineData("postgres://db/meta", "db", 5432, "meta", null, null)]
    [InlineData("Host=h;Port=7;Database=d;Username=u", "h", 7, "d", "u", null)]
    public void ConnectionStrings_FromUrisAndNpgsqlStrings(string store, string host, int port, string database, string? user, string? password)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(PostgreSqlConnections.ToConnectionString(store));

        Assert.Equal((host, port, database, user, password), (builder.Host, builder.Port, builder.Database, builder.Username, builder.Password));
        Assert.True(PostgreSqlConnections.IsPostgreSql(store));
        Assert.DoesNotContain("p@ss", PostgreSqlConnections.Describe(store));
    }
}
