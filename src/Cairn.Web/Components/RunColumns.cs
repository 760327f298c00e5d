using Cairn.Core.Runs;

namespace Cairn.Web.Components;

/// <summary>A run's value under a column key as the filter language names it: <c>metrics.auc</c>, <c>params.trainer</c>, <c>tags.team</c>.</summary>
internal static class RunColumns
{
    /// <summary>The metric's latest value, or the param's or tag's text; null when the run has none.</summary>
    public static object? Raw(Run run, string key) => key switch
    {
        _ when key.StartsWith("metrics.", StringComparison.Ordinal) => run.Metrics.FirstOrDefault(m => m.Key == key[8..])?.Value,
        _ when key.StartsWith("params.", StringComparison.Ordinal) => run.Params.GetValueOrDefault(key[7..]),
        _ when key.StartsWith("tags.", StringComparison.Ordinal) => run.Tags.GetValueOrDefault(key[5..]),
        _ => null,
    };

    /// <summary>The value as a table cell shows it.</summary>
    public static string Text(Run run, string key) => Raw(run, key) switch
    {
        double number => Fmt.Num(number),
        string text => text,
        _ => "",
    };
}
