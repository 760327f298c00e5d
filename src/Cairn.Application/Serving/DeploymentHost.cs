using System.Diagnostics;
using System.IO.Hashing;
using System.Text;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application.Serving;

/// <summary>A deployment as one server serves it now: its spec and the loaded versions that answer for it.</summary>
public sealed class ActiveDeployment
{
    internal ActiveDeployment(Deployment deployment, IReadOnlyList<ServedModel> models)
    {
        Deployment = deployment;
        var spec = deployment.Spec;
        Model = models[0];
        Canary = spec.Canary is null ? null : models[1];
        Shadow = spec.Shadow is null ? null : models[^1];
    }

    /// <summary>The deployment as stored.</summary>
    public Deployment Deployment { get; }

    /// <summary>The main model.</summary>
    public ServedModel Model { get; }

    /// <summary>The canary, when the deployment has one.</summary>
    public ServedModel? Canary { get; }

    /// <summary>The shadow, when the deployment has one.</summary>
    public ServedModel? Shadow { get; }

    /// <summary>Why the latest change to the deployment could not be applied; the versions above still serve.</summary>
    public string? PendingError { get; internal init; }

    /// <summary>Every loaded version it holds.</summary>
    public IEnumerable<ServedModel> Models => new[] { Model, Canary, Shadow }.OfType<ServedModel>();

    /// <summary>
    /// The model that answers a request: the canary for its share of requests, chosen at random, or by a hash of
    /// <paramref name="routingKey"/> when one is given, so the same key always meets the same model on every replica.
    /// </summary>
    public ServedModel Route(string? routingKey)
    {
        if (Canary is null)
        {
            return Model;
        }

        var bucket = routingKey is null
            ? Random.Shared.Next(100)
            : (int)(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(routingKey)) % 100);
        return bucket < Deployment.Spec.CanaryPercent ? Canary : Model;
    }
}

