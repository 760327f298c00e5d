using System.Globalization;

namespace Cairn.Core;

/// <summary>Durations as people write them in specs and flags: a positive number and a unit, such as <c>30s</c>, <c>15m</c>, <c>1h</c> or <c>7d</c>.</summary>
public static class Durations
{
    /// <summary>Parses a duration; false when the text is not a positive number followed by s, m, h or d.</summary>
    public static bool TryParse(string? text, out TimeSpan duration)
    {
        duration = default;
        if (text is null || text.Length < 2 || !double.TryParse(text[..^1], NumberStyles.Float, CultureInfo.InvariantCulture, out var amount) || !(amount > 0))
        {
            return false;
        }

        duration = text[^1] switch
        {
            's' => TimeSpan.FromSeconds(amount),
            'm' => TimeSpan.FromMinutes(amount),
            'h' => TimeSpan.FromHours(amount),
            'd' => TimeSpan.FromDays(amount),
            _ => TimeSpan.Zero,
        };
        return duration > TimeSpan.Zero;
    }

    /// <summary>Parses a duration or throws, naming <paramref name="what"/>.</summary>
    public static TimeSpan Parse(string text, string what) =>
        TryParse(text, out var duration)
            ? duration
            : throw CairnException.Invalid($"The {what} '{text}' is not a duration such as 30s, 15m, 1h or 7d.");

    /// <summary>The shortest exact form: <c>1h</c>, <c>90m</c>, <c>7d</c>.</summary>
    public static string Format(TimeSpan duration) =>
        duration.Ticks % TimeSpan.TicksPerDay == 0 ? $"{duration.Ticks / TimeSpan.TicksPerDay}d"
        : duration.Ticks % TimeSpan.TicksPerHour == 0 ? $"{duration.Ticks / TimeSpan.TicksPerHour}h"
        : duration.Ticks % TimeSpan.TicksPerMinute == 0 ? $"{duration.Ticks / TimeSpan.TicksPerMinute}m"
        : string.Create(CultureInfo.InvariantCulture, $"{duration.TotalSeconds}s");
}
