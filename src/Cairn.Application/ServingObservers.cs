using Cairn.Core.Models;

namespace Cairn.Application;

/// <summary>Passes what serving reports to several observers (metrics and monitoring).</summary>
public sealed class ServingObservers(params IServingObserver[] observers) : IServingObserver
{
    /// <inheritdoc />
    public void Loaded(string? deployment, ModelVersion version, TimeSpan took)
    {
        foreach (var o in observers)
        {
            o.Loaded(deployment, version, took);
        }
    }

    /// <inheritdoc />
    public void Scored(string? deployment, ModelVersion version, int requests, int rows, TimeSpan took)
    {
        foreach (var o in observers)
        {
            o.Scored(deployment, version, requests, rows, took);
        }
    }

    /// <inheritdoc />
    public void Failed(string? deployment, ModelVersion version, int requests)
    {
        foreach (var o in observers)
        {
            o.Failed(deployment, version, requests);
        }
    }

    /// <inheritdoc />
    public void Rejected(string? deployment, ModelVersion version, string reason)
    {
        foreach (var o in observers)
        {
            o.Rejected(deployment, version, reason);
        }
    }

    /// <inheritdoc />
    public void FellBack(string? deployment, ModelVersion version, string reason)
    {
        foreach (var o in observers)
        {
            o.FellBack(deployment, version, reason);
        }
    }

    /// <inheritdoc />
    public void LoadFailed(string? deployment, string reason)
    {
        foreach (var o in observers)
        {
            o.LoadFailed(deployment, reason);
        }
    }

    /// <inheritdoc />
    public void Shadowed(string deployment, ModelVersion shadow, int agreed, int rows)
    {
        foreach (var o in observers)
        {
            o.Shadowed(deployment, shadow, agreed, rows);
        }
    }
}
