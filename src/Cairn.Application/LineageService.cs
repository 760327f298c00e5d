using Cairn.Core;
using Cairn.Core.Data;
using Cairn.Core.Identity;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>Follows lineage across the stores: from a prediction to the model, the run, the data and the code.</summary>
public sealed class LineageService(IMonitoringStore monitoring, DeploymentService deployments, ModelRegistry registry, RunService runs,
    DatasetService datasets, Actor actor, TimeProvider time)
{
    /// <summary>The most nodes one graph holds; past it the graph says it was cut short.</summary>
    public const int MaxGraphNodes = 200;

    // How many of a deployment's latest predictions its graph shows: they are examples, each traced on its own page.
    private const int PredictionSample = 5;

    /// <summary>The lineage of the prediction <paramref name="id"/> (as its response's prediction id header named it).</summary>
    public async Task<PredictionLineage> OfPredictionAsync(string? id, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Length > 64)
        {
            throw CairnException.Invalid($"'{id}' is not a prediction id (the Cairn-Prediction-Id header a scoring response carries).");
        }

        var prediction = await FindPredictionAsync(id, cancellationToken).ConfigureAwait(false)
            ?? throw CairnException.NotFound($"No logged prediction has the id '{id}' (predictions are logged while a deployment has monitoring on, and kept for its retention).");
        var version = await registry.GetVersionAsync(prediction.Model, prediction.Version, cancellationToken).ConfigureAwait(false);
        var run = version.RunId is { } runId ? await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false) : null;
        var data = new List<LineageData>();
        foreach (var input in run?.Inputs ?? [])
        {
            var dataset = input.Version is { } number ? await datasets.GetAsync(new DatasetRef(input.Dataset, number), cancellationToken).ConfigureAwait(false) : null;
            data.Add(new LineageData(input, dataset, dataset is null ? [] : FilesOf(dataset)));
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

    /// <summary>
    /// The lineage graph around the node <paramref name="key"/> (such as <c>dataset:adult@2</c>): everything it came
    /// from and everything made from it — not its siblings, so a dataset's graph holds its files and the runs, models,
    /// deployments and predictions downstream of it. Nodes the caller may not read are left out.
    /// </summary>
    public async Task<LineageGraph> GraphAsync(string? key, CancellationToken cancellationToken)
    {
        var (kind, id) = LineageNode.ParseKey(key);
        var root = await NodeAsync(kind, id, cancellationToken).ConfigureAwait(false);
        var nodes = new Dictionary<string, LineageNode>(StringComparer.Ordinal) { [root.Key] = root };
        var edges = new HashSet<LineageEdge>();
        var truncated = false;
        foreach (var upstream in new[] { true, false })
        {
            var queue = new Queue<LineageNode>([root]);
            while (queue.TryDequeue(out var node))
            {
                foreach (var (next, expand) in await NeighboursAsync(node, upstream, cancellationToken).ConfigureAwait(false))
                {
                    if (!nodes.ContainsKey(next.Key))
                    {
                        if (nodes.Count >= MaxGraphNodes)
                        {
                            truncated = true;
                            continue;
                        }

                        nodes[next.Key] = next;
                        if (expand)
                        {
                            queue.Enqueue(next);
                        }
                    }

                    edges.Add(upstream ? new LineageEdge(next.Key, node.Key) : new LineageEdge(node.Key, next.Key));
                }
            }
        }

        return new LineageGraph(root, [.. nodes.Values], [.. edges], truncated);
    }

    private async Task<LineageNode> NodeAsync(LineageKind kind, string id, CancellationToken cancellationToken)
    {
        switch (kind)
        {
            case LineageKind.File:
                return ContentHash.TryParse(id, out var hash) ? FileNode(hash, null)
                    : throw CairnException.Invalid($"'{id}' is not a file's content hash (64 hex characters).");
            case LineageKind.Dataset:
                return DatasetNode(await datasets.GetAsync(DatasetRef.Parse(id), cancellationToken).ConfigureAwait(false));
            case LineageKind.Code:
                return IsCommit(id) ? CodeNode(id) : throw CairnException.Invalid($"'{id}' is not a git commit (7 to 40 hex characters).");
            case LineageKind.Run:
                return RunNode(await runs.GetAsync(await runs.ResolveIdAsync(id, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false));
            case LineageKind.Model:
                var slash = id.LastIndexOf('/');
                return slash > 0 && int.TryParse(id.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture, out var number)
                    ? ModelNode(await registry.GetVersionAsync(id[..slash], number, cancellationToken).ConfigureAwait(false))
                    : throw CairnException.Invalid($"'{id}' is not a model version; write it as NAME/VERSION, such as adult/3.");
            case LineageKind.Deployment:
                return DeploymentNode((await deployments.GetAsync(id, cancellationToken).ConfigureAwait(false)).Name);
            default:
                return PredictionNode(await FindPredictionAsync(id, cancellationToken).ConfigureAwait(false)
                    ?? throw CairnException.NotFound($"No logged prediction has the id '{id}'."));
        }
    }

    // One step up or down from a node; "expand" is false for a node shown for context that the walk must not follow
    // (a prediction's deployment: what it serves now is not what answered then).
    private async Task<List<(LineageNode Node, bool Expand)>> NeighboursAsync(LineageNode node, bool upstream, CancellationToken cancellationToken)
    {
        var found = new List<(LineageNode, bool)>();
        try
        {
            switch (node.Kind, upstream)
            {
                case (LineageKind.File, false):
                    foreach (var summary in (await datasets.ListAsync(cancellationToken).ConfigureAwait(false)).Take(MaxGraphNodes))
                    {
                        foreach (var version in await datasets.ListVersionsAsync(summary.Name, cancellationToken).ConfigureAwait(false))
                        {
                            if (FilesOf(version).Any(f => f.ContentHash.Hex == node.Id))
                            {
                                found.Add((DatasetNode(version), true));
                            }
                        }
                    }

                    break;
                case (LineageKind.Dataset, true):
                    var dataset = await datasets.GetAsync(DatasetRef.Parse(node.Id), cancellationToken).ConfigureAwait(false);
                    found.AddRange(FilesOf(dataset).Take(MaxGraphNodes).Select(f => (FileNode(f.ContentHash, f.Path), true)));
                    break;
                case (LineageKind.Dataset, false):
                    var reference = DatasetRef.Parse(node.Id);
                    var readers = await runs.SearchEveryExperimentAsync($"datasets.name = '{Names.Validate(reference.Name, "dataset")}'", MaxGraphNodes, cancellationToken)
                        .ConfigureAwait(false);
                    found.AddRange(readers.Where(r => r.Inputs.Any(i => i.Dataset == reference.Name && i.Version == reference.Version)).Select(r => (RunNode(r), true)));
                    break;
                case (LineageKind.Code, false):
                    found.AddRange((await runs.SearchEveryExperimentAsync($"tags.`{SourceControl.CommitTag}` = '{node.Id}'", MaxGraphNodes, cancellationToken)
                        .ConfigureAwait(false)).Select(r => (RunNode(r), true)));
                    break;
                case (LineageKind.Run, true):
                    var run = await runs.GetAsync(node.Id, cancellationToken).ConfigureAwait(false);
                    foreach (var input in run.Inputs.Where(i => i.Version is not null))
                    {
                        found.Add((DatasetNode(await datasets.GetAsync(new DatasetRef(input.Dataset, input.Version), cancellationToken).ConfigureAwait(false)), true));
                    }

                    if ((await CodeOfAsync(run, cancellationToken).ConfigureAwait(false)).TryGetValue(SourceControl.CommitTag, out var commit) && IsCommit(commit))
                    {
                        found.Add((CodeNode(commit), true));
                    }

                    break;
                case (LineageKind.Run, false):
                    var (versions, _) = await registry.SearchVersionsAsync($"run_id = '{node.Id}'", null, MaxGraphNodes, null, cancellationToken).ConfigureAwait(false);
                    found.AddRange(versions.Select(v => (ModelNode(v), true)));
                    break;
                case (LineageKind.Model, true):
                    var trained = await VersionOfAsync(node.Id, cancellationToken).ConfigureAwait(false);
                    if (trained.RunId is { } runId)
                    {
                        found.Add((RunNode(await runs.GetAsync(runId, cancellationToken).ConfigureAwait(false)), true));
                    }

                    break;
                case (LineageKind.Model, false):
                    var served = await VersionOfAsync(node.Id, cancellationToken).ConfigureAwait(false);
                    foreach (var deployment in await deployments.ListAsync(cancellationToken).ConfigureAwait(false))
                    {
                        if ((await deployments.ResolveAsync(deployment.Spec, cancellationToken).ConfigureAwait(false)).Any(v => v.Model == served.Model && v.Version == served.Version))
                        {
                            found.Add((DeploymentNode(deployment.Name), true));
                        }
                    }

                    break;
                case (LineageKind.Deployment, true):
                    var serving = await deployments.GetAsync(node.Id, cancellationToken).ConfigureAwait(false);
                    found.AddRange((await deployments.ResolveAsync(serving.Spec, cancellationToken).ConfigureAwait(false)).Select(v => (ModelNode(v), true)));
                    break;
                case (LineageKind.Deployment, false):
                    actor.Demand(ResourceRef.Deployment(node.Id), Role.Viewer, "read predictions");
                    var now = time.GetUtcNow();
                    var latest = await monitoring.ListPredictionsAsync(node.Id, now.AddDays(-1), now, labeledOnly: false, 1000, cancellationToken).ConfigureAwait(false);
                    found.AddRange(latest.Where(p => p.Role != "shadow").TakeLast(PredictionSample).Select(p => (PredictionNode(p), true)));
                    break;
                case (LineageKind.Prediction, true):
                    var prediction = await FindPredictionAsync(node.Id, cancellationToken).ConfigureAwait(false);
                    if (prediction is not null)
                    {
                        found.Add((ModelNode(await registry.GetVersionAsync(prediction.Model, prediction.Version, cancellationToken).ConfigureAwait(false)), true));
                        found.Add((DeploymentNode(prediction.Deployment), false));
                    }

                    break;
            }
        }
        catch (CairnException e) when (e.Code is ErrorCode.NotFound or ErrorCode.PermissionDenied)
        {
            // What the caller may not read, or what was deleted since it was recorded, is left out of the graph.
        }

        return found;
    }

    private async Task<ModelVersion> VersionOfAsync(string id, CancellationToken cancellationToken)
    {
        var slash = id.LastIndexOf('/');
        return await registry.GetVersionAsync(id[..slash], int.Parse(id.AsSpan(slash + 1), System.Globalization.CultureInfo.InvariantCulture), cancellationToken)
            .ConfigureAwait(false);
    }

    // Predictions are logged per deployment; only those the caller may read are searched.
    private async Task<LoggedPrediction?> FindPredictionAsync(string id, CancellationToken cancellationToken)
    {
        foreach (var deployment in await deployments.ListAsync(cancellationToken).ConfigureAwait(false))
        {
            if (!actor.Holds(ResourceRef.Deployment(deployment.Name), Role.Viewer))
            {
                continue;
            }

            // A request of several rows logs each as ID/ROW; its bare id names the first.
            var prediction = (await monitoring.FindPredictionsAsync(deployment.Name, [id, $"{id}/0"], cancellationToken).ConfigureAwait(false))
                .Where(p => p.Role != "shadow").OrderBy(p => p.Id.Length).FirstOrDefault();
            if (prediction is not null)
            {
                return prediction;
            }
        }

        return null;
    }

    // A dataset version's files: a folder's manifest, or the one file it was made from.
    private IReadOnlyList<ManifestEntry> FilesOf(DatasetVersion version) => version.Format == DatasetFormat.Folder
        ? datasets.ReadManifest(version).Files
        : [new ManifestEntry(version.Source, version.SizeBytes, version.ContentHash)];

    private static bool IsCommit(string text) => text.Length is >= 7 and <= 40 && text.All(char.IsAsciiHexDigit);

    private static LineageNode FileNode(ContentHash hash, string? path) =>
        new(LineageKind.File, hash.Hex, $"{(path is null ? "file" : Path.GetFileName(path))} {hash.Hex[..8]}");

    private static LineageNode DatasetNode(DatasetVersion version) => new(LineageKind.Dataset, version.Reference, version.Reference);

    private static LineageNode CodeNode(string commit) => new(LineageKind.Code, commit, $"commit {commit[..7]}");

    // Runs of one spec share a name; the start of the id (its creation time) tells them apart.
    private static LineageNode RunNode(Run run) => new(LineageKind.Run, run.Id, $"{run.Name} {run.Id[..Math.Min(12, run.Id.Length)]}");

    private static LineageNode ModelNode(ModelVersion version) => new(LineageKind.Model, $"{version.Model}/{version.Version}",
        $"{version.Model} v{version.Version}{(version.Aliases.Count > 0 ? " @" + string.Join(" @", version.Aliases) : "")}");

    private static LineageNode DeploymentNode(string name) => new(LineageKind.Deployment, name, $"deployment {name}");

    private static LineageNode PredictionNode(LoggedPrediction prediction) => new(LineageKind.Prediction, prediction.Id, $"{prediction.Predicted} ({ShortPrediction(prediction.Id)})");

    // A prediction id is a request id (32 hex characters), then /ROW for a row of a multi-row request.
    private static string ShortPrediction(string id)
    {
        var slash = id.IndexOf('/', StringComparison.Ordinal);
        var (request, row) = slash < 0 ? (id, "") : (id[..slash], id[slash..]);
        return (request.Length > 12 ? request[..12] + "…" : request) + row;
    }
}
