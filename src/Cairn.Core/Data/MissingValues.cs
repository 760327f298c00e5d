namespace Cairn.Core.Data;

/// <summary>The spellings of a missing value in text data.</summary>
public static class MissingValues
{
    /// <summary>Whether <paramref name="value"/> means "no value": empty, '?', NA, N/A or null (as in UCI and R files).</summary>
    public static bool IsMissing(string? value) =>
        value is null or "" or "?" or "NA" or "N/A" or "null" or "NULL";

    /// <summary>The same test on a UTF-8 field.</summary>
    public static bool IsMissing(ReadOnlySpan<byte> value) => value.Length switch
    {
        0 => true,
        1 => value[0] == '?',
        2 => value.SequenceEqual("NA"u8),
        3 => value.SequenceEqual("N/A"u8),
        4 => value.SequenceEqual("null"u8) || value.SequenceEqual("NULL"u8),
        _ => false,
    };
}
