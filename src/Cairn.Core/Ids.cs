namespace Cairn.Core;

/// <summary>Creates identifiers: time-ordered, so the newest sort last.</summary>
public static class Ids
{
    /// <summary>A new run id: 32 lowercase hex characters, as MLflow clients expect.</summary>
    public static string NewRunId() => Guid.CreateVersion7().ToString("N");

    /// <summary>Checks a run id's form before it reaches a query or a path.</summary>
    public static bool IsRunId(string text) => text.Length == 32 && text.All(char.IsAsciiHexDigitLower);
}
