using System.Collections.Concurrent;
using Cairn.Core.Models;

namespace Cairn.Application.Serving;

/// <summary>
/// What this server has answered per deployment and version since it started — requests, rows, failures, refusals,
/// and the latency and size of its recent model calls — for the UI's live deployment page. Counting is a few
/// interlocked adds per model call; percentiles are read from a ring of the last calls only when asked.
/// </summary>
public sealed class ServingStatistics : IServingObserver
{
    private readonly ConcurrentDictionary<(string Deployment, int Version), VersionStatistics> _versions = new();

    /// <summary>The figures of every version a deployment has served here, newest version first.</summary>
    public IReadOnlyList<VersionStatistics> Of(string deployment) =>
        [.. _versions.Where(v => v.Key.Deployment == deployment).Select(v => v.Value).OrderByDescending(v => v.Version)];

    /// <inheritdoc />
    public void Scored(string? deployment, ModelVersion version, int requests, int rows, TimeSpan took)
    {
        if (deployment is not null)
        {
            For(deployment, version).Scored(requests, rows, took);
        }
    }

    /// <inheritdoc />
    public void Failed(string? deployment, ModelVersion version, int requests)
    {
        if (deployment is not null)
        {
            Interlocked.Add(ref For(deployment, version).FailedCount, requests);
        }
    }

    /// <inheritdoc />
    public void Rejected(string? deployment, ModelVersion version, string reason)
    {
        if (deployment is not null)
        {
            Interlocked.Increment(ref For(deployment, version).RejectedCount);
        }
    }

    /// <inheritdoc />
    public void Shadowed(string deployment, ModelVersion shadow, int agreed, int rows)
    {
        var statistics = For(deployment, shadow);
        Interlocked.Add(ref statistics.ShadowAgreed, agreed);
        Interlocked.Add(ref statistics.ShadowRows, rows);
    }

    private VersionStatistics For(string deployment, ModelVersion version) =>
        _versions.GetOrAdd((deployment, version.Version), static key => new VersionStatistics(key.Deployment, key.Version));
}

/// <summary>One deployment version's figures on this server.</summary>
public sealed class VersionStatistics(string deployment, int version)
{
    private const int Ring = 1024;
    private readonly double[] _latencyMs = new double[Ring];
    private readonly int[] _batchRows = new int[Ring];
    private long _calls;
    internal long RequestCount;
    internal long RowCount;
    internal long FailedCount;
    internal long RejectedCount;
    internal long ShadowAgreed;
    internal long ShadowRows;

    /// <summary>The deployment.</summary>
    public string Deployment => deployment;

    /// <summary>The model version.</summary>
    public int Version => version;

    /// <summary>Requests answered.</summary>
    public long Requests => Interlocked.Read(ref RequestCount);

    /// <summary>Rows scored.</summary>
    public long Rows => Interlocked.Read(ref RowCount);

    /// <summary>Requests whose model call failed.</summary>
    public long Failures => Interlocked.Read(ref FailedCount);

    /// <summary>Requests turned away (queue full) or timed out.</summary>
    public long Rejections => Interlocked.Read(ref RejectedCount);

    /// <summary>The share of rows on which a shadow agreed with the answer returned; null when it shadowed nothing.</summary>
    public double? ShadowAgreement => Interlocked.Read(ref ShadowRows) is > 0 and var rows ? (double)Interlocked.Read(ref ShadowAgreed) / rows : null;

    /// <summary>Model calls made.</summary>
    public long Calls => Interlocked.Read(ref _calls);

    /// <summary>Percentiles (0–1) of the time in the model over the recent calls, in milliseconds; empty before the first call.</summary>
    public IReadOnlyList<double> LatencyPercentiles(params double[] quantiles) => Percentiles(_latencyMs, quantiles);

    /// <summary>The mean rows per model call over the recent calls.</summary>
    public double MeanBatchRows
    {
        get
        {
            var count = (int)Math.Min(Calls, Ring);
            return count == 0 ? 0 : _batchRows.AsSpan(0, count).ToArray().Average();
        }
    }

    internal void Scored(int requests, int rows, TimeSpan took)
    {
        Interlocked.Add(ref RequestCount, requests);
        Interlocked.Add(ref RowCount, rows);
        // A slot in the ring per call; a reader may see a slot mid-write, which moves a percentile by one sample at most.
        var slot = (int)((Interlocked.Increment(ref _calls) - 1) % Ring);
        _latencyMs[slot] = took.TotalMilliseconds;
        _batchRows[slot] = rows;
    }

    private IReadOnlyList<double> Percentiles(double[] ring, double[] quantiles)
    {
        var count = (int)Math.Min(Calls, Ring);
        if (count == 0)
        {
            return [];
        }

        var sorted = ring.AsSpan(0, count).ToArray();
        Array.Sort(sorted);
        return [.. quantiles.Select(q => sorted[Math.Min(count - 1, (int)Math.Ceiling(q * count) - 1 < 0 ? 0 : (int)Math.Ceiling(q * count) - 1)])];
    }
}
