using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;

namespace Cairn.Core.Runs;

/// <summary>A dataset version a run read, with the files it was made of (one, or a folder's) and their hashes.</summary>
public sealed record LineageData(RunInput Input, DatasetVersion? Version, IReadOnlyList<ManifestEntry> Files);

/// <summary>
/// Where one logged prediction came from, back to the files its model was trained on: the deployment and version that
/// answered, its inputs and outputs, the label if feedback arrived, the run that trained the version, that run's data
/// (dataset versions and file hashes) and code (git commit, branch, uncommitted changes).
/// </summary>
public sealed record PredictionLineage(LoggedPrediction Prediction, ModelVersion Version, Run? Run, IReadOnlyList<LineageData> Data,
    IReadOnlyDictionary<string, string> Code);

/// <summary>What a lineage node is, in the order lineage flows: files make dataset versions, runs read them (at a commit) and make model versions, deployments serve those and answer predictions.</summary>
public enum LineageKind
{
    /// <summary>A file, by content hash.</summary>
    File,

    /// <summary>A dataset version (<c>name@version</c>).</summary>
    Dataset,

    /// <summary>A git commit a run's code was at.</summary>
    Code,

    /// <summary>A run.</summary>
    Run,

    /// <summary>A model version (<c>name/version</c>).</summary>
    Model,

    /// <summary>A deployment.</summary>
    Deployment,

    /// <summary>A logged prediction.</summary>
    Prediction,
}

/// <summary>One thing in a lineage graph.</summary>
/// <param name="Kind">What it is.</param>
/// <param name="Id">Its id within its kind: a content hash, <c>name@version</c>, a commit, a run id, <c>name/version</c>, a deployment name, a prediction id.</param>
/// <param name="Label">How to show it.</param>
public sealed record LineageNode(LineageKind Kind, string Id, string Label)
{
    /// <summary>The node's key in its graph, such as <c>dataset:adult@2</c>.</summary>
    public string Key => $"{Kind.ToString().ToLowerInvariant()}:{Id}";

    /// <summary>Parses a key such as <c>run:0190…</c>, <c>dataset:adult@2</c> or <c>model:adult/3</c>.</summary>
    public static (LineageKind Kind, string Id) ParseKey(string? key)
    {
        var colon = key?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        return colon > 0 && Enum.TryParse<LineageKind>(key![..colon], ignoreCase: true, out var kind) && !int.TryParse(key[..colon], out _) && colon < key.Length - 1
            ? (kind, key[(colon + 1)..])
            : throw CairnException.Invalid($"'{key}' is not a lineage node; use KIND:ID with KIND one of {string.Join(", ", Enum.GetNames<LineageKind>().Select(n => n.ToLowerInvariant()))} (such as dataset:adult@2 or model:adult/3).");
    }
}

/// <summary>An edge of a lineage graph, from the node that came first to the one made from it (by their keys).</summary>
public sealed record LineageEdge(string From, string To);

/// <summary>Everything a node came from and everything made from it, as far as the stores know.</summary>
/// <param name="Root">The node the graph was asked for.</param>
/// <param name="Nodes">Every node, the root first.</param>
/// <param name="Edges">Every edge, upstream to downstream.</param>
/// <param name="Truncated">Whether the graph stopped at its size limit.</param>
public sealed record LineageGraph(LineageNode Root, IReadOnlyList<LineageNode> Nodes, IReadOnlyList<LineageEdge> Edges, bool Truncated);
