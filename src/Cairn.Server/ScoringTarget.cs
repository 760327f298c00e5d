using Cairn.Application;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Cairn.Server;

/// <summary>Which names a URL's model segment may mean.</summary>
internal enum TargetScope
{
    /// <summary>A deployment when one has the name, otherwise a registered model (the Open Inference Protocol's /v2/models/NAME).</summary>
    Any,

    /// <summary>A registered model, through the server's alias.</summary>
    Model,

    /// <summary>A deployment.</summary>
    Deployment,
}

/// <summary>
/// The model that answers one request: a deployment's routed version, held by a lease until the request is
/// scored, or a registered model served by name. Names the prediction with a fresh id.
/// </summary>
internal sealed class ScoringTarget : IDisposable
{
    // What a body of unknown length (chunked) is charged on admission.
    private const long UnknownLengthCharge = 1 << 20;

    private readonly DeploymentHost.Lease? _lease;
    private int _released;
    private long _admitted;

    // Holds either a deployment's lease or, for a model served by name, a lease on the model itself.
    private ScoringTarget(ServedModel model, DeploymentHost.Lease? lease)
    {
        Model = model;
        _lease = lease;
    }

    /// <summary>The version that answers.</summary>
    public ServedModel Model { get; }

    /// <summary>The deployment, when the request goes through one.</summary>
    public ActiveDeployment? Deployment => _lease?.Active;

    /// <summary>The protocol's name for the engine that scores: ONNX Runtime, or ML.NET when it is the fallback.</summary>
    public string Platform => Model.Runtime.Engine == "onnxruntime" ? "onnxruntime_onnx" : Model.Runtime.Engine;

    /// <summary>The id returned to the caller for this prediction.</summary>
    public string PredictionId { get; } = Guid.CreateVersion7().ToString("N");

    public static async ValueTask<ScoringTarget> AcquireAsync(string name, string? version, TargetScope scope, HttpContext http)
    {
        var services = http.RequestServices;
        var host = services.GetRequiredService<DeploymentHost>();
        var actor = services.GetRequiredService<Actor>();
        if (scope == TargetScope.Deployment || (scope == TargetScope.Any && (host.Find(name) is not null || host.FailureOf(name) is not null)))
        {
            actor.Demand(ResourceRef.Deployment(name), Role.Predict, "score");
            int? number = version is null ? null : VersionNumber.Parse(version, "model version");
            var routingKey = http.Request.Headers[InferenceEndpoints.RoutingKeyHeader] is [{ } key] ? key : null;
            var lease = host.Acquire(name, routingKey, number);
            return new ScoringTarget(lease.Model, lease);
        }

        actor.Demand(ResourceRef.Model(name), Role.Predict, "score");
        var state = services.GetRequiredService<ServingState>();
        var model = await services.GetRequiredService<ModelServing>().AcquireAsync(state.Reference(name, version), http.RequestAborted);
        return new ScoringTarget(model, null);
    }

    /// <summary>
    /// Admits the request by the size of its body, before the body is read: under overload, large requests are refused
    /// (429 with Retry-After) at the cost of a header, and those admitted keep their latency.
    /// </summary>
    public void Admit(HttpContext http) => Admit(http.Request.ContentLength is { } length ? length : UnknownLengthCharge);

    /// <summary>Admits a request of <paramref name="bytes"/> (see <see cref="Admit(HttpContext)"/>).</summary>
    public void Admit(long bytes)
    {
        bytes = Math.Max(1, bytes);
        Model.Admit(bytes);
        _admitted = bytes;
    }

    /// <summary>Scores the request (through the deployment's shadow and monitoring hook when there is one) and names the answer in the response headers.</summary>
    public async Task<IReadOnlyList<OutputTensor>> PredictAsync(Table inputs, HttpContext http)
    {
        using var activity = ServingTelemetry.Source.StartActivity("cairn.predict");
        activity?.SetTag("cairn.prediction_id", PredictionId);
        activity?.SetTag("cairn.deployment", Deployment?.Deployment.Name);
        activity?.SetTag("cairn.model", Model.Version.Model);
        activity?.SetTag("cairn.version", Model.Version.Version);
        activity?.SetTag("cairn.rows", inputs.RowCount);
        var outputs = _lease is not null
            ? await _lease.PredictAsync(PredictionId, inputs, http.RequestAborted)
            : await Model.PredictAsync(inputs, http.RequestAborted);
        var headers = http.Response.Headers;
        headers[InferenceEndpoints.PredictionIdHeader] = PredictionId;
        headers[InferenceEndpoints.ModelVersionHeader] = $"{Model.Version.Model}@{Model.Version.Version}";
        return outputs;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _admitted, 0) is var admitted and > 0)
        {
            Model.Leave(admitted);
        }

        if (_lease is not null)
        {
            _lease.Dispose();
        }
        else if (Interlocked.Exchange(ref _released, 1) == 0)
        {
            Model.Release();
        }
    }
}
