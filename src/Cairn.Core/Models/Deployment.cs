using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cairn.Core.Models;

/// <summary>A named serving endpoint: which model versions answer, how traffic is split, and how requests are batched and bounded.</summary>
/// <param name="Name">The deployment's name; also the model name in its URLs.</param>
/// <param name="Spec">What it serves and how.</param>
/// <param name="Revision">Starts at 1 and grows with every update, so servers notice a change cheaply.</param>
/// <param name="CreatedAt">When it was created.</param>
/// <param name="CreatedBy">Who created it.</param>
/// <param name="UpdatedAt">When it last changed.</param>
/// <param name="UpdatedBy">Who last changed it.</param>
public sealed record Deployment(string Name, DeploymentSpec Spec, int Revision, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset UpdatedAt, string UpdatedBy);

/// <summary>What a deployment serves and how.</summary>
public sealed record DeploymentSpec
{
    /// <summary>The model that answers, such as <c>adult-income@champion</c> (followed as the alias moves) or <c>adult-income@3</c>.</summary>
    [JsonConverter(typeof(ModelRefJsonConverter))]
    public required ModelRef Model { get; init; }

    /// <summary>A second model that answers <see cref="CanaryPercent"/> of requests.</summary>
    [JsonConverter(typeof(ModelRefJsonConverter))]
    public ModelRef? Canary { get; init; }

    /// <summary>The share of requests, 1–99, the canary answers.</summary>
    public int CanaryPercent { get; init; }

    /// <summary>A model that sees a copy of every request; its answers are logged, never returned.</summary>
    [JsonConverter(typeof(ModelRefJsonConverter))]
    public ModelRef? Shadow { get; init; }

    /// <summary>How requests are grouped into model calls.</summary>
    public BatchingOptions Batching { get; init; } = new();

    /// <summary>How much work is admitted before requests are turned away.</summary>
    public ServingLimits Limits { get; init; } = new();

    /// <summary>The spec with the canary made the model, answering every request.</summary>
    public DeploymentSpec PromoteCanary() => this with
    {
        Model = Canary ?? throw CairnException.Invalid("The deployment has no canary to promote."),
        Canary = null,
        CanaryPercent = 0,
    };

    /// <summary>Throws, naming every problem at once, unless the spec is coherent.</summary>
    public DeploymentSpec Validate()
    {
        var problems = new List<string>();
        if (Canary is null && CanaryPercent != 0)
        {
            problems.Add("a canary percentage needs a canary model (--canary)");
        }

        if (Canary is not null && CanaryPercent is < 1 or > 99)
        {
            problems.Add($"the canary percentage must be between 1 and 99, not {CanaryPercent}");
        }

        if (Canary == Model)
        {
            problems.Add($"the canary {Canary} is the deployment's model itself");
        }

        if (Batching.MaxBatchRows is < 1 or > 100_000)
        {
            problems.Add($"the largest batch must be 1-100000 rows, not {Batching.MaxBatchRows}");
        }

        if (Batching.MaxDelay < TimeSpan.Zero || Batching.MaxDelay > TimeSpan.FromSeconds(1))
        {
            problems.Add($"the batching delay must be 0-1000 ms, not {Batching.MaxDelay.TotalMilliseconds} ms");
        }

        if (Limits.MaxQueuedRequests is < 1 or > 1_000_000)
        {
            problems.Add($"the request queue must hold 1-1000000 requests, not {Limits.MaxQueuedRequests}");
        }

        if (Limits.MaxQueuedBytes is < 1024 or > 16L << 30)
        {
            problems.Add($"the admitted request bytes must be 1 KiB-16 GiB, not {Limits.MaxQueuedBytes}");
        }

        if (Limits.Timeout <= TimeSpan.Zero || Limits.Timeout > TimeSpan.FromMinutes(10))
        {
            problems.Add($"the request timeout must be above 0 and at most 10 minutes, not {Limits.Timeout}");
        }

        return problems.Count == 0 ? this : throw CairnException.Invalid($"The deployment is not valid: {string.Join("; ", problems)}.");
    }

    /// <summary>Every model reference the deployment serves: its model, then its canary and shadow when set.</summary>
    public IEnumerable<ModelRef> References()
    {
        yield return Model;
        if (Canary is not null)
        {
            yield return Canary;
        }

        if (Shadow is not null)
        {
            yield return Shadow;
        }
    }
}

/// <summary>
/// Dynamic batching, as Triton does it: requests waiting for the model are scored together, up to
/// <see cref="MaxBatchRows"/> rows, after waiting at most <see cref="MaxDelay"/> for more to arrive.
/// </summary>
/// <remarks>
/// With no delay, a batch is whatever queued while the model was busy: nothing waits at low load, and batches grow
/// on their own as load rises.
/// </remarks>
public sealed record BatchingOptions
{
    /// <summary>The most rows one model call scores.</summary>
    public int MaxBatchRows { get; init; } = 256;

    /// <summary>How long the first request of a batch may wait for others.</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.Zero;
}

/// <summary>What a deployment admits: beyond it, requests are refused at once with 429 rather than queued without end.</summary>
public sealed record ServingLimits
{
    /// <summary>The most requests waiting for the model per model version.</summary>
    public int MaxQueuedRequests { get; init; } = 512;

    /// <summary>
    /// The most request-body bytes admitted and not yet answered per model version (4 MiB: some 14,000 Adult rows as JSON). Requests are admitted by
    /// their declared size before their body is read, so overload with large bodies is refused (429) instead of parsed.
    /// </summary>
    public long MaxQueuedBytes { get; init; } = 4L << 20;

    /// <summary>How long a request may wait and be scored before it is answered 503.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>Writes a <see cref="ModelRef"/> as the text users type, such as <c>adult-income@champion</c>.</summary>
public sealed class ModelRefJsonConverter : JsonConverter<ModelRef>
{
    /// <inheritdoc />
    public override ModelRef Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        ModelRef.Parse(reader.GetString() ?? throw new JsonException("A model reference must be a string."));

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, ModelRef value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.ToString());
    }
}
