using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application.Serving;

/// <summary>
/// Serving's one tap: what it reports as it works. Metrics, serving statistics and monitoring's recorder each
/// implement what they need of it (every member does nothing unless implemented), and <see cref="ServingObservers"/>
/// passes each report to all of them. Members are called on the request path, so they must be quick.
/// </summary>
public interface IServingObserver
{
    /// <summary>A model version was loaded and warmed for <paramref name="deployment"/> (null: served by model name).</summary>
    void Loaded(string? deployment, ModelVersion version, TimeSpan took)
    {
    }

    /// <summary>One model call scored <paramref name="requests"/> requests together, <paramref name="rows"/> rows in all.</summary>
    void Scored(string? deployment, ModelVersion version, int requests, int rows, TimeSpan took)
    {
    }

    /// <summary>A model call failed.</summary>
    void Failed(string? deployment, ModelVersion version, int requests)
    {
    }

    /// <summary>A request was turned away (the queue was full) or timed out before it was scored.</summary>
    void Rejected(string? deployment, ModelVersion version, string reason)
    {
    }

    /// <summary>ONNX Runtime could not serve a version, so ML.NET serves it.</summary>
    void FellBack(string? deployment, ModelVersion version, string reason)
    {
    }

    /// <summary>A deployment's models could not be loaded (null: the deployments could not be read); what served before still serves.</summary>
    void LoadFailed(string? deployment, string reason)
    {
    }

    /// <summary>A shadow scored a copy of a request; <paramref name="agreed"/> of its <paramref name="rows"/> answers matched the one returned.</summary>
    void Shadowed(string deployment, ModelVersion shadow, int agreed, int rows)
    {
    }

    /// <summary>A deployment answered a request (or its shadow scored the copy): called after the answer is ready, on the scoring thread.</summary>
    void Predicted(PredictionRecord prediction)
    {
    }
}

/// <summary>One prediction a deployment answered, as serving reports it to <see cref="IServingObserver.Predicted"/>.</summary>
/// <param name="Id">The id returned to the caller; row <c>i</c> of a request is <c>ID/i</c>.</param>
/// <param name="At">When it was answered.</param>
/// <param name="Deployment">The deployment that answered.</param>
/// <param name="Version">The version that scored it.</param>
/// <param name="Role"><c>model</c>, <c>canary</c> or <c>shadow</c>.</param>
/// <param name="Inputs">The request's rows.</param>
/// <param name="Outputs">What the version answered.</param>
/// <param name="Latency">From handing the request to the model's queue to its answer.</param>
public sealed record PredictionRecord(string Id, DateTimeOffset At, string Deployment, ModelVersion Version, string Role, Table Inputs, IReadOnlyList<OutputTensor> Outputs,
    TimeSpan Latency);
