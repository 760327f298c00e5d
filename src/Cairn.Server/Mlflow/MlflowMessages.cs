using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Server.Mlflow;

// The MLflow REST API's request and response shapes (mlflow/protos/service.proto), as its clients send and expect them.
#pragma warning disable CA1812 // Instantiated by the JSON source generator.
internal sealed record KeyValue(string? Key, string? Value);

internal sealed record MetricMessage(string? Key, double? Value, long? Timestamp, long? Step);

internal sealed record CreateExperimentRequest(string? Name, string? ArtifactLocation, List<KeyValue?>? Tags);

internal sealed record ExperimentIdRequest(string? ExperimentId);

internal sealed record UpdateExperimentRequest(string? ExperimentId, string? NewName);

internal sealed record ExperimentTagRequest(string? ExperimentId, string? Key, string? Value);

internal sealed record SearchExperimentsRequest(long? MaxResults, string? PageToken, string? Filter, List<string>? OrderBy, string? ViewType);

internal sealed record CreateRunRequest(string? ExperimentId, string? UserId, string? RunName, long? StartTime, List<KeyValue?>? Tags);

internal sealed record RunIdRequest(string? RunId, string? RunUuid)
{
    public string? Id => RunId ?? RunUuid;
}

internal sealed record UpdateRunRequest(string? RunId, string? RunUuid, string? Status, long? EndTime, string? RunName);

internal sealed record LogMetricRequest(string? RunId, string? RunUuid, string? Key, double? Value, long? Timestamp, long? Step);

internal sealed record RunKeyValueRequest(string? RunId, string? RunUuid, string? Key, string? Value);

internal sealed record SearchRunsRequest(List<string>? ExperimentIds, string? Filter, string? RunViewType, long? MaxResults, List<string>? OrderBy,
    string? PageToken);

internal sealed record SearchRunsResponse(List<RunMessage> Runs, string? NextPageToken);

internal sealed record LogBatchRequest(string? RunId, List<MetricMessage?>? Metrics, List<KeyValue?>? Params, List<KeyValue?>? Tags);

internal sealed record ExperimentMessage(string ExperimentId, string Name, string ArtifactLocation, string LifecycleStage, long LastUpdateTime,
    long CreationTime, List<KeyValue> Tags);

internal sealed record ExperimentResponse(ExperimentMessage Experiment);

internal sealed record CreateExperimentResponse(string ExperimentId);

internal sealed record SearchExperimentsResponse(List<ExperimentMessage> Experiments, string? NextPageToken);

internal sealed record RunInfoMessage(string RunId, string RunUuid, string RunName, string ExperimentId, string? UserId, string Status, long StartTime,
    long? EndTime, string ArtifactUri, string LifecycleStage);

internal sealed record RunDataMessage(List<MetricMessage> Metrics, List<KeyValue> Params, List<KeyValue> Tags);

internal sealed record DatasetMessage(string? Name, string? Digest, string? SourceType, string? Source, string? Schema, string? Profile);

internal sealed record DatasetInputMessage(List<KeyValue?>? Tags, DatasetMessage? Dataset);

internal sealed record RunInputsMessage(List<DatasetInputMessage> DatasetInputs);

internal sealed record LogInputsRequest(string? RunId, List<DatasetInputMessage?>? Datasets);

internal sealed record RunMessage(RunInfoMessage Info, RunDataMessage Data, RunInputsMessage Inputs);

internal sealed record RunResponse(RunMessage Run);

internal sealed record UpdateRunResponse(RunInfoMessage RunInfo);

internal sealed record MetricHistoryResponse(List<MetricMessage> Metrics);

internal sealed record RegisteredModelAliasMessage(string Alias, string Version);

internal sealed record ModelVersionMessage(string Name, string Version, long CreationTimestamp, long LastUpdatedTimestamp, string? UserId, string CurrentStage,
    string? Description, string Source, string? RunId, string Status, string? StatusMessage, List<KeyValue> Tags, string? RunLink, List<string> Aliases);

internal sealed record RegisteredModelMessage(string Name, long CreationTimestamp, long LastUpdatedTimestamp, string? UserId, string? Description,
    List<ModelVersionMessage> LatestVersions, List<KeyValue> Tags, List<RegisteredModelAliasMessage> Aliases);

internal sealed record CreateRegisteredModelRequest(string? Name, List<KeyValue?>? Tags, string? Description);

internal sealed record RenameRegisteredModelRequest(string? Name, string? NewName);

internal sealed record UpdateRegisteredModelRequest(string? Name, string? Description);

internal sealed record GetLatestVersionsRequest(string? Name, List<string>? Stages);

internal sealed record CreateModelVersionRequest(string? Name, string? Source, string? RunId, List<KeyValue?>? Tags, string? RunLink, string? Description);

// MLflow sends version numbers as strings; some clients send numbers.
internal sealed record ModelVersionRequest(
    string? Name,
    [property: JsonConverter(typeof(StringOrNumberConverter))] string? Version,
    string? Description,
    string? Stage,
    bool? ArchiveExistingVersions,
    string? Key,
    string? Value,
    string? Alias);

