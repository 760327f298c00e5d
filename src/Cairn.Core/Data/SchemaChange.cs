using Cairn.Core.Statistics;

namespace Cairn.Core.Data;

/// <summary>How one column's schema differs between two versions.</summary>
/// <param name="Column">The column.</param>
/// <param name="Change">added, removed, type or nullability.</param>
/// <param name="Before">What it was (null when added).</param>
/// <param name="After">What it is (null when removed).</param>
public sealed record SchemaChange(string Column, string Change, string? Before, string? After)
{
    /// <summary>Every column added, removed, retyped or whose nullability changed, from <paramref name="before"/> to <paramref name="after"/>.</summary>
    public static IReadOnlyList<SchemaChange> Compare(TableSchema before, TableSchema after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var changes = new List<SchemaChange>();
        foreach (var old in before.Columns)
        {
            if (after.Find(old.Name) is not { } now)
            {
                changes.Add(new SchemaChange(old.Name, "removed", Name(old.Type), null));
                continue;
            }

            if (now.Type != old.Type)
            {
                changes.Add(new SchemaChange(old.Name, "type", Name(old.Type), Name(now.Type)));
            }

            if (now.Nullable != old.Nullable)
            {
                changes.Add(new SchemaChange(old.Name, "nullability", old.Nullable ? "nullable" : "required", now.Nullable ? "nullable" : "required"));
            }
        }

        changes.AddRange(after.Columns.Where(c => before.Find(c.Name) is null).Select(c => new SchemaChange(c.Name, "added", null, Name(c.Type))));
        return changes;
    }

    private static string Name(ColumnType type) => type.ToString().ToLowerInvariant();
}

/// <summary>What changed between two dataset versions.</summary>
/// <param name="From">The first version's reference (the reference data for drift).</param>
/// <param name="To">The second's (the current data).</param>
/// <param name="FromRows">Rows in the first.</param>
/// <param name="ToRows">Rows in the second.</param>
/// <param name="Schema">Column changes.</param>
/// <param name="Drift">Per-column drift and the table's verdict.</param>
public sealed record DatasetDiff(string From, string To, long FromRows, long ToRows, IReadOnlyList<SchemaChange> Schema, DriftReport Drift);
