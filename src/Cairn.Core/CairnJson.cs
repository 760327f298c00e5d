using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Pipelines;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Statistics;

namespace Cairn.Core;

/// <summary>Cairn's JSON shapes: snake_case names, enums as lowercase strings; source-generated, so no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    Converters =
    [
        typeof(LowercaseEnumConverter<ColumnType>), typeof(LowercaseEnumConverter<TaskKind>),
        typeof(LowercaseEnumConverter<TensorType>), typeof(LowercaseEnumConverter<RunStatus>), typeof(LowercaseEnumConverter<LifecycleStage>),
        typeof(LowercaseEnumConverter<ModelStage>), typeof(LowercaseEnumConverter<ModelVersionStatus>),
        typeof(LowercaseEnumConverter<DriftMethod>), typeof(LowercaseEnumConverter<ColumnRole>), typeof(LowercaseEnumConverter<DatasetFormat>),
        typeof(LowercaseEnumConverter<AlertDirection>), typeof(LowercaseEnumConverter<AlertStatus>), typeof(LowercaseEnumConverter<PolicyRunState>),
        typeof(LowercaseEnumConverter<LineageKind>), typeof(LowercaseEnumConverter<Jobs.JobKind>), typeof(LowercaseEnumConverter<Jobs.JobStatus>),
        typeof(LowercaseEnumConverter<Identity.Role>), typeof(LowercaseEnumConverter<Identity.ResourceKind>), typeof(LowercaseEnumConverter<Identity.PrincipalKind>),
    ],
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    WriteIndented = true)]
[JsonSerializable(typeof(TableSchema))]
[JsonSerializable(typeof(DatasetProfile))]
[JsonSerializable(typeof(DriftReport))]
[JsonSerializable(typeof(ValidationReport))]
[JsonSerializable(typeof(DatasetDiff))]
[JsonSerializable(typeof(DatasetManifest))]
[JsonSerializable(typeof(PipelineResult))]
[JsonSerializable(typeof(Cairn.Core.Ports.BlobCollection))]
[JsonSerializable(typeof(EvaluationReport))]
[JsonSerializable(typeof(IReadOnlyList<ValidationReport>))]
[JsonSerializable(typeof(ModelSignature))]
[JsonSerializable(typeof(DatasetVersion))]
[JsonSerializable(typeof(IReadOnlyList<DatasetVersion>))]
[JsonSerializable(typeof(IReadOnlyList<DatasetSummary>))]
[JsonSerializable(typeof(Run))]
[JsonSerializable(typeof(PredictionLineage))]
[JsonSerializable(typeof(LineageGraph))]
[JsonSerializable(typeof(IReadOnlyList<Run>))]
[JsonSerializable(typeof(Experiment))]
[JsonSerializable(typeof(IReadOnlyList<Metric>))]
[JsonSerializable(typeof(IReadOnlyList<MetricBucket>))]
[JsonSerializable(typeof(IReadOnlyList<Experiment>))]
[JsonSerializable(typeof(RegisteredModel))]
[JsonSerializable(typeof(IReadOnlyList<RegisteredModel>))]
[JsonSerializable(typeof(ModelVersion))]
[JsonSerializable(typeof(IReadOnlyList<ModelVersion>))]
[JsonSerializable(typeof(IReadOnlyList<AuditEvent>))]
[JsonSerializable(typeof(Identity.Account))]
[JsonSerializable(typeof(IReadOnlyList<Identity.Account>))]
[JsonSerializable(typeof(Identity.ApiToken))]
[JsonSerializable(typeof(IReadOnlyList<Identity.ApiToken>))]
[JsonSerializable(typeof(Identity.IssuedToken))]
[JsonSerializable(typeof(Identity.CreatedAccount))]
[JsonSerializable(typeof(IReadOnlyList<Identity.Grant>))]
[JsonSerializable(typeof(Deployment))]
[JsonSerializable(typeof(DeploymentSpec))]
[JsonSerializable(typeof(IReadOnlyList<Deployment>))]
[JsonSerializable(typeof(MonitorSpec))]
[JsonSerializable(typeof(MonitorBaseline))]
[JsonSerializable(typeof(DeploymentMonitor))]
[JsonSerializable(typeof(IReadOnlyList<DeploymentMonitor>))]
[JsonSerializable(typeof(LiveWindow))]
[JsonSerializable(typeof(WindowResult))]
[JsonSerializable(typeof(IReadOnlyList<WindowResult>))]
[JsonSerializable(typeof(Alert))]
[JsonSerializable(typeof(MonitorReport))]
[JsonSerializable(typeof(IReadOnlyList<Alert>))]
[JsonSerializable(typeof(Jobs.Job))]
[JsonSerializable(typeof(PipelineSchedule))]
[JsonSerializable(typeof(IReadOnlyList<PipelineSchedule>))]
[JsonSerializable(typeof(IReadOnlyList<Jobs.Job>))]
[JsonSerializable(typeof(IReadOnlyList<Jobs.JobLogLine>))]
[JsonSerializable(typeof(PolicyRun))]
[JsonSerializable(typeof(IReadOnlyList<PolicyRun>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(IReadOnlyList<string>))]
public sealed partial class CairnJson : JsonSerializerContext
{
    /// <summary>The same options without indentation, for storage and the wire.</summary>
    public static CairnJson Compact => field ??= new(new JsonSerializerOptions(Default.Options) { WriteIndented = false });

    /// <summary>Indented, with text such as "&gt;50K" left unescaped: for output people and scripts read, never for HTML.</summary>
    public static CairnJson Readable => field ??= new(new JsonSerializerOptions(Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}

/// <summary>Writes a <see cref="ContentHash"/> as its hex string.</summary>
public sealed class ContentHashJsonConverter : JsonConverter<ContentHash>
{
    /// <inheritdoc />
    public override ContentHash Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ContentHash.TryParse(reader.GetString(), out var hash) ? hash : throw new JsonException("Expected a SHA-256 hex string.");

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ContentHash value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value.Hex);
    }
}

/// <summary>Writes an enum as its snake_case name (<c>Numeric</c> as <c>numeric</c>).</summary>
public sealed class LowercaseEnumConverter<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where T : struct, Enum;
