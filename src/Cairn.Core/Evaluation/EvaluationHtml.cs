using System.Globalization;
using Cairn.Core.Reports;

namespace Cairn.Core.Evaluation;

/// <summary>Writes an evaluation as one self-contained HTML page: metric table, plots as inline SVG, breakdown tables.</summary>
public static class EvaluationHtml
{
    /// <summary>The page for <paramref name="report"/>; <paramref name="facts"/> (run, model, dataset…) head the page.</summary>
    public static string Write(string title, IReadOnlyList<(string Name, string Value)> facts, EvaluationReport report)
    {
        ArgumentNullException.ThrowIfNull(facts);
        ArgumentNullException.ThrowIfNull(report);
        var html = HtmlPage.Open(title, ".facts td{text-align:left}");
        html.Append("<table class=\"facts\">");
        foreach (var (name, value) in facts.Append(("rows evaluated", report.Rows.ToString("N0", CultureInfo.InvariantCulture))))
        {
            html.Append("<tr><th>").Append(SvgChart.Encode(name)).Append("</th><td>").Append(SvgChart.Encode(value)).Append("</td></tr>");
        }

        html.Append("</table><h2>Metrics</h2>");
        if (report.Baseline is { } baseline)
        {
            html.Append("<p>Baseline: a trivial model fitted on the training rows (always the most common class with the class shares as probabilities, or always the mean).</p>");
            HtmlPage.Table(html, ["metric", "model", "baseline"], report.Metrics.Select(m =>
                new[] { m.Key, SvgChart.Format(m.Value), baseline.TryGetValue(m.Key, out var b) ? SvgChart.Format(b) : "—" }));
        }
        else
        {
            HtmlPage.Table(html, ["metric", "value"], report.Metrics.Select(m => new[] { m.Key, SvgChart.Format(m.Value) }));
        }

        html.Append("<div class=\"charts\">");
        if (report.Roc is { } roc)
        {
            html.Append(SvgChart.Lines($"ROC (AUC {SvgChart.Format(report.Metrics["auc"])})", "false positive rate", "true positive rate",
                [new ChartSeries("model", [.. roc.Select(p => (p.X, p.Y))])], (0, 1), (0, 1), diagonal: true));
        }

        if (report.PrecisionRecall is { } pr)
        {
            html.Append(SvgChart.Lines($"Precision–recall (AP {SvgChart.Format(report.Metrics["pr_auc"])})", "recall", "precision",
                [new ChartSeries("model", [.. pr.Select(p => (p.X, p.Y))])], (0, 1), (0, 1)));
        }

        if (report.Calibration is { } calibration)
        {
            html.Append(SvgChart.Lines($"Calibration (ECE {SvgChart.Format(report.Metrics.GetValueOrDefault("ece", double.NaN))})", "mean predicted probability",
                "observed positive share", [new ChartSeries("model", [.. calibration.Select(b => (b.MeanPredicted, b.FractionPositive))], Dots: false)], (0, 1), (0, 1), diagonal: true));
        }

        if (report.Scatter is { } scatter)
        {
            var all = scatter.SelectMany(p => new[] { p.X, p.Y }).ToList();
            var range = all.Count == 0 ? (0.0, 1.0) : (all.Min(), Math.Max(all.Max(), all.Min() + 1e-9));
            html.Append(SvgChart.Lines("Predicted vs actual", "actual", "predicted", [new ChartSeries("rows", [.. scatter.Select(p => (p.X, p.Y))], Dots: true)],
                range, range, diagonal: true));
        }

        if (report.Residuals is { } residuals)
        {
            html.Append(SvgChart.Histogram("Residuals (actual − predicted)", "residual", residuals.Edges, [.. residuals.Counts.Select(c => (double)c)]));
        }

        if (report.Importance is { Count: > 0 } importance)
        {
            html.Append(SvgChart.Bars("Permutation importance", $"drop in {importance[0].Metric} when shuffled",
                [.. importance.Take(25).Select(i => (i.Feature, i.Drop))]));
        }

        html.Append("</div>");

        if (report.Confusion is { } confusion)
        {
            html.Append("<h2>Confusion matrix</h2><p>Rows: actual class. Columns: predicted class.</p><table><tr><th>actual \\ predicted</th>");
            foreach (var label in confusion.Labels)
            {
                html.Append("<th>").Append(SvgChart.Encode(label)).Append("</th>");
            }

            html.Append("</tr>");
            var max = Math.Max(1, confusion.Counts.SelectMany(r => r).DefaultIfEmpty(0).Max());
            for (var a = 0; a < confusion.Labels.Count; a++)
            {
                html.Append("<tr><th>").Append(SvgChart.Encode(confusion.Labels[a])).Append("</th>");
                for (var p = 0; p < confusion.Labels.Count; p++)
                {
                    var count = confusion.Counts[a][p];
                    var alpha = (0.08 + (0.6 * count / max)).ToString("0.00", CultureInfo.InvariantCulture);
                    var hue = a == p ? "37,99,235" : "220,38,38";
                    html.Append(CultureInfo.InvariantCulture, $"<td style=\"background:rgba({hue},{alpha})\">{count:N0}</td>");
                }

                html.Append("</tr>");
            }

            html.Append("</table>");
        }

        if (report.Classes is { } classes)
        {
            html.Append("<h2>Per class</h2>");
            HtmlPage.Table(html, ["class", "precision", "recall", "F1", "rows"],
                classes.Select(c => new[] { c.Label, SvgChart.Format(c.Precision), SvgChart.Format(c.Recall), SvgChart.Format(c.F1), c.Support.ToString("N0", CultureInfo.InvariantCulture) }));
        }

        if (report.Slices is { Count: > 0 } slices)
        {
            html.Append("<h2>Slices</h2>");
            var names = slices.SelectMany(s => s.Metrics.Keys).Distinct().ToList();
            HtmlPage.Table(html, ["column", "value", "rows", .. names],
                slices.Select(s => new[] { s.Column, s.Value, s.Rows.ToString("N0", CultureInfo.InvariantCulture) }
                    .Concat(names.Select(n => s.Metrics.TryGetValue(n, out var v) ? SvgChart.Format(v) : "—")).ToArray()));
        }

        if (report.Importance is { Count: > 0 } table)
        {
            html.Append("<h2>Permutation importance</h2>");
            HtmlPage.Table(html, ["feature", $"drop in {table[0].Metric}", "std"], table.Select(i => new[] { i.Feature, SvgChart.Format(i.Drop), SvgChart.Format(i.Std) }));
        }

        return html.Append("</body></html>").ToString();
    }
}
