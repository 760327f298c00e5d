using System.Globalization;

namespace Cairn.Core;

/// <summary>The one rule for version numbers of models and datasets, as people type them: <c>2</c> or <c>v2</c>, positive.</summary>
public static class VersionNumber
{
    /// <summary>Reads <c>N</c> or <c>vN</c> with N a positive whole number; false for anything else.</summary>
    public static bool TryParse(string? text, out int version)
    {
        version = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var digits = text[0] is 'v' or 'V' ? text.AsSpan(1) : text.AsSpan();
        return int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out version) && version > 0;
    }

    /// <summary>Reads a version number, or fails naming <paramref name="what"/> ("model version").</summary>
    public static int Parse(string? text, string what = "version") =>
        TryParse(text, out var version) ? version
        : throw CairnException.Invalid($"The {what} '{text}' is not a version number such as 2 or v2.");
}
