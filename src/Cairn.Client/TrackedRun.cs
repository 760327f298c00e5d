using System.Net.Http.Json;

namespace Cairn.Client;

/// <summary>
/// A run being logged to. Metrics are buffered and sent in batches in the background; params and tags are sent at
/// once. <see cref="FlushAsync"/> returns when everything logged before it is stored; disposing flushes and ends the run.
/// </summary>
public sealed class TrackedRun : IAsyncDisposable
{
    private readonly CairnClient _client;
    private readonly Lock _bufferLock = new();
    private readonly SemaphoreSlim _sending = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pump;
    private readonly Queue<LogRequest> _unsent = new();
    private List<MetricPoint> _buffer = [];
    private bool _ended;

    internal TrackedRun(CairnClient client, string runId)
    {
        _client = client;
        RunId = runId;
        _pump = PumpAsync();
    }

    /// <summary>The run's id.</summary>
    public string RunId { get; }

    /// <summary>Buffers one metric point; it reaches the server with the next background flush.</summary>
    public void LogMetric(string key, double value, long step = 0)
    {
        ArgumentException.ThrowIfNullOrEmpty(key);
        var point = new MetricPoint(key, value, step, _client.Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        lock (_bufferLock)
        {
            _buffer.Add(point);
        }
    }

    /// <summary>Logs params at once; a param cannot later change value.</summary>
    public Task LogParamsAsync(IReadOnlyDictionary<string, string> parameters, CancellationToken cancellationToken = default) =>
        SendBatchAsync(new LogRequest(null, parameters.ToDictionary(), null, NewBatchId()), cancellationToken);

    /// <summary>Logs one param at once.</summary>
    public Task LogParamAsync(string key, string value, CancellationToken cancellationToken = default) =>
        LogParamsAsync(new Dictionary<string, string> { [key] = value }, cancellationToken);

    /// <summary>Sets a tag at once (tags may be overwritten).</summary>
    public Task SetTagAsync(string key, string value, CancellationToken cancellationToken = default) =>
        SendBatchAsync(new LogRequest(null, null, new Dictionary<string, string> { [key] = value }, NewBatchId()), cancellationToken);

    /// <summary>
    /// Uploads a local file as the run's artifact at <paramref name="artifactPath"/> (such as <c>plots/roc.png</c>),
    /// streaming it; an upload that fails in transit is retried from the start of the file.
    /// </summary>
    public async Task LogArtifactAsync(string artifactPath, string localFile, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(artifactPath);
        ArgumentException.ThrowIfNullOrEmpty(localFile);
        var escaped = string.Join('/', artifactPath.Split('/').Select(Uri.EscapeDataString));
        using var response = await _client.SendAsync(HttpMethod.Put, $"api/runs/{RunId}/artifacts/{escaped}",
            () => new StreamContent(File.OpenRead(localFile)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends every buffered metric; when it returns, all of them are stored. On failure they stay buffered.</summary>
    public async Task FlushAsync(CancellationToken cancellationToken = default)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Batches get their id once: a batch that may have reached the server is retried under the same id, never a new one.
            List<MetricPoint> fresh;
            lock (_bufferLock)
            {
                fresh = _buffer;
                _buffer = [];
            }

            var size = _client.Options.MaxBatchSize;
            for (var start = 0; start < fresh.Count; start += size)
            {
                _unsent.Enqueue(new LogRequest(fresh.GetRange(start, Math.Min(size, fresh.Count - start)), null, null, NewBatchId()));
            }

            while (_unsent.TryPeek(out var batch))
            {
                await SendBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                _unsent.Dequeue();
            }
        }
        finally
        {
            _sending.Release();
        }
    }

    /// <summary>Flushes and ends the run with a status: finished, failed or killed.</summary>
    public async Task EndAsync(string status = "finished", CancellationToken cancellationToken = default)
    {
        await StopPumpAsync().ConfigureAwait(false);
        await FlushAsync(cancellationToken).ConfigureAwait(false);
        var body = new UpdateRunRequest(status, _client.Options.TimeProvider.GetUtcNow().ToUnixTimeMilliseconds());
        using var response = await _client.SendAsync(HttpMethod.Patch, $"api/runs/{RunId}", JsonContent.Create(body, ClientJson.Default.UpdateRunRequest),
            cancellationToken).ConfigureAwait(false);
        _ended = true;
    }

    /// <summary>Flushes and, unless <see cref="EndAsync"/> was called, ends the run as finished.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_ended)
        {
            await EndAsync().ConfigureAwait(false);
        }

        await StopPumpAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _sending.Dispose();
    }

    private static string NewBatchId() => Guid.NewGuid().ToString("N");

    private async Task SendBatchAsync(LogRequest request, CancellationToken cancellationToken)
    {
        using var response = await _client.SendAsync(HttpMethod.Post, $"api/runs/{RunId}/log", JsonContent.Create(request, ClientJson.Default.LogRequest),
            cancellationToken).ConfigureAwait(false);
    }

    private async Task PumpAsync()
    {
        using var timer = new PeriodicTimer(_client.Options.FlushInterval, _client.Options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token).ConfigureAwait(false))
            {
                try
                {
                    await FlushAsync(_stopping.Token).ConfigureAwait(false);
                }
                catch (CairnClientException)
                {
                    // The points stay buffered; the next tick, FlushAsync or EndAsync tries again and reports a lasting failure.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task StopPumpAsync()
    {
        if (!_stopping.IsCancellationRequested)
        {
            await _stopping.CancelAsync().ConfigureAwait(false);
        }

        await _pump.ConfigureAwait(false);
    }
}
