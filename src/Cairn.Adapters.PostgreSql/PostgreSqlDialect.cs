using System.Data.Common;
using Cairn.Adapters.Sql;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Npgsql;

namespace Cairn.Adapters.PostgreSql;

/// <summary>PostgreSQL's side of the metadata store: a pooled data source, an advisory lock that serializes writers across processes, native ILIKE.</summary>
internal sealed class PostgreSqlDialect(NpgsqlDataSource dataSource) : SqlDialect
{
    // An arbitrary constant naming Cairn's write lock among the database's advisory locks.
    private const long WriteLockKey = 0x43_61_69_72_6E; // "Cairn"

    // The first half of the two-part advisory keys that name one run's lock; the second is a hash of the run id.
    private const int RunLockClass = 0x43_52_75_6E; // "CRun"

    public override IReadOnlyList<(int Version, string Name, string Sql)> Migrations => PostgreSqlMigrations.All;

    public override (string Least, string Greatest) MinMax => ("LEAST", "GREATEST");

    public override async Task<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);

    public override bool ConcurrentWriters => true;

    // Held until the transaction ends, in every process. A database-wide write holds the lock exclusively; a write
    // confined to one run shares it and holds that run's own lock exclusively, so writes to different runs (the
    // bulk of the traffic: metric batches) proceed in parallel and numbering elsewhere never races.
    public override async Task LockForWriteAsync(DbConnection connection, DbTransaction transaction, string? runScope, CancellationToken cancellationToken)
    {
        await using var command = (NpgsqlCommand)connection.CreateCommand();
        command.Transaction = (NpgsqlTransaction)transaction;
        if (runScope is null)
        {
            command.CommandText = $"SELECT pg_advisory_xact_lock({WriteLockKey})";
        }
        else
        {
            command.CommandText = $"SELECT pg_advisory_xact_lock_shared({WriteLockKey}), pg_advisory_xact_lock({RunLockClass}, hashtext(@run))";
            command.Parameters.Add(new NpgsqlParameter<string>("run", runScope));
        }

        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public override string Like(string value, string pattern, Func<object?, string> parameter) => $"{value} LIKE {parameter(pattern)}";

    public override string ILike(string value, string pattern, Func<object?, string> parameter) => $"{value} ILIKE {parameter(pattern)}";

    public override string InList(string column, string parameter) => $"{column} = ANY({parameter})";

    public override object ListValue(IReadOnlyList<string> values) => values.ToArray();

    public override string ListRows(string parameter) => $"unnest({parameter}) AS list(value)";

    // A round trip costs far more than a row here: the segment and its index entries are one statement.
    public override async Task AppendSegmentAsync(DbConnection connection, DbTransaction transaction, string deployment, PredictionSegment segment,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(segment);
        await using var insert = new NpgsqlCommand("""
            WITH s AS (
                INSERT INTO prediction_segments (deployment, first_at, last_at, rows_logged, bytes, first_request, last_request, fields, inputs)
                VALUES (@d, @first, @last, @rows, @bytes, @firstRequest, @lastRequest, @fields, @inputs) RETURNING id)
            INSERT INTO prediction_requests (id, segment) SELECT r, s.id FROM s, unnest(@ids) AS r ON CONFLICT (id) DO NOTHING
            """, (NpgsqlConnection)connection, (NpgsqlTransaction)transaction);
        insert.Parameters.Add(new NpgsqlParameter<string>("d", deployment));
        insert.Parameters.Add(new NpgsqlParameter<long>("first", segment.FirstAt.ToUnixTimeMilliseconds()));
        insert.Parameters.Add(new NpgsqlParameter<long>("last", segment.LastAt.ToUnixTimeMilliseconds()));
        insert.Parameters.Add(new NpgsqlParameter<long>("rows", segment.Rows));
        insert.Parameters.Add(new NpgsqlParameter<long>("bytes", segment.Bytes));
        insert.Parameters.Add(new NpgsqlParameter<string>("firstRequest", segment.RequestIds.Count > 0 ? segment.RequestIds[0] : ""));
        insert.Parameters.Add(new NpgsqlParameter<string>("lastRequest", segment.RequestIds.Count > 0 ? segment.RequestIds[^1] : ""));
        insert.Parameters.Add(new NpgsqlParameter<byte[]>("fields", segment.Fields));
        insert.Parameters.Add(new NpgsqlParameter<byte[]>("inputs", segment.Inputs));
        insert.Parameters.Add(new NpgsqlParameter<string[]>("ids", [.. segment.RequestIds]));
        await insert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    // A round trip costs far more than a row here, so each of the three writes is one statement over arrays.
    public override async Task WriteMetricsAsync(DbConnection connection, DbTransaction transaction, string runId, IReadOnlyList<EncodedChunk> chunks,
        IReadOnlyList<Metric> latest, IReadOnlyList<MetricRollup> rollups, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(chunks);
        ArgumentNullException.ThrowIfNull(latest);
        ArgumentNullException.ThrowIfNull(rollups);
        var npgsql = (NpgsqlConnection)connection;
        var tx = (NpgsqlTransaction)transaction;
        const string Unnest = "SELECT @run, k, v, s, t FROM unnest(@keys, @values, @steps, @times) AS p(k, v, s, t)";
        await using (var append = new NpgsqlCommand("""
            INSERT INTO metric_chunks (run_id, key, first_step, last_step, points, data)
            SELECT @run, k, f, l, n, d FROM unnest(@keys, @firsts, @lasts, @counts, @datas) AS c(k, f, l, n, d)
            """, npgsql, tx))
        {
            append.Parameters.Add(new NpgsqlParameter<string>("run", runId));
            append.Parameters.Add(new NpgsqlParameter<string[]>("keys", [.. chunks.Select(c => c.Key)]));
            append.Parameters.Add(new NpgsqlParameter<long[]>("firsts", [.. chunks.Select(c => c.FirstStep)]));
            append.Parameters.Add(new NpgsqlParameter<long[]>("lasts", [.. chunks.Select(c => c.LastStep)]));
            append.Parameters.Add(new NpgsqlParameter<long[]>("counts", [.. chunks.Select(c => (long)c.Points)]));
            append.Parameters.Add(new NpgsqlParameter<byte[][]>("datas", [.. chunks.Select(c => c.Data)]));
            await append.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using (var upsert = PointsCommand(npgsql, tx, runId, $"INSERT INTO latest_metrics (run_id, key, value, step, timestamp) {Unnest} {LatestMetricUpsert}", latest))
        {
            await upsert.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var merge = new NpgsqlCommand($"""
            INSERT INTO metric_rollups (run_id, key, block, first_step, last_step, low, high, last_value, last_timestamp, points)
            SELECT @run, k, b, f, l, lo, hi, v, t, n FROM unnest(@keys, @blocks, @firsts, @lasts, @lows, @highs, @values, @times, @counts)
                AS r(k, b, f, l, lo, hi, v, t, n)
            {RollupMerge}
            """, npgsql, tx);
        merge.Parameters.Add(new NpgsqlParameter<string>("run", runId));
        merge.Parameters.Add(new NpgsqlParameter<string[]>("keys", [.. rollups.Select(r => r.Key)]));
        merge.Parameters.Add(new NpgsqlParameter<long[]>("blocks", [.. rollups.Select(r => r.Block)]));
        merge.Parameters.Add(new NpgsqlParameter<long[]>("firsts", [.. rollups.Select(r => r.FirstStep)]));
        merge.Parameters.Add(new NpgsqlParameter<long[]>("lasts", [.. rollups.Select(r => r.LastStep)]));
        merge.Parameters.Add(new NpgsqlParameter<double?[]>("lows", [.. rollups.Select(r => r.Low)]));
        merge.Parameters.Add(new NpgsqlParameter<double?[]>("highs", [.. rollups.Select(r => r.High)]));
        merge.Parameters.Add(new NpgsqlParameter<double?[]>("values", [.. rollups.Select(r => r.LastValue)]));
        merge.Parameters.Add(new NpgsqlParameter<long[]>("times", [.. rollups.Select(r => r.LastTimestamp)]));
        merge.Parameters.Add(new NpgsqlParameter<long[]>("counts", [.. rollups.Select(r => r.Points)]));
        await merge.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static NpgsqlCommand PointsCommand(NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, string sql, IReadOnlyList<Metric> points)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.Add(new NpgsqlParameter<string>("run", runId));
        command.Parameters.Add(new NpgsqlParameter<string[]>("keys", [.. points.Select(p => p.Key)]));
        // NaN is stored as NULL, as everywhere.
        command.Parameters.Add(new NpgsqlParameter<double?[]>("values", [.. points.Select(p => double.IsNaN(p.Value) ? (double?)null : p.Value)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("steps", [.. points.Select(p => p.Step)]));
        command.Parameters.Add(new NpgsqlParameter<long[]>("times", [.. points.Select(p => p.Timestamp.ToUnixTimeMilliseconds())]));
        return command;
    }
}
