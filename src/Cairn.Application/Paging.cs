using Cairn.Core;
using Cairn.Core.Search;

namespace Cairn.Application;

/// <summary>
/// Page tokens and page fetching for every search. A token is an offset, base64-encoded so callers treat it as
/// opaque; a page asks the store for one row more than it returns, to know whether another page follows.
/// </summary>
internal static class Paging
{
    /// <summary>Parses the search, fetches one page of it and issues the token for the next.</summary>
    public static async Task<(IReadOnlyList<T> Items, string? NextPageToken)> SearchAsync<T>(string? filter, IEnumerable<string>? orderBy,
        FilterVocabulary vocabulary, int maxResults, int maxPageSize, string? pageToken, Func<SearchQuery, Task<IReadOnlyList<T>>> fetch)
    {
        if (maxResults < 1 || maxResults > maxPageSize)
        {
            throw CairnException.Invalid($"max_results must be between 1 and {maxPageSize}, not {maxResults}.");
        }

        var offset = Decode(pageToken);
        var page = await fetch(SearchQuery.Parse(filter, orderBy ?? [], vocabulary, maxResults + 1, offset)).ConfigureAwait(false);
        return page.Count > maxResults ? ([.. page.Take(maxResults)], Encode(offset + maxResults)) : (page, null);
    }

    private static string Encode(int offset) => Convert.ToBase64String(BitConverter.GetBytes(offset));

    private static int Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        var bytes = new byte[8];
        return Convert.TryFromBase64String(token, bytes, out var written) && written == 4 && BitConverter.ToInt32(bytes) is >= 0 and var offset
            ? offset
            : throw CairnException.Invalid($"page_token '{token}' is not a token this server issued.");
    }
}
