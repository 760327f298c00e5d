using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Monitoring;
using Cairn.Core.Ports;

namespace Cairn.Application.Serving;

/// <summary>How the prediction recorder buffers and flushes.</summary>
public sealed record RecorderOptions
{
    /// <summary>How often profiles and logged predictions are written to the store.</summary>
    public TimeSpan FlushInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Answered requests waiting to be profiled; beyond this, requests are counted as dropped rather than slowing serving.</summary>
    public int QueueCapacity { get; init; } = 16_384;

    /// <summary>The window of deployments without a monitor.</summary>
    public TimeSpan DefaultWindow { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Monitoring's side of serving: every answered request is handed to a bounded queue on the request path (nothing
/// more), and a background loop profiles it into its deployment's current window and samples its rows into the
/// prediction log. Windows and log rows are flushed to the store in batches. Failed and refused requests are counted
/// per version through <see cref="IServingObserver"/>.
/// </summary>
public sealed class PredictionRecorder(IMonitoringStore store, TimeProvider time, RecorderOptions options) : IServingObserver
{
    // A lock-free queue bounded by a count: a bounded channel takes a lock on every write, which request threads and
    // the recorder then fight over.
    private readonly ConcurrentQueue<Observation> _queue = new();
    private int _queued;
    private readonly Dictionary<(string Deployment, DateTimeOffset Start), LiveWindowBuilder> _windows = [];
    // Rows waiting for the store, a batch per deployment; a batch that failed to be written waits to be tried again.
    private readonly Dictionary<string, PredictionLogBatch> _log = new(StringComparer.Ordinal);
    private readonly Dictionary<string, PredictionLogBatch> _spare = new(StringComparer.Ordinal);
    private readonly List<PredictionLogBatch> _unwritten = [];
    private int _pendingLog;
    private readonly SemaphoreSlim _flushing = new(1, 1);
    // The flush cadence is wall-clock time whatever clock stamps predictions (the demo replays a year in minutes).
    private Dictionary<string, MonitorSpec> _monitors = new(StringComparer.Ordinal);
    private long _dropped;

    private static readonly TimeSpan DrainInterval = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(1);
    private const int MaxPendingLog = 500_000;

    /// <summary>This server's name in stored windows: replicas each store their own and evaluation merges them.</summary>
    public string Replica { get; } = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Requests not profiled because the queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Hands an answered request to the queue; called on the scoring path, so it only enqueues.</summary>
    public void Predicted(PredictionRecord prediction) => Enqueue(new Observation(prediction, null, null, 0));

    private void Enqueue(Observation observation)
    {
        if (Interlocked.Increment(ref _queued) > options.QueueCapacity)
        {
            Interlocked.Decrement(ref _queued);
            Interlocked.Increment(ref _dropped);
            return;
        }

        _queue.Enqueue(observation);
    }

    /// <summary>
    /// Profiles what is queued and flushes until cancelled; a failed flush keeps its data for the next one. The loop
    /// runs on a thread of its own, so that profiling and the store's (often synchronous) writes never hold one of the
    /// few thread-pool threads that serve requests.
    /// </summary>
    public Task RunAsync(CancellationToken cancellationToken)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            try
            {
                Run(cancellationToken);
                done.SetResult();
            }
            catch (Exception e)
            {
                done.SetException(e);
            }
        })
        { IsBackground = true, Name = "cairn-recorder" };
        thread.Start();
        return done.Task;
    }

    private void Run(CancellationToken cancellationToken)
    {
        RefreshMonitorsAsync(cancellationToken).GetAwaiter().GetResult();
        // The queue is drained on a short timer rather than woken by every request: one wake-up per tick, not per prediction.
        var nextLog = Stopwatch.GetTimestamp() + (long)(LogInterval.TotalSeconds * Stopwatch.Frequency);
        var nextFlush = Stopwatch.GetTimestamp() + (long)(options.FlushInterval.TotalSeconds * Stopwatch.Frequency);
        try
        {
            while (!cancellationToken.WaitHandle.WaitOne(DrainInterval))
            {
                Drain();
                var now = Stopwatch.GetTimestamp();
                try
                {
                    if (now >= nextFlush)
                    {
                        FlushAsync(cancellationToken).GetAwaiter().GetResult();
                        RefreshMonitorsAsync(cancellationToken).GetAwaiter().GetResult();
                        nextFlush = now + (long)(options.FlushInterval.TotalSeconds * Stopwatch.Frequency);
                        nextLog = now + (long)(LogInterval.TotalSeconds * Stopwatch.Frequency);
                    }
                    else if (now >= nextLog)
                    {
                        // Logged rows are written every second, one transaction per deployment.
                        FlushLogAsync(cancellationToken).GetAwaiter().GetResult();
                        nextLog = now + (long)(LogInterval.TotalSeconds * Stopwatch.Frequency);
                    }
                }
                catch (Exception e) when (e is CairnException or IOException or TimeoutException)
                {
                    // The store is unreachable: what was recorded stays in memory (bounded) and the next flush tries again.
                    nextFlush = now + (long)(options.FlushInterval.TotalSeconds * Stopwatch.Frequency);
                    nextLog = nextFlush;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            // What was answered before the server stopped is still written.
            Drain();
            FlushAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
    }

    /// <summary>Profiles everything queued and writes every changed window and the sampled log now.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Drain();
            var now = time.GetUtcNow();
            List<(string Deployment, StoredLiveWindow Window)> changed;
            lock (_windows)
            {
                changed = [.. _windows.Values.Where(w => w.Changed).Select(w => (w.Deployment, Store(w.Build(), Replica, now)))];
                // A window long closed gets no more traffic: once written, it leaves memory.
                foreach (var key in _windows.Where(w => !w.Value.Changed && w.Value.End + WindowOf(w.Key.Deployment) < now).Select(w => w.Key).ToList())
                {
                    _windows.Remove(key);
                }
            }

            try
            {
                foreach (var group in changed.GroupBy(c => c.Deployment, StringComparer.Ordinal))
                {
                    await store.SaveLiveWindowsAsync(group.Key, [.. group.Select(g => g.Window)], cancellationToken).ConfigureAwait(false);
                }

            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                lock (_windows)
                {
                    // Windows are cumulative, so the next flush rewrites them.
                    foreach (var (deployment, window) in changed)
                    {
                        if (_windows.TryGetValue((deployment, window.Start), out var builder))
                        {
                            builder.MarkChanged();
                        }
                    }
                }

                throw;
            }

            await WriteLogAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushing.Release();
        }
    }

    private async Task FlushLogAsync(CancellationToken cancellationToken)
    {
        await _flushing.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await WriteLogAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _flushing.Release();
        }
    }

    // Under _flushing: swaps each deployment's batch for its spare and writes the full ones; a batch that fails stays in line, in order.
    private async Task WriteLogAsync(CancellationToken cancellationToken)
    {
        List<PredictionLogBatch> full;
        lock (_windows)
        {
            full = [.. _unwritten];
            _unwritten.Clear();
            foreach (var (deployment, batch) in _log.Where(l => l.Value.Count > 0).ToList())
            {
                full.Add(batch);
                _log[deployment] = _spare.Remove(deployment, out var spare) ? spare : new PredictionLogBatch(deployment);
            }
        }

        for (var i = 0; i < full.Count; i++)
        {
            try
            {
                await store.AppendPredictionsAsync(full[i], cancellationToken).ConfigureAwait(false);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                lock (_windows)
                {
                    _unwritten.InsertRange(0, full.Skip(i));
                }

                throw;
            }

            lock (_windows)
            {
                _pendingLog -= full[i].Count;
                full[i].Clear();
                _spare[full[i].Deployment] = full[i];
            }
        }
    }

    /// <summary>Re-reads monitors: windows, segments and sampling follow their changes.</summary>
    public async Task RefreshMonitorsAsync(CancellationToken cancellationToken)
    {
        try
        {
            var monitors = await store.ListMonitorsAsync(null, cancellationToken).ConfigureAwait(false);
            _monitors = monitors.ToDictionary(m => m.Deployment, m => m.Spec, StringComparer.Ordinal);
        }
        catch (CairnException)
        {
            // The previous settings stay; the next flush tries again.
        }
    }

    void IServingObserver.Failed(string? deployment, ModelVersion version, int requests) => Fail(deployment, version, requests);

    void IServingObserver.Rejected(string? deployment, ModelVersion version, string reason) => Fail(deployment, version, 1);

    private void Fail(string? deployment, ModelVersion version, int requests)
    {
        if (deployment is not null)
        {
            Enqueue(new Observation(null, deployment, version, requests));
        }
    }

    private void Drain()
    {
        lock (_windows)
        {
            while (_queue.TryDequeue(out var observation))
            {
                Interlocked.Decrement(ref _queued);
                try
                {
                    Apply(observation);
                }
                catch (Exception e) when (e is CairnException or ArgumentException or FormatException)
                {
                    // A request whose answer cannot be profiled (an output missing) is skipped, never fatal to monitoring.
                    Interlocked.Increment(ref _dropped);
                }
            }
        }
    }

    private void Apply(Observation observation)
    {
        if (observation.Prediction is not { } prediction)
        {
            Builder(observation.Deployment!, observation.Version!, time.GetUtcNow())?.Fail(observation.Version!, observation.Failures);
            return;
        }

        if (Builder(prediction.Deployment, prediction.Version, prediction.At) is not { } builder)
        {
            return;
        }

        var task = prediction.Version.Package!.Signature.Task;
        var (labels, scores) = MonitoredColumns.Outputs(task, prediction.Outputs);
        builder.Observe(prediction.Version, prediction.Role, prediction.Inputs, labels, scores, prediction.Latency);
        var rate = _monitors.TryGetValue(prediction.Deployment, out var spec) ? spec.SampleRate : 1.0;
        if (rate > 0)
        {
            Log(prediction, task == TaskKind.Regression ? null : labels, scores, rate);
        }
    }

    private LiveWindowBuilder? Builder(string deployment, ModelVersion version, DateTimeOffset at)
    {
        if (version.Package?.Signature is not { } signature)
        {
            return null;
        }

        var window = MonitorSpec.WindowOf(at, WindowOf(deployment));
        if (!_windows.TryGetValue((deployment, window.Start), out var builder))
        {
            builder = new LiveWindowBuilder(deployment, window.Start, window.End, MonitoredColumns.Schema(signature),
                _monitors.GetValueOrDefault(deployment)?.Segment);
            _windows[(deployment, window.Start)] = builder;
        }

        return builder;
    }

    private TimeSpan WindowOf(string deployment) => _monitors.TryGetValue(deployment, out var spec) ? spec.Window : options.DefaultWindow;

    // Rows are sampled by a hash of their id, so every replica (and a re-sent request) makes the same choice.
    private void Log(PredictionRecord prediction, string?[]? labels, float[] score, double rate)
    {
        if (!_log.TryGetValue(prediction.Deployment, out var batch))
        {
            batch = _log[prediction.Deployment] = new PredictionLogBatch(prediction.Deployment);
        }

        for (var row = 0; row < prediction.Inputs.RowCount; row++)
        {
            var id = prediction.Inputs.RowCount == 1 ? prediction.Id : string.Create(CultureInfo.InvariantCulture, $"{prediction.Id}/{row}");
            if (rate < 1 && XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(id)) % 1_000_000 >= rate * 1_000_000)
            {
                continue;
            }

            if (_pendingLog >= MaxPendingLog)
            {
                // The store has fallen behind for a long while: memory stays bounded, and the loss is counted.
                Interlocked.Increment(ref _dropped);
                continue;
            }

            var value = score.Length > row ? score[row] : float.NaN;
            var writer = batch.BeginRow(new PredictionLogRow(id, prediction.Role, prediction.At, prediction.Version.Model, prediction.Version.Version,
                labels?[row] ?? value.ToString("R", CultureInfo.InvariantCulture), value));
            writer.WriteStartObject();
            foreach (var column in prediction.Inputs.Columns)
            {
                switch (column)
                {
                    case NumericColumn { Values: var values } when !float.IsNaN(values[row]):
                        writer.WriteNumber(column.Name, values[row]);
                        break;
                    case StringColumn { Values: var values } when values[row] is { } text:
                        writer.WriteString(column.Name, text);
                        break;
                    default:
                        writer.WriteNull(column.Name);
                        break;
                }
            }

            writer.WriteEndObject();
            batch.EndRow();
            _pendingLog++;
        }
    }

    private static StoredLiveWindow Store(LiveWindow window, string replica, DateTimeOffset now)
    {
        using var compressed = new MemoryStream();
        using (var gzip = new GZipStream(compressed, CompressionLevel.Fastest))
        {
            JsonSerializer.Serialize(gzip, window, CairnJson.Compact.LiveWindow);
        }

        return new StoredLiveWindow(replica, window.Start, window.End, window.Profile.Rows, compressed.ToArray(), now);
    }

    /// <summary>Reads a stored window's content.</summary>
    public static LiveWindow Read(StoredLiveWindow stored)
    {
        ArgumentNullException.ThrowIfNull(stored);
        using var gzip = new GZipStream(new MemoryStream(stored.Content), CompressionMode.Decompress);
        return JsonSerializer.Deserialize(gzip, CairnJson.Compact.LiveWindow)
            ?? throw new CairnException(ErrorCode.Corrupt, $"A stored live window from {stored.Start:u} is empty.");
    }

    private readonly record struct Observation(PredictionRecord? Prediction, string? Deployment, ModelVersion? Version, int Failures);
}
