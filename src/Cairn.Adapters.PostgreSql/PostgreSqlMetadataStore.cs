using Cairn.Adapters.Sql;
using Cairn.Core;
using Npgsql;

namespace Cairn.Adapters.PostgreSql;

/// <summary>
/// The team-mode metadata store on PostgreSQL: the same store as the embedded one, shared by every Cairn process that
/// points at the database. Writers serialize on an advisory lock; readers never wait.
/// </summary>
public sealed class PostgreSqlMetadataStore : SqlMetadataStore
{
    private PostgreSqlMetadataStore(PostgreSqlDialect dialect, TimeProvider time)
        : base(dialect, time)
    {
    }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => PostgreSqlMigrations.All[^1].Version;

    /// <summary>
    /// Connects (a <c>postgresql://user:password@host:port/database</c> URI or an Npgsql connection string) and brings
    /// the schema up to date. The database must exist; the schema is created in it on first use.
    /// </summary>
    public static async Task<PostgreSqlMetadataStore> OpenAsync(string connection, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(connection);
        ArgumentNullException.ThrowIfNull(time);
        var dataSource = NpgsqlDataSource.Create(PostgreSqlConnections.ToConnectionString(connection));
        var store = new PostgreSqlMetadataStore(new PostgreSqlDialect(dataSource), time);
        try
        {
            await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or CairnException { Code: ErrorCode.Unavailable })
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
            var reason = e is CairnException { InnerException: { } cause } ? cause.Message : e.Message;
            throw new CairnException(ErrorCode.Unavailable, $"Cannot use the PostgreSQL store at {PostgreSqlConnections.Describe(connection)}: {reason}", e);
        }

        return store;
    }
}
