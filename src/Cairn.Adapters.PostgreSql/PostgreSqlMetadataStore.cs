using Cairn.Adapters.Sql;
using Cairn.Core;
using Cairn.Core.Ports;
using Npgsql;

namespace Cairn.Adapters.PostgreSql;

/// <summary>
/// The team-mode metadata store on PostgreSQL: the same store as the embedded one, shared by every Cairn process that
/// points at the database. Writers serialize on an advisory lock; readers never wait. Servers hear of changes to what
/// they serve and whom they trust through LISTEN/NOTIFY (the triggers of schema step 19).
/// </summary>
public sealed class PostgreSqlMetadataStore : SqlMetadataStore, IChangeFeed
{
    private const string Channel = "cairn_changes";

    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    private readonly NpgsqlDataSource _dataSource;
    private readonly TimeProvider _time;
    private int _disposed;

    private PostgreSqlMetadataStore(NpgsqlDataSource dataSource, TimeProvider time)
        : base(new PostgreSqlDialect(dataSource), time)
    {
        (_dataSource, _time) = (dataSource, time);
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
        var store = new PostgreSqlMetadataStore(dataSource, time);
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

    /// <inheritdoc />
    public override async ValueTask DisposeAsync()
    {
        // The container disposes the store once per interface it was resolved through; the pool closes once.
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await _dataSource.DisposeAsync().ConfigureAwait(false);
        }

        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task ListenAsync(Action<ChangeTopic> changed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(changed);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                // A connection of its own, held for as long as the server runs: LISTEN belongs to one session.
                await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                connection.Notification += (_, e) =>
                {
                    if (Enum.TryParse<ChangeTopic>(e.Payload, ignoreCase: true, out var topic))
                    {
                        changed(topic);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                foreach (var topic in Enum.GetValues<ChangeTopic>())
                {
                    changed(topic);
                }

                while (true)
                {
                    await connection.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                // The database went away; the servers poll meanwhile (their fallback interval), and the next connection reports every topic.
                await Task.Delay(ReconnectDelay, _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
