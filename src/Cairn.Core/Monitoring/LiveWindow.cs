using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Statistics;

namespace Cairn.Core.Monitoring;

/// <summary>
/// What one server saw of a deployment's traffic in one window: a mergeable profile of the inputs and outputs, one
/// per segment, and per-version request counts, failures and latency. Replicas each store theirs; merged, they give
/// the window's whole traffic.
/// </summary>
/// <param name="Deployment">The deployment.</param>
/// <param name="Start">The window's start (inclusive).</param>
/// <param name="End">The window's end (exclusive).</param>
/// <param name="Profile">Inputs and outputs of every prediction the deployment answered (shadows excluded).</param>
public sealed record LiveWindow(string Deployment, DateTimeOffset Start, DateTimeOffset End, DatasetProfile Profile)
{
    /// <summary>Profiles per value of the monitor's segment column; values beyond the first <see cref="LiveWindowBuilder.MaxSegments"/> go to <see cref="LiveWindowBuilder.OtherSegment"/>.</summary>
    public IReadOnlyDictionary<string, DatasetProfile> Segments { get; init; } = new Dictionary<string, DatasetProfile>();

    /// <summary>Requests per version that answered (shadows included, marked by role).</summary>
    public IReadOnlyList<VersionTraffic> Traffic { get; init; } = [];

    /// <summary>Merges windows of the same deployment and columns (replicas', or flushes of one server).</summary>
    public static LiveWindow Merge(LiveWindow first, LiveWindow second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        var segments = new Dictionary<string, DatasetProfile>(first.Segments, StringComparer.Ordinal);
        foreach (var (key, theirs) in second.Segments)
        {
            segments[key] = segments.TryGetValue(key, out var mine) ? Profiler.Merge(mine, theirs) : theirs;
        }

        var traffic = first.Traffic.Concat(second.Traffic)
            .GroupBy(t => (t.Model, t.Version, t.Role))
            .Select(g => g.Aggregate(VersionTraffic.Merge))
            .ToList();
        var profile = first.Profile.Rows == 0 ? second.Profile : second.Profile.Rows == 0 ? first.Profile : Profiler.Merge(first.Profile, second.Profile);
        return new LiveWindow(first.Deployment, first.Start < second.Start ? first.Start : second.Start, first.End > second.End ? first.End : second.End, profile)
        {
            Segments = segments,
            Traffic = traffic,
        };
    }
}

/// <summary>Requests one version answered in a window.</summary>
/// <param name="Model">The registered model.</param>
/// <param name="Version">Its version.</param>
/// <param name="Role"><c>model</c>, <c>canary</c> or <c>shadow</c>.</param>
/// <param name="Requests">Requests answered.</param>
/// <param name="Rows">Rows answered.</param>
/// <param name="Failures">Requests that failed in the model call, were turned away or timed out.</param>
/// <param name="LatencyMs">Time from queueing to answer, in milliseconds, as a quantile sketch.</param>
public sealed record VersionTraffic(string Model, int Version, string Role, long Requests, long Rows, long Failures, KllState? LatencyMs)
{
    /// <summary>The share of requests that failed.</summary>
    public double ErrorRate => Requests + Failures == 0 ? 0 : (double)Failures / (Requests + Failures);

    /// <summary>The 99th-percentile latency in milliseconds; NaN when nothing was answered.</summary>
    public double LatencyP99Ms => LatencyMs is { Count: > 0 } state ? KllSketch.FromState(state).Quantile(0.99) : double.NaN;

    /// <summary>The traffic of both.</summary>
    public static VersionTraffic Merge(VersionTraffic first, VersionTraffic second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        KllState? latency = (first.LatencyMs, second.LatencyMs) switch
        {
            (null, var b) => b,
            (var a, null) => a,
            var (a, b) => Merged(a, b),
        };
        return first with { Requests = first.Requests + second.Requests, Rows = first.Rows + second.Rows, Failures = first.Failures + second.Failures, LatencyMs = latency };

        static KllState Merged(KllState a, KllState b)
        {
            var sketch = KllSketch.FromState(a);
            sketch.Merge(KllSketch.FromState(b));
            return sketch.ToState();
        }
    }
}

/// <summary>The columns monitoring profiles for a model: its inputs, then its outputs reduced to one value each.</summary>
public static class MonitoredColumns
{
    /// <summary>The predicted class (classifiers).</summary>
    public const string PredictedLabel = ModelSignature.PredictedLabel;

    /// <summary>The positive class's probability (binary), the predicted class's (multiclass), or the predicted value (regression).</summary>
    public static string ScoreColumn(TaskKind task) => task switch
    {
        TaskKind.Binary => ModelSignature.Probability,
        TaskKind.Multiclass => "confidence",
        _ => ModelSignature.Prediction,
    };

