using System.Data.Common;
using Cairn.Adapters.PostgreSql;
using Cairn.Adapters.Sqlite;
using Cairn.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace Cairn.Adapters.Tests;

/// <summary>The two dialects' migrations are written separately; after all of them, both databases hold the same tables and columns.</summary>
public sealed class SchemaParityTests(PostgreSqlServer server) : IClassFixture<PostgreSqlServer>, IDisposable
{
    private readonly TempDirectory _directory = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    [Fact]
    public async Task SqliteAndPostgreSqlMigrations_EndWithTheSameTablesAndColumns()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var sqlitePath = Path.Combine(_directory.Path, "metadata.db");
        await SqliteMetadataStore.OpenAsync(sqlitePath, clock, CancellationToken.None);
        var postgres = await server.CreateDatabaseAsync();
        await PostgreSqlMetadataStore.OpenAsync(postgres, clock, CancellationToken.None);

        var sqlite = await ColumnsAsync(new SqliteConnection($"Data Source={sqlitePath}"),
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'");
        var postgresql = await ColumnsAsync(new NpgsqlConnection(PostgreSqlConnections.ToConnectionString(postgres)),
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()");

        Assert.NotEmpty(sqlite);
        Assert.Equal([], sqlite.Except(postgresql).Select(c => $"only in SQLite: {c}"));
        Assert.Equal([], postgresql.Except(sqlite).Select(c => $"only in PostgreSQL: {c}"));
    }

    // Every TABLE.COLUMN the query lists (it selects table and column names).
    private static async Task<SortedSet<string>> ColumnsAsync(DbConnection connection, string sql)
    {
        await using (connection)
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync();
            var columns = new SortedSet<string>(StringComparer.Ordinal);
            while (await reader.ReadAsync())
            {
                columns.Add($"{reader.GetString(0)}.{reader.GetString(1)}");
            }

            return columns;
        }
    }
}
