using System.Globalization;

namespace Cairn.Core;

/// <summary>Sizes as people write them in specs and flags: a positive number and a unit, such as <c>512MB</c>, <c>2GB</c> or <c>1GiB</c> (powers of 1024).</summary>
public static class ByteSizes
{
    private static readonly (string Unit, long Bytes)[] Units =
    [
        ("TiB", 1L << 40), ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10),
        ("TB", 1L << 40), ("GB", 1L << 30), ("MB", 1L << 20), ("KB", 1L << 10), ("B", 1),
    ];

    /// <summary>Parses a size; false when the text is not a positive number followed by a unit.</summary>
    public static bool TryParse(string? text, out long size)
    {
        size = 0;
        foreach (var (unit, bytes) in Units)
        {
            if (text is not null && text.EndsWith(unit, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text[..^unit.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) && amount > 0 && amount * bytes < long.MaxValue)
            {
                size = (long)(amount * bytes);
                return true;
            }
        }

        return false;
    }

    /// <summary>The size in the largest unit that keeps it readable: <c>1 GiB</c>, <c>1.5 MiB</c>.</summary>
    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):0.##} GiB"),
        >= 1L << 20 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):0.##} MiB"),
        >= 1L << 10 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.##} KiB"),
        _ => $"{bytes} B",
    };
}
