using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Application.Serving;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>The outcome of an evaluation: the run that records it and the report.</summary>
public sealed record EvaluationOutcome(Run Run, EvaluationReport Report);

/// <summary>
/// Evaluates a trained run's model or a registered model version on any dataset version with the label column, and
/// records the result as a run of its own (metrics, the dataset as input, the JSON and HTML report as artifacts).
/// </summary>
public sealed class EvaluationService(
    ITrackingStore store, IArtifactStore artifacts, ModelLoader loader, DatasetService datasets, ModelRegistry registry, RunService runs,
    TimeProvider time, Actor actor)
{
    /// <summary>The run artifact holding an evaluation as JSON.</summary>
    public const string EvaluationPath = "evaluation/evaluation.json";

    /// <summary>The run artifact holding an evaluation as a self-contained HTML page.</summary>
    public const string ReportPath = "evaluation/report.html";

    /// <summary>
    /// Evaluates <paramref name="model"/>, a run id or a model reference (<c>NAME</c>, <c>NAME@alias</c>, <c>NAME@N</c>),
    /// on <paramref name="dataset"/>. Everything is checked before a run is recorded.
    /// </summary>
    public async Task<EvaluationOutcome> EvaluateAsync(string model, DatasetRef dataset, EvaluationOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(options);
        var (package, described, runId) = await registry.ResolvePackageAsync(model, cancellationToken).ConfigureAwait(false);
        var version = await datasets.GetAsync(dataset, cancellationToken).ConfigureAwait(false);
        var table = await datasets.LoadAsync(version, cancellationToken).ConfigureAwait(false);
        CheckColumns(package.Signature, table.Columns.ToDictionary(c => c.Name, c => c is NumericColumn), version.Reference, options.Slices, requireLabel: true);
        var loaded = await loader.LoadAsync(package, runId, described, cancellationToken).ConfigureAwait(false);

        var run = LocalProcess.Owns(Run.Start(Ids.NewRunId(), $"evaluate-{described.Replace('@', '-')}-on-{version.Name}", time.GetUtcNow()));
        actor.Demand(ResourceRef.Experiment(run.ExperimentId), Role.Editor, "start runs");
        await store.CreateRunAsync(run, actor.Name, cancellationToken).ConfigureAwait(false);
        try
        {
            var report = await Task.Run(() =>
            {
                using var runtime = loaded.Runtime;
                return ModelEvaluator.Evaluate(package.Signature, table, runtime.Predict(table), runtime.Predict, options);
            }, cancellationToken).ConfigureAwait(false);
            var stored = await StoreReportAsync(artifacts, report, $"Evaluation of {described} on {version.Reference}",
                [("run", run.Id), ("model", described), ("dataset", version.Reference), ("task", package.Signature.Task.ToString().ToLowerInvariant()),
                    ("label", package.Signature.Label)], cancellationToken).ConfigureAwait(false);
            var endedAt = time.GetUtcNow();
            var parameters = new Dictionary<string, string>
            {
                ["model"] = described,
                ["dataset"] = version.Reference,
                ["rows"] = report.Rows.ToString(CultureInfo.InvariantCulture),
            };
            if (options.Slices.Count > 0)
            {
                parameters["evaluate.slices"] = string.Join(",", options.Slices);
            }

            await store.FinishRunAsync(run.Id, new RunCompletion(
                parameters,
                [.. report.Metrics.Select(m => new Metric(m.Key, m.Value, 0, endedAt))],
                new Dictionary<string, string> { ["cairn.kind"] = "evaluate", ["cairn.user"] = actor.Name, ["cairn.evaluated"] = described },
                [RunInput.OfDatasetVersion(version.Name, version.Version, "evaluation")],
                stored), endedAt, actor.Name, CancellationToken.None).ConfigureAwait(false);
            return new EvaluationOutcome(await runs.GetAsync(run.Id, cancellationToken).ConfigureAwait(false), report);
        }
        catch (Exception e)
        {
            await store.FailRunAsync(run.Id, e.Message, time.GetUtcNow(), actor.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Stores a report as the JSON and HTML artifacts every evaluation has.</summary>
    internal static async Task<RunArtifact[]> StoreReportAsync(IArtifactStore artifacts, EvaluationReport report, string title,
        IReadOnlyList<(string Name, string Value)> facts, CancellationToken cancellationToken) =>
    [
        await PutAsync(artifacts, EvaluationPath, JsonSerializer.SerializeToUtf8Bytes(report, CairnJson.Readable.EvaluationReport), cancellationToken).ConfigureAwait(false),
        await PutAsync(artifacts, ReportPath, Encoding.UTF8.GetBytes(EvaluationHtml.Write(title, facts, report)), cancellationToken).ConfigureAwait(false),
    ];

    /// <summary>Stores <paramref name="content"/> and names it <paramref name="path"/> for a run.</summary>
    internal static async Task<RunArtifact> PutAsync(IArtifactStore artifacts, string path, byte[] content, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(content, writable: false);
        var stored = await artifacts.PutAsync(stream, cancellationToken).ConfigureAwait(false);
        return new RunArtifact(path, stored.ContentHash, stored.SizeBytes);
    }

    /// <summary>
    /// Every problem with a dataset a model is to read, named before any work starts: missing inputs, inputs of the wrong
    /// kind, the label when required, slice columns. <paramref name="numeric"/> says which columns hold numbers.
    /// </summary>
    internal static void CheckColumns(ModelSignature signature, IReadOnlyDictionary<string, bool> numeric, string source, IReadOnlyList<string> slices,
        bool requireLabel)
    {
        var problems = new List<string>();
        if (requireLabel && !numeric.ContainsKey(signature.Label))
        {
            problems.Add($"the label column '{signature.Label}' is missing");
        }

        foreach (var input in signature.Inputs)
        {
            if (!numeric.TryGetValue(input.Name, out var isNumeric))
            {
                problems.Add($"the model's input column '{input.Name}' is missing");
            }
            else if (input.TensorType == TensorType.Fp32 != isNumeric)
            {
                problems.Add($"column '{input.Name}' holds {(isNumeric ? "numbers" : "text")}, but the model reads it as {input.Type.ToString().ToLowerInvariant()}");
            }
        }

        problems.AddRange(slices.Where(s => !numeric.ContainsKey(s)).Select(s => $"the slice column '{s}' is missing"));
        if (problems.Count > 0)
        {
            throw CairnException.Invalid($"Cannot {(requireLabel ? "evaluate on" : "score")} {source}:{Environment.NewLine}  - {string.Join(Environment.NewLine + "  - ", problems)}");
        }
    }
}
