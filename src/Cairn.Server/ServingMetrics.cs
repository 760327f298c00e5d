using System.Diagnostics;
using Cairn.Application;
using Cairn.Core.Data;
using Cairn.Core.Ports;
using Prometheus;

namespace Cairn.Server;

/// <summary>
/// Prometheus metrics of model scoring, per model and version, beside prometheus-net's HTTP metrics (requests,
/// status codes and latency per endpoint), all exposed at <c>/metrics</c>.
/// </summary>
internal static class ServingMetrics
{
    private static readonly string[] Labels = ["model", "version"];

    private static readonly Counter Requests = Metrics.CreateCounter("cairn_prediction_requests_total", "Scoring requests answered, per model version.", Labels);

    private static readonly Counter Rows = Metrics.CreateCounter("cairn_predicted_rows_total", "Rows scored, per model version.", Labels);

    private static readonly Counter Failures = Metrics.CreateCounter("cairn_prediction_failures_total", "Scoring calls the model failed, per model version.", Labels);

    private static readonly Histogram Latency = Metrics.CreateHistogram("cairn_inference_duration_seconds", "Time in the model per request, per model version.",
        new HistogramConfiguration { LabelNames = Labels, Buckets = Histogram.ExponentialBuckets(0.00005, 2, 16) });

    private static readonly Histogram BatchRows = Metrics.CreateHistogram("cairn_request_rows", "Rows per scoring request, per model version.",
        new HistogramConfiguration { LabelNames = Labels, Buckets = Histogram.ExponentialBuckets(1, 4, 8) });

    /// <summary>Scores <paramref name="inputs"/> with <paramref name="model"/> and records it.</summary>
    public static IReadOnlyList<OutputTensor> Predict(LoadedModel model, Table inputs)
    {
        string[] labels = [model.Version.Model, model.Version.Version.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        var started = Stopwatch.GetTimestamp();
        try
        {
            var outputs = model.Runtime.Predict(inputs);
            Latency.WithLabels(labels).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
            Requests.WithLabels(labels).Inc();
            Rows.WithLabels(labels).Inc(inputs.RowCount);
            BatchRows.WithLabels(labels).Observe(inputs.RowCount);
            return outputs;
        }
        catch
        {
            Failures.WithLabels(labels).Inc();
            throw;
        }
    }
}
