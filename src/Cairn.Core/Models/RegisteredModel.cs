namespace Cairn.Core.Models;

/// <summary>A registered model name.</summary>
public sealed record RegisteredModel(string Name, string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int LatestVersion, IReadOnlyDictionary<string, int> Aliases);

/// <summary>One version of a registered model: a run's trained artifacts and their contract.</summary>
/// <param name="Model">The registered model's name.</param>
/// <param name="Version">The version number, from 1.</param>
/// <param name="RunId">The run that produced it.</param>
/// <param name="OnnxArtifact">The ONNX graph the serving engine loads.</param>
/// <param name="MlNetArtifact">The ML.NET model zip, for retraining and the fallback engine.</param>
/// <param name="Signature">Inputs and outputs.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="Aliases">The aliases pointing at it.</param>
public sealed record ModelVersion(
    string Model,
    int Version,
    string RunId,
    ContentHash OnnxArtifact,
    ContentHash MlNetArtifact,
    ModelSignature Signature,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string> Aliases)
{
    /// <summary>The reference people type: <c>model@version</c>.</summary>
    public string Reference => $"{Model}@{Version}";
}

/// <summary>A reference to a model version: <c>name</c> (the latest), <c>name@alias</c> or <c>name@N</c>.</summary>
public sealed record ModelRef(string Name, string? Alias, int? Version)
{
    /// <summary>Parses <c>name</c>, <c>name@latest</c>, <c>name@alias</c> or <c>name@N</c> (also <c>name@vN</c>).</summary>
    public static ModelRef Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = text.LastIndexOf('@');
        if (at < 0)
        {
            return new ModelRef(Names.Validate(text, "model"), null, null);
        }

        var name = Names.Validate(text[..at], "model");
        var selector = text[(at + 1)..];
        if (selector == "latest")
        {
            return new ModelRef(name, null, null);
        }

        var digits = selector.StartsWith('v') ? selector[1..] : selector;
        return int.TryParse(digits, out var version) && version > 0
            ? new ModelRef(name, null, version)
            : new ModelRef(name, Aliases.Validate(selector), null);
    }

    /// <inheritdoc />
    public override string ToString() => Alias is not null ? $"{Name}@{Alias}" : Version is { } v ? $"{Name}@{v}" : Name;
}

/// <summary>The rule for alias names.</summary>
public static class Aliases
{
    /// <summary>Validates an alias: a name that is not a version number and not the reserved <c>latest</c>.</summary>
    public static string Validate(string alias)
    {
        Names.Validate(alias, "alias");
        if (alias == "latest" || (alias.Length > 1 && alias[0] == 'v' && alias[1..].All(char.IsAsciiDigit)) || alias.All(char.IsAsciiDigit))
        {
            throw CairnException.Invalid($"'{alias}' cannot be an alias: 'latest' and version numbers such as 'v3' are reserved.");
        }

        return alias;
    }
}
