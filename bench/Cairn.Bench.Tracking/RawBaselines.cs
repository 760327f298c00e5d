using System.Diagnostics;
using Cairn.Adapters.PostgreSql;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

/// <summary>
/// The baselines ingestion is measured against: the same rows inserted straight into a fresh metrics table (with the
/// series index) of the same kind of database, the fastest plain way each offers: SQLite, one prepared statement in
/// one transaction; PostgreSQL, binary COPY.
/// </summary>
internal static class RawBaselines
{
    public static double Sqlite(IReadOnlyList<(string Run, string Key, double Value, long Step, long Timestamp)> rows)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cairn-bench-{Guid.NewGuid():N}.db");
        try
        {
            using var connection = new SqliteConnection($"Data Source={file}");
            connection.Open();
            using (var setup = connection.CreateCommand())
            {
                setup.CommandText = "PRAGMA journal_mode=WAL; " + CreateTable;
                setup.ExecuteNonQuery();
            }

            var clock = Stopwatch.StartNew();
            using var transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = Insert;
            var run = insert.Parameters.Add("@run", SqliteType.Text);
            var key = insert.Parameters.Add("@key", SqliteType.Text);
            var value = insert.Parameters.Add("@value", SqliteType.Real);
            var step = insert.Parameters.Add("@step", SqliteType.Integer);
            var ts = insert.Parameters.Add("@ts", SqliteType.Integer);
            insert.Prepare();
            foreach (var row in rows)
            {
                (run.Value, key.Value, value.Value, step.Value, ts.Value) = (row.Run, row.Key, row.Value, row.Step, row.Timestamp);
                insert.ExecuteNonQuery();
            }

            transaction.Commit();
            return rows.Count / clock.Elapsed.TotalSeconds;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }

    public static async Task<double> PostgreSqlAsync(string database, IReadOnlyList<(string Run, string Key, double Value, long Step, long Timestamp)> rows)
    {
        await using var connection = new NpgsqlConnection(PostgreSqlConnections.ToConnectionString(database));
        await connection.OpenAsync();
        await using (var setup = new NpgsqlCommand(CreateTable.Replace("run_metrics", "raw_metrics", StringComparison.Ordinal)
            .Replace("REAL", "DOUBLE PRECISION", StringComparison.Ordinal).Replace("INTEGER", "BIGINT", StringComparison.Ordinal), connection))
        {
            await setup.ExecuteNonQueryAsync();
        }

        // PostgreSQL's fastest way in is COPY: rows streamed in binary, no statement per row.
        var clock = Stopwatch.StartNew();
        await using (var writer = await connection.BeginBinaryImportAsync("COPY raw_metrics (run_id, key, value, step, timestamp) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                await writer.StartRowAsync();
                await writer.WriteAsync(row.Run, NpgsqlDbType.Text);
                await writer.WriteAsync(row.Key, NpgsqlDbType.Text);
                await writer.WriteAsync(row.Value, NpgsqlDbType.Double);
                await writer.WriteAsync(row.Step, NpgsqlDbType.Bigint);
                await writer.WriteAsync(row.Timestamp, NpgsqlDbType.Bigint);
            }

            await writer.CompleteAsync();
        }

        var rate = rows.Count / clock.Elapsed.TotalSeconds;
        await using (var drop = new NpgsqlCommand("DROP TABLE raw_metrics", connection))
        {
            await drop.ExecuteNonQueryAsync();
        }

        return rate;
    }

    private const string CreateTable =
        "CREATE TABLE run_metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, value REAL, step INTEGER NOT NULL, timestamp INTEGER NOT NULL); " +
        "CREATE INDEX run_metrics_series ON run_metrics (run_id, key, step, timestamp);";

    private const string Insert = "INSERT INTO run_metrics (run_id, key, value, step, timestamp) VALUES (@run, @key, @value, @step, @ts)";
}
