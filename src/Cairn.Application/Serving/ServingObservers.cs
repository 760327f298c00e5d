using Cairn.Core.Models;

namespace Cairn.Application.Serving;

/// <summary>
/// Passes what serving reports to every observer: the server's metrics and statistics, monitoring's recorder when
/// monitoring is on, and any added later (a test's tap).
/// </summary>
public sealed class ServingObservers(params IServingObserver[] observers) : IServingObserver
{
    // Copied on every Add, so a report reads the array without a lock.
    private volatile IServingObserver[] _observers = observers;

    /// <summary>Adds an observer that sees every report from now on.</summary>
    public void Add(IServingObserver observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        IServingObserver[] current, next;
        do
        {
            current = _observers;
            next = [.. current, observer];
        }
        while (Interlocked.CompareExchange(ref _observers, next, current) != current);
    }

    /// <inheritdoc />
    public void Loaded(string? deployment, ModelVersion version, TimeSpan took)
    {
        foreach (var o in _observers)
        {
            o.Loaded(deployment, version, took);
        }
    }

    /// <inheritdoc />
    public void Scored(string? deployment, ModelVersion version, int requests, int rows, TimeSpan took)
    {
        foreach (var o in _observers)
        {
            o.Scored(deployment, version, requests, rows, took);
        }
    }

    /// <inheritdoc />
    public void Failed(string? deployment, ModelVersion version, int requests)
    {
        foreach (var o in _observers)
        {
            o.Failed(deployment, version, requests);
        }
    }

    /// <inheritdoc />
    public void Rejected(string? deployment, ModelVersion version, string reason)
    {
        foreach (var o in _observers)
        {
            o.Rejected(deployment, version, reason);
        }
    }

    /// <inheritdoc />
    public void FellBack(string? deployment, ModelVersion version, string reason)
    {
        foreach (var o in _observers)
        {
            o.FellBack(deployment, version, reason);
        }
    }

    /// <inheritdoc />
    public void LoadFailed(string? deployment, string reason)
    {
        foreach (var o in _observers)
        {
            o.LoadFailed(deployment, reason);
        }
    }

    /// <inheritdoc />
    public void Shadowed(string deployment, ModelVersion shadow, int agreed, int rows)
    {
        foreach (var o in _observers)
        {
            o.Shadowed(deployment, shadow, agreed, rows);
        }
    }

    /// <inheritdoc />
    public void Predicted(PredictionRecord prediction)
    {
        foreach (var o in _observers)
        {
            o.Predicted(prediction);
        }
    }
}
