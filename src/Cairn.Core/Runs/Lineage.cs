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
