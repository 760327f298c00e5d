using System.Globalization;
using Cairn.Core.Reports;
using Cairn.Core.Statistics;

namespace Cairn.Core.Monitoring;

/// <summary>A monitor's history: its settings, the reference's figures, every stored window result and the alerts.</summary>
/// <param name="Monitor">The monitor.</param>
/// <param name="Baseline">Model and reference figures (metrics on the reference rows).</param>
/// <param name="Windows">Window results, oldest first.</param>
/// <param name="Alerts">Alerts, newest first.</param>
/// <param name="Latest">The newest window's merged profile, for distributions; null when there is none.</param>
public sealed record MonitorReport(DeploymentMonitor Monitor, MonitorBaseline Baseline, IReadOnlyList<WindowResult> Windows, IReadOnlyList<Alert> Alerts,
    DatasetProfile? Latest)
{
    /// <summary>Features whose distributions are drawn (the most drifted first).</summary>
    public const int DrawnFeatures = 8;

    /// <summary>A self-contained HTML page: inline SVG charts, no script, nothing fetched.</summary>
    public string ToHtml()
    {
        var html = HtmlPage.Open($"Monitoring report: {Monitor.Deployment}", ".drift{background:#fecaca}");
        HtmlPage.Table(html, ["", ""],
        [
            ["reference", Baseline.Reference],
            ["model scored on it", $"{Baseline.Model}@{Baseline.Version} ({Baseline.Task.ToString().ToLowerInvariant()}, label {Baseline.Label})"],
            ["window", Durations.Format(Monitor.Spec.Window)],
            ["windows evaluated", Windows.Count.ToString(CultureInfo.InvariantCulture)],
            ["predictions", Windows.Sum(w => w.Rows).ToString("N0", CultureInfo.InvariantCulture)],
            ["alerts", Alerts.Count.ToString(CultureInfo.InvariantCulture)],
        ]);
        if (Windows.Count == 0)
        {
            html.Append("<p>No window has been evaluated yet: send traffic to the deployment, then run <code>cairn monitors evaluate</code>.</p></body></html>");
            return html.ToString();
        }

        var t0 = Windows[0].Start;
        double X(WindowResult w) => (w.Start - t0).TotalHours;
        html.Append("<h2>Over time</h2><div class=\"charts\">");
        html.Append(SvgChart.Lines("Drifted share of features", "hours since first window", "share",
            [new ChartSeries("drift share", [.. Windows.Select(w => (X(w), w.Metrics.GetValueOrDefault("drift_share")))], true)], yRange: (0, 1)));
        var main = Baseline.Metrics.Keys.FirstOrDefault(k => k is "accuracy" or "rmse" or "auc") ?? Baseline.Metrics.Keys.FirstOrDefault();
        if (main is not null)
        {
            var series = new List<ChartSeries>
            {
                new($"measured {main}", [.. Windows.Where(w => w.Performance?.Metrics.ContainsKey(main) == true).Select(w => (X(w), w.Performance!.Metrics[main]))], true),
                new("reference", [(0, Baseline.Metrics[main]), (Math.Max(X(Windows[^1]), 1e-9), Baseline.Metrics[main])]),
            };
            if (Windows.Any(w => w.Estimated.ContainsKey(main)))
            {
                series.Add(new ChartSeries($"estimated {main}", [.. Windows.Where(w => w.Estimated.ContainsKey(main)).Select(w => (X(w), w.Estimated[main]))], true));
            }

            html.Append(SvgChart.Lines($"Performance: {main}", "hours since first window", main, series));
        }

        html.Append(SvgChart.Lines("Predictions per window", "hours since first window", "predictions", [new ChartSeries("rows", [.. Windows.Select(w => (X(w), (double)w.Rows))], true)]));
        html.Append("</div>");

        var recent = Windows.TakeLast(12).ToList();
        html.Append("<h2>Drift per feature (last ").Append(recent.Count).Append(" windows; score, red = drifted)</h2>");
        var features = recent.SelectMany(w => w.Drift?.Columns ?? []).Select(c => c.Column).Distinct().ToList();
        HtmlPage.Table(html, ["feature", .. recent.Select(w => w.Start.UtcDateTime.ToString("MM-dd HH:mm", CultureInfo.InvariantCulture))],
            features.Select(f => (IReadOnlyList<string>)[f, .. recent.Select(w => w.Drift?.Columns.FirstOrDefault(c => c.Column == f) is { } d
                ? (d.Drifted ? "!" : "") + SvgChart.Format(d.Score) + $" ({MonitorSpec.MethodName(d.Method)})"
                : "—")]), cell => cell.StartsWith('!') ? (cell[1..], "drift") : (cell, null));

        var last = Windows[^1];
        html.Append("<h2>Reference vs the latest window</h2><div class=\"charts\">");
        foreach (var column in (last.Drift?.Columns ?? []).OrderByDescending(c => c.Drifted).ThenBy(c => c.Column, StringComparer.Ordinal).Take(DrawnFeatures))
        {
            if (Baseline.Profile.Find(column.Column) is { Histogram: { } reference } && Latest?.Find(column.Column) is { Histogram: { } current })
            {
                html.Append(SvgChart.Lines($"{column.Column}{(column.Drifted ? " (drifted)" : "")}", column.Column, "share of rows",
                    [new ChartSeries("reference", Density(reference)), new ChartSeries("latest window", Density(current))]));
            }
            else if (Baseline.Profile.Find(column.Column) is { TopValues.Count: > 0 } r && Latest?.Find(column.Column) is { } c)
            {
                html.Append(SvgChart.Bars($"{column.Column}: share of top values, latest − reference", "difference in share",
                    [.. r.TopValues.Take(8).Select(v => (v.Value, Share(c, v.Value) - ((double)v.Count / Math.Max(1, r.Count))))]));
            }
        }

        html.Append("</div>");
        if (last.Quality.Count > 0)
        {
            html.Append("<h2>Data quality in the latest window</h2>");
            HtmlPage.Table(html, ["column", "check", "finding"], last.Quality.Select(q => (IReadOnlyList<string>)[q.Column, q.Check, q.Message]));
        }

        if (last.Segments.Count > 0)
        {
            html.Append("<h2>Segments in the latest window</h2>");
            HtmlPage.Table(html, ["segment", "rows", "drift share", "drifted"], last.Segments.OrderBy(s => s.Key, StringComparer.Ordinal)
                .Select(s => (IReadOnlyList<string>)[s.Key, s.Value.Rows.ToString("N0", CultureInfo.InvariantCulture), SvgChart.Format(s.Value.DriftShare), s.Value.Drifted ? "yes" : "no"]));
        }

        html.Append("<h2>Alerts</h2>");
        if (Alerts.Count == 0)
        {
            html.Append("<p>None.</p>");
        }
        else
        {
            HtmlPage.Table(html, ["fired", "rule", "message", "status"], Alerts.Select(a => (IReadOnlyList<string>)[
                a.FiredAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture), a.Rule, a.Message, a.Status.ToString().ToLowerInvariant()]));
        }

        return html.Append("</body></html>").ToString();
    }

    private static double Share(ColumnProfile column, string value) =>
        (double)(column.TopValues.FirstOrDefault(v => v.Value == value)?.Count ?? 0) / Math.Max(1, column.Count);

    private static List<(double X, double Y)> Density(Histogram histogram)
    {
        var total = Math.Max(1, histogram.Counts.Sum());
        return [.. histogram.Counts.Select((c, i) => ((histogram.Edges[i] + histogram.Edges[i + 1]) / 2, (double)c / total))];
    }
}