internal sealed record RegisteredModelResponse(RegisteredModelMessage RegisteredModel);

internal sealed record SearchRegisteredModelsResponse(List<RegisteredModelMessage> RegisteredModels, string? NextPageToken);

internal sealed record ModelVersionResponse(ModelVersionMessage ModelVersion);

internal sealed record ModelVersionsResponse(List<ModelVersionMessage> ModelVersions, string? NextPageToken);

internal sealed record DownloadUriResponse(string ArtifactUri);

internal sealed record FileInfoMessage(string Path, bool IsDir, long? FileSize);

internal sealed record ListArtifactsResponse(string RootUri, List<FileInfoMessage> Files);

internal sealed record ProxyListResponse(List<FileInfoMessage> Files);

internal sealed record EmptyResponse;

internal sealed record ErrorResponse(string ErrorCode, string Message);

internal sealed record UserRequest(string? Username, string? Password, bool? IsAdmin);

internal sealed record UserMessage(long Id, string Username, bool IsAdmin, List<ExperimentPermissionMessage> ExperimentPermissions,
    List<RegisteredModelPermissionMessage> RegisteredModelPermissions);

internal sealed record UserResponse(UserMessage User);

internal sealed record PermissionRequest(string? ExperimentId, string? Name, string? Username, string? Permission);

internal sealed record ExperimentPermissionMessage(string ExperimentId, long UserId, string Permission);

internal sealed record ExperimentPermissionResponse(ExperimentPermissionMessage ExperimentPermission);

internal sealed record RegisteredModelPermissionMessage(string Name, long UserId, string Permission);

internal sealed record RegisteredModelPermissionResponse(RegisteredModelPermissionMessage RegisteredModelPermission);
#pragma warning restore CA1812

/// <summary>MLflow's JSON conventions: snake_case, int64 as numbers (strings accepted), NaN and infinities by name, unknown fields ignored.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowReadingFromString | JsonNumberHandling.AllowNamedFloatingPointLiterals)]
[JsonSerializable(typeof(CreateExperimentRequest))]
[JsonSerializable(typeof(UserRequest))]
[JsonSerializable(typeof(UserResponse))]
[JsonSerializable(typeof(PermissionRequest))]
[JsonSerializable(typeof(ExperimentPermissionResponse))]
[JsonSerializable(typeof(RegisteredModelPermissionResponse))]
[JsonSerializable(typeof(ExperimentIdRequest))]
[JsonSerializable(typeof(UpdateExperimentRequest))]
[JsonSerializable(typeof(ExperimentTagRequest))]
[JsonSerializable(typeof(SearchExperimentsRequest))]
[JsonSerializable(typeof(CreateRunRequest))]
[JsonSerializable(typeof(RunIdRequest))]
[JsonSerializable(typeof(UpdateRunRequest))]
[JsonSerializable(typeof(LogMetricRequest))]
[JsonSerializable(typeof(RunKeyValueRequest))]
[JsonSerializable(typeof(LogBatchRequest))]
[JsonSerializable(typeof(LogInputsRequest))]
[JsonSerializable(typeof(SearchRunsRequest))]
[JsonSerializable(typeof(SearchRunsResponse))]
[JsonSerializable(typeof(ExperimentResponse))]
[JsonSerializable(typeof(CreateExperimentResponse))]
[JsonSerializable(typeof(SearchExperimentsResponse))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(UpdateRunResponse))]
[JsonSerializable(typeof(MetricHistoryResponse))]
[JsonSerializable(typeof(CreateRegisteredModelRequest))]
[JsonSerializable(typeof(RenameRegisteredModelRequest))]
[JsonSerializable(typeof(UpdateRegisteredModelRequest))]
[JsonSerializable(typeof(GetLatestVersionsRequest))]
[JsonSerializable(typeof(CreateModelVersionRequest))]
[JsonSerializable(typeof(ModelVersionRequest))]
[JsonSerializable(typeof(RegisteredModelResponse))]
[JsonSerializable(typeof(SearchRegisteredModelsResponse))]
[JsonSerializable(typeof(ModelVersionResponse))]
[JsonSerializable(typeof(ModelVersionsResponse))]
[JsonSerializable(typeof(DownloadUriResponse))]
[JsonSerializable(typeof(ListArtifactsResponse))]
[JsonSerializable(typeof(ProxyListResponse))]
[JsonSerializable(typeof(EmptyResponse))]
[JsonSerializable(typeof(ErrorResponse))]
internal sealed partial class MlflowJson : JsonSerializerContext;

/// <summary>Reads a JSON string or number as a string, for fields MLflow defines as strings but clients send either way.</summary>
internal sealed class StringOrNumberConverter : JsonConverter<string>
{
    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
        JsonTokenType.Null => null,
        _ => throw new JsonException("Expected a string or a number."),
    };

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
