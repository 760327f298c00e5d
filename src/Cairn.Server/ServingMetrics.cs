using System.Globalization;
using Cairn.Application.Serving;
using Cairn.Core.Models;
using Microsoft.Extensions.Logging;
using Prometheus;

namespace Cairn.Server;

/// <summary>
/// Prometheus metrics of model scoring, per deployment (empty when a model is served by name), model and version,
/// beside prometheus-net's HTTP metrics (requests, status codes and latency per endpoint), all exposed at <c>/metrics</c>.
/// Load failures are also logged.
/// </summary>
internal sealed partial class ServingMetrics(ILogger<ServingMetrics> logger) : IServingObserver
{
    private static readonly string[] Labels = ["deployment", "model", "version"];

    private static readonly Counter Requests = Metrics.CreateCounter("cairn_prediction_requests_total", "Scoring requests answered.", Labels);

    private static readonly Counter Rows = Metrics.CreateCounter("cairn_predicted_rows_total", "Rows scored.", Labels);

    private static readonly Counter Failures = Metrics.CreateCounter("cairn_prediction_failures_total", "Requests in model calls that failed.", Labels);

    private static readonly Counter Rejections = Metrics.CreateCounter("cairn_rejected_requests_total",
        "Requests turned away because the queue was full (queue_full) or answered 503 because they waited too long (timeout).",
        [.. Labels, "reason"]);

    private static readonly Histogram Latency = Metrics.CreateHistogram("cairn_inference_duration_seconds", "Time in the model per model call (one batch).",
        new HistogramConfiguration { LabelNames = Labels, Buckets = Histogram.ExponentialBuckets(0.00005, 2, 16) });

    private static readonly Histogram BatchRows = Metrics.CreateHistogram("cairn_batch_rows", "Rows per model call.",
        new HistogramConfiguration { LabelNames = Labels, Buckets = Histogram.ExponentialBuckets(1, 4, 8) });

    private static readonly Histogram BatchRequests = Metrics.CreateHistogram("cairn_batch_requests", "Requests scored together per model call.",
        new HistogramConfiguration { LabelNames = Labels, Buckets = Histogram.ExponentialBuckets(1, 2, 10) });

    private static readonly Gauge LoadSeconds = Metrics.CreateGauge("cairn_model_load_seconds", "How long loading and warming a version took.", Labels);

    private static readonly Gauge QueueDepth = Metrics.CreateGauge("cairn_queue_depth", "Requests waiting for the model, per deployment version (at scrape time).", Labels);

    private static readonly Counter ShadowRows = Metrics.CreateCounter("cairn_shadow_rows_total",
        "Rows a shadow scored, by whether its answer matched the one returned (agreed: true or false).", [.. Labels, "agreed"]);

    private readonly Dictionary<string, string> _lastFailure = [];

    // Each version's labelled series, looked up once: a scored request then costs no allocation here.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string? Deployment, string Model, int Version), ScoredSeries> _series = new();

    private sealed record ScoredSeries(Histogram.Child Latency, Counter.Child Requests, Counter.Child Rows, Histogram.Child BatchRows, Histogram.Child BatchRequests);

    /// <summary>Reports every served deployment's queue depth just before each scrape.</summary>
    public static void Register(DeploymentHost deployments) => Metrics.DefaultRegistry.AddBeforeCollectCallback(() =>
    {
        foreach (var active in deployments.Active)
        {
            foreach (var model in active.Models.Distinct())
            {
                QueueDepth.WithLabels(LabelsOf(model.Deployment, model.Version)).Set(model.QueueDepth);
            }
        }
    });

    public void Loaded(string? deployment, ModelVersion version, TimeSpan took) => LoadSeconds.WithLabels(LabelsOf(deployment, version)).Set(took.TotalSeconds);

    public void Scored(string? deployment, ModelVersion version, int requests, int rows, TimeSpan took)
    {
        var key = (deployment, version.Model, version.Version);
        if (!_series.TryGetValue(key, out var series))
        {
            var labels = LabelsOf(deployment, version);
            series = _series.GetOrAdd(key, new ScoredSeries(
                Latency.WithLabels(labels), Requests.WithLabels(labels), Rows.WithLabels(labels), BatchRows.WithLabels(labels), BatchRequests.WithLabels(labels)));
        }

        series.Latency.Observe(took.TotalSeconds);
        series.Requests.Inc(requests);
        series.Rows.Inc(rows);
        series.BatchRows.Observe(rows);
        series.BatchRequests.Observe(requests);
    }

    public void Failed(string? deployment, ModelVersion version, int requests) => Failures.WithLabels(LabelsOf(deployment, version)).Inc(requests);

    public void Rejected(string? deployment, ModelVersion version, string reason) => Rejections.WithLabels([.. LabelsOf(deployment, version), reason]).Inc();

    public void Shadowed(string deployment, ModelVersion shadow, int agreed, int rows)
    {
        var labels = LabelsOf(deployment, shadow);
        ShadowRows.WithLabels([.. labels, "true"]).Inc(agreed);
        ShadowRows.WithLabels([.. labels, "false"]).Inc(rows - agreed);
    }

    public void FellBack(string? deployment, ModelVersion version, string reason) =>
        Log.FellBack(logger, deployment ?? "(by name)", version.Model, version.Version, reason);

    public void LoadFailed(string? deployment, string reason)
    {
        // Refreshes retry every second; the same failure is logged once.
        lock (_lastFailure)
        {
            if (_lastFailure.TryGetValue(deployment ?? "", out var last) && last == reason)
            {
                return;
            }

            _lastFailure[deployment ?? ""] = reason;
        }

        Log.LoadFailed(logger, deployment ?? "(all)", reason);
    }

    private static string[] LabelsOf(string? deployment, ModelVersion version) =>
        [deployment ?? "", version.Model, version.Version.ToString(CultureInfo.InvariantCulture)];

    private static partial class Log
    {
        [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Deployment {Deployment}: {Reason}")]
        public static partial void LoadFailed(ILogger logger, string deployment, string reason);

        [LoggerMessage(EventId = 11, Level = LogLevel.Warning, Message = "Deployment {Deployment}: {Model} version {Version} is served by ML.NET, because ONNX Runtime could not serve it: {Reason}")]
        public static partial void FellBack(ILogger logger, string deployment, string model, int version, string reason);
    }
}