/// <summary>
/// Serves the stored deployments (or just one, for a replica): keeps each one's versions loaded, follows alias moves
/// and updates by loading and warming the new version before switching to it, and retires the old one only once its
/// last request is answered. A change that fails to load leaves the previous versions serving.
/// </summary>
public sealed class DeploymentHost(DeploymentService deployments, ModelLoader loader, IServingObserver observer, TimeProvider time)
    : IAsyncDisposable
{
    private readonly TimeProvider _time = time;
    private readonly IServingObserver _observer = observer;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private readonly SemaphoreSlim _changed = new(0, 1);
    private volatile Dictionary<string, ActiveDeployment> _active = new(StringComparer.Ordinal);
    private volatile Dictionary<string, string> _failed = new(StringComparer.Ordinal);
    private volatile bool _loaded;

    /// <summary>The one deployment this server serves, or null for all of them.</summary>
    public string? Only { get; set; }

    /// <summary>The deployments served now, by name.</summary>
    public IReadOnlyCollection<ActiveDeployment> Active => _active.Values;

    /// <summary>The served deployment named <paramref name="name"/>, or null when there is none.</summary>
    public ActiveDeployment? Find(string name) => _active.GetValueOrDefault(name);

    /// <summary>Why a deployment is not served although it is stored, or null.</summary>
    public string? FailureOf(string name) => _failed.GetValueOrDefault(name);

    /// <summary>
    /// Takes a lease on the model that answers a request to a deployment — the version the canary split picks, or
    /// <paramref name="version"/> when the caller pins one the deployment serves; dispose it once the request is scored.
    /// </summary>
    public Lease Acquire(string name, string? routingKey, int? version = null)
    {
        while (true)
        {
            // Until the first load ends, an unknown name may be one still loading: 503 sends a load balancer to another replica.
            var active = Find(name) ?? throw (FailureOf(name) is { } failure
                ? new CairnException(ErrorCode.Unavailable, $"Deployment '{name}' is not serving: {failure}")
                : _loaded
                    ? CairnException.NotFound($"There is no deployment named '{name}' on this server.")
                    : new CairnException(ErrorCode.Unavailable, "This server is still loading its deployments; retry in a moment."));
            var model = version is null ? active.Route(routingKey)
                : active.Models.FirstOrDefault(m => m.Version.Version == version && m != active.Shadow)
                  ?? throw CairnException.NotFound(
                      $"Deployment '{name}' does not serve version {version}; it serves {string.Join(", ", active.Models.Where(m => m != active.Shadow).Select(m => $"{m.Version.Model}@{m.Version.Version}").Distinct())}.");
            if (model.TryAcquire())
            {
                return new Lease(this, active, model);
            }
        }
    }

    /// <summary>Brings the served deployments in line with the store: loads what is new, swaps what changed, retires what went away.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refreshing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            IReadOnlyList<Deployment> stored = Only is { } only
                ? (await deployments.ListAsync(cancellationToken).ConfigureAwait(false)).Where(d => d.Name == only).ToList()
                : await deployments.ListAsync(cancellationToken).ConfigureAwait(false);
            var current = _active;
            var next = new Dictionary<string, ActiveDeployment>(StringComparer.Ordinal);
            var failed = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var deployment in stored)
            {
                var existing = current.GetValueOrDefault(deployment.Name);
                try
                {
                    next[deployment.Name] = await RefreshAsync(deployment, existing, cancellationToken).ConfigureAwait(false);
                }
                catch (CairnException e)
                {
                    _observer.LoadFailed(deployment.Name, e.Message);
                    if (existing is null)
                    {
                        failed[deployment.Name] = e.Message;
                    }
                    else
                    {
                        next[deployment.Name] = new ActiveDeployment(existing.Deployment, [.. existing.Models]) { PendingError = e.Message };
                    }
                }
            }

            _active = next;
            _failed = failed;
            _loaded = true;
            var kept = next.Values.SelectMany(d => d.Models).ToHashSet();
            foreach (var retired in current.Values.SelectMany(d => d.Models).Where(m => !kept.Contains(m)).Distinct())
            {
                // Drained in the background: the retired version answers what it already took, then is freed.
                _ = retired.DisposeAsync().AsTask();
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>
    /// Refreshes when <see cref="Changed"/> is called and at least every <paramref name="interval"/> until cancelled;
    /// a failed refresh is reported and retried.
    /// </summary>
    public async Task RunAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using (var due = new CancellationTokenSource(interval, _time))
            using (var wake = CancellationTokenSource.CreateLinkedTokenSource(due.Token, cancellationToken))
            {
                try
                {
                    await _changed.WaitAsync(wake.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    // The interval passed with no change heard: refresh anyway.
                }
            }

            try
            {
                await RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                _observer.LoadFailed(null, e.Message);
            }
        }
    }

    /// <summary>Says the stored deployments or the versions they name changed: the next refresh starts now, not at its interval.</summary>
    public void Changed()
    {
        try
        {
            _changed.Release();
        }
        catch (SemaphoreFullException)
        {
            // A refresh is already due; one is enough for any number of changes before it.
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        var active = _active;
        _active = new(StringComparer.Ordinal);
        foreach (var model in active.Values.SelectMany(d => d.Models).Distinct())
        {
            await model.DisposeAsync().ConfigureAwait(false);
        }

        _refreshing.Dispose();
        _changed.Dispose();
    }

    private async Task<ActiveDeployment> RefreshAsync(Deployment deployment, ActiveDeployment? existing, CancellationToken cancellationToken)
    {
        var versions = await deployments.ResolveAsync(deployment.Spec, cancellationToken).ConfigureAwait(false);
        var spec = deployment.Spec;
        var reusable = existing is not null && existing.Deployment.Spec.Batching == spec.Batching && existing.Deployment.Spec.Limits == spec.Limits
            ? existing.Models.ToList()
            : [];
        var models = new List<ServedModel>();
        var loaded = new List<ServedModel>();
        try
        {
            foreach (var version in versions)
            {
                var model = reusable.FirstOrDefault(m => m.Version.Model == version.Model && m.Version.Version == version.Version)
                    ?? models.FirstOrDefault(m => m.Version.Model == version.Model && m.Version.Version == version.Version);
                if (model is null)
                {
                    model = await ServedModel.LoadAsync(deployment.Name, version, loader, spec.Batching, spec.Limits, _observer, _time, cancellationToken)
                        .ConfigureAwait(false);
                    loaded.Add(model);
                }

                models.Add(model);
            }
        }
        catch
        {
            foreach (var model in loaded)
            {
                await model.DisposeAsync().ConfigureAwait(false);
            }

            throw;
        }

        return existing is not null && loaded.Count == 0 && existing.Deployment.Revision == deployment.Revision && existing.PendingError is null
            ? existing
            : new ActiveDeployment(deployment, models);
    }

    private void Shadow(ActiveDeployment active, string id, Table inputs, IReadOnlyList<OutputTensor> answer)
    {
        var shadow = active.Shadow!;
        if (!shadow.TryAcquire())
        {
            return;
        }

        _ = ShadowAsync();

        async Task ShadowAsync()
        {
            try
            {
                var started = Stopwatch.GetTimestamp();
                var outputs = await shadow.PredictAsync(inputs, CancellationToken.None).ConfigureAwait(false);
                _observer.Shadowed(active.Deployment.Name, shadow.Version, Agreement(answer, outputs), inputs.RowCount);
                _observer.Predicted(new PredictionRecord(id, _time.GetUtcNow(), active.Deployment.Name, shadow.Version, "shadow", inputs, outputs,
                    Stopwatch.GetElapsedTime(started)));
            }
            catch (Exception e) when (e is CairnException or OperationCanceledException)
            {
                // A shadow never affects the answer; a refused or failed copy is only counted.
            }
            finally
            {
                shadow.Release();
            }
        }
    }

    // Rows on which the shadow's answer matches the one returned: the same label, or a prediction within 1e-6 relative.
    private static int Agreement(IReadOnlyList<OutputTensor> answer, IReadOnlyList<OutputTensor> shadow)
    {
        var first = answer[0];
        var other = shadow.FirstOrDefault(o => o.Name == first.Name);
        if (other is null || other.Rows != first.Rows)
        {
            return 0;
        }

        var agreed = 0;
        for (var row = 0; row < first.Rows; row++)
        {
            agreed += first.Strings is { } labels
                ? labels[row] == other.Strings?[row] ? 1 : 0
                : Math.Abs(first.Floats![row] - other.Floats![row]) <= 1e-6 * Math.Max(1, Math.Abs(first.Floats[row])) ? 1 : 0;
        }

        return agreed;
    }

    /// <summary>A request's hold on the model that answers it.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly DeploymentHost _host;
        private int _released;

        internal Lease(DeploymentHost host, ActiveDeployment active, ServedModel model)
        {
            _host = host;
            Active = active;
            Model = model;
        }

        /// <summary>The deployment as it was when the request arrived.</summary>
        public ActiveDeployment Active { get; }

        /// <summary>The model that answers.</summary>
        public ServedModel Model { get; }

        /// <summary>Scores the request, sends a copy to the shadow, and reports the prediction under <paramref name="id"/>.</summary>
        public async Task<IReadOnlyList<OutputTensor>> PredictAsync(string id, Table inputs, CancellationToken cancellationToken)
        {
            var started = Stopwatch.GetTimestamp();
            var outputs = await Model.PredictAsync(inputs, cancellationToken).ConfigureAwait(false);
            if (Active.Shadow is not null)
            {
                _host.Shadow(Active, id, inputs, outputs);
            }

            _host._observer.Predicted(new PredictionRecord(id, _host._time.GetUtcNow(), Active.Deployment.Name, Model.Version, RoleOf(Model), inputs, outputs,
                Stopwatch.GetElapsedTime(started)));
            return outputs;
        }

        /// <summary><c>model</c>, <c>canary</c> or <c>shadow</c>: what <paramref name="model"/> is to the deployment.</summary>
        public string RoleOf(ServedModel model) => ReferenceEquals(model, Active.Canary) ? "canary" : ReferenceEquals(model, Active.Shadow) ? "shadow" : "model";

        /// <inheritdoc />
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Model.Release();
            }
        }
    }
}
