namespace Cairn.Core.Models;

/// <summary>A registered model: a name under which versions of one model are kept.</summary>
/// <param name="Name">The unique name.</param>
/// <param name="Description">Free text about the model.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="UpdatedAt">When it or one of its versions last changed.</param>
/// <param name="LatestVersion">The highest version number it has (0 when it has none).</param>
/// <param name="Aliases">Each alias with the version it points to.</param>
public sealed record RegisteredModel(string Name, string? Description, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, int LatestVersion,
    IReadOnlyDictionary<string, int> Aliases)
{
    /// <summary>Who created it.</summary>
    public string? User { get; init; }

    /// <summary>Its tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The newest version in each stage, as MLflow's <c>latest_versions</c> lists them.</summary>
    public IReadOnlyList<ModelVersion> LatestVersions { get; init; } = [];
}

/// <summary>Where a model version's registration stands, as MLflow names it.</summary>
public enum ModelVersionStatus
{
    /// <summary>Registered and usable.</summary>
    Ready,

    /// <summary>Still being registered.</summary>
    PendingRegistration,

    /// <summary>Registration failed; the status message says why.</summary>
    FailedRegistration,
}

/// <summary>MLflow's (deprecated) deployment stages; aliases are the preferred way to name versions.</summary>
public enum ModelStage
{
    /// <summary>No stage.</summary>
    None,

    /// <summary>Being evaluated.</summary>
    Staging,

    /// <summary>In production.</summary>
    Production,

    /// <summary>Retired.</summary>
    Archived,
}

/// <summary>The names MLflow gives stages and statuses, which the stores keep so filters match MLflow's.</summary>
public static class RegistryNames
{
    /// <summary>A stage's name: None, Staging, Production or Archived.</summary>
    public static string Of(ModelStage stage) => stage.ToString();

    /// <summary>A status's name: READY, PENDING_REGISTRATION or FAILED_REGISTRATION.</summary>
    public static string Of(ModelVersionStatus status) => status switch
    {
        ModelVersionStatus.PendingRegistration => "PENDING_REGISTRATION",
        ModelVersionStatus.FailedRegistration => "FAILED_REGISTRATION",
        _ => "READY",
    };

    /// <summary>Parses a stage name, ignoring case as MLflow does.</summary>
    public static ModelStage ParseStage(string? text) =>
        Enum.TryParse<ModelStage>(text, ignoreCase: true, out var stage) && Enum.IsDefined(stage) && !int.TryParse(text, out _)
            ? stage
            : throw CairnException.Invalid($"'{text}' is not a stage; use None, Staging, Production or Archived.");

    /// <summary>Parses a status name.</summary>
    public static ModelVersionStatus ParseStatus(string text) => text switch
    {
        "PENDING_REGISTRATION" => ModelVersionStatus.PendingRegistration,
        "FAILED_REGISTRATION" => ModelVersionStatus.FailedRegistration,
        _ => ModelVersionStatus.Ready,
    };
}

/// <summary>What Cairn serves for a model version: an ONNX graph, the ML.NET model it came from, and their contract.</summary>
/// <param name="OnnxArtifact">The ONNX graph the serving engine loads.</param>
/// <param name="MlNetArtifact">The ML.NET model zip, for retraining and the fallback engine; null for an imported ONNX model.</param>
/// <param name="Signature">Inputs and outputs.</param>
public sealed record ModelPackage(ContentHash OnnxArtifact, ContentHash? MlNetArtifact, ModelSignature Signature);

/// <summary>One version of a registered model.</summary>
/// <param name="Model">The registered model's name.</param>
/// <param name="Version">The version number, from 1; a deleted version's number is never reused.</param>
/// <param name="Source">Where its artifacts are, such as <c>runs:/RUN_ID/model</c>.</param>
/// <param name="RunId">The run that produced it, when known.</param>
/// <param name="Package">What Cairn serves; null for a version registered from files Cairn cannot serve.</param>
/// <param name="CreatedAt">When it was registered.</param>
/// <param name="Aliases">The aliases pointing at it.</param>
public sealed record ModelVersion(
    string Model,
    int Version,
    string Source,
    string? RunId,
    ModelPackage? Package,
    DateTimeOffset CreatedAt,
    IReadOnlyList<string> Aliases)
{
    /// <summary>When it last changed.</summary>
    public DateTimeOffset UpdatedAt { get; init; }

    /// <summary>Free text about this version.</summary>
    public string? Description { get; init; }

    /// <summary>Who registered it.</summary>
    public string? User { get; init; }

    /// <summary>Its registration status.</summary>
    public ModelVersionStatus Status { get; init; }

    /// <summary>Why the status is what it is, when it is not ready.</summary>
    public string? StatusMessage { get; init; }

    /// <summary>Its MLflow stage.</summary>
    public ModelStage Stage { get; init; }

    /// <summary>A link to the run that produced it, possibly on another server.</summary>
    public string? RunLink { get; init; }

    /// <summary>Its tags.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>The reference people type: <c>model@version</c>.</summary>
    public string Reference => $"{Model}@{Version}";

    /// <summary>The package to serve, or an error saying this version has none.</summary>
    public ModelPackage RequirePackage() => Package ?? throw CairnException.Invalid(
        $"{Reference} was registered from '{Source}', which holds no model Cairn can serve; register a Cairn training run's model to serve it.");
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

        return VersionNumber.TryParse(selector, out var version)
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
