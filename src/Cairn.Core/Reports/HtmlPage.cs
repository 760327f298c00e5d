using System.Text;

namespace Cairn.Core.Reports;

/// <summary>The frame of Cairn's self-contained HTML reports: one stylesheet, a title, plain tables.</summary>
public static class HtmlPage
{
    /// <summary>Starts a page with the report style (plus <paramref name="style"/>) and its title as the heading.</summary>
    public static StringBuilder Open(string title, string style = "")
    {
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(SvgChart.Encode(title)).Append("</title><style>")
            .Append("body{font-family:system-ui,sans-serif;margin:2rem;color:#111827;max-width:1320px}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}")
            .Append("table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #e5e7eb;padding:.25rem .6rem;text-align:right;font-variant-numeric:tabular-nums}")
            .Append("th{background:#f9fafb}td:first-child,th:first-child{text-align:left}.charts{display:flex;flex-wrap:wrap;gap:1rem}")
            .Append(style).Append("</style></head><body><h1>").Append(SvgChart.Encode(title)).Append("</h1>");
        return html;
    }

    /// <summary>A table; <paramref name="cell"/> may give a cell a CSS class and change its text.</summary>
    public static void Table(StringBuilder html, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows,
        Func<string, (string Text, string? Class)>? cell = null)
    {
        ArgumentNullException.ThrowIfNull(html);
        ArgumentNullException.ThrowIfNull(header);
        ArgumentNullException.ThrowIfNull(rows);
        html.Append("<table><tr>");
        foreach (var h in header)
        {
            html.Append("<th>").Append(SvgChart.Encode(h)).Append("</th>");
        }

        html.Append("</tr>");
        foreach (var row in rows)
        {
            html.Append("<tr>");
            foreach (var value in row)
            {
                var (text, css) = cell?.Invoke(value) ?? (value, null);
                html.Append(css is null ? "<td>" : $"<td class=\"{css}\">").Append(SvgChart.Encode(text)).Append("</td>");
            }

            html.Append("</tr>");
        }

        html.Append("</table>");
    }
}
