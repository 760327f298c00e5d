using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>A run's files: stored by content, recorded at a path, listed as a tree, read back verified.</summary>
public sealed class RunArtifacts(ITrackingStore store, IArtifactStore artifacts, RunService runs, Actor actor)
{
    /// <summary>Stores <paramref name="content"/> and records it at <paramref name="path"/> of the run, replacing what was there.</summary>
    public async Task<RunArtifact> LogAsync(string? runId, string? path, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArtifactPaths.Validate(path);
        var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        if (run.Lifecycle == LifecycleStage.Deleted)
        {
            throw CairnException.Invalid($"Run {run.Id} is deleted; restore it before logging artifacts to it.");
        }

        actor.Demand(ResourceRef.Experiment(run.ExperimentId), Role.Editor, "log artifacts");

        // The blob is complete and verified before the path points at it, so a failed upload leaves the run unchanged.
        var stored = await artifacts.PutAsync(content, cancellationToken).ConfigureAwait(false);
        var artifact = new RunArtifact(path!, stored.ContentHash, stored.SizeBytes);
        await store.SetRunArtifactAsync(run.Id, artifact, actor.Name, cancellationToken).ConfigureAwait(false);
        return artifact;
    }

    /// <summary>The entries directly under a directory of the run's artifacts (the root when null or empty).</summary>
    public async Task<IReadOnlyList<ArtifactEntry>> ListAsync(string? runId, string? directory, CancellationToken cancellationToken)
    {
        var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        return ArtifactPaths.List(run.Artifacts, directory);
    }

    /// <summary>Opens the file at a path of the run; reading it to the end verifies its content.</summary>
    public async Task<(RunArtifact Artifact, Stream Content)> OpenAsync(string? runId, string? path, CancellationToken cancellationToken)
    {
        ArtifactPaths.Validate(path);
        var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        var artifact = run.Artifact(path!) ?? throw CairnException.NotFound($"Run {run.Id} has no artifact '{path}'.");
        return (artifact, await artifacts.OpenReadAsync(artifact.ContentHash, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Removes the file at a path, or everything under it; the stored content stays for other runs that share it.</summary>
    public async Task DeleteAsync(string? runId, string? path, CancellationToken cancellationToken)
    {
        ArtifactPaths.Validate(path);
        var run = await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false);
        actor.Demand(ResourceRef.Experiment(run.ExperimentId), Role.Editor, "delete artifacts");
        if (await store.DeleteRunArtifactsAsync(run.Id, path!, actor.Name, cancellationToken).ConfigureAwait(false) == 0)
        {
            throw CairnException.NotFound($"Run {run.Id} has no artifact '{path}'.");
        }
    }
}