    /// <summary>The schema of a window's profile for a model with <paramref name="signature"/>.</summary>
    public static TableSchema Schema(ModelSignature signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        var columns = signature.Inputs.Select(i => new ColumnSchema(i.Name, i.Type, true, 0, 0, i.Categories) { Role = ColumnRole.Feature }).ToList();
        if (signature.Task != TaskKind.Regression)
        {
            columns.Add(new ColumnSchema(PredictedLabel, ColumnType.Categorical, false, 0, 0, signature.Classes));
        }

        columns.Add(new ColumnSchema(ScoreColumn(signature.Task), ColumnType.Numeric, false, 0, 0));
        return new TableSchema(columns);
    }

    /// <summary>The outputs as the columns <see cref="Schema"/> names: the predicted label and one score per row.</summary>
    public static (string?[]? Labels, float[] Scores) Outputs(TaskKind task, IReadOnlyList<OutputTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        var labels = outputs.FirstOrDefault(o => o.Name == ModelSignature.PredictedLabel)?.Strings;
        switch (task)
        {
            case TaskKind.Binary:
                return (labels, Floats(outputs, ModelSignature.Probability));
            case TaskKind.Multiclass:
            {
                var probabilities = outputs.First(o => o.Name == ModelSignature.Probabilities);
                var confidence = new float[probabilities.Rows];
                for (var row = 0; row < confidence.Length; row++)
                {
                    var max = float.NegativeInfinity;
                    foreach (var p in probabilities.Floats.AsSpan(row * probabilities.Width, probabilities.Width))
                    {
                        max = Math.Max(max, p);
                    }

                    confidence[row] = max;
                }

                return (labels, confidence);
            }

            default:
                return (null, Floats(outputs, ModelSignature.Prediction));
        }

        static float[] Floats(IReadOnlyList<OutputTensor> outputs, string name) =>
            outputs.FirstOrDefault(o => o.Name == name)?.Floats ?? throw CairnException.Invalid($"The model's answer has no '{name}' output.");
    }

    /// <summary>The inputs with the outputs' columns beside them, ready to profile.</summary>
    public static Table WithOutputs(Table inputs, TaskKind task, IReadOnlyList<OutputTensor> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var (labels, scores) = Outputs(task, outputs);
        var columns = inputs.Columns.ToList();
        if (labels is not null)
        {
            columns.Add(new StringColumn(PredictedLabel, labels));
        }

        columns.Add(new NumericColumn(ScoreColumn(task), scores));
        return new Table(columns, inputs.RowCount);
    }
}

/// <summary>
/// Builds one window's <see cref="LiveWindow"/> from predictions as they come: memory stays bounded by the sketches
/// whatever the traffic.
/// </summary>
public sealed class LiveWindowBuilder
{
    /// <summary>Segments kept apart in a window; further values share one.</summary>
    public const int MaxSegments = 20;

    /// <summary>The segment that gathers values beyond <see cref="MaxSegments"/>.</summary>
    public const string OtherSegment = "(other)";

