using System.Data.Common;
using Cairn.Adapters.Sql;
using Npgsql;

namespace Cairn.Adapters.PostgreSql;

/// <summary>PostgreSQL's side of the metadata store: a pooled data source, an advisory lock that serializes writers across processes, native ILIKE.</summary>
internal sealed class PostgreSqlDialect(NpgsqlDataSource dataSource) : SqlDialect
{
    // An arbitrary constant naming Cairn's write lock among the database's advisory locks.
    private const long WriteLockKey = 0x43_61_69_72_6E; // "Cairn"

    public override IReadOnlyList<(int Version, string Name, string Sql)> Migrations => PostgreSqlMigrations.All;

    public override (string Least, string Greatest) MinMax => ("LEAST", "GREATEST");

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    // Held until the transaction ends; writers from every process queue on it, as SQLite's writers queue on its file lock.
    public override async Task LockForWriteAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = $"SELECT pg_advisory_xact_lock({WriteLockKey})";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override string Like(string value, string pattern, Func<object?, string> parameter) => $"{value} LIKE {parameter(pattern)}";

    public override string ILike(string value, string pattern, Func<object?, string> parameter) => $"{value} ILIKE {parameter(pattern)}";

    public override string InList(string column, string parameter) => $"{column} = ANY({parameter})";

    public override object ListValue(IReadOnlyList<string> values) => values.ToArray();
}
