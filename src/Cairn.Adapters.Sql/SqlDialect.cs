using System.Data.Common;

namespace Cairn.Adapters.Sql;

/// <summary>What differs between the databases the metadata store runs on; everything else is written once in <see cref="SqlMetadataStore"/>.</summary>
public abstract class SqlDialect
{
    /// <summary>The schema as numbered steps. A step is never edited once released; changes are new steps.</summary>
    public abstract IReadOnlyList<(int Version, string Name, string Sql)> Migrations { get; }

    /// <summary>The two-argument minimum and maximum functions (SQLite: MIN, MAX; PostgreSQL: LEAST, GREATEST).</summary>
    public abstract (string Least, string Greatest) MinMax { get; }

    /// <summary>Opens a connection, ready for use.</summary>
    public abstract Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>Once per open, before migrations: database-wide settings.</summary>
    public virtual Task PrepareDatabaseAsync(DbConnection connection, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Takes the database-wide write lock inside a transaction that has just begun, so writers from every process queue.</summary>
    public virtual Task LockForWriteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>A case-sensitive LIKE of <paramref name="value"/> against a pattern, given the pattern's parameter name and a way to add parameters.</summary>
    public abstract string Like(string value, string pattern, Func<object?, string> parameter);

    /// <summary>A case-insensitive LIKE.</summary>
    public abstract string ILike(string value, string pattern, Func<object?, string> parameter);

    /// <summary>A condition that <paramref name="column"/> is one of the strings in the parameter <paramref name="parameter"/>, bound with <see cref="ListValue"/>.</summary>
    public abstract string InList(string column, string parameter);

    /// <summary>The value to bind for an <see cref="InList"/> parameter.</summary>
    public abstract object ListValue(IReadOnlyList<string> values);
}
