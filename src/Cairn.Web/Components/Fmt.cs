using System.Globalization;

namespace Cairn.Web.Components;

/// <summary>How the UI writes times, numbers and sizes: invariant culture, UTC, as the CLI does.</summary>
public static class Fmt
{
    /// <summary>A moment as <c>2026-12-04 18:05:27</c> (UTC).</summary>
    public static string Time(DateTimeOffset? at) =>
        at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) : "";

    /// <summary>The ISO 8601 form, for <c>&lt;time datetime&gt;</c>.</summary>
    public static string Iso(DateTimeOffset at) => at.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);

    /// <summary>A metric value with 4 significant decimals, or an integer as is.</summary>
    public static string Num(double value) =>
        double.IsNaN(value) ? "NaN"
        : Math.Abs(value) >= 1e6 || (value != 0 && Math.Abs(value) < 1e-4) ? value.ToString("0.####e+0", CultureInfo.InvariantCulture)
        : value == Math.Floor(value) ? value.ToString("0", CultureInfo.InvariantCulture)
        : value.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>A share as a percentage.</summary>
    public static string Percent(double share) => (share * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    /// <summary>A size in bytes, KiB, MiB or GiB.</summary>
    public static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / 1048576.0).ToString("0.#", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / 1073741824.0).ToString("0.##", CultureInfo.InvariantCulture) + " GiB",
    };

    /// <summary>A duration as 850 ms, 12.3 s, 4m 05s or 2h 10m.</summary>
    public static string Duration(TimeSpan? span) => span switch
    {
        null => "",
        { TotalSeconds: < 1 } s => s.TotalMilliseconds.ToString("0", CultureInfo.InvariantCulture) + " ms",
        { TotalMinutes: < 1 } s => s.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s",
        { TotalHours: < 1 } s => string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalMinutes}m {s.Seconds:00}s"),
        { TotalDays: < 2 } s => string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalHours}h {s.Minutes:00}m"),
        { } s when s.Ticks % TimeSpan.TicksPerDay == 0 => string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalDays} days"),
        { } s => string.Create(CultureInfo.InvariantCulture, $"{(int)s.TotalDays}d {s.Hours}h"),
    };

    /// <summary>
    /// A run id shortened to a prefix the CLI resolves. Run ids are version-7 GUIDs, whose first 12 characters are the
    /// creation time in milliseconds: 8 would be the same for every run made in the same minute.
    /// </summary>
    public static string Short(string id) => id.Length > 12 ? id[..12] : id;
}
