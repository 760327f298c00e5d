using System.Globalization;
using System.Net;
using System.Text;

namespace Cairn.Core.Reports;

/// <summary>A named line or point set for a chart.</summary>
public sealed record ChartSeries(string Name, IReadOnlyList<(double X, double Y)> Points, bool Dots = false);

/// <summary>Small self-contained SVG charts for HTML reports: no script, no external file.</summary>
public static class SvgChart
{
    private const int Width = 420;
    private const int Height = 300;
    private const int Left = 52;
    private const int Right = 14;
    private const int Top = 28;
    private const int Bottom = 42;
    private static readonly string[] Colors = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2"];

    /// <summary>Lines (or dots) over shared axes; <paramref name="diagonal"/> draws y = x as a dashed reference.</summary>
    public static string Lines(string title, string xLabel, string yLabel, IReadOnlyList<ChartSeries> series, (double Min, double Max)? xRange = null,
        (double Min, double Max)? yRange = null, bool diagonal = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        var all = series.SelectMany(s => s.Points).Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
        var (x0, x1) = xRange ?? Extent(all.Select(p => p.X));
        var (y0, y1) = yRange ?? Extent(all.Select(p => p.Y));
        var svg = Open(title);
        Axes(svg, xLabel, yLabel, x0, x1, y0, y1);
        if (diagonal)
        {
            var (lo, hi) = (Math.Max(x0, y0), Math.Min(x1, y1));
            svg.Append(CultureInfo.InvariantCulture, $"<line x1=\"{X(lo, x0, x1):F1}\" y1=\"{Y(lo, y0, y1):F1}\" x2=\"{X(hi, x0, x1):F1}\" y2=\"{Y(hi, y0, y1):F1}\" stroke=\"#9ca3af\" stroke-dasharray=\"4 3\"/>");
        }

        for (var s = 0; s < series.Count; s++)
        {
            var color = Colors[s % Colors.Length];
            var points = series[s].Points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).ToList();
            if (series[s].Dots)
            {
                foreach (var (x, y) in points)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"<circle cx=\"{X(x, x0, x1):F1}\" cy=\"{Y(y, y0, y1):F1}\" r=\"2.2\" fill=\"{color}\" fill-opacity=\"0.55\"/>");
                }
            }
            else if (points.Count > 0)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"");
                foreach (var (x, y) in points)
                {
                    svg.Append(CultureInfo.InvariantCulture, $"{X(x, x0, x1):F1},{Y(y, y0, y1):F1} ");
                }

                svg.Append("\"/>");
            }

            if (series.Count > 1)
            {
                svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left + 8}\" y=\"{Top + 14 + (s * 14)}\" font-size=\"11\" fill=\"{color}\">{Encode(series[s].Name)}</text>");
            }
        }

        return Close(svg);
    }

    /// <summary>Vertical bars over bins given by their edges (one more than the counts).</summary>
    public static string Histogram(string title, string xLabel, IReadOnlyList<double> edges, IReadOnlyList<double> counts)
    {
        ArgumentNullException.ThrowIfNull(edges);
        ArgumentNullException.ThrowIfNull(counts);
        var (x0, x1) = (edges[0], edges[^1] > edges[0] ? edges[^1] : edges[0] + 1);
        var y1 = counts.Count == 0 ? 1 : Math.Max(1e-12, counts.Max());
        var svg = Open(title);
        Axes(svg, xLabel, "rows", x0, x1, 0, y1);
        for (var i = 0; i < counts.Count; i++)
        {
            var (left, right) = (X(edges[i], x0, x1), X(edges[i + 1], x0, x1));
            var top = Y(counts[i], 0, y1);
            svg.Append(CultureInfo.InvariantCulture,
                $"<rect x=\"{left + 0.5:F1}\" y=\"{top:F1}\" width=\"{Math.Max(0.5, right - left - 1):F1}\" height=\"{Height - Bottom - top:F1}\" fill=\"{Colors[0]}\" fill-opacity=\"0.75\"/>");
        }

        return Close(svg);
    }

    /// <summary>Horizontal bars, one per label, largest first as given; negative values draw to the left of zero.</summary>
    public static string Bars(string title, string valueLabel, IReadOnlyList<(string Label, double Value)> bars)
    {
        ArgumentNullException.ThrowIfNull(bars);
        const int Row = 18;
        const int LabelWidth = 150;
        var height = Top + Bottom + Math.Max(1, bars.Count) * Row;
        var min = Math.Min(0, bars.Count == 0 ? 0 : bars.Min(b => b.Value));
        var max = Math.Max(1e-12, bars.Count == 0 ? 1 : bars.Max(b => b.Value));
        double Bx(double v) => LabelWidth + ((v - min) / (max - min) * (Width - LabelWidth - Right - 40));
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {height}\" width=\"{Width}\" height=\"{height}\" font-family=\"sans-serif\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"600\">{Encode(title)}</text>");
        for (var i = 0; i < bars.Count; i++)
        {
            var y = Top + (i * Row);
            var (a, b) = (Bx(Math.Min(0, bars[i].Value)), Bx(Math.Max(0, bars[i].Value)));
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{LabelWidth - 6}\" y=\"{y + 12}\" text-anchor=\"end\" font-size=\"11\">{Encode(Truncate(bars[i].Label, 24))}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{a:F1}\" y=\"{y + 3}\" width=\"{Math.Max(0.5, b - a):F1}\" height=\"{Row - 6}\" fill=\"{Colors[0]}\"/>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{b + 4:F1}\" y=\"{y + 12}\" font-size=\"10\" fill=\"#374151\">{Format(bars[i].Value)}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(LabelWidth + Width) / 2}\" y=\"{height - 10}\" text-anchor=\"middle\" font-size=\"11\">{Encode(valueLabel)}</text>");
        return svg.Append("</svg>").ToString();
    }

    /// <summary>A number in four significant figures, the way the reports print them.</summary>
    public static string Format(double value) =>
        double.IsFinite(value) ? value.ToString(Math.Abs(value) is >= 1e5 or (< 1e-3 and > 0) ? "0.###e0" : "0.####", CultureInfo.InvariantCulture) : "—";

    /// <summary>Text made safe for HTML.</summary>
    public static string Encode(string text) => WebUtility.HtmlEncode(text);

    private static StringBuilder Open(string title)
    {
        var svg = new StringBuilder();
        svg.Append(CultureInfo.InvariantCulture, $"<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {Width} {Height}\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\">");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"600\">{Encode(title)}</text>");
        return svg;
    }

    private static string Close(StringBuilder svg) => svg.Append("</svg>").ToString();

    private static void Axes(StringBuilder svg, string xLabel, string yLabel, double x0, double x1, double y0, double y1)
    {
        svg.Append(CultureInfo.InvariantCulture, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#d1d5db\"/>");
        for (var t = 0; t <= 4; t++)
        {
            var (xv, yv) = (x0 + ((x1 - x0) * t / 4), y0 + ((y1 - y0) * t / 4));
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{X(xv, x0, x1):F1}\" y=\"{Height - Bottom + 14}\" text-anchor=\"middle\" font-size=\"10\" fill=\"#4b5563\">{Format(xv)}</text>");
            svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{Left - 4}\" y=\"{Y(yv, y0, y1) + 3:F1}\" text-anchor=\"end\" font-size=\"10\" fill=\"#4b5563\">{Format(yv)}</text>");
        }

        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 8}\" text-anchor=\"middle\" font-size=\"11\">{Encode(xLabel)}</text>");
        svg.Append(CultureInfo.InvariantCulture, $"<text x=\"12\" y=\"{(Top + Height - Bottom) / 2}\" text-anchor=\"middle\" font-size=\"11\" transform=\"rotate(-90 12 {(Top + Height - Bottom) / 2})\">{Encode(yLabel)}</text>");
    }

    private static (double Min, double Max) Extent(IEnumerable<double> values)
    {
        var list = values.ToList();
        if (list.Count == 0)
        {
            return (0, 1);
        }

        var (min, max) = (list.Min(), list.Max());
        return max > min ? (min, max) : (min - 0.5, max + 0.5);
    }

    private static double X(double value, double min, double max) => Left + ((value - min) / (max - min) * (Width - Left - Right));

    private static double Y(double value, double min, double max) => Height - Bottom - ((value - min) / (max - min) * (Height - Top - Bottom));

    private static string Truncate(string text, int length) => text.Length <= length ? text : text[..(length - 1)] + "…";
}
