using System.Data.Common;
using System.Text;
using System.Text.Json;
using Cairn.Adapters.Sql;
using Cairn.Core;
using Microsoft.Data.Sqlite;

namespace Cairn.Adapters.Sqlite;

/// <summary>SQLite's side of the metadata store: WAL mode, IMMEDIATE write transactions, GLOB for case-sensitive LIKE.</summary>
internal sealed class SqliteDialect(string connectionString) : SqlDialect
{
    public override IReadOnlyList<(int Version, string Name, string Sql)> Migrations => Sqlite.Migrations.All;

    public override (string Least, string Greatest) MinMax => ("MIN", "MAX");

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(connectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        return connection;
    }

    // Microsoft.Data.Sqlite begins transactions IMMEDIATE, which takes the write lock at once: nothing more to do per write.
    public override async Task PrepareDatabaseAsync(DbConnection connection, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode=WAL";
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // SQLite's LIKE ignores ASCII case, so a case-sensitive LIKE becomes the equivalent GLOB.
    public override string Like(string value, string pattern, Func<object?, string> parameter) => $"{value} GLOB {parameter(Glob(pattern))}";

    public override string ILike(string value, string pattern, Func<object?, string> parameter) => $"{value} LIKE {parameter(pattern)} ESCAPE '\\'";

    public override string InList(string column, string parameter) => $"{column} IN (SELECT value FROM json_each({parameter}))";

    public override object ListValue(IReadOnlyList<string> values) => JsonSerializer.Serialize(values, CairnJson.Compact.IReadOnlyListString);

    public override string ListRows(string parameter) => $"json_each({parameter})";

    // LIKE's % and _ become GLOB's * and ?; characters special to GLOB are matched literally through a one-character class.
    private static string Glob(string like)
    {
        var glob = new StringBuilder(like.Length);
        for (var i = 0; i < like.Length; i++)
        {
            var c = like[i];
            if (c == '\\' && i + 1 < like.Length)
            {
                glob.Append('[').Append(like[++i]).Append(']');
            }
            else
            {
                glob.Append(c switch
                {
                    '%' => "*",
                    '_' => "?",
                    '*' or '?' or '[' => $"[{c}]",
                    _ => c.ToString(),
                });
            }
        }

        return glob.ToString();
    }
}
