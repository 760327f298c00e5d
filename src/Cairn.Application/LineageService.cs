using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>Follows lineage across the stores: from a prediction to the model, the run, the data and the code.</summary>
public sealed class LineageService(IMonitoringStore monitoring, DeploymentService deployments, ModelRegistry registry, RunService runs,
    DatasetService datasets, Actor actor)
{
    /// <summary>The lineage of the prediction <paramref name="id"/> (as its response's prediction id header named it).</summary>
    public async Task<PredictionLineage> OfPredictionAsync(string? id, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64)
        {
            throw CairnException.Invalid($"'{id}' is not a prediction id (the Cairn-Prediction-Id header a scoring response carries).");
        }

        // Predictions are logged per deployment; only those the caller may read are searched.
        LoggedPrediction? prediction = null;
        foreach (var deployment in await deployments.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!actor.Holds(ResourceRef.Deployment(deployment.Name), Role.Viewer))
            {
                continue;
            }

            // A request of several rows logs each as ID/ROW; its bare id names the first.
            prediction = (await monitoring.FindPredictionsAsync(deployment.Name, [id, $"{id}/0"], cancellationToken).ConfigureAwait(false))
                .Where(p => p.Role != "shadow").OrderBy(p => p.Id.Length).FirstOrDefault();
            if (prediction is not null)
            {
                break;
            }
        }

        if (prediction is null)
        {
            throw CairnException.NotFound($"No logged prediction has the id '{id}' (predictions are logged while a deployment has monitoring on, and kept for its retention).");
        }

        var version = await registry.GetVersionAsync(prediction.Model, prediction.Version, cancellationToken).ConfigureAwait(false);
        var run = version.RunId is { } runId ? await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false) : null;
        var data = new List<LineageData>();
        foreach (var input in run?.Inputs ?? [])
        {
            var dataset = input.Version is { } number ? await datasets.GetAsync(new DatasetRef(input.Dataset, number), cancellationToken).ConfigureAwait(false) : null;
            IReadOnlyList<ManifestEntry> files = dataset is null ? []
                : dataset.Format == DatasetFormat.Folder ? datasets.ReadManifest(dataset).Files
                : [new ManifestEntry(dataset.Source, dataset.SizeBytes, dataset.ContentHash)];
            data.Add(new LineageData(input, dataset, files));
        }

        return new PredictionLineage(prediction, version, run, data, await CodeOfAsync(run, cancellationToken).ConfigureAwait(false));
    }

    // A pipeline's step runs record their code on the pipeline run, so a step without it takes its parent's.
    private async Task<IReadOnlyDictionary<string, string>> CodeOfAsync(Run? run, CancellationToken cancellationToken)
    {
        string[] keys = [SourceControl.CommitTag, SourceControl.BranchTag, SourceControl.DirtyTag, SourceControl.SourceTag];
        for (var current = run; current is not null;)
        {
            var code = keys.Where(current.Tags.ContainsKey).ToDictionary(k => k, k => current.Tags[k]);
            if (code.Count > 0 || current.ParentRunId is null)
            {
                return code;
            }

            current = await runs.GetAsync(current.ParentRunId, cancellationToken).ConfigureAwait(false);
        }

        return new Dictionary<string, string>();
    }
}
