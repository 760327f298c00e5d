using Cairn.Core.Data;

namespace Cairn.Core.Training;

/// <summary>Ranks feature columns by their mutual information with the label, measured on the training rows.</summary>
public static class FeatureSelection
{
    private const int NumericBins = 10;
    private const int MaxLevels = 100;

    /// <summary>
    /// The mutual information (nats) between each column and the label over <paramref name="rows"/>. Numbers are cut into
    /// deciles, categories keep their 100 most frequent levels, a missing value is a level of its own; the label is taken
    /// as given (classes) or cut into deciles (numbers).
    /// </summary>
    public static Dictionary<string, double> MutualInformation(Table data, IEnumerable<string> columns, TableColumn label, IReadOnlyList<int> rows)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        var y = Codes(label, rows);
        return columns.ToDictionary(c => c, c => MutualInformation(Codes(data[c], rows), y));
    }

    private static double MutualInformation(int[] x, int[] y)
    {
        var joint = new Dictionary<(int, int), int>();
        var px = new Dictionary<int, int>();
        var py = new Dictionary<int, int>();
        for (var i = 0; i < x.Length; i++)
        {
            joint[(x[i], y[i])] = joint.GetValueOrDefault((x[i], y[i])) + 1;
            px[x[i]] = px.GetValueOrDefault(x[i]) + 1;
            py[y[i]] = py.GetValueOrDefault(y[i]) + 1;
        }

        double n = x.Length, information = 0;
        foreach (var ((a, b), count) in joint)
        {
            information += count / n * Math.Log(count * n / ((double)px[a] * py[b]));
        }

        return Math.Max(0, information);
    }

    // A small integer per row: its decile for numbers, its level for text; -1 for missing.
    private static int[] Codes(TableColumn column, IReadOnlyList<int> rows)
    {
        var codes = new int[rows.Count];
        switch (column)
        {
            case NumericColumn n:
                var sorted = rows.Select(r => n.Values[r]).Where(v => !float.IsNaN(v)).Order().ToArray();
                var cuts = sorted.Length == 0 ? [] : Enumerable.Range(1, NumericBins - 1).Select(k => sorted[k * (sorted.Length - 1) / NumericBins]).Distinct().ToArray();
                for (var i = 0; i < rows.Count; i++)
                {
                    var v = n.Values[rows[i]];
                    codes[i] = float.IsNaN(v) ? -1 : UpperBound(cuts, v);
                }

                break;
            case StringColumn s:
                var levels = rows.Select(r => s.Values[r]).OfType<string>().GroupBy(v => v, StringComparer.Ordinal)
                    .OrderByDescending(g => g.Count()).Take(MaxLevels).Select((g, k) => (g.Key, k)).ToDictionary(p => p.Key, p => p.k, StringComparer.Ordinal);
                for (var i = 0; i < rows.Count; i++)
                {
                    var v = s.Values[rows[i]];
                    codes[i] = v is null ? -1 : levels.GetValueOrDefault(v, MaxLevels);
                }

                break;
        }

        return codes;
    }

    private static int UpperBound(float[] cuts, float value)
    {
        var (lo, hi) = (0, cuts.Length);
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (cuts[mid] < value)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }
}
