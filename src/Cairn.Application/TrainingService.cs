using System.Globalization;
using System.Text;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Models;
using Cairn.Core.Data;
using Cairn.Core.Evaluation;
using Cairn.Core.Ports;
using Cairn.Core.Runs;
using Cairn.Core.Training;

namespace Cairn.Application;

/// <summary>One metric of a reproduced run beside the original's.</summary>
public sealed record MetricComparison(string Key, double Original, double? Reproduced)
{
    /// <summary>Whether the values are identical (both NaN counts as identical).</summary>
    public bool Matches => Reproduced is { } value && value.Equals(Original);
}

/// <summary>The outcome of re-running a training run: the new run and how its metrics and model compare.</summary>
public sealed record ReproductionOutcome(Run Original, Run Reproduced, IReadOnlyList<MetricComparison> Metrics, bool ModelMatches)
{
    /// <summary>Whether every metric and the exported model are identical.</summary>
    public bool Matches => ModelMatches && Metrics.All(m => m.Matches);
}

/// <summary>The outcome of a training run.</summary>
public sealed record TrainingOutcome(Run Run, DatasetVersion Dataset, TrainingPlan Plan, EvaluationReport Evaluation);

/// <summary>Trains a model from a spec and records the run with its params, metrics, input and artifacts.</summary>
public sealed class TrainingService(
    ITrackingStore store, IArtifactStore artifacts, IModelTrainer trainer, IModelRuntimeFactory runtimes, DatasetService datasets, TimeProvider time, Actor actor)
{
    /// <summary>The metric holding the largest difference between the ONNX graph's and ML.NET's outputs on the test rows.</summary>
    public const string OnnxDifferenceMetric = "onnx_max_abs_diff";


    /// <summary>The run artifact holding the ML.NET model.</summary>
    public const string MlNetModelPath = "model/model.zip";

    /// <summary>The run artifact holding the ONNX model.</summary>
    public const string OnnxModelPath = "model/model.onnx";

    /// <summary>The run artifact holding the resolved training spec, from which the run can be reproduced.</summary>
    public const string SpecPath = "spec/train.yaml";

    /// <summary>The tag naming the run a reproduction re-ran.</summary>
    public const string ReproducesTag = "cairn.reproduces";

    /// <summary>The run artifact holding the model's signature.</summary>
    public const string SignaturePath = "model/signature.json";

    /// <summary>Where a run keeps up to 1,000 of its held-out rows (the model's inputs only), on which engines are compared before one serves the model.</summary>
    public const string TestRowsPath = "model/test_rows.csv";

    /// <summary>
    /// Validates the spec against the data before recording anything, then trains. A failure after the run
    /// started ends the run as FAILED with the reason; it never leaves a run RUNNING.
    /// </summary>
    public Task<TrainingOutcome> TrainAsync(TrainingSpec spec, IProgress<string>? progress, CancellationToken cancellationToken) =>
        TrainAsync(spec, new Dictionary<string, string>(), progress, cancellationToken);

    /// <summary>Trains, recording <paramref name="tags"/> on the run as well (where its spec's code came from, say).</summary>
    public Task<TrainingOutcome> TrainAsync(TrainingSpec spec, IEnumerable<KeyValuePair<string, string>> tags, IProgress<string>? progress,
        CancellationToken cancellationToken) =>
        TrainAsync(spec, new Dictionary<string, string>(tags), progress, cancellationToken);

    /// <summary>Trains as a child of <paramref name="parentRunId"/> (a sweep's trial), with extra tags.</summary>
    public Task<TrainingOutcome> TrainAsync(TrainingSpec spec, string parentRunId, IReadOnlyDictionary<string, string> tags, IProgress<string>? progress,
        CancellationToken cancellationToken) =>
        TrainAsync(spec, new Dictionary<string, string>(tags) { [Run.ParentRunTag] = parentRunId }, progress, cancellationToken);

    /// <summary>
    /// Trains again from the spec a run recorded (its exact dataset version, settings and seed) and compares the new
    /// run's metrics and ONNX model with the original's.
    /// </summary>
    public async Task<ReproductionOutcome> ReproduceAsync(string runId, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        var original = await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw CairnException.NotFound($"Run '{runId}' does not exist.");
        var recorded = original.Artifact(SpecPath)
            ?? throw CairnException.Invalid($"Run {original.Id} recorded no training spec ({SpecPath}); only training runs can be reproduced.");
        string yaml;
        await using (var stream = await artifacts.OpenReadAsync(recorded.ContentHash, cancellationToken).ConfigureAwait(false))
        using (var reader = new StreamReader(stream, Encoding.UTF8))
        {
            yaml = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }

        var spec = TrainingSpec.Parse(yaml) with { RunName = $"reproduce-{original.Name}" };
        var outcome = await TrainAsync(spec, new Dictionary<string, string> { [ReproducesTag] = original.Id }, progress, cancellationToken).ConfigureAwait(false);
        var reproduced = outcome.Run.Metrics.ToDictionary(m => m.Key, m => m.Value);
        var metrics = original.Metrics.Select(m => new MetricComparison(m.Key, m.Value, reproduced.TryGetValue(m.Key, out var v) ? v : null)).ToList();
        var modelMatches = original.Artifact(OnnxModelPath)?.ContentHash == outcome.Run.Artifact(OnnxModelPath)?.ContentHash;
        return new ReproductionOutcome(original, outcome.Run, metrics, modelMatches);
    }

    private async Task<TrainingOutcome> TrainAsync(TrainingSpec spec, Dictionary<string, string> tags, IProgress<string>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var dataset = await datasets.GetAsync(spec.Dataset, cancellationToken).ConfigureAwait(false);
        progress?.Report($"Loading {dataset.Reference} ({dataset.RowCount:N0} rows)");
        var table = await datasets.LoadAsync(dataset, cancellationToken).ConfigureAwait(false);
        var plan = TrainingPlan.Create(spec, dataset, table);

        var run = LocalProcess.Owns(Run.Start(Ids.NewRunId(), spec.RunName ?? $"{spec.Trainer}-{dataset.Name}", time.GetUtcNow()) with
        {
            ParentRunId = tags.GetValueOrDefault(Run.ParentRunTag),
            Tags = tags,
        });
        actor.Demand(ResourceRef.Experiment(run.ExperimentId), Role.Editor, "start runs");
        await store.CreateRunAsync(run, actor.Name, cancellationToken).ConfigureAwait(false);
        EvaluationReport evaluation;
        try
        {
            progress?.Report($"Training {spec.Trainer} ({spec.Task.ToString().ToLowerInvariant()}) on {plan.TrainRows.Count:N0} rows, {plan.Features.Count} features");
            var (train, test) = (table.Take(plan.TrainRows), table.Take(plan.TestRows));
            var request = new TrainingRequest(spec, plan, train, test);
            var model = await Task.Run(() => trainer.Train(request, cancellationToken), cancellationToken).ConfigureAwait(false);

            progress?.Report($"Evaluating on {plan.TestRows.Count:N0} held-out rows");
            var validation = plan.ValidationRows.Count > 0 ? table.Take(plan.ValidationRows) : null;
            (evaluation, var onnxDifference, var validationMetrics) =
                await Task.Run(() => Evaluate(spec, model, train, test, validation), cancellationToken).ConfigureAwait(false);
            var metrics = new Dictionary<string, double>(evaluation.Metrics) { [OnnxDifferenceMetric] = onnxDifference };
            foreach (var (name, value) in validationMetrics ?? new Dictionary<string, double>())
            {
                metrics[$"validation.{name}"] = value;
            }
            foreach (var (name, value) in evaluation.Baseline ?? new Dictionary<string, double>())
            {
                metrics[$"baseline.{name}"] = value;
            }

            progress?.Report("Storing the model and its evaluation");
            var signatureJson = JsonSerializer.SerializeToUtf8Bytes(model.Signature, CairnJson.Readable.ModelSignature);
            RunArtifact[] stored =
            [
                await EvaluationService.PutAsync(artifacts, MlNetModelPath, model.MlNetModel, cancellationToken).ConfigureAwait(false),
                await EvaluationService.PutAsync(artifacts, OnnxModelPath, model.OnnxModel, cancellationToken).ConfigureAwait(false),
                await EvaluationService.PutAsync(artifacts, SignaturePath, signatureJson, cancellationToken).ConfigureAwait(false),
                await EvaluationService.PutAsync(artifacts, TestRowsPath, EngineParity.ToCsv(test, model.Signature), cancellationToken).ConfigureAwait(false),
                // The dataset reference resolved to the exact version read, so a reproduction reads the same rows.
                await EvaluationService.PutAsync(artifacts, SpecPath,
                    Encoding.UTF8.GetBytes((spec with { Dataset = new DatasetRef(dataset.Name, dataset.Version) }).ToYaml()), cancellationToken).ConfigureAwait(false),
                .. await EvaluationService.StoreReportAsync(artifacts, evaluation, $"Evaluation of run {run.Name}",
                    [("run", run.Id), ("dataset", dataset.Reference), ("trainer", spec.Trainer), ("task", spec.Task.ToString().ToLowerInvariant()),
                        ("label", spec.Label), ("ONNX vs ML.NET, largest difference", onnxDifference.ToString("G4", CultureInfo.InvariantCulture))],
                    cancellationToken).ConfigureAwait(false),
            ];

            var endedAt = time.GetUtcNow();
            var parameters = new Dictionary<string, string>(spec.ToParams())
            {
                // The resolved version, not the spec's possibly floating reference: the run must say exactly what it read.
                ["dataset"] = dataset.Reference,
                ["features"] = string.Join(",", plan.Features.Select(f => f.Name)),
                ["rows.train"] = plan.TrainRows.Count.ToString(CultureInfo.InvariantCulture),
                ["rows.test"] = plan.TestRows.Count.ToString(CultureInfo.InvariantCulture),
            };
            if (plan.ValidationRows.Count > 0)
            {
                parameters["rows.validation"] = plan.ValidationRows.Count.ToString(CultureInfo.InvariantCulture);
            }

            if (plan.RowsNotPlaced > 0)
            {
                parameters["rows.not_placed"] = plan.RowsNotPlaced.ToString(CultureInfo.InvariantCulture);
            }

            var completion = new RunCompletion(
                parameters,
                [.. metrics.Select(m => new Metric(m.Key, m.Value, 0, endedAt))],
                new Dictionary<string, string>(tags) { ["cairn.kind"] = "train", ["cairn.user"] = actor.Name },
                [RunInput.OfDatasetVersion(dataset.Name, dataset.Version, "training")],
                stored);
            await store.FinishRunAsync(run.Id, completion, endedAt, actor.Name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await store.FailRunAsync(run.Id, e.Message, time.GetUtcNow(), actor.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        var finished = await store.GetRunAsync(run.Id, cancellationToken).ConfigureAwait(false);
        return new TrainingOutcome(finished!, dataset, plan, evaluation);
    }

    /// <summary>
    /// Evaluates the exported ONNX graph, the form that is served, and measures how far its outputs are from the
    /// trainer's own on the same rows.
    /// </summary>
    /// <remarks>Rows set aside for validation are scored too: a sweep picks its winner on them, leaving the test rows unseen.</remarks>
    private (EvaluationReport Report, double OnnxDifference, IReadOnlyDictionary<string, double>? Validation) Evaluate(
        TrainingSpec spec, TrainedModel model, Table train, Table test, Table? validation)
    {
        using var runtime = runtimes.Load(model.OnnxModel, model.Signature);
        var predictions = runtime.Predict(test);
        var difference = 0.0;
        foreach (var reference in model.TestPredictions.Where(p => p.Floats is not null))
        {
            var exported = predictions.Single(p => p.Name == reference.Name).Floats!;
            for (var i = 0; i < exported.Length; i++)
            {
                difference = Math.Max(difference, Math.Abs((double)exported[i] - reference.Floats![i]));
            }
        }

        var report = ModelEvaluator.Evaluate(model.Signature, test, predictions, runtime.Predict, spec.Evaluation);
        var baseline = ModelEvaluator.BaselineOutputs(model.Signature, train[model.Signature.Label], test.RowCount);
        var validationMetrics = validation is null ? null
            : ModelEvaluator.Evaluate(model.Signature, validation, runtime.Predict(validation), null, EvaluationOptions.MetricsOnly).Metrics;
        return (report with { Baseline = ModelEvaluator.Evaluate(model.Signature, test, baseline, null, EvaluationOptions.MetricsOnly).Metrics }, difference, validationMetrics);
    }
}