    private readonly TableSchema _schema;
    // The segment column's position in the schema.
    private readonly int? _segment;
    // Inputs come first in the schema, then the predicted label (classifiers) and the score.
    private readonly int _inputCount;
    // Reused for each request's columns; a builder is used by one thread at a time.
    private readonly TableColumn?[] _bound;
    private readonly Profiler _profiler;
    private readonly Dictionary<string, Profiler> _segments = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Model, int Version, string Role), (long Requests, long Rows, long Failures, KllSketch Latency)> _traffic = [];

    /// <summary>Starts the window [<paramref name="start"/>, <paramref name="end"/>) of a deployment.</summary>
    public LiveWindowBuilder(string deployment, DateTimeOffset start, DateTimeOffset end, TableSchema schema, string? segment)
    {
        ArgumentNullException.ThrowIfNull(schema);
        Deployment = deployment;
        Start = start;
        End = end;
        _schema = schema;
        var position = segment is null ? -1 : schema.Columns.ToList().FindIndex(c => c.Name == segment);
        _segment = position >= 0 ? position : null;
        _inputCount = schema.Columns.Count - (schema.Find(MonitoredColumns.PredictedLabel) is null ? 1 : 2);
        _bound = new TableColumn?[schema.Columns.Count];
        _profiler = new Profiler(schema);
    }

    /// <summary>The deployment.</summary>
    public string Deployment { get; }

    /// <summary>The window's start.</summary>
    public DateTimeOffset Start { get; }

    /// <summary>The window's end.</summary>
    public DateTimeOffset End { get; }

    /// <summary>Whether anything was observed since the last <see cref="Build"/>.</summary>
    public bool Changed { get; private set; }

    /// <summary>Profiles the rows of one answered request (inputs with outputs beside them, matched by name) and counts it for its version.</summary>
    public void Observe(ModelVersion version, string role, Table rows, TimeSpan latency)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var columns = new TableColumn?[_schema.Columns.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            columns[i] = rows.Contains(_schema.Columns[i].Name) ? rows[_schema.Columns[i].Name] : null;
        }

        Observe(version, role, columns, rows.RowCount, latency);
    }

    /// <summary>
    /// Profiles one answered request as serving hands it over: its inputs (in the signature's order, as requests are
    /// read; matched by name otherwise) and the outputs as <see cref="MonitoredColumns.Outputs"/> reduces them.
    /// </summary>
    public void Observe(ModelVersion version, string role, Table inputs, string?[]? labels, float[] scores, TimeSpan latency)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(scores);
        var columns = _bound;
        var names = _schema.Columns;
        for (var i = 0; i < _inputCount; i++)
        {
            columns[i] = i < inputs.Columns.Count && string.Equals(inputs.Columns[i].Name, names[i].Name, StringComparison.Ordinal) ? inputs.Columns[i]
                : inputs.Contains(names[i].Name) ? inputs[names[i].Name]
                : null;
        }

        if (_inputCount + 2 == columns.Length)
        {
            columns[_inputCount] = labels is null ? null : new StringColumn(MonitoredColumns.PredictedLabel, labels);
        }

        columns[^1] = new NumericColumn(names[^1].Name, scores);
        Observe(version, role, columns, inputs.RowCount, latency);
        Array.Clear(columns);
    }

    // The request's columns in the schema's order.
    private void Observe(ModelVersion version, string role, ReadOnlySpan<TableColumn?> columns, int rowCount, TimeSpan latency)
    {
        ArgumentNullException.ThrowIfNull(version);
        Changed = true;
        var key = (version.Model, version.Version, role);
        var traffic = _traffic.TryGetValue(key, out var t) ? t : (0, 0, 0, new KllSketch());
        traffic.Latency.Add(latency.TotalMilliseconds);
        _traffic[key] = (traffic.Requests + 1, traffic.Rows + rowCount, traffic.Failures, traffic.Latency);
        if (role == "shadow")
        {
            return;
        }

        // With a segment, each row is profiled once, into its segment; the whole window is the segments merged.
        var segment = _segment is { } index ? columns[index] : null;
        for (var row = 0; row < rowCount; row++)
        {
            if (segment is null)
            {
                _profiler.Observe(columns, row);
                continue;
            }

            var value = segment switch
            {
                StringColumn s => s.Values[row] ?? "(missing)",
                NumericColumn n => float.IsNaN(n.Values[row]) ? "(missing)" : n.Values[row].ToString(System.Globalization.CultureInfo.InvariantCulture),
                _ => "(missing)",
            };
            if (!_segments.TryGetValue(value, out var profiler))
            {
                value = _segments.Count < MaxSegments ? value : OtherSegment;
                profiler = _segments.TryGetValue(value, out var other) ? other : _segments[value] = new Profiler(_schema);
            }

            profiler.Observe(columns, row);
        }
    }

    /// <summary>Counts failed or refused requests of a version (under the role it answers in, once known).</summary>
    public void Fail(ModelVersion version, int requests)
    {
        ArgumentNullException.ThrowIfNull(version);
        Changed = true;
        var known = _traffic.Keys.Where(k => k.Model == version.Model && k.Version == version.Version && k.Role != "shadow").ToList();
        var key = known.Count > 0 ? known[0] : (version.Model, version.Version, "model");
        var traffic = _traffic.TryGetValue(key, out var t) ? t : (0, 0, 0, new KllSketch());
        _traffic[key] = (traffic.Requests, traffic.Rows, traffic.Failures + requests, traffic.Latency);
    }

    /// <summary>Marks the window as needing another write (its last one failed).</summary>
    public void MarkChanged() => Changed = true;

    /// <summary>The window as observed so far.</summary>
    public LiveWindow Build()
    {
        Changed = false;
        var segments = _segments.ToDictionary(s => s.Key, s => s.Value.Build(), StringComparer.Ordinal);
        return new LiveWindow(Deployment, Start, End, segments.Values.Aggregate(_profiler.Build(), (all, segment) => all.Rows == 0 ? segment : Profiler.Merge(all, segment)))
        {
            Segments = segments,
            Traffic = [.. _traffic.Select(t => new VersionTraffic(t.Key.Model, t.Key.Version, t.Key.Role, t.Value.Requests, t.Value.Rows, t.Value.Failures,
                t.Value.Latency.Count > 0 ? t.Value.Latency.ToState() : null))],
        };
    }
}
