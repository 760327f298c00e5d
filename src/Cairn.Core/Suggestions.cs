namespace Cairn.Core;

/// <summary>"Did you mean": the known words nearest a mistyped one, for commands, keys and names alike.</summary>
public static class Suggestions
{
    /// <summary>The candidates within a small edit distance of <paramref name="word"/> (a third of its length, at least 1), nearest first.</summary>
    public static IReadOnlyList<string> Near(string word, IEnumerable<string> candidates)
    {
        ArgumentNullException.ThrowIfNull(word);
        ArgumentNullException.ThrowIfNull(candidates);
        var limit = Math.Max(1, word.Length / 3);
        return [.. candidates.Distinct(StringComparer.Ordinal)
            .Select(c => (Candidate: c, Distance: Distance(word.ToLowerInvariant(), c.ToLowerInvariant())))
            .Where(c => c.Distance <= limit || (word.Length >= 3 && c.Candidate.StartsWith(word, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(c => c.Distance).ThenBy(c => c.Candidate, StringComparer.Ordinal)
            .Select(c => c.Candidate)];
    }

    /// <summary>The one nearest candidate, or null when none is near.</summary>
    public static string? Nearest(string word, IEnumerable<string> candidates) => Near(word, candidates) is [var first, ..] ? first : null;

    // Optimal string alignment distance: Levenshtein plus the swap of two neighbours, the commonest typo ("trian").
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                {
                    d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
                }
            }
        }

        return d[a.Length, b.Length];
    }
}
