namespace Cairn.Core.Data;

/// <summary>The spellings of a missing value in text data.</summary>
public static class MissingValues
{
    /// <summary>Whether <paramref name="value"/> means "no value": empty, '?', NA, N/A or null (as in UCI and R files).</summary>
    public static bool IsMissing(string? value) =>
        value is null or "" or "?" or "NA" or "N/A" or "null" or "NULL";
}
