using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Statistics;

/// <summary>
/// Drift of a live window: 1,000,000 predictions with 50 features, profiled by four replicas into windows as the
/// recorder stores them (compressed JSON), then timed: reading, merging and evaluating the window against a
/// reference (drift per feature and of the data, prediction drift, data quality, segments-free, CBPE estimate).
/// </summary>
internal static class MonitorDrift
{
    public static void Run(int rows)
    {
        const int numeric = 40, categorical = 10, replicas = 4, requestRows = 10;
        var inputs = Enumerable.Range(0, numeric).Select(i => new SignatureInput($"n{i}", ColumnType.Numeric))
            .Concat(Enumerable.Range(0, categorical).Select(i => new SignatureInput($"c{i}", ColumnType.Categorical, ["a", "b", "c", "d", "e", "f"])))
            .ToList();
        var signature = new ModelSignature(TaskKind.Binary, "y", ["no", "yes"], inputs, ModelSignature.OutputsFor(TaskKind.Binary, 2));
        var schema = MonitoredColumns.Schema(signature);
        var version = new ModelVersion("m", 1, "bench", null, new ModelPackage(default, null, signature), DateTimeOffset.UnixEpoch, []);

        var referenceRows = 100_000;
        var reference = Profiler.Profile(Rows(referenceRows, new Random(1), shift: 0), schema);
        var random = new Random(2);
        var stored = new List<byte[]>();
        var profiling = Stopwatch.StartNew();
        for (var r = 0; r < replicas; r++)
        {
            var builder = new LiveWindowBuilder("bench", DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddHours(1), schema, null);
            for (var sent = 0; sent < rows / replicas; sent += requestRows)
            {
                builder.Observe(version, "model", Rows(requestRows, random, shift: 0.2), TimeSpan.FromMilliseconds(1));
            }

            using var compressed = new MemoryStream();
            using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest))
            {
                JsonSerializer.Serialize(gzip, builder.Build(), CairnJson.Compact.LiveWindow);
            }

            stored.Add(compressed.ToArray());
        }

        profiling.Stop();
        Console.WriteLine($"profiled {rows:N0} predictions × {numeric + categorical} features + 2 outputs in {requestRows}-row requests on one thread: "
            + $"{profiling.Elapsed.TotalSeconds:F2} s ({rows / profiling.Elapsed.TotalSeconds:N0} rows/s, {profiling.Elapsed.TotalMicroseconds / (rows / requestRows):F1} µs per request); "
            + $"{replicas} stored windows, {stored.Sum(s => s.Length) / 1024.0:N0} KiB compressed");

        var baseline = new MonitorBaseline("bench@1", "m", 1, TaskKind.Binary, "y", ["no", "yes"], reference, [.. schema.Columns.Take(inputs.Count).Select(c =>
            new ColumnContract(c.Name, c.Type) { Min = c.Type == ColumnType.Numeric ? -5 : null, Max = c.Type == ColumnType.Numeric ? 5 : null, Allowed = c.Categories })],
            new Dictionary<string, double>(), Calibration.Fit([0.1f, 0.4f, 0.6f, 0.9f], [false, false, true, true], 0.5));
        var spec = new MonitorSpec { Reference = "bench@1" };
        var times = new List<double>();
        WindowResult? result = null;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var watch = Stopwatch.StartNew();
            var window = stored.Select(bytes =>
            {
                using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                return JsonSerializer.Deserialize(gzip, CairnJson.Compact.LiveWindow)!;
            }).Aggregate(LiveWindow.Merge);
            result = MonitorEvaluator.Evaluate(spec, baseline, window, [], DateTimeOffset.UnixEpoch);
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        Console.WriteLine($"evaluating the window (read {replicas} stored windows, merge, drift of {result!.Drift!.Columns.Count} features, prediction drift, quality, estimate): "
            + $"best {times.Min():F0} ms, median {times.Order().ElementAt(2):F0} ms over 5 runs (first {times[0]:F0} ms); drifted {result.Drift.Columns.Count(c => c.Drifted)} of {result.Drift.Columns.Count}");
    }

    // Numbers from a normal distribution (shifted by `shift` standard deviations), labels from six values, and a probability.
    private static Table Rows(int count, Random random, double shift)
    {
        var columns = new List<TableColumn>();
        for (var i = 0; i < 40; i++)
        {
            columns.Add(new NumericColumn($"n{i}", [.. Enumerable.Range(0, count).Select(_ => (float)(Normal(random) + (i % 2 == 0 ? shift : 0)))]));
        }

        string[] levels = ["a", "b", "c", "d", "e", "f"];
        for (var i = 0; i < 10; i++)
        {
            columns.Add(new StringColumn($"c{i}", [.. Enumerable.Range(0, count).Select(_ => levels[Math.Min(5, (int)(random.NextDouble() * (6 + shift)))])]));
        }

        var probability = Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();
        columns.Add(new StringColumn(MonitoredColumns.PredictedLabel, [.. probability.Select(p => p >= 0.5 ? "yes" : "no")]));
        columns.Add(new NumericColumn(ModelSignature.Probability, probability));
        return new Table(columns, count);
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
