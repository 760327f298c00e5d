using System.Data.Common;
using Cairn.Core;
using Cairn.Core.Ports;

namespace Cairn.Adapters.Sql;

// The prediction log: compressed segments (one per deployment and flush) and a slim index from request id to segment.
// A lookup decompresses only the segments that hold what it asks for; labels carry their prediction's segment and time.
public abstract partial class SqlMetadataStore
{
    /// <inheritdoc />
    public Task AppendPredictionsAsync(PredictionLogBatch batch, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return Task.CompletedTask;
        }

        // Compressing is the costly part, and it is done before the write lock is taken.
        var segment = PredictionSegment.Encode(batch);
        return WriteAsync(MonitoringScope(batch.Deployment), async (connection, transaction) =>
        {
            await _dialect.AppendSegmentAsync(connection, transaction, batch.Deployment, segment, cancellationToken).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LoggedPrediction>> FindPredictionsAsync(string deployment, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return ReadAsync<IReadOnlyList<LoggedPrediction>>(async connection =>
        {
            var wanted = ids.ToHashSet(StringComparer.Ordinal);
            var found = new List<LoggedPrediction>();
            foreach (var segment in await SegmentsOfAsync(connection, null, deployment, ids, cancellationToken).ConfigureAwait(false))
            {
                found.AddRange(await ReadSegmentAsync(connection, null, deployment, segment, p => p.Role != "shadow" && wanted.Contains(p.Id), cancellationToken)
                    .ConfigureAwait(false));
            }

            return await WithLabelsAsync(connection, deployment, Distinct(found), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LoggedPrediction>> ListPredictionsAsync(string deployment, DateTimeOffset from, DateTimeOffset to, bool labeledOnly, int limit,
        CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyList<LoggedPrediction>>(async connection =>
        {
            var (start, end) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
            var found = new List<LoggedPrediction>();
            if (labeledOnly)
            {
                // Labels know their segment: only segments holding a labeled prediction of the range are read.
                var labeled = await QueryAsync(connection, null,
                    "SELECT id, segment FROM prediction_labels WHERE deployment = @d AND at >= @from AND at < @to AND segment IS NOT NULL",
                    [("@d", deployment), ("@from", start), ("@to", end)], r => (Id: r.GetString(0), Segment: r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
                var ids = labeled.Select(l => l.Id).ToHashSet(StringComparer.Ordinal);
                foreach (var segment in labeled.Select(l => l.Segment).Distinct().Order())
                {
                    found.AddRange(await ReadSegmentAsync(connection, null, deployment, segment, p => p.Role != "shadow" && ids.Contains(p.Id), cancellationToken)
                        .ConfigureAwait(false));
                }
            }
            else
            {
                var segments = await QueryAsync(connection, null,
                    "SELECT id, first_at FROM prediction_segments WHERE deployment = @d AND first_at < @to AND last_at >= @from ORDER BY first_at, id",
                    [("@d", deployment), ("@from", start), ("@to", end)], r => (Id: r.GetInt64(0), First: r.GetInt64(1)), cancellationToken).ConfigureAwait(false);
                for (var i = 0; i < segments.Count; i++)
                {
                    found.AddRange(await ReadSegmentAsync(connection, null, deployment, segments[i].Id, p => p.At >= from && p.At < to, cancellationToken)
                        .ConfigureAwait(false));
                    // Segments come by their earliest answer: once `limit` rows are older than the next one's, no later segment can displace them.
                    if (found.Count >= limit && i + 1 < segments.Count && Oldest(found, limit)[^1].At.ToUnixTimeMilliseconds() < segments[i + 1].First)
                    {
                        break;
                    }
                }
            }

            return await WithLabelsAsync(connection, deployment, Oldest(Distinct(found), limit), cancellationToken).ConfigureAwait(false);
        }, cancellationToken);

    /// <inheritdoc />
    public Task AddLabelsAsync(string deployment, IReadOnlyList<(string Id, string Label)> labels, string actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return WriteAsync(MonitoringScope(deployment), async (connection, transaction) =>
        {
            var ids = labels.Select(l => l.Id).ToList();
            var wanted = ids.ToHashSet(StringComparer.Ordinal);
            // Only the fields block of each segment is read: enough to know the prediction is logged, and when.
            var logged = new Dictionary<string, (long Segment, long At)>(StringComparer.Ordinal);
            foreach (var segment in await SegmentsOfAsync(connection, transaction, deployment, ids, cancellationToken).ConfigureAwait(false))
            {
                var fields = await ScalarAsync(connection, transaction, "SELECT fields FROM prediction_segments WHERE id = @s", [("@s", segment)], cancellationToken)
                    .ConfigureAwait(false);
                foreach (var row in PredictionSegment.ReadFields((byte[])fields!).Where(r => r.Role != "shadow" && wanted.Contains(r.Id)))
                {
                    logged.TryAdd(row.Id, (segment, row.At.ToUnixTimeMilliseconds()));
                }
            }

            var unknown = ids.Where(id => !logged.ContainsKey(id)).ToList();
            if (unknown.Count > 0)
            {
                throw CairnException.NotFound(
                    $"{unknown.Count} prediction id(s) are not in {deployment}'s prediction log (never answered, not sampled, or past retention): {Listed(unknown)}; no label was recorded.");
            }

            var labeled = await QueryAsync(connection, transaction, $"SELECT id FROM prediction_labels WHERE {_dialect.InList("id", "@ids")}",
                [("@ids", _dialect.ListValue(ids))], r => r.GetString(0), cancellationToken).ConfigureAwait(false);
            if (labeled.Count > 0)
            {
                throw new CairnException(ErrorCode.Conflict, $"{labeled.Count} prediction(s) already have a label: {Listed(labeled)}; no label was recorded.");
            }

            var now = Now();
            await using var command = Command(connection, transaction,
                "INSERT INTO prediction_labels (id, deployment, label, received_at, received_by, segment, at) VALUES (@id, @d, @label, @now, @actor, @s, @at)",
                [("@id", ""), ("@d", deployment), ("@label", ""), ("@now", now), ("@actor", actor), ("@s", 0L), ("@at", 0L)]);
            foreach (var (id, label) in labels)
            {
                command.Parameters[0].Value = id;
                command.Parameters[2].Value = label;
                (command.Parameters[5].Value, command.Parameters[6].Value) = logged[id];
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            return true;
        }, cancellationToken);

        static string Listed(List<string> ids) => string.Join(", ", ids.Take(10)) + (ids.Count > 10 ? $" and {ids.Count - 10} more" : "");
    }

    /// <inheritdoc />
    public Task<IReadOnlyDictionary<DateTimeOffset, DateTimeOffset>> LabelArrivalsAsync(string deployment, TimeSpan window, DateTimeOffset since,
        CancellationToken cancellationToken) =>
        ReadAsync<IReadOnlyDictionary<DateTimeOffset, DateTimeOffset>>(async connection => (await QueryAsync(connection, null, """
            SELECT at - (at % @w) AS window_start, MAX(received_at) FROM prediction_labels
            WHERE deployment = @d AND received_at > @since AND at IS NOT NULL
            GROUP BY at - (at % @w)
            """, [("@d", deployment), ("@w", (long)window.TotalMilliseconds), ("@since", since.ToUnixTimeMilliseconds())],
            r => (Start: Time(r.GetInt64(0)), Latest: Time(r.GetInt64(1))), cancellationToken).ConfigureAwait(false)).ToDictionary(p => p.Start, p => p.Latest),
            cancellationToken);

    /// <inheritdoc />
    public Task<PredictionLogTrim> TrimPredictionLogAsync(string deployment, DateTimeOffset before, long maxBytes, CancellationToken cancellationToken) =>
        WriteAsync(MonitoringScope(deployment), async (connection, transaction) =>
        {
            var cutoff = before.ToUnixTimeMilliseconds();
            // Segments go whole: one whose newest answer is past the age goes, and the oldest go while the log is over its size.
            var total = Convert.ToInt64(await ScalarAsync(connection, transaction, "SELECT COALESCE(SUM(bytes), 0) FROM prediction_segments WHERE deployment = @d",
                [("@d", deployment)], cancellationToken).ConfigureAwait(false) ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
            var (rows, bytes, segments) = (0L, 0L, 0);
            while (true)
            {
                var oldest = await QueryAsync(connection, transaction, """
                    SELECT id, last_at, rows_logged, bytes, first_request, last_request FROM prediction_segments
                    WHERE deployment = @d ORDER BY first_at, id LIMIT 500
                    """, [("@d", deployment)],
                    r => (Id: r.GetInt64(0), Last: r.GetInt64(1), Rows: r.GetInt64(2), Bytes: r.GetInt64(3), FirstRequest: r.GetString(4), LastRequest: r.GetString(5)),
                    cancellationToken).ConfigureAwait(false);
                var removed = 0;
                foreach (var s in oldest)
                {
                    if (s.Last >= cutoff && total - bytes <= maxBytes)
                    {
                        break;
                    }

                    (bytes, rows, segments, removed) = (bytes + s.Bytes, rows + s.Rows, segments + 1, removed + 1);
                    await ExecuteAsync(connection, transaction, "DELETE FROM prediction_requests WHERE id >= @first AND id <= @last AND segment = @s",
                        [("@first", s.FirstRequest), ("@last", s.LastRequest), ("@s", s.Id)], cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, transaction, "DELETE FROM prediction_labels WHERE deployment = @d AND segment = @s",
                        [("@d", deployment), ("@s", s.Id)], cancellationToken).ConfigureAwait(false);
                    await ExecuteAsync(connection, transaction, "DELETE FROM prediction_segments WHERE id = @s", [("@s", s.Id)], cancellationToken).ConfigureAwait(false);
                }

                if (removed < oldest.Count || oldest.Count == 0)
                {
                    return new PredictionLogTrim(rows, bytes, segments, total - bytes);
                }
            }
        }, cancellationToken);

    // The schema step that introduced segments; moving the rows logged before it is code, not SQL.
    private const int PredictionSegmentsStep = 18;

    // Rows logged one per prediction before step 18 become segments of up to 10,000 rows, deployment by deployment in
    // the order they were answered; their labels learn their segment and time; the old table goes.
    private async Task MovePredictionRowsToSegmentsAsync(DbConnection connection, DbTransaction transaction, CancellationToken cancellationToken)
    {
        const int SegmentRows = 10_000;
        var deployments = await QueryAsync(connection, transaction, "SELECT DISTINCT deployment FROM predictions_rows", [], r => r.GetString(0), cancellationToken)
            .ConfigureAwait(false);
        foreach (var deployment in deployments)
        {
            var labeled = (await QueryAsync(connection, transaction, "SELECT id FROM prediction_labels WHERE deployment = @d", [("@d", deployment)],
                r => r.GetString(0), cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
            // Pages follow the index on (deployment, at, id, role), each starting after the last row of the one before.
            var after = (At: long.MinValue, Id: "", Role: "");
            while (true)
            {
                var rows = await QueryAsync(connection, transaction, """
                    SELECT id, role, at, model, version, predicted, score, inputs_json FROM predictions_rows
                    WHERE deployment = @d AND (at, id, role) > (@at, @id, @role) ORDER BY at, id, role LIMIT @n
                    """, [("@d", deployment), ("@at", after.At), ("@id", after.Id), ("@role", after.Role), ("@n", (long)SegmentRows)],
                    r => new LoggedPrediction(r.GetString(0), r.GetString(1), deployment, Time(r.GetInt64(2)), r.GetString(3), Int(r, 4), r.GetString(5),
                        r.IsDBNull(6) ? double.NaN : r.GetDouble(6), r.GetString(7)), cancellationToken).ConfigureAwait(false);
                if (rows.Count == 0)
                {
                    break;
                }

                after = (rows[^1].At.ToUnixTimeMilliseconds(), rows[^1].Id, rows[^1].Role);
                var segment = PredictionSegment.Encode(PredictionLogBatch.Of(deployment, rows));
                await _dialect.AppendSegmentAsync(connection, transaction, deployment, segment, cancellationToken).ConfigureAwait(false);
                var id = await ScalarAsync(connection, transaction, "SELECT MAX(id) FROM prediction_segments WHERE deployment = @d", [("@d", deployment)], cancellationToken)
                    .ConfigureAwait(false);
                await using var label = Command(connection, transaction, "UPDATE prediction_labels SET segment = @s, at = @at WHERE id = @id AND deployment = @d",
                    [("@s", id), ("@at", 0L), ("@id", ""), ("@d", deployment)]);
                foreach (var row in rows.Where(r => r.Role != "shadow" && labeled.Contains(r.Id)))
                {
                    (label.Parameters[1].Value, label.Parameters[2].Value) = (row.At.ToUnixTimeMilliseconds(), row.Id);
                    await label.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
            }
        }

        // A label whose prediction had already left the log has nothing to attach to.
        await ExecuteAsync(connection, transaction, "DELETE FROM prediction_labels WHERE segment IS NULL", [], cancellationToken).ConfigureAwait(false);
        await ExecuteAsync(connection, transaction, "DROP TABLE predictions_rows", [], cancellationToken).ConfigureAwait(false);
    }

    // The segments of a deployment that the index names for these prediction ids (row ids ID/i are found by their request ID).
    private async Task<List<long>> SegmentsOfAsync(DbConnection connection, DbTransaction? transaction, string deployment, IReadOnlyList<string> ids,
        CancellationToken cancellationToken)
    {
        var requests = ids.Select(PredictionSegment.RequestId).Distinct(StringComparer.Ordinal).ToList();
        return await QueryAsync(connection, transaction, $"""
            SELECT DISTINCT s.id FROM prediction_requests r JOIN prediction_segments s ON s.id = r.segment
            WHERE s.deployment = @d AND {_dialect.InList("r.id", "@ids")} ORDER BY s.id
            """, [("@d", deployment), ("@ids", _dialect.ListValue(requests))], r => r.GetInt64(0), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IEnumerable<LoggedPrediction>> ReadSegmentAsync(DbConnection connection, DbTransaction? transaction, string deployment, long segment,
        Func<LoggedPrediction, bool> keep, CancellationToken cancellationToken)
    {
        var blocks = await QueryAsync(connection, transaction, "SELECT fields, inputs FROM prediction_segments WHERE id = @s", [("@s", segment)],
            r => (Fields: (byte[])r.GetValue(0), Inputs: (byte[])r.GetValue(1)), cancellationToken).ConfigureAwait(false);
        return blocks.Count == 0 ? [] : PredictionSegment.Read(deployment, blocks[0].Fields, blocks[0].Inputs).Where(keep);
    }

    private async Task<IReadOnlyList<LoggedPrediction>> WithLabelsAsync(DbConnection connection, string deployment, List<LoggedPrediction> predictions,
        CancellationToken cancellationToken)
    {
        var answered = predictions.Where(p => p.Role != "shadow").Select(p => p.Id).Distinct(StringComparer.Ordinal).ToList();
        if (answered.Count == 0)
        {
            return predictions;
        }

        var labels = (await QueryAsync(connection, null, $"SELECT id, label FROM prediction_labels WHERE deployment = @d AND {_dialect.InList("id", "@ids")}",
            [("@d", deployment), ("@ids", _dialect.ListValue(answered))], r => (Id: r.GetString(0), Label: r.GetString(1)), cancellationToken).ConfigureAwait(false))
            .ToDictionary(l => l.Id, l => l.Label, StringComparer.Ordinal);
        return [.. predictions.Select(p => p.Role != "shadow" && labels.TryGetValue(p.Id, out var label) ? p with { Label = label } : p)];
    }

    // A segment written twice (a commit whose acknowledgement was lost, then retried) repeats rows: the first of each id and role is kept.
    private static List<LoggedPrediction> Distinct(IEnumerable<LoggedPrediction> predictions) =>
        [.. predictions.DistinctBy(p => (p.Id, p.Role))];

    private static List<LoggedPrediction> Oldest(List<LoggedPrediction> predictions, int limit) =>
        [.. predictions.OrderBy(p => p.At).ThenBy(p => p.Id, StringComparer.Ordinal).ThenBy(p => p.Role, StringComparer.Ordinal).Take(limit)];
}
