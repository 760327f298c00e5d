namespace Cairn.Adapters.Sql;

/// <summary>
/// The summary of one metric's points in one block of 1024 steps, as a write contributes it: merged into the stored
/// rollup (extremes widened, the latest point kept, counts added) so charts of long series read blocks, not points.
/// </summary>
/// <param name="Key">The metric.</param>
/// <param name="Block">The block number: the step shifted right by <see cref="Shift"/>.</param>
/// <param name="FirstStep">The lowest step in the write.</param>
/// <param name="LastStep">The step of the latest point (highest step, then newest).</param>
/// <param name="Low">The smallest value, NaN left out; null when every value was NaN.</param>
/// <param name="High">The largest value, likewise.</param>
/// <param name="LastValue">The latest point's value; null for NaN.</param>
/// <param name="LastTimestamp">The latest point's time, in Unix milliseconds.</param>
/// <param name="Points">How many points the write adds.</param>
public sealed record MetricRollup(string Key, long Block, long FirstStep, long LastStep, double? Low, double? High, double? LastValue, long LastTimestamp, long Points)
{
    /// <summary>log2 of the steps per block.</summary>
    public const int Shift = 10;
}
