using System.Diagnostics;
using System.Threading.Channels;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Application.Serving;

/// <summary>
/// A model version loaded for serving, with its request queue. Requests are scored in batches (dynamic batching):
/// one dispatcher gathers what is queued, up to <see cref="BatchingOptions.MaxBatchRows"/> rows, and hands the batch
/// to one of as many scoring slots as there are cores. Beyond <see cref="ServingLimits.MaxQueuedRequests"/> waiting
/// requests, more are refused at once; a request still queued after <see cref="ServingLimits.Timeout"/> is failed.
/// </summary>
/// <remarks>
/// Callers hold a lease while they use the model (<see cref="TryAcquire"/>, <see cref="Release"/>), so a version
/// swapped out is disposed only after its last request is answered.
/// </remarks>
public sealed class ServedModel : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly SemaphoreSlim _slots = new(Environment.ProcessorCount, Environment.ProcessorCount);
    private readonly IServingObserver _observer;
    private readonly TimeProvider _time;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _dispatcher;
    private int _queued;
    private long _admittedBytes;
    private int _leases;
    private int _retired;

    /// <summary>Serves a loaded <paramref name="runtime"/>, which it owns from now on; deadlines and batch delays run on <paramref name="time"/>.</summary>
    public ServedModel(string? deployment, ModelVersion version, IModelRuntime runtime, BatchingOptions batching, ServingLimits limits, IServingObserver observer,
        TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(runtime);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(time);
        Deployment = deployment;
        Version = version;
        Runtime = runtime;
        Batching = batching;
        Limits = limits;
        _observer = observer;
        _time = time;
        _dispatcher = Task.Run(DispatchAsync);
    }

    /// <summary>The most rows a request may have to be scored on its own thread when the model is idle.</summary>
    public const int InlineRows = 64;

    /// <summary>The deployment it serves, or null when it is served by model name.</summary>
    public string? Deployment { get; }

    /// <summary>The version it scores with.</summary>
    public ModelVersion Version { get; }

    /// <summary>The loaded model.</summary>
    public IModelRuntime Runtime { get; }

    /// <summary>Why the compiled engine does not answer for this version, when it does not.</summary>
    public string? NotCompiled { get; private init; }

    /// <summary>How it batches.</summary>
    public BatchingOptions Batching { get; }

    /// <summary>What it admits.</summary>
    public ServingLimits Limits { get; }

    /// <summary>Requests waiting for the model now.</summary>
    public int QueueDepth => Volatile.Read(ref _queued);

    /// <summary>Loads and warms a version (see <see cref="ModelLoader"/>) and starts its queue.</summary>
    public static async Task<ServedModel> LoadAsync(string? deployment, ModelVersion version, ModelLoader loader,
        BatchingOptions batching, ServingLimits limits, IServingObserver observer, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(loader);
        ArgumentNullException.ThrowIfNull(observer);
        ArgumentNullException.ThrowIfNull(time);
        var started = Stopwatch.GetTimestamp();
        var loaded = await loader.LoadAsync(version, cancellationToken).ConfigureAwait(false);
        if (loaded.Fallback is { } reason)
        {
            observer.FellBack(deployment, version, reason);
        }

        observer.Loaded(deployment, version, Stopwatch.GetElapsedTime(started));
        return new ServedModel(deployment, version, loaded.Runtime, batching, limits, observer, time) { NotCompiled = loaded.NotCompiled };
    }

    /// <summary>Takes a lease; false once the model is being retired, and the caller should look up the current one.</summary>
    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 0)
        {
            return true;
        }

        Release();
        return false;
    }

    /// <summary>Returns a lease.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) == 1)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Admits a request whose body is <paramref name="bytes"/> long before the body is read, or throws
    /// <see cref="ErrorCode.Overloaded"/> when <see cref="ServingLimits.MaxQueuedBytes"/> would be passed (one request is
    /// always admitted when nothing else is, however large). Pair with <see cref="Leave"/>.
    /// </summary>
    public void Admit(long bytes)
    {
        var admitted = Interlocked.Add(ref _admittedBytes, bytes);
        if (admitted > Limits.MaxQueuedBytes && admitted != bytes)
        {
            Interlocked.Add(ref _admittedBytes, -bytes);
            _observer.Rejected(Deployment, Version, "queue_full");
            throw new CairnException(ErrorCode.Overloaded,
                $"{Version.Model} version {Version.Version} has {Limits.MaxQueuedBytes >> 20} MiB of requests in hand already; retry shortly.");
        }
    }

    /// <summary>Returns what <see cref="Admit"/> took, once the request is answered.</summary>
    public void Leave(long bytes) => Interlocked.Add(ref _admittedBytes, -bytes);

    /// <summary>Scores <paramref name="inputs"/> in the next batch; throws <see cref="ErrorCode.Overloaded"/> when the queue is full.</summary>
    public Task<IReadOnlyList<OutputTensor>> PredictAsync(Table inputs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (Interlocked.Increment(ref _queued) > Limits.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref _queued);
            _observer.Rejected(Deployment, Version, "queue_full");
            throw new CairnException(ErrorCode.Overloaded,
                $"{Version.Model} version {Version.Version} has {Limits.MaxQueuedRequests} requests waiting already; retry shortly.");
        }

        // A small request, nothing waiting and a scoring slot free: score right here, on the request's own thread.
        // The queue, and the two hand-offs between threads it costs, are for requests that arrive while the slots are
        // busy, and for large ones, whose waiting it bounds.
        if (inputs.RowCount <= InlineRows && Batching.MaxDelay == TimeSpan.Zero && Volatile.Read(ref _queued) == 1 && _slots.Wait(0))
        {
            Interlocked.Decrement(ref _queued);
            try
            {
                cancellationToken.ThrowIfCancellationRequested();
                var trace = Activity.Current?.Context ?? default;
                return Task.FromResult(ScoreNow(inputs, 1, trace == default ? [] : [new ActivityLink(trace)]));
            }
            catch (Exception e)
            {
                return Task.FromException<IReadOnlyList<OutputTensor>>(e);
            }
            finally
            {
                _slots.Release();
            }
        }

        var pending = new Pending(inputs, _time.GetTimestamp() + (long)(Limits.Timeout.TotalSeconds * _time.TimestampFrequency), cancellationToken)
        {
            Trace = Activity.Current?.Context ?? default,
        };
        _queue.Writer.TryWrite(pending);
        return pending.Task;
    }

    /// <summary>Stops admitting leases, waits for the last one, then frees the model.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _retired, 1) == 0)
        {
            if (Volatile.Read(ref _leases) == 0)
            {
                _drained.TrySetResult();
            }

            await _drained.Task.ConfigureAwait(false);
            _queue.Writer.TryComplete();
            await _dispatcher.ConfigureAwait(false);
            Runtime.Dispose();
            _slots.Dispose();
        }
    }

    private async Task DispatchAsync()
    {
        var reader = _queue.Reader;
        var batch = new List<Pending>();
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            await _slots.WaitAsync().ConfigureAwait(false);
            var rows = Gather(reader, batch, 0);
            if (Batching.MaxDelay > TimeSpan.Zero && batch.Count > 0 && rows < Batching.MaxBatchRows && !reader.TryPeek(out _))
            {
                // Wait a little for more, as Triton's max_queue_delay does, until the batch is full or the next request
                // would not fit in it.
                using var wait = new CancellationTokenSource(Batching.MaxDelay, _time);
                try
                {
                    while (await reader.WaitToReadAsync(wait.Token).ConfigureAwait(false))
                    {
                        rows = Gather(reader, batch, rows);
                        if (rows >= Batching.MaxBatchRows || reader.TryPeek(out _))
                        {
                            break;
                        }
                    }
                }
                catch (OperationCanceledException) when (wait.IsCancellationRequested)
                {
                }
            }

            if (batch.Count == 0)
            {
                _slots.Release();
                continue;
            }

            Pending[] work = [.. batch];
            batch.Clear();
            _ = Task.Run(() => Score(work));
        }
    }

    // Takes queued requests while the batch has room; expired and abandoned ones are answered, not scored.
    private int Gather(ChannelReader<Pending> reader, List<Pending> batch, int rows)
    {
        while (rows < Batching.MaxBatchRows && reader.TryPeek(out var next))
        {
            if (batch.Count > 0 && rows + next.Inputs.RowCount > Batching.MaxBatchRows)
            {
                break;
            }

            reader.TryRead(out _);
            Interlocked.Decrement(ref _queued);
            if (next.Cancellation.IsCancellationRequested)
            {
                next.TrySetCanceled(next.Cancellation);
            }
            else if (_time.GetTimestamp() > next.Deadline)
            {
                _observer.Rejected(Deployment, Version, "timeout");
                next.TrySetException(new CairnException(ErrorCode.Unavailable,
                    $"{Version.Model} version {Version.Version} did not get to the request within {Limits.Timeout.TotalSeconds:0.###} s; retry shortly."));
            }
            else
            {
                batch.Add(next);
                rows += next.Inputs.RowCount;
            }
        }

        return rows;
    }

    private void Score(Pending[] work)
    {
        IReadOnlyList<OutputTensor>[]? answers = null;
        Exception? failure = null;
        try
        {
            var inputs = Table.Concat([.. work.Select(p => p.Inputs)]);
            var outputs = ScoreNow(inputs, work.Length, [.. work.Where(p => p.Trace != default).Select(p => new ActivityLink(p.Trace))]);
            answers = new IReadOnlyList<OutputTensor>[work.Length];
            var from = 0;
            for (var i = 0; i < work.Length; i++)
            {
                var rows = work[i].Inputs.RowCount;
                answers[i] = work.Length == 1 ? outputs : [.. outputs.Select(o => o.Slice(from, rows))];
                from += rows;
            }
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            _slots.Release();
        }

        // The slot is already free for the next batch; each answer's continuation (writing its response) runs on the pool.
        for (var i = 0; i < work.Length; i++)
        {
            if (failure is null)
            {
                work[i].TrySetResult(answers![i]);
            }
            else
            {
                work[i].TrySetException(failure);
            }
        }
    }

    // Scores one batch (of one request or several) on the caller's thread, within a "cairn.batch" span linked to the requests' spans.
    private IReadOnlyList<OutputTensor> ScoreNow(Table inputs, int requests, ActivityLink[] links)
    {
        using var activity = ServingTelemetry.Source.HasListeners()
            ? ServingTelemetry.Source.StartActivity("cairn.batch", ActivityKind.Internal, default(ActivityContext), links: links)
            : null;
        activity?.SetTag("cairn.deployment", Deployment);
        activity?.SetTag("cairn.model", Version.Model);
        activity?.SetTag("cairn.version", Version.Version);
        activity?.SetTag("cairn.engine", Runtime.Engine);
        activity?.SetTag("cairn.batch.requests", requests);
        try
        {
            // Latencies are measured on the real clock; only deadlines and delays follow the injected one.
            var started = Stopwatch.GetTimestamp();
            var outputs = Runtime.Predict(inputs);
            _observer.Scored(Deployment, Version, requests, inputs.RowCount, Stopwatch.GetElapsedTime(started));
            activity?.SetTag("cairn.batch.rows", inputs.RowCount);
            return outputs;
        }
        catch (Exception e)
        {
            _observer.Failed(Deployment, Version, requests);
            activity?.SetStatus(ActivityStatusCode.Error, e.Message);
            throw;
        }
    }

    private sealed class Pending(Table inputs, long deadline, CancellationToken cancellation)
        : TaskCompletionSource<IReadOnlyList<OutputTensor>>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public Table Inputs { get; } = inputs;

        public long Deadline { get; } = deadline;

        public CancellationToken Cancellation { get; } = cancellation;

        /// <summary>The request's span, which the batch span links to.</summary>
        public ActivityContext Trace { get; init; }
    }
}
