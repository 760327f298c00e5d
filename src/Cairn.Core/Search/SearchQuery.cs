using System.Globalization;
using Cairn.Core.Identity;

namespace Cairn.Core.Search;

/// <summary>One page of a search: which rows, in what order.</summary>
/// <param name="Filter">The parsed filter; null matches every row.</param>
/// <param name="OrderBy">The ordering keys; each search adds fixed tie-breakers after them so pages are stable.</param>
/// <param name="Limit">The page size.</param>
/// <param name="Offset">How many matching rows precede the page.</param>
public sealed record SearchQuery(Filter? Filter, IReadOnlyList<(FilterKey Key, bool Descending)> OrderBy, int Limit, int Offset)
{
    /// <summary>The most ordering keys one search takes; each becomes a sort expression.</summary>
    public const int MaxOrderBy = 20;

    /// <summary>Whose grants make rows visible; null: every row.</summary>
    public Visibility? VisibleTo { get; init; }

    /// <summary>Parses a filter and orderings in one vocabulary; a parse error names the position.</summary>
    public static SearchQuery Parse(string? filter, IEnumerable<string?> orderBy, FilterVocabulary vocabulary, int limit, int offset)
    {
        var keys = orderBy.Take(MaxOrderBy + 1).ToList();
        if (keys.Count > MaxOrderBy)
        {
            throw CairnException.Invalid(string.Create(CultureInfo.InvariantCulture, $"order_by has more than the limit of {MaxOrderBy} keys."));
        }

        return new(Filter.Parse(filter, vocabulary),
            [.. keys.Select((o, i) => Filter.ParseOrderBy(o ?? throw CairnException.Invalid($"order_by[{i}] is null."), vocabulary))], limit, offset);
    }
}
