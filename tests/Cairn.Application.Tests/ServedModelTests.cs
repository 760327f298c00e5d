using System.Collections.Concurrent;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Microsoft.Extensions.Time.Testing;

namespace Cairn.Application.Tests;

/// <summary>A served model's queue: batching, batch delays and deadlines, driven by a fake clock.</summary>
public sealed class ServedModelTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 6, 9, 0, 0, TimeSpan.Zero));
    private readonly CountingObserver _observer = new();
    private readonly ScriptedRuntime _runtime = new();

    [Fact]
    public async Task ABatchDelay_HoldsTheFirstRequestUntilTheClockPassesIt_ThenScoresWhatArrivedTogether()
    {
        await using var model = Serve(new BatchingOptions { MaxBatchRows = 100, MaxDelay = TimeSpan.FromMilliseconds(50) });

        var first = model.PredictAsync(Rows(1), CancellationToken.None);
        var second = model.PredictAsync(Rows(2), CancellationToken.None);
        await Task.Delay(200);
        Assert.False(first.IsCompleted, "the batch was scored before its delay passed");

        _time.Advance(TimeSpan.FromMilliseconds(50));
        await Task.WhenAll(first, second).WaitAsync(Patience);

        Assert.Equal([3], _runtime.Batches);
        var (one, two) = (Values(await first), Values(await second));
        Assert.Equal([0f], one);
        Assert.Equal([0f, 1f], two);
    }

    [Fact]
    public async Task ABatchDelay_EndsAtOnce_WhenTheNextRequestDoesNotFit()
    {
        await using var model = Serve(new BatchingOptions { MaxBatchRows = 4, MaxDelay = TimeSpan.FromHours(1) });

        var first = model.PredictAsync(Rows(3), CancellationToken.None);
        await Task.Delay(100);
        var second = model.PredictAsync(Rows(2), CancellationToken.None);

        // The clock never moves: the first batch closes because the second request would overflow it.
        await first.WaitAsync(Patience);
        Assert.Equal(3, _runtime.Batches.First());
        Assert.False(second.IsCompleted, "the second request should wait for its own batch delay");
        _time.Advance(TimeSpan.FromHours(1));
        var answer = Values(await second.WaitAsync(Patience));
        Assert.Equal([0f, 1f], answer);
        Assert.Equal([3, 2], _runtime.Batches);
    }

    [Fact]
    public async Task ABatchDelay_EndsAtOnce_WhenTheBatchIsFull()
    {
        await using var model = Serve(new BatchingOptions { MaxBatchRows = 4, MaxDelay = TimeSpan.FromHours(1) });

        var first = model.PredictAsync(Rows(1), CancellationToken.None);
        await Task.Delay(100);
        var second = model.PredictAsync(Rows(3), CancellationToken.None);

        await Task.WhenAll(first, second).WaitAsync(Patience);
        Assert.Equal([4], _runtime.Batches);
    }

    [Fact]
    public async Task ARequestQueuedPastItsTimeout_IsFailedUnscored_AndCountedAsRejected()
    {
        await using var model = Serve(new BatchingOptions(), new ServingLimits { Timeout = TimeSpan.FromSeconds(2) });
        var busy = await HoldEverySlotAsync(model);
        var queued = model.PredictAsync(Rows(1), CancellationToken.None);
        Assert.Equal(1, model.QueueDepth);

        _time.Advance(TimeSpan.FromSeconds(3));
        _runtime.Gate.Set();

        var error = await Assert.ThrowsAsync<CairnException>(() => queued.WaitAsync(Patience));
        Assert.Equal(ErrorCode.Unavailable, error.Code);
        Assert.Contains("within 2 s", error.Message, StringComparison.Ordinal);
        await Task.WhenAll(busy).WaitAsync(Patience);
        Assert.Equal(Environment.ProcessorCount, _runtime.Batches.Count);
        Assert.Equal(["timeout"], _observer.Rejections);
    }

    [Fact]
    public async Task ARequestQueuedWithinItsTimeout_IsScored()
    {
        await using var model = Serve(new BatchingOptions(), new ServingLimits { Timeout = TimeSpan.FromSeconds(2) });
        await HoldEverySlotAsync(model);
        var queued = model.PredictAsync(Rows(1), CancellationToken.None);

        _time.Advance(TimeSpan.FromSeconds(1));
        _runtime.Gate.Set();

        var answer = Values(await queued.WaitAsync(Patience));
        Assert.Equal([0f], answer);
        Assert.Empty(_observer.Rejections);
    }

    private ServedModel Serve(BatchingOptions batching, ServingLimits? limits = null) =>
        new(null, new ModelVersion("m", 1, "test", null, null, _time.GetUtcNow(), []), _runtime, batching, limits ?? new ServingLimits(), _observer, _time);

    // Every scoring slot taken by a request the model holds on to (its gate closed), so the next one waits in the queue.
    private async Task<List<Task<IReadOnlyList<OutputTensor>>>> HoldEverySlotAsync(ServedModel model)
    {
        _runtime.Gate.Reset();
        var busy = Enumerable.Range(0, Environment.ProcessorCount).Select(_ => Task.Run(() => model.PredictAsync(Rows(1), CancellationToken.None))).ToList();
        await WaitUntilAsync(() => _runtime.Entered == Environment.ProcessorCount);
        return busy;
    }

    private static Table Rows(int count) => new([new NumericColumn("x", [.. Enumerable.Range(0, count).Select(i => (float)i)])], count);

    private static float[] Values(IReadOnlyList<OutputTensor> outputs) => outputs.Single().Floats!;

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var waited = 0; !condition(); waited += 10)
        {
            Assert.True(waited < Patience.TotalMilliseconds, "timed out waiting");
            await Task.Delay(10);
        }
    }

    // Answers each row with its x; records every batch's size; holds calls while its gate is closed.
    private sealed class ScriptedRuntime : IModelRuntime
    {
        private int _entered;

        public ManualResetEventSlim Gate { get; } = new(initialState: true);

        public ConcurrentQueue<int> Batches { get; } = new();

        public int Entered => Volatile.Read(ref _entered);

        public ModelSignature Signature { get; } = new(TaskKind.Regression, "y", null, [new SignatureInput("x", ColumnType.Numeric)],
            [new SignatureOutput("value", TensorType.Fp32)]);

        public string Engine => "scripted";

        public IReadOnlyList<OutputTensor> Predict(Table inputs)
        {
            Interlocked.Increment(ref _entered);
            Gate.Wait(Patience);
            Batches.Enqueue(inputs.RowCount);
            var x = ((NumericColumn)inputs["x"]).Values;
            return [new OutputTensor("value", TensorType.Fp32, inputs.RowCount, 1, [.. x], null)];
        }

        public void Dispose() => Gate.Dispose();
    }

    private sealed class CountingObserver : IServingObserver
    {
        public ConcurrentQueue<string> Rejections { get; } = new();

        public void Rejected(string? deployment, ModelVersion version, string reason) => Rejections.Enqueue(reason);
    }
}
