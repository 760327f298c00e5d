namespace Cairn.Cli;

/// <summary>Where Cairn keeps its state: <c>--home</c>, else <c>CAIRN_HOME</c>, else <c>.cairn/</c> in the working directory.</summary>
internal sealed record CairnHome(string Path)
{
    public const string EnvironmentVariable = "CAIRN_HOME";

    public string MetadataDatabase => System.IO.Path.Combine(Path, "metadata.db");

    public string Artifacts => System.IO.Path.Combine(Path, "artifacts");

    public static CairnHome Resolve(string? option, Func<string, string?> environment, string workingDirectory)
    {
        var chosen = !string.IsNullOrWhiteSpace(option) ? option
            : environment(EnvironmentVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : System.IO.Path.Combine(workingDirectory, ".cairn");
        return new CairnHome(System.IO.Path.GetFullPath(chosen, workingDirectory));
    }
}
