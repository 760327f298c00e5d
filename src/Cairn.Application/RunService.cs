using Cairn.Core;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>Reads runs.</summary>
public sealed class RunService(IMetadataStore store)
{
    /// <summary>A run by id.</summary>
    public async Task<Run> GetAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!Ids.IsRunId(runId))
        {
            throw CairnException.Invalid($"'{runId}' is not a run id (32 lowercase hex characters).");
        }

        return await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"There is no run '{runId}'.");
    }

    /// <summary>The newest runs first.</summary>
    public Task<IReadOnlyList<Run>> ListAsync(int limit, CancellationToken cancellationToken) =>
        limit is > 0 and <= 10_000
            ? store.ListRunsAsync(limit, cancellationToken)
            : throw CairnException.Invalid($"The run limit must be between 1 and 10000, not {limit}.");
}
