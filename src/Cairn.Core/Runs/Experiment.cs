namespace Cairn.Core.Runs;

/// <summary>A named group of runs, such as all attempts at one model.</summary>
public sealed record Experiment(
    string Id,
    string Name,
    string ArtifactLocation,
    LifecycleStage Lifecycle,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    IReadOnlyDictionary<string, string> Tags)
{
    /// <summary>The experiment runs go to when none is named.</summary>
    public const string DefaultId = "0";
}
