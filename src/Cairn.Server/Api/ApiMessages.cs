using System.Text.Json.Serialization;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Runs;

namespace Cairn.Server.Api;

#pragma warning disable CA1812 // Instantiated by the JSON source generator.
/// <summary>A new experiment.</summary>
public sealed record CreateExperimentBody(string? Name, Dictionary<string, string>? Tags);

/// <summary>A user or service account to create, with its global role and whether it gets a first token.</summary>
public sealed record CreateAccountBody(string? Name, bool Service, string? DisplayName, bool Admin, string? Role, bool Token);

/// <summary>A group to create.</summary>
public sealed record CreateGroupBody(string? Name, string? DisplayName);

/// <summary>A user's new password.</summary>
public sealed record PasswordBody(string? Password);

/// <summary>A role for a principal on a resource (<c>none</c> removes the one it holds there).</summary>
public sealed record GrantBody(string? Principal, string? Role, string? On);

/// <summary>A token to make: for whom (default: the caller), its name, scope and lifetime (such as 30d).</summary>
public sealed record CreateTokenBody(string? User, string? Name, string? Scope, string? Expires);

/// <summary>What <c>cairn login --browser</c> trades for a token: the code the browser brought back, its PKCE verifier, and the token's name.</summary>
public sealed record CliTokenBody(string? Code, string? Verifier, string? Name);

/// <summary>The token a browser sign-in gave the command line.</summary>
public sealed record CliTokenAnswer(string User, string Name, string Secret, DateTimeOffset? ExpiresAt);

/// <summary>A new run; <c>experiment_id</c> defaults to "0"; <c>parent_run_id</c> nests it under another run.</summary>
public sealed record CreateRunBody(string? ExperimentId, string? Name, Dictionary<string, string>? Tags, string? ParentRunId);

/// <summary>One metric point; the step defaults to 0 and the timestamp to now (Unix milliseconds).</summary>
public sealed record MetricPoint(string Key, double Value, long? Step, long? Timestamp);

/// <summary>What one log call records, in one transaction; a retried call with the same <c>batch_id</c> is applied once.</summary>
public sealed record LogBody(List<MetricPoint>? Metrics, Dictionary<string, string>? Params, Dictionary<string, string>? Tags, string? BatchId);

/// <summary>A dataset a run read: a Cairn dataset version (name and version), or any dataset by name, digest and source.</summary>
public sealed record InputBody(string? Name, int? Version, string? Context, string? Digest, string? SourceType, string? Source);

/// <summary>Datasets a run read.</summary>
public sealed record InputsBody(List<InputBody>? Datasets);

/// <summary>A change to a run; absent fields stay as they are.</summary>
public sealed record UpdateRunBody(RunStatus? Status, long? EndTime, string? Name);

/// <summary>A run search.</summary>
public sealed record SearchRunsBody(List<string>? ExperimentIds, string? Filter, List<string>? OrderBy, int? MaxResults, string? PageToken, bool? IncludeDeleted);

/// <summary>One page of runs.</summary>
public sealed record RunPage(IReadOnlyList<Run> Runs, string? NextPageToken);

/// <summary>One page of experiments.</summary>
public sealed record ExperimentPage(IReadOnlyList<Experiment> Experiments, string? NextPageToken);

/// <summary>A new registered model.</summary>
public sealed record CreateModelBody(string? Name, string? Description, Dictionary<string, string>? Tags);

/// <summary>A change to a registered model: a new description, a new name, or both; absent fields stay as they are.</summary>
public sealed record UpdateModelBody(string? Name, string? Description);

/// <summary>
/// A new version. With only <c>run_id</c>, the model a Cairn training run produced is registered (creating the model on
/// first use); with a <c>source</c>, a version of an existing model is registered from any location.
/// </summary>
public sealed record CreateVersionBody(string? RunId, string? Source, string? Alias, string? Description, Dictionary<string, string>? Tags, string? RunLink);

/// <summary>A change to a version: a new description, a new stage, or both.</summary>
public sealed record UpdateVersionBody(string? Description, ModelStage? Stage, bool? ArchiveExistingVersions);

/// <summary>A tag's value.</summary>
public sealed record TagBody(string? Value);

/// <summary>The version an alias should point to.</summary>
public sealed record AliasBody(int? Version);

/// <summary>One page of registered models.</summary>
public sealed record ModelPage(IReadOnlyList<RegisteredModel> Models, string? NextPageToken);

/// <summary>One page of model versions.</summary>
public sealed record VersionPage(IReadOnlyList<ModelVersion> Versions, string? NextPageToken);

/// <summary>An approval or rejection of the step a policy run waits for, with why.</summary>
public sealed record DecisionBody(string? Comment);
#pragma warning restore CA1812

/// <summary>The native API's bodies, in Cairn's JSON conventions (snake_case, enums as lowercase names).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    Converters =
    [
        typeof(Core.LowercaseEnumConverter<ColumnType>), typeof(Core.LowercaseEnumConverter<TaskKind>), typeof(Core.LowercaseEnumConverter<TensorType>),
        typeof(Core.LowercaseEnumConverter<RunStatus>), typeof(Core.LowercaseEnumConverter<LifecycleStage>), typeof(Core.LowercaseEnumConverter<ModelStage>),
        typeof(Core.LowercaseEnumConverter<ModelVersionStatus>),
    ])]
[JsonSerializable(typeof(CreateExperimentBody))]
[JsonSerializable(typeof(CliTokenBody))]
[JsonSerializable(typeof(CreateTokenBody))]
[JsonSerializable(typeof(CreateAccountBody))]
[JsonSerializable(typeof(CreateGroupBody))]
[JsonSerializable(typeof(PasswordBody))]
[JsonSerializable(typeof(GrantBody))]
[JsonSerializable(typeof(CliTokenAnswer))]
[JsonSerializable(typeof(CreateRunBody))]
[JsonSerializable(typeof(LogBody))]
[JsonSerializable(typeof(UpdateRunBody))]
[JsonSerializable(typeof(InputsBody))]
[JsonSerializable(typeof(SearchRunsBody))]
[JsonSerializable(typeof(RunPage))]
[JsonSerializable(typeof(ExperimentPage))]
[JsonSerializable(typeof(CreateModelBody))]
[JsonSerializable(typeof(UpdateModelBody))]
[JsonSerializable(typeof(CreateVersionBody))]
[JsonSerializable(typeof(UpdateVersionBody))]
[JsonSerializable(typeof(TagBody))]
[JsonSerializable(typeof(AliasBody))]
[JsonSerializable(typeof(ModelPage))]
[JsonSerializable(typeof(VersionPage))]
[JsonSerializable(typeof(DecisionBody))]
public sealed partial class ApiJson : JsonSerializerContext;
