using System.Collections.Concurrent;
using Cairn.Core.Models;

namespace Cairn.Application.Serving;

/// <summary>
/// Serves models by name, outside any deployment: finds the loaded version that answers for a reference such as
/// <c>adult-income@champion</c>. Loaded versions are kept; alias lookups are cached for <see cref="AliasRefresh"/>,
/// so a moved alias is picked up within it while a request costs no database round trip; the version it leaves is
/// freed once its last request is answered.
/// </summary>
public sealed class ModelServing(ModelRegistry registry, ModelLoader loader, IServingObserver observer, TimeProvider time, Actor actor) : IAsyncDisposable
{
    /// <summary>How long an alias resolution is reused.</summary>
    public static readonly TimeSpan AliasRefresh = TimeSpan.FromSeconds(2);

    private readonly ConcurrentDictionary<ModelRef, (ModelVersion Version, DateTimeOffset ResolvedAt)> _resolved = new();
    private readonly ConcurrentDictionary<(string Model, int Version), Lazy<Task<ServedModel>>> _models = new();

    /// <summary>Says aliases or versions changed in the store: every alias is resolved afresh on its next request.</summary>
    public void Changed() => _resolved.Clear();

    /// <summary>The model a reference names with a lease on it (release it once the request is scored), loading it on first use.</summary>
    public async ValueTask<ServedModel> AcquireAsync(ModelRef reference, CancellationToken cancellationToken)
    {
        while (true)
        {
            var model = await GetAsync(reference, cancellationToken).ConfigureAwait(false);
            if (model.TryAcquire())
            {
                return model;
            }
        }
    }

    /// <summary>The model a reference names, loading it on first use.</summary>
    public async ValueTask<ServedModel> GetAsync(ModelRef reference, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        // Resolving and loading serve every caller alike; whoever asked was checked for the right to score already.
        actor.BecomeProcess();
        var now = time.GetUtcNow();
        if (!_resolved.TryGetValue(reference, out var resolved) || now - resolved.ResolvedAt > AliasRefresh)
        {
            var previous = resolved.Version;
            resolved = (await registry.ResolveAsync(reference, cancellationToken).ConfigureAwait(false), now);
            _resolved[reference] = resolved;
            if (previous is not null && previous.Version != resolved.Version.Version)
            {
                Retire(previous);
            }
        }

        var version = resolved.Version;
        var lazy = _models.GetOrAdd((version.Model, version.Version), _ => new Lazy<Task<ServedModel>>(() =>
            ServedModel.LoadAsync(null, version, loader, new BatchingOptions(), new ServingLimits(), observer, time, CancellationToken.None)));
        try
        {
            return lazy.Value.IsCompletedSuccessfully ? lazy.Value.Result : await lazy.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (lazy.Value.IsFaulted)
        {
            // A failed load is not cached: the next request tries again.
            _models.TryRemove(new KeyValuePair<(string, int), Lazy<Task<ServedModel>>>((version.Model, version.Version), lazy));
            throw;
        }
    }

    // A version no reference resolves to any more is dropped, and freed once its last request is answered.
    private void Retire(ModelVersion version)
    {
        if (_resolved.Values.Any(r => r.Version.Model == version.Model && r.Version.Version == version.Version) ||
            !_models.TryRemove((version.Model, version.Version), out var lazy))
        {
            return;
        }

        _ = lazy.Value.ContinueWith(loaded => loaded.Result.DisposeAsync().AsTask(), CancellationToken.None,
            TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default).Unwrap();
    }

    /// <summary>Loads every registered model that has <paramref name="alias"/>, so the first requests do not pay for loading.</summary>
    public async Task<IReadOnlyList<ModelVersion>> WarmUpAsync(string alias, CancellationToken cancellationToken)
    {
        var loaded = new List<ModelVersion>();
        foreach (var model in await registry.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (model.Aliases.ContainsKey(alias))
            {
                loaded.Add((await GetAsync(new ModelRef(model.Name, alias, null), cancellationToken).ConfigureAwait(false)).Version);
            }
        }

        return loaded;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        foreach (var lazy in _models.Values)
        {
            if (lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            {
                await lazy.Value.Result.DisposeAsync().ConfigureAwait(false);
            }
        }

        _models.Clear();
    }
}
