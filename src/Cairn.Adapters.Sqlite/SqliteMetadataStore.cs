using Cairn.Adapters.Sql;
using Microsoft.Data.Sqlite;

namespace Cairn.Adapters.Sqlite;

/// <summary>
/// The embedded metadata store: one SQLite file in WAL mode, so readers never block the writer; writers take the
/// file's write lock as their transaction begins (IMMEDIATE) and queue for it.
/// </summary>
public sealed class SqliteMetadataStore : SqlMetadataStore
{
    private SqliteMetadataStore(SqliteDialect dialect, TimeProvider time)
        : base(dialect, time)
    {
    }

    /// <summary>The schema version this build writes.</summary>
    public static int CurrentSchemaVersion => Migrations.All[^1].Version;

    /// <summary>Opens (creating if needed) the database file and brings its schema up to date.</summary>
    public static async Task<SqliteMetadataStore> OpenAsync(string path, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(time);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            ForeignKeys = true,
            Pooling = true,
            // Microsoft.Data.Sqlite retries a busy database for up to this long before failing.
            DefaultTimeout = 30,
        }.ToString();
        var store = new SqliteMetadataStore(new SqliteDialect(connectionString), time);
        await store.MigrateAsync(cancellationToken).ConfigureAwait(false);
        return store;
    }
}
