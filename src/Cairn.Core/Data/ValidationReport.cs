namespace Cairn.Core.Data;

/// <summary>One rule a dataset version broke, with how often and where.</summary>
/// <param name="Column">The column, or null for a table-level rule (row count, missing or extra columns).</param>
/// <param name="Rule">The contract rule: type, nullable, max_missing, min, max, allowed, unique, rows, columns.</param>
/// <param name="Message">What was wrong, in words.</param>
/// <param name="Count">How many values (or rows) broke it.</param>
/// <param name="Examples">The first few offending values with their row numbers.</param>
public sealed record Violation(string? Column, string Rule, string Message, long Count, IReadOnlyList<string> Examples);

/// <summary>The result of validating a dataset version against a contract: every violation at once.</summary>
/// <param name="Dataset">The dataset.</param>
/// <param name="Version">The version validated.</param>
/// <param name="ContractHash">The SHA-256 of the contract's text.</param>
/// <param name="Passed">Whether no rule was broken.</param>
/// <param name="Rows">Rows checked.</param>
/// <param name="Violations">Every rule broken.</param>
/// <param name="CreatedAt">When it was checked.</param>
public sealed record ValidationReport(string Dataset, int Version, ContentHash ContractHash, bool Passed, long Rows, IReadOnlyList<Violation> Violations,
    DateTimeOffset CreatedAt)
{
    /// <summary>Who checked it.</summary>
    public string? CreatedBy { get; init; }
}
