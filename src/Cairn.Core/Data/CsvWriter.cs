using System.Buffers;

namespace Cairn.Core.Data;

/// <summary>Writes RFC 4180 CSV, the form <see cref="CsvReader"/> reads: fields quoted only when they must be.</summary>
public static class CsvWriter
{
    private static readonly SearchValues<char> NeedQuotes = SearchValues.Create(",\"\r\n");

    /// <summary>One record, with its line break.</summary>
    public static string Record(IEnumerable<string> fields)
    {
        ArgumentNullException.ThrowIfNull(fields);
        return string.Join(',', fields.Select(Field)) + "\n";
    }

    /// <summary>One field, quoted (with doubled quotes) when it holds a comma, a quote or a line break.</summary>
    public static string Field(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return value.AsSpan().ContainsAny(NeedQuotes) ? $"\"{value.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : value;
    }
}
