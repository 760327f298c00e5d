using System.Globalization;
using System.Text.Json;
using Cairn.Core;
using Cairn.Core.Identity;
using Cairn.Core.Data;
using Cairn.Core.Models;
using Cairn.Core.Ports;
using Cairn.Core.Runs;

namespace Cairn.Application;

/// <summary>
/// Registers models trained elsewhere: ONNX graphs (scikit-learn, PyTorch, …) and tree models other libraries save
/// (XGBoost's JSON), which a converter turns into an ONNX graph first. The signature is read from the graph, the
/// model must score a probe batch, and an import run records the file so the version has lineage like any other.
/// </summary>
public sealed class ModelImporter(ITrackingStore store, IArtifactStore artifacts, IModelRuntimeFactory runtimes, ModelRegistry registry, TimeProvider time, Actor actor,
    IEnumerable<ITreeModelConverter> converters)
{
    /// <summary>Where an import run keeps the file it converted, beside the graph made from it.</summary>
    public const string SourceModelPath = "model/source";

    /// <summary>Imports the model file at <paramref name="path"/> as the next version of <paramref name="model"/>.</summary>
    public async Task<ModelVersion> ImportAsync(string path, string model, string? alias, ImportOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(options);
        Names.Validate(model, "model");
        if (!File.Exists(path))
        {
            throw CairnException.NotFound($"Model file '{path}' does not exist.");
        }

        var file = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var converted = converters.Select(c => c.TryConvert(file)).FirstOrDefault(c => c is not null);
        var onnx = converted?.Onnx ?? file;
        if (converted is not null)
        {
            // What the file says of itself, unless the command says otherwise.
            options = options with { Task = options.Task ?? converted.Task, Features = options.Features ?? converted.Features };
        }

        var signature = ModelImport.Signature(runtimes.Describe(onnx), options);
        Probe(onnx, signature);

        var run = LocalProcess.Owns(Run.Start(Ids.NewRunId(), $"import-{model}", time.GetUtcNow()));
        actor.Demand(ResourceRef.Experiment(run.ExperimentId), Role.Editor, "start runs");
        await store.CreateRunAsync(run, actor.Name, cancellationToken).ConfigureAwait(false);
        try
        {
            RunArtifact[] stored =
            [
                await EvaluationService.PutAsync(artifacts, TrainingService.OnnxModelPath, onnx, cancellationToken).ConfigureAwait(false),
                await EvaluationService.PutAsync(artifacts, TrainingService.SignaturePath,
                    JsonSerializer.SerializeToUtf8Bytes(signature, CairnJson.Readable.ModelSignature), cancellationToken).ConfigureAwait(false),
                .. converted is null ? [] : new[] { await EvaluationService.PutAsync(artifacts, SourceModelPath, file, cancellationToken).ConfigureAwait(false) },
            ];
            var parameters = new Dictionary<string, string>
            {
                ["source_file"] = Path.GetFileName(path),
                ["source_format"] = converted?.Format ?? "onnx",
                ["task"] = signature.Task.ToString().ToLowerInvariant(),
                ["features"] = string.Join(",", signature.Inputs.Select(i => i.Name)),
                ["inputs"] = signature.Inputs.Count.ToString(CultureInfo.InvariantCulture),
            };
            await store.FinishRunAsync(run.Id, new RunCompletion(parameters, [],
                new Dictionary<string, string> { ["cairn.kind"] = "import", ["cairn.user"] = actor.Name }, [], stored),
                time.GetUtcNow(), actor.Name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            await store.FailRunAsync(run.Id, e.Message, time.GetUtcNow(), actor.Name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        return await registry.RegisterAsync(run.Id, model, alias, cancellationToken).ConfigureAwait(false);
    }

    // A graph that loads can still fail on its first batch (a shape it cannot take): find out before registering it.
    private void Probe(byte[] onnx, ModelSignature signature)
    {
        var probe = new Table(
            [.. signature.Inputs.Select(i => i.TensorType == TensorType.Fp32
                ? (TableColumn)new NumericColumn(i.Name, [0, 1])
                : new StringColumn(i.Name, [i.Categories?.FirstOrDefault() ?? "", ""]))],
            2);
        try
        {
            using var runtime = runtimes.Load(onnx, signature);
            var outputs = runtime.Predict(probe);
            if (outputs.Any(o => o.Rows != 2))
            {
                throw CairnException.Invalid("The model did not return one prediction per row for a two-row probe batch.");
            }
        }
        catch (Exception e) when (e is not CairnException)
        {
            throw CairnException.Invalid($"The model loads but fails to score a probe batch: {e.Message}");
        }
    }
}
